//! The Jira connector against a wiremock Jira speaking the documented REST
//! shapes: paging (Cloud tokens, Data Center offsets), comments past the
//! first page, window bounds in the user's zone, resume, errors, 429s,
//! malformed payloads, slim listing.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::Duration;
use connector_core::credentials::StaticAuth;
use connector_core::deployment::Deployment;
use connector_core::options::SourceOptions;
use connector_core::{
    Checkpoint, CheckpointedConnector, Connector, ErrorKind, Item, PollConnector, SlimConnector,
    TimeWindow,
};
use connector_jira::{JiraConfig, JiraConnector};
use futures::StreamExt;
use serde_json::json;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn cloud(server: &MockServer) -> JiraConnector {
    let config = JiraConfig::new(server.uri())
        .deployment(Deployment::Cloud)
        .project("ENG")
        .credentials(StaticAuth::basic("mia@example.com", "api-token-secret"));
    JiraConnector::new(config).unwrap()
}

fn datacenter(server: &MockServer) -> JiraConnector {
    let config = JiraConfig::new(server.uri())
        .deployment(Deployment::DataCenter)
        .project("ENG")
        .credentials(StaticAuth::bearer("pat-secret"));
    JiraConnector::new(config).unwrap()
}

fn window() -> TimeWindow {
    TimeWindow::new(t0() - Duration::days(1), t0() + Duration::days(30))
}

/// Documents, failures and checkpoints of a stream, in order.
#[derive(Default, Debug)]
struct Collected {
    docs: Vec<connector_core::Document>,
    failures: Vec<String>,
    checkpoints: Vec<Checkpoint>,
}

async fn collect(stream: connector_core::ItemStream<'_>) -> connector_core::Result<Collected> {
    let mut out = Collected::default();
    let mut stream = stream;
    while let Some(item) = stream.next().await {
        match item? {
            Item::Document(d) => out.docs.push(*d),
            Item::Failure(f) => out.failures.push(format!("{f:?}")),
            Item::Checkpoint(c) => out.checkpoints.push(c),
            other => panic!("Jira reports no {other:?}"),
        }
    }
    Ok(out)
}

async fn cloud_server(issues: usize) -> (MockServer, Arc<std::sync::Mutex<Vec<String>>>) {
    let server = MockServer::start().await;
    mount_account(&server, "3", "Europe/Berlin").await;
    mount_comments(&server, "3", 0, true).await;
    let search = TokenSearch::new(
        (1..=issues)
            .map(|n| issue(n, updated_of(n), true, 1, 20))
            .collect(),
    );
    let jql = search.jql.clone();
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(search)
        .mount(&server)
        .await;
    (server, jql)
}

