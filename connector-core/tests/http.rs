//! The HTTP layer against a real HTTP server (wiremock): retry, Retry-After,
//! no retry on client errors, 401 refresh, redirects, body caps, rate limits.

#![allow(clippy::unwrap_used)] // tests fail loudly on fixture mistakes

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use connector_core::credentials::{Bearer, CredentialProvider, ExposeSecret, SecretString};
use connector_core::http::HttpClient;
use connector_core::options::RetryPolicy;
use connector_core::rate::RateLimit;
use connector_core::{ErrorKind, Result};
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(20))
}

fn client(server: &MockServer) -> HttpClient {
    HttpClient::builder("test", server.uri())
        .credentials(Bearer::new("s3cr3t-token"))
        .retry(fast_retry())
        .build()
        .expect("a loopback base URL is accepted")
}

/// Answers with the given statuses in turn, then 200.
struct Sequence {
    statuses: Vec<(u16, Option<&'static str>)>,
    calls: AtomicUsize,
}

impl Sequence {
    fn new(statuses: Vec<(u16, Option<&'static str>)>) -> Self {
        Self {
            statuses,
            calls: AtomicUsize::new(0),
        }
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        match self.statuses.get(n) {
            Some((status, retry_after)) => {
                let mut t = ResponseTemplate::new(*status).set_body_json(
                    serde_json::json!({"errorMessages": ["slow down"], "errors": {}}),
                );
                if let Some(wait) = retry_after {
                    t = t.insert_header("Retry-After", *wait);
                }
                t
            }
            None => ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})),
        }
    }
}

#[tokio::test]
async fn sends_credentials_user_agent_and_joins_paths() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/wiki/rest/api/space"))
        .and(query_param("limit", "25"))
        .and(header("authorization", "Bearer s3cr3t-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"results": []})))
        .expect(1)
        .mount(&server)
        .await;
    let client = HttpClient::builder("test", format!("{}/wiki/", server.uri()))
        .credentials(Bearer::new("s3cr3t-token"))
        .build()
        .unwrap();
    let body: serde_json::Value = client
        .get("/rest/api/space")
        .query(&[("limit", "25")])
        .fetch_json()
        .await
        .unwrap();
    assert_eq!(body["results"], serde_json::json!([]));
    let received = server.received_requests().await.unwrap();
    let agent = received[0]
        .headers
        .get("user-agent")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        agent.starts_with("connector-sdk/") && agent.contains("(test)"),
        "{agent}"
    );
    let counters = client.counters();
    assert_eq!((counters.requests, counters.retries), (1, 0));
    assert!(counters.bytes > 0);
}

#[tokio::test]
async fn retries_server_errors_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Sequence::new(vec![
            (503, None),
            (502, None),
            (500, None),
            (504, None),
        ]))
        .mount(&server)
        .await;
    let client = client(&server);
    let body: serde_json::Value = client.get("/x").fetch_json().await.unwrap();
    assert_eq!(body["ok"], true);
    let c = client.counters();
    // A 503 without Retry-After is a failure, not throttling.
    assert_eq!((c.requests, c.retries, c.throttled), (5, 4, 0));
}

#[tokio::test]
async fn honours_retry_after_seconds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Sequence::new(vec![(429, Some("2"))]))
        .mount(&server)
        .await;
    let client = client(&server);
    let started = Instant::now();
    client.get("/x").send().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1950),
        "{:?}",
        started.elapsed()
    );
    let c = client.counters();
    assert_eq!((c.requests, c.throttled), (2, 1));
    assert!(c.throttled_time >= Duration::from_millis(1950));
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_fails_with_the_wait() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Sequence::new(vec![(429, Some("3600"))]))
        .mount(&server)
        .await;
    let client = HttpClient::builder("test", server.uri())
        .retry(fast_retry().with_max_retry_after(Duration::from_secs(60)))
        .build()
        .unwrap();
    let err = client.get("/x").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(err.status(), Some(429));
}

