//! Earnings: tracking clicks, attributing customers, turning revenue into
//! commissions, approving them after the holding period, and paying them out.

use partner_domain::events::{Event, EventType};
use partner_domain::ledger::{
    Click, ClickId, CommissionId, Entry, EntryKind, EntryStatus, Payout, PayoutId, PayoutStatus,
    Referral, commission,
};
use partner_domain::records::{Affiliate, AffiliateStatus, ProgramSettings};
use partner_domain::{AppId, Currency, CustomerId, Email, Money, ReferralCode, Timestamp};
use partner_store::repo::earnings::{CodeTarget, DueApproval, EarningsError, NewEntry, Payable};
use partner_store::repo::payouts::{ENTRIES_PER_CHUNK, OpenPayout};
use serde_json::{Value, json};

use crate::{ApiError, AppState, Tenant};

/// A visitor's clicks on one code count once per this window.
pub const VISIT_WINDOW: time::Duration = time::Duration::hours(1);

/// Attempts at recording revenue when a concurrent payment or refund of the same
/// customer changed what can be reversed. Under `make stress` (16 clients paying for
/// 20 customers), 3 attempts without a pause left 1 in 2,000 payments with a 409.
const REVENUE_ATTEMPTS: u32 = 8;

fn code_not_found() -> ApiError {
    ApiError::not_found(
        "code_not_found",
        "No active partner has this referral code.",
    )
    .with_field("code")
}

fn missing_settings(app: &AppId) -> ApiError {
    ApiError::not_found(
        "app_not_found",
        format!("App {app} has no program settings."),
    )
}

/// The request of `POST /v1/affiliate/track`, parsed.
#[derive(Debug, Clone)]
pub struct TrackRequest {
    pub code: ReferralCode,
    pub url: String,
    pub visitor_id: Option<String>,
    pub referrer: Option<String>,
}

/// Records a referral click for an active partner: one read (code, settings,
/// visitor window) and one write.
pub async fn track(
    state: &AppState,
    tenant: &Tenant,
    request: TrackRequest,
) -> Result<Click, ApiError> {
    let app = &tenant.app_id;
    let earnings = state.store().earnings();
    let (target, settings, visit) = earnings
        .click_context(app, &request.code, request.visitor_id.as_deref())
        .await?;
    let target = target
        .filter(|t| t.status == AffiliateStatus::Active)
        .ok_or_else(code_not_found)?;
    let settings = settings.ok_or_else(|| missing_settings(app))?;
    let now = partner_domain::now();
    let counted = match (&request.visitor_id, visit) {
        (Some(_), Some(previous)) => previous.until <= now.unix_timestamp(),
        _ => true,
    };
    let mut click = Click {
        id: ClickId::generate(),
        app_id: app.clone(),
        affiliate_id: target.affiliate_id,
        code: target.code,
        url: request.url,
        visitor_id: request.visitor_id.clone(),
        referrer: request.referrer,
        counted,
        created_at: now,
        expires_at: now + time::Duration::days(i64::from(settings.cookie_duration_days)),
    };
    let window = request
        .visitor_id
        .map(|_| ((now + VISIT_WINDOW).unix_timestamp(), visit));
    click.counted = earnings.record_click(&click, window).await?;
    Ok(click)
}

/// How a referred customer found the partner.
#[derive(Debug, Clone)]
pub enum Via {
    Click(ClickId),
    Code(ReferralCode),
}

