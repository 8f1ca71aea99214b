//! Credentials: where the `Authorization` header of every request comes from.
//!
//! A [`CredentialProvider`] hands the HTTP layer a header value per request
//! and, after a `401`, gets one chance to refresh. Secrets stay inside
//! [`secrecy`] types end to end: `Debug` shows `[REDACTED]`, nothing here
//! implements `Display`, and errors never quote a secret.
//!
//! - [`Basic`] and [`Bearer`]: static credentials.

mod provider;
mod statics;

pub use provider::{CredentialProvider, SharedCredentials};
pub use secrecy::{ExposeSecret, SecretString};
pub use statics::{Basic, Bearer};
