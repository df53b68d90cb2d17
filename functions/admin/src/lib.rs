//! The admin function: application review, program settings and partner
//! management, the audit log and the Stripe integration, behind admin JWTs whose
//! `app_ids` claim grants the app in the path; and the admin console, the same
//! operations as HTML pages for a browser ([`console`]).

mod api_keys;
mod applications;
mod audit;
pub mod console;
mod deals;
mod earnings;
mod groups;
mod integrations;
mod partners;
mod settings;
mod webhooks;

pub const APPLICATIONS: &str = "/v1/apps/{appId}/affiliates/applications";
pub const APPLICATION: &str = "/v1/apps/{appId}/affiliates/applications/{id}";
pub const BULK_REVIEW: &str = "/v1/apps/{appId}/affiliates/applications/bulk-review";
pub const REVIEW: &str = "/v1/apps/{appId}/affiliates/applications/{id}/review";
pub const SETTINGS: &str = "/v1/apps/{appId}/affiliates/settings";
pub const GROUPS: &str = "/v1/apps/{appId}/affiliates/groups";
pub const GROUP: &str = "/v1/apps/{appId}/affiliates/groups/{groupId}";
pub const PARTNERS: &str = "/v1/apps/{appId}/affiliates";
pub const PARTNER: &str = "/v1/apps/{appId}/affiliates/{affiliateId}";
pub const DEALS: &str = "/v1/apps/{appId}/affiliates/deals";
pub const DEAL: &str = "/v1/apps/{appId}/affiliates/deals/{id}";
pub const COMMISSIONS: &str = "/v1/apps/{appId}/affiliates/commissions";
pub const PAYOUTS: &str = "/v1/apps/{appId}/affiliates/payouts";
pub const PAYOUT_RUN: &str = "/v1/apps/{appId}/affiliates/payouts/runs/{runId}";
pub const MARK_PAID: &str = "/v1/apps/{appId}/affiliates/payouts/{id}/mark-paid";
pub const WEBHOOKS: &str = "/v1/apps/{appId}/webhooks";
pub const WEBHOOK: &str = "/v1/apps/{appId}/webhooks/{id}";
pub const ROTATE_SECRET: &str = "/v1/apps/{appId}/webhooks/{id}/rotate-secret";
pub const DELIVERIES: &str = "/v1/apps/{appId}/webhooks/{id}/deliveries";
pub const API_KEYS: &str = "/v1/apps/{appId}/api-keys";
pub const API_KEY: &str = "/v1/apps/{appId}/api-keys/{keyId}";
pub const REPLAY: &str = "/v1/apps/{appId}/webhooks/{id}/deliveries/{deliveryId}/replay";
pub const AUDIT_LOG: &str = "/v1/apps/{appId}/audit-log";
pub const STRIPE: &str = "/v1/apps/{appId}/integrations/stripe";
pub const STRIPE_EVENTS: &str = "/v1/apps/{appId}/integrations/stripe/events";

partner_service::declare_routes! {
    get APPLICATIONS => applications::list,
    get APPLICATION => applications::get,
    post REVIEW => applications::review,
    post BULK_REVIEW => applications::bulk_review,
    get SETTINGS => settings::get,
    put SETTINGS => settings::put,
    post GROUPS => groups::create,
    get GROUPS => groups::list,
    get GROUP => groups::get,
    patch GROUP => groups::patch,
    delete GROUP => groups::delete,
    get PARTNERS => partners::list,
    get PARTNER => partners::get,
    patch PARTNER => partners::patch,
    get DEALS => deals::list,
    patch DEAL => deals::patch,
    get COMMISSIONS => earnings::commissions,
    post PAYOUTS => earnings::start_run,
    get PAYOUTS => earnings::payouts,
    get PAYOUT_RUN => earnings::run,
    post MARK_PAID => earnings::mark_paid,
    post WEBHOOKS => webhooks::create,
    get WEBHOOKS => webhooks::list,
    get WEBHOOK => webhooks::get,
    patch WEBHOOK => webhooks::patch,
    delete WEBHOOK => webhooks::delete,
    post ROTATE_SECRET => webhooks::rotate,
    get DELIVERIES => webhooks::deliveries,
    post REPLAY => webhooks::replay,
    get API_KEYS => api_keys::list,
    post API_KEYS => api_keys::create,
    delete API_KEY => api_keys::revoke,
    get AUDIT_LOG => audit::list,
    put STRIPE => integrations::put,
    get STRIPE => integrations::get,
    delete STRIPE => integrations::delete,
    get STRIPE_EVENTS => integrations::events,
}

/// The function's whole router: the API and the console.
pub fn router() -> axum::Router<partner_service::AppState> {
    routes().merge(console::routes())
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
