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
