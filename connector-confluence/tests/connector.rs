//! The Confluence connector against a wiremock Confluence speaking the
//! documented REST shapes: v2 cursor paging (pages and blog posts, body and
//! `Link` header), Data Center `start`/`limit`, CQL windows in the user's
//! zone, resume mid-space, archived/trashed content, 401/403/404, 429s,
//! malformed payloads, slim listing, validation, footer comments.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use connector_confluence::{
    ConfluenceAuth, ConfluenceCheckpoint, ConfluenceConfig, ConfluenceConnector, ContentKind,
    Deployment, ListingPosition,
};
use connector_core::{
    Checkpoint, CheckpointedConnector, Connector, ErrorKind, Item, LoadConnector, MetadataValue,
    PollConnector, SlimConnector, TimeWindow,
};
use futures::StreamExt;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PAGES: &str = "/wiki/api/v2/spaces/100/pages";
const BLOGS: &str = "/wiki/api/v2/spaces/100/blogposts";

fn cloud_config(server: &MockServer) -> ConfluenceConfig {
    ConfluenceConfig::new(format!("{}/wiki", server.uri()))
        .deployment(Deployment::Cloud)
        .space("ENG")
        .page_size(100)
        .requests_per_second(1000.0)
}

fn cloud(server: &MockServer) -> ConfluenceConnector {
    ConfluenceConnector::new(
        cloud_config(server),
        ConfluenceAuth::basic("mia@example.com", "api-token-secret"),
    )
    .unwrap()
}

fn datacenter(server: &MockServer) -> ConfluenceConnector {
    let config = ConfluenceConfig::new(server.uri())
        .deployment(Deployment::DataCenter)
        .space("ENG")
        .page_size(100)
        .requests_per_second(1000.0);
    ConfluenceConnector::new(config, ConfluenceAuth::bearer("pat-secret")).unwrap()
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
    /// Content ids reported gone.
    deleted: Vec<String>,
}

impl Collected {
    fn content_ids(&self) -> Vec<String> {
        self.docs
            .iter()
            .map(|d| d.id.rsplit('/').next().unwrap().to_string())
            .collect()
    }
}

async fn collect(stream: connector_core::ItemStream<'_>) -> connector_core::Result<Collected> {
    let mut out = Collected::default();
    let mut stream = stream;
    while let Some(item) = stream.next().await {
        match item? {
            Item::Document(d) => out.docs.push(*d),
            Item::Failure(f) => out.failures.push(format!("{f:?}")),
            Item::Checkpoint(c) => out.checkpoints.push(c),
            Item::Deleted(id) => out.deleted.push(id.rsplit('/').next().unwrap().to_string()),
            _ => {}
        }
    }
    Ok(out)
}

fn all_ids(pages: usize, blogs: usize) -> Vec<String> {
    (1..=pages)
        .map(page_id)
        .chain((1..=blogs).map(blog_id))
        .collect()
}

/// A Cloud site: space ENG (id 100) with `pages` pages and `blogs` blog
/// posts, the enrichment search, the user in Berlin.
async fn cloud_site(pages: usize, blogs: usize) -> (MockServer, Arc<Mutex<Vec<String>>>) {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("Europe/Berlin")).await;
    mount_cloud_spaces(&server).await;
    mount_empty_v2(&server).await;
    let page_items = (1..=pages)
        .map(|n| v2_page(n, "100", "current", modified_of(n)))
        .collect();
    let blog_items = (1..=blogs)
        .map(|n| v2_blogpost(n, "100", modified_of(n)))
        .collect();
    mount_v2(&server, V2Pages::new(PAGES, page_items)).await;
    mount_v2(&server, V2Pages::new(BLOGS, blog_items)).await;
    let mut by_id = HashMap::new();
    for n in 1..=pages {
        by_id.insert(page_id(n), v1_of_page(n, modified_of(n)));
    }
    for n in 1..=blogs {
        by_id.insert(blog_id(n), v1_of_blog(n, modified_of(n)));
    }
    let cql = mount_cloud_search(&server, CloudSearch::new(by_id, Vec::new())).await;
    (server, cql)
}

async fn requests_to(server: &MockServer, p: &str) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

#[tokio::test]
async fn cloud_v2_cursor_pagination_over_pages_and_blog_posts() {
    let (server, cql) = cloud_site(250, 230).await;
    let wiki = cloud(&server);
    let got = collect(wiki.load()).await.unwrap();
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    assert_eq!(
        got.content_ids(),
        all_ids(250, 230),
        "every item once, in order"
    );

    // Three v2 pages each, the later ones by the `_links.next` cursor.
    let page_requests = requests_to(&server, PAGES).await;
    let blog_requests = requests_to(&server, BLOGS).await;
    assert_eq!((page_requests.len(), blog_requests.len()), (3, 3));
    let cursors: Vec<Option<String>> = page_requests.iter().map(|r| query(r, "cursor")).collect();
    assert_eq!(
        cursors,
        [None, Some("c100".to_string()), Some("c200".to_string())]
    );
    let first = &page_requests[0];
    assert_eq!(query(first, "body-format").as_deref(), Some("storage"));
    assert_eq!(query(first, "limit").as_deref(), Some("100"));
    assert_eq!(query(first, "sort").as_deref(), Some("id"));
    assert_eq!(query_all(first, "status"), ["current"]);
    // One enrichment search per listing page.
    let queries = cql.lock().unwrap().clone();
    assert_eq!(queries.len(), 6);
    assert!(
        queries[0].starts_with("id in (100001,100002,"),
        "{}",
        queries[0]
    );

    let doc = &got.docs[0];
    let host = server.address().to_string();
    assert_eq!(doc.id, format!("{host}/100001"));
    assert_eq!(doc.source, "confluence");
    assert_eq!(doc.title, "Page 1");
    assert_eq!(
        doc.url.as_deref(),
        Some(format!("{}/wiki/spaces/ENG/pages/100001/Page+1", server.uri()).as_str())
    );
    assert_eq!(doc.sections[0].text, "## Page 1\n\nBody of page 1.");
    assert_eq!(doc.hierarchy, ["Engineering", "Home", "Runbooks"]);
    assert_eq!(doc.authors, ["Mia Krystof", "Ada Lovelace"]);
    let meta = serde_json::to_value(&doc.metadata).unwrap();
    assert_eq!(meta["space"], json!("ENG"));
    assert_eq!(meta["type"], json!("page"));
    assert_eq!(meta["status"], json!("current"));
    assert_eq!(meta["version"], json!("3"));
    assert_eq!(meta["labels"], json!(["runbook", "oncall"]));
    assert_eq!(meta["parent_id"], json!("100000"));
    assert_eq!(doc.created_at, Some(t0() - Duration::days(30)));
    assert_eq!(doc.updated_at, Some(modified_of(1)));
    assert_eq!(doc.attachments.len(), 1);
    let att = &doc.attachments[0];
    assert_eq!(
        (att.name.as_str(), att.content_type.as_deref(), att.size),
        ("diagram.png", Some("image/png"), Some(48213))
    );
    assert!(
        att.url.as_deref().unwrap().starts_with(&format!(
            "{}/wiki/download/attachments/100001/diagram.png",
            server.uri()
        )),
        "{:?}",
        att.url
    );
    assert!(att.bytes.is_none());
    let blog = got.docs.iter().find(|d| d.title == "Blog 1").unwrap();
    assert_eq!(blog.metadata["type"], MetadataValue::One("blogpost".into()));
    assert_eq!(blog.sections[0].text, "News 1");

    // A checkpoint after every listing page but the last.
    assert_eq!(got.checkpoints.len(), 5);
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| {
        r.headers
            .get("authorization")
            .is_some_and(|v| v.to_str().unwrap().starts_with("Basic "))
    }));
}

