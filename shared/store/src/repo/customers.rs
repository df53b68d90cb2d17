//! Customer accounts of an app, unique by email.

use partner_domain::records::Customer;
use partner_domain::{AppId, Email};

use super::from_item;
use crate::keys;
use crate::{Store, StoreResult};

#[derive(Debug, Clone, Copy)]
pub struct Customers<'a> {
    store: &'a Store,
}

impl Store {
    pub fn customers(&self) -> Customers<'_> {
        Customers { store: self }
    }
}

impl Customers<'_> {
    /// The customer with this email (its marker carries a copy of the account).
    pub async fn by_email(&self, app: &AppId, email: &Email) -> StoreResult<Option<Customer>> {
        self.store
            .get(&keys::customer_by_email(app, email), true)
            .await?
            .map(from_item)
            .transpose()
    }
}
