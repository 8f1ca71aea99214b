//! The full listing: every page and blog post of every space in scope,
//! space by space, one listing page at a time, with a checkpoint after each
//! page; and the slim listing of ids for deletion detection.
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
//! added or removed mid-sync, each page starts [`DC_PAGE_OVERLAP`] items
//! before the end of the previous one and the items up to the last id are
//! dropped.
//!
//! The listing runs in a background task, up to [`LISTING_AHEAD`] pages
//! ahead of the page being converted; on Cloud each page's enrichment search
//! runs alongside the next listing request.

use std::collections::HashMap;

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use connector_core::{DocumentFailure, Error, ErrorKind, Item, Result, SlimDocument, SlimStream};

use crate::client::{
    ConfluenceClient, ContentKind, ENRICH_EXPAND, ListPage, SpaceInfo, V1_EXPAND, space_error,
};
use crate::config::Deployment;
use crate::convert::{CommentRecord, ContentRecord, Site, record_to_document};
use crate::cql;
use crate::model::{V1Content, V2Content};

/// Data Center pages by offset: each page starts this many items before the
/// end of the previous one, and the last id delivered drops the repeats.
pub const DC_PAGE_OVERLAP: u64 = 5;

/// Listing pages at most, as the last guard against a server that loops.
const MAX_PAGES: u32 = 10_000_000;

/// Where a full listing resumes: the next listing page to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingPosition {
    /// Index of the space in the sorted list of spaces in scope.
    pub space: usize,
    /// Its key, to find it again if the list changed.
    pub space_key: String,
    /// Pages, then blog posts.
    pub kind: ContentKind,
    /// Cloud: the link of the next v2 page (`None`: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Data Center: the `start` of the next page.
    #[serde(default)]
    pub start: u64,
    /// The last content id delivered in this space and kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_id: Option<String>,
}

/// What a stream reads from and how.
#[derive(Clone)]
pub(crate) struct Reader {
    pub client: ConfluenceClient,
    pub site: Site,
    pub page_size: u32,
    pub search_page_size: u32,
    pub blog_posts: bool,
    pub footer_comments: bool,
    pub archived: bool,
    pub attachment_max_bytes: Option<u64>,
    /// Cloud account id → display name, for comment authors (bounded).
    pub names: std::sync::Arc<std::sync::Mutex<HashMap<String, String>>>,
}

/// Account names remembered at most (the cache is emptied when full).
const MAX_NAMES: usize = 10_000;

impl Reader {
    pub(crate) fn kinds(&self) -> Vec<ContentKind> {
        if self.blog_posts {
            vec![ContentKind::Page, ContentKind::BlogPost]
        } else {
            vec![ContentKind::Page]
        }
    }

    fn cloud(&self) -> bool {
        self.client.deployment() == Deployment::Cloud
    }

    /// Fill what a record still lacks — the body when the answer had none,
    /// attachments past the expanded ones, footer comments when enabled —
    /// and make the document. `Err` only for failures of the whole source.
    pub(crate) async fn finish(&self, mut record: ContentRecord) -> Result<Item> {
        let kind = record.kind.unwrap_or(ContentKind::Page);
        let filled = match self.fill(&mut record, kind).await {
            Ok(()) => self.document(&record).await,
            Err(e) => Err(e),
        };
        match filled {
            Ok(doc) => Ok(Item::from(doc)),
            Err(e) if is_fatal(&e) => Err(e),
            Err(e) => Ok(Item::Failure(DocumentFailure::new(
                self.site.document_id(&record.id),
                format!(
                    "{} {} ({:?}) could not be read in full: {e}",
                    kind.as_str(),
                    record.id,
                    record.title
                ),
            ))),
        }
    }

