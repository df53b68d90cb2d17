//! Webhooks end to end on moto: approval → EventBridge → rule → SQS → the
//! dispatcher's Lambda handler → a real receiver; and a receiver that never
//! succeeds leaves the delivery failed and the message in the dead-letter queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use partner_domain::events::EventType;
use partner_domain::webhooks::{CircuitPolicy, RetrySchedule, WebhookEndpoint, WebhookSecret};
use partner_service::events::EventBridgeBus;
use partner_tests::{MotoAws, Receiver, Reply, TestApp};
use partner_webhooks::Dispatcher;
use partner_webhooks::client::SafeClient;
use partner_webhooks::queue::SqsQueue;
use serde_json::{Value, json};

/// Receives one batch from `queue` and runs it through the dispatcher's handler (as
/// the event source mapping would), deleting what it handled. Returns the batch size.
async fn pump_once(aws: &MotoAws, dispatcher: &Dispatcher, queue: &str) -> usize {
    let output = aws
        .sqs
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let messages = output.messages().to_vec();
    if messages.is_empty() {
        return 0;
    }
    let mut event = SqsEvent::default();
    for message in &messages {
        let mut record = SqsMessage::default();
        record.message_id = message.message_id().map(str::to_owned);
        record.body = message.body().map(str::to_owned);
        event.records.push(record);
    }
    let response = webhook_dispatcher::handle(dispatcher, event).await;
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    for message in &messages {
        if failed
            .iter()
            .any(|id| Some(id.as_str()) == message.message_id())
        {
            // A failed record comes back once its visibility time-out passes; here
            // it passes at once, so the test need not wait the queue's 30 s.
            aws.sqs
                .change_message_visibility()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
        } else {
            aws.sqs
                .delete_message()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    messages.len()
}

/// Pumps the queue through the dispatcher until `done()` (or 20 s).
async fn pump(aws: &MotoAws, dispatcher: &Dispatcher, queue: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() && Instant::now() < deadline {
        pump_once(aws, dispatcher, queue).await;
    }
}

/// Pumps the queue through the dispatcher until three receives in a row find nothing.
async fn drain_queue(aws: &MotoAws, dispatcher: &Dispatcher, queue: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut empty = 0;
    while empty < 3 && Instant::now() < deadline {
        if pump_once(aws, dispatcher, queue).await == 0 {
            empty += 1;
        } else {
            empty = 0;
        }
    }
}

/// What a moto test works with: AWS clients, the app, the dispatcher, the queue and
/// its dead-letter queue, the receiver, and its endpoint.
type Setup = (
    MotoAws,
    TestApp,
    Dispatcher,
    String,
    String,
    Receiver,
    WebhookEndpoint,
);

async fn setup(schedule: &str, replies: Vec<Reply>) -> Setup {
    setup_with(schedule, Receiver::start(replies).await).await
}

async fn setup_with(schedule: &str, receiver: Receiver) -> Setup {
    setup_queue_client(schedule, receiver, None).await
}

/// [`setup_with`], the dispatcher's SQS client (retries, dead letters) reaching moto
/// through `sqs_endpoint` when given.
async fn setup_queue_client(
    schedule: &str,
    receiver: Receiver,
    sqs_endpoint: Option<&str>,
) -> Setup {
    let aws = MotoAws::connect().await;
    let (bus, queue) = aws.bus_with_queue().await;
    let dead_letters = aws
        .sqs
        .create_queue()
        .queue_name(format!(
            "dlq-{}",
            partner_domain::AppId::generate().as_str().to_lowercase()
        ))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let store = partner_store::testing::moto().await;
    let app = TestApp::with_bus(
        store.clone(),
        Arc::new(EventBridgeBus::new(aws.eventbridge.clone(), bus)),
    )
    .await;
    let endpoint = WebhookEndpoint {
        id: partner_domain::WebhookEndpointId::generate(),
        app_id: app.app_id.clone(),
        url: receiver.url.clone(),
        events: vec![EventType::PartnerApplicationApproved],
        description: None,
        enabled: true,
        disabled_reason: None,
        health: Default::default(),
        secret: WebhookSecret::generate(),
        previous_secret: None,
        previous_secret_expires_at: None,
        created_at: partner_domain::now(),
    };
    let audit = partner_tests::test_audit_entry(
        &app.app_id,
        partner_domain::audit::AuditAction::WebhookEndpointCreated,
        partner_domain::audit::SubjectKind::WebhookEndpoint,
        &endpoint.id,
    );
    store
        .webhooks()
        .create(&endpoint, 20, &audit)
        .await
        .unwrap();
    // Loopback receiver: private targets allowed, as WEBHOOK_ALLOW_PRIVATE_TARGETS=true.
    let dispatcher = Dispatcher::new(
        store,
        SafeClient::new(Duration::from_secs(2), true),
        Arc::new(SqsQueue::new(
            match sqs_endpoint {
                Some(endpoint) => sqs_through(endpoint).await,
                None => aws.sqs.clone(),
            },
            queue.clone(),
            dead_letters.clone(),
        )),
        RetrySchedule::parse(schedule).unwrap(),
    )
    // The fault tests fail about half the attempts at one endpoint, so runs of
    // five failures come up; an open circuit would hold their deliveries back
    // for minutes. What they check is exactly-once delivery, not the breaker
    // (tests/api/webhooks_dispatch.rs has it).
    .with_circuit(CircuitPolicy {
        failures_to_open: u32::MAX,
        ..CircuitPolicy::default()
    });
    (
        aws,
        app,
        dispatcher,
        queue,
        dead_letters,
        receiver,
        endpoint,
    )
}

#[tokio::test]
async fn an_approval_reaches_the_receiver_through_eventbridge_sqs_and_the_dispatcher() {
    let (aws, app, dispatcher, queue, _, receiver, endpoint) = setup("0", vec![]).await;
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let approved = app
        .review(&id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    pump(&aws, &dispatcher, &queue, || {
        !receiver.received().is_empty()
    })
    .await;
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["event"], "partner_application_approved");
    assert_eq!(body["data"]["affiliate"], approved.body["affiliate"]);
    let expected = endpoint.secret.sign(
        &received[0].header("webhook-id"),
        received[0].header("webhook-timestamp").parse().unwrap(),
        &received[0].body,
    );
    assert_eq!(received[0].header("webhook-signature"), expected);
}

#[tokio::test]
async fn a_receiver_that_never_succeeds_leaves_the_delivery_failed_and_the_message_in_the_dlq() {
    let (aws, app, dispatcher, queue, dead_letters, receiver, endpoint) =
        setup("0,0", vec![Reply::status(500); 10]).await;
    let id = app.applied("partner@example.com", "Jane Smith").await;
    assert_eq!(
        app.review(&id, &json!({"action": "approve"})).await.status,
        200
    );
    pump(&aws, &dispatcher, &queue, || receiver.received().len() >= 3).await;
    assert_eq!(receiver.received().len(), 3);
    let parked = aws.drain(&dead_letters, Duration::from_secs(2)).await;
    assert_eq!(parked.len(), 1, "{parked:#?}");
    assert_eq!(parked[0]["event"]["event"], "partner_application_approved");
    assert_eq!(parked[0]["endpointId"], endpoint.id.as_str());
    let (deliveries, _) = app
        .store
        .webhooks()
        .deliveries(&app.app_id, &endpoint.id, 10, None)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].status,
        partner_domain::webhooks::DeliveryStatus::Failed
    );
    assert_eq!(deliveries[0].attempts.len(), 3);
}

