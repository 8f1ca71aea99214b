//! Throughput of a full Confluence Cloud sync against a local stand-in
//! (wiremock) holding 10 000 pages in one space, each list page answered
//! after a set latency, into a JSONL file.
//!
//! A listing page is two round trips on Cloud: the v2 page listing (250
//! pages with their storage bodies) and the CQL search that adds what v2
//! does not list (ancestors, labels, attachments, names). Both answer after
//! the latency. The person every page mentions is looked up once per sync
//! (`/rest/api/user/bulk`, answered at once). The connector lists in the background and runs each page's
//! search alongside the next listing request, so the paging ceiling is one
//! listing round trip per 250 pages: 250 / latency pages per second. Peak
//! RSS is the process high-water mark, including the in-process server
//! (which also spends CPU generating the JSON).
//!
//! The state is kept in a [`FileCheckpointStore`] in a temporary directory,
//! as a deployment would: the SDK's only per-document memory is then the
//! runner's content index (about 30 bytes per id). The stand-in itself is
//! not flat: wiremock 0.6 keeps every request a mock has matched, even with
//! request recording disabled, and each one pins hyper's read buffer
//! (6–8 KB per request), so peak RSS rises by roughly that much per page.
//!
//! ```text
//! cargo run --release -p connector-confluence --example bench_confluence [pages] [latency_ms]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceConnector, Deployment};
use connector_core::checkpoint::FileCheckpointStore;
use connector_core::runner::{RunnerOptions, SyncMode, SyncRunner};
use connector_core::sink::JsonlSink;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const PAGE_SIZE: usize = 250;

