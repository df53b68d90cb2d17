//! Getting events out: the bus they go to, the publisher that sends them right after
//! the transaction that recorded them, and the relay that sends whatever the
//! publisher did not (a crash between commit and publish, a bus outage).
//!
//! Delivery to the bus is at least once. Event ids are fixed in the outbox, so a
//! republished event is the same event, and consumers deduplicate on its id.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use partner_aws::OnFirstUse;
use partner_domain::events::Event;
use partner_store::{Store, StoreError};
use tokio::sync::broadcast;

/// The EventBridge `source` of every event this service publishes.
pub const EVENT_SOURCE: &str = "partner-program";

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("{failed} of {total} events were not accepted by the bus")]
    Rejected { failed: usize, total: usize },
    #[error("event bus request failed")]
    Request(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where events go: EventBridge on AWS, an in-process channel locally.
#[async_trait]
pub trait EventBus: Send + Sync + std::fmt::Debug {
    /// Sends every event or fails; a partial failure is a failure (the caller keeps
    /// the unsent events for the relay).
    async fn send(&self, events: &[Event]) -> Result<(), BusError>;
}

/// EventBridge `PutEvents`, at most 10 entries per call, retrying entries the bus
/// reports as failed.
#[derive(Debug, Clone)]
pub struct EventBridgeBus {
    client: OnFirstUse<aws_sdk_eventbridge::Client>,
    bus_name: String,
}

impl EventBridgeBus {
    pub fn new(
        client: impl Into<OnFirstUse<aws_sdk_eventbridge::Client>>,
        bus_name: impl Into<String>,
    ) -> Self {
        Self {
            client: client.into(),
            bus_name: bus_name.into(),
        }
    }

    fn entry(&self, event: &Event) -> Result<PutEventsRequestEntry, BusError> {
        let detail = serde_json::to_string(event).map_err(|e| BusError::Request(Box::new(e)))?;
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(EVENT_SOURCE)
            .detail_type(event.event.as_str())
            .detail(detail)
            .build())
    }
}

/// EventBridge's limits on one `PutEvents`: entries, and bytes of them all.
const PUT_EVENTS_BATCH: usize = 10;
const PUT_EVENTS_BYTES: usize = 256 * 1024;
const PUT_EVENTS_ATTEMPTS: u32 = 3;

/// An entry's size as EventBridge counts it: source, detail type, detail, and 14
/// bytes for the time.
fn entry_size(entry: &PutEventsRequestEntry) -> usize {
    entry.source().map_or(0, str::len)
        + entry.detail_type().map_or(0, str::len)
        + entry.detail().map_or(0, str::len)
        + 14
}

/// Consecutive groups of at most `count` items whose sizes add up to at most
/// `bytes` (an item larger than `bytes` alone goes alone; EventBridge refuses it
/// and it stays in the outbox, where an alarm sees it).
fn batches<T>(
    items: Vec<T>,
    size: impl Fn(&T) -> usize,
    count: usize,
    bytes: usize,
) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut used = 0;
    for item in items {
        let this = size(&item);
        match out.last_mut() {
            Some(batch) if batch.len() < count && used + this <= bytes => {
                used += this;
                batch.push(item);
            }
            _ => {
                used = this;
                out.push(vec![item]);
            }
        }
    }
    out
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn send(&self, events: &[Event]) -> Result<(), BusError> {
        let entries = events
            .iter()
            .map(|e| self.entry(e))
            .collect::<Result<Vec<_>, _>>()?;
        for chunk in batches(entries, entry_size, PUT_EVENTS_BATCH, PUT_EVENTS_BYTES) {
            let mut pending: Vec<PutEventsRequestEntry> = chunk;
            for attempt in 1..=PUT_EVENTS_ATTEMPTS {
                let output = self
                    .client
                    .get()
                    .put_events()
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|e| BusError::Request(Box::new(e)))?;
                if output.failed_entry_count() == 0 {
                    pending.clear();
                    break;
                }
                // Entries come back in request order; keep only those that failed.
                pending = pending
                    .into_iter()
                    .zip(output.entries())
                    .filter(|(_, result)| result.error_code().is_some())
                    .map(|(entry, _)| entry)
                    .collect();
                if attempt < PUT_EVENTS_ATTEMPTS {
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt * attempt)))
                        .await;
                }
            }
            if !pending.is_empty() {
                return Err(BusError::Rejected {
                    failed: pending.len(),
                    total: events.len(),
                });
            }
        }
        Ok(())
    }
}

