//! What to sync and how to reach it: [`S3Config`] and [`S3Credentials`],
//! checked once by [`S3Connector::new`](crate::S3Connector::new).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use connector_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// How the connector signs its requests.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum S3Credentials {
    /// The standard AWS credential chain, in its usual order: environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`),
    /// the shared config and credentials files (`AWS_PROFILE`, or
    /// [`S3Config::profile`]), web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` +
    /// `AWS_ROLE_ARN`: EKS IRSA), the ECS container endpoint, and EC2
    /// instance metadata (IMDS).
    #[default]
    Chain,
    /// Fixed keys. The secret and the session token are `secrecy` values:
    /// they never appear in `Debug` output, errors or logs.
    Static {
        /// The access key id (`AKIA…`).
        access_key_id: String,
        /// The secret access key.
        secret_access_key: SecretString,
        /// A session token, for temporary credentials.
        session_token: Option<SecretString>,
    },
    /// Unsigned requests, for public buckets (`aws --no-sign-request`).
    Anonymous,
}

impl S3Credentials {
    /// Static keys without a session token.
    ///
    /// ```
    /// use connector_s3::S3Credentials;
    ///
    /// let creds = S3Credentials::fixed("AKIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG");
    /// assert!(!format!("{creds:?}").contains("wJalr"));
    /// ```
    pub fn fixed(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        S3Credentials::Static {
            access_key_id: access_key_id.into(),
            secret_access_key: SecretString::from(secret_access_key.into()),
            session_token: None,
        }
    }

    /// The secret parts, to scrub them from any text that leaves the connector.
    pub(crate) fn secrets(&self) -> Vec<String> {
        match self {
            S3Credentials::Static {
                secret_access_key,
                session_token,
                ..
            } => std::iter::once(secret_access_key)
                .chain(session_token.as_ref())
                .map(|s| s.expose_secret().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            S3Credentials::Chain => f.write_str("Chain"),
            S3Credentials::Anonymous => f.write_str("Anonymous"),
            S3Credentials::Static {
                access_key_id,
                session_token,
                ..
            } => f
                .debug_struct("Static")
                .field("access_key_id", &mask(access_key_id))
                .field("secret_access_key", &"[REDACTED]")
                .field(
                    "session_token",
                    &session_token.as_ref().map(|_| "[REDACTED]"),
                )
                .finish(),
        }
    }
}

/// The first four characters of an access key id, the rest starred.
fn mask(id: &str) -> String {
    let shown: String = id.chars().take(4).collect();
    format!("{shown}****")
}

/// Settings of an [`S3Connector`](crate::S3Connector): a bucket, what in it
/// to sync, where the service is, and how hard to work.
///
/// ```
/// use connector_s3::S3Config;
///
/// let config = S3Config::new("my-bucket")
///     .prefix("reports/")
///     .prefix("wiki/")
///     .exclude("*.tmp")
///     .endpoint("http://127.0.0.1:9000")
///     .path_style(true)
///     .concurrency(32);
/// assert_eq!(config.prefixes, ["reports/", "wiki/"]);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct S3Config {
    /// The bucket.
    pub bucket: String,
    /// Key prefixes to sync (`reports/2026/`); none means the whole bucket.
    pub prefixes: Vec<String>,
    /// Glob patterns a key must match one of (none: every key). A pattern
    /// without `/` matches the key's file name (`*.md`); one with `/` matches
    /// the whole key (`docs/**/*.md`).
    pub include: Vec<String>,
    /// Glob patterns of keys to leave out, matched like [`S3Config::include`].
    pub exclude: Vec<String>,
    /// A custom endpoint (MinIO, R2, GCS interoperability, moto); `None` is AWS.
    /// Plain `http://` is accepted only for loopback addresses.
    pub endpoint: Option<String>,
    /// The region; `None` takes it from the AWS chain (`AWS_REGION`, the
    /// profile, IMDS), or `us-east-1` with a custom endpoint.
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), as MinIO and moto need.
    pub path_style: bool,
    /// The shared-config profile for [`S3Credentials::Chain`] (else `AWS_PROFILE`).
    pub profile: Option<String>,
    /// How requests are signed.
    pub credentials: S3Credentials,
    /// Text objects larger than this are a per-document failure.
    pub max_text_bytes: u64,
    /// Put the bytes of non-text objects into their attachment entry.
    pub attachment_bytes: bool,
    /// With [`S3Config::attachment_bytes`], larger objects are a per-document failure.
    pub max_attachment_bytes: u64,
    /// Objects downloaded at the same time.
    pub concurrency: usize,
    /// Keys per `ListObjectsV2` page (1 to 1000).
    pub page_size: i32,
    /// Yield a checkpoint after this many listed keys.
    pub checkpoint_every: usize,
    /// Attempts per request, including the first (throttling and 5xx are retried).
    pub max_attempts: u32,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed between two reads of a response.
    pub read_timeout: Duration,
    /// A poll window starts this much earlier. S3 dates a multipart upload
    /// by when it *began*, so an upload that began before a sync and
    /// finished after it carries a `LastModified` older than the next
    /// window; looking back catches uploads that took up to this long.
    pub poll_lookback: Duration,
}

