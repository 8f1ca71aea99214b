//! The document model: one [`Document`] per source object (issue, page,
//! object, file), with the JSON field names the JSONL sink writes.

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One source object as text, metadata and references.
///
/// Build one with [`Document::new`] and set the public fields; the runner
/// fills [`Document::content_hash`] before a document reaches a sink.
///
/// ```
/// use connector_core::{Document, Section};
///
/// let mut doc = Document::new("fs", "notes/todo.md", "todo.md");
/// doc.sections.push(Section::text("buy milk"));
/// doc.metadata.insert("extension".into(), "md".into());
/// doc.seal();
/// let line = serde_json::to_string(&doc).unwrap();
/// assert!(line.starts_with(r#"{"id":"notes/todo.md","source":"fs","title":"todo.md""#));
/// assert_eq!(doc.content_hash.len(), 32);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Stable and unique within a source instance.
    pub id: String,
    /// Source kind: `jira`, `confluence`, `s3`, `sharepoint`, `fs`, …
    pub source: String,
    /// What a person would call it.
    pub title: String,
    /// Where a person opens it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Ordered text sections (a body, each comment, …).
    #[serde(default)]
    pub sections: Vec<Section>,
    /// String or string-list values (status, labels, space, …), in key order.
    #[serde(default)]
    pub metadata: BTreeMap<String, MetadataValue>,
    /// When the object was created, in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When the object last changed, in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Authors and owners (names or emails).
    #[serde(default)]
    pub authors: Vec<String>,
    /// Breadcrumbs, outermost first: space › parent page, site › library › folder.
    #[serde(default)]
    pub hierarchy: Vec<String>,
    /// Who may see it, when the source says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    /// Files attached to the object.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Hex digest of everything above; see [`Document::compute_content_hash`].
    #[serde(default)]
    pub content_hash: String,
}

/// One ordered piece of text, with where it lives when it has its own link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Plain text that keeps the structure a reader needs.
    pub text: String,
    /// A link to this section (a comment's permalink), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Section {
    /// A section without a link.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            link: None,
        }
    }

    /// A section with a link.
    pub fn with_link(text: impl Into<String>, link: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            link: Some(link.into()),
        }
    }
}

/// A metadata value: one string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetadataValue {
    /// A single value (`status: "Done"`).
    One(String),
    /// Several values (`labels: ["a", "b"]`).
    Many(Vec<String>),
}

impl From<String> for MetadataValue {
    fn from(value: String) -> Self {
        MetadataValue::One(value)
    }
}

impl From<&str> for MetadataValue {
    fn from(value: &str) -> Self {
        MetadataValue::One(value.to_owned())
    }
}

impl From<Vec<String>> for MetadataValue {
    fn from(value: Vec<String>) -> Self {
        MetadataValue::Many(value)
    }
}

/// Who may see a document, as far as the source exposes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Visible to everyone who can reach the source (or anyone with the link).
    #[serde(default)]
    pub public: bool,
    /// User emails (or source user ids when emails are hidden).
    #[serde(default)]
    pub users: Vec<String>,
    /// Group ids or names.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A file attached to a document; its bytes only when asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// MIME type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Where the bytes can be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The bytes themselves (base64 in JSON), only when the connector was
    /// asked for them and they fit its size cap.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "base64_bytes"
    )]
    pub bytes: Option<Vec<u8>>,
}

impl Attachment {
    /// An attachment entry without bytes.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            content_type: None,
            size: None,
            url: None,
            bytes: None,
        }
    }
}

mod base64_bytes {
    use super::*;

