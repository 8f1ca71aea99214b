//! The crawl's state on disk: the frontier, the page records, and the
//! fingerprints that make the visited set.
//!
//! A crawl lives in its own directory under the state directory:
//!
//! - `frontier` — every URL the crawl decided to fetch, one line each
//!   (`kind depth lastmod url`), appended as they are found. The crawl
//!   reads it front to back; the position read so far and the length are
//!   the checkpoint, so a resumed crawl cuts the file back to the length
//!   checkpointed and reads on from the position.
//! - `pages` — one JSON line per page kept (URL, `ETag`, `Last-Modified`,
//!   time fetched, in-scope links), the next crawl's validators and the
//!   links of pages that answer `304`.
//!
//! In memory: a 64-bit fingerprint (BLAKE3) per URL in the frontier and per
//! page kept — 8 bytes of hash set per URL, about 16–24 MB at a million
//! URLs — and, for an incremental crawl, one offset per page of the last
//! crawl. The URLs, validators and links themselves stay on disk.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use connector_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// A URL's 64-bit fingerprint.
pub(crate) fn fingerprint(url: &str) -> u64 {
    let hash = blake3::hash(url.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(bytes)
}

/// What a frontier line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A page (or file) to fetch.
    Page,
    /// A sitemap to read.
    Sitemap,
}

/// One frontier line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub kind: EntryKind,
    pub depth: u32,
    pub lastmod: Option<DateTime<Utc>>,
    pub url: String,
}

impl Entry {
    fn line(&self) -> String {
        let kind = match self.kind {
            EntryKind::Page => 'p',
            EntryKind::Sitemap => 's',
        };
        let lastmod = self.lastmod.map_or(0, |t| t.timestamp());
        format!("{kind}\t{}\t{lastmod}\t{}\n", self.depth, self.url)
    }

    fn parse(line: &str) -> Option<Self> {
        let mut parts = line.trim_end_matches('\n').splitn(4, '\t');
        let kind = match parts.next()? {
            "p" => EntryKind::Page,
            "s" => EntryKind::Sitemap,
            _ => return None,
        };
        let depth = parts.next()?.parse().ok()?;
        let lastmod = match parts.next()?.parse::<i64>().ok()? {
            0 => None,
            t => DateTime::from_timestamp(t, 0),
        };
        let url = parts.next()?.to_owned();
        Some(Self {
            kind,
            depth,
            lastmod,
            url,
        })
    }
}

/// What one page's fetch left for the next crawl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PageRecord {
    /// The page's id (its normalised, canonical URL).
    #[serde(rename = "u")]
    pub url: String,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// When it was fetched.
    #[serde(rename = "t")]
    pub fetched: DateTime<Utc>,
    /// Its in-scope links, normalised.
    #[serde(rename = "l", default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io(
        format!("web crawl state: cannot {what} {}", path.display()),
        e,
    )
}

/// An append-only file of lines with a length and a flushed length.
struct Log {
    path: PathBuf,
    writer: BufWriter<File>,
    len: u64,
}

impl Log {
    /// Open `path`, cut back to `len` bytes (`None`: a new, empty file).
    fn open(path: PathBuf, len: Option<u64>) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(len.is_none())
            .open(&path)
            .map_err(|e| io("open", &path, e))?;
        let actual = file.metadata().map_err(|e| io("read", &path, e))?.len();
        let len = len.unwrap_or(0);
        if actual < len {
            return Err(Error::new(
                connector_core::ErrorKind::Decode,
                format!(
                    "web crawl state: {} is shorter ({actual} bytes) than its checkpoint ({len} bytes)",
                    path.display()
                ),
            ));
        }
        file.set_len(len).map_err(|e| io("truncate", &path, e))?;
        let mut file = file;
        file.seek(SeekFrom::End(0))
            .map_err(|e| io("seek", &path, e))?;
        Ok(Self {
            path,
            writer: BufWriter::with_capacity(64 * 1024, file),
            len,
        })
    }

    fn append(&mut self, line: &str) -> Result<()> {
        self.writer
            .write_all(line.as_bytes())
            .map_err(|e| io("write", &self.path, e))?;
        self.len += line.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.writer.flush().map_err(|e| io("write", &self.path, e))
    }
}

/// One crawl's directory: frontier and page records, and the
/// fingerprints of what is in them.
pub(crate) struct CrawlStore {
    frontier: Log,
    reader: BufReader<File>,
    /// Bytes of the frontier read (entries handed out).
    read: u64,
    pages: Log,
    /// URLs in the frontier (seen: never queued twice).
    seen: HashSet<u64>,
    /// Pages kept this crawl (documents yielded, `304`s carried over).
    kept: HashSet<u64>,
    /// Page records kept.
    pub kept_count: u64,
    /// Failures reported this crawl (URL and reason).
    failures: Log,
    /// Failures the last crawl reported, not reported again.
    known_failures: HashSet<u64>,
}

