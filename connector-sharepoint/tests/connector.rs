//! The SharePoint connector against a wiremock Microsoft Graph and Entra ID
//! token endpoint speaking the documented v1.0 shapes: token request, site
//! resolution, drives, delta paging and resume, deletions, 410 resync,
//! `/content` redirects, 429s, site pages, permissions, errors.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::Utc;
use connector_core::checkpoint::{CheckpointStore, MemoryCheckpointStore};
use connector_core::options::SourceOptions;
use connector_core::runner::{RunnerOptions, SyncMode, SyncRunner};
use connector_core::sink::MemorySink;
use connector_core::{
    Checkpoint, CheckpointedConnector, Connector, Document, ErrorKind, Item, LoadConnector,
    MetadataValue, SlimConnector, TimeWindow,
};
use connector_sharepoint::{SharePointConfig, SharePointConnector};
use futures::StreamExt;
use serde_json::json;
use support::*;
use wiremock::matchers::{method, path, path_regex};
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

#[derive(Default, Debug)]
struct Collected {
    docs: Vec<Document>,
    failures: Vec<String>,
    checkpoints: Vec<Checkpoint>,
    deleted: Vec<String>,
}

impl Collected {
    fn doc(&self, title: &str) -> &Document {
        self.docs
            .iter()
            .find(|d| d.title == title)
            .unwrap_or_else(|| panic!("no document {title}: {:?}", self.titles()))
    }

    fn titles(&self) -> Vec<String> {
        self.docs.iter().map(|d| d.title.clone()).collect()
    }

    /// The last checkpoint, as JSON.
    fn last(&self) -> serde_json::Value {
        self.checkpoints.last().unwrap().0.clone()
    }
}

async fn collect(stream: connector_core::ItemStream<'_>) -> connector_core::Result<Collected> {
    let mut out = Collected::default();
    let mut stream = stream;
    while let Some(item) = stream.next().await {
        match item? {
            Item::Document(d) => out.docs.push(*d),
            Item::Failure(f) => out.failures.push(format!("{}: {}", f.id, f.reason)),
            Item::Checkpoint(c) => out.checkpoints.push(c),
            Item::Deleted(id) => out.deleted.push(id),
            other => panic!("unexpected item {other:?}"),
        }
    }
    Ok(out)
}

fn full() -> TimeWindow {
    TimeWindow::until(Utc::now())
}

fn meta<'a>(doc: &'a Document, key: &str) -> &'a str {
    match doc.metadata.get(key) {
        Some(MetadataValue::One(v)) => v,
        other => panic!("metadata {key}: {other:?}"),
    }
}

#[tokio::test]
async fn token_request_has_the_entra_id_client_credentials_shape() {
    let g = graph_server(200).await;
    let sp = connector(config(&g.server));
    sp.validate().await.unwrap();
    sp.validate().await.unwrap();
    let requests = g.server.received_requests().await.unwrap();
    let tokens: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path().ends_with("/oauth2/v2.0/token"))
        .collect();
    assert_eq!(tokens.len(), 1, "the token is cached");
    let token = tokens[0];
    assert_eq!(token.method.as_str(), "POST");
    assert_eq!(token.url.path(), format!("/{TENANT}/oauth2/v2.0/token"));
    assert!(
        token
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let mut form: Vec<(String, String)> = url::form_urlencoded::parse(&token.body)
        .into_owned()
        .collect();
    form.sort();
    assert_eq!(
        form,
        [
            ("client_id".to_string(), CLIENT_ID.to_string()),
            ("client_secret".to_string(), CLIENT_SECRET.to_string()),
            ("grant_type".to_string(), "client_credentials".to_string()),
            (
                "scope".to_string(),
                "https://graph.microsoft.com/.default".to_string()
            ),
        ]
    );
    assert!(
        token.headers.get("authorization").is_none(),
        "secret in the body only"
    );
    // Graph calls carry the token.
    let site = requests
        .iter()
        .find(|r| r.url.path() == "/v1.0/sites/contoso.sharepoint.com:/sites/Eng")
        .unwrap();
    assert_eq!(
        site.headers.get("authorization").unwrap().to_str().unwrap(),
        format!("Bearer {ACCESS_TOKEN}")
    );
}

