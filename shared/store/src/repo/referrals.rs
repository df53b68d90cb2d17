//! Attributing a customer to a partner: the first attribution wins.

use partner_domain::audit::AuditEntry;
use partner_domain::ledger::Referral;

use super::clicks::bump_stats;
use super::ledger::EarningsError;
use super::to_item;
use crate::keys::{self, entity};
use crate::{Condition, Store, StoreError, WriteOp};

#[derive(Debug, Clone, Copy)]
pub struct Referrals<'a> {
    store: &'a Store,
}

impl Store {
    /// Referrals: which partner referred which customer.
    pub fn referrals(&self) -> Referrals<'_> {
        Referrals { store: self }
    }
}

impl Referrals<'_> {
    /// Attributes a customer to a partner, with the caller's `extra` writes and
    /// `audit`; the first attribution wins (a failed condition of an `extra` write
    /// is `Changed`).
    pub async fn refer(
        &self,
        referral: &Referral,
        extra: Vec<WriteOp>,
        audit: &AuditEntry,
    ) -> Result<(), EarningsError> {
        let item = to_item(
            &keys::referral(&referral.app_id, &referral.customer_id),
            entity::REFERRAL,
            referral,
        )?;
        let mut ops = vec![
            WriteOp::Put {
                item,
                condition: Some(Condition::NotExists),
            },
            bump_stats(
                &referral.app_id,
                &referral.affiliate_customer_id,
                &[("referrals", 1)],
            ),
        ];
        ops.extend(extra);
        ops.push(super::audit::put_entry(audit)?);
        match self.store.transact(ops).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 0 }) => Err(EarningsError::AlreadyReferred),
            Err(StoreError::ConditionFailed { .. }) => Err(EarningsError::Changed),
            Err(err) => Err(err.into()),
        }
    }
}
