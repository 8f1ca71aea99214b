//! The runner against unlucky operators and hostile sources: a listing that
//! sees nothing, two syncs of one connection, a state pointed at another
//! output, an index cut short, ids too long to record, a kill during the
//! id listing, and the modes of the files it creates.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use connector_core::checkpoint::{CheckpointStore, FileCheckpointStore, MemoryCheckpointStore};
use connector_core::runner::{RunnerOptions, SyncMode, SyncRunner, SyncWarning};
use connector_core::sink::{JsonlSink, MemorySink, Sink};
use connector_core::{ErrorKind, content_index::MAX_ID_BYTES};
use support::{Caps, Fault, Recorder, Source, doc_id, ids, jsonl_ids};
use tokio::sync::Notify;

fn options(tune: impl FnOnce(&mut RunnerOptions)) -> RunnerOptions {
    let mut options = RunnerOptions::default();
    tune(&mut options);
    options
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

fn checkpointed_and_slim(n: usize) -> Source {
    Source::new(
        Caps {
            checkpointed: true,
            slim: true,
            ..Caps::default()
        },
        n,
    )
}

// Mass deletions.

#[tokio::test]
async fn a_listing_that_sees_nothing_deletes_nothing_whatever_the_share() {
    let store = Arc::new(MemoryCheckpointStore::default());
    let recorder = Arc::new(Recorder::default());
    let source = load_and_slim(6);
    let mut sink = MemorySink::default();
    SyncRunner::new("conn", store.clone())
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();

    // The id listing now answers the wrong shape, decoded as "no ids".
    source.slim_lists_nothing.store(true, Ordering::SeqCst);
    let refused = SyncWarning::MassDeletionRefused {
        would_delete: 6,
        held: 6,
        listed: 0,
        max_share: 1.0,
    };
    // Even a host that allows any share never gets everything deleted
    // from a listing that saw nothing.
    let runner = SyncRunner::new("conn", store.clone())
        .with_options(options(|o| o.max_deletion_share = 1.0))
        .with_observer(recorder.clone());
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 0);
    assert_eq!(report.warnings, std::slice::from_ref(&refused));
    assert_eq!(*recorder.warnings.lock().unwrap(), [refused]);
    assert!(sink.deleted().is_empty(), "no delete reached the sink");
    assert!(recorder.deleted.lock().unwrap().is_empty());
    assert_eq!(recorder.last().documents_deleted, 0);

    // The documents are still known: an explicit opt-in deletes them.
    let report = SyncRunner::new("conn", store)
        .with_options(options(|o| o.allow_mass_delete = true))
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 6);
    assert!(report.warnings.is_empty());
    assert_eq!(sink.deleted().len(), 6);
}

#[tokio::test]
async fn more_than_half_is_refused_whole_until_allowed_and_half_goes_through() {
    let store = Arc::new(MemoryCheckpointStore::default());
    let source = load_and_slim(10);
    let mut sink = MemorySink::default();
    let runner = SyncRunner::new("conn", store.clone());
    runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();

    for i in 0..6 {
        source.remove(&doc_id(i));
    }
    for _ in 0..2 {
        // Refused, and refused again on the next run: nothing is lost by
        // waiting for a person to decide.
        let report = runner
            .run(&source, &mut sink, SyncMode::Incremental)
            .await
            .unwrap();
        assert_eq!(report.documents_deleted, 0);
        assert_eq!(
            report.warnings,
            [SyncWarning::MassDeletionRefused {
                would_delete: 6,
                held: 10,
                listed: 4,
                max_share: 0.5,
            }]
        );
        let text = report.warnings[0].to_string();
        assert!(
            text.contains("refused to delete 6 of the 10 documents")
                && text.contains("more than 50%")
                && text.contains("nothing was deleted"),
            "{text}"
        );
        assert!(sink.deleted().is_empty());
    }

    let report = SyncRunner::new("conn", store.clone())
        .with_options(options(|o| o.allow_mass_delete = true))
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 6);

    // Exactly the share is allowed: 2 of the 4 left.
    source.remove(&doc_id(6));
    source.remove(&doc_id(7));
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 2);
    assert!(report.warnings.is_empty());
}

#[tokio::test]
async fn a_failed_listing_is_a_warning_too() {
    let recorder = Arc::new(Recorder::default());
    let runner = SyncRunner::new("conn", Arc::new(MemoryCheckpointStore::default()))
        .with_observer(recorder.clone());
    let source = load_and_slim(3);
    *source.slim_fail_after.lock().unwrap() = Some(1);
    let report = runner
        .run(&source, &mut MemorySink::default(), SyncMode::Incremental)
        .await
        .unwrap();
    assert!(matches!(
        report.warnings.as_slice(),
        [SyncWarning::DeletionListingFailed { reason }] if reason.contains("503 from /ids?page=2")
    ));
    assert_eq!(recorder.warnings.lock().unwrap().len(), 1);
}

