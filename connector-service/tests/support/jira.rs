// The Jira fixtures of connector-jira's tests, shared here for end-to-end runs.
//! A Jira that speaks the documented REST shapes, on wiremock: issues with
//! ADF (Cloud) or wiki markup (Data Center), token or offset paging,
//! comment pages, `/myself`, projects.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Jira's timestamp form: `2024-03-01T12:00:00.000+0000`.
pub fn jira_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

/// Issue `n` of project ENG, updated `n` minutes after [`t0`].
pub fn updated_of(n: usize) -> DateTime<Utc> {
    t0() + Duration::minutes(n as i64)
}

pub fn user(id: &str, name: &str) -> Value {
    json!({
        "self": format!("https://acme.atlassian.net/rest/api/3/user?accountId={id}"),
        "accountId": id,
        "displayName": name,
        "active": true,
        "timeZone": "Europe/Berlin",
        "accountType": "atlassian"
    })
}

pub fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

pub fn comment(issue: usize, i: usize, cloud: bool) -> Value {
    let body = if cloud {
        adf(&format!("comment {i} on {issue}"))
    } else {
        json!(format!("comment {i} on {issue}"))
    };
    json!({
        "self": format!("https://acme.atlassian.net/rest/api/3/issue/{}/comment/{}", 10000 + issue, 50000 + i),
        "id": (50000 + i).to_string(),
        "author": user("5b10ac8d82e05b22cc7d4ef5", "Mia Krystof"),
        "body": body,
        "created": jira_time(t0()),
        "updated": jira_time(t0()),
        "jsdPublic": true
    })
}

/// A full issue bean as search returns it with the connector's fields.
pub fn issue(
    n: usize,
    updated: DateTime<Utc>,
    cloud: bool,
    comments: usize,
    inline: usize,
) -> Value {
    let description = if cloud {
        adf(&format!("Description of issue {n}"))
    } else {
        json!(format!("h1. Issue {n}\nDescription of issue {n}"))
    };
    let inline_comments: Vec<Value> = (0..comments.min(inline))
        .map(|i| comment(n, i, cloud))
        .collect();
    json!({
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": (10000 + n).to_string(),
        "self": format!("https://acme.atlassian.net/rest/api/3/issue/{}", 10000 + n),
        "key": format!("ENG-{n}"),
        "fields": {
            "summary": format!("Issue number {n}"),
            "description": description,
            "comment": {
                "comments": inline_comments,
                "self": format!("https://acme.atlassian.net/rest/api/3/issue/{}/comment", 10000 + n),
                "maxResults": inline,
                "total": comments,
                "startAt": 0
            },
            "project": {"self": "https://acme.atlassian.net/rest/api/3/project/10000", "id": "10000", "key": "ENG", "name": "Engineering", "projectTypeKey": "software"},
            "issuetype": {"self": "https://acme.atlassian.net/rest/api/3/issuetype/10001", "id": "10001", "name": "Task", "subtask": false},
            "status": {"self": "https://acme.atlassian.net/rest/api/3/status/3", "id": "3", "name": "In Progress", "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"}},
            "priority": {"self": "https://acme.atlassian.net/rest/api/3/priority/3", "id": "3", "name": "Medium"},
            "labels": ["backend", "customer"],
            "components": [{"self": "https://acme.atlassian.net/rest/api/3/component/10000", "id": "10000", "name": "API"}],
            "resolution": null,
            "assignee": user("5b10a2844c20165700ede21g", "Ada Lovelace"),
            "reporter": user("5b10ac8d82e05b22cc7d4ef5", "Mia Krystof"),
            "creator": user("5b10ac8d82e05b22cc7d4ef5", "Mia Krystof"),
            "parent": {"id": "9000", "key": "ENG-0", "fields": {"summary": "Epic of everything"}},
            "created": jira_time(t0() - Duration::days(30)),
            "updated": jira_time(updated),
            "attachment": [{
                "self": "https://acme.atlassian.net/rest/api/3/attachment/10000",
                "id": "10000",
                "filename": "picture.jpg",
                "author": user("5b10ac8d82e05b22cc7d4ef5", "Mia Krystof"),
                "created": jira_time(t0()),
                "size": 23123,
                "mimeType": "image/jpeg",
                "content": "https://acme.atlassian.net/rest/api/3/attachment/content/10000"
            }]
        }
    })
}

/// Serves `issues` through Cloud's `POST /rest/api/3/search/jql`, pages of
/// the requested `maxResults`, tokens `page-<offset>`; records every JQL.
pub struct TokenSearch {
    pub issues: Vec<Value>,
    pub jql: Arc<std::sync::Mutex<Vec<String>>>,
    /// Answer 429 with `Retry-After: 1` to this many requests first.
    pub throttle_first: usize,
    pub calls: AtomicUsize,
}

