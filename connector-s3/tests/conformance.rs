//! The SDK's conformance checks against the S3 connector: the stream checks
//! against moto (a real S3 implementation, feature `testing`), the hostile
//! answers against a wiremock stand-in that answers `ListObjectsV2` with the
//! XML AWS documents, reached with path-style addressing through a custom
//! endpoint.
//!
//! Not applicable:
//! - `offset_without_progress_ends_with_an_error`: `ListObjectsV2` pages by
//!   continuation token only, never by offset.
//! - `redirect_carries_no_authorization`: the AWS SDK follows no redirect;
//!   S3's `301 PermanentRedirect` is a wrong-region configuration error
//!   (`tests/s3_errors.rs`), and a pre-signed URL is never handed out.
//!
//! `echoed_credentials_never_show` runs, but SigV4 never puts the secret
//! key in a request (the `Authorization` header carries a signature), so
//! the S3-shaped echo of the secret and the session token is tested here
//! too.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use connector_core::options::{RetryPolicy, SourceOptions};
use connector_core::{Checkpoint, CheckpointedConnector, Connector, ErrorKind, TimeWindow};
use connector_s3::{S3Config, S3Connector, S3Credentials};
use connector_testing::{Endpoint, checks, drain, full_stream};
use wiremock::matchers::{method, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";

/// The stand-in's objects: key and body.
const OBJECTS: &[(&str, &str)] = &[
    ("guides/intro.md", "# Intro"),
    ("guides/setup.md", "# Setup"),
    ("notes/2026/plan.txt", "plan"),
    ("readme.txt", "read me"),
];

/// Quick retries: the checks answer 500s and 429s on purpose.
fn options() -> SourceOptions {
    SourceOptions::default().with_retry(
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_delays(Duration::from_millis(10), Duration::from_millis(50)),
    )
}

fn config(server: &MockServer) -> S3Config {
    S3Config::new("docs")
        .endpoint(server.uri())
        .path_style(true)
        .region("us-east-1")
        .credentials(S3Credentials::Static {
            access_key_id: KEY_ID.into(),
            secret_access_key: SECRET.to_owned().into(),
            session_token: Some(TOKEN.to_owned().into()),
        })
        .options(options())
}

fn connector(server: &MockServer) -> S3Connector {
    S3Connector::new(config(server)).unwrap()
}

/// `ListObjectsV2` on bucket `docs`, path-style.
fn list_objects() -> Endpoint {
    Endpoint::new("GET", r"^/docs/?$")
}

/// `GetObject` on bucket `docs`, path-style.
fn get_object() -> Endpoint {
    Endpoint::new("GET", r"^/docs/.+$")
}

/// A `ListObjectsV2` answer as AWS documents it
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>):
/// `entries` are key and `<Size>`, keys URL-encoded as `encoding-type=url`
/// asks; `next` makes the page truncated.
fn listing_xml(entries: &[(String, i64)], next: Option<&str>) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Name>docs</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType>",
    );
    xml.push_str(&format!(
        "<KeyCount>{}</KeyCount><IsTruncated>{}</IsTruncated>",
        entries.len(),
        next.is_some()
    ));
    for (key, size) in entries {
        let key: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
        xml.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>\
             <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>{size}</Size>\
             <StorageClass>STANDARD</StorageClass></Contents>",
            key.replace("%2F", "/")
        ));
    }
    if let Some(next) = next {
        xml.push_str(&format!(
            "<NextContinuationToken>{next}</NextContinuationToken>"
        ));
    }
    xml.push_str("</ListBucketResult>");
    xml
}

fn xml(status: u16, body: String) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/xml")
        .insert_header("x-amz-request-id", "4442587FB7D0A2F9")
        .set_body_string(body)
}

