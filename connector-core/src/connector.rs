//! The connector traits: capabilities a source implements, each usable as a
//! trait object so a host can pick connectors from configuration at run time.
//!
//! Every connector implements [`Connector`]; then whichever of
//! [`LoadConnector`], [`PollConnector`], [`CheckpointedConnector`] and
//! [`SlimConnector`] its source supports, and says so through the `as_*`
//! methods so that a `Box<dyn Connector>` can be asked for them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::document::{Access, Document};
use crate::error::{Error, Result};

/// One item of a connector's stream.
///
/// A stream ends with `Err` only when the whole source failed (bad
/// credentials, a missing space); one bad document is an
/// [`Item::Failure`] and the stream goes on.
#[derive(Debug)]
#[non_exhaustive]
pub enum Item {
    /// A document.
    Document(Box<Document>),
    /// One object that could not be turned into a document.
    Failure(DocumentFailure),
    /// The document with this id is gone from the source (a change feed
    /// such as Graph's delta says so). The runner deletes it from the sink
    /// if the sink holds it; ids it never delivered are ignored.
    Deleted(String),
    /// Everything before this point has been yielded; restarting from here
    /// neither loses nor repeats work. Only [`CheckpointedConnector`]s yield these.
    Checkpoint(Checkpoint),
}

impl From<Document> for Item {
    fn from(doc: Document) -> Self {
        Item::Document(Box::new(doc))
    }
}

/// A stream of items; `Err` ends it.
pub type ItemStream<'a> = BoxStream<'a, Result<Item>>;

/// A stream of slim entries; `Err` ends it.
pub type SlimStream<'a> = BoxStream<'a, Result<SlimDocument>>;

/// One object that failed, and why. The stream goes on after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentFailure {
    /// The id the document would have had, or the best name for the object.
    pub id: String,
    /// What went wrong, for a person.
    pub reason: String,
}

impl DocumentFailure {
    /// A failure for `id`.
    pub fn new(id: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            reason: reason.into(),
        }
    }
}

/// An opaque, serialisable resume point. Connectors keep their own typed
/// state in it with [`Checkpoint::new`] and read it back with [`Checkpoint::decode`].
///
/// ```
/// use connector_core::Checkpoint;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct PageCursor { page: u32 }
///
/// let cp = Checkpoint::new(&PageCursor { page: 3 }).unwrap();
/// assert_eq!(cp.decode::<PageCursor>().unwrap(), PageCursor { page: 3 });
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Checkpoint(pub serde_json::Value);

impl Checkpoint {
    /// Wrap a connector's typed state.
    pub fn new<T: Serialize>(state: &T) -> Result<Self> {
        Ok(Self(serde_json::to_value(state)?))
    }

    /// Read a connector's typed state back.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(self.0.clone())
            .map_err(|e| Error::decode("checkpoint does not match this connector's format", e))
    }
}

/// A half-open time window `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

impl TimeWindow {
    /// `[start, end)`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self { start, end }
    }

    /// Everything up to `end`: the window of a full sync.
    pub fn until(end: DateTime<Utc>) -> Self {
        Self {
            start: DateTime::<Utc>::UNIX_EPOCH,
            end,
        }
    }

    /// Whether `t` is inside the window.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// Whether this window starts at the epoch (a full sync).
    pub fn is_full(&self) -> bool {
        self.start <= DateTime::<Utc>::UNIX_EPOCH
    }
}

/// One choice `validate()` offers: a project, space, bucket, site…
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionChoice {
    /// What goes into configuration (`ENG`, a bucket name, a site URL).
    pub key: String,
    /// What a person reads (`Engineering`).
    pub name: String,
}

impl OptionChoice {
    /// A choice with a key and a display name.
    pub fn new(key: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            name: name.into(),
        }
    }
}

/// What a successful `validate()` found: choices per option kind
/// (`"projects"`, `"spaces"`, `"buckets"`, `"folders"`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableOptions(pub BTreeMap<String, Vec<OptionChoice>>);

impl AvailableOptions {
    /// Add `choices` under `kind`.
    pub fn with(mut self, kind: impl Into<String>, choices: Vec<OptionChoice>) -> Self {
        self.0.entry(kind.into()).or_default().extend(choices);
        self
    }

    /// The choices under `kind`.
    pub fn get(&self, kind: &str) -> &[OptionChoice] {
        self.0.get(kind).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Only an id and who may see it: what deletion detection and permission
/// sync need, cheaply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlimDocument {
    /// The same id the full document has.
    pub id: String,
    /// Who may see it, when the source says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
}

impl SlimDocument {
    /// A slim entry without access information.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            access: None,
        }
    }
}

