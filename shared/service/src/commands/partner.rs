//! What a partner sees and does: the dashboard (shared by the JSON API and the hosted
//! portal) and deal registration.

use partner_domain::deals::{Deal, DealId, DealStatus};
use partner_domain::events::{Event, EventType};
use partner_domain::ledger::{Balances, Entry, Payout};
use partner_domain::records::{Affiliate, AffiliateStatus, ProgramSettings};
use partner_domain::{AppId, CustomerId, Email};
use partner_store::repo::deals::DealError;
use partner_store::repo::earnings::Stats;
use serde_json::{Value, json};

use crate::commands::earnings::payout_view;
use crate::{ApiError, AppState};

/// How many of each list the dashboard shows.
pub const RECENT: u32 = 10;

/// Everything on a partner's dashboard.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The app's name: the portal's title when branding names none.
    pub app_name: String,
    pub affiliate: Affiliate,
    pub settings: ProgramSettings,
    pub balances: Balances,
    pub stats: Stats,
    pub recent_commissions: Vec<Entry>,
    pub payouts: Vec<Payout>,
    pub deals: Vec<Deal>,
}

pub fn not_a_partner() -> ApiError {
    ApiError::not_found(
        "not_a_partner",
        "This customer is not a partner of the app.",
    )
}

/// The dashboard of a customer who is a partner: one batch read (partner, settings,
/// balances), then its stats, recent commissions, payouts and deals read together —
/// two round trips of latency.
pub async fn dashboard(
    state: &AppState,
    app: &AppId,
    customer: &CustomerId,
) -> Result<Option<Dashboard>, ApiError> {
    let store = state.store();
    let Some(((affiliate, settings, balances), app_record)) = store
        .affiliates()
        .by_customer_with_app(app, customer)
        .await?
    else {
        return Ok(None);
    };
    let earnings = store.earnings();
    let deals = store.deals();
    let (stats, recent, payouts, partner_deals) = tokio::join!(
        earnings.stats(app, &affiliate.id),
        earnings.recent_entries(app, &affiliate.id, RECENT),
        earnings.payouts_of_affiliate(app, &affiliate.id, RECENT),
        deals.of_affiliate(app, &affiliate.id, RECENT),
    );
    Ok(Some(Dashboard {
        app_name: app_record.name,
        stats: stats?,
        recent_commissions: recent?,
        payouts: payouts?,
        deals: partner_deals?,
        affiliate,
        settings,
        balances,
    }))
}

impl Dashboard {
    /// The program's name as partners see it: the branding name, else the app's.
    pub fn program_name(&self) -> &str {
        self.settings
            .branding
            .name
            .as_deref()
            .unwrap_or(&self.app_name)
    }

    /// Whether the partner is suspended: its figures stay visible, read-only.
    pub fn suspended(&self) -> bool {
        self.affiliate.status != AffiliateStatus::Active
    }

    /// The partner's referral link: the app's website with `?ref=CODE`, if the app set one.
    pub fn referral_link(&self) -> Option<String> {
        let site = self.settings.branding.website_url.as_deref()?;
        let separator = if site.contains('?') { '&' } else { '?' };
        Some(format!("{site}{separator}ref={}", self.affiliate.code))
    }

    pub fn to_json(&self) -> Value {
        let rate = self
            .affiliate
            .commission_rate
            .unwrap_or(self.settings.default_commission_rate);
        json!({
            "affiliate": {
                "id": self.affiliate.id,
                "code": self.affiliate.code,
                "status": self.affiliate.status,
                "commissionRate": rate.to_percent_f64(),
                "totalEarned": self.balances.total_earned.to_major_f64(),
                "pendingBalance": self.balances.pending.to_major_f64(),
                "availableBalance": self.balances.available.to_major_f64(),
                "paidTotal": self.balances.paid.to_major_f64(),
                "currency": self.settings.currency,
            },
            "stats": {"clicks": self.stats.clicks, "referrals": self.stats.referrals, "conversions": self.stats.conversions},
            "referralLink": self.referral_link(),
            "programName": self.program_name(),
            "recentCommissions": self.recent_commissions.iter().map(partner_entry_view).collect::<Vec<_>>(),
            "payouts": self.payouts.iter().map(payout_view).collect::<Vec<_>>(),
            "deals": self.deals.iter().map(deal_view).collect::<Vec<_>>(),
        })
    }
}

