//! Reads that can share a round trip with an API-key lookup.
//!
//! A request's first read usually does not depend on its API key except for the
//! app id, which current keys carry (`sk_live_<app>_…`). Such a read is a [`Read`]:
//! its keys and how to turn the items into records. [`crate::repo::apps::Apps::api_key_with`]
//! fetches the key and the read's items in one `BatchGetItem`, so a cold request
//! whose key is not cached yet still costs one round trip; the caller uses the
//! records only once the key has verified and named the same app.

use crate::{Item, Key, Store, StoreResult};

/// Items to fetch in one batch, and how to read them.
pub trait Read {
    type Output;

    /// The items' keys (a handful; a batch takes at most 100).
    fn keys(&self) -> Vec<Key>;

    /// Whether the read must be strongly consistent on its own (a batch with an API
    /// key always is).
    fn consistent(&self) -> bool;

    /// The records, from the items of [`Read::keys`] in their order.
    fn parse(&self, items: Vec<Option<Item>>) -> StoreResult<Self::Output>;
}

impl Store {
    /// `read` alone: one round trip.
    pub async fn read<R: Read>(&self, read: &R) -> StoreResult<R::Output> {
        let items = self.get_many(&read.keys(), read.consistent()).await?;
        read.parse(items)
    }
}
