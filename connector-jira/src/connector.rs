//! [`JiraConnector`]: the connector traits over the Jira client.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::{self, StreamExt};
use tokio::sync::OnceCell;

use connector_core::credentials::SharedCredentials;
use connector_core::http::HttpClient;
use connector_core::zone::Zone;
use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, Error, ErrorKind, ItemStream,
    LoadConnector, OptionChoice, PollConnector, Result, SlimConnector, SlimStream, SourceMetrics,
    TimeWindow,
};

use crate::checkpoint::Position;
use crate::client::JiraClient;
use crate::config::{DEFAULT_CONCURRENCY, JiraConfig};
use crate::convert::Site;
use crate::issues::{self, Reader, Start};
use crate::jql::{self, Scope};
use crate::listing;

/// Jira Cloud or Data Center as a source: every issue in scope as a
/// document, incrementally and resumably.
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::Connector;
/// use connector_core::credentials::StaticAuth;
/// use connector_jira::{JiraConfig, JiraConnector};
///
/// let token = std::env::var("JIRA_API_TOKEN").unwrap_or_default();
/// let config = JiraConfig::new("https://acme.atlassian.net")
///     .project("ENG")
///     .credentials(StaticAuth::basic("me@acme.com", token));
/// let jira = JiraConnector::new(config)?;
/// let options = jira.validate().await?;
/// for project in options.get("projects") {
///     println!("{} — {}", project.key, project.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JiraConnector {
    reader: Arc<Reader>,
    config: Arc<JiraConfig>,
    zone: Arc<OnceCell<Zone>>,
}

impl std::fmt::Debug for JiraConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraConnector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl JiraConnector {
    /// A connector for `config`, signing in with its `credentials`. Checks
    /// the configuration without contacting Jira.
    pub fn new(config: JiraConfig) -> Result<Self> {
        let credentials = config
            .credentials
            .as_ref()
            .ok_or_else(|| {
                Error::config(
                    "credentials: set {\"email\", \"api_token\"} (Cloud) or {\"token\"} (Data Center personal access token), or use JiraConnector::with_credentials",
                )
            })?
            .provider();
        Self::with_credentials(config, credentials)
    }

    /// A connector for `config` signing in with any credential provider
    /// (an OAuth 2.0 refresh-token flow, say); `config.credentials` is
    /// ignored.
    pub fn with_credentials(config: JiraConfig, credentials: SharedCredentials) -> Result<Self> {
        let config = config.validated()?;
        let client = JiraClient::new(&config, credentials)?;
        let zone = Arc::new(OnceCell::new());
        if let Some(tz) = config.time_zone {
            let _ = zone.set(Zone::Known(tz));
        }
        let reader = Reader {
            site: Site::new(&config.base_url),
            client,
            page_size: config.page_size,
            comment_page_size: config.comment_page_size,
            max_comments: config.max_comments,
            attachment_max_bytes: config.options.attachment_max_bytes,
            extract: config.extract,
            concurrency: config.options.concurrency_or(DEFAULT_CONCURRENCY),
        };
        Ok(Self {
            reader: Arc::new(reader),
            config: Arc::new(config),
            zone,
        })
    }

    /// The HTTP client: its counters (requests, retries, throttled time)
    /// and rate control.
    pub fn http(&self) -> &HttpClient {
        self.reader.client.http()
    }

    fn scope(&self) -> Scope {
        Scope {
            projects: self.config.projects.clone(),
            jql: self.config.jql.clone(),
        }
    }

    /// The zone JQL dates are read in: configured, or the user's from
    /// `/myself`; unknown when Jira does not say (the search then widens
    /// its bounds so nothing is missed).
    async fn zone(&self) -> Result<Zone> {
        self.zone
            .get_or_try_init(|| async {
                let me = self.reader.client.myself().await?;
                let named = me.time_zone.as_deref().map(|name| {
                    connector_core::zone::parse_zone(name, "the user's timeZone from /myself")
                });
                Ok(match named {
                    Some(Ok(tz)) => Zone::Known(tz),
                    Some(Err(e)) => {
                        tracing::warn!("{e}; widening searches to cover every zone (set `time_zone` to avoid it)");
                        Zone::Unknown
                    }
                    None => {
                        tracing::warn!(
                            "Jira did not say the user's time zone; widening searches to cover every zone (set `time_zone` to avoid it)"
                        );
                        Zone::Unknown
                    }
                })
            })
            .await
            .copied()
    }

    fn items(&self, window: TimeWindow, from: Option<Position>) -> ItemStream<'static> {
        let this = self.clone();
        stream::once(async move {
            let zone = match this.zone().await {
                Ok(zone) => zone,
                Err(e) => return stream::iter(vec![Err(e)]).boxed(),
            };
            let scope = this.scope();
            let start = Start::resume(from, |mark| {
                // A checkpoint without a page position: search again from
                // its watermark.
                let mut searched = window;
                searched.start = mark.resume_at(window.start);
                jql::search_jql(&scope, &searched, zone)
            });
            match start {
                Some((jql, start)) => issues::issues(this.reader.clone(), jql, window, start),
                None => stream::empty().boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

#[async_trait]
impl Connector for JiraConnector {
    fn kind(&self) -> &str {
        "jira"
    }

    async fn validate(&self) -> Result<AvailableOptions> {
        self.reader.client.myself().await?;
        let projects = listing::projects(&self.reader.client).await?;
        for (i, wanted) in self.config.projects.iter().enumerate() {
            if !projects
                .iter()
                .any(|p| p.key.as_deref() == Some(wanted.as_str()))
            {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "projects[{i}]: project {wanted} does not exist or is not visible to this user at {}",
                        self.config.base_url
                    ),
                ));
            }
        }
        let choices = projects
            .into_iter()
            .filter_map(|p| {
                let key = p.key?;
                let name = p.name.unwrap_or_else(|| key.clone());
                Some(OptionChoice::new(key, name))
            })
            .collect();
        Ok(AvailableOptions::default().with("projects", choices))
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

impl LoadConnector for JiraConnector {
    fn load(&self) -> ItemStream<'_> {
        self.items(TimeWindow::until(Utc::now()), None)
    }
}

impl PollConnector for JiraConnector {
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.items(window, None)
    }
}

impl CheckpointedConnector for JiraConnector {
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        match from.map(|c| c.decode::<Position>()).transpose() {
            Ok(from) => self.items(window, from),
            Err(e) => stream::iter(vec![Err(e.context("the stored Jira checkpoint"))]).boxed(),
        }
    }
}

impl SlimConnector for JiraConnector {
    fn slim(&self) -> SlimStream<'_> {
        listing::keys(
            self.reader.client.clone(),
            self.reader.site.clone(),
            jql::listing_jql(&self.scope()),
            self.config.key_page_size,
        )
    }
}
