//! The embedded backend: the same table in one SQLite file (or in memory).
//!
//! Items are stored as JSON text beside their key columns. Writes run in
//! `BEGIN IMMEDIATE` transactions on a WAL database with a busy timeout, so several
//! processes (the functions under `cargo lambda watch`, `partnerctl`) can share one
//! file safely. Conditions are evaluated here with DynamoDB's semantics; the
//! conformance suite holds both backends to the same behaviour.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params_from_iter};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::keys::attr;
use crate::table::{
    Condition, Index, Item, Key, Page, Query, SortKey, StoreError, StoreResult, Table, Update,
    WriteOp, check_distinct_keys, key_of, op_key,
};
use checkpoints::Checkpoints;

mod checkpoints;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk     TEXT NOT NULL,
    sk     TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    gsi2pk TEXT,
    gsi2sk TEXT,
    body   TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
";

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct SqliteTable {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteTable {
    /// Opens (creating if needed) the store file at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with(path, Checkpoints::DEFAULT)
    }

    /// [`Self::open`] with its own checkpoint policy (the tests' is faster).
    fn open_with(path: &Path, checkpoints: Checkpoints) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(StoreError::backend)?;
        }
        let conn = Connection::open(path).map_err(StoreError::backend)?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(StoreError::backend)?;
        // WAL lets readers in other processes proceed while one process writes.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(StoreError::backend)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(StoreError::backend)?;
        // Checkpoints (copying the log into the database file and fsyncing it) run
        // on a thread of their own, not inside whichever commit crosses SQLite's
        // 1,000-page threshold: that commit was the p99 of every write (BENCHMARKS.md).
        let table = Self::with_schema(conn)?;
        if checkpoints.spawn(path, Arc::downgrade(&table.conn)) {
            let conn = table
                .conn
                .lock()
                .map_err(|_| StoreError::Invalid("sqlite connection poisoned".into()))?;
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(StoreError::backend)?;
        }
        Ok(table)
    }

    /// A private, empty store that lives as long as this value (tests, `--memory`).
    pub fn memory() -> StoreResult<Self> {
        Self::with_schema(Connection::open_in_memory().map_err(StoreError::backend)?)
    }

    fn with_schema(conn: Connection) -> StoreResult<Self> {
        conn.execute_batch(SCHEMA).map_err(StoreError::backend)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection on the blocking pool, so SQLite's file I/O and busy
    /// waits never stall the async runtime.
    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Invalid("sqlite connection poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(StoreError::backend)?
    }
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key, _consistent: bool) -> StoreResult<Option<Item>> {
        let key = key.clone();
        self.run(move |conn| load(conn, &key)).await
    }

    async fn get_many(&self, keys: &[Key], _consistent: bool) -> StoreResult<Vec<Option<Item>>> {
        let keys = keys.to_vec();
        self.run(move |conn| keys.iter().map(|key| load(conn, key)).collect())
            .await
    }

    async fn write(&self, op: WriteOp) -> StoreResult<Option<Item>> {
        if matches!(op, WriteOp::Check { .. }) {
            return Err(StoreError::Invalid(
                "a condition check is only valid in a transaction".into(),
            ));
        }
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::backend)?;
            if !condition_holds(&tx, &op)? {
                return Err(StoreError::ConditionFailed { index: 0 });
            }
            let after = apply(&tx, op)?;
            tx.commit().map_err(StoreError::backend)?;
            Ok(after)
        })
        .await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        check_distinct_keys(&ops)?;
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::backend)?;
            // Every condition is checked against the state before any write, as in DynamoDB.
            for (index, op) in ops.iter().enumerate() {
                if !condition_holds(&tx, op)? {
                    return Err(StoreError::ConditionFailed { index });
                }
            }
            for op in ops {
                apply(&tx, op)?;
            }
            tx.commit().map_err(StoreError::backend)
        })
        .await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        let query = query.clone();
        self.run(move |conn| run_query(conn, &query)).await
    }
}

fn load(conn: &Connection, key: &Key) -> StoreResult<Option<Item>> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM items WHERE pk = ?1 AND sk = ?2",
            [&key.pk, &key.sk],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::backend)?;
    body.map(|text| parse_body(&text)).transpose()
}

fn parse_body(text: &str) -> StoreResult<Item> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn condition_holds(conn: &Connection, op: &WriteOp) -> StoreResult<bool> {
    let condition = match op {
        WriteOp::Put { condition, .. }
        | WriteOp::Update { condition, .. }
        | WriteOp::Delete { condition, .. } => condition.as_ref(),
        WriteOp::Check { condition, .. } => Some(condition),
    };
    let Some(condition) = condition else {
        return Ok(true);
    };
    let current = load(conn, &op_key(op)?)?;
    Ok(evaluate(condition, current.as_ref()))
}

/// DynamoDB's meaning of each condition against the item currently stored.
pub(crate) fn evaluate(condition: &Condition, current: Option<&Item>) -> bool {
    match condition {
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::Equals(name, expected) => current
            .and_then(|item| item.get(*name))
            .is_some_and(|actual| values_equal(actual, expected)),
        Condition::Below(name, limit) => {
            let value = current
                .and_then(|item| item.get(*name))
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            value < *limit as f64
        }
    }
}

