//! The embedded default end to end: the HTTP server, in-process workers,
//! file stores, against a wiremock Jira.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use connector_core::CancellationToken;
use connector_core::credentials::{SecretString, StoreKey};
use connector_service::app::{self, ServiceConfig};
use connector_service::status::{MemoryPublisher, StatusMessage, SyncPhase};
use serde_json::{Value, json};
use support::*;

struct Service {
    base: String,
    status: Arc<MemoryPublisher>,
    _running: app::Running,
    data: tempfile::TempDir,
    cancel: CancellationToken,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn service() -> Service {
    service_with(None).await
}

async fn service_with(fs_root: Option<std::path::PathBuf>) -> Service {
    let data = tempfile::tempdir().unwrap();
    let mut config =
        ServiceConfig::new(SecretString::from(TOKEN), StoreKey::generate(), data.path());
    config.fs_root = fs_root;
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.body_limit = 16 * 1024;
    config.commit_every = 5;
    let status = Arc::new(MemoryPublisher::default());
    let cancel = CancellationToken::new();
    let running = app::embedded_with(&config, status.clone(), cancel.clone())
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(app::serve(
        Arc::clone(&running.state),
        config.listen,
        config.body_limit,
        cancel.clone(),
        Some(tx),
    ));
    let addr = rx.await.unwrap();
    Service {
        base: format!("http://{addr}"),
        status,
        _running: running,
        data,
        cancel,
    }
}

fn json_of(messages: &[StatusMessage]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| serde_json::to_value(m).unwrap())
        .collect()
}

async fn wait_status(s: &Service, n: usize) -> Vec<Value> {
    let status = s.status.clone();
    wait_for(
        Duration::from_secs(20),
        &format!("{n} status messages"),
        move || {
            let m = status.messages();
            (m.len() >= n).then(|| json_of(&m))
        },
    )
    .await
}

