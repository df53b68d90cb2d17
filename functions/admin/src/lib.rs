//! The admin function: application review, program settings and partner
//! management, behind admin JWTs whose `app_ids` claim grants the app in the path.

mod api_keys;
mod applications;
mod deals;
mod earnings;
mod partners;
mod settings;
mod webhooks;

use axum::Router;
use axum::routing::get;
use partner_service::AppState;
use partner_service::http::Route;

pub const APPLICATIONS: &str = "/v1/apps/{appId}/affiliates/applications";
pub const APPLICATION: &str = "/v1/apps/{appId}/affiliates/applications/{id}";
pub const REVIEW: &str = "/v1/apps/{appId}/affiliates/applications/{id}/review";
pub const SETTINGS: &str = "/v1/apps/{appId}/affiliates/settings";
pub const PARTNERS: &str = "/v1/apps/{appId}/affiliates";
pub const PARTNER: &str = "/v1/apps/{appId}/affiliates/{affiliateId}";
pub const DEALS: &str = "/v1/apps/{appId}/affiliates/deals";
pub const DEAL: &str = "/v1/apps/{appId}/affiliates/deals/{id}";
pub const COMMISSIONS: &str = "/v1/apps/{appId}/affiliates/commissions";
pub const PAYOUTS: &str = "/v1/apps/{appId}/affiliates/payouts";
pub const MARK_PAID: &str = "/v1/apps/{appId}/affiliates/payouts/{id}/mark-paid";
pub const WEBHOOKS: &str = "/v1/apps/{appId}/webhooks";
pub const WEBHOOK: &str = "/v1/apps/{appId}/webhooks/{id}";
pub const ROTATE_SECRET: &str = "/v1/apps/{appId}/webhooks/{id}/rotate-secret";
pub const DELIVERIES: &str = "/v1/apps/{appId}/webhooks/{id}/deliveries";
pub const API_KEYS: &str = "/v1/apps/{appId}/api-keys";
pub const API_KEY: &str = "/v1/apps/{appId}/api-keys/{keyId}";
pub const REPLAY: &str = "/v1/apps/{appId}/webhooks/{id}/deliveries/{deliveryId}/replay";

pub const ROUTES: &[Route] = &[
    Route::get(APPLICATIONS),
    Route::get(APPLICATION),
    Route::post(REVIEW),
    Route::get(SETTINGS),
    Route::put(SETTINGS),
    Route::get(PARTNERS),
    Route::get(PARTNER),
    Route::patch(PARTNER),
    Route::get(DEALS),
    Route::patch(DEAL),
    Route::get(COMMISSIONS),
    Route::post(PAYOUTS),
    Route::get(PAYOUTS),
    Route::post(MARK_PAID),
    Route::post(WEBHOOKS),
    Route::get(WEBHOOKS),
    Route::get(WEBHOOK),
    Route::patch(WEBHOOK),
    Route::delete(WEBHOOK),
    Route::post(ROTATE_SECRET),
    Route::get(DELIVERIES),
    Route::post(REPLAY),
    Route::get(API_KEYS),
    Route::post(API_KEYS),
    Route::delete(API_KEY),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(APPLICATIONS, get(applications::list))
        .route(APPLICATION, get(applications::get))
        .route(REVIEW, axum::routing::post(applications::review))
        .route(SETTINGS, get(settings::get).put(settings::put))
        .route(PARTNERS, get(partners::list))
        .route(PARTNER, get(partners::get).patch(partners::patch))
        .route(DEALS, get(deals::list))
        .route(DEAL, axum::routing::patch(deals::patch))
        .route(COMMISSIONS, get(earnings::commissions))
        .route(
            PAYOUTS,
            get(earnings::payouts).post(earnings::create_payouts),
        )
        .route(MARK_PAID, axum::routing::post(earnings::mark_paid))
        .route(WEBHOOKS, get(webhooks::list).post(webhooks::create))
        .route(
            WEBHOOK,
            get(webhooks::get)
                .patch(webhooks::patch)
                .delete(webhooks::delete),
        )
        .route(ROTATE_SECRET, axum::routing::post(webhooks::rotate))
        .route(DELIVERIES, get(webhooks::deliveries))
        .route(REPLAY, axum::routing::post(webhooks::replay))
        .route(API_KEYS, get(api_keys::list).post(api_keys::create))
        .route(API_KEY, axum::routing::delete(api_keys::revoke))
}

/// `limit` and `cursor` of a listing.
#[derive(Debug, serde::Deserialize)]
struct Paging {
    limit: Option<String>,
    cursor: Option<String>,
}

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

impl Paging {
    fn limit(&self) -> Result<u32, partner_domain::FieldError> {
        match self.limit.as_deref() {
            None => Ok(DEFAULT_LIMIT),
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    partner_domain::FieldError::new("limit", "must be a whole number from 1 to 100")
                }),
        }
    }
}
