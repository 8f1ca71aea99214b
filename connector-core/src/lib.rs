//! # connector-core
//!
//! The traits, document model and machinery every connector of the SDK
//! shares. A source crate (`connector-fs`, `connector-jira`, …) implements
//! the [`Connector`] traits; a host drives it with a [`runner::SyncRunner`]
//! into a [`sink::Sink`], with state in a [`checkpoint::CheckpointStore`].
//!
//! - [`document`]: [`Document`], the one shape every source object becomes.
//! - [`connector`]: the capability traits ([`LoadConnector`],
//!   [`PollConnector`], [`CheckpointedConnector`], [`SlimConnector`]), all
//!   usable as trait objects.
//! - [`runner`]: full, incremental and resumed syncs; events; deletions.
//! - [`sink`]: the [`sink::Sink`] trait and the JSONL, CSV and memory sinks.
//! - [`checkpoint`]: where state lives between runs (file or memory).
//! - [`content_index`]: which documents the sink holds, to skip unchanged ones.
//! - [`error`]: the one typed [`Error`].
//! - [`text`]: whether a file or object is text, and its MIME type.
//! - [`json`]: a listing page's records, each parsed on its own.
//! - [`options`]: the options every source shares (rate, retry, TLS, …).
//! - [`paging`]: the one pager every listing uses (read-ahead, loop guards).
//! - with feature `rate`, [`rate`](mod@rate): rate control that converges on
//!   the server's quota.
//! - [`watermark`]: the high-water-mark checkpoint of time-ordered searches.
//! - with feature `url`, [`url`](mod@url): URL safety and path segments,
//!   and [`deployment`]: cloud or self-hosted.
//! - with feature `tz`, [`zone`]: windows in a user's wall-clock minutes.
//! - with feature `html`, [`text::decode_entities`].
//! - with feature `http`, [`http`](mod@http) and [`credentials`](mod@credentials).
//!
//! ```
//! # async fn demo() -> connector_core::Result<()> {
//! use std::sync::Arc;
//! use connector_core::checkpoint::MemoryCheckpointStore;
//! use connector_core::runner::{SyncMode, SyncRunner};
//! use connector_core::sink::MemorySink;
//! use connector_core::{AvailableOptions, Connector, Document, Item, ItemStream, LoadConnector, Result};
//!
//! /// A source of three fixed notes.
//! struct Notes;
//!
//! #[async_trait::async_trait]
//! impl Connector for Notes {
//!     fn kind(&self) -> &str { "notes" }
//!     async fn validate(&self) -> Result<AvailableOptions> { Ok(AvailableOptions::default()) }
//!     fn as_load(&self) -> Option<&dyn LoadConnector> { Some(self) }
//! }
//!
//! impl LoadConnector for Notes {
//!     fn load(&self) -> ItemStream<'_> {
//!         let docs = (1..=3).map(|n| Ok(Item::from(Document::new("notes", format!("{n}"), format!("Note {n}")))));
//!         Box::pin(futures::stream::iter(docs))
//!     }
//! }
//!
//! let runner = SyncRunner::new("notes", Arc::new(MemoryCheckpointStore::default()));
//! let mut sink = MemorySink::default();
//! let first = runner.run(&Notes, &mut sink, SyncMode::Incremental).await?;
//! let second = runner.run(&Notes, &mut sink, SyncMode::Incremental).await?;
//! assert_eq!((first.documents_processed, second.documents_skipped), (3, 3));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod checkpoint;
pub mod connector;
pub mod content_index;
#[cfg(feature = "http")]
pub mod credentials;
#[cfg(feature = "url")]
pub mod deployment;
pub mod document;
pub mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod json;
pub mod options;
pub mod paging;
#[cfg(feature = "rate")]
pub mod rate;
pub mod runner;
pub mod sink;
pub mod text;
#[cfg(feature = "url")]
pub mod url;
pub mod watermark;
#[cfg(feature = "tz")]
pub mod zone;

pub use connector::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, DocumentFailure, Item,
    ItemStream, LoadConnector, OptionChoice, PollConnector, SlimConnector, SlimDocument,
    SlimStream, SourceMetrics, TimeWindow,
};
pub use document::{Access, Attachment, Document, MetadataValue, Section};
pub use error::{Error, ErrorKind, Result};
pub use tokio_util::sync::CancellationToken;
