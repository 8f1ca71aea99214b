//! A complete custom connector: a [JSON Feed](https://www.jsonfeed.org/version/1.1/)
//! file as a source, synced with the SDK's runner into a JSONL file.
//!
//! ```text
//! cargo run --example custom_connector                  # uses a built-in sample feed
//! cargo run --example custom_connector -- feed.json out.jsonl
//! ```
//!
//! It shows every piece a connector needs: configuration checked up front,
//! `validate()` returning options, a stream of documents with per-item
//! failures, polling by time window, and a slim id listing for deletion
//! detection. `docs/writing-a-connector.md` walks through it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connector_core::checkpoint::FileCheckpointStore;
use connector_core::runner::{SyncMode, SyncRunner};
use connector_core::sink::JsonlSink;
use connector_core::{
    AvailableOptions, Connector, Document, DocumentFailure, Error, Item, ItemStream, LoadConnector,
    OptionChoice, PollConnector, Result, Section, SlimConnector, SlimDocument, SlimStream,
    TimeWindow,
};
use futures::{StreamExt, stream};
use serde::Deserialize;

/// The parts of a JSON Feed we read.
#[derive(Debug, Deserialize)]
struct Feed {
    title: String,
    #[serde(default)]
    items: Vec<serde_json::Value>,
}

/// One feed item. Items are decoded one by one, so a bad item becomes a
/// failure and the rest still sync.
#[derive(Debug, Deserialize)]
struct FeedItem {
    id: String,
    url: Option<String>,
    title: Option<String>,
    content_text: Option<String>,
    date_published: Option<DateTime<Utc>>,
    date_modified: Option<DateTime<Utc>>,
    #[serde(default)]
    authors: Vec<FeedAuthor>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct FeedAuthor {
    name: Option<String>,
}

/// A JSON Feed file as a connector.
struct JsonFeedConnector {
    path: PathBuf,
}

impl JsonFeedConnector {
    /// Check the configuration once, up front, with an error that names the fix.
    fn new(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        if !path.is_file() {
            return Err(Error::config(format!(
                "feed file {} does not exist: pass the path of a JSON Feed file",
                path.display()
            )));
        }
        Ok(Self { path })
    }

    /// Read the feed. A real HTTP connector would fetch pages here, one at
    /// a time, through `connector-core`'s HTTP layer.
    async fn read(&self) -> Result<Feed> {
        let bytes = tokio::fs::read(&self.path)
            .await
            .map_err(|e| Error::io(format!("cannot read {}", self.path.display()), e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::decode(format!("{} is not a JSON Feed", self.path.display()), e))
    }

    /// Feed items as a stream of documents; `window` filters by update time.
    fn items(&self, window: Option<TimeWindow>) -> ItemStream<'_> {
        stream::once(self.read())
            .map(move |feed| match feed {
                Err(e) => stream::iter(vec![Err(e)]).boxed(),
                Ok(feed) => {
                    let source_title = feed.title;
                    stream::iter(feed.items)
                        .filter_map(move |raw| {
                            let item = to_item(&source_title, raw, window);
                            async move { item.map(Ok) }
                        })
                        .boxed()
                }
            })
            .flatten()
            .boxed()
    }
}

/// One raw feed item to a document, a failure, or nothing (outside the window).
fn to_item(feed_title: &str, raw: serde_json::Value, window: Option<TimeWindow>) -> Option<Item> {
    let fallback_id = raw
        .get("id")
        .map(|v| v.to_string())
        .unwrap_or_else(|| "<no id>".into());
    let item: FeedItem = match serde_json::from_value(raw) {
        Ok(item) => item,
        Err(e) => {
            return Some(Item::Failure(DocumentFailure::new(
                fallback_id,
                format!("not a valid feed item: {e}"),
            )));
        }
    };
    let updated = item.date_modified.or(item.date_published);
    if let (Some(window), Some(t)) = (window, updated)
        && !window.contains(t)
    {
        return None;
    }
    let mut doc = Document::new(
        "jsonfeed",
        &item.id,
        item.title.unwrap_or_else(|| item.id.clone()),
    );
    doc.url = item.url;
    doc.created_at = item.date_published;
    doc.updated_at = updated;
    doc.hierarchy.push(feed_title.to_owned());
    doc.authors = item.authors.into_iter().filter_map(|a| a.name).collect();
    if !item.tags.is_empty() {
        doc.metadata.insert("tags".into(), item.tags.into());
    }
    if let Some(text) = item.content_text {
        doc.sections.push(Section::text(text));
    }
    Some(Item::from(doc))
}

#[async_trait]
impl Connector for JsonFeedConnector {
    fn kind(&self) -> &str {
        "jsonfeed"
    }

