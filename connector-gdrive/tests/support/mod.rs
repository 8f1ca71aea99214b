//! A wiremock Drive API v3 and token endpoint answering with the shapes
//! Google documents: `drive#fileList`, `drive#changeList`,
//! `drive#startPageToken`, `drive#permissionList`, `drive#driveList`,
//! OAuth token responses and Google error bodies.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connector_core::options::{RetryPolicy, SourceOptions};
use connector_gdrive::{GoogleCredentials, GoogleDriveConfig, ServiceAccount, UserOAuth};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const KEY_PEM: &str = include_str!("../../../connector-core/tests/fixtures/test-rsa-key.pem");
pub const SA_EMAIL: &str = "sync@acme-project.iam.gserviceaccount.com";
pub const SUBJECT: &str = "admin@acme.com";
pub const ACCESS_TOKEN: &str = "ya29.a0AfB_byC-test-access-token";
pub const DOC: &str = "application/vnd.google-apps.document";
pub const SHEET: &str = "application/vnd.google-apps.spreadsheet";
pub const SLIDES: &str = "application/vnd.google-apps.presentation";
pub const FOLDER: &str = "application/vnd.google-apps.folder";
pub const SHORTCUT: &str = "application/vnd.google-apps.shortcut";
pub const START_TOKEN: &str = "1000";

/// Quick retries: tests answer 429s and 403 rate limits on purpose.
pub fn options() -> SourceOptions {
    SourceOptions::default().with_rate(1000.0).with_retry(
        RetryPolicy::default()
            .with_max_attempts(4)
            .with_delays(Duration::from_millis(5), Duration::from_millis(20)),
    )
}

/// A service account key file as the Cloud console issues it.
pub fn key_file(token_uri: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": "acme-project",
        "private_key_id": "2f8a3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
        "private_key": KEY_PEM,
        "client_email": SA_EMAIL,
        "client_id": "104857600000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/sync%40acme-project.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com"
    })
    .to_string()
}

/// A configuration for `server`, signing in with a service account.
pub fn config(server: &MockServer) -> GoogleDriveConfig {
    let mut config = GoogleDriveConfig::new(GoogleCredentials::ServiceAccount(
        ServiceAccount::from_json(
            key_file(&format!("{}/token", server.uri())),
            Some(SUBJECT.into()),
        ),
    ));
    config.api_url = format!("{}/drive/v3", server.uri());
    config.extract = false;
    config.options = options();
    config
}

/// The same with a user's refresh token.
pub fn oauth_config(server: &MockServer) -> GoogleDriveConfig {
    let mut config = GoogleDriveConfig::new(GoogleCredentials::Oauth(UserOAuth::new(
        "1234567890-abc.apps.googleusercontent.com",
        "GOCSPX-client-s3cret",
        "1//0g-refresh-s3cret",
    )));
    config.api_url = format!("{}/drive/v3", server.uri());
    config.token_url = Some(format!("{}/token", server.uri()));
    config.extract = false;
    config.options = options();
    config
}

/// A file resource with the fields the connector asks for.
pub fn file(id: &str, name: &str, mime: &str) -> Value {
    json!({
        "kind": "drive#file",
        "id": id,
        "name": name,
        "mimeType": mime,
        "parents": ["0AJrootFolderUk9PVA"],
        "webViewLink": format!("https://docs.google.com/document/d/{id}/edit?usp=drivesdk"),
        "createdTime": "2024-03-01T09:00:00.000Z",
        "modifiedTime": "2024-03-02T10:30:00.000Z",
        "trashed": false,
        "ownedByMe": true,
        "owners": [{"kind": "drive#user", "displayName": "Ann Lee", "emailAddress": "ann@acme.com", "me": true}],
        "lastModifyingUser": {"kind": "drive#user", "displayName": "Bob Ray", "emailAddress": "bob@acme.com"}
    })
}

/// A binary file (`size` is an int64 string).
pub fn blob(id: &str, name: &str, mime: &str, size: u64) -> Value {
    let mut f = file(id, name, mime);
    f["size"] = json!(size.to_string());
    f
}

/// The inline permissions Drive adds for files the user may share.
pub fn with_permissions(mut f: Value, perms: Value) -> Value {
    f["permissions"] = perms;
    f
}

pub fn owner_permission() -> Value {
    json!({"kind": "drive#permission", "id": "06152787208473092474", "type": "user", "emailAddress": "ann@acme.com", "role": "owner"})
}

