//! A Confluence that speaks the documented REST shapes, on wiremock:
//! Cloud REST v2 listings (cursor in `_links.next` and the `Link` header),
//! v1 CQL search (Cloud `/wiki/rest/api/search`, Data Center
//! `/rest/api/content/search`), Data Center `/rest/api/content` with
//! `start`/`limit`, spaces, the current user.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A base time all fixtures count from.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .expect("valid date")
}

/// Content `n` was last modified `n` minutes after [`t0`].
pub fn modified_of(n: usize) -> DateTime<Utc> {
    t0() + Duration::minutes(n as i64)
}

/// `2024-03-01T12:00:00.000Z`, as v2 and Cloud v1 write times.
pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The content id of item `n` (pages from 100000, blog posts from 500000).
pub fn page_id(n: usize) -> String {
    (100_000 + n).to_string()
}

pub fn blog_id(n: usize) -> String {
    (500_000 + n).to_string()
}

fn storage(text: &str) -> Value {
    json!({"representation": "storage", "value": text})
}

/// A v2 `PageBulk` as `GET /spaces/{id}/pages?body-format=storage` returns it.
pub fn v2_page(n: usize, space_id: &str, status: &str, modified: DateTime<Utc>) -> Value {
    let id = page_id(n);
    json!({
        "id": id,
        "status": status,
        "title": format!("Page {n}"),
        "spaceId": space_id,
        "parentId": page_id(0),
        "parentType": "page",
        "position": n,
        "authorId": "5b10ac8d82e05b22cc7d4ef5",
        "ownerId": "5b10ac8d82e05b22cc7d4ef5",
        "lastOwnerId": null,
        "createdAt": ts(t0() - Duration::days(30)),
        "version": {
            "createdAt": ts(modified),
            "message": "",
            "number": 3,
            "minorEdit": false,
            "authorId": "5b10a2844c20165700ede21g"
        },
        "body": {"storage": storage(&format!("<h2>Page {n}</h2><p>Body of <strong>page</strong> {n}.</p>"))},
        "_links": {
            "webui": format!("/spaces/ENG/pages/{id}/Page+{n}"),
            "editui": format!("/pages/resumedraft.action?draftId={id}"),
            "tinyui": format!("/x/{n}")
        }
    })
}

/// A v2 `BlogPostBulk`.
pub fn v2_blogpost(n: usize, space_id: &str, modified: DateTime<Utc>) -> Value {
    let id = blog_id(n);
    json!({
        "id": id,
        "status": "current",
        "title": format!("Blog {n}"),
        "spaceId": space_id,
        "authorId": "5b10ac8d82e05b22cc7d4ef5",
        "createdAt": ts(t0() - Duration::days(10)),
        "version": {
            "createdAt": ts(modified),
            "message": "",
            "number": 1,
            "minorEdit": false,
            "authorId": "5b10ac8d82e05b22cc7d4ef5"
        },
        "body": {"storage": storage(&format!("<p>News {n}</p>"))},
        "_links": {
            "webui": format!("/spaces/ENG/blog/2024/03/01/{id}/Blog+{n}"),
            "editui": format!("/pages/resumedraft.action?draftId={id}"),
            "tinyui": format!("/x/b{n}")
        }
    })
}

fn v1_user(account_id: &str, name: &str) -> Value {
    json!({
        "type": "known",
        "accountId": account_id,
        "accountType": "atlassian",
        "email": "",
        "publicName": name,
        "displayName": name,
        "isExternalCollaborator": false,
        "_links": {"self": format!("https://acme.atlassian.net/wiki/rest/api/user?accountId={account_id}")}
    })
}

