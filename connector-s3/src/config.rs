//! What to sync and how to reach it: [`S3Config`] and [`S3Credentials`],
//! a serde shape a host reads from JSON or TOML, checked once by
//! [`S3Connector::new`](crate::S3Connector::new).

use std::fmt;
use std::time::Duration;

use connector_core::options::{RetryPolicy, SourceOptions};
use connector_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

/// How the connector signs its requests. In configuration: `"chain"`,
/// `"anonymous"`, or `{"access_key_id", "secret_access_key",
/// "session_token"}` (the last two are never written back out).
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

/// `"chain"`, `"anonymous"`, or `{"access_key_id", "secret_access_key",
/// "session_token"}`; written back without the secret and the token.
impl Serialize for S3Credentials {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            S3Credentials::Chain => s.serialize_str("chain"),
            S3Credentials::Anonymous => s.serialize_str("anonymous"),
            S3Credentials::Static { access_key_id, .. } => {
                #[derive(Serialize)]
                struct KeyIdOnly<'a> {
                    access_key_id: &'a str,
                }
                KeyIdOnly { access_key_id }.serialize(s)
            }
        }
    }
}

/// The map form of static keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaticKeys {
    access_key_id: String,
    secret_access_key: SecretString,
    #[serde(default)]
    session_token: Option<SecretString>,
}

impl<'de> Deserialize<'de> for S3Credentials {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = S3Credentials;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "\"chain\", \"anonymous\" or {\"access_key_id\", \"secret_access_key\"}",
                )
            }

            fn visit_str<E: serde::de::Error>(
                self,
                v: &str,
            ) -> std::result::Result<Self::Value, E> {
                match v {
                    "chain" => Ok(S3Credentials::Chain),
                    "anonymous" => Ok(S3Credentials::Anonymous),
                    other => Err(E::unknown_variant(other, &["chain", "anonymous"])),
                }
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let keys =
                    StaticKeys::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(S3Credentials::Static {
                    access_key_id: keys.access_key_id,
                    secret_access_key: keys.secret_access_key,
                    session_token: keys.session_token,
                })
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Settings of an [`S3Connector`](crate::S3Connector): a bucket, what in it
/// to sync, where the service is, and the options every source shares
/// (`options`: concurrency, rate, retry, timeouts, attachment bytes).
///
/// Built in code:
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
/// assert_eq!(config.options.concurrency, Some(32));
/// ```
///
/// or read from configuration (unknown fields are refused; the secret key
/// and the session token are never written back out):
///
/// ```
/// use connector_s3::S3Config;
///
/// let config: S3Config = serde_json::from_value(serde_json::json!({
///     "bucket": "docs",
///     "prefixes": ["wiki/"],
///     "endpoint": "https://minio.example.com",
///     "path_style": true,
///     "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "wJalrXUtnFEMI"},
///     "options": {"concurrency": 16, "attachment_max_bytes": 1048576}
/// }))?;
/// assert_eq!(config.options.concurrency, Some(16));
/// assert!(!serde_json::to_string(&config)?.contains("wJalr"));
/// let typo = serde_json::from_value::<S3Config>(serde_json::json!({
///     "bucket": "docs", "prefix": "wiki/"
/// }));
/// assert!(typo.unwrap_err().to_string().contains("unknown field `prefix`"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct S3Config {
    /// The bucket (a bare name).
    pub bucket: String,
    /// Key prefixes to sync (`reports/2026/`); none means the whole bucket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<String>,
    /// Glob patterns a key must match one of (none: every key). A pattern
    /// without `/` matches the key's file name (`*.md`); one with `/` matches
    /// the whole key (`docs/**/*.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Glob patterns of keys to leave out, matched like [`S3Config::include`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// A custom endpoint (MinIO, R2, GCS interoperability, moto); `None` is AWS.
    /// Plain `http://` is accepted only for loopback addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The region; `None` takes it from the AWS chain (`AWS_REGION`, the
    /// profile, IMDS), or `us-east-1` with a custom endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), as MinIO and moto need.
    #[serde(default)]
    pub path_style: bool,
    /// The shared-config profile for [`S3Credentials::Chain`] (else `AWS_PROFILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// How requests are signed (default: the AWS credential chain).
    #[serde(default)]
    pub credentials: S3Credentials,
    /// Text objects larger than this are a per-document failure (default 10 MiB).
    #[serde(default = "default_max_text_bytes")]
    pub max_text_bytes: u64,
    /// Download PDF, Office, OpenDocument, RTF and email objects and put
    /// their text in sections (with the `extract` feature, on by default).
    /// An object that cannot be read is a per-document failure naming the
    /// reason; off, such objects are attachment entries only.
    #[serde(default = "default_extract")]
    pub extract: bool,
    /// Keys per `ListObjectsV2` page, 1 to 1000 (default 1000).
    #[serde(default = "default_page_size")]
    pub page_size: i32,
    /// Yield a checkpoint after this many listed keys (default 500).
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: usize,
    /// A poll window starts this much earlier (default 15 minutes). S3
    /// dates a multipart upload by when it *began*, so an upload that began
    /// before a sync and finished after it carries a `LastModified` older
    /// than the next window; looking back catches uploads that took up to
    /// this long.
    #[serde(
        rename = "poll_lookback_secs",
        default = "default_poll_lookback",
        with = "secs"
    )]
    pub poll_lookback: Duration,
    /// Shared options: `concurrency` (downloads in flight, default
    /// [`DEFAULT_CONCURRENCY`]), `rate` (requests per second at most; unset:
    /// unpaced until the store throttles), `retry`, `connect_timeout_secs`,
    /// `request_timeout_secs` (per request attempt; a body read must also
    /// not stall longer), `attachment_max_bytes` (put non-text bytes in the
    /// attachment entry up to this size; larger objects are failures).
    /// `tls_roots` and `proxy` are not supported by this source.
    #[serde(default)]
    pub options: SourceOptions,
}

