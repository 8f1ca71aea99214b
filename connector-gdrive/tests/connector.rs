//! The Google Drive connector against a wiremock Drive API v3 speaking the
//! documented shapes: sign-in (service account JWT bearer grant, user
//! refresh token, a token expiring mid-sync), listing, export, download,
//! permissions, the changes feed across syncs (deletions, trash, a
//! permission-only change), Drive's rate limits, and kill-and-resume.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use base64::Engine as _;
use connector_core::checkpoint::MemoryCheckpointStore;
use connector_core::runner::{SyncMode, SyncRunner};
use connector_core::sink::MemorySink;
use connector_core::{Connector, ErrorKind};
use connector_gdrive::GoogleDriveConnector;
use connector_testing::{drain, full_stream};
use serde_json::json;
use support::*;
use wiremock::matchers::{body_string_contains, header, method, path, path_regex, query_param};
use wiremock::{Mock, Request, ResponseTemplate};

fn connector(config: connector_gdrive::GoogleDriveConfig) -> GoogleDriveConnector {
    GoogleDriveConnector::new(config).unwrap()
}

#[tokio::test]
async fn a_full_sync_exports_docs_downloads_text_and_maps_access() {
    let drive = drive_with(my_drive(6)).await;
    let gd = connector(config(&drive.server));
    let out = drain(full_stream(&gd)).await;
    assert!(out.error.is_none(), "{}", out.shown());
    assert_eq!(out.documents.len(), 6, "{}", out.shown());
    assert!(out.failures.is_empty(), "{:?}", out.failures);

    let doc = out.documents.iter().find(|d| d.id == "1doc0000").unwrap();
    assert_eq!(doc.source, "gdrive");
    assert_eq!(doc.title, "Plan 0");
    assert!(
        doc.sections[0].text.starts_with("# Plan 1doc0000"),
        "{doc:?}"
    );
    assert_eq!(doc.authors, ["ann@acme.com"]);
    assert_eq!(
        doc.metadata["exported_as"],
        connector_core::MetadataValue::from("text/markdown")
    );
    // Inline permissions: no permissions.list call needed.
    let access = doc.access.as_ref().unwrap();
    assert_eq!(access.users, ["ann@acme.com"]);
    assert_eq!(access.groups, ["anyone-with-link"]);
    assert!(!access.public);

    let text = out.documents.iter().find(|d| d.id == "1txt0001").unwrap();
    assert_eq!(text.sections[0].text, "notes of 1txt0001");
    let access = text.access.as_ref().unwrap();
    assert_eq!(access.groups, ["domain:acme.com", "eng@acme.com"]);

    let image = out.documents.iter().find(|d| d.id == "1bin0002").unwrap();
    assert!(image.sections.is_empty());
    assert_eq!(image.attachments[0].name, "image-2.png");
    assert_eq!(image.attachments[0].size, Some(1024));

    // The listing asked only for the mapped fields, across all drives' rules.
    let requests = drive.server.received_requests().await.unwrap();
    let list = requests
        .iter()
        .find(|r| r.url.path() == "/drive/v3/files")
        .unwrap();
    let q: std::collections::HashMap<_, _> = list.url.query_pairs().into_owned().collect();
    assert!(q["fields"].starts_with("nextPageToken,incompleteSearch,files(id,name,mimeType"));
    assert_eq!(q["corpora"], "user");
    assert_eq!(q["supportsAllDrives"], "true");
    assert!(q["q"].contains("trashed = false"), "{}", q["q"]);
    // Downloads and exports ran with the token; permissions only for files without inline ones.
    let permission_calls = requests
        .iter()
        .filter(|r| r.url.path().ends_with("/permissions"))
        .count();
    assert_eq!(permission_calls, 4);
    assert_eq!(
        drive.tokens.load(Ordering::SeqCst),
        1,
        "one token for the whole sync"
    );
}