    /// The document, with attachment bytes when asked for.
    async fn document(&self, record: &ContentRecord) -> Result<connector_core::Document> {
        let mut doc = record_to_document(&self.site, record);
        let Some(cap) = self.attachment_max_bytes else {
            return Ok(doc);
        };
        for (meta, attachment) in record.attachments.iter().zip(doc.attachments.iter_mut()) {
            let (Some(download), Some(size)) = (&meta.download, meta.size) else {
                continue;
            };
            if size > cap {
                continue;
            }
            let bytes = self
                .client
                .attachment(download, cap)
                .await
                .map_err(|e| e.context(format_args!("downloading attachment {}", meta.name)))?;
            attachment.bytes = Some(bytes);
        }
        Ok(doc)
    }

    async fn fill(&self, record: &mut ContentRecord, kind: ContentKind) -> Result<()> {
        if record.body.is_none() {
            record.body = if self.cloud() {
                let c = self.client.content_v2(kind, &record.id).await?;
                c.body.and_then(|b| b.storage).and_then(|s| s.value)
            } else {
                let raw = self.client.content_v1(&record.id).await?;
                serde_json::from_value::<V1Content>(raw)
                    .ok()
                    .and_then(|c| c.body)
                    .and_then(|b| b.storage)
                    .and_then(|s| s.value)
            };
            if record.body.is_none() {
                return Err(Error::new(
                    ErrorKind::Decode,
                    "Confluence returned no storage-format body",
                ));
            }
        }
        if let Some(next) = record.more_attachments.take() {
            let rest = self.client.rest_of_v1_list(next).await?;
            record.attachments.extend(
                rest.iter()
                    .filter(|a| {
                        a.get("status")
                            .and_then(Value::as_str)
                            .is_none_or(|s| s == "current")
                    })
                    .filter_map(crate::convert::AttachmentRecord::from_v1),
            );
        }
        if self.footer_comments {
            record.comments = if self.cloud() {
                let mut comments: Vec<CommentRecord> = self
                    .client
                    .footer_comments_v2(kind, &record.id)
                    .await?
                    .into_iter()
                    .filter_map(CommentRecord::from_v2)
                    .collect();
                self.name_authors(&mut comments).await;
                comments
            } else {
                self.client
                    .footer_comments_v1(&record.id)
                    .await?
                    .into_iter()
                    .filter_map(CommentRecord::from_v1)
                    .collect()
            };
        }
        Ok(())
    }

    /// Cloud comments name their authors by account id: replace the ids by
    /// display names (one bulk lookup for the ids not seen before). Best
    /// effort: an id stays when the lookup fails.
    async fn name_authors(&self, comments: &mut [CommentRecord]) {
        let unknown: Vec<String> = {
            let Ok(names) = self.names.lock() else {
                return;
            };
            let mut unknown: Vec<String> = comments
                .iter()
                .filter_map(|c| c.author.clone())
                .filter(|id| !names.contains_key(id))
                .collect();
            unknown.sort();
            unknown.dedup();
            unknown
        };
        if !unknown.is_empty() {
            match self.client.user_names(&unknown).await {
                Ok(found) => {
                    if let Ok(mut names) = self.names.lock() {
                        if names.len() + found.len() > MAX_NAMES {
                            names.clear();
                        }
                        names.extend(found);
                    }
                }
                Err(e) => tracing::debug!(error = %e, "could not look up comment authors"),
            }
        }
        if let Ok(names) = self.names.lock() {
            for comment in comments {
                if let Some(name) = comment.author.as_ref().and_then(|id| names.get(id)) {
                    comment.author = Some(name.clone());
                }
            }
        }
    }

