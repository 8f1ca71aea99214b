//! The document stream: sites → libraries → delta pages → documents and
//! checkpoints, then site pages; and the slim id listing.
//!
//! Each library is read through its `driveItem` delta. A
//! [`SharePointCheckpoint`] after every delta page holds the delta link of
//! every library finished so far and the `@odata.nextLink` of the one in
//! progress, so a resumed sync continues mid-library and a later sync given
//! the checkpoint reads only changes. A `410 Gone` (or `resyncRequired`)
//! answer drops that library's link and enumerates it again from scratch;
//! the runner then skips the files whose content did not change.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use connector_core::paging::{Page, PageCursor, Pager};
use connector_core::{
    Checkpoint, DocumentFailure, Error, ErrorKind, Item, ItemStream, Result, SlimDocument,
    SlimStream, TimeWindow,
};

use crate::client::{DeltaStart, GraphClient, explain, is_resync};
use crate::config::SharePointConfig;
use crate::convert::{
    self, Body, Library, access_from_permissions, file_document, file_id, folder_from_reference,
    is_text, page_document, page_id,
};
use crate::model::{Collection, Drive, DriveItem, Site, SitePage};

/// Pages of one delta or listing at most: the last guard against a server
/// that never ends.
const MAX_PAGES: u32 = 1_000_000;

/// Folder paths remembered per library at most (the map is cleared past it
/// and refilled on demand).
const MAX_FOLDERS: usize = 200_000;

/// Where a SharePoint sync resumes.
///
/// ```
/// use connector_sharepoint::SharePointCheckpoint;
/// let cp: SharePointCheckpoint = serde_json::from_str(r#"{"delta_links": {"b!x": "https://graph.microsoft.com/v1.0/drives/b!x/root/delta?token=t"}}"#)?;
/// assert!(cp.current.is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharePointCheckpoint {
    /// Per library (drive id): the `@odata.deltaLink` up to which every
    /// change was delivered.
    #[serde(default)]
    pub delta_links: BTreeMap<String, String>,
    /// The library being read and the `@odata.nextLink` of its next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<DriveCursor>,
}

/// A library part-way through its delta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveCursor {
    /// The drive id.
    pub drive_id: String,
    /// The next page to read.
    pub next_link: String,
}

/// What the stream reads and how.
pub(crate) struct Ctx {
    pub client: GraphClient,
    pub config: SharePointConfig,
    pub window: TimeWindow,
    /// Files whose document needs requests, at most `config.concurrency` at once.
    pub downloads: tokio::sync::Semaphore,
}

impl Ctx {
    pub(crate) fn new(client: GraphClient, config: SharePointConfig, window: TimeWindow) -> Self {
        let downloads = tokio::sync::Semaphore::new(config.concurrency);
        Self {
            client,
            config,
            window,
            downloads,
        }
    }
}

/// Items in flight between the delta pages and the output: files being
/// read wait here in order while later ones proceed.
const ORDER_WINDOW: usize = 256;

enum Task {
    Site(String),
    Drive {
        library: Arc<Library>,
        at: DeltaStart,
        resynced: bool,
        pages: u32,
    },
    Pages {
        site: Arc<Site>,
        next: Option<String>,
        pages: u32,
    },
}

struct State {
    ctx: Arc<Ctx>,
    queue: VecDeque<Task>,
    checkpoint: SharePointCheckpoint,
    folders: Folders,
    /// The next delta page, already requested while this one is converted.
    prefetch: Option<Prefetch>,
    done: bool,
}

/// One unit of the ordered output: an item ready now, or a file whose
/// document needs requests (content, permissions). Files run
/// [`SharePointConfig::concurrency`] at a time, across page boundaries,
/// and come out in order, so a checkpoint follows every file before it.
enum Work {
    Ready(Result<Item>),
    File {
        ctx: Arc<Ctx>,
        library: Arc<Library>,
        folder: String,
        item: Box<DriveItem>,
    },
}