/// A v1 `Content` with the connector's expansions (`body.storage`,
/// `version`, `history`, `ancestors`, `space`, `metadata.labels`,
/// `children.attachment`).
pub fn v1_content(
    id: &str,
    kind: &str,
    title: &str,
    space: (&str, &str),
    status: &str,
    modified: DateTime<Utc>,
    body: &str,
) -> Value {
    json!({
        "id": id,
        "type": kind,
        "status": status,
        "title": title,
        "space": {
            "id": 98306, "key": space.0, "name": space.1, "type": "global", "status": "current",
            "_expandable": {"settings": "", "metadata": "", "operations": "", "lookAndFeel": "", "identifiers": "",
                            "permissions": "", "icon": "", "description": "", "theme": "", "history": "", "homepage": ""},
            "_links": {"webui": format!("/spaces/{}", space.0), "self": format!("https://acme.atlassian.net/wiki/rest/api/space/{}", space.0)}
        },
        "history": {
            "latest": true,
            "createdBy": v1_user("5b10ac8d82e05b22cc7d4ef5", "Mia Krystof"),
            "createdDate": ts(t0() - Duration::days(30))
        },
        "version": {
            "by": v1_user("5b10a2844c20165700ede21g", "Ada Lovelace"),
            "when": ts(modified),
            "friendlyWhen": "yesterday",
            "message": "",
            "number": 3,
            "minorEdit": false
        },
        "ancestors": [
            {"id": "65537", "type": "page", "status": "current", "title": "Home"},
            {"id": page_id(0), "type": "page", "status": "current", "title": "Runbooks"}
        ],
        "body": {"storage": storage(body), "_expandable": {"editor": "", "view": "", "export_view": "", "styled_view": "", "anonymous_export_view": ""}},
        "metadata": {
            "labels": {"results": [
                {"prefix": "global", "name": "runbook", "id": "1001", "label": "runbook"},
                {"prefix": "global", "name": "oncall", "id": "1002", "label": "oncall"}
            ], "start": 0, "limit": 200, "size": 2, "_links": {}},
            "_expandable": {"currentuser": "", "properties": "", "frontend": "", "editorHtml": ""}
        },
        "children": {
            "attachment": {
                "results": [{
                    "id": format!("att{id}"), "type": "attachment", "status": "current", "title": "diagram.png",
                    "metadata": {"mediaType": "image/png", "comment": ""},
                    "extensions": {"mediaType": "image/png", "fileSize": 48213, "comment": ""},
                    "_links": {"webui": format!("/pages/viewpageattachments.action?pageId={id}"),
                               "download": format!("/download/attachments/{id}/diagram.png?version=1&modificationDate=1709294400000&api=v2")}
                }],
                "start": 0, "limit": 25, "size": 1,
                "_links": {"self": format!("https://acme.atlassian.net/wiki/rest/api/content/{id}/child/attachment")}
            },
            "_expandable": {"comment": "", "page": ""}
        },
        "_expandable": {"childTypes": "", "container": "", "operations": "", "schedulePublishDate": "",
                        "children": "", "restrictions": "", "descendants": ""},
        "_links": {
            "webui": format!("/spaces/{}/pages/{id}/{}", space.0, title.replace(' ', "+")),
            "edit": format!("/pages/resumedraft.action?draftId={id}"),
            "tinyui": format!("/x/{id}"),
            "self": format!("https://acme.atlassian.net/wiki/rest/api/content/{id}")
        }
    })
}

/// v1 content for v2 page `n` (what the Cloud enrichment search returns).
pub fn v1_of_page(n: usize, modified: DateTime<Utc>) -> Value {
    v1_content(
        &page_id(n),
        "page",
        &format!("Page {n}"),
        ("ENG", "Engineering"),
        "current",
        modified,
        &format!("<h2>Page {n}</h2><p>Body of <strong>page</strong> {n}.</p>"),
    )
}

/// v1 content for v2 blog post `n`.
pub fn v1_of_blog(n: usize, modified: DateTime<Utc>) -> Value {
    v1_content(
        &blog_id(n),
        "blogpost",
        &format!("Blog {n}"),
        ("ENG", "Engineering"),
        "current",
        modified,
        &format!("<p>News {n}</p>"),
    )
}

