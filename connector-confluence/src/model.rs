//! The parts of Confluence's REST payloads this connector reads, named as
//! the APIs name them: REST v2 (Cloud: `PageBulk`, `BlogPostBulk`,
//! `SpaceBulk`, `PageCommentModel`, `MultiEntityResult`) and REST v1 (Cloud
//! search and Data Center: `Content`, `ContentArray`, `SearchResult`).
//!
//! Every field is optional or defaulted: Confluence omits what the user
//! cannot see or what was not expanded, and one odd field must never fail a
//! whole page. Listing pages are split by core (`json::split_page`) so
//! that each item is decoded on its own and a malformed one becomes a
//! per-document failure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Pagination links (`MultiEntityLinks` in v2, `GenericLinks` in v1).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Links {
    /// The next page: v2 relative to the site root (`/wiki/api/v2/…?cursor=…`),
    /// v1 relative to the base URL (`/rest/api/…?start=…`).
    #[serde(default, deserialize_with = "lenient")]
    pub next: Option<String>,
    /// Base URL of the site.
    #[serde(default, deserialize_with = "lenient")]
    pub base: Option<String>,
}

/// v2 `SpaceBulk`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Space {
    /// Space id (numeric, as a string).
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: String,
    /// Space key (`ENG`).
    #[serde(default)]
    pub key: String,
    /// Display name.
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    /// `current` or `archived`.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
}

/// v2 `PageBulk` / `BlogPostBulk` / `PageSingle` (blog posts have no parent).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Content {
    /// Content id.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// `current`, `archived`, `trashed`, `deleted`, `draft`, `historical`.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// Title.
    #[serde(default, deserialize_with = "lenient")]
    pub title: Option<String>,
    /// Space id.
    #[serde(default, deserialize_with = "lenient_id")]
    pub space_id: Option<String>,
    /// Parent page id.
    #[serde(default, deserialize_with = "lenient_id")]
    pub parent_id: Option<String>,
    /// `page` (or `whiteboard`, `database`, `folder`, …).
    #[serde(default, deserialize_with = "lenient")]
    pub parent_type: Option<String>,
    /// Account id of the creator.
    #[serde(default, deserialize_with = "lenient")]
    pub author_id: Option<String>,
    /// Created.
    #[serde(default, deserialize_with = "time")]
    pub created_at: Option<DateTime<Utc>>,
    /// The current version.
    #[serde(default, deserialize_with = "lenient")]
    pub version: Option<V2Version>,
    /// `body.storage.value` when `body-format=storage` was asked for.
    #[serde(default, deserialize_with = "lenient")]
    pub body: Option<Body>,
    /// `webui`, `tinyui`.
    #[serde(default, rename = "_links", deserialize_with = "null_as_default")]
    pub links: WebLinks,
}

/// v2 `Version`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Version {
    /// Version number.
    #[serde(default, deserialize_with = "lenient")]
    pub number: Option<u64>,
    /// When this version was made: the content's last modification.
    #[serde(default, deserialize_with = "time")]
    pub created_at: Option<DateTime<Utc>>,
    /// Account id of the version's author: the last modifier.
    #[serde(default, deserialize_with = "lenient")]
    pub author_id: Option<String>,
}

/// v2 `PageCommentModel` / `BlogPostCommentModel` (footer comments).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Comment {
    /// Comment id.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// Status; only `current` comments are kept.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// The comment's version (author id, time).
    #[serde(default, deserialize_with = "lenient")]
    pub version: Option<V2Version>,
    /// Storage-format body.
    #[serde(default, deserialize_with = "lenient")]
    pub body: Option<Body>,
    /// `webui`.
    #[serde(default, rename = "_links", deserialize_with = "null_as_default")]
    pub links: WebLinks,
}

/// `body` of either API: the storage representation.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Body {
    /// `{value, representation}`.
    #[serde(default, deserialize_with = "lenient")]
    pub storage: Option<BodyType>,
}

/// v2 `BodyType` / v1 `ContentBody`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct BodyType {
    /// The storage-format XHTML.
    #[serde(default, deserialize_with = "lenient")]
    pub value: Option<String>,
    /// `storage`.
    #[serde(default, deserialize_with = "lenient")]
    pub representation: Option<String>,
}

