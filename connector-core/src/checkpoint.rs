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
//! file, syncs it, renames it over the old one and syncs the directory. Its
//! files are created [`DEFAULT_FILE_MODE`] (owner only: they name what was
//! synced) and a run holds an exclusive advisory lock on `<key>.lock`, so two
//! processes never interleave commits on one connection.
//! [`MemoryCheckpointStore`] is for tests and short-lived hosts.

use std::any::Any;
use std::collections::{HashMap, HashSet};
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

    /// Take the exclusive right to sync `key` for as long as the returned
    /// [`StateLock`] lives, failing at once (never waiting) when someone
    /// else holds it. The runner holds it for a whole run, so two syncs of
    /// one connection cannot interleave their commits.
    ///
    /// The default takes no lock, which is right for a store only one
    /// process uses; a store shared by several processes (a database)
    /// should override it, for instance with an advisory lock of its own.
    async fn lock(&self, key: &str) -> Result<StateLock> {
        let _ = key;
        Ok(StateLock::unlocked())
    }
}

/// Files this crate creates (state, content index, locks, and the file
/// sinks' output) get this Unix mode unless the host asks for another:
/// they hold document text and the positions of a source, which are no one
/// else's business. Ignored on other platforms.
pub const DEFAULT_FILE_MODE: u32 = 0o600;

/// The exclusive right to sync one connection, from
/// [`CheckpointStore::lock`]; dropping it releases the lock.
///
/// ```
/// use connector_core::checkpoint::StateLock;
///
/// // A store backed by a service might keep the service's lease here.
/// struct Lease(&'static str);
/// let lock = StateLock::new(Lease("lease-42"));
/// drop(lock); // released
/// ```
#[must_use = "the lock is released as soon as it is dropped"]
pub struct StateLock {
    _held: Option<Box<dyn Any + Send + Sync>>,
}

impl StateLock {
    /// Hold `guard` (whatever releases the lock when dropped).
    pub fn new(guard: impl Any + Send + Sync) -> Self {
        Self {
            _held: Some(Box::new(guard)),
        }
    }

    /// A lock that guards nothing, for stores only one process uses.
    pub fn unlocked() -> Self {
        Self { _held: None }
    }
}

impl std::fmt::Debug for StateLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateLock")
            .field("held", &self._held.is_some())
            .finish()
    }
}

/// Open options that create a missing file with `mode` (Unix).
pub(crate) fn create_options(mode: u32) -> OpenOptions {
    let mut options = OpenOptions::new();
    options.create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options
}

/// Take an exclusive advisory lock on `file` without waiting; `busy` says
/// what the lock guards and what to do when another process holds it.
/// The operating system releases it when the file is closed or the process
/// dies, so a crash never leaves a stale lock behind.
pub(crate) fn try_lock(file: &File, path: &Path, busy: impl FnOnce() -> String) -> Result<()> {
    match fs4::FileExt::try_lock(file) {
        Ok(()) => Ok(()),
        Err(fs4::TryLockError::WouldBlock) => Err(Error::new(ErrorKind::Io, busy())),
        Err(fs4::TryLockError::Error(e)) => Err(Error::io(
            format!(
                "cannot lock {} (the file system may not support locks)",
                path.display()
            ),
            e,
        )),
    }
}

/// Keeps each key as files in one directory: `<key>.state.json`,
/// `<key>.index` and `<key>.lock`, created [`DEFAULT_FILE_MODE`] unless
/// [`FileCheckpointStore::with_file_mode`] says otherwise; a directory it
/// creates is `0700`.
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
    mode: u32,
}

