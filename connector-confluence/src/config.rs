//! What to sync and how to reach it: [`ConfluenceConfig`], a serde shape a
//! host reads from JSON or TOML, checked once by
//! [`ConfluenceConnector::new`](crate::ConfluenceConnector::new).

use connector_core::credentials::StaticAuth;
use connector_core::deployment::Deployment;
use connector_core::options::SourceOptions;
use connector_core::zone::TimeZoneName;
use connector_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Hosts of Atlassian's cloud: a site (`*.atlassian.net`) or the OAuth 2.0
/// gateway (`api.atlassian.com`).
pub(crate) const CLOUD_HOSTS: &[&str] = &[".atlassian.net", "api.atlassian.com"];

/// Requests per second a sync starts at when `options.rate` is unset; the
/// rate control grows it while the site answers and cuts it when the site
/// throttles or reports its budget running low, so this never caps a site
/// with room to spare.
pub(crate) const DEFAULT_RATE: f64 = 10_000.0;

/// Documents of one listing page finished at once (their missing bodies,
/// comments, attachments) when `options.concurrency` is unset.
pub(crate) const DEFAULT_CONCURRENCY: usize = 8;

/// Settings of a [`ConfluenceConnector`](crate::ConfluenceConnector).
///
/// Built in code:
///
/// ```
/// use connector_confluence::{ConfluenceConfig, Deployment};
///
/// let config = ConfluenceConfig::new("https://acme.atlassian.net")
///     .space("ENG")
///     .space("OPS")
///     .footer_comments(true);
/// assert_eq!(config.resolved_deployment(), Deployment::Cloud);
/// ```
///
/// or read from configuration (unknown fields are refused; secrets are
/// never written back out):
///
/// ```
/// use connector_confluence::{ConfluenceConfig, Deployment};
///
/// let config: ConfluenceConfig = serde_json::from_value(serde_json::json!({
///     "base_url": "https://wiki.acme.com/confluence",
///     "deployment": "data_center",
///     "credentials": {"token": "personal-access-token"},
///     "spaces": ["ENG", "OPS"],
///     "footer_comments": true,
///     "max_comments": 500,
///     "time_zone": "Europe/Berlin",
///     "options": {"rate": 20.0, "concurrency": 4}
/// }))?;
/// assert_eq!(config.resolved_deployment(), Deployment::DataCenter);
/// assert_eq!(config.options.rate, Some(20.0));
/// assert!(!serde_json::to_string(&config)?.contains("personal-access-token"));
/// // A Cloud site on its own domain: the host says nothing, the field does.
/// let custom: ConfluenceConfig = serde_json::from_value(serde_json::json!({
///     "url": "https://wiki.acme.com", "deployment": "cloud"
/// }))?;
/// assert_eq!(custom.resolved_deployment(), Deployment::Cloud);
/// let typo = serde_json::from_value::<ConfluenceConfig>(serde_json::json!({
///     "base_url": "https://acme.atlassian.net", "space": ["ENG"]
/// }));
/// assert!(typo.unwrap_err().to_string().contains("unknown field `space`"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConfluenceConfig {
    /// Base URL of the site: `https://acme.atlassian.net[/wiki]` (Cloud;
    /// `/wiki` is added when missing), `https://wiki.acme.com[/context]`
    /// (Data Center), or for OAuth 2.0
    /// `https://api.atlassian.com/ex/confluence/<cloud id>/wiki`.
    #[serde(alias = "url")]
    pub base_url: String,
    /// Cloud or Data Center; unset: Cloud for `*.atlassian.net` and
    /// `api.atlassian.com`, Data Center otherwise. Set it for a Cloud site
    /// on a custom domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Deployment>,
    /// Who signs in: `{"email", "api_token"}` (Cloud), `{"token"}` (a Data
    /// Center personal access token or an OAuth 2.0 access token). Unset:
    /// give them to [`ConfluenceConnector::new`](crate::ConfluenceConnector::new).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<StaticAuth>,
    /// Space keys to sync; empty means every space the user can see.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spaces: Vec<String>,
    /// Blog posts as well as pages (default true).
    #[serde(default = "yes")]
    pub blog_posts: bool,
    /// Footer comments as sections of their page (one request more per
    /// page; default false).
    #[serde(default)]
    pub footer_comments: bool,
    /// Archived pages as well as current ones (default false).
    #[serde(default)]
    pub archived: bool,
    /// Items per listing page, 1–250 (default 250; Data Center may cap it
    /// lower server-side).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Results per CQL search page, 1–250 (default 50: bodies are expanded).
    #[serde(default = "default_search_page_size")]
    pub search_page_size: u32,
    /// Footer comments read per page at most (default 1 000); past it the
    /// document's `truncated` metadata says `comments`.
    #[serde(default = "default_max_comments")]
    pub max_comments: usize,
    /// Attachments listed per page at most (default 1 000); past it
    /// `truncated` says `attachments`.
    #[serde(default = "default_max_attachments")]
    pub max_attachments: usize,
    /// Labels read per page at most (default 1 000); past it `truncated`
    /// says `labels`.
    #[serde(default = "default_max_labels")]
    pub max_labels: usize,
    /// When attachment bytes are downloaded (`options.attachment_max_bytes`),
    /// put the text of PDF, Office, OpenDocument, RTF and email attachments
    /// into the page's sections, linked to the attachment (with the
    /// `extract` feature; default true). An attachment that cannot be read
    /// keeps the page: its name and the reason go to the `extract_failures`
    /// metadata.
    #[serde(default = "default_extract")]
    pub extract: bool,
    /// The IANA zone CQL dates are read in (`Europe/Berlin`). Unset: the
    /// user's zone from `/rest/api/user/current`; when Confluence does not
    /// say, change searches are widened by 14 hours each way and filtered
    /// exactly, so no change is missed.
    #[serde(
        default,
        with = "connector_core::zone::optional_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub time_zone: Option<TimeZoneName>,
    /// The site URL people open (`https://acme.atlassian.net/wiki`) when the
    /// API is reached through a gateway (OAuth 2.0): document links and ids
    /// are built from it. Default: `base_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    /// Rate, concurrency, retry, timeouts, attachment bytes, TLS roots, proxy.
    #[serde(default)]
    pub options: SourceOptions,
}

