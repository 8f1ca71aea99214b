//! What to sync and how to sign in: [`GoogleDriveConfig`], checked once by
//! [`GoogleDriveConnector::new`](crate::GoogleDriveConnector::new).

use std::fmt;
use std::path::PathBuf;

use connector_core::options::SourceOptions;
use connector_core::url::check_base_url;
use connector_core::{Error, Result};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The Drive API v3, the default `api_url`.
pub const DEFAULT_API_URL: &str = "https://www.googleapis.com/drive/v3";
/// Google's OAuth 2.0 token endpoint, the default `token_url`.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// The one scope the connector asks for: read files, their content and
/// their permissions.
pub const DRIVE_READONLY_SCOPE: &str = "https://www.googleapis.com/auth/drive.readonly";

/// Where the request rate starts when `options.rate` is unset (requests per
/// second); it then adapts to what Drive allows.
pub(crate) const DEFAULT_RATE: f64 = 10.0;
/// Exports, downloads and permission reads in flight at once when
/// `options.concurrency` is unset.
pub(crate) const DEFAULT_CONCURRENCY: usize = 8;
const DEFAULT_MAX_TEXT_BYTES: u64 = 10 * 1024 * 1024;

/// Settings of a [`GoogleDriveConnector`](crate::GoogleDriveConnector),
/// from code or from JSON/TOML. Unknown fields are refused; secrets are
/// never serialized.
///
/// With no scope set, the user's My Drive is synced.
///
/// ```
/// use connector_gdrive::{GoogleCredentials, GoogleDriveConfig};
///
/// let config: GoogleDriveConfig = serde_json::from_value(serde_json::json!({
///     "credentials": {"service_account": {"key_path": "/etc/gdrive/key.json", "subject": "admin@acme.com"}},
///     "shared_drives": ["Engineering"],
///     "folders": ["1a2B3cD4e5F6g7H8i9J0"],
///     "options": {"concurrency": 16}
/// }))?;
/// assert!(!config.my_drive);
/// assert!(matches!(config.credentials, Some(GoogleCredentials::ServiceAccount(_))));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GoogleDriveConfig {
    /// How to sign in. Never serialized.
    #[serde(default, skip_serializing)]
    pub credentials: Option<GoogleCredentials>,
    /// The signed-in user's My Drive: the files they own outside shared
    /// drives. On by default when no other scope is set.
    #[serde(default)]
    pub my_drive: bool,
    /// Shared drives by id or by name (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_drives: Vec<String>,
    /// Every shared drive the user is a member of.
    #[serde(default)]
    pub all_shared_drives: bool,
    /// Folders by id: the files under them, at any depth.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<String>,
    /// Read each file's permissions into `Document::access` (default true).
    #[serde(default = "yes")]
    pub permissions: bool,
    /// How Google Docs are exported (default Markdown).
    #[serde(default)]
    pub docs_format: DocsFormat,
    /// Download PDF and Office files, and export Sheets as `.xlsx`, for the
    /// extraction crate (with the `extract` feature, on by default).
    #[serde(default = "yes")]
    pub extract: bool,
    /// Largest text file read, in bytes (default 10 MiB).
    #[serde(default = "default_max_text_bytes")]
    pub max_text_bytes: u64,
    /// Drive API base URL (default [`DEFAULT_API_URL`]).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Token endpoint (default: the key file's `token_uri`, else
    /// [`DEFAULT_TOKEN_URL`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// Rate, concurrency (exports, downloads and permission reads at once,
    /// default 8), retry, timeouts, attachment bytes, TLS roots, proxy.
    #[serde(default)]
    pub options: SourceOptions,
}

/// How Google Docs are exported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocsFormat {
    /// `text/markdown`: headings, lists and tables kept.
    #[default]
    Markdown,
    /// `text/plain`.
    Text,
}

impl DocsFormat {
    pub(crate) fn mime(self) -> &'static str {
        match self {
            DocsFormat::Markdown => "text/markdown",
            DocsFormat::Text => "text/plain",
        }
    }
}

/// How the connector signs in to Google.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum GoogleCredentials {
    /// A service account with domain-wide delegation, acting for `subject`.
    ServiceAccount(ServiceAccount),
    /// A user's OAuth client and refresh token.
    Oauth(UserOAuth),
}

impl fmt::Debug for GoogleCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoogleCredentials::ServiceAccount(s) => f
                .debug_struct("ServiceAccount")
                .field("key_path", &s.key_path)
                .field("subject", &s.subject)
                .finish_non_exhaustive(),
            GoogleCredentials::Oauth(o) => f
                .debug_struct("Oauth")
                .field("client_id", &o.client_id)
                .finish_non_exhaustive(),
        }
    }
}

