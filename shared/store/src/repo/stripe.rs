//! The Stripe integration: its connection, the log of received events (which is
//! also what makes each event id count once), and what later events need from
//! earlier ones: a Stripe customer's or payment's link (the customer id, and the
//! share of what was paid that was not tax), promotion code → referral code, and
//! how much of a charge was refunded so far.

use partner_domain::audit::AuditEntry;
use partner_domain::stripe::{ReceivedEvent, StripeId, StripeIntegration};
use partner_domain::{AppId, CustomerId, ReferralCode, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{from_item, to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{Condition, Index, Query, Store, StoreError, StoreResult, Update, WriteOp};

/// How long a received event stays in the log (and so how long a redelivery of
/// it is recognised; Stripe stops retrying after three days).
pub const KEEP_EVENTS: time::Duration = time::Duration::days(90);

/// At most this many promotion codes of one checkout or invoice are looked up.
pub const MAX_PROMOTION_CODES: usize = 5;

/// What a Stripe customer (`cus_…`) or payment (`pi_…`) is linked to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// The app's customer id it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// Of its (latest) payment: paid without tax and with it, in minor units, so a
    /// refund reverses only the part that earned a commission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromotionLink {
    promotion_code: StripeId,
    code: ReferralCode,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChargeRefunds {
    /// Minor units refunded so far, as recorded.
    refunded: i64,
}

/// What handling an event needs, read in one round trip.
#[derive(Debug, Clone, Default)]
pub struct StripeContext {
    pub integration: Option<StripeIntegration>,
    /// The event was handled before.
    pub seen: bool,
    /// The Stripe customer's link.
    pub customer: Option<Link>,
    /// The payment's link (the PaymentIntent of a refunded charge).
    pub payment: Option<Link>,
    /// How much of the charge was refunded before (minor units), when any was.
    pub refunded_before: Option<i64>,
    /// The referral codes the asked promotion codes are linked to, in their order.
    pub promotion_codes: Vec<ReferralCode>,
}

/// What [`Stripe::context`] should read beside the integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted<'a> {
    pub event: Option<&'a StripeId>,
    pub customer: Option<&'a StripeId>,
    pub payment: Option<&'a StripeId>,
    pub charge: Option<&'a StripeId>,
    pub promotion_codes: &'a [StripeId],
}

#[derive(Debug, Clone, Copy)]
pub struct Stripe<'a> {
    store: &'a Store,
}

impl Store {
    /// The Stripe integration of each app.
    pub fn stripe(&self) -> Stripe<'_> {
        Stripe { store: self }
    }
}

