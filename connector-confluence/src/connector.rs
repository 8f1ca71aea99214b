//! [`ConfluenceConnector`]: the connector traits over [`ConfluenceClient`].

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::{self, StreamExt};
use tokio::sync::OnceCell;

use connector_core::credentials::SharedCredentials;
use connector_core::zone::{Zone, parse_zone};
use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, Error, ItemStream,
    LoadConnector, OptionChoice, PollConnector, Result, SlimConnector, SlimStream, SourceMetrics,
    TimeWindow,
};

use crate::checkpoint::ConfluenceCheckpoint;
use crate::client::{ConfluenceAuth, ConfluenceClient};
use crate::config::{ConfluenceConfig, DEFAULT_CONCURRENCY};
use crate::convert::Site;
use crate::people::People;
use crate::reader::Reader;
use crate::{listing, search, slim, spaces};

/// Confluence Cloud or Data Center as a source: every page and blog post in
/// scope as a document, incrementally and resumably.
///
/// - A full sync lists every space in scope (v2 on Cloud, v1 on Data
///   Center) and checkpoints after every listing page.
/// - An incremental sync searches with CQL on `lastmodified` in the user's
///   time zone and checkpoints after every search page.
/// - The slim listing gives the ids of all current content, for deletions.
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::Connector;
/// use connector_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceConnector};
///
/// let auth = ConfluenceAuth::basic("me@acme.com", std::env::var("CONFLUENCE_API_TOKEN").unwrap_or_default());
/// let wiki = ConfluenceConnector::new(ConfluenceConfig::new("https://acme.atlassian.net").space("ENG"), auth)?;
/// for space in wiki.validate().await?.get("spaces") {
///     println!("{} — {}", space.key, space.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ConfluenceConnector {
    client: ConfluenceClient,
    config: Arc<ConfluenceConfig>,
    site: Site,
    zone: Arc<OnceCell<Zone>>,
}

impl std::fmt::Debug for ConfluenceConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfluenceConnector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ConfluenceConnector {
    /// A connector for `config`, authenticating with `auth`. Checks the
    /// configuration (URL, space keys, options) without contacting
    /// Confluence; `config.credentials` is ignored.
    ///
    /// ```
    /// use connector_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceConnector};
    /// let bad = ConfluenceConnector::new(ConfluenceConfig::new("http://wiki.acme.com"), ConfluenceAuth::bearer("t"));
    /// let err = bad.unwrap_err().to_string();
    /// assert!(err.contains("base_url") && err.contains("https://"), "{err}");
    /// ```
    pub fn new(config: ConfluenceConfig, auth: ConfluenceAuth) -> Result<Self> {
        Self::with_credentials(config, auth.0)
    }

    /// A connector for `config`, signing in with its `credentials` — the
    /// way a host builds one from stored configuration.
    ///
    /// ```
    /// use connector_confluence::{ConfluenceConfig, ConfluenceConnector};
    /// let config: ConfluenceConfig = serde_json::from_value(serde_json::json!({
    ///     "base_url": "https://acme.atlassian.net",
    ///     "credentials": {"email": "me@acme.com", "api_token": "t0k"},
    ///     "spaces": ["ENG"]
    /// })).unwrap();
    /// assert!(ConfluenceConnector::from_config(config).is_ok());
    /// ```
    pub fn from_config(config: ConfluenceConfig) -> Result<Self> {
        let credentials = config
            .credentials
            .as_ref()
            .ok_or_else(|| {
                Error::config(
                    "credentials: set {\"email\", \"api_token\"} (Cloud) or {\"token\"} (Data Center personal access token), or use ConfluenceConnector::new",
                )
            })?
            .provider();
        Self::with_credentials(config, credentials)
    }

    /// A connector for `config` signing in with any credential provider
    /// (an OAuth 2.0 refresh-token flow, say).
    pub fn with_credentials(
        config: ConfluenceConfig,
        credentials: SharedCredentials,
    ) -> Result<Self> {
        let config = config.validated()?;
        let client = ConfluenceClient::new(&config, credentials)?;
        let zone = Arc::new(OnceCell::new());
        if let Some(tz) = config.time_zone {
            let _ = zone.set(Zone::Known(tz));
        }
        Ok(Self {
            site: Site::new(
                config.web_url.as_deref().unwrap_or(&config.base_url),
                config.resolved_deployment(),
            ),
            client,
            config: Arc::new(config),
            zone,
        })
    }

