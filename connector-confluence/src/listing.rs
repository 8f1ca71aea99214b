//! The full listing: every page and blog post of every space in scope,
//! listing by listing (space × kind), through core's pager, with a
//! checkpoint after each listing page.
//!
//! Cloud lists through REST v2 (`/api/v2/spaces/{id}/pages|blogposts`,
//! `sort=id`, cursor links) and fills what v2 does not list — ancestors'
//! titles, labels, attachments, people's names — with one CQL search per
//! listing page (`id in (…)`). Data Center lists through REST v1
//! (`/rest/api/content?spaceKey=…&type=…&start=…`) with everything expanded.
//!
//! A [`ListingPosition`] names the next listing page to fetch (space, kind,
//! cursor or `start`) and the last id delivered. Resuming fetches that page
//! and skips what the last id covers: on Cloud the listing is sorted by id
//! and cursors continue exactly, so only the first page after a resume skips
//! the ids up to it; on Data Center, whose offsets shift when content is
//! added or removed mid-sync, each page starts a few items before the end
//! of the previous one and the items up to the last id are dropped.
//!
//! The pager fetches [`LISTING_AHEAD`] pages ahead of the one being
//! finished, and two pages are finished at once (in order), so a Cloud
//! page's enrichment search runs alongside the next page's work.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future;
use futures::stream::{self, BoxStream, StreamExt};

use connector_core::json::RawRecord;
use connector_core::paging::{Fetched, PageCursor, Pager, collect_capped};
use connector_core::{Checkpoint, Item, ItemStream, Result};

use crate::checkpoint::{ConfluenceCheckpoint, ListingPosition};
use crate::client::{
    ContentKind, DC_PAGE_OVERLAP, ENRICH_EXPAND, SpaceInfo, V1_EXPAND, space_error,
};
use crate::convert::ContentRecord;
use crate::cql;
use crate::model::{SearchResult, V1Content, V2Content};
use crate::reader::Reader;
use crate::spaces;

/// Listing pages fetched ahead of the one being finished.
const LISTING_AHEAD: usize = 2;

/// Listing pages finished at once (each one's enrichment, bodies,
/// comments), their items kept in order.
const PAGES_AT_ONCE: usize = 2;

/// Every page and blog post in scope, resuming at `from`; each listing
/// page is followed by a checkpoint (none after the last one).
pub(crate) fn documents(
    reader: Arc<Reader>,
    keys: Vec<String>,
    from: Option<ListingPosition>,
) -> ItemStream<'static> {
    let resolve = {
        let reader = reader.clone();
        async move { spaces::resolve(&reader.client, &keys).await }
    };
    let items = stream::once(resolve)
        .map(move |spaces| match spaces {
            Err(e) => stream::iter(vec![Err(e)]).boxed(),
            Ok(spaces) => {
                let listings = spaces::listings(&spaces, &reader.kinds(), from.clone());
                let afters: Vec<Option<ListingPosition>> = listings
                    .iter()
                    .skip(1)
                    .cloned()
                    .map(Some)
                    .chain([None])
                    .collect();
                let reader = reader.clone();
                stream::iter(listings.into_iter().zip(afters))
                    .map(move |(position, after)| {
                        let space = spaces[position.space].clone();
                        listing(reader.clone(), space, position, after)
                    })
                    .flatten()
                    .boxed()
            }
        })
        .flatten();
    until_error(items)
}

/// The items of `stream` up to and including its first error.
pub(crate) fn until_error<T: Send + 'static>(
    stream: impl futures::Stream<Item = Result<T>> + Send + 'static,
) -> BoxStream<'static, Result<T>> {
    stream
        .scan(false, |ended, item| {
            if *ended {
                return future::ready(None);
            }
            *ended = item.is_err();
            future::ready(Some(item))
        })
        .boxed()
}

