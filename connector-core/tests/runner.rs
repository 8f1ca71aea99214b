//! Behaviour tests for the sync runner: in-test connectors driven into the
//! real sinks and checkpoint stores, with faults injected at the sink, the
//! source, the state directory and the cancellation token.

// clippy.toml's allow-unwrap-in-tests covers `#[test]` fns only; the
// helpers here and in `support` are test code too.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use connector_core::checkpoint::{CheckpointStore, FileCheckpointStore, MemoryCheckpointStore};
use connector_core::runner::{RunnerOptions, SyncEvent, SyncMode, SyncRunner, SyncStatus};
use connector_core::sink::{CsvSink, JsonlSink, MemorySink};
use connector_core::{CancellationToken, ErrorKind};
use support::{Caps, Fault, Probe, Recorder, Source, csv_ids, doc_id, ids, jsonl_ids, jsonl_lines};

fn options(tune: impl FnOnce(&mut RunnerOptions)) -> RunnerOptions {
    let mut options = RunnerOptions::default();
    tune(&mut options);
    options
}

/// The `next` index of the checkpoint the stored in-progress sync resumes from.
async fn stored_next(runner: &SyncRunner) -> Option<usize> {
    let state = runner.state().await.unwrap().expect("state is stored");
    let progress = state.in_progress.expect("a sync is in progress");
    progress
        .checkpoint
        .map(|cp| usize::try_from(cp.0["next"].as_u64().unwrap()).unwrap())
}

fn load_only(n: usize) -> Source {
    Source::new(
        Caps {
            load: true,
            ..Caps::default()
        },
        n,
    )
}

fn load_and_slim(n: usize) -> Source {
    Source::new(
        Caps {
            load: true,
            slim: true,
            ..Caps::default()
        },
        n,
    )
}

fn poll_only(n: usize) -> Source {
    Source::new(
        Caps {
            poll: true,
            ..Caps::default()
        },
        n,
    )
}

// 1. Sink failures mid-batch.

#[tokio::test]
async fn sink_write_failure_mid_batch_resumes_from_last_commit_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let store = Arc::new(FileCheckpointStore::open(dir.path().join("state")).unwrap());
    let runner = SyncRunner::new("conn", store).with_options(options(|o| o.commit_every = 4));
    let source = Source::checkpointed(25);

    let mut sink = Probe::new(JsonlSink::create(&out).unwrap());
    sink.fail_write_at = Some(11);
    let err = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("disk full at write 11"), "{err}");
    drop(sink);

    // Commits happened after documents 4 and 8; the checkpoint stored with
    // the second is the one yielded before document 8 (index 7).
    assert_eq!(jsonl_ids(&out), ids(8), "only committed documents on disk");
    assert_eq!(stored_next(&runner).await, Some(7));

    // A new process: a fresh sink on the same file, same state.
    let mut sink = JsonlSink::create(&out).unwrap();
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(report.resumed);
    assert_eq!(source.resumes(), [None, Some(7)]);
    assert_eq!(
        report.documents_skipped, 1,
        "document 7 is replayed and skipped"
    );
    assert_eq!(report.documents_processed, 17);
    assert_eq!(
        jsonl_ids(&out),
        ids(25),
        "every document exactly once, in order"
    );
    let state = runner.state().await.unwrap().unwrap();
    assert!(state.in_progress.is_none());
    assert!(state.last_completed.is_some());
}

#[tokio::test]
async fn sink_commit_failure_rolls_back_the_uncommitted_tail_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let runner = SyncRunner::new("conn", Arc::new(MemoryCheckpointStore::default()))
        .with_options(options(|o| o.commit_every = 4));
    let source = Source::checkpointed(25);

    // The fourth commit (the first records the empty output's identity)
    // reaches the disk but fails before the runner can record it:
    // documents 8..12 are durable yet not committed.
    let mut sink = Probe::new(JsonlSink::create(&out).unwrap());
    sink.fail_commit_at = Some(4);
    let err = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("fsync failed at commit 4"),
        "{err}"
    );
    assert_eq!(
        jsonl_ids(&out),
        ids(12),
        "the failed commit's bytes are on disk"
    );
    assert_eq!(stored_next(&runner).await, Some(7));

    // Same sink instance, retried in-process.
    sink.disarm();
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(report.resumed);
    assert_eq!(report.documents_processed, 17);
    assert_eq!(jsonl_ids(&out), ids(25));
}