#[tokio::test]
async fn validate_resolves_the_site_and_lists_sites_and_libraries() {
    let g = graph_server(200).await;
    let options = connector(config(&g.server)).validate().await.unwrap();
    let sites: Vec<(String, String)> = options
        .get("sites")
        .iter()
        .map(|c| (c.key.clone(), c.name.clone()))
        .collect();
    assert_eq!(
        sites,
        [
            (SITE_URL.to_string(), "Engineering".to_string()),
            (
                "https://contoso.sharepoint.com/sites/HR".to_string(),
                "Human Resources".to_string()
            )
        ]
    );
    let libraries: Vec<(String, String)> = options
        .get("libraries")
        .iter()
        .map(|c| (c.key.clone(), c.name.clone()))
        .collect();
    assert_eq!(
        libraries,
        [
            (
                "Documents".to_string(),
                "Engineering › Documents".to_string()
            ),
            ("Policies".to_string(), "Engineering › Policies".to_string())
        ]
    );
    let requests = g.server.received_requests().await.unwrap();
    let search = requests
        .iter()
        .find(|r| r.url.path() == "/v1.0/sites")
        .unwrap();
    assert!(
        search.url.query().unwrap().contains("search=*"),
        "{:?}",
        search.url
    );

    // A library that does not exist is named.
    let err = connector(config(&g.server).library("Archive"))
        .validate()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("\"Archive\"") && err.to_string().contains("Documents, Policies"),
        "{err}"
    );
}

#[tokio::test]
async fn full_sync_reads_delta_over_three_pages_to_a_delta_link() {
    let g = graph_server(3).await; // 9 items in Documents → 3 pages
    let sp = connector(config(&g.server));
    let got = collect(sp.resume(full(), None)).await.unwrap();
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    let mut titles = got.titles();
    titles.sort();
    assert_eq!(
        titles,
        [
            "Onboarding",
            "budget.xlsx",
            "data.csv",
            "deck.pptx",
            "notes.html",
            "plan.txt",
            "readme.md",
            "travel.pdf"
        ]
    );
    // The Documents delta: first page, two nextLinks, ending in a deltaLink.
    assert_eq!(
        *g.docs.tokens.lock().unwrap(),
        ["", "next-3", "next-6"],
        "three pages through @odata.nextLink"
    );
    // One checkpoint per delta page (3 + 1 for Policies) and one after the
    // site's pages; the last holds both delta links and the pages seen.
    assert_eq!(got.checkpoints.len(), 5);
    let first = &got.checkpoints[0].0;
    assert!(
        first["current"]["next_link"]
            .as_str()
            .unwrap()
            .ends_with("token=next-3"),
        "{first}"
    );
    let last = got.last();
    assert!(last.get("current").is_none(), "{last}");
    assert!(
        last["delta_links"][DOCS]
            .as_str()
            .unwrap()
            .ends_with("token=delta-1")
    );
    assert!(
        last["delta_links"][POLICIES]
            .as_str()
            .unwrap()
            .ends_with("token=delta-1")
    );
    assert_eq!(
        last["pages"][SITE_ID]["ids"],
        json!(["3a2b1c0d-0000-4000-8000-000000000010"])
    );

    // A text file: text, hierarchy from the folders seen, metadata.
    let csv = got.doc("data.csv");
    assert_eq!(csv.id, format!("drives/{DOCS}/items/01DATA"));
    assert_eq!(csv.source, "sharepoint");
    assert_eq!(
        csv.url.as_deref(),
        Some("https://contoso.sharepoint.com/sites/Eng/Shared%20Documents/Specs/2024/data.csv")
    );
    assert_eq!(csv.sections[0].text, "a,b\n1,2\n3,4\n");
    assert_eq!(csv.hierarchy, ["Engineering", "Documents", "Specs", "2024"]);
    assert_eq!(meta(csv, "path"), "/Specs/2024/data.csv");
    assert_eq!(meta(csv, "library"), "Documents");
    assert_eq!(meta(csv, "site"), "Engineering");
    assert_eq!(meta(csv, "mime_type"), "text/csv");
    assert_eq!(meta(csv, "size"), "18");
    assert_eq!(meta(csv, "etag"), "\"{01DATA},1\"");
    assert_eq!(meta(csv, "ctag"), "\"c:{01DATA},1\"");
    assert_eq!(meta(csv, "created_by"), "Ada Lovelace");
    assert_eq!(meta(csv, "modified_by_email"), "grace@contoso.com");
    assert_eq!(csv.authors, ["Ada Lovelace", "Grace Hopper"]);
    assert_eq!(
        csv.updated_at.unwrap().to_rfc3339(),
        "2024-03-01T10:00:00+00:00"
    );
    // HTML files become text; markdown stays as is.
    assert_eq!(
        got.doc("notes.html").sections[0].text,
        "# Notes\n\nAlpha & beta"
    );
    assert_eq!(
        got.doc("readme.md").sections[0].text,
        "# Readme\nhello world\n"
    );
    assert_eq!(got.doc("readme.md").hierarchy, ["Engineering", "Documents"]);
    // Other files: an attachment entry, no bytes, never the download URL.
    let deck = got.doc("deck.pptx");
    assert!(deck.sections.is_empty());
    assert_eq!(deck.attachments.len(), 1);
    assert_eq!(deck.attachments[0].size, Some(48213));
    assert!(deck.attachments[0].bytes.is_none());
    assert!(
        !deck.attachments[0]
            .url
            .as_deref()
            .unwrap()
            .contains("tempauth")
    );
    assert!(
        !serde_json::to_string(&got.docs)
            .unwrap()
            .contains("tempauth")
    );
    assert_eq!(
        got.doc("travel.pdf").hierarchy,
        ["Engineering", "Policies"],
        "every document library"
    );
    // Folders and the root are walked, not emitted.
    assert!(!got.titles().iter().any(|t| t == "Specs" || t == "root"));
}

