//! One listed object → one [`Document`] (or a per-document failure): what
//! to download, how much, and how the object maps onto the document model.

use std::path::Path;

use aws_sdk_s3::operation::get_object::GetObjectOutput;
use chrono::{DateTime, Utc};
use connector_core::{Attachment, Document, DocumentFailure, Item, Result, Section};
use url::Url;

use crate::client::{Listed, S3Api, read_at_least, read_body, to_chrono, unquote};
use crate::config::S3Config;
use connector_core::text::{self, Kind};

/// Storage classes whose objects must be restored before they can be read.
const ARCHIVED: &[&str] = &["GLACIER", "DEEP_ARCHIVE"];

/// How documents of one bucket are named and linked.
#[derive(Debug, Clone)]
pub(crate) struct Naming {
    bucket: String,
    id_base: String,
    endpoint: Option<Url>,
}

impl Naming {
    pub(crate) fn new(bucket: &str, endpoint: Option<&Url>) -> Self {
        let id_base = match endpoint {
            Some(u) => format!("{}/{bucket}", u.as_str().trim_end_matches('/')),
            None => format!("s3://{bucket}"),
        };
        Self {
            bucket: bucket.to_owned(),
            id_base,
            endpoint: endpoint.cloned(),
        }
    }

    /// `s3://bucket/key` on AWS, `https://endpoint/bucket/key` elsewhere.
    pub(crate) fn id(&self, key: &str) -> String {
        format!("{}/{key}", self.id_base)
    }

    /// Where a person opens the object: `s3://bucket/key` on AWS, the
    /// path-style URL (key percent-encoded) on a custom endpoint.
    pub(crate) fn url(&self, key: &str) -> String {
        let Some(endpoint) = &self.endpoint else {
            return format!("s3://{}/{key}", self.bucket);
        };
        let mut url = endpoint.clone();
        match url.path_segments_mut() {
            Ok(mut segments) => {
                segments.pop_if_empty().push(&self.bucket);
                for part in key.split('/') {
                    segments.push(part);
                }
            }
            Err(()) => return self.id(key),
        }
        url.to_string()
    }
}

/// What the connector needs to turn listed objects into items.
#[derive(Debug)]
pub(crate) struct Converter<'a> {
    pub api: &'a S3Api,
    pub naming: &'a Naming,
    pub config: &'a S3Config,
}

/// The file name of a key: its last non-empty segment.
pub(crate) fn file_name(key: &str) -> &str {
    key.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(key)
}

/// A zero-byte key ending in `/`: a folder made by a console, not a document.
pub(crate) fn is_directory_marker(obj: &Listed) -> bool {
    obj.key.ends_with('/') && obj.size == 0
}

