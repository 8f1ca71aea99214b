//! Credential providers against a mock token endpoint, the PKCE loopback
//! login with a simulated browser, and the credential stores.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used)] // test helpers fail loudly on fixture mistakes

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use connector_core::ErrorKind;
use connector_core::credentials::env::Env;
use connector_core::credentials::file::{self, FileFormat};
use connector_core::credentials::{
    ClientAuth, ClientCredentials, CredentialKey, CredentialProvider, CredentialStore,
    CredentialStoreExt, EncryptedFileStore, ExposeSecret, MemoryCredentialStore, PkceLogin,
    RefreshToken, SecretString, StoreKey, StoredCredential,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const CLIENT_SECRET: &str = "cl13nt-s3cret-value";

/// Matches a form body whose fields include all of these.
struct Form(Vec<(&'static str, String)>);

impl Form {
    fn with(fields: &[(&'static str, &str)]) -> Self {
        Self(fields.iter().map(|(k, v)| (*k, v.to_string())).collect())
    }
}

impl Match for Form {
    fn matches(&self, request: &Request) -> bool {
        let form = form_of(request);
        self.0
            .iter()
            .all(|(k, v)| form.get(*k).map(String::as_str) == Some(v.as_str()))
    }
}

fn form_of(request: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

fn token(access: &str, expires_in: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }))
}

fn client_credentials(server: &MockServer) -> ClientCredentials {
    ClientCredentials::new(&format!("{}/token", server.uri()), "app", CLIENT_SECRET).unwrap()
}

fn basic_header(user: &str, secret: &str) -> String {
    let raw = format!("{user}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[tokio::test]
async fn client_credentials_request_shape_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(header("authorization", basic_header("app", CLIENT_SECRET)))
        .and(Form::with(&[
            ("grant_type", "client_credentials"),
            ("scope", "read write"),
            ("resource", "https://graph.example.com"),
        ]))
        .respond_with(token("at-1", 3600))
        .expect(1)
        .mount(&server)
        .await;

    let provider = client_credentials(&server)
        .scopes(["read", "write"])
        .extra_param("resource", "https://graph.example.com");
    let header = provider.authorization().await.unwrap();
    assert_eq!(header.expose_secret(), "Bearer at-1");

    let requests = server.received_requests().await.unwrap();
    let form = form_of(&requests[0]);
    assert!(!form.contains_key("client_secret"), "secret sent twice");
}

#[tokio::test]
async fn client_credentials_in_request_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(Form::with(&[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", CLIENT_SECRET),
        ]))
        .respond_with(token("at-1", 3600))
        .expect(1)
        .mount(&server)
        .await;

    let provider = client_credentials(&server).client_auth(ClientAuth::RequestBody);
    provider.authorization().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert!(requests[0].headers.get("authorization").is_none());
    assert!(!form_of(&requests[0]).contains_key("scope"));
}

#[tokio::test]
async fn token_is_cached_across_calls() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(token("at-1", 3600))
        .expect(1)
        .mount(&server)
        .await;

    let provider = client_credentials(&server);
    for _ in 0..20 {
        let header = provider.authorization().await.unwrap();
        assert_eq!(header.expose_secret(), "Bearer at-1");
    }
}

#[tokio::test]
async fn token_is_refreshed_before_it_expires() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(token("at-1", 2))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(token("at-2", 2))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;

    // Skew 60 s on a 2 s token: replaced after half its life (1 s).
    let provider = client_credentials(&server);
    assert_eq!(
        provider.authorization().await.unwrap().expose_secret(),
        "Bearer at-1"
    );
    assert_eq!(
        provider.authorization().await.unwrap().expose_secret(),
        "Bearer at-1"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        provider.authorization().await.unwrap().expose_secret(),
        "Bearer at-2"
    );
}

#[tokio::test]
async fn skew_is_capped_at_half_the_lifetime() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(token("at-1", 3600))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(token("at-2", 3600))
        .with_priority(2)
        .mount(&server)
        .await;

    // A skew as long as the token's life would refetch on every call; it is
    // capped at half the lifetime, so this token is kept for 30 min.
    let provider = client_credentials(&server).refresh_skew(Duration::from_secs(3600));
    provider.authorization().await.unwrap();
    assert_eq!(
        provider.authorization().await.unwrap().expose_secret(),
        "Bearer at-1"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_token_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(token("at-1", 3600).set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&server)
        .await;

    let provider = Arc::new(client_credentials(&server));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let provider = Arc::clone(&provider);
        tasks.push(tokio::spawn(async move { provider.authorization().await }));
    }
    for task in tasks {
        let header = task.await.unwrap().unwrap();
        assert_eq!(header.expose_secret(), "Bearer at-1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_failure() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"error": "invalid_client"}))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let provider = Arc::new(client_credentials(&server));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let provider = Arc::clone(&provider);
        tasks.push(tokio::spawn(async move { provider.authorization().await }));
    }
    for task in tasks {
        let err = task.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert!(err.to_string().contains("invalid_client"), "{err}");
    }
}

#[tokio::test]
async fn refresh_after_401_fetches_once_per_rejected_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(token("at-1", 3600))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(token("at-2", 3600))
        .with_priority(2)
        .mount(&server)
        .await;

    let provider = client_credentials(&server);
    let rejected = provider.authorization().await.unwrap();
    assert!(provider.refresh(&rejected).await.unwrap());
    assert_eq!(
        provider.authorization().await.unwrap().expose_secret(),
        "Bearer at-2"
    );
    // A second request that was also rejected with at-1 finds at-2 ready.
    assert!(provider.refresh(&rejected).await.unwrap());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn refresh_token_rotation_calls_the_hook_and_uses_the_new_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(Form::with(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt-1"),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "at-1", "token_type": "bearer", "expires_in": 3600,
            "refresh_token": "rt-2",
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(Form::with(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt-2"),
        ]))
        .respond_with(token("at-2", 3600))
        .expect(1)
        .mount(&server)
        .await;

    let rotated: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&rotated);
    let provider = RefreshToken::new(&format!("{}/token", server.uri()), "app", "rt-1")
        .unwrap()
        .client_secret(CLIENT_SECRET)
        .on_rotate(Arc::new(move |new: &SecretString| {
            seen.lock().unwrap().push(new.expose_secret().to_string());
        }));

    let first = provider.authorization().await.unwrap();
    assert_eq!(first.expose_secret(), "Bearer at-1");
    assert_eq!(*rotated.lock().unwrap(), vec!["rt-2".to_string()]);

    // The API answered 401: refresh, now with the rotated refresh token.
    assert!(provider.refresh(&first).await.unwrap());
    assert_eq!(
        provider.authorization().await.unwrap().expose_secret(),
        "Bearer at-2"
    );
    assert_eq!(rotated.lock().unwrap().len(), 1, "no rotation the 2nd time");
    assert!(!format!("{provider:?}").contains("rt-2"));
}

