//! Graph objects → [`Document`]s: a file of a library, a site page, and
//! permissions → [`Access`].

use connector_core::text;
use connector_core::{Access, Attachment, Document, MetadataValue, Section};

use crate::html::{fragments_to_text, html_to_text};
use crate::model::{DriveItem, IdentitySet, Permission, Site, SitePage, WebPartContainer};

/// The source kind of every document.
pub(crate) const SOURCE: &str = "sharepoint";

/// The pseudo-group an organization-wide sharing link grants access to
/// (everyone signed in to the tenant).
pub(crate) const ORGANIZATION_GROUP: &str = "organization";

/// The document id of a file: stable per drive and item.
///
/// ```
/// assert_eq!(connector_sharepoint::file_id("b!abc", "01XYZ"), "drives/b!abc/items/01XYZ");
/// ```
pub fn file_id(drive_id: &str, item_id: &str) -> String {
    format!("drives/{drive_id}/items/{item_id}")
}

/// The document id of a site page: stable per site and page.
///
/// ```
/// assert_eq!(connector_sharepoint::page_id("s1", "p1"), "sites/s1/pages/p1");
/// ```
pub fn page_id(site_id: &str, page_id: &str) -> String {
    format!("sites/{site_id}/pages/{page_id}")
}

/// Whether a file is read as text: by its name (the SDK-wide rules of
/// [`connector_core::text`]) or a text MIME type such as `text/*` or JSON.
pub(crate) fn is_text(name: &str, mime: Option<&str>) -> bool {
    text::kind_by_name(std::path::Path::new(name)) == text::Kind::Text
        || mime.is_some_and(text::is_text_mime)
}

fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty()).then(|| ext.to_ascii_lowercase())
}

fn is_html(name: &str, mime: Option<&str>) -> bool {
    matches!(extension(name).as_deref(), Some("html" | "htm"))
        || mime.is_some_and(|m| m.starts_with("text/html"))
}

/// A file's bytes as text: HTML converted, anything else decoded as UTF-8
/// (invalid sequences replaced, a byte-order mark dropped).
pub(crate) fn file_text(name: &str, mime: Option<&str>, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if is_html(name, mime) {
        html_to_text(text)
    } else {
        text.to_owned()
    }
}

/// Where a file lives, for ids, hierarchy and metadata.
#[derive(Debug, Clone)]
pub(crate) struct Library {
    /// The site.
    pub(crate) site: Site,
    /// The library's drive id.
    pub(crate) drive_id: String,
    /// The library's name.
    pub(crate) name: String,
}

/// What a file's document carries besides its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// The file's text.
    Text(String),
    /// An attachment entry; bytes when they were asked for and fit the cap.
    Attachment(Option<Vec<u8>>),
}

fn put(doc: &mut Document, key: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        doc.metadata.insert(key.to_owned(), MetadataValue::One(v));
    }
}

fn add_author(doc: &mut Document, who: Option<&IdentitySet>) {
    if let Some(name) = who.and_then(IdentitySet::label)
        && !doc.authors.contains(&name)
    {
        doc.authors.push(name);
    }
}

