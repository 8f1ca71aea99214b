//! The document stream: sites → libraries (each through its delta, see
//! [`library`](crate::library)) → site pages, with a checkpoint after every
//! delta page and every site's pages.
//!
//! Files whose documents need requests (text, bytes, permissions) run
//! `concurrency` at a time, across page boundaries, and come out in order:
//! a checkpoint is yielded only after every file before it.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use connector_core::paging::until_error;
use connector_core::{Checkpoint, Error, ErrorKind, Item, ItemStream, Result};
use futures::stream::{self, StreamExt};

use crate::checkpoint::SharePointCheckpoint;
use crate::convert::Library;
use crate::file::file_item;
use crate::library::LibraryRead;
use crate::model::{DriveItem, Site};
use crate::pages::PagesRead;
use crate::sites::{Ctx, site_libraries};

/// Items in flight between the listings and the output, at least: files
/// being read wait here in order while later ones proceed.
const ORDER_WINDOW: usize = 256;

/// One unit of the ordered output: an item ready now, or a file whose
/// document needs requests.
pub(crate) enum Work {
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

enum Task {
    Site(String),
    Library(Arc<Library>),
    Reading(Box<LibraryRead>),
    Pages(Arc<Site>),
    Listing(Box<PagesRead>),
}

struct Run {
    ctx: Arc<Ctx>,
    checkpoint: SharePointCheckpoint,
    tasks: VecDeque<Task>,
    /// The libraries the configured sites have now.
    drives: HashSet<String>,
    done: bool,
}

/// Every document of the configured sites, resuming from `from`.
pub(crate) fn documents(ctx: Arc<Ctx>, from: SharePointCheckpoint) -> ItemStream<'static> {
    let scope = ctx.config.scope_key();
    if from.scope.as_ref().is_some_and(|s| *s != scope) {
        let e = Error::new(
            ErrorKind::Config,
            "the stored sync state was made for another scope (sites, libraries, folders, include_pages or permissions changed since); run a full sync to start over",
        );
        return stream::iter([Err(e)]).boxed();
    }
    let mut checkpoint = from;
    checkpoint.scope = Some(scope);
    let window = ORDER_WINDOW.max(ctx.concurrency);
    let run = Run {
        tasks: ctx.config.sites.iter().cloned().map(Task::Site).collect(),
        ctx,
        checkpoint,
        drives: HashSet::new(),
        done: false,
    };
    let items = stream::unfold(run, |mut run| async move {
        if run.done {
            return None;
        }
        let Some(task) = run.tasks.pop_front() else {
            run.done = true;
            let work = run.forget_vanished();
            return Some((stream::iter(work), run));
        };
        let work = match run.step(task).await {
            Ok(work) => work,
            Err(e) => {
                run.done = true;
                vec![Work::Ready(Err(e))]
            }
        };
        Some((stream::iter(work), run))
    })
    .flatten()
    .map(Work::run)
    .buffered(window);
    until_error(items).boxed()
}

impl Run {
    /// Every site was read: drop the state of libraries no site has any
    /// more. Their documents cannot be named from here; the id listing of
    /// a full sync removes them.
    fn forget_vanished(&mut self) -> Vec<Work> {
        let vanished: Vec<String> = self
            .checkpoint
            .delta_links
            .keys()
            .filter(|d| !self.drives.contains(*d))
            .cloned()
            .collect();
        if vanished.is_empty() {
            return Vec::new();
        }
        tracing::warn!(libraries = ?vanished, "libraries synced before are gone from their sites; a full sync removes their documents");
        for drive_id in &vanished {
            self.checkpoint.forget(drive_id);
        }
        vec![Work::Ready(
            Checkpoint::new(&self.checkpoint).map(Item::Checkpoint),
        )]
    }

    async fn step(&mut self, task: Task) -> Result<Vec<Work>> {
        match task {
            Task::Site(url) => {
                let found = site_libraries(&self.ctx, &url).await?;
                self.drives
                    .extend(found.libraries.iter().map(|l| l.drive_id.clone()));
                let mut next: Vec<Task> = found
                    .libraries
                    .into_iter()
                    .map(|l| Task::Library(Arc::new(l)))
                    .collect();
                if self.ctx.config.include_pages {
                    next.push(Task::Pages(Arc::new(found.site)));
                }
                for task in next.into_iter().rev() {
                    self.tasks.push_front(task);
                }
                Ok(found
                    .failures
                    .into_iter()
                    .map(|f| Work::Ready(Ok(Item::Failure(f))))
                    .collect())
            }
            Task::Library(library) => {
                let read = LibraryRead::start(self.ctx.clone(), &self.checkpoint, library)?;
                self.tasks.push_front(Task::Reading(Box::new(read)));
                Ok(Vec::new())
            }
            Task::Reading(mut read) => {
                let step = read.next(&mut self.checkpoint).await?;
                if step.more {
                    self.tasks.push_front(Task::Reading(read));
                }
                Ok(step.work)
            }
            Task::Pages(site) => {
                let read = PagesRead::start(self.ctx.clone(), &self.checkpoint, site)?;
                self.tasks.push_front(Task::Listing(Box::new(read)));
                Ok(Vec::new())
            }
            Task::Listing(mut read) => match read.next(&mut self.checkpoint).await? {
                Some(work) => {
                    self.tasks.push_front(Task::Listing(read));
                    Ok(work)
                }
                None => Ok(Vec::new()),
            },
        }
    }
}
