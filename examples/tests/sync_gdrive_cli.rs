//! `sync gdrive` as a user runs it, against a wiremock Drive API v3 and
//! token endpoint: a service account sync, an incremental rerun through
//! the changes feed, and the credentials error a user meets first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY_PEM: &str = include_str!("../../connector-core/tests/fixtures/test-rsa-key.pem");

fn sync_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    profile_dir
        .join("examples")
        .join(format!("sync{}", std::env::consts::EXE_SUFFIX))
}

fn file(n: usize) -> Value {
    json!({
        "kind": "drive#file",
        "id": format!("1doc{n}"),
        "name": format!("Plan {n}"),
        "mimeType": "application/vnd.google-apps.document",
        "webViewLink": format!("https://docs.google.com/document/d/1doc{n}/edit"),
        "modifiedTime": "2024-03-02T10:30:00.000Z",
        "trashed": false,
        "ownedByMe": true,
        "permissions": [{"kind": "drive#permission", "id": "1", "type": "user", "role": "owner", "emailAddress": "ann@acme.com"}]
    })
}

async fn drive() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "ya29.cli-SECRET", "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/changes/startPageToken"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"kind": "drive#startPageToken", "startPageToken": "77"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/changes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"kind": "drive#changeList", "newStartPageToken": "77", "changes": []}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/files"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#fileList", "incompleteSearch": false,
            "files": (0..3).map(file).collect::<Vec<_>>()
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/drive/v3/files/[^/]+/export$"))
        .respond_with(ResponseTemplate::new(200).set_body_string("# Plan\n\nShip it."))
        .mount(&server)
        .await;
    server
}

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(sync_binary())
            .args(&args)
            .env_remove("GOOGLE_OAUTH_CLIENT_ID")
            .env_remove("GOOGLE_OAUTH_CLIENT_SECRET")
            .env_remove("GOOGLE_OAUTH_REFRESH_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_sync_then_an_incremental_rerun() {
    let server = drive().await;
    let scratch = tempfile::tempdir().unwrap();
    let key = scratch.path().join("key.json");
    std::fs::write(
        &key,
        json!({
            "type": "service_account",
            "private_key_id": "abc123",
            "private_key": KEY_PEM,
            "client_email": "sync@acme-project.iam.gserviceaccount.com",
            "token_uri": format!("{}/token", server.uri())
        })
        .to_string(),
    )
    .unwrap();
    let out = scratch.path().join("out.jsonl");
    let args = vec![
        "gdrive".to_string(),
        "--service-account".into(),
        key.display().to_string(),
        "--subject".into(),
        "admin@acme.com".into(),
        "--api-url".into(),
        format!("{}/drive/v3", server.uri()),
        "--out".into(),
        out.display().to_string(),
        "--state".into(),
        scratch.path().join("state").display().to_string(),
    ];
    let first = run(args.clone()).await;
    let text = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(first.status.success(), "{text}");
    assert!(text.contains("done: 3 documents written"), "{text}");
    let lines = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines.lines().count(), 3);
    assert!(!lines.contains("SECRET") && !text.contains("SECRET"));
    let second = run(args).await;
    let text = String::from_utf8_lossy(&second.stderr).into_owned();
    assert!(second.status.success(), "{text}");
    assert!(text.contains("0 documents written"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_is_one_line_naming_both_ways() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out.jsonl").display().to_string();
    let no_env = run(vec!["gdrive".into(), "--out".into(), out]).await;
    assert_eq!(no_env.status.code(), Some(1));
    let text = String::from_utf8_lossy(&no_env.stderr).into_owned();
    assert!(
        text.contains("--service-account") && text.contains("GOOGLE_OAUTH_REFRESH_TOKEN"),
        "{text}"
    );
    assert_eq!(text.trim().lines().count(), 1, "{text}");
}
