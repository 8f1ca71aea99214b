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

use cli::{Cli, CommonArgs, ConfluenceArgs, JiraArgs, JiraDeployment, SharePointArgs, Source};
use connector_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceConnector};
use connector_core::credentials::SecretString;
use connector_core::http::HttpClient;
use connector_jira::{Deployment, JiraAuth, JiraConfig, JiraConnector};
use connector_sharepoint::{SharePointAuth, SharePointConfig, SharePointConnector};
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

/// A connector ready to run.
struct Opened {
    connector: Box<dyn Connector>,
    /// The id its state is kept under, unless --connection-id says otherwise.
    id: String,
    /// The HTTP client of an HTTP source, for the summary's request counts.
    http: Option<HttpClient>,
}

/// Read a secret from the environment; empty counts as missing.
fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(SecretString::from)
}

fn jira(args: &JiraArgs) -> Result<Opened, Error> {
    let auth = match (
        std::env::var("JIRA_EMAIL").ok().filter(|v| !v.is_empty()),
        env_secret("JIRA_API_TOKEN"),
        env_secret("JIRA_PAT"),
    ) {
        (Some(email), Some(token), _) => JiraAuth::basic(email, token),
        (_, _, Some(pat)) => JiraAuth::bearer(pat),
        (Some(_), None, None) => {
            return Err(Error::config(
                "JIRA_EMAIL is set but JIRA_API_TOKEN is not; set both (Cloud) or JIRA_PAT (Data Center)",
            ));
        }
        _ => {
            return Err(Error::config(
                "set JIRA_EMAIL and JIRA_API_TOKEN (Jira Cloud) or JIRA_PAT (Data Center personal access token)",
            ));
        }
    };
    let mut config = JiraConfig::new(&args.url);
    for key in &args.projects {
        config = config.project(key.clone());
    }
    if let Some(jql) = &args.jql {
        config = config.jql(jql.clone());
    }
    if let Some(rate) = args.common.rate {
        config = config.requests_per_second(rate);
    }
    if let Some(cap) = args.attachment_bytes {
        config = config.attachment_bytes(cap);
    }
    match args.deployment {
        Some(JiraDeployment::Cloud) => config = config.deployment(Deployment::Cloud),
        Some(JiraDeployment::DataCenter) => config = config.deployment(Deployment::DataCenter),
        None => {}
    }
    let connector = JiraConnector::new(config, auth).map_err(|e| e.context("jira"))?;
    let mut id = format!("jira:{}", args.url.trim_end_matches('/'));
    if !args.projects.is_empty() {
        id.push(':');
        id.push_str(&args.projects.join(","));
    }
    if let Some(jql) = &args.jql {
        // JQL can be long and odd: a short digest keeps the id a file name.
        id.push_str(&format!(":jql-{:016x}", fnv1a(jql)));
    }
    Ok(Opened {
        http: Some(connector.client().http().clone()),
        connector: Box::new(connector),
        id,
    })
}

/// A stable 64-bit FNV-1a hash (std's hasher is not stable across releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn confluence(args: &ConfluenceArgs) -> Result<Opened, Error> {
    let email = std::env::var("CONFLUENCE_EMAIL")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let auth = match (
        email,
        env_secret("CONFLUENCE_API_TOKEN"),
        env_secret("CONFLUENCE_PAT"),
    ) {
        (Some(email), Some(token), _) => ConfluenceAuth::basic(email, token),
        (_, _, Some(pat)) => ConfluenceAuth::bearer(pat),
        (Some(_), None, None) => {
            return Err(Error::config(
                "CONFLUENCE_EMAIL is set but CONFLUENCE_API_TOKEN is not; set both (Cloud) or CONFLUENCE_PAT (Data Center)",
            ));
        }
        _ => {
            return Err(Error::config(
                "set CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN (Confluence Cloud) or CONFLUENCE_PAT (Data Center personal access token)",
            ));
        }
    };
    let mut config = ConfluenceConfig::new(&args.url)
        .footer_comments(args.comments)
        .archived(args.archived);
    for key in &args.spaces {
        config = config.space(key.clone());
    }
    if let Some(rate) = args.common.rate {
        config = config.requests_per_second(rate);
    }
    if let Some(cap) = args.attachment_bytes {
        config = config.attachment_bytes(cap);
    }
    let connector = ConfluenceConnector::new(config, auth).map_err(|e| e.context("confluence"))?;
    let mut id = format!("confluence:{}", args.url.trim_end_matches('/'));
    if !args.spaces.is_empty() {
        id.push(':');
        id.push_str(&args.spaces.join(","));
    }
    Ok(Opened {
        http: Some(connector.client().http().clone()),
        connector: Box::new(connector),
        id,
    })
}

