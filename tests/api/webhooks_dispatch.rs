//! The dispatcher under failing endpoints, through the Lambda's batch handler:
//! a hanging endpoint of one app does not hold back another app's deliveries in
//! the same batch; five failures in a row open an endpoint's circuit, after which
//! deliveries wait without a request until a probe succeeds and closes it; five
//! days of failures disable the endpoint, announced once by `endpoint_disabled`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use axum::http::Method;
use partner_domain::audit::{AuditAction, AuditEntry, SubjectKind};
use partner_domain::events::{Event, EventType};
use partner_domain::webhooks::{
    DeliveryStatus, EndpointHealth, RetrySchedule, WebhookEndpoint, WebhookSecret, WebhookUrl,
};
use partner_domain::{AppId, DeliveryId, WebhookEndpointId};
use partner_store::Store;
use partner_tests::{Receiver, Reply, TestApp};
use partner_webhooks::Dispatcher;
use partner_webhooks::client::SafeClient;
use partner_webhooks::queue::{AttemptMessage, QueueError, WebhookQueue};
use serde_json::{Value, json};

/// The time-out of one attempt in these tests.
const TIMEOUT: Duration = Duration::from_secs(1);

/// A queue that keeps what is sent to it (nothing comes back by itself): the
/// tests look at what the dispatcher scheduled, and feed messages back by hand.
#[derive(Debug, Default)]
struct Recorded {
    sent: Mutex<Vec<(AttemptMessage, Duration)>>,
    dead: Mutex<Vec<AttemptMessage>>,
}

#[async_trait]
impl WebhookQueue for Recorded {
    async fn send(&self, message: &AttemptMessage, delay: Duration) -> Result<(), QueueError> {
        self.sent.lock().unwrap().push((message.clone(), delay));
        Ok(())
    }

    async fn dead_letter(&self, message: &AttemptMessage) -> Result<(), QueueError> {
        self.dead.lock().unwrap().push(message.clone());
        Ok(())
    }
}

impl Recorded {
    /// The messages sent for attempt `number`.
    fn attempts(&self, number: u32) -> Vec<AttemptMessage> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _)| m.attempt == number)
            .map(|(m, _)| m.clone())
            .collect()
    }

    fn all(&self) -> Vec<(AttemptMessage, Duration)> {
        self.sent.lock().unwrap().clone()
    }

    fn dead_letters(&self) -> Vec<AttemptMessage> {
        self.dead.lock().unwrap().clone()
    }

    /// Takes the deliveries the main lane handed to the slow lane (sent at once,
    /// with no due time), as they would arrive on the slow lane's queue.
    fn take_handed_over(&self) -> Vec<SqsMessage> {
        let mut sent = self.sent.lock().unwrap();
        let (handed, rest): (Vec<_>, Vec<_>) = sent
            .drain(..)
            .partition(|(m, delay)| m.slow_lane && m.not_before.is_none() && delay.is_zero());
        *sent = rest;
        handed
            .into_iter()
            .map(|(m, _)| record(serde_json::to_value(&m).unwrap()))
            .collect()
    }
}

/// One batch through the Lambda's handler, then what it handed to the slow lane,
/// batch after batch, as the slow lane's invocations would.
async fn handle_both_lanes(dispatcher: &Dispatcher, queue: &Recorded, records: Vec<SqsMessage>) {
    handle(dispatcher, records).await;
    loop {
        let handed = queue.take_handed_over();
        if handed.is_empty() {
            return;
        }
        handle(dispatcher, handed).await;
    }
}

fn dispatcher(store: &Store, queue: &Arc<Recorded>, client: SafeClient) -> Dispatcher {
    let queue: Arc<dyn WebhookQueue> = queue.clone();
    Dispatcher::new(
        store.clone(),
        client,
        queue,
        RetrySchedule::parse("60").unwrap(),
    )
}

/// An enabled endpoint of `app` at `url` for approvals, created through the store.
async fn create_endpoint(store: &Store, app: &AppId, url: &str) -> WebhookEndpoint {
    let endpoint = WebhookEndpoint {
        id: WebhookEndpointId::generate(),
        app_id: app.clone(),
        url: url.to_owned(),
        events: vec![EventType::PartnerApplicationApproved],
        description: None,
        enabled: true,
        disabled_reason: None,
        // Proven fast, so its deliveries are made inline (the main lane).
        health: EndpointHealth {
            fast: true,
            ..EndpointHealth::default()
        },
        secret: WebhookSecret::generate(),
        previous_secret: None,
        previous_secret_expires_at: None,
        created_at: partner_domain::now(),
    };
    let audit = audit_of(&endpoint, AuditAction::WebhookEndpointCreated);
    store
        .webhooks()
        .create(&endpoint, 20, &audit)
        .await
        .unwrap();
    endpoint
}

