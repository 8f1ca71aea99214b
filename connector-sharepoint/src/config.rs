//! What to sync and how to reach it: [`SharePointConfig`], checked once by
//! [`SharePointConnector::new`](crate::SharePointConnector::new).

use std::fmt;

use connector_core::options::SourceOptions;
use connector_core::url::{Url, check_base_url};
use connector_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Microsoft Graph v1.0, the default `graph_url`.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";
/// Microsoft Entra ID (global cloud), the default `login_url`.
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";
/// The scope an app-only token for Graph asks for.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Where the request rate starts when `options.rate` is unset (requests per
/// second); it then adapts to what Graph allows.
pub(crate) const DEFAULT_RATE: f64 = 10.0;
/// Downloads and permission reads in flight at once when
/// `options.concurrency` is unset.
pub(crate) const DEFAULT_CONCURRENCY: usize = 8;
const DEFAULT_MAX_TEXT_BYTES: u64 = 10 * 1024 * 1024;

/// Settings of a [`SharePointConnector`](crate::SharePointConnector), from
/// code or from JSON/TOML. Unknown fields are refused; the client secret is
/// never serialized.
///
/// ```
/// use connector_sharepoint::SharePointConfig;
///
/// let config = SharePointConfig::new("contoso.onmicrosoft.com")
///     .site("https://contoso.sharepoint.com/sites/Eng")
///     .library("Documents")
///     .folder("/Specs")
///     .credentials("6731de76-14a6-49ae-97bc-6eba6914391e", "secret value");
/// assert_eq!(config.graph_url, "https://graph.microsoft.com/v1.0");
///
/// let from_json: SharePointConfig = serde_json::from_value(serde_json::json!({
///     "tenant": "contoso.onmicrosoft.com",
///     "sites": ["https://contoso.sharepoint.com/sites/Eng"],
///     "permissions": true,
///     "credentials": {"client_id": "6731de76-…", "client_secret": "secret value"},
///     "options": {"rate": 20.0, "concurrency": 4}
/// }))?;
/// assert!(!serde_json::to_string(&from_json)?.contains("secret value"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SharePointConfig {
    /// Entra ID tenant: its id (a GUID) or a verified domain.
    pub tenant: String,
    /// Site URLs to sync (`https://contoso.sharepoint.com/sites/Eng`); at least one.
    pub sites: Vec<String>,
    /// Only these document libraries (by name, case-insensitive); empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub libraries: Vec<String>,
    /// Only files under these folders (`/Specs/2024`); empty: the whole library.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<String>,
    /// Graph base URL (default [`DEFAULT_GRAPH_URL`]).
    #[serde(default = "default_graph_url")]
    pub graph_url: String,
    /// Entra ID base URL (default [`DEFAULT_LOGIN_URL`]); the token endpoint
    /// is `{login_url}/{tenant}/oauth2/v2.0/token`.
    #[serde(default = "default_login_url")]
    pub login_url: String,
    /// The token scope (default [`GRAPH_SCOPE`]; national clouds use their
    /// Graph host, e.g. `https://graph.microsoft.us/.default`).
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Sync modern site pages too (default true).
    #[serde(default = "yes")]
    pub include_pages: bool,
    /// Read each file's permissions into `Document::access` (one more
    /// request per file read; default false).
    #[serde(default)]
    pub permissions: bool,
    /// Download PDF, Office, OpenDocument, RTF and email files and put
    /// their text in sections (with the `extract` feature, on by default;
    /// one more request per such file). A file that cannot be read is a
    /// per-document failure naming the reason.
    #[serde(default = "yes")]
    pub extract: bool,
    /// Largest text file read, in bytes (default 10 MiB); larger ones are
    /// per-document failures.
    #[serde(default = "default_max_text_bytes")]
    pub max_text_bytes: u64,
    /// The app registration's client id and secret. Never serialized; a
    /// host with another token source passes it to
    /// [`SharePointConnector::with_credentials`](crate::SharePointConnector::with_credentials)
    /// instead.
    #[serde(default, skip_serializing)]
    pub credentials: Option<ClientSecret>,
    /// Rate, concurrency (downloads and permission reads at once, default
    /// 8), retry, timeouts, attachment bytes (`attachment_max_bytes`: download
    /// non-text files up to that size), TLS roots, proxy.
    #[serde(default)]
    pub options: SourceOptions,
}

