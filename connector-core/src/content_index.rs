//! Which documents the sink already holds, and with what content: the index
//! that lets a sync skip unchanged documents and find deleted ones.
//!
//! In memory it is a map from a 64-bit hash of the id to a 64-bit prefix of
//! the content hash — 16 bytes of payload per document whatever the id's
//! length (a million ids: see the `bench_fs` example for the measured
//! figure). The id strings themselves live only in the store's append log,
//! read back when deletions are detected. Changes are staged until
//! [`ContentIndex::commit`], which the runner calls right after the sink has
//! made the same documents durable, so the index never claims a document the
//! sink might have lost.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;

use crate::checkpoint::CheckpointStore;
use crate::error::{Error, Result};

/// The keys are already uniform hashes: hashing them again is wasted work.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) type IdSet = HashSet<u64, BuildHasherDefault<IdentityHasher>>;
type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdentityHasher>>;

/// Content value stored for a removed id in the log.
const TOMBSTONE: u64 = 0;

/// The longest document id the index records, in bytes. Longer ids are
/// refused when written (the runner reports such a document as a failure),
/// so a record length above it can only be corruption, and reading the log
/// never allocates more than this for one record.
pub const MAX_ID_BYTES: usize = 64 * 1024;

/// What to do about a log that cannot be trusted.
const START_OVER: &str = "remove this connection's sync state (state, index and lock files) \
     together with the output it describes, then sync again from scratch";

/// 64-bit hash of a document id (the first 8 bytes of its BLAKE3 digest).
pub fn id_hash(id: &str) -> u64 {
    let digest = blake3::hash(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// The first 64 bits of a hex content hash; never [`TOMBSTONE`].
fn content_prefix(content_hash: &str) -> u64 {
    let prefix = content_hash.get(..16).unwrap_or(content_hash);
    let value = u64::from_str_radix(prefix, 16).unwrap_or_else(|_| id_hash(content_hash));
    value.max(1)
}

/// The set of documents a sink holds, by id and content hash.
#[derive(Default)]
pub struct ContentIndex {
    committed: IdMap<u64>,
    staged: IdMap<(u64, String)>,
}

impl std::fmt::Debug for ContentIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentIndex")
            .field("committed", &self.committed.len())
            .field("staged", &self.staged.len())
            .finish()
    }
}

impl ContentIndex {
    /// Load the index from `store`'s log under `key`, cut to `committed_len`
    /// bytes (the length the last committed state names; anything after it
    /// was written by a run that crashed before committing).
    ///
    /// A log *shorter* than `committed_len` was cut or removed behind the
    /// runner's back: trusting it would deliver documents the sink already
    /// holds a second time, so it is a [`crate::ErrorKind::Decode`] error
    /// that says how to start over.
    pub async fn load(store: &dyn CheckpointStore, key: &str, committed_len: u64) -> Result<Self> {
        store.log_truncate(key, committed_len).await?;
        let mut index = ContentIndex::default();
        let reader = store.log_read(key).await?;
        let read = for_each_record(reader, |id_h, content, _| {
            if content == TOMBSTONE {
                index.committed.remove(&id_h);
            } else {
                index.committed.insert(id_h, content);
            }
        })?;
        if read < committed_len {
            return Err(Error::new(
                crate::ErrorKind::Decode,
                format!(
                    "the content index of `{key}` holds {read} bytes but the sync state \
                     committed {committed_len}: it was cut short or removed, and without it \
                     documents already delivered would be delivered again; {START_OVER}"
                ),
            ));
        }
        Ok(index)
    }

    /// Number of documents committed.
    pub fn len(&self) -> usize {
        self.committed.len()
    }

    /// Whether no document is committed.
    pub fn is_empty(&self) -> bool {
        self.committed.is_empty()
    }

    /// Whether the sink already holds `id` with exactly this content hash
    /// (committed, or staged earlier in this batch).
    pub fn is_unchanged(&self, id: &str, content_hash: &str) -> bool {
        let id_h = id_hash(id);
        let content = content_prefix(content_hash);
        match self.staged.get(&id_h) {
            Some((staged, _)) => *staged == content,
            None => self.committed.get(&id_h) == Some(&content),
        }
    }

    /// Whether the sink holds `id` (committed or staged, not removed).
    pub fn contains(&self, id: &str) -> bool {
        let id_h = id_hash(id);
        match self.staged.get(&id_h) {
            Some((staged, _)) => *staged != TOMBSTONE,
            None => self.committed.contains_key(&id_h),
        }
    }