#[tokio::test]
async fn the_service_account_signs_a_jwt_bearer_assertion_for_the_subject() {
    let drive = drive_with(my_drive(1)).await;
    let gd = connector(config(&drive.server));
    let out = drain(full_stream(&gd)).await;
    assert!(out.error.is_none(), "{}", out.shown());
    let requests = drive.server.received_requests().await.unwrap();
    let token = requests.iter().find(|r| r.url.path() == "/token").unwrap();
    let form: std::collections::HashMap<String, String> =
        url_form(&String::from_utf8_lossy(&token.body));
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let parts: Vec<&str> = form["assertion"].split('.').collect();
    assert_eq!(parts.len(), 3);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], "2f8a3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b");
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["iss"], SA_EMAIL);
    assert_eq!(claims["sub"], SUBJECT);
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/drive.readonly"
    );
    assert_eq!(claims["aud"], format!("{}/token", drive.server.uri()));
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!(exp - iat <= 3600 && exp > iat);
    // Every API request carried the token.
    for r in requests
        .iter()
        .filter(|r| r.url.path().starts_with("/drive/"))
    {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {ACCESS_TOKEN}")
        );
    }
}

/// A `files.list` for documents (not the id listing, which asks for less).
fn is_document_listing(r: &Request) -> bool {
    r.url.path() == "/drive/v3/files"
        && r.url
            .query_pairs()
            .any(|(k, v)| k == "fields" && v.contains("webViewLink"))
}

fn url_form(body: &str) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn a_refused_delegation_is_an_auth_error_that_names_the_fix_and_no_secret() {
    let drive = drive_with(my_drive(1)).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "unauthorized_client",
            "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."
        })))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let out = drain(full_stream(&connector(config(&drive.server)))).await;
    let e = out.error.expect("a refused grant ended the stream");
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(e.to_string().contains("unauthorized_client"), "{e}");
    assert!(e.to_string().contains("delegat"), "{e}");
    assert!(!e.to_string().contains("PRIVATE KEY"), "{e}");
}

#[tokio::test]
async fn a_user_refresh_token_signs_in_with_the_client_in_the_body() {
    let drive = drive_with(my_drive(2)).await;
    let gd = connector(oauth_config(&drive.server));
    let out = drain(full_stream(&gd)).await;
    assert!(out.error.is_none(), "{}", out.shown());
    assert_eq!(out.documents.len(), 2);
    let requests = drive.server.received_requests().await.unwrap();
    let token = requests.iter().find(|r| r.url.path() == "/token").unwrap();
    let form = url_form(&String::from_utf8_lossy(&token.body));
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "1//0g-refresh-s3cret");
    assert_eq!(
        form["client_id"],
        "1234567890-abc.apps.googleusercontent.com"
    );
    assert!(!format!("{gd:?}").contains("s3cret"));
}

