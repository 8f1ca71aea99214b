//! [`GitHubClient`]: the REST calls of the connector over the core HTTP
//! layer (credentials, rate control on GitHub's budget headers, retry,
//! redirects), and listings paged by the `Link` header.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use connector_core::credentials::SharedCredentials;
use connector_core::http::HttpClient;
use connector_core::json::RawRecord;
use connector_core::paging::{Page, PageCursor, PageStream, Pager};
use connector_core::rate::RateLimit;
use connector_core::url::segment;
use connector_core::{Error, ErrorKind, Result};
use reqwest::header::{ETAG, HeaderValue, IF_NONE_MATCH};

use crate::config::{DEFAULT_RATE, GitHubConfig};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Items per page: the most GitHub serves.
pub(crate) const PER_PAGE: &str = "100";

/// Answers kept for conditional requests, at most.
const MAX_REMEMBERED: usize = 1_024;

/// Bodies larger than this are not kept for conditional requests.
const MAX_REMEMBERED_BODY: usize = 1 << 20;

/// An answer kept with its `ETag`: asked again with `If-None-Match`, an
/// unchanged one comes back `304 Not Modified`, which GitHub does not count
/// against the rate limit.
#[derive(Debug, Clone)]
struct Remembered {
    etag: HeaderValue,
    records: Vec<RawRecord>,
    next: Option<String>,
}

/// The REST calls of the connector. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct GitHubClient {
    http: HttpClient,
    /// GraphQL has its own budget (points, `x-ratelimit-resource: graphql`):
    /// its own rate control follows it, apart from the REST budget's.
    graphql: HttpClient,
    base_url: String,
    remembered: Arc<Mutex<HashMap<String, Remembered>>>,
    bodies: Arc<Mutex<HashMap<String, Body>>>,
    not_modified: Arc<AtomicU64>,
}

/// A kept JSON answer and its `ETag`.
type Body = (HeaderValue, Arc<Vec<u8>>);

impl GitHubClient {
    /// A client for `config` signing in with `credentials`.
    pub(crate) fn new(config: &GitHubConfig, credentials: SharedCredentials) -> Result<Self> {
        let base_url = config.api_url()?;
        let client = |name: &str| {
            let mut builder = HttpClient::builder(name, &base_url)
                .options(&config.options, DEFAULT_RATE)
                .shared_credentials(credentials.clone())
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28");
            // A ceiling, not a start: the secondary limit is a documented rate.
            if config.options.rate.is_none() {
                builder = builder.rate_limit(RateLimit::per_second(DEFAULT_RATE));
            }
            builder.build()
        };
        let http = client("github")?;
        let graphql = client("github graphql")?;
        Ok(Self {
            http,
            graphql,
            base_url,
            remembered: Arc::default(),
            bodies: Arc::default(),
            not_modified: Arc::default(),
        })
    }

    /// The HTTP client (its counters and rate control).
    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The client of GraphQL requests, under the GraphQL budget.
    pub(crate) fn graphql(&self) -> &HttpClient {
        &self.graphql
    }

    /// Both clients' counters.
    pub(crate) fn counters(&self) -> connector_core::SourceMetrics {
        self.http.counters() + self.graphql.counters()
    }

    /// The API's base URL.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `/repos/{owner}/{name}` with both parts encoded.
    pub(crate) fn repo_path(full_name: &str) -> Result<String> {
        let (owner, name) = full_name.split_once('/').ok_or_else(|| {
            Error::new(ErrorKind::Other, format!("{full_name:?} is not owner/name"))
        })?;
        Ok(format!("/repos/{}/{}", segment(owner)?, segment(name)?))
    }

    /// One page of a listing: `path` with `query` for the first page, the
    /// `Link` target after it. The records (the body's array, or the array
    /// under `key` when it is not empty), raw, and the next page's URL.
    pub(crate) async fn page(
        &self,
        at: Option<&str>,
        path: &str,
        query: &[(&str, String)],
        key: &str,
    ) -> Result<(Vec<RawRecord>, Option<String>)> {
        let request = match at {
            Some(url) => self.http.get(url),
            None => self.http.get(path).query(query),
        };
        let page = request.fetch_page(key).await?;
        Ok((page.records, page.link_next))
    }

    /// How many answers came back `304 Not Modified`.
    pub(crate) fn not_modified(&self) -> u64 {
        self.not_modified.load(Ordering::Relaxed)
    }