/// The stand-in: one listing page of [`OBJECTS`], and their bodies.
async fn stand_in() -> MockServer {
    let server = MockServer::start().await;
    let entries: Vec<(String, i64)> = OBJECTS
        .iter()
        .map(|(k, b)| ((*k).to_owned(), b.len() as i64))
        .collect();
    list_objects()
        .mock()
        .and(query_param("list-type", "2"))
        .respond_with(xml(200, listing_xml(&entries, None)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/docs/.+$"))
        .respond_with(|request: &Request| {
            let key = request.url.path().trim_start_matches("/docs/");
            match OBJECTS.iter().find(|(k, _)| *k == key) {
                Some((_, body)) => ResponseTemplate::new(200)
                    .insert_header("content-type", "text/plain")
                    .insert_header("etag", "\"9b2cf535f27731c974343645a3985328\"")
                    .insert_header("last-modified", "Fri, 02 Jan 2026 03:04:05 GMT")
                    .set_body_string(*body),
                None => xml(
                    404,
                    "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
                        .to_owned(),
                ),
            }
        })
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_stand_in_syncs() {
    let server = stand_in().await;
    let out = drain(full_stream(&connector(&server))).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), OBJECTS.len());
}

#[tokio::test]
async fn a_wrong_shape_is_a_decode_error_never_an_empty_source() {
    let server = stand_in().await;
    checks::wrong_shape_is_a_decode_error(&connector(&server), &server, &list_objects()).await;
}

#[tokio::test]
async fn a_repeated_continuation_token_ends_with_an_error() {
    let server = stand_in().await;
    checks::repeated_cursor_ends_with_an_error(
        &connector(&server),
        &server,
        &list_objects(),
        |n| {
            xml(
                200,
                listing_xml(&[(format!("loop-{n}.bin"), 10)], Some("same-token")),
            )
        },
    )
    .await;
}

#[tokio::test]
async fn endless_fresh_continuation_tokens_end_with_an_error() {
    let server = stand_in().await;
    checks::endless_cursors_end_with_an_error(&connector(&server), &server, &list_objects(), |n| {
        xml(
            200,
            listing_xml(&[("same.bin".to_owned(), 10)], Some(&format!("fresh-{n}"))),
        )
    })
    .await;
}

#[tokio::test]
async fn retry_after_is_honoured_or_refused_with_a_message() {
    let server = stand_in().await;
    let s3 = connector(&server);
    checks::retry_after_is_honoured(&s3, &server, &list_objects()).await;
    checks::retry_after_is_honoured(&s3, &server, &get_object()).await;
}

/// S3's own throttling: `503 SlowDown` (no `Retry-After`) is retried with
/// backoff and the sync completes.
#[tokio::test]
async fn slow_down_is_retried() {
    let server = stand_in().await;
    let (mock, _on) = list_objects().mock_ahead();
    mock.respond_with(xml(
        503,
        "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            .to_owned(),
    ))
    .up_to_n_times(2)
    .with_priority(1)
    .mount(&server)
    .await;
    let s3 = connector(&server);
    let out = drain(full_stream(&s3)).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), OBJECTS.len());
    // The throttling reached the rate control and the counters.
    let metrics = s3.metrics().unwrap();
    assert_eq!((metrics.throttled, metrics.retries), (2, 2), "{metrics:?}");
    assert_eq!(metrics.requests, 3 + OBJECTS.len() as u64, "{metrics:?}");
}

/// On `ListObjectsV2` only: a `200` from `GetObject` is the object itself,
/// whatever its bytes (the check's 200 echo would be a document holding
/// the `Authorization` header, which carries no secret under SigV4); the
/// error answers of `GetObject` are covered by the S3-shaped echo below.
#[tokio::test]
async fn echoed_credentials_never_show() {
    let server = stand_in().await;
    checks::echoed_credentials_never_show(
        &connector(&server),
        &server,
        &list_objects(),
        &[SECRET, TOKEN],
    )
    .await;
}

/// Echoes the session token header and the secret in an S3 error body.
struct EchoS3Secrets;

impl Respond for EchoS3Secrets {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let token = request
            .headers
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        xml(
            403,
            format!(
                "<Error><Code>InvalidToken</Code><Message>token {token} for secret {SECRET} is malformed</Message></Error>"
            ),
        )
    }
}

#[tokio::test]
async fn an_echoed_session_token_and_secret_never_show() {
    let server = stand_in().await;
    let s3 = connector(&server);
    for endpoint in [list_objects(), get_object()] {
        let (mock, _on) = endpoint.mock_ahead();
        mock.respond_with(EchoS3Secrets)
            .with_priority(1)
            .mount(&server)
            .await;
        let out = drain(full_stream(&s3)).await;
        let shown = out.shown();
        assert!(out.error.is_some(), "an invalid token was taken as fine");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }
}

#[tokio::test]
async fn one_malformed_record_is_one_failure() {
    let server = stand_in().await;
    // Three good entries and one with a negative size, which would
    // otherwise read as an empty object.
    let mut entries: Vec<(String, i64)> = OBJECTS[..3]
        .iter()
        .map(|(k, b)| ((*k).to_owned(), b.len() as i64))
        .collect();
    entries.insert(1, ("guides/broken.md".to_owned(), -5));
    checks::one_malformed_record_is_one_failure(
        &connector(&server),
        &server,
        &list_objects(),
        xml(200, listing_xml(&entries, None)),
        3,
    )
    .await;
}

