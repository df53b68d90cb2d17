//! Revenue in the ledger: what recording a revenue event reads first (one batch),
//! the partner it earns for, and the one transaction that records it with its
//! entries, the referral's and the refunded payment's changes and the partner's
//! balance.

use partner_domain::audit::AuditEntry;
use partner_domain::events::Event;
use partner_domain::ledger::{Entry, EntryStatus, PaymentRecord, Referral};
use partner_domain::records::ProgramSettings;
use partner_domain::{AppId, CustomerId, Money, Timestamp};
use serde_json::Value;

use super::{
    DueApproval, EarningsError, Ledger, StoredBalances, approval_key, bump_balance, entry_item,
    put_payable, rfc3339,
};
use crate::keys::{self, attr, entity};
use crate::repo::clicks::bump_stats;
use crate::repo::summary::ListRead;
use crate::repo::{from_item, to_item};
use crate::{Condition, Item, StoreError, StoreResult, Update, WriteOp};

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
    /// The partner (its customer id) whose conversions this payment counts in.
    pub conversion: Option<CustomerId>,
    /// The earning partner's summary as read, which lists the new entries (none:
    /// no entries, or a partner without a summary).
    pub summary: Option<ListRead>,
}

/// The partner a revenue event earns for, as [`Ledger::earning_partner`] reads it.
#[derive(Debug, Clone)]
pub struct EarningPartner {
    pub affiliate: partner_domain::records::Affiliate,
    /// Referred customers who have paid before (what tiers count).
    pub paying_customers: u32,
    /// Its summary's commissions (none for partners without a summary).
    pub summary: Option<ListRead>,
}

/// What recording revenue reads first, in one round trip.
#[derive(Debug, Clone, Default)]
pub struct RevenueContext {
    /// The result of an earlier call with the same event id.
    pub earlier: Option<Value>,
    pub referral: Option<Referral>,
    pub settings: Option<ProgramSettings>,
    pub groups: crate::repo::groups::GroupSet,
    /// The payment a refund names, if asked for and recorded.
    pub payment: Option<PaymentRecord>,
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
        let groups = crate::repo::groups::GroupSet::from_stored(items.next().flatten())?;
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

    /// The partner a revenue event earns for, its paying customers so far and its
    /// summary (none for partners approved before summaries): one batch read,
    /// strongly consistent, because the summary's version guards the write.
    pub async fn earning_partner(
        &self,
        app: &AppId,
        partner_customer: &CustomerId,
    ) -> StoreResult<Option<EarningPartner>> {
        let wanted = [
            keys::affiliate_of_customer(app, partner_customer),
            keys::balance(app, partner_customer),
            ListRead::key(app, partner_customer),
        ];
        let mut items = self.store.get_many(&wanted, true).await?.into_iter();
        let Some(affiliate) = items.next().flatten() else {
            return Ok(None);
        };
        let balance: StoredBalances = items
            .next()
            .flatten()
            .map(from_item)
            .transpose()?
            .unwrap_or_default();
        Ok(Some(EarningPartner {
            affiliate: from_item(affiliate)?,
            paying_customers: u32::try_from(balance.paying_customers).unwrap_or(0),
            summary: ListRead::parse(items.next().flatten())?,
        }))
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
            ops.push(crate::repo::outbox::put_event(&new.event)?);
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
        if let (Some(partner), Some(read)) = (partner, &change.summary)
            && !entries.is_empty()
        {
            ops.push(read.write(app, partner, entries.iter().map(|new| &new.entry))?);
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
        if let Some(partner) = &change.conversion {
            ops.push(bump_stats(app, partner, &[("conversions", 1)]));
        }
        ops.extend(extra);
        ops.push(crate::repo::audit::put_entry(audit)?);
        match self.store.transact(ops).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 0 }) => Err(EarningsError::Duplicate),
            // Another write to the partner's items went first (its summary's
            // version moved, or DynamoDB cancelled the two colliding transactions):
            // decide again from what is stored now.
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
                Err(EarningsError::Changed)
            }
            Err(err) => Err(err.into()),
        }
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
