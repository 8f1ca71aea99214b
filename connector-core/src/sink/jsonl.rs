//! One JSON document per line.

use std::path::Path;

use async_trait::async_trait;

use crate::checkpoint::DEFAULT_FILE_MODE;
use crate::document::Document;
use crate::error::Result;
use crate::sink::append_file::AppendFile;
use crate::sink::{Sink, SinkPosition};

/// Writes one [`Document`] as JSON per line; exactly-once across crashes.
///
/// With [`JsonlSink::with_tombstones`], deletions are written as
/// `{"id":"…","deleted":true}` lines so a consumer can remove them too.
///
/// ```
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::sink::{JsonlSink, Sink};
/// use connector_core::Document;
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.jsonl");
/// let mut sink = JsonlSink::create(&path)?;
/// sink.restore(None).await?; // a fresh sync starts from an empty file
/// sink.write(&Document::new("fs", "a.txt", "a.txt")).await?;
/// sink.commit().await?;
/// assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug)]
pub struct JsonlSink {
    file: AppendFile,
    tombstones: bool,
}

impl JsonlSink {
    /// Open (or create, with [`DEFAULT_FILE_MODE`]) `path` and lock it
    /// against other syncs until the sink is dropped. Existing bytes stay
    /// until [`Sink::restore`] cuts the file to the committed length —
    /// which it refuses to do to a file the position was not committed to.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Self::create_with_mode(path, DEFAULT_FILE_MODE)
    }

    /// [`JsonlSink::create`], creating a missing file with this Unix mode
    /// (an existing file keeps its own).
    pub fn create_with_mode(path: impl AsRef<Path>, mode: u32) -> Result<Self> {
        Ok(Self {
            file: AppendFile::create(path.as_ref(), mode)?,
            tombstones: false,
        })
    }

    /// Also write a `{"id":…,"deleted":true}` line for each deletion.
    pub fn with_tombstones(mut self, on: bool) -> Self {
        self.tombstones = on;
        self
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Bytes written, including the ones not yet committed.
    pub fn len(&self) -> u64 {
        self.file.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Sink for JsonlSink {
    async fn write(&mut self, doc: &Document) -> Result<()> {
        let buf = self.file.buffer();
        serde_json::to_writer(&mut *buf, doc)?;
        buf.push(b'\n');
        self.file.maybe_flush()
    }

    async fn delete(&mut self, id: &str) -> Result<()> {
        if self.tombstones {
            let buf = self.file.buffer();
            serde_json::to_writer(&mut *buf, &serde_json::json!({"id": id, "deleted": true}))?;
            buf.push(b'\n');
            self.file.maybe_flush()?;
        }
        Ok(())
    }

    async fn commit(&mut self) -> Result<SinkPosition> {
        self.file.commit()
    }

    async fn restore(&mut self, committed: Option<&SinkPosition>) -> Result<()> {
        self.file.restore(committed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn restore_drops_uncommitted_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut sink = JsonlSink::create(&path).unwrap();
        sink.restore(None).await.unwrap();
        sink.write(&Document::new("t", "1", "one")).await.unwrap();
        let pos = sink.commit().await.unwrap();
        sink.write(&Document::new("t", "2", "two")).await.unwrap();
        sink.commit().await.unwrap();
        drop(sink);

        let mut again = JsonlSink::create(&path).unwrap();
        again.restore(Some(&pos)).await.unwrap();
        again
            .write(&Document::new("t", "3", "three"))
            .await
            .unwrap();
        again.commit().await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<Document>(l).unwrap().id)
            .collect();
        assert_eq!(ids, ["1", "3"]);
    }

    #[tokio::test]
    async fn a_shorter_file_than_committed_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut sink = JsonlSink::create(&path).unwrap();
        sink.write(&Document::new("t", "1", "one")).await.unwrap();
        let pos = sink.commit().await.unwrap();
        drop(sink);
        std::fs::write(&path, b"").unwrap();
        let mut again = JsonlSink::create(&path).unwrap();
        let err = again.restore(Some(&pos)).await.unwrap_err();
        assert!(err.to_string().contains("remove the state"), "{err}");
    }

    #[tokio::test]
    async fn restoring_onto_another_file_is_refused_and_leaves_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        let mut sink = JsonlSink::create(&a).unwrap();
        sink.write(&Document::new("t", "1", "one")).await.unwrap();
        let pos = sink.commit().await.unwrap();
        drop(sink);
        let precious = "{\"id\":\"keep me\"}\n".repeat(100);
        std::fs::write(&b, &precious).unwrap();

        let mut other = JsonlSink::create(&b).unwrap();
        let err = other.restore(Some(&pos)).await.unwrap_err();
        let text = err.to_string();
        let (a, b) = (
            std::fs::canonicalize(&a).unwrap(),
            std::fs::canonicalize(&b).unwrap(),
        );
        assert!(
            text.contains(&format!("belongs to the output {}", a.display())),
            "{text}"
        );
        assert!(
            text.contains(&format!("{} was left untouched", b.display())),
            "{text}"
        );
        assert_eq!(std::fs::read_to_string(&b).unwrap(), precious);
    }

    #[tokio::test]
    async fn a_changed_committed_prefix_is_refused_not_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut sink = JsonlSink::create(&path).unwrap();
        sink.write(&Document::new("t", "1", "one")).await.unwrap();
        let pos = sink.commit().await.unwrap();
        drop(sink);
        // Someone rewrote the file in place, longer than before.
        let rewritten = "{\"id\":\"x\"}\n".repeat(50);
        std::fs::write(&path, &rewritten).unwrap();
        let mut again = JsonlSink::create(&path).unwrap();
        let err = again.restore(Some(&pos)).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("are not the ones the last sync committed"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), rewritten);
    }

    #[tokio::test]
    async fn tombstones_are_opt_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut sink = JsonlSink::create(&path).unwrap().with_tombstones(true);
        sink.delete("gone").await.unwrap();
        sink.commit().await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"deleted\":true,\"id\":\"gone\"}\n"
        );
    }
}