/// An entry without a key, and one whose URL-encoded key is not UTF-8,
/// are one failure each; the good entry is a document.
#[tokio::test]
async fn entries_without_a_readable_key_are_failures() {
    let server = stand_in().await;
    let good = listing_xml(&[("readme.txt".to_owned(), 7)], None);
    let page = good.replace(
        "</ListBucketResult>",
        "<Contents><LastModified>2026-01-02T03:04:05.000Z</LastModified><Size>3</Size></Contents>\
         <Contents><Key>bad%FF.txt</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><Size>3</Size></Contents>\
         </ListBucketResult>",
    );
    let (mock, _on) = list_objects().mock_ahead();
    mock.respond_with(xml(200, page))
        .with_priority(1)
        .mount(&server)
        .await;
    let out = drain(full_stream(&connector(&server))).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 1);
    let reasons: Vec<&str> = out.failures.iter().map(|f| f.reason.as_str()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("has no key"), "{reasons:?}");
    assert!(reasons[1].contains("bad%FF.txt"), "{reasons:?}");
}

/// A checkpoint stored by the previous version (`{"prefix", "after"}`)
/// resumes the listing with `start-after`.
#[tokio::test]
async fn a_stored_checkpoint_of_the_previous_version_resumes() {
    let server = stand_in().await;
    let entries: Vec<(String, i64)> = vec![("readme.txt".to_owned(), 7)];
    let (mock, _on) = list_objects().mock_ahead();
    mock.and(query_param("start-after", "notes/2026/plan.txt"))
        .respond_with(xml(200, listing_xml(&entries, None)))
        .with_priority(1)
        .mount(&server)
        .await;
    let stored: Checkpoint =
        serde_json::from_str(r#"{"prefix":"","after":"notes/2026/plan.txt"}"#).unwrap();
    let s3 = connector(&server);
    let out = drain(s3.resume(TimeWindow::until(chrono::Utc::now()), Some(stored))).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let ids: Vec<String> = out.documents.iter().map(|d| d.id.clone()).collect();
    assert_eq!(ids, [format!("{}/docs/readme.txt", server.uri())]);
}

/// A continuation token that S3 would refuse (`400 InvalidArgument`) ends
/// the listing with an error naming the request, not a silent end.
#[tokio::test]
async fn a_refused_listing_ends_with_an_error() {
    let server = stand_in().await;
    let (mock, _on) = list_objects().mock_ahead();
    mock.respond_with(xml(
        400,
        "<Error><Code>InvalidArgument</Code><Message>The continuation token provided is incorrect</Message></Error>"
            .to_owned(),
    ))
    .with_priority(1)
    .mount(&server)
    .await;
    let out = drain(full_stream(&connector(&server))).await;
    let err = out.error.expect("ended without an error");
    assert_eq!(err.kind(), ErrorKind::Http, "{err}");
    assert!(err.request().is_some(), "{err}");
}

#[cfg(feature = "testing")]
mod against_moto {
    use super::*;
    use connector_s3::testing::MotoServer;

    /// A bucket of 40 objects under three prefixes, listed 7 keys a page,
    /// with a checkpoint every 5 keys.
    async fn moto_connector() -> (MotoServer, S3Connector) {
        let moto = MotoServer::start().expect("moto starts");
        moto.create_bucket("conformance").await.unwrap();
        let objects = (0..40).map(|i| {
            let prefix = ["a/", "b/deep/", "c/"][i % 3];
            (
                format!("{prefix}doc-{i:03}.md"),
                format!("# {i}").into_bytes(),
            )
        });
        moto.put_many("conformance", objects, 8).await.unwrap();
        let config = moto
            .config("conformance")
            .prefix("a/")
            .prefix("b/")
            .prefix("c/")
            .page_size(7)
            .checkpoint_every(5);
        let connector = S3Connector::new(config).unwrap();
        (moto, connector)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn resume_at_every_checkpoint_neither_loses_nor_repeats() {
        let (_moto, s3) = moto_connector().await;
        checks::resume_at_every_checkpoint(&s3, TimeWindow::until(chrono::Utc::now())).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slim_ids_are_the_loaded_ids() {
        let (_moto, s3) = moto_connector().await;
        checks::slim_matches_load(&s3).await;
    }
}
