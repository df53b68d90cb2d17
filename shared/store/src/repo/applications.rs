//! Partner applications, the email marker that makes one application per email,
//! and the approve / reject transactions.

use partner_domain::audit::AuditEntry;
use partner_domain::events::Event;
use partner_domain::records::{
    Affiliate, Application, ApplicationStatus, Customer, ProgramSettings,
};
use partner_domain::{AppId, ApplicationId, Email};
use serde::Serialize;
use serde_json::Value;

use super::rate_limits::{Guard, Placed};
use super::{from_item, to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{Condition, Index, Item, Query, Store, StoreError, StoreResult, WriteOp};

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the partner program is disabled")]
    ProgramDisabled,
    #[error("an application with this email already exists")]
    EmailTaken,
    #[error("the customer is already a partner")]
    CustomerAlreadyPartner,
    /// The rate limit guarding the submission was reached; nothing was written.
    #[error("over the rate limit")]
    Limited(partner_domain::rate_limit::Exceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("the application has already been reviewed")]
    NotPending,
    #[error("the referral code is taken")]
    CodeTaken,
    /// A customer account with the applicant's email appeared; approve with it.
    #[error("a customer with this email exists")]
    CustomerExists,
    #[error("the customer is already a partner")]
    AlreadyPartner,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The customer account an approval uses.
#[derive(Debug, Clone)]
pub enum CustomerAccount {
    /// Create it (with its email marker) in the approval's transaction.
    New(Customer),
    /// Create it under the app's own id without an email marker: another customer
    /// account of the app already has the email.
    NewUnlisted(Customer),
    /// It exists already; the transaction only checks it is still there.
    Existing(Customer),
}

impl CustomerAccount {
    pub fn customer(&self) -> &Customer {
        match self {
            Self::New(c) | Self::NewUnlisted(c) | Self::Existing(c) => c,
        }
    }
}

/// What a code marker points at (the partner is read through it, so the marker
/// never needs updating when the partner changes).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeMarker<'a> {
    code: &'a partner_domain::ReferralCode,
    affiliate_id: &'a partner_domain::AffiliateId,
    customer_id: &'a partner_domain::CustomerId,
    status: partner_domain::records::AffiliateStatus,
    /// The partner's email, so a referral of that email is recognised as its own.
    email: &'a Email,
    /// The partner's group, whose attribution window its clicks get.
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<&'a partner_domain::rewards::GroupId>,
}

#[derive(Debug, Clone, Copy)]
pub struct Applications<'a> {
    store: &'a Store,
}

impl Store {
    pub fn applications(&self) -> Applications<'_> {
        Applications { store: self }
    }
}

fn application_item(application: &Application) -> StoreResult<Item> {
    let app = &application.app_id;
    Ok(with_index(
        with_index(
            to_item(
                &keys::application(app, &application.id),
                entity::APPLICATION,
                application,
            )?,
            attr::GSI1_PK,
            attr::GSI1_SK,
            keys::applications_with_status(app, application.status)
                .partition_of(application.id.as_str()),
            application.id.to_string(),
        ),
        attr::GSI2_PK,
        attr::GSI2_SK,
        keys::applications_of_app(app).partition_of(application.id.as_str()),
        application.id.to_string(),
    ))
}

fn marker_item(application: &Application) -> StoreResult<Item> {
    to_item(
        &keys::application_by_email(&application.app_id, &application.form.email),
        entity::APPLICATION_EMAIL,
        application,
    )
}

fn pending() -> Condition {
    Condition::Equals(
        "status",
        Value::String(ApplicationStatus::Pending.as_str().into()),
    )
}

