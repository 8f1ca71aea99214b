//! A record's activity stream: its comments and work notes from
//! `sys_journal_field`, oldest first, through a capped sub-listing.

use chrono::{DateTime, Utc};
use connector_core::Result;
use connector_core::paging::Capped;

use crate::client::ServiceNowClient;
use crate::sub::{SubListing, capped};

/// One comment or work note.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// `comments` or `work_notes`.
    pub(crate) element: String,
    pub(crate) value: String,
    pub(crate) created: Option<DateTime<Utc>>,
    /// The author's user name.
    pub(crate) by: Option<String>,
}

/// Up to `cap` journal entries (`elements`, comma-separated) of record
/// `sys_id` in `table`.
pub(crate) async fn entries(
    client: &ServiceNowClient,
    table: &str,
    sys_id: &str,
    elements: &str,
    page_size: u32,
    cap: usize,
) -> Result<Capped<Entry>> {
    let listing = SubListing {
        what: format!("journal of {table} {sys_id}"),
        table: "sys_journal_field",
        path: None,
        query: format!(
            "name={table}^element_id={sys_id}^elementIN{elements}^ORDERBYsys_created_on^ORDERBYsys_id"
        ),
        fields: "sys_id,element,value,sys_created_on,sys_created_by",
    };
    capped(client, listing, page_size, cap, |row| {
        Some((
            row.sys_id()?.to_owned(),
            Entry {
                element: row.value("element")?.to_owned(),
                value: row.value("value")?.to_owned(),
                created: row.time("sys_created_on"),
                by: row.text("sys_created_by"),
            },
        ))
    })
    .await
}