    /// Cloud: the v1 view of `ids` (ancestors, labels, attachments, names)
    /// through one CQL search, following its pages.
    async fn enrichment(&self, ids: &[String]) -> Result<HashMap<String, V1Content>> {
        let mut found = HashMap::new();
        if ids.is_empty() {
            return Ok(found);
        }
        let cql = cql::ids_cql(ids);
        let limit = (ids.len() as u32).min(250);
        let mut next: Option<String> = None;
        for _ in 0..1000 {
            let page = self
                .client
                .search(&cql, next.as_deref(), limit, ENRICH_EXPAND)
                .await?;
            let fetched = page.results.len();
            for result in page.results {
                let raw = match result {
                    Value::Object(mut wrapper) => match wrapper.remove("content") {
                        Some(content) => content,
                        None => Value::Object(wrapper),
                    },
                    other => other,
                };
                if let Ok(c) = serde_json::from_value::<V1Content>(raw) {
                    found.insert(c.id.clone(), c);
                }
            }
            match page.links.next {
                Some(link) if fetched > 0 && Some(&link) != next.as_ref() => next = Some(link),
                _ => break,
            }
        }
        Ok(found)
    }
}

/// Errors that mean the whole source is unusable, not just one document.
pub(crate) fn is_fatal(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Auth | ErrorKind::RateLimited | ErrorKind::Cancelled
    )
}

/// The spaces in scope, sorted by key: the configured keys (each must be
/// visible), or every space the user can see.
pub(crate) async fn resolve_spaces(
    client: &ConfluenceClient,
    keys: &[String],
) -> Result<Vec<SpaceInfo>> {
    let spaces = client.spaces(keys).await?;
    check_spaces(spaces, keys, client)
}

/// `spaces` narrowed to `keys` (each must be there), sorted by key.
pub(crate) fn check_spaces(
    mut spaces: Vec<SpaceInfo>,
    keys: &[String],
    client: &ConfluenceClient,
) -> Result<Vec<SpaceInfo>> {
    for key in keys {
        if !spaces.iter().any(|s| &s.key == key) {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "space {key} does not exist or is not visible to this user at {}",
                    client.http().base_url()
                ),
            ));
        }
    }
    if !keys.is_empty() {
        spaces.retain(|s| keys.contains(&s.key));
    }
    spaces.sort_by(|a, b| a.key.cmp(&b.key));
    spaces.dedup_by(|a, b| a.key == b.key);
    Ok(spaces)
}

/// Listing pages fetched ahead of the one being converted: the listing
/// (and, on Cloud, each page's enrichment search) runs in the background,
/// at most this many pages ahead, so memory stays bounded.
const LISTING_AHEAD: usize = 2;

/// A spawned task, aborted when dropped (a stream dropped mid-sync leaves
/// nothing running).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the background listing sends.
enum Listing {
    /// A listing page.
    Page(Box<Listed>),
    /// The listing ended with a failure of the whole source.
    Failed(Error),
    /// Every page was listed.
    Done,
}

/// A listing page as listed, its enrichment on the way.
struct Listed {
    space: SpaceInfo,
    kind: ContentKind,
    fetched: Fetched,
    /// Where to resume once this page is delivered.
    after: Option<ListingPosition>,
    enrichment: Option<AbortOnDrop<Result<HashMap<String, V1Content>>>>,
}

struct State {
    reader: Reader,
    keys: Vec<String>,
    from: Option<ListingPosition>,
    started: bool,
    rx: Option<tokio::sync::mpsc::Receiver<Listing>>,
    producer: Option<AbortOnDrop<()>>,
}

/// Every page and blog post in scope, resuming at `from`; each listing page
/// is followed by a checkpoint made by `checkpoint`.
pub(crate) fn documents(
    reader: Reader,
    keys: Vec<String>,
    from: Option<ListingPosition>,
    checkpoint: fn(&ListingPosition) -> Result<connector_core::Checkpoint>,
) -> connector_core::ItemStream<'static> {
    let state = State {
        reader,
        keys,
        from,
        started: false,
        rx: None,
        producer: None,
    };
    stream::unfold(Some(state), move |state| async move {
        let mut state = state?;
        match step(&mut state).await {
            Ok(Some((mut items, after))) => {
                // A failure of the whole source inside the page ends the stream there.
                if let Some(i) = items.iter().position(Result::is_err) {
                    items.truncate(i + 1);
                    return Some((stream::iter(items), None));
                }
                // After the last page there is nothing left to point to.
                if let Some(p) = &after {
                    items.push(checkpoint(p).map(Item::Checkpoint));
                }
                Some((stream::iter(items), Some(state)))
            }
            Ok(None) => None,
            Err(e) => Some((stream::iter(vec![Err(e)]), None)),
        }
    })
    .flatten()
    .boxed()
}

