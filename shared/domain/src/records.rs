//! The records the program keeps, as stored and as the domain reasons about them.
//!
//! Field names are camelCase because these are also the stored attribute names and
//! close to what the API shows; keys and entity types are added by the store.

use crate::api_key::KeyKind;
use crate::audit::Actor;
use crate::{
    AffiliateId, ApiKeyId, AppId, ApplicationId, Currency, CustomerId, Email, Money, RateBps,
    ReferralCode, Timestamp,
};
use serde::{Deserialize, Serialize};

/// A tenant of the deployment: one SaaS app running a partner program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub id: AppId,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

/// The program's settings for one app. Defaults: 20%, 30 days
/// holding, $50 minimum payout, 30 days attribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgramSettings {
    pub enabled: bool,
    pub default_commission_rate: RateBps,
    pub holding_period_days: u32,
    pub min_payout_amount: Money,
    pub cookie_duration_days: u32,
    pub currency: Currency,
    pub branding: Branding,
    /// Web origins (`https://shop.example.com`) whose pages may call the browser
    /// routes with a publishable key or a session token. Empty: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
    /// Days after a rejection before the same email may apply again; `None`: never.
    #[serde(default = "default_reapply_after_days")]
    pub reapply_after_days: Option<u32>,
    /// Deals a partner may have open (pending or accepted) at once, so no partner
    /// can squat on prospects.
    #[serde(default = "default_max_open_deals")]
    pub max_open_deals: u32,
    /// Requests per minute allowed per client IP and per key.
    #[serde(default)]
    pub rate_limits: crate::rate_limit::RateLimits,
}

/// A partner may have 100 open deals unless the app says otherwise.
pub const DEFAULT_MAX_OPEN_DEALS: u32 = 100;

fn default_max_open_deals() -> u32 {
    DEFAULT_MAX_OPEN_DEALS
}

/// A rejected applicant may apply again after 30 days unless the app says otherwise.
pub const DEFAULT_REAPPLY_AFTER_DAYS: u32 = 30;

fn default_reapply_after_days() -> Option<u32> {
    Some(DEFAULT_REAPPLY_AFTER_DAYS)
}

impl ProgramSettings {
    /// When an application rejected at `rejected_at` may be followed by a new one
    /// from the same email; `None`: never.
    pub fn reapply_from(&self, rejected_at: Timestamp) -> Option<Timestamp> {
        self.reapply_after_days
            .map(|days| rejected_at + time::Duration::days(i64::from(days)))
    }

    /// Whether a page of `origin` may call the browser routes.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }
}

impl Default for ProgramSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            default_commission_rate: RateBps::DEFAULT_COMMISSION,
            holding_period_days: 30,
            min_payout_amount: Money::from_major(50, &Currency::usd()),
            cookie_duration_days: 30,
            currency: Currency::usd(),
            branding: Branding::default(),
            allowed_origins: Vec::new(),
            reapply_after_days: default_reapply_after_days(),
            max_open_deals: DEFAULT_MAX_OPEN_DEALS,
            rate_limits: crate::rate_limit::RateLimits::default(),
        }
    }
}

/// How the hosted partner portal looks for an app.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// The app's site; a partner's referral link is this with `?ref=CODE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
}

/// An API key as stored: never the secret, only its hash (kept in the key of the
/// item, not in this record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub app_id: AppId,
    /// Absent on keys stored before kinds existed: those are secret keys.
    #[serde(default)]
    pub kind: KeyKind,
    /// The first characters of the key, for telling keys apart in listings.
    pub display_prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Rejected,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
}

/// What an applicant submitted, parsed and normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationForm {
    pub email: Email,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A partner application and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: ApplicationId,
    pub app_id: AppId,
    #[serde(flatten)]
    pub form: ApplicationForm,
    pub status: ApplicationStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: Timestamp,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub reviewed_at: Option<Timestamp>,
    /// Who approved or rejected it, as the audit log names actors (`admin:<sub>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<Actor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// Set on approval: the partner record it created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliate_id: Option<AffiliateId>,
    /// The app's customer the partner is (or will be) attached to: the signed-in
    /// user who applied (an apply with `customerId`), else set on approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// The group the applicant applied to join (by its slug); the partner starts in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<crate::rewards::GroupId>,
}

impl Application {
    pub fn submit(
        app_id: AppId,
        form: ApplicationForm,
        customer_id: Option<CustomerId>,
        at: Timestamp,
    ) -> Self {
        Self {
            id: ApplicationId::generate(),
            app_id,
            form,
            status: ApplicationStatus::Pending,
            submitted_at: at,
            reviewed_at: None,
            reviewed_by: None,
            rejection_reason: None,
            affiliate_id: None,
            customer_id,
            group_id: None,
        }
    }
}

/// A customer account of an app (created on approval when none exists for the email).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: CustomerId,
    pub app_id: AppId,
    pub email: Email,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AffiliateStatus {
    Active,
    Suspended,
}

impl AffiliateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

/// A partner: the record an approved application becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Affiliate {
    pub id: AffiliateId,
    pub app_id: AppId,
    pub customer_id: CustomerId,
    pub application_id: ApplicationId,
    pub code: ReferralCode,
    pub status: AffiliateStatus,
    /// A per-partner override of the program's `defaultCommissionRate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_rate: Option<RateBps>,
    /// The partner's group; none: the default group (the program settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<crate::rewards::GroupId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_to_the_documented_values() {
        let settings = ProgramSettings::default();
        assert!(settings.enabled);
        assert_eq!(settings.default_commission_rate, RateBps(2000));
        assert_eq!(settings.holding_period_days, 30);
        assert_eq!(settings.min_payout_amount, Money(5000));
        assert_eq!(settings.cookie_duration_days, 30);
        assert_eq!(settings.currency.as_str(), "usd");
        assert_eq!(settings.reapply_after_days, Some(30));
        assert!(settings.allowed_origins.is_empty());
    }

    #[test]
    fn settings_stored_before_reapplying_existed_wait_30_days_and_null_means_never() {
        let mut json = serde_json::to_value(ProgramSettings::default()).unwrap();
        json.as_object_mut().unwrap().remove("reapplyAfterDays");
        let old: ProgramSettings = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(old.reapply_after_days, Some(30));
        json["reapplyAfterDays"] = serde_json::Value::Null;
        let never: ProgramSettings = serde_json::from_value(json).unwrap();
        assert_eq!(never.reapply_after_days, None);
        assert_eq!(never.reapply_from(crate::now()), None);
    }

    #[test]
    fn an_application_round_trips_through_json_unchanged() {
        let form = ApplicationForm {
            email: Email::parse("email", "jane@example.com").unwrap(),
            name: "Jane".into(),
            company: None,
            website: Some("https://acme.com".into()),
            reason: None,
        };
        let application = Application::submit(AppId::generate(), form, None, crate::now());
        let json = serde_json::to_value(&application).unwrap();
        assert_eq!(json["status"], "pending");
        assert_eq!(json["email"], "jane@example.com");
        let back: Application = serde_json::from_value(json).unwrap();
        assert_eq!(back, application);
    }
}
