//! What incremental and throttled SharePoint syncs cost, against a local
//! Microsoft Graph stand-in (wiremock) with one document library.
//!
//! - `permissions [files]`: a full sync with permissions on, then an
//!   incremental sync with nothing changed, through the sync runner (with
//!   deletion detection on, as the `sync` example runs it). Prints the
//!   requests of each run by kind.
//! - `throttled [files] [percent_429]`: the same library (permissions on)
//!   behind a server that answers a share of requests `429` with
//!   `Retry-After: 1`. Times a full sync resumed from its halfway
//!   checkpoint, and a sync whose stored delta link the server answers
//!   `410 Gone` (the library is read again from scratch), and prints each
//!   against the pauses the server asked for.
//!
//! ```text
//! cargo run --release -p connector-sharepoint --example bench_sharepoint_changes -- permissions 1000
//! cargo run --release -p connector-sharepoint --example bench_sharepoint_changes -- throttled 3000 5
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::Utc;
use connector_core::checkpoint::FileCheckpointStore;
use connector_core::runner::{RunnerOptions, SyncMode, SyncRunner};
use connector_core::sink::JsonlSink;
use connector_core::{Checkpoint, CheckpointedConnector, Item, TimeWindow};
use connector_sharepoint::{SharePointConfig, SharePointConnector};
use connector_testing::hostile::{Flaky, Shared};
use futures::StreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TENANT: &str = "00000000-0000-4000-8000-000000000001";
const SITE_ID: &str = "contoso.sharepoint.com,2c7e5a7f-6f2b-4a25-8f7e-1b1f3c0d9a11,a9b8c7d6-1234-4c3b-9a8f-0e1d2c3b4a59";
const DRIVE: &str = "b!f1VhLC5vJUqPfhsfPA2aEdbHuKk0EjtMm59-HSw7SlkQm_LmFwS5QbMWb6Uh8Ffq";
const PAGE: usize = 200;

/// The Graph endpoints a sync of one library reads, counted by kind.
struct Graph {
    base: String,
    files: usize,
    delta: AtomicU64,
    permissions: AtomicU64,
    other: AtomicU64,
}

