//! The commission ledger: revenue turned into entries, approvals after the holding
//! period, and each partner's balances.
//!
//! Every change to an entry updates the partner's balance item in the same
//! transaction, so the balances are always the sums of the entries by status (a
//! property test holds them to it) and reading them is one item.

use partner_domain::audit::AuditEntry;
use partner_domain::events::Event;
use partner_domain::ledger::{CommissionId, Entry, EntryStatus, ListedEntry};
use partner_domain::{AffiliateId, AppId, CustomerId, Money, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod revenue;

use super::summary;
use super::{from_item, to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{
    Condition, Index, Item, Key, Query, SortKey, Store, StoreError, StoreResult, Update, WriteOp,
};
pub use revenue::{EarningPartner, NewEntry, ReferralChange, RevenueChange, RevenueContext};

/// The partner's balance item, as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredBalances {
    #[serde(default)]
    pub total_earned: i64,
    #[serde(default)]
    pub pending: i64,
    #[serde(default)]
    pub available: i64,
    #[serde(default)]
    pub paid: i64,
    /// Referred customers who have paid at least once (what tiers count).
    #[serde(default)]
    pub paying_customers: i64,
}

impl From<StoredBalances> for partner_domain::ledger::Balances {
    fn from(b: StoredBalances) -> Self {
        Self {
            total_earned: Money(b.total_earned),
            pending: Money(b.pending),
            available: Money(b.available),
            paid: Money(b.paid),
        }
    }
}
#[derive(Debug, thiserror::Error)]
pub enum EarningsError {
    #[error("the customer is already attributed to a partner")]
    AlreadyReferred,
    #[error("the revenue event was recorded before")]
    Duplicate,
    #[error("the entry changed meanwhile")]
    Changed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A write's outcome where a failed condition means another writer changed the
/// items first (`Changed`).
pub(crate) fn changed_on_condition<T>(result: StoreResult<T>) -> Result<T, EarningsError> {
    match result {
        Err(StoreError::ConditionFailed { .. }) => Err(EarningsError::Changed),
        other => Ok(other?),
    }
}
fn rfc3339(at: Timestamp) -> StoreResult<String> {
    at.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| StoreError::Invalid(e.to_string()))
}
/// Moves `amount` into the balance counters for `status` (and the total when `earned`).
pub(crate) fn bump_balance(
    app: &AppId,
    partner_customer: &CustomerId,
    changes: &[(EntryStatus, i64)],
    earned: i64,
) -> WriteOp {
    let mut update = Update::default();
    update
        .set
        .insert(attr::TYPE.into(), Value::String(entity::BALANCE.into()));
    if earned != 0 {
        update.add.push(("totalEarned", earned));
    }
    for (status, amount) in changes {
        let counter = match status {
            EntryStatus::Pending => "pending",
            EntryStatus::Approved => "available",
            EntryStatus::Paid => "paid",
        };
        update.add.push((counter, *amount));
    }
    WriteOp::Update {
        key: keys::balance(app, partner_customer),
        update,
        condition: None,
    }
}

/// What a payout needs of an approved entry, kept beside the partner's balance from
/// approval until it is paid (see [`crate::repo::payouts`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payable {
    pub commission_id: CommissionId,
    /// Minor units; negative for a reversal.
    pub amount: i64,
    /// When it became payable.
    #[serde(with = "time::serde::rfc3339")]
    pub since: Timestamp,
}

pub(crate) fn put_payable(
    app: &AppId,
    partner_customer: &CustomerId,
    entry: &CommissionId,
    amount: Money,
) -> StoreResult<WriteOp> {
    let payable = Payable {
        commission_id: entry.clone(),
        amount: amount.minor(),
        since: partner_domain::now(),
    };
    Ok(WriteOp::Put {
        item: to_item(
            &keys::payable(app, partner_customer, entry),
            entity::PAYABLE,
            &payable,
        )?,
        condition: None,
    })
}

pub(crate) fn entry_item(entry: &Entry) -> StoreResult<Item> {
    Ok(with_index(
        with_index(
            to_item(
                &keys::entry(&entry.app_id, &entry.id),
                entity::COMMISSION,
                entry,
            )?,
            attr::GSI1_PK,
            attr::GSI1_SK,
            keys::entries_of_affiliate(&entry.app_id, &entry.affiliate_id),
            entry.id.to_string(),
        ),
        attr::GSI2_PK,
        attr::GSI2_SK,
        keys::entries_of_app(&entry.app_id).partition_of(entry.id.as_str()),
        entry.id.to_string(),
    ))
}

/// The approver's note that an entry is due: enough to approve it without a read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DueApproval {
    pub app_id: AppId,
    pub commission_id: CommissionId,
    pub affiliate_customer_id: CustomerId,
    pub amount: Money,
    #[serde(with = "time::serde::rfc3339")]
    pub approves_at: Timestamp,
}

