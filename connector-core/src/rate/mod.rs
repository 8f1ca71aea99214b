//! Rate control that converges on the server's quota.
//!
//! A [`RateControl`] is shared by every request of one connector instance
//! (the HTTP client and its clones, or an SDK client such as S3's). Before
//! each request it waits for a slot; after each response it is told what
//! the server said:
//!
//! - an explicit [`RateLimit::per_second`] is a ceiling, enforced by a GCRA
//!   (`governor`) with its burst;
//! - on top of it an adaptive rate (see [`aimd`](self) in the source) starts
//!   at the source's default ([`RateLimit::starting_at`]) or unpaced, grows
//!   while requests succeed, is cut when the server throttles (429, 503 with
//!   `Retry-After`, S3 `SlowDown`) or says the budget is low, and follows a
//!   quota the server states in its headers;
//! - a `Retry-After` pauses every request sharing the control, not only the
//!   one that was refused.
//!
//! ```
//! use std::time::Duration;
//! use connector_core::rate::{Budget, RateControl, RateLimit};
//! # async fn demo() {
//! let control = RateControl::new(Some(RateLimit::starting_at(10.0)));
//! control.acquire().await;              // before a request
//! control.succeeded(&Budget::default()); // after a 2xx
//! // After a 429 with Retry-After: everyone waits; one refusal among
//! // successes does not cut the rate, a run of them does.
//! control.throttled(Some(Duration::from_millis(10)));
//! assert_eq!(control.rate(), Some(10.0));
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo());
//! ```

mod aimd;

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use aimd::Aimd;

/// A request budget for one connector instance.
///
/// ```
/// use connector_core::rate::RateLimit;
/// let at_most = RateLimit::per_second(10.0).with_burst(20);
/// assert_eq!((at_most.rate(), at_most.burst(), at_most.is_ceiling()), (10.0, 20, true));
/// let adaptive = RateLimit::starting_at(10.0);
/// assert!(!adaptive.is_ceiling());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    per_second: f64,
    burst: u32,
    ceiling: bool,
}

impl RateLimit {
    /// At most `rate` requests per second on average (a ceiling the
    /// adaptive rate never passes), with a burst of one second's worth (at
    /// least 1). Rates at or below zero, or not finite, are read as one
    /// request per hour rather than a panic.
    pub fn per_second(rate: f64) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0 / 3600.0
        };
        Self {
            per_second: rate,
            burst: (rate.floor() as u32).max(1),
            ceiling: true,
        }
    }

    /// Start at `rate` requests per second and adapt from there: faster
    /// while the server allows it, slower when it throttles. What a source
    /// uses as its default, so a conservative start never caps a server
    /// with room to spare.
    pub fn starting_at(rate: f64) -> Self {
        Self {
            ceiling: false,
            ..Self::per_second(rate)
        }
    }

    /// Allow up to `burst` requests back to back under a ceiling (at least 1).
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.per_second
    }

    /// Requests allowed back to back under a ceiling.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Whether this is a ceiling ([`per_second`](Self::per_second)) rather
    /// than a starting point ([`starting_at`](Self::starting_at)).
    pub fn is_ceiling(&self) -> bool {
        self.ceiling
    }

    fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second)
    }
}

/// What a response's rate-limit headers said, as numbers.
///
/// The HTTP layer reads it from `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
/// `RateLimit-Remaining`, `X-RateLimit-Reset`, `X-RateLimit-NearLimit`,
/// `X-RateLimit-FillRate` and `X-RateLimit-Interval-Seconds`; other clients
/// fill it from their own signals.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Budget {
    /// Requests (tokens) the window or bucket holds.
    pub limit: Option<u64>,
    /// Requests (tokens) left.
    pub remaining: Option<u64>,
    /// Time until the window resets or the bucket is full.
    pub reset_in: Option<Duration>,
    /// The server says the budget is nearly used (Atlassian's `NearLimit`).
    pub near_limit: bool,
    /// Tokens added every [`interval`](Self::interval) (a token bucket's fill rate).
    pub fill_rate: Option<f64>,
    /// The fill interval.
    pub interval: Option<Duration>,
}

impl Budget {
    /// The quota the server states, in requests per second (fill rate over
    /// interval), when it states one.
    pub fn quota_per_second(&self) -> Option<f64> {
        let fill = self.fill_rate?;
        let secs = self.interval?.as_secs_f64();
        let quota = fill / secs;
        (quota.is_finite() && quota > 0.0).then_some(quota)
    }

    /// The share of the budget left, when limit and remaining are known.
    pub fn remaining_share(&self) -> Option<f64> {
        match (self.remaining, self.limit) {
            (Some(left), Some(limit)) if limit > 0 => Some(left as f64 / limit as f64),
            _ => None,
        }
    }

    /// Under a tenth left, or the server says it is nearly used.
    pub fn is_low(&self) -> bool {
        self.near_limit
            || match (self.remaining_share(), self.remaining) {
                (Some(share), _) => share <= 0.1,
                (None, Some(left)) => left <= 1,
                _ => false,
            }
    }