#[tokio::test]
async fn cloud_token_pagination_over_three_pages() {
    let (server, jql) = cloud_server(250).await;
    let jira = cloud(&server);
    let got = collect(jira.poll(window())).await.unwrap();
    assert_eq!(got.docs.len(), 250);
    assert!(got.failures.is_empty());
    let keys: Vec<String> = got
        .docs
        .iter()
        .map(|d| d.title.split(':').next().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (1..=250).map(|n| format!("ENG-{n}")).collect();
    assert_eq!(keys, expected, "every issue once, in order");
    assert_eq!(jql.lock().unwrap().len(), 3, "three pages of 100");

    let doc = &got.docs[0];
    let host = server.address().ip().to_string();
    assert!(doc.id.ends_with("/ENG-1"), "{}", doc.id);
    assert!(doc.id.contains(&host));
    assert_eq!(doc.title, "ENG-1: Issue number 1");
    assert_eq!(
        doc.url.as_deref(),
        Some(format!("{}/browse/ENG-1", server.uri()).as_str())
    );
    assert!(doc.sections[0].text.contains("Description of issue 1"));
    assert!(
        doc.sections
            .iter()
            .any(|s| s.text.contains("comment 0 on 1"))
    );
    let meta = serde_json::to_value(&doc.metadata).unwrap();
    assert_eq!(meta["status"], json!("In Progress"));
    assert_eq!(meta["project"], json!("ENG"));
    assert_eq!(meta["labels"], json!(["backend", "customer"]));
    assert_eq!(doc.attachments[0].name, "picture.jpg");
    assert_eq!(doc.attachments[0].size, Some(23123));
    assert_eq!(doc.updated_at, Some(updated_of(1)));
    assert_eq!(got.checkpoints.len(), 3, "one checkpoint per page");
}

#[tokio::test]
async fn datacenter_offset_pagination_without_repeats() {
    let server = MockServer::start().await;
    mount_account(&server, "2", "UTC").await;
    mount_comments(&server, "2", 0, false).await;
    let issues = (1..=250)
        .map(|n| issue(n, updated_of(n), false, 0, 20))
        .collect();
    Mock::given(method("POST"))
        .and(path("/rest/api/2/search"))
        .respond_with(OffsetSearch { issues })
        .expect(3..)
        .mount(&server)
        .await;
    let got = collect(datacenter(&server).poll(window())).await.unwrap();
    let keys: Vec<String> = got
        .docs
        .iter()
        .map(|d| d.title.split(':').next().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (1..=250).map(|n| format!("ENG-{n}")).collect();
    assert_eq!(
        keys, expected,
        "overlapping offset pages deliver each issue once"
    );
    assert!(
        got.docs[0].sections[0].text.contains("# Issue 1"),
        "wiki markup cleaned: {:?}",
        got.docs[0].sections[0].text
    );
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().any(|r| {
        r.headers
            .get("authorization")
            .is_some_and(|v| v == "Bearer pat-secret")
    }));
}

#[tokio::test]
async fn comments_past_the_first_page_are_fetched() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    mount_comments(&server, "3", 7, true).await;
    let search = TokenSearch::new(vec![issue(1, updated_of(1), true, 7, 2)]);
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(search)
        .mount(&server)
        .await;
    let got = collect(cloud(&server).poll(window())).await.unwrap();
    let doc = &got.docs[0];
    for i in 0..7 {
        let section = doc
            .sections
            .iter()
            .find(|s| s.text.contains(&format!("comment {i} on 1")));
        let section = section.unwrap_or_else(|| panic!("comment {i} missing"));
        assert!(
            section
                .link
                .as_deref()
                .unwrap()
                .contains(&format!("focusedCommentId={}", 50000 + i)),
            "{:?}",
            section.link
        );
    }
    assert_eq!(doc.sections.len(), 8, "description + 7 comments");
}

