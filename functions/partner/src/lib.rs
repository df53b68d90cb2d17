//! The partner session function: session tokens, the current customer's partner
//! info and dashboard, portal links, deal registration, and the hosted portal page.

mod portal;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use partner_domain::text::{optional_text, required_text};
use partner_domain::{CustomerId, Email, FieldError};
use partner_service::commands::partner;
use partner_service::commands::{CommandError, Missing};
use partner_service::extract::Json;
use partner_service::http::Route;
use partner_service::session::{self, Session, Subject};
use partner_service::views::dashboard::DashboardView;
use partner_service::views::ledger::{DealView, all};
use partner_service::views::{DataList, LinkView, PartnerInfo, TokenView};
use partner_service::{ApiError, AppState, Tenant, commands, cors};
use serde::Deserialize;

pub const SESSIONS: &str = "/v1/sessions";
pub const AFFILIATE: &str = "/v1/affiliate";
pub const DASHBOARD: &str = "/v1/affiliate/dashboard";
pub const PORTAL_LINK: &str = "/v1/affiliate/portal-link";
pub const DEALS: &str = "/v1/affiliate/deals";
pub const PORTAL: &str = "/portal";
pub const PORTAL_DEALS: &str = "/portal/deals";

pub const ROUTES: &[Route] = &[
    Route::post(SESSIONS),
    Route::get(AFFILIATE),
    Route::options(AFFILIATE),
    Route::get(DASHBOARD),
    Route::options(DASHBOARD),
    Route::get(PORTAL_LINK),
    Route::options(PORTAL_LINK),
    Route::post(DEALS),
    Route::get(DEALS),
    Route::options(DEALS),
    Route::get(PORTAL),
    Route::post(PORTAL_DEALS),
];

pub fn routes() -> Router<AppState> {
    let get_only = |headers: HeaderMap| async move { cors::preflight(&headers, "GET, OPTIONS") };
    // The session routes are called from the app's web pages (CORS); the rest are
    // for its server (sessions) or are pages of their own (the portal).
    let browser = cors::browser_routes(
        Router::new()
            .route(AFFILIATE, get(affiliate).options(get_only))
            .route(DASHBOARD, get(dashboard).options(get_only))
            .route(PORTAL_LINK, get(portal_link).options(get_only))
            .route(
                DEALS,
                post(register_deal)
                    .get(list_deals)
                    .options(|headers: HeaderMap| async move {
                        cors::preflight(&headers, "GET, POST, OPTIONS")
                    }),
            ),
    );
    Router::new()
        .route(SESSIONS, post(create_session))
        .route(PORTAL, get(portal::page))
        .route(PORTAL_DEALS, post(portal::register_deal))
        .merge(browser)
}

fn not_configured(err: session::SessionError) -> ApiError {
    ApiError::internal(err)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SessionBody {
    customer_id: String,
}

/// `POST /v1/sessions {customerId}` with the API key (server side only): a session
/// token for one customer of the key's app, valid for an hour.
async fn create_session(
    State(state): State<AppState>,
    tenant: Tenant,
    Json(body): Json<SessionBody>,
) -> Result<(StatusCode, axum::Json<TokenView>), ApiError> {
    let subject = Subject {
        app_id: tenant.app_id,
        customer_id: CustomerId::parse("customerId", &body.customer_id)?,
    };
    let (token, expires) =
        session::mint_session(state.keys().await.session(), &subject).map_err(not_configured)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TokenView {
            token,
            expires_at: expires,
        }),
    ))
}

/// The session customer is not a partner of the app.
fn not_a_partner() -> ApiError {
    CommandError::NotFound(Missing::Partner).into()
}

/// `GET /v1/affiliate`: the session customer's partner info (as by-customer).
async fn affiliate(
    State(state): State<AppState>,
    Session(who): Session,
) -> Result<axum::Json<PartnerInfo>, ApiError> {
    Ok(axum::Json(commands::partner_info(
        state
            .store()
            .read(&commands::partner_of_customer(
                &who.app_id,
                &who.customer_id,
            ))
            .await?,
    )))
}

/// `GET /v1/affiliate/dashboard`.
async fn dashboard(
    State(state): State<AppState>,
    Session(who): Session,
) -> Result<Response, ApiError> {
    let dashboard = partner::dashboard(&state, &who.app_id, &who.customer_id)
        .await?
        .ok_or_else(not_a_partner)?;
    Ok(axum::Json(DashboardView::from(&dashboard)).into_response())
}

/// `GET /v1/affiliate/portal-link`: an absolute link to the hosted portal, valid 24 h.
async fn portal_link(
    State(state): State<AppState>,
    Session(who): Session,
) -> Result<axum::Json<LinkView>, ApiError> {
    if state
        .store()
        .affiliates()
        .by_customer(&who.app_id, &who.customer_id)
        .await?
        .is_none()
    {
        return Err(not_a_partner());
    }
    let base = state.config().public_base_url.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "portal_not_configured",
            "PUBLIC_BASE_URL is not configured.",
        )
    })?;
    let (token, expires) =
        session::mint_portal(state.keys().await.session(), &who).map_err(not_configured)?;
    Ok(axum::Json(LinkView {
        url: format!("{base}{PORTAL}?token={token}"),
        expires_at: expires,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct DealBody {
    pub(crate) lead_email: String,
    pub(crate) lead_name: String,
    pub(crate) notes: Option<String>,
}

impl DealBody {
    pub(crate) fn parse(&self) -> Result<(Email, String, Option<String>), FieldError> {
        Ok((
            Email::parse("leadEmail", &self.lead_email)?,
            required_text("leadName", &self.lead_name, 200)?,
            optional_text("notes", self.notes.as_deref(), 2000)?,
        ))
    }
}

/// `POST /v1/affiliate/deals {leadEmail, leadName, notes?}` → 201.
async fn register_deal(
    State(state): State<AppState>,
    Session(who): Session,
    Json(body): Json<DealBody>,
) -> Result<(StatusCode, axum::Json<DealView>), ApiError> {
    let (email, name, notes) = body.parse()?;
    let (affiliate, settings, _) = state
        .store()
        .affiliates()
        .by_customer(&who.app_id, &who.customer_id)
        .await?
        .ok_or_else(not_a_partner)?;
    let deal = partner::register_deal(&state, &affiliate, &settings, email, name, notes).await?;
    Ok((StatusCode::CREATED, axum::Json(DealView::from(&deal))))
}

/// `GET /v1/affiliate/deals`: the partner's own deals, newest first.
async fn list_deals(
    State(state): State<AppState>,
    Session(who): Session,
) -> Result<axum::Json<DataList<DealView>>, ApiError> {
    let (affiliate, _, _) = state
        .store()
        .affiliates()
        .by_customer(&who.app_id, &who.customer_id)
        .await?
        .ok_or_else(not_a_partner)?;
    let deals = state
        .store()
        .deals()
        .of_affiliate(&who.app_id, &affiliate.id, 100)
        .await?;
    Ok(axum::Json(DataList { data: all(&deals) }))
}
