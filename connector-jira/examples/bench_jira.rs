//! Jira sync benchmarks against a local Jira Cloud stand-in (wiremock),
//! into a JSONL file.
//!
//! ```text
//! # Throughput: issues (ADF, two inline comments each), each search page
//! # answered after a latency. Pages of 100 follow each other (each token
//! # comes from the page before), so the ceiling is 100 / latency issues/s.
//! cargo run --release -p connector-jira --example bench_jira [issues] [latency_ms]
//!
//! # The Rust sync with every comment (each issue needs one comment request)
//! # against the loop a Python user writes with atlassian-python-api's
//! # `enhanced_jql` (issues only), on the same server. Needs the venv of
//! # `connector-jira/testing/setup-python.sh` (run here if missing).
//! cargo run --release -p connector-jira --example bench_jira python [issues]
//!
//! # The same sync against a token-bucket quota: once with budget headers,
//! # once with headers on the 429s only and a configured rate above the quota.
//! cargo run --release -p connector-jira --example bench_jira quota [issues] [quota_rps] [concurrency]
//! ```
//!
//! Peak RSS is the process high-water mark, including the in-process
//! server (wiremock keeps every request a mock matched, several KB each).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_core::checkpoint::FileCheckpointStore;
use connector_core::credentials::StaticAuth;
use connector_core::deployment::Deployment;
use connector_core::options::SourceOptions;
use connector_core::runner::{RunnerOptions, SyncMode, SyncReport, SyncRunner};
use connector_core::sink::JsonlSink;
use connector_jira::{JiraConfig, JiraConnector};
use connector_testing::hostile::{Shared, TokenBucket};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The fields the connector asks for, asked for by the Python loop too.
const FIELDS: &str = "summary,description,comment,project,issuetype,status,priority,labels,components,resolution,assignee,reporter,creator,parent,created,updated,attachment";

/// A Jira Cloud site of `n` issues: `/myself`, enhanced search (`GET` as
/// atlassian-python-api sends it, `POST` as the connector does; at most 100
/// issues a page, as Cloud returns with fields), and comment pages.
struct Site {
    n: usize,
    /// Comments per issue; the search inlines at most two.
    comments: usize,
    latency: Duration,
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Summary"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": text}]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "first point"}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "second point"}]}]}
        ]}
    ]})
}

fn comment(n: usize, i: usize) -> Value {
    json!({"id": (n * 10 + i).to_string(), "author": {"accountId": "a1", "displayName": "Mia"},
           "body": adf("a comment with some words in it"), "created": "2024-03-01T10:00:00.000+0000"})
}

fn issue(n: usize, comments: usize) -> Value {
    let updated =
        chrono::DateTime::from_timestamp(1_700_000_000 + n as i64 * 60, 0).unwrap_or_default();
    let inline: Vec<Value> = (0..comments.min(2)).map(|i| comment(n, i)).collect();
    json!({
        "id": (10000 + n).to_string(),
        "key": format!("ENG-{n}"),
        "fields": {
            "summary": format!("Issue number {n} about the billing service"),
            "description": adf(&"The service times out when the upstream is slow. ".repeat(8)),
            "comment": {"comments": inline, "maxResults": 2, "total": comments, "startAt": 0},
            "project": {"id": "10000", "key": "ENG", "name": "Engineering"},
            "issuetype": {"id": "1", "name": "Bug"},
            "status": {"id": "3", "name": "In Progress"},
            "priority": {"id": "3", "name": "Medium"},
            "labels": ["backend"],
            "components": [{"id": "1", "name": "API"}],
            "assignee": {"accountId": "a2", "displayName": "Ada"},
            "reporter": {"accountId": "a1", "displayName": "Mia"},
            "created": "2024-01-01T10:00:00.000+0000",
            "updated": updated.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
        }
    })
}

