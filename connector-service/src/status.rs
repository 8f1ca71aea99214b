//! Status messages — the exact JSON the product consumes from the
//! `data_source_status` queue (or stdout, on the embedded default) — and
//! where they go.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use connector_core::Result;
use serde::{Deserialize, Serialize};

/// The queue status messages are published to.
pub const STATUS_QUEUE: &str = "data_source_status";

/// A verification outcome:
/// `{"type":"verification","connection_id","tenant_id","status":"success|failed","options","error"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Always `"verification"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The connection checked.
    pub connection_id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// `"success"` or `"failed"`.
    pub status: String,
    /// Option kind → comma-separated keys; `null` on failure.
    pub options: Option<BTreeMap<String, String>>,
    /// Why it failed; `null` on success.
    pub error: Option<String>,
}

/// Where a sync is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// A worker began the sync.
    SyncStarted,
    /// It finished; `documents_processed` is set.
    SyncCompleted,
    /// It stopped; `error_message` says why.
    SyncFailed,
}

/// A sync status:
/// `{"type":"sync","connection_id","tenant_id","status","documents_processed"?,"error_message"?,"timestamp"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatusMessage {
    /// Always `"sync"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The connection synced.
    pub connection_id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// The phase.
    pub status: SyncPhase,
    /// Documents delivered, on `sync_completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents_processed: Option<u64>,
    /// Why it failed, on `sync_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// When, RFC 3339 in UTC with milliseconds.
    pub timestamp: String,
}

impl SyncStatusMessage {
    /// A message of `status` for the connection, stamped now.
    pub fn new(tenant_id: &str, connection_id: &str, status: SyncPhase) -> Self {
        Self {
            kind: "sync".into(),
            connection_id: connection_id.into(),
            tenant_id: tenant_id.into(),
            status,
            documents_processed: None,
            error_message: None,
            timestamp: stamp(Utc::now()),
        }
    }
}

/// `2025-10-01T10:00:00.000Z`.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Either kind of status message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StatusMessage {
    /// A verification outcome.
    Verification(Verification),
    /// A sync status.
    Sync(SyncStatusMessage),
}

impl StatusMessage {
    /// The JSON line.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain structs of strings and numbers: serialisation cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl From<Verification> for StatusMessage {
    fn from(v: Verification) -> Self {
        Self::Verification(v)
    }
}

impl From<SyncStatusMessage> for StatusMessage {
    fn from(v: SyncStatusMessage) -> Self {
        Self::Sync(v)
    }
}

/// Where status messages go. `publish` returns once the message is
/// durable (for a queue: confirmed by the broker).
#[async_trait]
pub trait StatusPublisher: Send + Sync {
    /// Publish one message.
    async fn publish(&self, message: &StatusMessage) -> Result<()>;
}

/// The embedded default: one JSON line per message on stdout.
#[derive(Debug, Default)]
pub struct StdoutPublisher {
    lock: Mutex<()>,
}

#[async_trait]
impl StatusPublisher for StdoutPublisher {
    async fn publish(&self, message: &StatusMessage) -> Result<()> {
        use std::io::Write;
        let mut line = message.to_json();
        line.push(b'\n');
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = std::io::stdout().lock();
        out.write_all(&line)?;
        out.flush()?;
        Ok(())
    }
}

/// Keeps messages in memory (tests, embedding hosts).
#[derive(Debug, Default)]
pub struct MemoryPublisher {
    messages: Mutex<Vec<StatusMessage>>,
}

impl MemoryPublisher {
    /// Everything published so far.
    pub fn messages(&self) -> Vec<StatusMessage> {
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[async_trait]
impl StatusPublisher for MemoryPublisher {
    async fn publish(&self, message: &StatusMessage) -> Result<()> {
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_match_the_contract() {
        let mut m = SyncStatusMessage::new("t", "c", SyncPhase::SyncStarted);
        m.timestamp = "2025-10-01T10:00:00.000Z".into();
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"type":"sync","connection_id":"c","tenant_id":"t","status":"sync_started","timestamp":"2025-10-01T10:00:00.000Z"})
        );
        m.status = SyncPhase::SyncCompleted;
        m.documents_processed = Some(42);
        assert_eq!(serde_json::to_value(&m).unwrap()["documents_processed"], 42);
        let v = Verification {
            kind: "verification".into(),
            connection_id: "c".into(),
            tenant_id: "t".into(),
            status: "failed".into(),
            options: None,
            error: Some("Invalid API token".into()),
        };
        assert_eq!(
            serde_json::to_value(StatusMessage::from(v)).unwrap(),
            json!({"type":"verification","connection_id":"c","tenant_id":"t","status":"failed","options":null,"error":"Invalid API token"})
        );
    }
}
