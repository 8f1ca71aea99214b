//! The crawler against a site the test serves: generated documentation
//! pages, a gzipped sitemap behind a sitemap index named in robots.txt, and
//! traps (an endless calendar, ever-changing query strings, soft 404s,
//! redirect chains, a huge page, a slow-drip server, 429s).

#![allow(clippy::unwrap_used)] // tests fail loudly on fixture mistakes

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use connector_core::options::{RetryPolicy, SourceOptions};
use connector_core::{CheckpointedConnector, Item, LoadConnector, TimeWindow};
use connector_testing::drain;
use connector_testing::{Endpoint, checks};
use connector_web::{WebConfig, WebConnector};
use futures::StreamExt;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const PAGES: usize = 30;

/// The site's state, changed between crawls by the tests.
#[derive(Default)]
struct SiteState {
    /// Page number → content version (default 1).
    versions: HashMap<usize, u32>,
    /// Pages answering 410.
    gone: HashSet<usize>,
    /// Unknown paths answer 200 with a "not found" page.
    soft_404: bool,
    /// (path, status) of every answer.
    log: Vec<(String, u16)>,
    /// The server's URL.
    base: String,
}

#[derive(Clone, Default)]
struct Site(Arc<Mutex<SiteState>>);

fn html(title: &str, body: &str, links: &[String]) -> String {
    let links: String = links
        .iter()
        .map(|l| format!("<li><a href=\"{l}\">{l}</a></li>"))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><title>{title}</title>\
         <meta name=\"description\" content=\"About {title}\"></head><body>\
         <div class=\"cookie-consent\">We use cookies to improve your experience. Accept</div>\
         <nav class=\"navbar\"><a href=\"/docs/\">Docs home</a> <a href=\"/docs/page-0\">Start</a></nav>\
         <main><h1>{title}</h1><p>{body}</p><ul>{links}</ul></main>\
         <footer>Copyright Acme Corporation</footer></body></html>"
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

impl Respond for Site {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let answer = self.answer(request);
        let path = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        self.0.lock().unwrap().log.push((path, answer.1));
        answer.0
    }
}

