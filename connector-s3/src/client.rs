//! The requests the connector makes — `ListBuckets`, `ListObjectsV2`,
//! `GetObject` — on one shared AWS SDK client, built on first use from the
//! credential chain, the region and the endpoint. Every request goes
//! through [`S3Api::call`]: core's rate control before each attempt, core's
//! retry policy (backon, with jitter) around it; the SDK's own retries are
//! off so that one layer decides.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::EncodingType;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use connector_core::options::RetryPolicy;
use connector_core::paging;
use connector_core::rate::{Budget, RateControl, RateLimit};
use connector_core::{Error, ErrorKind, Result, SourceMetrics};
use secrecy::ExposeSecret;
use url::Url;

use crate::config::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, S3Config, S3Credentials};
use crate::error::{Op, from_sdk};

/// Region used with a custom endpoint when none is configured: MinIO,
/// moto and most S3-compatible stores accept any, and sign with this one.
const CUSTOM_ENDPOINT_REGION: &str = "us-east-1";

/// Attempts at an endpoint that has never answered before giving up.
const UNREACHED_ATTEMPTS: u32 = 3;

/// Longest silence between two reads of a response.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// One object from a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
    pub storage_class: Option<String>,
}

/// A listing entry the connector cannot read (no size, a key that does not
/// decode): one per-document failure, the rest of the page goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    /// The key as listed (still encoded when it would not decode).
    pub key: String,
    pub reason: String,
}

/// One entry of a listing page.
pub(crate) type Record = std::result::Result<Listed, Malformed>;

/// The key of a listing entry, good or not.
pub(crate) fn record_key(record: &Record) -> &str {
    match record {
        Ok(listed) => &listed.key,
        Err(bad) => &bad.key,
    }
}

/// One `ListObjectsV2` page.
#[derive(Debug)]
pub(crate) struct Page {
    pub records: Vec<Record>,
    pub common_prefixes: Vec<String>,
    pub next_token: Option<String>,
}

/// The SDK client plus what every message needs.
#[derive(Debug, Clone)]
pub(crate) struct S3Api {
    client: Client,
    bucket: String,
    /// The endpoint as the user gave it, or `AWS S3`.
    endpoint_label: String,
    /// `http://host:port/bucket` or `s3://bucket`: request context in errors.
    bucket_url: String,
    secrets: Vec<String>,
    page_size: i32,
    rate: RateControl,
    retry: RetryPolicy,
    counters: Arc<Counters>,
    /// Whether the endpoint has answered anything yet.
    reached: Arc<AtomicBool>,
}

/// What the requests did so far, for [`SourceMetrics`].
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    waited_nanos: AtomicU64,
    bytes: AtomicU64,
}

fn add_time(counter: &AtomicU64, d: Duration) {
    let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    counter.fetch_add(nanos, Ordering::Relaxed);
}

/// Why an attempt failed: worth another one, or final.
enum Attempt {
    Again(Error),
    Final(Error),
}

/// Build the SDK client for `config` (async: the credential chain and the
/// region chain read files and, on AWS, instance metadata).
pub(crate) async fn connect(config: &S3Config, endpoint: Option<&Url>) -> Result<S3Api> {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let options = &config.options;
    let attempt_timeout = options.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(options.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
        .read_timeout(READ_TIMEOUT.min(attempt_timeout))
        .operation_attempt_timeout(attempt_timeout)
        .build();
    // Retries are `call`'s job (core's policy and rate control): the SDK
    // retrying too would multiply the attempts and hide throttling.
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts);
    if let Some(profile) = &config.profile {
        loader = loader.profile_name(profile);
    }
    match (&config.region, endpoint) {
        (Some(region), _) => loader = loader.region(Region::new(region.clone())),
        // A custom endpoint: the environment or us-east-1, never instance metadata.
        (None, Some(_)) => {
            let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()))
                .unwrap_or_else(|| CUSTOM_ENDPOINT_REGION.to_owned());
            loader = loader.region(Region::new(region));
        }
        (None, None) => {}
    }
    loader = match &config.credentials {
        S3Credentials::Chain => loader,
        S3Credentials::Anonymous => loader.no_credentials(),
        S3Credentials::Static {
            access_key_id,
            secret_access_key,
            session_token,
        } => loader.credentials_provider(Credentials::new(
            access_key_id.clone(),
            secret_access_key.expose_secret().to_owned(),
            session_token.as_ref().map(|t| t.expose_secret().to_owned()),
            None,
            "connector-s3-static",
        )),
    };
    let shared = loader.load().await;
    if shared.region().is_none() {
        return Err(Error::config(format!(
            "no AWS region for bucket `{}`: set region (or AWS_REGION)",
            config.bucket
        )));
    }
    let mut s3 = aws_sdk_s3::config::Builder::from(&shared).force_path_style(config.path_style);
    // Only the configured endpoint: one picked up from the environment here
    // would bypass the loopback check and change document ids.
    s3.set_endpoint_url(endpoint.map(|u| u.as_str().trim_end_matches('/').to_owned()));
    let client = Client::from_conf(s3.build());
    let endpoint_label = endpoint.map(|u| u.as_str().trim_end_matches('/').to_owned());
    let bucket_url = match &endpoint_label {
        Some(e) => format!("{e}/{}", config.bucket),
        None => format!("s3://{}", config.bucket),
    };
    Ok(S3Api {
        client,
        bucket: config.bucket.clone(),
        endpoint_label: endpoint_label.unwrap_or_else(|| "AWS S3".to_owned()),
        bucket_url,
        secrets: config.credentials.secrets(),
        page_size: config.page_size,
        // Unset: unpaced until the store throttles (S3 scales per prefix and
        // says `SlowDown` when it needs time).
        rate: RateControl::new(options.rate.map(RateLimit::per_second)),
        retry: options.retry.clone(),
        counters: Arc::default(),
        reached: Arc::default(),
    })
}

