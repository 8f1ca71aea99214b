//! The issue stream: search pages → documents and checkpoints.
//!
//! Results come in `updated ASC, key ASC` order. A [`JiraCheckpoint`] holds
//! the last `updated` instant delivered and the keys delivered at exactly
//! that instant; resuming re-runs the search from that instant (JQL has
//! minute precision, so a little is fetched again) and skips what the
//! checkpoint covers. The same rule drops the repeats that Data Center's
//! overlapping `startAt` pages bring (see [`DC_PAGE_OVERLAP`]).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use connector_core::paging::{Page, PageCursor, Pager};
use connector_core::{
    Checkpoint, DocumentFailure, Error, ErrorKind, Item, ItemStream, Result, SlimDocument,
    SlimStream, TimeWindow,
};

use crate::client::{Cursor, JiraClient, SearchPage};
use crate::convert::{Site, issue_to_document};
use crate::jql::{self, Scope};
use crate::model::{Comment, ISSUE_FIELDS, Issue};

/// Data Center pages by offset; an issue updated during the sync leaves the
/// window and shifts every later issue one place left. Each page therefore
/// starts this many issues before the end of the previous one, and the
/// checkpoint rule drops the repeats.
pub(crate) const DC_PAGE_OVERLAP: u64 = 10;

/// Pages at most, as the last guard against a server that never says "last".
const MAX_PAGES: u32 = 1_000_000;

/// Where an issue stream resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JiraCheckpoint {
    /// The last `updated` delivered.
    pub after_updated: Option<DateTime<Utc>>,
    /// Keys delivered at exactly `after_updated`.
    #[serde(default)]
    pub keys_at_after: Vec<String>,
}

impl JiraCheckpoint {
    /// Whether an issue updated at `updated` with `key` was delivered already.
    fn covers(&self, updated: DateTime<Utc>, key: &str) -> bool {
        match self.after_updated {
            None => false,
            Some(after) => {
                updated < after || (updated == after && self.keys_at_after.iter().any(|k| k == key))
            }
        }
    }

    fn advance(&mut self, updated: DateTime<Utc>, key: &str) {
        if self.after_updated != Some(updated) {
            self.after_updated = Some(updated);
            self.keys_at_after.clear();
        }
        self.keys_at_after.push(key.to_owned());
    }
}

struct State {
    client: JiraClient,
    site: Site,
    window: TimeWindow,
    jql: String,
    cursor: Option<Cursor>,
    /// The next page, already requested while this one is converted.
    prefetch: Option<Prefetch>,
    seen_tokens: VecDeque<String>,
    checkpoint: JiraCheckpoint,
    pages: u32,
    comment_page_size: u32,
    page_size: u32,
    attachment_max_bytes: Option<u64>,
}

/// What an issue stream reads from and how much per request.
pub(crate) struct Reader {
    pub client: JiraClient,
    pub site: Site,
    pub page_size: u32,
    pub comment_page_size: u32,
    pub attachment_max_bytes: Option<u64>,
}

/// Issues updated in `window`, resuming after `from`.
pub(crate) fn issues(
    reader: Reader,
    scope: &Scope,
    tz: Tz,
    window: TimeWindow,
    from: JiraCheckpoint,
) -> ItemStream<'static> {
    let Reader {
        client,
        site,
        page_size,
        comment_page_size,
        attachment_max_bytes,
    } = reader;
    // Resuming: the search starts at the checkpoint, not the window start.
    let mut query_window = window;
    if let Some(after) = from.after_updated {
        if after > query_window.start {
            query_window.start = after;
        }
    }
    let state = State {
        cursor: Some(client.first_cursor()),
        prefetch: None,
        client,
        site,
        window,
        jql: jql::search_jql(scope, &query_window, tz),
        seen_tokens: VecDeque::new(),
        checkpoint: from,
        pages: 0,
        comment_page_size,
        page_size,
        attachment_max_bytes,
    };
    stream::unfold(state, |mut state| async move {
        let cursor = state.cursor.take()?;
        let items = match next_page(&mut state, cursor).await {
            Ok(items) => items,
            Err(e) => vec![Err(e)], // ends the stream: cursor is None
        };
        Some((stream::iter(items), state))
    })
    .flatten()
    .boxed()
}

