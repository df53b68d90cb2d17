//! Rate-limit counters: one item per subject and minute, shared by every instance
//! of every function, deleted by TTL shortly after its minute.
//!
//! A [`Guard`] is a counter with a limit. On a request that writes a transaction
//! anyway (apply, track) the guard rides in it as one more operation, so counting
//! costs no round trip: the increment is conditioned on the count being below the
//! limit, and a request over the limit fails the whole transaction and writes
//! nothing. Where nothing else is written, [`RateCounters::count`] is one write.

use partner_domain::rate_limit::{Exceeded, Policy, Window};
use serde_json::Value;

use crate::keys::{self, attr, entity};
use crate::{Condition, Key, Store, StoreError, StoreResult, Update, WriteOp};

/// The counter attribute.
const COUNT: &str = "n";

/// A limit on one subject in one window, checked and counted in one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    policy: Policy,
    limit: u32,
    window: Window,
    key: Key,
}

impl Guard {
    /// `limit` requests of `policy` per window for `subject` (unique across
    /// policies and apps: see [`Guard::per_ip`]).
    pub fn new(policy: Policy, subject: &str, limit: u32, window: Window) -> Self {
        Self {
            policy,
            limit,
            window,
            key: keys::rate_counter(subject, window.start),
        }
    }

    /// A per-client-IP limit of one app, in the current window.
    pub fn per_ip(policy: Policy, app: &partner_domain::AppId, ip: &str, limit: u32) -> Self {
        Self::new(
            policy,
            &format!("APP#{app}#{}#{ip}", policy.as_str()),
            limit,
            Window::now(),
        )
    }

    /// The write that counts one request if the count is below the limit.
    pub(crate) fn op(&self) -> WriteOp {
        WriteOp::Update {
            key: self.key.clone(),
            update: increment(1, self.window),
            condition: Some(Condition::Below(COUNT, i64::from(self.limit))),
        }
    }

    /// The refusal of a request this guard turned away.
    pub fn exceeded(&self) -> Exceeded {
        Exceeded::in_window(self.policy, self.limit, self.window)
    }
}

/// A guard (if any) placed in a transaction, which knows its failure from the
/// other operations'.
#[derive(Debug)]
pub(crate) struct Placed<'a>(Option<(&'a Guard, usize)>);

impl<'a> Placed<'a> {
    /// Appends `guard`'s write to `ops`.
    pub(crate) fn onto(guard: Option<&'a Guard>, ops: &mut Vec<WriteOp>) -> Self {
        Self(guard.map(|guard| {
            ops.push(guard.op());
            (guard, ops.len() - 1)
        }))
    }

    /// The guard placed, to place it again in a follow-up write.
    pub(crate) fn guard(&self) -> Option<&'a Guard> {
        self.0.map(|(guard, _)| guard)
    }

    /// The refusal, when it is the guard's condition that failed the transaction.
    pub(crate) fn tripped(&self, err: &StoreError) -> Option<Exceeded> {
        match (self.0, err) {
            (Some((guard, at)), StoreError::ConditionFailed { index }) if *index == at => {
                Some(guard.exceeded())
            }
            _ => None,
        }
    }
}

fn increment(by: u32, window: Window) -> Update {
    let mut update = Update::default();
    update.add.push((COUNT, i64::from(by)));
    update.set.insert(
        attr::TYPE.into(),
        Value::String(entity::RATE_COUNTER.into()),
    );
    // Kept a minute past its window, then DynamoDB's TTL deletes it.
    update
        .set
        .insert(attr::TTL.into(), Value::from(window.end() + 60));
    update
}

#[derive(Debug, Clone, Copy)]
pub struct RateCounters<'a> {
    store: &'a Store,
}

impl Store {
    /// Rate-limit counters.
    pub fn rate_limits(&self) -> RateCounters<'_> {
        RateCounters { store: self }
    }
}

impl RateCounters<'_> {
    /// Counts one request against `guard` on its own (one write): `Err(Exceeded)`
    /// inside when the count had already reached the limit.
    pub async fn count(&self, guard: &Guard) -> StoreResult<Result<(), Exceeded>> {
        match self.store.write(guard.op()).await {
            Ok(_) => Ok(Ok(())),
            Err(StoreError::ConditionFailed { .. }) => Ok(Err(guard.exceeded())),
            Err(err) => Err(err),
        }
    }

    /// Counts a request that was refused for another reason (one write), when
    /// there is a guard: refused requests count too, so probing is limited like
    /// succeeding. `Err(Exceeded)` inside when that is over the limit as well.
    pub async fn count_refused(&self, guard: Option<&Guard>) -> StoreResult<Result<(), Exceeded>> {
        match guard {
            Some(guard) => self.count(guard).await,
            None => Ok(Ok(())),
        }
    }

    /// Adds `by` to `subject`'s counter in `window`, with no limit, and returns the
    /// new total (one write): for counts whose limit is applied by the caller.
    pub async fn add(&self, subject: &str, window: Window, by: u32) -> StoreResult<i64> {
        let item = self
            .store
            .write(WriteOp::Update {
                key: keys::rate_counter(subject, window.start),
                update: increment(by, window),
                condition: None,
            })
            .await?;
        Ok(item
            .as_ref()
            .and_then(|item| item.get(COUNT))
            .and_then(Value::as_i64)
            .unwrap_or(i64::from(by)))
    }
}
