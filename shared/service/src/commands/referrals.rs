//! Attributing a customer to the partner who referred it.

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::ledger::{ClickId, Referral};
use partner_domain::records::AffiliateStatus;
use partner_domain::{AppId, CustomerId, Email, Money, ReferralCode};
use partner_store::WriteOp;
use partner_store::repo::clicks::CodeTarget;
use partner_store::repo::ledger::EarningsError;

use super::{CommandError, Missing, SelfReferralBy};
use crate::{AppState, Tenant};

/// How a referred customer found the partner.
#[derive(Debug, Clone)]
pub enum Via {
    Click(ClickId),
    Code(ReferralCode),
}

/// Attributes a customer to the partner of a click (while its attribution lasts) or a
/// code. First attribution wins; a partner referring its own customer account is
/// refused (it would earn nothing, so nothing is recorded).
pub async fn refer(
    state: &AppState,
    tenant: &Tenant,
    customer: CustomerId,
    via: Via,
    email: Option<Email>,
) -> Result<Referral, CommandError> {
    attribute(
        state,
        &tenant.app_id,
        &tenant.actor(),
        customer,
        via,
        email,
        Vec::new(),
    )
    .await
}

/// [`refer`] for `actor`, with `also` written in the attribution's transaction (a
/// failed condition of one of them is [`CommandError::DoneMeanwhile`]).
pub async fn attribute(
    state: &AppState,
    app: &AppId,
    actor: &Actor,
    customer: CustomerId,
    via: Via,
    email: Option<Email>,
    also: Vec<WriteOp>,
) -> Result<Referral, CommandError> {
    let clicks = state.store().clicks();
    let now = partner_domain::now();
    let code_not_found = || CommandError::NotFound(Missing::Code);
    let (target, click_id): (CodeTarget, Option<ClickId>) = match via {
        Via::Click(id) => {
            let click = clicks
                .click(app, &id)
                .await?
                .ok_or(CommandError::NotFound(Missing::Click))?;
            if click.expires_at <= now {
                return Err(CommandError::AttributionExpired);
            }
            let target = clicks
                .code_target(app, &click.code)
                .await?
                .ok_or_else(code_not_found)?;
            (target, Some(id))
        }
        Via::Code(code) => (
            clicks
                .code_target(app, &code)
                .await?
                .ok_or_else(code_not_found)?,
            None,
        ),
    };
    if target.status != AffiliateStatus::Active {
        return Err(code_not_found());
    }
    if target.customer_id == customer {
        return Err(CommandError::SelfReferral(SelfReferralBy::CustomerId));
    }
    if let Some(email) = &email {
        let partner_email = match &target.email {
            Some(known) => Some(known.clone()),
            // A code approved before its marker kept the email: one more read.
            None => state
                .store()
                .customers()
                .get(app, &target.customer_id)
                .await?
                .map(|c| c.email),
        };
        if partner_email.as_ref() == Some(email) {
            return Err(CommandError::SelfReferral(SelfReferralBy::Email));
        }
    }
    let referral = Referral {
        customer_id: customer,
        app_id: app.clone(),
        affiliate_id: target.affiliate_id,
        affiliate_customer_id: target.customer_id,
        click_id,
        email,
        attributed_at: now,
        earned: Money::ZERO,
        pending_until: None,
        payments: Some(0),
        first_payment_at: None,
        last_payment: None,
        revision: 0,
    };
    let audit = AuditEntry::new(
        app.clone(),
        actor.clone(),
        AuditAction::ReferralRecorded,
        AuditSubject::new(SubjectKind::Referral, &referral.customer_id),
    )
    .with_summary(match &referral.click_id {
        Some(click) => format!("to partner {} by click {click}", referral.affiliate_id),
        None => format!("to partner {} by code", referral.affiliate_id),
    });
    match state
        .store()
        .referrals()
        .refer(&referral, also, &audit)
        .await
    {
        Ok(()) => Ok(referral),
        Err(EarningsError::AlreadyReferred) => Err(CommandError::AlreadyReferred),
        Err(EarningsError::Changed) => Err(CommandError::DoneMeanwhile),
        Err(other) => Err(other.into()),
    }
}