fn query(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn modified(n: usize) -> String {
    chrono::DateTime::from_timestamp(1_700_000_000 + n as i64 * 60, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn body(n: usize) -> String {
    format!(
        "<h2>Overview of service {n}</h2><p>This page describes <strong>service {n}</strong>, owned by \
         <ac:link><ri:user ri:account-id=\"5b10ac8d82e05b22cc7d4ef5\" /></ac:link>.</p>\
         <ul><li>Runs in three regions</li><li>Pages the on-call engineer</li></ul>\
         <table><tbody><tr><th>Host</th><th>Role</th></tr><tr><td>db-{n}</td><td>primary</td></tr></tbody></table>\
         <ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">bash</ac:parameter>\
         <ac:plain-text-body><![CDATA[systemctl restart service-{n}]]></ac:plain-text-body></ac:structured-macro>{}",
        "<p>The service times out when the upstream is slow; retry with backoff.</p>".repeat(6)
    )
}

/// `GET /wiki/api/v2/spaces/1/pages`: `n` pages, cursor `c<offset>`.
struct Pages {
    n: usize,
    latency: Duration,
}

impl Respond for Pages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let limit: usize = query(request, "limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(25);
        let start: usize = query(request, "cursor")
            .and_then(|c| c.strip_prefix('c').and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        let end = (start + limit).min(self.n);
        let results: Vec<Value> = (start + 1..=end)
            .map(|n| {
                let id = 100_000 + n;
                json!({
                    "id": id.to_string(), "status": "current", "title": format!("Service {n} runbook"),
                    "spaceId": "1", "parentId": "100000", "parentType": "page", "position": n,
                    "authorId": "5b10ac8d82e05b22cc7d4ef5", "createdAt": "2024-01-01T10:00:00.000Z",
                    "version": {"createdAt": modified(n), "message": "", "number": 4, "minorEdit": false,
                                "authorId": "5b10a2844c20165700ede21g"},
                    "body": {"storage": {"representation": "storage", "value": body(n)}},
                    "_links": {"webui": format!("/spaces/ENG/pages/{id}/Service+{n}+runbook"), "tinyui": format!("/x/{n}")}
                })
            })
            .collect();
        let mut links = json!({"base": "http://127.0.0.1/wiki"});
        if end < self.n {
            links["next"] = json!(format!(
                "/wiki/api/v2/spaces/1/pages?cursor=c{end}&limit={limit}&sort=id&status=current&body-format=storage"
            ));
        }
        ResponseTemplate::new(200)
            .set_body_json(json!({"results": results, "_links": links}))
            .set_delay(self.latency)
    }
}

/// `GET /wiki/rest/api/search?cql=id in (…)`: the v1 view of those pages.
struct Enrichment {
    latency: Duration,
}

impl Respond for Enrichment {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let cql = query(request, "cql").unwrap_or_default();
        let ids: Vec<usize> = cql
            .strip_prefix("id in (")
            .and_then(|r| r.strip_suffix(')'))
            .map(|ids| ids.split(',').filter_map(|i| i.parse().ok()).collect())
            .unwrap_or_default();
        let user = |id: &str, name: &str| json!({"type": "known", "accountId": id, "displayName": name, "publicName": name});
        let results: Vec<Value> = ids
            .iter()
            .map(|id| {
                json!({"content": {
                    "id": id.to_string(), "type": "page", "status": "current", "title": format!("Service {id}"),
                    "space": {"id": 1, "key": "ENG", "name": "Engineering", "type": "global", "status": "current"},
                    "history": {"latest": true, "createdBy": user("5b10ac8d82e05b22cc7d4ef5", "Mia Krystof"),
                                "createdDate": "2024-01-01T10:00:00.000Z"},
                    "version": {"by": user("5b10a2844c20165700ede21g", "Ada Lovelace"), "when": modified(1), "number": 4, "minorEdit": false},
                    "ancestors": [{"id": "65537", "type": "page", "status": "current", "title": "Home"},
                                  {"id": "100000", "type": "page", "status": "current", "title": "Services"}],
                    "metadata": {"labels": {"results": [{"prefix": "global", "name": "runbook", "id": "1", "label": "runbook"}],
                                            "start": 0, "limit": 200, "size": 1}},
                    "children": {"attachment": {"results": [{"id": format!("att{id}"), "type": "attachment", "status": "current",
                        "title": "architecture.png", "metadata": {"mediaType": "image/png"},
                        "extensions": {"mediaType": "image/png", "fileSize": 48213},
                        "_links": {"download": format!("/download/attachments/{id}/architecture.png?version=1")}}],
                        "start": 0, "limit": 25, "size": 1, "_links": {}}},
                    "_links": {"webui": format!("/spaces/ENG/pages/{id}")}
                }, "title": "", "excerpt": "", "url": "", "breadcrumbs": [], "entityType": "content",
                   "iconCssClass": "", "lastModified": modified(1)})
            })
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({
                "results": results, "start": 0, "limit": ids.len(), "size": ids.len(), "totalSize": ids.len(),
                "cqlQuery": cql, "searchDuration": 5, "_links": {"base": "http://127.0.0.1/wiki", "context": "/wiki"}
            }))
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
        .and(path("/wiki/rest/api/user/current"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"type": "known", "accountId": "a1", "timeZone": "UTC"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/wiki/api/v2/spaces"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"id": "1", "key": "ENG", "name": "Engineering", "type": "global", "status": "current"}],
            "_links": {}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/wiki/api/v2/spaces/1/pages"))
        .respond_with(Pages { n, latency })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/wiki/api/v2/spaces/1/blogposts"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"results": [], "_links": {}})),
        )
        .mount(&server)
        .await;
    // The people pages mention, looked up once per sync.
    Mock::given(method("GET"))
        .and(path("/wiki/rest/api/user/bulk"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"type": "known", "accountId": "5b10ac8d82e05b22cc7d4ef5", "accountType": "atlassian",
                         "displayName": "Mia Krystof", "publicName": "Mia Krystof"}],
            "start": 0, "limit": 200, "size": 1, "_links": {}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/wiki/rest/api/search"))
        .respond_with(Enrichment { latency })
        .mount(&server)
        .await;

    let config = ConfluenceConfig::new(format!("{}/wiki", server.uri()))
        .deployment(Deployment::Cloud)
        .space("ENG")
        .page_size(PAGE_SIZE as u32)
        .requests_per_second(1000.0);
    let wiki =
        ConfluenceConnector::new(config, ConfluenceAuth::basic("bench@example.com", "token"))?;
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
    let report = runner.run(&wiki, &mut sink, SyncMode::Full).await?;
    let secs = started.elapsed().as_secs_f64();
    let rate = report.documents_processed as f64 / secs;
    let ceiling = PAGE_SIZE as f64 / latency.as_secs_f64();
    let bytes = std::fs::metadata(&out)?.len();
    let http = wiki.client().http().counters();
    println!(
        "confluence full sync {n} pages, {latency_ms} ms per list/search page: {} documents ({} failed) in {secs:.2}s = {rate:.0} docs/s \
         ({:.0}% of the {ceiling:.0} docs/s paging ceiling); {} requests; output {:.1} MiB; peak RSS {}",
        report.documents_processed,
        report.documents_failed,
        100.0 * rate / ceiling,
        http.requests,
        bytes as f64 / (1024.0 * 1024.0),
        peak_rss_mib().map_or("n/a".into(), |m| format!("{m:.1} MiB")),
    );
    Ok(())
}
