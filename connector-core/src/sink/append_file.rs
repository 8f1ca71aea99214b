//! An append-only output file that commits by fsync and rolls back by
//! truncating to its last committed length: what makes the file sinks
//! exactly-once across crashes.
//!
//! Rolling back means cutting a file, so the committed position says which
//! file it belongs to: the file's canonical path and a BLAKE3 fingerprint of
//! the bytes just before the committed length. [`AppendFile::restore`]
//! refuses (and leaves the file alone) when either does not match, rather
//! than truncating some other file to a length that was never its own.
//! While open, the file holds an exclusive advisory lock, so two syncs never
//! write into one output.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checkpoint::{create_options, try_lock};
use crate::error::{Error, Result};
use crate::sink::SinkPosition;

/// Bytes buffered before they are handed to the OS.
const FLUSH_AT: usize = 1 << 20;

/// How many bytes before the committed length the fingerprint covers:
/// enough to tell two outputs apart (the last few documents), small enough
/// to read back at every commit for free.
const TAIL: u64 = 4096;

#[derive(Debug)]
pub(crate) struct AppendFile {
    path: PathBuf,
    /// The path with symlinks and `..` resolved: what positions record.
    canonical: String,
    file: File,
    buf: Vec<u8>,
    len: u64,
}

/// The committed position. `path` and `tail` were added later: positions
/// stored without them restore with the length check alone.
#[derive(Serialize, Deserialize)]
struct FilePosition {
    bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    /// Hex BLAKE3 of the `min(TAIL, bytes)` bytes before `bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tail: Option<String>,
}

impl AppendFile {
    /// Open (or create, with `mode`) `path` and lock it.
    pub(crate) fn create(path: &Path, mode: u32) -> Result<Self> {
        let file = create_options(mode)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::io(format!("cannot open {} for writing", path.display()), e))?;
        try_lock(&file, path, || {
            format!(
                "{} is being written by another sync (the file is locked): wait for that \
                 sync to end or stop it, or write to another file",
                path.display()
            )
        })?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", path.display()), e))?
            .len();
        let canonical = std::fs::canonicalize(path)
            .map_err(|e| Error::io(format!("cannot resolve {}", path.display()), e))?
            .to_string_lossy()
            .into_owned();
        Ok(Self {
            path: path.to_path_buf(),
            canonical,
            file,
            buf: Vec::with_capacity(FLUSH_AT),
            len,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Length of the file including buffered bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len + self.buf.len() as u64
    }

    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    pub(crate) fn maybe_flush(&mut self) -> Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.file
            .seek(SeekFrom::Start(self.len))
            .and_then(|_| self.file.write_all(&self.buf))
            .map_err(|e| Error::io(format!("cannot write {}", self.path.display()), e))?;
        self.len += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Fingerprint of the bytes before `end` (which must be on disk).
    fn tail_hash(&mut self, end: u64) -> Result<String> {
        let start = end.saturating_sub(TAIL);
        let mut tail = Vec::with_capacity((end - start) as usize);
        self.file
            .seek(SeekFrom::Start(start))
            .and_then(|_| (&mut self.file).take(end - start).read_to_end(&mut tail))
            .map_err(|e| Error::io(format!("cannot read {}", self.path.display()), e))?;
        Ok(blake3::hash(&tail).to_hex().to_string())
    }

    pub(crate) fn commit(&mut self) -> Result<SinkPosition> {
        self.flush()?;
        self.file
            .sync_data()
            .map_err(|e| Error::io(format!("cannot sync {}", self.path.display()), e))?;
        let tail = self.tail_hash(self.len)?;
        Ok(SinkPosition(serde_json::to_value(FilePosition {
            bytes: self.len,
            path: Some(self.canonical.clone()),
            tail: Some(tail),
        })?))
    }

    /// Cut the file back to `committed` — after checking that `committed`
    /// describes this file. `None` (nothing ever committed) empties it.
    pub(crate) fn restore(&mut self, committed: Option<&SinkPosition>) -> Result<()> {
        self.buf.clear();
        let target = match committed {
            None => 0,
            Some(pos) => {
                let pos: FilePosition = serde_json::from_value(pos.0.clone()).map_err(|e| {
                    Error::decode("stored output position is not a file position", e)
                })?;
                self.check(&pos)?;
                pos.bytes
            }
        };
        self.file
            .set_len(target)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io(format!("cannot truncate {}", self.path.display()), e))?;
        self.len = target;
        Ok(())
    }

    /// Whether `pos` was committed by this file, as far as it can tell.
    fn check(&mut self, pos: &FilePosition) -> Result<()> {
        let here = self.canonical.clone();
        let untouched = format!("{here} was left untouched");
        if let Some(theirs) = pos.path.as_deref().filter(|p| *p != here) {
            return Err(Error::config(format!(
                "the sync state belongs to the output {theirs}, not {here}: write to {theirs} \
                 again, or give {here} a sync state of its own (or remove the state to start \
                 over); {untouched}"
            )));
        }
        let named = pos.path.clone().unwrap_or_else(|| here.clone());
        let on_disk = self
            .file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", self.path.display()), e))?
            .len();
        if on_disk < pos.bytes {
            return Err(Error::config(format!(
                "{here} holds {on_disk} bytes but the sync state committed {} bytes of \
                 {named}: point the output at the previous run's file, or remove the state to \
                 start over; {untouched}",
                pos.bytes
            )));
        }
        if let Some(tail) = &pos.tail
            && self.tail_hash(pos.bytes)? != *tail
        {
            return Err(Error::config(format!(
                "the first {} bytes of {here} are not the ones the last sync committed to \
                     {named} (the file was edited or replaced): put the committed file back, or \
                     remove the state to start over; {untouched}",
                pos.bytes
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(bytes: u64) -> SinkPosition {
        SinkPosition(serde_json::json!({ "bytes": bytes }))
    }

    #[test]
    fn positions_name_the_file_and_fingerprint_its_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let mut file = AppendFile::create(&path, 0o600).unwrap();
        file.buffer().extend_from_slice(b"hello\n");
        let pos = file.commit().unwrap();
        let canonical = std::fs::canonicalize(&path).unwrap();
        assert_eq!(pos.0["bytes"], 6);
        assert_eq!(pos.0["path"], canonical.to_str().unwrap());
        assert_eq!(pos.0["tail"], blake3::hash(b"hello\n").to_hex().to_string());
    }

    #[test]
    fn a_position_without_identity_still_restores() {
        // The layout written before positions named their file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, b"one\ntwo\n").unwrap();
        let mut file = AppendFile::create(&path, 0o600).unwrap();
        file.restore(Some(&position(4))).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one\n");
        let err = file.restore(Some(&position(40))).unwrap_err();
        assert!(err.to_string().contains("holds 4 bytes"), "{err}");
    }

    #[test]
    fn a_file_locked_by_another_handle_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let first = AppendFile::create(&path, 0o600).unwrap();
        let err = AppendFile::create(&path, 0o600).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("being written by another sync"), "{text}");
        drop(first);
        AppendFile::create(&path, 0o600).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn new_files_get_the_requested_mode_and_existing_ones_keep_theirs() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let private = dir.path().join("private");
        drop(AppendFile::create(&private, 0o600).unwrap());
        assert_eq!(mode(&private), 0o600);
        let shared = dir.path().join("shared");
        drop(AppendFile::create(&shared, 0o640).unwrap());
        assert_eq!(mode(&shared), 0o640);
        drop(AppendFile::create(&shared, 0o600).unwrap());
        assert_eq!(mode(&shared), 0o640, "an existing file keeps its mode");
    }
}
