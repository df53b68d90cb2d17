//! The single-table store.
//!
//! [`Table`] is the small interface both backends implement (DynamoDB in
//! [`dynamo`], embedded SQLite in `sqlite`, the `embedded` feature); [`Store`] wraps one and counts every
//! round trip so tests can hold each endpoint to its budget; the typed repositories
//! in [`repo`] are written once on top. The table layout lives in [`keys`].

pub mod capacity;
pub mod cursor;
pub mod dynamo;
pub mod keys;
pub mod limits;
mod listing;
pub mod repo;
#[cfg(feature = "embedded")]
pub mod sqlite;
pub mod table;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use table::{
    Condition, Index, Item, Key, Page, Query, SortKey, StoreError, StoreResult, Table, Update,
    WriteOp,
};

/// Store round trips made so far, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub gets: u64,
    pub writes: u64,
    pub transactions: u64,
    pub queries: u64,
}

impl Calls {
    pub fn total(&self) -> u64 {
        self.gets + self.writes + self.transactions + self.queries
    }

    /// The calls made between `earlier` and `self`.
    pub fn since(&self, earlier: Calls) -> Calls {
        Calls {
            gets: self.gets - earlier.gets,
            writes: self.writes - earlier.writes,
            transactions: self.transactions - earlier.transactions,
            queries: self.queries - earlier.queries,
        }
    }
}

#[derive(Debug, Default)]
struct CallCounter {
    gets: AtomicU64,
    writes: AtomicU64,
    transactions: AtomicU64,
    queries: AtomicU64,
}

/// How often a transaction that lost a race to another one is retried.
const CONFLICT_RETRIES: u32 = 3;

/// A table plus its round-trip counters, and the gate that holds every request to
/// DynamoDB's limits ([`limits`]) on both backends. Cheap to clone; build one per process.
#[derive(Debug, Clone)]
pub struct Store {
    table: Arc<dyn Table>,
    calls: Arc<CallCounter>,
    meter: Arc<capacity::Meter>,
}

impl Store {
    pub fn new(table: impl Table + 'static) -> Self {
        Self::from_arc(Arc::new(table))
    }

    pub fn from_arc(table: Arc<dyn Table>) -> Self {
        Self {
            table,
            calls: Arc::default(),
            meter: Arc::default(),
        }
    }

    /// An empty in-memory embedded store.
    #[cfg(feature = "embedded")]
    pub fn memory() -> StoreResult<Self> {
        Ok(Self::new(sqlite::SqliteTable::memory()?))
    }

    /// The embedded store in the SQLite file at `path` (created if missing).
    #[cfg(feature = "embedded")]
    pub fn sqlite(path: &std::path::Path) -> StoreResult<Self> {
        Ok(Self::new(sqlite::SqliteTable::open(path)?))
    }

    /// DynamoDB through a client built once per cold start.
    pub fn dynamodb(
        client: impl Into<partner_aws::OnFirstUse<aws_sdk_dynamodb::Client>>,
        table: impl Into<String>,
    ) -> Self {
        Self::new(dynamo::DynamoTable::new(client, table))
    }

    /// The table behind this store, to wrap (tests inject faults this way: a
    /// wrapper around the same table, behind a store of its own).
    pub fn table(&self) -> Arc<dyn Table> {
        self.table.clone()
    }

    /// The round trips made through this store (and its clones) so far.
    pub fn calls(&self) -> Calls {
        Calls {
            gets: self.calls.gets.load(Ordering::Relaxed),
            writes: self.calls.writes.load(Ordering::Relaxed),
            transactions: self.calls.transactions.load(Ordering::Relaxed),
            queries: self.calls.queries.load(Ordering::Relaxed),
        }
    }

    /// Starts counting capacity units (see [`capacity`]); for tests, since it
    /// reads updated items back.
    pub fn meter(&self) {
        self.meter.start();
    }

    /// The capacity units counted since [`Store::meter`].
    pub fn units(&self) -> capacity::Units {
        self.meter.units()
    }

    pub async fn get(&self, key: &Key, consistent: bool) -> StoreResult<Option<Item>> {
        self.calls.gets.fetch_add(1, Ordering::Relaxed);
        let item = self.table.get(key, consistent).await?;
        if self.meter.on() {
            self.meter.read(item.as_ref(), consistent);
        }
        Ok(item)
    }

    /// Several items in one round trip (counted as one get).
    pub async fn get_many(&self, keys: &[Key], consistent: bool) -> StoreResult<Vec<Option<Item>>> {
        limits::check_batch_get(keys.len())?;
        // DynamoDB refuses a batch naming one key twice; so does the embedded store.
        let distinct: std::collections::HashSet<&Key> = keys.iter().collect();
        if distinct.len() != keys.len() {
            return Err(StoreError::Invalid(
                "a batch read names one key twice".into(),
            ));
        }
        self.calls.gets.fetch_add(1, Ordering::Relaxed);
        let items = self.table.get_many(keys, consistent).await?;
        if self.meter.on() {
            for item in &items {
                self.meter.read(item.as_ref(), consistent);
            }
        }
        Ok(items)
    }

    pub async fn write(&self, op: WriteOp) -> StoreResult<Option<Item>> {
        limits::check_write(&op)?;
        self.calls.writes.fetch_add(1, Ordering::Relaxed);
        let after = self.table.write(op).await?;
        if self.meter.on() {
            self.meter.write(after.as_ref(), 1, false);
        }
        Ok(after)
    }

    /// An all-or-nothing write. A transaction that collided with a concurrent one on
    /// the same items (DynamoDB's `TransactionConflict`) is retried with a short,
    /// jittered pause; the retry then sees the winner's writes and its conditions
    /// decide. Every attempt counts as a round trip.
    pub async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        limits::check_transaction(&ops)?;
        let mut attempt = 0;
        loop {
            self.calls.transactions.fetch_add(1, Ordering::Relaxed);
            let result = self.table.transact(ops.clone()).await;
            if result.is_ok() && self.meter.on() {
                self.meter_transaction(&ops).await;
            }
            match result {
                Err(StoreError::Conflict) if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    let mut jitter = [0u8; 1];
                    partner_domain::random_bytes(&mut jitter);
                    let pause = 10 * u64::from(attempt) + u64::from(jitter[0] % 20);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                other => return other,
            }
        }
    }

    pub async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.calls.queries.fetch_add(1, Ordering::Relaxed);
        let page = self.table.query(query).await?;
        if self.meter.on() {
            self.meter.query(&page.items);
        }
        Ok(page)
    }

    /// Counts a transaction's items as written: puts as sent, the others as they
    /// are now (read back without counting; only while metering).
    async fn meter_transaction(&self, ops: &[WriteOp]) {
        for op in ops {
            let after = match capacity::put_item(op) {
                Some(item) => Some(item.clone()),
                None => {
                    let key = match op {
                        WriteOp::Update { key, .. }
                        | WriteOp::Delete { key, .. }
                        | WriteOp::Check { key, .. } => key,
                        WriteOp::Put { .. } => continue,
                    };
                    self.table.get(key, true).await.ok().flatten()
                }
            };
            self.meter
                .write(after.as_ref(), 2, matches!(op, WriteOp::Check { .. }));
        }
    }
}
