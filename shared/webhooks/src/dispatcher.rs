//! From queue message to signed HTTP request, and what happens after.
//!
//! Each (event, endpoint) pair is its own delivery, keyed by both ids, so one
//! endpoint failing never re-sends to another, and a duplicate of an event (SQS
//! delivers at least once, the relay may republish) finds the delivery already done.
//! The `webhook-id` is the event id: the same for every attempt and replay.
//!
//! A batch's apps share the dispatcher fairly ([`crate::fair`]); an endpoint that
//! keeps failing is left alone for a while and, after five days, disabled
//! ([`crate::health`]).
//!
//! Two lanes keep one app's bad endpoints from holding up everyone's webhooks: a
//! batch waits for its slowest delivery, so only endpoints whose last attempt
//! succeeded fast (`EndpointHealth::fast`) are attempted inline, on the main lane.
//! Every other delivery (to a new, failing or slow endpoint, and every retry) is
//! sent to the slow lane, a queue of its own with its own invocations, where a
//! hanging endpoint can cost only other slow-lane deliveries their time.

use std::sync::Arc;
use std::time::Duration;

use crate::fair::FairShare;
use crate::queue::{AttemptKind, AttemptMessage, QueueError, WebhookQueue, WebhookWork};
use partner_domain::events::Event;
use partner_domain::webhooks::{
    CircuitPolicy, Delivery, DeliveryStatus, EndpointHealth, RetrySchedule, WebhookEndpoint,
    WebhookUrl, signature_header,
};
use partner_domain::{DeliveryId, Timestamp, WebhookEndpointId};
use partner_store::{Store, StoreError};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{Outcome, SafeClient};

