//! # connector-s3
//!
//! Amazon S3 and S3-compatible stores — MinIO, Cloudflare R2, Google Cloud
//! Storage's interoperability endpoint, moto — as a source. Every object in
//! scope becomes a [`Document`]: text-like objects (txt, md, csv, json,
//! html, xml, source code, …) as a text section, other objects as an
//! attachment entry, with their bytes when asked for.
//!
//! - Listing streams `ListObjectsV2` pages with continuation tokens; keys are
//!   never all in memory. Downloads run [`S3Config::concurrency`] at a time and
//!   come out in key order, so a checkpoint (prefix, last key) resumes
//!   exactly with `start-after`.
//! - Credentials: the standard AWS chain (environment, profile, web identity,
//!   container, instance metadata), static keys held as `secrecy` secrets, or
//!   anonymous; custom endpoints with path-style addressing.
//! - Incremental: a poll window on `LastModified` lists without downloading
//!   unchanged objects; the `ETag` is in the metadata, so the runner's content
//!   hash tells rewritten objects apart; [`SlimConnector`] lists keys for
//!   deletion detection.
//!
//! Modules: [`S3Connector`] (here) wires the traits; `config` holds
//! [`S3Config`] and [`S3Credentials`]; `client` the requests; `listing` the
//! paged listing; `convert` object → document; `error` SDK errors → [`Error`];
//! `testing` (feature `testing`) a moto server for tests.
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use std::sync::Arc;
//! use connector_core::checkpoint::FileCheckpointStore;
//! use connector_core::runner::{SyncMode, SyncRunner};
//! use connector_core::sink::JsonlSink;
//! use connector_s3::{S3Config, S3Connector};
//!
//! // Credentials and region from the standard AWS chain (AWS_PROFILE, AWS_REGION, …).
//! let connector = S3Connector::new(S3Config::new("my-bucket").prefix("wiki/").exclude("*.tmp"))?;
//! let options = connector_core::Connector::validate(&connector).await?;
//! println!("top-level prefixes: {:?}", options.get("prefixes"));
//!
//! let runner = SyncRunner::new("s3:my-bucket", Arc::new(FileCheckpointStore::open(".sync-state")?));
//! let mut sink = JsonlSink::create("out.jsonl")?;
//! let report = runner.run(&connector, &mut sink, SyncMode::Incremental).await?;
//! println!("{} objects written, {} failed", report.documents_processed, report.documents_failed);
//! # Ok(()) }
//! ```
//!
//! [`Document`]: connector_core::Document

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod config;
mod convert;
mod error;
mod listing;
mod scope;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use url::Url;

use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, DocumentFailure, Error,
    ErrorKind, Item, ItemStream, LoadConnector, OptionChoice, PollConnector, Result, SlimConnector,
    SlimDocument, SlimStream, SourceMetrics, TimeWindow,
};

pub use config::{DEFAULT_CONCURRENCY, S3Config, S3Credentials};

use client::{Listed, Malformed, Record, S3Api};
use convert::{Converter, Naming, is_directory_marker};
use listing::ListFrom;
use scope::KeyFilter;

/// Buckets and prefixes `validate()` offers at most.
const MAX_OPTIONS: usize = 1000;

/// An S3 bucket (or a few prefixes of one) as a source.
///
/// Cheap to clone; the AWS client is built on first use and shared.
#[derive(Clone)]
pub struct S3Connector {
    inner: Arc<Inner>,
}

struct Inner {
    config: S3Config,
    endpoint: Option<Url>,
    prefixes: Arc<Vec<String>>,
    filter: KeyFilter,
    naming: Naming,
    api: OnceCell<S3Api>,
}

impl std::fmt::Debug for S3Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Connector")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Where a listing resumes: strictly after key `after` under `prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct S3Checkpoint {
    prefix: String,
    after: String,
}