/// Downloads in flight when `options.concurrency` is unset; see
/// `docs/s3.md` for the measurement.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Time to open a connection when `options.connect_timeout_secs` is unset.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Time for one request attempt when `options.request_timeout_secs` is unset.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

fn default_max_text_bytes() -> u64 {
    10 << 20
}

fn default_extract() -> bool {
    true
}

fn default_page_size() -> i32 {
    1000
}

fn default_checkpoint_every() -> usize {
    500
}

fn default_poll_lookback() -> Duration {
    Duration::from_secs(15 * 60)
}

/// Durations as whole or fractional seconds.
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(|_| {
            serde::de::Error::custom(format!("{secs} is not a number of seconds of 0 or more"))
        })
    }
}

impl S3Config {
    /// Defaults for `bucket`: the whole bucket, the AWS credential chain,
    /// 10 MiB text cap, [`DEFAULT_CONCURRENCY`] downloads in flight.
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
            max_text_bytes: default_max_text_bytes(),
            extract: default_extract(),
            page_size: default_page_size(),
            checkpoint_every: default_checkpoint_every(),
            poll_lookback: default_poll_lookback(),
            options: SourceOptions::default(),
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

    /// Extract the text of PDF, Office and similar objects (default on).
    pub fn extract(mut self, yes: bool) -> Self {
        self.extract = yes;
        self
    }

    /// Put the bytes of non-text objects into their attachment entry, up to
    /// `max_bytes` each (`options.attachment_max_bytes`); `on = false`
    /// leaves them out.
    pub fn attachment_bytes(mut self, on: bool, max_bytes: u64) -> Self {
        self.options.attachment_max_bytes = on.then_some(max_bytes);
        self
    }

    /// Downloads in flight (`options.concurrency`).
    pub fn concurrency(mut self, downloads: usize) -> Self {
        self.options.concurrency = Some(downloads);
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

    /// Attempts per request, the first included (`options.retry.max_attempts`).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.options.retry = self.options.retry.with_max_attempts(attempts);
        self
    }

