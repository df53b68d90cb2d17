//! Webhook endpoints (with their health and the app's endpoint count) and the
//! delivery log (one item per event × endpoint, holding every attempt; it is also
//! what makes a duplicate event a no-op).

use partner_domain::audit::AuditEntry;
use partner_domain::events::Event;
use partner_domain::webhooks::{Delivery, EndpointHealth, WebhookEndpoint};
use partner_domain::{AppId, DeliveryId, WebhookEndpointId};
use serde_json::Value;

use super::{from_item, to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{Condition, Index, Query, Store, StoreError, StoreResult, Update, WriteOp};

/// How long a delivery (with its attempts) stays in the log after its last attempt.
const KEEP_DELIVERIES: time::Duration = time::Duration::days(30);

/// The endpoint attribute holding its health (`WebhookEndpoint::health`).
const HEALTH: &str = "health";
/// The count attribute of the app's endpoint counter.
const ENDPOINTS: &str = "endpoints";

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The app has `limit` endpoints, as many as allowed.
    #[error("the app has {limit} webhook endpoints, the most allowed")]
    TooMany { limit: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a> {
    store: &'a Store,
}

impl Store {
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { store: self }
    }
}

fn endpoint_item(endpoint: &WebhookEndpoint) -> StoreResult<crate::Item> {
    Ok(with_index(
        to_item(
            &keys::webhook_endpoint(&endpoint.app_id, &endpoint.id),
            entity::WEBHOOK_ENDPOINT,
            endpoint,
        )?,
        attr::GSI1_PK,
        attr::GSI1_SK,
        keys::webhook_endpoints_of_app(&endpoint.app_id),
        endpoint.id.to_string(),
    ))
}

/// Moves the app's endpoint count by `delta`.
fn count_endpoints(app: &AppId, delta: i64, condition: Option<Condition>) -> WriteOp {
    let mut update = Update::default();
    update.add.push((ENDPOINTS, delta));
    update.set.insert(
        attr::TYPE.into(),
        Value::String(entity::WEBHOOK_COUNT.into()),
    );
    WriteOp::Update {
        key: keys::webhook_endpoint_count(app),
        update,
        condition,
    }
}

/// The change that stores `health` on its endpoint (a healthy endpoint keeps none).
fn health_update(health: &EndpointHealth) -> StoreResult<Update> {
    let mut update = Update::default();
    if health.is_clear() {
        update.remove.push(HEALTH);
    } else {
        let value = serde_json::to_value(health).map_err(|e| StoreError::Invalid(e.to_string()))?;
        update.set.insert(HEALTH.into(), value);
    }
    Ok(update)
}

impl Webhooks<'_> {
    /// Creates an endpoint, counts it and writes `audit`, in one transaction;
    /// refused when the app already has `max` endpoints, however many creates run
    /// at once. (Endpoints created before there was a count are not in it: an app
    /// that had some may create up to `max` more, and deleting an uncounted one
    /// lowers the count further. Deployments from before the count had at most
    /// `max` endpoints per app, checked at create.) An admin's changes to endpoints
    /// carry their audit entry; the dispatcher's own writes below are not audited.
    pub async fn create(
        &self,
        endpoint: &WebhookEndpoint,
        max: u32,
        audit: &AuditEntry,
    ) -> Result<(), EndpointError> {
        let result = self
            .store
            .transact(vec![
                WriteOp::Put {
                    item: endpoint_item(endpoint)?,
                    condition: Some(Condition::NotExists),
                },
                count_endpoints(
                    &endpoint.app_id,
                    1,
                    Some(Condition::Below(ENDPOINTS, i64::from(max))),
                ),
                super::audit::put_entry(audit)?,
            ])
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 1 }) => {
                Err(EndpointError::TooMany { limit: max })
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Replaces an endpoint that still exists, with `audit`; `false` if it was
    /// deleted.
    pub async fn update(
        &self,
        endpoint: &WebhookEndpoint,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        match self
            .store
            .transact(vec![
                WriteOp::Put {
                    item: endpoint_item(endpoint)?,
                    condition: Some(Condition::Exists),
                },
                super::audit::put_entry(audit)?,
            ])
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Disables an endpoint that is enabled, with the reason, its health as it
    /// stands and the `event` announcing it, in one transaction, touching nothing
    /// else of it (a concurrent edit such as a secret rotation stands). `false` when
    /// it was already disabled or is gone: then no event is written, so however
    /// many attempts give up at once, the disabling is announced once.
    pub async fn disable(
        &self,
        endpoint: &WebhookEndpoint,
        health: &EndpointHealth,
        reason: &str,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut update = health_update(health)?;
        update.set.insert("enabled".into(), Value::Bool(false));
        update
            .set
            .insert("disabledReason".into(), Value::String(reason.to_owned()));
        let result = self
            .store
            .transact(vec![
                WriteOp::Update {
                    key: keys::webhook_endpoint(&endpoint.app_id, &endpoint.id),
                    update,
                    condition: Some(Condition::Equals("enabled", Value::Bool(true))),
                },
                super::outbox::put_event(event)?,
            ])
            .await;
        match result {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Deletes an endpoint, takes it off the app's count and writes `audit`;
    /// `false` if there was none.
    pub async fn delete(
        &self,
        app: &AppId,
        id: &WebhookEndpointId,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let result = self
            .store
            .transact(vec![
                WriteOp::Delete {
                    key: keys::webhook_endpoint(app, id),
                    condition: Some(Condition::Exists),
                },
                count_endpoints(app, -1, None),
                super::audit::put_entry(audit)?,
            ])
            .await;
        match result {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    pub async fn get(
        &self,
        app: &AppId,
        id: &WebhookEndpointId,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        super::record(self.store, &keys::webhook_endpoint(app, id), true).await
    }

    /// Every endpoint of an app (at most `MAX_WEBHOOK_ENDPOINTS`; one query).
    pub async fn list(&self, app: &AppId) -> StoreResult<Vec<WebhookEndpoint>> {
        super::all(
            self.store,
            Query::partition(Index::Gsi1, keys::webhook_endpoints_of_app(app)),
        )
        .await
    }

    pub async fn delivery(&self, app: &AppId, id: &DeliveryId) -> StoreResult<Option<Delivery>> {
        super::record(self.store, &keys::webhook_delivery(app, id), true).await
    }

    /// A delivery and its endpoint as they are now, in one consistent batch read:
    /// what an attempt must know before it is made (has it happened? is the
    /// endpoint enabled, its circuit closed?).
    pub async fn delivery_and_endpoint(
        &self,
        app: &AppId,
        delivery: &DeliveryId,
        endpoint: &WebhookEndpointId,
    ) -> StoreResult<(Option<Delivery>, Option<WebhookEndpoint>)> {
        let keys = [
            keys::webhook_delivery(app, delivery),
            keys::webhook_endpoint(app, endpoint),
        ];
        let mut items = self.store.get_many(&keys, true).await?.into_iter();
        let delivery = items.next().flatten().map(from_item).transpose()?;
        let endpoint = items.next().flatten().map(from_item).transpose()?;
        Ok((delivery, endpoint))
    }

    /// Stores a delivery after an attempt (or after deciding not to make one).
    /// `stored` is how many attempts the stored delivery had when it was read
    /// (`None`: there was none): if another worker recorded one meanwhile the
    /// write fails (`ConditionFailed`) instead of losing it. `health`, when the
    /// attempt changed it, is written to the endpoint in the same transaction, so
    /// the circuit breaker costs no round trip of its own.
    pub async fn save_delivery(
        &self,
        delivery: &Delivery,
        stored: Option<u32>,
        health: Option<&EndpointHealth>,
    ) -> StoreResult<()> {
        let condition = match stored {
            None => Condition::NotExists,
            // `attemptCount` (every attempt, kept or not) guards the write.
            Some(attempts) => Condition::Equals("attemptCount", Value::from(attempts)),
        };
        let put = WriteOp::Put {
            item: delivery_item(delivery)?,
            condition: Some(condition),
        };
        let Some(health) = health else {
            return self.store.write(put).await.map(|_| ());
        };
        let endpoint = WriteOp::Update {
            key: keys::webhook_endpoint(&delivery.app_id, &delivery.endpoint_id),
            update: health_update(health)?,
            // Never an item made of health alone for a deleted endpoint.
            condition: Some(Condition::Exists),
        };
        match self.store.transact(vec![put.clone(), endpoint]).await {
            // The endpoint was deleted meanwhile (no health to keep), or attempts
            // failing at once kept colliding on it: the attempt is recorded all
            // the same, since an unrecorded attempt would be made again.
            Err(StoreError::ConditionFailed { index: 1 } | StoreError::Conflict) => {
                self.store.write(put).await.map(|_| ())
            }
            other => other,
        }
    }

    /// A page of an endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        app: &AppId,
        endpoint: &WebhookEndpointId,
        limit: u32,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<Delivery>, Option<String>)> {
        let mut query = Query::partition(Index::Gsi1, "");
        query.descending = true;
        query.limit = limit;
        query.cursor = cursor;
        let listing = keys::deliveries_of_endpoint(app, endpoint);
        super::listing_page(self.store, &query, &listing).await
    }
}

fn delivery_item(delivery: &Delivery) -> StoreResult<crate::Item> {
    let mut item = with_index(
        to_item(
            &keys::webhook_delivery(&delivery.app_id, &delivery.id),
            entity::WEBHOOK_DELIVERY,
            delivery,
        )?,
        attr::GSI1_PK,
        attr::GSI1_SK,
        keys::deliveries_of_endpoint(&delivery.app_id, &delivery.endpoint_id)
            .partition_of(delivery.event.id.as_str()),
        delivery.id.to_string(),
    );
    item.insert(
        "attemptCount".into(),
        Value::from(delivery.total_attempts()),
    );
    // The delivery log keeps 30 days; DynamoDB's TTL deletes older deliveries.
    let expires = partner_domain::now() + KEEP_DELIVERIES;
    item.insert(attr::TTL.into(), Value::from(expires.unix_timestamp()));
    Ok(item)
}
