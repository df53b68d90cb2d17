//! An endpoint's health: the circuit breaker in front of it, and when the
//! dispatcher gives up on it.
//!
//! Every attempt moves it. A failure (any answer but a 2xx, a time-out, a refused
//! connection) adds one to `consecutive_failures` and starts `failing_since` if no
//! run of failures was going on; a success clears it all. From
//! `failures_to_open` failures in a row (5) the circuit is open: for `first_open`
//! (a minute) after the fifth, twice as long after each further one, never longer
//! than `longest_open` (an hour). While it is open no request is made; deliveries
//! wait for it to pass, so an endpoint that hangs stops costing every batch its
//! time-out. The first attempt after `open_until` is a probe: a success closes the
//! circuit, a failure opens it again for longer. An endpoint whose attempts have
//! all failed for `disable_after` (five days, Svix's rule) is disabled. The
//! figures are the default [`CircuitPolicy`]'s.
//!
//! Health also says which lane an endpoint's deliveries take. An endpoint whose
//! last attempt succeeded within [`SLOW_AFTER`] is `fast`: the dispatcher makes its
//! deliveries inline. Any other (new, failing, or answering slowly) is on the slow
//! lane: its deliveries go through a queue of their own, so an endpoint that hangs
//! never holds up a batch that other apps' deliveries are in. A fast answer on the
//! slow lane moves it back.

use time::Duration;

use crate::Timestamp;

/// An attempt answered later than this puts its endpoint on the slow lane.
pub const SLOW_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// When a circuit opens, for how long, and when an endpoint is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitPolicy {
    /// Failures in a row that open the circuit.
    pub failures_to_open: u32,
    /// How long the circuit stays open after the failure that opened it.
    pub first_open: Duration,
    /// The longest the circuit stays open at a time.
    pub longest_open: Duration,
    /// How long an endpoint may fail every attempt before it is disabled.
    pub disable_after: Duration,
}

impl Default for CircuitPolicy {
    /// Open at the fifth failure in a row, for a minute, doubling up to an hour (a
    /// probe at least every hour); disabled after five days of failures.
    fn default() -> Self {
        Self {
            failures_to_open: 5,
            first_open: Duration::minutes(1),
            longest_open: Duration::hours(1),
            disable_after: Duration::days(5),
        }
    }
}

impl CircuitPolicy {
    /// How long the circuit stays open after `failures` failures in a row: not at
    /// all below `failures_to_open`, then `first_open`, doubling with each further
    /// failure, at most `longest_open`.
    pub fn open_period(&self, failures: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(self.failures_to_open)?;
        // 2^30 times a minute is far past any cap; the shift stays small.
        let seconds = self
            .first_open
            .whole_seconds()
            .saturating_mul(1_i64 << beyond.min(30));
        Some(Duration::seconds(
            seconds.min(self.longest_open.whole_seconds()),
        ))
    }
}

/// What the attempts at an endpoint have come to lately. The default is a healthy
/// endpoint (and is not stored).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointHealth {
    /// Attempts in a row that failed, since the last success.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// When the current run of failures began.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub failing_since: Option<Timestamp>,
    /// Until when the circuit is open: no request is made before.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub open_until: Option<Timestamp>,
    /// The last attempt succeeded within [`SLOW_AFTER`]: deliveries go inline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fast: bool,
}

impl EndpointHealth {
    /// Nothing known: a new endpoint (or one an admin re-enabled), on the slow lane
    /// until its first fast success.
    pub fn is_clear(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the circuit is open at `now`: deliveries wait instead of trying.
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.open_until.is_some_and(|until| now < until)
    }

    /// The health after a successful attempt that took `latency`.
    pub fn after_success(latency: std::time::Duration) -> Self {
        Self {
            fast: latency <= SLOW_AFTER,
            ..Self::default()
        }
    }

    /// The health after a failed attempt at `now`.
    pub fn after_failure(&self, now: Timestamp, policy: &CircuitPolicy) -> Self {
        let failures = self.consecutive_failures.saturating_add(1);
        Self {
            consecutive_failures: failures,
            failing_since: Some(self.failing_since.unwrap_or(now)),
            open_until: policy.open_period(failures).map(|period| now + period),
            fast: false,
        }
    }

