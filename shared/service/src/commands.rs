//! Domain operations the functions call: rules here, storage in the repositories,
//! HTTP in the functions. Each takes the tenant from the credential, never a body.

pub mod approvals;
mod error;
pub mod groups;
pub mod partner;
pub mod payout_runs;
pub mod payouts;
pub mod referrals;
pub mod revenue;
pub mod review;
pub mod settings;
pub mod stripe;
pub mod track;
pub mod webhooks;

pub use error::{CommandError, Missing, SelfReferralBy};

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::events::Event;
use partner_domain::rate_limit::Exceeded;
use partner_domain::records::{Application, ApplicationForm, ApplicationStatus};
use partner_domain::{AppId, CustomerId, Email, Timestamp};
use partner_store::repo::affiliates::{OfCustomer, Partner};
use partner_store::repo::applications::ByEmail;
use partner_store::repo::applications::SubmitError;
use partner_store::repo::rate_limits::Guard;
use partner_store::{Store, StoreError};

use crate::views::PartnerInfo;
use crate::{AppState, Tenant};

/// Why an application was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the partner program is disabled")]
    ProgramDisabled,
    /// The email has an application; after a rejection, `retry_after` says when a
    /// new one will be accepted (`None`: pending, approved, or never again).
    #[error("an application with this email exists")]
    ApplicationExists { retry_after: Option<Timestamp> },
    #[error("the customer is already a partner")]
    CustomerAlreadyPartner,
    /// The client is over its rate limit; nothing was written.
    #[error("over the apply rate limit")]
    RateLimited(Exceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SubmitError> for ApplyError {
    fn from(err: SubmitError) -> Self {
        match err {
            SubmitError::ProgramDisabled => Self::ProgramDisabled,
            SubmitError::EmailTaken => Self::ApplicationExists { retry_after: None },
            SubmitError::CustomerAlreadyPartner => Self::CustomerAlreadyPartner,
            SubmitError::Limited(exceeded) => Self::RateLimited(exceeded),
            SubmitError::Store(err) => Self::Store(err),
        }
    }
}

/// Submits a partner application: one transactional write (the application, its
/// email marker and the `partner_application_submitted` event), then the publish.
/// `customer` is the signed-in user applying, when the app's server says so;
/// `group` the partner group the application asked to join.
/// `guard` is the client's rate limit (publishable keys): counted in the same
/// transaction when the application is accepted, and with one more write when it
/// is refused, so probing emails counts too.
///
/// An email whose application was rejected may apply again once the program's
/// `reapplyAfterDays` have passed: that costs one read and a second write, only on
/// that path.
pub async fn apply(
    state: &AppState,
    tenant: &Tenant,
    form: ApplicationForm,
    customer: Option<CustomerId>,
    group: Option<partner_domain::rewards::GroupId>,
    guard: Option<Guard>,
) -> Result<Application, ApplyError> {
    let now = partner_domain::now();
    let mut application = Application::submit(tenant.app_id.clone(), form, customer, now);
    application.group_id = group;
    let event = Event::application_submitted(&application);
    let audit = AuditEntry::new(
        tenant.app_id.clone(),
        tenant.actor(),
        AuditAction::ApplicationSubmitted,
        AuditSubject::new(SubjectKind::Application, &application.id),
    );
    match submit(
        state.store(),
        &application,
        &event,
        &audit,
        now,
        guard.as_ref(),
    )
    .await
    {
        Ok(()) => {}
        Err(refused @ (ApplyError::RateLimited(_) | ApplyError::Store(_))) => return Err(refused),
        Err(refused) => {
            state
                .store()
                .rate_limits()
                .count_refused(guard.as_ref())
                .await?
                .map_err(ApplyError::RateLimited)?;
            return Err(refused);
        }
    }
    state.publisher().publish(state.store(), &[event]).await;
    Ok(application)
}

/// The writes of [`apply`]; the guard is counted only if they succeed.
async fn submit(
    store: &Store,
    application: &Application,
    event: &Event,
    audit: &AuditEntry,
    now: Timestamp,
    guard: Option<&Guard>,
) -> Result<(), ApplyError> {
    let applications = store.applications();
    match applications
        .submit(application, event, None, audit, guard)
        .await
    {
        Ok(()) => return Ok(()),
        Err(SubmitError::EmailTaken) => {}
        Err(other) => return Err(other.into()),
    }
    let (existing, settings) = applications
        .by_email_with_settings(&application.app_id, &application.form.email)
        .await?;
    let Some(existing) = existing else {
        // The application that held the email is gone: an ordinary retry.
        return Err(ApplyError::ApplicationExists { retry_after: None });
    };
    if existing.status != ApplicationStatus::Rejected {
        return Err(ApplyError::ApplicationExists { retry_after: None });
    }
    let rejected_at = existing.reviewed_at.unwrap_or(existing.submitted_at);
    let Some(from) = settings.unwrap_or_default().reapply_from(rejected_at) else {
        return Err(ApplyError::ApplicationExists { retry_after: None });
    };
    if now < from {
        return Err(ApplyError::ApplicationExists {
            retry_after: Some(from),
        });
    }
    applications
        .submit(application, event, Some(&existing.id), audit, guard)
        .await?;
    Ok(())
}

/// Revokes an API key of the app: at once on this instance, within the key cache's
/// time to live on every other.
pub async fn revoke_api_key(
    state: &AppState,
    app: &AppId,
    key: &partner_domain::ApiKeyId,
    actor: &Actor,
) -> Result<(), CommandError> {
    match state.store().apps().revoke_api_key(app, key, actor).await? {
        partner_store::repo::apps::Revoked::Revoked => {
            state.api_keys().forget(key);
            Ok(())
        }
        partner_store::repo::apps::Revoked::NotFound => {
            Err(CommandError::NotFound(Missing::ApiKey))
        }
    }
}

/// The read of an email's application in `app` (one consistent read, which can
/// ride with the key's lookup).
pub fn application_status(app: &AppId, email: &Email) -> ByEmail {
    ByEmail::new(app, email)
}

/// The read behind [`partner_info`]: one batch, which can ride with the key's lookup.
pub fn partner_of_customer(app: &AppId, customer: &CustomerId) -> OfCustomer {
    OfCustomer::new(app, customer)
}

/// Whether a customer is a partner, and its figures, from [`partner_of_customer`].
pub fn partner_info(partner: Option<Partner>) -> PartnerInfo {
    match partner {
        Some((affiliate, settings, balances)) => {
            PartnerInfo::enrolled(affiliate, &settings, balances)
        }
        None => PartnerInfo::not_enrolled(),
    }
}
