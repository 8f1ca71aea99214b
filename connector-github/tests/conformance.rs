//! The conformance kit against a GitHub stand-in serving the REST API's
//! documented shapes (repositories, issues and pull requests, comments),
//! paged by `Link` headers.
//!
//! Not applicable: `offset_without_progress_ends_with_an_error` (the
//! issues listing is keyset-paged on `since`), `redirect_carries_no_authorization`
//! (no downloads: every request goes to the API's origin).

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use connector_core::TimeWindow;
use connector_testing::{Endpoint, checks};
use serde_json::json;
use support::standin::{TOKEN, at, org, user};
use support::*;
use wiremock::ResponseTemplate;

fn window() -> TimeWindow {
    TimeWindow::until(chrono::Utc::now())
}

/// An issue as the issues listing returns it.
fn issue(n: u64) -> serde_json::Value {
    json!({
        "id": 1_000_000 + n, "node_id": "MDU6SXNzdWUx",
        "url": format!("https://api.github.com/repos/acme/repo-0/issues/{n}"),
        "html_url": format!("https://github.com/acme/repo-0/issues/{n}"),
        "number": n, "state": "open", "title": format!("Issue {n}"), "body": "Body",
        "user": user("octocat"), "labels": [], "assignee": null, "assignees": [],
        "milestone": null, "locked": false, "comments": 0,
        "created_at": "2024-03-01T09:00:00Z",
        "updated_at": at(n as i64).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "closed_at": null, "author_association": "OWNER"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_passes_the_conformance_kit() {
    // Pages of three: every repository's listing runs over several.
    let mut db = org(2, 7);
    db.max_per_page = 3;
    // Documentation files in one repository: more than one batch, so a
    // checkpoint falls inside them.
    let pages: Vec<(String, String)> = (0..60)
        .map(|n| (format!("docs/p{n:02}.md"), format!("Page {n}")))
        .collect();
    let tree: Vec<(&str, &str)> = pages
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    db.repos[1].commit(at(5), &tree);
    let (server, _) = serve(db).await;
    let github = connector(&server);
    let listing = Endpoint::new("GET", r"^/repos/acme/repo-[0-9]+/issues$");

    checks::resume_at_every_checkpoint(&github, window()).await;
    checks::slim_matches_load(&github).await;
    checks::wrong_shape_of_a_bare_array_is_a_decode_error(&github, &server, &listing).await;
    // The same full page whatever is asked, with a next page named.
    let same = json!([issue(1), issue(2), issue(3)]);
    let page = same.clone();
    let link = format!(
        "<{}/repositories/1/issues?page=2>; rel=\"next\"",
        server.uri()
    );
    let next = link.clone();
    checks::repeated_cursor_ends_with_an_error(&github, &server, &listing, move |_| {
        ResponseTemplate::new(200)
            .insert_header("link", next.as_str())
            .set_body_json(page.clone())
    })
    .await;
    checks::endless_cursors_end_with_an_error(&github, &server, &listing, move |n| {
        ResponseTemplate::new(200)
            .insert_header(
                "link",
                format!(
                    "<{}/repositories/1/issues?page={}>; rel=\"next\"",
                    "https://api.github.com",
                    n + 2
                )
                .as_str(),
            )
            .set_body_json(same.clone())
    })
    .await;
    checks::echoed_credentials_never_show(&github, &server, &listing, &[TOKEN]).await;
    let good: Vec<String> = (1..=3).map(|n| issue(n).to_string()).collect();
    let bad = issue(4).to_string().replace("Issue 4", "Issue \\udc00 4");
    let body = format!("[{}, {bad}]", good.join(","));
    checks::one_malformed_record_is_one_failure(
        &github,
        &server,
        &Endpoint::new("GET", r"^/repos/acme/repo-0/issues$"),
        ResponseTemplate::new(200).set_body_raw(body, "application/json"),
        3 + 7 + 60,
    )
    .await;
    // Last: a refused day-long Retry-After holds this connector's requests
    // for the longest wait the retry policy allows.
    checks::retry_after_is_honoured(&github, &server, &listing).await;
}
