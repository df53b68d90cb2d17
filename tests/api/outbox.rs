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
        report["published"], 2,
        "the submitted and the approved event: {report}"
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
    assert_eq!(again["found"], 0);
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
    assert_eq!(report["found"], 0);
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
