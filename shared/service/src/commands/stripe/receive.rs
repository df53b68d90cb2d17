//! Receiving one Stripe event: read what it needs, verify its signature, handle it
//! once, and log what became of it.
//!
//! Nothing is written before the signature holds. Each event's log entry is
//! written in the transaction of what the event changed (the attribution, the
//! revenue), with a not-exists condition, so an event id is handled once even when
//! Stripe delivers it twice at the same time.

use partner_domain::audit::Actor;
use partner_domain::ledger::Entry;
use partner_domain::money::MAX_MINOR_UNITS;
use partner_domain::stripe::event::{CustomerRef, Payment, PromotionCode, Refund};
use partner_domain::stripe::{Action, Outcome, ReceivedEvent, StripeEvent, StripeId, signature};
use partner_domain::{AppId, CustomerId, Money};
use partner_store::repo::stripe::{Stripe, StripeContext, Wanted};
use partner_store::{StoreError, WriteOp};

use super::attribution::{self, Attributed};
use crate::AppState;
use crate::commands::revenue::{self, NoCommission, RevenueKind, RevenueRequest};
use crate::commands::{CommandError, Missing};

/// What receiving an event did.
#[derive(Debug, Clone)]
pub enum Receipt {
    /// Handled now; its log entry says how.
    Handled(Box<ReceivedEvent>),
    /// Handled before (a redelivery): nothing changed.
    Duplicate,
}

/// Receives a delivery to the app's Stripe endpoint: `signature` is the
/// `Stripe-Signature` header, `body` the raw body it signs.
pub async fn receive(
    state: &AppState,
    app: &AppId,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Receipt, CommandError> {
    // Parsed before verifying only to know what to read with the integration (one
    // round trip); nothing is written, and nothing answered, until it verifies.
    let parsed = StripeEvent::parse(body);
    let wanted = parsed.as_ref().map(wanted).unwrap_or_default();
    let context = state.store().stripe().context(app, wanted).await?;
    let integration = context
        .integration
        .as_ref()
        .ok_or(CommandError::NotFound(Missing::StripeIntegration))?;
    let now = partner_domain::now().unix_timestamp();
    signature::verify(signature, body, &integration.webhook_secret, now)
        .map_err(CommandError::BadSignature)?;
    let event = parsed.map_err(CommandError::InvalidEvent)?;
    if context.seen {
        return Ok(Receipt::Duplicate);
    }
    let handling = Handling {
        state,
        app,
        event: &event,
        context: &context,
    };
    if event.livemode != integration.livemode {
        let mode = if integration.livemode { "live" } else { "test" };
        let logged = handling
            .log(Outcome::Ignored)
            .because(format!("the integration takes {mode}-mode events only"));
        return handling.finish(logged, Vec::new()).await;
    }
    handling.handle().await
}

/// The items an event's handling reads beside the integration.
fn wanted(event: &StripeEvent) -> Wanted<'_> {
    let (customer, charge, payment) = match &event.action {
        Action::Checkout { customer, .. }
        | Action::Invoice { customer, .. }
        | Action::Customer(customer)
        | Action::Discount(customer) => (Some(customer), None, None),
        Action::Refund(refund) => (
            Some(&refund.customer),
            Some(&refund.charge),
            refund.payment_intent.as_ref(),
        ),
        Action::PromotionCode(_) | Action::Unused | Action::Unreadable(_) => (None, None, None),
    };
    Wanted {
        event: Some(&event.id),
        customer: customer.and_then(|c| c.stripe_customer.as_ref()),
        payment,
        charge,
        promotion_codes: customer.map_or(&[], |c| c.referrer.promotion_codes.as_slice()),
    }
}

/// One event being handled.
struct Handling<'a> {
    state: &'a AppState,
    app: &'a AppId,
    event: &'a StripeEvent,
    context: &'a StripeContext,
}

