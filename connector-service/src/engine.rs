//! What a worker does with a request: verify credentials, run a sync job.
//!
//! The [`Engine`] is the same on the embedded default and on the
//! distributed service; only the stores, the sink factory, the history and
//! the status publisher behind it differ.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connector_core::checkpoint::CheckpointStore;
use connector_core::credentials::{CredentialKey, CredentialStore, ExposeSecret, StoredCredential};
use connector_core::runner::{RunnerOptions, SyncMode, SyncRunner};
use connector_core::sink::{JsonlSink, Sink};
use connector_core::{CancellationToken, Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::mapping;
use crate::metrics::Metrics;
use crate::status::{StatusMessage, StatusPublisher, SyncPhase, SyncStatusMessage, Verification};
use crate::webhook::Envelope;

/// One sync to run: what the queue carries. No credentials: the worker
/// looks them up by (tenant, connection, type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncJob {
    /// Unique per job; the job history's key.
    pub job_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The connection.
    pub connection_id: String,
    /// The connector kind.
    pub connection_type: String,
    /// The connector configuration, camelCase keys.
    pub config: Map<String, Value>,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
}

impl SyncJob {
    /// A job for a sync webhook, with a fresh id.
    pub fn new(envelope: &Envelope, config: Map<String, Value>) -> Self {
        Self {
            job_id: uuid::Uuid::new_v4().to_string(),
            tenant_id: envelope.tenant_id.clone(),
            connection_id: envelope.connection_id.clone(),
            connection_type: envelope.connection_type.clone(),
            config,
            requested_at: Utc::now(),
        }
    }

    /// The key of the connection's state: `tenant/connection`.
    pub fn state_key(&self) -> String {
        state_key(&self.tenant_id, &self.connection_id)
    }
}

/// The key of a connection's sync state.
pub fn state_key(tenant_id: &str, connection_id: &str) -> String {
    format!("{tenant_id}/{connection_id}")
}

/// One line of the job history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The job.
    pub job_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The connection.
    pub connection_id: String,
    /// The connector kind.
    pub connection_type: String,
    /// `running`, `completed`, `failed` or `coalesced`.
    pub status: String,
    /// When the worker began.
    pub started_at: DateTime<Utc>,
    /// When it ended, once it has.
    pub finished_at: Option<DateTime<Utc>>,
    /// Documents delivered.
    pub documents_processed: u64,
    /// Documents that failed one by one.
    pub documents_failed: u64,
    /// Why the job failed.
    pub error: Option<String>,
}

/// Where job history is kept.
#[async_trait]
pub trait JobHistory: Send + Sync {
    /// Record (insert or update by `job_id`) one entry.
    async fn record(&self, entry: &HistoryEntry) -> Result<()>;
}

/// Job history as JSON lines in a file (the embedded default).
#[derive(Debug)]
pub struct FileHistory {
    path: PathBuf,
    lock: tokio::sync::Mutex<()>,
}

impl FileHistory {
    /// Append to `path` (created owner-only when missing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: tokio::sync::Mutex::new(()),
        }
    }
}

#[async_trait]
impl JobHistory for FileHistory {
    async fn record(&self, entry: &HistoryEntry) -> Result<()> {
        use std::io::Write;
        let mut line = serde_json::to_vec(entry)
            .map_err(|e| Error::new(ErrorKind::Other, "cannot encode history").with_source(e))?;
        line.push(b'\n');
        let _guard = self.lock.lock().await;
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.path)?;
        file.write_all(&line)?;
        Ok(())
    }
}

/// Opens the sink of one connection's sync.
#[async_trait]
pub trait SinkFactory: Send + Sync {
    /// The sink for this job's connection.
    async fn open(&self, job: &SyncJob) -> Result<Box<dyn Sink>>;
}

/// A JSONL file per tenant and connection: `<dir>/<tenant>/<connection>.jsonl`.
#[derive(Debug, Clone)]
pub struct JsonlDirSinks {
    dir: PathBuf,
}

impl JsonlDirSinks {
    /// Files under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file of one connection.
    pub fn path(&self, tenant_id: &str, connection_id: &str) -> PathBuf {
        self.dir
            .join(tenant_id)
            .join(format!("{connection_id}.jsonl"))
    }
}

