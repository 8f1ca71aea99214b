//! `sync confluence` as a user meets it first: missing credentials and a
//! site that refuses them are one-line errors without the secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use wiremock::{Mock, MockServer, ResponseTemplate};

fn sync_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    profile_dir
        .join("examples")
        .join(format!("sync{}", std::env::consts::EXE_SUFFIX))
}

async fn run(args: Vec<String>, env: Vec<(&'static str, &'static str)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(sync_binary());
        cmd.args(&args)
            .env_remove("CONFLUENCE_EMAIL")
            .env_remove("CONFLUENCE_API_TOKEN")
            .env_remove("CONFLUENCE_PAT")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_refused_credentials_are_one_line_errors() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out.jsonl").display().to_string();
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "statusCode": 401, "message": "Current user not permitted to use Confluence", "data": {"authorized": false}
        })))
        .mount(&server)
        .await;
    let args = vec![
        "confluence".to_string(),
        "--url".into(),
        server.uri(),
        "--space".into(),
        "ENG".into(),
        "--out".into(),
        out,
    ];

    let missing = run(args.clone(), vec![]).await;
    let text = String::from_utf8_lossy(&missing.stderr).into_owned();
    assert_eq!(missing.status.code(), Some(1), "{text}");
    assert!(
        text.contains("CONFLUENCE_EMAIL") && text.contains("CONFLUENCE_PAT"),
        "{text}"
    );
    assert_eq!(text.trim().lines().count(), 1, "{text}");

    let refused = run(args, vec![("CONFLUENCE_PAT", "pat-SECRET-42")]).await;
    let text = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(text.contains("401"), "{text}");
    assert!(!text.contains("pat-SECRET-42"), "{text}");
}
