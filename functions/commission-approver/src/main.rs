//! The commission-approver Lambda: configuration and clients once per cold start, then
//! one approval run per scheduled invocation.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    partner_service::logging::init();
    let state = partner_service::AppState::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let state = state.clone();
        async move {
            commission_approver::handle(&state, event.payload)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
