//! # connector-jira
//!
//! Jira Cloud and Data Center as a source.
//!
//! - [`JiraConnector`]: the connector; [`JiraConfig`] what it syncs;
//!   [`JiraAuth`] how it signs in.
//! - [`client`]: the REST calls, over the core HTTP layer.
//! - [`adf`]: Atlassian Document Format (Cloud's rich text) → plain text.
//! - [`model`]: the REST payloads read, named as Jira names them.
//! - [`convert`]: one issue with its comments → one `Document`.
//! - [`jql`]: the search query: scope, time window in the user's zone, order.
//! - [`wiki`]: Jira wiki markup (Data Center's rich text) → plain text.

pub mod adf;
pub mod client;
mod config;
mod connector;
pub mod convert;
pub mod jql;
pub mod model;
mod search;
pub mod wiki;

pub use client::{Cursor, JiraAuth, JiraClient, SearchPage};
pub use config::{Deployment, JiraConfig};
pub use connector::JiraConnector;
pub use search::JiraCheckpoint;
