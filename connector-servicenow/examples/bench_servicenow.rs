//! ServiceNow sync benchmarks against a local Table API stand-in (wiremock)
//! serving knowledge articles (HTML bodies of about 1.5 KB), into a JSONL
//! file.
//!
//! ```text
//! # Throughput: each page answered after a latency. Keyset pages follow
//! # each other (each starts after the last record of the one before), so
//! # the ceiling is page_size / latency records per second.
//! cargo run --release -p connector-servicenow --example bench_servicenow [records] [latency_ms] [page_size]
//!
//! # Incidents with three journal entries each: one journal listing per
//! # 50 incidents instead of one request per incident.
//! cargo run --release -p connector-servicenow --example bench_servicenow incidents [records] [latency_ms] [page_size]
//!
//! # The Rust sync against the loop a Python user writes with `requests`
//! # (offset paging, records written as JSON lines, no HTML conversion), on
//! # the same server.
//! cargo run --release -p connector-servicenow --example bench_servicenow python [records] [latency_ms] [page_size]
//! ```
//!
//! Articles are generated from their index as they are asked for, so the
//! server's memory does not grow with the record count: the peak RSS shown
//! is the sync's (and wiremock's) own.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_core::checkpoint::FileCheckpointStore;
use connector_core::runner::{RunnerOptions, SyncMode, SyncReport, SyncRunner};
use connector_core::sink::JsonlSink;
use connector_servicenow::{ServiceNowAuth, ServiceNowConfig, ServiceNowConnector};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The fields the connector asks for, asked for by the Python loop too.
const FIELDS: &str = "sys_id,number,short_description,text,workflow_state,valid_to,article_type,sys_created_on,sys_updated_on,kb_knowledge_base,kb_knowledge_base.title,kb_category,kb_category.label,kb_category.parent_id.label,author.name,author.email,can_read_user_criteria,cannot_read_user_criteria";

/// A `kb_knowledge` table of `n` articles, generated on demand.
struct Instance {
    n: usize,
    latency: Duration,
}

fn sys_id(n: usize) -> String {
    format!("{n:032x}")
}