fn sharepoint(args: &SharePointArgs) -> Result<Opened, Error> {
    let id = std::env::var("SHAREPOINT_CLIENT_ID")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (Some(client_id), Some(secret)) = (id, env_secret("SHAREPOINT_CLIENT_SECRET")) else {
        return Err(Error::config(
            "set SHAREPOINT_CLIENT_ID and SHAREPOINT_CLIENT_SECRET (an Entra ID app registration with Sites.Read.All)",
        ));
    };
    let mut config = SharePointConfig::new(&args.tenant)
        .include_pages(!args.no_pages)
        .permissions(args.permissions);
    for site in &args.sites {
        config = config.site(site.clone());
    }
    for library in &args.libraries {
        config = config.library(library.clone());
    }
    if let Some(url) = &args.graph_url {
        config = config.graph_url(url.clone());
    }
    if let Some(url) = &args.login_url {
        config = config.login_url(url.clone());
    }
    if let Some(rate) = args.common.rate {
        config = config.requests_per_second(rate);
    }
    let auth = SharePointAuth::client_secret(client_id, secret);
    let connector = SharePointConnector::new(config, auth).map_err(|e| e.context("sharepoint"))?;
    let mut id = format!("sharepoint:{}:{}", args.tenant, args.sites.join(","));
    if !args.libraries.is_empty() {
        id.push(':');
        id.push_str(&args.libraries.join(","));
    }
    Ok(Opened {
        http: Some(connector.client().http().clone()),
        connector: Box::new(connector),
        id,
    })
}

/// The connector for the chosen source.
fn connector(source: &Source) -> Result<Opened, Error> {
    match source {
        Source::Jira(args) => jira(args),
        Source::Sharepoint(args) => sharepoint(args),
        Source::Confluence(args) => confluence(args),
        Source::Fs(args) => {
            let mut config = FsConfig::default()
                .max_text_bytes(args.max_text_bytes)
                .include_hidden(args.hidden);
            for pattern in &args.ignore {
                config = config.ignore(pattern.clone());
            }
            // Never ingest our own output or state when they sit inside
            // --path (outside it, an exclusion matches nothing). The sinks
            // write --out in place, with no sibling temporary files.
            config = config.exclude_path(&args.common.out);
            if let Some(state) = &args.common.state {
                config = config.exclude_path(state);
            }
            let connector =
                FsConnector::new(&args.path, config).map_err(|e| e.context("--path"))?;
            let id = format!("fs:{}", connector.root().display());
            Ok(Opened {
                connector: Box::new(connector),
                id,
                http: None,
            })
        }
        Source::S3(args) => {
            if args.common.rate.is_some() {
                return Err(Error::config(
                    "--rate does not apply to s3: the AWS SDK paces and retries its own requests; bound the load with --concurrency",
                ));
            }
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
            Ok(Opened {
                connector: Box::new(connector),
                id,
                http: None,
            })
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
    let Opened {
        connector,
        id: default_id,
        http,
    } = connector(&cli.source)?;
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
    print_summary(
        &report,
        started.elapsed().as_secs_f64(),
        &common.out,
        http.as_ref(),
    );
    Ok(())
}

fn print_summary(report: &SyncReport, secs: f64, out: &Path, http: Option<&HttpClient>) {
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
    if let Some(http) = http {
        let c = http.counters();
        eprintln!(
            "http: {} requests, {} retries, {} throttled ({:.1}s waiting), {:.1} MiB received",
            c.requests,
            c.retries,
            c.throttled,
            c.throttled_time.as_secs_f64(),
            c.bytes as f64 / (1024.0 * 1024.0)
        );
    }
    if let Some(why) = &report.deletions_skipped {
        eprintln!("note: deletion detection skipped: {why}");
    }
}
