//! The command line: one subcommand per source, each with the common flags.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

/// What `--help` says after the flags: the environment, the signals, the files.
const AFTER_HELP: &str = "\
Logging:
  SYNC_LOG   log filter for this program, e.g. SYNC_LOG=debug or
             SYNC_LOG=connector_core=debug (default: warn)
  RUST_LOG   the same, read when SYNC_LOG is not set
  NO_COLOR   no colour in log lines (there is none anyway when stderr is
             not a terminal)

Stopping: Ctrl-C (SIGINT), SIGTERM or SIGHUP commits what the output has
durably accepted and exits with 130, 143 or 129; run again with the same
--state to resume. A second signal exits at once; the next run still resumes
from the last commit.

Files: --out and the --state files are created readable by their owner only
(0600) and locked while a sync runs: a second sync of the same state or
output fails at once and names the lock.";

/// Sync a source into a JSONL (or CSV) file, resumably and incrementally.
#[derive(Debug, Parser)]
#[command(name = "sync", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub source: Source,
}

/// The sources this binary knows.
#[derive(Debug, Subcommand)]
pub enum Source {
    /// A local directory.
    Fs(FsArgs),
    /// Jira Cloud or Data Center: JIRA_EMAIL + JIRA_API_TOKEN, or JIRA_PAT.
    Jira(JiraArgs),
    /// Confluence Cloud or Data Center: CONFLUENCE_EMAIL + CONFLUENCE_API_TOKEN, or CONFLUENCE_PAT.
    Confluence(ConfluenceArgs),
    /// SharePoint Online through Microsoft Graph: SHAREPOINT_CLIENT_ID + SHAREPOINT_CLIENT_SECRET.
    Sharepoint(SharePointArgs),
    /// An S3 bucket, or a bucket of an S3-compatible store (MinIO, R2, GCS
    /// interoperability). Credentials come from the standard AWS variables
    /// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
    /// AWS_PROFILE, AWS_REGION, web identity, instance metadata).
    S3(S3Args),
    /// ServiceNow tables: SERVICENOW_USER + SERVICENOW_PASSWORD, or
    /// SERVICENOW_CLIENT_ID + SERVICENOW_CLIENT_SECRET (OAuth; with the user
    /// and password too for the password grant), or SERVICENOW_TOKEN.
    Servicenow(ServiceNowArgs),
    /// GitHub or GitHub Enterprise Server: GITHUB_TOKEN, or a GitHub App
    /// (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY = the key file's path,
    /// GITHUB_INSTALLATION_ID).
    Github(GitHubArgs),
    /// Google Drive: --service-account KEY.json (with --subject for
    /// domain-wide delegation), or GOOGLE_OAUTH_CLIENT_ID +
    /// GOOGLE_OAUTH_CLIENT_SECRET + GOOGLE_OAUTH_REFRESH_TOKEN.
    Gdrive(GoogleDriveArgs),
    /// A website: a polite crawl from start URLs and sitemaps (robots.txt
    /// obeyed, per-host rate and concurrency); no credentials.
    Web(WebArgs),
    /// Any connector this build knows, from a JSON or TOML file holding
    /// `kind` and the connector's configuration; a string `${NAME}` in it
    /// is read from the environment variable NAME (keep secrets there).
    Config(ConfigArgs),
}

impl Source {
    pub fn common(&self) -> &CommonArgs {
        match self {
            Source::Fs(a) => &a.common,
            Source::Jira(a) => &a.common,
            Source::Sharepoint(a) => &a.common,
            Source::Confluence(a) => &a.common,
            Source::S3(a) => &a.common,
            Source::Config(a) => &a.common,
            Source::Servicenow(a) => &a.common,
            Source::Github(a) => &a.common,
            Source::Gdrive(a) => &a.common,
            Source::Web(a) => &a.common,
        }
    }
}

