//! Authorization code + PKCE login for a person at a terminal (RFC 6749
//! §4.1, RFC 7636, RFC 8252 loopback redirect).
//!
//! [`PkceLogin::start`] binds a listener on `127.0.0.1` and builds the
//! authorize URL (with a random `state` against CSRF and an S256 code
//! challenge); the host shows or opens that URL; [`PendingLogin::finish`]
//! waits for the browser's redirect, checks `state`, tells the browser it
//! may close the tab and trades the code and verifier for tokens.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::Url;

use super::oauth::{Endpoint, Transport, parse_endpoint_url};
use super::{ClientAuth, OAuthTokens};
use crate::url::without_query;
use crate::{Error, ErrorKind, Result};

type LoginClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// How long [`PendingLogin::finish`] waits for the browser, unless configured.
///
/// ```
/// assert_eq!(connector_core::credentials::DEFAULT_LOGIN_TIMEOUT.as_secs(), 300);
/// ```
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// Configuration of an authorization-code + PKCE login.
///
/// ```no_run
/// use connector_core::credentials::{PkceLogin, RefreshToken};
/// # async fn demo() -> connector_core::Result<()> {
/// let login = PkceLogin::new(
///     "https://auth.atlassian.com/authorize",
///     "https://auth.atlassian.com/oauth/token",
///     "client-id",
/// )?
/// .client_secret("client-secret")
/// .scopes(["read:jira-work", "offline_access"])
/// .auth_param("audience", "api.atlassian.com")
/// .port(8765); // Atlassian wants the exact, registered redirect URI
/// let tokens = login
///     .run(|url| eprintln!("Open this URL in your browser to sign in:\n{url}"))
///     .await?;
/// if let Some(refresh) = tokens.refresh_token.clone() {
///     let provider = RefreshToken::new("https://auth.atlassian.com/oauth/token", "client-id", refresh)?
///         .client_secret("client-secret")
///         .with_access_token(tokens.access_token.clone(), tokens.expires_at);
/// #   let _ = provider;
/// }
/// # Ok(()) }
/// ```
pub struct PkceLogin {
    client: LoginClient,
    authorize_display: String,
    endpoint: Endpoint,
    client_id: String,
    client_secret: Option<SecretString>,
    scopes: Vec<String>,
    auth_params: Vec<(String, String)>,
    port: u16,
    path: String,
    timeout: Duration,
}

impl PkceLogin {
    /// A login against `authorize_url` and `token_url` for the public client `client_id`.
    pub fn new(authorize_url: &str, token_url: &str, client_id: impl Into<String>) -> Result<Self> {
        let authorize = parse_endpoint_url(authorize_url, "authorize URL")?;
        let authorize_display = without_query(&authorize);
        let endpoint = Endpoint::new(token_url, "token URL")?;
        let client_id = client_id.into();
        if client_id.trim().is_empty() {
            return Err(Error::config(
                "client id is empty; set it to the OAuth application's client id",
            ));
        }
        let client = BasicClient::new(ClientId::new(client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(authorize))
            .set_token_uri(endpoint.token_url.clone());
        Ok(Self {
            client,
            authorize_display,
            endpoint,
            client_id,
            client_secret: None,
            scopes: Vec::new(),
            auth_params: Vec::new(),
            port: 0,
            path: "/callback".to_string(),
            timeout: DEFAULT_LOGIN_TIMEOUT,
        })
    }

    /// Authenticate as a confidential client with this secret when exchanging the code.
    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        let secret: SecretString = secret.into();
        self.client = self
            .client
            .set_client_secret(ClientSecret::new(secret.expose_secret().to_string()));
        self.client_secret = Some(secret);
        self
    }