impl S3Api {
    fn op<'a>(&'a self, action: &'a str, method: &'a str, url: &'a str) -> Op<'a> {
        Op {
            action,
            method,
            url,
            bucket: Some(&self.bucket),
            key: None,
            endpoint: &self.endpoint_label,
            secrets: &self.secrets,
        }
    }

    /// What the requests did so far.
    pub(crate) fn metrics(&self) -> SourceMetrics {
        let c = &self.counters;
        let mut m = SourceMetrics::default();
        m.requests = c.requests.load(Ordering::Relaxed);
        m.retries = c.retries.load(Ordering::Relaxed);
        m.throttled = c.throttled.load(Ordering::Relaxed);
        m.throttled_time = Duration::from_nanos(c.waited_nanos.load(Ordering::Relaxed));
        m.bytes = c.bytes.load(Ordering::Relaxed);
        m
    }

    /// Count `n` body bytes read.
    pub(crate) fn read(&self, n: usize) {
        self.counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// The bucket.
    pub(crate) fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The endpoint as the user gave it, or `AWS S3`.
    pub(crate) fn endpoint_label(&self) -> &str {
        &self.endpoint_label
    }

    /// Run one request with core's rate control before every attempt and
    /// core's retry policy around it: temporary failures (throttling, 5xx,
    /// timeouts, a body that broke off) are tried again with jittered
    /// exponential backoff, waiting at least what the server asked for; a
    /// wait longer than `retry.max_retry_after` fails at once with that wait.
    pub(crate) async fn call<T, F, Fut>(&self, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let policy = &self.retry;
        let retries = usize::try_from(policy.max_attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        let backoff = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(policy.min_delay)
            .with_max_delay(policy.max_delay)
            .with_max_times(retries)
            .with_total_delay(Some(policy.max_elapsed));
        let attempts = AtomicU32::new(0);
        let once = || {
            let request = attempt();
            let attempts = &attempts;
            async move {
                add_time(&self.counters.waited_nanos, self.rate.acquire().await);
                attempts.fetch_add(1, Ordering::Relaxed);
                self.counters.requests.fetch_add(1, Ordering::Relaxed);
                match request.await {
                    Ok(value) => {
                        self.reached.store(true, Ordering::Relaxed);
                        self.rate.succeeded(&Budget::default());
                        Ok(value)
                    }
                    Err(e) => {
                        if e.status().is_some() {
                            self.reached.store(true, Ordering::Relaxed);
                        }
                        Err(self.judge(e, attempts.load(Ordering::Relaxed)))
                    }
                }
            }
        };
        let outcome = once
            .retry(backoff)
            .when(|a| matches!(a, Attempt::Again(_)))
            .adjust(|a, delay| match a {
                Attempt::Again(e) => delay.map(|d| e.retry_after().map_or(d, |w| w.max(d))),
                Attempt::Final(_) => None,
            })
            .notify(|a, delay| {
                if let Attempt::Again(e) = a {
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    if e.retry_after().is_some() {
                        add_time(&self.counters.waited_nanos, delay);
                    }
                    tracing::debug!(delay_ms = delay.as_millis() as u64, error = %e, "retrying");
                }
            })
            .await;
        outcome.map_err(|a| match a {
            Attempt::Final(e) | Attempt::Again(e) => e,
        })
    }

    /// Tell the rate control what a failure said, and whether to try again
    /// after `attempts` attempts.
    fn judge(&self, e: Error, attempts: u32) -> Attempt {
        let wait = e.retry_after();
        // `SlowDown` (503) and 429 are the store asking for less.
        if e.kind() == ErrorKind::RateLimited || e.status() == Some(503) {
            self.counters.throttled.fetch_add(1, Ordering::Relaxed);
            self.rate
                .throttled(wait.filter(|w| *w <= self.retry.max_retry_after));
        }
        match wait {
            Some(w) if w > self.retry.max_retry_after => Attempt::Final(e.context(format_args!(
                "the server asked to wait {}s, longer than allowed",
                w.as_secs()
            ))),
            // An endpoint that never answered is likely wrong or down: no
            // point in a minute of backoff before saying so.
            _ if !self.reached.load(Ordering::Relaxed) && attempts >= UNREACHED_ATTEMPTS => {
                Attempt::Final(e)
            }
            _ if e.is_temporary() => Attempt::Again(e),
            _ => Attempt::Final(e),
        }
    }

    /// One page of keys under `prefix`, after `start_after` or from `token`.
    pub(crate) async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        token: Option<String>,
        start_after: Option<String>,
    ) -> Result<Page> {
        let url = format!("{}/", self.bucket_url);
        let out = self
            .call(|| {
                let mut request = self
                    .client
                    .list_objects_v2()
                    .bucket(&self.bucket)
                    .max_keys(self.page_size)
                    .set_continuation_token(token.clone())
                    .set_start_after(start_after.clone())
                    .set_delimiter(delimiter.map(str::to_owned))
                    // Keys may hold characters XML 1.0 cannot carry; encoded, they list.
                    .encoding_type(EncodingType::Url);
                if !prefix.is_empty() {
                    request = request.prefix(prefix);
                }
                let url = &url;
                async move {
                    request
                        .send()
                        .await
                        .map_err(|e| from_sdk(e, &self.op("listing", "GET", url)))
                }
            })
            .await?;
        // Decode only what the server says it encoded: a store that ignores
        // the request sends keys as they are.
        let encoded = out.encoding_type() == Some(&EncodingType::Url);
        let truncated = out.is_truncated().unwrap_or(false);
        let next_token = out.next_continuation_token().map(str::to_owned);
        if truncated && next_token.is_none() {
            return Err(Error::new(
                ErrorKind::Decode,
                format!(
                    "listing bucket `{}` at {}: the page is truncated but has no continuation token",
                    self.bucket, self.endpoint_label
                ),
            )
            .with_request("GET", &url));
        }
        let records = out
            .contents()
            .iter()
            .enumerate()
            .map(|(n, o)| read_entry(o, encoded, n))
            .collect();
        let common_prefixes = out
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix())
            .map(|p| {
                if encoded {
                    url_decode(p)
                } else {
                    Ok(p.to_owned())
                }
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|p| {
                Error::new(
                    ErrorKind::Decode,
                    format!(
                        "listing bucket `{}` at {}: the prefix `{p}` does not decode to UTF-8",
                        self.bucket, self.endpoint_label
                    ),
                )
                .with_request("GET", &url)
            })?;
        Ok(Page {
            records,
            common_prefixes,
            next_token: if truncated { next_token } else { None },
        })
    }

    /// One page of the buckets these credentials can list.
    pub(crate) async fn buckets_page(&self, token: Option<String>) -> Result<paging::Page<String>> {
        let url = match self.endpoint_label.as_str() {
            "AWS S3" => "s3://".to_owned(),
            e => format!("{e}/"),
        };
        let out = self
            .call(|| {
                let request = self
                    .client
                    .list_buckets()
                    .set_continuation_token(token.clone());
                let url = &url;
                async move {
                    request.send().await.map_err(|e| {
                        let mut op = self.op("listing buckets at", "GET", url);
                        op.bucket = None;
                        from_sdk(e, &op)
                    })
                }
            })
            .await?;
        let names = out
            .buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned))
            .collect();
        let next = out
            .continuation_token()
            .map(|t| paging::PageCursor::Token(t.to_owned()));
        Ok(paging::Page::new(names, next))
    }

    /// Start downloading `key`; `None` when it no longer exists.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<GetObjectOutput>> {
        let url = format!("{}/{key}", self.bucket_url);
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => {
                let mut op = self.op("reading", "GET", &url);
                op.key = Some(key);
                Err(from_sdk(e, &op))
            }
        }
    }

    /// Describe a failure while reading the body of `key`.
    pub(crate) fn body_error(&self, key: &str, e: impl std::fmt::Display) -> Error {
        Error::new(
            ErrorKind::Transient,
            crate::error::scrub(
                &format!(
                    "reading `{key}` in bucket `{}` at {}: the download broke off: {e}",
                    self.bucket, self.endpoint_label
                ),
                &self.secrets,
            ),
        )
        .with_request("GET", &format!("{}/{key}", self.bucket_url))
    }
}

