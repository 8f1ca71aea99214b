//! Credentials read from environment variables.
//!
//! The free functions ([`basic`], [`bearer`], [`basic_or_bearer`]) read the
//! process environment. An [`Env`] built with [`Env::from_fn`] or
//! [`Env::from_pairs`] reads anything else, so tests never have to touch the
//! process environment (mutating it is `unsafe` in edition 2024).
//!
//! Values are trimmed of surrounding whitespace (a pasted token often carries
//! a trailing newline); a variable that is unset or blank is a
//! [`ErrorKind::Config`](crate::ErrorKind::Config) error naming it.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use secrecy::SecretString;

use super::{Basic, Bearer, SharedCredentials};
use crate::{Error, Result};

/// HTTP Basic credentials from two process environment variables.
///
/// ```
/// let err = connector_core::credentials::env::basic("NO_SUCH_USER_VAR", "NO_SUCH_TOKEN_VAR").unwrap_err();
/// assert!(err.to_string().contains("NO_SUCH_USER_VAR"));
/// ```
pub fn basic(user_var: &str, secret_var: &str) -> Result<Basic> {
    Env::process().basic(user_var, secret_var)
}

/// A bearer token (personal access token) from a process environment variable.
///
/// ```
/// let err = connector_core::credentials::env::bearer("NO_SUCH_PAT_VAR").unwrap_err();
/// assert_eq!(err.kind(), connector_core::ErrorKind::Config);
/// ```
pub fn bearer(token_var: &str) -> Result<Bearer> {
    Env::process().bearer(token_var)
}

/// Basic credentials when `user_var` or `secret_var` is set, otherwise a
/// bearer token from `token_var`: the "email + API token, or PAT" choice
/// Atlassian products offer. Reads the process environment.
///
/// ```
/// let err = connector_core::credentials::env::basic_or_bearer("NO_EMAIL", "NO_TOKEN", "NO_PAT").unwrap_err();
/// assert!(err.to_string().contains("NO_EMAIL and NO_TOKEN, or NO_PAT"));
/// ```
pub fn basic_or_bearer(
    user_var: &str,
    secret_var: &str,
    token_var: &str,
) -> Result<SharedCredentials> {
    Env::process().basic_or_bearer(user_var, secret_var, token_var)
}

type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where environment variables come from: the process, or a function or map
/// a host or a test supplies.
///
/// ```
/// use connector_core::credentials::{env::Env, CredentialProvider, ExposeSecret};
/// # async fn demo() -> connector_core::Result<()> {
/// let env = Env::from_pairs([("JIRA_EMAIL", "me@example.com"), ("JIRA_API_TOKEN", "tok")]);
/// let basic = env.basic("JIRA_EMAIL", "JIRA_API_TOKEN")?;
/// assert_eq!(basic.user(), "me@example.com");
/// assert!(basic.authorization().await?.expose_secret().starts_with("Basic "));
///
/// let err = env.bearer("JIRA_PAT").unwrap_err();
/// assert_eq!(err.to_string(), "configuration error: environment variable JIRA_PAT is not set; set it to the personal access token");
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Clone)]
pub struct Env {
    source: Source,
}

#[derive(Clone)]
enum Source {
    Process,
    Lookup(Lookup),
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the values: a map of variables holds secrets.
        match self.source {
            Source::Process => f.write_str("Env(process)"),
            Source::Lookup(_) => f.write_str("Env(custom)"),
        }
    }
}

