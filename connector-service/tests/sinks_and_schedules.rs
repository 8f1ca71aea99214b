//! The service sinks and the scheduler against real servers: the
//! PostgreSQL documents table (upserts, deletes, replays), the HTTP ingest
//! sink (retries keep the idempotency key), and schedules (leader lock,
//! missed runs coalesced).

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use connector_core::Document;
use connector_core::sink::Sink;
use connector_service::engine::SyncJob;
use connector_service::pg::{Database, PgJobs};
use connector_service::queue::{Enqueued, JobQueue};
use connector_service::sinks::{HttpIngestSink, PgDocumentSink};
use serde_json::Map;
use support::servers::postgres;
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

async fn db() -> Database {
    Database::connect(&postgres().fresh_database().await, 4)
        .await
        .unwrap()
}

fn doc(id: &str, text: &str) -> Document {
    let mut d = Document::new("fs", id, id);
    d.sections.push(connector_core::Section::text(text));
    d.seal();
    d
}

async fn rows(db: &Database) -> Vec<(String, String)> {
    let client = db.client().await.unwrap();
    client
        .query(
            "SELECT external_id, document->'sections'->0->>'text' FROM documents ORDER BY external_id",
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn the_documents_table_holds_each_document_once_across_replays() {
    let db = db().await;
    let mut sink = PgDocumentSink::new(db.clone(), "t1", "t1/c1");
    sink.restore(None).await.unwrap();
    sink.write(&doc("a", "one")).await.unwrap();
    sink.write(&doc("b", "two")).await.unwrap();
    let position = sink.commit().await.unwrap();
    // A crash after writing, before committing: nothing of it lands.
    sink.write(&doc("c", "lost")).await.unwrap();
    drop(sink);
    let mut sink = PgDocumentSink::new(db.clone(), "t1", "t1/c1");
    sink.restore(Some(&position)).await.unwrap();
    // The replay writes a and c again, a changed.
    sink.write(&doc("a", "one, edited")).await.unwrap();
    sink.write(&doc("c", "three")).await.unwrap();
    sink.delete("b").await.unwrap();
    sink.commit().await.unwrap();
    assert_eq!(
        rows(&db).await,
        vec![
            ("a".to_string(), "one, edited".to_string()),
            ("c".to_string(), "three".to_string())
        ]
    );
    // Another connection's position is refused.
    let mut other = PgDocumentSink::new(db, "t1", "t1/c2");
    assert!(other.restore(Some(&position)).await.is_err());
}

/// Fails the first request with 503, then accepts; records idempotency keys.
struct Flaky {
    keys: Arc<Mutex<Vec<String>>>,
}

impl Respond for Flaky {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let key = request
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut keys = self.keys.lock().unwrap();
        keys.push(key);
        if keys.len() == 1 {
            ResponseTemplate::new(503)
        } else {
            ResponseTemplate::new(200)
        }
    }
}

#[tokio::test]
async fn the_ingest_sink_retries_a_batch_under_one_idempotency_key() {
    let server = MockServer::start().await;
    let keys = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("POST"))
        .and(path("/ingest"))
        .and(header_exists("idempotency-key"))
        .respond_with(Flaky { keys: keys.clone() })
        .mount(&server)
        .await;
    let mut sink = HttpIngestSink::new(
        &format!("{}/ingest", server.uri()),
        Some("ingest-token".to_string().into()),
        "t1/c1",
    );
    sink.write(&doc("a", "one")).await.unwrap();
    sink.write(&doc("b", "two")).await.unwrap();
    sink.commit().await.unwrap();
    let keys = keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "a retry is the same batch");
    let requests = server.received_requests().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(body["source"], "t1/c1");
    assert_eq!(body["documents"].as_array().unwrap().len(), 2);
    assert_eq!(
        requests[1].headers.get("authorization").unwrap(),
        "Bearer ingest-token"
    );
    // An empty commit sends nothing.
    sink.commit().await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[derive(Default)]
struct Recorder(Mutex<Vec<SyncJob>>);

#[async_trait]
impl JobQueue for Recorder {
    async fn enqueue(&self, job: SyncJob) -> connector_core::Result<Enqueued> {
        let id = job.job_id.clone();
        self.0.lock().unwrap().push(job);
        Ok(Enqueued::Queued(id))
    }
}

#[tokio::test]
async fn missed_runs_fire_once_and_one_process_schedules() {
    let db = db().await;
    let jobs = PgJobs::new(db.clone());
    let first = SyncJob {
        job_id: "j1".into(),
        tenant_id: "t1".into(),
        connection_id: "c1".into(),
        connection_type: "fs".into(),
        config: Map::new(),
        requested_at: Utc::now(),
    };
    jobs.claim(&first).await.unwrap();
    // Due an hour ago on a one-minute interval: sixty runs were missed.
    let missed = Utc::now() - chrono::Duration::hours(1);
    assert!(
        jobs.set_schedule("t1", "c1", None, Some(60), Some(missed))
            .await
            .unwrap()
    );
    assert!(
        !jobs
            .set_schedule("t1", "nope", None, Some(60), Some(missed))
            .await
            .unwrap()
    );
    let queue = Recorder::default();
    let fired = connector_service::schedule::fire_due(&jobs, &queue, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(fired, 1);
    assert_eq!(queue.0.lock().unwrap().len(), 1);
    assert_eq!(queue.0.lock().unwrap()[0].connection_id, "c1");
    // Nothing more is due: the next run is about a minute from now.
    let again = connector_service::schedule::fire_due(&jobs, &queue, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(again, 0);
    let client = db.client().await.unwrap();
    let next: chrono::DateTime<Utc> = client
        .query_one("SELECT next_run_at FROM connections", &[])
        .await
        .unwrap()
        .get(0);
    let ahead = next - Utc::now();
    assert!(
        ahead > chrono::Duration::seconds(40) && ahead < chrono::Duration::seconds(75),
        "{ahead}"
    );
    // The scheduler lock has one holder.
    let leader = db.try_lock("connector-service scheduler").await.unwrap();
    assert!(leader.is_some());
    assert!(
        db.try_lock("connector-service scheduler")
            .await
            .unwrap()
            .is_none()
    );
}
