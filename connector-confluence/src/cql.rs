//! Building the CQL a sync runs: scope, time window in the user's zone, order.
//!
//! Confluence reads CQL date literals (`"2026-03-08 01:30"`) in the
//! *searching user's* time zone (Cloud: the profile's zone, else the site's;
//! Data Center: the user's or the server's) and only to the minute. The
//! window becomes local minutes that never cut it (core's
//! [`zone`](connector_core::zone): start rounded down, end rounded up,
//! widened around daylight-saving changes, or by 14 hours each way when
//! the zone is unknown). The query returns a superset of the window;
//! [`in_window`] keeps exactly `[start, end)` using each item's own
//! `version.when`.

use chrono::{DateTime, Utc};

use connector_core::TimeWindow;
use connector_core::zone::{Zone, local_minutes};

use crate::client::ContentKind;

/// The order every change search uses, so a checkpoint can say "after this".
pub const ORDER_BY: &str = "order by lastmodified asc";

/// The CQL condition for content kinds and spaces.
fn scope(kinds: &[ContentKind], spaces: &[String]) -> Vec<String> {
    let mut parts = Vec::new();
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    parts.push(format!("type in ({})", kinds.join(",")));
    if !spaces.is_empty() {
        let keys: Vec<String> = spaces.iter().map(|k| format!("\"{k}\"")).collect();
        parts.push(format!("space in ({})", keys.join(",")));
    }
    parts
}

/// The CQL for content of `kinds` in `spaces` (all visible when empty)
/// modified inside `window`, read in `zone`, oldest first.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use connector_core::TimeWindow;
/// use connector_core::zone::Zone;
/// use connector_confluence::cql::changes_cql;
/// use connector_confluence::ContentKind;
///
/// let window = TimeWindow::new(
///     Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 30).unwrap(),
///     Utc.with_ymd_and_hms(2026, 1, 10, 13, 0, 0).unwrap(),
/// );
/// let kinds = [ContentKind::Page, ContentKind::BlogPost];
/// assert_eq!(
///     changes_cql(&kinds, &["ENG".into()], &window, Zone::Known(chrono_tz::Europe::Berlin)),
///     "type in (page,blogpost) AND space in (\"ENG\") AND lastmodified >= \"2026-01-10 13:00\" \
///      AND lastmodified < \"2026-01-10 14:00\" order by lastmodified asc"
/// );
/// // Zone unknown: 14 hours wider each way.
/// assert!(changes_cql(&kinds, &[], &window, Zone::Unknown).contains(">= \"2026-01-09 22:00\""));
/// ```
pub fn changes_cql(
    kinds: &[ContentKind],
    spaces: &[String],
    window: &TimeWindow,
    zone: Zone,
) -> String {
    let mut parts = scope(kinds, spaces);
    let local = local_minutes(window, zone);
    if let Some(start) = local.start_text() {
        parts.push(format!("lastmodified >= \"{start}\""));
    }
    parts.push(format!("lastmodified < \"{}\"", local.end_text()));
    format!("{} {ORDER_BY}", parts.join(" AND "))
}

/// The CQL selecting content by id (the Cloud enrichment of a v2 page).
///
/// ```
/// assert_eq!(connector_confluence::cql::ids_cql(&["1".into(), "22".into()]), "id in (1,22)");
/// ```
pub fn ids_cql(ids: &[String]) -> String {
    format!("id in ({})", ids.join(","))
}

/// Whether content modified at `modified` belongs in `window`.
pub fn in_window(modified: DateTime<Utc>, window: &TimeWindow) -> bool {
    window.contains(modified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn bounds_round_outwards_and_widen_around_dst() {
        let berlin = Zone::Known(chrono_tz::Europe::Berlin);
        let t = Utc.with_ymd_and_hms(2024, 6, 1, 10, 0, 30).unwrap();
        let window = TimeWindow::new(t, t + chrono::Duration::minutes(1));
        assert_eq!(
            changes_cql(&[ContentKind::Page], &[], &window, berlin),
            "type in (page) AND lastmodified >= \"2024-06-01 12:00\" AND lastmodified < \"2024-06-01 12:02\" order by lastmodified asc"
        );
        // 2024-10-27 02:30 happens twice in Berlin: widen.
        let ambiguous = Utc.with_ymd_and_hms(2024, 10, 27, 0, 30, 0).unwrap();
        let window = TimeWindow::new(ambiguous, ambiguous + chrono::Duration::minutes(1));
        let cql = changes_cql(&[ContentKind::Page], &[], &window, berlin);
        assert!(cql.contains(">= \"2024-10-27 01:30\""), "{cql}");
        let cql = changes_cql(
            &[ContentKind::Page],
            &[],
            &TimeWindow::until(t),
            Zone::Known(chrono_tz::UTC),
        );
        assert_eq!(
            cql,
            "type in (page) AND lastmodified < \"2024-06-01 10:01\" order by lastmodified asc"
        );
    }
}