#[async_trait]
impl SinkFactory for JsonlDirSinks {
    async fn open(&self, job: &SyncJob) -> Result<Box<dyn Sink>> {
        let path = self.path(&job.tenant_id, &job.connection_id);
        if let Some(parent) = path.parent() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(parent)?;
        }
        Ok(Box::new(JsonlSink::create(path)?))
    }
}

/// What a sync job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Finished, with this many documents delivered.
    Completed(u64),
    /// Failed; the status said why.
    Failed(String),
    /// Another worker holds the connection: this job is folded into it.
    Coalesced,
}

/// Verifies credentials and runs sync jobs.
pub struct Engine {
    /// Sync state, per `tenant/connection`.
    pub checkpoints: Arc<dyn CheckpointStore>,
    /// Credentials, encrypted at rest.
    pub credentials: Arc<dyn CredentialStore>,
    /// Where status messages go.
    pub status: Arc<dyn StatusPublisher>,
    /// The job history.
    pub history: Arc<dyn JobHistory>,
    /// Where documents go.
    pub sinks: Arc<dyn SinkFactory>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Runner tuning.
    pub runner_options: RunnerOptions,
    /// The directory `fs` connections may read under; `None`: no `fs`.
    pub fs_root: Option<std::path::PathBuf>,
    /// Stops running syncs (they commit and fail as cancelled).
    pub cancel: CancellationToken,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// Cut every credential value out of `text`.
pub fn redact(text: &str, credentials: Option<&StoredCredential>) -> String {
    let mut text = text.to_string();
    if let Some(credentials) = credentials {
        for name in credentials.names() {
            if let Some(value) = credentials.get(name) {
                let value = value.expose_secret();
                if value.len() >= 4 {
                    text = text.replace(value, "[REDACTED]");
                }
            }
        }
    }
    text
}

impl Engine {
    /// Validate `credentials` through the connector, store them when they
    /// work, and publish the `verification` status.
    pub async fn verify(
        &self,
        envelope: &Envelope,
        settings: &Map<String, Value>,
        credentials: StoredCredential,
    ) -> Result<Verification> {
        self.metrics.verifications.inc();
        let result = async {
            let connector = mapping::build_connector(
                &envelope.connection_type,
                settings,
                Some(&credentials),
                self.fs_root.as_deref(),
            )?;
            connector.validate().await
        }
        .await;
        let message = match result {
            Ok(options) => {
                let key = CredentialKey::new(
                    &envelope.tenant_id,
                    &envelope.connection_id,
                    &envelope.connection_type,
                )?;
                match self.credentials.put(&key, credentials.clone()).await {
                    Ok(()) => Verification {
                        kind: "verification".into(),
                        connection_id: envelope.connection_id.clone(),
                        tenant_id: envelope.tenant_id.clone(),
                        status: "success".into(),
                        options: Some(
                            options
                                .0
                                .iter()
                                .map(|(kind, choices)| {
                                    let keys: Vec<&str> =
                                        choices.iter().map(|c| c.key.as_str()).collect();
                                    (kind.clone(), keys.join(","))
                                })
                                .collect(),
                        ),
                        error: None,
                    },
                    Err(e) => self.failed_verification(envelope, &e, &credentials),
                }
            }
            Err(e) => self.failed_verification(envelope, &e, &credentials),
        };
        self.status
            .publish(&StatusMessage::from(message.clone()))
            .await?;
        Ok(message)
    }

    fn failed_verification(
        &self,
        envelope: &Envelope,
        error: &Error,
        credentials: &StoredCredential,
    ) -> Verification {
        tracing::info!(
            tenant = %envelope.tenant_id,
            connection = %envelope.connection_id,
            "verification failed: {}",
            redact(&error.to_string(), Some(credentials))
        );
        Verification {
            kind: "verification".into(),
            connection_id: envelope.connection_id.clone(),
            tenant_id: envelope.tenant_id.clone(),
            status: "failed".into(),
            options: None,
            error: Some(redact(&error.to_string(), Some(credentials))),
        }
    }

