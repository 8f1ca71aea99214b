//! Throughput and memory of a full Google Drive sync against a local Drive
//! API v3 stand-in: a My Drive of N files served by `files.list` in pages
//! of 1 000, every answer sent after a set latency.
//!
//! The stand-in is a minimal HTTP/1.1 server written here on tokio (no
//! request log, nothing kept per request), so the process's peak RSS is
//! the connector's: it is reset (`/proc/self/clear_refs`) before each run
//! and read from `VmHWM` after it.
//!
//! Every file carries its permissions inline (My Drive files the user may
//! share), so each document costs one request: an export (Google Docs →
//! `text/markdown`) or a download (`alt=media`, a text file), in the mix
//! asked for. With `concurrency` reads in flight the ceiling is
//! `concurrency / latency` documents per second (listing pages of 1 000
//! are fetched ahead and never the limit here).
//!
//! It also prints the size of one file resource as Drive sends it with
//! `fields=*` against the fields the connector asks for.
//!
//! ```text
//! cargo run --release -p connector-gdrive --example bench_gdrive [latency_ms] [concurrency] [export_percent] [sizes…]
//! ```

#![allow(clippy::unwrap_used)] // a benchmark fails loudly

use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_core::credentials::Bearer;
use connector_core::options::SourceOptions;
use connector_core::{Item, LoadConnector};
use connector_gdrive::{GoogleDriveConfig, GoogleDriveConnector};
use futures::StreamExt;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const PAGE: usize = 1000;

#[derive(Clone, Copy)]
struct Server {
    files: usize,
    export_percent: usize,
    latency: Duration,
}

fn file(i: usize, export_percent: usize) -> serde_json::Value {
    let doc = (i * 100 / 97) % 100 < export_percent;
    let (name, mime) = if doc {
        (
            format!("Plan {i}"),
            "application/vnd.google-apps.document".to_owned(),
        )
    } else {
        (format!("notes-{i}.txt"), "text/plain".to_owned())
    };
    json!({
        "id": format!("1f{i:08}"),
        "name": name,
        "mimeType": mime,
        "parents": ["0AJrootFolderUk9PVA"],
        "webViewLink": format!("https://docs.google.com/document/d/1f{i:08}/edit?usp=drivesdk"),
        "createdTime": "2024-03-01T09:00:00.000Z",
        "modifiedTime": "2024-03-02T10:30:00.000Z",
        "size": "1800",
        "trashed": false,
        "ownedByMe": true,
        "owners": [{"displayName": "Ann Lee", "emailAddress": "ann@acme.com"}],
        "lastModifyingUser": {"displayName": "Bob Ray", "emailAddress": "bob@acme.com"},
        "permissions": [
            {"type": "user", "emailAddress": "ann@acme.com"},
            {"type": "domain", "domain": "acme.com", "allowFileDiscovery": true}
        ]
    })
}

impl Server {
    fn answer(&self, target: &str) -> (u16, String) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let param = |name: &str| {
            query.split('&').find_map(|kv| {
                kv.split_once('=')
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_owned())
            })
        };
        match path {
            "/drive/v3/changes/startPageToken" => (
                200,
                json!({"kind": "drive#startPageToken", "startPageToken": "1000"}).to_string(),
            ),
            "/drive/v3/changes" => (
                200,
                json!({"kind": "drive#changeList", "newStartPageToken": "1000", "changes": []})
                    .to_string(),
            ),
            "/drive/v3/files" => {
                let start: usize = param("pageToken")
                    .and_then(|t| t.strip_prefix('p').and_then(|n| n.parse().ok()))
                    .unwrap_or(0);
                let end = (start + PAGE).min(self.files);
                let files: Vec<_> = (start..end).map(|i| file(i, self.export_percent)).collect();
                let mut body =
                    json!({"kind": "drive#fileList", "incompleteSearch": false, "files": files});
                if end < self.files {
                    body["nextPageToken"] = json!(format!("p{end}"));
                }
                (200, body.to_string())
            }
            p if p.ends_with("/export") => (200, markdown(p)),
            p if p.starts_with("/drive/v3/files/") && param("alt").as_deref() == Some("media") => {
                (200, markdown(p))
            }
            _ => (
                404,
                r#"{"error":{"code":404,"message":"File not found."}}"#.into(),
            ),
        }
    }
}

