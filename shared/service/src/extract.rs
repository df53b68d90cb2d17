//! Request extractors whose rejections are problem+json like every other error.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON request body. Malformed JSON is `400 malformed_json`; a body that is JSON
/// but not the expected shape is `400 invalid_request` naming the field; a body over
/// the limit is `413 payload_too_large`; a non-JSON content type is `415`.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if let Some(content_type) = req.headers().get(CONTENT_TYPE) {
            let essence = content_type
                .to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Send the body as application/json.",
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!(
                        "The request body is larger than {} KiB.",
                        crate::http::MAX_BODY_BYTES / 1024
                    ),
                )
            } else {
                ApiError::bad_request("invalid_request", "The request body could not be read.")
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses a JSON body with the same error mapping as [`Json`].
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let malformed = |err: serde_json::Error| {
        ApiError::bad_request(
            "malformed_json",
            format!("The request body is not valid JSON: {err}"),
        )
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return malformed(inner);
        }
        let message = inner.to_string();
        // serde names a missing or unknown field in backticks; otherwise the path says where.
        let field = if path != "." && !path.is_empty() {
            path
        } else {
            message
                .split('`')
                .nth(1)
                .map(str::to_owned)
                .unwrap_or_default()
        };
        let detail = if field.is_empty() {
            message
        } else {
            format!("{field}: {message}")
        };
        let error = ApiError::bad_request("invalid_request", detail);
        if field.is_empty() {
            error
        } else {
            error.with_field(field)
        }
    })?;
    deserializer.end().map_err(malformed)?;
    Ok(value)
}

/// For `#[serde(default, deserialize_with = "present")]` on an `Option<Option<T>>`:
/// tells a field sent as `null` (`Some(None)`) from one left out (`None`), where
/// `null` means something (such as "back to the default").
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// For `#[serde(default, deserialize_with = "not_null")]` on an `Option<T>`: a
/// field that may be left out (`None`) but not sent as `null`, which is refused as
/// the wrong type (`null` means nothing there, so accepting it would hide a bug in
/// the caller).
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Query-string parameters; a rejection is `400 invalid_request`.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| QueryParams(value))
            .map_err(|rejection| ApiError::bad_request("invalid_request", rejection.body_text()))
    }
}

/// A path parameter; a rejection is `400 invalid_request`.
#[derive(Debug, Clone)]
pub struct PathParam<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParam<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| PathParam(value))
            .map_err(|rejection| ApiError::bad_request("invalid_request", rejection.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        name: String,
        company: Option<String>,
    }

    #[test]
    fn malformed_json_is_its_own_code() {
        let err = parse_json::<Body>(b"{\"email\": ").unwrap_err();
        assert_eq!(err.code(), "malformed_json");
        let err = parse_json::<Body>(br#"{"email": "a@b.co", "name": "J"} trailing"#).unwrap_err();
        assert_eq!(err.code(), "malformed_json");
    }

    #[test]
    fn a_missing_field_is_named() {
        let err = parse_json::<Body>(br#"{"email": "a@b.co"}"#).unwrap_err();
        assert_eq!(err.code(), "invalid_request");
        assert!(err.to_string().contains("name"), "{err}");
    }

    #[test]
    fn an_unknown_field_is_refused_and_named() {
        let err =
            parse_json::<Body>(br#"{"email": "a@b.co", "name": "J", "extra": 1}"#).unwrap_err();
        assert!(err.to_string().contains("extra"), "{err}");
    }

    #[test]
    fn a_wrongly_typed_field_is_named() {
        let err = parse_json::<Body>(br#"{"email": 5, "name": "J"}"#).unwrap_err();
        assert!(err.to_string().contains("email"), "{err}");
    }
}
