//! The slim listing: the id of every current page and blog post in scope,
//! for the runner's deletion detection — the same listings as a full sync,
//! through core's pager, without bodies or expansions.

use std::sync::Arc;

use futures::stream::{self, StreamExt};

use connector_core::json::RawRecord;
use connector_core::paging::{PageCursor, Pager};
use connector_core::{Error, ErrorKind, Result, SlimDocument, SlimStream};

use crate::client::{ContentKind, SpaceInfo, space_error};
use crate::listing::{live_status, until_error};
use crate::reader::Reader;
use crate::spaces;

/// Ids asked for per slim listing page (the most v2 and v1 give).
const SLIM_PAGE_SIZE: u32 = 250;

/// Every current page and blog post id in scope, as slim documents.
pub(crate) fn ids(reader: Arc<Reader>, keys: Vec<String>) -> SlimStream<'static> {
    let resolve = {
        let reader = reader.clone();
        async move { spaces::resolve(&reader.client, &keys).await }
    };
    let ids = stream::once(resolve)
        .map(move |spaces| match spaces {
            Err(e) => stream::iter(vec![Err(e)]).boxed(),
            Ok(spaces) => {
                let listings = spaces::listings(&spaces, &reader.kinds(), None);
                let reader = reader.clone();
                stream::iter(listings)
                    .map(move |p| listing(reader.clone(), spaces[p.space].clone(), p.kind))
                    .flatten()
                    .boxed()
            }
        })
        .flatten();
    until_error(ids)
}

fn listing(
    reader: Arc<Reader>,
    space: SpaceInfo,
    kind: ContentKind,
) -> futures::stream::BoxStream<'static, Result<SlimDocument>> {
    let fetcher = reader.clone();
    let key = space.key.clone();
    let pages = Pager::new(format!("the {} id listing of space {key}", kind.as_str()))
        .ids(|r: &RawRecord| r.string_field("id"))
        .pages(None, move |cursor: Option<PageCursor>| {
            let (reader, space) = (fetcher.clone(), space.clone());
            async move {
                let c = &reader.client;
                let page = if reader.cloud() {
                    let space_id = space.id.as_deref().unwrap_or_default();
                    c.list_v2(
                        space_id,
                        kind,
                        cursor.as_ref(),
                        SLIM_PAGE_SIZE,
                        false,
                        reader.archived,
                    )
                    .await
                } else {
                    c.list_v1(
                        &space.key,
                        kind,
                        cursor.as_ref(),
                        SLIM_PAGE_SIZE,
                        None,
                        reader.archived,
                        0,
                    )
                    .await
                };
                page.map_err(|e| space_error(e, &space.key))
            }
        });
    pages
        .map(move |page| {
            let ids: Vec<Result<SlimDocument>> = match page {
                Err(e) => vec![Err(e)],
                Ok(page) => page
                    .items
                    .iter()
                    .filter(|raw| live_status(raw, reader.archived))
                    .map(|raw| match raw.string_field("id") {
                        Some(id) => Ok(SlimDocument::new(reader.site.document_id(&id))),
                        // A listing that cannot name an item cannot say it
                        // still exists: stop rather than report it deleted.
                        None => Err(Error::new(
                            ErrorKind::Decode,
                            format!("the id listing of space {key}: an item has no readable `id`"),
                        )),
                    })
                    .collect(),
            };
            stream::iter(ids)
        })
        .flatten()
        .boxed()
}
