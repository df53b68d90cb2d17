//! The one API error type, rendered as RFC 9457 `application/problem+json`.
//!
//! Every error carries a stable machine `code` clients can branch on (`type` is
//! `urn:partner-program:problem:<code>`), a human `title` and `detail`, and for input
//! errors the offending `field`. Server errors log their cause chain and send a
//! generic detail: nothing internal ever reaches a response.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use partner_domain::FieldError;
use partner_domain::rate_limit::{Exceeded, Policy, WINDOW_SECONDS};
use partner_store::StoreError;
use serde::Serialize;

mod commands;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// What a 503 asks a client to wait: DynamoDB's throttling clears within seconds.
pub const RETRY_UNAVAILABLE_SECONDS: u32 = 1;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    /// The request field at fault, as the client sent it (`leadEmail`, `events[2]`).
    field: Option<Cow<'static, str>>,
    /// When trying again makes sense (a problem extension member, RFC 3339).
    retry_after: Option<partner_domain::Timestamp>,
    /// Seconds to wait before trying again (the `Retry-After` header).
    retry_after_seconds: Option<u32>,
    /// The limit a 429 is about (the `RateLimit-Policy` and `RateLimit` headers).
    rate_limit: Option<Exceeded>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(
        rename = "retryAfter",
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    retry_after: Option<partner_domain::Timestamp>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            field: None,
            retry_after: None,
            retry_after_seconds: None,
            rate_limit: None,
            source: None,
        }
    }

    /// A request field that failed to parse: 400 `invalid_request` naming the field.
    pub fn invalid_field(err: FieldError) -> Self {
        Self {
            field: Some(Cow::Borrowed(err.field)),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("{} {}", err.field, err.message),
            )
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// A dependency (the database) is busy or failing: 503 with `Retry-After`,
    /// which tells a client "try again shortly", not "our bug". The cause is
    /// logged, never sent.
    pub fn unavailable(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            source: Some(Box::new(source)),
            retry_after_seconds: Some(RETRY_UNAVAILABLE_SECONDS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "The service is busy. Try again in a moment.",
            )
        }
    }

    /// A client over one of its rate limits: 429 with `Retry-After` and the IETF
    /// rate-limit headers (`RateLimit-Policy: "apply";q=10;w=60`,
    /// `RateLimit: "apply";r=0;t=42`).
    pub fn rate_limited(exceeded: Exceeded) -> Self {
        let what = match exceeded.policy {
            Policy::Apply => "applications from this address",
            Policy::Track => "clicks from this address",
            Policy::Key => "requests with this API key",
            Policy::FailedAuth => "requests with invalid credentials from this address",
        };
        Self {
            retry_after_seconds: Some(exceeded.retry_after),
            rate_limit: Some(exceeded),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "Too many {what}: at most {} a minute. Try again in {} s.",
                    exceeded.limit, exceeded.retry_after
                ),
            )
        }
    }

    /// A failure that is ours, not the client's. The cause is logged, never sent.
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            source: Some(Box::new(source)),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Something went wrong on our side. Try again later.",
            )
        }
    }

    pub fn with_field(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_retry_after(mut self, at: Option<partner_domain::Timestamp>) -> Self {
        self.retry_after = at;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The whole `source()` chain of an error, for logs and command-line messages.
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            let cause = self
                .source
                .as_deref()
                .map(|e| cause_chain(e as &(dyn std::error::Error + 'static)))
                .unwrap_or_default();
            tracing::error!(code = self.code, %cause, "request failed");
        }
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = ProblemBody {
            kind: format!("urn:partner-program:problem:{}", self.code),
            title,
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            field: self.field.as_deref(),
            retry_after: self.retry_after,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, json).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(limit) = self.rate_limit {
            let name = limit.policy.as_str();
            let headers = response.headers_mut();
            if let Ok(policy) =
                HeaderValue::from_str(&format!("\"{name}\";q={};w={WINDOW_SECONDS}", limit.limit))
            {
                headers.insert("ratelimit-policy", policy);
            }
            if let Ok(state) =
                HeaderValue::from_str(&format!("\"{name}\";r=0;t={}", limit.retry_after))
            {
                headers.insert("ratelimit", state);
            }
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::InvalidCursor => Self::bad_request(
                "invalid_cursor",
                "cursor is not valid for this listing; start again without it",
            )
            .with_field("cursor"),
            // Still colliding with concurrent transactions after the store's retries
            // is contention, not a bug: a later try goes through.
            busy @ (StoreError::Unavailable(_) | StoreError::Conflict) => Self::unavailable(busy),
            other => Self::internal(other),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        Self::invalid_field(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn problems_are_rfc9457_with_a_code() {
        let response = ApiError::conflict("application_exists", "taken").into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            PROBLEM_CONTENT_TYPE
        );
        let body = body_of(response).await;
        assert_eq!(
            body["type"],
            "urn:partner-program:problem:application_exists"
        );
        assert_eq!(body["title"], "Conflict");
        assert_eq!(body["status"], 409);
        assert_eq!(body["detail"], "taken");
        assert_eq!(body["code"], "application_exists");
    }

    #[tokio::test]
    async fn internal_errors_never_show_their_cause() {
        let cause = std::io::Error::other("connection to 10.1.2.3 refused, secret=hunter2");
        let body = body_of(ApiError::internal(cause).into_response()).await;
        let text = body.to_string();
        assert!(
            !text.contains("10.1.2.3") && !text.contains("hunter2"),
            "{text}"
        );
        assert_eq!(body["code"], "internal_error");
    }

    #[tokio::test]
    async fn an_unavailable_database_is_503_with_retry_after_never_500() {
        let err = StoreError::Unavailable("ThrottlingException: rate exceeded".into());
        let response = ApiError::from(err).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let body = body_of(response).await;
        assert_eq!(body["code"], "service_unavailable");
        assert!(!body.to_string().contains("Throttling"));
    }

    #[tokio::test]
    async fn field_errors_name_the_field() {
        let err = FieldError::new("email", "is required");
        let body = body_of(ApiError::from(err).into_response()).await;
        assert_eq!(body["field"], "email");
        assert_eq!(body["status"], 400);
    }
}