fn markdown(path: &str) -> String {
    let mut body = format!("# {path}\n\n");
    while body.len() < 1800 {
        body.push_str("- a line of the document, as an export would hold it\n");
    }
    body
}

/// One keep-alive connection: requests answered in turn after the latency.
async fn serve(stream: TcpStream, server: Server) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if read.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if read.read_exact(&mut body).await.is_err() {
            return;
        }
        tokio::time::sleep(server.latency).await;
        let (status, body) = server.answer(&target);
        // One write: a head and a body in two segments would wait for a
        // delayed ACK (Nagle), 40 ms a request.
        let answer = format!(
            "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn start(server: Server) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, server));
        }
    });
    format!("http://{addr}/drive/v3")
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn run(files: usize, latency: Duration, concurrency: usize, export_percent: usize) {
    // Reset the high-water mark to the current RSS (Linux ≥ 4.0).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let api = start(Server {
        files,
        export_percent,
        latency,
    })
    .await;
    let mut config = GoogleDriveConfig::default();
    config.api_url = api;
    config.options = SourceOptions::default()
        .with_rate(1_000_000.0)
        .with_concurrency(concurrency);
    let drive = GoogleDriveConnector::with_credentials(config, Arc::new(Bearer::new("ya29.bench")))
        .unwrap();
    let started = Instant::now();
    let mut stream = drive.load();
    let (mut docs, mut failures, mut bytes) = (0usize, 0usize, 0usize);
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            Item::Document(d) => {
                docs += 1;
                bytes += d.text_len();
            }
            Item::Failure(f) => {
                failures += 1;
                if failures < 3 {
                    eprintln!("failure: {f:?}");
                }
            }
            _ => {}
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let ceiling = concurrency as f64 / latency.as_secs_f64();
    let rate = docs as f64 / secs;
    println!(
        "{files:>7} files  {export_percent:>3}% export  {:>4} ms  x{concurrency:<3}  {docs:>7} docs  {failures} failed  {secs:>6.1} s  {rate:>7.0} docs/s  ceiling {ceiling:>6.0}  ({:>3.0}%)  text {:>5.1} MB  peak RSS {:>6.1} MB",
        latency.as_millis(),
        rate / ceiling * 100.0,
        bytes as f64 / 1e6,
        peak_rss_mb(),
    );
}

