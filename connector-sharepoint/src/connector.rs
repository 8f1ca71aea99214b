//! [`SharePointConnector`]: the connector traits over the Graph client.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::{self, StreamExt};

use connector_core::credentials::SharedCredentials;
use connector_core::http::HttpClient;
use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, ErrorKind, ItemStream,
    LoadConnector, OptionChoice, PollConnector, Result, SlimConnector, SlimStream, SourceMetrics,
    TimeWindow,
};

use crate::checkpoint::SharePointCheckpoint;
use crate::client::{GraphClient, explain};
use crate::config::SharePointConfig;
use crate::model::Site;
use crate::sites::{Ctx, collect, site_libraries};
use crate::{documents, slim};

/// SharePoint Online through Microsoft Graph as a source: every file of
/// the chosen sites' document libraries and every modern site page as a
/// document, incrementally (driveItem delta) and resumably.
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::Connector;
/// use connector_sharepoint::{SharePointConfig, SharePointConnector};
///
/// let config = SharePointConfig::new("contoso.onmicrosoft.com")
///     .site("https://contoso.sharepoint.com/sites/Eng")
///     .credentials(
///         std::env::var("SHAREPOINT_CLIENT_ID").unwrap_or_default(),
///         std::env::var("SHAREPOINT_CLIENT_SECRET").unwrap_or_default(),
///     );
/// let sharepoint = SharePointConnector::new(config)?;
/// let options = sharepoint.validate().await?;
/// for site in options.get("sites") {
///     println!("{} — {}", site.key, site.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SharePointConnector {
    client: GraphClient,
    config: SharePointConfig,
}

impl std::fmt::Debug for SharePointConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharePointConnector")
            .field("config", &self.config)
            .field("client", &self.client)
            .finish()
    }
}

impl SharePointConnector {
    /// A connector for `config`, signing in with its `credentials` (client
    /// id and secret). Checks the configuration (tenant, site URLs, base
    /// URLs, options) without contacting Microsoft; errors name the field.
    pub fn new(config: SharePointConfig) -> Result<Self> {
        let config = config.validated()?;
        let client = GraphClient::new(&config, None)?;
        Ok(Self { client, config })
    }

    /// A connector for `config` whose Graph tokens come from `credentials`
    /// (a certificate-based client assertion, a managed identity, a test
    /// token): any provider yielding `Bearer …` values for Graph. The
    /// configuration's `credentials` are not used.
    pub fn with_credentials(
        config: SharePointConfig,
        credentials: SharedCredentials,
    ) -> Result<Self> {
        let config = config.validated()?;
        let client = GraphClient::new(&config, Some(credentials))?;
        Ok(Self { client, config })
    }

    /// The configuration in force (normalized).
    pub fn config(&self) -> &SharePointConfig {
        &self.config
    }

    /// The HTTP client (its counters: requests, retries, throttled time).
    pub fn http(&self) -> &HttpClient {
        self.client.http()
    }

    fn ctx(&self, window: TimeWindow) -> Arc<Ctx> {
        Ctx::new(self.client.clone(), self.config.clone(), window)
    }

    fn items(&self, window: TimeWindow, from: SharePointCheckpoint) -> ItemStream<'static> {
        documents::documents(self.ctx(window), from)
    }
}

#[async_trait]
impl Connector for SharePointConnector {
    fn kind(&self) -> &str {
        "sharepoint"
    }

    /// Lists the sites the app can see (`"sites"`: key = site URL) and the
    /// libraries of each configured site (`"libraries"`: key = library
    /// name, name = `site › library`). A wrong tenant or secret, a missing
    /// site or a missing permission is a typed error in one line.
    async fn validate(&self) -> Result<AvailableOptions> {
        let ctx = self.ctx(TimeWindow::until(Utc::now()));
        // Configured sites first: their errors are the most specific.
        let mut libraries = Vec::new();
        for url in &self.config.sites {
            let found = site_libraries(&ctx, url).await?;
            for library in found.libraries {
                libraries.push(OptionChoice::new(
                    library.name.clone(),
                    format!("{} › {}", found.site.label(), library.name),
                ));
            }
        }
        let sites = match collect(self.client.sites()).await {
            Ok(sites) => sites,
            // Sites.Selected apps may not search: the configured sites still work.
            Err(e) if e.kind() == ErrorKind::Forbidden => {
                tracing::warn!(error = %e, "the app may not list sites; only the configured ones are checked");
                Vec::new()
            }
            Err(e) => return Err(explain(e, "the site list")),
        };
        let sites = sites
            .into_iter()
            .filter_map(|record| record.ok())
            .map(|s: Site| {
                let key = s.web_url.clone().unwrap_or_else(|| s.id.clone());
                OptionChoice::new(key, s.label())
            })
            .collect();
        Ok(AvailableOptions::default()
            .with("sites", sites)
            .with("libraries", libraries))
    }

    fn metrics(&self) -> Option<SourceMetrics> {
        Some(self.client.http().counters())
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

impl LoadConnector for SharePointConnector {
    fn load(&self) -> ItemStream<'_> {
        self.items(
            TimeWindow::until(Utc::now()),
            SharePointCheckpoint::default(),
        )
    }
}

impl PollConnector for SharePointConnector {
    /// Changes since `window.start` through the delta query's timestamp
    /// token (`?token=<time>`); everything when the window is full. Items
    /// changed after `window.end` are included too: delta has no upper bound.
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.items(window, SharePointCheckpoint::default())
    }
}

impl CheckpointedConnector for SharePointConnector {
    /// Resume from a checkpoint this connector yielded: each library
    /// continues from its page in progress or its delta link (only
    /// changes); libraries without either start at `window.start` (or from
    /// scratch).
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        match from.map(|c| c.decode::<SharePointCheckpoint>()).transpose() {
            Ok(from) => self.items(window, from.unwrap_or_default()),
            Err(e) => stream::iter(vec![Err(e)]).boxed(),
        }
    }

    /// Delta links are change tokens: the next incremental sync continues
    /// from the last completed sync's links, not from a timestamp.
    fn checkpoint_continues(&self) -> bool {
        true
    }

    /// A sync continuing its delta links reports every deletion itself:
    /// files deleted (or moved out of the configured folders) come from
    /// the delta, site pages gone from the last listing are compared with
    /// the checkpoint.
    fn reports_deletions(&self) -> bool {
        true
    }
}

impl SlimConnector for SharePointConnector {
    /// Every file id in scope (a full delta enumeration of each library,
    /// with access when permissions are read) and every site page id.
    fn slim(&self) -> SlimStream<'_> {
        slim::ids(self.ctx(TimeWindow::until(Utc::now())))
    }
}
