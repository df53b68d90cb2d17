//! `GET /v1/affiliate/by-customer/{id}`: the server-side partner check. With the
//! app's API key, tells whether a customer is a partner and shows its figures.

use axum::extract::State;
use partner_domain::CustomerId;
use partner_service::extract::PathParam;
use partner_service::presented_key::SecretKey;
use partner_service::views::PartnerInfo;
use partner_service::{ApiError, AppState, commands};

pub const BY_CUSTOMER: &str = "/v1/affiliate/by-customer/{id}";
partner_service::declare_routes! {
    get BY_CUSTOMER => by_customer,
}

/// One round trip, even on a cold start: the partner is read in the key lookup's
/// batch.
async fn by_customer(
    State(state): State<AppState>,
    key: SecretKey,
    PathParam(id): PathParam<String>,
) -> Result<axum::Json<PartnerInfo>, ApiError> {
    let customer = match CustomerId::parse("id", &id) {
        Ok(customer) => customer,
        Err(field) => {
            key.tenant(&state).await?;
            return Err(field.into());
        }
    };
    let (_, partner) = key
        .with(&state, |app| commands::partner_of_customer(app, &customer))
        .await?;
    Ok(axum::Json(commands::partner_info(partner)))
}
