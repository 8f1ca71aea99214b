//! [`JiraConnector`]: the connector traits over [`JiraClient`].

use async_trait::async_trait;
use chrono::Utc;
use chrono_tz::Tz;
use futures::stream::{self, StreamExt};
use tokio::sync::OnceCell;

use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, Error, ErrorKind, ItemStream,
    LoadConnector, OptionChoice, PollConnector, Result, SlimConnector, SlimStream, TimeWindow,
};

use crate::client::{JiraAuth, JiraClient};
use crate::config::JiraConfig;
use crate::convert::Site;
use crate::jql;
use crate::search::{self, JiraCheckpoint};

/// Jira Cloud or Data Center as a source: every issue in scope as a
/// document, incrementally and resumably.
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::Connector;
/// use connector_jira::{JiraAuth, JiraConfig, JiraConnector};
///
/// let auth = JiraAuth::basic("me@acme.com", std::env::var("JIRA_API_TOKEN").unwrap_or_default());
/// let jira = JiraConnector::new(JiraConfig::new("https://acme.atlassian.net").project("ENG"), auth)?;
/// let options = jira.validate().await?;
/// for project in options.get("projects") {
///     println!("{} — {}", project.key, project.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JiraConnector {
    client: JiraClient,
    config: JiraConfig,
    site: Site,
    zone: std::sync::Arc<OnceCell<Tz>>,
}

impl std::fmt::Debug for JiraConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraConnector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl JiraConnector {
    /// A connector for `config`, authenticating with `auth`. Checks the
    /// configuration (URL, scope, quota) without contacting Jira.
    pub fn new(config: JiraConfig, auth: JiraAuth) -> Result<Self> {
        let config = config.validated()?;
        let client = JiraClient::new(&config, auth)?;
        let zone = std::sync::Arc::new(OnceCell::new());
        if let Some(tz) = config.time_zone {
            let _ = zone.set(tz);
        }
        Ok(Self {
            site: Site::new(&config.base_url),
            client,
            config,
            zone,
        })
    }

    /// The HTTP client (its counters: requests, retries, throttled time).
    pub fn client(&self) -> &JiraClient {
        &self.client
    }

    /// The zone JQL dates are read in: configured, or the user's from `/myself`.
    async fn zone(&self) -> Result<Tz> {
        self.zone
            .get_or_try_init(|| async {
                let me = self.client.myself().await?;
                match me.time_zone.as_deref() {
                    Some(name) => jql::parse_zone(name),
                    None => {
                        tracing::warn!(
                            "Jira did not say the user's time zone; reading JQL dates as UTC"
                        );
                        Ok(chrono_tz::UTC)
                    }
                }
            })
            .await
            .copied()
    }

    fn items(&self, window: TimeWindow, from: JiraCheckpoint) -> ItemStream<'static> {
        let this = self.clone();
        stream::once(async move {
            match this.zone().await {
                Ok(tz) => {
                    let reader = search::Reader {
                        client: this.client.clone(),
                        site: this.site.clone(),
                        page_size: this.config.page_size,
                        comment_page_size: this.config.comment_page_size,
                        attachment_max_bytes: this.config.attachment_max_bytes,
                    };
                    search::issues(reader, &this.config.scope, tz, window, from)
                }
                Err(e) => stream::iter(vec![Err(e)]).boxed(),
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
        self.client.myself().await?;
        let projects = self.client.projects().await?;
        for wanted in &self.config.scope.projects {
            if !projects
                .iter()
                .any(|p| p.key.as_deref() == Some(wanted.as_str()))
            {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "project {wanted} does not exist or is not visible to this user at {}",
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
        self.items(TimeWindow::until(Utc::now()), JiraCheckpoint::default())
    }
}

impl PollConnector for JiraConnector {
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.items(window, JiraCheckpoint::default())
    }
}

impl CheckpointedConnector for JiraConnector {
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        match from.map(|c| c.decode::<JiraCheckpoint>()).transpose() {
            Ok(from) => self.items(window, from.unwrap_or_default()),
            Err(e) => stream::iter(vec![Err(e)]).boxed(),
        }
    }
}

impl SlimConnector for JiraConnector {
    fn slim(&self) -> SlimStream<'_> {
        search::keys(self.client.clone(), self.site.clone(), &self.config.scope)
    }
}
