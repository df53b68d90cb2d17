//! The app's API keys: list, create (the key is shown once), revoke.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use partner_domain::api_key::KeyKind;
use partner_domain::records::ApiKeyRecord;
use partner_domain::text::optional_text;
use partner_domain::{ApiKeyId, FieldError};
use partner_service::admin_auth::AdminApp;
use partner_service::extract::{self, PathParam};
use partner_service::views::ListPage;
use partner_service::{ApiError, AppState};
use serde::{Deserialize, Serialize};

/// A key as listed: never the secret, only its first characters.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyView {
    id: ApiKeyId,
    kind: KeyKind,
    prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: partner_domain::Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<partner_domain::Timestamp>,
}

impl From<ApiKeyRecord> for KeyView {
    fn from(key: ApiKeyRecord) -> Self {
        Self {
            id: key.id,
            kind: key.kind,
            prefix: key.display_prefix,
            label: key.label,
            created_at: key.created_at,
            revoked_at: key.revoked_at,
        }
    }
}

/// A new key: the only response that ever carries the secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatedKey {
    id: ApiKeyId,
    kind: KeyKind,
    key: String,
    prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: partner_domain::Timestamp,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    kind: String,
    label: Option<String>,
}

fn kind(raw: &str) -> Result<KeyKind, FieldError> {
    match raw {
        "secret" => Ok(KeyKind::Secret),
        "publishable" => Ok(KeyKind::Publishable),
        _ => Err(FieldError::new("kind", "must be secret or publishable")),
    }
}

fn app_not_found() -> ApiError {
    ApiError::not_found("app_not_found", "This app does not exist.")
}

/// `GET /v1/apps/{appId}/api-keys`: every key, revoked ones included.
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: AdminApp,
) -> Result<Json<ListPage<KeyView>>, ApiError> {
    let keys = state.store().apps().list_api_keys(&admin.app_id).await?;
    Ok(Json(ListPage {
        data: keys.into_iter().map(KeyView::from).collect(),
        next_cursor: None,
    }))
}

/// `POST /v1/apps/{appId}/api-keys {kind, label?}` → 201 with the key, shown once.
pub(crate) async fn create(
    State(state): State<AppState>,
    admin: AdminApp,
    extract::Json(body): extract::Json<CreateBody>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let kind = kind(&body.kind)?;
    let label = optional_text("label", body.label.as_deref(), 100)?;
    let (record, secret) = state
        .store()
        .apps()
        .create_api_key(&admin.app_id, kind, label.as_deref(), &admin.actor())
        .await?
        .ok_or_else(app_not_found)?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            id: record.id,
            kind,
            key: secret.secret().to_owned(),
            prefix: record.display_prefix,
            label: record.label,
            created_at: record.created_at,
        }),
    ))
}

/// `DELETE /v1/apps/{appId}/api-keys/{keyId}`: revokes the key — at once on this
/// instance, within `API_KEY_CACHE_SECONDS` on every other.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = ApiKeyId::parse("keyId", &id)?;
    partner_service::commands::revoke_api_key(&state, &admin.app_id, &id, &admin.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}