/// The local bus of `partnerctl serve`: events go to in-process subscribers (the
/// local webhook dispatcher, tests).
#[derive(Debug, Clone)]
pub struct LocalBus {
    sender: broadcast::Sender<Event>,
    /// Events handed to at least one subscriber.
    sent: Arc<std::sync::atomic::AtomicU64>,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
            sent: Arc::default(),
        }
    }
}

impl LocalBus {
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// How many events reached a subscriber: with the local dispatcher's count of
    /// events received, it tells when every event has been taken up.
    pub fn sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn send(&self, events: &[Event]) -> Result<(), BusError> {
        for event in events {
            tracing::info!(event_id = %event.id, event = event.event.as_str(), "event published");
            // No subscriber is fine: the event is still published (and marked).
            if self.sender.send(event.clone()).is_ok() {
                self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        Ok(())
    }
}

/// Sends recorded events to the bus and marks them published.
#[derive(Debug, Clone)]
pub struct Publisher {
    bus: Option<Arc<dyn EventBus>>,
}

/// What a relay run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayReport {
    pub found: usize,
    pub published: usize,
    /// How long the oldest event found had waited (0 when none was found).
    pub oldest_age_seconds: u64,
    /// Whether the outbox could be read at all (an age of 0 means something only then).
    pub read: bool,
}

impl Publisher {
    /// With no bus (say, a function run locally without one), events stay in the
    /// outbox until a relay with a bus sends them.
    pub fn new(bus: Option<Arc<dyn EventBus>>) -> Self {
        Self { bus }
    }

    /// Publishes events that were just committed. Never fails the request: an event
    /// that cannot be sent now stays unpublished and the relay sends it later.
    pub async fn publish(&self, store: &Store, events: &[Event]) {
        if let Err(err) = self.try_publish(store, events).await {
            tracing::warn!(error = %err, "publishing events failed; the outbox relay will retry");
        }
    }

    async fn try_publish(&self, store: &Store, events: &[Event]) -> Result<(), PublishError> {
        let Some(bus) = &self.bus else {
            return Ok(());
        };
        bus.send(events).await?;
        for event in events {
            store.outbox().mark_published(event).await?;
        }
        Ok(())
    }

    /// Sends every event left unpublished for longer than `grace`.
    pub async fn relay(&self, store: &Store, grace: Duration) -> Result<RelayReport, PublishError> {
        let mut report = RelayReport::default();
        self.relay_into(store, grace, &mut report).await?;
        Ok(report)
    }

    /// [`Self::relay`], reporting into `report` as it goes, so a run that fails
    /// part-way still tells what it found (the outbox age alarm needs that most
    /// when the bus is down).
    pub async fn relay_into(
        &self,
        store: &Store,
        grace: Duration,
        report: &mut RelayReport,
    ) -> Result<(), PublishError> {
        let cutoff = SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        // A GSI may still list an event just marked published; never send one twice
        // in a run because of that.
        let mut sent = std::collections::HashSet::new();
        loop {
            let events: Vec<Event> = store
                .outbox()
                .unpublished(cutoff, 25)
                .await?
                .into_iter()
                .filter(|event| !sent.contains(&event.id))
                .collect();
            report.read = true;
            if events.is_empty() {
                return Ok(());
            }
            report.found += events.len();
            if let Some(oldest) = events.iter().map(|event| event.created_at).min() {
                let age = (partner_domain::now() - oldest).whole_seconds().max(0) as u64;
                report.oldest_age_seconds = report.oldest_age_seconds.max(age);
            }
            if self.bus.is_none() {
                return Ok(());
            }
            self.try_publish(store, &events).await?;
            report.published += events.len();
            sent.extend(events.into_iter().map(|event| event.id));
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("marking events published")]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    #[test]
    fn put_events_batches_hold_at_most_ten_entries_and_256_kb() {
        let sizes = vec![100_000, 100_000, 100_000, 10, 10];
        let grouped = super::batches(sizes, |s| *s, 10, 256 * 1024);
        assert_eq!(grouped, vec![vec![100_000, 100_000], vec![100_000, 10, 10]]);
        let many = super::batches((0..25).collect::<Vec<usize>>(), |_| 1, 10, 256 * 1024);
        assert_eq!(many.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
        let huge = super::batches(vec![300_000, 1], |s| *s, 10, 256 * 1024);
        assert_eq!(huge, vec![vec![300_000], vec![1]]);
    }
}
