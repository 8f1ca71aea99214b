//! # connector-web
//!
//! A website as a source for the connector SDK: a polite, bounded,
//! resumable crawler for documentation sites, help centres and intranets.
//!
//! - **Seeds and scope**: start URLs, sitemaps (URL sets, indexes,
//!   gzipped, and the `Sitemap:` lines of robots.txt); the seeds' hosts
//!   (plus `allowed_hosts`), path prefixes, include and exclude globs;
//!   `max_pages`, `max_depth`; URLs normalised (fragment, default port,
//!   percent-escapes, `utm_*` and session parameters) and pages deduplicated
//!   by `<link rel="canonical">` and redirect targets.
//! - **Politeness**: robots.txt for the configured agent (`texting_robots`),
//!   `Crawl-delay`, per-host concurrency (default 2) and a per-host rate
//!   ceiling through core's rate control (default 4 requests/s),
//!   `Retry-After` on 429 and 503, a `User-Agent` with a contact URL.
//! - **Fetching**: redirects followed only within scope (capped), size and
//!   time caps per page, HTML → main text ([`main_text`]), text and
//!   Markdown as is, PDF and office files through `connector-extract`
//!   (feature `extract`), anything else skipped with a reason; charset from
//!   the header or `<meta charset>`.
//! - **Incremental and resumable**: the frontier and the visited set live on
//!   disk under `state_dir` and the checkpoint says how far the crawl got;
//!   the next crawl revisits with `If-None-Match`/`If-Modified-Since` (a
//!   `304` yields nothing) and sitemap `lastmod`, and reports pages gone
//!   (404/410, out of scope now) as deletions after a confirmation request.
//! - **Traps**: calendars and numbered archives, ever-changing query
//!   strings, soft 404s, redirect chains, huge pages and slow-drip servers
//!   end at a cap, each with a reason among the sync's failures.
//!
//! JavaScript is not run: pages that build their text in the browser read
//! as empty (and are reported so).
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use connector_core::LoadConnector;
//! use connector_web::{WebConfig, WebConnector};
//! use futures::StreamExt;
//!
//! let config = WebConfig::new(["https://docs.example.com/"])
//!     .with_sitemaps(["https://docs.example.com/sitemap.xml"])
//!     .with_max_pages(5_000)
//!     .with_state_dir("/var/lib/sync/docs");
//! let web = WebConnector::new(config)?;
//! let mut items = web.load();
//! while let Some(item) = items.next().await {
//!     println!("{:?}", item?);
//! }
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod connector;
mod crawl;
mod fetch;
mod html;
mod scope;
mod sitemap;
mod store;

pub use config::{DEFAULT_CONCURRENCY_PER_HOST, DEFAULT_RATE_PER_HOST, WebConfig};
pub use connector::WebConnector;
pub use html::main_text;