/// `_links` of a content item.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct WebLinks {
    /// Web UI path, relative to the base URL.
    #[serde(default, deserialize_with = "lenient")]
    pub webui: Option<String>,
    /// Short link.
    #[serde(default, deserialize_with = "lenient")]
    pub tinyui: Option<String>,
    /// Attachment download path, relative to the base URL (v1).
    #[serde(default, deserialize_with = "lenient")]
    pub download: Option<String>,
    /// Base URL of the site (v1).
    #[serde(default, deserialize_with = "lenient")]
    pub base: Option<String>,
}

/// v1 `Content` (a page, blog post, comment or attachment) with the
/// expansions the connector asks for.
#[derive(Debug, Default, Deserialize)]
pub struct V1Content {
    /// Content id.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// `page`, `blogpost`, `comment`, `attachment`.
    #[serde(default, rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
    /// `current`, `trashed`, `archived`, `draft`, …
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// Title (for an attachment: the file name).
    #[serde(default, deserialize_with = "lenient")]
    pub title: Option<String>,
    /// `space` expansion.
    #[serde(default, deserialize_with = "lenient")]
    pub space: Option<V1Space>,
    /// `history` expansion: creator and creation date.
    #[serde(default, deserialize_with = "lenient")]
    pub history: Option<V1History>,
    /// `version` expansion: number, `when`, `by`.
    #[serde(default, deserialize_with = "lenient")]
    pub version: Option<V1Version>,
    /// `ancestors` expansion, outermost first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ancestors: Vec<Value>,
    /// `body.storage` expansion.
    #[serde(default, deserialize_with = "lenient")]
    pub body: Option<Body>,
    /// `metadata.labels` (and, for attachments, `mediaType`).
    #[serde(default, deserialize_with = "lenient")]
    pub metadata: Option<V1Metadata>,
    /// `children.attachment`, `children.comment` expansions.
    #[serde(default, deserialize_with = "lenient")]
    pub children: Option<V1Children>,
    /// For attachments: `fileSize`, `mediaType`.
    #[serde(default)]
    pub extensions: Option<Value>,
    /// `restrictions.read.restrictions.{user,group}` expansion: who may
    /// view the content when it is restricted itself.
    #[serde(default)]
    pub restrictions: Option<Value>,
    /// `webui`, `tinyui`, `download`, `base`.
    #[serde(default, rename = "_links", deserialize_with = "null_as_default")]
    pub links: WebLinks,
}

/// v1 `Space` (as expanded on content).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct V1Space {
    /// Space id.
    #[serde(default, deserialize_with = "lenient_id")]
    pub id: Option<String>,
    /// Space key.
    #[serde(default)]
    pub key: String,
    /// Display name.
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    /// `current` or `archived`.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
}

/// v1 `ContentHistory`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V1History {
    /// Creator.
    #[serde(default, deserialize_with = "lenient")]
    pub created_by: Option<V1User>,
    /// Created.
    #[serde(default, deserialize_with = "time")]
    pub created_date: Option<DateTime<Utc>>,
}

/// v1 `Version`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct V1Version {
    /// Version number.
    #[serde(default, deserialize_with = "lenient")]
    pub number: Option<u64>,
    /// When: the content's last modification.
    #[serde(default, deserialize_with = "time")]
    pub when: Option<DateTime<Utc>>,
    /// Who: the last modifier.
    #[serde(default, deserialize_with = "lenient")]
    pub by: Option<V1User>,
}

/// v1 `User`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V1User {
    /// Cloud account id.
    #[serde(default, deserialize_with = "lenient")]
    pub account_id: Option<String>,
    /// Data Center user name.
    #[serde(default, deserialize_with = "lenient")]
    pub username: Option<String>,
    /// Display name.
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    /// Public name (Cloud).
    #[serde(default, deserialize_with = "lenient")]
    pub public_name: Option<String>,
    /// Email, when the privacy settings show it.
    #[serde(default, deserialize_with = "lenient")]
    pub email: Option<String>,
    /// IANA zone (`/rest/api/user/current`).
    #[serde(default, deserialize_with = "lenient")]
    pub time_zone: Option<String>,
}