impl Site {
    fn answer(&self, request: &Request) -> (ResponseTemplate, u16) {
        let path = request.url.path();
        let state = self.0.lock().unwrap();
        let base = state.base.clone();
        let page = |body: String, etag: String| {
            let not_modified = request
                .headers
                .get("if-none-match")
                .and_then(|v| v.to_str().ok())
                == Some(etag.as_str());
            if not_modified {
                return (
                    ResponseTemplate::new(304).insert_header("ETag", etag.as_str()),
                    304,
                );
            }
            (
                ResponseTemplate::new(200)
                    .insert_header("ETag", etag.as_str())
                    .set_body_raw(body, "text/html; charset=utf-8"),
                200,
            )
        };
        match path {
            "/robots.txt" => (
                ResponseTemplate::new(200).set_body_string(format!(
                    "User-agent: *\nDisallow: /docs/private/\n\nSitemap: {base}/sitemap_index.xml\n"
                )),
                200,
            ),
            "/sitemap_index.xml" => (
                ResponseTemplate::new(200)
                    .set_body_raw(format!(
                        "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                         <sitemap><loc>{base}/sitemaps/pages.xml.gz</loc></sitemap></sitemapindex>"
                    ), "application/xml"),
                200,
            ),
            "/sitemaps/pages.xml.gz" => {
                let urls: String = (0..PAGES)
                    .map(|i| format!("<url><loc>{base}/docs/page-{i}</loc></url>"))
                    .collect();
                let xml = format!(
                    "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>"
                );
                (
                    ResponseTemplate::new(200)
                        .set_body_raw(gzip(xml.as_bytes()), "application/x-gzip"),
                    200,
                )
            }
            "/docs/" => page(
                html(
                    "Acme documentation",
                    "Welcome to the Acme documentation.",
                    &[
                        "page-0".into(),
                        "cal/2026/1".into(),
                        "search?q=1".into(),
                        "r/0".into(),
                        "huge".into(),
                        "logo.png".into(),
                        "manual.txt".into(),
                        "print-1".into(),
                        "moved".into(),
                        "out".into(),
                        "missing".into(),
                        "private/secret".into(),
                        "https://elsewhere.example/".into(),
                    ],
                ),
                "\"index\"".into(),
            ),
            _ if path.starts_with("/docs/page-") => {
                let Ok(i) = path["/docs/page-".len()..].parse::<usize>() else {
                    return (ResponseTemplate::new(404), 404);
                };
                if i >= PAGES {
                    return (ResponseTemplate::new(404), 404);
                }
                if state.gone.contains(&i) {
                    return (ResponseTemplate::new(410), 410);
                }
                let version = state.versions.get(&i).copied().unwrap_or(1);
                page(
                    html(
                        &format!("Page {i}"),
                        &format!("Unique content of page number {i}, version {version}."),
                        &[
                            format!("page-{}", i + 1),
                            format!("page-{i}?utm_source=newsletter#top"),
                        ],
                    ),
                    format!("\"p{i}-v{version}\""),
                )
            }
            _ if path.starts_with("/docs/cal/2026/") => {
                let n: u32 = path.rsplit('/').next().unwrap().parse().unwrap_or(1);
                page(
                    html(&format!("Calendar {n}"), "No events.", &[format!("{}", n + 1)]),
                    format!("\"cal{n}\""),
                )
            }
            "/docs/search" => {
                let q = request.url.query().unwrap_or("").to_owned();
                let n = state.log.len();
                page(
                    html("Search", &format!("Results for {q}"), &[format!("search?q={n}")]),
                    format!("\"s{q}\""),
                )
            }
            _ if path.starts_with("/docs/r/") => {
                let n: u32 = path.rsplit('/').next().unwrap().parse().unwrap_or(0);
                (
                    ResponseTemplate::new(301).insert_header("Location", format!("{base}/docs/r/{}", n + 1)),
                    301,
                )
            }
            "/docs/huge" => (
                ResponseTemplate::new(200)
                    .set_body_raw(format!("<p>{}</p>", "word ".repeat(400_000)), "text/html"),
                200,
            ),
            "/docs/logo.png" => (
                ResponseTemplate::new(200)
                    .set_body_raw(vec![0x89, b'P', b'N', b'G'], "image/png"),
                200,
            ),
            "/docs/manual.txt" => {
                let mut answer = page(String::new(), "\"manual\"".into());
                if answer.1 == 200 {
                    answer.0 = answer.0.set_body_raw("The plain text manual.", "text/plain; charset=utf-8");
                }
                answer
            }
            "/docs/print-1" => page(
                html("Page 1 (print)", "Unique content of page number 1, printable.", &[])
                    .replace("<head>", &format!("<head><link rel=\"canonical\" href=\"{base}/docs/page-1\">")),
                "\"print\"".into(),
            ),
            "/docs/moved" => (
                ResponseTemplate::new(301).insert_header("Location", format!("{base}/docs/page-2")),
                301,
            ),
            "/docs/out" => (
                ResponseTemplate::new(302).insert_header("Location", "https://elsewhere.example/x"),
                302,
            ),
            _ if state.soft_404 => page(
                html("Not found", "Sorry, we could not find that page.", &[]),
                "\"nf\"".into(),
            ),
            _ => (ResponseTemplate::new(404), 404),
        }
    }

    fn answers(&self, prefix: &str, status: u16) -> usize {
        self.0
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|(p, s)| p.starts_with(prefix) && *s == status)
            .count()
    }

    fn clear_log(&self) {
        self.0.lock().unwrap().log.clear();
    }
}