/// What a connector's requests did so far: for a host's summary line or
/// metrics. HTTP connectors report their client's counters; the runner puts
/// a run's share into [`SyncReport::source`](crate::runner::SyncReport::source).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SourceMetrics {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Requests sent again after a retryable failure.
    pub retries: u64,
    /// Answers that throttled: `429`, and `503` with `Retry-After`.
    pub throttled: u64,
    /// Time requests spent waiting for the rate control or a `Retry-After`.
    pub throttled_time: std::time::Duration,
    /// Response body bytes read.
    pub bytes: u64,
}

impl SourceMetrics {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &SourceMetrics) -> SourceMetrics {
        SourceMetrics {
            requests: self.requests.saturating_sub(earlier.requests),
            retries: self.retries.saturating_sub(earlier.retries),
            throttled: self.throttled.saturating_sub(earlier.throttled),
            throttled_time: self.throttled_time.saturating_sub(earlier.throttled_time),
            bytes: self.bytes.saturating_sub(earlier.bytes),
        }
    }
}

/// The sum of two clients' counters, for a connector that talks to one
/// source through several (a REST and a GraphQL budget, say).
///
/// ```
/// use connector_core::SourceMetrics;
/// let mut rest = SourceMetrics::default();
/// rest.requests = 3;
/// let mut graphql = SourceMetrics::default();
/// graphql.requests = 2;
/// assert_eq!((rest + graphql).requests, 5);
/// ```
impl std::ops::Add for SourceMetrics {
    type Output = SourceMetrics;

    fn add(self, other: SourceMetrics) -> SourceMetrics {
        SourceMetrics {
            requests: self.requests.saturating_add(other.requests),
            retries: self.retries.saturating_add(other.retries),
            throttled: self.throttled.saturating_add(other.throttled),
            throttled_time: self.throttled_time.saturating_add(other.throttled_time),
            bytes: self.bytes.saturating_add(other.bytes),
        }
    }
}

/// What every connector is: a source kind that can check its configuration.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The source kind, as it appears in [`Document::source`].
    fn kind(&self) -> &str;

    /// Check the credentials and configuration against the source and return
    /// what a person may pick from. A bad credential or scope is a typed error.
    async fn validate(&self) -> Result<AvailableOptions>;

    /// What this connector's requests did so far (`None` when it makes none
    /// or does not count them).
    fn metrics(&self) -> Option<SourceMetrics> {
        None
    }

    /// This connector as a full loader, when it is one.
    fn as_load(&self) -> Option<&dyn LoadConnector> {
        None
    }

    /// This connector as a poller, when it is one.
    fn as_poll(&self) -> Option<&dyn PollConnector> {
        None
    }

    /// This connector as a resumable poller, when it is one.
    fn as_checkpointed(&self) -> Option<&dyn CheckpointedConnector> {
        None
    }

    /// This connector as an id lister, when it is one.
    fn as_slim(&self) -> Option<&dyn SlimConnector> {
        None
    }
}

/// A full snapshot of the source.
pub trait LoadConnector: Connector {
    /// Every document in scope, as a stream.
    fn load(&self) -> ItemStream<'_>;
}

/// The documents changed inside a time window.
pub trait PollConnector: Connector {
    /// Documents whose update time is inside `window`.
    fn poll(&self, window: TimeWindow) -> ItemStream<'_>;
}

/// Like [`PollConnector`], but resumable: the stream also yields
/// [`Item::Checkpoint`]s, and [`CheckpointedConnector::resume`] restarts
/// from one of them.
pub trait CheckpointedConnector: Connector {
    /// Documents changed inside `window` (a full sync uses
    /// [`TimeWindow::until`]), starting after `from` when given.
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_>;

    /// Whether the last checkpoint of a *completed* sync is where the next
    /// incremental sync starts — a change token such as a delta link —
    /// rather than a position that only means something inside one window
    /// (a walk position, a page token). When `true`, the runner keeps it
    /// and passes it to the next incremental [`resume`](Self::resume).
    fn checkpoint_continues(&self) -> bool {
        false
    }

    /// Whether the stream itself reports every deletion as
    /// [`Item::Deleted`] (a change feed such as Graph's delta) when it
    /// continues a change token from the last sync. The runner then skips
    /// the end-of-sync id listing of such runs, which would only cost
    /// requests.
    fn reports_deletions(&self) -> bool {
        false
    }
}

/// Lists ids (and access) cheaply, for deletion detection and permission sync.
pub trait SlimConnector: Connector {
    /// Every id in scope.
    fn slim(&self) -> SlimStream<'_>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_half_open() {
        let s = DateTime::from_timestamp(100, 0).unwrap();
        let e = DateTime::from_timestamp(200, 0).unwrap();
        let w = TimeWindow::new(s, e);
        assert!(w.contains(s));
        assert!(!w.contains(e));
        assert!(!w.is_full());
        assert!(TimeWindow::until(e).is_full());
    }

    #[test]
    fn checkpoint_of_the_wrong_shape_is_a_decode_error() {
        let cp = Checkpoint(serde_json::json!({"x": 1}));
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Other {
            page: u32,
        }
        let err = cp.decode::<Other>().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Decode);
    }
}
