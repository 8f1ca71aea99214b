//! `sync`: the command-line face of the SDK.
//!
//! ```text
//! cargo run --release --example sync -- fs --path docs --out out.jsonl --state .sync-state
//! ```
//!
//! Writes one JSON document per line, keeps its checkpoint under `--state`
//! so a second run resumes or syncs only changes, shows progress, prints a
//! summary, and exits non-zero with a one-line reason on bad input.

mod cli;
mod progress;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use connector_core::checkpoint::{CheckpointStore, FileCheckpointStore, MemoryCheckpointStore};
use connector_core::runner::{RunnerOptions, SyncMode, SyncReport, SyncRunner};
use connector_core::sink::{CsvSink, JsonlSink, Sink};
use connector_core::{CancellationToken, Connector, Error, ErrorKind};
use connector_fs::{FsConfig, FsConnector};
use connector_s3::{S3Config, S3Connector, S3Credentials};

use cli::{Cli, CommonArgs, Source};
use progress::Progress;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SYNC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == ErrorKind::Cancelled => {
            eprintln!("interrupted: progress is saved; run again with the same --state to resume");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The connector and the id its state is kept under.
fn connector(source: &Source) -> Result<(Box<dyn Connector>, String), Error> {
    match source {
        Source::Fs(args) => {
            let mut config = FsConfig::default()
                .max_text_bytes(args.max_text_bytes)
                .include_hidden(args.hidden);
            for pattern in &args.ignore {
                config = config.ignore(pattern.clone());
            }
            let connector =
                FsConnector::new(&args.path, config).map_err(|e| e.context("--path"))?;
            let id = format!("fs:{}", connector.root().display());
            Ok((Box::new(connector), id))
        }
        Source::S3(args) => {
            let mut config = S3Config::new(&args.bucket)
                .path_style(args.path_style)
                .concurrency(args.concurrency)
                .max_text_bytes(args.max_text_bytes);
            config.prefixes.clone_from(&args.prefixes);
            config.include.clone_from(&args.include);
            config.exclude.clone_from(&args.exclude);
            config.endpoint.clone_from(&args.endpoint);
            config.region.clone_from(&args.region);
            config.profile.clone_from(&args.profile);
            if let Some(cap) = args.attachment_bytes {
                config = config.attachment_bytes(true, cap);
            }
            if args.no_sign_request {
                config = config.credentials(S3Credentials::Anonymous);
            }
            let id = format!(
                "s3:{}/{}",
                args.endpoint.as_deref().unwrap_or("aws"),
                args.bucket
            );
            let connector = S3Connector::new(config)?;
            Ok((Box::new(connector), id))
        }
    }
}

fn sink(common: &CommonArgs) -> Result<Box<dyn Sink>, Error> {
    let out = &common.out;
    if out.is_dir() {
        return Err(Error::config(format!(
            "--out {} is a directory; give a file such as out.jsonl",
            out.display()
        )));
    }
    let is_csv = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let sink: Box<dyn Sink> = if is_csv {
        Box::new(CsvSink::create(out).map_err(|e| e.context("--out"))?)
    } else {
        Box::new(
            JsonlSink::create(out)
                .map_err(|e| e.context("--out"))?
                .with_tombstones(common.tombstones),
        )
    };
    Ok(sink)
}

fn store(state: Option<&Path>) -> Result<Arc<dyn CheckpointStore>, Error> {
    Ok(match state {
        Some(dir) => Arc::new(FileCheckpointStore::open(dir).map_err(|e| e.context("--state"))?),
        None => Arc::new(MemoryCheckpointStore::default()),
    })
}

async fn run(cli: Cli) -> Result<(), Error> {
    let common = cli.source.common();
    let (connector, default_id) = connector(&cli.source)?;
    let mut sink = sink(common)?;
    let store = store(common.state.as_deref())?;
    let mode = match (common.full, common.since) {
        (true, _) => SyncMode::Full,
        (false, Some(t)) => SyncMode::Since(t),
        (false, None) => SyncMode::Incremental,
    };
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let progress = Arc::new(Progress::new(common.json_events));
    let mut options = RunnerOptions::default();
    options.detect_deletions = !common.no_deletions;
    let runner = SyncRunner::new(common.connection_id.clone().unwrap_or(default_id), store)
        .with_options(options)
        .with_observer(progress.clone())
        .with_cancellation(cancel);

    let started = Instant::now();
    let result = runner.run(connector.as_ref(), &mut sink, mode).await;
    progress.finish();
    let report = result?;
    print_summary(&report, started.elapsed().as_secs_f64(), &common.out);
    Ok(())
}

fn print_summary(report: &SyncReport, secs: f64, out: &Path) {
    let total = report.documents_processed + report.documents_skipped;
    let rate = if secs > 0.0 { total as f64 / secs } else { 0.0 };
    let resumed = if report.resumed { " (resumed)" } else { "" };
    eprintln!(
        "done{resumed}: {} documents written to {}, {} failures, {} skipped unchanged, {} deleted in {:.2}s ({:.0} docs/s)",
        report.documents_processed,
        out.display(),
        report.documents_failed,
        report.documents_skipped,
        report.documents_deleted,
        secs,
        rate
    );
    if let Some(why) = &report.deletions_skipped {
        eprintln!("note: deletion detection skipped: {why}");
    }
}