/// A file resource as Drive v3 documents it with `fields=*` (a Google Doc
/// owned by the user), against the fields the connector asks for.
fn field_mask_sizes() {
    let full: serde_json::Value = serde_json::from_str(
        r#"{
        "kind": "drive#file", "id": "1f00000042", "name": "Plan 42", "mimeType": "application/vnd.google-apps.document",
        "starred": false, "trashed": false, "explicitlyTrashed": false, "parents": ["0AJrootFolderUk9PVA"],
        "spaces": ["drive"], "version": "17", "webViewLink": "https://docs.google.com/document/d/1f00000042/edit?usp=drivesdk",
        "iconLink": "https://drive-thirdparty.googleusercontent.com/16/type/application/vnd.google-apps.document",
        "hasThumbnail": true, "thumbnailLink": "https://lh3.googleusercontent.com/drive-storage/AJQWtBN1f00000042=s220",
        "thumbnailVersion": "3", "viewedByMe": true, "viewedByMeTime": "2024-03-02T10:31:00.000Z",
        "createdTime": "2024-03-01T09:00:00.000Z", "modifiedTime": "2024-03-02T10:30:00.000Z",
        "modifiedByMeTime": "2024-03-02T10:30:00.000Z", "modifiedByMe": true,
        "owners": [{"kind": "drive#user", "displayName": "Ann Lee", "photoLink": "https://lh3.googleusercontent.com/a/ACg8ocK=s64", "me": true, "permissionId": "06152787208473092474", "emailAddress": "ann@acme.com"}],
        "lastModifyingUser": {"kind": "drive#user", "displayName": "Bob Ray", "photoLink": "https://lh3.googleusercontent.com/a/ACg8ocL=s64", "me": false, "permissionId": "14732874", "emailAddress": "bob@acme.com"},
        "shared": true, "ownedByMe": true,
        "capabilities": {"canAcceptOwnership": false, "canAddChildren": false, "canAddMyDriveParent": false, "canChangeCopyRequiresWriterPermission": true, "canChangeSecurityUpdateEnabled": false, "canChangeViewersCanCopyContent": true, "canComment": true, "canCopy": true, "canDelete": true, "canDownload": true, "canEdit": true, "canListChildren": false, "canModifyContent": true, "canModifyContentRestriction": true, "canModifyEditorContentRestriction": true, "canModifyOwnerContentRestriction": true, "canModifyLabels": true, "canMoveChildrenWithinDrive": false, "canMoveItemIntoTeamDrive": true, "canMoveItemOutOfDrive": true, "canMoveItemWithinDrive": true, "canReadLabels": true, "canReadRevisions": true, "canRemoveChildren": false, "canRemoveContentRestriction": false, "canRemoveMyDriveParent": true, "canRename": true, "canShare": true, "canTrash": true, "canUntrash": true},
        "viewersCanCopyContent": true, "copyRequiresWriterPermission": false, "writersCanShare": true,
        "permissions": [
            {"kind": "drive#permission", "id": "06152787208473092474", "type": "user", "emailAddress": "ann@acme.com", "role": "owner", "displayName": "Ann Lee", "photoLink": "https://lh3.googleusercontent.com/a/ACg8ocK=s64", "deleted": false, "pendingOwner": false},
            {"kind": "drive#permission", "id": "14732874", "type": "domain", "domain": "acme.com", "role": "reader", "allowFileDiscovery": true, "displayName": "Acme"}
        ],
        "permissionIds": ["06152787208473092474", "14732874"],
        "exportLinks": {"application/rtf": "https://docs.google.com/feeds/download/documents/export/Export?id=1f00000042&exportFormat=rtf", "application/vnd.oasis.opendocument.text": "https://docs.google.com/feeds/download/documents/export/Export?id=1f00000042&exportFormat=odt", "text/html": "https://docs.google.com/feeds/download/documents/export/Export?id=1f00000042&exportFormat=html", "application/pdf": "https://docs.google.com/feeds/download/documents/export/Export?id=1f00000042&exportFormat=pdf", "text/markdown": "https://docs.google.com/feeds/download/documents/export/Export?id=1f00000042&exportFormat=md", "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "https://docs.google.com/feeds/download/documents/export/Export?id=1f00000042&exportFormat=docx", "text/plain": "https://docs.google.com/feeds/download/documents/export/Export?id=1f00000042&exportFormat=txt"},
        "quotaBytesUsed": "1024", "isAppAuthorized": false,
        "linkShareMetadata": {"securityUpdateEligible": false, "securityUpdateEnabled": true},
        "inheritedPermissionsDisabled": false
    }"#,
    )
    .unwrap();
    let mapped = file(42, 100);
    let (a, b) = (full.to_string().len(), mapped.to_string().len());
    println!(
        "one file resource: {a} bytes with fields=*, {b} bytes with the connector's fields ({:.1}x less); per 1 000-file page {:.1} MB vs {:.1} MB",
        a as f64 / b as f64,
        a as f64 * 1000.0 / 1e6,
        b as f64 * 1000.0 / 1e6
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let latency = Duration::from_millis(args.first().and_then(|a| a.parse().ok()).unwrap_or(20));
    let concurrency: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let export_percent: Option<usize> = args.get(2).and_then(|a| a.parse().ok());
    let sizes: Vec<usize> = args.iter().skip(3).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    field_mask_sizes();
    let mixes = export_percent.map_or_else(|| vec![100, 0, 50], |p| vec![p]);
    for mix in mixes {
        for &n in &sizes {
            run(n, latency, concurrency, mix).await;
        }
    }
}
