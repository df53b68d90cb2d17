//! The DynamoDB backend: the Table interface as DynamoDB expressions.
//!
//! Items convert to attribute values with `serde_dynamo`; conditions and updates
//! become expressions with placeholder names and values (never user text spliced
//! into an expression). `create_table` builds the table `template.yaml` declares.

use async_trait::async_trait;
pub use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, Put,
    ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem, Update as DynamoUpdate,
};
use std::collections::HashMap;

use crate::keys::{SCHEMA, attr};
use crate::table::{
    Index, Item, Key, Page, Query, SortKey, StoreError, StoreResult, Table, WriteOp,
};
use partner_aws::OnFirstUse;

mod errors;
mod expr;

use errors::{map_transaction_error, sdk_error, write_error};
use expr::Expr;

type AttributeMap = HashMap<String, AttributeValue>;

#[derive(Debug, Clone)]
pub struct DynamoTable {
    client: OnFirstUse<Client>,
    table: String,
}

impl DynamoTable {
    /// Wraps the client of this process (built, or built on first use).
    pub fn new(client: impl Into<OnFirstUse<Client>>, table: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            table: table.into(),
        }
    }
}

pub(super) fn to_attribute(value: &serde_json::Value) -> StoreResult<AttributeValue> {
    serde_dynamo::to_attribute_value(value).map_err(StoreError::backend)
}

fn to_attributes(item: &Item) -> StoreResult<AttributeMap> {
    serde_dynamo::to_item(item).map_err(StoreError::backend)
}

