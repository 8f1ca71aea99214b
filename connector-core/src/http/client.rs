use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

use super::budget::{budget, forbidden_limit, server_wait};
use super::counters::Counters;
use super::error::from_status;
use super::retry::{GiveUp, retryable_status};
use super::scrub::Scrubber;
use crate::connector::SourceMetrics;
use crate::credentials::{CredentialProvider, SharedCredentials};
use crate::options::{RetryPolicy, SourceOptions};
use crate::rate::{RateControl, RateLimit};
use crate::url::{check_base_url, is_loopback, origin, same_origin, without_query};
use crate::{Error, ErrorKind, Result};

/// Most of an error body read to explain a failure.
const ERROR_BODY_LIMIT: usize = 16 * 1024;

/// An HTTP client for one source: base URL, credentials, rate limit, retry.
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    source: String,
    credentials: Option<SharedCredentials>,
    rate: RateControl,
    retry: RetryPolicy,
    counters: Arc<Counters>,
    max_body: u64,
    /// Sent with every request (`User-Agent` and the builder's headers).
    headers: HeaderMap,
    /// Whether the server ever answered: until it has, a refused connection
    /// is most likely a wrong URL or a server that is down, and waiting
    /// minutes for it helps no one.
    reached: AtomicBool,
}

/// Attempts at a server that has never answered.
const UNREACHED_ATTEMPTS: u32 = 3;

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("source", &self.inner.source)
            .field("base", &without_query(&self.inner.base))
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

/// Configures an [`HttpClient`]; see [`HttpClient::builder`].
#[must_use]
pub struct HttpClientBuilder {
    source: String,
    base: String,
    credentials: Option<SharedCredentials>,
    rate: Option<RateLimit>,
    rate_control: Option<RateControl>,
    retry: RetryPolicy,
    connect_timeout: Duration,
    timeout: Duration,
    max_body: u64,
    user_agent: Option<String>,
    headers: HeaderMap,
    tls_roots: Vec<std::path::PathBuf>,
    proxy: Option<String>,
    client: Option<reqwest::Client>,
}

impl HttpClientBuilder {
    /// Apply the options a source's configuration carries: the rate (a
    /// ceiling when set, else adapting from `default_rate`), retry,
    /// timeouts, TLS roots, proxy, or the host's own client.
    pub fn options(mut self, options: &SourceOptions, default_rate: f64) -> Self {
        self.rate = Some(match options.rate {
            Some(rate) => RateLimit::per_second(rate),
            None => RateLimit::starting_at(default_rate),
        });
        self.retry = options.retry.clone();
        if let Some(t) = options.connect_timeout {
            self.connect_timeout = t;
        }
        if let Some(t) = options.request_timeout {
            self.timeout = t;
        }
        self.tls_roots.clone_from(&options.tls_roots);
        self.proxy.clone_from(&options.proxy);
        self.client.clone_from(&options.client);
        self
    }

    /// Authenticate requests to the base URL's origin with `credentials`.
    pub fn credentials(mut self, credentials: impl CredentialProvider + 'static) -> Self {
        self.credentials = Some(Arc::new(credentials));
        self
    }

    /// Authenticate with an already shared provider.
    pub fn shared_credentials(mut self, credentials: SharedCredentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Pace requests from this budget: a ceiling
    /// ([`RateLimit::per_second`]) or a starting point the client adapts
    /// from ([`RateLimit::starting_at`]). Without one, requests are unpaced
    /// until the server throttles.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate = Some(limit);
        self
    }

    /// Replace the rate limit, `None` for none.
    pub fn rate_limit_opt(mut self, limit: Option<RateLimit>) -> Self {
        self.rate = limit;
        self
    }

    /// Share `control` with other clients of the same source (one budget
    /// for several base URLs); replaces [`rate_limit`](Self::rate_limit).
    pub fn rate_control(mut self, control: RateControl) -> Self {
        self.rate_control = Some(control);
        self
    }

    /// How failed requests are retried.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for a whole request, body included (default 120 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest body [`Response::bytes`] and [`Response::json`] read
    /// (default 64 MiB); larger bodies are an error, not a truncation.
    pub fn max_body_bytes(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }

