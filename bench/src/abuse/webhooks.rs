//! The webhook half of the abusive-tenant comparison: the dispatcher Lambda's
//! handler fed from two in-memory queues (the main lane and the slow lane), a
//! well-behaved tenant's endpoint beside an abuser's tarpits.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use axum::http::Method;
use partner_domain::{AppId, EventId};
use partner_tests::{Receiver, TestApp, admin_token_for, webhook_config};
use partner_webhooks::Dispatcher;
use partner_webhooks::client::SafeClient;
use partner_webhooks::queue::{AttemptMessage, QueueError, WebhookQueue};
use serde_json::json;

use super::{EVENTS_PER_SECOND, POLLERS, SLOW_POLLERS, TARPITS, WebhookRun};
use crate::stats::Sample;

/// An SQS message carrying one approval event of `app`, as the EventBridge rule
/// delivers it.
fn message(app: &AppId, id: &EventId) -> SqsMessage {
    let detail = json!({
        "id": id,
        "event": "partner_application_approved",
        "createdAt": partner_domain::rfc3339(partner_domain::now()),
        "appId": app,
        "data": {"application": {"id": "apl_abuse", "email": "partner@example.com", "name": "Jane Smith"}},
    });
    let body = json!({"version": "0", "detail-type": "partner_application_approved", "source": "partner-program", "detail": detail});
    let mut message = SqsMessage::default();
    message.message_id = Some(id.to_string());
    message.body = Some(body.to_string());
    message
}

/// A listener that accepts connections and never answers.
async fn tarpit() -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/hooks",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Ok(url)
}

async fn endpoint(app: &TestApp, owner: &AppId, url: &str) -> Result<(), String> {
    let created = app
        .admin(
            Method::POST,
            &format!("/v1/apps/{owner}/webhooks"),
            Some(&admin_token_for(std::slice::from_ref(owner))),
            Some(&json!({"url": url, "events": ["partner_application_approved"]})),
        )
        .await;
    if created.status != 201 {
        return Err(format!("creating an endpoint: {:#}", created.body));
    }
    Ok(())
}

/// Two SQS queues in memory, the main lane and the slow lane, with SQS's delay.
#[derive(Debug, Default)]
struct Lanes {
    main: Mutex<VecDeque<SqsMessage>>,
    slow: Mutex<VecDeque<SqsMessage>>,
    dead: Mutex<Vec<AttemptMessage>>,
}

#[derive(Debug, Clone, Default)]
struct LaneQueue(Arc<Lanes>);

#[async_trait]
impl WebhookQueue for LaneQueue {
    async fn send(&self, message: &AttemptMessage, delay: Duration) -> Result<(), QueueError> {
        let lanes = Arc::clone(&self.0);
        let mut record = SqsMessage::default();
        record.message_id = Some(EventId::generate().to_string());
        record.body =
            Some(serde_json::to_string(message).map_err(|e| QueueError::Send(Box::new(e)))?);
        let slow = message.slow_lane;
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let lane = if slow { &lanes.slow } else { &lanes.main };
            lane.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_back(record);
        });
        Ok(())
    }

    async fn dead_letter(&self, message: &AttemptMessage) -> Result<(), QueueError> {
        self.0
            .dead
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message.clone());
        Ok(())
    }
}

/// Invocations of the dispatcher on one lane, up to 10 messages each, until
/// `until` has passed and (when `drain`) the lane is empty.
fn poll(
    lane: fn(&Lanes) -> &Mutex<VecDeque<SqsMessage>>,
    lanes: Arc<Lanes>,
    dispatcher: Dispatcher,
    until: Instant,
    drain: bool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let batch: Vec<SqsMessage> = {
                let mut pending = lane(&lanes).lock().unwrap_or_else(|e| e.into_inner());
                let n = pending.len().min(10);
                pending.drain(..n).collect()
            };
            if Instant::now() >= until && (batch.is_empty() || !drain) {
                return;
            }
            if batch.is_empty() {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            let mut event = SqsEvent::default();
            event.records = batch;
            let _ = webhook_dispatcher::handle(&dispatcher, event).await;
        }
    })
}