// 2. Torn files left by a crash.

#[tokio::test]
async fn torn_state_temp_file_and_garbage_tails_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let state_dir = dir.path().join("state");
    let store = Arc::new(FileCheckpointStore::open(&state_dir).unwrap());
    let runner =
        SyncRunner::new("torn", store.clone()).with_options(options(|o| o.commit_every = 5));
    let source = Source::checkpointed(30);

    let mut sink = Probe::new(JsonlSink::create(&out).unwrap());
    sink.fail_write_at = Some(13);
    runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    drop(sink);
    let committed = runner.state().await.unwrap().unwrap();
    assert_eq!(jsonl_ids(&out), ids(10));

    // What a crash in the middle of the next commit leaves behind: a torn
    // temp state file, half a JSONL line plus junk, junk in the index log.
    let tmp = state_dir.join("torn.state.json.tmp");
    let index = state_dir.join("torn.index");
    assert!(state_dir.join("torn.state.json").exists());
    assert!(index.exists());
    std::fs::write(&tmp, br#"{"version":1,"last_completed":null,"in_pro"#).unwrap();
    let append = |path: &std::path::Path, bytes: &[u8]| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(bytes).unwrap();
    };
    append(
        &out,
        b"{\"id\":\"doc-0010\",\"source\":\"te\xff\x00\x01garbage",
    );
    append(&index, &[0xAB; 13]);
    // The value the runner reads is still the committed one.
    assert_eq!(runner.state().await.unwrap().unwrap(), committed);

    let mut sink = JsonlSink::create(&out).unwrap();
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(report.resumed);
    assert_eq!(jsonl_ids(&out), ids(30), "garbage cut, every document once");
    assert!(!tmp.exists(), "the next save replaced the torn temp file");
    let state = runner.state().await.unwrap().unwrap();
    assert_eq!(
        std::fs::metadata(&index).unwrap().len(),
        state.index_len,
        "index log cut back and extended from the committed length"
    );

    // The index survived intact: a further run skips everything.
    drop(sink);
    let mut sink = JsonlSink::create(&out).unwrap();
    let report = runner
        .run(&source, &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(
        (report.documents_processed, report.documents_skipped),
        (0, 30)
    );
    assert_eq!(jsonl_ids(&out), ids(30));
}

#[tokio::test]
async fn a_run_that_never_committed_leaves_nothing_the_next_run_trusts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let state_dir = dir.path().join("state");
    std::fs::create_dir_all(&state_dir).unwrap();
    // Only a torn temp state file and a half-written output exist.
    std::fs::write(state_dir.join("fresh.state.json.tmp"), b"{\"vers").unwrap();
    std::fs::write(
        &out,
        b"{\"id\":\"doc-0000\",\"source\":\"test\"}\n{\"id\":\"doc-00",
    )
    .unwrap();
    let store = Arc::new(FileCheckpointStore::open(&state_dir).unwrap());
    let runner = SyncRunner::new("fresh", store);
    assert!(runner.state().await.unwrap().is_none());

    let source = Source::checkpointed(6);
    let mut sink = JsonlSink::create(&out).unwrap();
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(!report.resumed);
    assert_eq!(report.documents_processed, 6);
    assert_eq!(jsonl_ids(&out), ids(6));
}

#[tokio::test]
async fn csv_sink_resumes_with_one_header_and_each_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let store = Arc::new(FileCheckpointStore::open(dir.path().join("state")).unwrap());
    let runner = SyncRunner::new("csv", store).with_options(options(|o| o.commit_every = 3));
    let source = Source::checkpointed(20);

    let mut sink = Probe::new(CsvSink::create(&out).unwrap());
    sink.fail_write_at = Some(8);
    runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    drop(sink);
    assert_eq!(csv_ids(&out).1, ids(6));
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&out).unwrap();
        f.write_all(b"doc-0006,test,\"half a quoted fi").unwrap();
    }

    let mut sink = CsvSink::create(&out).unwrap();
    runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    let (header, rows) = csv_ids(&out);
    assert_eq!(header[0], "id");
    assert_eq!(header.len(), 11);
    assert_eq!(rows, ids(20));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.matches("id,source,title").count(), 1, "one header");
}

