//! The transactional outbox: events written with the change that caused them,
//! marked once published, and found again by the relay if publishing never happened.

use std::time::{Duration, SystemTime};

use partner_domain::EventId;
use partner_domain::events::Event;
use serde_json::Value;

use super::{from_item, to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{Condition, Index, Query, SortKey, Store, StoreError, StoreResult, Update, WriteOp};

/// How long a published event stays in the table (for inspection) before its TTL.
const KEEP_PUBLISHED: Duration = Duration::from_secs(7 * 24 * 3600);

/// The write that records `event` as unpublished; goes in the transaction of the
/// change that caused it.
pub fn put_event(event: &Event) -> StoreResult<WriteOp> {
    let item = with_index(
        to_item(&keys::event(&event.app_id, &event.id), entity::EVENT, event)?,
        attr::GSI1_PK,
        attr::GSI1_SK,
        keys::outbox_shard_of(&event.id),
        event.id.to_string(),
    );
    Ok(WriteOp::Put {
        item,
        condition: Some(Condition::NotExists),
    })
}

#[derive(Debug, Clone, Copy)]
pub struct Outbox<'a> {
    store: &'a Store,
}

impl Store {
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox { store: self }
    }
}

impl Outbox<'_> {
    /// Takes a published event out of the unpublished index and lets it expire.
    pub async fn mark_published(&self, event: &Event) -> StoreResult<()> {
        let expires = SystemTime::now()
            .checked_add(KEEP_PUBLISHED)
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut update = Update::default();
        update.remove.extend([attr::GSI1_PK, attr::GSI1_SK]);
        update.set.insert(attr::TTL.into(), Value::from(expires));
        update.set.insert(
            "publishedAt".into(),
            Value::String(
                partner_domain::now()
                    .format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
            ),
        );
        let result = self
            .store
            .write(WriteOp::Update {
                key: keys::event(&event.app_id, &event.id),
                update,
                condition: Some(Condition::Exists),
            })
            .await;
        match result {
            // Already expired and deleted: nothing left to mark.
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Unpublished events created before `created_before`, oldest first, at most
    /// `limit` per shard.
    pub async fn unpublished(
        &self,
        created_before: SystemTime,
        limit: u32,
    ) -> StoreResult<Vec<Event>> {
        let upper = EventId::lower_bound_at(created_before).to_string();
        let mut events = Vec::new();
        for shard in 0..keys::OUTBOX_SHARDS {
            let mut query = Query::partition(Index::Gsi1, keys::outbox_shard(shard));
            query.sort = SortKey::Between(format!("{}_", EventId::PREFIX), upper.clone());
            query.limit = limit;
            for item in self.store.query(&query).await?.items {
                events.push(from_item(item)?);
            }
        }
        events.sort_by(|a: &Event, b: &Event| a.id.cmp(&b.id));
        Ok(events)
    }

    /// An event and whether it has been published.
    pub async fn get(
        &self,
        app: &partner_domain::AppId,
        id: &EventId,
    ) -> StoreResult<Option<(Event, bool)>> {
        let Some(item) = self.store.get(&keys::event(app, id), true).await? else {
            return Ok(None);
        };
        let published = item.contains_key("publishedAt");
        Ok(Some((from_item(item)?, published)))
    }
}
