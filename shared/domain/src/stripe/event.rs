//! A Stripe event, read into what the program does with it.
//!
//! Only the fields used are read, and each is read from where Stripe's current
//! API version puts it and from where the previous versions did (see
//! `docs/stripe.md`): an invoice's tax is `total_taxes[].amount` since
//! `2025-03-31.basil` and `tax` before it; its promotion code is in an expanded
//! `discount` (before basil) or in expanded `discounts` entries; a promotion code's
//! coupon moved under `promotion` in `2025-09-30.clover` (its `code`, the only field
//! read, did not move). Unknown fields are ignored, so a newer version that only
//! adds fields reads the same.

use serde::Deserialize;
use serde_json::Value;

use crate::ledger::ClickId;
use crate::{Currency, CustomerId, Email, FieldError, Money, ReferralCode, Timestamp};

/// A Stripe object id (`evt_…`, `cus_…`, `in_…`, `ch_…`, `promo_…`): letters,
/// digits and `_`, so it is safe inside a stored key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct StripeId(String);

impl StripeId {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let ok = (3..=255).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(field, "must be a Stripe object id"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for StripeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The envelope every Stripe event has.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub livemode: bool,
    pub data: EnvelopeData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EnvelopeData {
    pub object: Value,
}

/// A parsed event: its id and type, its mode, and what it asks of the program.
#[derive(Debug, Clone)]
pub struct StripeEvent {
    pub id: StripeId,
    pub kind: String,
    pub livemode: bool,
    pub action: Action,
}

/// What an event asks of the program.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `checkout.session.completed`: attribute the customer, and for a paid one-off
    /// payment (no invoice), record the payment.
    Checkout {
        customer: CustomerRef,
        payment: Option<Payment>,
    },
    /// `customer.created` / `customer.updated`: attribute the customer from its metadata.
    Customer(CustomerRef),
    /// `customer.discount.created`: a promotion code applied to a customer.
    Discount(CustomerRef),
    /// `invoice.paid`: a payment (each renewal earns again).
    Invoice {
        customer: CustomerRef,
        payment: Payment,
    },
    /// `charge.refunded`: the charge's refunds so far (Stripe sends the total).
    Refund(Refund),
    /// `promotion_code.created` / `.updated`: a code that may name a partner.
    PromotionCode(PromotionCode),
    /// A type the program does not use.
    Unused,
    /// A type the program uses, whose object lacks what it needs (why): answered
    /// and logged as failed, since a redelivery would not read better.
    Unreadable(String),
}

/// Who a customer is and what may say who referred it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerRef {
    /// Stripe's customer (`cus_…`), when there is one.
    pub stripe_customer: Option<StripeId>,
    /// The app's own id for the customer (`metadata.customer_id`).
    pub own_id: Option<CustomerId>,
    pub email: Option<Email>,
    pub referrer: Referrer,
}

impl CustomerRef {
    /// The customer id revenue is recorded under: the app's own, else Stripe's.
    pub fn customer_id(&self) -> Option<CustomerId> {
        self.own_id.clone().or_else(|| {
            self.stripe_customer
                .as_ref()
                .and_then(|id| CustomerId::parse("customer", id.as_str()).ok())
        })
    }
}

/// What may name the partner, strongest first: the `client_reference_id`, then the
/// metadata's click id and referral code, then the promotion codes used. Each is
/// tried in turn until one names an active partner (an app's own user id in
/// `client_reference_id` then falls through to the metadata).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Referrer {
    pub named: Vec<Named>,
    /// Promotion codes (`promo_…`) the checkout or invoice used.
    pub promotion_codes: Vec<StripeId>,
}

/// A click or a referral code an event names.
#[derive(Debug, Clone, PartialEq)]
pub enum Named {
    Click(ClickId),
    Code(ReferralCode),
}

/// A payment to record as revenue, idempotent by `revenue_id` (the invoice or the
/// Checkout Session).
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub revenue_id: StripeId,
    /// Paid, excluding tax, in minor units of `currency`.
    pub amount: Money,
    /// Paid, tax included: with `amount`, the share of a later refund that was not
    /// tax.
    pub gross: Money,
    pub currency: Currency,
    pub occurred_at: Option<Timestamp>,
    /// The PaymentIntent that paid it, when the payload names it: its refunds are
    /// found by it.
    pub payment_intent: Option<StripeId>,
    /// Until when an unattributed customer's payment waits for its attribution
    /// (a subscription's first invoice can arrive before its checkout).
    pub await_attribution_until: Option<Timestamp>,
}

/// How long a subscription's first invoice waits for its checkout's attribution
/// (Stripe retries it meanwhile).
pub const AWAIT_ATTRIBUTION: time::Duration = time::Duration::hours(1);

/// A charge's refunds so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub charge: StripeId,
    pub customer: CustomerRef,
    /// The PaymentIntent the charge belongs to.
    pub payment_intent: Option<StripeId>,
    /// Everything refunded of the charge so far (Stripe's `amount_refunded`).
    pub refunded_total: Money,
    pub currency: Currency,
}

