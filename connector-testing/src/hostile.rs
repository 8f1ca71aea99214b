//! Responders that behave like a hostile or merely busy server: for the
//! checks of this crate, a connector's own tests, and benchmarks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wiremock::{Request, Respond, ResponseTemplate};

/// Echoes the request's `Authorization` header back in every form a
/// careless server or proxy might: whole, after the scheme, and — for
/// Basic — decoded, in an Atlassian-shaped error body (and as a wrong-typed
/// field, which decoders quote in their messages).
#[derive(Debug, Clone)]
pub struct EchoAuthorization {
    /// The status to answer with.
    pub status: u16,
}

impl Respond for EchoAuthorization {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        use base64::Engine as _;
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let after = auth
            .split_once(' ')
            .map(|(_, t)| t.to_owned())
            .unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(after.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        ResponseTemplate::new(self.status).set_body_json(serde_json::json!({
            "errorMessages": [format!("request had Authorization: {auth}; token {after}; user {decoded}")],
            "errors": {"debug": auth},
            "message": format!("credential {decoded}"),
            "total": auth,
            "isLast": after,
        }))
    }
}

/// Answers with each status in turn (`Retry-After` when given), then
/// passes: mount it with `up_to_n_times` ahead of the fixtures.
#[derive(Debug)]
pub struct Statuses {
    statuses: Vec<(u16, Option<String>)>,
    calls: AtomicUsize,
}

impl Statuses {
    /// `statuses` in order; each with an optional `Retry-After` value.
    pub fn new(statuses: Vec<(u16, Option<String>)>) -> Self {
        Self {
            statuses,
            calls: AtomicUsize::new(0),
        }
    }
}

impl Respond for Statuses {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let (status, wait) = self.statuses.get(n).cloned().unwrap_or((500, None));
        let mut t = ResponseTemplate::new(status)
            .set_body_json(serde_json::json!({"message": "slow down"}));
        if let Some(wait) = wait {
            t = t.insert_header("Retry-After", wait.as_str());
        }
        t
    }
}

/// A token bucket quota: `quota` requests a second, a bucket of `burst`.
/// Refusals are `429` with `Retry-After` (whole seconds, rounded up) and
/// Atlassian's headers; with `budget_headers`, every answer also carries
/// `X-RateLimit-Limit`, `-Remaining`, `-FillRate` and `-Interval-Seconds`.
/// Wraps the responder that answers accepted requests.
pub struct TokenBucket<R> {
    inner: R,
    state: Mutex<(f64, Instant)>,
    quota: f64,
    burst: f64,
    budget_headers: bool,
    accepted: AtomicU64,
    rejected: AtomicU64,
}

impl<R> std::fmt::Debug for TokenBucket<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBucket")
            .field("quota", &self.quota)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl<R> TokenBucket<R> {
    /// A full bucket in front of `inner`.
    pub fn new(inner: R, quota: f64, burst: f64, budget_headers: bool) -> Self {
        Self {
            inner,
            state: Mutex::new((burst, Instant::now())),
            quota,
            burst,
            budget_headers,
            accepted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// Requests accepted and refused so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.accepted.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
        )
    }

    fn take(&self) -> Result<f64, Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let tokens =
            (state.0 + now.duration_since(state.1).as_secs_f64() * self.quota).min(self.burst);
        state.1 = now;
        if tokens >= 1.0 {
            state.0 = tokens - 1.0;
            Ok(state.0)
        } else {
            state.0 = tokens;
            Err(Duration::from_secs_f64((1.0 - tokens) / self.quota))
        }
    }

    fn budget(&self, t: ResponseTemplate, remaining: f64) -> ResponseTemplate {
        t.insert_header("X-RateLimit-Limit", format!("{:.0}", self.burst).as_str())
            .insert_header(
                "X-RateLimit-Remaining",
                format!("{:.0}", remaining.floor()).as_str(),
            )
            .insert_header(
                "X-RateLimit-FillRate",
                format!("{:.0}", self.quota).as_str(),
            )
            .insert_header("X-RateLimit-Interval-Seconds", "1")
    }
}

impl<R: Respond> Respond for TokenBucket<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match self.take() {
            Ok(left) => {
                self.accepted.fetch_add(1, Ordering::Relaxed);
                let ok = self.inner.respond(request);
                if self.budget_headers {
                    self.budget(ok, left)
                } else {
                    ok
                }
            }
            Err(wait) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                let secs = wait.as_secs_f64().ceil().max(1.0);
                let refused = ResponseTemplate::new(429)
                    .set_body_json(serde_json::json!({"message": "Rate limit exceeded"}))
                    .insert_header("Retry-After", format!("{secs:.0}").as_str())
                    .insert_header("RateLimit-Reason", "jira-burst-based");
                self.budget(refused, 0.0)
            }
        }
    }
}

/// In front of `inner`: a share of answers are `429` with `Retry-After: 1`
/// and a share are `503`, in a fixed pseudo-random order so runs compare.
pub struct Flaky<R> {
    inner: R,
    percent_429: u64,
    percent_503: u64,
    n: AtomicU64,
    throttled: AtomicU64,
}

impl<R> std::fmt::Debug for Flaky<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flaky")
            .field("percent_429", &self.percent_429)
            .field("percent_503", &self.percent_503)
            .finish_non_exhaustive()
    }
}

impl<R> Flaky<R> {
    /// `percent_429`% throttled, `percent_503`% unavailable.
    pub fn new(inner: R, percent_429: u64, percent_503: u64) -> Self {
        Self {
            inner,
            percent_429,
            percent_503,
            n: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
        }
    }

    /// `429`s answered so far (each asked for a one-second pause).
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
}

impl<R: Respond> Respond for Flaky<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        let roll = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % 100;
        if roll < self.percent_429 {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            ResponseTemplate::new(429).insert_header("Retry-After", "1")
        } else if roll < self.percent_429 + self.percent_503 {
            ResponseTemplate::new(503)
        } else {
            self.inner.respond(request)
        }
    }
}

/// Shares a responder between a mock and the test that reads its counts.
#[derive(Debug)]
pub struct Shared<R>(pub std::sync::Arc<R>);

impl<R: Respond> Respond for Shared<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}
