//! # connector-jira
//!
//! Jira Cloud and Data Center as a source for the connector SDK: every
//! issue a user can see, with its description and comments, as one
//! document — incrementally (JQL on `updated`, in the user's time zone) and
//! resumably (a checkpoint after every search page).
//!
//! - [`JiraConfig`]: what to sync and how to reach it (serde, so a host
//!   reads it from JSON or TOML); [`JiraConnector`]: the connector.
//! - [`adf`]: Atlassian Document Format (Cloud's rich text) → plain text.
//! - [`wiki`]: Jira wiki markup (Data Center's rich text) → plain text.
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use connector_core::LoadConnector;
//! use connector_jira::{JiraConfig, JiraConnector};
//! use futures::StreamExt;
//!
//! let config: JiraConfig = serde_json::from_value(serde_json::json!({
//!     "base_url": "https://acme.atlassian.net",
//!     "credentials": {"email": "me@acme.com", "api_token": "…"},
//!     "projects": ["ENG"]
//! }))?;
//! let jira = JiraConnector::new(config)?;
//! let mut items = jira.load();
//! while let Some(item) = items.next().await {
//!     println!("{:?}", item?);
//! }
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod adf;
mod checkpoint;
mod client;
mod comments;
mod config;
mod connector;
mod convert;
mod issues;
mod jql;
mod listing;
mod model;
pub mod wiki;

pub use config::JiraConfig;
pub use connector::JiraConnector;
