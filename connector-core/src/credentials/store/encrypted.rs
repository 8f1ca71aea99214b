//! Credentials sealed in one file (ChaCha20-Poly1305 per entry).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::credentials::env::Env;
use crate::{Error, ErrorKind, Result};

use super::{CredentialKey, CredentialStore, StoredCredential};

/// The 32-byte key of an [`EncryptedFileStore`]. `Debug` does not show it;
/// the bytes are wiped when it is dropped.
///
/// ```
/// use connector_core::credentials::{ExposeSecret, StoreKey};
/// let key = StoreKey::generate();
/// let encoded = key.to_base64(); // keep this in a secret manager
/// let again = StoreKey::from_base64(encoded.expose_secret())?;
/// assert_eq!(format!("{again:?}"), "StoreKey([REDACTED])");
/// assert!(StoreKey::from_base64("c2hvcnQ=").is_err());
/// # Ok::<(), connector_core::Error>(())
/// ```
pub struct StoreKey(SecretBox<[u8; 32]>);

impl StoreKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = Box::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        Self(SecretBox::new(bytes))
    }

    /// A key from standard base64 of exactly 32 bytes (`openssl rand -base64 32`).
    pub fn from_base64(encoded: &str) -> Result<Self> {
        Self::decode(encoded, "credential store key")
    }

    fn decode(encoded: &str, origin: &str) -> Result<Self> {
        let mut bytes = B64.decode(encoded.trim()).map_err(|_| {
            Error::config(format!(
                "{origin} is not valid base64; generate one with `openssl rand -base64 32`"
            ))
        })?;
        let result = if bytes.len() == 32 {
            let mut key = Box::new([0u8; 32]);
            key.copy_from_slice(&bytes);
            Ok(Self(SecretBox::new(key)))
        } else {
            Err(Error::config(format!(
                "{origin} decodes to {} bytes, not 32; generate one with `openssl rand -base64 32`",
                bytes.len()
            )))
        };
        bytes.zeroize();
        result
    }

    /// A key from the base64 in process environment variable `var`.
    pub fn from_env(var: &str) -> Result<Self> {
        Self::from_env_with(&Env::process(), var)
    }

    /// A key from the base64 in variable `var` of `env`.
    ///
    /// ```
    /// use connector_core::credentials::{env::Env, StoreKey};
    /// let env = Env::from_pairs([("STORE_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]);
    /// assert!(StoreKey::from_env_with(&env, "STORE_KEY").is_ok());
    /// assert!(StoreKey::from_env_with(&env, "OTHER_KEY").unwrap_err().to_string().contains("OTHER_KEY"));
    /// ```
    pub fn from_env_with(env: &Env, var: &str) -> Result<Self> {
        let encoded = env.secret(var, "a base64 32-byte key (`openssl rand -base64 32`)")?;
        Self::decode(
            encoded.expose_secret(),
            &format!("environment variable {var}"),
        )
    }

    /// A key from a file holding its base64 (whitespace around it is ignored).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let encoded = SecretString::from(std::fs::read_to_string(path).map_err(|e| {
            let err: Error = e.into();
            err.context(format!("cannot read key file {}", path.display()))
        })?);
        Self::decode(
            encoded.expose_secret(),
            &format!("key file {}", path.display()),
        )
    }

    /// The key as standard base64.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(B64.encode(self.0.expose_secret()))
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(self.0.expose_secret()))
    }
}

/// A credential sealed under a [`StoreKey`] for a store that keeps its
/// entries elsewhere (a database row): the same ChaCha20-Poly1305 sealing as
/// [`EncryptedFileStore`], with the [`CredentialKey`] as associated data, so
/// a row copied to another tenant's or connection's key fails to open.
///
/// ```
/// use connector_core::credentials::{CredentialKey, ExposeSecret, StoreKey, StoredCredential};
/// let key = StoreKey::generate();
/// let slot = CredentialKey::new("acme", "jira-main", "jira")?;
/// let sealed = key.seal_credential(&slot, &StoredCredential::bearer("pat-123"))?;
/// let opened = key.open_credential(&slot, &sealed)?;
/// assert_eq!(opened.get("token").unwrap().expose_secret(), "pat-123");
/// let other = CredentialKey::new("globex", "jira-main", "jira")?;
/// assert!(key.open_credential(&other, &sealed).is_err());
/// # Ok::<(), connector_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCredential {
    /// The 12-byte nonce, fresh for every seal.
    pub nonce: Vec<u8>,
    /// The ciphertext with its authentication tag.
    pub ciphertext: Vec<u8>,
}

