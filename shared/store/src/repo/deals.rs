//! Deals, unique by lead email within an app (a marker item).

use partner_domain::audit::AuditEntry;
use partner_domain::deals::{Deal, DealId, DealStatus};
use partner_domain::events::Event;
use partner_domain::{AffiliateId, AppId};
use serde_json::Value;

use super::{to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{Condition, Index, Item, Query, Store, StoreError, StoreResult, Update, WriteOp};

#[derive(Debug, thiserror::Error)]
pub enum DealError {
    #[error("a deal for this lead exists")]
    LeadTaken,
    #[error("the deal changed meanwhile")]
    Changed,
    /// The partner has `limit` open deals, as many as the program allows.
    #[error("the partner has {limit} open deals, the most allowed")]
    TooManyOpen { limit: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn deal_item(deal: &Deal) -> StoreResult<Item> {
    Ok(with_index(
        with_index(
            to_item(&keys::deal(&deal.app_id, &deal.id), entity::DEAL, deal)?,
            attr::GSI1_PK,
            attr::GSI1_SK,
            keys::deals_of_affiliate(&deal.app_id, &deal.affiliate_id),
            deal.id.to_string(),
        ),
        attr::GSI2_PK,
        attr::GSI2_SK,
        keys::deals_of_app(&deal.app_id),
        deal.id.to_string(),
    ))
}

/// Moves the partner's open-deal count by `delta`.
fn count_open(deal: &Deal, delta: i64, condition: Option<Condition>) -> WriteOp {
    let mut update = Update::default();
    update.add.push(("open", delta));
    update
        .set
        .insert(attr::TYPE.into(), Value::String(entity::OPEN_DEALS.into()));
    WriteOp::Update {
        key: keys::open_deals(&deal.app_id, &deal.affiliate_id),
        update,
        condition,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Deals<'a> {
    store: &'a Store,
}

impl Store {
    pub fn deals(&self) -> Deals<'_> {
        Deals { store: self }
    }
}

impl Deals<'_> {
    /// Registers a deal, its lead marker, the partner's open-deal count and
    /// `deal_registered` (and `audit`) in one transaction; refused when the partner
    /// already has `max_open` open deals.
    pub async fn register(
        &self,
        deal: &Deal,
        event: &Event,
        max_open: u32,
        audit: &AuditEntry,
    ) -> Result<(), DealError> {
        let mut marker = Item::new();
        let key = keys::lead(&deal.app_id, &deal.lead_email);
        marker.insert(attr::PK.into(), Value::String(key.pk));
        marker.insert(attr::SK.into(), Value::String(key.sk));
        marker.insert(attr::TYPE.into(), Value::String(entity::LEAD.into()));
        marker.insert("dealId".into(), Value::String(deal.id.to_string()));
        let result = self
            .with_summary(deal, |listed| {
                if let Some(listed) = listed {
                    super::summary::merge(listed, [deal.clone()]);
                }
                Ok(vec![
                    WriteOp::Put {
                        item: marker.clone(),
                        condition: Some(Condition::NotExists),
                    },
                    WriteOp::Put {
                        item: deal_item(deal)?,
                        condition: Some(Condition::NotExists),
                    },
                    count_open(deal, 1, Some(Condition::Below("open", i64::from(max_open)))),
                    super::outbox::put_event(event)?,
                    super::audit::put_entry(audit)?,
                ])
            })
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 0 }) => Err(DealError::LeadTaken),
            Err(StoreError::ConditionFailed { index: 2 }) => {
                Err(DealError::TooManyOpen { limit: max_open })
            }
            Err(err) => Err(err.into()),
        }
    }

    pub async fn get(&self, app: &AppId, id: &DealId) -> StoreResult<Option<Deal>> {
        super::record(self.store, &keys::deal(app, id), true).await
    }

    /// Moves a deal from `from` to its new status, with `deal_status_changed` and
    /// `audit`. A
    /// deal that ends rejected or lost releases its lead, so another partner (or the
    /// same one) may register it: a lead is held only while a deal for it is open
    /// or won.
    pub async fn change_status(
        &self,
        deal: &Deal,
        from: DealStatus,
        event: &Event,
        audit: &AuditEntry,
    ) -> Result<(), DealError> {
        let result = self
            .with_summary(deal, |listed| {
                if let Some(listed) = listed {
                    super::summary::update(listed, deal.clone());
                }
                let mut ops = vec![
                    WriteOp::Put {
                        item: deal_item(deal)?,
                        condition: Some(Condition::Equals(
                            "status",
                            Value::String(from.as_str().into()),
                        )),
                    },
                    super::outbox::put_event(event)?,
                ];
                if matches!(deal.status, DealStatus::Rejected | DealStatus::Lost) {
                    ops.push(WriteOp::Delete {
                        key: keys::lead(&deal.app_id, &deal.lead_email),
                        condition: None,
                    });
                }
                // A decided deal no longer counts against the partner's open deals.
                // (One registered before deals were counted takes the count below
                // its true value, which only ever lets the partner register one
                // more.)
                if deal.status.is_open() != from.is_open() {
                    ops.push(count_open(deal, -1, None));
                }
                ops.push(super::audit::put_entry(audit)?);
                Ok(ops)
            })
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err(DealError::Changed),
            Err(err) => Err(err.into()),
        }
    }

    /// A deal's transaction with its partner's summary (deals registered before
    /// they named their partner's customer have none to change).
    async fn with_summary<F>(&self, deal: &Deal, mut build: F) -> StoreResult<()>
    where
        F: FnMut(Option<&mut Vec<Deal>>) -> StoreResult<Vec<WriteOp>>,
    {
        match &deal.affiliate_customer_id {
            Some(partner) => {
                super::summary::transact(self.store, &deal.app_id, partner, build).await
            }
            None => self.store.transact(build(None)?).await,
        }
    }

    /// A partner's deals, newest first.
    pub async fn of_affiliate(
        &self,
        app: &AppId,
        affiliate: &AffiliateId,
        limit: u32,
    ) -> StoreResult<Vec<Deal>> {
        let mut query = Query::partition(Index::Gsi1, keys::deals_of_affiliate(app, affiliate));
        query.descending = true;
        query.limit = limit;
        super::records(self.store, &query).await
    }

    /// A page of the app's deals, newest first.
    pub async fn of_app(
        &self,
        app: &AppId,
        limit: u32,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<Deal>, Option<String>)> {
        let mut query = Query::partition(Index::Gsi2, keys::deals_of_app(app));
        query.descending = true;
        query.limit = limit;
        query.cursor = cursor;
        super::page(self.store, &query).await
    }
}