/// Flags every source takes.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Output file: `.csv` writes CSV, anything else JSON lines.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Directory for the sync state; with it a second run resumes an
    /// interrupted sync or syncs only what changed. Without it every run
    /// is a full sync that rewrites the output.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// Sync only what changed since this time (RFC 3339, e.g. 2026-01-31T00:00:00Z).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, conflicts_with = "full")]
    pub since: Option<DateTime<Utc>>,

    /// Read the whole source again instead of only what changed since the
    /// last sync (unchanged documents are still not rewritten).
    #[arg(long)]
    pub full: bool,

    /// Requests per second for HTTP sources (default: the source's own quota).
    #[arg(long, value_name = "RPS", value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Name of this connection in the state directory and events
    /// (default: derived from the source and its location).
    #[arg(long, value_name = "ID")]
    pub connection_id: Option<String>,

    /// Write `{"id":…,"deleted":true}` lines for documents gone from the source.
    #[arg(long)]
    pub tombstones: bool,

    /// Skip listing the source's ids to detect deletions.
    #[arg(long)]
    pub no_deletions: bool,

    /// Apply a deletion pass even when it would remove more than half of
    /// the documents synced so far (or all of them, from a listing that
    /// returned nothing). Without it such a pass deletes nothing and warns:
    /// a source answering badly looks just like a mass deletion.
    #[arg(long, conflicts_with = "no_deletions")]
    pub allow_mass_delete: bool,

    /// Print events as JSON lines on stderr instead of progress output.
    #[arg(long)]
    pub json_events: bool,
}

/// `fs`: a local directory.
#[derive(Debug, Args)]
pub struct FsArgs {
    /// The directory to sync.
    #[arg(long, value_name = "DIR")]
    pub path: PathBuf,

    /// Leave out paths matching this gitignore-style pattern (repeatable).
    #[arg(long = "ignore", value_name = "PATTERN")]
    pub ignore: Vec<String>,

    /// Include hidden files and directories.
    #[arg(long)]
    pub hidden: bool,

    /// Text files over this many bytes are reported as failures.
    #[arg(long, value_name = "BYTES", default_value_t = 10 << 20)]
    pub max_text_bytes: u64,

    /// Keep PDF, Office, OpenDocument, RTF and email files as attachment
    /// entries without extracting their text.
    #[arg(long)]
    pub no_extract: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `jira`: a Jira site.
#[derive(Debug, Args)]
pub struct JiraArgs {
    /// Base URL of the site, e.g. https://acme.atlassian.net or https://jira.acme.com.
    #[arg(long, value_name = "URL")]
    pub url: String,

    /// Sync this project (repeatable); default: every project you can see.
    #[arg(long = "project", value_name = "KEY")]
    pub projects: Vec<String>,

    /// Sync issues matching this JQL (combined with --project by AND).
    #[arg(long, value_name = "JQL")]
    pub jql: Option<String>,

    /// Override the deployment detected from the URL (*.atlassian.net is Cloud).
    #[arg(long, value_enum)]
    pub deployment: Option<Deployment>,

    /// Download attachments of at most this many bytes into the output
    /// (base64 in JSON); larger ones are listed without bytes. The text of
    /// PDF, Office and similar attachments becomes sections of the issue.
    #[arg(long, value_name = "BYTES")]
    pub attachment_bytes: Option<u64>,

    /// With --attachment-bytes, keep the bytes but extract no text.
    #[arg(long)]
    pub no_extract: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `s3`: a bucket of S3 or an S3-compatible store.
#[derive(Debug, Args)]
pub struct S3Args {
    /// The bucket.
    #[arg(long, value_name = "NAME")]
    pub bucket: String,

    /// Sync only keys under this prefix (repeatable; default: the whole bucket).
    #[arg(long = "prefix", value_name = "PREFIX")]
    pub prefixes: Vec<String>,

    /// Sync only keys matching this glob (repeatable): `*.md` matches file
    /// names, `docs/**/*.md` whole keys.
    #[arg(long = "include", value_name = "GLOB")]
    pub include: Vec<String>,

    /// Leave out keys matching this glob (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// A custom endpoint (MinIO, R2, GCS, moto); plain http only to loopback.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL_S3")]
    pub endpoint: Option<String>,