    /// How the client secret is sent (default: Basic header).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client = self.client.set_auth_type(auth.into());
        self
    }

    /// The scopes to ask for (add `offline_access` or the provider's
    /// equivalent to get a refresh token).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// An extra query parameter of the authorize URL (`audience`, `prompt`, …).
    pub fn auth_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.auth_params.push((name.into(), value.into()));
        self
    }

    /// Listen on this loopback port (default 0: any free port). Providers
    /// that match the registered redirect URI exactly need a fixed one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The path of the redirect URI (default `/callback`).
    pub fn redirect_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        self
    }

    /// How long to wait for the browser's redirect (default 5 minutes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Use this HTTP client for the token endpoint. It must not follow redirects.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.endpoint.http = client;
        self
    }

    /// Bind the loopback listener and build the authorize URL.
    pub async fn start(&self) -> Result<PendingLogin> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port))
            .await
            .map_err(|e| {
                Error::config(format!(
                    "cannot listen on 127.0.0.1:{} for the login redirect; choose another port",
                    self.port
                ))
                .with_source(e)
            })?;
        let local: SocketAddr = listener
            .local_addr()
            .map_err(|e| Error::io("reading the login listener's address", e))?;
        let redirect = format!("http://127.0.0.1:{}{}", local.port(), self.path);
        let redirect_url = RedirectUrl::new(redirect.clone())
            .map_err(|e| Error::config(format!("redirect path is not valid in a URL ({e})")))?;
        let client = self.client.clone().set_redirect_uri(redirect_url);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge);
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        for (name, value) in &self.auth_params {
            request = request.add_extra_param(name.as_str(), value.as_str());
        }
        let (authorize_url, state) = request.url();
        Ok(PendingLogin {
            client,
            endpoint: Endpoint {
                token_url: self.endpoint.token_url.clone(),
                display: self.endpoint.display.clone(),
                http: self.endpoint.http.clone(),
            },
            client_secret: self.client_secret.clone(),
            listener,
            authorize_url,
            redirect,
            path: self.path.clone(),
            state: SecretString::from(state.secret().clone()),
            verifier,
            timeout: self.timeout,
        })
    }

    /// [`start`](Self::start), hand the authorize URL to `show` (print it,
    /// open a browser), then [`finish`](PendingLogin::finish).
    pub async fn run(&self, show: impl FnOnce(&str)) -> Result<OAuthTokens> {
        let pending = self.start().await?;
        show(pending.authorize_url());
        pending.finish().await
    }
}

impl fmt::Debug for PkceLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PkceLogin")
            .field("authorize_url", &self.authorize_display)
            .field("token_url", &self.endpoint.display)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self
                    .client_secret
                    .as_ref()
                    .map(|_| format_args!("[REDACTED]")),
            )
            .field("scopes", &self.scopes)
            .field("port", &self.port)
            .finish()
    }
}

/// A login waiting for the browser: show [`authorize_url`](Self::authorize_url)
/// to the person, then [`finish`](Self::finish).
///
/// ```
/// use connector_core::credentials::PkceLogin;
/// # async fn demo() -> connector_core::Result<()> {
/// let login = PkceLogin::new("https://auth.example.com/authorize", "https://auth.example.com/token", "cli")?;
/// let pending = login.start().await?;
/// assert!(pending.redirect_uri().starts_with("http://127.0.0.1:"));
/// assert!(pending.authorize_url().contains("code_challenge_method=S256"));
/// eprintln!("Open {} to sign in", pending.authorize_url());
/// // let tokens = pending.finish().await?;
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
pub struct PendingLogin {
    client: LoginClient,
    endpoint: Endpoint,
    client_secret: Option<SecretString>,
    listener: TcpListener,
    authorize_url: Url,
    redirect: String,
    path: String,
    state: SecretString,
    verifier: PkceCodeVerifier,
    timeout: Duration,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("redirect_uri", &self.redirect)
            .field("token_url", &self.endpoint.display)
            .field("state", &format_args!("[REDACTED]"))
            .field("verifier", &format_args!("[REDACTED]"))
            .finish()
    }
}

impl PendingLogin {
    /// The URL the person opens in a browser.
    pub fn authorize_url(&self) -> &str {
        self.authorize_url.as_str()
    }

