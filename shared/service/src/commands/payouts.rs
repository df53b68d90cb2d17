//! Paying partners their balances, and marking a payout paid.

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::events::{Event, EventType};
use partner_domain::ledger::{EntryStatus, Payout, PayoutId, PayoutStatus};
use partner_domain::records::{Affiliate, AffiliateStatus, ProgramSettings};
use partner_domain::{Amount, AppId, Money};

use partner_store::repo::ledger::{EarningsError, Payable};
use partner_store::repo::payouts::{ENTRIES_PER_CHUNK, OpenPayout};

use super::{CommandError, Missing};
use crate::AppState;
use crate::views::ledger::{PayoutData, PayoutView};

/// Pays each partner of a page of the app's partners (see [`super::payout_runs`]):
/// one payout per active partner whose available balance reaches its group's
/// `minPayoutAmount` (else the program's), paying all of it — every approved entry created before its
/// payout started, however many (in chunks, see `partner_store::repo::payouts`). A
/// payout an earlier run left open is finished first, whatever the balance.
pub async fn pay_page(
    state: &AppState,
    settings: &ProgramSettings,
    partners: &[Affiliate],
) -> Result<Vec<Payout>, CommandError> {
    let mut payouts = Vec::new();
    let Some(app) = partners.first().map(|a| a.app_id.clone()) else {
        return Ok(payouts);
    };
    // A partner's group may set its own minimum: one read for the page.
    let groups = state.store().groups().all(&app).await?;
    for affiliate in partners {
        let minimum = affiliate
            .group_id
            .as_ref()
            .and_then(|id| groups.find(id))
            .and_then(|g| g.min_payout_amount)
            .unwrap_or(settings.min_payout_amount);
        if let Some(payout) = pay_partner(state, settings, minimum, affiliate).await? {
            payouts.push(payout);
        }
    }
    Ok(payouts)
}

/// Pays one partner's available balance, or resumes the payout a run left open.
async fn pay_partner(
    state: &AppState,
    settings: &ProgramSettings,
    minimum: Money,
    affiliate: &Affiliate,
) -> Result<Option<Payout>, CommandError> {
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
            let balance = store.ledger().balances(app, customer).await?;
            if balance.available < minimum.minor() || balance.available <= 0 {
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
                Err(err) => return Err(err.into()),
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
        payouts.abandon(app, customer).await?;
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
    let data = PayoutData {
        payout: PayoutView::from(&payout),
    };
    let event = Event::of(
        EventType::PayoutCreated,
        app.clone(),
        &data,
        partner_domain::now(),
    );
    // Payout runs are the payout runner's work, so their payouts are the program's.
    let audit = payout_audit(&payout, Actor::System, AuditAction::PayoutCreated);
    match payouts.finish(&payout, &paid, &event, &audit).await {
        Ok(()) => {
            state.publisher().publish(store, &[event]).await;
            Ok(Some(payout))
        }
        // A concurrent run finished it.
        Err(EarningsError::Changed) => Ok(None),
        Err(err) => Err(err.into()),
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
) -> Result<(), CommandError> {
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
) -> Result<(), CommandError> {
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
                .map_err(CommandError::from)
        }
        Err(err) => Err(err.into()),
    }
}

/// The audit entry of a payout's creation or payment.
fn payout_audit(payout: &Payout, actor: Actor, action: AuditAction) -> AuditEntry {
    AuditEntry::new(
        payout.app_id.clone(),
        actor,
        action,
        AuditSubject::new(SubjectKind::Payout, &payout.id),
    )
    .with_summary(format!(
        "{} {} to partner {} for {} entries",
        Amount::new(payout.amount, &payout.currency).fixed(),
        payout.currency.as_str(),
        payout.affiliate_id,
        payout.entry_count
    ))
}

/// Marks a pending payout paid (with an optional bank or transfer reference), by
/// `actor`.
pub async fn mark_paid(
    state: &AppState,
    app: &AppId,
    id: &PayoutId,
    reference: Option<String>,
    actor: Actor,
) -> Result<Payout, CommandError> {
    let store = state.store();
    let payout = store
        .payouts()
        .payout(app, id)
        .await?
        .ok_or(CommandError::NotFound(Missing::Payout))?;
    if payout.status != PayoutStatus::Pending {
        return Err(CommandError::PayoutAlreadyPaid);
    }
    let now = partner_domain::now();
    let paid = Payout {
        status: PayoutStatus::Paid,
        reference,
        paid_at: Some(now),
        ..payout
    };
    let data = PayoutData {
        payout: PayoutView::from(&paid),
    };
    let event = Event::of(EventType::PayoutPaid, app.clone(), &data, now);
    let audit = payout_audit(&paid, actor, AuditAction::PayoutPaid);
    match store.payouts().mark_paid(&paid, &event, &audit).await {
        Ok(()) => {
            state.publisher().publish(store, &[event]).await;
            Ok(paid)
        }
        Err(EarningsError::Changed) => Err(CommandError::PayoutAlreadyPaid),
        Err(other) => Err(other.into()),
    }
}
