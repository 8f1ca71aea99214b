//! Incremental syncs continuing Graph's delta through the sync runner: what
//! they read, what they report deleted, permission changes from the feed,
//! links Graph no longer honours, and state made under another scope.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::Utc;
use connector_core::checkpoint::{CheckpointStore, MemoryCheckpointStore};
use connector_core::options::SourceOptions;
use connector_core::runner::{SyncMode, SyncReport, SyncRunner};
use connector_core::sink::MemorySink;
use connector_core::{Checkpoint, CheckpointedConnector, ErrorKind, Item, TimeWindow};
use connector_sharepoint::{SharePointConfig, SharePointConnector};
use futures::StreamExt;
use serde_json::json;
use support::*;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config(server: &MockServer) -> SharePointConfig {
    SharePointConfig::new(TENANT)
        // Listing and change tests; extraction has its own test.
        .extract(false)
        .site(SITE_URL)
        .graph_url(graph(server))
        .login_url(server.uri())
        .credentials(CLIENT_ID, CLIENT_SECRET)
        .options(SourceOptions::default().with_rate(1000.0))
}

fn connector(config: SharePointConfig) -> SharePointConnector {
    SharePointConnector::new(config).unwrap()
}

struct Synced {
    runner: SyncRunner,
    store: Arc<MemoryCheckpointStore>,
    sink: MemorySink,
}

impl Synced {
    /// A full sync of `sp`, done.
    async fn new(sp: &SharePointConnector) -> Self {
        let store = Arc::new(MemoryCheckpointStore::default());
        let runner = SyncRunner::new("sp", store.clone());
        let mut sink = MemorySink::default();
        let report = runner.run(sp, &mut sink, SyncMode::Full).await.unwrap();
        assert_eq!(report.documents_failed, 0, "{report:?}");
        Self {
            runner,
            store,
            sink,
        }
    }

    async fn incremental(&mut self, sp: &SharePointConnector) -> SyncReport {
        self.runner
            .run(sp, &mut self.sink, SyncMode::Incremental)
            .await
            .unwrap()
    }
}

fn requests_between(all: &[wiremock::Request], from: usize) -> Vec<String> {
    all[from..]
        .iter()
        .map(|r| match r.url.query() {
            Some(q) => format!("{} {}?{q}", r.method, r.url.path()),
            None => format!("{} {}", r.method, r.url.path()),
        })
        .collect()
}

#[tokio::test]
async fn an_unchanged_incremental_sync_reads_no_permissions_and_lists_no_ids() {
    let g = graph_server(3).await;
    let permissions = mount_permissions(&g.server).await;
    let sp = connector(config(&g.server).permissions(true));
    let mut synced = Synced::new(&sp).await;
    let reads_after_full = permissions.reads.load(Ordering::SeqCst);
    assert_eq!(
        reads_after_full, 14,
        "7 files, once for documents, once for the id listing"
    );
    let before = g.server.received_requests().await.unwrap().len();

    let report = synced.incremental(&sp).await;
    assert_eq!(report.documents_processed, 0, "{report:?}");
    assert_eq!(
        permissions.reads.load(Ordering::SeqCst),
        reads_after_full,
        "no permission is read again"
    );
    let all = g.server.received_requests().await.unwrap();
    let asked = requests_between(&all, before);
    // Site, libraries, one delta request per library, the pages: nothing else.
    assert_eq!(asked.len(), 5, "{asked:#?}");
    assert!(
        asked
            .iter()
            .filter(|r| r.contains("/root/delta"))
            .all(|r| r.contains("token=delta-1")),
        "each library continues its delta link; no enumeration for an id listing: {asked:#?}"
    );
}

