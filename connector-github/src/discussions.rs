//! A repository's discussions through GraphQL: newest update first, paged
//! by the connection's cursor, each with its comments (the answer marked)
//! and their replies; the listing ends at the first discussion updated
//! before the window. Each answer's `rateLimit.cost` is logged and its
//! `remaining` paces like the REST budget headers do.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use connector_core::json::RawRecord;
use connector_core::paging::{Page, PageCursor, PageStream, Pager};
use connector_core::{Document, Error, ErrorKind, MetadataValue, Result, Section};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::GitHubClient;
use crate::convert::Site;
use crate::model::{Repo, User};

/// Discussions per request; with 50 comments of 50 replies each, a page
/// costs GraphQL points in proportion, well inside the 5 000 an hour.
const PER_PAGE: u32 = 25;

/// The query: 50 comments per discussion and 50 replies per comment at
/// most (past them the document says `truncated: comments`), and the
/// points the query cost.
const QUERY: &str = r#"query($owner: String!, $name: String!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    discussions(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id number title body url createdAt updatedAt
        author { login }
        category { name }
        answer { id }
        comments(first: 50) {
          totalCount
          nodes {
            id body url createdAt
            author { login }
            replies(first: 50) {
              totalCount
              nodes { body url createdAt author { login } }
            }
          }
        }
      }
    }
  }
  rateLimit { cost remaining resetAt }
}"#;

