//! # connector-core
//!
//! The traits, document model and machinery every connector of the SDK shares.
//!
//! - [`document`]: [`Document`], the one shape every source object becomes.
//! - [`connector`]: the [`Connector`] capability traits (`Load`, `Poll`,
//!   `Checkpointed`, `Slim`), all usable as trait objects.
//! - [`error`]: the one typed [`Error`].

pub mod connector;
pub mod document;
pub mod error;

pub use connector::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, DocumentFailure, Item,
    ItemStream, LoadConnector, OptionChoice, PollConnector, SlimConnector, SlimDocument,
    SlimStream, TimeWindow,
};
pub use document::{Access, Attachment, Document, MetadataValue, Section};
pub use error::{Error, ErrorKind, Result};