impl Work {
    async fn run(self) -> Result<Item> {
        match self {
            Work::Ready(item) => item,
            Work::File {
                ctx,
                library,
                folder,
                item,
            } => file_item(&ctx, &library, &folder, &item).await,
        }
    }
}

fn ready(items: Vec<Result<Item>>) -> Vec<Work> {
    items.into_iter().map(Work::Ready).collect()
}

/// A delta page requested ahead; dropping it cancels the request.
struct Prefetch {
    at: DeltaStart,
    task: tokio::task::JoinHandle<Result<Collection<Value>>>,
}

impl Prefetch {
    fn start(client: &GraphClient, at: DeltaStart) -> Self {
        let client = client.clone();
        let request = at.clone();
        let task = tokio::spawn(async move { client.delta_page(&request).await });
        Self { at, task }
    }

    async fn page(mut self) -> Result<Collection<Value>> {
        match (&mut self.task).await {
            Ok(page) => page,
            Err(e) => {
                Err(Error::new(ErrorKind::Other, "the delta request task failed").with_source(e))
            }
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every document of the configured sites, resuming from `from`.
pub(crate) fn documents(ctx: Arc<Ctx>, from: SharePointCheckpoint) -> ItemStream<'static> {
    let queue = ctx.config.sites.iter().cloned().map(Task::Site).collect();
    let state = State {
        ctx,
        queue,
        checkpoint: from,
        folders: Folders::default(),
        prefetch: None,
        done: false,
    };
    stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let task = state.queue.pop_front()?;
        let work = match step(&mut state, task).await {
            Ok(work) => work,
            Err(e) => {
                state.done = true;
                vec![Work::Ready(Err(e))]
            }
        };
        Some((stream::iter(work), state))
    })
    .flatten()
    .map(Work::run)
    .buffered(ORDER_WINDOW)
    // An error ends the stream: nothing after it.
    .scan(false, |failed, item| {
        let out = (!*failed).then(|| {
            *failed = item.is_err();
            item
        });
        futures::future::ready(out)
    })
    .boxed()
}

async fn step(state: &mut State, task: Task) -> Result<Vec<Work>> {
    match task {
        Task::Site(url) => {
            let ctx = state.ctx.clone();
            let (site, libraries) = site_libraries(&ctx, &url).await?;
            let mut tasks = Vec::new();
            for library in libraries {
                let at = start_of(&state.checkpoint, &library.drive_id, &ctx.window);
                tasks.push(Task::Drive {
                    library: Arc::new(library),
                    at,
                    resynced: false,
                    pages: 0,
                });
            }
            if ctx.config.include_pages {
                tasks.push(Task::Pages {
                    site: Arc::new(site),
                    next: None,
                    pages: 0,
                });
            }
            for task in tasks.into_iter().rev() {
                state.queue.push_front(task);
            }
            Ok(Vec::new())
        }
        Task::Drive {
            library,
            at,
            resynced,
            pages,
        } => drive_page(state, library, at, resynced, pages).await,
        Task::Pages { site, next, pages } => site_pages(state, site, next, pages).await,
    }
}

/// Where a library's delta starts: its page in progress, its delta link,
/// the window start (`?token=<time>`), or from scratch.
fn start_of(cp: &SharePointCheckpoint, drive_id: &str, window: &TimeWindow) -> DeltaStart {
    if let Some(current) = cp.current.as_ref().filter(|c| c.drive_id == drive_id) {
        return DeltaStart::Link(current.next_link.clone());
    }
    if let Some(link) = cp.delta_links.get(drive_id) {
        return DeltaStart::Link(link.clone());
    }
    DeltaStart::Fresh {
        drive_id: drive_id.to_owned(),
        since: (!window.is_full()).then_some(window.start),
    }
}

/// Resolve a site URL and pick its libraries.
pub(crate) async fn site_libraries(ctx: &Ctx, url: &str) -> Result<(Site, Vec<Library>)> {
    let site = ctx.client.site_by_url(url).await?;
    let drives = ctx.client.drives(&site).await?;
    let libraries = pick_libraries(&ctx.config, &site, drives)?;
    Ok((site, libraries))
}