impl V1User {
    /// The best way to name the user: display name, public name, email, user name, id.
    pub fn label(&self) -> Option<String> {
        [
            &self.display_name,
            &self.public_name,
            &self.email,
            &self.username,
            &self.account_id,
        ]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .cloned()
    }
}

/// v1 `ContentMetadata` (the parts read).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V1Metadata {
    /// `metadata.labels`.
    #[serde(default, deserialize_with = "lenient")]
    pub labels: Option<ContentArray>,
    /// Attachment MIME type.
    #[serde(default, deserialize_with = "lenient")]
    pub media_type: Option<String>,
}

/// v1 `ContentChildren`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct V1Children {
    /// `children.attachment`.
    #[serde(default, deserialize_with = "lenient")]
    pub attachment: Option<ContentArray>,
    /// `children.comment`.
    #[serde(default, deserialize_with = "lenient")]
    pub comment: Option<ContentArray>,
}

/// v1 `ContentArray` / `LabelArray` / `SpaceArray`: `start`/`limit` pages.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ContentArray {
    /// Items, raw.
    #[serde(default, deserialize_with = "null_as_default")]
    pub results: Vec<Value>,
    /// Index of the first item.
    #[serde(default, deserialize_with = "lenient")]
    pub start: Option<u64>,
    /// Page size the server used.
    #[serde(default, deserialize_with = "lenient")]
    pub limit: Option<u64>,
    /// Items on this page.
    #[serde(default, deserialize_with = "lenient")]
    pub size: Option<u64>,
    /// `next` when more pages follow.
    #[serde(default, rename = "_links", deserialize_with = "null_as_default")]
    pub links: Links,
}

/// One result of Cloud's `/rest/api/search` (`SearchResult`): the content
/// it found and when that last changed. (Data Center's
/// `/rest/api/content/search` answers the content itself.)
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// The content, with the search's `content.` expansions.
    pub content: V1Content,
    /// The content's last modification.
    #[serde(default, deserialize_with = "time")]
    pub last_modified: Option<DateTime<Utc>>,
}

/// Just the content id of a search result, wrapped (Cloud) or not.
#[derive(Debug, Deserialize)]
pub(crate) struct ContentId {
    #[serde(default, deserialize_with = "lenient_id")]
    pub id: Option<String>,
    /// Not `lenient`: that would build the whole content (body included)
    /// as a `Value` only to read its id.
    #[serde(default)]
    pub content: Option<Box<ContentId>>,
}

impl ContentId {
    /// The id, of the content when the result wraps it.
    pub(crate) fn of(raw: &connector_core::json::RawRecord) -> Option<String> {
        if let Some(id) = raw.string_field("id") {
            return Some(id);
        }
        let found: ContentId = raw.decode().ok()?;
        found.content.and_then(|c| c.id).or(found.id)
    }
}

/// A label (v1 `Label`, v2 `Label`): the `name` is what people see.
pub fn label_name(raw: &Value) -> Option<String> {
    raw.get("name")
        .or_else(|| raw.get("label"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A field of the wrong shape reads as absent instead of failing the item.
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// An id given as a string or a number.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, found {other}"
        ))),
    }
}

fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => parse_time(&s),
        _ => None,
    })
}

/// Parse a Confluence timestamp: RFC 3339 (`2024-03-01T12:00:00.000Z`) or
/// an offset without a colon (`2024-03-01T12:00:00.000+0000`).
///
/// ```
/// use connector_confluence::model::parse_time;
/// assert_eq!(parse_time("2024-03-01T13:00:00.000+01:00").unwrap().to_rfc3339(), "2024-03-01T12:00:00+00:00");
/// assert!(parse_time("last week").is_none());
/// ```
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn odd_fields_read_as_absent() {
        let page: V2Content = serde_json::from_value(json!({
            "id": 42, "status": 7, "title": "T", "version": "x", "createdAt": "nope",
            "body": {"storage": {"value": ["not text"]}}, "_links": null
        }))
        .unwrap();
        assert_eq!(page.id, "42");
        assert!(page.status.is_none() && page.version.is_none() && page.created_at.is_none());
        assert!(page.body.unwrap().storage.unwrap().value.is_none());
        assert!(serde_json::from_value::<V2Content>(json!({"title": "no id"})).is_err());
    }
}
