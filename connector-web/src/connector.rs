//! [`WebConnector`]: the crawl as a connector.

use std::sync::Arc;

use async_trait::async_trait;
use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, ItemStream, LoadConnector,
    OptionChoice, Result, TimeWindow,
};
use futures::StreamExt;

use crate::config::WebConfig;
use crate::crawl::{Crawl, Shared};
use crate::fetch::Host;
use crate::scope::{Normalizer, Scope};

/// A website as a source: see the [crate docs](crate).
pub struct WebConnector {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for WebConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConnector")
            .field("urls", &self.shared.config.urls)
            .field("sitemaps", &self.shared.config.sitemaps)
            .field("state_dir", &self.shared.state_dir)
            .finish_non_exhaustive()
    }
}

impl WebConnector {
    /// Check `config` and build the connector (nothing is fetched yet).
    pub fn new(config: WebConfig) -> Result<Self> {
        let (seeds, sitemaps) = config.check()?;
        let in_scope: Vec<_> = seeds.iter().chain(&sitemaps).cloned().collect();
        let scope = Scope::new(&config, &in_scope)?;
        let normalizer = Normalizer::new(&config.strip_query)?;
        let state_dir = match &config.state_dir {
            Some(dir) => dir.clone(),
            None => {
                let mut key = String::new();
                for u in seeds.iter().chain(&sitemaps) {
                    key.push_str(u.as_str());
                    key.push('\n');
                }
                let hash = blake3::hash(key.as_bytes()).to_hex();
                std::env::temp_dir()
                    .join("connector-web")
                    .join(&hash.as_str()[..16])
            }
        };
        Ok(Self {
            shared: Arc::new(Shared {
                config: Arc::new(config),
                scope: Arc::new(scope),
                normalizer,
                seeds,
                sitemaps,
                state_dir,
            }),
        })
    }

    /// The directory holding the crawl's frontier and page records.
    pub fn state_dir(&self) -> &std::path::Path {
        &self.shared.state_dir
    }

    fn crawl(&self, from: Option<Checkpoint>) -> ItemStream<'_> {
        let shared = self.shared.clone();
        let start = async move { Crawl::start(shared, from).await };
        futures::stream::once(start)
            .flat_map(|crawl| match crawl {
                Ok(crawl) => futures::stream::unfold(crawl, |mut crawl| async move {
                    crawl.next_item().await.map(|item| (item, crawl))
                })
                .boxed(),
                Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
            })
            .boxed()
    }
}

#[async_trait]
impl Connector for WebConnector {
    fn kind(&self) -> &str {
        "web"
    }

    /// Read the robots.txt of every seed host; the hosts in scope are the options.
    async fn validate(&self) -> Result<AvailableOptions> {
        let mut hosts = Vec::new();
        for url in self.shared.seeds.iter().chain(&self.shared.sitemaps) {
            let host = Host::open(&self.shared.config, url).await?;
            let origin = url.origin().ascii_serialization();
            let name = match host.crawl_delay {
                Some(d) => format!("{origin} (Crawl-delay {d} s)"),
                None => origin.clone(),
            };
            hosts.push(OptionChoice::new(origin, name));
        }
        Ok(AvailableOptions::default().with("hosts", hosts))
    }

    fn as_load(&self) -> Option<&dyn LoadConnector> {
        Some(self)
    }

    fn as_checkpointed(&self) -> Option<&dyn CheckpointedConnector> {
        Some(self)
    }
}

impl LoadConnector for WebConnector {
    /// A full crawl, ignoring what the last one saw.
    fn load(&self) -> ItemStream<'_> {
        self.crawl(None)
    }
}

impl CheckpointedConnector for WebConnector {
    /// Resume a crawl from its checkpoint; from the checkpoint of a
    /// completed crawl, start the next one, revisiting with conditional
    /// requests and reporting deletions. The window is not used: a
    /// website has no query by change time (sitemap `lastmod` is used
    /// where the sitemap gives it).
    fn resume(&self, _window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        self.crawl(from)
    }

    fn checkpoint_continues(&self) -> bool {
        true
    }

    fn reports_deletions(&self) -> bool {
        true
    }
}
