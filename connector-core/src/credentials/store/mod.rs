//! Credential stores for hosts that keep many tenants' connections.
//!
//! Entries are keyed by [`CredentialKey`] (tenant id, connection id,
//! connection type) and hold a [`StoredCredential`]: named secret fields.
//! Hosts go through [`CredentialStoreExt::tenant`], a view that can only see
//! one tenant's entries.
//!
//! [`EncryptedFileStore`] keeps everything in one file, each entry sealed
//! with ChaCha20-Poly1305 under a 32-byte [`StoreKey`], with a fresh random
//! nonce per entry and the key triple as associated data, so an entry moved
//! to another tenant's or connection's slot fails to decrypt instead of
//! being handed to the wrong tenant. Tenant and connection ids are stored in
//! clear (they are identifiers, not secrets); the fields are not.

mod encrypted;
mod memory;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::SharedCredentials;
use crate::{Error, ErrorKind, Result};

pub use encrypted::{EncryptedFileStore, SealedCredential, StoreKey};
pub use memory::MemoryCredentialStore;

/// Which connection a credential belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CredentialKey {
    /// The tenant (customer, workspace) that owns the connection.
    pub tenant_id: String,
    /// The connection, unique within the tenant.
    pub connection_id: String,
    /// The connection's type (`jira`, `confluence`, `sharepoint`, …).
    pub connection_type: String,
}

impl CredentialKey {
    /// A key; every part must be non-empty.
    ///
    /// ```
    /// use connector_core::credentials::CredentialKey;
    /// let key = CredentialKey::new("acme", "jira-main", "jira")?;
    /// assert_eq!(key.tenant_id, "acme");
    /// assert!(CredentialKey::new("", "jira-main", "jira").is_err());
    /// # Ok::<(), connector_core::Error>(())
    /// ```
    pub fn new(
        tenant_id: impl Into<String>,
        connection_id: impl Into<String>,
        connection_type: impl Into<String>,
    ) -> Result<Self> {
        let key = Self {
            tenant_id: tenant_id.into(),
            connection_id: connection_id.into(),
            connection_type: connection_type.into(),
        };
        key.validate()?;
        Ok(key)
    }

    fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("tenant id", &self.tenant_id),
            ("connection id", &self.connection_id),
            ("connection type", &self.connection_type),
        ] {
            if value.is_empty() || value.len() > 512 || value.chars().any(char::is_control) {
                return Err(Error::config(format!(
                    "credential {name} must be 1 to 512 characters without control characters"
                )));
            }
        }
        Ok(())
    }

    /// Associated data binding a ciphertext to this key: length-prefixed
    /// parts, so `("ab", "c")` and `("a", "bc")` differ.
    fn associated_data(&self) -> Vec<u8> {
        let mut ad = b"connector-sdk credential v1".to_vec();
        for part in [&self.tenant_id, &self.connection_id, &self.connection_type] {
            ad.extend_from_slice(&(part.len() as u64).to_be_bytes());
            ad.extend_from_slice(part.as_bytes());
        }
        ad
    }
}

impl fmt::Display for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} ({})",
            self.tenant_id, self.connection_id, self.connection_type
        )
    }
}

/// A stored credential: named secret fields, e.g. `type`, `user`, `secret`.
/// `Debug` lists the field names only.
///
/// With the field names of a [credentials file](mod@super::file) it becomes a
/// provider through [`to_provider`](Self::to_provider).
///
/// ```
/// use connector_core::credentials::{ExposeSecret, StoredCredential};
/// let cred = StoredCredential::basic("me@example.com", "api-token");
/// assert_eq!(cred.get("user").unwrap().expose_secret(), "me@example.com");
/// assert_eq!(format!("{cred:?}"), r#"StoredCredential { fields: ["secret", "type", "user"] }"#);
/// ```
#[derive(Clone, Default)]
pub struct StoredCredential {
    fields: BTreeMap<String, SecretString>,
}

impl StoredCredential {
    /// An empty credential.
    pub fn new() -> Self {
        Self::default()
    }

    /// `{type: basic, user, secret}`.
    pub fn basic(user: impl Into<String>, secret: impl Into<SecretString>) -> Self {
        Self::new()
            .with("type", "basic")
            .with("user", user.into())
            .with("secret", secret)
    }

    /// `{type: bearer, token}`.
    pub fn bearer(token: impl Into<SecretString>) -> Self {
        Self::new().with("type", "bearer").with("token", token)
    }

    /// This credential with `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<SecretString>) -> Self {
        self.insert(name, value);
        self
    }

    /// Set `name` to `value`.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<SecretString>) {
        self.fields.insert(name.into(), value.into());
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.fields.get(name)
    }

    /// The field names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// The provider these fields describe (`type` = `basic`, `bearer` or
    /// `client_credentials`, with the fields a [credentials file](mod@super::file)
    /// has; `scopes` space-separated).
    ///
    /// ```
    /// use connector_core::credentials::StoredCredential;
    /// let provider = StoredCredential::bearer("pat").to_provider()?;
    /// assert_eq!(format!("{provider:?}"), "Bearer([REDACTED])");
    /// # Ok::<(), connector_core::Error>(())
    /// ```
    pub fn to_provider(&self) -> Result<SharedCredentials> {
        let map = self
            .fields
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::Value::String(v.expose_secret().to_string()),
                )
            })
            .collect();
        super::file::from_map(&map, "stored credential")
    }

    /// The plaintext to seal: a JSON object of the fields.
    fn to_plaintext(&self) -> Result<Vec<u8>> {
        let exposed: BTreeMap<&str, &str> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose_secret()))
            .collect();
        serde_json::to_vec(&exposed)
            .map_err(|e| Error::new(ErrorKind::Other, "cannot encode a credential").with_source(e))
    }

    fn from_plaintext(plaintext: &[u8]) -> Option<Self> {
        let fields: BTreeMap<String, String> = serde_json::from_slice(plaintext).ok()?;
        Some(Self {
            fields: fields
                .into_iter()
                .map(|(k, v)| (k, SecretString::from(v)))
                .collect(),
        })
    }
}