#[tokio::test]
async fn refresh_token_provider_starts_with_a_given_access_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(Form::with(&[
            ("refresh_token", "rt-1"),
            ("client_id", "app"),
        ]))
        .respond_with(token("at-new", 3600))
        .expect(1)
        .mount(&server)
        .await;

    let provider = RefreshToken::new(&format!("{}/token", server.uri()), "app", "rt-1")
        .unwrap()
        .with_access_token("at-old", None);
    let old = provider.authorization().await.unwrap();
    assert_eq!(old.expose_secret(), "Bearer at-old");
    assert!(provider.refresh(&old).await.unwrap());
    assert_eq!(
        provider.authorization().await.unwrap().expose_secret(),
        "Bearer at-new"
    );
}

#[tokio::test]
async fn oauth_error_body_is_an_auth_error_without_the_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_client",
            // A careless server echoing the secret back.
            "error_description": format!("Client secret {CLIENT_SECRET} is wrong"),
        })))
        .mount(&server)
        .await;

    let provider = client_credentials(&server);
    let err = provider.authorization().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("invalid_client"), "{shown}");
    assert!(
        shown.contains("Client secret [REDACTED] is wrong"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("POST {}/token", server.uri())),
        "{shown}"
    );
    assert!(!shown.contains(CLIENT_SECRET), "{shown}");
}

#[tokio::test]
async fn token_endpoint_status_and_network_failures_are_typed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>down</html>"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"nope": 1})))
        .with_priority(2)
        .mount(&server)
        .await;
    let provider = client_credentials(&server);
    let err = provider.authorization().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(err.status(), Some(503));
    let err = provider.authorization().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");

    // Nothing listens on this port once the listener is dropped.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let offline = ClientCredentials::new(
        &format!("http://127.0.0.1:{port}/token"),
        "app",
        CLIENT_SECRET,
    )
    .unwrap();
    let err = offline.authorization().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(!format!("{err} {err:?}").contains(CLIENT_SECRET));
}