#[tokio::test]
async fn cloud_follows_the_link_header_when_the_body_has_no_next() {
    let (server, _) = cloud_site(0, 0).await;
    let mut pages = V2Pages::new(
        "/wiki/api/v2/spaces/200/pages",
        (1..=250)
            .map(|n| v2_page(n, "200", "current", modified_of(n)))
            .collect(),
    );
    pages.link_header_only = true;
    mount_v2(&server, pages).await;
    let config = cloud_config(&server).blog_posts(false);
    let mut config = config;
    config.spaces = vec!["OPS".into()];
    let wiki = ConfluenceConnector::new(config, ConfluenceAuth::bearer("oauth-token")).unwrap();
    let got = collect(wiki.load()).await.unwrap();
    assert_eq!(got.content_ids(), all_ids(250, 0));
    assert_eq!(
        requests_to(&server, "/wiki/api/v2/spaces/200/pages")
            .await
            .len(),
        3
    );
}

/// A Data Center site with `pages` pages in ENG (no blog posts).
async fn dc_site(pages: usize) -> (MockServer, DcItems) {
    let server = MockServer::start().await;
    mount_user(&server, "", None).await;
    mount_dc_spaces(&server).await;
    let mut items = HashMap::new();
    items.insert(
        ("ENG".to_string(), "page".to_string()),
        (1..=pages)
            .map(|n| {
                v1_content(
                    &page_id(n),
                    "page",
                    &format!("Page {n}"),
                    ("ENG", "Engineering"),
                    "current",
                    modified_of(n),
                    &format!("<p>DC page {n}</p>"),
                )
            })
            .collect::<Vec<_>>(),
    );
    items.insert(("ENG".to_string(), "blogpost".to_string()), Vec::new());
    let items = Arc::new(Mutex::new(items));
    Mock::given(method("GET"))
        .and(path("/rest/api/content"))
        .respond_with(DcContent {
            items: items.clone(),
        })
        .mount(&server)
        .await;
    (server, items)
}