/// A service account key (the JSON file Google issues) and the user it
/// acts for.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServiceAccount {
    /// The key file's contents (JSON).
    #[serde(default)]
    pub key: Option<SecretString>,
    /// A key file, read when the connector is built.
    #[serde(default)]
    pub key_path: Option<PathBuf>,
    /// The user to impersonate (domain-wide delegation); without it the
    /// service account sees only its own files.
    #[serde(default)]
    pub subject: Option<String>,
}

impl ServiceAccount {
    /// The key file at `path`, acting for `subject`.
    pub fn from_file(path: impl Into<PathBuf>, subject: Option<String>) -> Self {
        Self {
            key: None,
            key_path: Some(path.into()),
            subject,
        }
    }

    /// The key file's JSON text, acting for `subject`.
    pub fn from_json(key: impl Into<SecretString>, subject: Option<String>) -> Self {
        Self {
            key: Some(key.into()),
            key_path: None,
            subject,
        }
    }
}

/// An OAuth client and a user's refresh token (obtained once, e.g. with
/// core's PKCE login).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UserOAuth {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: SecretString,
    /// The user's refresh token.
    pub refresh_token: SecretString,
}

impl UserOAuth {
    /// `client_id`/`client_secret` with the user's `refresh_token`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        refresh_token: impl Into<SecretString>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
        }
    }
}

impl Default for GoogleDriveConfig {
    fn default() -> Self {
        Self {
            credentials: None,
            my_drive: false,
            shared_drives: Vec::new(),
            all_shared_drives: false,
            folders: Vec::new(),
            permissions: true,
            docs_format: DocsFormat::default(),
            extract: true,
            max_text_bytes: DEFAULT_MAX_TEXT_BYTES,
            api_url: default_api_url(),
            token_url: None,
            options: SourceOptions::default(),
        }
    }
}

impl GoogleDriveConfig {
    /// A configuration signing in with `credentials` (My Drive unless a
    /// scope is added).
    pub fn new(credentials: GoogleCredentials) -> Self {
        Self {
            credentials: Some(credentials),
            ..Self::default()
        }
    }

    /// Add a shared drive by id or name.
    pub fn shared_drive(mut self, drive: impl Into<String>) -> Self {
        self.shared_drives.push(drive.into());
        self
    }

    /// Add a folder by id.
    pub fn folder(mut self, folder: impl Into<String>) -> Self {
        self.folders.push(folder.into());
        self
    }

    /// Sync My Drive too.
    pub fn with_my_drive(mut self) -> Self {
        self.my_drive = true;
        self
    }

    /// Checked and normalized: My Drive when no scope is set, names
    /// trimmed, URLs and options valid.
    pub(crate) fn validated(mut self) -> Result<Self> {
        self.shared_drives = clean(&self.shared_drives, "shared_drives")?;
        self.folders = clean(&self.folders, "folders")?;
        if self.shared_drives.is_empty() && self.folders.is_empty() && !self.all_shared_drives {
            self.my_drive = true;
        }
        check_base_url("api_url", &self.api_url)?;
        if let Some(url) = &self.token_url {
            check_base_url("token_url", url)?;
        }
        if self.max_text_bytes == 0 {
            return Err(Error::config(
                "max_text_bytes is 0; give the largest text file to read, in bytes",
            ));
        }
        self.options.validate()?;
        Ok(self)
    }
}

fn clean(values: &[String], field: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim();
        if v.is_empty() {
            return Err(Error::config(format!("{field} has an empty entry")));
        }
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    Ok(out)
}

fn yes() -> bool {
    true
}

fn default_max_text_bytes() -> u64 {
    DEFAULT_MAX_TEXT_BYTES
}

fn default_api_url() -> String {
    DEFAULT_API_URL.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn my_drive_by_default_and_unknown_fields_refused() {
        let config = GoogleDriveConfig::default().validated().unwrap();
        assert!(config.my_drive);
        let bad = serde_json::from_value::<GoogleDriveConfig>(serde_json::json!({"drives": []}));
        assert!(bad.is_err());
        let e = GoogleDriveConfig::default()
            .shared_drive(" ")
            .validated()
            .unwrap_err();
        assert!(e.to_string().contains("shared_drives"), "{e}");
    }

    #[test]
    fn secrets_never_serialized_or_shown() {
        let config = GoogleDriveConfig::new(GoogleCredentials::Oauth(UserOAuth::new(
            "cid",
            "s3cret",
            "1//rt-s3cret",
        )));
        let json = serde_json::to_string(&config).unwrap();
        assert!(!json.contains("s3cret"), "{json}");
        assert!(!format!("{config:?}").contains("s3cret"));
        let sa = GoogleCredentials::ServiceAccount(ServiceAccount::from_json(
            r#"{"private_key":"s3cret"}"#,
            Some("admin@acme.com".into()),
        ));
        assert!(!format!("{sa:?}").contains("s3cret"));
    }
}
