//! `GET /v1/affiliate/by-customer/{id}`: the server-side partner check. With the
//! app's API key, tells whether a customer is a partner and shows its figures.

use axum::extract::State;
use partner_domain::CustomerId;
use partner_service::extract::PathParam;
use partner_service::views::PartnerInfo;
use partner_service::{ApiError, AppState, Tenant, commands};

pub const BY_CUSTOMER: &str = "/v1/affiliate/by-customer/{id}";
partner_service::declare_routes! {
    get BY_CUSTOMER => by_customer,
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
