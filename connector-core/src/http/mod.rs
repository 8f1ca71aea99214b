//! The one HTTP layer every SaaS connector uses: authentication, rate
//! limiting, retry, redirects, timeouts, tracing and counters.
//!
//! A connector builds one [`HttpClient`] per instance and clones it freely:
//! clones share the connection pool, the rate limiter, the credentials and
//! the counters.
//!
//! - Requests carry the `Authorization` header from a
//!   [`CredentialProvider`](crate::credentials::CredentialProvider) only when
//!   they go to the base URL's origin, and a redirect to another host drops
//!   it (pre-signed download URLs rely on that).
//! - A [`RateLimit`] (GCRA through `governor`) spaces requests; when the
//!   server reports the budget running low (`X-RateLimit-Remaining`,
//!   `X-RateLimit-NearLimit`, `RateLimit-Remaining`) or answers `429`, the
//!   client slows down further for everyone sharing it.
//! - A [`RetryPolicy`] (exponential backoff with jitter, from `backon`)
//!   retries idempotent requests on 408, 429, 500, 502, 503, 504, timeouts and
//!   connection errors, honouring `Retry-After`; 400, 401, 403 and 404 fail at
//!   once (a 401 first gets one credential refresh).
//! - [`paginate`] pages a listing (body token, `Link` header or offset)
//!   as a stream and stops a server that would loop.
//! - Every request runs in a `tracing` span with method, host, path, status,
//!   attempt and elapsed time — never the query string, never headers.
//!
//! ```no_run
//! use connector_core::credentials::Basic;
//! use connector_core::http::{HttpClient, RateLimit};
//! # async fn demo() -> connector_core::Result<()> {
//! let client = HttpClient::builder("jira", "https://example.atlassian.net")
//!     .credentials(Basic::new("me@example.com", "api-token"))
//!     .rate_limit(RateLimit::per_second(10.0).with_burst(20))
//!     .build()?;
//! let me: serde_json::Value = client.get("/rest/api/3/myself").fetch_json().await?;
//! println!("{me}; {} requests so far", client.counters().requests);
//! # Ok(()) }
//! ```

mod client;
mod counters;
mod error;
mod pagination;
mod rate_limit;
mod retry;
mod url;

pub use client::{HttpClient, HttpClientBuilder, Request, Response};
pub use counters::HttpCounters;
pub use pagination::{Page, PageCursor, next_link, paginate};
pub use rate_limit::RateLimit;
pub use retry::RetryPolicy;
pub use url::{check_base_url, is_loopback};
