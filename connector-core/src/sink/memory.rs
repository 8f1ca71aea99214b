//! Documents kept in a `Vec`: for tests and small hosts.

use async_trait::async_trait;

use crate::document::Document;
use crate::error::{Error, Result};
use crate::sink::{Sink, SinkPosition};

/// Keeps documents (and deleted ids) in memory, with the same commit and
/// restore semantics as the file sinks.
///
/// ```
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::sink::{MemorySink, Sink};
/// use connector_core::Document;
///
/// let mut sink = MemorySink::default();
/// sink.write(&Document::new("t", "1", "one")).await?;
/// let pos = sink.commit().await?;
/// sink.write(&Document::new("t", "2", "two")).await?;
/// sink.restore(Some(&pos)).await?; // a crash loses the uncommitted "2"
/// assert_eq!(sink.documents().len(), 1);
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Default, Clone)]
pub struct MemorySink {
    documents: Vec<Document>,
    deleted: Vec<String>,
    committed: (usize, usize),
}

impl MemorySink {
    /// Every document written (committed or not), in order.
    pub fn documents(&self) -> &[Document] {
        &self.documents
    }

    /// Every id reported deleted, in order.
    pub fn deleted(&self) -> &[String] {
        &self.deleted
    }
}

#[async_trait]
impl Sink for MemorySink {
    async fn write(&mut self, doc: &Document) -> Result<()> {
        self.documents.push(doc.clone());
        Ok(())
    }

    async fn delete(&mut self, id: &str) -> Result<()> {
        self.deleted.push(id.to_owned());
        Ok(())
    }

    async fn commit(&mut self) -> Result<SinkPosition> {
        self.committed = (self.documents.len(), self.deleted.len());
        Ok(SinkPosition(serde_json::json!({
            "documents": self.committed.0,
            "deleted": self.committed.1,
        })))
    }

    async fn restore(&mut self, committed: Option<&SinkPosition>) -> Result<()> {
        let (docs, deleted) = match committed {
            None => (0, 0),
            Some(pos) => {
                let get = |k: &str| {
                    pos.0
                        .get(k)
                        .and_then(serde_json::Value::as_u64)
                        .map(|n| n as usize)
                        .ok_or_else(|| {
                            Error::new(
                                crate::ErrorKind::Decode,
                                format!("stored memory sink position has no `{k}`"),
                            )
                        })
                };
                (get("documents")?, get("deleted")?)
            }
        };
        self.documents.truncate(docs);
        self.deleted.truncate(deleted);
        self.committed = (self.documents.len(), self.deleted.len());
        Ok(())
    }
}
