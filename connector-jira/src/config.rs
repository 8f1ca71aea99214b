//! What to sync and how to reach it: [`JiraConfig`], a serde shape a host
//! reads from JSON or TOML, checked once by
//! [`JiraConnector::new`](crate::JiraConnector::new).

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
/// throttles, so this never caps a site with room to spare.
pub(crate) const DEFAULT_RATE: f64 = 10_000.0;

/// Issues whose comments (and attachments) are read at once when
/// `options.concurrency` is unset.
pub(crate) const DEFAULT_CONCURRENCY: usize = 16;

/// Settings of a [`JiraConnector`](crate::JiraConnector).
///
/// Built in code:
///
/// ```
/// use connector_core::credentials::StaticAuth;
/// use connector_jira::JiraConfig;
///
/// let config = JiraConfig::new("https://acme.atlassian.net")
///     .project("ENG")
///     .jql("labels = customer")
///     .credentials(StaticAuth::basic("me@acme.com", "api-token"));
/// assert_eq!(config.projects, ["ENG"]);
/// ```
///
/// or read from configuration (unknown fields are refused; the secret is
/// never written back out):
///
/// ```
/// use connector_jira::JiraConfig;
///
/// let config: JiraConfig = serde_json::from_value(serde_json::json!({
///     "base_url": "https://jira.acme.com",
///     "deployment": "data_center",
///     "credentials": {"token": "personal-access-token"},
///     "projects": ["ENG", "OPS"],
///     "jql": "component = Web",
///     "max_comments": 1000,
///     "time_zone": "Europe/Berlin",
///     "options": {"rate": 20.0, "concurrency": 4}
/// }))?;
/// assert_eq!(config.options.rate, Some(20.0));
/// assert!(!serde_json::to_string(&config)?.contains("personal-access-token"));
/// let typo = serde_json::from_value::<JiraConfig>(serde_json::json!({
///     "base_url": "https://jira.acme.com", "project": ["ENG"]
/// }));
/// assert!(typo.unwrap_err().to_string().contains("unknown field `project`"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct JiraConfig {
    /// Base URL of the site (`https://acme.atlassian.net`,
    /// `https://jira.acme.com/jira`, or for OAuth 2.0
    /// `https://api.atlassian.com/ex/jira/<cloud id>`).
    #[serde(alias = "url")]
    pub base_url: String,
    /// Cloud or Data Center; unset: Cloud for `*.atlassian.net` and
    /// `api.atlassian.com`, Data Center otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Deployment>,
    /// Who signs in: `{"email", "api_token"}` (Cloud), `{"token"}` (a Data
    /// Center personal access token or an OAuth 2.0 access token). Unset:
    /// give a provider to
    /// [`JiraConnector::with_credentials`](crate::JiraConnector::with_credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<StaticAuth>,
    /// Project keys to sync; empty means every project the user can see.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<String>,
    /// A JQL filter (combined with `projects` by AND; a trailing `ORDER BY`
    /// is dropped, the sync orders by `updated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jql: Option<String>,
    /// Issues asked for per search page, 1–1000 (default 100; Cloud returns
    /// at most 100 when fields are requested, whatever is asked).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Keys asked for per page of the id listing, 1–5000 (default 1000).
    #[serde(default = "default_key_page_size")]
    pub key_page_size: u32,
    /// Comments per comment-page request, 1–1000 (default 100).
    #[serde(default = "default_comment_page_size")]
    pub comment_page_size: u32,
    /// Comments read per issue at most (default 5 000); past it the
    /// document's `truncated` metadata says `comments`.
    #[serde(default = "default_max_comments")]
    pub max_comments: usize,
    /// When attachment bytes are downloaded (`options.attachment_max_bytes`),
    /// put the text of PDF, Office, OpenDocument, RTF and email attachments
    /// into the issue's sections, linked to the attachment (with the
    /// `extract` feature; default true). An attachment that cannot be read
    /// keeps the issue: its name and the reason go to the
    /// `extract_failures` metadata.
    #[serde(default = "default_extract")]
    pub extract: bool,
    /// The IANA zone the site reads JQL dates in (`Europe/Berlin`). Unset:
    /// the user's zone from `/myself`; when the site does not say, change
    /// searches are widened by 14 hours each way and filtered exactly, so no
    /// change is missed.
    #[serde(
        default,
        with = "connector_core::zone::optional_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub time_zone: Option<TimeZoneName>,
    /// Rate, concurrency, retry, timeouts, attachment bytes, TLS roots, proxy.
    #[serde(default)]
    pub options: SourceOptions,
}

fn default_page_size() -> u32 {
    100
}

fn default_key_page_size() -> u32 {
    1000
}

fn default_comment_page_size() -> u32 {
    100
}

fn default_max_comments() -> usize {
    5_000
}

fn default_extract() -> bool {
    true
}

