//! State in PostgreSQL: core's [`CheckpointStore`] (sync state, content
//! index log, an advisory lock per connection), a [`CredentialStore`]
//! sealing each row like core's encrypted file store, the job table (history
//! and duplicate coalescing) and the connections with their schedules.
//!
//! The schema is in `migrations/*.sql`, applied by [`Database::connect`].

use std::io::{Cursor, Read};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connector_core::checkpoint::{CheckpointStore, StateLock};
use connector_core::credentials::{
    CredentialKey, CredentialStore, SealedCredential, StoreKey, StoredCredential,
};
use connector_core::{Error, ErrorKind, Result};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde_json::{Map, Value};
use tokio_postgres::NoTls;

use crate::engine::{HistoryEntry, JobHistory, SyncJob};
use crate::queue::Enqueued;

/// The migrations, in order.
pub const MIGRATIONS: &[(i32, &str)] = &[(1, include_str!("../migrations/0001_init.sql"))];

/// A queued or running job older than this is taken for abandoned (its
/// message lost with a purged queue) and no longer blocks new ones.
pub const ABANDON_AFTER_HOURS: i64 = 24;

pub(crate) fn db_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Transient, format!("database: {what}: {e}"))
}

/// A pool of connections to one database, migrated.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    url: String,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").finish_non_exhaustive()
    }
}

/// The advisory lock id of a name: the first 8 bytes of its BLAKE3 hash.
pub fn lock_id(name: &str) -> i64 {
    let hash = blake3::hash(name.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&hash.as_bytes()[..8]);
    i64::from_be_bytes(bytes)
}

/// A session-level advisory lock on its own connection: released when
/// dropped, or by the server when the process dies.
pub struct AdvisoryLock {
    _client: tokio_postgres::Client,
    connection: tokio::task::JoinHandle<()>,
}

impl Drop for AdvisoryLock {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl std::fmt::Debug for AdvisoryLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdvisoryLock")
    }
}

impl Database {
    /// Connect to `url` (`postgres://user:password@host:port/db`) with up
    /// to `max_size` connections, and apply the migrations not yet applied.
    pub async fn connect(url: &str, max_size: usize) -> Result<Self> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| Error::config(format!("DATABASE_URL is not a PostgreSQL URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size.max(2))
            .build()
            .map_err(|e| db_error("cannot build the pool", e))?;
        let db = Self {
            pool,
            url: url.to_string(),
        };
        db.migrate().await?;
        Ok(db)
    }

    /// A pooled connection.
    pub async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|e| db_error("cannot connect", e))
    }

    async fn migrate(&self) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| db_error("begin", e))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&lock_id("connector-service migrations")],
        )
        .await
        .map_err(|e| db_error("migration lock", e))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS connector_service_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(|e| db_error("migration table", e))?;
        for (version, sql) in MIGRATIONS {
            let done = tx
                .query_opt(
                    "SELECT 1 FROM connector_service_migrations WHERE version = $1",
                    &[version],
                )
                .await
                .map_err(|e| db_error("reading migrations", e))?;
            if done.is_none() {
                tx.batch_execute(sql)
                    .await
                    .map_err(|e| db_error(&format!("migration {version}"), e))?;
                tx.execute(
                    "INSERT INTO connector_service_migrations (version) VALUES ($1)",
                    &[version],
                )
                .await
                .map_err(|e| db_error("recording a migration", e))?;
            }
        }
        tx.commit().await.map_err(|e| db_error("commit", e))
    }

    /// Try to take the advisory lock `name` on a connection of its own,
    /// without waiting; `None` when someone else holds it.
    pub async fn try_lock(&self, name: &str) -> Result<Option<AdvisoryLock>> {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls)
            .await
            .map_err(|e| db_error("cannot connect for a lock", e))?;
        let connection = tokio::spawn(async move {
            let _ = connection.await;
        });
        let row = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&lock_id(name)])
            .await
            .map_err(|e| db_error("advisory lock", e))?;
        if row.get::<_, bool>(0) {
            Ok(Some(AdvisoryLock {
                _client: client,
                connection,
            }))
        } else {
            connection.abort();
            Ok(None)
        }
    }
}