/// Attributes a customer to the partner of a click (while its attribution lasts) or a
/// code. First attribution wins; a partner referring its own customer account is
/// refused (it would earn nothing, so nothing is recorded).
pub async fn refer(
    state: &AppState,
    tenant: &Tenant,
    customer: CustomerId,
    via: Via,
    email: Option<Email>,
) -> Result<Referral, ApiError> {
    let app = &tenant.app_id;
    let earnings = state.store().earnings();
    let now = partner_domain::now();
    let (target, click_id): (CodeTarget, Option<ClickId>) = match via {
        Via::Click(id) => {
            let click = earnings.click(app, &id).await?.ok_or_else(|| {
                ApiError::not_found("click_not_found", "No click with this id.")
                    .with_field("clickId")
            })?;
            if click.expires_at <= now {
                return Err(ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "attribution_expired",
                    "The click's attribution window has passed.",
                )
                .with_field("clickId"));
            }
            let target = earnings
                .code_target(app, &click.code)
                .await?
                .ok_or_else(code_not_found)?;
            (target, Some(id))
        }
        Via::Code(code) => (
            earnings
                .code_target(app, &code)
                .await?
                .ok_or_else(code_not_found)?,
            None,
        ),
    };
    if target.status != AffiliateStatus::Active {
        return Err(code_not_found());
    }
    let self_referral = |field| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "self_referral",
            "A partner cannot refer itself.",
        )
        .with_field(field)
    };
    if target.customer_id == customer {
        return Err(self_referral("customerId"));
    }
    if let Some(email) = &email {
        let partner_email = match &target.email {
            Some(known) => Some(known.clone()),
            // A code approved before its marker kept the email: one more read.
            None => state
                .store()
                .customers()
                .get(app, &target.customer_id)
                .await?
                .map(|c| c.email),
        };
        if partner_email.as_ref() == Some(email) {
            return Err(self_referral("email"));
        }
    }
    let referral = Referral {
        customer_id: customer,
        app_id: app.clone(),
        affiliate_id: target.affiliate_id,
        affiliate_customer_id: target.customer_id,
        click_id,
        email,
        attributed_at: now,
        earned: Money::ZERO,
        pending_until: None,
    };
    match earnings.refer(&referral).await {
        Ok(()) => Ok(referral),
        Err(EarningsError::AlreadyReferred) => Err(ApiError::conflict(
            "already_referred",
            "This customer is already attributed to a partner.",
        )
        .with_field("customerId")),
        Err(EarningsError::Store(err)) => Err(err.into()),
        Err(other) => Err(ApiError::internal(other)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevenueKind {
    Payment,
    Refund,
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
}

/// Records revenue: idempotent by `eventId` (a repeat returns the first result and
/// changes nothing). Returns the result and whether this call recorded it.
pub async fn revenue(
    state: &AppState,
    tenant: &Tenant,
    request: RevenueRequest,
) -> Result<(Value, bool), ApiError> {
    let app = &tenant.app_id;
    let earnings = state.store().earnings();
    for attempt in 0..REVENUE_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (earlier, referral, settings) = earnings
            .revenue_context(app, &request.event_id, &request.customer)
            .await?;
        if let Some(result) = earlier {
            return Ok((result, false));
        }
        let settings = settings.ok_or_else(|| missing_settings(app))?;
        if request.currency != settings.currency {
            return Err(ApiError::invalid_field(partner_domain::FieldError::new(
                "currency",
                format!(
                    "must be the program's currency, {}",
                    settings.currency.as_str()
                ),
            )));
        }
        let entry = match referral {
            None => Err(NoCommission::NotReferred),
            Some(referral) => entry_for(state, app, &request, &referral, &settings).await?,
        };
        let result = revenue_result(&request, &entry);
        let entry = entry.ok();
        match earnings
            .record_revenue(app, &request.event_id, &result, entry.as_ref())
            .await
        {
            Ok(()) => {
                if let Some(new) = entry {
                    state.publisher().publish(state.store(), &[new.event]).await;
                }
                return Ok((result, true));
            }
            // Another call recorded the same event id first, or a concurrent refund
            // changed what this one may reverse: read again and decide again.
            Err(EarningsError::Duplicate) | Err(EarningsError::Changed) => continue,
            Err(EarningsError::Store(err)) => return Err(err.into()),
            Err(other) => return Err(ApiError::internal(other)),
        }
    }
    Err(ApiError::conflict(
        "revenue_conflict",
        "Concurrent revenue events collided; try again.",
    ))
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
}

impl NoCommission {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotReferred => "not_referred",
            Self::PartnerSuspended => "partner_suspended",
            Self::NothingToEarn => "nothing_to_earn",
        }
    }
}

