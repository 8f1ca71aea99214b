//! The refresh-token grant: a person's delegated access, kept fresh.

use std::fmt;
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, Scope};
use secrecy::{ExposeSecret, SecretString};

use crate::credentials::CredentialProvider;
use crate::{Error, Result};

use super::cache::{Fetched, TokenCache, read_lock, write_lock};
use super::endpoint::{Endpoint, TokenClient, Transport};
use super::{ClientAuth, DEFAULT_REFRESH_SKEW, RotationHook};

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
    /// [`PkceLogin`](crate::credentials::PkceLogin)), used until `expires_at` (less the
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
        if let Some(rotated) = &fetched.refresh_token
            && rotated.expose_secret() != current.expose_secret()
        {
            *write_lock(&self.refresh_token) = rotated.clone();
            tracing::debug!(token_url = %self.endpoint.display, "refresh token rotated");
            if let Some(hook) = &self.on_rotate {
                hook(rotated);
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
