//! Schedules: per-connection cron expressions or intervals, fired by one
//! scheduler at a time across machines (the holder of a PostgreSQL advisory
//! lock), missed runs coalesced into one, with a per-connection jitter so
//! that many connections on one schedule do not fire in the same second.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use connector_core::{CancellationToken, Error, Result};

use crate::engine::SyncJob;
use crate::pg::PgJobs;
use crate::queue::JobQueue;

/// When a connection syncs.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A cron expression (five fields, or six with seconds), in UTC.
    Cron(Box<croner::Cron>),
    /// A fixed interval.
    Every(Duration),
}

impl Schedule {
    /// A schedule from a cron expression or an interval in seconds (exactly
    /// one of them).
    ///
    /// ```
    /// use connector_service::schedule::Schedule;
    /// let t = chrono::DateTime::parse_from_rfc3339("2025-10-01T10:07:00Z").unwrap().to_utc();
    /// let hourly = Schedule::parse(Some("0 * * * *"), None).unwrap();
    /// assert_eq!(hourly.next_after(t).unwrap().to_rfc3339(), "2025-10-01T11:00:00+00:00");
    /// let every = Schedule::parse(None, Some(600)).unwrap();
    /// assert_eq!(every.next_after(t).unwrap().to_rfc3339(), "2025-10-01T10:17:00+00:00");
    /// assert!(Schedule::parse(Some("every day"), None).is_err());
    /// ```
    pub fn parse(cron: Option<&str>, interval_secs: Option<i64>) -> Result<Self> {
        match (cron, interval_secs) {
            (Some(expr), None) => croner::Cron::new(expr)
                .with_seconds_optional()
                .parse()
                .map(|c| Self::Cron(Box::new(c)))
                .map_err(|e| Error::config(format!("cron expression {expr:?}: {e}"))),
            (None, Some(secs)) if secs > 0 => Ok(Self::Every(Duration::from_secs(secs as u64))),
            (None, Some(_)) => Err(Error::config("interval_secs must be positive")),
            _ => Err(Error::config(
                "give exactly one of `cron` and `interval_secs`",
            )),
        }
    }

    /// The first run strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Cron(cron) => cron.find_next_occurrence(&t, false).ok(),
            Self::Every(every) => chrono::Duration::from_std(*every).ok().map(|d| t + d),
        }
    }
}

/// A stable delay in `[0, max)` for one connection: the same connection
/// always fires at the same offset, different ones spread out.
pub fn jitter(key: &str, max: Duration) -> Duration {
    let millis = max.as_millis() as u64;
    if millis == 0 {
        return Duration::ZERO;
    }
    let hash = blake3::hash(key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&hash.as_bytes()[..8]);
    Duration::from_millis(u64::from_be_bytes(bytes) % millis)
}

/// When a connection runs next, after `now`: the schedule's next time plus
/// its jitter. Computed from `now`, never from the missed time, so a
/// scheduler that was down for ten periods queues one run, not ten.
pub fn next_run(
    schedule: &Schedule,
    key: &str,
    now: DateTime<Utc>,
    max_jitter: Duration,
) -> Option<DateTime<Utc>> {
    let next = schedule.next_after(now)?;
    let jitter = chrono::Duration::from_std(jitter(key, max_jitter)).ok()?;
    Some(next + jitter)
}

/// Run the scheduler until `cancel`: every `tick`, if this process holds
/// the scheduler lock, queue a job for each due connection and move its
/// next run on.
pub async fn run_scheduler(
    jobs: PgJobs,
    queue: Arc<dyn JobQueue>,
    tick: Duration,
    max_jitter: Duration,
    cancel: CancellationToken,
) -> Result<()> {
    let mut leader = None;
    loop {
        if leader.is_none() {
            leader = jobs
                .database()
                .try_lock("connector-service scheduler")
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!("scheduler lock: {e}");
                    None
                });
            if leader.is_some() {
                tracing::info!("this process schedules");
            }
        }
        if leader.is_some()
            && let Err(e) = fire_due(&jobs, queue.as_ref(), max_jitter).await
        {
            tracing::warn!("scheduler: {e}");
            // The lock's connection may be gone with the database: retake it.
            leader = None;
        }
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

/// Queue every connection due now; returns how many jobs were queued or coalesced.
pub async fn fire_due(jobs: &PgJobs, queue: &dyn JobQueue, max_jitter: Duration) -> Result<usize> {
    let now = Utc::now();
    let due = jobs.due(now, 1000).await?;
    let count = due.len();
    for connection in due {
        let key = crate::engine::state_key(&connection.tenant_id, &connection.connection_id);
        let next = match Schedule::parse(connection.cron.as_deref(), connection.interval_secs) {
            Ok(schedule) => next_run(&schedule, &key, now, max_jitter),
            Err(e) => {
                tracing::warn!(connection = %key, "unscheduled: {e}");
                None
            }
        };
        let job = SyncJob {
            job_id: uuid::Uuid::new_v4().to_string(),
            tenant_id: connection.tenant_id.clone(),
            connection_id: connection.connection_id.clone(),
            connection_type: connection.connection_type.clone(),
            config: connection.config.clone(),
            requested_at: now,
        };
        queue.enqueue(job).await?;
        jobs.reschedule(&connection.tenant_id, &connection.connection_id, now, next)
            .await?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_stable_and_bounded() {
        let max = Duration::from_secs(60);
        assert_eq!(jitter("t/a", max), jitter("t/a", max));
        let spread: std::collections::HashSet<u64> = (0..100)
            .map(|i| jitter(&format!("t/{i}"), max).as_secs())
            .collect();
        assert!(spread.len() > 30, "{spread:?}");
        assert!(spread.iter().all(|s| *s < 60));
        assert_eq!(jitter("t/a", Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn missed_runs_coalesce_into_the_next_one_from_now() {
        let schedule = Schedule::parse(None, Some(60)).unwrap();
        let now = DateTime::parse_from_rfc3339("2025-10-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let next = next_run(&schedule, "t/a", now, Duration::ZERO).unwrap();
        assert_eq!(next - now, chrono::Duration::seconds(60));
    }
}
