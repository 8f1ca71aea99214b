//! The `sync s3` command as a user runs it against a real S3 implementation
//! (a moto server): killed with SIGKILL part-way and re-run, every object
//! exactly once; a rerun skips everything; a deletion is reported; and bad
//! buckets, endpoints and credentials end with a one-line error that names
//! them and never the secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use connector_s3::testing::{ACCESS_KEY_ID, MotoServer, SECRET_ACCESS_KEY};

const OBJECTS: usize = 2_500;

/// `cargo test` builds this package's examples next to the test binary's
/// directory (`target/<profile>/examples/`).
fn sync_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir
        .join("examples")
        .join(format!("sync{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test`, which builds the examples",
        bin.display()
    );
    bin
}

/// The sync binary with the standard AWS variables set to the test keys,
/// and nothing from the environment that could send it elsewhere.
fn sync(home: &Path) -> Command {
    let mut cmd = Command::new(sync_binary());
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .stdin(Stdio::null());
    cmd
}

fn line_count(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

#[test]
fn sigkill_then_rerun_delivers_every_object_exactly_once() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let moto = MotoServer::start().unwrap();
    runtime.block_on(async {
        moto.create_bucket("killed").await.unwrap();
        moto.put_many(
            "killed",
            (0..OBJECTS).map(|i| {
                (
                    format!("dir {:02}/sub/été-{i:05}.txt", i / 100),
                    format!("object {i}\n").into_bytes(),
                )
            }),
            16,
        )
        .await
        .unwrap();
    });
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out.jsonl");
    let state = scratch.path().join("state");
    let args = |cmd: &mut Command| {
        cmd.args(["s3", "--bucket", "killed", "--path-style", "--endpoint"])
            .arg(moto.endpoint())
            .arg("--out")
            .arg(&out)
            .arg("--state")
            .arg(&state)
            .arg("--tombstones")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
    };

    // Kill it once the first commit (1 000 documents) has landed.
    let mut cmd = sync(scratch.path());
    args(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            panic!("sync finished ({status}) before it could be killed: {stderr}");
        }
        if line_count(&out) >= 1_200 {
            break;
        }
        assert!(Instant::now() < deadline, "no output after 300 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix: no chance to clean up
    child.wait().unwrap();
    let after_kill = line_count(&out);
    assert!(after_kill < OBJECTS, "killed run wrote {after_kill} lines");

    // Re-run with the same state: it resumes and completes.
    let mut cmd = sync(scratch.path());
    args(&mut cmd);
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("done (resumed)"), "{stderr}");

    let mut counts: HashMap<String, usize> = HashMap::new();
    for line in std::fs::read_to_string(&out).unwrap().lines() {
        let doc: serde_json::Value = serde_json::from_str(line).expect("every line is whole JSON");
        assert_eq!(doc["source"], "s3");
        *counts
            .entry(doc["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(counts.len(), OBJECTS);
    let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        repeated.is_empty(),
        "delivered more than once: {repeated:?}"
    );
    let sample = format!("{}/killed/dir 07/sub/été-00700.txt", moto.endpoint());
    assert!(counts.contains_key(&sample), "{sample}");

    // A third run finds nothing new.
    let mut cmd = sync(scratch.path());
    args(&mut cmd);
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "done: 0 documents written to {}, 0 failures, {OBJECTS} skipped unchanged, 0 deleted",
            out.display()
        )),
        "{stderr}"
    );

    // A deleted object is reported as a tombstone line.
    runtime
        .block_on(moto.delete("killed", "dir 07/sub/été-00700.txt"))
        .unwrap();
    let mut cmd = sync(scratch.path());
    args(&mut cmd);
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1 deleted"), "{stderr}");
    let last = std::fs::read_to_string(&out).unwrap();
    let tombstone: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(tombstone["id"], sample.as_str());
    assert_eq!(tombstone["deleted"], true);
}

/// Runs `sync` and returns (exit code, the `error:` line, all of stderr).
fn failing_run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
    assert!(!stderr.contains(SECRET_ACCESS_KEY), "{stderr}");
    (output.status.code(), errors[0].to_owned(), stderr)
}

