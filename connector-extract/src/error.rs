//! Why an extraction failed, as a [`Reason`] a program can branch on.
//!
//! Every failure reaches the caller as a [`connector_core::Error`] of kind
//! [`ErrorKind::Decode`] (or [`ErrorKind::Io`] when reading the input
//! failed) whose message names the file and the reason. The precise
//! [`Reason`] travels as the error's source; [`reason`] reads it back:
//!
//! ```
//! use connector_extract::{Extractor, Reason, reason};
//!
//! let err = Extractor::default()
//!     .extract_blocking(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 legacy", "old.doc", None)
//!     .unwrap_err();
//! assert_eq!(reason(&err), Some(Reason::Unsupported));
//! assert!(err.to_string().starts_with("could not decode: old.doc: unsupported format"));
//! ```

use std::fmt;

use connector_core::{Error, ErrorKind};

/// What kind of failure an extraction ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The format has no extractor (legacy `.doc`, images, archives, …).
    Unsupported,
    /// The format is supported, but its cargo feature is not enabled.
    FeatureDisabled,
    /// The file is encrypted with a password we do not have.
    Encrypted,
    /// The file, or what it unpacks to, exceeds a limit of
    /// [`ExtractOptions`](crate::ExtractOptions).
    TooLarge,
    /// The file is damaged, truncated or not what it claims to be.
    Malformed,
    /// Extraction took longer than the time budget.
    TimedOut,
    /// The parser panicked; the panic was contained.
    Panicked,
    /// Reading the input failed.
    Io,
}

impl Reason {
    /// A short phrase, the part of the error message after the file name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unsupported => "unsupported format",
            Reason::FeatureDisabled => "format not compiled in",
            Reason::Encrypted => "encrypted",
            Reason::TooLarge => "over a limit",
            Reason::Malformed => "malformed",
            Reason::TimedOut => "time budget exceeded",
            Reason::Panicked => "parser panicked",
            Reason::Io => "read failed",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for Reason {}

/// The [`Reason`] of an error returned by this crate, if it is one.
pub fn reason(err: &Error) -> Option<Reason> {
    std::error::Error::source(err)?
        .downcast_ref::<Reason>()
        .copied()
}

/// A failure inside the crate: a reason and a detail; the file name is added
/// when it becomes a [`connector_core::Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) reason: Reason,
    pub(crate) detail: String,
}

impl Failure {
    pub(crate) fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }

    pub(crate) fn malformed(detail: impl fmt::Display) -> Self {
        Self::new(Reason::Malformed, detail.to_string())
    }

    pub(crate) fn too_large(detail: impl Into<String>) -> Self {
        Self::new(Reason::TooLarge, detail)
    }

    pub(crate) fn unsupported(detail: impl Into<String>) -> Self {
        Self::new(Reason::Unsupported, detail)
    }

    pub(crate) fn encrypted(detail: impl Into<String>) -> Self {
        Self::new(Reason::Encrypted, detail)
    }

    /// The SDK error: `"<file>: <reason>: <detail>"`, with the [`Reason`] as source.
    pub(crate) fn into_error(self, name: &str) -> Error {
        let kind = match self.reason {
            Reason::Io => ErrorKind::Io,
            _ => ErrorKind::Decode,
        };
        let message = if self.detail.is_empty() {
            format!("{name}: {}", self.reason)
        } else {
            format!("{name}: {}: {}", self.reason, self.detail)
        };
        Error::new(kind, message).with_source(self.reason)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}

/// `Result` inside the crate.
pub(crate) type Res<T> = std::result::Result<T, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_file_reason_and_detail_once() {
        let err = Failure::encrypted("a user password is required").into_error("q3.pdf");
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert_eq!(
            err.to_string(),
            "could not decode: q3.pdf: encrypted: a user password is required"
        );
        assert_eq!(reason(&err), Some(Reason::Encrypted));
        assert_eq!(reason(&Error::config("x")), None);
    }
}
