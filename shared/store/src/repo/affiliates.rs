//! Partner (affiliate) records, keyed beside their customer and listed through GSI1.

use partner_domain::audit::AuditEntry;
use partner_domain::ledger::Balances;
use partner_domain::records::{Affiliate, ProgramSettings};

use super::ledger::StoredBalances;
use partner_domain::{AffiliateId, AppId, CustomerId};
use serde_json::Value;

use super::{from_item, to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{
    Condition, Index, Item, Query, SortKey, Store, StoreError, StoreResult, Update, WriteOp,
};

/// A partner record, listed in its app's partners.
pub(crate) fn affiliate_item(affiliate: &Affiliate) -> StoreResult<Item> {
    Ok(with_index(
        to_item(
            &keys::affiliate_of_customer(&affiliate.app_id, &affiliate.customer_id),
            entity::AFFILIATE,
            affiliate,
        )?,
        attr::GSI1_PK,
        attr::GSI1_SK,
        keys::affiliates_of_app(&affiliate.app_id).partition_of(affiliate.id.as_str()),
        affiliate.id.to_string(),
    ))
}

#[derive(Debug, Clone, Copy)]
pub struct Affiliates<'a> {
    pub(super) store: &'a Store,
}

impl Store {
    pub fn affiliates(&self) -> Affiliates<'_> {
        Affiliates { store: self }
    }
}

impl Affiliates<'_> {
    /// The partner record of a customer, the program settings it is read with
    /// (default rate, currency) and its balances, in one round trip.
    pub async fn by_customer(
        &self,
        app: &AppId,
        customer: &CustomerId,
    ) -> StoreResult<Option<(Affiliate, ProgramSettings, Balances)>> {
        self.store.read(&OfCustomer::new(app, customer)).await
    }

    /// A partner by its id (one index query, of the listing's partition its id
    /// picks; admin paths only). A partner listed before the listing was spread
    /// over partitions is in the first one: one query more when it is not found.
    pub async fn get(&self, app: &AppId, id: &AffiliateId) -> StoreResult<Option<Affiliate>> {
        let listing = keys::affiliates_of_app(app);
        let by_id = listing.partition_of(id.as_str());
        let first = listing.partitions().swap_remove(0);
        let fallback = (by_id != first).then_some(first);
        for partition in std::iter::once(by_id).chain(fallback) {
            let mut query = Query::partition(Index::Gsi1, partition);
            query.sort = SortKey::Between(id.to_string(), id.to_string());
            query.limit = 1;
            let page = self.store.query(&query).await?;
            if let Some(item) = page.items.into_iter().next() {
                return from_item(item).map(Some);
            }
        }
        Ok(None)
    }

    /// A partner by its id, read consistently: the index names its customer (the
    /// index may lag a write), then its record is read by key. What a change
    /// starts from, so it never writes back a stale copy.
    pub async fn get_consistent(
        &self,
        app: &AppId,
        id: &AffiliateId,
    ) -> StoreResult<Option<Affiliate>> {
        let Some(indexed) = self.get(app, id).await? else {
            return Ok(None);
        };
        let key = keys::affiliate_of_customer(app, &indexed.customer_id);
        Ok(super::record::<Affiliate>(self.store, &key, true)
            .await?
            .filter(|a| &a.id == id))
    }

    /// A page of the app's partners, newest first.
    pub async fn list(
        &self,
        app: &AppId,
        limit: u32,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<Affiliate>, Option<String>)> {
        let mut query = Query::partition(Index::Gsi1, "");
        query.descending = true;
        query.limit = limit;
        query.cursor = cursor;
        super::listing_page(self.store, &query, &keys::affiliates_of_app(app)).await
    }

    /// How many partners the app has: a walk over its listing in the largest pages
    /// the store answers (a few round trips for thousands of partners).
    pub async fn count(&self, app: &AppId) -> StoreResult<u32> {
        let listing = keys::affiliates_of_app(app);
        let mut query = Query::partition(Index::Gsi1, "");
        query.limit = 1_000;
        let mut total = 0u32;
        loop {
            let page = self.store.query_listing(&query, &listing).await?;
            total += page.items.len() as u32;
            match page.cursor {
                Some(next) => query.cursor = Some(next),
                None => return Ok(total),
            }
        }
    }

    /// Replaces a partner record (status, rate override, group); it must still be
    /// this partner. Its code marker's status and group move with it, so tracking
    /// (which reads only the marker) sees a suspension at once. `audit`, and
    /// `event` when there is one, are written with it.
    pub async fn update(
        &self,
        affiliate: &Affiliate,
        audit: &AuditEntry,
        event: Option<&partner_domain::events::Event>,
    ) -> StoreResult<bool> {
        let app = &affiliate.app_id;
        let item = affiliate_item(affiliate)?;
        let mut marker = Update::default();
        marker.set.insert(
            "status".into(),
            serde_json::to_value(affiliate.status)
                .map_err(|e| StoreError::Invalid(e.to_string()))?,
        );
        match &affiliate.group_id {
            Some(group) => {
                marker
                    .set
                    .insert("groupId".into(), Value::String(group.to_string()));
            }
            None => marker.remove.push("groupId"),
        }
        let condition = Condition::Equals("id", Value::String(affiliate.id.to_string()));
        let result = self
            .store
            .transact(
                vec![
                    WriteOp::Put {
                        item,
                        condition: Some(condition),
                    },
                    WriteOp::Update {
                        key: keys::referral_code(app, &affiliate.code),
                        update: marker,
                        condition: Some(Condition::Exists),
                    },
                    super::audit::put_entry(audit)?,
                ]
                .into_iter()
                .chain(event.map(super::outbox::put_event).transpose()?)
                .collect(),
            )
            .await;
        match result {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }
}

