//! Putting the service together from its settings: the embedded default
//! (no `AMQP_URL`, no `DATABASE_URL`) or the distributed service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use connector_core::checkpoint::FileCheckpointStore;
use connector_core::credentials::{EncryptedFileStore, SecretString, StoreKey};
use connector_core::runner::RunnerOptions;
use connector_core::{CancellationToken, Error, Result};
use tokio::task::JoinHandle;

use crate::amqp::{Amqp, AmqpPublisher, AmqpQueue};
use crate::engine::{Engine, FileHistory, JsonlDirSinks};
use crate::metrics::Metrics;
use crate::pg::{Database, PgJobs};
use crate::queue::InProcessQueue;
use crate::server::{AppState, DEFAULT_BODY_LIMIT, router};
use crate::sinks::{HttpIngestSinks, PgDocumentSinks};
use crate::status::{StatusPublisher, StdoutPublisher};

/// The environment variable holding the credential key (base64 of 32 bytes).
pub const KEY_VAR: &str = "CONNECTOR_SERVICE_KEY";

/// How the service runs.
#[derive(Debug)]
pub struct ServiceConfig {
    /// Where the HTTP server listens.
    pub listen: SocketAddr,
    /// The webhook bearer token.
    pub token: SecretString,
    /// The key credentials are encrypted with.
    pub key: StoreKey,
    /// State, credentials and history (embedded default).
    pub data_dir: PathBuf,
    /// JSONL output, one file per tenant and connection.
    pub output_dir: PathBuf,
    /// Concurrent sync jobs in this process.
    pub workers: usize,
    /// Largest webhook body.
    pub body_limit: usize,
    /// Commit sync progress after this many documents.
    pub commit_every: usize,
    /// …or after this long.
    pub commit_interval: Duration,
    /// `AMQP_URL`: with `database_url`, the distributed service.
    pub amqp_url: Option<SecretString>,
    /// `DATABASE_URL`.
    pub database_url: Option<SecretString>,
    /// The RabbitMQ work queue.
    pub work_queue: String,
    /// Jobs a worker process takes at a time (the consumer prefetch).
    pub prefetch: u16,
    /// Where documents go.
    pub sink: SinkKind,
    /// The most a scheduled run is delayed, per connection.
    pub max_jitter: Duration,
    /// The directory `fs` connections may read under; without it `fs`
    /// connections are refused (they read the service machine's files).
    pub fs_root: Option<PathBuf>,
}

/// Which sink the service writes to.
#[derive(Debug, Clone)]
pub enum SinkKind {
    /// A JSONL file per tenant and connection under `output_dir`.
    Jsonl,
    /// The `documents` table (distributed service only).
    Postgres,
    /// Batches POSTed to an ingest URL.
    Http {
        /// The URL.
        url: String,
        /// A bearer token for it.
        token: Option<SecretString>,
    },
}

impl ServiceConfig {
    /// Settings with defaults for everything but the token and the key.
    pub fn new(token: SecretString, key: StoreKey, data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token,
            key,
            output_dir: data_dir.join("output"),
            data_dir,
            workers: 2,
            body_limit: DEFAULT_BODY_LIMIT,
            commit_every: 1000,
            commit_interval: Duration::from_secs(5),
            amqp_url: None,
            database_url: None,
            work_queue: crate::amqp::WORK_QUEUE.to_string(),
            prefetch: 2,
            sink: SinkKind::Jsonl,
            max_jitter: Duration::from_secs(60),
            fs_root: None,
        }
    }

    /// The runner options these settings give.
    pub fn runner_options(&self) -> RunnerOptions {
        let mut options = RunnerOptions::default();
        options.commit_every = self.commit_every.max(1);
        options.commit_interval = self.commit_interval;
        options
    }
}

/// A running service: its router state and background tasks.
#[derive(Debug)]
pub struct Running {
    /// What the HTTP handlers share.
    pub state: Arc<AppState>,
    /// The engine running jobs.
    pub engine: Arc<Engine>,
    /// Worker tasks.
    pub tasks: Vec<JoinHandle<()>>,
}

/// The embedded default: file stores under `data_dir`, in-process workers,
/// status lines on stdout.
pub async fn embedded(config: &ServiceConfig, cancel: CancellationToken) -> Result<Running> {
    embedded_with(config, Arc::new(StdoutPublisher::default()), cancel).await
}

