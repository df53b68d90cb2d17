//! `GET /v1/affiliate/dashboard`: the partner, its figures and its recent activity.

use partner_domain::money::{self, RateBps};
use partner_domain::records::AffiliateStatus;
use partner_domain::{AffiliateId, Currency, ReferralCode};
use serde::Serialize;

use super::BalanceFigures;
use super::ledger::{DealView, PartnerEntryView, PayoutView, all};
use crate::commands::partner::Dashboard;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardView<'a> {
    affiliate: DashboardPartner,
    stats: partner_store::repo::clicks::Stats,
    referral_link: Option<String>,
    program_name: &'a str,
    /// The partner's terms in plain words.
    terms: &'a str,
    recent_commissions: Vec<PartnerEntryView>,
    payouts: Vec<PayoutView>,
    deals: Vec<DealView>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct DashboardPartner {
    id: AffiliateId,
    code: ReferralCode,
    status: AffiliateStatus,
    #[serde(serialize_with = "money::as_percent")]
    commission_rate: RateBps,
    #[serde(flatten)]
    balances: BalanceFigures,
    currency: Currency,
}

impl<'a> From<&'a Dashboard> for DashboardView<'a> {
    fn from(dashboard: &'a Dashboard) -> Self {
        let (affiliate, balances) = (&dashboard.affiliate, &dashboard.balances);
        Self {
            affiliate: DashboardPartner {
                id: affiliate.id.clone(),
                code: affiliate.code.clone(),
                status: affiliate.status,
                commission_rate: affiliate
                    .commission_rate
                    .unwrap_or(dashboard.settings.default_commission_rate),
                balances: BalanceFigures::new(*balances, &dashboard.settings.currency),
                currency: dashboard.settings.currency.clone(),
            },
            stats: dashboard.stats,
            referral_link: dashboard.referral_link(),
            program_name: dashboard.program_name(),
            terms: &dashboard.terms,
            recent_commissions: all(&dashboard.recent_commissions),
            payouts: all(&dashboard.payouts),
            deals: all(&dashboard.deals),
        }
    }
}
