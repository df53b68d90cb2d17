//! What a partner sees and does: the dashboard (shared by the JSON API and the hosted
//! portal) and deal registration.

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::deals::{Deal, DealId, DealStatus};
use partner_domain::events::{Event, EventType};
use partner_domain::ledger::{Balances, ListedEntry, Payout};
use partner_domain::records::{Affiliate, AffiliateStatus, ProgramSettings};
use partner_domain::{AppId, CustomerId, Email};
use partner_store::repo::clicks::Stats;

use super::{CommandError, Missing};
use crate::AppState;
use crate::views::ledger::{DealData, DealView};

/// Everything on a partner's dashboard.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The app's name: the portal's title when branding names none.
    pub app_name: String,
    pub affiliate: Affiliate,
    pub settings: ProgramSettings,
    pub balances: Balances,
    pub stats: Stats,
    pub recent_commissions: Vec<ListedEntry>,
    pub payouts: Vec<Payout>,
    pub deals: Vec<Deal>,
    /// The partner's terms in plain words ("30% of payments for 12 months").
    pub terms: String,
    /// The app's groups (read in the same batch; for admin pages, never shown to
    /// the partner).
    pub groups: partner_store::repo::groups::GroupSet,
}

/// The dashboard of a customer who is a partner: one batch read of everything on
/// it, the latest commissions, payouts and deals from the partner's summary.
pub async fn dashboard(
    state: &AppState,
    app: &AppId,
    customer: &CustomerId,
) -> Result<Option<Dashboard>, CommandError> {
    let Some(records) = state.store().affiliates().dashboard(app, customer).await? else {
        return Ok(None);
    };
    let terms =
        crate::views::groups::partner_terms(&records.affiliate, &records.settings, &records.groups);
    Ok(Some(Dashboard {
        terms,
        groups: records.groups,
        app_name: records.app.name,
        stats: records.stats,
        recent_commissions: records.commissions,
        payouts: records.payouts,
        deals: records.deals,
        affiliate: records.affiliate,
        settings: records.settings,
        balances: records.balances,
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
}

/// Registers a deal for a partner; a lead already registered in the app (any case)
/// is refused, and so is a deal beyond the program's `maxOpenDeals`. Only the
/// partner itself registers deals (its session or portal link), so it is the
/// audit log's actor.
pub async fn register_deal(
    state: &AppState,
    affiliate: &Affiliate,
    settings: &ProgramSettings,
    lead_email: Email,
    lead_name: String,
    notes: Option<String>,
) -> Result<Deal, CommandError> {
    if affiliate.status != AffiliateStatus::Active {
        return Err(CommandError::PartnerSuspended);
    }
    let now = partner_domain::now();
    let deal = Deal {
        id: DealId::generate(),
        app_id: affiliate.app_id.clone(),
        affiliate_id: affiliate.id.clone(),
        affiliate_customer_id: Some(affiliate.customer_id.clone()),
        lead_email,
        lead_name,
        notes,
        status: DealStatus::Pending,
        created_at: now,
        updated_at: now,
    };
    let data = DealData {
        deal: DealView::from(&deal),
        previous_status: None,
    };
    let event = Event::of(EventType::DealRegistered, deal.app_id.clone(), &data, now);
    // The lead's name and email stay out of the entry: the deal's id leads to them.
    let audit = AuditEntry::new(
        deal.app_id.clone(),
        Actor::Partner(affiliate.customer_id.clone()),
        AuditAction::DealRegistered,
        AuditSubject::new(SubjectKind::Deal, &deal.id),
    )
    .with_summary(format!("for partner {}", affiliate.id));
    let registered = state
        .store()
        .deals()
        .register(&deal, &event, settings.max_open_deals, &audit)
        .await;
    match registered {
        Ok(()) => {
            state.publisher().publish(state.store(), &[event]).await;
            Ok(deal)
        }
        // A taken lead says only that it cannot be registered: whose deal holds
        // it is another partner's business.
        Err(err) => Err(err.into()),
    }
}

/// Moves a deal along pending → accepted / rejected, accepted → won / lost, by
/// `actor`.
pub async fn change_deal_status(
    state: &AppState,
    app: &AppId,
    id: &DealId,
    next: DealStatus,
    actor: Actor,
) -> Result<Deal, CommandError> {
    let store = state.store();
    let deal = store
        .deals()
        .get(app, id)
        .await?
        .ok_or(CommandError::NotFound(Missing::Deal))?;
    if !deal.status.can_become(next) {
        return Err(CommandError::InvalidTransition {
            from: deal.status,
            to: next,
        });
    }
    let now = partner_domain::now();
    let from = deal.status;
    let changed = Deal {
        status: next,
        updated_at: now,
        ..deal
    };
    let data = DealData {
        deal: DealView::from(&changed),
        previous_status: Some(from),
    };
    let event = Event::of(EventType::DealStatusChanged, app.clone(), &data, now);
    let audit = AuditEntry::new(
        app.clone(),
        actor,
        AuditAction::DealStatusChanged,
        AuditSubject::new(SubjectKind::Deal, &changed.id),
    )
    .with_summary(format!("{} → {}", from.as_str(), next.as_str()));
    match store
        .deals()
        .change_status(&changed, from, &event, &audit)
        .await
    {
        Ok(()) => {
            state.publisher().publish(store, &[event]).await;
            Ok(changed)
        }
        Err(err) => Err(err.into()),
    }
}
