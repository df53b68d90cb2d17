//! The webhook dispatcher: an SQS batch in, every message handled concurrently, and
//! the ids of the messages that could not be handled reported back
//! (`ReportBatchItemFailures`), so only those are received again — and after
//! `maxReceiveCount` receives they land in the dead-letter queue.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use partner_webhooks::Dispatcher;
use partner_webhooks::queue::WebhookWork;
use tokio::task::JoinSet;

pub async fn handle(dispatcher: &Dispatcher, event: SqsEvent) -> SqsBatchResponse {
    let mut tasks = JoinSet::new();
    for record in event.records {
        let dispatcher = dispatcher.clone();
        tasks.spawn(async move {
            let id = record.message_id.unwrap_or_default();
            let result = match WebhookWork::parse(record.body.as_deref().unwrap_or("")) {
                Ok(work) => dispatcher.handle(work).await.map_err(|e| e.to_string()),
                Err(err) => Err(err.to_string()),
            };
            (id, result)
        });
    }
    let mut response = SqsBatchResponse::default();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((_, Ok(()))) => {}
            Ok((id, Err(error))) => {
                tracing::warn!(message_id = %id, %error, "webhook message failed; SQS will redeliver it");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
            Err(join_error) => tracing::error!(error = %join_error, "a webhook task panicked"),
        }
    }
    response
}
