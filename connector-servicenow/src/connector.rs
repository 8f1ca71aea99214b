//! [`ServiceNowConnector`]: the connector traits over the Table API client.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::{self, StreamExt};

use connector_core::credentials::SharedCredentials;
use connector_core::http::HttpClient;
use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, Error, ErrorKind, ItemStream,
    LoadConnector, OptionChoice, PollConnector, Result, SlimConnector, SlimStream, SourceMetrics,
    TimeWindow,
};
use connector_extract::Extractor;

use crate::checkpoint::Position;
use crate::client::{PageRequest, ServiceNowClient};
use crate::config::{DEFAULT_CONCURRENCY, DEFAULT_TABLES, ServiceNowConfig};
use crate::convert::Instance;
use crate::model::Row;
use crate::stream::{self as items, Reader};
use crate::tables::TablePlan;

/// Knowledge bases listed by `validate()` at most.
const MAX_KNOWLEDGE_BASES: u32 = 1_000;

/// Tables `validate()` takes from `sys_db_object` at most (and probes).
const MAX_DISCOVERED: u32 = 100;

/// The tables of `sys_db_object` worth offering besides the defaults: the
/// task tables (problems, changes, requests, HR cases) and the custom ones
/// (`u_*` global, `x_*` scoped). ServiceNow has thousands of tables; most are
/// configuration no one indexes.
const DISCOVER_QUERY: &str =
    "super_class.name=task^ORnameSTARTSWITHu_^ORnameSTARTSWITHx_^ORDERBYname";

/// A ServiceNow instance as a source: the records of the configured tables
/// as documents, incrementally and resumably.
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::Connector;
/// use connector_servicenow::{ServiceNowAuth, ServiceNowConfig, ServiceNowConnector};
///
/// let password = std::env::var("SERVICENOW_PASSWORD").unwrap_or_default();
/// let config = ServiceNowConfig::new("acme")
///     .tables(["kb_knowledge", "incident"])
///     .credentials(ServiceNowAuth::basic("integration", password));
/// let servicenow = ServiceNowConnector::new(config)?;
/// let options = servicenow.validate().await?;
/// for table in options.get("tables") {
///     println!("{} — {}", table.key, table.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServiceNowConnector {
    reader: Arc<Reader>,
    config: Arc<ServiceNowConfig>,
}

impl std::fmt::Debug for ServiceNowConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceNowConnector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ServiceNowConnector {
    /// A connector for `config`, signing in with its `credentials`. Checks
    /// the configuration without contacting the instance.
    pub fn new(config: ServiceNowConfig) -> Result<Self> {
        let config = config.validated()?;
        let credentials = config.provider(&config.base_url()?)?;
        Self::with_credentials(config, credentials)
    }

    /// A connector for `config` signing in with any credential provider;
    /// `config.credentials` is ignored.
    pub fn with_credentials(
        config: ServiceNowConfig,
        credentials: SharedCredentials,
    ) -> Result<Self> {
        let config = config.validated()?;
        let base_url = config.base_url()?;
        let client = ServiceNowClient::new(&config, &base_url, credentials)?;
        let plans = config
            .tables
            .iter()
            .map(|spec| TablePlan::new(spec, &config))
            .collect();
        let reader = Reader {
            client,
            instance: Instance::new(&base_url),
            plans,
            page_size: config.page_size,
            max_journal: config.max_journal_entries,
            concurrency: config.options.concurrency_or(DEFAULT_CONCURRENCY),
            html: Extractor::default(),
            attachments: config.attachments,
            attachment_max_bytes: config.options.attachment_max_bytes,
            audit_deletions: config.audit_deletions,
        };
        Ok(Self {
            reader: Arc::new(reader),
            config: Arc::new(config),
        })
    }

    /// The HTTP client: its counters (requests, retries, throttled time)
    /// and rate control.
    pub fn http(&self) -> &HttpClient {
        self.reader.client.http()
    }

