//! Crawl benchmark against a local generated site (wiremock, request
//! recording off): pages per second at a per-host concurrency and a server
//! latency, against the politeness ceiling `min(rate, concurrency /
//! latency)`, and the process's peak RSS at the end of the crawl.
//!
//! ```text
//! cargo run --release -p connector-web --example bench_web [pages] [latency_ms] [concurrency] [rate]
//! ```
//!
//! Defaults: 2000 pages, 50 ms, 2 per host, 100 requests/s. The site is a
//! tree: page `i` links to pages `10i+1 … 10i+10` (and back to its parent),
//! each with a navigation bar, a sidebar and a footer around its content.
//! The site is served by a child process (this example with `serve`), so
//! the peak RSS (`VmHWM`) printed is the crawler's alone; run once per size
//! to compare, e.g. `bench_web 10000 0 8 100000` and
//! `bench_web 100000 0 8 100000`.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly

use std::time::{Duration, Instant};

use connector_core::options::SourceOptions;
use connector_core::{Item, LoadConnector};
use connector_web::{WebConfig, WebConnector};
use futures::StreamExt;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

struct Site {
    pages: usize,
    latency: Duration,
}

impl Respond for Site {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let Some(i) = path
            .strip_prefix("/p/")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return ResponseTemplate::new(404).set_delay(self.latency);
        };
        if i >= self.pages {
            return ResponseTemplate::new(404).set_delay(self.latency);
        }
        let children: String = (10 * i + 1..=10 * i + 10)
            .filter(|c| *c < self.pages)
            .map(|c| format!("<li><a href=\"/p/{c}\">Child page {c}</a></li>"))
            .collect();
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><title>Page {i}</title></head><body>\
             <nav class=\"navbar\"><a href=\"/p/0\">Home</a> <a href=\"/p/{}\">Up</a></nav>\
             <aside class=\"sidebar\"><ul><li><a href=\"/p/1\">One</a></li><li><a href=\"/p/2\">Two</a></li></ul></aside>\
             <main><h1>Page {i}</h1><p>The content of page {i}: how to configure the service, \
             what the options mean, and which defaults apply when nothing is set.</p>\
             <ul>{children}</ul><pre><code>service --page {i}</code></pre></main>\
             <footer>Copyright Acme</footer></body></html>",
            i.saturating_sub(1) / 10
        );
        ResponseTemplate::new(200)
            .set_body_raw(body, "text/html; charset=utf-8")
            .set_delay(self.latency)
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// `bench_web serve <pages> <latency_ms>`: serve the site, print its URL,
/// stop when stdin closes (the parent exited).
async fn serve(pages: usize, latency: Duration) {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(any())
        .respond_with(Site { pages, latency })
        .mount(&server)
        .await;
    println!("{}", server.uri());
    let _ = tokio::task::spawn_blocking(|| {
        let mut buf = [0u8; 1];
        std::io::Read::read(&mut std::io::stdin(), &mut buf)
    })
    .await;
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let arg = |n: usize| std::env::args().nth(n);
    if arg(1).as_deref() == Some("serve") {
        let pages = arg(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
        let latency = arg(3).and_then(|a| a.parse().ok()).unwrap_or(50);
        serve(pages, Duration::from_millis(latency)).await;
        return;
    }
    let pages: usize = arg(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let latency_ms: u64 = arg(2).and_then(|a| a.parse().ok()).unwrap_or(50);
    let concurrency: usize = arg(3).and_then(|a| a.parse().ok()).unwrap_or(2);
    let rate: f64 = arg(4).and_then(|a| a.parse().ok()).unwrap_or(100.0);
    let latency = Duration::from_millis(latency_ms);

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["serve", &pages.to_string(), &latency_ms.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut uri = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut uri,
    )
    .unwrap();
    let uri = uri.trim().to_owned();
    let state = tempfile::tempdir().unwrap();
    let mut config = WebConfig::new([format!("{uri}/p/0")])
        .with_state_dir(state.path())
        .with_max_pages(pages as u64 + 10)
        .with_max_depth(64)
        .with_options(
            SourceOptions::default()
                .with_rate(rate)
                .with_concurrency(concurrency),
        );
    config.soft_404_probe = false;
    config.max_pattern_pages = u32::MAX;
    let web = WebConnector::new(config).unwrap();

    let started = Instant::now();
    let (mut docs, mut failures, mut checkpoints) = (0usize, 0usize, 0usize);
    let mut stream = web.load();
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            Item::Document(_) => docs += 1,
            Item::Failure(f) => {
                failures += 1;
                if failures <= 3 {
                    eprintln!("failure: {} {}", f.id, f.reason);
                }
            }
            Item::Checkpoint(_) => checkpoints += 1,
            _ => {}
        }
    }
    let secs = started.elapsed().as_secs_f64();
    drop(child.stdin.take());
    let _ = child.wait();
    let per_second = docs as f64 / secs;
    let ceiling = if latency_ms == 0 {
        rate
    } else {
        rate.min(concurrency as f64 / latency.as_secs_f64())
    };
    println!(
        "web crawl {docs} pages ({failures} failures, {checkpoints} checkpoints) in {secs:.2}s = {per_second:.1} pages/s; \
         latency {latency_ms} ms, {concurrency} per host, rate {rate}/s: ceiling {ceiling:.1} pages/s ({:.0}% of it); \
         peak RSS {}",
        100.0 * per_second / ceiling,
        peak_rss_mib().map_or("n/a".into(), |m| format!("{m:.1} MiB"))
    );
}