#[tokio::test]
async fn datacenter_start_limit_pagination_without_repeats() {
    let (server, _) = dc_site(250).await;
    let wiki = datacenter(&server);
    let got = collect(wiki.load()).await.unwrap();
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    assert_eq!(
        got.content_ids(),
        all_ids(250, 0),
        "overlapping pages deliver each page once"
    );
    let requests = requests_to(&server, "/rest/api/content").await;
    let pages: Vec<(String, String, String)> = requests
        .iter()
        .map(|r| {
            (
                query(r, "type").unwrap(),
                query(r, "start").unwrap(),
                query(r, "limit").unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("page", "0"),
        ("page", "95"),
        ("page", "190"),
        ("blogpost", "0"),
    ]
    .iter()
    .map(|(t, s)| (t.to_string(), s.to_string(), "100".to_string()))
    .collect();
    assert_eq!(pages, expected);
    let first = &requests[0];
    assert_eq!(query(first, "spaceKey").as_deref(), Some("ENG"));
    assert_eq!(
        query(first, "expand").as_deref(),
        Some(
            "body.storage,version,history,ancestors,space,metadata.labels,children.attachment,restrictions.read.restrictions.user,restrictions.read.restrictions.group"
        )
    );
    assert!(
        first
            .headers
            .get("authorization")
            .is_some_and(|v| v == "Bearer pat-secret")
    );
    let doc = &got.docs[0];
    assert_eq!(doc.sections[0].text, "DC page 1");
    assert_eq!(doc.hierarchy, ["Engineering", "Home", "Runbooks"]);
    assert_eq!(
        doc.id,
        format!("{}/100001", server.uri().trim_start_matches("http://"))
    );
}

#[tokio::test]
async fn cloud_cql_window_in_the_users_zone_with_bodies_fetched_as_needed() {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("America/New_York")).await;
    let start = t0();
    let end = t0() + Duration::hours(1);
    let content = |n: usize, at| {
        v1_content(
            &page_id(n),
            "page",
            &format!("Page {n}"),
            ("ENG", "Engineering"),
            "current",
            at,
            &format!("<p>Changed {n}</p>"),
        )
    };
    let mut changes = vec![content(1, start - Duration::seconds(1)), content(2, start)];
    for n in 3..=27 {
        changes.push(content(n, start + Duration::minutes(n as i64)));
    }
    // Cloud may leave out a body: the connector fetches it through v2.
    let mut no_body = content(28, end - Duration::milliseconds(1));
    no_body["body"] = json!({"_expandable": {"storage": ""}});
    changes.push(no_body);
    changes.push(content(29, end));
    let cql = mount_cloud_search(&server, CloudSearch::new(HashMap::new(), changes)).await;
    Mock::given(method("GET"))
        .and(path(format!("/wiki/api/v2/pages/{}", page_id(28))))
        .respond_with(ResponseTemplate::new(200).set_body_json(v2_page(
            28,
            "100",
            "current",
            end - Duration::milliseconds(1),
        )))
        .mount(&server)
        .await;
    let wiki = ConfluenceConnector::new(
        cloud_config(&server).search_page_size(10),
        ConfluenceAuth::basic("mia@example.com", "api-token-secret"),
    )
    .unwrap();
    let got = collect(wiki.poll(TimeWindow::new(start, end)))
        .await
        .unwrap();
    let ids = got.content_ids();
    let expected: Vec<String> = (2..=28).map(page_id).collect();
    assert_eq!(ids, expected, "start included, end excluded");
    assert_eq!(
        got.docs.last().unwrap().sections[0].text,
        "## Page 28\n\nBody of page 28."
    );
    // 12:00 UTC on 1 March 2024 is 07:00 in New York (EST).
    let queries = cql.lock().unwrap().clone();
    assert_eq!(
        queries,
        [
            "type in (page,blogpost) AND space in (\"ENG\") AND lastmodified >= \"2024-03-01 07:00\" \
             AND lastmodified < \"2024-03-01 08:00\" order by lastmodified asc"
        ]
    );
    let searches = requests_to(&server, "/wiki/rest/api/search").await;
    assert_eq!(searches.len(), 3, "three search pages of 10");
    assert!(
        query(&searches[0], "expand")
            .unwrap()
            .contains("content.body.storage")
    );
    assert_eq!(got.checkpoints.len(), 3);
}

#[tokio::test]
async fn datacenter_cql_window_widens_to_every_zone_when_the_user_has_none() {
    let server = MockServer::start().await;
    mount_user(&server, "", None).await;
    let items: Vec<Value> = (1..=30)
        .map(|n| {
            v1_content(
                &page_id(n),
                if n % 2 == 0 { "blogpost" } else { "page" },
                &format!("Item {n}"),
                ("ENG", "Engineering"),
                "current",
                modified_of(n),
                "<p>x</p>",
            )
        })
        .collect();
    let log = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .and(path("/rest/api/content/search"))
        .respond_with(DcSearch {
            items,
            cql: log.clone(),
        })
        .mount(&server)
        .await;
    let config = ConfluenceConfig::new(server.uri())
        .deployment(Deployment::DataCenter)
        .space("ENG")
        .space("OPS")
        .search_page_size(12)
        .requests_per_second(1000.0);
    let wiki = ConfluenceConnector::new(config, ConfluenceAuth::bearer("pat-secret")).unwrap();
    let got = collect(wiki.poll(TimeWindow::new(t0(), t0() + Duration::hours(2))))
        .await
        .unwrap();
    assert_eq!(got.docs.len(), 30);
    assert_eq!(
        got.docs[1].metadata["type"],
        MetadataValue::One("blogpost".into())
    );
    assert_eq!(
        log.lock().unwrap().clone(),
        [
            // The zone is unknown: 14 hours wider each way; each item's own
            // time keeps the window exact.
            "type in (page,blogpost) AND space in (\"ENG\",\"OPS\") AND lastmodified >= \"2024-02-29 22:00\" \
             AND lastmodified < \"2024-03-02 04:00\" order by lastmodified asc"
        ]
    );
    let starts: Vec<String> = requests_to(&server, "/rest/api/content/search")
        .await
        .iter()
        .map(|r| query(r, "start").unwrap_or_else(|| "0".into()))
        .collect();
    assert_eq!(starts, ["0", "12", "24"]);
}

#[tokio::test]
async fn cloud_resume_mid_space_has_no_gap_and_no_repeat() {
    let (server, _) = cloud_site(250, 230).await;
    let wiki = cloud(&server);
    let full = TimeWindow::until(t0() + Duration::days(365));
    let first = collect(wiki.resume(full, None)).await.unwrap();
    // Stop after the first listing page and resume from its checkpoint.
    let after_page_one = first.checkpoints[0].clone();
    let position = after_page_one.decode::<ConfluenceCheckpoint>().unwrap();
    let ConfluenceCheckpoint::Listing(p) = &position else {
        panic!("{position:?}")
    };
    assert_eq!(
        (
            p.space_key.as_str(),
            p.kind,
            p.cursor.as_deref(),
            p.last_id.as_deref()
        ),
        (
            "ENG",
            ContentKind::Page,
            Some(
                "/wiki/api/v2/spaces/100/pages?cursor=c100&limit=100&sort=id&status=current&body-format=storage"
            ),
            Some("100100")
        )
    );
    let rest = collect(wiki.resume(full, Some(after_page_one)))
        .await
        .unwrap();
    let mut ids: Vec<String> = first.content_ids()[..100].to_vec();
    ids.extend(rest.content_ids());
    assert_eq!(ids, all_ids(250, 230));

    // A position whose last id lies inside the next page skips up to it.
    let inside = ConfluenceCheckpoint::Listing(ListingPosition {
        last_id: Some(page_id(150)),
        ..p.clone()
    });
    let rest = collect(wiki.resume(full, Some(Checkpoint::new(&inside).unwrap())))
        .await
        .unwrap();
    assert_eq!(rest.content_ids()[0], page_id(151));
    assert_eq!(rest.docs.len(), 100 + 230);

    // Resuming in the blog posts starts there.
    let blogs = ConfluenceCheckpoint::Listing(ListingPosition {
        space: 0,
        space_key: "ENG".into(),
        kind: ContentKind::BlogPost,
        cursor: None,
        start: 0,
        last_id: None,
    });
    let rest = collect(wiki.resume(full, Some(Checkpoint::new(&blogs).unwrap())))
        .await
        .unwrap();
    assert_eq!(rest.content_ids(), all_ids(0, 230));
}

#[tokio::test]
async fn datacenter_resume_survives_content_removed_before_the_checkpoint() {
    let (server, items) = dc_site(250).await;
    let wiki = datacenter(&server);
    let full = TimeWindow::until(t0() + Duration::days(365));
    let first = collect(wiki.resume(full, None)).await.unwrap();
    let checkpoint = first.checkpoints[0].clone();
    // Two pages delivered before the checkpoint are deleted: offsets shift left.
    items
        .lock()
        .unwrap()
        .get_mut(&("ENG".to_string(), "page".to_string()))
        .unwrap()
        .retain(|v| v["id"] != json!(page_id(10)) && v["id"] != json!(page_id(20)));
    let rest = collect(wiki.resume(full, Some(checkpoint))).await.unwrap();
    let mut ids: Vec<String> = first.content_ids()[..100].to_vec();
    ids.extend(rest.content_ids());
    assert_eq!(ids, all_ids(250, 0), "no gap, no repeat");
}

#[tokio::test]
async fn changes_resume_after_the_last_instant_delivered() {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("UTC")).await;
    // Pages 10–12 share one modification instant.
    let same = modified_of(10);
    let changes: Vec<Value> = (1..=20)
        .map(|n| {
            let at = if (10..=12).contains(&n) {
                same
            } else {
                modified_of(n)
            };
            v1_of_page(n, at)
        })
        .collect();
    let cql = mount_cloud_search(&server, CloudSearch::new(HashMap::new(), changes)).await;
    let wiki = cloud(&server);
    // A change position as the previous version stored it.
    let from = Checkpoint(json!({
        "mode": "changes", "after": same, "ids_at_after": [page_id(10), page_id(11)]
    }));
    let got = collect(wiki.resume(window(), Some(from))).await.unwrap();
    let expected: Vec<String> = (12..=20).map(page_id).collect();
    assert_eq!(got.content_ids(), expected);
    assert!(
        cql.lock().unwrap()[0].contains("lastmodified >= \"2024-03-01 12:10\""),
        "the search restarts at the checkpoint: {:?}",
        cql.lock().unwrap()
    );
}

