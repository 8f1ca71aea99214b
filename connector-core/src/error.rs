//! The one error type every connector, store, sink and the runner return.
//!
//! An [`Error`] has a [`ErrorKind`] a program can branch on (retry it? ask
//! for new credentials? tell the user to fix a flag?), a message a person can
//! act on, and optional context: the request that failed (method and URL
//! *without* its query string) and how long the server asked us to wait.
//! Nothing that reaches an `Error` may hold a secret: build messages from
//! names, URLs without queries and short, already-redacted body excerpts.

use std::fmt;
use std::time::Duration;

/// What went wrong, coarse enough to decide what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Invalid configuration or flags; the message names the field and the fix.
    Config,
    /// The credentials were rejected (HTTP 401) or could not be obtained.
    Auth,
    /// The credentials are valid but lack permission (HTTP 403).
    Forbidden,
    /// The thing asked for does not exist (HTTP 404, missing path or bucket).
    NotFound,
    /// The server throttled us and retries ran out (HTTP 429).
    RateLimited,
    /// A failure that may go away by itself (5xx, timeout, connection reset).
    Transient,
    /// Any other unexpected HTTP status.
    Http,
    /// A response or stored file could not be decoded.
    Decode,
    /// Local I/O failed (files, state directory, sink).
    Io,
    /// The operation was cancelled.
    Cancelled,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// A short lower-case name, used as the prefix of [`Error`]'s `Display`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "configuration error",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::Forbidden => "permission denied",
            ErrorKind::NotFound => "not found",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Transient => "temporary failure",
            ErrorKind::Http => "unexpected HTTP response",
            ErrorKind::Decode => "could not decode",
            ErrorKind::Io => "I/O error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Other => "error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The SDK's error: a kind, a message, and optional request context.
///
/// ```
/// use connector_core::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::NotFound, "project FOO does not exist")
///     .with_request("GET", "https://example.atlassian.net/rest/api/3/project/FOO");
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// assert_eq!(
///     err.to_string(),
///     "not found: project FOO does not exist (GET https://example.atlassian.net/rest/api/3/project/FOO)"
/// );
/// ```
pub struct Error {
    kind: ErrorKind,
    message: String,
    request: Option<String>,
    retry_after: Option<Duration>,
    status: Option<u16>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a message a person can act on.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            request: None,
            retry_after: None,
            status: None,
            source: None,
        }
    }

    /// The same error as [`ErrorKind::RateLimited`]: a refusal the server
    /// explained as a rate limit (a 403 with a budget spent).
    #[cfg(feature = "http")]
    pub(crate) fn rate_limited(mut self) -> Self {
        self.kind = ErrorKind::RateLimited;
        self
    }

    /// Shorthand for [`ErrorKind::Config`]: name the field and the fix in `message`.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// Shorthand for [`ErrorKind::Io`] with the underlying I/O error as source.
    pub fn io(message: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, message).with_source(source)
    }

    /// Shorthand for [`ErrorKind::Decode`] with the underlying error as source.
    pub fn decode(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::new(ErrorKind::Decode, message).with_source(source)
    }

    /// Attach the failed request as `METHOD URL`. Strip the query string
    /// first: it may carry tokens (pre-signed URLs, OAuth callbacks).
    pub fn with_request(mut self, method: &str, url_without_query: &str) -> Self {
        self.request = Some(format!("{method} {url_without_query}"));
        self
    }

    /// Attach how long the server asked us to wait before trying again.
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// Attach the HTTP status the server answered with.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Attach the lower-level cause. Its `Display` becomes part of ours, so it
    /// must not contain a secret either.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Prefix the message with where it happened (`"reading state"`).
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without kind prefix or request.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status of the failed response, when there was one
    /// (a connector tells `410 Gone` from other errors with it).
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The failed request as `METHOD URL`, when there was one.
    pub fn request(&self) -> Option<&str> {
        self.request.as_deref()
    }

    /// How long the server asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether this error ends a connector's stream rather than failing one
    /// document: the credentials stopped working, the server keeps refusing
    /// for throttling, or the sync was cancelled. Anything else met while
    /// reading one object (a 404 on its comments, a body that does not
    /// parse) is that object's [`Item::Failure`](crate::Item::Failure).
    ///
    /// ```
    /// use connector_core::{Error, ErrorKind};
    /// assert!(Error::new(ErrorKind::Auth, "401").ends_stream());
    /// assert!(!Error::new(ErrorKind::NotFound, "404").ends_stream());
    /// ```
    pub fn ends_stream(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Auth | ErrorKind::RateLimited | ErrorKind::Cancelled
        )
    }

    /// Whether trying again later may succeed (throttling, 5xx, timeouts, I/O).
    pub fn is_temporary(&self) -> bool {
        matches!(self.kind, ErrorKind::Transient | ErrorKind::RateLimited)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(request) = &self.request {
            write!(f, " ({request})")?;
        }
        if let Some(source) = &self.source {
            let source = source.to_string();
            if !source.is_empty() && !self.message.contains(&source) {
                write!(f, ": {source}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("kind", &self.kind).field("message", &self.message);
        if let Some(request) = &self.request {
            s.field("request", request);
        }
        if let Some(wait) = &self.retry_after {
            s.field("retry_after", wait);
        }
        if let Some(status) = &self.status {
            s.field("status", status);
        }
        if let Some(source) = &self.source {
            s.field("source", &source.to_string());
        }
        s.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::Forbidden,
            _ => ErrorKind::Io,
        };
        Error::new(kind, err.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::new(ErrorKind::Decode, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_request_and_source() {
        let io = std::io::Error::other("disk full");
        let err = Error::io("writing out.jsonl", io).with_request("PUT", "file:///tmp/out.jsonl");
        assert_eq!(
            err.to_string(),
            "I/O error: writing out.jsonl (PUT file:///tmp/out.jsonl): disk full"
        );
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn temporary_kinds() {
        assert!(Error::new(ErrorKind::Transient, "503").is_temporary());
        assert!(Error::new(ErrorKind::RateLimited, "429").is_temporary());
        assert!(!Error::new(ErrorKind::NotFound, "404").is_temporary());
    }
}
