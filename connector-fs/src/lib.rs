//! # connector-fs
//!
//! A local directory as a source: every file becomes a [`Document`] — text
//! files as a text section, other files as an attachment entry with type and
//! size. The walk respects `.gitignore`, `.ignore` and `.connectorignore`
//! files plus your own patterns, runs in name order so a checkpoint (the last
//! path done) resumes exactly, and polls by modification time.
//!
//! - [`FsConnector`]: the connector (load, poll, checkpointed, slim).
//! - [`FsConfig`]: what to walk and how.
//! - [`path_id`]: a file's document id.
//!
//! **Ids.** A document's id is its path relative to the root with `/`
//! between names. Bytes that are not UTF-8 are written `%XX` and `%` itself
//! `%25`, so ordinary names read as they are and two distinct paths never
//! share an id (see [`path_id`]). Ids of names holding `%` or non-UTF-8
//! bytes changed once from earlier releases, which wrote such bytes as `\xNN`.
//!
//! **A tree that changes under the sync.** A file is read only if the open
//! handle is the regular file the walk listed (same device and inode): it is
//! opened with `O_NOFOLLOW | O_NONBLOCK`, so a symbolic link swapped in is
//! refused rather than followed and a FIFO never blocks. Anything else —
//! a link, a FIFO, a socket, a device, another file — is a per-document
//! failure naming what the path became. Reads go in chunks and stop soon
//! after the stream is dropped.
//!
//! **The sync's own files.** [`FsConfig::exclude_path`] keeps an output
//! file or state directory inside the tree out of every walk, however the
//! path is spelled or reached.
//!
//! ```
//! # async fn demo() -> connector_core::Result<()> {
//! use std::sync::Arc;
//! use connector_core::checkpoint::MemoryCheckpointStore;
//! use connector_core::runner::{SyncMode, SyncRunner};
//! use connector_core::sink::MemorySink;
//! use connector_fs::{FsConfig, FsConnector};
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("hello.md"), "# Hello").unwrap();
//! std::fs::write(dir.path().join("debug.log"), "noise").unwrap();
//!
//! let connector = FsConnector::new(dir.path(), FsConfig::default().ignore("*.log"))?;
//! let runner = SyncRunner::new("docs", Arc::new(MemoryCheckpointStore::default()));
//! let mut sink = MemorySink::default();
//! runner.run(&connector, &mut sink, SyncMode::Incremental).await?;
//! assert_eq!(sink.documents().len(), 1);
//! assert_eq!(sink.documents()[0].sections[0].text, "# Hello");
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! [`Document`]: connector_core::Document

#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod convert;
mod exclude;
mod file_url;
mod id;
mod read;
mod walk;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, stream};
use ignore::overrides::Override;
use serde::{Deserialize, Serialize};

use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, DocumentFailure, Error,
    ErrorKind, Item, ItemStream, LoadConnector, OptionChoice, PollConnector, Result, SlimConnector,
    SlimDocument, SlimStream, TimeWindow,
};

pub use config::FsConfig;
pub use id::path_id;

use read::{StopFlag, StopOnDrop};
use walk::{WalkSettings, Walked};

/// Top-level folders listed by `validate()` at most.
const MAX_FOLDER_OPTIONS: usize = 1000;

/// A local directory as a source.
#[derive(Clone)]
pub struct FsConnector {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    root_name: String,
    config: FsConfig,
    overrides: Override,
    /// [`FsConfig::exclude_paths`], made absolute.
    exclude: Arc<[PathBuf]>,
}

impl std::fmt::Debug for FsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsConnector")
            .field("root", &self.inner.root)
            .field("config", &self.inner.config)
            .finish()
    }
}

/// Where a walk resumes: strictly after this path (relative to the root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum FsCheckpoint {
    /// A UTF-8 path.
    After { after: String },
    /// A path that is not UTF-8, as its bytes.
    AfterRaw { after_raw: Vec<u8> },
}

impl FsCheckpoint {
    fn new(rel: &Path) -> Self {
        match rel.to_str() {
            Some(s) => FsCheckpoint::After {
                after: s.to_owned(),
            },
            None => FsCheckpoint::AfterRaw {
                after_raw: raw_bytes(rel),
            },
        }
    }

    fn path(&self) -> PathBuf {
        match self {
            FsCheckpoint::After { after } => PathBuf::from(after),
            FsCheckpoint::AfterRaw { after_raw } => from_raw_bytes(after_raw),
        }
    }
}

