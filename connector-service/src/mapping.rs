//! From the webhook's camelCase `config`/`settings` and the stored
//! credentials to a connector's own configuration (snake_case, the fields
//! of its config type), then to a connector through
//! [`connector_sdk::connector_from_config`].
//!
//! Each connector has a table of the keys it accepts; an unknown key or a
//! value of the wrong type is an error naming the key, as is a value the
//! connector itself refuses.

use std::path::Path;

use connector_core::credentials::{ExposeSecret, StoredCredential};
use connector_core::{Connector, Error, Result};
use serde_json::{Map, Value, json};

/// The JSON type a key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// A string.
    Str,
    /// A list of strings (a comma-separated string is accepted too).
    List,
    /// `true` or `false`.
    Bool,
    /// A non-negative integer.
    Int,
}

/// One accepted key: its camelCase name, the connector config field it
/// sets, and its type.
#[derive(Debug, Clone, Copy)]
pub struct ConfigKey {
    /// The key in the webhook (`spaceKeys`).
    pub key: &'static str,
    /// The connector's config field (`spaces`).
    pub field: &'static str,
    /// The value's type.
    pub ty: KeyType,
}

const fn k(key: &'static str, field: &'static str, ty: KeyType) -> ConfigKey {
    ConfigKey { key, field, ty }
}

use KeyType::{Bool, Int, List, Str};

const JIRA: &[ConfigKey] = &[
    k("baseUrl", "base_url", Str),
    k("url", "base_url", Str),
    k("deployment", "deployment", Str),
    k("projectKeys", "projects", List),
    k("projects", "projects", List),
    k("jql", "jql", Str),
    k("pageSize", "page_size", Int),
    k("maxComments", "max_comments", Int),
    k("extract", "extract", Bool),
    k("timeZone", "time_zone", Str),
];

const CONFLUENCE: &[ConfigKey] = &[
    k("baseUrl", "base_url", Str),
    k("url", "base_url", Str),
    k("deployment", "deployment", Str),
    k("spaceKeys", "spaces", List),
    k("spaces", "spaces", List),
    k("blogPosts", "blog_posts", Bool),
    k("footerComments", "footer_comments", Bool),
    k("archived", "archived", Bool),
    k("pageSize", "page_size", Int),
    k("maxComments", "max_comments", Int),
    k("maxAttachments", "max_attachments", Int),
    k("extract", "extract", Bool),
    k("timeZone", "time_zone", Str),
    k("webUrl", "web_url", Str),
];

const SHAREPOINT: &[ConfigKey] = &[
    k("tenant", "tenant", Str),
    k("siteUrls", "sites", List),
    k("sites", "sites", List),
    k("libraries", "libraries", List),
    k("folders", "folders", List),
    k("includePages", "include_pages", Bool),
    k("permissions", "permissions", Bool),
    k("extract", "extract", Bool),
    k("maxTextBytes", "max_text_bytes", Int),
];

const SERVICENOW: &[ConfigKey] = &[
    k("instance", "instance", Str),
    k("instanceUrl", "instance", Str),
    k("url", "instance", Str),
    k("tables", "tables", List),
    k(
        "includeUnpublishedArticles",
        "include_unpublished_articles",
        Bool,
    ),
    k("workNotes", "work_notes", Bool),
    k("attachments", "attachments", Bool),
    k("pageSize", "page_size", Int),
];

const S3: &[ConfigKey] = &[
    k("bucket", "bucket", Str),
    k("prefixes", "prefixes", List),
    k("include", "include", List),
    k("exclude", "exclude", List),
    k("endpoint", "endpoint", Str),
    k("region", "region", Str),
    k("pathStyle", "path_style", Bool),
    k("maxTextBytes", "max_text_bytes", Int),
    k("extract", "extract", Bool),
];

