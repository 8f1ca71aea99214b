//! # connector-sharepoint
//!
//! SharePoint Online as a source of the connector SDK, through Microsoft
//! Graph v1.0: every file of the chosen sites' document libraries and every
//! modern site page, one document each, incrementally and resumably.
//!
//! - [`SharePointConfig`]: what to sync (sites by URL, libraries, folders,
//!   pages, permissions), the app's [`ClientSecret`] and the shared
//!   [`SourceOptions`](connector_core::options::SourceOptions); from code
//!   or from JSON/TOML.
//! - [`SharePointConnector`]: the connector (load, poll, checkpointed with
//!   the `driveItem` delta, slim id listing).
//! - [`html_to_text`]: the HTML reader used for text web parts and `.html`
//!   files; [`file_id`] and [`page_id`]: the document ids.
//!
//! ```no_run
//! use connector_core::runner::{SyncMode, SyncRunner};
//! use connector_core::checkpoint::FileCheckpointStore;
//! use connector_core::sink::JsonlSink;
//! use connector_sharepoint::{SharePointConfig, SharePointConnector};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config: SharePointConfig = serde_json::from_str(r#"{
//!     "tenant": "contoso.onmicrosoft.com",
//!     "sites": ["https://contoso.sharepoint.com/sites/Eng"],
//!     "permissions": true,
//!     "credentials": {"client_id": "6731de76-14a6-49ae-97bc-6eba6914391e", "client_secret": "…"}
//! }"#)?;
//! let sharepoint = SharePointConnector::new(config)?;
//! let runner = SyncRunner::new("eng-site", std::sync::Arc::new(FileCheckpointStore::open(".state")?));
//! let mut sink = JsonlSink::create("sharepoint.jsonl")?;
//! let report = runner.run(&sharepoint, &mut sink, SyncMode::Incremental).await?;
//! println!("{} documents", report.documents_processed);
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod checkpoint;
mod client;
mod config;
mod connector;
mod convert;
mod documents;
mod file;
mod folders;
mod html;
mod library;
mod model;
mod pages;
mod sites;
mod slim;

pub use config::{
    ClientSecret, DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, GRAPH_SCOPE, SharePointConfig,
};
pub use connector::SharePointConnector;
pub use convert::{file_id, page_id};
pub use html::html_to_text;
