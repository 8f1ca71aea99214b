//! One walked file → one [`Document`] (or a per-document failure).

use std::path::Component;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use connector_core::text::{self, Kind};
use connector_core::{Attachment, Document, DocumentFailure, Item, Section, TimeWindow};

use crate::config::FsConfig;
use crate::file_url::file_url;
use crate::id::path_id;
use crate::read::{StopFlag, open_listed, read_up_to};
use crate::walk::FileEntry;

fn utc(t: Option<SystemTime>) -> Option<DateTime<Utc>> {
    t.map(DateTime::<Utc>::from)
}

/// Turn `entry` into an item, or `None` when it is outside `window`.
/// Blocking: reads the file.
pub(crate) fn to_item(
    entry: &FileEntry,
    root_name: &str,
    config: &FsConfig,
    window: Option<&TimeWindow>,
    stop: &StopFlag,
) -> Option<Item> {
    let updated_at = utc(entry.modified);
    if let (Some(window), Some(t)) = (window, updated_at)
        && !window.contains(t)
    {
        return None;
    }
    let id = path_id(&entry.rel);
    Some(
        match build(entry, &id, root_name, config, updated_at, stop) {
            Ok(doc) => Item::from(doc),
            Err(reason) => Item::Failure(DocumentFailure::new(id, reason)),
        },
    )
}

fn build(
    entry: &FileEntry,
    id: &str,
    root_name: &str,
    config: &FsConfig,
    updated_at: Option<DateTime<Utc>>,
    stop: &StopFlag,
) -> Result<Document, String> {
    let name = entry
        .rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| id.to_owned());
    let mut doc = Document::new("fs", id, name.clone());
    doc.url = file_url(&entry.abs);
    doc.updated_at = updated_at;
    doc.created_at = utc(entry.created);
    doc.hierarchy.push(root_name.to_owned());
    if let Some(parent) = entry.rel.parent() {
        doc.hierarchy
            .extend(parent.components().filter_map(|c| match c {
                Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
                _ => None,
            }));
    }
    doc.metadata.insert("path".into(), id.into());
    if let Some(ext) = entry.rel.extension() {
        doc.metadata.insert(
            "extension".into(),
            ext.to_string_lossy().to_ascii_lowercase().into(),
        );
    }

    let mut kind = text::kind_by_name(&entry.rel);
    let cap = config.options.attachment_max_bytes;
    let want_bytes = cap.is_some_and(|cap| entry.len <= cap);
    let mut len = entry.len;
    let mut attachment_bytes = None;
    let extract = extracts(config, &name);
    if kind != Kind::Binary || want_bytes || extract {
        // One open for sniffing and reading, checked to be the file the
        // walk listed: what we read is what we report.
        let (mut file, now) = open_listed(&entry.abs, entry.identity)?;
        len = now;
        let mut bytes = Vec::new();
        let mut read = |bytes: &mut Vec<u8>, limit: u64| {
            read_up_to(&mut file, bytes, limit, stop).map_err(|e| e.to_string())
        };
        if kind == Kind::Unknown {
            read(&mut bytes, text::SNIFF_BYTES as u64)?;
            kind = if text::looks_like_text(&bytes) {
                Kind::Text
            } else {
                Kind::Binary
            };
        }
        if kind == Kind::Text {
            let cap = config.max_text_bytes;
            if len > cap {
                return Err(format!(
                    "text file is {len} bytes, over the {cap}-byte text cap; raise the cap or ignore the file"
                ));
            }
            read(&mut bytes, cap.saturating_add(1))?;
            if bytes.len() as u64 > cap {
                return Err(format!(
                    "text file grew past the {cap}-byte text cap while being read"
                ));
            }
            let text = match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            doc.metadata.insert("size".into(), len.to_string().into());
            doc.metadata.insert(
                "content_type".into(),
                text::content_type(&entry.rel, true).into(),
            );
            doc.sections.push(Section::text(text));
            return Ok(doc);
        }
        let cap = cap.unwrap_or(0);
        if extract && kind == Kind::Binary {
            let limit = extract_limit();
            read(&mut bytes, limit.saturating_add(1))?;
            if bytes.len() as u64 > limit {
                return Err(format!(
                    "file is over the {limit}-byte extraction cap; set `extract` to false or ignore the file"
                ));
            }
            extract_into(&mut doc, &bytes, &name)?;
            len = bytes.len() as u64;
            attachment_bytes = (want_bytes && len <= cap).then_some(bytes);
        } else if want_bytes && len <= cap {
            read(&mut bytes, cap.saturating_add(1))?;
            // A file that grew past the cap while being read keeps its
            // entry but not its bytes, like one that was over it.
            attachment_bytes = (bytes.len() as u64 <= cap).then_some(bytes);
        }
    }
    doc.metadata.insert("size".into(), len.to_string().into());
    let content_type = text::content_type(&entry.rel, false);
    doc.metadata
        .insert("content_type".into(), content_type.clone().into());
    let mut attachment = Attachment::new(name);
    attachment.content_type = Some(content_type);
    attachment.size = Some(len);
    attachment.url = doc.url.clone();
    attachment.bytes = attachment_bytes;
    doc.attachments.push(attachment);
    Ok(doc)
}

