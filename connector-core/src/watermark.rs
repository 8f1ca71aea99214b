//! The high-water-mark checkpoint of a change search ordered by time
//! (`updated ASC`, `lastmodified asc`): where the next search starts, and
//! which items at that instant were already delivered.
//!
//! Correctness never depends on the server honouring its `ORDER BY`: an
//! item older than the mark is still delivered (the sink's content index
//! drops true repeats), and once the order is seen broken the mark stops
//! advancing, so a resume searches from the last instant before which
//! everything had certainly been seen.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use connector_core::watermark::Watermark;
//!
//! let t = |s| Utc.timestamp_opt(s, 0).unwrap();
//! let mut mark = Watermark::default();
//! mark.advance(t(10), "ENG-1");
//! mark.advance(t(20), "ENG-2");
//! mark.advance(t(20), "ENG-3");
//! assert_eq!(mark.after, Some(t(20)));
//! assert!(mark.covers(t(20), "ENG-2") && !mark.covers(t(20), "ENG-4"));
//! // Out of order: delivered, and the mark holds where order was last known.
//! mark.advance(t(15), "ENG-0");
//! assert!(mark.is_disordered());
//! mark.advance(t(30), "ENG-5");
//! assert_eq!(mark.after, Some(t(20)));
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Ids remembered at the mark's instant at most; past it the mark keeps the
/// instant and forgets the ids (a resume then re-reads that instant, and the
/// content index skips what is unchanged).
pub const MAX_IDS_AT_MARK: usize = 10_000;

/// Where a time-ordered change search resumes; see the [module docs](self).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// The latest time delivered while the order held.
    #[serde(
        default,
        alias = "after_updated",
        skip_serializing_if = "Option::is_none"
    )]
    pub after: Option<DateTime<Utc>>,
    /// Ids delivered at exactly `after`.
    #[serde(
        default,
        alias = "keys_at_after",
        alias = "ids_at_after",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ids_at: Vec<String>,
    /// The server returned an item older than one before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disordered: bool,
}

impl Watermark {
    /// Whether an item changed at `at` with `id` was delivered before the
    /// mark (so a resumed search may skip it).
    pub fn covers(&self, at: DateTime<Utc>, id: &str) -> bool {
        match self.after {
            None => false,
            Some(after) => at < after || (at == after && self.ids_at.iter().any(|i| i == id)),
        }
    }

    /// An item changed at `at` with `id` was delivered.
    pub fn advance(&mut self, at: DateTime<Utc>, id: &str) {
        if self.disordered {
            return;
        }
        match self.after {
            Some(after) if at < after => self.disordered = true,
            Some(after) if at == after => {
                if self.ids_at.len() < MAX_IDS_AT_MARK {
                    self.ids_at.push(id.to_owned());
                }
            }
            _ => {
                self.after = Some(at);
                self.ids_at.clear();
                self.ids_at.push(id.to_owned());
            }
        }
    }

    /// Whether the server's order was seen broken in this run.
    pub fn is_disordered(&self) -> bool {
        self.disordered
    }

    /// Where a resumed search starts: the mark, or `window_start` when
    /// there is none.
    pub fn resume_at(&self, window_start: DateTime<Utc>) -> DateTime<Utc> {
        self.after
            .map_or(window_start, |after| after.max(window_start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(s, 0).unwrap()
    }

    #[test]
    fn stored_jira_and_confluence_checkpoints_still_read() {
        let jira: Watermark = serde_json::from_str(
            r#"{"after_updated":"2026-01-01T00:00:10Z","keys_at_after":["ENG-1"]}"#,
        )
        .unwrap();
        assert_eq!(
            (jira.after, jira.ids_at.as_slice()),
            (Some(t(1_767_225_610)), &["ENG-1".to_owned()][..])
        );
        let confluence: Watermark =
            serde_json::from_str(r#"{"after":"2026-01-01T00:00:10Z","ids_at_after":["42"]}"#)
                .unwrap();
        assert_eq!(confluence.ids_at, ["42"]);
        assert_eq!(serde_json::to_string(&Watermark::default()).unwrap(), "{}");
    }

    #[test]
    fn ids_at_one_instant_are_bounded() {
        let mut mark = Watermark::default();
        for i in 0..(MAX_IDS_AT_MARK + 10) {
            mark.advance(t(5), &i.to_string());
        }
        assert_eq!(mark.ids_at.len(), MAX_IDS_AT_MARK);
        assert_eq!(mark.resume_at(t(1)), t(5));
        assert_eq!(Watermark::default().resume_at(t(1)), t(1));
    }
}
