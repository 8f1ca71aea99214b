//! The parts of Jira's REST payloads this connector reads, named as the API
//! names them (`IssueBean`, `PageOfComments`, …). Every field is optional or
//! defaulted: Jira omits fields the user cannot see or that are empty, and a
//! missing field must never fail a whole page.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Cloud `GET/POST /rest/api/3/search/jql` response (`SearchAndReconcileResults`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSearchPage {
    /// The issues of this page, raw: each is decoded on its own so one odd
    /// issue becomes a per-document failure, not a failed page.
    #[serde(default)]
    pub issues: Vec<Value>,
    /// Token of the next page; absent on the last page.
    #[serde(default)]
    pub next_page_token: Option<String>,
    /// Whether this is the last page.
    #[serde(default)]
    pub is_last: Option<bool>,
}

/// Data Center `GET/POST /rest/api/2/search` response (`SearchResults`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OffsetSearchPage {
    /// Index of the first issue of this page.
    #[serde(default)]
    pub start_at: u64,
    /// Page size the server used.
    #[serde(default)]
    pub max_results: u64,
    /// Issues matching the query.
    #[serde(default)]
    pub total: u64,
    /// The issues of this page, raw.
    #[serde(default)]
    pub issues: Vec<Value>,
}

/// One issue (`IssueBean`).
#[derive(Debug, Deserialize)]
pub struct Issue {
    /// Numeric id, as a string.
    pub id: String,
    /// `ENG-42`.
    pub key: String,
    /// The issue's fields.
    #[serde(default)]
    pub fields: IssueFields,
}

/// The fields this connector asks for (see [`ISSUE_FIELDS`]).
#[derive(Debug, Default, Deserialize)]
pub struct IssueFields {
    /// One-line title.
    #[serde(default)]
    pub summary: Option<String>,
    /// ADF document (Cloud, v3) or wiki-markup string (Data Center, v2).
    #[serde(default)]
    pub description: Option<Value>,
    /// The first page of comments.
    #[serde(default)]
    pub comment: Option<PageOfComments>,
    /// Owning project.
    #[serde(default)]
    pub project: Option<Named>,
    /// Bug, Story, Epic, …
    #[serde(default)]
    pub issuetype: Option<Named>,
    /// Workflow status.
    #[serde(default)]
    pub status: Option<Named>,
    /// Priority.
    #[serde(default)]
    pub priority: Option<Named>,
    /// Labels.
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: Vec<String>,
    /// Components.
    #[serde(default, deserialize_with = "null_as_default")]
    pub components: Vec<Named>,
    /// Resolution, when resolved.
    #[serde(default)]
    pub resolution: Option<Named>,
    /// Assignee.
    #[serde(default)]
    pub assignee: Option<User>,
    /// Reporter.
    #[serde(default)]
    pub reporter: Option<User>,
    /// Creator.
    #[serde(default)]
    pub creator: Option<User>,
    /// Parent issue (sub-tasks, and epics' children in Cloud).
    #[serde(default)]
    pub parent: Option<Parent>,
    /// Created, `2023-06-24T19:24:50.000+0000`.
    #[serde(default, deserialize_with = "jira_time")]
    pub created: Option<DateTime<Utc>>,
    /// Last updated.
    #[serde(default, deserialize_with = "jira_time")]
    pub updated: Option<DateTime<Utc>>,
    /// Attachments.
    #[serde(default, deserialize_with = "null_as_default")]
    pub attachment: Vec<AttachmentMeta>,
}

/// The fields requested from search, so pages stay small.
pub const ISSUE_FIELDS: &[&str] = &[
    "summary",
    "description",
    "comment",
    "project",
    "issuetype",
    "status",
    "priority",
    "labels",
    "components",
    "resolution",
    "assignee",
    "reporter",
    "creator",
    "parent",
    "created",
    "updated",
    "attachment",
];