/// Where to start: the checkpoint's position, found again by key.
fn start_position(spaces: &[SpaceInfo], from: Option<ListingPosition>) -> Option<ListingPosition> {
    let first = |i: usize| {
        spaces.get(i).map(|s| ListingPosition {
            space: i,
            space_key: s.key.clone(),
            kind: ContentKind::Page,
            cursor: None,
            start: 0,
            last_id: None,
        })
    };
    let Some(from) = from else {
        return first(0);
    };
    match spaces.iter().position(|s| s.key == from.space_key) {
        Some(i) => Some(ListingPosition { space: i, ..from }),
        // The space is gone from scope: go on with the next key after it.
        None => {
            let i = spaces.iter().position(|s| s.key > from.space_key)?;
            first(i)
        }
    }
}

type Step = (Vec<Result<Item>>, Option<ListingPosition>);

/// One listing page: its items and where to resume after them, or `None`
/// when the listing is done.
async fn step(state: &mut State) -> Result<Option<Step>> {
    if !state.started {
        state.started = true;
        let spaces = resolve_spaces(&state.reader.client, &state.keys).await?;
        let Some(start) = start_position(&spaces, state.from.take()) else {
            return Ok(None);
        };
        let (tx, rx) = tokio::sync::mpsc::channel(LISTING_AHEAD);
        let producer = tokio::spawn(produce(state.reader.clone(), spaces, start, tx));
        state.rx = Some(rx);
        state.producer = Some(AbortOnDrop(producer));
    }
    let Some(rx) = state.rx.as_mut() else {
        return Ok(None);
    };
    let listed = match rx.recv().await {
        Some(Listing::Page(listed)) => listed,
        Some(Listing::Done) => return Ok(None),
        Some(Listing::Failed(e)) => return Err(e),
        None => {
            return Err(Error::new(
                ErrorKind::Other,
                "the background listing stopped unexpectedly",
            ));
        }
    };
    let Listed {
        space,
        kind,
        mut fetched,
        after,
        enrichment,
    } = *listed;
    if let Some(mut task) = enrichment {
        match (&mut task.0).await {
            Ok(Ok(found)) => fetched.enrichment = found,
            Ok(Err(e)) if is_fatal(&e) => return Err(e),
            Ok(Err(e)) => tracing::warn!(
                space = %space.key,
                error = %e,
                "could not read labels, ancestors and attachments of a listing page; documents go without them"
            ),
            Err(e) => tracing::warn!(space = %space.key, error = %e, "enrichment task failed"),
        }
    }
    let items = process(&state.reader, &space, kind, fetched).await;
    Ok(Some((items, after)))
}

