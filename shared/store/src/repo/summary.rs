//! A partner's summary: its latest commissions, payouts and deals, beside its
//! balance, so its dashboard is one batch read instead of three listings.
//!
//! Each list is an item of its own (`SUMMARY#COMS`, `SUMMARY#PAYS`,
//! `SUMMARY#DEALS`), so a revenue event rewrites the commissions it lists and not
//! the deals' notes. Every write that creates or changes a listed kind of record
//! changes its list in the same transaction, from the list as read and on the
//! condition that its version is still the one read. A concurrent change fails
//! that condition, and `transact` reads the list again and builds the
//! transaction again. A record leaves a list only when newer ones push it out and
//! never comes back, so a change to a record that is not listed leaves the list
//! alone.
//!
//! Partners approved before summaries existed have none: their dashboard reads the
//! listings, and nothing writes a summary for them.

use partner_domain::deals::Deal;
use partner_domain::ledger::{ListedEntry, Payout};
use partner_domain::{AppId, CustomerId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{record, to_item};
use crate::keys::{self, entity};
use crate::{Condition, Key, Store, StoreError, StoreResult, WriteOp};

/// How many of each record a summary lists: what a dashboard shows.
pub const RECENT: usize = 10;

/// How often a write is built again after concurrent writes changed its list
/// first; each failure means another write went through.
const ATTEMPTS: usize = 16;

/// A kind of record a partner's summary lists.
pub trait Listed: Serialize + DeserializeOwned + Clone + PartialEq {
    /// The list's item: `SUMMARY#<part>` in the partner's partition.
    const PART: &'static str;

    /// Its time-ordered id: the sort key of its listing, newest first.
    fn id(&self) -> String;
}

impl Listed for ListedEntry {
    const PART: &'static str = "COMS";
    fn id(&self) -> String {
        self.id.to_string()
    }
}

impl Listed for Payout {
    const PART: &'static str = "PAYS";
    fn id(&self) -> String {
        self.id.to_string()
    }
}

impl Listed for Deal {
    const PART: &'static str = "DEALS";
    fn id(&self) -> String {
        self.id.to_string()
    }
}

/// One list of a partner's summary, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct List<T> {
    /// Bumped by every write; the condition of the next.
    #[serde(default)]
    version: i64,
    #[serde(default = "Vec::new")]
    records: Vec<T>,
}

/// A partner's latest records, newest first, at most [`RECENT`] of each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub commissions: Vec<ListedEntry>,
    pub payouts: Vec<Payout>,
    pub deals: Vec<Deal>,
}

/// Puts `new` into `list` (replacing the record with its id), newest id first, and
/// keeps the newest [`RECENT`]: the first page of the record's listing.
pub(crate) fn merge<T: Listed>(list: &mut Vec<T>, new: impl IntoIterator<Item = T>) {
    for record in new {
        let id = record.id();
        match list.iter().position(|listed| listed.id() == id) {
            Some(at) => list[at] = record,
            None => list.push(record),
        }
    }
    list.sort_by_key(|record| std::cmp::Reverse(record.id()));
    list.truncate(RECENT);
}

/// Changes the listed record `id`, if it is listed.
pub(crate) fn change<T: Listed>(list: &mut [T], id: &str, change: impl FnOnce(&mut T)) {
    if let Some(record) = list.iter_mut().find(|r| r.id() == id) {
        change(record);
    }
}

/// Puts `record` in place of its listed copy, if it is listed.
pub(crate) fn update<T: Listed>(list: &mut [T], record: T) {
    let id = record.id();
    if let Some(listed) = list.iter_mut().find(|r| r.id() == id) {
        *listed = record;
    }
}

/// A payout as its list keeps it: what a listed payout needs of its entries is
/// their count (old payouts' lists of entry ids stay on the payout).
pub(crate) fn listed_payout(payout: &Payout) -> Payout {
    let mut listed = payout.clone();
    listed.entry_count = listed.entry_count.max(listed.entry_ids.len() as u32);
    listed.entry_ids.clear();
    listed
}

fn key<T: Listed>(app: &AppId, partner_customer: &CustomerId) -> Key {
    keys::summary(app, partner_customer, T::PART)
}

/// The keys of a partner's summary, in the order [`Summary::parse`] reads them.
pub(crate) fn keys(app: &AppId, partner_customer: &CustomerId) -> [Key; 3] {
    [
        key::<ListedEntry>(app, partner_customer),
        key::<Payout>(app, partner_customer),
        key::<Deal>(app, partner_customer),
    ]
}

impl Summary {
    /// The summary from its items as read ([`keys`]); none if the partner has none.
    pub(crate) fn parse(items: [Option<crate::Item>; 3]) -> StoreResult<Option<Self>> {
        let [Some(commissions), Some(payouts), Some(deals)] = items else {
            return Ok(None);
        };
        Ok(Some(Self {
            commissions: records(commissions)?,
            payouts: records(payouts)?,
            deals: records(deals)?,
        }))
    }
}