fn from_attributes(map: AttributeMap) -> StoreResult<Item> {
    serde_dynamo::from_item(map).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn key_attributes(key: &Key) -> AttributeMap {
    HashMap::from([
        (attr::PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (attr::SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

impl DynamoTable {
    fn transact_item(&self, op: &WriteOp) -> StoreResult<TransactWriteItem> {
        let mut expr = Expr::default();
        let item = match op {
            WriteOp::Put { item, condition } => {
                let condition = condition.as_ref().map(|c| expr.condition(c)).transpose()?;
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_attributes(item)?))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(StoreError::backend)?;
                TransactWriteItem::builder().put(put).build()
            }
            WriteOp::Update {
                key,
                update,
                condition,
            } => {
                let update_expr = expr.update(update)?;
                let condition = condition.as_ref().map(|c| expr.condition(c)).transpose()?;
                let update = DynamoUpdate::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attributes(key)))
                    .update_expression(update_expr)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(StoreError::backend)?;
                TransactWriteItem::builder().update(update).build()
            }
            WriteOp::Delete { key, condition } => {
                let condition = condition.as_ref().map(|c| expr.condition(c)).transpose()?;
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attributes(key)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(StoreError::backend)?;
                TransactWriteItem::builder().delete(delete).build()
            }
            WriteOp::Check { key, condition } => {
                let condition = expr.condition(condition)?;
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attributes(key)))
                    .condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(StoreError::backend)?;
                TransactWriteItem::builder().condition_check(check).build()
            }
        };
        Ok(item)
    }
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key, consistent: bool) -> StoreResult<Option<Item>> {
        let output = self
            .client
            .get()
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(sdk_error)?;
        output.item.map(from_attributes).transpose()
    }

    async fn get_many(&self, keys: &[Key], consistent: bool) -> StoreResult<Vec<Option<Item>>> {
        crate::limits::check_batch_get(keys.len())?;
        let mut found: HashMap<Key, Item> = HashMap::with_capacity(keys.len());
        let mut pending: Vec<AttributeMap> = keys.iter().map(key_attributes).collect();
        pending.dedup();
        // DynamoDB may leave keys unprocessed under throttling; ask again for those.
        for _ in 0..5 {
            if pending.is_empty() {
                break;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(consistent)
                .build()
                .map_err(StoreError::backend)?;
            let output = self
                .client
                .get()
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(sdk_error)?;
            for map in output
                .responses
                .unwrap_or_default()
                .remove(&self.table)
                .unwrap_or_default()
            {
                let item = from_attributes(map)?;
                found.insert(crate::table::key_of(&item)?, item);
            }
            pending = output
                .unprocessed_keys
                .unwrap_or_default()
                .remove(&self.table)
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        if !pending.is_empty() {
            // Keys left unprocessed after every round: DynamoDB is throttling.
            return Err(StoreError::Unavailable(
                "keys left unprocessed by BatchGetItem".into(),
            ));
        }
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    async fn write(&self, op: WriteOp) -> StoreResult<Option<Item>> {
        let mut expr = Expr::default();
        match op {
            WriteOp::Put { item, condition } => {
                let condition = condition.as_ref().map(|c| expr.condition(c)).transpose()?;
                self.client
                    .get()
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(to_attributes(&item)?))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .send()
                    .await
                    .map_err(write_error)?;
                Ok(Some(item))
            }
            WriteOp::Update {
                key,
                update,
                condition,
            } => {
                let update_expr = expr.update(&update)?;
                let condition = condition.as_ref().map(|c| expr.condition(c)).transpose()?;
                let output = self
                    .client
                    .get()
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key_attributes(&key)))
                    .update_expression(update_expr)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
                    .send()
                    .await
                    .map_err(write_error)?;
                output.attributes.map(from_attributes).transpose()
            }
            WriteOp::Delete { key, condition } => {
                let condition = condition.as_ref().map(|c| expr.condition(c)).transpose()?;
                self.client
                    .get()
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key_attributes(&key)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .send()
                    .await
                    .map_err(write_error)?;
                Ok(None)
            }
            WriteOp::Check { .. } => Err(StoreError::Invalid(
                "a condition check is only valid in a transaction".into(),
            )),
        }
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        crate::table::check_distinct_keys(&ops)?;
        let items = ops
            .iter()
            .map(|op| self.transact_item(op))
            .collect::<StoreResult<Vec<_>>>()?;
        // The SDK gives each call a `ClientRequestToken` and sends the same one on
        // its retries: a retry after a time-out whose first attempt did commit is
        // answered success by DynamoDB instead of running again and failing its
        // conditions (the test harness's moto is patched to do the same).
        let result = self
            .client
            .get()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => Err(map_transaction_error(err)),
        }
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        let (index_name, pk_attr, sk_attr) = match query.index {
            Index::Primary => (None, attr::PK, attr::SK),
            Index::Gsi1 => (
                Some(SCHEMA.global_indexes[0].0),
                attr::GSI1_PK,
                attr::GSI1_SK,
            ),
            Index::Gsi2 => (
                Some(SCHEMA.global_indexes[1].0),
                attr::GSI2_PK,
                attr::GSI2_SK,
            ),
        };
        let mut expr = Expr::default();
        let pk_name = expr.name(pk_attr);
        let pk_value = expr.value(AttributeValue::S(query.partition.clone()));
        let mut key_condition = format!("{pk_name} = {pk_value}");
        match &query.sort {
            SortKey::Any => {}
            SortKey::BeginsWith(prefix) => {
                let n = expr.name(sk_attr);
                let v = expr.value(AttributeValue::S(prefix.clone()));
                key_condition.push_str(&format!(" AND begins_with({n}, {v})"));
            }
            SortKey::Between(low, high) => {
                let n = expr.name(sk_attr);
                let lo = expr.value(AttributeValue::S(low.clone()));
                let hi = expr.value(AttributeValue::S(high.clone()));
                key_condition.push_str(&format!(" AND {n} BETWEEN {lo} AND {hi}"));
            }
        }
        let start_key = match &query.cursor {
            Some(cursor) => Some(
                crate::cursor::decode(query, cursor)?
                    .into_iter()
                    .map(|(k, v)| (k, AttributeValue::S(v)))
                    .collect::<AttributeMap>(),
            ),
            None => None,
        };
        let limit = i32::try_from(query.limit.max(1)).unwrap_or(i32::MAX);
        let output = self
            .client
            .get()
            .query()
            .table_name(&self.table)
            .set_index_name(index_name.map(str::to_owned))
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .scan_index_forward(!query.descending)
            .limit(limit)
            .set_exclusive_start_key(start_key)
            .send()
            .await
            .map_err(sdk_error)?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_attributes)
            .collect::<StoreResult<Vec<_>>>()?;
        let cursor = match (output.last_evaluated_key, items.last()) {
            (Some(_), Some(last)) => Some(crate::cursor::encode(query, last)?),
            _ => None,
        };
        Ok(Page { items, cursor })
    }
}

/// Creates the table as `template.yaml` declares it (on-demand, two GSIs with
/// projection ALL, TTL on `ttl`). An existing table is left as it is.
pub async fn create_table(client: &Client, table: &str) -> StoreResult<()> {
    let string_attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(StoreError::backend)
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(StoreError::backend)
    };
    let mut definitions = vec![
        string_attr(SCHEMA.partition_key)?,
        string_attr(SCHEMA.sort_key)?,
    ];
    let mut indexes = Vec::new();
    for (name, pk, sk) in SCHEMA.global_indexes {
        definitions.push(string_attr(pk)?);
        definitions.push(string_attr(sk)?);
        indexes.push(
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(pk, KeyType::Hash)?)
                .key_schema(key(sk, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(StoreError::backend)?,
        );
    }
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(definitions))
        .key_schema(key(SCHEMA.partition_key, KeyType::Hash)?)
        .key_schema(key(SCHEMA.sort_key, KeyType::Range)?)
        .set_global_secondary_indexes(Some(indexes))
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            return Ok(());
        }
        Err(err) => return Err(StoreError::backend(err)),
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(SCHEMA.ttl_attribute)
                .enabled(true)
                .build()
                .map_err(StoreError::backend)?,
        )
        .send()
        .await
        .map_err(StoreError::backend)?;
    Ok(())
}