/// Core's [`CheckpointStore`] in PostgreSQL: tables `sync_state` and
/// `sync_log`; [`CheckpointStore::lock`] is a session advisory lock on a
/// connection of its own, so two workers on any machines never run one
/// connection at once, and a worker that dies releases it.
#[derive(Debug, Clone)]
pub struct PgCheckpointStore {
    db: Database,
}

impl PgCheckpointStore {
    /// State in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl CheckpointStore for PgCheckpointStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let client = self.db.client().await?;
        let row = client
            .query_opt("SELECT value FROM sync_state WHERE key = $1", &[&key])
            .await
            .map_err(|e| db_error("loading state", e))?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn save(&self, key: &str, value: &[u8]) -> Result<()> {
        let client = self.db.client().await?;
        client
            .execute(
                "INSERT INTO sync_state (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
                &[&key, &value],
            )
            .await
            .map_err(|e| db_error("saving state", e))?;
        Ok(())
    }

    async fn log_truncate(&self, key: &str, len: u64) -> Result<()> {
        let len = i64::try_from(len).map_err(|_| Error::config("log length out of range"))?;
        let mut client = self.db.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| db_error("begin", e))?;
        tx.execute(
            "DELETE FROM sync_log WHERE key = $1 AND start_at >= $2",
            &[&key, &len],
        )
        .await
        .map_err(|e| db_error("truncating the index", e))?;
        tx.execute(
            "UPDATE sync_log SET bytes = substring(bytes FROM 1 FOR ($2 - start_at)::int)
             WHERE key = $1 AND start_at < $2 AND start_at + length(bytes) > $2",
            &[&key, &len],
        )
        .await
        .map_err(|e| db_error("truncating the index", e))?;
        tx.commit().await.map_err(|e| db_error("commit", e))
    }

    async fn log_append(&self, key: &str, bytes: &[u8]) -> Result<u64> {
        let client = self.db.client().await?;
        let row = client
            .query_one(
                "INSERT INTO sync_log (key, start_at, bytes)
                 SELECT $1, COALESCE(MAX(start_at + length(bytes)), 0), $2::bytea FROM sync_log WHERE key = $1
                 RETURNING start_at + length(bytes)",
                &[&key, &bytes],
            )
            .await
            .map_err(|e| db_error("appending to the index", e))?;
        let end: i64 = row.get(0);
        Ok(u64::try_from(end).unwrap_or(0))
    }

    async fn log_read(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "SELECT bytes FROM sync_log WHERE key = $1 ORDER BY start_at",
                &[&key],
            )
            .await
            .map_err(|e| db_error("reading the index", e))?;
        let mut out = Vec::new();
        for row in rows {
            let chunk: Vec<u8> = row.get(0);
            out.extend_from_slice(&chunk);
        }
        Ok(Box::new(Cursor::new(out)))
    }

    async fn lock(&self, key: &str) -> Result<StateLock> {
        match self.db.try_lock(&format!("sync-state:{key}")).await? {
            Some(lock) => Ok(StateLock::new(lock)),
            None => Err(Error::new(
                ErrorKind::Io,
                format!("connection {key} is being synced by another worker"),
            )),
        }
    }
}

/// Credentials in the `credentials` table, each row sealed under a
/// [`StoreKey`] with the key triple as associated data (the sealing of
/// core's encrypted file store).
pub struct PgCredentialStore {
    db: Database,
    key: StoreKey,
}

impl std::fmt::Debug for PgCredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCredentialStore").finish_non_exhaustive()
    }
}

impl PgCredentialStore {
    /// Rows in `db`, sealed under `key`.
    pub fn new(db: Database, key: StoreKey) -> Self {
        Self { db, key }
    }

