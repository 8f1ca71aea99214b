//! A Microsoft Graph (and Entra ID token endpoint) that speaks the
//! documented v1.0 shapes, on wiremock: sites by path, drives, driveItem
//! delta with `@odata.nextLink` / `@odata.deltaLink`, `/content` redirects
//! to a second host, permissions, site pages with `canvasLayout`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const CLIENT_ID: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
pub const CLIENT_SECRET: &str = "qWgdYAmab0YSkuL1qKv5bPX~sEcRet";
pub const ACCESS_TOKEN: &str =
    "eyJ0eXAiOiJKV1QiLCJub25jZSI6IkFRQUJBQUFBQUFBeE1fdGVzdCJ9.payload.sig";
pub const SITE_ID: &str = "contoso.sharepoint.com,2c7e5a7f-6f2b-4a25-8f7e-1b1f3c0d9a11,a9b8c7d6-1234-4c3b-9a8f-0e1d2c3b4a59";
pub const SITE_URL: &str = "https://contoso.sharepoint.com/sites/Eng";
pub const DOCS: &str = "b!f1VhLC5vJUqPfhsfPA2aEdbHuKk0EjtMm59-HSw7SlkQm_LmFwS5QbMWb6Uh8Ffq";
pub const POLICIES: &str = "b!f1VhLC5vJUqPfhsfPA2aEdbHuKk0EjtMm59-HSw7SlkD2nXq8aXbQK2uE1Ea9N0p";

/// An id as the connector puts it in a request path (percent-encoded).
pub fn enc(id: &str) -> String {
    connector_core::url::segment(id).unwrap()
}

/// A path regex matching `/v1.0/{before}{id}{after}` with `id` raw (as in
/// Graph's own links) or percent-encoded (as the connector builds paths).
pub fn id_path(before: &str, id: &str, after: &str) -> String {
    let escape = |s: &str| s.replace('.', r"\.");
    format!(
        r"^/v1\.0/{before}(?:{}|{}){}$",
        escape(id),
        escape(&enc(id)),
        escape(after)
    )
}

/// The Graph base URL of a mock server (`…/v1.0`, as the real one).
pub fn graph(server: &MockServer) -> String {
    format!("{}/v1.0", server.uri())
}

pub fn user(name: &str, email: &str) -> Value {
    json!({"user": {"email": email, "id": format!("id-{name}"), "displayName": name}})
}

fn reference(drive: &str, parent_id: &str) -> Value {
    json!({"driveType": "documentLibrary", "driveId": drive, "id": parent_id})
}

pub fn root(drive: &str) -> Value {
    json!({
        "createdDateTime": "2023-05-10T08:00:00Z",
        "id": "01ROOTAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "lastModifiedDateTime": "2024-03-01T12:00:00Z",
        "name": "root",
        "webUrl": "https://contoso.sharepoint.com/sites/Eng/Shared%20Documents",
        "size": 4096,
        "parentReference": {"driveType": "documentLibrary", "driveId": drive},
        "fileSystemInfo": {"createdDateTime": "2023-05-10T08:00:00Z", "lastModifiedDateTime": "2024-03-01T12:00:00Z"},
        "folder": {"childCount": 3},
        "root": {}
    })
}

pub fn folder(drive: &str, id: &str, name: &str, parent_id: &str, web_path: &str) -> Value {
    json!({
        "createdDateTime": "2023-05-10T08:00:00Z",
        "eTag": format!("\"{{{id}}},1\""),
        "id": id,
        "lastModifiedDateTime": "2024-03-01T12:00:00Z",
        "name": name,
        "webUrl": format!("https://contoso.sharepoint.com/sites/Eng/Shared%20Documents{web_path}"),
        "cTag": format!("\"c:{{{id}}},0\""),
        "size": 2048,
        "createdBy": user("Ada Lovelace", "ada@contoso.com"),
        "lastModifiedBy": user("Ada Lovelace", "ada@contoso.com"),
        "parentReference": reference(drive, parent_id),
        "fileSystemInfo": {"createdDateTime": "2023-05-10T08:00:00Z", "lastModifiedDateTime": "2024-03-01T12:00:00Z"},
        "folder": {"childCount": 2}
    })
}