/// An Entra ID app registration's client id and client secret.
///
/// ```
/// use connector_sharepoint::ClientSecret;
/// let app = ClientSecret::new("6731de76-14a6-49ae-97bc-6eba6914391e", "s3cret~value");
/// assert!(!format!("{app:?}").contains("s3cret"));
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSecret {
    /// The application (client) id.
    pub client_id: String,
    /// The secret's value (not its id).
    pub client_secret: SecretString,
}

impl ClientSecret {
    /// `client_id` with `client_secret`.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<SecretString>) -> Self {
        Self {
            client_id: client_id.into().trim().to_owned(),
            client_secret: client_secret.into(),
        }
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecret")
            .field("client_id", &self.client_id)
            .field("client_secret", &format_args!("[REDACTED]"))
            .finish()
    }
}

fn default_graph_url() -> String {
    DEFAULT_GRAPH_URL.to_owned()
}

fn default_login_url() -> String {
    DEFAULT_LOGIN_URL.to_owned()
}

fn default_scope() -> String {
    GRAPH_SCOPE.to_owned()
}

fn default_max_text_bytes() -> u64 {
    DEFAULT_MAX_TEXT_BYTES
}

fn yes() -> bool {
    true
}

impl SharePointConfig {
    /// Defaults for `tenant` (id or domain); add sites with [`site`](Self::site).
    pub fn new(tenant: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            sites: Vec::new(),
            libraries: Vec::new(),
            folders: Vec::new(),
            graph_url: default_graph_url(),
            login_url: default_login_url(),
            scope: default_scope(),
            include_pages: true,
            permissions: false,
            extract: true,
            max_text_bytes: DEFAULT_MAX_TEXT_BYTES,
            credentials: None,
            options: SourceOptions::default(),
        }
    }

    /// Sync the site at `url` (repeatable).
    pub fn site(mut self, url: impl Into<String>) -> Self {
        self.sites.push(url.into());
        self
    }

    /// Only the library named `name` (repeatable).
    pub fn library(mut self, name: impl Into<String>) -> Self {
        self.libraries.push(name.into());
        self
    }

    /// Only files under `path` inside each library (repeatable).
    pub fn folder(mut self, path: impl Into<String>) -> Self {
        self.folders.push(path.into());
        self
    }

    /// Override the Graph base URL (tests, national clouds).
    pub fn graph_url(mut self, url: impl Into<String>) -> Self {
        self.graph_url = url.into();
        self
    }

    /// Override the Entra ID base URL (tests, national clouds).
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = url.into();
        self
    }

    /// Override the token scope (national clouds).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Whether to sync site pages.
    pub fn include_pages(mut self, yes: bool) -> Self {
        self.include_pages = yes;
        self
    }

    /// Whether to read permissions into `Document::access`.
    pub fn permissions(mut self, yes: bool) -> Self {
        self.permissions = yes;
        self
    }

    /// Extract the text of PDF, Office and similar files (default on).
    pub fn extract(mut self, yes: bool) -> Self {
        self.extract = yes;
        self
    }

    /// Largest text file read.
    pub fn max_text_bytes(mut self, bytes: u64) -> Self {
        self.max_text_bytes = bytes;
        self
    }

    /// Sign in with this app registration's client id and secret.
    pub fn credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Self {
        self.credentials = Some(ClientSecret::new(client_id, client_secret));
        self
    }

    /// The shared source options (rate, concurrency, retry, …).
    pub fn options(mut self, options: SourceOptions) -> Self {
        self.options = options;
        self
    }

    /// The OAuth 2.0 token endpoint of the tenant.
    ///
    /// ```
    /// use connector_sharepoint::SharePointConfig;
    /// assert_eq!(
    ///     SharePointConfig::new("contoso.onmicrosoft.com").token_url(),
    ///     "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    /// );
    /// ```
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.login_url.trim().trim_end_matches('/'),
            self.tenant.trim()
        )
    }

    /// The configuration normalized (URLs and folders trimmed), or an error
    /// naming the field and the fix.
    pub(crate) fn validated(mut self) -> Result<Self> {
        self.tenant = self.tenant.trim().to_owned();
        let tenant_ok = !self.tenant.is_empty()
            && self
                .tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !tenant_ok {
            return Err(Error::config(
                "tenant must be the Entra ID tenant id (a GUID) or its domain (contoso.onmicrosoft.com)",
            ));
        }
        if self.sites.is_empty() {
            return Err(Error::config(
                "sites is empty: give at least one site URL, such as https://contoso.sharepoint.com/sites/Eng",
            ));
        }
        for (i, site) in self.sites.iter_mut().enumerate() {
            *site = site.trim().trim_end_matches('/').to_owned();
            site_path(site).map_err(|e| Error::config(format!("sites[{i}]: {}", e.message())))?;
        }
        for (i, library) in self.libraries.iter().enumerate() {
            if library.trim().is_empty() {
                return Err(Error::config(format!(
                    "libraries[{i}] is empty: give a library name such as Documents"
                )));
            }
        }
        for folder in &mut self.folders {
            *folder = normalize_folder(folder);
        }
        for (field, url) in [
            ("graph_url", &mut self.graph_url),
            ("login_url", &mut self.login_url),
        ] {
            *url = url.trim().trim_end_matches('/').to_owned();
            check_base_url(field, url)?;
        }
        if self.max_text_bytes == 0 {
            return Err(Error::config(
                "max_text_bytes must be positive (the default is 10485760, 10 MiB)",
            ));
        }
        if let Some(app) = &self.credentials {
            if app.client_id.trim().is_empty() {
                return Err(Error::config(
                    "credentials.client_id is empty: give the app registration's application (client) id",
                ));
            }
            if app.client_secret.expose_secret().is_empty() {
                return Err(Error::config(
                    "credentials.client_secret is empty: give the client secret's value",
                ));
            }
        }
        self.options
            .validate()
            .map_err(|e| Error::config(format!("options.{}", e.message())))?;
        Ok(self)
    }

    /// What decides which documents a sync yields: a checkpoint made under
    /// another scope cannot continue.
    pub(crate) fn scope_key(&self) -> String {
        let key = serde_json::json!([
            self.sites,
            self.libraries
                .iter()
                .map(|l| l.to_lowercase())
                .collect::<Vec<_>>(),
            self.folders
                .iter()
                .map(|f| f.to_lowercase())
                .collect::<Vec<_>>(),
            self.include_pages,
            self.permissions,
        ]);
        format!("{:016x}", connector_core::paging::id_key(&key.to_string()))
    }
}