impl Site {
    fn search(&self, request: &Request) -> ResponseTemplate {
        let (size, token) = if request.method.as_str() == "POST" {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            (
                body["maxResults"].as_u64(),
                body["nextPageToken"].as_str().map(str::to_owned),
            )
        } else {
            let q = |k: &str| {
                request
                    .url
                    .query_pairs()
                    .find(|(name, _)| name == k)
                    .map(|(_, v)| v.into_owned())
            };
            (
                q("maxResults").and_then(|m| m.parse().ok()),
                q("nextPageToken"),
            )
        };
        let size = size.unwrap_or(50).min(100) as usize;
        let start = token.and_then(|t| t.parse::<usize>().ok()).unwrap_or(0);
        let end = (start + size).min(self.n);
        let issues: Vec<Value> = (start + 1..=end).map(|n| issue(n, self.comments)).collect();
        let mut page = json!({"issues": issues, "isLast": end >= self.n});
        if end < self.n {
            page["nextPageToken"] = json!(end.to_string());
        }
        ResponseTemplate::new(200)
            .set_body_json(page)
            .set_delay(self.latency)
    }

    fn comments(&self, request: &Request) -> ResponseTemplate {
        let n: usize = request
            .url
            .path()
            .split('/')
            .find_map(|s| s.strip_prefix("ENG-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let start: usize = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "startAt")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let end = (start + 100).min(self.comments);
        let comments: Vec<Value> = (start..end).map(|i| comment(n, i)).collect();
        ResponseTemplate::new(200).set_body_json(
            json!({"startAt": start, "maxResults": 100, "total": self.comments, "comments": comments}),
        )
    }
}

impl Respond for Site {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        if path == "/rest/api/3/myself" {
            ResponseTemplate::new(200).set_body_json(json!({"accountId": "a1", "timeZone": "UTC"}))
        } else if path == "/rest/api/3/search/jql" {
            self.search(request)
        } else if path.ends_with("/comment") {
            self.comments(request)
        } else {
            ResponseTemplate::new(404)
        }
    }
}

async fn server(site: impl Respond + 'static) -> MockServer {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(any()).respond_with(site).mount(&server).await;
    server
}

/// A full sync of `server` into a JSONL file; the report and its seconds.
async fn sync(
    server: &MockServer,
    options: SourceOptions,
) -> Result<(SyncReport, f64, JiraConnector), Box<dyn std::error::Error>> {
    let config = JiraConfig::new(server.uri())
        .deployment(Deployment::Cloud)
        .project("ENG")
        .credentials(StaticAuth::basic("bench@example.com", "token"))
        .options(options);
    let jira = JiraConnector::new(config)?;
    let dir = tempfile::tempdir()?;
    let mut sink = JsonlSink::create(dir.path().join("out.jsonl"))?;
    let mut runner_options = RunnerOptions::default();
    runner_options.detect_deletions = false;
    let runner = SyncRunner::new(
        "bench",
        Arc::new(FileCheckpointStore::open(dir.path().join("state"))?),
    )
    .with_options(runner_options);
    let started = Instant::now();
    let report = runner.run(&jira, &mut sink, SyncMode::Full).await?;
    Ok((report, started.elapsed().as_secs_f64(), jira))
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn throughput(n: usize, latency_ms: u64) -> Result<(), Box<dyn std::error::Error>> {
    let latency = Duration::from_millis(latency_ms);
    let server = server(Site {
        n,
        comments: 2,
        latency,
    })
    .await;
    let (bare_issues, bare_secs) = bare_page_loop(&server.uri()).await?;
    let bare = bare_issues as f64 / bare_secs;
    let (report, secs, jira) = sync(&server, SourceOptions::default()).await?;
    let rate = report.documents_processed as f64 / secs;
    let ceiling = 100.0 / latency.as_secs_f64();
    println!(
        "jira full sync {n} issues, {latency_ms} ms per search page: {} documents in {secs:.2}s = {rate:.0} docs/s \
         ({:.0}% of the {ceiling:.0} docs/s paging ceiling, {:.0}% of the stand-in's own {bare:.0} docs/s); \
         {} requests; peak RSS {}",
        report.documents_processed,
        100.0 * rate / ceiling,
        100.0 * rate / bare,
        jira.http().counters().requests,
        peak_rss_mib().map_or("n/a".into(), |m| format!("{m:.1} MiB")),
    );
    Ok(())
}

/// What the stand-in itself allows: the search pages fetched one after the
/// other by a bare client that only reads each page's token — the latency
/// plus the server's own time to build a page, with no work on the issues.
async fn bare_page_loop(uri: &str) -> Result<(usize, f64), Box<dyn std::error::Error>> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Tokens {
        issues: Vec<serde::de::IgnoredAny>,
        next_page_token: Option<String>,
    }
    let client = reqwest::Client::new();
    let fields: Vec<&str> = FIELDS.split(',').collect();
    let (mut token, mut issues) = (None::<String>, 0);
    let started = Instant::now();
    loop {
        let mut body = json!({"jql": "project = ENG", "maxResults": 100, "fields": fields});
        if let Some(token) = &token {
            body["nextPageToken"] = json!(token);
        }
        let page: Tokens = client
            .post(format!("{uri}/rest/api/3/search/jql"))
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        issues += page.issues.len();
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    Ok((issues, started.elapsed().as_secs_f64()))
}

/// The virtualenv's Python, set up by the crate's script when missing.
fn python() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var_os("CONNECTOR_JIRA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir.join("../.venv-jira"));
    let status = Command::new("bash")
        .arg(crate_dir.join("testing/setup-python.sh"))
        .arg(&venv)
        .status()?;
    if !status.success() {
        return Err("connector-jira/testing/setup-python.sh failed".into());
    }
    Ok(venv.join("bin/python"))
}

async fn against_python(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let python = python()?;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testing/enhanced_jql_loop.py");
    // Five comments per issue: two inline, the rest one comment request each.
    let server = server(Site {
        n,
        comments: 5,
        latency: Duration::ZERO,
    })
    .await;
    let uri = server.uri();
    let py = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(uri)
            .arg("project in (\"ENG\") ORDER BY updated ASC, key ASC")
            .arg(FIELDS)
            .output()
    })
    .await??;
    if !py.status.success() {
        return Err(format!(
            "the Python loop failed: {}",
            String::from_utf8_lossy(&py.stderr)
        )
        .into());
    }
    let out = String::from_utf8_lossy(&py.stdout);
    let mut words = out.split_whitespace();
    let py_issues: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    let py_secs: f64 = words
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(f64::NAN);
    let (report, secs, jira) = sync(&server, SourceOptions::default()).await?;
    println!(
        "python enhanced_jql loop (issues only): {py_issues} issues in {py_secs:.2}s\n\
         rust full sync with every comment:      {} documents in {secs:.2}s, {} requests\n\
         ratio rust / python: {:.2}",
        report.documents_processed,
        jira.http().counters().requests,
        secs / py_secs
    );
    Ok(())
}

