//! Repository documentation files against the stand-in's Git data: the
//! tree of the default branch on a first sync (a truncated tree walked
//! directory by directory), only the changed files afterwards (a
//! comparison, renames and removals as deletions), resume inside the
//! files, and the id listing.

#![allow(clippy::unwrap_used)] // tests fail loudly on fixture mistakes

mod support;

use std::collections::BTreeSet;

use chrono::Utc;
use connector_core::{
    CheckpointedConnector, Item, LoadConnector, MetadataValue, PollConnector, SlimConnector,
    TimeWindow,
};
use connector_github::GitHubConnector;
use connector_testing::drain;
use futures::StreamExt;
use support::standin::{Db, Repo, at};
use support::*;

/// One repository `acme/docs` with no issues and a first commit of docs.
fn docs_repo(truncate_root: bool) -> Db {
    let mut repo = Repo {
        owner: "acme".into(),
        name: "docs".into(),
        truncate_root,
        ..Repo::default()
    };
    repo.commit(
        at(10),
        &[
            ("README.md", "# Docs\n\nStart here."),
            ("guide/install.rst", "Install\n=======\n\nRun it."),
            ("guide/deep/notes.txt", "Notes."),
            ("guide/old.adoc", "= Old\n\nGone soon."),
            ("guide/moved.md", "Moving content."),
            ("src/main.rs", "fn main() {}"),
            ("logo.png", "\u{89}PNG"),
        ],
    );
    Db {
        repos: vec![repo],
        max_per_page: 100,
    }
}

fn names(docs: &[connector_core::Document]) -> BTreeSet<String> {
    docs.iter()
        .map(|d| match d.metadata.get("path") {
            Some(MetadataValue::One(p)) => p.clone(),
            _ => d.id.clone(),
        })
        .collect()
}

fn expected() -> BTreeSet<String> {
    [
        "README.md",
        "guide/deep/notes.txt",
        "guide/install.rst",
        "guide/moved.md",
        "guide/old.adoc",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

#[tokio::test]
async fn the_default_branch_documentation_files_become_documents() {
    for truncated in [false, true] {
        let (server, _) = serve(docs_repo(truncated)).await;
        let github = connector(&server);
        let out = drain(github.load()).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(names(&out.documents), expected(), "truncated: {truncated}");
        let host = connector_core::url::host(&server.uri()).unwrap();
        let install = out
            .documents
            .iter()
            .find(|d| d.id == format!("{host}/acme/docs/files/guide/install.rst"))
            .unwrap();
        assert_eq!(install.title, "install.rst");
        assert_eq!(
            install.url.as_deref(),
            Some("https://github.com/acme/docs/blob/main/guide/install.rst")
        );
        assert_eq!(install.hierarchy, ["acme", "docs", "guide"]);
        assert_eq!(install.sections[0].text, "Install\n=======\n\nRun it.");
        assert!(install.access.as_ref().unwrap().public);
    }
}

#[tokio::test]
async fn an_incremental_sync_reads_only_the_changed_files() {
    let (server, standin) = serve(docs_repo(false)).await;
    let github = connector(&server);
    let first = drain(github.load()).await;
    assert_eq!(first.documents.len(), 5);
    let since = Utc::now();
    {
        let mut db = standin.db.lock().unwrap();
        let repo = &mut db.repos[0];
        repo.commit(
            Utc::now() + chrono::Duration::seconds(1),
            &[
                ("README.md", "# Docs\n\nStart here, now."),
                ("guide/install.rst", "Install\n=======\n\nRun it."),
                ("guide/deep/notes.txt", "Notes."),
                ("guide/new-home.md", "Moving content."),
                ("src/main.rs", "fn main() { println!() }"),
            ],
        );
    }
    server.reset().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(standin.clone())
        .mount(&server)
        .await;
    let window = TimeWindow::new(since, Utc::now() + chrono::Duration::seconds(5));
    let out = drain(github.poll(window)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(
        names(&out.documents),
        ["README.md", "guide/new-home.md"]
            .into_iter()
            .map(str::to_owned)
            .collect::<BTreeSet<_>>()
    );
    let host = connector_core::url::host(&server.uri()).unwrap();
    let mut deleted = out.deleted.clone();
    deleted.sort();
    assert_eq!(
        deleted,
        [
            format!("{host}/acme/docs/files/guide/moved.md"),
            format!("{host}/acme/docs/files/guide/old.adoc"),
        ]
    );
    let seen: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert!(!seen.iter().any(|p| p.contains("/git/trees/")), "{seen:?}");
    assert!(seen.iter().any(|p| p.contains("/compare/")), "{seen:?}");
}

#[tokio::test]
async fn a_sync_stopped_inside_the_files_resumes_after_the_last_one() {
    let mut db = docs_repo(false);
    let mut files: Vec<(String, String)> = Vec::new();
    for n in 0..120 {
        files.push((format!("pages/p{n:03}.md"), format!("Page {n}")));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    db.repos[0].commit(at(20), &refs);
    let (server, _) = serve(db).await;
    let github = GitHubConnector::new(config(&server)).unwrap();
    let window = TimeWindow::until(Utc::now());
    let mut stream = github.resume(window, None);
    let mut seen = BTreeSet::new();
    let mut last = None;
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            Item::Document(d) => {
                seen.insert(d.id.clone());
            }
            Item::Checkpoint(c) => {
                let json = serde_json::to_value(&c).unwrap().to_string();
                if json.contains("after") {
                    last = Some(c);
                    break;
                }
            }
            _ => {}
        }
    }
    drop(stream);
    assert_eq!(seen.len(), 50, "one batch of files before the checkpoint");
    let rest = drain(github.resume(window, last)).await;
    assert!(rest.error.is_none(), "{:?}", rest.error);
    for d in &rest.documents {
        assert!(seen.insert(d.id.clone()), "{} twice", d.id);
    }
    assert_eq!(seen.len(), 120);
}

#[tokio::test]
async fn the_id_listing_names_the_files() {
    let (server, _) = serve(docs_repo(false)).await;
    let github = connector(&server);
    let loaded = drain(github.load()).await;
    let mut listed: Vec<String> = github.slim().map(|s| s.unwrap().id).collect().await;
    listed.sort();
    let mut ids = loaded.ids();
    ids.sort();
    assert_eq!(listed, ids);
    assert_eq!(listed.len(), 5);
}

/// Polling a repository whose branch has not moved: the comparison and the
/// owner's repository listing come back `304 Not Modified`.
#[tokio::test]
async fn an_unchanged_poll_is_answered_not_modified() {
    let (server, _) = serve(docs_repo(false)).await;
    let github = connector(&server);
    let start = Utc::now() - chrono::Duration::minutes(1);
    let window = || TimeWindow::new(start, Utc::now() + chrono::Duration::seconds(5));
    let first = drain(github.poll(window())).await;
    assert!(first.error.is_none(), "{:?}", first.error);
    assert_eq!(github.not_modified(), 0);
    let again = drain(github.poll(window())).await;
    assert!(again.error.is_none(), "{:?}", again.error);
    assert!(again.documents.is_empty() && again.deleted.is_empty());
    assert_eq!(
        github.not_modified(),
        3,
        "the repository listing, the issue probe and the comparison"
    );
    let conditional = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.headers.contains_key("if-none-match"))
        .count();
    assert_eq!(conditional, 3);
}
