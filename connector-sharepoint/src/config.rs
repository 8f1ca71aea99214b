//! What to sync and how to reach it: [`SharePointConfig`], checked once by
//! [`SharePointConnector::new`](crate::SharePointConnector::new).

use connector_core::url::check_base_url;
use connector_core::{Error, Result};

/// Microsoft Graph v1.0, the default `graph_url`.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";
/// Microsoft Entra ID (global cloud), the default `login_url`.
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";
/// The scope an app-only token for Graph asks for.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Settings of a [`SharePointConnector`](crate::SharePointConnector).
///
/// ```
/// use connector_sharepoint::SharePointConfig;
///
/// let config = SharePointConfig::new("contoso.onmicrosoft.com")
///     .site("https://contoso.sharepoint.com/sites/Eng")
///     .library("Documents")
///     .folder("/Specs");
/// assert_eq!(config.graph_url, "https://graph.microsoft.com/v1.0");
/// assert_eq!(config.token_url(), "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SharePointConfig {
    /// Entra ID tenant: its id (a GUID) or a verified domain.
    pub tenant: String,
    /// Site URLs to sync (`https://contoso.sharepoint.com/sites/Eng`); at least one.
    pub sites: Vec<String>,
    /// Only these document libraries (by name, case-insensitive); empty: all.
    pub libraries: Vec<String>,
    /// Only files under these folders (`/Specs/2024`); empty: the whole library.
    pub folders: Vec<String>,
    /// Graph base URL (default [`DEFAULT_GRAPH_URL`]).
    pub graph_url: String,
    /// Entra ID base URL (default [`DEFAULT_LOGIN_URL`]); the token endpoint
    /// is `{login_url}/{tenant}/oauth2/v2.0/token`.
    pub login_url: String,
    /// The token scope (default [`GRAPH_SCOPE`]; national clouds use their
    /// Graph host, e.g. `https://graph.microsoft.us/.default`).
    pub scope: String,
    /// Sync modern site pages too (default true).
    pub include_pages: bool,
    /// Read each file's permissions into `Document::access` (one more
    /// request per file; default false).
    pub permissions: bool,
    /// Download the bytes of non-text files into the attachment entry (default false).
    pub attachment_bytes: bool,
    /// Largest text file read, in bytes (default 10 MiB); larger ones are per-document failures.
    pub max_text_bytes: u64,
    /// Largest attachment downloaded, in bytes (default 20 MiB); larger
    /// ones are listed without bytes.
    pub max_attachment_bytes: u64,
    /// Downloads and permission reads in flight at once (default 8).
    pub concurrency: usize,
    /// Requests per second (GCRA quota); bursts up to twice that (default 10).
    pub requests_per_second: f64,
}

