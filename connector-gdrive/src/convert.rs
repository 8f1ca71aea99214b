//! Drive payloads → documents: what a file's body is, its metadata, and
//! its permissions as [`Access`].

use connector_core::{Access, Attachment, Document, MetadataValue, Section};

use crate::model::{DOCUMENT, File, GOOGLE_APPS, PRESENTATION, Permission, SPREADSHEET};

/// How a file's body is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Content {
    /// Exported (`files.export`) as this type, read as text.
    ExportText(&'static str),
    /// Exported as this type, read by the extraction crate.
    ExportExtract(&'static str),
    /// Downloaded (`alt=media`) and read as text.
    DownloadText,
    /// Downloaded and read by the extraction crate.
    DownloadExtract,
    /// Listed as an attachment (its bytes only when they fit the attachment cap).
    Attachment,
    /// Nothing to read (forms, drawings, sites…): metadata only.
    None,
}

/// Google's `.xlsx` type, for Sheets exported to the extraction crate.
pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// How `file` is read, given the Docs format and whether extraction is on.
pub(crate) fn content_of(file: &File, docs_mime: &'static str, extract: bool) -> Content {
    let mime = file.mime();
    let name = file.name.as_deref().unwrap_or("");
    match mime {
        DOCUMENT => Content::ExportText(docs_mime),
        // Every sheet through the extraction crate; without it, CSV holds
        // the first sheet only.
        SPREADSHEET if extract && extracts(name, Some(XLSX)) => Content::ExportExtract(XLSX),
        SPREADSHEET => Content::ExportText("text/csv"),
        PRESENTATION => Content::ExportText("text/plain"),
        m if m.starts_with(GOOGLE_APPS) => Content::None,
        m if is_text(name, m) => Content::DownloadText,
        m if extract && extracts(name, Some(m)) => Content::DownloadExtract,
        _ => Content::Attachment,
    }
}

/// Whether the extraction crate reads this format (in this build).
pub(crate) fn extracts(name: &str, mime: Option<&str>) -> bool {
    #[cfg(feature = "extract")]
    return connector_extract::Extractor::supports(name, mime);
    #[cfg(not(feature = "extract"))]
    {
        let _ = (name, mime);
        false
    }
}

/// Plain text formats read as they are.
fn is_text(name: &str, mime: &str) -> bool {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    mime.starts_with("text/")
        || matches!(
            mime,
            "application/json" | "application/xml" | "application/x-yaml" | "application/yaml"
        )
        || ext.is_some_and(|e| {
            matches!(
                e.as_str(),
                "txt" | "md" | "markdown" | "csv" | "tsv" | "json" | "yaml" | "yml" | "log"
            )
        })
}

/// A file's document without its body: title, link, times, owners,
/// metadata, access. `id` is the document id (a shortcut's own id when
/// `file` is its target).
pub(crate) fn document(id: &str, file: &File, access: Option<Access>) -> Document {
    let title = file.name.clone().unwrap_or_else(|| file.id.clone());
    let mut doc = Document::new("gdrive", id, title);
    doc.url = file.web_view_link.clone();
    doc.created_at = file.created_time;
    doc.updated_at = file.modified_time;
    doc.authors = file.owners.iter().filter_map(|u| u.label()).collect();
    if let Some(mime) = &file.mime_type {
        doc.metadata
            .insert("mime_type".into(), MetadataValue::from(mime.as_str()));
    }
    if let Some(drive) = &file.drive_id {
        doc.metadata
            .insert("shared_drive".into(), MetadataValue::from(drive.as_str()));
    }
    if let Some(editor) = file.last_modifying_user.as_ref().and_then(|u| u.label()) {
        doc.metadata
            .insert("last_modified_by".into(), MetadataValue::from(editor));
    }
    if !file.parents.is_empty() {
        doc.metadata
            .insert("parents".into(), MetadataValue::Many(file.parents.clone()));
    }
    doc.access = access;
    doc
}

/// The body as text.
pub(crate) fn text_body(doc: &mut Document, text: &str) {
    let text = text.trim_start_matches('\u{feff}').trim();
    if !text.is_empty() {
        doc.sections.push(Section::text(text));
    }
}

/// The file as an attachment entry (with bytes when given).
pub(crate) fn attachment(doc: &mut Document, file: &File, bytes: Option<Vec<u8>>) {
    let mut a = Attachment::new(file.name.clone().unwrap_or_else(|| file.id.clone()));
    a.content_type = file.mime_type.clone();
    a.size = file.size;
    a.url = file.web_view_link.clone();
    a.bytes = bytes;
    doc.attachments.push(a);
}

/// Who may see a file, from its permissions. Every role (reader,
/// commenter, writer, file organizer, organizer, owner) can read.
///
/// - `user` → its email in `users`; `group` → its email in `groups`;
/// - `domain` → `domain:<name>` in `groups` when members can find the file
///   (`allowFileDiscovery`), `domain-link:<name>` when only those with the
///   link can;
/// - `anyone` → `public` when the file can be found on the web; a file
///   shared with anyone *holding the link* is not public (a search index
///   would show it to people who do not have the link): it gets the group
///   `anyone-with-link`, for a host that decides otherwise.
///
/// Deleted permissions (`deleted: true`) grant nothing.
pub(crate) fn access_of(permissions: &[Permission]) -> Access {
    let mut access = Access::default();
    for p in permissions.iter().filter(|p| !p.deleted) {
        let discoverable = p.allow_file_discovery.unwrap_or(false);
        match p.kind.as_str() {
            "user" => access.users.extend(p.email_address.clone()),
            "group" => access.groups.extend(p.email_address.clone()),
            "domain" => {
                if let Some(domain) = &p.domain {
                    let prefix = if discoverable {
                        "domain"
                    } else {
                        "domain-link"
                    };
                    access.groups.push(format!("{prefix}:{domain}"));
                }
            }
            "anyone" if discoverable => access.public = true,
            "anyone" => access.groups.push("anyone-with-link".into()),
            _ => {}
        }
    }
    for list in [&mut access.users, &mut access.groups] {
        for v in list.iter_mut() {
            *v = v.to_ascii_lowercase();
        }
        list.sort();
        list.dedup();
    }
    access
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(json: serde_json::Value) -> Vec<Permission> {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn permissions_of_every_type() {
        let access = access_of(&perms(serde_json::json!([
            {"kind": "drive#permission", "id": "1", "type": "user", "role": "owner", "emailAddress": "Ann@acme.com"},
            {"kind": "drive#permission", "id": "2", "type": "group", "role": "reader", "emailAddress": "eng@acme.com"},
            {"kind": "drive#permission", "id": "3", "type": "domain", "role": "reader", "domain": "acme.com", "allowFileDiscovery": true},
            {"kind": "drive#permission", "id": "4", "type": "domain", "role": "commenter", "domain": "partner.com", "allowFileDiscovery": false},
            {"kind": "drive#permission", "id": "5", "type": "anyone", "role": "reader", "allowFileDiscovery": false},
            {"kind": "drive#permission", "id": "6", "type": "user", "role": "writer", "emailAddress": "gone@acme.com", "deleted": true}
        ])));
        assert_eq!(access.users, ["ann@acme.com"]);
        assert_eq!(
            access.groups,
            [
                "anyone-with-link",
                "domain-link:partner.com",
                "domain:acme.com",
                "eng@acme.com"
            ]
        );
        assert!(!access.public);
        let public = access_of(&perms(serde_json::json!([
            {"id": "anyoneWithLink", "type": "anyone", "role": "reader", "allowFileDiscovery": true}
        ])));
        assert!(public.public);
    }

    #[test]
    fn content_by_type() {
        let file = |name: &str, mime: &str| -> File {
            serde_json::from_value(serde_json::json!({"id": "f", "name": name, "mimeType": mime}))
                .unwrap()
        };
        assert_eq!(
            content_of(&file("Plan", DOCUMENT), "text/markdown", true),
            Content::ExportText("text/markdown")
        );
        assert_eq!(
            content_of(&file("Deck", PRESENTATION), "text/markdown", true),
            Content::ExportText("text/plain")
        );
        assert_eq!(
            content_of(&file("Budget", SPREADSHEET), "text/markdown", false),
            Content::ExportText("text/csv")
        );
        assert_eq!(
            content_of(
                &file("Form", "application/vnd.google-apps.form"),
                "text/plain",
                true
            ),
            Content::None
        );
        assert_eq!(
            content_of(&file("notes.md", "text/markdown"), "text/plain", true),
            Content::DownloadText
        );
        assert_eq!(
            content_of(
                &file("a.bin", "application/octet-stream"),
                "text/plain",
                true
            ),
            Content::Attachment
        );
        #[cfg(feature = "extract")]
        {
            assert_eq!(
                content_of(&file("r.pdf", "application/pdf"), "text/plain", true),
                Content::DownloadExtract
            );
            assert_eq!(
                content_of(&file("Budget", SPREADSHEET), "text/markdown", true),
                Content::ExportExtract(XLSX)
            );
        }
    }
}
