//! Webhooks without AWS: the dispatcher fed by the in-process event bus, with an
//! in-process queue for retries (a timer per waiting message). Used by
//! `partnerctl serve`, so a site developer receives real signed webhooks locally.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::queue::{AttemptMessage, QueueError, WebhookQueue, WebhookWork};
use async_trait::async_trait;
use partner_domain::events::Event;
use tokio::sync::{broadcast, mpsc};

use crate::Dispatcher;

/// An in-process queue: messages come back after their delay; exhausted ones are
/// kept in `dead_letters` (and logged).
#[derive(Debug, Clone)]
pub struct LocalQueue {
    sender: mpsc::UnboundedSender<AttemptMessage>,
    dead_letters: Arc<Mutex<Vec<AttemptMessage>>>,
}

impl LocalQueue {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<AttemptMessage>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (
            Self {
                sender,
                dead_letters: Arc::default(),
            },
            receiver,
        )
    }

    pub fn dead_letters(&self) -> Vec<AttemptMessage> {
        self.dead_letters
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl WebhookQueue for LocalQueue {
    async fn send(&self, message: &AttemptMessage, delay: Duration) -> Result<(), QueueError> {
        let sender = self.sender.clone();
        let message = message.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = sender.send(message);
        });
        Ok(())
    }

    async fn dead_letter(&self, message: &AttemptMessage) -> Result<(), QueueError> {
        tracing::warn!(event = %message.event.id, endpoint = %message.endpoint_id, "webhook dead-lettered");
        if let Ok(mut dead) = self.dead_letters.lock() {
            dead.push(message.clone());
        }
        Ok(())
    }
}

/// Runs the dispatcher on events from `events` and attempts from `attempts` until
/// either closes. Subscribe to the bus before spawning this, so no event published
/// in between is missed.
pub async fn run(
    dispatcher: Dispatcher,
    mut events: broadcast::Receiver<Event>,
    mut attempts: mpsc::UnboundedReceiver<AttemptMessage>,
) {
    loop {
        let work = tokio::select! {
            event = events.recv() => match event {
                Ok(event) => WebhookWork::FanOut(event),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "local webhook worker fell behind");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            attempt = attempts.recv() => match attempt {
                Some(message) => WebhookWork::Attempt(message),
                None => return,
            },
        };
        let dispatcher = dispatcher.clone();
        tokio::spawn(async move {
            if let Err(err) = dispatcher.handle(work).await {
                tracing::warn!(error = %err, "local webhook delivery failed");
            }
        });
    }
}
