//! The webhook contract: what `POST /webhooks` accepts.
//!
//! A request is parsed strictly — unknown fields, missing fields, wrong
//! types, ids that are not plain identifiers and unknown connection types
//! are each a [`WebhookError`] naming the field, and nothing is queued.
//! Credential values are never echoed in an error.

use std::fmt;

use chrono::{DateTime, Utc};
use connector_core::credentials::{SecretString, StoredCredential};
use serde::Deserialize;
use serde_json::{Map, Value};

/// What the request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Check credentials through the connector's `validate()`, store them,
    /// and publish a `verification` status.
    VerifyCredentials,
    /// Sync the connection with its stored credentials.
    DataSourceSyncRequested,
}

/// The raw body, as the wire has it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    source: String,
    action: Action,
    user_email: String,
    user_id: String,
    tenant_id: String,
    timestamp: String,
    connection_id: String,
    connection_type: String,
    #[serde(default)]
    settings: Option<Map<String, Value>>,
    #[serde(default)]
    credentials: Option<Map<String, Value>>,
    #[serde(default)]
    config: Option<Map<String, Value>>,
}

/// Who and what a request is about: the fields every action carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The product that sent it (`chat-app`).
    pub source: String,
    /// The user who asked.
    pub user_email: String,
    /// The user's id.
    pub user_id: String,
    /// The tenant owning the connection.
    pub tenant_id: String,
    /// When the product sent it.
    pub timestamp: DateTime<Utc>,
    /// The connection.
    pub connection_id: String,
    /// The connector kind (`confluence`, `jira`, …).
    pub connection_type: String,
}

/// A parsed, checked webhook.
#[derive(Debug)]
pub enum WebhookRequest {
    /// `verify_credentials`.
    Verify {
        /// Who and what.
        envelope: Envelope,
        /// Connection settings (`{"url": …}`), camelCase keys.
        settings: Map<String, Value>,
        /// The credentials, every value a secret.
        credentials: StoredCredential,
    },
    /// `data_source_sync_requested`.
    Sync {
        /// Who and what.
        envelope: Envelope,
        /// The connector's configuration, camelCase keys.
        config: Map<String, Value>,
    },
}

impl WebhookRequest {
    /// The envelope of either action.
    pub fn envelope(&self) -> &Envelope {
        match self {
            Self::Verify { envelope, .. } | Self::Sync { envelope, .. } => envelope,
        }
    }
}

/// Why a webhook was refused: a client error, with the message to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookError {
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl WebhookError {
    fn field(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_string()),
            message: format!("`{field}`: {}", message.into()),
        }
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WebhookError {}

/// Longest id accepted (tenant, connection, user).
pub const MAX_ID_LEN: usize = 128;

/// Parse and check a webhook body; `kinds` are the connection types this
/// build can run.
///
/// ```
/// use connector_service::webhook::{parse, WebhookRequest};
///
/// let body = br#"{"source":"data-sources-app","action":"data_source_sync_requested",
///   "user_email":"user@example.com","user_id":"u1","tenant_id":"t1",
///   "timestamp":"2025-10-01T10:00:00.000Z","connection_id":"c1","connection_type":"jira",
///   "config":{"baseUrl":"https://acme.atlassian.net","projectKeys":["ENG"]}}"#;
/// let request = parse(body, &["jira"]).unwrap();
/// assert!(matches!(request, WebhookRequest::Sync { .. }));
///
/// let err = parse(br#"{"source":"x"}"#, &["jira"]).unwrap_err();
/// assert!(err.message.contains("missing field `action`"), "{err}");
/// ```
pub fn parse(body: &[u8], kinds: &[&str]) -> Result<WebhookRequest, WebhookError> {
    let raw: RawRequest = serde_json::from_slice(body).map_err(|e| WebhookError {
        field: None,
        message: format!("invalid webhook body: {e}"),
    })?;
    for (name, value) in [
        ("source", &raw.source),
        ("user_id", &raw.user_id),
        ("tenant_id", &raw.tenant_id),
        ("connection_id", &raw.connection_id),
    ] {
        check_id(name, value)?;
    }
    if raw.user_email.is_empty() || raw.user_email.len() > 320 {
        return Err(WebhookError::field(
            "user_email",
            "must be a non-empty email address of at most 320 bytes",
        ));
    }
    let timestamp = DateTime::parse_from_rfc3339(&raw.timestamp)
        .map_err(|_| {
            WebhookError::field(
                "timestamp",
                "must be an RFC 3339 time such as 2025-10-01T10:00:00.000Z",
            )
        })?
        .with_timezone(&Utc);
    if !kinds.contains(&raw.connection_type.as_str()) {
        return Err(WebhookError::field(
            "connection_type",
            format!(
                "unknown connection type {:?}; this service runs: {}",
                truncate(&raw.connection_type, 64),
                kinds.join(", ")
            ),
        ));
    }
    let envelope = Envelope {
        source: raw.source,
        user_email: raw.user_email,
        user_id: raw.user_id,
        tenant_id: raw.tenant_id,
        timestamp,
        connection_id: raw.connection_id,
        connection_type: raw.connection_type,
    };
    match raw.action {
        Action::VerifyCredentials => {
            if raw.config.is_some() {
                return Err(WebhookError::field(
                    "config",
                    "not accepted with verify_credentials (send `settings`)",
                ));
            }
            let credentials = credentials(raw.credentials.unwrap_or_default())?;
            Ok(WebhookRequest::Verify {
                envelope,
                settings: raw.settings.unwrap_or_default(),
                credentials,
            })
        }
        Action::DataSourceSyncRequested => {
            if raw.credentials.is_some() {
                return Err(WebhookError::field(
                    "credentials",
                    "not accepted with data_source_sync_requested: the stored ones are used",
                ));
            }
            let config = raw
                .config
                .ok_or_else(|| WebhookError::field("config", "missing"))?;
            Ok(WebhookRequest::Sync { envelope, config })
        }
    }
}

