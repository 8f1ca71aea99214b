//! Time windows in a person's wall-clock time, for query languages that read
//! dates in the searching user's zone and only to the minute (Jira's JQL,
//! Confluence's CQL).
//!
//! A window's UTC bounds are turned into local minutes that never cut it:
//! the start rounded down, the end rounded up, and — where a daylight-saving
//! change makes the local time ambiguous or skipped — widened by an hour.
//! When the zone is not known, the bounds are the UTC times widened by 14
//! hours each way, which covers every zone on Earth. Either way the query
//! returns a superset of the window, and the caller keeps exactly
//! `[start, end)` with each item's own, unambiguous timestamp
//! ([`TimeWindow::contains`]).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use connector_core::TimeWindow;
//! use connector_core::zone::{Zone, local_minutes};
//!
//! let window = TimeWindow::new(
//!     Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 30).unwrap(),
//!     Utc.with_ymd_and_hms(2026, 1, 10, 13, 0, 0).unwrap(),
//! );
//! let berlin = local_minutes(&window, Zone::Known(chrono_tz::Europe::Berlin));
//! assert_eq!(berlin.start_text().as_deref(), Some("2026-01-10 13:00"));
//! assert_eq!(berlin.end_text(), "2026-01-10 14:00");
//! let unknown = local_minutes(&window, Zone::Unknown);
//! assert_eq!(unknown.start_text().as_deref(), Some("2026-01-09 22:00"));
//! assert_eq!(unknown.end_text(), "2026-01-11 03:00");
//! ```

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::connector::TimeWindow;
use crate::error::{Error, Result};

pub use chrono_tz::Tz as TimeZoneName;

/// The zone a server reads local dates in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A known IANA zone.
    Known(Tz),
    /// Not known: bounds are widened to cover every zone.
    Unknown,
}

/// The widest offset from UTC any zone has (Kiribati: +14, Baker: −12).
const WIDEST_OFFSET: Duration = Duration::hours(14);

/// A window as local wall-clock minutes; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalWindow {
    /// Inclusive start; `None` for a full sync (no lower bound).
    pub start: Option<NaiveDateTime>,
    /// Exclusive end.
    pub end: NaiveDateTime,
}

impl LocalWindow {
    /// The start as `yyyy-MM-dd HH:mm`, the form JQL and CQL read.
    pub fn start_text(&self) -> Option<String> {
        self.start.map(format_minute)
    }

    /// The end as `yyyy-MM-dd HH:mm`.
    pub fn end_text(&self) -> String {
        format_minute(self.end)
    }
}

fn format_minute(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// `window` as local minutes in `zone` that never cut it.
pub fn local_minutes(window: &TimeWindow, zone: Zone) -> LocalWindow {
    let start = (!window.is_full()).then(|| bound(window.start, zone, true));
    LocalWindow {
        start,
        end: bound(window.end, zone, false),
    }
}

fn bound(t: DateTime<Utc>, zone: Zone, round_down: bool) -> NaiveDateTime {
    let (local, tz) = match zone {
        Zone::Known(tz) => (t.with_timezone(&tz).naive_local(), Some(tz)),
        Zone::Unknown if round_down => (t.naive_utc() - WIDEST_OFFSET, None),
        Zone::Unknown => (t.naive_utc() + WIDEST_OFFSET, None),
    };
    let minute = local
        .with_second(0)
        .and_then(|l| l.with_nanosecond(0))
        .unwrap_or(local);
    let bound = if round_down || minute == local {
        minute
    } else {
        minute + Duration::minutes(1)
    };
    // How the server reads `bound` back depends on the zone's rules at that
    // time: if it is ambiguous (clocks went back) or does not exist (clocks
    // went forward), widen by an hour so no reading of it cuts the window.
    match tz {
        Some(tz) if !matches!(tz.from_local_datetime(&bound), LocalResult::Single(_)) => {
            if round_down {
                bound - Duration::hours(1)
            } else {
                bound + Duration::hours(1)
            }
        }
        _ => bound,
    }
}

/// An IANA zone name as a server gives it (`"Australia/Sydney"`); `field`
/// names where it came from in the error.
pub fn parse_zone(name: &str, field: &str) -> Result<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        Error::config(format!(
            "{field}: unknown time zone {name:?}; give an IANA name such as Europe/Berlin"
        ))
    })
}