fn pick_libraries(
    config: &SharePointConfig,
    site: &Site,
    drives: Vec<Drive>,
) -> Result<Vec<Library>> {
    for wanted in &config.libraries {
        let found = drives.iter().any(|d| {
            d.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
        });
        if !found {
            let names: Vec<String> = drives.iter().map(Drive::label).collect();
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "library {wanted:?} does not exist in site {} (libraries: {})",
                    site.label(),
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(drives
        .into_iter()
        .filter(|d| {
            config.libraries.is_empty()
                || d.name
                    .as_deref()
                    .is_some_and(|n| config.libraries.iter().any(|w| w.eq_ignore_ascii_case(n)))
        })
        .map(|d| Library {
            name: d.label(),
            drive_id: d.id,
            site: site.clone(),
        })
        .collect())
}

/// Errors that stop the whole sync rather than one document or library.
fn is_fatal(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Auth | ErrorKind::RateLimited | ErrorKind::Cancelled
    )
}

/// A listing (delta, pages) that fails with this error is skipped with a
/// failure item (a library or page list the app may not read); anything
/// else ends the sync, to be resumed.
fn is_skippable(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Forbidden | ErrorKind::NotFound)
}

async fn drive_page(
    state: &mut State,
    library: Arc<Library>,
    at: DeltaStart,
    resynced: bool,
    pages: u32,
) -> Result<Vec<Work>> {
    let ctx = state.ctx.clone();
    let drive_id = library.drive_id.clone();
    if pages == 0 {
        state.folders.switch(&drive_id);
    }
    if pages >= MAX_PAGES {
        return Err(Error::new(
            ErrorKind::Http,
            format!(
                "delta of library {} passed {MAX_PAGES} pages; stopping",
                library.name
            ),
        ));
    }
    let fetched = match state.prefetch.take() {
        Some(prefetch) if prefetch.at == at => prefetch.page().await,
        _ => ctx.client.delta_page(&at).await,
    };
    let page = match fetched {
        Ok(page) => page,
        Err(e) if is_resync(&e) && !resynced => {
            tracing::warn!(library = %library.name, error = %e, "delta token expired; reading the library again from scratch");
            state.checkpoint.delta_links.remove(&drive_id);
            if state
                .checkpoint
                .current
                .as_ref()
                .is_some_and(|c| c.drive_id == drive_id)
            {
                state.checkpoint.current = None;
            }
            state.folders.clear();
            state.queue.push_front(Task::Drive {
                library,
                at: DeltaStart::Fresh {
                    drive_id,
                    since: None,
                },
                resynced: true,
                pages: 0,
            });
            return Ok(Vec::new());
        }
        Err(e) if !is_skippable(&e) => return Err(e),
        Err(e) => {
            // One library the app cannot read: say so, go on with the rest.
            let e = explain(
                e,
                &format!("library {} of site {}", library.name, library.site.label()),
            );
            return Ok(ready(vec![Ok(Item::Failure(DocumentFailure::new(
                format!("drives/{drive_id}"),
                e.to_string(),
            )))]));
        }
    };

    if let Some(next) = &page.next_link {
        if at == DeltaStart::Link(next.clone()) {
            return Err(Error::new(
                ErrorKind::Http,
                format!(
                    "the delta of library {} returned the link it was asked for as its next page; stopping instead of looping",
                    library.name
                ),
            ));
        }
        // Overlap the next round trip with converting this page.
        state.prefetch = Some(Prefetch::start(&ctx.client, DeltaStart::Link(next.clone())));
    }

    // Folders first (they arrive before their children), files gathered.
    let mut work: Vec<Work> = Vec::new();
    let mut deleted = 0usize;
    for raw in page.value {
        let item = match decode_item(raw) {
            Ok(item) => item,
            Err((id, e)) => {
                work.push(Work::Ready(Ok(Item::Failure(DocumentFailure::new(
                    file_id(&drive_id, &id),
                    format!(
                        "a drive item of library {} is not in the expected shape: {e}",
                        library.name
                    ),
                )))));
                continue;
            }
        };
        if item.root.is_some() {
            state.folders.insert(item.id.clone(), String::new());
            continue;
        }
        if item.deleted.is_some() {
            deleted += 1;
            state.folders.remove(&item.id);
            // Folders were never documents: the runner ignores their ids.
            work.push(Work::Ready(Ok(Item::Deleted(file_id(&drive_id, &item.id)))));
            continue;
        }
        let parent = state
            .folders
            .parent_path(&ctx.client, &drive_id, &item)
            .await?;
        let name = item.name.clone().unwrap_or_default();
        if item.folder.is_some() {
            state
                .folders
                .insert(item.id.clone(), format!("{parent}/{name}"));
            continue;
        }
        if item.file.is_none() {
            continue; // packages, notebooks and other non-file items
        }
        if in_scope(&ctx.config.folders, &parent) {
            work.push(Work::File {
                ctx: ctx.clone(),
                library: library.clone(),
                folder: parent,
                item: Box::new(item),
            });
        }
    }
    if deleted > 0 {
        tracing::debug!(library = %library.name, deleted, "deleted items in delta page");
    }

    match (page.next_link, page.delta_link) {
        (Some(next), _) => {
            state.checkpoint.current = Some(DriveCursor {
                drive_id: drive_id.clone(),
                next_link: next.clone(),
            });
            state.queue.push_front(Task::Drive {
                library,
                at: DeltaStart::Link(next),
                resynced,
                pages: pages + 1,
            });
        }
        (None, Some(delta)) => {
            state.checkpoint.current = None;
            state.checkpoint.delta_links.insert(drive_id, delta);
        }
        (None, None) => {
            tracing::warn!(library = %library.name, "delta page without nextLink or deltaLink; treating the library as read");
            state.checkpoint.current = None;
        }
    }
    work.push(Work::Ready(
        Checkpoint::new(&state.checkpoint).map(Item::Checkpoint),
    ));
    Ok(work)
}

