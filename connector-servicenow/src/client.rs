//! [`ServiceNowClient`]: the Table API calls of the connector over the core
//! HTTP layer (credentials, rate control, retry, redirects).

use connector_core::credentials::SharedCredentials;
use connector_core::http::HttpClient;
use connector_core::json::RawRecord;
use connector_core::url::segment;
use connector_core::{Error, ErrorKind, Result};

use crate::config::{DEFAULT_RATE, ServiceNowConfig};

/// What a page request asks for.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest<'a> {
    /// The table.
    pub(crate) table: &'a str,
    /// Another API answering in the Table API's shape (the Attachment
    /// API's `/api/now/attachment`); `None`: `/api/now/table/{table}`.
    pub(crate) path: Option<&'static str>,
    /// `sysparm_query`.
    pub(crate) query: &'a str,
    /// `sysparm_fields`; `None`: every field.
    pub(crate) fields: Option<&'a str>,
    /// `sysparm_display_value`: `false`, `true` or `all`.
    pub(crate) display: &'static str,
    /// `sysparm_limit`.
    pub(crate) limit: u32,
    /// `sysparm_offset`.
    pub(crate) offset: u64,
}

/// One Table API answer.
#[derive(Debug)]
pub(crate) struct TablePage {
    /// The `result` records, raw.
    pub(crate) records: Vec<RawRecord>,
    /// `X-Total-Count`: rows matching the query (before access controls).
    pub(crate) total: Option<u64>,
    /// Whether the `Link` header names a next page.
    pub(crate) next_link: bool,
    /// The instance cancelled the transaction part way (a `200` whose body
    /// ends in `"error"` / `"status": "failure"`): the records are partial.
    pub(crate) cancelled: Option<String>,
}

/// The REST calls of the connector. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct ServiceNowClient {
    http: HttpClient,
    base_url: String,
}

impl ServiceNowClient {
    /// A client for `config` at `base_url` signing in with `credentials`.
    pub(crate) fn new(
        config: &ServiceNowConfig,
        base_url: &str,
        credentials: SharedCredentials,
    ) -> Result<Self> {
        let http = HttpClient::builder("servicenow", base_url)
            .options(&config.options, DEFAULT_RATE)
            .shared_credentials(credentials)
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.to_owned(),
        })
    }

    /// The HTTP client (its counters and rate control).
    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The instance's base URL.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// One page of `GET /api/now/table/{table}`.
    pub(crate) async fn page(&self, req: &PageRequest<'_>) -> Result<TablePage> {
        let path = match req.path {
            Some(path) => path.to_owned(),
            None => format!("/api/now/table/{}", segment(req.table)?),
        };
        let mut query: Vec<(&str, String)> = vec![
            ("sysparm_query", req.query.to_owned()),
            ("sysparm_limit", req.limit.to_string()),
            ("sysparm_display_value", req.display.to_owned()),
            ("sysparm_exclude_reference_link", "true".to_owned()),
        ];
        if req.offset > 0 {
            query.push(("sysparm_offset", req.offset.to_string()));
        }
        if let Some(fields) = req.fields {
            query.push(("sysparm_fields", fields.to_owned()));
        }
        let (page, headers) = self
            .http
            .get(&path)
            .query(&query)
            .fetch_page_with_headers("result")
            .await
            .map_err(|e| self.explain(req.table, e))?;
        let total = headers
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let next_link = connector_core::http::next_link(&headers).is_some();
        let failed = page.envelope.get("status").and_then(|s| s.as_str()) == Some("failure")
            || page.envelope.get("error").is_some_and(|e| !e.is_null());
        let cancelled = failed.then(|| {
            let error = &page.envelope["error"];
            error["message"]
                .as_str()
                .or_else(|| error["detail"].as_str())
                .unwrap_or("the instance reported a failure")
                .to_owned()
        });
        Ok(TablePage {
            records: page.records,
            total,
            next_link,
            cancelled,
        })
    }

    /// A one-line reason for the errors a person can act on: credentials
    /// refused, a table the user may not read, a table that does not exist.
    pub(crate) fn explain(&self, table: &str, e: Error) -> Error {
        match e.kind() {
            ErrorKind::Auth => e.context(format_args!(
                "ServiceNow at {} refused the credentials (check the user and password, or the OAuth client)",
                self.base_url
            )),
            ErrorKind::Forbidden => e.context(format_args!(
                "the user may not read table {table} at {} (grant a role that can, such as snc_read_only, itil or knowledge)",
                self.base_url
            )),
            _ if e.status() == Some(400) && e.message().contains("Invalid table") => e.context(
                format_args!("table {table} does not exist at {}", self.base_url),
            ),
            _ => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_instance() {
        let config = ServiceNowConfig::new("http://127.0.0.1:9");
        let client = ServiceNowClient::new(
            &config,
            "http://127.0.0.1:9",
            connector_core::credentials::StaticAuth::bearer("t").provider(),
        )
        .unwrap();
        let e = client.explain(
            "incident",
            Error::new(ErrorKind::Auth, "servicenow answered HTTP 401"),
        );
        assert!(e.to_string().contains("http://127.0.0.1:9"), "{e}");
        let e = client.explain(
            "incident",
            Error::new(ErrorKind::Forbidden, "servicenow answered HTTP 403"),
        );
        assert!(e.to_string().contains("table incident"), "{e}");
    }
}