    /// Whether every attempt has failed for the policy's `disable_after` or longer
    /// at `now`.
    pub fn failing_too_long(&self, now: Timestamp, policy: &CircuitPolicy) -> bool {
        self.consecutive_failures > 0
            && self
                .failing_since
                .is_some_and(|since| now - since >= policy.disable_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_circuit_opens_at_the_fifth_failure_and_backs_off_to_an_hour() {
        let policy = CircuitPolicy::default();
        let periods: Vec<Option<i64>> = (1..=13)
            .map(|n| policy.open_period(n).map(|d| d.whole_minutes()))
            .collect();
        assert_eq!(
            periods,
            [
                None,
                None,
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(32),
                Some(60),
                Some(60),
                Some(60)
            ]
        );
        assert_eq!(policy.open_period(u32::MAX), Some(policy.longest_open));
    }

    #[test]
    fn failures_count_up_keep_their_start_and_a_success_clears_them() {
        let policy = CircuitPolicy::default();
        let start = time::macros::datetime!(2026-11-24 12:00:00 UTC);
        let mut health = EndpointHealth::default();
        for n in 0..4 {
            health = health.after_failure(start + Duration::seconds(n), &policy);
            assert!(!health.is_open(start + Duration::seconds(n)));
        }
        assert_eq!(health.consecutive_failures, 4);
        assert_eq!(health.failing_since, Some(start));
        let fifth = start + Duration::seconds(10);
        health = health.after_failure(fifth, &policy);
        assert!(health.is_open(fifth));
        assert!(health.is_open(fifth + Duration::seconds(59)));
        assert!(!health.is_open(fifth + Duration::minutes(1)));
        assert_eq!(health.failing_since, Some(start), "the run's start stays");
        assert!(!health.is_clear());
        assert!(EndpointHealth::default().is_clear());
    }

    #[test]
    fn only_a_fast_success_puts_an_endpoint_on_the_fast_lane() {
        let policy = CircuitPolicy::default();
        let start = time::macros::datetime!(2026-11-24 12:00:00 UTC);
        assert!(
            !EndpointHealth::default().fast,
            "a new endpoint starts slow"
        );
        let quick = EndpointHealth::after_success(std::time::Duration::from_millis(80));
        assert!(quick.fast && quick.consecutive_failures == 0);
        assert!(!EndpointHealth::after_success(std::time::Duration::from_millis(1500)).fast);
        assert!(!quick.after_failure(start, &policy).fast);
        let stored = serde_json::to_value(&quick).unwrap();
        assert_eq!(
            stored,
            serde_json::json!({"consecutiveFailures": 0, "fast": true})
        );
    }

    #[test]
    fn five_days_of_failures_and_no_less_give_up() {
        let policy = CircuitPolicy::default();
        let start = time::macros::datetime!(2026-11-24 12:00:00 UTC);
        let health = EndpointHealth::default().after_failure(start, &policy);
        let almost = start + Duration::days(5) - Duration::seconds(1);
        assert!(!health.failing_too_long(almost, &policy));
        assert!(health.failing_too_long(start + Duration::days(5), &policy));
        let later = start + Duration::days(30);
        assert!(!EndpointHealth::default().failing_too_long(later, &policy));
    }

    #[test]
    fn health_round_trips_and_an_empty_one_reads_as_healthy() {
        let policy = CircuitPolicy::default();
        let start = time::macros::datetime!(2026-11-24 12:00:00 UTC);
        let mut health = EndpointHealth::default();
        for _ in 0..5 {
            health = health.after_failure(start, &policy);
        }
        let json = serde_json::to_value(&health).unwrap();
        assert_eq!(json["failingSince"], "2026-11-24T12:00:00Z");
        assert_eq!(json["openUntil"], "2026-11-24T12:01:00Z");
        let back: EndpointHealth = serde_json::from_value(json).unwrap();
        assert_eq!(back, health);
        let read: EndpointHealth = serde_json::from_value(serde_json::json!({})).unwrap();
        assert!(read.is_clear());
    }
}
