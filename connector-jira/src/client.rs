//! [`JiraClient`]: the few Jira REST calls the connector makes, over the
//! core HTTP layer (credentials, rate control, retry, redirects). Each
//! listing call returns one [`Page`] for a core [`Pager`](connector_core::paging::Pager).

use serde_json::json;
use serde_json::value::RawValue;

use connector_core::credentials::SharedCredentials;
use connector_core::deployment::Deployment;
use connector_core::http::HttpClient;
use connector_core::paging::{Page, PageCursor};
use connector_core::url::segment;
use connector_core::{Error, ErrorKind, Result};

use crate::config::{DEFAULT_RATE, JiraConfig};
use crate::model::{Named, OffsetSearchPage, PageOfComments, ProjectPage, TokenSearchPage, User};

/// Data Center pages by offset; an issue updated or deleted during the
/// sync leaves the result set and shifts every later issue one place left.
/// Each page therefore starts this many issues before the end of the
/// previous one, and the stream drops the repeats.
pub(crate) const DC_PAGE_OVERLAP: u64 = 10;

/// Projects asked for per page of Cloud's project search (its maximum).
const PROJECT_PAGE_SIZE: u32 = 100;

/// The Jira REST calls of the connector. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct JiraClient {
    http: HttpClient,
    deployment: Deployment,
}

impl JiraClient {
    /// A client for `config` signing in with `credentials`.
    pub(crate) fn new(config: &JiraConfig, credentials: SharedCredentials) -> Result<Self> {
        let http = HttpClient::builder("jira", config.base_url.as_str())
            .options(&config.options, DEFAULT_RATE)
            .shared_credentials(credentials)
            .build()?;
        Ok(Self {
            http,
            deployment: config.resolved_deployment(),
        })
    }

    /// The HTTP client (its counters: requests, retries, throttled time).
    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Cloud or Data Center.
    pub(crate) fn deployment(&self) -> Deployment {
        self.deployment
    }

    fn api(&self, path: &str) -> String {
        let version = match self.deployment {
            Deployment::Cloud => "3",
            Deployment::DataCenter => "2",
        };
        format!("/rest/api/{version}/{path}")
    }

    /// One page of a JQL search at `cursor` (`None`: the first page):
    /// Cloud's enhanced search (`POST /rest/api/3/search/jql`, tokens) or
    /// Data Center's (`POST /rest/api/2/search`, offsets overlapping by
    /// [`DC_PAGE_OVERLAP`]). Both are read-only, so retried.
    pub(crate) async fn search(
        &self,
        jql: &str,
        cursor: Option<&PageCursor>,
        fields: &[&str],
        page_size: u32,
    ) -> Result<Page<Box<RawValue>>> {
        match self.deployment {
            Deployment::Cloud => {
                let mut body = json!({ "jql": jql, "maxResults": page_size, "fields": fields });
                match cursor {
                    None => {}
                    Some(PageCursor::Token(token)) => body["nextPageToken"] = json!(token),
                    Some(other) => return Err(wrong_cursor(other)),
                }
                let page: TokenSearchPage = self
                    .http
                    .post(&self.api("search/jql"))
                    .json(&body)
                    .idempotent(true)
                    .fetch_json()
                    .await
                    .map_err(search_error)?;
                Ok(Page::new(page.issues, page.next.map(PageCursor::Token)))
            }
            Deployment::DataCenter => {
                let start = match cursor {
                    None => 0,
                    Some(PageCursor::Offset(start)) => *start,
                    Some(other) => return Err(wrong_cursor(other)),
                };
                let body = json!({ "jql": jql, "startAt": start, "maxResults": page_size, "fields": fields });
                let page: OffsetSearchPage = self
                    .http
                    .post(&self.api("search"))
                    .json(&body)
                    .idempotent(true)
                    .fetch_json()
                    .await
                    .map_err(search_error)?;
                let fetched = page.issues.len() as u64;
                let end = start.saturating_add(fetched);
                let next = (fetched > 0 && end < page.total).then(|| {
                    // Step back a little (see DC_PAGE_OVERLAP), but always forward.
                    PageCursor::Offset(end - DC_PAGE_OVERLAP.min(fetched - 1))
                });
                Ok(Page::new(page.issues, next))
            }
        }
    }

