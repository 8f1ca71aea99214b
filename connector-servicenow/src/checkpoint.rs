//! Where a sync resumes: the table it was reading and the keyset position
//! after the last page it delivered, plus core's [`Watermark`] of the last
//! `sys_updated_on` delivered in that table.
//!
//! ```text
//! {"table": "incident", "after": "2024-03-01T14:29:07Z", "ids_at": ["9d38…"],
//!  "next": {"updated": "2024-03-01 14:29:07", "sys_id": "9d38…"}}
//! ```

use connector_core::watermark::Watermark;
use serde::{Deserialize, Serialize};

use crate::query::Cursor;

/// A ServiceNow stream's checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Position {
    /// The table being read; absent: the first configured table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) table: Option<String>,
    /// The last `sys_updated_on` delivered in `table` (and the sys_ids at it).
    #[serde(flatten)]
    pub(crate) mark: Watermark,
    /// Where `table`'s next page starts; absent: its first page.
    #[serde(default, alias = "cursor", skip_serializing_if = "Option::is_none")]
    pub(crate) next: Option<Cursor>,
    /// Every table was read to its end.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) finished: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn round_trip_and_older_shapes() {
        let mut mark = Watermark::default();
        mark.advance(
            Utc.with_ymd_and_hms(2024, 3, 1, 14, 29, 7).unwrap(),
            "9d385017c611228701d22104cc95c371",
        );
        let position = Position {
            table: Some("incident".into()),
            mark,
            next: Some(Cursor {
                updated: Some("2024-03-01 14:29:07".into()),
                sys_id: Some("9d385017c611228701d22104cc95c371".into()),
                skip: 0,
            }),
            finished: false,
        };
        let json = serde_json::to_value(&position).unwrap();
        assert_eq!(json["after"], "2024-03-01T14:29:07Z");
        assert_eq!(serde_json::from_value::<Position>(json).unwrap(), position);
        // The watermark's older field names, and `cursor` for `next`.
        let older: Position = serde_json::from_value(serde_json::json!({
            "table": "incident",
            "after_updated": "2024-03-01T14:29:07Z",
            "keys_at_after": ["9d385017c611228701d22104cc95c371"],
            "cursor": {"updated": "2024-03-01 14:29:07", "sys_id": "9d385017c611228701d22104cc95c371"}
        }))
        .unwrap();
        assert_eq!(older, position);
        assert_eq!(
            serde_json::from_value::<Position>(serde_json::json!({})).unwrap(),
            Position::default()
        );
    }
}
