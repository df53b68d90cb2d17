//! Reviewing an application: approve (customer account, partner record, referral
//! code, event — one transaction) or reject (reason, event — one transaction).

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::events::Event;
use partner_domain::records::{
    Affiliate, AffiliateStatus, Application, ApplicationStatus, Customer,
};
use partner_domain::{AffiliateId, AppId, ApplicationId, CustomerId, ReferralCode};
use partner_store::repo::applications::{CustomerAccount, ReviewError};

use super::{CommandError, Missing};
use crate::AppState;

/// How often an approval is retried after losing a race (a customer account or a
/// generated code that appeared meanwhile).
const APPROVAL_ATTEMPTS: u32 = 6;

#[derive(Debug, Clone)]
pub enum Decision {
    Approve { code: Option<ReferralCode> },
    Reject { reason: Option<String> },
}

#[derive(Debug, Clone)]
pub struct Reviewed {
    pub application: Application,
    pub affiliate: Option<Affiliate>,
}

/// Reviews a pending application: one read, one transactional write, the publish.
/// `actor` is who reviews: the application keeps it (`reviewedBy`), and the audit
/// log records it with the review.
pub async fn review(
    state: &AppState,
    app: &AppId,
    id: &ApplicationId,
    decision: Decision,
    actor: &Actor,
) -> Result<Reviewed, CommandError> {
    let store = state.store();
    let application = store
        .applications()
        .get(app, id)
        .await?
        .ok_or(CommandError::NotFound(Missing::Application))?;
    if application.status != ApplicationStatus::Pending {
        return Err(CommandError::AlreadyReviewed);
    }
    let now = partner_domain::now();
    match decision {
        Decision::Reject { reason } => {
            let rejected = Application {
                status: ApplicationStatus::Rejected,
                reviewed_at: Some(now),
                reviewed_by: Some(actor.clone()),
                rejection_reason: reason.clone(),
                ..application
            };
            let event = Event::application_rejected(&rejected, reason.as_deref(), now);
            let audit = review_audit(&rejected, actor, AuditAction::ApplicationRejected);
            store
                .applications()
                .reject(&rejected, &event, &audit)
                .await?;
            state.publisher().publish(store, &[event]).await;
            Ok(Reviewed {
                application: rejected,
                affiliate: None,
            })
        }
        Decision::Approve { code } => approve(state, application, code, now, actor).await,
    }
}

/// The audit entry of a review of `application`.
fn review_audit(application: &Application, actor: &Actor, action: AuditAction) -> AuditEntry {
    AuditEntry::new(
        application.app_id.clone(),
        actor.clone(),
        action,
        AuditSubject::new(SubjectKind::Application, &application.id),
    )
}