/// The files of a My Drive of `n` files: Docs (with inline permissions),
/// text files (permissions listed) and binaries, in turn.
pub fn my_drive(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| match i % 3 {
            0 => with_permissions(
                file(&format!("1doc{i:04}"), &format!("Plan {i}"), DOC),
                json!([owner_permission(), {"kind": "drive#permission", "id": "anyoneWithLink", "type": "anyone", "role": "reader", "allowFileDiscovery": false}]),
            ),
            1 => blob(&format!("1txt{i:04}"), &format!("notes-{i}.txt"), "text/plain", 20),
            _ => blob(
                &format!("1bin{i:04}"),
                &format!("image-{i}.png"),
                "image/png",
                1024,
            ),
        })
        .collect()
}

/// Serves `files` two per page, `nextPageToken` as Drive makes them.
pub struct FileList {
    pub files: Arc<Mutex<Vec<Value>>>,
    pub per_page: usize,
    pub delay: Duration,
}

impl Respond for FileList {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let start: usize = query
            .get("pageToken")
            .and_then(|t| t.strip_prefix("~!!~page"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let files = self.files.lock().unwrap();
        let end = (start + self.per_page).min(files.len());
        let mut body = json!({
            "kind": "drive#fileList",
            "incompleteSearch": false,
            "files": files[start..end].to_vec()
        });
        if end < files.len() {
            body["nextPageToken"] = json!(format!("~!!~page{end}"));
        }
        ResponseTemplate::new(200)
            .set_delay(self.delay)
            .set_body_json(body)
    }
}

/// Counts token requests and answers a fresh token each time.
pub struct TokenEndpoint {
    pub calls: Arc<AtomicUsize>,
    pub expires_in: u64,
}

impl Respond for TokenEndpoint {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let token = if n == 0 {
            ACCESS_TOKEN.to_owned()
        } else {
            format!("{ACCESS_TOKEN}-{n}")
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token,
            "expires_in": self.expires_in,
            "token_type": "Bearer"
        }))
    }
}

/// A running fake Drive.
pub struct Drive {
    pub server: MockServer,
    pub files: Arc<Mutex<Vec<Value>>>,
    pub tokens: Arc<AtomicUsize>,
}

/// A fake Drive holding `files` in My Drive, with every endpoint the
/// connector calls.
pub async fn drive_with(files: Vec<Value>) -> Drive {
    let server = MockServer::start().await;
    let files = Arc::new(Mutex::new(files));
    let tokens = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(TokenEndpoint {
            calls: tokens.clone(),
            expires_in: 3599,
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/changes/startPageToken"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"kind": "drive#startPageToken", "startPageToken": START_TOKEN}),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/changes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#changeList",
            "newStartPageToken": START_TOKEN,
            "changes": []
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/drive/v3/files"))
        .respond_with(FileList {
            files: files.clone(),
            per_page: 2,
            delay: Duration::ZERO,
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/drive/v3/files/[^/]+/export$"))
        .respond_with(|request: &Request| {
            let id = request
                .url
                .path_segments()
                .unwrap()
                .nth(3)
                .unwrap()
                .to_owned();
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/markdown")
                .set_body_string(format!("# Plan {id}\n\n- ship it\n- measure it\n"))
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/drive/v3/files/[^/]+$"))
        .and(query_param("alt", "media"))
        .respond_with(|request: &Request| {
            let id = request
                .url
                .path_segments()
                .unwrap()
                .nth(3)
                .unwrap()
                .to_owned();
            ResponseTemplate::new(200).set_body_string(format!("notes of {id}"))
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/drive/v3/files/[^/]+/permissions$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "drive#permissionList",
            "permissions": [
                owner_permission(),
                {"kind": "drive#permission", "id": "02948502938", "type": "group", "emailAddress": "eng@acme.com", "role": "reader"},
                {"kind": "drive#permission", "id": "14732874", "type": "domain", "domain": "acme.com", "role": "reader", "allowFileDiscovery": true}
            ]
        })))
        .mount(&server)
        .await;
    Drive {
        server,
        files,
        tokens,
    }
}

/// A Google API error body.
pub fn google_error(code: u16, reason: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(json!({
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": if reason.contains("RateLimit") || reason.contains("rateLimit") { "usageLimits" } else { "global" }, "reason": reason}]
        }
    }))
}
