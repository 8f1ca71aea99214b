//! What to sync and how to reach it: [`ServiceNowConfig`], a serde shape a
//! host reads from JSON or TOML, checked once by
//! [`ServiceNowConnector::new`](crate::ServiceNowConnector::new).

use std::fmt;

use connector_core::credentials::{
    Basic, Bearer, ClientAuth, ClientCredentials, ExposeSecret, PasswordGrant, SecretString,
    SharedCredentials,
};
use connector_core::options::SourceOptions;
use connector_core::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize};

/// Requests per second a sync starts at when `options.rate` is unset; the
/// rate control grows it while the instance answers and cuts it on a 429,
/// so it never caps an instance with room to spare.
pub(crate) const DEFAULT_RATE: f64 = 10_000.0;

/// Records whose activity (journal entries) is read at once when
/// `options.concurrency` is unset.
pub(crate) const DEFAULT_CONCURRENCY: usize = 8;

/// The tables synced when `tables` is not set.
pub const DEFAULT_TABLES: &[&str] = &["kb_knowledge", "incident", "sc_cat_item"];

/// Settings of a [`ServiceNowConnector`](crate::ServiceNowConnector).
///
/// ```
/// use connector_servicenow::ServiceNowConfig;
///
/// let config: ServiceNowConfig = serde_json::from_value(serde_json::json!({
///     "instance": "acme",
///     "credentials": {"user": "integration", "password": "…"},
///     "tables": ["kb_knowledge", "incident",
///                {"name": "u_runbook", "fields": ["u_title", "u_steps"], "title_field": "u_title"}],
///     "work_notes": true,
///     "options": {"rate": 20.0}
/// }))?;
/// assert_eq!(config.tables[2].fields, ["u_title", "u_steps"]);
/// assert!(!serde_json::to_string(&config)?.contains("…"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServiceNowConfig {
    /// The instance: its name (`acme` → `https://acme.service-now.com`) or
    /// a full base URL (a custom domain, `https://itsm.acme.com`).
    #[serde(alias = "url", alias = "base_url")]
    pub instance: String,
    /// Who signs in; unset: give a provider to
    /// [`ServiceNowConnector::with_credentials`](crate::ServiceNowConnector::with_credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<ServiceNowAuth>,
    /// The tables to sync, by name or as `{"name", "fields", "filter",
    /// "title_field"}`; default `kb_knowledge`, `incident`, `sc_cat_item`.
    #[serde(default = "default_tables")]
    pub tables: Vec<TableSpec>,
    /// Knowledge articles in every workflow state and past `valid_to`, not
    /// only the published, current ones.
    #[serde(default)]
    pub include_unpublished_articles: bool,
    /// Incidents' work notes (internal) as sections, besides the comments.
    #[serde(default)]
    pub work_notes: bool,
    /// List each record's attachments (one more request per record); their
    /// bytes, and the text of those the extractor reads, when
    /// `options.attachment_max_bytes` is set and they fit it.
    #[serde(default)]
    pub attachments: bool,
    /// In an incremental sync, report the records deleted inside the
    /// window from `sys_audit_delete` (where the user may read it; the id
    /// listing at the end of a sync finds deletions either way).
    #[serde(default)]
    pub audit_deletions: bool,
    /// Records per Table API page, 1–10 000 (default 500). A page the
    /// instance cancels for running too long is asked for again at half
    /// the size.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Journal entries (comments, work notes) read per record at most
    /// (default 1 000); past it the document's `truncated` metadata says
    /// `journal`.
    #[serde(default = "default_max_journal_entries")]
    pub max_journal_entries: usize,
    /// The OAuth token endpoint; default `{instance}/oauth_token.do`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// Rate, concurrency, retry, timeouts, TLS roots, proxy.
    #[serde(default)]
    pub options: SourceOptions,
}

fn default_tables() -> Vec<TableSpec> {
    DEFAULT_TABLES
        .iter()
        .map(|t| TableSpec::named(*t))
        .collect()
}

fn default_page_size() -> u32 {
    500
}

fn default_max_journal_entries() -> usize {
    1_000
}

impl ServiceNowConfig {
    /// Defaults for `instance` (a name or a base URL).
    pub fn new(instance: impl Into<String>) -> Self {
        Self {
            instance: instance.into(),
            credentials: None,
            tables: default_tables(),
            include_unpublished_articles: false,
            work_notes: false,
            attachments: false,
            audit_deletions: false,
            page_size: default_page_size(),
            max_journal_entries: default_max_journal_entries(),
            token_url: None,
            options: SourceOptions::default(),
        }
    }