#[cfg(unix)]
fn raw_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn from_raw_bytes(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn raw_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn from_raw_bytes(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

impl FsConnector {
    /// A connector for the directory `root`.
    ///
    /// Fails with a clear error when `root` does not exist, is not a
    /// directory, or an ignore pattern is invalid.
    pub fn new(root: impl AsRef<Path>, config: FsConfig) -> Result<Self> {
        let given = root.as_ref();
        let root = std::fs::canonicalize(given).map_err(|e| {
            let kind = if e.kind() == std::io::ErrorKind::NotFound {
                ErrorKind::NotFound
            } else {
                ErrorKind::Io
            };
            Error::new(
                kind,
                format!("cannot open directory {}: {e}", given.display()),
            )
        })?;
        if !root.is_dir() {
            return Err(Error::config(format!(
                "path: {} is not a directory; give the directory to sync",
                given.display()
            )));
        }
        config.options.validate()?;
        if config.checkpoint_every == 0 {
            return Err(Error::config("checkpoint_every must be at least 1"));
        }
        let overrides = walk::overrides(&root, &config.ignore_patterns)?;
        let exclude = config
            .exclude_paths
            .iter()
            .map(|p| exclude::absolute_within(p, &root))
            .collect::<Result<Arc<[PathBuf]>>>()?;
        let root_name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| root.display().to_string());
        Ok(Self {
            inner: Arc::new(Inner {
                root,
                root_name,
                config,
                overrides,
                exclude,
            }),
        })
    }

    /// The directory walked (absolute).
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    fn check_root(&self) -> Result<()> {
        match std::fs::read_dir(&self.inner.root) {
            Ok(_) => Ok(()),
            Err(e) => Err(Error::from(e).context(format!(
                "cannot read directory {}",
                self.inner.root.display()
            ))),
        }
    }

    fn walk(&self, after: Option<PathBuf>) -> impl futures::Stream<Item = Walked> + Send + 'static {
        let inner = &self.inner;
        let settings = WalkSettings::new(
            &inner.config,
            inner.overrides.clone(),
            inner.exclude.clone(),
        );
        walk::walk(inner.root.clone(), settings, after)
    }

    fn items(&self, window: Option<TimeWindow>, after: Option<PathBuf>) -> ItemStream<'static> {
        let this = self.clone();
        let every = self.inner.config.checkpoint_every;
        let concurrency = self.inner.config.read_concurrency();
        let start = stream::once(async move {
            if let Err(e) = this.check_root() {
                return stream::iter(vec![Err(e)]).boxed();
            }
            // Reads run on blocking threads that outlive a dropped future:
            // the guard, dropped with the stream, tells them to stop.
            let stop = StopFlag::default();
            let guard = StopOnDrop(stop.clone());
            let reader = this.clone();
            let mut walked_count = 0usize;
            this.walk(after)
                .map(move |walked| {
                    let reader = reader.clone();
                    let stop = stop.clone();
                    async move {
                        match walked {
                            Walked::File(entry) => {
                                let rel = entry.rel.clone();
                                let item = tokio::task::spawn_blocking(move || {
                                    if stop.is_stopped() {
                                        return None;
                                    }
                                    let inner = &reader.inner;
                                    convert::to_item(
                                        &entry,
                                        &inner.root_name,
                                        &inner.config,
                                        window.as_ref(),
                                        &stop,
                                    )
                                })
                                .await
                                .unwrap_or_else(|e| {
                                    Some(Item::Failure(DocumentFailure::new(
                                        path_id(&rel),
                                        format!("reading the file panicked: {e}"),
                                    )))
                                });
                                (Some(rel), item)
                            }
                            Walked::Special { rel, what } => {
                                let failure = DocumentFailure::new(
                                    path_id(&rel),
                                    format!(
                                        "is {what}, not a regular file; not read (leave it out \
                                         with an ignore pattern)"
                                    ),
                                );
                                (Some(rel), Some(Item::Failure(failure)))
                            }
                            Walked::Failed { rel, reason } => {
                                let id = rel.as_deref().map(path_id).unwrap_or_default();
                                (rel, Some(Item::Failure(DocumentFailure::new(id, reason))))
                            }
                        }
                    }
                })
                .buffered(concurrency)
                .flat_map(move |(rel, item)| {
                    let _alive = &guard; // owned by the stream, dropped with it
                    let mut out: Vec<Result<Item>> = Vec::with_capacity(2);
                    out.extend(item.map(Ok));
                    if let Some(rel) = rel {
                        walked_count += 1;
                        if walked_count.is_multiple_of(every) {
                            match Checkpoint::new(&FsCheckpoint::new(&rel)) {
                                Ok(cp) => out.push(Ok(Item::Checkpoint(cp))),
                                Err(e) => out.push(Err(e)),
                            }
                        }
                    }
                    stream::iter(out)
                })
                .boxed()
        });
        start.flatten().boxed()
    }
}