/// A file as delta returns it on SharePoint: `parentReference` without `path`.
#[allow(clippy::too_many_arguments)] // one argument per fixture field a test varies
pub fn file(
    drive: &str,
    id: &str,
    name: &str,
    parent_id: &str,
    web_path: &str,
    mime: &str,
    size: u64,
    version: u32,
) -> Value {
    json!({
        "@microsoft.graph.downloadUrl": format!("https://contoso.sharepoint.com/sites/Eng/_layouts/15/download.aspx?UniqueId={id}&tempauth=v1.eyJzaXRlaWQi"),
        "createdDateTime": "2023-06-01T09:30:00Z",
        "eTag": format!("\"{{{id}}},{version}\""),
        "id": id,
        "lastModifiedDateTime": format!("2024-03-0{}T10:00:00Z", version.min(9)),
        "name": name,
        "webUrl": format!("https://contoso.sharepoint.com/sites/Eng/Shared%20Documents{web_path}"),
        "cTag": format!("\"c:{{{id}}},{version}\""),
        "size": size,
        "createdBy": user("Ada Lovelace", "ada@contoso.com"),
        "lastModifiedBy": user("Grace Hopper", "grace@contoso.com"),
        "parentReference": reference(drive, parent_id),
        "file": {"mimeType": mime, "hashes": {"quickXorHash": "dGhpcyBpcyBhIGhhc2g="}},
        "fileSystemInfo": {"createdDateTime": "2023-06-01T09:30:00Z", "lastModifiedDateTime": "2024-03-01T10:00:00Z"},
        "shared": {"scope": "users"}
    })
}

pub fn deleted(drive: &str, id: &str, parent_id: &str) -> Value {
    json!({
        "id": id,
        "parentReference": reference(drive, parent_id),
        "file": {},
        "deleted": {"state": "deleted"}
    })
}

pub const F_SPECS: &str = "01SPECSFOLDERAAAAAAAAAAAAAAAAAAAAA";
pub const F_2024: &str = "012024FOLDERAAAAAAAAAAAAAAAAAAAAAA";
pub const ROOT_ID: &str = "01ROOTAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// The `Documents` library: root, `/Specs`, `/Specs/2024`, six files.
pub fn documents_items() -> Vec<Value> {
    let d = DOCS;
    vec![
        root(d),
        folder(d, F_SPECS, "Specs", ROOT_ID, "/Specs"),
        file(
            d,
            "01README",
            "readme.md",
            ROOT_ID,
            "/readme.md",
            "text/markdown",
            12,
            1,
        ),
        folder(d, F_2024, "2024", F_SPECS, "/Specs/2024"),
        file(
            d,
            "01PLAN",
            "plan.txt",
            F_SPECS,
            "/Specs/plan.txt",
            "text/plain",
            17,
            1,
        ),
        file(
            d,
            "01NOTES",
            "notes.html",
            F_2024,
            "/Specs/2024/notes.html",
            "text/html",
            60,
            1,
        ),
        file(
            d,
            "01DECK",
            "deck.pptx",
            F_SPECS,
            "/Specs/deck.pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            48213,
            1,
        ),
        file(
            d,
            "01DATA",
            "data.csv",
            F_2024,
            "/Specs/2024/data.csv",
            "text/csv",
            18,
            1,
        ),
        file(
            d,
            "01BUDGET",
            "budget.xlsx",
            ROOT_ID,
            "/budget.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            9120,
            1,
        ),
    ]
}

pub fn contents() -> HashMap<String, Vec<u8>> {
    let mut m = HashMap::new();
    m.insert("01README".into(), b"# Readme\nhello world\n".to_vec());
    m.insert("01PLAN".into(), b"the plan: ship it".to_vec());
    m.insert(
        "01NOTES".into(),
        b"<html><body><h1>Notes</h1><p>Alpha &amp; beta</p></body></html>".to_vec(),
    );
    m.insert("01DATA".into(), b"a,b\n1,2\n3,4\n".to_vec());
    m.insert("01DECK".into(), vec![0x50, 0x4b, 3, 4, 0, 1, 2]);
    m.insert("01NEW".into(), b"brand new".to_vec());
    m.insert(
        "01MEMO".into(),
        br"{\rtf1\ansi Travel policy\par Book trains under four hours.\par}".to_vec(),
    );
    m
}

/// The state of one drive's delta, changed by tests between syncs.
pub struct DriveState {
    /// What a full enumeration returns now.
    pub current: Vec<Value>,
    /// The delta version: `delta-{version}` is the newest link.
    pub version: u32,
    /// What `delta-{version-1}` (or a timestamp token) returns.
    pub changes: Vec<Value>,
}