#[test]
fn plain_http_token_url_is_refused_off_loopback() {
    let err =
        ClientCredentials::new("http://login.example.com/token", "app", CLIENT_SECRET).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("https://"), "{err}");
}

// ---------------------------------------------------------------------------
// PKCE

/// Matches a code exchange whose `code_verifier` hashes to `challenge`.
struct VerifierMatches {
    challenge: String,
}

impl Match for VerifierMatches {
    fn matches(&self, request: &Request) -> bool {
        let form = form_of(request);
        let Some(verifier) = form.get("code_verifier") else {
            return false;
        };
        let computed = oauth2::PkceCodeChallenge::from_code_verifier_sha256(
            &oauth2::PkceCodeVerifier::new(verifier.clone()),
        );
        computed.as_str() == self.challenge
    }
}

fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn pkce_login(server: &MockServer) -> PkceLogin {
    PkceLogin::new(
        &format!("{}/authorize", server.uri()),
        &format!("{}/token", server.uri()),
        "cli-app",
    )
    .unwrap()
    .scopes(["read", "offline_access"])
    .timeout(Duration::from_secs(10))
}

#[tokio::test]
async fn pkce_round_trip_with_a_simulated_browser() {
    let server = MockServer::start().await;
    let login = pkce_login(&server);
    let pending = login.start().await.unwrap();
    let query = query_of(pending.authorize_url());
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["redirect_uri"], pending.redirect_uri());
    let state = query["state"].clone();

    Mock::given(method("POST"))
        .and(path("/token"))
        .and(Form::with(&[
            ("grant_type", "authorization_code"),
            ("code", "the-code"),
            ("client_id", "cli-app"),
            ("redirect_uri", pending.redirect_uri()),
        ]))
        .and(VerifierMatches {
            challenge: query["code_challenge"].clone(),
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "at-pkce", "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": "rt-pkce", "scope": "read offline_access",
        })))
        .expect(1)
        .mount(&server)
        .await;

    let redirect = format!(
        "{}?code=the-code&state={}",
        pending.redirect_uri(),
        url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>()
    );
    let finish = tokio::spawn(pending.finish());
    // The browser also asks for a favicon; that must not end the login.
    let browser = reqwest::Client::new();
    let favicon = format!(
        "{}favicon.ico",
        &redirect[..redirect.find("callback").unwrap()]
    );
    assert_eq!(browser.get(&favicon).send().await.unwrap().status(), 404);
    let page = browser.get(&redirect).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("close this tab"));

    let tokens = finish.await.unwrap().unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "at-pkce");
    assert_eq!(
        tokens.refresh_token.as_ref().unwrap().expose_secret(),
        "rt-pkce"
    );
    assert!(tokens.expires_at.is_some());
    assert_eq!(tokens.scopes, ["read", "offline_access"]);
    let debug = format!("{tokens:?}");
    assert!(
        !debug.contains("at-pkce") && !debug.contains("rt-pkce"),
        "{debug}"
    );
}

#[tokio::test]
async fn pkce_wrong_state_is_an_auth_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(token("never", 3600))
        .expect(0)
        .mount(&server)
        .await;
    let login = pkce_login(&server);
    let pending = login.start().await.unwrap();
    let redirect = format!("{}?code=the-code&state=forged", pending.redirect_uri());
    let finish = tokio::spawn(pending.finish());
    let page = reqwest::get(&redirect).await.unwrap();
    assert_eq!(page.status(), 400);

    let err = finish.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("wrong `state`"), "{err}");
}

#[tokio::test]
async fn pkce_error_redirect_is_an_auth_error() {
    let server = MockServer::start().await;
    let login = pkce_login(&server);
    let pending = login.start().await.unwrap();
    let state = query_of(pending.authorize_url())["state"].clone();
    let redirect = format!(
        "{}?error=access_denied&error_description=The+user+said+no&state={}",
        pending.redirect_uri(),
        url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>()
    );
    let finish = tokio::spawn(pending.finish());
    assert_eq!(reqwest::get(&redirect).await.unwrap().status(), 400);

    let err = finish.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(
        err.to_string().contains("access_denied (The user said no)"),
        "{err}"
    );
}

