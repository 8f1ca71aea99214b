//! The change stream: content modified inside a window, through CQL search
//! (`lastmodified >= … AND lastmodified < … order by lastmodified asc`).
//!
//! A [`ChangesPosition`] holds the last modification instant delivered and
//! the ids delivered at exactly that instant; resuming re-runs the search
//! from that instant (CQL has minute precision, so a little is fetched
//! again) and skips what the position covers.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use connector_core::{DocumentFailure, Error, ErrorKind, Item, ItemStream, Result, TimeWindow};

use crate::client::{ContentKind, V1_EXPAND};
use crate::config::Deployment;
use crate::convert::ContentRecord;
use crate::cql;
use crate::listing::{Entry, Reader, finish_all};
use crate::model::{V1Content, parse_time};

/// Search pages at most, as the last guard against a server that loops.
const MAX_PAGES: u32 = 1_000_000;

/// What Cloud's `/rest/api/search` expands (results wrap the content).
const CLOUD_SEARCH_EXPAND: &str = "content.body.storage,content.version,content.history,content.ancestors,content.space,content.metadata.labels,content.children.attachment,content.restrictions.read.restrictions.user,content.restrictions.read.restrictions.group";

/// Where a change stream resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesPosition {
    /// The last `lastmodified` delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<DateTime<Utc>>,
    /// Content ids delivered at exactly `after`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids_at_after: Vec<String>,
}

impl ChangesPosition {
    /// Whether content modified at `modified` with `id` was delivered already.
    fn covers(&self, modified: DateTime<Utc>, id: &str) -> bool {
        match self.after {
            None => false,
            Some(after) => {
                modified < after || (modified == after && self.ids_at_after.iter().any(|k| k == id))
            }
        }
    }

    fn advance(&mut self, modified: DateTime<Utc>, id: &str) {
        if self.after != Some(modified) {
            self.after = Some(modified);
            self.ids_at_after.clear();
        }
        self.ids_at_after.push(id.to_owned());
    }
}

struct State {
    reader: Reader,
    window: TimeWindow,
    cql: String,
    next: Option<Option<String>>,
    position: ChangesPosition,
    pages: u32,
}

/// Content in `spaces` modified in `window`, resuming after `from`; each
/// search page is followed by a checkpoint made by `checkpoint`.
pub(crate) fn changes(
    reader: Reader,
    spaces: Vec<String>,
    tz: Tz,
    window: TimeWindow,
    from: ChangesPosition,
    checkpoint: fn(&ChangesPosition) -> Result<connector_core::Checkpoint>,
) -> ItemStream<'static> {
    let mut query_window = window;
    if let Some(after) = from.after
        && after > query_window.start
    {
        query_window.start = after;
    }
    let kinds = reader.kinds();
    let state = State {
        cql: cql::changes_cql(&kinds, &spaces, &query_window, tz),
        reader,
        window,
        next: Some(None),
        position: from,
        pages: 0,
    };
    stream::unfold(Some(state), move |state| async move {
        let mut state = state?;
        let link = state.next.take()?;
        match page(&mut state, link).await {
            Ok(mut items) => {
                if items.iter().any(Result::is_err) {
                    return Some((stream::iter(items), None));
                }
                items.push(checkpoint(&state.position).map(Item::Checkpoint));
                Some((stream::iter(items), Some(state)))
            }
            Err(e) => Some((stream::iter(vec![Err(e)]), None)),
        }
    })
    .flatten()
    .boxed()
}

async fn page(state: &mut State, link: Option<String>) -> Result<Vec<Result<Item>>> {
    state.pages += 1;
    if state.pages > MAX_PAGES {
        return Err(Error::new(
            ErrorKind::Http,
            format!("search returned more than {MAX_PAGES} pages; stopping"),
        ));
    }
    let cloud = state.reader.client.deployment() == Deployment::Cloud;
    let expand = if cloud {
        CLOUD_SEARCH_EXPAND
    } else {
        V1_EXPAND
    };
    let page = state
        .reader
        .client
        .search(
            &state.cql,
            link.as_deref(),
            state.reader.search_page_size,
            expand,
        )
        .await?;
    let fetched = page.results.len();
    let entries: Vec<Entry> = page
        .results
        .into_iter()
        .filter_map(|result| result_entry(state, result))
        .collect();
    let items = finish_all(&state.reader, entries).await;
    if items.iter().any(Result::is_err) {
        return Ok(items);
    }
    state.next = match page.links.next {
        Some(next) if fetched > 0 && Some(&next) != link.as_ref() => Some(Some(next)),
        Some(_) if fetched > 0 => {
            return Err(Error::new(
                ErrorKind::Http,
                "search returned the same next link again; stopping instead of looping",
            ));
        }
        _ => None,
    };
    Ok(items)
}

/// One search result → a record to finish, a failure, or nothing (outside
/// the window, delivered before, not current).
fn result_entry(state: &mut State, result: Value) -> Option<Entry> {
    let last_modified = result
        .get("lastModified")
        .and_then(Value::as_str)
        .and_then(parse_time);
    let raw = match result {
        Value::Object(mut wrapper) => match wrapper.remove("content") {
            Some(content) if content.is_object() => content,
            _ => Value::Object(wrapper),
        },
        other => other,
    };
    let id_hint = match raw.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "<unknown id>".to_owned(),
    };
    let site = &state.reader.site;
    let content: V1Content = match serde_json::from_value(raw) {
        Ok(c) => c,
        Err(e) => {
            return Some(Entry::Ready(Item::Failure(DocumentFailure::new(
                site.document_id(&id_hint),
                format!("search result {id_hint} is not in the expected shape: {e}"),
            ))));
        }
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
            site.document_id(&content.id),
            format!("content {} has no readable modification time", content.id),
        ))));
    };
    if !cql::in_window(modified, &state.window) || state.position.covers(modified, &content.id) {
        return None;
    }
    let record = ContentRecord::from_v1(content);
    state.position.advance(modified, &record.id);
    // Archived (unless asked for), trashed, draft: gone from the sink if an
    // earlier sync delivered it.
    Some(if record.is_live(state.reader.archived) {
        Entry::Record(Box::new(record))
    } else {
        Entry::Ready(Item::Deleted(site.document_id(&record.id)))
    })
}