#[tokio::test]
async fn a_429_storm_without_retry_after_slows_down_and_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Sequence::new(vec![(429, None); 5]))
        .mount(&server)
        .await;
    let client = client(&server);
    client.get("/x").send().await.unwrap();
    let c = client.counters();
    assert_eq!((c.requests, c.retries, c.throttled), (6, 5, 5));
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    for status in [400u16, 401, 403, 404] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(serde_json::json!({"errorMessages": ["nope"], "errors": {}})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .get("/rest/x")
            .query(&[("token", "QUERY-SECRET")])
            .send()
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("HTTP {status}")) && text.contains("nope"),
            "{text}"
        );
        assert!(
            text.contains(&format!("GET {}/rest/x", server.uri())),
            "{text}"
        );
        assert!(
            !text.contains("QUERY-SECRET") && !text.contains("s3cr3t"),
            "{text}"
        );
        assert_eq!(err.status(), Some(status));
    }
}

#[tokio::test]
async fn post_is_retried_only_when_marked_idempotent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Sequence::new(vec![(503, None)]))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client
        .post("/search")
        .json(&serde_json::json!({"q": 1}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    client
        .post("/search")
        .json(&serde_json::json!({"q": 1}))
        .idempotent(true)
        .send()
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].body, br#"{"q":1}"#);
}

/// A credential that changes once on refresh, and counts refreshes.
#[derive(Debug, Default)]
struct Rotating {
    refreshed: AtomicUsize,
}

#[async_trait]
impl CredentialProvider for Rotating {
    async fn authorization(&self) -> Result<SecretString> {
        let n = self.refreshed.load(Ordering::SeqCst);
        Ok(SecretString::from(format!("Bearer token-{n}")))
    }

    async fn refresh(&self, rejected: &SecretString) -> Result<bool> {
        assert!(rejected.expose_secret().starts_with("Bearer token-"));
        self.refreshed.fetch_add(1, Ordering::SeqCst);
        Ok(true)
    }
}

