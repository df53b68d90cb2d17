//! Partner (affiliate) records, keyed beside their customer.

use partner_domain::records::Affiliate;
use partner_domain::{AppId, CustomerId};

use super::from_item;
use crate::keys;
use crate::{Store, StoreResult};

#[derive(Debug, Clone, Copy)]
pub struct Affiliates<'a> {
    store: &'a Store,
}

impl Store {
    pub fn affiliates(&self) -> Affiliates<'_> {
        Affiliates { store: self }
    }
}

impl Affiliates<'_> {
    /// The partner record of a customer: one read.
    pub async fn by_customer(
        &self,
        app: &AppId,
        customer: &CustomerId,
    ) -> StoreResult<Option<Affiliate>> {
        self.store
            .get(&keys::affiliate_of_customer(app, customer), false)
            .await?
            .map(from_item)
            .transpose()
    }
}