/// Where a crawl stands, for its checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Position {
    /// Frontier bytes handed out and done with.
    pub read: u64,
    /// Frontier length.
    pub frontier: u64,
    /// Page records length.
    pub pages: u64,
    /// Failures file length.
    #[serde(default)]
    pub failures: u64,
}

impl CrawlStore {
    /// Open the crawl in `dir`: new when `at` is `None`, else cut back to
    /// `at` and rebuilt from the files.
    pub fn open(dir: &Path, at: Option<Position>, mut each: impl FnMut(&Entry)) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
        let frontier_path = dir.join("frontier");
        let pages_path = dir.join("pages");
        let mut frontier = Log::open(frontier_path.clone(), at.map(|p| p.frontier))?;
        let mut pages = Log::open(pages_path.clone(), at.map(|p| p.pages))?;
        let failures = Log::open(dir.join("failures"), at.map(|p| p.failures))?;
        frontier.flush()?;
        pages.flush()?;
        let mut seen = HashSet::new();
        let mut kept = HashSet::new();
        let mut kept_count = 0;
        if at.is_some() {
            for_each_line(&frontier_path, |_, line| {
                if let Some(entry) = Entry::parse(line) {
                    seen.insert(fingerprint(&entry.url));
                    each(&entry);
                }
            })?;
            for_each_line(&pages_path, |_, line| {
                if let Ok(record) = serde_json::from_str::<PageRecord>(line) {
                    kept.insert(fingerprint(&record.url));
                    kept_count += 1;
                }
            })?;
        }
        let read = at.map_or(0, |p| p.read);
        let file = File::open(&frontier_path).map_err(|e| io("open", &frontier_path, e))?;
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        reader
            .seek(SeekFrom::Start(read))
            .map_err(|e| io("seek", &frontier_path, e))?;
        Ok(Self {
            frontier,
            reader,
            read,
            pages,
            seen,
            kept,
            kept_count,
            failures,
            known_failures: HashSet::new(),
        })
    }

    /// Load the failures the crawl in `dir` reported.
    pub fn known_failures(&mut self, dir: &Path) -> Result<()> {
        let path = dir.join("failures");
        if path.is_file() {
            for_each_line(&path, |_, line| {
                if let Ok(fp) = line.trim().parse::<u64>() {
                    self.known_failures.insert(fp);
                }
            })?;
        }
        Ok(())
    }

    /// Record a failure; whether it is new (the last crawl did not report it).
    pub fn failed(&mut self, id: &str, reason: &str) -> Result<bool> {
        let fp = fingerprint(&format!("{id}\n{reason}"));
        self.failures.append(&format!("{fp}\n"))?;
        Ok(!self.known_failures.contains(&fp))
    }

    /// Queue `entry` unless its URL was queued before; whether it was new.
    pub fn push(&mut self, entry: &Entry) -> Result<bool> {
        if !self.seen.insert(fingerprint(&entry.url)) {
            return Ok(false);
        }
        self.frontier.append(&entry.line())?;
        Ok(true)
    }

    /// Whether `url` was queued.
    pub fn seen(&self, url: &str) -> bool {
        self.seen.contains(&fingerprint(url))
    }

    /// Mark `url` seen without queueing it (a canonical or redirect target).
    pub fn mark_seen(&mut self, url: &str) {
        self.seen.insert(fingerprint(url));
    }

    /// The next entry to fetch, with the frontier position after it.
    pub fn next(&mut self) -> Result<Option<(Entry, u64)>> {
        loop {
            if self.read >= self.frontier.len {
                return Ok(None);
            }
            self.frontier.flush()?;
            let mut line = String::new();
            let n = self
                .reader
                .read_line(&mut line)
                .map_err(|e| io("read", &self.frontier.path, e))?;
            if n == 0 {
                return Ok(None);
            }
            self.read += n as u64;
            if let Some(entry) = Entry::parse(&line) {
                return Ok(Some((entry, self.read)));
            }
        }
    }

    /// Whether a page with this id was kept this crawl.
    pub fn kept(&self, url: &str) -> bool {
        self.kept.contains(&fingerprint(url))
    }

    /// Record a page kept.
    pub fn keep(&mut self, record: &PageRecord) -> Result<()> {
        if !self.kept.insert(fingerprint(&record.url)) {
            return Ok(());
        }
        let mut line = serde_json::to_string(record)
            .map_err(|e| Error::decode("web crawl state: cannot encode a page record", e))?;
        line.push('\n');
        self.kept_count += 1;
        self.pages.append(&line)
    }

    /// Flush both files and say where the crawl stands, `done` being the
    /// frontier position of the last entry finished.
    pub fn position(&mut self, done: u64) -> Result<Position> {
        self.frontier.flush()?;
        self.pages.flush()?;
        self.failures.flush()?;
        Ok(Position {
            read: done,
            frontier: self.frontier.len,
            pages: self.pages.len,
            failures: self.failures.len,
        })
    }
}

