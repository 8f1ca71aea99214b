//! How closely the rate limiter holds a quota: many concurrent workers
//! hammer a local server for a fixed time at quota R; the observed rate
//! should be at most R and at least 0.95 R.
//!
//! ```text
//! cargo run --release -p connector-core --features http --example rate_limit_accuracy [rate] [seconds] [workers]
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use connector_core::http::{HttpClient, RateLimit};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rate: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50.0);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    for burst in [1u32, rate.ceil() as u32] {
        let client = HttpClient::builder("bench", server.uri())
            .rate_limit(RateLimit::per_second(rate).with_burst(burst))
            .build()?;
        let done = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let tasks: Vec<_> = (0..workers)
            .map(|_| {
                let client = client.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    while Instant::now() < deadline {
                        if client.get("/x").send().await.is_ok() && Instant::now() <= deadline {
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
            "quota {rate} req/s, burst {burst}, {workers} workers, {seconds} s: {n} requests, \
             steady {steady:.2} req/s = {:.1}% of quota ({})",
            100.0 * steady / rate,
            if steady <= rate * 1.001 && steady >= 0.95 * rate {
                "within [0.95 R, R]"
            } else {
                "OUT OF BOUNDS"
            }
        );
    }
    Ok(())
}
