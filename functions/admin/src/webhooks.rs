//! Webhook endpoints: register, list, change, delete, rotate the secret, read the
//! delivery log and replay a delivery.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use partner_domain::audit::{AuditAction, AuditEntry, AuditSubject, SubjectKind, fields_given};
use partner_domain::events::EventType;
use partner_domain::text::optional_text;
use partner_domain::webhooks::{
    Delivery, EndpointHealth, WebhookEndpoint, WebhookSecret, WebhookUrl, is_forbidden_ip,
};
use partner_domain::{DeliveryId, FieldError, WebhookEndpointId};
use partner_service::admin_auth::AdminApp;
use partner_service::commands;
use partner_service::extract::{self, PathParam, QueryParams};
use partner_service::views::ListPage;
use partner_service::{ApiError, AppState};
use partner_webhooks::queue::AttemptMessage;
use serde::{Deserialize, Serialize};

use crate::Paging;

/// How long a rotated-out secret keeps signing beside the new one.
const ROTATION_OVERLAP: time::Duration = time::Duration::hours(24);

fn not_found() -> ApiError {
    ApiError::not_found(
        "webhook_not_found",
        "No webhook endpoint with this id in this app.",
    )
}

/// The audit entry of an admin's change to an endpoint (never its URL's secrets or
/// its signing secret: the id leads to the endpoint).
fn endpoint_audit(admin: &AdminApp, action: AuditAction, id: &WebhookEndpointId) -> AuditEntry {
    AuditEntry::new(
        admin.app_id.clone(),
        admin.actor(),
        action,
        AuditSubject::new(SubjectKind::WebhookEndpoint, id),
    )
}

/// An endpoint as listed: never the secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EndpointView {
    id: WebhookEndpointId,
    url: String,
    events: Vec<EventType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    /// Attempts in a row that failed (absent while healthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    consecutive_failures: Option<u32>,
    /// When the current run of failures began.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    failing_since: Option<partner_domain::Timestamp>,
    /// Until when deliveries wait instead of trying (the circuit is open).
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    circuit_open_until: Option<partner_domain::Timestamp>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: partner_domain::Timestamp,
}

impl From<&WebhookEndpoint> for EndpointView {
    fn from(e: &WebhookEndpoint) -> Self {
        Self {
            id: e.id.clone(),
            url: e.url.clone(),
            events: e.events.clone(),
            description: e.description.clone(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            consecutive_failures: Some(e.health.consecutive_failures).filter(|n| *n > 0),
            failing_since: e.health.failing_since,
            circuit_open_until: e.health.open_until,
            created_at: e.created_at,
        }
    }
}

/// The endpoint with its secret: only in the answers to create and rotate.
#[derive(Debug, Serialize)]
pub(crate) struct WithSecret {
    #[serde(flatten)]
    endpoint: EndpointView,
    secret: String,
}

fn parse_events(raw: &[String]) -> Result<Vec<EventType>, FieldError> {
    if raw.is_empty() {
        return Err(FieldError::new(
            "events",
            "must name at least one event type",
        ));
    }
    let mut events = Vec::new();
    for name in raw {
        let event = EventType::ALL
            .iter()
            .copied()
            .find(|e| e.as_str() == name)
            .ok_or_else(|| FieldError::new("events", format!("{name:?} is not an event type")))?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    Ok(events)
}

/// Refuses URLs whose host is, or resolves to, a private or reserved address (the
/// dispatcher checks again at connect time).
async fn check_target(state: &AppState, raw: &str) -> Result<WebhookUrl, ApiError> {
    let url = WebhookUrl::parse("url", raw)?;
    if state.config().webhooks.allow_private_targets {
        return Ok(url);
    }
    let private = || {
        ApiError::invalid_field(FieldError::new(
            "url",
            "points to a private, loopback or reserved address",
        ))
    };
    if let Some(ip) = url.ip_literal() {
        return if is_forbidden_ip(ip) {
            Err(private())
        } else {
            Ok(url)
        };
    }
    if let Some(host) = url.domain() {
        // A name that does not resolve yet is accepted; it is checked at every connect.
        if let Ok(addresses) = tokio::net::lookup_host((host, url.port())).await
            && addresses.into_iter().any(|a| is_forbidden_ip(a.ip()))
        {
            return Err(private());
        }
    }
    Ok(url)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    url: String,
    events: Vec<String>,
    description: Option<String>,
}

/// `POST /v1/apps/{appId}/webhooks` → 201 with the secret (shown only here).
pub(crate) async fn create(
    State(state): State<AppState>,
    admin: AdminApp,
    extract::Json(body): extract::Json<CreateBody>,
) -> Result<(StatusCode, Json<WithSecret>), ApiError> {
    let events = parse_events(&body.events)?;
    let description = optional_text("description", body.description.as_deref(), 500)?;
    let url = check_target(&state, &body.url).await?;
    let endpoint = commands::webhooks::create_endpoint(
        &state,
        admin.app_id.clone(),
        admin.actor(),
        &url,
        events,
        description,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(WithSecret {
            endpoint: (&endpoint).into(),
            secret: endpoint.secret.as_str().to_owned(),
        }),
    ))
}

/// `GET /v1/apps/{appId}/webhooks`.
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: AdminApp,
) -> Result<Json<ListPage<EndpointView>>, ApiError> {
    let endpoints = state.store().webhooks().list(&admin.app_id).await?;
    Ok(Json(ListPage {
        data: endpoints.iter().map(Into::into).collect(),
        next_cursor: None,
    }))
}

