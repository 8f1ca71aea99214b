//! Where a Confluence stream resumes: a position in the full listing, or
//! core's [`Watermark`] of the change search.
//!
//! The JSON is the one earlier versions stored: a listing position keeps
//! its fields, and the change position `{"after", "ids_at_after"}` reads as
//! a watermark (its serde aliases), so a sync interrupted before an upgrade
//! resumes after it.

use connector_core::watermark::Watermark;
use serde::{Deserialize, Serialize};

use crate::client::ContentKind;

/// Where a Confluence stream resumes: a position in the full listing (a
/// full sync) or in the change search (an incremental window).
///
/// ```
/// use connector_confluence::{ConfluenceCheckpoint, ContentKind, ListingPosition};
/// let cp = ConfluenceCheckpoint::Listing(ListingPosition {
///     space: 1, space_key: "OPS".into(), kind: ContentKind::BlogPost,
///     cursor: Some("/wiki/api/v2/spaces/2/blogposts?cursor=abc".into()), start: 0, last_id: Some("98".into()),
/// });
/// let json = serde_json::to_string(&cp).unwrap();
/// assert!(json.starts_with(r#"{"mode":"listing","space":1,"space_key":"OPS","kind":"blogpost""#), "{json}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ConfluenceCheckpoint {
    /// The next listing page of a full sync.
    Listing(ListingPosition),
    /// The last change delivered by a window search.
    Changes(Watermark),
}

/// Where a full listing resumes: the next listing page to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingPosition {
    /// Index of the space in the sorted list of spaces in scope.
    pub space: usize,
    /// Its key, to find it again if the list changed.
    pub space_key: String,
    /// Pages, then blog posts.
    pub kind: ContentKind,
    /// Cloud: the link of the next v2 page (`None`: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Data Center: the `start` of the next page.
    #[serde(default)]
    pub start: u64,
    /// The last content id delivered in this space and kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_id: Option<String>,
}

impl ListingPosition {
    /// The first page of `kind` in space number `space`.
    pub(crate) fn first(space: usize, space_key: &str, kind: ContentKind) -> Self {
        Self {
            space,
            space_key: space_key.to_owned(),
            kind,
            cursor: None,
            start: 0,
            last_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use connector_core::Checkpoint;

    /// Exactly what the previous version stored: it must still resume.
    #[test]
    fn checkpoints_stored_by_the_previous_version_still_decode() {
        let changes: ConfluenceCheckpoint = serde_json::from_str(
            r#"{"mode":"changes","after":"2024-03-01T12:07:00Z","ids_at_after":["100007","500007"]}"#,
        )
        .unwrap();
        let ConfluenceCheckpoint::Changes(mark) = changes else {
            panic!("not a change position: {changes:?}");
        };
        assert_eq!(
            mark.after,
            Some(Utc.with_ymd_and_hms(2024, 3, 1, 12, 7, 0).unwrap())
        );
        assert_eq!(mark.ids_at, ["100007", "500007"]);
        let empty: ConfluenceCheckpoint = serde_json::from_str(r#"{"mode":"changes"}"#).unwrap();
        assert_eq!(empty, ConfluenceCheckpoint::Changes(Watermark::default()));
        let listing: ConfluenceCheckpoint = serde_json::from_str(
            r#"{"mode":"listing","space":0,"space_key":"ENG","kind":"page","cursor":"/wiki/api/v2/spaces/100/pages?cursor=c100&limit=100&sort=id&status=current&body-format=storage","start":0,"last_id":"100100"}"#,
        )
        .unwrap();
        assert_eq!(
            listing,
            ConfluenceCheckpoint::Listing(ListingPosition {
                cursor: Some("/wiki/api/v2/spaces/100/pages?cursor=c100&limit=100&sort=id&status=current&body-format=storage".into()),
                last_id: Some("100100".into()),
                ..ListingPosition::first(0, "ENG", ContentKind::Page)
            })
        );
        let dc: ConfluenceCheckpoint = serde_json::from_str(
            r#"{"mode":"listing","space":1,"space_key":"OPS","kind":"blogpost","start":95,"last_id":"77"}"#,
        )
        .unwrap();
        assert!(matches!(dc, ConfluenceCheckpoint::Listing(p) if p.start == 95));
    }

    #[test]
    fn checkpoints_round_trip() {
        let mut mark = Watermark::default();
        mark.advance(chrono::DateTime::<Utc>::UNIX_EPOCH, "1");
        let changes = ConfluenceCheckpoint::Changes(mark);
        let cp = Checkpoint::new(&changes).unwrap();
        assert_eq!(cp.0["mode"], "changes");
        assert_eq!(cp.decode::<ConfluenceCheckpoint>().unwrap(), changes);
        assert!(
            Checkpoint(serde_json::json!({"mode": "other"}))
                .decode::<ConfluenceCheckpoint>()
                .is_err()
        );
    }
}
