//! Opening a listed file without trusting that it is still what the walk
//! saw, and reading it in bounded chunks that stop when the sync does.
//!
//! Between listing a file and reading it, anyone who can write to the tree
//! may replace it: with a symbolic link to a secret elsewhere, with a FIFO
//! that blocks any reader, with a device. So the file is opened with
//! `O_NOFOLLOW` (a symbolic link is refused, not followed), `O_NONBLOCK`
//! (opening a FIFO or device returns at once) and `O_NOCTTY`, and the handle
//! itself is then checked with `fstat`: only a regular file with the device
//! and inode the walk recorded is read. A parent directory swapped for a
//! symbolic link is caught the same way, since the file reached through it
//! is a different inode.

use std::fs::{File, FileType, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bytes read per call: the most a read can run on after the sync stops.
const CHUNK: usize = 64 << 10;

/// Which file a path named when it was listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) struct FileIdentity {
    #[cfg(unix)]
    dev: u64,
    #[cfg(unix)]
    ino: u64,
}

impl FileIdentity {
    /// The identity `meta` describes, where the platform has one.
    #[cfg(unix)]
    pub(crate) fn of(meta: &Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        Some(Self {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// The identity `meta` describes, where the platform has one.
    #[cfg(not(unix))]
    pub(crate) fn of(_meta: &Metadata) -> Option<Self> {
        None
    }
}

/// Set when the item stream is dropped; readers check it between chunks.
#[derive(Debug, Clone, Default)]
pub(crate) struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    pub(crate) fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Sets its flag when dropped: owned by the item stream, so dropping the
/// stream (cancelling the sync) stops every read still in flight.
#[derive(Debug)]
pub(crate) struct StopOnDrop(pub(crate) StopFlag);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Open `path` for reading and check that the handle is the regular file
/// `listed` (the identity the walk recorded). Returns the file and its
/// current length, or the reason it was not read.
pub(crate) fn open_listed(
    path: &Path,
    listed: Option<FileIdentity>,
) -> Result<(File, u64), String> {
    let file = open_no_follow(path).map_err(|e| describe_open_error(path, &e))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot stat the opened file: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "was replaced by {} after it was listed; only regular files are read",
            describe_type(&meta.file_type())
        ));
    }
    if listed.is_some() && FileIdentity::of(&meta) != listed {
        return Err(
            "was replaced by another file (or reached through a swapped directory) after it \
             was listed; not read"
                .to_owned(),
        );
    }
    Ok((file, meta.len()))
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

fn describe_open_error(path: &Path, e: &io::Error) -> String {
    // O_NOFOLLOW's error differs by platform (ELOOP, EMLINK, EFTYPE): ask
    // the path itself what it has become.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return "was replaced by a symbolic link after it was listed; symbolic links are not \
                followed"
            .to_owned();
    }
    match e.kind() {
        io::ErrorKind::NotFound => "file vanished before it could be read".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => format!("cannot open: {e}"),
    }
}

/// What a non-regular file is, for a failure reason.
pub(crate) fn describe_type(t: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_char_device() {
            return "a character device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// Why a read ended early.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The sync stopped; nobody wants the bytes any more.
    Stopped,
    /// The read itself failed.
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Stopped => f.write_str("the sync stopped before the file was read"),
            ReadError::Io(e) => write!(f, "cannot read: {e}"),
        }
    }
}

/// Append bytes from `reader` to `out` until end of file or until `out`
/// holds `limit` bytes, one chunk at a time, checking `stop` between chunks.
pub(crate) fn read_up_to(
    reader: &mut impl Read,
    out: &mut Vec<u8>,
    limit: u64,
    stop: &StopFlag,
) -> Result<(), ReadError> {
    loop {
        let held = out.len() as u64;
        if held >= limit {
            return Ok(());
        }
        if stop.is_stopped() {
            return Err(ReadError::Stopped);
        }
        let want = usize::try_from(limit - held).map_or(CHUNK, |left| left.min(CHUNK));
        let start = out.len();
        out.resize(start + want, 0);
        let got = loop {
            match reader.read(&mut out[start..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        match got {
            Ok(n) => {
                out.truncate(start + n);
                if n == 0 {
                    return Ok(());
                }
            }
            Err(e) => {
                out.truncate(start);
                return Err(ReadError::Io(e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// An endless source that takes a while per read, like a stalled mount.
    struct Slow;

    impl Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            std::thread::sleep(Duration::from_millis(20));
            let n = buf.len().min(100);
            buf[..n].fill(b'x');
            Ok(n)
        }
    }

    #[test]
    fn reads_to_the_limit_or_the_end() {
        let stop = StopFlag::default();
        let mut out = b"head".to_vec();
        read_up_to(&mut &b"0123456789"[..], &mut out, 8, &stop).unwrap();
        assert_eq!(out, b"head0123");
        let mut out = Vec::new();
        read_up_to(&mut &b"abc"[..], &mut out, 1 << 40, &stop).unwrap();
        assert_eq!(out, b"abc");
    }

    #[test]
    fn a_slow_endless_read_ends_soon_after_the_stop() {
        let stop = StopFlag::default();
        let reader = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                let result = read_up_to(&mut Slow, &mut out, u64::MAX, &stop);
                (result, Instant::now())
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        let stopped_at = Instant::now();
        drop(StopOnDrop(stop));
        let (result, ended_at) = reader.join().unwrap();
        assert!(matches!(result, Err(ReadError::Stopped)), "{result:?}");
        assert!(
            ended_at.duration_since(stopped_at) < Duration::from_millis(500),
            "the read ran on for {:?}",
            ended_at.duration_since(stopped_at)
        );
    }
}
