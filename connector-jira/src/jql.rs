//! Building the JQL a sync runs: the user's scope, the time window, the order.
//!
//! Jira reads JQL date literals (`"2026-03-08 01:30"`) in the *searching
//! user's* time zone and only to the minute. So the window's UTC bounds are
//! converted to that zone, the start rounded down and the end rounded up to
//! the minute, and — where a daylight-saving change makes the local time
//! ambiguous or skipped — widened by an hour. The query therefore returns a
//! superset of the window; [`in_window`] then keeps exactly `[start, end)`
//! using each issue's own, unambiguous `updated` timestamp.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use connector_core::{Error, Result, TimeWindow};

/// The order every search uses, so a checkpoint can say "after this".
pub const ORDER_BY: &str = "ORDER BY updated ASC, key ASC";

/// Project keys are letters, digits and underscores (Jira's own rule for keys).
fn valid_project_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What a sync covers: projects, a JQL filter, or both (combined with AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Project keys; empty means every project the user can see.
    pub projects: Vec<String>,
    /// A JQL filter of the user's, without `ORDER BY`.
    pub jql: Option<String>,
}

impl Scope {
    /// Check keys and strip a trailing `ORDER BY` from the user's JQL (the
    /// sync needs its own order). Errors name the flag and the fix.
    pub fn validated(mut self) -> Result<Self> {
        for key in &self.projects {
            if !valid_project_key(key) {
                return Err(Error::config(format!(
                    "--project {key:?} is not a Jira project key (letters, digits and _ only, e.g. ENG)"
                )));
            }
        }
        if let Some(jql) = &self.jql {
            let trimmed = strip_order_by(jql).trim().to_owned();
            self.jql = (!trimmed.is_empty()).then_some(trimmed);
        }
        Ok(self)
    }