#[tokio::test]
async fn a_token_expiring_mid_sync_is_renewed_once_and_the_sync_goes_on() {
    let drive = drive_with(my_drive(6)).await;
    // The first token stops working after the first listing page.
    let first_token_pages = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = first_token_pages.clone();
    Mock::given(method("GET"))
        .and(path("/drive/v3/files"))
        .and(header("authorization", format!("Bearer {ACCESS_TOKEN}").as_str()))
        .and(move |r: &Request| {
            r.url.query_pairs().any(|(k, _)| k == "pageToken") && {
                seen.fetch_add(1, Ordering::SeqCst);
                true
            }
        })
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"")
                .set_body_json(json!({"error": {"code": 401, "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "status": "UNAUTHENTICATED"}})),
        )
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let out = drain(full_stream(&connector(config(&drive.server)))).await;
    assert!(out.error.is_none(), "{}", out.shown());
    assert_eq!(out.documents.len(), 6);
    assert!(first_token_pages.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        drive.tokens.load(Ordering::SeqCst),
        2,
        "one renewal, shared"
    );
}

#[tokio::test]
async fn a_short_lived_token_is_renewed_before_it_expires_mid_sync() {
    let drive = drive_with(my_drive(12)).await;
    // Tokens of two seconds (kept one, half their life); pages of 300 ms.
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(TokenEndpoint {
            calls: drive.tokens.clone(),
            expires_in: 2,
        })
        .with_priority(1)
        .mount(&drive.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/files"))
        .respond_with(FileList {
            files: drive.files.clone(),
            per_page: 2,
            delay: std::time::Duration::from_millis(300),
        })
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let out = drain(full_stream(&connector(config(&drive.server)))).await;
    assert!(out.error.is_none(), "{}", out.shown());
    assert_eq!(out.documents.len(), 12);
    assert!(
        drive.tokens.load(Ordering::SeqCst) >= 2,
        "renewed before expiry"
    );
    let requests = drive.server.received_requests().await.unwrap();
    let tokens: std::collections::BTreeSet<String> = requests
        .iter()
        .filter(|r| r.url.path().starts_with("/drive/"))
        .filter_map(|r| {
            r.headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
        })
        .collect();
    assert!(tokens.len() >= 2, "{tokens:?}");
}

#[tokio::test]
async fn drive_403_rate_limits_and_429s_are_retried_with_backoff() {
    for (status, reason) in [
        (403, "userRateLimitExceeded"),
        (403, "rateLimitExceeded"),
        (429, "rateLimitExceeded"),
    ] {
        let drive = drive_with(my_drive(3)).await;
        let (mock, guard) =
            connector_testing::Endpoint::new("GET", r"^/drive/v3/files$").mock_ahead();
        mock.respond_with(google_error(status, reason, "Rate Limit Exceeded"))
            .up_to_n_times(2)
            .with_priority(1)
            .mount(&drive.server)
            .await;
        let gd = connector(config(&drive.server));
        let out = drain(full_stream(&gd)).await;
        drop(guard);
        assert!(out.error.is_none(), "{status} {reason}: {}", out.shown());
        assert_eq!(out.documents.len(), 3, "{status} {reason}");
        let counters = gd.metrics().unwrap();
        assert!(counters.throttled >= 2, "{status} {reason}: {counters:?}");
        assert!(counters.retries >= 2, "{status} {reason}: {counters:?}");
    }
}

#[tokio::test]
async fn a_403_that_is_a_refusal_is_not_retried() {
    let drive = drive_with(my_drive(3)).await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/files"))
        .respond_with(google_error(
            403,
            "insufficientPermissions",
            "Insufficient Permission: Request had insufficient authentication scopes.",
        ))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let gd = connector(config(&drive.server));
    let out = drain(full_stream(&gd)).await;
    let e = out.error.expect("a refusal ends the stream");
    assert_eq!(e.kind(), ErrorKind::Forbidden, "{e}");
    assert_eq!(gd.metrics().unwrap().retries, 0);
}

#[tokio::test]
async fn an_export_over_10_mb_is_one_failure_with_the_reason() {
    let drive = drive_with(my_drive(4)).await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/files/1doc0000/export"))
        .respond_with(google_error(
            403,
            "exportSizeLimitExceeded",
            "This file is too large to be exported.",
        ))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let out = drain(full_stream(&connector(config(&drive.server)))).await;
    assert!(out.error.is_none(), "{}", out.shown());
    assert_eq!(out.documents.len(), 3);
    assert_eq!(out.failures.len(), 1);
    assert_eq!(out.failures[0].id, "1doc0000");
    assert!(
        out.failures[0].reason.contains("10 MB"),
        "{:?}",
        out.failures
    );
}

#[tokio::test]
async fn sheets_slides_shortcuts_and_forms() {
    let mut shortcut = file("1short", "Plan (shortcut)", SHORTCUT);
    shortcut["shortcutDetails"] = json!({"targetId": "1target", "targetMimeType": DOC});
    let mut to_folder = file("1shortdir", "Team folder", SHORTCUT);
    to_folder["shortcutDetails"] = json!({"targetId": "1dir", "targetMimeType": FOLDER});
    let drive = drive_with(vec![
        file("1sheet", "Budget", SHEET),
        file("1slides", "Deck", SLIDES),
        shortcut,
        to_folder,
        file("1form", "Survey", "application/vnd.google-apps.form"),
    ])
    .await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/files/1target"))
        .respond_with(ResponseTemplate::new(200).set_body_json(file("1target", "Plan", DOC)))
        .mount(&drive.server)
        .await;
    let out = drain(full_stream(&connector(config(&drive.server)))).await;
    assert!(out.error.is_none(), "{}", out.shown());
    let requests = drive.server.received_requests().await.unwrap();
    let export_type = |id: &str| {
        requests
            .iter()
            .find(|r| r.url.path() == format!("/drive/v3/files/{id}/export"))
            .map(|r| {
                r.url
                    .query_pairs()
                    .find(|(k, _)| k == "mimeType")
                    .unwrap()
                    .1
                    .into_owned()
            })
    };
    assert_eq!(export_type("1sheet").as_deref(), Some("text/csv"));
    assert_eq!(export_type("1slides").as_deref(), Some("text/plain"));
    assert_eq!(export_type("1target").as_deref(), Some("text/markdown"));
    assert_eq!(export_type("1form"), None);
    let short = out.documents.iter().find(|d| d.id == "1short").unwrap();
    assert_eq!(short.title, "Plan (shortcut)");
    assert!(short.sections[0].text.contains("1target"));
    assert_eq!(
        short.metadata["shortcut_target"],
        connector_core::MetadataValue::from("1target")
    );
    assert!(out.documents.iter().any(|d| d.id == "1form"));
    assert!(!out.documents.iter().any(|d| d.id == "1shortdir"));
}

#[tokio::test]
async fn the_changes_feed_carries_deletions_trash_and_a_permission_change() {
    let drive = drive_with(my_drive(6)).await;
    let gd = connector(config(&drive.server));
    let store = Arc::new(MemoryCheckpointStore::default());
    let runner = SyncRunner::new("acme-drive", store.clone());
    let mut sink = MemorySink::default();
    let first = runner
        .run(&gd, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(first.documents_processed, 6, "{first:?}");

    // Between the syncs: one file removed, one trashed, one shared with a
    // group (a permission-only change: same modifiedTime), one moved to
    // another owner's drive (out of My Drive).
    let mut shared = drive.files.lock().unwrap()[1].clone();
    let mut trashed = drive.files.lock().unwrap()[2].clone();
    trashed["trashed"] = json!(true);
    let mut given_away = drive.files.lock().unwrap()[4].clone();
    given_away["ownedByMe"] = json!(false);
    shared["permissions"] = json!([owner_permission(), {"kind": "drive#permission", "id": "0987", "type": "user", "emailAddress": "cara@acme.com", "role": "commenter"}]);
    Mock::given(method("GET"))
        .and(path("/drive/v3/changes"))
        .and(query_param("pageToken", START_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#changeList",
            "nextPageToken": "1007",
            "changes": [
                {"kind": "drive#change", "changeType": "file", "time": "2024-03-03T08:00:00.000Z", "removed": true, "fileId": "1doc0000"},
                {"kind": "drive#change", "changeType": "file", "time": "2024-03-03T08:01:00.000Z", "removed": false, "fileId": "1bin0002", "file": trashed}
            ]
        })))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/changes"))
        .and(query_param("pageToken", "1007"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#changeList",
            "newStartPageToken": "1010",
            "changes": [
                {"kind": "drive#change", "changeType": "file", "time": "2024-03-03T08:02:00.000Z", "removed": false, "fileId": "1txt0001", "file": shared},
                {"kind": "drive#change", "changeType": "file", "time": "2024-03-03T08:03:00.000Z", "removed": false, "fileId": "1txt0004", "file": given_away},
                {"kind": "drive#change", "changeType": "drive", "time": "2024-03-03T08:04:00.000Z", "removed": false, "driveId": "0AFxyz", "drive": {"kind": "drive#drive", "id": "0AFxyz", "name": "Ops"}}
            ]
        })))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let mut second_sink = MemorySink::default();
    let second = runner
        .run(&gd, &mut second_sink, SyncMode::Incremental)
        .await
        .unwrap();
    let mut deleted = second_sink.deleted().to_vec();
    deleted.sort();
    assert_eq!(deleted, ["1bin0002", "1doc0000", "1txt0004"], "{second:?}");
    let redone: Vec<&str> = second_sink
        .documents()
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(
        redone,
        ["1txt0001"],
        "only the re-shared file is written again"
    );
    let access = second_sink.documents()[0].access.as_ref().unwrap();
    assert_eq!(access.users, ["ann@acme.com", "cara@acme.com"]);
    // The next sync starts at the new token.
    let third_sink = &mut MemorySink::default();
    runner
        .run(&gd, third_sink, SyncMode::Incremental)
        .await
        .unwrap();
    let requests = drive.server.received_requests().await.unwrap();
    assert!(requests.iter().any(|r| {
        r.url.path() == "/drive/v3/changes"
            && r.url
                .query_pairs()
                .any(|(k, v)| k == "pageToken" && v == "1010")
    }));
    // No document listing after the first sync (its id listing aside).
    let listings = requests.iter().filter(|r| is_document_listing(r)).count();
    assert_eq!(listings, 3, "the first sync's three pages only");
}