/// Downloads in flight by default; see `docs/s3.md` for the measurement.
pub const DEFAULT_CONCURRENCY: usize = 64;

impl S3Config {
    /// Defaults for `bucket`: the whole bucket, the AWS credential chain,
    /// 10 MiB caps, [`DEFAULT_CONCURRENCY`] downloads in flight.
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            prefixes: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            endpoint: None,
            region: None,
            path_style: false,
            profile: None,
            credentials: S3Credentials::Chain,
            max_text_bytes: 10 << 20,
            attachment_bytes: false,
            max_attachment_bytes: 10 << 20,
            concurrency: DEFAULT_CONCURRENCY,
            page_size: 1000,
            checkpoint_every: 500,
            max_attempts: 5,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            poll_lookback: Duration::from_secs(15 * 60),
        }
    }

    /// Like [`S3Config::new`], with the endpoint from `AWS_ENDPOINT_URL_S3`
    /// or `AWS_ENDPOINT_URL` when set (path-style then, as most S3-compatible
    /// stores want).
    pub fn from_env(bucket: impl Into<String>) -> Self {
        let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
        let mut config = Self::new(bucket);
        config.path_style = endpoint.is_some();
        config.endpoint = endpoint;
        config
    }

    /// Sync keys under `prefix` (repeatable).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefixes.push(prefix.into());
        self
    }

    /// Sync only keys matching `glob` (repeatable).
    pub fn include(mut self, glob: impl Into<String>) -> Self {
        self.include.push(glob.into());
        self
    }

    /// Leave out keys matching `glob` (repeatable).
    pub fn exclude(mut self, glob: impl Into<String>) -> Self {
        self.exclude.push(glob.into());
        self
    }

    /// Set [`S3Config::endpoint`].
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Set [`S3Config::region`].
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Set [`S3Config::path_style`].
    pub fn path_style(mut self, on: bool) -> Self {
        self.path_style = on;
        self
    }

    /// Set [`S3Config::profile`].
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// Set [`S3Config::credentials`].
    pub fn credentials(mut self, credentials: S3Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Set [`S3Config::max_text_bytes`].
    pub fn max_text_bytes(mut self, bytes: u64) -> Self {
        self.max_text_bytes = bytes;
        self
    }

    /// Set [`S3Config::attachment_bytes`] and its cap.
    pub fn attachment_bytes(mut self, on: bool, max_bytes: u64) -> Self {
        self.attachment_bytes = on;
        self.max_attachment_bytes = max_bytes;
        self
    }

    /// Set [`S3Config::concurrency`].
    pub fn concurrency(mut self, downloads: usize) -> Self {
        self.concurrency = downloads;
        self
    }

    /// Set [`S3Config::page_size`].
    pub fn page_size(mut self, keys: i32) -> Self {
        self.page_size = keys;
        self
    }

    /// Set [`S3Config::checkpoint_every`].
    pub fn checkpoint_every(mut self, keys: usize) -> Self {
        self.checkpoint_every = keys;
        self
    }

    /// Set [`S3Config::max_attempts`].
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Set [`S3Config::poll_lookback`].
    pub fn poll_lookback(mut self, lookback: Duration) -> Self {
        self.poll_lookback = lookback;
        self
    }

    /// Check every field; the error names the field and the fix.
    pub(crate) fn check(&self) -> Result<Option<Url>> {
        check_bucket(&self.bucket)?;
        if self.concurrency == 0 || self.checkpoint_every == 0 || self.max_attempts == 0 {
            return Err(Error::config(
                "concurrency, checkpoint_every and max_attempts must be at least 1",
            ));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(Error::config(format!(
                "page_size {} is out of range: S3 lists 1 to 1000 keys per page",
                self.page_size
            )));
        }
        if let Some(region) = &self.region
            && (region.is_empty() || region.contains(|c: char| c.is_whitespace() || c == '/'))
        {
            return Err(Error::config(format!(
                "region `{region}` is not a region name such as us-east-1 (R2 takes `auto`)"
            )));
        }
        if let S3Credentials::Static {
            access_key_id,
            secret_access_key,
            ..
        } = &self.credentials
            && (access_key_id.is_empty() || secret_access_key.expose_secret().is_empty())
        {
            return Err(Error::config(
                "static credentials need both an access key id and a secret access key",
            ));
        }
        self.endpoint.as_deref().map(check_endpoint).transpose()
    }
}

