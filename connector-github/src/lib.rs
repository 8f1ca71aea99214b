//! # connector-github
//!
//! GitHub (and GitHub Enterprise Server) as a source for the connector
//! SDK, for chosen repositories — by name or by owner:
//!
//! - issues and pull requests, one document each, with the body and every
//!   comment (and a pull request's review comments) as sections in the
//!   order written, incremental by `since` on `updated_at`;
//! - discussions (GraphQL, opt-in) with their comments and replies;
//! - the documentation files of the default branch, incremental by
//!   comparing commits (renames and removals reported as deletions).
//!
//! Resumable (a checkpoint after every page), within GitHub's rate limits
//! (the budget headers pace requests, secondary limits are waited out,
//! unchanged listings come back `304`), signed in with a personal access
//! token or as a GitHub App installation.
//!
//! - [`GitHubConfig`]: what to sync and how to reach it (serde, so a host
//!   reads it from JSON or TOML); [`GitHubAppConfig`]: an App
//!   installation; [`GitHubConnector`]: the connector.
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use connector_core::LoadConnector;
//! use connector_github::{GitHubConfig, GitHubConnector};
//! use futures::StreamExt;
//!
//! let config: GitHubConfig = serde_json::from_value(serde_json::json!({
//!     "token": std::env::var("GITHUB_TOKEN").unwrap_or_default(),
//!     "repositories": ["acme/widgets"]
//! }))?;
//! let github = GitHubConnector::new(config)?;
//! let mut items = github.load();
//! while let Some(item) = items.next().await {
//!     println!("{:?}", item?);
//! }
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod app;
mod checkpoint;
mod client;
mod config;
mod connector;
mod convert;
mod discussions;
mod files;
mod listing;
mod model;
mod repos;
mod stream;

pub use app::GitHubAppConfig;
pub use config::{DEFAULT_BASE_URL, DEFAULT_FILE_GLOBS, GitHubConfig};
pub use connector::GitHubConnector;
