//! Building the JQL a sync runs: the user's scope, the time window, the order.
//!
//! Jira reads JQL date literals (`"2026-03-08 01:30"`) in the *searching
//! user's* time zone and only to the minute; [`connector_core::zone`] turns
//! the window into local minutes that never cut it, and the stream then
//! keeps exactly `[start, end)` using each issue's own `updated` timestamp.

use connector_core::TimeWindow;
use connector_core::zone::{Zone, local_minutes};

/// The order every search uses, so a checkpoint can say "after this".
pub(crate) const ORDER_BY: &str = "ORDER BY updated ASC, key ASC";

/// What a sync covers: projects, a JQL filter, or both (combined with AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    /// Project keys (checked by the config); empty means every project.
    pub(crate) projects: Vec<String>,
    /// A JQL filter of the user's, without `ORDER BY`.
    pub(crate) jql: Option<String>,
}

impl Scope {
    /// The scope as a JQL condition, each part parenthesised so the user's
    /// `OR`s cannot escape it; `None` when unscoped.
    pub(crate) fn condition(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.projects.is_empty() {
            let keys: Vec<String> = self.projects.iter().map(|k| format!("\"{k}\"")).collect();
            parts.push(format!("project in ({})", keys.join(", ")));
        }
        if let Some(jql) = &self.jql {
            parts.push(format!("({jql})"));
        }
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }
}

/// The user's JQL without a trailing `ORDER BY …` clause (case-insensitive,
/// outside quotes).
pub(crate) fn strip_order_by(jql: &str) -> &str {
    // Bytes, not chars: every byte compared is ASCII, and slicing happens
    // only before an ASCII `o`, so non-ASCII text is never cut.
    let bytes = jql.as_bytes();
    let mut in_quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match in_quote {
            Some(_) if c == b'\\' => i += 1, // an escaped character
            Some(q) if c == q => in_quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => in_quote = Some(c),
            None if bytes.len() - i >= 8
                && bytes[i..i + 8].eq_ignore_ascii_case(b"order by")
                && (i == 0 || bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b')') =>
            {
                return &jql[..i];
            }
            None => {}
        }
        i += 1;
    }
    jql
}

/// Whether the user's JQL closes every quote and parenthesis it opens: the
/// sync adds its own conditions after it, which an unbalanced filter would
/// swallow or escape (`x = 1) OR (y = 2` would drop the time window).
pub(crate) fn is_balanced(jql: &str) -> bool {
    let bytes = jql.as_bytes();
    let mut in_quote: Option<u8> = None;
    let mut depth: usize = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match in_quote {
            Some(_) if c == b'\\' => i += 1,
            Some(q) if c == q => in_quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => in_quote = Some(c),
            None if c == b'(' => depth += 1,
            None if c == b')' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            None => {}
        }
        i += 1;
    }
    in_quote.is_none() && depth == 0
}

/// The JQL for `scope` and `window`, read in `zone`, in sync order.
pub(crate) fn search_jql(scope: &Scope, window: &TimeWindow, zone: Zone) -> String {
    let local = local_minutes(window, zone);
    let mut parts: Vec<String> = scope.condition().into_iter().collect();
    if let Some(start) = local.start_text() {
        parts.push(format!("updated >= \"{start}\""));
    }
    parts.push(format!("updated < \"{}\"", local.end_text()));
    format!("{} {ORDER_BY}", parts.join(" AND "))
}

/// The JQL listing every issue in scope (for ids only); Jira requires a
/// bounded query, so an unscoped listing is bounded by `created`.
pub(crate) fn listing_jql(scope: &Scope) -> String {
    let condition = scope
        .condition()
        .unwrap_or_else(|| "created >= \"1970-01-01\"".to_owned());
    format!("{condition} ORDER BY key ASC")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn scope_is_parenthesised() {
        let scope = Scope {
            projects: vec!["ENG".into(), "OPS_2".into()],
            jql: Some(
                strip_order_by("assignee = currentUser() OR priority = High order by created DESC")
                    .trim()
                    .into(),
            ),
        };
        assert_eq!(
            scope.condition().unwrap(),
            "project in (\"ENG\", \"OPS_2\") AND (assignee = currentUser() OR priority = High)"
        );
        // "order by" inside quotes is text, not a clause, escaped quotes included.
        assert_eq!(
            strip_order_by("summary ~ \"order by\""),
            "summary ~ \"order by\""
        );
        assert_eq!(
            strip_order_by("summary ~ \"a \\\" order by\" ORDER BY key"),
            "summary ~ \"a \\\" order by\" "
        );
        // Text that is not ASCII is never cut inside a character.
        assert_eq!(
            strip_order_by("summary ~ \"é\" ÉÉ order by key"),
            "summary ~ \"é\" ÉÉ "
        );
        assert_eq!(strip_order_by("ü"), "ü");
        assert!(is_balanced("(a = \"x)\") AND b in (1, 2)"));
        for bad in [
            "x = 1) OR (y = 2",
            "summary ~ \"open",
            "(a = 1",
            "a = ')'  )",
        ] {
            assert!(!is_balanced(bad), "{bad}");
        }
    }

    #[test]
    fn bounds_are_rounded_outwards_in_the_users_zone() {
        let scope = Scope {
            projects: vec!["ENG".into()],
            jql: Some("labels = x OR labels = y".into()),
        };
        let window = TimeWindow::new(utc(2026, 1, 10, 12, 0, 30), utc(2026, 1, 10, 13, 0, 0));
        assert_eq!(
            search_jql(&scope, &window, Zone::Known(chrono_tz_berlin())),
            "project in (\"ENG\") AND (labels = x OR labels = y) AND updated >= \"2026-01-10 13:00\" \
             AND updated < \"2026-01-10 14:00\" ORDER BY updated ASC, key ASC"
        );
        let full = search_jql(
            &Scope::default(),
            &TimeWindow::until(utc(2026, 6, 1, 0, 0, 0)),
            Zone::Unknown,
        );
        assert_eq!(
            full, "updated < \"2026-06-01 14:00\" ORDER BY updated ASC, key ASC",
            "an unknown zone widens the end by 14 hours"
        );
    }

    fn chrono_tz_berlin() -> connector_core::zone::TimeZoneName {
        "Europe/Berlin".parse().unwrap()
    }
}