/// A partner record with the settings and balances it is read with.
pub type Partner = (Affiliate, ProgramSettings, Balances);

/// The partner, its settings and balances from a batch read of (partner, settings,
/// balance, …), and the item after them if one was asked for.
pub(super) fn partner_of(
    app: &AppId,
    items: Vec<Option<crate::Item>>,
) -> StoreResult<Option<(Partner, Option<crate::Item>)>> {
    let mut items = items.into_iter();
    let (Some(affiliate), settings, balance, extra) = (
        items.next().flatten(),
        items.next().flatten(),
        items.next().flatten(),
        items.next().flatten(),
    ) else {
        return Ok(None);
    };
    let settings =
        settings.ok_or_else(|| StoreError::Corrupt(format!("app {app} has no settings")))?;
    let balance: StoredBalances = balance.map(from_item).transpose()?.unwrap_or_default();
    Ok(Some((
        (from_item(affiliate)?, from_item(settings)?, balance.into()),
        extra,
    )))
}

/// A customer's partner record, the settings and its balances: by-customer's one
/// read, which can ride with the API key's lookup.
#[derive(Debug, Clone)]
pub struct OfCustomer {
    app: AppId,
    customer: CustomerId,
}

impl OfCustomer {
    pub fn new(app: &AppId, customer: &CustomerId) -> Self {
        Self {
            app: app.clone(),
            customer: customer.clone(),
        }
    }
}

impl super::reads::Read for OfCustomer {
    type Output = Option<Partner>;

    fn keys(&self) -> Vec<crate::Key> {
        vec![
            keys::affiliate_of_customer(&self.app, &self.customer),
            keys::settings(&self.app),
            keys::balance(&self.app, &self.customer),
        ]
    }

    fn consistent(&self) -> bool {
        false
    }

    fn parse(&self, items: Vec<Option<crate::Item>>) -> StoreResult<Self::Output> {
        Ok(partner_of(&self.app, items)?.map(|(partner, _)| partner))
    }
}
