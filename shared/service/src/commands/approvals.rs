//! Approving commissions whose holding period has passed (the scheduled approver).

use std::collections::HashMap;

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::events::{Event, EventType};
use partner_domain::ledger::EntryStatus;
use partner_domain::{Amount, AppId, Currency, Timestamp};
use partner_store::repo::ledger::{DueApproval, EarningsError};

use super::CommandError;
use crate::AppState;
use crate::views::ledger::{ApprovedView, CommissionData};

/// Approves every entry whose holding period has passed. Returns how many. Each
/// approval is audited as the program's own (`system`).
pub async fn approve_due(state: &AppState, now: Timestamp) -> Result<usize, CommandError> {
    let ledger = state.store().ledger();
    let mut approved = 0;
    // The event shows the amount in the program's currency. A currency cannot change
    // once commissions exist, so one read per app serves the whole run.
    let mut currencies: HashMap<AppId, Currency> = HashMap::new();
    loop {
        let due: Vec<DueApproval> = ledger.due_approvals(now, 100).await?;
        if due.is_empty() {
            return Ok(approved);
        }
        let mut events = Vec::new();
        for item in &due {
            let currency = match currencies.get(&item.app_id) {
                Some(currency) => currency.clone(),
                None => {
                    let currency = state
                        .store()
                        .apps()
                        .settings(&item.app_id)
                        .await?
                        .unwrap_or_default()
                        .currency;
                    currencies.insert(item.app_id.clone(), currency.clone());
                    currency
                }
            };
            let data = CommissionData {
                commission: ApprovedView {
                    id: item.commission_id.clone(),
                    amount: Amount::new(item.amount, &currency),
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
