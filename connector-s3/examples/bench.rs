//! Benchmark of `connector-s3` alone: a full sync of N small objects into a
//! JSONL file at several download concurrencies, then a slim listing (keys
//! only, what deletion detection runs), first against a local moto server,
//! then against a mock S3 in this process that answers each `GetObject`
//! after 20 ms (as S3 does from afar) and lists 1 000 keys a page.
//!
//! ```text
//! cargo run --release -p connector-s3 --features testing --example bench              # 2 000 objects; concurrency 1, 8, 32, 64
//! cargo run --release -p connector-s3 --features testing --example bench -- 5000 16 64 # 5 000 objects, other concurrencies
//! ```
//!
//! moto is one Python process on the same cores: it, not the client, bounds
//! the moto figures; the 20 ms round shows what concurrency buys. Peak RSS
//! is this process's high-water mark (`VmHWM`), the mock server included in
//! the second round.

use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_core::Connector;
use connector_core::checkpoint::MemoryCheckpointStore;
use connector_core::runner::{SyncMode, SyncRunner};
use connector_core::sink::JsonlSink;
use connector_s3::testing::{self, MotoServer};
use connector_s3::{S3Config, S3Connector, S3Credentials};
use futures::StreamExt;
use wiremock::matchers::{method, path_regex, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A memory figure of this process from `/proc/self/status`, in MiB.
fn peak_rss_mib() -> f64 {
    let read = || -> Option<f64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    read().unwrap_or(f64::NAN)
}

/// One full sync (list, download, convert, hash, write JSONL, checkpoints,
/// the runner's id listing for deletions) into `out`; prints docs/s.
async fn full_sync(
    connector: &S3Connector,
    out: std::path::PathBuf,
    label: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let runner = SyncRunner::new("bench", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = JsonlSink::create(out)?;
    let started = Instant::now();
    let report = runner.run(connector, &mut sink, SyncMode::Full).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  full sync, {label}: {:>6} docs in {secs:>6.2}s = {:>6.0} docs/s; peak RSS {:.1} MiB",
        report.documents_processed,
        report.documents_processed as f64 / secs,
        peak_rss_mib()
    );
    Ok(())
}

/// One slim listing; prints keys/s.
async fn slim(connector: &S3Connector) -> Result<(), Box<dyn std::error::Error>> {
    let slim = connector.as_slim().ok_or("no slim listing")?;
    let started = Instant::now();
    let mut stream = slim.slim();
    let mut n = 0usize;
    while let Some(entry) = stream.next().await {
        entry?;
        n += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  slim listing:           {n:>6} keys in {secs:>6.2}s = {:>6.0} keys/s",
        n as f64 / secs
    );
    Ok(())
}

fn key(i: usize) -> String {
    format!("notes/{:03}/note-{i:07}.md", i / 100)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let objects = args.first().copied().unwrap_or(2000);
    let concurrencies = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        vec![1, 8, 32, 64]
    };
    let scratch = tempfile::tempdir()?;

    let moto = MotoServer::start()?;
    let bucket = "bench";
    moto.create_bucket(bucket).await?;
    let started = Instant::now();
    moto.put_many(
        bucket,
        (0..objects).map(|i| {
            let body = format!(
                "# Note {i}\n\n{}\n",
                "Lorem ipsum dolor sit amet. ".repeat(10)
            );
            (key(i), body.into_bytes())
        }),
        16,
    )
    .await?;
    println!(
        "moto: {objects} objects of ~300 bytes seeded in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    for &concurrency in &concurrencies {
        let connector = S3Connector::new(moto.config(bucket).concurrency(concurrency))?;
        let out = scratch.path().join(format!("moto-{concurrency}.jsonl"));
        full_sync(&connector, out, &format!("concurrency {concurrency:>3}")).await?;
    }
    slim(&S3Connector::new(moto.config(bucket))?).await?;
    drop(moto);

    let latency = Duration::from_millis(20);
    let mock = latency_server(objects, latency).await;
    println!("mock S3, each GetObject answered after {latency:?}:");
    let config = || {
        S3Config::new(bucket)
            .endpoint(mock.uri())
            .path_style(true)
            .region("us-east-1")
            .credentials(S3Credentials::fixed(
                testing::ACCESS_KEY_ID,
                testing::SECRET_ACCESS_KEY,
            ))
    };
    for &concurrency in &concurrencies {
        let connector = S3Connector::new(config().concurrency(concurrency))?;
        let out = scratch.path().join(format!("mock-{concurrency}.jsonl"));
        full_sync(&connector, out, &format!("concurrency {concurrency:>3}")).await?;
    }
    slim(&S3Connector::new(config())?).await?;
    Ok(())
}

/// A mock bucket `bench` of `objects` keys, listed 1 000 to a page as
/// `ListObjectsV2` answers, each download answered after `delay`.
async fn latency_server(objects: usize, delay: Duration) -> MockServer {
    // Without request recording: it would keep every request in memory.
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let keys: Vec<String> = (0..objects).map(key).collect();
    let pages: Vec<&[String]> = keys.chunks(1000).collect();
    for (n, page) in pages.iter().enumerate() {
        let more = n + 1 < pages.len();
        let mut xml = String::from(
            r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bench</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys>"#,
        );
        xml.push_str(&format!(
            "<KeyCount>{}</KeyCount><IsTruncated>{more}</IsTruncated>",
            page.len()
        ));
        if more {
            xml.push_str(&format!(
                "<NextContinuationToken>page-{}</NextContinuationToken>",
                n + 1
            ));
        }
        for key in page.iter() {
            xml.push_str(&format!(
                "<Contents><Key>{key}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>\
                 <ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>300</Size>\
                 <StorageClass>STANDARD</StorageClass></Contents>"
            ));
        }
        xml.push_str("</ListBucketResult>");
        let listing = Mock::given(method("GET"))
            .and(path_regex("^/bench/?$"))
            .and(query_param("list-type", "2"));
        let listing = if n == 0 {
            listing.and(query_param_is_missing("continuation-token"))
        } else {
            listing.and(query_param("continuation-token", format!("page-{n}")))
        };
        listing
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/xml")
                    .set_body_string(xml),
            )
            .mount(&server)
            .await;
    }
    let body = format!("# Note\n\n{}\n", "Lorem ipsum dolor sit amet. ".repeat(10));
    Mock::given(method("GET"))
        .and(path_regex("^/bench/notes/.+"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/markdown")
                .set_body_string(body)
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}
