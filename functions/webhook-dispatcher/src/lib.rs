//! The webhook dispatcher: an SQS batch in, every message handled concurrently
//! with each app held to its fair share of the deliveries in flight
//! (`partner_webhooks::fair`), and the ids of the messages that could not be
//! handled reported back (`ReportBatchItemFailures`), so only those are received
//! again — and after `maxReceiveCount` receives they land in the dead-letter queue.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use partner_webhooks::Dispatcher;
use partner_webhooks::queue::WebhookWork;

pub async fn handle(dispatcher: &Dispatcher, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut ids = Vec::new();
    let mut batch = Vec::new();
    for record in event.records {
        let id = record.message_id.unwrap_or_default();
        match WebhookWork::parse(record.body.as_deref().unwrap_or("")) {
            Ok(work) => {
                ids.push(id);
                batch.push(work);
            }
            Err(err) => fail(&mut response, id, &err.to_string()),
        }
    }
    let results = dispatcher.handle_batch(batch).await;
    for (id, result) in ids.into_iter().zip(results) {
        if let Err(err) = result {
            fail(&mut response, id, &err.to_string());
        }
    }
    response
}

/// Reports a message as failed: SQS will deliver it again.
fn fail(response: &mut SqsBatchResponse, id: String, error: &str) {
    tracing::warn!(message_id = %id, %error, "webhook message failed; SQS will redeliver it");
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    response.batch_item_failures.push(failure);
}
