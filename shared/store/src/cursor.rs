//! Opaque pagination cursors.
//!
//! A cursor is the last key a page returned, with the partition it belongs to,
//! base64url-encoded. Decoding checks the partition and index against the query
//! being continued, so a cursor from another app's (or another query's) listing is
//! refused instead of starting a scan somewhere it should not.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::{Index, Item, Query, StoreError, StoreResult, keys::attr};

#[derive(Debug, Serialize, Deserialize)]
struct CursorBody {
    /// Index tag (`p`, `1`, `2`).
    i: String,
    /// The partition value of the query.
    p: String,
    /// Key attributes of the last item returned.
    k: std::collections::BTreeMap<String, String>,
}

fn index_tag(index: Index) -> &'static str {
    match index {
        Index::Primary => "p",
        Index::Gsi1 => "1",
        Index::Gsi2 => "2",
    }
}

/// The key attributes a cursor for `index` must carry.
pub fn cursor_attributes(index: Index) -> &'static [&'static str] {
    match index {
        Index::Primary => &[attr::PK, attr::SK],
        Index::Gsi1 => &[attr::PK, attr::SK, attr::GSI1_PK, attr::GSI1_SK],
        Index::Gsi2 => &[attr::PK, attr::SK, attr::GSI2_PK, attr::GSI2_SK],
    }
}

/// Encodes the position after `last` for `query`.
pub fn encode(query: &Query, last: &Item) -> StoreResult<String> {
    let mut k = std::collections::BTreeMap::new();
    for name in cursor_attributes(query.index) {
        let value = last.get(*name).and_then(|v| v.as_str()).ok_or_else(|| {
            StoreError::Corrupt(format!("queried item lacks key attribute {name}"))
        })?;
        k.insert((*name).to_owned(), value.to_owned());
    }
    let body = CursorBody {
        i: index_tag(query.index).to_owned(),
        p: query.partition.clone(),
        k,
    };
    let json = serde_json::to_vec(&body).map_err(|e| StoreError::Invalid(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Decodes the cursor of `query`, checking it belongs to the same index and partition.
pub fn decode(
    query: &Query,
    cursor: &str,
) -> StoreResult<std::collections::BTreeMap<String, String>> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| StoreError::InvalidCursor)?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    let expected: Vec<&str> = cursor_attributes(query.index).to_vec();
    let same_shape =
        body.k.len() == expected.len() && expected.iter().all(|a| body.k.contains_key(*a));
    let partition_attr = match query.index {
        Index::Primary => attr::PK,
        Index::Gsi1 => attr::GSI1_PK,
        Index::Gsi2 => attr::GSI2_PK,
    };
    let same_partition = body.p == query.partition
        && body.k.get(partition_attr).map(String::as_str) == Some(query.partition.as_str());
    if body.i != index_tag(query.index) || !same_shape || !same_partition {
        return Err(StoreError::InvalidCursor);
    }
    Ok(body.k)
}