    /// Replace the `User-Agent` (default `connector-sdk/<version> (<source>)`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// A header sent with every request (not secrets: use credentials).
    pub fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.insert(name, HeaderValue::from_static(value));
        self
    }

    /// Build the client; fails on a bad base URL.
    pub fn build(self) -> Result<HttpClient> {
        let base = check_base_url(&format!("{} base URL", self.source), &self.base)?;
        let agent = self.user_agent.unwrap_or_else(|| {
            format!(
                "connector-sdk/{} ({})",
                env!("CARGO_PKG_VERSION"),
                self.source
            )
        });
        let http = match self.client {
            // The host's own client: its TLS, proxy and timeouts. Our
            // headers then go on each request.
            Some(client) => client,
            None => {
                let mut builder = reqwest::Client::builder()
                    .user_agent(agent.clone())
                    .connect_timeout(self.connect_timeout)
                    .timeout(self.timeout)
                    // Redirects are followed by the exchange itself, which decides
                    // per hop whether credentials go along and says where a hop failed.
                    .redirect(reqwest::redirect::Policy::none());
                #[cfg(feature = "native-tls")]
                {
                    builder = builder.use_native_tls();
                }
                for path in &self.tls_roots {
                    for cert in load_roots(path)? {
                        builder = builder.add_root_certificate(cert);
                    }
                }
                if let Some(proxy) = &self.proxy {
                    let proxy = reqwest::Proxy::all(proxy).map_err(|e| {
                        Error::config("proxy is not a usable proxy URL")
                            .with_source(e.without_url())
                    })?;
                    builder = builder.proxy(proxy);
                }
                builder.build().map_err(|e| {
                    Error::new(ErrorKind::Config, "cannot build the HTTP client").with_source(e)
                })?
            }
        };
        let mut headers = self.headers;
        if let Ok(agent) = HeaderValue::from_str(&agent) {
            headers.insert(reqwest::header::USER_AGENT, agent);
        }
        Ok(HttpClient {
            inner: Arc::new(Inner {
                http,
                base,
                source: self.source,
                credentials: self.credentials,
                rate: self
                    .rate_control
                    .unwrap_or_else(|| RateControl::new(self.rate)),
                retry: self.retry,
                counters: Arc::new(Counters::default()),
                max_body: self.max_body,
                headers,
                reached: AtomicBool::new(false),
            }),
        })
    }
}

/// The certificates of a PEM file, each a trusted root.
fn load_roots(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::io(format!("tls_roots: cannot read {}", path.display()), e))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        Error::config(format!(
            "tls_roots: {} holds no PEM certificate the TLS stack accepts",
            path.display()
        ))
        .with_source(e)
    })?;
    if certs.is_empty() {
        return Err(Error::config(format!(
            "tls_roots: {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 10;

impl HttpClient {
    /// Start configuring a client for `source` (named in errors and the
    /// `User-Agent`) whose requests go to `base_url`.
    pub fn builder(source: impl Into<String>, base_url: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            source: source.into(),
            base: base_url.into(),
            credentials: None,
            rate: None,
            rate_control: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            max_body: 64 * 1024 * 1024,
            user_agent: None,
            headers: HeaderMap::new(),
            tls_roots: Vec::new(),
            proxy: None,
            client: None,
        }
    }

    /// The base URL requests are relative to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The source name given to [`builder`](Self::builder).
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// What the client (and its clones) did so far.
    pub fn counters(&self) -> SourceMetrics {
        self.inner.counters.snapshot()
    }

    /// The rate control this client (and its clones) share.
    pub fn rate_control(&self) -> &RateControl {
        &self.inner.rate
    }

    /// Resolve `path` against the base URL: a path is appended to the base
    /// URL's path (`https://x/wiki` + `/rest/api/content`); an absolute URL
    /// (a next-page link) is taken as is, after the same scheme checks.
    pub fn url(&self, path: &str) -> Result<Url> {
        if path.starts_with("https://") || path.starts_with("http://") {
            return check_base_url(&format!("{} link", self.inner.source), path);
        }
        let base = self.inner.base.as_str().trim_end_matches('/');
        let joined = format!("{base}/{}", path.trim_start_matches('/'));
        Url::parse(&joined)
            .map_err(|e| Error::config(format!("cannot form a URL from {base} and {path:?}: {e}")))
    }

    /// A `GET` (idempotent: retried).
    pub fn get(&self, path: &str) -> Request<'_> {
        self.request(Method::GET, path)
    }

    /// A `POST` (not retried unless marked [`idempotent`](Request::idempotent)).
    pub fn post(&self, path: &str) -> Request<'_> {
        self.request(Method::POST, path)
    }

    /// A request with any method; GET, HEAD, PUT, DELETE and OPTIONS are
    /// idempotent by default.
    pub fn request(&self, method: Method, path: &str) -> Request<'_> {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        Request {
            client: self,
            method,
            url: self.url(path),
            headers: HeaderMap::new(),
            body: None,
            idempotent,
            authenticate: true,
            redirects: Redirects::default(),
        }
    }
}

