//! The SDK's conformance checks against the SharePoint connector, on a
//! wiremock Microsoft Graph speaking the documented v1.0 shapes, plus the
//! Graph-specific hostile answers the checks do not cover.
//!
//! Not applicable: `offset_without_progress_ends_with_an_error` (Graph
//! pages by `@odata.nextLink` only, never by offset).

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use std::time::Duration;

use chrono::Utc;
use connector_core::options::{RetryPolicy, SourceOptions};
use connector_core::{CheckpointedConnector, Connector, ErrorKind, TimeWindow};
use connector_sharepoint::{SharePointConfig, SharePointConnector};
use connector_testing::{Endpoint, checks, drain, full_stream};
use serde_json::json;
use support::*;
use wiremock::{MockServer, ResponseTemplate};

/// Quick retries: the checks answer 500s and 429s on purpose.
fn options() -> SourceOptions {
    SourceOptions::default().with_rate(1000.0).with_retry(
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_delays(Duration::from_millis(10), Duration::from_millis(50)),
    )
}

fn config(server: &MockServer) -> SharePointConfig {
    SharePointConfig::new(TENANT)
        // Listing and change tests; extraction has its own test.
        .extract(false)
        .site(SITE_URL)
        .graph_url(graph(server))
        .login_url(server.uri())
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .options(options())
}

fn connector(config: SharePointConfig) -> SharePointConnector {
    SharePointConnector::new(config).unwrap()
}

fn delta() -> Endpoint {
    Endpoint::new("GET", id_path("drives/", DOCS, "/root/delta"))
}

fn drives() -> Endpoint {
    Endpoint::new("GET", id_path("sites/", SITE_ID, "/drives"))
}

fn pages() -> Endpoint {
    Endpoint::new(
        "GET",
        id_path("sites/", SITE_ID, "/pages/microsoft.graph.sitePage"),
    )
}

fn permissions() -> Endpoint {
    Endpoint::new("GET", r"^/v1\.0/drives/[^/]+/items/[^/]+/permissions$")
}

fn content() -> Endpoint {
    Endpoint::new("GET", r"^/v1\.0/drives/[^/]+/items/[^/]+/content$")
}

/// A non-text file (no download) for hostile delta pages.
fn plain_file(id: &str) -> serde_json::Value {
    file(
        DOCS,
        id,
        "loop.bin",
        ROOT_ID,
        "/loop.bin",
        "application/octet-stream",
        10,
        1,
    )
}

#[tokio::test]
async fn resume_at_every_checkpoint_neither_loses_nor_repeats() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server));
    checks::resume_at_every_checkpoint(&sp, TimeWindow::until(Utc::now())).await;
}

#[tokio::test]
async fn slim_ids_are_the_loaded_ids() {
    let g = graph_server(3).await;
    checks::slim_matches_load(&connector(config(&g.server))).await;
}

#[tokio::test]
async fn a_wrong_shape_is_a_decode_error_never_an_empty_source() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server));
    for endpoint in [delta(), drives(), pages()] {
        checks::wrong_shape_is_a_decode_error(&sp, &g.server, &endpoint).await;
    }
}

#[tokio::test]
async fn a_delta_answer_without_its_links_is_a_decode_error_naming_the_request() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server));
    // `value` without @odata.nextLink or @odata.deltaLink: not "the last page".
    let _guard = delta()
        .mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(driveItem)",
            "value": [root(DOCS), plain_file("01ONLY")]
        })))
        .with_priority(1)
        .mount_as_scoped(&g.server)
        .await;
    let out = drain(full_stream(&sp)).await;
    let err = out
        .error
        .expect("a page without links ended the stream cleanly");
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(
        err.to_string()
            .contains("neither @odata.nextLink nor @odata.deltaLink"),
        "{err}"
    );
    assert!(
        err.request().unwrap().contains("/root/delta"),
        "names the request: {err}"
    );
    // No checkpoint claims the library as read.
    for (_, cp) in &out.checkpoints {
        assert!(cp.0["delta_links"].get(DOCS).is_none(), "{:?}", cp.0);
    }
}