impl Handling<'_> {
    fn log(&self, outcome: Outcome) -> ReceivedEvent {
        ReceivedEvent::new(self.app.clone(), self.event, outcome)
    }

    async fn handle(&self) -> Result<Receipt, CommandError> {
        match &self.event.action {
            Action::Unused => {
                let logged = self
                    .log(Outcome::Ignored)
                    .because("the program does not use this event type");
                self.finish(logged, Vec::new()).await
            }
            Action::Unreadable(why) => {
                let logged = self
                    .log(Outcome::Failed)
                    .because(format!("the event cannot be read: {why}"));
                self.finish(logged, Vec::new()).await
            }
            Action::PromotionCode(promotion) => self.link(promotion).await,
            Action::Customer(customer) | Action::Discount(customer) => {
                self.attribute_only(customer).await
            }
            Action::Checkout { customer, payment } => match payment {
                Some(payment) => self.attribute_and_pay(customer, payment).await,
                None => self.attribute_only(customer).await,
            },
            // An invoice attributes through its subscription's metadata or a linked
            // promotion code; otherwise the checkout or the customer does.
            Action::Invoice { customer, payment } => {
                if customer.referrer.named.is_empty() && self.context.promotion_codes.is_empty() {
                    let (id, mapping) = self.customer(customer);
                    match id {
                        Some(id) => {
                            self.pay(id, customer, payment, RevenueKind::Payment, mapping, None)
                                .await
                        }
                        None => self.no_customer(mapping).await,
                    }
                } else {
                    self.attribute_and_pay(customer, payment).await
                }
            }
            Action::Refund(refund) => self.refund(refund).await,
        }
    }

    /// The customer id and the writes that link Stripe's customer to it.
    fn customer(&self, customer: &CustomerRef) -> (Option<CustomerId>, Vec<WriteOp>) {
        let linked = self
            .context
            .customer
            .as_ref()
            .and_then(|link| link.customer_id.as_ref());
        let id = attribution::customer_id(customer, linked);
        (id, attribution::remember(self.app, customer, linked))
    }

    async fn no_customer(&self, mapping: Vec<WriteOp>) -> Result<Receipt, CommandError> {
        let logged = self
            .log(Outcome::Failed)
            .because("it names no Stripe customer and no metadata.customer_id");
        self.finish(logged, mapping).await
    }

    /// A customer or discount event, or a checkout that paid nothing yet.
    async fn attribute_only(&self, customer: &CustomerRef) -> Result<Receipt, CommandError> {
        let (id, mapping) = self.customer(customer);
        let Some(id) = id else {
            return self.no_customer(mapping).await;
        };
        let candidates = attribution::candidates(customer, &self.context.promotion_codes);
        let mut logged = self.log(Outcome::Attributed);
        logged.created.customer_id = Some(id.clone());
        let mut also = mapping.clone();
        also.push(Stripe::log_op(&logged)?);
        match attribution::attribute(self.state, self.app, id, candidates, customer, also).await? {
            Attributed::Now => Ok(Receipt::Handled(Box::new(logged))),
            Attributed::Meanwhile => Ok(Receipt::Duplicate),
            Attributed::Not(outcome, reason) => {
                let logged = self.log(outcome).because(reason);
                self.finish(logged, mapping).await
            }
        }
    }

    /// A checkout that paid, or an invoice that names its partner (its
    /// subscription's metadata, a linked promotion code).
    async fn attribute_and_pay(
        &self,
        customer: &CustomerRef,
        payment: &Payment,
    ) -> Result<Receipt, CommandError> {
        let (id, mut mapping) = self.customer(customer);
        let Some(id) = id else {
            return self.no_customer(mapping).await;
        };
        let mut note = None;
        let candidates = attribution::candidates(customer, &self.context.promotion_codes);
        match attribution::attribute(
            self.state,
            self.app,
            id.clone(),
            candidates,
            customer,
            mapping.clone(),
        )
        .await?
        {
            // The link went with the attribution.
            Attributed::Now => mapping.clear(),
            Attributed::Meanwhile => return Ok(Receipt::Duplicate),
            // First attribution wins, or nothing named: nothing to say.
            Attributed::Not(Outcome::Ignored, _) => {}
            Attributed::Not(_, reason) => note = Some(reason),
        }
        self.pay(id, customer, payment, RevenueKind::Payment, mapping, note)
            .await
    }

    /// Records a payment or a refund as revenue, with `extra` writes and the log
    /// entry in its transaction. A payment also links its Stripe customer and
    /// PaymentIntent to the share of it that was not tax (and the PaymentIntent to
    /// the customer id), so its refunds reverse only what earned and find the
    /// customer without a Stripe customer.
    async fn pay(
        &self,
        customer: CustomerId,
        stripe: &CustomerRef,
        payment: &Payment,
        kind: RevenueKind,
        mut extra: Vec<WriteOp>,
        note: Option<String>,
    ) -> Result<Receipt, CommandError> {
        if kind == RevenueKind::Payment && payment.gross > Money::ZERO {
            let (net, gross) = (payment.amount.minor(), payment.gross.minor());
            for linked in [
                stripe.stripe_customer.as_ref(),
                payment.payment_intent.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                extra.push(Stripe::link_share_op(self.app, linked, net, gross));
            }
            if let Some(intent) = &payment.payment_intent {
                extra.push(Stripe::link_customer_op(self.app, intent, &customer));
            }
        }
        let extra = Stripe::merged(extra);
        // Whatever the outcome, the log names the customer (an attribution made
        // just before, in its own transaction, is then visible here too).
        let about = |outcome, why: Option<String>| {
            let mut logged = self.log(outcome);
            logged.created.customer_id = Some(customer.clone());
            logged.reason = why;
            logged
        };
        if payment.amount <= Money::ZERO {
            let logged = about(Outcome::Ignored, Some("nothing was paid".into()));
            return self.finish(logged, extra).await;
        }
        if payment.amount.minor() > MAX_MINOR_UNITS {
            let logged = about(Outcome::Failed, Some("the amount is too large".into()));
            return self.finish(logged, extra).await;
        }
        let mut base = about(Outcome::RevenueRecorded, None);
        base.created.revenue_event_id = Some(payment.revenue_id.to_string());
        let request = RevenueRequest {
            event_id: payment.revenue_id.to_string(),
            customer: customer.clone(),
            amount: payment.amount,
            currency: payment.currency.clone(),
            kind,
            occurred_at: payment.occurred_at,
            await_referral_until: payment.await_attribution_until,
            lines: Vec::new(),
            refunds_payment: None,
        };
        let also = |entry: Result<&Entry, NoCommission>| {
            let mut ops = extra.clone();
            ops.push(Stripe::log_op(&outcome(
                &base,
                kind,
                entry,
                note.as_deref(),
            ))?);
            Ok::<_, StoreError>(ops)
        };
        let recorded =
            revenue::record(self.state, self.app, &Actor::Stripe, request, &also).await?;
        if recorded.fresh {
            let entry = recorded
                .entry
                .as_ref()
                .ok_or(recorded.reason.unwrap_or(NoCommission::NothingToEarn));
            return Ok(Receipt::Handled(Box::new(outcome(
                &base,
                kind,
                entry,
                note.as_deref(),
            ))));
        }
        // Recorded before under the same revenue id (by the revenue API, or by
        // another event of the same invoice): this event changes nothing.
        let logged = about(
            Outcome::Ignored,
            Some(format!(
                "revenue event {} was recorded before",
                payment.revenue_id
            )),
        );
        self.finish(logged, Vec::new()).await
    }

    /// `charge.refunded`: Stripe sends what was refunded of the charge so far, so
    /// only the part beyond what was recorded before is new. Of that, the share
    /// its payment paid without tax is reversed (the charge itself does not say
    /// what was tax): the PaymentIntent's, else the customer's latest payment's.
    async fn refund(&self, refund: &Refund) -> Result<Receipt, CommandError> {
        let (payment, customer) = (
            self.context.payment.as_ref(),
            self.context.customer.as_ref(),
        );
        let linked = payment
            .and_then(|link| link.customer_id.as_ref())
            .or_else(|| customer.and_then(|link| link.customer_id.as_ref()));
        let id = attribution::customer_id(&refund.customer, linked);
        let mapping = attribution::remember(self.app, &refund.customer, linked);
        let Some(id) = id else {
            return self.no_customer(mapping).await;
        };
        let before = self.context.refunded_before;
        let total = refund.refunded_total;
        let newly = total.minor() - before.unwrap_or(0);
        if newly <= 0 {
            let logged = self.log(Outcome::Ignored).because(format!(
                "nothing newly refunded: {} minor units of the charge were recorded before",
                before.unwrap_or(0)
            ));
            return self.finish(logged, mapping).await;
        }
        let share = [payment, customer]
            .into_iter()
            .flatten()
            .find_map(|link| link.net.zip(link.gross).filter(|(_, gross)| *gross > 0));
        let untaxed = match share {
            Some((net, gross)) => scale(newly, net, gross),
            None => newly,
        };
        let step = Payment {
            revenue_id: StripeId::parse(
                "id",
                &format!("{}_refunded_{}", refund.charge, total.minor()),
            )
            .map_err(CommandError::InvalidEvent)?,
            amount: Money(untaxed),
            gross: Money(newly),
            currency: refund.currency.clone(),
            occurred_at: None,
            payment_intent: refund.payment_intent.clone(),
            await_attribution_until: None,
        };
        let mut extra = mapping;
        extra.push(Stripe::charge_refunds_op(
            self.app,
            &refund.charge,
            before,
            total.minor(),
        )?);
        self.pay(
            id,
            &refund.customer,
            &step,
            RevenueKind::Refund,
            extra,
            None,
        )
        .await
    }

    /// `promotion_code.created` / `.updated`: links the promotion code to the
    /// partner its `metadata.referral_code` or its own code names.
    async fn link(&self, promotion: &PromotionCode) -> Result<Receipt, CommandError> {
        let clicks = self.state.store().clicks();
        for code in [&promotion.referral_code, &promotion.code]
            .into_iter()
            .flatten()
        {
            if let Some(target) = clicks.code_target(self.app, code).await?
                && target.status == partner_domain::records::AffiliateStatus::Active
            {
                let mut logged = self.log(Outcome::PromotionCodeLinked);
                logged.created.promotion_code = Some(promotion.id.clone());
                logged.reason = Some(format!("to the partner with code {}", target.code));
                let link = Stripe::promotion_code_op(self.app, &promotion.id, &target.code)?;
                return self.finish(logged, vec![link]).await;
            }
        }
        let logged = self
            .log(Outcome::Ignored)
            .because("neither its code nor metadata.referral_code is an active partner's code");
        self.finish(logged, Vec::new()).await
    }

    /// Writes `logged` with `also`; a log entry already there means a concurrent
    /// delivery of the same event handled it first, and nothing was written.
    async fn finish(
        &self,
        logged: ReceivedEvent,
        also: Vec<WriteOp>,
    ) -> Result<Receipt, CommandError> {
        let mut also = Stripe::merged(also);
        let log_index = also.len();
        also.push(Stripe::log_op(&logged)?);
        match self.state.store().stripe().apply(also).await {
            Ok(()) => Ok(Receipt::Handled(Box::new(logged))),
            Err(StoreError::ConditionFailed { index }) if index == log_index => {
                Ok(Receipt::Duplicate)
            }
            Err(err) => Err(err.into()),
        }
    }
}

/// The log entry of recorded revenue: what it created, or why nothing.
fn outcome(
    base: &ReceivedEvent,
    kind: RevenueKind,
    entry: Result<&Entry, NoCommission>,
    note: Option<&str>,
) -> ReceivedEvent {
    let mut logged = base.clone();
    logged.outcome = match kind {
        RevenueKind::Payment if entry.is_ok() => Outcome::CommissionCreated,
        RevenueKind::Payment => Outcome::RevenueRecorded,
        RevenueKind::Refund => Outcome::RefundRecorded,
    };
    match entry {
        Ok(entry) => logged.created.commission_id = Some(entry.id.clone()),
        Err(why) => logged.reason = Some(why.as_str().to_owned()),
    }
    if let Some(note) = note {
        logged.reason = Some(match logged.reason {
            Some(reason) => format!("{reason}; {note}"),
            None => note.to_owned(),
        });
    }
    logged
}

/// `amount × net / gross`, rounded half up: what of a refund was not tax.
fn scale(amount: i64, net: i64, gross: i64) -> i64 {
    let scaled =
        (2 * i128::from(amount) * i128::from(net) + i128::from(gross)) / (2 * i128::from(gross));
    i64::try_from(scaled).unwrap_or(amount).clamp(0, amount)
}
