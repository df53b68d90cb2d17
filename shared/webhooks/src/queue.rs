//! The queue webhook work flows through: events fanned out by the EventBridge rule,
//! and attempt messages this service puts on it (retries, replays).
//!
//! SQS delays a message by at most 15 minutes, but the retry schedule waits up to
//! 10 hours. An attempt message therefore carries `notBefore`: it is sent with the
//! longest delay SQS allows, and a worker that receives it early sends it on again
//! with the remaining delay, until it is due. After the last attempt the message is
//! sent to the dead-letter queue, so nothing is dropped.

use std::time::Duration;

use async_trait::async_trait;
use partner_aws::OnFirstUse;
use partner_domain::events::Event;
use partner_domain::{Timestamp, WebhookEndpointId};
use serde::{Deserialize, Serialize};

/// SQS's longest per-message delay.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_secs(900);

/// Deliver an event to one endpoint: attempt number `attempt`, not before `notBefore`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptMessage {
    pub kind: AttemptKind,
    pub event: Event,
    pub endpoint_id: WebhookEndpointId,
    /// 1 for the first attempt.
    pub attempt: u32,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<Timestamp>,
    /// Sent on the slow lane: attempted there, whatever the endpoint's lane.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub slow_lane: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttemptKind {
    /// A scheduled retry after a failed attempt.
    Retry,
    /// An admin asked to send the event again, whatever happened before.
    Replay,
}

impl AttemptMessage {
    /// The message that sends a recorded delivery again, now, with the same event
    /// (and so the same `webhook-id`).
    pub fn replay(delivery: &partner_domain::webhooks::Delivery) -> Self {
        Self {
            kind: AttemptKind::Replay,
            event: delivery.event.clone(),
            endpoint_id: delivery.endpoint_id.clone(),
            attempt: delivery.total_attempts() + 1,
            not_before: None,
            slow_lane: false,
        }
    }
}

/// What a message on the webhook queue asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookWork {
    /// A new event from the bus: deliver to every subscribed endpoint.
    FanOut(Event),
    /// One attempt at one endpoint.
    Attempt(AttemptMessage),
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the message is neither an EventBridge event nor an attempt message: {0}")]
    Unreadable(String),
    #[error("sending to the queue failed")]
    Send(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The EventBridge envelope around an event, as the rule delivers it to SQS.
#[derive(Debug, Deserialize)]
struct EventBridgeEnvelope {
    detail: Event,
}

impl WebhookWork {
    /// The app the work is for.
    pub fn app_id(&self) -> &partner_domain::AppId {
        match self {
            Self::FanOut(event) => &event.app_id,
            Self::Attempt(message) => &message.event.app_id,
        }
    }

    /// Reads a queue message body.
    pub fn parse(body: &str) -> Result<Self, QueueError> {
        if let Ok(attempt) = serde_json::from_str::<AttemptMessage>(body) {
            return Ok(Self::Attempt(attempt));
        }
        serde_json::from_str::<EventBridgeEnvelope>(body)
            .map(|envelope| Self::FanOut(envelope.detail))
            .map_err(|e| QueueError::Unreadable(e.to_string()))
    }
}

#[async_trait]
pub trait WebhookQueue: Send + Sync + std::fmt::Debug {
    /// Puts an attempt message on the queue, to be received after `delay` (the queue
    /// may cap it; `notBefore` in the message is what counts). A message marked
    /// `slowLane` goes to the slow lane's queue where there is one.
    async fn send(&self, message: &AttemptMessage, delay: Duration) -> Result<(), QueueError>;

    /// Parks a message whose attempts are exhausted in the dead-letter queue.
    async fn dead_letter(&self, message: &AttemptMessage) -> Result<(), QueueError>;
}

/// The SQS queue the rule feeds, the slow lane's queue, and their dead-letter queue.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: OnFirstUse<aws_sdk_sqs::Client>,
    queue_url: String,
    slow_lane_url: Option<String>,
    dead_letter_url: String,
}

impl SqsQueue {
    pub fn new(
        client: impl Into<OnFirstUse<aws_sdk_sqs::Client>>,
        queue_url: impl Into<String>,
        dead_letter_url: impl Into<String>,
    ) -> Self {
        Self {
            client: client.into(),
            queue_url: queue_url.into(),
            slow_lane_url: None,
            dead_letter_url: dead_letter_url.into(),
        }
    }

    /// Slow-lane messages go to `url` (without one, to the main queue).
    pub fn with_slow_lane(mut self, url: Option<String>) -> Self {
        self.slow_lane_url = url;
        self
    }

    async fn put(
        &self,
        url: &str,
        message: &AttemptMessage,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let body = serde_json::to_string(message).map_err(|e| QueueError::Send(Box::new(e)))?;
        self.client
            .get()
            .send_message()
            .queue_url(url)
            .message_body(body)
            .delay_seconds(delay.min(MAX_QUEUE_DELAY).as_secs() as i32)
            .send()
            .await
            .map_err(|e| QueueError::Send(Box::new(e)))?;
        Ok(())
    }
}

#[async_trait]
impl WebhookQueue for SqsQueue {
    async fn send(&self, message: &AttemptMessage, delay: Duration) -> Result<(), QueueError> {
        let url = match (&self.slow_lane_url, message.slow_lane) {
            (Some(slow), true) => slow,
            _ => &self.queue_url,
        };
        self.put(url, message, delay).await
    }

    async fn dead_letter(&self, message: &AttemptMessage) -> Result<(), QueueError> {
        self.put(&self.dead_letter_url, message, Duration::ZERO)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eventbridge_envelopes_fan_out_and_attempt_messages_round_trip() {
        let event = serde_json::json!({"id": "evt_01", "event": "partner_application_submitted",
            "createdAt": "2026-11-24T12:00:00Z", "appId": "app_01", "data": {}});
        let envelope = serde_json::json!({"version": "0", "id": "x", "detail-type": "partner_application_submitted",
            "source": "partner-program", "time": "2026-11-24T12:00:00Z", "region": "us-east-1",
            "resources": [], "detail": event});
        let WebhookWork::FanOut(parsed) = WebhookWork::parse(&envelope.to_string()).unwrap() else {
            panic!("not a fan-out")
        };
        assert_eq!(parsed.id.as_str(), "evt_01");
        let message = AttemptMessage {
            kind: AttemptKind::Retry,
            event: parsed,
            endpoint_id: WebhookEndpointId::generate(),
            attempt: 2,
            not_before: Some(partner_domain::now()),
            slow_lane: true,
        };
        let body = serde_json::to_string(&message).unwrap();
        assert_eq!(
            WebhookWork::parse(&body).unwrap(),
            WebhookWork::Attempt(message)
        );
        assert!(WebhookWork::parse("{\"hello\": 1}").is_err());
    }
}
