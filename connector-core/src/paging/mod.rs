//! Paging every listing goes through: next-token, `Link`/next-URL and
//! offset paging as one stream, with read-ahead, loop guards, a page cap and
//! a progress check — so no source crate writes its own page loop.
//!
//! A source gives a [`Pager`] one function: "fetch the page at this cursor,
//! return its items and the next cursor". The pager turns it into a
//! [`PageStream`] of [`Fetched`] pages in order, and ends it with an error
//! (never a silent stop, never an endless loop) when the server
//!
//! - returns a cursor it returned before, anywhere in the run (a set of
//!   cursor hashes, not a short window, so a cycle of any length is caught);
//! - returns a page whose items are the same as an earlier page's, or — for
//!   offset paging — a page that adds no item the previous page did not
//!   have (with [`Pager::ids`]);
//! - names a next page after many empty pages in a row;
//! - offers an offset that does not move forward;
//! - passes the page cap of the listing.
//!
//! With read-ahead (default one page), the next page is requested as soon as
//! the current page's cursor is known, while the consumer still works on the
//! current one; pages still come out in order, and memory holds at most the
//! read-ahead pages.
//!
//! ```
//! use connector_core::paging::{Page, PageCursor, Pager};
//! use futures::StreamExt;
//! # async fn demo() {
//! // A listing of 250 numbers served 100 at a time by offset.
//! let pages = Pager::new("numbers").pages(None, |cursor| async move {
//!     let start = match cursor { Some(PageCursor::Offset(n)) => n, _ => 0 };
//!     let items: Vec<u64> = (start..(start + 100).min(250)).collect();
//!     Ok(Page::from_offset(items, start, 250))
//! });
//! let sizes: Vec<usize> = pages.map(|p| p.unwrap().items.len()).collect().await;
//! assert_eq!(sizes, [100, 100, 50]);
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo());
//! ```

mod guard;
mod sub;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{self, BoxStream, Stream, StreamExt};
use tokio::sync::mpsc;

use crate::error::{Error, ErrorKind, Result};

pub use guard::id_key;
pub use sub::{Capped, collect_capped, ordered, until_error};

use guard::Guard;

/// Where a page starts, in the three shapes sources use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PageCursor {
    /// A token from the body (`nextPageToken`, `cursor`, a continuation token).
    Token(String),
    /// A URL from a `Link` header or a `next` link in the body
    /// (`_links.next`, `@odata.nextLink`).
    Url(String),
    /// An item offset (`startAt`, `start`, `offset`).
    Offset(u64),
}

/// One page as a source returns it: its items and where the next one
/// starts (`None` on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The next page's cursor.
    pub next: Option<PageCursor>,
}

impl<T> Page<T> {
    /// A page followed by the page at `next`.
    pub fn new(items: Vec<T>, next: Option<PageCursor>) -> Self {
        Self { items, next }
    }

    /// The last page.
    pub fn last(items: Vec<T>) -> Self {
        Self { items, next: None }
    }

    /// A page of an offset-paged listing: the next offset is
    /// `start + items.len()` while that is below `total`.
    pub fn from_offset(items: Vec<T>, start: u64, total: u64) -> Self {
        let end = start + items.len() as u64;
        let next = (!items.is_empty() && end < total).then_some(PageCursor::Offset(end));
        Self { items, next }
    }
}

/// A page the pager fetched: its items, the cursor it was fetched at, and
/// the next page's cursor — what a connector stores in its checkpoint to
/// resume after this page.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched<T> {
    /// The cursor this page was fetched at (`None` for the first page).
    pub at: Option<PageCursor>,
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts; `None` after the last page.
    pub next: Option<PageCursor>,
}

/// Pages of one listing, in order; an `Err` ends it.
pub type PageStream<T> = BoxStream<'static, Result<Fetched<T>>>;

/// Default page cap of a listing: far past any real source (a billion items
/// at a thousand per page), so it only stops a server that never ends.
pub const DEFAULT_MAX_PAGES: u64 = 1_000_000;

/// Empty pages in a row that may still name a next page (some APIs return a
/// few while they filter); more than this is a server that never ends.
pub const DEFAULT_MAX_EMPTY_PAGES: u32 = 16;

type IdFn<T> = Box<dyn Fn(&T) -> Option<String> + Send + Sync>;

/// Builds a [`PageStream`] for one listing; see the [module docs](self).
#[must_use]
pub struct Pager<T> {
    what: String,
    read_ahead: usize,
    max_pages: u64,
    max_empty_pages: u32,
    ids: Option<IdFn<T>>,
}

impl<T> std::fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("what", &self.what)
            .field("read_ahead", &self.read_ahead)
            .field("max_pages", &self.max_pages)
            .field("max_empty_pages", &self.max_empty_pages)
            .field("ids", &self.ids.is_some())
            .finish()
    }
}

