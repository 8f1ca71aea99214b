//! The connector against a GitHub REST stand-in: documents of issues and
//! pull requests with their comments, `Link` paging, keyset paging under
//! concurrent edits, incremental windows, resume, secondary and primary
//! rate limits answered with 403, refused tokens, validation and the id
//! listing.

#![allow(clippy::unwrap_used)] // tests fail loudly on fixture mistakes

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use connector_core::{
    CheckpointedConnector, Connector, ErrorKind, LoadConnector, MetadataValue, PollConnector,
    SlimConnector, TimeWindow,
};
use connector_github::{GitHubConfig, GitHubConnector};
use connector_testing::drain;
use futures::StreamExt;
use serde_json::json;
use support::standin::{Db, StandIn, TOKEN, at, org};
use support::*;
use wiremock::matchers::{any, method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn all_time() -> TimeWindow {
    TimeWindow::until(Utc::now())
}

fn one(value: Option<&MetadataValue>) -> &str {
    match value {
        Some(MetadataValue::One(v)) => v,
        other => panic!("not one value: {other:?}"),
    }
}

#[tokio::test]
async fn issues_and_pull_requests_become_documents_with_their_comments() {
    let (server, _) = serve(org(1, 6)).await;
    let out = drain(connector(&server).load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 6);
    let host = connector_core::url::host(&server.uri()).unwrap();
    // Issue 6: a pull request with two comments and a review comment.
    let pr = out
        .documents
        .iter()
        .find(|d| d.id == format!("{host}/acme/repo-0/issues/6"))
        .unwrap();
    assert_eq!(pr.title, "Change 6 of repo-0");
    assert_eq!(
        pr.url.as_deref(),
        Some("https://github.com/acme/repo-0/pull/6")
    );
    assert_eq!(one(pr.metadata.get("kind")), "pull_request");
    assert_eq!(one(pr.metadata.get("state")), "open");
    assert_eq!(one(pr.metadata.get("milestone")), "v1.0");
    assert_eq!(one(pr.metadata.get("author")), "octocat");
    assert_eq!(
        pr.metadata.get("labels"),
        Some(&MetadataValue::Many(vec!["bug".into()]))
    );
    assert_eq!(
        pr.metadata.get("assignees"),
        Some(&MetadataValue::Many(vec!["hubot".into()]))
    );
    assert_eq!(pr.hierarchy, ["acme", "repo-0", "pull requests"]);
    assert!(pr.access.as_ref().unwrap().public);
    let texts: Vec<&str> = pr.sections.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts.len(), 4, "{texts:?}");
    assert!(texts[0].starts_with("Steps to reproduce 6."), "{texts:?}");
    assert!(texts[1].ends_with("Seen on 6") && texts[1].starts_with("hubot, "));
    assert!(texts[2].ends_with("Fixed 6"));
    // The review comment, written last, names the file and line.
    assert!(
        texts[3].starts_with("hubot on file1.txt:2, ") && texts[3].ends_with("Nit in 6"),
        "{texts:?}"
    );
    // Issue 4: closed, an issue.
    let closed = out
        .documents
        .iter()
        .find(|d| d.id.ends_with("/issues/4"))
        .unwrap();
    assert_eq!(one(closed.metadata.get("kind")), "issue");
    assert_eq!(one(closed.metadata.get("state")), "closed");
    assert_eq!(one(closed.metadata.get("state_reason")), "completed");
    assert_eq!(closed.hierarchy[2], "issues");
}

/// Requests the stand-in saw, as `path?query`.
async fn requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{}?{}", r.url.path(), r.url.query().unwrap_or("")))
        .collect()
}

