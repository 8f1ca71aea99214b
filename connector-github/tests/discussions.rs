//! Discussions through GraphQL against a stand-in answering the
//! `repository.discussions` connection as GitHub's GraphQL API does:
//! newest update first, cursor paging, comments with the answer marked and
//! their replies, the window's start ending the listing, and GraphQL
//! errors in a `200`.

#![allow(clippy::unwrap_used)] // tests fail loudly on fixture mistakes

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use connector_core::{LoadConnector, MetadataValue, PollConnector, TimeWindow};
use connector_github::GitHubConnector;
use connector_testing::drain;
use serde_json::{Value, json};
use support::standin::{at, org};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `n` discussions of `acme/repo-0`, discussion `k` updated at `at(k)`;
/// each has a comment (the answer on even ones) with one reply.
struct GraphQl {
    n: u64,
    calls: Arc<AtomicUsize>,
    /// Send GraphQL's budget headers, nearly spent.
    budget_low: bool,
}

impl GraphQl {
    fn node(k: u64) -> Value {
        let url = format!("https://github.com/acme/repo-0/discussions/{k}");
        json!({
            "id": format!("D_kwDOA{k}"), "number": k, "title": format!("How do I {k}?"),
            "body": format!("I tried {k} things."), "url": url,
            "createdAt": stamp(at(0)), "updatedAt": stamp(at(k as i64)),
            "author": {"login": "octocat"},
            "category": {"name": "Q&A"},
            "answer": if k.is_multiple_of(2) { json!({"id": format!("DC_kwDOA{k}")}) } else { Value::Null },
            "comments": {"totalCount": 1, "nodes": [{
                "id": format!("DC_kwDOA{k}"), "body": format!("Try {k}."),
                "url": format!("{url}#discussioncomment-{k}"),
                "createdAt": stamp(at(1)), "author": {"login": "hubot"},
                "replies": {"totalCount": 1, "nodes": [{
                    "body": "That worked.", "url": format!("{url}#discussioncomment-{}", k + 1000),
                    "createdAt": stamp(at(2)), "author": {"login": "octocat"}
                }]}
            }]}
        })
    }
}

impl Respond for GraphQl {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert!(body["query"].as_str().unwrap().contains("discussions("));
        let vars = &body["variables"];
        if vars["name"] != "repo-0" {
            return ResponseTemplate::new(200).set_body_json(json!({
                "data": {"repository": null, "rateLimit": {"cost": 1, "remaining": 4990, "resetAt": "2030-01-01T00:00:00Z"}},
                "errors": [{"type": "NOT_FOUND", "path": ["repository"], "locations": [{"line": 2, "column": 3}],
                    "message": format!("Could not resolve to a Repository with the name 'acme/{}'.", vars["name"].as_str().unwrap())}]
            }));
        }
        let first = vars["first"].as_u64().unwrap();
        let skip: u64 = vars["after"]
            .as_str()
            .map_or(0, |c| c.strip_prefix("Y3Vyc29y").unwrap().parse().unwrap());
        // Newest update first.
        let numbers: Vec<u64> = (1..=self.n)
            .rev()
            .skip(skip as usize)
            .take(first as usize)
            .collect();
        let end = skip + numbers.len() as u64;
        let mut answer = ResponseTemplate::new(200);
        if self.budget_low {
            answer = answer
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "3")
                .insert_header("x-ratelimit-used", "4997")
                .insert_header("x-ratelimit-resource", "graphql")
                .insert_header("x-ratelimit-reset", "1893456000");
        }
        answer.set_body_json(json!({
            "data": {
                "repository": {"discussions": {
                    "pageInfo": {"hasNextPage": end < self.n, "endCursor": format!("Y3Vyc29y{end}")},
                    "nodes": numbers.iter().map(|k| Self::node(*k)).collect::<Vec<_>>()
                }},
                "rateLimit": {"cost": 1, "remaining": 4999, "resetAt": "2030-01-01T00:00:00Z"}
            }
        }))
    }
}

