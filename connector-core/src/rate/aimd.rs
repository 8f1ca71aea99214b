//! The adaptive part of rate control: additive-increase / multiplicative-
//! decrease on the server's signals, as a pure state machine over explicit
//! instants (so it is tested without clocks).
//!
//! - **Slow start**: until the first sign of a limit, the allowed rate
//!   doubles every second the client actually uses it — a conservative
//!   starting rate never caps a server that has no quota.
//! - **Throttled** (429, 503 with `Retry-After`, S3 `SlowDown`): everyone
//!   waits out the server's `Retry-After`. The rate itself is cut — to
//!   [`CUT`] × the rate actually sent since the last pause — only when
//!   refusals are more than [`CUT_SHARE`] of recent answers, and at most
//!   once per [`COOLDOWN`] after a pause ends. A lone refusal among many
//!   successes is the server's noise, answered by the pause it asked for; a
//!   quota the client exceeds refuses a growing share (every request in
//!   flight when the bucket runs dry), and that share is what cuts.
//! - **Budget low** (`X-RateLimit-NearLimit`, under a tenth remaining): a
//!   gentler cut, same cooldown.
//! - **Success**: the rate grows — [`GROWTH`] per second plus
//!   [`ADDITIVE`] requests per second each second — but only while the
//!   client is actually sending near the allowed rate, so a slow consumer
//!   does not build up an allowance it would later spend all at once.
//! - **A stated quota** (`X-RateLimit-FillRate` over
//!   `X-RateLimit-Interval-Seconds`, as Atlassian's token buckets send):
//!   the rate follows it, a little above while the bucket is more than half
//!   full (to spend the burst the server grants), a little below when it is
//!   nearly empty. A quota stated only on a refusal is remembered for
//!   [`LEARNED_FOR`]: the rate then grows back to just under it
//!   ([`LEARNED_SHARE`]) and no further, rather than climbing past it into
//!   the next refusal and its whole-second `Retry-After`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::Budget;

/// Rate after a throttle, as a share of the rate sent before it.
pub(crate) const CUT: f64 = 0.85;
/// Rate after a low-budget signal, as a share of the current rate.
pub(crate) const GENTLE_CUT: f64 = 0.95;
/// Share of recent answers that must be refusals for a throttle to cut the rate.
pub(crate) const CUT_SHARE: f64 = 0.1;
/// Weight of one answer in the refusal share (about the last 32 answers).
const SHARE_WEIGHT: f64 = 1.0 / 32.0;
/// Cuts at most once per this long after the last one took effect.
pub(crate) const COOLDOWN: Duration = Duration::from_secs(1);
/// Growth per second in steady state (after the first limit).
pub(crate) const GROWTH: f64 = 0.10;
/// Additive growth, requests per second each second.
pub(crate) const ADDITIVE: f64 = 2.0;
/// Never below one request every ten seconds.
pub(crate) const FLOOR: f64 = 0.1;
/// Sends (and acceptances) remembered to measure rates.
const MEASURE: usize = 64;
/// Rate after a cut, as a share of the rate the server accepted.
const ACCEPTED_SHARE: f64 = 0.95;
/// Rate after a refusal that states the quota, as a share of that quota.
pub(crate) const STATED_SHARE: f64 = 0.9;
/// Growth stops at this share of a quota a refusal stated.
pub(crate) const LEARNED_SHARE: f64 = 0.99;
/// How long a quota stated by a refusal caps growth; after it the rate may
/// probe above again (a quota can be raised), and the next refusal restates it.
pub(crate) const LEARNED_FOR: Duration = Duration::from_secs(60);

/// Events per second over `times`, `None` without enough of them to tell.
fn per_second(times: &VecDeque<Instant>) -> Option<f64> {
    let (first, last) = (times.front()?, times.back()?);
    let span = last.saturating_duration_since(*first).as_secs_f64();
    (times.len() >= 4 && span > 0.0).then(|| (times.len() - 1) as f64 / span)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    SlowStart,
    Steady,
}

