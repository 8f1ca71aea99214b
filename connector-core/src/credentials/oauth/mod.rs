//! OAuth 2.0 providers: client credentials, password and refresh token.
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

mod cache;
mod client_credentials;
mod endpoint;
#[cfg(feature = "jwt")]
mod jwt_bearer;
mod password;
mod refresh_token;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use oauth2::AuthType;
use secrecy::SecretString;

pub use client_credentials::ClientCredentials;
pub(crate) use endpoint::{Endpoint, Transport, parse_endpoint_url};
#[cfg(feature = "jwt")]
pub use jwt_bearer::JwtBearer;
pub use password::PasswordGrant;
pub use refresh_token::RefreshToken;

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

/// Tokens a token endpoint issued: what [`PkceLogin`](crate::credentials::PkceLogin)
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