const GDRIVE: &[ConfigKey] = &[
    k("myDrive", "my_drive", Bool),
    k("sharedDrives", "shared_drives", List),
    k("allSharedDrives", "all_shared_drives", Bool),
    k("folders", "folders", List),
    k("permissions", "permissions", Bool),
    k("docsFormat", "docs_format", Str),
    k("extract", "extract", Bool),
    k("maxTextBytes", "max_text_bytes", Int),
];

const GITHUB: &[ConfigKey] = &[
    k("baseUrl", "base_url", Str),
    k("url", "base_url", Str),
    k("repositories", "repositories", List),
    k("owners", "owners", List),
    k("include", "include", List),
    k("exclude", "exclude", List),
    k("archived", "archived", Bool),
    k("forks", "forks", Bool),
    k("issues", "issues", Bool),
    k("pullRequests", "pull_requests", Bool),
    k("discussions", "discussions", Bool),
    k("files", "files", Bool),
    k("fileGlobs", "file_globs", List),
];

const FS: &[ConfigKey] = &[
    k("path", "path", Str),
    k("ignorePatterns", "ignore_patterns", List),
    k("includeHidden", "include_hidden", Bool),
    k("respectIgnoreFiles", "respect_ignore_files", Bool),
    k("maxTextBytes", "max_text_bytes", Int),
    k("extract", "extract", Bool),
];

/// The keys `connection_type` accepts in `config` and `settings`; `None`
/// for a type this service does not know.
///
/// ```
/// let keys = connector_service::mapping::config_keys("confluence").unwrap();
/// assert!(keys.iter().any(|k| k.key == "spaceKeys" && k.field == "spaces"));
/// ```
pub fn config_keys(connection_type: &str) -> Option<&'static [ConfigKey]> {
    Some(match connection_type {
        "jira" => JIRA,
        "confluence" => CONFLUENCE,
        "sharepoint" => SHAREPOINT,
        "servicenow" => SERVICENOW,
        "s3" => S3,
        "github" => GITHUB,
        "gdrive" => GDRIVE,
        "fs" => FS,
        _ => return None,
    })
}

/// The connector's configuration: `keys` (camelCase) mapped through the
/// table of `connection_type`, with `credentials` placed where the
/// connector takes them.
///
/// ```
/// use connector_core::credentials::StoredCredential;
/// use serde_json::json;
///
/// let config = json!({"baseUrl": "https://acme.atlassian.net", "spaceKeys": ["ENG", "PROD"]});
/// let creds = StoredCredential::new().with("email", "me@acme.com").with("api_token", "t");
/// let mapped = connector_service::mapping::connector_config(
///     "confluence", config.as_object().unwrap(), Some(&creds)).unwrap();
/// assert_eq!(mapped["spaces"], json!(["ENG", "PROD"]));
/// assert_eq!(mapped["credentials"]["email"], "me@acme.com");
///
/// let typo = json!({"spaceKey": "ENG"});
/// let err = connector_service::mapping::connector_config(
///     "confluence", typo.as_object().unwrap(), None).unwrap_err();
/// assert!(err.to_string().contains("unknown config key `spaceKey`"), "{err}");
/// ```
pub fn connector_config(
    connection_type: &str,
    keys: &Map<String, Value>,
    credentials: Option<&StoredCredential>,
) -> Result<Value> {
    let table = config_keys(connection_type)
        .ok_or_else(|| Error::config(format!("unknown connection type {connection_type:?}")))?;
    let mut out = Map::new();
    for (key, value) in keys {
        let spec = table.iter().find(|k| k.key == key).ok_or_else(|| {
            let known: Vec<&str> = table.iter().map(|k| k.key).collect();
            Error::config(format!(
                "unknown config key `{}` for {connection_type}; known keys: {}",
                key.chars().take(64).collect::<String>(),
                known.join(", ")
            ))
        })?;
        if value.is_null() {
            continue;
        }
        let value = typed(spec, value).ok_or_else(|| {
            Error::config(format!(
                "config key `{key}` must be {}",
                match spec.ty {
                    Str => "a string",
                    List => "a list of strings or a comma-separated string",
                    Bool => "true or false",
                    Int => "a non-negative integer",
                }
            ))
        })?;
        if out.insert(spec.field.to_string(), value).is_some() {
            return Err(Error::config(format!(
                "config key `{key}` sets `{}` a second time",
                spec.field
            )));
        }
    }
    if let Some(credentials) = credentials {
        place_credentials(connection_type, credentials, &mut out);
    } else if connection_type == "s3" {
        // Never the service's own AWS identity on a tenant's behalf.
        out.insert("credentials".into(), json!("anonymous"));
    }
    Ok(Value::Object(out))
}