async fn load(state: &AppState, admin: &AdminApp, id: &str) -> Result<WebhookEndpoint, ApiError> {
    let id = WebhookEndpointId::parse("id", id)?;
    state
        .store()
        .webhooks()
        .get(&admin.app_id, &id)
        .await?
        .ok_or_else(not_found)
}

/// `GET /v1/apps/{appId}/webhooks/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
) -> Result<Json<EndpointView>, ApiError> {
    Ok(Json((&load(&state, &admin, &id).await?).into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeBody {
    url: Option<String>,
    events: Option<Vec<String>>,
    enabled: Option<bool>,
    description: Option<String>,
}

/// `PATCH /v1/apps/{appId}/webhooks/{id}`.
pub(crate) async fn patch(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
    extract::Json(body): extract::Json<ChangeBody>,
) -> Result<Json<EndpointView>, ApiError> {
    let mut endpoint = load(&state, &admin, &id).await?;
    if let Some(events) = &body.events {
        endpoint.events = parse_events(events)?;
    }
    if let Some(description) = &body.description {
        endpoint.description = optional_text("description", Some(description), 500)?;
    }
    if let Some(url) = &body.url {
        let url = check_target(&state, url).await?.as_str().to_owned();
        // Another receiver: the old one's failures say nothing about it.
        if url != endpoint.url {
            endpoint.health = EndpointHealth::default();
        }
        endpoint.url = url;
    }
    if let Some(enabled) = body.enabled {
        // Enabling starts afresh: with its old run of failures kept, an endpoint
        // disabled after five days of them would be disabled again at its first
        // failure.
        if enabled && !endpoint.enabled {
            endpoint.health = EndpointHealth::default();
        }
        endpoint.enabled = enabled;
        if enabled {
            endpoint.disabled_reason = None;
        }
    }
    let audit = endpoint_audit(&admin, AuditAction::WebhookEndpointUpdated, &endpoint.id)
        .with_summary(fields_given(&[
            ("url", body.url.is_some()),
            ("events", body.events.is_some()),
            ("description", body.description.is_some()),
            ("enabled", body.enabled.is_some()),
        ]));
    if !state.store().webhooks().update(&endpoint, &audit).await? {
        return Err(not_found());
    }
    Ok(Json((&endpoint).into()))
}

/// `DELETE /v1/apps/{appId}/webhooks/{id}` → 204.
pub(crate) async fn delete(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = WebhookEndpointId::parse("id", &id)?;
    let audit = endpoint_audit(&admin, AuditAction::WebhookEndpointDeleted, &id);
    if state
        .store()
        .webhooks()
        .delete(&admin.app_id, &id, &audit)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}

/// `POST /v1/apps/{appId}/webhooks/{id}/rotate-secret`: a new secret, shown once;
/// the old one keeps signing beside it for 24 hours.
pub(crate) async fn rotate(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
) -> Result<Json<WithSecret>, ApiError> {
    let mut endpoint = load(&state, &admin, &id).await?;
    let old = std::mem::replace(&mut endpoint.secret, WebhookSecret::generate());
    endpoint.previous_secret = Some(old);
    endpoint.previous_secret_expires_at = Some(partner_domain::now() + ROTATION_OVERLAP);
    let audit = endpoint_audit(
        &admin,
        AuditAction::WebhookEndpointSecretRotated,
        &endpoint.id,
    );
    if !state.store().webhooks().update(&endpoint, &audit).await? {
        return Err(not_found());
    }
    Ok(Json(WithSecret {
        endpoint: (&endpoint).into(),
        secret: endpoint.secret.as_str().to_owned(),
    }))
}

/// A delivery as the log shows it: the event, where it stands, every attempt.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeliveryView {
    id: DeliveryId,
    endpoint_id: WebhookEndpointId,
    event_id: partner_domain::EventId,
    event_type: EventType,
    status: partner_domain::webhooks::DeliveryStatus,
    attempts: Vec<partner_domain::webhooks::Attempt>,
    attempt_count: u32,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    next_attempt_at: Option<partner_domain::Timestamp>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        let attempt_count = d.total_attempts();
        Self {
            attempt_count,
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event.id,
            event_type: d.event.event,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
        }
    }
}

/// `GET /v1/apps/{appId}/webhooks/{id}/deliveries?limit=&cursor=`: newest first.
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<ListPage<DeliveryView>>, ApiError> {
    let endpoint = load(&state, &admin, &id).await?;
    let limit = paging.limit()?;
    let (deliveries, next_cursor) = state
        .store()
        .webhooks()
        .deliveries(&admin.app_id, &endpoint.id, limit, paging.cursor)
        .await?;
    Ok(Json(ListPage {
        data: deliveries.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReplayQueued {
    delivery_id: DeliveryId,
    status: &'static str,
}

/// `POST /v1/apps/{appId}/webhooks/{id}/deliveries/{deliveryId}/replay` → 202: the
/// event is sent again to this endpoint, with the same `webhook-id`.
pub(crate) async fn replay(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id, delivery_id)): PathParam<(String, String, String)>,
) -> Result<(StatusCode, Json<ReplayQueued>), ApiError> {
    let endpoint = load(&state, &admin, &id).await?;
    let delivery_id = DeliveryId::parse("deliveryId", &delivery_id)?;
    let delivery = state
        .store()
        .webhooks()
        .delivery(&admin.app_id, &delivery_id)
        .await?
        .filter(|d| d.endpoint_id == endpoint.id)
        .ok_or_else(|| {
            ApiError::not_found("delivery_not_found", "No such delivery for this endpoint.")
        })?;
    // A replay beside a pending retry would race it (and end the cycle if it failed).
    if delivery.status == partner_domain::webhooks::DeliveryStatus::Pending
        && delivery.next_attempt_at.is_some()
    {
        return Err(ApiError::conflict(
            "delivery_in_progress",
            "This delivery is still being retried; replay it once it has succeeded or failed.",
        ));
    }
    let queue = state.webhook_queue().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhooks_not_configured",
            "No webhook queue is configured.",
        )
    })?;
    let message = AttemptMessage::replay(&delivery);
    queue
        .send(&message, std::time::Duration::ZERO)
        .await
        .map_err(ApiError::internal)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReplayQueued {
            delivery_id,
            status: "queued",
        }),
    ))
}