    /// Sync only these tables.
    pub fn tables<I, T>(mut self, tables: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<TableSpec>,
    {
        self.tables = tables.into_iter().map(Into::into).collect();
        self
    }

    /// Sign in with these credentials.
    pub fn credentials(mut self, credentials: ServiceNowAuth) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Records per page.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// Include incidents' work notes.
    pub fn work_notes(mut self, on: bool) -> Self {
        self.work_notes = on;
        self
    }

    /// List records' attachments (bytes with `options.attachment_max_bytes`).
    pub fn attachments(mut self, on: bool) -> Self {
        self.attachments = on;
        self
    }

    /// Report deletions inside incremental windows from `sys_audit_delete`.
    pub fn audit_deletions(mut self, on: bool) -> Self {
        self.audit_deletions = on;
        self
    }

    /// Include knowledge articles in every workflow state and past `valid_to`.
    pub fn include_unpublished_articles(mut self, on: bool) -> Self {
        self.include_unpublished_articles = on;
        self
    }

    /// Read at most `max` journal entries per record.
    pub fn max_journal_entries(mut self, max: usize) -> Self {
        self.max_journal_entries = max;
        self
    }

    /// Replace the shared options (rate, concurrency, retry, …).
    pub fn options(mut self, options: SourceOptions) -> Self {
        self.options = options;
        self
    }

    /// The instance's base URL, without a trailing slash.
    pub fn base_url(&self) -> Result<String> {
        let raw = self.instance.trim();
        let url = if is_instance_name(raw) {
            format!("https://{}.service-now.com", raw.to_ascii_lowercase())
        } else {
            raw.trim_end_matches('/').to_owned()
        };
        connector_core::url::check_base_url("instance", &url)?;
        Ok(url)
    }

    /// Check every field; errors name the field and the fix.
    pub(crate) fn validated(mut self) -> Result<Self> {
        if self.instance.trim().is_empty() {
            return Err(Error::config(
                "instance is empty; give the instance name (acme) or its URL (https://acme.service-now.com)",
            ));
        }
        self.base_url()?;
        if self.tables.is_empty() {
            return Err(Error::config(
                "tables is empty; name at least one table (kb_knowledge, incident, sc_cat_item, …)",
            ));
        }
        for (i, table) in self.tables.iter_mut().enumerate() {
            table.check(i)?;
        }
        if !(1..=10_000).contains(&self.page_size) {
            return Err(Error::config(format!(
                "page_size must be between 1 and 10000 (it is {})",
                self.page_size
            )));
        }
        if self.max_journal_entries == 0 {
            return Err(Error::config(
                "max_journal_entries must be at least 1 (entries past it are cut and reported in `truncated`)",
            ));
        }
        if let Some(url) = &self.token_url {
            connector_core::url::check_base_url("token_url", url)?;
        }
        self.options
            .validate()
            .map_err(|e| Error::config(format!("options.{}", e.message())))?;
        Ok(self)
    }

    /// The credential provider `credentials` describe.
    pub(crate) fn provider(&self, base_url: &str) -> Result<SharedCredentials> {
        let auth = self.credentials.as_ref().ok_or_else(|| {
            Error::config(
                "credentials: set {\"user\", \"password\"} (basic), {\"client_id\", \"client_secret\"} (OAuth client credentials), all four (OAuth password grant) or {\"token\"}",
            )
        })?;
        let token_url = self
            .token_url
            .clone()
            .unwrap_or_else(|| format!("{base_url}/oauth_token.do"));
        auth.provider(&token_url)
    }
}

/// An instance name: letters, digits and hyphens, no dots or scheme.
fn is_instance_name(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 63
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !raw.starts_with('-')
}

/// A table name or a dot-walked field name (`kb_category.label`).
pub(crate) fn is_name(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 80
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// One table to sync.
///
/// In configuration, a name (`"incident"`) or an object:
/// `{"name": "u_runbook", "fields": ["u_title", "u_steps"], "filter":
/// "active=true", "title_field": "u_title"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TableSpec {
    /// The table's name (`incident`, `u_runbook`).
    pub name: String,
    /// Fields whose values become the document's text (other tables than
    /// the three built in; default: the display values of every string
    /// field that is not a system field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// An encoded query the records must also match (`active=true`); no
    /// `ORDERBY` (the sync orders by `sys_updated_on`, `sys_id`) and no
    /// `^NQ` (it would escape the sync's own conditions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The field holding the title (default `number`, `short_description`,
    /// `name`, `title`, the first of `fields`, then the sys_id, whichever
    /// has a value first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_field: Option<String>,
}

impl TableSpec {
    /// The table `name` with its default fields.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            fields: Vec::new(),
            filter: None,
            title_field: None,
        }
    }

    /// Take these fields' values as the text.
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Take the title from this field.
    pub fn title_field(mut self, field: impl Into<String>) -> Self {
        self.title_field = Some(field.into());
        self
    }

    /// Sync only records matching this encoded query.
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    fn check(&mut self, i: usize) -> Result<()> {
        self.name = self.name.trim().to_owned();
        if !is_name(&self.name) || self.name.contains('.') {
            return Err(Error::config(format!(
                "tables[{i}]: {:?} is not a table name (letters, digits and _ only, e.g. incident)",
                self.name
            )));
        }
        for (j, field) in self.fields.iter().enumerate() {
            if !is_name(field) {
                return Err(Error::config(format!(
                    "tables[{i}].fields[{j}]: {field:?} is not a field name (letters, digits, _ and . for dot-walking)"
                )));
            }
        }
        if let Some(field) = &self.title_field
            && !is_name(field)
        {
            return Err(Error::config(format!(
                "tables[{i}].title_field: {field:?} is not a field name"
            )));
        }
        if let Some(filter) = &self.filter {
            let trimmed = filter.trim().trim_matches('^').to_owned();
            if trimmed.contains("^NQ") {
                return Err(Error::config(format!(
                    "tables[{i}].filter: `^NQ` starts a new query that would escape the sync's own conditions; write the filter as one query"
                )));
            }
            if trimmed.to_ascii_uppercase().contains("ORDERBY") {
                return Err(Error::config(format!(
                    "tables[{i}].filter: remove the ORDERBY; the sync orders by sys_updated_on and sys_id itself"
                )));
            }
            self.filter = (!trimmed.is_empty()).then_some(trimmed);
        }
        Ok(())
    }
}

