//! Who a Stripe customer is, and attributing it to the partner its event names.

use partner_domain::audit::Actor;
use partner_domain::stripe::Outcome;
use partner_domain::stripe::event::CustomerRef;
use partner_domain::{AppId, CustomerId, ReferralCode};
use partner_store::WriteOp;
use partner_store::repo::stripe::Stripe;

use crate::AppState;
use crate::commands::referrals::{self, Via};
use crate::commands::{CommandError, Missing};

/// The customer id revenue and attribution use: the app's own
/// (`metadata.customer_id`), else the one Stripe's customer was mapped to before,
/// else Stripe's `cus_…`.
pub(super) fn customer_id(
    customer: &CustomerRef,
    mapped: Option<&CustomerId>,
) -> Option<CustomerId> {
    customer
        .own_id
        .clone()
        .or_else(|| mapped.cloned())
        .or_else(|| customer.customer_id())
}

/// The write that maps Stripe's customer to the app's own id, when the event names
/// both and the mapping is not already so: later invoices of the customer then
/// find it.
pub(super) fn remember(
    app: &AppId,
    customer: &CustomerRef,
    mapped: Option<&CustomerId>,
) -> Result<Vec<WriteOp>, CommandError> {
    match (&customer.stripe_customer, &customer.own_id) {
        (Some(stripe), Some(own)) if mapped != Some(own) => {
            Ok(vec![Stripe::customer_op(app, stripe, own)?])
        }
        _ => Ok(Vec::new()),
    }
}

/// What names the partner: a click, else a code, else the first of the event's
/// promotion codes linked to a partner.
pub(super) fn via(customer: &CustomerRef, linked: &[ReferralCode]) -> Option<Via> {
    let referrer = &customer.referrer;
    referrer
        .click
        .clone()
        .map(Via::Click)
        .or_else(|| referrer.code.clone().map(Via::Code))
        .or_else(|| linked.first().cloned().map(Via::Code))
}

/// What an attribution did.
#[derive(Debug)]
pub(super) enum Attributed {
    /// The customer is the partner's now; `also` was written with it.
    Now,
    /// A concurrent delivery of the same event did it first.
    Meanwhile,
    /// Nothing was written: the outcome to log (ignored or failed) and why.
    Not(Outcome, String),
}

/// Attributes `id` as the referral API does (first attribution wins, the click
/// must be inside its window, no self-referral), by Stripe, with `also` in its
/// transaction.
pub(super) async fn attribute(
    state: &AppState,
    app: &AppId,
    id: CustomerId,
    via: Via,
    customer: &CustomerRef,
    also: Vec<WriteOp>,
) -> Result<Attributed, CommandError> {
    let email = customer.email.clone();
    let refused = |outcome, reason: &str| Ok(Attributed::Not(outcome, reason.to_owned()));
    match referrals::attribute(state, app, &Actor::Stripe, id, via, email, also).await {
        Ok(_) => Ok(Attributed::Now),
        Err(CommandError::DoneMeanwhile) => Ok(Attributed::Meanwhile),
        Err(CommandError::AlreadyReferred) => refused(
            Outcome::Ignored,
            "the customer is already attributed to a partner",
        ),
        Err(CommandError::NotFound(Missing::Click)) => {
            refused(Outcome::Failed, "no click has this click id")
        }
        Err(CommandError::NotFound(Missing::Code)) => {
            refused(Outcome::Failed, "no active partner has this referral code")
        }
        Err(CommandError::AttributionExpired) => {
            refused(Outcome::Failed, "the click's attribution window has passed")
        }
        Err(CommandError::SelfReferral(_)) => {
            refused(Outcome::Failed, "a partner cannot refer itself")
        }
        Err(other) => Err(other),
    }
}
