//! The `sync` binary against unlucky operators: two runs at once, a state
//! reused with another output, SIGTERM and SIGHUP, a source that suddenly
//! lists almost nothing, log lines read by a program, file modes. Real
//! processes, real signals, real files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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

/// `n` small text files under `root`, 200 to a directory.
fn tree(root: &Path, n: usize) {
    for i in 0..n {
        let dir = root.join(format!("d{:03}", i / 200));
        if i % 200 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        std::fs::write(
            dir.join(format!("f{i:05}.txt")),
            format!("file number {i}\n"),
        )
        .unwrap();
    }
}

fn sync(tree: &Path, out: &Path, state: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(sync_binary());
    cmd.arg("fs")
        .arg("--path")
        .arg(tree)
        .arg("--out")
        .arg(out)
        .arg("--state")
        .arg(state)
        .args(extra)
        .env_remove("SYNC_LOG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Wait until `path` exists (the run got that far).
fn wait_for(path: impl Fn() -> bool, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("sync ended ({status}) before {what}");
        }
        assert!(Instant::now() < deadline, "no {what} after 60 s");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The lock file of the one connection in `state`.
fn lock_file(state: &Path) -> Option<PathBuf> {
    std::fs::read_dir(state)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "lock"))
}

/// Each document id in a JSONL file and how often it occurs; every line
/// must be whole JSON.
fn id_counts(out: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for line in std::fs::read_to_string(out).unwrap().lines() {
        let doc: serde_json::Value = serde_json::from_str(line).expect("every line is whole JSON");
        if doc.get("deleted").is_some() {
            continue;
        }
        *counts
            .entry(doc["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

fn assert_each_once(out: &Path, n: usize) {
    let counts = id_counts(out);
    let repeated: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).take(5).collect();
    assert!(
        repeated.is_empty(),
        "delivered more than once: {repeated:?}"
    );
    assert_eq!(counts.len(), n, "documents in {}", out.display());
}

#[test]
fn a_second_sync_of_the_same_state_or_output_fails_at_once_naming_the_lock() {
    const FILES: usize = 10_000;
    let scratch = tempfile::tempdir().unwrap();
    let files = scratch.path().join("tree");
    tree(&files, FILES);
    let (out, state) = (
        scratch.path().join("out.jsonl"),
        scratch.path().join("state"),
    );

    let mut first = sync(&files, &out, &state, &[]).spawn().unwrap();
    wait_for(|| lock_file(&state).is_some(), &mut first, "the state lock");
    let lock = lock_file(&state).unwrap();

    // Same state, another output.
    let started = Instant::now();
    let other_out = scratch.path().join("other.jsonl");
    let same_state = sync(&files, &other_out, &state, &[]).output().unwrap();
    let text = stderr(&same_state);
    assert_eq!(same_state.status.code(), Some(1), "{text}");
    assert!(text.contains(&lock.display().to_string()), "{text}");
    assert!(text.contains("in use by another sync"), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");

    // Same output, another state.
    let same_out = sync(&files, &out, &scratch.path().join("state2"), &[])
        .output()
        .unwrap();
    let text = stderr(&same_out);
    assert_eq!(same_out.status.code(), Some(1), "{text}");
    assert!(text.contains(&out.display().to_string()), "{text}");
    assert!(text.contains("being written by another sync"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "they failed at once"
    );
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first sync ended before the others ran; the tree is too small for this machine"
    );

    // The first run was not disturbed.
    let output = first.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_each_once(&out, FILES);
}

#[test]
fn reusing_a_state_with_another_output_refuses_and_leaves_that_file_alone() {
    let scratch = tempfile::tempdir().unwrap();
    let files = scratch.path().join("tree");
    tree(&files, 50);
    let state = scratch.path().join("state");
    let (a, b) = (
        scratch.path().join("a.jsonl"),
        scratch.path().join("b.jsonl"),
    );
    let output = sync(&files, &a, &state, &[]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    let precious = "{\"id\":\"someone else's\"}\n".repeat(5000);
    std::fs::write(&b, &precious).unwrap();
    let output = sync(&files, &b, &state, &[]).output().unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&a.canonicalize().unwrap().display().to_string()),
        "{text}"
    );
    assert!(text.contains("left untouched"), "{text}");
    assert_eq!(std::fs::read_to_string(&b).unwrap(), precious);
}

/// Send `signal` (a name `kill` knows) to `child`.
fn send(signal: &str, child: &Child) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} failed");
}

#[test]
fn sigterm_and_sighup_commit_say_how_to_resume_and_exit_143_and_129() {
    const FILES: usize = 6_000;
    let scratch = tempfile::tempdir().unwrap();
    let files = scratch.path().join("tree");
    tree(&files, FILES);
    let (out, state) = (
        scratch.path().join("out.jsonl"),
        scratch.path().join("state"),
    );

    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        let mut child = sync(&files, &out, &state, &[]).spawn().unwrap();
        wait_for(|| lock_file(&state).is_some(), &mut child, "the state lock");
        // Once documents flow, so the stop has something to commit.
        let before = std::fs::metadata(&out).map_or(0, |m| m.len());
        wait_for(
            || std::fs::metadata(&out).is_ok_and(|m| m.len() > before),
            &mut child,
            "new output",
        );
        send(signal, &child);
        let output = child.wait_with_output().unwrap();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(code), "SIG{signal}: {text}");
        assert!(
            text.contains(&format!("(SIG{signal}): what was written is committed"))
                && text.contains("run again with the same --state to resume"),
            "{text}"
        );
        let counts = id_counts(&out);
        assert!(
            !counts.is_empty() && counts.len() < FILES,
            "SIG{signal} stopped the sync part-way with its output committed ({} documents)",
            counts.len()
        );
    }

    // The resumed run completes without repeating anything.
    let output = sync(&files, &out, &state, &[]).output().unwrap();
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("done (resumed)"), "{text}");
    assert_each_once(&out, FILES);
}