/// Whether `name` goes through text extraction: on in the config, and a
/// format the extraction crate reads (PDF, Office, OpenDocument, …).
fn extracts(config: &FsConfig, name: &str) -> bool {
    #[cfg(feature = "extract")]
    {
        config.extract && connector_extract::Extractor::supports(name, None)
    }
    #[cfg(not(feature = "extract"))]
    {
        let _ = (config, name);
        false
    }
}

/// The largest file read for extraction.
fn extract_limit() -> u64 {
    #[cfg(feature = "extract")]
    {
        connector_extract::Extractor::default().download_cap()
    }
    #[cfg(not(feature = "extract"))]
    {
        0
    }
}

/// The file's text into `doc`; a file that cannot be read is the
/// document's failure, with the reason.
fn extract_into(doc: &mut Document, bytes: &[u8], name: &str) -> Result<(), String> {
    #[cfg(feature = "extract")]
    {
        let extracted = connector_extract::Extractor::default()
            .extract_blocking(bytes, name, None)
            .map_err(|e| e.to_string())?;
        let link = doc.url.clone();
        extracted.fill(doc, link.as_deref());
    }
    #[cfg(not(feature = "extract"))]
    let _ = (doc, bytes, name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::FileIdentity;
    use std::path::{Path, PathBuf};

    /// What the walk would list for `rel`.
    fn entry(dir: &Path, rel: &str) -> FileEntry {
        let abs = dir.join(rel);
        let meta = std::fs::symlink_metadata(&abs).ok();
        FileEntry {
            rel: PathBuf::from(rel),
            abs,
            len: meta.as_ref().map(|m| m.len()).unwrap_or(0),
            modified: meta.as_ref().and_then(|m| m.modified().ok()),
            created: None,
            identity: meta.as_ref().and_then(FileIdentity::of),
        }
    }

    fn to_item(
        entry: &FileEntry,
        root_name: &str,
        config: &FsConfig,
        window: Option<&TimeWindow>,
    ) -> Option<Item> {
        super::to_item(entry, root_name, config, window, &StopFlag::default())
    }

    #[test]
    fn text_file_becomes_a_section() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("guide")).unwrap();
        std::fs::write(dir.path().join("guide/intro.md"), "# Intro\nhello").unwrap();
        let item = to_item(
            &entry(dir.path(), "guide/intro.md"),
            "docs",
            &FsConfig::default(),
            None,
        );
        let Some(Item::Document(doc)) = item else {
            panic!("{item:?}")
        };
        assert_eq!(doc.id, "guide/intro.md");
        assert_eq!(doc.title, "intro.md");
        assert_eq!(doc.sections[0].text, "# Intro\nhello");
        assert_eq!(doc.hierarchy, ["docs", "guide"]);
        assert!(doc.url.as_deref().unwrap().starts_with("file:///"));
        assert!(doc.attachments.is_empty());
    }

    #[test]
    fn binary_file_becomes_an_attachment_entry() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("blob.bin"), [0u8, 1, 2, 3]).unwrap();
        let item = to_item(
            &entry(dir.path(), "blob.bin"),
            "r",
            &FsConfig::default(),
            None,
        );
        let Some(Item::Document(doc)) = item else {
            panic!("{item:?}")
        };
        assert!(doc.sections.is_empty());
        assert_eq!(doc.attachments[0].size, Some(4));
        assert_eq!(
            doc.attachments[0].content_type.as_deref(),
            Some("application/octet-stream")
        );
        assert_eq!(doc.attachments[0].bytes, None);

        let with_bytes = FsConfig::default().attachment_bytes(10);
        let Some(Item::Document(doc)) =
            to_item(&entry(dir.path(), "blob.bin"), "r", &with_bytes, None)
        else {
            panic!()
        };
        assert_eq!(
            doc.attachments[0].bytes.as_deref(),
            Some(&[0u8, 1, 2, 3][..])
        );
    }

    #[test]
    fn vanished_and_oversized_files_are_failures() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gone.txt"), "x").unwrap();
        let e = entry(dir.path(), "gone.txt");
        std::fs::remove_file(dir.path().join("gone.txt")).unwrap();
        let Some(Item::Failure(f)) = to_item(&e, "r", &FsConfig::default(), None) else {
            panic!()
        };
        assert_eq!(f.id, "gone.txt");
        assert!(f.reason.contains("vanished"), "{}", f.reason);

        std::fs::write(dir.path().join("big.txt"), "x".repeat(100)).unwrap();
        let small = FsConfig::default().max_text_bytes(10);
        let Some(Item::Failure(f)) = to_item(&entry(dir.path(), "big.txt"), "r", &small, None)
        else {
            panic!()
        };
        assert!(
            f.reason.contains("100 bytes, over the 10-byte text cap"),
            "{}",
            f.reason
        );
    }

    #[cfg(feature = "extract")]
    #[test]
    fn office_files_get_their_text_and_broken_ones_fail_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("memo.rtf"),
            r"{\rtf1\ansi Quarterly plan\par Ship the crawler.\par}",
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.docx"), b"PK\x03\x04 not a zip").unwrap();

        let Some(Item::Document(doc)) = to_item(
            &entry(dir.path(), "memo.rtf"),
            "r",
            &FsConfig::default(),
            None,
        ) else {
            panic!("memo.rtf did not extract")
        };
        let text: Vec<&str> = doc.sections.iter().map(|s| s.text.as_str()).collect();
        assert!(text.join("\n").contains("Ship the crawler."), "{text:?}");
        assert_eq!(doc.metadata["extracted_format"], "rtf".to_string().into());
        // The original file stays described: type and size.
        assert_eq!(doc.attachments.len(), 1);
        assert_eq!(doc.attachments[0].size, Some(53));
        assert!(
            doc.sections[0]
                .link
                .as_deref()
                .unwrap()
                .starts_with("file:///")
        );

        let item = to_item(
            &entry(dir.path(), "broken.docx"),
            "r",
            &FsConfig::default(),
            None,
        );
        let Some(Item::Failure(f)) = item else {
            panic!("{item:?}")
        };
        assert_eq!(f.id, "broken.docx");
        assert!(f.reason.contains("broken.docx"), "{}", f.reason);

        let off = FsConfig {
            extract: false,
            ..FsConfig::default()
        };
        let Some(Item::Document(doc)) = to_item(&entry(dir.path(), "broken.docx"), "r", &off, None)
        else {
            panic!("with extraction off a file is an attachment entry")
        };
        assert!(doc.sections.is_empty());
    }
}