    /// The REST client (its HTTP counters: requests, retries, throttled time).
    pub fn client(&self) -> &ConfluenceClient {
        &self.client
    }

    /// The configuration in force.
    pub fn config(&self) -> &ConfluenceConfig {
        &self.config
    }

    /// The zone CQL dates are read in: configured, or the user's from
    /// `/rest/api/user/current`; unknown when Confluence does not say (the
    /// search then widens its bounds so nothing is missed).
    async fn zone(&self) -> Result<Zone> {
        self.zone
            .get_or_try_init(|| async {
                let me = self.client.current_user().await?;
                Ok(user_zone(me.time_zone.as_deref()))
            })
            .await
            .copied()
    }

    /// A reader for one stream (its people cache lives as long as the sync).
    fn reader(&self) -> Arc<Reader> {
        let config = &self.config;
        Arc::new(Reader {
            client: self.client.clone(),
            site: self.site.clone(),
            page_size: config.page_size,
            search_page_size: config.search_page_size,
            blog_posts: config.blog_posts,
            footer_comments: config.footer_comments,
            archived: config.archived,
            attachment_max_bytes: config.options.attachment_max_bytes,
            extract: config.extract,
            max_comments: config.max_comments,
            max_attachments: config.max_attachments,
            max_labels: config.max_labels,
            concurrency: config.options.concurrency_or(DEFAULT_CONCURRENCY),
            people: People::new(self.client.clone()),
        })
    }

    fn items(&self, window: TimeWindow, from: Option<ConfluenceCheckpoint>) -> ItemStream<'static> {
        if window.is_full() {
            let from = match from {
                Some(ConfluenceCheckpoint::Listing(p)) => Some(p),
                _ => None,
            };
            return listing::documents(self.reader(), self.config.spaces.clone(), from);
        }
        let from = match from {
            Some(ConfluenceCheckpoint::Changes(mark)) => mark,
            _ => Default::default(),
        };
        let this = self.clone();
        stream::once(async move {
            match this.zone().await {
                Ok(zone) => search::changes(
                    this.reader(),
                    this.config.spaces.clone(),
                    zone,
                    window,
                    from,
                ),
                Err(e) => stream::iter(vec![Err(e)]).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

/// The zone a user's profile names; unknown (and said so) when it names
/// none or one this build does not know.
fn user_zone(name: Option<&str>) -> Zone {
    match name.filter(|z| !z.trim().is_empty()) {
        Some(name) => match parse_zone(name, "the user's timeZone from /rest/api/user/current") {
            Ok(tz) => Zone::Known(tz),
            Err(e) => {
                tracing::warn!(
                    "{e}; widening searches to cover every zone (set `time_zone` to avoid it)"
                );
                Zone::Unknown
            }
        },
        None => {
            tracing::warn!(
                "Confluence did not say the user's time zone; widening searches to cover every zone (set `time_zone` to avoid it)"
            );
            Zone::Unknown
        }
    }
}

#[async_trait]
impl Connector for ConfluenceConnector {
    fn kind(&self) -> &str {
        "confluence"
    }

    /// Checks the credentials (`/rest/api/user/current`) and the configured
    /// spaces, and returns every visible space as `spaces` (key + name).
    async fn validate(&self) -> Result<AvailableOptions> {
        let me = self.client.current_user().await?;
        if self.config.time_zone.is_none() {
            let _ = self.zone.set(user_zone(me.time_zone.as_deref()));
        }
        let visible = self.client.spaces(&[]).await?;
        spaces::check(visible.clone(), &self.config.spaces, &self.client)?;
        let choices = visible
            .into_iter()
            .map(|s| OptionChoice::new(s.key, s.name))
            .collect();
        Ok(AvailableOptions::default().with("spaces", choices))
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

impl LoadConnector for ConfluenceConnector {
    fn load(&self) -> ItemStream<'_> {
        self.items(TimeWindow::until(Utc::now()), None)
    }
}

impl PollConnector for ConfluenceConnector {
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.items(window, None)
    }
}

impl CheckpointedConnector for ConfluenceConnector {
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        match from.map(|c| c.decode::<ConfluenceCheckpoint>()).transpose() {
            Ok(from) => self.items(window, from),
            Err(e) => stream::iter(vec![Err(e)]).boxed(),
        }
    }
}

impl SlimConnector for ConfluenceConnector {
    fn slim(&self) -> SlimStream<'_> {
        slim::ids(self.reader(), self.config.spaces.clone())
    }
}
