//! The admin console: server-rendered pages under `/admin/…` for running the
//! program from a browser.
//!
//! The console is a skin over the admin API, not a second implementation: every
//! page and every form calls the same handler the JSON API routes to (`api`),
//! with the same validation, commands, events and audit entries, and renders the
//! view it answers. Sign-in (`session`) turns a one-time login link or a pasted
//! admin JWT into an 8-hour session cookie; every form carries the session's CSRF
//! token and is refused from another origin. Pages need no JavaScript; a few small
//! nonce'd scripts only add conveniences (select all, the branding preview).

mod api;
mod applications;
mod earnings;
mod layout;
mod partners;
mod program;
mod session;
mod webhooks;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};
use partner_service::AppState;
use partner_service::http::Route;

pub const HOME: &str = "/admin";
pub const LOGIN: &str = "/admin/login";
pub const LOGOUT: &str = "/admin/logout";
pub const APPLICATIONS: &str = "/admin/applications";
pub const BULK_REVIEW: &str = "/admin/applications/bulk-review";
pub const APPLICATION: &str = "/admin/applications/{id}";
pub const REVIEW: &str = "/admin/applications/{id}/review";
pub const PARTNERS: &str = "/admin/partners";
pub const PARTNER: &str = "/admin/partners/{id}";
pub const COMMISSIONS: &str = "/admin/commissions";
pub const PAYOUTS: &str = "/admin/payouts";
pub const PAYOUT_RUN: &str = "/admin/payouts/run";
pub const MARK_PAID: &str = "/admin/payouts/{id}/mark-paid";
pub const DEALS: &str = "/admin/deals";
pub const DEAL: &str = "/admin/deals/{id}";
pub const WEBHOOKS: &str = "/admin/webhooks";
pub const WEBHOOK: &str = "/admin/webhooks/{id}";
pub const ROTATE_SECRET: &str = "/admin/webhooks/{id}/rotate-secret";
pub const REPLAY: &str = "/admin/webhooks/{id}/deliveries/{deliveryId}/replay";
pub const SETTINGS: &str = "/admin/settings";
pub const API_KEYS: &str = "/admin/api-keys";
pub const REVOKE_KEY: &str = "/admin/api-keys/{keyId}/revoke";

/// The console's routes (HTML pages and form posts; the JSON API's description,
/// openapi.yaml, leaves them out).
pub const ROUTES: &[Route] = &[
    Route::get(HOME),
    Route::get(LOGIN),
    Route::post(LOGIN),
    Route::post(LOGOUT),
    Route::get(APPLICATIONS),
    Route::post(BULK_REVIEW),
    Route::get(APPLICATION),
    Route::post(REVIEW),
    Route::get(PARTNERS),
    Route::get(PARTNER),
    Route::post(PARTNER),
    Route::get(COMMISSIONS),
    Route::get(PAYOUTS),
    Route::post(PAYOUT_RUN),
    Route::post(MARK_PAID),
    Route::get(DEALS),
    Route::post(DEAL),
    Route::get(WEBHOOKS),
    Route::post(WEBHOOKS),
    Route::get(WEBHOOK),
    Route::post(ROTATE_SECRET),
    Route::post(REPLAY),
    Route::get(SETTINGS),
    Route::post(SETTINGS),
    Route::get(API_KEYS),
    Route::post(API_KEYS),
    Route::post(REVOKE_KEY),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(HOME, get(|| async { Redirect::to(APPLICATIONS) }))
        .route(LOGIN, get(session::login_page).post(session::login_form))
        .route(LOGOUT, post(session::logout))
        .route(APPLICATIONS, get(applications::list))
        .route(BULK_REVIEW, post(applications::bulk_review))
        .route(APPLICATION, get(applications::detail))
        .route(REVIEW, post(applications::review))
        .route(PARTNERS, get(partners::list))
        .route(PARTNER, get(partners::detail).post(partners::change))
        .route(COMMISSIONS, get(earnings::commissions))
        .route(PAYOUTS, get(earnings::payouts))
        .route(PAYOUT_RUN, post(earnings::run))
        .route(MARK_PAID, post(earnings::mark_paid))
        .route(DEALS, get(program::deals))
        .route(DEAL, post(program::move_deal))
        .route(WEBHOOKS, get(webhooks::list).post(webhooks::create))
        .route(WEBHOOK, get(webhooks::detail))
        .route(ROTATE_SECRET, post(webhooks::rotate))
        .route(REPLAY, post(webhooks::replay))
        .route(
            SETTINGS,
            get(program::settings).post(program::save_settings),
        )
        .route(API_KEYS, get(program::api_keys).post(program::create_key))
        .route(REVOKE_KEY, post(program::revoke_key))
}

/// A console path with its `{…}` parameters filled in, in order.
fn path(template: &str, params: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    let mut params = params.iter();
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push_str(&partner_service::html::urlencode(
            params.next().copied().unwrap_or_default(),
        ));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fill_their_parameters_in_order_and_encode_them() {
        assert_eq!(
            path(REPLAY, &["whe_1", "dlv_2"]),
            "/admin/webhooks/whe_1/deliveries/dlv_2/replay"
        );
        assert_eq!(path(PARTNER, &["a/b"]), "/admin/partners/a%2Fb");
        assert_eq!(path(APPLICATIONS, &[]), "/admin/applications");
    }
}