/// Bucket names: 3 to 63 characters, no slash (a common mistake is to pass
/// `bucket/prefix`), nothing that cannot appear in a host name or path.
fn check_bucket(bucket: &str) -> Result<()> {
    if bucket.is_empty() {
        return Err(Error::config(
            "the bucket name is empty: pass --bucket NAME",
        ));
    }
    if let Some((b, rest)) = bucket.split_once('/') {
        return Err(Error::config(format!(
            "bucket `{bucket}` contains `/`: pass the bucket `{b}` and the prefix `{rest}` separately"
        )));
    }
    if bucket.starts_with("s3://") || bucket.starts_with("s3:") {
        return Err(Error::config(format!(
            "bucket `{bucket}` should be a bare name, without `s3://`"
        )));
    }
    let valid_chars = bucket
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !(3..=63).contains(&bucket.len()) || !valid_chars {
        return Err(Error::config(format!(
            "bucket `{bucket}` is not a valid bucket name (3 to 63 letters, digits, `.`, `-`)"
        )));
    }
    Ok(())
}

/// A custom endpoint must be an `https://` URL, or `http://` to a loopback
/// address; without credentials, query or fragment.
pub(crate) fn check_endpoint(endpoint: &str) -> Result<Url> {
    let url = Url::parse(endpoint).map_err(|e| {
        Error::config(format!(
            "endpoint `{endpoint}` is not a URL ({e}); expected e.g. https://s3.example.com"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            "the endpoint URL must not carry credentials; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "endpoint `{}` must not have a query or fragment",
            without_query(&url)
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::config(format!(
                "endpoint `{endpoint}` uses plain http, which is allowed only for loopback \
                 addresses (127.0.0.1, localhost, [::1]); use https://"
            )));
        }
        other => {
            return Err(Error::config(format!(
                "endpoint `{endpoint}` has scheme `{other}`; expected https:// (or http:// to a loopback address)"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(format!("endpoint `{endpoint}` has no host")));
    }
    Ok(url)
}

fn without_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_core::ErrorKind;

    #[test]
    fn http_only_for_loopback() {
        assert!(check_endpoint("http://127.0.0.1:9000").is_ok());
        assert!(check_endpoint("http://127.8.0.1:9000").is_ok());
        assert!(check_endpoint("http://localhost:9000").is_ok());
        assert!(check_endpoint("http://[::1]:9000").is_ok());
        assert!(check_endpoint("https://minio.example.com").is_ok());
        let err = check_endpoint("http://minio.example.com").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("only for loopback"), "{err}");
        let err = check_endpoint("http://10.0.0.5:9000").unwrap_err();
        assert!(err.to_string().contains("only for loopback"), "{err}");
        let err = check_endpoint("ftp://127.0.0.1").unwrap_err();
        assert!(err.to_string().contains("scheme `ftp`"), "{err}");
        assert!(check_endpoint("not a url").is_err());
        let err = check_endpoint("https://key:secret@s3.example.com").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn bucket_names() {
        assert!(check_bucket("my-bucket.v2").is_ok());
        let err = check_bucket("bucket/prefix").unwrap_err();
        assert!(err.to_string().contains("prefix `prefix`"), "{err}");
        assert!(check_bucket("s3://bucket").is_err());
        assert!(check_bucket("ab").is_err());
        assert!(check_bucket("").is_err());
    }

    #[test]
    fn config_checks() {
        assert!(S3Config::new("bucket").check().is_ok());
        assert!(S3Config::new("bucket").concurrency(0).check().is_err());
        assert!(S3Config::new("bucket").page_size(5000).check().is_err());
        assert!(S3Config::new("bucket").region("us east").check().is_err());
        let empty = S3Config::new("bucket").credentials(S3Credentials::fixed("AKIA", ""));
        assert!(empty.check().is_err());
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let config = S3Config::new("bucket").credentials(S3Credentials::Static {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned().into(),
            session_token: Some("FwoGZXIvYXdzEXAMPLETOKEN".to_owned().into()),
        });
        let debug = format!("{config:?}");
        assert!(!debug.contains("wJalr"), "{debug}");
        assert!(!debug.contains("FwoGZ"), "{debug}");
        assert!(!debug.contains("IOSFODNN"), "{debug}");
        assert!(debug.contains("AKIA****"), "{debug}");
        assert_eq!(config.credentials.secrets().len(), 2);
    }
}