fn approval_key(due: &DueApproval) -> StoreResult<Key> {
    Ok(keys::approval(
        &due.app_id,
        &due.commission_id,
        &rfc3339(due.approves_at)?,
    ))
}
#[derive(Debug, Clone, Copy)]
pub struct Ledger<'a> {
    store: &'a Store,
}

impl Store {
    /// The commission ledger and balances.
    pub fn ledger(&self) -> Ledger<'_> {
        Ledger { store: self }
    }
}

impl Ledger<'_> {
    /// Pending entries due by `now`, oldest first, at most `limit` per shard.
    pub async fn due_approvals(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<DueApproval>> {
        let upper = format!("{}~", rfc3339(now)?);
        let mut due = Vec::new();
        for shard in 0..keys::APPROVAL_SHARDS {
            let mut query = Query::partition(Index::Primary, keys::approval_shard(shard));
            // Sort keys start with an RFC 3339 time; DynamoDB refuses an empty bound.
            query.sort = SortKey::Between("0".into(), upper.clone());
            query.limit = limit;
            for item in self.store.query(&query).await?.items {
                let candidate: DueApproval = from_item(item)?;
                if candidate.approves_at <= now {
                    due.push(candidate);
                }
            }
        }
        Ok(due)
    }

    /// Approves one pending entry: its status, the balance, the approval note and
    /// the partner's summary move together, with the `commission_approved` event and
    /// `audit`.
    pub async fn approve(
        &self,
        due: &DueApproval,
        event: &Event,
        audit: &AuditEntry,
    ) -> Result<(), EarningsError> {
        let app = &due.app_id;
        let partner = &due.affiliate_customer_id;
        let result = summary::transact(self.store, app, partner, |listed| {
            if let Some(listed) = listed {
                summary::change(listed, due.commission_id.as_str(), |e: &mut ListedEntry| {
                    e.status = EntryStatus::Approved
                });
            }
            let mut status = Update::default();
            status.set.insert(
                "status".into(),
                Value::String(EntryStatus::Approved.as_str().into()),
            );
            Ok(vec![
                WriteOp::Update {
                    key: keys::entry(app, &due.commission_id),
                    update: status,
                    condition: Some(Condition::Equals(
                        "status",
                        Value::String(EntryStatus::Pending.as_str().into()),
                    )),
                },
                WriteOp::Delete {
                    key: approval_key(due)?,
                    condition: None,
                },
                bump_balance(
                    app,
                    partner,
                    &[
                        (EntryStatus::Pending, -due.amount.minor()),
                        (EntryStatus::Approved, due.amount.minor()),
                    ],
                    0,
                ),
                put_payable(app, partner, &due.commission_id, due.amount)?,
                super::outbox::put_event(event)?,
                super::audit::put_entry(audit)?,
            ])
        })
        .await;
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 0 }) => {
                // Approved already (a concurrent run): only the note is left to remove.
                self.store
                    .write(WriteOp::Delete {
                        key: approval_key(due)?,
                        condition: None,
                    })
                    .await?;
                Err(EarningsError::Changed)
            }
            Err(err) => Err(err.into()),
        }
    }

    pub async fn entry(&self, app: &AppId, id: &CommissionId) -> StoreResult<Option<Entry>> {
        super::record(self.store, &keys::entry(app, id), true).await
    }

    /// Every entry of a partner (oldest first): what a payout and the dashboard read.
    pub async fn entries_of_affiliate(
        &self,
        app: &AppId,
        affiliate: &AffiliateId,
    ) -> StoreResult<Vec<Entry>> {
        super::all(
            self.store,
            Query::partition(Index::Gsi1, keys::entries_of_affiliate(app, affiliate)),
        )
        .await
    }

    /// A partner's most recent entries, newest first.
    pub async fn recent_entries(
        &self,
        app: &AppId,
        affiliate: &AffiliateId,
        limit: u32,
    ) -> StoreResult<Vec<Entry>> {
        let mut query = Query::partition(Index::Gsi1, keys::entries_of_affiliate(app, affiliate));
        query.descending = true;
        query.limit = limit;
        super::records(self.store, &query).await
    }

    /// A page of the app's entries, newest first.
    pub async fn entries_of_app(
        &self,
        app: &AppId,
        limit: u32,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<Entry>, Option<String>)> {
        let mut query = Query::partition(Index::Gsi2, "");
        query.descending = true;
        query.limit = limit;
        query.cursor = cursor;
        super::listing_page(self.store, &query, &keys::entries_of_app(app)).await
    }

    pub async fn balances(
        &self,
        app: &AppId,
        partner_customer: &CustomerId,
    ) -> StoreResult<StoredBalances> {
        Ok(self
            .store
            .get(&keys::balance(app, partner_customer), true)
            .await?
            .map(from_item)
            .transpose()?
            .unwrap_or_default())
    }
}
