//! Sub-listings of one parent (an issue's comments, a page's attachments, a
//! file's permissions): capped per parent, and run for many parents at once
//! with their order kept.

use std::future::Future;

use futures::stream::{Stream, StreamExt};

use super::PageStream;
use crate::error::Result;

/// The items of a sub-listing, cut at a cap.
#[derive(Debug, Clone, PartialEq)]
pub struct Capped<T> {
    /// The items, at most the cap.
    pub items: Vec<T>,
    /// Whether the listing had more than the cap (the rest was not fetched).
    pub truncated: bool,
}

impl<T> Capped<T> {
    /// Everything, nothing cut.
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            truncated: false,
        }
    }
}

/// Read `pages` until the listing ends or `cap` items are in hand; stops
/// fetching at the cap, so a server claiming a trillion comments costs
/// `cap` items of memory, not the trillion.
///
/// ```
/// use connector_core::paging::{collect_capped, Page, PageCursor, Pager};
/// # async fn demo() -> connector_core::Result<()> {
/// let comments = Pager::new("comments").pages(None, |cursor| async move {
///     let start = match cursor { Some(PageCursor::Offset(n)) => n, _ => 0 };
///     Ok(Page::from_offset((start..start + 50).collect::<Vec<u64>>(), start, u64::MAX))
/// });
/// let capped = collect_capped(comments, 120).await?;
/// assert_eq!((capped.items.len(), capped.truncated), (120, true));
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
pub async fn collect_capped<T: Send + 'static>(
    mut pages: PageStream<T>,
    cap: usize,
) -> Result<Capped<T>> {
    let mut items = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page?;
        let room = cap.saturating_sub(items.len());
        let more = page.next.is_some();
        if page.items.len() > room || (page.items.len() == room && more) {
            items.extend(page.items.into_iter().take(room));
            return Ok(Capped {
                items,
                truncated: true,
            });
        }
        items.extend(page.items);
    }
    Ok(Capped::all(items))
}

/// Run `work` for each of `inputs` with up to `concurrency` at a time,
/// yielding the results in input order (the parents' order is the listing
/// order a checkpoint relies on).
///
/// ```
/// use connector_core::paging::ordered;
/// use futures::StreamExt;
/// # async fn demo() {
/// let out: Vec<u32> = ordered(vec![3u32, 1, 2], 2, |n| async move {
///     tokio::time::sleep(std::time::Duration::from_millis(u64::from(n))).await;
///     n * 10
/// })
/// .collect()
/// .await;
/// assert_eq!(out, [30, 10, 20]);
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo());
/// ```
pub fn ordered<I, F, Fut>(
    inputs: I,
    concurrency: usize,
    work: F,
) -> impl Stream<Item = Fut::Output> + Send
where
    I: IntoIterator,
    I::IntoIter: Send,
    F: FnMut(I::Item) -> Fut + Send,
    Fut: Future + Send,
    Fut::Output: Send,
{
    futures::stream::iter(inputs)
        .map(work)
        .buffered(concurrency.max(1))
}

/// `stream` ended after its first error: the error is the last item, and
/// nothing the stream would have yielded after it comes out (a connector's
/// items after a failed listing would be read as the whole source).
///
/// ```
/// use connector_core::paging::until_error;
/// use connector_core::{Error, ErrorKind, Result};
/// use futures::StreamExt;
/// # async fn demo() {
/// let items: Vec<Result<u32>> = vec![Ok(1), Err(Error::new(ErrorKind::Decode, "bad page")), Ok(2)];
/// let out: Vec<Result<u32>> = until_error(futures::stream::iter(items)).collect().await;
/// assert_eq!(out.len(), 2);
/// assert!(out[1].is_err());
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo());
/// ```
pub fn until_error<T>(stream: impl Stream<Item = Result<T>>) -> impl Stream<Item = Result<T>> {
    stream.scan(false, |failed, item| {
        let out = (!*failed).then(|| {
            *failed = item.is_err();
            item
        });
        futures::future::ready(out)
    })
}