/// A promotion code and the referral code it may carry.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionCode {
    pub id: StripeId,
    /// The customer-facing code, when it is also a valid referral code.
    pub code: Option<ReferralCode>,
    /// `metadata.referral_code`, which wins over `code`.
    pub referral_code: Option<ReferralCode>,
}

impl StripeEvent {
    /// Reads an event from its raw body.
    pub fn parse(body: &[u8]) -> Result<Self, FieldError> {
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|_| FieldError::new("body", "must be a Stripe event"))?;
        let id = StripeId::parse("id", &envelope.id)?;
        let object = &envelope.data.object;
        let action = match envelope.kind.as_str() {
            "checkout.session.completed" => checkout(object),
            "customer.created" | "customer.updated" => Ok(Action::Customer(customer(object))),
            "customer.discount.created" => Ok(Action::Discount(discount(object))),
            "invoice.paid" => invoice(object),
            "charge.refunded" => refund(object).map(Action::Refund),
            "promotion_code.created" | "promotion_code.updated" => {
                promotion_code(object).map(Action::PromotionCode)
            }
            _ => Ok(Action::Unused),
        }
        .unwrap_or_else(|why| Action::Unreadable(why.to_string()));
        Ok(Self {
            id,
            kind: envelope.kind,
            livemode: envelope.livemode,
            action,
        })
    }
}

/// The id of an expandable field: `"cus_…"` or `{"id": "cus_…", …}`.
fn expandable_id(value: Option<&Value>) -> Option<StripeId> {
    let raw = match value? {
        Value::String(id) => id.as_str(),
        Value::Object(object) => object.get("id")?.as_str()?,
        _ => return None,
    };
    StripeId::parse("id", raw).ok()
}

fn text<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn integer(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

fn required_integer(object: &Value, pointer: &'static str) -> Result<i64, FieldError> {
    integer(object, pointer).ok_or_else(|| FieldError::new(pointer, "must be an integer"))
}

fn currency(object: &Value) -> Result<Currency, FieldError> {
    Currency::parse("currency", text(object, "/currency").unwrap_or_default())
}

fn unix_time(seconds: Option<i64>) -> Option<Timestamp> {
    Timestamp::from_unix_timestamp(seconds?).ok()
}

/// What a `client_reference_id` (when given) and `metadata` (`click_id`,
/// `referral_code`) name, in that order.
fn referrer_from(metadata: Option<&Value>, reference: Option<&str>) -> Referrer {
    let mut named = Vec::new();
    let mut add = |raw: Option<&str>, as_click: bool| {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return;
        };
        let found = if as_click || raw.starts_with("clk_") {
            ClickId::parse("click_id", raw).ok().map(Named::Click)
        } else {
            ReferralCode::parse("referral_code", raw)
                .ok()
                .map(Named::Code)
        };
        if let Some(found) = found
            && !named.contains(&found)
        {
            named.push(found);
        }
    };
    let meta = |field: &str| metadata.and_then(|m| m.get(field)).and_then(Value::as_str);
    add(reference, false);
    add(meta("click_id"), true);
    add(meta("referral_code"), false);
    Referrer {
        named,
        promotion_codes: Vec::new(),
    }
}