async fn approve(
    state: &AppState,
    application: Application,
    requested_code: Option<ReferralCode>,
    now: partner_domain::Timestamp,
    actor: &Actor,
) -> Result<Reviewed, CommandError> {
    let store = state.store();
    let app = &application.app_id;
    let new_customer = |id: CustomerId| Customer {
        id,
        app_id: app.clone(),
        email: application.form.email.clone(),
        name: Some(application.form.name.clone()),
        created_at: now,
    };
    // An applicant who applied as a customer becomes a partner on that account (one
    // read to see whether it, or the email, is known). Otherwise, optimistically a
    // new customer: the common case costs no extra read. If one exists for the
    // email, the transaction says so and the approval is retried with it.
    let mut customer = match &application.customer_id {
        Some(id) => named_account(state, &application, id, new_customer(id.clone())).await?,
        None => CustomerAccount::New(new_customer(CustomerId::generate())),
    };
    let generated = requested_code.is_none();
    let mut code = requested_code.unwrap_or_else(|| generate_code(&application.form.name, 0));
    for attempt in 1..=APPROVAL_ATTEMPTS {
        let affiliate = Affiliate {
            id: AffiliateId::generate(),
            app_id: app.clone(),
            customer_id: customer.customer().id.clone(),
            application_id: application.id.clone(),
            code: code.clone(),
            status: AffiliateStatus::Active,
            commission_rate: None,
            // The group the applicant applied to (none: the default group).
            group_id: application.group_id.clone(),
            created_at: now,
        };
        let approved = Application {
            status: ApplicationStatus::Approved,
            reviewed_at: Some(now),
            reviewed_by: Some(actor.clone()),
            affiliate_id: Some(affiliate.id.clone()),
            customer_id: Some(affiliate.customer_id.clone()),
            ..application.clone()
        };
        let event = Event::application_approved(&approved, &affiliate, now);
        let audit = review_audit(&approved, actor, AuditAction::ApplicationApproved).with_summary(
            format!("partner {} with code {}", affiliate.id, affiliate.code),
        );
        match store
            .applications()
            .approve(&approved, &customer, &affiliate, &event, &audit)
            .await
        {
            Ok(()) => {
                state.publisher().publish(store, &[event]).await;
                return Ok(Reviewed {
                    application: approved,
                    affiliate: Some(affiliate),
                });
            }
            Err(ReviewError::CustomerExists) if application.customer_id.is_some() => {
                let id = customer.customer().id.clone();
                customer =
                    named_account(state, &application, &id, new_customer(id.clone())).await?;
            }
            Err(ReviewError::CustomerExists) => {
                if let Some(existing) = store
                    .customers()
                    .by_email(app, &application.form.email)
                    .await?
                {
                    customer = CustomerAccount::Existing(existing);
                }
            }
            Err(ReviewError::CodeTaken) if generated => {
                code = generate_code(&application.form.name, attempt)
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(CommandError::ApprovalCollided)
}

/// The account of a customer the app named: the stored one, or a new one under the
/// app's id (listed by email unless another account already has the email).
async fn named_account(
    state: &AppState,
    application: &Application,
    id: &CustomerId,
    new: Customer,
) -> Result<CustomerAccount, CommandError> {
    let (by_id, by_email) = state
        .store()
        .customers()
        .by_id_and_email(&application.app_id, id, &application.form.email)
        .await?;
    Ok(match (by_id, by_email) {
        (Some(existing), _) => CustomerAccount::Existing(existing),
        (None, None) => CustomerAccount::New(new),
        (None, Some(_)) => CustomerAccount::NewUnlisted(new),
    })
}

/// Applications one bulk review may name.
pub const MAX_BULK_REVIEW: usize = 100;

/// Reviews several applications the same way: each in its own transaction with
/// its own event, as if reviewed one by one (approvals get generated codes), a few
/// at a time. The outcomes come back in the order of `ids`. Racing single reviews
/// of the same applications is safe: an approval's transaction requires the
/// application to be pending, so each is reviewed once. Each review is audited on
/// its own, by `actor`.
pub async fn review_many(
    state: &AppState,
    app: &AppId,
    ids: Vec<ApplicationId>,
    decision: Decision,
    actor: &Actor,
) -> Vec<(ApplicationId, Result<Reviewed, CommandError>)> {
    /// Reviews in flight at once: enough to finish 100 inside an API timeout,
    /// few enough not to crowd the table with one tenant's writes.
    const AT_ONCE: usize = 8;
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let mut tasks = tokio::task::JoinSet::new();
    for (n, id) in ids.iter().enumerate() {
        let (state, app, id, decision) = (state.clone(), app.clone(), id.clone(), decision.clone());
        let (limit, actor) = (std::sync::Arc::clone(&limit), actor.clone());
        tasks.spawn(async move {
            // The semaphore is never closed: acquiring only waits.
            let _permit = limit.acquire_owned().await;
            (n, review(&state, &app, &id, decision, &actor).await)
        });
    }
    let mut outcomes: Vec<Option<Result<Reviewed, CommandError>>> =
        ids.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((n, outcome)) => outcomes[n] = Some(outcome),
            Err(err) => tracing::error!(error = %err, "a bulk review task failed"),
        }
    }
    ids.into_iter()
        .zip(outcomes)
        .map(|(id, outcome)| {
            let outcome = outcome
                .unwrap_or_else(|| Err(CommandError::Internal("the review task failed".into())));
            (id, outcome)
        })
        .collect()
}

/// A code from the applicant's first name and random digits: `JANE47`. Each later
/// attempt (after a collision) uses one digit more, so a common first name never
/// runs out of codes: `make stress` approved 10,000 partners named "Load", and
/// with a digit more every other attempt, 4 in 10 of those approvals ran out of
/// attempts once the 2-, 3- and 4-digit codes were mostly taken.
pub fn generate_code(name: &str, attempt: u32) -> ReferralCode {
    let base: String = name
        .split_whitespace()
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_ascii_uppercase();
    let base = if base.len() < 2 {
        "PARTNER".to_owned()
    } else {
        base
    };
    // Codes are at most 18 characters; the base is at most 12.
    let digits = (2 + attempt as usize).min(18 - base.len());
    let mut random = [0u8; 16];
    partner_domain::random_bytes(&mut random);
    let suffix: String = random
        .iter()
        .take(digits)
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    // The shape is valid by construction: 4 to 18 ASCII letters and digits.
    ReferralCode::parse("code", &format!("{base}{suffix}"))
        .unwrap_or_else(|_| unreachable!("{base}{suffix} is a valid code"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_come_from_the_first_name() {
        let code = generate_code("Jane Smith", 0);
        assert!(code.as_str().starts_with("JANE"), "{code:?}");
        assert_eq!(code.as_str().len(), 6);
    }

    #[test]
    fn each_later_attempt_uses_one_digit_more_up_to_the_longest_code() {
        assert_eq!(generate_code("Jane", 1).as_str().len(), 4 + 3);
        assert_eq!(generate_code("Jane", 4).as_str().len(), 4 + 6);
        let longest = generate_code("Maximilianusz Bauer", 20);
        assert_eq!(longest.as_str().len(), 18, "{longest:?}");
    }

    #[test]
    fn names_without_usable_letters_still_get_a_valid_code() {
        for name in ["", "  ", "李小龙", "J", "!!!"] {
            let code = generate_code(name, 0);
            assert!(
                ReferralCode::parse("code", code.as_str()).is_ok(),
                "{name:?} → {code:?}"
            );
        }
    }
}
