//! One page or blog post → one [`Document`].
//!
//! Both APIs are first read into a [`ContentRecord`] — v1 content directly
//! ([`ContentRecord::from_v1`]), a v2 page from its listing plus the v1
//! fields v2 does not list ([`ContentRecord::from_v2`] then
//! [`ContentRecord::enrich`]) — and the record becomes the document.

use chrono::{DateTime, Utc};
use connector_core::{Access, Attachment, Document, MetadataValue, Section};
use serde_json::Value;

use crate::client::{ContentKind, SpaceInfo};
use crate::model::{V1Content, V1User, V2Comment, V2Content, label_name};
use crate::storage::StorageToText;
use connector_core::deployment::Deployment;

/// Where content lives: builds ids and links.
///
/// ```
/// use connector_confluence::convert::Site;
/// use connector_confluence::Deployment;
///
/// let site = Site::new("https://acme.atlassian.net/wiki", Deployment::Cloud);
/// assert_eq!(site.document_id("65538"), "acme.atlassian.net/65538");
/// assert_eq!(site.link("/spaces/ENG/pages/65538/Runbook"), "https://acme.atlassian.net/wiki/spaces/ENG/pages/65538/Runbook");
/// let dc = Site::new("https://wiki.acme.com/confluence", Deployment::DataCenter);
/// assert_eq!(dc.document_id("42"), "wiki.acme.com/confluence/42");
/// ```
#[derive(Debug, Clone)]
pub struct Site {
    /// Base URL without a trailing slash (`https://acme.atlassian.net/wiki`).
    pub base_url: String,
    /// Host (and Data Center context path) that makes ids unique per site.
    pub id_prefix: String,
}

impl Site {
    /// A site from its base URL.
    pub fn new(base_url: &str, deployment: Deployment) -> Self {
        // The id names the site, not the API path: `/wiki` is dropped on Cloud.
        let base_url = base_url.trim_end_matches('/').to_owned();
        let mut id_prefix = base_url
            .split_once("://")
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or_else(|| base_url.clone());
        if deployment == Deployment::Cloud
            && let Some(stripped) = id_prefix.strip_suffix("/wiki")
        {
            id_prefix = stripped.to_owned();
        }
        Self {
            base_url,
            id_prefix,
        }
    }

    /// The document id of content `id`: stable per site and content id.
    pub fn document_id(&self, id: &str) -> String {
        format!("{}/{id}", self.id_prefix)
    }

    /// A link the API gave relative to the base URL, made absolute.
    pub fn link(&self, path: &str) -> String {
        if path.starts_with("https://") || path.starts_with("http://") {
            path.to_owned()
        } else {
            format!("{}/{}", self.base_url, path.trim_start_matches('/'))
        }
    }

    /// Where a person opens content `id` when the API gave no web link.
    pub fn fallback_url(&self, id: &str) -> String {
        format!("{}/pages/viewpage.action?pageId={id}", self.base_url)
    }
}

/// An attachment listed on a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachmentRecord {
    /// File name.
    pub name: String,
    /// MIME type.
    pub media_type: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Download path (relative to the base URL) or URL.
    pub download: Option<String>,
}

impl AttachmentRecord {
    /// From a v1 attachment (`type: attachment`): `title`,
    /// `metadata.mediaType`, `extensions.fileSize`, `_links.download`.
    pub fn from_v1(raw: &Value) -> Option<Self> {
        let name = raw.get("title").and_then(Value::as_str)?.to_owned();
        let extensions = raw.get("extensions");
        let media_type = raw
            .pointer("/metadata/mediaType")
            .or_else(|| extensions.and_then(|e| e.get("mediaType")))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let size = extensions.and_then(|e| e.get("fileSize")).and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
        let download = raw
            .pointer("/_links/download")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some(Self {
            name,
            media_type,
            size,
            download,
        })
    }
}

/// A footer comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommentRecord {
    /// Comment id.
    pub id: String,
    /// Who wrote it (name, or account id when only that is known).
    pub author: Option<String>,
    /// Storage-format body.
    pub body: String,
    /// Web link (relative to the base URL).
    pub webui: Option<String>,
}

