//! An issue's comments: the page inlined in the search result, or — when
//! that page is not all of them — every page of the comment endpoint, cut
//! at the configured cap without fetching past it.

use connector_core::Result;
use connector_core::paging::{Capped, Pager, collect_capped};

use crate::client::JiraClient;
use crate::model::PageOfComments;

/// The comments of issue `key`, whose search result inlined `first`, at
/// most `cap` of them.
pub(crate) async fn comments(
    client: &JiraClient,
    key: &str,
    first: Option<PageOfComments>,
    page_size: u32,
    cap: usize,
) -> Result<Capped<crate::model::Comment>> {
    let Some(first) = first else {
        return Ok(Capped::all(Vec::new()));
    };
    if first.start_at == 0 && first.comments.len() as u64 >= first.total {
        // The search result holds them all: no further request.
        let mut items = first.comments;
        let truncated = items.len() > cap;
        items.truncate(cap);
        return Ok(Capped { items, truncated });
    }
    let client = client.clone();
    let owned_key = key.to_owned();
    // Pages beyond the cap are never requested; the page cap is a second
    // guard against a server whose pages do not add up.
    let max_pages = (cap as u64).div_ceil(u64::from(page_size)) + 2;
    let pages = Pager::new(format!("comments of {key}"))
        .read_ahead(0)
        .max_pages(max_pages)
        .ids(|c: &crate::model::Comment| (!c.id.is_empty()).then(|| c.id.clone()))
        .pages(None, move |cursor| {
            let client = client.clone();
            let key = owned_key.clone();
            async move { client.comments(&key, cursor.as_ref(), page_size).await }
        });
    collect_capped(pages, cap).await
}
