//! The conformance kit against Jira Cloud (token paging) and Jira Data
//! Center (offset paging) stand-ins serving the documented REST shapes.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use std::time::Duration;

use chrono::Duration as Days;
use connector_core::TimeWindow;
use connector_core::credentials::StaticAuth;
use connector_core::deployment::Deployment;
use connector_core::options::{RetryPolicy, SourceOptions};
use connector_jira::{JiraConfig, JiraConnector};
use connector_testing::{Endpoint, checks};
use serde_json::json;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_TOKEN: &str = "api-token-s3cr3t-0042";
const PAT: &str = "pat-s3cr3t-0042";

/// Retries quick enough for a test, attachment bytes on (for the redirect check).
fn options() -> SourceOptions {
    SourceOptions::default()
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_delays(Duration::from_millis(10), Duration::from_millis(50)),
        )
        .with_attachment_bytes(1 << 20)
}

fn window() -> TimeWindow {
    TimeWindow::new(t0() - Days::days(1), t0() + Days::days(30))
}

/// 250 issues, the first with an attachment whose bytes live on the site.
async fn site(version: &str) -> (MockServer, JiraConnector) {
    let cloud = version == "3";
    let server = MockServer::start().await;
    mount_account(&server, version, "Europe/Berlin").await;
    mount_comments(&server, version, 3, cloud).await;
    let mut issues: Vec<_> = (1..=250)
        .map(|n| issue(n, updated_of(n), cloud, 3, 2))
        .collect();
    for issue in &mut issues {
        issue["fields"]["attachment"] = json!([]);
    }
    issues[0]["fields"]["attachment"] = json!([{
        "id": "10000",
        "filename": "notes.txt",
        "mimeType": "text/plain",
        "size": 5,
        "content": format!("{}/rest/api/{version}/attachment/content/10000", server.uri())
    }]);
    Mock::given(method("GET"))
        .and(path(format!(
            "/rest/api/{version}/attachment/content/10000"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"notes".to_vec()))
        .mount(&server)
        .await;
    if cloud {
        Mock::given(method("POST"))
            .and(path("/rest/api/3/search/jql"))
            .respond_with(TokenSearch::new(issues))
            .mount(&server)
            .await;
    } else {
        Mock::given(method("POST"))
            .and(path("/rest/api/2/search"))
            .respond_with(OffsetSearch { issues })
            .mount(&server)
            .await;
    }
    let (deployment, credentials) = if cloud {
        (
            Deployment::Cloud,
            StaticAuth::basic("mia@example.com", API_TOKEN),
        )
    } else {
        (Deployment::DataCenter, StaticAuth::bearer(PAT))
    };
    let config = JiraConfig::new(server.uri())
        .deployment(deployment)
        .project("ENG")
        .credentials(credentials)
        .options(options());
    let jira = JiraConnector::new(config).unwrap();
    (server, jira)
}

/// A search page of three good issues and one whose summary holds a lone
/// surrogate (invalid JSON text, fatal to a whole-page decode).
fn page_with_one_bad_record(cloud: bool) -> ResponseTemplate {
    let bare = |n| {
        let mut issue = issue(n, updated_of(n), cloud, 0, 20);
        issue["fields"]["attachment"] = json!([]);
        issue.to_string()
    };
    let good: Vec<String> = (1..=3).map(bare).collect();
    let bad = bare(4).replace("Issue number 4", "Issue \\udc00 number 4");
    let issues = format!("[{}, {bad}]", good.join(","));
    let body = if cloud {
        format!(r#"{{"issues": {issues}, "isLast": true}}"#)
    } else {
        format!(r#"{{"startAt": 0, "maxResults": 100, "total": 4, "issues": {issues}}}"#)
    };
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_passes_the_conformance_kit() {
    let (server, jira) = site("3").await;
    let search = Endpoint::new("POST", r"^/rest/api/3/search/jql$");
    let attachment = Endpoint::new("GET", r"^/rest/api/3/attachment/content/10000$");

    checks::resume_at_every_checkpoint(&jira, window()).await;
    checks::slim_matches_load(&jira).await;
    checks::wrong_shape_is_a_decode_error(&jira, &server, &search).await;
    let one = issue(1, updated_of(1), true, 0, 20);
    let page = one.clone();
    checks::repeated_cursor_ends_with_an_error(&jira, &server, &search, move |_| {
        ResponseTemplate::new(200).set_body_json(json!({
            "issues": [page.clone()], "nextPageToken": "CAEaAggD", "isLast": false
        }))
    })
    .await;
    checks::endless_cursors_end_with_an_error(&jira, &server, &search, move |n| {
        ResponseTemplate::new(200).set_body_json(json!({
            "issues": [one.clone()], "nextPageToken": format!("CAEaAggD-{n}"), "isLast": false
        }))
    })
    .await;
    checks::redirect_carries_no_authorization(&jira, &server, &attachment, b"notes").await;
    checks::echoed_credentials_never_show(&jira, &server, &search, &[API_TOKEN]).await;
    checks::one_malformed_record_is_one_failure(
        &jira,
        &server,
        &search,
        page_with_one_bad_record(true),
        3,
    )
    .await;
    // Last: a refused day-long Retry-After holds this connector's requests
    // for the longest wait the retry policy allows.
    checks::retry_after_is_honoured(&jira, &server, &search).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_center_passes_the_conformance_kit() {
    let (server, jira) = site("2").await;
    let search = Endpoint::new("POST", r"^/rest/api/2/search$");
    let attachment = Endpoint::new("GET", r"^/rest/api/2/attachment/content/10000$");

    checks::resume_at_every_checkpoint(&jira, window()).await;
    checks::slim_matches_load(&jira).await;
    checks::wrong_shape_is_a_decode_error(&jira, &server, &search).await;
    // The same page whatever the offset: a server that never moves on.
    let same: Vec<_> = (1..=100)
        .map(|n| issue(n, updated_of(n), false, 0, 20))
        .collect();
    checks::offset_without_progress_ends_with_an_error(&jira, &server, &search, move |_| {
        ResponseTemplate::new(200).set_body_json(json!({
            "startAt": 0, "maxResults": 100, "total": 1_000_000, "issues": same.clone()
        }))
    })
    .await;
    checks::redirect_carries_no_authorization(&jira, &server, &attachment, b"notes").await;
    checks::echoed_credentials_never_show(&jira, &server, &search, &[PAT]).await;
    checks::one_malformed_record_is_one_failure(
        &jira,
        &server,
        &search,
        page_with_one_bad_record(false),
        3,
    )
    .await;
    // Last: a refused day-long Retry-After holds this connector's requests
    // for the longest wait the retry policy allows.
    checks::retry_after_is_honoured(&jira, &server, &search).await;
}
