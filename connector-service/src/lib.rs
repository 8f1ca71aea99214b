//! # connector-service
//!
//! The connector SDK as a sync service. A product posts webhooks —
//! `verify_credentials` and `data_source_sync_requested` — to
//! `POST /webhooks`; the service verifies credentials through the
//! connector's `validate()` and stores them encrypted, runs syncs through
//! core's [`SyncRunner`](connector_core::runner::SyncRunner) with
//! checkpoints, and reports each outcome as a status message.
//!
//! Without `AMQP_URL` and `DATABASE_URL` it runs on one machine (the
//! *embedded default*): jobs run in-process, state and credentials live in
//! files, status messages are JSON lines on stdout. With them, it is a
//! distributed service: jobs on a RabbitMQ work queue, status on the
//! `data_source_status` queue, state in PostgreSQL.
//!
//! - [`webhook`]: the request contract, parsed strictly;
//! - [`status`]: the status messages and where they are published;
//! - [`mapping`]: the camelCase `config` keys of each connector;
//! - [`engine`]: what a worker does (verify, sync, history, sinks);
//! - [`queue`]: the job queue trait and the in-process queue;
//! - [`amqp`]: the RabbitMQ work queue, status publisher and worker loop;
//! - [`schedule`]: cron and interval schedules, one scheduler across machines;
//! - [`server`]: the HTTP endpoints;
//! - [`sinks`]: the PostgreSQL documents table and the HTTP ingest sink;
//! - [`metrics`]: Prometheus metrics;
//! - [`pg`]: state, credentials, jobs and schedules in PostgreSQL;
//! - [`app`]: assembling a service from its settings.
//!
//! ```
//! use connector_service::status::{SyncPhase, SyncStatusMessage};
//!
//! let started = SyncStatusMessage::new("tenant-1", "conn-1", SyncPhase::SyncStarted);
//! let json = serde_json::to_value(&started).unwrap();
//! assert_eq!(json["status"], "sync_started");
//! assert_eq!(json["type"], "sync");
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod amqp;
pub mod app;
pub mod engine;
pub mod mapping;
pub mod metrics;
pub mod pg;
pub mod queue;
pub mod schedule;
pub mod server;
pub mod sinks;
pub mod status;
pub mod webhook;
