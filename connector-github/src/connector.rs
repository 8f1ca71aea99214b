//! [`GitHubConnector`]: the connector traits over the REST client.

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

use crate::checkpoint::Position;
use crate::client::GitHubClient;
use crate::config::{DEFAULT_CONCURRENCY, GitHubConfig};
use crate::convert::Site;
use crate::files::FileRules;
use crate::stream::{self as items, Reader};

/// GitHub (or a GitHub Enterprise Server) as a source: the issues and pull
/// requests of the configured repositories, with their comments, as
/// documents, incrementally and resumably.
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::Connector;
/// use connector_github::{GitHubConfig, GitHubConnector};
///
/// let token = std::env::var("GITHUB_TOKEN").unwrap_or_default();
/// let config = GitHubConfig::new().owners(["acme"]).token(token);
/// let github = GitHubConnector::new(config)?;
/// for repo in github.validate().await?.get("repositories") {
///     println!("{}", repo.key);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct GitHubConnector {
    reader: Arc<Reader>,
}

impl std::fmt::Debug for GitHubConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubConnector")
            .field("config", &self.reader.config)
            .finish_non_exhaustive()
    }
}

impl GitHubConnector {
    /// A connector for `config`, signing in with its `token`. Checks the
    /// configuration without contacting GitHub.
    pub fn new(config: GitHubConfig) -> Result<Self> {
        let config = config.validated()?;
        let credentials = config.provider()?;
        Self::with_credentials(config, credentials)
    }

    /// A connector for `config` signing in with any credential provider
    /// (an installation token's, say); `config.token` is ignored.
    pub fn with_credentials(config: GitHubConfig, credentials: SharedCredentials) -> Result<Self> {
        let config = config.validated()?;
        let client = GitHubClient::new(&config, credentials)?;
        let reader = Reader {
            site: Site::new(client.base_url()),
            filter: config.filter()?,
            rules: FileRules {
                globs: crate::config::file_globs(&config.file_globs)?,
                max_bytes: config.max_file_bytes,
            },
            concurrency: config.options.concurrency_or(DEFAULT_CONCURRENCY),
            readers: Default::default(),
            client,
            config,
        };
        Ok(Self {
            reader: Arc::new(reader),
        })
    }

    /// The HTTP client of REST requests: its counters (requests, retries,
    /// throttled time) and rate control. GraphQL requests (discussions) go
    /// through a client of their own, under GraphQL's separate budget;
    /// [`Connector::metrics`] counts both.
    pub fn http(&self) -> &HttpClient {
        self.reader.client.http()
    }

    /// Answers that came back `304 Not Modified` to a conditional request
    /// (the owners' repository listings, unchanged comparisons): GitHub
    /// does not count them against the rate limit.
    pub fn not_modified(&self) -> u64 {
        self.reader.client.not_modified()
    }

    fn items(&self, window: TimeWindow, from: Position) -> ItemStream<'static> {
        items::items(self.reader.clone(), window, from)
    }
}

#[async_trait]
impl Connector for GitHubConnector {
    fn kind(&self) -> &str {
        "github"
    }

    /// Checks the token (`GET /user`; an installation token, which has no
    /// user, passes on to the next step) and lists the repositories in
    /// scope as `repositories` (`owner/name`). Refused credentials name
    /// the base URL; a named repository that does not exist or cannot be
    /// read names its `repositories[i]` entry.
    async fn validate(&self) -> Result<AvailableOptions> {
        let client = &self.reader.client;
        match client
            .http()
            .get("/user")
            .fetch_json::<serde_json::Value>()
            .await
        {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Forbidden => {}
            Err(e) => return Err(client.explain("the signed-in user", e)),
        }
        let repos = items::scope(&self.reader).await?;
        let choices = repos
            .into_iter()
            .map(|r| OptionChoice::new(r.full_name.clone(), r.full_name))
            .collect();
        Ok(AvailableOptions::default().with("repositories", choices))
    }

    fn metrics(&self) -> Option<SourceMetrics> {
        Some(self.reader.client.counters())
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

impl LoadConnector for GitHubConnector {
    fn load(&self) -> ItemStream<'_> {
        self.items(TimeWindow::until(Utc::now()), Position::default())
    }
}

impl PollConnector for GitHubConnector {
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.items(window, Position::default())
    }
}

impl CheckpointedConnector for GitHubConnector {
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        match from.map(|c| c.decode::<Position>()).transpose() {
            Ok(from) => self.items(window, from.unwrap_or_default()),
            Err(e) => stream::iter(vec![Err(e.context("the stored GitHub checkpoint"))]).boxed(),
        }
    }
}

impl SlimConnector for GitHubConnector {
    fn slim(&self) -> SlimStream<'_> {
        items::slim(self.reader.clone())
    }
}
