use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;

use crate::options::RetryPolicy;

impl RetryPolicy {
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
            assert!(
                *d >= base && *d <= base * 2,
                "retry {n}: {d:?} vs base {base:?}"
            );
        }
    }
}