    /// The region (default: AWS_REGION, the profile, or us-east-1 with --endpoint).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Path-style addressing (endpoint/bucket/key), as MinIO and moto need.
    #[arg(long)]
    pub path_style: bool,

    /// The AWS shared-config profile (default: AWS_PROFILE).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Send unsigned requests, for public buckets.
    #[arg(long)]
    pub no_sign_request: bool,

    /// Objects downloaded at the same time.
    #[arg(long, value_name = "N", default_value_t = connector_s3::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,

    /// Text objects over this many bytes are reported as failures.
    #[arg(long, value_name = "BYTES", default_value_t = 10 << 20)]
    pub max_text_bytes: u64,

    /// Include the bytes of non-text objects (base64 in the output) up to this size;
    /// larger objects are reported as failures.
    #[arg(long, value_name = "BYTES")]
    pub attachment_bytes: Option<u64>,

    /// Keep PDF, Office, OpenDocument, RTF and email objects as attachment
    /// entries without downloading them for their text.
    #[arg(long)]
    pub no_extract: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `confluence`: pages and blog posts of Confluence spaces.
#[derive(Debug, Args)]
pub struct ConfluenceArgs {
    /// Base URL of the site, e.g. https://acme.atlassian.net/wiki or https://wiki.acme.com.
    #[arg(long, value_name = "URL")]
    pub url: String,

    /// Sync this space (repeatable); default: every space you can see.
    #[arg(long = "space", value_name = "KEY")]
    pub spaces: Vec<String>,

    /// Add footer comments to each page as sections.
    #[arg(long)]
    pub comments: bool,

    /// Include archived pages.
    #[arg(long)]
    pub archived: bool,

    /// Override the deployment detected from the URL (*.atlassian.net is Cloud).
    #[arg(long, value_enum)]
    pub deployment: Option<Deployment>,

    /// Download attachments of at most this many bytes into the output
    /// (base64 in JSON); larger ones are listed without bytes. The text of
    /// PDF, Office and similar attachments becomes sections of the page.
    #[arg(long, value_name = "BYTES")]
    pub attachment_bytes: Option<u64>,

    /// With --attachment-bytes, keep the bytes but extract no text.
    #[arg(long)]
    pub no_extract: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `sharepoint`: document libraries and pages of SharePoint Online sites.
#[derive(Debug, Args)]
pub struct SharePointArgs {
    /// Entra ID tenant id (a GUID) or domain (contoso.onmicrosoft.com).
    #[arg(long, value_name = "ID")]
    pub tenant: String,

    /// Site URL, e.g. https://contoso.sharepoint.com/sites/Eng (repeatable).
    #[arg(long = "site", value_name = "URL", required = true)]
    pub sites: Vec<String>,

    /// Only these document libraries (by name; repeatable); default: all.
    #[arg(long = "library", value_name = "NAME")]
    pub libraries: Vec<String>,

    /// Microsoft Graph base URL (national clouds, local test servers).
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,

    /// Entra ID login base URL (national clouds, local test servers).
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,

    /// Map item permissions to each document's access list.
    #[arg(long)]
    pub permissions: bool,

    /// Leave out site pages.
    #[arg(long)]
    pub no_pages: bool,

    /// Do not download PDF, Office, OpenDocument, RTF and email files to
    /// extract their text; list them as attachment entries.
    #[arg(long)]
    pub no_extract: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `servicenow`: tables of a ServiceNow instance.
#[derive(Debug, Args)]
pub struct ServiceNowArgs {
    /// The instance: a name (`acme` → https://acme.service-now.com) or a URL.
    #[arg(long, value_name = "NAME|URL")]
    pub instance: String,

    /// Sync this table (repeatable); default: kb_knowledge, incident, sc_cat_item.
    #[arg(long = "table", value_name = "NAME")]
    pub tables: Vec<String>,

    /// Add incidents' work notes (internal) to their comments.
    #[arg(long)]
    pub work_notes: bool,

    /// Knowledge articles in every workflow state, not only published ones.
    #[arg(long)]
    pub include_unpublished: bool,

    /// List each record's attachments (with bytes up to --attachment-bytes).
    #[arg(long)]
    pub attachments: bool,

