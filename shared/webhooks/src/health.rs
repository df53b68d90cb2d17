//! What the dispatcher does about an endpoint that keeps failing: while its
//! circuit is open, deliveries wait without a request; after five days of
//! failures (or a `410 Gone`) it is disabled, once, with an `endpoint_disabled`
//! event; and what was still waiting for a disabled endpoint ends failed. The
//! rules themselves are `partner_domain::webhooks::health`.

use std::time::Duration;

use partner_domain::events::Event;
use partner_domain::webhooks::{
    CircuitPolicy, Delivery, DeliveryStatus, EndpointHealth, WebhookEndpoint,
};
use partner_domain::{Timestamp, rfc3339};

use crate::dispatcher::{DispatchError, Dispatcher, jitter};
use crate::queue::{AttemptKind, AttemptMessage};

/// Why an endpoint should be disabled after a failed attempt, if it should: it
/// answered `410 Gone`, or every attempt has failed for the policy's
/// `disable_after` (five days).
pub(crate) fn give_up(
    gone: bool,
    health: &EndpointHealth,
    now: Timestamp,
    policy: &CircuitPolicy,
) -> Option<String> {
    if gone {
        return Some("the endpoint answered 410 Gone".to_owned());
    }
    let since = health
        .failing_since
        .filter(|_| health.failing_too_long(now, policy))?;
    Some(format!(
        "every attempt failed for {} days, since {}",
        policy.disable_after.whole_days(),
        rfc3339(since)
    ))
}

impl Dispatcher {
    /// The endpoint's circuit is open: no request now. The same attempt (its
    /// number unchanged: waiting is not trying) goes back on the queue for when
    /// the circuit half-opens, spread over a quarter of the open period so the
    /// deliveries waiting for it do not all probe at once; the delivery shows when.
    pub(crate) async fn defer(
        &self,
        mut delivery: Delivery,
        stored: Option<u32>,
        endpoint: &WebhookEndpoint,
        number: u32,
        now: Timestamp,
    ) -> Result<(), DispatchError> {
        let health = &endpoint.health;
        let spread = self
            .circuit
            .open_period(health.consecutive_failures)
            .map_or(time::Duration::ZERO, |period| {
                period * (0.125 * (jitter() + 1.0))
            });
        let due = health.open_until.unwrap_or(now) + spread;
        let delay = Duration::try_from(due - now).unwrap_or(Duration::ZERO);
        let message = AttemptMessage {
            kind: AttemptKind::Retry,
            event: delivery.event.clone(),
            endpoint_id: delivery.endpoint_id.clone(),
            attempt: number,
            not_before: Some(due),
            slow_lane: true,
        };
        // Queued before the delivery is written, as a retry is.
        self.queue.send(&message, delay).await?;
        delivery.next_attempt_at = Some(due);
        self.save(&delivery, stored, None).await?;
        tracing::info!(endpoint = %endpoint.id, due = %rfc3339(due), "circuit open; delivery deferred");
        deferred_metric();
        Ok(())
    }

    /// A retry for an endpoint that is disabled now: nothing is sent. A delivery
    /// that was waiting ends failed, so that it can be replayed once the endpoint
    /// is enabled again (a retry would never come); a first attempt had nothing
    /// recorded and leaves nothing.
    pub(crate) async fn abandon(
        &self,
        mut delivery: Delivery,
        stored: Option<u32>,
    ) -> Result<(), DispatchError> {
        tracing::info!(endpoint = %delivery.endpoint_id, "endpoint disabled; retry dropped");
        if stored.is_none() {
            return Ok(());
        }
        delivery.status = DeliveryStatus::Failed;
        delivery.next_attempt_at = None;
        self.save(&delivery, stored, None).await?;
        Ok(())
    }

    /// Disables the endpoint for `reason`, keeping `health` (when its failures
    /// began), with the `endpoint_disabled` event in the same transaction. Of
    /// several attempts giving up at once, one disables it and writes the event.
    pub(crate) async fn disable(
        &self,
        endpoint: &WebhookEndpoint,
        health: &EndpointHealth,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), DispatchError> {
        let since = health.failing_since.unwrap_or(now);
        let event = Event::endpoint_disabled(endpoint, since, reason, now);
        let disabled = self
            .store
            .webhooks()
            .disable(endpoint, health, reason, &event)
            .await?;
        if disabled {
            tracing::warn!(endpoint = %endpoint.id, app = %endpoint.app_id, reason, "webhook endpoint disabled");
        }
        Ok(())
    }
}

/// One `WebhookDeliveriesDeferred` metric line: a delivery waited for an open
/// circuit instead of being attempted.
fn deferred_metric() {
    partner_aws::metrics::Observation::new()
        .metric(
            "WebhookDeliveriesDeferred",
            partner_aws::metrics::Unit::Count,
            1.0,
        )
        .emit();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gone_endpoint_or_five_days_of_failures_give_up_and_less_does_not() {
        let start = time::macros::datetime!(2026-11-24 12:00:00 UTC);
        let policy = CircuitPolicy::default();
        let failing = EndpointHealth::default().after_failure(start, &policy);
        let day = |n| start + time::Duration::days(n);
        assert!(give_up(false, &failing, day(4), &policy).is_none());
        let reason = give_up(false, &failing, day(5), &policy).unwrap();
        assert!(
            reason.contains("5 days") && reason.contains("2026-11-24T12:00:00Z"),
            "{reason}"
        );
        assert!(
            give_up(true, &EndpointHealth::default(), start, &policy)
                .unwrap()
                .contains("410")
        );
    }
}