/// One request being configured; [`send`](Self::send) runs it with rate
/// limiting, authentication and retry.
#[must_use]
pub struct Request<'c> {
    client: &'c HttpClient,
    method: Method,
    url: Result<Url>,
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: bool,
    authenticate: bool,
    redirects: Redirects,
}

/// Which redirects one request follows (see [`Request::redirects`]).
#[derive(Clone)]
struct Redirects {
    max: usize,
    allow: Option<RedirectFilter>,
    not_modified: bool,
}

/// Decides whether a redirect to a URL is followed.
type RedirectFilter = Arc<dyn Fn(&Url) -> bool + Send + Sync>;

impl Default for Redirects {
    fn default() -> Self {
        Self {
            max: MAX_REDIRECTS,
            allow: None,
            not_modified: false,
        }
    }
}

impl Request<'_> {
    /// Append query parameters (encoded).
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        if let Ok(url) = &mut self.url {
            let mut q = url.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k.as_ref(), v.as_ref());
            }
        }
        self
    }

    /// Set a header (not for secrets: those come from the credentials).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Send `body` as JSON.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.body = Some(Bytes::from(bytes));
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Err(e) => self.url = Err(Error::decode("cannot encode the request body", e)),
        }
        self
    }

    /// Mark a request safe to send twice (a read-only search `POST`).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Send without the client's credentials (a pre-signed URL).
    pub fn without_credentials(mut self) -> Self {
        self.authenticate = false;
        self
    }

    /// Follow at most `max` redirects (default 10, never more), and only to
    /// URLs `allow` accepts: a hop it refuses, or one past the cap, fails the
    /// request with an [`Http`](ErrorKind::Http) error naming the reason.
    /// A crawler keeps its redirects inside its scope this way.
    pub fn redirects(
        mut self,
        max: usize,
        allow: impl Fn(&Url) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.redirects.max = max.min(MAX_REDIRECTS);
        self.redirects.allow = Some(Arc::new(allow));
        self
    }

    /// A conditional `GET`: send `If-None-Match` and `If-Modified-Since` with
    /// the validators a previous answer carried, and take `304 Not Modified`
    /// as a success ([`Response::status`] says which it was; a 304 has no body).
    pub fn conditional(mut self, etag: Option<&str>, last_modified: Option<&str>) -> Self {
        if let Some(value) = etag.and_then(|v| HeaderValue::from_str(v).ok()) {
            self.headers.insert(reqwest::header::IF_NONE_MATCH, value);
        }
        if let Some(value) = last_modified.and_then(|v| HeaderValue::from_str(v).ok()) {
            self.headers
                .insert(reqwest::header::IF_MODIFIED_SINCE, value);
        }
        self.redirects.not_modified = true;
        self
    }

    /// Send and parse a JSON answer. Reading the body is part of the
    /// attempt: a body cut short or timed out is retried like a failed
    /// request (when the request is idempotent). A body that does not match
    /// `T` is a [`Decode`](ErrorKind::Decode) error naming the request.
    pub async fn fetch_json<T: DeserializeOwned>(self) -> Result<T> {
        let (request, scrubber, body) = self.exchange(true).await?.into_body()?;
        decode_json(&request, &scrubber, &body)
    }

    /// Send and split a listing page: the records under `key`, each to be
    /// decoded on its own (see [`split_page`](crate::json::split_page)), and
    /// the page around them. A page without the array is a
    /// [`Decode`](ErrorKind::Decode) error naming the request. The body is
    /// read inside the retry loop, as for [`fetch_json`](Self::fetch_json).
    ///
    /// A `Link: <…>; rel="next"` header (RFC 8288, as Confluence Cloud and
    /// GitHub send it) is kept in [`SplitPage::link_next`](crate::json::SplitPage::link_next).
    pub async fn fetch_page(self, key: &str) -> Result<crate::json::SplitPage> {
        let (request, scrubber, headers, body) = self.exchange(true).await?.into_parts()?;
        let mut page = crate::json::split_page(&scrubber.bytes(&body), key)
            .map_err(|e| e.with_request_line(&request))?;
        page.link_next = super::next_link(&headers);
        Ok(page)
    }

    /// [`fetch_page`](Self::fetch_page), with the answer's headers: for
    /// listings whose paging lives there (`Link`, `X-Total-Count`).
    pub async fn fetch_page_with_headers(
        self,
        key: &str,
    ) -> Result<(crate::json::SplitPage, HeaderMap)> {
        let (request, scrubber, headers, body) = self.exchange(true).await?.into_parts()?;
        let mut page = crate::json::split_page(&scrubber.bytes(&body), key)
            .map_err(|e| e.with_request_line(&request))?;
        page.link_next = super::next_link(&headers);
        Ok((page, headers))
    }

    /// Send and return the whole body as text (invalid UTF-8 replaced), the
    /// body read inside the retry loop as for [`fetch_json`](Self::fetch_json).
    pub async fn fetch_text(self) -> Result<String> {
        let (_, scrubber, body) = self.exchange(true).await?.into_body()?;
        Ok(String::from_utf8_lossy(&scrubber.bytes(&body)).into_owned())
    }

    /// Send, retrying as the policy allows; any non-2xx answer is an error
    /// of the matching kind with the request and the server's reason.
    pub async fn send(self) -> Result<Response> {
        match self.exchange(false).await? {
            Outcome::Streaming(response) => Ok(response),
            Outcome::Read { .. } => Err(Error::new(ErrorKind::Other, "the body was read early")),
        }
    }

    async fn exchange(self, read_body: bool) -> Result<Outcome> {
        let url = self.url?;
        let shown = without_query(&url);
        let span = tracing::info_span!(
            "http",
            method = %self.method,
            host = url.host_str().unwrap_or(""),
            path = url.path(),
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let exchange = Exchange {
            inner: &self.client.inner,
            method: self.method,
            url,
            shown,
            headers: self.headers,
            body: self.body,
            idempotent: self.idempotent,
            authenticate: self.authenticate,
            read_body,
            redirects: self.redirects,
        };
        exchange.run().instrument(span).await
    }
}