// The end-of-sync commit comes before the id listing.

#[tokio::test]
async fn a_kill_during_a_slow_id_listing_does_not_redo_the_streams_documents() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let store = Arc::new(FileCheckpointStore::open(dir.path().join("state")).unwrap());
    let listing = Arc::new(Notify::new());
    let mut source = checkpointed_and_slim(40);
    source.slim_started = Some(listing.clone());
    source.slim_hangs = true;

    // The process dies (the run future is dropped) while the id listing runs.
    let mut sink = JsonlSink::create(&out).unwrap();
    let runner = SyncRunner::new("conn", store.clone());
    tokio::select! {
        result = runner.run(&source, &mut sink, SyncMode::Incremental) => panic!("run ended: {result:?}"),
        () = listing.notified() => {}
    }
    drop(sink);
    assert_eq!(jsonl_ids(&out), ids(40), "delivered before the listing");

    source.slim_hangs = false;
    let mut sink = JsonlSink::create(&out).unwrap();
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(report.resumed);
    assert_eq!(source.resumes(), [None, Some(40)], "resumed past the end");
    assert_eq!(report.documents_processed, 0, "nothing delivered twice");
    assert_eq!(jsonl_ids(&out), ids(40));
}

// Two syncs of one connection.

#[tokio::test]
async fn a_second_sync_of_the_same_state_fails_at_once_and_names_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let source = Source::checkpointed(10);
    source.set_fault(Fault::HangAt(5));
    let first = SyncRunner::new("conn", Arc::new(FileCheckpointStore::open(&state).unwrap()));
    // Another handle on the same directory, as another process would open it.
    let second = SyncRunner::new("conn", Arc::new(FileCheckpointStore::open(&state).unwrap()));
    let mut first_sink = MemorySink::default();
    let mut second_sink = MemorySink::default();

    let err = tokio::select! {
        result = first.run(&source, &mut first_sink, SyncMode::Incremental) => panic!("first run ended: {result:?}"),
        err = async {
            while source.produced.load(Ordering::SeqCst) < 5 {
                tokio::task::yield_now().await;
            }
            second.run(&Source::checkpointed(3), &mut second_sink, SyncMode::Incremental).await.unwrap_err()
        } => err,
    };
    assert_eq!(err.kind(), ErrorKind::Io);
    let text = err.to_string();
    assert!(
        text.contains(&state.join("conn.lock").display().to_string()),
        "{text}"
    );
    assert!(text.contains("in use by another sync"), "{text}");
    assert!(second_sink.documents().is_empty());

    // The lock went with the first run: the connection syncs again.
    let report = second
        .run(
            &Source::checkpointed(10),
            &mut second_sink,
            SyncMode::Incremental,
        )
        .await
        .unwrap();
    assert!(report.resumed);
}

// The state names its output.

#[tokio::test]
async fn a_state_pointed_at_another_existing_output_refuses_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let store = Arc::new(FileCheckpointStore::open(dir.path().join("state")).unwrap());
    let runner = SyncRunner::new("conn", store);
    let source = Source::checkpointed(5);
    runner
        .run(
            &source,
            &mut JsonlSink::create(&a).unwrap(),
            SyncMode::Incremental,
        )
        .await
        .unwrap();

    let precious = "{\"id\":\"someone else's\"}\n".repeat(1000);
    std::fs::write(&b, &precious).unwrap();
    let err = runner
        .run(&source, &mut JsonlSink::create(&b).unwrap(), SyncMode::Full)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = err.to_string();
    let (a, b) = (a.canonicalize().unwrap(), b.canonicalize().unwrap());
    assert!(text.contains(&a.display().to_string()), "{text}");
    assert!(text.contains(&b.display().to_string()), "{text}");
    assert_eq!(std::fs::read_to_string(&b).unwrap(), precious, "untouched");
}

#[tokio::test]
async fn the_output_is_named_before_the_first_commit() {
    // A first run dies before its first commit; the next run, given
    // another file, must not empty that file.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let store = Arc::new(FileCheckpointStore::open(dir.path().join("state")).unwrap());
    let runner = SyncRunner::new("conn", store);
    let source = Source::checkpointed(5);
    source.set_fault(Fault::HangAt(0));
    {
        let mut sink = JsonlSink::create(&a).unwrap();
        let run = runner.run(&source, &mut sink, SyncMode::Incremental);
        tokio::select! {
            result = run => panic!("run ended: {result:?}"),
            () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
        }
    }
    std::fs::write(&b, b"{\"id\":\"keep\"}\n").unwrap();
    let err = runner
        .run(
            &source,
            &mut JsonlSink::create(&b).unwrap(),
            SyncMode::Incremental,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("belongs to the output"), "{err}");
    assert_eq!(std::fs::read(&b).unwrap(), b"{\"id\":\"keep\"}\n");
}