impl TokenSearch {
    pub fn new(issues: Vec<Value>) -> Self {
        Self {
            issues,
            jql: Arc::default(),
            throttle_first: 0,
            calls: AtomicUsize::new(0),
        }
    }
}

impl Respond for TokenSearch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.throttle_first {
            return ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_string("Rate limit exceeded");
        }
        let body: Value = serde_json::from_slice(&request.body).expect("search body is JSON");
        self.jql
            .lock()
            .expect("lock")
            .push(body["jql"].as_str().unwrap_or("").to_string());
        let size = body["maxResults"].as_u64().unwrap_or(50) as usize;
        let start = match body.get("nextPageToken").and_then(Value::as_str) {
            Some(token) => match token
                .strip_prefix("page-")
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(n) => n,
                None => {
                    return ResponseTemplate::new(400).set_body_json(json!({
                        "errorMessages": ["The provided next page token is invalid or expired."], "errors": {}
                    }));
                }
            },
            None => 0,
        };
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .map(|f| f.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let end = (start + size).min(self.issues.len());
        let issues: Vec<Value> = self.issues[start.min(end)..end]
            .iter()
            .map(|i| {
                if fields == ["key"] {
                    json!({"id": i["id"], "key": i["key"]})
                } else {
                    i.clone()
                }
            })
            .collect();
        let mut page = json!({"issues": issues, "isLast": end >= self.issues.len()});
        if end < self.issues.len() {
            page["nextPageToken"] = json!(format!("page-{end}"));
        }
        ResponseTemplate::new(200).set_body_json(page)
    }
}

/// Serves `issues` through Data Center's `POST /rest/api/2/search`.
pub struct OffsetSearch {
    pub issues: Vec<Value>,
}

impl Respond for OffsetSearch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("search body is JSON");
        let start = body["startAt"].as_u64().unwrap_or(0) as usize;
        let size = body["maxResults"].as_u64().unwrap_or(50) as usize;
        let end = (start + size).min(self.issues.len());
        ResponseTemplate::new(200).set_body_json(json!({
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": self.issues.len(),
            "issues": self.issues[start.min(end)..end]
        }))
    }
}

/// Serves `GET …/issue/{key}/comment` pages for issues with `total` comments.
pub struct CommentPages {
    pub total: usize,
    pub cloud: bool,
}

impl Respond for CommentPages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse::<usize>().ok())
        };
        let start = query("startAt").unwrap_or(0);
        let max = query("maxResults").unwrap_or(100);
        let issue: usize = request
            .url
            .path()
            .split('/')
            .find_map(|seg| seg.strip_prefix("ENG-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let end = (start + max).min(self.total);
        let comments: Vec<Value> = (start..end)
            .map(|i| comment(issue, i, self.cloud))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({
            "startAt": start, "maxResults": max, "total": self.total, "comments": comments
        }))
    }
}

/// Mount `/myself` (with a time zone) and the project listing.
pub async fn mount_account(server: &MockServer, version: &str, zone: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/rest/api/{version}/myself")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "self": "https://acme.atlassian.net/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
            "accountId": "5b10a2844c20165700ede21g",
            "emailAddress": "mia@example.com",
            "displayName": "Mia Krystof",
            "active": true,
            "timeZone": zone,
            "locale": "en_US",
            "accountType": "atlassian"
        })))
        .mount(server)
        .await;
    let projects = json!([
        {"self": "https://acme.atlassian.net/rest/api/3/project/10000", "id": "10000", "key": "ENG", "name": "Engineering"},
        {"self": "https://acme.atlassian.net/rest/api/3/project/10001", "id": "10001", "key": "OPS", "name": "Operations"}
    ]);
    if version == "3" {
        Mock::given(method("GET"))
            .and(path("/rest/api/3/project/search"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "self": "https://acme.atlassian.net/rest/api/3/project/search?startAt=0&maxResults=100",
                "maxResults": 100, "startAt": 0, "total": 2, "isLast": true, "values": projects
            })))
            .mount(server)
            .await;
    } else {
        Mock::given(method("GET"))
            .and(path("/rest/api/2/project"))
            .respond_with(ResponseTemplate::new(200).set_body_json(projects))
            .mount(server)
            .await;
    }
}

/// Mount the comment endpoint.
pub async fn mount_comments(server: &MockServer, version: &str, total: usize, cloud: bool) {
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^/rest/api/{version}/issue/ENG-\d+/comment$"
        )))
        .respond_with(CommentPages { total, cloud })
        .mount(server)
        .await;
}
