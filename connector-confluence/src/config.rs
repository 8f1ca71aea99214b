//! What to sync and how to reach it: [`ConfluenceConfig`], checked once by
//! [`ConfluenceConnector::new`](crate::ConfluenceConnector::new).

use chrono_tz::Tz;
use connector_core::{Error, Result};

/// Which Confluence answers at the base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// Confluence Cloud (`*.atlassian.net`, base `…/wiki`): REST v2 for
    /// listings, v1 CQL search for changes.
    Cloud,
    /// Confluence Data Center / Server: REST v1 (`/rest/api/content`,
    /// `start`/`limit` paging, CQL through `/rest/api/content/search`).
    DataCenter,
}

impl Deployment {
    /// Cloud for `*.atlassian.net` and `api.atlassian.com` (OAuth), Data
    /// Center otherwise.
    ///
    /// ```
    /// use connector_confluence::Deployment;
    /// assert_eq!(Deployment::detect("https://acme.atlassian.net/wiki"), Deployment::Cloud);
    /// assert_eq!(Deployment::detect("https://wiki.acme.com"), Deployment::DataCenter);
    /// ```
    pub fn detect(base_url: &str) -> Self {
        let host = host_of(base_url);
        if host.ends_with(".atlassian.net") || host == "api.atlassian.com" {
            Deployment::Cloud
        } else {
            Deployment::DataCenter
        }
    }
}

