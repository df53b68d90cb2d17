//! Connecting, reading and disconnecting an app's Stripe integration.

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::stripe::{SigningSecret, StripeIntegration};
use partner_domain::{AppId, Timestamp};

use crate::AppState;
use crate::commands::{CommandError, Missing};

/// The integration with when its newest event arrived.
#[derive(Debug, Clone)]
pub struct Connection {
    pub integration: StripeIntegration,
    pub last_event_at: Option<Timestamp>,
}

fn audit(app: &AppId, actor: &Actor, action: AuditAction, summary: String) -> AuditEntry {
    AuditEntry::new(
        app.clone(),
        actor.clone(),
        action,
        AuditSubject::new(SubjectKind::Integration, "stripe"),
    )
    .with_summary(summary)
}

/// Connects the app (or replaces the secret and mode of its connection).
pub async fn connect(
    state: &AppState,
    app: &AppId,
    actor: &Actor,
    webhook_secret: SigningSecret,
    livemode: bool,
) -> Result<StripeIntegration, CommandError> {
    let integration = StripeIntegration {
        app_id: app.clone(),
        webhook_secret,
        livemode,
        connected_at: partner_domain::now(),
    };
    let mode = if livemode { "live" } else { "test" };
    let entry = audit(
        app,
        actor,
        AuditAction::IntegrationConnected,
        format!("Stripe, {mode}-mode events"),
    );
    state.store().stripe().connect(&integration, &entry).await?;
    Ok(integration)
}

/// The app's connection, if it has one: two reads at once (the integration, the
/// newest logged event).
pub async fn connection(state: &AppState, app: &AppId) -> Result<Connection, CommandError> {
    let stripe = state.store().stripe();
    let (integration, last_event_at) =
        tokio::try_join!(stripe.integration(app), stripe.last_event_at(app))?;
    let integration = integration.ok_or(CommandError::NotFound(Missing::StripeIntegration))?;
    Ok(Connection {
        integration,
        last_event_at,
    })
}

/// Disconnects: events sent afterwards answer 404 (and Stripe retries them for
/// three days, so reconnecting soon loses none).
pub async fn disconnect(state: &AppState, app: &AppId, actor: &Actor) -> Result<(), CommandError> {
    let entry = audit(
        app,
        actor,
        AuditAction::IntegrationDisconnected,
        "Stripe".to_owned(),
    );
    if state.store().stripe().disconnect(app, &entry).await? {
        Ok(())
    } else {
        Err(CommandError::NotFound(Missing::StripeIntegration))
    }
}
