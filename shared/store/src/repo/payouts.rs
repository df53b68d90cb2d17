//! Payouts of any size: a partner's whole available balance in one run, in
//! transactions that each stay inside DynamoDB's 100-operation limit.
//!
//! A run first opens the payout: an `OPENPAYOUT` item beside the partner's
//! balance names the payout id and the run's start (no payout item yet, so
//! listings never show a half-built payout). Then it pays the partner's approved
//! entries created before that start in chunks: each chunk moves its entries to
//! `paid` (pointing at the payout), the balance, and the open payout's running
//! amount and count, atomically. Last, one transaction writes the payout item
//! with the final amount, removes the open item and records `payout_created`.
//!
//! A run that dies midway leaves the open item; the next run resumes that same
//! payout, so nothing is paid twice (an entry is only ever paid from `approved`)
//! and the payout's amount always equals the sum of its entries.
//!
//! What a run reads is the partner's `PAYABLE#` items (one per approved, unpaid
//! entry, written with the approval and removed with the payment), not its whole
//! history. Entries approved before those items existed are found by a walk over
//! the partner's entries, which a run makes only when the payable items do not add
//! up to the balance it started from.

use partner_domain::audit::AuditEntry;
use partner_domain::events::Event;
use partner_domain::ledger::{Entry, EntryStatus, ListedEntry, Payout, PayoutId};
use partner_domain::{AffiliateId, AppId, CustomerId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ledger::{EarningsError, Payable, bump_balance, changed_on_condition};
use super::summary;
use super::with_index;
use super::{from_item, to_item};
use crate::keys::{self, attr, entity};
use crate::limits::MAX_TRANSACTION_OPERATIONS;
use crate::{Condition, Index, Item, Query, SortKey, Store, StoreResult, Update, WriteOp};

/// Entries one chunk pays: each is two operations (the entry, its payable item);
/// the rest of the transaction is the balance, the open payout and the summary.
pub const ENTRIES_PER_CHUNK: usize = (MAX_TRANSACTION_OPERATIONS - 3) / 2;

/// A payout being paid: kept beside the partner's balance until it is finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenPayout {
    pub payout_id: PayoutId,
    pub affiliate_id: AffiliateId,
    /// Entries created after this are left to the next run, so a run always ends.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: Timestamp,
    /// Minor units paid into the payout so far.
    #[serde(default)]
    pub amount: i64,
    #[serde(default)]
    pub entries: u32,
    /// The available balance when the run started (minor units): what the
    /// payable items should add up to.
    #[serde(default)]
    pub available_at_start: i64,
}

pub(crate) fn payout_item(payout: &Payout) -> StoreResult<Item> {
    Ok(with_index(
        with_index(
            to_item(
                &keys::payout(&payout.app_id, &payout.id),
                entity::PAYOUT,
                payout,
            )?,
            attr::GSI1_PK,
            attr::GSI1_SK,
            keys::payouts_of_affiliate(&payout.app_id, &payout.affiliate_id),
            payout.id.to_string(),
        ),
        attr::GSI2_PK,
        attr::GSI2_SK,
        keys::payouts_of_app(&payout.app_id),
        payout.id.to_string(),
    ))
}

#[derive(Debug, Clone, Copy)]
pub struct Payouts<'a> {
    store: &'a Store,
}

impl Store {
    pub fn payouts(&self) -> Payouts<'_> {
        Payouts { store: self }
    }
}

