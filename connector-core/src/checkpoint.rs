//! Where sync state lives between runs.
//!
//! A [`CheckpointStore`] keeps two things per key: a small *value* replaced
//! atomically (the runner's state: the connector's checkpoint, the sink's
//! committed position, the last completed window) and an *append log* (the
//! content-hash index that lets a sync skip unchanged documents). The log is
//! append-only with explicit truncation, so the runner can roll it back to the
//! length its last committed state names after a crash.
//!
//! [`FileCheckpointStore`] never leaves a torn value: it writes a temporary
//! file, syncs it, renames it over the old one and syncs the directory.
//! [`MemoryCheckpointStore`] is for tests and short-lived hosts.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::error::{Error, ErrorKind, Result};

/// Durable storage for sync state, keyed by connection.
///
/// Implement it to keep state in a host's own database; the file and memory
/// implementations here cover the rest. Methods are called from async code;
/// the ones here do short blocking file I/O.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// The value stored under `key`, if any.
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Replace the value under `key` atomically: after a crash, `load`
    /// returns either the old value or the new one, never a mix.
    async fn save(&self, key: &str, value: &[u8]) -> Result<()>;

    /// Cut the log under `key` to `len` bytes (a no-op when it is shorter).
    async fn log_truncate(&self, key: &str, len: u64) -> Result<()>;

    /// Append `bytes` to the log under `key` durably; returns its new length.
    async fn log_append(&self, key: &str, bytes: &[u8]) -> Result<u64>;

    /// A reader over the whole log under `key` (empty when there is none).
    async fn log_read(&self, key: &str) -> Result<Box<dyn Read + Send>>;
}

/// Keeps each key as files in one directory: `<key>.state.json` and `<key>.index`.
///
/// ```
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::checkpoint::{CheckpointStore, FileCheckpointStore};
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = FileCheckpointStore::open(dir.path())?;
/// store.save("docs", br#"{"page":3}"#).await?;
/// assert_eq!(store.load("docs").await?.as_deref(), Some(&br#"{"page":3}"#[..]));
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct FileCheckpointStore {
    dir: PathBuf,
}

impl FileCheckpointStore {
    /// Use `dir`, creating it when missing.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| {
            Error::io(
                format!("cannot create state directory {}", dir.display()),
                e,
            )
        })?;
        Ok(Self { dir })
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", file_stem(key)))
    }

    fn save_blocking(&self, key: &str, value: &[u8]) -> Result<()> {
        let target = self.path(key, "state.json");
        let tmp = self.path(key, "state.json.tmp");
        let fail = |what: &str, e: io::Error| Error::io(format!("{what} {}", tmp.display()), e);
        let mut file = File::create(&tmp).map_err(|e| fail("cannot create", e))?;
        file.write_all(value).map_err(|e| fail("cannot write", e))?;
        file.sync_all().map_err(|e| fail("cannot sync", e))?;
        drop(file);
        fs::rename(&tmp, &target).map_err(|e| {
            Error::io(
                format!("cannot rename {} to {}", tmp.display(), target.display()),
                e,
            )
        })?;
        sync_dir(&self.dir)
    }
}

/// Keys may hold any characters; file names may not. Keep the readable
/// characters and add a short hash so distinct keys never share a file.
fn file_stem(key: &str) -> String {
    let readable: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if readable == key {
        return readable;
    }
    let digest = blake3::hash(key.as_bytes());
    let hex: String = digest.as_bytes()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{readable}-{hex}")
}

fn sync_dir(dir: &Path) -> Result<()> {
    // Making the rename itself durable needs the directory synced (POSIX);
    // other platforms cannot open a directory for this and don't need it.
    #[cfg(unix)]
    {
        let d =
            File::open(dir).map_err(|e| Error::io(format!("cannot open {}", dir.display()), e))?;
        d.sync_all()
            .map_err(|e| Error::io(format!("cannot sync {}", dir.display()), e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[async_trait]
impl CheckpointStore for FileCheckpointStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key, "state.json");
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
        }
    }

    async fn save(&self, key: &str, value: &[u8]) -> Result<()> {
        self.save_blocking(key, value)
    }

    async fn log_truncate(&self, key: &str, len: u64) -> Result<()> {
        let path = self.path(key, "index");
        let file = match OpenOptions::new().write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(format!("cannot open {}", path.display()), e)),
        };
        let current = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", path.display()), e))?
            .len();
        if current > len {
            file.set_len(len)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(format!("cannot truncate {}", path.display()), e))?;
        }
        Ok(())
    }

    async fn log_append(&self, key: &str, bytes: &[u8]) -> Result<u64> {
        let path = self.path(key, "index");
        let fail = |e: io::Error| Error::io(format!("cannot append to {}", path.display()), e);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(fail)?;
        file.write_all(bytes).map_err(fail)?;
        file.sync_data().map_err(fail)?;
        Ok(file.metadata().map_err(fail)?.len())
    }

    async fn log_read(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        let path = self.path(key, "index");
        match File::open(&path) {
            Ok(f) => Ok(Box::new(io::BufReader::with_capacity(1 << 16, f))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Box::new(io::empty())),
            Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
        }
    }
}

