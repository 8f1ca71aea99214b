//! What to sync and how to reach it: [`JiraConfig`], checked once by
//! [`JiraConnector::new`](crate::JiraConnector::new).

use chrono_tz::Tz;
use connector_core::{Error, Result};

use crate::jql::Scope;

/// Which Jira answers at the base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// Jira Cloud (`*.atlassian.net`): REST v3, enhanced JQL search with
    /// `nextPageToken`, ADF rich text.
    Cloud,
    /// Jira Data Center / Server: REST v2, `startAt` paging, wiki markup.
    DataCenter,
}

impl Deployment {
    /// Cloud for `*.atlassian.net` and `api.atlassian.com` (OAuth), Data
    /// Center otherwise.
    pub fn detect(base_url: &str) -> Self {
        let host = base_url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(base_url)
            .split(['/', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if host.ends_with(".atlassian.net") || host == "api.atlassian.com" {
            Deployment::Cloud
        } else {
            Deployment::DataCenter
        }
    }

    /// The REST API version path segment.
    pub fn api_version(self) -> &'static str {
        match self {
            Deployment::Cloud => "3",
            Deployment::DataCenter => "2",
        }
    }
}

/// Settings of a [`JiraConnector`](crate::JiraConnector).
///
/// ```
/// use connector_jira::{Deployment, JiraConfig};
///
/// let config = JiraConfig::new("https://acme.atlassian.net")
///     .project("ENG")
///     .jql("labels = customer");
/// assert_eq!(config.deployment, Deployment::Cloud);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JiraConfig {
    /// Base URL of the site (`https://acme.atlassian.net`, `https://jira.acme.com/jira`).
    pub base_url: String,
    /// Cloud or Data Center; detected from the URL, override when wrong.
    pub deployment: Deployment,
    /// Projects and/or JQL to sync; empty means everything the user sees.
    pub scope: Scope,
    /// Issues per search page (Cloud caps it at 100 when fields are requested).
    pub page_size: u32,
    /// Time zone JQL dates are read in; fetched from `/myself` when unset.
    pub time_zone: Option<Tz>,
    /// Comments per comment-page request.
    pub comment_page_size: u32,
    /// Download attachment bytes up to this size each; `None` (the
    /// default) lists attachments without their bytes.
    pub attachment_max_bytes: Option<u64>,
    /// Requests per second (GCRA quota); bursts up to twice that.
    pub requests_per_second: f64,
}

impl JiraConfig {
    /// Defaults for the site at `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        Self {
            deployment: Deployment::detect(&base_url),
            base_url,
            scope: Scope::default(),
            page_size: 100,
            time_zone: None,
            comment_page_size: 100,
            attachment_max_bytes: None,
            requests_per_second: 10.0,
        }
    }

    /// Sync project `key` (repeatable).
    pub fn project(mut self, key: impl Into<String>) -> Self {
        self.scope.projects.push(key.into());
        self
    }

    /// Sync issues matching `jql` (combined with projects by AND).
    pub fn jql(mut self, jql: impl Into<String>) -> Self {
        self.scope.jql = Some(jql.into());
        self
    }

    /// Override the deployment detected from the URL.
    pub fn deployment(mut self, deployment: Deployment) -> Self {
        self.deployment = deployment;
        self
    }

    /// Override the time zone JQL dates are read in.
    pub fn time_zone(mut self, tz: Tz) -> Self {
        self.time_zone = Some(tz);
        self
    }

    /// Download attachments of at most `max_bytes` each with their issue;
    /// larger ones stay listed without bytes.
    pub fn attachment_bytes(mut self, max_bytes: u64) -> Self {
        self.attachment_max_bytes = Some(max_bytes);
        self
    }

    /// Set the request quota.
    pub fn requests_per_second(mut self, rps: f64) -> Self {
        self.requests_per_second = rps;
        self
    }

    pub(crate) fn validated(mut self) -> Result<Self> {
        self.scope = self.scope.validated()?;
        if !(1..=1000).contains(&self.page_size) {
            return Err(Error::config("page_size must be between 1 and 1000"));
        }
        if !(1..=1000).contains(&self.comment_page_size) {
            return Err(Error::config(
                "comment_page_size must be between 1 and 1000",
            ));
        }
        if !(self.requests_per_second.is_finite() && self.requests_per_second > 0.0) {
            return Err(Error::config(
                "--rate must be a positive number of requests per second",
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_deployment() {
        assert_eq!(
            Deployment::detect("https://acme.atlassian.net"),
            Deployment::Cloud
        );
        assert_eq!(
            Deployment::detect("https://ACME.atlassian.net:443/"),
            Deployment::Cloud
        );
        assert_eq!(
            Deployment::detect("https://jira.acme.com/jira"),
            Deployment::DataCenter
        );
        assert_eq!(
            Deployment::detect("http://127.0.0.1:8080"),
            Deployment::DataCenter
        );
    }
}
