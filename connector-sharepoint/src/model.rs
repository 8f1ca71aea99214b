//! The parts of Microsoft Graph v1.0 payloads this connector reads, named as
//! Graph names them (`site`, `drive`, `driveItem`, `permission`, `sitePage`).
//!
//! Collections are read in two steps: the [`Envelope`] with its items kept
//! as raw JSON text, where a missing `value` is a decode error of the
//! request, never an empty page; then each item on its own ([`decode`]),
//! so one odd record — wrong types, a lone UTF-16 surrogate, nesting past
//! the parser's limit — is one failure and the rest of the page goes on.
//! Inside a record, properties are optional as Graph documents them: it
//! omits what is empty or not selected.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// A collection answer: `value`, and `@odata.nextLink` except on the last
/// page; a delta answer has `@odata.deltaLink` on its last page instead.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    /// The items of this page, each still raw.
    pub value: Vec<Box<RawValue>>,
    /// The next page.
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
    /// Delta: where the next round starts.
    #[serde(rename = "@odata.deltaLink", default)]
    pub delta_link: Option<String>,
}

/// One record of a page: decoded, or why not.
pub(crate) type Record<T> = Result<T, BadRecord>;

/// A record that does not decode.
#[derive(Debug, Clone)]
pub(crate) struct BadRecord {
    /// Its `id`, when that much could be read.
    pub id: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl BadRecord {
    /// The id, or `?`.
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or("?")
    }
}

/// A record with an id, for naming it and for the pager's progress check.
pub(crate) trait Keyed {
    /// The record's id.
    fn key(&self) -> Option<&str>;
}

/// The id of a record, whatever it is (what a slim listing needs).
#[derive(Debug, Deserialize)]
pub(crate) struct IdOnly {
    #[serde(default)]
    pub id: Option<String>,
}

impl Keyed for IdOnly {
    fn key(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// Decode one raw record.
pub(crate) fn decode<T: DeserializeOwned>(raw: &RawValue) -> Record<T> {
    serde_json::from_str(raw.get()).map_err(|e| BadRecord {
        id: serde_json::from_str::<IdOnly>(raw.get())
            .ok()
            .and_then(|r| r.id),
        reason: e.to_string(),
    })
}

/// The key of a record, decoded or not.
pub(crate) fn record_key<T: Keyed>(record: &Record<T>) -> Option<String> {
    match record {
        Ok(t) => t.key().map(str::to_owned),
        Err(bad) => bad.id.clone(),
    }
}

/// A SharePoint site (`microsoft.graph.site`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Site {
    /// `{hostname},{site-collection-id},{web-id}`.
    pub id: String,
    /// Short name (`Eng`).
    #[serde(default)]
    pub name: Option<String>,
    /// Title shown in SharePoint (`Engineering`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// `https://contoso.sharepoint.com/sites/Eng`.
    #[serde(default)]
    pub web_url: Option<String>,
}

impl Keyed for Site {
    fn key(&self) -> Option<&str> {
        Some(&self.id)
    }
}

impl Site {
    /// What a person calls the site.
    pub fn label(&self) -> String {
        self.display_name
            .clone()
            .or_else(|| self.name.clone())
            .or_else(|| self.web_url.clone())
            .unwrap_or_else(|| self.id.clone())
    }
}

/// A document library (`microsoft.graph.drive`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Drive {
    /// `b!…`.
    pub id: String,
    /// Library name (`Documents`, `Policies`).
    #[serde(default)]
    pub name: Option<String>,
}

impl Keyed for Drive {
    fn key(&self) -> Option<&str> {
        Some(&self.id)
    }
}

impl Drive {
    /// The library name, or its id when unnamed.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.id.clone())
    }
}

/// One identity (`microsoft.graph.identity`); SharePoint adds `email` and
/// `loginName`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Identity {
    /// Object id.
    #[serde(default)]
    pub id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Email (users).
    #[serde(default)]
    pub email: Option<String>,
    /// SharePoint login name (site users and groups).
    #[serde(default)]
    pub login_name: Option<String>,
}

