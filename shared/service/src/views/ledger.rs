//! Commissions, payouts, revenue results and deals as the API and events show them:
//! money in major units of its currency, rates in percent, times in RFC 3339.

use partner_domain::deals::{Deal, DealId, DealStatus};
use partner_domain::ledger::{
    ClickId, CommissionId, Entry, EntryKind, EntryStatus, ListedEntry, Payout, PayoutId, PayoutRun,
    PayoutRunId, PayoutRunStatus, PayoutStatus, Referral,
};
use partner_domain::money::{self, Amount, RateBps};
use partner_domain::{AffiliateId, Currency, CustomerId, Email, Timestamp};
use serde::Serialize;

/// A ledger entry as the app sees it (admin API, `commission_*` events).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    id: CommissionId,
    affiliate_id: AffiliateId,
    customer_id: CustomerId,
    kind: EntryKind,
    amount: Amount,
    currency: Currency,
    revenue_amount: Amount,
    #[serde(serialize_with = "money::as_percent")]
    rate: RateBps,
    revenue_event_id: String,
    status: EntryStatus,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    approves_at: Timestamp,
    payout_id: Option<PayoutId>,
    /// The reward rule that produced it (`default`: the program's rate), and the
    /// tier that raised its rate; a reversal's are its payment's.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tier: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    product_id: Option<String>,
}

impl From<&Entry> for EntryView {
    fn from(entry: &Entry) -> Self {
        Self {
            id: entry.id.clone(),
            affiliate_id: entry.affiliate_id.clone(),
            customer_id: entry.customer_id.clone(),
            kind: entry.kind,
            amount: Amount::new(entry.amount, &entry.currency),
            currency: entry.currency.clone(),
            revenue_amount: Amount::new(entry.revenue_amount, &entry.currency),
            rate: entry.rate,
            revenue_event_id: entry.revenue_event_id.clone(),
            status: entry.status,
            created_at: entry.created_at,
            approves_at: entry.approves_at,
            payout_id: entry.payout_id.clone(),
            rule_id: entry.rule_id.clone(),
            tier: entry.tier,
            product_id: entry.product_id.clone(),
        }
    }
}

/// A commission as its partner sees it: when, how much, what kind and where it
/// stands — never the referred customer or the app's revenue event id, which are
/// the app's data about its own customers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerEntryView {
    id: CommissionId,
    kind: EntryKind,
    amount: Amount,
    currency: Currency,
    status: EntryStatus,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    approves_at: Timestamp,
}

impl From<&ListedEntry> for PartnerEntryView {
    fn from(entry: &ListedEntry) -> Self {
        Self {
            id: entry.id.clone(),
            kind: entry.kind,
            amount: Amount::new(entry.amount, &entry.currency),
            currency: entry.currency.clone(),
            status: entry.status,
            created_at: entry.created_at,
            approves_at: entry.approves_at,
        }
    }
}

/// The `commission_approved` event's commission: what the approval changed, the
/// amount in major units of the program's currency.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovedView {
    pub id: CommissionId,
    pub amount: Amount,
    pub status: EntryStatus,
}

/// A payout as the API and events show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutView {
    id: PayoutId,
    affiliate_id: AffiliateId,
    amount: Amount,
    currency: Currency,
    commission_count: u32,
    status: PayoutStatus,
    reference: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    paid_at: Option<Timestamp>,
}

impl From<&Payout> for PayoutView {
    fn from(payout: &Payout) -> Self {
        Self {
            id: payout.id.clone(),
            affiliate_id: payout.affiliate_id.clone(),
            amount: Amount::new(payout.amount, &payout.currency),
            currency: payout.currency.clone(),
            // Payouts made before entries named their payout list them instead.
            commission_count: payout.entry_count.max(payout.entry_ids.len() as u32),
            status: payout.status,
            reference: payout.reference.clone(),
            created_at: payout.created_at,
            paid_at: payout.paid_at,
        }
    }
}

/// A payout run and how far it has got.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutRunView {
    id: PayoutRunId,
    status: PayoutRunStatus,
    partners_done: u32,
    /// `null` until the runner has counted the app's partners.
    partners_total: Option<u32>,
    payouts: u32,
    amount: Amount,
    currency: Currency,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: Timestamp,
}

impl From<&PayoutRun> for PayoutRunView {
    fn from(run: &PayoutRun) -> Self {
        Self {
            id: run.id.clone(),
            status: run.status,
            partners_done: run.partners_done,
            partners_total: run.partners_total,
            payouts: run.payouts,
            amount: Amount::new(run.amount, &run.currency),
            currency: run.currency.clone(),
            error: run.error.clone(),
            created_at: run.created_at,
            updated_at: run.updated_at,
        }
    }
}

/// The result of `POST /v1/affiliate/revenue`, also stored to answer a repeat of
/// the same `eventId`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevenueView {
    pub event_id: String,
    pub customer_id: CustomerId,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub amount: Amount,
    pub currency: Currency,
    #[serde(with = "time::serde::rfc3339::option")]
    pub occurred_at: Option<Timestamp>,
    /// The first commission (or reversal) it made.
    pub commission: Option<EntryView>,
    /// Every commission it made: a payment whose lines earn by different rules
    /// makes one per line.
    pub commissions: Vec<EntryView>,
    /// Why there is no commission (`commission` is then `null`).
    pub reason: Option<&'static str>,
}

/// A registered deal.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DealView {
    id: DealId,
    affiliate_id: AffiliateId,
    lead_email: Email,
    lead_name: String,
    notes: Option<String>,
    status: DealStatus,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: Timestamp,
}

impl From<&Deal> for DealView {
    fn from(deal: &Deal) -> Self {
        Self {
            id: deal.id.clone(),
            affiliate_id: deal.affiliate_id.clone(),
            lead_email: deal.lead_email.clone(),
            lead_name: deal.lead_name.clone(),
            notes: deal.notes.clone(),
            status: deal.status,
            created_at: deal.created_at,
            updated_at: deal.updated_at,
        }
    }
}

/// Views of each item of a slice, for listings.
pub fn all<'a, T, V: From<&'a T>>(items: &'a [T]) -> Vec<V> {
    items.iter().map(V::from).collect()
}

/// The data of the `commission_*` events: `{"commission": …}`.
#[derive(Debug, Clone, Serialize)]
pub struct CommissionData<T> {
    pub commission: T,
}

/// The data of the `payout_*` events: `{"payout": …}`.
#[derive(Debug, Clone, Serialize)]
pub struct PayoutData {
    pub payout: PayoutView,
}

/// The data of the `deal_*` events: the deal, and what it was before a change.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DealData {
    pub deal: DealView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<DealStatus>,
}

/// The attribution `POST /v1/affiliate/referrals` made.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferralView {
    customer_id: CustomerId,
    affiliate_id: AffiliateId,
    click_id: Option<ClickId>,
    #[serde(with = "time::serde::rfc3339")]
    attributed_at: Timestamp,
}

impl From<&Referral> for ReferralView {
    fn from(referral: &Referral) -> Self {
        Self {
            customer_id: referral.customer_id.clone(),
            affiliate_id: referral.affiliate_id.clone(),
            click_id: referral.click_id.clone(),
            attributed_at: referral.attributed_at,
        }
    }
}