/// Ids end up in keys, file names and log lines: plain characters only.
fn check_id(name: &str, value: &str) -> Result<(), WebhookError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_ID_LEN
        && !value.starts_with('.')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(WebhookError::field(
            name,
            format!(
                "must be 1 to {MAX_ID_LEN} characters of A-Z, a-z, 0-9, '-', '_', '.', '@' (not starting with '.')"
            ),
        ))
    }
}

/// Every credential value must be a string; the error names the field, never the value.
fn credentials(map: Map<String, Value>) -> Result<StoredCredential, WebhookError> {
    let mut stored = StoredCredential::new();
    for (name, value) in map {
        let field = format!("credentials.{name}");
        if name.is_empty() || name.len() > 64 {
            return Err(WebhookError::field(
                "credentials",
                "field names must be 1 to 64 bytes",
            ));
        }
        match value {
            Value::String(s) if !s.is_empty() => {
                stored.insert(name, SecretString::from(s));
            }
            _ => return Err(WebhookError::field(&field, "must be a non-empty string")),
        }
    }
    Ok(stored)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KINDS: &[&str] = &["jira", "confluence"];

    fn verify() -> Value {
        json!({"source":"chat-app","action":"verify_credentials","user_email":"user@example.com",
            "user_id":"u1","tenant_id":"t1","timestamp":"2025-10-01T10:00:00.000Z",
            "connection_id":"c1","connection_type":"confluence",
            "settings":{"url":"https://company.atlassian.net/wiki"},
            "credentials":{"api_token":"ATATT3x-secret","email":"user@company.com"}})
    }

    fn parse_value(v: &Value) -> Result<WebhookRequest, WebhookError> {
        parse(&serde_json::to_vec(v).unwrap(), KINDS)
    }

    #[test]
    fn the_documented_verify_request_parses() {
        match parse_value(&verify()).unwrap() {
            WebhookRequest::Verify {
                envelope,
                settings,
                credentials,
            } => {
                assert_eq!(envelope.tenant_id, "t1");
                assert_eq!(settings["url"], "https://company.atlassian.net/wiki");
                assert_eq!(credentials.names().count(), 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("tenant_id", Value::Null, "missing field `tenant_id`"),
            ("tenant_id", json!("../etc"), "`tenant_id`"),
            ("timestamp", json!("yesterday"), "`timestamp`"),
            (
                "connection_type",
                json!("gopher"),
                "unknown connection type",
            ),
            ("action", json!("explode"), "unknown variant `explode`"),
            (
                "credentials",
                json!({"api_token": 5}),
                "`credentials.api_token`",
            ),
            ("config", json!({}), "`config`: not accepted"),
            ("extra", json!(1), "unknown field `extra`"),
        ];
        for (field, value, expected) in cases {
            let mut body = verify();
            if value.is_null() {
                body.as_object_mut().unwrap().remove(field);
            } else {
                body[field] = value;
            }
            let err = parse_value(&body).unwrap_err();
            assert!(err.message.contains(expected), "{field}: {err}");
        }
    }

    #[test]
    fn a_credential_of_the_wrong_type_is_not_echoed() {
        let mut body = verify();
        body["credentials"]["api_token"] = json!(["ATATT3x-secret"]);
        let err = parse_value(&body).unwrap_err();
        assert!(!err.message.contains("ATATT3x-secret"), "{err}");
    }

    #[test]
    fn sync_needs_config_and_refuses_credentials() {
        let mut body = verify();
        body["action"] = json!("data_source_sync_requested");
        body.as_object_mut().unwrap().remove("settings");
        let err = parse_value(&body).unwrap_err();
        assert!(err.message.contains("`credentials`"), "{err}");
        body.as_object_mut().unwrap().remove("credentials");
        let err = parse_value(&body).unwrap_err();
        assert!(err.message.contains("`config`: missing"), "{err}");
        body["config"] = json!({"baseUrl": "https://acme.atlassian.net"});
        assert!(matches!(
            parse_value(&body).unwrap(),
            WebhookRequest::Sync { .. }
        ));
    }
}