impl S3Connector {
    /// A connector for `config`. Checks the configuration (bucket name,
    /// endpoint — plain `http://` only to loopback —, globs, limits) without
    /// a request; [`Connector::validate`] checks access.
    ///
    /// ```
    /// use connector_core::ErrorKind;
    /// use connector_s3::{S3Config, S3Connector};
    ///
    /// let err = S3Connector::new(S3Config::new("bucket").endpoint("http://minio.internal:9000"))
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Config);
    /// assert!(S3Connector::new(S3Config::new("bucket").endpoint("http://127.0.0.1:9000")).is_ok());
    /// ```
    pub fn new(config: S3Config) -> Result<Self> {
        let endpoint = config.check()?;
        let filter = KeyFilter::new(&config.include, &config.exclude)?;
        let prefixes = Arc::new(scope::normalise_prefixes(&config.prefixes));
        let naming = Naming::new(&config.bucket, endpoint.as_ref());
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                endpoint,
                prefixes,
                filter,
                naming,
                api: OnceCell::new(),
            }),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &S3Config {
        &self.inner.config
    }

    /// The document id of `key`: `s3://bucket/key` on AWS,
    /// `<endpoint>/bucket/key` on a custom endpoint.
    ///
    /// ```
    /// use connector_s3::{S3Config, S3Connector};
    ///
    /// let c = S3Connector::new(S3Config::new("docs-bucket")).unwrap();
    /// assert_eq!(c.document_id("guides/intro.md"), "s3://docs-bucket/guides/intro.md");
    /// ```
    pub fn document_id(&self, key: &str) -> String {
        self.inner.naming.id(key)
    }

    /// The prefixes listed, in order, overlaps removed (`[""]`: the whole bucket).
    pub fn prefixes(&self) -> &[String] {
        &self.inner.prefixes
    }

    async fn api(&self) -> Result<&S3Api> {
        self.inner
            .api
            .get_or_try_init(|| client::connect(&self.inner.config, self.inner.endpoint.as_ref()))
            .await
    }

    /// Whether a listed key is a document: not a folder marker, in scope.
    fn wanted(&self, obj: &Listed) -> bool {
        !is_directory_marker(obj) && self.inner.filter.accepts(&obj.key)
    }

    /// Whether a listing entry counts: a wanted object, or a malformed entry
    /// whose key is in scope (one failure, so deletion detection keeps it).
    fn wanted_record(&self, record: &Record) -> bool {
        match record {
            Ok(obj) => self.wanted(obj),
            Err(bad) => self.inner.filter.accepts(&bad.key),
        }
    }

    /// The failure for a malformed listing entry.
    fn malformed(&self, bad: &Malformed) -> Item {
        Item::Failure(DocumentFailure::new(
            self.inner.naming.id(&bad.key),
            bad.reason.clone(),
        ))
    }

    /// The item stream: list from `from`, download in parallel in key
    /// order, and yield a checkpoint every `checkpoint_every` listed keys.
    fn items(&self, window: Option<TimeWindow>, from: ListFrom) -> ItemStream<'static> {
        let lookback =
            chrono::Duration::from_std(self.inner.config.poll_lookback).unwrap_or_default();
        let window = window.map(|w| TimeWindow::new(w.start - lookback, w.end));
        let this = self.clone();
        stream::once(async move {
            let api = match this.api().await {
                Ok(api) => api.clone(),
                Err(e) => return stream::iter(vec![Err(e)]).boxed(),
            };
            let every = this.inner.config.checkpoint_every;
            let concurrency = this.inner.config.concurrency_value();
            let prefixes = this.inner.prefixes.clone();
            let mut listed_count = 0usize;
            let mut failed = false;
            let worker = this.clone();
            listing::objects(api.clone(), prefixes.clone(), from)
                .map(move |entry| {
                    let this = worker.clone();
                    let api = api.clone();
                    async move {
                        let (index, record) = entry?;
                        let item = match &record {
                            Err(bad) if this.wanted_record(&record) => Some(this.malformed(bad)),
                            Err(_) => None,
                            Ok(obj) => {
                                let in_window = match (window, obj.last_modified) {
                                    (Some(w), Some(t)) => w.contains(t),
                                    _ => true,
                                };
                                if in_window && this.wanted(obj) {
                                    let converter = Converter {
                                        api: &api,
                                        naming: &this.inner.naming,
                                        config: &this.inner.config,
                                    };
                                    converter.to_item(obj).await?
                                } else {
                                    None
                                }
                            }
                        };
                        let key = match record {
                            Ok(obj) => obj.key,
                            Err(bad) => bad.key,
                        };
                        Ok::<_, Error>((index, key, item))
                    }
                })
                .buffered(concurrency)
                .flat_map(move |result| {
                    let mut out: Vec<Result<Item>> = Vec::with_capacity(2);
                    match result {
                        Err(e) => out.push(Err(e)),
                        Ok((index, key, item)) => {
                            out.extend(item.map(Ok));
                            listed_count += 1;
                            // An entry without a key cannot be resumed after.
                            if listed_count.is_multiple_of(every) && !key.is_empty() {
                                let cp = S3Checkpoint {
                                    prefix: prefixes.get(index).cloned().unwrap_or_default(),
                                    after: key,
                                };
                                out.push(Checkpoint::new(&cp).map(Item::Checkpoint));
                            }
                        }
                    }
                    stream::iter(out)
                })
                // An error ends the stream: nothing after it is yielded.
                .take_while(move |item| {
                    let go = !failed;
                    failed |= item.is_err();
                    futures::future::ready(go)
                })
                .boxed()
        })
        .flatten()
        .boxed()
    }

    /// Where to resume from a checkpoint; a checkpoint for prefixes no
    /// longer configured starts over (nothing is lost, some is repeated).
    fn resume_point(&self, from: Option<&Checkpoint>) -> Result<ListFrom> {
        let Some(cp) = from else {
            return Ok(ListFrom::default());
        };
        let cp: S3Checkpoint = cp.decode()?;
        match self.inner.prefixes.iter().position(|p| *p == cp.prefix) {
            Some(index) => Ok(ListFrom {
                index,
                after: Some(cp.after),
            }),
            None => {
                tracing::warn!(
                    prefix = %cp.prefix,
                    "checkpoint names a prefix no longer configured; starting the listing over"
                );
                Ok(ListFrom::default())
            }
        }
    }
}

