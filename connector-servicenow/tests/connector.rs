//! The connector against a Table API stand-in: documents of each table,
//! keyset paging under concurrent edits (and offset paging failing there),
//! access-control gaps, cancelled transactions, windows, resume, throttling,
//! authentication failures and validation.

#![allow(clippy::unwrap_used)] // tests fail loudly on fixture mistakes

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use connector_core::http::HttpClient;
use connector_core::{
    CheckpointedConnector, Connector, ErrorKind, LoadConnector, MetadataValue, PollConnector,
    SlimConnector, TimeWindow,
};
use connector_servicenow::{ServiceNowAuth, ServiceNowConnector, TableSpec};
use connector_testing::drain;
use futures::StreamExt;
use serde_json::Value;
use support::standin::{at, error};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn all_time() -> TimeWindow {
    TimeWindow::until(Utc::now())
}

#[tokio::test]
async fn knowledge_articles_become_text_with_hierarchy_and_access() {
    let (server, _) = serve(instance(3, 0, 0)).await;
    let servicenow = connector(&server, &["kb_knowledge"], 500);
    let out = drain(servicenow.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(
        out.documents.len(),
        3,
        "draft and expired articles are left out"
    );
    let doc = &out.documents[0];
    let host = connector_core::url::host(&server.uri()).unwrap();
    assert_eq!(doc.id, format!("{host}/kb_knowledge/{}", kb_id(1)));
    assert_eq!(doc.source, "servicenow");
    assert_eq!(doc.title, "VPN article 1");
    assert_eq!(
        doc.url.as_deref(),
        Some(format!("{}/kb_view.do?sysparm_article=KB0000001", server.uri()).as_str())
    );
    let text = &doc.sections[0].text;
    assert!(text.contains("# Reset your VPN password"), "{text}");
    assert!(text.contains("open the portal & pick Reset."), "{text}");
    assert!(text.contains("- one"), "{text}");
    assert!(!text.contains('<'), "{text}");
    assert_eq!(doc.hierarchy, ["IT", "Infrastructure", "Network"]);
    assert_eq!(doc.authors, ["Ada Lovelace"]);
    assert_eq!(
        doc.updated_at,
        Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 1, 0).unwrap())
    );
    let access = doc.access.as_ref().unwrap();
    assert_eq!(access.groups.len(), 2);
    assert!(access.groups[0].starts_with("user_criteria:"));
    assert_eq!(
        doc.metadata.get("knowledge_base"),
        Some(&MetadataValue::from("IT"))
    );

    let all = ServiceNowConnector::new(
        config(&server, &["kb_knowledge"], 500).include_unpublished_articles(true),
    )
    .unwrap();
    assert_eq!(drain(all.load()).await.documents.len(), 5);
}