#[tokio::test]
async fn a_401_refreshes_once_then_fails() {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer token-0"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let creds = Arc::new(Rotating::default());
    let client = HttpClient::builder("test", server.uri())
        .shared_credentials(creds.clone())
        .build()
        .unwrap();
    client.get("/x").send().await.unwrap();
    assert_eq!(creds.refreshed.load(Ordering::SeqCst), 1);

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let creds = Arc::new(Rotating::default());
    let client = HttpClient::builder("test", server.uri())
        .shared_credentials(creds.clone())
        .build()
        .unwrap();
    let err = client.get("/x").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(creds.refreshed.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_to_another_host_drop_the_authorization_header() {
    let storage = MockServer::start().await;
    Mock::given(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&storage)
        .await;
    Mock::given(path("/blob"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"file bytes".to_vec()))
        .mount(&storage)
        .await;
    let api = MockServer::start().await;
    Mock::given(path("/items/1/content"))
        .and(header("authorization", "Bearer s3cr3t-token"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/blob?sig=abc", storage.uri())),
        )
        .expect(1)
        .mount(&api)
        .await;
    let client = client(&api);
    let response = client.get("/items/1/content").send().await.unwrap();
    assert_eq!(response.url().path(), "/blob");
    assert_eq!(&response.bytes().await.unwrap()[..], b"file bytes");
    let received = storage.received_requests().await.unwrap();
    assert!(
        received
            .iter()
            .all(|r| !r.headers.contains_key("authorization"))
    );
}

#[tokio::test]
async fn absolute_links_to_other_origins_go_without_credentials() {
    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&other)
        .await;
    let api = MockServer::start().await;
    client(&api)
        .get(&format!("{}/presigned?x=1", other.uri()))
        .send()
        .await
        .unwrap();
    let received = other.received_requests().await.unwrap();
    assert!(!received[0].headers.contains_key("authorization"));
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 10_000]))
        .mount(&server)
        .await;
    let client = HttpClient::builder("test", server.uri())
        .max_body_bytes(1_000)
        .build()
        .unwrap();
    let err = client
        .get("/big")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("over the 1000-byte limit"),
        "{err}"
    );
    let ok = client
        .get("/big")
        .send()
        .await
        .unwrap()
        .bytes_capped(20_000)
        .await
        .unwrap();
    assert_eq!(ok.len(), 10_000);
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_naming_the_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{not json"))
        .mount(&server)
        .await;
    let err = client(&server)
        .get("/x")
        .fetch_json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("/x"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_error_naming_the_host() {
    // Bind then drop a listener so the port is (almost certainly) closed.
    // A server that never answered gets three attempts, not the full policy.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = HttpClient::builder("test", format!("http://127.0.0.1:{port}"))
        .retry(fast_retry().with_max_attempts(8))
        .build()
        .unwrap();
    let err = client.get("/x").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(
        err.to_string().contains("cannot connect to 127.0.0.1"),
        "{err}"
    );
    assert_eq!(client.counters().requests, 3);
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused() {
    let err = HttpClient::builder("jira", "http://jira.example.com")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("https://"), "{err}");
}

#[tokio::test]
async fn the_rate_limit_spaces_requests() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = HttpClient::builder("test", server.uri())
        .rate_limit(RateLimit::per_second(20.0).with_burst(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let requests = (0..11).map(|_| {
        let client = client.clone();
        async move { client.get("/x").send().await.map(|_| ()) }
    });
    futures::future::try_join_all(requests).await.unwrap();
    // 11 requests at 20/s with a burst of 1: ten intervals of 50 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(480),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_near_limit_signal_slows_later_requests() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).insert_header("X-RateLimit-NearLimit", "true"))
        .mount(&server)
        .await;
    let client = client(&server);
    client.get("/x").send().await.unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        client.get("/x").send().await.unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retries_stop_at_the_attempt_bound_naming_the_url() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let client = HttpClient::builder("test", server.uri())
        .retry(fast_retry().with_max_attempts(3))
        .build()
        .unwrap();
    let err = client
        .get("/busy")
        .query(&[("q", "1")])
        .send()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("gave up after 3 attempts"), "{text}");
    assert!(
        text.contains(&format!("GET {}/busy", server.uri())),
        "{text}"
    );
    assert_eq!(err.kind(), ErrorKind::Transient);
}

/// Token endpoint handing out `tok-1`, `tok-2`, … in turn.
struct Tokens(AtomicUsize);

impl Respond for Tokens {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": format!("tok-{n}")
        }))
    }
}

#[tokio::test]
async fn concurrent_401s_share_one_client_credentials_refresh() {
    use connector_core::credentials::ClientCredentials;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/v2.0/token"))
        .respond_with(Tokens(AtomicUsize::new(0)))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let provider = ClientCredentials::new(
        &format!("{}/oauth2/v2.0/token", server.uri()),
        "app-id",
        "client-SECRET",
    )
    .unwrap()
    .scopes(["https://graph.microsoft.com/.default"]);
    let client = HttpClient::builder("graph", server.uri())
        .credentials(provider)
        .build()
        .unwrap();
    let requests = (0..20).map(|_| {
        let client = client.clone();
        async move { client.get("/v1.0/sites/root").send().await.map(|_| ()) }
    });
    futures::future::try_join_all(requests).await.unwrap();
    // One token at first, one refresh however many requests saw the 401.
}

