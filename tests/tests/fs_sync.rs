//! The runner driving the real fs connector: full, incremental, deletions,
//! time windows, resume from checkpoints, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use connector_core::checkpoint::{FileCheckpointStore, MemoryCheckpointStore};
use connector_core::runner::{SyncEvent, SyncMode, SyncObserver, SyncRunner};
use connector_core::sink::{JsonlSink, MemorySink};
use connector_core::{CheckpointedConnector, Connector, ErrorKind, Item, TimeWindow};
use connector_fs::{FsConfig, FsConnector};
use futures::StreamExt;

fn write(root: &Path, rel: &str, body: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, body).unwrap();
}

fn set_mtime(root: &Path, rel: &str, secs: u64) {
    let file = File::options().write(true).open(root.join(rel)).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

fn ids(sink: &MemorySink) -> Vec<String> {
    let mut ids: Vec<String> = sink.documents().iter().map(|d| d.id.clone()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn full_then_incremental_then_deletion() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    write(root, "a.md", "alpha");
    write(root, "sub/b.txt", "beta");
    write(root, "sub/deeper/c.rs", "fn main() {}");
    write(root, "skip.log", "noise");
    write(root, ".gitignore", "ignored/\n");
    write(root, "ignored/secret.txt", "never synced");

    let connector = FsConnector::new(root, FsConfig::default().ignore("*.log")).unwrap();
    let runner = SyncRunner::new("fs", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = MemorySink::default();

    let first = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(ids(&sink), ["a.md", "sub/b.txt", "sub/deeper/c.rs"]);
    assert_eq!(first.documents_processed, 3);
    let c = sink
        .documents()
        .iter()
        .find(|d| d.id == "sub/deeper/c.rs")
        .unwrap();
    assert_eq!(c.hierarchy[1..], ["sub", "deeper"]);
    assert_eq!(c.sections[0].text, "fn main() {}");

    // Nothing changed: everything is skipped.
    let second = runner
        .run(&connector, &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(
        (second.documents_processed, second.documents_skipped),
        (0, 3)
    );

    // One file changes, one disappears.
    write(root, "a.md", "alpha, edited");
    fs::remove_file(root.join("sub/b.txt")).unwrap();
    let third = runner
        .run(&connector, &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(third.documents_processed, 1);
    assert_eq!(third.documents_deleted, 1);
    assert_eq!(sink.deleted(), ["sub/b.txt"]);
    assert_eq!(
        sink.documents().last().unwrap().sections[0].text,
        "alpha, edited"
    );
}

#[tokio::test]
async fn poll_window_uses_mtime_half_open() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    for (name, secs) in [
        ("before.txt", 999),
        ("at-start.txt", 1000),
        ("inside.txt", 1500),
        ("at-end.txt", 2000),
    ] {
        write(root, name, name);
        set_mtime(root, name, secs);
    }
    let connector = FsConnector::new(root, FsConfig::default()).unwrap();
    let window = TimeWindow::new(
        DateTime::<Utc>::from_timestamp(1000, 0).unwrap(),
        DateTime::<Utc>::from_timestamp(2000, 0).unwrap(),
    );
    let mut got = Vec::new();
    let mut stream = connector.resume(window, None);
    while let Some(item) = stream.next().await {
        if let Item::Document(d) = item.unwrap() {
            got.push(d.id);
        }
    }
    got.sort();
    assert_eq!(got, ["at-start.txt", "inside.txt"]);
}

#[tokio::test]
async fn resume_from_every_checkpoint_has_no_gap_and_no_repeat() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    for i in 0..57 {
        write(
            root,
            &format!("d{}/f{i:03}.txt", i % 4),
            &format!("file {i}"),
        );
    }
    let mut config = FsConfig::default();
    config.checkpoint_every = 5;
    let connector = FsConnector::new(root, config).unwrap();
    let window = TimeWindow::until(Utc::now());

    let mut all = Vec::new();
    let mut checkpoints = Vec::new();
    let mut stream = connector.resume(window, None);
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            Item::Document(d) => all.push(d.id),
            Item::Checkpoint(cp) => checkpoints.push((all.len(), cp)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(all.len(), 57);
    assert_eq!(checkpoints.len(), 11);
    for (done, cp) in checkpoints {
        let mut rest = Vec::new();
        let mut stream = connector.resume(window, Some(cp));
        while let Some(item) = stream.next().await {
            if let Item::Document(d) = item.unwrap() {
                rest.push(d.id);
            }
        }
        assert_eq!(rest, all[done..], "resuming after {done} documents");
    }
}

#[tokio::test]
async fn jsonl_output_has_each_file_once_across_interrupted_runs() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("tree");
    for i in 0..300 {
        write(
            &root,
            &format!("n{:02}/{i}.md", i / 30),
            &format!("note {i}"),
        );
    }
    let state = tree.path().join("state");
    let out = tree.path().join("out.jsonl");
    let connector = FsConnector::new(&root, FsConfig::default()).unwrap();
    let mut options = connector_core::runner::RunnerOptions::default();
    options.commit_every = 40;

    // A run cancelled part-way (after 100 documents), then a resumed run.
    struct CancelAfter(connector_core::CancellationToken);
    impl SyncObserver for CancelAfter {
        fn on_event(&self, event: &SyncEvent) {
            if event.documents_processed >= 100 {
                self.0.cancel();
            }
        }
    }
    let cancel = connector_core::CancellationToken::new();
    let runner = SyncRunner::new("fs", Arc::new(FileCheckpointStore::open(&state).unwrap()))
        .with_options(options.clone())
        .with_observer(Arc::new(CancelAfter(cancel.clone())))
        .with_cancellation(cancel);
    let mut sink = JsonlSink::create(&out).unwrap();
    let err = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    let partial = fs::read_to_string(&out).unwrap().lines().count();
    assert!(
        (100..300).contains(&partial),
        "{partial} lines after cancelling"
    );

    // A new process would close the first sink (and its lock) by exiting.
    drop(sink);
    let runner = SyncRunner::new("fs", Arc::new(FileCheckpointStore::open(&state).unwrap()))
        .with_options(options);
    let mut sink = JsonlSink::create(&out).unwrap();
    let report = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(report.resumed);
    let mut counts: HashMap<String, usize> = HashMap::new();
    for line in fs::read_to_string(&out).unwrap().lines() {
        let doc: serde_json::Value = serde_json::from_str(line).unwrap();
        *counts
            .entry(doc["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(counts.len(), 300);
    assert!(counts.values().all(|&n| n == 1));
}

#[tokio::test]
async fn bad_input_gives_clear_errors_or_failures() {
    // A path that does not exist.
    let err = FsConnector::new("/definitely/not/here", FsConfig::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("/definitely/not/here"), "{err}");

    // A file where a directory is expected.
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    write(root, "plain.txt", "x");
    let err = FsConnector::new(root.join("plain.txt"), FsConfig::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);

    // An invalid ignore pattern.
    let err = FsConnector::new(root, FsConfig::default().ignore("a[")).unwrap_err();
    assert!(err.to_string().contains("ignore pattern `a[`"), "{err}");

    // 2 GB files (sparse, so cheap): a binary one is an attachment entry
    // with its size, never read; a text one is a failure over the cap.
    File::create(root.join("huge.bin"))
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    File::create(root.join("huge.txt"))
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let connector = FsConnector::new(root, FsConfig::default()).unwrap();
    let runner = SyncRunner::new("fs", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = MemorySink::default();
    let report = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    let bin = sink
        .documents()
        .iter()
        .find(|d| d.id == "huge.bin")
        .unwrap();
    assert_eq!(bin.attachments[0].size, Some(2 << 30));
    assert!(bin.attachments[0].bytes.is_none());
    assert_eq!(report.documents_failed, 1);
    assert_eq!(report.failures[0].id, "huge.txt");
    assert!(
        report.failures[0].reason.contains("text cap"),
        "{}",
        report.failures[0].reason
    );
}

#[cfg(unix)]
#[tokio::test]
async fn non_utf8_names_and_unreadable_files() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;

    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    let odd = std::ffi::OsStr::from_bytes(b"r\xe9sum\xe9.txt");
    fs::write(root.join(odd), "latin-1 name").unwrap();
    write(root, "locked.txt", "secret");
    fs::set_permissions(root.join("locked.txt"), fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads any file whatever its mode; only check the failure when
    // the permission actually bites.
    let locked_bites = File::open(root.join("locked.txt")).is_err();

    let connector = FsConnector::new(root, FsConfig::default()).unwrap();
    let runner = SyncRunner::new("fs", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = MemorySink::default();
    let report = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    let doc = sink
        .documents()
        .iter()
        .find(|d| d.id == "r%E9sum%E9.txt")
        .expect("the non-UTF-8 name is synced under an escaped id");
    assert_eq!(doc.sections[0].text, "latin-1 name");
    if locked_bites {
        assert_eq!(report.documents_failed, 1);
        assert_eq!(report.failures[0].id, "locked.txt");
        assert!(report.failures[0].reason.contains("permission denied"));
    }

    // validate() lists top-level folders.
    fs::create_dir_all(root.join("guides")).unwrap();
    let options = connector.validate().await.unwrap();
    assert_eq!(options.get("folders")[0].key, "guides");
}
