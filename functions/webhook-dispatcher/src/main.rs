//! The webhook-dispatcher Lambda: configuration, store, HTTP client and queue built
//! once per cold start, then one SQS batch per invocation.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use partner_webhooks::Dispatcher;
use partner_webhooks::client::SafeClient;

#[tokio::main]
async fn main() -> Result<(), Error> {
    partner_service::logging::init();
    let state = partner_service::AppState::from_env().await?;
    let webhooks = &state.config().webhooks;
    let queue = state
        .webhook_queue()
        .cloned()
        .ok_or("WEBHOOK_QUEUE_URL and WEBHOOK_DLQ_URL must be set")?;
    let client = SafeClient::new(webhooks.timeout, webhooks.allow_private_targets);
    let dispatcher = Arc::new(Dispatcher::new(
        state.store().clone(),
        client,
        queue,
        webhooks.retry_schedule.clone(),
    ));
    lambda_runtime::run(service_fn(|event: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| {
        let dispatcher = Arc::clone(&dispatcher);
        async move { Ok::<_, Error>(webhook_dispatcher::handle(&dispatcher, event.payload).await) }
    }))
    .await
}
