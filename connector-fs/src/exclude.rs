//! Paths a walk leaves out whatever the patterns say — typically the sync's
//! own output file and state directory when they sit inside the tree.
//!
//! A path is matched two ways, so that any route to it is caught: by its
//! canonical form (symbolic links and `..` resolved; for a path that does
//! not exist yet, its nearest existing ancestor resolved and the rest
//! appended), and, when it exists, by device and inode (the same file
//! through a hard link or a bind mount). An excluded directory takes its
//! whole subtree with it.

use std::path::{Path, PathBuf};

use connector_core::{Error, Result};

use crate::read::FileIdentity;

/// `path` made absolute (from the current directory), refusing one that is
/// `root` or holds it: excluding it would sync nothing and report every
/// document deleted.
pub(crate) fn absolute_within(path: &Path, root: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(path).map_err(|e| {
        Error::config(format!(
            "excluded path {} cannot be made absolute: {e}",
            path.display()
        ))
    })?;
    if root.starts_with(canonical(&absolute)) {
        return Err(Error::config(format!(
            "excluded path {} is the directory being synced or holds it, so nothing would \
             be synced; exclude something inside {} instead",
            path.display(),
            root.display()
        )));
    }
    Ok(absolute)
}

/// Exclusions resolved against the filesystem as it stands at walk start.
#[derive(Debug, Default)]
pub(crate) struct Excluded {
    paths: Vec<PathBuf>,
    identities: Vec<FileIdentity>,
}

impl Excluded {
    /// Resolve `given` (absolute paths) now: a file created since the last
    /// walk is matched by path and inode alike.
    pub(crate) fn resolve(given: &[PathBuf]) -> Self {
        let mut excluded = Self::default();
        for path in given {
            excluded.paths.push(canonical(path));
            // Following links on purpose: excluding a link excludes what
            // it points at, which is what the caller handed a sink.
            if let Some(identity) = std::fs::metadata(path)
                .ok()
                .and_then(|m| FileIdentity::of(&m))
            {
                excluded.identities.push(identity);
            }
        }
        excluded
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Whether `walked` (a canonical path, as the walk produces) is excluded.
    pub(crate) fn has_path(&self, walked: &Path) -> bool {
        self.paths.iter().any(|p| p == walked)
    }

    /// Whether the file or directory `identity` is excluded.
    pub(crate) fn has_identity(&self, identity: Option<FileIdentity>) -> bool {
        identity.is_some_and(|id| self.identities.contains(&id))
    }

    /// Whether any exclusion exists on disk (and so can match by identity).
    pub(crate) fn has_identities(&self) -> bool {
        !self.identities.is_empty()
    }
}

/// `path` with symbolic links and `..` resolved as far as it exists.
fn canonical(path: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut existing = path;
    loop {
        if let Ok(mut resolved) = std::fs::canonicalize(existing) {
            resolved.extend(missing.iter().rev());
            return resolved;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name);
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_missing_path_resolves_through_its_existing_ancestor() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        let through_dots = dir.path().join("a").join("..").join("later.jsonl");
        std::fs::create_dir(dir.path().join("a")).unwrap();
        assert_eq!(canonical(&through_dots), real.join("later.jsonl"));
        assert_eq!(
            canonical(&dir.path().join("x/y/z")),
            real.join("x").join("y").join("z")
        );
    }

    #[test]
    fn the_root_or_an_ancestor_cannot_be_excluded() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap().join("tree");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        for bad in [root.clone(), root.join("sub/.."), dir.path().to_path_buf()] {
            let err = absolute_within(&bad, &root).unwrap_err();
            assert!(
                err.to_string()
                    .contains("is the directory being synced or holds it"),
                "{err}"
            );
        }
        let inside = root.join("out.jsonl");
        assert_eq!(absolute_within(&inside, &root).unwrap(), inside);
    }
}
