//! The layers every function's routes get, on Lambda and in `partnerctl serve` alike.

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderValue, Method, header};
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

/// Turns a function's routes into the service it runs: body limit, JSON 404/405,
/// request logging, `cache-control: no-store`, and the state.
pub fn finish(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_and_harden))
        .with_state(state)
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

/// Logs one line per request (method, route template, status, latency — never
/// headers, bodies or query strings, which carry keys and personal data) and marks
/// every response uncacheable: they all carry tenant data.
async fn log_and_harden(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}
