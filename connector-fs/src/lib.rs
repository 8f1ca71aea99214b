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

mod config;
mod convert;
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
pub use convert::path_id;

use walk::Walked;

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
                "{} is not a directory: --path takes a directory",
                given.display()
            )));
        }
        if config.read_concurrency == 0 || config.checkpoint_every == 0 {
            return Err(Error::config(
                "read_concurrency and checkpoint_every must be at least 1",
            ));
        }
        let overrides = walk::overrides(&root, &config.ignore_patterns)?;
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
        walk::walk(
            self.inner.root.clone(),
            &self.inner.config,
            self.inner.overrides.clone(),
            after,
        )
    }

    fn items(&self, window: Option<TimeWindow>, after: Option<PathBuf>) -> ItemStream<'static> {
        let this = self.clone();
        let every = self.inner.config.checkpoint_every;
        let concurrency = self.inner.config.read_concurrency;
        let start = stream::once(async move {
            if let Err(e) = this.check_root() {
                return stream::iter(vec![Err(e)]).boxed();
            }
            let reader = this.clone();
            let mut walked_count = 0usize;
            this.walk(after)
                .map(move |walked| {
                    let reader = reader.clone();
                    async move {
                        match walked {
                            Walked::File(entry) => {
                                let rel = entry.rel.clone();
                                let item = tokio::task::spawn_blocking(move || {
                                    let inner = &reader.inner;
                                    convert::to_item(
                                        &entry,
                                        &inner.root_name,
                                        &inner.config,
                                        window.as_ref(),
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
                            Walked::Failed { rel, reason } => {
                                let id = rel.as_deref().map(path_id).unwrap_or_default();
                                (rel, Some(Item::Failure(DocumentFailure::new(id, reason))))
                            }
                        }
                    }
                })
                .buffered(concurrency)
                .flat_map(move |(rel, item)| {
                    let mut out: Vec<Result<Item>> = Vec::with_capacity(2);
                    out.extend(item.map(Ok));
                    if let Some(rel) = rel {
                        walked_count += 1;
                        if walked_count % every == 0 {
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