#[tokio::test]
async fn knowledge_base_criteria_narrow_access_read_once_a_sync() {
    let mut db = instance(3, 0, 0);
    let base = db.tables["kb_knowledge"][0]["kb_knowledge_base"].clone();
    // The base may be read by criteria c01 and c03; article 1 keeps its own
    // two (c01, c02) and gets what both allow; article 2 has none of its own.
    db.update("kb_knowledge", &kb_id(2), "can_read_user_criteria", "");
    for (n, criteria) in [(1, 0xc01), (2, 0xc03)] {
        db.insert(
            "kb_uc_can_read_mtom",
            &[
                ("sys_id", &standin::sys_id(0xd00 + n)),
                ("kb_knowledge_base", &base),
                ("user_criteria", &standin::sys_id(criteria)),
            ],
        );
    }
    db.insert(
        "kb_uc_cannot_read_mtom",
        &[
            ("sys_id", &standin::sys_id(0xe01)),
            ("kb_knowledge_base", &base),
            ("user_criteria", &standin::sys_id(0xc09)),
        ],
    );
    let (server, shared) = serve(db).await;
    let servicenow = connector(&server, &["kb_knowledge"], 500);
    let out = drain(servicenow.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let groups = |i: usize| out.documents[i].access.as_ref().unwrap().groups.clone();
    let criteria = |n: usize| format!("user_criteria:{}", standin::sys_id(n));
    assert_eq!(groups(0), [criteria(0xc01)]);
    assert_eq!(groups(1), [criteria(0xc01), criteria(0xc03)]);
    assert_eq!(
        out.documents[0].metadata.get("cannot_read_user_criteria"),
        Some(&MetadataValue::from(vec![standin::sys_id(0xc09)]))
    );
    let db = shared.db();
    assert_eq!(
        db.pages.get("kb_uc_can_read_mtom"),
        Some(&1),
        "read once a sync"
    );
}

#[tokio::test]
async fn incidents_carry_resolution_notes_and_comments_work_notes_on_request() {
    let (server, standin) = serve(instance(0, 2, 0)).await;
    let out = drain(connector(&server, &["incident"], 500).load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    // One journal listing for the page, not one per incident.
    let journal_queries: Vec<String> = standin
        .db()
        .queries
        .iter()
        .filter(|(t, _)| t == "sys_journal_field")
        .map(|(_, q)| q.clone())
        .collect();
    assert_eq!(journal_queries.len(), 1, "{journal_queries:?}");
    assert!(journal_queries[0].starts_with(&format!(
        "name=incident^element_idIN{},{}^elementINcomments^ORDERBYelement_id",
        incident_id(1),
        incident_id(2)
    )));
    let doc = &out.documents[0];
    assert_eq!(doc.title, "INC0000001: Email down 1");
    let texts: Vec<&str> = doc.sections.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Outlook cannot connect since 9:00.",
            "Resolution notes: Restarted the exchange connector.",
            "beth.anglin (comment): Any news?",
            "beth.anglin (comment): Works again, thanks.",
        ]
    );
    assert_eq!(
        doc.metadata.get("state"),
        Some(&MetadataValue::from("Resolved"))
    );
    assert_eq!(
        doc.metadata.get("priority"),
        Some(&MetadataValue::from("2 - High"))
    );
    assert_eq!(doc.authors, ["Abel Tuter"]);
    assert_eq!(doc.hierarchy, ["Service Desk"]);

    let notes =
        ServiceNowConnector::new(config(&server, &["incident"], 500).work_notes(true)).unwrap();
    let out = drain(notes.load()).await;
    let texts: Vec<&str> = out.documents[0]
        .sections
        .iter()
        .map(|s| s.text.as_str())
        .collect();
    assert!(
        texts.contains(&"beth.anglin (work note): Checked the mail relay."),
        "{texts:?}"
    );
}

#[tokio::test]
async fn journal_is_capped_and_says_so() {
    let (server, _) = serve(instance(0, 1, 0)).await;
    let capped =
        ServiceNowConnector::new(config(&server, &["incident"], 500).max_journal_entries(1))
            .unwrap();
    let out = drain(capped.load()).await;
    let doc = &out.documents[0];
    assert_eq!(doc.sections.len(), 3, "description, notes, one comment");
    assert_eq!(
        doc.metadata.get("truncated"),
        Some(&MetadataValue::from(vec!["journal".to_owned()]))
    );
}