#[tokio::test]
async fn the_sample_sqs_event_runs_through_the_dispatcher_handler() {
    let (aws, app, dispatcher, queue, _, receiver, _) = setup("0", vec![]).await;
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/webhook-dispatcher.json"),
    )
    .unwrap()
    .replace("app_01JD8Z6Q3R4S5T6V7W8X9Y0Z1A", app.app_id.as_str());
    let event: SqsEvent = serde_json::from_str(&text).unwrap();
    let response = webhook_dispatcher::handle(&dispatcher, event).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    // A new endpoint is on the slow lane (here the same queue) until it answers.
    pump(&aws, &dispatcher, &queue, || {
        !receiver.received().is_empty()
    })
    .await;
    assert_eq!(receiver.wait_for(1, Duration::from_secs(5)).await.len(), 1);
}

/// Slow-lane messages go to the slow lane's queue, the others to the main one.
#[tokio::test]
async fn slow_lane_messages_go_to_their_own_queue() {
    let aws = MotoAws::connect().await;
    let name = |prefix: &str| {
        format!(
            "{prefix}-{}",
            partner_domain::AppId::generate().as_str().to_lowercase()
        )
    };
    let mut urls = Vec::new();
    for prefix in ["main", "slow", "dlq"] {
        let created = aws.sqs.create_queue().queue_name(name(prefix)).send().await;
        urls.push(created.unwrap().queue_url.unwrap());
    }
    let queue = SqsQueue::new(aws.sqs.clone(), urls[0].clone(), urls[2].clone())
        .with_slow_lane(Some(urls[1].clone()));
    let event = partner_domain::events::Event::new(
        EventType::PartnerApplicationApproved,
        partner_domain::AppId::generate(),
        json!({}),
        partner_domain::now(),
    );
    let message = |slow_lane| partner_webhooks::queue::AttemptMessage {
        kind: partner_webhooks::queue::AttemptKind::Retry,
        event: event.clone(),
        endpoint_id: partner_domain::WebhookEndpointId::generate(),
        attempt: 1,
        not_before: None,
        slow_lane,
    };
    use partner_webhooks::queue::WebhookQueue as _;
    queue.send(&message(true), Duration::ZERO).await.unwrap();
    queue.send(&message(false), Duration::ZERO).await.unwrap();
    let main = aws.drain(&urls[0], Duration::from_secs(2)).await;
    let slow = aws.drain(&urls[1], Duration::from_secs(2)).await;
    assert_eq!(main.len(), 1, "{main:#?}");
    assert_eq!(slow.len(), 1, "{slow:#?}");
    assert_eq!(slow[0]["slowLane"], true);
    assert!(main[0].get("slowLane").is_none());
}

