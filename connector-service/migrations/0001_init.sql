-- connector-service state. Applied in order by the service at start-up
-- (under an advisory lock, so several processes starting at once apply it once).

-- Sync state per connection (`tenant/connection`): the runner's state value,
-- replaced atomically.
CREATE TABLE sync_state (
    key        text PRIMARY KEY,
    value      bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The content index of each connection: an append-only log in chunks,
-- `start_at` being the chunk's byte offset in the log.
CREATE TABLE sync_log (
    key      text   NOT NULL,
    start_at bigint NOT NULL,
    bytes    bytea  NOT NULL,
    PRIMARY KEY (key, start_at)
);

-- Credentials, each sealed with ChaCha20-Poly1305 under the service key,
-- the (tenant, connection, type) triple as associated data.
CREATE TABLE credentials (
    tenant_id       text  NOT NULL,
    connection_id   text  NOT NULL,
    connection_type text  NOT NULL,
    nonce           bytea NOT NULL,
    ciphertext      bytea NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, connection_id, connection_type)
);

-- Connections the service has been asked to sync, with their schedule.
CREATE TABLE connections (
    tenant_id       text  NOT NULL,
    connection_id   text  NOT NULL,
    connection_type text  NOT NULL,
    config          jsonb NOT NULL,
    cron            text,
    interval_secs   bigint CHECK (interval_secs IS NULL OR interval_secs > 0),
    next_run_at     timestamptz,
    last_run_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, connection_id)
);
CREATE INDEX connections_due ON connections (next_run_at) WHERE next_run_at IS NOT NULL;

-- Every sync job: queued, running, then completed, failed or coalesced.
CREATE TABLE sync_jobs (
    job_id              text PRIMARY KEY,
    tenant_id           text NOT NULL,
    connection_id       text NOT NULL,
    connection_type     text NOT NULL,
    status              text NOT NULL,
    requested_at        timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    documents_processed bigint NOT NULL DEFAULT 0,
    documents_failed    bigint NOT NULL DEFAULT 0,
    error               text
);
-- At most one job queued or running per connection: duplicates coalesce.
CREATE UNIQUE INDEX sync_jobs_one_active ON sync_jobs (tenant_id, connection_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX sync_jobs_by_connection ON sync_jobs (tenant_id, connection_id, requested_at);

-- Documents, for the PostgreSQL sink: one row per (source, external_id).
CREATE TABLE documents (
    source       text  NOT NULL,
    external_id  text  NOT NULL,
    tenant_id    text  NOT NULL,
    content_hash text  NOT NULL,
    document     jsonb NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
