//! Clicks and what a referral code points at, and the partner's counters (clicks,
//! referrals, conversions) kept in shards so busy partners do not contend on one item.

use partner_domain::ledger::Click;
use partner_domain::records::{AffiliateStatus, ProgramSettings};
use partner_domain::{AffiliateId, AppId, CustomerId, Email, ReferralCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rate_limits::{Guard, Placed};
use super::{from_item, to_item};
use crate::keys::{self, attr, entity};
use crate::{Condition, Key, Store, StoreError, StoreResult, Update, WriteOp};

/// What a referral code points at (the code marker written on approval).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeTarget {
    pub code: ReferralCode,
    pub affiliate_id: AffiliateId,
    pub customer_id: CustomerId,
    #[serde(default = "active")]
    pub status: AffiliateStatus,
    /// The partner's email (absent on codes approved before it was recorded).
    #[serde(default)]
    pub email: Option<Email>,
    /// The partner's group (none: the default group).
    #[serde(default)]
    pub group_id: Option<partner_domain::rewards::GroupId>,
}

fn active() -> AffiliateStatus {
    AffiliateStatus::Active
}

/// Click, referral and conversion counts of a partner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    #[serde(default)]
    pub clicks: i64,
    #[serde(default)]
    pub referrals: i64,
    #[serde(default)]
    pub conversions: i64,
}

/// What a visitor's last counted click left behind: counted clicks until `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub until: i64,
}
fn random_shard(count: u8) -> u8 {
    let mut byte = [0u8; 1];
    partner_domain::random_bytes(&mut byte);
    byte[0] % count
}
/// Adds `delta` to counters of a random stats shard of the partner (named by its
/// customer id).
pub(crate) fn bump_stats(
    app: &AppId,
    partner_customer: &CustomerId,
    counters: &[(&'static str, i64)],
) -> WriteOp {
    let mut update = Update::default();
    update.add.extend_from_slice(counters);
    update
        .set
        .insert(attr::TYPE.into(), Value::String(entity::STATS.into()));
    WriteOp::Update {
        key: keys::stats(app, partner_customer, random_shard(keys::STATS_SHARDS)),
        update,
        condition: None,
    }
}

/// Why a click was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ClickError {
    /// The client's rate limit was reached; nothing was written.
    #[error("over the rate limit")]
    Limited(partner_domain::rate_limit::Exceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy)]
pub struct Clicks<'a> {
    store: &'a Store,
}

impl Store {
    /// Clicks, referral codes and partner counters.
    pub fn clicks(&self) -> Clicks<'_> {
        Clicks { store: self }
    }
}