/// `identitySet` / `sharePointIdentitySet`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IdentitySet {
    /// A user.
    #[serde(default)]
    pub user: Option<Identity>,
    /// An application.
    #[serde(default)]
    pub application: Option<Identity>,
    /// An Entra ID group.
    #[serde(default)]
    pub group: Option<Identity>,
    /// A SharePoint site group.
    #[serde(default)]
    pub site_group: Option<Identity>,
    /// A SharePoint site user.
    #[serde(default)]
    pub site_user: Option<Identity>,
}

impl IdentitySet {
    /// The person's (or app's) name, else email.
    pub fn label(&self) -> Option<String> {
        let who = self.user.as_ref().or(self.application.as_ref())?;
        who.display_name.clone().or_else(|| who.email.clone())
    }

    /// The user's email, when Graph gave one.
    pub fn email(&self) -> Option<String> {
        self.user.as_ref()?.email.clone()
    }
}

/// `itemReference`: where an item lives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemReference {
    /// The parent folder's item id.
    #[serde(default)]
    pub id: Option<String>,
    /// `/drives/{drive-id}/root:/Folder/Sub` (absent in delta answers).
    #[serde(default)]
    pub path: Option<String>,
}

/// `file` facet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileFacet {
    /// MIME type Graph detected.
    #[serde(default)]
    pub mime_type: Option<String>,
}

/// One file or folder (`microsoft.graph.driveItem`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DriveItem {
    /// Item id, unique within the drive.
    pub id: String,
    /// File or folder name (absent on deleted items).
    #[serde(default)]
    pub name: Option<String>,
    /// Changes with any change to the item.
    #[serde(default)]
    pub e_tag: Option<String>,
    /// Changes when the content changes.
    #[serde(default)]
    pub c_tag: Option<String>,
    /// Bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Where a person opens it.
    #[serde(default)]
    pub web_url: Option<String>,
    /// Created, UTC.
    #[serde(default)]
    pub created_date_time: Option<DateTime<Utc>>,
    /// Last modified, UTC.
    #[serde(default)]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    /// Who created it.
    #[serde(default)]
    pub created_by: Option<IdentitySet>,
    /// Who changed it last.
    #[serde(default)]
    pub last_modified_by: Option<IdentitySet>,
    /// The parent folder.
    #[serde(default)]
    pub parent_reference: Option<ItemReference>,
    /// Present on files.
    #[serde(default)]
    pub file: Option<FileFacet>,
    /// Present on folders.
    #[serde(default)]
    pub folder: Option<Value>,
    /// Present on the drive's root folder.
    #[serde(default)]
    pub root: Option<Value>,
    /// Present on items deleted (or no longer visible) since the last round.
    #[serde(default)]
    pub deleted: Option<Value>,
    /// The item is in this delta answer because its sharing changed
    /// (`Prefer: deltashowsharingchanges`); Graph sends the string `"True"`.
    #[serde(
        rename = "@microsoft.graph.sharedChanged",
        default,
        deserialize_with = "annotation_flag"
    )]
    pub shared_changed: bool,
}

impl Keyed for DriveItem {
    fn key(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// `"True"`, `"true"` or `true` → set; anything else → not set.
fn annotation_flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}

/// A sharing link on a permission.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SharingLink {
    /// `anonymous`, `organization`, `users`, `existingAccess`.
    #[serde(default)]
    pub scope: Option<String>,
}

/// One permission on an item (`microsoft.graph.permission`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Permission {
    /// Permission id.
    #[serde(default)]
    pub id: Option<String>,
    /// A direct grant.
    #[serde(default)]
    pub granted_to_v2: Option<IdentitySet>,
    /// The people a sharing link was given to.
    #[serde(default)]
    pub granted_to_identities_v2: Vec<IdentitySet>,
    /// Deprecated form of `grantedToV2`.
    #[serde(default)]
    pub granted_to: Option<IdentitySet>,
    /// Deprecated form of `grantedToIdentitiesV2`.
    #[serde(default)]
    pub granted_to_identities: Vec<IdentitySet>,
    /// A sharing link.
    #[serde(default)]
    pub link: Option<SharingLink>,
}

