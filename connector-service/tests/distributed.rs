//! The distributed service end to end, on a private RabbitMQ and
//! PostgreSQL: verification and sync status consumed from
//! `data_source_status`, duplicates coalesced, bad webhooks queueing
//! nothing, a worker process killed mid-sync and another finishing it with
//! every document once, and a RabbitMQ restart mid-run.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use connector_core::CancellationToken;
use connector_core::credentials::{ExposeSecret, SecretString, StoreKey};
use connector_service::app::{self, ServiceConfig};
use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueDeclareOptions, QueuePurgeOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use serde_json::{Value, json};
use support::servers::{postgres, rabbitmq};
use support::*;
use tokio::sync::mpsc;

/// RabbitMQ's status queue is one name for every test: one test at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn amqp_connection(url: &str) -> Connection {
    let props = ConnectionProperties::default()
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio);
    Connection::connect(url, props).await.unwrap()
}

/// Status messages consumed from `data_source_status`, reconnecting when
/// the broker restarts. The queue is purged first.
async fn status_messages(url: String) -> mpsc::UnboundedReceiver<Value> {
    let conn = amqp_connection(&url).await;
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
    let _ = conn.close(0, "").await;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let props = ConnectionProperties::default()
                .with_executor(tokio_executor_trait::Tokio::current())
                .with_reactor(tokio_reactor_trait::Tokio);
            let Ok(conn) = Connection::connect(&url, props).await else {
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            };
            let Ok(ch) = conn.create_channel().await else {
                continue;
            };
            let _ = ch
                .queue_declare("data_source_status", durable, FieldTable::default())
                .await;
            let Ok(mut consumer) = ch
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
            else {
                continue;
            };
            while let Some(Ok(delivery)) = consumer.next().await {
                let value: Value = serde_json::from_slice(&delivery.data).unwrap();
                if tx.send(value).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Value>, secs: u64) -> Value {
    tokio::time::timeout(Duration::from_secs(secs), rx.recv())
        .await
        .expect("a status message in time")
        .expect("the consumer runs")
}

/// Messages until one matches `status`.
async fn until(rx: &mut mpsc::UnboundedReceiver<Value>, status: &str, secs: u64) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let m = next(rx, secs).await;
        let done = m["status"] == status;
        seen.push(m);
        if done {
            return seen;
        }
    }
}

