//! The connector against a real S3 implementation it did not write: the
//! moto server (`connector_s3::testing`). A bucket of 2 000+ objects across
//! nested prefixes, unicode and space-containing keys, a zero-byte object, a
//! folder marker and a 20 MB object: full sync, second sync skips all,
//! modified / added / deleted objects, resume from checkpoints, windows,
//! globs, validate, and the errors of a missing bucket and a dead endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{Duration, Utc};
use connector_core::checkpoint::MemoryCheckpointStore;
use connector_core::runner::{SyncMode, SyncRunner};
use connector_core::sink::MemorySink;
use connector_core::{
    CheckpointedConnector, Connector, Document, ErrorKind, Item, LoadConnector, MetadataValue,
    PollConnector, SlimConnector, TimeWindow,
};
use connector_s3::testing::{MotoServer, SECRET_ACCESS_KEY};
use connector_s3::{S3Config, S3Connector};
use futures::StreamExt;

const SMALL_OBJECTS: usize = 2_000;
const BIG_BYTES: usize = 20 * 1024 * 1024;

/// The seeded bucket: key → body, and the keys that are not documents.
fn corpus() -> BTreeMap<String, Vec<u8>> {
    let mut objects = BTreeMap::new();
    for i in 0..SMALL_OBJECTS {
        let key = match i % 4 {
            0 => format!("docs/team-{}/notes/note-{i:05}.md", i % 7),
            1 => format!("docs/team-{}/data-{i:05}.json", i % 5),
            2 => format!("logs/{}/{}/entry-{i:05}.txt", 2020 + i % 3, i % 12),
            _ => format!("misc/file-{i:05}.csv"),
        };
        objects.insert(key, format!("object number {i}\nline two\n").into_bytes());
    }
    objects.insert(
        "données/été/résumé ü.md".into(),
        "# Résumé\nÇa marche — 日本語".as_bytes().to_vec(),
    );
    objects.insert(
        "my folder/file with spaces.txt".into(),
        b"spaces in the key".to_vec(),
    );
    objects.insert("odd/plus+and space.txt".into(), b"plus".to_vec());
    objects.insert("odd/percent%41.txt".into(), b"percent".to_vec());
    objects.insert("odd/control\u{1}char.txt".into(), b"control".to_vec());
    objects.insert("empty.txt".into(), Vec::new());
    objects.insert("folder-marker/".into(), Vec::new());
    objects.insert(
        "images/pixel.png".into(),
        vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3],
    );
    objects.insert("blobs/unknown.dat".into(), vec![0, 159, 146, 150, 0, 1]);
    objects.insert("big/large.log".into(), vec![b'x'; BIG_BYTES]);
    objects
}

async fn seed(moto: &MotoServer, bucket: &str, objects: &BTreeMap<String, Vec<u8>>) {
    moto.create_bucket(bucket).await.unwrap();
    moto.put_many(
        bucket,
        objects.iter().map(|(k, v)| (k.clone(), v.clone())),
        16,
    )
    .await
    .unwrap();
}

fn by_key(sink: &MemorySink) -> HashMap<String, Document> {
    sink.documents()
        .iter()
        .map(|d| match d.metadata.get("key") {
            Some(MetadataValue::One(k)) => (k.clone(), d.clone()),
            other => panic!("document {} has no key: {other:?}", d.id),
        })
        .collect()
}

