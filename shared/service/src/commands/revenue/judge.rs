//! Judging one revenue event: a payment by the partner's group's rules, line by
//! line; a refund against its payment, at that payment's rate and with its rule.
//! What it decides is written by the caller, in one transaction.

use partner_domain::events::{Event, EventType};
use partner_domain::ledger::{
    CommissionId, Entry, EntryKind, EntryStatus, PaymentRecord, Referral, commission,
};
use partner_domain::records::{Affiliate, AffiliateStatus, ProgramSettings};
use partner_domain::rewards::{Facts, GroupId, Line, Rule, Tier, evaluate};
use partner_domain::{AppId, Money, RateBps, Timestamp};
use partner_store::repo::groups::GroupSet;
use partner_store::repo::ledger::{NewEntry, ReferralChange, RevenueChange, RevenueContext};

use super::{NoCommission, RevenueKind, RevenueRequest};
use crate::AppState;
use crate::commands::CommandError;
use crate::views::ledger::{CommissionData, EntryView};

/// What a revenue event makes: its entries (none, with the reason), and how it
/// changes the customer's referral, the refunded payment and the partner.
#[derive(Debug, Clone, Default)]
pub(super) struct Judged {
    pub entries: Vec<NewEntry>,
    pub reason: Option<NoCommission>,
    pub change: RevenueChange,
}

impl Judged {
    pub(super) fn none(reason: NoCommission) -> Self {
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
pub(super) async fn judge(
    state: &AppState,
    app: &AppId,
    request: &RevenueRequest,
    referral: &Referral,
    settings: &ProgramSettings,
    context: &RevenueContext,
) -> Result<Judged, CommandError> {
    let Some(partner_store::repo::ledger::EarningPartner {
        affiliate,
        paying_customers,
        summary,
    }) = state
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
    judged.change.summary = summary;
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
                judged.change.conversion = Some(affiliate.customer_id.clone());
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
