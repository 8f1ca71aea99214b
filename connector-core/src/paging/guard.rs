//! What stops a listing that would never end: repeated cursors, repeated
//! pages, offsets without progress, endless empty pages, the page cap.

use std::collections::HashSet;

use super::{IdFn, Page, PageCursor};
use crate::error::{Error, ErrorKind, Result};

/// A stable 64-bit key for a string (the first 8 bytes of its BLAKE3
/// digest): what the guards remember instead of the strings themselves.
///
/// ```
/// use connector_core::paging::id_key;
/// assert_eq!(id_key("ENG-1"), id_key("ENG-1"));
/// assert_ne!(id_key("ENG-1"), id_key("ENG-2"));
/// ```
pub fn id_key(text: &str) -> u64 {
    let digest = blake3::hash(text.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

fn cursor_key(cursor: &PageCursor) -> u64 {
    match cursor {
        PageCursor::Token(t) => id_key(&format!("t:{t}")),
        PageCursor::Url(u) => id_key(&format!("u:{u}")),
        PageCursor::Offset(o) => id_key(&format!("o:{o}")),
    }
}

pub(super) struct Guard<T> {
    what: String,
    max_pages: u64,
    max_empty_pages: u32,
    ids: Option<IdFn<T>>,
    pages: u64,
    empty_in_a_row: u32,
    /// Every cursor handed out in this run (8 bytes a page).
    cursors: HashSet<u64>,
    /// A fingerprint of every page's ids (8 bytes a page).
    page_prints: HashSet<u64>,
    /// The ids of the previous page, for the offset progress check.
    previous_ids: HashSet<u64>,
}

impl<T> Guard<T> {
    pub(super) fn new(
        what: String,
        max_pages: u64,
        max_empty_pages: u32,
        ids: Option<IdFn<T>>,
    ) -> Self {
        Self {
            what,
            max_pages,
            max_empty_pages,
            ids,
            pages: 0,
            empty_in_a_row: 0,
            cursors: HashSet::new(),
            page_prints: HashSet::new(),
            previous_ids: HashSet::new(),
        }
    }

    pub(super) fn what(&self) -> &str {
        &self.what
    }

    fn stop(&self, problem: impl std::fmt::Display) -> Error {
        Error::new(
            ErrorKind::Http,
            format!(
                "{}: the server {problem}; stopping instead of looping",
                self.what
            ),
        )
    }

    /// Called before each fetch: the page cap.
    pub(super) fn before_fetch(&mut self) -> Result<()> {
        if self.pages >= self.max_pages {
            return Err(Error::new(
                ErrorKind::Http,
                format!(
                    "{}: the listing passed {} pages; stopping (raise the listing's page cap if the source really is that large)",
                    self.what, self.max_pages
                ),
            ));
        }
        self.pages += 1;
        Ok(())
    }

    /// Check a fetched page before it is handed out.
    pub(super) fn check(&mut self, at: &Option<PageCursor>, page: &Page<T>) -> Result<()> {
        if let Some(at) = at {
            // The first cursor counts as seen: a page pointing back to it loops.
            self.cursors.insert(cursor_key(at));
        }
        let Some(next) = &page.next else {
            return Ok(());
        };
        if let (Some(PageCursor::Offset(now)), PageCursor::Offset(then)) = (at, next)
            && then <= now
        {
            return Err(self.stop(format_args!(
                "returned a next offset ({then}) that does not move past the current one ({now})"
            )));
        }
        if !self.cursors.insert(cursor_key(next)) {
            return Err(self.stop("returned a next-page cursor it had already returned"));
        }
        if page.items.is_empty() {
            self.empty_in_a_row += 1;
            if self.empty_in_a_row > self.max_empty_pages {
                return Err(self.stop(format_args!(
                    "returned {} empty pages in a row that still name a next page",
                    self.empty_in_a_row
                )));
            }
            return Ok(());
        }
        self.empty_in_a_row = 0;
        self.check_progress(at, next, page)
    }

    /// With ids: the same page again, or an offset page adding nothing new.
    fn check_progress(
        &mut self,
        at: &Option<PageCursor>,
        next: &PageCursor,
        page: &Page<T>,
    ) -> Result<()> {
        let Some(ids) = &self.ids else {
            return Ok(());
        };
        let keys: Vec<u64> = page
            .items
            .iter()
            .filter_map(ids)
            .map(|id| id_key(&id))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let print = keys.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, k| {
            (h ^ k).wrapping_mul(0x0100_0000_01b3)
        });
        if !self.page_prints.insert(print) {
            return Err(self.stop("returned the same page again under a new cursor"));
        }
        let offset_paging = matches!(next, PageCursor::Offset(_))
            && matches!(at, None | Some(PageCursor::Offset(_)));
        if offset_paging && keys.iter().all(|k| self.previous_ids.contains(k)) {
            return Err(self
                .stop("returned an offset page without any item the previous page did not have"));
        }
        self.previous_ids = keys.into_iter().collect();
        Ok(())
    }
}