    /// [`page`](Self::page) as a conditional request: the last answer to
    /// the same request is kept with its `ETag`, and a `304` gives it back.
    /// For the few answers a poll asks again unchanged (the owners'
    /// repository listings, the comparison of an unmoved branch).
    pub(crate) async fn page_conditional(
        &self,
        at: Option<&str>,
        path: &str,
        query: &[(&str, String)],
        key: &str,
    ) -> Result<(Vec<RawRecord>, Option<String>)> {
        let request_key = match at {
            Some(url) => url.to_owned(),
            None => format!("{path}?{query:?}"),
        };
        let known = lock(&self.remembered).get(&request_key).cloned();
        let mut request = match at {
            Some(url) => self.http.get(url),
            None => self.http.get(path).query(query),
        };
        if let Some(known) = &known {
            request = request.header(IF_NONE_MATCH, known.etag.clone());
        }
        match request.fetch_page_with_headers(key).await {
            Ok((page, headers)) => {
                if let Some(etag) = headers.get(ETAG) {
                    let mut remembered = lock(&self.remembered);
                    if remembered.len() >= MAX_REMEMBERED {
                        remembered.clear();
                    }
                    remembered.insert(
                        request_key,
                        Remembered {
                            etag: etag.clone(),
                            records: page.records.clone(),
                            next: page.link_next.clone(),
                        },
                    );
                }
                Ok((page.records, page.link_next))
            }
            Err(e) if e.status() == Some(304) => match known {
                Some(known) => {
                    self.not_modified.fetch_add(1, Ordering::Relaxed);
                    Ok((known.records, known.next))
                }
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// `GET path` as JSON, as a conditional request (the last answer kept
    /// with its `ETag` when it is at most [`MAX_REMEMBERED_BODY`] bytes).
    pub(crate) async fn json_conditional<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T> {
        let known = lock(&self.bodies).get(path).cloned();
        let mut request = self.http.get(path);
        if let Some((etag, _)) = &known {
            request = request.header(IF_NONE_MATCH, etag.clone());
        }
        let body = match request.send().await {
            Ok(response) => {
                let etag = response.headers().get(ETAG).cloned();
                let body = response.bytes().await?.to_vec();
                if let Some(etag) = etag
                    && body.len() <= MAX_REMEMBERED_BODY
                {
                    let mut bodies = lock(&self.bodies);
                    if bodies.len() >= MAX_REMEMBERED {
                        bodies.clear();
                    }
                    bodies.insert(path.to_owned(), (etag, Arc::new(body.clone())));
                }
                Arc::new(body)
            }
            Err(e) if e.status() == Some(304) => match known {
                Some((_, body)) => {
                    self.not_modified.fetch_add(1, Ordering::Relaxed);
                    body
                }
                None => return Err(e),
            },
            Err(e) => return Err(e),
        };
        serde_json::from_slice(&body).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("the response is not the JSON expected: {e}"),
            )
            .with_request("GET", path)
        })
    }

    /// Every page of a `Link`-paged listing, in order.
    pub(crate) fn link_pages(
        &self,
        what: String,
        path: String,
        query: Vec<(&'static str, String)>,
    ) -> PageStream<RawRecord> {
        self.link_pages_with(what, path, query, false, "")
    }

    /// [`link_pages`](Self::link_pages), each page a conditional request.
    pub(crate) fn link_pages_conditional(
        &self,
        what: String,
        path: String,
        query: Vec<(&'static str, String)>,
    ) -> PageStream<RawRecord> {
        self.link_pages_with(what, path, query, true, "")
    }

    /// [`link_pages_conditional`](Self::link_pages_conditional) for a
    /// listing whose pages hold their records under `key` of an object
    /// (`{"total_count": …, "repositories": […]}`).
    pub(crate) fn link_pages_conditional_in(
        &self,
        what: String,
        path: String,
        query: Vec<(&'static str, String)>,
        key: &'static str,
    ) -> PageStream<RawRecord> {
        self.link_pages_with(what, path, query, true, key)
    }

    fn link_pages_with(
        &self,
        what: String,
        path: String,
        query: Vec<(&'static str, String)>,
        conditional: bool,
        key: &'static str,
    ) -> PageStream<RawRecord> {
        let client = self.clone();
        Pager::new(what)
            .read_ahead(0)
            .ids(|r: &RawRecord| r.string_field("id"))
            .pages(None, move |cursor| {
                let client = client.clone();
                let path = path.clone();
                let query = query.clone();
                async move {
                    let at = match cursor {
                        None => None,
                        Some(PageCursor::Url(url)) => Some(url),
                        Some(other) => {
                            return Err(Error::new(
                                ErrorKind::Other,
                                format!("a {other:?} cannot continue a GitHub listing"),
                            ));
                        }
                    };
                    let (records, next) = if conditional {
                        client
                            .page_conditional(at.as_deref(), &path, &query, key)
                            .await?
                    } else {
                        client.page(at.as_deref(), &path, &query, key).await?
                    };
                    Ok(Page::new(records, next.map(PageCursor::Url)))
                }
            })
    }

    /// A one-line reason for the errors a person can act on.
    pub(crate) fn explain(&self, what: &str, e: Error) -> Error {
        match e.kind() {
            ErrorKind::Auth => e.context(format_args!(
                "GitHub at {} refused the token (check that it is valid and not expired)",
                self.base_url
            )),
            ErrorKind::Forbidden => e.context(format_args!(
                "the token may not read {what} at {} (a fine-grained token needs read access to Issues, Pull requests and Metadata; a classic one the repo scope for private repositories)",
                self.base_url
            )),
            ErrorKind::NotFound => e.context(format_args!(
                "{what} does not exist at {}, or the token cannot see it",
                self.base_url
            )),
            _ => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_base_url() {
        let config = GitHubConfig::new().base_url("http://127.0.0.1:9/api/v3");
        let client = GitHubClient::new(
            &config,
            connector_core::credentials::StaticAuth::bearer("t").provider(),
        )
        .unwrap();
        let e = client.explain(
            "acme/widgets",
            Error::new(ErrorKind::Auth, "github answered HTTP 401"),
        );
        assert!(e.to_string().contains("http://127.0.0.1:9/api/v3"), "{e}");
        let e = client.explain(
            "acme/widgets",
            Error::new(ErrorKind::NotFound, "github answered HTTP 404"),
        );
        assert!(e.to_string().contains("acme/widgets does not exist"), "{e}");
        assert_eq!(
            GitHubClient::repo_path("acme/wid gets").unwrap(),
            "/repos/acme/wid%20gets"
        );
    }
}
