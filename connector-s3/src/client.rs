//! The requests the connector makes — `ListBuckets`, `ListObjectsV2`,
//! `GetObject` — on one shared AWS SDK client, built on first use from the
//! credential chain, the region and the endpoint.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::EncodingType;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use chrono::{DateTime, Utc};
use connector_core::{Error, ErrorKind, Result};
use secrecy::ExposeSecret;
use url::Url;

use crate::config::{S3Config, S3Credentials};
use crate::error::{Op, from_sdk};

/// Region used with a custom endpoint when none is configured: MinIO,
/// moto and most S3-compatible stores accept any, and sign with this one.
const CUSTOM_ENDPOINT_REGION: &str = "us-east-1";

/// One object from a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
    pub storage_class: Option<String>,
}

/// One `ListObjectsV2` page.
#[derive(Debug)]
pub(crate) struct Page {
    pub objects: Vec<Listed>,
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
}

/// Build the SDK client for `config` (async: the credential chain and the
/// region chain read files and, on AWS, instance metadata).
pub(crate) async fn connect(config: &S3Config, endpoint: Option<&Url>) -> Result<S3Api> {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let retry = RetryConfig::standard()
        .with_max_attempts(config.max_attempts)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(retry)
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
            "no AWS region for bucket `{}`: pass --region (or set AWS_REGION)",
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

    /// The endpoint as the user gave it, or `AWS S3`.
    pub(crate) fn endpoint_label(&self) -> &str {
        &self.endpoint_label
    }

    /// One page of keys under `prefix`, after `start_after` or from `token`.
    pub(crate) async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        token: Option<String>,
        start_after: Option<String>,
    ) -> Result<Page> {
        let mut request = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .max_keys(self.page_size)
            .set_continuation_token(token)
            .set_start_after(start_after)
            .set_delimiter(delimiter.map(str::to_owned))
            // Keys may hold characters XML 1.0 cannot carry; encoded, they list.
            .encoding_type(EncodingType::Url);
        if !prefix.is_empty() {
            request = request.prefix(prefix);
        }
        let url = format!("{}/", self.bucket_url);
        let out = request
            .send()
            .await
            .map_err(|e| from_sdk(e, &self.op("listing", "GET", &url)))?;
        // Decode only what the server says it encoded: a store that ignores
        // the request sends keys as they are.
        let encoded = out.encoding_type() == Some(&EncodingType::Url);
        let key = |k: &str| if encoded { url_decode(k) } else { k.to_owned() };
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
        let objects = out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(Listed {
                    key: key(o.key()?),
                    size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    etag: o.e_tag().map(unquote),
                    last_modified: o.last_modified().and_then(to_chrono),
                    storage_class: o.storage_class().map(|c| c.as_str().to_owned()),
                })
            })
            .collect();
        let common_prefixes = out
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix().map(key))
            .collect();
        Ok(Page {
            objects,
            common_prefixes,
            next_token: if truncated { next_token } else { None },
        })
    }

    /// The buckets these credentials can list, at most `max`.
    pub(crate) async fn list_buckets(&self, max: usize) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        let url = match self.endpoint_label.as_str() {
            "AWS S3" => "s3://".to_owned(),
            e => format!("{e}/"),
        };
        loop {
            let out = self
                .client
                .list_buckets()
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    let mut op = self.op("listing buckets at", "GET", &url);
                    op.bucket = None;
                    from_sdk(e, &op)
                })?;
            names.extend(
                out.buckets()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_owned)),
            );
            token = out.continuation_token().map(str::to_owned);
            if token.is_none() || names.len() >= max {
                break;
            }
        }
        names.truncate(max);
        Ok(names)
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

/// Undo `encoding-type=url`: `%XX` escapes, and `+` for a space (S3 writes
/// a space as `+` and a plus as `%2B`; moto writes `%20`).
pub(crate) fn url_decode(encoded: &str) -> String {
    let spaced = encoded.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
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
        assert_eq!(url_decode("a+b%2Bc%20d.txt"), "a b+c d.txt");
        assert_eq!(url_decode("%C3%A9t%C3%A9/ctl%01.txt"), "été/ctl\u{1}.txt");
        assert_eq!(url_decode("pct%2541"), "pct%41");
    }

    #[test]
    fn etag_and_time() {
        assert_eq!(unquote("\"abc-2\""), "abc-2");
        let t = aws_sdk_s3::primitives::DateTime::from_secs(1_700_000_000);
        assert_eq!(to_chrono(&t), DateTime::from_timestamp(1_700_000_000, 0));
    }
}