/// A raw delta item as a [`DriveItem`], or its id (`?` when it has none)
/// and why it does not decode.
fn decode_item(raw: Value) -> std::result::Result<DriveItem, (String, serde_json::Error)> {
    let id = raw
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned();
    serde_json::from_value(raw).map_err(|e| (id, e))
}

/// Whether a file in `folder` is inside the configured folders.
fn in_scope(folders: &[String], folder: &str) -> bool {
    folders.is_empty()
        || folders.iter().any(|f| {
            f == "/"
                || folder.eq_ignore_ascii_case(f)
                || folder
                    .get(..f.len() + 1)
                    .is_some_and(|head| head.eq_ignore_ascii_case(&format!("{f}/")))
        })
}

/// One file → a document, or a per-document failure; `Err` only when the
/// whole source failed.
async fn file_item(ctx: &Ctx, library: &Library, folder: &str, item: &DriveItem) -> Result<Item> {
    let id = file_id(&library.drive_id, &item.id);
    let name = item.name.clone().unwrap_or_default();
    let mime = item.file.as_ref().and_then(|f| f.mime_type.clone());
    let config = &ctx.config;
    let text = is_text(&name, mime.as_deref());
    let needs_requests = text || config.attachment_bytes || config.permissions;
    let _permit = if needs_requests {
        Some(ctx.downloads.acquire().await.map_err(|e| {
            Error::new(ErrorKind::Cancelled, "the sync is shutting down").with_source(e)
        })?)
    } else {
        None
    };
    let body = if text {
        if let Some(size) = item.size.filter(|s| *s > config.max_text_bytes) {
            return Ok(Item::Failure(DocumentFailure::new(
                id,
                format!(
                    "{folder}/{name}: text file of {size} bytes is over the {}-byte limit",
                    config.max_text_bytes
                ),
            )));
        }
        match ctx
            .client
            .content(&library.drive_id, &item.id, config.max_text_bytes)
            .await
        {
            Ok(bytes) => Body::Text(convert::file_text(&name, mime.as_deref(), &bytes)),
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => {
                return Ok(Item::Failure(DocumentFailure::new(
                    id,
                    format!("{folder}/{name}: could not read the file: {e}"),
                )));
            }
        }
    } else if config.attachment_bytes && item.size.unwrap_or(0) <= config.max_attachment_bytes {
        match ctx
            .client
            .content(&library.drive_id, &item.id, config.max_attachment_bytes)
            .await
        {
            Ok(bytes) => Body::Attachment(Some(bytes)),
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => {
                return Ok(Item::Failure(DocumentFailure::new(
                    id,
                    format!("{folder}/{name}: could not download the file: {e}"),
                )));
            }
        }
    } else {
        Body::Attachment(None)
    };
    let access = if config.permissions {
        match ctx.client.permissions(&library.drive_id, &item.id).await {
            Ok(perms) => Some(access_from_permissions(&perms)),
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => {
                return Ok(Item::Failure(DocumentFailure::new(
                    id,
                    format!("{folder}/{name}: could not read its permissions: {e}"),
                )));
            }
        }
    } else {
        None
    };
    Ok(Item::from(file_document(
        library, folder, item, body, access,
    )))
}