#[async_trait]
impl Connector for FsConnector {
    fn kind(&self) -> &str {
        "fs"
    }

    async fn validate(&self) -> Result<AvailableOptions> {
        let root = self.inner.root.clone();
        let include_hidden = self.inner.config.include_hidden;
        let folders = tokio::task::spawn_blocking(move || -> Result<Vec<OptionChoice>> {
            let entries = std::fs::read_dir(&root).map_err(|e| {
                Error::from(e).context(format!("cannot read directory {}", root.display()))
            })?;
            let mut folders = Vec::new();
            for entry in entries.flatten() {
                let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                let name = entry.file_name().to_string_lossy().into_owned();
                if is_dir && (include_hidden || !name.starts_with('.')) {
                    folders.push(OptionChoice::new(name.clone(), name));
                }
            }
            folders.sort_by(|a, b| a.key.cmp(&b.key));
            folders.truncate(MAX_FOLDER_OPTIONS);
            Ok(folders)
        })
        .await
        .map_err(|e| Error::new(ErrorKind::Other, format!("listing folders panicked: {e}")))??;
        Ok(AvailableOptions::default().with("folders", folders))
    }

    fn as_load(&self) -> Option<&dyn LoadConnector> {
        Some(self)
    }

    fn as_poll(&self) -> Option<&dyn PollConnector> {
        Some(self)
    }

    fn as_checkpointed(&self) -> Option<&dyn CheckpointedConnector> {
        Some(self)
    }

    fn as_slim(&self) -> Option<&dyn SlimConnector> {
        Some(self)
    }
}

impl LoadConnector for FsConnector {
    fn load(&self) -> ItemStream<'_> {
        self.items(None, None)
    }
}

impl PollConnector for FsConnector {
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.items(Some(window), None)
    }
}

impl CheckpointedConnector for FsConnector {
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        let after = match from.as_ref().map(Checkpoint::decode::<FsCheckpoint>) {
            None => None,
            Some(Ok(cp)) => Some(cp.path()),
            Some(Err(e)) => return stream::iter(vec![Err(e)]).boxed(),
        };
        // A full sync takes every file, even ones dated in the future by a
        // skewed clock or changed while the sync runs.
        let window = (!window.is_full()).then_some(window);
        self.items(window, after)
    }
}

impl SlimConnector for FsConnector {
    fn slim(&self) -> SlimStream<'_> {
        let this = self.clone();
        stream::once(async move {
            if let Err(e) = this.check_root() {
                return stream::iter(vec![Err(e)]).boxed();
            }
            this.walk(None)
                .filter_map(|walked| async move {
                    match walked {
                        Walked::File(entry) => Some(Ok(SlimDocument::new(path_id(&entry.rel)))),
                        // Never a document, so never listed as one.
                        Walked::Special { .. } => None,
                        // A file we could not list is not a deleted file: end
                        // the listing so that nothing is reported deleted.
                        Walked::Failed { rel, reason } => Some(Err(Error::new(
                            ErrorKind::Io,
                            format!(
                                "cannot list {}: {reason}",
                                rel.as_deref().map(path_id).unwrap_or_default()
                            ),
                        ))),
                    }
                })
                .boxed()
        })
        .flatten()
        .boxed()
    }
}

/// Files changed between the walk listing them and the reader opening them:
/// the listing is taken first, the swap made, then each entry is read, so
/// every interleaving is exercised without depending on timing.
#[cfg(all(test, unix))]
mod swap_tests {
    #![allow(clippy::unwrap_used)]

    use std::fs;
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::walk::FileEntry;

    const SECRET: &str = "TOP-SECRET-d41d8c";