#[tokio::test]
async fn window_start_is_included_end_excluded_in_the_users_zone() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "America/New_York").await;
    mount_comments(&server, "3", 0, true).await;
    let start = t0();
    let end = t0() + Duration::hours(1);
    let issues = vec![
        issue(1, start - Duration::seconds(1), true, 0, 20),
        issue(2, start, true, 0, 20),
        issue(3, end - Duration::milliseconds(1), true, 0, 20),
        issue(4, end, true, 0, 20),
    ];
    let search = TokenSearch::new(issues);
    let jql = search.jql.clone();
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(search)
        .mount(&server)
        .await;
    let got = collect(cloud(&server).poll(TimeWindow::new(start, end)))
        .await
        .unwrap();
    let titles: Vec<&str> = got.docs.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, ["ENG-2: Issue number 2", "ENG-3: Issue number 3"]);
    // 12:00 UTC on 1 March 2024 is 07:00 in New York (EST).
    let query = jql.lock().unwrap()[0].clone();
    assert!(
        query.contains(r#"updated >= "2024-03-01 07:00""#),
        "{query}"
    );
    assert!(query.contains(r#"updated < "2024-03-01 08:00""#), "{query}");
    assert!(
        query.contains(r#"project in ("ENG")"#) && query.ends_with("ORDER BY updated ASC, key ASC"),
        "{query}"
    );
}

#[tokio::test]
async fn resume_mid_page_has_no_gap_and_no_repeat() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    mount_comments(&server, "3", 0, true).await;
    // Issues 149–151 share one `updated` instant: the checkpoint must tell them apart.
    let same = updated_of(149);
    let issues = (1..=250)
        .map(|n| {
            issue(
                n,
                if (149..=151).contains(&n) {
                    same
                } else {
                    updated_of(n)
                },
                true,
                0,
                20,
            )
        })
        .collect();
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(TokenSearch::new(issues))
        .mount(&server)
        .await;
    let jira = cloud(&server);
    // A checkpoint exactly as earlier versions stored it.
    let from = json!({
        "after_updated": same,
        "keys_at_after": ["ENG-149", "ENG-150"],
    });
    let got = collect(jira.resume(window(), Some(Checkpoint::new(&from).unwrap())))
        .await
        .unwrap();
    let keys: Vec<String> = got
        .docs
        .iter()
        .map(|d| d.title.split(':').next().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (151..=250).map(|n| format!("ENG-{n}")).collect();
    assert_eq!(keys, expected);

    // And a stored checkpoint from a first run resumes exactly after it.
    let first = collect(jira.resume(window(), None)).await.unwrap();
    let after_page_one = first.checkpoints[0].clone();
    let rest = collect(jira.resume(window(), Some(after_page_one)))
        .await
        .unwrap();
    let mut all: Vec<String> = first.docs[..100].iter().map(|d| d.id.clone()).collect();
    all.extend(rest.docs.iter().map(|d| d.id.clone()));
    let unique: std::collections::BTreeSet<&String> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (250, 250));
}

#[tokio::test]
async fn validate_lists_projects_and_checks_the_scope() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    let options = cloud(&server).validate().await.unwrap();
    let projects: Vec<(String, String)> = options
        .get("projects")
        .iter()
        .map(|p| (p.key.clone(), p.name.clone()))
        .collect();
    assert_eq!(
        projects,
        [
            ("ENG".to_string(), "Engineering".to_string()),
            ("OPS".to_string(), "Operations".to_string())
        ]
    );

    let config = JiraConfig::new(server.uri())
        .deployment(Deployment::Cloud)
        .project("NOPE")
        .credentials(StaticAuth::bearer("t"));
    let err = JiraConnector::new(config)
        .unwrap()
        .validate()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("project NOPE"), "{err}");
}

#[tokio::test]
async fn auth_and_permission_errors_are_clear_and_secret_free() {
    for (status, kind) in [(401, ErrorKind::Auth), (403, ErrorKind::Forbidden)] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({
                "errorMessages": ["You do not have permission to view this."], "errors": {}
            })))
            .mount(&server)
            .await;
        let err = cloud(&server).validate().await.unwrap_err();
        assert_eq!(err.kind(), kind);
        let text = err.to_string();
        assert!(text.contains("/rest/api/3/myself"), "{text}");
        assert!(!text.contains("api-token-secret"), "{text}");
    }
    // A project the search cannot see: Jira answers 400 with an error collection.
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errorMessages": ["The value 'ENG' does not exist for the field 'project'."], "errors": {}
        })))
        .mount(&server)
        .await;
    let err = collect(cloud(&server).poll(window())).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("The value 'ENG' does not exist") && text.contains("`projects`"),
        "{text}"
    );
}

#[tokio::test]
async fn a_429_storm_slows_down_without_failing() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    mount_comments(&server, "3", 0, true).await;
    let mut search = TokenSearch::new(
        (1..=30)
            .map(|n| issue(n, updated_of(n), true, 0, 20))
            .collect(),
    );
    search.throttle_first = 2;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(search)
        .mount(&server)
        .await;
    let jira = cloud(&server);
    let got = collect(jira.poll(window())).await.unwrap();
    assert_eq!(got.docs.len(), 30);
    let counters = jira.http().counters();
    assert_eq!(counters.throttled, 2);
    assert!(
        counters.throttled_time >= std::time::Duration::from_secs(2),
        "{counters:?}"
    );
}

