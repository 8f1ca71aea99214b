//! The document stream: each scope is listed once (after taking a changes
//! token), then follows its changes feed from sync to sync; a checkpoint
//! after every page.
//!
//! Files whose documents need requests (exports, downloads, permissions)
//! run `concurrency` at a time, across page boundaries, and come out in
//! order: a checkpoint is yielded only after every file before it.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use connector_core::paging::{PageCursor, PageStream, until_error};
use connector_core::{Checkpoint, Item, ItemStream, Result, TimeWindow};
use futures::stream::{self, StreamExt};

use crate::checkpoint::{DriveCheckpoint, ScopeState};
use crate::client::{ChangesPage, Record, explain};
use crate::file::{Ctx, file_item};
use crate::model::File;
use crate::scope::{Scope, WHOLE, bad_record, resolve};

/// Items in flight between the listings and the output, at least.
const ORDER_WINDOW: usize = 64;

/// One unit of the ordered output.
enum Work {
    Ready(Result<Item>),
    File(Arc<Ctx>, Box<File>),
}

impl Work {
    async fn run(self) -> Result<Item> {
        match self {
            Work::Ready(item) => item,
            Work::File(ctx, file) => file_item(&ctx, *file).await,
        }
    }
}

/// A scope being read.
enum Reading {
    Listing(PageStream<Record<File>>),
    Changes(PageStream<ChangesPage>),
}

enum Task {
    Resolve,
    Scope(usize),
    Read(usize, Reading),
}

struct Run {
    ctx: Arc<Ctx>,
    window: TimeWindow,
    scopes: Vec<Scope>,
    checkpoint: DriveCheckpoint,
    tasks: VecDeque<Task>,
    done: bool,
}

