//! The payout-runner Lambda: configuration and clients once per cold start, then
//! one working session per scheduled invocation, bounded by the invocation's
//! deadline.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    partner_service::logging::init();
    let state = partner_service::AppState::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let state = state.clone();
        async move {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64;
            let remaining = Duration::from_millis(event.context.deadline.saturating_sub(now));
            payout_runner::handle(&state, remaining)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