pub(super) async fn webhook_run(duration: Duration, abuser: bool) -> Result<WebhookRun, String> {
    let config = webhook_config("60");
    let store = partner_store::testing::memory();
    let good = TestApp::with_config(store.clone(), config.clone()).await;
    let bad = store
        .apps()
        .create("Abuser")
        .await
        .map_err(|e| e.to_string())?
        .app
        .id;
    let receiver = Receiver::start(Vec::new()).await;
    endpoint(&good, &good.app_id, &receiver.url).await?;
    for _ in 0..TARPITS {
        endpoint(&good, &bad, &tarpit().await?).await?;
    }
    let queue = LaneQueue::default();
    let lanes = Arc::clone(&queue.0);
    let dispatcher = Dispatcher::new(
        store,
        SafeClient::new(config.webhooks.timeout, true),
        Arc::new(queue.clone()),
        config.webhooks.retry_schedule.clone(),
    );
    // A well-behaved tenant's endpoint has answered before: its first delivery
    // (on the slow lane, as every new endpoint's) puts it on the main lane.
    let warm_up = EventId::generate();
    lanes
        .main
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push_back(message(&good.app_id, &warm_up));
    let warming = Instant::now() + Duration::from_secs(5);
    let pollers = [
        poll(
            |l| &l.main,
            lanes.clone(),
            dispatcher.clone(),
            warming,
            false,
        ),
        poll(
            |l| &l.slow,
            lanes.clone(),
            dispatcher.clone(),
            warming,
            false,
        ),
    ];
    receiver.wait_for(1, Duration::from_secs(5)).await;
    for poller in pollers {
        poller.abort();
    }
    if receiver.received().is_empty() {
        return Err("the well-behaved endpoint's first delivery did not arrive".into());
    }

    let created: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let deadline = Instant::now() + duration;
    let producer = {
        let (lanes, created, good_app) = (lanes.clone(), created.clone(), good.app_id.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(1000 / EVENTS_PER_SECOND));
            while Instant::now() < deadline {
                every.tick().await;
                let id = EventId::generate();
                let mut main = lanes.main.lock().unwrap_or_else(|e| e.into_inner());
                main.push_back(message(&good_app, &id));
                created
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id.to_string(), Instant::now());
                if abuser {
                    main.push_back(message(&bad, &EventId::generate()));
                }
            }
        })
    };
    let mut main = Vec::new();
    for _ in 0..POLLERS {
        main.push(poll(
            |l| &l.main,
            lanes.clone(),
            dispatcher.clone(),
            deadline,
            true,
        ));
    }
    let slow: Vec<_> = (0..SLOW_POLLERS)
        .map(|_| {
            poll(
                |l| &l.slow,
                lanes.clone(),
                dispatcher.clone(),
                deadline,
                false,
            )
        })
        .collect();
    producer.await.map_err(|e| e.to_string())?;
    for poller in main {
        poller.await.map_err(|e| e.to_string())?;
    }
    // The slow lane is the abuser's: what is left of it is not waited for.
    for poller in slow {
        poller.abort();
    }
    receiver
        .wait_for(
            created.lock().map(|c| c.len()).unwrap_or(0) + 1,
            Duration::from_secs(5),
        )
        .await;
    let created = created.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut delays = Vec::new();
    for delivery in receiver.received() {
        if let Some(at) = created.get(&delivery.header("webhook-id")) {
            delays.push(delivery.at.duration_since(*at));
        }
    }
    let good_app = good.app_id.to_string();
    let dead_lettered = lanes
        .dead
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|m| m.event.app_id.as_str() == good_app)
        .count();
    Ok(WebhookRun {
        sent: created.len(),
        delivered: delays.len(),
        dead_lettered,
        delays: Sample::new(delays),
    })
}