#[tokio::test]
async fn catalog_items_and_any_table_with_picked_fields() {
    let (server, _) = serve(instance(0, 0, 2)).await;
    let config = config(&server, &[], 500).tables([
        TableSpec::named("sc_cat_item"),
        TableSpec::named("u_item").fields(["u_name", "u_notes"]),
    ]);
    let out = drain(ServiceNowConnector::new(config).unwrap().load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(
        out.documents.len(),
        3,
        "the retired catalog item is left out"
    );
    let item = &out.documents[0];
    assert_eq!(item.title, "New laptop 1");
    assert_eq!(item.sections[0].text, "Request a standard laptop");
    assert!(
        item.sections[1].text.contains("- 13 inch"),
        "{:?}",
        item.sections
    );
    let custom = &out.documents[1];
    assert_eq!(
        custom.title, "Item 1",
        "u_name is not a default title field but the first line"
    );
    assert_eq!(
        custom.sections[0].text,
        "u_name: Item 1\nu_notes: notes of item 1"
    );

    // Without picked fields: every non-system field's display value.
    let every = ServiceNowConnector::new(
        self::config(&server, &[], 500).tables([TableSpec::named("u_item").title_field("u_name")]),
    )
    .unwrap();
    let out = drain(every.load()).await;
    assert_eq!(out.documents[0].title, "Item 1");
    assert_eq!(
        out.documents[0].sections[0].text,
        "u_notes: notes of item 1"
    );
}

/// A record edited while the sync runs moves to the end of the
/// `sys_updated_on` order: offset paging skips the record that slides into
/// the page boundary; keyset paging misses nothing.
#[tokio::test]
async fn keyset_paging_misses_nothing_under_concurrent_edits_offset_paging_does() {
    let edit = |db: &mut support::standin::Db, table: &str, page: usize| {
        if table == "u_item" && page == 2 {
            // Between page 1 and page 2: item 2 (already read) is edited.
            db.update("u_item", &item_id(2), "sys_updated_on", &at(10_000));
        }
    };
    // Keyset: the connector.
    let mut db = instance(0, 0, 10);
    db.before_page = Some(Box::new(edit));
    let (server, _) = serve(db).await;
    let servicenow = connector(&server, &["u_item"], 3);
    let out = drain(servicenow.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let got: BTreeSet<String> = out.documents.iter().map(|d| d.title.clone()).collect();
    assert_eq!(got.len(), 10, "keyset paging lost a record: {got:?}");

    // Offset: the loop most integrations write, on the same data and edit.
    let mut db = instance(0, 0, 10);
    db.before_page = Some(Box::new(edit));
    let (server, _) = serve(db).await;
    let http = HttpClient::builder("test", server.uri()).build().unwrap();
    let mut seen = BTreeSet::new();
    let mut offset = 0;
    loop {
        let page: Value = http
            .get("/api/now/table/u_item")
            .header("authorization".parse().unwrap(), basic().parse().unwrap())
            .query(&[
                ("sysparm_query", "ORDERBYsys_updated_on".to_owned()),
                ("sysparm_limit", "3".to_owned()),
                ("sysparm_offset", offset.to_string()),
            ])
            .fetch_json()
            .await
            .unwrap();
        let records = page["result"].as_array().unwrap().clone();
        for r in &records {
            seen.insert(r["u_name"].as_str().unwrap().to_owned());
        }
        if records.len() < 3 {
            break;
        }
        offset += 3;
    }
    assert_eq!(
        seen.len(),
        9,
        "offset paging should have skipped one: {seen:?}"
    );
    assert!(
        !seen.contains("Item 4"),
        "item 4 slid into page 1: {seen:?}"
    );
}

#[tokio::test]
async fn rows_hidden_by_access_controls_do_not_end_the_listing() {
    let mut db = instance(0, 0, 12);
    // Rows 2–8 are invisible: page 1 is short, page 2 empty, yet more follow.
    for n in 2..=8 {
        db.hidden.insert(item_id(n));
    }
    let (server, standin) = serve(db).await;
    let out = drain(connector(&server, &["u_item"], 3).load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let got: Vec<String> = out.documents.iter().map(|d| d.title.clone()).collect();
    assert_eq!(got, ["Item 1", "Item 9", "Item 10", "Item 11", "Item 12"]);
    let offsets = standin.db().queries.len();
    assert!(offsets >= 4, "{offsets}");
}

#[tokio::test]
async fn a_cancelled_transaction_shrinks_the_page() {
    let mut db = instance(0, 0, 9);
    db.cancel_above = Some(4);
    let (server, _) = serve(db).await;
    let out = drain(connector(&server, &["u_item"], 50).load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 9);
    // A page the instance cancels even at one record is an error.
    let mut db = instance(0, 0, 2);
    db.cancel_above = Some(0);
    let (server, _) = serve(db).await;
    let out = drain(connector(&server, &["u_item"], 8).load()).await;
    let err = out.error.unwrap();
    assert!(err.to_string().contains("Transaction cancelled"), "{err}");
}

#[tokio::test]
async fn a_window_asks_the_instance_for_its_seconds_only() {
    let (server, standin) = serve(instance(0, 0, 10)).await;
    let servicenow = connector(&server, &["u_item"], 500);
    // Items change every minute; [00:03:00.5, 00:06:00) holds items 4 and
    // 5, and item 3 stored at 00:03:00 (the second the start cuts).
    let start =
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 3, 0).unwrap() + chrono::Duration::milliseconds(500);
    let end = Utc.with_ymd_and_hms(2024, 1, 1, 0, 6, 0).unwrap();
    let out = drain(servicenow.poll(TimeWindow::new(start, end))).await;
    let got: Vec<String> = out.documents.iter().map(|d| d.title.clone()).collect();
    assert_eq!(got, ["Item 3", "Item 4", "Item 5"]);
    let queries = standin.db().queries.clone();
    assert!(
        queries.iter().any(|(t, q)| t == "u_item"
            && q.starts_with("sys_updated_on>=2024-01-01 00:03:00^sys_updated_on<2024-01-01 00:06:00^ORDERBYsys_updated_on^ORDERBYsys_id")),
        "{queries:?}"
    );
}

/// Killed after two pages, the sync resumes from its stored checkpoint and
/// delivers the rest: nothing lost, nothing before the checkpoint repeated.
#[tokio::test]
async fn kill_and_resume_from_the_last_checkpoint() {
    let (server, standin) = serve(instance(0, 0, 10)).await;
    let servicenow = connector(&server, &["u_item"], 3);
    let mut stream = servicenow.resume(all_time(), None);
    let mut before = Vec::new();
    let mut checkpoint = None;
    let mut pages = 0;
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            connector_core::Item::Document(d) => before.push(d.title),
            connector_core::Item::Checkpoint(c) => {
                checkpoint = Some(c);
                pages += 1;
                if pages == 2 {
                    break;
                }
            }
            _ => {}
        }
    }
    drop(stream); // the kill
    let stored = serde_json::to_string(&checkpoint.unwrap().0).unwrap();
    assert!(stored.contains("\"table\":\"u_item\""), "{stored}");
    let restarted = connector(&server, &["u_item"], 3);
    let from = connector_core::Checkpoint(serde_json::from_str(&stored).unwrap());
    let rest = drain(restarted.resume(all_time(), Some(from))).await;
    assert!(rest.error.is_none(), "{:?}", rest.error);
    let after: Vec<String> = rest.documents.iter().map(|d| d.title.clone()).collect();
    assert_eq!(before.len(), 6);
    assert_eq!(after.len(), 4);
    assert!(
        after.iter().all(|t| !before.contains(t)),
        "{before:?} {after:?}"
    );
    let last = standin.db().queries.last().cloned().unwrap().1;
    assert!(last.contains("^ORsys_id>"), "resumed by keyset: {last}");
}

