//! The fs source against a hostile or unlucky filesystem: names that are not
//! UTF-8, files swapped for symbolic links or FIFOs while a sync runs, and
//! the sync's own output inside the tree it walks.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use connector_core::checkpoint::MemoryCheckpointStore;
use connector_core::runner::{SyncMode, SyncRunner};
use connector_core::sink::MemorySink;
use connector_core::{Connector, Item, LoadConnector};
use connector_fs::{FsConfig, FsConnector};
use futures::StreamExt;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn load(connector: &FsConnector) -> Vec<Item> {
    connector
        .load()
        .map(|item| item.unwrap())
        .filter(|item| std::future::ready(!matches!(item, Item::Checkpoint(_))))
        .collect()
        .await
}

fn sorted_ids(sink: &MemorySink) -> Vec<String> {
    let mut ids: Vec<String> = sink.documents().iter().map(|d| d.id.clone()).collect();
    ids.sort();
    ids
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// The text a document carries, sections and attachment bytes alike.
fn all_text(item: &Item) -> String {
    match item {
        Item::Document(doc) => {
            let mut text: String = doc.sections.iter().map(|s| s.text.as_str()).collect();
            for a in &doc.attachments {
                if let Some(bytes) = &a.bytes {
                    text.push_str(&String::from_utf8_lossy(bytes));
                }
            }
            text
        }
        _ => String::new(),
    }
}

// ---------------------------------------------------------------- ids

#[tokio::test]
async fn raw_byte_and_escape_look_alike_names_get_distinct_stable_ids() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    fs::write(root.join(OsStr::from_bytes(b"a\xFF.txt")), "raw byte").unwrap();
    fs::write(root.join("a\\xFF.txt"), "backslash text").unwrap();
    fs::write(root.join("a%FF.txt"), "percent text").unwrap();
    fs::create_dir(root.join(OsStr::from_bytes(b"d\xFE"))).unwrap();
    fs::write(root.join(OsStr::from_bytes(b"d\xFE/x.txt")), "nested").unwrap();

    let connector = FsConnector::new(root, FsConfig::default()).unwrap();
    let runner = SyncRunner::new("fs", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = MemorySink::default();
    let first = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(
        sorted_ids(&sink),
        ["a%25FF.txt", "a%FF.txt", "a\\xFF.txt", "d%FE/x.txt"]
    );
    assert_eq!(first.documents_processed, 4);
    let text_of = |id: &str| {
        sink.documents()
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.sections[0].text.clone())
            .unwrap()
    };
    assert_eq!(text_of("a%FF.txt"), "raw byte");
    assert_eq!(text_of("a\\xFF.txt"), "backslash text");
    assert_eq!(text_of("a%25FF.txt"), "percent text");

    // Stable: a second run finds every id unchanged.
    let second = runner
        .run(&connector, &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(
        (second.documents_processed, second.documents_skipped),
        (0, 4)
    );

    // Removing the raw-byte file is a deletion of exactly its id.
    fs::remove_file(root.join(OsStr::from_bytes(b"a\xFF.txt"))).unwrap();
    let third = runner
        .run(&connector, &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(third.documents_deleted, 1);
    assert_eq!(sink.deleted(), ["a%FF.txt"]);
}

// ------------------------------------------------- swaps while syncing

/// Moves `path` back and forth between a regular file and `other` (a
/// symbolic link or a FIFO waiting in `staging`) until stopped.
struct Flipper {
    stop: Arc<AtomicBool>,
    flips: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flipper {
    fn start(path: PathBuf, staging: &Path) -> Self {
        let regular = staging.join("regular");
        let other = staging.join("other");
        let stop = Arc::new(AtomicBool::new(false));
        let flips = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, flips) = (stop.clone(), flips.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    fs::rename(&path, &regular).unwrap();
                    fs::rename(&other, &path).unwrap();
                    std::thread::yield_now();
                    fs::rename(&path, &other).unwrap();
                    fs::rename(&regular, &path).unwrap();
                    flips.fetch_add(1, Ordering::Relaxed);
                    std::thread::yield_now();
                }
            })
        };
        Self {
            stop,
            flips,
            thread: Some(thread),
        }
    }

    fn stop(mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        self.flips.load(Ordering::Relaxed)
    }
}

