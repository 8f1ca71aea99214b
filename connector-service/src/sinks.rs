//! Sinks for a service, besides the JSONL directory
//! ([`JsonlDirSinks`](crate::engine::JsonlDirSinks)): a PostgreSQL
//! `documents` table and an HTTP ingest endpoint.
//!
//! Both buffer between commits and deliver at [`Sink::commit`], keyed by
//! document id: a batch replayed after a crash overwrites what it wrote
//! (upsert by `(source, external_id)`; the same idempotency key for the same
//! batch), so each document is held once however often a worker dies.

use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use connector_core::sink::{Sink, SinkPosition};
use connector_core::{Document, Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::engine::{SinkFactory, SyncJob};
use crate::pg::{Database, db_error};

/// What a batch holds between commits.
#[derive(Debug, Default)]
struct Batch {
    upserts: Vec<(String, String, Value)>,
    deletes: Vec<String>,
}

impl Batch {
    fn add(&mut self, doc: &Document) -> Result<()> {
        let value = serde_json::to_value(doc)
            .map_err(|e| Error::new(ErrorKind::Other, "cannot encode a document").with_source(e))?;
        self.deletes.retain(|id| id != &doc.id);
        self.upserts
            .push((doc.id.clone(), doc.content_hash.clone(), value));
        Ok(())
    }

    fn delete(&mut self, id: &str) {
        self.upserts.retain(|(i, _, _)| i != id);
        self.deletes.push(id.to_string());
    }

    fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.deletes.is_empty()
    }
}

/// Documents upserted into the `documents` table, `UNIQUE(source,
/// external_id)`, `source` being `tenant/connection`.
#[derive(Debug)]
pub struct PgDocumentSink {
    db: Database,
    tenant_id: String,
    source: String,
    batch: Batch,
}

impl PgDocumentSink {
    /// Rows of `source` (of `tenant_id`) in `db`.
    pub fn new(db: Database, tenant_id: &str, source: &str) -> Self {
        Self {
            db,
            tenant_id: tenant_id.to_string(),
            source: source.to_string(),
            batch: Batch::default(),
        }
    }
}

#[async_trait]
impl Sink for PgDocumentSink {
    async fn write(&mut self, doc: &Document) -> Result<()> {
        self.batch.add(doc)
    }

    async fn delete(&mut self, id: &str) -> Result<()> {
        self.batch.delete(id);
        Ok(())
    }

    async fn commit(&mut self) -> Result<SinkPosition> {
        if !self.batch.is_empty() {
            let mut client = self.db.client().await?;
            let tx = client
                .transaction()
                .await
                .map_err(|e| db_error("begin", e))?;
            for (id, hash, doc) in &self.batch.upserts {
                tx.execute(
                    "INSERT INTO documents (source, external_id, tenant_id, content_hash, document)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (source, external_id) DO UPDATE SET content_hash = EXCLUDED.content_hash,
                        document = EXCLUDED.document, updated_at = now()",
                    &[&self.source, id, &self.tenant_id, hash, doc],
                )
                .await
                .map_err(|e| db_error("upserting a document", e))?;
            }
            for id in &self.batch.deletes {
                tx.execute(
                    "DELETE FROM documents WHERE source = $1 AND external_id = $2",
                    &[&self.source, id],
                )
                .await
                .map_err(|e| db_error("deleting a document", e))?;
            }
            tx.commit().await.map_err(|e| db_error("commit", e))?;
            self.batch = Batch::default();
        }
        Ok(SinkPosition(
            json!({"sink": "postgres", "source": self.source}),
        ))
    }

    async fn restore(&mut self, committed: Option<&SinkPosition>) -> Result<()> {
        if let Some(position) = committed
            && position.0.get("source").and_then(Value::as_str) != Some(self.source.as_str())
        {
            return Err(Error::config(format!(
                "the stored sync state was committed to another sink ({}), not the documents of {}",
                position.0, self.source
            )));
        }
        // Upserts by id: whatever a crashed run wrote is overwritten on replay.
        self.batch = Batch::default();
        Ok(())
    }
}

