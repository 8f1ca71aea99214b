//! What to walk and how: [`FsConfig`], checked once by [`FsConnector::new`](crate::FsConnector::new).

use std::path::PathBuf;

use connector_core::options::SourceOptions;
use serde::{Deserialize, Serialize};

/// Settings of a [`FsConnector`](crate::FsConnector); the defaults suit a
/// documentation folder or a source tree. Deserializes from the same field
/// names (unknown fields refused), for hosts that keep configuration as
/// JSON or TOML; `options.concurrency` is how many files are read at once
/// (default 8), `options.attachment_max_bytes` puts the bytes of non-text
/// files up to that size into their attachment entry (none by default).
///
/// ```
/// use connector_fs::FsConfig;
///
/// let config = FsConfig::default()
///     .ignore("*.log")
///     .ignore("target/")
///     .max_text_bytes(1 << 20);
/// assert_eq!(config.ignore_patterns, ["*.log", "target/"]);
///
/// let from_json: FsConfig = serde_json::from_str(
///     r#"{"ignore_patterns": ["*.log"], "options": {"concurrency": 4}}"#,
/// ).unwrap();
/// assert_eq!(from_json.read_concurrency(), 4);
/// assert!(serde_json::from_str::<FsConfig>(r#"{"ignore": []}"#).is_err());
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// Yield a checkpoint after this many walked files.
    pub checkpoint_every: usize,
    /// Files and directories never walked, whatever the patterns say; see
    /// [`FsConfig::exclude_path`].
    pub exclude_paths: Vec<PathBuf>,
    /// Extract the text of PDF, Word, PowerPoint, Excel, OpenDocument, RTF
    /// and email files into sections (with the `extract` feature, on by
    /// default). A file that cannot be read is a per-document failure
    /// naming the reason; off, such files are attachment entries only.
    pub extract: bool,
    /// Options every source shares (here: concurrency and the attachment cap).
    pub options: SourceOptions,
}

impl Default for FsConfig {
    fn default() -> Self {
        Self {
            ignore_patterns: Vec::new(),
            respect_ignore_files: true,
            include_hidden: false,
            max_text_bytes: 10 << 20,
            checkpoint_every: 500,
            exclude_paths: Vec::new(),
            extract: true,
            options: SourceOptions::default(),
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

    /// Put the bytes of non-text files of at most `max_bytes` into their
    /// attachment entry (`options.attachment_max_bytes`).
    pub fn attachment_bytes(mut self, max_bytes: u64) -> Self {
        self.options.attachment_max_bytes = Some(max_bytes);
        self
    }

    /// Files read at the same time (`options.concurrency`, default 8).
    pub fn read_concurrency(&self) -> usize {
        self.options.concurrency_or(8)
    }

    /// Set [`FsConfig::include_hidden`].
    pub fn include_hidden(mut self, on: bool) -> Self {
        self.include_hidden = on;
        self
    }
}