/// Read `body` to its end into `buf`, or stop once `buf` holds more than
/// `limit` bytes. Returns whether the end was reached within the limit.
pub(crate) async fn read_body(
    body: &mut ByteStream,
    buf: &mut Vec<u8>,
    limit: u64,
) -> std::result::Result<bool, aws_sdk_s3::primitives::ByteStreamError> {
    while let Some(chunk) = body.try_next().await? {
        buf.extend_from_slice(&chunk);
        if buf.len() as u64 > limit {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Read until `buf` holds at least `want` bytes or the body ends.
pub(crate) async fn read_at_least(
    body: &mut ByteStream,
    buf: &mut Vec<u8>,
    want: usize,
) -> std::result::Result<bool, aws_sdk_s3::primitives::ByteStreamError> {
    while buf.len() < want {
        match body.try_next().await? {
            Some(chunk) => buf.extend_from_slice(&chunk),
            None => return Ok(true),
        }
    }
    Ok(false)
}

/// One `Contents` entry of a listing: the object, or why it cannot be
/// read (entry `n` of its page, for a message when it has no key).
fn read_entry(o: &aws_sdk_s3::types::Object, encoded: bool, n: usize) -> Record {
    let Some(raw) = o.key() else {
        return Err(Malformed {
            key: String::new(),
            reason: format!("entry {n} of a listing page has no key"),
        });
    };
    let key = if encoded {
        url_decode(raw).map_err(|raw| Malformed {
            reason: format!("the listed key `{raw}` does not decode to UTF-8"),
            key: raw,
        })?
    } else {
        raw.to_owned()
    };
    // A missing or negative size would read as an empty object: a
    // document without its content.
    let size = match o.size() {
        Some(size) => u64::try_from(size).map_err(|_| Malformed {
            key: key.clone(),
            reason: format!("the listing gives the size {size}"),
        })?,
        None => {
            return Err(Malformed {
                key,
                reason: "the listing gives no size".to_owned(),
            });
        }
    };
    Ok(Listed {
        key,
        size,
        etag: o.e_tag().map(unquote),
        last_modified: o.last_modified().and_then(to_chrono),
        storage_class: o.storage_class().map(|c| c.as_str().to_owned()),
    })
}

/// How long a `Retry-After` header asks to wait: seconds or an HTTP date.
pub(crate) fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value.trim()).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or_default())
}