impl Default for Env {
    fn default() -> Self {
        Self::process()
    }
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            source: Source::Process,
        }
    }

    /// Variables looked up by `lookup` (return `None` for an unset variable).
    ///
    /// ```
    /// use connector_core::credentials::env::Env;
    /// let env = Env::from_fn(|name| (name == "TOKEN").then(|| "t".to_string()));
    /// assert!(env.bearer("TOKEN").is_ok());
    /// ```
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        Self {
            source: Source::Lookup(Arc::new(lookup)),
        }
    }

    /// Variables from name/value pairs (a map, a vector of tuples, …).
    ///
    /// ```
    /// use connector_core::credentials::env::Env;
    /// let env = Env::from_pairs([("TOKEN", "t")]);
    /// assert!(env.bearer("TOKEN").is_ok());
    /// ```
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let map: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self::from_fn(move |name| map.get(name).cloned())
    }

    /// The trimmed value of `name`, or `None` when it is unset or blank.
    fn lookup(&self, name: &str) -> Result<Option<String>> {
        let raw = match &self.source {
            Source::Process => match std::env::var(name) {
                Ok(value) => Some(value),
                Err(std::env::VarError::NotPresent) => None,
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(Error::config(format!(
                        "environment variable {name} is not valid UTF-8; set it to plain text"
                    )));
                }
            },
            Source::Lookup(lookup) => lookup(name),
        };
        Ok(raw
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty()))
    }

    /// A required, non-secret variable (a user name, a client id, a URL).
    ///
    /// ```
    /// use connector_core::credentials::env::Env;
    /// let env = Env::from_pairs([("JIRA_URL", " https://x.atlassian.net\n")]);
    /// assert_eq!(env.var("JIRA_URL", "the site URL").unwrap(), "https://x.atlassian.net");
    /// ```
    pub fn var(&self, name: &str, what: &str) -> Result<String> {
        self.lookup(name)?.ok_or_else(|| missing(name, what))
    }

    /// A required secret variable.
    ///
    /// ```
    /// use connector_core::credentials::{env::Env, ExposeSecret};
    /// let env = Env::from_pairs([("TOKEN", "t")]);
    /// assert_eq!(env.secret("TOKEN", "the API token").unwrap().expose_secret(), "t");
    /// ```
    pub fn secret(&self, name: &str, what: &str) -> Result<SecretString> {
        self.var(name, what).map(SecretString::from)
    }

    /// HTTP Basic credentials from `user_var` and `secret_var`.
    ///
    /// ```
    /// use connector_core::credentials::env::Env;
    /// let env = Env::from_pairs([("JIRA_EMAIL", "me@example.com")]);
    /// let err = env.basic("JIRA_EMAIL", "JIRA_API_TOKEN").unwrap_err();
    /// assert!(err.to_string().contains("JIRA_API_TOKEN is not set"));
    /// ```
    pub fn basic(&self, user_var: &str, secret_var: &str) -> Result<Basic> {
        let user = self.var(user_var, "the user name or email")?;
        let secret = self.secret(secret_var, "the password or API token")?;
        Ok(Basic::new(user, secret))
    }

    /// A bearer token (personal access token) from `token_var`.
    ///
    /// ```
    /// use connector_core::credentials::env::Env;
    /// let env = Env::from_pairs([("JIRA_PAT", "pat")]);
    /// assert!(env.bearer("JIRA_PAT").is_ok());
    /// ```
    pub fn bearer(&self, token_var: &str) -> Result<Bearer> {
        self.secret(token_var, "the personal access token")
            .map(Bearer::new)
    }

    /// Basic credentials when either of `user_var` / `secret_var` is set
    /// (both must then be), otherwise a bearer token from `token_var`.
    ///
    /// ```
    /// use connector_core::credentials::env::Env;
    /// let env = Env::from_pairs([("JIRA_PAT", "pat")]);
    /// let provider = env.basic_or_bearer("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT").unwrap();
    /// assert_eq!(format!("{provider:?}"), "Bearer([REDACTED])");
    /// ```
    pub fn basic_or_bearer(
        &self,
        user_var: &str,
        secret_var: &str,
        token_var: &str,
    ) -> Result<SharedCredentials> {
        let has_user = self.lookup(user_var)?.is_some();
        let has_secret = self.lookup(secret_var)?.is_some();
        if has_user || has_secret {
            return Ok(Arc::new(self.basic(user_var, secret_var)?));
        }
        if self.lookup(token_var)?.is_some() {
            return Ok(Arc::new(self.bearer(token_var)?));
        }
        Err(Error::config(format!(
            "no credentials in the environment: set {user_var} and {secret_var}, or {token_var}"
        )))
    }
}

fn missing(name: &str, what: &str) -> Error {
    Error::config(format!(
        "environment variable {name} is not set; set it to {what}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_missing_and_values_are_trimmed() {
        let env = Env::from_pairs([("A", "  "), ("B", " user \n")]);
        let err = env.var("A", "x").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert_eq!(env.var("B", "x").unwrap(), "user");
    }

    #[test]
    fn half_basic_pair_names_the_missing_variable() {
        let env = Env::from_pairs([("TOKEN", "secret-value-1"), ("PAT", "p")]);
        let err = env.basic_or_bearer("EMAIL", "TOKEN", "PAT").unwrap_err();
        assert!(err.to_string().contains("EMAIL is not set"), "{err}");
        assert!(!err.to_string().contains("secret-value-1"));
        assert!(!format!("{env:?}").contains("secret-value-1"));
    }
}
