//! A GitHub REST stand-in on wiremock: repositories, issues and pull
//! requests with comments and review comments, in the shapes of GitHub's
//! OpenAPI description (`repository`, `issue`, `issue-comment`,
//! `pull-request-review-comment`), paged by `Link` headers, with the
//! `x-ratelimit-*` headers on every answer. Shared by the tests and the
//! benchmark.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

/// The token the stand-in accepts.
pub const TOKEN: &str = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";

/// A GitHub App installation token the stand-in accepts: no user behind it
/// (`/user` is refused), and `/installation/repositories` lists what the
/// installation may read, private repositories included.
pub const INSTALLATION_TOKEN: &str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

/// A fixed instant `n` minutes after 2024-03-01 09:00 UTC.
pub fn at(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(n)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A user as GitHub shows one (`simple-user`).
pub fn user(login: &str) -> Value {
    json!({
        "login": login, "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
        "gravatar_id": "", "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"), "type": "User", "site_admin": false
    })
}

/// One issue or pull request of the stand-in.
#[derive(Debug, Clone)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub pull: bool,
    pub updated: DateTime<Utc>,
    pub comments: Vec<String>,
    pub review_comments: Vec<String>,
    /// Served as raw text instead of the issue (a malformed record).
    pub raw: Option<String>,
}

/// One commit of a repository's default branch: the whole tree at it.
#[derive(Debug, Clone)]
pub struct Commit {
    pub sha: String,
    pub date: DateTime<Utc>,
    pub files: BTreeMap<String, String>,
}

/// One repository of the stand-in.
#[derive(Debug, Clone, Default)]
pub struct Repo {
    pub owner: String,
    pub name: String,
    pub private: bool,
    pub archived: bool,
    pub fork: bool,
    pub issues: Vec<Issue>,
    /// The default branch's history, oldest first; empty: no Git data.
    pub commits: Vec<Commit>,
    /// The recursive listing of the root tree comes back `truncated`.
    pub truncate_root: bool,
}

/// A Git object id for `text`.
pub fn sha_of(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    let a = h.finish();
    "salt".hash(&mut h);
    let b = h.finish();
    format!("{a:016x}{b:016x}{:08x}", (a ^ b) as u32)
}

impl Repo {
    /// Add a commit at `date` whose tree is `files`.
    pub fn commit(&mut self, date: DateTime<Utc>, files: &[(&str, &str)]) {
        let files: BTreeMap<String, String> = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
            .collect();
        let sha = sha_of(&format!("{date}{files:?}"));
        self.commits.push(Commit { sha, date, files });
    }
}

impl Repo {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// The stand-in's data and counters.
#[derive(Debug, Default)]
pub struct Db {
    pub repos: Vec<Repo>,
    /// Items a page holds at most (GitHub: `per_page`, up to 100).
    pub max_per_page: usize,
}

/// `repos` repositories of owner `acme`, each with `issues` issues (every
/// third a pull request) updated a minute apart, two comments on every
/// other one and a review comment on each pull request.
pub fn org(repos: usize, issues: usize) -> Db {
    let mut db = Db {
        max_per_page: 100,
        ..Db::default()
    };
    for r in 0..repos {
        let mut repo = Repo {
            owner: "acme".into(),
            name: format!("repo-{r}"),
            ..Repo::default()
        };
        for n in 1..=issues as u64 {
            let pull = n.is_multiple_of(3);
            repo.issues.push(Issue {
                number: n,
                title: format!("{} {n} of repo-{r}", if pull { "Change" } else { "Bug" }),
                body: format!("Steps to reproduce {n}.\n\n- open\n- close"),
                pull,
                updated: at(n as i64),
                comments: if n.is_multiple_of(2) {
                    vec![format!("Seen on {n}"), format!("Fixed {n}")]
                } else {
                    Vec::new()
                },
                review_comments: if pull {
                    vec![format!("Nit in {n}")]
                } else {
                    Vec::new()
                },
                raw: None,
            });
        }
        db.repos.push(repo);
    }
    db
}

/// The stand-in as a wiremock responder; clones share the data.
#[derive(Clone)]
pub struct StandIn {
    pub db: Arc<Mutex<Db>>,
    pub base: Arc<Mutex<String>>,
    pub requests: Arc<AtomicU64>,
    pub remaining: Arc<AtomicU64>,
}

impl StandIn {
    pub fn new(db: Db) -> Self {
        Self {
            db: Arc::new(Mutex::new(db)),
            base: Arc::new(Mutex::new(String::new())),
            requests: Arc::new(AtomicU64::new(0)),
            remaining: Arc::new(AtomicU64::new(5000)),
        }
    }

