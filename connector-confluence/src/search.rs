//! The change stream: content modified inside a window, through CQL search
//! (`lastmodified >= … AND lastmodified < … order by lastmodified asc`)
//! paged by core's pager, each page followed by a checkpoint.
//!
//! The checkpoint is core's [`Watermark`]: the last modification instant
//! delivered and the ids delivered at exactly that instant. Resuming runs
//! the search again from that instant (CQL has minute precision, so a
//! little is fetched again) and skips what the mark covers. Nothing relies
//! on Confluence honouring the order: an item older than the mark is still
//! delivered, and the mark stops advancing once the order is seen broken.

use std::sync::Arc;

use futures::future;
use futures::stream::{self, StreamExt};

use connector_core::json::RawRecord;
use connector_core::paging::{Fetched, Pager};
use connector_core::watermark::Watermark;
use connector_core::zone::Zone;
use connector_core::{Checkpoint, DocumentFailure, Item, ItemStream, Result, TimeWindow};

use crate::checkpoint::ConfluenceCheckpoint;
use crate::client::{ContentKind, V1_EXPAND};
use crate::convert::ContentRecord;
use crate::cql;
use crate::listing::until_error;
use crate::model::{ContentId, SearchResult, V1Content};
use crate::reader::{Entry, Reader};

/// What Cloud's `/rest/api/search` expands (results wrap the content).
const CLOUD_SEARCH_EXPAND: &str = "content.body.storage,content.version,content.history,content.ancestors,content.space,content.metadata.labels,content.children.attachment,content.restrictions.read.restrictions.user,content.restrictions.read.restrictions.group";

/// Search pages finished at once, their items kept in order.
const PAGES_AT_ONCE: usize = 2;

/// Content in `spaces` modified in `window`, resuming after `from`.
pub(crate) fn changes(
    reader: Arc<Reader>,
    spaces: Vec<String>,
    zone: Zone,
    window: TimeWindow,
    from: Watermark,
) -> ItemStream<'static> {
    let mut query_window = window;
    query_window.start = from.resume_at(window.start);
    let cql: Arc<str> = cql::changes_cql(&reader.kinds(), &spaces, &query_window, zone).into();
    let expand = if reader.cloud() {
        CLOUD_SEARCH_EXPAND
    } else {
        V1_EXPAND
    };
    let client = reader.client.clone();
    let page_size = reader.search_page_size;
    let pages = Pager::new("the change search")
        .ids(ContentId::of)
        .pages(None, move |cursor| {
            let (client, cql) = (client.clone(), cql.clone());
            async move {
                client
                    .search(&cql, cursor.as_ref(), page_size, expand)
                    .await
            }
        });
    let progress = Progress {
        skip: from.after.is_some().then(|| from.clone()),
        mark: from,
        window,
    };
    let items = pages
        .scan(progress, {
            let reader = reader.clone();
            move |progress, page| future::ready(Some(page.map(|page| progress.take(&reader, page))))
        })
        .map(move |taken| {
            let reader = reader.clone();
            async move {
                let (entries, mark) = match taken {
                    Ok(taken) => taken,
                    Err(e) => return vec![Err(e)],
                };
                let mut items = reader.finish_all(entries).await;
                if !items.iter().any(Result::is_err) {
                    let checkpoint = Checkpoint::new(&ConfluenceCheckpoint::Changes(mark));
                    items.push(checkpoint.map(Item::Checkpoint));
                }
                items
            }
        })
        .buffered(PAGES_AT_ONCE)
        .flat_map(stream::iter);
    until_error(items)
}

/// The stream's state between pages.
struct Progress {
    window: TimeWindow,
    /// The watermark so far.
    mark: Watermark,
    /// What a resumed search delivered before.
    skip: Option<Watermark>,
}

impl Progress {
    /// What to do with each result of `page`, and the mark after it.
    fn take(&mut self, reader: &Reader, page: Fetched<RawRecord>) -> (Vec<Entry>, Watermark) {
        let entries = page
            .items
            .iter()
            .filter_map(|raw| self.entry(reader, raw))
            .collect();
        (entries, self.mark.clone())
    }

    /// One search result → a record to finish, a failure, or nothing
    /// (outside the window, delivered before, not a page or blog post).
    fn entry(&mut self, reader: &Reader, raw: &RawRecord) -> Option<Entry> {
        let decoded = if reader.cloud() {
            raw.decode::<SearchResult>()
                .map(|r| (r.content, r.last_modified))
        } else {
            raw.decode::<V1Content>().map(|c| (c, None))
        };
        let (content, last_modified) = match decoded {
            Ok(decoded) => decoded,
            Err(reason) => return Some(reader.malformed("search result", raw, &reason)),
        };
        // Comments, attachments: not documents of their own.
        content.kind.as_deref().and_then(ContentKind::parse)?;
        let Some(modified) = content
            .version
            .as_ref()
            .and_then(|v| v.when)
            .or(last_modified)
        else {
            return Some(Entry::Ready(Item::Failure(DocumentFailure::new(
                reader.site.document_id(&content.id),
                format!("content {} has no readable modification time", content.id),
            ))));
        };
        if !cql::in_window(modified, &self.window)
            || self
                .skip
                .as_ref()
                .is_some_and(|s| s.covers(modified, &content.id))
        {
            return None;
        }
        self.mark.advance(modified, &content.id);
        Some(reader.entry(ContentRecord::from_v1(content)))
    }
}