#[test]
fn a_file_flipping_to_a_symlink_during_syncs_never_leaks_the_target() {
    const SECRET: &str = "TOP-SECRET-5f3a9c";
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("tree");
    let staging = scratch.path().join("staging");
    fs::create_dir_all(&tree).unwrap();
    fs::create_dir_all(&staging).unwrap();
    let secret = scratch.path().join("secret.txt");
    fs::write(&secret, SECRET).unwrap();
    for i in 0..4 {
        fs::write(tree.join(format!("steady{i}.txt")), "steady").unwrap();
    }
    fs::write(tree.join("flip.txt"), "public text").unwrap();
    std::os::unix::fs::symlink(&secret, staging.join("other")).unwrap();

    let connector = FsConnector::new(&tree, FsConfig::default()).unwrap();
    let rt = runtime();
    let flipper = Flipper::start(tree.join("flip.txt"), &staging);
    let (mut leaks, mut read_ok, mut refused, mut rounds) = (Vec::new(), 0, 0, 0);
    let started = Instant::now();
    while rounds < 1500 && started.elapsed() < Duration::from_secs(8) {
        rounds += 1;
        let items = rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(10), load(&connector)).await
            })
            .expect("a sync finished");
        for item in &items {
            if all_text(item).contains(SECRET) {
                leaks.push(format!("{item:?}"));
            }
            match item {
                Item::Document(d) if d.id == "flip.txt" => read_ok += 1,
                Item::Failure(f) if f.id == "flip.txt" => refused += 1,
                _ => {}
            }
        }
    }
    let flips = flipper.stop();
    assert!(
        leaks.is_empty(),
        "{} documents carried the symlink target's text, e.g. {}",
        leaks.len(),
        leaks[0]
    );
    assert!(flips > 0 && read_ok > 0, "{flips} flips, {read_ok} reads");
    eprintln!("{rounds} syncs, {flips} flips: {read_ok} reads, {refused} refused");
}

#[test]
fn a_file_flipping_to_a_fifo_never_blocks_a_sync_or_shutdown() {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("tree");
    let staging = scratch.path().join("staging");
    fs::create_dir_all(&tree).unwrap();
    fs::create_dir_all(&staging).unwrap();
    fs::write(tree.join("steady.txt"), "steady").unwrap();
    fs::write(tree.join("flip.txt"), "public text").unwrap();
    mkfifo(&staging.join("other"));

    let connector = FsConnector::new(&tree, FsConfig::default()).unwrap();
    let rt = runtime();
    let flipper = Flipper::start(tree.join("flip.txt"), &staging);
    let (mut hung, mut refused, mut rounds) = (false, Vec::new(), 0);
    let started = Instant::now();
    while rounds < 1500 && started.elapsed() < Duration::from_secs(8) {
        rounds += 1;
        // Never panic while the runtime may hold a blocked thread: the
        // unwinding drop of the runtime would wait for it forever.
        let Ok(items) = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), load(&connector)).await
        }) else {
            hung = true;
            break;
        };
        for item in items {
            if let Item::Failure(f) = item {
                refused.push(f.reason);
            }
        }
    }
    let flips = flipper.stop();
    let shutdown = Instant::now();
    rt.shutdown_timeout(Duration::from_secs(5));
    let shutdown = shutdown.elapsed();
    assert!(!hung, "a sync blocked on a FIFO (round {rounds})");
    assert!(
        shutdown < Duration::from_secs(2),
        "a blocking read outlived the sync by {shutdown:?}"
    );
    assert!(
        refused.iter().any(|r| r.contains("FIFO")),
        "{rounds} syncs, {flips} flips, never saw the FIFO: {refused:?}"
    );
}

#[test]
fn fifos_and_sockets_in_the_tree_are_failures_not_hangs() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    fs::write(root.join("a.txt"), "alpha").unwrap();
    mkfifo(&root.join("pipe.txt"));
    let _listener = std::os::unix::net::UnixListener::bind(root.join("sock.txt")).unwrap();

    let connector = FsConnector::new(root, FsConfig::default()).unwrap();
    let rt = runtime();
    let items = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), load(&connector)).await });
    rt.shutdown_timeout(Duration::from_secs(1));
    let items = items.expect("the sync finished");
    let mut failures: Vec<(String, String)> = items
        .iter()
        .filter_map(|i| match i {
            Item::Failure(f) => Some((f.id.clone(), f.reason.clone())),
            _ => None,
        })
        .collect();
    failures.sort();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert_eq!(failures[0].0, "pipe.txt");
    assert!(failures[0].1.contains("FIFO"), "{failures:?}");
    assert_eq!(failures[1].0, "sock.txt");
    assert!(failures[1].1.contains("socket"), "{failures:?}");
    assert!(items.iter().any(
        |i| matches!(i, Item::Document(d) if d.id == "a.txt" && d.sections[0].text == "alpha")
    ));
}

// ------------------------------------------- the sync's own files

fn ids(items: &[Item]) -> Vec<String> {
    let mut ids: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Document(d) => Some(d.id.clone()),
            Item::Failure(f) => panic!("unexpected failure {f:?}"),
            _ => None,
        })
        .collect();
    ids.sort();
    ids
}

/// `path` (absolute) spelled relative to the current directory.
fn relative_to_cwd(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap();
    let mut rel = PathBuf::new();
    for _ in cwd.components().skip(1) {
        rel.push("..");
    }
    rel.push(path.strip_prefix("/").unwrap());
    rel
}