#[tokio::test]
async fn killed_mid_sync_a_run_resumes_where_it_stopped() {
    let drive = drive_with(my_drive(10)).await;
    let gd = connector(config(&drive.server));
    let store = Arc::new(MemoryCheckpointStore::default());
    let runner = SyncRunner::new("acme-drive", store.clone());
    // Killed: the third listing page never answers.
    let (mock, guard) = connector_testing::Endpoint::new("GET", r"^/drive/v3/files$").mock_ahead();
    mock.and(query_param("pageToken", "~!!~page4"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let mut sink = MemorySink::default();
    let killed = runner.run(&gd, &mut sink, SyncMode::Incremental).await;
    assert!(killed.is_err(), "the run stopped");
    drop(guard);
    let before: Vec<String> = sink.documents().iter().map(|d| d.id.clone()).collect();
    assert_eq!(before.len(), 4, "{before:?}");
    let mut resumed_sink = MemorySink::default();
    let resumed = runner
        .run(&gd, &mut resumed_sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(resumed.resumed, "{resumed:?}");
    let after: Vec<String> = resumed_sink
        .documents()
        .iter()
        .map(|d| d.id.clone())
        .collect();
    assert_eq!(after.len(), 6, "{after:?}");
    assert!(after.iter().all(|id| !before.contains(id)), "{after:?}");
    // It went on from the stored page token, not from the start.
    let requests = drive.server.received_requests().await.unwrap();
    let firsts = requests
        .iter()
        .filter(|r| is_document_listing(r) && !r.url.query_pairs().any(|(k, _)| k == "pageToken"))
        .count();
    assert_eq!(firsts, 1);
}

#[tokio::test]
async fn shared_drives_by_name_and_folders_walked() {
    let drive = drive_with(Vec::new()).await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/drives"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#driveList",
            "drives": [
                {"kind": "drive#drive", "id": "0AEngDrive", "name": "Engineering"},
                {"kind": "drive#drive", "id": "0AOpsDrive", "name": "Ops"}
            ]
        })))
        .mount(&drive.server)
        .await;
    let mut in_drive = file("1spec", "Spec", DOC);
    in_drive["driveId"] = json!("0AEngDrive");
    in_drive["ownedByMe"] = json!(false);
    Mock::given(method("GET"))
        .and(path("/drive/v3/files"))
        .and(query_param("driveId", "0AEngDrive"))
        .and(query_param("corpora", "drive"))
        .and(query_param("includeItemsFromAllDrives", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#fileList", "incompleteSearch": false, "files": [in_drive]
        })))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    // A folder in My Drive with a subfolder.
    let mut root = file("1root", "Team", FOLDER);
    root["parents"] = json!(["0AJrootFolderUk9PVA"]);
    Mock::given(method("GET"))
        .and(path("/drive/v3/files/1root"))
        .respond_with(ResponseTemplate::new(200).set_body_json(root))
        .mount(&drive.server)
        .await;
    let mut sub = file("1sub", "Notes", FOLDER);
    sub["parents"] = json!(["1root"]);
    let mut a = file("1a", "A", DOC);
    a["parents"] = json!(["1root"]);
    let mut b = blob("1b", "b.txt", "text/plain", 5);
    b["parents"] = json!(["1sub"]);
    for (parent, files) in [("1root", json!([sub, a])), ("1sub", json!([b]))] {
        Mock::given(method("GET"))
            .and(path("/drive/v3/files"))
            .and(query_param(
                "q",
                format!("'{parent}' in parents and trashed = false"),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "kind": "drive#fileList", "incompleteSearch": false, "files": files
            })))
            .with_priority(1)
            .mount(&drive.server)
            .await;
    }
    let mut config = config(&drive.server);
    config.shared_drives = vec!["engineering".into()];
    config.folders = vec!["1root".into()];
    let gd = connector(config);
    let out = drain(full_stream(&gd)).await;
    assert!(out.error.is_none(), "{}", out.shown());
    let mut ids = out.ids();
    ids.sort();
    assert_eq!(ids, ["1a", "1b", "1spec"]);
    // Changes of the shared drive are read from its own feed.
    let requests = drive.server.received_requests().await.unwrap();
    assert!(requests.iter().any(|r| {
        r.url.path() == "/drive/v3/changes/startPageToken"
            && r.url
                .query_pairs()
                .any(|(k, v)| k == "driveId" && v == "0AEngDrive")
    }));
    let options = gd.validate().await.unwrap();
    assert_eq!(options.get("shared_drives").len(), 2);
    assert_eq!(options.get("scopes").len(), 2);

    let mut missing = super_config(&drive.server);
    missing.shared_drives = vec!["Finance".into()];
    let e = drain(full_stream(&connector(missing))).await.error.unwrap();
    assert!(e.to_string().contains("Finance"), "{e}");
}