// 3. Back-pressure.

#[tokio::test]
async fn a_slow_sink_bounds_how_far_the_source_runs_ahead() {
    const N: usize = 400;
    for capacity in [1, 4, 32] {
        let written = Arc::new(AtomicUsize::new(0));
        let max_gap = Arc::new(AtomicUsize::new(0));
        let mut source = load_only(N);
        source.gap_probe = Some((written.clone(), max_gap.clone()));
        let mut sink = Probe::new(MemorySink::default());
        sink.written = written.clone();
        sink.slow = true;
        let runner = SyncRunner::new("bp", Arc::new(MemoryCheckpointStore::default()))
            .with_options(options(|o| o.channel_capacity = capacity));

        let report = runner
            .run(&source, &mut sink, SyncMode::Incremental)
            .await
            .unwrap();
        assert_eq!(report.documents_processed, N as u64);
        assert_eq!(sink.inner.documents().len(), N);
        let gap = max_gap.load(Ordering::SeqCst);
        // In flight at most: the channel, the one the producer is sending
        // and the one the sink is writing.
        assert!(
            gap <= capacity + 2,
            "capacity {capacity}: source ran {gap} documents ahead of the sink"
        );
        // ...and the channel really filled up (the bound is the capacity's doing).
        assert!(gap >= capacity, "capacity {capacity}: gap only {gap}");
    }
}

// 4. Source errors and per-document failures.

#[tokio::test]
async fn a_source_error_emits_sync_failed_and_keeps_committed_progress() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let recorder = Arc::new(Recorder::default());
    let runner = SyncRunner::new("conn", Arc::new(MemoryCheckpointStore::default()))
        .with_tenant("acme")
        .with_observer(recorder.clone());
    let source = Source::checkpointed(10);
    source.set_fault(Fault::FatalAt(
        6,
        ErrorKind::NotFound,
        "space ENG does not exist".into(),
    ));

    let mut sink = JsonlSink::create(&out).unwrap();
    let err = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("space ENG does not exist"),
        "{err}"
    );

    let statuses = recorder.statuses();
    assert_eq!(statuses.first(), Some(&SyncStatus::SyncStarted));
    assert!(!statuses.contains(&SyncStatus::SyncCompleted));
    let last = recorder.last();
    assert_eq!(last.status, SyncStatus::SyncFailed);
    assert_eq!(
        last.error_message.as_deref(),
        Some(err.to_string().as_str())
    );
    assert_eq!(last.documents_processed, 6);
    assert_eq!(
        (last.connection_id.as_str(), last.tenant_id.as_str()),
        ("conn", "acme")
    );

    // The documents before the error were committed with their checkpoint
    // (commit_every is 1000: this commit is the error path's).
    assert_eq!(jsonl_ids(&out), ids(6));
    assert_eq!(stored_next(&runner).await, Some(6));

    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(source.resumes(), [None, Some(6)]);
    assert_eq!(report.documents_processed, 4);
    assert_eq!(jsonl_ids(&out), ids(10));
    assert_eq!(recorder.last().status, SyncStatus::SyncCompleted);
}

#[tokio::test]
async fn document_failures_are_counted_and_do_not_stop_the_stream() {
    let recorder = Arc::new(Recorder::default());
    let runner = SyncRunner::new("conn", Arc::new(MemoryCheckpointStore::default()))
        .with_observer(recorder.clone())
        .with_options(options(|o| {
            o.max_reported_failures = 2;
            o.commit_every = 2;
        }));
    let source = Source::checkpointed(10);
    *source.failing.lock().unwrap() = [2, 5, 9].into_iter().map(doc_id).collect();

    let mut sink = MemorySink::default();
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_processed, 7);
    assert_eq!(report.documents_failed, 3);
    let reported: Vec<&str> = report.failures.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        reported,
        ["doc-0002", "doc-0005"],
        "capped at max_reported_failures"
    );
    assert_eq!(report.failures[0].reason, "doc-0002 is unreadable");
    let observed: Vec<String> = recorder
        .failures
        .lock()
        .unwrap()
        .iter()
        .map(|f| f.id.clone())
        .collect();
    assert_eq!(
        observed,
        [doc_id(2), doc_id(5), doc_id(9)],
        "observer sees them all"
    );
    let delivered: Vec<&str> = sink.documents().iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        delivered,
        [
            "doc-0000", "doc-0001", "doc-0003", "doc-0004", "doc-0006", "doc-0007", "doc-0008"
        ]
    );
    let last = recorder.last();
    assert_eq!(last.status, SyncStatus::SyncCompleted);
    assert_eq!((last.documents_processed, last.documents_failed), (7, 3));
}

