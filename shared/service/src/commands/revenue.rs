//! Turning the app's revenue into ledger entries: a commission for a payment, a
//! reversal for a refund.

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::events::{Event, EventType};
use partner_domain::ledger::{
    CommissionId, Entry, EntryKind, EntryStatus, PaymentRecord, Referral, commission,
};
use partner_domain::records::{Affiliate, AffiliateStatus, ProgramSettings};
use partner_domain::rewards::{Facts, GroupId, Line, Rule, Tier, evaluate};
use partner_domain::{Amount, AppId, Currency, CustomerId, Money, RateBps, Timestamp};
use partner_store::repo::groups::GroupSet;
use partner_store::repo::ledger::{
    EarningsError, NewEntry, ReferralChange, RevenueChange, RevenueContext,
};
use partner_store::{StoreError, WriteOp};
use serde_json::Value;

use super::{CommandError, Missing};
use crate::views::ledger::{CommissionData, EntryView, RevenueView};
use crate::{AppState, Tenant};

/// Attempts at recording revenue when a concurrent payment or refund of the same
/// customer changed what can be reversed. Under `make stress` (16 clients paying for
/// 20 customers), 3 attempts without a pause left 1 in 2,000 payments with a 409.
const REVENUE_ATTEMPTS: u32 = 8;

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
/// 2^attempt ms), so colliding writers stop colliding in step.
async fn back_off(attempt: u32) {
    let mut byte = [0u8; 1];
    partner_domain::random_bytes(&mut byte);
    let ceiling_us = 1_000u64 << attempt.min(6);
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

/// What a revenue event makes: its entries (none, with the reason), and how it
/// changes the customer's referral, the refunded payment and the partner.
#[derive(Debug, Clone, Default)]
struct Judged {
    entries: Vec<NewEntry>,
    reason: Option<NoCommission>,
    change: RevenueChange,
}

impl Judged {
    fn none(reason: NoCommission) -> Self {
        Self {
            reason: Some(reason),
            ..Self::default()
        }
    }
}

/// The partner's terms: its group's rules, tiers and holding period, or the
/// program's (the default group) when it has no group or its group is gone.
fn terms<'a>(
    settings: &ProgramSettings,
    groups: &'a GroupSet,
    group: Option<&GroupId>,
) -> (Vec<Rule>, &'a [Tier], u32) {
    match group.and_then(|id| groups.find(id)) {
        Some(group) => (
            group.rules.clone(),
            &group.tiers,
            group
                .holding_period_days
                .unwrap_or(settings.holding_period_days),
        ),
        None => (
            vec![Rule::default_rule(settings.default_commission_rate)],
            &[],
            settings.holding_period_days,
        ),
    }
}