#[tokio::test]
async fn pkce_gives_up_after_the_timeout() {
    let server = MockServer::start().await;
    let login = pkce_login(&server).timeout(Duration::from_millis(200));
    let err = login.run(|_| {}).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("run the login again"), "{err}");
}

// ---------------------------------------------------------------------------
// Static, environment and file providers: nothing shows a secret.

#[tokio::test]
async fn no_provider_or_error_shows_a_secret() {
    let secret = "sup3r-s3cret-t0ken";
    let env = Env::from_pairs([("EMAIL", "me@example.com"), ("TOKEN", secret)]);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("c.json");
    std::fs::write(
        &json,
        format!(r#"{{"type":"client_credentials","token_url":"https://login.example.com/t","client_id":"app","client_secret":"{secret}","scopes":["a"]}}"#),
    )
    .unwrap();

    let providers: Vec<Arc<dyn CredentialProvider>> = vec![
        Arc::new(env.basic("EMAIL", "TOKEN").unwrap()),
        Arc::new(env.bearer("TOKEN").unwrap()),
        env.basic_or_bearer("NO_EMAIL", "NO_TOKEN", "TOKEN")
            .unwrap(),
        file::load(&json).unwrap(),
        Arc::new(ClientCredentials::new("https://login.example.com/t", "app", secret).unwrap()),
        Arc::new(
            RefreshToken::new("https://login.example.com/t", "app", secret)
                .unwrap()
                .client_secret(secret)
                .with_access_token(secret, None),
        ),
        StoredCredential::basic("me", secret).to_provider().unwrap(),
    ];
    for provider in &providers {
        let debug = format!("{provider:?} {provider:#?}");
        assert!(!debug.contains(secret), "{debug}");
    }
    let login = PkceLogin::new(
        "https://login.example.com/a",
        "https://login.example.com/t",
        "app",
    )
    .unwrap()
    .client_secret(secret);
    assert!(!format!("{login:?}").contains(secret));

    let errors = [
        file::parse(
            &format!(r#"{{"type":"basic","user":"u","password":"{secret}"}}"#),
            FileFormat::Json,
            "c.json",
        )
        .unwrap_err(),
        file::parse(
            &format!("type = \"bearer\"\ntoken = {secret}\n"),
            FileFormat::Toml,
            "c.toml",
        )
        .unwrap_err(),
        ClientCredentials::new(&format!("https://u:{secret}@x.example.com/"), "a", secret)
            .unwrap_err(),
        ClientCredentials::new(&format!("not-a-url {secret}"), "a", secret).unwrap_err(),
    ];
    for err in errors {
        assert_eq!(err.kind(), ErrorKind::Config);
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn missing_environment_variable_is_named() {
    let env = Env::from_pairs([("JIRA_EMAIL", "me@example.com")]);
    let err = env.basic("JIRA_EMAIL", "JIRA_API_TOKEN").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("JIRA_API_TOKEN"), "{err}");
    let err = Env::from_pairs([("JIRA_PAT", "  ")])
        .bearer("JIRA_PAT")
        .unwrap_err();
    assert!(err.to_string().contains("JIRA_PAT is not set"), "{err}");
}

#[tokio::test]
async fn credentials_files_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("jira.toml");
    std::fs::write(&toml, "type = \"basic\"\nuser = \"me\"\nsecret = \"tok\"\n").unwrap();
    let header = file::load(&toml).unwrap().authorization().await.unwrap();
    assert_eq!(header.expose_secret(), basic_header("me", "tok"));

    let json = dir.path().join("pat.json");
    std::fs::write(&json, r#"{"type":"bearer","token":"pat"}"#).unwrap();
    let header = file::load(&json).unwrap().authorization().await.unwrap();
    assert_eq!(header.expose_secret(), "Bearer pat");

    let odd = dir.path().join("creds.yaml");
    std::fs::write(&odd, "type: bearer").unwrap();
    let err = file::load(&odd).unwrap_err();
    assert!(err.to_string().contains("creds.yaml"), "{err}");

    let unknown = dir.path().join("x.json");
    std::fs::write(&unknown, r#"{"type":"kerberos"}"#).unwrap();
    let err = file::load(&unknown).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("x.json") && err.to_string().contains("`type`"));

    let missing = dir.path().join("missing.json");
    assert_eq!(
        file::load(&missing).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

// ---------------------------------------------------------------------------
// Stores

async fn round_trip(store: &dyn CredentialStore) {
    let acme = store.tenant("acme").unwrap();
    acme.put("jira-main", "jira", StoredCredential::basic("me", "tok-1"))
        .await
        .unwrap();
    acme.put("wiki", "confluence", StoredCredential::bearer("tok-2"))
        .await
        .unwrap();
    let got = acme.get("jira-main", "jira").await.unwrap().unwrap();
    assert_eq!(got.get("secret").unwrap().expose_secret(), "tok-1");
    assert!(acme.get("jira-main", "confluence").await.unwrap().is_none());
    let keys = acme.list().await.unwrap();
    assert_eq!(
        keys,
        [
            CredentialKey::new("acme", "jira-main", "jira").unwrap(),
            CredentialKey::new("acme", "wiki", "confluence").unwrap(),
        ]
    );
    assert!(acme.delete("wiki", "confluence").await.unwrap());
    assert!(!acme.delete("wiki", "confluence").await.unwrap());
    assert_eq!(acme.list().await.unwrap().len(), 1);
}

async fn tenant_isolation(store: &dyn CredentialStore) {
    store
        .tenant("tenant-a")
        .unwrap()
        .put("conn", "jira", StoredCredential::bearer("a-secret"))
        .await
        .unwrap();
    let b = store.tenant("tenant-b").unwrap();
    assert!(b.get("conn", "jira").await.unwrap().is_none());
    assert!(b.list().await.unwrap().is_empty());
    assert!(!b.delete("conn", "jira").await.unwrap());
    let a = store.tenant("tenant-a").unwrap();
    assert!(a.get("conn", "jira").await.unwrap().is_some());
}

#[tokio::test]
async fn memory_store_round_trip_and_isolation() {
    let store = MemoryCredentialStore::default();
    round_trip(&store).await;
    tenant_isolation(&store).await;
    assert!(store.tenant("").is_err());
}

#[tokio::test]
async fn encrypted_file_store_round_trip_and_isolation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    let key = StoreKey::generate();
    let b64 = key.to_base64();
    let store: Arc<dyn CredentialStore> =
        Arc::new(EncryptedFileStore::open(&path, key).await.unwrap());
    round_trip(store.as_ref()).await;
    tenant_isolation(store.as_ref()).await;

    // Everything survives a reopen.
    let reopened =
        EncryptedFileStore::open(&path, StoreKey::from_base64(b64.expose_secret()).unwrap())
            .await
            .unwrap();
    let got = reopened
        .tenant("acme")
        .unwrap()
        .get("jira-main", "jira")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.get("user").unwrap().expose_secret(), "me");
    assert!(!format!("{got:?} {reopened:?}").contains("tok-1"));
}

#[tokio::test]
async fn encrypted_file_holds_no_plaintext_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    let store = EncryptedFileStore::open(&path, StoreKey::generate())
        .await
        .unwrap();
    let secret = "plaintext-canary-9f8e7d";
    store
        .tenant("acme")
        .unwrap()
        .put(
            "conn",
            "jira",
            StoredCredential::basic("user-canary", secret),
        )
        .await
        .unwrap();
    let raw = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains(secret));
    assert!(!text.contains("user-canary"));
    assert!(!text.contains(&base64::engine::general_purpose::STANDARD.encode(secret)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "store readable by others: {mode:o}");
    }
}

#[tokio::test]
async fn encrypted_file_store_wrong_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    let store = EncryptedFileStore::open(&path, StoreKey::generate())
        .await
        .unwrap();
    store
        .tenant("acme")
        .unwrap()
        .put("conn", "jira", StoredCredential::bearer("tok"))
        .await
        .unwrap();
    let err = EncryptedFileStore::open(&path, StoreKey::generate())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(
        err.to_string()
            .contains("credential store key does not match the one the file was written with"),
        "{err}"
    );
}