    /// Re-seal every row under `new_key` in one transaction: either all rows
    /// move to the new key or none does. Returns how many rows were re-sealed.
    /// Run it with the service stopped (or every process restarted with the
    /// new key right after): a process still holding the old key can no
    /// longer open the rows.
    pub async fn rotate_key(&self, new_key: &StoreKey) -> Result<u64> {
        let mut client = self.db.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| db_error("begin", e))?;
        let rows = tx
            .query(
                "SELECT tenant_id, connection_id, connection_type, nonce, ciphertext FROM credentials FOR UPDATE",
                &[],
            )
            .await
            .map_err(|e| db_error("reading credentials", e))?;
        let mut count = 0;
        for row in rows {
            let key = CredentialKey::new(
                row.get::<_, String>(0),
                row.get::<_, String>(1),
                row.get::<_, String>(2),
            )?;
            let sealed = SealedCredential {
                nonce: row.get(3),
                ciphertext: row.get(4),
            };
            let value = self.key.open_credential(&key, &sealed)?;
            let resealed = new_key.seal_credential(&key, &value)?;
            tx.execute(
                "UPDATE credentials SET nonce = $4, ciphertext = $5, updated_at = now()
                 WHERE tenant_id = $1 AND connection_id = $2 AND connection_type = $3",
                &[
                    &key.tenant_id,
                    &key.connection_id,
                    &key.connection_type,
                    &resealed.nonce,
                    &resealed.ciphertext,
                ],
            )
            .await
            .map_err(|e| db_error("re-sealing a credential", e))?;
            count += 1;
        }
        tx.commit().await.map_err(|e| db_error("commit", e))?;
        Ok(count)
    }
}

#[async_trait]
impl CredentialStore for PgCredentialStore {
    async fn get(&self, key: &CredentialKey) -> Result<Option<StoredCredential>> {
        let client = self.db.client().await?;
        let row = client
            .query_opt(
                "SELECT nonce, ciphertext FROM credentials
                 WHERE tenant_id = $1 AND connection_id = $2 AND connection_type = $3",
                &[&key.tenant_id, &key.connection_id, &key.connection_type],
            )
            .await
            .map_err(|e| db_error("reading a credential", e))?;
        let Some(row) = row else { return Ok(None) };
        let sealed = SealedCredential {
            nonce: row.get(0),
            ciphertext: row.get(1),
        };
        self.key.open_credential(key, &sealed).map(Some)
    }

    async fn put(&self, key: &CredentialKey, value: StoredCredential) -> Result<()> {
        let sealed = self.key.seal_credential(key, &value)?;
        let client = self.db.client().await?;
        client
            .execute(
                "INSERT INTO credentials (tenant_id, connection_id, connection_type, nonce, ciphertext)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant_id, connection_id, connection_type)
                 DO UPDATE SET nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, updated_at = now()",
                &[
                    &key.tenant_id,
                    &key.connection_id,
                    &key.connection_type,
                    &sealed.nonce,
                    &sealed.ciphertext,
                ],
            )
            .await
            .map_err(|e| db_error("storing a credential", e))?;
        Ok(())
    }

    async fn delete(&self, key: &CredentialKey) -> Result<bool> {
        let client = self.db.client().await?;
        let n = client
            .execute(
                "DELETE FROM credentials WHERE tenant_id = $1 AND connection_id = $2 AND connection_type = $3",
                &[&key.tenant_id, &key.connection_id, &key.connection_type],
            )
            .await
            .map_err(|e| db_error("deleting a credential", e))?;
        Ok(n > 0)
    }

    async fn list(&self, tenant_id: &str) -> Result<Vec<CredentialKey>> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "SELECT tenant_id, connection_id, connection_type FROM credentials
                 WHERE tenant_id = $1 ORDER BY connection_id, connection_type",
                &[&tenant_id],
            )
            .await
            .map_err(|e| db_error("listing credentials", e))?;
        Ok(rows
            .into_iter()
            .map(|r| CredentialKey {
                tenant_id: r.get(0),
                connection_id: r.get(1),
                connection_type: r.get(2),
            })
            .collect())
    }
}

