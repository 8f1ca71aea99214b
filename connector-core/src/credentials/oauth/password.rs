//! The resource-owner password grant: an integration user's name and
//! password traded for tokens, refreshed with the refresh token it issues.

use std::fmt;
use std::sync::RwLock;
use std::time::Duration;

use async_trait::async_trait;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, ResourceOwnerPassword, ResourceOwnerUsername, Scope};
use secrecy::{ExposeSecret, SecretString};

use crate::credentials::CredentialProvider;
use crate::{Error, ErrorKind, Result};

use super::cache::{Fetched, TokenCache, read_lock, write_lock};
use super::endpoint::{Endpoint, TokenClient, Transport};
use super::{ClientAuth, DEFAULT_REFRESH_SKEW};

/// OAuth 2.0 resource owner password credentials grant (RFC 6749 §4.3), as
/// ServiceNow's `/oauth_token.do` offers it to integration users: the first
/// token comes from the user's name and password; later ones from the
/// refresh token issued with it, and from the password again once the
/// refresh token is refused (expired or revoked).
///
/// ```
/// use connector_core::credentials::{ClientAuth, PasswordGrant};
/// let provider = PasswordGrant::new(
///     "https://acme.service-now.com/oauth_token.do",
///     "client-id",
///     "client-secret",
///     "integration.user",
///     "user-password",
/// )?
/// .client_auth(ClientAuth::RequestBody);
/// let shown = format!("{provider:?}");
/// assert!(!shown.contains("client-secret") && !shown.contains("user-password"));
/// # Ok::<(), connector_core::Error>(())
/// ```
pub struct PasswordGrant {
    endpoint: Endpoint,
    client: TokenClient,
    client_id: String,
    client_secret: SecretString,
    username: String,
    password: SecretString,
    scopes: Vec<String>,
    refresh_token: RwLock<Option<SecretString>>,
    cache: TokenCache,
}

impl PasswordGrant {
    /// A provider for the OAuth client `client_id` / `client_secret` signing
    /// in as `username` / `password` at `token_url` (`https://`; plain
    /// `http://` only for loopback test servers).
    pub fn new(
        token_url: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Result<Self> {
        let endpoint = Endpoint::new(token_url, "token URL")?;
        let client_id = client_id.into();
        let client_secret: SecretString = client_secret.into();
        let username = username.into();
        let password: SecretString = password.into();
        for (empty, what) in [
            (client_id.trim().is_empty(), "client id"),
            (client_secret.expose_secret().is_empty(), "client secret"),
            (username.trim().is_empty(), "user name"),
            (password.expose_secret().is_empty(), "password"),
        ] {
            if empty {
                return Err(Error::config(format!(
                    "{what} is empty; the password grant needs the OAuth client and the user"
                )));
            }
        }
        let client = BasicClient::new(ClientId::new(client_id.clone()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_string()))
            .set_token_uri(endpoint.token_url.clone());
        Ok(Self {
            endpoint,
            client,
            client_id,
            client_secret,
            username,
            password,
            scopes: Vec::new(),
            refresh_token: RwLock::new(None),
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
    /// It must not follow redirects.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.endpoint.http = client;
        self
    }

    async fn fetch(&self) -> Result<Fetched> {
        // Only called under the cache's flight lock: no other fetch swaps
        // the refresh token meanwhile.
        let held = read_lock(&self.refresh_token).clone();
        if let Some(refresh) = held {
            match self.by_refresh_token(&refresh).await {
                Ok(fetched) => return self.keep(fetched),
                // A refused refresh token (expired, revoked): sign in again.
                Err(e) if e.kind() == ErrorKind::Auth => {
                    tracing::debug!(token_url = %self.endpoint.display, "refresh token refused; using the password grant");
                    *write_lock(&self.refresh_token) = None;
                }
                Err(e) => return Err(e),
            }
        }
        let username = ResourceOwnerUsername::new(self.username.clone());
        let password = ResourceOwnerPassword::new(self.password.expose_secret().to_string());
        let mut request = self.client.exchange_password(&username, &password);
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let transport = Transport(&self.endpoint.http);
        let response = request.request_async(&transport).await.map_err(|e| {
            self.endpoint
                .error(e, &[&self.client_secret, &self.password])
                .context("password grant")
        })?;
        tracing::debug!(token_url = %self.endpoint.display, "fetched an OAuth access token");
        self.keep(Fetched::from_response(&response))
    }

    async fn by_refresh_token(&self, refresh: &SecretString) -> Result<Fetched> {
        let token = oauth2::RefreshToken::new(refresh.expose_secret().to_string());
        let transport = Transport(&self.endpoint.http);
        let response = self
            .client
            .exchange_refresh_token(&token)
            .request_async(&transport)
            .await
            .map_err(|e| {
                self.endpoint
                    .error(e, &[&self.client_secret, refresh])
                    .context("refreshing the OAuth access token")
            })?;
        Ok(Fetched::from_response(&response))
    }

    fn keep(&self, fetched: Fetched) -> Result<Fetched> {
        if let Some(refresh) = &fetched.refresh_token {
            *write_lock(&self.refresh_token) = Some(refresh.clone());
        }
        Ok(fetched)
    }
}

impl fmt::Debug for PasswordGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordGrant")
            .field("token_url", &self.endpoint.display)
            .field("client_id", &self.client_id)
            .field("client_secret", &format_args!("[REDACTED]"))
            .field("username", &self.username)
            .field("password", &format_args!("[REDACTED]"))
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[async_trait]
impl CredentialProvider for PasswordGrant {
    async fn authorization(&self) -> Result<SecretString> {
        self.cache.get_or_fetch(|| self.fetch()).await
    }

    async fn refresh(&self, rejected: &SecretString) -> Result<bool> {
        self.cache.refresh(rejected, || self.fetch()).await
    }
}
