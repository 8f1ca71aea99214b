//! The client-credentials grant: a service signing in as itself.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, Scope};
use secrecy::{ExposeSecret, SecretString};

use crate::credentials::CredentialProvider;
use crate::{Error, Result};

use super::cache::{Fetched, TokenCache};
use super::endpoint::{Endpoint, TokenClient, Transport};
use super::{ClientAuth, DEFAULT_REFRESH_SKEW};

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
