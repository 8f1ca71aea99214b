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
