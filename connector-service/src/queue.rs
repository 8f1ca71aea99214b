//! Where sync jobs wait for a worker: the [`JobQueue`] trait and the
//! embedded default, [`InProcessQueue`] (tokio tasks in this process).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use connector_core::{Error, ErrorKind, Result};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::{Engine, SyncJob};

/// What became of a sync request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job, with this id.
    Queued(String),
    /// The connection already has a job queued or running: this request is
    /// part of it.
    Coalesced,
}

/// Accepts sync jobs for the workers.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Queue `job`, unless its connection already has a job queued or running.
    async fn enqueue(&self, job: SyncJob) -> Result<Enqueued>;

    /// Whether jobs can be accepted now (for `/readyz`).
    async fn is_ready(&self) -> bool {
        true
    }
}

/// Jobs run by tasks of this process, one per connection at a time.
#[derive(Debug)]
pub struct InProcessQueue {
    tx: mpsc::UnboundedSender<SyncJob>,
    pending: Arc<Mutex<HashSet<String>>>,
}

impl InProcessQueue {
    /// Start `workers` tasks running jobs through `engine`.
    pub fn start(engine: Arc<Engine>, workers: usize) -> (Self, Vec<JoinHandle<()>>) {
        let (tx, rx) = mpsc::unbounded_channel::<SyncJob>();
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let pending = Arc::new(Mutex::new(HashSet::new()));
        let handles = (0..workers.max(1))
            .map(|_| {
                let rx = Arc::clone(&rx);
                let engine = Arc::clone(&engine);
                let pending = Arc::clone(&pending);
                tokio::spawn(async move {
                    loop {
                        let job = { rx.lock().await.recv().await };
                        let Some(job) = job else { break };
                        if let Err(e) = engine.run_job(&job).await {
                            tracing::error!(job = %job.job_id, "job could not report: {e}");
                        }
                        pending
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&job.state_key());
                    }
                })
            })
            .collect();
        (Self { tx, pending }, handles)
    }
}

#[async_trait]
impl JobQueue for InProcessQueue {
    async fn enqueue(&self, job: SyncJob) -> Result<Enqueued> {
        let key = job.state_key();
        if !self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone())
        {
            return Ok(Enqueued::Coalesced);
        }
        let id = job.job_id.clone();
        if self.tx.send(job).is_err() {
            self.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
            return Err(Error::new(ErrorKind::Other, "the workers have stopped"));
        }
        Ok(Enqueued::Queued(id))
    }

    async fn is_ready(&self) -> bool {
        !self.tx.is_closed()
    }
}
