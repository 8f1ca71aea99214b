//! The directory walk: a thread that lists files in a fixed order (by name,
//! depth first) into a bounded channel, so a slow consumer slows the walk
//! and dropping the stream stops it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use futures::Stream;
use ignore::overrides::{Override, OverrideBuilder};
use ignore::{DirEntry, WalkBuilder};
use tokio::sync::mpsc;

use connector_core::{Error, Result};

use crate::config::FsConfig;
use crate::exclude::Excluded;
use crate::read::{FileIdentity, describe_type};

/// Files listed ahead of the readers.
const WALK_BUFFER: usize = 256;

/// One thing the walk found.
#[derive(Debug)]
pub(crate) enum Walked {
    /// A regular file.
    File(FileEntry),
    /// A FIFO, socket or device: listed, never opened.
    Special {
        /// Path relative to the root.
        rel: PathBuf,
        /// What it is (`a FIFO (named pipe)`).
        what: &'static str,
    },
    /// Something that could not be listed (permission denied, vanished).
    Failed {
        /// Path relative to the root, when known.
        rel: Option<PathBuf>,
        /// What went wrong.
        reason: String,
    },
}

/// A regular file with what `lstat` said about it when it was listed.
#[derive(Debug, Clone)]
pub(crate) struct FileEntry {
    pub rel: PathBuf,
    pub abs: PathBuf,
    pub len: u64,
    pub modified: Option<SystemTime>,
    pub created: Option<SystemTime>,
    /// Which file this was; a read accepts only this one.
    pub identity: Option<FileIdentity>,
}

/// Compile the user's ignore patterns; a bad pattern names itself.
pub(crate) fn overrides(root: &Path, patterns: &[String]) -> Result<Override> {
    let mut builder = OverrideBuilder::new(root);
    for pattern in patterns {
        // Override globs whitelist by default; `!` makes them exclusions.
        builder
            .add(&format!("!{pattern}"))
            .map_err(|e| Error::config(format!("ignore pattern `{pattern}` is invalid: {e}")))?;
    }
    builder
        .build()
        .map_err(|e| Error::config(format!("ignore patterns are invalid: {e}")))
}

/// What a walk needs besides the root.
#[derive(Debug, Clone)]
pub(crate) struct WalkSettings {
    pub respect_ignore_files: bool,
    pub include_hidden: bool,
    pub overrides: Override,
    /// Absolute paths to leave out, resolved again at each walk.
    pub exclude: Arc<[PathBuf]>,
}

impl WalkSettings {
    pub(crate) fn new(config: &FsConfig, overrides: Override, exclude: Arc<[PathBuf]>) -> Self {
        Self {
            respect_ignore_files: config.respect_ignore_files,
            include_hidden: config.include_hidden,
            overrides,
            exclude,
        }
    }
}

/// Walk `root` (canonical) in name order, starting strictly after `after`
/// (a path relative to the root) when given.
pub(crate) fn walk(
    root: PathBuf,
    settings: WalkSettings,
    after: Option<PathBuf>,
) -> impl Stream<Item = Walked> + Send + 'static {
    let (tx, rx) = mpsc::channel(WALK_BUFFER);
    let spawned = std::thread::Builder::new()
        .name("connector-fs-walk".into())
        .spawn(move || {
            for walked in listing(root, settings, after) {
                if tx.blocking_send(walked).is_err() {
                    break; // the stream was dropped
                }
            }
        });
    let failed_to_spawn = spawned.err().map(|e| Walked::Failed {
        rel: None,
        reason: format!("cannot start the directory walk: {e}"),
    });
    let mut rx = rx;
    let mut first = failed_to_spawn;
    futures::stream::poll_fn(move |cx| {
        if let Some(failed) = first.take() {
            return std::task::Poll::Ready(Some(failed));
        }
        rx.poll_recv(cx)
    })
}

/// The walk itself, blocking: runs on the walk thread.
fn listing(
    root: PathBuf,
    settings: WalkSettings,
    after: Option<PathBuf>,
) -> impl Iterator<Item = Walked> {
    let excluded = Arc::new(Excluded::resolve(&settings.exclude));
    let mut builder = WalkBuilder::new(&root);
    builder
        .standard_filters(settings.respect_ignore_files)
        .hidden(!settings.include_hidden)
        .require_git(false)
        .follow_links(false)
        .overrides(settings.overrides)
        .sort_by_file_name(|a, b| a.cmp(b));
    if settings.respect_ignore_files {
        builder.add_custom_ignore_filename(".connectorignore");
    }
    if after.is_some() || !excluded.is_empty() {
        let root = root.clone();
        let excluded = excluded.clone();
        builder.filter_entry(move |entry| {
            if is_excluded_path_or_dir(&excluded, entry) {
                return false;
            }
            let Some(after) = &after else {
                return true;
            };
            let Ok(rel) = entry.path().strip_prefix(&root) else {
                return true;
            };
            // Depth-first by name visits paths in component order, so
            // everything at or before `after` is done: prune it, keeping
            // its ancestors.
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            rel > after.as_path() || (is_dir && after.starts_with(rel))
        });
    }
    builder.build().filter_map(move |result| {
        let entry = match result {
            Ok(entry) => entry,
            Err(e) => {
                return Some(Walked::Failed {
                    rel: error_path(&e)
                        .and_then(|p| p.strip_prefix(&root).ok().map(Path::to_path_buf)),
                    reason: e.to_string(),
                });
            }
        };
        let file_type = entry.file_type()?;
        // Directories are walked, not emitted; symbolic links are not
        // followed, so they are not documents.
        if file_type.is_dir() || file_type.is_symlink() {
            return None;
        }
        let rel = entry
            .path()
            .strip_prefix(&root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| entry.path().to_path_buf());
        if !file_type.is_file() {
            return Some(Walked::Special {
                rel,
                what: describe_type(&file_type),
            });
        }
        Some(match entry.metadata() {
            // Swapped between the directory read and this lstat: report
            // what is there now, as a later swap would be.
            Ok(meta) if !meta.is_file() => Walked::Special {
                rel,
                what: describe_type(&meta.file_type()),
            },
            Ok(meta) => {
                let identity = FileIdentity::of(&meta);
                if excluded.has_identity(identity) {
                    return None;
                }
                Walked::File(FileEntry {
                    abs: entry.path().to_path_buf(),
                    rel,
                    len: meta.len(),
                    modified: meta.modified().ok(),
                    created: meta.created().ok(),
                    identity,
                })
            }
            Err(e) => Walked::Failed {
                rel: Some(rel),
                reason: format!("cannot stat: {e}"),
            },
        })
    })
}

/// Whether `entry` is excluded by path, or is a directory excluded by
/// identity. Files are checked by identity once they are stat'ed anyway.
fn is_excluded_path_or_dir(excluded: &Excluded, entry: &DirEntry) -> bool {
    if excluded.is_empty() {
        return false;
    }
    if excluded.has_path(entry.path()) {
        return true;
    }
    excluded.has_identities()
        && entry.file_type().is_some_and(|t| t.is_dir())
        && excluded.has_identity(entry.metadata().ok().and_then(|m| FileIdentity::of(&m)))
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}