impl CommentRecord {
    /// From a v2 footer comment.
    pub fn from_v2(c: V2Comment) -> Option<Self> {
        if c.status.as_deref().is_some_and(|s| s != "current") {
            return None;
        }
        Some(Self {
            author: c.version.and_then(|v| v.author_id),
            body: c
                .body
                .and_then(|b| b.storage)
                .and_then(|s| s.value)
                .unwrap_or_default(),
            webui: c.links.webui,
            id: c.id,
        })
    }

    /// From a v1 comment (`body.storage`, `history.createdBy` or `version.by`).
    pub fn from_v1(c: V1Content) -> Option<Self> {
        if c.status.as_deref().is_some_and(|s| s != "current") {
            return None;
        }
        let author = c
            .history
            .as_ref()
            .and_then(|h| h.created_by.as_ref())
            .or(c.version.as_ref().and_then(|v| v.by.as_ref()))
            .and_then(V1User::label);
        Some(Self {
            author,
            body: c
                .body
                .and_then(|b| b.storage)
                .and_then(|s| s.value)
                .unwrap_or_default(),
            webui: c.links.webui,
            id: c.id,
        })
    }
}

/// A page or blog post, read from either API.
#[derive(Debug, Clone, Default)]
pub struct ContentRecord {
    /// Content id.
    pub id: String,
    /// Page or blog post.
    pub kind: Option<ContentKind>,
    /// `current`, `archived`, …
    pub status: Option<String>,
    /// Title.
    pub title: String,
    /// Space key.
    pub space_key: Option<String>,
    /// Space name.
    pub space_name: Option<String>,
    /// Storage-format body; `None` when the answer had none.
    pub body: Option<String>,
    /// Web UI path.
    pub webui: Option<String>,
    /// Version number.
    pub version: Option<u64>,
    /// Created.
    pub created_at: Option<DateTime<Utc>>,
    /// Last modified (the current version's time).
    pub updated_at: Option<DateTime<Utc>>,
    /// Creator (name, or account id).
    pub author: Option<String>,
    /// Last modifier (name, or account id).
    pub last_modifier: Option<String>,
    /// Parent page id.
    pub parent_id: Option<String>,
    /// Titles of the ancestors, outermost first.
    pub ancestors: Vec<String>,
    /// Label names.
    pub labels: Vec<String>,
    /// Attachments.
    pub attachments: Vec<AttachmentRecord>,
    /// A `_links.next` of the attachment list when more than were expanded exist.
    pub more_attachments: Option<String>,
    /// A `_links.next` of the label list when more than were expanded exist.
    pub more_labels: Option<String>,
    /// Sub-resources cut at their cap (`comments`, `attachments`, `labels`).
    pub truncated: Vec<&'static str>,
    /// Footer comments, oldest first.
    pub comments: Vec<CommentRecord>,
    /// Who may view it, when the content carries its own view restriction.
    pub access: Option<Access>,
}

impl ContentRecord {
    /// From v1 content with the expansions the connector asks for (body, version, history, ancestors, space, labels, attachments, read restrictions).
    pub fn from_v1(c: V1Content) -> Self {
        let mut record = Self {
            id: c.id.clone(),
            ..Self::default()
        };
        record.title = c.title.clone().unwrap_or_default();
        record.status = c.status.clone();
        record.kind = c.kind.as_deref().and_then(ContentKind::parse);
        record.body = c
            .body
            .as_ref()
            .and_then(|b| b.storage.as_ref())
            .and_then(|s| s.value.clone());
        record.webui = c.links.webui.clone();
        record.version = c.version.as_ref().and_then(|v| v.number);
        record.updated_at = c.version.as_ref().and_then(|v| v.when);
        record.enrich(&c);
        record
    }