#[tokio::test]
async fn encrypted_file_store_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    let old = StoreKey::generate();
    let old_b64 = old.to_base64();
    let new = StoreKey::generate();
    let new_b64 = new.to_base64();
    let store = EncryptedFileStore::open(&path, old).await.unwrap();
    for tenant in ["acme", "globex"] {
        store
            .tenant(tenant)
            .unwrap()
            .put(
                "conn",
                "jira",
                StoredCredential::bearer(format!("{tenant}-tok")),
            )
            .await
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    store.rotate_key(new).await.unwrap();
    assert_ne!(before, std::fs::read(&path).unwrap());

    // The same store keeps working, with the new key.
    let got = store
        .tenant("globex")
        .unwrap()
        .get("conn", "jira")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.get("token").unwrap().expose_secret(), "globex-tok");

    let old_key = StoreKey::from_base64(old_b64.expose_secret()).unwrap();
    let err = EncryptedFileStore::open(&path, old_key).await.unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");

    let new_key = StoreKey::from_base64(new_b64.expose_secret()).unwrap();
    let reopened = EncryptedFileStore::open(&path, new_key).await.unwrap();
    for tenant in ["acme", "globex"] {
        let got = reopened
            .tenant(tenant)
            .unwrap()
            .get("conn", "jira")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            got.get("token").unwrap().expose_secret(),
            format!("{tenant}-tok")
        );
    }
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["credentials.json"]);
}

