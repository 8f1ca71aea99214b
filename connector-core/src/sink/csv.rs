//! One CSV row per document, for spreadsheets and quick looks.

use std::path::Path;

use async_trait::async_trait;

use crate::checkpoint::DEFAULT_FILE_MODE;
use crate::document::{Document, MetadataValue};
use crate::error::{Error, Result};
use crate::sink::append_file::AppendFile;
use crate::sink::{Sink, SinkPosition};

const HEADER: [&str; 11] = [
    "id",
    "source",
    "title",
    "url",
    "created_at",
    "updated_at",
    "authors",
    "hierarchy",
    "metadata",
    "text",
    "content_hash",
];

/// Writes documents as CSV rows (header first); exactly-once across crashes.
///
/// Sections are joined by a blank line into `text`; `authors` by `; `;
/// `hierarchy` by ` / `; `metadata` is a JSON object.
///
/// ```
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::sink::{CsvSink, Sink};
/// use connector_core::{Document, Section};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.csv");
/// let mut sink = CsvSink::create(&path)?;
/// sink.restore(None).await?;
/// let mut doc = Document::new("fs", "a.txt", "a.txt");
/// doc.sections.push(Section::text("hello, world"));
/// sink.write(&doc).await?;
/// sink.commit().await?;
/// let text = std::fs::read_to_string(&path).unwrap();
/// assert!(text.starts_with("id,source,title,"));
/// assert!(text.contains("\"hello, world\""));
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug)]
pub struct CsvSink {
    file: AppendFile,
}

impl CsvSink {
    /// Open (or create, with [`DEFAULT_FILE_MODE`]) `path` and lock it
    /// against other syncs until the sink is dropped; see
    /// [`JsonlSink::create`](crate::sink::JsonlSink::create) for how restore treats it.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Self::create_with_mode(path, DEFAULT_FILE_MODE)
    }

    /// [`CsvSink::create`], creating a missing file with this Unix mode
    /// (an existing file keeps its own).
    pub fn create_with_mode(path: impl AsRef<Path>, mode: u32) -> Result<Self> {
        Ok(Self {
            file: AppendFile::create(path.as_ref(), mode)?,
        })
    }

    fn row(&mut self, fields: &[&str]) -> Result<()> {
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(self.file.buffer());
        writer
            .write_record(fields)
            .and_then(|()| writer.flush().map_err(csv::Error::from))
            .map_err(|e| Error::new(crate::ErrorKind::Io, format!("cannot encode CSV row: {e}")))?;
        drop(writer);
        self.file.maybe_flush()
    }
}

#[async_trait]
impl Sink for CsvSink {
    async fn write(&mut self, doc: &Document) -> Result<()> {
        let text = doc
            .sections
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join("\n\n");
        let metadata: serde_json::Map<String, serde_json::Value> = doc
            .metadata
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    MetadataValue::One(s) => serde_json::Value::from(s.as_str()),
                    MetadataValue::Many(l) => serde_json::Value::from(l.clone()),
                };
                (k.clone(), v)
            })
            .collect();
        let metadata = serde_json::Value::Object(metadata).to_string();
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.to_rfc3339()).unwrap_or_default()
        };
        let created = time(doc.created_at);
        let updated = time(doc.updated_at);
        let authors = doc.authors.join("; ");
        let hierarchy = doc.hierarchy.join(" / ");
        self.row(&[
            &doc.id,
            &doc.source,
            &doc.title,
            doc.url.as_deref().unwrap_or(""),
            &created,
            &updated,
            &authors,
            &hierarchy,
            &metadata,
            &text,
            &doc.content_hash,
        ])
    }

    async fn commit(&mut self) -> Result<SinkPosition> {
        self.file.commit()
    }

    async fn restore(&mut self, committed: Option<&SinkPosition>) -> Result<()> {
        self.file.restore(committed)?;
        if self.file.len() == 0 {
            self.row(&HEADER)?;
        }
        Ok(())
    }
}