// 5. Modes and windows.

#[tokio::test]
async fn full_mode_rescans_everything_and_skip_unchanged_decides_reemission() {
    let store = Arc::new(MemoryCheckpointStore::default());
    let runner = SyncRunner::new("conn", store.clone());
    let source = load_only(5);
    let mut sink = MemorySink::default();

    let first = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(first.documents_processed, 5);

    // Full asks for the whole source; with the default skip_unchanged the
    // runner still drops what the sink already holds (documented on
    // SyncMode::Full), and re-delivers only what changed.
    source.edit(&doc_id(2), "v2");
    let full = runner
        .run(&source, &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert!(full.window.is_none(), "a load-only source has no window");
    assert_eq!((full.documents_processed, full.documents_skipped), (1, 4));

    // With skip_unchanged off, Full re-emits every document, none skipped.
    let reemit = SyncRunner::new("conn", store).with_options(options(|o| o.skip_unchanged = false));
    let full = reemit
        .run(&source, &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!((full.documents_processed, full.documents_skipped), (5, 0));
    let ids_in_sink: Vec<&str> = sink.documents().iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids_in_sink.len(), 5 + 1 + 5);
    assert_eq!(ids_in_sink[5], "doc-0002");
    assert_eq!(
        &ids_in_sink[6..],
        ["doc-0000", "doc-0001", "doc-0002", "doc-0003", "doc-0004"]
    );
}

#[tokio::test]
async fn incremental_and_since_windows() {
    let overlap = Duration::from_secs(30);
    let runner = SyncRunner::new("conn", Arc::new(MemoryCheckpointStore::default()))
        .with_options(options(|o| o.overlap = overlap));
    let source = poll_only(3);
    let mut sink = MemorySink::default();

    // First incremental run: everything, from the epoch.
    let before = Utc::now();
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    let after = Utc::now();
    let w1 = source.windows()[0];
    assert_eq!(w1.start, DateTime::<Utc>::UNIX_EPOCH);
    assert!(w1.is_full());
    assert!(before <= w1.end && w1.end <= after, "{w1:?}");
    assert_eq!(report.window, Some(w1));
    assert_eq!(
        runner.state().await.unwrap().unwrap().last_completed,
        Some(w1.end)
    );

    // Second: from the previous end less the overlap, to now.
    let before = Utc::now();
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    let after = Utc::now();
    let w2 = source.windows()[1];
    assert_eq!(
        w2.start,
        w1.end - chrono::Duration::from_std(overlap).unwrap()
    );
    assert!(before <= w2.end && w2.end <= after, "{w2:?}");
    assert_eq!(report.window, Some(w2));
    assert_eq!(report.documents_skipped, 3);

    // Since(t): [t, now), whatever the last completed sync was.
    let t = DateTime::parse_from_rfc3339("2024-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let before = Utc::now();
    runner
        .run(&source, &mut sink, SyncMode::Since(t))
        .await
        .unwrap();
    let after = Utc::now();
    let w3 = source.windows()[2];
    assert_eq!(w3.start, t);
    assert!(before <= w3.end && w3.end <= after, "{w3:?}");

    // Full: from the epoch again.
    runner
        .run(&source, &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert!(source.windows()[3].is_full());
    assert_eq!(
        sink.documents().len(),
        3,
        "nothing changed after the first run"
    );
}

#[tokio::test]
async fn an_interrupted_poll_sync_resumes_the_same_window() {
    let runner = SyncRunner::new("conn", Arc::new(MemoryCheckpointStore::default()))
        .with_options(options(|o| o.commit_every = 1));
    let source = poll_only(5);
    let mut sink = MemorySink::default();
    runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();

    for i in 0..5 {
        source.edit(&doc_id(i), "v2");
    }
    source.set_fault(Fault::FatalAt(
        3,
        ErrorKind::Transient,
        "502 from /search".into(),
    ));
    let err = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    let w2 = source.windows()[1];
    assert!(!w2.is_full());

    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(report.resumed);
    assert_eq!(
        source.windows()[2],
        w2,
        "the interrupted window, not a new one"
    );
    assert_eq!(report.window, Some(w2));
    assert_eq!(
        (report.documents_processed, report.documents_skipped),
        (2, 3),
        "the changed documents delivered before the failure are not resent"
    );
    let v2: Vec<&str> = sink.documents()[5..]
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(
        v2,
        ["doc-0000", "doc-0001", "doc-0002", "doc-0003", "doc-0004"]
    );
}

// 6. Deletion detection.

#[tokio::test]
async fn deletions_are_reported_once_and_skipped_when_the_listing_fails() {
    let recorder = Arc::new(Recorder::default());
    let runner = SyncRunner::new("conn", Arc::new(MemoryCheckpointStore::default()))
        .with_observer(recorder.clone());
    let source = load_and_slim(5);
    let mut sink = MemorySink::default();

    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(
        (report.documents_processed, report.documents_deleted),
        (5, 0)
    );
    assert!(report.deletions_skipped.is_none());

    source.remove(&doc_id(2));
    source.remove(&doc_id(4));
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 2);
    assert_eq!(report.documents_skipped, 3);
    let deleted: BTreeSet<&str> = sink.deleted().iter().map(String::as_str).collect();
    assert_eq!(deleted, BTreeSet::from(["doc-0002", "doc-0004"]));
    assert_eq!(sink.deleted().len(), 2);
    let observed: BTreeSet<String> = recorder.deleted.lock().unwrap().iter().cloned().collect();
    assert_eq!(observed, BTreeSet::from([doc_id(2), doc_id(4)]));
    assert_eq!(recorder.last().documents_deleted, 2);

    // Reported once: the next run finds nothing more.
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 0);
    assert_eq!(sink.deleted().len(), 2);

    // A listing that fails half-way reports nothing deleted.
    source.remove(&doc_id(0));
    *source.slim_fail_after.lock().unwrap() = Some(1);
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 0);
    let why = report
        .deletions_skipped
        .expect("deletion detection skipped");
    assert!(why.contains("503 from /ids?page=2"), "{why}");
    assert_eq!(
        sink.deleted().len(),
        2,
        "no delete sent from a partial listing"
    );

    // ...and the deletion is found by the next healthy listing.
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 1);
    assert_eq!(sink.deleted().last().map(String::as_str), Some("doc-0000"));
}