/// The ledger entry a revenue event makes: a commission at the partner's rate for
/// a payment, a reversal (up to what the customer's commissions earned) for a
/// refund, or why there is none (a suspended partner earns nothing new).
async fn entry_for(
    state: &AppState,
    app: &AppId,
    request: &RevenueRequest,
    referral: &Referral,
    settings: &ProgramSettings,
) -> Result<Result<NewEntry, NoCommission>, ApiError> {
    let Some((affiliate, _, _)) = state
        .store()
        .affiliates()
        .by_customer(app, &referral.affiliate_customer_id)
        .await?
    else {
        return Ok(Err(NoCommission::NotReferred));
    };
    // A suspended partner earns nothing new, but refunds still reverse what it earned.
    if affiliate.status != AffiliateStatus::Active && request.kind == RevenueKind::Payment {
        return Ok(Err(NoCommission::PartnerSuspended));
    }
    let rate = affiliate
        .commission_rate
        .unwrap_or(settings.default_commission_rate);
    let (kind, amount, event_type) = match request.kind {
        RevenueKind::Payment => (
            EntryKind::Commission,
            commission(request.amount, rate),
            EventType::CommissionCreated,
        ),
        RevenueKind::Refund => {
            let wanted = commission(request.amount, rate);
            let reversible = Money(wanted.minor().min(referral.earned.minor().max(0)));
            (
                EntryKind::Reversal,
                Money(-reversible.minor()),
                EventType::CommissionReversed,
            )
        }
    };
    if amount == Money::ZERO {
        return Ok(Err(NoCommission::NothingToEarn));
    }
    let now = partner_domain::now();
    let holding = time::Duration::days(i64::from(settings.holding_period_days));
    // A commission waits out the holding period. A reversal approves together with
    // the customer's latest commission still pending (so the two cancel before either
    // can be paid out), or at once when none is pending (it then comes off the
    // available balance, and so off the next payout).
    let (status, approves_at) = match kind {
        EntryKind::Commission if holding.is_zero() => (EntryStatus::Approved, now),
        EntryKind::Commission => (EntryStatus::Pending, now + holding),
        EntryKind::Reversal => match referral.pending_until.filter(|until| *until > now) {
            Some(until) => (EntryStatus::Pending, until),
            None => (EntryStatus::Approved, now),
        },
    };
    let entry = Entry {
        id: CommissionId::generate(),
        app_id: app.clone(),
        affiliate_id: affiliate.id,
        affiliate_customer_id: affiliate.customer_id,
        customer_id: request.customer.clone(),
        kind,
        amount,
        currency: settings.currency.clone(),
        revenue_amount: request.amount,
        rate,
        revenue_event_id: request.event_id.clone(),
        status,
        created_at: now,
        approves_at,
        payout_id: None,
    };
    let event = Event::new(
        event_type,
        app.clone(),
        json!({"commission": entry_view(&entry)}),
        now,
    );
    Ok(Ok(NewEntry {
        entry,
        event,
        referral_customer: request.customer.clone(),
        earned_before: referral.earned,
        conversion: request.kind == RevenueKind::Payment,
    }))
}

/// An entry as the API and events show it (money in major units).
pub fn entry_view(entry: &Entry) -> Value {
    json!({
        "id": entry.id,
        "affiliateId": entry.affiliate_id,
        "customerId": entry.customer_id,
        "kind": entry.kind,
        "amount": entry.amount.to_major_f64(),
        "currency": entry.currency,
        "revenueAmount": entry.revenue_amount.to_major_f64(),
        "rate": entry.rate.to_percent_f64(),
        "revenueEventId": entry.revenue_event_id,
        "status": entry.status,
        "createdAt": rfc3339(entry.created_at),
        "approvesAt": rfc3339(entry.approves_at),
        "payoutId": entry.payout_id,
    })
}

/// A payout as the API and events show it.
pub fn payout_view(payout: &Payout) -> Value {
    json!({
        "id": payout.id,
        "affiliateId": payout.affiliate_id,
        "amount": payout.amount.to_major_f64(),
        "currency": payout.currency,
        "commissionCount": payout.entry_count.max(payout.entry_ids.len() as u32),
        "status": payout.status,
        "reference": payout.reference,
        "createdAt": rfc3339(payout.created_at),
        "paidAt": payout.paid_at.map(rfc3339),
    })
}

fn rfc3339(at: Timestamp) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn revenue_result(request: &RevenueRequest, entry: &Result<NewEntry, NoCommission>) -> Value {
    let (commission, reason) = match entry {
        Ok(new) => (Some(entry_view(&new.entry)), None),
        Err(why) => (None, Some(why.as_str())),
    };
    json!({
        "eventId": request.event_id,
        "customerId": request.customer,
        "type": match request.kind { RevenueKind::Payment => "payment", RevenueKind::Refund => "refund" },
        "amount": request.amount.to_major_f64(),
        "currency": request.currency,
        "occurredAt": request.occurred_at.map(rfc3339),
        "commission": commission,
        "reason": reason,
    })
}

