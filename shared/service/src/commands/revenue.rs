//! Turning the app's revenue into ledger entries: a commission for a payment, a
//! reversal for a refund.

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::events::Event;
use partner_domain::ledger::Entry;
use partner_domain::rewards::Line;
use partner_domain::{Amount, AppId, Currency, CustomerId, Money, Timestamp};
use partner_store::repo::ledger::EarningsError;
use partner_store::{StoreError, WriteOp};
use serde_json::Value;

use super::{CommandError, Missing};
use crate::views::ledger::{EntryView, RevenueView};
use crate::{AppState, Tenant};

mod judge;

use judge::{Judged, judge};

/// Attempts at recording revenue when a concurrent payment or refund of the same
/// customer changed what can be reversed, or one of the same partner changed its
/// summary first. Under `make stress` (16 clients paying for 20 customers), 3
/// attempts without a pause left 1 in 2,000 payments with a 409; since every payment
/// of a partner changes its summary, 12 payments for one partner at once on
/// DynamoDB (moto, on a loaded machine) still ran out of 8. Each failed attempt
/// means another payment went through, so 16 cover 16 colliding at once.
const REVENUE_ATTEMPTS: u32 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevenueKind {
    Payment,
    Refund,
}

impl RevenueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::Refund => "refund",
        }
    }
}

/// A revenue event reported by the app, parsed.
#[derive(Debug, Clone)]
pub struct RevenueRequest {
    pub event_id: String,
    pub customer: CustomerId,
    pub amount: Money,
    pub currency: Currency,
    pub kind: RevenueKind,
    pub occurred_at: Option<Timestamp>,
    /// Until then, a payment of a customer nobody referred yet is not recorded but
    /// refused with [`CommandError::AttributionPending`], so its sender retries
    /// once the attribution may have arrived (Stripe's events come in any order).
    /// `None` records it at once (the revenue API).
    pub await_referral_until: Option<Timestamp>,
    /// A payment's lines (products and amounts summing to `amount`); empty: one
    /// line of the whole amount.
    pub lines: Vec<Line>,
    /// A refund's payment (its event id): the refund reverses that payment's
    /// commissions. `None`: the customer's latest payment.
    pub refunds_payment: Option<String>,
}

/// Records revenue: idempotent by `eventId` (a repeat returns the first result and
/// changes nothing). Returns the result and whether this call recorded it.
pub async fn revenue(
    state: &AppState,
    tenant: &Tenant,
    request: RevenueRequest,
) -> Result<(Value, bool), CommandError> {
    let recorded = record(state, &tenant.app_id, &tenant.actor(), request, &|_| {
        Ok(Vec::new())
    })
    .await?;
    Ok((recorded.result, recorded.fresh))
}

/// What recording revenue did.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The result as the revenue API answers it (the first one, for a repeat).
    pub result: Value,
    /// This call recorded it (`false`: the event id was recorded before).
    pub fresh: bool,
    /// The entry it made, or why it made none (both `None` for a repeat).
    pub entry: Option<Entry>,
    pub reason: Option<NoCommission>,
}

/// Writes that must land with the revenue record or not at all, given the entry it
/// makes or why it makes none (the Stripe integration logs its event with them).
pub type AlsoWrite<'a> =
    dyn Fn(Result<&Entry, NoCommission>) -> Result<Vec<WriteOp>, StoreError> + Sync + 'a;

