//! `sync sharepoint` as a user runs it, against wiremock stand-ins for
//! Entra ID and Microsoft Graph: a sync and its incremental rerun, and the
//! errors a user meets first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::json;
use wiremock::matchers::{method, path, path_regex, query_param};
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
            .env_remove("SHAREPOINT_CLIENT_ID")
            .env_remove("SHAREPOINT_CLIENT_SECRET")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

const SITE: &str = "contoso.sharepoint.com,2C712604-1370-44E7-A1F5-426573FDA80A,2D2244C3-251A-49EA-93A8-39E1C3A060FE";
const DRIVE: &str = "b!BBJxLHATLESCDNVlcBZ8pBEeodZCUpZOr3_bXaWkQ1gh_E7LWLpRQLYSEAEUsZY";

fn file(id: &str, name: &str) -> serde_json::Value {
    json!({
        "@odata.type": "#microsoft.graph.driveItem",
        "id": id,
        "name": name,
        "eTag": format!("\"{{{id}}},1\""),
        "cTag": format!("\"c:{{{id}}},1\""),
        "size": 48213,
        "webUrl": format!("https://contoso.sharepoint.com/sites/Eng/Shared%20Documents/{name}"),
        "createdDateTime": "2024-03-01T10:00:00Z",
        "lastModifiedDateTime": "2024-03-02T10:00:00Z",
        "createdBy": {"user": {"displayName": "Megan Bowen", "email": "megan@contoso.com"}},
        "lastModifiedBy": {"user": {"displayName": "Megan Bowen", "email": "megan@contoso.com"}},
        "parentReference": {"driveType": "documentLibrary", "driveId": DRIVE, "id": "01ROOT", "path": "/drives/b!x/root:"},
        "file": {"mimeType": "application/pdf", "hashes": {"quickXorHash": "aGFzaA=="}}
    })
}

/// A path regex matching `/v1.0/{before}{id}{after}`, the id raw (as in
/// Graph's links) or percent-encoded (as the connector builds paths).
fn id_path(before: &str, id: &str, after: &str) -> String {
    let encoded = id.replace('!', "%21").replace(',', "%2C");
    let escape = |s: &str| s.replace('.', r"\.");
    format!(
        r"^/v1\.0/{before}(?:{}|{}){}$",
        escape(id),
        escape(&encoded),
        escape(after)
    )
}

async fn graph() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/contoso.onmicrosoft.com/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "eyJ0eXAiOiJKV1Qi"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/sites/contoso.sharepoint.com:/sites/Eng"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": SITE, "name": "Eng", "displayName": "Engineering", "webUrl": "https://contoso.sharepoint.com/sites/Eng"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(id_path("sites/", SITE, "/drives")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{
            "id": DRIVE, "name": "Documents", "driveType": "documentLibrary",
            "webUrl": "https://contoso.sharepoint.com/sites/Eng/Shared%20Documents"
        }]})))
        .mount(&server)
        .await;
    let link = |token: &str| {
        format!(
            "{}/v1.0/drives/{DRIVE}/root/delta?token={token}",
            server.uri()
        )
    };
    Mock::given(method("GET"))
        .and(path_regex(id_path("drives/", DRIVE, "/root/delta")))
        .and(query_param("token", "latest-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [], "@odata.deltaLink": link("latest-1")
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(id_path("drives/", DRIVE, "/root/delta")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [
                {"id": "01ROOT", "name": "root", "root": {}, "folder": {"childCount": 2},
                 "parentReference": {"driveId": DRIVE, "driveType": "documentLibrary"}},
                file("01A", "plan.pdf"),
                file("01B", "budget.pdf")
            ],
            "@odata.deltaLink": link("latest-1")
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(id_path(
            "sites/",
            SITE,
            "/pages/microsoft.graph.sitePage",
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&server)
        .await;
    server
}

fn args(server: &MockServer, out: &Path, state: &Path) -> Vec<String> {
    vec![
        "sharepoint".into(),
        "--tenant".into(),
        "contoso.onmicrosoft.com".into(),
        "--site".into(),
        "https://contoso.sharepoint.com/sites/Eng".into(),
        "--graph-url".into(),
        format!("{}/v1.0", server.uri()),
        "--login-url".into(),
        server.uri(),
        // The stand-in serves listings only: no file bytes to extract.
        "--no-extract".into(),
        "--out".into(),
        out.display().to_string(),
        "--state".into(),
        state.display().to_string(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_then_continue_from_the_delta_link() {
    let server = graph().await;
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out.jsonl");
    let state = scratch.path().join("state");
    let env = vec![
        ("SHAREPOINT_CLIENT_ID", "app-id"),
        ("SHAREPOINT_CLIENT_SECRET", "sec-SECRET-9"),
    ];
    let first = run(args(&server, &out, &state), env.clone()).await;
    let text = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(first.status.success(), "{text}");
    assert!(text.contains("done: 2 documents written"), "{text}");
    let lines = std::fs::read_to_string(&out).unwrap();
    assert!(lines.contains("plan.pdf") && lines.contains("budget.pdf"));
    assert!(!lines.contains("sec-SECRET-9") && !text.contains("sec-SECRET-9"));

    let second = run(args(&server, &out, &state), env).await;
    let text = String::from_utf8_lossy(&second.stderr).into_owned();
    assert!(second.status.success(), "{text}");
    assert!(text.contains("done: 0 documents written"), "{text}");
    let asked_latest = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .any(|r| r.url.query().is_some_and(|q| q.contains("token=latest-1")));
    assert!(
        asked_latest,
        "the rerun continued from the stored delta link"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_wrong_credentials_are_one_line_errors() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out.jsonl");
    let state = scratch.path().join("state");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 0f6e\r\nCorrelation ID: 8a1c\r\nTimestamp: 2024-03-01 10:00:00Z",
            "error_codes": [7000215]
        })))
        .mount(&server)
        .await;

    let missing = run(args(&server, &out, &state), vec![]).await;
    let text = String::from_utf8_lossy(&missing.stderr).into_owned();
    assert_eq!(missing.status.code(), Some(1), "{text}");
    assert!(text.contains("SHAREPOINT_CLIENT_ID"), "{text}");

    let env = vec![
        ("SHAREPOINT_CLIENT_ID", "app-id"),
        ("SHAREPOINT_CLIENT_SECRET", "wrong-SECRET-1"),
    ];
    let wrong = run(args(&server, &out, &state), env).await;
    let text = String::from_utf8_lossy(&wrong.stderr).into_owned();
    assert_eq!(wrong.status.code(), Some(1), "{text}");
    assert!(text.contains("AADSTS7000215"), "{text}");
    assert!(!text.contains("wrong-SECRET-1"), "{text}");
    assert_eq!(
        text.trim()
            .lines()
            .filter(|l| l.starts_with("error"))
            .count(),
        1,
        "{text}"
    );
}