/// Approves every entry whose holding period has passed. Returns how many.
pub async fn approve_due(state: &AppState, now: Timestamp) -> Result<usize, ApiError> {
    let earnings = state.store().earnings();
    let mut approved = 0;
    loop {
        let due: Vec<DueApproval> = earnings.due_approvals(now, 100).await?;
        if due.is_empty() {
            return Ok(approved);
        }
        let mut events = Vec::new();
        for item in &due {
            let event = Event::new(
                EventType::CommissionApproved,
                item.app_id.clone(),
                json!({"commission": {"id": item.commission_id, "amount": item.amount.to_major_f64(), "status": "approved"}}),
                now,
            );
            match earnings.approve(item, &event).await {
                Ok(()) => {
                    approved += 1;
                    events.push(event);
                }
                Err(EarningsError::Changed) => {}
                Err(EarningsError::Store(err)) => return Err(err.into()),
                Err(other) => return Err(ApiError::internal(other)),
            }
        }
        state.publisher().publish(state.store(), &events).await;
    }
}

/// One payout per active partner whose available balance reaches
/// `minPayoutAmount`, paying all of it: every approved entry created before the run
/// started, however many (in chunks, see `partner_store::repo::payouts`). A payout
/// an earlier run left open is finished first, whatever the balance.
pub async fn create_payouts(state: &AppState, app: &AppId) -> Result<Vec<Payout>, ApiError> {
    let store = state.store();
    let settings = store
        .apps()
        .settings(app)
        .await?
        .ok_or_else(|| missing_settings(app))?;
    let mut payouts = Vec::new();
    let mut cursor = None;
    loop {
        let (affiliates, next) = store.affiliates().list(app, 100, cursor).await?;
        for affiliate in affiliates {
            if let Some(payout) = pay_partner(state, &settings, &affiliate).await? {
                payouts.push(payout);
            }
        }
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(payouts),
        }
    }
}

/// Pays one partner's available balance, or resumes the payout a run left open.
async fn pay_partner(
    state: &AppState,
    settings: &ProgramSettings,
    affiliate: &Affiliate,
) -> Result<Option<Payout>, ApiError> {
    let store = state.store();
    let payouts = store.payouts();
    let app = &affiliate.app_id;
    let customer = &affiliate.customer_id;
    let open = match payouts.open(app, customer).await? {
        Some(open) => open,
        None => {
            // A suspended partner is paid nothing while suspended; its balance waits.
            if affiliate.status != AffiliateStatus::Active {
                return Ok(None);
            }
            let balance = store.earnings().balances(app, customer).await?;
            if balance.available < settings.min_payout_amount.minor() || balance.available <= 0 {
                return Ok(None);
            }
            let open = OpenPayout {
                payout_id: PayoutId::generate(),
                affiliate_id: affiliate.id.clone(),
                started_at: partner_domain::now(),
                amount: 0,
                entries: 0,
                available_at_start: balance.available,
            };
            match payouts.start(app, customer, &open).await {
                Ok(()) => open,
                // A concurrent run opened one first: it pays this partner.
                Err(EarningsError::Changed) => return Ok(None),
                Err(err) => return Err(earnings_error(err)),
            }
        }
    };
    pay_pass(state, affiliate, &open, Pass::Payable).await?;
    // The running totals include what a run that died before this one paid.
    let Some(mut paid) = payouts.open(app, customer).await? else {
        return Ok(None);
    };
    if paid.amount != paid.available_at_start {
        // The payable items do not add up to the balance: entries approved before
        // payable items existed (commissions, or reversals that lower it) are left.
        // Find them the long way.
        pay_pass(state, affiliate, &open, Pass::Walk).await?;
        let Some(again) = payouts.open(app, customer).await? else {
            return Ok(None);
        };
        paid = again;
    }
    if paid.entries == 0 {
        payouts
            .abandon(app, customer)
            .await
            .map_err(earnings_error)?;
        return Ok(None);
    }
    let payout = Payout {
        id: paid.payout_id.clone(),
        app_id: app.clone(),
        affiliate_id: affiliate.id.clone(),
        affiliate_customer_id: customer.clone(),
        amount: Money(paid.amount),
        currency: settings.currency.clone(),
        entry_count: paid.entries,
        entry_ids: Vec::new(),
        status: PayoutStatus::Pending,
        reference: None,
        created_at: paid.started_at,
        paid_at: None,
    };
    let event = Event::new(
        EventType::PayoutCreated,
        app.clone(),
        json!({"payout": payout_view(&payout)}),
        partner_domain::now(),
    );
    match payouts.finish(&payout, &paid, &event).await {
        Ok(()) => {
            state.publisher().publish(store, &[event]).await;
            Ok(Some(payout))
        }
        // A concurrent run finished it.
        Err(EarningsError::Changed) => Ok(None),
        Err(err) => Err(earnings_error(err)),
    }
}