/// Records revenue reported by `actor`, idempotent by `eventId`, with what `also`
/// adds to its transaction.
pub async fn record(
    state: &AppState,
    app: &AppId,
    actor: &Actor,
    request: RevenueRequest,
    also: &AlsoWrite<'_>,
) -> Result<Recorded, CommandError> {
    let ledger = state.store().ledger();
    for attempt in 0..REVENUE_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let context = ledger
            .revenue_context(
                app,
                &request.event_id,
                &request.customer,
                request.refunds_payment.as_deref(),
            )
            .await?;
        if let Some(result) = context.earlier {
            return Ok(Recorded {
                result,
                fresh: false,
                entry: None,
                reason: None,
            });
        }
        let settings = context
            .settings
            .as_ref()
            .ok_or_else(|| CommandError::NotFound(Missing::Settings(app.clone())))?;
        if context.referral.is_none()
            && request
                .await_referral_until
                .is_some_and(|until| partner_domain::now() < until)
        {
            return Err(CommandError::AttributionPending);
        }
        if context.referral.is_some()
            && request.refunds_payment.is_some()
            && context.payment.is_none()
        {
            return Err(CommandError::NotFound(Missing::Payment));
        }
        let judged = match &context.referral {
            // Recorded, never converted: the program pays in its own currency only.
            _ if request.currency != settings.currency => Judged::none(NoCommission::OtherCurrency),
            None => Judged::none(NoCommission::NotReferred),
            Some(referral) => judge(state, app, &request, referral, settings, &context).await?,
        };
        let result = revenue_result(&request, &judged);
        let audit = revenue_audit(app, actor, &request, &judged);
        let first = judged.entries.first().map(|new| &new.entry);
        let extra = also(first.ok_or(judged.reason.unwrap_or(NoCommission::NothingToEarn)))?;
        match ledger
            .record_revenue(
                app,
                &request.event_id,
                &result,
                &judged.entries,
                &judged.change,
                extra,
                &audit,
            )
            .await
        {
            Ok(()) => {
                let events: Vec<Event> =
                    judged.entries.iter().map(|new| new.event.clone()).collect();
                if !events.is_empty() {
                    state.publisher().publish(state.store(), &events).await;
                }
                return Ok(Recorded {
                    result,
                    fresh: true,
                    entry: judged.entries.into_iter().next().map(|new| new.entry),
                    reason: judged.reason,
                });
            }
            // Another call recorded the same event id first, or a concurrent payment
            // or refund of the customer changed what this one may earn or reverse:
            // read again and decide again.
            Err(EarningsError::Duplicate) | Err(EarningsError::Changed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(CommandError::RevenueCollided)
}

/// A short random pause before another attempt, growing with each one (up to
/// 2^attempt ms, at most 128 ms), so colliding writers stop colliding in step.
async fn back_off(attempt: u32) {
    let mut byte = [0u8; 1];
    partner_domain::random_bytes(&mut byte);
    let ceiling_us = 1_000u64 << attempt.min(7);
    let pause = ceiling_us * u64::from(byte[0]) / 255;
    tokio::time::sleep(std::time::Duration::from_micros(pause)).await;
}

/// Why a revenue event made no ledger entry (the `reason` beside `commission: null`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoCommission {
    /// No partner referred the customer.
    NotReferred,
    /// The referring partner is suspended: its customers' payments are recorded but
    /// earn it nothing, until it is reactivated (and then only from then on).
    PartnerSuspended,
    /// The payment earns nothing at the rate, or the refund finds nothing to reverse.
    NothingToEarn,
    /// The revenue is in another currency than the program's: recorded, never
    /// converted.
    OtherCurrency,
}

impl NoCommission {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotReferred => "not_referred",
            Self::PartnerSuspended => "partner_suspended",
            Self::NothingToEarn => "nothing_to_earn",
            Self::OtherCurrency => "other_currency",
        }
    }
}

/// The audit entry of recorded revenue: by the key that reported it (so revenue
/// forged with a leaked key can be found by the key), with what it earned.
fn revenue_audit(
    app: &AppId,
    actor: &Actor,
    request: &RevenueRequest,
    judged: &Judged,
) -> AuditEntry {
    let action = match request.kind {
        RevenueKind::Payment => AuditAction::RevenueRecorded,
        RevenueKind::Refund => AuditAction::RefundRecorded,
    };
    let major = |money: Money| Amount::new(money, &request.currency).fixed();
    let outcome = if judged.entries.is_empty() {
        format!(
            "no commission ({})",
            judged
                .reason
                .unwrap_or(NoCommission::NothingToEarn)
                .as_str()
        )
    } else {
        judged
            .entries
            .iter()
            .map(|new| {
                format!(
                    "{} {} of {}",
                    new.entry.kind.as_str(),
                    new.entry.id,
                    major(new.entry.amount)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    AuditEntry::new(
        app.clone(),
        actor.clone(),
        action,
        AuditSubject::new(SubjectKind::Revenue, &request.event_id),
    )
    .with_summary(format!(
        "{} of {} {} by customer {}: {outcome}",
        request.kind.as_str(),
        major(request.amount),
        request.currency.as_str(),
        request.customer
    ))
}

fn revenue_result(request: &RevenueRequest, judged: &Judged) -> Value {
    let commissions: Vec<EntryView> = judged
        .entries
        .iter()
        .map(|new| EntryView::from(&new.entry))
        .collect();
    let reason = if commissions.is_empty() {
        Some(
            judged
                .reason
                .unwrap_or(NoCommission::NothingToEarn)
                .as_str(),
        )
    } else {
        None
    };
    let view = RevenueView {
        event_id: request.event_id.clone(),
        customer_id: request.customer.clone(),
        kind: request.kind.as_str(),
        amount: Amount::new(request.amount, &request.currency),
        currency: request.currency.clone(),
        occurred_at: request.occurred_at,
        commission: commissions.first().cloned(),
        commissions,
        reason,
    };
    // A struct with string keys always serialises; `Null` is unreachable.
    serde_json::to_value(view).unwrap_or(Value::Null)
}
