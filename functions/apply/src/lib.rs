//! `POST /v1/affiliate/apply`: anyone applies to become a partner, through the app's
//! site and its API key. No account is needed.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use partner_domain::records::{ApplicationForm, ApplicationStatus};
use partner_domain::text::{optional_text, optional_website, required_text};
use partner_domain::{ApplicationId, Email, FieldError};
use partner_service::extract::Json;
use partner_service::http::Route;
use partner_service::{ApiError, AppState, Tenant, commands};
use serde::{Deserialize, Serialize};

pub const APPLY: &str = "/v1/affiliate/apply";
pub const ROUTES: &[Route] = &[Route::post(APPLY)];

pub fn routes() -> Router<AppState> {
    Router::new().route(APPLY, post(apply))
}

/// The seed's body. Unknown fields are refused (400) so a typo such as `emial`
/// is caught instead of silently dropped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyBody {
    email: String,
    name: String,
    company: Option<String>,
    website: Option<String>,
    reason: Option<String>,
}

impl ApplyBody {
    fn parse(self) -> Result<ApplicationForm, FieldError> {
        Ok(ApplicationForm {
            email: Email::parse("email", &self.email)?,
            name: required_text("name", &self.name, 200)?,
            company: optional_text("company", self.company.as_deref(), 200)?,
            website: optional_website("website", self.website.as_deref())?,
            reason: optional_text("reason", self.reason.as_deref(), 2000)?,
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Applied {
    id: ApplicationId,
    status: ApplicationStatus,
    message: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    submitted_at: partner_domain::Timestamp,
}

async fn apply(
    State(state): State<AppState>,
    tenant: Tenant,
    Json(body): Json<ApplyBody>,
) -> Result<(StatusCode, axum::Json<Applied>), ApiError> {
    let form = body.parse()?;
    let application = commands::apply(&state, &tenant, form).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Applied {
            id: application.id,
            status: application.status,
            message: "Application received. You will hear from us once it has been reviewed.",
            submitted_at: application.submitted_at,
        }),
    ))
}
