//! Credentials: where the `Authorization` header of every request comes from.
//!
//! A [`CredentialProvider`] hands the HTTP layer a header value per request
//! and, after a `401`, gets one chance to refresh. Secrets stay inside
//! [`secrecy`] types end to end: `Debug` shows `[REDACTED]`, nothing here
//! implements `Display`, and errors never quote a secret.
//!
//! - [`Basic`] and [`Bearer`]: static credentials.
//! - [`StaticAuth`]: either of them as configuration (serde).
//! - [`env`](mod@env): static credentials from environment variables.
//! - with feature `oauth`: `ClientCredentials`, `PasswordGrant` and `RefreshToken` (OAuth 2.0
//!   tokens, cached, refreshed before expiry, one token request in flight
//!   at a time) and `PkceLogin` (authorization code + PKCE for a person at a
//!   terminal).
//! - with feature `jwt`: [`jwt`](mod@jwt) (RS256 signing); with `oauth` too,
//!   `JwtBearer` (the JWT bearer grant of Google service accounts).
//! - with feature `credential-store`: `CredentialStore` (many tenants'
//!   credentials, in memory or in an `EncryptedFileStore`) and `file`
//!   (any provider from a JSON or TOML file).
//!
//! See `docs/credentials.md` for how to choose.

pub mod env;
#[cfg(feature = "credential-store")]
pub mod file;
#[cfg(feature = "jwt")]
pub mod jwt;
#[cfg(feature = "oauth")]
mod oauth;
#[cfg(feature = "oauth")]
mod pkce;
mod provider;
mod statics;
#[cfg(feature = "credential-store")]
mod store;

#[cfg(all(feature = "oauth", feature = "jwt"))]
pub use oauth::JwtBearer;
#[cfg(feature = "oauth")]
pub use oauth::{
    ClientAuth, ClientCredentials, DEFAULT_REFRESH_SKEW, OAuthTokens, PasswordGrant, RefreshToken,
    RotationHook,
};
#[cfg(feature = "oauth")]
pub use pkce::{DEFAULT_LOGIN_TIMEOUT, PendingLogin, PkceLogin};
pub use provider::{CredentialProvider, SharedCredentials};
pub use secrecy::{ExposeSecret, SecretString};
pub use statics::{Basic, Bearer, StaticAuth};
#[cfg(feature = "credential-store")]
pub use store::{
    CredentialKey, CredentialStore, CredentialStoreExt, EncryptedFileStore, MemoryCredentialStore,
    SealedCredential, StoreKey, StoredCredential, TenantCredentials,
};