/// One listing (a space's pages, or its blog posts) from `position`;
/// `after` is where the next listing starts.
fn listing(
    reader: Arc<Reader>,
    space: SpaceInfo,
    position: ListingPosition,
    after: Option<ListingPosition>,
) -> BoxStream<'static, Result<Item>> {
    let kind = position.kind;
    let first = if reader.cloud() {
        position.cursor.clone().map(PageCursor::Url)
    } else {
        (position.start > 0).then_some(PageCursor::Offset(position.start))
    };
    let fetcher = reader.clone();
    let fetch_space = space.clone();
    let pages = Pager::new(format!(
        "the {} listing of space {}",
        kind.as_str(),
        space.key
    ))
    .read_ahead(LISTING_AHEAD)
    .ids(|r: &RawRecord| r.string_field("id"))
    .pages(first, move |cursor| {
        let (reader, space) = (fetcher.clone(), fetch_space.clone());
        async move { fetch(&reader, &space, kind, cursor).await }
    });
    let progress = Progress {
        resuming: position.last_id.is_some(),
        cloud: reader.cloud(),
        position,
        after,
    };
    pages
        .scan(progress, |progress, page| {
            future::ready(Some(page.map(|page| progress.take(page))))
        })
        .map(move |taken| {
            let (reader, space) = (reader.clone(), space.clone());
            async move {
                let (records, after) = match taken {
                    Ok(taken) => taken,
                    Err(e) => return vec![Err(e)],
                };
                let mut items = page_items(&reader, &space, kind, records).await;
                if let Some(after) = after
                    && !items.iter().any(Result::is_err)
                {
                    let checkpoint = Checkpoint::new(&ConfluenceCheckpoint::Listing(after));
                    items.push(checkpoint.map(Item::Checkpoint));
                }
                items
            }
        })
        .buffered(PAGES_AT_ONCE)
        .flat_map(stream::iter)
        .boxed()
}

/// One listing page at `cursor`: v2 with bodies on Cloud, v1 with every
/// expansion on Data Center (pages overlapping by [`DC_PAGE_OVERLAP`]).
async fn fetch(
    reader: &Reader,
    space: &SpaceInfo,
    kind: ContentKind,
    cursor: Option<PageCursor>,
) -> Result<connector_core::paging::Page<RawRecord>> {
    let page = if reader.cloud() {
        let Some(space_id) = space.id.as_deref() else {
            return Err(connector_core::Error::new(
                connector_core::ErrorKind::Decode,
                format!("Confluence did not give the id of space {}", space.key),
            ));
        };
        let c = &reader.client;
        c.list_v2(
            space_id,
            kind,
            cursor.as_ref(),
            reader.page_size,
            true,
            reader.archived,
        )
        .await
    } else {
        let c = &reader.client;
        c.list_v1(
            &space.key,
            kind,
            cursor.as_ref(),
            reader.page_size,
            Some(V1_EXPAND),
            reader.archived,
            DC_PAGE_OVERLAP,
        )
        .await
    };
    page.map_err(|e| space_error(e, &space.key))
}

/// A listing's state between pages: what was delivered, where it resumes.
struct Progress {
    position: ListingPosition,
    /// Cloud, right after a resume: the first page may repeat what the
    /// checkpoint's last id covers.
    resuming: bool,
    cloud: bool,
    after: Option<ListingPosition>,
}

impl Progress {
    /// The records of `page` not delivered yet, and where to resume after it.
    fn take(&mut self, page: Fetched<RawRecord>) -> (Vec<RawRecord>, Option<ListingPosition>) {
        let last = self.position.last_id.clone();
        let mut records = page.items;
        if self.cloud {
            if self.resuming
                && let Some(last) = &last
            {
                records.retain(|r| {
                    r.string_field("id")
                        .is_none_or(|id| !at_or_before(&id, last))
                });
            }
            self.resuming = false;
        } else if let Some(last) = &last {
            // The overlap with the previous page, up to the last id delivered.
            let seen = records
                .iter()
                .position(|r| r.string_field("id").as_deref() == Some(last.as_str()));
            if let Some(seen) = seen {
                records.drain(..=seen);
            }
        }
        if let Some(id) = records.iter().rev().find_map(|r| r.string_field("id")) {
            self.position.last_id = Some(id);
        }
        let after = match page.next {
            Some(PageCursor::Url(link)) => {
                self.position.cursor = Some(link);
                Some(self.position.clone())
            }
            Some(PageCursor::Offset(start)) => {
                self.position.start = start;
                Some(self.position.clone())
            }
            Some(PageCursor::Token(_)) | None => self.after.clone(),
        };
        (records, after)
    }
}