impl Payouts<'_> {
    /// The payout a run left open for this partner, if any.
    pub async fn open(
        &self,
        app: &AppId,
        partner_customer: &CustomerId,
    ) -> StoreResult<Option<OpenPayout>> {
        super::record(self.store, &keys::open_payout(app, partner_customer), true).await
    }

    /// Opens a payout; `Changed` if one is open already (a concurrent run).
    pub async fn start(
        &self,
        app: &AppId,
        partner_customer: &CustomerId,
        open: &OpenPayout,
    ) -> Result<(), EarningsError> {
        let item = to_item(
            &keys::open_payout(app, partner_customer),
            entity::OPEN_PAYOUT,
            open,
        )?;
        let written = self
            .store
            .write(WriteOp::Put {
                item,
                condition: Some(Condition::NotExists),
            })
            .await;
        changed_on_condition(written).map(|_| ())
    }

    /// A page of the partner's payable items that a run may pay: those that became
    /// payable before the run started. The page's cursor continues the walk.
    pub async fn payable(
        &self,
        app: &AppId,
        partner_customer: &CustomerId,
        open: &OpenPayout,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<Payable>, Option<String>)> {
        let mut query = Query::partition(
            Index::Primary,
            keys::partner_partition(app, partner_customer),
        );
        query.sort = SortKey::BeginsWith(keys::PAYABLE_PREFIX.to_owned());
        query.cursor = cursor;
        let (payable, next): (Vec<Payable>, _) = super::page(self.store, &query).await?;
        Ok((
            payable
                .into_iter()
                .filter(|p| p.since <= open.started_at)
                .collect(),
            next,
        ))
    }

    /// A page of the partner's approved entries created before the run, found by
    /// walking all its entries: for entries approved before payable items existed.
    pub async fn payable_by_walking(
        &self,
        app: &AppId,
        open: &OpenPayout,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<Payable>, Option<String>)> {
        let mut query = Query::partition(
            Index::Gsi1,
            keys::entries_of_affiliate(app, &open.affiliate_id),
        );
        query.cursor = cursor;
        let (entries, next): (Vec<Entry>, _) = super::page(self.store, &query).await?;
        let payable = entries
            .into_iter()
            .filter(|e| e.status == EntryStatus::Approved && e.created_at <= open.started_at)
            .map(|e| Payable {
                commission_id: e.id,
                amount: e.amount.minor(),
                since: e.created_at,
            })
            .collect();
        Ok((payable, next))
    }

    /// Pays `entries` (at most [`ENTRIES_PER_CHUNK`]) into the open payout, with the
    /// balance and the summary, in one transaction; `Changed` if one of them is no
    /// longer approved.
    pub async fn pay_chunk(
        &self,
        app: &AppId,
        partner_customer: &CustomerId,
        open: &OpenPayout,
        entries: &[Payable],
    ) -> Result<(), EarningsError> {
        let sum: i64 = entries.iter().map(|e| e.amount).sum();
        let written = summary::transact(self.store, app, partner_customer, |mut listed| {
            let mut ops = Vec::with_capacity(2 * entries.len() + 3);
            for entry in entries {
                if let Some(listed) = listed.as_deref_mut() {
                    summary::change(
                        listed,
                        entry.commission_id.as_str(),
                        |e: &mut ListedEntry| e.status = EntryStatus::Paid,
                    );
                }
                let mut update = Update::default();
                update.set.insert(
                    "status".into(),
                    Value::String(EntryStatus::Paid.as_str().into()),
                );
                update
                    .set
                    .insert("payoutId".into(), Value::String(open.payout_id.to_string()));
                ops.push(WriteOp::Update {
                    key: keys::entry(app, &entry.commission_id),
                    update,
                    condition: Some(Condition::Equals(
                        "status",
                        Value::String(EntryStatus::Approved.as_str().into()),
                    )),
                });
                ops.push(WriteOp::Delete {
                    key: keys::payable(app, partner_customer, &entry.commission_id),
                    condition: None,
                });
            }
            let mut running = Update::default();
            running.add.push(("amount", sum));
            running.add.push(("entries", entries.len() as i64));
            ops.push(WriteOp::Update {
                key: keys::open_payout(app, partner_customer),
                update: running,
                condition: Some(Condition::Equals(
                    "payoutId",
                    Value::String(open.payout_id.to_string()),
                )),
            });
            ops.push(bump_balance(
                app,
                partner_customer,
                &[(EntryStatus::Approved, -sum), (EntryStatus::Paid, sum)],
                0,
            ));
            Ok(ops)
        })
        .await;
        changed_on_condition(written)
    }

    /// Writes the finished payout (its amount is the open payout's) and lists it in
    /// the partner's summary, closes the open payout and records `payout_created`
    /// and `audit`, in one transaction. (The chunks before it are not audited: each
    /// is a full transaction already, and this entry names the payout they made.)
    pub async fn finish(
        &self,
        payout: &Payout,
        open: &OpenPayout,
        event: &Event,
        audit: &AuditEntry,
    ) -> Result<(), EarningsError> {
        let (app, partner) = (&payout.app_id, &payout.affiliate_customer_id);
        let result = summary::transact(self.store, app, partner, |listed| {
            if let Some(listed) = listed {
                summary::merge(listed, [summary::listed_payout(payout)]);
            }
            Ok(vec![
                WriteOp::Put {
                    item: payout_item(payout)?,
                    condition: Some(Condition::NotExists),
                },
                WriteOp::Delete {
                    key: keys::open_payout(app, partner),
                    condition: Some(Condition::Equals("amount", Value::from(open.amount))),
                },
                super::outbox::put_event(event)?,
                super::audit::put_entry(audit)?,
            ])
        })
        .await;
        changed_on_condition(result)
    }

    /// Closes an open payout that paid nothing.
    pub async fn abandon(
        &self,
        app: &AppId,
        partner_customer: &CustomerId,
    ) -> Result<(), EarningsError> {
        let deleted = self
            .store
            .write(WriteOp::Delete {
                key: keys::open_payout(app, partner_customer),
                condition: Some(Condition::Equals("entries", Value::from(0))),
            })
            .await;
        changed_on_condition(deleted).map(|_| ())
    }

    /// Entries as stored now (one batch read of at most 100), for a chunk to retry
    /// with those still approved after a concurrent change.
    pub async fn reread(&self, app: &AppId, entries: &[Payable]) -> StoreResult<Vec<Entry>> {
        let wanted: Vec<crate::Key> = entries
            .iter()
            .map(|e| keys::entry(app, &e.commission_id))
            .collect();
        self.store
            .get_many(&wanted, true)
            .await?
            .into_iter()
            .flatten()
            .map(from_item)
            .collect()
    }
    pub async fn payout(&self, app: &AppId, id: &PayoutId) -> StoreResult<Option<Payout>> {
        super::record(self.store, &keys::payout(app, id), true).await
    }

    /// Marks a pending payout paid (in the partner's summary too), with
    /// `payout_paid` and `audit`.
    pub async fn mark_paid(
        &self,
        paid: &Payout,
        event: &Event,
        audit: &AuditEntry,
    ) -> Result<(), EarningsError> {
        let result = summary::transact(
            self.store,
            &paid.app_id,
            &paid.affiliate_customer_id,
            |listed| {
                if let Some(listed) = listed {
                    summary::update(listed, summary::listed_payout(paid));
                }
                Ok(vec![
                    WriteOp::Put {
                        item: payout_item(paid)?,
                        condition: Some(Condition::Equals(
                            "status",
                            Value::String("pending".into()),
                        )),
                    },
                    super::outbox::put_event(event)?,
                    super::audit::put_entry(audit)?,
                ])
            },
        )
        .await;
        changed_on_condition(result)
    }

    /// A page of the app's payouts, newest first.
    pub async fn payouts_of_app(
        &self,
        app: &AppId,
        limit: u32,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<Payout>, Option<String>)> {
        let mut query = Query::partition(Index::Gsi2, keys::payouts_of_app(app));
        query.descending = true;
        query.limit = limit;
        query.cursor = cursor;
        super::page(self.store, &query).await
    }

    /// A partner's payouts, newest first.
    pub async fn payouts_of_affiliate(
        &self,
        app: &AppId,
        affiliate: &AffiliateId,
        limit: u32,
    ) -> StoreResult<Vec<Payout>> {
        let mut query = Query::partition(Index::Gsi1, keys::payouts_of_affiliate(app, affiliate));
        query.descending = true;
        query.limit = limit;
        super::records(self.store, &query).await
    }
}
