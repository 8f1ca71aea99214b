//! [`GoogleDriveConnector`]: the connector traits over the Drive client.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::{self, StreamExt};

use connector_core::credentials::SharedCredentials;
use connector_core::http::HttpClient;
use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, Error, ItemStream,
    LoadConnector, OptionChoice, PollConnector, Result, SlimConnector, SlimStream, SourceMetrics,
    TimeWindow,
};

use crate::checkpoint::DriveCheckpoint;
use crate::client::{DriveClient, explain};
use crate::config::GoogleDriveConfig;
use crate::file::Ctx;
use crate::scope::{Scope, resolve};
use crate::{auth, slim, stream as docs};

/// Google Drive as a source: My Drive, shared drives and folders, listed
/// once and then followed through the changes feed; Google Docs, Sheets
/// and Slides exported, other files downloaded for extraction; permissions
/// as access.
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::Connector;
/// use connector_gdrive::{GoogleCredentials, GoogleDriveConfig, GoogleDriveConnector, ServiceAccount};
///
/// let config = GoogleDriveConfig::new(GoogleCredentials::ServiceAccount(
///     ServiceAccount::from_file("key.json", Some("admin@acme.com".into())),
/// ))
/// .shared_drive("Engineering");
/// let drive = GoogleDriveConnector::new(config)?;
/// for choice in drive.validate().await?.get("shared_drives") {
///     println!("{} — {}", choice.key, choice.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct GoogleDriveConnector {
    ctx: Arc<Ctx>,
}

impl std::fmt::Debug for GoogleDriveConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleDriveConnector")
            .field("config", &self.ctx.config)
            .finish_non_exhaustive()
    }
}

impl GoogleDriveConnector {
    /// A connector for `config`, signing in with its `credentials`. Checks
    /// the configuration and the key without contacting Google; errors
    /// name the field.
    pub fn new(config: GoogleDriveConfig) -> Result<Self> {
        let config = config.validated()?;
        let credentials = config.credentials.as_ref().ok_or_else(|| {
            Error::config(
                "credentials is missing: give a service account key (credentials.service_account) or an OAuth client and refresh token (credentials.oauth)",
            )
        })?;
        let provider = auth::provider(credentials, config.token_url.as_deref())?;
        Self::build(config, provider)
    }

    /// A connector for `config` whose tokens come from `credentials` (any
    /// provider yielding `Bearer …` values with the `drive.readonly` scope);
    /// the configuration's `credentials` are not used.
    pub fn with_credentials(
        config: GoogleDriveConfig,
        credentials: SharedCredentials,
    ) -> Result<Self> {
        Self::build(config.validated()?, credentials)
    }

    fn build(config: GoogleDriveConfig, credentials: SharedCredentials) -> Result<Self> {
        let client = DriveClient::new(&config, credentials)?;
        Ok(Self {
            ctx: Ctx::new(client, config),
        })
    }

    /// The configuration in force (normalized).
    pub fn config(&self) -> &GoogleDriveConfig {
        &self.ctx.config
    }

    /// The HTTP client (its counters: requests, retries, throttled time).
    pub fn http(&self) -> &HttpClient {
        self.ctx.client.http()
    }

    fn items(&self, window: TimeWindow, from: DriveCheckpoint) -> ItemStream<'static> {
        docs::documents(self.ctx.clone(), window, from)
    }
}

#[async_trait]
impl Connector for GoogleDriveConnector {
    fn kind(&self) -> &str {
        "gdrive"
    }

    /// Signs in, resolves the configured scopes and lists the shared
    /// drives the user is a member of (`"shared_drives"`: key = id) and the
    /// resolved scopes (`"scopes"`). A refused key, a missing delegation, a
    /// missing drive or folder is a typed error in one line.
    async fn validate(&self) -> Result<AvailableOptions> {
        let scopes = resolve(&self.ctx.client, &self.ctx.config).await?;
        let mut drives = Vec::new();
        let mut pages = self.ctx.client.shared_drives();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| explain(e, "the shared drive list"))?;
            for d in page.items.into_iter().flatten() {
                let name = d.name.clone().unwrap_or_else(|| d.id.clone());
                drives.push(OptionChoice::new(d.id, name));
            }
        }
        let scopes = scopes
            .iter()
            .map(|s: &Scope| OptionChoice::new(s.key(), s.label()))
            .collect();
        Ok(AvailableOptions::default()
            .with("shared_drives", drives)
            .with("scopes", scopes))
    }

    fn metrics(&self) -> Option<SourceMetrics> {
        Some(self.ctx.client.http().counters())
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

impl LoadConnector for GoogleDriveConnector {
    fn load(&self) -> ItemStream<'_> {
        self.items(TimeWindow::until(Utc::now()), DriveCheckpoint::default())
    }
}

impl PollConnector for GoogleDriveConnector {
    /// Files modified in `window` (a `modifiedTime` query), then the
    /// changes made while they were listed.
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.items(window, DriveCheckpoint::default())
    }
}

impl CheckpointedConnector for GoogleDriveConnector {
    /// Resume from a checkpoint this connector yielded: each scope goes on
    /// with its listing or its changes token; scopes without state start
    /// with a listing of `window`.
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        match from.map(|c| c.decode::<DriveCheckpoint>()).transpose() {
            Ok(from) => self.items(window, from.unwrap_or_default()),
            Err(e) => stream::iter(vec![Err(e)]).boxed(),
        }
    }

    /// Changes tokens continue from sync to sync.
    fn checkpoint_continues(&self) -> bool {
        true
    }

    /// The changes feed reports removed, trashed and moved-out files.
    fn reports_deletions(&self) -> bool {
        true
    }
}

impl SlimConnector for GoogleDriveConnector {
    /// Every file id in scope.
    fn slim(&self) -> SlimStream<'_> {
        slim::ids(self.ctx.clone())
    }
}
