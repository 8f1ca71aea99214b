//! What to walk and how: [`FsConfig`], checked once by [`FsConnector::new`](crate::FsConnector::new).

use std::path::PathBuf;

/// Settings of a [`FsConnector`](crate::FsConnector); the defaults suit a
/// documentation folder or a source tree.
///
/// ```
/// use connector_fs::FsConfig;
///
/// let config = FsConfig::default()
///     .ignore("*.log")
///     .ignore("target/")
///     .max_text_bytes(1 << 20);
/// assert_eq!(config.ignore_patterns, ["*.log", "target/"]);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FsConfig {
    /// Extra gitignore-style patterns to leave out (`*.log`, `build/`).
    pub ignore_patterns: Vec<String>,
    /// Honour `.gitignore`, `.ignore` and `.connectorignore` files in the tree.
    pub respect_ignore_files: bool,
    /// Walk hidden files and directories (names starting with `.`).
    pub include_hidden: bool,
    /// Text files larger than this are a per-document failure.
    pub max_text_bytes: u64,
    /// Put the bytes of non-text files into their attachment entry.
    pub attachment_bytes: bool,
    /// Non-text files larger than this keep their entry but not their bytes.
    pub max_attachment_bytes: u64,
    /// Files read at the same time.
    pub read_concurrency: usize,
    /// Yield a checkpoint after this many walked files.
    pub checkpoint_every: usize,
    /// Files and directories never walked, whatever the patterns say; see
    /// [`FsConfig::exclude_path`].
    pub exclude_paths: Vec<PathBuf>,
}

impl Default for FsConfig {
    fn default() -> Self {
        Self {
            ignore_patterns: Vec::new(),
            respect_ignore_files: true,
            include_hidden: false,
            max_text_bytes: 10 << 20,
            attachment_bytes: false,
            max_attachment_bytes: 10 << 20,
            read_concurrency: 8,
            checkpoint_every: 500,
            exclude_paths: Vec::new(),
        }
    }
}

impl FsConfig {
    /// Leave out paths matching a gitignore-style `pattern`.
    pub fn ignore(mut self, pattern: impl Into<String>) -> Self {
        self.ignore_patterns.push(pattern.into());
        self
    }

    /// Never walk `path` (repeatable): a file, or a directory with its whole
    /// subtree. Meant for what a sync writes itself — its output file and
    /// state directory — when they sit inside the tree.
    ///
    /// A relative `path` is taken from the current directory when the
    /// connector is created. At each sync it is matched by its canonical
    /// form (symbolic links and `..` resolved) and, when it exists, by
    /// device and inode, so the same file is left out however it is
    /// reached: through a symlinked parent, a hard link or a bind mount. A
    /// path that does not exist yet is matched once it does. A path outside
    /// the tree never matches anything.
    ///
    /// ```
    /// use connector_fs::FsConfig;
    ///
    /// let config = FsConfig::default()
    ///     .exclude_path("docs/out.jsonl")
    ///     .exclude_path("docs/.sync-state");
    /// assert_eq!(config.exclude_paths.len(), 2);
    /// ```
    pub fn exclude_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.exclude_paths.push(path.into());
        self
    }

    /// Set [`FsConfig::max_text_bytes`].
    pub fn max_text_bytes(mut self, bytes: u64) -> Self {
        self.max_text_bytes = bytes;
        self
    }

    /// Set [`FsConfig::attachment_bytes`] and its cap.
    pub fn attachment_bytes(mut self, on: bool, max_bytes: u64) -> Self {
        self.attachment_bytes = on;
        self.max_attachment_bytes = max_bytes;
        self
    }

    /// Set [`FsConfig::include_hidden`].
    pub fn include_hidden(mut self, on: bool) -> Self {
        self.include_hidden = on;
        self
    }
}
