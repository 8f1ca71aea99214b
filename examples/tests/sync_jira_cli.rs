//! `sync jira` as a user runs it, against a wiremock Jira Cloud: a full
//! sync, an incremental rerun, and the errors a user meets first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn sync_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    profile_dir
        .join("examples")
        .join(format!("sync{}", std::env::consts::EXE_SUFFIX))
}

fn issue(n: usize) -> Value {
    json!({
        "id": (10000 + n).to_string(),
        "self": format!("https://acme.atlassian.net/rest/api/3/issue/{}", 10000 + n),
        "key": format!("ENG-{n}"),
        "fields": {
            "summary": format!("Issue {n}"),
            "description": {"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": format!("Body {n}")}]}
            ]},
            "comment": {"comments": [], "maxResults": 20, "total": 0, "startAt": 0},
            "project": {"id": "10000", "key": "ENG", "name": "Engineering"},
            "status": {"id": "3", "name": "Done"},
            "labels": [],
            "components": [],
            "created": "2024-03-01T10:00:00.000+0000",
            // Search orders by `updated`: ascending with the key here.
            "updated": format!("2024-03-01T{:02}:{:02}:00.000+0000", 10 + n / 60, n % 60)
        }
    })
}

/// Cloud enhanced search over 120 issues, tokens `page-<offset>`.
struct Search;

impl Respond for Search {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let size = body["maxResults"].as_u64().unwrap() as usize;
        let start = body["nextPageToken"]
            .as_str()
            .and_then(|t| t.strip_prefix("page-"))
            .map_or(0, |n| n.parse().unwrap());
        let end = (start + size).min(120);
        let issues: Vec<Value> = (start + 1..=end).map(issue).collect();
        let mut page = json!({"issues": issues, "isLast": end >= 120});
        if end < 120 {
            page["nextPageToken"] = json!(format!("page-{end}"));
        }
        ResponseTemplate::new(200).set_body_json(page)
    }
}

async fn jira() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/myself"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accountId": "5b10a2844c20165700ede21g", "displayName": "Mia", "timeZone": "UTC", "active": true
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(Search)
        .mount(&server)
        .await;
    server
}