    /// Download attachments of at most this many bytes (with --attachments).
    #[arg(long, value_name = "BYTES")]
    pub attachment_bytes: Option<u64>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `github`: repositories of GitHub or GitHub Enterprise Server.
#[derive(Debug, Args)]
pub struct GitHubArgs {
    /// Sync this repository, `owner/name` (repeatable).
    #[arg(long = "repo", value_name = "OWNER/NAME")]
    pub repositories: Vec<String>,

    /// Sync every repository of this organisation or user (repeatable).
    #[arg(long = "owner", value_name = "NAME")]
    pub owners: Vec<String>,

    /// API base URL (GitHub Enterprise Server: https://ghe.acme.com/api/v3).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,

    /// Add discussions (GraphQL) to issues and pull requests.
    #[arg(long)]
    pub discussions: bool,

    /// Leave out the repositories' documentation files.
    #[arg(long)]
    pub no_files: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `gdrive`: My Drive, shared drives and folders of Google Drive.
#[derive(Debug, Args)]
pub struct GoogleDriveArgs {
    /// A service account key file (JSON).
    #[arg(long, value_name = "KEY.json")]
    pub service_account: Option<PathBuf>,

    /// The user the service account acts for (domain-wide delegation).
    #[arg(long, value_name = "EMAIL")]
    pub subject: Option<String>,

    /// Sync this shared drive, by id or name (repeatable).
    #[arg(long = "shared-drive", value_name = "ID|NAME")]
    pub shared_drives: Vec<String>,

    /// Sync every shared drive the user is a member of.
    #[arg(long)]
    pub all_shared_drives: bool,

    /// Sync the files under this folder, by id (repeatable).
    #[arg(long = "folder", value_name = "ID")]
    pub folders: Vec<String>,

    /// Sync the user's My Drive too (the default when no drive or folder is given).
    #[arg(long)]
    pub my_drive: bool,

    /// Leave out permissions (no access lists).
    #[arg(long)]
    pub no_permissions: bool,

    /// Do not download PDF and Office files (nor export Sheets) to extract their text.
    #[arg(long)]
    pub no_extract: bool,

    /// Drive API base URL (local test servers).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,

    /// Token endpoint (local test servers).
    #[arg(long, value_name = "URL")]
    pub token_url: Option<String>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `web`: a website crawl.
#[derive(Debug, Args)]
pub struct WebArgs {
    /// Start URL; its host is in scope (repeatable).
    #[arg(long = "url", value_name = "URL")]
    pub urls: Vec<String>,

    /// Sitemap (XML, index or .xml.gz) whose URLs are start URLs too (repeatable).
    #[arg(long = "sitemap", value_name = "URL")]
    pub sitemaps: Vec<String>,

    /// Pages fetched at most per crawl (default 100000).
    #[arg(long, value_name = "N")]
    pub max_pages: Option<u64>,

    /// Links followed at most from a start URL (default 20).
    #[arg(long, value_name = "N")]
    pub max_depth: Option<u32>,

    /// Only paths starting with this prefix (repeatable).
    #[arg(long = "path-prefix", value_name = "PATH")]
    pub path_prefixes: Vec<String>,

    /// Skip URLs whose path matches this glob (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Requests in flight per host (default 2).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// A URL or address site owners can reach you at, sent in the User-Agent.
    #[arg(long, value_name = "URL")]
    pub contact: Option<String>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `config`: a connector from a configuration file.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The configuration: `.json` is read as JSON, anything else as TOML.
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `--deployment` values (Jira and Confluence).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Deployment {
    /// Atlassian Cloud: email + API token.
    Cloud,
    /// Data Center or Server: personal access token.
    DataCenter,
}

impl Deployment {
    /// The name the configuration uses.
    pub fn name(self) -> &'static str {
        match self {
            Deployment::Cloud => "cloud",
            Deployment::DataCenter => "data_center",
        }
    }
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}; expected RFC 3339 such as 2026-01-31T00:00:00Z"))
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err("expected a positive number of requests per second, e.g. 10".into()),
    }
}