/// A tree holding two real documents, an output file and a state directory.
fn tree_with_own_files() -> (tempfile::TempDir, PathBuf) {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("tree");
    fs::create_dir_all(tree.join("notes")).unwrap();
    fs::create_dir_all(tree.join("state/deeper")).unwrap();
    fs::write(tree.join("notes/a.md"), "# Alpha").unwrap();
    fs::write(tree.join("b.txt"), "beta").unwrap();
    fs::write(tree.join("out.jsonl"), "{\"id\":\"b.txt\"}\n").unwrap();
    fs::write(tree.join("state/fs.state.json"), "{}").unwrap();
    fs::write(tree.join("state/deeper/index.log"), "index").unwrap();
    (scratch, tree)
}

#[tokio::test]
async fn an_excluded_file_and_directory_are_never_walked() {
    let (_scratch, tree) = tree_with_own_files();
    let everything = FsConnector::new(&tree, FsConfig::default()).unwrap();
    assert_eq!(ids(&load(&everything).await).len(), 5);

    // Absolute file, relative directory.
    let config = FsConfig::default()
        .exclude_path(tree.join("out.jsonl"))
        .exclude_path(relative_to_cwd(&tree.join("state")));
    let connector = FsConnector::new(&tree, config).unwrap();
    assert_eq!(ids(&load(&connector).await), ["b.txt", "notes/a.md"]);

    // The id listing leaves them out too, so a sync that once ingested
    // them reports them deleted.
    let listed: Vec<String> = connector
        .as_slim()
        .unwrap()
        .slim()
        .map(|d| d.unwrap().id)
        .collect()
        .await;
    assert_eq!(listed, ["b.txt", "notes/a.md"]);
}

#[tokio::test]
async fn an_exclusion_matches_through_symlinked_parents_dots_and_hard_links() {
    let (scratch, tree) = tree_with_own_files();
    let alias = scratch.path().join("alias");
    std::os::unix::fs::symlink(&tree, &alias).unwrap();
    let elsewhere = scratch.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::hard_link(tree.join("b.txt"), elsewhere.join("same-inode.txt")).unwrap();

    let config = FsConfig::default()
        .exclude_path(alias.join("out.jsonl"))
        .exclude_path(tree.join("notes/../state"))
        .exclude_path(elsewhere.join("same-inode.txt"));
    let connector = FsConnector::new(&tree, config).unwrap();
    assert_eq!(ids(&load(&connector).await), ["notes/a.md"]);

    // The tree reached through the symlink excludes the same paths.
    let config = FsConfig::default()
        .exclude_path(tree.join("out.jsonl"))
        .exclude_path(tree.join("state"));
    let connector = FsConnector::new(&alias, config).unwrap();
    assert_eq!(ids(&load(&connector).await), ["b.txt", "notes/a.md"]);
}

#[tokio::test]
async fn an_excluded_path_created_after_the_connector_is_left_out() {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("tree");
    fs::create_dir(&tree).unwrap();
    fs::write(tree.join("b.txt"), "beta").unwrap();
    let config = FsConfig::default()
        .exclude_path(tree.join("out.jsonl"))
        .exclude_path(tree.join("state"));
    let connector = FsConnector::new(&tree, config).unwrap();
    assert_eq!(ids(&load(&connector).await), ["b.txt"]);

    fs::write(tree.join("out.jsonl"), "{}\n").unwrap();
    fs::create_dir(tree.join("state")).unwrap();
    fs::write(tree.join("state/x.json"), "{}").unwrap();
    assert_eq!(ids(&load(&connector).await), ["b.txt"]);
}

#[tokio::test]
async fn a_sync_that_once_ingested_its_output_reports_it_deleted() {
    let (_scratch, tree) = tree_with_own_files();
    // Three of five documents go: past the default mass-deletion share.
    let mut options = connector_core::runner::RunnerOptions::default();
    options.allow_mass_delete = true;
    let runner =
        SyncRunner::new("fs", Arc::new(MemoryCheckpointStore::default())).with_options(options);
    let mut sink = MemorySink::default();
    let before = FsConnector::new(&tree, FsConfig::default()).unwrap();
    runner
        .run(&before, &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(sink.documents().len(), 5);

    let config = FsConfig::default()
        .exclude_path(tree.join("out.jsonl"))
        .exclude_path(tree.join("state"));
    let after = FsConnector::new(&tree, config).unwrap();
    let report = runner.run(&after, &mut sink, SyncMode::Full).await.unwrap();
    assert_eq!(report.documents_deleted, 3);
    let mut deleted = sink.deleted().to_vec();
    deleted.sort();
    assert_eq!(
        deleted,
        ["out.jsonl", "state/deeper/index.log", "state/fs.state.json"]
    );
}
