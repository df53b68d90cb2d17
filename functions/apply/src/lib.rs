//! `POST /v1/affiliate/apply`: anyone applies to become a partner, through the app's
//! site. No account is needed: a web page posts with the publishable key (CORS
//! allowed for the app's origins); the app's server may post with the secret key
//! and name the signed-in user applying (`customerId`).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use partner_domain::api_key::KeyKind;
use partner_domain::audit::Actor;
use partner_domain::records::{ApplicationForm, ApplicationStatus};
use partner_domain::text::{optional_text, optional_website, required_text};
use partner_domain::{ApplicationId, CustomerId, Email, FieldError};
use partner_service::auth::publishable_key_not_allowed;
use partner_service::client_ip::ClientIp;
use partner_service::commands::review::{self, Decision};
use partner_service::commands::{CommandError, Missing};
use partner_service::extract::Json;
use partner_service::http::Route;
use partner_service::{ApiError, AppState, PublicTenant, commands, cors, rate_limit};
use serde::{Deserialize, Serialize};

pub const APPLY: &str = "/v1/affiliate/apply";
pub const ROUTES: &[Route] = &[Route::post(APPLY), Route::options(APPLY)];

pub fn routes() -> Router<AppState> {
    cors::browser_routes(Router::new().route(
        APPLY,
        post(apply).options(|headers: HeaderMap| async move {
            cors::preflight(&headers, "POST, OPTIONS")
        }),
    ))
}

/// The documented body. Unknown fields are refused (400) so a typo such as `emial`
/// is caught instead of silently dropped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ApplyBody {
    email: String,
    name: String,
    company: Option<String>,
    website: Option<String>,
    reason: Option<String>,
    /// The app's own id of the signed-in user applying (secret key only).
    customer_id: Option<String>,
    /// The slug of the partner group to join.
    group: Option<String>,
}

impl ApplyBody {
    fn parse(self) -> Result<(ApplicationForm, Option<CustomerId>), FieldError> {
        let form = ApplicationForm {
            email: Email::parse("email", &self.email)?,
            name: required_text("name", &self.name, 200)?,
            company: optional_text("company", self.company.as_deref(), 200)?,
            website: optional_website("website", self.website.as_deref())?,
            reason: optional_text("reason", self.reason.as_deref(), 2000)?,
        };
        let customer = self
            .customer_id
            .as_deref()
            .map(|id| CustomerId::parse("customerId", id))
            .transpose()?;
        Ok((form, customer))
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
    PublicTenant(tenant): PublicTenant,
    ip: ClientIp,
    Json(body): Json<ApplyBody>,
) -> Result<(StatusCode, axum::Json<Applied>), ApiError> {
    let body_group = body.group.clone();
    let (form, customer) = body.parse()?;
    // Only the app's server knows who is signed in; a web page could name anyone.
    if customer.is_some() && tenant.kind == KeyKind::Publishable {
        return Err(publishable_key_not_allowed().with_field("customerId"));
    }
    let guard = rate_limit::apply_guard(&state, &tenant, ip).await?;
    // After the guard, and a miss counted as a refusal: probing slugs costs the
    // prober as probing emails does.
    let group = match body_group.as_deref() {
        None => None,
        Some(slug) => match group_by_slug(&state, &tenant.app_id, slug).await? {
            Some(group) => Some(group),
            None => {
                state
                    .store()
                    .rate_limits()
                    .count_refused(guard.as_ref())
                    .await?
                    .map_err(CommandError::RateLimited)?;
                return Err(
                    ApiError::from(CommandError::NotFound(Missing::Group)).with_field("group")
                );
            }
        },
    };
    let mut application = commands::apply(
        &state,
        &tenant,
        form,
        customer,
        group.as_ref().map(|g| g.id.clone()),
        guard,
    )
    .await?;
    // An auto-approve group approves at once, as an admin's approval would (the
    // same transaction and event); if that fails the application waits, pending.
    // Only for the app's server (a secret key): a web page's application names an
    // email nobody has confirmed, which an approval could attach to that email's
    // existing account, so it waits for a review.
    if tenant.kind == KeyKind::Secret && group.as_ref().is_some_and(|g| g.auto_approve) {
        match review::review(
            &state,
            &tenant.app_id,
            &application.id,
            Decision::Approve { code: None },
            &Actor::System,
        )
        .await
        {
            Ok(reviewed) => application = reviewed.application,
            Err(err) => tracing::warn!(error = %err, "auto-approval failed; the application waits"),
        }
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(Applied {
            id: application.id,
            status: application.status,
            message: if application.status == ApplicationStatus::Approved {
                "Application approved."
            } else {
                "Application received. You will hear from us once it has been reviewed."
            },
            submitted_at: application.submitted_at,
        }),
    ))
}

/// The app's group with this public slug, if any (one read).
async fn group_by_slug(
    state: &AppState,
    app: &partner_domain::AppId,
    slug: &str,
) -> Result<Option<partner_domain::rewards::Group>, ApiError> {
    let set = state.store().groups().all(app).await?;
    Ok(set.groups.into_iter().find(|g| g.slug == slug))
}
