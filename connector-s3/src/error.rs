//! AWS SDK errors → the SDK's one [`Error`]: a kind a program branches on,
//! and one line a person can act on that names the bucket, the endpoint and
//! the request — never a secret.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use connector_core::{Error, ErrorKind};

/// What was being done when a request failed, for the message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Op<'a> {
    /// `listing`, `reading`, `listing buckets at`.
    pub action: &'a str,
    /// What the S3 API calls it (`ListObjectsV2`), for the request context.
    pub method: &'a str,
    /// The request URL without its query.
    pub url: &'a str,
    /// The bucket, when the request names one.
    pub bucket: Option<&'a str>,
    /// The key, for object requests.
    pub key: Option<&'a str>,
    /// The endpoint as the user gave it, or `AWS S3`.
    pub endpoint: &'a str,
    /// Strings that must not appear in any message (the secret key, the token).
    pub secrets: &'a [String],
}

impl Op<'_> {
    fn what(&self) -> String {
        match (self.bucket, self.key) {
            (Some(b), Some(k)) => {
                format!("{} `{k}` in bucket `{b}` at {}", self.action, self.endpoint)
            }
            (Some(b), None) => format!("{} bucket `{b}` at {}", self.action, self.endpoint),
            _ => format!("{} {}", self.action, self.endpoint),
        }
    }
}

/// The service's error code and message, status and region hint.
struct Details {
    status: Option<u16>,
    code: Option<String>,
    message: Option<String>,
    bucket_region: Option<String>,
}

/// Turn an SDK error into the SDK's [`Error`].
pub(crate) fn from_sdk<E>(err: SdkError<E, HttpResponse>, op: &Op<'_>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let details = Details {
        status: err.raw_response().map(|r| r.status().as_u16()),
        code: err.code().map(str::to_owned),
        message: err.message().map(str::to_owned),
        bucket_region: err
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_owned),
    };
    let wait = err
        .raw_response()
        .and_then(|r| r.headers().get("retry-after"))
        .and_then(crate::client::retry_after);
    let (kind, message) = match &err {
        // A success status whose body is not the documented answer: never
        // an empty page.
        _ if details.status.is_some_and(|s| (200..300).contains(&s)) => (
            ErrorKind::Decode,
            format!(
                "{}: the answer is not the documented XML ({})",
                op.what(),
                last_cause(&error_chain(&err))
            ),
        ),
        SdkError::ResponseError(_) => (
            ErrorKind::Decode,
            format!(
                "{}: the answer could not be read ({})",
                op.what(),
                last_cause(&error_chain(&err))
            ),
        ),
        SdkError::ServiceError(_) => service(&details, op),
        SdkError::TimeoutError(_) => (
            ErrorKind::Transient,
            format!("{} did not answer in time", op.what()),
        ),
        SdkError::DispatchFailure(failure) => {
            let chain = error_chain(&err);
            if failure.is_timeout() {
                (
                    ErrorKind::Transient,
                    format!("{}: no answer in time (is the endpoint up?)", op.what()),
                )
            } else if failure.is_io() {
                (
                    ErrorKind::Transient,
                    format!(
                        "{}: cannot reach the endpoint: {}",
                        op.what(),
                        io_reason(&chain)
                    ),
                )
            } else if chain.to_ascii_lowercase().contains("credential") {
                (
                    ErrorKind::Auth,
                    format!(
                        "{}: no usable AWS credentials: set AWS_ACCESS_KEY_ID and \
                         AWS_SECRET_ACCESS_KEY, choose a profile (AWS_PROFILE), or run where \
                         a role is available ({})",
                        op.what(),
                        last_cause(&chain)
                    ),
                )
            } else if failure.is_user() {
                (
                    ErrorKind::Config,
                    format!("{}: {}", op.what(), last_cause(&chain)),
                )
            } else {
                (
                    ErrorKind::Transient,
                    format!("{}: {}", op.what(), last_cause(&chain)),
                )
            }
        }
        SdkError::ConstructionFailure(_) => {
            let chain = error_chain(&err);
            (
                ErrorKind::Config,
                format!(
                    "{}: the request could not be built: {}",
                    op.what(),
                    last_cause(&chain)
                ),
            )
        }
        _ => (
            ErrorKind::Other,
            format!("{}: {}", op.what(), last_cause(&error_chain(&err))),
        ),
    };
    let mut error = Error::new(kind, scrub(&message, op.secrets)).with_request(op.method, op.url);
    if let Some(status) = details.status {
        error = error.with_status(status);
    }
    if let Some(wait) = wait {
        error = error.with_retry_after(wait);
    }
    error
}