    /// Where the stand-in answers (for the `Link` headers' absolute URLs).
    pub fn set_base(&self, base: &str) {
        *self.base.lock().unwrap() = base.trim_end_matches('/').to_owned();
    }

    fn base(&self) -> String {
        self.base.lock().unwrap().clone()
    }

    fn issue_json(&self, repo: &Repo, issue: &Issue) -> String {
        if let Some(raw) = &issue.raw {
            return raw.clone();
        }
        let full = repo.full_name();
        let api = format!(
            "https://api.github.com/repos/{full}/issues/{}",
            issue.number
        );
        let kind = if issue.pull { "pull" } else { "issues" };
        let mut v = json!({
            "id": 1_000_000 + issue.number,
            "node_id": "MDU6SXNzdWUx",
            "url": api,
            "repository_url": format!("https://api.github.com/repos/{full}"),
            "labels_url": format!("{api}/labels{{/name}}"),
            "comments_url": format!("{api}/comments"),
            "events_url": format!("{api}/events"),
            "html_url": format!("https://github.com/{full}/{kind}/{}", issue.number),
            "number": issue.number,
            "state": if issue.number.is_multiple_of(4) { "closed" } else { "open" },
            "state_reason": if issue.number.is_multiple_of(4) { json!("completed") } else { Value::Null },
            "title": issue.title,
            "body": issue.body,
            "user": user("octocat"),
            "labels": [{
                "id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
                "url": format!("https://api.github.com/repos/{full}/labels/bug"),
                "name": "bug", "description": "Something isn't working",
                "color": "f29513", "default": true
            }],
            "assignee": user("hubot"),
            "assignees": [user("hubot")],
            "milestone": {
                "url": format!("https://api.github.com/repos/{full}/milestones/1"),
                "html_url": format!("https://github.com/{full}/milestones/v1.0"),
                "labels_url": format!("https://api.github.com/repos/{full}/milestones/1/labels"),
                "id": 1002604, "node_id": "MDk6TWlsZXN0b25lMTAwMjYwNA==", "number": 1,
                "state": "open", "title": "v1.0", "description": "Tracking milestone for version 1.0",
                "creator": user("octocat"), "open_issues": 4, "closed_issues": 8,
                "created_at": "2011-04-10T20:09:31Z", "updated_at": "2014-03-03T18:58:10Z",
                "closed_at": null, "due_on": "2012-10-09T23:39:01Z"
            },
            "locked": false,
            "active_lock_reason": null,
            "comments": issue.comments.len(),
            "closed_at": if issue.number.is_multiple_of(4) { json!(stamp(issue.updated)) } else { Value::Null },
            "created_at": stamp(at(0)),
            "updated_at": stamp(issue.updated),
            "author_association": "COLLABORATOR"
        });
        if issue.pull {
            v["pull_request"] = json!({
                "url": format!("https://api.github.com/repos/{full}/pulls/{}", issue.number),
                "html_url": format!("https://github.com/{full}/pull/{}", issue.number),
                "diff_url": format!("https://github.com/{full}/pull/{}.diff", issue.number),
                "patch_url": format!("https://github.com/{full}/pull/{}.patch", issue.number),
                "merged_at": null
            });
        }
        v.to_string()
    }