/// The `sync_jobs` and `connections` tables.
#[derive(Debug, Clone)]
pub struct PgJobs {
    db: Database,
}

impl PgJobs {
    /// Jobs in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Record `job` as queued and its connection's latest config, unless
    /// the connection has a job queued or running (then `Coalesced`).
    pub async fn claim(&self, job: &SyncJob) -> Result<Enqueued> {
        let client = self.db.client().await?;
        client
            .execute(
                "UPDATE sync_jobs SET status = 'abandoned', finished_at = now()
                 WHERE tenant_id = $1 AND connection_id = $2 AND status IN ('queued', 'running')
                   AND requested_at < now() - make_interval(hours => $3::int)",
                &[
                    &job.tenant_id,
                    &job.connection_id,
                    &(ABANDON_AFTER_HOURS as i32),
                ],
            )
            .await
            .map_err(|e| db_error("expiring abandoned jobs", e))?;
        client
            .execute(
                "INSERT INTO connections (tenant_id, connection_id, connection_type, config)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, connection_id) DO UPDATE
                 SET connection_type = EXCLUDED.connection_type, config = EXCLUDED.config, updated_at = now()",
                &[
                    &job.tenant_id,
                    &job.connection_id,
                    &job.connection_type,
                    &Value::Object(job.config.clone()),
                ],
            )
            .await
            .map_err(|e| db_error("recording the connection", e))?;
        let inserted = client
            .execute(
                "INSERT INTO sync_jobs (job_id, tenant_id, connection_id, connection_type, status, requested_at)
                 VALUES ($1, $2, $3, $4, 'queued', $5)
                 ON CONFLICT DO NOTHING",
                &[
                    &job.job_id,
                    &job.tenant_id,
                    &job.connection_id,
                    &job.connection_type,
                    &job.requested_at,
                ],
            )
            .await
            .map_err(|e| db_error("queuing a job", e))?;
        Ok(if inserted == 1 {
            Enqueued::Queued(job.job_id.clone())
        } else {
            Enqueued::Coalesced
        })
    }

    /// Forget a job whose message could not be queued.
    pub async fn unclaim(&self, job_id: &str) -> Result<()> {
        let client = self.db.client().await?;
        client
            .execute("DELETE FROM sync_jobs WHERE job_id = $1", &[&job_id])
            .await
            .map_err(|e| db_error("dropping a job", e))?;
        Ok(())
    }