/// An SQS client that reaches moto through `endpoint` (a fault proxy).
async fn sqs_through(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(partner_aws::http::client())
        .timeout_config(partner_aws::http::timeouts())
        .retry_config(partner_aws::http::retries())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}

#[tokio::test]
async fn under_a_receiver_failing_half_the_time_every_event_is_delivered_once_or_dead_lettered() {
    let setup = setup_with("0,0,0", Receiver::flaky(50).await).await;
    delivered_once_or_dead_lettered(setup, "receiver failing ~50%").await;
}

#[tokio::test]
async fn with_sqs_also_refusing_sends_every_event_is_delivered_once_or_dead_lettered() {
    let proxy = partner_tests::faults::FaultProxy::start(
        &std::env::var(partner_store::testing::MOTO_ENDPOINT_VAR).unwrap(),
    )
    .await;
    proxy.only("AmazonSQS.");
    proxy.refuse(30);
    let setup = setup_queue_client("0,0,0", Receiver::flaky(50).await, Some(&proxy.endpoint)).await;
    delivered_once_or_dead_lettered(
        setup,
        "receiver failing ~50%, SQS refusing 30% of the dispatcher's sends",
    )
    .await;
    let (refused, _) = proxy.counts();
    assert!(refused > 0, "no fault was injected");
}

/// Every delivery to `endpoint`, all pages.
async fn all_deliveries(
    app: &TestApp,
    endpoint: &WebhookEndpoint,
) -> Vec<partner_domain::webhooks::Delivery> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = app
            .store
            .webhooks()
            .deliveries(&app.app_id, &endpoint.id, 100, cursor)
            .await
            .unwrap();
        all.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
}

/// Every approval's event reaches the endpoint exactly once with a 200, or is
/// dead-lettered after its attempts; none is lost, none goes out with a new id.
async fn delivered_once_or_dead_lettered(setup: Setup, faults: &str) {
    let (aws, app, dispatcher, queue, dead_letters, receiver, endpoint) = setup;
    let events = partner_tests::stress_events(12);
    for n in 0..events {
        let id = app
            .applied(&format!("p{n}@example.com"), &format!("Partner{n}"))
            .await;
        assert_eq!(
            app.review(&id, &json!({"action": "approve"})).await.status,
            200
        );
    }
    drain_queue(&aws, &dispatcher, &queue).await;
    // A delivery whose retry was scheduled with a delay, or whose record failed and
    // came back, may still be on its way: pump until none is pending (or 60 s).
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let all = all_deliveries(&app, &endpoint).await;
        let waiting = all.len() < events
            || all
                .iter()
                .any(|d| d.status == partner_domain::webhooks::DeliveryStatus::Pending);
        if !waiting {
            break;
        }
        pump_once(&aws, &dispatcher, &queue).await;
    }
    let parked: Vec<Value> = aws.drain(&dead_letters, Duration::from_secs(2)).await;
    let deliveries = all_deliveries(&app, &endpoint).await;
    assert_eq!(deliveries.len(), events, "one delivery per approval");
    let received = receiver.received();
    let (mut delivered, mut dead) = (0, 0);
    for delivery in &deliveries {
        let id = delivery.event.id.as_str();
        let successes = received
            .iter()
            .filter(|r| r.header("webhook-id") == id && r.status == 200)
            .count();
        match delivery.status {
            partner_domain::webhooks::DeliveryStatus::Succeeded => {
                assert_eq!(successes, 1, "{id} delivered {successes} times");
                delivered += 1;
            }
            partner_domain::webhooks::DeliveryStatus::Failed => {
                assert_eq!(successes, 0);
                assert!(
                    parked.iter().any(|m| m["event"]["id"] == id),
                    "{id} failed but is not in the DLQ"
                );
                assert_eq!(delivery.attempts.len(), 4);
                dead += 1;
            }
            partner_domain::webhooks::DeliveryStatus::Pending => {
                panic!("{id} is still pending: lost")
            }
        }
    }
    assert_eq!(delivered + dead, events);
    println!(
        "FIGURE dispatcher on moto, {events} events, {faults} ({} requests): {delivered} delivered exactly once, {dead} dead-lettered after 4 attempts, 0 lost, 0 delivered twice",
        received.len()
    );
}
