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
    let (customer, charge) = match &event.action {
        Action::Checkout { customer, .. }
        | Action::Invoice { customer, .. }
        | Action::Customer(customer)
        | Action::Discount(customer) => (Some(customer), None),
        Action::Refund(refund) => (Some(&refund.customer), Some(&refund.charge)),
        Action::PromotionCode(_) | Action::Unused => (None, None),
    };
    Wanted {
        event: Some(&event.id),
        customer: customer.and_then(|c| c.stripe_customer.as_ref()),
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
            Action::PromotionCode(promotion) => self.link(promotion).await,
            Action::Customer(customer) | Action::Discount(customer) => {
                self.attribute_only(customer).await
            }
            Action::Checkout { customer, payment } => match payment {
                Some(payment) => self.attribute_and_pay(customer, payment).await,
                None => self.attribute_only(customer).await,
            },
            // An invoice attributes only through a linked promotion code; its
            // customer's clicks and codes arrive with the checkout or the customer.
            Action::Invoice { customer, payment } => {
                if self.context.promotion_codes.is_empty() {
                    let (id, mapping) = self.customer(customer)?;
                    match id {
                        Some(id) => {
                            self.pay(id, payment, RevenueKind::Payment, mapping, None)
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

    /// The customer id and the writes that remember Stripe's customer for it.
    fn customer(
        &self,
        customer: &CustomerRef,
    ) -> Result<(Option<CustomerId>, Vec<WriteOp>), CommandError> {
        let id = attribution::customer_id(customer, self.context.customer.as_ref());
        let mapping = attribution::remember(self.app, customer, self.context.customer.as_ref())?;
        Ok((id, mapping))
    }

    async fn no_customer(&self, mapping: Vec<WriteOp>) -> Result<Receipt, CommandError> {
        let logged = self
            .log(Outcome::Failed)
            .because("it names no Stripe customer and no metadata.customer_id");
        self.finish(logged, mapping).await
    }

    /// A customer or discount event, or a checkout that paid nothing yet.
    async fn attribute_only(&self, customer: &CustomerRef) -> Result<Receipt, CommandError> {
        let (id, mapping) = self.customer(customer)?;
        let Some(id) = id else {
            return self.no_customer(mapping).await;
        };
        let Some(via) = attribution::via(customer, &self.context.promotion_codes) else {
            let logged = self
                .log(Outcome::Ignored)
                .because("it names no click id, referral code or linked promotion code");
            return self.finish(logged, mapping).await;
        };
        let mut logged = self.log(Outcome::Attributed);
        logged.created.customer_id = Some(id.clone());
        let mut also = mapping.clone();
        also.push(Stripe::log_op(&logged)?);
        match attribution::attribute(self.state, self.app, id, via, customer, also).await? {
            Attributed::Now => Ok(Receipt::Handled(Box::new(logged))),
            Attributed::Meanwhile => Ok(Receipt::Duplicate),
            Attributed::Not(outcome, reason) => {
                let logged = self.log(outcome).because(reason);
                self.finish(logged, mapping).await
            }
        }
    }

    /// A checkout that paid, or an invoice that used a linked promotion code.
    async fn attribute_and_pay(
        &self,
        customer: &CustomerRef,
        payment: &Payment,
    ) -> Result<Receipt, CommandError> {
        let (id, mut mapping) = self.customer(customer)?;
        let Some(id) = id else {
            return self.no_customer(mapping).await;
        };
        let mut note = None;
        if let Some(via) = attribution::via(customer, &self.context.promotion_codes) {
            match attribution::attribute(
                self.state,
                self.app,
                id.clone(),
                via,
                customer,
                mapping.clone(),
            )
            .await?
            {
                // The mapping went with the attribution.
                Attributed::Now => mapping.clear(),
                Attributed::Meanwhile => return Ok(Receipt::Duplicate),
                // First attribution wins: nothing to say.
                Attributed::Not(Outcome::Ignored, _) => {}
                Attributed::Not(_, reason) => note = Some(reason),
            }
        }
        self.pay(id, payment, RevenueKind::Payment, mapping, note)
            .await
    }

    /// Records a payment or a refund as revenue, with `extra` writes and the log
    /// entry in its transaction.
    async fn pay(
        &self,
        customer: CustomerId,
        payment: &Payment,
        kind: RevenueKind,
        extra: Vec<WriteOp>,
        note: Option<String>,
    ) -> Result<Receipt, CommandError> {
        if payment.amount <= Money::ZERO {
            let logged = self.log(Outcome::Ignored).because("nothing was paid");
            return self.finish(logged, extra).await;
        }
        if payment.amount.minor() > MAX_MINOR_UNITS {
            let logged = self.log(Outcome::Failed).because("the amount is too large");
            return self.finish(logged, extra).await;
        }
        let mut base = self.log(Outcome::RevenueRecorded);
        base.created.customer_id = Some(customer.clone());
        base.created.revenue_event_id = Some(payment.revenue_id.to_string());
        let request = RevenueRequest {
            event_id: payment.revenue_id.to_string(),
            customer,
            amount: payment.amount,
            currency: payment.currency.clone(),
            kind,
            occurred_at: payment.occurred_at,
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
        let logged = self.log(Outcome::Ignored).because(format!(
            "revenue event {} was recorded before",
            payment.revenue_id
        ));
        self.finish(logged, Vec::new()).await
    }

    /// `charge.refunded`: Stripe sends what was refunded of the charge so far, so
    /// only the part beyond what was recorded before is new.
    async fn refund(&self, refund: &Refund) -> Result<Receipt, CommandError> {
        let (id, mapping) = self.customer(&refund.customer)?;
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
        let step = Payment {
            revenue_id: StripeId::parse(
                "id",
                &format!("{}_refunded_{}", refund.charge, total.minor()),
            )
            .map_err(CommandError::InvalidEvent)?,
            amount: Money(newly),
            currency: refund.currency.clone(),
            occurred_at: None,
        };
        let mut extra = mapping;
        extra.push(Stripe::charge_refunds_op(
            self.app,
            &refund.charge,
            before,
            total.minor(),
        )?);
        self.pay(id, &step, RevenueKind::Refund, extra, None).await
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
        mut also: Vec<WriteOp>,
    ) -> Result<Receipt, CommandError> {
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