impl FileCheckpointStore {
    /// Use `dir`, creating it (owner-only) when missing.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(|e| {
            Error::io(
                format!("cannot create state directory {}", dir.display()),
                e,
            )
        })?;
        Ok(Self {
            dir,
            mode: DEFAULT_FILE_MODE,
        })
    }

    /// Create files with this Unix mode instead of [`DEFAULT_FILE_MODE`]
    /// (for instance `0o640` for a group that backs the state up). Files
    /// that already exist keep theirs, except the state value, which is
    /// rewritten with this mode at every save.
    ///
    /// ```
    /// use connector_core::checkpoint::FileCheckpointStore;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = FileCheckpointStore::open(dir.path())?.with_file_mode(0o640);
    /// # Ok::<(), connector_core::Error>(())
    /// ```
    pub fn with_file_mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
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
        // A leftover from a crash keeps its old mode through `open`: start afresh.
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(fail("cannot remove", e)),
            _ => {}
        }
        let mut file = create_options(self.mode)
            .write(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| fail("cannot create", e))?;
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
        let mut file = create_options(self.mode)
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

    async fn lock(&self, key: &str) -> Result<StateLock> {
        let path = self.path(key, "lock");
        let file = create_options(self.mode)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        try_lock(&file, &path, || {
            format!(
                "the sync state of `{key}` is in use by another sync ({} is locked): wait \
                 for that sync to end or stop it; the lock goes away with its process",
                path.display()
            )
        })?;
        Ok(StateLock::new(file))
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
    locked: HashSet<String>,
}

/// Releases a [`MemoryCheckpointStore`] key when dropped.
struct MemoryLock {
    inner: Arc<Mutex<MemoryInner>>,
    key: String,
}

impl Drop for MemoryLock {
    fn drop(&mut self) {
        // A poisoned mutex only means another holder panicked; the set is
        // still valid, so release the key either way.
        let mut guard = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.locked.remove(&self.key);
    }
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

    async fn lock(&self, key: &str) -> Result<StateLock> {
        if !self.with(|m| m.locked.insert(key.to_owned()))? {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "the sync state of `{key}` is in use by another sync in this process: \
                     wait for that sync to end"
                ),
            ));
        }
        Ok(StateLock::new(MemoryLock {
            inner: Arc::clone(&self.inner),
            key: key.to_owned(),
        }))
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

    #[tokio::test]
    async fn locks_are_exclusive_per_key_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let memory = MemoryCheckpointStore::default();
        let one = FileCheckpointStore::open(dir.path()).unwrap();
        let other = FileCheckpointStore::open(dir.path()).unwrap();
        let stores: [(&dyn CheckpointStore, &dyn CheckpointStore); 2] =
            [(&memory, &memory.clone()), (&one, &other)];
        for (a, b) in stores {
            let held = a.lock("conn").await.unwrap();
            let err = b.lock("conn").await.unwrap_err();
            assert!(err.to_string().contains("in use by another sync"), "{err}");
            let _unrelated = b.lock("other").await.unwrap();
            drop(held);
            let _again = b.lock("conn").await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_host_store_without_locks_still_builds_and_runs() {
        struct Bare;
        #[async_trait]
        impl CheckpointStore for Bare {
            async fn load(&self, _: &str) -> Result<Option<Vec<u8>>> {
                Ok(None)
            }
            async fn save(&self, _: &str, _: &[u8]) -> Result<()> {
                Ok(())
            }
            async fn log_truncate(&self, _: &str, _: u64) -> Result<()> {
                Ok(())
            }
            async fn log_append(&self, _: &str, _: &[u8]) -> Result<u64> {
                Ok(0)
            }
            async fn log_read(&self, _: &str) -> Result<Box<dyn Read + Send>> {
                Ok(Box::new(io::empty()))
            }
        }
        let _a = Bare.lock("k").await.unwrap();
        let _b = Bare.lock("k").await.unwrap();
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn files_are_created_owner_only_and_a_leftover_temp_mode_does_not_leak() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let store = FileCheckpointStore::open(dir.path().join("s")).unwrap();
        assert_eq!(mode(store.dir()), 0o700);
        // A world-readable temp file left by some earlier crash.
        fs::write(store.path("k", "state.json.tmp"), b"old").unwrap();
        fs::set_permissions(
            store.path("k", "state.json.tmp"),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        store.save("k", b"v").await.unwrap();
        store.log_append("k", b"x").await.unwrap();
        assert_eq!(mode(&store.path("k", "state.json")), 0o600);
        assert_eq!(mode(&store.path("k", "index")), 0o600);
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