impl Converter<'_> {
    /// The item for `obj`: `Ok(None)` when it vanished before it could be
    /// read; `Err` when the source as a whole failed (the stream ends).
    pub(crate) async fn to_item(&self, obj: &Listed) -> Result<Option<Item>> {
        let id = self.naming.id(&obj.key);
        let fail = |reason: String| {
            Ok(Some(Item::Failure(DocumentFailure::new(
                id.clone(),
                reason,
            ))))
        };
        let config = self.config;
        let kind = text::kind_by_name(Path::new(file_name(&obj.key)));
        let text_cap = config.max_text_bytes;
        let bytes_cap = config.options.attachment_max_bytes;
        let extract = config.extract && kind != Kind::Text && extracts(file_name(&obj.key));

        if obj.size == 0 {
            let mut doc = self.document(obj, None);
            if kind == Kind::Binary {
                self.attach(&mut doc, obj, None, bytes_cap.map(|_| Vec::new()));
            } else {
                let ct = text::content_type(Path::new(file_name(&obj.key)), true);
                doc.metadata.insert("content_type".into(), ct.into());
            }
            return Ok(Some(Item::from(doc)));
        }
        match kind {
            _ if extract => {
                let limit = extract_limit();
                if obj.size > limit {
                    return fail(over_cap(obj.size, limit, "extraction"));
                }
            }
            Kind::Binary if bytes_cap.is_none() => {
                let mut doc = self.document(obj, None);
                self.attach(&mut doc, obj, None, None);
                return Ok(Some(Item::from(doc)));
            }
            Kind::Binary => {
                if let Some(cap) = bytes_cap.filter(|cap| obj.size > *cap) {
                    return fail(over_cap(obj.size, cap, "attachment"));
                }
            }
            Kind::Text if obj.size > text_cap => {
                return fail(over_cap(obj.size, text_cap, "text"));
            }
            _ => {}
        }
        if let Some(class) = obj
            .storage_class
            .as_deref()
            .filter(|c| ARCHIVED.contains(c))
        {
            return fail(format!(
                "the object is archived in storage class {class}; restore it before syncing"
            ));
        }

        // The request and the reading of its body are one attempt: a body
        // that breaks off half-way is tried again like a failed request.
        let downloaded = self
            .api
            .call(|| self.download(obj, kind, text_cap, bytes_cap, extract))
            .await;
        match downloaded {
            Ok(Downloaded::Vanished) => Ok(None),
            Ok(Downloaded::Item(item)) => Ok(Some(item)),
            // Core's rule: rejected credentials or throttling past the retry
            // policy end the stream; anything else fails this object only.
            Err(e) if e.ends_stream() => Err(e),
            Err(e) => fail(e.message().to_owned()),
        }
    }

    async fn download(
        &self,
        obj: &Listed,
        kind: Kind,
        text_cap: u64,
        bytes_cap: Option<u64>,
        extract: bool,
    ) -> Result<Downloaded> {
        let id = self.naming.id(&obj.key);
        let fail = |reason: String| {
            Ok(Downloaded::Item(Item::Failure(DocumentFailure::new(
                id.clone(),
                reason,
            ))))
        };
        let Some(response) = self.api.get(&obj.key).await? else {
            return Ok(Downloaded::Vanished);
        };
        let meta = ResponseMeta::of(&response);
        let mut body = response.body;
        let mut bytes = Vec::with_capacity(usize::try_from(obj.size.min(1 << 20)).unwrap_or(0));
        let mut kind = kind;
        if kind == Kind::Unknown && !extract {
            let header_says_text = meta.content_type.as_deref().is_some_and(text::is_text_mime);
            match read_at_least(&mut body, &mut bytes, text::SNIFF_BYTES).await {
                Ok(_) => {}
                Err(e) => return Err(self.api.body_error(&obj.key, e)),
            }
            let head = &bytes[..bytes.len().min(text::SNIFF_BYTES)];
            kind = if header_says_text || text::looks_like_text(head) {
                Kind::Text
            } else {
                Kind::Binary
            };
        }
        let size = meta.size.unwrap_or(obj.size);
        let cap = match kind {
            _ if extract => {
                let limit = extract_limit();
                if size > limit {
                    return fail(over_cap(size, limit, "extraction"));
                }
                limit
            }
            Kind::Text if size > text_cap => return fail(over_cap(size, text_cap, "text")),
            Kind::Text => text_cap,
            _ => match bytes_cap {
                None => {
                    // Only sniffed: the entry needs no bytes.
                    drop(body);
                    let mut doc = self.document(obj, Some(&meta));
                    self.attach(&mut doc, obj, Some(&meta), None);
                    return Ok(Downloaded::Item(Item::from(doc)));
                }
                Some(cap) if size > cap => return fail(over_cap(size, cap, "attachment")),
                Some(cap) => cap,
            },
        };
        match read_body(&mut body, &mut bytes, cap).await {
            Ok(true) => {}
            Ok(false) => {
                return fail(format!(
                    "the object grew past the {cap}-byte cap while it was read"
                ));
            }
            Err(e) => return Err(self.api.body_error(&obj.key, e)),
        }
        self.api.read(bytes.len());
        let mut doc = self.document(obj, Some(&meta));
        if extract {
            #[cfg(feature = "extract")]
            {
                let extractor = connector_extract::Extractor::default();
                let (name, mime) = (file_name(&obj.key), meta.content_type.as_deref());
                if let Err(e) = extractor.file_into(&mut doc, &bytes, name, mime).await {
                    return fail(e.to_string());
                }
            }
            let keep = bytes_cap.is_some_and(|cap| bytes.len() as u64 <= cap);
            self.attach(&mut doc, obj, Some(&meta), keep.then_some(bytes));
        } else if kind == Kind::Text {
            let text = match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            let ct = meta
                .content_type
                .clone()
                .unwrap_or_else(|| text::content_type(Path::new(file_name(&obj.key)), true));
            doc.metadata.insert("content_type".into(), ct.into());
            doc.sections.push(Section::text(text));
        } else {
            self.attach(&mut doc, obj, Some(&meta), Some(bytes));
        }
        Ok(Downloaded::Item(Item::from(doc)))
    }

    /// The document with everything but its content.
    fn document(&self, obj: &Listed, meta: Option<&ResponseMeta>) -> Document {
        let key = &obj.key;
        let name = file_name(key);
        let mut doc = Document::new("s3", self.naming.id(key), name);
        doc.url = Some(self.naming.url(key));
        doc.updated_at = meta.and_then(|m| m.last_modified).or(obj.last_modified);
        doc.hierarchy.push(self.config.bucket.clone());
        let parents: Vec<&str> = key.trim_end_matches('/').split('/').collect();
        doc.hierarchy.extend(
            parents[..parents.len().saturating_sub(1)]
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| (*p).to_owned()),
        );
        let md = &mut doc.metadata;
        md.insert("bucket".into(), self.config.bucket.clone().into());
        md.insert("key".into(), key.clone().into());
        let size = meta.and_then(|m| m.size).unwrap_or(obj.size);
        md.insert("size".into(), size.to_string().into());
        if let Some(etag) = meta
            .and_then(|m| m.etag.clone())
            .or_else(|| obj.etag.clone())
        {
            md.insert("etag".into(), etag.into());
        }
        if let Some(class) = &obj.storage_class {
            md.insert("storage_class".into(), class.clone().into());
        }
        if let Some(ext) = Path::new(name).extension().and_then(|e| e.to_str()) {
            md.insert("extension".into(), ext.to_ascii_lowercase().into());
        }
        doc
    }

    /// Add the attachment entry (and its content type) for a non-text object.
    fn attach(
        &self,
        doc: &mut Document,
        obj: &Listed,
        meta: Option<&ResponseMeta>,
        bytes: Option<Vec<u8>>,
    ) {
        let name = file_name(&obj.key);
        let content_type = meta
            .and_then(|m| m.content_type.clone())
            .unwrap_or_else(|| text::content_type(Path::new(name), false));
        doc.metadata
            .insert("content_type".into(), content_type.clone().into());
        let mut attachment = Attachment::new(name);
        attachment.content_type = Some(content_type);
        attachment.size = Some(meta.and_then(|m| m.size).unwrap_or(obj.size));
        attachment.url = doc.url.clone();
        attachment.bytes = bytes;
        doc.attachments.push(attachment);
    }
}