async fn run(args: Vec<String>, env: Vec<(&'static str, &'static str)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(sync_binary());
        cmd.args(&args)
            .env_remove("JIRA_EMAIL")
            .env_remove("JIRA_API_TOKEN")
            .env_remove("JIRA_PAT")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_then_incremental_rerun() {
    let server = jira().await;
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out.jsonl");
    let state = scratch.path().join("state");
    let args = vec![
        "jira".to_string(),
        "--url".into(),
        server.uri(),
        "--project".into(),
        "ENG".into(),
        "--deployment".into(),
        "cloud".into(),
        "--out".into(),
        out.display().to_string(),
        "--state".into(),
        state.display().to_string(),
    ];
    let env = vec![
        ("JIRA_EMAIL", "mia@example.com"),
        ("JIRA_API_TOKEN", "tok-SECRET-123"),
    ];
    let first = run(args.clone(), env.clone()).await;
    let text = stderr(&first);
    assert!(first.status.success(), "{text}");
    assert!(text.contains("done: 120 documents written"), "{text}");
    assert!(
        text.contains("http: ") && text.contains("requests"),
        "{text}"
    );
    assert!(!text.contains("tok-SECRET-123"));
    let lines = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines.lines().count(), 120);
    let doc: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(doc["title"], "ENG-1: Issue 1");
    assert!(!lines.contains("tok-SECRET-123"));

    let second = run(args, env).await;
    let text = stderr(&second);
    assert!(second.status.success(), "{text}");
    assert!(text.contains("0 documents written"), "{text}");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_and_bad_urls_are_one_line_errors() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out.jsonl").display().to_string();
    let base = |url: &str| {
        vec![
            "jira".to_string(),
            "--url".into(),
            url.into(),
            "--out".into(),
            out.clone(),
        ]
    };

    let no_env = run(base("https://acme.atlassian.net"), vec![]).await;
    assert_eq!(no_env.status.code(), Some(1));
    let text = stderr(&no_env);
    assert!(
        text.contains("JIRA_EMAIL") && text.contains("JIRA_PAT"),
        "{text}"
    );
    assert_eq!(text.trim().lines().count(), 1, "{text}");

    let plain_http = run(base("http://jira.example.com"), vec![("JIRA_PAT", "p")]).await;
    assert_eq!(plain_http.status.code(), Some(1));
    assert!(
        stderr(&plain_http).contains("https://"),
        "{}",
        stderr(&plain_http)
    );

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_string("Unauthorized"))
        .mount(&server)
        .await;
    let refused = run(base(&server.uri()), vec![("JIRA_PAT", "wrong-PAT-value")]).await;
    let text = stderr(&refused);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(
        text.contains("401") && !text.contains("wrong-PAT-value"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_builds_the_connector_as_a_host_would() {
    let server = jira().await;
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out.jsonl").display().to_string();
    let file = scratch.path().join("jira.toml");
    std::fs::write(
        &file,
        format!(
            "kind = \"jira\"\nbase_url = \"{}\"\ndeployment = \"cloud\"\nprojects = [\"ENG\"]\n\
             credentials = {{ email = \"mia@example.com\", api_token = \"${{JIRA_API_TOKEN}}\" }}\n\
             options = {{ rate = 500.0 }}\n",
            server.uri()
        ),
    )
    .unwrap();
    let args = |file: &Path| {
        vec![
            "config".to_string(),
            "--file".into(),
            file.display().to_string(),
            "--out".into(),
            out.clone(),
        ]
    };

    let unset = run(args(&file), vec![]).await;
    let text = stderr(&unset);
    assert_eq!(unset.status.code(), Some(1), "{text}");
    assert!(
        text.contains("credentials.api_token") && text.contains("JIRA_API_TOKEN"),
        "{text}"
    );

    let done = run(args(&file), vec![("JIRA_API_TOKEN", "tok-SECRET-123")]).await;
    let text = stderr(&done);
    assert!(done.status.success(), "{text}");
    assert!(text.contains("done: 120 documents written"), "{text}");
    // The HTTP counters come from the connector's metrics in the report.
    assert!(
        text.contains("http: ") && text.contains("requests"),
        "{text}"
    );
    assert!(!text.contains("tok-SECRET-123"));

    let typo = scratch.path().join("typo.json");
    std::fs::write(
        &typo,
        r#"{"kind": "jira", "base_url": "https://acme.atlassian.net", "project": ["ENG"]}"#,
    )
    .unwrap();
    let refused = run(args(&typo), vec![]).await;
    let text = stderr(&refused);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(text.contains("unknown field `project`"), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "{text}");

    let gopher = scratch.path().join("gopher.json");
    std::fs::write(&gopher, r#"{"kind": "gopher"}"#).unwrap();
    let text = stderr(&run(args(&gopher), vec![]).await);
    assert!(text.contains("this build knows: fs, jira"), "{text}");
}

/// `sync <args>` with `variables` unset fails in one line naming them.
async fn without_credentials(args: &[&str], variables: &'static [&'static str]) {
    let scratch = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    args.push("--out".into());
    args.push(scratch.path().join("out.jsonl").display().to_string());
    let output = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(sync_binary());
        cmd.args(&args).stdin(Stdio::null());
        for variable in variables {
            cmd.env_remove(variable);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    for variable in variables {
        assert!(text.contains(variable), "{variable} not named: {text}");
    }
    assert_eq!(text.trim().lines().count(), 1, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servicenow_without_credentials_names_the_variables() {
    without_credentials(
        &["servicenow", "--instance", "acme"],
        &[
            "SERVICENOW_USER",
            "SERVICENOW_PASSWORD",
            "SERVICENOW_CLIENT_ID",
            "SERVICENOW_CLIENT_SECRET",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_without_credentials_names_the_variables() {
    without_credentials(
        &["github", "--repo", "acme/widgets"],
        &[
            "GITHUB_TOKEN",
            "GITHUB_APP_ID",
            "GITHUB_APP_PRIVATE_KEY",
            "GITHUB_INSTALLATION_ID",
        ],
    )
    .await;
}
