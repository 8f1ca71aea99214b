//! GitHub App authentication: a JWT signed RS256 with the app's private key
//! buys an installation access token (`POST /app/installations/{id}/access_tokens`),
//! which lives an hour. [`AppInstallation`] keeps one, renews it before it
//! expires, and lets one renewal run however many requests wait for it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connector_core::credentials::jwt::Rs256Key;
use connector_core::credentials::{CredentialProvider, ExposeSecret, SecretString};
use connector_core::http::HttpClient;
use connector_core::options::SourceOptions;
use connector_core::{Error, Result};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// How long before its expiry an installation token is replaced (or half
/// its life, for a token that lives less than twice this).
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// A GitHub App installation to sign in as.
///
/// ```
/// use connector_github::GitHubAppConfig;
/// let app: GitHubAppConfig = serde_json::from_value(serde_json::json!({
///     "app_id": "123456",
///     "installation_id": 7890123,
///     "private_key_path": "/etc/github/app.pem"
/// }))?;
/// assert_eq!(app.installation_id, 7890123);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GitHubAppConfig {
    /// The app's ID or client ID (the JWT's issuer).
    pub app_id: String,
    /// The installation on the organization or user whose repositories are
    /// synced.
    pub installation_id: u64,
    /// The app's private key (PEM, `BEGIN RSA PRIVATE KEY` as GitHub
    /// issues it, or PKCS #8). Never serialized.
    #[serde(default, skip_serializing)]
    pub private_key: Option<SecretString>,
    /// A file holding the private key, read when the connector is built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_path: Option<PathBuf>,
}

impl GitHubAppConfig {
    /// The app `app_id`'s `installation_id`, with its private key in PEM.
    pub fn new(
        app_id: impl Into<String>,
        installation_id: u64,
        private_key: impl Into<SecretString>,
    ) -> Self {
        Self {
            app_id: app_id.into(),
            installation_id,
            private_key: Some(private_key.into()),
            private_key_path: None,
        }
    }

    /// The signing key, from `private_key` or `private_key_path`.
    fn key(&self) -> Result<Rs256Key> {
        let pem = match (&self.private_key, &self.private_key_path) {
            (Some(key), _) => key.expose_secret().to_owned(),
            (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                Error::config(format!(
                    "app.private_key_path: cannot read {}: {e}",
                    path.display()
                ))
            })?,
            (None, None) => {
                return Err(Error::config(
                    "app: set private_key (the PEM text) or private_key_path (the .pem file GitHub gave)",
                ));
            }
        };
        Rs256Key::from_pem(&pem).map_err(|e| {
            Error::config(format!(
                "app.private_key is {} (GitHub issues `BEGIN RSA PRIVATE KEY` PEM files)",
                e.message()
            ))
        })
    }
}

/// The JWT that authenticates as the app itself.
struct AppJwt {
    app_id: String,
    key: Arc<Rs256Key>,
}

impl fmt::Debug for AppJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppJwt")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl AppJwt {
    /// A JWT valid for nine minutes (GitHub accepts up to ten), issued a
    /// minute in the past against clock drift.
    fn sign(&self, now: DateTime<Utc>) -> Result<SecretString> {
        let claims = serde_json::json!({
            "iat": now.timestamp() - 60,
            "exp": now.timestamp() + 540,
            "iss": self.app_id,
        });
        self.key
            .sign(None, &claims)
            .map_err(|e| e.context("the GitHub App JWT"))
    }
}

#[async_trait]
impl CredentialProvider for AppJwt {
    async fn authorization(&self) -> Result<SecretString> {
        Ok(SecretString::from(format!(
            "Bearer {}",
            self.sign(Utc::now())?.expose_secret()
        )))
    }
}

/// An installation token and when it expires.
struct Held {
    header: SecretString,
    renew_at: DateTime<Utc>,
}

