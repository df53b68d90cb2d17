//! The records the program keeps, as stored and as the domain reasons about them.
//!
//! Field names are camelCase because these are also the stored attribute names and
//! close to what the API shows; keys and entity types are added by the store.

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

/// The program's settings for one app. Defaults are the seed's: 20%, 30 days
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
}

impl Default for ProgramSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            default_commission_rate: RateBps::DEFAULT_COMMISSION,
            holding_period_days: 30,
            min_payout_amount: Money::from_major(50),
            cookie_duration_days: 30,
            currency: Currency::usd(),
            branding: Branding::default(),
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// Set on approval: the partner record and customer account it created or used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliate_id: Option<AffiliateId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
}

impl Application {
    pub fn submit(app_id: AppId, form: ApplicationForm, at: Timestamp) -> Self {
        Self {
            id: ApplicationId::generate(),
            app_id,
            form,
            status: ApplicationStatus::Pending,
            submitted_at: at,
            reviewed_at: None,
            rejection_reason: None,
            affiliate_id: None,
            customer_id: None,
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
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_to_the_seed_values() {
        let settings = ProgramSettings::default();
        assert!(settings.enabled);
        assert_eq!(settings.default_commission_rate, RateBps(2000));
        assert_eq!(settings.holding_period_days, 30);
        assert_eq!(settings.min_payout_amount, Money(5000));
        assert_eq!(settings.cookie_duration_days, 30);
        assert_eq!(settings.currency.as_str(), "usd");
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
        let application = Application::submit(AppId::generate(), form, crate::now());
        let json = serde_json::to_value(&application).unwrap();
        assert_eq!(json["status"], "pending");
        assert_eq!(json["email"], "jane@example.com");
        let back: Application = serde_json::from_value(json).unwrap();
        assert_eq!(back, application);
    }
}
