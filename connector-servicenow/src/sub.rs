//! Capped sub-listings of one record (its journal, its attachments):
//! offset pages through core's pager, cut at a per-record cap.
//!
//! These listings are ordered by creation and only ever grow at the end,
//! so offset paging is stable here: a new row lands after every page
//! already read.

use connector_core::paging::{Capped, Page, PageCursor, Pager, collect_capped};
use connector_core::{Error, ErrorKind, Result};

use crate::client::{PageRequest, ServiceNowClient};
use crate::model::Row;

/// One sub-listing: rows of `table` matching `query`.
pub(crate) struct SubListing {
    /// Named in errors.
    pub(crate) what: String,
    pub(crate) table: &'static str,
    /// Another API than `/api/now/table/{table}`.
    pub(crate) path: Option<&'static str>,
    pub(crate) query: String,
    pub(crate) fields: &'static str,
}

/// Up to `cap` rows of `listing`, each turned into a `T` by `read` (rows it
/// cannot read are passed over), `page_size` a request.
pub(crate) async fn capped<T, R>(
    client: &ServiceNowClient,
    listing: SubListing,
    page_size: u32,
    cap: usize,
    read: R,
) -> Result<Capped<T>>
where
    T: Send + 'static,
    R: Fn(&Row) -> Option<(String, T)> + Send + Sync + Copy + 'static,
{
    // One more than the cap tells whether anything was cut.
    let limit = page_size.min(u32::try_from(cap.saturating_add(1)).unwrap_or(u32::MAX));
    let client = client.clone();
    let SubListing {
        what,
        table,
        path,
        query,
        fields,
    } = listing;
    let pager = Pager::new(what)
        .read_ahead(0)
        .ids(|(id, _): &(String, T)| Some(id.clone()));
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
                        format!("a {other:?} cannot continue a sub-listing"),
                    ));
                }
            };
            let page = client
                .page(&PageRequest {
                    table,
                    path,
                    query: &query,
                    fields: Some(fields),
                    display: "false",
                    limit,
                    offset,
                })
                .await?;
            let fetched = page.records.len() as u64;
            let rows: Vec<(String, T)> = page
                .records
                .iter()
                .filter_map(|raw| read(&Row(raw.decode().ok()?)))
                .collect();
            let end = offset.saturating_add(u64::from(limit));
            let more = match page.total {
                Some(total) => total > end,
                None => page.next_link || fetched >= u64::from(limit),
            };
            Ok(Page::new(rows, more.then_some(PageCursor::Offset(end))))
        }
    });
    let capped = collect_capped(pages, cap).await?;
    Ok(Capped {
        items: capped.items.into_iter().map(|(_, t)| t).collect(),
        truncated: capped.truncated,
    })
}
