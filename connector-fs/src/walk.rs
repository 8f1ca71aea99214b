//! The directory walk: a thread that lists files in a fixed order (by name,
//! depth first) into a bounded channel, so a slow consumer slows the walk
//! and dropping the stream stops it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use futures::Stream;
use ignore::WalkBuilder;
use ignore::overrides::{Override, OverrideBuilder};
use tokio::sync::mpsc;

use connector_core::{Error, Result};

use crate::config::FsConfig;

/// Files listed ahead of the readers.
const WALK_BUFFER: usize = 256;

/// One thing the walk found.
#[derive(Debug)]
pub(crate) enum Walked {
    /// A regular file.
    File(FileEntry),
    /// Something that could not be listed (permission denied, vanished).
    Failed {
        /// Path relative to the root, when known.
        rel: Option<PathBuf>,
        /// What went wrong.
        reason: String,
    },
}

/// A regular file with what `stat` said about it.
#[derive(Debug, Clone)]
pub(crate) struct FileEntry {
    pub rel: PathBuf,
    pub abs: PathBuf,
    pub len: u64,
    pub modified: Option<SystemTime>,
    pub created: Option<SystemTime>,
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

/// Walk `root` in name order, starting strictly after `after` (a path
/// relative to the root) when given.
pub(crate) fn walk(
    root: PathBuf,
    config: &FsConfig,
    overrides: Override,
    after: Option<PathBuf>,
) -> impl Stream<Item = Walked> + Send + 'static {
    let (tx, rx) = mpsc::channel(WALK_BUFFER);
    let mut builder = WalkBuilder::new(&root);
    builder
        .standard_filters(config.respect_ignore_files)
        .hidden(!config.include_hidden)
        .require_git(false)
        .follow_links(false)
        .overrides(overrides)
        .sort_by_file_name(|a, b| a.cmp(b));
    if config.respect_ignore_files {
        builder.add_custom_ignore_filename(".connectorignore");
    }
    if let Some(after) = after {
        let root = root.clone();
        // Depth-first by name visits paths in component order, so everything
        // at or before `after` is done: prune it, keeping its ancestors.
        builder.filter_entry(move |entry| {
            let Ok(rel) = entry.path().strip_prefix(&root) else {
                return true;
            };
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            rel > after.as_path() || (is_dir && after.starts_with(rel))
        });
    }
    let walker = builder.build();
    let spawned = std::thread::Builder::new()
        .name("connector-fs-walk".into())
        .spawn(move || {
            for result in walker {
                let walked = match result {
                    Ok(entry) => {
                        let Some(file_type) = entry.file_type() else {
                            continue;
                        };
                        // Directories are walked, not emitted; symlinks, FIFOs,
                        // sockets and devices are not documents (and reading a
                        // FIFO would block forever).
                        if !file_type.is_file() {
                            continue;
                        }
                        let rel = entry
                            .path()
                            .strip_prefix(&root)
                            .map(Path::to_path_buf)
                            .unwrap_or_else(|_| entry.path().to_path_buf());
                        match entry.metadata() {
                            Ok(meta) => Walked::File(FileEntry {
                                abs: entry.path().to_path_buf(),
                                rel,
                                len: meta.len(),
                                modified: meta.modified().ok(),
                                created: meta.created().ok(),
                            }),
                            Err(e) => Walked::Failed {
                                rel: Some(rel),
                                reason: format!("cannot stat: {e}"),
                            },
                        }
                    }
                    Err(e) => Walked::Failed {
                        rel: error_path(&e)
                            .and_then(|p| p.strip_prefix(&root).ok().map(Path::to_path_buf)),
                        reason: e.to_string(),
                    },
                };
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

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}
