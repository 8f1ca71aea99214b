//! Change-feed connectors: deletions reported in the stream, and change
//! tokens carried from one completed sync to the next.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use connector_core::checkpoint::MemoryCheckpointStore;
use connector_core::runner::{SyncMode, SyncRunner};
use connector_core::sink::MemorySink;
use connector_core::{
    AvailableOptions, Checkpoint, CheckpointedConnector, Connector, Document, Item, ItemStream,
    Result, TimeWindow,
};

/// A feed: each sync yields the queued changes and a token `{"token": n}`.
#[derive(Default)]
struct Feed {
    changes: Mutex<Vec<Item>>,
    resumed_from: Mutex<Vec<Option<serde_json::Value>>>,
    windows: Mutex<Vec<TimeWindow>>,
    continues: bool,
    reports: bool,
    syncs: Mutex<u64>,
    slim_calls: Mutex<u64>,
}

#[async_trait]
impl Connector for Feed {
    fn kind(&self) -> &str {
        "feed"
    }
    async fn validate(&self) -> Result<AvailableOptions> {
        Ok(AvailableOptions::default())
    }
    fn as_checkpointed(&self) -> Option<&dyn CheckpointedConnector> {
        Some(self)
    }
    fn as_slim(&self) -> Option<&dyn connector_core::SlimConnector> {
        // Only the feed that reports deletions lists ids, for the test below.
        self.reports
            .then_some(self as &dyn connector_core::SlimConnector)
    }
}

impl connector_core::SlimConnector for Feed {
    fn slim(&self) -> connector_core::SlimStream<'_> {
        *self.slim_calls.lock().unwrap() += 1;
        let ids = vec![Ok(connector_core::SlimDocument::new("a"))];
        Box::pin(futures::stream::iter(ids))
    }
}

impl CheckpointedConnector for Feed {
    fn resume(&self, window: TimeWindow, from: Option<Checkpoint>) -> ItemStream<'_> {
        self.windows.lock().unwrap().push(window);
        self.resumed_from
            .lock()
            .unwrap()
            .push(from.map(|c| c.decode::<serde_json::Value>().unwrap()));
        let mut syncs = self.syncs.lock().unwrap();
        *syncs += 1;
        let mut items: Vec<Result<Item>> = self.changes.lock().unwrap().drain(..).map(Ok).collect();
        items.push(Ok(Item::Checkpoint(
            Checkpoint::new(&serde_json::json!({"token": *syncs})).unwrap(),
        )));
        Box::pin(futures::stream::iter(items))
    }
    fn checkpoint_continues(&self) -> bool {
        self.continues
    }
    fn reports_deletions(&self) -> bool {
        self.reports
    }
}

fn doc(id: &str) -> Item {
    Item::from(Document::new("feed", id, format!("doc {id}")))
}

#[tokio::test]
async fn deletions_in_the_stream_remove_delivered_documents_only() {
    let feed = Feed::default();
    feed.changes.lock().unwrap().extend([doc("a"), doc("b")]);
    let runner = SyncRunner::new("feed", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = MemorySink::default();
    runner
        .run(&feed, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    feed.changes.lock().unwrap().extend([
        Item::Deleted("a".into()),
        Item::Deleted("never-seen".into()),
    ]);
    let report = runner
        .run(&feed, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 1);
    assert_eq!(sink.deleted(), ["a"]);
    // Deleted once: a third sync does not report it again.
    let report = runner
        .run(&feed, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_deleted, 0);
}

#[tokio::test]
async fn change_tokens_carry_over_to_the_next_incremental_sync_only_when_asked() {
    for continues in [true, false] {
        let feed = Feed {
            continues,
            ..Feed::default()
        };
        let runner = SyncRunner::new("feed", Arc::new(MemoryCheckpointStore::default()));
        let mut sink = MemorySink::default();
        runner
            .run(&feed, &mut sink, SyncMode::Incremental)
            .await
            .unwrap();
        runner
            .run(&feed, &mut sink, SyncMode::Incremental)
            .await
            .unwrap();
        runner.run(&feed, &mut sink, SyncMode::Full).await.unwrap();
        let seen = feed.resumed_from.lock().unwrap().clone();
        let expected = if continues {
            vec![None, Some(serde_json::json!({"token": 1})), None]
        } else {
            vec![None, None, None]
        };
        assert_eq!(seen, expected, "continues = {continues}");
    }
}

#[tokio::test]
async fn a_since_run_past_the_last_mark_leaves_no_gap_for_the_next_incremental_run() {
    let feed = Feed::default();
    let runner = SyncRunner::new("feed", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = MemorySink::default();
    runner
        .run(&feed, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    let first_end = feed.windows.lock().unwrap()[0].end;
    // A one-off sync of the last few minutes, starting after the last mark…
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    runner
        .run(&feed, &mut sink, SyncMode::Since(later))
        .await
        .unwrap();
    // …must not move the mark: the next incremental run still covers the gap.
    runner
        .run(&feed, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    let windows = feed.windows.lock().unwrap().clone();
    assert_eq!(windows[1].start, later);
    assert!(
        windows[2].start < first_end,
        "{:?} should start before {first_end}",
        windows[2]
    );
}

#[tokio::test]
async fn a_feed_that_reports_deletions_skips_the_id_listing_only_when_it_continues() {
    let feed = Feed {
        continues: true,
        reports: true,
        ..Feed::default()
    };
    let runner = SyncRunner::new("feed", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = MemorySink::default();
    feed.changes.lock().unwrap().push(doc("a"));
    runner
        .run(&feed, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(
        *feed.slim_calls.lock().unwrap(),
        1,
        "a first sync lists ids"
    );
    runner
        .run(&feed, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(
        *feed.slim_calls.lock().unwrap(),
        1,
        "a continued feed does not"
    );
    runner.run(&feed, &mut sink, SyncMode::Full).await.unwrap();
    assert_eq!(*feed.slim_calls.lock().unwrap(), 2, "a full resync does");
}