    fn repo_json(repo: &Repo) -> Value {
        let full = repo.full_name();
        json!({
            "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
            "name": repo.name, "full_name": full,
            "owner": user(&repo.owner),
            "private": repo.private,
            "html_url": format!("https://github.com/{full}"),
            "description": "This your first repo!",
            "fork": repo.fork,
            "url": format!("https://api.github.com/repos/{full}"),
            "archived": repo.archived, "disabled": false,
            "visibility": if repo.private { "private" } else { "public" },
            "default_branch": "main",
            "has_issues": true,
            "pushed_at": "2011-01-26T19:06:43Z",
            "created_at": "2011-01-26T19:01:12Z",
            "updated_at": "2011-01-26T19:14:43Z"
        })
    }

    fn comment_json(full: &str, number: u64, i: usize, body: &str, review: bool) -> Value {
        let id = number * 1000 + i as u64 + if review { 500 } else { 0 };
        let mut v = json!({
            "id": id, "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
            "url": format!("https://api.github.com/repos/{full}/issues/comments/{id}"),
            "html_url": format!("https://github.com/{full}/issues/{number}#issuecomment-{id}"),
            "body": body,
            "user": user(if i.is_multiple_of(2) { "hubot" } else { "octocat" }),
            "created_at": stamp(at(i as i64 + if review { 30 } else { 0 })),
            "updated_at": stamp(at(i as i64)),
            "issue_url": format!("https://api.github.com/repos/{full}/issues/{number}"),
            "author_association": "COLLABORATOR"
        });
        if review {
            v["pull_request_review_id"] = json!(42);
            v["diff_hunk"] = json!("@@ -16,33 +16,40 @@ public class Connection : IConnection...");
            v["path"] = json!("file1.txt");
            v["line"] = json!(2);
            v["commit_id"] = json!("6dcb09b5b57875f334f61aebed695e2e4193db5e");
            v["original_commit_id"] = json!("9c48853fa3dc5c1c3d6f1f1cd1f2743e72652840");
            v["html_url"] = json!(format!(
                "https://github.com/{full}/pull/{number}#discussion-diff-{id}"
            ));
            v["pull_request_url"] = json!(format!(
                "https://api.github.com/repos/{full}/pulls/{number}"
            ));
        }
        v
    }

    /// A page of `items` (JSON texts) at 1-based `page` of `per`, with the
    /// `Link` header GitHub sends.
    fn paged(&self, req: &Request, items: Vec<String>) -> ResponseTemplate {
        self.paged_in(req, items, None)
    }

    /// [`paged`](Self::paged), the items under `key` of an object with their
    /// `total_count` (as `/installation/repositories` answers) when given.
    fn paged_in(&self, req: &Request, items: Vec<String>, key: Option<&str>) -> ResponseTemplate {
        let q = query(req);
        let per = q
            .get("per_page")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(30)
            .clamp(1, self.db.lock().unwrap().max_per_page.max(1));
        let page = q
            .get("page")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let start = (page - 1) * per;
        let slice: Vec<String> = items.iter().skip(start).take(per).cloned().collect();
        let last = items.len().div_ceil(per).max(1);
        let body = match key {
            None => format!("[{}]", slice.join(",")),
            Some(key) => format!(
                "{{\"total_count\":{},\"repository_selection\":\"all\",\"{key}\":[{}]}}",
                items.len(),
                slice.join(",")
            ),
        };
        let Some(mut t) = self.conditional(req, &body) else {
            return self.not_modified(req, &body);
        };
        t = t.set_body_raw(body, "application/json; charset=utf-8");
        let link_to = |p: usize| {
            let mut url = url::Url::parse(&format!("{}{}", self.base(), req.url.path())).unwrap();
            {
                let mut pairs = url.query_pairs_mut();
                for (k, v) in &q {
                    if k != "page" {
                        pairs.append_pair(k, v);
                    }
                }
                pairs.append_pair("page", &p.to_string());
            }
            url.to_string()
        };
        let mut links = Vec::new();
        if page < last {
            links.push(format!("<{}>; rel=\"next\"", link_to(page + 1)));
            links.push(format!("<{}>; rel=\"last\"", link_to(last)));
        }
        if page > 1 {
            links.push(format!("<{}>; rel=\"first\"", link_to(1)));
            links.push(format!("<{}>; rel=\"prev\"", link_to(page - 1)));
        }
        if !links.is_empty() {
            t = t.insert_header("link", links.join(", ").as_str());
        }
        t
    }