/// The background listing: fetch listing pages from `position` on, start
/// each Cloud page's enrichment, and send them in order.
async fn produce(
    reader: Reader,
    spaces: Vec<SpaceInfo>,
    mut position: ListingPosition,
    tx: tokio::sync::mpsc::Sender<Listing>,
) {
    // Only the first page after a resume can hold what the checkpoint
    // covers: later cursors continue exactly where the previous page ended.
    let mut resuming = position.last_id.is_some();
    for _ in 0..MAX_PAGES {
        let Some(space) = spaces.get(position.space).cloned() else {
            let _ = tx.send(Listing::Done).await;
            return;
        };
        let fetched = match fetch(&reader, &space, &position, resuming).await {
            Ok(fetched) => fetched,
            Err(e) => {
                let _ = tx.send(Listing::Failed(e)).await;
                return;
            }
        };
        resuming = false;
        let after = match fetched.next.clone() {
            Some(next) => Some(next),
            None => next_kind_or_space(&reader, &spaces, &position),
        };
        let enrichment = reader.cloud().then(|| {
            let ids: Vec<String> = fetched
                .items
                .iter()
                .filter(|raw| live_status(raw, reader.archived))
                .filter_map(raw_id)
                .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
                .collect();
            let reader = reader.clone();
            AbortOnDrop(tokio::spawn(async move { reader.enrichment(&ids).await }))
        });
        let listed = Listed {
            space,
            kind: position.kind,
            fetched,
            after: after.clone(),
            enrichment,
        };
        if tx.send(Listing::Page(Box::new(listed))).await.is_err() {
            return; // the stream was dropped
        }
        match after {
            Some(next) => position = next,
            None => {
                let _ = tx.send(Listing::Done).await;
                return;
            }
        }
    }
    let _ = tx
        .send(Listing::Failed(Error::new(
            ErrorKind::Http,
            format!("listing returned more than {MAX_PAGES} pages; stopping"),
        )))
        .await;
}

fn next_kind_or_space(
    reader: &Reader,
    spaces: &[SpaceInfo],
    position: &ListingPosition,
) -> Option<ListingPosition> {
    if position.kind == ContentKind::Page && reader.blog_posts {
        return Some(ListingPosition {
            kind: ContentKind::BlogPost,
            cursor: None,
            start: 0,
            last_id: None,
            ..position.clone()
        });
    }
    let i = position.space + 1;
    spaces.get(i).map(|s| ListingPosition {
        space: i,
        space_key: s.key.clone(),
        kind: ContentKind::Page,
        cursor: None,
        start: 0,
        last_id: None,
    })
}