#[tokio::test]
async fn a_sharing_change_in_the_feed_updates_that_file_only() {
    let g = graph_server(3).await;
    let permissions = mount_permissions(&g.server).await;
    let sp = connector(config(&g.server).permissions(true));
    let mut synced = Synced::new(&sp).await;
    let reads = permissions.reads.load(Ordering::SeqCst);

    // plan.txt is shared with Bo; Graph lists it with the annotation.
    permissions.grant("01PLAN", "bo@contoso.com");
    {
        let mut state = g.docs.state.lock().unwrap();
        state.version = 2;
        let mut plan = file(
            DOCS,
            "01PLAN",
            "plan.txt",
            F_SPECS,
            "/Specs/plan.txt",
            "text/plain",
            17,
            1,
        );
        plan["@microsoft.graph.sharedChanged"] = json!("True");
        state.changes = vec![plan];
    }
    let report = synced.incremental(&sp).await;
    assert_eq!(report.documents_processed, 1, "{report:?}");
    assert_eq!(permissions.reads.load(Ordering::SeqCst), reads + 1);
    let plan = synced
        .sink
        .documents()
        .iter()
        .rev()
        .find(|d| d.title == "plan.txt")
        .unwrap();
    assert_eq!(
        plan.access.as_ref().unwrap().users,
        ["bo@contoso.com"],
        "the new grant reached the document"
    );
    // Every delta request asked for sharing changes.
    for r in delta_requests(&g.server).await {
        let prefer = r
            .headers
            .get("prefer")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        for wanted in [
            "deltashowremovedasdeleted",
            "deltatraversepermissiongaps",
            "deltashowsharingchanges",
            "hierarchicalsharing",
        ] {
            assert!(prefer.contains(wanted), "{prefer}");
        }
    }
}

#[tokio::test]
async fn without_permissions_delta_asks_for_no_sharing_changes() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server));
    let _ = Synced::new(&sp).await;
    let requests = delta_requests(&g.server).await;
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| r.headers.get("prefer").is_none()));
}

#[tokio::test]
async fn a_folder_whose_sharing_changed_has_its_files_read_again() {
    let g = graph_server(3).await;
    let permissions = mount_permissions(&g.server).await;
    let sp = connector(config(&g.server).permissions(true).include_pages(false));
    let mut synced = Synced::new(&sp).await;
    let carried = synced
        .runner
        .state()
        .await
        .unwrap()
        .unwrap()
        .carried
        .unwrap();

    // /Specs is shared with a group: its files inherit, only the folder is listed.
    for item in ["01PLAN", "01NOTES", "01DECK", "01DATA"] {
        permissions.grant(item, "specs-readers@contoso.com");
    }
    {
        let mut state = g.docs.state.lock().unwrap();
        state.version = 2;
        let mut specs = folder(DOCS, F_SPECS, "Specs", ROOT_ID, "/Specs");
        specs["@microsoft.graph.sharedChanged"] = json!("True");
        specs["shared"] = json!({"scope": "users"});
        state.changes = vec![specs];
    }

    // Stopped during the refresh, then resumed from its checkpoint.
    let window = TimeWindow::new(Utc::now() - chrono::Duration::hours(1), Utc::now());
    let mut stream = sp.resume(window, Some(carried.clone()));
    let mut first_part = Vec::new();
    let mut mid_refresh = None;
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            Item::Document(d) => first_part.push(d.title.clone()),
            Item::Checkpoint(cp) if cp.0["refresh"]["next_link"].is_string() => {
                mid_refresh = Some(cp);
                break;
            }
            _ => {}
        }
    }
    drop(stream);
    let mid_refresh = mid_refresh.expect("a checkpoint inside the refresh");
    assert!(
        mid_refresh.0["delta_links"][DOCS]
            .as_str()
            .unwrap()
            .ends_with("token=delta-2"),
        "the round's own link is kept while the refresh runs: {}",
        mid_refresh.0
    );
    let tokens_before = g.docs.tokens.lock().unwrap().len();
    let mut rest = Vec::new();
    let mut last = None;
    let mut stream = sp.resume(window, Some(mid_refresh));
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            Item::Document(d) => rest.push((d.title.clone(), d.access.clone().unwrap())),
            Item::Checkpoint(cp) => last = Some(cp),
            _ => {}
        }
    }
    let tokens = g.docs.tokens.lock().unwrap()[tokens_before..].to_vec();
    assert!(
        tokens[0].starts_with("next-"),
        "continued mid-refresh: {tokens:?}"
    );
    let mut titles: Vec<String> = first_part;
    titles.extend(rest.iter().map(|(t, _)| t.clone()));
    titles.sort();
    assert_eq!(
        titles,
        ["data.csv", "deck.pptx", "notes.html", "plan.txt"],
        "only /Specs"
    );
    for (title, access) in &rest {
        assert!(
            access
                .users
                .contains(&"specs-readers@contoso.com".to_string()),
            "{title}: {access:?}"
        );
    }
    let last = last.unwrap();
    assert!(last.0.get("refresh").is_none(), "{}", last.0);
    assert!(
        last.0["delta_links"][DOCS]
            .as_str()
            .unwrap()
            .ends_with("token=delta-2")
    );

    // Through the runner: the four files are written again, nothing else.
    let report = synced.incremental(&sp).await;
    assert_eq!(report.documents_processed, 4, "{report:?}");
}

