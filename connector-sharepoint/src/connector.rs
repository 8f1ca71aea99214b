//! [`SharePointConnector`]: the connector traits over [`GraphClient`].

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::{self, StreamExt};

use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, ItemStream, LoadConnector,
    OptionChoice, PollConnector, Result, SlimConnector, SlimStream, TimeWindow,
};

use crate::client::{GraphClient, SharePointAuth, explain};
use crate::config::SharePointConfig;
use crate::sync::{self, Ctx, SharePointCheckpoint};

/// SharePoint Online through Microsoft Graph as a source: every file of
/// the chosen sites' document libraries and every modern site page as a
/// document, incrementally (driveItem delta) and resumably.
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::Connector;
/// use connector_sharepoint::{SharePointAuth, SharePointConfig, SharePointConnector};
///
/// let auth = SharePointAuth::client_secret(
///     std::env::var("SHAREPOINT_CLIENT_ID").unwrap_or_default(),
///     std::env::var("SHAREPOINT_CLIENT_SECRET").unwrap_or_default(),
/// );
/// let config = SharePointConfig::new("contoso.onmicrosoft.com")
///     .site("https://contoso.sharepoint.com/sites/Eng");
/// let sharepoint = SharePointConnector::new(config, auth)?;
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
    /// A connector for `config`, authenticating with `auth`. Checks the
    /// configuration (tenant, site URLs, base URLs, quota) without
    /// contacting Microsoft.
    pub fn new(config: SharePointConfig, auth: SharePointAuth) -> Result<Self> {
        let config = config.validated()?;
        let client = GraphClient::new(&config, &auth)?;
        Ok(Self { client, config })
    }

    /// The Graph client (its HTTP counters: requests, retries, throttled time).
    pub fn client(&self) -> &GraphClient {
        &self.client
    }

    /// The configuration in force.
    pub fn config(&self) -> &SharePointConfig {
        &self.config
    }

    fn ctx(&self, window: TimeWindow) -> Arc<Ctx> {
        Arc::new(Ctx::new(self.client.clone(), self.config.clone(), window))
    }

    fn items(&self, window: TimeWindow, from: SharePointCheckpoint) -> ItemStream<'static> {
        sync::documents(self.ctx(window), from)
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
            let (site, libs) = sync::site_libraries(&ctx, url).await?;
            for lib in libs {
                libraries.push(OptionChoice::new(
                    lib.name.clone(),
                    format!("{} › {}", site.label(), lib.name),
                ));
            }
        }
        let sites = match self.client.search_sites().await {
            Ok(sites) => sites,
            // Sites.Selected apps may not search: the configured sites still work.
            Err(e) if e.kind() == connector_core::ErrorKind::Forbidden => {
                tracing::warn!(error = %e, "the app may not list sites; only the configured ones are checked");
                Vec::new()
            }
            Err(e) => return Err(explain(e, "the site list")),
        };
        let sites = sites
            .into_iter()
            .map(|s| {
                let key = s.web_url.clone().unwrap_or_else(|| s.id.clone());
                OptionChoice::new(key, s.label())
            })
            .collect();
        Ok(AvailableOptions::default()
            .with("sites", sites)
            .with("libraries", libraries))
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
    /// Resume from a [`SharePointCheckpoint`]: each library continues from
    /// its page in progress or its delta link (only changes); libraries
    /// without either start at `window.start` (or from scratch).
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
}

impl SlimConnector for SharePointConnector {
    /// Every file id in scope (a full delta enumeration of each library)
    /// and every site page id; the runner reports the ids gone as deleted.
    fn slim(&self) -> SlimStream<'_> {
        sync::ids(self.ctx(TimeWindow::until(Utc::now())))
    }
}