/// Undo `encoding-type=url`: `%XX` escapes, and `+` for a space (S3 writes
/// a space as `+` and a plus as `%2B`; moto writes `%20`). A key that does
/// not decode to UTF-8 comes back as it was listed.
pub(crate) fn url_decode(encoded: &str) -> std::result::Result<String, String> {
    let spaced = encoded.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| encoded.to_owned())
}

/// ETags arrive quoted (`"9b2cf535f27731c974343645a3985328"`).
pub(crate) fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_owned()
}

pub(crate) fn to_chrono(t: &aws_sdk_s3::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding() {
        assert_eq!(url_decode("a+b%2Bc%20d.txt").unwrap(), "a b+c d.txt");
        assert_eq!(
            url_decode("%C3%A9t%C3%A9/ctl%01.txt").unwrap(),
            "été/ctl\u{1}.txt"
        );
        assert_eq!(url_decode("pct%2541").unwrap(), "pct%41");
        assert_eq!(url_decode("bad%FF.txt").unwrap_err(), "bad%FF.txt");
    }

    #[test]
    fn etag_and_time() {
        assert_eq!(unquote("\"abc-2\""), "abc-2");
        let t = aws_sdk_s3::primitives::DateTime::from_secs(1_700_000_000);
        assert_eq!(to_chrono(&t), DateTime::from_timestamp(1_700_000_000, 0));
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        assert!(retry_after(&soon).is_some_and(|d| d > Duration::from_secs(25)));
        assert_eq!(retry_after("soon"), None);
    }
}
