//! A table's records as core [`Pager`] pages, keyset-paged (see
//! [`query`](crate::query)), with the page shrunk when the instance
//! cancels a page for running too long.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use connector_core::paging::{Page, PageCursor, PageStream, Pager};
use connector_core::{Error, ErrorKind, Result, TimeWindow};

use crate::client::{PageRequest, ServiceNowClient, TablePage};
use crate::model::Listed;
use crate::query::{Cursor, Order, page_query};

/// Pages a listing may hold with nothing readable in a row: access
/// controls can hide long runs of rows, and the offset moves on each time.
const MAX_EMPTY_PAGES: u32 = 1_000;

/// One table listing's settings.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    /// The table.
    pub(crate) table: String,
    /// The encoded filter every page carries.
    pub(crate) filter: Option<String>,
    /// `sysparm_fields`.
    pub(crate) fields: Option<String>,
    /// `sysparm_display_value`.
    pub(crate) display: &'static str,
    /// The window on `sys_updated_on` (`None`: every record).
    pub(crate) window: Option<TimeWindow>,
    /// The order, and so the cursor's shape.
    pub(crate) order: Order,
}

/// The page size of a listing, shared by its fetches: halved when the
/// instance cancels a page, so the rest of the sync asks for less.
#[derive(Debug, Clone)]
pub(crate) struct PageSize(Arc<AtomicU32>);

impl PageSize {
    pub(crate) fn new(size: u32) -> Self {
        Self(Arc::new(AtomicU32::new(size.max(1))))
    }

    pub(crate) fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// Halve the size; `false` when it is already one record.
    fn shrink(&self) -> bool {
        let now = self.get();
        if now <= 1 {
            return false;
        }
        self.0.store((now / 2).max(1), Ordering::Relaxed);
        true
    }
}

/// A cursor as the pager carries it.
pub(crate) fn to_page_cursor(cursor: &Cursor) -> Option<PageCursor> {
    serde_json::to_string(cursor).ok().map(PageCursor::Token)
}

/// The pager's cursor back as ours.
pub(crate) fn from_page_cursor(cursor: &PageCursor) -> Result<Cursor> {
    match cursor {
        PageCursor::Token(t) => serde_json::from_str(t).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("a stored ServiceNow page position does not read: {e}"),
            )
        }),
        other => Err(Error::new(
            ErrorKind::Other,
            format!("a {other:?} cannot continue a ServiceNow listing"),
        )),
    }
}

/// The pages of `listing` from `first` on.
pub(crate) fn pages(
    client: ServiceNowClient,
    listing: Arc<Listing>,
    size: PageSize,
    first: Option<Cursor>,
) -> PageStream<Listed> {
    let what = format!("ServiceNow table {}", listing.table);
    // Two pages ahead: the next request never waits for a slow moment of
    // the consumer (a checkpoint written to disk, a large article), only
    // for the page before it, which a keyset position needs.
    let pager = Pager::new(what)
        .read_ahead(2)
        .max_empty_pages(MAX_EMPTY_PAGES)
        .ids(|r: &Listed| r.sys_id().map(str::to_owned));
    let first = first.as_ref().and_then(to_page_cursor);
    pager.pages(first, move |at| {
        let client = client.clone();
        let listing = listing.clone();
        let size = size.clone();
        async move {
            let cursor = at.as_ref().map(from_page_cursor).transpose()?;
            fetch(&client, &listing, &size, cursor).await
        }
    })
}

/// One page at `cursor`, asked again smaller while the instance cancels it.
async fn fetch(
    client: &ServiceNowClient,
    listing: &Listing,
    size: &PageSize,
    cursor: Option<Cursor>,
) -> Result<Page<Listed>> {
    let query = page_query(
        listing.filter.as_deref(),
        listing.window.as_ref(),
        listing.order,
        cursor.as_ref(),
    );
    let skip = cursor.as_ref().map_or(0, |c| c.skip);
    loop {
        let limit = size.get();
        let request = PageRequest {
            table: &listing.table,
            path: None,
            query: &query,
            fields: listing.fields.as_deref(),
            display: listing.display,
            limit,
            offset: skip,
        };
        let outcome = client.page(&request).await;
        let reason = match &outcome {
            Ok(TablePage {
                cancelled: Some(reason),
                ..
            }) => reason.clone(),
            Err(e) if is_cancellation(e) => e.message().to_owned(),
            _ => return outcome.map(|page| next_page(listing, cursor.as_ref(), limit, page)),
        };
        if !size.shrink() {
            return Err(Error::new(
                ErrorKind::Transient,
                format!(
                    "ServiceNow cancelled even a one-record page of table {}: {reason}",
                    listing.table
                ),
            ));
        }
        tracing::warn!(
            table = %listing.table,
            from = limit,
            to = size.get(),
            "the instance cancelled a page ({reason}); asking for smaller pages"
        );
    }
}

/// A cancelled transaction that did not come back as a `200`: a `500`
/// naming it, or a body cut off mid-way.
fn is_cancellation(e: &Error) -> bool {
    let m = e.message();
    m.contains("Transaction cancelled")
        || m.contains("maximum execution time exceeded")
        || (e.kind() == ErrorKind::Decode && m.contains("cut short"))
}

/// The page's records and where the next one starts.
fn next_page(listing: &Listing, at: Option<&Cursor>, limit: u32, page: TablePage) -> Page<Listed> {
    let with_time = listing.order == Order::Updated;
    let records: Vec<Listed> = page.records.into_iter().map(Listed::new).collect();
    let skip = at.map_or(0, |c| c.skip);
    let consumed = skip.saturating_add(u64::from(limit));
    // Access controls drop rows after the query ran, so a short page does
    // not mean the end: the count and the Link header say whether more
    // rows follow; without either, only a full page does.
    let more = match page.total {
        Some(total) => total > consumed,
        None => page.next_link || records.len() >= limit as usize,
    };
    if !more {
        return Page::last(records);
    }
    let next = match records.iter().rev().find_map(|r| r.cursor(with_time)) {
        Some(after) => after,
        // Nothing readable to continue after: the same place, further in.
        None => Cursor {
            skip: consumed,
            ..at.cloned().unwrap_or_default()
        },
    };
    let next = to_page_cursor(&next);
    Page::new(records, next)
}
