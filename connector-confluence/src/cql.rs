//! Building the CQL a sync runs: scope, time window in the user's zone, order.
//!
//! Confluence reads CQL date literals (`"2026-03-08 01:30"`) in the
//! *searching user's* time zone (Cloud: the profile's zone, else the site's;
//! Data Center: the user's or the server's) and only to the minute. The
//! window's UTC bounds are therefore converted to that zone, the start
//! rounded down and the end rounded up to the minute, and widened by an hour
//! where a daylight-saving change makes the local time ambiguous or skipped.
//! The query returns a superset of the window; [`in_window`] keeps exactly
//! `[start, end)` using each item's own `version.when`.

use chrono::{DateTime, Duration, LocalResult, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use connector_core::{Error, Result, TimeWindow};

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
/// modified inside `window`, read in the zone `tz`, oldest first.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use connector_core::TimeWindow;
/// use connector_confluence::cql::changes_cql;
/// use connector_confluence::ContentKind;
///
/// let window = TimeWindow::new(
///     Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 30).unwrap(),
///     Utc.with_ymd_and_hms(2026, 1, 10, 13, 0, 0).unwrap(),
/// );
/// assert_eq!(
///     changes_cql(&[ContentKind::Page, ContentKind::BlogPost], &["ENG".into()], &window, chrono_tz::Europe::Berlin),
///     "type in (page,blogpost) AND space in (\"ENG\") AND lastmodified >= \"2026-01-10 13:00\" \
///      AND lastmodified < \"2026-01-10 14:00\" order by lastmodified asc"
/// );
/// ```
pub fn changes_cql(
    kinds: &[ContentKind],
    spaces: &[String],
    window: &TimeWindow,
    tz: Tz,
) -> String {
    let mut parts = scope(kinds, spaces);
    if !window.is_full() {
        parts.push(format!(
            "lastmodified >= \"{}\"",
            local_bound(window.start, tz, true)
        ));
    }
    parts.push(format!(
        "lastmodified < \"{}\"",
        local_bound(window.end, tz, false)
    ));
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

/// Parse an IANA zone name from `/rest/api/user/current` (`"Australia/Sydney"`).
pub fn parse_zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        Error::config(format!(
            "unknown time zone {name:?} from Confluence; set the connector's time zone explicitly"
        ))
    })
}

/// A local wall-clock time for CQL, never later than `t` when `round_down`,
/// never earlier when not — whatever DST does around it.
fn local_bound(t: DateTime<Utc>, tz: Tz, round_down: bool) -> String {
    let local = t.with_timezone(&tz).naive_local();
    let minute = local
        .with_second(0)
        .and_then(|l| l.with_nanosecond(0))
        .unwrap_or(local);
    let mut bound = if round_down || minute == local {
        minute
    } else {
        minute + Duration::minutes(1)
    };
    if !matches!(tz.from_local_datetime(&bound), LocalResult::Single(_)) {
        bound = if round_down {
            bound - Duration::hours(1)
        } else {
            bound + Duration::hours(1)
        };
    }
    bound.format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_round_outwards_and_widen_around_dst() {
        let tz = chrono_tz::Europe::Berlin;
        let t = Utc.with_ymd_and_hms(2024, 6, 1, 10, 0, 30).unwrap();
        assert_eq!(local_bound(t, tz, true), "2024-06-01 12:00");
        assert_eq!(local_bound(t, tz, false), "2024-06-01 12:01");
        // 2024-10-27 02:30 happens twice in Berlin: widen.
        let ambiguous = Utc.with_ymd_and_hms(2024, 10, 27, 0, 30, 0).unwrap();
        assert_eq!(local_bound(ambiguous, tz, true), "2024-10-27 01:30");
        assert_eq!(local_bound(ambiguous, tz, false), "2024-10-27 03:30");
        let cql = changes_cql(
            &[ContentKind::Page],
            &[],
            &TimeWindow::until(t),
            chrono_tz::UTC,
        );
        assert_eq!(
            cql,
            "type in (page) AND lastmodified < \"2024-06-01 10:01\" order by lastmodified asc"
        );
    }
}
