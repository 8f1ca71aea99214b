//! What to crawl and how politely.

use std::path::PathBuf;
use std::time::Duration;

use connector_core::options::SourceOptions;
use connector_core::{Error, Result};
use serde::{Deserialize, Serialize};
use url::Url;

/// Requests per second per host when neither `options.rate` nor a
/// `Crawl-delay` says otherwise.
pub const DEFAULT_RATE_PER_HOST: f64 = 4.0;
/// Requests in flight per host when `options.concurrency` is unset.
pub const DEFAULT_CONCURRENCY_PER_HOST: usize = 2;

/// A website crawl: seeds, scope, caps and politeness.
///
/// ```
/// use connector_web::WebConfig;
/// let config: WebConfig = serde_json::from_value(serde_json::json!({
///     "urls": ["https://docs.example.com/"],
///     "sitemaps": ["https://docs.example.com/sitemap.xml"],
///     "exclude": ["/search*"],
///     "max_pages": 5000,
///     "contact": "https://example.com/crawler"
/// })).unwrap();
/// assert_eq!(config.max_depth, 20);
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebConfig {
    /// Start URLs; their hosts are in scope.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Sitemaps (`sitemap.xml`, sitemap indexes, `.xml.gz`) whose URLs are seeds too.
    #[serde(default)]
    pub sitemaps: Vec<String>,
    /// Read the `Sitemap:` lines of each seed host's robots.txt (default true).
    #[serde(default = "yes")]
    pub robots_sitemaps: bool,
    /// More hosts in scope beyond the seeds' (`host` or `host:port`).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Only paths starting with one of these (default: the whole host).
    #[serde(default)]
    pub path_prefixes: Vec<String>,
    /// Only URLs whose path (with query) matches one of these globs.
    #[serde(default)]
    pub include: Vec<String>,
    /// Never URLs whose path (with query) matches one of these globs.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Query parameters removed from every URL (globs, case-insensitive).
    #[serde(default = "default_strip_query")]
    pub strip_query: Vec<String>,
    /// Pages fetched at most per crawl (default 100 000).
    #[serde(default = "default_max_pages")]
    pub max_pages: u64,
    /// Links followed at most from a seed (default 20; sitemap URLs are depth 0).
    #[serde(default = "default_max_depth")]
    pub max_depth: u32,
    /// Follow links found in pages (default true; false: seeds and sitemaps only).
    #[serde(default = "yes")]
    pub follow_links: bool,
    /// The `User-Agent` product token, also the robots.txt group obeyed
    /// (default `connector-sdk-web`).
    #[serde(default = "default_agent")]
    pub user_agent: String,
    /// A URL or address site owners can reach the crawl's operator at,
    /// sent in the `User-Agent`.
    #[serde(default)]
    pub contact: Option<String>,
    /// Largest page or file read, in bytes (default 10 MiB).
    #[serde(default = "default_max_page_bytes")]
    pub max_page_bytes: u64,
    /// Time allowed for one page, body included, in seconds (default 30).
    #[serde(default = "default_page_timeout")]
    pub page_timeout_secs: u64,
    /// Redirects followed at most per page, all within scope (default 5).
    #[serde(default = "default_max_redirects")]
    pub max_redirects: usize,
    /// URLs with the same path and different queries fetched at most (default 50).
    #[serde(default = "default_query_variants")]
    pub max_query_variants: u32,
    /// URLs of one shape (the path with digit runs as `#`, no query)
    /// fetched at most: calendars and numbered archives (default 1000).
    #[serde(default = "default_pattern_pages")]
    pub max_pattern_pages: u32,
    /// Longest URL fetched (default 2048 bytes).
    #[serde(default = "default_max_url_len")]
    pub max_url_len: usize,
    /// Probe each host with a URL that cannot exist, and skip pages that
    /// read like its answer when it is not a 404 (default true).
    #[serde(default = "yes")]
    pub soft_404_probe: bool,
    /// PDF and office files through text extraction (feature `extract`, default true).
    #[serde(default = "yes")]
    pub extract: bool,
    /// Directory for the frontier, the visited set and the page records
    /// (default: a directory under the system's temporary directory, named
    /// after the seeds).
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
    /// Rate (per host), concurrency (per host), retry, timeouts, TLS, proxy.
    #[serde(default)]
    pub options: SourceOptions,
}

