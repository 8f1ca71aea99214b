//! # connector-confluence
//!
//! Confluence Cloud and Data Center as a source: every page and blog post
//! of the spaces in scope as a document — body text, space › ancestors
//! hierarchy, labels, authors, attachments and (optionally) footer
//! comments — fully listed or incrementally searched, resumable.
//!
//! - [`ConfluenceConnector`]: the connector; [`ConfluenceConfig`] what it
//!   syncs; [`ConfluenceAuth`] how it signs in.
//! - [`client`]: the REST calls (v2 listings, v1 content and CQL search).
//! - [`model`]: the REST payloads read, named as Confluence names them.
//! - [`convert`]: one page or blog post → one `Document`.
//! - [`cql`]: the change query: scope, window in the user's zone, order.
//! - [`storage`]: storage format (Confluence's XHTML page body) → plain text.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
mod config;
mod connector;
pub mod convert;
pub mod cql;
mod listing;
pub mod model;
mod search;
pub mod storage;

pub use client::{ConfluenceAuth, ConfluenceClient, ContentKind, SpaceInfo};
pub use config::{ConfluenceConfig, Deployment};
pub use connector::{ConfluenceCheckpoint, ConfluenceConnector};
pub use listing::{DC_PAGE_OVERLAP, ListingPosition};
pub use search::ChangesPosition;
