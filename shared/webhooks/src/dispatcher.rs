//! From queue message to signed HTTP request, and what happens after.
//!
//! Each (event, endpoint) pair is its own delivery, keyed by both ids, so one
//! endpoint failing never re-sends to another, and a duplicate of an event (SQS
//! delivers at least once, the relay may republish) finds the delivery already done.
//! The `webhook-id` is the event id: the same for every attempt and replay.

use std::sync::Arc;
use std::time::Duration;

use crate::queue::{AttemptKind, AttemptMessage, QueueError, WebhookQueue, WebhookWork};
use partner_domain::DeliveryId;
use partner_domain::events::Event;
use partner_domain::webhooks::{
    Delivery, DeliveryStatus, RetrySchedule, WebhookEndpoint, WebhookUrl, signature_header,
};
use partner_store::{Store, StoreError};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{Outcome, SafeClient};

/// Deliveries in flight at once, per dispatcher.
const CONCURRENCY: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("a delivery task failed")]
    Task(#[from] tokio::task::JoinError),
}

#[derive(Debug, Clone)]
pub struct Dispatcher {
    store: Store,
    client: SafeClient,
    queue: Arc<dyn WebhookQueue>,
    schedule: RetrySchedule,
    limit: Arc<Semaphore>,
}

impl Dispatcher {
    pub fn new(
        store: Store,
        client: SafeClient,
        queue: Arc<dyn WebhookQueue>,
        schedule: RetrySchedule,
    ) -> Self {
        Self {
            store,
            client,
            queue,
            schedule,
            limit: Arc::new(Semaphore::new(CONCURRENCY)),
        }
    }

    /// Handles one queue message.
    pub async fn handle(&self, work: WebhookWork) -> Result<(), DispatchError> {
        match work {
            WebhookWork::FanOut(event) => self.fan_out(event).await,
            WebhookWork::Attempt(message) => self.scheduled(message).await,
        }
    }

