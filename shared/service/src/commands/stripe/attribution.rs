//! Who a Stripe customer is, and attributing it to the partner its event names.

use partner_domain::audit::Actor;
use partner_domain::stripe::Outcome;
use partner_domain::stripe::event::{CustomerRef, Named};
use partner_domain::{AppId, CustomerId, ReferralCode};
use partner_store::WriteOp;
use partner_store::repo::stripe::Stripe;

use crate::AppState;
use crate::commands::referrals::{self, Via};
use crate::commands::{CommandError, Missing};

/// The customer id revenue and attribution use: the app's own
/// (`metadata.customer_id`), else the one the Stripe customer or payment was
/// linked to before, else Stripe's `cus_…`.
pub(super) fn customer_id(
    customer: &CustomerRef,
    linked: Option<&CustomerId>,
) -> Option<CustomerId> {
    customer
        .own_id
        .clone()
        .or_else(|| linked.cloned())
        .or_else(|| customer.customer_id())
}

/// The write that links Stripe's customer to the app's own id, when the event names
/// both and the link is not already so: later invoices and refunds of the
/// customer then find it.
pub(super) fn remember(
    app: &AppId,
    customer: &CustomerRef,
    linked: Option<&CustomerId>,
) -> Vec<WriteOp> {
    match (&customer.stripe_customer, &customer.own_id) {
        (Some(stripe), Some(own)) if linked != Some(own) => {
            vec![Stripe::link_customer_op(app, stripe, own)]
        }
        _ => Vec::new(),
    }
}

/// What may name the partner, in the order to try: the event's clicks and codes,
/// then the referral codes its linked promotion codes stand for.
pub(super) fn candidates(customer: &CustomerRef, linked: &[ReferralCode]) -> Vec<Via> {
    customer
        .referrer
        .named
        .iter()
        .map(|named| match named {
            Named::Click(click) => Via::Click(click.clone()),
            Named::Code(code) => Via::Code(code.clone()),
        })
        .chain(linked.iter().cloned().map(Via::Code))
        .collect()
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

/// Attributes `id` as the referral API does (first attribution wins, a click only
/// inside its window, no self-referral), by Stripe, with `also` in its
/// transaction. Each candidate is tried in turn while the last named no partner
/// (an unknown code or click, an expired click).
pub(super) async fn attribute(
    state: &AppState,
    app: &AppId,
    id: CustomerId,
    candidates: Vec<Via>,
    customer: &CustomerRef,
    also: Vec<WriteOp>,
) -> Result<Attributed, CommandError> {
    let mut first_miss = None;
    for via in candidates {
        let result = referrals::attribute(
            state,
            app,
            &Actor::Stripe,
            id.clone(),
            via,
            customer.email.clone(),
            also.clone(),
        )
        .await;
        let miss = match result {
            Ok(_) => return Ok(Attributed::Now),
            Err(CommandError::DoneMeanwhile) => return Ok(Attributed::Meanwhile),
            Err(CommandError::AlreadyReferred) => {
                return Ok(Attributed::Not(
                    Outcome::Ignored,
                    "the customer is already attributed to a partner".into(),
                ));
            }
            Err(CommandError::SelfReferral(_)) => {
                return Ok(Attributed::Not(
                    Outcome::Failed,
                    "a partner cannot refer itself".into(),
                ));
            }
            Err(CommandError::NotFound(Missing::Click)) => "no click has this click id",
            Err(CommandError::NotFound(Missing::Code)) => {
                "no active partner has this referral code"
            }
            Err(CommandError::AttributionExpired) => "the click's attribution window has passed",
            Err(other) => return Err(other),
        };
        first_miss.get_or_insert(miss);
    }
    Ok(match first_miss {
        Some(why) => Attributed::Not(Outcome::Failed, why.into()),
        None => Attributed::Not(
            Outcome::Ignored,
            "it names no click id, referral code or linked promotion code".into(),
        ),
    })
}