/// Batches POSTed as JSON to an ingest URL:
/// `{"source", "documents": [...], "deleted": [ids]}` with an
/// `Idempotency-Key` header derived from the batch's content, retried with
/// backoff on network errors, `429` and `5xx`.
pub struct HttpIngestSink {
    client: reqwest::Client,
    url: String,
    token: Option<SecretString>,
    source: String,
    batch: Batch,
}

impl std::fmt::Debug for HttpIngestSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpIngestSink")
            .field("url", &self.url)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl HttpIngestSink {
    /// POST to `url`, with `token` as a bearer token when given.
    pub fn new(url: &str, token: Option<SecretString>, source: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap_or_default(),
            url: url.to_string(),
            token,
            source: source.to_string(),
            batch: Batch::default(),
        }
    }

    /// The idempotency key of the current batch: the same documents in the
    /// same order give the same key, so a receiver drops a replay.
    fn idempotency_key(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        hasher.update(self.source.as_bytes());
        for (id, hash, _) in &self.batch.upserts {
            hasher.update(&(id.len() as u64).to_be_bytes());
            hasher.update(id.as_bytes());
            hasher.update(hash.as_bytes());
        }
        for id in &self.batch.deletes {
            hasher.update(b"\0deleted");
            hasher.update(id.as_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }

    async fn send(&self, body: &Value, key: &str) -> Result<()> {
        let mut request = self
            .client
            .post(&self.url)
            .header("Idempotency-Key", key)
            .json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose_secret());
        }
        let response = request.send().await.map_err(|e| {
            Error::new(
                ErrorKind::Transient,
                format!("ingest POST {}: {}", self.url, e.without_url()),
            )
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let kind = if status.as_u16() == 429 || status.is_server_error() {
            ErrorKind::Transient
        } else {
            ErrorKind::Http
        };
        Err(Error::new(
            kind,
            format!("ingest POST {} answered {status}", self.url),
        ))
    }
}

#[async_trait]
impl Sink for HttpIngestSink {
    async fn write(&mut self, doc: &Document) -> Result<()> {
        self.batch.add(doc)
    }

    async fn delete(&mut self, id: &str) -> Result<()> {
        self.batch.delete(id);
        Ok(())
    }

    async fn commit(&mut self) -> Result<SinkPosition> {
        if !self.batch.is_empty() {
            let key = self.idempotency_key();
            let body = json!({
                "source": self.source,
                "documents": self.batch.upserts.iter().map(|(_, _, d)| d).collect::<Vec<_>>(),
                "deleted": self.batch.deletes,
            });
            (|| self.send(&body, &key))
                .retry(
                    ExponentialBuilder::default()
                        .with_min_delay(Duration::from_millis(200))
                        .with_max_delay(Duration::from_secs(10))
                        .with_max_times(6)
                        .with_jitter(),
                )
                .when(|e| e.kind() == ErrorKind::Transient)
                .await?;
            self.batch = Batch::default();
        }
        Ok(SinkPosition(json!({"sink": "http", "source": self.source})))
    }

    async fn restore(&mut self, _committed: Option<&SinkPosition>) -> Result<()> {
        self.batch = Batch::default();
        Ok(())
    }
}

/// A [`PgDocumentSink`] per job.
#[derive(Debug, Clone)]
pub struct PgDocumentSinks {
    db: Database,
}

impl PgDocumentSinks {
    /// Documents in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SinkFactory for PgDocumentSinks {
    async fn open(&self, job: &SyncJob) -> Result<Box<dyn Sink>> {
        Ok(Box::new(PgDocumentSink::new(
            self.db.clone(),
            &job.tenant_id,
            &job.state_key(),
        )))
    }
}

/// An [`HttpIngestSink`] per job, all to one URL.
#[derive(Debug, Clone)]
pub struct HttpIngestSinks {
    url: String,
    token: Option<SecretString>,
}

impl HttpIngestSinks {
    /// POST to `url` (bearer `token` when given).
    pub fn new(url: &str, token: Option<SecretString>) -> Self {
        Self {
            url: url.to_string(),
            token,
        }
    }
}

#[async_trait]
impl SinkFactory for HttpIngestSinks {
    async fn open(&self, job: &SyncJob) -> Result<Box<dyn Sink>> {
        Ok(Box::new(HttpIngestSink::new(
            &self.url,
            self.token.clone(),
            &job.state_key(),
        )))
    }
}
