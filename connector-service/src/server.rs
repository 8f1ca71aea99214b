//! The HTTP side: `POST /webhooks`, `/healthz`, `/readyz`, `/metrics`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use connector_core::credentials::{ExposeSecret, SecretString};
use serde_json::json;
use std::time::Duration;
use subtle::ConstantTimeEq;

use crate::engine::{Engine, SyncJob};
use crate::pg::PgJobs;
use crate::queue::{Enqueued, JobQueue};
use crate::schedule::{Schedule, next_run};
use crate::webhook::{self, WebhookRequest};

/// The default largest webhook body: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// What the handlers share.
pub struct AppState {
    token_hash: [u8; 32],
    engine: Arc<Engine>,
    queue: Arc<dyn JobQueue>,
    kinds: Vec<&'static str>,
    schedules: Option<(PgJobs, Duration)>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("kinds", &self.kinds)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Accept webhooks bearing `token`; verify through `engine`, queue syncs on `queue`.
    pub fn new(token: &SecretString, engine: Arc<Engine>, queue: Arc<dyn JobQueue>) -> Self {
        Self {
            token_hash: *blake3::hash(token.expose_secret().as_bytes()).as_bytes(),
            engine,
            queue,
            kinds: connector_sdk::KINDS.to_vec(),
            schedules: None,
        }
    }

    /// Accept `PUT /connections/{tenant}/{connection}/schedule`, keeping
    /// schedules in `jobs`, each run delayed by up to `max_jitter`.
    pub fn with_schedules(mut self, jobs: PgJobs, max_jitter: Duration) -> Self {
        self.schedules = Some((jobs, max_jitter));
        self
    }

    /// Whether the `Authorization` header carries the token. Both sides are
    /// hashed first, so the comparison takes the same time whatever the
    /// length or content of the guess.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        else {
            return false;
        };
        let given = blake3::hash(token.trim().as_bytes());
        bool::from(given.as_bytes().ct_eq(&self.token_hash))
    }
}

/// The router, with bodies over `body_limit` bytes refused (413).
pub fn router(state: Arc<AppState>, body_limit: usize) -> Router {
    Router::new()
        .route("/webhooks", post(webhooks))
        .route(
            "/connections/{tenant}/{connection}/schedule",
            put(set_schedule),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

fn error(status: StatusCode, field: Option<&str>, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": message, "field": field})),
    )
        .into_response()
}

async fn webhooks(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let metrics = &state.engine.metrics;
    if !state.authorized(&headers) {
        metrics.rejected("unauthorized");
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            None,
            "missing or wrong bearer token",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return response;
    }
    let request = match webhook::parse(&body, &state.kinds) {
        Ok(request) => request,
        Err(e) => {
            metrics.rejected("invalid");
            let status = if e.field.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::BAD_REQUEST
            };
            return error(status, e.field.as_deref(), &e.message);
        }
    };
    match request {
        WebhookRequest::Verify {
            envelope,
            settings,
            credentials,
        } => {
            let engine = Arc::clone(&state.engine);
            let connection_id = envelope.connection_id.clone();
            tokio::spawn(async move {
                if let Err(e) = engine.verify(&envelope, &settings, credentials).await {
                    tracing::error!(connection = %envelope.connection_id, "verification could not report: {e}");
                }
            });
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({"accepted": true, "connection_id": connection_id})),
            )
                .into_response()
        }
        WebhookRequest::Sync { envelope, config } => {
            let job = SyncJob::new(&envelope, config);
            match state.queue.enqueue(job).await {
                Ok(Enqueued::Queued(job_id)) => {
                    metrics.jobs_queued.inc();
                    (
                        StatusCode::ACCEPTED,
                        axum::Json(json!({"accepted": true, "job_id": job_id})),
                    )
                        .into_response()
                }
                Ok(Enqueued::Coalesced) => {
                    metrics.jobs_coalesced.inc();
                    (
                        StatusCode::ACCEPTED,
                        axum::Json(json!({"accepted": true, "coalesced": true})),
                    )
                        .into_response()
                }
                Err(e) => {
                    tracing::error!("cannot queue a sync job: {e}");
                    error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        None,
                        "the job queue is unavailable; retry later",
                    )
                }
            }
        }
    }
}

/// The body of a schedule update: a cron expression, an interval, or
/// neither (no schedule).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleBody {
    #[serde(default)]
    cron: Option<String>,
    #[serde(default)]
    interval_secs: Option<i64>,
}

async fn set_schedule(
    State(state): State<Arc<AppState>>,
    Path((tenant, connection)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !state.authorized(&headers) {
        state.engine.metrics.rejected("unauthorized");
        return error(
            StatusCode::UNAUTHORIZED,
            None,
            "missing or wrong bearer token",
        );
    }
    let Some((jobs, max_jitter)) = &state.schedules else {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            None,
            "schedules need the distributed service (DATABASE_URL and AMQP_URL)",
        );
    };
    let body: ScheduleBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                None,
                &format!("invalid schedule: {e}"),
            );
        }
    };
    let key = crate::engine::state_key(&tenant, &connection);
    let (cron, interval, next) = if body.cron.is_none() && body.interval_secs.is_none() {
        (None, None, None)
    } else {
        match Schedule::parse(body.cron.as_deref(), body.interval_secs) {
            Ok(schedule) => (
                body.cron.clone(),
                body.interval_secs,
                next_run(&schedule, &key, chrono::Utc::now(), *max_jitter),
            ),
            Err(e) => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("cron"),
                    &e.to_string(),
                );
            }
        }
    };
    match jobs
        .set_schedule(&tenant, &connection, cron.as_deref(), interval, next)
        .await
    {
        Ok(true) => (
            StatusCode::OK,
            axum::Json(json!({"next_run_at": next.map(crate::status::stamp)})),
        )
            .into_response(),
        Ok(false) => error(
            StatusCode::NOT_FOUND,
            None,
            "unknown connection: request one sync first, so its type and config are known",
        ),
        Err(e) => {
            tracing::error!("cannot store a schedule: {e}");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "the database is unavailable",
            )
        }
    }
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.queue.is_ready().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.engine.metrics.encode(),
    )
        .into_response()
}