fn item(n: usize) -> Value {
    if n == 0 {
        return json!({"id": "01ROOT", "name": "root", "root": {}, "folder": {"childCount": 1},
                      "parentReference": {"driveType": "documentLibrary", "driveId": DRIVE}});
    }
    json!({
        "id": format!("01ITEM{n:08}"),
        "name": format!("report-{n}.docx"),
        "eTag": format!("\"{{ITEM{n}}},3\""),
        "cTag": format!("\"c:{{ITEM{n}}},3\""),
        "size": 48213 + n,
        "createdDateTime": "2023-06-01T09:30:00Z",
        "lastModifiedDateTime": "2024-03-01T10:00:00Z",
        "webUrl": format!("https://contoso.sharepoint.com/sites/Eng/Shared%20Documents/report-{n}.docx"),
        "createdBy": {"user": {"email": "ada@contoso.com", "id": "a1", "displayName": "Ada Lovelace"}},
        "lastModifiedBy": {"user": {"email": "grace@contoso.com", "id": "g1", "displayName": "Grace Hopper"}},
        "parentReference": {"driveType": "documentLibrary", "driveId": DRIVE, "id": "01ROOT"},
        "file": {"mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    })
}

impl Graph {
    fn link(&self, token: &str) -> String {
        format!("{}/drives/{DRIVE}/root/delta?token={token}", self.base)
    }

    fn delta(&self, request: &Request) -> ResponseTemplate {
        self.delta.fetch_add(1, Ordering::Relaxed);
        let token = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let start = match token.as_str() {
            "" => 0,
            "expired" => {
                return ResponseTemplate::new(410).set_body_json(json!({"error": {
                    "code": "resyncRequired", "message": "Resync required."}}));
            }
            t => match t.strip_prefix("next-").and_then(|n| n.parse().ok()) {
                Some(n) => n,
                // The delta link, or a timestamp: nothing changed since.
                None => {
                    return ResponseTemplate::new(200).set_body_json(json!({
                        "value": [], "@odata.deltaLink": self.link("delta-1")}));
                }
            },
        };
        let total = self.files + 1;
        let end = (start + PAGE).min(total);
        let items: Vec<Value> = (start..end).map(item).collect();
        let mut body = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(driveItem)", "value": items});
        if end < total {
            body["@odata.nextLink"] = json!(self.link(&format!("next-{end}")));
        } else {
            body["@odata.deltaLink"] = json!(self.link("delta-1"));
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

impl Respond for Graph {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let p = request.url.path();
        if p.ends_with("/root/delta") {
            return self.delta(request);
        }
        if p.ends_with("/permissions") {
            self.permissions.fetch_add(1, Ordering::Relaxed);
            return ResponseTemplate::new(200).set_body_json(json!({"value": [
                {"id": "3", "roles": ["owner"], "grantedToV2": {"siteGroup": {"displayName": "Eng Owners", "id": "3"}}},
                {"id": "4", "roles": ["read"], "link": {"scope": "organization", "type": "view"}}
            ]}));
        }
        self.other.fetch_add(1, Ordering::Relaxed);
        if p.ends_with("/drives") {
            return ResponseTemplate::new(200).set_body_json(json!({"value": [
                {"id": DRIVE, "name": "Documents", "driveType": "documentLibrary"}]}));
        }
        if p.contains("/pages/") {
            return ResponseTemplate::new(200).set_body_json(json!({"value": []}));
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "id": SITE_ID, "name": "Eng", "displayName": "Engineering",
            "webUrl": "https://contoso.sharepoint.com/sites/Eng"}))
    }
}

fn counts(g: &Graph) -> (u64, u64, u64) {
    (
        g.delta.load(Ordering::Relaxed),
        g.permissions.load(Ordering::Relaxed),
        g.other.load(Ordering::Relaxed),
    )
}

async fn stand_in(
    files: usize,
    percent_429: u64,
) -> (MockServer, Arc<Flaky<Shared<Graph>>>, Arc<Graph>) {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let graph = Arc::new(Graph {
        base: format!("{}/v1.0", server.uri()),
        files,
        delta: AtomicU64::new(0),
        permissions: AtomicU64::new(0),
        other: AtomicU64::new(0),
    });
    let flaky = Arc::new(Flaky::new(Shared(graph.clone()), percent_429, 0));
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": "bench-token"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1\.0/"))
        .respond_with(Shared(flaky.clone()))
        .mount(&server)
        .await;
    (server, flaky, graph)
}

fn connector(server: &MockServer) -> SharePointConnector {
    let config = SharePointConfig::new(TENANT)
        .site("https://contoso.sharepoint.com/sites/Eng")
        .graph_url(format!("{}/v1.0", server.uri()))
        .login_url(server.uri())
        .permissions(true)
        .credentials("bench-client", "bench-secret");
    SharePointConnector::new(config).unwrap_or_else(|e| panic!("config: {e}"))
}

async fn permissions(files: usize) -> Result<(), Box<dyn std::error::Error>> {
    let (server, _, graph) = stand_in(files, 0).await;
    let sharepoint = connector(&server);
    let dir = tempfile::tempdir()?;
    let runner = SyncRunner::new(
        "bench",
        Arc::new(FileCheckpointStore::open(dir.path().join("state"))?),
    )
    .with_options(RunnerOptions::default());
    let mut sink = JsonlSink::create(dir.path().join("out.jsonl"))?;
    for (mode, name) in [
        (SyncMode::Full, "full"),
        (SyncMode::Incremental, "incremental, nothing changed"),
    ] {
        let before = counts(&graph);
        let started = Instant::now();
        let report = runner.run(&sharepoint, &mut sink, mode).await?;
        let after = counts(&graph);
        let (d, p, o) = (after.0 - before.0, after.1 - before.1, after.2 - before.2);
        println!(
            "{name} sync of {files} files with permissions: {} written, {:.2}s, {} requests ({d} delta pages, {p} permission reads, {o} other)",
            report.documents_processed,
            started.elapsed().as_secs_f64(),
            d + p + o,
        );
    }
    Ok(())
}

/// Drain a stream; the checkpoint after about `stop_after` documents when asked.
async fn drain(
    mut stream: connector_core::ItemStream<'_>,
    stop_after: Option<usize>,
) -> Result<(usize, Option<Checkpoint>), connector_core::Error> {
    let mut docs = 0;
    let mut last = None;
    while let Some(item) = stream.next().await {
        match item? {
            Item::Document(_) | Item::Failure(_) => docs += 1,
            Item::Checkpoint(cp) => {
                if stop_after.is_some_and(|n| docs >= n) {
                    return Ok((docs, Some(cp)));
                }
                last = Some(cp);
            }
            _ => {}
        }
    }
    Ok((docs, last))
}

async fn throttled(files: usize, percent: u64) -> Result<(), Box<dyn std::error::Error>> {
    let (server, flaky, graph) = stand_in(files, percent).await;
    let sharepoint = connector(&server);
    let full = TimeWindow::until(Utc::now());
    let (_, halfway) = drain(sharepoint.resume(full, None), Some(files / 2)).await?;

    let mut expired: Value = halfway.as_ref().ok_or("no checkpoint")?.0.clone();
    let runs = [
        (
            "resumed full sync (from its halfway checkpoint)",
            halfway.clone(),
        ),
        ("410 resync (stored delta link gone)", {
            expired["current"] = Value::Null;
            expired["delta_links"] = json!({DRIVE: format!("{}/v1.0/drives/{DRIVE}/root/delta?token=expired", server.uri())});
            Some(Checkpoint(expired))
        }),
    ];
    for (name, from) in runs {
        let throttled_before = flaky.throttled();
        let before = counts(&graph);
        let started = Instant::now();
        let (docs, _) = drain(sharepoint.resume(full, from), None).await?;
        let secs = started.elapsed().as_secs_f64();
        let asked = (flaky.throttled() - throttled_before) as f64;
        let after = counts(&graph);
        let requests = (after.0 + after.1 + after.2) - (before.0 + before.1 + before.2);
        println!(
            "{name}, {files} files, {percent}% 429 (Retry-After: 1): {docs} documents in {secs:.1}s; \
             {asked:.0} pauses of 1 s asked ({:.2}x); {requests} requests answered",
            secs / asked.max(1.0)
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "permissions".into());
    let files: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    match mode.as_str() {
        "permissions" => permissions(files).await,
        "throttled" => {
            let percent = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
            throttled(files, percent).await
        }
        other => Err(format!("unknown mode {other:?}: permissions or throttled").into()),
    }
}
