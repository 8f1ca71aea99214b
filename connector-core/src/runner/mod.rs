//! The sync runner: drives any connector into any sink, commits checkpoints
//! only after the sink has made the documents before them durable, skips
//! unchanged documents, reports deletions, and resumes after a crash.
//!
//! Data flow: the connector's stream is polled by a producer that feeds a
//! bounded channel (back-pressure: a slow sink slows the source down); the
//! consumer seals each document's content hash, skips it when the index
//! says the sink already holds that content, and writes it otherwise. Every
//! [`RunnerOptions::commit_every`] documents (or
//! [`RunnerOptions::commit_interval`]) it commits, in this order:
//!
//! 1. the sink ([`Sink::commit`]: durable, returns its position);
//! 2. the content index (appends the ids just written, durably);
//! 3. the state (connector checkpoint + sink position + index length),
//!    replaced atomically in the [`CheckpointStore`].
//!
//! A crash anywhere leaves the previous state in force: the next run rolls
//! the sink and index back to the lengths it names and resumes the
//! connector from its checkpoint, so nothing is lost and — with a sink that
//! rolls back, like the file sinks — nothing is delivered twice.
//!
//! Guards against the unlucky and the hostile, in the order a run meets them:
//! - a run holds [`CheckpointStore::lock`] on its connection from start to
//!   end, so a second sync of the same connection fails at once;
//! - the content index is checked against the state before anything is
//!   touched (a cut or removed index would mean duplicates);
//! - the sink checks that the committed position is its own before rolling
//!   back (the file sinks compare path and a fingerprint), and the state
//!   records a position from the very start so that check always has one;
//! - a document whose id the index cannot record is a per-document failure;
//! - everything the stream delivered is committed *before* the id listing
//!   that detects deletions, so a kill during a long listing redoes nothing;
//! - a deletion pass that would remove more than
//!   [`RunnerOptions::max_deletion_share`] of what the sink holds (or all of
//!   it, from a listing that saw nothing) is refused as a [`SyncWarning`]
//!   unless [`RunnerOptions::allow_mass_delete`] says otherwise.

mod events;
mod state;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::checkpoint::CheckpointStore;
use crate::connector::{Checkpoint, Connector, DocumentFailure, Item, ItemStream, TimeWindow};
use crate::content_index::{ContentIndex, IdSet, MAX_ID_BYTES, id_hash};
use crate::error::{Error, ErrorKind, Result};
use crate::sink::Sink;

pub use events::{
    NoopObserver, SyncEvent, SyncObserver, SyncStatus, SyncWarning, VerificationEvent,
};
pub use state::{InProgress, SyncState};

/// Which documents a run asks the connector for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Resume an interrupted sync; otherwise everything changed since the
    /// last completed sync (everything, the first time).
    Incremental,
    /// The whole source, ignoring the last completed sync (an interrupted
    /// full sync is resumed). Unchanged documents are still skipped.
    Full,
    /// Everything changed since this instant.
    Since(DateTime<Utc>),
}

