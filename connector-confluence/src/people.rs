//! People named by id — Cloud comment authors and mentions (account ids),
//! Data Center mentions (user keys) — turned into display names with the
//! user lookups Confluence offers: `GET /rest/api/user/bulk` on Cloud (up
//! to [`USER_BATCH`] accounts a request), `GET /rest/api/user?key=…` on
//! Data Center. Each id is looked up once per sync, found or not; a lookup
//! that fails leaves the id unnamed (the text then reads `@unknown user`,
//! an author keeps the id), never fails a document.

use std::collections::HashMap;
use std::sync::Mutex;

use connector_core::paging::ordered;
use futures::StreamExt;

use crate::client::{ConfluenceClient, USER_BATCH};

/// Ids remembered at most in one sync (the memory stays bounded on a site
/// with millions of people; past it lookups start over).
const MAX_PEOPLE: usize = 50_000;

/// Data Center user-key lookups in flight at once (one request each).
const KEY_LOOKUPS: usize = 4;

/// Display names by id, for one sync.
#[derive(Debug)]
pub(crate) struct People {
    client: ConfluenceClient,
    /// `None`: looked up, not found.
    names: Mutex<HashMap<String, Option<String>>>,
    /// One lookup at a time: pages finished at once that mention the same
    /// people wait for the first lookup instead of repeating it.
    lookup: tokio::sync::Mutex<()>,
}

impl People {
    pub(crate) fn new(client: ConfluenceClient) -> Self {
        Self {
            client,
            names: Mutex::default(),
            lookup: tokio::sync::Mutex::new(()),
        }
    }

    /// Look up every id of `ids` not seen yet in this sync: account ids in
    /// bulk (Cloud), user keys one by one (Data Center). Ids of the other
    /// deployment's kind cannot be looked up and stay unnamed.
    pub(crate) async fn learn(&self, ids: impl IntoIterator<Item = (String, bool)>) {
        let cloud = self.client.cloud();
        let ids: Vec<String> = ids
            .into_iter()
            .filter(|(_, is_key)| *is_key != cloud)
            .map(|(id, _)| id)
            .collect();
        if self.unknown(&ids).is_empty() {
            return;
        }
        let _one_at_a_time = self.lookup.lock().await;
        let unknown = self.unknown(&ids);
        if unknown.is_empty() {
            return;
        }
        let mut found: Vec<(String, Option<String>)> = Vec::with_capacity(unknown.len());
        if cloud {
            for batch in unknown.chunks(USER_BATCH) {
                match self.client.user_names(batch).await {
                    Ok(named) => {
                        let named: HashMap<String, String> = named.into_iter().collect();
                        found.extend(batch.iter().map(|id| (id.clone(), named.get(id).cloned())));
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "could not look up Confluence accounts");
                        found.extend(batch.iter().map(|id| (id.clone(), None)));
                    }
                }
            }
        } else {
            let client = &self.client;
            let looked_up: Vec<(String, Option<String>)> =
                ordered(unknown, KEY_LOOKUPS, |key| async move {
                    let name = match client.user_by_key(&key).await {
                        Ok(name) => name,
                        Err(e) => {
                            tracing::debug!(error = %e, "could not look up a Confluence user key");
                            None
                        }
                    };
                    (key, name)
                })
                .collect()
                .await;
            found.extend(looked_up);
        }
        if let Ok(mut names) = self.names.lock() {
            if names.len() + found.len() > MAX_PEOPLE {
                names.clear();
            }
            names.extend(found);
        }
    }

    /// The ids of `ids` not looked up yet, sorted, without repeats.
    fn unknown(&self, ids: &[String]) -> Vec<String> {
        let Ok(names) = self.names.lock() else {
            return Vec::new();
        };
        let mut unknown: Vec<String> = ids
            .iter()
            .filter(|id| !names.contains_key(*id))
            .cloned()
            .collect();
        unknown.sort();
        unknown.dedup();
        unknown
    }

    /// The display name of `id`, when known.
    pub(crate) fn name(&self, id: &str) -> Option<String> {
        self.names.lock().ok()?.get(id).cloned().flatten()
    }

    /// The names known for `ids`, for a converter.
    pub(crate) fn names_of<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> HashMap<String, String> {
        let Ok(names) = self.names.lock() else {
            return HashMap::new();
        };
        ids.into_iter()
            .filter_map(|id| Some((id.to_owned(), names.get(id)?.clone()?)))
            .collect()
    }
}