/// The installation access token of a GitHub App installation, as a
/// credential provider: minted on first use, renewed before it expires and
/// after a `401`, one renewal at a time.
pub(crate) struct AppInstallation {
    http: HttpClient,
    installation_id: u64,
    held: Mutex<Option<Held>>,
}

impl fmt::Debug for AppInstallation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppInstallation")
            .field("installation_id", &self.installation_id)
            .finish_non_exhaustive()
    }
}

/// `POST /app/installations/{id}/access_tokens`'s answer.
#[derive(Deserialize)]
struct Minted {
    token: SecretString,
    expires_at: DateTime<Utc>,
}

impl AppInstallation {
    /// The provider of `app` at the API `base_url`.
    pub(crate) fn new(
        base_url: &str,
        app: &GitHubAppConfig,
        options: &SourceOptions,
    ) -> Result<Self> {
        if app.app_id.trim().is_empty() {
            return Err(Error::config(
                "app.app_id is empty; give the app's ID or client ID",
            ));
        }
        let jwt = AppJwt {
            app_id: app.app_id.trim().to_owned(),
            key: Arc::new(app.key()?),
        };
        let http = HttpClient::builder("github app", base_url)
            .options(options, crate::config::DEFAULT_RATE)
            .credentials(jwt)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .build()?;
        Ok(Self {
            http,
            installation_id: app.installation_id,
            held: Mutex::new(None),
        })
    }

    async fn mint(&self) -> Result<Held> {
        let path = format!("/app/installations/{}/access_tokens", self.installation_id);
        // Minting twice only leaves a spare token: safe to send again.
        let minted: Minted = self
            .http
            .post(&path)
            .idempotent(true)
            .fetch_json()
            .await
            .map_err(|e| {
                e.context(format_args!(
                    "minting an access token of GitHub App installation {} (check app_id, installation_id and the private key)",
                    self.installation_id
                ))
            })?;
        let now = Utc::now();
        let life = (minted.expires_at - now).to_std().unwrap_or_default();
        let early = RENEW_BEFORE.min(life / 2);
        let renew_at =
            now + chrono::Duration::from_std(life.saturating_sub(early)).unwrap_or_default();
        tracing::debug!(installation = self.installation_id, expires_at = %minted.expires_at, "minted a GitHub App installation token");
        Ok(Held {
            header: SecretString::from(format!("Bearer {}", minted.token.expose_secret())),
            renew_at,
        })
    }
}

#[async_trait]
impl CredentialProvider for AppInstallation {
    async fn authorization(&self) -> Result<SecretString> {
        // The lock is held through a renewal: the requests waiting for it
        // take the token it mints.
        let mut held = self.held.lock().await;
        if let Some(h) = held.as_ref()
            && Utc::now() < h.renew_at
        {
            return Ok(h.header.clone());
        }
        let fresh = self.mint().await?;
        let header = fresh.header.clone();
        *held = Some(fresh);
        Ok(header)
    }

    async fn refresh(&self, rejected: &SecretString) -> Result<bool> {
        let mut held = self.held.lock().await;
        // Renewed while this request was out: send it again with that one.
        if held
            .as_ref()
            .is_some_and(|h| h.header.expose_secret() != rejected.expose_secret())
        {
            return Ok(true);
        }
        *held = Some(self.mint().await?);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_keys_name_the_field() {
        let app = GitHubAppConfig::new(
            "1",
            2,
            "-----BEGIN RSA PRIVATE KEY-----\nnot base64!\n-----END RSA PRIVATE KEY-----",
        );
        let e = AppInstallation::new("https://api.github.com", &app, &SourceOptions::default())
            .unwrap_err();
        assert!(e.to_string().contains("app.private_key"), "{e}");
        let mut none = app.clone();
        none.private_key = None;
        let e = AppInstallation::new("https://api.github.com", &none, &SourceOptions::default())
            .unwrap_err();
        assert!(e.to_string().contains("private_key_path"), "{e}");
        let json = serde_json::to_string(&app).unwrap();
        assert!(!json.contains("BEGIN"), "{json}");
    }
}