    /// Set the retry policy (`options.retry`).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.options.retry = retry;
        self
    }

    /// Set [`S3Config::options`].
    pub fn options(mut self, options: SourceOptions) -> Self {
        self.options = options;
        self
    }

    /// Set [`S3Config::poll_lookback`].
    pub fn poll_lookback(mut self, lookback: Duration) -> Self {
        self.poll_lookback = lookback;
        self
    }

    /// Downloads in flight.
    pub(crate) fn concurrency_value(&self) -> usize {
        self.options.concurrency_or(DEFAULT_CONCURRENCY)
    }

    /// Check every field; the error names the field and the fix.
    pub(crate) fn check(&self) -> Result<Option<Url>> {
        check_bucket(&self.bucket)?;
        self.options
            .validate()
            .map_err(|e| Error::config(format!("options.{}", e.message())))?;
        if self.checkpoint_every == 0 {
            return Err(Error::config("checkpoint_every must be at least 1"));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(Error::config(format!(
                "page_size {} is out of range: S3 lists 1 to 1000 keys per page",
                self.page_size
            )));
        }
        if !self.options.tls_roots.is_empty() || self.options.proxy.is_some() {
            return Err(Error::config(
                "options.tls_roots and options.proxy are not supported by the s3 source \
                 (it trusts the platform's certificate store and connects directly)",
            ));
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
                "credentials need both access_key_id and secret_access_key",
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
            "bucket is empty: set it to the bucket's name",
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

/// A custom endpoint: core's URL check (`https://`, or `http://` to a
/// loopback address; no credentials in it), and no query or fragment,
/// which the SDK would drop or mangle.
pub(crate) fn check_endpoint(endpoint: &str) -> Result<Url> {
    let url = connector_core::url::check_base_url("endpoint", endpoint)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "endpoint `{}` must not have a query or fragment",
            connector_core::url::without_query(&url)
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config("endpoint has no host"));
    }
    Ok(url)
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
        assert!(err.to_string().contains("scheme \"ftp\""), "{err}");
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
        let err = S3Config::new("bucket").concurrency(0).check().unwrap_err();
        assert!(err.to_string().contains("options.concurrency"), "{err}");
        let err = S3Config::new("bucket")
            .options(SourceOptions::default().with_tls_root("ca.pem"))
            .check()
            .unwrap_err();
        assert!(err.to_string().contains("options.tls_roots"), "{err}");
        assert!(S3Config::new("bucket").page_size(5000).check().is_err());
        assert!(S3Config::new("bucket").region("us east").check().is_err());
        let empty = S3Config::new("bucket").credentials(S3Credentials::fixed("AKIA", ""));
        assert!(empty.check().is_err());
    }

    #[test]
    fn serde_shapes_and_field_errors() {
        let config: S3Config = serde_json::from_value(serde_json::json!({
            "bucket": "docs",
            "credentials": "anonymous",
            "poll_lookback_secs": 60,
            "options": {"retry": {"max_attempts": 2}}
        }))
        .unwrap();
        assert!(matches!(config.credentials, S3Credentials::Anonymous));
        assert_eq!(config.poll_lookback, Duration::from_secs(60));
        assert_eq!(config.options.retry.max_attempts, 2);
        assert_eq!(config.concurrency_value(), DEFAULT_CONCURRENCY);
        // What is written reads back the same.
        let back: S3Config =
            serde_json::from_value(serde_json::to_value(&config).unwrap()).unwrap();
        assert!(matches!(back.credentials, S3Credentials::Anonymous));
        assert_eq!(back.page_size, 1000);

        let keys = serde_json::json!({
            "bucket": "docs",
            "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "wJalr", "session_token": "FwoG"}
        });
        let config: S3Config = serde_json::from_value(keys).unwrap();
        let written = serde_json::to_string(&config).unwrap();
        assert!(written.contains("AKIAEXAMPLE"), "{written}");
        assert!(
            !written.contains("wJalr") && !written.contains("FwoG"),
            "{written}"
        );

        for (bad, field) in [
            (
                serde_json::json!({"bucket": "docs", "credentials": {"access_key_id": "AKIA"}}),
                "secret_access_key",
            ),
            (
                serde_json::json!({"bucket": "docs", "credentials": "sso"}),
                "chain",
            ),
            (
                serde_json::json!({"bucket": "docs", "options": {"concurency": 3}}),
                "concurency",
            ),
        ] {
            let err = serde_json::from_value::<S3Config>(bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{err}");
        }
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
