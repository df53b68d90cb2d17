//! The Stripe integration: connect with the signing secret of the app's Stripe
//! webhook endpoint, read the connection, disconnect, and read the event log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use partner_domain::stripe::{Created, Outcome, ReceivedEvent, SigningSecret, StripeId};
use partner_domain::{AppId, Timestamp};
use partner_service::admin_auth::AdminApp;
use partner_service::commands::stripe::{
    self,
    connection::{self, Connection},
};
use partner_service::extract::{self, QueryParams, not_null};
use partner_service::views::ListPage;
use partner_service::{ApiError, AppState};
use serde::{Deserialize, Serialize};

use crate::Paging;

/// `{webhookSecret: "whsec_…", livemode?: true}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ConnectBody {
    webhook_secret: String,
    #[serde(default, deserialize_with = "not_null")]
    livemode: Option<bool>,
}

/// Never the secret.
impl std::fmt::Debug for ConnectBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectBody")
            .field("livemode", &self.livemode)
            .finish_non_exhaustive()
    }
}

/// The connection as shown: never the secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConnectionView {
    connected: bool,
    /// Where Stripe should send the app's events (`null` when `PUBLIC_BASE_URL`
    /// is not configured).
    endpoint_url: Option<String>,
    livemode: bool,
    #[serde(with = "time::serde::rfc3339")]
    connected_at: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    last_event_at: Option<Timestamp>,
}

fn endpoint_url(state: &AppState, app: &AppId) -> Option<String> {
    let base = state.config().public_base_url.as_deref()?;
    Some(format!(
        "{base}{}",
        stripe::ENDPOINT.replace("{appId}", app.as_str())
    ))
}

fn view(state: &AppState, connection: Connection) -> ConnectionView {
    let integration = connection.integration;
    ConnectionView {
        connected: true,
        endpoint_url: endpoint_url(state, &integration.app_id),
        livemode: integration.livemode,
        connected_at: integration.connected_at,
        last_event_at: connection.last_event_at,
    }
}

/// `PUT …/integrations/stripe`: connects, or replaces the secret and mode.
pub(crate) async fn put(
    State(state): State<AppState>,
    admin: AdminApp,
    extract::Json(body): extract::Json<ConnectBody>,
) -> Result<Json<ConnectionView>, ApiError> {
    let secret = SigningSecret::parse("webhookSecret", body.webhook_secret.trim())?;
    let integration = connection::connect(
        &state,
        &admin.app_id,
        &admin.actor(),
        secret,
        body.livemode.unwrap_or(true),
    )
    .await?;
    Ok(Json(view(
        &state,
        Connection {
            integration,
            last_event_at: None,
        },
    )))
}

/// `GET …/integrations/stripe`.
pub(crate) async fn get(
    State(state): State<AppState>,
    admin: AdminApp,
) -> Result<Json<ConnectionView>, ApiError> {
    let connection = connection::connection(&state, &admin.app_id).await?;
    Ok(Json(view(&state, connection)))
}

/// `DELETE …/integrations/stripe`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    admin: AdminApp,
) -> Result<StatusCode, ApiError> {
    connection::disconnect(&state, &admin.app_id, &admin.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A received event as the log shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventView {
    id: StripeId,
    #[serde(rename = "type")]
    kind: String,
    livemode: bool,
    #[serde(with = "time::serde::rfc3339")]
    received_at: Timestamp,
    outcome: Outcome,
    reason: Option<String>,
    created: Created,
}

impl From<ReceivedEvent> for EventView {
    fn from(e: ReceivedEvent) -> Self {
        Self {
            id: e.id,
            kind: e.event_type,
            livemode: e.livemode,
            received_at: e.received_at,
            outcome: e.outcome,
            reason: e.reason,
            created: e.created,
        }
    }
}

/// `GET …/integrations/stripe/events?limit=&cursor=`: newest first, one query.
pub(crate) async fn events(
    State(state): State<AppState>,
    admin: AdminApp,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<ListPage<EventView>>, ApiError> {
    let limit = paging.limit()?;
    let (events, next_cursor) = state
        .store()
        .stripe()
        .events(&admin.app_id, limit, paging.cursor)
        .await?;
    Ok(Json(ListPage {
        data: events.into_iter().map(EventView::from).collect(),
        next_cursor,
    }))
}
