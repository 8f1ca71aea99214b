//! The checks every connector passes. Each panics with a message saying
//! what broke, as test helpers do.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use connector_core::{Connector, ErrorKind, TimeWindow};
use futures::StreamExt;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::Endpoint;
use crate::hostile::{EchoAuthorization, Statuses};
use crate::run::{DEADLINE, Outcome, drain, full_stream};

/// Priority of the checks' mocks: ahead of fixtures mounted with wiremock's
/// default (5).
const AHEAD: u8 = 1;

/// Restarting from each checkpoint of a full run of `window` delivers
/// every item the run delivered after it, and none it delivered before.
pub async fn resume_at_every_checkpoint(connector: &dyn Connector, window: TimeWindow) {
    let c = connector
        .as_checkpointed()
        .unwrap_or_else(|| panic!("`{}` is not a CheckpointedConnector", connector.kind()));
    let full = drain(c.resume(window, None)).await;
    assert!(
        full.error.is_none(),
        "the full run failed: {:?}",
        full.error
    );
    assert!(
        !full.checkpoints.is_empty(),
        "the full run yielded no checkpoint"
    );
    let order = full.order();
    for (n, (before_count, checkpoint)) in full.checkpoints.iter().enumerate() {
        let before: HashSet<&String> = order[..*before_count].iter().collect();
        let after: BTreeSet<&String> = order[*before_count..]
            .iter()
            .filter(|id| !before.contains(id))
            .collect();
        let resumed = drain(c.resume(window, Some(checkpoint.clone()))).await;
        assert!(
            resumed.error.is_none(),
            "resuming at checkpoint {n} failed: {:?}",
            resumed.error
        );
        let got: HashSet<String> = resumed.order().into_iter().collect();
        let missing: Vec<&&String> = after.iter().filter(|id| !got.contains(**id)).collect();
        assert!(
            missing.is_empty(),
            "resuming at checkpoint {n} ({checkpoint:?}) lost {missing:?}"
        );
        let repeated: Vec<&String> = got.iter().filter(|id| before.contains(id)).collect();
        assert!(
            repeated.is_empty(),
            "resuming at checkpoint {n} ({checkpoint:?}) repeated {repeated:?}"
        );
    }
}

/// The ids a slim listing gives are the ids of the documents a full run
/// gives (objects that failed may be listed too).
pub async fn slim_matches_load(connector: &dyn Connector) {
    let slim = connector
        .as_slim()
        .unwrap_or_else(|| panic!("`{}` is not a SlimConnector", connector.kind()));
    let full = drain(full_stream(connector)).await;
    assert!(
        full.error.is_none(),
        "the full run failed: {:?}",
        full.error
    );
    let listing = async {
        let mut ids = BTreeSet::new();
        let mut stream = slim.slim();
        while let Some(entry) = stream.next().await {
            match entry {
                Ok(entry) => {
                    ids.insert(entry.id);
                }
                Err(e) => panic!("the slim listing failed: {e}"),
            }
        }
        ids
    };
    let slim_ids = tokio::time::timeout(DEADLINE, listing)
        .await
        .unwrap_or_else(|_| panic!("the slim listing did not end within {DEADLINE:?}"));
    let docs: BTreeSet<String> = full.documents.iter().map(|d| d.id.clone()).collect();
    let failed: BTreeSet<String> = full.failures.iter().map(|f| f.id.clone()).collect();
    let unlisted: Vec<&String> = docs.difference(&slim_ids).collect();
    assert!(
        unlisted.is_empty(),
        "loaded but not listed by slim: {unlisted:?}"
    );
    let extra: Vec<&String> = slim_ids
        .iter()
        .filter(|id| !docs.contains(*id) && !failed.contains(*id))
        .collect();
    assert!(
        extra.is_empty(),
        "listed by slim but never loaded: {extra:?}"
    );
}

/// A `200` of the wrong shape from `listing` ends the stream with a decode
/// error naming the request — never an empty (and so deleting) source.
pub async fn wrong_shape_is_a_decode_error(
    connector: &dyn Connector,
    server: &MockServer,
    listing: &Endpoint,
) {
    let bodies = [
        serde_json::json!({"unexpected": true}),
        serde_json::json!([]),
        serde_json::json!(null),
    ];
    wrong_shapes_are_decode_errors(connector, server, listing, &bodies).await;
}