    /// More than half left.
    pub fn is_healthy(&self) -> bool {
        self.remaining_share().is_some_and(|s| s > 0.5)
    }
}

/// The rate control one connector instance shares; cheap to clone, clones
/// share everything. See the [module docs](self).
#[derive(Clone)]
pub struct RateControl {
    inner: Arc<Inner>,
}

struct Inner {
    gcra: Option<DefaultDirectRateLimiter>,
    aimd: Mutex<Aimd>,
}

impl std::fmt::Debug for RateControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateControl")
            .field("rate", &self.rate())
            .field("ceiling", &self.inner.gcra.is_some())
            .finish()
    }
}

impl RateControl {
    /// Rate control starting from `limit` (`None`: unpaced until the server
    /// objects).
    pub fn new(limit: Option<RateLimit>) -> Self {
        let gcra = limit.filter(RateLimit::is_ceiling).and_then(|l| {
            let burst = NonZeroU32::new(l.burst)?;
            let quota = Quota::with_period(l.interval())?.allow_burst(burst);
            Some(RateLimiter::direct(quota))
        });
        let start = limit.map_or(f64::INFINITY, |l| l.per_second);
        let ceiling = limit
            .filter(RateLimit::is_ceiling)
            .map_or(f64::INFINITY, |l| l.per_second);
        Self {
            inner: Arc::new(Inner {
                gcra,
                aimd: Mutex::new(Aimd::new(start, ceiling, Instant::now())),
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Aimd) -> T) -> T {
        let mut aimd = self.inner.aimd.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut aimd)
    }

    /// Wait for permission to send one request; returns how long that took.
    pub async fn acquire(&self) -> Duration {
        let started = Instant::now();
        if let Some(gcra) = &self.inner.gcra {
            gcra.until_ready().await;
        }
        let at = self.with(|a| a.reserve(Instant::now()));
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
        started.elapsed()
    }

    /// The server accepted a request; `budget` is what its headers said.
    pub fn succeeded(&self, budget: &Budget) {
        self.with(|a| a.succeeded(Instant::now(), budget));
    }

    /// The server throttled a request (429, 503 with `Retry-After`, S3
    /// `SlowDown`) and asked to wait `retry_after`: every request sharing
    /// this control waits, and the rate is cut.
    pub fn throttled(&self, retry_after: Option<Duration>) {
        self.with(|a| a.throttled(Instant::now(), retry_after));
    }

    /// [`throttled`](Self::throttled), for a refusal whose headers state
    /// the server's quota (`X-RateLimit-FillRate` over
    /// `X-RateLimit-Interval-Seconds`): the rate goes just under that quota
    /// and only the refused request waits its `Retry-After` — a token
    /// bucket that refills within a fraction of the whole seconds
    /// `Retry-After` is written in would otherwise idle for most of them.
    pub fn throttled_with(&self, retry_after: Option<Duration>, budget: &Budget) {
        match budget.quota_per_second() {
            Some(quota) => self.with(|a| a.refused_under_quota(Instant::now(), quota)),
            None => self.throttled(retry_after),
        }
    }

    /// Hold every request sharing this control for `wait`, without a cut.
    pub fn pause(&self, wait: Duration) {
        self.with(|a| a.pause(Instant::now(), wait));
    }

    /// The adaptive rate now, in requests per second (`None`: unpaced).
    pub fn rate(&self) -> Option<f64> {
        let rate = self.with(|a| a.rate());
        rate.is_finite().then_some(rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_rates_do_not_panic() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9, 1e9] {
            let _ = RateControl::new(Some(RateLimit::per_second(rate)));
            let _ = RateControl::new(Some(RateLimit::starting_at(rate)));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_everyone() {
        let control = RateControl::new(None);
        control.pause(Duration::from_secs(3));
        let other = control.clone();
        let waited = other.acquire().await;
        assert!(waited >= Duration::from_secs(3), "{waited:?}");
    }

    // Real time: the GCRA keeps its own clock.
    #[tokio::test]
    async fn a_ceiling_spaces_requests() {
        let control = RateControl::new(Some(RateLimit::per_second(10.0).with_burst(1)));
        let started = std::time::Instant::now();
        for _ in 0..11 {
            control.acquire().await;
            control.succeeded(&Budget::default());
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(990), "{took:?}");
    }

    #[test]
    fn budget_shares() {
        let b = Budget {
            limit: Some(100),
            remaining: Some(5),
            ..Budget::default()
        };
        assert!(b.is_low() && !b.is_healthy());
        let b = Budget {
            limit: Some(100),
            remaining: Some(60),
            ..Budget::default()
        };
        assert!(!b.is_low() && b.is_healthy());
        assert!(
            Budget {
                near_limit: true,
                ..Budget::default()
            }
            .is_low()
        );
        assert_eq!(Budget::default().quota_per_second(), None);
    }
}