async fn serve(site: &Site) -> MockServer {
    let server = MockServer::start().await;
    site.0.lock().unwrap().base = server.uri();
    Mock::given(any())
        .respond_with(site.clone())
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

fn config(server: &MockServer, state: &std::path::Path) -> WebConfig {
    let mut config = WebConfig::new([format!("{}/docs/", server.uri())])
        .with_state_dir(state)
        .with_options(
            SourceOptions::default()
                .with_rate(500.0)
                .with_concurrency(4)
                .with_retry(
                    RetryPolicy::default()
                        .with_delays(Duration::from_millis(5), Duration::from_millis(20)),
                ),
        );
    config.path_prefixes = vec!["/docs/".into()];
    config.max_pattern_pages = 8;
    config.max_query_variants = 5;
    config.max_redirects = 3;
    config.max_page_bytes = 1024 * 1024;
    config.page_timeout_secs = 5;
    config
}

fn now() -> TimeWindow {
    TimeWindow::until(Utc::now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawls_the_site_within_scope_and_bounds_every_trap() {
    let site = Site::default();
    site.0.lock().unwrap().soft_404 = true;
    let server = serve(&site).await;
    let state = tempfile::tempdir().unwrap();
    let web = WebConnector::new(config(&server, state.path())).unwrap();
    let out = drain(web.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let ids: Vec<String> = out.documents.iter().map(|d| d.id.clone()).collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an id twice: {ids:?}");
    let base = server.uri();
    for i in 0..PAGES {
        assert!(
            unique.contains(&format!("{base}/docs/page-{i}")),
            "page-{i} missing: {ids:?}"
        );
    }
    assert!(unique.contains(&format!("{base}/docs/manual.txt")));
    for bad in [
        "private",
        "elsewhere",
        "utm_",
        "#",
        "print-1",
        "moved",
        "missing",
        "huge",
        "logo",
    ] {
        assert!(
            !ids.iter().any(|id| id.contains(bad)),
            "{bad} kept: {ids:?}"
        );
    }
    let calendar = ids.iter().filter(|id| id.contains("/cal/")).count();
    assert!(calendar <= 8, "{calendar} calendar pages");
    let searches = ids.iter().filter(|id| id.contains("search")).count();
    assert!(searches <= 5, "{searches} search pages");
    let reasons: Vec<String> = out
        .failures
        .iter()
        .map(|f| format!("{} {}", f.id, f.reason))
        .collect();
    let has = |needle: &str| reasons.iter().any(|r| r.contains(needle));
    for needle in [
        "URLs shaped",
        "query variants",
        "more than 3 redirects",
        "page too large",
        "\"image/png\" is not indexed",
        "soft 404",
        "outside what this request may follow",
    ] {
        assert!(has(needle), "no failure says {needle:?}: {reasons:#?}");
    }
    // The private path was never requested (robots.txt), nor another host.
    assert_eq!(
        site.answers("/docs/private", 200) + site.answers("/docs/private", 404),
        0
    );
    // Main text: no navigation, cookie banner or footer.
    let page0 = out
        .documents
        .iter()
        .find(|d| d.id.ends_with("/docs/page-0"))
        .unwrap();
    let text = &page0.sections[0].text;
    assert!(
        text.starts_with("# Page 0\n\nUnique content of page number 0"),
        "{text}"
    );
    for boiler in ["cookies", "Docs home", "Copyright"] {
        assert!(!text.contains(boiler), "{boiler} in {text}");
    }
    assert_eq!(page0.title, "Page 0");
    assert_eq!(page0.metadata["description"], "About Page 0".into());
    assert_eq!(page0.metadata["language"], "en".into());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_crawl_fetches_only_changed_pages_and_confirms_deletions() {
    let site = Site::default();
    let server = serve(&site).await;
    let state = tempfile::tempdir().unwrap();
    let web = WebConnector::new(config(&server, state.path())).unwrap();
    let first = drain(web.resume(now(), None)).await;
    assert!(first.error.is_none(), "{:?}", first.error);
    let (_, done) = first.checkpoints.last().cloned().unwrap();
    {
        let mut s = site.0.lock().unwrap();
        s.versions.insert(3, 2);
        s.gone.insert(5);
    }
    site.clear_log();
    let second = drain(web.resume(now(), Some(done))).await;
    assert!(second.error.is_none(), "{:?}", second.error);
    let base = server.uri();
    let ids: Vec<&str> = second
        .documents
        .iter()
        .map(|d| d.id.as_str())
        .filter(|id| id.contains("/page-"))
        .collect();
    assert_eq!(ids, [format!("{base}/docs/page-3")]);
    assert_eq!(second.deleted, [format!("{base}/docs/page-5")]);
    // page-3 changed; page-2 is asked once more only as the target of /docs/moved.
    assert_eq!(site.answers("/docs/page-3", 200), 1);
    assert_eq!(site.answers("/docs/page-", 200), 2);
    assert_eq!(site.answers("/docs/page-", 304), PAGES - 2);
    // Confirmed: asked twice.
    assert_eq!(site.answers("/docs/page-5", 410), 2);
    assert!(
        second
            .documents
            .iter()
            .all(|d| d.sections[0].text.contains("version 2") || !d.id.contains("/page-"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_crawl_resumes_with_its_frontier_intact() {
    let site = Site::default();
    let server = serve(&site).await;
    let state = tempfile::tempdir().unwrap();
    let mut config = config(&server, state.path());
    // The search trap answers differently each time: leave it out here.
    config.exclude = vec!["/docs/search*".into()];
    let web = WebConnector::new(config).unwrap();
    let full: BTreeSet<String> = drain(web.resume(now(), None))
        .await
        .documents
        .into_iter()
        .map(|d| d.id)
        .collect();
    // Kill after ten documents: drop the stream mid-crawl.
    let mut before = Vec::new();
    let mut last = None;
    {
        let mut stream = web.resume(now(), None);
        let mut seen = Vec::new();
        while let Some(item) = stream.next().await {
            match item.unwrap() {
                Item::Document(d) => seen.push(d.id),
                Item::Checkpoint(c) => {
                    before.append(&mut seen);
                    last = Some(c);
                }
                _ => {}
            }
            if before.len() >= 10 {
                break;
            }
        }
    }
    let resumed = drain(web.resume(now(), last)).await;
    assert!(resumed.error.is_none(), "{:?}", resumed.error);
    let after: Vec<String> = resumed.documents.into_iter().map(|d| d.id).collect();
    assert!(
        after.iter().all(|id| !before.contains(id)),
        "repeated after the checkpoint"
    );
    let union: BTreeSet<String> = before.into_iter().chain(after).collect();
    assert_eq!(union, full);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let site = Site::default();
    let server = serve(&site).await;
    let state = tempfile::tempdir().unwrap();
    let mut config = config(&server, state.path());
    config.robots_sitemaps = false;
    config.max_pages = 12;
    // Resuming at every checkpoint replays the crawl: leave out the search
    // trap, whose pages change with every request.
    config.exclude = vec!["/docs/search*".into()];
    let web = WebConnector::new(config).unwrap();
    checks::resume_at_every_checkpoint(&web, now()).await;
    checks::retry_after_is_honoured(&web, &server, &Endpoint::new("GET", r"^/docs/$")).await;
}

/// A server that sends headers, then one byte every 200 ms.
async fn slow_drip_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Stops with the test's runtime.
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                if !request.starts_with("GET /slow ") {
                    let _ = socket
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 100000\r\n\r\n")
                    .await;
                for _ in 0..100_000 {
                    if socket.write_all(b"a").await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_drip_page_ends_at_the_time_cap() {
    let base = slow_drip_server().await;
    let state = tempfile::tempdir().unwrap();
    let mut config = WebConfig::new([format!("{base}/slow")]).with_state_dir(state.path());
    config.page_timeout_secs = 1;
    config.options = SourceOptions::default().with_retry(RetryPolicy::none());
    let web = WebConnector::new(config).unwrap();
    let started = std::time::Instant::now();
    let out = drain(web.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(out.documents.is_empty());
    assert!(
        out.failures
            .iter()
            .any(|f| f.reason.contains("no complete answer within 1 s")),
        "{:?}",
        out.failures
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn bad_configuration_is_refused_with_the_field() {
    let err = WebConnector::new(WebConfig::new(Vec::<String>::new())).unwrap_err();
    assert!(err.to_string().contains("urls"), "{err}");
    let err = WebConnector::new(WebConfig::new(["ftp://x.example/"])).unwrap_err();
    assert!(err.to_string().contains("not an http(s) URL"), "{err}");
    let unknown: Result<WebConfig, _> =
        serde_json::from_value(serde_json::json!({"urls": ["https://x.example/"], "max_pagez": 3}));
    assert!(unknown.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_carries_a_finished_crawl_into_the_next_incremental_sync() {
    use connector_core::checkpoint::MemoryCheckpointStore;
    use connector_core::runner::{SyncMode, SyncRunner};
    use connector_core::sink::MemorySink;

    let site = Site::default();
    let server = serve(&site).await;
    let state = tempfile::tempdir().unwrap();
    let web = WebConnector::new(config(&server, state.path())).unwrap();
    let runner = SyncRunner::new("docs", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = MemorySink::default();
    let first = runner
        .run(&web, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(first.documents_processed > PAGES as u64, "{first:?}");
    {
        let mut s = site.0.lock().unwrap();
        s.versions.insert(7, 2);
        s.gone.insert(9);
    }
    site.clear_log();
    let second = runner
        .run(&web, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(second.documents_deleted, 1, "{second:?}");
    assert_eq!(sink.deleted(), [format!("{}/docs/page-9", server.uri())]);
    assert_eq!(site.answers("/docs/page-7", 200), 1);
    assert_eq!(site.answers("/docs/page-", 304), PAGES - 2);
    // Only what changed reached the sink the second time.
    let changed = sink
        .documents()
        .iter()
        .filter(|d| d.sections[0].text.contains("version 2"))
        .count();
    assert_eq!(changed, 1);
}