#[tokio::test]
async fn a_refused_delta_link_reads_the_changes_since_it_was_obtained() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server));
    let mut synced = Synced::new(&sp).await;
    let asked_before = g.docs.tokens.lock().unwrap().len();

    // The link expired; meanwhile readme.md was deleted.
    {
        let mut state = g.docs.state.lock().unwrap();
        state.version = 7;
        state.changes = vec![deleted(DOCS, "01README", ROOT_ID)];
        state.current.retain(|i| i["id"] != "01README");
    }
    let report = synced.incremental(&sp).await;
    assert_eq!(report.documents_deleted, 1, "{report:?}");
    assert_eq!(
        synced.sink.deleted(),
        [format!("drives/{DOCS}/items/01README")]
    );
    let tokens = g.docs.tokens.lock().unwrap()[asked_before..].to_vec();
    assert_eq!(tokens[0], "delta-1");
    let since = chrono::DateTime::parse_from_rfc3339(&tokens[1])
        .unwrap_or_else(|_| panic!("410 → changes since a time: {tokens:?}"));
    let age = Utc::now() - since.to_utc();
    assert!(
        age > chrono::Duration::minutes(59) && age < chrono::Duration::minutes(70),
        "since the link was obtained, with an hour's margin: {age}"
    );
    assert_eq!(tokens.len(), 2, "no enumeration from scratch: {tokens:?}");
}

#[tokio::test]
async fn a_deleted_site_page_is_reported_by_the_next_incremental_sync() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server));
    let mut synced = Synced::new(&sp).await;
    let _gone = Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path_regex(id_path(
            "sites/",
            SITE_ID,
            "/pages/microsoft.graph.sitePage",
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .with_priority(1)
        .mount_as_scoped(&g.server)
        .await;
    let report = synced.incremental(&sp).await;
    assert_eq!(report.documents_deleted, 1, "{report:?}");
    assert_eq!(
        synced.sink.deleted(),
        [format!(
            "sites/{SITE_ID}/pages/3a2b1c0d-0000-4000-8000-000000000010"
        )]
    );
}

#[tokio::test]
async fn a_file_moved_out_of_the_folders_in_scope_is_deleted() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server).folder("/Specs").include_pages(false));
    let mut synced = Synced::new(&sp).await;
    assert!(
        synced
            .sink
            .documents()
            .iter()
            .any(|d| d.title == "plan.txt")
    );
    {
        let mut state = g.docs.state.lock().unwrap();
        state.version = 2;
        state.changes = vec![file(
            DOCS,
            "01PLAN",
            "plan.txt",
            ROOT_ID,
            "/plan.txt",
            "text/plain",
            17,
            2,
        )];
    }
    let report = synced.incremental(&sp).await;
    assert_eq!(report.documents_deleted, 1, "{report:?}");
    assert_eq!(
        synced.sink.deleted(),
        [format!("drives/{DOCS}/items/01PLAN")]
    );
}

#[tokio::test]
async fn state_made_under_another_scope_asks_for_a_full_sync() {
    let g = graph_server(3).await;
    let mut synced = Synced::new(&connector(config(&g.server))).await;
    let narrowed = connector(config(&g.server).folder("/Specs"));
    let err = synced
        .runner
        .run(&narrowed, &mut synced.sink, SyncMode::Incremental)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("run a full sync"), "{err}");
    let full = synced
        .runner
        .run(&narrowed, &mut synced.sink, SyncMode::Full)
        .await
        .unwrap();
    assert!(
        full.documents_deleted > 0,
        "the full sync's id listing removes what left the scope: {full:?}"
    );
}