fn records<T: Listed>(item: crate::Item) -> StoreResult<Vec<T>> {
    Ok(super::from_item::<List<T>>(item)?.records)
}

/// The empty lists a new partner starts with, written by its approval (a
/// customer is approved as a partner once).
pub(crate) fn create(app: &AppId, partner_customer: &CustomerId) -> StoreResult<Vec<WriteOp>> {
    keys(app, partner_customer)
        .iter()
        .map(|key| {
            let empty: List<Value> = List {
                version: 0,
                records: Vec::new(),
            };
            Ok(WriteOp::Put {
                item: to_item(key, entity::SUMMARY, &empty)?,
                condition: None,
            })
        })
        .collect()
}

/// Runs a transaction that may change one list of the partner's summary. `build`
/// gets the list as read (none: the partner has no summary, and none is written),
/// changes it and returns the transaction's other writes; the list's write goes
/// last when it changed. When a concurrent write changed the list first, it is
/// read again and `build` called again. Any other failure is returned as it is.
pub(crate) async fn transact<T, F>(
    store: &Store,
    app: &AppId,
    partner_customer: &CustomerId,
    mut build: F,
) -> StoreResult<()>
where
    T: Listed,
    F: FnMut(Option<&mut Vec<T>>) -> StoreResult<Vec<WriteOp>>,
{
    let key = key::<T>(app, partner_customer);
    for _ in 0..ATTEMPTS {
        let read: Option<List<T>> = record(store, &key, true).await?;
        let mut records = read.as_ref().map(|list| list.records.clone());
        let mut ops = build(records.as_mut())?;
        let at = ops.len();
        if let (Some(read), Some(changed)) = (&read, records)
            && read.records != changed
        {
            ops.push(replace(&key, read.version, changed)?);
        }
        match store.transact(ops).await {
            Err(StoreError::ConditionFailed { index }) if index == at => continue,
            Err(StoreError::Conflict) => continue,
            done => return done,
        }
    }
    Err(StoreError::Conflict)
}

/// The write of a list read at version `read`, if it is still at that version.
fn replace<T: Listed>(key: &Key, read: i64, records: Vec<T>) -> StoreResult<WriteOp> {
    let next = List {
        version: read + 1,
        records,
    };
    Ok(WriteOp::Put {
        item: to_item(key, entity::SUMMARY, &next)?,
        condition: Some(Condition::Equals("version", Value::from(read))),
    })
}

/// A partner's commissions list as read with the rest of what revenue reads, to be
/// written with the revenue's entries (`ListRead::write`).
#[derive(Debug, Clone, PartialEq)]
pub struct ListRead {
    version: i64,
    commissions: Vec<ListedEntry>,
}

impl ListRead {
    /// The key to read it by.
    pub(crate) fn key(app: &AppId, partner_customer: &CustomerId) -> Key {
        key::<ListedEntry>(app, partner_customer)
    }

    pub(crate) fn parse(item: Option<crate::Item>) -> StoreResult<Option<Self>> {
        item.map(super::from_item::<List<ListedEntry>>)
            .transpose()
            .map(|list| {
                list.map(|list| Self {
                    version: list.version,
                    commissions: list.records,
                })
            })
    }

    /// The list with `entries` in it, written if it is still as read.
    pub(crate) fn write<'e>(
        &self,
        app: &AppId,
        partner_customer: &CustomerId,
        entries: impl IntoIterator<Item = &'e partner_domain::ledger::Entry>,
    ) -> StoreResult<WriteOp> {
        let mut commissions = self.commissions.clone();
        merge(&mut commissions, entries.into_iter().map(ListedEntry::from));
        replace(
            &key::<ListedEntry>(app, partner_customer),
            self.version,
            commissions,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Record(String, u8);

    impl Listed for Record {
        const PART: &'static str = "TEST";
        fn id(&self) -> String {
            self.0.clone()
        }
    }

    #[test]
    fn merging_keeps_the_newest_ids_first_and_replaces_by_id() {
        let mut list: Vec<Record> = Vec::new();
        merge(&mut list, (0..15).map(|n| Record(format!("{n:02}"), 0)));
        assert_eq!(list.len(), RECENT);
        assert_eq!(list[0].0, "14");
        assert_eq!(list[RECENT - 1].0, "05");
        // An older record than every listed one stays out; a listed one changes.
        merge(&mut list, [Record("01".into(), 1), Record("07".into(), 1)]);
        assert_eq!(list.len(), RECENT);
        assert!(list.iter().all(|r| r.0.as_str() != "01"));
        assert_eq!(list.iter().find(|r| r.0 == "07").map(|r| r.1), Some(1));
    }
}
