//! Test doubles for the runner tests: a scriptable connector, a fault- and
//! probe-injecting sink wrapper, an event recorder, and file readers.

// Each test crate that includes this module uses a different part of it.
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use connector_core::runner::{SyncEvent, SyncObserver, SyncStatus, SyncWarning};
use connector_core::sink::{Sink, SinkPosition};
use connector_core::{
    AvailableOptions, CancellationToken, Checkpoint, CheckpointedConnector, Connector, Document,
    DocumentFailure, Error, ErrorKind, Item, ItemStream, LoadConnector, OptionChoice,
    PollConnector, Result, Section, SlimConnector, SlimDocument, SlimStream, TimeWindow,
};
use futures::StreamExt;
use tokio::sync::Notify;

/// The id of the `i`th document (zero-based): sorts in source order.
pub fn doc_id(i: usize) -> String {
    format!("doc-{i:04}")
}

/// `doc_id(0..n)`.
pub fn ids(n: usize) -> Vec<String> {
    (0..n).map(doc_id).collect()
}

/// Which capability traits [`Source`] exposes through `as_*`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caps {
    pub load: bool,
    pub poll: bool,
    pub checkpointed: bool,
    pub slim: bool,
}

/// A source fault that fires once.
#[derive(Debug, Clone)]
pub enum Fault {
    /// The stream ends with `Err(kind, message)` instead of the document at this index.
    FatalAt(usize, ErrorKind, String),
    /// The stream never yields the document at this index (a hung request).
    HangAt(usize),
}

/// A scriptable connector over an in-memory list of `(id, body)` documents.
///
/// A checkpointed stream yields `Checkpoint({"next": i + 1})` after the
/// document (or failure) at index `i`, and `resume` starts at `next`.
pub struct Source {
    pub caps: Caps,
    pub docs: Mutex<Vec<(String, String)>>,
    /// Ids that come out as [`Item::Failure`] instead of a document.
    pub failing: Mutex<HashSet<String>>,
    pub fault: Mutex<Option<Fault>>,
    /// `resume` calls: the `next` index of the checkpoint it was given.
    pub resumes: Mutex<Vec<Option<usize>>>,
    /// Windows `poll`/`resume` were asked for.
    pub windows: Mutex<Vec<TimeWindow>>,
    /// Documents yielded by any stream.
    pub produced: Arc<AtomicUsize>,
    /// `(written, max_gap)`: on each yielded document, record the largest
    /// `produced - written` seen.
    pub gap_probe: Option<(Arc<AtomicUsize>, Arc<AtomicUsize>)>,
    /// The slim listing fails after this many ids (once).
    pub slim_fail_after: Mutex<Option<usize>>,
    /// Cancelled by the slim listing as it lists its first id.
    pub slim_cancels: Option<CancellationToken>,
    /// The slim listing answers with no ids at all (a wrong-shape page
    /// decoded as empty).
    pub slim_lists_nothing: AtomicBool,
    /// Notified when the slim listing starts; with `slim_hangs` it then
    /// never ends (a listing slower than the process lives).
    pub slim_started: Option<Arc<Notify>>,
    pub slim_hangs: bool,
    /// What `validate` returns.
    pub valid: bool,
}

impl Source {
    pub fn new(caps: Caps, n: usize) -> Self {
        Self {
            caps,
            docs: Mutex::new(ids(n).into_iter().map(|id| (id, "v1".into())).collect()),
            failing: Mutex::default(),
            fault: Mutex::default(),
            resumes: Mutex::default(),
            windows: Mutex::default(),
            produced: Arc::default(),
            gap_probe: None,
            slim_fail_after: Mutex::default(),
            slim_cancels: None,
            slim_lists_nothing: AtomicBool::new(false),
            slim_started: None,
            slim_hangs: false,
            valid: true,
        }
    }

    pub fn checkpointed(n: usize) -> Self {
        Self::new(
            Caps {
                checkpointed: true,
                ..Caps::default()
            },
            n,
        )
    }

    pub fn set_fault(&self, fault: Fault) {
        *self.fault.lock().unwrap() = Some(fault);
    }

    pub fn resumes(&self) -> Vec<Option<usize>> {
        self.resumes.lock().unwrap().clone()
    }

    pub fn windows(&self) -> Vec<TimeWindow> {
        self.windows.lock().unwrap().clone()
    }

    /// Change the body of `id` (a new content hash).
    pub fn edit(&self, id: &str, body: &str) {
        let mut docs = self.docs.lock().unwrap();
        let entry = docs.iter_mut().find(|(i, _)| i == id).unwrap();
        entry.1 = body.into();
    }

    /// Remove `id` from the source.
    pub fn remove(&self, id: &str) {
        self.docs.lock().unwrap().retain(|(i, _)| i != id);
    }