fn typed(spec: &ConfigKey, value: &Value) -> Option<Value> {
    match (spec.ty, value) {
        (Str, Value::String(_)) | (Bool, Value::Bool(_)) => Some(value.clone()),
        (Int, Value::Number(n)) if n.is_u64() => Some(value.clone()),
        (List, Value::Array(items)) if items.iter().all(Value::is_string) => Some(value.clone()),
        (List, Value::String(s)) => Some(Value::Array(
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        )),
        _ => None,
    }
}

fn place_credentials(
    connection_type: &str,
    credentials: &StoredCredential,
    out: &mut Map<String, Value>,
) {
    let fields: Map<String, Value> = credentials
        .names()
        .filter_map(|name| {
            credentials.get(name).map(|v| {
                (
                    name.to_string(),
                    Value::String(v.expose_secret().to_string()),
                )
            })
        })
        .collect();
    match connection_type {
        "fs" => {}
        // A service account's key (the JSON Google issues, as a string) and
        // the user it acts for, or a user's OAuth client and refresh token.
        "gdrive" => {
            let mut fields = fields;
            let credentials = match fields.remove("service_account_key") {
                Some(key) => json!({"service_account": {
                    "key": key,
                    "subject": fields.remove("subject"),
                }}),
                None => json!({ "oauth": fields }),
            };
            out.insert("credentials".into(), credentials);
        }
        "github" => {
            for (name, value) in fields {
                out.insert(name, value);
            }
        }
        "s3" if fields.is_empty() => {
            out.insert("credentials".into(), json!("anonymous"));
        }
        _ => {
            out.insert("credentials".into(), Value::Object(fields));
        }
    }
}

/// Build the connector; a refusal names the webhook's key instead of the
/// connector's field where the two differ. `fs_root` is the directory `fs`
/// connections may read under (see [`confine_fs`]).
pub fn build_connector(
    connection_type: &str,
    keys: &Map<String, Value>,
    credentials: Option<&StoredCredential>,
    fs_root: Option<&Path>,
) -> Result<Box<dyn Connector>> {
    let confined;
    let keys = if connection_type == "fs" {
        confined = confine_fs(keys, fs_root)?;
        &confined
    } else {
        keys
    };
    let config = connector_config(connection_type, keys, credentials)?;
    connector_sdk::connector_from_config(connection_type, config).map_err(|e| {
        let mut message = e.to_string();
        if let Some(table) = config_keys(connection_type) {
            for key in keys.keys() {
                if let Some(spec) = table.iter().find(|k| k.key == key) {
                    message = message.replace(&format!("`{}`", spec.field), &format!("`{key}`"));
                }
            }
        }
        Error::config(message)
    })
}

