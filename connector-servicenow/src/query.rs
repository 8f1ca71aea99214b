//! Encoded queries (`sysparm_query`) and the keyset cursor.
//!
//! The sync never pages by `sysparm_offset` through a table: a record
//! updated during the sync moves to the end of the `sys_updated_on` order,
//! and every record after its old place shifts one position left, so an
//! offset page boundary skips one record per edit. It asks instead for the
//! records *after the last one it has*, in (`sys_updated_on`, `sys_id`)
//! order:
//!
//! ```text
//! sys_updated_on>=T^sys_updated_on>T^ORsys_id>ID^ORDERBYsys_updated_on^ORDERBYsys_id
//! ```
//!
//! (`^OR` binds to the condition before it: `updated >= T AND (updated > T
//! OR sys_id > ID)`.) A record edited during the sync reappears later in
//! the same run, so it is delivered with its newest content.
//!
//! Times: the Table API stores `glide_date_time` values in UTC at whole
//! seconds and, with `sysparm_display_value=false` (or in the `value` half
//! of `all`), returns them as `yyyy-MM-dd HH:mm:ss` UTC; plain date-times in
//! an encoded query are read as UTC too (only `javascript:gs.dateGenerate`
//! reads the user's zone, and the sync never uses it). Windows are second
//! precise: a record stored at second `s` belongs to `[start, end)` when
//! `floor(start) <= s < ceil(end)` — the second a window boundary cuts is
//! read by both windows (at least once, never lost).

use chrono::{DateTime, DurationRound, NaiveDateTime, TimeDelta, Utc};
use connector_core::TimeWindow;
use serde::{Deserialize, Serialize};

/// `glide_date_time` as the Table API writes and reads it.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A `yyyy-MM-dd HH:mm:ss` value (UTC) as an instant.
pub(crate) fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(raw.trim(), TIME_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

/// An instant as a `yyyy-MM-dd HH:mm:ss` query value (UTC).
pub(crate) fn format_time(t: DateTime<Utc>) -> String {
    t.format(TIME_FORMAT).to_string()
}

fn floor_second(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
}

fn ceil_second(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = floor_second(t);
    if floor == t {
        t
    } else {
        floor + TimeDelta::seconds(1)
    }
}

/// Whether a record stored at second `at` belongs to `window` (see the
/// [module docs](self)).
pub(crate) fn in_window(window: &TimeWindow, at: DateTime<Utc>) -> bool {
    floor_second(window.start) <= at && at < ceil_second(window.end)
}

/// Where the next page of a listing starts: after the record `(updated,
/// sys_id)`, `skip` rows into what follows it.
///
/// `skip` is for answers the instance cut short: access controls remove
/// rows *after* the query ran, so a page may hold fewer records than asked,
/// or none, while more follow; an empty page gives no record to continue
/// after, so the next one is asked for `skip` rows further along.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// `sys_updated_on` of the last record (`yyyy-MM-dd HH:mm:ss`); absent
    /// for listings ordered by `sys_id` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) updated: Option<String>,
    /// `sys_id` of the last record; absent before the first record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sys_id: Option<String>,
    /// Rows to pass over after that record.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) skip: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How a listing is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// (`sys_updated_on`, `sys_id`): documents, windows, checkpoints.
    Updated,
    /// `sys_id` alone: the slim listing of ids.
    SysId,
}

/// Values that go into an encoded query: only what cannot end a condition
/// (`^`) or a list (`,`), nor start a script.
fn safe_value(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | ' ' | '_' | '.'))
}