    /// Stage `id` as written with `content_hash`.
    pub fn stage(&mut self, id: &str, content_hash: &str) {
        self.staged
            .insert(id_hash(id), (content_prefix(content_hash), id.to_owned()));
    }

    /// Stage `id` as removed.
    pub fn stage_removal(&mut self, id: &str) {
        self.staged.insert(id_hash(id), (TOMBSTONE, id.to_owned()));
    }

    /// Number of staged changes.
    pub fn staged_len(&self) -> usize {
        self.staged.len()
    }

    /// Forget staged changes (the sink rolled back).
    pub fn discard_staged(&mut self) {
        self.staged.clear();
    }

    /// Append staged changes to the log durably and make them committed.
    /// Returns the log's new length, to be stored with the runner's state.
    pub async fn commit(&mut self, store: &dyn CheckpointStore, key: &str) -> Result<Option<u64>> {
        if self.staged.is_empty() {
            return Ok(None);
        }
        let mut buf = Vec::with_capacity(self.staged.len() * 64);
        for (id_h, (content, id)) in &self.staged {
            buf.extend_from_slice(&id_h.to_le_bytes());
            buf.extend_from_slice(&content.to_le_bytes());
            let len = u32::try_from(id.len())
                .ok()
                .filter(|&len| len as usize <= MAX_ID_BYTES)
                .ok_or_else(|| {
                    Error::config(format!(
                        "document id of {} bytes is longer than the index's limit of {MAX_ID_BYTES}",
                        id.len()
                    ))
                })?;
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(id.as_bytes());
        }
        let len = store.log_append(key, &buf).await?;
        for (id_h, (content, _)) in self.staged.drain() {
            if content == TOMBSTONE {
                self.committed.remove(&id_h);
            } else {
                self.committed.insert(id_h, content);
            }
        }
        Ok(Some(len))
    }

    /// Call `f` once with each committed id whose hash is not in `seen`:
    /// the documents the source no longer has. Reads the id strings back
    /// from the log, so memory stays at the size of `seen`.
    pub(crate) async fn for_each_missing(
        &self,
        store: &dyn CheckpointStore,
        key: &str,
        seen: &IdSet,
        mut f: impl FnMut(String),
    ) -> Result<()> {
        let reader = store.log_read(key).await?;
        let mut reported = IdSet::default();
        for_each_record(reader, |id_h, content, id| {
            // Only the record that holds the id's current content counts;
            // older records of the same id, and removed ids, are history.
            // Ids touched in this run (a delete already staged) are settled.
            if content != TOMBSTONE
                && self.committed.get(&id_h) == Some(&content)
                && !self.staged.contains_key(&id_h)
                && !seen.contains(&id_h)
                && reported.insert(id_h)
            {
                f(id.to_owned());
            }
        })
        .map(|_| ())
    }
}

/// Call `f` with each record of the log; returns the bytes read.
fn for_each_record(
    mut reader: Box<dyn Read + Send>,
    mut f: impl FnMut(u64, u64, &str),
) -> Result<u64> {
    let corrupt = |what: String| {
        Error::new(
            crate::ErrorKind::Decode,
            format!("content index is corrupt: {what}; {START_OVER}"),
        )
    };
    let mut header = [0u8; 20];
    let mut id = Vec::new();
    let mut offset = 0u64;
    loop {
        match read_full(&mut reader, &mut header)? {
            0 => return Ok(offset),
            20 => {}
            _ => return Err(corrupt(format!("the record at byte {offset} is cut short"))),
        }
        let word = |range: std::ops::Range<usize>| {
            let mut bytes = [0u8; 8];
            bytes[..range.len()].copy_from_slice(&header[range]);
            u64::from_le_bytes(bytes)
        };
        let (id_h, content, len) = (word(0..8), word(8..16), word(16..20));
        // Checked before allocating: a corrupt length must not ask for gigabytes.
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= MAX_ID_BYTES)
            .ok_or_else(|| {
                corrupt(format!(
                    "the record at byte {offset} claims an id of {len} bytes, over the limit of {MAX_ID_BYTES}"
                ))
            })?;
        id.resize(len, 0);
        if read_full(&mut reader, &mut id)? != len {
            return Err(corrupt(format!("the record at byte {offset} is cut short")));
        }
        let id_text = std::str::from_utf8(&id)
            .map_err(|_| corrupt(format!("the id at byte {offset} is not UTF-8")))?;
        f(id_h, content, id_text);
        offset += 20 + len as u64;
    }
}