impl StoreKey {
    /// Seal `value` for the slot `key`.
    pub fn seal_credential(
        &self,
        key: &CredentialKey,
        value: &StoredCredential,
    ) -> Result<SealedCredential> {
        key.validate()?;
        let mut plaintext = value.to_plaintext()?;
        let sealed = seal(&self.cipher(), &plaintext, &key.associated_data());
        plaintext.zeroize();
        let sealed = sealed?;
        let decode = |s: &str| {
            B64.decode(s)
                .map_err(|_| Error::new(ErrorKind::Other, "cannot encode a sealed credential"))
        };
        Ok(SealedCredential {
            nonce: decode(&sealed.nonce)?,
            ciphertext: decode(&sealed.ciphertext)?,
        })
    }

    /// Open what [`StoreKey::seal_credential`] sealed for `key`; a
    /// [`ErrorKind::Decode`] error when it does not authenticate (another
    /// key, a modified row, or a row moved from another slot).
    pub fn open_credential(
        &self,
        key: &CredentialKey,
        sealed: &SealedCredential,
    ) -> Result<StoredCredential> {
        let sealed = Sealed {
            nonce: B64.encode(&sealed.nonce),
            ciphertext: B64.encode(&sealed.ciphertext),
        };
        let fail = || {
            Error::new(
                ErrorKind::Decode,
                format!(
                    "credential {key} does not decrypt: wrong key, modified, or moved from another connection"
                ),
            )
        };
        let mut plaintext =
            open(&self.cipher(), &sealed, &key.associated_data()).ok_or_else(fail)?;
        let credential = StoredCredential::from_plaintext(&plaintext);
        plaintext.zeroize();
        credential.ok_or_else(fail)
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey([REDACTED])")
    }
}

const FORMAT: &str = "connector-sdk encrypted credential store";
const KEY_CHECK_AD: &[u8] = b"connector-sdk credential store key check v1";
const KEY_CHECK_PLAINTEXT: &[u8] = b"connector-sdk";
const WRONG_KEY: &str = "credential store key does not match the one the file was written with; use that key (or restore the file that matches this one)";

/// The file: identifiers in clear, each credential sealed.
#[derive(Serialize, Deserialize)]
struct StoreFile {
    format: String,
    version: u32,
    /// A known plaintext sealed under the key: tells a wrong key from a damaged entry.
    key_check: Sealed,
    entries: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize, Clone)]
struct FileEntry {
    #[serde(flatten)]
    key: CredentialKey,
    #[serde(flatten)]
    sealed: Sealed,
}

#[derive(Serialize, Deserialize, Clone)]
struct Sealed {
    nonce: String,
    ciphertext: String,
}

fn seal(cipher: &ChaCha20Poly1305, plaintext: &[u8], ad: &[u8]) -> Result<Sealed> {
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: ad,
            },
        )
        .map_err(|_| Error::new(ErrorKind::Other, "cannot encrypt a credential"))?;
    Ok(Sealed {
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(ciphertext),
    })
}

/// `None` when the ciphertext does not authenticate (wrong key, tampering,
/// or an entry moved to another key's slot).
fn open(cipher: &ChaCha20Poly1305, sealed: &Sealed, ad: &[u8]) -> Option<Vec<u8>> {
    let nonce = B64.decode(&sealed.nonce).ok()?;
    let ciphertext = B64.decode(&sealed.ciphertext).ok()?;
    if nonce.len() != 12 {
        return None;
    }
    cipher
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: ad,
            },
        )
        .ok()
}

struct FileState {
    key: StoreKey,
    // Sealed entries, as on disk; decrypted only on `get`.
    entries: BTreeMap<CredentialKey, Sealed>,
}

