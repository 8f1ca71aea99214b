//! Helpers shared by the end-to-end tests: a wiremock Jira, webhook bodies,
//! and waiting for status messages.

#![allow(dead_code)]

/// The Jira stand-in of connector-jira's own tests, shared rather than copied.
#[path = "../../../connector-jira/tests/support/mod.rs"]
pub mod jira;
pub mod servers;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The API token every test sends; no output may contain it.
pub const SECRET: &str = "ATATT3xFfGF0-super-secret-token";
/// The webhook bearer token.
pub const TOKEN: &str = "webhook-token-for-tests";

/// Delays every answer of a responder.
pub struct Slow<R>(pub R, pub Duration);

impl<R: Respond> Respond for Slow<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request).set_delay(self.1)
    }
}

/// A Jira Cloud with `issues` issues in ENG, each search page answered after `delay`.
pub async fn jira_with(issues: usize, delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    jira::mount_account(&server, "3", "UTC").await;
    jira::mount_comments(&server, "3", 0, true).await;
    let search = jira::TokenSearch::new(
        (1..=issues)
            .map(|n| jira::issue(n, jira::updated_of(n), true, 0, 0))
            .collect(),
    );
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(Slow(search, delay))
        .mount(&server)
        .await;
    server
}

/// A Jira that refuses every credential.
pub async fn jira_refusing() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "errorMessages": [format!("Client must be authenticated to access this resource. Token {SECRET}")],
            "errors": {}
        })))
        .mount(&server)
        .await;
    server
}

/// A `verify_credentials` body for a Jira connection.
pub fn verify_body(tenant: &str, connection: &str, jira: &str) -> Value {
    json!({"source":"chat-app","action":"verify_credentials","user_email":"user@example.com",
        "user_id":"user-1","tenant_id":tenant,"timestamp":"2025-10-01T10:00:00.000Z",
        "connection_id":connection,"connection_type":"jira",
        "settings":{"url":jira,"deployment":"cloud"},
        "credentials":{"api_token":SECRET,"email":"user@company.com"}})
}

/// A `data_source_sync_requested` body for a Jira connection.
pub fn sync_body(tenant: &str, connection: &str, jira: &str) -> Value {
    json!({"source":"data-sources-app","action":"data_source_sync_requested",
        "user_email":"user@example.com","user_id":"user-1","tenant_id":tenant,
        "timestamp":"2025-10-01T10:00:00.000Z","connection_id":connection,"connection_type":"jira",
        "config":{"baseUrl":jira,"deployment":"cloud","projectKeys":["ENG"],"pageSize":10}})
}

/// POST `body` to `<base>/webhooks` with `token`; the status and the JSON answer.
pub async fn post(base: &str, token: &str, body: &Value) -> (u16, Value) {
    post_raw(base, token, serde_json::to_vec(body).expect("json")).await
}

/// POST raw bytes.
pub async fn post_raw(base: &str, token: &str, body: Vec<u8>) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/webhooks"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the service answers");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// Poll `f` until it returns `Some`, failing after `timeout`.
pub async fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every file under `dir`, read as text (lossy), with its path.
pub fn read_tree(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(read_tree(&p));
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}