/// Numbers compare by value (DynamoDB stores `1` and `1.0` as the same N).
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn apply(conn: &Connection, op: WriteOp) -> StoreResult<Option<Item>> {
    match op {
        WriteOp::Put { item, .. } => {
            store(conn, &item)?;
            Ok(Some(item))
        }
        WriteOp::Update { key, update, .. } => {
            let current = load(conn, &key)?;
            let item = apply_update(&key, current, update)?;
            // What DynamoDB refuses of an update: the item it would make too large.
            crate::limits::check_item(&item)?;
            store(conn, &item)?;
            Ok(Some(item))
        }
        WriteOp::Delete { key, .. } => {
            conn.execute(
                "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                [&key.pk, &key.sk],
            )
            .map_err(StoreError::backend)?;
            Ok(None)
        }
        WriteOp::Check { .. } => Ok(None),
    }
}

/// An update creates the item if it is missing, as DynamoDB's `UpdateItem` does.
pub(crate) fn apply_update(key: &Key, current: Option<Item>, update: Update) -> StoreResult<Item> {
    let mut item = current.unwrap_or_else(|| {
        let mut fresh = Item::new();
        fresh.insert(attr::PK.into(), Value::String(key.pk.clone()));
        fresh.insert(attr::SK.into(), Value::String(key.sk.clone()));
        fresh
    });
    for (name, value) in update.set {
        if name == attr::PK || name == attr::SK {
            return Err(StoreError::Invalid(
                "an update cannot change the primary key".into(),
            ));
        }
        item.insert(name, value);
    }
    for name in update.remove {
        item.remove(name);
    }
    for (name, delta) in update.add {
        let current = match item.get(name) {
            None => 0,
            Some(value) => value.as_i64().ok_or_else(|| {
                StoreError::Invalid(format!("cannot add to non-integer attribute {name}"))
            })?,
        };
        let sum = current
            .checked_add(delta)
            .ok_or_else(|| StoreError::Invalid(format!("attribute {name} would overflow")))?;
        item.insert(name.to_owned(), Value::from(sum));
    }
    Ok(item)
}

fn store(conn: &Connection, item: &Item) -> StoreResult<()> {
    let key = key_of(item)?;
    let index_pair = |pk: &str, sk: &str| match (item.get(pk), item.get(sk)) {
        // Like a sparse GSI: indexed only when both index keys are strings.
        (Some(Value::String(p)), Some(Value::String(s))) => (Some(p.as_str()), Some(s.as_str())),
        _ => (None, None),
    };
    let (g1p, g1s) = index_pair(attr::GSI1_PK, attr::GSI1_SK);
    let (g2p, g2s) = index_pair(attr::GSI2_PK, attr::GSI2_SK);
    let body = serde_json::to_string(item).map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.execute(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![key.pk, key.sk, g1p, g1s, g2p, g2s, body],
    )
    .map_err(StoreError::backend)?;
    Ok(())
}

fn run_query(conn: &Connection, query: &Query) -> StoreResult<Page> {
    let (pcol, scol) = match query.index {
        Index::Primary => ("pk", "sk"),
        Index::Gsi1 => ("gsi1pk", "gsi1sk"),
        Index::Gsi2 => ("gsi2pk", "gsi2sk"),
    };
    let mut sql = format!("SELECT body FROM items WHERE {pcol} = ?");
    let mut args: Vec<String> = vec![query.partition.clone()];
    match &query.sort {
        SortKey::Any => {}
        SortKey::BeginsWith(prefix) => {
            sql.push_str(&format!(" AND substr({scol}, 1, length(?)) = ?"));
            args.push(prefix.clone());
            args.push(prefix.clone());
        }
        SortKey::Between(low, high) => {
            sql.push_str(&format!(" AND {scol} BETWEEN ? AND ?"));
            args.push(low.clone());
            args.push(high.clone());
        }
    }
    let (cmp, dir) = if query.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(cursor) = &query.cursor {
        let last = crate::cursor::decode(query, cursor)?;
        let get = |name: &str| last.get(name).cloned().unwrap_or_default();
        match query.index {
            Index::Primary => {
                sql.push_str(&format!(" AND sk {cmp} ?"));
                args.push(get(attr::SK));
            }
            Index::Gsi1 | Index::Gsi2 => {
                sql.push_str(&format!(" AND ({scol}, pk, sk) {cmp} (?, ?, ?)"));
                args.push(get(scol));
                args.push(get(attr::PK));
                args.push(get(attr::SK));
            }
        }
    }
    let order = match query.index {
        Index::Primary => format!(" ORDER BY sk {dir}"),
        Index::Gsi1 | Index::Gsi2 => format!(" ORDER BY {scol} {dir}, pk {dir}, sk {dir}"),
    };
    sql.push_str(&order);
    let limit = query.limit.max(1) as usize;
    // One extra row tells whether another page exists.
    sql.push_str(&format!(" LIMIT {}", limit + 1));

    let mut stmt = conn.prepare(&sql).map_err(StoreError::backend)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |row| row.get::<_, String>(0))
        .map_err(StoreError::backend)?;
    let mut items = Vec::with_capacity(limit);
    let mut more = false;
    let mut bytes = 0;
    for row in rows {
        let body = row.map_err(StoreError::backend)?;
        if items.len() == limit {
            more = true;
            break;
        }
        let item = parse_body(&body)?;
        // DynamoDB ends a page once it has read 1 MB; the rest comes with the cursor.
        bytes += crate::limits::item_size(&item);
        items.push(item);
        if bytes >= crate::limits::MAX_QUERY_PAGE_BYTES {
            more = true;
            break;
        }
    }
    let cursor = match (more, items.last()) {
        (true, Some(last)) => Some(crate::cursor::encode(query, last)?),
        _ => None,
    };
    Ok(Page { items, cursor })
}
