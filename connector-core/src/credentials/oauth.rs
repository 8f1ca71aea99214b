//! OAuth 2.0 providers: client credentials and refresh token.
//!
//! Both cache the access token, fetch a new one shortly before it expires
//! (the *skew*, 60 s by default, at most half the token's lifetime) and again
//! once after a `401` through [`CredentialProvider::refresh`]. However many
//! requests wait for a token, exactly one token request is in flight; if it
//! fails, every caller waiting for it gets that failure instead of each
//! trying again in turn.
//!
//! Token endpoint failures become errors that name the endpoint and the
//! OAuth error code, never the client secret or a token:
//! `{"error":"invalid_client"}` is [`ErrorKind::Auth`], a `5xx` or a network
//! failure [`ErrorKind::Transient`], a `429` [`ErrorKind::RateLimited`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AsyncHttpClient, AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use url::Url;

use super::CredentialProvider;
use crate::http::scrub::Scrubber;
use crate::url::{check_base_url, without_query};
use crate::{Error, ErrorKind, Result};

/// How long before expiry a cached token is replaced, unless configured.
///
/// ```
/// assert_eq!(connector_core::credentials::DEFAULT_REFRESH_SKEW.as_secs(), 60);
/// ```
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);

/// Called with the new refresh token when the server rotates it, so the host
/// can persist it. It runs while the provider holds its refresh lock: keep it
/// short, and hand slow work (a database write) to a task or a channel.
///
/// ```
/// use std::sync::Arc;
/// use connector_core::credentials::{ExposeSecret, RotationHook, SecretString};
/// let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<SecretString>();
/// // A task reading `_rx` writes each new token to the host's store.
/// let hook: RotationHook = Arc::new(move |token: &SecretString| {
///     let _ = tx.send(token.clone());
/// });
/// hook(&SecretString::from("rt-2"));
/// ```
pub type RotationHook = Arc<dyn Fn(&SecretString) + Send + Sync>;

/// How the client authenticates to the token endpoint.
///
/// ```
/// use connector_core::credentials::{ClientAuth, ClientCredentials};
/// // Some servers (and Entra ID with a secret) accept only the body form.
/// let provider = ClientCredentials::new("https://login.example.com/token", "app", "secret")?
///     .client_auth(ClientAuth::RequestBody);
/// assert_eq!(ClientAuth::default(), ClientAuth::BasicHeader);
/// # let _ = provider;
/// # Ok::<(), connector_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 §2.3.1), the default.
    #[default]
    BasicHeader,
    /// `client_id` and `client_secret` as form fields of the request body.
    RequestBody,
}

impl From<ClientAuth> for AuthType {
    fn from(auth: ClientAuth) -> Self {
        match auth {
            ClientAuth::BasicHeader => AuthType::BasicAuth,
            ClientAuth::RequestBody => AuthType::RequestBody,
        }
    }
}

/// Tokens a token endpoint issued: what [`PkceLogin`](super::PkceLogin)
/// returns. `Debug` shows neither token.
///
/// ```
/// use connector_core::credentials::{OAuthTokens, SecretString};
/// let tokens = OAuthTokens {
///     access_token: SecretString::from("at"),
///     refresh_token: Some(SecretString::from("rt")),
///     expires_at: None,
///     scopes: vec!["read".into()],
/// };
/// assert_eq!(
///     format!("{tokens:?}"),
///     r#"OAuthTokens { access_token: [REDACTED], refresh_token: Some([REDACTED]), expires_at: None, scopes: ["read"] }"#
/// );
/// ```
#[derive(Clone)]
pub struct OAuthTokens {
    /// The access token (without the `Bearer ` prefix).
    pub access_token: SecretString,
    /// The refresh token, when the server issued one.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires, when the server said.
    pub expires_at: Option<SystemTime>,
    /// The scopes granted, when the server listed them.
    pub scopes: Vec<String>,
}