#[tokio::test]
async fn listings_follow_the_link_header_and_comments_only_when_there_are_some() {
    let mut db = org(1, 10);
    db.max_per_page = 3;
    let (server, standin) = serve(db).await;
    let github = GitHubConnector::new(config(&server).review_comments(false)).unwrap();
    let out = drain(github.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 10);
    let seen = requests(&server).await;
    let listing: Vec<&String> = seen
        .iter()
        .filter(|r| r.starts_with("/repos/acme/repo-0/issues?"))
        .collect();
    assert!(listing.len() >= 4, "{listing:?}");
    assert!(
        listing[0].contains("state=all")
            && listing[0].contains("sort=updated")
            && listing[0].contains("direction=asc")
            && listing[0].contains("per_page=100"),
        "{listing:?}"
    );
    // Pages after the first ask from the last update read, a second early.
    assert!(
        listing[1].contains("since=2024-03-01T09%3A02%3A59Z"),
        "{listing:?}"
    );
    // Comments of the five issues that have some; no review comments.
    let comments = seen.iter().filter(|r| r.contains("/comments")).count();
    assert_eq!(comments, 5, "{seen:?}");
    assert!(!seen.iter().any(|r| r.contains("/pulls/")));
    let c = github.http().counters();
    assert_eq!(c.requests, standin.requests.load(Ordering::Relaxed));
}

/// Answers as the stand-in does, and after the first issues page moves
/// issue 1 to the end of the `updated_at` order (an edit mid-sync).
struct EditedMidSync {
    standin: StandIn,
    pages: AtomicUsize,
}

impl Respond for EditedMidSync {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let answer = self.standin.respond(req);
        if req.url.path().ends_with("/issues") && self.pages.fetch_add(1, Ordering::SeqCst) == 0 {
            let mut db = self.standin.db.lock().unwrap();
            let issue = db.repos[0]
                .issues
                .iter_mut()
                .find(|i| i.number == 1)
                .unwrap();
            issue.updated = at(1_000);
        }
        answer
    }
}

/// Following the `Link` header's page numbers would skip issue 4 here: the
/// edited issue leaves page 1 and every later issue moves up one place.
/// Paging on `since` reads them all.
#[tokio::test]
async fn an_edit_mid_sync_skips_nothing() {
    let mut db = org(1, 9);
    db.max_per_page = 3;
    let server = MockServer::start().await;
    let standin = StandIn::new(db);
    standin.set_base(&server.uri());
    Mock::given(any())
        .respond_with(EditedMidSync {
            standin,
            pages: AtomicUsize::new(0),
        })
        .mount(&server)
        .await;
    let out = drain(connector(&server).load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let numbers: BTreeSet<String> = out
        .documents
        .iter()
        .map(|d| one(d.metadata.get("number")).to_owned())
        .collect();
    assert_eq!(numbers.len(), 9, "{numbers:?}");
}

#[tokio::test]
async fn an_incremental_window_reads_only_what_changed() {
    let (server, standin) = serve(org(2, 8)).await;
    let github = connector(&server);
    let first = drain(github.load()).await;
    assert_eq!(first.documents.len(), 16);
    {
        let mut db = standin.db.lock().unwrap();
        db.repos[1].issues[2].updated = at(600);
        db.repos[1].issues[2].title = "Renamed".into();
    }
    server.reset().await;
    Mock::given(any())
        .respond_with(standin.clone())
        .mount(&server)
        .await;
    let window = TimeWindow::new(at(500), Utc::now());
    let out = drain(github.poll(window)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let titles: Vec<&str> = out.documents.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, ["Renamed"]);
    let seen = requests(&server).await;
    let listings: Vec<&String> = seen
        .iter()
        .filter(|r| r.contains("/issues?") && r.contains("direction=asc"))
        .collect();
    assert!(
        listings
            .iter()
            .all(|r| r.contains("since=2024-03-01T17%3A19%3A59Z")),
        "{seen:?}"
    );
    // Only the repository where something changed is listed: the other
    // answered the probe for its latest update with an older one.
    assert_eq!(listings.len(), 1, "{seen:?}");
    assert!(listings[0].contains("/repo-1/"), "{seen:?}");

    // The next poll: nothing changed since, and the probes come back 304
    // (free of the budget), so no listing at all.
    server.reset().await;
    Mock::given(any())
        .respond_with(standin.clone())
        .mount(&server)
        .await;
    let before = github.not_modified();
    let out = drain(github.poll(TimeWindow::new(at(700), Utc::now()))).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(out.documents.is_empty());
    let seen = requests(&server).await;
    assert!(
        !seen.iter().any(|r| r.contains("direction=asc")),
        "{seen:?}"
    );
    assert!(github.not_modified() >= before + 2, "{seen:?}");
}

#[tokio::test]
async fn a_sync_stopped_after_any_checkpoint_resumes_without_gaps() {
    let mut db = org(2, 7);
    db.max_per_page = 2;
    let (server, _) = serve(db).await;
    let github = connector(&server);
    let full = drain(github.load()).await;
    let all: BTreeSet<String> = full.documents.iter().map(|d| d.id.clone()).collect();
    assert_eq!(all.len(), 14);
    // Stop after the third checkpoint, as a killed process would.
    let mut stream = github.resume(all_time(), None);
    let mut seen = BTreeSet::new();
    let mut checkpoints = 0;
    let mut last = None;
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            connector_core::Item::Document(d) => {
                seen.insert(d.id.clone());
            }
            connector_core::Item::Checkpoint(c) => {
                checkpoints += 1;
                last = Some(c);
                if checkpoints == 3 {
                    break;
                }
            }
            _ => {}
        }
    }
    drop(stream);
    let rest = drain(github.resume(all_time(), last)).await;
    assert!(rest.error.is_none(), "{:?}", rest.error);
    for d in &rest.documents {
        assert!(seen.insert(d.id.clone()), "{} delivered twice", d.id);
    }
    assert_eq!(seen, all);
}