#[tokio::test]
async fn deletions_reach_the_jsonl_file_as_tombstones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let store = Arc::new(FileCheckpointStore::open(dir.path().join("state")).unwrap());
    let runner = SyncRunner::new("conn", store);
    let source = load_and_slim(3);

    let mut sink = JsonlSink::create(&out).unwrap().with_tombstones(true);
    runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    source.remove(&doc_id(1));
    drop(sink);
    let mut sink = JsonlSink::create(&out).unwrap().with_tombstones(true);
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 1);
    assert_eq!(jsonl_ids(&out), ids(3));
    assert_eq!(
        jsonl_lines(&out).last().unwrap(),
        &serde_json::json!({"id": "doc-0001", "deleted": true})
    );
}

// 7. Cancellation.

#[tokio::test]
async fn cancellation_commits_accepted_documents_and_a_rerun_completes_without_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let store = Arc::new(FileCheckpointStore::open(dir.path().join("state")).unwrap());
    let token = CancellationToken::new();
    let recorder = Arc::new(Recorder::default());
    let runner = SyncRunner::new("conn", store.clone())
        .with_cancellation(token.clone())
        .with_observer(recorder.clone());
    let source = Source::checkpointed(30);

    // Cancelled (by a host, say on Ctrl-C) while the 10th document is written.
    let mut sink = Probe::new(JsonlSink::create(&out).unwrap());
    sink.cancel_at_write = Some((10, token.clone()));
    let err = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    drop(sink);
    let last = recorder.last();
    assert_eq!(last.status, SyncStatus::SyncFailed);
    assert!(last.error_message.unwrap().contains("cancelled"));
    // commit_every is 1000: the ten documents are on disk because
    // cancellation committed them.
    assert_eq!(jsonl_ids(&out), ids(10));
    assert_eq!(stored_next(&runner).await, Some(9));

    // The cancelled token stays cancelled: the rerun gets a fresh runner.
    let rerun = SyncRunner::new("conn", store);
    let mut sink = JsonlSink::create(&out).unwrap();
    let report = rerun
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(report.resumed);
    assert_eq!(source.resumes(), [None, Some(9)]);
    assert_eq!(report.documents_processed, 20);
    assert_eq!(jsonl_ids(&out), ids(30));
}