#[tokio::test]
async fn archived_and_trashed_content_is_skipped_unless_archived_is_asked_for() {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("UTC")).await;
    mount_cloud_spaces(&server).await;
    mount_empty_v2(&server).await;
    // The server ignores the status filter: the connector must not rely on it.
    let statuses = [
        "current", "archived", "trashed", "deleted", "draft", "current",
    ];
    let items: Vec<Value> = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| v2_page(i + 1, "100", s, modified_of(i + 1)))
        .collect();
    mount_v2(&server, V2Pages::new(PAGES, items)).await;
    mount_cloud_search(&server, CloudSearch::new(HashMap::new(), Vec::new())).await;

    let got = collect(cloud(&server).load()).await.unwrap();
    assert_eq!(got.content_ids(), [page_id(1), page_id(6)]);
    assert_eq!(
        got.deleted,
        [page_id(2), page_id(3), page_id(4), page_id(5)],
        "not current: reported gone"
    );
    let ids: Vec<String> = cloud(&server)
        .slim()
        .map(|s| s.unwrap().id.rsplit('/').next().unwrap().to_string())
        .collect()
        .await;
    assert_eq!(ids, [page_id(1), page_id(6)]);

    let with_archived = ConfluenceConnector::new(
        cloud_config(&server).archived(true),
        ConfluenceAuth::bearer("t"),
    )
    .unwrap();
    let got = collect(with_archived.load()).await.unwrap();
    assert_eq!(got.content_ids(), [page_id(1), page_id(2), page_id(6)]);
    assert_eq!(
        got.docs[1].metadata["status"],
        MetadataValue::One("archived".into())
    );
    let requests = requests_to(&server, PAGES).await;
    assert_eq!(
        query_all(requests.last().unwrap(), "status"),
        ["current", "archived"]
    );

    // A trashed search hit is dropped too.
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("UTC")).await;
    let mut trashed = v1_of_page(2, modified_of(2));
    trashed["status"] = json!("trashed");
    mount_cloud_search(
        &server,
        CloudSearch::new(HashMap::new(), vec![v1_of_page(1, modified_of(1)), trashed]),
    )
    .await;
    let got = collect(cloud(&server).poll(window())).await.unwrap();
    assert_eq!(got.content_ids(), [page_id(1)]);
    assert_eq!(got.deleted, [page_id(2)]);
}

#[tokio::test]
async fn auth_permission_and_missing_space_errors_are_clear_and_secret_free() {
    // 401 / 403 on the credentials check.
    for (status, kind) in [(401, ErrorKind::Auth), (403, ErrorKind::Forbidden)] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({
                "statusCode": status, "message": "Current user not permitted to use Confluence"
            })))
            .mount(&server)
            .await;
        let err = cloud(&server).validate().await.unwrap_err();
        assert_eq!(err.kind(), kind);
        let text = err.to_string();
        assert!(text.contains("/wiki/rest/api/user/current"), "{text}");
        assert!(!text.contains("api-token-secret"), "{text}");
    }
    // 403 / 404 on a space's listing end the stream with a typed error naming the space.
    for (status, kind, says) in [
        (403, ErrorKind::Forbidden, "no permission to read space ENG"),
        (404, ErrorKind::NotFound, "space ENG does not exist"),
        (401, ErrorKind::Auth, "reading space ENG"),
    ] {
        let server = MockServer::start().await;
        mount_user(&server, "/wiki", Some("UTC")).await;
        mount_cloud_spaces(&server).await;
        Mock::given(method("GET"))
            .and(path(PAGES))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({
                "errors": [{"status": status, "code": "NOT_FOUND", "title": "Space not found", "detail": null}]
            })))
            .mount(&server)
            .await;
        let err = collect(cloud(&server).load()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        let text = err.to_string();
        assert!(text.contains(says), "{text}");
        assert!(
            !text.contains("api-token-secret") && !text.contains("Basic "),
            "{text}"
        );
    }
    // A configured space the user cannot see.
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("UTC")).await;
    mount_cloud_spaces(&server).await;
    let mut config = cloud_config(&server);
    config.spaces = vec!["NOPE".into()];
    let wiki = ConfluenceConnector::new(config, ConfluenceAuth::bearer("t")).unwrap();
    let err = wiki.validate().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("spaces[0]: space NOPE"), "{err}");
    let err = collect(wiki.load()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_429_with_retry_after_slows_down_without_failing() {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("UTC")).await;
    mount_cloud_spaces(&server).await;
    mount_empty_v2(&server).await;
    let mut pages = V2Pages::new(
        PAGES,
        (1..=30)
            .map(|n| v2_page(n, "100", "current", modified_of(n)))
            .collect(),
    );
    pages.throttle_first = 2;
    mount_v2(&server, pages).await;
    mount_cloud_search(&server, CloudSearch::new(HashMap::new(), Vec::new())).await;
    let wiki = cloud(&server);
    let got = collect(wiki.load()).await.unwrap();
    assert_eq!(got.docs.len(), 30);
    let counters = wiki.client().http().counters();
    assert_eq!(counters.throttled, 2);
    assert!(
        counters.throttled_time >= std::time::Duration::from_secs(2),
        "{counters:?}"
    );
}