/// Whether an object of this name goes through text extraction.
fn extracts(name: &str) -> bool {
    #[cfg(feature = "extract")]
    return connector_extract::Extractor::supports(name, None);
    #[cfg(not(feature = "extract"))]
    {
        let _ = name;
        false
    }
}

/// The largest object downloaded for extraction.
fn extract_limit() -> u64 {
    #[cfg(feature = "extract")]
    return connector_extract::Extractor::default().download_cap();
    #[cfg(not(feature = "extract"))]
    0
}

enum Downloaded {
    Item(Item),
    Vanished,
}

/// What a `GetObject` response says about the object.
struct ResponseMeta {
    content_type: Option<String>,
    etag: Option<String>,
    last_modified: Option<DateTime<Utc>>,
    size: Option<u64>,
}

impl ResponseMeta {
    fn of(r: &GetObjectOutput) -> Self {
        Self {
            // Uploads without a type get a generic default (`binary/octet-stream`
            // on AWS): the key's extension says more.
            content_type: r
                .content_type()
                .filter(|ct| !is_generic_mime(ct))
                .map(str::to_owned),
            etag: r.e_tag().map(unquote),
            last_modified: r.last_modified().and_then(to_chrono),
            size: r.content_length().and_then(|n| u64::try_from(n).ok()),
        }
    }
}

fn is_generic_mime(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.is_empty()
        || essence.eq_ignore_ascii_case("binary/octet-stream")
        || essence.eq_ignore_ascii_case("application/octet-stream")
}

fn over_cap(size: u64, cap: u64, what: &str) -> String {
    format!(
        "object is {size} bytes, over the {cap}-byte {what} cap; raise the cap or exclude the key"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls() {
        assert_eq!(file_name("a/b/c.txt"), "c.txt");
        assert_eq!(file_name("a/b/"), "b");
        assert_eq!(file_name("top"), "top");
        let aws = Naming::new("bkt", None);
        assert_eq!(aws.id("a/b c.txt"), "s3://bkt/a/b c.txt");
        assert_eq!(aws.url("a/b c.txt"), "s3://bkt/a/b c.txt");
        let minio = Url::parse("http://127.0.0.1:9000/").unwrap();
        let local = Naming::new("bkt", Some(&minio));
        assert_eq!(local.id("a/é x.md"), "http://127.0.0.1:9000/bkt/a/é x.md");
        assert_eq!(
            local.url("a/é x.md"),
            "http://127.0.0.1:9000/bkt/a/%C3%A9%20x.md"
        );
        let marker = Listed {
            key: "folder/".into(),
            size: 0,
            etag: None,
            last_modified: None,
            storage_class: None,
        };
        assert!(is_directory_marker(&marker));
    }
}
