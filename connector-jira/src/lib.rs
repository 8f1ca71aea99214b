//! # connector-jira
//!
//! Jira Cloud and Data Center as a source.
//!
//! - [`adf`]: Atlassian Document Format (Cloud's rich text) → plain text.
//! - [`model`]: the REST payloads read, named as Jira names them.
//! - [`convert`]: one issue with its comments → one `Document`.
//! - [`jql`]: the search query: scope, time window in the user's zone, order.
//! - [`wiki`]: Jira wiki markup (Data Center's rich text) → plain text.

pub mod adf;
pub mod convert;
pub mod jql;
pub mod model;
pub mod wiki;
