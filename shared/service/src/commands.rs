//! Domain operations the functions call: rules here, storage in the repositories,
//! HTTP in the functions. Each takes the tenant from the credential, never a body.

pub mod earnings;
pub mod partner;
pub mod review;
pub mod settings;

use partner_domain::events::Event;
use partner_domain::records::{Application, ApplicationForm};
use partner_domain::{AppId, CustomerId, Email};
use partner_store::repo::applications::SubmitError;
use partner_store::{Store, StoreResult};

use crate::views::PartnerInfo;
use crate::{AppState, Tenant};

/// Submits a partner application: one transactional write (the application, its
/// email marker and the `partner_application_submitted` event), then the publish.
pub async fn apply(
    state: &AppState,
    tenant: &Tenant,
    form: ApplicationForm,
) -> Result<Application, SubmitError> {
    let application = Application::submit(tenant.app_id.clone(), form, partner_domain::now());
    let event = Event::application_submitted(&application);
    state
        .store()
        .applications()
        .submit(&application, &event)
        .await?;
    state.publisher().publish(state.store(), &[event]).await;
    Ok(application)
}

/// The application of an email in the tenant's app, if any: one consistent read.
pub async fn application_status(
    store: &Store,
    tenant: &Tenant,
    email: &Email,
) -> StoreResult<Option<Application>> {
    store.applications().by_email(&tenant.app_id, email).await
}

/// Whether a customer is a partner, and its figures: one read.
pub async fn partner_of_customer(
    store: &Store,
    app: &AppId,
    customer: &CustomerId,
) -> StoreResult<PartnerInfo> {
    Ok(match store.affiliates().by_customer(app, customer).await? {
        Some((affiliate, settings, balances)) => {
            PartnerInfo::enrolled(affiliate, &settings, balances)
        }
        None => PartnerInfo::not_enrolled(),
    })
}