/// [`wrong_shape_is_a_decode_error`] for listings whose answer is a bare
/// array (GitHub's), where `[]` is a genuine empty page: an object, `null`
/// and a string each end the stream with a decode error.
pub async fn wrong_shape_of_a_bare_array_is_a_decode_error(
    connector: &dyn Connector,
    server: &MockServer,
    listing: &Endpoint,
) {
    let bodies = [
        serde_json::json!({"unexpected": true}),
        serde_json::json!(null),
        serde_json::json!("[]"),
    ];
    wrong_shapes_are_decode_errors(connector, server, listing, &bodies).await;
}

async fn wrong_shapes_are_decode_errors(
    connector: &dyn Connector,
    server: &MockServer,
    listing: &Endpoint,
    bodies: &[serde_json::Value],
) {
    for body in bodies {
        let (mock, _guard) = listing.mock_ahead();
        mock.respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .with_priority(AHEAD)
            .mount(server)
            .await;
        let out = drain(full_stream(connector)).await;
        let err = out.error.unwrap_or_else(|| {
            panic!(
                "a listing answering {body} ended without an error ({} documents): it would read as an empty source",
                out.documents.len()
            )
        });
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        assert!(err.request().is_some(), "the error names no request: {err}");
    }
}

/// Answers `page(n)` to the n-th request (from 0).
struct Pages<F> {
    page: F,
    calls: Arc<AtomicUsize>,
}

impl<F: Fn(usize) -> ResponseTemplate + Send + Sync> Respond for Pages<F> {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        (self.page)(n)
    }
}

async fn paging_ends(
    connector: &dyn Connector,
    server: &MockServer,
    listing: &Endpoint,
    page: impl Fn(usize) -> ResponseTemplate + Send + Sync + 'static,
    what: &str,
) -> Outcome {
    let calls = Arc::new(AtomicUsize::new(0));
    let (mock, _guard) = listing.mock_ahead();
    mock.respond_with(Pages {
        page,
        calls: calls.clone(),
    })
    .with_priority(AHEAD)
    .mount(server)
    .await;
    let out = drain(full_stream(connector)).await;
    let requests = calls.load(Ordering::SeqCst);
    let err = out.error.as_ref().unwrap_or_else(|| {
        panic!("{what}: the stream ended without an error after {requests} requests")
    });
    assert!(
        requests < 1000,
        "{what}: stopped only after {requests} requests"
    );
    assert!(
        err.to_string().contains("stopping instead of looping"),
        "{what}: not the pager's error: {err}"
    );
    out
}

/// A listing whose every page names the same next cursor (`page(n)` builds
/// the n-th answer) ends with an error, not a loop.
pub async fn repeated_cursor_ends_with_an_error(
    connector: &dyn Connector,
    server: &MockServer,
    listing: &Endpoint,
    page: impl Fn(usize) -> ResponseTemplate + Send + Sync + 'static,
) {
    paging_ends(connector, server, listing, page, "a repeated cursor").await;
}

/// A listing that hands out fresh cursors forever over the same items ends
/// with an error, not after hours.
pub async fn endless_cursors_end_with_an_error(
    connector: &dyn Connector,
    server: &MockServer,
    listing: &Endpoint,
    page: impl Fn(usize) -> ResponseTemplate + Send + Sync + 'static,
) {
    paging_ends(connector, server, listing, page, "endless fresh cursors").await;
}

/// An offset-paged listing that answers the same page whatever the offset
/// ends with an error.
pub async fn offset_without_progress_ends_with_an_error(
    connector: &dyn Connector,
    server: &MockServer,
    listing: &Endpoint,
    page: impl Fn(usize) -> ResponseTemplate + Send + Sync + 'static,
) {
    paging_ends(
        connector,
        server,
        listing,
        page,
        "an offset without progress",
    )
    .await;
}

