//! Where a SharePoint sync resumes, and where the next one continues.
//!
//! After every delta page the stream yields a [`SharePointCheckpoint`]:
//! the `@odata.deltaLink` of every library read to its end, the
//! `@odata.nextLink` of the one in progress, a permission refresh in
//! progress, and per site the pages seen by the last listing (to report the
//! ones that disappear). Checkpoints written before the page marks, the
//! refresh and the scope existed decode unchanged.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use connector_core::TimeWindow;
use serde::{Deserialize, Serialize};

use crate::client::DeltaStart;

/// How far before a known instant a "changes since" read starts, for the
/// difference between our clock and Graph's (repeats are harmless: the
/// runner skips unchanged documents).
pub(crate) const CLOCK_MARGIN: Duration = Duration::hours(1);

/// The state of a sync, as stored between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SharePointCheckpoint {
    /// Per library (drive id): the `@odata.deltaLink` up to which every
    /// change was delivered.
    #[serde(default)]
    pub delta_links: BTreeMap<String, String>,
    /// Per library: when its delta link was obtained (our clock); a link
    /// Graph no longer honours is replaced by the changes since then.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub delta_at: BTreeMap<String, DateTime<Utc>>,
    /// The library being read and the `@odata.nextLink` of its next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<DriveCursor>,
    /// A library whose folders' sharing changed: its files under them are
    /// being read again for their permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<Refresh>,
    /// Per site id: its pages as of the last listing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pages: BTreeMap<String, PagesMark>,
    /// What the configuration synced when this was written (see
    /// `SharePointConfig::scope_key`); absent in old checkpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A library part-way through its delta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DriveCursor {
    /// The drive id.
    pub drive_id: String,
    /// The next page to read.
    pub next_link: String,
    /// The round is an enumeration from scratch rather than changes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enumeration: bool,
    /// Folders whose sharing changed in the pages read so far: their files
    /// are read again once the round ends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<String>,
}

/// A library's permission refresh: a fresh enumeration reading again the
/// files under folders whose sharing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Refresh {
    /// The drive id.
    pub drive_id: String,
    /// Folder paths (`/Specs`; `` for the whole library) whose files are read again.
    pub folders: Vec<String>,
    /// The next page of the enumeration; `None` before its first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// A site's pages as of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PagesMark {
    /// When the listing started (our clock).
    pub listed_at: DateTime<Utc>,
    /// The page ids it returned, sorted.
    pub ids: Vec<String>,
}

impl SharePointCheckpoint {
    /// Where a library's delta starts: its page in progress, its delta
    /// link, the window start (`?token=<time>`), or from scratch.
    pub fn start_of(&self, drive_id: &str, window: &TimeWindow) -> DeltaStart {
        if let Some(current) = self.current.as_ref().filter(|c| c.drive_id == drive_id) {
            return DeltaStart::Link(current.next_link.clone());
        }
        if let Some(link) = self.delta_links.get(drive_id) {
            return DeltaStart::Link(link.clone());
        }
        DeltaStart::Fresh {
            drive_id: drive_id.to_owned(),
            since: (!window.is_full()).then_some(window.start),
        }
    }

    /// Where a library whose delta link Graph refused starts again: the
    /// changes since the link was obtained (or since the window start),
    /// with a margin; from scratch when neither is known or `from_scratch`.
    pub fn restart_of(
        &self,
        drive_id: &str,
        window: &TimeWindow,
        from_scratch: bool,
    ) -> DeltaStart {
        let known = self
            .delta_at
            .get(drive_id)
            .copied()
            .or((!window.is_full()).then_some(window.start));
        DeltaStart::Fresh {
            drive_id: drive_id.to_owned(),
            since: known.filter(|_| !from_scratch).map(|t| t - CLOCK_MARGIN),
        }
    }