fn at(n: usize) -> String {
    chrono::DateTime::from_timestamp(1_704_067_200 + n as i64, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Article `n` as the Table API writes it (`display_value=false`), built
/// as text: the stand-in's own cost stays small next to the latency.
fn article(n: usize) -> String {
    let body = format!(
        "<h2>How to reset the VPN token</h2><p>Article {n}. {}</p><ul><li>Open the portal</li><li>Pick <b>Reset</b></li></ul><table><tr><td>Region</td><td>EU</td></tr></table>",
        "Open the self-service portal, sign in with your badge number and follow the steps shown on screen. ".repeat(10)
    );
    let value = json!({
        "sys_id": sys_id(n),
        "number": format!("KB{n:07}"),
        "short_description": format!("VPN token reset {n}"),
        "text": body,
        "workflow_state": "published",
        "valid_to": "",
        "article_type": "html",
        "sys_created_on": at(0),
        "sys_updated_on": at(n),
        "kb_knowledge_base": sys_id(1),
        "kb_knowledge_base.title": "IT",
        "kb_category": sys_id(2),
        "kb_category.label": "Network",
        "kb_category.parent_id.label": "",
        "author.name": "Ada Lovelace",
        "author.email": "ada@example.com",
        "can_read_user_criteria": "",
        "cannot_read_user_criteria": ""
    });
    value.to_string()
}

/// Incident `n` as the Table API writes it with `sysparm_display_value=all`.
fn incident(n: usize) -> String {
    let pair = |v: &str| json!({"display_value": v, "value": v});
    json!({
        "sys_id": pair(&sys_id(n)),
        "number": pair(&format!("INC{n:07}")),
        "short_description": pair(&format!("Email down on floor {n}")),
        "description": pair(&"Outlook cannot connect to the server since this morning. ".repeat(4)),
        "close_notes": pair("Restarted the exchange connector."),
        "state": {"display_value": "Resolved", "value": "6"},
        "priority": {"display_value": "2 - High", "value": "2"},
        "category": pair("software"),
        "caller_id": {"display_value": "Abel Tuter", "value": sys_id(3)},
        "assignment_group": {"display_value": "Service Desk", "value": sys_id(4)},
        "sys_created_on": pair(&at(0)),
        "sys_updated_on": pair(&at(n))
    })
    .to_string()
}

/// Journal entries of the incidents named in `query` (`element_idIN…` or
/// `element_id=…`), three each.
fn journal(query: &str, offset: usize, limit: usize) -> ResponseTemplate {
    let ids: Vec<&str> = query
        .split('^')
        .find_map(|c| {
            c.strip_prefix("element_idIN")
                .or_else(|| c.strip_prefix("element_id="))
        })
        .map(|list| list.split(',').collect())
        .unwrap_or_default();
    let all: Vec<String> = ids
        .iter()
        .flat_map(|id| {
            (0..3).map(move |i| {
                json!({
                    "sys_id": format!("{id}{i}"),
                    "element_id": id,
                    "element": "comments",
                    "value": "Any news on this? It still fails for the whole team.",
                    "sys_created_on": at(i),
                    "sys_created_by": "beth.anglin"
                })
                .to_string()
            })
        })
        .collect();
    let page: Vec<&str> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(String::as_str)
        .collect();
    ResponseTemplate::new(200)
        .insert_header("X-Total-Count", all.len().to_string().as_str())
        .set_body_raw(
            format!("{{\"result\":[{}]}}", page.join(",")),
            "application/json",
        )
}

impl Respond for Instance {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let record: fn(usize) -> String = match request.url.path() {
            "/api/now/table/kb_knowledge" => article,
            "/api/now/table/incident" => incident,
            "/api/now/table/sys_journal_field" => {
                let param = |k: &str| {
                    request
                        .url
                        .query_pairs()
                        .find(|(name, _)| name == k)
                        .map(|(_, v)| v.into_owned())
                };
                let number = |k: &str, default: usize| {
                    param(k).and_then(|v| v.parse().ok()).unwrap_or(default)
                };
                return journal(
                    &param("sysparm_query").unwrap_or_default(),
                    number("sysparm_offset", 0),
                    number("sysparm_limit", 10_000),
                )
                .set_delay(self.latency);
            }
            _ => return ResponseTemplate::new(404),
        };
        let param = |k: &str| {
            request
                .url
                .query_pairs()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.into_owned())
        };
        let limit: usize = param("sysparm_limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(10_000);
        let offset: usize = param("sysparm_offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        // Keyset: "…^ORsys_id>{hex}" starts after that record.
        let after = param("sysparm_query")
            .and_then(|q| {
                q.split("^ORsys_id>")
                    .nth(1)
                    .and_then(|rest| usize::from_str_radix(&rest[..32.min(rest.len())], 16).ok())
            })
            .unwrap_or(0);
        let first = after + 1 + offset;
        let remaining = self.n.saturating_sub(after);
        let end = (first + limit).min(self.n + 1);
        let records: Vec<String> = (first..end).map(record).collect();
        let body = format!("{{\"result\":[{}]}}", records.join(","));
        let mut answer = ResponseTemplate::new(200)
            .insert_header("X-Total-Count", remaining.to_string().as_str())
            .set_body_raw(body, "application/json")
            .set_delay(self.latency);
        if offset + limit < remaining {
            let next = format!(
                "<{}/api/now/table/kb_knowledge?sysparm_offset={}&sysparm_limit={limit}>;rel=\"next\"",
                request.url.origin().ascii_serialization(),
                offset + limit
            );
            answer = answer.insert_header("Link", next.as_str());
        }
        answer
    }
}

async fn server(n: usize, latency: Duration) -> MockServer {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(any())
        .respond_with(Instance { n, latency })
        .mount(&server)
        .await;
    server
}

/// A full sync of `server` into a JSONL file; the report and its seconds.
async fn sync(
    server: &MockServer,
    table: &str,
    page_size: u32,
) -> Result<(SyncReport, f64, ServiceNowConnector), Box<dyn std::error::Error>> {
    let config = ServiceNowConfig::new(server.uri())
        .tables([table])
        .page_size(page_size)
        .credentials(ServiceNowAuth::basic("bench", "password"));
    let servicenow = ServiceNowConnector::new(config)?;
    let dir = tempfile::tempdir()?;
    let mut sink = JsonlSink::create(dir.path().join("out.jsonl"))?;
    let mut options = RunnerOptions::default();
    options.detect_deletions = false;
    let runner = SyncRunner::new(
        "bench",
        Arc::new(FileCheckpointStore::open(dir.path().join("state"))?),
    )
    .with_options(options);
    let started = Instant::now();
    let report = runner.run(&servicenow, &mut sink, SyncMode::Full).await?;
    Ok((report, started.elapsed().as_secs_f64(), servicenow))
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn throughput(
    n: usize,
    latency_ms: u64,
    page_size: u32,
) -> Result<(), Box<dyn std::error::Error>> {
    let latency = Duration::from_millis(latency_ms);
    let server = server(n, latency).await;
    let (bare_records, bare_secs) = bare_keyset_loop(&server.uri(), page_size).await?;
    let bare = bare_records as f64 / bare_secs;
    let (report, secs, servicenow) = sync(&server, "kb_knowledge", page_size).await?;
    let rate = report.documents_processed as f64 / secs;
    let ceiling = f64::from(page_size) / latency.as_secs_f64();
    println!(
        "servicenow full sync {n} articles, pages of {page_size}, {latency_ms} ms per page: {} documents in {secs:.2}s = {rate:.0} docs/s \
         ({:.0}% of the {ceiling:.0} docs/s paging ceiling, {:.0}% of the stand-in's own {bare:.0} docs/s); {} requests; peak RSS {}",
        report.documents_processed,
        100.0 * rate / ceiling,
        100.0 * rate / bare,
        servicenow.http().counters().requests,
        peak_rss_mib().map_or("n/a".into(), |m| format!("{m:.1} MiB")),
    );
    Ok(())
}

/// What the stand-in itself allows: the keyset pages fetched one after the
/// other by a bare client that reads only each record's `sys_id` — the
/// latency plus the server's own time to build a page, no conversion.
async fn bare_keyset_loop(
    uri: &str,
    page_size: u32,
) -> Result<(usize, f64), Box<dyn std::error::Error>> {
    #[derive(serde::Deserialize)]
    struct Id {
        sys_id: String,
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        result: Vec<Id>,
    }
    let client = reqwest::Client::new();
    let (mut after, mut records) = (None::<String>, 0);
    let started = Instant::now();
    loop {
        let mut query = "ORDERBYsys_updated_on^ORDERBYsys_id".to_owned();
        if let Some(id) = &after {
            query = format!("sys_updated_on>=2024-01-01 00:00:00^ORsys_id>{id}^{query}");
        }
        let page: Answer = client
            .get(format!("{uri}/api/now/table/kb_knowledge"))
            .query(&[
                ("sysparm_limit", page_size.to_string()),
                ("sysparm_query", query),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        records += page.result.len();
        match page.result.last() {
            Some(last) if page.result.len() == page_size as usize => {
                after = Some(last.sys_id.clone());
            }
            _ => break,
        }
    }
    Ok((records, started.elapsed().as_secs_f64()))
}

async fn incidents(
    n: usize,
    latency_ms: u64,
    page_size: u32,
) -> Result<(), Box<dyn std::error::Error>> {
    let server = server(n, Duration::from_millis(latency_ms)).await;
    let (report, secs, servicenow) = sync(&server, "incident", page_size).await?;
    let requests = servicenow.http().counters().requests;
    println!(
        "servicenow incidents {n} (3 comments each), pages of {page_size}, {latency_ms} ms per answer: {} documents in {secs:.2}s = {:.0} docs/s; \
         {requests} requests ({} a record); peak RSS {}",
        report.documents_processed,
        report.documents_processed as f64 / secs,
        requests as f64 / n.max(1) as f64,
        peak_rss_mib().map_or("n/a".into(), |m| format!("{m:.1} MiB")),
    );
    Ok(())
}

async fn against_python(
    n: usize,
    latency_ms: u64,
    page_size: u32,
) -> Result<(), Box<dyn std::error::Error>> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testing/table_api_loop.py");
    let server = server(n, Duration::from_millis(latency_ms)).await;
    let uri = server.uri();
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("python.jsonl");
    let py = tokio::task::spawn_blocking(move || {
        Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
            .arg(script)
            .arg(uri)
            .arg("kb_knowledge")
            .arg(FIELDS)
            .arg(page_size.to_string())
            .arg(out)
            .output()
    })
    .await??;
    if !py.status.success() {
        return Err(format!(
            "the Python loop failed (it needs `requests`): {}",
            String::from_utf8_lossy(&py.stderr)
        )
        .into());
    }
    let text = String::from_utf8_lossy(&py.stdout);
    let mut words = text.split_whitespace();
    let py_records: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    let py_secs: f64 = words
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(f64::NAN);
    let (report, secs, servicenow) = sync(&server, "kb_knowledge", page_size).await?;
    println!(
        "{n} articles, pages of {page_size}, {latency_ms} ms per page\n\
         python requests loop (offset paging, raw JSON lines): {py_records} records in {py_secs:.2}s = {:.0} records/s\n\
         rust sync (keyset, HTML to text, checkpoints):        {} documents in {secs:.2}s = {:.0} docs/s, {} requests\n\
         time rust / python: {:.2}",
        py_records as f64 / py_secs,
        report.documents_processed,
        report.documents_processed as f64 / secs,
        servicenow.http().counters().requests,
        secs / py_secs
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str);
    let python = mode == Some("python");
    let with_incidents = mode == Some("incidents");
    let rest = if python || with_incidents {
        &args[1..]
    } else {
        &args[..]
    };
    let num = |i: usize, default: u64| {
        rest.get(i)
            .and_then(|a| a.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let (n, latency, page) = (num(0, 10_000) as usize, num(1, 50), num(2, 500) as u32);
    if python {
        against_python(n, latency, page).await
    } else if with_incidents {
        incidents(n, latency, page).await
    } else {
        throughput(n, latency, page).await
    }
}
