//! The parts of Jira's REST payloads this connector reads, named as the API
//! names them (`IssueBean`, `PageOfComments`, …).
//!
//! Pages are strict: a page without its items array or its continuation
//! fields is an error, never an empty page (an empty page would read as an
//! empty source). The issues inside a page are kept raw and decoded one by
//! one, so one odd issue is one per-document failure. Inside an issue every
//! field is optional: Jira omits fields the user cannot see or that are
//! empty.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// Cloud `POST /rest/api/3/search/jql` response (`SearchAndReconcileResults`).
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawTokenPage")]
pub(crate) struct TokenSearchPage {
    /// The issues of this page, raw.
    pub(crate) issues: Vec<Box<RawValue>>,
    /// The next page's token; `None` on the last page.
    pub(crate) next: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTokenPage {
    // No default: a page without `issues` is not a page.
    issues: Vec<Box<RawValue>>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    is_last: Option<bool>,
}

impl TryFrom<RawTokenPage> for TokenSearchPage {
    type Error = String;

    fn try_from(raw: RawTokenPage) -> Result<Self, String> {
        let token = raw.next_page_token.filter(|t| !t.is_empty());
        let next = match (raw.is_last, token) {
            (Some(true), _) => None,
            (_, Some(token)) => Some(token),
            (Some(false), None) => {
                return Err("the page says `isLast: false` but carries no `nextPageToken`".into());
            }
            (None, None) => {
                return Err("the page has neither `isLast` nor `nextPageToken`".into());
            }
        };
        Ok(Self {
            issues: raw.issues,
            next,
        })
    }
}

/// Data Center `POST /rest/api/2/search` response (`SearchResults`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OffsetSearchPage {
    /// Issues matching the query.
    pub(crate) total: u64,
    /// The issues of this page, raw.
    pub(crate) issues: Vec<Box<RawValue>>,
}

/// The key of a raw issue, read without decoding the rest.
#[derive(Deserialize)]
pub(crate) struct KeyOnly {
    #[serde(default)]
    pub(crate) key: Option<String>,
}

/// One issue (`IssueBean`).
#[derive(Debug, Deserialize)]
pub(crate) struct Issue {
    /// `ENG-42`.
    pub(crate) key: String,
    /// The issue's fields.
    #[serde(default)]
    pub(crate) fields: IssueFields,
}

/// The fields this connector asks for (see [`ISSUE_FIELDS`]).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct IssueFields {
    /// One-line title.
    #[serde(default)]
    pub(crate) summary: Option<String>,
    /// ADF document (Cloud, v3) or wiki-markup string (Data Center, v2).
    #[serde(default)]
    pub(crate) description: Option<Value>,
    /// The first page of comments.
    #[serde(default)]
    pub(crate) comment: Option<PageOfComments>,
    /// Owning project.
    #[serde(default)]
    pub(crate) project: Option<Named>,
    /// Bug, Story, Epic, …
    #[serde(default)]
    pub(crate) issuetype: Option<Named>,
    /// Workflow status.
    #[serde(default)]
    pub(crate) status: Option<Named>,
    /// Priority.
    #[serde(default)]
    pub(crate) priority: Option<Named>,
    /// Labels.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) labels: Vec<String>,
    /// Components.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) components: Vec<Named>,
    /// Resolution, when resolved.
    #[serde(default)]
    pub(crate) resolution: Option<Named>,
    /// Assignee.
    #[serde(default)]
    pub(crate) assignee: Option<User>,
    /// Reporter.
    #[serde(default)]
    pub(crate) reporter: Option<User>,
    /// Creator.
    #[serde(default)]
    pub(crate) creator: Option<User>,
    /// Parent issue (sub-tasks, and epics' children in Cloud).
    #[serde(default)]
    pub(crate) parent: Option<Parent>,
    /// Created, `2023-06-24T19:24:50.000+0000`.
    #[serde(default, deserialize_with = "jira_time")]
    pub(crate) created: Option<DateTime<Utc>>,
    /// Last updated.
    #[serde(default, deserialize_with = "jira_time")]
    pub(crate) updated: Option<DateTime<Utc>>,
    /// Attachments.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) attachment: Vec<AttachmentMeta>,
}

