//! # connector-sharepoint
//!
//! SharePoint Online as a source, through Microsoft Graph v1.0.
//!
//! - [`SharePointConnector`]: the connector; [`SharePointConfig`] what it
//!   syncs (sites by URL, libraries, folders, pages, permissions);
//!   [`SharePointAuth`] how it signs in (Entra ID app-only tokens).
//! - [`client`]: the Graph calls, over the core HTTP layer.
//! - [`model`]: the Graph payloads read, named as Graph names them.
//! - [`convert`]: a file, a site page, permissions → `Document` / `Access`.
//! - [`html`]: HTML (text web parts, `.html` files) → plain text.
//!
//! Each document library is read through its `driveItem` delta query; the
//! [`SharePointCheckpoint`] holds each library's `@odata.deltaLink` and the
//! `@odata.nextLink` of the one in progress.

pub mod client;
mod config;
mod connector;
pub mod convert;
pub mod html;
pub mod model;
mod sync;

pub use client::{DeltaStart, GraphClient, SharePointAuth, is_resync};
pub use config::{DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, GRAPH_SCOPE, SharePointConfig};
pub use connector::SharePointConnector;
pub use sync::{DriveCursor, SharePointCheckpoint};
