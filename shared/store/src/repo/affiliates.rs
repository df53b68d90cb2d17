//! Partner (affiliate) records, keyed beside their customer.

use partner_domain::records::{Affiliate, ProgramSettings};
use partner_domain::{AppId, CustomerId};

use super::from_item;
use crate::keys;
use crate::{Store, StoreError, StoreResult};

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
    /// The partner record of a customer and the program settings it is read with
    /// (default rate, currency), in one round trip.
    pub async fn by_customer(
        &self,
        app: &AppId,
        customer: &CustomerId,
    ) -> StoreResult<Option<(Affiliate, ProgramSettings)>> {
        let keys = [
            keys::affiliate_of_customer(app, customer),
            keys::settings(app),
        ];
        let mut items = self.store.get_many(&keys, false).await?.into_iter();
        let (Some(affiliate), settings) = (items.next().flatten(), items.next().flatten()) else {
            return Ok(None);
        };
        let settings =
            settings.ok_or_else(|| StoreError::Corrupt(format!("app {app} has no settings")))?;
        Ok(Some((from_item(affiliate)?, from_item(settings)?)))
    }
}
