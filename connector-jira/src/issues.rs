//! The issue stream: search pages (through core's pager) → documents, built
//! several issues at a time in search order, each page followed by a
//! checkpoint.
//!
//! Results are asked for in `updated ASC, key ASC` order, but nothing here
//! relies on it: every issue inside the window is delivered whatever its
//! place, and a resume continues the same search at the next page (see
//! [`checkpoint`](crate::checkpoint)). Data Center pages overlap (see
//! [`DC_PAGE_OVERLAP`]); the keys of the previous page's tail drop the
//! repeats.

use std::sync::Arc;

use futures::future;
use futures::stream::{self, StreamExt};
use serde_json::value::RawValue;

use connector_core::deployment::Deployment;
use connector_core::paging::{Fetched, Page, PageCursor, Pager, ordered};
use connector_core::watermark::Watermark;
use connector_core::{Checkpoint, DocumentFailure, Item, ItemStream, Result, TimeWindow};

use crate::checkpoint::{Position, SearchAt};
use crate::client::{DC_PAGE_OVERLAP, JiraClient};
use crate::comments::comments;
use crate::convert::{Site, issue_to_document};
use crate::model::{ISSUE_FIELDS, Issue, KeyOnly};

/// What an issue stream reads from and how much per request.
#[derive(Debug)]
pub(crate) struct Reader {
    pub(crate) client: JiraClient,
    pub(crate) site: Site,
    pub(crate) page_size: u32,
    pub(crate) comment_page_size: u32,
    pub(crate) max_comments: usize,
    pub(crate) attachment_max_bytes: Option<u64>,
    /// Extract the text of downloaded attachments.
    #[cfg_attr(not(feature = "extract"), allow(dead_code))]
    pub(crate) extract: bool,
    pub(crate) concurrency: usize,
}

/// One issue of a search page, decoded on its own.
enum Record {
    Issue(Box<Issue>),
    /// Not an issue this connector can read; `key` is the best name for it.
    Bad {
        key: String,
        reason: String,
    },
}

impl Record {
    fn decode(raw: &RawValue) -> Self {
        match serde_json::from_str::<Issue>(raw.get()) {
            Ok(issue) => Record::Issue(Box::new(issue)),
            Err(e) => {
                let key = serde_json::from_str::<KeyOnly>(raw.get())
                    .ok()
                    .and_then(|k| k.key)
                    .unwrap_or_else(|| "<unknown issue>".to_owned());
                Record::Bad {
                    reason: format!("issue {key} is not in the expected shape: {e}"),
                    key,
                }
            }
        }
    }

    fn key(&self) -> &str {
        match self {
            Record::Issue(issue) => &issue.key,
            Record::Bad { key, .. } => key,
        }
    }
}

/// What to do with one record of a page.
enum Work {
    Build(Box<Issue>),
    Fail { key: String, reason: String },
}

/// Issues updated in `window`, searched with `jql`, from `from` on.
pub(crate) fn issues(
    reader: Arc<Reader>,
    jql: String,
    window: TimeWindow,
    start: Start,
) -> ItemStream<'static> {
    let Start {
        first,
        mark,
        skip,
        recent,
    } = start;
    let jql: Arc<str> = Arc::from(jql);
    let pages = search_pages(&reader, jql.clone(), first);
    let progress = Progress {
        window,
        mark,
        skip,
        recent,
        jql,
        overlap: reader.client.deployment() == Deployment::DataCenter,
    };
    pages
        .scan(progress, move |progress, page| {
            let items = match page {
                Err(e) => stream::once(future::ready(Err(e))).boxed(),
                Ok(page) => {
                    let (work, checkpoint) = progress.take(page);
                    let reader = reader.clone();
                    let concurrency = reader.concurrency;
                    ordered(work, concurrency, move |work| item(reader.clone(), work))
                        .chain(stream::once(future::ready(checkpoint)))
                        .boxed()
                }
            };
            future::ready(Some(items))
        })
        .flatten()
        // An error ends the stream: nothing after it.
        .scan(false, |ended, item| {
            if *ended {
                return future::ready(None);
            }
            *ended = item.is_err();
            future::ready(Some(item))
        })
        .boxed()
}

/// Where a stream starts.
#[derive(Debug, Default)]
pub(crate) struct Start {
    /// The first page's cursor (`None`: the search's first page).
    pub(crate) first: Option<PageCursor>,
    /// The watermark so far.
    pub(crate) mark: Watermark,
    /// Delivered before (a checkpoint of an earlier version): skipped.
    pub(crate) skip: Option<Watermark>,
    /// Keys the first page may repeat.
    pub(crate) recent: Vec<String>,
}

impl Start {
    /// Where to start for `from` (a decoded checkpoint), and the search to
    /// run; `None` when the checkpoint says the search had finished.
    pub(crate) fn resume(
        from: Option<Position>,
        fresh_jql: impl FnOnce(&Watermark) -> String,
    ) -> Option<(String, Start)> {
        let from = from.unwrap_or_default();
        match from.search {
            Some(at) => {
                let first = at.next()?;
                Some((
                    at.jql,
                    Start {
                        first: Some(first),
                        mark: from.mark,
                        skip: None,
                        recent: at.recent,
                    },
                ))
            }
            None => {
                let jql = fresh_jql(&from.mark);
                let skip = from.mark.after.is_some().then(|| from.mark.clone());
                Some((
                    jql,
                    Start {
                        first: None,
                        mark: from.mark,
                        skip,
                        recent: Vec::new(),
                    },
                ))
            }
        }
    }
}