/// A response from the service: code first, status when there is no code
/// (HEAD requests and some proxies answer without a body).
fn service(d: &Details, op: &Op<'_>) -> (ErrorKind, String) {
    let code = d.code.as_deref().unwrap_or("");
    let said = match (&d.code, &d.message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => format!("HTTP {}", d.status.unwrap_or(0)),
    };
    let bucket = op.bucket.unwrap_or("");
    let kind = match code {
        "NoSuchBucket" | "NoSuchKey" | "NotFound" => ErrorKind::NotFound,
        "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "InvalidToken"
        | "TokenRefreshRequired"
        | "InvalidSecurity"
        | "MissingSecurityHeader" => ErrorKind::Auth,
        "AccessDenied" | "AllAccessDisabled" | "AccountProblem" | "InvalidObjectState" => {
            ErrorKind::Forbidden
        }
        "PermanentRedirect"
        | "AuthorizationHeaderMalformed"
        | "IllegalLocationConstraintException" => ErrorKind::Config,
        "SlowDown" | "RequestLimitExceeded" | "Throttling" | "ThrottlingException" => {
            ErrorKind::RateLimited
        }
        "InternalError" | "ServiceUnavailable" | "RequestTimeout" => ErrorKind::Transient,
        _ => match d.status {
            Some(301) => ErrorKind::Config,
            Some(401) => ErrorKind::Auth,
            Some(403) => ErrorKind::Forbidden,
            Some(404) => ErrorKind::NotFound,
            Some(429) => ErrorKind::RateLimited,
            Some(500..=599) => ErrorKind::Transient,
            _ => ErrorKind::Http,
        },
    };
    let message = match kind {
        ErrorKind::NotFound if code == "NoSuchBucket" || op.key.is_none() => {
            format!(
                "bucket `{bucket}` does not exist at {} ({said})",
                op.endpoint
            )
        }
        ErrorKind::Auth => format!(
            "{}: the credentials were rejected ({said}); check AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, or the profile",
            op.what()
        ),
        ErrorKind::Forbidden => {
            let permission = if op.key.is_some() {
                "s3:GetObject"
            } else if op.bucket.is_some() {
                "s3:ListBucket"
            } else {
                "s3:ListAllMyBuckets"
            };
            format!(
                "{}: access denied ({said}); the credentials need {permission}",
                op.what()
            )
        }
        ErrorKind::Config if d.bucket_region.is_some() || d.status == Some(301) => {
            match &d.bucket_region {
                Some(region) => format!(
                    "bucket `{bucket}` is in region {region}: set region to {region} ({said})"
                ),
                None => format!(
                    "{}: the bucket is in another region; set region to it ({said})",
                    op.what()
                ),
            }
        }
        _ => format!("{}: {said}", op.what()),
    };
    (kind, message)
}

/// Every error in the chain, outermost first, joined by `: `.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The innermost cause of a chain from [`error_chain`], kept short.
fn last_cause(chain: &str) -> String {
    let one_line = chain.split_whitespace().collect::<Vec<_>>().join(" ");
    let cause = one_line.rsplit(": ").next().unwrap_or(&one_line).trim();
    truncate(cause, 200)
}

/// The io reason in a dispatch failure, e.g. `Connection refused (os error 111)`.
fn io_reason(chain: &str) -> String {
    let lower = chain.to_ascii_lowercase();
    for (needle, reason) in [
        ("connection refused", "connection refused"),
        ("dns error", "the host name does not resolve"),
        ("failed to lookup address", "the host name does not resolve"),
        ("connection reset", "connection reset"),
        ("timed out", "timed out"),
        ("certificate", "TLS certificate problem"),
        ("invalidcertificate", "TLS certificate problem"),
    ] {
        if lower.contains(needle) {
            return reason.to_owned();
        }
    }
    last_cause(chain)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// One line, without any of `secrets`.
pub(crate) fn scrub(message: &str, secrets: &[String]) -> String {
    let mut line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    for secret in secrets {
        if !secret.is_empty() && line.contains(secret.as_str()) {
            line = line.replace(secret.as_str(), "[REDACTED]");
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_makes_one_line_without_secrets() {
        let secrets = vec!["s3cr3t".to_owned()];
        assert_eq!(
            scrub("bad\nkey s3cr3t  here", &secrets),
            "bad key [REDACTED] here"
        );
    }

    #[test]
    fn causes() {
        assert_eq!(
            last_cause(
                "dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111)"
            ),
            "Connection refused (os error 111)"
        );
        assert_eq!(
            io_reason(
                "dispatch failure: io error: tcp connect error: Connection refused (os error 111)"
            ),
            "connection refused"
        );
    }
}