/// A commission as its partner sees it: when, how much, what kind and where it
/// stands — never the referred customer or the app's revenue event id, which are
/// the app's data about its own customers.
pub fn partner_entry_view(entry: &Entry) -> Value {
    json!({
        "id": entry.id,
        "kind": entry.kind,
        "amount": entry.amount.to_major_f64(),
        "currency": entry.currency,
        "status": entry.status,
        "createdAt": entry.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "approvesAt": entry.approves_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
    })
}

pub fn partner_suspended() -> ApiError {
    ApiError::forbidden(
        "partner_suspended",
        "This partner is suspended and cannot register deals.",
    )
}

pub fn deal_view(deal: &Deal) -> Value {
    let at = |t: partner_domain::Timestamp| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    json!({
        "id": deal.id,
        "affiliateId": deal.affiliate_id,
        "leadEmail": deal.lead_email,
        "leadName": deal.lead_name,
        "notes": deal.notes,
        "status": deal.status,
        "createdAt": at(deal.created_at),
        "updatedAt": at(deal.updated_at),
    })
}

/// Registers a deal for a partner; a lead already registered in the app (any case) is 409.
pub async fn register_deal(
    state: &AppState,
    affiliate: &Affiliate,
    lead_email: Email,
    lead_name: String,
    notes: Option<String>,
) -> Result<Deal, ApiError> {
    if affiliate.status != AffiliateStatus::Active {
        return Err(partner_suspended());
    }
    let now = partner_domain::now();
    let deal = Deal {
        id: DealId::generate(),
        app_id: affiliate.app_id.clone(),
        affiliate_id: affiliate.id.clone(),
        lead_email,
        lead_name,
        notes,
        status: DealStatus::Pending,
        created_at: now,
        updated_at: now,
    };
    let event = Event::new(
        EventType::DealRegistered,
        deal.app_id.clone(),
        json!({"deal": deal_view(&deal)}),
        now,
    );
    match state.store().deals().register(&deal, &event).await {
        Ok(()) => {
            state.publisher().publish(state.store(), &[event]).await;
            Ok(deal)
        }
        // Says only that it cannot be registered: whose deal holds the lead is
        // another partner's business.
        Err(DealError::LeadTaken) => Err(ApiError::conflict(
            "deal_exists",
            "This lead cannot be registered.",
        )
        .with_field("leadEmail")),
        Err(DealError::Store(err)) => Err(err.into()),
        Err(DealError::Changed) => Err(ApiError::conflict(
            "deal_changed",
            "The deal changed meanwhile; try again.",
        )),
    }
}

/// Moves a deal along pending → accepted / rejected, accepted → won / lost.
pub async fn change_deal_status(
    state: &AppState,
    app: &AppId,
    id: &DealId,
    next: DealStatus,
) -> Result<Deal, ApiError> {
    let store = state.store();
    let deal = store.deals().get(app, id).await?.ok_or_else(|| {
        ApiError::not_found("deal_not_found", "No deal with this id in this app.")
    })?;
    if !deal.status.can_become(next) {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!(
                "A {} deal cannot become {}.",
                deal.status.as_str(),
                next.as_str()
            ),
        )
        .with_field("status"));
    }
    let now = partner_domain::now();
    let from = deal.status;
    let changed = Deal {
        status: next,
        updated_at: now,
        ..deal
    };
    let event = Event::new(
        EventType::DealStatusChanged,
        app.clone(),
        json!({"deal": deal_view(&changed), "previousStatus": from}),
        now,
    );
    match store.deals().change_status(&changed, from, &event).await {
        Ok(()) => {
            state.publisher().publish(store, &[event]).await;
            Ok(changed)
        }
        Err(DealError::Changed) => Err(ApiError::conflict(
            "deal_changed",
            "The deal changed meanwhile; try again.",
        )),
        Err(DealError::Store(err)) => Err(err.into()),
        Err(DealError::LeadTaken) => Err(ApiError::conflict(
            "deal_exists",
            "This lead is already registered.",
        )),
    }
}