/// Credentials in one file, encrypted at rest with ChaCha20-Poly1305.
///
/// Every change rewrites the file atomically (temporary file, fsync,
/// rename, directory fsync), so a crash leaves the old or the new file,
/// never half of one. One process should write a given file at a time.
///
/// ```
/// use connector_core::credentials::{CredentialStoreExt, EncryptedFileStore, ExposeSecret, StoreKey, StoredCredential};
/// # async fn demo() -> connector_core::Result<()> {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("credentials.json");
/// let key = StoreKey::generate();
/// let backup = key.to_base64();
///
/// let store = EncryptedFileStore::open(&path, key).await?;
/// store.tenant("acme")?.put("jira-main", "jira", StoredCredential::bearer("pat-123")).await?;
/// assert!(!std::fs::read_to_string(&path).unwrap().contains("pat-123"));
///
/// let reopened = EncryptedFileStore::open(&path, StoreKey::from_base64(backup.expose_secret())?).await?;
/// let cred = reopened.tenant("acme")?.get("jira-main", "jira").await?.unwrap();
/// assert_eq!(cred.get("token").unwrap().expose_secret(), "pat-123");
///
/// let wrong = EncryptedFileStore::open(&path, StoreKey::generate()).await.unwrap_err();
/// assert!(wrong.to_string().contains("credential store key does not match"));
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
pub struct EncryptedFileStore {
    path: PathBuf,
    state: Mutex<FileState>,
}

impl fmt::Debug for EncryptedFileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedFileStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl EncryptedFileStore {
    /// Open the store at `path` with `key`; a missing file is an empty store
    /// (created on the first `put`). A file written with another key is a
    /// [`ErrorKind::Auth`] error.
    pub async fn open(path: impl Into<PathBuf>, key: StoreKey) -> Result<Self> {
        let path = path.into();
        let read_path = path.clone();
        let bytes = tokio::task::spawn_blocking(move || match std::fs::read(&read_path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(
                format!("cannot read credential store {}", read_path.display()),
                e,
            )),
        })
        .await
        .map_err(|e| {
            Error::new(ErrorKind::Other, "credential store read task failed").with_source(e)
        })??;
        let entries = match bytes {
            None => BTreeMap::new(),
            Some(bytes) => Self::decode_file(&path, &bytes, &key)?,
        };
        Ok(Self {
            path,
            state: Mutex::new(FileState { key, entries }),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn decode_file(
        path: &Path,
        bytes: &[u8],
        key: &StoreKey,
    ) -> Result<BTreeMap<CredentialKey, Sealed>> {
        let file: StoreFile = serde_json::from_slice(bytes).map_err(|e| {
            Error::decode(
                format!(
                    "credential store {} is not a credential store file",
                    path.display()
                ),
                e,
            )
        })?;
        if file.format != FORMAT || file.version != 1 {
            return Err(Error::new(
                ErrorKind::Decode,
                format!(
                    "credential store {} has an unknown format or version {}",
                    path.display(),
                    file.version
                ),
            ));
        }
        let cipher = key.cipher();
        match open(&cipher, &file.key_check, KEY_CHECK_AD) {
            Some(check) if check == KEY_CHECK_PLAINTEXT => {}
            _ => {
                return Err(Error::new(
                    ErrorKind::Auth,
                    format!("{WRONG_KEY} ({})", path.display()),
                ));
            }
        }
        Ok(file
            .entries
            .into_iter()
            .map(|entry| (entry.key, entry.sealed))
            .collect())
    }

    fn encode_file(state: &FileState) -> Result<Vec<u8>> {
        let cipher = state.key.cipher();
        let file = StoreFile {
            format: FORMAT.to_string(),
            version: 1,
            key_check: seal(&cipher, KEY_CHECK_PLAINTEXT, KEY_CHECK_AD)?,
            entries: state
                .entries
                .iter()
                .map(|(key, sealed)| FileEntry {
                    key: key.clone(),
                    sealed: sealed.clone(),
                })
                .collect(),
        };
        serde_json::to_vec_pretty(&file).map_err(|e| {
            Error::new(ErrorKind::Other, "cannot encode the credential store").with_source(e)
        })
    }

    async fn write(&self, state: &FileState) -> Result<()> {
        let bytes = Self::encode_file(state)?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
            .await
            .map_err(|e| {
                Error::new(ErrorKind::Other, "credential store write task failed").with_source(e)
            })?
    }

    /// Re-encrypt every entry under `new_key` and write the file atomically;
    /// from then on only `new_key` opens it. If any entry fails to decrypt
    /// under the current key, nothing changes.
    pub async fn rotate_key(&self, new_key: StoreKey) -> Result<()> {
        let mut state = self.state.lock().await;
        let old = state.key.cipher();
        let new = new_key.cipher();
        let mut entries = BTreeMap::new();
        for (key, sealed) in &state.entries {
            let ad = key.associated_data();
            let mut plaintext = open(&old, sealed, &ad).ok_or_else(|| damaged(&self.path, key))?;
            let resealed = seal(&new, &plaintext, &ad);
            plaintext.zeroize();
            entries.insert(key.clone(), resealed?);
        }
        let next = FileState {
            key: new_key,
            entries,
        };
        // Swap in memory only once the new file is durable.
        self.write(&next).await?;
        *state = next;
        Ok(())
    }
}

fn damaged(path: &Path, key: &CredentialKey) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!(
            "credential {key} in {} does not decrypt: the file was modified or the entry was moved from another connection",
            path.display()
        ),
    )
}