impl SharePointConfig {
    /// Defaults for `tenant` (id or domain); add sites with [`site`](Self::site).
    pub fn new(tenant: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into().trim().to_owned(),
            sites: Vec::new(),
            libraries: Vec::new(),
            folders: Vec::new(),
            graph_url: DEFAULT_GRAPH_URL.to_owned(),
            login_url: DEFAULT_LOGIN_URL.to_owned(),
            scope: GRAPH_SCOPE.to_owned(),
            include_pages: true,
            permissions: false,
            attachment_bytes: false,
            max_text_bytes: 10 * 1024 * 1024,
            max_attachment_bytes: 20 * 1024 * 1024,
            concurrency: 8,
            requests_per_second: 10.0,
        }
    }

    /// Sync the site at `url` (repeatable).
    pub fn site(mut self, url: impl Into<String>) -> Self {
        self.sites
            .push(url.into().trim().trim_end_matches('/').to_owned());
        self
    }

    /// Only the library named `name` (repeatable).
    pub fn library(mut self, name: impl Into<String>) -> Self {
        self.libraries.push(name.into());
        self
    }

    /// Only files under `path` inside each library (repeatable).
    pub fn folder(mut self, path: impl Into<String>) -> Self {
        self.folders.push(normalize_folder(&path.into()));
        self
    }

    /// Override the Graph base URL (tests, national clouds).
    pub fn graph_url(mut self, url: impl Into<String>) -> Self {
        self.graph_url = url.into().trim().trim_end_matches('/').to_owned();
        self
    }

    /// Override the Entra ID base URL (tests, national clouds).
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = url.into().trim().trim_end_matches('/').to_owned();
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

    /// Whether to download non-text files' bytes (up to `max_bytes` each).
    pub fn attachment_bytes(mut self, yes: bool, max_bytes: u64) -> Self {
        self.attachment_bytes = yes;
        self.max_attachment_bytes = max_bytes;
        self
    }

    /// Largest text file read.
    pub fn max_text_bytes(mut self, bytes: u64) -> Self {
        self.max_text_bytes = bytes;
        self
    }

    /// Downloads in flight at once.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// Set the request quota.
    pub fn requests_per_second(mut self, rps: f64) -> Self {
        self.requests_per_second = rps;
        self
    }

    /// The OAuth 2.0 token endpoint of the tenant.
    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.login_url, self.tenant)
    }

    pub(crate) fn validated(self) -> Result<Self> {
        let tenant_ok = !self.tenant.is_empty()
            && self
                .tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !tenant_ok {
            return Err(Error::config(
                "--tenant must be the Entra ID tenant id (a GUID) or its domain (contoso.onmicrosoft.com)",
            ));
        }
        if self.sites.is_empty() {
            return Err(Error::config(
                "give at least one --site URL, such as https://contoso.sharepoint.com/sites/Eng",
            ));
        }
        for site in &self.sites {
            site_path(site)?;
        }
        check_base_url("--graph-url", &self.graph_url)?;
        check_base_url("--login-url", &self.login_url)?;
        if !(self.requests_per_second.is_finite() && self.requests_per_second > 0.0) {
            return Err(Error::config(
                "--rate must be a positive number of requests per second",
            ));
        }
        if !(1..=64).contains(&self.concurrency) {
            return Err(Error::config("concurrency must be between 1 and 64"));
        }
        if self.max_text_bytes == 0 {
            return Err(Error::config("max_text_bytes must be positive"));
        }
        Ok(self)
    }
}

/// `https://contoso.sharepoint.com/sites/Eng` → (`contoso.sharepoint.com`,
/// `/sites/Eng`); the root site has the path `/`.
pub(crate) fn site_path(url: &str) -> Result<(String, String)> {
    let parsed = url::Url::parse(url).map_err(|_| {
        Error::config(format!(
            "--site {url:?} is not a URL; give the site's address, such as https://contoso.sharepoint.com/sites/Eng"
        ))
    })?;
    let host = match (parsed.scheme(), parsed.host_str()) {
        ("https" | "http", Some(host)) => host.to_ascii_lowercase(),
        _ => {
            return Err(Error::config(format!(
                "--site {url:?} must be an https:// SharePoint site address"
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

    #[test]
    fn validation() {
        assert!(SharePointConfig::new("t").validated().is_err(), "no site");
        assert!(
            SharePointConfig::new("bad tenant/../x")
                .site("https://c.sharepoint.com")
                .validated()
                .is_err()
        );
        let err = SharePointConfig::new("t")
            .site("https://c.sharepoint.com")
            .graph_url("http://graph.example.com")
            .validated()
            .unwrap_err();
        assert!(err.to_string().contains("--graph-url"), "{err}");
        let ok = SharePointConfig::new("t")
            .site("https://c.sharepoint.com/sites/x/")
            .folder("Specs/")
            .validated()
            .unwrap();
        assert_eq!(ok.sites, ["https://c.sharepoint.com/sites/x"]);
        assert_eq!(ok.folders, ["/Specs"]);
    }
}
