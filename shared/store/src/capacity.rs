//! Capacity units per request, as DynamoDB's on-demand mode bills them, estimated
//! from item sizes: what a test holds an endpoint to, and what BENCHMARKS.md prices.
//!
//! Off unless asked for ([`crate::Store::meter`]): measuring an update's size reads
//! the item back, which production must not pay for. The rules: a read costs one
//! unit per 4 KB of each item strongly consistent, half eventually consistent, and
//! at least that for an item not found; a query pays for the bytes it returns, in
//! one sum; a write costs one unit per 1 KB of the item as written (an update's
//! item as it is after it), twice in a transaction (condition checks too), plus one
//! unit per 1 KB for each global secondary index the item is in. Where DynamoDB
//! would bill the larger of an item's size before and after a write, this counts
//! the size after; a deleted item counts 1 KB.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::keys::attr;
use crate::limits::item_size;
use crate::{Item, WriteOp};

/// Units consumed, read units in halves (eventually consistent reads cost ½).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Units {
    pub half_reads: u64,
    pub writes: u64,
}

impl Units {
    /// Read units, as DynamoDB shows them (0.5 steps).
    pub fn reads(&self) -> f64 {
        self.half_reads as f64 / 2.0
    }

    pub fn since(&self, earlier: Units) -> Units {
        Units {
            half_reads: self.half_reads - earlier.half_reads,
            writes: self.writes - earlier.writes,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Meter {
    on: AtomicBool,
    half_reads: AtomicU64,
    writes: AtomicU64,
}

impl Meter {
    pub(crate) fn start(&self) {
        self.on.store(true, Ordering::Relaxed);
    }

    pub(crate) fn on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    pub(crate) fn units(&self) -> Units {
        Units {
            half_reads: self.half_reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
        }
    }

    /// A read of `item` (or of nothing) by key.
    pub(crate) fn read(&self, item: Option<&Item>, consistent: bool) {
        let blocks = item.map_or(0, item_size).div_ceil(4096).max(1) as u64;
        let per_block = if consistent { 2 } else { 1 };
        self.half_reads
            .fetch_add(blocks * per_block, Ordering::Relaxed);
    }

    /// A query page returning `items` (queries here are eventually consistent).
    pub(crate) fn query(&self, items: &[Item]) {
        let bytes: usize = items.iter().map(item_size).sum();
        let blocks = bytes.div_ceil(4096).max(1) as u64;
        self.half_reads.fetch_add(blocks, Ordering::Relaxed);
    }

    /// An item written as `item` (`None`: deleted), `factor` 2 in a transaction;
    /// `checked` for a condition check, which writes no index.
    pub(crate) fn write(&self, item: Option<&Item>, factor: u64, checked: bool) {
        let size = item.map_or(1024, item_size);
        let units = size.div_ceil(1024).max(1) as u64;
        let indexes = item.filter(|_| !checked).map_or(0, |item| {
            [attr::GSI1_PK, attr::GSI2_PK]
                .iter()
                .filter(|name| item.contains_key(**name))
                .count() as u64
        });
        self.writes
            .fetch_add(units * factor + units * indexes, Ordering::Relaxed);
    }
}

/// The item a write leaves behind, when the write itself shows it (a put).
pub(crate) fn put_item(op: &WriteOp) -> Option<&Item> {
    match op {
        WriteOp::Put { item, .. } => Some(item),
        _ => None,
    }
}
