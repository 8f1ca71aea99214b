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
//! - A [`RateControl`](crate::rate::RateControl) paces requests: an
//!   explicit ceiling, an adaptive rate that grows while the server accepts
//!   and is cut when it throttles or reports its budget running low
//!   (`X-RateLimit-Remaining`, `X-RateLimit-NearLimit`, `RateLimit-Remaining`),
//!   a quota the server states (`X-RateLimit-FillRate`), and `Retry-After`
//!   pauses for everyone sharing the client.
//! - A [`RetryPolicy`](crate::options::RetryPolicy) (exponential backoff with jitter, from `backon`)
//!   retries idempotent requests on 408, 429, 500, 502, 503, 504, timeouts and
//!   connection errors, honouring `Retry-After`; 400, 401, 403 and 404 fail at
//!   once (a 401 first gets one credential refresh), except a 403 that is a
//!   rate limit (`Retry-After`, `X-RateLimit-Remaining: 0`, or a body naming
//!   the rate limit, as GitHub sends them), which is waited out and retried,
//!   or Google's `usageLimits` reasons (`userRateLimitExceeded`,
//!   `rateLimitExceeded`), retried with the exponential backoff.
//! - Any credential a server echoes back (in an error page, a wrong-shaped
//!   answer) is cut out before the text reaches an error, a log or a decoder.
//! - [`next_link`] reads the `Link` header that cursor-in-URL listings use
//!   with the [`paging`](crate::paging) module.
//! - Every request runs in a `tracing` span with method, host, path, status,
//!   attempt and elapsed time — never the query string, never headers.
//!
//! ```no_run
//! use connector_core::credentials::Basic;
//! use connector_core::http::HttpClient;
//! use connector_core::rate::RateLimit;
//! # async fn demo() -> connector_core::Result<()> {
//! let client = HttpClient::builder("jira", "https://example.atlassian.net")
//!     .credentials(Basic::new("me@example.com", "api-token"))
//!     .rate_limit(RateLimit::per_second(10.0).with_burst(20))
//!     .build()?;
//! let me: serde_json::Value = client.get("/rest/api/3/myself").fetch_json().await?;
//! println!("{me}; {} requests so far", client.counters().requests);
//! # Ok(()) }
//! ```

mod budget;
mod client;
mod counters;
mod error;
mod link;
mod retry;
pub(crate) mod scrub;

pub use client::{HttpClient, HttpClientBuilder, Request, Response};
pub use link::next_link;
