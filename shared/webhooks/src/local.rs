//! Webhooks without AWS: the dispatcher fed by the in-process event bus, with an
//! in-process queue for retries (a timer per waiting message). Used by
//! `partnerctl serve`, so a site developer receives real signed webhooks locally.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::queue::{AttemptMessage, QueueError, WebhookQueue, WebhookWork};
use async_trait::async_trait;
use partner_domain::events::Event;
use tokio::sync::{broadcast, mpsc};

use crate::Dispatcher;

/// What the local dispatcher has in hand: events taken from the bus, and work
/// (an event's fan-out, an attempt waiting out its delay or being made) not yet
/// done. A caller waits for it to be idle instead of sleeping.
#[derive(Debug, Default)]
pub struct Activity {
    events: AtomicU64,
    busy: AtomicI64,
}

impl Activity {
    /// Whether every one of `sent` bus events has been taken up and all the work
    /// from them (retries included) is done. Reads the event count first: work is
    /// counted busy before its event is counted received, so no gap looks idle.
    pub fn idle_after(&self, sent: u64) -> bool {
        self.events.load(Ordering::SeqCst) >= sent && self.busy.load(Ordering::SeqCst) == 0
    }
}

/// The receiving side of a [`LocalQueue`], for [`run`].
#[derive(Debug)]
pub struct LocalAttempts {
    receiver: mpsc::UnboundedReceiver<AttemptMessage>,
    activity: Arc<Activity>,
}

/// An in-process queue: messages come back after their delay; exhausted ones are
/// kept in `dead_letters` (and logged).
#[derive(Debug, Clone)]
pub struct LocalQueue {
    sender: mpsc::UnboundedSender<AttemptMessage>,
    dead_letters: Arc<Mutex<Vec<AttemptMessage>>>,
    activity: Arc<Activity>,
}

impl LocalQueue {
    pub fn new() -> (Self, LocalAttempts) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let activity = Arc::new(Activity::default());
        (
            Self {
                sender,
                dead_letters: Arc::default(),
                activity: Arc::clone(&activity),
            },
            LocalAttempts { receiver, activity },
        )
    }

    pub fn activity(&self) -> &Activity {
        &self.activity
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
        // Busy from now until the dispatcher has made the attempt.
        self.activity.busy.fetch_add(1, Ordering::SeqCst);
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
    attempts: LocalAttempts,
) {
    let LocalAttempts {
        receiver: mut attempts,
        activity,
    } = attempts;
    loop {
        let work = tokio::select! {
            event = events.recv() => match event {
                Ok(event) => {
                    activity.busy.fetch_add(1, Ordering::SeqCst);
                    activity.events.fetch_add(1, Ordering::SeqCst);
                    WebhookWork::FanOut(event)
                }
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
        let activity = Arc::clone(&activity);
        tokio::spawn(async move {
            if let Err(err) = dispatcher.handle(work).await {
                tracing::warn!(error = %err, "local webhook delivery failed");
            }
            activity.busy.fetch_sub(1, Ordering::SeqCst);
        });
    }
}
