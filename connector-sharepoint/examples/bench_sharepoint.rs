//! Throughput of a full SharePoint sync against a local Microsoft Graph
//! stand-in (wiremock): one document library of 10 000 drive items served
//! by the delta query in pages of 200, each page answered after a set
//! latency, into a JSONL file.
//!
//! The ceiling is what paging allows: one delta page of 200 items per
//! round trip, so 200 / latency items per second. With a text share above
//! zero, that many files in a hundred are `.txt` whose bytes come through
//! `/content` → 302 → a second local server (with the same latency), read
//! eight at a time; the ceiling is then the slower of paging and
//! downloading. Peak RSS is the process high-water mark, including the
//! in-process servers.
//!
//! The state is kept in a [`FileCheckpointStore`] in a temporary directory,
//! as a deployment would: the SDK's only per-document memory is then the
//! runner's content index (about 30 bytes per id). The stand-in itself is
//! not flat: wiremock 0.6 keeps every request a mock has matched, even with
//! request recording disabled, and each one pins hyper's read buffer
//! (6–8 KB per request), so peak RSS rises by roughly that much per page.
//!
//! ```text
//! cargo run --release -p connector-sharepoint --example bench_sharepoint [items] [latency_ms] [text_percent]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_core::checkpoint::FileCheckpointStore;
use connector_core::options::SourceOptions;
use connector_core::runner::{RunnerOptions, SyncMode, SyncRunner};
use connector_core::sink::JsonlSink;
use connector_sharepoint::{SharePointConfig, SharePointConnector};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TENANT: &str = "00000000-0000-4000-8000-000000000001";
const SITE_ID: &str = "contoso.sharepoint.com,2c7e5a7f-6f2b-4a25-8f7e-1b1f3c0d9a11,a9b8c7d6-1234-4c3b-9a8f-0e1d2c3b4a59";
const DRIVE: &str = "b!f1VhLC5vJUqPfhsfPA2aEdbHuKk0EjtMm59-HSw7SlkQm_LmFwS5QbMWb6Uh8Ffq";
const PAGE: usize = 200;

struct Delta {
    base: String,
    n: usize,
    text_percent: usize,
    latency: Duration,
}