/// Percent-encode a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn query(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn query_all(request: &Request, name: &str) -> Vec<String> {
    request
        .url
        .query_pairs()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// Serves a v2 collection (`/wiki/api/v2/spaces/{id}/pages|blogposts`):
/// pages of the requested `limit`, cursor `c<offset>`, `_links.next` and
/// the `Link` header (or only the header).
pub struct V2Pages {
    pub items: Arc<Mutex<Vec<Value>>>,
    pub path: String,
    pub link_header_only: bool,
    /// Answer 429 with `Retry-After: 1` to this many requests first.
    pub throttle_first: usize,
    pub calls: AtomicUsize,
}

impl V2Pages {
    pub fn new(path: &str, items: Vec<Value>) -> Self {
        Self {
            items: Arc::new(Mutex::new(items)),
            path: path.to_owned(),
            link_header_only: false,
            throttle_first: 0,
            calls: AtomicUsize::new(0),
        }
    }
}

impl Respond for V2Pages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.throttle_first {
            return ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_string("Rate limit exceeded");
        }
        let items = self.items.lock().expect("lock");
        let limit: usize = query(request, "limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(25);
        let start = match query(request, "cursor") {
            None => 0,
            Some(c) => match c.strip_prefix('c').and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => n,
                None => {
                    return ResponseTemplate::new(400).set_body_json(json!({
                        "errors": [{"status": 400, "code": "INVALID_REQUEST_PARAMETER", "title": "Invalid cursor", "detail": null}]
                    }));
                }
            },
        };
        let with_body = query(request, "body-format").is_some();
        let end = (start + limit).min(items.len());
        let results: Vec<Value> = items[start.min(end)..end]
            .iter()
            .map(|i| {
                let mut i = i.clone();
                if !with_body && let Some(o) = i.as_object_mut() {
                    o.remove("body");
                }
                i
            })
            .collect();
        let mut links = json!({"base": "https://acme.atlassian.net/wiki"});
        let mut response = ResponseTemplate::new(200);
        if end < items.len() {
            let mut next = format!(
                "{}?cursor=c{end}&limit={limit}&sort=id&status=current",
                self.path
            );
            if with_body {
                next.push_str("&body-format=storage");
            }
            response = response.insert_header(
                "Link",
                format!("<{next}>; rel=\"next\", <https://acme.atlassian.net/wiki>; rel=\"base\"")
                    .as_str(),
            );
            if !self.link_header_only {
                links["next"] = json!(next);
            }
        }
        response.set_body_json(json!({"results": results, "_links": links}))
    }
}

/// Cloud's `GET /wiki/rest/api/search`: `id in (…)` answers from `by_id`
/// (the enrichment of a v2 page); any other CQL pages through `changes`.
/// Cursor paging through `_links.next`; records every CQL.
pub struct CloudSearch {
    pub by_id: HashMap<String, Value>,
    pub changes: Vec<Value>,
    pub cql: Arc<Mutex<Vec<String>>>,
}

impl CloudSearch {
    pub fn new(by_id: HashMap<String, Value>, changes: Vec<Value>) -> Self {
        Self {
            by_id,
            changes,
            cql: Arc::default(),
        }
    }
}

fn search_result(content: &Value) -> Value {
    json!({
        "content": content,
        "title": content["title"],
        "excerpt": "",
        "url": content["_links"]["webui"],
        "resultGlobalContainer": {"title": "Engineering", "displayUrl": "/spaces/ENG"},
        "breadcrumbs": [],
        "entityType": "content",
        "iconCssClass": "aui-icon content-type-page",
        "lastModified": content["version"]["when"],
        "friendlyLastModified": "yesterday",
        "score": 0.0
    })
}