    /// The loopback redirect URI, `http://127.0.0.1:PORT/callback`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect
    }

    /// Wait for the redirect, check it, and exchange the code for tokens.
    pub async fn finish(self) -> Result<OAuthTokens> {
        let code = tokio::time::timeout(self.timeout, self.wait_for_code())
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Auth,
                    format!(
                        "no sign-in redirect reached {} within {} s; run the login again",
                        self.redirect,
                        self.timeout.as_secs()
                    ),
                )
            })??;
        let transport = Transport(&self.endpoint.http);
        let mut secrets: Vec<&SecretString> = vec![&code];
        if let Some(secret) = &self.client_secret {
            secrets.push(secret);
        }
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.expose_secret().to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(self.verifier.secret().clone()))
            .request_async(&transport)
            .await
            .map_err(|e| {
                self.endpoint
                    .error(e, &secrets)
                    .context("exchanging the authorization code")
            })?;
        Ok(OAuthTokens {
            access_token: SecretString::from(response.access_token().secret().clone()),
            refresh_token: response
                .refresh_token()
                .map(|t| SecretString::from(t.secret().clone())),
            expires_at: response.expires_in().map(|d| SystemTime::now() + d),
            scopes: response
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
        })
    }

    async fn wait_for_code(&self) -> Result<SecretString> {
        let (tx, mut rx) = mpsc::channel::<Result<SecretString>>(1);
        // Dropping the set when we return aborts connections still open
        // (browsers open speculative ones that never send a request).
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted
                        .map_err(|e| Error::io("accepting the login redirect", e))?;
                    let expected = Expected {
                        path: self.path.clone(),
                        state: self.state.clone(),
                    };
                    let tx = tx.clone();
                    connections.spawn(async move {
                        if let Some(outcome) = handle(stream, &expected).await {
                            // The receiver is gone only once a result was taken.
                            let _ = tx.send(outcome).await;
                        }
                    });
                }
                Some(outcome) = rx.recv() => return outcome,
            }
        }
    }
}

struct Expected {
    path: String,
    state: SecretString,
}

/// Serve one browser connection. `None` when it was not the redirect
/// (a favicon request, a speculative connection that sent nothing).
async fn handle(mut stream: TcpStream, expected: &Expected) -> Option<Result<SecretString>> {
    let head = match tokio::time::timeout(Duration::from_secs(10), read_head(&mut stream)).await {
        Ok(Some(head)) => head,
        _ => return None,
    };
    let mut parts = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (parts.next()?, parts.next()?);
    let url = Url::parse("http://127.0.0.1")
        .and_then(|base| base.join(target))
        .ok()?;
    if method != "GET" || url.path() != expected.path {
        respond(&mut stream, "404 Not Found", "Not found.").await;
        return None;
    }
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = None;
    for (name, value) in url.query_pairs() {
        match name.as_ref() {
            "code" => code = Some(SecretString::from(value.into_owned())),
            "state" => state = Some(value.into_owned()),
            "error" => error = Some(printable(&value)),
            "error_description" => description = Some(printable(&value)),
            _ => {}
        }
    }
    let outcome = if state.as_deref() != Some(expected.state.expose_secret()) {
        Err(Error::new(
            ErrorKind::Auth,
            "the sign-in redirect carried a wrong `state` (a stale tab, or a forged request); run the login again",
        ))
    } else if let Some(error) = error {
        let mut message = format!("the authorization server refused the sign-in: {error}");
        if let Some(description) = description {
            message.push_str(&format!(" ({description})"));
        }
        Err(Error::new(ErrorKind::Auth, message))
    } else if let Some(code) = code {
        Ok(code)
    } else {
        Err(Error::new(
            ErrorKind::Auth,
            "the sign-in redirect carried neither `code` nor `error`; run the login again",
        ))
    };
    match &outcome {
        Ok(_) => {
            respond(
                &mut stream,
                "200 OK",
                "Signed in. You can close this tab and return to the terminal.",
            )
            .await
        }
        Err(_) => {
            respond(
                &mut stream,
                "400 Bad Request",
                "Sign-in failed. Close this tab; the terminal says why.",
            )
            .await
        }
    }
    Some(outcome)
}

/// The request line and headers, up to 16 KiB; `None` if the peer sent none.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while buf.len() < 16 * 1024 {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    if buf.is_empty() {
        return None;
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

async fn respond(stream: &mut TcpStream, status: &str, message: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><p>{message}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may already be gone; the outcome does not depend on it.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A server-supplied string made safe to show: printable, bounded.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn authorize_url_has_state_and_s256_challenge() {
        let login = PkceLogin::new(
            "https://auth.example.com/authorize?tenant=x",
            "https://auth.example.com/token",
            "cli",
        )
        .unwrap()
        .scopes(["read", "offline_access"]);
        let pending = login.start().await.unwrap();
        let url = Url::parse(pending.authorize_url()).unwrap();
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "cli");
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["tenant"], "x");
        assert_eq!(query["scope"], "read offline_access");
        assert_eq!(query["redirect_uri"], pending.redirect_uri());
        assert_eq!(query["state"], pending.state.expose_secret());
        assert!(pending.redirect_uri().starts_with("http://127.0.0.1:"));
        assert!(!format!("{pending:?}").contains(pending.state.expose_secret()));
    }
}