/// The audit entry an admin's change of `endpoint` carries.
fn audit_of(endpoint: &WebhookEndpoint, action: AuditAction) -> AuditEntry {
    partner_tests::test_audit_entry(
        &endpoint.app_id,
        action,
        SubjectKind::WebhookEndpoint,
        &endpoint.id,
    )
}

async fn endpoint_now(store: &Store, endpoint: &WebhookEndpoint) -> WebhookEndpoint {
    store
        .webhooks()
        .get(&endpoint.app_id, &endpoint.id)
        .await
        .unwrap()
        .unwrap()
}

fn approval(app: &AppId) -> Event {
    Event::new(
        EventType::PartnerApplicationApproved,
        app.clone(),
        json!({"application": {"id": "apl_test", "email": "partner@example.com", "name": "Jane"}}),
        partner_domain::now(),
    )
}

fn record(body: Value) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(partner_domain::EventId::generate().to_string());
    message.body = Some(body.to_string());
    message
}

/// An event as the EventBridge rule puts it on the queue.
fn fan_out(event: &Event) -> SqsMessage {
    record(json!({"version": "0", "detail-type": event.event.as_str(),
        "source": "partner-program", "detail": event}))
}

/// One batch through the Lambda's handler; every message must be handled.
async fn handle(dispatcher: &Dispatcher, records: Vec<SqsMessage>) {
    let mut event = SqsEvent::default();
    event.records = records;
    let response = webhook_dispatcher::handle(dispatcher, event).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
}

/// The client, built and connected once, so its first use (reading the machine's
/// root certificates) is not part of what a test times.
async fn warm_client(timeout: Duration) -> SafeClient {
    let client = SafeClient::new(timeout, true);
    let warm = Receiver::start(vec![]).await;
    let url = WebhookUrl::parse("url", &warm.url).unwrap();
    assert!(client.post(&url, &[], Vec::new()).await.succeeded());
    client
}

#[tokio::test]
async fn a_hanging_endpoint_of_one_app_does_not_hold_back_another_apps_deliveries() {
    let store = partner_store::testing::memory();
    let a = TestApp::on(store.clone()).await;
    let (b, _) = a.second_app().await;
    let mut hang = Reply::status(200);
    hang.delay = Duration::from_secs(3);
    let tarpit = Receiver::start(vec![hang; 5]).await;
    let healthy = Receiver::start(vec![]).await;
    create_endpoint(&store, &a.app_id, &tarpit.url).await;
    create_endpoint(&store, &b, &healthy.url).await;
    let queue = Arc::new(Recorded::default());
    // Two deliveries at once in all; with A and B in the batch, one each.
    let dispatcher = dispatcher(&store, &queue, warm_client(TIMEOUT).await).with_concurrency(2);
    let mut records: Vec<SqsMessage> = (0..8).map(|_| fan_out(&approval(&a.app_id))).collect();
    records.push(fan_out(&approval(&b)));
    let started = Instant::now();
    let batch = tokio::spawn(async move { handle(&dispatcher, records).await });
    let to_b = healthy.wait_for(1, Duration::from_secs(30)).await;
    let waited = started.elapsed();
    let a_so_far = tarpit.received().len();
    assert_eq!(to_b.len(), 1);
    // Sharing two slots first come, first served, A's first two hanging requests
    // would take both and B would wait at least their time-out.
    assert!(
        waited < TIMEOUT,
        "B waited {waited:?} behind A's hanging endpoint"
    );
    assert!(
        a_so_far <= 1,
        "A had {a_so_far} requests out, more than its share"
    );
    batch.await.unwrap();
    // A's first delivery hung and timed out; that put its endpoint on the slow
    // lane, and the main lane handed A's other seven deliveries over to it
    // without a request, so the batch waited for one time-out, not eight.
    assert_eq!(tarpit.received().len(), 1);
    assert!(started.elapsed() < 2 * TIMEOUT + Duration::from_millis(500));
    let handed = queue.take_handed_over();
    assert_eq!(handed.len(), 7, "{:#?}", queue.all());
    assert_eq!(healthy.received().len(), 1);
}

