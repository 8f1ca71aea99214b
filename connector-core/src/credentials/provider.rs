use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::Result;

/// Supplies the `Authorization` header for requests to one source.
///
/// Implementations are shared by every clone of a connector, so they must be
/// cheap to call concurrently; a provider that fetches tokens caches them and
/// lets one refresh run however many requests wait for it.
///
/// ```
/// use connector_core::credentials::{Bearer, CredentialProvider, ExposeSecret};
/// # async fn demo() -> connector_core::Result<()> {
/// let provider = Bearer::new("token-123");
/// let header = provider.authorization().await?;
/// assert_eq!(header.expose_secret(), "Bearer token-123");
/// assert!(!format!("{provider:?}").contains("token-123"));
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[async_trait]
pub trait CredentialProvider: Send + Sync + Debug {
    /// The full header value for the next request, e.g. `Bearer …` or `Basic …`.
    async fn authorization(&self) -> Result<SecretString>;

    /// Called once after a `401 Unauthorized` answered a request made with
    /// `rejected`. Returns `true` when a new credential is ready and the
    /// request may be sent again; static credentials return `false`.
    async fn refresh(&self, rejected: &SecretString) -> Result<bool> {
        let _ = rejected;
        Ok(false)
    }
}

/// A provider shared by a connector and its clones.
pub type SharedCredentials = Arc<dyn CredentialProvider>;
