//! Reading zip containers (OOXML, OpenDocument) within the limits: at most
//! `max_entries` entries, each entry unpacked to no more than the size its
//! header declares, and every unpacked byte charged to the [`Budget`] so the
//! total size and the compression ratio stay bounded.

use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use crate::budget::Budget;
use crate::error::{Failure, Res};

/// Bytes read from an entry between two checks of the budget.
const CHUNK: usize = 64 * 1024;

/// A zip file held in memory.
pub(crate) struct Archive<'b, 'o> {
    zip: ZipArchive<Cursor<&'b [u8]>>,
    budget: &'b Budget<'o>,
}

impl<'b, 'o> Archive<'b, 'o> {
    pub(crate) fn open(bytes: &'b [u8], budget: &'b Budget<'o>) -> Res<Self> {
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(zip_failure)?;
        let limit = budget.options.max_entries;
        if zip.len() as u64 > limit {
            return Err(Failure::too_large(format!(
                "archive has {} entries, more than max_entries = {limit}",
                zip.len()
            )));
        }
        Ok(Self { zip, budget })
    }

    /// Whether an entry exists.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    /// An entry's bytes, `None` when there is no such entry.
    pub(crate) fn read(&mut self, name: &str) -> Res<Option<Vec<u8>>> {
        let Some(index) = self.zip.index_for_name(name) else {
            return Ok(None);
        };
        self.read_index(index).map(Some)
    }

    /// Unpack every entry once, to prove the archive stays within the
    /// limits before a parser that reads it by itself (calamine) opens it.
    #[cfg(feature = "spreadsheet")]
    pub(crate) fn verify_all(&mut self) -> Res<()> {
        for index in 0..self.zip.len() {
            self.budget.check_time()?;
            let mut entry = self.zip.by_index(index).map_err(zip_failure)?;
            let declared = entry.size();
            drain(&mut entry, declared, self.budget, &mut std::io::sink())?;
        }
        Ok(())
    }

    fn read_index(&mut self, index: usize) -> Res<Vec<u8>> {
        let mut entry = self.zip.by_index(index).map_err(zip_failure)?;
        let declared = entry.size();
        // The declared size only sizes the buffer up to what the budget allows.
        let cap = declared.min(self.budget.options.max_uncompressed_bytes) as usize;
        let mut out = Vec::with_capacity(cap.min(16 * 1024 * 1024));
        drain(&mut entry, declared, self.budget, &mut out)?;
        Ok(out)
    }
}

/// Copy an entry to `out`, charging the budget as it goes and failing when
/// the entry unpacks to more than it declares.
fn drain(
    entry: &mut dyn Read,
    declared: u64,
    budget: &Budget<'_>,
    out: &mut dyn std::io::Write,
) -> Res<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match entry.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_failure(e)),
        };
        total += n as u64;
        if total > declared {
            return Err(Failure::malformed(format!(
                "an archive entry unpacks to more than the {declared} bytes it declares"
            )));
        }
        budget.unpack(n as u64)?;
        budget.check_time()?;
        out.write_all(&buf[..n])
            .map_err(|e| Failure::malformed(format!("archive entry: {e}")))?;
    }
    Ok(())
}

fn io_failure(e: std::io::Error) -> Failure {
    // The zip reader reports a bad checksum or a cut stream as I/O errors.
    Failure::malformed(format!("damaged archive entry: {e}"))
}

pub(crate) fn zip_failure(e: ZipError) -> Failure {
    match e {
        ZipError::UnsupportedArchive(msg) if msg.contains("ncrypt") || msg.contains("assword") => {
            Failure::encrypted("the archive's entries are encrypted")
        }
        ZipError::InvalidPassword => Failure::encrypted("the archive's entries are encrypted"),
        ZipError::Io(e) => io_failure(e),
        other => Failure::malformed(format!("not a readable zip archive: {other}")),
    }
}