/// Keeps everything in memory; clones share the same contents.
///
/// ```
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::checkpoint::{CheckpointStore, MemoryCheckpointStore};
///
/// let store = MemoryCheckpointStore::default();
/// assert_eq!(store.log_append("docs", b"abc").await?, 3);
/// store.log_truncate("docs", 1).await?;
/// assert_eq!(store.log_append("docs", b"z").await?, 2);
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryCheckpointStore {
    inner: Arc<Mutex<MemoryInner>>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    values: HashMap<String, Vec<u8>>,
    logs: HashMap<String, Vec<u8>>,
}

impl MemoryCheckpointStore {
    fn with<T>(&self, f: impl FnOnce(&mut MemoryInner) -> T) -> Result<T> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| Error::new(ErrorKind::Other, "memory checkpoint store is poisoned"))?;
        Ok(f(&mut guard))
    }
}

#[async_trait]
impl CheckpointStore for MemoryCheckpointStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.with(|m| m.values.get(key).cloned())
    }

    async fn save(&self, key: &str, value: &[u8]) -> Result<()> {
        self.with(|m| {
            m.values.insert(key.to_owned(), value.to_vec());
        })
    }

    async fn log_truncate(&self, key: &str, len: u64) -> Result<()> {
        self.with(|m| {
            if let Some(log) = m.logs.get_mut(key) {
                log.truncate(usize::try_from(len).unwrap_or(usize::MAX));
            }
        })
    }

    async fn log_append(&self, key: &str, bytes: &[u8]) -> Result<u64> {
        self.with(|m| {
            let log = m.logs.entry(key.to_owned()).or_default();
            log.extend_from_slice(bytes);
            log.len() as u64
        })
    }

    async fn log_read(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        let bytes = self.with(|m| m.logs.get(key).cloned().unwrap_or_default())?;
        Ok(Box::new(io::Cursor::new(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_store_round_trip_and_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileCheckpointStore::open(dir.path().join("state")).unwrap();
        assert_eq!(store.load("a/b c").await.unwrap(), None);
        store.save("a/b c", b"one").await.unwrap();
        store.save("a/b c", b"two").await.unwrap();
        assert_eq!(store.load("a/b c").await.unwrap().unwrap(), b"two");
        // Keys that differ only in unreadable characters get different files.
        store.save("a/b_c", b"other").await.unwrap();
        assert_eq!(store.load("a/b c").await.unwrap().unwrap(), b"two");

        assert_eq!(store.log_append("k", b"hello").await.unwrap(), 5);
        assert_eq!(store.log_append("k", b" world").await.unwrap(), 11);
        store.log_truncate("k", 5).await.unwrap();
        let mut text = String::new();
        store
            .log_read("k")
            .await
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "hello");
    }

    #[tokio::test]
    async fn crash_between_write_and_rename_keeps_the_old_value() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileCheckpointStore::open(dir.path()).unwrap();
        store.save("conn", b"committed").await.unwrap();
        // A crash after writing the temporary file but before the rename
        // leaves a (possibly torn) temp file next to the committed one.
        fs::write(store.path("conn", "state.json.tmp"), b"{\"torn").unwrap();
        let reopened = FileCheckpointStore::open(dir.path()).unwrap();
        assert_eq!(reopened.load("conn").await.unwrap().unwrap(), b"committed");
        // The next save replaces the leftover and succeeds.
        reopened.save("conn", b"next").await.unwrap();
        assert_eq!(reopened.load("conn").await.unwrap().unwrap(), b"next");
        assert!(!store.path("conn", "state.json.tmp").exists());
    }

    #[test]
    fn unwritable_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        fs::write(&file, b"x").unwrap();
        let err = FileCheckpointStore::open(file.join("sub")).unwrap_err();
        assert!(err.to_string().contains("cannot create state directory"));
    }
}
