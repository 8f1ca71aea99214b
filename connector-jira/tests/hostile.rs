//! The Jira connector against servers that misbehave: answers of the wrong
//! shape, results out of `updated` order, hostile issue keys, endless
//! comments, expired page tokens, undecodable records, a silent time zone.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Duration as Minutes;
use connector_core::credentials::StaticAuth;
use connector_core::deployment::Deployment;
use connector_core::options::SourceOptions;
use connector_core::{
    Checkpoint, CheckpointedConnector, ErrorKind, Item, PollConnector, TimeWindow,
};
use connector_jira::{JiraConfig, JiraConnector};
use futures::StreamExt;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn config(server: &MockServer) -> JiraConfig {
    JiraConfig::new(server.uri())
        .deployment(Deployment::Cloud)
        .project("ENG")
        .credentials(StaticAuth::basic("mia@example.com", "api-token-secret"))
}

fn cloud(server: &MockServer) -> JiraConnector {
    JiraConnector::new(config(server)).unwrap()
}

fn window() -> TimeWindow {
    TimeWindow::new(t0() - Minutes::days(1), t0() + Minutes::days(30))
}

#[derive(Default, Debug)]
struct Collected {
    docs: Vec<connector_core::Document>,
    failures: Vec<connector_core::DocumentFailure>,
    checkpoints: Vec<(usize, Checkpoint)>,
    error: Option<connector_core::Error>,
}

impl Collected {
    fn keys(&self) -> Vec<String> {
        self.docs
            .iter()
            .map(|d| d.title.split(':').next().unwrap().to_string())
            .collect()
    }
}

async fn collect(mut stream: connector_core::ItemStream<'_>) -> Collected {
    let mut out = Collected::default();
    while let Some(item) = stream.next().await {
        match item {
            Ok(Item::Document(d)) => out.docs.push(*d),
            Ok(Item::Failure(f)) => out.failures.push(f),
            Ok(Item::Checkpoint(c)) => out.checkpoints.push((out.docs.len(), c)),
            Ok(other) => panic!("Jira reports no {other:?}"),
            Err(e) => {
                out.error = Some(e);
                break;
            }
        }
    }
    out
}

async fn server_with(issues: Vec<Value>) -> MockServer {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    mount_comments(&server, "3", 0, true).await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(TokenSearch::new(issues))
        .mount(&server)
        .await;
    server
}

/// A 200 that is not a search page is a decode error naming the request,
/// never an empty (and so deleting) last page.
#[tokio::test]
async fn a_search_answer_of_the_wrong_shape_is_a_decode_error() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    let jira = cloud(&server);
    for body in [
        json!({"unexpected": true}),
        json!({"issues": [issue(1, updated_of(1), true, 0, 20)]}),
        json!({"issues": [], "isLast": false}),
        json!({"isLast": true}),
        json!({"issues": {"ENG-1": {}}, "isLast": true}),
    ] {
        let _guard = Mock::given(method("POST"))
            .and(path("/rest/api/3/search/jql"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .mount_as_scoped(&server)
            .await;
        let got = collect(jira.poll(window())).await;
        let err = got.error.unwrap_or_else(|| panic!("{body}: no error"));
        assert_eq!(err.kind(), ErrorKind::Decode, "{body}: {err}");
        assert!(
            err.request()
                .is_some_and(|r| r.contains("POST") && r.contains("/rest/api/3/search/jql")),
            "{body}: {err}"
        );
        assert!(got.docs.is_empty(), "{body}");
        // The key listing (what finds deletions) fails the same way.
        let listed: Vec<_> = connector_core::SlimConnector::slim(&jira).collect().await;
        let err = listed.last().unwrap().as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{body}: {err}");
    }
}

/// A permutation of 1..=n that breaks `updated` order across and within pages.
fn shuffled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (1..=n).collect();
    // A fixed pseudo-random shuffle (Fisher–Yates over an LCG), so runs compare.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for i in (1..order.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let j = (state >> 33) as usize % (i + 1);
        order.swap(i, j);
    }
    order
}

#[tokio::test]
async fn results_out_of_updated_order_are_all_delivered_and_resume_loses_nothing() {
    let order = shuffled(250);
    let server = server_with(
        order
            .iter()
            .map(|&n| issue(n, updated_of(n), true, 0, 20))
            .collect(),
    )
    .await;
    let jira = cloud(&server);
    let full = collect(jira.resume(window(), None)).await;
    assert!(full.error.is_none(), "{:?}", full.error);
    let expected: Vec<String> = order.iter().map(|n| format!("ENG-{n}")).collect();
    assert_eq!(full.keys(), expected, "every issue, in the server's order");
    assert_eq!(full.checkpoints.len(), 3);

    // A resume from each checkpoint delivers exactly what came after it.
    for (before, checkpoint) in &full.checkpoints {
        let rest = collect(jira.resume(window(), Some(checkpoint.clone()))).await;
        assert!(rest.error.is_none(), "{:?}", rest.error);
        let mut all: Vec<String> = full.keys()[..*before].to_vec();
        all.extend(rest.keys());
        assert_eq!(all.len(), 250, "after {before}: lost or repeated");
        let unique: BTreeSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), 250, "after {before}: repeats");
    }
}

