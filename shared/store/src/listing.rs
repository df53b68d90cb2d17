//! Listings spread over several partitions of one index ([`keys::Listing`]), read
//! as one.
//!
//! A page queries every partition not yet exhausted at once (one round trip of
//! latency, one query each), merges the items by sort key and keeps the first
//! `limit`. Within a partition the items kept are always the first ones it
//! returned, so the next page continues each partition after the last of its
//! items that was kept; the cursor records that position per partition, each an
//! ordinary cursor of that partition's query (which the backend checks belongs to
//! it), so a cursor can only ever continue the listing of the app it came from.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::keys::{self, attr};
use crate::{Index, Item, Page, Query, Store, StoreError, StoreResult};

/// Where one partition of a listing stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Position {
    #[serde(rename = "s")]
    Start,
    /// After the item this partition cursor names.
    #[serde(rename = "a")]
    After(String),
    #[serde(rename = "d")]
    Done,
}

/// A cursor: the listing it continues (its first partition's name) and where each
/// partition stands.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    l: String,
    p: Vec<Position>,
}

fn encode(listing: &str, positions: &[Position]) -> StoreResult<String> {
    let cursor = Cursor {
        l: listing.to_owned(),
        p: positions.to_vec(),
    };
    let json = serde_json::to_vec(&cursor).map_err(|e| StoreError::Invalid(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

fn decode(cursor: &str, partitions: &[String]) -> StoreResult<Vec<Position>> {
    let json = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let cursor: Cursor = serde_json::from_slice(&json).map_err(|_| StoreError::InvalidCursor)?;
    if cursor.p.len() != partitions.len() || partitions.first() != Some(&cursor.l) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(cursor.p)
}

fn sort_attribute(index: Index) -> &'static str {
    match index {
        Index::Primary => attr::SK,
        Index::Gsi1 => attr::GSI1_SK,
        Index::Gsi2 => attr::GSI2_SK,
    }
}

impl Store {
    /// A page of `listing` on `query.index`, with `query`'s sort condition, order,
    /// limit and cursor (one from an earlier page of this call); `query.partition`
    /// is ignored.
    pub async fn query_listing(&self, query: &Query, listing: &keys::Listing) -> StoreResult<Page> {
        let partitions = listing.partitions();
        let name = partitions[0].clone();
        let mut positions = match &query.cursor {
            Some(cursor) => decode(cursor, &partitions)?,
            None => vec![Position::Start; partitions.len()],
        };
        let queries: Vec<Option<Query>> = partitions
            .into_iter()
            .zip(&positions)
            .map(|(partition, position)| {
                let cursor = match position {
                    Position::Done => return None,
                    Position::Start => None,
                    Position::After(cursor) => Some(cursor.clone()),
                };
                Some(Query {
                    partition,
                    cursor,
                    ..query.clone()
                })
            })
            .collect();
        let pages = futures_util::future::try_join_all(queries.iter().map(|q| async move {
            match q {
                Some(q) => self.query(q).await.map(Some),
                None => Ok(None),
            }
        }))
        .await?;

        let by = sort_attribute(query.index);
        let sort_key = |item: &Item| item.get(by).and_then(|v| v.as_str()).map(str::to_owned);
        let mut candidates: Vec<(Option<String>, usize, Item)> = Vec::new();
        for (shard, page) in pages.iter().enumerate() {
            for item in page.iter().flat_map(|page| &page.items) {
                candidates.push((sort_key(item), shard, item.clone()));
            }
        }
        // Stable, so each partition's items keep their order.
        candidates.sort_by(|a, b| {
            let order = a.0.cmp(&b.0);
            if query.descending {
                order.reverse()
            } else {
                order
            }
        });
        candidates.truncate(query.limit as usize);

        let mut kept = vec![0usize; positions.len()];
        for (_, shard, _) in &candidates {
            kept[*shard] += 1;
        }
        for (shard, page) in pages.iter().enumerate() {
            let (Some(page), Some(q)) = (page, &queries[shard]) else {
                continue;
            };
            positions[shard] = match kept[shard] {
                n if n == page.items.len() => match &page.cursor {
                    Some(cursor) => Position::After(cursor.clone()),
                    None => Position::Done,
                },
                0 => continue,
                n => Position::After(crate::cursor::encode(q, &page.items[n - 1])?),
            };
        }
        let cursor = if positions.iter().all(|p| *p == Position::Done) {
            None
        } else {
            Some(encode(&name, &positions)?)
        };
        Ok(Page {
            items: candidates.into_iter().map(|(_, _, item)| item).collect(),
            cursor,
        })
    }
}