    /// The history of one connection, oldest first.
    pub async fn history(&self, tenant_id: &str, connection_id: &str) -> Result<Vec<HistoryEntry>> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "SELECT job_id, tenant_id, connection_id, connection_type, status,
                        COALESCE(started_at, requested_at), finished_at, documents_processed, documents_failed, error
                 FROM sync_jobs WHERE tenant_id = $1 AND connection_id = $2 ORDER BY requested_at, started_at",
                &[&tenant_id, &connection_id],
            )
            .await
            .map_err(|e| db_error("reading the history", e))?;
        Ok(rows
            .into_iter()
            .map(|r| HistoryEntry {
                job_id: r.get(0),
                tenant_id: r.get(1),
                connection_id: r.get(2),
                connection_type: r.get(3),
                status: r.get(4),
                started_at: r.get(5),
                finished_at: r.get(6),
                documents_processed: u64::try_from(r.get::<_, i64>(7)).unwrap_or(0),
                documents_failed: u64::try_from(r.get::<_, i64>(8)).unwrap_or(0),
                error: r.get(9),
            })
            .collect())
    }

    /// Set (or with both `None`, clear) a connection's schedule: a cron
    /// expression or an interval in seconds. The connection must have been
    /// synced once (so its type and config are known).
    pub async fn set_schedule(
        &self,
        tenant_id: &str,
        connection_id: &str,
        cron: Option<&str>,
        interval_secs: Option<i64>,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let client = self.db.client().await?;
        let n = client
            .execute(
                "UPDATE connections SET cron = $3, interval_secs = $4, next_run_at = $5, updated_at = now()
                 WHERE tenant_id = $1 AND connection_id = $2",
                &[&tenant_id, &connection_id, &cron, &interval_secs, &next_run_at],
            )
            .await
            .map_err(|e| db_error("setting a schedule", e))?;
        Ok(n == 1)
    }

    /// Connections due at `now`: (tenant, connection, type, config, cron, interval).
    pub async fn due(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueConnection>> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "SELECT tenant_id, connection_id, connection_type, config, cron, interval_secs, next_run_at
                 FROM connections WHERE next_run_at IS NOT NULL AND next_run_at <= $1
                 ORDER BY next_run_at LIMIT $2",
                &[&now, &limit],
            )
            .await
            .map_err(|e| db_error("reading due connections", e))?;
        Ok(rows
            .into_iter()
            .map(|r| DueConnection {
                tenant_id: r.get(0),
                connection_id: r.get(1),
                connection_type: r.get(2),
                config: match r.get::<_, Value>(3) {
                    Value::Object(map) => map,
                    _ => Map::new(),
                },
                cron: r.get(4),
                interval_secs: r.get(5),
                next_run_at: r.get(6),
            })
            .collect())
    }

    /// Move a connection's next run to `next` (`None`: unscheduled), recording `ran_at`.
    pub async fn reschedule(
        &self,
        tenant_id: &str,
        connection_id: &str,
        ran_at: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let client = self.db.client().await?;
        client
            .execute(
                "UPDATE connections SET last_run_at = $3, next_run_at = $4 WHERE tenant_id = $1 AND connection_id = $2",
                &[&tenant_id, &connection_id, &ran_at, &next],
            )
            .await
            .map_err(|e| db_error("rescheduling", e))?;
        Ok(())
    }
}

/// A connection whose scheduled run is due.
#[derive(Debug, Clone)]
pub struct DueConnection {
    /// The tenant.
    pub tenant_id: String,
    /// The connection.
    pub connection_id: String,
    /// Its connector kind.
    pub connection_type: String,
    /// Its last config.
    pub config: Map<String, Value>,
    /// Its cron expression.
    pub cron: Option<String>,
    /// Or its interval.
    pub interval_secs: Option<i64>,
    /// When it was due.
    pub next_run_at: Option<DateTime<Utc>>,
}

#[async_trait]
impl JobHistory for PgJobs {
    async fn record(&self, entry: &HistoryEntry) -> Result<()> {
        let client = self.db.client().await?;
        let processed = i64::try_from(entry.documents_processed).unwrap_or(i64::MAX);
        let failed = i64::try_from(entry.documents_failed).unwrap_or(i64::MAX);
        // A coalesced job leaves the active job of its connection alone.
        client
            .execute(
                "INSERT INTO sync_jobs (job_id, tenant_id, connection_id, connection_type, status,
                        started_at, finished_at, documents_processed, documents_failed, error)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (job_id) DO UPDATE SET status = EXCLUDED.status,
                    started_at = COALESCE(sync_jobs.started_at, EXCLUDED.started_at),
                    finished_at = EXCLUDED.finished_at,
                    documents_processed = EXCLUDED.documents_processed,
                    documents_failed = EXCLUDED.documents_failed, error = EXCLUDED.error",
                &[
                    &entry.job_id,
                    &entry.tenant_id,
                    &entry.connection_id,
                    &entry.connection_type,
                    &entry.status,
                    &entry.started_at,
                    &entry.finished_at,
                    &processed,
                    &failed,
                    &entry.error,
                ],
            )
            .await
            .map_err(|e| db_error("recording history", e))?;
        Ok(())
    }
}

/// Both trait objects over one [`Database`].
pub fn stores(db: &Database, key: StoreKey) -> (Arc<PgCheckpointStore>, Arc<PgCredentialStore>) {
    (
        Arc::new(PgCheckpointStore::new(db.clone())),
        Arc::new(PgCredentialStore::new(db.clone(), key)),
    )
}
