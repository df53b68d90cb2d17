//! Response bodies: every one is a `Serialize` type here, with money in major
//! units of its currency (`Amount`), rates in percent and times in RFC 3339.

pub mod applications;
pub mod audit;
pub mod dashboard;
pub mod groups;
pub mod ledger;

use partner_domain::money::{self, Amount, RateBps};
use partner_domain::records::{Affiliate, AffiliateStatus, ProgramSettings};
use partner_domain::{AffiliateId, Currency, CustomerId, ReferralCode};
use serde::Serialize;

pub use partner_domain::ledger::Balances;

/// `GET /v1/affiliate/by-customer/{id}` and `GET /v1/affiliate`: `{enrolled: false}`
/// or the partner with its figures.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum PartnerInfo {
    NotEnrolled { enrolled: bool },
    Enrolled(Box<EnrolledPartner>),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrolledPartner {
    enrolled: bool,
    id: AffiliateId,
    code: ReferralCode,
    #[serde(rename = "type")]
    kind: &'static str,
    status: AffiliateStatus,
    customer_id: CustomerId,
    /// Percent (20 = 20%): the partner's override, else the program's default.
    #[serde(serialize_with = "money::as_percent")]
    commission_rate: RateBps,
    #[serde(flatten)]
    balances: BalanceFigures,
    currency: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: partner_domain::Timestamp,
}

impl PartnerInfo {
    pub fn not_enrolled() -> Self {
        Self::NotEnrolled { enrolled: false }
    }

    pub fn enrolled(affiliate: Affiliate, settings: &ProgramSettings, balances: Balances) -> Self {
        Self::Enrolled(Box::new(EnrolledPartner {
            enrolled: true,
            commission_rate: affiliate
                .commission_rate
                .unwrap_or(settings.default_commission_rate),
            id: affiliate.id,
            code: affiliate.code,
            kind: "affiliate",
            status: affiliate.status,
            customer_id: affiliate.customer_id,
            balances: BalanceFigures::new(balances, &settings.currency),
            currency: settings.currency.as_str().to_owned(),
            created_at: affiliate.created_at,
        }))
    }
}

/// A partner's four balances as the API shows them, in major units: what it has
/// earned in all, and how that splits into pending, available and paid.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceFigures {
    total_earned: Amount,
    pending_balance: Amount,
    available_balance: Amount,
    paid_total: Amount,
}

impl BalanceFigures {
    /// The balances in major units of the program's `currency`.
    pub fn new(balances: Balances, currency: &Currency) -> Self {
        Self {
            total_earned: Amount::new(balances.total_earned, currency),
            pending_balance: Amount::new(balances.pending, currency),
            available_balance: Amount::new(balances.available, currency),
            paid_total: Amount::new(balances.paid, currency),
        }
    }
}

/// The program settings as the admin API shows them: rates in percent, amounts in
/// major units.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    enabled: bool,
    #[serde(serialize_with = "money::as_percent")]
    default_commission_rate: RateBps,
    holding_period_days: u32,
    /// In the program's currency.
    min_payout_amount: Amount,
    cookie_duration_days: u32,
    currency: String,
    branding: partner_domain::records::Branding,
    allowed_origins: Vec<String>,
    reapply_after_days: Option<u32>,
    max_open_deals: u32,
    rate_limits: partner_domain::rate_limit::RateLimits,
}

impl From<ProgramSettings> for SettingsView {
    fn from(settings: ProgramSettings) -> Self {
        Self {
            enabled: settings.enabled,
            default_commission_rate: settings.default_commission_rate,
            holding_period_days: settings.holding_period_days,
            min_payout_amount: Amount::new(settings.min_payout_amount, &settings.currency),
            cookie_duration_days: settings.cookie_duration_days,
            currency: settings.currency.as_str().to_owned(),
            branding: settings.branding,
            allowed_origins: settings.allowed_origins,
            reapply_after_days: settings.reapply_after_days,
            max_open_deals: settings.max_open_deals,
            rate_limits: settings.rate_limits,
        }
    }
}

/// A partner record as the admin API shows it. `commissionRate` is the partner's
/// own rate in percent, or `null` when the program's default applies.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AffiliateView {
    id: AffiliateId,
    code: ReferralCode,
    status: AffiliateStatus,
    customer_id: CustomerId,
    application_id: partner_domain::ApplicationId,
    commission_rate: Option<f64>,
    /// The partner's group; `null`: the default group (the program settings).
    group_id: Option<partner_domain::rewards::GroupId>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: partner_domain::Timestamp,
}

impl From<Affiliate> for AffiliateView {
    fn from(affiliate: Affiliate) -> Self {
        Self {
            commission_rate: affiliate.commission_rate.map(RateBps::to_percent_f64),
            id: affiliate.id,
            code: affiliate.code,
            status: affiliate.status,
            customer_id: affiliate.customer_id,
            application_id: affiliate.application_id,
            group_id: affiliate.group_id,
            created_at: affiliate.created_at,
        }
    }
}

/// A page of a listing: `{"data": [...], "nextCursor": "…" | null}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPage<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A whole list, unpaged: `{"data": [...]}`.
#[derive(Debug, Clone, Serialize)]
pub struct DataList<T> {
    pub data: Vec<T>,
}

/// A token and when it expires (`POST /v1/sessions`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: partner_domain::Timestamp,
}

/// A link and when it expires (`GET /v1/affiliate/portal-link`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkView {
    pub url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: partner_domain::Timestamp,
}
