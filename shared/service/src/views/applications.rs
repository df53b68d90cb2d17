//! Applications as the admin API shows them.

use partner_domain::audit::Actor;
use partner_domain::records::{Affiliate, Application, ApplicationStatus};
use partner_domain::{
    AffiliateId, AppId, ApplicationId, CustomerId, Email, ReferralCode, Timestamp,
};
use serde::Serialize;

/// An application: the applicant's form, where it stands and what it became.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationView {
    id: ApplicationId,
    app_id: AppId,
    email: Email,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    status: ApplicationStatus,
    #[serde(with = "time::serde::rfc3339")]
    submitted_at: Timestamp,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    reviewed_at: Option<Timestamp>,
    /// Who reviewed it, as the audit log names actors.
    #[serde(skip_serializing_if = "Option::is_none")]
    reviewed_by: Option<Actor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejection_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    affiliate_id: Option<AffiliateId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_id: Option<CustomerId>,
}

impl From<Application> for ApplicationView {
    fn from(application: Application) -> Self {
        let form = application.form;
        Self {
            id: application.id,
            app_id: application.app_id,
            email: form.email,
            name: form.name,
            company: form.company,
            website: form.website,
            reason: form.reason,
            status: application.status,
            submitted_at: application.submitted_at,
            reviewed_at: application.reviewed_at,
            reviewed_by: application.reviewed_by,
            rejection_reason: application.rejection_reason,
            affiliate_id: application.affiliate_id,
            customer_id: application.customer_id,
        }
    }
}

/// The partner an approval created, in the shape of the
/// `partner_application_approved` webhook's `affiliate` (snake-case `customer_id`).
#[derive(Debug, Clone, Serialize)]
pub struct ApprovedPartnerView {
    id: AffiliateId,
    code: ReferralCode,
    customer_id: CustomerId,
}

impl From<Affiliate> for ApprovedPartnerView {
    fn from(affiliate: Affiliate) -> Self {
        Self {
            id: affiliate.id,
            code: affiliate.code,
            customer_id: affiliate.customer_id,
        }
    }
}