impl Respond for CloudSearch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some(cql) = query(request, "cql") else {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"statusCode": 400, "message": "cql is required"}));
        };
        if query(request, "cursor").is_none() {
            self.cql.lock().expect("lock").push(cql.clone());
        }
        let limit: usize = query(request, "limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(25);
        let start: usize = query(request, "cursor")
            .and_then(|c| c.strip_prefix('s').and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        let all: Vec<Value> = match cql
            .strip_prefix("id in (")
            .and_then(|r| r.strip_suffix(')'))
        {
            Some(ids) => ids
                .split(',')
                .filter_map(|id| self.by_id.get(id.trim()).cloned())
                .collect(),
            None => self.changes.clone(),
        };
        let end = (start + limit).min(all.len());
        let results: Vec<Value> = all[start.min(end)..end].iter().map(search_result).collect();
        let mut links = json!({"base": "https://acme.atlassian.net/wiki", "context": "/wiki"});
        if end < all.len() {
            let expand = query(request, "expand").unwrap_or_default();
            links["next"] = json!(format!(
                "/rest/api/search?next=true&cursor=s{end}&expand={}&limit={limit}&start={end}&cql={}",
                enc(&expand),
                enc(&cql)
            ));
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "results": results,
            "start": start,
            "limit": limit,
            "size": end - start.min(end),
            "totalSize": all.len(),
            "cqlQuery": cql,
            "searchDuration": 12,
            "_links": links
        }))
    }
}

/// Data Center's `GET /rest/api/content?spaceKey=…&type=…&start=…&limit=…`
/// over the items of each `(space, type)`; `_links.next` while more remain.
pub struct DcContent {
    pub items: DcItems,
}

/// The items of each `(space key, type)` of a Data Center stand-in.
pub type DcItems = Arc<Mutex<HashMap<(String, String), Vec<Value>>>>;

impl Respond for DcContent {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let space = query(request, "spaceKey").unwrap_or_default();
        let kind = query(request, "type").unwrap_or_else(|| "page".into());
        let start: usize = query(request, "start")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let limit: usize = query(request, "limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(25);
        let all = self.items.lock().expect("lock");
        let Some(items) = all.get(&(space.clone(), kind.clone())) else {
            return ResponseTemplate::new(404).set_body_json(json!({
                "statusCode": 404, "data": {"authorized": false, "valid": true, "errors": [], "successful": false},
                "message": format!("No space with key : {space}")
            }));
        };
        let end = (start + limit).min(items.len());
        let results = items[start.min(end)..end].to_vec();
        let mut links = json!({
            "base": "https://wiki.acme.com", "context": "",
            "self": format!("https://wiki.acme.com/rest/api/content?spaceKey={space}&type={kind}")
        });
        if end < items.len() {
            links["next"] = json!(format!(
                "/rest/api/content?spaceKey={space}&type={kind}&limit={limit}&start={end}"
            ));
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "results": results, "start": start, "limit": limit, "size": end - start.min(end), "_links": links
        }))
    }
}

/// Data Center's `GET /rest/api/content/search?cql=…` over `items`, paged
/// by `start`; records every CQL.
pub struct DcSearch {
    pub items: Vec<Value>,
    pub cql: Arc<Mutex<Vec<String>>>,
}

impl Respond for DcSearch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let cql = query(request, "cql").unwrap_or_default();
        let start: usize = query(request, "start")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let limit: usize = query(request, "limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(25);
        if start == 0 {
            self.cql.lock().expect("lock").push(cql.clone());
        }
        let end = (start + limit).min(self.items.len());
        let mut links = json!({"base": "https://wiki.acme.com", "context": ""});
        if end < self.items.len() {
            links["next"] = json!(format!(
                "/rest/api/content/search?cql={}&limit={limit}&start={end}",
                enc(&cql)
            ));
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "results": self.items[start.min(end)..end], "start": start, "limit": limit,
            "size": end - start.min(end), "_links": links
        }))
    }
}