impl From<&str> for TableSpec {
    fn from(name: &str) -> Self {
        Self::named(name)
    }
}

impl From<String> for TableSpec {
    fn from(name: String) -> Self {
        Self::named(name)
    }
}

/// The object form of a [`TableSpec`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableObject {
    name: String,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    title_field: Option<String>,
}

impl<'de> Deserialize<'de> for TableSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TableSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table name or {\"name\", \"fields\", \"filter\", \"title_field\"}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<TableSpec, E> {
                Ok(TableSpec::named(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<TableSpec, A::Error> {
                let o =
                    TableObject::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(TableSpec {
                    name: o.name,
                    fields: o.fields,
                    filter: o.filter,
                    title_field: o.title_field,
                })
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Who signs in to the instance. Which fields are set picks the method:
///
/// | fields | method |
/// |---|---|
/// | `user`, `password` | HTTP Basic |
/// | `client_id`, `client_secret` | OAuth 2.0 client credentials at `/oauth_token.do` |
/// | all four | OAuth 2.0 password grant, refreshed with its refresh token |
/// | `token` | a bearer token obtained elsewhere |
///
/// Secrets are never serialized nor shown by `Debug`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServiceNowAuth {
    /// The user name (`user_name` of `sys_user`).
    #[serde(default, alias = "username", skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The user's password.
    #[serde(default, skip_serializing)]
    pub password: Option<SecretString>,
    /// The OAuth application's client id (System OAuth › Application Registry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The OAuth application's client secret.
    #[serde(default, skip_serializing)]
    pub client_secret: Option<SecretString>,
    /// A bearer token.
    #[serde(default, skip_serializing)]
    pub token: Option<SecretString>,
}

impl fmt::Debug for ServiceNowAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |s: &Option<SecretString>| s.as_ref().map(|_| format_args!("[REDACTED]"));
        f.debug_struct("ServiceNowAuth")
            .field("user", &self.user)
            .field("password", &set(&self.password))
            .field("client_id", &self.client_id)
            .field("client_secret", &set(&self.client_secret))
            .field("token", &set(&self.token))
            .finish()
    }
}

impl ServiceNowAuth {
    /// HTTP Basic with a user and password.
    pub fn basic(user: impl Into<String>, password: impl Into<SecretString>) -> Self {
        Self {
            user: Some(user.into()),
            password: Some(password.into()),
            ..Self::default()
        }
    }