    /// Run one sync job: `sync_started`, the sync (resuming from the stored
    /// checkpoint), then `sync_completed` or `sync_failed`, each in the job
    /// history. Returns an error only when a status could not be published
    /// or the history not written: the job should then be retried.
    pub async fn run_job(&self, job: &SyncJob) -> Result<JobOutcome> {
        let key = job.state_key();
        // One worker per connection, across processes: a job finding the
        // connection busy is folded into the run holding it.
        let _job_lock = match self.checkpoints.lock(&format!("{key}#job")).await {
            Ok(lock) => lock,
            Err(e) if e.kind() == ErrorKind::Io => {
                // Not recorded: a redelivered job carries the id of the
                // run still holding the lock, whose entry must stay as is.
                tracing::info!(job = %job.job_id, "connection busy: coalesced ({e})");
                self.metrics.jobs_coalesced.inc();
                return Ok(JobOutcome::Coalesced);
            }
            Err(e) => return Err(e),
        };
        self.metrics.jobs_running.inc();
        let result = self.run_locked(job).await;
        self.metrics.jobs_running.dec();
        result
    }

    fn entry(&self, job: &SyncJob, status: &str) -> HistoryEntry {
        HistoryEntry {
            job_id: job.job_id.clone(),
            tenant_id: job.tenant_id.clone(),
            connection_id: job.connection_id.clone(),
            connection_type: job.connection_type.clone(),
            status: status.into(),
            started_at: Utc::now(),
            finished_at: None,
            documents_processed: 0,
            documents_failed: 0,
            error: None,
        }
    }

    async fn run_locked(&self, job: &SyncJob) -> Result<JobOutcome> {
        let mut entry = self.entry(job, "running");
        self.history.record(&entry).await?;
        self.status
            .publish(
                &SyncStatusMessage::new(&job.tenant_id, &job.connection_id, SyncPhase::SyncStarted)
                    .into(),
            )
            .await?;
        let mut credentials = None;
        let result = self.sync(job, &mut credentials).await;
        entry.finished_at = Some(Utc::now());
        if let Err(e) = &result
            && e.kind() == ErrorKind::Cancelled
            && self.cancel.is_cancelled()
        {
            // Shutting down: the run committed; the job goes back to the
            // queue and resumes on another worker.
            entry.status = "queued".into();
            self.history.record(&entry).await?;
            return Err(Error::new(ErrorKind::Cancelled, "the worker is stopping"));
        }
        let mut message =
            SyncStatusMessage::new(&job.tenant_id, &job.connection_id, SyncPhase::SyncCompleted);
        let outcome = match result {
            Ok((processed, failed)) => {
                entry.status = "completed".into();
                entry.documents_processed = processed;
                entry.documents_failed = failed;
                message.documents_processed = Some(processed);
                self.metrics.jobs_completed.inc();
                self.metrics.documents.inc_by(processed);
                JobOutcome::Completed(processed)
            }
            Err(e) => {
                let text = redact(&e.to_string(), credentials.as_ref());
                tracing::warn!(job = %job.job_id, connection = %job.connection_id, "sync failed: {text}");
                entry.status = "failed".into();
                entry.error = Some(text.clone());
                message.status = SyncPhase::SyncFailed;
                message.error_message = Some(text.clone());
                self.metrics.jobs_failed.inc();
                JobOutcome::Failed(text)
            }
        };
        self.history.record(&entry).await?;
        self.status.publish(&message.into()).await?;
        Ok(outcome)
    }

    async fn sync(
        &self,
        job: &SyncJob,
        credentials: &mut Option<StoredCredential>,
    ) -> Result<(u64, u64)> {
        let key = CredentialKey::new(&job.tenant_id, &job.connection_id, &job.connection_type)?;
        *credentials = self.credentials.get(&key).await?;
        if credentials.is_none() && job.connection_type != "fs" {
            return Err(Error::new(
                ErrorKind::Auth,
                "no credentials are stored for this connection: verify them first (verify_credentials)",
            ));
        }
        let connector = mapping::build_connector(
            &job.connection_type,
            &job.config,
            credentials.as_ref(),
            self.fs_root.as_deref(),
        )?;
        let mut sink = self.sinks.open(job).await?;
        let runner = SyncRunner::new(job.state_key(), Arc::clone(&self.checkpoints))
            .with_tenant(job.tenant_id.clone())
            .with_options(self.runner_options.clone())
            .with_cancellation(self.cancel.child_token());
        let report = runner
            .run(connector.as_ref(), sink.as_mut(), SyncMode::Incremental)
            .await?;
        if let Some(source) = &report.source {
            self.metrics.source(&job.connection_type, source);
        }
        Ok((report.documents_processed, report.documents_failed))
    }
}