#[test]
fn bad_bucket_endpoint_and_credentials_exit_with_one_line() {
    let moto = MotoServer::start().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out.jsonl");
    let out_arg = out.to_str().unwrap();

    let (code, line, _) = failing_run(sync(scratch.path()).args([
        "s3",
        "--bucket",
        "no-such-bucket",
        "--path-style",
        "--endpoint",
        &moto.endpoint(),
        "--out",
        out_arg,
    ]));
    assert_eq!(code, Some(1));
    assert!(
        line.starts_with(&format!(
            "error: not found: bucket `no-such-bucket` does not exist at {}",
            moto.endpoint()
        )),
        "{line}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let (code, line, _) = failing_run(sync(scratch.path()).args([
        "s3",
        "--bucket",
        "some-bucket",
        "--path-style",
        "--endpoint",
        &dead,
        "--out",
        out_arg,
    ]));
    assert_eq!(code, Some(1));
    assert!(
        line.starts_with("error: temporary failure: listing bucket `some-bucket`"),
        "{line}"
    );
    assert!(
        line.contains(&dead) && line.contains("connection refused"),
        "{line}"
    );

    let (code, line, _) = failing_run(sync(scratch.path()).args([
        "s3",
        "--bucket",
        "some-bucket",
        "--endpoint",
        "http://s3.example.com",
        "--out",
        out_arg,
    ]));
    assert_eq!(code, Some(1));
    assert!(line.contains("only for loopback"), "{line}");

    let (code, line, _) = failing_run(sync(scratch.path()).args([
        "s3",
        "--bucket",
        "some-bucket",
        "--rate",
        "5",
        "--out",
        out_arg,
    ]));
    // --rate is a ceiling for S3 as for every source; here the missing
    // region is what stops the run, named with its fix.
    assert_eq!(code, Some(1));
    assert!(
        line.contains("no AWS region") && line.contains("AWS_REGION"),
        "{line}"
    );

    let (code, line, _) = failing_run(
        sync(scratch.path())
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .args([
                "s3",
                "--bucket",
                "some-bucket",
                "--path-style",
                "--endpoint",
                &moto.endpoint(),
                "--out",
                out_arg,
            ]),
    );
    assert_eq!(code, Some(1));
    assert!(line.starts_with("error: authentication failed:"), "{line}");
    assert!(line.contains("no usable AWS credentials"), "{line}");
    assert!(line.contains("`some-bucket`"), "{line}");

    let (code, line, _) = failing_run(sync(scratch.path()).args([
        "s3",
        "--bucket",
        "bucket/with/prefix",
        "--out",
        out_arg,
    ]));
    assert_eq!(code, Some(1));
    assert!(
        line.contains("pass the bucket `bucket` and the prefix"),
        "{line}"
    );
}

#[test]
fn trace_logs_never_carry_the_session_token_or_the_secret() {
    const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLE-session-token-do-not-print";
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let moto = MotoServer::start().unwrap();
    runtime.block_on(async {
        moto.create_bucket("traced").await.unwrap();
        moto.put("traced", "a.txt", b"alpha".to_vec())
            .await
            .unwrap();
        moto.put("traced", "b.md", b"# beta".to_vec())
            .await
            .unwrap();
    });
    let scratch = tempfile::tempdir().unwrap();
    let output = sync(scratch.path())
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        // Everything the SDK and the connector log, signing included.
        .env("SYNC_LOG", "trace")
        .args(["s3", "--bucket", "traced", "--path-style", "--endpoint"])
        .arg(moto.endpoint())
        .arg("--out")
        .arg(scratch.path().join("out.jsonl"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("done: 2 documents"), "{stderr}");
    assert!(
        stderr.lines().count() > 20,
        "trace logging was on: {stderr}"
    );
    for secret in [SESSION_TOKEN, SECRET_ACCESS_KEY] {
        if let Some(at) = stderr.find(secret) {
            let from = stderr[..at].rfind(" TRACE ").unwrap_or(0);
            panic!(
                "a trace line carries a secret: {}",
                &stderr[from..at + secret.len()]
            );
        }
    }
}