    /// OAuth 2.0 client credentials.
    pub fn client_credentials(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Self {
        Self {
            client_id: Some(client_id.into()),
            client_secret: Some(client_secret.into()),
            ..Self::default()
        }
    }

    /// OAuth 2.0 password grant: the client and the user.
    pub fn password_grant(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        user: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Self {
        Self {
            user: Some(user.into()),
            password: Some(password.into()),
            client_id: Some(client_id.into()),
            client_secret: Some(client_secret.into()),
            token: None,
        }
    }

    /// A bearer token.
    pub fn token(token: impl Into<SecretString>) -> Self {
        Self {
            token: Some(token.into()),
            ..Self::default()
        }
    }

    /// Credentials from `SERVICENOW_USER` + `SERVICENOW_PASSWORD` (basic),
    /// `SERVICENOW_CLIENT_ID` + `SERVICENOW_CLIENT_SECRET` (OAuth client
    /// credentials), all four (OAuth password grant), or
    /// `SERVICENOW_TOKEN`; the error names the variables to set.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup (a test's map).
    ///
    /// ```
    /// use connector_servicenow::ServiceNowAuth;
    /// let auth = ServiceNowAuth::from_lookup(|name| match name {
    ///     "SERVICENOW_CLIENT_ID" => Some("app".into()),
    ///     "SERVICENOW_CLIENT_SECRET" => Some("s3cret".into()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(auth.client_id.as_deref(), Some("app"));
    /// assert!(auth.user.is_none());
    /// assert!(ServiceNowAuth::from_lookup(|_| None).is_err());
    /// # Ok::<(), connector_core::Error>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let auth = Self {
            user: get("SERVICENOW_USER"),
            password: get("SERVICENOW_PASSWORD").map(SecretString::from),
            client_id: get("SERVICENOW_CLIENT_ID"),
            client_secret: get("SERVICENOW_CLIENT_SECRET").map(SecretString::from),
            token: get("SERVICENOW_TOKEN").map(SecretString::from),
        };
        let basic = auth.user.is_some() && auth.password.is_some();
        let oauth = auth.client_id.is_some() && auth.client_secret.is_some();
        if basic || oauth || auth.token.is_some() {
            Ok(auth)
        } else {
            Err(Error::config(
                "no ServiceNow credentials in the environment: set SERVICENOW_USER and SERVICENOW_PASSWORD, or SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET (with the user and password as well for the OAuth password grant)",
            ))
        }
    }