impl Stripe<'_> {
    pub async fn integration(&self, app: &AppId) -> StoreResult<Option<StripeIntegration>> {
        super::record(self.store, &keys::stripe_integration(app), true).await
    }

    /// Connects (or reconnects, replacing the secret and mode), with `audit`.
    pub async fn connect(
        &self,
        integration: &StripeIntegration,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let item = to_item(
            &keys::stripe_integration(&integration.app_id),
            entity::STRIPE_INTEGRATION,
            integration,
        )?;
        self.store
            .transact(vec![
                WriteOp::Put {
                    item,
                    condition: None,
                },
                super::audit::put_entry(audit)?,
            ])
            .await
    }

    /// Disconnects, with `audit`; `false` when the app was not connected.
    pub async fn disconnect(&self, app: &AppId, audit: &AuditEntry) -> StoreResult<bool> {
        let result = self
            .store
            .transact(vec![
                WriteOp::Delete {
                    key: keys::stripe_integration(app),
                    condition: Some(Condition::Exists),
                },
                super::audit::put_entry(audit)?,
            ])
            .await;
        match result {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { index: 0 }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// The integration and what `wanted` names, in one round trip.
    pub async fn context(&self, app: &AppId, wanted: Wanted<'_>) -> StoreResult<StripeContext> {
        let promotions =
            &wanted.promotion_codes[..wanted.promotion_codes.len().min(MAX_PROMOTION_CODES)];
        let mut keys = vec![keys::stripe_integration(app)];
        keys.extend(wanted.event.map(|id| keys::stripe_event(app, id)));
        keys.extend(wanted.customer.map(|id| keys::stripe_link(app, id)));
        keys.extend(wanted.payment.map(|id| keys::stripe_link(app, id)));
        keys.extend(wanted.charge.map(|id| keys::stripe_charge(app, id)));
        keys.extend(
            promotions
                .iter()
                .map(|id| keys::stripe_promotion_code(app, id)),
        );
        let mut items = self.store.get_many(&keys, true).await?.into_iter();
        let mut next = || items.next().flatten();
        let integration = next().map(from_item).transpose()?;
        let seen = wanted.event.is_some() && next().is_some();
        let customer = match wanted.customer {
            Some(_) => next().map(from_item::<Link>).transpose()?,
            None => None,
        };
        let payment = match wanted.payment {
            Some(_) => next().map(from_item::<Link>).transpose()?,
            None => None,
        };
        let refunded_before = match wanted.charge {
            Some(_) => next()
                .map(from_item::<ChargeRefunds>)
                .transpose()?
                .map(|c| c.refunded),
            None => None,
        };
        let mut promotion_codes = Vec::new();
        for _ in promotions {
            if let Some(link) = next().map(from_item::<PromotionLink>).transpose()? {
                promotion_codes.push(link.code);
            }
        }
        Ok(StripeContext {
            integration,
            seen,
            customer,
            payment,
            refunded_before,
            promotion_codes,
        })
    }

    /// The write that logs a received event; it fails its condition when the event
    /// was logged (handled) before.
    pub fn log_op(event: &ReceivedEvent) -> StoreResult<WriteOp> {
        let app = &event.app_id;
        let received_ms = event.received_at.unix_timestamp_nanos() / 1_000_000;
        let mut item = with_index(
            to_item(
                &keys::stripe_event(app, &event.id),
                entity::STRIPE_EVENT,
                event,
            )?,
            attr::GSI1_PK,
            attr::GSI1_SK,
            keys::stripe_events_of_app(app).partition_of(event.id.as_str()),
            format!("{received_ms:013}#{}", event.id),
        );
        let expires = event.received_at + KEEP_EVENTS;
        item.insert(attr::TTL.into(), Value::from(expires.unix_timestamp()));
        Ok(WriteOp::Put {
            item,
            condition: Some(Condition::NotExists),
        })
    }

    /// The Stripe customer or payment `stripe` belongs to the app's `customer`
    /// from now on (the latest event naming one wins).
    pub fn link_customer_op(app: &AppId, stripe: &StripeId, customer: &CustomerId) -> WriteOp {
        let mut update = Update::default();
        update
            .set
            .insert(attr::TYPE.into(), Value::String(entity::STRIPE_LINK.into()));
        update
            .set
            .insert("customerId".into(), Value::String(customer.to_string()));
        WriteOp::Update {
            key: keys::stripe_link(app, stripe),
            update,
            condition: None,
        }
    }

    /// Of `stripe`'s latest payment, `net` of `gross` was not tax.
    pub fn link_share_op(app: &AppId, stripe: &StripeId, net: i64, gross: i64) -> WriteOp {
        let mut update = Update::default();
        update
            .set
            .insert(attr::TYPE.into(), Value::String(entity::STRIPE_LINK.into()));
        update.set.insert("net".into(), Value::from(net));
        update.set.insert("gross".into(), Value::from(gross));
        WriteOp::Update {
            key: keys::stripe_link(app, stripe),
            update,
            condition: None,
        }
    }

    /// `ops` with the unconditional updates of one item (links of a customer or
    /// payment made by different steps of one event) folded into one: a
    /// transaction may touch an item only once.
    pub fn merged(ops: Vec<WriteOp>) -> Vec<WriteOp> {
        let mut out: Vec<WriteOp> = Vec::with_capacity(ops.len());
        for op in ops {
            if let WriteOp::Update {
                key,
                update,
                condition: None,
            } = &op
                && let Some(WriteOp::Update { update: into, .. }) = out.iter_mut().find(
                    |o| matches!(o, WriteOp::Update { key: k, condition: None, .. } if k == key),
                )
            {
                into.set.extend(update.set.clone());
                into.add.extend(update.add.iter().cloned());
                into.remove.extend(update.remove.iter().copied());
                continue;
            }
            out.push(op);
        }
        out
    }

    /// The promotion code names the partner with `code` from now on.
    pub fn promotion_code_op(
        app: &AppId,
        promotion_code: &StripeId,
        code: &ReferralCode,
    ) -> StoreResult<WriteOp> {
        let link = PromotionLink {
            promotion_code: promotion_code.clone(),
            code: code.clone(),
        };
        Ok(WriteOp::Put {
            item: to_item(
                &keys::stripe_promotion_code(app, promotion_code),
                entity::STRIPE_PROMOTION_CODE,
                &link,
            )?,
            condition: None,
        })
    }

    /// Moves a charge's recorded refunds from `before` to `after`, only if nothing
    /// moved them meanwhile (so each refunded part is recorded once).
    pub fn charge_refunds_op(
        app: &AppId,
        charge: &StripeId,
        before: Option<i64>,
        after: i64,
    ) -> StoreResult<WriteOp> {
        let key = keys::stripe_charge(app, charge);
        let item = to_item(
            &key,
            entity::STRIPE_CHARGE,
            &ChargeRefunds { refunded: after },
        )?;
        Ok(WriteOp::Put {
            item,
            condition: Some(match before {
                None => Condition::NotExists,
                Some(before) => Condition::Equals("refunded", Value::from(before)),
            }),
        })
    }

    /// Applies `ops` (one write, or a transaction of several).
    pub async fn apply(&self, mut ops: Vec<WriteOp>) -> StoreResult<()> {
        if ops.len() == 1
            && let Some(op) = ops.pop()
        {
            return self.store.write(op).await.map(|_| ());
        }
        self.store.transact(ops).await
    }

    /// A page of the app's received events, newest first.
    pub async fn events(
        &self,
        app: &AppId,
        limit: u32,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<ReceivedEvent>, Option<String>)> {
        let mut query = Query::partition(Index::Gsi1, "");
        query.descending = true;
        query.limit = limit;
        query.cursor = cursor;
        super::listing_page(self.store, &query, &keys::stripe_events_of_app(app)).await
    }

    /// When the newest event in the log arrived.
    pub async fn last_event_at(&self, app: &AppId) -> StoreResult<Option<Timestamp>> {
        let (newest, _) = self.events(app, 1, None).await?;
        Ok(newest.first().map(|event| event.received_at))
    }
}