#[tokio::test]
async fn store_key_from_env_and_file() {
    let key = StoreKey::generate();
    let b64 = key.to_base64();
    let env = Env::from_pairs([("STORE_KEY", b64.expose_secret())]);
    assert!(StoreKey::from_env_with(&env, "STORE_KEY").is_ok());
    let err = StoreKey::from_env_with(
        &Env::from_pairs([("STORE_KEY", "dG9vIHNob3J0")]),
        "STORE_KEY",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("STORE_KEY") && err.to_string().contains("not 32"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.key");
    std::fs::write(&path, format!("{}\n", b64.expose_secret())).unwrap();
    let from_file = StoreKey::from_file(&path).unwrap();
    assert_eq!(from_file.to_base64().expose_secret(), b64.expose_secret());
    assert!(!format!("{from_file:?}").contains(b64.expose_secret()));
}

#[tokio::test]
async fn stored_credential_becomes_a_provider() {
    let store = MemoryCredentialStore::default();
    let tenant = store.tenant("acme").unwrap();
    tenant
        .put("jira-main", "jira", StoredCredential::basic("me", "tok"))
        .await
        .unwrap();
    let provider = tenant
        .get("jira-main", "jira")
        .await
        .unwrap()
        .unwrap()
        .to_provider()
        .unwrap();
    assert_eq!(
        provider.authorization().await.unwrap().expose_secret(),
        basic_header("me", "tok")
    );
}

#[tokio::test]
async fn password_grant_then_refresh_token_then_password_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(Form::with(&[
            ("grant_type", "password"),
            ("username", "integration"),
            ("password", "us3r-pa55"),
            ("client_id", "app"),
            ("client_secret", CLIENT_SECRET),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "at-1", "token_type": "Bearer", "expires_in": 1800,
            "refresh_token": "rt-1", "scope": "useraccount",
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(Form::with(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt-1"),
        ]))
        .respond_with(token("at-2", 1800))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    // The second refresh finds the refresh token revoked.
    Mock::given(method("POST"))
        .and(Form::with(&[("grant_type", "refresh_token")]))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(serde_json::json!({"error": "invalid_grant"})),
        )
        .mount(&server)
        .await;
    let provider = connector_core::credentials::PasswordGrant::new(
        &format!("{}/oauth_token.do", server.uri()),
        "app",
        CLIENT_SECRET,
        "integration",
        "us3r-pa55",
    )
    .unwrap()
    .client_auth(ClientAuth::RequestBody);
    let first = provider.authorization().await.unwrap();
    assert_eq!(first.expose_secret(), "Bearer at-1");
    assert!(provider.refresh(&first).await.unwrap());
    let second = provider.authorization().await.unwrap();
    assert_eq!(second.expose_secret(), "Bearer at-2");
    assert!(provider.refresh(&second).await.unwrap());
    assert_eq!(
        provider.authorization().await.unwrap().expose_secret(),
        "Bearer at-1"
    );
    let shown = format!("{provider:?}");
    assert!(
        !shown.contains("us3r-pa55") && !shown.contains(CLIENT_SECRET),
        "{shown}"
    );
}