/// An `fs` connection reads the service machine's own files, so a webhook
/// could otherwise ask for any directory the service can read (its own
/// keys and state among them). It is refused unless the operator named a
/// root (`--fs-root`), and then its `path` — relative to the root, or
/// absolute — must resolve, links followed, inside it. The root itself is
/// never named in the error, which goes back to the caller.
///
/// ```
/// use serde_json::json;
/// let root = tempfile::tempdir().unwrap();
/// std::fs::create_dir(root.path().join("docs")).unwrap();
/// let keys = json!({"path": "docs"}).as_object().cloned().unwrap();
/// let ok = connector_service::mapping::confine_fs(&keys, Some(root.path())).unwrap();
/// assert!(ok["path"].as_str().unwrap().ends_with("docs"));
/// let escape = json!({"path": "/etc"}).as_object().cloned().unwrap();
/// assert!(connector_service::mapping::confine_fs(&escape, Some(root.path())).is_err());
/// assert!(connector_service::mapping::confine_fs(&keys, None).is_err());
/// ```
pub fn confine_fs(keys: &Map<String, Value>, fs_root: Option<&Path>) -> Result<Map<String, Value>> {
    let Some(root) = fs_root else {
        return Err(Error::config(
            "connection type fs reads the service machine's own files: it is off unless the service runs with --fs-root DIR (CONNECTOR_SERVICE_FS_ROOT), and then reads directories under DIR only",
        ));
    };
    let mut keys = keys.clone();
    // A missing or non-string `path` is the connector's error to name.
    let Some(asked) = keys.get("path").and_then(Value::as_str) else {
        return Ok(keys);
    };
    let root = root
        .canonicalize()
        .map_err(|e| Error::config(format!("the fs root of this service cannot be read: {e}")))?;
    let full = root.join(asked).canonicalize().map_err(|_| {
        Error::config("config key `path`: no such directory under the service's fs root")
    })?;
    if !full.starts_with(&root) {
        return Err(Error::config(
            "config key `path` is outside the directory fs connections may read (the service's fs root)",
        ));
    }
    keys.insert("path".into(), json!(full));
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    /// Kinds the SDK has that the service does not take yet, and why.
    const NOT_SERVED: &[(&str, &str)] = &[(
        "web",
        "a crawl keeps its frontier in a directory of its own, which the service does not assign per connection yet",
    )];

    #[test]
    fn every_kind_has_a_table() {
        for kind in connector_sdk::KINDS {
            let refused = NOT_SERVED.iter().any(|(k, _)| k == kind);
            assert_eq!(config_keys(kind).is_none(), refused, "{kind}");
        }
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = connector_config("jira", &map(json!({"projectKeys": 5})), None).unwrap_err();
        assert!(err.to_string().contains("`projectKeys`"), "{err}");
        let err = connector_config("jira", &map(json!({"pageSize": -1})), None).unwrap_err();
        assert!(err.to_string().contains("`pageSize`"), "{err}");
        let err = build_connector("jira", &map(json!({"projectKeys": ["ENG"]})), None, None)
            .err()
            .unwrap();
        assert!(err.to_string().contains("base_url"), "{err}");
    }

    #[test]
    fn comma_separated_lists_are_split() {
        let out = connector_config(
            "s3",
            &map(json!({"bucket": "b", "prefixes": "a/, b/"})),
            None,
        )
        .unwrap();
        assert_eq!(out["prefixes"], json!(["a/", "b/"]));
        assert_eq!(out["credentials"], json!("anonymous"));
    }

    #[test]
    fn gdrive_credentials_go_where_the_connector_takes_them() {
        let keys = map(json!({"sharedDrives": "Engineering,Legal", "myDrive": false}));
        let sa = StoredCredential::new()
            .with("service_account_key", r#"{"type":"service_account"}"#)
            .with("subject", "admin@acme.com");
        let config = connector_config("gdrive", &keys, Some(&sa)).unwrap();
        assert_eq!(config["shared_drives"], json!(["Engineering", "Legal"]));
        assert_eq!(
            config["credentials"]["service_account"]["subject"],
            "admin@acme.com"
        );
        let user = StoredCredential::new()
            .with("client_id", "c")
            .with("client_secret", "s")
            .with("refresh_token", "1//r");
        let connector = build_connector("gdrive", &keys, Some(&user), None).unwrap();
        assert_eq!(connector.kind(), "gdrive");
        // The API and token URLs are not a tenant's to set.
        let err = connector_config("gdrive", &map(json!({"tokenUrl": "https://evil"})), None)
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown config key `tokenUrl`"),
            "{err}"
        );
    }
}