    /// The tree `root` as the walk lists it now.
    async fn listed(root: &Path, config: FsConfig) -> (FsConnector, Vec<FileEntry>) {
        let connector = FsConnector::new(root, config).unwrap();
        let entries = connector
            .walk(None)
            .filter_map(|w| async move {
                match w {
                    Walked::File(entry) => Some(entry),
                    other => panic!("{other:?}"),
                }
            })
            .collect()
            .await;
        (connector, entries)
    }

    /// Read `entry` on another thread, so a read that blocks fails the test
    /// instead of hanging it.
    fn read(connector: &FsConnector, entry: FileEntry) -> Item {
        let connector = connector.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let inner = &connector.inner;
            let item = convert::to_item(
                &entry,
                &inner.root_name,
                &inner.config,
                None,
                &StopFlag::default(),
            );
            let _ = tx.send(item);
        });
        rx.recv_timeout(Duration::from_secs(5))
            .expect("reading a listed file blocked")
            .unwrap()
    }

    fn failure(item: Item) -> DocumentFailure {
        match item {
            Item::Failure(f) => f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_file_swapped_for_a_symlink_after_listing_is_not_followed() {
        let scratch = tempfile::tempdir().unwrap();
        let tree = scratch.path().join("tree");
        fs::create_dir(&tree).unwrap();
        fs::write(scratch.path().join("secret.txt"), SECRET).unwrap();
        fs::write(tree.join("a.txt"), "public").unwrap();
        fs::write(tree.join("b.bin"), [0u8, 1, 2]).unwrap();
        // Attachment bytes on, so the binary file is opened too.
        let config = FsConfig::default().attachment_bytes(1 << 20);
        let (connector, entries) = listed(&tree, config).await;
        assert_eq!(entries.len(), 2);

        for name in ["a.txt", "b.bin"] {
            fs::remove_file(tree.join(name)).unwrap();
            std::os::unix::fs::symlink(scratch.path().join("secret.txt"), tree.join(name)).unwrap();
        }
        for entry in entries {
            let f = failure(read(&connector, entry));
            assert!(f.reason.contains("symbolic link"), "{}: {}", f.id, f.reason);
            assert!(!f.reason.contains(SECRET));
        }
    }

    #[tokio::test]
    async fn a_parent_directory_swapped_for_a_symlink_is_caught_by_the_inode() {
        let scratch = tempfile::tempdir().unwrap();
        let tree = scratch.path().join("tree");
        let elsewhere = scratch.path().join("elsewhere");
        fs::create_dir_all(tree.join("sub")).unwrap();
        fs::create_dir_all(&elsewhere).unwrap();
        fs::write(tree.join("sub/a.txt"), "public").unwrap();
        fs::write(elsewhere.join("a.txt"), SECRET).unwrap();
        let (connector, entries) = listed(&tree, FsConfig::default()).await;

        fs::rename(tree.join("sub"), scratch.path().join("sub.moved")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, tree.join("sub")).unwrap();
        let f = failure(read(&connector, entries.into_iter().next().unwrap()));
        assert_eq!(f.id, "sub/a.txt");
        assert!(
            f.reason.contains("replaced by another file"),
            "{}",
            f.reason
        );
    }

    #[tokio::test]
    async fn a_file_replaced_by_another_file_after_listing_is_not_read() {
        let tree = tempfile::tempdir().unwrap();
        fs::write(tree.path().join("a.txt"), "listed").unwrap();
        let (connector, entries) = listed(tree.path(), FsConfig::default()).await;

        fs::write(tree.path().join("new.tmp"), "swapped in").unwrap();
        fs::rename(tree.path().join("new.tmp"), tree.path().join("a.txt")).unwrap();
        let f = failure(read(&connector, entries.into_iter().next().unwrap()));
        assert!(
            f.reason.contains("replaced by another file"),
            "{}",
            f.reason
        );
    }

    #[tokio::test]
    async fn a_file_swapped_for_a_fifo_after_listing_fails_at_once() {
        let tree = tempfile::tempdir().unwrap();
        fs::write(tree.path().join("a.txt"), "listed").unwrap();
        let (connector, entries) = listed(tree.path(), FsConfig::default()).await;

        fs::remove_file(tree.path().join("a.txt")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(tree.path().join("a.txt"))
            .status()
            .unwrap();
        assert!(status.success());
        let f = failure(read(&connector, entries.into_iter().next().unwrap()));
        assert_eq!(f.id, "a.txt");
        assert!(f.reason.contains("a FIFO (named pipe)"), "{}", f.reason);
    }
}