fn item(n: usize, text_percent: usize) -> Value {
    let folder = n / 100;
    if n == 0 {
        return json!({"id": "01ROOT", "name": "root", "root": {}, "folder": {"childCount": 100},
                      "parentReference": {"driveType": "documentLibrary", "driveId": DRIVE}});
    }
    if n.is_multiple_of(100) {
        return json!({
            "id": format!("01FOLDER{folder}"), "name": format!("Folder {folder}"),
            "eTag": "\"{F},1\"", "cTag": "\"c:{F},0\"", "size": 0,
            "createdDateTime": "2023-05-10T08:00:00Z", "lastModifiedDateTime": "2024-03-01T12:00:00Z",
            "webUrl": format!("https://contoso.sharepoint.com/sites/Eng/Shared%20Documents/Folder%20{folder}"),
            "parentReference": {"driveType": "documentLibrary", "driveId": DRIVE, "id": "01ROOT"},
            "folder": {"childCount": 99}
        });
    }
    let text = n % 100 < text_percent;
    let (name, mime) = if text {
        (format!("notes-{n}.txt"), "text/plain")
    } else {
        (
            format!("report-{n}.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    };
    json!({
        "@microsoft.graph.downloadUrl": format!("https://contoso.sharepoint.com/_layouts/15/download.aspx?UniqueId={n}&tempauth=x"),
        "id": format!("01ITEM{n:08}"),
        "name": name,
        "eTag": format!("\"{{ITEM{n}}},3\""),
        "cTag": format!("\"c:{{ITEM{n}}},3\""),
        "size": 48213 + n,
        "createdDateTime": "2023-06-01T09:30:00Z",
        "lastModifiedDateTime": "2024-03-01T10:00:00Z",
        "webUrl": format!("https://contoso.sharepoint.com/sites/Eng/Shared%20Documents/Folder%20{folder}/{name}"),
        "createdBy": {"user": {"email": "ada@contoso.com", "id": "a1", "displayName": "Ada Lovelace"}},
        "lastModifiedBy": {"user": {"email": "grace@contoso.com", "id": "g1", "displayName": "Grace Hopper"}},
        "parentReference": {"driveType": "documentLibrary", "driveId": DRIVE, "id": format!("01FOLDER{folder}")},
        "file": {"mimeType": mime, "hashes": {"quickXorHash": "dGhpcyBpcyBhIGhhc2g="}},
        "fileSystemInfo": {"createdDateTime": "2023-06-01T09:30:00Z", "lastModifiedDateTime": "2024-03-01T10:00:00Z"}
    })
}

impl Respond for Delta {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let start = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "token")
            .and_then(|(_, v)| v.strip_prefix("next-").and_then(|n| n.parse().ok()))
            .unwrap_or(0usize);
        let end = (start + PAGE).min(self.n);
        let items: Vec<Value> = (start..end).map(|n| item(n, self.text_percent)).collect();
        let link = |token: String| format!("{}/drives/{DRIVE}/root/delta?token={token}", self.base);
        let mut body = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(driveItem)", "value": items});
        if end < self.n {
            body["@odata.nextLink"] = json!(link(format!("next-{end}")));
        } else {
            body["@odata.deltaLink"] = json!(link("delta-1".into()));
        }
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay(self.latency)
    }
}

struct Redirect {
    download: String,
}

impl Respond for Redirect {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let item = request.url.path().split('/').nth(5).unwrap_or("");
        ResponseTemplate::new(302).insert_header(
            "Location",
            format!("{}/download.aspx?UniqueId={item}&tempauth=x", self.download).as_str(),
        )
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
    let text_percent: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(0)
        .min(99);
    let latency = Duration::from_millis(latency_ms);

    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let download = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let graph = format!("{}/v1.0", server.uri());
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "bench-token"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/sites/contoso.sharepoint.com:/sites/Eng"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": SITE_ID, "name": "Eng", "displayName": "Engineering", "webUrl": "https://contoso.sharepoint.com/sites/Eng"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        // Ids in request paths are percent-encoded; Graph's own links keep them raw.
        .and(path_regex(r"^/v1\.0/sites/[^/]+/drives$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            {"id": DRIVE, "name": "Documents", "driveType": "documentLibrary"}
        ]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1\.0/drives/[^/]+/root/delta$"))
        .respond_with(Delta {
            base: graph.clone(),
            n,
            text_percent,
            latency,
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1\.0/drives/[^/]+/items/[^/]+/content$"))
        .respond_with(Redirect {
            download: download.uri(),
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/download.aspx"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(
                    "Meeting notes: the billing service times out when the upstream is slow. "
                        .repeat(20),
                )
                .set_delay(latency),
        )
        .mount(&download)
        .await;

    let config = SharePointConfig::new(TENANT)
        .site("https://contoso.sharepoint.com/sites/Eng")
        .graph_url(graph)
        .login_url(server.uri())
        .include_pages(false)
        .credentials("bench-client", "bench-secret")
        .options(SourceOptions::default().with_rate(1000.0));
    let sharepoint = SharePointConnector::new(config)?;
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
    let report = runner.run(&sharepoint, &mut sink, SyncMode::Full).await?;
    let secs = started.elapsed().as_secs_f64();
    let rate = report.documents_processed as f64 / secs;
    // Paging is sequential (each nextLink comes from the page before);
    // text files are read eight at a time beside it: the slower bounds.
    let pages = n.div_ceil(PAGE) as f64;
    let text_files = (1..n)
        .filter(|i| i % 100 != 0 && i % 100 < text_percent)
        .count() as f64;
    let floor = (pages * latency.as_secs_f64()).max(text_files * latency.as_secs_f64() / 8.0);
    let ceiling = n as f64 / floor;
    let bytes = std::fs::metadata(&out)?.len();
    let http = sharepoint.http().counters();
    println!(
        "sharepoint full sync {n} drive items ({text_percent}% text via /content), {latency_ms} ms per request: \
         {} documents in {secs:.2}s = {rate:.0} docs/s ({:.0}% of the {ceiling:.0} items/s ceiling of sequential delta pages and 8 parallel downloads); \
         {} requests; output {:.1} MiB; peak RSS {}",
        report.documents_processed,
        100.0 * rate / ceiling,
        http.requests,
        bytes as f64 / (1024.0 * 1024.0),
        peak_rss_mib().map_or("n/a".into(), |m| format!("{m:.1} MiB")),
    );
    Ok(())
}
