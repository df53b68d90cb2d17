//! `GET /v1/affiliate/by-customer/{id}`: the server-side partner check. With the
//! app's API key, tells whether a customer is a partner and shows its figures.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use partner_domain::CustomerId;
use partner_service::extract::PathParam;
use partner_service::http::Route;
use partner_service::views::PartnerInfo;
use partner_service::{ApiError, AppState, Tenant, commands};

pub const BY_CUSTOMER: &str = "/v1/affiliate/by-customer/{id}";
pub const ROUTES: &[Route] = &[Route::get(BY_CUSTOMER)];

pub fn routes() -> Router<AppState> {
    Router::new().route(BY_CUSTOMER, get(by_customer))
}

async fn by_customer(
    State(state): State<AppState>,
    tenant: Tenant,
    PathParam(id): PathParam<String>,
) -> Result<axum::Json<PartnerInfo>, ApiError> {
    let customer = CustomerId::parse("id", &id)?;
    let info = commands::partner_of_customer(state.store(), &tenant.app_id, &customer).await?;
    Ok(axum::Json(info))
}
