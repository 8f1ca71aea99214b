//! Drive API v3 payloads, as far as the connector reads them, and the
//! `fields` masks that ask for exactly that.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Folders.
pub(crate) const FOLDER: &str = "application/vnd.google-apps.folder";
/// Shortcuts to another file.
pub(crate) const SHORTCUT: &str = "application/vnd.google-apps.shortcut";
/// Google Docs.
pub(crate) const DOCUMENT: &str = "application/vnd.google-apps.document";
/// Google Sheets.
pub(crate) const SPREADSHEET: &str = "application/vnd.google-apps.spreadsheet";
/// Google Slides.
pub(crate) const PRESENTATION: &str = "application/vnd.google-apps.presentation";
/// The prefix of Google Workspace types (no bytes; exported or nothing).
pub(crate) const GOOGLE_APPS: &str = "application/vnd.google-apps.";

/// The file fields the connector maps (`files(…)` in a listing, `file(…)`
/// in a change): nothing else is fetched.
pub(crate) const FILE_FIELDS: &str = "id,name,mimeType,parents,webViewLink,createdTime,modifiedTime,size,trashed,ownedByMe,driveId,owners(displayName,emailAddress),lastModifyingUser(displayName,emailAddress),shortcutDetails(targetId,targetMimeType)";
/// The same with the inline permissions (My Drive files the user can share).
pub(crate) const FILE_FIELDS_WITH_PERMISSIONS: &str = "id,name,mimeType,parents,webViewLink,createdTime,modifiedTime,size,trashed,ownedByMe,driveId,owners(displayName,emailAddress),lastModifyingUser(displayName,emailAddress),shortcutDetails(targetId,targetMimeType),permissions(type,emailAddress,domain,allowFileDiscovery,deleted)";
/// What an id listing needs.
pub(crate) const SLIM_FIELDS: &str = "nextPageToken,files(id,mimeType,ownedByMe)";
/// What a permission listing reads.
pub(crate) const PERMISSION_FIELDS: &str =
    "nextPageToken,permissions(id,type,emailAddress,domain,allowFileDiscovery,deleted)";

/// A file resource (`drive#file`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct File {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub parents: Vec<String>,
    #[serde(default)]
    pub web_view_link: Option<String>,
    #[serde(default)]
    pub created_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub modified_time: Option<DateTime<Utc>>,
    /// Bytes, as a decimal string (int64 in JSON is a string).
    #[serde(default, deserialize_with = "int64")]
    pub size: Option<u64>,
    #[serde(default)]
    pub trashed: bool,
    #[serde(default)]
    pub owned_by_me: Option<bool>,
    #[serde(default)]
    pub drive_id: Option<String>,
    #[serde(default)]
    pub owners: Vec<User>,
    #[serde(default)]
    pub last_modifying_user: Option<User>,
    #[serde(default)]
    pub shortcut_details: Option<ShortcutDetails>,
    /// Present only when asked for and the user may share the file; never
    /// for shared drive items.
    #[serde(default)]
    pub permissions: Option<Vec<Permission>>,
}

impl File {
    pub fn mime(&self) -> &str {
        self.mime_type.as_deref().unwrap_or("")
    }

    pub fn is_folder(&self) -> bool {
        self.mime() == FOLDER
    }
}

/// A user as Drive shows one.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email_address: Option<String>,
}

impl User {
    pub fn label(&self) -> Option<String> {
        self.email_address
            .clone()
            .or_else(|| self.display_name.clone())
    }
}

/// Where a shortcut points.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ShortcutDetails {
    pub target_id: String,
    #[serde(default)]
    pub target_mime_type: Option<String>,
}

/// A permission resource (`drive#permission`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Permission {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub email_address: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub allow_file_discovery: Option<bool>,
    #[serde(default)]
    pub deleted: bool,
}

/// A change resource (`drive#change`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Change {
    #[serde(default)]
    pub change_type: Option<String>,
    #[serde(default)]
    pub removed: bool,
    #[serde(default)]
    pub file_id: Option<String>,
    #[serde(default)]
    pub file: Option<File>,
}

/// A shared drive (`drive#drive`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SharedDrive {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// `changes.getStartPageToken`'s answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartPageToken {
    pub start_page_token: String,
}

/// Drive's int64 fields are JSON strings; numbers are taken too.
fn int64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Text(s)) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}
