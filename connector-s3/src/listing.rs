//! Streaming `ListObjectsV2` through core's [`Pager`]: continuation tokens,
//! the next page fetched while this one downloads, a token repeated
//! anywhere in a prefix's listing or a page repeated under a fresh token
//! ends the listing with an error, and at most a few pages of keys are in
//! memory. Prefixes are listed one after another; the first error ends
//! the whole listing.

use std::sync::Arc;

use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};

use connector_core::paging::{Page, PageCursor, Pager, until_error};
use connector_core::{Error, ErrorKind, Result};

use crate::client::{Record, S3Api, record_key};

/// Pages listed ahead of the consumer.
const PAGES_AHEAD: usize = 2;

/// Empty pages in a row a listing may return before it counts as endless:
/// S3 may answer truncated pages without keys (a versioned bucket's delete
/// markers are skipped after the page is cut), so more than core's default.
const MAX_EMPTY_PAGES: u32 = 256;

/// Where a listing starts: prefix `index`, strictly after key `after`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListFrom {
    pub index: usize,
    pub after: Option<String>,
}

/// One listed entry and the index of the prefix it was listed under.
pub(crate) type Entry = (usize, Record);

/// The continuation token of a cursor the pager hands back.
fn token(cursor: Option<PageCursor>) -> Result<Option<String>> {
    match cursor {
        None => Ok(None),
        Some(PageCursor::Token(t)) => Ok(Some(t)),
        Some(other) => Err(Error::new(
            ErrorKind::Other,
            format!("an S3 listing cannot resume at {other:?}"),
        )),
    }
}

/// Every entry under `prefixes[from.index..]`, in key order within each
/// prefix, starting after `from.after`. A failed page ends the stream with
/// its error.
pub(crate) fn objects(
    api: S3Api,
    prefixes: Arc<Vec<String>>,
    from: ListFrom,
) -> impl Stream<Item = Result<Entry>> + Send + 'static {
    let listings = (from.index..prefixes.len()).map(move |index| {
        let prefix = prefixes[index].clone();
        let start_after = (index == from.index).then(|| from.after.clone()).flatten();
        prefix_listing(api.clone(), prefix, start_after)
            .map_ok(move |records| stream::iter(records.into_iter().map(move |r| Ok((index, r)))))
            .try_flatten()
    });
    until_error(stream::iter(listings).flatten())
}

/// The pages under one prefix, the first one after `start_after`.
fn prefix_listing(
    api: S3Api,
    prefix: String,
    start_after: Option<String>,
) -> BoxStream<'static, Result<Vec<Record>>> {
    let what = format!("listing `{prefix}` in bucket `{}`", api.bucket());
    Pager::new(what)
        .read_ahead(PAGES_AHEAD)
        .max_empty_pages(MAX_EMPTY_PAGES)
        .ids(|record: &Record| Some(record_key(record).to_owned()))
        .pages(None, move |cursor| {
            let api = api.clone();
            let prefix = prefix.clone();
            let start_after = start_after.clone();
            async move {
                let token = token(cursor)?;
                // `start-after` only opens the listing; the token carries it on.
                let start_after = start_after.filter(|_| token.is_none());
                let page = api.list_page(&prefix, None, token, start_after).await?;
                Ok(Page::new(
                    page.records,
                    page.next_token.map(PageCursor::Token),
                ))
            }
        })
        .map_ok(|fetched| fetched.items)
        .boxed()
}

/// The top-level prefixes of the bucket (`a/`, `b/`), at most `max`.
pub(crate) async fn top_prefixes(api: &S3Api, max: usize) -> Result<Vec<String>> {
    let what = format!("listing the top level of bucket `{}`", api.bucket());
    let api = api.clone();
    let pages = Pager::new(what)
        .read_ahead(0)
        .max_empty_pages(MAX_EMPTY_PAGES)
        .ids(|prefix: &String| Some(prefix.clone()))
        .pages(None, move |cursor| {
            let api = api.clone();
            async move {
                let page = api.list_page("", Some("/"), token(cursor)?, None).await?;
                Ok(Page::new(
                    page.common_prefixes,
                    page.next_token.map(PageCursor::Token),
                ))
            }
        });
    first(pages.map_ok(|f| f.items), max).await
}

/// The buckets these credentials can list, at most `max`.
pub(crate) async fn buckets(api: &S3Api, max: usize) -> Result<Vec<String>> {
    let what = format!("listing buckets at {}", api.endpoint_label());
    let api = api.clone();
    let pages = Pager::new(what)
        .read_ahead(0)
        .ids(|name: &String| Some(name.clone()))
        .pages(None, move |cursor| {
            let api = api.clone();
            async move { api.buckets_page(token(cursor)?).await }
        });
    first(pages.map_ok(|f| f.items), max).await
}

/// The first `max` items of a paged listing, without fetching pages past them.
async fn first(
    mut pages: impl Stream<Item = Result<Vec<String>>> + Unpin,
    max: usize,
) -> Result<Vec<String>> {
    let mut items = Vec::new();
    while items.len() < max
        && let Some(page) = pages.next().await
    {
        items.extend(page?);
    }
    items.truncate(max);
    Ok(items)
}