fn super_config(server: &wiremock::MockServer) -> connector_gdrive::GoogleDriveConfig {
    config(server)
}

#[tokio::test]
async fn hostile_payloads_fail_loudly_and_keep_secrets() {
    let drive = drive_with(my_drive(3)).await;
    // A changes answer with neither token is not "the end".
    Mock::given(method("GET"))
        .and(path("/drive/v3/changes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#changeList", "changes": []
        })))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let out = drain(full_stream(&connector(config(&drive.server)))).await;
    let e = out.error.expect("a feed without tokens ended cleanly");
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(e.to_string().contains("newStartPageToken"), "{e}");

    // A huge text file is refused by size, not read.
    let drive = drive_with(vec![blob("1huge", "huge.txt", "text/plain", 50 << 20)]).await;
    let out = drain(full_stream(&connector(config(&drive.server)))).await;
    assert_eq!(out.failures.len(), 1, "{}", out.shown());
    assert!(out.failures[0].reason.contains("max_text_bytes"));
    // A body larger than it said is cut at the cap.
    let drive = drive_with(vec![blob("1liar", "liar.txt", "text/plain", 5)]).await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/drive/v3/files/1liar$"))
        .and(query_param("alt", "media"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 2 << 20]))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let mut small = config(&drive.server);
    small.max_text_bytes = 1 << 20;
    let out = drain(full_stream(&connector(small))).await;
    assert_eq!(out.failures.len(), 1, "{}", out.shown());

    // A malformed permission fails its file, not the sync.
    let drive = drive_with(my_drive(3)).await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/files/1txt0001/permissions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#permissionList",
            "permissions": [{"id": "1", "emailAddress": "x@acme.com"}]
        })))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let out = drain(full_stream(&connector(config(&drive.server)))).await;
    assert!(out.error.is_none(), "{}", out.shown());
    assert_eq!(out.failures.len(), 1);
    assert_eq!(out.failures[0].id, "1txt0001");

    // A bad body echoing the refresh token never shows it.
    let drive = drive_with(my_drive(1)).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "Token 1//0g-refresh-s3cret has been expired or revoked."
        })))
        .with_priority(1)
        .mount(&drive.server)
        .await;
    let out = drain(full_stream(&connector(oauth_config(&drive.server)))).await;
    let e = out.error.unwrap();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!format!("{e} {e:?}").contains("s3cret"), "{e}");
}
