//! The runner's persisted state: what it stores after every commit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::connector::{Checkpoint, TimeWindow};
use crate::sink::SinkPosition;

/// Bumped when the layout changes incompatibly.
pub(crate) const STATE_VERSION: u32 = 1;

/// Everything a later run needs to resume or continue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// Layout version.
    pub version: u32,
    /// End of the window of the last sync that completed; the next
    /// incremental sync starts there (less the overlap).
    pub last_completed: Option<DateTime<Utc>>,
    /// A sync that started and has not completed.
    pub in_progress: Option<InProgress>,
    /// The sink's committed position.
    pub sink: Option<SinkPosition>,
    /// The content index log's committed length.
    pub index_len: u64,
    /// The last checkpoint of the last completed sync, for connectors whose
    /// checkpoints continue across syncs (see
    /// [`CheckpointedConnector::checkpoint_continues`](crate::CheckpointedConnector::checkpoint_continues)).
    #[serde(default)]
    pub carried: Option<Checkpoint>,
}

impl Default for SyncState {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            last_completed: None,
            in_progress: None,
            sink: None,
            index_len: 0,
            carried: None,
        }
    }
}

/// An unfinished sync: its window and the last committed checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InProgress {
    /// The window being synced.
    pub window: TimeWindow,
    /// Where the connector resumes; `None` restarts the window (documents
    /// already delivered are then skipped as unchanged).
    pub checkpoint: Option<Checkpoint>,
    /// When the sync first started.
    pub started_at: DateTime<Utc>,
}