/// [`embedded`], publishing status messages to `status` instead of stdout.
pub async fn embedded_with(
    config: &ServiceConfig,
    status: Arc<dyn StatusPublisher>,
    cancel: CancellationToken,
) -> Result<Running> {
    let state_dir = config.data_dir.join("state");
    let checkpoints = Arc::new(FileCheckpointStore::open(&state_dir)?);
    let key = StoreKey::from_base64(config.key.to_base64().expose())?;
    let credentials =
        Arc::new(EncryptedFileStore::open(config.data_dir.join("credentials.json"), key).await?);
    let engine = Arc::new(Engine {
        checkpoints,
        credentials,
        status,
        history: Arc::new(FileHistory::new(config.data_dir.join("history.jsonl"))),
        sinks: match &config.sink {
            SinkKind::Jsonl => Arc::new(JsonlDirSinks::new(&config.output_dir)),
            SinkKind::Http { url, token } => Arc::new(HttpIngestSinks::new(url, token.clone())),
            SinkKind::Postgres => {
                return Err(Error::config(
                    "the PostgreSQL sink needs DATABASE_URL and AMQP_URL (the distributed service)",
                ));
            }
        },
        metrics: Arc::new(Metrics::new()),
        runner_options: config.runner_options(),
        fs_root: config.fs_root.clone(),
        cancel,
    });
    let (queue, tasks) = InProcessQueue::start(Arc::clone(&engine), config.workers);
    let state = Arc::new(AppState::new(
        &config.token,
        Arc::clone(&engine),
        Arc::new(queue),
    ));
    Ok(Running {
        state,
        engine,
        tasks,
    })
}

/// The distributed service's parts: PostgreSQL, RabbitMQ, and the engine over them.
#[derive(Debug)]
pub struct Distributed {
    /// The database (migrated).
    pub db: Database,
    /// The job table.
    pub jobs: PgJobs,
    /// The broker.
    pub amqp: Arc<Amqp>,
    /// The engine: PostgreSQL stores, status to `data_source_status`.
    pub engine: Arc<Engine>,
}

impl Distributed {
    /// The HTTP state: webhooks queue jobs on RabbitMQ.
    pub fn app_state(&self, config: &ServiceConfig) -> Arc<AppState> {
        Arc::new(
            AppState::new(&config.token, Arc::clone(&self.engine), self.queue())
                .with_schedules(self.jobs.clone(), config.max_jitter),
        )
    }

    /// The job queue: PostgreSQL coalescing, RabbitMQ delivery.
    pub fn queue(&self) -> Arc<dyn crate::queue::JobQueue> {
        Arc::new(AmqpQueue::new(Arc::clone(&self.amqp), self.jobs.clone()))
    }

    /// Run the scheduler (one across every process: the advisory lock's holder).
    pub fn spawn_scheduler(
        &self,
        config: &ServiceConfig,
        cancel: CancellationToken,
    ) -> JoinHandle<()> {
        let jobs = self.jobs.clone();
        let queue = self.queue();
        let jitter = config.max_jitter;
        tokio::spawn(async move {
            if let Err(e) =
                crate::schedule::run_scheduler(jobs, queue, Duration::from_secs(5), jitter, cancel)
                    .await
            {
                tracing::error!("the scheduler stopped: {e}");
            }
        })
    }
}

/// Connect to PostgreSQL (migrating it) and RabbitMQ as `config` says.
pub async fn distributed(config: &ServiceConfig, cancel: CancellationToken) -> Result<Distributed> {
    let (Some(amqp_url), Some(database_url)) = (&config.amqp_url, &config.database_url) else {
        return Err(Error::config(
            "the distributed service needs both AMQP_URL and DATABASE_URL (set neither for the embedded default)",
        ));
    };
    let db = Database::connect(database_url.expose(), config.workers.max(1) * 4 + 4).await?;
    let amqp = Arc::new(Amqp::new(amqp_url.expose(), &config.work_queue));
    let jobs = PgJobs::new(db.clone());
    let key = StoreKey::from_base64(config.key.to_base64().expose())?;
    let (checkpoints, credentials) = crate::pg::stores(&db, key);
    let engine = Arc::new(Engine {
        checkpoints,
        credentials,
        status: Arc::new(AmqpPublisher::new(Arc::clone(&amqp))),
        history: Arc::new(jobs.clone()),
        sinks: match &config.sink {
            SinkKind::Jsonl => Arc::new(JsonlDirSinks::new(&config.output_dir)),
            SinkKind::Http { url, token } => Arc::new(HttpIngestSinks::new(url, token.clone())),
            SinkKind::Postgres => Arc::new(PgDocumentSinks::new(db.clone())),
        },
        metrics: Arc::new(Metrics::new()),
        runner_options: config.runner_options(),
        fs_root: config.fs_root.clone(),
        cancel,
    });
    Ok(Distributed {
        db,
        jobs,
        amqp,
        engine,
    })
}

/// Serve `state` on `listen` until `cancel` fires; returns the bound address
/// through `bound` as soon as the socket is open.
pub async fn serve(
    state: Arc<AppState>,
    listen: SocketAddr,
    body_limit: usize,
    cancel: CancellationToken,
    bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::io(format!("cannot listen on {listen}"), e))?;
    let addr = listener.local_addr()?;
    tracing::info!("listening on http://{addr}");
    if let Some(bound) = bound {
        let _ = bound.send(addr);
    }
    axum::serve(listener, router(state, body_limit))
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await
        .map_err(|e| Error::io("the HTTP server stopped", e))
}

trait ExposeStr {
    fn expose(&self) -> &str;
}

impl ExposeStr for SecretString {
    fn expose(&self) -> &str {
        connector_core::credentials::ExposeSecret::expose_secret(self)
    }
}