/// Mount `/rest/api/user/current` under `prefix` (`/wiki` on Cloud).
pub async fn mount_user(server: &MockServer, prefix: &str, zone: Option<&str>) {
    let mut user = json!({
        "type": "known",
        "accountId": "5b10a2844c20165700ede21g",
        "accountType": "atlassian",
        "email": "mia@example.com",
        "publicName": "Mia Krystof",
        "displayName": "Mia Krystof",
        "isExternalCollaborator": false,
        "_links": {"base": "https://acme.atlassian.net/wiki", "context": "/wiki"}
    });
    if let Some(zone) = zone {
        user["timeZone"] = json!(zone);
    }
    Mock::given(method("GET"))
        .and(path(format!("{prefix}/rest/api/user/current")))
        .respond_with(ResponseTemplate::new(200).set_body_json(user))
        .mount(server)
        .await;
}

/// Cloud spaces ENG (id 100) and OPS (id 200) through `GET /wiki/api/v2/spaces`
/// (honouring `keys`).
pub struct V2Spaces;

impl Respond for V2Spaces {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let all = [("100", "ENG", "Engineering"), ("200", "OPS", "Operations")];
        let keys: Vec<String> = query(request, "keys")
            .map(|k| k.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let results: Vec<Value> = all
            .iter()
            .filter(|(_, key, _)| keys.is_empty() || keys.iter().any(|k| k == key))
            .map(|(id, key, name)| {
                json!({
                    "id": id, "key": key, "name": name, "type": "global", "status": "current",
                    "authorId": "5b10ac8d82e05b22cc7d4ef5", "createdAt": ts(t0() - Duration::days(400)),
                    "homepageId": "65537", "description": null, "icon": null,
                    "_links": {"webui": format!("/spaces/{key}")}
                })
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(
            json!({"results": results, "_links": {"base": "https://acme.atlassian.net/wiki"}}),
        )
    }
}

pub async fn mount_cloud_spaces(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/wiki/api/v2/spaces"))
        .respond_with(V2Spaces)
        .mount(server)
        .await;
}

/// Data Center spaces ENG and OPS through `GET /rest/api/space`.
pub async fn mount_dc_spaces(server: &MockServer) {
    let space = |id: u64, key: &str, name: &str| {
        json!({"id": id, "key": key, "name": name, "type": "global", "status": "current",
               "_links": {"webui": format!("/display/{key}"), "self": format!("https://wiki.acme.com/rest/api/space/{key}")},
               "_expandable": {"metadata": "", "icon": "", "description": "", "homepage": format!("/rest/api/content/{id}")}})
    };
    Mock::given(method("GET"))
        .and(path("/rest/api/space"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [space(1, "ENG", "Engineering"), space(2, "OPS", "Operations")],
            "start": 0, "limit": 200, "size": 2,
            "_links": {"base": "https://wiki.acme.com", "context": "", "self": "https://wiki.acme.com/rest/api/space"}
        })))
        .mount(server)
        .await;
}

/// Mount a v2 collection responder on its path.
pub async fn mount_v2(server: &MockServer, responder: V2Pages) {
    let p = responder.path.clone();
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(responder)
        .mount(server)
        .await;
}

/// Mount Cloud search; returns its CQL log.
pub async fn mount_cloud_search(
    server: &MockServer,
    search: CloudSearch,
) -> Arc<Mutex<Vec<String>>> {
    let log = search.cql.clone();
    Mock::given(method("GET"))
        .and(path("/wiki/rest/api/search"))
        .respond_with(search)
        .mount(server)
        .await;
    log
}

/// An empty v2 collection for every other space and kind.
pub async fn mount_empty_v2(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path_regex(r"^/wiki/api/v2/spaces/\d+/(pages|blogposts)$"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"results": [], "_links": {}})),
        )
        .with_priority(10)
        .mount(server)
        .await;
}