fn raw_id(raw: &Value) -> Option<String> {
    match raw.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether `id` comes at or before `last` in id order (numeric when both are).
fn at_or_before(id: &str, last: &str) -> bool {
    match (id.parse::<u64>(), last.parse::<u64>()) {
        (Ok(a), Ok(b)) => a <= b,
        _ => id <= last,
    }
}

/// A listing page as fetched: the items not yet delivered, what the Cloud
/// enrichment found, and the position of the next page in this space and kind.
struct Fetched {
    items: Vec<Value>,
    enrichment: HashMap<String, V1Content>,
    next: Option<ListingPosition>,
}

/// Fetch the listing page at `position` (the Cloud enrichment comes apart).
async fn fetch(
    reader: &Reader,
    space: &SpaceInfo,
    position: &ListingPosition,
    resuming: bool,
) -> Result<Fetched> {
    if reader.cloud() {
        cloud_fetch(reader, space, position, resuming).await
    } else {
        dc_fetch(reader, space, position).await
    }
}

async fn cloud_fetch(
    reader: &Reader,
    space: &SpaceInfo,
    position: &ListingPosition,
    resuming: bool,
) -> Result<Fetched> {
    let Some(space_id) = space.id.as_deref() else {
        return Err(Error::new(
            ErrorKind::Decode,
            format!("Confluence did not give the id of space {}", space.key),
        ));
    };
    let page = reader
        .client
        .list_v2(
            space_id,
            position.kind,
            position.cursor.as_deref(),
            reader.page_size,
            true,
            reader.archived,
        )
        .await
        .map_err(|e| space_error(e, &space.key))?;
    let next_cursor = next_link(&page, position);
    let mut last_id = position.last_id.clone();
    let mut items = Vec::with_capacity(page.results.len());
    for raw in page.results {
        let id = raw_id(&raw);
        if let (true, Some(id), Some(last)) = (resuming, &id, &position.last_id)
            && at_or_before(id, last)
        {
            continue; // delivered before the checkpoint
        }
        if let Some(id) = id {
            last_id = Some(id);
        }
        items.push(raw);
    }
    let next = next_cursor.map(|cursor| ListingPosition {
        cursor: Some(cursor),
        last_id,
        ..position.clone()
    });
    Ok(Fetched {
        items,
        enrichment: HashMap::new(),
        next,
    })
}

fn live_status(raw: &Value, archived: bool) -> bool {
    match raw.get("status").and_then(Value::as_str) {
        None | Some("current") => true,
        Some("archived") => archived,
        Some(_) => false,
    }
}

/// The next v2 link, refusing one that repeats the current page.
fn next_link(page: &ListPage, position: &ListingPosition) -> Option<String> {
    let next = page.next.clone()?;
    if page.results.is_empty() || position.cursor.as_deref() == Some(next.as_str()) {
        tracing::warn!("listing returned an empty page or the same cursor again; moving on");
        return None;
    }
    Some(next)
}

async fn dc_fetch(
    reader: &Reader,
    space: &SpaceInfo,
    position: &ListingPosition,
) -> Result<Fetched> {
    let page = reader
        .client
        .list_v1(
            &space.key,
            position.kind,
            position.start,
            reader.page_size,
            Some(V1_EXPAND),
            reader.archived,
        )
        .await
        .map_err(|e| space_error(e, &space.key))?;
    let fetched = page.results.len() as u64;
    let more = page.next.is_some() && fetched > 0;
    // Skip what the last id covers (the overlap with the previous page).
    let skip = position
        .last_id
        .as_ref()
        .and_then(|last| {
            page.results
                .iter()
                .position(|raw| raw_id(raw).as_deref() == Some(last.as_str()))
        })
        .map_or(0, |i| i + 1);
    let items: Vec<Value> = page.results.into_iter().skip(skip).collect();
    let last_id = items
        .iter()
        .rev()
        .find_map(raw_id)
        .or_else(|| position.last_id.clone());
    let next = more.then(|| {
        let overlap = DC_PAGE_OVERLAP.min(fetched.saturating_sub(1));
        ListingPosition {
            start: position.start + fetched - overlap,
            last_id,
            ..position.clone()
        }
    });
    Ok(Fetched {
        items,
        enrichment: HashMap::new(),
        next,
    })
}

/// Requests for one page's documents (missing bodies, comments, more
/// attachments) in flight at once; results keep the listing order.
pub(crate) const CONCURRENT_DOCUMENTS: usize = 8;

/// What becomes of one listed item: an item already decided (a failure),
/// or a record to finish.
pub(crate) enum Entry {
    Ready(Item),
    Record(Box<ContentRecord>),
}

/// Finish `entries` with up to [`CONCURRENT_DOCUMENTS`] at a time, in
/// order; stops after a failure of the whole source.
pub(crate) async fn finish_all(reader: &Reader, entries: Vec<Entry>) -> Vec<Result<Item>> {
    let mut out: Vec<Result<Item>> = stream::iter(entries)
        .map(|entry| async move {
            match entry {
                Entry::Ready(item) => Ok(item),
                Entry::Record(record) => reader.finish(*record).await,
            }
        })
        .buffered(CONCURRENT_DOCUMENTS)
        .collect()
        .await;
    if let Some(i) = out.iter().position(Result::is_err) {
        out.truncate(i + 1);
    }
    out
}

/// A fetched listing page → items (documents and per-document failures;
/// an `Err` for a failure of the whole source).
async fn process(
    reader: &Reader,
    space: &SpaceInfo,
    kind: ContentKind,
    mut fetched: Fetched,
) -> Vec<Result<Item>> {
    let mut entries = Vec::with_capacity(fetched.items.len());
    for raw in fetched.items {
        let id = raw_id(&raw);
        let record = if reader.cloud() {
            serde_json::from_value::<V2Content>(raw).map(|c| {
                let mut record = ContentRecord::from_v2(c, kind, Some(space));
                if let Some(v1) = fetched.enrichment.remove(&record.id) {
                    record.enrich(&v1);
                }
                record
            })
        } else {
            serde_json::from_value::<V1Content>(raw).map(|c| {
                let mut record = ContentRecord::from_v1(c);
                record.kind.get_or_insert(kind);
                if record.space_key.is_none() {
                    record.space_key = Some(space.key.clone());
                    record.space_name = Some(space.name.clone());
                }
                record
            })
        };
        match record {
            Ok(record) if record.is_live(reader.archived) => {
                entries.push(Entry::Record(Box::new(record)))
            }
            // Archived (unless asked for), trashed, draft: not synced, and
            // gone from the sink if an earlier sync delivered it.
            Ok(record) => entries.push(Entry::Ready(Item::Deleted(
                reader.site.document_id(&record.id),
            ))),
            Err(e) => entries.push(Entry::Ready(malformed(reader, kind, id.as_deref(), &e))),
        }
    }
    finish_all(reader, entries).await
}

fn malformed(reader: &Reader, kind: ContentKind, id: Option<&str>, e: &serde_json::Error) -> Item {
    let id = id.unwrap_or("<unknown id>");
    Item::Failure(DocumentFailure::new(
        reader.site.document_id(id),
        format!("{} {id} is not in the expected shape: {e}", kind.as_str()),
    ))
}

/// Every current page and blog post id in scope, as slim documents.
pub(crate) fn ids(reader: Reader, keys: Vec<String>) -> SlimStream<'static> {
    struct Slim {
        reader: Reader,
        keys: Vec<String>,
        spaces: Option<Vec<SpaceInfo>>,
        position: Option<ListingPosition>,
    }
    let state = Slim {
        reader,
        keys,
        spaces: None,
        position: None,
    };
    stream::unfold(Some(state), |state| async move {
        let mut s = state?;
        let result: Result<Option<Vec<Result<SlimDocument>>>> = async {
            if s.spaces.is_none() {
                let spaces = resolve_spaces(&s.reader.client, &s.keys).await?;
                s.position = start_position(&spaces, None);
                s.spaces = Some(spaces);
            }
            let Some(position) = s.position.clone() else {
                return Ok(None);
            };
            let spaces = s.spaces.as_deref().unwrap_or_default();
            let Some(space) = spaces.get(position.space) else {
                return Ok(None);
            };
            let (page, next) = if s.reader.cloud() {
                let space_id = space.id.as_deref().unwrap_or_default();
                let page = s
                    .reader
                    .client
                    .list_v2(
                        space_id,
                        position.kind,
                        position.cursor.as_deref(),
                        250,
                        false,
                        s.reader.archived,
                    )
                    .await
                    .map_err(|e| space_error(e, &space.key))?;
                let next = next_link(&page, &position).map(|cursor| ListingPosition {
                    cursor: Some(cursor),
                    ..position.clone()
                });
                (page, next)
            } else {
                let page = s
                    .reader
                    .client
                    .list_v1(
                        &space.key,
                        position.kind,
                        position.start,
                        250,
                        None,
                        s.reader.archived,
                    )
                    .await
                    .map_err(|e| space_error(e, &space.key))?;
                let fetched = page.results.len() as u64;
                let next = (page.next.is_some() && fetched > 0).then(|| ListingPosition {
                    start: position.start + fetched,
                    ..position.clone()
                });
                (page, next)
            };
            let archived = s.reader.archived;
            let ids: Vec<Result<SlimDocument>> = page
                .results
                .iter()
                .filter(|raw| live_status(raw, archived))
                .filter_map(raw_id)
                .map(|id| Ok(SlimDocument::new(s.reader.site.document_id(&id))))
                .collect();
            s.position = match next {
                Some(next) => Some(next),
                None => next_kind_or_space(&s.reader, spaces, &position),
            };
            Ok(Some(ids))
        }
        .await;
        match result {
            Ok(Some(ids)) => Some((stream::iter(ids), Some(s))),
            Ok(None) => None,
            Err(e) => Some((stream::iter(vec![Err(e)]), None)),
        }
    })
    .flatten()
    .boxed()
}