    async fn validate(&self) -> Result<AvailableOptions> {
        let feed = self.read().await?;
        Ok(AvailableOptions::default().with(
            "feeds",
            vec![OptionChoice::new(
                self.path.display().to_string(),
                feed.title,
            )],
        ))
    }

    fn as_load(&self) -> Option<&dyn LoadConnector> {
        Some(self)
    }

    fn as_poll(&self) -> Option<&dyn PollConnector> {
        Some(self)
    }

    fn as_slim(&self) -> Option<&dyn SlimConnector> {
        Some(self)
    }
}

impl LoadConnector for JsonFeedConnector {
    fn load(&self) -> ItemStream<'_> {
        self.items(None)
    }
}

impl PollConnector for JsonFeedConnector {
    fn poll(&self, window: TimeWindow) -> ItemStream<'_> {
        self.items(Some(window))
    }
}

impl SlimConnector for JsonFeedConnector {
    fn slim(&self) -> SlimStream<'_> {
        stream::once(self.read())
            .map(|feed| match feed {
                Err(e) => stream::iter(vec![Err(e)]).boxed(),
                Ok(feed) => stream::iter(feed.items.into_iter().filter_map(|raw| {
                    raw.get("id")
                        .and_then(|v| v.as_str())
                        .map(|id| Ok(SlimDocument::new(id)))
                }))
                .boxed(),
            })
            .flatten()
            .boxed()
    }
}

const SAMPLE_FEED: &str = r#"{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Engineering notes",
  "items": [
    {"id": "1", "url": "https://example.com/1", "title": "Why we stream",
     "content_text": "Pages stream; memory stays flat.", "date_published": "2026-01-02T10:00:00Z",
     "authors": [{"name": "Ada"}], "tags": ["design"]},
    {"id": "2", "url": "https://example.com/2", "title": "Checkpoints",
     "content_text": "Commit after the sink is durable.", "date_modified": "2026-02-03T08:30:00Z"},
    {"id": 3, "title": "A broken item: its id is a number"}
  ]
}"#;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scratch = tempfile::tempdir()?;
    let feed_path = match args.first() {
        Some(p) => PathBuf::from(p),
        None => {
            let p = scratch.path().join("feed.json");
            std::fs::write(&p, SAMPLE_FEED)?;
            p
        }
    };
    let out = args
        .get(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| scratch.path().join("out.jsonl"));
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(sync(&feed_path, &out, scratch.path()))?;
    print!("{}", std::fs::read_to_string(&out)?);
    Ok(())
}

async fn sync(feed: &Path, out: &Path, state: &Path) -> Result<()> {
    let connector = JsonFeedConnector::new(feed)?;
    let runner = SyncRunner::new("feed", Arc::new(FileCheckpointStore::open(state)?));
    let verification = runner.verify(&connector).await;
    eprintln!("{}", serde_json::to_string(&verification)?);
    let mut sink = JsonlSink::create(out)?;
    let report = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await?;
    eprintln!(
        "{} documents, {} failures: {:?}",
        report.documents_processed, report.documents_failed, report.failures
    );
    Ok(())
}