#[tokio::test]
async fn library_and_folder_narrow_the_scope() {
    let g = graph_server(200).await;
    let sp = connector(
        config(&g.server)
            .library("documents")
            .folder("/Specs/2024")
            .include_pages(false),
    );
    let got = collect(sp.load()).await.unwrap();
    let mut titles = got.titles();
    titles.sort();
    assert_eq!(titles, ["data.csv", "notes.html"]);
    let requests = g.server.received_requests().await.unwrap();
    assert!(
        !requests
            .iter()
            .any(|r| r.url.path().contains(&enc(POLICIES))
                || r.url.path().contains(POLICIES)
                || r.url.path().contains("/pages")),
        "the other library and the pages are not read"
    );
}

#[tokio::test]
async fn resume_from_the_delta_link_reads_only_changes() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server).include_pages(false));
    let first = collect(sp.resume(full(), None)).await.unwrap();
    let checkpoint = first.checkpoints.last().unwrap().clone();

    // Between syncs: plan.txt edited, a file added, readme.md deleted.
    {
        let mut state = g.docs.state.lock().unwrap();
        state.version = 2;
        state.changes = vec![
            file(
                DOCS,
                "01PLAN",
                "plan.txt",
                F_SPECS,
                "/Specs/plan.txt",
                "text/plain",
                17,
                2,
            ),
            file(
                DOCS,
                "01NEW",
                "new.md",
                F_2024,
                "/Specs/2024/new.md",
                "text/markdown",
                9,
                2,
            ),
            deleted(DOCS, "01README", ROOT_ID),
        ];
        state.current.retain(|i| i["id"] != "01README");
    }
    let got = collect(sp.resume(full(), Some(checkpoint))).await.unwrap();
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    let mut titles = got.titles();
    titles.sort();
    assert_eq!(titles, ["new.md", "plan.txt"], "only the changes");
    assert_eq!(meta(got.doc("plan.txt"), "etag"), "\"{01PLAN},2\"");
    // A parent folder the resumed delta has not seen is looked up once.
    assert_eq!(
        got.doc("new.md").hierarchy,
        ["Engineering", "Documents", "Specs", "2024"]
    );
    assert_eq!(
        g.docs.tokens.lock().unwrap().last().unwrap(),
        "delta-1",
        "continued from the stored deltaLink"
    );
    let last = got.last();
    assert!(
        last["delta_links"][DOCS]
            .as_str()
            .unwrap()
            .ends_with("token=delta-2")
    );
    assert!(
        last["delta_links"][POLICIES]
            .as_str()
            .unwrap()
            .ends_with("token=delta-1")
    );
}