/// Serves `GET /v1.0/drives/{id}/root/delta` with the documented paging.
pub struct DeltaDrive {
    pub base: String,
    pub drive_id: String,
    pub page_size: usize,
    pub state: Mutex<DriveState>,
    /// The `token` of every request (`""` for the first).
    pub tokens: Mutex<Vec<String>>,
    /// Answer 429 with `Retry-After: 1` to this many requests first.
    pub throttle_first: AtomicUsize,
}

impl DeltaDrive {
    pub fn new(base: &str, drive_id: &str, items: Vec<Value>, page_size: usize) -> Self {
        Self {
            base: base.to_owned(),
            drive_id: drive_id.to_owned(),
            page_size,
            state: Mutex::new(DriveState {
                current: items,
                version: 1,
                changes: Vec::new(),
            }),
            tokens: Mutex::default(),
            throttle_first: AtomicUsize::new(0),
        }
    }

    fn link(&self, token: &str) -> String {
        format!(
            "{}/drives/{}/root/delta?token={token}",
            self.base, self.drive_id
        )
    }
}

pub fn graph_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2024-03-01T12:00:00",
                "request-id": "b4b3a2c1-0000-4000-8000-000000000001",
                "client-request-id": "b4b3a2c1-0000-4000-8000-000000000001"
            }
        }
    }))
}

impl Respond for DeltaDrive {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let token = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        self.tokens.lock().unwrap().push(token.clone());
        let throttle = self.throttle_first.load(Ordering::SeqCst);
        if throttle > 0 {
            self.throttle_first.store(throttle - 1, Ordering::SeqCst);
            return graph_error(
                429,
                "activityLimitReached",
                "The request has been throttled",
            )
            .insert_header("Retry-After", "1");
        }
        let state = self.state.lock().unwrap();
        let offset = if token.is_empty() {
            Some(0)
        } else {
            token
                .strip_prefix("next-")
                .and_then(|n| n.parse::<usize>().ok())
        };
        if let Some(offset) = offset {
            let end = (offset + self.page_size).min(state.current.len());
            let mut body = json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(driveItem)",
                "value": state.current[offset.min(end)..end]
            });
            if end < state.current.len() {
                body["@odata.nextLink"] = json!(self.link(&format!("next-{end}")));
            } else {
                body["@odata.deltaLink"] = json!(self.link(&format!("delta-{}", state.version)));
            }
            return ResponseTemplate::new(200).set_body_json(body);
        }
        // Changes come in pages of `page_size` too: `changes-{offset}`.
        let (changes, offset) = if let Some(v) = token.strip_prefix("delta-") {
            match v.parse::<u32>() {
                Ok(v) if v == state.version => (Vec::new(), 0),
                Ok(v) if v + 1 == state.version => (state.changes.clone(), 0),
                _ => {
                    return graph_error(
                        410,
                        "resyncRequired",
                        "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.",
                    );
                }
            }
        } else if let Some(offset) = token
            .strip_prefix("changes-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            (state.changes.clone(), offset)
        } else if chrono::DateTime::parse_from_rfc3339(&token).is_ok() {
            (state.changes.clone(), 0)
        } else {
            return graph_error(400, "invalidRequest", "Invalid token");
        };
        let end = (offset + self.page_size).min(changes.len());
        let mut body = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(driveItem)",
            "value": changes[offset.min(end)..end]
        });
        if end < changes.len() {
            body["@odata.nextLink"] = json!(self.link(&format!("changes-{end}")));
        } else {
            body["@odata.deltaLink"] = json!(self.link(&format!("delta-{}", state.version)));
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// Redirects `/content` to the download host, like Graph does.
pub struct ContentRedirect {
    pub download_base: String,
}

impl Respond for ContentRedirect {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let segments: Vec<&str> = request.url.path().split('/').collect();
        // /v1.0/drives/{d}/items/{i}/content
        let item = segments.get(5).copied().unwrap_or("");
        ResponseTemplate::new(302).insert_header(
            "Location",
            format!(
                "{}/sites/Eng/_layouts/15/download.aspx?UniqueId={item}&tempauth=v1.eyJhdWQiOiJ0ZXN0In0",
                self.download_base
            )
            .as_str(),
        )
    }
}

/// The download host: serves bytes by `UniqueId`.
pub struct Download {
    pub files: HashMap<String, Vec<u8>>,
}

