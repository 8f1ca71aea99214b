//! One library's `driveItem` delta, page by page: items → work for the
//! document stream, and the checkpoint after each page.
//!
//! A round is read in one of three ways:
//!
//! - **changes** (from a delta link, or `?token=<time>`): every change is
//!   reported, deletions and files moved out of scope as `Item::Deleted`;
//!   with permissions on, Graph marks items whose sharing changed, and a
//!   folder whose sharing changed has its files read again afterwards (a
//!   permission refresh), since files that inherit from it do not appear;
//! - **enumeration** (from scratch): the whole library;
//! - **refresh**: an enumeration that reads only the files under the
//!   folders whose sharing changed.
//!
//! A `410 Gone` (or `resyncRequired`) on a link restarts the library with
//! the changes since the link was obtained, and if Graph refuses that too,
//! from scratch.

use std::sync::Arc;

use chrono::Utc;
use connector_core::paging::{PageCursor, PageStream};
use connector_core::{Checkpoint, DocumentFailure, Error, ErrorKind, Item, Result};
use futures::StreamExt;

use crate::checkpoint::{DriveCursor, Refresh, SharePointCheckpoint};
use crate::client::{DeltaPage, DeltaStart, explain, is_resync};
use crate::convert::{Library, file_id};
use crate::documents::Work;
use crate::folders::{Folders, in_scope, is_under};
use crate::model::{DriveItem, Record};
use crate::sites::Ctx;

/// Folders whose sharing changed, remembered per round at most; past it the
/// refresh reads the whole library.
const MAX_SHARED_FOLDERS: usize = 1_000;

/// Restarts after Graph refused a link: the changes since it was obtained,
/// then from scratch.
const MAX_RESTARTS: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Round {
    Changes,
    Enumeration,
    Refresh(Vec<String>),
}

/// A library being read.
pub(crate) struct LibraryRead {
    ctx: Arc<Ctx>,
    library: Arc<Library>,
    pages: PageStream<DeltaPage>,
    round: Round,
    folders: Folders,
    /// Folder paths whose sharing changed in this round.
    shared: Vec<String>,
    restarts: u8,
}

/// What one step of a library read gave.
pub(crate) struct Step {
    pub work: Vec<Work>,
    /// Whether the library has more to read.
    pub more: bool,
}

impl LibraryRead {
    /// Start (or resume) `library` where `checkpoint` says.
    pub fn start(
        ctx: Arc<Ctx>,
        checkpoint: &SharePointCheckpoint,
        library: Arc<Library>,
    ) -> Result<Self> {
        let drive_id = library.drive_id.as_str();
        let current = checkpoint
            .current
            .as_ref()
            .filter(|c| c.drive_id == drive_id);
        let (start, round) = match checkpoint
            .refresh
            .as_ref()
            .filter(|r| r.drive_id == drive_id)
        {
            Some(refresh) => (
                refresh.next_link.clone().map_or_else(
                    || DeltaStart::Fresh {
                        drive_id: drive_id.to_owned(),
                        since: None,
                    },
                    DeltaStart::Link,
                ),
                Round::Refresh(refresh.folders.clone()),
            ),
            None => {
                let start = checkpoint.start_of(drive_id, &ctx.window);
                let round = match (&start, current) {
                    (DeltaStart::Fresh { since: None, .. }, _) => Round::Enumeration,
                    (DeltaStart::Link(_), Some(c)) if c.enumeration => Round::Enumeration,
                    _ => Round::Changes,
                };
                (start, round)
            }
        };
        let pages = Self::pager(&ctx, &library, start)?;
        Ok(Self {
            folders: Folders::new(drive_id),
            ctx,
            library,
            pages,
            round,
            // Sharing changes of the round's pages read before a restart.
            shared: current.map(|c| c.shared.clone()).unwrap_or_default(),
            restarts: 0,
        })
    }

