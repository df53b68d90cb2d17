//! Partner applications, and the email marker that makes one application per email.

use partner_domain::records::Application;
use partner_domain::{AppId, ApplicationId, Email};
use serde_json::Value;

use super::{from_item, to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{Condition, Store, StoreError, StoreResult, WriteOp};

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the partner program is disabled")]
    ProgramDisabled,
    #[error("an application with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
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

impl Applications<'_> {
    /// Stores a new application in one transaction: the program must be enabled
    /// (a condition on the settings item, so no read is needed), and no application
    /// may exist for the email (a marker item that carries a copy of the application,
    /// which makes status-by-email a single read).
    pub async fn submit(&self, application: &Application) -> Result<(), SubmitError> {
        let app = &application.app_id;
        let item = with_index(
            with_index(
                to_item(
                    &keys::application(app, &application.id),
                    entity::APPLICATION,
                    application,
                )?,
                attr::GSI1_PK,
                attr::GSI1_SK,
                keys::applications_with_status(app, application.status),
                application.id.to_string(),
            ),
            attr::GSI2_PK,
            attr::GSI2_SK,
            keys::applications_of_app(app),
            application.id.to_string(),
        );
        let marker = to_item(
            &keys::application_by_email(app, &application.form.email),
            entity::APPLICATION_EMAIL,
            application,
        )?;
        let result = self
            .store
            .transact(vec![
                WriteOp::Check {
                    key: keys::settings(app),
                    condition: Condition::Equals("enabled", Value::Bool(true)),
                },
                WriteOp::Put {
                    item: marker,
                    condition: Some(Condition::NotExists),
                },
                WriteOp::Put {
                    item,
                    condition: Some(Condition::NotExists),
                },
            ])
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 0 }) => Err(SubmitError::ProgramDisabled),
            Err(StoreError::ConditionFailed { index: 1 }) => Err(SubmitError::EmailTaken),
            Err(err) => Err(err.into()),
        }
    }

    /// The application for an email, read consistently so a status check right after
    /// applying sees the application.
    pub async fn by_email(&self, app: &AppId, email: &Email) -> StoreResult<Option<Application>> {
        self.store
            .get(&keys::application_by_email(app, email), true)
            .await?
            .map(from_item)
            .transpose()
    }

    pub async fn get(&self, app: &AppId, id: &ApplicationId) -> StoreResult<Option<Application>> {
        self.store
            .get(&keys::application(app, id), true)
            .await?
            .map(from_item)
            .transpose()
    }
}
