//! `GET /v1/affiliate/apply/status?email=`: whether an email has applied and where
//! the application stands. Reads only; no side effects.

use axum::extract::State;
use partner_domain::records::{Application, ApplicationStatus};
use partner_domain::{AffiliateId, ApplicationId, CustomerId, Email, FieldError};
use partner_service::extract::QueryParams;
use partner_service::{ApiError, AppState, Tenant, commands};
use serde::{Deserialize, Serialize};

pub const STATUS: &str = "/v1/affiliate/apply/status";
partner_service::declare_routes! {
    get STATUS => status,
}

#[derive(Debug, Deserialize)]
struct StatusQuery {
    email: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum StatusResponse {
    NotApplied { applied: bool },
    Applied(AppliedStatus),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AppliedStatus {
    applied: bool,
    id: ApplicationId,
    status: ApplicationStatus,
    #[serde(with = "time::serde::rfc3339")]
    submitted_at: partner_domain::Timestamp,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    reviewed_at: Option<partner_domain::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejection_reason: Option<String>,
    /// Once approved: the customer the partner is attached to, and the partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_id: Option<CustomerId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    affiliate_id: Option<AffiliateId>,
}

impl From<Application> for AppliedStatus {
    fn from(application: Application) -> Self {
        let approved = application.status == ApplicationStatus::Approved;
        Self {
            customer_id: application.customer_id.filter(|_| approved),
            affiliate_id: application.affiliate_id.filter(|_| approved),
            applied: true,
            id: application.id,
            status: application.status,
            submitted_at: application.submitted_at,
            reviewed_at: application.reviewed_at,
            rejection_reason: application.rejection_reason,
        }
    }
}

async fn status(
    State(state): State<AppState>,
    tenant: Tenant,
    QueryParams(query): QueryParams<StatusQuery>,
) -> Result<axum::Json<StatusResponse>, ApiError> {
    let raw = query
        .email
        .ok_or_else(|| FieldError::new("email", "is required as a query parameter"))?;
    let email = Email::parse("email", &raw)?;
    let response = match commands::application_status(state.store(), &tenant, &email).await? {
        Some(application) => StatusResponse::Applied(application.into()),
        None => StatusResponse::NotApplied { applied: false },
    };
    Ok(axum::Json(response))
}