/// Tuning knobs; the defaults suit most hosts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunnerOptions {
    /// Commit after this many documents written, skipped or failed.
    pub commit_every: usize,
    /// …or after this much time with uncommitted documents or a new checkpoint.
    pub commit_interval: Duration,
    /// Items buffered between the connector and the sink.
    pub channel_capacity: usize,
    /// Skip documents whose content hash the sink already holds.
    pub skip_unchanged: bool,
    /// After the sync, list ids through [`crate::SlimConnector`] (when the
    /// connector is one) and report the ones gone from the source.
    pub detect_deletions: bool,
    /// An incremental window starts this much before the last one ended,
    /// to absorb clock skew between us and the source (the overlap costs
    /// nothing: unchanged documents are skipped).
    pub overlap: Duration,
    /// How many per-document failures the [`SyncReport`] keeps (all are
    /// counted and passed to the observer).
    pub max_reported_failures: usize,
    /// Emit a progress event every this many items.
    pub progress_every: u64,
    /// The largest share (0.0 to 1.0) of the documents the sink holds that
    /// one deletion pass may remove; a pass that would remove more is
    /// refused whole with a [`SyncWarning::MassDeletionRefused`], and so is
    /// one that would remove everything because the listing saw nothing,
    /// whatever this share. A source answering the wrong shape, an expired
    /// scope or a misconfigured filter looks exactly like a mass deletion;
    /// a real one is rare enough to ask for consent.
    ///
    /// This guards the end-of-sync listing, which infers deletions from
    /// absence. Deletions a change feed states one by one
    /// ([`Item::Deleted`]) are applied as they come: a malformed answer
    /// cannot produce them, and holding them back would lose them when the
    /// feed's position moves on.
    pub max_deletion_share: f64,
    /// Apply every deletion pass, however large (for a host that knows the
    /// source was emptied on purpose).
    pub allow_mass_delete: bool,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            commit_every: 1000,
            commit_interval: Duration::from_secs(5),
            channel_capacity: 256,
            skip_unchanged: true,
            detect_deletions: true,
            overlap: Duration::from_secs(60),
            max_reported_failures: 100,
            progress_every: 100,
            max_deletion_share: 0.5,
            allow_mass_delete: false,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// The window synced (`None` for a connector that can only load everything).
    pub window: Option<TimeWindow>,
    /// Whether the run continued an interrupted sync.
    pub resumed: bool,
    /// Documents delivered to the sink.
    pub documents_processed: u64,
    /// Documents skipped as unchanged.
    pub documents_skipped: u64,
    /// Objects that failed one by one.
    pub documents_failed: u64,
    /// Documents found deleted at the source.
    pub documents_deleted: u64,
    /// The first failures (see [`RunnerOptions::max_reported_failures`]).
    pub failures: Vec<DocumentFailure>,
    /// Why deletion detection was skipped, when the id listing failed
    /// (nothing is reported deleted from a partial listing); also in
    /// [`SyncReport::warnings`].
    pub deletions_skipped: Option<String>,
    /// What a person should know about this run (a refused mass deletion,
    /// a failed id listing), in the order it happened.
    pub warnings: Vec<SyncWarning>,
    /// What the connector's requests did during this run, when it counts them.
    pub source: Option<crate::connector::SourceMetrics>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// Drives connectors into sinks with checkpoints in a [`CheckpointStore`].
///
/// ```
/// # async fn demo() -> connector_core::Result<()> {
/// use std::sync::Arc;
/// use connector_core::checkpoint::MemoryCheckpointStore;
/// use connector_core::runner::{SyncMode, SyncRunner};
/// use connector_core::sink::MemorySink;
/// # use connector_core::*;
/// # struct Empty;
/// # #[async_trait::async_trait]
/// # impl Connector for Empty {
/// #     fn kind(&self) -> &str { "empty" }
/// #     async fn validate(&self) -> Result<AvailableOptions> { Ok(AvailableOptions::default()) }
/// #     fn as_load(&self) -> Option<&dyn LoadConnector> { Some(self) }
/// # }
/// # impl LoadConnector for Empty {
/// #     fn load(&self) -> ItemStream<'_> { Box::pin(futures::stream::empty()) }
/// # }
/// # let connector = Empty;
///
/// let runner = SyncRunner::new("my-connection", Arc::new(MemoryCheckpointStore::default()));
/// let mut sink = MemorySink::default();
/// let report = runner.run(&connector, &mut sink, SyncMode::Incremental).await?;
/// println!("{} documents, {} unchanged", report.documents_processed, report.documents_skipped);
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
pub struct SyncRunner {
    connection_id: String,
    tenant_id: String,
    store: Arc<dyn CheckpointStore>,
    options: RunnerOptions,
    cancel: CancellationToken,
    observer: Arc<dyn SyncObserver>,
}

impl std::fmt::Debug for SyncRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncRunner")
            .field("connection_id", &self.connection_id)
            .field("tenant_id", &self.tenant_id)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    processed: u64,
    skipped: u64,
    failed: u64,
    deleted: u64,
}

impl Counts {
    fn items(&self) -> u64 {
        self.processed + self.skipped + self.failed
    }
}

/// The mutable pieces one run threads through its steps.
struct Run<'a> {
    sink: &'a mut dyn Sink,
    index: ContentIndex,
    state: SyncState,
    counts: Counts,
    failures: Vec<DocumentFailure>,
    latest_checkpoint: Option<Checkpoint>,
    /// Documents written, skipped or failed since the last commit.
    uncommitted: usize,
    /// Whether a checkpoint arrived since the last commit: a resync of an
    /// unchanged source writes nothing but must still save how far it got.
    checkpoint_moved: bool,
    last_commit: Instant,
}