/// Promotion codes in `discounts` entries (`{promotion_code}` on a Checkout
/// Session, expanded discount objects on an invoice) and in an invoice's
/// pre-basil `discount`.
fn promotion_codes(object: &Value) -> Vec<StripeId> {
    let mut found = Vec::new();
    let entries = object
        .get("discounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(object.get("discount").filter(|d| d.is_object()));
    for entry in entries {
        if let Some(id) = expandable_id(entry.get("promotion_code"))
            && !found.contains(&id)
        {
            found.push(id);
        }
    }
    found
}

fn checkout(session: &Value) -> Result<Action, FieldError> {
    let mut customer = CustomerRef {
        stripe_customer: expandable_id(session.get("customer")),
        own_id: text(session, "/metadata/customer_id")
            .and_then(|raw| CustomerId::parse("customer_id", raw).ok()),
        email: text(session, "/customer_details/email")
            .or_else(|| text(session, "/customer_email"))
            .and_then(|raw| Email::parse("email", raw).ok()),
        referrer: referrer_from(
            session.get("metadata"),
            text(session, "/client_reference_id"),
        ),
    };
    customer.referrer.promotion_codes = promotion_codes(session);
    let one_off_paid = text(session, "/mode") == Some("payment")
        && text(session, "/payment_status") == Some("paid")
        && session.get("invoice").is_none_or(Value::is_null);
    let payment = if one_off_paid {
        let total = required_integer(session, "/amount_total")?;
        let tax = integer(session, "/total_details/amount_tax").unwrap_or(0);
        Some(Payment {
            revenue_id: StripeId::parse("id", text(session, "/id").unwrap_or_default())?,
            amount: Money((total - tax).max(0)),
            gross: Money(total.max(0)),
            currency: currency(session)?,
            occurred_at: unix_time(integer(session, "/created")),
            payment_intent: expandable_id(session.get("payment_intent")),
            await_attribution_until: None,
        })
    } else {
        None
    };
    Ok(Action::Checkout { customer, payment })
}

fn customer(object: &Value) -> CustomerRef {
    CustomerRef {
        stripe_customer: expandable_id(object.get("id")),
        own_id: text(object, "/metadata/customer_id")
            .and_then(|raw| CustomerId::parse("customer_id", raw).ok()),
        email: text(object, "/email").and_then(|raw| Email::parse("email", raw).ok()),
        referrer: referrer_from(object.get("metadata"), None),
    }
}

fn discount(object: &Value) -> CustomerRef {
    CustomerRef {
        stripe_customer: expandable_id(object.get("customer")),
        referrer: Referrer {
            promotion_codes: expandable_id(object.get("promotion_code"))
                .into_iter()
                .collect(),
            ..Referrer::default()
        },
        ..CustomerRef::default()
    }
}

/// An invoice's tax: `total_taxes[].amount` (basil and later), else `tax`.
fn invoice_tax(invoice: &Value) -> i64 {
    match invoice.get("total_taxes").and_then(Value::as_array) {
        Some(taxes) => taxes
            .iter()
            .filter_map(|tax| tax.get("amount").and_then(Value::as_i64))
            .sum(),
        None => integer(invoice, "/tax").unwrap_or(0),
    }
}

fn invoice(invoice: &Value) -> Result<Action, FieldError> {
    let paid = required_integer(invoice, "/amount_paid")?;
    let total = integer(invoice, "/total").unwrap_or(paid);
    let tax = invoice_tax(invoice);
    // The tax's share of what was paid: all of it when the invoice was paid in
    // full, in proportion when part of it came from the customer's credit balance.
    let paid_tax = if total > 0 && paid < total {
        i64::try_from(i128::from(tax) * i128::from(paid) / i128::from(total)).unwrap_or(tax)
    } else {
        tax
    };
    // A subscription's metadata (where Checkout's `subscription_data.metadata`
    // lands) may name the customer and its partner: under
    // `parent.subscription_details` since basil, `subscription_details` before.
    let subscription_metadata = invoice
        .pointer("/parent/subscription_details/metadata")
        .or_else(|| invoice.pointer("/subscription_details/metadata"));
    let mut referrer = referrer_from(subscription_metadata, None);
    referrer.promotion_codes = promotion_codes(invoice);
    let customer = CustomerRef {
        stripe_customer: expandable_id(invoice.get("customer")),
        own_id: subscription_metadata
            .and_then(|m| m.get("customer_id"))
            .and_then(Value::as_str)
            .and_then(|raw| CustomerId::parse("customer_id", raw).ok()),
        email: text(invoice, "/customer_email").and_then(|raw| Email::parse("email", raw).ok()),
        referrer,
    };
    let created = unix_time(integer(invoice, "/created"));
    let payment = Payment {
        revenue_id: StripeId::parse("id", text(invoice, "/id").unwrap_or_default())?,
        amount: Money((paid - paid_tax).max(0)),
        gross: Money(paid.max(0)),
        currency: currency(invoice)?,
        occurred_at: unix_time(integer(invoice, "/status_transitions/paid_at")).or(created),
        // Named on invoices before basil only.
        payment_intent: expandable_id(invoice.get("payment_intent")),
        await_attribution_until: created
            .filter(|_| text(invoice, "/billing_reason") == Some("subscription_create"))
            .map(|at| at + AWAIT_ATTRIBUTION),
    };
    Ok(Action::Invoice { customer, payment })
}

fn refund(charge: &Value) -> Result<Refund, FieldError> {
    Ok(Refund {
        charge: StripeId::parse("id", text(charge, "/id").unwrap_or_default())?,
        customer: CustomerRef {
            stripe_customer: expandable_id(charge.get("customer")),
            own_id: text(charge, "/metadata/customer_id")
                .and_then(|raw| CustomerId::parse("customer_id", raw).ok()),
            ..CustomerRef::default()
        },
        payment_intent: expandable_id(charge.get("payment_intent")),
        refunded_total: Money(required_integer(charge, "/amount_refunded")?.max(0)),
        currency: currency(charge)?,
    })
}

fn promotion_code(object: &Value) -> Result<PromotionCode, FieldError> {
    Ok(PromotionCode {
        id: StripeId::parse("id", text(object, "/id").unwrap_or_default())?,
        code: text(object, "/code").and_then(|raw| ReferralCode::parse("code", raw).ok()),
        referral_code: text(object, "/metadata/referral_code")
            .and_then(|raw| ReferralCode::parse("referral_code", raw).ok()),
    })
}
