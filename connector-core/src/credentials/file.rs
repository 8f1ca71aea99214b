//! Credentials from a JSON or TOML file, chosen by the file's extension.
//!
//! ```json
//! { "type": "basic", "user": "me@example.com", "secret": "api-token" }
//! { "type": "bearer", "token": "personal-access-token" }
//! { "type": "client_credentials", "token_url": "https://login.example.com/token",
//!   "client_id": "app", "client_secret": "…", "scopes": ["read"],
//!   "extra_params": { "resource": "https://graph.microsoft.com" },
//!   "client_auth": "basic" }
//! ```
//!
//! The same in TOML: `type = "bearer"` / `token = "…"`. `scopes` may also be
//! one space-separated string; `client_auth` is `"basic"` (header, the
//! default) or `"body"`.
//!
//! Errors name the file and the field and never quote a value. Keep the
//! file readable by its owner only (`chmod 600`); a file others can read is
//! logged as a warning.

use std::path::Path;
use std::sync::Arc;

use secrecy::SecretString;
use serde_json::{Map, Value};

use super::{Basic, Bearer, ClientAuth, ClientCredentials, SharedCredentials};
use crate::{Error, Result};

/// The syntax of a credentials file.
///
/// ```
/// use connector_core::credentials::file::{parse, FileFormat};
/// let provider = parse("type = \"bearer\"\ntoken = \"pat\"\n", FileFormat::Toml, "inline")?;
/// assert_eq!(format!("{provider:?}"), "Bearer([REDACTED])");
/// # Ok::<(), connector_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// JSON (`.json`).
    Json,
    /// TOML (`.toml`).
    Toml,
}

/// Read the credentials file at `path` (`.json` or `.toml`) and build its provider.
///
/// ```
/// # fn main() -> connector_core::Result<()> {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("jira.toml");
/// std::fs::write(&path, "type = \"basic\"\nuser = \"me@example.com\"\nsecret = \"api-token\"\n").unwrap();
/// let provider = connector_core::credentials::file::load(&path)?;
/// assert!(format!("{provider:?}").contains("me@example.com"));
/// assert!(!format!("{provider:?}").contains("api-token"));
/// # Ok(()) }
/// ```
pub fn load(path: impl AsRef<Path>) -> Result<SharedCredentials> {
    let path = path.as_ref();
    let origin = format!("credentials file {}", path.display());
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("json") => FileFormat::Json,
        Some(ext) if ext.eq_ignore_ascii_case("toml") => FileFormat::Toml,
        _ => {
            return Err(Error::config(format!(
                "{origin}: unknown format; name it *.json or *.toml"
            )));
        }
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        let err: Error = e.into();
        err.context(format!("cannot read {origin}"))
    })?;
    warn_if_readable_by_others(path);
    parse(&text, format, &origin)
}