#[tokio::test]
async fn a_429_with_servicenow_rate_limit_headers_slows_down_and_completes() {
    let (server, _) = serve(instance(0, 0, 4)).await;
    let reset = (Utc::now().timestamp() + 1).to_string();
    Mock::given(method("GET"))
        .and(path("/api/now/table/u_item"))
        .respond_with(
            error(
                429,
                "Rate limit exceeded",
                Some("Too many requests for the rule 'Integrations'"),
            )
            .insert_header("Retry-After", "1")
            .insert_header("X-RateLimit-Limit", "100")
            .insert_header("X-RateLimit-Remaining", "0")
            .insert_header("X-RateLimit-Reset", reset.as_str())
            .insert_header("X-RateLimit-Rule", "b0e5b4d1db1e3010e7d1f9d9d3961933"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let servicenow = connector(&server, &["u_item"], 500);
    let started = Instant::now();
    let out = drain(servicenow.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 4);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(servicenow.http().counters().retries, 1);
}

#[tokio::test]
async fn refused_credentials_are_one_line_naming_the_instance_never_the_secret() {
    let (server, _) = serve(instance(1, 0, 0)).await;
    let wrong = ServiceNowConnector::new(
        config(&server, &["kb_knowledge"], 500)
            .credentials(ServiceNowAuth::basic(USER, "wrong-pa55-0042")),
    )
    .unwrap();
    for err in [
        wrong.validate().await.unwrap_err(),
        drain(wrong.load()).await.error.unwrap(),
    ] {
        let text = err.to_string();
        assert_eq!(err.kind(), ErrorKind::Auth, "{text}");
        assert!(!text.contains('\n'), "{text}");
        assert!(text.contains(&server.uri()), "{text}");
        assert!(text.contains("User Not Authenticated"), "{text}");
        assert!(
            !text.contains("wrong-pa55-0042") && !text.contains(PASSWORD),
            "{text}"
        );
    }
}

#[tokio::test]
async fn validate_lists_readable_tables_and_knowledge_bases() {
    let mut db = instance(1, 1, 1);
    db.forbidden.insert("sc_cat_item".into());
    // sys_db_object offers task and custom tables; the unreadable one and
    // the configuration table are not offered, a hostile name is not probed.
    for (i, (name, label, parent)) in [
        ("problem", "Problem", "task"),
        ("x_acme_runbook", "Runbook", ""),
        ("u_secret", "Secret", ""),
        ("sys_properties", "System Property", ""),
        ("u_../../evil", "Evil", ""),
    ]
    .into_iter()
    .enumerate()
    {
        db.tables.entry(name.to_owned()).or_default();
        db.insert(
            "sys_db_object",
            &[
                ("sys_id", &standin::sys_id(0x910 + i)),
                ("name", name),
                ("label", label),
                ("super_class.name", parent),
            ],
        );
    }
    db.forbidden.insert("u_secret".into());
    let (server, _) = serve(db).await;
    let servicenow = connector(&server, &["kb_knowledge", "u_item"], 500);
    let options = servicenow.validate().await.unwrap();
    let tables: Vec<(&str, &str)> = options
        .get("tables")
        .iter()
        .map(|c| (c.key.as_str(), c.name.as_str()))
        .collect();
    assert_eq!(
        tables,
        [
            ("kb_knowledge", "Knowledge"),
            ("incident", "Incident"),
            ("u_item", "Item"),
            ("problem", "Problem"),
            ("x_acme_runbook", "Runbook"),
        ]
    );
    let bases: Vec<&str> = options
        .get("knowledge_bases")
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(bases, ["IT"]);

    let err = connector(&server, &["incident", "sc_cat_item"], 500)
        .validate()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.to_string().contains("tables[1]"), "{err}");
    let err = connector(&server, &["u_missing"], 500)
        .validate()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("tables[0]") && text.contains("Invalid table u_missing"),
        "{text}"
    );
}