fn yes() -> bool {
    true
}
fn default_strip_query() -> Vec<String> {
    [
        "utm_*",
        "fbclid",
        "gclid",
        "msclkid",
        "mc_eid",
        "sessionid",
        "session_id",
        "jsessionid",
        "phpsessid",
        "sid",
    ]
    .map(String::from)
    .to_vec()
}
fn default_max_pages() -> u64 {
    100_000
}
fn default_max_depth() -> u32 {
    20
}
fn default_agent() -> String {
    "connector-sdk-web".into()
}
fn default_max_page_bytes() -> u64 {
    10 * 1024 * 1024
}
fn default_page_timeout() -> u64 {
    30
}
fn default_max_redirects() -> usize {
    5
}
fn default_query_variants() -> u32 {
    50
}
fn default_pattern_pages() -> u32 {
    1000
}
fn default_max_url_len() -> usize {
    2048
}

impl WebConfig {
    /// A crawl from these start URLs, everything else default.
    pub fn new<S: Into<String>>(urls: impl IntoIterator<Item = S>) -> Self {
        Self {
            urls: urls.into_iter().map(Into::into).collect(),
            sitemaps: Vec::new(),
            robots_sitemaps: true,
            allowed_hosts: Vec::new(),
            path_prefixes: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            strip_query: default_strip_query(),
            max_pages: default_max_pages(),
            max_depth: default_max_depth(),
            follow_links: true,
            user_agent: default_agent(),
            contact: None,
            max_page_bytes: default_max_page_bytes(),
            page_timeout_secs: default_page_timeout(),
            max_redirects: default_max_redirects(),
            max_query_variants: default_query_variants(),
            max_pattern_pages: default_pattern_pages(),
            max_url_len: default_max_url_len(),
            soft_404_probe: true,
            extract: true,
            state_dir: None,
            options: SourceOptions::default(),
        }
    }

    /// Sitemaps to read as seeds.
    pub fn with_sitemaps<S: Into<String>>(mut self, sitemaps: impl IntoIterator<Item = S>) -> Self {
        self.sitemaps = sitemaps.into_iter().map(Into::into).collect();
        self
    }

    /// Where the crawl keeps its frontier and page records.
    pub fn with_state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Pages fetched at most.
    pub fn with_max_pages(mut self, pages: u64) -> Self {
        self.max_pages = pages;
        self
    }

    /// Link depth followed at most.
    pub fn with_max_depth(mut self, depth: u32) -> Self {
        self.max_depth = depth;
        self
    }

    /// The shared source options (rate and concurrency are per host).
    pub fn with_options(mut self, options: SourceOptions) -> Self {
        self.options = options;
        self
    }

    /// The `User-Agent` header: product token, version, contact.
    pub fn user_agent_header(&self) -> String {
        let version = env!("CARGO_PKG_VERSION");
        match &self.contact {
            Some(contact) => format!("{}/{version} (+{contact})", self.user_agent),
            None => format!("{}/{version}", self.user_agent),
        }
    }

    /// Time allowed for one page.
    pub fn page_timeout(&self) -> Duration {
        Duration::from_secs(self.page_timeout_secs.max(1))
    }

    /// Check the configuration; returns the seed and sitemap URLs.
    pub(crate) fn check(&self) -> Result<(Vec<Url>, Vec<Url>)> {
        self.options.validate()?;
        if self.urls.is_empty() && self.sitemaps.is_empty() {
            return Err(Error::config(
                "urls: give at least one start URL or sitemap (`urls` or `sitemaps`)",
            ));
        }
        let parse = |field: &str, raw: &String| -> Result<Url> {
            let url = Url::parse(raw.trim()).map_err(|e| {
                Error::config(format!(
                    "{field}: {raw:?} is not a URL ({e}); write it as https://host/path"
                ))
            })?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(Error::config(format!(
                    "{field}: {raw:?} is not an http(s) URL"
                )));
            }
            Ok(url)
        };
        let urls = self
            .urls
            .iter()
            .map(|u| parse("urls", u))
            .collect::<Result<Vec<_>>>()?;
        let sitemaps = self
            .sitemaps
            .iter()
            .map(|u| parse("sitemaps", u))
            .collect::<Result<Vec<_>>>()?;
        if self.user_agent.trim().is_empty() || self.user_agent.contains(char::is_whitespace) {
            return Err(Error::config(
                "user_agent: one product token without spaces, e.g. acme-docs-crawler",
            ));
        }
        if self.max_pages == 0 {
            return Err(Error::config("max_pages: at least 1"));
        }
        Ok((urls, sitemaps))
    }
}
