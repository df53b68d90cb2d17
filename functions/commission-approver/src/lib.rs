//! The commission approver: run on a schedule, it approves every commission (and
//! reversal) whose holding period has passed, so balances move on time even when
//! nothing else happens.

use partner_aws::metrics::{Observation, Unit};
use partner_service::AppState;
use partner_service::commands::CommandError;
use partner_service::commands::approvals::approve_due;
use serde::Serialize;
use serde_json::Value;

/// What one run did (the invocation's result, shown by `sam local invoke`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Report {
    pub approved: usize,
}

/// Handles one scheduled invocation (the trigger's content does not matter).
pub async fn handle(state: &AppState, _trigger: Value) -> Result<Report, CommandError> {
    let approved = approve_due(state, partner_domain::now()).await?;
    Observation::new()
        .metric("CommissionsApproved", Unit::Count, approved as f64)
        .emit();
    if approved > 0 {
        tracing::info!(approved, "approved commissions past their holding period");
    }
    Ok(Report { approved })
}