    fn pager(ctx: &Ctx, library: &Library, start: DeltaStart) -> Result<PageStream<DeltaPage>> {
        ctx.client.delta(
            format!(
                "the delta of library {} of site {}",
                library.name,
                library.site.label()
            ),
            start,
        )
    }

    /// Read the next page into work and update `checkpoint`.
    pub async fn next(&mut self, checkpoint: &mut SharePointCheckpoint) -> Result<Step> {
        let fetched = match self.pages.next().await {
            None => return Ok(Step::done(Vec::new())),
            Some(Ok(fetched)) => fetched,
            Some(Err(e)) => return self.failed(e, checkpoint),
        };
        let mut work = Vec::new();
        let mut delta_link = None;
        for page in fetched.items {
            for record in page.items {
                self.item(record, &mut work).await?;
            }
            delta_link = page.delta_link.or(delta_link);
        }
        let drive_id = self.library.drive_id.clone();
        let next = match fetched.next {
            None => None,
            Some(PageCursor::Url(url)) => Some(url),
            Some(other) => {
                return Err(Error::new(
                    ErrorKind::Other,
                    format!("unexpected delta cursor {other:?}"),
                ));
            }
        };
        let mut more = next.is_some();
        match (&self.round, next) {
            (Round::Refresh(folders), next) => {
                checkpoint.refresh = next.map(|next_link| Refresh {
                    drive_id: drive_id.clone(),
                    folders: folders.clone(),
                    next_link: Some(next_link),
                });
            }
            (round, Some(next_link)) => {
                checkpoint.current = Some(DriveCursor {
                    drive_id,
                    next_link,
                    enumeration: *round == Round::Enumeration,
                    shared: self.shared.clone(),
                });
            }
            (_, None) => {
                checkpoint.current = None;
                if let Some(link) = delta_link {
                    checkpoint.delta_links.insert(drive_id.clone(), link);
                    checkpoint.delta_at.insert(drive_id.clone(), Utc::now());
                }
                if !self.shared.is_empty() {
                    self.start_refresh(checkpoint)?;
                    more = true;
                }
            }
        }
        work.push(Work::Ready(
            Checkpoint::new(&*checkpoint).map(Item::Checkpoint),
        ));
        Ok(Step { work, more })
    }

    /// One delta item → work.
    async fn item(&mut self, record: Record<DriveItem>, work: &mut Vec<Work>) -> Result<()> {
        let drive_id = &self.library.drive_id;
        let item = match record {
            Ok(item) => item,
            Err(bad) => {
                work.push(failure(
                    file_id(drive_id, bad.id()),
                    format!(
                        "a drive item of library {} is not in the expected shape: {}",
                        self.library.name, bad.reason
                    ),
                ));
                return Ok(());
            }
        };
        let changes = self.round == Round::Changes;
        let sharing_changed = changes && item.shared_changed && self.ctx.config.permissions;
        if item.root.is_some() {
            self.folders.insert(&item.id, String::new());
            if sharing_changed {
                self.shared_folder(String::new());
            }
            return Ok(());
        }
        if item.deleted.is_some() {
            self.folders.remove(&item.id);
            // Folders were never documents: the runner ignores their ids.
            if !matches!(self.round, Round::Refresh(_)) {
                work.push(Work::Ready(Ok(Item::Deleted(file_id(drive_id, &item.id)))));
            }
            return Ok(());
        }
        let parent = self.folders.parent_path(&self.ctx.client, &item).await?;
        if item.folder.is_some() {
            let path = format!("{parent}/{}", item.name.as_deref().unwrap_or_default());
            if sharing_changed {
                self.shared_folder(path.clone());
            }
            self.folders.insert(&item.id, path);
            return Ok(());
        }
        if item.file.is_none() {
            return Ok(()); // packages, notebooks and other non-file items
        }
        let scoped = in_scope(&self.ctx.config.folders, &parent);
        let wanted = scoped
            && match &self.round {
                Round::Refresh(folders) => folders.iter().any(|f| is_under(&parent, f)),
                _ => true,
            };
        if wanted {
            work.push(Work::File {
                ctx: self.ctx.clone(),
                library: self.library.clone(),
                folder: parent,
                item: Box::new(item),
            });
        } else if changes && !scoped {
            // Moved out of the configured folders: gone from this source.
            work.push(Work::Ready(Ok(Item::Deleted(file_id(drive_id, &item.id)))));
        }
        Ok(())
    }