impl Keyed for Permission {
    fn key(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// A modern page (`microsoft.graph.sitePage`) with its `canvasLayout`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SitePage {
    /// Page id (a GUID).
    pub id: String,
    /// File name (`Home.aspx`).
    #[serde(default)]
    pub name: Option<String>,
    /// Page title.
    #[serde(default)]
    pub title: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Absolute, or relative to the site (`SitePages/Home.aspx`).
    #[serde(default)]
    pub web_url: Option<String>,
    /// ETag.
    #[serde(default)]
    pub e_tag: Option<String>,
    /// Created, UTC.
    #[serde(default)]
    pub created_date_time: Option<DateTime<Utc>>,
    /// Last modified, UTC.
    #[serde(default)]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    /// Who created it.
    #[serde(default)]
    pub created_by: Option<IdentitySet>,
    /// Who changed it last.
    #[serde(default)]
    pub last_modified_by: Option<IdentitySet>,
    /// The page's sections and web parts (`$expand=canvasLayout`).
    #[serde(default)]
    pub canvas_layout: Option<CanvasLayout>,
}

impl Keyed for SitePage {
    fn key(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// `canvasLayout`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CanvasLayout {
    /// Sections top to bottom.
    #[serde(default)]
    pub horizontal_sections: Vec<HorizontalSection>,
    /// The side section, when the layout has one.
    #[serde(default)]
    pub vertical_section: Option<WebPartContainer>,
}

/// `horizontalSection`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HorizontalSection {
    /// Columns left to right.
    #[serde(default)]
    pub columns: Vec<WebPartContainer>,
}

/// A `horizontalSectionColumn` or the `verticalSection`: web parts in order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebPartContainer {
    /// Web parts top to bottom.
    #[serde(default)]
    pub webparts: Vec<WebPart>,
}

/// A `webPart`: a `textWebPart` has `innerHtml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebPart {
    /// HTML of a text web part.
    #[serde(default)]
    pub inner_html: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_collection_without_value_is_not_an_empty_page() {
        assert!(serde_json::from_str::<Envelope>(r#"{"unexpected": true}"#).is_err());
        assert!(serde_json::from_str::<Envelope>(r#"{"@odata.deltaLink": "x"}"#).is_err());
        assert!(serde_json::from_str::<Envelope>("[]").is_err());
        let last: Envelope = serde_json::from_str(r#"{"value": []}"#).unwrap();
        assert!(last.value.is_empty() && last.next_link.is_none());
    }

    #[test]
    fn one_odd_record_does_not_take_its_page_with_it() {
        let deep = format!(
            r#"{{"id": "deep", "folder": {}1{}}}"#,
            "[".repeat(500),
            "]".repeat(500)
        );
        let page = format!(
            r#"{{"value": [{{"id": "a"}}, {{"id": "surrogate", "name": "\ud800x"}}, {deep}, {{"id": "typed", "size": "big"}}, {{"id": "b"}}]}}"#
        );
        let envelope: Envelope = serde_json::from_str(&page).unwrap();
        let records: Vec<Record<DriveItem>> = envelope.value.iter().map(|r| decode(r)).collect();
        let good: Vec<&str> = records
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(good, ["a", "b"]);
        let bad: Vec<Option<String>> = records
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|b| b.id.clone())
            .collect();
        // Each is named by its id in the failure.
        assert_eq!(
            bad,
            [
                Some("surrogate".into()),
                Some("deep".into()),
                Some("typed".into())
            ]
        );
    }

    #[test]
    fn the_sharing_annotation_reads_as_graph_sends_it() {
        for (raw, set) in [
            (json!("True"), true),
            (json!(true), true),
            (json!("False"), false),
            (json!(null), false),
        ] {
            let item: DriveItem =
                serde_json::from_value(json!({"id": "1", "@microsoft.graph.sharedChanged": raw}))
                    .unwrap();
            assert_eq!(item.shared_changed, set);
        }
        let plain: DriveItem = serde_json::from_value(json!({"id": "1"})).unwrap();
        assert!(!plain.shared_changed);
    }
}