impl Applications<'_> {
    /// Stores a new application and its `partner_application_submitted` event in one
    /// transaction: the program must be enabled (a condition on the settings item, so
    /// no read is needed), and no application may exist for the email (a marker item
    /// that carries a copy of the application, which makes status-by-email one read)
    /// — unless `replacing` names the rejected application the marker holds now (a
    /// re-application; the old application item stays for the admins). An applicant
    /// applying as a customer (`customerId`) must not be a partner already. `audit`
    /// is written with it, and a `guard` (the client's rate limit) is counted in the
    /// same transaction.
    pub async fn submit(
        &self,
        application: &Application,
        event: &Event,
        replacing: Option<&ApplicationId>,
        audit: &AuditEntry,
        guard: Option<&Guard>,
    ) -> Result<(), SubmitError> {
        let marker_condition = match replacing {
            None => Condition::NotExists,
            Some(old) => Condition::Equals("id", Value::String(old.to_string())),
        };
        let mut ops = vec![
            WriteOp::Check {
                key: keys::settings(&application.app_id),
                condition: Condition::Equals("enabled", Value::Bool(true)),
            },
            WriteOp::Put {
                item: marker_item(application)?,
                condition: Some(marker_condition),
            },
            WriteOp::Put {
                item: application_item(application)?,
                condition: Some(Condition::NotExists),
            },
            super::outbox::put_event(event)?,
        ];
        if let Some(customer) = &application.customer_id {
            ops.push(WriteOp::Check {
                key: keys::affiliate_of_customer(&application.app_id, customer),
                condition: Condition::NotExists,
            });
        }
        ops.push(super::audit::put_entry(audit)?);
        let guard = Placed::onto(guard, &mut ops);
        let Err(err) = self.store.transact(ops).await else {
            return Ok(());
        };
        Err(match (guard.tripped(&err), err) {
            (Some(exceeded), _) => SubmitError::Limited(exceeded),
            (None, StoreError::ConditionFailed { index: 0 }) => SubmitError::ProgramDisabled,
            (None, StoreError::ConditionFailed { index: 1 }) => SubmitError::EmailTaken,
            (None, StoreError::ConditionFailed { index: 4 }) => SubmitError::CustomerAlreadyPartner,
            (None, err) => err.into(),
        })
    }

    /// The application an email holds now and the program settings, in one read
    /// (what deciding on a re-application needs).
    pub async fn by_email_with_settings(
        &self,
        app: &AppId,
        email: &Email,
    ) -> StoreResult<(Option<Application>, Option<ProgramSettings>)> {
        let keys = [keys::application_by_email(app, email), keys::settings(app)];
        let mut items = self.store.get_many(&keys, true).await?.into_iter();
        let application = items.next().flatten().map(from_item).transpose()?;
        let settings = items.next().flatten().map(from_item).transpose()?;
        Ok((application, settings))
    }

    /// The application for an email, read consistently so a status check right after
    /// applying sees the application.
    pub async fn by_email(&self, app: &AppId, email: &Email) -> StoreResult<Option<Application>> {
        self.store.read(&ByEmail::new(app, email)).await
    }

    pub async fn get(&self, app: &AppId, id: &ApplicationId) -> StoreResult<Option<Application>> {
        super::record(self.store, &keys::application(app, id), true).await
    }

    /// A page of the app's applications, newest first, optionally of one status.
    pub async fn list(
        &self,
        app: &AppId,
        status: Option<ApplicationStatus>,
        limit: u32,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<Application>, Option<String>)> {
        let (mut query, listing) = match status {
            Some(status) => (
                Query::partition(Index::Gsi1, ""),
                keys::applications_with_status(app, status),
            ),
            None => (
                Query::partition(Index::Gsi2, ""),
                keys::applications_of_app(app),
            ),
        };
        query.descending = true;
        query.limit = limit;
        query.cursor = cursor;
        super::listing_page(self.store, &query, &listing).await
    }

    /// Approves a pending application in one transaction: the application and its
    /// email marker become approved, the customer account is created (or checked),
    /// the partner record, its code marker and its (empty) summary are created, and
    /// the event and `audit` are recorded.
    pub async fn approve(
        &self,
        approved: &Application,
        customer: &CustomerAccount,
        affiliate: &Affiliate,
        event: &Event,
        audit: &AuditEntry,
    ) -> Result<(), ReviewError> {
        let app = &approved.app_id;
        let mut ops = vec![
            WriteOp::Put {
                item: application_item(approved)?,
                condition: Some(pending()),
            },
            WriteOp::Put {
                item: marker_item(approved)?,
                condition: None,
            },
        ];
        let customer_index = ops.len();
        match customer {
            CustomerAccount::New(new) => {
                ops.push(WriteOp::Put {
                    item: to_item(
                        &keys::customer_by_email(app, &new.email),
                        entity::CUSTOMER_EMAIL,
                        new,
                    )?,
                    condition: Some(Condition::NotExists),
                });
                ops.push(WriteOp::Put {
                    item: to_item(&keys::customer(app, &new.id), entity::CUSTOMER, new)?,
                    condition: Some(Condition::NotExists),
                });
            }
            CustomerAccount::NewUnlisted(new) => ops.push(WriteOp::Put {
                item: to_item(&keys::customer(app, &new.id), entity::CUSTOMER, new)?,
                condition: Some(Condition::NotExists),
            }),
            CustomerAccount::Existing(existing) => ops.push(WriteOp::Check {
                key: keys::customer(app, &existing.id),
                condition: Condition::Exists,
            }),
        }
        let affiliate_index = ops.len();
        ops.push(WriteOp::Put {
            item: with_index(
                to_item(
                    &keys::affiliate_of_customer(app, &affiliate.customer_id),
                    entity::AFFILIATE,
                    affiliate,
                )?,
                attr::GSI1_PK,
                attr::GSI1_SK,
                keys::affiliates_of_app(app).partition_of(affiliate.id.as_str()),
                affiliate.id.to_string(),
            ),
            condition: Some(Condition::NotExists),
        });
        let code_index = ops.len();
        let marker = CodeMarker {
            code: &affiliate.code,
            affiliate_id: &affiliate.id,
            customer_id: &affiliate.customer_id,
            status: affiliate.status,
            email: &approved.form.email,
            group_id: affiliate.group_id.as_ref(),
        };
        ops.push(WriteOp::Put {
            item: to_item(
                &keys::referral_code(app, &affiliate.code),
                entity::CODE,
                &marker,
            )?,
            condition: Some(Condition::NotExists),
        });
        ops.extend(super::summary::create(app, &affiliate.customer_id)?);
        ops.push(super::outbox::put_event(event)?);
        ops.push(super::audit::put_entry(audit)?);

        match self.store.transact(ops).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index }) => Err(match index {
                0 => ReviewError::NotPending,
                // A new account is its email marker and its item (or the item
                // alone): either one taken means the account appeared meanwhile.
                i if (i == customer_index
                    && matches!(
                        customer,
                        CustomerAccount::New(_) | CustomerAccount::NewUnlisted(_)
                    ))
                    || (i == customer_index + 1 && matches!(customer, CustomerAccount::New(_))) =>
                {
                    ReviewError::CustomerExists
                }
                i if i == affiliate_index => ReviewError::AlreadyPartner,
                i if i == code_index => ReviewError::CodeTaken,
                other => ReviewError::Store(StoreError::ConditionFailed { index: other }),
            }),
            Err(err) => Err(err.into()),
        }
    }

    /// Rejects a pending application (and records the event and `audit`) in one
    /// transaction.
    pub async fn reject(
        &self,
        rejected: &Application,
        event: &Event,
        audit: &AuditEntry,
    ) -> Result<(), ReviewError> {
        let result = self
            .store
            .transact(vec![
                WriteOp::Put {
                    item: application_item(rejected)?,
                    condition: Some(pending()),
                },
                WriteOp::Put {
                    item: marker_item(rejected)?,
                    condition: None,
                },
                super::outbox::put_event(event)?,
                super::audit::put_entry(audit)?,
            ])
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 0 }) => Err(ReviewError::NotPending),
            Err(err) => Err(err.into()),
        }
    }
}

/// The application of an email (its marker carries a copy): the status check's one
/// read, which can ride with the API key's lookup.
#[derive(Debug, Clone)]
pub struct ByEmail {
    key: crate::Key,
}

impl ByEmail {
    pub fn new(app: &AppId, email: &Email) -> Self {
        Self {
            key: keys::application_by_email(app, email),
        }
    }
}

impl super::reads::Read for ByEmail {
    type Output = Option<Application>;

    fn keys(&self) -> Vec<crate::Key> {
        vec![self.key.clone()]
    }

    fn consistent(&self) -> bool {
        // Status right after applying must see the application.
        true
    }

    fn parse(&self, items: Vec<Option<crate::Item>>) -> StoreResult<Self::Output> {
        items
            .into_iter()
            .next()
            .flatten()
            .map(from_item)
            .transpose()
    }
}
