//! Events leave through the outbox: on moto, an approval reaches an SQS queue through
//! the EventBridge rule; when the publisher never runs, the relay sends the event,
//! once, with the id it was written with.

use std::sync::Arc;

use async_trait::async_trait;
use partner_domain::events::Event;
use partner_service::AppState;
use partner_service::events::{BusError, EventBridgeBus, EventBus};
use partner_tests::{MotoAws, TestApp};
use serde_json::{Value, json};

/// A publisher that "dies" between the commit and `PutEvents`: nothing reaches the bus.
#[derive(Debug)]
struct DeadBeforePublish;

#[async_trait]
impl EventBus for DeadBeforePublish {
    async fn send(&self, _events: &[Event]) -> Result<(), BusError> {
        Err(BusError::Request(
            "the function died before PutEvents".into(),
        ))
    }
}

fn approvals(messages: &[Value]) -> Vec<&Value> {
    messages
        .iter()
        .filter(|m| m["detail-type"] == "partner_application_approved")
        .collect()
}

#[tokio::test]
async fn an_approval_reaches_an_sqs_queue_through_the_eventbridge_rule() {
    let aws = MotoAws::connect().await;
    let (bus, queue) = aws.bus_with_queue().await;
    let app = TestApp::with_bus(
        partner_store::testing::moto().await,
        Arc::new(EventBridgeBus::new(aws.eventbridge.clone(), bus)),
    )
    .await;
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let response = app
        .review(&id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    assert_eq!(response.status, 200, "{:#}", response.body);

    let messages = aws.drain(&queue, std::time::Duration::from_secs(3)).await;
    let approved = approvals(&messages);
    assert_eq!(approved.len(), 1, "{messages:#?}");
    let detail = &approved[0]["detail"];
    assert_eq!(approved[0]["source"], "partner-program");
    assert_eq!(detail["event"], "partner_application_approved");
    assert_eq!(detail["appId"], app.app_id.as_str());
    assert_eq!(detail["data"]["affiliate"], response.body["affiliate"]);
    assert_eq!(
        detail["data"]["application"]["email"],
        "partner@example.com"
    );
    let event_id = partner_domain::EventId::parse("id", detail["id"].as_str().unwrap()).unwrap();
    let (_, published) = app
        .store
        .outbox()
        .get(&app.app_id, &event_id)
        .await
        .unwrap()
        .unwrap();
    assert!(published);
}

#[tokio::test]
async fn a_publisher_killed_after_the_commit_is_covered_by_the_relay_once_with_the_same_id() {
    let aws = MotoAws::connect().await;
    let (bus, queue) = aws.bus_with_queue().await;
    let store = partner_store::testing::moto().await;
    let app = TestApp::with_bus(store.clone(), Arc::new(DeadBeforePublish)).await;
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let response = app
        .review(&id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    assert_eq!(
        response.status, 200,
        "the commit stands even though publishing failed"
    );
    assert!(approvals(&aws.drain(&queue, std::time::Duration::from_secs(1)).await).is_empty());

    let waiting = store
        .outbox()
        .unpublished(
            std::time::SystemTime::now() + std::time::Duration::from_secs(1),
            10,
        )
        .await
        .unwrap();
    let written = waiting
        .iter()
        .find(|e| e.event.as_str() == "partner_application_approved")
        .expect("the approval's event waits in the outbox")
        .clone();

    // The scheduled relay, with a working bus and no grace period.
    let mut config = partner_tests::test_config();
    config.relay_grace = std::time::Duration::ZERO;
    let relay_state = AppState::new(
        store.clone(),
        config,
        Some(Arc::new(EventBridgeBus::new(aws.eventbridge.clone(), bus))),
    )
    .unwrap();
    let trigger: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/outbox-relay.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let report = outbox_relay::handle(&relay_state, trigger.clone())
        .await
        .unwrap();
    assert_eq!(
        report.published, 2,
        "the submitted and the approved event: {report:?}"
    );

    let messages = aws.drain(&queue, std::time::Duration::from_secs(3)).await;
    let approved = approvals(&messages);
    assert_eq!(approved.len(), 1, "{messages:#?}");
    assert_eq!(
        approved[0]["detail"]["id"],
        written.id.as_str(),
        "same event id as written"
    );
    assert_eq!(approved[0]["detail"]["data"], written.data);

    // Once published, a second run finds nothing and sends nothing.
    let again = outbox_relay::handle(&relay_state, trigger).await.unwrap();
    assert_eq!(again.found, 0);
    assert!(
        aws.drain(&queue, std::time::Duration::from_secs(1))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_relay_leaves_recent_events_to_their_publisher() {
    let app = TestApp::with_bus(
        partner_store::testing::memory(),
        Arc::new(DeadBeforePublish),
    )
    .await;
    app.applied("partner@example.com", "Jane Smith").await;
    // Default grace: a just-written event is not the relay's yet.
    let relay_state = AppState::new(
        app.store.clone(),
        partner_tests::test_config(),
        Some(Arc::new(partner_service::events::LocalBus::default())),
    )
    .unwrap();
    let report = outbox_relay::handle(&relay_state, Value::Null)
        .await
        .unwrap();
    assert_eq!(report.found, 0);
}

/// A publisher that, at random, dies before `PutEvents`, dies after it (the event is
/// out, but never marked published), or works.
#[derive(Debug)]
struct Crashy(EventBridgeBus);

#[async_trait]
impl EventBus for Crashy {
    async fn send(&self, events: &[Event]) -> Result<(), BusError> {
        let mut byte = [0u8; 1];
        partner_domain::random_bytes(&mut byte);
        match byte[0] % 3 {
            0 => Err(BusError::Request("died before PutEvents".into())),
            1 => {
                self.0.send(events).await?;
                Err(BusError::Request("died after PutEvents".into()))
            }
            _ => self.0.send(events).await,
        }
    }
}

#[tokio::test]
async fn with_a_publisher_crashing_at_random_every_event_gets_out_with_its_id() {
    let aws = MotoAws::connect().await;
    let (bus, queue) = aws.bus_with_queue().await;
    let store = partner_store::testing::moto().await;
    let crashy = || -> Arc<dyn EventBus> {
        Arc::new(Crashy(EventBridgeBus::new(
            aws.eventbridge.clone(),
            bus.clone(),
        )))
    };
    let app = TestApp::with_bus(store.clone(), crashy()).await;
    let events = partner_tests::stress_events(15);
    let mut applications = std::collections::BTreeSet::new();
    for n in 0..events {
        applications.insert(app.applied(&format!("p{n}@example.com"), "P").await);
    }
    let mut config = partner_tests::test_config();
    config.relay_grace = std::time::Duration::ZERO;
    let relay = AppState::new(store.clone(), config, Some(crashy())).unwrap();
    for _ in 0..events * 4 {
        let _ = relay
            .publisher()
            .relay(&store, std::time::Duration::ZERO)
            .await;
        if store
            .outbox()
            .unpublished(
                std::time::SystemTime::now() + std::time::Duration::from_secs(1),
                10,
            )
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
    }
    assert!(
        store
            .outbox()
            .unpublished(
                std::time::SystemTime::now() + std::time::Duration::from_secs(1),
                10
            )
            .await
            .unwrap()
            .is_empty()
    );
    let messages = aws.drain(&queue, std::time::Duration::from_secs(3)).await;
    let mut ids_by_application: std::collections::BTreeMap<
        String,
        std::collections::BTreeSet<String>,
    > = Default::default();
    for message in &messages {
        let detail = &message["detail"];
        ids_by_application
            .entry(
                detail["data"]["application"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
            .or_default()
            .insert(detail["id"].as_str().unwrap().to_owned());
    }
    let published: std::collections::BTreeSet<String> =
        ids_by_application.keys().cloned().collect();
    assert_eq!(published, applications, "every event got out");
    assert!(
        ids_by_application.values().all(|ids| ids.len() == 1),
        "a republished event kept its id"
    );
    println!(
        "FIGURE outbox relay on moto, {events} events, publisher crashing at random: {} messages on the queue, all {events} events published, every republished event with its original id",
        messages.len()
    );
}

/// An EventBridge client that reaches moto through `proxy`.
async fn eventbridge_through(
    proxy: &partner_tests::faults::FaultProxy,
) -> aws_sdk_eventbridge::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(partner_aws::http::client())
        .timeout_config(partner_aws::http::timeouts())
        .retry_config(partner_aws::http::retries())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&proxy.endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .load()
        .await;
    aws_sdk_eventbridge::Client::new(&config)
}

#[tokio::test]
async fn with_eventbridge_refusing_calls_and_entries_every_event_gets_out_with_its_id() {
    let aws = MotoAws::connect().await;
    let (bus, queue) = aws.bus_with_queue().await;
    let proxy = partner_tests::faults::FaultProxy::start(
        &std::env::var(partner_store::testing::MOTO_ENDPOINT_VAR).unwrap(),
    )
    .await;
    proxy.only("AWSEvents.");
    proxy.refuse(30);
    proxy.fail_entries(30);
    let client = eventbridge_through(&proxy).await;
    let faulty =
        || -> Arc<dyn EventBus> { Arc::new(EventBridgeBus::new(client.clone(), bus.clone())) };
    let store = partner_store::testing::moto().await;
    let app = TestApp::with_bus(store.clone(), faulty()).await;
    let events = 20;
    let mut applications = std::collections::BTreeSet::new();
    for n in 0..events {
        // A failed publish leaves the event in the outbox; the request still succeeds.
        applications.insert(app.applied(&format!("p{n}@example.com"), "P").await);
    }
    let mut config = partner_tests::test_config();
    config.relay_grace = std::time::Duration::ZERO;
    let relay = AppState::new(store.clone(), config, Some(faulty())).unwrap();
    let waiting = || async {
        store
            .outbox()
            .unpublished(
                std::time::SystemTime::now() + std::time::Duration::from_secs(1),
                25,
            )
            .await
            .unwrap()
            .len()
    };
    let left_after_publish = waiting().await;
    for _ in 0..50 {
        if waiting().await == 0 {
            break;
        }
        let _ = relay
            .publisher()
            .relay(&store, std::time::Duration::ZERO)
            .await;
    }
    assert_eq!(waiting().await, 0, "events left in the outbox");
    let messages = aws.drain(&queue, std::time::Duration::from_secs(3)).await;
    let mut ids: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for message in &messages {
        let detail = &message["detail"];
        ids.entry(
            detail["data"]["application"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
        .or_default()
        .insert(detail["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        ids.keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        applications,
        "every event got out"
    );
    assert!(
        ids.values().all(|ids| ids.len() == 1),
        "an event went out again with a new id"
    );
    let (refused, forwarded) = proxy.counts();
    assert!(refused > 0, "no fault was injected");
    println!(
        "FIGURE relay with EventBridge refusing 30% of PutEvents calls and failing 30% of entries: \
         {left_after_publish} of {events} events left to the relay, {refused} calls refused, {forwarded} forwarded, \
         all {events} events out, each with one id ({} messages)",
        messages.len()
    );
}

#[tokio::test]
async fn with_dynamodb_throttling_the_approver_approves_every_due_commission_once() {
    let proxy = partner_tests::faults::FaultProxy::start(
        &std::env::var(partner_store::testing::MOTO_ENDPOINT_VAR).unwrap(),
    )
    .await;
    let store = partner_store::testing::moto_through(&proxy.endpoint).await;
    let app = TestApp::on(store.clone()).await;
    let token = app.admin_token();
    app.admin(
        axum::http::Method::PUT,
        &format!("/v1/apps/{}/affiliates/settings", app.app_id),
        Some(&token),
        Some(&json!({"holdingPeriodDays": 1})),
    )
    .await;
    let id = app.applied("jane@example.com", "Jane").await;
    let approved = app
        .review(&id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    let partner = approved.body["affiliate"]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 0..12 {
        let buyer = format!("buyer-{n}");
        app.post_json(
            "/v1/affiliate/referrals",
            Some(&app.api_key),
            &json!({"customerId": buyer, "code": "JANE20"}),
        )
        .await;
        let paid = app
            .post_json(
                "/v1/affiliate/revenue",
                Some(&app.api_key),
                &json!({"eventId": format!("in_{n}"), "customerId": buyer, "amount": 10.0, "currency": "usd", "type": "payment"}),
            )
            .await;
        assert_eq!(
            paid.body["commission"]["status"], "pending",
            "{:#}",
            paid.body
        );
    }
    proxy.refuse(25);
    let later = partner_domain::now() + time::Duration::days(2);
    let mut approved = 0;
    let mut failed_runs = 0;
    for _ in 0..40 {
        match partner_service::commands::approvals::approve_due(&app.state, later).await {
            Ok(0) => break,
            Ok(n) => approved += n,
            // A run that hit throttling stops; the next run picks up where it was.
            Err(_) => failed_runs += 1,
        }
    }
    proxy.refuse(0);
    assert_eq!(
        partner_service::commands::approvals::approve_due(&app.state, later)
            .await
            .unwrap(),
        0,
        "a due commission was left"
    );
    let figures = app
        .get(
            &format!("/v1/affiliate/by-customer/{partner}"),
            Some(&app.api_key),
        )
        .await
        .body;
    assert_eq!(figures["pendingBalance"], 0.0, "{figures:#}");
    assert_eq!(
        figures["availableBalance"], 24.0,
        "each approved exactly once"
    );
    let (refused, _) = proxy.counts();
    println!(
        "FIGURE approver with 25% of DynamoDB calls refused: 12 commissions approved once each \
         ({approved} counted by runs that finished, {failed_runs} runs cut short), {refused} calls refused"
    );
}