    fn items(&self, window: TimeWindow, from: Position) -> ItemStream<'static> {
        items::items(self.reader.clone(), window, from)
    }

    /// Whether the user can read `table`: `Ok(false)` on a 403, an error
    /// for refused credentials or anything else.
    async fn readable(&self, table: &str) -> Result<bool> {
        let request = PageRequest {
            table,
            path: None,
            query: "",
            fields: Some("sys_id"),
            display: "false",
            limit: 1,
            offset: 0,
        };
        match self.reader.client.page(&request).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::Forbidden => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Labels of `tables` from `sys_db_object`, when the user may read it.
    async fn labels(&self, tables: &[String]) -> Vec<(String, String)> {
        let query = format!("nameIN{}", tables.join(","));
        let request = PageRequest {
            table: "sys_db_object",
            path: None,
            query: &query,
            fields: Some("name,label"),
            display: "false",
            limit: tables.len().max(1) as u32,
            offset: 0,
        };
        let Ok(page) = self.reader.client.page(&request).await else {
            return Vec::new();
        };
        page.records
            .iter()
            .filter_map(|raw| {
                let row = Row(raw.decode().ok()?);
                Some((row.text("name")?, row.text("label")?))
            })
            .collect()
    }

    /// One page of a table `validate()` reads only where it may: `None`
    /// when the user may not read it or it does not exist.
    async fn optional_page(
        &self,
        request: &PageRequest<'_>,
    ) -> Result<Option<crate::client::TablePage>> {
        match self.reader.client.page(request).await {
            Ok(page) => Ok(Some(page)),
            Err(e) if matches!(e.kind(), ErrorKind::Forbidden | ErrorKind::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Tables from `sys_db_object` (see [`DISCOVER_QUERY`]) not in `known`
    /// that the user can read, with their labels; none when the user may
    /// not read `sys_db_object`.
    async fn discovered(&self, known: &[String]) -> Result<Vec<OptionChoice>> {
        let request = PageRequest {
            table: "sys_db_object",
            path: None,
            query: DISCOVER_QUERY,
            fields: Some("name,label"),
            display: "false",
            limit: MAX_DISCOVERED,
            offset: 0,
        };
        let Some(page) = self.optional_page(&request).await? else {
            return Ok(Vec::new());
        };
        let mut candidates: Vec<(String, String)> = page
            .records
            .iter()
            .filter_map(|raw| {
                let row = Row(raw.decode().ok()?);
                let name = row.text("name")?;
                let label = row.text("label").unwrap_or_else(|| name.clone());
                Some((name, label))
            })
            .filter(|(name, _)| {
                crate::config::is_name(name) && !name.contains('.') && !known.contains(name)
            })
            .collect();
        candidates.dedup_by(|a, b| a.0 == b.0);
        // Probed like the defaults, a few at a time through the rate control.
        let probes = stream::iter(candidates)
            .map(|(name, label)| async move {
                match self.readable(&name).await {
                    Ok(true) => Ok(Some(OptionChoice::new(name, label))),
                    Ok(false) => Ok(None),
                    Err(e) if e.status() == Some(400) || e.kind() == ErrorKind::NotFound => {
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            })
            .buffered(self.reader.concurrency)
            .collect::<Vec<Result<Option<OptionChoice>>>>()
            .await;
        probes.into_iter().filter_map(Result::transpose).collect()
    }

    /// Active knowledge bases, when the user may read them.
    async fn knowledge_bases(&self) -> Result<Vec<OptionChoice>> {
        let request = PageRequest {
            table: "kb_knowledge_base",
            path: None,
            query: "active=true^ORDERBYtitle",
            fields: Some("sys_id,title"),
            display: "false",
            limit: MAX_KNOWLEDGE_BASES,
            offset: 0,
        };
        let Some(page) = self.optional_page(&request).await? else {
            return Ok(Vec::new());
        };
        Ok(page
            .records
            .iter()
            .filter_map(|raw| {
                let row = Row(raw.decode().ok()?);
                let id = row.sys_id()?.to_owned();
                let title = row.text("title").unwrap_or_else(|| id.clone());
                Some(OptionChoice::new(id, title))
            })
            .collect())
    }
}

#[async_trait]
impl Connector for ServiceNowConnector {
    fn kind(&self) -> &str {
        "servicenow"
    }

    /// The tables the credentials can read as `tables` — the default
    /// tables, the configured ones, and, when the user may read
    /// `sys_db_object`, its task and custom tables (up to 100, each probed)
    /// — and the active knowledge bases as `knowledge_bases`. Refused credentials, or a configured table the
    /// user cannot read or that does not exist, fail with the instance URL
    /// and the `tables[i]` entry named.
    async fn validate(&self) -> Result<AvailableOptions> {
        let mut names: Vec<String> = DEFAULT_TABLES.iter().map(|t| (*t).to_owned()).collect();
        for spec in &self.config.tables {
            if !names.contains(&spec.name) {
                names.push(spec.name.clone());
            }
        }
        let mut readable = Vec::new();
        for name in &names {
            let configured = self.config.tables.iter().position(|t| &t.name == name);
            match (self.readable(name).await, configured) {
                (Ok(true), _) => readable.push(name.clone()),
                (Ok(false), None) => {}
                (Ok(false), Some(i)) => {
                    return Err(Error::new(
                        ErrorKind::Forbidden,
                        format!(
                            "tables[{i}]: the user may not read table {name} at {} (grant a role that can, such as snc_read_only, itil or knowledge)",
                            self.reader.client.base_url()
                        ),
                    ));
                }
                (Err(e), Some(i)) if e.kind() != ErrorKind::Auth => {
                    return Err(e.context(format_args!("tables[{i}]")));
                }
                (Err(e), None) if e.status() == Some(400) => {}
                (Err(e), _) => return Err(e),
            }
        }
        let labels = self.labels(&readable).await;
        let discovered = self.discovered(&names).await?;
        let tables = readable
            .into_iter()
            .map(|name| {
                let label = labels
                    .iter()
                    .find(|(n, _)| n == &name)
                    .map_or_else(|| name.clone(), |(_, l)| l.clone());
                OptionChoice::new(name, label)
            })
            .chain(discovered)
            .collect();
        let bases = self.knowledge_bases().await?;
        Ok(AvailableOptions::default()
            .with("tables", tables)
            .with("knowledge_bases", bases))
    }

    fn metrics(&self) -> Option<SourceMetrics> {
        Some(self.http().counters())
    }

    fn as_load(&self) -> Option<&dyn LoadConnector> {
        Some(self)
    }

    fn as_poll(&self) -> Option<&dyn PollConnector> {
        Some(self)
    }

    fn as_checkpointed(&self) -> Option<&dyn CheckpointedConnector> {
        Some(self)
    }

    fn as_slim(&self) -> Option<&dyn SlimConnector> {
        Some(self)
    }
}

impl LoadConnector for ServiceNowConnector {
    fn load(&self) -> ItemStream<'_> {
        self.items(TimeWindow::until(Utc::now()), Position::default())
    }
}

impl PollConnector for ServiceNowConnector {
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.items(window, Position::default())
    }
}

impl CheckpointedConnector for ServiceNowConnector {
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        match from.map(|c| c.decode::<Position>()).transpose() {
            Ok(from) => self.items(window, from.unwrap_or_default()),
            Err(e) => {
                stream::iter(vec![Err(e.context("the stored ServiceNow checkpoint"))]).boxed()
            }
        }
    }
}

impl SlimConnector for ServiceNowConnector {
    fn slim(&self) -> SlimStream<'_> {
        items::slim(self.reader.clone())
    }
}