/// Judges a referred customer's payment (by the partner's rules, line by line) or
/// refund (reversing its payment's commissions at that payment's rate, never more
/// than the payment earned and is left). A suspended partner earns nothing new,
/// but refunds still reverse what it earned.
async fn judge(
    state: &AppState,
    app: &AppId,
    request: &RevenueRequest,
    referral: &Referral,
    settings: &ProgramSettings,
    context: &RevenueContext,
) -> Result<Judged, CommandError> {
    let Some((affiliate, paying_customers)) = state
        .store()
        .ledger()
        .earning_partner(app, &referral.affiliate_customer_id)
        .await?
    else {
        return Ok(Judged::none(NoCommission::NotReferred));
    };
    let now = partner_domain::now();
    let (rules, tiers, holding_days) =
        terms(settings, &context.groups, affiliate.group_id.as_ref());
    let holding = time::Duration::days(i64::from(holding_days));
    let mut judged = Judged::default();
    let mut earned = Money::ZERO;
    let mut last_payment = referral.last_payment.clone();
    let mut first_payment_at = None;
    let mut payments = None;
    let mut pending_until = None;
    match request.kind {
        RevenueKind::Payment => {
            let occurred_at = request.occurred_at.unwrap_or(now);
            let lines = if request.lines.is_empty() {
                vec![Line {
                    product_id: None,
                    amount: request.amount,
                }]
            } else {
                request.lines.clone()
            };
            let (payments_before, first_paid) = referral.payment_history();
            let facts = Facts {
                occurred_at,
                payments_before,
                first_payment_at: first_paid,
                paying_customers_before: paying_customers,
                own_rate: affiliate.commission_rate,
            };
            let rewards = if affiliate.status == AffiliateStatus::Active {
                evaluate(&rules, tiers, &lines, &facts)
            } else {
                judged.reason = Some(NoCommission::PartnerSuspended);
                Vec::new()
            };
            let (status, approves_at) = if holding.is_zero() {
                (EntryStatus::Approved, now)
            } else {
                (EntryStatus::Pending, now + holding)
            };
            for reward in &rewards {
                let entry = new_entry(
                    app,
                    &affiliate,
                    request,
                    settings,
                    (EntryKind::Commission, reward.amount, reward.line.amount),
                    reward.rate.unwrap_or(RateBps(0)),
                    (
                        Some(reward.rule_id.clone()),
                        reward.tier,
                        reward.line.product_id.clone(),
                    ),
                    (status, approves_at, now),
                );
                earned = Money(earned.minor() + reward.amount.minor());
                judged.entries.push(entry);
            }
            if status == EntryStatus::Pending && !rewards.is_empty() {
                pending_until = Some(approves_at);
            }
            if payments_before == 0 && first_paid.is_none() {
                first_payment_at = Some(occurred_at);
                judged.change.new_paying_customer = Some(affiliate.customer_id.clone());
            } else if referral.first_payment_at.is_none() {
                // A referral from before payments were counted: keep what its
                // history was taken to be.
                first_payment_at = first_paid;
            }
            payments = Some(payments_before.saturating_add(1));
            let record = PaymentRecord {
                event_id: request.event_id.clone(),
                amount: request.amount,
                earned,
                reversed: Money::ZERO,
                rule_id: rewards.first().map(|r| r.rule_id.clone()),
                tier: rewards.first().and_then(|r| r.tier),
            };
            judged.change.payment = Some(record.clone());
            // Refunds that name no payment reverse at the rate of the latest payment
            // that earned something.
            if earned.minor() > 0 {
                last_payment = Some(record);
            }
            if !rewards.is_empty() {
                judged.change.conversion = Some(affiliate.id.clone());
            }
        }
        RevenueKind::Refund => {
            // The payment it refunds: the one named (never reversing more than that
            // payment earned), else at the rate of the customer's latest earning
            // payment; never more than the customer earned in all.
            let reversible = referral.earned.minor().max(0);
            // The payment held to account: (its event id, what was reversed of it
            // when read if named).
            let mut target: Option<(String, Option<Money>)> = None;
            let (reversal, rate, rule, tier) = match (&context.payment, &referral.last_payment) {
                (Some(payment), _) => {
                    target = Some((payment.event_id.clone(), Some(payment.reversed)));
                    (
                        payment.reversal_for(request.amount).minor().min(reversible),
                        effective_rate(payment),
                        payment.rule_id.clone(),
                        payment.tier,
                    )
                }
                (None, Some(latest)) => {
                    target = Some((latest.event_id.clone(), None));
                    (
                        latest.share_of(request.amount).minor().min(reversible),
                        effective_rate(latest),
                        latest.rule_id.clone(),
                        latest.tier,
                    )
                }
                // A customer whose payments were recorded before payments kept their
                // record: at the partner's percentage.
                (None, None) => {
                    let rate = affiliate
                        .commission_rate
                        .unwrap_or(settings.default_commission_rate);
                    (
                        commission(request.amount, rate).minor().min(reversible),
                        rate,
                        None,
                        None,
                    )
                }
            };
            if reversal > 0 {
                // A reversal approves together with the customer's latest commission
                // still pending (so the two cancel before either can be paid out), or
                // at once when none is pending (it then comes off the available
                // balance, and so off the next payout).
                let (status, approves_at) =
                    match referral.pending_until.filter(|until| *until > now) {
                        Some(until) => (EntryStatus::Pending, until),
                        None => (EntryStatus::Approved, now),
                    };
                judged.entries.push(new_entry(
                    app,
                    &affiliate,
                    request,
                    settings,
                    (EntryKind::Reversal, Money(-reversal), request.amount),
                    rate,
                    (rule, tier, None),
                    (status, approves_at, now),
                ));
                earned = Money(-reversal);
                if let Some((payment, before)) = target {
                    // What refunds reversed of a payment, on its record and on the
                    // referral's copy of the latest, so a refund naming it later
                    // reverses only what is left.
                    if let Some(last) = last_payment.as_mut().filter(|l| l.event_id == payment) {
                        last.reversed = Money(last.reversed.minor() + reversal);
                    }
                    judged.change.refunded = Some((payment, before, Money(reversal)));
                }
            }
        }
    }
    if judged.entries.is_empty() && judged.reason.is_none() {
        judged.reason = Some(NoCommission::NothingToEarn);
    }
    judged.change.referral = Some(ReferralChange {
        customer: request.customer.clone(),
        revision_before: referral.revision,
        earned,
        payments,
        first_payment_at,
        last_payment,
        pending_until,
    });
    Ok(judged)
}

/// What a payment's commissions came to, as a rate of the payment.
fn effective_rate(payment: &PaymentRecord) -> RateBps {
    if payment.amount.minor() <= 0 {
        return RateBps(0);
    }
    let bps = i128::from(payment.earned.minor()) * 10_000 / i128::from(payment.amount.minor());
    RateBps(u32::try_from(bps.max(0)).unwrap_or(u32::MAX))
}

/// One new entry and its event. `money` is (kind, amount, the revenue it was
/// computed on); `origin` (rule, tier, product); `timing` (status, approval, now).
#[allow(clippy::too_many_arguments)]
fn new_entry(
    app: &AppId,
    affiliate: &Affiliate,
    request: &RevenueRequest,
    settings: &ProgramSettings,
    money: (EntryKind, Money, Money),
    rate: RateBps,
    origin: (Option<String>, Option<u32>, Option<String>),
    timing: (EntryStatus, Timestamp, Timestamp),
) -> NewEntry {
    let (kind, amount, revenue_amount) = money;
    let (rule_id, tier, product_id) = origin;
    let (status, approves_at, now) = timing;
    let entry = Entry {
        id: CommissionId::generate(),
        app_id: app.clone(),
        affiliate_id: affiliate.id.clone(),
        affiliate_customer_id: affiliate.customer_id.clone(),
        customer_id: request.customer.clone(),
        kind,
        amount,
        currency: settings.currency.clone(),
        revenue_amount,
        rate,
        revenue_event_id: request.event_id.clone(),
        status,
        created_at: now,
        approves_at,
        payout_id: None,
        rule_id,
        tier,
        product_id,
    };
    let event_type = match kind {
        EntryKind::Commission => EventType::CommissionCreated,
        EntryKind::Reversal => EventType::CommissionReversed,
    };
    let data = CommissionData {
        commission: EntryView::from(&entry),
    };
    let event = Event::of(event_type, app.clone(), &data, now);
    NewEntry { entry, event }
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