impl fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("access_token", &format_args!("[REDACTED]"))
            .field(
                "refresh_token",
                &self
                    .refresh_token
                    .as_ref()
                    .map(|_| format_args!("[REDACTED]")),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// OAuth 2.0 client credentials grant (RFC 6749 §4.4): a service principal
/// (Microsoft Entra ID app, Atlassian service account, …) gets its own
/// tokens.
///
/// ```
/// use std::time::Duration;
/// use connector_core::credentials::{ClientAuth, ClientCredentials};
/// let provider = ClientCredentials::new(
///     "https://login.microsoftonline.com/TENANT/oauth2/v2.0/token",
///     "client-id",
///     "client-secret",
/// )?
/// .scopes(["https://graph.microsoft.com/.default"])
/// .client_auth(ClientAuth::RequestBody)
/// .refresh_skew(Duration::from_secs(120));
/// assert!(!format!("{provider:?}").contains("client-secret"));
/// # Ok::<(), connector_core::Error>(())
/// ```
pub struct ClientCredentials {
    endpoint: Endpoint,
    client: TokenClient,
    client_id: String,
    client_secret: SecretString,
    scopes: Vec<String>,
    extra_params: Vec<(String, String)>,
    cache: TokenCache,
}

impl ClientCredentials {
    /// A provider for `client_id` / `client_secret` at `token_url`. The URL
    /// must be `https://` (plain `http://` only for loopback test servers).
    pub fn new(
        token_url: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Result<Self> {
        let endpoint = Endpoint::new(token_url, "token URL")?;
        let client_id = client_id.into();
        if client_id.trim().is_empty() {
            return Err(Error::config(
                "client id is empty; set it to the OAuth application's client id",
            ));
        }
        let client_secret: SecretString = client_secret.into();
        if client_secret.expose_secret().is_empty() {
            return Err(Error::config(
                "client secret is empty; set it to the OAuth application's client secret",
            ));
        }
        let client = BasicClient::new(ClientId::new(client_id.clone()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_string()))
            .set_token_uri(endpoint.token_url.clone());
        Ok(Self {
            endpoint,
            client,
            client_id,
            client_secret,
            scopes: Vec::new(),
            extra_params: Vec::new(),
            cache: TokenCache::new(DEFAULT_REFRESH_SKEW),
        })
    }

    /// The scopes to request (sent space-separated as `scope`).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// An extra form field for the token request, e.g. `resource` (Entra ID
    /// v1) or `audience` (Auth0). Not for secrets: it may appear in `Debug`.
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_params.push((name.into(), value.into()));
        self
    }

    /// How the client authenticates to the token endpoint (default: Basic header).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client = self.client.set_auth_type(auth.into());
        self
    }

    /// How long before expiry a new token is fetched (default 60 s; never
    /// more than half the token's lifetime).
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.cache.skew = skew;
        self
    }

    /// Use this HTTP client for the token endpoint (proxies, custom roots).
    /// It must not follow redirects (`reqwest::redirect::Policy::none()`):
    /// a redirected token request could carry the client secret elsewhere.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.endpoint.http = client;
        self
    }

    async fn fetch(&self) -> Result<Fetched> {
        let mut request = self.client.exchange_client_credentials();
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        for (name, value) in &self.extra_params {
            request = request.add_extra_param(name.as_str(), value.as_str());
        }
        let transport = Transport(&self.endpoint.http);
        let response = request.request_async(&transport).await.map_err(|e| {
            self.endpoint
                .error(e, &[&self.client_secret])
                .context("client credentials")
        })?;
        tracing::debug!(token_url = %self.endpoint.display, "fetched an OAuth access token");
        Ok(Fetched::from_response(&response))
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.endpoint.display)
            .field("client_id", &self.client_id)
            .field("client_secret", &format_args!("[REDACTED]"))
            .field("scopes", &self.scopes)
            .field("extra_params", &self.extra_params)
            .finish()
    }
}

