//! Conversions the app reports: a referred signup (`POST /v1/affiliate/referrals`)
//! and revenue or refunds of a customer (`POST /v1/affiliate/revenue`).

use axum::extract::State;
use axum::http::StatusCode;
use partner_aws::metrics::{Observation, Unit};
use partner_domain::ledger::ClickId;
use partner_domain::rewards::{Line, MAX_LINES};
use partner_domain::text::required_text;
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

/// `{eventId, customerId, amount, currency, type: "payment" | "refund", occurredAt?,
/// lines?, paymentEventId?}`; `amount` in major units of `currency` (99.00 USD, 1000
/// JPY), positive for both types. A payment's `lines` (`[{productId, amount}]`) sum
/// to its amount; a refund's `paymentEventId` names the payment it refunds.
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
    lines: Option<Vec<LineBody>>,
    payment_event_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LineBody {
    product_id: String,
    amount: Number,
}

/// An event id: 1 to 128 letters, digits or `- _ . :`.
fn parse_event_id(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let id = raw.trim();
    if id.is_empty()
        || id.len() > 128
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    {
        return Err(FieldError::new(
            field,
            "must be 1 to 128 letters, digits or - _ . :",
        ));
    }
    Ok(id.to_owned())
}

/// A payment's lines: at most [`MAX_LINES`], each a product and a positive amount,
/// together the payment's amount.
fn lines(raw: Vec<LineBody>, total: Money, currency: &Currency) -> Result<Vec<Line>, FieldError> {
    if raw.is_empty() || raw.len() > MAX_LINES {
        return Err(FieldError::new("lines", "must hold 1 to 20 lines"));
    }
    let mut parsed = Vec::with_capacity(raw.len());
    for line in raw {
        let product = required_text("lines", &line.product_id, 128)?;
        let amount = Money::parse_major("lines", &line.amount.to_string(), currency)?;
        if amount == Money::ZERO {
            return Err(FieldError::new(
                "lines",
                "each line's amount must be more than 0",
            ));
        }
        parsed.push(Line {
            product_id: Some(product),
            amount,
        });
    }
    let sum: i64 = parsed.iter().map(|l| l.amount.minor()).sum();
    if sum != total.minor() {
        return Err(FieldError::new("lines", "must add up to amount"));
    }
    Ok(parsed)
}

impl RevenueBody {
    fn parse(self) -> Result<RevenueRequest, FieldError> {
        let event_id = parse_event_id("eventId", &self.event_id)?;
        // The amount's decimals are the currency's: 1000 JPY, 19.99 USD, 1.234 KWD.
        let currency = Currency::parse("currency", &self.currency)?;
        let amount = Money::parse_major("amount", &self.amount.to_string(), &currency)?;
        if amount == Money::ZERO {
            return Err(FieldError::new("amount", "must be more than 0"));
        }
        let kind = match self.kind.as_str() {
            "payment" => RevenueKind::Payment,
            "refund" => RevenueKind::Refund,
            _ => return Err(FieldError::new("type", "must be payment or refund")),
        };
        let lines = match (self.lines, kind) {
            (None, _) => Vec::new(),
            (Some(raw), RevenueKind::Payment) => lines(raw, amount, &currency)?,
            (Some(_), RevenueKind::Refund) => {
                return Err(FieldError::new("lines", "are for payments only"));
            }
        };
        let refunds_payment = match (self.payment_event_id, kind) {
            (None, _) => None,
            (Some(raw), RevenueKind::Refund) => {
                let payment = parse_event_id("paymentEventId", &raw)?;
                if payment == event_id {
                    return Err(FieldError::new("paymentEventId", "names the refund itself"));
                }
                Some(payment)
            }
            (Some(_), RevenueKind::Payment) => {
                return Err(FieldError::new("paymentEventId", "is for refunds only"));
            }
        };
        Ok(RevenueRequest {
            event_id,
            customer: CustomerId::parse("customerId", &self.customer_id)?,
            amount,
            currency,
            kind,
            occurred_at: self.occurred_at,
            await_referral_until: None,
            lines,
            refunds_payment,
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
