//! The conformance kit against a ServiceNow stand-in serving the Table API's
//! documented shapes (knowledge articles, incidents with their journal).
//!
//! Not applicable: `offset_without_progress_ends_with_an_error` (the record
//! listing is keyset-paged; the offset sub-listings of one record, its
//! journal and attachments, fail that document, not the stream).

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use connector_core::TimeWindow;
use connector_servicenow::ServiceNowConnector;
use connector_testing::{Endpoint, checks};
use serde_json::json;
use support::standin::{at, sys_id};
use support::*;
use wiremock::ResponseTemplate;

fn window() -> TimeWindow {
    TimeWindow::until(chrono::Utc::now())
}

/// A knowledge article as the Table API returns it (`display_value=false`).
fn article(n: usize) -> serde_json::Value {
    json!({
        "sys_id": kb_id(n),
        "number": format!("KB{n:07}"),
        "short_description": format!("Article {n}"),
        "text": "<p>Body</p>",
        "workflow_state": "published",
        "valid_to": "",
        "sys_created_on": at(0),
        "sys_updated_on": at(n as i64),
        "kb_knowledge_base": sys_id(0xa00),
        "kb_knowledge_base.title": "IT"
    })
}

/// A page of three good articles and one whose title holds a lone
/// surrogate (invalid JSON text, fatal to a whole-page decode).
fn page_with_one_bad_record() -> ResponseTemplate {
    let good: Vec<String> = (1..=3).map(|n| article(n).to_string()).collect();
    let bad = article(4)
        .to_string()
        .replace("Article 4", "Article \\udc00 4");
    let body = format!(r#"{{"result": [{}, {bad}]}}"#, good.join(","));
    ResponseTemplate::new(200)
        .insert_header("X-Total-Count", "4")
        .set_body_raw(body, "application/json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servicenow_passes_the_conformance_kit() {
    let (server, _) = serve(instance(7, 5, 0)).await;
    let servicenow = connector(&server, &["kb_knowledge", "incident"], 3);
    let listing = Endpoint::new("GET", r"^/api/now/table/(kb_knowledge|incident)$");

    checks::resume_at_every_checkpoint(&servicenow, window()).await;
    checks::slim_matches_load(&servicenow).await;
    checks::wrong_shape_is_a_decode_error(&servicenow, &server, &listing).await;
    // The same full page whatever is asked: the keyset cursor after it is
    // the one just used.
    let same = json!({"result": [article(1), article(2), article(3)]});
    let page = same.clone();
    checks::repeated_cursor_ends_with_an_error(&servicenow, &server, &listing, move |_| {
        ResponseTemplate::new(200)
            .insert_header("X-Total-Count", "1000000")
            .set_body_json(page.clone())
    })
    .await;
    // Ever larger totals and a `Link` to a next page, over the same records.
    checks::endless_cursors_end_with_an_error(&servicenow, &server, &listing, move |n| {
        ResponseTemplate::new(200)
            .insert_header("X-Total-Count", (1_000_000 + n).to_string().as_str())
            .insert_header(
                "Link",
                format!(
                    "<https://acme.service-now.com/api/now/table/kb_knowledge?sysparm_offset={}&sysparm_limit=3>;rel=\"next\"",
                    3 * (n + 1)
                )
                .as_str(),
            )
            .set_body_json(same.clone())
    })
    .await;
    // Attachment bytes on: a download redirected to another host (a
    // storage front) goes there without the credentials.
    let with_files = ServiceNowConnector::new(
        config(&server, &["kb_knowledge", "incident"], 3)
            .attachments(true)
            .options(options().with_attachment_bytes(1 << 20)),
    )
    .unwrap();
    let file = Endpoint::new("GET", r"^/api/now/attachment/[0-9a-f]{32}/file$");
    checks::redirect_carries_no_authorization(&with_files, &server, &file, b"notes").await;
    checks::echoed_credentials_never_show(&servicenow, &server, &listing, &[PASSWORD]).await;
    // Pages larger than the four records, so the page is the last.
    let large_pages = connector(&server, &["kb_knowledge", "incident"], 500);
    checks::one_malformed_record_is_one_failure(
        &large_pages,
        &server,
        &Endpoint::new("GET", r"^/api/now/table/kb_knowledge$"),
        page_with_one_bad_record(),
        3 + 5,
    )
    .await;
    // Last: a refused day-long Retry-After holds this connector's requests
    // for the longest wait the retry policy allows.
    checks::retry_after_is_honoured(&servicenow, &server, &listing).await;
}