#[tokio::test]
async fn a_repeated_next_link_ends_with_an_error() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server));
    let graph_url = graph(&g.server);
    checks::repeated_cursor_ends_with_an_error(&sp, &g.server, &delta(), {
        let graph = graph_url.clone();
        move |n| {
            ResponseTemplate::new(200).set_body_json(json!({
                "value": [plain_file(&format!("01LOOP{n}"))],
                "@odata.nextLink": format!("{graph}/drives/{DOCS}/root/delta?token=same")
            }))
        }
    })
    .await;
    checks::repeated_cursor_ends_with_an_error(&sp, &g.server, &drives(), {
        let graph = graph_url.clone();
        move |n| {
            ResponseTemplate::new(200).set_body_json(json!({
                "value": [{"id": format!("b!drive{n}"), "name": format!("Library {n}")}],
                "@odata.nextLink": format!("{graph}/sites/{SITE_ID}/drives?$skiptoken=same")
            }))
        }
    })
    .await;
}

#[tokio::test]
async fn endless_fresh_next_links_end_with_an_error() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server));
    let graph_url = graph(&g.server);
    checks::endless_cursors_end_with_an_error(&sp, &g.server, &delta(), {
        let graph = graph_url.clone();
        move |n| {
            ResponseTemplate::new(200).set_body_json(json!({
                "value": [plain_file("01SAME")],
                "@odata.nextLink": format!("{graph}/drives/{DOCS}/root/delta?token=fresh-{n}")
            }))
        }
    })
    .await;
    checks::endless_cursors_end_with_an_error(&sp, &g.server, &pages(), {
        let graph = graph_url.clone();
        move |n| {
            ResponseTemplate::new(200).set_body_json(json!({
                "value": [site_page()],
                "@odata.nextLink": format!("{graph}/sites/{SITE_ID}/pages/microsoft.graph.sitePage?$skiptoken={n}")
            }))
        }
    })
    .await;
}

#[tokio::test]
async fn retry_after_is_honoured_or_refused_with_a_message() {
    let g = graph_server(200).await;
    let sp = connector(config(&g.server));
    checks::retry_after_is_honoured(&sp, &g.server, &delta()).await;
}

#[tokio::test]
async fn a_download_redirected_elsewhere_carries_no_token() {
    let g = graph_server(200).await;
    let sp = connector(config(&g.server).include_pages(false));
    checks::redirect_carries_no_authorization(&sp, &g.server, &content(), b"plain text").await;
}

#[tokio::test]
async fn an_echoed_bearer_token_never_shows() {
    let g = graph_server(200).await;
    let sp = connector(config(&g.server));
    for endpoint in [delta(), drives(), pages()] {
        checks::echoed_credentials_never_show(&sp, &g.server, &endpoint, &[ACCESS_TOKEN]).await;
    }
    // Permission reads fail one file each; their reasons never hold the token.
    mount_permissions(&g.server).await;
    let with_access = connector(config(&g.server).permissions(true));
    checks::echoed_credentials_never_show(&with_access, &g.server, &permissions(), &[ACCESS_TOKEN])
        .await;
}

#[tokio::test]
async fn one_malformed_record_is_one_failure() {
    let g = graph_server(200).await;
    let sp = connector(config(&g.server).include_pages(false));
    let mut bad = plain_file("01BAD");
    bad["size"] = json!("very big");
    let page = ResponseTemplate::new(200).set_body_json(json!({
        "value": [root(DOCS), plain_file("01GOOD1"), bad, plain_file("01GOOD2")],
        "@odata.deltaLink": format!("{}/drives/{DOCS}/root/delta?token=delta-1", graph(&g.server))
    }));
    // Two good files here, travel.pdf in the other library.
    checks::one_malformed_record_is_one_failure(&sp, &g.server, &delta(), page, 3).await;
}

