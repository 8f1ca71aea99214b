//! `sync`: the command-line face of the SDK.
//!
//! ```text
//! cargo run --release --example sync -- fs --path docs --out out.jsonl --state .sync-state
//! ```
//!
//! Writes one JSON document per line, keeps its checkpoint under `--state`
//! so a second run resumes or syncs only changes, shows progress, prints a
//! summary, and exits non-zero with a one-line reason on bad input.
//! SIGINT, SIGTERM and SIGHUP stop it cleanly (see [`signals`]).

mod cli;
mod progress;
mod signals;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use connector_core::checkpoint::{CheckpointStore, FileCheckpointStore, MemoryCheckpointStore};
use connector_core::runner::{RunnerOptions, SyncMode, SyncReport, SyncRunner, SyncWarning};
use connector_core::sink::{CsvSink, JsonlSink, Sink};
use connector_core::{CancellationToken, Connector, Error, ErrorKind};
use connector_sdk::connector_from_config;
use serde_json::{Value, json};

use cli::{
    Cli, CommonArgs, ConfluenceArgs, FsArgs, GitHubArgs, GoogleDriveArgs, JiraArgs, S3Args,
    ServiceNowArgs, SharePointArgs, Source, WebArgs,
};
use progress::Progress;
use signals::Signals;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
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
    let signals = Signals::default();
    let has_state = cli.source.common().state.is_some();
    match runtime.block_on(run(cli, &signals)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == ErrorKind::Cancelled => {
            let stop = signals.received();
            let what = stop.map_or("interrupted", |s| s.name());
            if has_state {
                eprintln!(
                    "{what}: what was written is committed; run again with the same --state to resume"
                );
            } else {
                eprintln!(
                    "{what}: stopped; without --state nothing is kept, the next run starts over"
                );
            }
            ExitCode::from(stop.map_or(130, |s| s.exit_code()))
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Log lines go to stderr, filtered by `SYNC_LOG`, else `RUST_LOG`, else
/// `warn`; coloured only for a person at a terminal (never in a file, a
/// pipe or a CI log) and never with `NO_COLOR` set.
fn init_logging() {
    use tracing_subscriber::filter::{EnvFilter, filter_fn};
    use tracing_subscriber::prelude::*;
    let filter = EnvFilter::try_from_env("SYNC_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    // The AWS SDK's `trace` lines print each canonical request and each
    // request's headers, AWS_SESSION_TOKEN included: they are dropped
    // whatever the filter asks for (a cap, never a raise of the level).
    let no_aws_trace = filter_fn(|meta| {
        !(meta.target().starts_with("aws_") && *meta.level() == tracing::Level::TRACE)
    });
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(colour)
                .with_writer(std::io::stderr)
                .with_filter(no_aws_trace),
        )
        .init();
}

/// A connector ready to run.
struct Opened {
    connector: Box<dyn Connector>,
    /// The id its state is kept under, unless --connection-id says otherwise.
    id: String,
}

impl Opened {
    /// The connector `kind` built from `config`, as a host builds it.
    fn from_config(kind: &str, config: Value, id: String) -> Result<Self, Error> {
        let connector = connector_from_config(kind, config).map_err(|e| e.context(kind))?;
        Ok(Self { connector, id })
    }
}

/// A non-empty environment variable.
fn env_text(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The `options` every source shares, from the common flags.
fn options(common: &CommonArgs, attachment_bytes: Option<u64>) -> Value {
    let mut options = json!({});
    if let Some(rate) = common.rate {
        options["rate"] = json!(rate);
    }
    if let Some(cap) = attachment_bytes {
        options["attachment_max_bytes"] = json!(cap);
    }
    options
}

/// Atlassian credentials from `{PREFIX}_EMAIL` + `{PREFIX}_API_TOKEN`
/// (Cloud) or `{PREFIX}_PAT` (Data Center).
fn atlassian_credentials(prefix: &str, product: &str) -> Result<Value, Error> {
    let (email, token, pat) = (
        format!("{prefix}_EMAIL"),
        format!("{prefix}_API_TOKEN"),
        format!("{prefix}_PAT"),
    );
    match (env_text(&email), env_text(&token), env_text(&pat)) {
        (Some(email), Some(token), _) => Ok(json!({"email": email, "api_token": token})),
        (_, _, Some(pat)) => Ok(json!({"token": pat})),
        (Some(_), None, None) => Err(Error::config(format!(
            "{email} is set but {token} is not; set both ({product} Cloud) or {pat} (Data Center)"
        ))),
        _ => Err(Error::config(format!(
            "set {email} and {token} ({product} Cloud) or {pat} (Data Center personal access token)"
        ))),
    }
}

fn jira(args: &JiraArgs) -> Result<Opened, Error> {
    let mut config = json!({
        "base_url": args.url,
        "credentials": atlassian_credentials("JIRA", "Jira")?,
        "projects": args.projects,
        "options": options(&args.common, args.attachment_bytes),
        "extract": !args.no_extract,
    });
    if let Some(jql) = &args.jql {
        config["jql"] = json!(jql);
    }
    if let Some(deployment) = args.deployment {
        config["deployment"] = json!(deployment.name());
    }
    let mut id = format!("jira:{}", args.url.trim_end_matches('/'));
    if !args.projects.is_empty() {
        id.push(':');
        id.push_str(&args.projects.join(","));
    }
    if let Some(jql) = &args.jql {
        // JQL can be long and odd: a short digest keeps the id a file name.
        id.push_str(&format!(":jql-{:016x}", fnv1a(jql)));
    }
    Opened::from_config("jira", config, id)
}

/// A stable 64-bit FNV-1a hash (std's hasher is not stable across releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn confluence(args: &ConfluenceArgs) -> Result<Opened, Error> {
    let mut config = json!({
        "base_url": args.url,
        "credentials": atlassian_credentials("CONFLUENCE", "Confluence")?,
        "spaces": args.spaces,
        "footer_comments": args.comments,
        "archived": args.archived,
        "options": options(&args.common, args.attachment_bytes),
        "extract": !args.no_extract,
    });
    if let Some(deployment) = args.deployment {
        config["deployment"] = json!(deployment.name());
    }
    let mut id = format!("confluence:{}", args.url.trim_end_matches('/'));
    if !args.spaces.is_empty() {
        id.push(':');
        id.push_str(&args.spaces.join(","));
    }
    Opened::from_config("confluence", config, id)
}

fn sharepoint(args: &SharePointArgs) -> Result<Opened, Error> {
    let (Some(client_id), Some(secret)) = (
        env_text("SHAREPOINT_CLIENT_ID"),
        env_text("SHAREPOINT_CLIENT_SECRET"),
    ) else {
        return Err(Error::config(
            "set SHAREPOINT_CLIENT_ID and SHAREPOINT_CLIENT_SECRET (an Entra ID app registration with Sites.Read.All)",
        ));
    };
    let mut config = json!({
        "tenant": args.tenant,
        "sites": args.sites,
        "libraries": args.libraries,
        "include_pages": !args.no_pages,
        "permissions": args.permissions,
        "extract": !args.no_extract,
        "credentials": {"client_id": client_id, "client_secret": secret},
        "options": options(&args.common, None),
    });
    if let Some(url) = &args.graph_url {
        config["graph_url"] = json!(url);
    }
    if let Some(url) = &args.login_url {
        config["login_url"] = json!(url);
    }
    let mut id = format!("sharepoint:{}:{}", args.tenant, args.sites.join(","));
    if !args.libraries.is_empty() {
        id.push(':');
        id.push_str(&args.libraries.join(","));
    }
    Opened::from_config("sharepoint", config, id)
}

fn fs(args: &FsArgs) -> Result<Opened, Error> {
    // Never ingest our own output or state when they sit inside --path
    // (outside it, an exclusion matches nothing). The sinks write --out in
    // place, with no sibling temporary files.
    let mut exclude = vec![args.common.out.clone()];
    exclude.extend(args.common.state.clone());
    let config = json!({
        "path": args.path,
        "ignore_patterns": args.ignore,
        "include_hidden": args.hidden,
        "max_text_bytes": args.max_text_bytes,
        "exclude_paths": exclude,
        "extract": !args.no_extract,
    });
    let connector = connector_from_config("fs", config).map_err(|e| e.context("--path"))?;
    let root = std::fs::canonicalize(&args.path).unwrap_or_else(|_| args.path.clone());
    Ok(Opened {
        connector,
        id: format!("fs:{}", root.display()),
    })
}

fn servicenow(args: &ServiceNowArgs) -> Result<Opened, Error> {
    // The error names the variables to set when none are.
    connector_sdk::servicenow::ServiceNowAuth::from_env()?;
    let mut credentials = json!({});
    for (variable, field) in [
        ("SERVICENOW_USER", "user"),
        ("SERVICENOW_PASSWORD", "password"),
        ("SERVICENOW_CLIENT_ID", "client_id"),
        ("SERVICENOW_CLIENT_SECRET", "client_secret"),
        ("SERVICENOW_TOKEN", "token"),
    ] {
        if let Some(value) = env_text(variable) {
            credentials[field] = json!(value);
        }
    }
    let mut config = json!({
        "instance": args.instance,
        "credentials": credentials,
        "work_notes": args.work_notes,
        "include_unpublished_articles": args.include_unpublished,
        "attachments": args.attachments,
        "options": options(&args.common, args.attachment_bytes),
    });
    if !args.tables.is_empty() {
        config["tables"] = json!(args.tables);
    }
    let mut id = format!("servicenow:{}", args.instance.trim_end_matches('/'));
    if !args.tables.is_empty() {
        id.push(':');
        id.push_str(&args.tables.join(","));
    }
    Opened::from_config("servicenow", config, id)
}

fn s3(args: &S3Args) -> Result<Opened, Error> {
    let mut options = options(&args.common, args.attachment_bytes);
    options["concurrency"] = json!(args.concurrency);
    let mut config = json!({
        "bucket": args.bucket,
        "prefixes": args.prefixes,
        "include": args.include,
        "exclude": args.exclude,
        "path_style": args.path_style,
        "max_text_bytes": args.max_text_bytes,
        "extract": !args.no_extract,
        "options": options,
    });
    for (field, value) in [
        ("endpoint", &args.endpoint),
        ("region", &args.region),
        ("profile", &args.profile),
    ] {
        if let Some(value) = value {
            config[field] = json!(value);
        }
    }
    if args.no_sign_request {
        config["credentials"] = json!("anonymous");
    }
    let id = format!(
        "s3:{}/{}",
        args.endpoint.as_deref().unwrap_or("aws"),
        args.bucket
    );
    Opened::from_config("s3", config, id)
}

fn github(args: &GitHubArgs) -> Result<Opened, Error> {
    let mut config = json!({
        "repositories": args.repositories,
        "owners": args.owners,
        "discussions": args.discussions,
        "files": !args.no_files,
        "options": options(&args.common, None),
    });
    if let Some(url) = &args.api_url {
        config["base_url"] = json!(url);
    }
    match (
        env_text("GITHUB_TOKEN"),
        env_text("GITHUB_APP_ID"),
        env_text("GITHUB_APP_PRIVATE_KEY"),
        env_text("GITHUB_INSTALLATION_ID"),
    ) {
        (Some(token), _, _, _) => config["token"] = json!(token),
        (None, Some(app_id), Some(key), Some(installation)) => {
            let installation: u64 = installation.trim().parse().map_err(|_| {
                Error::config("GITHUB_INSTALLATION_ID must be the installation's number")
            })?;
            config["app"] = json!({
                "app_id": app_id,
                "installation_id": installation,
                "private_key_path": key,
            });
        }
        _ => {
            return Err(Error::config(
                "set GITHUB_TOKEN (a personal access token), or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY (the key file's path) and GITHUB_INSTALLATION_ID (a GitHub App)",
            ));
        }
    }
    let base = args.api_url.as_deref().unwrap_or("https://api.github.com");
    let scope: Vec<&str> = args
        .owners
        .iter()
        .chain(&args.repositories)
        .map(String::as_str)
        .collect();
    let id = format!("github:{}:{}", base.trim_end_matches('/'), scope.join(","));
    Opened::from_config("github", config, id)
}

fn gdrive(args: &GoogleDriveArgs) -> Result<Opened, Error> {
    let mut config = json!({
        "my_drive": args.my_drive,
        "shared_drives": args.shared_drives,
        "all_shared_drives": args.all_shared_drives,
        "folders": args.folders,
        "permissions": !args.no_permissions,
        "extract": !args.no_extract,
        "options": options(&args.common, None),
    });
    for (field, value) in [("api_url", &args.api_url), ("token_url", &args.token_url)] {
        if let Some(value) = value {
            config[field] = json!(value);
        }
    }
    let user = match &args.service_account {
        Some(key) => {
            config["credentials"] = json!({"service_account": {
                "key_path": key,
                "subject": args.subject,
            }});
            args.subject
                .clone()
                .unwrap_or_else(|| "service-account".into())
        }
        None => match (
            env_text("GOOGLE_OAUTH_CLIENT_ID"),
            env_text("GOOGLE_OAUTH_CLIENT_SECRET"),
            env_text("GOOGLE_OAUTH_REFRESH_TOKEN"),
        ) {
            (Some(id), Some(secret), Some(token)) => {
                config["credentials"] = json!({"oauth": {
                    "client_id": id,
                    "client_secret": secret,
                    "refresh_token": token,
                }});
                "oauth".into()
            }
            _ => {
                return Err(Error::config(
                    "give --service-account KEY.json (and --subject admin@acme.com for domain-wide delegation), or set GOOGLE_OAUTH_CLIENT_ID, GOOGLE_OAUTH_CLIENT_SECRET and GOOGLE_OAUTH_REFRESH_TOKEN",
                ));
            }
        },
    };
    let scope: Vec<&str> = args
        .shared_drives
        .iter()
        .chain(&args.folders)
        .map(String::as_str)
        .collect();
    let id = format!("gdrive:{user}:{}", scope.join(","));
    Opened::from_config("gdrive", config, id)
}

fn web(args: &WebArgs) -> Result<Opened, Error> {
    let mut config = json!({
        "urls": args.urls,
        "sitemaps": args.sitemaps,
        "path_prefixes": args.path_prefixes,
        "exclude": args.exclude,
        "options": options(&args.common, None),
    });
    if let Some(n) = args.max_pages {
        config["max_pages"] = json!(n);
    }
    if let Some(n) = args.max_depth {
        config["max_depth"] = json!(n);
    }
    if let Some(n) = args.concurrency {
        config["options"]["concurrency"] = json!(n);
    }
    if let Some(contact) = &args.contact {
        config["contact"] = json!(contact);
    }
    if let Some(state) = &args.common.state {
        config["state_dir"] = json!(state.join("web-crawl"));
    }
    let scope: Vec<&str> = args
        .urls
        .iter()
        .chain(&args.sitemaps)
        .map(String::as_str)
        .collect();
    Opened::from_config("web", config, format!("web:{}", scope.join(",")))
}

/// A connector from a configuration file (`sync config --file`).
fn from_file(args: &cli::ConfigArgs) -> Result<Opened, Error> {
    let file = connector_examples::config_file::read(&args.file)?;
    let path = std::fs::canonicalize(&args.file).unwrap_or_else(|_| args.file.clone());
    let id = format!("{}:{}", file.kind, path.display());
    Opened::from_config(&file.kind, file.config, id)
}

/// The connector for the chosen source.
fn connector(source: &Source) -> Result<Opened, Error> {
    match source {
        Source::Jira(args) => jira(args),
        Source::Sharepoint(args) => sharepoint(args),
        Source::Confluence(args) => confluence(args),
        Source::Fs(args) => fs(args),
        Source::Config(args) => from_file(args),
        Source::Servicenow(args) => servicenow(args),
        Source::Github(args) => github(args),
        Source::Gdrive(args) => gdrive(args),
        Source::Web(args) => web(args),
        Source::S3(args) => s3(args),
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

async fn run(cli: Cli, signals: &Signals) -> Result<(), Error> {
    let common = cli.source.common();
    let cancel = CancellationToken::new();
    signals.watch(cancel.clone())?;
    let Opened {
        connector,
        id: default_id,
    } = connector(&cli.source)?;
    let mut sink = sink(common)?;
    let store = store(common.state.as_deref())?;
    let mode = match (common.full, common.since) {
        (true, _) => SyncMode::Full,
        (false, Some(t)) => SyncMode::Since(t),
        (false, None) => SyncMode::Incremental,
    };
    let progress = Arc::new(Progress::new(common.json_events));
    let mut options = RunnerOptions::default();
    options.detect_deletions = !common.no_deletions;
    options.allow_mass_delete = common.allow_mass_delete;
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
    if let Some(c) = &report.source {
        eprintln!(
            "http: {} requests, {} retries, {} throttled ({:.1}s waiting), {:.1} MiB received",
            c.requests,
            c.retries,
            c.throttled,
            c.throttled_time.as_secs_f64(),
            c.bytes as f64 / (1024.0 * 1024.0)
        );
    }
    for warning in &report.warnings {
        match warning {
            SyncWarning::MassDeletionRefused { .. } => {
                eprintln!("warning: {warning} (--allow-mass-delete)");
            }
            _ => eprintln!("warning: {warning}"),
        }
    }
}
