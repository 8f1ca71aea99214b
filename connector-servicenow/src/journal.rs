//! A record's activity stream: its comments and work notes from
//! `sys_journal_field`, oldest first, through a capped sub-listing.
//!
//! Journal entries are only ever added, and the listing is ordered by
//! creation, so offset paging is stable here: a new entry lands after
//! every page already read.

use chrono::{DateTime, Utc};
use connector_core::paging::{Capped, Page, PageCursor, Pager, collect_capped};
use connector_core::{Error, ErrorKind, Result};

use crate::client::{PageRequest, ServiceNowClient};
use crate::model::Row;

const JOURNAL_FIELDS: &str = "sys_id,element,value,sys_created_on,sys_created_by";

/// One comment or work note.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) sys_id: String,
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
    let query = format!(
        "name={table}^element_id={sys_id}^elementIN{elements}^ORDERBYsys_created_on^ORDERBYsys_id"
    );
    // One more than the cap tells whether anything was cut.
    let limit = page_size.min(u32::try_from(cap.saturating_add(1)).unwrap_or(u32::MAX));
    let client = client.clone();
    let pager = Pager::new(format!("journal of {table} {sys_id}"))
        .read_ahead(0)
        .ids(|e: &Entry| Some(e.sys_id.clone()));
    let pages = pager.pages(None, move |cursor| {
        let client = client.clone();
        let query = query.clone();
        async move {
            let offset = match cursor {
                None => 0,
                Some(PageCursor::Offset(n)) => n,
                Some(other) => {
                    return Err(Error::new(
                        ErrorKind::Other,
                        format!("a {other:?} cannot continue a journal listing"),
                    ));
                }
            };
            let page = client
                .page(&PageRequest {
                    table: "sys_journal_field",
                    query: &query,
                    fields: Some(JOURNAL_FIELDS),
                    display: "false",
                    limit,
                    offset,
                })
                .await?;
            let fetched = page.records.len() as u64;
            let entries: Vec<Entry> = page
                .records
                .iter()
                .filter_map(|raw| {
                    let row: Row = Row(raw.decode().ok()?);
                    Some(Entry {
                        sys_id: row.sys_id()?.to_owned(),
                        element: row.value("element")?.to_owned(),
                        value: row.value("value")?.to_owned(),
                        created: row.time("sys_created_on"),
                        by: row.text("sys_created_by"),
                    })
                })
                .collect();
            let end = offset.saturating_add(u64::from(limit));
            let more = match page.total {
                Some(total) => total > end,
                None => page.next_link || fetched >= u64::from(limit),
            };
            Ok(Page::new(entries, more.then_some(PageCursor::Offset(end))))
        }
    });
    collect_capped(pages, cap).await
}
