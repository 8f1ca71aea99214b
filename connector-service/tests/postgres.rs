//! The PostgreSQL stores against a real PostgreSQL: checkpoint state and
//! content-index log, the advisory lock, sealed credentials and rotation,
//! and a sync run resuming from state kept there.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Read;
use std::sync::Arc;

use connector_core::checkpoint::CheckpointStore;
use connector_core::credentials::{
    CredentialKey, CredentialStore, ExposeSecret, StoreKey, StoredCredential,
};
use connector_core::runner::{RunnerOptions, SyncMode, SyncRunner};
use connector_core::sink::JsonlSink;
use connector_service::pg::{Database, PgCheckpointStore, PgCredentialStore};
use support::SECRET;
use support::servers::postgres;

async fn db() -> Database {
    let url = postgres().fresh_database().await;
    Database::connect(&url, 4).await.unwrap()
}

#[tokio::test]
async fn state_and_log_behave_like_the_file_store() {
    let store = PgCheckpointStore::new(db().await);
    assert_eq!(store.load("t/c").await.unwrap(), None);
    store.save("t/c", b"one").await.unwrap();
    store.save("t/c", b"two").await.unwrap();
    assert_eq!(
        store.load("t/c").await.unwrap().as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(store.log_append("t/c", b"abc").await.unwrap(), 3);
    assert_eq!(store.log_append("t/c", b"defg").await.unwrap(), 7);
    store.log_truncate("t/c", 5).await.unwrap();
    let mut text = String::new();
    store
        .log_read("t/c")
        .await
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "abcde");
    assert_eq!(store.log_append("t/c", b"X").await.unwrap(), 6);
    store.log_truncate("t/c", 100).await.unwrap();
    let mut text = String::new();
    store
        .log_read("t/c")
        .await
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "abcdeX");
    let mut other = String::new();
    store
        .log_read("t/other")
        .await
        .unwrap()
        .read_to_string(&mut other)
        .unwrap();
    assert!(other.is_empty());
}

#[tokio::test]
async fn the_lock_is_exclusive_across_connections_and_released_on_drop() {
    let db = db().await;
    let a = PgCheckpointStore::new(db.clone());
    let b = PgCheckpointStore::new(db);
    let held = a.lock("t/c").await.unwrap();
    let err = b.lock("t/c").await.unwrap_err();
    assert!(err.to_string().contains("another worker"), "{err}");
    let other = b.lock("t/d").await.unwrap();
    drop(held);
    // The server frees the lock when the session ends.
    let mut again = None;
    for _ in 0..50 {
        if let Ok(lock) = b.lock("t/c").await {
            again = Some(lock);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(again.is_some());
    drop(other);
}

#[tokio::test]
async fn credentials_are_sealed_per_slot_and_rotate() {
    let db = db().await;
    let key = StoreKey::generate();
    let backup = StoreKey::from_base64(key.to_base64().expose_secret()).unwrap();
    let store = PgCredentialStore::new(db.clone(), key);
    let slot = CredentialKey::new("t1", "c1", "jira").unwrap();
    store
        .put(&slot, StoredCredential::basic("me@acme.com", SECRET))
        .await
        .unwrap();
    let client = db.client().await.unwrap();
    let rows = client
        .query("SELECT nonce, ciphertext FROM credentials", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let ciphertext: Vec<u8> = rows[0].get(1);
    assert!(!String::from_utf8_lossy(&ciphertext).contains(SECRET));
    let got = store.get(&slot).await.unwrap().unwrap();
    assert_eq!(got.get("secret").unwrap().expose_secret(), SECRET);
    // A row moved to another tenant's slot does not open.
    client
        .execute("UPDATE credentials SET tenant_id = 't2'", &[])
        .await
        .unwrap();
    let moved = CredentialKey::new("t2", "c1", "jira").unwrap();
    assert!(store.get(&moved).await.is_err());
    client
        .execute("UPDATE credentials SET tenant_id = 't1'", &[])
        .await
        .unwrap();
    // Rotation: the new key opens every row, the old one none.
    let new_key = StoreKey::generate();
    let new_backup = StoreKey::from_base64(new_key.to_base64().expose_secret()).unwrap();
    assert_eq!(store.rotate_key(&new_key).await.unwrap(), 1);
    let rotated = PgCredentialStore::new(db.clone(), new_backup);
    assert!(rotated.get(&slot).await.unwrap().is_some());
    let old = PgCredentialStore::new(db, backup);
    assert!(old.get(&slot).await.is_err());
    assert_eq!(rotated.list("t1").await.unwrap(), vec![slot]);
}

#[tokio::test]
async fn a_sync_resumes_from_state_in_postgres() {
    let store: Arc<dyn CheckpointStore> = Arc::new(PgCheckpointStore::new(db().await));
    let src = tempfile::tempdir().unwrap();
    for i in 0..40 {
        std::fs::write(src.path().join(format!("f{i:02}.txt")), format!("file {i}")).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let connector = connector_sdk::connector_from_config(
        "fs",
        serde_json::json!({"path": src.path(), "checkpoint_every": 5}),
    )
    .unwrap();
    let mut options = RunnerOptions::default();
    options.commit_every = 5;
    let runner = SyncRunner::new("t/c", Arc::clone(&store)).with_options(options);
    let mut sink = JsonlSink::create(out.path().join("out.jsonl")).unwrap();
    let report = runner
        .run(connector.as_ref(), &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(report.documents_processed, 40);
    drop(sink);
    // Unchanged files are skipped: the content index is read back from PostgreSQL.
    let mut sink = JsonlSink::create(out.path().join("out.jsonl")).unwrap();
    let report = runner
        .run(connector.as_ref(), &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(report.documents_processed, 0);
    assert_eq!(report.documents_skipped, 40);
    let lines = std::fs::read_to_string(out.path().join("out.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 40);
}
