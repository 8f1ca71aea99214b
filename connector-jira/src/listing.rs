//! The listings besides the issue search: every key in scope (the slim
//! listing that finds deletions) and the projects `validate()` offers —
//! both through core's pager.

use std::sync::Arc;

use futures::stream::{self, StreamExt};

use connector_core::paging::{Page, Pager};
use connector_core::{Result, SlimDocument, SlimStream};

use crate::client::JiraClient;
use crate::convert::Site;
use crate::model::{KeyOnly, Named};

/// Every issue key in scope, as slim documents. Data Center pages overlap
/// (an issue deleted mid-listing must not hide the next one, which would
/// read as a deletion); the repeats are harmless to the id set.
pub(crate) fn keys(
    client: JiraClient,
    site: Site,
    jql: String,
    page_size: u32,
) -> SlimStream<'static> {
    let jql: Arc<str> = Arc::from(jql);
    let pages = Pager::new("Jira key listing")
        .ids(|key: &String| Some(key.clone()))
        .pages(None, move |cursor| {
            let client = client.clone();
            let jql = jql.clone();
            async move {
                let page = client
                    .search(&jql, cursor.as_ref(), &["key"], page_size)
                    .await?;
                let mut keys = Vec::with_capacity(page.items.len());
                for raw in &page.items {
                    // A listing that cannot name an issue cannot say it still
                    // exists: stop rather than report it deleted.
                    let key = serde_json::from_str::<KeyOnly>(raw.get())
                        .ok()
                        .and_then(|k| k.key)
                        .ok_or_else(|| {
                            connector_core::Error::new(
                                connector_core::ErrorKind::Decode,
                                "Jira key listing: an issue of the answer has no readable `key`",
                            )
                        })?;
                    keys.push(key);
                }
                Ok(Page::new(keys, page.next))
            }
        });
    pages
        .map(move |page| {
            let ids: Vec<Result<SlimDocument>> = match page {
                Ok(page) => page
                    .items
                    .iter()
                    .map(|key| Ok(SlimDocument::new(site.document_id(key))))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            stream::iter(ids)
        })
        .flatten()
        .boxed()
}

/// Every project the user can see.
pub(crate) async fn projects(client: &JiraClient) -> Result<Vec<Named>> {
    let client = client.clone();
    let mut pages = Pager::new("Jira project listing")
        .ids(|p: &Named| p.key.clone())
        .pages(None, move |cursor| {
            let client = client.clone();
            async move { client.projects(cursor.as_ref()).await }
        });
    let mut projects = Vec::new();
    while let Some(page) = pages.next().await {
        projects.extend(page?.items);
    }
    Ok(projects)
}