    /// A 200 with the body's `ETag`, or `None` when the request's
    /// `If-None-Match` names it (answer [`not_modified`](Self::not_modified)).
    fn conditional(&self, req: &Request, body: &str) -> Option<ResponseTemplate> {
        let etag = format!("W/\"{}\"", sha_of(body));
        let asked = req
            .headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok());
        (asked != Some(etag.as_str())).then(|| self.ok().insert_header("etag", etag.as_str()))
    }

    /// A 304: GitHub does not count it against the budget.
    fn not_modified(&self, _req: &Request, body: &str) -> ResponseTemplate {
        let left = self.remaining.load(Ordering::Relaxed);
        ResponseTemplate::new(304)
            .insert_header("etag", format!("W/\"{}\"", sha_of(body)).as_str())
            .insert_header("x-ratelimit-limit", "5000")
            .insert_header("x-ratelimit-remaining", left.to_string().as_str())
    }

    /// A 200 with GitHub's rate-limit headers.
    fn ok(&self) -> ResponseTemplate {
        let left = self
            .remaining
            .fetch_sub(1, Ordering::Relaxed)
            .saturating_sub(1);
        ResponseTemplate::new(200)
            .insert_header("x-ratelimit-limit", "5000")
            .insert_header("x-ratelimit-remaining", left.to_string().as_str())
            .insert_header("x-ratelimit-used", (5000 - left).to_string().as_str())
            .insert_header(
                "x-ratelimit-reset",
                (Utc::now().timestamp() + 3600).to_string().as_str(),
            )
            .insert_header("x-ratelimit-resource", "core")
            .insert_header("x-github-api-version-selected", "2022-11-28")
    }

    fn not_found() -> ResponseTemplate {
        ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest",
            "status": "404"
        }))
    }
}

fn query(req: &Request) -> BTreeMap<String, String> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

