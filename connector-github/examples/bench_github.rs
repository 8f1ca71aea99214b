//! GitHub sync benchmark against a local REST stand-in (wiremock): the
//! requests spent per synced document on a first run and on an incremental
//! run, documents per second against the ceiling the latency allows, and
//! the peak RSS.
//!
//! ```text
//! cargo run --release -p connector-github --example bench_github [repos] [issues_per_repo] [latency_ms] [changed_percent] [rate] [files_per_repo]
//! ```
//!
//! Every other issue has two comments, every third is a pull request with a
//! review comment (the stand-in's `org` fixture); each repository holds
//! `files_per_repo` Markdown pages (default 50) next to as many source
//! files. The incremental run follows edits to `changed_percent` of the
//! issues (default 1) and to one page per repository.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly

#[path = "../testing/standin.rs"]
mod standin;

use std::time::{Duration, Instant};

use chrono::Utc;
use connector_core::options::SourceOptions;
use connector_core::{Connector, LoadConnector, PollConnector, TimeWindow};
use connector_github::{GitHubConfig, GitHubConnector};
use connector_testing::drain;
use standin::{StandIn, TOKEN, org};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The stand-in, answering after a latency.
struct Slow {
    standin: StandIn,
    latency: Duration,
}

impl Respond for Slow {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.standin.respond(req).set_delay(self.latency)
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn arg<T: std::str::FromStr>(n: usize, default: T) -> T {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let repos: usize = arg(1, 4);
    let issues: usize = arg(2, 500);
    let latency_ms: u64 = arg(3, 20);
    let changed_percent: usize = arg(4, 1);
    let files: usize = arg(6, 50);
    let server = MockServer::start().await;
    let mut db = org(repos, issues);
    // Each repository: `files` Markdown pages (about 2 KB) and as many
    // source files the globs leave out.
    let page = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(36);
    let tree: Vec<(String, String)> = (0..files)
        .flat_map(|n| {
            [
                (
                    format!("docs/section-{}/page-{n}.md", n % 5),
                    format!("# Page {n}\n\n{page}"),
                ),
                (format!("src/module_{n}.rs"), format!("pub fn f{n}() {{}}")),
            ]
        })
        .collect();
    let snapshot: Vec<(&str, &str)> = tree.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    for repo in &mut db.repos {
        repo.commit(standin::at(0), &snapshot);
    }
    let standin = StandIn::new(db);
    standin.set_base(&server.uri());
    Mock::given(any())
        .respond_with(Slow {
            standin: standin.clone(),
            latency: Duration::from_millis(latency_ms),
        })
        .mount(&server)
        .await;
    // Past GitHub's own 15 requests a second (the connector's default
    // ceiling), to show what the connector itself can do; at the default,
    // requests / 15 is the floor of a sync's time.
    let rate: f64 = arg(5, 1000.0);
    let options = SourceOptions::default().with_rate(rate);
    let concurrency = options.concurrency_or(4);
    let config = GitHubConfig::new()
        .base_url(server.uri())
        .token(TOKEN)
        .owners(["acme"])
        .options(options);
    let github = GitHubConnector::new(config).unwrap();

    println!(
        "{repos} repositories × ({issues} issues (a third pull requests, half with 2 comments) + {files} Markdown files), {latency_ms} ms latency, at most {rate} requests/s"
    );
    let first_start = Utc::now();
    let started = Instant::now();
    let before = github.metrics().unwrap_or_default();
    let out = drain(github.load()).await;
    let elapsed = started.elapsed();
    assert!(out.error.is_none(), "{:?}", out.error);
    let spent = github.metrics().unwrap_or_default().since(&before);
    let docs = out.documents.len();
    // The listing reads 100 issues a request, one page after the other;
    // the comment and review listings (one request each) go `concurrency`
    // at a time. Their sum over the latency is the ceiling.
    let listing = (docs as f64 / 100.0).ceil();
    let per_doc_subs = (spent.requests as f64 - listing) / docs as f64;
    let ceiling =
        1000.0 / latency_ms.max(1) as f64 / (per_doc_subs / concurrency as f64 + 1.0 / 100.0);
    println!(
        "first run:       {docs} documents, {} requests ({:.2} per document), {:.2}s, {:.0} docs/s (ceiling ≈ {:.0} docs/s at concurrency {concurrency})",
        spent.requests,
        spent.requests as f64 / docs as f64,
        elapsed.as_secs_f64(),
        docs as f64 / elapsed.as_secs_f64(),
        ceiling
    );

    // Edit a share of the issues and one page per repository, then sync
    // the window since the first run.
    let mut changed = 0;
    {
        let mut db = standin.db.lock().unwrap();
        let mut edited = tree.clone();
        if let Some((_, content)) = edited.iter_mut().find(|(p, _)| p.ends_with(".md")) {
            content.push_str("\n\nEdited.");
            changed += db.repos.len();
        }
        let snapshot: Vec<(&str, &str)> = edited
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        for repo in &mut db.repos {
            repo.commit(Utc::now(), &snapshot);
        }
        let step = (100 / changed_percent.clamp(1, 100)).max(1);
        for repo in &mut db.repos {
            for issue in repo.issues.iter_mut().step_by(step) {
                issue.updated = Utc::now();
                issue.title.push_str(" (edited)");
                changed += 1;
            }
        }
    }
    let before = github.metrics().unwrap_or_default();
    let started = Instant::now();
    let out = drain(github.poll(TimeWindow::new(first_start, Utc::now()))).await;
    let elapsed = started.elapsed();
    assert!(out.error.is_none(), "{:?}", out.error);
    let spent = github.metrics().unwrap_or_default().since(&before);
    let docs = out.documents.len();
    assert_eq!(docs, changed);
    println!(
        "incremental run: {docs} documents changed, {} requests ({:.2} per document), {:.2}s",
        spent.requests,
        spent.requests as f64 / docs.max(1) as f64,
        elapsed.as_secs_f64()
    );

    // A poll where nothing changed: what it costs against the budget
    // (answers `304 Not Modified` are free). A second on, so the window
    // starts past the second of the last commit (commit searches are by
    // the second).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second_start = Utc::now();
    let before = github.metrics().unwrap_or_default();
    let free_before = github.not_modified();
    let out = drain(github.poll(TimeWindow::new(second_start, Utc::now()))).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let spent = github.metrics().unwrap_or_default().since(&before);
    let free = github.not_modified() - free_before;
    println!(
        "quiet poll:      {} documents, {} requests, {free} of them 304 (free): {} counted against the budget",
        out.documents.len(),
        spent.requests,
        spent.requests - free,
    );
    if let Some(rss) = peak_rss_mib() {
        println!("peak RSS: {rss:.1} MiB (the stand-in's included)");
    }
}
