//! Webhook endpoints and the delivery log (one item per event × endpoint, holding
//! every attempt; it is also what makes a duplicate event a no-op).

use partner_domain::audit::AuditEntry;
use partner_domain::webhooks::{Delivery, WebhookEndpoint};
use partner_domain::{AppId, DeliveryId, WebhookEndpointId};
use serde_json::Value;

use super::{to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{Condition, Index, Query, Store, StoreError, StoreResult, WriteOp};

/// How long a delivery (with its attempts) stays in the log after its last attempt.
const KEEP_DELIVERIES: time::Duration = time::Duration::days(30);

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

impl Webhooks<'_> {
    /// Stores a new endpoint, with `audit`. (An admin's changes to endpoints are
    /// transactions of two, the change and its audit entry; the dispatcher's own
    /// writes below are not audited.)
    pub async fn create(&self, endpoint: &WebhookEndpoint, audit: &AuditEntry) -> StoreResult<()> {
        self.store
            .transact(vec![
                WriteOp::Put {
                    item: endpoint_item(endpoint)?,
                    condition: Some(Condition::NotExists),
                },
                super::audit::put_entry(audit)?,
            ])
            .await
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

    /// Disables an endpoint with a reason, touching nothing else of it (a concurrent
    /// edit such as a secret rotation stands).
    pub async fn disable(
        &self,
        app: &AppId,
        id: &WebhookEndpointId,
        reason: &str,
    ) -> StoreResult<bool> {
        let mut update = crate::Update::default();
        update.set.insert("enabled".into(), Value::Bool(false));
        update
            .set
            .insert("disabledReason".into(), Value::String(reason.to_owned()));
        match self
            .store
            .write(WriteOp::Update {
                key: keys::webhook_endpoint(app, id),
                update,
                condition: Some(Condition::Exists),
            })
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Deletes an endpoint, with `audit`; `false` if there was none.
    pub async fn delete(
        &self,
        app: &AppId,
        id: &WebhookEndpointId,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        match self
            .store
            .transact(vec![
                WriteOp::Delete {
                    key: keys::webhook_endpoint(app, id),
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

    pub async fn get(
        &self,
        app: &AppId,
        id: &WebhookEndpointId,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        super::record(self.store, &keys::webhook_endpoint(app, id), true).await
    }

    /// Every endpoint of an app (apps have a handful; one query).
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

    /// Stores a delivery after an attempt. `previous_attempts` is how many attempts
    /// the stored delivery had when it was read: if another worker recorded one
    /// meanwhile the write fails (`ConditionFailed`) instead of losing it.
    pub async fn save_delivery(
        &self,
        delivery: &Delivery,
        previous_attempts: usize,
    ) -> StoreResult<()> {
        let mut item = with_index(
            to_item(
                &keys::webhook_delivery(&delivery.app_id, &delivery.id),
                entity::WEBHOOK_DELIVERY,
                delivery,
            )?,
            attr::GSI1_PK,
            attr::GSI1_SK,
            keys::deliveries_of_endpoint(&delivery.app_id, &delivery.endpoint_id),
            delivery.id.to_string(),
        );
        // `attemptCount` (every attempt, kept or not) guards the write below.
        item.insert(
            "attemptCount".into(),
            Value::from(delivery.total_attempts()),
        );
        // The delivery log keeps 30 days; DynamoDB's TTL deletes older deliveries.
        let expires = partner_domain::now() + KEEP_DELIVERIES;
        item.insert(attr::TTL.into(), Value::from(expires.unix_timestamp()));
        let condition = if previous_attempts == 0 {
            Condition::NotExists
        } else {
            Condition::Equals("attemptCount", Value::from(previous_attempts))
        };
        self.store
            .write(WriteOp::Put {
                item,
                condition: Some(condition),
            })
            .await
            .map(|_| ())
    }

    /// A page of an endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        app: &AppId,
        endpoint: &WebhookEndpointId,
        limit: u32,
        cursor: Option<String>,
    ) -> StoreResult<(Vec<Delivery>, Option<String>)> {
        let mut query = Query::partition(Index::Gsi1, keys::deliveries_of_endpoint(app, endpoint));
        query.descending = true;
        query.limit = limit;
        query.cursor = cursor;
        super::page(self.store, &query).await
    }
}