impl Respond for StandIn {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let installation = auth == format!("Bearer {INSTALLATION_TOKEN}");
        if auth != format!("Bearer {TOKEN}") && !installation {
            return ResponseTemplate::new(401).set_body_json(json!({
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest",
                "status": "401"
            }));
        }
        let path: Vec<String> = req
            .url
            .path_segments()
            .map(|s| s.map(percent).collect())
            .unwrap_or_default();
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let db = self.db.lock().unwrap();
        let find = |owner: &str, name: &str| {
            db.repos
                .iter()
                .find(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
                .cloned()
        };
        match path.as_slice() {
            ["user"] | ["user", "repos"] if installation => {
                ResponseTemplate::new(403).set_body_json(json!({
                    "message": "Resource not accessible by integration",
                    "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
                    "status": "403"
                }))
            }
            ["installation", "repositories"] if !installation => {
                ResponseTemplate::new(403).set_body_json(json!({
                    "message": "You must authenticate with an installation access token in order to list repositories for an installation.",
                    "documentation_url": "https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-app-installation",
                    "status": "403"
                }))
            }
            ["installation", "repositories"] => {
                // Installed on every owner of the stand-in, all repositories.
                let items: Vec<String> =
                    db.repos.iter().map(|r| Self::repo_json(r).to_string()).collect();
                drop(db);
                self.paged_in(req, items, Some("repositories"))
            }
            ["user"] => self.ok().set_body_json(user("octocat")),
            ["user", "repos"] => {
                // The signed-in user, octocat: every repository it owns.
                let items: Vec<String> = db
                    .repos
                    .iter()
                    .filter(|r| r.owner == "octocat")
                    .map(|r| Self::repo_json(r).to_string())
                    .collect();
                drop(db);
                self.paged(req, items)
            }
            ["orgs", owner, "repos"] if *owner == "octocat" => Self::not_found(),
            ["orgs", owner, "repos"] | ["users", owner, "repos"] => {
                // Another user's listing shows its public repositories only.
                let public_only = path[0] == "users";
                let items: Vec<String> = db
                    .repos
                    .iter()
                    .filter(|r| r.owner.eq_ignore_ascii_case(owner))
                    .filter(|r| !(public_only && r.private))
                    .map(|r| Self::repo_json(r).to_string())
                    .collect();
                if items.is_empty() {
                    return Self::not_found();
                }
                drop(db);
                self.paged(req, items)
            }
            ["repos", owner, name] => match find(owner, name) {
                Some(repo) => self.ok().set_body_json(Self::repo_json(&repo)),
                None => Self::not_found(),
            },
            ["repos", owner, name, "issues"] => {
                let Some(repo) = find(owner, name) else {
                    return Self::not_found();
                };
                drop(db);
                let q = query(req);
                let since = q
                    .get("since")
                    .map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
                let mut issues: Vec<&Issue> = repo
                    .issues
                    .iter()
                    .filter(|i| since.is_none_or(|s| i.updated >= s))
                    .collect();
                let asc = q.get("direction").map(String::as_str) == Some("asc");
                if q.get("sort").map(String::as_str) == Some("updated") {
                    issues.sort_by_key(|i| (i.updated, i.number));
                } else {
                    issues.sort_by_key(|i| i.number);
                }
                if !asc {
                    issues.reverse();
                }
                let items = issues.iter().map(|i| self.issue_json(&repo, i)).collect();
                self.paged(req, items)
            }
            [
                "repos",
                owner,
                name,
                kind @ ("issues" | "pulls"),
                number,
                "comments",
            ] => {
                let Some(repo) = find(owner, name) else {
                    return Self::not_found();
                };
                drop(db);
                let number: u64 = number.parse().unwrap_or(0);
                let Some(issue) = repo.issues.iter().find(|i| i.number == number) else {
                    return Self::not_found();
                };
                let review = *kind == "pulls";
                if review && !issue.pull {
                    return Self::not_found();
                }
                let list = if review {
                    &issue.review_comments
                } else {
                    &issue.comments
                };
                let items = list
                    .iter()
                    .enumerate()
                    .map(|(i, body)| {
                        Self::comment_json(&repo.full_name(), number, i, body, review).to_string()
                    })
                    .collect();
                self.paged(req, items)
            }
            ["repos", owner, name, "collaborators"] => {
                if find(owner, name).is_none() {
                    return Self::not_found();
                }
                drop(db);
                let items = ["octocat", "hubot"]
                    .iter()
                    .map(|login| {
                        let mut u = user(login);
                        u["permissions"] = json!({"pull": true, "triage": true, "push": true, "maintain": false, "admin": false});
                        u["role_name"] = json!("write");
                        u.to_string()
                    })
                    .collect();
                self.paged(req, items)
            }
            ["repos", owner, name, "teams"] => {
                let Some(repo) = find(owner, name) else {
                    return Self::not_found();
                };
                drop(db);
                let team = json!({
                    "id": 1, "node_id": "MDQ6VGVhbTE=",
                    "url": format!("https://api.github.com/teams/1"),
                    "html_url": format!("https://github.com/orgs/{}/teams/justice-league", repo.owner),
                    "name": "Justice League", "slug": "justice-league",
                    "description": "A great team.", "privacy": "closed",
                    "notification_setting": "notifications_enabled", "permission": "pull",
                    "members_url": "https://api.github.com/teams/1/members{/member}",
                    "repositories_url": "https://api.github.com/teams/1/repos",
                    "parent": null
                });
                self.paged(req, vec![team.to_string()])
            }
            ["repos", owner, name, "git", "trees", tree] => {
                let Some(repo) = find(owner, name) else {
                    return Self::not_found();
                };
                drop(db);
                let Some(head) = repo.commits.last() else {
                    return ResponseTemplate::new(409).set_body_json(json!({
                        "message": "Git Repository is empty.",
                        "documentation_url": "https://docs.github.com/rest/git/trees#get-a-tree",
                        "status": "409"
                    }));
                };
                let dir = match *tree {
                    "main" => String::new(),
                    t if t == head.sha => String::new(),
                    t => match t.strip_prefix("tree-") {
                        Some(d) => d.replace('~', "/"),
                        None => return Self::not_found(),
                    },
                };
                let recursive = query(req).contains_key("recursive");
                let truncated = recursive && dir.is_empty() && repo.truncate_root;
                let prefix = if dir.is_empty() {
                    String::new()
                } else {
                    format!("{dir}/")
                };
                let mut entries: Vec<Value> = Vec::new();
                let mut dirs = std::collections::BTreeSet::new();
                for (path, content) in &head.files {
                    let Some(rest) = path.strip_prefix(&prefix) else {
                        continue;
                    };
                    match rest.split_once('/') {
                        Some((sub, _)) if !recursive || truncated => {
                            dirs.insert(sub.to_owned());
                            if truncated {
                                continue;
                            }
                        }
                        Some(_) => {}
                        None => {}
                    }
                    if (!recursive || truncated) && rest.contains('/') {
                        continue;
                    }
                    entries.push(json!({
                        "path": rest, "mode": "100644", "type": "blob",
                        "sha": sha_of(content), "size": content.len(),
                        "url": format!("https://api.github.com/repos/{}/git/blobs/{}", repo.full_name(), sha_of(content))
                    }));
                }
                if recursive && !truncated {
                    let mut seen = std::collections::BTreeSet::new();
                    for path in head.files.keys() {
                        let Some(rest) = path.strip_prefix(&prefix) else {
                            continue;
                        };
                        let parts: Vec<&str> = rest.split('/').collect();
                        for k in 1..parts.len() {
                            seen.insert(parts[..k].join("/"));
                        }
                    }
                    for d in seen {
                        entries.push(json!({"path": d, "mode": "040000", "type": "tree",
                            "sha": format!("tree-{}", format!("{prefix}{d}").replace('/', "~"))}));
                    }
                } else {
                    for d in dirs {
                        entries.push(json!({"path": d, "mode": "040000", "type": "tree",
                            "sha": format!("tree-{}", format!("{prefix}{d}").replace('/', "~"))}));
                    }
                }
                self.ok().set_body_json(json!({
                    "sha": if dir.is_empty() { head.sha.clone() } else { tree.to_string() },
                    "url": format!("https://api.github.com/repos/{}/git/trees/{tree}", repo.full_name()),
                    "tree": entries,
                    "truncated": truncated
                }))
            }
            ["repos", owner, name, "git", "blobs", sha] => {
                let Some(repo) = find(owner, name) else {
                    return Self::not_found();
                };
                drop(db);
                let content = repo
                    .commits
                    .iter()
                    .flat_map(|c| c.files.values())
                    .find(|c| sha_of(c) == *sha);
                match content {
                    Some(content) => {
                        use base64::Engine as _;
                        let encoded = base64::engine::general_purpose::STANDARD.encode(content);
                        // GitHub wraps the base64 at 60 characters.
                        let wrapped: Vec<String> = encoded
                            .as_bytes()
                            .chunks(60)
                            .map(|c| String::from_utf8_lossy(c).into_owned())
                            .collect();
                        self.ok().set_body_json(json!({
                            "content": wrapped.join("\n") + "\n",
                            "encoding": "base64",
                            "url": format!("https://api.github.com/repos/{}/git/blobs/{sha}", repo.full_name()),
                            "sha": sha, "size": content.len(), "node_id": "Q29udGVudCBvZiBibG9i"
                        }))
                    }
                    None => Self::not_found(),
                }
            }
            ["repos", owner, name, "commits"] => {
                let Some(repo) = find(owner, name) else {
                    return Self::not_found();
                };
                drop(db);
                let q = query(req);
                let until = q
                    .get("until")
                    .map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
                let items: Vec<String> = repo
                    .commits
                    .iter()
                    .rev()
                    .filter(|c| until.is_none_or(|u| c.date <= u))
                    .map(|c| {
                        json!({
                            "sha": c.sha, "node_id": "MDY6Q29tbWl0",
                            "url": format!("https://api.github.com/repos/{}/commits/{}", repo.full_name(), c.sha),
                            "html_url": format!("https://github.com/{}/commit/{}", repo.full_name(), c.sha),
                            "commit": {
                                "message": "Update docs",
                                "author": {"name": "Monalisa Octocat", "email": "support@github.com", "date": stamp(c.date)},
                                "committer": {"name": "Monalisa Octocat", "email": "support@github.com", "date": stamp(c.date)},
                                "tree": {"sha": c.sha, "url": ""}, "comment_count": 0
                            },
                            "parents": []
                        })
                        .to_string()
                    })
                    .collect();
                self.paged(req, items)
            }
            ["repos", owner, name, "compare", range] => {
                let Some(repo) = find(owner, name) else {
                    return Self::not_found();
                };
                drop(db);
                let Some((base, head)) = range.split_once("...") else {
                    return Self::not_found();
                };
                let at = |r: &str| {
                    if r == "main" {
                        repo.commits.last()
                    } else {
                        repo.commits.iter().find(|c| c.sha == r)
                    }
                };
                let (Some(base), Some(head)) = (at(base), at(head)) else {
                    return Self::not_found();
                };
                let mut files = Vec::new();
                let removed: Vec<(&String, &String)> = base
                    .files
                    .iter()
                    .filter(|(p, _)| !head.files.contains_key(*p))
                    .collect();
                let mut renamed_from = std::collections::BTreeSet::new();
                for (path, content) in &head.files {
                    match base.files.get(path) {
                        Some(old) if old == content => {}
                        Some(_) => files.push(json!({"sha": sha_of(content), "filename": path, "status": "modified", "additions": 1, "deletions": 1, "changes": 2})),
                        None => match removed.iter().find(|(_, c)| *c == content) {
                            Some((from, _)) => {
                                renamed_from.insert((*from).clone());
                                files.push(json!({"sha": sha_of(content), "filename": path, "status": "renamed", "previous_filename": from, "additions": 0, "deletions": 0, "changes": 0}));
                            }
                            None => files.push(json!({"sha": sha_of(content), "filename": path, "status": "added", "additions": 1, "deletions": 0, "changes": 1})),
                        },
                    }
                }
                for (path, content) in removed {
                    if !renamed_from.contains(path) {
                        files.push(json!({"sha": sha_of(content), "filename": path, "status": "removed", "additions": 0, "deletions": 1, "changes": 1}));
                    }
                }
                let body = json!({
                    "url": format!("https://api.github.com/repos/{}/compare/{range}", repo.full_name()),
                    "status": "ahead", "ahead_by": 1, "behind_by": 0, "total_commits": 1,
                    "commits": [], "files": files
                })
                .to_string();
                match self.conditional(req, &body) {
                    Some(t) => t.set_body_raw(body, "application/json; charset=utf-8"),
                    None => self.not_modified(req, &body),
                }
            }
            _ => Self::not_found(),
        }
    }
}

fn percent(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