#[tokio::test]
async fn resume_mid_library_continues_from_the_next_link() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server).include_pages(false));
    let first = collect(sp.resume(full(), None)).await.unwrap();
    let after_page_one = first.checkpoints[0].clone();
    g.docs.tokens.lock().unwrap().clear();
    let rest = collect(sp.resume(full(), Some(after_page_one)))
        .await
        .unwrap();
    assert_eq!(*g.docs.tokens.lock().unwrap(), ["next-3", "next-6"]);
    // Page one held readme.md; the rest: everything else, nothing twice.
    let mut ids: Vec<String> = first.docs[..1].iter().map(|d| d.id.clone()).collect();
    assert_eq!(first.docs[0].title, "readme.md");
    ids.extend(rest.docs.iter().map(|d| d.id.clone()));
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (first.docs.len(), first.docs.len())
    );
    assert_eq!(
        rest.doc("notes.html").hierarchy,
        ["Engineering", "Documents", "Specs", "2024"],
        "folders of page one are looked up"
    );
}

#[tokio::test]
async fn gone_delta_link_resyncs_the_library_and_unchanged_files_are_skipped() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server));
    let store = Arc::new(MemoryCheckpointStore::default());
    let runner = SyncRunner::new("sp", store.clone());
    let mut sink = MemorySink::default();
    let first = runner.run(&sp, &mut sink, SyncMode::Full).await.unwrap();
    assert_eq!((first.documents_processed, first.documents_failed), (8, 0));

    // A sync interrupted with a delta link the service has since expired.
    let mut state = runner.state().await.unwrap().unwrap();
    let cp = json!({"delta_links": {
        DOCS: format!("{}/drives/{DOCS}/root/delta?token=delta-expired", graph(&g.server))
    }});
    state.in_progress = Some(connector_core::runner::InProgress {
        window: TimeWindow::until(Utc::now()),
        checkpoint: Some(Checkpoint::new(&cp).unwrap()),
        started_at: Utc::now(),
    });
    store
        .save("sp", &serde_json::to_vec(&state).unwrap())
        .await
        .unwrap();
    g.docs.tokens.lock().unwrap().clear();

    let second = runner
        .run(&sp, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(second.resumed);
    let tokens = g.docs.tokens.lock().unwrap().clone();
    assert_eq!(
        tokens[..4],
        ["delta-expired", "", "next-3", "next-6"],
        "410 → from scratch"
    );
    assert_eq!(second.documents_processed, 0, "{second:?}");
    assert_eq!(second.documents_skipped, 8, "unchanged files are skipped");
    assert_eq!(second.documents_failed, 0);
}

