//! The pieces of `partnerctl` other crates use: the merged router of every HTTP
//! function and the list of every route, so the local server, the tests and the
//! docs checks all see the same thing.

use axum::Router;
use partner_service::AppState;
use partner_service::http::Route;

/// An HTTP function: its binary name, the API routes it declares (what
/// openapi.yaml describes), the HTML pages it serves besides (the admin console),
/// and its router, which serves both.
#[derive(Debug, Clone, Copy)]
pub struct HttpFunction {
    pub name: &'static str,
    pub routes: &'static [Route],
    pub pages: &'static [Route],
    pub router: fn() -> Router<AppState>,
}

impl HttpFunction {
    /// The API routes and the pages: what the function is deployed with.
    pub fn every_route(&self) -> impl Iterator<Item = &'static Route> {
        self.routes.iter().chain(self.pages.iter())
    }
}

/// Every HTTP function, as deployed by `template.yaml`.
pub const FUNCTIONS: &[HttpFunction] = &[
    HttpFunction {
        name: "apply",
        routes: apply::ROUTES,
        pages: &[],
        router: apply::routes,
    },
    HttpFunction {
        name: "status",
        routes: status::ROUTES,
        pages: &[],
        router: status::routes,
    },
    HttpFunction {
        name: "by-customer",
        routes: by_customer::ROUTES,
        pages: &[],
        router: by_customer::routes,
    },
    HttpFunction {
        name: "track",
        routes: track::ROUTES,
        pages: &[],
        router: track::routes,
    },
    HttpFunction {
        name: "conversions",
        routes: conversions::ROUTES,
        pages: &[],
        router: conversions::routes,
    },
    HttpFunction {
        name: "integrations",
        routes: integrations::ROUTES,
        pages: &[],
        router: integrations::routes,
    },
    HttpFunction {
        name: "partner",
        routes: partner::ROUTES,
        pages: &[],
        router: partner::routes,
    },
    HttpFunction {
        name: "admin",
        routes: admin::ROUTES,
        pages: admin::console::ROUTES,
        router: admin::router,
    },
];

/// Every HTTP function's routes, as one router (the local server and the tests).
pub fn all_routes() -> Router<AppState> {
    FUNCTIONS.iter().fold(Router::new(), |all, function| {
        all.merge((function.router)())
    })
}

/// `service` as a local server runs it: each request carries the peer address of
/// its connection ([`partner_service::client_ip::PeerAddr`]), which stands in for
/// API Gateway's `sourceIp` in the per-IP rate limits.
pub fn with_peer_addresses(
    service: Router,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    service
        .layer(axum::middleware::map_request(
            |mut request: axum::extract::Request| async move {
                if let Some(ConnectInfo(peer)) = request
                    .extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .copied()
                {
                    request
                        .extensions_mut()
                        .insert(partner_service::client_ip::PeerAddr(peer));
                }
                request
            },
        ))
        .into_make_service_with_connect_info::<SocketAddr>()
}
