//! Running a connector's stream to its end, within a deadline.

use std::time::Duration;

use connector_core::{
    Checkpoint, Connector, Document, DocumentFailure, Error, Item, ItemStream, TimeWindow,
};
use futures::StreamExt;

/// How long a stream may take before a check calls it a hang.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Everything a stream yielded, in kinds.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Documents, in order.
    pub documents: Vec<Document>,
    /// Per-document failures, in order.
    pub failures: Vec<DocumentFailure>,
    /// Ids reported deleted.
    pub deleted: Vec<String>,
    /// Each checkpoint with the number of documents, failures and deletions
    /// yielded before it.
    pub checkpoints: Vec<(usize, Checkpoint)>,
    /// The error that ended the stream, if one did.
    pub error: Option<Error>,
    order: Vec<String>,
}

impl Outcome {
    /// Ids of documents, failures and deletions, in the order they came.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.documents.iter().map(|d| d.id.clone()).collect();
        ids.extend(self.failures.iter().map(|f| f.id.clone()));
        ids.extend(self.deleted.iter().cloned());
        ids
    }

    /// Ids of documents, failures and deletions in the order they came.
    pub fn order(&self) -> Vec<String> {
        self.order.clone()
    }

    /// Everything this outcome holds, as text (to look for leaked secrets).
    pub fn shown(&self) -> String {
        let mut text = format!(
            "{:?} {:?} {:?}",
            self.documents, self.failures, self.deleted
        );
        if let Some(e) = &self.error {
            text.push_str(&format!(" {e} {e:?}"));
        }
        text
    }
}

/// Drain `stream` into an [`Outcome`]; panics when it does not end within
/// [`DEADLINE`].
pub async fn drain(mut stream: ItemStream<'_>) -> Outcome {
    let collect = async {
        let mut out = Outcome::default();
        while let Some(item) = stream.next().await {
            match item {
                Ok(Item::Document(doc)) => {
                    out.order.push(doc.id.clone());
                    out.documents.push(*doc);
                }
                Ok(Item::Failure(f)) => {
                    out.order.push(f.id.clone());
                    out.failures.push(f);
                }
                Ok(Item::Deleted(id)) => {
                    out.order.push(id.clone());
                    out.deleted.push(id);
                }
                Ok(Item::Checkpoint(cp)) => out.checkpoints.push((out.order.len(), cp)),
                Ok(_) => {}
                Err(e) => {
                    out.error = Some(e);
                    break;
                }
            }
        }
        out
    };
    match tokio::time::timeout(DEADLINE, collect).await {
        Ok(out) => out,
        Err(_) => panic!("the stream did not end within {DEADLINE:?}: a hang"),
    }
}

/// The richest full-sync stream the connector offers: checkpointed over
/// everything up to now, else a load.
pub fn full_stream(connector: &dyn Connector) -> ItemStream<'_> {
    let window = TimeWindow::until(chrono::Utc::now());
    if let Some(c) = connector.as_checkpointed() {
        return c.resume(window, None);
    }
    if let Some(l) = connector.as_load() {
        return l.load();
    }
    match connector.as_poll() {
        Some(p) => p.poll(window),
        None => panic!("connector `{}` offers no stream", connector.kind()),
    }
}
