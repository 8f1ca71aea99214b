//! The HTTP side: `POST /webhooks`, `/healthz`, `/readyz`, `/metrics`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use connector_core::credentials::{ExposeSecret, SecretString};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::engine::{Engine, SyncJob};
use crate::queue::{Enqueued, JobQueue};
use crate::webhook::{self, WebhookRequest};

/// The default largest webhook body: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// What the handlers share.
pub struct AppState {
    token_hash: [u8; 32],
    engine: Arc<Engine>,
    queue: Arc<dyn JobQueue>,
    kinds: Vec<&'static str>,
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
        }
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