#[tokio::test]
async fn deleted_items_are_reported_from_the_delta_and_the_next_sync_continues_from_its_link() {
    let g = graph_server(3).await;
    let sp = connector(config(&g.server));
    let store = Arc::new(MemoryCheckpointStore::default());
    let runner = SyncRunner::new("sp", store).with_options(RunnerOptions::default());
    let mut sink = MemorySink::default();
    let first = runner.run(&sp, &mut sink, SyncMode::Full).await.unwrap();
    assert_eq!(first.documents_deleted, 0);

    {
        let mut state = g.docs.state.lock().unwrap();
        state.version = 2;
        state.changes = vec![deleted(DOCS, "01README", ROOT_ID)];
        state.current.retain(|i| i["id"] != "01README");
    }
    // The delta with the deletion reports it…
    let changes = collect(sp.resume(
        TimeWindow::new(Utc::now() - chrono::Duration::hours(1), Utc::now()),
        None,
    ))
    .await
    .unwrap();
    assert!(
        changes.docs.iter().all(|d| d.title != "readme.md"),
        "{:?}",
        changes.titles()
    );
    assert_eq!(changes.deleted, [format!("drives/{DOCS}/items/01README")]);
    // …and the slim listing no longer lists it either.
    let ids: Vec<String> = sp.slim().map(|s| s.unwrap().id).collect().await;
    assert_eq!(ids.len(), 7, "{ids:?}");
    assert!(!ids.contains(&format!("drives/{DOCS}/items/01README")));
    let asked_before = g.docs.tokens.lock().unwrap().len();
    let second = runner
        .run(&sp, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    // Deleted once, from the delta item; the slim listing agrees.
    assert_eq!(second.documents_deleted, 1, "{second:?}");
    assert_eq!(sink.deleted(), [format!("drives/{DOCS}/items/01README")]);
    // The incremental run continued from the stored delta link, not a timestamp.
    let tokens = g.docs.tokens.lock().unwrap()[asked_before..].to_vec();
    assert_eq!(
        tokens.first().map(String::as_str),
        Some("delta-1"),
        "{tokens:?}"
    );
    assert!(
        !tokens
            .iter()
            .any(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
        "{tokens:?}"
    );
}

#[tokio::test]
async fn content_redirect_to_another_host_drops_the_token() {
    let g = graph_server(200).await;
    let sp = connector(
        config(&g.server).include_pages(false).options(
            SourceOptions::default()
                .with_rate(1000.0)
                .with_attachment_bytes(1 << 20),
        ),
    );
    let got = collect(sp.load()).await.unwrap();
    assert_eq!(got.doc("plan.txt").sections[0].text, "the plan: ship it");
    assert_eq!(
        got.doc("deck.pptx").attachments[0].bytes.as_deref(),
        Some(&[0x50, 0x4b, 3, 4, 0, 1, 2][..]),
        "bytes when asked for"
    );
    let graph_requests = g.server.received_requests().await.unwrap();
    let content: Vec<_> = graph_requests
        .iter()
        .filter(|r| r.url.path().ends_with("/content"))
        .collect();
    assert!(!content.is_empty());
    assert!(
        content
            .iter()
            .all(|r| r.headers.get("authorization").is_some())
    );
    let downloads = g.download.received_requests().await.unwrap();
    assert!(!downloads.is_empty());
    for r in &downloads {
        assert!(
            r.headers.get("authorization").is_none(),
            "Authorization followed the redirect to {}",
            r.url
        );
    }
}

#[tokio::test]
async fn a_text_file_over_the_cap_is_a_per_document_failure() {
    let g = graph_server(200).await;
    let sp = connector(config(&g.server).include_pages(false).max_text_bytes(20));
    let got = collect(sp.load()).await.unwrap();
    assert_eq!(got.failures.len(), 2, "{:?}", got.failures);
    assert!(
        got.failures
            .iter()
            .any(|f| f.contains("01NOTES") && f.contains("over the 20-byte limit")),
        "declared size: {:?}",
        got.failures
    );
    assert!(
        got.failures
            .iter()
            .any(|f| f.contains("01README") && f.contains("over the 20-byte limit")),
        "size found while reading: {:?}",
        got.failures
    );
    assert_eq!(got.docs.len(), 5);
}

#[tokio::test]
async fn office_files_are_extracted_and_unreadable_ones_are_failures_with_the_reason() {
    let g = graph_server(200).await;
    g.docs.state.lock().unwrap().current.push(file(
        DOCS,
        "01MEMO",
        "memo.rtf",
        ROOT_ID,
        "/memo.rtf",
        "application/rtf",
        70,
        1,
    ));
    let mut with_extraction = config(&g.server).include_pages(false).extract(true);
    with_extraction.options = with_extraction.options.with_attachment_bytes(1 << 20);
    let got = collect(connector(with_extraction).load()).await.unwrap();

    let memo = got.doc("memo.rtf");
    let text: Vec<&str> = memo.sections.iter().map(|s| s.text.as_str()).collect();
    assert!(
        text.join("\n").contains("Book trains under four hours."),
        "{text:?}"
    );
    assert_eq!(memo.metadata["extracted_format"], "rtf".to_string().into());
    assert_eq!(
        memo.sections[0].link.as_deref(),
        Some("https://contoso.sharepoint.com/sites/Eng/Shared%20Documents/memo.rtf")
    );
    // The file itself stays described, with its bytes as asked for.
    assert_eq!(
        memo.attachments[0].content_type.as_deref(),
        Some("application/rtf")
    );
    assert!(memo.attachments[0].bytes.is_some());

    // A broken deck, and files whose content cannot be fetched: each one
    // failure naming the file and the reason; the rest syncs.
    assert!(
        got.failures
            .iter()
            .any(|f| f.contains("deck.pptx") && f.contains("zip")),
        "{:?}",
        got.failures
    );
    assert!(
        got.failures
            .iter()
            .any(|f| f.contains("budget.xlsx") && f.contains("404")),
        "{:?}",
        got.failures
    );
    assert!(got.doc("plan.txt").sections[0].text.contains("ship it"));
}

#[tokio::test]
async fn throttled_delta_waits_for_retry_after_and_succeeds() {
    let g = graph_server(200).await;
    g.docs.throttle_first.store(1, Ordering::SeqCst);
    let sp = connector(config(&g.server).include_pages(false));
    let got = collect(sp.load()).await.unwrap();
    assert_eq!(got.docs.len(), 7);
    let counters = sp.http().counters();
    assert_eq!(counters.throttled, 1, "{counters:?}");
    assert_eq!(counters.retries, 1, "{counters:?}");
    assert!(
        counters.throttled_time >= std::time::Duration::from_secs(1),
        "{counters:?}"
    );
}

#[tokio::test]
async fn site_pages_become_text_documents() {
    let g = graph_server(200).await;
    let got = collect(connector(config(&g.server)).load()).await.unwrap();
    let page = got.doc("Onboarding");
    assert_eq!(
        page.id,
        format!("sites/{SITE_ID}/pages/3a2b1c0d-0000-4000-8000-000000000010")
    );
    assert_eq!(
        page.url.as_deref(),
        Some("https://contoso.sharepoint.com/sites/Eng/SitePages/Onboarding.aspx")
    );
    assert_eq!(page.sections[0].text, "How new engineers get started");
    assert_eq!(
        page.sections[1].text,
        "## Week one\n\nGet a laptop & an account.\n\n- Read the wiki\n- Meet the team\n\nQuestions? Ask in #eng."
    );
    assert_eq!(page.hierarchy, ["Engineering", "Site Pages"]);
    assert_eq!(meta(page, "content_type"), "page");
    assert_eq!(page.authors, ["Ada Lovelace", "Grace Hopper"]);
    let requests = g.server.received_requests().await.unwrap();
    let listing = requests
        .iter()
        .find(|r| r.url.path().ends_with("/pages/microsoft.graph.sitePage"))
        .unwrap();
    assert_eq!(listing.url.query(), Some("%24expand=canvasLayout"));
}

#[tokio::test]
async fn permissions_become_access() {
    let g = graph_server(200).await;
    Mock::given(method("GET"))
        .and(path_regex(id_path("drives/", DOCS, "/items/01PLAN/permissions")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#drives('b')/items('01PLAN')/permissions",
            "value": [
                {"id": "3", "roles": ["owner"], "shareId": "s1",
                 "grantedToV2": {"siteGroup": {"displayName": "Eng Owners", "id": "3", "loginName": "Eng Owners"}},
                 "grantedTo": {"user": {"displayName": "Eng Owners"}},
                 "inheritedFrom": {}},
                {"id": "aTowIy5mfG1lbWJlcnNoaXB8YWRhQGNvbnRvc28uY29t", "roles": ["write"],
                 "grantedToV2": {"user": {"@odata.type": "#microsoft.graph.sharePointIdentity", "displayName": "Ada Lovelace", "email": "ada@contoso.com", "id": "a1"},
                                 "siteUser": {"displayName": "Ada Lovelace", "email": "ada@contoso.com", "id": "11", "loginName": "i:0#.f|membership|ada@contoso.com"}}},
                {"id": "link-1", "roles": ["read"], "shareId": "u!abc", "hasPassword": false,
                 "link": {"scope": "users", "type": "view", "webUrl": "https://contoso.sharepoint.com/:t:/s/Eng/abc", "preventsDownload": false},
                 "grantedToIdentitiesV2": [
                    {"user": {"displayName": "Bo", "email": "bo@contoso.com", "id": "b1"}},
                    {"group": {"displayName": "Sales", "id": "0a1b2c3d-0000-4000-8000-00000000aaaa"}}
                 ]},
                {"id": "link-2", "roles": ["read"], "link": {"scope": "organization", "type": "view"}}
            ]
        })))
        .mount(&g.server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(id_path(
            "drives/",
            DOCS,
            "/items/01DATA/permissions",
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            {"id": "anon", "roles": ["read"], "link": {"scope": "anonymous", "type": "view"}}
        ]})))
        .mount(&g.server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"/permissions$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&g.server)
        .await;
    let sp = connector(config(&g.server).include_pages(false).permissions(true));
    let got = collect(sp.load()).await.unwrap();
    let plan = got.doc("plan.txt").access.clone().unwrap();
    assert!(!plan.public);
    assert_eq!(plan.users, ["ada@contoso.com", "bo@contoso.com"]);
    assert_eq!(
        plan.groups,
        [
            "0a1b2c3d-0000-4000-8000-00000000aaaa",
            "Eng Owners",
            "organization"
        ]
    );
    assert!(
        got.doc("data.csv").access.as_ref().unwrap().public,
        "anonymous link"
    );
    assert_eq!(
        got.doc("budget.xlsx").access,
        Some(connector_core::Access::default())
    );
    // The slim listing carries the same access, for permission sync.
    let slims: Vec<_> = sp.slim().map(|s| s.unwrap()).collect().await;
    let plan_slim = slims
        .iter()
        .find(|s| s.id == format!("drives/{DOCS}/items/01PLAN"))
        .unwrap();
    assert_eq!(plan_slim.access.as_ref(), Some(&plan));
}

