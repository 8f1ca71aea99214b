//! Fixtures: the GitHub stand-in mounted on a wiremock server, and
//! connectors pointed at it.

#![allow(dead_code, clippy::unwrap_used)]

#[path = "../../testing/standin.rs"]
pub mod standin;

use std::time::Duration;

use connector_core::options::{RetryPolicy, SourceOptions};
use connector_github::{GitHubConfig, GitHubConnector};
use standin::{Db, StandIn, TOKEN};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

/// Quick retries, for tests.
pub fn options() -> SourceOptions {
    SourceOptions::default().with_rate(500.0).with_retry(
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_delays(Duration::from_millis(10), Duration::from_millis(50)),
    )
}

/// A server answering as `db` does.
pub async fn serve(db: Db) -> (MockServer, StandIn) {
    let server = MockServer::start().await;
    let standin = StandIn::new(db);
    standin.set_base(&server.uri());
    Mock::given(any())
        .respond_with(standin.clone())
        .mount(&server)
        .await;
    (server, standin)
}

/// The configuration for owner `acme` at `server`.
pub fn config(server: &MockServer) -> GitHubConfig {
    GitHubConfig::new()
        .base_url(server.uri())
        .token(TOKEN)
        .owners(["acme"])
        .options(options())
}

pub fn connector(server: &MockServer) -> GitHubConnector {
    GitHubConnector::new(config(server)).unwrap()
}