#[derive(Debug)]
pub(crate) struct Aimd {
    /// Allowed requests per second; infinite means "not pacing".
    rate: f64,
    /// The host's explicit maximum (infinite when none).
    ceiling: f64,
    phase: Phase,
    next_slot: Instant,
    paused_until: Option<Instant>,
    /// Earliest time the next cut may happen.
    cut_allowed_at: Option<Instant>,
    last_growth: Instant,
    /// Recent send times since the last pause ended.
    sends: VecDeque<Instant>,
    /// Recent times the server accepted a request, since the last pause.
    accepts: VecDeque<Instant>,
    /// Moving share of refusals among recent answers.
    refused_share: f64,
    /// The quota the last refusal stated, and until when it caps growth.
    learned: Option<(f64, Instant)>,
}

impl Aimd {
    /// `start` requests per second to begin with (infinite: unpaced until
    /// the server objects), never above `ceiling`.
    pub(crate) fn new(start: f64, ceiling: f64, now: Instant) -> Self {
        let ceiling = if ceiling.is_finite() && ceiling > 0.0 {
            ceiling
        } else {
            f64::INFINITY
        };
        Self {
            rate: start.min(ceiling).max(FLOOR),
            ceiling,
            phase: Phase::SlowStart,
            next_slot: now,
            paused_until: None,
            cut_allowed_at: None,
            last_growth: now,
            sends: VecDeque::with_capacity(MEASURE),
            accepts: VecDeque::with_capacity(MEASURE),
            refused_share: 0.0,
            learned: None,
        }
    }

    pub(crate) fn rate(&self) -> f64 {
        self.rate
    }

    /// Reserve a send slot at or after `now`; returns when to send.
    pub(crate) fn reserve(&mut self, now: Instant) -> Instant {
        let mut at = now;
        if let Some(until) = self.paused_until {
            if until > now {
                at = until;
            } else {
                self.paused_until = None;
            }
        }
        // At the host's ceiling its GCRA paces alone (with its burst): two
        // pacers in a row would each add their own wait.
        if self.rate.is_finite() && self.rate < self.ceiling {
            at = at.max(self.next_slot);
            self.next_slot = at + Duration::from_secs_f64(1.0 / self.rate);
        }
        if self.sends.len() == MEASURE {
            self.sends.pop_front();
        }
        self.sends.push_back(at);
        at
    }

    /// Requests per second actually sent recently (since the last pause),
    /// `None` without enough sends to tell.
    fn measured(&self) -> Option<f64> {
        per_second(&self.sends)
    }

    /// Everyone waits until `now + wait`.
    pub(crate) fn pause(&mut self, now: Instant, wait: Duration) {
        let until = now + wait;
        if self.paused_until.is_none_or(|u| u < until) {
            self.paused_until = Some(until);
        }
        // What was sent before the pause says nothing about after it.
        self.sends.clear();
        self.accepts.clear();
        self.next_slot = self.next_slot.max(until);
    }

    /// The server throttled a request; it asked to wait `retry_after`.
    pub(crate) fn throttled(&mut self, now: Instant, retry_after: Option<Duration>) {
        self.refused_share += (1.0 - self.refused_share) * SHARE_WEIGHT;
        let sent = self.measured();
        let accepted = per_second(&self.accepts);
        if let Some(wait) = retry_after {
            self.pause(now, wait);
        }
        if self.refused_share <= CUT_SHARE || self.cut_allowed_at.is_some_and(|t| now < t) {
            return;
        }
        let base = match sent {
            Some(sent) => sent.min(self.rate),
            None => self.rate,
        };
        let base = if base.is_finite() { base } else { 1.0 };
        // What the server accepted is the best guess of its quota: a burst
        // far over it is cut to just under it at once, not step by step.
        let target = match accepted {
            Some(accepted) => (base * CUT).min(accepted * ACCEPTED_SHARE),
            None => base * CUT,
        };
        self.rate = target.clamp(FLOOR, self.ceiling);
        self.phase = Phase::Steady;
        self.settle(now);
    }

    /// A refusal that states the server's quota: just under it at once. The
    /// refused request waits its own `Retry-After`; the others go on at the
    /// stated rate, which the server has said it accepts.
    pub(crate) fn refused_under_quota(&mut self, now: Instant, quota: f64) {
        self.refused_share += (1.0 - self.refused_share) * SHARE_WEIGHT;
        self.rate = (quota * STATED_SHARE).clamp(FLOOR, self.ceiling);
        self.learned = Some((quota, now + LEARNED_FOR));
        self.phase = Phase::Steady;
        self.next_slot = self
            .next_slot
            .max(now + Duration::from_secs_f64(1.0 / self.rate));
        self.settle(now);
    }

