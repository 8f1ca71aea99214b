//! The id listing: every file in scope (a fresh delta enumeration of each
//! library, with each file's access when permissions are read) and every
//! site page. The runner compares it with what it holds to find deletions
//! after a full sync; a sync continuing a delta reports its own.

use std::sync::Arc;

use connector_core::paging::{PageStream, ordered};
use connector_core::{Result, SlimDocument, SlimStream};
use futures::stream::{self, StreamExt};

use crate::client::{DeltaPage, DeltaStart};
use crate::convert::{Library, page_id};
use crate::file::slim_file;
use crate::folders::{Folders, in_scope};
use crate::model::{Site, record_key};
use crate::sites::{Ctx, site_libraries};

/// Every document id in scope.
pub(crate) fn ids(ctx: Arc<Ctx>) -> SlimStream<'static> {
    let sites = ctx.config.sites.clone();
    stream::iter(sites)
        .then(move |url| {
            let ctx = ctx.clone();
            async move { site_ids(ctx, url).await }
        })
        .flat_map(|result| match result {
            Ok(ids) => ids,
            Err(e) => stream::iter([Err(e)]).boxed(),
        })
        .boxed()
}

async fn site_ids(ctx: Arc<Ctx>, url: String) -> Result<SlimStream<'static>> {
    let found = site_libraries(&ctx, &url).await?;
    let mut streams: Vec<SlimStream<'static>> = Vec::new();
    for library in found.libraries {
        streams.push(library_ids(ctx.clone(), library)?);
    }
    if ctx.config.include_pages {
        streams.push(page_ids(&ctx, &found.site)?);
    }
    Ok(stream::iter(streams).flatten().boxed())
}

struct Listing {
    ctx: Arc<Ctx>,
    library: Library,
    pages: PageStream<DeltaPage>,
    folders: Folders,
}

fn library_ids(ctx: Arc<Ctx>, library: Library) -> Result<SlimStream<'static>> {
    let pages = ctx.client.delta(
        format!("the id listing of library {}", library.name),
        DeltaStart::Fresh {
            drive_id: library.drive_id.clone(),
            since: None,
        },
    )?;
    let listing = Listing {
        folders: Folders::new(&library.drive_id),
        ctx,
        library,
        pages,
    };
    Ok(stream::unfold(listing, |mut listing| async move {
        let entries = match listing.pages.next().await? {
            Ok(page) => listing.page(page.items).await,
            Err(e) => vec![Err(e)],
        };
        Some((stream::iter(entries), listing))
    })
    .flatten()
    .boxed())
}

impl Listing {
    /// The entries of one delta page; an error ends the listing.
    async fn page(&mut self, pages: Vec<DeltaPage>) -> Vec<Result<SlimDocument>> {
        let mut files = Vec::new();
        for record in pages.into_iter().flat_map(|p| p.items) {
            let item = match record {
                Ok(item) => item,
                // Listed as present: an item that could not be read is
                // never reported deleted.
                Err(bad) => {
                    files.extend(bad.id);
                    continue;
                }
            };
            if item.root.is_some() {
                self.folders.insert(&item.id, String::new());
                continue;
            }
            if item.deleted.is_some() {
                continue;
            }
            let parent = match self.folders.parent_path(&self.ctx.client, &item).await {
                Ok(parent) => parent,
                Err(e) => return vec![Err(e)],
            };
            if item.folder.is_some() {
                let name = item.name.as_deref().unwrap_or_default();
                self.folders.insert(&item.id, format!("{parent}/{name}"));
            } else if item.file.is_some() && in_scope(&self.ctx.config.folders, &parent) {
                files.push(item.id);
            }
        }
        let ctx = self.ctx.clone();
        let drive_id = self.library.drive_id.clone();
        ordered(files, ctx.concurrency, move |item_id| {
            let ctx = ctx.clone();
            let drive_id = drive_id.clone();
            async move { slim_file(&ctx, &drive_id, &item_id).await }
        })
        .collect()
        .await
    }
}

fn page_ids(ctx: &Ctx, site: &Site) -> Result<SlimStream<'static>> {
    let site_id = site.id.clone();
    Ok(ctx
        .client
        .page_ids(site)?
        .flat_map(move |page| {
            let entries: Vec<Result<SlimDocument>> = match page {
                Ok(page) => page
                    .items
                    .iter()
                    .filter_map(record_key)
                    .map(|id| Ok(SlimDocument::new(page_id(&site_id, &id))))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            stream::iter(entries)
        })
        .boxed())
}
