//! The JWT bearer grant (RFC 7523 §2.1): a signed assertion traded for an
//! access token, as Google service accounts sign in (with domain-wide
//! delegation, on behalf of a user named in `sub`).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use oauth2::basic::{BasicErrorResponse, BasicTokenResponse};
use oauth2::{HttpRequest, RequestTokenError};
use secrecy::{ExposeSecret, SecretString};

use crate::credentials::CredentialProvider;
use crate::credentials::jwt::Rs256Key;
use crate::{Error, ErrorKind, Result};

use super::DEFAULT_REFRESH_SKEW;
use super::cache::{Fetched, TokenCache};
use super::endpoint::{Endpoint, Transport};

/// The grant type of RFC 7523.
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Longest assertion lifetime Google accepts (and a sensible one elsewhere).
const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);

/// How far `iat` is set in the past, against clocks ahead of the server's.
const CLOCK_SKEW: i64 = 30;

/// OAuth 2.0 JWT bearer grant (RFC 7523): each token request carries a
/// fresh assertion `{iss, sub?, scope?, aud, iat, exp}` signed RS256 with
/// the issuer's private key. Tokens are cached and renewed before they
/// expire, one request at a time, as for the other OAuth providers.
///
/// Scopes go in the assertion's `scope` claim (space-separated), where
/// Google reads them.
///
/// ```no_run
/// use connector_core::credentials::JwtBearer;
/// use connector_core::credentials::jwt::Rs256Key;
/// # fn demo(pem: &str) -> connector_core::Result<()> {
/// let provider = JwtBearer::new(
///     "https://oauth2.googleapis.com/token",
///     "sync@acme-project.iam.gserviceaccount.com",
///     Rs256Key::from_pem(pem)?,
/// )?
/// .subject("admin@acme.com")
/// .scopes(["https://www.googleapis.com/auth/drive.readonly"]);
/// # let _ = provider; Ok(()) }
/// ```
pub struct JwtBearer {
    endpoint: Endpoint,
    key: Rs256Key,
    key_id: Option<String>,
    issuer: String,
    subject: Option<String>,
    audience: String,
    scopes: Vec<String>,
    lifetime: Duration,
    cache: TokenCache,
}

impl JwtBearer {
    /// A provider for `issuer` signing with `key`, at `token_url` (`https://`;
    /// plain `http://` only for loopback test servers), which is also the
    /// assertion's audience unless [`audience`](Self::audience) says otherwise.
    pub fn new(token_url: &str, issuer: impl Into<String>, key: Rs256Key) -> Result<Self> {
        let endpoint = Endpoint::new(token_url, "token URL")?;
        let issuer = issuer.into();
        if issuer.trim().is_empty() {
            return Err(Error::config(
                "JWT issuer is empty; set it to the client id or service account email",
            ));
        }
        Ok(Self {
            audience: endpoint.display.clone(),
            endpoint,
            key,
            key_id: None,
            issuer,
            subject: None,
            scopes: Vec::new(),
            lifetime: DEFAULT_ASSERTION_LIFETIME,
            cache: TokenCache::new(DEFAULT_REFRESH_SKEW),
        })
    }

