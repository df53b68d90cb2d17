//! The payout runner: run on a schedule (every minute), it works through the
//! running payout runs a page of partners at a time until its time budget is
//! spent, saving each run's progress after every page. A run of any size
//! finishes across as many invocations as it needs.

use std::time::{Duration, Instant};

use partner_aws::metrics::{Observation, Unit};
use partner_service::AppState;
use partner_service::commands::CommandError;
use partner_service::commands::payout_runs::{RunnerReport, work_runs};

/// Time kept back from the invocation's deadline: one page of partners (a listing
/// read and each partner's payout) finishes well inside it.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(20);

/// Handles one scheduled invocation with `remaining` time until the Lambda's
/// deadline (the trigger's content does not matter).
pub async fn handle(state: &AppState, remaining: Duration) -> Result<RunnerReport, CommandError> {
    let deadline = Instant::now() + remaining.saturating_sub(SAFETY_MARGIN);
    let report = work_runs(state, deadline).await?;
    Observation::new()
        .metric("PayoutsCreated", Unit::Count, f64::from(report.payouts))
        .emit();
    if report.pages > 0 {
        tracing::info!(
            pages = report.pages,
            payouts = report.payouts,
            completed = report.runs_completed,
            "worked on payout runs"
        );
    }
    Ok(report)
}