/// Deliveries in flight at once, per dispatcher, unless [`Dispatcher::with_concurrency`]
/// says otherwise.
pub const CONCURRENCY: usize = 32;

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
    pub(crate) store: Store,
    client: SafeClient,
    pub(crate) queue: Arc<dyn WebhookQueue>,
    schedule: RetrySchedule,
    limit: Arc<Semaphore>,
    concurrency: usize,
    /// The apps' shares of the batch being handled; empty outside a batch.
    share: FairShare,
    pub(crate) circuit: CircuitPolicy,
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
            concurrency: CONCURRENCY,
            share: FairShare::default(),
            circuit: CircuitPolicy::default(),
        }
    }

    /// The same dispatcher making at most `concurrency` deliveries at once.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        self.limit = Arc::new(Semaphore::new(concurrency));
        self.concurrency = concurrency;
        self
    }

    /// The same dispatcher with another circuit breaker than the default (five
    /// failures in a row, a minute to an hour, disabled after five days).
    pub fn with_circuit(mut self, circuit: CircuitPolicy) -> Self {
        self.circuit = circuit;
        self
    }

    /// Handles one queue message.
    pub async fn handle(&self, work: WebhookWork) -> Result<(), DispatchError> {
        match work {
            WebhookWork::FanOut(event) => self.fan_out(event).await,
            WebhookWork::Attempt(message) => self.scheduled(message).await,
        }
    }

    /// Handles a batch of messages at once, each app held to its fair share of the
    /// deliveries in flight (see [`crate::fair`]). One result per message, in the
    /// batch's order.
    pub async fn handle_batch(&self, batch: Vec<WebhookWork>) -> Vec<Result<(), DispatchError>> {
        let this = Self {
            share: FairShare::new(self.concurrency, batch.iter().map(WebhookWork::app_id)),
            ..self.clone()
        };
        let tasks: Vec<_> = batch
            .into_iter()
            .map(|work| {
                let this = this.clone();
                tokio::spawn(async move { this.handle(work).await })
            })
            .collect();
        let mut results = Vec::with_capacity(tasks.len());
        // All run at once; awaiting them in order only orders the results.
        for task in tasks {
            results.push(task.await.map_err(DispatchError::from).and_then(|r| r));
        }
        results
    }

    /// A new event: one delivery per enabled endpoint subscribed to its type, all at once.
    async fn fan_out(&self, event: Event) -> Result<(), DispatchError> {
        let endpoints = self.store.webhooks().list(&event.app_id).await?;
        let mut tasks = JoinSet::new();
        for endpoint in endpoints.into_iter().filter(|e| e.wants(event.event)) {
            let this = self.clone();
            let event = event.clone();
            tasks.spawn(async move {
                if endpoint.health.fast {
                    this.deliver(event, endpoint.id, 1, AttemptKind::Retry, false)
                        .await
                } else {
                    this.to_slow_lane(event, endpoint.id, 1, AttemptKind::Retry)
                        .await
                }
            });
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
        self.deliver(
            message.event,
            message.endpoint_id,
            message.attempt,
            message.kind,
            message.slow_lane,
        )
        .await
    }

    /// Sends attempt `number` to the slow lane, at once; nothing is written.
    async fn to_slow_lane(
        &self,
        event: Event,
        endpoint_id: WebhookEndpointId,
        number: u32,
        kind: AttemptKind,
    ) -> Result<(), DispatchError> {
        let message = AttemptMessage {
            kind,
            event,
            endpoint_id,
            attempt: number,
            not_before: None,
            slow_lane: true,
        };
        self.queue.send(&message, Duration::ZERO).await?;
        Ok(())
    }

    /// Attempt `number` of delivering `event` to the endpoint (a replay: one more),
    /// on the slow lane or the main one.
    async fn deliver(
        &self,
        event: Event,
        endpoint_id: WebhookEndpointId,
        number: u32,
        kind: AttemptKind,
        slow_lane: bool,
    ) -> Result<(), DispatchError> {
        let app = event.app_id.clone();
        // The app's share first, then a shared slot (see `crate::fair`).
        let _share = self.share.acquire(&app).await;
        let _permit = self.limit.acquire().await.ok();
        let id = DeliveryId::of(&event.id, &endpoint_id);
        // One read for both, made now rather than when the message arrived: the
        // attempts before this one may have opened the endpoint's circuit.
        let (existing, endpoint) = self
            .store
            .webhooks()
            .delivery_and_endpoint(&app, &id, &endpoint_id)
            .await?;
        let Some(endpoint) = endpoint else {
            tracing::info!(endpoint = %endpoint_id, "endpoint deleted; attempt dropped");
            return Ok(());
        };
        let stored = existing.as_ref().map(Delivery::total_attempts);
        // A duplicate retry message: this attempt happened, or the delivery is over.
        if kind == AttemptKind::Retry
            && let Some(done) = &existing
            && (done.status != DeliveryStatus::Pending || done.total_attempts() >= number)
        {
            return Ok(());
        }
        let delivery = existing.unwrap_or_else(|| Delivery {
            id,
            app_id: app,
            endpoint_id: endpoint.id.clone(),
            event,
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            attempt_count: 0,
            next_attempt_at: None,
        });
        // The main lane waits for no endpoint that is not known to answer fast
        // (replays included).
        if !slow_lane && !endpoint.health.fast && (endpoint.enabled || kind == AttemptKind::Replay)
        {
            return self
                .to_slow_lane(delivery.event, delivery.endpoint_id, number, kind)
                .await;
        }
        // A replay is an admin's explicit request: it goes out whatever the
        // endpoint's state, and its outcome counts like any attempt's.
        if kind == AttemptKind::Retry {
            if !endpoint.enabled {
                return self.abandon(delivery, stored).await;
            }
            let now = partner_domain::now();
            if endpoint.health.is_open(now) {
                return self.defer(delivery, stored, &endpoint, number, now).await;
            }
        }
        self.attempt(delivery, stored, &endpoint, number, kind)
            .await
    }

    /// Sends, records the attempt and its effect on the endpoint, and schedules
    /// what comes next.
    async fn attempt(
        &self,
        mut delivery: Delivery,
        stored: Option<u32>,
        endpoint: &WebhookEndpoint,
        number: u32,
        kind: AttemptKind,
    ) -> Result<(), DispatchError> {
        let outcome = self.send(&delivery.event, endpoint).await;
        let outcome_latency_ms = outcome.attempt.latency_ms;
        let now = partner_domain::now();
        let succeeded = outcome.succeeded();
        let gone = outcome.gone();
        let retry_after = outcome.retry_after;
        delivery.record(outcome.attempt);
        delivery.next_attempt_at = None;
        let health = if succeeded {
            EndpointHealth::after_success(Duration::from_millis(outcome_latency_ms))
        } else {
            endpoint.health.after_failure(now, &self.circuit)
        };
        // Written with the attempt, and only when it changed: a healthy endpoint's
        // deliveries cost what they did before there was a circuit breaker.
        let mut health_change = (health != endpoint.health).then_some(&health);
        if succeeded {
            delivery.status = DeliveryStatus::Succeeded;
        } else if let Some(reason) = crate::health::give_up(gone, &health, now, &self.circuit) {
            delivery.status = DeliveryStatus::Failed;
            // Disabled (with its health) before the attempt is recorded.
            self.disable(endpoint, &health, &reason, now).await?;
            health_change = None;
        } else if kind == AttemptKind::Replay {
            // A replay is one more attempt, not a new retry cycle.
            delivery.status = DeliveryStatus::Failed;
        } else {
            self.retry(&mut delivery, number, retry_after, &health, now)
                .await?;
        }
        if self.save(&delivery, stored, health_change).await? {
            attempt_metric(delivery.status);
        }
        Ok(())
    }

    /// Queues the next attempt after a failed one, or dead-letters the delivery
    /// when that was its last.
    async fn retry(
        &self,
        delivery: &mut Delivery,
        number: u32,
        retry_after: Option<Duration>,
        health: &EndpointHealth,
        now: Timestamp,
    ) -> Result<(), DispatchError> {
        let next = AttemptMessage {
            kind: AttemptKind::Retry,
            event: delivery.event.clone(),
            endpoint_id: delivery.endpoint_id.clone(),
            attempt: number + 1,
            not_before: None,
            // A failed endpoint is on the slow lane until it answers fast again.
            slow_lane: !health.fast,
        };
        match self.schedule.delay_after(number, jitter(), retry_after) {
            Some(delay) => {
                // Due while the circuit is open, the retry would only be deferred:
                // it waits for the circuit instead.
                let closed_in = health
                    .open_until
                    .and_then(|until| Duration::try_from(until - now).ok())
                    .unwrap_or(Duration::ZERO);
                let delay = delay.max(closed_in);
                let due = now + delay;
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
        Ok(())
    }

    /// Records a delivery; `false` when another worker recorded an attempt of it
    /// meanwhile (theirs stands).
    pub(crate) async fn save(
        &self,
        delivery: &Delivery,
        stored: Option<u32>,
        health: Option<&EndpointHealth>,
    ) -> Result<bool, DispatchError> {
        match self
            .store
            .webhooks()
            .save_delivery(delivery, stored, health)
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(err) => Err(err.into()),
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
}

/// A uniform number in [-1, 1] for retry jitter.
pub(crate) fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    partner_domain::random_bytes(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) * 2.0 - 1.0
}

/// One `WebhookAttempts` metric line for a recorded attempt: `delivered`,
/// `retrying` (another attempt is queued) or `failed` (the delivery is over without
/// success: attempts exhausted and dead-lettered, 410 Gone, the endpoint disabled
/// after five days of failures, or a failed replay).
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