/// What an exchange produced: a response whose body is still to be read,
/// or — for [`Request::fetch_json`] — the body already read.
enum Outcome {
    Streaming(Response),
    Read {
        request: String,
        scrubber: Scrubber,
        headers: HeaderMap,
        body: Bytes,
    },
}

impl Outcome {
    fn into_body(self) -> Result<(String, Scrubber, Bytes)> {
        self.into_parts()
            .map(|(request, scrubber, _, body)| (request, scrubber, body))
    }

    fn into_parts(self) -> Result<(String, Scrubber, HeaderMap, Bytes)> {
        match self {
            Outcome::Read {
                request,
                scrubber,
                headers,
                body,
            } => Ok((request, scrubber, headers, body)),
            Outcome::Streaming(_) => Err(Error::new(ErrorKind::Other, "the body was not read")),
        }
    }
}

/// Parse `body` (scrubbed first: decoder messages quote what they choke on).
fn decode_json<T: DeserializeOwned>(request: &str, scrubber: &Scrubber, body: &[u8]) -> Result<T> {
    let body = scrubber.bytes(body);
    serde_json::from_slice(&body).map_err(|e| {
        // The message only: serde's own error would keep the unscrubbed text alive.
        Error::new(
            ErrorKind::Decode,
            format!("the response is not the JSON expected: {e}"),
        )
        .with_request_line(request)
    })
}

