//! # connector-testing
//!
//! The conformance kit of the connector SDK. A source crate's tests start
//! their stand-in server with the vendor's fixtures, build a connector
//! against it, and call the checks here with their own endpoints:
//!
//! - [`checks::resume_at_every_checkpoint`]: restarting from any checkpoint
//!   of a run delivers the rest — no gap, no repeat of what came before it;
//! - [`checks::slim_matches_load`]: the ids a slim listing gives are the
//!   ids of the documents a full load gives;
//! - [`checks::wrong_shape_is_a_decode_error`]: a listing answering `200`
//!   with the wrong shape ends the stream with a decode error, never as an
//!   empty source ([`checks::wrong_shape_of_a_bare_array_is_a_decode_error`]
//!   for listings whose answer is a bare array, where `[]` is an empty page);
//! - [`checks::repeated_cursor_ends_with_an_error`] and
//!   [`checks::endless_cursors_end_with_an_error`]: a server that loops or
//!   never ends is stopped;
//! - [`checks::offset_without_progress_ends_with_an_error`];
//! - [`checks::retry_after_is_honoured`]: `Retry-After` in seconds and as a
//!   date is waited for, and a huge one is refused with a message;
//! - [`checks::redirect_carries_no_authorization`];
//! - [`checks::echoed_credentials_never_show`];
//! - [`checks::one_malformed_record_is_one_failure`].
//!
//! Every check mounts its hostile answer with a higher priority than the
//! fixtures and switches it off when done ([`Endpoint::mock_ahead`]), so
//! the checks can share one server.
//! A stream that does not end within [`DEADLINE`] fails the check (a hang
//! is a failure, not a stuck CI job). [`hostile`] holds the responders the
//! checks use, for a connector's own tests and benchmarks.
//!
//! ```no_run
//! use connector_testing::{checks, Endpoint};
//! # async fn demo(server: &wiremock::MockServer, jira: &dyn connector_core::Connector) {
//! let search = Endpoint::new("POST", r"^/rest/api/3/search/jql$");
//! checks::wrong_shape_is_a_decode_error(jira, server, &search).await;
//! # }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod checks;
pub mod hostile;
mod run;

pub use run::{DEADLINE, Outcome, drain, full_stream};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A request a connector makes, by method and path pattern (a regex on the
/// URL path, as wiremock's `path_regex`).
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `GET`, `POST`, …
    pub method: &'static str,
    /// A regex the request's path matches.
    pub path: String,
}

impl Endpoint {
    /// The requests with `method` whose path matches `path`.
    pub fn new(method: &'static str, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
        }
    }

    /// A mock for this endpoint.
    pub fn mock(&self) -> wiremock::MockBuilder {
        wiremock::Mock::given(wiremock::matchers::method(self.method))
            .and(wiremock::matchers::path_regex(self.path.as_str()))
    }

    /// A mock for this endpoint that matches only while the returned
    /// [`Switch`] lives: mount it with a priority ahead of the fixtures.
    ///
    /// wiremock's scoped mocks cannot do this: it sorts its mocks by
    /// priority in place when it answers, so a scoped mock mounted ahead of
    /// earlier fixtures later switches off a fixture instead of itself.
    pub fn mock_ahead(&self) -> (wiremock::MockBuilder, Switch) {
        let on = Arc::new(AtomicBool::new(true));
        (self.mock().and(While(on.clone())), Switch(on))
    }
}

/// Keeps a [`Endpoint::mock_ahead`] mock matching until dropped.
#[derive(Debug)]
pub struct Switch(Arc<AtomicBool>);

impl Drop for Switch {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Matches while its flag is on.
struct While(Arc<AtomicBool>);

impl wiremock::Match for While {
    fn matches(&self, _: &wiremock::Request) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    async fn get(server: &MockServer) -> String {
        let url = format!("{}/x", server.uri());
        let client = connector_core::http::HttpClient::builder("test", server.uri().as_str())
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        client
            .get(&url)
            .fetch_text()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A hostile mock ahead of an earlier fixture answers while its switch
    /// lives, and the fixture answers again once it is dropped.
    #[tokio::test]
    async fn a_mock_ahead_switches_off_itself_not_a_fixture() {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(200).set_body_string("fixture"))
            .mount(&server)
            .await;
        let endpoint = Endpoint::new("GET", "^/x$");
        for round in 0..3 {
            let (mock, switch) = endpoint.mock_ahead();
            mock.respond_with(ResponseTemplate::new(200).set_body_string("hostile"))
                .with_priority(1)
                .mount(&server)
                .await;
            assert_eq!(get(&server).await, "hostile", "round {round}");
            drop(switch);
            assert_eq!(get(&server).await, "fixture", "round {round}");
        }
    }
}