#[tokio::test]
async fn malformed_items_become_failures_or_best_effort_text() {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("UTC")).await;
    mount_cloud_spaces(&server).await;
    mount_empty_v2(&server).await;
    let mut no_id = v2_page(1, "100", "current", modified_of(1));
    no_id.as_object_mut().unwrap().remove("id");
    let mut odd_body = v2_page(2, "100", "current", modified_of(2));
    odd_body["body"]["storage"]["value"] = json!(42);
    let mut broken_xhtml = v2_page(3, "100", "current", modified_of(3));
    broken_xhtml["body"]["storage"]["value"] = json!(
        "<p>Unclosed <b>bold <ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[let x"
    );
    let fine = v2_page(4, "100", "current", modified_of(4));
    mount_v2(
        &server,
        V2Pages::new(PAGES, vec![no_id, odd_body, broken_xhtml, fine]),
    )
    .await;
    // The body fetched for item 2 is no better.
    Mock::given(method("GET"))
        .and(path(format!("/wiki/api/v2/pages/{}", page_id(2))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": page_id(2), "status": "current", "title": "Page 2", "body": {"storage": {"value": null}}
        })))
        .mount(&server)
        .await;
    mount_cloud_search(&server, CloudSearch::new(HashMap::new(), Vec::new())).await;
    let got = collect(cloud(&server).load()).await.unwrap();
    assert_eq!(got.content_ids(), [page_id(3), page_id(4)]);
    assert!(
        got.docs[0].sections[0].text.starts_with("Unclosed bold"),
        "{:?}",
        got.docs[0].sections
    );
    assert_eq!(got.failures.len(), 2, "{:?}", got.failures);
    assert!(got.failures[0].contains("not in the expected shape"));
    assert!(
        got.failures[1].contains(&page_id(2)) && got.failures[1].contains("no storage-format body"),
        "{}",
        got.failures[1]
    );
}

#[tokio::test]
async fn slim_lists_every_id_without_bodies() {
    let (server, cql) = cloud_site(600, 260).await;
    let wiki = cloud(&server);
    let ids: Vec<String> = wiki
        .slim()
        .map(|s| s.unwrap().id.rsplit('/').next().unwrap().to_string())
        .collect()
        .await;
    assert_eq!(ids, all_ids(600, 260));
    let requests = requests_to(&server, PAGES).await;
    assert_eq!(requests.len(), 3, "pages of 250 ids");
    assert!(requests.iter().all(|r| query(r, "body-format").is_none()));
    assert_eq!(query(&requests[0], "limit").as_deref(), Some("250"));
    assert!(cql.lock().unwrap().is_empty(), "no enrichment for ids");
}

#[tokio::test]
async fn validate_lists_the_visible_spaces() {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("UTC")).await;
    mount_cloud_spaces(&server).await;
    let options = cloud(&server).validate().await.unwrap();
    let spaces: Vec<(String, String)> = options
        .get("spaces")
        .iter()
        .map(|s| (s.key.clone(), s.name.clone()))
        .collect();
    assert_eq!(
        spaces,
        [
            ("ENG".to_string(), "Engineering".to_string()),
            ("OPS".to_string(), "Operations".to_string())
        ]
    );

    let (server, _) = dc_site(1).await;
    let options = datacenter(&server).validate().await.unwrap();
    assert_eq!(options.get("spaces").len(), 2);
}

#[tokio::test]
async fn footer_comments_become_sections_when_enabled() {
    let (server, _) = cloud_site(2, 0).await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/wiki/api/v2/pages/\d+/footer-comments$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [
                {"id": "7001", "status": "current", "title": "Re: Page", "pageId": "100001",
                 "version": {"createdAt": ts(t0()), "message": "", "number": 1, "minorEdit": false, "authorId": "5b10ac8d82e05b22cc7d4ef5"},
                 "body": {"storage": {"representation": "storage", "value": "<p>Looks <em>good</em></p>"}},
                 "_links": {"webui": "/spaces/ENG/pages/100001/Page+1?focusedCommentId=7001#comment-7001"}},
                {"id": "7002", "status": "trashed", "title": "Re: Page", "pageId": "100001",
                 "body": {"storage": {"representation": "storage", "value": "<p>deleted</p>"}}, "_links": {}}
            ],
            "_links": {"base": "https://acme.atlassian.net/wiki"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/wiki/rest/api/user/bulk"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"type": "known", "accountId": "5b10ac8d82e05b22cc7d4ef5", "accountType": "atlassian",
                         "email": "", "publicName": "Mia", "displayName": "Mia Krystof",
                         "timeZone": "Europe/Berlin", "isExternalCollaborator": false,
                         "_links": {"self": "https://acme.atlassian.net/wiki/rest/api/user?accountId=5b10ac8d82e05b22cc7d4ef5"}}],
            "start": 0, "limit": 1, "size": 1, "_links": {}
        })))
        .expect(1..=2) // cached; two documents converted at once may both ask
        .mount(&server)
        .await;
    let wiki = ConfluenceConnector::new(
        cloud_config(&server).footer_comments(true),
        ConfluenceAuth::bearer("t"),
    )
    .unwrap();
    let got = collect(wiki.load()).await.unwrap();
    let doc = &got.docs[0];
    assert_eq!(doc.sections.len(), 2, "{:?}", doc.sections);
    assert_eq!(doc.sections[1].text, "Mia Krystof: Looks good");
    assert_eq!(got.docs[1].sections[1].text, "Mia Krystof: Looks good");
    assert!(
        doc.sections[1]
            .link
            .as_deref()
            .unwrap()
            .ends_with("focusedCommentId=7001#comment-7001")
    );
}

