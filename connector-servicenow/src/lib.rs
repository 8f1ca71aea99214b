//! # connector-servicenow
//!
//! ServiceNow as a source for the connector SDK: knowledge articles,
//! incidents (with their comments and, on request, work notes), service
//! catalog items and any other table, one document per record, through the
//! Table API — keyset-paged on (`sys_updated_on`, `sys_id`), incremental
//! (windows on `sys_updated_on`) and resumable (a checkpoint after every
//! page).
//!
//! - [`ServiceNowConfig`]: what to sync and how to reach it (serde, so a
//!   host reads it from JSON or TOML); [`ServiceNowAuth`]: basic, OAuth
//!   (client credentials or password grant) or a token;
//!   [`ServiceNowConnector`]: the connector.
//! - Attachments (opt-in): listed per record, bytes up to the size cap,
//!   text through `connector-extract` — plain text, HTML, CSV, JSON and
//!   Markdown always; PDF, Office, OpenDocument, RTF and email with the
//!   `attachment-text` feature.
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use connector_core::LoadConnector;
//! use connector_servicenow::{ServiceNowConfig, ServiceNowConnector};
//! use futures::StreamExt;
//!
//! let config: ServiceNowConfig = serde_json::from_value(serde_json::json!({
//!     "instance": "acme",
//!     "credentials": {"client_id": "…", "client_secret": "…"},
//!     "tables": ["kb_knowledge"]
//! }))?;
//! let servicenow = ServiceNowConnector::new(config)?;
//! let mut items = servicenow.load();
//! while let Some(item) = items.next().await {
//!     println!("{:?}", item?);
//! }
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod attachments;
mod checkpoint;
mod client;
mod config;
mod connector;
mod convert;
mod journal;
mod listing;
mod model;
mod query;
mod stream;
mod sub;
mod tables;

pub use config::{DEFAULT_TABLES, ServiceNowAuth, ServiceNowConfig, TableSpec};
pub use connector::ServiceNowConnector;
