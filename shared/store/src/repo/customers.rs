//! Customer accounts of an app, unique by email.

use partner_domain::records::Customer;
use partner_domain::{AppId, CustomerId, Email};

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
        super::record(self.store, &keys::customer_by_email(app, email), true).await
    }

    pub async fn get(&self, app: &AppId, id: &CustomerId) -> StoreResult<Option<Customer>> {
        super::record(self.store, &keys::customer(app, id), false).await
    }

    /// The customer account with the app's own id, and the one holding an email,
    /// in one read (what approving an applicant who applied as a customer needs).
    pub async fn by_id_and_email(
        &self,
        app: &AppId,
        id: &CustomerId,
        email: &Email,
    ) -> StoreResult<(Option<Customer>, Option<Customer>)> {
        let keys = [keys::customer(app, id), keys::customer_by_email(app, email)];
        let mut items = self.store.get_many(&keys, true).await?.into_iter();
        let by_id = items.next().flatten().map(from_item).transpose()?;
        let by_email = items.next().flatten().map(from_item).transpose()?;
        Ok((by_id, by_email))
    }
}