/// One request's attempts.
struct Exchange<'c> {
    inner: &'c Inner,
    method: Method,
    url: Url,
    shown: String,
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: bool,
    authenticate: bool,
    read_body: bool,
    redirects: Redirects,
}

impl Exchange<'_> {
    async fn run(self) -> Result<Outcome> {
        let inner = self.inner;
        let started = Instant::now();
        let mut schedule = inner.retry.schedule();
        let credentials = inner
            .credentials
            .as_ref()
            .filter(|_| self.authenticate && same_origin(&self.url, &inner.base));
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let waited = inner.rate.acquire().await;
            if waited > Duration::from_millis(1) {
                inner.counters.waited(waited);
            }
            let auth = match credentials {
                Some(c) => Some(c.authorization().await?),
                None => None,
            };
            let scrubber = auth
                .as_ref()
                .map(Scrubber::for_authorization)
                .unwrap_or_default();
            inner.counters.request();
            let sent = Instant::now();
            let outcome = self.follow(auth.as_ref()).await;
            let span = tracing::Span::current();
            span.record("attempt", attempt);
            span.record("elapsed_ms", sent.elapsed().as_millis() as u64);
            let (error, server_wait) = match outcome {
                Ok(response) => {
                    inner.reached.store(true, Ordering::Relaxed);
                    let status = response.status();
                    span.record("status", status.as_u16());
                    let not_modified =
                        status == StatusCode::NOT_MODIFIED && self.redirects.not_modified;
                    if status.is_success() || not_modified {
                        inner.rate.succeeded(&budget(response.headers()));
                        let response = Response {
                            inner: response,
                            request: format!("{} {}", self.method, self.shown),
                            counters: inner.counters.clone(),
                            max_body: inner.max_body,
                            scrubber: scrubber.clone(),
                        };
                        if !self.read_body {
                            return Ok(Outcome::Streaming(response));
                        }
                        let request = response.request.clone();
                        let headers = response.headers().clone();
                        match response.bytes().await {
                            Ok(body) => {
                                return Ok(Outcome::Read {
                                    request,
                                    scrubber,
                                    headers,
                                    body,
                                });
                            }
                            Err(e) => (e, None),
                        }
                    } else {
                        if status == StatusCode::UNAUTHORIZED
                            && !refreshed
                            && let (Some(c), Some(rejected)) = (credentials, auth.as_ref())
                        {
                            refreshed = true;
                            if c.refresh(rejected).await? {
                                tracing::debug!("credentials refreshed after 401; sending again");
                                continue;
                            }
                        }
                        let headers = response.headers().clone();
                        let body = read_capped(response, ERROR_BODY_LIMIT).await;
                        let body = scrubber.bytes(&body);
                        // A 403 can be a rate limit rather than a refusal.
                        let limited_403 = (status == StatusCode::FORBIDDEN)
                            .then(|| forbidden_limit(&headers, &body))
                            .flatten();
                        let wait = limited_403
                            .flatten()
                            .or_else(|| server_wait(status, &headers));
                        let throttled = status == StatusCode::TOO_MANY_REQUESTS
                            || (status == StatusCode::SERVICE_UNAVAILABLE && wait.is_some())
                            || limited_403.is_some();
                        if throttled {
                            inner.counters.throttled();
                            // A wait longer than the policy accepts fails this
                            // request; pausing everyone for it would freeze the
                            // connector for whoever uses it next.
                            let pause = wait.filter(|w| *w <= inner.retry.max_retry_after);
                            inner.rate.throttled_with(pause, &budget(&headers));
                        }
                        let mut error = from_status(
                            &inner.source,
                            self.method.as_str(),
                            &self.shown,
                            status,
                            &body,
                        );
                        if limited_403.is_some() {
                            error = error.rate_limited();
                        }
                        if let Some(wait) = wait {
                            error = error.with_retry_after(wait);
                        }
                        if !retryable_status(status) && limited_403.is_none() {
                            return Err(error);
                        }
                        (error, wait)
                    }
                }
                Err(e) => (e, None),
            };
            if !self.idempotent || !error.is_temporary() {
                return Err(error);
            }
            if !inner.reached.load(Ordering::Relaxed) && attempt >= UNREACHED_ATTEMPTS {
                return Err(error.context(format_args!("gave up after {attempt} attempts")));
            }
            match schedule.next_delay(server_wait, started.elapsed()) {
                Ok(delay) => {
                    inner.counters.retry();
                    tracing::warn!(attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
                    let slept = Instant::now();
                    tokio::time::sleep(delay).await;
                    inner.counters.waited(slept.elapsed());
                }
                Err(GiveUp::Exhausted) => {
                    return Err(error.context(format_args!("gave up after {attempt} attempts")));
                }
                Err(GiveUp::WaitTooLong(wait)) => {
                    return Err(error.context(format_args!(
                        "the server asked to wait {}s, longer than allowed",
                        wait.as_secs()
                    )));
                }
            }
        }
    }

    /// Send the request and follow its redirects: up to [`MAX_REDIRECTS`],
    /// never in a loop, never from https down to plain http (except
    /// loopback), with credentials only on hops to the base URL's origin
    /// (pre-signed download URLs carry their own).
    async fn follow(&self, auth: Option<&SecretString>) -> Result<reqwest::Response> {
        let mut url = self.url.clone();
        let mut method = self.method.clone();
        let mut body = self.body.clone();
        let mut hops: Vec<Url> = vec![url.clone()];
        loop {
            let hop_auth = auth.filter(|_| same_origin(&url, &self.inner.base));
            let request = self.build(&method, &url, body.as_ref(), hop_auth)?;
            let response = self
                .inner
                .http
                .execute(request)
                .await
                .map_err(|e| self.transport_error(e, &url))?;
            let status = response.status();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            let (true, Some(location)) = (status.is_redirection(), location) else {
                return Ok(response);
            };
            let from = origin(&url);
            let refuse = |reason: String| {
                Error::new(
                    ErrorKind::Http,
                    format!("refused to follow a redirect from {from}: {reason}"),
                )
                .with_request(self.method.as_str(), &self.shown)
                .with_status(status.as_u16())
            };
            let next = url
                .join(location)
                .map_err(|_| refuse("the new location is not a URL".into()))?;
            if hops.contains(&next) {
                return Err(refuse(format!(
                    "a redirect loop (back to {})",
                    origin(&next)
                )));
            }
            let max = self.redirects.max;
            if hops.len() > max {
                return Err(refuse(format!("more than {max} redirects")));
            }
            if let Some(allow) = &self.redirects.allow
                && !allow(&next)
            {
                return Err(refuse(format!(
                    "{} is outside what this request may follow",
                    without_query(&next)
                )));
            }
            match next.scheme() {
                "https" => {}
                "http" if is_loopback(&next) => {}
                "http" => {
                    return Err(refuse(format!(
                        "a redirect to plain http ({}), which would expose the request",
                        origin(&next)
                    )));
                }
                other => return Err(refuse(format!("a redirect to a {other}: URL"))),
            }
            // As browsers do: 303 always, and 301/302 after a POST, continue as GET.
            let to_get = status == StatusCode::SEE_OTHER
                || (matches!(status.as_u16(), 301 | 302) && method == Method::POST);
            if to_get && method != Method::HEAD {
                method = Method::GET;
                body = None;
            }
            hops.push(next.clone());
            url = next;
        }
    }

    fn build(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Bytes>,
        auth: Option<&SecretString>,
    ) -> Result<reqwest::Request> {
        let mut request = reqwest::Request::new(method.clone(), url.clone());
        let mut headers = self.inner.headers.clone();
        headers.extend(self.headers.clone());
        *request.headers_mut() = headers;
        if let Some(auth) = auth {
            let mut value = HeaderValue::from_str(auth.expose_secret()).map_err(|_| {
                Error::new(
                    ErrorKind::Auth,
                    "the credential is not a valid header value",
                )
            })?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        if let Some(body) = body {
            *request.body_mut() = Some(body.clone().into());
        }
        Ok(request)
    }

    /// A failure to reach `at` (the request's URL, or a redirect's target).
    fn transport_error(&self, e: reqwest::Error, at: &Url) -> Error {
        let host = at.host_str().unwrap_or("");
        let (kind, what) = if e.is_timeout() {
            (ErrorKind::Transient, format!("request to {host} timed out"))
        } else if e.is_connect() {
            (ErrorKind::Transient, format!("cannot connect to {host}"))
        } else if e.is_body() || e.is_decode() {
            (
                ErrorKind::Transient,
                format!("the connection to {host} broke mid-response"),
            )
        } else {
            (ErrorKind::Transient, format!("request to {host} failed"))
        };
        let mut error = Error::new(kind, what).with_request(self.method.as_str(), &self.shown);
        if at != &self.url {
            error = error.context(format_args!("after a redirect to {}", origin(at)));
        }
        // reqwest's own message may quote the URL with its query: drop it.
        error.with_source(e.without_url())
    }
}

