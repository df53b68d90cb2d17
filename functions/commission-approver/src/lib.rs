//! The commission approver: run on a schedule, it approves every commission (and
//! reversal) whose holding period has passed, so balances move on time even when
//! nothing else happens.

use partner_service::metrics::{Observation, Unit};
use partner_service::{ApiError, AppState};
use serde_json::{Value, json};

/// Handles one scheduled invocation (the trigger's content does not matter).
pub async fn handle(state: &AppState, _trigger: Value) -> Result<Value, ApiError> {
    let approved =
        partner_service::commands::earnings::approve_due(state, partner_domain::now()).await?;
    Observation::new()
        .metric("CommissionsApproved", Unit::Count, approved as f64)
        .emit();
    if approved > 0 {
        tracing::info!(approved, "approved commissions past their holding period");
    }
    Ok(json!({"approved": approved}))
}