#[tokio::test]
async fn a_full_sync_through_the_runner_resumes_and_skips_unchanged() {
    use connector_core::checkpoint::MemoryCheckpointStore;
    use connector_core::runner::{SyncMode, SyncRunner};
    use connector_core::sink::MemorySink;

    let (server, _) = cloud_site(120, 30).await;
    let wiki = cloud(&server);
    let runner = SyncRunner::new(
        "confluence-test",
        Arc::new(MemoryCheckpointStore::default()),
    );
    let mut sink = MemorySink::default();
    let report = runner.run(&wiki, &mut sink, SyncMode::Full).await.unwrap();
    assert_eq!(report.documents_processed, 150);
    let again = runner.run(&wiki, &mut sink, SyncMode::Full).await.unwrap();
    assert_eq!(again.documents_skipped, 150);
}

#[tokio::test]
async fn datacenter_footer_comments_and_a_missing_space() {
    let (server, items) = dc_site(3).await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/rest/api/content/\d+/child/comment$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{
                "id": "9001", "type": "comment", "status": "current", "title": "Re: Page",
                "history": {"latest": true, "createdBy": {"type": "known", "username": "mia", "userKey": "k1", "displayName": "Mia Krystof"},
                            "createdDate": "2024-03-01T12:00:00.000+01:00"},
                "version": {"by": {"type": "known", "username": "mia", "displayName": "Mia Krystof"},
                            "when": "2024-03-01T12:00:00.000+01:00", "number": 1, "minorEdit": false},
                "body": {"storage": {"value": "<p>Ship it</p>", "representation": "storage"}},
                "_links": {"webui": "/display/ENG/Page+1?focusedCommentId=9001#comment-9001"}
            }],
            "start": 0, "limit": 100, "size": 1,
            "_links": {"base": "https://wiki.acme.com", "context": ""}
        })))
        .mount(&server)
        .await;
    let config = ConfluenceConfig::new(server.uri())
        .deployment(Deployment::DataCenter)
        .space("ENG")
        .footer_comments(true)
        .requests_per_second(1000.0);
    let wiki = ConfluenceConnector::new(config, ConfluenceAuth::bearer("pat-secret")).unwrap();
    let got = collect(wiki.load()).await.unwrap();
    assert_eq!(got.docs.len(), 3);
    assert_eq!(got.docs[0].sections[1].text, "Mia Krystof: Ship it");
    let comment_requests = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().ends_with("/child/comment"))
        .collect::<Vec<_>>();
    assert_eq!(comment_requests.len(), 3);
    assert_eq!(
        query(&comment_requests[0], "location").as_deref(),
        Some("footer")
    );

    // The space is listed but its content answers 404 (deleted meanwhile).
    items.lock().unwrap().clear();
    let err = collect(wiki.load()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let text = err.to_string();
    assert!(
        text.contains("space ENG does not exist") && text.contains("No space with key"),
        "{text}"
    );
    assert!(!text.contains("pat-secret"));
}

#[tokio::test]
async fn attachment_bytes_are_downloaded_only_when_asked_and_under_the_cap() {
    let (server, _) = cloud_site(2, 0).await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/wiki/download/attachments/\d+/diagram\.png$"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"\x89PNG fake".to_vec()))
        .mount(&server)
        .await;
    let got = collect(cloud(&server).load()).await.unwrap();
    assert!(
        got.docs[0].attachments[0].bytes.is_none(),
        "no bytes by default"
    );

    let wiki = ConfluenceConnector::new(
        cloud_config(&server).attachment_bytes(100_000),
        ConfluenceAuth::bearer("t"),
    )
    .unwrap();
    let got = collect(wiki.load()).await.unwrap();
    assert_eq!(
        got.docs[0].attachments[0].bytes.as_deref(),
        Some(&b"\x89PNG fake"[..])
    );
    let downloads = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().starts_with("/wiki/download/"))
        .count();
    assert_eq!(downloads, 2);

    // 48 213 bytes is over a 1 000-byte cap: listed, not downloaded.
    let small = ConfluenceConnector::new(
        cloud_config(&server).attachment_bytes(1_000),
        ConfluenceAuth::bearer("t"),
    )
    .unwrap();
    let got = collect(small.load()).await.unwrap();
    assert!(got.docs[0].attachments[0].bytes.is_none());
    assert_eq!(got.docs[0].attachments[0].size, Some(48213));
}

/// A memory sink whose writes fail after a number of documents: a crash.
struct FlakySink {
    inner: connector_core::sink::MemorySink,
    fail_after: Option<usize>,
    written: usize,
}

#[async_trait::async_trait]
impl connector_core::sink::Sink for FlakySink {
    async fn write(&mut self, doc: &connector_core::Document) -> connector_core::Result<()> {
        if self.fail_after.is_some_and(|n| self.written >= n) {
            return Err(connector_core::Error::new(
                ErrorKind::Io,
                "disk full (simulated)",
            ));
        }
        self.written += 1;
        self.inner.write(doc).await
    }

    async fn commit(&mut self) -> connector_core::Result<connector_core::sink::SinkPosition> {
        self.inner.commit().await
    }

    async fn restore(
        &mut self,
        committed: Option<&connector_core::sink::SinkPosition>,
    ) -> connector_core::Result<()> {
        self.inner.restore(committed).await
    }
}