    /// A page of an issue's comments (`GET …/issue/{key}/comment`), oldest first.
    pub(crate) async fn comments(
        &self,
        key: &str,
        cursor: Option<&PageCursor>,
        page_size: u32,
    ) -> Result<Page<crate::model::Comment>> {
        let start = match cursor {
            None => 0,
            Some(PageCursor::Offset(start)) => *start,
            Some(other) => return Err(wrong_cursor(other)),
        };
        let path = self.api(&format!("issue/{}/comment", segment(key)?));
        let page: PageOfComments = self
            .http
            .get(&path)
            .query(&[
                ("startAt", start.to_string()),
                ("maxResults", page_size.to_string()),
                ("orderBy", "created".to_string()),
            ])
            .fetch_json()
            .await?;
        Ok(Page::from_offset(page.comments, start, page.total))
    }

    /// An attachment's bytes from its `content` URL, refused over `cap`.
    /// Cloud answers with a redirect to its media host; the credentials do
    /// not follow it (the redirect URL carries its own token).
    pub(crate) async fn attachment(&self, content_url: &str, cap: u64) -> Result<bytes::Bytes> {
        self.http
            .get(content_url)
            .send()
            .await?
            .bytes_capped(cap)
            .await
    }

    /// The authenticated user (`GET …/myself`): checks the credentials and
    /// gives the time zone JQL dates are read in.
    pub(crate) async fn myself(&self) -> Result<User> {
        self.http.get(&self.api("myself")).fetch_json().await.map_err(|e| {
            if e.kind() == ErrorKind::Auth {
                e.context("Jira refused the credentials (for Cloud: email + API token; for Data Center: a personal access token)")
            } else {
                e
            }
        })
    }

    /// A page of the projects the user can see: Cloud pages through
    /// `/rest/api/3/project/search`; Data Center lists `/rest/api/2/project`
    /// in one answer.
    pub(crate) async fn projects(&self, cursor: Option<&PageCursor>) -> Result<Page<Named>> {
        match self.deployment {
            Deployment::DataCenter => {
                let all: Vec<Named> = self.http.get(&self.api("project")).fetch_json().await?;
                Ok(Page::last(all))
            }
            Deployment::Cloud => {
                let start = match cursor {
                    None => 0,
                    Some(PageCursor::Offset(start)) => *start,
                    Some(other) => return Err(wrong_cursor(other)),
                };
                let page: ProjectPage = self
                    .http
                    .get(&self.api("project/search"))
                    .query(&[
                        ("startAt", start.to_string()),
                        ("maxResults", PROJECT_PAGE_SIZE.to_string()),
                    ])
                    .fetch_json()
                    .await?;
                let end = start.saturating_add(page.values.len() as u64);
                let more = match (page.is_last, page.total) {
                    (Some(last), _) => !last,
                    (None, Some(total)) => end < total,
                    (None, None) => false,
                };
                let next = (more && !page.values.is_empty()).then_some(PageCursor::Offset(end));
                Ok(Page::new(page.values, next))
            }
        }
    }
}

fn wrong_cursor(cursor: &PageCursor) -> Error {
    Error::new(
        ErrorKind::Other,
        format!("a {cursor:?} cannot continue this Jira listing"),
    )
}

/// A 400 from search is nearly always the JQL (a project that does not
/// exist, a field the user can't see): say which settings to check.
fn search_error(e: Error) -> Error {
    if e.status() == Some(400) {
        e.context("Jira rejected the search; check the `projects` keys and the `jql` filter")
    } else {
        e
    }
}
