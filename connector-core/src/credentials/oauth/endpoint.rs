//! Talking to a token endpoint: its URL, the transport, and its errors.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponse};
use oauth2::{
    AsyncHttpClient, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, RequestTokenError,
    TokenUrl,
};
use secrecy::SecretString;
use url::Url;

use crate::http::scrub::Scrubber;
use crate::url::{check_base_url, without_query};
use crate::{Error, ErrorKind, Result};

pub(crate) type TokenClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// A validated OAuth endpoint and the HTTP client that talks to it.
pub(crate) struct Endpoint {
    pub(crate) token_url: TokenUrl,
    /// The URL without query, fragment or user info: safe for messages.
    pub(crate) display: String,
    pub(crate) http: reqwest::Client,
}

impl Endpoint {
    /// Check `url` (named `field` in errors) and pair it with the default
    /// [`token_http_client`].
    pub(crate) fn new(url: &str, field: &str) -> Result<Self> {
        let parsed = parse_endpoint_url(url, field)?;
        Ok(Self {
            display: without_query(&parsed),
            token_url: TokenUrl::from_url(parsed),
            http: token_http_client()?,
        })
    }

    /// Turn a token request failure into an [`Error`] naming the endpoint.
    /// `secrets` are scrubbed from anything the server wrote back.
    pub(crate) fn error(
        &self,
        err: RequestTokenError<TransportError, BasicErrorResponse>,
        secrets: &[&SecretString],
    ) -> Error {
        token_error(err, secrets).with_request("POST", &self.display)
    }
}

/// Parse and check an OAuth endpoint URL with the rule every base URL
/// follows (see [`check_base_url`]). `field` names it in errors.
pub(crate) fn parse_endpoint_url(url: &str, field: &str) -> Result<Url> {
    check_base_url(field, url)
}

/// The HTTP client for token endpoints: no redirects (a redirected token
/// request could carry the client secret to another host), bounded time.
pub(crate) fn token_http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("connector-sdk/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            Error::config("cannot build the HTTP client for the token endpoint").with_source(e)
        })
}

/// A failure below OAuth: the request never got an OAuth answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportError {
    /// Sending failed (connect, TLS, timeout). The error carries no URL.
    #[error("{0}")]
    Send(#[source] reqwest::Error),
    /// The server answered with a status and no OAuth error body.
    #[error("HTTP {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
}

/// Adapts `reqwest` to `oauth2`, keeping statuses that `oauth2` would turn
/// into unhelpful parse errors (a `503` HTML page, a bare `401`).
pub(crate) struct Transport<'a>(pub(crate) &'a reqwest::Client);

impl<'c> AsyncHttpClient<'c> for Transport<'_> {
    type Error = TransportError;
    type Future = Pin<
        Box<dyn Future<Output = std::result::Result<HttpResponse, TransportError>> + Send + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)
                .map_err(|e| TransportError::Send(e.without_url()))?;
            let response = self
                .0
                .execute(request)
                .await
                .map_err(|e| TransportError::Send(e.without_url()))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let mut builder = oauth2::http::Response::builder().status(status.as_u16());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response
                .bytes()
                .await
                .map_err(|e| TransportError::Send(e.without_url()))?;
            if !status.is_success() && !is_oauth_error_body(&body) {
                return Err(TransportError::Status {
                    status: status.as_u16(),
                    retry_after,
                });
            }
            builder
                .body(body.to_vec())
                .map_err(|_| TransportError::Status {
                    status: status.as_u16(),
                    retry_after,
                })
        })
    }
}

/// Whether `body` is an RFC 6749 §5.2 error object (`{"error": "…"}`).
fn is_oauth_error_body(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").map(serde_json::Value::is_string))
        .unwrap_or(false)
}

fn token_error(
    err: RequestTokenError<TransportError, BasicErrorResponse>,
    secrets: &[&SecretString],
) -> Error {
    match err {
        RequestTokenError::ServerResponse(response) => {
            let code = response.error().as_ref().to_string();
            let mut message = format!("token endpoint refused the request: {code}");
            if let Some(description) = response.error_description() {
                message.push_str(&format!(" ({})", scrub(description, secrets)));
            }
            message.push_str("; ");
            message.push_str(oauth_hint(&code));
            Error::new(ErrorKind::Auth, message)
        }
        RequestTokenError::Request(TransportError::Status {
            status,
            retry_after,
        }) => {
            let (kind, hint) = match status {
                429 => (ErrorKind::RateLimited, "try again later"),
                500..=599 => (
                    ErrorKind::Transient,
                    "the authorization server failed; try again later",
                ),
                401 | 403 => (
                    ErrorKind::Auth,
                    "check the client id, client secret and token URL",
                ),
                _ => (ErrorKind::Auth, "check the token URL"),
            };
            let mut error = Error::new(
                kind,
                format!("token endpoint answered HTTP {status} without an OAuth error; {hint}"),
            )
            .with_status(status);
            if let Some(wait) = retry_after {
                error = error.with_retry_after(wait);
            }
            error
        }
        RequestTokenError::Request(TransportError::Send(e)) => {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "failed"
            };
            Error::new(
                ErrorKind::Transient,
                format!("token request {what}; check the token URL and the network"),
            )
            .with_source(e)
        }
        RequestTokenError::Parse(e, _body) => {
            // Only the JSON path: serde's messages may quote the value, and
            // the body holds tokens.
            let path = e.path().to_string();
            Error::new(
                ErrorKind::Decode,
                format!(
                    "token endpoint answered with something that is not an OAuth token response (at `{path}`)"
                ),
            )
        }
        RequestTokenError::Other(message) => Error::new(
            ErrorKind::Decode,
            format!("token endpoint answer is unusable: {message}"),
        ),
    }
}

fn oauth_hint(code: &str) -> &'static str {
    match code {
        "invalid_client" => "check the client id and client secret",
        "invalid_grant" => {
            "the refresh token or authorization code is invalid, expired or revoked; log in again"
        }
        "invalid_scope" => "check the requested scopes",
        "unauthorized_client" => "the application may not use this grant type; check its settings",
        "unsupported_grant_type" => "the server does not support this grant type",
        "invalid_request" => "check the token URL and the extra parameters",
        _ => "check the OAuth application settings",
    }
}

/// Replace any secret the server echoed back, in any of the forms it
/// travelled in.
fn scrub(text: &str, secrets: &[&SecretString]) -> String {
    Scrubber::for_secrets(secrets).text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_checked_without_quoting_them() {
        let err = parse_endpoint_url("not a url s3cr3t", "token URL").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(!err.to_string().contains("s3cr3t"));
        let err = parse_endpoint_url("http://example.com/token?k=s3cr3t", "token URL").unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
        assert!(!err.to_string().contains("s3cr3t"));
        let err =
            parse_endpoint_url("https://u:s3cr3t@example.com/token", "token URL").unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"));
        assert!(parse_endpoint_url("http://127.0.0.1:8080/token", "token URL").is_ok());
        assert!(parse_endpoint_url("http://localhost/token", "token URL").is_ok());
    }

    #[test]
    fn server_descriptions_are_scrubbed() {
        let secret = SecretString::from("hunter2");
        assert_eq!(
            scrub("bad secret hunter2", &[&secret]),
            "bad secret [REDACTED]"
        );
    }
}
