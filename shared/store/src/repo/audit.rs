//! The audit log: one entry per change, written in the change's own transaction
//! (never a round trip of its own), listed newest first for the app or for one
//! actor, and deleted by DynamoDB's TTL after 400 days.

use partner_domain::audit::{Actor, AuditEntry, AuditId};
use partner_domain::{AppId, Timestamp};
use serde_json::Value;

use super::{to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{Index, Query, SortKey, Store, StoreResult, WriteOp};

/// How long an entry is kept.
pub const KEEP_ENTRIES: time::Duration = time::Duration::days(400);

/// The write that records `entry`. It goes at the end of the transaction of the
/// change it describes, so the positions of the other operations (which
/// `ConditionFailed { index }` names) do not move; and it has no condition (its id
/// is new), so it is never the operation a failed condition names.
pub fn put_entry(entry: &AuditEntry) -> StoreResult<WriteOp> {
    let app = &entry.app_id;
    let mut item = with_index(
        with_index(
            to_item(
                &keys::audit_entry(app, &entry.id),
                entity::AUDIT_ENTRY,
                entry,
            )?,
            attr::GSI1_PK,
            attr::GSI1_SK,
            keys::audit_log_of_app(app).partition_of(entry.id.as_str()),
            entry.id.to_string(),
        ),
        attr::GSI2_PK,
        attr::GSI2_SK,
        keys::audit_log_of_actor(app, &entry.actor).partition_of(entry.id.as_str()),
        entry.id.to_string(),
    );
    let expires = entry.at + KEEP_ENTRIES;
    item.insert(attr::TTL.into(), Value::from(expires.unix_timestamp()));
    Ok(WriteOp::Put {
        item,
        condition: None,
    })
}

#[derive(Debug, Clone, Copy)]
pub struct AuditLog<'a> {
    store: &'a Store,
}

impl Store {
    /// The apps' audit logs.
    pub fn audit_log(&self) -> AuditLog<'_> {
        AuditLog { store: self }
    }
}

impl AuditLog<'_> {
    /// A page of the app's entries, newest first: all of them, or one actor's; and
    /// only those made at or after `since`, when given. One query either way.
    pub async fn list(
        &self,
        app: &AppId,
        actor: Option<&Actor>,
        since: Option<Timestamp>,
        limit: u32,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<AuditEntry>, Option<String>)> {
        let (mut query, listing) = match actor {
            Some(actor) => (
                Query::partition(Index::Gsi2, ""),
                keys::audit_log_of_actor(app, actor),
            ),
            None => (
                Query::partition(Index::Gsi1, ""),
                keys::audit_log_of_app(app),
            ),
        };
        if let Some(since) = since {
            // Every id is `aud_` and 26 base-32 characters, all below `~`.
            query.sort = SortKey::Between(
                AuditId::lower_bound_at(since).to_string(),
                format!("{}_~", AuditId::PREFIX),
            );
        }
        query.descending = true;
        query.limit = limit;
        query.cursor = cursor;
        super::listing_page(self.store, &query, &listing).await
    }
}
