//! Fixtures: a stand-in instance with knowledge articles, incidents with
//! their journal, catalog items and a custom table, in the Table API's
//! shapes.

#![allow(dead_code, clippy::unwrap_used)]

#[path = "../../testing/standin.rs"]
pub mod standin;

use std::time::Duration;

use connector_core::options::{RetryPolicy, SourceOptions};
use connector_servicenow::{ServiceNowAuth, ServiceNowConfig, ServiceNowConnector, TableSpec};
use standin::{Db, StandIn, at, sys_id};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

pub const USER: &str = "integration";
pub const PASSWORD: &str = "pa55-s3cr3t-0042";

/// `Basic base64(integration:pa55-s3cr3t-0042)`.
pub fn basic() -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    format!("Basic {encoded}")
}

/// Quick retries, for tests.
pub fn options() -> SourceOptions {
    SourceOptions::default().with_retry(
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_delays(Duration::from_millis(10), Duration::from_millis(50)),
    )
}

/// sys_ids by table: knowledge 1xx, incidents 2xx, catalog 3xx, custom 4xx,
/// journal 5xx.
pub fn kb_id(n: usize) -> String {
    sys_id(0x100 + n)
}
pub fn incident_id(n: usize) -> String {
    sys_id(0x200 + n)
}
pub fn attachment_id(n: usize) -> String {
    sys_id(0x600 + n)
}
pub fn item_id(n: usize) -> String {
    sys_id(0x400 + n)
}

