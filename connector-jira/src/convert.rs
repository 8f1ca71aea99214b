//! One Jira issue (with all its comments) → one [`Document`].

use connector_core::{Attachment, Document, MetadataValue, Section};
use serde_json::Value;

use crate::adf::adf_to_text;
use crate::model::{Comment, Issue, User};
use crate::wiki::wiki_to_text;

/// Where an issue lives: builds ids and links.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// Base URL without a trailing slash (`https://acme.atlassian.net`,
    /// `https://jira.acme.com/jira`).
    pub(crate) base_url: String,
    /// Host (and context path) that makes ids unique per site.
    pub(crate) id_prefix: String,
}

impl Site {
    /// A site from its base URL.
    pub(crate) fn new(base_url: &str) -> Self {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let id_prefix = base_url
            .split_once("://")
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or_else(|| base_url.clone());
        Self {
            base_url,
            id_prefix,
        }
    }

    /// The document id of issue `key`: stable per site and key.
    pub(crate) fn document_id(&self, key: &str) -> String {
        format!("{}/{key}", self.id_prefix)
    }

    /// The page a person opens.
    pub(crate) fn browse_url(&self, key: &str) -> String {
        format!("{}/browse/{}", self.base_url, path_part(key))
    }

    /// The permalink of one comment.
    pub(crate) fn comment_url(&self, key: &str, comment_id: &str) -> String {
        let id = path_part(comment_id);
        format!(
            "{}/browse/{}?focusedCommentId={id}#comment-{id}",
            self.base_url,
            path_part(key)
        )
    }
}

/// A server-supplied value as one segment of a link a person opens.
fn path_part(value: &str) -> String {
    connector_core::url::segment(value).unwrap_or_else(|_| value.replace('.', "%2E"))
}

/// Rich text of either deployment: an ADF document (Cloud) or a
/// wiki-markup string (Data Center).
pub(crate) fn rich_text(value: &Value) -> String {
    match value {
        Value::String(markup) => wiki_to_text(markup),
        Value::Object(_) => adf_to_text(value),
        _ => String::new(),
    }
}

fn put(doc: &mut Document, key: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        doc.metadata.insert(key.to_owned(), MetadataValue::One(v));
    }
}

fn put_list(doc: &mut Document, key: &str, values: Vec<String>) {
    if !values.is_empty() {
        doc.metadata
            .insert(key.to_owned(), MetadataValue::Many(values));
    }
}

