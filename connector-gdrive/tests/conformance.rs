//! The SDK's conformance checks against the Google Drive connector, on a
//! wiremock Drive API v3 speaking the documented shapes.
//!
//! Not applicable: `offset_without_progress_ends_with_an_error` (Drive
//! pages by `nextPageToken` only, never by offset).

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use chrono::Utc;
use connector_core::TimeWindow;
use connector_gdrive::GoogleDriveConnector;
use connector_testing::{Endpoint, checks};
use serde_json::json;
use support::*;
use wiremock::ResponseTemplate;

fn files() -> Endpoint {
    Endpoint::new("GET", r"^/drive/v3/files$")
}

fn changes() -> Endpoint {
    Endpoint::new("GET", r"^/drive/v3/changes$")
}

fn start_token() -> Endpoint {
    Endpoint::new("GET", r"^/drive/v3/changes/startPageToken$")
}

fn download() -> Endpoint {
    Endpoint::new("GET", r"^/drive/v3/files/1txt[^/]+$")
}

async fn drive_and_connector(n: usize) -> (Drive, GoogleDriveConnector) {
    let drive = drive_with(my_drive(n)).await;
    let gd = GoogleDriveConnector::new(config(&drive.server)).unwrap();
    (drive, gd)
}

#[tokio::test]
async fn resume_at_every_checkpoint_neither_loses_nor_repeats() {
    let (_drive, gd) = drive_and_connector(7).await;
    checks::resume_at_every_checkpoint(&gd, TimeWindow::until(Utc::now())).await;
}

#[tokio::test]
async fn slim_ids_are_the_loaded_ids() {
    let (_drive, gd) = drive_and_connector(7).await;
    checks::slim_matches_load(&gd).await;
}

#[tokio::test]
async fn a_wrong_shape_is_a_decode_error_never_an_empty_source() {
    let (drive, gd) = drive_and_connector(3).await;
    for endpoint in [files(), changes(), start_token()] {
        checks::wrong_shape_is_a_decode_error(&gd, &drive.server, &endpoint).await;
    }
}

#[tokio::test]
async fn a_repeated_page_token_ends_with_an_error() {
    let (drive, gd) = drive_and_connector(3).await;
    checks::repeated_cursor_ends_with_an_error(&gd, &drive.server, &files(), |n| {
        ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#fileList",
            "nextPageToken": "~!!~same",
            "files": [blob(&format!("1loop{n}"), "loop.bin", "application/octet-stream", 1)]
        }))
    })
    .await;
}

#[tokio::test]
async fn endless_fresh_page_tokens_end_with_an_error() {
    let (drive, gd) = drive_and_connector(3).await;
    checks::endless_cursors_end_with_an_error(&gd, &drive.server, &files(), |n| {
        ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#fileList",
            "nextPageToken": format!("~!!~fresh{n}"),
            "files": [blob("1same", "same.bin", "application/octet-stream", 1)]
        }))
    })
    .await;
}

#[tokio::test]
async fn endless_change_pages_end_with_an_error() {
    let (drive, gd) = drive_and_connector(1).await;
    checks::endless_cursors_end_with_an_error(&gd, &drive.server, &changes(), |n| {
        ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#changeList",
            "nextPageToken": format!("{}", 2000 + n),
            "changes": [{"kind": "drive#change", "changeType": "file", "removed": true, "fileId": "1same"}]
        }))
    })
    .await;
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (drive, gd) = drive_and_connector(3).await;
    checks::retry_after_is_honoured(&gd, &drive.server, &files()).await;
}

#[tokio::test]
async fn a_redirected_download_carries_no_authorization() {
    let (drive, gd) = drive_and_connector(3).await;
    checks::redirect_carries_no_authorization(&gd, &drive.server, &download(), b"notes").await;
}

#[tokio::test]
async fn echoed_credentials_never_show() {
    let (drive, gd) = drive_and_connector(3).await;
    for endpoint in [files(), changes()] {
        checks::echoed_credentials_never_show(&gd, &drive.server, &endpoint, &[ACCESS_TOKEN]).await;
    }
}

#[tokio::test]
async fn one_malformed_file_is_one_failure() {
    let (drive, gd) = drive_and_connector(3).await;
    let page = ResponseTemplate::new(200).set_body_json(json!({
        "kind": "drive#fileList",
        "files": [
            blob("1ok1", "a.bin", "application/octet-stream", 1),
            {"kind": "drive#file", "id": "1bad", "name": "bad", "modifiedTime": "yesterday"},
            blob("1ok2", "b.bin", "application/octet-stream", 1)
        ]
    }));
    checks::one_malformed_record_is_one_failure(&gd, &drive.server, &files(), page, 2).await;
}