/// `n` published articles (plus one draft and one expired), `incidents`
/// incidents with two comments and a work note each, two catalog items (one
/// retired), and `items` records of the custom table `u_item`.
pub fn instance(articles: usize, incidents: usize, items: usize) -> Db {
    let mut db = Db {
        record_queries: true,
        authorization: Some(basic()),
        ..Db::default()
    };
    db.tables.insert("kb_knowledge".into(), Vec::new());
    db.tables.insert("incident".into(), Vec::new());
    db.tables.insert("sc_cat_item".into(), Vec::new());
    db.tables.insert("sys_journal_field".into(), Vec::new());
    db.tables.insert("u_item".into(), Vec::new());
    db.tables.insert("sys_db_object".into(), Vec::new());
    db.tables.insert("kb_knowledge_base".into(), Vec::new());
    db.tables.insert("sys_attachment".into(), Vec::new());
    for (name, label) in [
        ("kb_knowledge", "Knowledge"),
        ("incident", "Incident"),
        ("sc_cat_item", "Catalog Item"),
        ("u_item", "Item"),
    ] {
        db.insert(
            "sys_db_object",
            &[("name", name), ("label", label), ("sys_id", &sys_id(0x900))],
        );
    }
    db.insert(
        "kb_knowledge_base",
        &[
            ("sys_id", &sys_id(0xa00)),
            ("title", "IT"),
            ("active", "true"),
        ],
    );
    for n in 1..=articles {
        let id = kb_id(n);
        let body = format!(
            "<h2>Reset your VPN password</h2><p>Article {n}: open the <a href=\"/vpn\">portal</a> &amp; pick <b>Reset</b>.</p><ul><li>one</li><li>two</li></ul>"
        );
        db.insert(
            "kb_knowledge",
            &[
                ("sys_id", &id),
                ("number", &format!("KB{:07}", n)),
                ("short_description", &format!("VPN article {n}")),
                ("text", &body),
                ("workflow_state", "published"),
                ("valid_to", "2100-01-01"),
                ("article_type", "html"),
                ("sys_created_on", &at(0)),
                ("sys_updated_on", &at(n as i64 * 60)),
                ("kb_knowledge_base", &sys_id(0xa00)),
                ("kb_knowledge_base.title", "IT"),
                ("kb_category", &sys_id(0xb00)),
                ("kb_category.label", "Network"),
                ("kb_category.parent_id.label", "Infrastructure"),
                ("author.name", "Ada Lovelace"),
                ("author.email", "ada@example.com"),
                (
                    "can_read_user_criteria",
                    &format!("{},{}", sys_id(0xc01), sys_id(0xc02)),
                ),
                ("cannot_read_user_criteria", ""),
            ],
        );
    }
    for (n, state, valid_to) in [
        (900, "draft", "2100-01-01"),
        (901, "published", "2001-01-01"),
    ] {
        db.insert(
            "kb_knowledge",
            &[
                ("sys_id", &kb_id(n)),
                ("number", &format!("KB{n:07}")),
                ("short_description", "not for the index"),
                ("text", "<p>hidden</p>"),
                ("workflow_state", state),
                ("valid_to", valid_to),
                ("sys_created_on", &at(0)),
                ("sys_updated_on", &at(30)),
            ],
        );
    }
    for n in 1..=incidents {
        let id = incident_id(n);
        db.insert(
            "incident",
            &[
                ("sys_id", &id),
                ("number", &format!("INC{:07}", n)),
                ("short_description", &format!("Email down {n}")),
                ("description", "Outlook cannot connect since 9:00."),
                ("close_notes", "Restarted the exchange connector."),
                ("state", "6"),
                ("priority", "2"),
                ("category", "software"),
                ("caller_id", &sys_id(0xd00)),
                ("assignment_group", &sys_id(0xe00)),
                ("sys_created_on", &at(0)),
                ("sys_updated_on", &at(n as i64 * 60)),
            ],
        );
        for (i, (element, value)) in [
            ("comments", "Any news?"),
            ("work_notes", "Checked the mail relay."),
            ("comments", "Works again, thanks."),
        ]
        .iter()
        .enumerate()
        {
            db.insert(
                "sys_journal_field",
                &[
                    ("sys_id", &sys_id(0x10_000 + n * 10 + i)),
                    ("name", "incident"),
                    ("element_id", &id),
                    ("element", element),
                    ("value", value),
                    ("sys_created_on", &at(100 + i as i64)),
                    ("sys_created_by", "beth.anglin"),
                ],
            );
        }
    }
    db.display
        .entry("state".into())
        .or_default()
        .insert("6".into(), "Resolved".into());
    db.display
        .entry("priority".into())
        .or_default()
        .insert("2".into(), "2 - High".into());
    db.display
        .entry("caller_id".into())
        .or_default()
        .insert(sys_id(0xd00), "Abel Tuter".into());
    db.display
        .entry("assignment_group".into())
        .or_default()
        .insert(sys_id(0xe00), "Service Desk".into());
    if incidents > 0 {
        // Incident 1 has two attachments, as the Attachment API lists them.
        for (n, name, kind, bytes) in [
            (
                1,
                "notes.txt",
                "text/plain",
                b"Mail relay restarted at 10:05.".to_vec(),
            ),
            (
                2,
                "diagram.png",
                "image/png",
                vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3],
            ),
        ] {
            let id = attachment_id(n);
            db.insert(
                "sys_attachment",
                &[
                    ("sys_id", &id),
                    ("file_name", name),
                    ("content_type", kind),
                    ("size_bytes", &bytes.len().to_string()),
                    ("table_name", "incident"),
                    ("table_sys_id", &incident_id(1)),
                    ("sys_created_on", &at(200 + n as i64)),
                    (
                        "download_link",
                        &format!("https://acme.service-now.com/api/now/attachment/{id}/file"),
                    ),
                ],
            );
            db.files.insert(id, bytes);
        }
    }
    for (n, active) in [(1, "true"), (2, "false")] {
        db.insert(
            "sc_cat_item",
            &[
                ("sys_id", &sys_id(0x300 + n)),
                ("name", &format!("New laptop {n}")),
                ("short_description", "Request a standard laptop"),
                (
                    "description",
                    "<p>Choose <i>one</i> model:</p><ol><li>13 inch</li><li>15 inch</li></ol>",
                ),
                ("category", "Hardware"),
                ("sc_catalogs", "Service Catalog"),
                ("active", active),
                ("sys_created_on", &at(0)),
                ("sys_updated_on", &at(n as i64)),
            ],
        );
    }
    for n in 1..=items {
        db.insert(
            "u_item",
            &[
                ("sys_id", &item_id(n)),
                ("u_name", &format!("Item {n}")),
                ("u_notes", &format!("notes of item {n}")),
                ("sys_created_on", &at(0)),
                ("sys_updated_on", &at(n as i64 * 60)),
                ("sys_created_by", "admin"),
            ],
        );
    }
    db
}

/// A server answering from `db`.
pub async fn serve(db: Db) -> (MockServer, StandIn) {
    let server = MockServer::start().await;
    let standin = StandIn::new(db);
    Mock::given(any())
        .respond_with(standin.clone())
        .mount(&server)
        .await;
    (server, standin)
}

/// A connector for `server` reading `tables`.
pub fn connector(server: &MockServer, tables: &[&str], page_size: u32) -> ServiceNowConnector {
    ServiceNowConnector::new(config(server, tables, page_size)).unwrap()
}

pub fn config(server: &MockServer, tables: &[&str], page_size: u32) -> ServiceNowConfig {
    // The custom table with its two fields picked.
    let specs = tables.iter().map(|t| match *t {
        "u_item" => TableSpec::named("u_item").fields(["u_name", "u_notes"]),
        other => TableSpec::named(other),
    });
    ServiceNowConfig::new(server.uri())
        .tables(specs)
        .page_size(page_size)
        .credentials(ServiceNowAuth::basic(USER, PASSWORD))
        .options(options())
}