#[tokio::test]
async fn malformed_issues_become_failures_or_best_effort_text() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    mount_comments(&server, "3", 0, true).await;
    let mut bad_adf = issue(1, updated_of(1), true, 0, 20);
    bad_adf["fields"]["description"] = json!({"type": "doc", "content": [
        {"type": "paragraph", "content": "not a list"},
        {"type": "mystery", "content": [{"type": "text", "text": "kept text"}]},
        {"type": 42}
    ]});
    let mut no_updated = issue(2, updated_of(2), true, 0, 20);
    no_updated["fields"]["updated"] = json!(null);
    let mut not_an_issue = issue(3, updated_of(3), true, 0, 20);
    not_an_issue["fields"] = json!("oops");
    let fine = issue(4, updated_of(4), true, 0, 20);
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(TokenSearch::new(vec![
            bad_adf,
            no_updated,
            not_an_issue,
            fine,
        ]))
        .mount(&server)
        .await;
    let got = collect(cloud(&server).poll(window())).await.unwrap();
    let titles: Vec<&str> = got.docs.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, ["ENG-1: Issue number 1", "ENG-4: Issue number 4"]);
    assert!(got.docs[0].sections[0].text.contains("kept text"));
    assert_eq!(got.failures.len(), 2, "{:?}", got.failures);
    assert!(
        got.failures.iter().any(|f| f.contains("ENG-2"))
            && got.failures.iter().any(|f| f.contains("ENG-3"))
    );
}

#[tokio::test]
async fn slim_lists_every_key_across_pages() {
    let (server, jql) = cloud_server(2500).await;
    let jira = cloud(&server);
    let ids: Vec<String> = jira.slim().map(|s| s.unwrap().id).collect().await;
    assert_eq!(ids.len(), 2500);
    assert!(ids[2499].ends_with("/ENG-2500"));
    let queries = jql.lock().unwrap();
    assert_eq!(queries.len(), 3, "pages of 1000 keys");
    assert!(
        queries[0].starts_with(r#"project in ("ENG")"#) && queries[0].ends_with("ORDER BY key ASC"),
        "{}",
        queries[0]
    );
}

#[tokio::test]
async fn an_unreachable_site_names_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = JiraConfig::new(format!("http://127.0.0.1:{port}"))
        .deployment(Deployment::Cloud)
        .credentials(StaticAuth::bearer("t"));
    let jira = JiraConnector::new(config).unwrap();
    let err = tokio::time::timeout(std::time::Duration::from_secs(120), jira.validate())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("127.0.0.1:{port}/rest/api/3/myself")),
        "{err}"
    );
    let _ = Ordering::SeqCst;
}

