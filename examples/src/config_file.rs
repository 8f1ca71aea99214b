//! The configuration files of `sync config`: a connector from a file, through
//! [`connector_sdk::connector_from_config`] — the same path a service takes.
//!
//! The file is JSON (`.json`) or TOML (anything else) with the kind next to
//! the connector's own fields:
//!
//! ```toml
//! kind = "jira"
//! base_url = "https://acme.atlassian.net"
//! projects = ["ENG"]
//! credentials = { email = "me@acme.com", api_token = "${JIRA_API_TOKEN}" }
//! options = { rate = 20.0 }
//! ```
//!
//! A string that is exactly `${NAME}` is replaced by the environment
//! variable `NAME`, so secrets stay out of the file.

use std::path::Path;

use connector_core::Error;
use serde_json::Value;

/// A configuration file read: the kind and the connector's configuration.
#[derive(Debug)]
pub struct ConfigFile {
    /// The connector kind (`fs`, `jira`, …).
    pub kind: String,
    /// The connector's own fields, `kind` taken out, variables replaced.
    pub config: Value,
}

/// Read `path`: JSON by its extension, TOML otherwise.
pub fn read(path: &Path) -> Result<ConfigFile, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    parse(&text, is_json, &|name| std::env::var(name).ok())
        .map_err(|e| e.context(path.display().to_string()))
}

/// Parse a configuration, looking variables up with `env`.
pub fn parse(
    text: &str,
    is_json: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConfigFile, Error> {
    let mut value: Value = if is_json {
        serde_json::from_str(text).map_err(|e| Error::config(format!("not valid JSON: {e}")))?
    } else {
        toml::from_str(text).map_err(|e| Error::config(format!("not valid TOML: {e}")))?
    };
    let Some(fields) = value.as_object_mut() else {
        return Err(Error::config(
            "the configuration must be a table (an object) with a `kind` field",
        ));
    };
    let kind = match fields.remove("kind") {
        Some(Value::String(kind)) => kind,
        Some(_) => return Err(Error::config("`kind` must be a string such as \"jira\"")),
        None => {
            return Err(Error::config(
                "missing field `kind`: the connector kind, such as \"fs\" or \"jira\"",
            ));
        }
    };
    expand(&mut value, "", env)?;
    Ok(ConfigFile {
        kind,
        config: value,
    })
}

/// Replace every `${NAME}` string by the variable's value; `at` is the
/// field path so far, for the error.
fn expand(value: &mut Value, at: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<(), Error> {
    match value {
        Value::String(text) => {
            if let Some(name) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
                let found = env(name).filter(|v| !v.is_empty()).ok_or_else(|| {
                    Error::config(format!(
                        "`{at}` names the environment variable {name}, which is not set"
                    ))
                })?;
                *text = found;
            }
        }
        Value::Array(items) => {
            for (n, item) in items.iter_mut().enumerate() {
                expand(item, &format!("{at}[{n}]"), env)?;
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields.iter_mut() {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                expand(item, &path, env)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cr3t".to_owned())
    }

    #[test]
    fn toml_with_variables() {
        let file = parse(
            "kind = \"jira\"\nbase_url = \"https://acme.atlassian.net\"\n\
             credentials = { email = \"me@acme.com\", api_token = \"${TOKEN}\" }\n",
            false,
            &env,
        )
        .unwrap();
        assert_eq!(file.kind, "jira");
        assert_eq!(file.config["credentials"]["api_token"], "s3cr3t");
        assert!(file.config.get("kind").is_none());
    }

    #[test]
    fn clear_errors() {
        let err = |text: &str, json: bool| parse(text, json, &env).unwrap_err().to_string();
        assert!(err("{\"path\": \"x\"}", true).contains("missing field `kind`"));
        assert!(err("[1]", true).contains("with a `kind` field"));
        assert!(err("kind = 3", false).contains("`kind` must be a string"));
        let missing = err(
            "{\"kind\": \"jira\", \"credentials\": {\"api_token\": \"${NOPE}\"}}",
            true,
        );
        assert!(
            missing.contains("`credentials.api_token`") && missing.contains("NOPE"),
            "{missing}"
        );
        assert!(err("kind = ", false).contains("not valid TOML"));
    }
}
