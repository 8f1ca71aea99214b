//! S3-shaped error bodies from a mock server (moto accepts any keys, so
//! rejected credentials and denied access are played here): each is a typed,
//! one-line error naming the bucket and the endpoint, never the secret; a
//! denied object is a per-document failure; throttling is retried.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use connector_core::{Connector, ErrorKind, Item, LoadConnector};
use connector_s3::{S3Config, S3Connector, S3Credentials};
use futures::StreamExt;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET";

fn config(server: &MockServer) -> S3Config {
    S3Config::new("docs")
        .endpoint(server.uri())
        .path_style(true)
        .region("us-east-1")
        .credentials(S3Credentials::fixed("AKIAIOSFODNN7EXAMPLE", SECRET))
        .max_attempts(3)
}

fn error_xml(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
         <RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>"
    )
}

fn xml(status: u16, body: String) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/xml")
        .set_body_string(body)
}

const LISTING: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>docs</Name><Prefix></Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>
<Contents><Key>a-denied.txt</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>b-fine.txt</Key><LastModified>2026-01-02T00:00:00.000Z</LastModified><ETag>&quot;92eb5ffee6ae2fec3ad71c777531578f&quot;</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>c-archived.txt</Key><LastModified>2026-01-02T00:00:00.000Z</LastModified><ETag>&quot;4a8a08f09d37b73795649038408b5f33&quot;</ETag><Size>1</Size><StorageClass>DEEP_ARCHIVE</StorageClass></Contents>
</ListBucketResult>"#;

/// The one line every error must be: kind prefix, bucket, endpoint, no secret.
fn assert_clear(err: &connector_core::Error, kind: ErrorKind, server: &MockServer, says: &str) {
    let text = err.to_string();
    assert_eq!(err.kind(), kind, "{text}");
    assert!(text.contains("`docs`"), "names the bucket: {text}");
    assert!(text.contains(&server.uri()), "names the endpoint: {text}");
    assert!(text.contains(says), "says {says}: {text}");
    assert!(!text.contains(SECRET), "leaks the secret: {text}");
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(!format!("{err:?}").contains(SECRET));
}

#[tokio::test]
async fn access_denied_is_forbidden() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(xml(403, error_xml("AccessDenied", "Access Denied")))
        .mount(&server)
        .await;
    let connector = S3Connector::new(config(&server)).unwrap();
    let err = connector.validate().await.unwrap_err();
    assert_clear(
        &err,
        ErrorKind::Forbidden,
        &server,
        "AccessDenied: Access Denied",
    );
    assert!(err.to_string().contains("s3:ListBucket"), "{err}");
    let items: Vec<_> = connector.load().collect().await;
    assert_eq!(items.len(), 1);
    assert_clear(
        items[0].as_ref().unwrap_err(),
        ErrorKind::Forbidden,
        &server,
        "access denied",
    );
}

#[tokio::test]
async fn rejected_keys_are_auth_errors() {
    for code in [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(xml(403, error_xml(code, "The credentials are not valid.")))
            .mount(&server)
            .await;
        let connector = S3Connector::new(config(&server)).unwrap();
        let err = connector.validate().await.unwrap_err();
        assert_clear(&err, ErrorKind::Auth, &server, code);
        assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"), "{err}");
        // Not retried: one ListBuckets request.
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_secret_echoed_by_the_server_is_redacted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(xml(
            403,
            error_xml("SignatureDoesNotMatch", &format!("signed with {SECRET}")),
        ))
        .mount(&server)
        .await;
    let connector = S3Connector::new(config(&server)).unwrap();
    let err = connector.validate().await.unwrap_err();
    assert_clear(&err, ErrorKind::Auth, &server, "[REDACTED]");
}

#[tokio::test]
async fn missing_bucket_and_wrong_region() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(xml(403, error_xml("AccessDenied", "no ListAllMyBuckets")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/docs/"))
        .respond_with(xml(
            404,
            error_xml("NoSuchBucket", "The specified bucket does not exist"),
        ))
        .mount(&server)
        .await;
    let err = S3Connector::new(config(&server))
        .unwrap()
        .validate()
        .await
        .unwrap_err();
    assert_clear(&err, ErrorKind::NotFound, &server, "NoSuchBucket");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            xml(
                301,
                error_xml(
                    "PermanentRedirect",
                    "The bucket you are attempting to access must be addressed using the specified endpoint.",
                ),
            )
            .insert_header("x-amz-bucket-region", "eu-west-1"),
        )
        .mount(&server)
        .await;
    let items: Vec<_> = S3Connector::new(config(&server))
        .unwrap()
        .load()
        .collect()
        .await;
    let err = items[0].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("set region to eu-west-1"), "{err}");
}

