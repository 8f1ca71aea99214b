use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How a client retries failed idempotent requests.
///
/// Delays grow exponentially with jitter from `min_delay` to `max_delay`; a
/// server's `Retry-After` (or rate-limit reset header) replaces the delay when
/// it is longer, unless it exceeds `max_retry_after`, in which case the
/// request fails with a [`RateLimited`](crate::ErrorKind::RateLimited) error
/// carrying the wait, so the host can reschedule.
///
/// ```
/// use std::time::Duration;
/// use connector_core::http::RetryPolicy;
/// let patient = RetryPolicy::default().with_max_attempts(12).with_max_elapsed(Duration::from_secs(900));
/// assert_eq!(patient.max_attempts, 12);
/// assert_eq!(RetryPolicy::none().max_attempts, 1);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// No retry starts once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
    /// First backoff delay.
    pub min_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// Longest server-requested wait the client accepts.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            max_elapsed: Duration::from_secs(300),
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Set [`max_attempts`](Self::max_attempts) (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Set [`max_elapsed`](Self::max_elapsed).
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// Set the backoff range.
    pub fn with_delays(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    /// Set [`max_retry_after`](Self::max_retry_after).
    pub fn with_max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    pub(crate) fn schedule(&self) -> Schedule {
        let retries = usize::try_from(self.max_attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        let backoff = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(retries)
            .build();
        Schedule {
            backoff: Box::new(backoff),
            policy: self.clone(),
        }
    }
}

/// The delays left for one request.
pub(crate) struct Schedule {
    backoff: Box<dyn Iterator<Item = Duration> + Send>,
    policy: RetryPolicy,
}

/// Why no further attempt is made.
pub(crate) enum GiveUp {
    /// Attempts or elapsed time used up.
    Exhausted,
    /// The server asked for a wait longer than the policy accepts.
    WaitTooLong(Duration),
}

impl Schedule {
    /// The delay before the next attempt, given the server's requested wait
    /// and the time spent so far.
    pub(crate) fn next_delay(
        &mut self,
        server_wait: Option<Duration>,
        elapsed: Duration,
    ) -> Result<Duration, GiveUp> {
        let backoff = self.backoff.next().ok_or(GiveUp::Exhausted)?;
        let delay = match server_wait {
            Some(wait) if wait > self.policy.max_retry_after => {
                return Err(GiveUp::WaitTooLong(wait));
            }
            Some(wait) => wait.max(backoff),
            None => backoff,
        };
        if elapsed + delay > self.policy.max_elapsed {
            return Err(GiveUp::Exhausted);
        }
        Ok(delay)
    }
}

/// Statuses worth another attempt of an idempotent request.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// How long the server asked us to wait: `Retry-After` in seconds or as an
/// HTTP date, else — on a 429 — a rate-limit reset header.
pub(crate) fn server_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if let Some(value) = header_str(headers, RETRY_AFTER.as_str()) {
        if let Ok(secs) = value.parse::<f64>() {
            return (secs.is_finite() && secs >= 0.0)
                .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
        }
        if let Ok(when) = httpdate::parse_http_date(value) {
            return Some(when.duration_since(SystemTime::now()).unwrap_or_default());
        }
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return reset_in(headers);
    }
    None
}

/// Time until the server's rate-limit window resets, from `X-RateLimit-Reset`
/// (epoch seconds, seconds from now, or an RFC 3339 time as Atlassian sends)
/// or `RateLimit-Reset` (seconds from now).
pub(crate) fn reset_in(headers: &HeaderMap) -> Option<Duration> {
    for name in ["x-ratelimit-reset", "ratelimit-reset"] {
        let Some(value) = header_str(headers, name) else {
            continue;
        };
        if let Ok(n) = value.parse::<u64>() {
            // Epoch seconds are ~1.7e9; a delta is never that large.
            if n > 1_000_000_000 {
                let now = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs();
                return Some(Duration::from_secs(n.saturating_sub(now)));
            }
            return Some(Duration::from_secs(n));
        }
        if let Ok(when) = chrono::DateTime::parse_from_rfc3339(value) {
            let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
            return Some(wait.to_std().unwrap_or_default());
        }
    }
    None
}

pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok().map(str::trim)
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

    #[test]
    fn retry_after_seconds_and_http_date() {
        let ok = StatusCode::SERVICE_UNAVAILABLE;
        assert_eq!(
            server_wait(ok, &headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        let later = SystemTime::now() + Duration::from_secs(30);
        let date = httpdate::fmt_http_date(later);
        let wait = server_wait(ok, &headers(&[("retry-after", &date)])).unwrap();
        assert!(
            wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28),
            "{wait:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        assert_eq!(
            server_wait(ok, &headers(&[("retry-after", &past)])),
            Some(Duration::ZERO)
        );
        assert_eq!(server_wait(ok, &headers(&[("retry-after", "soon")])), None);
    }

    #[test]
    fn reset_headers_apply_to_429_only() {
        let h = headers(&[("x-ratelimit-reset", "12")]);
        assert_eq!(
            server_wait(StatusCode::TOO_MANY_REQUESTS, &h),
            Some(Duration::from_secs(12))
        );
        assert_eq!(server_wait(StatusCode::BAD_GATEWAY, &h), None);
        let at = (chrono::Utc::now() + chrono::Duration::seconds(20)).to_rfc3339();
        let wait = reset_in(&headers(&[("x-ratelimit-reset", &at)])).unwrap();
        assert!(wait <= Duration::from_secs(20) && wait >= Duration::from_secs(18));
        let epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 5;
        let wait = reset_in(&headers(&[("x-ratelimit-reset", &epoch.to_string())])).unwrap();
        assert!(wait <= Duration::from_secs(5));
    }

    #[test]
    fn schedule_is_bounded_and_honours_long_waits() {
        let policy = RetryPolicy::default()
            .with_max_attempts(3)
            .with_delays(Duration::from_millis(10), Duration::from_millis(20));
        let mut s = policy.schedule();
        assert!(s.next_delay(None, Duration::ZERO).is_ok());
        let d = s
            .next_delay(Some(Duration::from_secs(2)), Duration::ZERO)
            .ok()
            .unwrap();
        assert_eq!(d, Duration::from_secs(2));
        assert!(matches!(
            s.next_delay(None, Duration::ZERO),
            Err(GiveUp::Exhausted)
        ));
        let mut s = policy.schedule();
        assert!(matches!(
            s.next_delay(Some(Duration::from_secs(3600)), Duration::ZERO),
            Err(GiveUp::WaitTooLong(_))
        ));
        let mut s = policy.with_max_elapsed(Duration::from_secs(1)).schedule();
        assert!(matches!(
            s.next_delay(None, Duration::from_secs(2)),
            Err(GiveUp::Exhausted)
        ));
    }
}