/// Where a payout pass finds what to pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// The partner's payable items: approved, unpaid entries only.
    Payable,
    /// All the partner's entries, for those approved before payable items existed.
    Walk,
}

/// Pays everything one pass finds into the open payout, in full chunks across
/// pages (the fewest transactions).
async fn pay_pass(
    state: &AppState,
    affiliate: &Affiliate,
    open: &OpenPayout,
    pass: Pass,
) -> Result<(), ApiError> {
    let payouts = state.store().payouts();
    let (app, customer) = (&affiliate.app_id, &affiliate.customer_id);
    let mut waiting: Vec<Payable> = Vec::new();
    let mut cursor = None;
    loop {
        let (found, next) = match pass {
            Pass::Payable => payouts.payable(app, customer, open, cursor).await?,
            Pass::Walk => payouts.payable_by_walking(app, open, cursor).await?,
        };
        waiting.extend(found);
        while waiting.len() >= ENTRIES_PER_CHUNK || (next.is_none() && !waiting.is_empty()) {
            let rest = waiting.split_off(waiting.len().min(ENTRIES_PER_CHUNK));
            pay_chunk(state, affiliate, open, &waiting).await?;
            waiting = rest;
        }
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(()),
        }
    }
}

/// Pays one chunk into the open payout; if an entry changed meanwhile (a concurrent
/// run paid it), pays those still approved.
async fn pay_chunk(
    state: &AppState,
    affiliate: &Affiliate,
    open: &OpenPayout,
    chunk: &[Payable],
) -> Result<(), ApiError> {
    let payouts = state.store().payouts();
    let (app, customer) = (&affiliate.app_id, &affiliate.customer_id);
    match payouts.pay_chunk(app, customer, open, chunk).await {
        Ok(()) => Ok(()),
        Err(EarningsError::Changed) => {
            let still: Vec<Payable> = payouts
                .reread(app, chunk)
                .await?
                .into_iter()
                .filter(|e| e.status == EntryStatus::Approved)
                .map(|e| Payable {
                    commission_id: e.id,
                    amount: e.amount.minor(),
                    since: e.created_at,
                })
                .collect();
            if still.is_empty() {
                return Ok(());
            }
            payouts
                .pay_chunk(app, customer, open, &still)
                .await
                .map_err(earnings_error)
        }
        Err(err) => Err(earnings_error(err)),
    }
}

fn earnings_error(err: EarningsError) -> ApiError {
    match err {
        EarningsError::Store(err) => err.into(),
        other => ApiError::internal(other),
    }
}

/// Marks a pending payout paid (with an optional bank or transfer reference).
pub async fn mark_paid(
    state: &AppState,
    app: &AppId,
    id: &PayoutId,
    reference: Option<String>,
) -> Result<Payout, ApiError> {
    let store = state.store();
    let payout = store.earnings().payout(app, id).await?.ok_or_else(|| {
        ApiError::not_found("payout_not_found", "No payout with this id in this app.")
    })?;
    if payout.status != PayoutStatus::Pending {
        return Err(ApiError::conflict(
            "payout_already_paid",
            "The payout is already marked paid.",
        ));
    }
    let now = partner_domain::now();
    let paid = Payout {
        status: PayoutStatus::Paid,
        reference,
        paid_at: Some(now),
        ..payout
    };
    let event = Event::new(
        EventType::PayoutPaid,
        app.clone(),
        json!({"payout": payout_view(&paid)}),
        now,
    );
    match store.earnings().mark_paid(&paid, &event).await {
        Ok(()) => {
            state.publisher().publish(store, &[event]).await;
            Ok(paid)
        }
        Err(EarningsError::Changed) => Err(ApiError::conflict(
            "payout_already_paid",
            "The payout is already marked paid.",
        )),
        Err(EarningsError::Store(err)) => Err(err.into()),
        Err(other) => Err(ApiError::internal(other)),
    }
}