fn yes() -> bool {
    true
}

fn default_page_size() -> u32 {
    250
}

fn default_search_page_size() -> u32 {
    50
}

fn default_max_comments() -> usize {
    1_000
}

fn default_max_attachments() -> usize {
    1_000
}

fn default_max_labels() -> usize {
    1_000
}

fn default_extract() -> bool {
    true
}

impl ConfluenceConfig {
    /// Defaults for the site at `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            deployment: None,
            credentials: None,
            spaces: Vec::new(),
            blog_posts: true,
            footer_comments: false,
            archived: false,
            page_size: default_page_size(),
            search_page_size: default_search_page_size(),
            max_comments: default_max_comments(),
            max_attachments: default_max_attachments(),
            max_labels: default_max_labels(),
            extract: default_extract(),
            time_zone: None,
            web_url: None,
            options: SourceOptions::default(),
        }
    }

    /// Sync space `key` (repeatable).
    pub fn space(mut self, key: impl Into<String>) -> Self {
        self.spaces.push(key.into());
        self
    }

    /// Sign in with these credentials.
    pub fn credentials(mut self, credentials: StaticAuth) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Override the deployment detected from the URL.
    pub fn deployment(mut self, deployment: Deployment) -> Self {
        self.deployment = Some(deployment);
        self
    }

    /// Include blog posts (default true).
    pub fn blog_posts(mut self, yes: bool) -> Self {
        self.blog_posts = yes;
        self
    }

    /// Add footer comments as sections (default false: one request more per page).
    pub fn footer_comments(mut self, yes: bool) -> Self {
        self.footer_comments = yes;
        self
    }

    /// Include archived pages (default false).
    pub fn archived(mut self, yes: bool) -> Self {
        self.archived = yes;
        self
    }

    /// Items per listing page.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// Results per CQL search page.
    pub fn search_page_size(mut self, size: u32) -> Self {
        self.search_page_size = size;
        self
    }

    /// Read at most `max` footer comments per page.
    pub fn max_comments(mut self, max: usize) -> Self {
        self.max_comments = max;
        self
    }

    /// List at most `max` attachments per page.
    pub fn max_attachments(mut self, max: usize) -> Self {
        self.max_attachments = max;
        self
    }

    /// Override the time zone CQL dates are read in.
    pub fn time_zone(mut self, tz: TimeZoneName) -> Self {
        self.time_zone = Some(tz);
        self
    }

    /// Replace the shared options (rate, concurrency, retry, …).
    pub fn options(mut self, options: SourceOptions) -> Self {
        self.options = options;
        self
    }

    /// Shorthand for `options.rate`: the request rate ceiling.
    pub fn requests_per_second(mut self, rps: f64) -> Self {
        self.options.rate = Some(rps);
        self
    }

    /// Shorthand for `options.attachment_max_bytes`: download attachments
    /// of at most `max_bytes` each with their page; larger ones stay listed
    /// without bytes.
    pub fn attachment_bytes(mut self, max_bytes: u64) -> Self {
        self.options.attachment_max_bytes = Some(max_bytes);
        self
    }

    /// The site URL people open, when the API goes through a gateway.
    ///
    /// ```
    /// use connector_confluence::{ConfluenceConfig, Deployment};
    /// let config = ConfluenceConfig::new("https://api.atlassian.com/ex/confluence/1a2b/wiki")
    ///     .web_url("https://acme.atlassian.net/wiki");
    /// assert_eq!(config.resolved_deployment(), Deployment::Cloud);
    /// ```
    pub fn web_url(mut self, url: impl Into<String>) -> Self {
        self.web_url = Some(url.into());
        self
    }

    /// The deployment: configured, or detected from the URL's host.
    pub fn resolved_deployment(&self) -> Deployment {
        self.deployment
            .unwrap_or_else(|| Deployment::detect(&self.base_url, CLOUD_HOSTS))
    }

    /// Check every field; errors name the field and the fix. Cloud's REST
    /// API lives under `/wiki`: a bare `*.atlassian.net` URL gets it.
    pub(crate) fn validated(mut self) -> Result<Self> {
        self.base_url = self.base_url.trim().trim_end_matches('/').to_owned();
        let url = connector_core::url::check_base_url("base_url", &self.base_url)?;
        let atlassian_site = url
            .host_str()
            .is_some_and(|h| h.to_ascii_lowercase().ends_with(".atlassian.net"));
        if atlassian_site && url.path().trim_end_matches('/').is_empty() {
            self.base_url.push_str("/wiki");
        }
        if let Some(web) = &mut self.web_url {
            *web = web.trim().trim_end_matches('/').to_owned();
            connector_core::url::check_base_url("web_url", web)?;
        }
        for (i, key) in self.spaces.iter().enumerate() {
            if !valid_space_key(key) {
                return Err(Error::config(format!(
                    "spaces[{i}]: {key:?} is not a Confluence space key (letters, digits, _ and ~ for personal spaces, e.g. ENG)"
                )));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        self.spaces.retain(|k| seen.insert(k.clone()));
        for (name, value) in [
            ("page_size", self.page_size),
            ("search_page_size", self.search_page_size),
        ] {
            if !(1..=250).contains(&value) {
                return Err(Error::config(format!(
                    "{name} must be between 1 and 250 (it is {value})"
                )));
            }
        }
        for (name, value, what) in [
            ("max_comments", self.max_comments, "comments"),
            ("max_attachments", self.max_attachments, "attachments"),
            ("max_labels", self.max_labels, "labels"),
        ] {
            if value == 0 {
                return Err(Error::config(format!(
                    "{name} must be at least 1 ({what} past it are cut and reported in `truncated`)"
                )));
            }
        }
        self.options
            .validate()
            .map_err(|e| Error::config(format!("options.{}", e.message())))?;
        Ok(self)
    }
}

/// Space keys: letters, digits and `_`; personal spaces start with `~`
/// (followed by a user name or account id, which may hold `-`, `.`, `:`).
fn valid_space_key(key: &str) -> bool {
    match key.strip_prefix('~') {
        Some(rest) => {
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        }
        None => !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_deployment_and_adds_wiki() {
        let c = ConfluenceConfig::new("https://ACME.atlassian.net/")
            .validated()
            .unwrap();
        assert_eq!(c.resolved_deployment(), Deployment::Cloud);
        assert_eq!(c.base_url, "https://ACME.atlassian.net/wiki");
        let c = ConfluenceConfig::new("https://acme.atlassian.net/wiki/")
            .validated()
            .unwrap();
        assert_eq!(c.base_url, "https://acme.atlassian.net/wiki");
        let c = ConfluenceConfig::new("https://wiki.acme.com/confluence")
            .validated()
            .unwrap();
        assert_eq!(c.resolved_deployment(), Deployment::DataCenter);
        assert_eq!(c.base_url, "https://wiki.acme.com/confluence");
        let c = ConfluenceConfig::new("http://127.0.0.1:8090");
        assert_eq!(c.resolved_deployment(), Deployment::DataCenter);
        // The request would go to 127.0.0.1: not Atlassian's cloud.
        let tricked = ConfluenceConfig::new("http://127.0.0.1\\.atlassian.net");
        assert_eq!(tricked.resolved_deployment(), Deployment::DataCenter);
        let forced = ConfluenceConfig::new("https://wiki.acme.com").deployment(Deployment::Cloud);
        assert_eq!(forced.resolved_deployment(), Deployment::Cloud);
    }

    #[test]
    fn errors_name_the_config_field() {
        let site = || ConfluenceConfig::new("https://x.atlassian.net");
        let cases = [
            (site().space("ENG").space("ENG\") OR ("), "spaces[1]"),
            (ConfluenceConfig::new("http://wiki.example.com"), "base_url"),
            (site().web_url("ftp://x"), "web_url"),
            (site().page_size(251), "page_size"),
            (site().search_page_size(0), "search_page_size"),
            (site().max_comments(0), "max_comments"),
            (site().max_attachments(0), "max_attachments"),
            (site().requests_per_second(-1.0), "options.rate"),
        ];
        for (config, field) in cases {
            let err = config.validated().unwrap_err().to_string();
            assert!(err.contains(field), "{field}: {err}");
            assert!(!err.contains("--"), "names a flag, not a field: {err}");
        }
        assert!(site().space("~mia").validated().is_ok());
    }

    #[test]
    fn serde_round_trip_keeps_fields_and_drops_secrets() {
        let config: ConfluenceConfig = serde_json::from_value(serde_json::json!({
            "url": "https://acme.atlassian.net",
            "credentials": {"email": "me@acme.com", "api_token": "s3cret"},
            "time_zone": "America/New_York",
            "page_size": 50
        }))
        .unwrap();
        assert_eq!(config.page_size, 50);
        assert_eq!(config.max_comments, 1_000);
        assert!(config.blog_posts);
        let text = serde_json::to_string(&config).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("America/New_York"), "{text}");
        let err = serde_json::from_value::<ConfluenceConfig>(serde_json::json!({
            "base_url": "https://acme.atlassian.net", "time_zone": "Mars/Olympus"
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("time_zone"), "{err}");
    }
}
