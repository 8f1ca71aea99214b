//! The conformance kit against Confluence Cloud (REST v2 cursor listings
//! with `_links.next` and the `Link` header, v1 CQL search with cursor
//! links) and Confluence Data Center (v1 `start`/`limit` listings and
//! `/rest/api/content/search`) stand-ins serving the documented shapes.
//!
//! Not applicable: on Cloud, `offset_without_progress_ends_with_an_error`
//! (v2 pages by cursor only); on Data Center, the two cursor checks (its
//! listing pages by offset; the offset check covers it).

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Duration as Days;
use connector_confluence::{ConfluenceConfig, ConfluenceConnector, Deployment};
use connector_core::TimeWindow;
use connector_core::credentials::StaticAuth;
use connector_core::options::{RetryPolicy, SourceOptions};
use connector_testing::{Endpoint, checks};
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_TOKEN: &str = "api-token-s3cr3t-0042";
const PAT: &str = "pat-s3cr3t-0042";
const PAGES: &str = "/wiki/api/v2/spaces/100/pages";
const BLOGS: &str = "/wiki/api/v2/spaces/100/blogposts";
const PAGE_COUNT: usize = 120;
const BLOG_COUNT: usize = 30;

/// Quick retries (the checks answer 500s and 429s on purpose), attachment
/// bytes on (for the redirect check).
fn options() -> SourceOptions {
    SourceOptions::default()
        .with_rate(1000.0)
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_delays(Duration::from_millis(10), Duration::from_millis(50)),
        )
        .with_attachment_bytes(1 << 20)
}

/// A window of changes: every fixture item is modified inside it.
fn changes_window() -> TimeWindow {
    TimeWindow::new(t0() - Days::days(1), t0() + Days::days(30))
}

fn full_window() -> TimeWindow {
    TimeWindow::until(chrono::Utc::now())
}

/// The attachment every page lists, downloaded from the site.
async fn mount_downloads(server: &MockServer, prefix: &str) {
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{prefix}/download/attachments/\d+/diagram\.png$"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"\x89PNG diagram".to_vec()))
        .mount(server)
        .await;
}

/// A Cloud site: space ENG (id 100) with pages and blog posts, the
/// enrichment and change searches, the user in UTC.
async fn cloud_site() -> (MockServer, ConfluenceConnector) {
    let server = MockServer::start().await;
    mount_user(&server, "/wiki", Some("UTC")).await;
    mount_cloud_spaces(&server).await;
    mount_empty_v2(&server).await;
    mount_downloads(&server, "/wiki").await;
    let pages = (1..=PAGE_COUNT)
        .map(|n| v2_page(n, "100", "current", modified_of(n)))
        .collect();
    let blogs = (1..=BLOG_COUNT)
        .map(|n| v2_blogpost(n, "100", modified_of(n)))
        .collect();
    mount_v2(&server, V2Pages::new(PAGES, pages)).await;
    mount_v2(&server, V2Pages::new(BLOGS, blogs)).await;
    let mut by_id = HashMap::new();
    let mut changes = Vec::new();
    for n in 1..=PAGE_COUNT {
        by_id.insert(page_id(n), v1_of_page(n, modified_of(n)));
        changes.push(v1_of_page(n, modified_of(n)));
    }
    for n in 1..=BLOG_COUNT {
        by_id.insert(blog_id(n), v1_of_blog(n, modified_of(n)));
    }
    mount_cloud_search(&server, CloudSearch::new(by_id, changes)).await;
    let config = ConfluenceConfig::new(format!("{}/wiki", server.uri()))
        .deployment(Deployment::Cloud)
        .space("ENG")
        .page_size(50)
        .credentials(StaticAuth::basic("mia@example.com", API_TOKEN))
        .options(options());
    let wiki = ConfluenceConnector::from_config(config).unwrap();
    (server, wiki)
}

