//! Issues and pull requests → [`Document`]s: the body first, then each
//! comment as a section in the order written.

use connector_core::{Document, MetadataValue, Section};

use crate::model::{Comment, Issue, Repo};

/// Where documents come from: ids are `{web host}/{owner}/{repo}/issues/{n}`
/// for issues and pull requests alike (they share one numbering, and the
/// issues listing that names them for deletions returns both).
#[derive(Debug, Clone)]
pub(crate) struct Site {
    host: String,
}

impl Site {
    /// The site of the API at `base_url`: `api.github.com` → `github.com`;
    /// a GitHub Enterprise Server's host as it is.
    pub(crate) fn new(base_url: &str) -> Self {
        let host = connector_core::url::host(base_url).unwrap_or_else(|| base_url.to_owned());
        let host = match host.strip_prefix("api.") {
            Some(rest) if rest == "github.com" => rest.to_owned(),
            _ => host,
        };
        Self { host }
    }

    /// The document id of issue or pull request `number` of `repo`.
    pub(crate) fn document_id(&self, repo: &str, number: &str) -> String {
        format!("{}/{repo}/issues/{number}", self.host)
    }

    /// The document id of discussion `number` of `repo`.
    pub(crate) fn discussion_id(&self, repo: &str, number: &str) -> String {
        format!("{}/{repo}/discussions/{number}", self.host)
    }

    /// The document id of the file at `path` of `repo`'s default branch.
    pub(crate) fn file_id(&self, repo: &str, path: &str) -> String {
        format!("{}/{repo}/files/{path}", self.host)
    }
}

fn put(doc: &mut Document, key: &str, value: impl Into<MetadataValue>) {
    doc.metadata.insert(key.to_owned(), value.into());
}

/// The comments read for an issue, and whether any were left out.
#[derive(Debug, Default)]
pub(crate) struct Thread {
    pub(crate) comments: Vec<Comment>,
    pub(crate) review_comments: Vec<Comment>,
    pub(crate) truncated: bool,
}

/// The document of `issue` of `repo` with its comments.
pub(crate) fn to_document(site: &Site, repo: &Repo, issue: &Issue, thread: Thread) -> Document {
    let number = issue.number.to_string();
    let kind = if issue.is_pull_request() {
        "pull_request"
    } else {
        "issue"
    };
    let mut doc = Document::new(
        "github",
        site.document_id(&repo.full_name, &number),
        issue.title.trim(),
    );
    doc.url = Some(issue.html_url.clone());
    doc.created_at = Some(issue.created_at);
    doc.updated_at = Some(issue.updated_at);
    let (owner, name) = repo
        .full_name
        .split_once('/')
        .unwrap_or((&repo.full_name, ""));
    doc.hierarchy = vec![
        owner.to_owned(),
        name.to_owned(),
        if issue.is_pull_request() {
            "pull requests".to_owned()
        } else {
            "issues".to_owned()
        },
    ];
    if let Some(user) = &issue.user {
        doc.authors.push(user.login.clone());
    }
    put(&mut doc, "repository", repo.full_name.as_str());
    put(&mut doc, "number", number);
    put(&mut doc, "kind", kind);
    put(&mut doc, "state", issue.state.as_str());
    if let Some(reason) = &issue.state_reason {
        put(&mut doc, "state_reason", reason.as_str());
    }
    if let Some(user) = &issue.user {
        put(&mut doc, "author", user.login.as_str());
    }
    let labels: Vec<String> = issue
        .labels
        .iter()
        .filter_map(|l| l.name().map(str::to_owned))
        .collect();
    if !labels.is_empty() {
        put(&mut doc, "labels", labels);
    }
    let assignees: Vec<String> = issue
        .assignees
        .iter()
        .flatten()
        .map(|u| u.login.clone())
        .collect();
    if !assignees.is_empty() {
        put(&mut doc, "assignees", assignees);
    }
    if let Some(milestone) = &issue.milestone {
        put(&mut doc, "milestone", milestone.title.as_str());
    }
    if let Some(closed) = issue.closed_at {
        put(&mut doc, "closed_at", closed.to_rfc3339());
    }
    if let Some(merged) = issue.pull_request.as_ref().and_then(|p| p.merged_at) {
        put(&mut doc, "merged_at", merged.to_rfc3339());
    }
    if thread.truncated {
        put(&mut doc, "truncated", "comments");
    }
    let body = issue.body.as_deref().map(str::trim).unwrap_or_default();
    if !body.is_empty() {
        doc.sections
            .push(Section::with_link(body, issue.html_url.clone()));
    }
    // Conversation and review comments in the order they were written.
    let mut comments: Vec<&Comment> = thread
        .comments
        .iter()
        .chain(thread.review_comments.iter())
        .collect();
    comments.sort_by_key(|c| (c.created_at, c.id));
    for comment in comments {
        let text = comment.body.as_deref().map(str::trim).unwrap_or_default();
        if text.is_empty() {
            continue;
        }
        let who = comment
            .user
            .as_ref()
            .map_or("someone", |u| u.login.as_str());
        let when = comment.created_at.format("%Y-%m-%d");
        let heading = match (&comment.path, comment.line) {
            (Some(path), Some(line)) => format!("{who} on {path}:{line}, {when}"),
            (Some(path), None) => format!("{who} on {path}, {when}"),
            _ => format!("{who}, {when}"),
        };
        doc.sections.push(Section::with_link(
            format!("{heading}:\n{text}"),
            comment.html_url.clone(),
        ));
        if let Some(user) = &comment.user
            && !doc.authors.contains(&user.login)
        {
            doc.authors.push(user.login.clone());
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_use_the_web_host() {
        assert_eq!(
            Site::new("https://api.github.com").document_id("acme/widgets", "7"),
            "github.com/acme/widgets/issues/7"
        );
        assert_eq!(
            Site::new("https://ghe.acme.com/api/v3").document_id("acme/widgets", "7"),
            "ghe.acme.com/acme/widgets/issues/7"
        );
    }
}
