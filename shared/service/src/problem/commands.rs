//! How each refusal of a command becomes a problem: its status, code, field and
//! words, in one place.

use axum::http::StatusCode;

use super::ApiError;
use crate::commands::{ApplyError, CommandError, Missing, SelfReferralBy};

impl From<ApplyError> for ApiError {
    fn from(err: ApplyError) -> Self {
        match err {
            ApplyError::ProgramDisabled => Self::forbidden(
                "program_disabled",
                "The partner program of this app is not accepting applications.",
            ),
            ApplyError::ApplicationExists { retry_after } => Self::conflict(
                "application_exists",
                match retry_after {
                    Some(_) => {
                        "This email's application was rejected; it may apply again from retryAfter."
                    }
                    None => "An application with this email already exists.",
                },
            )
            .with_field("email")
            .with_retry_after(retry_after),
            ApplyError::CustomerAlreadyPartner => Self::conflict(
                "customer_already_partner",
                "This customer is already a partner.",
            )
            .with_field("customerId"),
            ApplyError::RateLimited(exceeded) => Self::rate_limited(exceeded),
            ApplyError::Store(err) => err.into(),
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(err: CommandError) -> Self {
        use CommandError as E;
        match err {
            E::NotFound(missing) => not_found(missing),
            E::AttributionExpired => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "attribution_expired",
                "The click's attribution window has passed.",
            )
            .with_field("clickId"),
            E::SelfReferral(by) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "self_referral",
                "A partner cannot refer itself.",
            )
            .with_field(match by {
                SelfReferralBy::CustomerId => "customerId",
                SelfReferralBy::Email => "email",
            }),
            E::AlreadyReferred => Self::conflict(
                "already_referred",
                "This customer is already attributed to a partner.",
            )
            .with_field("customerId"),
            E::RevenueCollided => Self::conflict(
                "revenue_conflict",
                "Concurrent revenue events collided; try again.",
            ),
            E::AttributionPending => Self::conflict(
                "attribution_pending",
                "The customer's attribution has not arrived yet; nothing was recorded. Send it again later.",
            ),
            E::DoneMeanwhile => Self::conflict(
                "conflict",
                "A concurrent request did the same first; nothing was changed.",
            ),
            E::PayoutAlreadyPaid => {
                Self::conflict("payout_already_paid", "The payout is already marked paid.")
            }
            E::PartnerSuspended => Self::forbidden(
                "partner_suspended",
                "This partner is suspended and cannot register deals.",
            ),
            E::LeadTaken => Self::conflict("deal_exists", "This lead cannot be registered.")
                .with_field("leadEmail"),
            E::TooManyOpenDeals(limit) => Self::conflict(
                "open_deal_limit",
                format!(
                    "This partner has {limit} open deals, the most the program allows; \
                     more can be registered once some are decided."
                ),
            ),
            E::DealChanged => {
                Self::conflict("deal_changed", "The deal changed meanwhile; try again.")
            }
            E::InvalidTransition { from, to } => Self::conflict(
                "invalid_transition",
                format!("A {} deal cannot become {}.", from.as_str(), to.as_str()),
            )
            .with_field("status"),
            E::AlreadyReviewed => Self::conflict(
                "application_already_reviewed",
                "The application has already been reviewed.",
            ),
            E::ApprovalCollided => Self::conflict(
                "approval_conflict",
                "The approval kept colliding with concurrent changes; try again.",
            ),
            E::GroupSlugTaken => Self::conflict(
                "group_slug_taken",
                "Another group of this app has this slug.",
            )
            .with_field("slug"),
            E::TooManyGroups => Self::conflict(
                "too_many_groups",
                format!(
                    "An app has at most {} partner groups.",
                    partner_domain::rewards::MAX_GROUPS
                ),
            ),
            E::GroupsCollided => Self::conflict(
                "groups_conflict",
                "The app's groups kept changing concurrently; try again.",
            ),
            E::CodeTaken => Self::conflict(
                "code_taken",
                "This referral code is already used in this app.",
            )
            .with_field("code"),
            E::CustomerAlreadyPartner => Self::conflict(
                "customer_already_partner",
                "The applicant's customer account is already a partner.",
            ),
            E::CurrencyLocked => Self::conflict(
                "currency_locked",
                "The currency cannot change once commissions exist.",
            )
            .with_field("currency"),
            E::TooManyEndpoints(limit) => Self::conflict(
                "too_many_endpoints",
                format!("An app has at most {limit} webhook endpoints; delete one first."),
            ),
            E::RunInProgress(running) => Self::conflict(
                "payout_run_in_progress",
                match running {
                    Some(id) => {
                        format!("Payout run {id} of this app is running; wait for it to complete.")
                    }
                    None => {
                        "A payout run of this app is running; wait for it to complete.".to_owned()
                    }
                },
            ),
            E::RateLimited(exceeded) => Self::rate_limited(exceeded),
            E::BadSignature(why) => Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_signature",
                format!("The Stripe-Signature does not hold: {why}."),
            )
            .with_field("Stripe-Signature"),
            E::InvalidEvent(field) => Self::invalid_field(field),
            E::Store(err) => err.into(),
            internal @ E::Internal(_) => Self::internal(internal),
        }
    }
}

fn not_found(missing: Missing) -> ApiError {
    let (code, detail, field) = match missing {
        Missing::Settings(app) => (
            "app_not_found",
            format!("App {app} has no program settings."),
            None,
        ),
        Missing::Code => (
            "code_not_found",
            "No active partner has this referral code.".to_owned(),
            Some("code"),
        ),
        Missing::Click => (
            "click_not_found",
            "No click with this id.".to_owned(),
            Some("clickId"),
        ),
        Missing::Payout => (
            "payout_not_found",
            "No payout with this id in this app.".to_owned(),
            None,
        ),
        Missing::Payment => (
            "payment_not_found",
            "No payment of this customer was recorded with this event id.".to_owned(),
            Some("paymentEventId"),
        ),
        Missing::Group => (
            "group_not_found",
            "No partner group with this id (or slug) in this app.".to_owned(),
            None,
        ),
        Missing::Deal => (
            "deal_not_found",
            "No deal with this id in this app.".to_owned(),
            None,
        ),
        Missing::Application => (
            "application_not_found",
            "No application with this id in this app.".to_owned(),
            None,
        ),
        Missing::ApiKey => (
            "api_key_not_found",
            "No API key with this id in this app.".to_owned(),
            None,
        ),
        Missing::Partner => (
            "not_a_partner",
            "This customer is not a partner of the app.".to_owned(),
            None,
        ),
        Missing::PayoutRun => (
            "payout_run_not_found",
            "No payout run with this id in this app.".to_owned(),
            None,
        ),
        Missing::StripeIntegration => (
            "integration_not_found",
            "This app has not connected Stripe.".to_owned(),
            None,
        ),
    };
    let error = ApiError::not_found(code, detail);
    match field {
        Some(field) => error.with_field(field),
        None => error,
    }
}
