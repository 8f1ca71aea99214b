//! The parts of Microsoft Graph v1.0 payloads this connector reads, named as
//! Graph names them (`site`, `drive`, `driveItem`, `permission`, `sitePage`).
//!
//! Collections are read in two steps: the envelope ([`Listing`], [`Delta`])
//! with its items as raw JSON, where a missing `value` is a decode error of
//! the request, never an empty page; then each item on its own, so one odd
//! record is one failure. Inside a record, properties are optional as Graph
//! documents them: it omits what is empty or not selected.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A collection answer (`value` and, except on the last page,
/// `@odata.nextLink`).
#[derive(Debug, Deserialize)]
pub(crate) struct Listing {
    /// The items of this page, still raw.
    pub value: Vec<Value>,
    /// The next page; absent on the last one.
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
}

/// A delta answer: `value` and exactly one of `@odata.nextLink` (more
/// pages) or `@odata.deltaLink` (the last page, and where the next round of
/// changes starts). Which one is there is checked by the client.
#[derive(Debug, Deserialize)]
pub(crate) struct Delta {
    /// The changed items of this page, still raw.
    pub value: Vec<Value>,
    /// The next page of this round.
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
    /// Where the next round starts.
    #[serde(rename = "@odata.deltaLink", default)]
    pub delta_link: Option<String>,
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

/// The `id` of a raw record, for naming it when it does not decode.
pub(crate) fn raw_id(raw: &Value) -> Option<&str> {
    raw.get("id").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_collection_without_value_is_not_an_empty_page() {
        assert!(serde_json::from_value::<Listing>(json!({"unexpected": true})).is_err());
        assert!(serde_json::from_value::<Delta>(json!({"@odata.deltaLink": "x"})).is_err());
        let last: Listing = serde_json::from_value(json!({"value": []})).unwrap();
        assert!(last.value.is_empty() && last.next_link.is_none());
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
