use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::retry::{header_str, reset_in};

/// A request budget: a steady rate and a burst allowance (GCRA).
///
/// ```
/// use connector_core::http::RateLimit;
/// let jira = RateLimit::per_second(10.0).with_burst(20);
/// assert_eq!(jira.burst(), 20);
/// let gentle = RateLimit::per_second(0.5); // one request every two seconds
/// assert_eq!(gentle.burst(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    per_second: f64,
    burst: u32,
}

impl RateLimit {
    /// `rate` requests per second on average, with a burst of one second's
    /// worth (at least 1). Rates at or below zero, or not finite, are
    /// treated as one request per hour rather than a panic.
    pub fn per_second(rate: f64) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0 / 3600.0
        };
        Self {
            per_second: rate,
            burst: (rate.floor() as u32).max(1),
        }
    }

    /// Allow up to `burst` requests back to back (at least 1).
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.per_second
    }

    /// Requests allowed back to back.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second)
    }
}

/// The limiter one client and its clones share: the configured GCRA plus an
/// adaptive gate that the server's signals tighten.
pub(crate) struct Limiter {
    gcra: Option<DefaultDirectRateLimiter>,
    base_interval: Duration,
    adaptive: Mutex<Adaptive>,
}

#[derive(Debug)]
struct Adaptive {
    /// Nobody sends before this (a `Retry-After` applies to all requests).
    paused_until: Option<Instant>,
    /// While slow, requests are spaced by `spacing`, one slot each.
    slow_until: Option<Instant>,
    spacing: Duration,
    next_slot: Instant,
}

/// How long a slow-down lasts when the server gives no reset time.
const SLOW_FOR: Duration = Duration::from_secs(30);
/// Widest spacing the adaptive gate imposes.
const MAX_SPACING: Duration = Duration::from_secs(5);
/// Narrowest spacing worth imposing.
const MIN_SPACING: Duration = Duration::from_millis(50);

impl Limiter {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        let gcra = limit.and_then(|l| {
            let burst = NonZeroU32::new(l.burst)?;
            let quota = Quota::with_period(l.interval())?.allow_burst(burst);
            Some(RateLimiter::direct(quota))
        });
        Self {
            gcra,
            base_interval: limit.map_or(Duration::ZERO, |l| l.interval()),
            adaptive: Mutex::new(Adaptive {
                paused_until: None,
                slow_until: None,
                spacing: Duration::ZERO,
                next_slot: Instant::now(),
            }),
        }
    }

    /// Wait for permission to send; returns how long that took.
    pub(crate) async fn acquire(&self) -> Duration {
        let started = Instant::now();
        if let Some(gcra) = &self.gcra {
            gcra.until_ready().await;
        }
        let at = self.reserve(Instant::now());
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
        started.elapsed()
    }

    fn reserve(&self, now: Instant) -> Instant {
        let mut a = self.adaptive.lock().unwrap_or_else(|p| p.into_inner());
        let mut at = now;
        if let Some(until) = a.paused_until {
            if until > at {
                at = until;
            } else {
                a.paused_until = None;
            }
        }
        match a.slow_until {
            Some(until) if until > now => {
                let slot = a.next_slot.max(at);
                a.next_slot = slot + a.spacing;
                slot
            }
            Some(_) => {
                a.slow_until = None;
                a.spacing = Duration::ZERO;
                at
            }
            None => at,
        }
    }

    /// Hold every request sharing this limiter for `wait`.
    pub(crate) fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut a = self.adaptive.lock().unwrap_or_else(|p| p.into_inner());
        a.paused_until = Some(a.paused_until.map_or(until, |u| u.max(until)));
    }

    /// Read the server's budget signals from a response.
    pub(crate) fn observe(&self, status: StatusCode, headers: &HeaderMap) {
        let budget = Budget::read(headers);
        let now = Instant::now();
        let mut a = self.adaptive.lock().unwrap_or_else(|p| p.into_inner());
        if status == StatusCode::TOO_MANY_REQUESTS || budget.low() {
            // Spread what is left until the reset when the server says both;
            // otherwise double the spacing each time it complains.
            let spacing = match (budget.remaining, budget.reset_in) {
                (Some(left), Some(reset)) if status != StatusCode::TOO_MANY_REQUESTS => {
                    reset / u32::try_from(left.max(1)).unwrap_or(u32::MAX)
                }
                _ => (a.spacing * 2)
                    .max(self.base_interval * 2)
                    .max(MIN_SPACING * 5),
            };
            a.spacing = spacing.clamp(MIN_SPACING, MAX_SPACING);
            let lasts = budget
                .reset_in
                .unwrap_or(SLOW_FOR)
                .max(Duration::from_secs(1));
            let until = now + lasts;
            a.slow_until = Some(a.slow_until.map_or(until, |u| u.max(until)));
            if a.next_slot < now {
                a.next_slot = now;
            }
            tracing::debug!(
                spacing_ms = a.spacing.as_millis() as u64,
                "server budget low: slowing down"
            );
        } else if budget.healthy() && a.slow_until.is_some() {
            a.slow_until = None;
            a.spacing = Duration::ZERO;
        }
    }
}