/// The pages of the search. A resumed Cloud token that Jira no longer
/// accepts (tokens expire after a week) restarts the same search from its
/// first page: repeats are harmless, a gap is not.
fn search_pages(
    reader: &Reader,
    jql: Arc<str>,
    first: Option<PageCursor>,
) -> connector_core::paging::PageStream<Record> {
    let client = reader.client.clone();
    let page_size = reader.page_size;
    let resumed_token = match &first {
        Some(PageCursor::Token(t)) => Some(t.clone()),
        _ => None,
    };
    // With ids the pager ends a search that serves the same page again (under
    // a fresh token, or an offset page adding no issue) with an error.
    let pager = Pager::new("Jira search").ids(|r: &Record| Some(r.key().to_owned()));
    pager.pages(first, move |cursor| {
        let client = client.clone();
        let jql = jql.clone();
        let resumed_token = resumed_token.clone();
        async move {
            let page = match client
                .search(&jql, cursor.as_ref(), ISSUE_FIELDS, page_size)
                .await
            {
                Err(e)
                    if e.status() == Some(400)
                        && resumed_token.is_some()
                        && matches!(&cursor, Some(PageCursor::Token(t)) if Some(t) == resumed_token.as_ref()) =>
                {
                    tracing::warn!(
                        "Jira no longer accepts the saved page token; searching again from the first page of the interrupted sync"
                    );
                    client.search(&jql, None, ISSUE_FIELDS, page_size).await?
                }
                other => other?,
            };
            let records = page.items.iter().map(|raw| Record::decode(raw)).collect();
            Ok(Page::new(records, page.next))
        }
    })
}

/// The stream's state between pages.
struct Progress {
    window: TimeWindow,
    mark: Watermark,
    skip: Option<Watermark>,
    recent: Vec<String>,
    jql: Arc<str>,
    overlap: bool,
}

impl Progress {
    /// What to do with each record of `page`, and the checkpoint after it.
    fn take(&mut self, page: Fetched<Record>) -> (Vec<Work>, Result<Item>) {
        let tail: Vec<String> = if self.overlap {
            let from = page.items.len().saturating_sub(DC_PAGE_OVERLAP as usize);
            page.items[from..]
                .iter()
                .map(|r| r.key().to_owned())
                .collect()
        } else {
            Vec::new()
        };
        let mut work = Vec::with_capacity(page.items.len());
        for record in page.items {
            if self.recent.iter().any(|k| k == record.key()) {
                continue; // a repeat of the overlapping page before
            }
            match record {
                Record::Bad { key, reason } => work.push(Work::Fail { key, reason }),
                Record::Issue(issue) => {
                    let Some(updated) = issue.fields.updated else {
                        work.push(Work::Fail {
                            reason: format!("issue {} has no readable `updated` time", issue.key),
                            key: issue.key,
                        });
                        continue;
                    };
                    if !self.window.contains(updated)
                        || self
                            .skip
                            .as_ref()
                            .is_some_and(|s| s.covers(updated, &issue.key))
                    {
                        continue;
                    }
                    // Out of order or not, the issue is delivered; the mark
                    // only records how far the order held.
                    self.mark.advance(updated, &issue.key);
                    work.push(Work::Build(issue));
                }
            }
        }
        self.recent = tail;
        let position = Position {
            mark: self.mark.clone(),
            search: Some(SearchAt::new(
                &self.jql,
                page.next.as_ref(),
                self.recent.clone(),
            )),
        };
        (work, Checkpoint::new(&position).map(Item::Checkpoint))
    }
}

/// One record's item: its document, or its failure.
async fn item(reader: Arc<Reader>, work: Work) -> Result<Item> {
    match work {
        Work::Fail { key, reason } => Ok(Item::Failure(DocumentFailure::new(
            reader.site.document_id(&key),
            reason,
        ))),
        Work::Build(issue) => {
            let key = issue.key.clone();
            match document(&reader, issue).await {
                Ok(doc) => Ok(Item::from(doc)),
                Err(e) if e.ends_stream() => Err(e),
                Err(e) => Ok(Item::Failure(DocumentFailure::new(
                    reader.site.document_id(&key),
                    format!("{key} could not be read in full: {e}"),
                ))),
            }
        }
    }
}

/// The issue's document: comments past the inlined page fetched (up to the
/// cap), attachment bytes downloaded when enabled.
async fn document(reader: &Reader, mut issue: Box<Issue>) -> Result<connector_core::Document> {
    let inline = issue.fields.comment.take();
    let comments = comments(
        &reader.client,
        &issue.key,
        inline,
        reader.comment_page_size,
        reader.max_comments,
    )
    .await
    .map_err(|e| e.context(format_args!("reading the comments of {}", issue.key)))?;
    let truncated: &[&str] = if comments.truncated {
        &["comments"]
    } else {
        &[]
    };
    let mut doc = issue_to_document(&reader.site, &issue, &comments.items, truncated);
    if let Some(cap) = reader.attachment_max_bytes {
        for attachment in &mut doc.attachments {
            let (Some(url), Some(size)) = (&attachment.url, attachment.size) else {
                continue;
            };
            if size > cap {
                continue;
            }
            let bytes = reader.client.attachment(url, cap).await.map_err(|e| {
                e.context(format_args!("downloading attachment {}", attachment.name))
            })?;
            attachment.bytes = Some(bytes.to_vec());
        }
        #[cfg(feature = "extract")]
        if reader.extract {
            connector_extract::Extractor::default()
                .attachments_into(&mut doc)
                .await;
        }
    }
    Ok(doc)
}
