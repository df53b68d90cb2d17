//! Webhook endpoints: registering one within the app's limit.

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::events::EventType;
use partner_domain::webhooks::{WebhookEndpoint, WebhookSecret, WebhookUrl};
use partner_domain::{AppId, WebhookEndpointId};

use super::CommandError;
use crate::AppState;

/// Registers an endpoint of `app`, enabled, with a new signing secret. Each
/// endpoint costs every event a delivery, so the operator's
/// `MAX_WEBHOOK_ENDPOINTS` bounds one app's fan-out (and the dispatcher's time on
/// it); a counter beside the app, moved in the endpoint's own transaction, holds
/// the limit under concurrent creates.
pub async fn create_endpoint(
    state: &AppState,
    app: AppId,
    actor: Actor,
    url: &WebhookUrl,
    events: Vec<EventType>,
    description: Option<String>,
) -> Result<WebhookEndpoint, CommandError> {
    let limit = u32::try_from(state.config().webhooks.max_endpoints_per_app).unwrap_or(u32::MAX);
    let endpoint = WebhookEndpoint {
        id: WebhookEndpointId::generate(),
        app_id: app,
        url: url.as_str().to_owned(),
        events,
        description,
        enabled: true,
        disabled_reason: None,
        health: Default::default(),
        secret: WebhookSecret::generate(),
        previous_secret: None,
        previous_secret_expires_at: None,
        created_at: partner_domain::now(),
    };
    let audit = AuditEntry::new(
        endpoint.app_id.clone(),
        actor,
        AuditAction::WebhookEndpointCreated,
        AuditSubject::new(SubjectKind::WebhookEndpoint, &endpoint.id),
    );
    state
        .store()
        .webhooks()
        .create(&endpoint, limit, &audit)
        .await?;
    Ok(endpoint)
}
