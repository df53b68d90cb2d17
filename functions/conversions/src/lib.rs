//! Conversions the app reports: a referred signup (`POST /v1/affiliate/referrals`)
//! and revenue or refunds of a customer (`POST /v1/affiliate/revenue`).

use axum::extract::State;
use axum::http::StatusCode;
use partner_aws::metrics::{Observation, Unit};
use partner_domain::ledger::ClickId;
use partner_domain::{Currency, CustomerId, Email, FieldError, Money, ReferralCode};
use partner_service::commands::referrals::{self, Via};
use partner_service::commands::revenue::{self, RevenueKind, RevenueRequest};
use partner_service::extract::Json;
use partner_service::views::ledger::ReferralView;
use partner_service::{ApiError, AppState, Tenant};
use serde::Deserialize;
use serde_json::{Number, Value};

pub const REFERRALS: &str = "/v1/affiliate/referrals";
pub const REVENUE: &str = "/v1/affiliate/revenue";
partner_service::declare_routes! {
    post REFERRALS => refer,
    post REVENUE => revenue,
}

/// `{customerId, clickId? | code?, email?}`: exactly one of `clickId` and `code`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReferralBody {
    customer_id: String,
    click_id: Option<String>,
    code: Option<String>,
    email: Option<String>,
}

async fn refer(
    State(state): State<AppState>,
    tenant: Tenant,
    Json(body): Json<ReferralBody>,
) -> Result<(StatusCode, axum::Json<ReferralView>), ApiError> {
    let customer = CustomerId::parse("customerId", &body.customer_id)?;
    let via = match (body.click_id, body.code) {
        (Some(click), None) => Via::Click(ClickId::parse("clickId", &click)?),
        (None, Some(code)) => Via::Code(ReferralCode::parse("code", &code)?),
        _ => return Err(FieldError::new("clickId", "give exactly one of clickId and code").into()),
    };
    let email = body
        .email
        .as_deref()
        .map(|e| Email::parse("email", e))
        .transpose()?;
    let referral = referrals::refer(&state, &tenant, customer, via, email).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ReferralView::from(&referral)),
    ))
}

/// `{eventId, customerId, amount, currency, type: "payment" | "refund", occurredAt?}`;
/// `amount` in major units of `currency` (99.00 USD, 1000 JPY), positive for both types.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RevenueBody {
    event_id: String,
    customer_id: String,
    amount: Number,
    currency: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    occurred_at: Option<partner_domain::Timestamp>,
}

impl RevenueBody {
    fn parse(self) -> Result<RevenueRequest, FieldError> {
        let event_id = self.event_id.trim().to_owned();
        if event_id.is_empty()
            || event_id.len() > 128
            || !event_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        {
            return Err(FieldError::new(
                "eventId",
                "must be 1 to 128 letters, digits or - _ . :",
            ));
        }
        // The amount's decimals are the currency's: 1000 JPY, 19.99 USD, 1.234 KWD.
        let currency = Currency::parse("currency", &self.currency)?;
        let amount = Money::parse_major("amount", &self.amount.to_string(), &currency)?;
        if amount == Money::ZERO {
            return Err(FieldError::new("amount", "must be more than 0"));
        }
        Ok(RevenueRequest {
            event_id,
            customer: CustomerId::parse("customerId", &self.customer_id)?,
            amount,
            currency,
            kind: match self.kind.as_str() {
                "payment" => RevenueKind::Payment,
                "refund" => RevenueKind::Refund,
                _ => return Err(FieldError::new("type", "must be payment or refund")),
            },
            occurred_at: self.occurred_at,
            await_referral_until: None,
        })
    }
}

async fn revenue(
    State(state): State<AppState>,
    tenant: Tenant,
    Json(body): Json<RevenueBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (result, recorded) = revenue::revenue(&state, &tenant, body.parse()?).await?;
    if recorded && result["commission"].is_object() {
        Observation::new()
            .metric("CommissionsCreated", Unit::Count, 1.0)
            .emit();
    }
    // A repeat of the same eventId answers 200 with the first result.
    let status = if recorded {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(result)))
}
