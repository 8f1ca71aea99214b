//! The parts of Microsoft Graph v1.0 payloads this connector reads, named as
//! Graph names them (`site`, `drive`, `driveItem`, `permission`,
//! `sitePage`, …). Every field is optional or defaulted: Graph omits what is
//! empty or not selected, and a missing field must never fail a whole page.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// A collection response: `value` plus the paging links.
///
/// ```
/// use connector_sharepoint::model::Collection;
/// let page: Collection<serde_json::Value> = serde_json::from_str(
///     r#"{"value": [], "@odata.deltaLink": "https://graph.microsoft.com/v1.0/drives/b!x/root/delta?token=abc"}"#,
/// )?;
/// assert!(page.next_link.is_none() && page.delta_link.is_some());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Deserialize)]
pub struct Collection<T> {
    /// The items of this page.
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    /// The next page, when there is one.
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
    /// Delta queries: the link for the next round of changes, on the last page.
    #[serde(rename = "@odata.deltaLink", default)]
    pub delta_link: Option<String>,
}

/// A SharePoint site (`microsoft.graph.site`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
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
pub struct Drive {
    /// `b!…`.
    pub id: String,
    /// Library name (`Documents`, `Shared Documents`, `Policies`).
    #[serde(default)]
    pub name: Option<String>,
    /// `documentLibrary` for libraries.
    #[serde(default)]
    pub drive_type: Option<String>,
    /// The library in the browser.
    #[serde(default)]
    pub web_url: Option<String>,
}

impl Drive {
    /// The library name, or its id when unnamed.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.id.clone())
    }
}

/// One identity (`microsoft.graph.identity`); SharePoint adds `email` for users.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// Object id.
    #[serde(default)]
    pub id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Email (users), or login name.
    #[serde(default)]
    pub email: Option<String>,
    /// SharePoint login name (site users and groups).
    #[serde(default)]
    pub login_name: Option<String>,
}

/// `identitySet` / `sharePointIdentitySet`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySet {
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
pub struct ItemReference {
    /// The drive.
    #[serde(default)]
    pub drive_id: Option<String>,
    /// The parent folder's item id.
    #[serde(default)]
    pub id: Option<String>,
    /// `/drives/{drive-id}/root:/Folder/Sub` (absent in delta responses of
    /// SharePoint libraries).
    #[serde(default)]
    pub path: Option<String>,
    /// The site.
    #[serde(default)]
    pub site_id: Option<String>,
}

/// `file` facet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileFacet {
    /// MIME type Graph detected.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Hashes (`quickXorHash` on SharePoint).
    #[serde(default)]
    pub hashes: Option<Value>,
}

/// `folder` facet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderFacet {
    /// Direct children.
    #[serde(default)]
    pub child_count: Option<u64>,
}

/// One file or folder (`microsoft.graph.driveItem`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveItem {
    /// Item id, unique within the drive.
    pub id: String,
    /// File or folder name.
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
    pub folder: Option<FolderFacet>,
    /// Present on the drive's root folder.
    #[serde(default)]
    pub root: Option<Value>,
    /// Present on items deleted since the last delta round.
    #[serde(default)]
    pub deleted: Option<Value>,
    /// A short-lived pre-authenticated download URL (files only).
    #[serde(rename = "@microsoft.graph.downloadUrl", default)]
    pub download_url: Option<String>,
}

/// A sharing link on a permission.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharingLink {
    /// `anonymous`, `organization`, `users`, `existingAccess`.
    #[serde(default)]
    pub scope: Option<String>,
    /// `view`, `edit`, `embed`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// One permission on an item (`microsoft.graph.permission`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    /// Permission id.
    #[serde(default)]
    pub id: Option<String>,
    /// `read`, `write`, `owner`, …
    #[serde(default)]
    pub roles: Vec<String>,
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
pub struct SitePage {
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
pub struct CanvasLayout {
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
pub struct HorizontalSection {
    /// Columns left to right.
    #[serde(default)]
    pub columns: Vec<WebPartContainer>,
}

/// A `horizontalSectionColumn` or the `verticalSection`: web parts in order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebPartContainer {
    /// Web parts top to bottom.
    #[serde(default)]
    pub webparts: Vec<WebPart>,
}

/// A `webPart`: a `textWebPart` has `innerHtml`; a `standardWebPart` has
/// `data` (read for its title and description).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebPart {
    /// `#microsoft.graph.textWebPart`, `#microsoft.graph.standardWebPart`.
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    /// HTML of a text web part.
    #[serde(default)]
    pub inner_html: Option<String>,
    /// Data of a standard web part.
    #[serde(default)]
    pub data: Option<Value>,
}
