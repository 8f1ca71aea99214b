//! Runnable examples for the connector SDK: the `sync` command line
//! (`examples/sync/`), a custom connector (`examples/custom_connector.rs`)
//! and benchmarks. The README below is compiled as a doc test, so its
//! library example stays correct.
#![doc = include_str!("../../README.md")]
// The README's links are relative to the repository, not to rustdoc items.
#![allow(rustdoc::broken_intra_doc_links)]

pub mod config_file;

/// The guides' code blocks are compiled too.
#[doc = include_str!("../../docs/http-and-credentials.md")]
#[doc = include_str!("../../docs/credentials.md")]
pub mod guides {}
