//! `GET /v1/affiliate/apply/status?email=`: whether an email has applied and where
//! the application stands. Reads only; no side effects.

use axum::extract::State;
use partner_domain::records::{Application, ApplicationStatus};
use partner_domain::{AffiliateId, ApplicationId, CustomerId, Email, FieldError};
use partner_service::extract::QueryParams;
use partner_service::presented_key::SecretKey;
use partner_service::{ApiError, AppState, commands};
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

/// One round trip, even on a cold start: the application is read in the key
/// lookup's batch.
async fn status(
    State(state): State<AppState>,
    key: SecretKey,
    QueryParams(query): QueryParams<StatusQuery>,
) -> Result<axum::Json<StatusResponse>, ApiError> {
    let email = match query.email.as_deref().map(|raw| Email::parse("email", raw)) {
        Some(Ok(email)) => email,
        refused => {
            key.tenant(&state).await?;
            return Err(match refused {
                Some(Err(field)) => field,
                _ => FieldError::new("email", "is required as a query parameter"),
            }
            .into());
        }
    };
    let (_, application) = key
        .with(&state, |app| commands::application_status(app, &email))
        .await?;
    let response = match application {
        Some(application) => StatusResponse::Applied(application.into()),
        None => StatusResponse::NotApplied { applied: false },
    };
    Ok(axum::Json(response))
}