/// Anything with a `name` (and maybe a `key`): project, status, type, …
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Named {
    /// Key, for projects.
    #[serde(default)]
    pub key: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A Jira user as it appears on issues and comments.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Cloud account id.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Data Center user name.
    #[serde(default)]
    pub name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Email, when the user's privacy settings show it.
    #[serde(default)]
    pub email_address: Option<String>,
    /// IANA zone (on `/myself`).
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl User {
    /// The best way to name the user: display name, then email, then id.
    pub fn label(&self) -> Option<String> {
        self.display_name
            .clone()
            .or_else(|| self.email_address.clone())
            .or_else(|| self.name.clone())
            .or_else(|| self.account_id.clone())
    }
}

/// `fields.parent`.
#[derive(Debug, Default, Deserialize)]
pub struct Parent {
    /// Parent key.
    pub key: String,
    /// Parent's own fields (summary).
    #[serde(default)]
    pub fields: Option<ParentFields>,
}

/// The parent fields Jira includes.
#[derive(Debug, Default, Deserialize)]
pub struct ParentFields {
    /// Parent summary.
    #[serde(default)]
    pub summary: Option<String>,
}

/// `PageOfComments`: `fields.comment` and `GET /issue/{key}/comment`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageOfComments {
    /// Comments of this page, oldest first.
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// Index of the first comment.
    #[serde(default)]
    pub start_at: u64,
    /// Page size.
    #[serde(default)]
    pub max_results: u64,
    /// Comments on the issue.
    #[serde(default)]
    pub total: u64,
}

/// One comment.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    /// Comment id.
    #[serde(default)]
    pub id: String,
    /// Author.
    #[serde(default)]
    pub author: Option<User>,
    /// ADF document or wiki-markup string.
    #[serde(default)]
    pub body: Option<Value>,
    /// Created.
    #[serde(default, deserialize_with = "jira_time")]
    pub created: Option<DateTime<Utc>>,
}

/// `fields.attachment[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentMeta {
    /// Attachment id (a number in v3, a string in v2).
    #[serde(default)]
    pub id: Value,
    /// File name.
    #[serde(default)]
    pub filename: String,
    /// MIME type.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// URL of the bytes.
    #[serde(default)]
    pub content: Option<String>,
}

/// `GET /rest/api/3/project/search` (`PageBeanProject`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectPage {
    /// Projects of this page.
    #[serde(default)]
    pub values: Vec<Named>,
    /// Whether this is the last page.
    #[serde(default)]
    pub is_last: Option<bool>,
    /// Index of the first project.
    #[serde(default)]
    pub start_at: u64,
    /// Projects visible.
    #[serde(default)]
    pub total: Option<u64>,
}

/// Jira's error body (`ErrorCollection`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCollection {
    /// General messages.
    #[serde(default)]
    pub error_messages: Vec<String>,
    /// Field → message.
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
}

impl ErrorCollection {
    /// All messages in one line.
    pub fn summary(&self) -> String {
        let mut all = self.error_messages.clone();
        all.extend(self.errors.iter().map(|(k, v)| format!("{k}: {v}")));
        all.join("; ")
    }
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Jira writes `2023-06-24T19:24:50.000+0000` (no colon in the offset);
/// accept RFC 3339 too. An unreadable time is treated as absent.
fn jira_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    Ok(parse_jira_time(&text))
}

/// Parse a Jira timestamp.
pub fn parse_jira_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jira_times() {
        let t = parse_jira_time("2023-06-24T19:24:50.000+0000").unwrap();
        assert_eq!(t.to_rfc3339(), "2023-06-24T19:24:50+00:00");
        let t = parse_jira_time("2023-06-24T21:24:50.123+0200").unwrap();
        assert_eq!(t.to_rfc3339(), "2023-06-24T19:24:50.123+00:00");
        assert!(parse_jira_time("yesterday").is_none());
    }

    #[test]
    fn nulls_and_missing_fields_are_tolerated() {
        let issue: Issue = serde_json::from_value(serde_json::json!({
            "id": "10001", "key": "ENG-1",
            "fields": {"labels": null, "components": null, "attachment": null, "updated": "garbage"}
        }))
        .unwrap();
        assert!(issue.fields.labels.is_empty());
        assert!(issue.fields.updated.is_none());
    }
}