async fn site_pages(
    state: &mut State,
    site: Arc<Site>,
    next: Option<String>,
    pages: u32,
) -> Result<Vec<Work>> {
    let ctx = state.ctx.clone();
    if pages >= MAX_PAGES {
        return Err(Error::new(
            ErrorKind::Http,
            "site page listing passed the page cap",
        ));
    }
    let listing = match ctx.client.pages(&site.id, next.as_deref()).await {
        Ok(listing) => listing,
        Err(e) if !is_skippable(&e) => return Err(e),
        Err(e) => {
            let e = explain(e, &format!("the pages of site {}", site.label()));
            return Ok(ready(vec![Ok(Item::Failure(DocumentFailure::new(
                format!("sites/{}/pages", site.id),
                e.to_string(),
            )))]));
        }
    };
    let window = ctx.window;
    let mut items = Vec::new();
    for raw in listing.value {
        let id = raw
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        match serde_json::from_value::<SitePage>(raw) {
            Ok(p) => {
                let changed = window.is_full()
                    || p.last_modified_date_time
                        .is_none_or(|t: DateTime<Utc>| t >= window.start);
                if changed {
                    items.push(Work::Ready(Ok(Item::from(page_document(&site, &p)))));
                }
            }
            Err(e) => items.push(Work::Ready(Ok(Item::Failure(DocumentFailure::new(
                page_id(&site.id, &id),
                format!(
                    "a page of site {} is not in the expected shape: {e}",
                    site.label()
                ),
            ))))),
        }
    }
    if let Some(link) = listing.next_link.filter(|l| Some(l) != next.as_ref()) {
        state.queue.push_front(Task::Pages {
            site,
            next: Some(link),
            pages: pages + 1,
        });
    }
    Ok(items)
}

/// Folder id → path (`/General/Specs`; the root is ``) of the library
/// being read.
#[derive(Default)]
struct Folders {
    drive_id: String,
    paths: HashMap<String, String>,
}

impl Folders {
    fn switch(&mut self, drive_id: &str) {
        if self.drive_id != drive_id {
            self.drive_id = drive_id.to_owned();
            self.paths.clear();
        }
    }

    fn clear(&mut self) {
        self.paths.clear();
    }

    fn insert(&mut self, id: String, path: String) {
        if self.paths.len() >= MAX_FOLDERS {
            self.paths.clear();
        }
        self.paths.insert(id, path);
    }

    fn remove(&mut self, id: &str) {
        self.paths.remove(id);
    }