impl SyncRunner {
    /// A runner for `connection_id`, keeping state in `store`.
    pub fn new(connection_id: impl Into<String>, store: Arc<dyn CheckpointStore>) -> Self {
        Self {
            connection_id: connection_id.into(),
            tenant_id: String::new(),
            store,
            options: RunnerOptions::default(),
            cancel: CancellationToken::new(),
            observer: Arc::new(NoopObserver),
        }
    }

    /// Set the tenant named in events.
    pub fn with_tenant(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = tenant_id.into();
        self
    }

    /// Replace the options.
    pub fn with_options(mut self, options: RunnerOptions) -> Self {
        self.options = options;
        self
    }

    /// Receive events, failures and deletions.
    pub fn with_observer(mut self, observer: Arc<dyn SyncObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// Stop when `token` is cancelled: the run commits what the sink has
    /// accepted and returns an [`ErrorKind::Cancelled`] error; the next run resumes.
    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// The options in force.
    pub fn options(&self) -> &RunnerOptions {
        &self.options
    }

    /// The stored state of this connection, if any.
    pub async fn state(&self) -> Result<Option<SyncState>> {
        let Some(bytes) = self.store.load(&self.connection_id).await? else {
            return Ok(None);
        };
        let state: SyncState = serde_json::from_slice(&bytes).map_err(|e| {
            Error::decode(
                format!(
                    "stored sync state of `{}` is unreadable",
                    self.connection_id
                ),
                e,
            )
        })?;
        if state.version != state::STATE_VERSION {
            return Err(Error::config(format!(
                "stored sync state of `{}` has version {}, this SDK reads {}: remove the state to start over",
                self.connection_id,
                state.version,
                state::STATE_VERSION
            )));
        }
        Ok(Some(state))
    }

    /// Run `connector.validate()` and return the verification event.
    pub async fn verify(&self, connector: &dyn Connector) -> VerificationEvent {
        let result = connector.validate().await;
        VerificationEvent::from_result(&self.connection_id, &self.tenant_id, &result)
    }

    /// Sync `connector` into `sink`.
    ///
    /// Emits `sync_started`, progress events, then `sync_completed` or
    /// `sync_failed`. On error the stored state still names the last
    /// commit, so running again resumes.
    pub async fn run(
        &self,
        connector: &dyn Connector,
        sink: &mut dyn Sink,
        mode: SyncMode,
    ) -> Result<SyncReport> {
        let started = Instant::now();
        self.emit(SyncStatus::SyncStarted, Counts::default(), None);
        let mut report = SyncReport::default();
        let metrics_before = connector.metrics();
        let result = self.run_inner(connector, sink, mode, &mut report).await;
        report.elapsed = started.elapsed();
        report.source = connector
            .metrics()
            .map(|after| after.since(&metrics_before.unwrap_or_default()));
        let counts = Counts {
            processed: report.documents_processed,
            skipped: report.documents_skipped,
            failed: report.documents_failed,
            deleted: report.documents_deleted,
        };
        match result {
            Ok(()) => {
                self.emit(SyncStatus::SyncCompleted, counts, None);
                Ok(report)
            }
            Err(e) => {
                self.emit(SyncStatus::SyncFailed, counts, Some(e.to_string()));
                Err(e)
            }
        }
    }

    async fn run_inner(
        &self,
        connector: &dyn Connector,
        sink: &mut dyn Sink,
        mode: SyncMode,
        report: &mut SyncReport,
    ) -> Result<()> {
        // Held until this function returns: the whole run, commits included.
        let _lock = self.store.lock(&self.connection_id).await?;
        let mut state = self.state().await?.unwrap_or_default();
        let now = Utc::now();
        let (window, from, resumed) = self.plan(&state, mode, now);
        report.window = Some(window);
        report.resumed = resumed;

        // Check everything stored before touching the sink.
        let index = ContentIndex::load(self.store.as_ref(), &self.connection_id, state.index_len)
            .await
            .map_err(|e| e.context("loading the content index"))?;
        sink.restore(state.sink.as_ref())
            .await
            .map_err(|e| e.context("restoring the output to the last commit"))?;
        if state.sink.is_none() {
            // Record the sink's identity before anything is written: a crash
            // before the first commit must not let the next run (perhaps
            // with another output) roll back a file this run never wrote.
            state.sink = Some(sink.commit().await?);
        }
        let started_at = match &state.in_progress {
            Some(p) if resumed => p.started_at,
            _ => now,
        };
        state.in_progress = Some(InProgress {
            window,
            checkpoint: from.clone(),
            started_at,
        });
        self.save_state(&state).await?;

        // Only a fresh incremental run starts from the carried change token.
        let feed_reports_deletions = matches!(mode, SyncMode::Incremental)
            && !resumed
            && from.is_some()
            && connector
                .as_checkpointed()
                .is_some_and(|c| c.checkpoint_continues() && c.reports_deletions());
        let (stream, windowed) = open_stream(connector, window, from.clone())?;
        if !windowed {
            report.window = None;
        }
        let mut run = Run {
            sink,
            index,
            state,
            counts: Counts::default(),
            failures: Vec::new(),
            latest_checkpoint: from,
            uncommitted: 0,
            checkpoint_moved: false,
            last_commit: Instant::now(),
        };
        let result = self.pump(stream, &mut run).await;
        let result = match result {
            // A change feed continuing from the last sync reported its
            // deletions already: listing every id would only cost requests.
            Ok(()) if self.options.detect_deletions && feed_reports_deletions => Ok(()),
            Ok(()) if self.options.detect_deletions => match connector.as_slim() {
                Some(slim) => {
                    // Listing every id can take long: keep what the stream
                    // delivered first, so a kill during it redoes nothing.
                    self.commit(&mut run).await?;
                    match self.list_ids(slim).await {
                        Ok(seen) => self.apply_deletions(seen, &mut run, report).await,
                        Err(e) if e.kind() == ErrorKind::Cancelled => Err(e),
                        Err(e) => {
                            report.deletions_skipped = Some(e.to_string());
                            self.warn(
                                report,
                                SyncWarning::DeletionListingFailed {
                                    reason: e.to_string(),
                                },
                            );
                            Ok(())
                        }
                    }
                }
                None => Ok(()),
            },
            other => other,
        };
        let result = match result {
            Ok(()) => {
                run.state.in_progress = None;
                // Advance the incremental mark only when this window joins
                // the last one: a `--since` later than it leaves a gap that
                // the next incremental run must still cover.
                let joins = window.is_full()
                    || run
                        .state
                        .last_completed
                        .is_some_and(|last| window.start <= last);
                if joins {
                    run.state.last_completed = Some(window.end);
                }
                let continues = connector
                    .as_checkpointed()
                    .is_some_and(|c| c.checkpoint_continues());
                run.state.carried = if continues && windowed {
                    run.latest_checkpoint.clone()
                } else {
                    None
                };
                self.commit(&mut run).await
            }
            Err(e) => Err(e),
        };
        report.documents_processed = run.counts.processed;
        report.documents_skipped = run.counts.skipped;
        report.documents_failed = run.counts.failed;
        report.documents_deleted = run.counts.deleted;
        report.failures = run.failures;
        result
    }

    /// Decide the window, the checkpoint to start from, and whether this resumes.
    fn plan(
        &self,
        state: &SyncState,
        mode: SyncMode,
        now: DateTime<Utc>,
    ) -> (TimeWindow, Option<Checkpoint>, bool) {
        if let Some(p) = &state.in_progress {
            let same_kind = match mode {
                SyncMode::Incremental => true,
                SyncMode::Full => p.window.is_full(),
                SyncMode::Since(t) => p.window.start == t,
            };
            if same_kind {
                return (p.window, p.checkpoint.clone(), true);
            }
        }
        let overlap = chrono::Duration::from_std(self.options.overlap).unwrap_or_default();
        let start = match mode {
            SyncMode::Full => None,
            SyncMode::Since(t) => Some(t),
            SyncMode::Incremental => state.last_completed.map(|t| t - overlap),
        };
        let window = match start {
            Some(start) if start > DateTime::<Utc>::UNIX_EPOCH => TimeWindow::new(start, now),
            _ => TimeWindow::until(now),
        };
        // A change token from the last completed sync continues only an
        // incremental sync; Full and Since start over.
        let from = match mode {
            SyncMode::Incremental => state.carried.clone(),
            SyncMode::Full | SyncMode::Since(_) => None,
        };
        (window, from, false)
    }

    async fn pump(&self, stream: ItemStream<'_>, run: &mut Run<'_>) -> Result<()> {
        let (tx, rx) = mpsc::channel::<Result<Item>>(self.options.channel_capacity.max(1));
        let stop = self.cancel.child_token();
        let producer = async {
            let mut stream = stream;
            loop {
                let next = tokio::select! {
                    biased;
                    _ = stop.cancelled() => break,
                    next = stream.next() => next,
                };
                let Some(item) = next else { break };
                let fatal = item.is_err();
                let sent = tokio::select! {
                    biased;
                    _ = stop.cancelled() => break,
                    sent = tx.send(item) => sent,
                };
                if sent.is_err() || fatal {
                    break;
                }
            }
            drop(tx);
        };
        let consumer = async {
            let result = self.consume(rx, run).await;
            stop.cancel();
            result
        };
        let ((), result) = futures::join!(producer, consumer);
        result
    }

    async fn consume(&self, mut rx: mpsc::Receiver<Result<Item>>, run: &mut Run<'_>) -> Result<()> {
        loop {
            let next = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    // Keep what the sink has accepted, then stop.
                    self.commit(run).await?;
                    return Err(Error::new(ErrorKind::Cancelled, "sync cancelled; run again to resume"));
                }
                next = rx.recv() => next,
            };
            let Some(item) = next else { break };
            let item = match item {
                Ok(item) => item,
                Err(source_error) => {
                    // The source failed, the sink did not: keep its progress.
                    if let Err(commit_error) = self.commit(run).await {
                        tracing::warn!(error = %commit_error, "commit after a source error failed");
                    }
                    return Err(source_error);
                }
            };
            if !matches!(item, Item::Checkpoint(_)) {
                run.uncommitted += 1;
            }
            let item = match item {
                Item::Document(doc) if doc.id.len() > MAX_ID_BYTES => {
                    Item::Failure(DocumentFailure::new(
                        // The id itself would flood every log it reaches.
                        format!("{}…", truncate_utf8(&doc.id, 200)),
                        format!(
                            "the document id is {} bytes long, over the limit of {MAX_ID_BYTES}",
                            doc.id.len()
                        ),
                    ))
                }
                other => other,
            };
            match item {
                Item::Document(mut doc) => {
                    doc.seal();
                    if self.options.skip_unchanged
                        && run.index.is_unchanged(&doc.id, &doc.content_hash)
                    {
                        run.counts.skipped += 1;
                    } else {
                        run.sink.write(&doc).await?;
                        run.index.stage(&doc.id, &doc.content_hash);
                        run.counts.processed += 1;
                    }
                }
                Item::Failure(failure) => {
                    tracing::debug!(id = %failure.id, reason = %failure.reason, "document failed");
                    self.observer.on_failure(&failure);
                    run.counts.failed += 1;
                    if run.failures.len() < self.options.max_reported_failures {
                        run.failures.push(failure);
                    }
                }
                Item::Deleted(id) => {
                    if run.index.contains(&id) {
                        run.sink.delete(&id).await?;
                        run.index.stage_removal(&id);
                        self.observer.on_deleted(&id);
                        run.counts.deleted += 1;
                    }
                }
                Item::Checkpoint(checkpoint) => {
                    run.latest_checkpoint = Some(checkpoint);
                    run.checkpoint_moved = true;
                }
            }
            if run.uncommitted >= self.options.commit_every
                || ((run.uncommitted > 0 || run.checkpoint_moved)
                    && run.last_commit.elapsed() >= self.options.commit_interval)
            {
                self.commit(run).await?;
            }
            if self.options.progress_every > 0
                && run
                    .counts
                    .items()
                    .is_multiple_of(self.options.progress_every)
            {
                self.emit(SyncStatus::SyncProgress, run.counts, None);
            }
        }
        Ok(())
    }

    /// Sink first, then index, then state: see the module docs.
    async fn commit(&self, run: &mut Run<'_>) -> Result<()> {
        let position = run.sink.commit().await?;
        if let Some(len) = run
            .index
            .commit(self.store.as_ref(), &self.connection_id)
            .await?
        {
            run.state.index_len = len;
        }
        run.state.sink = Some(position);
        if let Some(progress) = &mut run.state.in_progress {
            progress.checkpoint = run.latest_checkpoint.clone();
        }
        self.save_state(&run.state).await?;
        run.uncommitted = 0;
        run.checkpoint_moved = false;
        run.last_commit = Instant::now();
        self.emit(SyncStatus::SyncProgress, run.counts, None);
        Ok(())
    }

    /// Every id the source lists now. A listing that fails half-way is an
    /// error, so that nothing is reported deleted from a partial list.
    async fn list_ids(&self, slim: &dyn crate::SlimConnector) -> Result<IdSet> {
        let mut seen = IdSet::default();
        let mut ids = slim.slim();
        loop {
            let next = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    return Err(Error::new(ErrorKind::Cancelled, "sync cancelled while listing ids; run again to resume"));
                }
                next = ids.next() => next,
            };
            match next {
                None => break,
                Some(entry) => {
                    seen.insert(id_hash(&entry?.id));
                }
            }
        }
        Ok(seen)
    }

    /// Report and remove the committed ids not in `seen` — unless that is
    /// a mass deletion the options do not allow, which removes nothing.
    async fn apply_deletions(
        &self,
        seen: IdSet,
        run: &mut Run<'_>,
        report: &mut SyncReport,
    ) -> Result<()> {
        let mut missing = Vec::new();
        run.index
            .for_each_missing(self.store.as_ref(), &self.connection_id, &seen, |id| {
                missing.push(id)
            })
            .await?;
        let listed = seen.len() as u64;
        drop(seen);
        let held = run.index.len() as u64;
        let would_delete = missing.len() as u64;
        if let Some(max_share) = self.refuses_deletions(would_delete, held, listed) {
            self.warn(
                report,
                SyncWarning::MassDeletionRefused {
                    would_delete,
                    held,
                    listed,
                    max_share,
                },
            );
            return Ok(());
        }
        for id in missing {
            run.sink.delete(&id).await?;
            run.index.stage_removal(&id);
            self.observer.on_deleted(&id);
            run.counts.deleted += 1;
            run.uncommitted += 1;
            if run.uncommitted >= self.options.commit_every {
                self.commit(run).await?;
            }
        }
        Ok(())
    }

    /// The share in force when deleting `would_delete` of `held` documents
    /// after a listing of `listed` ids is a refused mass deletion.
    fn refuses_deletions(&self, would_delete: u64, held: u64, listed: u64) -> Option<f64> {
        if self.options.allow_mass_delete || would_delete == 0 || held == 0 {
            return None;
        }
        // NaN (an unset or broken setting) allows nothing rather than everything.
        let share = self.options.max_deletion_share;
        let share = if share.is_nan() {
            0.0
        } else {
            share.clamp(0.0, 1.0)
        };
        let too_many = would_delete as f64 > share * held as f64;
        let everything_from_nothing = listed == 0 && would_delete >= held;
        (too_many || everything_from_nothing).then_some(share)
    }

    fn warn(&self, report: &mut SyncReport, warning: SyncWarning) {
        // The warning is data (report and observer); the log line is for
        // diagnostics, so it must not repeat it at a level hosts print.
        tracing::info!(connection = %self.connection_id, "{warning}");
        self.observer.on_warning(&warning);
        report.warnings.push(warning);
    }

    async fn save_state(&self, state: &SyncState) -> Result<()> {
        let bytes = serde_json::to_vec(state)?;
        self.store
            .save(&self.connection_id, &bytes)
            .await
            .map_err(|e| e.context("saving sync state"))
    }

    fn emit(&self, status: SyncStatus, counts: Counts, error_message: Option<String>) {
        self.observer.on_event(&SyncEvent {
            kind: "sync".into(),
            connection_id: self.connection_id.clone(),
            tenant_id: self.tenant_id.clone(),
            status,
            documents_processed: counts.processed,
            documents_skipped: counts.skipped,
            documents_failed: counts.failed,
            documents_deleted: counts.deleted,
            error_message,
            timestamp: Utc::now(),
        });
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate_utf8(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The connector's stream for this run (the richest it offers for this
/// window), and whether it honours the window.
fn open_stream<'a>(
    connector: &'a dyn Connector,
    window: TimeWindow,
    from: Option<Checkpoint>,
) -> Result<(ItemStream<'a>, bool)> {
    if let Some(c) = connector.as_checkpointed() {
        return Ok((c.resume(window, from), true));
    }
    if !window.is_full()
        && let Some(p) = connector.as_poll()
    {
        return Ok((p.poll(window), true));
    }
    if let Some(l) = connector.as_load() {
        // A full load each time; unchanged documents are skipped by hash.
        return Ok((l.load(), false));
    }
    if let Some(p) = connector.as_poll() {
        return Ok((p.poll(window), true));
    }
    Err(Error::config(format!(
        "connector `{}` implements none of LoadConnector, PollConnector or CheckpointedConnector",
        connector.kind()
    )))
}