    /// A new event: one delivery per enabled endpoint subscribed to its type, all at once.
    async fn fan_out(&self, event: Event) -> Result<(), DispatchError> {
        let endpoints = self.store.webhooks().list(&event.app_id).await?;
        let mut tasks = JoinSet::new();
        for endpoint in endpoints.into_iter().filter(|e| e.wants(event.event)) {
            let this = self.clone();
            let event = event.clone();
            tasks.spawn(async move { this.deliver(event, endpoint, 1, AttemptKind::Retry).await });
        }
        let mut first_error = None;
        while let Some(result) = tasks.join_next().await {
            if let Err(err) = result.map_err(DispatchError::from).and_then(|r| r) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// A retry or replay; one that arrived before it is due goes back to wait.
    async fn scheduled(&self, message: AttemptMessage) -> Result<(), DispatchError> {
        let now = partner_domain::now();
        if let Some(due) = message.not_before.filter(|due| *due > now) {
            let remaining = Duration::try_from(due - now).unwrap_or(Duration::ZERO);
            self.queue.send(&message, remaining).await?;
            return Ok(());
        }
        let Some(endpoint) = self
            .store
            .webhooks()
            .get(&message.event.app_id, &message.endpoint_id)
            .await?
        else {
            tracing::info!(endpoint = %message.endpoint_id, "endpoint deleted; attempt dropped");
            return Ok(());
        };
        if !endpoint.enabled && message.kind == AttemptKind::Retry {
            tracing::info!(endpoint = %endpoint.id, "endpoint disabled; retry dropped");
            return Ok(());
        }
        self.deliver(message.event, endpoint, message.attempt, message.kind)
            .await
    }

    async fn deliver(
        &self,
        event: Event,
        endpoint: WebhookEndpoint,
        number: u32,
        kind: AttemptKind,
    ) -> Result<(), DispatchError> {
        let _permit = self.limit.acquire().await.ok();
        let app = event.app_id.clone();
        let id = DeliveryId::of(&event.id, &endpoint.id);
        let existing = self.store.webhooks().delivery(&app, &id).await?;
        let previous_attempts = existing.as_ref().map_or(0, |d| d.total_attempts() as usize);
        // A duplicate retry message: this attempt happened, or the delivery is over.
        if kind == AttemptKind::Retry
            && let Some(done) = &existing
            && (done.status != DeliveryStatus::Pending || previous_attempts >= number as usize)
        {
            return Ok(());
        }
        let mut delivery = existing.unwrap_or_else(|| Delivery {
            id,
            app_id: app.clone(),
            endpoint_id: endpoint.id.clone(),
            event: event.clone(),
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            attempt_count: 0,
            next_attempt_at: None,
        });
        let outcome = self.send(&event, &endpoint).await;
        let succeeded = outcome.succeeded();
        let gone = outcome.gone();
        let retry_after = outcome.retry_after;
        delivery.record(outcome.attempt);
        delivery.next_attempt_at = None;
        if succeeded {
            delivery.status = DeliveryStatus::Succeeded;
        } else if gone {
            delivery.status = DeliveryStatus::Failed;
            self.disable(&endpoint, "the endpoint answered 410 Gone")
                .await?;
        } else if kind == AttemptKind::Replay {
            // A replay is one more attempt, not a new retry cycle.
            delivery.status = DeliveryStatus::Failed;
        } else {
            let next = AttemptMessage {
                kind: AttemptKind::Retry,
                event: event.clone(),
                endpoint_id: endpoint.id.clone(),
                attempt: number + 1,
                not_before: None,
            };
            match self.schedule.delay_after(number, jitter(), retry_after) {
                Some(delay) => {
                    let due = partner_domain::now() + delay;
                    delivery.next_attempt_at = Some(due);
                    // Queued before the attempt is recorded: if recording fails, the
                    // message is handled again rather than the retry being lost.
                    self.queue
                        .send(
                            &AttemptMessage {
                                not_before: Some(due),
                                ..next
                            },
                            delay,
                        )
                        .await?;
                }
                None => {
                    delivery.status = DeliveryStatus::Failed;
                    tracing::warn!(delivery = %delivery.id, "webhook attempts exhausted; message dead-lettered");
                    self.queue.dead_letter(&next).await?;
                }
            }
        }
        match self
            .store
            .webhooks()
            .save_delivery(&delivery, previous_attempts)
            .await
        {
            // Another worker recorded an attempt of the same delivery meanwhile; theirs stands.
            Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(err) => Err(err.into()),
            Ok(()) => {
                attempt_metric(delivery.status);
                Ok(())
            }
        }
    }

    async fn send(&self, event: &Event, endpoint: &WebhookEndpoint) -> Outcome {
        let body = serde_json::to_vec(event).unwrap_or_default();
        let now = partner_domain::now();
        let timestamp = now.unix_timestamp();
        let message_id = event.id.to_string();
        let signature =
            signature_header(endpoint.signing_secrets(now), &message_id, timestamp, &body);
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("webhook-id", message_id),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        match WebhookUrl::parse("url", &endpoint.url) {
            Ok(url) => self.client.post(&url, &headers, body).await,
            Err(err) => Outcome {
                attempt: partner_domain::webhooks::Attempt {
                    at: now,
                    status_code: None,
                    error: Some(err.to_string()),
                    latency_ms: 0,
                    response_excerpt: None,
                },
                retry_after: None,
            },
        }
    }

    async fn disable(&self, endpoint: &WebhookEndpoint, reason: &str) -> Result<(), DispatchError> {
        self.store
            .webhooks()
            .disable(&endpoint.app_id, &endpoint.id, reason)
            .await?;
        Ok(())
    }
}

/// A uniform number in [-1, 1] for retry jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    partner_domain::random_bytes(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) * 2.0 - 1.0
}

/// One `WebhookAttempts` metric line for a recorded attempt: `delivered`,
/// `retrying` (another attempt is queued) or `failed` (the delivery is over without
/// success: attempts exhausted and dead-lettered, 410 Gone, or a failed replay).
fn attempt_metric(status: DeliveryStatus) {
    let outcome = match status {
        DeliveryStatus::Succeeded => "delivered",
        DeliveryStatus::Failed => "failed",
        DeliveryStatus::Pending => "retrying",
    };
    partner_aws::metrics::Observation::new()
        .by(&[&["Function", "Outcome"]])
        .metric("WebhookAttempts", partner_aws::metrics::Unit::Count, 1.0)
        .field("Outcome", outcome)
        .emit();
}