    pub fn serialize<S: serde::Serializer>(
        bytes: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => {
                serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
            }
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        text.map(|t| {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

impl Document {
    /// A document with its identity set and everything else empty.
    pub fn new(source: impl Into<String>, id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            source: source.into(),
            title: title.into(),
            url: None,
            sections: Vec::new(),
            metadata: BTreeMap::new(),
            created_at: None,
            updated_at: None,
            authors: Vec::new(),
            hierarchy: Vec::new(),
            access: None,
            attachments: Vec::new(),
            content_hash: String::new(),
        }
    }

    /// The 128-bit BLAKE3 digest, in hex, of every field but `content_hash`.
    ///
    /// Fields are fed with length prefixes in a fixed order, so the digest is
    /// the same on every run and machine and two different documents cannot
    /// produce the same byte stream.
    pub fn compute_content_hash(&self) -> String {
        let mut h = CanonicalHasher::default();
        h.str(&self.id);
        h.str(&self.source);
        h.str(&self.title);
        h.opt_str(self.url.as_deref());
        h.len(self.sections.len());
        for s in &self.sections {
            h.str(&s.text);
            h.opt_str(s.link.as_deref());
        }
        h.len(self.metadata.len());
        for (k, v) in &self.metadata {
            h.str(k);
            match v {
                MetadataValue::One(v) => {
                    h.tag(0);
                    h.str(v);
                }
                MetadataValue::Many(vs) => {
                    h.tag(1);
                    h.strs(vs);
                }
            }
        }
        h.opt_time(self.created_at);
        h.opt_time(self.updated_at);
        h.strs(&self.authors);
        h.strs(&self.hierarchy);
        match &self.access {
            None => h.tag(0),
            Some(a) => {
                h.tag(1);
                h.tag(u8::from(a.public));
                h.strs(&a.users);
                h.strs(&a.groups);
            }
        }
        h.len(self.attachments.len());
        for a in &self.attachments {
            h.str(&a.name);
            h.opt_str(a.content_type.as_deref());
            match a.size {
                None => h.tag(0),
                Some(s) => {
                    h.tag(1);
                    h.0.update(&s.to_le_bytes());
                }
            }
            h.opt_str(a.url.as_deref());
            match &a.bytes {
                None => h.tag(0),
                Some(b) => {
                    h.tag(1);
                    h.bytes(b);
                }
            }
        }
        let digest = h.0.finalize();
        let mut hex = String::with_capacity(32);
        for byte in &digest.as_bytes()[..16] {
            hex.push_str(&format!("{byte:02x}"));
        }
        hex
    }

    /// Set [`Document::content_hash`] from the current content.
    pub fn seal(&mut self) {
        self.content_hash = self.compute_content_hash();
    }

    /// Total bytes of section text: a cheap size figure for progress output.
    pub fn text_len(&self) -> usize {
        self.sections.iter().map(|s| s.text.len()).sum()
    }
}

#[derive(Default)]
struct CanonicalHasher(blake3::Hasher);

impl CanonicalHasher {
    fn len(&mut self, n: usize) {
        self.0.update(&(n as u64).to_le_bytes());
    }
    fn tag(&mut self, t: u8) {
        self.0.update(&[t]);
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.update(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.tag(0),
            Some(s) => {
                self.tag(1);
                self.str(s);
            }
        }
    }
    fn strs(&mut self, v: &[String]) {
        self.len(v.len());
        for s in v {
            self.str(s);
        }
    }
    fn opt_time(&mut self, t: Option<DateTime<Utc>>) {
        match t {
            None => self.tag(0),
            Some(t) => {
                self.tag(1);
                self.0.update(&t.timestamp().to_le_bytes());
                self.0.update(&t.timestamp_subsec_nanos().to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Document {
        let mut d = Document::new("jira", "site/ENG-1", "ENG-1: Fix it");
        d.url = Some("https://x.atlassian.net/browse/ENG-1".into());
        d.sections.push(Section::text("description"));
        d.sections
            .push(Section::with_link("a comment", "https://x/comment/1"));
        d.metadata.insert("status".into(), "Done".into());
        d.metadata
            .insert("labels".into(), vec!["a".to_owned(), "b".to_owned()].into());
        d.updated_at = DateTime::from_timestamp(1_700_000_000, 0);
        d
    }

    #[test]
    fn hash_is_stable_and_known() {
        let d = sample();
        // Pinned: a change here changes every stored hash, so it must be deliberate.
        assert_eq!(d.compute_content_hash(), d.clone().compute_content_hash());
        assert_eq!(d.compute_content_hash(), "fa5b296f8224ed79e6f3894c8d46f58b");
    }

    #[test]
    fn hash_changes_with_content_and_ignores_itself() {
        let a = sample();
        let mut b = sample();
        b.sections[0].text.push('!');
        assert_ne!(a.compute_content_hash(), b.compute_content_hash());
        let mut c = sample();
        c.content_hash = "whatever".into();
        assert_eq!(a.compute_content_hash(), c.compute_content_hash());
        // Moving text between fields changes the hash (length prefixes).
        let mut d = Document::new("s", "ab", "c");
        let mut e = Document::new("s", "a", "bc");
        d.seal();
        e.seal();
        assert_ne!(d.content_hash, e.content_hash);
    }

    #[test]
    fn json_field_names_and_round_trip() {
        let mut d = sample();
        d.access = Some(Access {
            public: false,
            users: vec!["a@example.com".into()],
            groups: vec![],
        });
        let mut att = Attachment::new("x.bin");
        att.bytes = Some(vec![0, 1, 2, 255]);
        d.attachments.push(att);
        d.seal();
        let json = serde_json::to_value(&d).unwrap();
        for field in [
            "id",
            "source",
            "title",
            "url",
            "sections",
            "metadata",
            "updated_at",
            "authors",
            "hierarchy",
            "access",
            "attachments",
            "content_hash",
        ] {
            assert!(json.get(field).is_some(), "missing {field}");
        }
        assert_eq!(json["attachments"][0]["bytes"], "AAEC/w==");
        assert_eq!(json["metadata"]["labels"], serde_json::json!(["a", "b"]));
        let back: Document = serde_json::from_value(json).unwrap();
        assert_eq!(back, d);
    }
}