    /// Add a document at the end of the source.
    pub fn push(&self, id: &str, body: &str) {
        self.docs.lock().unwrap().push((id.into(), body.into()));
    }

    fn items(&self, from: usize, checkpoints: bool) -> ItemStream<'_> {
        let docs = self.docs.lock().unwrap().clone();
        let failing = self.failing.lock().unwrap().clone();
        let fault = self.fault.lock().unwrap().take();
        let mut items: Vec<Result<Item>> = Vec::new();
        let mut hang = false;
        for (i, (id, body)) in docs.iter().enumerate().skip(from) {
            match &fault {
                Some(Fault::FatalAt(at, kind, message)) if *at == i => {
                    items.push(Err(Error::new(*kind, message.clone())));
                    break;
                }
                Some(Fault::HangAt(at)) if *at == i => {
                    hang = true;
                    break;
                }
                _ => {}
            }
            if failing.contains(id) {
                items.push(Ok(Item::Failure(DocumentFailure::new(
                    id.clone(),
                    format!("{id} is unreadable"),
                ))));
            } else {
                let mut doc = Document::new("test", id.clone(), format!("Title of {id}"));
                doc.sections.push(Section::text(body.clone()));
                items.push(Ok(Item::from(doc)));
            }
            if checkpoints {
                let cp = Checkpoint::new(&serde_json::json!({ "next": i + 1 })).unwrap();
                items.push(Ok(Item::Checkpoint(cp)));
            }
        }
        let produced = Arc::clone(&self.produced);
        let probe = self.gap_probe.clone();
        let stream = futures::stream::iter(items).inspect(move |item| {
            if matches!(item, Ok(Item::Document(_))) {
                let now = produced.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some((written, max_gap)) = &probe {
                    let gap = now - written.load(Ordering::SeqCst);
                    max_gap.fetch_max(gap, Ordering::SeqCst);
                }
            }
        });
        if hang {
            Box::pin(stream.chain(futures::stream::pending()))
        } else {
            Box::pin(stream)
        }
    }
}

#[async_trait]
impl Connector for Source {
    fn kind(&self) -> &str {
        "test"
    }

    async fn validate(&self) -> Result<AvailableOptions> {
        if self.valid {
            Ok(AvailableOptions::default().with(
                "spaces",
                vec![
                    OptionChoice::new("ENG", "Engineering"),
                    OptionChoice::new("PROD", "Product"),
                ],
            ))
        } else {
            Err(Error::new(ErrorKind::Auth, "API token rejected"))
        }
    }

    fn as_load(&self) -> Option<&dyn LoadConnector> {
        self.caps.load.then_some(self as &dyn LoadConnector)
    }

    fn as_poll(&self) -> Option<&dyn PollConnector> {
        self.caps.poll.then_some(self as &dyn PollConnector)
    }

    fn as_checkpointed(&self) -> Option<&dyn CheckpointedConnector> {
        self.caps
            .checkpointed
            .then_some(self as &dyn CheckpointedConnector)
    }

    fn as_slim(&self) -> Option<&dyn SlimConnector> {
        self.caps.slim.then_some(self as &dyn SlimConnector)
    }
}

impl LoadConnector for Source {
    fn load(&self) -> ItemStream<'_> {
        self.items(0, false)
    }
}

impl PollConnector for Source {
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.windows.lock().unwrap().push(window);
        self.items(0, false)
    }
}

impl CheckpointedConnector for Source {
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        self.windows.lock().unwrap().push(window);
        let next = from.map(|cp| usize::try_from(cp.0["next"].as_u64().unwrap()).unwrap());
        self.resumes.lock().unwrap().push(next);
        self.items(next.unwrap_or(0), true)
    }
}

impl SlimConnector for Source {
    fn slim(&self) -> SlimStream<'_> {
        if let Some(started) = &self.slim_started {
            started.notify_one();
        }
        if self.slim_hangs {
            return Box::pin(futures::stream::pending());
        }
        if self.slim_lists_nothing.load(Ordering::SeqCst) {
            return Box::pin(futures::stream::empty());
        }
        let ids: Vec<String> = self
            .docs
            .lock()
            .unwrap()
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        let mut entries: Vec<Result<SlimDocument>> = ids
            .into_iter()
            .map(|id| Ok(SlimDocument::new(id)))
            .collect();
        if let Some(after) = self.slim_fail_after.lock().unwrap().take() {
            entries.truncate(after);
            entries.push(Err(Error::new(
                ErrorKind::Transient,
                "id listing: 503 from /ids?page=2",
            )));
        }
        let cancel = self.slim_cancels.clone();
        Box::pin(futures::stream::iter(entries).inspect(move |_| {
            if let Some(token) = &cancel {
                token.cancel();
            }
        }))
    }
}