impl JiraConfig {
    /// Defaults for the site at `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            deployment: None,
            credentials: None,
            projects: Vec::new(),
            jql: None,
            page_size: default_page_size(),
            key_page_size: default_key_page_size(),
            comment_page_size: default_comment_page_size(),
            max_comments: default_max_comments(),
            extract: default_extract(),
            time_zone: None,
            options: SourceOptions::default(),
        }
    }

    /// Sync project `key` (repeatable).
    pub fn project(mut self, key: impl Into<String>) -> Self {
        self.projects.push(key.into());
        self
    }

    /// Sync issues matching `jql` (combined with projects by AND).
    pub fn jql(mut self, jql: impl Into<String>) -> Self {
        self.jql = Some(jql.into());
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

    /// Read JQL dates in `zone` instead of the user's zone from `/myself`.
    pub fn time_zone(mut self, zone: TimeZoneName) -> Self {
        self.time_zone = Some(zone);
        self
    }

    /// Read at most `max` comments per issue.
    pub fn max_comments(mut self, max: usize) -> Self {
        self.max_comments = max;
        self
    }

    /// Replace the shared options (rate, concurrency, retry, …).
    pub fn options(mut self, options: SourceOptions) -> Self {
        self.options = options;
        self
    }

    /// The deployment: configured, or detected from the URL's host.
    pub(crate) fn resolved_deployment(&self) -> Deployment {
        self.deployment
            .unwrap_or_else(|| Deployment::detect(&self.base_url, CLOUD_HOSTS))
    }

    /// Check every field; errors name the field and the fix.
    pub(crate) fn validated(mut self) -> Result<Self> {
        self.base_url = self.base_url.trim().trim_end_matches('/').to_owned();
        connector_core::url::check_base_url("base_url", &self.base_url)?;
        for (i, key) in self.projects.iter().enumerate() {
            if !valid_project_key(key) {
                return Err(Error::config(format!(
                    "projects[{i}]: {key:?} is not a Jira project key (letters, digits and _ only, e.g. ENG)"
                )));
            }
        }
        if let Some(jql) = &self.jql {
            if !crate::jql::is_balanced(jql) {
                return Err(Error::config(
                    "jql: a quote or parenthesis is not closed; the sync adds its own conditions after the filter, so it must stand alone",
                ));
            }
            let trimmed = crate::jql::strip_order_by(jql).trim().to_owned();
            self.jql = (!trimmed.is_empty()).then_some(trimmed);
        }
        for (name, value, max) in [
            ("page_size", self.page_size, 1000),
            ("key_page_size", self.key_page_size, 5000),
            ("comment_page_size", self.comment_page_size, 1000),
        ] {
            if !(1..=max).contains(&value) {
                return Err(Error::config(format!(
                    "{name} must be between 1 and {max} (it is {value})"
                )));
            }
        }
        if self.max_comments == 0 {
            return Err(Error::config(
                "max_comments must be at least 1 (comments past it are cut and reported in `truncated`)",
            ));
        }
        self.options
            .validate()
            .map_err(|e| Error::config(format!("options.{}", e.message())))?;
        Ok(self)
    }
}

/// Project keys are letters, digits and underscores (Jira's own rule for keys).
fn valid_project_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_is_detected_from_the_host_and_overridable() {
        let cloud = JiraConfig::new("https://ACME.atlassian.net:443/");
        assert_eq!(cloud.resolved_deployment(), Deployment::Cloud);
        let gateway = JiraConfig::new("https://api.atlassian.com/ex/jira/abc");
        assert_eq!(gateway.resolved_deployment(), Deployment::Cloud);
        let dc = JiraConfig::new("https://jira.acme.com/jira");
        assert_eq!(dc.resolved_deployment(), Deployment::DataCenter);
        // The request would go to 127.0.0.1: not Atlassian's cloud.
        let tricked = JiraConfig::new("http://127.0.0.1\\.atlassian.net");
        assert_eq!(tricked.resolved_deployment(), Deployment::DataCenter);
        let forced = JiraConfig::new("http://127.0.0.1:8080").deployment(Deployment::Cloud);
        assert_eq!(forced.resolved_deployment(), Deployment::Cloud);
    }

    #[test]
    fn errors_name_the_config_field() {
        let cases = [
            (
                JiraConfig::new("https://x.atlassian.net")
                    .project("ENG")
                    .project("E-1"),
                "projects[1]",
            ),
            (JiraConfig::new("http://jira.example.com"), "base_url"),
            (
                JiraConfig::new("https://x.atlassian.net").jql("a = 1) OR (b = 2"),
                "jql",
            ),
            (
                JiraConfig {
                    page_size: 0,
                    ..JiraConfig::new("https://x.atlassian.net")
                },
                "page_size",
            ),
            (
                JiraConfig {
                    comment_page_size: 5000,
                    ..JiraConfig::new("https://x.atlassian.net")
                },
                "comment_page_size",
            ),
            (
                JiraConfig::new("https://x.atlassian.net").max_comments(0),
                "max_comments",
            ),
            (
                JiraConfig::new("https://x.atlassian.net")
                    .options(SourceOptions::default().with_rate(-1.0)),
                "options.rate",
            ),
        ];
        for (config, field) in cases {
            let err = config.validated().unwrap_err().to_string();
            assert!(err.contains(field), "{field}: {err}");
            assert!(!err.contains("--"), "names a flag, not a field: {err}");
        }
    }

    #[test]
    fn serde_round_trip_keeps_fields_and_drops_secrets() {
        let config: JiraConfig = serde_json::from_value(serde_json::json!({
            "url": "https://acme.atlassian.net",
            "credentials": {"email": "me@acme.com", "api_token": "s3cret"},
            "time_zone": "America/New_York",
            "page_size": 50
        }))
        .unwrap();
        assert_eq!(config.page_size, 50);
        assert_eq!(config.max_comments, 5_000);
        assert_eq!(config.time_zone, Some(chrono_tz_name("America/New_York")));
        let text = serde_json::to_string(&config).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("America/New_York"), "{text}");
        let err = serde_json::from_value::<JiraConfig>(serde_json::json!({
            "base_url": "https://acme.atlassian.net", "time_zone": "Mars/Olympus"
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("time_zone"), "{err}");
    }

    fn chrono_tz_name(name: &str) -> TimeZoneName {
        name.parse().unwrap()
    }
}