#[tokio::test]
async fn a_hostile_key_never_leaves_the_issues_comment_path() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    let hostile = "../../../../_admin/stats?x=";
    let mut bad = issue(1, updated_of(1), true, 3, 1);
    bad["key"] = json!(hostile);
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(TokenSearch::new(vec![bad]))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/rest/api/3/issue/[^/]+/comment$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "startAt": 0, "maxResults": 100, "total": 3,
            "comments": [comment(1, 0, true), comment(1, 1, true), comment(1, 2, true)]
        })))
        .mount(&server)
        .await;
    let got = collect(cloud(&server).poll(window())).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.docs.len(), 1);
    assert_eq!(got.docs[0].sections.len(), 4, "description + 3 comments");
    let requests = server.received_requests().await.unwrap();
    let comment_requests: Vec<&Request> = requests
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path().ends_with("/comment"))
        .collect();
    assert_eq!(comment_requests.len(), 1);
    assert_eq!(
        comment_requests[0].url.path(),
        "/rest/api/3/issue/..%2F..%2F..%2F..%2F_admin%2Fstats%3Fx%3D/comment"
    );
    for r in &requests {
        assert!(
            r.url.path().starts_with("/rest/api/3/") && !r.url.path().contains("_admin/"),
            "a request left the API: {}",
            r.url
        );
        assert!(r.url.query_pairs().all(|(k, _)| k != "x"), "{}", r.url);
    }
    // The links a person opens are encoded too.
    assert!(!got.docs[0].url.as_deref().unwrap().contains("../"));
}

/// Answers every comment page full, claiming a trillion comments.
struct EndlessComments;

impl Respond for EndlessComments {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse::<usize>().ok())
        };
        let start = query("startAt").unwrap_or(0);
        let max = query("maxResults").unwrap_or(100);
        let comments: Vec<Value> = (start..start + max).map(|i| comment(1, i, true)).collect();
        ResponseTemplate::new(200).set_body_json(json!({
            "startAt": start, "maxResults": max, "total": 1_000_000_000_000u64, "comments": comments
        }))
    }
}

/// Issue 1 claims a trillion comments (and its comment pages agree); issue
/// 2 has one, inline.
async fn trillion_server() -> MockServer {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    let mut claimed = issue(1, updated_of(1), true, 0, 20);
    claimed["fields"]["comment"]["total"] = json!(1_000_000_000_000u64);
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(TokenSearch::new(vec![
            claimed,
            issue(2, updated_of(2), true, 1, 20),
        ]))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/rest/api/3/issue/ENG-1/comment$"))
        .respond_with(EndlessComments)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_trillion_comments_are_cut_at_the_cap_and_reported() {
    for (cap, requests) in [(None, 50), (Some(250), 3)] {
        let server = trillion_server().await;
        let mut config = config(&server);
        if let Some(cap) = cap {
            config = config.max_comments(cap);
        }
        let jira = JiraConnector::new(config).unwrap();
        let got = collect(jira.poll(window())).await;
        assert!(got.error.is_none(), "{:?}", got.error);
        let cap = cap.unwrap_or(5_000);
        let doc = &got.docs[0];
        assert_eq!(doc.sections.len(), 1 + cap, "description + {cap} comments");
        let meta = serde_json::to_value(&doc.metadata).unwrap();
        assert_eq!(meta["truncated"], json!(["comments"]));
        let second = serde_json::to_value(&got.docs[1].metadata).unwrap();
        assert!(second.get("truncated").is_none(), "{second}");
        let sent = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path().ends_with("ENG-1/comment"))
            .count();
        assert_eq!(sent, requests, "pages past the cap are never fetched");
    }
}