#[tokio::test]
async fn oauth_client_credentials_from_oauth_token_do() {
    let mut db = instance(0, 0, 2);
    db.authorization = Some("Bearer at-0042".into());
    let (server, _) = serve(db).await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "at-0042",
            "scope": "useraccount",
            "token_type": "Bearer",
            "expires_in": 1799
        })))
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let servicenow = ServiceNowConnector::new(
        config(&server, &["u_item"], 500)
            .credentials(ServiceNowAuth::client_credentials("app", "cl13nt-s3cret")),
    )
    .unwrap();
    let out = drain(servicenow.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 2);
}

#[tokio::test]
async fn slim_lists_every_id_and_a_deleted_record_leaves_it() {
    let (server, standin) = serve(instance(2, 2, 3)).await;
    let servicenow = connector(&server, &["kb_knowledge", "incident", "u_item"], 500);
    let ids = |s: &ServiceNowConnector| {
        let s = s.clone();
        async move {
            let ids: Vec<String> = s.slim().map(|e| e.unwrap().id).collect().await;
            ids
        }
    };
    let before = ids(&servicenow).await;
    assert_eq!(before.len(), 7);
    standin.db().delete("u_item", &item_id(2));
    let after = ids(&servicenow).await;
    assert_eq!(after.len(), 6);
    assert!(!after.iter().any(|id| id.ends_with(&item_id(2))));
    let queries = standin.db().queries.clone();
    assert!(
        queries
            .iter()
            .any(|(t, q)| t == "u_item" && q == "ORDERBYsys_id"),
        "{queries:?}"
    );
}

