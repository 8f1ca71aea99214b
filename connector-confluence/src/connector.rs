//! [`ConfluenceConnector`]: the connector traits over [`ConfluenceClient`].

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use chrono_tz::Tz;
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, ItemStream, LoadConnector,
    OptionChoice, PollConnector, Result, SlimConnector, SlimStream, TimeWindow,
};

use crate::client::{ConfluenceAuth, ConfluenceClient};
use crate::config::ConfluenceConfig;
use crate::convert::Site;
use crate::cql;
use crate::listing::{self, ListingPosition, Reader};
use crate::search::{self, ChangesPosition};

/// Where a Confluence stream resumes: a position in the full listing (a
/// full sync) or in the change search (an incremental window).
///
/// ```
/// use connector_confluence::{ConfluenceCheckpoint, ContentKind, ListingPosition};
/// let cp = ConfluenceCheckpoint::Listing(ListingPosition {
///     space: 1, space_key: "OPS".into(), kind: ContentKind::BlogPost,
///     cursor: Some("/wiki/api/v2/spaces/2/blogposts?cursor=abc".into()), start: 0, last_id: Some("98".into()),
/// });
/// let json = serde_json::to_string(&cp).unwrap();
/// assert!(json.starts_with(r#"{"mode":"listing","space":1,"space_key":"OPS","kind":"blogpost""#), "{json}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ConfluenceCheckpoint {
    /// The next listing page of a full sync.
    Listing(ListingPosition),
    /// The last change delivered by a window search.
    Changes(ChangesPosition),
}

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
    config: ConfluenceConfig,
    site: Site,
    zone: Arc<OnceCell<Tz>>,
    names: Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
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
    /// configuration (URL, space keys, quota) without contacting Confluence.
    ///
    /// ```
    /// use connector_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceConnector};
    /// let bad = ConfluenceConnector::new(ConfluenceConfig::new("http://wiki.acme.com"), ConfluenceAuth::bearer("t"));
    /// assert!(bad.unwrap_err().to_string().contains("https://"));
    /// ```
    pub fn new(config: ConfluenceConfig, auth: ConfluenceAuth) -> Result<Self> {
        let config = config.validated()?;
        let client = ConfluenceClient::new(&config, auth)?;
        let zone = Arc::new(OnceCell::new());
        if let Some(tz) = config.time_zone {
            let _ = zone.set(tz);
        }
        Ok(Self {
            site: Site::new(
                config.web_url.as_deref().unwrap_or(&config.base_url),
                config.deployment,
            ),
            client,
            config,
            zone,
            names: Arc::default(),
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
    /// `/rest/api/user/current` (UTC when Confluence does not say).
    async fn zone(&self) -> Result<Tz> {
        self.zone
            .get_or_try_init(|| async {
                let me = self.client.current_user().await?;
                match me.time_zone.as_deref().filter(|z| !z.is_empty()) {
                    Some(name) => cql::parse_zone(name),
                    None => {
                        tracing::warn!(
                            "Confluence did not say the user's time zone; reading CQL dates as UTC"
                        );
                        Ok(chrono_tz::UTC)
                    }
                }
            })
            .await
            .copied()
    }

    fn reader(&self) -> Reader {
        Reader {
            client: self.client.clone(),
            site: self.site.clone(),
            page_size: self.config.page_size,
            search_page_size: self.config.search_page_size,
            blog_posts: self.config.blog_posts,
            footer_comments: self.config.footer_comments,
            archived: self.config.archived,
            attachment_max_bytes: self.config.attachment_max_bytes,
            names: self.names.clone(),
        }
    }

    fn items(&self, window: TimeWindow, from: Option<ConfluenceCheckpoint>) -> ItemStream<'static> {
        if window.is_full() {
            let from = match from {
                Some(ConfluenceCheckpoint::Listing(p)) => Some(p),
                _ => None,
            };
            return listing::documents(self.reader(), self.config.spaces.clone(), from, |p| {
                Checkpoint::new(&ConfluenceCheckpoint::Listing(p.clone()))
            });
        }
        let from = match from {
            Some(ConfluenceCheckpoint::Changes(p)) => p,
            _ => ChangesPosition::default(),
        };
        let this = self.clone();
        stream::once(async move {
            match this.zone().await {
                Ok(tz) => search::changes(
                    this.reader(),
                    this.config.spaces.clone(),
                    tz,
                    window,
                    from,
                    |p| Checkpoint::new(&ConfluenceCheckpoint::Changes(p.clone())),
                ),
                Err(e) => stream::iter(vec![Err(e)]).boxed(),
            }
        })
        .flatten()
        .boxed()
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
        if self.config.time_zone.is_none()
            && let Some(tz) = me.time_zone.as_deref().and_then(|z| z.parse::<Tz>().ok())
        {
            let _ = self.zone.set(tz);
        }
        let visible = self.client.spaces(&[]).await?;
        listing::check_spaces(visible.clone(), &self.config.spaces, &self.client)?;
        let choices = visible
            .into_iter()
            .map(|s| OptionChoice::new(s.key, s.name))
            .collect();
        Ok(AvailableOptions::default().with("spaces", choices))
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
        listing::ids(self.reader(), self.config.spaces.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_round_trip() {
        let changes = ConfluenceCheckpoint::Changes(ChangesPosition {
            after: Some(chrono::DateTime::<Utc>::UNIX_EPOCH),
            ids_at_after: vec!["1".into()],
        });
        let cp = Checkpoint::new(&changes).unwrap();
        assert_eq!(cp.0["mode"], "changes");
        assert_eq!(cp.decode::<ConfluenceCheckpoint>().unwrap(), changes);
        assert!(
            Checkpoint(serde_json::json!({"mode": "other"}))
                .decode::<ConfluenceCheckpoint>()
                .is_err()
        );
    }
}
