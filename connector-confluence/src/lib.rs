//! # connector-confluence
//!
//! Confluence Cloud and Data Center as a source: every page and blog post
//! of the spaces in scope as a document — body text, space › ancestors
//! hierarchy, labels, authors, attachments and (optionally) footer
//! comments — fully listed or incrementally searched, resumable.
//!
//! - [`ConfluenceConnector`]: the connector; [`ConfluenceConfig`] what it
//!   syncs (a serde shape a host stores as JSON or TOML); [`ConfluenceAuth`]
//!   how it signs in.
//! - [`client`]: the REST calls (v2 listings, v1 content and CQL search).
//! - [`model`]: the REST payloads read, named as Confluence names them.
//! - [`convert`]: one page or blog post → one `Document`.
//! - [`cql`]: the change query: scope, window in the user's zone, order.
//! - [`storage`]: storage format (Confluence's XHTML page body) → plain text.
//!
//! Every listing goes through core's pager (read-ahead, loop guards, the
//! offset progress check); comments, attachments and labels are read with
//! a cap per page, reported in the document's `truncated` metadata.
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use connector_confluence::{ConfluenceConfig, ConfluenceConnector};
//! use connector_core::LoadConnector;
//! use futures::StreamExt;
//!
//! let config: ConfluenceConfig = serde_json::from_value(serde_json::json!({
//!     "base_url": "https://acme.atlassian.net/wiki",
//!     "credentials": {"email": "me@acme.com", "api_token": "…"},
//!     "spaces": ["ENG"]
//! }))?;
//! let confluence = ConfluenceConnector::from_config(config)?;
//! let mut items = confluence.load();
//! while let Some(item) = items.next().await {
//!     println!("{:?}", item?);
//! }
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod checkpoint;
pub mod client;
mod config;
mod connector;
pub mod convert;
pub mod cql;
mod listing;
pub mod model;
mod people;
mod reader;
mod search;
mod slim;
mod spaces;
pub mod storage;

pub use checkpoint::{ConfluenceCheckpoint, ListingPosition};
pub use client::{ConfluenceAuth, ConfluenceClient, ContentKind, SpaceInfo};
pub use config::ConfluenceConfig;
pub use connector::ConfluenceConnector;
pub use connector_core::deployment::Deployment;