fn meta<'a>(doc: &'a Document, field: &str) -> &'a str {
    match doc.metadata.get(field) {
        Some(MetadataValue::One(v)) => v,
        other => panic!("{field}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_bucket_full_incremental_changes_and_deletions() {
    let moto = MotoServer::start().unwrap();
    let objects = corpus();
    seed(&moto, "corpus", &objects).await;

    let connector = S3Connector::new(moto.config("corpus")).unwrap();
    let runner = SyncRunner::new("s3-test", Arc::new(MemoryCheckpointStore::default()));
    let mut sink = MemorySink::default();

    // Full sync: every object but the folder marker; the 20 MB text object
    // is over the default 10 MiB cap, so it is a failure with the reason.
    let first = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    let expected_docs = objects.len() - 2;
    assert_eq!(
        first.documents_processed as usize, expected_docs,
        "{first:?}"
    );
    assert_eq!(first.documents_failed, 1, "{:?}", first.failures);
    assert_eq!(
        first.failures[0].id,
        format!("{}/corpus/big/large.log", moto.endpoint())
    );
    assert!(
        first.failures[0]
            .reason
            .contains("object is 20971520 bytes, over the 10485760-byte text cap"),
        "{}",
        first.failures[0].reason
    );
    let docs = by_key(&sink);
    assert_eq!(docs.len(), expected_docs);
    assert!(!docs.contains_key("folder-marker/"));

    let note = &docs["docs/team-0/notes/note-00000.md"];
    assert_eq!(note.source, "s3");
    assert_eq!(note.title, "note-00000.md");
    assert_eq!(
        note.id,
        format!("{}/corpus/docs/team-0/notes/note-00000.md", moto.endpoint())
    );
    assert_eq!(note.sections[0].text, "object number 0\nline two\n");
    assert_eq!(note.hierarchy, ["corpus", "docs", "team-0", "notes"]);
    assert_eq!(meta(note, "bucket"), "corpus");
    assert_eq!(meta(note, "size"), "25");
    assert_eq!(meta(note, "storage_class"), "STANDARD");
    assert_eq!(meta(note, "etag").len(), 32, "an MD5 ETag, unquoted");
    assert!(note.updated_at.unwrap() > Utc::now() - Duration::hours(1));

    let unicode = &docs["données/été/résumé ü.md"];
    assert_eq!(unicode.title, "résumé ü.md");
    assert_eq!(unicode.sections[0].text, "# Résumé\nÇa marche — 日本語");
    assert_eq!(
        unicode.url.as_deref(),
        Some(
            format!(
                "{}/corpus/donn%C3%A9es/%C3%A9t%C3%A9/r%C3%A9sum%C3%A9%20%C3%BC.md",
                moto.endpoint()
            )
            .as_str()
        )
    );
    assert_eq!(
        docs["my folder/file with spaces.txt"].sections[0].text,
        "spaces in the key"
    );
    // Keys that need `encoding-type=url` to list at all, or decode wrongly
    // with a naive decoder.
    assert_eq!(docs["odd/plus+and space.txt"].sections[0].text, "plus");
    assert_eq!(docs["odd/percent%41.txt"].sections[0].text, "percent");
    assert_eq!(docs["odd/control\u{1}char.txt"].sections[0].text, "control");
    let empty = &docs["empty.txt"];
    assert!(empty.sections.is_empty() && empty.attachments.is_empty());
    assert_eq!(meta(empty, "size"), "0");

    let png = &docs["images/pixel.png"];
    assert!(png.sections.is_empty());
    assert_eq!(
        png.attachments[0].content_type.as_deref(),
        Some("image/png")
    );
    assert_eq!(png.attachments[0].size, Some(8));
    assert_eq!(png.attachments[0].bytes, None, "bytes only when asked for");
    let sniffed = &docs["blobs/unknown.dat"];
    assert!(sniffed.sections.is_empty(), "NUL bytes: not text");
    assert_eq!(sniffed.attachments[0].size, Some(6));
    let json = &docs["docs/team-1/data-00001.json"];
    assert_eq!(meta(json, "content_type"), "application/json");

    // Nothing changed: a second sync, incremental or full, writes nothing.
    let second = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(second.documents_processed, 0, "{second:?}");
    let third = runner
        .run(&connector, &mut sink, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(
        (third.documents_processed, third.documents_skipped as usize),
        (0, expected_docs)
    );

    // One object rewritten, one added, one deleted.
    moto.put("corpus", "misc/file-00003.csv", b"a,b\n1,2\n".to_vec())
        .await
        .unwrap();
    moto.put("corpus", "docs/new.md", b"brand new".to_vec())
        .await
        .unwrap();
    moto.delete("corpus", "logs/2022/2/entry-00002.txt")
        .await
        .unwrap();
    let before = sink.documents().len();
    let fourth = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await
        .unwrap();
    assert_eq!(fourth.documents_processed, 2, "{fourth:?}");
    assert_eq!(fourth.documents_deleted, 1);
    assert_eq!(sink.documents().len(), before + 2);
    assert_eq!(
        sink.deleted(),
        [format!(
            "{}/corpus/logs/2022/2/entry-00002.txt",
            moto.endpoint()
        )]
    );
    let docs = by_key(&sink);
    assert_eq!(docs["misc/file-00003.csv"].sections[0].text, "a,b\n1,2\n");
    assert_eq!(docs["docs/new.md"].sections[0].text, "brand new");

    // With a larger cap the 20 MB object streams in whole.
    let big = S3Connector::new(
        moto.config("corpus")
            .prefix("big/")
            .max_text_bytes(32 << 20),
    )
    .unwrap();
    let items: Vec<_> = big.load().collect().await;
    let docs: Vec<_> = items
        .into_iter()
        .filter_map(|i| match i.unwrap() {
            Item::Document(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].sections[0].text.len(), BIG_BYTES);

    // Attachment bytes on request, under their cap; over it a failure.
    let with_bytes = S3Connector::new(
        moto.config("corpus")
            .prefix("images/")
            .attachment_bytes(true, 4),
    )
    .unwrap();
    let items: Vec<_> = with_bytes.load().collect().await;
    match items[0].as_ref().unwrap() {
        Item::Failure(f) => assert!(f.reason.contains("8 bytes, over the 4-byte attachment cap")),
        other => panic!("{other:?}"),
    }
    let with_bytes = S3Connector::new(
        moto.config("corpus")
            .prefix("images/")
            .attachment_bytes(true, 1024),
    )
    .unwrap();
    let items: Vec<_> = with_bytes.load().collect().await;
    match items[0].as_ref().unwrap() {
        Item::Document(d) => assert_eq!(d.attachments[0].bytes.as_ref().unwrap().len(), 8),
        other => panic!("{other:?}"),
    }
}

/// Keys spread over three prefixes, listed 7 to a page, a checkpoint every
/// 5 keys: stopping after any checkpoint and resuming from it yields every
/// object, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_from_every_checkpoint_yields_each_object_once() {
    let moto = MotoServer::start().unwrap();
    let mut objects = BTreeMap::new();
    for p in ["a/", "b/", "c/"] {
        for i in 0..23 {
            objects.insert(format!("{p}{i:03}.txt"), format!("{p}{i}").into_bytes());
        }
    }
    objects.insert("other/skip.txt".into(), b"not in scope".to_vec());
    seed(&moto, "resume", &objects).await;
    let config = moto
        .config("resume")
        .prefix("c/")
        .prefix("a/")
        .prefix("b/")
        .page_size(7)
        .checkpoint_every(5)
        .concurrency(4);
    let connector = S3Connector::new(config).unwrap();
    assert_eq!(connector.prefixes(), ["a/", "b/", "c/"]);
    let window = TimeWindow::until(Utc::now() + Duration::hours(1));

    let all: Vec<Item> = connector
        .resume(window, None)
        .map(|i| i.unwrap())
        .collect()
        .await;
    let ids: Vec<String> = all
        .iter()
        .filter_map(|i| match i {
            Item::Document(d) => Some(d.id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 69);
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "documents come out in key order");
    let checkpoints: Vec<_> = all
        .iter()
        .enumerate()
        .filter_map(|(n, i)| match i {
            Item::Checkpoint(cp) => Some((n, cp.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(checkpoints.len(), 13);

    for (position, checkpoint) in checkpoints {
        let before: Vec<&String> = all[..position]
            .iter()
            .filter_map(|i| match i {
                Item::Document(d) => Some(&d.id),
                _ => None,
            })
            .collect();
        let after: Vec<String> = connector
            .resume(window, Some(checkpoint.clone()))
            .filter_map(|i| async move {
                match i.unwrap() {
                    Item::Document(d) => Some(d.id),
                    _ => None,
                }
            })
            .collect()
            .await;
        let mut union: Vec<String> = before.into_iter().cloned().chain(after).collect();
        assert_eq!(union.len(), 69, "at {checkpoint:?}");
        union.sort();
        union.dedup();
        assert_eq!(union.len(), 69, "a repeat at {checkpoint:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_globs_slim_and_validate() {
    let moto = MotoServer::start().unwrap();
    let mut objects = BTreeMap::new();
    for key in [
        "guide/intro.md",
        "guide/deep/setup.md",
        "guide/draft-plan.md",
        "guide/notes.txt",
        "top.md",
    ] {
        objects.insert(key.to_owned(), b"text".to_vec());
    }
    objects.insert("guide/".into(), Vec::new());
    seed(&moto, "globs", &objects).await;
    moto.create_bucket("another-bucket").await.unwrap();

    let connector =
        S3Connector::new(moto.config("globs").include("*.md").exclude("draft-*")).unwrap();
    let slim: Vec<String> = connector.slim().map(|s| s.unwrap().id).collect().await;
    let base = format!("{}/globs", moto.endpoint());
    assert_eq!(
        slim,
        [
            format!("{base}/guide/deep/setup.md"),
            format!("{base}/guide/intro.md"),
            format!("{base}/top.md"),
        ]
    );

    // A window that ends before the objects were written finds nothing;
    // one around now finds them all.
    let past = TimeWindow::new(
        Utc::now() - Duration::days(2),
        Utc::now() - Duration::days(1),
    );
    assert_eq!(connector.poll(past).count().await, 0);
    let now = TimeWindow::new(
        Utc::now() - Duration::hours(1),
        Utc::now() + Duration::hours(1),
    );
    assert_eq!(connector.poll(now).count().await, 3);

    let options = connector.validate().await.unwrap();
    let buckets: Vec<&str> = options
        .get("buckets")
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert!(
        buckets.contains(&"globs") && buckets.contains(&"another-bucket"),
        "{buckets:?}"
    );
    let prefixes: Vec<&str> = options
        .get("prefixes")
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(prefixes, ["guide/"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bucket_and_dead_endpoint_are_clear_errors() {
    let moto = MotoServer::start().unwrap();
    let connector = S3Connector::new(moto.config("no-such-bucket")).unwrap();
    let err = connector.validate().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("bucket `no-such-bucket` does not exist"),
        "{text}"
    );
    assert!(text.contains(&moto.endpoint()), "{text}");
    assert!(
        !text.contains(SECRET_ACCESS_KEY) && !text.contains('\n'),
        "{text}"
    );
    // The sync stream ends with the same error.
    let items: Vec<_> = connector.load().collect().await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap_err().kind(), ErrorKind::NotFound);

    // Nothing listens on this port once the listener is dropped.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = S3Connector::new(
        moto.config("bucket")
            .endpoint(format!("http://127.0.0.1:{port}")),
    )
    .unwrap();
    let err = dead.validate().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("http://127.0.0.1:{port}")), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(
        !text.contains(SECRET_ACCESS_KEY) && !text.contains('\n'),
        "{text}"
    );

    let err =
        S3Connector::new(S3Config::new("bucket").endpoint("http://example.com:9000")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_objects_get_their_text_and_a_broken_one_is_a_failure() {
    let moto = MotoServer::start().unwrap();
    let mut objects = BTreeMap::new();
    objects.insert(
        "policies/travel.rtf".to_owned(),
        br"{\rtf1\ansi Travel policy\par Book trains under four hours.\par}".to_vec(),
    );
    objects.insert(
        "policies/broken.docx".to_owned(),
        b"PK\x03\x04 cut short".to_vec(),
    );
    seed(&moto, "office", &objects).await;

    let connector = S3Connector::new(moto.config("office")).unwrap();
    let items: Vec<Item> = connector.load().map(|i| i.unwrap()).collect().await;
    let mut docs = Vec::new();
    let mut failures = Vec::new();
    for item in items {
        match item {
            Item::Document(doc) => docs.push(*doc),
            Item::Failure(f) => failures.push(f),
            _ => {}
        }
    }
    assert_eq!(docs.len(), 1, "{failures:?}");
    let text: Vec<&str> = docs[0].sections.iter().map(|s| s.text.as_str()).collect();
    assert!(
        text.join("\n").contains("Book trains under four hours."),
        "{text:?}"
    );
    // The object stays described: an attachment entry with its size.
    assert_eq!(
        docs[0].attachments[0].size,
        Some(objects["policies/travel.rtf"].len() as u64)
    );
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].reason.contains("broken.docx"),
        "{}",
        failures[0].reason
    );

    let off = S3Connector::new(moto.config("office").extract(false)).unwrap();
    let items: Vec<Item> = off.load().map(|i| i.unwrap()).collect().await;
    assert!(
        items
            .iter()
            .all(|i| matches!(i, Item::Document(d) if d.sections.is_empty())
                || matches!(i, Item::Checkpoint(_))),
        "with extraction off the objects are attachment entries"
    );
}
