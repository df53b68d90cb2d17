//! The console's way into the admin API: its handlers called in-process, with the
//! signed-in admin in place of a bearer token. What a handler answers (a view or
//! a problem) comes back as JSON, exactly as an API client would see it, so the
//! console renders the API's views and shows the API's error messages.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What a handler answered.
#[derive(Debug)]
pub(super) struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

/// Bodies the console reads back are the API's own, well under this.
const MAX_REPLY_BYTES: usize = 4 << 20;

impl Reply {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// A problem's message for people: its detail, with the field it is about.
    pub fn message(&self) -> String {
        let detail = self.body["detail"]
            .as_str()
            .unwrap_or("The request could not be completed.");
        match self.body["field"].as_str() {
            Some(field) => format!("{field}: {detail}"),
            None => detail.to_owned(),
        }
    }

    /// The `data` of a listing (empty when the call failed).
    pub fn data(&self) -> &[Value] {
        self.body["data"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// A refusal made here, before any handler ran (a form that does not parse).
    pub fn refused(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: serde_json::json!({"detail": detail.into()}),
        }
    }
}

/// Runs a handler's answer through its response, as the API would send it.
pub(super) async fn reply(answer: impl IntoResponse) -> Reply {
    let response = answer.into_response();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), MAX_REPLY_BYTES)
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    Reply { status, body }
}

/// A handler's input (query or body type) from the JSON a form became; the same
/// deserialisation the API applies to a request.
pub(super) fn input<T: DeserializeOwned>(value: Value) -> Result<T, Reply> {
    serde_json::from_value(value).map_err(|err| Reply::refused(err.to_string()))
}

/// Calls `handler` with the input `value` becomes (see [`input`]), or answers the
/// refusal when it does not parse.
pub(super) async fn call<T, R>(value: Value, handler: impl FnOnce(T) -> R) -> Reply
where
    T: DeserializeOwned,
    R: std::future::IntoFuture<Output: IntoResponse>,
{
    match input(value) {
        Ok(parsed) => reply(handler(parsed).await).await,
        Err(refused) => refused,
    }
}

/// Drops `null` members, so an empty form field reads as an absent one.
pub(super) fn strip_nulls(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.retain(|_, v| !v.is_null());
    }
    value
}