/// `429` with `Retry-After` in seconds and as an HTTP date is waited for
/// and the sync completes; a wait longer than the retry policy allows ends
/// with a rate-limited error that says so.
pub async fn retry_after_is_honoured(
    connector: &dyn Connector,
    server: &MockServer,
    endpoint: &Endpoint,
) {
    for as_date in [false, true] {
        // The date is written when the answer is mounted (an earlier one
        // would be partly spent by the round before); whole seconds, so
        // three seconds ahead is at least two seconds away.
        let wait = if as_date {
            httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3))
        } else {
            "1".to_owned()
        };
        let (mock, _guard) = endpoint.mock_ahead();
        mock.respond_with(Statuses::new(vec![(429, Some(wait.clone()))]))
            .up_to_n_times(1)
            .with_priority(AHEAD)
            .mount(server)
            .await;
        let started = Instant::now();
        let out = drain(full_stream(connector)).await;
        assert!(
            out.error.is_none(),
            "Retry-After: {wait} was not recovered from: {:?}",
            out.error
        );
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "Retry-After: {wait} was not waited for ({:?})",
            started.elapsed()
        );
    }
    let (mock, _guard) = endpoint.mock_ahead();
    mock.respond_with(Statuses::new(vec![(429, Some("86400".into())); 100]))
        .with_priority(AHEAD)
        .mount(server)
        .await;
    let out = drain(full_stream(connector)).await;
    let err = out
        .error
        .unwrap_or_else(|| panic!("Retry-After: 86400 ended without an error"));
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert!(err.to_string().contains("asked to wait"), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(86_400)));
}

/// When `endpoint` redirects to another host (a pre-signed download URL),
/// the request there carries no `Authorization`.
pub async fn redirect_carries_no_authorization(
    connector: &dyn Connector,
    server: &MockServer,
    endpoint: &Endpoint,
    body: &[u8],
) {
    let elsewhere = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_bytes(body.to_vec()))
        .mount(&elsewhere)
        .await;
    let location = format!("{}/files/signed?sig=abc", elsewhere.uri());
    let (mock, _guard) = endpoint.mock_ahead();
    mock.respond_with(ResponseTemplate::new(302).insert_header("Location", location.as_str()))
        .with_priority(AHEAD)
        .mount(server)
        .await;
    let out = drain(full_stream(connector)).await;
    assert!(out.error.is_none(), "the sync failed: {:?}", out.error);
    let received = elsewhere.received_requests().await.unwrap_or_default();
    assert!(!received.is_empty(), "the redirect was never followed");
    for request in received {
        assert!(
            !request.headers.contains_key("authorization"),
            "credentials went to another host: {request:?}"
        );
    }
}

/// A server that echoes the credentials back (in an error body, and in a
/// wrong-shaped `200`) never gets them into an error, a failure or a
/// document. `secrets` are the raw secrets in use.
pub async fn echoed_credentials_never_show(
    connector: &dyn Connector,
    server: &MockServer,
    endpoint: &Endpoint,
    secrets: &[&str],
) {
    for status in [400, 500, 200] {
        let (mock, _guard) = endpoint.mock_ahead();
        mock.respond_with(EchoAuthorization { status })
            .with_priority(AHEAD)
            .mount(server)
            .await;
        let out = drain(full_stream(connector)).await;
        let shown = out.shown();
        for secret in secrets {
            assert!(
                !shown.contains(secret),
                "a {status} echoing the credentials leaked them: {shown}"
            );
        }
        assert!(
            out.error.is_some() || !out.failures.is_empty(),
            "a {status} echoing the credentials was taken as a good answer"
        );
    }
}

/// One malformed record among good ones is one per-document failure; the
/// rest of the page goes on. `page` is a listing answer holding
/// `documents` good records and one bad one.
pub async fn one_malformed_record_is_one_failure(
    connector: &dyn Connector,
    server: &MockServer,
    listing: &Endpoint,
    page: ResponseTemplate,
    documents: usize,
) {
    let (mock, _guard) = listing.mock_ahead();
    mock.respond_with(page)
        .with_priority(AHEAD)
        .mount(server)
        .await;
    let out = drain(full_stream(connector)).await;
    assert!(out.error.is_none(), "the stream failed: {:?}", out.error);
    assert_eq!(
        out.failures.len(),
        1,
        "expected one failure: {:?}",
        out.failures
    );
    assert_eq!(
        out.documents.len(),
        documents,
        "documents around the bad record"
    );
}