#[async_trait]
impl CredentialProvider for ClientCredentials {
    async fn authorization(&self) -> Result<SecretString> {
        self.cache.get_or_fetch(|| self.fetch()).await
    }

    async fn refresh(&self, rejected: &SecretString) -> Result<bool> {
        self.cache.refresh(rejected, || self.fetch()).await
    }
}

/// OAuth 2.0 refresh token grant (RFC 6749 §6): a person's (or app's)
/// long-lived refresh token is traded for access tokens as they expire.
///
/// When the server rotates the refresh token, the provider uses the new one
/// from then on and hands it to the [`on_rotate`](Self::on_rotate) hook so
/// the host can persist it; a host that ignores rotation finds its stored
/// refresh token revoked on the next run.
///
/// ```
/// use std::sync::Arc;
/// use connector_core::credentials::{ExposeSecret, RefreshToken};
/// let provider = RefreshToken::new("https://auth.atlassian.com/oauth/token", "client-id", "refresh-token")?
///     .client_secret("client-secret")
///     .on_rotate(Arc::new(|new_token| {
///         // Persist it, e.g. in a CredentialStore (through a channel if async).
///         let _ = new_token.expose_secret().len();
///     }));
/// assert!(!format!("{provider:?}").contains("refresh-token"));
/// # Ok::<(), connector_core::Error>(())
/// ```
pub struct RefreshToken {
    endpoint: Endpoint,
    client: TokenClient,
    client_id: String,
    client_secret: Option<SecretString>,
    scopes: Vec<String>,
    // The current refresh token; replaced when the server rotates it.
    refresh_token: RwLock<SecretString>,
    on_rotate: Option<RotationHook>,
    cache: TokenCache,
}

impl RefreshToken {
    /// A provider that trades `refresh_token` for access tokens at
    /// `token_url` as a public client (no secret; see [`client_secret`](Self::client_secret)).
    pub fn new(
        token_url: &str,
        client_id: impl Into<String>,
        refresh_token: impl Into<SecretString>,
    ) -> Result<Self> {
        let endpoint = Endpoint::new(token_url, "token URL")?;
        let client_id = client_id.into();
        if client_id.trim().is_empty() {
            return Err(Error::config(
                "client id is empty; set it to the OAuth application's client id",
            ));
        }
        let refresh_token: SecretString = refresh_token.into();
        if refresh_token.expose_secret().trim().is_empty() {
            return Err(Error::config(
                "refresh token is empty; log in again to obtain one",
            ));
        }
        let client = BasicClient::new(ClientId::new(client_id.clone()))
            .set_token_uri(endpoint.token_url.clone());
        Ok(Self {
            endpoint,
            client,
            client_id,
            client_secret: None,
            scopes: Vec::new(),
            refresh_token: RwLock::new(refresh_token),
            on_rotate: None,
            cache: TokenCache::new(DEFAULT_REFRESH_SKEW),
        })
    }