impl Respond for Download {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "UniqueId")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        match self.files.get(&id) {
            Some(bytes) => ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/octet-stream")
                .set_body_bytes(bytes.clone()),
            None => ResponseTemplate::new(404),
        }
    }
}

pub async fn mount_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": ACCESS_TOKEN
        })))
        .mount(server)
        .await;
}

pub fn site_json() -> Value {
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#sites(id,name,displayName,webUrl)/$entity",
        "id": SITE_ID,
        "name": "Eng",
        "displayName": "Engineering",
        "webUrl": SITE_URL
    })
}

pub async fn mount_site(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v1.0/sites/contoso.sharepoint.com:/sites/Eng"))
        .respond_with(ResponseTemplate::new(200).set_body_json(site_json()))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(id_path("sites/", SITE_ID, "/drives")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#drives(id,name,driveType,webUrl)",
            "value": [
                {"id": DOCS, "name": "Documents", "driveType": "documentLibrary",
                 "webUrl": "https://contoso.sharepoint.com/sites/Eng/Shared%20Documents"},
                {"id": POLICIES, "name": "Policies", "driveType": "documentLibrary",
                 "webUrl": "https://contoso.sharepoint.com/sites/Eng/Policies"}
            ]
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/sites"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#sites",
            "value": [
                site_json(),
                {"id": "contoso.sharepoint.com,11111111-2222-3333-4444-555555555555,66666666-7777-8888-9999-000000000000",
                 "name": "HR", "displayName": "Human Resources", "webUrl": "https://contoso.sharepoint.com/sites/HR"}
            ]
        })))
        .mount(server)
        .await;
}

/// Folder metadata for parents a resumed delta has not seen.
pub async fn mount_items(server: &MockServer) {
    let specs = json!({
        "id": F_SPECS, "name": "Specs",
        "parentReference": {"driveType": "documentLibrary", "driveId": DOCS, "id": ROOT_ID, "path": format!("/drives/{DOCS}/root:")},
        "folder": {"childCount": 3}
    });
    let y2024 = json!({
        "id": F_2024, "name": "2024",
        "parentReference": {"driveType": "documentLibrary", "driveId": DOCS, "id": F_SPECS, "path": format!("/drives/{DOCS}/root:/Specs")},
        "folder": {"childCount": 2}
    });
    for (id, body) in [(F_SPECS, specs), (F_2024, y2024)] {
        Mock::given(method("GET"))
            .and(path_regex(id_path(
                "drives/",
                DOCS,
                &format!("/items/{id}"),
            )))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path_regex(id_path(
            "drives/",
            DOCS,
            &format!("/items/{ROOT_ID}"),
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(root(DOCS)))
        .mount(server)
        .await;
}

pub fn site_page() -> Value {
    json!({
        "@odata.type": "#microsoft.graph.sitePage",
        "@odata.etag": "\"{3A2B1C0D-0000-4000-8000-000000000010},5\"",
        "eTag": "\"{3A2B1C0D-0000-4000-8000-000000000010},5\"",
        "id": "3a2b1c0d-0000-4000-8000-000000000010",
        "name": "Onboarding.aspx",
        "title": "Onboarding",
        "description": "How new engineers get started",
        "webUrl": "SitePages/Onboarding.aspx",
        "pageLayout": "article",
        "promotionKind": "page",
        "createdDateTime": "2024-01-10T08:00:00Z",
        "lastModifiedDateTime": "2024-02-20T16:30:00Z",
        "createdBy": user("Ada Lovelace", "ada@contoso.com"),
        "lastModifiedBy": user("Grace Hopper", "grace@contoso.com"),
        "publishingState": {"level": "published", "versionId": "5.0"},
        "canvasLayout": {
            "horizontalSections": [
                {"layout": "twoColumns", "id": "1", "emphasis": "none", "columns": [
                    {"id": "1", "width": 6, "webparts": [
                        {"@odata.type": "#microsoft.graph.textWebPart", "id": "wp-1",
                         "innerHtml": "<h2>Week one</h2><p>Get a laptop &amp; an account.</p><ul><li>Read the <a href=\"/wiki\">wiki</a></li><li>Meet the team</li></ul>"}
                    ]},
                    {"id": "2", "width": 6, "webparts": [
                        {"@odata.type": "#microsoft.graph.standardWebPart", "id": "wp-2",
                         "webPartType": "d1d91016-032f-456d-98a4-721247c305e8",
                         "data": {"dataVersion": "1.9", "title": "Image", "properties": {}}}
                    ]}
                ]}
            ],
            "verticalSection": {"emphasis": "soft", "webparts": [
                {"@odata.type": "#microsoft.graph.textWebPart", "id": "wp-3", "innerHtml": "<p>Questions? Ask in #eng.</p>"}
            ]}
        }
    })
}

pub async fn mount_pages(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path_regex(id_path("sites/", SITE_ID, "/pages/microsoft.graph.sitePage")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#sites('contoso')/pages/microsoft.graph.sitePage",
            "value": [site_page()]
        })))
        .mount(server)
        .await;
}