/// Collects every formatted tracing event.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_secret_is_never_printed() {
    const TOKEN: &str = "tok-DISTINCTIVE-7f3a9";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(path("/ok"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(path("/flaky"))
        .respond_with(Sequence::new(vec![(503, None), (429, Some("0"))]))
        .mount(&server)
        .await;
    Mock::given(path("/denied"))
        .respond_with(ResponseTemplate::new(401).set_body_string("bad token"))
        .mount(&server)
        .await;
    Mock::given(path("/echo"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(serde_json::json!({"message": "bad request"})),
        )
        .mount(&server)
        .await;
    let client = HttpClient::builder("test", server.uri())
        .credentials(Bearer::new(TOKEN))
        .retry(fast_retry())
        .build()
        .unwrap();
    let mut texts = vec![format!("{client:?}")];
    client.get("/ok").send().await.unwrap();
    client.get("/flaky").send().await.unwrap();
    for p in ["/denied", "/echo"] {
        let err = client
            .get(p)
            .query(&[("access_token", TOKEN)])
            .send()
            .await
            .unwrap_err();
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = HttpClient::builder("test", format!("http://127.0.0.1:{port}"))
        .credentials(Bearer::new(TOKEN))
        .retry(fast_retry())
        .build()
        .unwrap();
    let err = down
        .get("/x")
        .query(&[("sig", TOKEN)])
        .send()
        .await
        .unwrap_err();
    texts.push(err.to_string());
    texts.push(format!("{err:?}"));

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("retrying"), "events were captured: {log}");
    assert!(!log.contains(TOKEN), "{log}");
    for text in texts {
        assert!(!text.contains(TOKEN), "{text}");
    }
}

/// A server that echoes the request's `Authorization` header back.
struct Echo {
    status: u16,
}

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let token = auth
            .split_once(' ')
            .map(|(_, t)| t.to_owned())
            .unwrap_or_default();
        ResponseTemplate::new(self.status).set_body_json(serde_json::json!({
            "errorMessages": [format!("debug: you sent {auth} (token {token})")],
            "errors": {},
            // A wrong-shaped answer: a string where a number belongs.
            "count": auth,
        }))
    }
}

#[tokio::test]
async fn credentials_echoed_by_the_server_never_reach_errors() {
    use connector_core::credentials::Basic;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/error"))
        .respond_with(Echo { status: 400 })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/shape"))
        .respond_with(Echo { status: 200 })
        .mount(&server)
        .await;
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Counted {
        count: u64,
    }
    let secret = "ATATT3xFfGF0-sup3r-s3cret";
    let basic = HttpClient::builder("jira", server.uri())
        .credentials(Basic::new("me@acme.com", secret))
        .retry(fast_retry())
        .build()
        .unwrap();
    let bearer = client(&server);
    for (client, secrets) in [
        (
            &basic,
            vec![secret.to_owned(), "bWVAYWNtZS5jb2"[..10].to_owned()],
        ),
        (&bearer, vec!["s3cr3t-token".to_owned()]),
    ] {
        let error = client.get("/error").send().await.unwrap_err();
        let shape = client
            .get("/shape")
            .fetch_json::<Counted>()
            .await
            .unwrap_err();
        assert_eq!(shape.kind(), ErrorKind::Decode);
        for err in [error, shape] {
            let shown = format!("{err} {err:?}");
            for s in &secrets {
                assert!(!shown.contains(s.as_str()), "{s} leaked: {shown}");
            }
            assert!(shown.contains("[REDACTED]"), "{shown}");
        }
    }
}