/// A Data Center site: space ENG with pages (blog posts not synced: both
/// kinds share one listing path, which the checks answer as a whole), the
/// CQL search, a user without a zone.
async fn dc_site() -> (MockServer, ConfluenceConnector) {
    let server = MockServer::start().await;
    mount_user(&server, "", None).await;
    mount_dc_spaces(&server).await;
    mount_downloads(&server, "").await;
    let content = |n: usize| {
        v1_content(
            &page_id(n),
            "page",
            &format!("Page {n}"),
            ("ENG", "Engineering"),
            "current",
            modified_of(n),
            &format!("<p>DC page {n}</p>"),
        )
    };
    let pages: Vec<Value> = (1..=PAGE_COUNT).map(content).collect();
    let mut items = HashMap::new();
    items.insert(("ENG".to_string(), "page".to_string()), pages.clone());
    items.insert(("ENG".to_string(), "blogpost".to_string()), Vec::new());
    Mock::given(method("GET"))
        .and(path("/rest/api/content"))
        .respond_with(DcContent {
            items: Arc::new(Mutex::new(items)),
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/content/search"))
        .respond_with(DcSearch {
            items: pages,
            cql: Arc::default(),
        })
        .mount(&server)
        .await;
    let config = ConfluenceConfig::new(server.uri())
        .deployment(Deployment::DataCenter)
        .space("ENG")
        .blog_posts(false)
        .page_size(50)
        .credentials(StaticAuth::bearer(PAT))
        .options(options());
    let wiki = ConfluenceConnector::from_config(config).unwrap();
    (server, wiki)
}

/// A v2 listing page of three good pages and one whose title holds a lone
/// surrogate (invalid JSON text, fatal to a whole-page decode).
fn v2_page_with_one_bad_record() -> ResponseTemplate {
    let good: Vec<String> = (1..=3)
        .map(|n| v2_page(n, "100", "current", modified_of(n)).to_string())
        .collect();
    let bad = v2_page(4, "100", "current", modified_of(4))
        .to_string()
        .replace("\"Page 4\"", "\"Page \\udc00 4\"");
    let body = format!(
        r#"{{"results": [{}, {bad}], "_links": {{"base": "https://acme.atlassian.net/wiki"}}}}"#,
        good.join(",")
    );
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

/// The same for a Data Center `/rest/api/content` page.
fn v1_page_with_one_bad_record() -> ResponseTemplate {
    let item = |n: usize| {
        v1_content(
            &page_id(n),
            "page",
            &format!("Page {n}"),
            ("ENG", "Engineering"),
            "current",
            modified_of(n),
            "<p>x</p>",
        )
        .to_string()
    };
    let good: Vec<String> = (1..=3).map(item).collect();
    let bad = item(4).replace("\"Page 4\"", "\"Page \\udc00 4\"");
    let body = format!(
        r#"{{"results": [{}, {bad}], "start": 0, "limit": 50, "size": 4, "_links": {{"base": "https://wiki.acme.com", "context": ""}}}}"#,
        good.join(",")
    );
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_passes_the_conformance_kit() {
    let (server, wiki) = cloud_site().await;
    let listing = Endpoint::new("GET", format!("^{PAGES}$"));
    let download = Endpoint::new("GET", r"^/wiki/download/attachments/100001/diagram\.png$");

    checks::resume_at_every_checkpoint(&wiki, full_window()).await;
    checks::resume_at_every_checkpoint(&wiki, changes_window()).await;
    checks::slim_matches_load(&wiki).await;
    checks::wrong_shape_is_a_decode_error(&wiki, &server, &listing).await;
    let one = v2_page(1, "100", "current", modified_of(1));
    let page = one.clone();
    checks::repeated_cursor_ends_with_an_error(&wiki, &server, &listing, move |_| {
        let next = format!("{PAGES}?cursor=c1&limit=50&sort=id&status=current&body-format=storage");
        ResponseTemplate::new(200)
            .insert_header("Link", format!("<{next}>; rel=\"next\"").as_str())
            .set_body_json(json!({"results": [page.clone()], "_links": {"next": next}}))
    })
    .await;
    checks::endless_cursors_end_with_an_error(&wiki, &server, &listing, move |n| {
        let next =
            format!("{PAGES}?cursor=c{n}x&limit=50&sort=id&status=current&body-format=storage");
        ResponseTemplate::new(200)
            .set_body_json(json!({"results": [one.clone()], "_links": {"next": next}}))
    })
    .await;
    checks::redirect_carries_no_authorization(&wiki, &server, &download, b"\x89PNG diagram").await;
    checks::echoed_credentials_never_show(&wiki, &server, &listing, &[API_TOKEN]).await;
    checks::one_malformed_record_is_one_failure(
        &wiki,
        &server,
        &listing,
        v2_page_with_one_bad_record(),
        3 + BLOG_COUNT,
    )
    .await;
    // Last: a refused day-long Retry-After holds this connector's requests
    // for the longest wait the retry policy allows.
    checks::retry_after_is_honoured(&wiki, &server, &listing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_center_passes_the_conformance_kit() {
    let (server, wiki) = dc_site().await;
    let listing = Endpoint::new("GET", r"^/rest/api/content$");
    let download = Endpoint::new("GET", r"^/download/attachments/100001/diagram\.png$");

    checks::resume_at_every_checkpoint(&wiki, full_window()).await;
    checks::resume_at_every_checkpoint(&wiki, changes_window()).await;
    checks::slim_matches_load(&wiki).await;
    checks::wrong_shape_is_a_decode_error(&wiki, &server, &listing).await;
    // The same page whatever the offset: a server that never moves on.
    let same: Vec<Value> = (1..=50)
        .map(|n| {
            v1_content(
                &page_id(n),
                "page",
                &format!("Page {n}"),
                ("ENG", "Engineering"),
                "current",
                modified_of(n),
                "<p>x</p>",
            )
        })
        .collect();
    checks::offset_without_progress_ends_with_an_error(&wiki, &server, &listing, move |_| {
        ResponseTemplate::new(200).set_body_json(json!({
            "results": same.clone(), "start": 0, "limit": 50, "size": 50,
            "_links": {"base": "https://wiki.acme.com", "context": "",
                       "next": "/rest/api/content?spaceKey=ENG&type=page&limit=50&start=50"}
        }))
    })
    .await;
    checks::redirect_carries_no_authorization(&wiki, &server, &download, b"\x89PNG diagram").await;
    checks::echoed_credentials_never_show(&wiki, &server, &listing, &[PAT]).await;
    checks::one_malformed_record_is_one_failure(
        &wiki,
        &server,
        &listing,
        v1_page_with_one_bad_record(),
        3,
    )
    .await;
    // Last: a refused day-long Retry-After holds this connector's requests
    // for the longest wait the retry policy allows.
    checks::retry_after_is_honoured(&wiki, &server, &listing).await;
}
