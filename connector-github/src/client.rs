//! [`GitHubClient`]: the REST calls of the connector over the core HTTP
//! layer (credentials, rate control on GitHub's budget headers, retry,
//! redirects), and listings paged by the `Link` header.

use connector_core::credentials::SharedCredentials;
use connector_core::http::HttpClient;
use connector_core::json::RawRecord;
use connector_core::paging::{Page, PageCursor, PageStream, Pager};
use connector_core::rate::RateLimit;
use connector_core::url::segment;
use connector_core::{Error, ErrorKind, Result};

use crate::config::{DEFAULT_RATE, GitHubConfig};

/// Items per page: the most GitHub serves.
pub(crate) const PER_PAGE: &str = "100";

/// The REST calls of the connector. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct GitHubClient {
    http: HttpClient,
    base_url: String,
}

impl GitHubClient {
    /// A client for `config` signing in with `credentials`.
    pub(crate) fn new(config: &GitHubConfig, credentials: SharedCredentials) -> Result<Self> {
        let base_url = config.api_url()?;
        let mut builder = HttpClient::builder("github", &base_url)
            .options(&config.options, DEFAULT_RATE)
            .shared_credentials(credentials)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        // A ceiling, not a start: the secondary limit is a documented rate.
        if config.options.rate.is_none() {
            builder = builder.rate_limit(RateLimit::per_second(DEFAULT_RATE));
        }
        let http = builder.build()?;
        Ok(Self { http, base_url })
    }

    /// The HTTP client (its counters and rate control).
    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
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
    /// `Link` target after it. The records, raw, and the next page's URL.
    pub(crate) async fn page(
        &self,
        at: Option<&str>,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(Vec<RawRecord>, Option<String>)> {
        let request = match at {
            Some(url) => self.http.get(url),
            None => self.http.get(path).query(query),
        };
        let page = request.fetch_page("").await?;
        Ok((page.records, page.link_next))
    }

    /// Every page of a `Link`-paged listing, in order.
    pub(crate) fn link_pages(
        &self,
        what: String,
        path: String,
        query: Vec<(&'static str, String)>,
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
                    let (records, next) = client.page(at.as_deref(), &path, &query).await?;
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
