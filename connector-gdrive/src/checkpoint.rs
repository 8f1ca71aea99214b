//! Where a Drive sync resumes, and where the next one continues.
//!
//! Per scope (`my_drive`, `drive:<id>`, `folder:<id>`), either a listing in
//! progress — the changes token taken before it started, the folders still
//! to list and the page of the first — or the changes token where the next
//! sync starts (`changes.list`'s `nextPageToken` part-way through a feed,
//! its `newStartPageToken` at the end). Folder scopes keep the ids of the
//! folders under them, to tell which changed files are theirs.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The state of a sync, as stored between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DriveCheckpoint {
    /// Per scope key.
    #[serde(default)]
    pub scopes: BTreeMap<String, ScopeState>,
}

/// One scope's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum ScopeState {
    /// A listing part-way.
    Listing {
        /// The changes token taken before the listing started: changes
        /// made while it ran are read from there.
        start_token: String,
        /// Folders still to list, the one in progress first (`*`: the
        /// whole scope in one query).
        pending: Vec<String>,
        /// The next page of the first pending folder.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page_token: Option<String>,
        /// Folder scopes: the folders found so far, the root included.
        #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
        folders: BTreeSet<String>,
    },
    /// Reading changes from `token`.
    Changes {
        /// A `changes.list` page token.
        token: String,
        /// Folder scopes: the folders under the root, the root included.
        #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
        folders: BTreeSet<String>,
    },
}

impl ScopeState {
    pub fn folders(&self) -> &BTreeSet<String> {
        match self {
            ScopeState::Listing { folders, .. } | ScopeState::Changes { folders, .. } => folders,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_shape_is_stable() {
        let stored = r#"{"scopes":{"drive:0ABcD":{"state":"changes","token":"4242"},"folder:1xYz":{"state":"listing","start_token":"17","pending":["1xYz","1sub"],"page_token":"~!!~AI9F","folders":["1sub","1xYz"]},"my_drive":{"state":"changes","token":"99"}}}"#;
        let cp: DriveCheckpoint = serde_json::from_str(stored).unwrap();
        assert_eq!(cp.scopes.len(), 3);
        assert_eq!(
            cp.scopes["drive:0ABcD"],
            ScopeState::Changes {
                token: "4242".into(),
                folders: BTreeSet::new()
            }
        );
        assert_eq!(serde_json::to_string(&cp).unwrap(), stored);
    }
}