#[async_trait]
impl CredentialStore for EncryptedFileStore {
    async fn get(&self, key: &CredentialKey) -> Result<Option<StoredCredential>> {
        let state = self.state.lock().await;
        let Some(sealed) = state.entries.get(key) else {
            return Ok(None);
        };
        let mut plaintext = open(&state.key.cipher(), sealed, &key.associated_data())
            .ok_or_else(|| damaged(&self.path, key))?;
        let credential = StoredCredential::from_plaintext(&plaintext);
        plaintext.zeroize();
        credential.map(Some).ok_or_else(|| damaged(&self.path, key))
    }

    async fn put(&self, key: &CredentialKey, value: StoredCredential) -> Result<()> {
        key.validate()?;
        let mut state = self.state.lock().await;
        let mut plaintext = value.to_plaintext()?;
        let sealed = seal(&state.key.cipher(), &plaintext, &key.associated_data());
        plaintext.zeroize();
        let previous = state.entries.insert(key.clone(), sealed?);
        if let Err(e) = self.write(&state).await {
            // Keep memory in step with the file that is still on disk.
            match previous {
                Some(previous) => state.entries.insert(key.clone(), previous),
                None => state.entries.remove(key),
            };
            return Err(e);
        }
        Ok(())
    }

    async fn delete(&self, key: &CredentialKey) -> Result<bool> {
        let mut state = self.state.lock().await;
        let Some(previous) = state.entries.remove(key) else {
            return Ok(false);
        };
        if let Err(e) = self.write(&state).await {
            state.entries.insert(key.clone(), previous);
            return Err(e);
        }
        Ok(true)
    }

    async fn list(&self, tenant_id: &str) -> Result<Vec<CredentialKey>> {
        let state = self.state.lock().await;
        Ok(state
            .entries
            .keys()
            .filter(|k| k.tenant_id == tenant_id)
            .cloned()
            .collect())
    }
}

/// Write `bytes` to `path` so a crash leaves the old or the new content.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "credentials".to_string());
    // Unique per process and write, so concurrent writers never share a temp file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
    let fail =
        |what: &str, e: std::io::Error| Error::io(format!("cannot {what} {}", tmp.display()), e);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        // Owner-only from the first byte: the file holds credentials.
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(|e| fail("create", e))?;
    file.write_all(bytes).map_err(|e| fail("write", e))?;
    file.sync_all().map_err(|e| fail("sync", e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(
            format!("cannot replace credential store {}", path.display()),
            e,
        )
    })?;
    // Make the rename itself durable (POSIX needs the directory synced).
    #[cfg(unix)]
    {
        let synced = std::fs::File::open(&dir).and_then(|d| d.sync_all());
        synced.map_err(|e| Error::io(format!("cannot sync directory {}", dir.display()), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::CredentialStoreExt;

    #[tokio::test]
    async fn swapped_entries_do_not_decrypt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let key = StoreKey::generate();
        let b64 = key.to_base64();
        let store = EncryptedFileStore::open(&path, key).await.unwrap();
        store
            .tenant("a")
            .unwrap()
            .put("c", "jira", StoredCredential::bearer("token-a"))
            .await
            .unwrap();
        store
            .tenant("b")
            .unwrap()
            .put("c", "jira", StoredCredential::bearer("token-b"))
            .await
            .unwrap();
        // Move tenant a's ciphertext into tenant b's slot.
        let mut file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let entries = file["entries"].as_array_mut().unwrap();
        let a = entries[0].clone();
        entries[1]["nonce"] = a["nonce"].clone();
        entries[1]["ciphertext"] = a["ciphertext"].clone();
        std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();

        let key = StoreKey::from_base64(b64.expose_secret()).unwrap();
        let store = EncryptedFileStore::open(&path, key).await.unwrap();
        let err = store
            .tenant("b")
            .unwrap()
            .get("c", "jira")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(err.to_string().contains("b/c (jira)"), "{err}");
        assert!(!err.to_string().contains("key does not match"));
    }
}
