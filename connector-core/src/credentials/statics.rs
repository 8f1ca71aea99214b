use std::fmt;

use async_trait::async_trait;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

use super::CredentialProvider;
use crate::Result;

/// HTTP Basic credentials: a user name (an email for Atlassian Cloud) and a
/// password or API token.
///
/// ```
/// use connector_core::credentials::Basic;
/// let basic = Basic::new("me@example.com", "api-token");
/// assert_eq!(format!("{basic:?}"), r#"Basic { user: "me@example.com", secret: [REDACTED] }"#);
/// ```
#[derive(Clone)]
pub struct Basic {
    user: String,
    header: SecretString,
}

impl Basic {
    /// Credentials for `user` with `secret`.
    pub fn new(user: impl Into<String>, secret: impl Into<SecretString>) -> Self {
        let user = user.into();
        let secret: SecretString = secret.into();
        let raw = format!("{user}:{}", secret.expose_secret());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        Self {
            user,
            header: SecretString::from(format!("Basic {encoded}")),
        }
    }

    /// The user name, which is not secret.
    pub fn user(&self) -> &str {
        &self.user
    }
}

impl fmt::Debug for Basic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Basic")
            .field("user", &self.user)
            .field("secret", &format_args!("[REDACTED]"))
            .finish()
    }
}

#[async_trait]
impl CredentialProvider for Basic {
    async fn authorization(&self) -> Result<SecretString> {
        Ok(self.header.clone())
    }
}

/// A fixed bearer token: a personal access token, or an OAuth access token
/// the host manages itself.
///
/// ```
/// use connector_core::credentials::Bearer;
/// let pat = Bearer::new("pat-secret");
/// assert_eq!(format!("{pat:?}"), "Bearer([REDACTED])");
/// ```
#[derive(Clone)]
pub struct Bearer {
    header: SecretString,
}

impl Bearer {
    /// A bearer credential for `token`.
    pub fn new(token: impl Into<SecretString>) -> Self {
        let token: SecretString = token.into();
        Self {
            header: SecretString::from(format!("Bearer {}", token.expose_secret())),
        }
    }
}

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bearer([REDACTED])")
    }
}

#[async_trait]
impl CredentialProvider for Bearer {
    async fn authorization(&self) -> Result<SecretString> {
        Ok(self.header.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn basic_header_is_base64_of_user_colon_secret() {
        let basic = Basic::new("Aladdin", "open sesame");
        let header = basic.authorization().await.unwrap();
        assert_eq!(header.expose_secret(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(!basic.refresh(&header).await.unwrap());
    }
}

/// Static credentials as configuration: a user and a secret (HTTP Basic:
/// Atlassian's email + API token, ServiceNow's user + password), or a
/// token (a personal access token, an OAuth access token). Deserializes
/// from the shapes hosts store (`{"email": …, "api_token": …}`,
/// `{"user": …, "password": …}`, `{"token": …}`); serializes without the
/// secret.
///
/// ```
/// use connector_core::credentials::{ExposeSecret, StaticAuth};
/// # async fn demo() -> connector_core::Result<()> {
/// let cloud: StaticAuth = serde_json::from_str(r#"{"email":"me@acme.com","api_token":"t0k"}"#)?;
/// let dc: StaticAuth = serde_json::from_str(r#"{"token":"pat-123"}"#)?;
/// assert!(cloud.provider().authorization().await?.expose_secret().starts_with("Basic "));
/// assert_eq!(dc.provider().authorization().await?.expose_secret(), "Bearer pat-123");
/// assert_eq!(serde_json::to_string(&cloud)?, r#"{"user":"me@acme.com"}"#);
/// assert!(!format!("{dc:?}").contains("pat-123"));
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum StaticAuth {
    /// A user and a secret, sent as HTTP Basic.
    Basic {
        /// The user name or email.
        #[serde(alias = "email", alias = "username")]
        user: String,
        /// The password or API token.
        #[serde(alias = "api_token", alias = "password", skip_serializing)]
        secret: SecretString,
    },
    /// A bearer token.
    Bearer {
        /// The token.
        #[serde(alias = "pat", alias = "access_token", skip_serializing)]
        token: SecretString,
    },
}

impl fmt::Debug for StaticAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StaticAuth::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .field("secret", &format_args!("[REDACTED]"))
                .finish(),
            StaticAuth::Bearer { .. } => f.write_str("Bearer([REDACTED])"),
        }
    }
}

impl StaticAuth {
    /// HTTP Basic with `user` and `secret`.
    pub fn basic(user: impl Into<String>, secret: impl Into<SecretString>) -> Self {
        StaticAuth::Basic {
            user: user.into(),
            secret: secret.into(),
        }
    }

    /// A bearer token.
    pub fn bearer(token: impl Into<SecretString>) -> Self {
        StaticAuth::Bearer {
            token: token.into(),
        }
    }

    /// The provider that sends these credentials.
    pub fn provider(&self) -> super::SharedCredentials {
        match self {
            StaticAuth::Basic { user, secret } => {
                std::sync::Arc::new(Basic::new(user.clone(), secret.clone()))
            }
            StaticAuth::Bearer { token } => std::sync::Arc::new(Bearer::new(token.clone())),
        }
    }
}
