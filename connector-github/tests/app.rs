//! GitHub App authentication against the stand-in: installation tokens
//! minted with an RS256 JWT (checked against the key's public half),
//! renewed before they expire, and renewed when GitHub refuses one
//! mid-sync. The key is a throwaway generated for these tests.

#![allow(clippy::unwrap_used)] // tests fail loudly on fixture mistakes

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use chrono::Utc;
use connector_core::{Connector, LoadConnector};
use connector_github::{GitHubAppConfig, GitHubConfig, GitHubConnector};
use connector_testing::drain;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use serde_json::{Value, json};
use support::standin::{INSTALLATION_TOKEN, TOKEN, org};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = include_str!("fixtures/app-test-key.pem");

fn public_key() -> Vec<u8> {
    let body: String = KEY.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let pair = RsaKeyPair::from_der(&der).unwrap();
    use ring::signature::KeyPair as _;
    pair.public_key().as_ref().to_vec()
}

/// `POST /app/installations/42/access_tokens`: checks the JWT, then mints
/// the tokens of `tokens` in turn (the last one again after them), each
/// living `life` seconds.
struct Mint {
    tokens: Vec<&'static str>,
    life: i64,
    calls: Arc<AtomicUsize>,
    public: Vec<u8>,
}

impl Respond for Mint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let auth = req.headers.get("authorization").unwrap().to_str().unwrap();
        let jwt = auth.strip_prefix("Bearer ").unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "123456");
        let now = Utc::now().timestamp();
        let (iat, exp) = (
            claims["iat"].as_i64().unwrap(),
            claims["exp"].as_i64().unwrap(),
        );
        assert!(iat <= now && exp > now && exp - iat <= 600, "{claims}");
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.public)
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &b64.decode(parts[2]).unwrap(),
            )
            .expect("the JWT is signed with the app's key");
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let token = self.tokens[n.min(self.tokens.len() - 1)];
        let expires = (Utc::now() + chrono::Duration::seconds(self.life))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        ResponseTemplate::new(201).set_body_json(json!({
            "token": token,
            "expires_at": expires,
            "permissions": {"issues": "read", "contents": "read", "metadata": "read", "pull_requests": "read"},
            "repository_selection": "all"
        }))
    }
}

async fn app_connector(
    server: &MockServer,
    tokens: Vec<&'static str>,
    life: i64,
) -> (GitHubConnector, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/app/installations/42/access_tokens"))
        .respond_with(Mint {
            tokens,
            life,
            calls: calls.clone(),
            public: public_key(),
        })
        .with_priority(1)
        .mount(server)
        .await;
    let config = GitHubConfig::new()
        .base_url(server.uri())
        .owners(["acme"])
        .app(GitHubAppConfig::new("123456", 42, KEY))
        .options(options());
    (GitHubConnector::new(config).unwrap(), calls)
}

#[tokio::test]
async fn one_installation_token_serves_a_whole_sync() {
    let (server, _) = serve(org(2, 12)).await;
    let (github, mints) = app_connector(&server, vec![TOKEN], 3600).await;
    let out = drain(github.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 24);
    assert_eq!(
        mints.load(Ordering::SeqCst),
        1,
        "concurrent requests share one mint"
    );
}

#[tokio::test]
async fn a_token_refused_mid_sync_is_renewed_once() {
    let (server, _) = serve(org(1, 6)).await;
    let (github, mints) = app_connector(
        &server,
        vec!["ghs_revoked0000000000000000000000000000", TOKEN],
        3600,
    )
    .await;
    let out = drain(github.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 6);
    assert_eq!(mints.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires() {
    let (server, _) = serve(org(1, 3)).await;
    // A two-second token is renewed after one.
    let (github, mints) = app_connector(&server, vec![TOKEN], 2).await;
    let out = drain(github.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(mints.load(Ordering::SeqCst), 1);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let out = drain(github.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(mints.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_wrong_key_is_refused_naming_the_installation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/app/installations/42/access_tokens"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "A JSON web token could not be decoded",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401"
        })))
        .mount(&server)
        .await;
    let config = GitHubConfig::new()
        .base_url(server.uri())
        .owners(["acme"])
        .app(GitHubAppConfig::new("123456", 42, KEY))
        .options(options());
    let github = GitHubConnector::new(config).unwrap();
    let out = drain(github.load()).await;
    let e = out.error.unwrap();
    assert!(e.to_string().contains("installation 42"), "{e}");
    assert!(!e.to_string().contains("BEGIN"), "{e}");
}

/// An App installed on a user's account: the user is no organization and
/// an installation token has no user, so the user's repositories come
/// from the installation's own listing — private ones included, other
/// owners' left out. (`/users/{user}/repos` would show the public ones
/// only.)
#[tokio::test]
async fn an_app_installed_on_a_user_reads_its_private_repositories() {
    let mut db = org(3, 2);
    db.repos[0].owner = "octocat".into();
    db.repos[1].owner = "octocat".into();
    db.repos[1].private = true;
    let (server, _) = serve(db).await;
    Mock::given(method("POST"))
        .and(path("/app/installations/42/access_tokens"))
        .respond_with(Mint {
            tokens: vec![INSTALLATION_TOKEN],
            life: 3600,
            calls: Arc::new(AtomicUsize::new(0)),
            public: public_key(),
        })
        .with_priority(1)
        .mount(&server)
        .await;
    let github = |owner: &str| {
        GitHubConnector::new(
            GitHubConfig::new()
                .base_url(server.uri())
                .owners([owner])
                .app(GitHubAppConfig::new("123456", 42, KEY))
                .options(options()),
        )
        .unwrap()
    };
    let octocat = github("octocat");
    let offered = octocat.validate().await.unwrap();
    let keys: Vec<&str> = offered
        .get("repositories")
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(keys, ["octocat/repo-0", "octocat/repo-1"]);
    let out = drain(octocat.load()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.documents.len(), 4, "both repositories' issues");

    // An installation token given as `token` is read the same way.
    let as_token = GitHubConnector::new(
        GitHubConfig::new()
            .base_url(server.uri())
            .owners(["octocat"])
            .token(INSTALLATION_TOKEN)
            .options(options()),
    )
    .unwrap();
    assert_eq!(
        as_token.validate().await.unwrap().get("repositories").len(),
        2
    );

    // An account the App is not installed on: one line that says so.
    let e = github("nobody").validate().await.unwrap_err().to_string();
    assert!(e.contains("install the App on that account"), "{e}");
    assert!(!e.contains(INSTALLATION_TOKEN), "{e}");
}