impl<T: Send + 'static> Pager<T> {
    /// A pager for the listing `what` (named in errors: "Jira search",
    /// "comments of ENG-1"), with read-ahead of one page.
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            read_ahead: 1,
            max_pages: DEFAULT_MAX_PAGES,
            max_empty_pages: DEFAULT_MAX_EMPTY_PAGES,
            ids: None,
        }
    }

    /// Fetch up to `pages` pages ahead of the consumer (0: only on demand).
    pub fn read_ahead(mut self, pages: usize) -> Self {
        self.read_ahead = pages;
        self
    }

    /// End the listing with an error after `pages` pages.
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// Allow this many empty pages in a row that still name a next page.
    pub fn max_empty_pages(mut self, pages: u32) -> Self {
        self.max_empty_pages = pages;
        self
    }

    /// How to identify an item: turns on the progress check (a page equal
    /// to an earlier one, or an offset page that adds nothing new to the
    /// previous page, ends the listing with an error). Items without an id
    /// are ignored by the check.
    pub fn ids(mut self, id: impl Fn(&T) -> Option<String> + Send + Sync + 'static) -> Self {
        self.ids = Some(Box::new(id));
        self
    }

    /// The pages from `first` on (`None`: the first page), each fetched by
    /// `fetch(cursor)`.
    pub fn pages<F, Fut>(self, first: Option<PageCursor>, fetch: F) -> PageStream<T>
    where
        F: FnMut(Option<PageCursor>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Page<T>>> + Send + 'static,
    {
        let read_ahead = self.read_ahead;
        let chain = Chain {
            guard: Guard::new(self.what, self.max_pages, self.max_empty_pages, self.ids),
            fetch,
            cursor: first,
            done: false,
        };
        if read_ahead == 0 {
            return stream::unfold(chain, |mut chain| async move {
                let page = chain.next().await?;
                Some((page, chain))
            })
            .boxed();
        }
        ReadAhead::spawn(chain, read_ahead).boxed()
    }
}

/// The fetch loop: one page at a time, checked by the guard.
struct Chain<T, F> {
    guard: Guard<T>,
    fetch: F,
    cursor: Option<PageCursor>,
    done: bool,
}

impl<T, F, Fut> Chain<T, F>
where
    F: FnMut(Option<PageCursor>) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    /// The next page, `None` after the last one or after an error.
    async fn next(&mut self) -> Option<Result<Fetched<T>>> {
        if self.done {
            return None;
        }
        let outcome = match self.guard.before_fetch() {
            Err(e) => Err(e),
            Ok(()) => {
                let at = self.cursor.take();
                match (self.fetch)(at.clone()).await {
                    Err(e) => Err(e),
                    Ok(page) => self.guard.check(&at, &page).map(|()| Fetched {
                        at,
                        items: page.items,
                        next: page.next,
                    }),
                }
            }
        };
        match &outcome {
            Ok(fetched) if fetched.next.is_some() => self.cursor = fetched.next.clone(),
            _ => self.done = true,
        }
        Some(outcome)
    }
}

/// Pages fetched by a background task, at most `ahead` in flight or
/// waiting; dropping the stream stops the task.
struct ReadAhead<T> {
    rx: mpsc::Receiver<Result<Fetched<T>>>,
    task: Option<tokio::task::JoinHandle<()>>,
    what: String,
}

impl<T: Send + 'static> ReadAhead<T> {
    fn spawn<F, Fut>(mut chain: Chain<T, F>, ahead: usize) -> Self
    where
        F: FnMut(Option<PageCursor>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Page<T>>> + Send + 'static,
    {
        let what = chain.guard.what().to_owned();
        let (tx, rx) = mpsc::channel(ahead);
        let task = tokio::spawn(async move {
            loop {
                // Take the slot before fetching, so no more than `ahead`
                // pages are in flight or waiting at any time.
                let Ok(permit) = tx.reserve().await else {
                    return; // the consumer is gone
                };
                match chain.next().await {
                    Some(page) => permit.send(page),
                    None => return,
                }
            }
        });
        Self {
            rx,
            task: Some(task),
            what,
        }
    }
}

impl<T> Stream for ReadAhead<T> {
    type Item = Result<Fetched<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(page)) => Poll::Ready(Some(page)),
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                // The channel closed: a normal end, unless the task panicked,
                // which must not look like the last page (that would lose data).
                let Some(task) = self.task.as_mut() else {
                    return Poll::Ready(None);
                };
                match Pin::new(task).poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(result) => {
                        self.task = None;
                        match result {
                            Ok(()) => Poll::Ready(None),
                            Err(e) => Poll::Ready(Some(Err(Error::new(
                                ErrorKind::Other,
                                format!("{}: the page fetch failed: {e}", self.what),
                            )))),
                        }
                    }
                }
            }
        }
    }
}

impl<T> Drop for ReadAhead<T> {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests;