/// The document of a file in `folder` (`/General/Specs`, `` for the root).
pub(crate) fn file_document(
    library: &Library,
    folder: &str,
    item: &DriveItem,
    body: Body,
    access: Option<Access>,
) -> Document {
    let name = item.name.clone().unwrap_or_else(|| item.id.clone());
    let mut doc = Document::new(SOURCE, file_id(&library.drive_id, &item.id), name.clone());
    doc.url = item.web_url.clone();
    doc.created_at = item.created_date_time;
    doc.updated_at = item.last_modified_date_time;
    add_author(&mut doc, item.created_by.as_ref());
    add_author(&mut doc, item.last_modified_by.as_ref());
    doc.hierarchy.push(library.site.label());
    doc.hierarchy.push(library.name.clone());
    doc.hierarchy.extend(
        folder
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
    let mime = item.file.as_ref().and_then(|f| f.mime_type.clone());
    put(&mut doc, "site", Some(library.site.label()));
    put(&mut doc, "site_url", library.site.web_url.clone());
    put(&mut doc, "library", Some(library.name.clone()));
    put(&mut doc, "path", Some(format!("{folder}/{name}")));
    put(&mut doc, "mime_type", mime.clone());
    put(&mut doc, "size", item.size.map(|s| s.to_string()));
    put(&mut doc, "etag", item.e_tag.clone());
    put(&mut doc, "ctag", item.c_tag.clone());
    put(
        &mut doc,
        "created_by",
        item.created_by.as_ref().and_then(IdentitySet::label),
    );
    put(
        &mut doc,
        "created_by_email",
        item.created_by.as_ref().and_then(IdentitySet::email),
    );
    put(
        &mut doc,
        "modified_by",
        item.last_modified_by.as_ref().and_then(IdentitySet::label),
    );
    put(
        &mut doc,
        "modified_by_email",
        item.last_modified_by.as_ref().and_then(IdentitySet::email),
    );
    put(&mut doc, "content_type", Some("file".into()));
    match body {
        Body::Text(text) => {
            if !text.trim().is_empty() {
                doc.sections.push(match &item.web_url {
                    Some(url) => Section::with_link(text, url.clone()),
                    None => Section::text(text),
                });
            }
        }
        Body::Attachment(bytes) => {
            let mut attachment = Attachment::new(name);
            attachment.content_type = mime;
            attachment.size = item.size;
            // The web URL, never the pre-authenticated download URL (it
            // works for anyone holding it).
            attachment.url = item.web_url.clone();
            attachment.bytes = bytes;
            doc.attachments.push(attachment);
        }
    }
    doc.access = access;
    doc
}

/// The page's absolute URL: Graph gives it absolute or relative to the site.
fn page_url(site: &Site, page: &SitePage) -> Option<String> {
    let url = page.web_url.as_deref()?;
    if url.starts_with("https://") || url.starts_with("http://") {
        return Some(url.to_owned());
    }
    let base = site.web_url.as_deref()?.trim_end_matches('/');
    Some(format!("{base}/{}", url.trim_start_matches('/')))
}

/// The text of a page's text web parts, in reading order (each horizontal
/// section's columns left to right, then the vertical section), through
/// one rich-text writer.
pub(crate) fn page_text(page: &SitePage) -> String {
    let Some(layout) = &page.canvas_layout else {
        return String::new();
    };
    let mut containers: Vec<&WebPartContainer> = layout
        .horizontal_sections
        .iter()
        .flat_map(|s| s.columns.iter())
        .collect();
    if let Some(vertical) = &layout.vertical_section {
        containers.push(vertical);
    }
    fragments_to_text(
        containers
            .into_iter()
            .flat_map(|c| c.webparts.iter())
            .filter_map(|part| part.inner_html.as_deref()),
    )
}

/// The document of a modern site page.
pub(crate) fn page_document(site: &Site, page: &SitePage) -> Document {
    let title = page
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| page.name.clone())
        .unwrap_or_else(|| page.id.clone());
    let mut doc = Document::new(SOURCE, page_id(&site.id, &page.id), title);
    doc.url = page_url(site, page);
    doc.created_at = page.created_date_time;
    doc.updated_at = page.last_modified_date_time;
    add_author(&mut doc, page.created_by.as_ref());
    add_author(&mut doc, page.last_modified_by.as_ref());
    doc.hierarchy.push(site.label());
    doc.hierarchy.push("Site Pages".into());
    if let Some(description) = page.description.as_ref().filter(|d| !d.trim().is_empty()) {
        doc.sections.push(Section::text(description.trim()));
    }
    let body = page_text(page);
    if !body.is_empty() {
        doc.sections.push(match &doc.url {
            Some(url) => Section::with_link(body, url.clone()),
            None => Section::text(body),
        });
    }
    put(&mut doc, "site", Some(site.label()));
    put(&mut doc, "site_url", site.web_url.clone());
    put(&mut doc, "content_type", Some("page".into()));
    put(&mut doc, "page_name", page.name.clone());
    put(&mut doc, "etag", page.e_tag.clone());
    put(
        &mut doc,
        "created_by",
        page.created_by.as_ref().and_then(IdentitySet::label),
    );
    put(
        &mut doc,
        "modified_by",
        page.last_modified_by.as_ref().and_then(IdentitySet::label),
    );
    doc
}