#[tokio::test]
async fn records_that_break_the_parser_are_one_failure_each() {
    let g = graph_server(200).await;
    let sp = connector(config(&g.server).include_pages(false));
    let nested = format!("{}1{}", "[".repeat(300), "]".repeat(300));
    let body = format!(
        r#"{{"value": [
            {{"id": "01ROOTAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "root": {{}}, "folder": {{}}}},
            {{"id": "01SURROGATE", "name": "bad \ud800 name", "file": {{}}}},
            {{"id": "01DEEP", "name": "deep.bin", "file": {{}}, "root": {nested}}},
            {good},
            {{"id": "01RAW", "name": "raw-\xFF-bytes.bin", "file": {{}}, "parentReference": {{"id": "01ROOTAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}}}
        ],
        "@odata.deltaLink": "{graph}/drives/{DOCS}/root/delta?token=delta-1"}}"#,
        good = plain_file("01GOOD"),
        graph = graph(&g.server),
    );
    // Invalid UTF-8 in the raw bytes too (the `\xFF` above is text; make it a byte).
    let bytes = body.replace(r"\xFF", "\u{0}").into_bytes();
    let bytes: Vec<u8> = bytes
        .into_iter()
        .map(|b| if b == 0 { 0xFF } else { b })
        .collect();
    let _guard = delta()
        .mock()
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/json")
                .set_body_bytes(bytes),
        )
        .with_priority(1)
        .mount_as_scoped(&g.server)
        .await;
    let out = drain(sp.resume(TimeWindow::until(Utc::now()), None)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let failed: Vec<&str> = out.failures.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        failed,
        [
            format!("drives/{DOCS}/items/01SURROGATE"),
            format!("drives/{DOCS}/items/01DEEP")
        ]
    );
    let mut titles: Vec<&str> = out.documents.iter().map(|d| d.title.as_str()).collect();
    titles.sort_unstable();
    // The invalid byte reads as U+FFFD; the record is not lost.
    assert_eq!(titles, ["loop.bin", "raw-\u{FFFD}-bytes.bin", "travel.pdf"]);
}

/// Every permission read answers an empty list.
async fn mount_permissions(server: &MockServer) {
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/v1\.0/drives/[^/]+/items/[^/]+/permissions$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_token_endpoint_echoing_the_secret_never_shows_it() {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_client",
            "error_description": format!("AADSTS7000215: Invalid client secret provided: {CLIENT_SECRET}"),
        })))
        .mount(&server)
        .await;
    let sp = connector(config(&server));
    let err = sp.validate().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let out = drain(full_stream(&sp)).await;
    let shown = format!("{err} {err:?} {}", out.shown());
    assert!(shown.contains("AADSTS7000215"), "{shown}");
    assert!(!shown.contains(CLIENT_SECRET), "{shown}");
}

#[tokio::test]
async fn a_hostile_id_stays_one_path_segment() {
    let g = graph_server(200).await;
    let sp = connector(config(&g.server).include_pages(false));
    // An item id that would climb out of the drive, as a file to download.
    let hostile = "../../../../sites?search=*&x=";
    let mut item = file(
        DOCS,
        hostile,
        "climb.txt",
        ROOT_ID,
        "/climb.txt",
        "text/plain",
        5,
        1,
    );
    item["parentReference"]["id"] = json!("../../me");
    let _guard = delta()
        .mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [root(DOCS), item],
            "@odata.deltaLink": format!("{}/drives/{DOCS}/root/delta?token=delta-1", graph(&g.server))
        })))
        .with_priority(1)
        .mount_as_scoped(&g.server)
        .await;
    let out = drain(sp.resume(TimeWindow::until(Utc::now()), None)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let requests = g.server.received_requests().await.unwrap();
    for r in &requests {
        let path = r.url.path();
        assert!(
            !path.contains("/../") && !path.ends_with("/sites") && !path.contains("/me"),
            "an id left its path segment: {path}"
        );
    }
    let encoded = connector_core::url::segment(hostile).unwrap();
    assert!(
        requests
            .iter()
            .any(|r| r.url.path().ends_with(&format!("/items/{encoded}/content"))),
        "the id was sent encoded"
    );
}
