//! Where a sync resumes: the repository it was reading, where that
//! repository's next issues page starts, and core's [`Watermark`] of the
//! last `updated_at` delivered there (with the issue ids at it).
//!
//! ```text
//! {"repo": "acme/widgets", "after": "2024-03-01T14:29:07Z", "ids_at": ["1"],
//!  "next": {"since": "2024-03-01T14:29:06Z", "page": 1}}
//! ```

use connector_core::watermark::Watermark;
use serde::{Deserialize, Serialize};

/// Where an issues page starts: the `since` it asks with and the page
/// under that `since`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// `since` (RFC 3339); absent: every issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<String>,
    /// The page number under `since`, from 1.
    #[serde(default = "first_page")]
    pub(crate) page: u32,
}

fn first_page() -> u32 {
    1
}

/// Where a repository's files phase resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FilesAt {
    /// The last path delivered (changes go in path order); absent: the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after: Option<String>,
}

/// Where a repository's discussions phase resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DiscussionsAt {
    /// The connection's cursor after the last page delivered; absent: the
    /// first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after: Option<String>,
}

/// A GitHub stream's checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Position {
    /// The repository being read (`owner/name`); absent: the first one.
    #[serde(default, alias = "repository", skip_serializing_if = "Option::is_none")]
    pub(crate) repo: Option<String>,
    /// The last `updated_at` delivered in `repo`, and the issue ids at it.
    #[serde(flatten)]
    pub(crate) mark: Watermark,
    /// Where `repo`'s next issues page starts; absent: its first page.
    #[serde(default, alias = "cursor", skip_serializing_if = "Option::is_none")]
    pub(crate) next: Option<Cursor>,
    /// `repo`'s issues are done and its discussions are being read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) discussions: Option<DiscussionsAt>,
    /// `repo`'s issues (and discussions) are done and its files are being read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) files: Option<FilesAt>,
    /// Every repository was read to its end.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) finished: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn round_trip_and_older_names() {
        let mut mark = Watermark::default();
        mark.advance(Utc.with_ymd_and_hms(2024, 3, 1, 14, 29, 7).unwrap(), "1");
        let position = Position {
            repo: Some("acme/widgets".into()),
            mark,
            next: Some(Cursor {
                since: Some("2024-03-01T14:29:06Z".into()),
                page: 1,
            }),
            discussions: None,
            files: None,
            finished: false,
        };
        let json = serde_json::to_value(&position).unwrap();
        assert_eq!(json["after"], "2024-03-01T14:29:07Z");
        assert_eq!(json["repo"], "acme/widgets");
        assert_eq!(serde_json::from_value::<Position>(json).unwrap(), position);
        let older: Position = serde_json::from_value(serde_json::json!({
            "repository": "acme/widgets",
            "after_updated": "2024-03-01T14:29:07Z",
            "keys_at_after": ["1"],
            "cursor": {"since": "2024-03-01T14:29:06Z"}
        }))
        .unwrap();
        assert_eq!(older, position);
        assert_eq!(
            serde_json::from_value::<Position>(serde_json::json!({})).unwrap(),
            Position::default()
        );
        let files = Position {
            repo: Some("acme/widgets".into()),
            files: Some(FilesAt {
                after: Some("docs/a.md".into()),
            }),
            ..Position::default()
        };
        let json = serde_json::to_value(&files).unwrap();
        assert_eq!(json["files"]["after"], "docs/a.md");
        assert_eq!(serde_json::from_value::<Position>(json).unwrap(), files);
    }
}