/// Who may see an item, from its permissions: users by email (or id),
/// Entra groups by id, SharePoint groups by name; an anonymous link makes
/// it public, an organization link adds [`ORGANIZATION_GROUP`].
pub(crate) fn access_from_permissions(permissions: &[Permission]) -> Access {
    let mut access = Access::default();
    for p in permissions {
        if let Some(link) = &p.link {
            match link.scope.as_deref() {
                Some("anonymous") => access.public = true,
                Some("organization") => access.groups.push(ORGANIZATION_GROUP.to_owned()),
                _ => {}
            }
        }
        let direct = p.granted_to_v2.as_ref().or(p.granted_to.as_ref());
        let shared = if p.granted_to_identities_v2.is_empty() {
            &p.granted_to_identities
        } else {
            &p.granted_to_identities_v2
        };
        for set in direct.into_iter().chain(shared.iter()) {
            add_identities(&mut access, set);
        }
    }
    access.users.sort();
    access.users.dedup();
    access.groups.sort();
    access.groups.dedup();
    access
}

fn add_identities(access: &mut Access, set: &IdentitySet) {
    if let Some(user) = set.user.as_ref().or(set.site_user.as_ref())
        && let Some(who) = user
            .email
            .clone()
            .or_else(|| user.login_name.clone())
            .or_else(|| user.id.clone())
    {
        access.users.push(who);
    }
    if let Some(group) = &set.group
        && let Some(g) = group.id.clone().or_else(|| group.display_name.clone())
    {
        access.groups.push(g);
    }
    if let Some(group) = &set.site_group
        && let Some(g) = group
            .display_name
            .clone()
            .or_else(|| group.login_name.clone())
            .or_else(|| group.id.clone())
    {
        access.groups.push(g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_by_name_or_mime_type() {
        assert!(is_text("notes.MD", None));
        assert!(is_text("data", Some("text/plain")));
        assert!(!is_text(
            "deck.pptx",
            Some("application/vnd.openxmlformats-officedocument.presentationml.presentation")
        ));
    }

    #[test]
    fn permissions_map_to_access() {
        let perms: Vec<Permission> = serde_json::from_value(json!([
            {"id": "1", "roles": ["owner"], "grantedToV2": {"siteGroup": {"displayName": "Eng Owners", "id": "3", "loginName": "Eng Owners"}}},
            {"id": "2", "roles": ["write"], "grantedToV2": {"user": {"displayName": "Ada", "email": "ada@contoso.com", "id": "u1"}}},
            {"id": "3", "roles": ["read"], "link": {"scope": "users", "type": "view"},
             "grantedToIdentitiesV2": [{"user": {"displayName": "Bo", "email": "bo@contoso.com"}}, {"group": {"displayName": "Sales", "id": "g-1"}}]},
            {"id": "4", "roles": ["read"], "link": {"scope": "organization", "type": "view"}},
            {"id": "5", "roles": ["read"], "grantedTo": {"user": {"displayName": "Old", "id": "u-old"}}}
        ]))
        .unwrap();
        let access = access_from_permissions(&perms);
        assert!(!access.public);
        assert_eq!(access.users, ["ada@contoso.com", "bo@contoso.com", "u-old"]);
        assert_eq!(access.groups, ["Eng Owners", "g-1", "organization"]);
        let anon: Vec<Permission> = serde_json::from_value(json!([
            {"id": "9", "roles": ["read"], "link": {"scope": "anonymous", "type": "view"}}
        ]))
        .unwrap();
        assert!(access_from_permissions(&anon).public);
    }
}