/// `https://contoso.sharepoint.com/sites/Eng` → (`contoso.sharepoint.com`,
/// `/sites/Eng`); the root site has the path `/`.
pub(crate) fn site_path(url: &str) -> Result<(String, String)> {
    let parsed = Url::parse(url).map_err(|_| {
        Error::config(format!(
            "{url:?} is not a URL; give the site's address, such as https://contoso.sharepoint.com/sites/Eng"
        ))
    })?;
    let host = match (parsed.scheme(), parsed.host_str()) {
        ("https" | "http", Some(host)) => host.to_ascii_lowercase(),
        _ => {
            return Err(Error::config(format!(
                "{url:?} must be an https:// SharePoint site address"
            )));
        }
    };
    let path = parsed.path().trim_end_matches('/');
    Ok((
        host,
        if path.is_empty() {
            "/".into()
        } else {
            path.into()
        },
    ))
}

/// `Specs/2024/` → `/Specs/2024`.
fn normalize_folder(path: &str) -> String {
    let trimmed = path.trim().trim_matches('/');
    format!("/{trimmed}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn site_paths() {
        assert_eq!(
            site_path("https://Contoso.sharepoint.com/sites/Eng").unwrap(),
            ("contoso.sharepoint.com".into(), "/sites/Eng".into())
        );
        assert_eq!(
            site_path("https://contoso.sharepoint.com").unwrap(),
            ("contoso.sharepoint.com".into(), "/".into())
        );
        assert!(site_path("contoso").is_err());
        assert!(site_path("ftp://contoso.sharepoint.com/x").is_err());
    }

    fn error_of(value: serde_json::Value) -> String {
        let config: SharePointConfig = serde_json::from_value(value).unwrap();
        config.validated().unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_config_field() {
        let base = || json!({"tenant": "t", "sites": ["https://c.sharepoint.com"]});
        let with = |key: &str, value: serde_json::Value| {
            let mut v = base();
            v[key] = value;
            v
        };
        for (config, field) in [
            (with("tenant", json!("bad tenant/../x")), "tenant"),
            (with("sites", json!([])), "sites"),
            (
                with("sites", json!(["https://c.sharepoint.com", "contoso"])),
                "sites[1]",
            ),
            (with("libraries", json!(["Docs", " "])), "libraries[1]"),
            (
                with("graph_url", json!("http://graph.example.com")),
                "graph_url",
            ),
            (
                with("login_url", json!("ftp://login.example.com")),
                "login_url",
            ),
            (with("max_text_bytes", json!(0)), "max_text_bytes"),
            (with("options", json!({"rate": -1})), "options.rate"),
            (
                with("options", json!({"concurrency": 0})),
                "options.concurrency",
            ),
            (
                with(
                    "credentials",
                    json!({"client_id": "app", "client_secret": ""}),
                ),
                "credentials.client_secret",
            ),
        ] {
            let err = error_of(config);
            assert!(err.contains(field), "{field}: {err}");
            assert!(!err.contains("--"), "names a flag, not a field: {err}");
        }
        let unknown = serde_json::from_value::<SharePointConfig>(json!({
            "tenant": "t", "sites": [], "requests_per_second": 5
        }))
        .unwrap_err();
        assert!(unknown.to_string().contains("requests_per_second"));
    }

    #[test]
    fn serde_round_trip_keeps_everything_but_the_secret() {
        let config: SharePointConfig = serde_json::from_value(json!({
            "tenant": "contoso.onmicrosoft.com",
            "sites": ["https://c.sharepoint.com/sites/x/"],
            "folders": ["Specs/"],
            "permissions": true,
            "credentials": {"client_id": "app-id", "client_secret": "s3cret~value"},
            "options": {"rate": 20.0, "attachment_max_bytes": 1024}
        }))
        .unwrap();
        assert!(config.include_pages, "defaults apply");
        assert!(!format!("{config:?}").contains("s3cret"));
        let json = serde_json::to_value(&config).unwrap();
        assert!(!json.to_string().contains("s3cret"), "{json}");
        assert!(json.get("credentials").is_none(), "{json}");
        assert_eq!(json["options"]["rate"], 20.0);
        let back: SharePointConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back.options.attachment_max_bytes, Some(1024));
        let ok = config.validated().unwrap();
        assert_eq!(ok.sites, ["https://c.sharepoint.com/sites/x"]);
        assert_eq!(ok.folders, ["/Specs"]);
    }

    #[test]
    fn the_scope_key_follows_what_is_synced() {
        let a = SharePointConfig::new("t").site("https://c.sharepoint.com");
        let b = a.clone().folder("/Specs");
        let c = a.clone().permissions(true);
        assert_eq!(a.scope_key(), a.clone().scope_key());
        assert_ne!(a.scope_key(), b.scope_key());
        assert_ne!(a.scope_key(), c.scope_key());
        let rated = a.clone().options(SourceOptions::default().with_rate(3.0));
        assert_eq!(a.scope_key(), rated.scope_key(), "not a scope setting");
    }
}
