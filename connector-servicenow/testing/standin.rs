//! A ServiceNow Table API stand-in for tests and benchmarks (a wiremock
//! responder): `GET /api/now/table/{table}` over an in-memory set of
//! records, answering as an instance does — `{"result": [...]}`,
//! `X-Total-Count`, a `Link` header with `first`/`prev`/`next`/`last`,
//! error bodies `{"error": {"message", "detail"}, "status": "failure"}`.
//!
//! It reads the encoded queries the connector (and a plain offset loop)
//! sends: conditions joined by `^`, `^OR` binding to the condition before,
//! operators `=`, `!=`, `>`, `>=`, `<`, `<=`, `IN`, `STARTSWITH`, `ISEMPTY`, and
//! `ORDERBY` (records are sorted by the named fields). Access controls are
//! mimicked by records marked hidden: counted, matched, never returned.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

/// One stored record: its fields as stored values (strings).
pub type Fields = BTreeMap<String, String>;

/// Run before a table page is answered: `(data, table, request number)`.
pub type PageHook = Box<dyn FnMut(&mut Db, &str, usize) + Send>;

/// The instance's data and behaviour, shared with the test driving it.
#[derive(Default)]
pub struct Db {
    /// Records per table, in insertion order.
    pub tables: BTreeMap<String, Vec<Fields>>,
    /// Display values that differ from the stored value, per field name.
    pub display: BTreeMap<String, BTreeMap<String, String>>,
    /// sys_ids the user may not see (counted, never returned).
    pub hidden: HashSet<String>,
    /// Tables the user may not read (403).
    pub forbidden: HashSet<String>,
    /// The Basic/Bearer `Authorization` value accepted; `None`: any.
    pub authorization: Option<String>,
    /// Run before answering a table page: `(table, request number)`.
    pub before_page: Option<PageHook>,
    /// Page requests answered per table.
    pub pages: BTreeMap<String, usize>,
    /// Every `sysparm_query` received, with its table.
    pub queries: Vec<(String, String)>,
    /// Above this many records a page is cancelled as a transaction
    /// running too long (a `200` ending in an error object).
    pub cancel_above: Option<usize>,
    /// Answer latency.
    pub latency: Duration,
    /// Keep `queries` (off for benchmarks).
    pub record_queries: bool,
    /// Attachment bytes by attachment sys_id (`/api/now/attachment/{id}/file`).
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Db {
    /// Add a record to `table`.
    pub fn insert(&mut self, table: &str, fields: &[(&str, &str)]) {
        let record: Fields = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.tables
            .entry(table.to_owned())
            .or_default()
            .push(record);
    }

    /// Set `field` of the record `sys_id` in `table`.
    pub fn update(&mut self, table: &str, sys_id: &str, field: &str, value: &str) {
        if let Some(r) = self
            .tables
            .get_mut(table)
            .and_then(|t| t.iter_mut().find(|r| r["sys_id"] == sys_id))
        {
            r.insert(field.to_owned(), value.to_owned());
        }
    }

    /// Remove the record `sys_id` from `table`.
    pub fn delete(&mut self, table: &str, sys_id: &str) {
        if let Some(t) = self.tables.get_mut(table) {
            t.retain(|r| r["sys_id"] != sys_id);
        }
    }
}

/// The responder; clone the `Arc` to drive the data from a test.
#[derive(Clone, Default)]
pub struct StandIn(pub Arc<Mutex<Db>>);

impl StandIn {
    pub fn new(db: Db) -> Self {
        Self(Arc::new(Mutex::new(db)))
    }

    pub fn db(&self) -> std::sync::MutexGuard<'_, Db> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A ServiceNow error answer.
pub fn error(status: u16, message: &str, detail: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "detail": detail},
        "status": "failure"
    }))
}

/// One condition of an encoded query.
#[derive(Debug)]
struct Cond {
    field: String,
    op: &'static str,
    value: String,
}