#[tokio::test]
async fn redirect_failures_say_what_happened_and_where() {
    let server = MockServer::start().await;
    let loop_to = format!("{}/loop", server.uri());
    Mock::given(path("/loop"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", loop_to.as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/downgrade"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", "http://files.example.com/a"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/dead"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "http://localhost:1/x"))
        .mount(&server)
        .await;
    let client = client(&server);
    let looped = client.get("/loop").send().await.unwrap_err().to_string();
    assert!(looped.contains("redirect loop"), "{looped}");
    assert!(!looped.contains("error following redirect"), "{looped}");
    let down = client
        .get("/downgrade")
        .send()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        down.contains("plain http") && down.contains("files.example.com"),
        "{down}"
    );
    let dead = client.get("/dead").send().await.unwrap_err().to_string();
    assert!(dead.contains("cannot connect to localhost"), "{dead}");
}

/// A raw HTTP server: the first `bad` connections get `first`, the rest a
/// good JSON answer. Returns the base URL and the connection count.
async fn raw_server(bad: usize, first: &'static [u8], stall: bool) -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                if n < bad {
                    let _ = socket.write_all(first).await;
                    if stall {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                } else {
                    let body = br#"{"ok":true}"#;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(body).await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), count)
}

#[tokio::test]
async fn a_body_cut_short_is_retried() {
    let (base, connections) = raw_server(
        2,
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"ok\":",
        false,
    )
    .await;
    let client = HttpClient::builder("test", base)
        .retry(fast_retry())
        .build()
        .unwrap();
    let body: serde_json::Value = client.get("/x").fetch_json().await.unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(connections.load(Ordering::SeqCst), 3);
    assert_eq!(client.counters().retries, 2);
}

#[tokio::test]
async fn a_stalled_body_is_a_timeout_not_a_broken_connection() {
    let (base, _) = raw_server(
        usize::MAX,
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
        true,
    )
    .await;
    let client = HttpClient::builder("test", base)
        .retry(fast_retry().with_max_attempts(2))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client
        .get("/x")
        .fetch_json::<serde_json::Value>()
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(
        shown.contains("timed out reading the response body"),
        "{shown}"
    );
    assert!(shown.contains("gave up after 2 attempts"), "{shown}");
}

#[tokio::test]
async fn a_lone_429_pauses_everyone_without_slowing_the_rest() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(Sequence::new(vec![(429, Some("1"))]))
        .mount(&server)
        .await;
    let client = client(&server);
    let started = Instant::now();
    client.get("/x").send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    // Not cut: the control is still unpaced.
    assert_eq!(client.rate_control().rate(), None);
    let again = Instant::now();
    for _ in 0..20 {
        client.get("/x").send().await.unwrap();
    }
    assert!(
        again.elapsed() < Duration::from_millis(500),
        "{:?}",
        again.elapsed()
    );
}

#[tokio::test]
async fn a_refused_long_retry_after_does_not_freeze_the_client() {
    let server = MockServer::start().await;
    Mock::given(path("/long"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "86400"))
        .mount(&server)
        .await;
    Mock::given(path("/ok"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client.get("/long").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    let started = Instant::now();
    client.get("/ok").send().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn fetch_page_keeps_the_link_header_next_target() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/wiki/api/v2/pages"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "Link",
                    r#"</wiki/api/v2/pages?cursor=b2s>; rel="next", <https://acme.atlassian.net/wiki>; rel="base""#,
                )
                .set_body_json(serde_json::json!({"results": [{"id": "1"}], "_links": {}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/last"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"results": []})))
        .mount(&server)
        .await;
    let client = client(&server);
    let page = client
        .get("/wiki/api/v2/pages")
        .fetch_page("results")
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(
        page.link_next.as_deref(),
        Some("/wiki/api/v2/pages?cursor=b2s")
    );
    let last = client.get("/last").fetch_page("results").await.unwrap();
    assert_eq!(last.link_next, None);
}

#[tokio::test]
async fn a_page_comes_with_its_headers_after_a_retry() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/incident"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Total-Count", "3")
                .set_body_raw(
                    r#"{"result":[{"sys_id":"a"},{"sys_id":"\ud800"}]}"#,
                    "application/json",
                ),
        )
        .mount(&server)
        .await;
    let (page, headers) = client(&server)
        .get("/api/now/table/incident")
        .fetch_page_with_headers("result")
        .await
        .unwrap();
    assert_eq!(page.records.len(), 2);
    assert_eq!(headers.get("x-total-count").unwrap(), "3");
    let err = client(&server)
        .get("/api/now/table/nothing")
        .fetch_page_with_headers("result")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

/// GitHub answers a secondary rate limit with a 403 and `Retry-After`, and
/// a spent primary budget with a 403 and `X-RateLimit-Remaining: 0`: both
/// are waited out and retried, not reported as a refusal.
#[tokio::test]
async fn a_403_rate_limit_is_waited_out_and_retried() {
    struct Limited(AtomicUsize);
    impl Respond for Limited {
        fn respond(&self, _: &Request) -> ResponseTemplate {
            let body = serde_json::json!({
                "message": "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
            });
            match self.0.fetch_add(1, Ordering::SeqCst) {
                0 => ResponseTemplate::new(403)
                    .insert_header("retry-after", "1")
                    .set_body_json(body),
                1 => ResponseTemplate::new(403)
                    .insert_header("x-ratelimit-limit", "5000")
                    .insert_header("x-ratelimit-remaining", "0")
                    .insert_header("x-ratelimit-reset", "1")
                    .set_body_json(
                        serde_json::json!({"message": "API rate limit exceeded for user ID 1."}),
                    ),
                _ => ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})),
            }
        }
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Limited(AtomicUsize::new(0)))
        .mount(&server)
        .await;
    let limited = client(&server);
    let started = Instant::now();
    limited.get("/x").send().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    let c = limited.counters();
    assert_eq!((c.requests, c.throttled), (3, 2));
    // A plain 403 is still a refusal, at once.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "4999")
                .set_body_json(
                    serde_json::json!({"message": "Resource not accessible by integration"}),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).get("/x").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
}

