//! How rate control behaves against servers with a quota, measured.
//!
//! A local stand-in server enforces a token bucket (quota Q requests per
//! second, a bucket of B) and answers `429` with `Retry-After` and
//! Atlassian's headers, the way Jira and Confluence do. Workers share one
//! `HttpClient` and send requests for a fixed time; the figures are the
//! share of the server's ceiling used (accepted ÷ (B + Q × seconds)), the
//! share of requests rejected, and requests per second.
//!
//! 1. `headers`: every answer carries the budget (`X-RateLimit-Limit`,
//!    `-Remaining`, `-FillRate`, `-Interval-Seconds`); the client starts at a
//!    conservative 10 req/s and must learn the quota from the headers.
//! 2. `429-only`: only refusals carry headers, and the client is configured
//!    at twice the quota: it must converge on the quota.
//! 3. `random`: no quota, but 5% of answers are `429` with `Retry-After: 1`
//!    and 3% are `503`; a fixed number of requests must finish within twice
//!    the pauses the server asked for.
//! 4. `ceiling`: an explicit rate is held within [0.95 R, R].
//!
//! ```text
//! cargo run --release -p connector-core --features http --example rate_control [quota] [seconds] [workers]
//! ```

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use connector_core::http::HttpClient;
use connector_core::options::RetryPolicy;
use connector_core::rate::RateLimit;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Server latency per request.
const LATENCY: Duration = Duration::from_millis(5);

/// A token bucket: `quota` tokens a second, at most `burst`.
struct Bucket {
    quota: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self) -> Result<f64, Duration> {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.quota).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(self.tokens)
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.quota))
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Headers,
    RefusalsOnly,
}

struct Quota {
    bucket: Mutex<Bucket>,
    mode: Mode,
    accepted: AtomicU64,
    rejected: AtomicU64,
}

impl Respond for Quota {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let taken = self.bucket.lock().map(|mut b| (b.take(), b.burst, b.quota));
        let Ok((taken, burst, quota)) = taken else {
            return ResponseTemplate::new(500);
        };
        let budget = |t: ResponseTemplate, remaining: f64| {
            t.insert_header("X-RateLimit-Limit", format!("{burst:.0}"))
                .insert_header("X-RateLimit-Remaining", format!("{:.0}", remaining.floor()))
                .insert_header("X-RateLimit-FillRate", format!("{quota:.0}"))
                .insert_header("X-RateLimit-Interval-Seconds", "1")
        };
        match taken {
            Ok(left) => {
                self.accepted.fetch_add(1, Ordering::Relaxed);
                let ok = ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"ok": true}))
                    .set_delay(LATENCY);
                if self.mode == Mode::Headers {
                    budget(ok, left)
                } else {
                    ok
                }
            }
            Err(wait) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                // Retry-After is whole seconds, rounded up, as servers send it.
                let secs = wait.as_secs_f64().ceil().max(1.0);
                let refused = ResponseTemplate::new(429)
                    .set_body_json(serde_json::json!({"message": "Rate limit exceeded"}))
                    .insert_header("Retry-After", format!("{secs:.0}"))
                    .insert_header("RateLimit-Reason", "jira-burst-based")
                    .set_delay(LATENCY);
                budget(refused, 0.0)
            }
        }
    }
}

/// 5% 429 with `Retry-After: 1`, 3% 503, the rest 200.
struct Flaky {
    n: AtomicU64,
    throttled: AtomicU64,
}

impl Respond for Flaky {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        // A fixed pseudo-random sequence, so runs compare.
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        let roll = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % 100;
        match roll {
            0..=4 => {
                self.throttled.fetch_add(1, Ordering::Relaxed);
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_delay(LATENCY)
            }
            5..=7 => ResponseTemplate::new(503).set_delay(LATENCY),
            _ => ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"ok": true}))
                .set_delay(LATENCY),
        }
    }
}

