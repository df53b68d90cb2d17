//! The outbox relay: run on a schedule, it publishes every event its publisher did
//! not get out within `OUTBOX_RELAY_GRACE_SECONDS` (the function died between
//! commit and publish, or the bus was down), with the event's original id.

use partner_aws::metrics::{Observation, Unit};
use partner_service::AppState;
use partner_service::events::{PublishError, RelayReport};
use serde::Serialize;
use serde_json::Value;

/// What one run did (the invocation's result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Report {
    pub found: usize,
    pub published: usize,
}

/// Handles one scheduled invocation (the EventBridge Scheduler / rule event is
/// only a trigger; its content does not matter). Emits `OutboxRelayed` whether the
/// run succeeds or not, and `OutboxOldestAgeSeconds` when the outbox could be read
/// (no figure then, rather than a reassuring 0: the age alarm treats missing data
/// as breaching).
pub async fn handle(state: &AppState, _trigger: Value) -> Result<Report, PublishError> {
    let mut report = RelayReport::default();
    let outcome = state
        .publisher()
        .relay_into(state.store(), state.config().relay_grace, &mut report)
        .await;
    let mut observation =
        Observation::new().metric("OutboxRelayed", Unit::Count, report.published as f64);
    if report.read {
        observation = observation.metric(
            "OutboxOldestAgeSeconds",
            Unit::Seconds,
            report.oldest_age_seconds as f64,
        );
    }
    observation.emit();
    outcome?;
    if report.found > 0 {
        tracing::warn!(
            found = report.found,
            published = report.published,
            oldest_age_seconds = report.oldest_age_seconds,
            "relayed unpublished events"
        );
    }
    Ok(Report {
        found: report.found,
        published: report.published,
    })
}
