//! An append-only output file that commits by fsync and rolls back by
//! truncating to its last committed length: what makes the file sinks
//! exactly-once across crashes.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::sink::SinkPosition;

/// Bytes buffered before they are handed to the OS.
const FLUSH_AT: usize = 1 << 20;

#[derive(Debug)]
pub(crate) struct AppendFile {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    len: u64,
}

#[derive(Serialize, Deserialize)]
struct FilePosition {
    bytes: u64,
}

impl AppendFile {
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::io(format!("cannot open {} for writing", path.display()), e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", path.display()), e))?
            .len();
        Ok(Self {
            path: path.to_path_buf(),
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

    pub(crate) fn commit(&mut self) -> Result<SinkPosition> {
        self.flush()?;
        self.file
            .sync_data()
            .map_err(|e| Error::io(format!("cannot sync {}", self.path.display()), e))?;
        Ok(SinkPosition(serde_json::to_value(FilePosition {
            bytes: self.len,
        })?))
    }

    pub(crate) fn restore(&mut self, committed: Option<&SinkPosition>) -> Result<()> {
        let target = match committed {
            None => 0,
            Some(pos) => {
                let pos: FilePosition = serde_json::from_value(pos.0.clone()).map_err(|e| {
                    Error::decode("stored output position is not a file position", e)
                })?;
                pos.bytes
            }
        };
        self.buf.clear();
        let on_disk = self
            .file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", self.path.display()), e))?
            .len();
        if on_disk < target {
            return Err(Error::config(format!(
                "{} holds {on_disk} bytes but the sync state committed {target}: point the \
                 output at the previous run's file, or remove the state to start over",
                self.path.display()
            )));
        }
        self.file
            .set_len(target)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io(format!("cannot truncate {}", self.path.display()), e))?;
        self.len = target;
        Ok(())
    }
}
