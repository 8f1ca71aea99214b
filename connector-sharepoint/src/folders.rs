//! Folder paths of the library being read: delta answers name an item's
//! parent by id only, so the paths of the folders seen are kept, and a
//! parent not seen yet (a resumed or incremental read) is asked for once.

use std::collections::HashMap;

use connector_core::Result;
use percent_encoding::percent_decode_str;

use crate::client::GraphClient;
use crate::model::DriveItem;

/// Folder paths remembered at most (the map is cleared past it and refilled
/// on demand), so memory does not grow with the library.
const MAX_FOLDERS: usize = 200_000;

/// Folder id → path (`/General/Specs`; the root is ``) of one library.
#[derive(Debug, Default)]
pub(crate) struct Folders {
    drive_id: String,
    paths: HashMap<String, String>,
}

impl Folders {
    /// Paths of `drive_id`, starting empty.
    pub fn new(drive_id: &str) -> Self {
        Self {
            drive_id: drive_id.to_owned(),
            paths: HashMap::new(),
        }
    }

    /// Forget every path (the library is read again).
    pub fn clear(&mut self) {
        self.paths.clear();
    }

    /// Remember `id` at `path`.
    pub fn insert(&mut self, id: &str, path: String) {
        if self.paths.len() >= MAX_FOLDERS {
            self.paths.clear();
        }
        self.paths.insert(id.to_owned(), path);
    }

    /// Forget a deleted folder.
    pub fn remove(&mut self, id: &str) {
        self.paths.remove(id);
    }

    /// The folder an item is in: from `parentReference.path` when Graph
    /// gave it, from the folders seen so far, or by asking for the parent.
    /// `Err` only for an error that ends the sync; a parent that cannot be
    /// read files the item under the library root.
    pub async fn parent_path(&mut self, client: &GraphClient, item: &DriveItem) -> Result<String> {
        let Some(parent) = &item.parent_reference else {
            return Ok(String::new());
        };
        if let Some(path) = parent.path.as_deref().and_then(folder_from_reference) {
            return Ok(path);
        }
        let Some(parent_id) = &parent.id else {
            return Ok(String::new());
        };
        if let Some(path) = self.paths.get(parent_id) {
            return Ok(path.clone());
        }
        let path = match client.item(&self.drive_id, parent_id).await {
            Ok(folder) if folder.root.is_some() => String::new(),
            Ok(folder) => {
                let above = folder
                    .parent_reference
                    .as_ref()
                    .and_then(|r| r.path.as_deref())
                    .and_then(folder_from_reference)
                    .unwrap_or_default();
                format!("{above}/{}", folder.name.unwrap_or_default())
            }
            Err(e) if e.ends_stream() => return Err(e),
            Err(e) => {
                tracing::debug!(error = %e, "could not read a parent folder; filing the item under the library root");
                String::new()
            }
        };
        self.insert(parent_id, path.clone());
        Ok(path)
    }
}

/// `/drives/{id}/root:/General/Specs` → `/General/Specs`; the root → ``.
/// Percent-escapes are decoded; an escape that is not one (`%+5`, `%zz`)
/// stays as written.
pub(crate) fn folder_from_reference(path: &str) -> Option<String> {
    let (_, rest) = path.split_once("root:")?;
    let decoded = percent_decode_str(rest).decode_utf8_lossy();
    Some(decoded.trim_end_matches('/').to_owned())
}

/// Whether a file in `folder` is inside the configured `folders`
/// (case-insensitive, whole path segments).
pub(crate) fn in_scope(folders: &[String], folder: &str) -> bool {
    folders.is_empty() || folders.iter().any(|f| is_under(folder, f))
}

/// Whether `folder` is `root` or below it (`` is the library root).
pub(crate) fn is_under(folder: &str, root: &str) -> bool {
    let root = root.trim_end_matches('/');
    root.is_empty()
        || folder.eq_ignore_ascii_case(root)
        || folder
            .get(..root.len() + 1)
            .is_some_and(|head| head.eq_ignore_ascii_case(&format!("{root}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_scope() {
        let f = vec!["/Specs".to_string()];
        assert!(in_scope(&f, "/Specs"));
        assert!(in_scope(&f, "/specs/2024"));
        assert!(!in_scope(&f, "/SpecsOld"));
        assert!(!in_scope(&f, ""));
        assert!(in_scope(&[], ""));
        assert!(in_scope(&["/".to_string()], "/x"));
        assert!(!in_scope(&f, "/Spécs"), "multi-byte names do not split");
        assert!(is_under("/a/b", ""), "the root holds everything");
    }

    #[test]
    fn reference_paths_are_percent_decoded_by_the_book() {
        assert_eq!(
            folder_from_reference("/drives/b!x/root:/My%20Folder/Sub").as_deref(),
            Some("/My Folder/Sub")
        );
        assert_eq!(folder_from_reference("/drive/root:").as_deref(), Some(""));
        assert_eq!(folder_from_reference("/sites/x"), None);
        assert_eq!(
            folder_from_reference("/drive/root:/%C3%A9t%C3%A9").as_deref(),
            Some("/été")
        );
        // Not escapes: kept as written, never a control byte.
        let odd = folder_from_reference("/drive/root:/a%+5b%zz%4").unwrap();
        assert_eq!(odd, "/a%+5b%zz%4");
        assert!(!odd.contains('\u{5}'));
    }
}
