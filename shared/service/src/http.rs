//! The layers every function's routes get, on Lambda and in `partnerctl serve` alike.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;

use crate::{ApiError, AppState};

/// The largest request body accepted; larger ones get `413`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A route a function serves: its method and its path in API Gateway's syntax
/// (`{param}`), which is also axum's. The OpenAPI description and `template.yaml`
/// are checked against these lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: RouteMethod,
    pub path: &'static str,
}

/// The methods routes use (a `Copy` stand-in for `http::Method`, so route lists
/// can be constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    /// A CORS preflight of a browser route.
    Options,
}

impl RouteMethod {
    pub fn as_method(self) -> Method {
        match self {
            Self::Get => Method::GET,
            Self::Post => Method::POST,
            Self::Put => Method::PUT,
            Self::Patch => Method::PATCH,
            Self::Delete => Method::DELETE,
            Self::Options => Method::OPTIONS,
        }
    }
}

impl Route {
    pub const fn get(path: &'static str) -> Self {
        Self {
            method: RouteMethod::Get,
            path,
        }
    }

    pub const fn post(path: &'static str) -> Self {
        Self {
            method: RouteMethod::Post,
            path,
        }
    }

    pub const fn put(path: &'static str) -> Self {
        Self {
            method: RouteMethod::Put,
            path,
        }
    }

    pub const fn patch(path: &'static str) -> Self {
        Self {
            method: RouteMethod::Patch,
            path,
        }
    }

    pub const fn delete(path: &'static str) -> Self {
        Self {
            method: RouteMethod::Delete,
            path,
        }
    }

    pub const fn options(path: &'static str) -> Self {
        Self {
            method: RouteMethod::Options,
            path,
        }
    }
}

/// Declares a function's routes once: `method PATH => handler` lines become both
/// `pub const ROUTES: &[Route]` (what `template.yaml` and the OpenAPI description
/// are checked against) and `pub fn routes() -> Router<AppState>` (what serves
/// them), so the two cannot drift apart. Methods are axum's routing functions
/// (`get`, `post`, `put`, `patch`, `delete`); the same path may appear once per
/// method.
#[macro_export]
macro_rules! declare_routes {
    ($($method:ident $path:ident => $handler:path),* $(,)?) => {
        pub const ROUTES: &[$crate::http::Route] = &[$($crate::http::Route::$method($path)),*];

        pub fn routes() -> ::axum::Router<$crate::AppState> {
            ::axum::Router::new()$(.route($path, ::axum::routing::$method($handler)))*
        }
    };
}

/// Turns a function's routes into the service it runs: body limit, JSON 404/405,
/// the failed-authentication limit, request logging, `cache-control: no-store`,
/// and the state.
pub fn finish(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::rate_limit::limit_failed_auth,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            log_and_harden,
        ))
        .with_state(state)
}

/// What a request's extractors (or a handler) learn that its log line should
/// carry: the app it acts for. The layer puts an empty one in every request; a
/// handler that learns the app itself (the portal, from its token) takes it as an
/// extractor.
#[derive(Debug, Clone, Default)]
pub struct RequestNotes {
    app_id: Arc<OnceLock<String>>,
}

impl RequestNotes {
    /// Records the app the request acts for (the first one recorded stays).
    pub fn app(&self, app_id: &str) {
        let _ = self.app_id.set(app_id.to_owned());
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestNotes {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestNotes>()
            .cloned()
            .unwrap_or_default())
    }
}

/// Records the app a request acts for (called by the credential extractors).
pub fn note_app(extensions: &Extensions, app_id: &str) {
    if let Some(notes) = extensions.get::<RequestNotes>() {
        notes.app(app_id);
    }
}

/// API Gateway's id of the request (the one its access log shows), or a new one
/// where there is no API Gateway (`partnerctl serve`).
fn request_id(request: &Request) -> String {
    use lambda_http::request::RequestContext;
    if let Some(RequestContext::ApiGatewayV2(context)) =
        request.extensions().get::<RequestContext>()
        && let Some(id) = &context.request_id
    {
        return id.clone();
    }
    let mut bytes = [0u8; 8];
    partner_domain::random_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn not_found() -> ApiError {
    ApiError::not_found("route_not_found", "No such endpoint.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not accept that method.",
    )
}

/// Logs one line per request — request id, method, route template, status,
/// latency, store round trips, the app — and never headers, bodies or query
/// strings, which carry keys, tokens and personal data; emits the request metrics;
/// and marks every response uncacheable: they all carry tenant data.
///
/// Round trips are the store's calls during the request: exact on Lambda, where an
/// instance serves one request at a time; an approximation under `partnerctl
/// serve`'s concurrency.
async fn log_and_harden(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let calls_before = state.store().calls();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let request_id = request_id(&request);
    let notes = RequestNotes::default();
    request.extensions_mut().insert(notes.clone());
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let round_trips = state.store().calls().since(calls_before).total();
    let app_id = notes.app_id.get().map(String::as_str).unwrap_or("");
    tracing::info!(
        request_id,
        %method,
        route,
        status,
        micros = elapsed.as_micros() as u64,
        round_trips,
        app_id,
        "request"
    );
    partner_aws::metrics::Observation::new()
        .by(&[&["Function", "StatusClass"], &["Function", "Route"]])
        .metric("Requests", partner_aws::metrics::Unit::Count, 1.0)
        .metric(
            "Latency",
            partner_aws::metrics::Unit::Milliseconds,
            elapsed.as_secs_f64() * 1000.0,
        )
        .metric(
            "StoreRoundTrips",
            partner_aws::metrics::Unit::Count,
            round_trips as f64,
        )
        .field("StatusClass", partner_aws::metrics::status_class(status))
        .field("Route", format!("{method} {route}"))
        .field("requestId", request_id)
        .emit();
    response
}