/// GitHub's secondary rate limit: a 403 with `Retry-After` and the
/// documented message, waited out; then a spent primary budget: a 403
/// with `x-ratelimit-remaining: 0` and the reset time.
#[tokio::test]
async fn rate_limits_answered_with_403_are_waited_out() {
    let (server, _) = serve(org(1, 3)).await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/repos/acme/repo-0/issues$"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("retry-after", "1")
                .insert_header("x-ratelimit-remaining", "4990")
                .set_body_json(json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 1F3C:2A4B:3C5D:4E6F.",
                    "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                    "status": "403"
                })),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let reset = (Utc::now().timestamp() + 2).to_string();
    Mock::given(method("GET"))
        .and(path_regex(r"^/repos/acme/repo-0$"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-used", "5000")
                .insert_header("x-ratelimit-reset", reset.as_str())
                .insert_header("x-ratelimit-resource", "core")
                .set_body_json(json!({
                    "message": "API rate limit exceeded for user ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                    "status": "403"
                })),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let github = GitHubConnector::new(
        GitHubConfig::new()
            .base_url(server.uri())
            .token(TOKEN)
            .repositories(["acme/repo-0"])
            .options(options()),
    )
    .unwrap();
    let started = Instant::now();
    let out = drain(github.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 3);
    assert!(started.elapsed() >= Duration::from_millis(1900));
    assert_eq!(github.http().counters().throttled, 2);
}

#[tokio::test]
async fn a_refused_token_ends_the_sync_naming_the_base_url() {
    let (server, _) = serve(org(1, 3)).await;
    let github = GitHubConnector::new(config(&server).token("ghp_wrong")).unwrap();
    let e = github.validate().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.to_string().contains(&server.uri()), "{e}");
    let out = drain(github.load()).await;
    let e = out.error.unwrap();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!e.to_string().contains("ghp_wrong"), "{e}");
}

#[tokio::test]
async fn validate_lists_the_repositories_in_scope() {
    let mut db = org(3, 1);
    db.repos[1].archived = true;
    db.repos[2].fork = true;
    let mut other = db.repos[0].clone();
    other.owner = "octo".into();
    other.name = "tools".into();
    db.repos.push(other);
    let (server, _) = serve(db).await;
    let github = GitHubConnector::new(config(&server).repositories(["octo/tools"])).unwrap();
    let options = github.validate().await.unwrap();
    let keys: Vec<&str> = options
        .get("repositories")
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(keys, ["acme/repo-0", "octo/tools"]);
    let missing = GitHubConnector::new(config(&server).repositories(["octo/nope"])).unwrap();
    let e = missing.validate().await.unwrap_err();
    assert!(
        e.to_string().contains("repositories[0]") && e.to_string().contains("octo/nope"),
        "{e}"
    );
}

