//! The outbox relay: run on a schedule, it publishes every event its publisher did
//! not get out within `OUTBOX_RELAY_GRACE_SECONDS` (the function died between
//! commit and publish, or the bus was down), with the event's original id.

use partner_service::AppState;
use partner_service::events::PublishError;
use serde_json::{Value, json};

/// Handles one scheduled invocation (the EventBridge Scheduler / rule event is
/// only a trigger; its content does not matter).
pub async fn handle(state: &AppState, _trigger: Value) -> Result<Value, PublishError> {
    let report = state
        .publisher()
        .relay(state.store(), state.config().relay_grace)
        .await?;
    if report.found > 0 {
        tracing::warn!(
            found = report.found,
            published = report.published,
            "relayed unpublished events"
        );
    }
    Ok(json!({"found": report.found, "published": report.published}))
}