/// Read until `buf` is full or the reader ends; returns the bytes read.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("cannot read the content index", e)),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::MemoryCheckpointStore;

    #[tokio::test]
    async fn staged_changes_become_durable_only_on_commit() {
        let store = MemoryCheckpointStore::default();
        let mut index = ContentIndex::load(&store, "c", 0).await.unwrap();
        index.stage("a", "00000000000000aa");
        assert!(index.is_unchanged("a", "00000000000000aa"));
        assert!(!index.is_unchanged("a", "00000000000000bb"));
        let len = index.commit(&store, "c").await.unwrap().unwrap();
        index.stage("b", "00000000000000bb");
        // Crash: "b" was staged but never committed.
        let reloaded = ContentIndex::load(&store, "c", len).await.unwrap();
        assert!(reloaded.is_unchanged("a", "00000000000000aa"));
        assert!(!reloaded.is_unchanged("b", "00000000000000bb"));
        assert_eq!(reloaded.len(), 1);
    }

    #[tokio::test]
    async fn log_is_cut_to_the_committed_length() {
        let store = MemoryCheckpointStore::default();
        let mut index = ContentIndex::load(&store, "c", 0).await.unwrap();
        index.stage("a", "01");
        let len = index.commit(&store, "c").await.unwrap().unwrap();
        index.stage("b", "02");
        index.commit(&store, "c").await.unwrap();
        // The state only ever committed `len`: "b" must be gone after reload.
        let reloaded = ContentIndex::load(&store, "c", len).await.unwrap();
        assert_eq!(reloaded.len(), 1);
        assert!(!reloaded.is_unchanged("b", "02"));
    }

    #[tokio::test]
    async fn missing_ids_are_the_committed_ones_not_seen() {
        let store = MemoryCheckpointStore::default();
        let mut index = ContentIndex::load(&store, "c", 0).await.unwrap();
        for id in ["a", "b", "c", "d"] {
            index.stage(id, "11");
        }
        index.commit(&store, "c").await.unwrap();
        index.stage("a", "22"); // changed later: still one id
        index.stage_removal("d"); // already removed: not reported again
        index.commit(&store, "c").await.unwrap();
        let seen: IdSet = [id_hash("b")].into_iter().collect();
        let mut missing = Vec::new();
        index
            .for_each_missing(&store, "c", &seen, |id| missing.push(id))
            .await
            .unwrap();
        missing.sort();
        assert_eq!(missing, ["a", "c"]);
    }

    #[tokio::test]
    async fn a_log_shorter_than_committed_is_an_error_with_the_remedy() {
        let store = MemoryCheckpointStore::default();
        let mut index = ContentIndex::load(&store, "c", 0).await.unwrap();
        index.stage("a", "01");
        let first = index.commit(&store, "c").await.unwrap().unwrap();
        index.stage("b", "02");
        let committed = index.commit(&store, "c").await.unwrap().unwrap();
        // Cut at a record boundary: every record left is whole.
        store.log_truncate("c", first).await.unwrap();
        let err = ContentIndex::load(&store, "c", committed)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Decode);
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "holds {first} bytes but the sync state committed {committed}"
            )),
            "{text}"
        );
        assert!(text.contains("sync again from scratch"), "{text}");
        // Removed altogether.
        store.log_truncate("c", 0).await.unwrap();
        let err = ContentIndex::load(&store, "c", committed)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("holds 0 bytes"), "{err}");
    }

    #[tokio::test]
    async fn a_corrupt_record_length_is_refused_before_allocating() {
        let store = MemoryCheckpointStore::default();
        let mut record = Vec::new();
        record.extend_from_slice(&7u64.to_le_bytes());
        record.extend_from_slice(&9u64.to_le_bytes());
        record.extend_from_slice(&u32::MAX.to_le_bytes()); // 4 GiB id
        record.extend_from_slice(b"abc");
        let len = store.log_append("c", &record).await.unwrap();
        let err = ContentIndex::load(&store, "c", len).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Decode);
        assert!(
            err.to_string()
                .contains("claims an id of 4294967295 bytes, over the limit of 65536"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn ids_over_the_limit_are_refused_when_written() {
        let store = MemoryCheckpointStore::default();
        let mut index = ContentIndex::load(&store, "c", 0).await.unwrap();
        index.stage(&"x".repeat(MAX_ID_BYTES + 1), "01");
        let err = index.commit(&store, "c").await.unwrap_err();
        assert!(
            err.to_string().contains("longer than the index's limit"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn torn_log_is_a_decode_error() {
        let store = MemoryCheckpointStore::default();
        store.log_append("c", &[1, 2, 3]).await.unwrap();
        let err = ContentIndex::load(&store, "c", 100).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Decode);
    }
}
