//! A site's modern pages. Pages have no delta: every sync lists them and
//! yields those modified since the site's last listing (or the window
//! start), and reports as deleted the pages the last listing had and this
//! one does not — so a sync continuing from its checkpoint reports every
//! deletion itself.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use connector_core::paging::PageStream;
use connector_core::{Checkpoint, DocumentFailure, ErrorKind, Item, Result};
use futures::StreamExt;

use crate::checkpoint::{CLOCK_MARGIN, PagesMark, SharePointCheckpoint};
use crate::client::explain;
use crate::convert::{page_document, page_id};
use crate::documents::Work;
use crate::model::{Record, Site, SitePage};
use crate::sites::Ctx;

/// Page ids remembered per site at most; a site with more is listed, but
/// its deleted pages are left to the id listing of a full sync.
const MAX_TRACKED_PAGES: usize = 100_000;

/// A site's pages being listed.
pub(crate) struct PagesRead {
    site: Arc<Site>,
    pages: PageStream<Record<SitePage>>,
    /// Pages modified before this are not yielded again.
    since: Option<DateTime<Utc>>,
    listed_at: DateTime<Utc>,
    /// The ids of the last listing, when there was one.
    previous: Option<Vec<String>>,
    /// The ids of this listing, until there are too many to keep.
    seen: Option<BTreeSet<String>>,
}

impl PagesRead {
    /// Start listing `site`'s pages.
    pub fn start(
        ctx: Arc<Ctx>,
        checkpoint: &SharePointCheckpoint,
        site: Arc<Site>,
    ) -> Result<Self> {
        let mark = checkpoint.pages.get(&site.id);
        let since = match mark {
            Some(mark) => Some(mark.listed_at - CLOCK_MARGIN),
            None => (!ctx.window.is_full()).then_some(ctx.window.start),
        };
        let pages = ctx.client.pages(&site)?;
        Ok(Self {
            previous: mark.map(|m| m.ids.clone()),
            site,
            pages,
            since,
            listed_at: Utc::now(),
            seen: Some(BTreeSet::new()),
        })
    }

    /// The next page of the listing as work; `None` once it is done.
    pub async fn next(
        &mut self,
        checkpoint: &mut SharePointCheckpoint,
    ) -> Result<Option<Vec<Work>>> {
        let fetched = match self.pages.next().await {
            None => return Ok(None),
            Some(Ok(fetched)) => fetched,
            Some(Err(e)) if matches!(e.kind(), ErrorKind::Forbidden | ErrorKind::NotFound) => {
                let e = explain(e, &format!("the pages of site {}", self.site.label()));
                return Ok(Some(vec![failure(
                    format!("sites/{}/pages", self.site.id),
                    e.to_string(),
                )]));
            }
            Some(Err(e)) => return Err(e),
        };
        let mut work = Vec::new();
        for record in fetched.items {
            self.page(record, &mut work);
        }
        if fetched.next.is_none() {
            self.finish(checkpoint, &mut work);
        }
        Ok(Some(work))
    }

    fn page(&mut self, record: Record<SitePage>, work: &mut Vec<Work>) {
        let id = match &record {
            Ok(page) => Some(page.id.as_str()),
            Err(bad) => bad.id.as_deref(),
        };
        if let Some(seen) = &mut self.seen {
            if seen.len() >= MAX_TRACKED_PAGES {
                tracing::warn!(site = %self.site.label(), "more than {MAX_TRACKED_PAGES} pages: deleted pages of this site are found by a full sync only");
                self.seen = None;
            } else if let Some(id) = id {
                seen.insert(id.to_owned());
            }
        }
        match record {
            Ok(page) => {
                let changed = match (self.since, page.last_modified_date_time) {
                    (Some(since), Some(modified)) => modified >= since,
                    _ => true,
                };
                if changed {
                    work.push(Work::Ready(Ok(Item::from(page_document(
                        &self.site, &page,
                    )))));
                }
            }
            Err(bad) => work.push(failure(
                page_id(&self.site.id, bad.id()),
                format!(
                    "a page of site {} is not in the expected shape: {}",
                    self.site.label(),
                    bad.reason
                ),
            )),
        }
    }

    /// The listing is complete: report the pages gone since the last one,
    /// remember this one.
    fn finish(&mut self, checkpoint: &mut SharePointCheckpoint, work: &mut Vec<Work>) {
        let Some(seen) = self.seen.take() else {
            checkpoint.pages.remove(&self.site.id);
            work.push(Work::Ready(
                Checkpoint::new(&*checkpoint).map(Item::Checkpoint),
            ));
            return;
        };
        for gone in self
            .previous
            .iter()
            .flatten()
            .filter(|id| !seen.contains(*id))
        {
            work.push(Work::Ready(Ok(Item::Deleted(page_id(&self.site.id, gone)))));
        }
        checkpoint.pages.insert(
            self.site.id.clone(),
            PagesMark {
                listed_at: self.listed_at,
                ids: seen.into_iter().collect(),
            },
        );
        work.push(Work::Ready(
            Checkpoint::new(&*checkpoint).map(Item::Checkpoint),
        ));
    }
}

fn failure(id: String, reason: String) -> Work {
    Work::Ready(Ok(Item::Failure(DocumentFailure::new(id, reason))))
}
