//! Benchmark: a full sync of N small objects from a local moto S3 server
//! into a JSONL file with `connector-s3` at several download concurrencies,
//! then the same objects fetched by a boto3 loop (sequential and threaded)
//! against the same server, for comparison.
//!
//! ```text
//! cargo run --release --example bench_s3                   # 2 000 objects, concurrency 1, 8, 32
//! cargo run --release --example bench_s3 -- 5000 1 16 64   # 5 000 objects, other concurrencies
//! ```
//!
//! moto is a Python server: it, not the client, bounds the absolute
//! figures, so read them as a comparison between clients on one machine.
//! A second round runs against a mock S3 (wiremock, in this process) that
//! answers every `GetObject` after 20 ms, as S3 does from afar: that is
//! where download concurrency pays, and how the default was chosen.
//! Peak RSS is this process's high-water mark (`VmHWM`) after each run.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_core::checkpoint::MemoryCheckpointStore;
use connector_core::runner::{SyncMode, SyncRunner};
use connector_core::sink::JsonlSink;
use connector_s3::testing::{self, MotoServer};
use connector_s3::{S3Config, S3Connector, S3Credentials};
use wiremock::matchers::{method, path_regex, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A memory figure of this process from `/proc/self/status`, in MiB.
fn proc_status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The boto3 baseline: list with the paginator, then GET and read every body.
const BOTO3: &str = r#"
import sys, time, concurrent.futures as cf
import boto3
from botocore.config import Config
endpoint, bucket, workers, key_id, secret = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key_id, aws_secret_access_key=secret,
                  config=Config(max_pool_connections=max(10, workers)))
started = time.time()
keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])]
def fetch(key):
    return len(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
if workers <= 1:
    total = sum(fetch(k) for k in keys)
else:
    with cf.ThreadPoolExecutor(workers) as pool:
        total = sum(pool.map(fetch, keys))
elapsed = time.time() - started
# VmHWM, not ru_maxrss: the latter keeps the parent's size from before exec.
rss_mib = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
print(len(keys), elapsed, rss_mib)
"#;

fn boto3(endpoint: &str, bucket: &str, workers: usize) -> Result<String, String> {
    let python = testing::python().map_err(|e| e.to_string())?;
    let out = Command::new(python)
        .args(["-c", BOTO3, endpoint, bucket, &workers.to_string()])
        .args([testing::ACCESS_KEY_ID, testing::SECRET_ACCESS_KEY])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<f64> = text
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    match fields[..] {
        [n, secs, rss] => Ok(format!(
            "{n:>6.0} objects in {secs:>6.2}s = {:>6.0} objects/s; peak RSS {rss:.1} MiB",
            n / secs
        )),
        _ => Err(format!("unexpected output: {text}")),
    }
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
        vec![1, 8, 32]
    };

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
            (
                format!("notes/{:03}/note-{i:07}.md", i / 100),
                body.into_bytes(),
            )
        }),
        16,
    )
    .await?;
    println!(
        "seeded {objects} objects of ~300 bytes into moto in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let scratch = tempfile::tempdir()?;
    for &concurrency in &concurrencies {
        let connector = S3Connector::new(moto.config(bucket).concurrency(concurrency))?;
        let runner = SyncRunner::new("bench", Arc::new(MemoryCheckpointStore::default()));
        let mut sink = JsonlSink::create(scratch.path().join(format!("out-{concurrency}.jsonl")))?;
        let started = Instant::now();
        let report = runner.run(&connector, &mut sink, SyncMode::Full).await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "connector-s3 concurrency {concurrency:>3}: {:>6} docs in {secs:>6.2}s = {:>6.0} docs/s; peak RSS so far {:.1} MiB",
            report.documents_processed,
            report.documents_processed as f64 / secs,
            proc_status_mib("VmHWM:").unwrap_or(f64::NAN)
        );
    }
    for workers in [1, 8, 32] {
        match boto3(&moto.endpoint(), bucket, workers) {
            Ok(line) => println!("boto3 loop, {workers:>2} thread(s): {line}"),
            Err(e) => println!("boto3 loop, {workers:>2} thread(s): failed: {e}"),
        }
    }

    // The same number of objects behind 20 ms of latency per download.
    let latency = Duration::from_millis(20);
    let mock = latency_server(objects, latency).await;
    println!("mock S3 answering each GetObject after {latency:?}:");
    for &concurrency in &concurrencies {
        let config = S3Config::new(bucket)
            .endpoint(mock.uri())
            .path_style(true)
            .region("us-east-1")
            .credentials(S3Credentials::fixed(
                testing::ACCESS_KEY_ID,
                testing::SECRET_ACCESS_KEY,
            ))
            .concurrency(concurrency);
        let connector = S3Connector::new(config)?;
        let runner = SyncRunner::new("bench", Arc::new(MemoryCheckpointStore::default()));
        let mut sink = JsonlSink::create(scratch.path().join(format!("mock-{concurrency}.jsonl")))?;
        let started = Instant::now();
        let report = runner.run(&connector, &mut sink, SyncMode::Full).await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "connector-s3 concurrency {concurrency:>3}: {:>6} docs in {secs:>6.2}s = {:>6.0} docs/s; peak RSS so far {:.1} MiB",
            report.documents_processed,
            report.documents_processed as f64 / secs,
            proc_status_mib("VmHWM:").unwrap_or(f64::NAN)
        );
    }
    for workers in [1, 8, 32] {
        match boto3(&mock.uri(), bucket, workers) {
            Ok(line) => println!("boto3 loop, {workers:>2} thread(s): {line}"),
            Err(e) => println!("boto3 loop, {workers:>2} thread(s): failed: {e}"),
        }
    }
    Ok(())
}

/// A mock bucket `bench` of `objects` keys, listed 1 000 to a page, each
/// download answered after `delay`.
async fn latency_server(objects: usize, delay: Duration) -> MockServer {
    // Without request recording: it would keep every request in memory.
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let keys: Vec<String> = (0..objects)
        .map(|i| format!("notes/{:03}/note-{i:07}.md", i / 100))
        .collect();
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
            listing
                .and(query_param_is_missing("continuation-token"))
                .respond_with(ResponseTemplate::new(200).set_body_string(xml))
        } else {
            listing
                .and(query_param("continuation-token", format!("page-{n}")))
                .respond_with(ResponseTemplate::new(200).set_body_string(xml))
        };
        listing.mount(&server).await;
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