impl Cond {
    fn parse(text: &str) -> Option<Cond> {
        if let Some(field) = text.strip_suffix("ISEMPTY") {
            return Some(Cond {
                field: field.to_owned(),
                op: "ISEMPTY",
                value: String::new(),
            });
        }
        if let Some(at) = text.find("STARTSWITH") {
            return Some(Cond {
                field: text[..at].to_owned(),
                op: "STARTSWITH",
                value: text[at + "STARTSWITH".len()..].to_owned(),
            });
        }
        if let Some(at) = text.find("IN") {
            let (field, value) = (&text[..at], &text[at + 2..]);
            if !field.is_empty() && field.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return Some(Cond {
                    field: field.to_owned(),
                    op: "IN",
                    value: value.to_owned(),
                });
            }
        }
        for op in [">=", "<=", "!=", ">", "<", "="] {
            if let Some(at) = text.find(op) {
                return Some(Cond {
                    field: text[..at].to_owned(),
                    op,
                    value: text[at + op.len()..].to_owned(),
                });
            }
        }
        None
    }

    fn holds(&self, record: &Fields) -> bool {
        let v = record.get(&self.field).map(String::as_str).unwrap_or("");
        let w = self.value.as_str();
        match self.op {
            "ISEMPTY" => v.is_empty(),
            "IN" => w.split(',').any(|x| x == v),
            "STARTSWITH" => v.starts_with(w),
            ">=" => v >= w,
            "<=" => v <= w,
            ">" => v > w,
            "<" => v < w,
            "!=" => v != w,
            _ => v == w,
        }
    }
}

/// A parsed encoded query: AND of OR-groups, and the order.
struct Query {
    groups: Vec<Vec<Cond>>,
    order: Vec<String>,
}

impl Query {
    fn parse(text: &str) -> Query {
        let mut groups: Vec<Vec<Cond>> = Vec::new();
        let mut order = Vec::new();
        for part in text.split('^').filter(|p| !p.is_empty()) {
            if let Some(field) = part.strip_prefix("ORDERBY") {
                order.push(field.to_owned());
            } else if let Some(rest) = part.strip_prefix("OR") {
                if let (Some(last), Some(c)) = (groups.last_mut(), Cond::parse(rest)) {
                    last.push(c);
                }
            } else if let Some(c) = Cond::parse(part) {
                groups.push(vec![c]);
            }
        }
        Query { groups, order }
    }

    fn matches(&self, record: &Fields) -> bool {
        self.groups
            .iter()
            .all(|g| g.iter().any(|c| c.holds(record)))
    }
}