    /// Forget where a library was: its link, its page in progress, its refresh.
    pub fn forget(&mut self, drive_id: &str) {
        self.delta_links.remove(drive_id);
        self.delta_at.remove(drive_id);
        if self
            .current
            .as_ref()
            .is_some_and(|c| c.drive_id == drive_id)
        {
            self.current = None;
        }
        if self
            .refresh
            .as_ref()
            .is_some_and(|r| r.drive_id == drive_id)
        {
            self.refresh = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Checkpoints as the connector wrote them before this format: the
    /// exact JSON of a finished sync and of one stopped mid-library.
    #[test]
    fn stored_checkpoints_of_the_first_format_still_decode() {
        let finished = r#"{"delta_links":{"b!f1VhLC5vJUqPfhsfPA2aEdbHuKk0EjtMm59-HSw7SlkQm_LmFwS5QbMWb6Uh8Ffq":"https://graph.microsoft.com/v1.0/drives/b!f1VhLC5vJUqPfhsfPA2aEdbHuKk0EjtMm59-HSw7SlkQm_LmFwS5QbMWb6Uh8Ffq/root/delta?token=MzslMjM0OyUyMzE7Mzs","b!f1VhLC5vJUqPfhsfPA2aEdbHuKk0EjtMm59-HSw7SlkD2nXq8aXbQK2uE1Ea9N0p":"https://graph.microsoft.com/v1.0/drives/b!f1VhLC5vJUqPfhsfPA2aEdbHuKk0EjtMm59-HSw7SlkD2nXq8aXbQK2uE1Ea9N0p/root/delta?token=NDslMjM0OyUyMzE7Mzs"}}"#;
        let cp: SharePointCheckpoint = serde_json::from_str(finished).unwrap();
        assert_eq!(cp.delta_links.len(), 2);
        assert!(cp.current.is_none() && cp.pages.is_empty() && cp.scope.is_none());
        let full = TimeWindow::until(Utc::now());
        assert_eq!(
            cp.start_of("b!f1VhLC5vJUqPfhsfPA2aEdbHuKk0EjtMm59-HSw7SlkQm_LmFwS5QbMWb6Uh8Ffq", &full),
            DeltaStart::Link("https://graph.microsoft.com/v1.0/drives/b!f1VhLC5vJUqPfhsfPA2aEdbHuKk0EjtMm59-HSw7SlkQm_LmFwS5QbMWb6Uh8Ffq/root/delta?token=MzslMjM0OyUyMzE7Mzs".into())
        );

        let mid_library = r#"{"delta_links":{},"current":{"drive_id":"b!x","next_link":"https://graph.microsoft.com/v1.0/drives/b!x/root/delta?token=next-3"}}"#;
        let cp: SharePointCheckpoint = serde_json::from_str(mid_library).unwrap();
        assert_eq!(
            cp.start_of("b!x", &full),
            DeltaStart::Link(
                "https://graph.microsoft.com/v1.0/drives/b!x/root/delta?token=next-3".into()
            )
        );
        // Written back, the old fields keep their names and shape.
        assert_eq!(
            serde_json::to_value(&cp).unwrap(),
            serde_json::from_str::<serde_json::Value>(mid_library).unwrap()
        );
    }

    #[test]
    fn the_page_in_progress_comes_before_the_link_and_the_window() {
        let mut cp = SharePointCheckpoint::default();
        let full = TimeWindow::until(Utc::now());
        assert_eq!(
            cp.start_of("d1", &full),
            DeltaStart::Fresh {
                drive_id: "d1".into(),
                since: None
            }
        );
        cp.delta_links.insert("d1".into(), "delta".into());
        assert_eq!(cp.start_of("d1", &full), DeltaStart::Link("delta".into()));
        cp.current = Some(DriveCursor {
            drive_id: "d1".into(),
            next_link: "next".into(),
            enumeration: true,
            shared: Vec::new(),
        });
        assert_eq!(cp.start_of("d1", &full), DeltaStart::Link("next".into()));
        let since = Utc::now();
        let window = TimeWindow::new(since, since + Duration::hours(1));
        assert_eq!(
            cp.start_of("d2", &window),
            DeltaStart::Fresh {
                drive_id: "d2".into(),
                since: Some(since)
            }
        );
    }

    #[test]
    fn a_refused_link_restarts_from_when_it_was_obtained() {
        let obtained = DateTime::parse_from_rfc3339("2024-03-01T12:00:00Z")
            .unwrap()
            .to_utc();
        let mut cp: SharePointCheckpoint = serde_json::from_value(json!({
            "delta_links": {"d1": "gone"},
            "delta_at": {"d1": "2024-03-01T12:00:00Z"},
            "current": {"drive_id": "d1", "next_link": "next"}
        }))
        .unwrap();
        let full = TimeWindow::until(Utc::now());
        assert_eq!(
            cp.restart_of("d1", &full, false),
            DeltaStart::Fresh {
                drive_id: "d1".into(),
                since: Some(obtained - CLOCK_MARGIN)
            }
        );
        assert_eq!(
            cp.restart_of("d1", &full, true),
            DeltaStart::Fresh {
                drive_id: "d1".into(),
                since: None
            }
        );
        assert_eq!(
            cp.restart_of("d2", &full, false),
            DeltaStart::Fresh {
                drive_id: "d2".into(),
                since: None
            },
            "nothing known: from scratch"
        );
        cp.forget("d1");
        assert!(cp.delta_links.is_empty() && cp.current.is_none() && cp.delta_at.is_empty());
    }
}