    /// The user to act for (`sub`): domain-wide delegation.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// The scopes to ask for (the `scope` claim, space-separated).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The assertion's `aud` (default: the token URL).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// The key's id, sent as the JWS header's `kid` (Google: `private_key_id`).
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// How long each assertion is valid (default and Google's maximum: one hour).
    pub fn assertion_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime.max(Duration::from_secs(60));
        self
    }

    /// How long before expiry a new token is fetched (default 60 s; never
    /// more than half the token's lifetime).
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.cache.skew = skew;
        self
    }

    /// Use this HTTP client for the token endpoint. It must not follow
    /// redirects (`reqwest::redirect::Policy::none()`).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.endpoint.http = client;
        self
    }

    /// A fresh signed assertion.
    fn assertion(&self) -> Result<SecretString> {
        let iat = Utc::now().timestamp() - CLOCK_SKEW;
        let mut claims = serde_json::json!({
            "iss": self.issuer,
            "aud": self.audience,
            "iat": iat,
            "exp": iat + self.lifetime.as_secs() as i64,
        });
        if let Some(sub) = &self.subject {
            claims["sub"] = sub.as_str().into();
        }
        if !self.scopes.is_empty() {
            claims["scope"] = self.scopes.join(" ").into();
        }
        self.key.sign(self.key_id.as_deref(), &claims)
    }

    async fn fetch(&self) -> Result<Fetched> {
        let assertion = self.assertion()?;
        let body = form(&[
            ("grant_type", GRANT_TYPE),
            ("assertion", assertion.expose_secret()),
        ]);
        let request: HttpRequest = oauth2::http::Request::builder()
            .method(oauth2::http::Method::POST)
            .uri(self.endpoint.token_url.as_str())
            .header(
                oauth2::http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(oauth2::http::header::ACCEPT, "application/json")
            .body(body.into_bytes())
            .map_err(|e| {
                Error::new(ErrorKind::Config, "cannot build the token request").with_source(e)
            })?;
        let secrets = [&assertion];
        let response = oauth2::AsyncHttpClient::call(&Transport(&self.endpoint.http), request)
            .await
            .map_err(|e| {
                self.endpoint
                    .error(RequestTokenError::Request(e), &secrets)
                    .context("JWT bearer grant")
            })?;
        if !response.status().is_success() {
            // The transport only lets through error answers with an OAuth body.
            let refused: BasicErrorResponse =
                serde_json::from_slice(response.body()).map_err(|_| {
                    Error::new(
                        ErrorKind::Decode,
                        "token endpoint answered an error that is not an OAuth error response",
                    )
                    .with_request("POST", &self.endpoint.display)
                })?;
            return Err(self
                .endpoint
                .error(RequestTokenError::ServerResponse(refused), &secrets)
                .context("JWT bearer grant (check the key, the issuer, the subject and its delegated scopes)"));
        }
        let token: BasicTokenResponse = serde_json::from_slice(response.body()).map_err(|e| {
            // Only where it failed: the body holds the token.
            Error::new(
                ErrorKind::Decode,
                format!(
                    "token endpoint answered with something that is not an OAuth token response (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
            .with_request("POST", &self.endpoint.display)
        })?;
        tracing::debug!(token_url = %self.endpoint.display, "fetched an access token with a JWT assertion");
        Ok(Fetched::from_response(&token))
    }
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

impl fmt::Debug for JwtBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBearer")
            .field("token_url", &self.endpoint.display)
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("scopes", &self.scopes)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl CredentialProvider for JwtBearer {
    async fn authorization(&self) -> Result<SecretString> {
        self.cache.get_or_fetch(|| self.fetch()).await
    }

    async fn refresh(&self, rejected: &SecretString) -> Result<bool> {
        self.cache.refresh(rejected, || self.fetch()).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use base64::Engine as _;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    use super::*;

    const KEY: &str = include_str!("../../../tests/fixtures/test-rsa-key.pem");

    fn provider(server: &MockServer) -> JwtBearer {
        JwtBearer::new(
            &format!("{}/token", server.uri()),
            "sync@acme.iam.gserviceaccount.com",
            Rs256Key::from_pem(KEY).unwrap(),
        )
        .unwrap()
        .subject("admin@acme.com")
        .key_id("k1")
        .scopes(["https://www.googleapis.com/auth/drive.readonly"])
    }

    #[tokio::test]
    async fn one_assertion_per_token_shared_by_concurrent_callers() {
        let server = MockServer::start().await;
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(move |r: &Request| {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let form: std::collections::HashMap<String, String> =
                    url::form_urlencoded::parse(&r.body).into_owned().collect();
                assert_eq!(form["grant_type"], GRANT_TYPE);
                let claims = form["assertion"].split('.').nth(1).unwrap().to_owned();
                let claims: serde_json::Value = serde_json::from_slice(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(claims)
                        .unwrap(),
                )
                .unwrap();
                assert_eq!(claims["sub"], "admin@acme.com");
                assert_eq!(claims["scope"], "https://www.googleapis.com/auth/drive.readonly");
                assert!(claims["aud"].as_str().unwrap().ends_with("/token"));
                ResponseTemplate::new(200)
                    .set_delay(std::time::Duration::from_millis(50))
                    .set_body_json(serde_json::json!({
                        "access_token": format!("at-{n}"), "expires_in": 3599, "token_type": "Bearer"
                    }))
            })
            .mount(&server)
            .await;
        let p = Arc::new(provider(&server));
        let waits: Vec<_> = (0..8)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.authorization().await.unwrap() })
            })
            .collect();
        for w in waits {
            assert_eq!(w.await.unwrap().expose_secret(), "Bearer at-0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let rejected = SecretString::from("Bearer at-0");
        assert!(p.refresh(&rejected).await.unwrap());
        assert_eq!(
            p.authorization().await.unwrap().expose_secret(),
            "Bearer at-1"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refusal_echoing_the_assertion_never_shows_it() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(|r: &Request| {
                let form: std::collections::HashMap<String, String> =
                    url::form_urlencoded::parse(&r.body).into_owned().collect();
                ResponseTemplate::new(400).set_body_json(serde_json::json!({
                    "error": "invalid_grant",
                    "error_description": format!("Invalid JWT Signature: {}", form["assertion"])
                }))
            })
            .mount(&server)
            .await;
        let e = provider(&server).authorization().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
        assert!(e.to_string().contains("invalid_grant"), "{e}");
        assert!(!e.to_string().contains("eyJ"), "{e}");
    }
}