    /// The folder an item is in: from `parentReference.path` when Graph
    /// gave it, from the folders seen so far, or by asking for the parent.
    async fn parent_path(
        &mut self,
        client: &GraphClient,
        drive_id: &str,
        item: &DriveItem,
    ) -> Result<String> {
        let Some(parent) = &item.parent_reference else {
            return Ok(String::new());
        };
        if let Some(path) = parent.path.as_deref().and_then(folder_from_reference) {
            return Ok(path);
        }
        let Some(parent_id) = &parent.id else {
            return Ok(String::new());
        };
        if let Some(path) = self.paths.get(parent_id) {
            return Ok(path.clone());
        }
        let path = match client.item(drive_id, parent_id).await {
            Ok(folder) if folder.root.is_some() => String::new(),
            Ok(folder) => {
                let above = folder
                    .parent_reference
                    .as_ref()
                    .and_then(|r| r.path.as_deref())
                    .and_then(folder_from_reference)
                    .unwrap_or_default();
                format!("{above}/{}", folder.name.unwrap_or_default())
            }
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => {
                tracing::debug!(error = %e, "could not read a parent folder; filing the item under the library root");
                String::new()
            }
        };
        self.insert(parent_id.clone(), path.clone());
        Ok(path)
    }
}

/// Every document id in scope: each library's files (a full delta
/// enumeration, ids and names only) and each site's pages.
pub(crate) fn ids(ctx: Arc<Ctx>) -> SlimStream<'static> {
    let sites = ctx.config.sites.clone();
    stream::iter(sites)
        .then(move |url| {
            let ctx = ctx.clone();
            async move { site_ids(ctx, url).await }
        })
        .flat_map(|result| match result {
            Ok(ids) => ids,
            Err(e) => stream::iter(vec![Err(e)]).boxed(),
        })
        .boxed()
}

async fn site_ids(ctx: Arc<Ctx>, url: String) -> Result<SlimStream<'static>> {
    let (site, libraries) = site_libraries(&ctx, &url).await?;
    let mut streams: Vec<SlimStream<'static>> = libraries
        .into_iter()
        .map(|library| library_ids(ctx.clone(), library))
        .collect();
    if ctx.config.include_pages {
        streams.push(page_ids(ctx.clone(), site));
    }
    Ok(stream::iter(streams).flatten().boxed())
}

fn library_ids(ctx: Arc<Ctx>, library: Library) -> SlimStream<'static> {
    struct S {
        ctx: Arc<Ctx>,
        library: Library,
        at: Option<DeltaStart>,
        folders: Folders,
        pages: u32,
    }
    let at = Some(DeltaStart::Fresh {
        drive_id: library.drive_id.clone(),
        since: None,
    });
    let mut folders = Folders::default();
    folders.switch(&library.drive_id);
    let s = S {
        ctx,
        library,
        at,
        folders,
        pages: 0,
    };
    stream::unfold(s, |mut s| async move {
        let at = s.at.take()?;
        s.pages += 1;
        if s.pages > MAX_PAGES {
            let e = Error::new(ErrorKind::Http, "delta listing passed the page cap");
            return Some((stream::iter(vec![Err(e)]), s));
        }
        let page = match s.ctx.client.delta_page(&at).await {
            Ok(page) => page,
            Err(e) => return Some((stream::iter(vec![Err(e)]), s)),
        };
        let mut out = Vec::new();
        let mut files = Vec::new();
        for raw in page.value {
            let item = match decode_item(raw) {
                Ok(item) => item,
                // Listed as present: nothing is reported deleted for an item
                // that could not be read.
                Err((id, _)) => {
                    files.push(id);
                    continue;
                }
            };
            if item.root.is_some() {
                s.folders.insert(item.id.clone(), String::new());
                continue;
            }
            if item.deleted.is_some() {
                continue;
            }
            let parent = match s
                .folders
                .parent_path(&s.ctx.client, &s.library.drive_id, &item)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    out.push(Err(e));
                    return Some((stream::iter(out), s));
                }
            };
            if item.folder.is_some() {
                let name = item.name.clone().unwrap_or_default();
                s.folders
                    .insert(item.id.clone(), format!("{parent}/{name}"));
            } else if item.file.is_some() && in_scope(&s.ctx.config.folders, &parent) {
                files.push(item.id);
            }
        }
        let drive_id = s.library.drive_id.clone();
        let ctx = s.ctx.clone();
        let permissions = ctx.config.permissions;
        let slims: Vec<Result<SlimDocument>> = stream::iter(files)
            .map(|item_id| {
                let ctx = ctx.clone();
                let drive_id = drive_id.clone();
                async move {
                    let mut slim = SlimDocument::new(file_id(&drive_id, &item_id));
                    if permissions {
                        match ctx.client.permissions(&drive_id, &item_id).await {
                            Ok(perms) => slim.access = Some(access_from_permissions(&perms)),
                            Err(e) if is_fatal(&e) => return Err(e),
                            // The id still counts as present; access stays unknown.
                            Err(e) => tracing::debug!(error = %e, "permissions unreadable"),
                        }
                    }
                    Ok(slim)
                }
            })
            .buffered(ctx.config.concurrency)
            .collect()
            .await;
        out.extend(slims);
        s.at = page.next_link.map(DeltaStart::Link);
        Some((stream::iter(out), s))
    })
    .flatten()
    .boxed()
}

