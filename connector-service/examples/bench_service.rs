//! Throughput of the distributed service: 50 connections (25 local
//! directories, 25 wiremock-served Jira sites) synced by 1, 2 and 4 worker
//! processes on a private RabbitMQ and PostgreSQL.
//!
//! ```text
//! bash connector-service/testing/setup-servers.sh
//! cargo build --release -p connector-service --bin connector-service
//! cargo run --release -p connector-service --example bench_service
//! ```
//!
//! Prints jobs/min and docs/s per worker count. Each round starts from
//! empty state (a new database, a new work queue, a new output directory).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../connector-jira/tests/support/mod.rs"]
mod jira;
#[path = "../tests/support/servers.rs"]
#[allow(dead_code)]
mod servers;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use connector_core::CancellationToken;
use connector_core::credentials::{
    CredentialKey, ExposeSecret, SecretString, StoreKey, StoredCredential,
};
use connector_service::app::{self, ServiceConfig};
use connector_service::engine::SyncJob;
use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueDeclareOptions, QueuePurgeOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const CONNECTIONS: usize = 50;
const DOCS_PER_CONNECTION: usize = 40;

fn props() -> ConnectionProperties {
    ConnectionProperties::default()
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let binary = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("connector-service"))
        .filter(|p| p.exists())
        .expect("build the binary first: cargo build --release -p connector-service --bin connector-service");
    let rabbit = servers::rabbitmq();
    let pg = servers::postgres();

    // The sources: directories of text files and one Jira site serving every Jira connection.
    let sources = tempfile::tempdir().unwrap();
    for c in 0..CONNECTIONS / 2 {
        let dir = sources.path().join(format!("fs{c}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..DOCS_PER_CONNECTION {
            std::fs::write(
                dir.join(format!("doc{i}.txt")),
                format!("connection {c} document {i} ").repeat(50),
            )
            .unwrap();
        }
    }
    let site = MockServer::start().await;
    jira::mount_account(&site, "3", "UTC").await;
    jira::mount_comments(&site, "3", 0, true).await;
    let issues = (1..=DOCS_PER_CONNECTION)
        .map(|n| jira::issue(n, jira::updated_of(n), true, 0, 0))
        .collect();
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(jira::TokenSearch::new(issues))
        .mount(&site)
        .await;

    println!(
        "{CONNECTIONS} connections ({} fs, {} Jira over HTTP), {DOCS_PER_CONNECTION} documents each",
        CONNECTIONS / 2,
        CONNECTIONS / 2
    );
    println!("workers  seconds  jobs/min  docs/s");
    for workers in [1usize, 2, 4] {
        let database_url = pg.fresh_database().await;
        let key = StoreKey::generate();
        let key_b64 = key.to_base64().expose_secret().to_string();
        let output = tempfile::tempdir().unwrap();
        let mut config = ServiceConfig::new(SecretString::from("bench-token"), key, output.path());
        config.amqp_url = Some(SecretString::from(rabbit.url()));
        config.database_url = Some(SecretString::from(database_url.clone()));
        config.work_queue = format!("bench-{workers}-{}", uuid::Uuid::new_v4());
        config.fs_root = Some(sources.path().to_path_buf());
        let cancel = CancellationToken::new();
        let parts = app::distributed(&config, cancel.clone()).await.unwrap();

        // Purge and watch the status queue.
        let conn = Connection::connect(&rabbit.url(), props()).await.unwrap();
        let ch = conn.create_channel().await.unwrap();
        let durable = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        ch.queue_declare("data_source_status", durable, FieldTable::default())
            .await
            .unwrap();
        ch.queue_purge("data_source_status", QueuePurgeOptions::default())
            .await
            .unwrap();
        let mut consumer = ch
            .basic_consume(
                "data_source_status",
                "",
                BasicConsumeOptions {
                    no_ack: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();

        let mut children: Vec<_> = (0..workers)
            .map(|_| {
                Command::new(&binary)
                    .arg("worker")
                    .env("CONNECTOR_SERVICE_TOKEN", "bench-token")
                    .env("CONNECTOR_SERVICE_KEY", &key_b64)
                    .env("AMQP_URL", rabbit.url())
                    .env("DATABASE_URL", &database_url)
                    .env("CONNECTOR_SERVICE_WORK_QUEUE", &config.work_queue)
                    .env("CONNECTOR_SERVICE_OUTPUT_DIR", output.path())
                    .env("CONNECTOR_SERVICE_PREFETCH", "2")
                    .env("CONNECTOR_SERVICE_LOG", "warn")
                    .env("CONNECTOR_SERVICE_FS_ROOT", sources.path())
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;

        let queue = parts.queue();
        let started = Instant::now();
        for c in 0..CONNECTIONS {
            let (kind, config) = if c % 2 == 0 {
                (
                    "fs",
                    json!({"path": sources.path().join(format!("fs{}", c / 2))}),
                )
            } else {
                let key = CredentialKey::new("bench", format!("conn{c}"), "jira").unwrap();
                parts
                    .engine
                    .credentials
                    .put(
                        &key,
                        StoredCredential::new()
                            .with("email", "bench@example.com")
                            .with("api_token", "token"),
                    )
                    .await
                    .unwrap();
                (
                    "jira",
                    json!({"baseUrl": site.uri(), "deployment": "cloud", "projectKeys": ["ENG"]}),
                )
            };
            let config: Map<String, Value> = config.as_object().cloned().unwrap();
            queue
                .enqueue(SyncJob {
                    job_id: uuid::Uuid::new_v4().to_string(),
                    tenant_id: "bench".into(),
                    connection_id: format!("conn{c}"),
                    connection_type: kind.into(),
                    config,
                    requested_at: chrono::Utc::now(),
                })
                .await
                .unwrap();
        }
        let (mut done, mut docs, mut failed) = (0, 0u64, 0);
        while done + failed < CONNECTIONS {
            let delivery = tokio::time::timeout(Duration::from_secs(300), consumer.next())
                .await
                .expect("status in time")
                .expect("consumer open")
                .unwrap();
            let m: Value = serde_json::from_slice(&delivery.data).unwrap();
            match m["status"].as_str() {
                Some("sync_completed") => {
                    done += 1;
                    docs += m["documents_processed"].as_u64().unwrap_or(0);
                }
                Some("sync_failed") => {
                    failed += 1;
                    eprintln!("failed: {m}");
                }
                _ => {}
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{workers:>7}  {secs:>7.2}  {:>8.1}  {:>6.0}",
            done as f64 * 60.0 / secs,
            docs as f64 / secs
        );
        for child in &mut children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
        cancel.cancel();
        let _ = conn.close(0, "").await;
    }
}