fn host_of(url: &str) -> String {
    url.split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(url)
        .split(['/', ':', '?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Settings of a [`ConfluenceConnector`](crate::ConfluenceConnector).
///
/// ```
/// use connector_confluence::{ConfluenceConfig, Deployment};
///
/// let config = ConfluenceConfig::new("https://acme.atlassian.net")
///     .space("ENG")
///     .space("OPS")
///     .footer_comments(true);
/// assert_eq!(config.deployment, Deployment::Cloud);
/// // Cloud's REST API lives under /wiki.
/// assert_eq!(config.base_url, "https://acme.atlassian.net/wiki");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConfluenceConfig {
    /// Base URL of the site: `https://acme.atlassian.net/wiki` (Cloud; `/wiki`
    /// is added when missing), `https://wiki.acme.com[/context]` (Data Center).
    pub base_url: String,
    /// Cloud or Data Center; detected from the URL, override when wrong.
    pub deployment: Deployment,
    /// Space keys to sync; empty means every space the user can see.
    pub spaces: Vec<String>,
    /// Blog posts as well as pages (default true).
    pub blog_posts: bool,
    /// Footer comments as sections of their page (one request per page; default false).
    pub footer_comments: bool,
    /// Archived pages as well as current ones (default false).
    pub archived: bool,
    /// Items per listing page (Cloud v2 allows up to 250; Data Center caps it server-side).
    pub page_size: u32,
    /// Results per CQL search page (bodies are expanded, keep it modest).
    pub search_page_size: u32,
    /// Time zone CQL dates are read in; fetched from `/rest/api/user/current` when unset.
    pub time_zone: Option<Tz>,
    /// Requests per second (GCRA quota); bursts up to twice that.
    pub requests_per_second: f64,
    /// Download attachments of at most this many bytes each with their page
    /// (default `None`: attachments are listed without bytes).
    pub attachment_max_bytes: Option<u64>,
    /// The site URL people open (`https://acme.atlassian.net/wiki`) when the
    /// API is reached through a gateway (`https://api.atlassian.com/ex/confluence/<cloud id>/wiki`
    /// for OAuth 2.0): document links and ids are built from it. Default: `base_url`.
    pub web_url: Option<String>,
}

impl ConfluenceConfig {
    /// Defaults for the site at `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        let raw = base_url.into();
        let mut base_url = raw.trim().trim_end_matches('/').to_owned();
        let deployment = Deployment::detect(&base_url);
        if deployment == Deployment::Cloud && host_of(&base_url).ends_with(".atlassian.net") {
            let has_path = base_url
                .split_once("://")
                .map(|(_, rest)| rest.contains('/'))
                .unwrap_or(false);
            if !has_path {
                base_url.push_str("/wiki");
            }
        }
        Self {
            base_url,
            deployment,
            spaces: Vec::new(),
            blog_posts: true,
            footer_comments: false,
            archived: false,
            page_size: 250,
            search_page_size: 50,
            time_zone: None,
            requests_per_second: 10.0,
            web_url: None,
            attachment_max_bytes: None,
        }
    }

    /// Sync space `key` (repeatable).
    pub fn space(mut self, key: impl Into<String>) -> Self {
        self.spaces.push(key.into());
        self
    }

    /// Override the deployment detected from the URL.
    pub fn deployment(mut self, deployment: Deployment) -> Self {
        self.deployment = deployment;
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

    /// Override the time zone CQL dates are read in.
    pub fn time_zone(mut self, tz: Tz) -> Self {
        self.time_zone = Some(tz);
        self
    }

    /// Set the request quota.
    pub fn requests_per_second(mut self, rps: f64) -> Self {
        self.requests_per_second = rps;
        self
    }

    /// Download attachments of at most `max_bytes` each with their page;
    /// larger ones stay listed without bytes.
    pub fn attachment_bytes(mut self, max_bytes: u64) -> Self {
        self.attachment_max_bytes = Some(max_bytes);
        self
    }

    /// The site URL people open, when the API goes through a gateway.
    ///
    /// ```
    /// use connector_confluence::{ConfluenceConfig, Deployment};
    /// let config = ConfluenceConfig::new("https://api.atlassian.com/ex/confluence/1a2b/wiki")
    ///     .web_url("https://acme.atlassian.net/wiki");
    /// assert_eq!(config.deployment, Deployment::Cloud);
    /// ```
    pub fn web_url(mut self, url: impl Into<String>) -> Self {
        self.web_url = Some(url.into().trim().trim_end_matches('/').to_owned());
        self
    }

    pub(crate) fn validated(mut self) -> Result<Self> {
        for key in &self.spaces {
            if !valid_space_key(key) {
                return Err(Error::config(format!(
                    "--space {key:?} is not a Confluence space key (letters, digits, _ and ~ for personal spaces, e.g. ENG)"
                )));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        self.spaces.retain(|k| seen.insert(k.clone()));
        if let Some(web) = &self.web_url {
            connector_core::url::check_base_url("web URL", web)?;
        }
        if !(1..=250).contains(&self.page_size) {
            return Err(Error::config("page_size must be between 1 and 250"));
        }
        if !(1..=250).contains(&self.search_page_size) {
            return Err(Error::config("search_page_size must be between 1 and 250"));
        }
        if !(self.requests_per_second.is_finite() && self.requests_per_second > 0.0) {
            return Err(Error::config(
                "--rate must be a positive number of requests per second",
            ));
        }
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
        let c = ConfluenceConfig::new("https://ACME.atlassian.net/");
        assert_eq!(c.deployment, Deployment::Cloud);
        assert_eq!(c.base_url, "https://ACME.atlassian.net/wiki");
        let c = ConfluenceConfig::new("https://acme.atlassian.net/wiki/");
        assert_eq!(c.base_url, "https://acme.atlassian.net/wiki");
        let c = ConfluenceConfig::new("https://wiki.acme.com/confluence");
        assert_eq!(c.deployment, Deployment::DataCenter);
        assert_eq!(c.base_url, "https://wiki.acme.com/confluence");
        let c = ConfluenceConfig::new("http://127.0.0.1:8090");
        assert_eq!(c.deployment, Deployment::DataCenter);
    }

    #[test]
    fn space_keys_are_checked() {
        assert!(
            ConfluenceConfig::new("https://x.atlassian.net")
                .space("ENG")
                .validated()
                .is_ok()
        );
        assert!(
            ConfluenceConfig::new("https://x.atlassian.net")
                .space("~mia")
                .validated()
                .is_ok()
        );
        let err = ConfluenceConfig::new("https://x.atlassian.net")
            .space("ENG\") OR (")
            .validated()
            .unwrap_err();
        assert!(err.to_string().contains("--space"));
        assert!(
            ConfluenceConfig::new("https://x.atlassian.net")
                .page_size(251)
                .validated()
                .is_err()
        );
    }
}