/// One discussion.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Discussion {
    pub(crate) number: u64,
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) body: Option<String>,
    pub(crate) url: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    #[serde(default)]
    pub(crate) author: Option<User>,
    #[serde(default)]
    pub(crate) category: Option<Category>,
    #[serde(default)]
    pub(crate) answer: Option<NodeId>,
    pub(crate) comments: Connection<Comment>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Category {
    pub(crate) name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct NodeId {
    pub(crate) id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Connection<T> {
    pub(crate) total_count: u32,
    pub(crate) nodes: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Comment {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) body: Option<String>,
    pub(crate) url: String,
    pub(crate) created_at: DateTime<Utc>,
    #[serde(default)]
    pub(crate) author: Option<User>,
    pub(crate) replies: Connection<Reply>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reply {
    #[serde(default)]
    pub(crate) body: Option<String>,
    pub(crate) url: String,
    pub(crate) created_at: DateTime<Utc>,
    #[serde(default)]
    pub(crate) author: Option<User>,
}

/// One listed discussion, decoded when its turn comes.
#[derive(Debug, Clone)]
pub(crate) struct Listed(pub(crate) RawRecord);

impl Listed {
    pub(crate) fn number(&self) -> Option<String> {
        self.0.string_field("number")
    }

    pub(crate) fn updated(&self) -> Option<DateTime<Utc>> {
        self.0
            .string_field("updatedAt")
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
    }

    pub(crate) fn decode(&self) -> std::result::Result<Discussion, String> {
        self.0.decode()
    }
}

/// The GraphQL endpoint of the API at `base_url`: `…/graphql` on
/// GitHub.com, `…/api/graphql` on an Enterprise Server (`…/api/v3`).
pub(crate) fn endpoint(base_url: &str) -> String {
    match base_url.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{base_url}/graphql"),
    }
}

/// The discussions of `repo` updated at or after `since` (all with
/// `None`), newest first, from `first` on.
pub(crate) fn pages(
    client: GitHubClient,
    repo: Arc<str>,
    since: Option<DateTime<Utc>>,
    first: Option<String>,
) -> PageStream<Listed> {
    Pager::new(format!("GitHub discussions of {repo}"))
        .read_ahead(0)
        .ids(Listed::number)
        .pages(first.map(PageCursor::Token), move |at| {
            let client = client.clone();
            let repo = repo.clone();
            async move {
                let after = match at {
                    None => None,
                    Some(PageCursor::Token(t)) => Some(t),
                    Some(other) => {
                        return Err(Error::new(
                            ErrorKind::Other,
                            format!("a {other:?} cannot continue a discussions listing"),
                        ));
                    }
                };
                fetch(&client, &repo, since, after).await
            }
        })
}

async fn fetch(
    client: &GitHubClient,
    repo: &str,
    since: Option<DateTime<Utc>>,
    after: Option<String>,
) -> Result<Page<Listed>> {
    let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
    let body = json!({
        "query": QUERY,
        "variables": {"owner": owner, "name": name, "first": PER_PAGE, "after": after},
    });
    let url = endpoint(client.base_url());
    // A query only reads: safe to send again.
    let answer: Value = client
        .graphql()
        .post(&url)
        .json(&body)
        .idempotent(true)
        .fetch_json()
        .await?;
    if let Some(cost) = answer.pointer("/data/rateLimit/cost") {
        let remaining = answer
            .pointer("/data/rateLimit/remaining")
            .cloned()
            .unwrap_or_default();
        tracing::debug!(%repo, %cost, %remaining, "GraphQL points spent");
    }
    let listing = answer.pointer("/data/repository/discussions");
    let Some(listing) = listing.filter(|l| l.is_object()) else {
        let errors = answer.get("errors").and_then(Value::as_array);
        let message = errors
            .and_then(|e| e.first())
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("the answer holds no discussions");
        let kind = match errors
            .and_then(|e| e.first())
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str)
        {
            Some("NOT_FOUND") => ErrorKind::NotFound,
            Some("FORBIDDEN") => ErrorKind::Forbidden,
            Some("RATE_LIMITED") => ErrorKind::RateLimited,
            _ if errors.is_none() => ErrorKind::Decode,
            _ => ErrorKind::Http,
        };
        return Err(
            Error::new(kind, format!("GitHub GraphQL: {message}")).with_request("POST", &url)
        );
    };
    let nodes = serde_json::to_vec(&listing["nodes"])?;
    let page =
        connector_core::json::split_page(&nodes, "").map_err(|e| e.with_request("POST", &url))?;
    let items: Vec<Listed> = page.records.into_iter().map(Listed).collect();
    let has_next = listing
        .pointer("/pageInfo/hasNextPage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let cursor = listing
        .pointer("/pageInfo/endCursor")
        .and_then(Value::as_str)
        .map(str::to_owned);
    // Newest first: past the window's start, nothing further is new.
    let older = matches!(
        (items.iter().rev().find_map(Listed::updated), since),
        (Some(last), Some(since)) if last < since
    );
    match cursor {
        Some(cursor) if has_next && !older => Ok(Page::new(items, Some(PageCursor::Token(cursor)))),
        _ => Ok(Page::last(items)),
    }
}

fn who(user: Option<&User>) -> &str {
    user.map_or("someone", |u| u.login.as_str())
}

/// The document of discussion `d` of `repo`.
pub(crate) fn to_document(site: &Site, repo: &Repo, d: &Discussion) -> Document {
    let number = d.number.to_string();
    let mut doc = Document::new(
        "github",
        site.discussion_id(&repo.full_name, &number),
        d.title.trim(),
    );
    doc.url = Some(d.url.clone());
    doc.created_at = Some(d.created_at);
    doc.updated_at = Some(d.updated_at);
    let mut hierarchy: Vec<String> = repo.full_name.split('/').map(str::to_owned).collect();
    hierarchy.push("discussions".to_owned());
    if let Some(category) = &d.category {
        hierarchy.push(category.name.clone());
    }
    doc.hierarchy = hierarchy;
    let mut put = |k: &str, v: String| {
        doc.metadata.insert(k.to_owned(), MetadataValue::from(v));
    };
    put("repository", repo.full_name.clone());
    put("number", number);
    put("kind", "discussion".to_owned());
    if let Some(category) = &d.category {
        put("category", category.name.clone());
    }
    put("answered", d.answer.is_some().to_string());
    if let Some(author) = &d.author {
        put("author", author.login.clone());
        doc.authors.push(author.login.clone());
    }
    let cut = d.comments.total_count > d.comments.nodes.len() as u32
        || d.comments
            .nodes
            .iter()
            .any(|c| c.replies.total_count > c.replies.nodes.len() as u32);
    if cut {
        doc.metadata
            .insert("truncated".to_owned(), MetadataValue::from("comments"));
    }
    let body = d.body.as_deref().map(str::trim).unwrap_or_default();
    if !body.is_empty() {
        doc.sections.push(Section::with_link(body, d.url.clone()));
    }
    let answer = d.answer.as_ref().map(|a| a.id.as_str());
    for comment in &d.comments.nodes {
        let text = comment.body.as_deref().map(str::trim).unwrap_or_default();
        if !text.is_empty() {
            let marked = if Some(comment.id.as_str()) == answer {
                " (the answer)"
            } else {
                ""
            };
            doc.sections.push(Section::with_link(
                format!(
                    "{}, {}{marked}:\n{text}",
                    who(comment.author.as_ref()),
                    comment.created_at.format("%Y-%m-%d")
                ),
                comment.url.clone(),
            ));
        }
        for reply in &comment.replies.nodes {
            let text = reply.body.as_deref().map(str::trim).unwrap_or_default();
            if text.is_empty() {
                continue;
            }
            doc.sections.push(Section::with_link(
                format!(
                    "{} replying, {}:\n{text}",
                    who(reply.author.as_ref()),
                    reply.created_at.format("%Y-%m-%d")
                ),
                reply.url.clone(),
            ));
        }
        for login in std::iter::once(comment.author.as_ref())
            .chain(comment.replies.nodes.iter().map(|r| r.author.as_ref()))
            .flatten()
            .map(|u| &u.login)
        {
            if !doc.authors.contains(login) {
                doc.authors.push(login.clone());
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graphql_endpoint_of_each_deployment() {
        assert_eq!(
            endpoint("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            endpoint("https://ghe.acme.com/api/v3"),
            "https://ghe.acme.com/api/graphql"
        );
    }
}
