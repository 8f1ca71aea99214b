//! A record's activity stream: its comments and work notes from
//! `sys_journal_field`, oldest first, through a capped sub-listing.

use chrono::{DateTime, Utc};
use connector_core::Result;
use std::collections::HashMap;

use connector_core::paging::{Capped, ordered};
use futures::StreamExt;

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

/// Records whose journals one batched listing reads: their sys_ids go into
/// the query (`element_idIN…`), so the URL stays a few KB.
pub(crate) const BATCH: usize = 50;

/// The journals of `records` (sys_ids of one page of `table`), read in
/// batches of [`BATCH`] records — one listing per batch instead of one
/// per record. Each journal is capped at `cap` entries; a batch holding
/// more than `cap` entries per record on average is not read here (its
/// records are `None`, read one by one by [`entries`]), so memory stays
/// bounded by `cap × BATCH` entries.
pub(crate) async fn batch(
    client: &ServiceNowClient,
    table: &str,
    records: &[String],
    elements: &str,
    page_size: u32,
    cap: usize,
    concurrency: usize,
) -> Vec<Option<Capped<Entry>>> {
    let chunks: Vec<&[String]> = records.chunks(BATCH).collect();
    let read = ordered(chunks, concurrency, |chunk| async move {
        (
            chunk,
            one_batch(client, table, chunk, elements, page_size, cap).await,
        )
    });
    futures::pin_mut!(read);
    let mut out: Vec<Option<Capped<Entry>>> = Vec::with_capacity(records.len());
    while let Some((chunk, journals)) = read.next().await {
        match journals {
            Some(mut by_record) => {
                for id in chunk {
                    let mut entries = by_record.remove(id).unwrap_or_default();
                    // The listing is ordered by record, then creation.
                    let truncated = entries.len() > cap;
                    entries.truncate(cap);
                    out.push(Some(Capped {
                        items: entries,
                        truncated,
                    }));
                }
            }
            None => out.extend(chunk.iter().map(|_| None)),
        }
    }
    out
}

/// The journals of one batch by record, or `None` when the batch is too
/// large to read here or failed.
async fn one_batch(
    client: &ServiceNowClient,
    table: &str,
    chunk: &[String],
    elements: &str,
    page_size: u32,
    cap: usize,
) -> Option<HashMap<String, Vec<Entry>>> {
    let listing = SubListing {
        what: format!("journals of {} {table} records", chunk.len()),
        table: "sys_journal_field",
        path: None,
        query: format!(
            "name={table}^element_idIN{}^elementIN{elements}^ORDERBYelement_id^ORDERBYsys_created_on^ORDERBYsys_id",
            chunk.join(",")
        ),
        fields: "sys_id,element_id,element,value,sys_created_on,sys_created_by",
    };
    let total_cap = cap.saturating_mul(chunk.len());
    let read = capped(client, listing, page_size, total_cap, |row| {
        Some((
            row.sys_id()?.to_owned(),
            (
                row.value("element_id")?.to_owned(),
                Entry {
                    element: row.value("element")?.to_owned(),
                    value: row.value("value")?.to_owned(),
                    created: row.time("sys_created_on"),
                    by: row.text("sys_created_by"),
                },
            ),
        ))
    })
    .await;
    match read {
        Ok(all) if !all.truncated => {
            let mut by_record: HashMap<String, Vec<Entry>> = HashMap::new();
            for (record, entry) in all.items {
                by_record.entry(record).or_default().push(entry);
            }
            Some(by_record)
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!("{e}; reading these journals one record at a time");
            None
        }
    }
}
