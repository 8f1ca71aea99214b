//! Credentials kept in memory: for tests and short-lived hosts.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;

use async_trait::async_trait;

use crate::Result;

use super::{CredentialKey, CredentialStore, StoredCredential};

/// Credentials in memory: for tests and hosts with their own persistence.
///
/// ```
/// use connector_core::credentials::{CredentialStoreExt, MemoryCredentialStore, StoredCredential};
/// # async fn demo() -> connector_core::Result<()> {
/// let store = MemoryCredentialStore::default();
/// let acme = store.tenant("acme")?;
/// acme.put("wiki", "confluence", StoredCredential::basic("me@example.com", "tok")).await?;
/// assert_eq!(acme.list().await?.len(), 1);
/// assert!(acme.delete("wiki", "confluence").await?);
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Default)]
pub struct MemoryCredentialStore {
    entries: RwLock<BTreeMap<CredentialKey, StoredCredential>>,
}

impl fmt::Debug for MemoryCredentialStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self
            .entries
            .read()
            .map(|entries| entries.len())
            .unwrap_or_default();
        f.debug_struct("MemoryCredentialStore")
            .field("entries", &count)
            .finish()
    }
}

// A poisoned lock still holds a consistent map: each update is one insert
// or remove, which cannot be half-done.
fn recover<G>(result: std::result::Result<G, std::sync::PoisonError<G>>) -> G {
    result.unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[async_trait]
impl CredentialStore for MemoryCredentialStore {
    async fn get(&self, key: &CredentialKey) -> Result<Option<StoredCredential>> {
        Ok(recover(self.entries.read()).get(key).cloned())
    }

    async fn put(&self, key: &CredentialKey, value: StoredCredential) -> Result<()> {
        key.validate()?;
        recover(self.entries.write()).insert(key.clone(), value);
        Ok(())
    }

    async fn delete(&self, key: &CredentialKey) -> Result<bool> {
        Ok(recover(self.entries.write()).remove(key).is_some())
    }

    async fn list(&self, tenant_id: &str) -> Result<Vec<CredentialKey>> {
        Ok(recover(self.entries.read())
            .keys()
            .filter(|k| k.tenant_id == tenant_id)
            .cloned()
            .collect())
    }
}