async fn error_of(server: &MockServer) -> connector_core::Error {
    connector(config(server)).validate().await.unwrap_err()
}

fn assert_clear(err: &connector_core::Error) {
    let text = err.to_string();
    let debug = format!("{err:?}");
    assert!(!text.contains('\n'), "one line: {text}");
    for shown in [&text, &debug] {
        assert!(!shown.contains(CLIENT_SECRET), "{shown}");
        assert!(!shown.contains(ACCESS_TOKEN), "{shown}");
    }
}

#[tokio::test]
async fn wrong_secret_is_an_auth_error_with_the_aadsts_reason() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '6731de76-14a6-49ae-97bc-6eba6914391e'.\r\nTrace ID: 0a1b\r\nCorrelation ID: 2c3d\r\nTimestamp: 2024-03-01 12:00:00Z",
            "error_codes": [7000215],
            "timestamp": "2024-03-01 12:00:00Z",
            "trace_id": "0a1b",
            "correlation_id": "2c3d",
            "error_uri": "https://login.microsoftonline.com/error?code=7000215"
        })))
        .mount(&server)
        .await;
    let err = error_of(&server).await;
    assert_eq!(err.kind(), ErrorKind::Auth);
    let text = err.to_string();
    assert!(
        text.contains("invalid_client") && text.contains("AADSTS7000215"),
        "{text}"
    );
    assert!(text.contains("credentials.client_secret"), "{text}");
    assert_clear(&err);
    assert!(!format!("{:?}", connector(config(&server))).contains(CLIENT_SECRET));
}

