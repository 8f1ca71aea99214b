//! Credentials: where the `Authorization` header of every request comes from.
//!
//! A [`CredentialProvider`] hands the HTTP layer a header value per request
//! and, after a `401`, gets one chance to refresh. Secrets stay inside
//! [`secrecy`] types end to end: `Debug` shows `[REDACTED]`, nothing here
//! implements `Display`, and errors never quote a secret.
//!
//! - [`Basic`] and [`Bearer`]: static credentials.
//! - [`env`](mod@env): static credentials from environment variables.
//! - [`file`](mod@file): any of them from a JSON or TOML file.
//! - [`ClientCredentials`] and [`RefreshToken`]: OAuth 2.0 tokens, cached,
//!   refreshed before expiry, one token request in flight at a time.
//! - [`PkceLogin`]: authorization code + PKCE for a person at a terminal.
//! - [`CredentialStore`]: many tenants' credentials, in memory or in an
//!   [`EncryptedFileStore`].
//!
//! See `docs/credentials.md` for how to choose.

pub mod env;
pub mod file;
mod oauth;
mod pkce;
mod provider;
mod statics;
mod store;

pub use oauth::{
    ClientAuth, ClientCredentials, DEFAULT_REFRESH_SKEW, OAuthTokens, RefreshToken, RotationHook,
};
pub use pkce::{DEFAULT_LOGIN_TIMEOUT, PendingLogin, PkceLogin};
pub use provider::{CredentialProvider, SharedCredentials};
pub use secrecy::{ExposeSecret, SecretString};
pub use statics::{Basic, Bearer, StaticAuth};
pub use store::{
    CredentialKey, CredentialStore, CredentialStoreExt, EncryptedFileStore, MemoryCredentialStore,
    StoreKey, StoredCredential, TenantCredentials,
};