#[tokio::test]
async fn an_interrupted_full_sync_resumes_mid_space_through_the_runner() {
    use connector_core::checkpoint::MemoryCheckpointStore;
    use connector_core::runner::{RunnerOptions, SyncMode, SyncRunner};

    let (server, _) = cloud_site(250, 230).await;
    let wiki = cloud(&server);
    let mut options = RunnerOptions::default();
    options.commit_every = 40;
    options.detect_deletions = false;
    let runner = SyncRunner::new(
        "confluence-crash",
        Arc::new(MemoryCheckpointStore::default()),
    )
    .with_options(options);
    let mut sink = FlakySink {
        inner: connector_core::sink::MemorySink::default(),
        fail_after: Some(230),
        written: 0,
    };
    let err = runner
        .run(&wiki, &mut sink, SyncMode::Full)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");

    sink.fail_after = None;
    let report = runner.run(&wiki, &mut sink, SyncMode::Full).await.unwrap();
    assert!(report.resumed);
    let ids: Vec<String> = sink
        .inner
        .documents()
        .iter()
        .map(|d| d.id.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(ids, all_ids(250, 230), "every page once, in order");
    // The second run started from the checkpoint, not from the beginning.
    let first_pages = requests_to(&server, PAGES)
        .await
        .iter()
        .filter(|r| query(r, "cursor").is_none())
        .count();
    assert_eq!(first_pages, 1, "the first listing page was fetched once");
}

/// A body mentioning two people by account id (Cloud), one of whom the
/// user lookup does not know.
fn mentions_body(n: usize) -> String {
    format!(
        "<p>Page {n}: ask <ac:link><ri:user ri:account-id=\"5b10ac8d82e05b22cc7d4ef5\" /></ac:link> \
         or <ac:link><ri:user ri:account-id=\"70121:9f1c2e54-0d1b-4c9a-8f1e-2b3c4d5e6f70\" /></ac:link>.</p>"
    )
}

#[tokio::test]
async fn cloud_mentions_read_as_names_looked_up_once_per_sync() {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("UTC")).await;
    mount_cloud_spaces(&server).await;
    mount_empty_v2(&server).await;
    let pages: Vec<Value> = (1..=150)
        .map(|n| {
            let mut page = v2_page(n, "100", "current", modified_of(n));
            page["body"]["storage"]["value"] = json!(mentions_body(n));
            page
        })
        .collect();
    mount_v2(&server, V2Pages::new(PAGES, pages)).await;
    let by_id = (1..=150)
        .map(|n| (page_id(n), v1_of_page(n, modified_of(n))))
        .collect();
    mount_cloud_search(&server, CloudSearch::new(by_id, Vec::new())).await;
    // `GET /wiki/rest/api/user/bulk`: only the accounts it knows come back.
    Mock::given(method("GET"))
        .and(path("/wiki/rest/api/user/bulk"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"type": "known", "accountId": "5b10ac8d82e05b22cc7d4ef5", "accountType": "atlassian",
                         "email": "", "publicName": "Mia", "displayName": "Mia Krystof",
                         "isExternalCollaborator": false, "_links": {}}],
            "start": 0, "limit": 2, "size": 1, "_links": {"base": "https://acme.atlassian.net/wiki", "context": "/wiki"}
        })))
        .mount(&server)
        .await;
    let got = collect(cloud(&server).load()).await.unwrap();
    assert_eq!(got.docs.len(), 150);
    for doc in &got.docs {
        assert!(
            doc.sections[0]
                .text
                .ends_with("ask @Mia Krystof or @unknown user."),
            "{}",
            doc.sections[0].text
        );
    }
    // Two listing pages, one batched lookup: both ids in one request, and
    // the unknown one is not asked for again.
    let lookups = requests_to(&server, "/wiki/rest/api/user/bulk").await;
    assert_eq!(lookups.len(), 1, "looked up once per sync");
    let mut asked: Vec<String> = query(&lookups[0], "accountId")
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    asked.sort();
    assert_eq!(
        asked,
        [
            "5b10ac8d82e05b22cc7d4ef5",
            "70121:9f1c2e54-0d1b-4c9a-8f1e-2b3c4d5e6f70"
        ]
    );
}

#[tokio::test]
async fn datacenter_user_key_mentions_read_as_names() {
    let (server, items) = dc_site(3).await;
    {
        let mut items = items.lock().unwrap();
        let pages = items
            .get_mut(&("ENG".to_string(), "page".to_string()))
            .unwrap();
        pages[0]["body"]["storage"]["value"] = json!(
            "<p>Owner: <ac:link><ri:user ri:userkey=\"8a7f808a6f3e4c2b016f3e4d1e2a0001\" /></ac:link>, \
             backup <ac:link><ri:user ri:userkey=\"8a7f808a6f3e4c2b016f3e4d1e2a0099\" /></ac:link>, \
             reviewer <ac:link><ri:user ri:username=\"ada\" /></ac:link>.</p>"
        );
    }
    // `GET /rest/api/user?key=…`: one user known, the other gone (404).
    Mock::given(method("GET"))
        .and(path("/rest/api/user"))
        .and(wiremock::matchers::query_param(
            "key",
            "8a7f808a6f3e4c2b016f3e4d1e2a0001",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "known", "username": "mia", "userKey": "8a7f808a6f3e4c2b016f3e4d1e2a0001",
            "profilePicture": {"path": "/images/icons/profilepics/default.svg", "width": 48, "height": 48, "isDefault": true},
            "displayName": "Mia Krystof", "_links": {"self": "https://wiki.acme.com/rest/api/user?key=8a7f808a6f3e4c2b016f3e4d1e2a0001"},
            "_expandable": {"status": ""}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/user"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "statusCode": 404, "data": {"authorized": false, "valid": true, "errors": [], "successful": false},
            "message": "No user found with key : 8a7f808a6f3e4c2b016f3e4d1e2a0099"
        })))
        .with_priority(10)
        .mount(&server)
        .await;
    let got = collect(datacenter(&server).load()).await.unwrap();
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    assert_eq!(
        got.docs[0].sections[0].text,
        "Owner: @Mia Krystof, backup @unknown user, reviewer @ada."
    );
    assert_eq!(got.docs[1].sections[0].text, "DC page 2");
}

