//! DynamoDB's hard limits, known to the store rather than to call sites.
//!
//! [`crate::Store`] checks every request against these numbers before either
//! backend sees it, so the embedded SQLite store refuses exactly what DynamoDB
//! would and a test on it fails wherever production would. The one limit a request
//! cannot show up front, the size of an item after an update, the SQLite backend
//! checks after applying the update (DynamoDB refuses it itself); both report it
//! as the same [`Limit`].
//!
//! Sizes follow DynamoDB's rules closely enough to stay on the safe side: an
//! attribute counts its name's UTF-8 bytes plus its value's (strings their bytes,
//! numbers their digits, booleans and nulls one byte, lists and maps three bytes
//! plus one per element plus their elements).

use serde_json::Value;

use crate::{Item, WriteOp};

/// Operations in one `TransactWriteItems`.
pub const MAX_TRANSACTION_OPERATIONS: usize = 100;
/// Bytes of all items in one transaction.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
/// Bytes of one item.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// Keys in one `BatchGetItem`.
pub const MAX_BATCH_GET_KEYS: usize = 100;
/// Puts and deletes in one `BatchWriteItem`. The store has no batch write: every
/// multi-item write is a transaction (whose limit is above); this is here so the
/// number is known if one is ever added.
pub const MAX_BATCH_WRITE_OPERATIONS: usize = 25;
/// Bytes one query page reads at most; the rest comes with the next cursor.
pub const MAX_QUERY_PAGE_BYTES: usize = 1024 * 1024;

/// A request over one of DynamoDB's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Limit {
    #[error("a transaction of {0} operations (at most {MAX_TRANSACTION_OPERATIONS})")]
    TransactionOperations(usize),
    #[error("a transaction of {0} bytes (at most {MAX_TRANSACTION_BYTES})")]
    TransactionBytes(usize),
    #[error("an item of {0} bytes (at most {MAX_ITEM_BYTES})")]
    ItemBytes(usize),
    #[error("a batch read of {0} keys (at most {MAX_BATCH_GET_KEYS})")]
    BatchGetKeys(usize),
}

/// The stored size of an item, as DynamoDB counts it (an upper bound).
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 1,
        Value::String(text) => text.len(),
        // DynamoDB stores about one byte per two digits, plus one; the text length
        // is never less.
        Value::Number(number) => number.to_string().len() + 1,
        Value::Array(items) => 3 + items.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        Value::Object(map) => {
            3 + map
                .iter()
                .map(|(name, v)| 1 + name.len() + value_size(v))
                .sum::<usize>()
        }
    }
}

/// An item that may be stored.
pub fn check_item(item: &Item) -> Result<(), Limit> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(Limit::ItemBytes(size));
    }
    Ok(())
}

/// A transaction that DynamoDB would accept, as far as its size shows.
pub fn check_transaction(ops: &[WriteOp]) -> Result<(), Limit> {
    if ops.len() > MAX_TRANSACTION_OPERATIONS {
        return Err(Limit::TransactionOperations(ops.len()));
    }
    let mut total = 0;
    for op in ops {
        total += match op {
            WriteOp::Put { item, .. } => {
                check_item(item)?;
                item_size(item)
            }
            WriteOp::Update { key, update, .. } => {
                key.pk.len() + key.sk.len() + item_size(&update.set)
            }
            WriteOp::Delete { key, .. } | WriteOp::Check { key, .. } => key.pk.len() + key.sk.len(),
        };
    }
    if total > MAX_TRANSACTION_BYTES {
        return Err(Limit::TransactionBytes(total));
    }
    Ok(())
}

/// A single write.
pub fn check_write(op: &WriteOp) -> Result<(), Limit> {
    match op {
        WriteOp::Put { item, .. } => check_item(item),
        WriteOp::Update { update, .. } => check_item(&update.set),
        WriteOp::Delete { .. } | WriteOp::Check { .. } => Ok(()),
    }
}

/// A batch read.
pub fn check_batch_get(keys: usize) -> Result<(), Limit> {
    if keys > MAX_BATCH_GET_KEYS {
        return Err(Limit::BatchGetKeys(keys));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: Value) -> Item {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn sizes_count_names_and_values() {
        assert_eq!(item_size(&item(json!({"pk": "abc"}))), 5);
        assert_eq!(item_size(&item(json!({"ok": true}))), 3);
        // The name, and at least the five digits.
        assert!(item_size(&item(json!({"n": 12345}))) >= 6);
        assert!(item_size(&item(json!({"l": ["ab", "cd"]}))) > 5);
    }

    #[test]
    fn an_item_just_over_400_kb_is_refused_and_one_at_it_is_not() {
        let name_and_pk = "pk".len();
        let at = item(json!({"pk": "x".repeat(MAX_ITEM_BYTES - name_and_pk)}));
        assert_eq!(check_item(&at), Ok(()));
        let over = item(json!({"pk": "x".repeat(MAX_ITEM_BYTES - name_and_pk + 1)}));
        assert_eq!(check_item(&over), Err(Limit::ItemBytes(MAX_ITEM_BYTES + 1)));
    }
}