/// Wraps a real sink: counts writes, and can fail a write or a commit,
/// yield on every write (a slow sink), or cancel a token on a write.
pub struct Probe<S> {
    pub inner: S,
    pub written: Arc<AtomicUsize>,
    pub writes: usize,
    pub commits: usize,
    /// Fail the nth `write` call (1-based) before it reaches `inner`.
    pub fail_write_at: Option<usize>,
    /// Fail the nth `commit` call (1-based) *after* `inner` committed, so
    /// the bytes are on disk but the runner never records the position.
    pub fail_commit_at: Option<usize>,
    /// Cancel the token after the nth write (1-based).
    pub cancel_at_write: Option<(usize, CancellationToken)>,
    pub slow: bool,
}

impl<S: Sink> Probe<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            written: Arc::default(),
            writes: 0,
            commits: 0,
            fail_write_at: None,
            fail_commit_at: None,
            cancel_at_write: None,
            slow: false,
        }
    }

    /// No more injected faults.
    pub fn disarm(&mut self) {
        self.fail_write_at = None;
        self.fail_commit_at = None;
        self.cancel_at_write = None;
    }
}

#[async_trait]
impl<S: Sink> Sink for Probe<S> {
    async fn write(&mut self, doc: &Document) -> Result<()> {
        self.writes += 1;
        if self.fail_write_at == Some(self.writes) {
            return Err(Error::new(
                ErrorKind::Io,
                format!("disk full at write {}", self.writes),
            ));
        }
        if self.slow {
            tokio::task::yield_now().await;
        }
        self.inner.write(doc).await?;
        self.written.fetch_add(1, Ordering::SeqCst);
        if let Some((at, token)) = &self.cancel_at_write
            && *at == self.writes
        {
            token.cancel();
        }
        Ok(())
    }

    async fn delete(&mut self, id: &str) -> Result<()> {
        self.inner.delete(id).await
    }

    async fn commit(&mut self) -> Result<SinkPosition> {
        self.commits += 1;
        let position = self.inner.commit().await?;
        if self.fail_commit_at == Some(self.commits) {
            return Err(Error::new(
                ErrorKind::Io,
                format!("fsync failed at commit {}", self.commits),
            ));
        }
        Ok(position)
    }

    async fn restore(&mut self, committed: Option<&SinkPosition>) -> Result<()> {
        self.inner.restore(committed).await
    }
}

/// Records everything the runner reports.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<SyncEvent>>,
    pub failures: Mutex<Vec<DocumentFailure>>,
    pub deleted: Mutex<Vec<String>>,
    pub warnings: Mutex<Vec<SyncWarning>>,
    /// Notified once when a progress event counts this many skipped documents.
    pub on_skipped: Option<(u64, Arc<Notify>)>,
}

impl Recorder {
    pub fn events(&self) -> Vec<SyncEvent> {
        self.events.lock().unwrap().clone()
    }

    pub fn statuses(&self) -> Vec<SyncStatus> {
        self.events().iter().map(|e| e.status).collect()
    }

    pub fn last(&self) -> SyncEvent {
        self.events().last().cloned().unwrap()
    }
}

impl SyncObserver for Recorder {
    fn on_event(&self, event: &SyncEvent) {
        if let Some((n, notify)) = &self.on_skipped
            && event.documents_skipped == *n
        {
            notify.notify_one();
        }
        self.events.lock().unwrap().push(event.clone());
    }

    fn on_failure(&self, failure: &DocumentFailure) {
        self.failures.lock().unwrap().push(failure.clone());
    }

    fn on_deleted(&self, id: &str) {
        self.deleted.lock().unwrap().push(id.to_owned());
    }

    fn on_warning(&self, warning: &SyncWarning) {
        self.warnings.lock().unwrap().push(warning.clone());
    }
}

/// Every line of a JSONL file, parsed; panics on a line that is not JSON.
pub fn jsonl_lines(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "torn last line in {}",
        path.display()
    );
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSONL line {line:?}: {e}"))
        })
        .collect()
}

/// The ids of the documents (not tombstones) in a JSONL file, in file order.
pub fn jsonl_ids(path: &Path) -> Vec<String> {
    jsonl_lines(path)
        .into_iter()
        .filter(|v| v.get("deleted").is_none())
        .map(|v| serde_json::from_value::<Document>(v).unwrap().id)
        .collect()
}

/// The header and the `id` column of a CSV file.
pub fn csv_ids(path: &Path) -> (Vec<String>, Vec<String>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let ids = reader
        .records()
        .map(|r| r.unwrap().get(0).unwrap().to_owned())
        .collect();
    (header, ids)
}