#[tokio::test]
async fn attachments_are_listed_and_read_within_the_cap() {
    let (server, standin) = serve(instance(0, 2, 0)).await;
    // Off by default: no Attachment API request at all.
    let out = drain(connector(&server, &["incident"], 500).load()).await;
    assert!(out.documents[0].attachments.is_empty());
    assert!(
        !standin
            .db()
            .queries
            .iter()
            .any(|(t, _)| t == "sys_attachment")
    );

    let listed_only =
        ServiceNowConnector::new(config(&server, &["incident"], 500).attachments(true)).unwrap();
    let out = drain(listed_only.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let files = &out.documents[0].attachments;
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].name, "notes.txt");
    assert_eq!(files[0].size, Some(30));
    assert_eq!(
        files[0].url.as_deref(),
        Some(
            format!(
                "{}/api/now/attachment/{}/file",
                server.uri(),
                attachment_id(1)
            )
            .as_str()
        )
    );
    assert!(files.iter().all(|f| f.bytes.is_none()));
    assert!(out.documents[1].attachments.is_empty());

    let with_bytes = ServiceNowConnector::new(
        config(&server, &["incident"], 500)
            .attachments(true)
            .options(options().with_attachment_bytes(20)),
    )
    .unwrap();
    let out = drain(with_bytes.load()).await;
    let doc = &out.documents[0];
    // notes.txt (30 bytes) is over the cap; the 8-byte image is read.
    assert_eq!(doc.attachments[0].bytes, None);
    assert_eq!(doc.attachments[1].bytes.as_ref().map(Vec::len), Some(8));
    let with_text = ServiceNowConnector::new(
        config(&server, &["incident"], 500)
            .attachments(true)
            .options(options().with_attachment_bytes(1 << 20)),
    )
    .unwrap();
    let out = drain(with_text.load()).await;
    let doc = &out.documents[0];
    let last = doc.sections.last().unwrap();
    assert_eq!(last.text, "Mail relay restarted at 10:05.");
    assert_eq!(
        last.link.as_deref(),
        Some(
            format!(
                "{}/sys_attachment.do?sys_id={}",
                server.uri(),
                attachment_id(1)
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn deletions_inside_a_window_come_from_sys_audit_delete() {
    let mut db = instance(0, 0, 5);
    db.tables.insert("sys_audit_delete".into(), Vec::new());
    for (n, table, when) in [
        (9, "u_item", 150),
        (8, "incident", 160),
        (7, "u_item", 5_000),
    ] {
        db.insert(
            "sys_audit_delete",
            &[
                ("sys_id", &support::standin::sys_id(0x700 + n)),
                ("tablename", table),
                ("documentkey", &item_id(n)),
                ("sys_created_on", &at(when)),
                ("sys_updated_on", &at(when)),
            ],
        );
    }
    let (server, standin) = serve(db).await;
    let audited =
        ServiceNowConnector::new(config(&server, &["u_item"], 500).audit_deletions(true)).unwrap();
    let window = TimeWindow::new(
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 1, 30).unwrap(),
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 10, 0).unwrap(),
    );
    let out = drain(audited.poll(window)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let host = connector_core::url::host(&server.uri()).unwrap();
    assert_eq!(out.deleted, [format!("{host}/u_item/{}", item_id(9))]);
    assert_eq!(out.documents.len(), 4, "items 2–5");
    // A resume from the checkpoint inside the deletion phase goes on there.
    let (_, last) = out.checkpoints.last().unwrap();
    assert_eq!(last.0["finished"], true);
    // A full sync leaves deletions to the id listing.
    standin.db().queries.clear();
    drain(audited.load()).await;
    assert!(
        !standin
            .db()
            .queries
            .iter()
            .any(|(t, _)| t == "sys_audit_delete")
    );
    // Where the audit may not be read, the sync goes on without it.
    standin.db().forbidden.insert("sys_audit_delete".into());
    let out = drain(audited.poll(window)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(out.deleted.is_empty());
    assert_eq!(out.documents.len(), 4);
}

#[tokio::test]
async fn oauth_password_grant_signs_in_as_the_user() {
    let mut db = instance(0, 0, 1);
    db.authorization = Some("Bearer at-user-0042".into());
    let (server, _) = serve(db).await;
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .and(wiremock::matchers::body_string_contains(
            "grant_type=password",
        ))
        .and(wiremock::matchers::body_string_contains(
            "username=integration",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "at-user-0042",
            "refresh_token": "rt-0042",
            "scope": "useraccount",
            "token_type": "Bearer",
            "expires_in": 1799
        })))
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let servicenow = ServiceNowConnector::new(config(&server, &["u_item"], 500).credentials(
        ServiceNowAuth::password_grant("app", "cl13nt-s3cret", USER, PASSWORD),
    ))
    .unwrap();
    let out = drain(servicenow.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 1);
    assert!(!format!("{servicenow:?}").contains(PASSWORD));
}