/// The fields requested from search, so pages stay small.
pub(crate) const ISSUE_FIELDS: &[&str] = &[
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
pub(crate) struct Named {
    /// Key, for projects.
    #[serde(default)]
    pub(crate) key: Option<String>,
    /// Display name.
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// A Jira user as it appears on issues and comments.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    /// Cloud account id.
    #[serde(default)]
    pub(crate) account_id: Option<String>,
    /// Data Center user name.
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub(crate) display_name: Option<String>,
    /// Email, when the user's privacy settings show it.
    #[serde(default)]
    pub(crate) email_address: Option<String>,
    /// IANA zone (on `/myself`).
    #[serde(default)]
    pub(crate) time_zone: Option<String>,
}

impl User {
    /// The best way to name the user: display name, then email, then id.
    pub(crate) fn label(&self) -> Option<String> {
        self.display_name
            .clone()
            .or_else(|| self.email_address.clone())
            .or_else(|| self.name.clone())
            .or_else(|| self.account_id.clone())
    }
}

/// `fields.parent`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Parent {
    /// Parent key.
    pub(crate) key: String,
    /// Parent's own fields (summary).
    #[serde(default)]
    pub(crate) fields: Option<ParentFields>,
}

/// The parent fields Jira includes.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ParentFields {
    /// Parent summary.
    #[serde(default)]
    pub(crate) summary: Option<String>,
}

/// `PageOfComments`: `fields.comment` and `GET /issue/{key}/comment`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageOfComments {
    /// Comments of this page, oldest first.
    pub(crate) comments: Vec<Comment>,
    /// Index of the first comment.
    #[serde(default)]
    pub(crate) start_at: u64,
    /// Comments on the issue.
    pub(crate) total: u64,
}

/// One comment.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Comment {
    /// Comment id.
    #[serde(default)]
    pub(crate) id: String,
    /// Author.
    #[serde(default)]
    pub(crate) author: Option<User>,
    /// ADF document or wiki-markup string.
    #[serde(default)]
    pub(crate) body: Option<Value>,
}

/// `fields.attachment[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttachmentMeta {
    /// File name.
    #[serde(default)]
    pub(crate) filename: String,
    /// MIME type.
    #[serde(default)]
    pub(crate) mime_type: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub(crate) size: Option<u64>,
    /// URL of the bytes.
    #[serde(default)]
    pub(crate) content: Option<String>,
}

/// `GET /rest/api/3/project/search` (`PageBeanProject`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawProjectPage")]
pub(crate) struct ProjectPage {
    /// Projects of this page.
    pub(crate) values: Vec<Named>,
    /// Whether this is the last page.
    pub(crate) is_last: Option<bool>,
    /// Projects visible.
    pub(crate) total: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProjectPage {
    values: Vec<Named>,
    #[serde(default)]
    is_last: Option<bool>,
    #[serde(default)]
    total: Option<u64>,
}

impl TryFrom<RawProjectPage> for ProjectPage {
    type Error = &'static str;

    fn try_from(raw: RawProjectPage) -> Result<Self, Self::Error> {
        if raw.is_last.is_none() && raw.total.is_none() {
            return Err("the page has neither `isLast` nor `total`");
        }
        Ok(Self {
            values: raw.values,
            is_last: raw.is_last,
            total: raw.total,
        })
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
pub(crate) fn parse_jira_time(text: &str) -> Option<DateTime<Utc>> {
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
    fn a_token_page_needs_its_issues_and_a_way_on() {
        let page = |v: serde_json::Value| serde_json::from_value::<TokenSearchPage>(v);
        let last = page(serde_json::json!({"issues": [], "isLast": true})).unwrap();
        assert!(last.next.is_none());
        let more = page(
            serde_json::json!({"issues": [{"key": "A-1"}], "nextPageToken": "t", "isLast": false}),
        )
        .unwrap();
        assert_eq!((more.issues.len(), more.next.as_deref()), (1, Some("t")));
        // Older answers without `isLast`: the token alone says there is more.
        assert!(page(serde_json::json!({"issues": [], "nextPageToken": "t"})).is_ok());
        for bad in [
            serde_json::json!({"unexpected": true}),
            serde_json::json!({"isLast": true}),
            serde_json::json!({"issues": []}),
            serde_json::json!({"issues": [], "isLast": false}),
            serde_json::json!({"issues": [], "isLast": false, "nextPageToken": ""}),
            serde_json::json!({"issues": {}, "isLast": true}),
        ] {
            assert!(page(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn offset_and_comment_pages_need_items_and_total() {
        assert!(
            serde_json::from_value::<OffsetSearchPage>(
                serde_json::json!({"startAt": 0, "total": 3})
            )
            .is_err()
        );
        assert!(
            serde_json::from_value::<OffsetSearchPage>(serde_json::json!({"issues": []})).is_err()
        );
        assert!(serde_json::from_value::<PageOfComments>(serde_json::json!({"total": 3})).is_err());
        assert!(
            serde_json::from_value::<PageOfComments>(serde_json::json!({"comments": []})).is_err()
        );
        assert!(
            serde_json::from_value::<ProjectPage>(serde_json::json!({"isLast": true})).is_err()
        );
        assert!(serde_json::from_value::<ProjectPage>(serde_json::json!({"values": []})).is_err());
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