/// Whether `id` comes at or before `last` in id order (numeric when both are).
fn at_or_before(id: &str, last: &str) -> bool {
    match (id.parse::<u64>(), last.parse::<u64>()) {
        (Ok(a), Ok(b)) => a <= b,
        _ => id <= last,
    }
}

/// Whether a raw item is current content (or archived, when asked for).
pub(crate) fn live_status(raw: &RawRecord, archived: bool) -> bool {
    match raw.string_field("status").as_deref() {
        None | Some("current") => true,
        Some("archived") => archived,
        Some(_) => false,
    }
}

/// A listing page's records → items (documents, failures, deletions; an
/// `Err` for a failure of the whole source).
async fn page_items(
    reader: &Arc<Reader>,
    space: &SpaceInfo,
    kind: ContentKind,
    records: Vec<RawRecord>,
) -> Vec<Result<Item>> {
    let mut enrichment = HashMap::new();
    if reader.cloud() {
        let ids: Vec<String> = records
            .iter()
            .filter(|raw| live_status(raw, reader.archived))
            .filter_map(|raw| raw.string_field("id"))
            .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
            .collect();
        match enrich(reader, &ids).await {
            Ok(found) => enrichment = found,
            Err(e) if e.ends_stream() => return vec![Err(e)],
            Err(e) => tracing::warn!(
                space = %space.key,
                error = %e,
                "could not read labels, ancestors and attachments of a listing page; documents go without them"
            ),
        }
    }
    let mut entries = Vec::with_capacity(records.len());
    for raw in &records {
        let record = if reader.cloud() {
            raw.decode::<V2Content>().map(|c| {
                let mut record = ContentRecord::from_v2(c, kind, Some(space));
                if let Some(v1) = enrichment.remove(&record.id) {
                    record.enrich(&v1);
                }
                record
            })
        } else {
            raw.decode::<V1Content>().map(|c| {
                let mut record = ContentRecord::from_v1(c);
                record.kind.get_or_insert(kind);
                if record.space_key.is_none() {
                    record.space_key = Some(space.key.clone());
                    record.space_name = Some(space.name.clone());
                }
                record
            })
        };
        entries.push(match record {
            Ok(record) => reader.entry(record),
            Err(reason) => reader.malformed(kind.as_str(), raw, &reason),
        });
    }
    reader.finish_all(entries).await
}

/// Cloud: the v1 view of `ids` (ancestors, labels, attachments, names)
/// through one CQL search (`id in (…)`), its pages capped at the ids asked.
async fn enrich(reader: &Reader, ids: &[String]) -> Result<HashMap<String, V1Content>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let cql: Arc<str> = cql::ids_cql(ids).into();
    let limit = (ids.len() as u32).min(250);
    let client = reader.client.clone();
    // Bounded by the ids asked for and the page cap: no id check needed
    // (it would parse every result twice).
    let pages = Pager::new("the enrichment search")
        .read_ahead(0)
        .max_pages((ids.len() as u64).div_ceil(u64::from(limit)) + 2)
        .pages(None, move |cursor| {
            let (client, cql) = (client.clone(), cql.clone());
            async move {
                client
                    .search(&cql, cursor.as_ref(), limit, ENRICH_EXPAND)
                    .await
            }
        });
    let found = collect_capped(pages, ids.len()).await?;
    Ok(found
        .items
        .iter()
        .filter_map(|raw| raw.decode::<SearchResult>().ok())
        .map(|r| (r.content.id.clone(), r.content))
        .collect())
}