#[tokio::test]
async fn a_request_follows_only_the_redirects_it_allows() {
    let server = MockServer::start().await;
    for (from, to) in [
        ("/a", "/b"),
        ("/b", "/c"),
        ("/c", "/d"),
        ("/out", "/elsewhere/x"),
    ] {
        Mock::given(path(from))
            .respond_with(
                ResponseTemplate::new(301)
                    .insert_header("Location", format!("{}{to}", server.uri())),
            )
            .mount(&server)
            .await;
    }
    Mock::given(path("/d"))
        .respond_with(ResponseTemplate::new(200).set_body_string("end"))
        .mount(&server)
        .await;
    let client = client(&server);
    let inside = |u: &connector_core::url::Url| !u.path().starts_with("/elsewhere");
    let ok = client.get("/a").redirects(3, inside).send().await.unwrap();
    assert_eq!(ok.url().path(), "/d");
    let capped = client
        .get("/a")
        .redirects(2, inside)
        .send()
        .await
        .unwrap_err();
    assert!(
        capped.to_string().contains("more than 2 redirects"),
        "{capped}"
    );
    let refused = client
        .get("/out")
        .redirects(3, inside)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Http);
    assert!(
        refused.to_string().contains("/elsewhere/x is outside"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_conditional_get_takes_304_as_an_answer() {
    let server = MockServer::start().await;
    Mock::given(path("/page"))
        .and(header("If-None-Match", "\"v1\""))
        .and(header_exists("If-Modified-Since"))
        .respond_with(ResponseTemplate::new(304))
        .mount(&server)
        .await;
    let client = client(&server);
    let answer = client
        .get("/page")
        .conditional(Some("\"v1\""), Some("Tue, 01 Dec 2026 00:00:00 GMT"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 304);
    // Without asking for it, a 304 stays an error.
    let plain = client
        .get("/page")
        .header(
            reqwest::header::IF_NONE_MATCH,
            reqwest::header::HeaderValue::from_static("\"v1\""),
        )
        .header(
            reqwest::header::IF_MODIFIED_SINCE,
            reqwest::header::HeaderValue::from_static("Tue, 01 Dec 2026 00:00:00 GMT"),
        )
        .send()
        .await;
    assert!(plain.is_err());
}