/// The encoded query for one page: `filter`, the window (for
/// [`Order::Updated`]), the keyset condition after `cursor`, the order.
pub(crate) fn page_query(
    filter: Option<&str>,
    window: Option<&TimeWindow>,
    order: Order,
    cursor: Option<&Cursor>,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(filter) = filter.filter(|f| !f.is_empty()) {
        parts.push(filter.to_owned());
    }
    if let Some(window) = window {
        if !window.is_full() {
            parts.push(format!(
                "sys_updated_on>={}",
                format_time(floor_second(window.start))
            ));
        }
        parts.push(format!(
            "sys_updated_on<{}",
            format_time(ceil_second(window.end))
        ));
    }
    let after = cursor.and_then(|c| c.sys_id.as_deref().filter(|id| safe_value(id)));
    match (order, after) {
        (_, None) => {}
        (Order::SysId, Some(id)) => parts.push(format!("sys_id>{id}")),
        (Order::Updated, Some(id)) => {
            match cursor
                .and_then(|c| c.updated.as_deref())
                .filter(|t| safe_value(t))
            {
                Some(t) => {
                    parts.push(format!("sys_updated_on>={t}"));
                    parts.push(format!("sys_updated_on>{t}^ORsys_id>{id}"));
                }
                None => parts.push(format!("sys_id>{id}")),
            }
        }
    }
    parts.push(match order {
        Order::Updated => "ORDERBYsys_updated_on^ORDERBYsys_id".to_owned(),
        Order::SysId => "ORDERBYsys_id".to_owned(),
    });
    parts.join("^")
}

/// Whether `id` looks like a sys_id (a record's key in queries and URLs).
pub(crate) fn is_sys_id(id: &str) -> bool {
    safe_value(id) && !id.contains(' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_round_trip_in_utc() {
        let t = parse_time("2024-03-01 14:29:07").unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2024, 3, 1, 14, 29, 7).unwrap());
        assert_eq!(format_time(t), "2024-03-01 14:29:07");
        assert_eq!(parse_time("03/01/2024 02:29:07 PM"), None);
        assert_eq!(parse_time(""), None);
    }

    #[test]
    fn keyset_query_after_a_record() {
        let window = TimeWindow::new(
            Utc.timestamp_opt(1_700_000_000, 250_000_000).unwrap(),
            Utc.timestamp_opt(1_700_003_600, 500_000_000).unwrap(),
        );
        let cursor = Cursor {
            updated: Some("2023-11-14 22:30:00".into()),
            sys_id: Some("9d385017c611228701d22104cc95c371".into()),
            skip: 0,
        };
        assert_eq!(
            page_query(
                Some("active=true"),
                Some(&window),
                Order::Updated,
                Some(&cursor)
            ),
            "active=true^sys_updated_on>=2023-11-14 22:13:20^sys_updated_on<2023-11-14 23:13:21\
             ^sys_updated_on>=2023-11-14 22:30:00^sys_updated_on>2023-11-14 22:30:00^ORsys_id>9d385017c611228701d22104cc95c371\
             ^ORDERBYsys_updated_on^ORDERBYsys_id"
        );
        let full = TimeWindow::until(Utc.timestamp_opt(1_700_000_000, 0).unwrap());
        assert_eq!(
            page_query(None, Some(&full), Order::Updated, None),
            "sys_updated_on<2023-11-14 22:13:20^ORDERBYsys_updated_on^ORDERBYsys_id"
        );
        assert_eq!(
            page_query(None, None, Order::SysId, Some(&cursor)),
            "sys_id>9d385017c611228701d22104cc95c371^ORDERBYsys_id"
        );
        // A value that could end the condition is never put in the query.
        let hostile = Cursor {
            updated: Some("2023-11-14 22:30:00".into()),
            sys_id: Some("x^NQsys_id!=".into()),
            skip: 0,
        };
        assert!(!page_query(None, None, Order::Updated, Some(&hostile)).contains("NQ"));
    }

    #[test]
    fn a_hostile_sys_id_never_reaches_a_path_or_a_query() {
        for hostile in [
            "../../admin",
            "a/b",
            "x^NQsys_id!=",
            "%2e%2e",
            "a?b=c",
            "a#b",
            "",
        ] {
            assert!(!is_sys_id(hostile), "{hostile:?} accepted");
        }
        assert!(is_sys_id("9d385017c611228701d22104cc95c371"));
        // What passes is one path segment still (dots alone are refused there).
        assert!(connector_core::url::segment("..").is_err());
    }

    #[test]
    fn the_cut_second_is_in_both_windows() {
        let cut = Utc.timestamp_opt(1_700_000_000, 400_000_000).unwrap();
        let before = TimeWindow::new(Utc.timestamp_opt(0, 0).unwrap(), cut);
        let after = TimeWindow::new(cut, cut + TimeDelta::hours(1));
        let stored = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        assert!(in_window(&before, stored) && in_window(&after, stored));
        let next = stored + TimeDelta::seconds(1);
        assert!(!in_window(&before, next) && in_window(&after, next));
    }
}
