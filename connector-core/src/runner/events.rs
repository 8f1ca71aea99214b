//! What a sync tells the outside world while it runs: [`SyncEvent`]s and
//! [`VerificationEvent`]s in the JSON shapes hosts consume, the
//! [`SyncWarning`]s of a run that went on, and the [`SyncObserver`] that
//! receives them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::connector::{AvailableOptions, DocumentFailure};

/// Where a sync is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// The sync began.
    SyncStarted,
    /// Documents are flowing; counts so far.
    SyncProgress,
    /// The sync finished; counts are final.
    SyncCompleted,
    /// The sync stopped on an error; `error_message` says why.
    SyncFailed,
}

/// A sync's status, serialised as
/// `{"type":"sync","connection_id","tenant_id","status","documents_processed","error_message","timestamp"}`
/// plus the other counters.
///
/// ```
/// use connector_core::runner::{SyncEvent, SyncStatus};
///
/// let event = SyncEvent {
///     kind: "sync".into(),
///     connection_id: "docs".into(),
///     tenant_id: "acme".into(),
///     status: SyncStatus::SyncCompleted,
///     documents_processed: 42,
///     documents_skipped: 0,
///     documents_failed: 1,
///     documents_deleted: 0,
///     error_message: None,
///     timestamp: chrono::DateTime::from_timestamp(0, 0).unwrap(),
/// };
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["type"], "sync");
/// assert_eq!(json["status"], "sync_completed");
/// assert_eq!(json["documents_processed"], 42);
/// assert!(json["error_message"].is_null());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncEvent {
    /// Always `"sync"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The connection synced.
    pub connection_id: String,
    /// The tenant it belongs to.
    pub tenant_id: String,
    /// Where the sync is.
    pub status: SyncStatus,
    /// Documents delivered to the sink.
    pub documents_processed: u64,
    /// Documents skipped because their content had not changed.
    pub documents_skipped: u64,
    /// Objects that failed one by one (the sync went on).
    pub documents_failed: u64,
    /// Documents found deleted at the source.
    pub documents_deleted: u64,
    /// Why the sync failed, for `sync_failed`.
    pub error_message: Option<String>,
    /// When the event was made.
    pub timestamp: DateTime<Utc>,
}

/// Something a person should know about a run that still completed: the
/// run's own [`SyncReport::warnings`](crate::runner::SyncReport::warnings)
/// holds them, and [`SyncObserver::on_warning`] receives each as it happens.
///
/// Serialised with a `kind` tag; `Display` is the sentence to show.
///
/// ```
/// use connector_core::runner::SyncWarning;
///
/// let warning = SyncWarning::MassDeletionRefused {
///     would_delete: 60,
///     held: 60,
///     listed: 0,
///     max_share: 0.5,
/// };
/// let json = serde_json::to_value(&warning).unwrap();
/// assert_eq!(json["kind"], "mass_deletion_refused");
/// assert!(warning.to_string().starts_with("refused to delete 60 of the 60 documents"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SyncWarning {
    /// The deletion pass would have removed more of what the sink holds
    /// than [`RunnerOptions::max_deletion_share`](crate::runner::RunnerOptions::max_deletion_share)
    /// allows (or everything, from a listing that saw nothing); nothing
    /// was deleted.
    MassDeletionRefused {
        /// Documents the listing no longer showed.
        would_delete: u64,
        /// Documents the sink held.
        held: u64,
        /// Distinct ids the listing returned.
        listed: u64,
        /// The share in force.
        max_share: f64,
    },
    /// The id listing failed, so no deletions were detected this run; the
    /// next healthy listing finds them.
    DeletionListingFailed {
        /// The listing's error.
        reason: String,
    },
}

impl std::fmt::Display for SyncWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncWarning::MassDeletionRefused {
                would_delete,
                held,
                listed,
                max_share,
            } => write!(
                f,
                "refused to delete {would_delete} of the {held} documents the output holds: the \
                 source listed {listed} ids, and deleting more than {:.0}% in one run needs \
                 consent (allow_mass_delete); nothing was deleted. If the source really lost \
                 them, run again allowing mass deletion; if not, check the source's answers",
                max_share * 100.0
            ),
            SyncWarning::DeletionListingFailed { reason } => write!(
                f,
                "deletion detection skipped: the id listing failed: {reason}"
            ),
        }
    }
}

/// Whether a connector's configuration works, serialised as
/// `{"type":"verification","connection_id","tenant_id","status":"success|failed","options":{"spaces":"ENG,PROD"},"error"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationEvent {
    /// Always `"verification"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The connection checked.
    pub connection_id: String,
    /// The tenant it belongs to.
    pub tenant_id: String,
    /// `"success"` or `"failed"`.
    pub status: String,
    /// Option kind → comma-separated keys (`"spaces": "ENG,PROD"`).
    pub options: BTreeMap<String, String>,
    /// Why verification failed.
    pub error: Option<String>,
}

impl VerificationEvent {
    /// The event for a `validate()` outcome.
    pub fn from_result(
        connection_id: &str,
        tenant_id: &str,
        result: &crate::Result<AvailableOptions>,
    ) -> Self {
        let (status, options, error) = match result {
            Ok(options) => (
                "success",
                options
                    .0
                    .iter()
                    .map(|(kind, choices)| {
                        let keys: Vec<&str> = choices.iter().map(|c| c.key.as_str()).collect();
                        (kind.clone(), keys.join(","))
                    })
                    .collect(),
                None,
            ),
            Err(e) => ("failed", BTreeMap::new(), Some(e.to_string())),
        };
        Self {
            kind: "verification".into(),
            connection_id: connection_id.into(),
            tenant_id: tenant_id.into(),
            status: status.into(),
            options,
            error,
        }
    }
}

/// Receives what a sync reports. Every method has a default that does
/// nothing; implement the ones you need. Called inline: keep them quick.
pub trait SyncObserver: Send + Sync {
    /// A status change or progress update.
    fn on_event(&self, event: &SyncEvent) {
        let _ = event;
    }

    /// One object failed; the sync goes on.
    fn on_failure(&self, failure: &DocumentFailure) {
        let _ = failure;
    }

    /// The source no longer has `id`.
    fn on_deleted(&self, id: &str) {
        let _ = id;
    }

    /// The run goes on, but a person should know this.
    fn on_warning(&self, warning: &SyncWarning) {
        let _ = warning;
    }
}

/// Ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl SyncObserver for NoopObserver {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::OptionChoice;
    use crate::{Error, ErrorKind};

    #[test]
    fn verification_shapes() {
        let ok = Ok(AvailableOptions::default().with(
            "spaces",
            vec![
                OptionChoice::new("ENG", "Engineering"),
                OptionChoice::new("PROD", "Product"),
            ],
        ));
        let event = VerificationEvent::from_result("c1", "t1", &ok);
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type":"verification","connection_id":"c1","tenant_id":"t1",
                "status":"success","options":{"spaces":"ENG,PROD"},"error":null})
        );
        let bad = Err(Error::new(ErrorKind::Auth, "token rejected"));
        let event = VerificationEvent::from_result("c1", "t1", &bad);
        assert_eq!(event.status, "failed");
        assert_eq!(
            event.error.as_deref(),
            Some("authentication failed: token rejected")
        );
    }
}