#[tokio::test]
async fn a_state_written_before_outputs_were_named_still_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let store = Arc::new(FileCheckpointStore::open(dir.path().join("state")).unwrap());
    let runner = SyncRunner::new("conn", store.clone()).with_options(options(|o| {
        o.commit_every = 4;
    }));
    let source = Source::checkpointed(12);
    source.set_fault(Fault::FatalAt(9, ErrorKind::Transient, "503".into()));
    runner
        .run(
            &source,
            &mut JsonlSink::create(&out).unwrap(),
            SyncMode::Incremental,
        )
        .await
        .unwrap_err();

    // Rewrite the stored state as the previous layout had it: the sink
    // position is a bare byte count.
    let mut state: serde_json::Value =
        serde_json::from_slice(&store.load("conn").await.unwrap().unwrap()).unwrap();
    let bytes = state["sink"]["bytes"].clone();
    assert!(state["sink"]["path"].is_string() && state["sink"]["tail"].is_string());
    state["sink"] = serde_json::json!({ "bytes": bytes });
    store
        .save("conn", &serde_json::to_vec(&state).unwrap())
        .await
        .unwrap();

    let report = runner
        .run(
            &source,
            &mut JsonlSink::create(&out).unwrap(),
            SyncMode::Incremental,
        )
        .await
        .unwrap();
    assert!(report.resumed);
    assert_eq!(jsonl_ids(&out), ids(12), "each document once");
}

// The content index.

#[tokio::test]
async fn an_index_removed_behind_the_runners_back_is_an_error_not_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let state = dir.path().join("state");
    let runner = SyncRunner::new("conn", Arc::new(FileCheckpointStore::open(&state).unwrap()));
    let source = Source::checkpointed(50);
    runner
        .run(
            &source,
            &mut JsonlSink::create(&out).unwrap(),
            SyncMode::Incremental,
        )
        .await
        .unwrap();
    let before = std::fs::read(&out).unwrap();

    std::fs::remove_file(state.join("conn.index")).unwrap();
    let err = runner
        .run(
            &source,
            &mut JsonlSink::create(&out).unwrap(),
            SyncMode::Full,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let text = err.to_string();
    assert!(
        text.contains("holds 0 bytes but the sync state committed"),
        "{text}"
    );
    assert!(text.contains("sync again from scratch"), "{text}");
    assert_eq!(std::fs::read(&out).unwrap(), before, "output untouched");
}

// Ids the index cannot record.

#[tokio::test]
async fn an_id_too_long_to_record_is_one_failure_and_the_sync_goes_on() {
    let recorder = Arc::new(Recorder::default());
    let runner = SyncRunner::new("conn", Arc::new(MemoryCheckpointStore::default()))
        .with_observer(recorder.clone());
    let source = Source::checkpointed(2);
    let long = "é".repeat(MAX_ID_BYTES); // two bytes each
    source.push(&long, "body");
    source.push("after", "body");
    let mut sink = MemorySink::default();
    let report = runner
        .run(&source, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_processed, 3);
    assert_eq!(report.documents_failed, 1);
    let failure = &report.failures[0];
    assert!(failure.id.len() < 300, "the id is cut for the report");
    assert!(
        failure.reason.contains(&format!(
            "{} bytes long, over the limit of {MAX_ID_BYTES}",
            long.len()
        )),
        "{}",
        failure.reason
    );
    let written: Vec<&str> = sink.documents().iter().map(|d| d.id.as_str()).collect();
    assert_eq!(written, ["doc-0000", "doc-0001", "after"]);
}

// File modes.

#[cfg(unix)]
#[tokio::test]
async fn state_and_output_files_are_private_unless_the_host_says_otherwise() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();

    let state = dir.path().join("state");
    let out = dir.path().join("out.jsonl");
    SyncRunner::new("conn", Arc::new(FileCheckpointStore::open(&state).unwrap()))
        .run(
            &Source::checkpointed(3),
            &mut JsonlSink::create(&out).unwrap(),
            SyncMode::Incremental,
        )
        .await
        .unwrap();
    assert_eq!(mode(&state), 0o700);
    for file in ["conn.state.json", "conn.index", "conn.lock"] {
        assert_eq!(mode(&state.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&out), 0o600);

    let shared = dir.path().join("shared");
    let out = dir.path().join("shared.jsonl");
    let store = FileCheckpointStore::open(&shared)
        .unwrap()
        .with_file_mode(0o640);
    let mut sink = JsonlSink::create_with_mode(&out, 0o640).unwrap();
    SyncRunner::new("conn", Arc::new(store))
        .run(&Source::checkpointed(3), &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    sink.commit().await.unwrap();
    for file in ["conn.state.json", "conn.index", "conn.lock"] {
        assert_eq!(mode(&shared.join(file)), 0o640, "{file}");
    }
    assert_eq!(mode(&out), 0o640);
}