async fn hammer(client: &HttpClient, workers: usize, until: Instant) {
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                while Instant::now() < until {
                    let _ = client.get("/x").send().await;
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}

async fn quota_run(
    mode: Mode,
    limit: RateLimit,
    quota: f64,
    seconds: u64,
    workers: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let responder = Arc::new(Quota {
        bucket: Mutex::new(Bucket {
            quota,
            burst: quota,
            tokens: quota,
            at: Instant::now(),
        }),
        mode,
        accepted: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
    });
    Mock::given(method("GET"))
        .respond_with(SharedResponder(responder.clone()))
        .mount(&server)
        .await;
    let client = HttpClient::builder("bench", server.uri())
        .rate_limit(limit)
        .retry(RetryPolicy::default().with_max_attempts(20))
        .build()?;
    let started = Instant::now();
    hammer(&client, workers, started + Duration::from_secs(seconds)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let accepted = responder.accepted.load(Ordering::Relaxed) as f64;
    let rejected = responder.rejected.load(Ordering::Relaxed) as f64;
    let ceiling = quota + quota * elapsed;
    println!(
        "{:<9} quota {quota:.0}/s, burst {quota:.0}, client {} {:.0}/s, {workers} workers, {elapsed:.1} s: \
         {accepted:.0} accepted = {:.1}% of the server's ceiling, {:.1}% of requests rejected, {:.1} req/s",
        if mode == Mode::Headers {
            "headers"
        } else {
            "429-only"
        },
        if limit.is_ceiling() {
            "at most"
        } else {
            "from"
        },
        limit.rate(),
        100.0 * accepted / ceiling,
        100.0 * rejected / (accepted + rejected).max(1.0),
        accepted / elapsed,
    );
    Ok(())
}

struct SharedResponder<R>(Arc<R>);

impl<R: Respond> Respond for SharedResponder<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

async fn random_run(requests: u64, workers: usize) -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let responder = Arc::new(Flaky {
        n: AtomicU64::new(0),
        throttled: AtomicU64::new(0),
    });
    Mock::given(method("GET"))
        .respond_with(SharedResponder(responder.clone()))
        .mount(&server)
        .await;
    let client = HttpClient::builder("bench", server.uri())
        .rate_limit(RateLimit::starting_at(10.0))
        .build()?;
    let left = Arc::new(AtomicU64::new(requests));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (client, left, failed) = (client.clone(), left.clone(), failed.clone());
            tokio::spawn(async move {
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    if client.get("/x").send().await.is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let asked = responder.throttled.load(Ordering::Relaxed) as f64;
    println!(
        "random    {requests} requests, {workers} workers, 5% 429 (Retry-After: 1) + 3% 503: \
         {elapsed:.1} s for {asked:.0} s of pauses asked = {:.2}× the pauses, {} failed, {:.1} req/s",
        elapsed / asked.max(1.0),
        failed.load(Ordering::Relaxed),
        requests as f64 / elapsed,
    );
    Ok(())
}

async fn ceiling_run(
    rate: f64,
    seconds: u64,
    workers: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let burst = rate.ceil() as u32;
    let client = HttpClient::builder("bench", server.uri())
        .rate_limit(RateLimit::per_second(rate).with_burst(burst))
        .build()?;
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (client, done) = (client.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    if client.get("/x").send().await.is_ok() && Instant::now() <= until {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await?;
    }
    let n = done.load(Ordering::Relaxed) as f64;
    // The burst is spent at once; the steady rate is what follows it.
    let steady = (n - f64::from(burst)) / seconds as f64;
    println!(
        "ceiling   {rate:.0}/s, burst {burst}, {workers} workers, {seconds} s: steady {steady:.2} req/s = {:.1}% of the ceiling",
        100.0 * steady / rate,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let quota: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100.0);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    quota_run(
        Mode::Headers,
        RateLimit::starting_at(10.0),
        quota,
        seconds,
        workers,
    )
    .await?;
    quota_run(
        Mode::RefusalsOnly,
        RateLimit::per_second(quota * 2.0),
        quota,
        seconds,
        workers,
    )
    .await?;
    random_run(3000, 8).await?;
    ceiling_run(quota / 2.0, seconds.min(10), 32).await?;
    Ok(())
}
