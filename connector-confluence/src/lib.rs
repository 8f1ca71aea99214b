//! # connector-confluence
//!
//! Confluence Cloud and Data Center as a source.
//!
//! - [`storage`]: storage format (Confluence's XHTML page body) → plain text.

pub mod storage;