#[tokio::test]
async fn cancellation_during_the_id_listing_returns_cancelled_and_the_rerun_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let store = Arc::new(MemoryCheckpointStore::default());
    let token = CancellationToken::new();
    let mut source = load_and_slim(5);
    source.slim_cancels = Some(token.clone());
    let runner = SyncRunner::new("conn", store.clone()).with_cancellation(token);

    let mut sink = JsonlSink::create(&out).unwrap();
    let err = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    drop(sink);

    source.slim_cancels = None;
    let mut sink = JsonlSink::create(&out).unwrap();
    SyncRunner::new("conn", store)
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(jsonl_ids(&out), ids(5));
}

// 8. Event JSON shapes.

const SYNC_EVENT_KEYS: [&str; 10] = [
    // SPEC.md: {"type":"sync","connection_id","tenant_id","status",
    // "documents_processed","error_message","timestamp"} ...
    "type",
    "connection_id",
    "tenant_id",
    "status",
    "documents_processed",
    "error_message",
    "timestamp",
    // ... plus the other counters.
    "documents_skipped",
    "documents_failed",
    "documents_deleted",
];

fn event_json(event: &SyncEvent) -> serde_json::Map<String, serde_json::Value> {
    let value = serde_json::to_value(event).unwrap();
    let back: SyncEvent = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(&back, event, "round-trips");
    let object = value.as_object().unwrap().clone();
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(SYNC_EVENT_KEYS));
    assert_eq!(object["type"], "sync");
    assert_eq!(object["connection_id"], "docs");
    assert_eq!(object["tenant_id"], "acme");
    let ts = object["timestamp"].as_str().expect("timestamp is a string");
    DateTime::parse_from_rfc3339(ts).expect("timestamp is RFC 3339");
    object
}

#[tokio::test]
async fn sync_events_serialise_to_the_spec_shape() {
    let recorder = Arc::new(Recorder::default());
    let runner = SyncRunner::new("docs", Arc::new(MemoryCheckpointStore::default()))
        .with_tenant("acme")
        .with_observer(recorder.clone());
    let source = Source::checkpointed(3);
    source.failing.lock().unwrap().insert(doc_id(1));
    let mut sink = MemorySink::default();
    runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();

    let events = recorder.events();
    let started = event_json(events.first().unwrap());
    assert_eq!(started["status"], "sync_started");
    assert_eq!(started["documents_processed"], 0);
    assert!(started["error_message"].is_null());
    let completed = event_json(events.last().unwrap());
    assert_eq!(completed["status"], "sync_completed");
    assert_eq!(completed["documents_processed"], 2);
    assert_eq!(completed["documents_failed"], 1);
    assert!(completed["error_message"].is_null());
    for progress in &events[1..events.len() - 1] {
        assert_eq!(event_json(progress)["status"], "sync_progress");
    }

    source.edit(&doc_id(0), "v2");
    source.set_fault(Fault::FatalAt(2, ErrorKind::Auth, "token expired".into()));
    let err = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    let failed = event_json(&recorder.last());
    assert_eq!(failed["status"], "sync_failed");
    assert_eq!(failed["error_message"], err.to_string());
    assert_eq!(
        failed["error_message"],
        "authentication failed: token expired"
    );
    assert_eq!(failed["documents_processed"], 1);
}