/// Every document of the configured scopes, resuming from `from`.
pub(crate) fn documents(
    ctx: Arc<Ctx>,
    window: TimeWindow,
    from: DriveCheckpoint,
) -> ItemStream<'static> {
    let order = ORDER_WINDOW.max(ctx.reads.available_permits() * 2);
    let run = Run {
        ctx,
        window,
        scopes: Vec::new(),
        checkpoint: from,
        tasks: VecDeque::from([Task::Resolve]),
        done: false,
    };
    let items = stream::unfold(run, |mut run| async move {
        if run.done {
            return None;
        }
        let task = run.tasks.pop_front()?;
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
    .buffered(order);
    until_error(items).boxed()
}

impl Run {
    fn checkpoint(&self) -> Work {
        Work::Ready(Checkpoint::new(&self.checkpoint).map(Item::Checkpoint))
    }

    async fn step(&mut self, task: Task) -> Result<Vec<Work>> {
        match task {
            Task::Resolve => {
                self.scopes = resolve(&self.ctx.client, &self.ctx.config).await?;
                // Scopes no longer configured: their state goes (a full
                // sync's id listing removes their documents).
                let keys: BTreeSet<String> = self.scopes.iter().map(Scope::key).collect();
                self.checkpoint.scopes.retain(|k, _| keys.contains(k));
                self.tasks.extend((0..self.scopes.len()).map(Task::Scope));
                Ok(Vec::new())
            }
            Task::Scope(i) => {
                let reading = self.start(i).await?;
                self.tasks.push_front(Task::Read(i, reading));
                Ok(Vec::new())
            }
            Task::Read(i, Reading::Listing(mut pages)) => {
                let work = self.listing_page(i, &mut pages).await?;
                if let Some(work) = work {
                    let next = match &self.checkpoint.scopes.get(&self.scopes[i].key()) {
                        // The folder in progress is done: the next one.
                        Some(ScopeState::Listing {
                            page_token: None, ..
                        }) => Task::Scope(i),
                        Some(ScopeState::Listing { .. }) => Task::Read(i, Reading::Listing(pages)),
                        _ => Task::Scope(i),
                    };
                    self.tasks.push_front(next);
                    return Ok(work);
                }
                Ok(Vec::new())
            }
            Task::Read(i, Reading::Changes(mut pages)) => {
                let (work, more) = self.changes_page(i, &mut pages).await?;
                if more {
                    self.tasks
                        .push_front(Task::Read(i, Reading::Changes(pages)));
                }
                Ok(work)
            }
        }
    }

    /// Open scope `i` where its state says: a listing (new or part-way,
    /// at its first pending folder), or its changes feed.
    async fn start(&mut self, i: usize) -> Result<Reading> {
        let scope = &self.scopes[i];
        let key = scope.key();
        let client = &self.ctx.client;
        let state = match self.checkpoint.scopes.get(&key) {
            Some(state) => state.clone(),
            None => {
                // The token first: changes made during the listing are
                // read from it afterwards.
                let start_token = client
                    .start_token(&scope.feed())
                    .await
                    .map_err(|e| explain(e, &scope.label()))?;
                let mut folders = BTreeSet::new();
                if let Scope::Folder { id, .. } = scope {
                    folders.insert(id.clone());
                }
                let state = ScopeState::Listing {
                    start_token,
                    pending: scope.first_pending(),
                    page_token: None,
                    folders,
                };
                self.checkpoint.scopes.insert(key.clone(), state.clone());
                state
            }
        };
        Ok(match state {
            ScopeState::Listing {
                pending,
                page_token,
                ..
            } => {
                let current = pending.first().map_or(WHOLE, String::as_str);
                let what = if current == WHOLE {
                    format!("the files of {}", scope.label())
                } else {
                    format!("the files in folder {current} of {}", scope.label())
                };
                Reading::Listing(client.files(
                    what,
                    &scope.query(current, &self.window),
                    page_token,
                    None,
                ))
            }
            ScopeState::Changes { token, .. } => Reading::Changes(client.changes(
                format!("the changes of {}", scope.label()),
                &scope.feed(),
                token,
            )),
        })
    }

    /// One listing page of scope `i` → work, and its state moved on.
    /// `None` when the listing ended without a page (never: the pager
    /// yields at least one page or an error).
    async fn listing_page(
        &mut self,
        i: usize,
        pages: &mut PageStream<Record<File>>,
    ) -> Result<Option<Vec<Work>>> {
        let scope = self.scopes[i].clone();
        let key = scope.key();
        let fetched = match pages.next().await {
            None => return Ok(None),
            Some(Ok(f)) => f,
            Some(Err(e)) => return Err(explain(e, &scope.label())),
        };
        let Some(ScopeState::Listing {
            start_token,
            mut pending,
            mut folders,
            ..
        }) = self.checkpoint.scopes.get(&key).cloned()
        else {
            return Ok(None);
        };
        let mut work = Vec::new();
        for record in fetched.items {
            match record {
                Err(bad) => work.push(Work::Ready(Ok(Item::Failure(bad_record(
                    bad.id(),
                    &format!("a file of {}", scope.label()),
                    &bad.reason,
                ))))),
                Ok(file) if file.trashed => {}
                Ok(file) if file.is_folder() => {
                    if scope.is_folder() && folders.insert(file.id.clone()) {
                        pending.push(file.id);
                    }
                }
                Ok(file) => work.push(Work::File(self.ctx.clone(), Box::new(file))),
            }
        }
        let page_token = match fetched.next {
            Some(PageCursor::Token(t)) => Some(t),
            _ => None,
        };
        if page_token.is_none() && !pending.is_empty() {
            pending.remove(0);
        }
        let state = if page_token.is_none() && pending.is_empty() {
            ScopeState::Changes {
                token: start_token,
                folders,
            }
        } else {
            ScopeState::Listing {
                start_token,
                pending,
                page_token,
                folders,
            }
        };
        self.checkpoint.scopes.insert(key, state);
        work.push(self.checkpoint());
        Ok(Some(work))
    }

    /// One page of scope `i`'s changes → work (documents and deletions),
    /// and the token moved on. `true` while the feed has more pages.
    async fn changes_page(
        &mut self,
        i: usize,
        pages: &mut PageStream<ChangesPage>,
    ) -> Result<(Vec<Work>, bool)> {
        let scope = self.scopes[i].clone();
        let key = scope.key();
        let fetched = match pages.next().await {
            None => return Ok((Vec::new(), false)),
            Some(Ok(f)) => f,
            Some(Err(e)) => return Err(explain(e, &scope.label())),
        };
        let mut folders = self
            .checkpoint
            .scopes
            .get(&key)
            .map(|s| s.folders().clone())
            .unwrap_or_default();
        let mut work = Vec::new();
        let mut new_start = None;
        for page in fetched.items {
            for record in page.changes {
                let change = match record {
                    Ok(c) => c,
                    Err(bad) => {
                        work.push(Work::Ready(Ok(Item::Failure(bad_record(
                            bad.id(),
                            &format!("a change of {}", scope.label()),
                            &bad.reason,
                        )))));
                        continue;
                    }
                };
                if change.change_type.as_deref() == Some("drive") {
                    continue;
                }
                let file = match (change.removed, change.file) {
                    (false, Some(file)) => file,
                    _ => {
                        if let Some(id) = change.file_id {
                            folders.remove(&id);
                            work.push(Work::Ready(Ok(Item::Deleted(id))));
                        }
                        continue;
                    }
                };
                if file.is_folder() {
                    if let Scope::Folder { id: root, .. } = &scope
                        && file.id != *root
                    {
                        if !file.trashed && scope.holds(&file, &folders) {
                            folders.insert(file.id);
                        } else {
                            folders.remove(&file.id);
                        }
                    }
                    continue;
                }
                if file.trashed || !self.held_anywhere(&scope, &file, &folders) {
                    work.push(Work::Ready(Ok(Item::Deleted(file.id))));
                } else {
                    work.push(Work::File(self.ctx.clone(), Box::new(file)));
                }
            }
            new_start = page.new_start.or(new_start);
        }
        let token = match (&fetched.next, new_start) {
            (Some(PageCursor::Token(t)), _) => Some(t.clone()),
            (_, Some(t)) => Some(t),
            _ => None,
        };
        if let Some(token) = token {
            self.checkpoint
                .scopes
                .insert(key, ScopeState::Changes { token, folders });
        }
        work.push(self.checkpoint());
        Ok((work, fetched.next.is_some()))
    }

    /// Whether any configured scope holds `file` (so a file in two scopes
    /// is not deleted by the feed of the one it is not in).
    fn held_anywhere(&self, reading: &Scope, file: &File, folders: &BTreeSet<String>) -> bool {
        if reading.holds(file, folders) {
            return true;
        }
        self.scopes.iter().any(|scope| {
            let known = self
                .checkpoint
                .scopes
                .get(&scope.key())
                .map(ScopeState::folders);
            scope.holds(file, known.unwrap_or(&BTreeSet::new()))
        })
    }
}