    /// After a cut: no growth and no further cut until the cooldown after
    /// the pause (if any) has passed.
    fn settle(&mut self, now: Instant) {
        let effective = self.paused_until.map_or(now, |u| u.max(now));
        self.cut_allowed_at = Some(effective + COOLDOWN);
        self.last_growth = effective;
    }

    /// A response that was not throttled, with the budget headers it carried.
    pub(crate) fn succeeded(&mut self, now: Instant, budget: &Budget) {
        self.refused_share -= self.refused_share * SHARE_WEIGHT;
        if self.accepts.len() == MEASURE {
            self.accepts.pop_front();
        }
        self.accepts.push_back(now);
        if let Some(quota) = budget.quota_per_second() {
            self.follow_quota(quota, budget);
            return;
        }
        if budget.is_low() {
            if self.cut_allowed_at.is_none_or(|t| now >= t) {
                let base = self.measured().map_or(self.rate, |m| m.min(self.rate));
                let base = if base.is_finite() { base } else { 1.0 };
                self.rate = (base * GENTLE_CUT).clamp(FLOOR, self.ceiling);
                self.phase = Phase::Steady;
                self.settle(now);
            }
            return;
        }
        self.grow(now, budget.is_healthy());
    }

    fn follow_quota(&mut self, quota: f64, budget: &Budget) {
        // Spend what the bucket holds, then settle at the fill rate with a
        // margin left for other clients of the same budget.
        let share = budget.remaining_share().unwrap_or(0.3);
        let factor = if share > 0.5 {
            1.5
        } else if share > 0.25 {
            1.05
        } else if share > 0.1 {
            1.0
        } else {
            0.9
        };
        self.rate = (quota * factor).clamp(FLOOR, self.ceiling);
        self.phase = Phase::Steady;
    }

    fn grow(&mut self, now: Instant, healthy: bool) {
        if self.paused_until.is_some_and(|u| u > now) {
            return;
        }
        let dt = now
            .saturating_duration_since(self.last_growth)
            .as_secs_f64();
        if dt < 0.01 {
            return;
        }
        self.last_growth = now;
        if !self.rate.is_finite() || self.rate >= self.ceiling {
            return;
        }
        // Only a rate the client is using is worth raising.
        let binding = self.measured().is_some_and(|m| m >= self.rate * 0.7);
        if !binding {
            return;
        }
        let per_second = match (self.phase, healthy) {
            (Phase::SlowStart, _) => 1.0,
            (Phase::Steady, true) => GROWTH * 2.5,
            (Phase::Steady, false) => GROWTH,
        };
        let grown = self.rate * (1.0 + per_second).powf(dt.min(1.0)) + ADDITIVE * dt.min(1.0);
        let cap = match self.learned {
            Some((quota, until)) if now < until => (quota * LEARNED_SHARE).min(self.ceiling),
            _ => self.ceiling,
        };
        // Growth never lowers a rate already above the cap (a stated quota
        // followed since may be higher).
        self.rate = self.rate.max(grown.min(cap));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// Send `n` requests as fast as the controller allows, from `t`;
    /// returns the time after the last.
    fn send(aimd: &mut Aimd, mut t: Instant, n: usize, ok: bool) -> Instant {
        for _ in 0..n {
            t = aimd.reserve(t);
            if ok {
                aimd.succeeded(t, &Budget::default());
            }
        }
        t
    }

    #[test]
    fn slow_start_doubles_a_used_rate_each_second() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(10.0, f64::INFINITY, t0);
        let t = send(&mut aimd, t0, 200, true);
        assert!(aimd.rate() > 80.0, "{} after {:?}", aimd.rate(), t - t0);
    }