#[tokio::test]
async fn verification_events_serialise_to_the_spec_shape() {
    let runner =
        SyncRunner::new("docs", Arc::new(MemoryCheckpointStore::default())).with_tenant("acme");
    let mut source = Source::checkpointed(0);
    let ok = serde_json::to_value(runner.verify(&source).await).unwrap();
    assert_eq!(
        ok,
        serde_json::json!({"type":"verification","connection_id":"docs","tenant_id":"acme",
            "status":"success","options":{"spaces":"ENG,PROD"},"error":null})
    );

    source.valid = false;
    let failed = serde_json::to_value(runner.verify(&source).await).unwrap();
    assert_eq!(
        failed,
        serde_json::json!({"type":"verification","connection_id":"docs","tenant_id":"acme",
            "status":"failed","options":{},"error":"authentication failed: API token rejected"})
    );
}

// 9. Regressions.

/// Skipped documents count towards `commit_every` like written ones, so a
/// crash after a million unchanged documents does not restart from the
/// beginning.
#[tokio::test]
async fn skipped_documents_still_advance_the_committed_checkpoint() {
    let store = Arc::new(MemoryCheckpointStore::default());
    let reached = Arc::new(tokio::sync::Notify::new());
    let recorder = Arc::new(Recorder {
        on_skipped: Some((15, reached.clone())),
        ..Recorder::default()
    });
    let tune = |o: &mut RunnerOptions| {
        o.commit_every = 1;
        o.commit_interval = Duration::ZERO;
        o.progress_every = 1;
    };
    let runner = SyncRunner::new("conn", store.clone())
        .with_options(options(tune))
        .with_observer(recorder);
    let source = Source::checkpointed(20);
    let mut sink = MemorySink::default();
    runner
        .run(&source, &mut sink, SyncMode::Full)
        .await
        .unwrap();

    // A full resync over an unchanged source; the process dies (the run
    // future is dropped) after 15 skipped documents.
    source.set_fault(Fault::HangAt(15));
    tokio::select! {
        result = runner.run(&source, &mut sink, SyncMode::Full) => panic!("run ended: {result:?}"),
        () = reached.notified() => {}
    }
    let next = stored_next(&runner).await;
    assert!(
        next.is_some_and(|n| n >= 14),
        "15 documents were passed with commit_every = 1, but the stored checkpoint is {next:?}"
    );
}

/// `with_cancellation` promises that "the run commits what the sink has
/// accepted": the stream's documents are committed before the id listing
/// starts, so a cancellation during it throws nothing away.
#[tokio::test]
async fn cancellation_during_the_id_listing_commits_delivered_documents() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let store = Arc::new(MemoryCheckpointStore::default());
    let token = CancellationToken::new();
    let mut source = load_and_slim(5);
    source.slim_cancels = Some(token.clone());
    let runner = SyncRunner::new("conn", store.clone()).with_cancellation(token);

    let mut sink = JsonlSink::create(&out).unwrap();
    let err = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(jsonl_ids(&out), ids(5), "accepted documents are committed");

    source.slim_cancels = None;
    let report = SyncRunner::new("conn", store)
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_processed, 0, "nothing fetched twice");
}

/// `SyncReport::window` is `None` for a connector that can only load
/// everything.
#[tokio::test]
async fn a_load_only_connector_reports_no_window() {
    let runner = SyncRunner::new("conn", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = MemorySink::default();
    let report = runner
        .run(&load_only(2), &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.window, None);
}

#[tokio::test]
async fn state_is_kept_per_connection_in_one_store() {
    // Two connections share a store without touching each other's state.
    let store: Arc<dyn CheckpointStore> = Arc::new(MemoryCheckpointStore::default());
    let a = SyncRunner::new("a", store.clone());
    let b = SyncRunner::new("b", store);
    let (mut sa, mut sb) = (MemorySink::default(), MemorySink::default());
    a.run(&load_only(3), &mut sa, SyncMode::Incremental)
        .await
        .unwrap();
    let report = b
        .run(&load_only(3), &mut sb, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_processed, 3, "b's index is its own");
    let report = a
        .run(&load_only(3), &mut sa, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_skipped, 3);
}