#[tokio::test]
async fn wrong_tenant_is_an_auth_error_naming_the_tenant_problem() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_request",
            "error_description": "AADSTS90002: Tenant '72f988bf-86f1-41af-91ab-2d7cd011db47' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
            "error_codes": [90002]
        })))
        .mount(&server)
        .await;
    let err = error_of(&server).await;
    assert_eq!(err.kind(), ErrorKind::Auth);
    let text = err.to_string();
    assert!(
        text.contains("AADSTS90002") && text.contains("check tenant"),
        "{text}"
    );
    assert_clear(&err);
}

#[tokio::test]
async fn a_missing_site_is_not_found() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    Mock::given(method("GET"))
        .and(path("/v1.0/sites/contoso.sharepoint.com:/sites/Eng"))
        .respond_with(graph_error(
            404,
            "itemNotFound",
            "Requested site could not be found",
        ))
        .mount(&server)
        .await;
    let err = error_of(&server).await;
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let text = err.to_string();
    assert!(
        text.contains("site https://contoso.sharepoint.com/sites/Eng does not exist")
            && text.contains("itemNotFound: Requested site could not be found"),
        "{text}"
    );
    assert_clear(&err);
    // The sync ends with the same typed error.
    let err = collect(connector(config(&server)).load())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn no_permission_is_forbidden_and_names_the_graph_permissions() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    Mock::given(method("GET"))
        .and(path("/v1.0/sites/contoso.sharepoint.com:/sites/Eng"))
        .respond_with(graph_error(403, "accessDenied", "Access denied"))
        .mount(&server)
        .await;
    let err = error_of(&server).await;
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let text = err.to_string();
    assert!(
        text.contains("accessDenied: Access denied") && text.contains("Sites.Read.All"),
        "{text}"
    );
    assert_clear(&err);
}

