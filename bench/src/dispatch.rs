//! Dispatcher throughput: SQS batches of events handed to the webhook-dispatcher's
//! handler (the code the Lambda runs), delivering to a receiver on loopback that
//! answers every request after 100 ms. Deliveries of one batch run concurrently, so
//! a batch takes about one receiver delay per wave of concurrent deliveries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use axum::http::Method;
use partner_tests::{Receiver, Reply, TestApp, webhook_config};
use partner_webhooks::Dispatcher;
use partner_webhooks::client::SafeClient;
use serde_json::json;

use crate::stats::{Sample, ms};

pub const RECEIVER_DELAY: Duration = Duration::from_millis(100);

/// One configuration's result.
#[derive(Debug)]
pub struct Throughput {
    pub events_per_batch: usize,
    pub endpoints: usize,
    pub batch_times: Sample,
}

impl Throughput {
    pub fn deliveries_per_batch(&self) -> usize {
        self.events_per_batch * self.endpoints
    }

    pub fn per_second(&self) -> f64 {
        self.deliveries_per_batch() as f64 / self.batch_times.median().as_secs_f64()
    }
}

/// `batches` invocations, each with `events` events for `endpoints` endpoints.
pub async fn measure(
    events: usize,
    endpoints: usize,
    batches: usize,
) -> Result<Throughput, String> {
    let config = webhook_config("60");
    let store = partner_store::testing::memory();
    let app = TestApp::with_config(store.clone(), config.clone()).await;
    let total = events * endpoints * batches;
    let receiver = Receiver::start(
        (0..total)
            .map(|_| Reply {
                delay: RECEIVER_DELAY,
                ..Reply::status(200)
            })
            .collect(),
    )
    .await;
    for _ in 0..endpoints {
        let created = app
            .admin(
                Method::POST,
                &format!("/v1/apps/{}/webhooks", app.app_id),
                Some(&app.admin_token()),
                Some(&json!({"url": receiver.url, "events": ["partner_application_approved"]})),
            )
            .await;
        if created.status != 201 {
            return Err(format!("creating an endpoint: {:#}", created.body));
        }
    }
    mark_fast(&store, &app.app_id).await?;
    let client = SafeClient::new(config.webhooks.timeout, true);
    let (queue, _attempts) = partner_webhooks::local::LocalQueue::new();
    let dispatcher = Dispatcher::new(
        store,
        client,
        Arc::new(queue),
        config.webhooks.retry_schedule.clone(),
    );
    let mut times = Vec::with_capacity(batches);
    for batch in 0..batches {
        let event = batch_of(&app, batch, events);
        let started = Instant::now();
        let response = webhook_dispatcher::handle(&dispatcher, event).await;
        times.push(started.elapsed());
        if !response.batch_item_failures.is_empty() {
            return Err(format!(
                "{} messages failed",
                response.batch_item_failures.len()
            ));
        }
    }
    let delivered = receiver
        .received()
        .iter()
        .filter(|r| r.status == 200)
        .count();
    if delivered != total {
        return Err(format!("{delivered} of {total} deliveries arrived"));
    }
    Ok(Throughput {
        events_per_batch: events,
        endpoints,
        batch_times: Sample::new(times),
    })
}

/// Puts every endpoint of `app` on the main lane, as a history of fast answers
/// would: what is measured is the inline deliveries of healthy endpoints.
pub async fn mark_fast(
    store: &partner_store::Store,
    app: &partner_domain::AppId,
) -> Result<(), String> {
    for mut endpoint in store
        .webhooks()
        .list(app)
        .await
        .map_err(|e| e.to_string())?
    {
        endpoint.health.fast = true;
        let audit = partner_tests::test_audit_entry(
            app,
            partner_domain::audit::AuditAction::WebhookEndpointUpdated,
            partner_domain::audit::SubjectKind::WebhookEndpoint,
            &endpoint.id,
        );
        store
            .webhooks()
            .update(&endpoint, &audit)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// An SQS batch of `size` approval events, as the EventBridge rule delivers them.
fn batch_of(app: &TestApp, batch: usize, size: usize) -> SqsEvent {
    let mut event = SqsEvent::default();
    for n in 0..size {
        let detail = json!({
            "id": partner_domain::EventId::generate(),
            "event": "partner_application_approved",
            "createdAt": "2026-11-24T13:45:50.575Z",
            "appId": app.app_id,
            "data": {"application": {"id": format!("apl_bench{batch}x{n}"), "email": "partner@example.com", "name": "Jane Smith"}},
        });
        let body = json!({"version": "0", "detail-type": "partner_application_approved", "source": "partner-program", "detail": detail});
        let mut message = SqsMessage::default();
        message.message_id = Some(format!("msg-{batch}-{n}"));
        message.body = Some(body.to_string());
        event.records.push(message);
    }
    event
}

pub fn table(results: &[Throughput]) -> String {
    let mut out = String::from(
        "| Events per batch | Endpoints | Deliveries per invocation | Invocation median (ms) | min–max (ms) | Deliveries/s per invocation |\n|---|---|---|---|---|---|\n",
    );
    for r in results {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {}–{} | {:.0} |\n",
            r.events_per_batch,
            r.endpoints,
            r.deliveries_per_batch(),
            ms(r.batch_times.median()),
            ms(r.batch_times.min()),
            ms(r.batch_times.max()),
            r.per_second(),
        ));
    }
    out
}
