//! Where an issue stream resumes: the search it was running and the page it
//! had reached, plus core's [`Watermark`] of the last `updated` delivered.
//!
//! A resume continues the *same* search (the stored JQL) at the next page,
//! so it neither depends on Jira honouring `ORDER BY updated` nor repeats
//! what came before. Checkpoints written before the page position existed
//! (`{"after_updated", "keys_at_after"}`) still decode: they resume by
//! searching again from the watermark.

use connector_core::paging::PageCursor;
use connector_core::watermark::Watermark;
use serde::{Deserialize, Serialize};

/// An issue stream's checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Position {
    /// The last `updated` delivered while Jira's order held.
    #[serde(flatten)]
    pub(crate) mark: Watermark,
    /// The search being run and the next page; absent in checkpoints
    /// written by earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) search: Option<SearchAt>,
}

/// A point inside one search.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SearchAt {
    /// The exact JQL (a page token or offset means something only for it).
    pub(crate) jql: String,
    /// Cloud: the next page's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
    /// Data Center: the next page's offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) offset: Option<u64>,
    /// Keys at the end of the page before: the next page may repeat them
    /// (Data Center pages overlap).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) recent: Vec<String>,
}

impl SearchAt {
    /// The position before the page at `next` (`None`: the search is done).
    pub(crate) fn new(jql: &str, next: Option<&PageCursor>, recent: Vec<String>) -> Self {
        let (token, offset) = match next {
            Some(PageCursor::Token(t)) => (Some(t.clone()), None),
            Some(PageCursor::Offset(o)) => (None, Some(*o)),
            Some(PageCursor::Url(u)) => (Some(u.clone()), None),
            None => (None, None),
        };
        Self {
            jql: jql.to_owned(),
            token,
            offset,
            recent,
        }
    }

    /// The next page's cursor; `None` when the search had finished.
    pub(crate) fn next(&self) -> Option<PageCursor> {
        match (&self.token, self.offset) {
            (Some(token), _) => Some(PageCursor::Token(token.clone())),
            (None, Some(offset)) => Some(PageCursor::Offset(offset)),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    /// Exactly what the connector stored before the watermark and the page
    /// position: it must still resume.
    #[test]
    fn checkpoints_stored_by_earlier_versions_still_decode() {
        let stored = serde_json::json!({
            "after_updated": "2024-03-01T14:29:00Z",
            "keys_at_after": ["ENG-149", "ENG-150"]
        });
        let position: Position = serde_json::from_value(stored).unwrap();
        assert_eq!(
            position.mark.after,
            Some(Utc.with_ymd_and_hms(2024, 3, 1, 14, 29, 0).unwrap())
        );
        assert_eq!(position.mark.ids_at, ["ENG-149", "ENG-150"]);
        assert!(position.search.is_none());
        // The empty checkpoint of a run that delivered nothing.
        let empty: Position =
            serde_json::from_value(serde_json::json!({"after_updated": null, "keys_at_after": []}))
                .unwrap();
        assert_eq!(empty, Position::default());
    }

    #[test]
    fn round_trip() {
        let mut mark = Watermark::default();
        mark.advance(Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(), "ENG-1");
        for next in [
            Some(PageCursor::Token("CAEaAggD".into())),
            Some(PageCursor::Offset(90)),
            None,
        ] {
            let position = Position {
                mark: mark.clone(),
                search: Some(SearchAt::new(
                    "project = ENG",
                    next.as_ref(),
                    vec!["ENG-9".into()],
                )),
            };
            let json = serde_json::to_value(&position).unwrap();
            let back: Position = serde_json::from_value(json).unwrap();
            assert_eq!(back, position);
            assert_eq!(back.search.unwrap().next(), next);
        }
    }
}