/// A successful (2xx) response.
#[derive(Debug)]
pub struct Response {
    inner: reqwest::Response,
    request: String,
    counters: Arc<Counters>,
    max_body: u64,
    scrubber: Scrubber,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.inner.status().as_u16()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// A header as text, when present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner.headers().get(name)?.to_str().ok()
    }

    /// The final URL, after redirects.
    pub fn url(&self) -> &Url {
        self.inner.url()
    }

    /// The declared body length, when the server sent one.
    pub fn content_length(&self) -> Option<u64> {
        self.inner.content_length()
    }

    /// The whole body, refused when over the client's
    /// [`max_body_bytes`](HttpClientBuilder::max_body_bytes).
    pub async fn bytes(self) -> Result<Bytes> {
        let cap = self.max_body;
        self.bytes_capped(cap).await
    }

    /// The whole body, refused when over `cap` bytes (checked against the
    /// declared length first, then while reading).
    pub async fn bytes_capped(self, cap: u64) -> Result<Bytes> {
        let request = self.request.clone();
        let too_big = |n: u64| {
            Error::new(
                ErrorKind::Http,
                format!("response body of {n} bytes is over the {cap}-byte limit"),
            )
            .with_request_line(&request)
        };
        if let Some(declared) = self.content_length().filter(|n| *n > cap) {
            return Err(too_big(declared));
        }
        let mut body = Vec::with_capacity(self.content_length().unwrap_or(0).min(cap) as usize);
        let mut stream = std::pin::pin!(self.bytes_stream());
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if (body.len() + chunk.len()) as u64 > cap {
                return Err(too_big((body.len() + chunk.len()) as u64));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    /// The body as UTF-8 text (invalid sequences replaced), with any
    /// credential the server echoed cut out.
    pub async fn text(self) -> Result<String> {
        let scrubber = self.scrubber.clone();
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&scrubber.bytes(&bytes)).into_owned())
    }

    /// The body parsed as JSON (credentials the server echoed cut out
    /// first); a body that does not match `T` is a
    /// [`Decode`](ErrorKind::Decode) error naming the request.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        let request = self.request.clone();
        let scrubber = self.scrubber.clone();
        let bytes = self.bytes().await?;
        decode_json(&request, &scrubber, &bytes)
    }

    /// The body as a stream of chunks, for bodies too large to hold. The
    /// bytes are passed through as the server sent them (file content is
    /// not scrubbed).
    pub fn bytes_stream(self) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let request = self.request;
        let counters = self.counters;
        let host = self.inner.url().host_str().unwrap_or("").to_owned();
        self.inner.bytes_stream().map(move |chunk| match chunk {
            Ok(chunk) => {
                counters.bytes(chunk.len());
                Ok(chunk)
            }
            Err(e) => {
                let what = if e.is_timeout() {
                    format!("timed out reading the response body from {host}")
                } else {
                    format!("the connection to {host} broke while reading the response body")
                };
                Err(Error::new(ErrorKind::Transient, what)
                    .with_request_line(&request)
                    .with_source(e.without_url()))
            }
        })
    }
}

/// Read at most `cap` bytes of a body, for error messages; errors reading
/// it only lose the detail.
async fn read_capped(response: reqwest::Response, cap: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    body
}

trait WithRequestLine {
    fn with_request_line(self, line: &str) -> Self;
}

impl WithRequestLine for Error {
    fn with_request_line(self, line: &str) -> Self {
        match line.split_once(' ') {
            Some((method, url)) => self.with_request(method, url),
            None => self,
        }
    }
}
