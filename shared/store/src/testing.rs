//! Stores for tests: an in-memory embedded store, or a fresh table on the moto
//! server that `make test` starts (its URL in `MOTO_ENDPOINT`).
//!
//! Each moto-backed store gets its own randomly named table, so tests can run in
//! parallel against one moto server without seeing each other's items.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

use partner_domain::ledger::{Entry, EntryStatus};
use partner_domain::records::Affiliate;

use crate::limits::MAX_TRANSACTION_OPERATIONS;
use crate::repo::affiliates::affiliate_item;
use crate::repo::ledger::{bump_balance, entry_item, put_payable};
use crate::{Condition, Store, StoreResult, WriteOp, dynamo};

/// The environment variable the test harness sets to moto's URL.
pub const MOTO_ENDPOINT_VAR: &str = "MOTO_ENDPOINT";

pub fn memory() -> Store {
    #[allow(clippy::expect_used)]
    Store::memory().expect("in-memory SQLite store")
}

/// A DynamoDB client for moto at `endpoint`, with moto's dummy credentials and the
/// functions' own time-outs (what the fault tests hold against a hung database).
pub fn moto_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    moto_client_with(endpoint, partner_aws::http::timeouts())
}

/// Time-outs for tests that only need moto to answer: moto is one Python process
/// serving every parallel test's calls one at a time (DynamoDB never queues a
/// call behind another table's), so under a full test run a call may wait far
/// longer than the functions' budget, and an attempt given up early only adds a
/// retry to the queue.
fn patient_timeouts() -> aws_sdk_dynamodb::config::timeout::TimeoutConfig {
    aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .operation_attempt_timeout(std::time::Duration::from_secs(20))
        .operation_timeout(std::time::Duration::from_secs(60))
        .build()
}

fn moto_client_with(
    endpoint: &str,
    timeouts: aws_sdk_dynamodb::config::timeout::TimeoutConfig,
) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(partner_aws::http::client())
        .timeout_config(timeouts)
        .retry_config(partner_aws::http::retries())
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
    let endpoint = moto_endpoint()?;
    let client = moto_client_with(&endpoint, patient_timeouts());
    let table = format!("test-{}", ulid::Ulid::generate().to_string().to_lowercase());
    dynamo::create_table(&client, &table).await?;
    Ok(Store::dynamodb(client, table))
}

fn moto_endpoint() -> StoreResult<String> {
    std::env::var(MOTO_ENDPOINT_VAR)
        .map_err(|_| crate::StoreError::Invalid(format!("{MOTO_ENDPOINT_VAR} is not set")))
}

/// A new, empty table on the harness's moto server, reached through `endpoint`
/// instead (a proxy that injects faults in front of moto, say).
pub async fn moto_through(endpoint: &str) -> Store {
    #[allow(clippy::expect_used)]
    let moto = moto_endpoint().expect("MOTO_ENDPOINT (run the tests through `make test`)");
    let table = format!("test-{}", ulid::Ulid::generate().to_string().to_lowercase());
    #[allow(clippy::expect_used)]
    dynamo::create_table(&moto_client(&moto), &table)
        .await
        .expect("a table on moto");
    Store::dynamodb(moto_client(endpoint), table)
}

/// Stores a partner record as an approval leaves it (without the application,
/// customer account or code marker): for tests of what walks an app's partners,
/// such as a payout run over thousands of them.
pub async fn seed_partner(store: &Store, affiliate: &Affiliate) -> StoreResult<()> {
    store
        .write(WriteOp::Put {
            item: affiliate_item(affiliate)?,
            condition: Some(Condition::NotExists),
        })
        .await
        .map(|_| ())
}

/// Stores ledger entries of one partner as they would be after their revenue was
/// recorded (and, for approved ones, approved), with the partner's balance, in as
/// few transactions as the limits allow: a partner with a thousand commissions in
/// a dozen round trips instead of thousands. Only for setting up tests of what
/// comes after (payouts, listings); the revenue path has tests of its own.
pub async fn seed_entries(store: &Store, entries: &[Entry]) -> StoreResult<()> {
    seed(store, entries, true).await
}

/// [`seed_entries`] as entries were stored before approved entries had payable
/// items (what the payout run's walk over all entries is for).
pub async fn seed_entries_without_payable_items(
    store: &Store,
    entries: &[Entry],
) -> StoreResult<()> {
    seed(store, entries, false).await
}

async fn seed(store: &Store, entries: &[Entry], payable: bool) -> StoreResult<()> {
    // An approved entry is two items (the entry, its payable item), plus the balance.
    for chunk in entries.chunks((MAX_TRANSACTION_OPERATIONS - 1) / 2) {
        let Some(first) = chunk.first() else {
            continue;
        };
        let mut ops = Vec::with_capacity(chunk.len() + 1);
        let mut by_status = [
            (EntryStatus::Pending, 0),
            (EntryStatus::Approved, 0),
            (EntryStatus::Paid, 0),
        ];
        for entry in chunk {
            ops.push(WriteOp::Put {
                item: entry_item(entry)?,
                condition: Some(Condition::NotExists),
            });
            if payable && entry.status == EntryStatus::Approved {
                ops.push(put_payable(
                    &entry.app_id,
                    &entry.affiliate_customer_id,
                    &entry.id,
                    entry.amount,
                )?);
            }
            for (status, sum) in &mut by_status {
                if *status == entry.status {
                    *sum += entry.amount.minor();
                }
            }
        }
        let earned = chunk.iter().map(|e| e.amount.minor()).sum();
        ops.push(bump_balance(
            &first.app_id,
            &first.affiliate_customer_id,
            &by_status,
            earned,
        ));
        store.transact(ops).await?;
    }
    Ok(())
}