async fn next_page(state: &mut State, cursor: Cursor) -> Result<Vec<Result<Item>>> {
    state.pages += 1;
    if state.pages > MAX_PAGES {
        return Err(Error::new(
            ErrorKind::Http,
            format!("search returned more than {MAX_PAGES} pages; stopping"),
        ));
    }
    let page = match state.prefetch.take() {
        Some(prefetch) if prefetch.cursor == cursor => prefetch.page().await?,
        _ => {
            state
                .client
                .search(&state.jql, &cursor, ISSUE_FIELDS, state.page_size)
                .await?
        }
    };
    let next = next_cursor(state, &cursor, &page)?;
    if let Some(next) = &next {
        // Overlap the next round trip with converting this page.
        state.prefetch = Some(Prefetch::start(state, next.clone()));
    }
    let mut items = Vec::with_capacity(page.issues.len() + 1);
    for raw in page.issues {
        match issue_item(state, raw).await {
            Ok(Some(item)) => items.push(Ok(item)),
            Ok(None) => {}
            Err(e) => return Err(e),
        }
    }
    items.push(Checkpoint::new(&state.checkpoint).map(Item::Checkpoint));
    state.cursor = next;
    Ok(items)
}

/// A search page requested ahead; dropping it cancels the request.
struct Prefetch {
    cursor: Cursor,
    task: tokio::task::JoinHandle<Result<SearchPage>>,
}

impl Prefetch {
    fn start(state: &State, cursor: Cursor) -> Self {
        let client = state.client.clone();
        let jql = state.jql.clone();
        let page_size = state.page_size;
        let at = cursor.clone();
        let task =
            tokio::spawn(async move { client.search(&jql, &at, ISSUE_FIELDS, page_size).await });
        Self { cursor, task }
    }