#[tokio::test]
async fn state_stored_in_the_first_checkpoint_format_continues() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server).include_pages(false));
    let mut synced = Synced::new(&sp).await;
    // The carried checkpoint exactly as the first format wrote it.
    let mut state = synced.runner.state().await.unwrap().unwrap();
    let link = |drive: &str| {
        format!(
            "{}/drives/{drive}/root/delta?token=delta-1",
            graph(&g.server)
        )
    };
    let old = format!(
        r#"{{"delta_links":{{"{DOCS}":"{}","{POLICIES}":"{}"}}}}"#,
        link(DOCS),
        link(POLICIES)
    );
    state.carried = Some(Checkpoint(serde_json::from_str(&old).unwrap()));
    synced
        .store
        .save("sp", &serde_json::to_vec(&state).unwrap())
        .await
        .unwrap();
    let asked_before = g.docs.tokens.lock().unwrap().len();
    let report = synced.incremental(&sp).await;
    assert_eq!(report.documents_processed, 0, "{report:?}");
    assert_eq!(g.docs.tokens.lock().unwrap()[asked_before..], ["delta-1"]);
}

#[tokio::test]
async fn a_folder_sharing_change_survives_a_stop_later_in_its_round() {
    let g = graph_server(3).await;
    let permissions = mount_permissions(&g.server).await;
    let sp = connector(config(&g.server).permissions(true).include_pages(false));
    let synced = Synced::new(&sp).await;
    let carried = synced
        .runner
        .state()
        .await
        .unwrap()
        .unwrap()
        .carried
        .unwrap();

    // /Specs/2024 is shared on the first page of a three-page round of changes.
    permissions.grant("01NOTES", "auditors@contoso.com");
    permissions.grant("01DATA", "auditors@contoso.com");
    {
        let mut state = g.docs.state.lock().unwrap();
        state.version = 2;
        let mut y2024 = folder(DOCS, F_2024, "2024", F_SPECS, "/Specs/2024");
        y2024["@microsoft.graph.sharedChanged"] = json!("True");
        let mut changes = vec![y2024];
        for n in 0..6 {
            changes.push(file(
                DOCS,
                &format!("01BIN{n}"),
                &format!("blob{n}.bin"),
                ROOT_ID,
                &format!("/blob{n}.bin"),
                "application/octet-stream",
                1,
                2,
            ));
        }
        state.changes = changes;
    }
    let window = TimeWindow::new(Utc::now() - chrono::Duration::hours(1), Utc::now());
    // Stop at the checkpoint after the round's first page.
    let mut stream = sp.resume(window, Some(carried));
    let mut after_first_page = None;
    while let Some(item) = stream.next().await {
        if let Item::Checkpoint(cp) = item.unwrap() {
            after_first_page = Some(cp);
            break;
        }
    }
    drop(stream);
    let after_first_page = after_first_page.unwrap();
    assert_eq!(
        after_first_page.0["current"]["shared"],
        json!(["/Specs/2024"]),
        "{}",
        after_first_page.0
    );
    let mut refreshed = Vec::new();
    let mut stream = sp.resume(window, Some(after_first_page));
    while let Some(item) = stream.next().await {
        if let Item::Document(d) = item.unwrap()
            && d.access
                .as_ref()
                .unwrap()
                .users
                .contains(&"auditors@contoso.com".to_string())
        {
            refreshed.push(d.title.clone());
        }
    }
    refreshed.sort();
    assert_eq!(refreshed, ["data.csv", "notes.html"]);
}

#[tokio::test]
async fn a_library_gone_from_its_site_leaves_the_state() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server).include_pages(false));
    let mut synced = Synced::new(&sp).await;
    let _only_documents = Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path_regex(id_path(
            "sites/", SITE_ID, "/drives",
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            {"id": DOCS, "name": "Documents", "driveType": "documentLibrary"}
        ]})))
        .with_priority(1)
        .mount_as_scoped(&g.server)
        .await;
    let report = synced.incremental(&sp).await;
    assert_eq!(report.documents_failed, 0, "{report:?}");
    let carried = synced
        .runner
        .state()
        .await
        .unwrap()
        .unwrap()
        .carried
        .unwrap();
    assert!(
        carried.0["delta_links"].get(DOCS).is_some(),
        "{}",
        carried.0
    );
    assert!(
        carried.0["delta_links"].get(POLICIES).is_none(),
        "{}",
        carried.0
    );
}
