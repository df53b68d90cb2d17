//! Approving commissions whose holding period has passed (the scheduled approver).

use partner_domain::Timestamp;
use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::events::{Event, EventType};
use partner_domain::ledger::EntryStatus;
use partner_store::repo::ledger::{DueApproval, EarningsError};

use super::CommandError;
use crate::AppState;
use crate::views::ledger::{ApprovedView, CommissionData};

/// Approves every entry whose holding period has passed. Returns how many. Each
/// approval is audited as the program's own (`system`).
pub async fn approve_due(state: &AppState, now: Timestamp) -> Result<usize, CommandError> {
    let ledger = state.store().ledger();
    let mut approved = 0;
    loop {
        let due: Vec<DueApproval> = ledger.due_approvals(now, 100).await?;
        if due.is_empty() {
            return Ok(approved);
        }
        let mut events = Vec::new();
        for item in &due {
            let data = CommissionData {
                commission: ApprovedView {
                    id: item.commission_id.clone(),
                    amount: item.amount,
                    status: EntryStatus::Approved,
                },
            };
            let event = Event::of(
                EventType::CommissionApproved,
                item.app_id.clone(),
                &data,
                now,
            );
            let audit = AuditEntry::new(
                item.app_id.clone(),
                Actor::System,
                AuditAction::CommissionApproved,
                AuditSubject::new(SubjectKind::Commission, &item.commission_id),
            );
            match ledger.approve(item, &event, &audit).await {
                Ok(()) => {
                    approved += 1;
                    events.push(event);
                }
                // Approved meanwhile by a concurrent run.
                Err(EarningsError::Changed) => {}
                Err(other) => return Err(other.into()),
            }
        }
        state.publisher().publish(state.store(), &events).await;
    }
}