/// The rate-limit headers of one response.
#[derive(Debug, Default)]
struct Budget {
    remaining: Option<u64>,
    limit: Option<u64>,
    near_limit: bool,
    reset_in: Option<Duration>,
}

impl Budget {
    fn read(headers: &HeaderMap) -> Self {
        let number = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| header_str(headers, n).and_then(|v| v.parse::<u64>().ok()))
        };
        Self {
            remaining: number(&["x-ratelimit-remaining", "ratelimit-remaining"]),
            limit: number(&["x-ratelimit-limit", "ratelimit-limit"]),
            near_limit: header_str(headers, "x-ratelimit-nearlimit")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            reset_in: reset_in(headers),
        }
    }

    /// Under a tenth of the budget left, or the server says so.
    fn low(&self) -> bool {
        if self.near_limit {
            return true;
        }
        match (self.remaining, self.limit) {
            (Some(left), Some(limit)) => left.saturating_mul(10) <= limit,
            (Some(left), None) => left <= 1,
            _ => false,
        }
    }

    /// Over a quarter left.
    fn healthy(&self) -> bool {
        matches!((self.remaining, self.limit), (Some(left), Some(limit)) if left.saturating_mul(4) > limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[tokio::test(start_paused = true)]
    async fn low_budget_spaces_requests_until_healthy() {
        let limiter = Limiter::new(None);
        let now = Instant::now();
        assert_eq!(limiter.reserve(now), now);
        limiter.observe(
            StatusCode::OK,
            &headers(&[
                ("x-ratelimit-remaining", "5"),
                ("x-ratelimit-limit", "100"),
                ("ratelimit-reset", "10"),
            ]),
        );
        let first = limiter.reserve(now);
        let second = limiter.reserve(now);
        assert_eq!(
            second - first,
            Duration::from_secs(2),
            "10 s spread over 5 requests"
        );
        limiter.observe(
            StatusCode::OK,
            &headers(&[
                ("x-ratelimit-remaining", "90"),
                ("x-ratelimit-limit", "100"),
            ]),
        );
        assert_eq!(limiter.reserve(now), now);
    }

    #[tokio::test(start_paused = true)]
    async fn near_limit_and_429_double_the_spacing() {
        let limiter = Limiter::new(Some(RateLimit::per_second(100.0)));
        limiter.observe(
            StatusCode::OK,
            &headers(&[("x-ratelimit-nearlimit", "true")]),
        );
        let first = limiter.adaptive.lock().unwrap().spacing;
        limiter.observe(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new());
        let second = limiter.adaptive.lock().unwrap().spacing;
        assert!(
            second >= first * 2 && first >= MIN_SPACING,
            "{first:?} {second:?}"
        );
        for _ in 0..20 {
            limiter.observe(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new());
        }
        assert_eq!(limiter.adaptive.lock().unwrap().spacing, MAX_SPACING);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_holds_everyone() {
        let limiter = Limiter::new(None);
        limiter.pause(Duration::from_secs(3));
        let now = Instant::now();
        assert_eq!(limiter.reserve(now), now + Duration::from_secs(3));
        let waited = limiter.acquire().await;
        assert!(waited >= Duration::from_secs(3));
    }

    #[test]
    fn odd_rates_do_not_panic() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9, 1e9] {
            let limit = RateLimit::per_second(rate);
            let _ = Limiter::new(Some(limit));
        }
    }
}