impl fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredential")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Where credentials live. Implementations serve every tenant; hosts reach
/// one tenant's entries through [`CredentialStoreExt::tenant`].
///
/// ```
/// use std::sync::Arc;
/// use connector_core::credentials::{CredentialStore, CredentialStoreExt, MemoryCredentialStore, SharedCredentials};
///
/// /// Build the provider of one connection, from any store.
/// async fn provider_for(
///     store: &dyn CredentialStore,
///     tenant: &str,
///     connection: &str,
/// ) -> connector_core::Result<Option<SharedCredentials>> {
///     match store.tenant(tenant)?.get(connection, "jira").await? {
///         Some(stored) => stored.to_provider().map(Some),
///         None => Ok(None),
///     }
/// }
/// # async fn demo() -> connector_core::Result<()> {
/// let store: Arc<dyn CredentialStore> = Arc::new(MemoryCredentialStore::default());
/// assert!(provider_for(store.as_ref(), "acme", "jira-main").await?.is_none());
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[async_trait]
pub trait CredentialStore: Send + Sync + fmt::Debug {
    /// The credential stored under `key`, if any.
    async fn get(&self, key: &CredentialKey) -> Result<Option<StoredCredential>>;
    /// Store `value` under `key`, replacing any previous one.
    async fn put(&self, key: &CredentialKey, value: StoredCredential) -> Result<()>;
    /// Remove the credential under `key`; `true` if there was one.
    async fn delete(&self, key: &CredentialKey) -> Result<bool>;
    /// The keys of one tenant's entries, sorted.
    async fn list(&self, tenant_id: &str) -> Result<Vec<CredentialKey>>;
}

/// [`tenant`](Self::tenant) for every [`CredentialStore`], including `dyn` ones.
///
/// ```
/// use connector_core::credentials::{CredentialStoreExt, MemoryCredentialStore};
/// let store = MemoryCredentialStore::default();
/// assert_eq!(store.tenant("acme")?.tenant_id(), "acme");
/// assert!(store.tenant("").is_err());
/// # Ok::<(), connector_core::Error>(())
/// ```
pub trait CredentialStoreExt {
    /// A view of one tenant's entries.
    fn tenant(&self, tenant_id: &str) -> Result<TenantCredentials<'_, Self>>;
}

impl<S: CredentialStore + ?Sized> CredentialStoreExt for S {
    fn tenant(&self, tenant_id: &str) -> Result<TenantCredentials<'_, Self>> {
        // Validates the tenant id the way a full key would be.
        CredentialKey::new(tenant_id, "-", "-")?;
        Ok(TenantCredentials {
            store: self,
            tenant_id: tenant_id.to_string(),
        })
    }
}

/// One tenant's entries of a store: every call is scoped to that tenant, so
/// code holding it cannot reach another tenant's credentials.
///
/// ```
/// use connector_core::credentials::{CredentialStoreExt, MemoryCredentialStore, StoredCredential};
/// # async fn demo() -> connector_core::Result<()> {
/// let store = MemoryCredentialStore::default();
/// store.tenant("acme")?.put("jira-main", "jira", StoredCredential::bearer("pat")).await?;
/// assert!(store.tenant("acme")?.get("jira-main", "jira").await?.is_some());
/// assert!(store.tenant("globex")?.get("jira-main", "jira").await?.is_none());
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
pub struct TenantCredentials<'a, S: ?Sized> {
    store: &'a S,
    tenant_id: String,
}

impl<S: ?Sized> fmt::Debug for TenantCredentials<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantCredentials")
            .field("tenant_id", &self.tenant_id)
            .finish()
    }
}

impl<S: CredentialStore + ?Sized> TenantCredentials<'_, S> {
    /// The tenant this view is scoped to.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    fn key(&self, connection_id: &str, connection_type: &str) -> Result<CredentialKey> {
        CredentialKey::new(self.tenant_id.clone(), connection_id, connection_type)
    }

    /// The credential of one connection.
    pub async fn get(
        &self,
        connection_id: &str,
        connection_type: &str,
    ) -> Result<Option<StoredCredential>> {
        let key = self.key(connection_id, connection_type)?;
        self.store.get(&key).await
    }

    /// Store the credential of one connection.
    pub async fn put(
        &self,
        connection_id: &str,
        connection_type: &str,
        value: StoredCredential,
    ) -> Result<()> {
        let key = self.key(connection_id, connection_type)?;
        self.store.put(&key, value).await
    }

    /// Remove the credential of one connection; `true` if there was one.
    pub async fn delete(&self, connection_id: &str, connection_type: &str) -> Result<bool> {
        let key = self.key(connection_id, connection_type)?;
        self.store.delete(&key).await
    }

    /// This tenant's keys.
    pub async fn list(&self) -> Result<Vec<CredentialKey>> {
        let keys = self.store.list(&self.tenant_id).await?;
        // Defence in depth against a store that filters wrongly.
        Ok(keys
            .into_iter()
            .filter(|k| k.tenant_id == self.tenant_id)
            .collect())
    }
}
