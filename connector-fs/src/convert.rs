//! One walked file → one [`Document`] (or a per-document failure).

use std::fs::File;
use std::io::Read;
use std::path::{Component, Path};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use connector_core::{Attachment, Document, DocumentFailure, Item, Section, TimeWindow};

use crate::config::FsConfig;
use crate::walk::FileEntry;
use connector_core::text::{self, Kind};

/// The document id of a path relative to the root: its components joined
/// by `/`. Bytes that are not UTF-8 are written as `\xNN`, so every file
/// keeps a distinct, stable id.
pub fn path_id(rel: &Path) -> String {
    let mut id = String::new();
    for component in rel.components() {
        let Component::Normal(part) = component else {
            continue;
        };
        if !id.is_empty() {
            id.push('/');
        }
        match part.to_str() {
            Some(s) => id.push_str(s),
            None => push_escaped(&mut id, part),
        }
    }
    id
}

#[cfg(unix)]
fn push_escaped(out: &mut String, part: &std::ffi::OsStr) {
    use std::os::unix::ffi::OsStrExt;
    for chunk in part.as_bytes().utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02X}"));
        }
    }
}

#[cfg(not(unix))]
fn push_escaped(out: &mut String, part: &std::ffi::OsStr) {
    out.push_str(&part.to_string_lossy());
}

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
) -> Option<Item> {
    let updated_at = utc(entry.modified);
    if let (Some(window), Some(t)) = (window, updated_at) {
        if !window.contains(t) {
            return None;
        }
    }
    let id = path_id(&entry.rel);
    Some(match build(entry, &id, root_name, config, updated_at) {
        Ok(doc) => Item::from(doc),
        Err(reason) => Item::Failure(DocumentFailure::new(id, reason)),
    })
}

fn build(
    entry: &FileEntry,
    id: &str,
    root_name: &str,
    config: &FsConfig,
    updated_at: Option<DateTime<Utc>>,
) -> Result<Document, String> {
    let name = entry
        .rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| id.to_owned());
    let mut doc = Document::new("fs", id, name.clone());
    doc.url = url::Url::from_file_path(&entry.abs).ok().map(String::from);
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
    doc.metadata
        .insert("size".into(), entry.len.to_string().into());

    let mut kind = text::kind_by_name(&entry.rel);
    let mut head = Vec::new();
    if kind != Kind::Binary {
        // One open for sniffing and reading: the file may change or vanish
        // between the walk and now, and what we read is what we report.
        let file = File::open(&entry.abs).map_err(|e| describe_open_error(&e))?;
        let cap = config.max_text_bytes;
        let mut reader = file.take(cap.saturating_add(1));
        if kind == Kind::Unknown {
            head.resize(text::SNIFF_BYTES, 0);
            let n = read_up_to(&mut reader, &mut head).map_err(|e| format!("cannot read: {e}"))?;
            head.truncate(n);
            kind = if text::looks_like_text(&head) {
                Kind::Text
            } else {
                Kind::Binary
            };
        }
        if kind == Kind::Text {
            if entry.len > cap {
                return Err(format!(
                    "text file is {} bytes, over the {cap}-byte text cap; raise the cap or ignore the file",
                    entry.len
                ));
            }
            let mut bytes = head;
            reader
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read: {e}"))?;
            if bytes.len() as u64 > cap {
                return Err(format!(
                    "text file grew past the {cap}-byte text cap while being read"
                ));
            }
            let text = match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            doc.metadata.insert(
                "content_type".into(),
                text::content_type(&entry.rel, true).into(),
            );
            doc.sections.push(Section::text(text));
            return Ok(doc);
        }
    }
    let content_type = text::content_type(&entry.rel, false);
    doc.metadata
        .insert("content_type".into(), content_type.clone().into());
    let mut attachment = Attachment::new(name);
    attachment.content_type = Some(content_type);
    attachment.size = Some(entry.len);
    attachment.url = doc.url.clone();
    if config.attachment_bytes && entry.len <= config.max_attachment_bytes {
        let file = File::open(&entry.abs).map_err(|e| describe_open_error(&e))?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.len).unwrap_or(0));
        file.take(config.max_attachment_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read: {e}"))?;
        if bytes.len() as u64 <= config.max_attachment_bytes {
            attachment.bytes = Some(bytes);
        }
    }
    doc.attachments.push(attachment);
    Ok(doc)
}

fn describe_open_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "file vanished before it could be read".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => format!("cannot open: {e}"),
    }
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entry(dir: &Path, rel: &str) -> FileEntry {
        let abs = dir.join(rel);
        let meta = std::fs::metadata(&abs).ok();
        FileEntry {
            rel: PathBuf::from(rel),
            abs,
            len: meta.as_ref().map(|m| m.len()).unwrap_or(0),
            modified: meta.as_ref().and_then(|m| m.modified().ok()),
            created: None,
        }
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

        let with_bytes = FsConfig::default().attachment_bytes(true, 10);
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

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_get_distinct_escaped_ids() {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        assert_eq!(path_id(Path::new(name)), "caf\\xE9.txt");
        assert_eq!(path_id(Path::new("a/b/c.txt")), "a/b/c.txt");
    }
}