/// The document for `issue`, with `comments` (oldest first); `truncated`
/// names the sub-listings cut at their cap (`comments`).
pub(crate) fn issue_to_document(
    site: &Site,
    issue: &Issue,
    comments: &[Comment],
    truncated: &[&str],
) -> Document {
    let f = &issue.fields;
    let summary = f.summary.clone().unwrap_or_default();
    let title = if summary.is_empty() {
        issue.key.clone()
    } else {
        format!("{}: {summary}", issue.key)
    };
    let url = site.browse_url(&issue.key);
    let mut doc = Document::new("jira", site.document_id(&issue.key), title);
    doc.url = Some(url.clone());
    doc.created_at = f.created;
    doc.updated_at = f.updated;

    let description = f.description.as_ref().map(rich_text).unwrap_or_default();
    if !description.is_empty() {
        doc.sections.push(Section::with_link(description, url));
    }
    for comment in comments {
        let body = comment.body.as_ref().map(rich_text).unwrap_or_default();
        if body.is_empty() {
            continue;
        }
        let author = comment.author.as_ref().and_then(User::label);
        let text = match author {
            Some(a) => format!("{a}: {body}"),
            None => body,
        };
        doc.sections.push(Section::with_link(
            text,
            site.comment_url(&issue.key, &comment.id),
        ));
    }

    let project = f.project.as_ref();
    put(&mut doc, "key", Some(issue.key.clone()));
    put(&mut doc, "project", project.and_then(|p| p.key.clone()));
    put(
        &mut doc,
        "project_name",
        project.and_then(|p| p.name.clone()),
    );
    put(
        &mut doc,
        "issue_type",
        f.issuetype.as_ref().and_then(|t| t.name.clone()),
    );
    put(
        &mut doc,
        "status",
        f.status.as_ref().and_then(|s| s.name.clone()),
    );
    put(
        &mut doc,
        "priority",
        f.priority.as_ref().and_then(|p| p.name.clone()),
    );
    put(
        &mut doc,
        "resolution",
        f.resolution.as_ref().and_then(|r| r.name.clone()),
    );
    put_list(&mut doc, "labels", f.labels.clone());
    put_list(
        &mut doc,
        "components",
        f.components.iter().filter_map(|c| c.name.clone()).collect(),
    );
    put(
        &mut doc,
        "assignee",
        f.assignee.as_ref().and_then(User::label),
    );
    put(
        &mut doc,
        "assignee_email",
        f.assignee.as_ref().and_then(|u| u.email_address.clone()),
    );
    put(
        &mut doc,
        "reporter",
        f.reporter.as_ref().and_then(User::label),
    );
    put(
        &mut doc,
        "reporter_email",
        f.reporter.as_ref().and_then(|u| u.email_address.clone()),
    );
    put(&mut doc, "parent", f.parent.as_ref().map(|p| p.key.clone()));
    put_list(
        &mut doc,
        "truncated",
        truncated.iter().map(|t| (*t).to_owned()).collect(),
    );

    // Reporter (or creator) first, then the assignee.
    for user in [
        f.reporter.as_ref().or(f.creator.as_ref()),
        f.assignee.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(name) = user.label()
            && !doc.authors.contains(&name)
        {
            doc.authors.push(name);
        }
    }

    if let Some(p) = project
        && let Some(name) = p.name.clone().or_else(|| p.key.clone())
    {
        doc.hierarchy.push(name);
    }
    if let Some(parent) = &f.parent {
        let summary = parent.fields.as_ref().and_then(|pf| pf.summary.clone());
        doc.hierarchy.push(match summary {
            Some(s) => format!("{}: {s}", parent.key),
            None => parent.key.clone(),
        });
    }

    for meta in &f.attachment {
        let mut attachment = Attachment::new(meta.filename.clone());
        attachment.content_type = meta.mime_type.clone();
        attachment.size = meta.size;
        attachment.url = meta.content.clone();
        doc.attachments.push(attachment);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cloud_issue_maps_every_field() {
        let issue: Issue = serde_json::from_value(json!({
            "id": "10002", "key": "ENG-7", "self": "https://acme.atlassian.net/rest/api/3/issue/10002",
            "fields": {
                "summary": "Login fails",
                "description": {"type": "doc", "version": 1, "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": "Steps below."}]}]},
                "project": {"id": "10000", "key": "ENG", "name": "Engineering"},
                "issuetype": {"name": "Bug"}, "status": {"name": "In Progress"},
                "priority": {"name": "High"}, "labels": ["auth", "p1"],
                "components": [{"name": "Web"}], "resolution": null,
                "assignee": {"accountId": "a1", "displayName": "Ada", "emailAddress": "ada@acme.com"},
                "reporter": {"accountId": "r1", "displayName": "Mia Krystof"},
                "parent": {"id": "10001", "key": "ENG-1", "fields": {"summary": "Auth epic"}},
                "created": "2026-01-05T09:00:00.000+0000", "updated": "2026-01-06T10:30:00.000+0100",
                "attachment": [{"id": 10001, "filename": "debuglog.txt", "mimeType": "text/plain", "size": 2460,
                    "content": "https://acme.atlassian.net/rest/api/3/attachment/content/10001"}]
            }
        }))
        .unwrap();
        let comment: Comment = serde_json::from_value(json!({
            "id": "10100", "author": {"displayName": "Ada"},
            "body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Fixed in main."}]}]},
            "created": "2026-01-06T10:00:00.000+0000"
        }))
        .unwrap();
        let site = Site::new("https://acme.atlassian.net/");
        let doc = issue_to_document(&site, &issue, &[comment], &[]);
        assert_eq!(doc.id, "acme.atlassian.net/ENG-7");
        assert_eq!(doc.title, "ENG-7: Login fails");
        assert_eq!(
            doc.url.as_deref(),
            Some("https://acme.atlassian.net/browse/ENG-7")
        );
        assert_eq!(doc.sections[0].text, "Steps below.");
        assert_eq!(doc.sections[1].text, "Ada: Fixed in main.");
        assert_eq!(
            doc.sections[1].link.as_deref(),
            Some("https://acme.atlassian.net/browse/ENG-7?focusedCommentId=10100#comment-10100")
        );
        assert_eq!(
            doc.metadata["status"],
            MetadataValue::One("In Progress".into())
        );
        assert_eq!(
            doc.metadata["labels"],
            MetadataValue::Many(vec!["auth".into(), "p1".into()])
        );
        assert_eq!(doc.metadata["parent"], MetadataValue::One("ENG-1".into()));
        assert!(!doc.metadata.contains_key("resolution"));
        assert_eq!(doc.authors, ["Mia Krystof", "Ada"]);
        assert_eq!(doc.hierarchy, ["Engineering", "ENG-1: Auth epic"]);
        assert_eq!(
            doc.updated_at.unwrap().to_rfc3339(),
            "2026-01-06T09:30:00+00:00"
        );
        assert_eq!(doc.attachments[0].size, Some(2460));
    }

    #[test]
    fn data_center_wiki_markup_is_cleaned() {
        let issue: Issue = serde_json::from_value(json!({
            "id": "1", "key": "OPS-1",
            "fields": {"summary": "Disk", "description": "h3. Impact\n* *all* hosts"}
        }))
        .unwrap();
        let doc = issue_to_document(
            &Site::new("https://jira.acme.com/jira"),
            &issue,
            &[],
            &["comments"],
        );
        assert_eq!(doc.id, "jira.acme.com/jira/OPS-1");
        assert_eq!(doc.sections[0].text, "### Impact\n\n- all hosts");
        assert_eq!(
            doc.metadata["truncated"],
            MetadataValue::Many(vec!["comments".into()])
        );
    }
}