/// Call `f(offset, line)` for each line of `path`.
fn for_each_line(path: &Path, mut f: impl FnMut(u64, &str)) -> Result<()> {
    let file = File::open(path).map_err(|e| io("open", path, e))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut line = String::new();
    let mut offset = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| io("read", path, e))?;
        if n == 0 {
            return Ok(());
        }
        f(offset, &line);
        offset += n as u64;
    }
}

/// The page records of the last completed crawl: looked up by URL (an
/// offset per page in memory, the record read from disk), and read in
/// order for the confirmation pass.
pub(crate) struct PreviousPages {
    path: PathBuf,
    offsets: HashMap<u64, u64>,
    file: BufReader<File>,
}

impl PreviousPages {
    /// The records in `dir`, or `None` when there are none.
    pub fn open(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join("pages");
        if !path.is_file() {
            return Ok(None);
        }
        let mut offsets = HashMap::new();
        for_each_line(&path, |offset, line| {
            if let Ok(record) = serde_json::from_str::<PageRecord>(line) {
                offsets.insert(fingerprint(&record.url), offset);
            }
        })?;
        let file = BufReader::new(File::open(&path).map_err(|e| io("open", &path, e))?);
        Ok(Some(Self {
            path,
            offsets,
            file,
        }))
    }

    /// The record at `offset`, with the offset of the next one.
    pub fn read_at(&mut self, offset: u64) -> Result<Option<(PageRecord, u64)>> {
        let mut offset = offset;
        loop {
            self.file
                .seek(SeekFrom::Start(offset))
                .map_err(|e| io("seek", &self.path, e))?;
            let mut line = String::new();
            let n = self
                .file
                .read_line(&mut line)
                .map_err(|e| io("read", &self.path, e))?;
            if n == 0 {
                return Ok(None);
            }
            offset += n as u64;
            if let Ok(record) = serde_json::from_str::<PageRecord>(&line) {
                return Ok(Some((record, offset)));
            }
        }
    }

    /// The last crawl's record of `url`.
    pub fn get(&mut self, url: &str) -> Result<Option<PageRecord>> {
        match self.offsets.get(&fingerprint(url)).copied() {
            Some(offset) => Ok(self
                .read_at(offset)?
                .map(|(r, _)| r)
                .filter(|r| r.url == url)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(url: &str) -> Entry {
        Entry {
            kind: EntryKind::Page,
            depth: 1,
            lastmod: None,
            url: url.into(),
        }
    }

    #[test]
    fn frontier_resumes_from_a_position() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = CrawlStore::open(dir.path(), None, |_| {}).expect("open");
        assert!(store.push(&page("https://x/a")).expect("push"));
        assert!(!store.push(&page("https://x/a")).expect("push"));
        store.push(&page("https://x/b")).expect("push");
        let (a, after_a) = store.next().expect("next").expect("a");
        assert_eq!(a.url, "https://x/a");
        let at = store.position(after_a).expect("position");
        // Work after the checkpoint: read b, queue c, keep a record.
        store.next().expect("next");
        store.push(&page("https://x/c")).expect("push");
        store
            .keep(&PageRecord {
                url: "https://x/b".into(),
                etag: None,
                last_modified: None,
                fetched: Utc::now(),
                links: vec![],
            })
            .expect("keep");
        store.position(0).expect("flush");
        drop(store);
        let mut store = CrawlStore::open(dir.path(), Some(at), |_| {}).expect("reopen");
        assert!(store.seen("https://x/b") && !store.seen("https://x/c"));
        assert!(!store.kept("https://x/b"));
        assert_eq!(
            store.next().expect("next").map(|(e, _)| e.url),
            Some("https://x/b".into())
        );
        assert!(store.next().expect("next").is_none());
    }

    #[test]
    fn a_checkpoint_longer_than_the_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let at = Position {
            read: 0,
            frontier: 100,
            pages: 0,
            failures: 0,
        };
        assert!(CrawlStore::open(dir.path(), Some(at), |_| {}).is_err());
    }
}