fn page_ids(ctx: Arc<Ctx>, site: Site) -> SlimStream<'static> {
    let site_id = site.id;
    Pager::new("site page listing")
        .max_pages(u64::from(MAX_PAGES))
        .pages(None, move |cursor| {
            let ctx = ctx.clone();
            let site_id = site_id.clone();
            async move {
                let next = match &cursor {
                    Some(PageCursor::Url(link)) => Some(link.as_str()),
                    _ => None,
                };
                let listing = ctx.client.page_ids(&site_id, next).await?;
                Ok(Page {
                    items: listing
                        .value
                        .iter()
                        .map(|p| SlimDocument::new(page_id(&site_id, &p.id)))
                        .collect::<Vec<_>>(),
                    next: listing.next_link.map(PageCursor::Url),
                })
            }
        })
        .flat_map(|page| match page {
            Ok(page) => stream::iter(page.items.into_iter().map(Ok).collect::<Vec<_>>()),
            Err(e) => stream::iter(vec![Err(e)]),
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_scope() {
        let f = vec!["/Specs".to_string()];
        assert!(in_scope(&f, "/Specs"));
        assert!(in_scope(&f, "/specs/2024"));
        assert!(!in_scope(&f, "/SpecsOld"));
        assert!(!in_scope(&f, ""));
        assert!(in_scope(&[], ""));
        assert!(in_scope(&["/".to_string()], "/x"));
        assert!(!in_scope(&f, "/Spécs"), "multi-byte names do not split");
    }

    #[test]
    fn delta_start_prefers_the_page_in_progress() {
        let mut cp = SharePointCheckpoint::default();
        let full = TimeWindow::until(Utc::now());
        assert_eq!(
            start_of(&cp, "d1", &full),
            DeltaStart::Fresh {
                drive_id: "d1".into(),
                since: None
            }
        );
        cp.delta_links.insert("d1".into(), "delta".into());
        assert_eq!(start_of(&cp, "d1", &full), DeltaStart::Link("delta".into()));
        cp.current = Some(DriveCursor {
            drive_id: "d1".into(),
            next_link: "next".into(),
        });
        assert_eq!(start_of(&cp, "d1", &full), DeltaStart::Link("next".into()));
        let since = Utc::now();
        let window = TimeWindow::new(since, since + chrono::Duration::hours(1));
        assert_eq!(
            start_of(&cp, "d2", &window),
            DeltaStart::Fresh {
                drive_id: "d2".into(),
                since: Some(since)
            }
        );
    }
}