#[tokio::test]
async fn comments_are_fetched_several_issues_at_once_in_issue_order() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/rest/api/3/issue/ENG-\d+/comment$"))
        .respond_with(CommentPages {
            total: 5,
            cloud: true,
        })
        .mount(&server)
        .await;
    // Slow comment pages: one at a time, 16 issues would take 16 × 300 ms.
    Mock::given(method("GET"))
        .and(path_regex(r"^/rest/api/3/issue/ENG-\d+/comment$"))
        .respond_with(SlowComments(Duration::from_millis(300)))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(TokenSearch::new(
            (1..=16)
                .map(|n| issue(n, updated_of(n), true, 5, 2))
                .collect(),
        ))
        .mount(&server)
        .await;
    let started = Instant::now();
    let got = collect(cloud(&server).poll(window())).await;
    let elapsed = started.elapsed();
    assert!(got.error.is_none(), "{:?}", got.error);
    let expected: Vec<String> = (1..=16).map(|n| format!("ENG-{n}")).collect();
    assert_eq!(got.keys(), expected, "issue order kept");
    assert!(got.docs.iter().all(|d| d.sections.len() == 6));
    assert!(
        elapsed < Duration::from_millis(16 * 300 / 2),
        "comments fetched one issue at a time: {elapsed:?}"
    );
}

/// Comment pages of 5 comments, after a delay.
struct SlowComments(Duration);

impl Respond for SlowComments {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let issue: usize = request
            .url
            .path()
            .split('/')
            .find_map(|seg| seg.strip_prefix("ENG-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let comments: Vec<Value> = (0..5).map(|i| comment(issue, i, true)).collect();
        ResponseTemplate::new(200)
            .set_body_json(
                json!({"startAt": 0, "maxResults": 100, "total": 5, "comments": comments}),
            )
            .set_delay(self.0)
    }
}

#[tokio::test]
async fn an_expired_page_token_restarts_the_interrupted_search() {
    let server = server_with(
        (1..=250)
            .map(|n| issue(n, updated_of(n), true, 0, 20))
            .collect(),
    )
    .await;
    let jira = cloud(&server);
    let full = collect(jira.resume(window(), None)).await;
    let (_, after_first) = full.checkpoints[0].clone();
    // The stored token is one the server no longer knows.
    let mut stale = after_first.decode::<Value>().unwrap();
    assert!(stale["search"]["token"].is_string(), "{stale}");
    stale["search"]["token"] = json!("expired-token");
    let rest = collect(jira.resume(window(), Some(Checkpoint::new(&stale).unwrap()))).await;
    assert!(rest.error.is_none(), "{:?}", rest.error);
    let got: BTreeSet<String> = rest.keys().into_iter().collect();
    assert_eq!(got.len(), 250, "searched again from the first page");
}

#[tokio::test]
async fn one_undecodable_issue_is_one_failure() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    mount_comments(&server, "3", 0, true).await;
    let good: Vec<String> = (1..=3)
        .map(|n| issue(n, updated_of(n), true, 0, 20).to_string())
        .collect();
    // A lone surrogate: invalid in a JSON string, fatal to a whole-page decode.
    let bad = issue(4, updated_of(4), true, 0, 20)
        .to_string()
        .replace("Issue number 4", "Issue \\ud800 number 4");
    let body = format!(
        r#"{{"issues": [{}, {bad}, {}], "isLast": true}}"#,
        good[..2].join(","),
        good[2]
    );
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let got = collect(cloud(&server).poll(window())).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.keys(), ["ENG-1", "ENG-2", "ENG-3"]);
    assert_eq!(got.failures.len(), 1, "{:?}", got.failures);
    assert!(got.failures[0].id.ends_with("/ENG-4"), "{:?}", got.failures);
}

#[tokio::test]
async fn a_user_without_a_time_zone_widens_the_search_instead_of_guessing_utc() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/myself"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof", "active": true
        })))
        .mount(&server)
        .await;
    mount_comments(&server, "3", 0, true).await;
    let search = TokenSearch::new(vec![issue(1, t0(), true, 0, 20)]);
    let jql = search.jql.clone();
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(search)
        .mount(&server)
        .await;
    let got = collect(cloud(&server).poll(TimeWindow::new(t0(), t0() + Minutes::hours(1)))).await;
    assert_eq!(got.docs.len(), 1);
    let query = jql.lock().unwrap()[0].clone();
    // 12:00–13:00 UTC, widened by 14 hours each way.
    assert!(
        query.contains(r#"updated >= "2024-02-29 22:00""#),
        "{query}"
    );
    assert!(query.contains(r#"updated < "2024-03-02 03:00""#), "{query}");
}

#[tokio::test]
async fn concurrency_comes_from_the_shared_options() {
    let server = server_with(vec![issue(1, updated_of(1), true, 0, 20)]).await;
    let config = config(&server).options(SourceOptions::default().with_concurrency(0));
    let err = JiraConnector::new(config).unwrap_err().to_string();
    assert!(err.contains("options.concurrency"), "{err}");
}