/// `#[serde(with = "connector_core::zone::optional_name")]` for an
/// `Option<TimeZoneName>` config field written as its IANA name; an unknown
/// name is refused with the fix.
///
/// ```
/// use connector_core::zone::TimeZoneName;
///
/// #[derive(serde::Deserialize)]
/// struct Config {
///     #[serde(default, with = "connector_core::zone::optional_name")]
///     time_zone: Option<TimeZoneName>,
/// }
/// let config: Config = serde_json::from_str(r#"{"time_zone": "Europe/Berlin"}"#).unwrap();
/// assert_eq!(config.time_zone.map(|z| z.name()), Some("Europe/Berlin"));
/// let err = serde_json::from_str::<Config>(r#"{"time_zone": "Mars/Base"}"#).err().unwrap();
/// assert!(err.to_string().contains("IANA name"), "{err}");
/// ```
pub mod optional_name {
    use super::{TimeZoneName, parse_zone};
    use serde::{Deserialize, Deserializer, Serializer};

    /// The zone's IANA name, or none.
    pub fn serialize<S: Serializer>(zone: &Option<TimeZoneName>, s: S) -> Result<S::Ok, S::Error> {
        match zone {
            Some(zone) => s.serialize_str(zone.name()),
            None => s.serialize_none(),
        }
    }

    /// A zone from its IANA name; the error names `time_zone` and the fix.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TimeZoneName>, D::Error> {
        let name = String::deserialize(d)?;
        parse_zone(&name, "time_zone")
            .map(Some)
            .map_err(|e| serde::de::Error::custom(e.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn text(t: DateTime<Utc>, zone: Zone, down: bool) -> String {
        format_minute(bound(t, zone, down))
    }

    #[test]
    fn bounds_are_rounded_outwards_in_the_zone() {
        let w = TimeWindow::new(utc(2026, 6, 1, 10, 15, 45), utc(2026, 6, 1, 11, 0, 10));
        let ny = local_minutes(&w, Zone::Known(chrono_tz::America::New_York));
        assert_eq!(ny.start_text().as_deref(), Some("2026-06-01 06:15"));
        assert_eq!(ny.end_text(), "2026-06-01 07:01");
        let full = local_minutes(
            &TimeWindow::until(utc(2026, 6, 1, 0, 0, 0)),
            Zone::Known(chrono_tz::UTC),
        );
        assert_eq!(
            (full.start, full.end_text().as_str()),
            (None, "2026-06-01 00:00")
        );
    }

    #[test]
    fn dst_changes_widen_the_bounds() {
        let ny = Zone::Known(chrono_tz::America::New_York);
        // 01:30 happens twice on 2026-11-01 in New York: the start steps back.
        assert_eq!(
            text(utc(2026, 11, 1, 5, 30, 0), ny, true),
            "2026-11-01 00:30"
        );
        // 02:30 does not exist on 2026-03-08: the end moves forward.
        assert_eq!(
            text(utc(2026, 3, 8, 6, 59, 30), ny, false),
            "2026-03-08 03:00"
        );
        assert_eq!(
            text(utc(2026, 3, 9, 12, 0, 0), ny, true),
            "2026-03-09 08:00"
        );
    }

    /// Whatever zone the server really reads the bounds in, an unknown-zone
    /// window holds the true one.
    #[test]
    fn an_unknown_zone_covers_every_real_zone() {
        let w = TimeWindow::new(utc(2026, 3, 29, 0, 48, 10), utc(2026, 3, 29, 0, 50, 0));
        let local = local_minutes(&w, Zone::Unknown);
        for tz in [
            chrono_tz::Europe::Berlin,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Pacific::Pago_Pago,
            chrono_tz::Asia::Kolkata,
            chrono_tz::America::St_Johns,
        ] {
            let read = |t: NaiveDateTime| {
                tz.from_local_datetime(&t)
                    .earliest()
                    .unwrap()
                    .with_timezone(&Utc)
            };
            let start = read(local.start.unwrap());
            let end = read(local.end);
            assert!(start <= w.start && end >= w.end, "{tz}: {start} – {end}");
        }
    }

    #[test]
    fn zone_names() {
        assert!(parse_zone("Australia/Sydney", "timeZone").is_ok());
        let err = parse_zone("Mars/Olympus", "time_zone").unwrap_err();
        assert!(err.to_string().contains("time_zone"));
    }
}
