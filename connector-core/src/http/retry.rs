use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;

/// How a client retries failed idempotent requests.
///
/// Delays grow exponentially from `min_delay` to `max_delay`, each with a
/// random jitter of up to the delay itself added (so with the defaults a
/// late retry waits between 30 and 60 seconds, and requests that failed
/// together do not retry together); a
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

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Requests that fail together must not retry together: each schedule
    /// draws its own jitter.
    #[test]
    fn two_retry_schedules_differ() {
        let policy = RetryPolicy::default();
        let delays = || {
            let mut s = policy.schedule();
            (0..6)
                .map(|_| s.next_delay(None, Duration::ZERO).ok().unwrap())
                .collect::<Vec<_>>()
        };
        let (a, b) = (delays(), delays());
        assert_ne!(a, b, "jitter is not random");
        for (n, d) in a.iter().enumerate() {
            let base = policy.min_delay * 2u32.pow(n as u32);
            let base = base.min(policy.max_delay);
            assert!(*d >= base && *d <= base * 2, "retry {n}: {d:?} vs base {base:?}");
        }
    }
}
