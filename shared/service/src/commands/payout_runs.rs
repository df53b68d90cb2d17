//! Payout runs of any size: an admin starts one (one transactional write, answered
//! at once); the payout runner works through the app's partners a page at a time,
//! saving the run's progress after each page, across as many invocations as the
//! app's size needs. A runner that dies mid-page leaves the run where the last
//! page ended: the next invocation does that page again, and paying a partner is
//! idempotent (see `partner_store::repo::payouts`), so nothing is paid twice.

use std::time::Instant;

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::ledger::{PayoutRun, PayoutRunId, PayoutRunStatus};
use partner_domain::{Amount, AppId, Money};
use partner_store::repo::payout_runs::{RunError, RunRef};

use super::payouts::pay_page;
use super::{CommandError, Missing};
use crate::AppState;

/// Partners per page: one listing read, then each partner's payout.
pub const PARTNERS_PER_PAGE: u32 = 100;

/// Running runs one runner invocation looks at.
const RUNS_PER_INVOCATION: u32 = 10;

impl From<RunError> for CommandError {
    fn from(err: RunError) -> Self {
        match err {
            RunError::InProgress(running) => Self::RunInProgress(running),
            RunError::Changed => Self::Internal("a payout run changed under its runner".into()),
            RunError::Store(err) => Self::Store(err),
        }
    }
}

/// Starts a payout run of the app: two round trips (the settings, then the run
/// with its lock and `actor`'s audit entry, in one transaction), whatever the
/// app's size.
pub async fn start_run(
    state: &AppState,
    app: &AppId,
    actor: Actor,
) -> Result<PayoutRun, CommandError> {
    let store = state.store();
    let settings = store
        .apps()
        .settings(app)
        .await?
        .ok_or_else(|| CommandError::NotFound(Missing::Settings(app.clone())))?;
    let now = partner_domain::now();
    let run = PayoutRun {
        id: PayoutRunId::generate(),
        app_id: app.clone(),
        status: PayoutRunStatus::Running,
        partners_done: 0,
        partners_total: None,
        payouts: 0,
        amount: Money::ZERO,
        currency: settings.currency,
        cursor: None,
        error: None,
        created_at: now,
        updated_at: now,
    };
    let audit = run_audit(&run, actor, AuditAction::PayoutRunStarted);
    store.payout_runs().create(&run, &audit).await?;
    Ok(run)
}

/// The audit entry of a run's start or end (its end is the payout runner's).
fn run_audit(run: &PayoutRun, actor: Actor, action: AuditAction) -> AuditEntry {
    let entry = AuditEntry::new(
        run.app_id.clone(),
        actor,
        action,
        AuditSubject::new(SubjectKind::PayoutRun, &run.id),
    );
    match run.status {
        PayoutRunStatus::Running => entry,
        PayoutRunStatus::Completed => entry.with_summary(format!(
            "{} partners, {} payouts, {} {}",
            run.partners_done,
            run.payouts,
            Amount::new(run.amount, &run.currency).fixed(),
            run.currency.as_str()
        )),
        PayoutRunStatus::Failed => entry.with_summary(run.error.clone().unwrap_or_default()),
    }
}

/// A run of the app, as far as it has got.
pub async fn get_run(
    state: &AppState,
    app: &AppId,
    id: &PayoutRunId,
) -> Result<PayoutRun, CommandError> {
    state
        .store()
        .payout_runs()
        .get(app, id)
        .await?
        .ok_or(CommandError::NotFound(Missing::PayoutRun))
}

/// What one runner invocation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunnerReport {
    pub pages: u32,
    pub payouts: u32,
    pub runs_completed: u32,
}

/// Works on the running runs until `deadline`: at least one page of the first,
/// then more pages and runs while time is left (checked after each page, so an
/// invocation ends at most one page after it).
pub async fn work_runs(state: &AppState, deadline: Instant) -> Result<RunnerReport, CommandError> {
    let mut report = RunnerReport::default();
    let running = state
        .store()
        .payout_runs()
        .running(RUNS_PER_INVOCATION)
        .await?;
    for (n, reference) in running.iter().enumerate() {
        // The first run always gets its page, so a short invocation still moves on.
        if n > 0 && Instant::now() >= deadline {
            break;
        }
        work_run(state, reference, deadline, &mut report).await?;
    }
    Ok(report)
}

async fn work_run(
    state: &AppState,
    reference: &RunRef,
    deadline: Instant,
    report: &mut RunnerReport,
) -> Result<(), CommandError> {
    let store = state.store();
    let runs = store.payout_runs();
    let app = &reference.app_id;
    let Some(mut run) = runs.get(app, &reference.run_id).await? else {
        return Ok(runs.forget(reference).await?);
    };
    if run.status != PayoutRunStatus::Running {
        return Ok(runs.forget(reference).await?);
    }
    let Some(settings) = store.apps().settings(app).await? else {
        let failed = PayoutRun {
            status: PayoutRunStatus::Failed,
            error: Some("the app has no program settings".into()),
            updated_at: partner_domain::now(),
            ..run.clone()
        };
        let audit = run_audit(&failed, Actor::System, AuditAction::PayoutRunFailed);
        return Ok(runs.finish(&run, &failed, &audit).await?);
    };
    if run.partners_total.is_none() {
        let counted = PayoutRun {
            partners_total: Some(store.affiliates().count(app).await?),
            updated_at: partner_domain::now(),
            ..run.clone()
        };
        runs.save(&run, &counted).await?;
        run = counted;
    }
    // At least one page per invocation, so every invocation makes progress.
    loop {
        let affiliates = store.affiliates();
        let (partners, next) = match affiliates
            .list(app, PARTNERS_PER_PAGE, run.cursor.clone())
            .await
        {
            // A cursor saved before the partner listing was spread over partitions:
            // walk again from the start. Partners paid already have nothing left
            // to pay, so nobody is paid twice.
            Err(partner_store::StoreError::InvalidCursor) if run.cursor.is_some() => {
                affiliates.list(app, PARTNERS_PER_PAGE, None).await?
            }
            page => page?,
        };
        let paid = pay_page(state, &settings, &partners).await?;
        report.pages += 1;
        report.payouts += paid.len() as u32;
        let done = run.partners_done + partners.len() as u32;
        let after = PayoutRun {
            partners_done: done,
            // Partners approved during the run can make the count grow.
            partners_total: run.partners_total.map(|total| total.max(done)),
            payouts: run.payouts + paid.len() as u32,
            amount: Money(run.amount.minor() + paid.iter().map(|p| p.amount.minor()).sum::<i64>()),
            status: if next.is_some() {
                PayoutRunStatus::Running
            } else {
                PayoutRunStatus::Completed
            },
            cursor: next,
            updated_at: partner_domain::now(),
            ..run.clone()
        };
        if after.status == PayoutRunStatus::Completed {
            let audit = run_audit(&after, Actor::System, AuditAction::PayoutRunCompleted);
            runs.finish(&run, &after, &audit).await?;
            report.runs_completed += 1;
            tracing::info!(
                app = %app,
                run = %run.id,
                partners = after.partners_done,
                payouts = after.payouts,
                "payout run completed"
            );
            return Ok(());
        }
        runs.save(&run, &after).await?;
        run = after;
        if Instant::now() >= deadline {
            return Ok(());
        }
    }
}
