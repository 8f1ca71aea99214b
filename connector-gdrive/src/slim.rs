//! Every document id in scope, cheaply: the listings with only `id`,
//! `mimeType` and `ownedByMe` asked for, folders walked for folder scopes.
//! A listing that fails ends the stream with the error (an incomplete id
//! list would read as deletions).

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use connector_core::paging::PageStream;
use connector_core::{Result, SlimDocument, SlimStream, TimeWindow};
use futures::stream::{self, StreamExt};

use crate::client::{Record, explain};
use crate::file::Ctx;
use crate::model::{File, SLIM_FIELDS};
use crate::scope::{Scope, resolve};

struct Walk {
    ctx: Arc<Ctx>,
    scopes: Option<VecDeque<Scope>>,
    /// The scope being listed, its folders still to list, those seen.
    current: Option<(Scope, VecDeque<String>, BTreeSet<String>)>,
    pages: Option<PageStream<Record<File>>>,
    done: bool,
}

/// The ids of every file in the configured scopes.
pub(crate) fn ids(ctx: Arc<Ctx>) -> SlimStream<'static> {
    let walk = Walk {
        ctx,
        scopes: None,
        current: None,
        pages: None,
        done: false,
    };
    stream::unfold(walk, |mut walk| async move {
        if walk.done {
            return None;
        }
        match walk.next().await {
            Ok(Some(ids)) => Some((
                stream::iter(ids.into_iter().map(Ok).collect::<Vec<_>>()),
                walk,
            )),
            Ok(None) => None,
            Err(e) => {
                walk.done = true;
                Some((stream::iter(vec![Err(e)]), walk))
            }
        }
    })
    .flatten()
    .boxed()
}

impl Walk {
    /// The next page's ids; `None` at the end.
    async fn next(&mut self) -> Result<Option<Vec<SlimDocument>>> {
        if self.scopes.is_none() {
            let scopes = resolve(&self.ctx.client, &self.ctx.config).await?;
            self.scopes = Some(scopes.into());
        }
        loop {
            if let Some(pages) = &mut self.pages {
                let Some((scope, pending, seen)) = &mut self.current else {
                    return Ok(None);
                };
                match pages.next().await {
                    Some(Ok(page)) => {
                        let mut out = Vec::new();
                        for record in page.items {
                            let file = record.map_err(|bad| {
                                connector_core::Error::new(
                                    connector_core::ErrorKind::Decode,
                                    format!(
                                        "a file of {} is not in the expected shape: {}",
                                        scope.label(),
                                        bad.reason
                                    ),
                                )
                            })?;
                            if file.is_folder() {
                                if scope.is_folder() && seen.insert(file.id.clone()) {
                                    pending.push_back(file.id);
                                }
                            } else {
                                out.push(SlimDocument::new(file.id));
                            }
                        }
                        return Ok(Some(out));
                    }
                    Some(Err(e)) => return Err(explain(e, &scope.label())),
                    None => self.pages = None,
                }
            }
            // The next folder of the scope, or the next scope.
            if let Some((scope, pending, _)) = &mut self.current
                && let Some(next) = pending.pop_front()
            {
                let query = scope.query(&next, &TimeWindow::until(chrono::Utc::now()));
                self.pages = Some(self.ctx.client.files(
                    format!("the ids of {}", scope.label()),
                    &query,
                    None,
                    Some(SLIM_FIELDS),
                ));
                continue;
            }
            let Some(scope) = self.scopes.as_mut().and_then(VecDeque::pop_front) else {
                return Ok(None);
            };
            let pending: VecDeque<String> = scope.first_pending().into();
            let seen: BTreeSet<String> = pending.iter().cloned().collect();
            self.current = Some((scope, pending, seen));
        }
    }
}