struct Setup {
    config: ServiceConfig,
    key_b64: String,
    base: String,
    cancel: CancellationToken,
    parts: app::Distributed,
    database_url: String,
    _output: tempfile::TempDir,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn setup() -> Setup {
    let rabbit = rabbitmq();
    let database_url = postgres().fresh_database().await;
    let key = StoreKey::generate();
    let key_b64 = key.to_base64().expose_secret().to_string();
    let output = tempfile::tempdir().unwrap();
    let mut config = ServiceConfig::new(SecretString::from(TOKEN), key, output.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.output_dir = output.path().join("output");
    config.amqp_url = Some(SecretString::from(rabbit.url()));
    config.database_url = Some(SecretString::from(database_url.clone()));
    config.work_queue = format!("jobs-{}", uuid::Uuid::new_v4());
    config.commit_every = 5;
    config.body_limit = 16 * 1024;
    let cancel = CancellationToken::new();
    let parts = app::distributed(&config, cancel.clone()).await.unwrap();
    let state = parts.app_state(&config);
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(app::serve(
        state,
        config.listen,
        config.body_limit,
        cancel.clone(),
        Some(tx),
    ));
    let addr = rx.await.unwrap();
    Setup {
        config,
        key_b64,
        base: format!("http://{addr}"),
        cancel,
        parts,
        database_url,
        _output: output,
    }
}

impl Setup {
    /// A worker in this process.
    fn worker_task(&self) -> CancellationToken {
        let cancel = self.cancel.child_token();
        let engine = Arc::clone(&self.parts.engine);
        tokio::spawn(connector_service::amqp::run_worker(
            Arc::clone(&self.parts.amqp),
            engine,
            2,
            cancel.clone(),
        ));
        cancel
    }

    /// A worker process.
    fn worker_process(&self) -> Child {
        Command::new(env!("CARGO_BIN_EXE_connector-service"))
            .arg("worker")
            .env("CONNECTOR_SERVICE_TOKEN", TOKEN)
            .env("CONNECTOR_SERVICE_KEY", &self.key_b64)
            .env("AMQP_URL", rabbitmq().url())
            .env("DATABASE_URL", &self.database_url)
            .env("CONNECTOR_SERVICE_WORK_QUEUE", &self.config.work_queue)
            .env("CONNECTOR_SERVICE_OUTPUT_DIR", &self.config.output_dir)
            .env("CONNECTOR_SERVICE_COMMIT_EVERY", "5")
            .env("CONNECTOR_SERVICE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap()
    }

    async fn queued_messages(&self) -> u32 {
        let conn = amqp_connection(&rabbitmq().url()).await;
        let ch = conn.create_channel().await.unwrap();
        let q = ch
            .queue_declare(
                &self.config.work_queue,
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let _ = conn.close(0, "").await;
        q.message_count()
    }

    fn output_ids(&self, tenant: &str, connection: &str) -> Vec<String> {
        let path = self
            .config
            .output_dir
            .join(tenant)
            .join(format!("{connection}.jsonl"));
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verify_and_sync_over_rabbitmq_with_history_in_postgres() {
    let _serial = SERIAL.lock().await;
    let s = setup().await;
    let mut status = status_messages(rabbitmq().url()).await;
    let jira = jira_with(25, Duration::from_millis(100)).await;
    let refusing = jira_refusing().await;

    let (code, _) = post(&s.base, TOKEN, &verify_body("t1", "bad", &refusing.uri())).await;
    assert_eq!(code, 202);
    let m = next(&mut status, 30).await;
    assert_eq!(m["type"], "verification");
    assert_eq!(m["status"], "failed");
    assert_eq!(m["options"], Value::Null);
    assert!(!m.to_string().contains(SECRET));

    post(&s.base, TOKEN, &verify_body("t1", "c1", &jira.uri())).await;
    assert_eq!(
        next(&mut status, 30).await,
        json!({"type":"verification","connection_id":"c1","tenant_id":"t1","status":"success",
            "options":{"projects":"ENG,OPS"},"error":null})
    );

    // Bad webhooks queue nothing.
    let mut bad = sync_body("t1", "c1", &jira.uri());
    bad["connection_type"] = json!("gopher");
    assert_eq!(post(&s.base, TOKEN, &bad).await.0, 422);
    assert_eq!(
        post(&s.base, "nope", &sync_body("t1", "c1", &jira.uri()))
            .await
            .0,
        401
    );
    let mut missing = sync_body("t1", "c1", &jira.uri());
    missing.as_object_mut().unwrap().remove("connection_id");
    assert_eq!(post(&s.base, TOKEN, &missing).await.0, 400);
    let mut huge = sync_body("t1", "c1", &jira.uri());
    huge["config"]["jql"] = json!("x".repeat(20_000));
    assert_eq!(post(&s.base, TOKEN, &huge).await.0, 413);
    assert_eq!(s.queued_messages().await, 0);

    // Two requests before any worker runs: one job.
    let (_, first) = post(&s.base, TOKEN, &sync_body("t1", "c1", &jira.uri())).await;
    let (_, second) = post(&s.base, TOKEN, &sync_body("t1", "c1", &jira.uri())).await;
    assert!(first["job_id"].is_string(), "{first}");
    assert_eq!(second["coalesced"], true, "{second}");
    assert_eq!(s.queued_messages().await, 1);

    let _worker = s.worker_task();
    let seen = until(&mut status, "sync_completed", 60).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0]["status"], "sync_started");
    assert_eq!(seen[0]["tenant_id"], "t1");
    assert_eq!(seen[1]["documents_processed"], 25);
    assert_eq!(s.output_ids("t1", "c1").len(), 25);

    let history = s.parts.jobs.history("t1", "c1").await.unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].status, "completed");
    assert_eq!(history[0].documents_processed, 25);
    // No secret in the database outside the sealed credentials.
    let client = s.parts.db.client().await.unwrap();
    for table in ["sync_jobs", "connections", "sync_state", "credentials"] {
        let rows = client
            .query(&format!("SELECT t::text FROM {table} t"), &[])
            .await
            .unwrap();
        for row in rows {
            let text: String = row.get(0);
            assert!(!text.contains(SECRET), "{table} holds the secret");
        }
    }
    // After completion, a new request is a new job.
    let (_, third) = post(&s.base, TOKEN, &sync_body("t1", "c1", &jira.uri())).await;
    assert!(third["job_id"].is_string(), "{third}");
    let seen = until(&mut status, "sync_completed", 60).await;
    assert_eq!(
        seen.last().unwrap()["documents_processed"],
        0,
        "unchanged issues are skipped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_mid_sync_is_finished_by_another_with_each_document_once() {
    let _serial = SERIAL.lock().await;
    let s = setup().await;
    let mut status = status_messages(rabbitmq().url()).await;
    let jira = jira_with(200, Duration::from_millis(120)).await;
    post(&s.base, TOKEN, &verify_body("t1", "c1", &jira.uri())).await;
    assert_eq!(next(&mut status, 30).await["status"], "success");

    let mut first = s.worker_process();
    post(&s.base, TOKEN, &sync_body("t1", "c1", &jira.uri())).await;
    assert_eq!(next(&mut status, 60).await["status"], "sync_started");
    wait_for(Duration::from_secs(60), "documents in the sink", || {
        (s.output_ids("t1", "c1").len() >= 40).then_some(())
    })
    .await;
    let _ = Command::new("kill")
        .args(["-KILL", &first.id().to_string()])
        .status();
    let _ = first.wait();
    let before = s.output_ids("t1", "c1").len();
    assert!(before < 200, "killed mid-sync ({before} written)");

    let mut second = s.worker_process();
    let seen = until(&mut status, "sync_completed", 120).await;
    let _ = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status();
    let _ = second.wait();
    assert!(
        seen.iter().all(|m| m["status"] != "sync_failed"),
        "{seen:?}"
    );
    let ids = s.output_ids("t1", "c1");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(
        ids.len(),
        200,
        "every document once ({} unique)",
        unique.len()
    );
    assert_eq!(unique.len(), 200);
    let history = s.parts.jobs.history("t1", "c1").await.unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].status, "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_service_recovers_when_rabbitmq_restarts_mid_run() {
    let _serial = SERIAL.lock().await;
    let s = setup().await;
    let mut status = status_messages(rabbitmq().url()).await;
    let jira = jira_with(100, Duration::from_millis(400)).await;
    post(&s.base, TOKEN, &verify_body("t1", "c1", &jira.uri())).await;
    assert_eq!(next(&mut status, 30).await["status"], "success");
    let _worker = s.worker_task();
    post(&s.base, TOKEN, &sync_body("t1", "c1", &jira.uri())).await;
    assert_eq!(next(&mut status, 60).await["status"], "sync_started");

    let rabbit = rabbitmq();
    tokio::task::spawn_blocking(move || {
        rabbit.stop();
        std::thread::sleep(Duration::from_millis(500));
        rabbit.start();
    })
    .await
    .unwrap();

    let seen = until(&mut status, "sync_completed", 180).await;
    assert!(
        seen.iter().all(|m| m["status"] != "sync_failed"),
        "{seen:?}"
    );
    let ids = s.output_ids("t1", "c1");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (100, 100));

    // The server queues again, and a worker takes the job.
    let mut answer = Value::Null;
    for _ in 0..50 {
        let (code, body) = post(&s.base, TOKEN, &sync_body("t2", "c2", &jira.uri())).await;
        if code == 202 {
            answer = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(answer["accepted"] == true, "{answer}");
    let seen = until(&mut status, "sync_failed", 60).await;
    assert!(
        seen.last().unwrap()["error_message"]
            .as_str()
            .unwrap()
            .contains("verify them first")
    );
}