fn param(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Db {
    fn page(&mut self, request: &Request) -> ResponseTemplate {
        if let Some(expected) = &self.authorization {
            let sent = request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            if sent != Some(expected.as_str()) {
                return error(
                    401,
                    "User Not Authenticated",
                    Some("Required to provide Auth information"),
                );
            }
        }
        let path = request.url.path();
        if let Some(id) = path
            .strip_prefix("/api/now/attachment/")
            .and_then(|rest| rest.strip_suffix("/file"))
        {
            return match self.files.get(id) {
                Some(bytes) => ResponseTemplate::new(200)
                    .set_body_raw(bytes.clone(), "application/octet-stream"),
                None => error(
                    404,
                    "Record doesn't exist or ACL restricts the record retrieval",
                    None,
                ),
            };
        }
        let table = if path == "/api/now/attachment" {
            "sys_attachment".to_owned()
        } else if let Some(table) = path.strip_prefix("/api/now/table/") {
            table.to_owned()
        } else {
            return error(400, "Requested URI does not represent any resource", None);
        };
        if self.forbidden.contains(&table) {
            return error(
                403,
                "User Not Authorized",
                Some("The user does not have the role required to read this table"),
            );
        }
        if !self.tables.contains_key(&table) {
            return error(400, &format!("Invalid table {table}"), None);
        }
        let n = {
            let count = self.pages.entry(table.clone()).or_default();
            *count += 1;
            *count
        };
        if let Some(mut hook) = self.before_page.take() {
            hook(self, &table, n);
            self.before_page = Some(hook);
        }
        let text = param(request, "sysparm_query").unwrap_or_default();
        if self.record_queries {
            self.queries.push((table.clone(), text.clone()));
        }
        let query = Query::parse(&text);
        let limit: usize = param(request, "sysparm_limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(10_000);
        let offset: usize = param(request, "sysparm_offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let fields: Option<Vec<String>> =
            param(request, "sysparm_fields").map(|f| f.split(',').map(str::to_owned).collect());
        let display = param(request, "sysparm_display_value").unwrap_or_else(|| "false".into());
        let mut matching: Vec<&Fields> = self.tables[&table]
            .iter()
            .filter(|r| query.matches(r))
            .collect();
        if !query.order.is_empty() {
            matching.sort_by(|a, b| {
                query
                    .order
                    .iter()
                    .map(|f| a.get(f).cmp(&b.get(f)))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        }
        let total = matching.len();
        if self.cancel_above.is_some_and(|max| limit > max) {
            // What a transaction quota rule leaves: the records so far,
            // then the error.
            let partial: Vec<Value> = matching
                .iter()
                .take(2)
                .map(|r| self.render(r, fields.as_deref(), &display))
                .collect();
            return ResponseTemplate::new(200)
                .set_body_json(json!({
                    "result": partial,
                    "error": {
                        "message": "Transaction cancelled: maximum execution time exceeded",
                        "detail": "Transaction cancelled: maximum execution time exceeded Check logs for error trace or enable glide.rest.debug property to verify REST request processing"
                    },
                    "status": "failure"
                }))
                .set_delay(self.latency);
        }
        let result: Vec<Value> = matching
            .iter()
            .skip(offset)
            .take(limit)
            .filter(|r| !self.hidden.contains(&r["sys_id"]))
            .map(|r| self.render(r, fields.as_deref(), &display))
            .collect();
        let mut response = ResponseTemplate::new(200)
            .insert_header("X-Total-Count", total.to_string().as_str())
            .set_body_json(json!({ "result": result }))
            .set_delay(self.latency);
        if total > limit {
            let link = |rel: &str, at: usize| {
                let mut url = request.url.clone();
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(k, _)| k != "sysparm_offset" && k != "sysparm_limit")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                url.query_pairs_mut()
                    .clear()
                    .extend_pairs(pairs)
                    .append_pair("sysparm_offset", &at.to_string())
                    .append_pair("sysparm_limit", &limit.to_string());
                format!("<{url}>;rel=\"{rel}\"")
            };
            let mut links = vec![link("first", 0)];
            if offset > 0 {
                links.push(link("prev", offset.saturating_sub(limit)));
            }
            if offset + limit < total {
                links.push(link("next", offset + limit));
            }
            links.push(link("last", (total - 1) / limit * limit));
            response = response.insert_header("Link", links.join(",").as_str());
        }
        response
    }

    fn render(&self, record: &Fields, fields: Option<&[String]>, display: &str) -> Value {
        let mut out = Map::new();
        let names: Vec<&String> = match fields {
            Some(f) => f.iter().collect(),
            None => record.keys().collect(),
        };
        for name in names {
            let value = record.get(name).cloned().unwrap_or_default();
            let shown = self
                .display
                .get(name)
                .and_then(|d| d.get(&value))
                .cloned()
                .unwrap_or_else(|| value.clone());
            let rendered = match display {
                "all" => json!({"display_value": shown, "value": value}),
                "true" => json!(shown),
                _ => json!(value),
            };
            out.insert(name.clone(), rendered);
        }
        Value::Object(out)
    }
}

impl Respond for StandIn {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.db().page(request)
    }
}

/// A 32-hex sys_id for `n` (sorted like `n`).
pub fn sys_id(n: usize) -> String {
    format!("{n:032x}")
}

/// `yyyy-MM-dd HH:mm:ss` for `seconds` after 2024-01-01 00:00:00 UTC.
pub fn at(seconds: i64) -> String {
    (chrono::DateTime::from_timestamp(1_704_067_200 + seconds, 0).unwrap())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}