    /// Authenticate as a confidential client with this secret.
    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        let secret: SecretString = secret.into();
        self.client = self
            .client
            .set_client_secret(ClientSecret::new(secret.expose_secret().to_string()));
        self.client_secret = Some(secret);
        self
    }

    /// How the client secret is sent (default: Basic header).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client = self.client.set_auth_type(auth.into());
        self
    }

    /// Scopes to request on refresh (most servers keep the original ones
    /// when none are sent).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Call `hook` with each rotated refresh token.
    pub fn on_rotate(mut self, hook: RotationHook) -> Self {
        self.on_rotate = Some(hook);
        self
    }

    /// Start with an access token already in hand (e.g. from a
    /// [`PkceLogin`](super::PkceLogin)), used until `expires_at` (less the
    /// skew) or until it is rejected.
    pub fn with_access_token(
        self,
        access_token: impl Into<SecretString>,
        expires_at: Option<SystemTime>,
    ) -> Self {
        let lifetime = expires_at.map(|at| {
            at.duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        });
        self.cache.store(Fetched {
            access_token: access_token.into(),
            expires_in: lifetime,
            refresh_token: None,
        });
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

    fn current_refresh_token(&self) -> SecretString {
        read_lock(&self.refresh_token).clone()
    }

    async fn fetch(&self) -> Result<Fetched> {
        // Only ever called under the cache's flight lock, so no other fetch
        // can rotate the token between this read and the write below.
        let current = self.current_refresh_token();
        let oauth_refresh = oauth2::RefreshToken::new(current.expose_secret().to_string());
        let mut request = self.client.exchange_refresh_token(&oauth_refresh);
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let transport = Transport(&self.endpoint.http);
        let mut secrets: Vec<&SecretString> = vec![&current];
        if let Some(secret) = &self.client_secret {
            secrets.push(secret);
        }
        let response = request.request_async(&transport).await.map_err(|e| {
            self.endpoint
                .error(e, &secrets)
                .context("refreshing the OAuth access token")
        })?;
        let fetched = Fetched::from_response(&response);
        if let Some(rotated) = &fetched.refresh_token {
            if rotated.expose_secret() != current.expose_secret() {
                *write_lock(&self.refresh_token) = rotated.clone();
                tracing::debug!(token_url = %self.endpoint.display, "refresh token rotated");
                if let Some(hook) = &self.on_rotate {
                    hook(rotated);
                }
            }
        }
        Ok(fetched)
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("token_url", &self.endpoint.display)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self
                    .client_secret
                    .as_ref()
                    .map(|_| format_args!("[REDACTED]")),
            )
            .field("refresh_token", &format_args!("[REDACTED]"))
            .field("scopes", &self.scopes)
            .field("on_rotate", &self.on_rotate.is_some())
            .finish()
    }
}

#[async_trait]
impl CredentialProvider for RefreshToken {
    async fn authorization(&self) -> Result<SecretString> {
        self.cache.get_or_fetch(|| self.fetch()).await
    }

    async fn refresh(&self, rejected: &SecretString) -> Result<bool> {
        self.cache.refresh(rejected, || self.fetch()).await
    }
}

// ---------------------------------------------------------------------------
// Shared machinery: the endpoint, its transport and error mapping, the cache.

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

/// What one token request produced.
pub(crate) struct Fetched {
    pub(crate) access_token: SecretString,
    pub(crate) expires_in: Option<Duration>,
    pub(crate) refresh_token: Option<SecretString>,
}

impl Fetched {
    pub(crate) fn from_response(response: &BasicTokenResponse) -> Self {
        Self {
            access_token: SecretString::from(response.access_token().secret().clone()),
            expires_in: response.expires_in(),
            refresh_token: response
                .refresh_token()
                .map(|t| SecretString::from(t.secret().clone())),
        }
    }
}

/// A cached `Authorization` header value and how long it lives.
struct Cached {
    header: SecretString,
    obtained: Instant,
    lifetime: Option<Duration>,
}

impl Cached {
    /// When to replace the token: `skew` before expiry, but a token that
    /// lives less than twice the skew is kept for half its life instead of
    /// being fetched again on every call.
    fn refresh_at(&self, skew: Duration) -> Option<Instant> {
        self.lifetime
            .map(|lifetime| self.obtained + lifetime.saturating_sub(skew.min(lifetime / 2)))
    }

    fn is_fresh(&self, skew: Duration) -> bool {
        self.refresh_at(skew).is_none_or(|at| Instant::now() < at)
    }
}

/// The single-flight token cache both providers share.
struct TokenCache {
    skew: Duration,
    current: RwLock<Option<Arc<Cached>>>,
    // Held for the whole token request: the one in flight.
    flight: Mutex<()>,
    // Counts finished fetches, so a waiter can tell one happened while it waited.
    fetches: AtomicU64,
    // The last fetch's failure, replayed to callers that waited for it.
    last_failure: RwLock<Option<FailureCopy>>,
}

struct FailureCopy {
    kind: ErrorKind,
    message: String,
    request: Option<String>,
    status: Option<u16>,
}