async fn against_quota(
    n: usize,
    quota: f64,
    concurrency: Option<usize>,
) -> Result<(), Box<dyn std::error::Error>> {
    for (budget_headers, rate) in [(true, None), (false, Some(quota * 2.0))] {
        let bucket = Arc::new(TokenBucket::new(
            Site {
                n,
                comments: 5,
                latency: Duration::ZERO,
            },
            quota,
            quota / 10.0,
            budget_headers,
        ));
        let server = server(Shared(bucket.clone())).await;
        let mut options = SourceOptions::default();
        if let Some(concurrency) = concurrency {
            options = options.with_concurrency(concurrency);
        }
        if let Some(rate) = rate {
            options = options.with_rate(rate);
        }
        let (report, secs, _) = sync(&server, options).await?;
        let (accepted, rejected) = bucket.counts();
        let sent = (accepted + rejected).max(1) as f64;
        println!(
            "quota {quota:.0}/s ({}): {} documents in {secs:.2}s = {:.0} docs/s; quota use {:.0}%, rejected {:.1}% of {} requests",
            if budget_headers {
                "budget headers on every answer"
            } else {
                "headers on 429s only, rate set to twice the quota"
            },
            report.documents_processed,
            report.documents_processed as f64 / secs,
            100.0 * accepted as f64 / (quota * secs),
            100.0 * rejected as f64 / sent,
            accepted + rejected,
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: f64| {
        args.get(i)
            .and_then(|a| a.parse::<f64>().ok())
            .unwrap_or(default)
    };
    match args.first().map(String::as_str) {
        Some("python") => against_python(num(1, 1000.0) as usize).await,
        Some("quota") => {
            let concurrency = args.get(3).and_then(|a| a.parse().ok());
            against_quota(num(1, 1000.0) as usize, num(2, 200.0), concurrency).await
        }
        _ => throughput(num(0, 10_000.0) as usize, num(1, 50.0) as u64).await,
    }
}