#[async_trait]
impl Connector for S3Connector {
    fn kind(&self) -> &str {
        "s3"
    }

    /// Lists the buckets (when the credentials may), then lists the
    /// configured bucket's top level (or, when that is denied, each
    /// configured prefix): a missing bucket, rejected keys, a denied listing
    /// or an unreachable endpoint is a typed error naming the bucket and the
    /// endpoint. Options: `buckets` and `prefixes`.
    async fn validate(&self) -> Result<AvailableOptions> {
        let api = self.api().await?;
        let buckets = match listing::buckets(api, MAX_OPTIONS).await {
            Ok(names) => names,
            // Keys scoped to one bucket often may not list buckets: fine.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Forbidden | ErrorKind::NotFound | ErrorKind::Http
                ) =>
            {
                tracing::debug!(error = %e, "cannot list buckets; offering the configured one");
                vec![self.inner.config.bucket.clone()]
            }
            Err(e) => {
                return Err(e.context(format!(
                    "checking access to bucket `{}`",
                    self.inner.config.bucket
                )));
            }
        };
        let configured: Vec<String> = self
            .inner
            .prefixes
            .iter()
            .filter(|p| !p.is_empty())
            .cloned()
            .collect();
        let prefixes = match listing::top_prefixes(api, MAX_OPTIONS).await {
            Ok(prefixes) => prefixes,
            // Keys limited to some prefixes (an `s3:prefix` condition) may not
            // list the top level: check the configured prefixes instead.
            Err(e) if e.kind() == ErrorKind::Forbidden && !configured.is_empty() => {
                tracing::debug!(error = %e, "cannot list the top level; checking the prefixes");
                for prefix in &configured {
                    api.list_page(prefix, Some("/"), None, None).await?;
                }
                configured
            }
            Err(e) => return Err(e),
        };
        tracing::debug!(endpoint = api.endpoint_label(), "bucket is readable");
        Ok(AvailableOptions::default()
            .with(
                "buckets",
                buckets
                    .into_iter()
                    .map(|b| OptionChoice::new(b.clone(), b))
                    .collect(),
            )
            .with(
                "prefixes",
                prefixes
                    .into_iter()
                    .map(|p| OptionChoice::new(p.clone(), p))
                    .collect(),
            ))
    }

    /// Requests (retries included), retries, throttled answers (`SlowDown`,
    /// 503, 429), time held by the rate control or a `Retry-After`, and
    /// object bytes read; zero before the first request.
    fn metrics(&self) -> Option<SourceMetrics> {
        Some(self.inner.api.get().map(S3Api::metrics).unwrap_or_default())
    }

    fn as_load(&self) -> Option<&dyn LoadConnector> {
        Some(self)
    }

    fn as_poll(&self) -> Option<&dyn PollConnector> {
        Some(self)
    }

    fn as_checkpointed(&self) -> Option<&dyn CheckpointedConnector> {
        Some(self)
    }

    fn as_slim(&self) -> Option<&dyn SlimConnector> {
        Some(self)
    }
}

impl LoadConnector for S3Connector {
    fn load(&self) -> ItemStream<'_> {
        self.items(None, ListFrom::default())
    }
}

impl PollConnector for S3Connector {
    /// Objects whose `LastModified` is inside `window`, its start moved back
    /// by [`S3Config::poll_lookback`]; the others are listed but not downloaded.
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.items(Some(window), ListFrom::default())
    }
}

impl CheckpointedConnector for S3Connector {
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        let from = match self.resume_point(from.as_ref()) {
            Ok(from) => from,
            Err(e) => return stream::iter(vec![Err(e)]).boxed(),
        };
        // A full sync takes every object, even ones dated in the future by
        // a skewed clock or written while the sync runs.
        let window = (!window.is_full()).then_some(window);
        self.items(window, from)
    }
}

impl SlimConnector for S3Connector {
    /// Every key in scope (folder markers and excluded keys left out),
    /// without downloading anything. A failed page ends the listing, so
    /// nothing is reported deleted from a partial list.
    fn slim(&self) -> SlimStream<'_> {
        let this = self.clone();
        stream::once(async move {
            let api = match this.api().await {
                Ok(api) => api.clone(),
                Err(e) => return stream::iter(vec![Err(e)]).boxed(),
            };
            let naming = this.inner.naming.clone();
            listing::objects(api, this.inner.prefixes.clone(), ListFrom::default())
                .filter_map(move |entry| {
                    let out = match entry {
                        Err(e) => Some(Err(e)),
                        Ok((_, record)) if this.wanted_record(&record) => Some(Ok(
                            SlimDocument::new(naming.id(client::record_key(&record))),
                        )),
                        Ok(_) => None,
                    };
                    futures::future::ready(out)
                })
                .boxed()
        })
        .flatten()
        .boxed()
    }
}
