//! The commission ledger: revenue turned into entries, approvals after the holding
//! period, and each partner's balances.
//!
//! Every change to an entry updates the partner's balance item in the same
//! transaction, so the balances are always the sums of the entries by status (a
//! property test holds them to it) and reading them is one item.

use partner_domain::audit::AuditEntry;
use partner_domain::events::Event;
use partner_domain::ledger::{CommissionId, Entry, EntryStatus, PaymentRecord, Referral};
use partner_domain::records::ProgramSettings;
use partner_domain::{AffiliateId, AppId, CustomerId, Money, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::clicks::bump_stats;
use super::{from_item, to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{
    Condition, Index, Item, Key, Query, SortKey, Store, StoreError, StoreResult, Update, WriteOp,
};

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
        keys::entries_of_app(&entry.app_id),
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
/// A new ledger entry and its event.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub entry: Entry,
    pub event: Event,
}

/// How a revenue event changes the referred customer's referral: what it earned,
/// its payments, and the payment refunds reverse by default.
#[derive(Debug, Clone)]
pub struct ReferralChange {
    pub customer: CustomerId,
    /// The referral's `revision` when read: every revenue write bumps it, so a
    /// write decided on a referral another write changed meanwhile is refused
    /// (and decided again), whatever it changed.
    pub revision_before: i64,
    pub earned: Money,
    /// A payment: the customer's payments with this one.
    pub payments: Option<u32>,
    /// Set on the customer's first payment.
    pub first_payment_at: Option<Timestamp>,
    pub last_payment: Option<PaymentRecord>,
    pub pending_until: Option<Timestamp>,
}

/// Everything a revenue event changes besides its entries.
#[derive(Debug, Clone, Default)]
pub struct RevenueChange {
    pub referral: Option<ReferralChange>,
    /// The payment a refund reverses: its event id, what refunds had reversed of it
    /// when read (a named payment; the referral's revision guards the rest), and
    /// what this one reverses.
    pub refunded: Option<(String, Option<Money>, Money)>,
    /// A payment's record, kept with its revenue record for the refunds naming it.
    pub payment: Option<PaymentRecord>,
    /// The partner (its customer id) gaining a paying customer: this is the
    /// customer's first payment.
    pub new_paying_customer: Option<CustomerId>,
    /// The partner whose conversions this payment counts in.
    pub conversion: Option<AffiliateId>,
}

/// What recording revenue reads first, in one round trip.
#[derive(Debug, Clone, Default)]
pub struct RevenueContext {
    /// The result of an earlier call with the same event id.
    pub earlier: Option<Value>,
    pub referral: Option<Referral>,
    pub settings: Option<ProgramSettings>,
    pub groups: super::groups::GroupSet,
    /// The payment a refund names, if asked for and recorded.
    pub payment: Option<PaymentRecord>,
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
    /// What recording revenue needs, in one round trip: an earlier result for the
    /// same event id, the customer's referral, the settings, the app's groups, and
    /// (for a refund naming it) the refunded payment.
    pub async fn revenue_context(
        &self,
        app: &AppId,
        event_id: &str,
        customer: &CustomerId,
        refunded_payment: Option<&str>,
    ) -> StoreResult<RevenueContext> {
        let mut wanted = vec![
            keys::revenue(app, event_id),
            keys::referral(app, customer),
            keys::settings(app),
            keys::groups(app),
        ];
        if let Some(payment) = refunded_payment {
            wanted.push(keys::revenue(app, payment));
        }
        let mut items = self.store.get_many(&wanted, true).await?.into_iter();
        // Kept as JSON text so a repeat answers byte for byte what the first call did
        // (DynamoDB would turn 99.0 into 99).
        let earlier = items
            .next()
            .flatten()
            .and_then(|item| {
                item.get("result")
                    .and_then(Value::as_str)
                    .map(serde_json::from_str::<Value>)
            })
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let referral: Option<Referral> = items.next().flatten().map(from_item).transpose()?;
        let settings = items.next().flatten().map(from_item).transpose()?;
        let groups = super::groups::GroupSet::from_stored(items.next().flatten())?;
        let payment = items
            .next()
            .flatten()
            .map(payment_of)
            .transpose()?
            .flatten()
            // Only a payment of this customer can be refunded here.
            .filter(|(of, _)| of == customer)
            .map(|(_, payment)| payment);
        Ok(RevenueContext {
            earlier,
            referral,
            settings,
            groups,
            payment,
        })
    }

    /// The partner a revenue event earns for and its paying customers so far: one
    /// batch read.
    pub async fn earning_partner(
        &self,
        app: &AppId,
        partner_customer: &CustomerId,
    ) -> StoreResult<Option<(partner_domain::records::Affiliate, u32)>> {
        let wanted = [
            keys::affiliate_of_customer(app, partner_customer),
            keys::balance(app, partner_customer),
        ];
        let mut items = self.store.get_many(&wanted, false).await?.into_iter();
        let Some(affiliate) = items.next().flatten() else {
            return Ok(None);
        };
        let balance: StoredBalances = items
            .next()
            .flatten()
            .map(from_item)
            .transpose()?
            .unwrap_or_default();
        Ok(Some((
            from_item(affiliate)?,
            u32::try_from(balance.paying_customers).unwrap_or(0),
        )))
    }

    /// Records a revenue event with its entries and everything that moves with
    /// them, the caller's `extra` writes and `audit`, all in one transaction,
    /// guarded by the event id so a repeat changes nothing (a failed condition of
    /// any other write is `Changed`: read again and decide again).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_revenue(
        &self,
        app: &AppId,
        event_id: &str,
        result: &Value,
        entries: &[NewEntry],
        change: &RevenueChange,
        extra: Vec<WriteOp>,
        audit: &AuditEntry,
    ) -> Result<(), EarningsError> {
        let mut record = Item::new();
        let key = keys::revenue(app, event_id);
        record.insert(attr::PK.into(), Value::String(key.pk));
        record.insert(attr::SK.into(), Value::String(key.sk));
        record.insert(attr::TYPE.into(), Value::String(entity::REVENUE.into()));
        record.insert("result".into(), Value::String(result.to_string()));
        if let (Some(payment), Some(referral)) = (&change.payment, &change.referral) {
            record.insert(
                "payment".into(),
                serde_json::to_value(payment).map_err(|e| StoreError::Invalid(e.to_string()))?,
            );
            record.insert(
                "customerId".into(),
                Value::String(referral.customer.to_string()),
            );
            record.insert("reversed".into(), Value::from(0));
        }
        let mut ops = vec![WriteOp::Put {
            item: record,
            condition: Some(Condition::NotExists),
        }];
        let mut balance: Vec<(EntryStatus, i64)> = Vec::new();
        let mut earned = 0i64;
        let mut partner: Option<&CustomerId> = change.new_paying_customer.as_ref();
        for new in entries {
            let e = &new.entry;
            partner = Some(&e.affiliate_customer_id);
            ops.push(WriteOp::Put {
                item: entry_item(e)?,
                condition: Some(Condition::NotExists),
            });
            // Summed by status: an update names each counter once.
            match balance.iter_mut().find(|(status, _)| *status == e.status) {
                Some((_, sum)) => *sum += e.amount.minor(),
                None => balance.push((e.status, e.amount.minor())),
            }
            earned += e.amount.minor();
            if e.status == EntryStatus::Approved {
                ops.push(put_payable(app, &e.affiliate_customer_id, &e.id, e.amount)?);
            }
            if e.status == EntryStatus::Pending {
                let due = DueApproval {
                    app_id: app.clone(),
                    commission_id: e.id.clone(),
                    affiliate_customer_id: e.affiliate_customer_id.clone(),
                    amount: e.amount,
                    approves_at: e.approves_at,
                };
                ops.push(WriteOp::Put {
                    item: to_item(&approval_key(&due)?, entity::APPROVAL, &due)?,
                    condition: None,
                });
            }
            ops.push(super::outbox::put_event(&new.event)?);
        }
        // One update of the partner's balance item, however many entries (a
        // transaction may touch an item once).
        if let Some(partner) = partner {
            let mut op = bump_balance(app, partner, &balance, earned);
            if change.new_paying_customer.is_some()
                && let WriteOp::Update { update, .. } = &mut op
            {
                update.add.push(("payingCustomers", 1));
            }
            ops.push(op);
        }
        if let Some(referral) = &change.referral {
            let mut update = Update::default();
            update.add.push(("earned", referral.earned.minor()));
            update.add.push(("revision", 1));
            if let Some(payments) = referral.payments {
                update.set.insert("payments".into(), Value::from(payments));
            }
            if let Some(first) = referral.first_payment_at {
                update
                    .set
                    .insert("firstPaymentAt".into(), Value::String(rfc3339(first)?));
            }
            if let Some(last) = &referral.last_payment {
                update.set.insert(
                    "lastPayment".into(),
                    serde_json::to_value(last).map_err(|e| StoreError::Invalid(e.to_string()))?,
                );
            }
            if let Some(until) = referral.pending_until {
                update
                    .set
                    .insert("pendingUntil".into(), Value::String(rfc3339(until)?));
            }
            ops.push(WriteOp::Update {
                key: keys::referral(app, &referral.customer),
                update,
                // Revisions only grow (a referral made before them has none: 0), so
                // "below the one read plus one" is "still the one read".
                condition: Some(Condition::Below("revision", referral.revision_before + 1)),
            });
        }
        if let Some((payment, before, reversal)) = &change.refunded {
            let mut update = Update::default();
            update.add.push(("reversed", reversal.minor()));
            ops.push(WriteOp::Update {
                key: keys::revenue(app, payment),
                update,
                condition: before
                    .map(|before| Condition::Equals("reversed", Value::from(before.minor()))),
            });
        }
        if let Some(affiliate) = &change.conversion {
            ops.push(bump_stats(app, affiliate, &[("conversions", 1)]));
        }
        ops.extend(extra);
        ops.push(super::audit::put_entry(audit)?);
        match self.store.transact(ops).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 0 }) => Err(EarningsError::Duplicate),
            Err(StoreError::ConditionFailed { .. }) => Err(EarningsError::Changed),
            Err(err) => Err(err.into()),
        }
    }

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

    /// Approves one pending entry: its status, the balance and the approval note
    /// move together, with the `commission_approved` event and `audit`.
    pub async fn approve(
        &self,
        due: &DueApproval,
        event: &Event,
        audit: &AuditEntry,
    ) -> Result<(), EarningsError> {
        let app = &due.app_id;
        let mut status = Update::default();
        status.set.insert(
            "status".into(),
            Value::String(EntryStatus::Approved.as_str().into()),
        );
        let result = self
            .store
            .transact(vec![
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
                    &due.affiliate_customer_id,
                    &[
                        (EntryStatus::Pending, -due.amount.minor()),
                        (EntryStatus::Approved, due.amount.minor()),
                    ],
                    0,
                ),
                put_payable(
                    app,
                    &due.affiliate_customer_id,
                    &due.commission_id,
                    due.amount,
                )?,
                super::outbox::put_event(event)?,
                super::audit::put_entry(audit)?,
            ])
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
        let mut query = Query::partition(Index::Gsi2, keys::entries_of_app(app));
        query.descending = true;
        query.limit = limit;
        query.cursor = cursor;
        super::page(self.store, &query).await
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

/// A payment's record from its revenue record (with what refunds reversed of it
/// so far), and the customer who made it; `None` for revenue that was no payment.
fn payment_of(item: Item) -> StoreResult<Option<(CustomerId, PaymentRecord)>> {
    let Some(payment) = item.get("payment").cloned() else {
        return Ok(None);
    };
    let mut payment: PaymentRecord =
        serde_json::from_value(payment).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    payment.reversed = Money(item.get("reversed").and_then(Value::as_i64).unwrap_or(0));
    let customer = item
        .get("customerId")
        .and_then(Value::as_str)
        .and_then(|c| CustomerId::parse("customerId", c).ok())
        .ok_or_else(|| StoreError::Corrupt("a payment record without its customer".into()))?;
    Ok(Some((customer, payment)))
}