#[tokio::test]
async fn verify_then_sync_reports_the_documented_messages() {
    let jira = jira_with(23, Duration::ZERO).await;
    let s = service().await;

    let (code, _) = post(&s.base, TOKEN, &verify_body("t1", "c1", &jira.uri())).await;
    assert_eq!(code, 202);
    let messages = wait_status(&s, 1).await;
    assert_eq!(
        messages[0],
        json!({"type":"verification","connection_id":"c1","tenant_id":"t1","status":"success",
            "options":{"projects":"ENG,OPS"},"error":null})
    );

    let (code, answer) = post(&s.base, TOKEN, &sync_body("t1", "c1", &jira.uri())).await;
    assert_eq!(code, 202, "{answer}");
    let messages = wait_status(&s, 3).await;
    assert_eq!(messages[1]["status"], "sync_started");
    assert_eq!(messages[1]["type"], "sync");
    assert_eq!(messages[1]["tenant_id"], "t1");
    assert_eq!(messages[1]["connection_id"], "c1");
    assert!(messages[1].get("documents_processed").is_none());
    assert_eq!(messages[2]["status"], "sync_completed", "{}", messages[2]);
    assert_eq!(messages[2]["documents_processed"], 23);
    let output = std::fs::read_to_string(s.data.path().join("output/t1/c1.jsonl")).unwrap();
    assert_eq!(output.lines().count(), 23);

    // Nothing anywhere holds the token in clear: status, history, state, output, logs.
    for m in &messages {
        assert!(!m.to_string().contains(SECRET));
    }
    let files = read_tree(s.data.path());
    assert!(files.iter().any(|(p, _)| p.ends_with("credentials.json")));
    assert!(files.iter().any(|(p, _)| p.ends_with("history.jsonl")));
    for (p, text) in files {
        assert!(!text.contains(SECRET), "{} holds the secret", p.display());
    }
    let metrics = reqwest::get(format!("{}/metrics", s.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("connector_service_jobs_completed_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("connector_service_documents_total 23"),
        "{metrics}"
    );
    assert!(
        metrics.contains("connector_service_source_requests_total{connector=\"jira\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn bad_credentials_fail_verification_without_echoing_them() {
    let jira = jira_refusing().await;
    let s = service().await;
    let (code, _) = post(&s.base, TOKEN, &verify_body("t1", "c1", &jira.uri())).await;
    assert_eq!(code, 202);
    let messages = wait_status(&s, 1).await;
    let m = &messages[0];
    assert_eq!(m["type"], "verification");
    assert_eq!(m["status"], "failed");
    assert_eq!(m["options"], Value::Null);
    let error = m["error"].as_str().unwrap();
    assert!(error.contains("authentication failed"), "{error}");
    assert!(!m.to_string().contains(SECRET), "{m}");
    // Credentials that do not work are not kept: a sync fails, naming the fix.
    post(&s.base, TOKEN, &sync_body("t1", "c1", &jira.uri())).await;
    let messages = wait_status(&s, 3).await;
    assert_eq!(messages[2]["status"], "sync_failed");
    assert!(
        messages[2]["error_message"]
            .as_str()
            .unwrap()
            .contains("verify them first"),
        "{}",
        messages[2]
    );
}

#[tokio::test]
async fn bad_webhooks_are_4xx_and_queue_nothing() {
    let jira = jira_with(1, Duration::ZERO).await;
    let s = service().await;
    let good = sync_body("t1", "c1", &jira.uri());

    let (code, _) = post(&s.base, "wrong-token", &good).await;
    assert_eq!(code, 401);
    let (code, _) = post(&s.base, "", &good).await;
    assert_eq!(code, 401);

    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("tenant_id");
    let (code, answer) = post(&s.base, TOKEN, &missing).await;
    assert_eq!(code, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("tenant_id"),
        "{answer}"
    );

    let mut unknown = good.clone();
    unknown["connection_type"] = json!("gopher");
    let (code, answer) = post(&s.base, TOKEN, &unknown).await;
    assert_eq!(code, 422);
    assert_eq!(answer["field"], "connection_type");

    let mut bad_time = good.clone();
    bad_time["timestamp"] = json!("yesterday");
    let (code, answer) = post(&s.base, TOKEN, &bad_time).await;
    assert_eq!((code, answer["field"].as_str()), (422, Some("timestamp")));

    let mut huge = good.clone();
    huge["config"]["jql"] = json!("x".repeat(64 * 1024));
    let (code, _) = post(&s.base, TOKEN, &huge).await;
    assert_eq!(code, 413);

    let (code, _) = post_raw(&s.base, TOKEN, b"{not json".to_vec()).await;
    assert_eq!(code, 400);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(s.status.messages().is_empty(), "nothing ran");
    let metrics = reqwest::get(format!("{}/metrics", s.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("connector_service_jobs_queued_total 0"),
        "{metrics}"
    );
    assert!(!s.data.path().join("history.jsonl").exists());
    for endpoint in ["healthz", "readyz"] {
        let r = reqwest::get(format!("{}/{endpoint}", s.base))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
}

#[tokio::test]
async fn a_duplicate_webhook_makes_one_job() {
    let jira = jira_with(30, Duration::from_millis(200)).await;
    let s = service().await;
    post(&s.base, TOKEN, &verify_body("t1", "c1", &jira.uri())).await;
    wait_status(&s, 1).await;
    let (_, first) = post(&s.base, TOKEN, &sync_body("t1", "c1", &jira.uri())).await;
    let (_, second) = post(&s.base, TOKEN, &sync_body("t1", "c1", &jira.uri())).await;
    assert!(first["job_id"].is_string(), "{first}");
    assert_eq!(second["coalesced"], true, "{second}");
    let messages = wait_status(&s, 3).await;
    assert_eq!(messages[2]["documents_processed"], 30);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let starts = s
        .status
        .messages()
        .iter()
        .filter(|m| matches!(m, StatusMessage::Sync(m) if m.status == SyncPhase::SyncStarted))
        .count();
    assert_eq!(starts, 1);
}

#[tokio::test]
async fn unknown_config_keys_fail_the_sync_naming_the_key() {
    let jira = jira_with(1, Duration::ZERO).await;
    let s = service().await;
    post(&s.base, TOKEN, &verify_body("t1", "c1", &jira.uri())).await;
    wait_status(&s, 1).await;
    let mut body = sync_body("t1", "c1", &jira.uri());
    body["config"]["spaceKeys"] = json!(["ENG"]);
    post(&s.base, TOKEN, &body).await;
    let messages = wait_status(&s, 3).await;
    assert_eq!(messages[2]["status"], "sync_failed");
    let error = messages[2]["error_message"].as_str().unwrap();
    assert!(error.contains("unknown config key `spaceKeys`"), "{error}");
    body["config"].as_object_mut().unwrap().remove("spaceKeys");
    body["config"]["pageSize"] = json!("ten");
    post(&s.base, TOKEN, &body).await;
    let messages = wait_status(&s, 5).await;
    let error = messages[4]["error_message"].as_str().unwrap();
    assert!(error.contains("`pageSize`"), "{error}");
}

#[tokio::test]
async fn fs_connections_read_only_under_the_operators_root() {
    let fs_sync = |path: &str| {
        let mut body = sync_body("t1", "files", "http://unused");
        body["connection_type"] = json!("fs");
        body["config"] = json!({ "path": path });
        body
    };
    // No root: a webhook cannot make the service read its own machine.
    let s = service().await;
    post(&s.base, TOKEN, &fs_sync("/etc")).await;
    let messages = wait_status(&s, 2).await;
    assert_eq!(messages[1]["status"], "sync_failed", "{}", messages[1]);
    let error = messages[1]["error_message"].as_str().unwrap();
    assert!(error.contains("--fs-root"), "{error}");

    // With a root: a directory under it syncs; one outside it (by `..`
    // or an absolute path) fails without naming the root.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("docs")).unwrap();
    std::fs::write(root.path().join("docs/a.txt"), "hello").unwrap();
    let s = service_with(Some(root.path().to_path_buf())).await;
    post(&s.base, TOKEN, &fs_sync("docs")).await;
    let messages = wait_status(&s, 2).await;
    assert_eq!(messages[1]["status"], "sync_completed", "{}", messages[1]);
    assert_eq!(messages[1]["documents_processed"], 1);
    for escape in ["../", "/etc"] {
        let n = s.status.messages().len();
        post(&s.base, TOKEN, &fs_sync(escape)).await;
        let messages = wait_status(&s, n + 2).await;
        let last = &messages[n + 1];
        assert_eq!(last["status"], "sync_failed", "{last}");
        let error = last["error_message"].as_str().unwrap();
        assert!(
            error.contains("`path`") && !error.contains(&*root.path().to_string_lossy()),
            "{error}"
        );
    }
}