/// Everything a sync of the Eng site needs: token, site, drives, delta of
/// both libraries, folder lookups, `/content` → download host, pages.
pub struct Graph {
    pub server: MockServer,
    pub download: MockServer,
    pub docs: std::sync::Arc<DeltaDrive>,
}

/// Lets a shared responder be mounted.
pub struct Shared(pub std::sync::Arc<DeltaDrive>);

impl Respond for Shared {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

pub async fn graph_server(page_size: usize) -> Graph {
    let server = MockServer::start().await;
    let download = MockServer::start().await;
    mount_token(&server).await;
    mount_site(&server).await;
    mount_items(&server).await;
    mount_pages(&server).await;
    let docs = std::sync::Arc::new(DeltaDrive::new(
        &graph(&server),
        DOCS,
        documents_items(),
        page_size,
    ));
    Mock::given(method("GET"))
        .and(path_regex(id_path("drives/", DOCS, "/root/delta")))
        .respond_with(Shared(docs.clone()))
        .mount(&server)
        .await;
    let policies = DeltaDrive::new(
        &graph(&server),
        POLICIES,
        vec![
            root(POLICIES),
            file(
                POLICIES,
                "01POLICY",
                "travel.pdf",
                ROOT_ID,
                "/travel.pdf",
                "application/pdf",
                1234,
                1,
            ),
        ],
        200,
    );
    Mock::given(method("GET"))
        .and(path_regex(id_path("drives/", POLICIES, "/root/delta")))
        .respond_with(policies)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1\.0/drives/[^/]+/items/[^/]+/content$"))
        .respond_with(ContentRedirect {
            download_base: download.uri(),
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/sites/Eng/_layouts/15/download.aspx"))
        .respond_with(Download { files: contents() })
        .mount(&download)
        .await;
    Graph {
        server,
        download,
        docs,
    }
}

/// Serves `GET /v1.0/drives/{d}/items/{i}/permissions`: an owners group for
/// every item, plus the grants a test adds per item; counts the reads.
#[derive(Default)]
pub struct Permissions {
    pub extra: Mutex<HashMap<String, Vec<Value>>>,
    pub reads: AtomicUsize,
}

impl Permissions {
    /// Grant `email` read access to `item`.
    pub fn grant(&self, item: &str, email: &str) {
        self.extra
            .lock()
            .unwrap()
            .entry(item.to_owned())
            .or_default()
            .push(json!({"id": format!("p-{email}"), "roles": ["read"],
                         "grantedToV2": {"user": {"displayName": email, "email": email}}}));
    }
}

impl Respond for Permissions {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let segments: Vec<&str> = request.url.path().split('/').collect();
        // /v1.0/drives/{d}/items/{i}/permissions
        let item = segments.get(5).copied().unwrap_or("");
        let mut value = vec![json!({"id": "owners", "roles": ["owner"],
            "grantedToV2": {"siteGroup": {"displayName": "Eng Owners", "id": "3"}}})];
        if let Some(extra) = self.extra.lock().unwrap().get(item) {
            value.extend(extra.iter().cloned());
        }
        ResponseTemplate::new(200).set_body_json(json!({"value": value}))
    }
}

/// Lets a shared permissions responder be mounted.
pub struct SharedPermissions(pub std::sync::Arc<Permissions>);

impl Respond for SharedPermissions {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

pub async fn mount_permissions(server: &MockServer) -> std::sync::Arc<Permissions> {
    let permissions = std::sync::Arc::new(Permissions::default());
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1\.0/drives/[^/]+/items/[^/]+/permissions$"))
        .respond_with(SharedPermissions(permissions.clone()))
        .mount(server)
        .await;
    permissions
}

/// Every delta request `server` received, in order.
pub async fn delta_requests(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().ends_with("/root/delta"))
        .collect()
}
