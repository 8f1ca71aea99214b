//! `connector-service`: the sync service binary.
//!
//! `connector-service serve` runs the webhook server; without `AMQP_URL`
//! and `DATABASE_URL` it also runs the sync jobs in-process (the embedded
//! default). `connector-service worker` runs jobs from the work queue.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use connector_core::CancellationToken;
use connector_core::credentials::{SecretString, StoreKey};
use connector_service::app::{self, KEY_VAR, ServiceConfig};

#[derive(Parser)]
#[command(
    name = "connector-service",
    version,
    about = "The connector SDK's sync service"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Where the HTTP server listens.
    #[arg(
        long,
        env = "CONNECTOR_SERVICE_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    listen: SocketAddr,
    /// State, credentials and history of the embedded default.
    #[arg(
        long,
        env = "CONNECTOR_SERVICE_DATA_DIR",
        default_value = "connector-service-data",
        global = true
    )]
    data_dir: PathBuf,
    /// JSONL output directory (default: <data-dir>/output).
    #[arg(long, env = "CONNECTOR_SERVICE_OUTPUT_DIR", global = true)]
    output_dir: Option<PathBuf>,
    /// Allow `fs` connections, reading directories under this one only
    /// (without it, `fs` connections are refused).
    #[arg(long, env = "CONNECTOR_SERVICE_FS_ROOT", global = true)]
    fs_root: Option<PathBuf>,
    /// Concurrent sync jobs in this process.
    #[arg(
        long,
        env = "CONNECTOR_SERVICE_WORKERS",
        default_value_t = 2,
        global = true
    )]
    workers: usize,
    /// Commit sync progress after this many documents.
    #[arg(
        long,
        env = "CONNECTOR_SERVICE_COMMIT_EVERY",
        default_value_t = 1000,
        global = true
    )]
    commit_every: usize,
    /// Jobs a worker process takes from the queue at a time.
    #[arg(
        long,
        env = "CONNECTOR_SERVICE_PREFETCH",
        default_value_t = 2,
        global = true
    )]
    prefetch: u16,
    /// The RabbitMQ work queue of sync jobs.
    #[arg(long, env = "CONNECTOR_SERVICE_WORK_QUEUE", default_value = connector_service::amqp::WORK_QUEUE, global = true)]
    work_queue: String,
    /// Where documents go: `jsonl` (files under the output directory),
    /// `postgres` (the documents table; distributed only) or `http` (POST
    /// batches to CONNECTOR_SERVICE_INGEST_URL, bearer CONNECTOR_SERVICE_INGEST_TOKEN).
    #[arg(
        long,
        env = "CONNECTOR_SERVICE_SINK",
        default_value = "jsonl",
        global = true
    )]
    sink: String,
    /// Largest webhook body, in bytes.
    #[arg(
        long,
        env = "CONNECTOR_SERVICE_BODY_LIMIT",
        default_value_t = 65536,
        global = true
    )]
    body_limit: usize,
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
enum Command {
    /// The webhook server (and, embedded, the workers).
    Serve,
    /// A worker taking sync jobs from the RabbitMQ work queue (distributed only).
    Worker,
    /// Re-seal every stored credential under CONNECTOR_SERVICE_NEW_KEY
    /// (run with the service stopped; start it again with the new key).
    RotateKey,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONNECTOR_SERVICE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> connector_core::Result<()> {
    let token = std::env::var("CONNECTOR_SERVICE_TOKEN").map_err(|_| {
        connector_core::Error::config(
            "set CONNECTOR_SERVICE_TOKEN to the bearer token webhooks must carry",
        )
    })?;
    let key = StoreKey::from_env(KEY_VAR)?;
    let mut config = ServiceConfig::new(SecretString::from(token), key, &cli.data_dir);
    config.listen = cli.listen;
    if let Some(dir) = cli.output_dir {
        config.output_dir = dir;
    }
    config.workers = cli.workers;
    config.fs_root = cli.fs_root;
    config.commit_every = cli.commit_every;
    config.body_limit = cli.body_limit;
    config.commit_interval = Duration::from_secs(5);
    config.prefetch = cli.prefetch;
    config.work_queue = cli.work_queue;
    config.sink = match cli.sink.as_str() {
        "jsonl" => app::SinkKind::Jsonl,
        "postgres" => app::SinkKind::Postgres,
        "http" => app::SinkKind::Http {
            url: std::env::var("CONNECTOR_SERVICE_INGEST_URL").map_err(|_| {
                connector_core::Error::config("the http sink needs CONNECTOR_SERVICE_INGEST_URL")
            })?,
            token: std::env::var("CONNECTOR_SERVICE_INGEST_TOKEN")
                .ok()
                .map(SecretString::from),
        },
        other => {
            return Err(connector_core::Error::config(format!(
                "unknown sink {other:?}: jsonl, postgres or http"
            )));
        }
    };
    config.amqp_url = std::env::var("AMQP_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from);
    config.database_url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from);
    let distributed = config.amqp_url.is_some() || config.database_url.is_some();
    let cancel = CancellationToken::new();
    spawn_signal_handler(cancel.clone());
    match (cli.command.unwrap_or(Command::Serve), distributed) {
        (Command::Serve, false) => {
            let running = app::embedded(&config, cancel.clone()).await?;
            app::serve(
                running.state,
                config.listen,
                config.body_limit,
                cancel,
                None,
            )
            .await
        }
        (Command::Serve, true) => {
            // The server's engine only verifies; its syncs are the workers'.
            let parts = app::distributed(&config, CancellationToken::new()).await?;
            let state = parts.app_state(&config);
            let _scheduler = parts.spawn_scheduler(&config, cancel.clone());
            app::serve(state, config.listen, config.body_limit, cancel, None).await
        }
        (Command::Worker, true) => {
            let parts = app::distributed(&config, cancel.clone()).await?;
            let result = connector_service::amqp::run_worker(
                Arc::clone(&parts.amqp),
                parts.engine,
                config.prefetch,
                cancel,
            )
            .await;
            parts.amqp.close().await;
            result
        }
        (Command::RotateKey, distributed) => {
            let new_key = StoreKey::from_env("CONNECTOR_SERVICE_NEW_KEY")?;
            if distributed {
                let url = config.database_url.as_ref().ok_or_else(|| {
                    connector_core::Error::config("rotate-key needs DATABASE_URL")
                })?;
                let db = connector_service::pg::Database::connect(
                    connector_core::credentials::ExposeSecret::expose_secret(url),
                    2,
                )
                .await?;
                let n = connector_service::pg::PgCredentialStore::new(db, config.key)
                    .rotate_key(&new_key)
                    .await?;
                eprintln!("re-sealed {n} credentials; start every process with the new key");
            } else {
                let store = connector_core::credentials::EncryptedFileStore::open(
                    config.data_dir.join("credentials.json"),
                    config.key,
                )
                .await?;
                store.rotate_key(new_key).await?;
                eprintln!("re-sealed the credential store; start the service with the new key");
            }
            Ok(())
        }
        (Command::Worker, false) => Err(connector_core::Error::config(
            "`worker` takes jobs from RabbitMQ: set AMQP_URL and DATABASE_URL (the embedded default runs jobs inside `serve`)",
        )),
    }
}

fn spawn_signal_handler(cancel: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopping: running syncs commit and stop");
        cancel.cancel();
    });
}
