//! Typed repositories: records in, records out, keys and conditions inside.
//!
//! Each repository is a thin view over a [`Store`]; it owns how its
//! records map to items (keys from [`crate::keys`], entity type, index attributes)
//! and which conditions guard its writes. Nothing above this layer builds keys.

pub mod affiliates;
pub mod applications;
pub mod apps;
pub mod audit;
pub mod clicks;
pub mod customers;
pub mod dashboard;
pub mod deals;
pub mod groups;
pub mod ledger;
pub mod outbox;
pub mod payout_runs;
pub mod payouts;
pub mod rate_limits;
pub mod reads;
pub mod referrals;
pub mod stripe;
pub mod summary;
pub mod webhooks;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::keys::attr;
use crate::{Item, Key, Query, Store, StoreError, StoreResult};

/// Serialises `record` into an item stored under `key` with entity type `entity`.
pub(crate) fn to_item<T: Serialize>(key: &Key, entity: &str, record: &T) -> StoreResult<Item> {
    let Value::Object(mut item) =
        serde_json::to_value(record).map_err(|e| StoreError::Invalid(e.to_string()))?
    else {
        return Err(StoreError::Invalid(
            "records must serialise to objects".into(),
        ));
    };
    item.insert(attr::PK.into(), Value::String(key.pk.clone()));
    item.insert(attr::SK.into(), Value::String(key.sk.clone()));
    item.insert(attr::TYPE.into(), Value::String(entity.into()));
    Ok(item)
}

/// The record stored under `key`, if any: one read.
pub(crate) async fn record<T: DeserializeOwned>(
    store: &Store,
    key: &Key,
    consistent: bool,
) -> StoreResult<Option<T>> {
    store.get(key, consistent).await?.map(from_item).transpose()
}

/// The records of one page of `query` (at most its `limit`).
pub(crate) async fn records<T: DeserializeOwned>(
    store: &Store,
    query: &Query,
) -> StoreResult<Vec<T>> {
    store
        .query(query)
        .await?
        .items
        .into_iter()
        .map(from_item)
        .collect()
}

/// Adds a global-secondary-index entry to an item.
pub(crate) fn with_index(
    mut item: Item,
    pk_attr: &str,
    sk_attr: &str,
    pk: String,
    sk: String,
) -> Item {
    item.insert(pk_attr.into(), Value::String(pk));
    item.insert(sk_attr.into(), Value::String(sk));
    item
}

/// Reads a record back out of an item (key and index attributes are ignored).
pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> StoreResult<T> {
    serde_json::from_value(Value::Object(item)).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Every record a query finds, following its cursors to the end (for partitions that
/// stay small: an app's keys, endpoints, a partner's entries).
pub(crate) async fn all<T: DeserializeOwned>(
    store: &Store,
    mut query: Query,
) -> StoreResult<Vec<T>> {
    let mut records = Vec::new();
    loop {
        let page = store.query(&query).await?;
        for item in page.items {
            records.push(from_item(item)?);
        }
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(records),
        }
    }
}

/// One page of a listing spread over partitions ([`crate::keys::Listing`]): its
/// records and the cursor of the next page.
pub(crate) async fn listing_page<T: DeserializeOwned>(
    store: &Store,
    query: &Query,
    listing: &crate::keys::Listing,
) -> StoreResult<(Vec<T>, Option<String>)> {
    records_of(store.query_listing(query, listing).await?)
}

/// A page's records and its cursor.
fn records_of<T: DeserializeOwned>(page: crate::Page) -> StoreResult<(Vec<T>, Option<String>)> {
    let crate::Page { items, cursor } = page;
    Ok((
        items
            .into_iter()
            .map(from_item)
            .collect::<StoreResult<_>>()?,
        cursor,
    ))
}

/// One page of a listing: its records and the cursor of the next page.
pub(crate) async fn page<T: DeserializeOwned>(
    store: &Store,
    query: &Query,
) -> StoreResult<(Vec<T>, Option<String>)> {
    records_of(store.query(query).await?)
}