async fn with_discussions(server: &MockServer, n: u64) -> Arc<AtomicUsize> {
    graphql(server, n, false).await
}

async fn graphql(server: &MockServer, n: u64, budget_low: bool) -> Arc<AtomicUsize> {
    let calls = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(GraphQl {
            n,
            calls: calls.clone(),
            budget_low,
        })
        .with_priority(1)
        .mount(server)
        .await;
    calls
}

fn discussions_only(server: &MockServer) -> GitHubConnector {
    let mut config = config(server).discussions(true).files(false);
    config.issues = false;
    config.pull_requests = false;
    GitHubConnector::new(config).unwrap()
}

#[tokio::test]
async fn discussions_become_documents_with_answers_and_replies() {
    let (server, _) = serve(org(1, 0)).await;
    let calls = with_discussions(&server, 30).await;
    let out = drain(discussions_only(&server).load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 30);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "25 a page");
    let d = out
        .documents
        .iter()
        .find(|d| d.id.ends_with("/acme/repo-0/discussions/4"))
        .unwrap();
    assert_eq!(d.title, "How do I 4?");
    assert_eq!(d.hierarchy, ["acme", "repo-0", "discussions", "Q&A"]);
    assert_eq!(
        d.metadata.get("answered"),
        Some(&MetadataValue::from("true"))
    );
    let texts: Vec<&str> = d.sections.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts[0], "I tried 4 things.");
    assert!(texts[1].starts_with("hubot, ") && texts[1].contains("(the answer)"));
    assert!(texts[2].starts_with("octocat replying, ") && texts[2].ends_with("That worked."));
}

#[tokio::test]
async fn graphql_spends_its_own_budget_not_the_rest_one() {
    let (server, _) = serve(org(1, 0)).await;
    let calls = graphql(&server, 30, true).await;
    let github = discussions_only(&server);
    let rest_rate = github.http().rate_control().rate();
    let out = drain(github.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 30);
    // GraphQL's nearly spent points slowed GraphQL only.
    assert_eq!(github.http().rate_control().rate(), rest_rate);
    let metrics = connector_core::Connector::metrics(&github).unwrap();
    assert_eq!(
        metrics.requests,
        github.http().counters().requests + calls.load(Ordering::SeqCst) as u64,
        "the metrics count both clients"
    );
}

#[tokio::test]
async fn a_window_ends_the_listing_at_its_start() {
    let (server, _) = serve(org(1, 0)).await;
    let calls = with_discussions(&server, 60).await;
    let window = TimeWindow::new(at(50), Utc::now());
    let out = drain(discussions_only(&server).poll(window)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 11, "discussions 50 to 60");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the first page already passed the start"
    );
}

#[tokio::test]
async fn a_repository_graphql_cannot_resolve_is_passed_over() {
    let mut db = org(2, 0);
    db.repos[1].name = "gone".into();
    let (server, _) = serve(db).await;
    with_discussions(&server, 3).await;
    let out = drain(discussions_only(&server).load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 3);
}

#[tokio::test]
async fn the_id_listing_names_the_discussions() {
    use connector_core::SlimConnector;
    use futures::StreamExt;
    let (server, _) = serve(org(1, 0)).await;
    with_discussions(&server, 30).await;
    let github = discussions_only(&server);
    let loaded = drain(github.load()).await;
    let mut listed: Vec<String> = github.slim().map(|s| s.unwrap().id).collect().await;
    listed.sort();
    let mut ids = loaded.ids();
    ids.sort();
    assert_eq!(listed.len(), 30);
    assert_eq!(listed, ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discussions_resume_at_every_checkpoint() {
    let (server, _) = serve(org(2, 4)).await;
    with_discussions(&server, 30).await;
    let github = GitHubConnector::new(config(&server).discussions(true)).unwrap();
    connector_testing::checks::resume_at_every_checkpoint(&github, TimeWindow::until(Utc::now()))
        .await;
    connector_testing::checks::slim_matches_load(&github).await;
}
