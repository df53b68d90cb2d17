//! The one small interface both backends implement.
//!
//! Items are JSON objects (`serde_json::Map`): repositories serialise typed records
//! into them and the backends translate them to DynamoDB attribute values or SQLite
//! rows. Conditions are typed (never expression strings), so the embedded backend can
//! evaluate exactly what DynamoDB would.

use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt::Debug;

use crate::keys::attr;

/// A stored item: attribute name → value. Key attributes are plain string attributes
/// (see [`crate::keys`]).
pub type Item = serde_json::Map<String, Value>;

/// The primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// A condition on the item currently stored under a key, checked atomically with the
/// write it guards.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// No item exists under the key (the uniqueness-marker condition).
    NotExists,
    /// An item exists under the key.
    Exists,
    /// An item exists and its attribute equals the value.
    Equals(&'static str, Value),
    /// The item's integer attribute is below the value, a missing item or
    /// attribute counting as 0 (a counter that guards a limit).
    Below(&'static str, i64),
}

/// A change to a stored item, applied without reading it first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    /// Attributes to set (overwriting).
    pub set: Item,
    /// Attributes to remove.
    pub remove: Vec<&'static str>,
    /// Integer attributes to increment (an absent attribute counts as 0).
    pub add: Vec<(&'static str, i64)>,
}

/// One write, alone or as part of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        update: Update,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    /// Only valid in a transaction: the transaction fails unless the condition holds.
    Check { key: Key, condition: Condition },
}

/// Which key a query walks: the table's own, or one of the global secondary indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Primary,
    Gsi1,
    Gsi2,
}

/// A condition on the sort key of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Any,
    BeginsWith(String),
    /// Inclusive on both ends, as DynamoDB's `BETWEEN`.
    Between(String, String),
}

/// Items of one partition, in sort-key order, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub index: Index,
    pub partition: String,
    pub sort: SortKey,
    /// Newest (largest sort key) first.
    pub descending: bool,
    pub limit: u32,
    /// An opaque cursor from a previous [`Page`] of the same query.
    pub cursor: Option<String>,
}

impl Query {
    pub fn partition(index: Index, partition: impl Into<String>) -> Self {
        Self {
            index,
            partition: partition.into(),
            sort: SortKey::Any,
            descending: false,
            limit: 100,
            cursor: None,
        }
    }
}

/// One page of query results and the cursor of the next page, if there may be one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub cursor: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition did not hold. `index` is the position of the failing operation in
    /// a transaction (0 for a single write).
    #[error("condition failed on write {index}")]
    ConditionFailed { index: usize },
    /// Another transaction touched the same items at the same time; retrying may work.
    #[error("conflicting concurrent transaction")]
    Conflict,
    /// The cursor was not produced by this query (tampered, or from another partition).
    #[error("invalid cursor")]
    InvalidCursor,
    /// The database is throttling, failing or not answering in time, after the
    /// SDK's retries; a later try may work. A refused call wrote nothing; a call
    /// that timed out may have, which the writes' conditions and idempotency keys
    /// make safe to retry.
    #[error("the database is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The request is over one of DynamoDB's hard limits (see [`crate::limits`]).
    #[error("over DynamoDB's limits: {0}")]
    LimitExceeded(#[from] crate::limits::Limit),
    /// The request itself was malformed (a programming error, not a client's).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// A stored item did not have the expected shape.
    #[error("corrupt item: {0}")]
    Corrupt(String),
    #[error("store backend error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(err))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The table interface. Each method is one store round trip.
#[async_trait]
pub trait Table: Send + Sync + Debug {
    async fn get(&self, key: &Key, consistent: bool) -> StoreResult<Option<Item>>;

    /// Several items in one round trip (at most 100 keys), in the order of `keys`.
    async fn get_many(&self, keys: &[Key], consistent: bool) -> StoreResult<Vec<Option<Item>>>;

    /// A single put, update or delete. Returns the item as it is after the write
    /// (`None` after a delete).
    async fn write(&self, op: WriteOp) -> StoreResult<Option<Item>>;

    /// All-or-nothing: every condition holds and every write lands, or nothing changes.
    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()>;

    async fn query(&self, query: &Query) -> StoreResult<Page>;
}

/// DynamoDB refuses a transaction that touches one item twice; so do we.
pub(crate) fn check_distinct_keys(ops: &[WriteOp]) -> StoreResult<()> {
    let mut seen = HashSet::new();
    for op in ops {
        let key = op_key(op)?;
        if !seen.insert(key) {
            return Err(StoreError::Invalid(
                "a transaction touches one item twice".into(),
            ));
        }
    }
    Ok(())
}

/// The key of the item a write touches.
pub(crate) fn op_key(op: &WriteOp) -> StoreResult<Key> {
    match op {
        WriteOp::Put { item, .. } => key_of(item),
        WriteOp::Update { key, .. } | WriteOp::Delete { key, .. } | WriteOp::Check { key, .. } => {
            Ok(key.clone())
        }
    }
}

/// The key of a whole item, from its key attributes.
pub(crate) fn key_of(item: &Item) -> StoreResult<Key> {
    let text = |name: &str| {
        item.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| StoreError::Invalid(format!("item lacks string attribute {name}")))
    };
    Ok(Key::new(text(attr::PK)?, text(attr::SK)?))
}