    async fn page(mut self) -> Result<SearchPage> {
        match (&mut self.task).await {
            Ok(page) => page,
            Err(e) => {
                Err(Error::new(ErrorKind::Other, "the search request task failed").with_source(e))
            }
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The cursor after `page`, refusing a server that repeats itself.
fn next_cursor(state: &mut State, current: &Cursor, page: &SearchPage) -> Result<Option<Cursor>> {
    let next = match (current, page) {
        (Cursor::Token(_), SearchPage { is_last: true, .. }) => None,
        (
            Cursor::Token(_),
            SearchPage {
                next_token: None, ..
            },
        ) => None,
        (
            Cursor::Token(_),
            SearchPage {
                next_token: Some(token),
                issues,
                ..
            },
        ) => {
            if issues.is_empty() || state.seen_tokens.contains(token) {
                return Err(Error::new(
                    ErrorKind::Http,
                    "search returned a page token it had already returned (or an empty page with a token); stopping instead of looping",
                ));
            }
            state.seen_tokens.push_back(token.clone());
            if state.seen_tokens.len() > 16 {
                state.seen_tokens.pop_front();
            }
            Some(Cursor::Token(Some(token.clone())))
        }
        (Cursor::Offset(start), page) => {
            let fetched = page.issues.len() as u64;
            let end = start + fetched;
            if fetched == 0 || end >= page.total {
                None
            } else {
                // Step back a little (see DC_PAGE_OVERLAP), but always forward.
                let overlap = DC_PAGE_OVERLAP.min(fetched.saturating_sub(1));
                Some(Cursor::Offset(end - overlap))
            }
        }
    };
    Ok(next)
}

/// One raw issue → a document, a failure, or nothing (outside the window or
/// already delivered). `Err` only for failures of the whole source.
async fn issue_item(state: &mut State, raw: Value) -> Result<Option<Item>> {
    let key_hint = raw
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or("<unknown issue>")
        .to_owned();
    let issue: Issue = match serde_json::from_value(raw) {
        Ok(issue) => issue,
        Err(e) => {
            return Ok(Some(Item::Failure(DocumentFailure::new(
                state.site.document_id(&key_hint),
                format!("issue {key_hint} is not in the expected shape: {e}"),
            ))));
        }
    };
    let Some(updated) = issue.fields.updated else {
        return Ok(Some(Item::Failure(DocumentFailure::new(
            state.site.document_id(&issue.key),
            format!("issue {} has no readable `updated` time", issue.key),
        ))));
    };
    if !jql::in_window(updated, &state.window) || state.checkpoint.covers(updated, &issue.key) {
        return Ok(None);
    }
    let item = match document(state, &issue).await {
        Ok(doc) => Item::from(doc),
        Err(e) if is_fatal(&e) => return Err(e),
        Err(e) => Item::Failure(DocumentFailure::new(
            state.site.document_id(&issue.key),
            format!("{} could not be read in full: {e}", issue.key),
        )),
    };
    state.checkpoint.advance(updated, &issue.key);
    Ok(Some(item))
}

/// The issue's document: comments past the first page fetched, attachment
/// bytes downloaded when enabled.
async fn document(state: &State, issue: &Issue) -> Result<connector_core::Document> {
    let comments = all_comments(state, issue)
        .await
        .map_err(|e| e.context("reading comments"))?;
    let mut doc = issue_to_document(&state.site, issue, &comments);
    if let Some(cap) = state.attachment_max_bytes {
        for attachment in &mut doc.attachments {
            let (Some(url), Some(size)) = (&attachment.url, attachment.size) else {
                continue;
            };
            if size > cap {
                continue;
            }
            let bytes = state.client.attachment(url, cap).await.map_err(|e| {
                e.context(format_args!("downloading attachment {}", attachment.name))
            })?;
            attachment.bytes = Some(bytes.to_vec());
        }
    }
    Ok(doc)
}

/// Errors that mean the whole source is unusable, not just one issue.
fn is_fatal(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Auth | ErrorKind::RateLimited | ErrorKind::Cancelled
    )
}

/// Every comment of `issue`: the page inlined in the search result, then
/// the rest through the comment endpoint.
async fn all_comments(state: &State, issue: &Issue) -> Result<Vec<Comment>> {
    let Some(first) = &issue.fields.comment else {
        return Ok(Vec::new());
    };
    if first.start_at == 0 && first.comments.len() as u64 >= first.total {
        // The search result holds them all: no further request.
        return Ok(first.comments.clone());
    }
    let mut comments: Vec<Comment> = Vec::new();
    let mut start_at = 0u64;
    loop {
        let page = state
            .client
            .comments(&issue.key, start_at, state.comment_page_size)
            .await?;
        let fetched = page.comments.len() as u64;
        comments.extend(page.comments);
        start_at += fetched;
        if fetched == 0 || start_at >= page.total {
            return Ok(comments);
        }
    }
}

/// Every issue key in scope, as slim documents.
pub(crate) fn keys(client: JiraClient, site: Site, scope: &Scope) -> SlimStream<'static> {
    let jql = std::sync::Arc::new(jql::listing_jql(scope));
    // The core pager stops a server that repeats a token or never ends.
    let pages = Pager::new("Jira key listing").pages(None, move |cursor| {
        let client = client.clone();
        let jql = jql.clone();
        async move {
            let at = match cursor {
                Some(PageCursor::Token(token)) => Cursor::Token(Some(token)),
                Some(PageCursor::Offset(start)) => Cursor::Offset(start),
                _ => client.first_cursor(),
            };
            let page = client.search(&jql, &at, &["key"], 1000).await?;
            let fetched = page.issues.len() as u64;
            let keys: Vec<String> = page
                .issues
                .iter()
                .filter_map(|raw| raw.get("key").and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            let next = match at {
                Cursor::Token(_) if page.is_last => None,
                Cursor::Token(_) => page.next_token.map(PageCursor::Token),
                Cursor::Offset(start) => (fetched > 0 && start + fetched < page.total)
                    .then_some(PageCursor::Offset(start + fetched)),
            };
            Ok(Page { items: keys, next })
        }
    });
    pages
        .map(move |page| {
            let ids: Vec<Result<SlimDocument>> = match page {
                Ok(page) => page
                    .items
                    .iter()
                    .map(|key| Ok(SlimDocument::new(site.document_id(key))))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            stream::iter(ids)
        })
        .flatten()
        .boxed()
}
