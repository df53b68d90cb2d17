//! Stores for tests: an in-memory embedded store, or a fresh table on the moto
//! server that `make test` starts (its URL in `MOTO_ENDPOINT`).
//!
//! Each moto-backed store gets its own randomly named table, so tests can run in
//! parallel against one moto server without seeing each other's items.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

use crate::{Store, StoreResult, dynamo};

/// The environment variable the test harness sets to moto's URL.
pub const MOTO_ENDPOINT_VAR: &str = "MOTO_ENDPOINT";

pub fn memory() -> Store {
    #[allow(clippy::expect_used)]
    Store::memory().expect("in-memory SQLite store")
}

/// A DynamoDB client for moto at `endpoint`, with moto's dummy credentials.
pub fn moto_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(crate::aws_http::client())
        .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A store on a new, empty table on the harness's moto server.
///
/// Panics when `MOTO_ENDPOINT` is unset: these tests must run through `make test`,
/// which starts moto, rather than silently pass without it.
pub async fn moto() -> Store {
    #[allow(clippy::expect_used)]
    moto_store()
        .await
        .expect("a moto-backed store (run the tests through `make test`, which starts moto)")
}

async fn moto_store() -> StoreResult<Store> {
    let endpoint = std::env::var(MOTO_ENDPOINT_VAR)
        .map_err(|_| crate::StoreError::Invalid(format!("{MOTO_ENDPOINT_VAR} is not set")))?;
    let client = moto_client(&endpoint);
    let table = format!("test-{}", ulid::Ulid::generate().to_string().to_lowercase());
    dynamo::create_table(&client, &table).await?;
    Ok(Store::dynamodb(client, table))
}
