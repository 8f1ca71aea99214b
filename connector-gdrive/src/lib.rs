//! # connector-gdrive
//!
//! Google Drive as a source of the connector SDK, through the Drive API
//! v3: the files of a user's My Drive, of shared drives and under folders,
//! one document each, listed once and then followed through the changes
//! feed (`changes.getStartPageToken`, `changes.list`), resumable after any
//! page.
//!
//! - [`GoogleDriveConfig`]: what to sync, how to sign in
//!   ([`GoogleCredentials`]: a [`ServiceAccount`] with domain-wide
//!   delegation, or a user's [`UserOAuth`] refresh token) and the shared
//!   [`SourceOptions`](connector_core::options::SourceOptions).
//! - [`GoogleDriveConnector`]: the connector (load, poll, checkpointed
//!   with changes tokens, slim id listing).
//!
//! Google Docs are exported as Markdown (or plain text), Slides as text,
//! Sheets as `.xlsx` read sheet by sheet by the extraction crate (CSV of
//! the first sheet without it); PDF and Office files are downloaded for
//! the extraction crate; permissions become `Document::access`.
//!
//! ```no_run
//! use connector_core::checkpoint::FileCheckpointStore;
//! use connector_core::runner::{SyncMode, SyncRunner};
//! use connector_core::sink::JsonlSink;
//! use connector_gdrive::{GoogleDriveConfig, GoogleDriveConnector};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config: GoogleDriveConfig = serde_json::from_str(r#"{
//!     "credentials": {"service_account": {"key_path": "key.json", "subject": "admin@acme.com"}},
//!     "all_shared_drives": true
//! }"#)?;
//! let drive = GoogleDriveConnector::new(config)?;
//! let runner = SyncRunner::new("acme-drive", std::sync::Arc::new(FileCheckpointStore::open(".state")?));
//! let mut sink = JsonlSink::create("drive.jsonl")?;
//! let report = runner.run(&drive, &mut sink, SyncMode::Incremental).await?;
//! println!("{} documents", report.documents_processed);
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod checkpoint;
mod client;
mod config;
mod connector;
mod convert;
mod file;
mod model;
mod scope;
mod slim;
mod stream;

pub use config::{
    DEFAULT_API_URL, DEFAULT_TOKEN_URL, DRIVE_READONLY_SCOPE, DocsFormat, GoogleCredentials,
    GoogleDriveConfig, ServiceAccount, UserOAuth,
};
pub use connector::GoogleDriveConnector;
