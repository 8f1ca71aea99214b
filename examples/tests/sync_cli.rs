//! The `sync` binary as a user runs it: killed with SIGKILL part-way and
//! re-run, bad flags, unreadable paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

fn line_count(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

#[test]
fn sigkill_then_rerun_delivers_every_file_exactly_once() {
    const FILES: usize = 20_000;
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("tree");
    for i in 0..FILES {
        let dir = tree.join(format!("d{:03}", i / 200));
        if i % 200 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        std::fs::write(
            dir.join(format!("f{i:05}.txt")),
            format!("file number {i}\n"),
        )
        .unwrap();
    }
    let out = scratch.path().join("out.jsonl");
    let state = scratch.path().join("state");
    let args = |cmd: &mut Command| {
        cmd.arg("fs")
            .arg("--path")
            .arg(&tree)
            .arg("--out")
            .arg(&out)
            .arg("--state")
            .arg(&state)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
    };

    // Kill it once a few commits have landed and well before the end.
    let mut cmd = Command::new(sync_binary());
    args(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "sync finished ({status}) before it could be killed; the tree is too small for this machine"
            );
        }
        if line_count(&out) >= 3_000 {
            break;
        }
        assert!(Instant::now() < deadline, "no output after 120 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix: no chance to clean up
    child.wait().unwrap();
    let after_kill = line_count(&out);
    assert!(after_kill < FILES, "killed run wrote {after_kill} lines");

    // Re-run with the same state: it resumes and completes.
    let mut cmd = Command::new(sync_binary());
    args(&mut cmd);
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("done (resumed)"), "{stderr}");

    let mut counts: HashMap<String, usize> = HashMap::new();
    for line in std::fs::read_to_string(&out).unwrap().lines() {
        let doc: serde_json::Value = serde_json::from_str(line).expect("every line is whole JSON");
        *counts
            .entry(doc["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(counts.len(), FILES);
    let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        repeated.is_empty(),
        "delivered more than once: {repeated:?}"
    );

    // A third run finds nothing new.
    let mut cmd = Command::new(sync_binary());
    args(&mut cmd);
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "done: 0 documents written to {}, 0 failures, {FILES} skipped unchanged",
            out.display()
        )),
        "{stderr}"
    );
}

#[test]
fn bad_input_exits_non_zero_with_one_line() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out.jsonl");
    let run = |args: &[&str]| {
        let output = Command::new(sync_binary())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let out_arg = out.to_str().unwrap();

    let (code, stderr) = run(&["fs", "--path", "/no/such/dir", "--out", out_arg]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: not found: --path: cannot open directory /no/such/dir"),
        "{stderr}"
    );

    let (code, stderr) = run(&[
        "fs",
        "--path",
        ".",
        "--out",
        out_arg,
        "--since",
        "last tuesday",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: invalid value 'last tuesday' for '--since <RFC3339>'"),
        "{stderr}"
    );

    let (code, stderr) = run(&[
        "fs",
        "--path",
        ".",
        "--out",
        out_arg,
        "--full",
        "--since",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("cannot be used with"), "{stderr}");

    let (code, stderr) = run(&[
        "fs",
        "--path",
        ".",
        "--out",
        scratch.path().to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("is a directory"), "{stderr}");

    let (code, _) = run(&["nosuchsource"]);
    assert_eq!(code, Some(2));
}

#[test]
fn out_and_state_inside_the_synced_tree_are_never_ingested() {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("tree");
    std::fs::create_dir_all(tree.join("notes")).unwrap();
    std::fs::write(tree.join("notes/a.md"), "# Alpha").unwrap();
    std::fs::write(tree.join("b.txt"), "beta").unwrap();
    // Both inside --path and neither hidden, so only the exclusion keeps
    // them out; --path reaches the tree through a relative `..` step.
    let out = tree.join("out.jsonl");
    let state = tree.join("sync-state");
    let path = tree.join("notes").join("..");
    let run = || {
        let output = Command::new(sync_binary())
            .arg("fs")
            .arg("--path")
            .arg(&path)
            .arg("--out")
            .arg(&out)
            .arg("--state")
            .arg(&state)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        stderr
    };
    let ids = || {
        let mut ids: Vec<String> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|line| {
                let doc: serde_json::Value = serde_json::from_str(line).unwrap();
                doc["id"].as_str().unwrap().to_owned()
            })
            .collect();
        ids.sort();
        ids
    };

    let first = run();
    assert!(first.contains("done: 2 documents written"), "{first}");
    assert_eq!(ids(), ["b.txt", "notes/a.md"]);
    let size = std::fs::metadata(&out).unwrap().len();

    let second = run();
    assert!(
        second.contains("done: 0 documents written") && second.contains("2 skipped unchanged"),
        "{second}"
    );
    assert_eq!(std::fs::metadata(&out).unwrap().len(), size);
    assert_eq!(ids(), ["b.txt", "notes/a.md"]);

    // State kept in the synced directory itself would exclude everything.
    let output = Command::new(sync_binary())
        .arg("fs")
        .arg("--path")
        .arg(&tree)
        .arg("--out")
        .arg(&out)
        .arg("--state")
        .arg(tree.join("notes").join(".."))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is the directory being synced or holds it"),
        "{stderr}"
    );
    assert_eq!(std::fs::metadata(&out).unwrap().len(), size);
}