    /// From a v2 page or blog post listed in `space`. Authors are account
    /// ids until [`enrich`](Self::enrich) names them.
    pub fn from_v2(c: V2Content, kind: ContentKind, space: Option<&SpaceInfo>) -> Self {
        Self {
            id: c.id,
            kind: Some(kind),
            status: c.status,
            title: c.title.unwrap_or_default(),
            space_key: space.map(|s| s.key.clone()),
            space_name: space.map(|s| s.name.clone()),
            body: c.body.and_then(|b| b.storage).and_then(|s| s.value),
            webui: c.links.webui,
            version: c.version.as_ref().and_then(|v| v.number),
            created_at: c.created_at,
            updated_at: c.version.as_ref().and_then(|v| v.created_at),
            author: c.author_id,
            last_modifier: c.version.and_then(|v| v.author_id),
            parent_id: c
                .parent_id
                .filter(|_| c.parent_type.as_deref().is_none_or(|t| t == "page")),
            ..Self::default()
        }
    }

    /// Take what v1 knows and v2 does not list: ancestors' titles, labels,
    /// attachments, the space, and people's names.
    pub fn enrich(&mut self, c: &V1Content) {
        if let Some(access) = c.restrictions.as_ref().and_then(read_restrictions) {
            self.access = Some(access);
        }
        if let Some(space) = &c.space {
            if !space.key.is_empty() {
                self.space_key = Some(space.key.clone());
            }
            if let Some(name) = &space.name {
                self.space_name = Some(name.clone());
            }
        }
        if let Some(history) = &c.history {
            if let Some(name) = history.created_by.as_ref().and_then(V1User::label) {
                self.author = Some(name);
            }
            if self.created_at.is_none() {
                self.created_at = history.created_date;
            }
        }
        if let Some(name) = c
            .version
            .as_ref()
            .and_then(|v| v.by.as_ref())
            .and_then(V1User::label)
        {
            self.last_modifier = Some(name);
        }
        if !c.ancestors.is_empty() {
            self.ancestors = c
                .ancestors
                .iter()
                .filter_map(|a| a.get("title").and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            if self.parent_id.is_none() {
                self.parent_id =
                    c.ancestors
                        .last()
                        .and_then(|a| a.get("id"))
                        .and_then(|id| match id {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        });
            }
        }
        if let Some(labels) = c.metadata.as_ref().and_then(|m| m.labels.as_ref()) {
            self.labels = labels.results.iter().filter_map(label_name).collect();
            self.more_labels = labels.links.next.clone();
        }
        if let Some(list) = c.children.as_ref().and_then(|ch| ch.attachment.as_ref()) {
            self.attachments = list
                .results
                .iter()
                .filter(|a| {
                    a.get("status")
                        .and_then(Value::as_str)
                        .is_none_or(|s| s == "current")
                })
                .filter_map(AttachmentRecord::from_v1)
                .collect();
            self.more_attachments = list.links.next.clone();
        }
    }

    /// Whether the record is current content (or archived, when `archived`).
    pub fn is_live(&self, archived: bool) -> bool {
        match self.status.as_deref() {
            None | Some("current") => true,
            Some("archived") => archived,
            Some(_) => false,
        }
    }
}

fn put(doc: &mut Document, key: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        doc.metadata.insert(key.to_owned(), MetadataValue::One(v));
    }
}

