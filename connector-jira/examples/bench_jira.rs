//! Throughput of a full Jira sync against a local Jira Cloud stand-in
//! (wiremock) holding 10 000 issues, each search page answered after a set
//! latency, into a JSONL file.
//!
//! The ceiling is what paging allows: one search page of 100 issues per
//! round trip, so 100 / latency issues per second. Peak RSS is the process
//! high-water mark, including the in-process server.
//!
//! The state is kept in a [`FileCheckpointStore`] in a temporary directory,
//! as a deployment would: the SDK's only per-document memory is then the
//! runner's content index (about 30 bytes per id). The stand-in itself is
//! not flat: wiremock 0.6 keeps every request a mock has matched, even with
//! request recording disabled, and each one pins hyper's read buffer
//! (6–8 KB per request), so peak RSS rises by roughly that much per page.
//!
//! ```text
//! cargo run --release -p connector-jira --example bench_jira [issues] [latency_ms]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_core::checkpoint::FileCheckpointStore;
use connector_core::credentials::StaticAuth;
use connector_core::deployment::Deployment;
use connector_core::runner::{RunnerOptions, SyncMode, SyncRunner};
use connector_core::sink::JsonlSink;
use connector_jira::{JiraConfig, JiraConnector};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Search pages over `n` issues with ADF bodies, two inline comments each.
struct Search {
    n: usize,
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

fn issue(n: usize) -> Value {
    let updated =
        chrono::DateTime::from_timestamp(1_700_000_000 + n as i64 * 60, 0).unwrap_or_default();
    let comment = |i: usize| {
        json!({"id": (n * 10 + i).to_string(), "author": {"accountId": "a1", "displayName": "Mia"},
               "body": adf("a comment with some words in it"), "created": "2024-03-01T10:00:00.000+0000"})
    };
    json!({
        "id": (10000 + n).to_string(),
        "key": format!("ENG-{n}"),
        "fields": {
            "summary": format!("Issue number {n} about the billing service"),
            "description": adf(&"The service times out when the upstream is slow. ".repeat(8)),
            "comment": {"comments": [comment(0), comment(1)], "maxResults": 20, "total": 2, "startAt": 0},
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

impl Respond for Search {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let size = body["maxResults"].as_u64().unwrap_or(100) as usize;
        let start = body["nextPageToken"]
            .as_str()
            .and_then(|t| t.parse::<usize>().ok())
            .unwrap_or(0);
        let end = (start + size).min(self.n);
        let issues: Vec<Value> = (start + 1..=end).map(issue).collect();
        let mut page = json!({"issues": issues, "isLast": end >= self.n});
        if end < self.n {
            page["nextPageToken"] = json!(end.to_string());
        }
        ResponseTemplate::new(200)
            .set_body_json(page)
            .set_delay(self.latency)
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let latency_ms: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let latency = Duration::from_millis(latency_ms);

    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/myself"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"accountId": "a1", "timeZone": "UTC"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(Search { n, latency })
        .mount(&server)
        .await;

    let config = JiraConfig::new(server.uri())
        .deployment(Deployment::Cloud)
        .project("ENG")
        .credentials(StaticAuth::basic("bench@example.com", "token"));
    let jira = JiraConnector::new(config)?;
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out.jsonl");
    let mut sink = JsonlSink::create(&out)?;
    let mut options = RunnerOptions::default();
    options.detect_deletions = false;
    let runner = SyncRunner::new(
        "bench",
        Arc::new(FileCheckpointStore::open(dir.path().join("state"))?),
    )
    .with_options(options);

    let started = Instant::now();
    let report = runner.run(&jira, &mut sink, SyncMode::Full).await?;
    let secs = started.elapsed().as_secs_f64();
    let rate = report.documents_processed as f64 / secs;
    let ceiling = 100.0 / latency.as_secs_f64();
    let bytes = std::fs::metadata(&out)?.len();
    let http = jira.http().counters();
    println!(
        "jira full sync {n} issues, {latency_ms} ms per search page: {} documents in {secs:.2}s = {rate:.0} docs/s \
         ({:.0}% of the {ceiling:.0} docs/s paging ceiling); {} requests; output {:.1} MiB; peak RSS {}",
        report.documents_processed,
        100.0 * rate / ceiling,
        http.requests,
        bytes as f64 / (1024.0 * 1024.0),
        peak_rss_mib().map_or("n/a".into(), |m| format!("{m:.1} MiB")),
    );
    Ok(())
}