    /// The scope as a JQL condition, each part parenthesised so the user's
    /// `OR`s cannot escape it; `None` when unscoped.
    pub fn condition(&self) -> Option<String> {
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
fn strip_order_by(jql: &str) -> &str {
    let lower = jql.to_ascii_lowercase();
    let mut in_quote: Option<char> = None;
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match in_quote {
            Some(q) if c == q => in_quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => in_quote = Some(c),
            None if lower[i..].starts_with("order by")
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

/// A local wall-clock time for JQL, never later than `t` when `round_down`,
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
    // How Jira will read `bound` back depends on the zone's rules at that
    // time: if it is ambiguous (clocks went back) or does not exist (clocks
    // went forward), widen by an hour so no reading of it cuts the window.
    if !matches!(tz.from_local_datetime(&bound), LocalResult::Single(_)) {
        bound = if round_down {
            bound - Duration::hours(1)
        } else {
            bound + Duration::hours(1)
        };
    }
    format_jql_time(bound)
}

fn format_jql_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The JQL for `scope` and `window`, read in the zone `tz`, in sync order.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use connector_core::TimeWindow;
/// use connector_jira::jql::{search_jql, Scope};
///
/// let scope = Scope { projects: vec!["ENG".into()], jql: Some("labels = x OR labels = y".into()) };
/// let window = TimeWindow::new(
///     Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 30).unwrap(),
///     Utc.with_ymd_and_hms(2026, 1, 10, 13, 0, 0).unwrap(),
/// );
/// assert_eq!(
///     search_jql(&scope, &window, chrono_tz::Europe::Berlin),
///     "project in (\"ENG\") AND (labels = x OR labels = y) AND updated >= \"2026-01-10 13:00\" \
///      AND updated < \"2026-01-10 14:00\" ORDER BY updated ASC, key ASC"
/// );
/// ```
pub fn search_jql(scope: &Scope, window: &TimeWindow, tz: Tz) -> String {
    let mut parts: Vec<String> = scope.condition().into_iter().collect();
    if !window.is_full() {
        parts.push(format!(
            "updated >= \"{}\"",
            local_bound(window.start, tz, true)
        ));
    }
    parts.push(format!(
        "updated < \"{}\"",
        local_bound(window.end, tz, false)
    ));
    format!("{} {ORDER_BY}", parts.join(" AND "))
}

/// The JQL listing every issue in scope (for ids only); Jira requires a
/// bounded query, so an unscoped listing is bounded by `created`.
pub fn listing_jql(scope: &Scope) -> String {
    let condition = scope
        .condition()
        .unwrap_or_else(|| "created >= \"1970-01-01\"".to_owned());
    format!("{condition} ORDER BY key ASC")
}

/// Whether an issue updated at `updated` belongs in `window`.
pub fn in_window(updated: DateTime<Utc>, window: &TimeWindow) -> bool {
    window.contains(updated)
}

/// Parse an IANA zone name from `/myself` (`"Australia/Sydney"`).
pub fn parse_zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        Error::config(format!(
            "unknown time zone {name:?} from Jira; set the connector's time zone explicitly"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn scope_is_parenthesised_and_validated() {
        let scope = Scope {
            projects: vec!["ENG".into(), "OPS_2".into()],
            jql: Some("assignee = currentUser() OR priority = High order by created DESC".into()),
        }
        .validated()
        .unwrap();
        assert_eq!(
            scope.condition().unwrap(),
            "project in (\"ENG\", \"OPS_2\") AND (assignee = currentUser() OR priority = High)"
        );
        let bad = Scope {
            projects: vec!["ENG) OR (1=1".into()],
            jql: None,
        }
        .validated();
        assert!(bad.unwrap_err().to_string().contains("--project"));
        // "order by" inside quotes is text, not a clause.
        let quoted = Scope {
            projects: vec![],
            jql: Some("summary ~ \"order by\"".into()),
        }
        .validated()
        .unwrap();
        assert_eq!(quoted.jql.as_deref(), Some("summary ~ \"order by\""));
    }

    #[test]
    fn bounds_are_rounded_outwards_in_the_users_zone() {
        let w = TimeWindow::new(utc(2026, 6, 1, 10, 15, 45), utc(2026, 6, 1, 11, 0, 10));
        let jql = search_jql(&Scope::default(), &w, chrono_tz::America::New_York);
        assert_eq!(
            jql,
            "updated >= \"2026-06-01 06:15\" AND updated < \"2026-06-01 07:01\" ORDER BY updated ASC, key ASC"
        );
        let full = search_jql(
            &Scope::default(),
            &TimeWindow::until(utc(2026, 6, 1, 0, 0, 0)),
            chrono_tz::UTC,
        );
        assert_eq!(
            full,
            "updated < \"2026-06-01 00:00\" ORDER BY updated ASC, key ASC"
        );
    }

    #[test]
    fn dst_changes_widen_the_bounds() {
        let ny = chrono_tz::America::New_York;
        // 2026-11-01 01:30 happens twice in New York (clocks go back at 02:00
        // EDT). 05:30Z is the first 01:30: the start steps back an hour.
        let start = local_bound(utc(2026, 11, 1, 5, 30, 0), ny, true);
        assert_eq!(start, "2026-11-01 00:30");
        // 2026-03-08 02:30 does not exist in New York (clocks jump 02:00 →
        // 03:00). An end bound that would land there moves forward.
        let end_local = local_bound(utc(2026, 3, 8, 6, 59, 30), ny, false);
        assert_eq!(end_local, "2026-03-08 03:00");
        // Ordinary times are untouched.
        assert_eq!(
            local_bound(utc(2026, 3, 9, 12, 0, 0), ny, true),
            "2026-03-09 08:00"
        );
    }

    #[test]
    fn exact_window_filter() {
        let w = TimeWindow::new(utc(2026, 1, 1, 0, 0, 0), utc(2026, 1, 2, 0, 0, 0));
        assert!(in_window(utc(2026, 1, 1, 0, 0, 0), &w));
        assert!(!in_window(utc(2026, 1, 2, 0, 0, 0), &w));
        assert!(parse_zone("Australia/Sydney").is_ok());
        assert!(parse_zone("Mars/Olympus").is_err());
    }
}