#[tokio::test]
async fn attachment_bytes_follow_the_media_redirect_without_credentials() {
    let media = MockServer::start().await;
    Mock::given(wiremock::matchers::header_exists("authorization"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&media)
        .await;
    Mock::given(path("/file/abc/binary"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"JPEGDATA".to_vec()))
        .mount(&media)
        .await;
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    mount_comments(&server, "3", 0, true).await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/attachment/content/10000"))
        .respond_with(ResponseTemplate::new(303).insert_header(
            "Location",
            format!("{}/file/abc/binary?token=eyJhbGciOi", media.uri()),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let mut with_files = issue(1, updated_of(1), true, 0, 20);
    with_files["fields"]["attachment"][0]["content"] = json!(format!(
        "{}/rest/api/3/attachment/content/10000",
        server.uri()
    ));
    with_files["fields"]["attachment"][0]["size"] = json!(8);
    let mut big = with_files["fields"]["attachment"][0].clone();
    big["filename"] = json!("huge.iso");
    big["size"] = json!(5_000_000_000u64);
    big["content"] = json!(format!(
        "{}/rest/api/3/attachment/content/10001",
        server.uri()
    ));
    with_files["fields"]["attachment"]
        .as_array_mut()
        .unwrap()
        .push(big);
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(TokenSearch::new(vec![with_files]))
        .mount(&server)
        .await;
    let config = JiraConfig::new(server.uri())
        .deployment(Deployment::Cloud)
        .project("ENG")
        .credentials(StaticAuth::basic("mia@example.com", "api-token-secret"))
        .options(SourceOptions::default().with_attachment_bytes(1 << 20));
    let jira = JiraConnector::new(config).unwrap();
    let got = collect(jira.poll(window())).await.unwrap();
    let doc = &got.docs[0];
    assert_eq!(doc.attachments[0].bytes.as_deref(), Some(&b"JPEGDATA"[..]));
    assert_eq!(doc.attachments[1].name, "huge.iso");
    assert!(
        doc.attachments[1].bytes.is_none(),
        "over the cap: listed, not downloaded"
    );
    let received = media.received_requests().await.unwrap();
    assert!(
        received
            .iter()
            .all(|r| !r.headers.contains_key("authorization"))
    );
}

#[tokio::test]
async fn attachment_text_becomes_sections_and_an_unreadable_one_keeps_the_issue() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    mount_comments(&server, "3", 0, true).await;
    let memo = br"{\rtf1\ansi Rollback plan\par Revert the schema first.\par}".to_vec();
    let files = [
        ("10000", "memo.rtf", "application/rtf", memo),
        (
            "10001",
            "broken.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK\x03\x04 cut short".to_vec(),
        ),
    ];
    let mut with_files = issue(1, updated_of(1), true, 0, 20);
    let mut metas = Vec::new();
    for (id, name, mime, bytes) in &files {
        let content = format!("{}/rest/api/3/attachment/content/{id}", server.uri());
        Mock::given(method("GET"))
            .and(path(format!("/rest/api/3/attachment/content/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes.clone()))
            .mount(&server)
            .await;
        metas.push(json!({"id": id, "filename": name, "mimeType": mime,
            "size": bytes.len(), "content": content}));
    }
    with_files["fields"]["attachment"] = json!(metas);
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(TokenSearch::new(vec![with_files]))
        .mount(&server)
        .await;
    let config = JiraConfig::new(server.uri())
        .deployment(Deployment::Cloud)
        .project("ENG")
        .credentials(StaticAuth::basic("mia@example.com", "api-token-secret"))
        .options(SourceOptions::default().with_attachment_bytes(1 << 20));
    let got = collect(JiraConnector::new(config).unwrap().poll(window()))
        .await
        .unwrap();
    let doc = &got.docs[0];
    let memo = doc
        .sections
        .iter()
        .find(|s| s.text.contains("Revert the schema first."))
        .expect("the memo's text is a section");
    assert_eq!(
        memo.link.as_deref(),
        Some(format!("{}/rest/api/3/attachment/content/10000", server.uri()).as_str())
    );
    let failures = format!("{:?}", doc.metadata["extract_failures"]);
    assert!(failures.contains("broken.docx"), "{failures}");
    assert_eq!(doc.attachments.len(), 2, "both files stay listed");
}

#[tokio::test]
async fn a_search_that_repeats_its_token_ends_with_an_error_not_a_loop() {
    let server = MockServer::start().await;
    mount_account(&server, "3", "UTC").await;
    mount_comments(&server, "3", 0, true).await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issues": [issue(1, updated_of(1), true, 0, 20)],
            "nextPageToken": "CAEaAggD",
            "isLast": false
        })))
        .mount(&server)
        .await;
    let jira = cloud(&server);
    let ids: Vec<_> = jira.slim().collect().await;
    let err = ids.last().unwrap().as_ref().unwrap_err();
    assert!(err.to_string().contains("already returned"), "{err}");
    assert!(ids.len() <= 3, "stopped at once: {} items", ids.len());
    let err = collect(jira.poll(window())).await.unwrap_err();
    assert!(err.to_string().contains("already returned"), "{err}");
}
