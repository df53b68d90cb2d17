//! Partner groups: every group of an app in one item (at most
//! [`partner_domain::rewards::MAX_GROUPS`]), changed as a whole under a version
//! condition, so concurrent changes never lose one another and revenue reads a
//! partner's terms in the batch it makes anyway.

use partner_domain::AppId;
use partner_domain::audit::AuditEntry;
use partner_domain::rewards::Group;
use serde::{Deserialize, Serialize};

use super::{from_item, to_item};
use crate::keys::{self, entity};
use crate::{Condition, Item, Store, StoreError, StoreResult, WriteOp};

/// The stored item: the groups and the version every change bumps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupSet {
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub version: i64,
}

impl GroupSet {
    /// From the item of a batch read (none stored: no groups).
    pub fn from_stored(item: Option<Item>) -> StoreResult<Self> {
        item.map(from_item)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    pub fn find(&self, id: &partner_domain::rewards::GroupId) -> Option<&Group> {
        self.groups.iter().find(|g| &g.id == id)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Groups<'a> {
    store: &'a Store,
}

impl Store {
    pub fn groups(&self) -> Groups<'_> {
        Groups { store: self }
    }
}

impl Groups<'_> {
    /// The app's groups: one read.
    pub async fn all(&self, app: &AppId) -> StoreResult<GroupSet> {
        GroupSet::from_stored(self.store.get(&keys::groups(app), true).await?)
    }

    /// Replaces the app's groups with `next` if nobody changed them since `read`
    /// (`false` then: read again), with `audit`.
    pub async fn save(
        &self,
        app: &AppId,
        read: &GroupSet,
        groups: Vec<Group>,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let next = GroupSet {
            groups,
            version: read.version + 1,
        };
        let ops = vec![
            WriteOp::Put {
                item: to_item(&keys::groups(app), entity::GROUPS, &next)?,
                // Versions only grow: at most the one read means still the one read.
                condition: Some(Condition::Below("version", read.version + 1)),
            },
            super::audit::put_entry(audit)?,
        ];
        match self.store.transact(ops).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }
}