/// `GET /wiki/api/v2/pages/{id}/footer-comments` that never ends: each
/// page one fresh comment and a fresh cursor.
struct EndlessComments;

impl wiremock::Respond for EndlessComments {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let n: usize = query(request, "cursor")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let next = format!(
            "{}?cursor={}&limit=250&body-format=storage",
            request.url.path(),
            n + 1
        );
        ResponseTemplate::new(200)
            .insert_header("Link", format!("<{next}>; rel=\"next\"").as_str())
            .set_body_json(json!({
                "results": [{"id": (9000 + n).to_string(), "status": "current", "title": "Re: Page",
                             "version": {"createdAt": ts(t0()), "number": 1, "minorEdit": false, "authorId": "a1"},
                             "body": {"storage": {"representation": "storage", "value": format!("<p>Comment {n}</p>")}},
                             "_links": {"webui": format!("/spaces/ENG/pages/100001?focusedCommentId={}", 9000 + n)}}],
                "_links": {"next": next, "base": "https://acme.atlassian.net/wiki"}
            }))
    }
}

#[tokio::test]
async fn comments_past_the_cap_are_cut_and_reported_truncated() {
    let (server, _) = cloud_site(2, 0).await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/wiki/api/v2/pages/\d+/footer-comments$"))
        .respond_with(EndlessComments)
        .mount(&server)
        .await;
    let wiki = ConfluenceConnector::new(
        cloud_config(&server).footer_comments(true).max_comments(5),
        ConfluenceAuth::bearer("t"),
    )
    .unwrap();
    let got = collect(wiki.load()).await.unwrap();
    assert_eq!(got.docs.len(), 2, "{:?}", got.failures);
    for doc in &got.docs {
        assert_eq!(doc.sections.len(), 1 + 5, "the body and five comments");
        assert_eq!(
            doc.metadata["truncated"],
            MetadataValue::Many(vec!["comments".into()])
        );
    }
    let fetched = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/footer-comments"))
        .count();
    assert!(fetched <= 2 * 5, "fetched past the cap: {fetched} requests");
}

#[tokio::test]
async fn a_change_search_handing_out_fresh_cursors_forever_ends_with_an_error() {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("UTC")).await;
    let content = v1_of_page(1, modified_of(1));
    Mock::given(method("GET"))
        .and(path("/wiki/rest/api/search"))
        .respond_with(move |request: &wiremock::Request| {
            let n: usize = query(request, "start")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            ResponseTemplate::new(200).set_body_json(json!({
                "results": [{"content": content.clone(), "title": "Page 1", "excerpt": "", "url": "/spaces/ENG/pages/100001",
                             "entityType": "content", "lastModified": ts(modified_of(1))}],
                "start": n, "limit": 50, "size": 1, "totalSize": 1_000_000_000u64, "cqlQuery": "",
                "searchDuration": 3,
                "_links": {"base": "https://acme.atlassian.net/wiki", "context": "/wiki",
                           "next": format!("/rest/api/search?cql=x&cursor=z{n}&start={}", n + 1)}
            }))
        })
        .mount(&server)
        .await;
    let err = collect(cloud(&server).poll(window()))
        .await
        .expect_err("an endless search ends with an error");
    assert!(
        err.to_string().contains("stopping instead of looping"),
        "{err}"
    );
    let requests = requests_to(&server, "/wiki/rest/api/search").await.len();
    assert!(requests < 50, "stopped only after {requests} requests");
}

#[tokio::test]
async fn a_v1_answer_without_results_or_links_is_a_decode_error_not_an_empty_space() {
    let server = MockServer::start().await;
    mount_user(&server, "", None).await;
    mount_dc_spaces(&server).await;
    // A `200` from a proxy or a misrouted request: neither `results` nor
    // `_links`, or `results` without the `_links` every v1 list carries.
    for body in [
        json!({"start": 0, "limit": 100, "size": 0}),
        json!({"results": [], "start": 0, "limit": 100, "size": 0}),
    ] {
        let _answer = Mock::given(method("GET"))
            .and(path("/rest/api/content"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .mount_as_scoped(&server)
            .await;
        let err = collect(datacenter(&server).load())
            .await
            .expect_err("a wrong-shaped listing ends the stream");
        assert_eq!(err.kind(), ErrorKind::Decode, "{body}: {err}");
        assert!(err.request().is_some(), "{err}");
        let _search = Mock::given(method("GET"))
            .and(path("/rest/api/content/search"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .mount_as_scoped(&server)
            .await;
        let err = collect(datacenter(&server).poll(window()))
            .await
            .expect_err("a wrong-shaped search ends the stream");
        assert_eq!(err.kind(), ErrorKind::Decode, "{body}: {err}");
    }
}

#[tokio::test]
async fn a_hostile_page_id_stays_one_path_segment() {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("Europe/Berlin")).await;
    mount_cloud_spaces(&server).await;
    mount_empty_v2(&server).await;
    let mut hostile = v2_page(1, "100", "current", modified_of(1));
    hostile["id"] = json!("../../../admin/stats?x=");
    mount_v2(&server, V2Pages::new(PAGES, vec![hostile])).await;
    mount_v2(&server, V2Pages::new(BLOGS, Vec::new())).await;
    mount_cloud_search(&server, CloudSearch::new(HashMap::new(), Vec::new())).await;

    let wiki = ConfluenceConnector::new(
        cloud_config(&server).footer_comments(true),
        ConfluenceAuth::bearer("t"),
    )
    .unwrap();
    let _ = collect(wiki.load()).await;
    let requests = server.received_requests().await.unwrap();
    assert!(!requests.is_empty());
    for request in &requests {
        let path = request.url.path();
        assert!(
            path.starts_with("/wiki/") && !path.contains("/admin"),
            "a server-supplied id left its segment: {path}"
        );
    }
}