impl Clicks<'_> {
    /// What tracking a click needs, in one round trip: the code's partner, the
    /// settings, and the visitor's last counted click.
    pub async fn click_context(
        &self,
        app: &AppId,
        code: &ReferralCode,
        visitor: Option<&str>,
    ) -> StoreResult<ClickContextRecords> {
        self.store
            .read(&ClickContext::new(app, code, visitor))
            .await
    }

    /// Stores a click. A counted click also renews the visitor's window and bumps the
    /// partner's click counter, in one transaction; `previous` is the visit marker as
    /// read (the condition that no concurrent click counted meanwhile). A `guard`
    /// (the client's rate limit) is counted in the same write. Returns whether the
    /// click counted. `partner_customer` is the code's partner (its customer id,
    /// which names its counters).
    pub async fn record_click(
        &self,
        click: &Click,
        partner_customer: &CustomerId,
        window_until: Option<(i64, Option<Visit>)>,
        guard: Option<&Guard>,
    ) -> Result<bool, ClickError> {
        let app = &click.app_id;
        let click_item = {
            let mut item = to_item(&keys::click(app, &click.id), entity::CLICK, click)?;
            item.insert(
                attr::TTL.into(),
                Value::from(click.expires_at.unix_timestamp() + 86_400),
            );
            item
        };
        let mut ops = vec![WriteOp::Put {
            item: click_item.clone(),
            condition: Some(Condition::NotExists),
        }];
        // Without a visitor id every click counts; with one, once per window.
        let windowed = click.counted && window_until.is_some();
        if click.counted {
            if let Some((until, previous)) = window_until {
                let visitor = click.visitor_id.as_deref().unwrap_or_default();
                let mut visit_item = to_item(
                    &keys::visit(app, &click.code, visitor),
                    entity::VISIT,
                    &Visit { until },
                )?;
                visit_item.insert(attr::TTL.into(), Value::from(until));
                ops.push(WriteOp::Put {
                    item: visit_item,
                    condition: Some(match previous {
                        None => Condition::NotExists,
                        Some(visit) => Condition::Equals("until", Value::from(visit.until)),
                    }),
                });
            }
            ops.push(bump_stats(app, partner_customer, &[("clicks", 1)]));
        }
        let guard = Placed::onto(guard, &mut ops);
        let result = match ops.len() {
            1 => self.store.write(ops.remove(0)).await.map(drop),
            _ => self.store.transact(ops).await,
        };
        let Err(err) = result else {
            return Ok(click.counted);
        };
        match (guard.tripped(&err), err) {
            (Some(exceeded), _) => Err(ClickError::Limited(exceeded)),
            // The same visitor's concurrent click counted first: this one does not,
            // and is stored uncounted, still within the client's limit.
            (None, StoreError::ConditionFailed { index: 1 }) if windowed => {
                let mut uncounted = click_item;
                uncounted.insert("counted".into(), Value::Bool(false));
                let mut ops = vec![WriteOp::Put {
                    item: uncounted,
                    condition: None,
                }];
                let guard = Placed::onto(guard.guard(), &mut ops);
                let result = match ops.len() {
                    1 => self.store.write(ops.remove(0)).await.map(drop),
                    _ => self.store.transact(ops).await,
                };
                match result {
                    Ok(()) => Ok(false),
                    Err(err) => Err(match guard.tripped(&err) {
                        Some(exceeded) => ClickError::Limited(exceeded),
                        None => err.into(),
                    }),
                }
            }
            (None, err) => Err(err.into()),
        }
    }

    pub async fn click(
        &self,
        app: &AppId,
        id: &partner_domain::ledger::ClickId,
    ) -> StoreResult<Option<Click>> {
        super::record(self.store, &keys::click(app, id), false).await
    }

    pub async fn code_target(
        &self,
        app: &AppId,
        code: &ReferralCode,
    ) -> StoreResult<Option<CodeTarget>> {
        super::record(self.store, &keys::referral_code(app, code), false).await
    }
    /// The partner's counters, summed over their shards, those kept under its
    /// partner id before they moved beside its customer id included (one round
    /// trip).
    pub async fn stats(
        &self,
        app: &AppId,
        partner_customer: &CustomerId,
        affiliate: &AffiliateId,
    ) -> StoreResult<Stats> {
        let mut wanted = stats_keys(app, partner_customer);
        wanted.extend(legacy_stats_keys(app, affiliate));
        Stats::sum(self.store.get_many(&wanted, false).await?)
    }
}

/// The keys of a partner's counter shards.
pub(crate) fn stats_keys(app: &AppId, partner_customer: &CustomerId) -> Vec<Key> {
    (0..keys::STATS_SHARDS)
        .map(|s| keys::stats(app, partner_customer, s))
        .collect()
}

/// The keys of the shards a partner approved before counters moved beside its
/// customer id was counted in.
pub(crate) fn legacy_stats_keys(app: &AppId, affiliate: &AffiliateId) -> Vec<Key> {
    (0..keys::STATS_SHARDS)
        .map(|s| keys::legacy_stats(app, affiliate, s))
        .collect()
}

impl Stats {
    /// The sum of counter shards as read (missing ones count nothing).
    pub(crate) fn sum(shards: Vec<Option<crate::Item>>) -> StoreResult<Self> {
        let mut total = Self::default();
        for shard in shards.into_iter().flatten() {
            let shard: Self = from_item(shard)?;
            total.add(shard);
        }
        Ok(total)
    }

    pub(crate) fn add(&mut self, other: Self) {
        self.clicks += other.clicks;
        self.referrals += other.referrals;
        self.conversions += other.conversions;
    }
}

/// The code's partner, the settings and the visitor's last counted click.
pub type ClickContextRecords = (Option<CodeTarget>, Option<ProgramSettings>, Option<Visit>);

/// What tracking a click reads: one batch, which can ride with the API key's lookup.
#[derive(Debug, Clone)]
pub struct ClickContext {
    keys: Vec<crate::Key>,
}

impl ClickContext {
    pub fn new(app: &AppId, code: &ReferralCode, visitor: Option<&str>) -> Self {
        let mut keys = vec![keys::referral_code(app, code), keys::settings(app)];
        if let Some(visitor) = visitor {
            keys.push(keys::visit(app, code, visitor));
        }
        Self { keys }
    }
}

impl super::reads::Read for ClickContext {
    type Output = ClickContextRecords;

    fn keys(&self) -> Vec<crate::Key> {
        self.keys.clone()
    }

    fn consistent(&self) -> bool {
        false
    }

    fn parse(&self, items: Vec<Option<crate::Item>>) -> StoreResult<Self::Output> {
        let mut items = items.into_iter();
        let target = items.next().flatten().map(from_item).transpose()?;
        let settings = items.next().flatten().map(from_item).transpose()?;
        let visit = items.next().flatten().map(from_item).transpose()?;
        Ok((target, settings, visit))
    }
}
