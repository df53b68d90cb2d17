//! `POST /v1/integrations/stripe/{appId}`: the endpoint an app's Stripe account
//! sends its events to. No API key: the `Stripe-Signature` header, made with the
//! signing secret the app connected, is the credential.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use partner_domain::AppId;
use partner_domain::stripe::Outcome;
use partner_service::commands::stripe::receive::{self, Receipt};
use partner_service::extract::PathParam;
use partner_service::http::{RequestNotes, Route};
use partner_service::{ApiError, AppState};
use serde::Serialize;

pub const STRIPE: &str = partner_service::commands::stripe::ENDPOINT;

pub const ROUTES: &[Route] = &[Route::post(STRIPE)];

/// Stripe's events are larger than API requests (an invoice carries its lines);
/// Stripe documents no maximum, and this is far above what one event sends.
pub const MAX_EVENT_BYTES: usize = 512 * 1024;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        STRIPE,
        axum::routing::post(stripe).layer(DefaultBodyLimit::max(MAX_EVENT_BYTES)),
    )
}

/// The answer Stripe gets (it reads only the status; the body helps whoever looks
/// at the delivery in Stripe's dashboard).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    received: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    duplicate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

async fn stripe(
    State(state): State<AppState>,
    notes: RequestNotes,
    PathParam(app): PathParam<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Answer>, ApiError> {
    // An id that cannot be an app's is an app without the integration.
    let app = AppId::parse("appId", &app).map_err(|_| {
        ApiError::from(partner_service::commands::CommandError::NotFound(
            partner_service::commands::Missing::StripeIntegration,
        ))
    })?;
    notes.app(app.as_str());
    let signature = headers
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok());
    let answer = match receive::receive(&state, &app, signature, &body).await? {
        Receipt::Duplicate => Answer {
            received: true,
            duplicate: true,
            outcome: None,
            reason: None,
        },
        Receipt::Handled(event) => Answer {
            received: true,
            duplicate: false,
            outcome: Some(event.outcome),
            reason: event.reason,
        },
    };
    Ok(axum::Json(answer))
}
