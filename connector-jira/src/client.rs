//! [`JiraClient`]: the few Jira REST calls the connector makes, over the
//! core HTTP layer (credentials, quota, retry, redirects).

use std::sync::Arc;

use secrecy::SecretString;
use serde_json::{Value, json};

use connector_core::credentials::{Basic, Bearer, SharedCredentials};
use connector_core::http::HttpClient;
use connector_core::rate::RateLimit;
use connector_core::{Error, ErrorKind, Result};

use crate::config::{Deployment, JiraConfig};
use crate::model::{Named, OffsetSearchPage, PageOfComments, ProjectPage, TokenSearchPage, User};

/// How the connector authenticates.
///
/// ```
/// use connector_jira::JiraAuth;
/// let cloud = JiraAuth::basic("me@acme.com", "api-token");
/// let dc = JiraAuth::bearer("personal-access-token");
/// assert!(!format!("{cloud:?} {dc:?}").contains("token\""));
/// ```
#[derive(Debug, Clone)]
pub struct JiraAuth(SharedCredentials);

impl JiraAuth {
    /// Cloud: the account's email and an API token.
    pub fn basic(email: impl Into<String>, api_token: impl Into<SecretString>) -> Self {
        Self(Arc::new(Basic::new(email, api_token)))
    }

    /// Data Center personal access token, or an OAuth 2.0 access token.
    pub fn bearer(token: impl Into<SecretString>) -> Self {
        Self(Arc::new(Bearer::new(token)))
    }

    /// Any credential provider (an OAuth 2.0 refresh-token flow, say).
    pub fn provider(provider: SharedCredentials) -> Self {
        Self(provider)
    }
}

/// Where a search page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Cloud: the `nextPageToken` (none for the first page).
    Token(Option<String>),
    /// Data Center: the `startAt` offset.
    Offset(u64),
}

/// One search page, whichever deployment answered.
#[derive(Debug)]
pub struct SearchPage {
    /// The issues, raw.
    pub issues: Vec<Value>,
    /// Cloud: the next page's token.
    pub next_token: Option<String>,
    /// Cloud: whether this is the last page.
    pub is_last: bool,
    /// Data Center: issues matching in all.
    pub total: u64,
}

/// The Jira REST calls of the connector. Cheap to clone.
#[derive(Debug, Clone)]
pub struct JiraClient {
    http: HttpClient,
    deployment: Deployment,
}

impl JiraClient {
    /// A client for `config` authenticating with `auth`.
    pub fn new(config: &JiraConfig, auth: JiraAuth) -> Result<Self> {
        let limit = RateLimit::per_second(config.requests_per_second)
            .with_burst((config.requests_per_second * 2.0).ceil().max(1.0) as u32);
        let http = HttpClient::builder("jira", config.base_url.as_str())
            .shared_credentials(auth.0)
            .rate_limit(limit)
            .build()?;
        Ok(Self {
            http,
            deployment: config.deployment,
        })
    }

    /// The HTTP client (its counters: requests, retries, throttled time).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn api(&self, path: &str) -> String {
        format!("/rest/api/{}/{path}", self.deployment.api_version())
    }

    /// The cursor of a search's first page.
    pub fn first_cursor(&self) -> Cursor {
        match self.deployment {
            Deployment::Cloud => Cursor::Token(None),
            Deployment::DataCenter => Cursor::Offset(0),
        }
    }

    /// One page of a JQL search: Cloud's enhanced search
    /// (`POST /rest/api/3/search/jql`) or Data Center's
    /// (`POST /rest/api/2/search`). Both are read-only, so retried.
    pub async fn search(
        &self,
        jql: &str,
        cursor: &Cursor,
        fields: &[&str],
        page_size: u32,
    ) -> Result<SearchPage> {
        match cursor {
            Cursor::Token(token) => {
                let mut body = json!({ "jql": jql, "maxResults": page_size, "fields": fields });
                if let Some(token) = token {
                    body["nextPageToken"] = json!(token);
                }
                let page: TokenSearchPage = self
                    .http
                    .post(&self.api("search/jql"))
                    .json(&body)
                    .idempotent(true)
                    .fetch_json()
                    .await
                    .map_err(search_error)?;
                Ok(SearchPage {
                    is_last: page.is_last.unwrap_or(page.next_page_token.is_none()),
                    next_token: page.next_page_token,
                    issues: page.issues,
                    total: 0,
                })
            }
            Cursor::Offset(start_at) => {
                let body = json!({ "jql": jql, "startAt": start_at, "maxResults": page_size, "fields": fields });
                let page: OffsetSearchPage = self
                    .http
                    .post(&self.api("search"))
                    .json(&body)
                    .idempotent(true)
                    .fetch_json()
                    .await
                    .map_err(search_error)?;
                Ok(SearchPage {
                    issues: page.issues,
                    next_token: None,
                    is_last: false,
                    total: page.total,
                })
            }
        }
    }

    /// A page of an issue's comments (`GET …/issue/{key}/comment`), oldest first.
    pub async fn comments(&self, key: &str, start_at: u64, max: u32) -> Result<PageOfComments> {
        self.http
            .get(&self.api(&format!("issue/{key}/comment")))
            .query(&[
                ("startAt", start_at.to_string()),
                ("maxResults", max.to_string()),
                ("orderBy", "created".to_string()),
            ])
            .fetch_json()
            .await
    }

    /// An attachment's bytes from its `content` URL, refused over `cap`.
    /// Cloud answers with a redirect to its media host; the credentials do
    /// not follow it (the redirect URL carries its own token).
    pub async fn attachment(&self, content_url: &str, cap: u64) -> Result<bytes::Bytes> {
        self.http
            .get(content_url)
            .send()
            .await?
            .bytes_capped(cap)
            .await
    }

    /// The authenticated user (`GET …/myself`): checks the credentials and
    /// gives the time zone JQL dates are read in.
    pub async fn myself(&self) -> Result<User> {
        self.http.get(&self.api("myself")).fetch_json().await.map_err(|e| {
            if e.kind() == ErrorKind::Auth {
                e.context("Jira refused the credentials (for Cloud: email + API token; for Data Center: a personal access token)")
            } else {
                e
            }
        })
    }

    /// Every project the user can see: Cloud pages through
    /// `/rest/api/3/project/search`; Data Center lists `/rest/api/2/project`.
    pub async fn projects(&self) -> Result<Vec<Named>> {
        match self.deployment {
            Deployment::DataCenter => self.http.get(&self.api("project")).fetch_json().await,
            Deployment::Cloud => {
                let mut projects = Vec::new();
                loop {
                    let page: ProjectPage = self
                        .http
                        .get(&self.api("project/search"))
                        .query(&[
                            ("startAt", projects.len().to_string()),
                            ("maxResults", "100".to_string()),
                        ])
                        .fetch_json()
                        .await?;
                    let fetched = page.values.len();
                    projects.extend(page.values);
                    let done = page.is_last.unwrap_or(true)
                        || fetched == 0
                        || page.total.is_some_and(|t| projects.len() as u64 >= t);
                    if done {
                        return Ok(projects);
                    }
                }
            }
        }
    }
}

/// A 400 from search is nearly always the JQL (a project that does not
/// exist, a field the user can't see): say so.
fn search_error(e: Error) -> Error {
    if e.status() == Some(400) {
        e.context("Jira rejected the search; check --project keys and --jql")
    } else {
        e
    }
}
