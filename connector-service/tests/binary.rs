//! The `connector-service` binary on the embedded default: status lines on
//! stdout, logs on stderr at debug level, and the token in neither.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_binary_prints_status_lines_and_never_the_secret() {
    let jira = jira_with(7, Duration::ZERO).await;
    let refusing = jira_refusing().await;
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_connector-service"))
        .arg("serve")
        .env("CONNECTOR_SERVICE_TOKEN", TOKEN)
        .env(
            "CONNECTOR_SERVICE_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .env("CONNECTOR_SERVICE_LISTEN", format!("127.0.0.1:{port}"))
        .env("CONNECTOR_SERVICE_DATA_DIR", data.path())
        .env("CONNECTOR_SERVICE_LOG", "trace")
        .env_remove("AMQP_URL")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let err_thread =
        std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    wait_for(Duration::from_secs(20), "the server", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    })
    .await;

    let mut lines: Vec<Value> = Vec::new();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("a status line")
            .expect("stdout open");
        serde_json::from_str(&line).unwrap()
    };
    post(&base, TOKEN, &verify_body("t1", "bad", &refusing.uri())).await;
    lines.push(next().await);
    post(&base, TOKEN, &verify_body("t1", "c1", &jira.uri())).await;
    lines.push(next().await);
    post(&base, TOKEN, &sync_body("t1", "c1", &jira.uri())).await;
    lines.push(next().await);
    lines.push(next().await);
    assert_eq!(lines[0]["status"], "failed");
    assert_eq!(lines[1]["status"], "success");
    assert_eq!(lines[2]["status"], "sync_started");
    assert_eq!(lines[3]["status"], "sync_completed");
    assert_eq!(lines[3]["documents_processed"], 7);

    unsafe_free_kill(&mut child);
    let logs = err_thread.join().unwrap();
    assert!(logs.contains("listening on"), "{logs}");
    assert!(!logs.contains(SECRET), "the logs hold the secret");
    for line in &lines {
        assert!(!line.to_string().contains(SECRET));
    }
}

/// SIGTERM, then wait: the service stops by itself.
fn unsafe_free_kill(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}