    fn shared_folder(&mut self, path: String) {
        if self.shared.len() >= MAX_SHARED_FOLDERS {
            self.shared = vec![String::new()];
        }
        if !self.shared.iter().any(|f| is_under(&path, f)) {
            self.shared.push(path);
        }
    }

    /// Read again, for their permissions, the files under the folders
    /// whose sharing changed in the round just finished.
    fn start_refresh(&mut self, checkpoint: &mut SharePointCheckpoint) -> Result<()> {
        let folders = std::mem::take(&mut self.shared);
        tracing::info!(library = %self.library.name, folders = ?folders, "sharing changed on folders; reading their files' permissions again");
        checkpoint.refresh = Some(Refresh {
            drive_id: self.library.drive_id.clone(),
            folders: folders.clone(),
            next_link: None,
        });
        self.pages = Self::pager(
            &self.ctx,
            &self.library,
            DeltaStart::Fresh {
                drive_id: self.library.drive_id.clone(),
                since: None,
            },
        )?;
        self.round = Round::Refresh(folders);
        self.folders.clear();
        Ok(())
    }

    /// A page failed: restart after a refused link, skip a library the app
    /// may not read, or end the sync.
    fn failed(&mut self, e: Error, checkpoint: &mut SharePointCheckpoint) -> Result<Step> {
        let drive_id = self.library.drive_id.clone();
        if is_resync(&e) && self.restarts < MAX_RESTARTS {
            self.restarts += 1;
            let start = match &self.round {
                // The round's own delta link stays: only the refresh starts over.
                Round::Refresh(_) => {
                    if let Some(refresh) = checkpoint.refresh.as_mut() {
                        refresh.next_link = None;
                    }
                    DeltaStart::Fresh {
                        drive_id: drive_id.clone(),
                        since: None,
                    }
                }
                _ => {
                    let scratch = self.restarts == MAX_RESTARTS;
                    let start = checkpoint.restart_of(&drive_id, &self.ctx.window, scratch);
                    checkpoint.forget(&drive_id);
                    start
                }
            };
            let from_scratch = matches!(start, DeltaStart::Fresh { since: None, .. });
            if from_scratch && self.round == Round::Changes {
                tracing::warn!(library = %self.library.name, error = %e, "Graph refused the delta link and the changes since; reading the library again from scratch (files deleted since the last sync are found by a full sync)");
                self.round = Round::Enumeration;
            } else {
                tracing::warn!(library = %self.library.name, error = %e, "Graph refused the delta link; reading again");
            }
            self.pages = Self::pager(&self.ctx, &self.library, start)?;
            self.folders.clear();
            self.shared.clear();
            return Ok(Step::done(Vec::new()).more());
        }
        if matches!(e.kind(), ErrorKind::Forbidden | ErrorKind::NotFound) {
            // One library the app cannot read: say so, go on with the rest.
            let e = explain(
                e,
                &format!(
                    "library {} of site {}",
                    self.library.name,
                    self.library.site.label()
                ),
            );
            return Ok(Step::done(vec![failure(
                format!("drives/{drive_id}"),
                e.to_string(),
            )]));
        }
        Err(e)
    }
}

impl Step {
    fn done(work: Vec<Work>) -> Self {
        Self { work, more: false }
    }

    fn more(mut self) -> Self {
        self.more = true;
        self
    }
}

fn failure(id: String, reason: String) -> Work {
    Work::Ready(Ok(Item::Failure(DocumentFailure::new(id, reason))))
}