/// The users and groups of a content's own read restriction, or `None`
/// when it has none (it then inherits its space's and ancestors'
/// permissions, which this connector does not expand).
pub fn read_restrictions(restrictions: &Value) -> Option<Access> {
    let read = restrictions.get("read")?.get("restrictions")?;
    let results = |kind: &str| -> Vec<Value> {
        read.get(kind)
            .and_then(|k| k.get("results"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let users: Vec<String> = results("user")
        .iter()
        .filter_map(|u| {
            ["email", "accountId", "username", "userKey"]
                .iter()
                .find_map(|k| u.get(*k).and_then(Value::as_str).filter(|v| !v.is_empty()))
                .map(str::to_owned)
        })
        .collect();
    let groups: Vec<String> = results("group")
        .iter()
        .filter_map(|g| g.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    if users.is_empty() && groups.is_empty() {
        return None;
    }
    Some(Access {
        public: false,
        users,
        groups,
    })
}

/// The document for `record`.
///
/// ```
/// use connector_confluence::convert::{ContentRecord, Site, record_to_document};
/// use connector_confluence::Deployment;
///
/// let site = Site::new("https://acme.atlassian.net/wiki", Deployment::Cloud);
/// let record = ContentRecord {
///     id: "65538".into(),
///     title: "Runbook".into(),
///     space_key: Some("ENG".into()),
///     space_name: Some("Engineering".into()),
///     body: Some("<h2>Restart</h2><p>Run <code>make restart</code>.</p>".into()),
///     ancestors: vec!["Operations".into()],
///     ..ContentRecord::default()
/// };
/// let doc = record_to_document(&site, &record, &Default::default());
/// assert_eq!(doc.id, "acme.atlassian.net/65538");
/// assert_eq!(doc.sections[0].text, "## Restart\n\nRun make restart.");
/// assert_eq!(doc.hierarchy, ["Engineering", "Operations"]);
/// ```
pub fn record_to_document(
    site: &Site,
    record: &ContentRecord,
    to_text: &StorageToText,
) -> Document {
    let title = if record.title.trim().is_empty() {
        format!("Untitled {}", record.id)
    } else {
        record.title.clone()
    };
    let url = record
        .webui
        .as_deref()
        .map(|w| site.link(w))
        .unwrap_or_else(|| site.fallback_url(&record.id));
    let mut doc = Document::new("confluence", site.document_id(&record.id), title);
    doc.url = Some(url.clone());
    doc.created_at = record.created_at;
    doc.updated_at = record.updated_at;
    doc.access = record.access.clone();

    let body = record
        .body
        .as_deref()
        .map(|b| to_text.convert(b))
        .unwrap_or_default();
    if !body.is_empty() {
        doc.sections.push(Section::with_link(body, url.clone()));
    }
    for comment in &record.comments {
        let text = to_text.convert(&comment.body);
        if text.is_empty() {
            continue;
        }
        let text = match &comment.author {
            Some(author) => format!("{author}: {text}"),
            None => text,
        };
        let link = comment
            .webui
            .as_deref()
            .map(|w| site.link(w))
            .unwrap_or_else(|| format!("{url}#comment-{}", comment.id));
        doc.sections.push(Section::with_link(text, link));
    }

    put(&mut doc, "content_id", Some(record.id.clone()));
    put(&mut doc, "type", record.kind.map(|k| k.as_str().to_owned()));
    put(&mut doc, "space", record.space_key.clone());
    put(&mut doc, "space_name", record.space_name.clone());
    put(&mut doc, "status", record.status.clone());
    put(&mut doc, "version", record.version.map(|v| v.to_string()));
    put(&mut doc, "author", record.author.clone());
    put(&mut doc, "last_modifier", record.last_modifier.clone());
    put(&mut doc, "parent_id", record.parent_id.clone());
    if !record.truncated.is_empty() {
        doc.metadata.insert(
            "truncated".to_owned(),
            MetadataValue::Many(record.truncated.iter().map(|t| (*t).to_owned()).collect()),
        );
    }
    if !record.labels.is_empty() {
        doc.metadata.insert(
            "labels".to_owned(),
            MetadataValue::Many(record.labels.clone()),
        );
    }

    for name in [&record.author, &record.last_modifier]
        .into_iter()
        .flatten()
    {
        if !name.is_empty() && !doc.authors.contains(name) {
            doc.authors.push(name.clone());
        }
    }
    if let Some(space) = record.space_name.clone().or(record.space_key.clone()) {
        doc.hierarchy.push(space);
    }
    doc.hierarchy.extend(record.ancestors.iter().cloned());

    for meta in &record.attachments {
        let mut attachment = Attachment::new(meta.name.clone());
        attachment.content_type = meta.media_type.clone();
        attachment.size = meta.size;
        attachment.url = meta.download.as_deref().map(|d| site.link(d));
        doc.attachments.push(attachment);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_content_maps_every_field() {
        let c: V1Content = serde_json::from_value(json!({
            "id": "98305", "type": "page", "status": "current", "title": "Deploy guide",
            "space": {"id": 98306, "key": "ENG", "name": "Engineering", "type": "global", "status": "current"},
            "history": {"latest": true, "createdBy": {"type": "known", "accountId": "a1", "displayName": "Mia Krystof"},
                        "createdDate": "2024-01-05T09:00:00.000Z"},
            "version": {"by": {"type": "known", "accountId": "a2", "displayName": "Ada"}, "when": "2024-03-01T13:00:00.000+01:00",
                        "number": 7, "minorEdit": false},
            "ancestors": [{"id": "1", "type": "page", "status": "current", "title": "Home"},
                          {"id": "2", "type": "page", "status": "current", "title": "Ops"}],
            "body": {"storage": {"value": "<p>Hello <strong>world</strong></p>", "representation": "storage"}},
            "metadata": {"labels": {"results": [{"prefix": "global", "name": "howto", "id": "9", "label": "howto"}], "start": 0, "limit": 200, "size": 1}},
            "children": {"attachment": {"results": [{"id": "att1", "type": "attachment", "status": "current", "title": "diagram.png",
                "metadata": {"mediaType": "image/png"}, "extensions": {"mediaType": "image/png", "fileSize": 2048},
                "_links": {"download": "/download/attachments/98305/diagram.png?version=1"}}], "start": 0, "limit": 25, "size": 1,
                "_links": {}}},
            "_links": {"webui": "/spaces/ENG/pages/98305/Deploy+guide", "tinyui": "/x/AYAB", "base": "https://acme.atlassian.net/wiki"}
        }))
        .unwrap();
        let record = ContentRecord::from_v1(c);
        let site = Site::new("https://acme.atlassian.net/wiki", Deployment::Cloud);
        let doc = record_to_document(&site, &record, &StorageToText::new());
        assert_eq!(doc.id, "acme.atlassian.net/98305");
        assert_eq!(
            doc.url.as_deref(),
            Some("https://acme.atlassian.net/wiki/spaces/ENG/pages/98305/Deploy+guide")
        );
        assert_eq!(doc.sections[0].text, "Hello world");
        assert_eq!(doc.hierarchy, ["Engineering", "Home", "Ops"]);
        assert_eq!(doc.authors, ["Mia Krystof", "Ada"]);
        assert_eq!(
            doc.metadata["labels"],
            MetadataValue::Many(vec!["howto".into()])
        );
        assert_eq!(doc.metadata["version"], MetadataValue::One("7".into()));
        assert_eq!(doc.metadata["parent_id"], MetadataValue::One("2".into()));
        assert_eq!(
            doc.updated_at.unwrap().to_rfc3339(),
            "2024-03-01T12:00:00+00:00"
        );
        assert_eq!(doc.attachments[0].size, Some(2048));
        assert_eq!(
            doc.attachments[0].url.as_deref(),
            Some(
                "https://acme.atlassian.net/wiki/download/attachments/98305/diagram.png?version=1"
            )
        );
    }

    #[test]
    fn read_restrictions_become_access() {
        // `GET /rest/api/content/{id}?expand=restrictions.read.restrictions.user,…`
        let restricted = serde_json::json!({
            "read": {
                "operation": "read",
                "restrictions": {
                    "user": {"results": [
                        {"type": "known", "accountId": "5b10ac8d82e05b22cc7d4ef5", "email": "mia@example.com", "displayName": "Mia Krystof"},
                        {"type": "known", "accountId": "5b10a2844c20165700ede21g", "displayName": "Ada"}
                    ], "start": 0, "limit": 200, "size": 2},
                    "group": {"results": [{"type": "group", "name": "confluence-admins", "id": "a1b2"}], "start": 0, "limit": 200, "size": 1}
                },
                "_links": {}
            }
        });
        let access = read_restrictions(&restricted).unwrap();
        assert!(!access.public);
        assert_eq!(
            access.users,
            ["mia@example.com", "5b10a2844c20165700ede21g"]
        );
        assert_eq!(access.groups, ["confluence-admins"]);
        let open = serde_json::json!({"read": {"operation": "read", "restrictions": {
            "user": {"results": [], "size": 0}, "group": {"results": [], "size": 0}
        }}});
        assert_eq!(
            read_restrictions(&open),
            None,
            "no own restriction: inherited, unknown"
        );
    }
}