/// Build a provider from the text of a credentials file. `origin` names it
/// in errors (e.g. `"credentials file /etc/app/jira.json"`).
///
/// ```
/// use connector_core::credentials::file::{parse, FileFormat};
/// let text = r#"{ "type": "bearer", "token": "pat-123" }"#;
/// let provider = parse(text, FileFormat::Json, "inline credentials").unwrap();
/// assert_eq!(format!("{provider:?}"), "Bearer([REDACTED])");
///
/// let err = parse(r#"{ "type": "basic", "user": "me" }"#, FileFormat::Json, "inline credentials").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "configuration error: inline credentials: field `secret` is missing (type \"basic\" needs `user`, `secret`)"
/// );
/// ```
pub fn parse(text: &str, format: FileFormat, origin: &str) -> Result<SharedCredentials> {
    let value = match format {
        FileFormat::Json => serde_json::from_str::<Value>(text).map_err(|e| {
            // Position only: the message of a typed error could quote a value.
            Error::config(format!(
                "{origin}: not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?,
        FileFormat::Toml => {
            let table = toml::from_str::<toml::Table>(text).map_err(|e| {
                // toml's Display quotes the offending line, which may hold the secret.
                let line = e
                    .span()
                    .and_then(|span| text.get(..span.start))
                    .map(|before| before.matches('\n').count() + 1);
                let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
                Error::config(format!("{origin}: not valid TOML{at}"))
            })?;
            serde_json::to_value(table)
                .map_err(|_| Error::config(format!("{origin}: unsupported TOML values")))?
        }
    };
    match value {
        Value::Object(map) => from_map(&map, origin),
        _ => Err(Error::config(format!(
            "{origin}: expected an object with a `type` field"
        ))),
    }
}

/// Build a provider from a parsed object (a file, or a stored credential).
pub(crate) fn from_map(map: &Map<String, Value>, origin: &str) -> Result<SharedCredentials> {
    let fields = Fields { map, origin };
    let kind = fields.string("type", TYPES)?;
    match kind.as_str() {
        "basic" => {
            fields.only(&["type", "user", "secret"], "basic")?;
            let user = fields.required("user", "basic", BASIC)?;
            let secret = fields.required("secret", "basic", BASIC)?;
            Ok(Arc::new(Basic::new(user, SecretString::from(secret))))
        }
        "bearer" => {
            fields.only(&["type", "token"], "bearer")?;
            let token = fields.required("token", "bearer", BEARER)?;
            Ok(Arc::new(Bearer::new(SecretString::from(token))))
        }
        "client_credentials" => {
            fields.only(
                &[
                    "type",
                    "token_url",
                    "client_id",
                    "client_secret",
                    "scopes",
                    "extra_params",
                    "client_auth",
                ],
                "client_credentials",
            )?;
            let token_url = fields.required("token_url", "client_credentials", CLIENT)?;
            let client_id = fields.required("client_id", "client_credentials", CLIENT)?;
            let secret = fields.required("client_secret", "client_credentials", CLIENT)?;
            let mut provider =
                ClientCredentials::new(&token_url, client_id, SecretString::from(secret))
                    .map_err(|e| e.context(origin))?
                    .scopes(fields.scopes()?);
            for (name, value) in fields.extra_params()? {
                provider = provider.extra_param(name, value);
            }
            if let Some(auth) = fields.optional("client_auth")? {
                let auth = match auth.as_str() {
                    "basic" => ClientAuth::BasicHeader,
                    "body" => ClientAuth::RequestBody,
                    _ => {
                        return Err(Error::config(format!(
                            "{origin}: field `client_auth` must be \"basic\" or \"body\""
                        )));
                    }
                };
                provider = provider.client_auth(auth);
            }
            Ok(Arc::new(provider))
        }
        _ => Err(Error::config(format!(
            "{origin}: field `type` is not one of {TYPES}"
        ))),
    }
}

const TYPES: &str = "\"basic\", \"bearer\", \"client_credentials\"";
const BASIC: &str = "`user`, `secret`";
const BEARER: &str = "`token`";
const CLIENT: &str = "`token_url`, `client_id`, `client_secret`";

/// Field access with errors that name the field and never its value.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    origin: &'a str,
}

impl Fields<'_> {
    fn optional(&self, name: &str) -> Result<Option<String>> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(Error::config(format!(
                "{}: field `{name}` must be a string",
                self.origin
            ))),
        }
    }

    fn string(&self, name: &str, expected: &str) -> Result<String> {
        self.optional(name)?.ok_or_else(|| {
            Error::config(format!(
                "{}: field `{name}` is missing (one of {expected})",
                self.origin
            ))
        })
    }

    fn required(&self, name: &str, kind: &str, needs: &str) -> Result<String> {
        self.optional(name)?.ok_or_else(|| {
            Error::config(format!(
                "{}: field `{name}` is missing (type \"{kind}\" needs {needs})",
                self.origin
            ))
        })
    }

    fn only(&self, allowed: &[&str], kind: &str) -> Result<()> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(unknown) => Err(Error::config(format!(
                "{}: unknown field `{unknown}` for type \"{kind}\" (expected {})",
                self.origin,
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            None => Ok(()),
        }
    }

    fn scopes(&self) -> Result<Vec<String>> {
        let bad = || {
            Error::config(format!(
                "{}: field `scopes` must be a list of strings or one space-separated string",
                self.origin
            ))
        };
        match self.map.get("scopes") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(s.split_whitespace().map(str::to_string).collect()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string).ok_or_else(bad))
                .collect(),
            Some(_) => Err(bad()),
        }
    }

    fn extra_params(&self) -> Result<Vec<(String, String)>> {
        let bad = || {
            Error::config(format!(
                "{}: field `extra_params` must be a table of strings",
                self.origin
            ))
        };
        match self.map.get("extra_params") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Object(params)) => params
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|v| (k.clone(), v.to_string()))
                        .ok_or_else(bad)
                })
                .collect(),
            Some(_) => Err(bad()),
        }
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "credentials file is readable by other users; run `chmod 600` on it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_quote_values() {
        let cases = [
            (
                r#"{"type":"basic","user":"u","secret":42}"#,
                FileFormat::Json,
            ),
            (
                r#"{"type":"basic","user":"u","secert":"hunter2"}"#,
                FileFormat::Json,
            ),
            (r#"{"type":"hunter2"}"#, FileFormat::Json),
            (r#"{"type":"bearer","token":"hunter2""#, FileFormat::Json),
            ("type = \"bearer\"\ntoken = \"hunter2", FileFormat::Toml),
            ("type = \"bearer\"\ntoken = hunter2\n", FileFormat::Toml),
        ];
        for (text, format) in cases {
            let err = parse(text, format, "f.json").unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{err}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("f.json"), "{shown}");
        }
    }

    #[test]
    fn toml_error_names_the_line() {
        let err = parse(
            "type = \"bearer\"\ntoken = hunter2\n",
            FileFormat::Toml,
            "f.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn client_credentials_from_toml() {
        let text = r#"
type = "client_credentials"
token_url = "https://login.example.com/token"
client_id = "app"
client_secret = "hunter2"
scopes = "a b"
client_auth = "body"
[extra_params]
resource = "https://graph.microsoft.com"
"#;
        let provider = parse(text, FileFormat::Toml, "f.toml").unwrap();
        let debug = format!("{provider:?}");
        assert!(
            debug.contains("ClientCredentials") && debug.contains("\"b\""),
            "{debug}"
        );
        assert!(!debug.contains("hunter2"));
    }
}
