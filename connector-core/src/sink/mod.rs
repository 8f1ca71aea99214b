//! Where documents go: the [`Sink`] trait a host implements, and the JSONL,
//! CSV and in-memory sinks the SDK ships.
//!
//! The runner writes documents, then calls [`Sink::commit`] and stores the
//! returned [`SinkPosition`] with its checkpoint. After a crash it calls
//! [`Sink::restore`] with the last stored position, so a sink that can roll
//! back (the file sinks truncate to the committed length) delivers every
//! document exactly once; a sink that cannot (a search index) should upsert
//! by id, which makes the at-least-once replay exact.
//!
//! The file sinks lock their file while open, record in each position which
//! file it belongs to (canonical path and a fingerprint of the committed
//! bytes), and refuse to roll back a file the position does not describe.
//! They create files owner-only ([`crate::checkpoint::DEFAULT_FILE_MODE`])
//! unless built with `create_with_mode`.

mod append_file;
mod csv;
mod jsonl;
mod memory;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::document::Document;
use crate::error::Result;

pub use self::csv::CsvSink;
pub use jsonl::JsonlSink;
pub use memory::MemorySink;

/// An opaque committed position, stored with the runner's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SinkPosition(pub serde_json::Value);

/// A destination for documents.
///
/// ```
/// use async_trait::async_trait;
/// use connector_core::sink::{Sink, SinkPosition};
/// use connector_core::{Document, Result};
///
/// /// Counts documents; a real sink would upsert them into an index.
/// #[derive(Default)]
/// struct Counter(u64);
///
/// #[async_trait]
/// impl Sink for Counter {
///     async fn write(&mut self, _doc: &Document) -> Result<()> {
///         self.0 += 1;
///         Ok(())
///     }
///     async fn commit(&mut self) -> Result<SinkPosition> {
///         Ok(SinkPosition(serde_json::Value::Null))
///     }
///     async fn restore(&mut self, _committed: Option<&SinkPosition>) -> Result<()> {
///         Ok(()) // upserts by id: replays are harmless
///     }
/// }
/// ```
#[async_trait]
pub trait Sink: Send {
    /// Accept one document (buffered until [`Sink::commit`] is fine).
    async fn write(&mut self, doc: &Document) -> Result<()>;

    /// The source no longer has `id`. Ignored unless the sink cares.
    async fn delete(&mut self, id: &str) -> Result<()> {
        let _ = id;
        Ok(())
    }

    /// Make everything accepted so far durable and say where that ends.
    async fn commit(&mut self) -> Result<SinkPosition>;

    /// Go back to a committed position after a crash, dropping anything
    /// written after it; `None` means nothing was ever committed. A
    /// position this sink cannot have committed (another file, another
    /// index) should be an error that changes nothing, never a rollback.
    async fn restore(&mut self, committed: Option<&SinkPosition>) -> Result<()>;
}

#[async_trait]
impl<S: Sink + ?Sized> Sink for Box<S> {
    async fn write(&mut self, doc: &Document) -> Result<()> {
        (**self).write(doc).await
    }
    async fn delete(&mut self, id: &str) -> Result<()> {
        (**self).delete(id).await
    }
    async fn commit(&mut self) -> Result<SinkPosition> {
        (**self).commit().await
    }
    async fn restore(&mut self, committed: Option<&SinkPosition>) -> Result<()> {
        (**self).restore(committed).await
    }
}