/// Five failures open the circuit; deliveries then wait without a request, at
/// the cost of a listing, a read and a write; a successful probe closes it.
async fn the_circuit_opens_defers_and_closes(store: Store) {
    let app = TestApp::on(store.clone()).await;
    let receiver = Receiver::start(vec![Reply::status(500); 5]).await;
    let endpoint = create_endpoint(&store, &app.app_id, &receiver.url).await;
    let queue = Arc::new(Recorded::default());
    // One delivery at a time, so each attempt sees the outcome of the one before.
    let dispatcher = dispatcher(&store, &queue, SafeClient::new(TIMEOUT, true)).with_concurrency(1);

    let before = store.calls();
    handle(&dispatcher, vec![fan_out(&approval(&app.app_id))]).await;
    let calls = store.calls().since(before);
    // A failed attempt: the listing, one batch read (delivery and endpoint), one
    // transaction (the delivery and the endpoint's health).
    assert_eq!(
        (calls.queries, calls.gets, calls.transactions, calls.writes),
        (1, 1, 1, 0),
        "{calls:?}"
    );
    assert_eq!(
        endpoint_now(&store, &endpoint)
            .await
            .health
            .consecutive_failures,
        1
    );

    // Failing, the endpoint is on the slow lane: the next deliveries go there.
    let more: Vec<SqsMessage> = (0..7).map(|_| fan_out(&approval(&app.app_id))).collect();
    handle_both_lanes(&dispatcher, &queue, more).await;
    assert_eq!(
        receiver.received().len(),
        5,
        "no request once the circuit is open"
    );
    let health = endpoint_now(&store, &endpoint).await.health;
    assert_eq!(health.consecutive_failures, 5);
    assert!(health.failing_since.is_some());
    let until = health
        .open_until
        .expect("the fifth failure opens the circuit");
    let deferred = queue.attempts(1);
    assert_eq!(deferred.len(), 3, "{:#?}", queue.all());
    assert!(
        deferred
            .iter()
            .all(|m| m.not_before.is_some_and(|due| due >= until)),
        "{deferred:#?}"
    );
    let (log, _) = store
        .webhooks()
        .deliveries(&app.app_id, &endpoint.id, 20, None)
        .await
        .unwrap();
    assert_eq!(log.len(), 8);
    let waiting: Vec<_> = log.iter().filter(|d| d.attempts.is_empty()).collect();
    assert_eq!(waiting.len(), 3, "deferring is not an attempt");
    assert!(
        waiting.iter().all(|d| d.status == DeliveryStatus::Pending
            && d.next_attempt_at.is_some_and(|at| at >= until))
    );

    // While it is open, another event waits too, without a request: the main
    // lane lists the endpoints and hands it over; the slow lane reads and defers.
    let before = store.calls();
    handle_both_lanes(&dispatcher, &queue, vec![fan_out(&approval(&app.app_id))]).await;
    let calls = store.calls().since(before);
    assert_eq!(
        (calls.queries, calls.gets, calls.transactions, calls.writes),
        (1, 1, 0, 1),
        "{calls:?}"
    );
    assert_eq!(receiver.received().len(), 5);
    assert_eq!(queue.attempts(1).len(), 4);

    // The open period passes (here: its end is moved into the past). A waiting
    // delivery comes due; its attempt is the probe, and its success (the
    // receiver's script is over) closes the circuit.
    let mut half_open = endpoint_now(&store, &endpoint).await;
    half_open.health.open_until = Some(partner_domain::now() - time::Duration::seconds(1));
    let audit = audit_of(&half_open, AuditAction::WebhookEndpointUpdated);
    assert!(store.webhooks().update(&half_open, &audit).await.unwrap());
    let due = AttemptMessage {
        not_before: None,
        ..deferred[0].clone()
    };
    handle(
        &dispatcher,
        vec![record(serde_json::to_value(&due).unwrap())],
    )
    .await;
    let received = receiver.received();
    assert_eq!(received.len(), 6);
    assert_eq!(received[5].status, 200);
    let health = endpoint_now(&store, &endpoint).await.health;
    assert_eq!(health.consecutive_failures, 0);
    assert!(health.fast, "a fast answer puts it back on the main lane");
    let probed = store
        .webhooks()
        .delivery(&app.app_id, &DeliveryId::of(&due.event.id, &endpoint.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(probed.status, DeliveryStatus::Succeeded);
    assert_eq!(probed.total_attempts(), 1, "the waits used no attempt");

    // Closed and fast again: the next event goes straight out, on the main lane.
    handle(&dispatcher, vec![fan_out(&approval(&app.app_id))]).await;
    assert_eq!(receiver.received().len(), 7);
    assert!(queue.take_handed_over().is_empty());
}

/// The unpublished `endpoint_disabled` events of `app` in the outbox.
async fn disabled_events(store: &Store, app: &AppId) -> Vec<Event> {
    let later = SystemTime::now() + Duration::from_secs(60);
    store
        .outbox()
        .unpublished(later, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.app_id == *app && e.event == EventType::EndpointDisabled)
        .collect()
}

/// An endpoint whose attempts have all failed for more than five days is
/// disabled at its next failure, with one `endpoint_disabled` event however many
/// attempts give up at once; the admin enables it again, afresh.
async fn five_days_of_failures_disable_the_endpoint_once(store: Store) {
    let app = TestApp::on(store.clone()).await;
    let receiver = Receiver::start(vec![Reply::status(500); 10]).await;
    let mut endpoint = create_endpoint(&store, &app.app_id, &receiver.url).await;
    // Its failures began five days and a minute ago; its circuit has half-opened.
    let now = partner_domain::now();
    let since = now - time::Duration::days(5) - time::Duration::minutes(1);
    endpoint.health = EndpointHealth {
        consecutive_failures: 40,
        failing_since: Some(since),
        open_until: Some(now - time::Duration::seconds(1)),
        fast: false,
    };
    let audit = audit_of(&endpoint, AuditAction::WebhookEndpointUpdated);
    assert!(store.webhooks().update(&endpoint, &audit).await.unwrap());
    let queue = Arc::new(Recorded::default());
    let dispatcher = dispatcher(&store, &queue, SafeClient::new(TIMEOUT, true));

    // Two events at once: both may fail and give up; one disables the endpoint.
    let two = vec![
        fan_out(&approval(&app.app_id)),
        fan_out(&approval(&app.app_id)),
    ];
    handle_both_lanes(&dispatcher, &queue, two).await;
    let requests = receiver.received().len();
    assert!((1..=2).contains(&requests), "{requests} requests");
    let disabled = endpoint_now(&store, &endpoint).await;
    assert!(!disabled.enabled);
    let reason = disabled.disabled_reason.clone().unwrap_or_default();
    assert!(reason.contains("5 days"), "{reason}");
    let announced = disabled_events(&store, &app.app_id).await;
    assert_eq!(announced.len(), 1, "{announced:#?}");
    assert_eq!(
        announced[0].data,
        json!({"endpoint": {"id": endpoint.id.as_str(), "url": receiver.url,
            "failingSince": partner_domain::rfc3339(since), "reason": reason}})
    );
    assert!(queue.all().is_empty(), "no retry for a disabled endpoint");
    assert!(
        queue.dead_letters().is_empty(),
        "given up, not dead-lettered"
    );
    // The admin sees why and since when.
    let path = format!("/v1/apps/{}/webhooks/{}", app.app_id, endpoint.id);
    let token = app.admin_token();
    let shown = app.admin(Method::GET, &path, Some(&token), None).await;
    assert_eq!(shown.body["enabled"], false);
    assert_eq!(shown.body["failingSince"], partner_domain::rfc3339(since));
    assert_eq!(shown.body["consecutiveFailures"], 41);

    // Disabled: an event sends nothing and announces nothing more.
    handle(&dispatcher, vec![fan_out(&approval(&app.app_id))]).await;
    assert_eq!(receiver.received().len(), requests);
    assert_eq!(disabled_events(&store, &app.app_id).await.len(), 1);

    // Enabled again, it starts afresh (on the slow lane, as a new endpoint does):
    // one failure does not disable it.
    let enabled = app
        .admin(
            Method::PATCH,
            &path,
            Some(&token),
            Some(&json!({"enabled": true})),
        )
        .await;
    assert_eq!(enabled.status, 200, "{:#}", enabled.body);
    assert!(
        enabled.body.get("failingSince").is_none(),
        "{:#}",
        enabled.body
    );
    assert!(
        enabled.body.get("disabledReason").is_none(),
        "{:#}",
        enabled.body
    );
    handle_both_lanes(&dispatcher, &queue, vec![fan_out(&approval(&app.app_id))]).await;
    assert_eq!(receiver.received().len(), requests + 1);
    let after = endpoint_now(&store, &endpoint).await;
    assert!(after.enabled);
    assert_eq!(after.health.consecutive_failures, 1);
    assert_eq!(disabled_events(&store, &app.app_id).await.len(), 1);
}

mod embedded {
    #[tokio::test]
    async fn the_circuit_opens_defers_and_closes() {
        super::the_circuit_opens_defers_and_closes(partner_store::testing::memory()).await;
    }

    #[tokio::test]
    async fn five_days_of_failures_disable_the_endpoint_once() {
        super::five_days_of_failures_disable_the_endpoint_once(partner_store::testing::memory())
            .await;
    }
}

mod dynamodb {
    #[tokio::test]
    async fn the_circuit_opens_defers_and_closes() {
        super::the_circuit_opens_defers_and_closes(partner_store::testing::moto().await).await;
    }

    #[tokio::test]
    async fn five_days_of_failures_disable_the_endpoint_once() {
        super::five_days_of_failures_disable_the_endpoint_once(
            partner_store::testing::moto().await,
        )
        .await;
    }
}