    /// The provider for these fields; the OAuth ones ask `token_url`.
    pub(crate) fn provider(&self, token_url: &str) -> Result<SharedCredentials> {
        let nonempty = |s: &Option<SecretString>| {
            s.as_ref()
                .filter(|s| !s.expose_secret().is_empty())
                .cloned()
        };
        let user = self.user.as_ref().filter(|u| !u.trim().is_empty());
        let client = self.client_id.as_ref().filter(|c| !c.trim().is_empty());
        let invalid = || {
            Error::config(
                "credentials: set user + password (basic), client_id + client_secret (OAuth client credentials), all four (OAuth password grant), or token",
            )
        };
        let provider: SharedCredentials = match (
            user,
            nonempty(&self.password),
            client,
            nonempty(&self.client_secret),
            nonempty(&self.token),
        ) {
            (None, None, None, None, Some(token)) => std::sync::Arc::new(Bearer::new(token)),
            (Some(user), Some(password), None, None, None) => {
                std::sync::Arc::new(Basic::new(user.clone(), password))
            }
            (None, None, Some(id), Some(secret), None) => std::sync::Arc::new(
                ClientCredentials::new(token_url, id.clone(), secret)
                    .map_err(|e| e.context("credentials"))?
                    .client_auth(ClientAuth::RequestBody),
            ),
            (Some(user), Some(password), Some(id), Some(secret), None) => std::sync::Arc::new(
                PasswordGrant::new(token_url, id.clone(), secret, user.clone(), password)
                    .map_err(|e| e.context("credentials"))?
                    .client_auth(ClientAuth::RequestBody),
            ),
            _ => return Err(invalid()),
        };
        Ok(provider)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_and_urls() {
        let url = |i: &str| ServiceNowConfig::new(i).base_url();
        assert_eq!(url("acme").unwrap(), "https://acme.service-now.com");
        assert_eq!(
            url(" ACME-dev ").unwrap(),
            "https://acme-dev.service-now.com"
        );
        assert_eq!(
            url("https://itsm.acme.com/").unwrap(),
            "https://itsm.acme.com"
        );
        assert_eq!(
            url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        let err = url("http://acme.service-now.com").unwrap_err().to_string();
        assert!(err.contains("instance"), "{err}");
        let err = url("acme.service-now.com").unwrap_err().to_string();
        assert!(err.contains("instance"), "{err}");
    }

    #[test]
    fn errors_name_the_config_field() {
        let cases = [
            (ServiceNowConfig::new(""), "instance"),
            (
                ServiceNowConfig::new("acme").tables(["inc ident"]),
                "tables[0]",
            ),
            (
                ServiceNowConfig::new("acme")
                    .tables([TableSpec::named("incident").filter("active=true^NQactive=false")]),
                "tables[0].filter",
            ),
            (
                ServiceNowConfig::new("acme")
                    .tables([TableSpec::named("incident").filter("active=true^ORDERBYnumber")]),
                "tables[0].filter",
            ),
            (
                ServiceNowConfig::new("acme")
                    .tables([TableSpec::named("u_x").fields(["ok", "no way"])]),
                "tables[0].fields[1]",
            ),
            (ServiceNowConfig::new("acme").page_size(0), "page_size"),
            (
                ServiceNowConfig::new("acme").options(SourceOptions::default().with_rate(-1.0)),
                "options.rate",
            ),
            (
                ServiceNowConfig::new("acme").max_journal_entries(0),
                "max_journal_entries",
            ),
        ];
        for (config, field) in cases {
            let err = config.validated().unwrap_err().to_string();
            assert!(err.contains(field), "{field}: {err}");
            assert!(!err.contains("--"), "names a flag, not a field: {err}");
        }
    }

    #[test]
    fn credentials_pick_the_method_and_never_show() {
        let token_url = "https://acme.service-now.com/oauth_token.do";
        for (json, shown) in [
            (
                serde_json::json!({"user": "u", "password": "pw-s3cret"}),
                "Basic",
            ),
            (
                serde_json::json!({"client_id": "c", "client_secret": "pw-s3cret"}),
                "ClientCredentials",
            ),
            (
                serde_json::json!({"client_id": "c", "client_secret": "pw-s3cret", "username": "u", "password": "pw-s3cret"}),
                "PasswordGrant",
            ),
            (serde_json::json!({"token": "pw-s3cret"}), "Bearer"),
        ] {
            let auth: ServiceNowAuth = serde_json::from_value(json).unwrap();
            let provider = auth.provider(token_url).unwrap();
            let debug = format!("{provider:?} {auth:?}");
            assert!(debug.contains(shown), "{debug}");
            assert!(!debug.contains("pw-s3cret"), "{debug}");
            assert!(!serde_json::to_string(&auth).unwrap().contains("pw-s3cret"));
        }
        for json in [
            serde_json::json!({"user": "u"}),
            serde_json::json!({"client_id": "c", "password": "p"}),
            serde_json::json!({"user": "u", "password": "p", "token": "t"}),
        ] {
            let auth: ServiceNowAuth = serde_json::from_value(json).unwrap();
            let err = auth.provider(token_url).unwrap_err().to_string();
            assert!(err.contains("credentials"), "{err}");
        }
    }

    #[test]
    fn tables_read_as_names_or_objects() {
        let config: ServiceNowConfig = serde_json::from_value(serde_json::json!({
            "url": "acme",
            "tables": ["incident", {"name": "u_runbook", "fields": ["u_steps"], "filter": "active=true"}]
        }))
        .unwrap();
        assert_eq!(config.tables[0], TableSpec::named("incident"));
        assert_eq!(config.tables[1].filter.as_deref(), Some("active=true"));
        let err = serde_json::from_value::<ServiceNowConfig>(serde_json::json!({
            "instance": "acme", "tables": [{"name": "u_x", "feilds": []}]
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("feilds"), "{err}");
        let defaults: ServiceNowConfig =
            serde_json::from_value(serde_json::json!({"instance": "acme"})).unwrap();
        assert_eq!(defaults.tables.len(), 3);
        assert_eq!(defaults.page_size, 500);
    }
}