#[tokio::test]
async fn denied_and_archived_objects_are_failures_and_the_stream_goes_on() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/docs/"))
        .and(query_param("list-type", "2"))
        .respond_with(xml(200, LISTING.to_owned()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/docs/a-denied.txt"))
        .respond_with(xml(403, error_xml("AccessDenied", "KMS key not allowed")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/docs/b-fine.txt"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/plain")
                .insert_header("etag", "\"92eb5ffee6ae2fec3ad71c777531578f\"")
                .set_body_string("b"),
        )
        .mount(&server)
        .await;
    let connector = S3Connector::new(config(&server)).unwrap();
    let items: Vec<Item> = connector.load().map(|i| i.unwrap()).collect().await;
    assert_eq!(items.len(), 3, "{items:?}");
    match &items[0] {
        Item::Failure(f) => {
            assert_eq!(f.id, format!("{}/docs/a-denied.txt", server.uri()));
            assert!(
                f.reason.contains("AccessDenied: KMS key not allowed"),
                "{}",
                f.reason
            );
            assert!(f.reason.contains("s3:GetObject"), "{}", f.reason);
        }
        other => panic!("{other:?}"),
    }
    match &items[1] {
        Item::Document(d) => assert_eq!(d.sections[0].text, "b"),
        other => panic!("{other:?}"),
    }
    match &items[2] {
        Item::Failure(f) => assert!(f.reason.contains("DEEP_ARCHIVE"), "{}", f.reason),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn throttling_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/docs/"))
        .respond_with(xml(
            503,
            error_xml("SlowDown", "Please reduce your request rate."),
        ))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/docs/"))
        .respond_with(xml(200, LISTING.replace("DEEP_ARCHIVE", "GLACIER")))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/docs/a-denied.txt"))
        .respond_with(ResponseTemplate::new(200).set_body_string("a"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/docs/b-fine.txt"))
        .respond_with(ResponseTemplate::new(200).set_body_string("b"))
        .mount(&server)
        .await;
    let connector = S3Connector::new(config(&server)).unwrap();
    let items: Vec<Item> = connector.load().map(|i| i.unwrap()).collect().await;
    let docs = items
        .iter()
        .filter(|i| matches!(i, Item::Document(_)))
        .count();
    assert_eq!(docs, 2, "{items:?}");
}

#[tokio::test]
async fn keys_scoped_to_a_prefix_validate_through_that_prefix() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/docs/"))
        .and(query_param("prefix", "wiki/"))
        .respond_with(xml(
            200,
            r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>docs</Name><Prefix>wiki/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"#.to_owned(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param_is_missing("prefix"))
        .respond_with(xml(403, error_xml("AccessDenied", "Access Denied")))
        .mount(&server)
        .await;
    let scoped = S3Connector::new(config(&server).prefix("wiki/")).unwrap();
    let options = scoped.validate().await.unwrap();
    assert_eq!(options.get("buckets")[0].key, "docs");
    assert_eq!(options.get("prefixes")[0].key, "wiki/");
    // Without the prefix the same keys cannot list the bucket.
    let whole = S3Connector::new(config(&server)).unwrap();
    assert_eq!(
        whole.validate().await.unwrap_err().kind(),
        ErrorKind::Forbidden
    );
}

/// An endpoint that never answered is given up on after three attempts,
/// not after the whole retry policy (eight attempts, up to a minute).
#[tokio::test]
async fn an_unreachable_endpoint_fails_fast() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let config = S3Config::new("docs")
        .endpoint(&dead)
        .path_style(true)
        .region("us-east-1")
        .credentials(S3Credentials::fixed("AKIAIOSFODNN7EXAMPLE", SECRET));
    let connector = S3Connector::new(config).unwrap();
    let started = std::time::Instant::now();
    let items: Vec<_> = connector.load().collect().await;
    let err = items[0].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("temporary failure: listing bucket `docs`"),
        "{text}"
    );
    assert!(text.contains("connection refused"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(connector.metrics().unwrap().requests, 3);
}