    #[test]
    fn an_unused_rate_does_not_grow() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(10.0, f64::INFINITY, t0);
        let mut t = t0;
        for _ in 0..20 {
            t += secs(1.0); // one request a second against an allowed ten
            let at = aimd.reserve(t);
            aimd.succeeded(at, &Budget::default());
        }
        assert!(aimd.rate() <= 10.0 + 1e-9, "{}", aimd.rate());
    }

    #[test]
    fn a_refusal_stating_the_quota_goes_under_it_without_idling_everyone() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(1000.0, f64::INFINITY, t0);
        let t = send(&mut aimd, t0, 50, true);
        aimd.refused_under_quota(t, 200.0);
        assert!(
            (aimd.rate() - 200.0 * STATED_SHARE).abs() < 1e-9,
            "{}",
            aimd.rate()
        );
        // The next request goes one slot later, not a whole second later.
        let next = aimd.reserve(t);
        assert!(next - t < Duration::from_millis(20), "{:?}", next - t);
    }

    #[test]
    fn growth_stops_under_a_quota_a_refusal_stated_until_it_is_old() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(1000.0, f64::INFINITY, t0);
        let t = send(&mut aimd, t0, 50, true);
        aimd.refused_under_quota(t, 200.0);
        // Thirty seconds of successes at the allowed rate: just under 200.
        let t = send(&mut aimd, t, 5_000, true);
        assert!(t - t0 > Duration::from_secs(20), "{:?}", t - t0);
        let cap = 200.0 * LEARNED_SHARE;
        assert!(
            (aimd.rate() - cap).abs() < 1e-9,
            "{} against {cap}",
            aimd.rate()
        );
        // Once the quota is old, the rate probes above it again.
        let t = send(&mut aimd, t0 + LEARNED_FOR, 2_000, true);
        assert!(aimd.rate() > 200.0, "{} at {:?}", aimd.rate(), t - t0);
    }

    #[test]
    fn a_throttle_pauses_everyone_and_cuts_once_per_cooldown() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(100.0, f64::INFINITY, t0);
        let t = send(&mut aimd, t0, 50, true);
        let before = aimd.rate();
        // Twenty 429s from requests in flight at once: one cut.
        for _ in 0..20 {
            aimd.throttled(t, Some(secs(2.0)));
        }
        let after = aimd.rate();
        assert!(
            after < before && after >= before * CUT * 0.7,
            "{before} → {after}"
        );
        assert!(aimd.reserve(t) >= t + secs(2.0), "paused for Retry-After");
    }

    #[test]
    fn a_lone_throttle_pauses_without_a_cut() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(100.0, f64::INFINITY, t0);
        let t = send(&mut aimd, t0, 50, true);
        let before = aimd.rate();
        aimd.throttled(t, Some(secs(1.0)));
        assert_eq!(aimd.rate(), before);
        assert!(aimd.reserve(t) >= t + secs(1.0));
    }

    #[test]
    fn an_explicit_ceiling_is_never_passed() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(10.0, 25.0, t0);
        send(&mut aimd, t0, 500, true);
        assert!((aimd.rate() - 25.0).abs() < 1e-9, "{}", aimd.rate());
        let quota = Budget {
            fill_rate: Some(1000.0),
            interval: Some(secs(1.0)),
            ..Budget::default()
        };
        aimd.succeeded(t0, &quota);
        assert!(aimd.rate() <= 25.0);
    }

    #[test]
    fn a_stated_quota_is_followed() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(10.0, f64::INFINITY, t0);
        let budget = |remaining: u64| Budget {
            limit: Some(100),
            remaining: Some(remaining),
            fill_rate: Some(50.0),
            interval: Some(secs(1.0)),
            ..Budget::default()
        };
        aimd.succeeded(t0, &budget(80));
        assert!((aimd.rate() - 75.0).abs() < 1e-9, "{}", aimd.rate());
        aimd.succeeded(t0, &budget(20));
        assert!((aimd.rate() - 50.0).abs() < 1e-9);
        aimd.succeeded(t0, &budget(5));
        assert!((aimd.rate() - 45.0).abs() < 1e-9);
    }

    #[test]
    fn random_throttles_do_not_collapse_the_rate() {
        // One 429 (Retry-After: 1) every twenty requests for a minute of
        // requests: the rate must stay well above what twenty requests per
        // pause need.
        let t0 = Instant::now();
        let mut aimd = Aimd::new(10.0, f64::INFINITY, t0);
        let mut t = t0;
        for round in 0..60 {
            t = send(&mut aimd, t, 19, true);
            t = aimd.reserve(t);
            aimd.throttled(t, Some(secs(1.0)));
            assert!(aimd.rate() >= FLOOR, "round {round}");
        }
        assert!(aimd.rate() > 20.0, "{}", aimd.rate());
    }
}
