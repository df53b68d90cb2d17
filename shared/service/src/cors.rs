//! Browser access (CORS) for the routes a web page calls: apply and track with a
//! publishable key, and the session routes with a session token.
//!
//! A preflight (`OPTIONS`) carries no credentials, so it cannot name the app: it is
//! answered for any origin, echoing it (never `*`). The real request then names the
//! app through its key or session, and an `Origin` that app has not listed in
//! `allowedOrigins` is refused with `403 origin_not_allowed` **before** the handler
//! runs, so nothing is written. An allowed origin gets `Access-Control-Allow-Origin`.
//! Routes for servers only (secret keys, admin tokens) have no CORS at all, so a
//! browser never reads their responses.
//!
//! The allowed origins are read from the app's settings only for requests that
//! carry an `Origin` (server-side calls never do), through the per-instance
//! [`crate::settings_cache`].

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use partner_domain::AppId;
use partner_domain::records::ProgramSettings;

use crate::{ApiError, AppState};

/// Request headers a browser may send on the browser routes.
pub const ALLOWED_HEADERS: &str = "content-type, x-api-key, authorization";
/// How long a browser may reuse a preflight answer (seconds).
pub const MAX_AGE_SECONDS: &str = "600";

/// Set by [`check_origin`] when the request's origin is allowed; read by the layer
/// to answer with `Access-Control-Allow-Origin`. Its presence marks a browser route.
#[derive(Debug, Clone, Default)]
struct AllowedOrigin(Arc<OnceLock<HeaderValue>>);

/// Makes `routes` browser routes: every response varies on `Origin` and an allowed
/// origin is told so. The routes must also answer `OPTIONS` with [`preflight`].
pub fn browser_routes(routes: Router<AppState>) -> Router<AppState> {
    routes.route_layer(middleware::from_fn(answer_origin))
}

async fn answer_origin(mut request: Request, next: Next) -> Response {
    let slot = AllowedOrigin::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = slot.0.get() {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    response
}

/// The answer to a preflight of a browser route that accepts `methods`
/// (e.g. `"POST, OPTIONS"`).
pub fn preflight(headers: &HeaderMap, methods: &'static str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    if let Some(origin) = headers.get(header::ORIGIN) {
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(methods),
        );
        out.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        out.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE_SECONDS),
        );
    }
    response
}

fn origin_not_allowed() -> ApiError {
    ApiError::forbidden(
        "origin_not_allowed",
        "This web origin is not in the app's allowedOrigins.",
    )
}

/// On a browser route, refuses a request whose `Origin` the app has not allowed
/// (and marks an allowed one for the response). Elsewhere, and for requests without
/// an `Origin`, it does nothing and costs nothing.
pub async fn check_origin(parts: &Parts, state: &AppState, app: &AppId) -> Result<(), ApiError> {
    BrowserOrigin::of(parts).check_cached(state, app).await
}

/// A browser route's `Origin`, taken from the request to be checked once the app's
/// settings are at hand (a route that reads them with its key does not read them
/// again).
#[derive(Debug, Clone, Default)]
pub struct BrowserOrigin(Option<(AllowedOrigin, HeaderValue)>);

impl BrowserOrigin {
    /// The request's `Origin`, on a browser route; none elsewhere or without one.
    pub fn of(parts: &Parts) -> Self {
        let slot = parts.extensions.get::<AllowedOrigin>().cloned();
        let origin = parts.headers.get(header::ORIGIN).cloned();
        Self(slot.zip(origin))
    }

    /// Nothing to check: a server-side call, or not a browser route.
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// [`BrowserOrigin::check`] with the settings from the per-instance cache, read
    /// only when there is an origin to check.
    pub async fn check_cached(&self, state: &AppState, app: &AppId) -> Result<(), ApiError> {
        if self.is_none() {
            return Ok(());
        }
        let settings = state.settings().get(state.store(), app).await?;
        self.check(settings.as_deref())
    }

    /// [`check_origin`] with the app's settings already read.
    pub fn check(&self, settings: Option<&ProgramSettings>) -> Result<(), ApiError> {
        let Some((slot, origin)) = &self.0 else {
            return Ok(());
        };
        let text = origin.to_str().map_err(|_| origin_not_allowed())?;
        if settings.is_some_and(|settings| settings.allows_origin(text)) {
            let _ = slot.0.set(origin.clone());
            Ok(())
        } else {
            Err(origin_not_allowed())
        }
    }
}