impl FailureCopy {
    fn of(err: &Error) -> Self {
        Self {
            kind: err.kind(),
            message: err.message().to_string(),
            request: err.request().map(str::to_string),
            status: err.status(),
        }
    }

    fn error(&self) -> Error {
        let mut error = Error::new(self.kind, self.message.clone());
        if let Some(request) = &self.request {
            let (method, url) = request
                .split_once(' ')
                .unwrap_or(("POST", request.as_str()));
            error = error.with_request(method, url);
        }
        if let Some(status) = self.status {
            error = error.with_status(status);
        }
        error
    }
}

impl TokenCache {
    fn new(skew: Duration) -> Self {
        Self {
            skew,
            current: RwLock::new(None),
            flight: Mutex::new(()),
            fetches: AtomicU64::new(0),
            last_failure: RwLock::new(None),
        }
    }

    fn fresh(&self) -> Option<SecretString> {
        read_lock(&self.current)
            .as_ref()
            .filter(|c| c.is_fresh(self.skew))
            .map(|c| c.header.clone())
    }

    fn store(&self, fetched: Fetched) -> SecretString {
        let header = SecretString::from(format!("Bearer {}", fetched.access_token.expose_secret()));
        *write_lock(&self.current) = Some(Arc::new(Cached {
            header: header.clone(),
            obtained: Instant::now(),
            lifetime: fetched.expires_in,
        }));
        header
    }

    /// The failure of a fetch that finished after `seen`, if it failed.
    fn failure_since(&self, seen: u64) -> Option<Error> {
        if self.fetches.load(Ordering::Acquire) == seen {
            return None;
        }
        read_lock(&self.last_failure)
            .as_ref()
            .map(FailureCopy::error)
    }

    async fn run_fetch<F, Fut>(&self, fetch: F) -> Result<SecretString>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched>>,
    {
        let outcome = fetch().await;
        *write_lock(&self.last_failure) = outcome.as_ref().err().map(FailureCopy::of);
        self.fetches.fetch_add(1, Ordering::AcqRel);
        outcome.map(|fetched| self.store(fetched))
    }

    async fn get_or_fetch<F, Fut>(&self, fetch: F) -> Result<SecretString>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched>>,
    {
        if let Some(header) = self.fresh() {
            return Ok(header);
        }
        let seen = self.fetches.load(Ordering::Acquire);
        let _flight = self.flight.lock().await;
        // Whoever held the lock before us may have fetched already.
        if let Some(header) = self.fresh() {
            return Ok(header);
        }
        if let Some(error) = self.failure_since(seen) {
            return Err(error);
        }
        self.run_fetch(fetch).await
    }

    async fn refresh<F, Fut>(&self, rejected: &SecretString, fetch: F) -> Result<bool>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched>>,
    {
        let seen = self.fetches.load(Ordering::Acquire);
        let _flight = self.flight.lock().await;
        if let Some(current) = self.fresh() {
            if current.expose_secret() != rejected.expose_secret() {
                // Another caller already replaced the rejected token.
                return Ok(true);
            }
        }
        if let Some(error) = self.failure_since(seen) {
            return Err(error);
        }
        self.run_fetch(fetch).await.map(|_| true)
    }
}

// Poisoning only means another thread panicked mid-update of a plain value
// that is still valid, so carry on with it.
fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
    fn short_lived_tokens_are_kept_for_half_their_life() {
        let cache = TokenCache::new(Duration::from_secs(60));
        cache.store(Fetched {
            access_token: SecretString::from("a"),
            expires_in: Some(Duration::from_secs(10)),
            refresh_token: None,
        });
        assert!(cache.fresh().is_some());
        let cached = read_lock(&cache.current).clone().unwrap();
        let left = cached.refresh_at(cache.skew).unwrap() - Instant::now();
        assert!(left > Duration::from_secs(4) && left <= Duration::from_secs(5));
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