#[test]
fn a_source_that_suddenly_lists_little_deletes_nothing_without_the_flag() {
    let scratch = tempfile::tempdir().unwrap();
    let files = scratch.path().join("tree");
    tree(&files, 10);
    let (out, state) = (
        scratch.path().join("out.jsonl"),
        scratch.path().join("state"),
    );
    let output = sync(&files, &out, &state, &["--tombstones"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    for i in 0..8 {
        std::fs::remove_file(files.join(format!("d000/f{i:05}.txt"))).unwrap();
    }
    let output = sync(&files, &out, &state, &["--tombstones"])
        .output()
        .unwrap();
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains(", 0 deleted"), "{text}");
    assert!(
        text.contains("warning: refused to delete 8 of the 10 documents")
            && text.contains("--allow-mass-delete"),
        "{text}"
    );
    let tombstones = |out: &Path| {
        std::fs::read_to_string(out)
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"deleted\":true"))
            .count()
    };
    assert_eq!(tombstones(&out), 0);

    // A host reading JSON events gets the warning as an event.
    let output = sync(&files, &out, &state, &["--tombstones", "--json-events"])
        .output()
        .unwrap();
    let text = stderr(&output);
    let warning: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "sync_warning")
        .unwrap_or_else(|| panic!("no sync_warning event: {text}"));
    assert_eq!(warning["kind"], "mass_deletion_refused");
    assert_eq!(warning["would_delete"], 8);
    assert_eq!(warning["held"], 10);
    assert_eq!(warning["listed"], 2);
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("nothing was deleted")
    );
    assert_eq!(tombstones(&out), 0);

    let output = sync(
        &files,
        &out,
        &state,
        &["--tombstones", "--allow-mass-delete"],
    )
    .output()
    .unwrap();
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains(", 8 deleted"), "{text}");
    assert!(!text.contains("warning"), "{text}");
    assert_eq!(tombstones(&out), 8);
}

#[test]
fn log_lines_have_no_colour_off_a_terminal_and_rust_log_works_too() {
    let scratch = tempfile::tempdir().unwrap();
    let files = scratch.path().join("tree");
    tree(&files, 3);
    let out = scratch.path().join("out.jsonl");
    for variable in ["SYNC_LOG", "RUST_LOG"] {
        // Files over one byte are failures, which the runner logs at debug.
        let output = sync(&files, &out, &scratch.path().join(variable), &[])
            .arg("--max-text-bytes")
            .arg("1")
            .env(variable, "connector_core=debug")
            .output()
            .unwrap();
        let text = stderr(&output);
        assert!(output.status.success(), "{text}");
        assert!(text.contains("DEBUG"), "{variable} is honoured: {text}");
        assert!(!text.contains('\u{1b}'), "no ANSI escapes: {text:?}");
    }
    // SYNC_LOG wins over RUST_LOG.
    let output = sync(&files, &out, &scratch.path().join("both"), &[])
        .arg("--max-text-bytes")
        .arg("1")
        .env("SYNC_LOG", "off")
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert!(!stderr(&output).contains("DEBUG"), "{}", stderr(&output));

    let help = Command::new(sync_binary()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in ["SYNC_LOG", "RUST_LOG", "SIGTERM", "0600"] {
        assert!(help.contains(needle), "--help mentions {needle}: {help}");
    }
}

#[cfg(unix)]
#[test]
fn output_and_state_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = tempfile::tempdir().unwrap();
    let files = scratch.path().join("tree");
    tree(&files, 3);
    let (out, state) = (
        scratch.path().join("out.jsonl"),
        scratch.path().join("state"),
    );
    let output = sync(&files, &out, &state, &[]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o600);
    assert_eq!(mode(&state), 0o700);
    for entry in std::fs::read_dir(&state).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}