#[tokio::test]
async fn a_library_the_app_cannot_read_is_a_failure_and_the_rest_syncs() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    mount_site(&server).await;
    Mock::given(method("GET"))
        .and(path_regex(id_path("drives/", DOCS, "/root/delta")))
        .respond_with(graph_error(403, "accessDenied", "Access denied"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(id_path("drives/", POLICIES, "/root/delta")))
        .respond_with(DeltaDrive::new(
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
        ))
        .mount(&server)
        .await;
    let got = collect(connector(config(&server).include_pages(false)).load())
        .await
        .unwrap();
    assert_eq!(got.titles(), ["travel.pdf"]);
    assert_eq!(got.failures.len(), 1);
    assert!(
        got.failures[0].contains("library Documents"),
        "{:?}",
        got.failures
    );
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback_and_bad_config_is_typed() {
    let base = || SharePointConfig::new(TENANT).credentials(CLIENT_ID, CLIENT_SECRET);
    let err = SharePointConnector::new(
        base()
            .site(SITE_URL)
            .graph_url("http://graph.example.com/v1.0"),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("graph_url"), "{err}");
    let err = SharePointConnector::new(base().site(SITE_URL).login_url("http://login.example.com"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("login_url"), "{err}");
    let err = SharePointConnector::new(base()).unwrap_err();
    assert!(err.to_string().contains("sites"), "{err}");
    let err = SharePointConnector::new(
        SharePointConfig::new(TENANT)
            .site(SITE_URL)
            .credentials(CLIENT_ID, ""),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("credentials.client_secret"),
        "{err}"
    );
    let err = SharePointConnector::new(SharePointConfig::new(TENANT).site(SITE_URL)).unwrap_err();
    assert!(err.to_string().contains("credentials"), "{err}");
}

#[tokio::test]
async fn malformed_items_and_pages_are_per_document_failures() {
    let g = graph_server(200).await;
    {
        let mut state = g.docs.state.lock().unwrap();
        let mut bad_size = file(
            DOCS,
            "01BADSIZE",
            "odd.bin",
            ROOT_ID,
            "/odd.bin",
            "application/octet-stream",
            1,
            1,
        );
        bad_size["size"] = json!("very big");
        let mut bad_date = file(
            DOCS,
            "01BADDATE",
            "odd2.bin",
            ROOT_ID,
            "/odd2.bin",
            "application/octet-stream",
            1,
            1,
        );
        bad_date["lastModifiedDateTime"] = json!("yesterday");
        state.current.push(bad_size);
        state.current.push(bad_date);
        state.current.push(json!({"name": "no id at all"}));
    }
    let server = &g.server;
    let mut odd_page = site_page();
    odd_page["canvasLayout"]["horizontalSections"] = json!("not a list");
    Mock::given(method("GET"))
        .and(path_regex(id_path(
            "sites/",
            SITE_ID,
            "/pages/microsoft.graph.sitePage",
        )))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"value": [odd_page, site_page()]})),
        )
        .with_priority(1)
        .mount(server)
        .await;
    let got = collect(connector(config(server)).load()).await.unwrap();
    assert_eq!(got.docs.len(), 8, "{:?}", got.titles());
    assert_eq!(got.failures.len(), 4, "{:?}", got.failures);
    assert!(got.failures.iter().any(|f| f.contains("01BADSIZE")));
    assert!(got.failures.iter().any(|f| f.contains("01BADDATE")));
    assert!(got.failures.iter().any(|f| f.contains("/items/?")));
    assert!(got.failures.iter().any(|f| f.contains("/pages/3a2b1c0d")));
}

#[tokio::test]
async fn listings_follow_next_links() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    Mock::given(method("GET"))
        .and(path("/v1.0/sites/contoso.sharepoint.com:/sites/Eng"))
        .respond_with(ResponseTemplate::new(200).set_body_json(site_json()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(id_path("sites/", SITE_ID, "/drives")))
        .and(wiremock::matchers::query_param("$skiptoken", "p2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"id": POLICIES, "name": "Policies", "driveType": "documentLibrary"}]
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(id_path("sites/", SITE_ID, "/drives")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"id": DOCS, "name": "Documents", "driveType": "documentLibrary"}],
            "@odata.nextLink": format!("{}/sites/{SITE_ID}/drives?$skiptoken=p2", graph(&server))
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/sites"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [site_json()]})))
        .mount(&server)
        .await;
    let options = connector(config(&server)).validate().await.unwrap();
    let libraries: Vec<&str> = options
        .get("libraries")
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(libraries, ["Documents", "Policies"]);
}