#[tokio::test]
async fn the_id_listing_misses_a_transferred_issue() {
    let (server, standin) = serve(org(1, 5)).await;
    let github = connector(&server);
    let loaded = drain(github.load()).await;
    let slim: Vec<String> = github
        .slim()
        .map(|s| s.unwrap().id)
        .collect::<Vec<_>>()
        .await;
    let mut ids = loaded.ids();
    ids.sort();
    let mut listed = slim.clone();
    listed.sort();
    assert_eq!(ids, listed);
    standin.db.lock().unwrap().repos[0]
        .issues
        .retain(|i| i.number != 2);
    let after: Vec<String> = github
        .slim()
        .map(|s| s.unwrap().id)
        .collect::<Vec<_>>()
        .await;
    assert_eq!(after.len(), 4);
    assert!(!after.iter().any(|id| id.ends_with("/issues/2")));
}

#[tokio::test]
async fn comments_past_the_cap_are_cut_and_reported() {
    let (server, _) = serve(org(1, 6)).await;
    let github = GitHubConnector::new(config(&server).max_comments(1)).unwrap();
    let out = drain(github.load()).await;
    let pr = out
        .documents
        .iter()
        .find(|d| d.id.ends_with("/issues/6"))
        .unwrap();
    assert_eq!(pr.sections.len(), 2, "the body and one comment");
    assert_eq!(one(pr.metadata.get("truncated")), "comments");
}

#[tokio::test]
async fn a_repository_gone_mid_sync_is_passed_over() {
    let db: Db = org(2, 2);
    let (server, standin) = serve(db).await;
    let gone = Arc::new(Mutex::new(false));
    let flag = gone.clone();
    Mock::given(method("GET"))
        .and(path_regex(r"^/repos/acme/repo-0/issues$"))
        .respond_with(move |_: &Request| {
            *flag.lock().unwrap() = true;
            ResponseTemplate::new(404).set_body_json(json!({
                "message": "Not Found",
                "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues",
                "status": "404"
            }))
        })
        .with_priority(1)
        .mount(&server)
        .await;
    let out = drain(connector(&server).load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(*gone.lock().unwrap());
    assert_eq!(out.documents.len(), 2);
    assert!(out.documents.iter().all(|d| d.id.contains("/repo-1/")));
    drop(standin);
}

#[tokio::test]
async fn private_repositories_carry_their_collaborators_and_teams_on_request() {
    let mut db = org(2, 2);
    db.repos[1].private = true;
    let (server, _) = serve(db).await;
    let out = drain(connector(&server).load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    for d in &out.documents {
        let public = d.access.as_ref().map(|a| a.public);
        if d.id.contains("/repo-1/") {
            assert_eq!(public, None, "unknown unless asked for");
        } else {
            assert_eq!(public, Some(true));
        }
    }
    let github = GitHubConnector::new(config(&server).private_access(true)).unwrap();
    let out = drain(github.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let private: Vec<_> = out
        .documents
        .iter()
        .filter(|d| d.id.contains("/repo-1/"))
        .collect();
    assert_eq!(private.len(), 2);
    for d in private {
        let access = d.access.as_ref().unwrap();
        assert!(!access.public);
        assert_eq!(access.users, ["hubot", "octocat"]);
        assert_eq!(access.groups, ["acme/justice-league"]);
    }
    // Listed once for the repository, not per document.
    let listed = requests(&server)
        .await
        .iter()
        .filter(|r| r.contains("/collaborators"))
        .count();
    assert_eq!(listed, 1);
}

/// `owners` naming the signed-in user lists its private repositories too
/// (`/user/repos`), not only the public ones `/users/{user}/repos` shows.
#[tokio::test]
async fn the_signed_in_user_as_owner_includes_its_private_repositories() {
    let mut db = org(2, 1);
    for repo in &mut db.repos {
        repo.owner = "octocat".into();
    }
    db.repos[1].private = true;
    let (server, _) = serve(db).await;
    let github = GitHubConnector::new(
        GitHubConfig::new()
            .base_url(server.uri())
            .token(TOKEN)
            .owners(["octocat"])
            .options(options()),
    )
    .unwrap();
    let options = github.validate().await.unwrap();
    let keys: Vec<&str> = options
        .get("repositories")
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(keys, ["octocat/repo-0", "octocat/repo-1"]);
}
