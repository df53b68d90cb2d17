//! What a partner's dashboard reads: one batch of the partner, the program, its
//! balance, summary and counters, every key named by the app and the partner's
//! customer id, so no read waits on another.
//!
//! Partners approved before summaries existed have none, and counters kept under
//! their partner id: their dashboard takes a second round trip, the three
//! listings and those counters read together.

use partner_domain::deals::Deal;
use partner_domain::ledger::{Balances, ListedEntry, Payout};
use partner_domain::records::{Affiliate, App, ProgramSettings};
use partner_domain::{AppId, CustomerId};

use super::affiliates::{Affiliates, partner_of};
use super::clicks::{Stats, legacy_stats_keys, stats_keys};
use super::from_item;
use super::groups::GroupSet;
use super::summary::{self, RECENT, Summary};
use crate::keys;
use crate::{Store, StoreError, StoreResult};

/// Everything on a partner's dashboard, as stored.
#[derive(Debug, Clone)]
pub struct DashboardRecords {
    pub affiliate: Affiliate,
    pub settings: ProgramSettings,
    pub balances: Balances,
    /// The app (its name titles the portal when branding names none).
    pub app: App,
    pub groups: GroupSet,
    pub stats: Stats,
    /// The latest of each, newest first.
    pub commissions: Vec<ListedEntry>,
    pub payouts: Vec<Payout>,
    pub deals: Vec<Deal>,
}

impl Affiliates<'_> {
    /// A customer's dashboard if it is a partner: one batch read (two round trips
    /// for a partner without a summary).
    pub async fn dashboard(
        &self,
        app: &AppId,
        customer: &CustomerId,
    ) -> StoreResult<Option<DashboardRecords>> {
        let store = self.store;
        let mut wanted = vec![
            keys::affiliate_of_customer(app, customer),
            keys::settings(app),
            keys::balance(app, customer),
            keys::app(app),
            keys::groups(app),
        ];
        wanted.extend(summary::keys(app, customer));
        wanted.extend(stats_keys(app, customer));
        let mut items = store.get_many(&wanted, false).await?.into_iter();
        let partner: Vec<_> = items.by_ref().take(4).collect();
        let groups = items.next().flatten();
        let summary = [
            items.next().flatten(),
            items.next().flatten(),
            items.next().flatten(),
        ];
        let Some(((affiliate, settings, balances), app_item)) = partner_of(app, partner)? else {
            return Ok(None);
        };
        let app_item =
            app_item.ok_or_else(|| StoreError::Corrupt(format!("app {app} is missing")))?;
        let mut stats = Stats::sum(items.collect())?;
        let summary = match Summary::parse(summary)? {
            Some(summary) => summary,
            None => {
                let legacy = legacy_stats_keys(app, &affiliate.id);
                let (legacy, listed) = tokio::join!(
                    store.get_many(&legacy, false),
                    listings(store, app, &affiliate),
                );
                stats.add(Stats::sum(legacy?)?);
                listed?
            }
        };
        Ok(Some(DashboardRecords {
            groups: GroupSet::from_stored(groups)?,
            app: from_item(app_item)?,
            stats,
            commissions: summary.commissions,
            payouts: summary.payouts,
            deals: summary.deals,
            affiliate,
            settings,
            balances,
        }))
    }
}

/// A partner's latest records from its three listings (three queries at once):
/// what its summary holds.
pub async fn listings(store: &Store, app: &AppId, affiliate: &Affiliate) -> StoreResult<Summary> {
    let limit = RECENT as u32;
    let (ledger, payouts, deals) = (store.ledger(), store.payouts(), store.deals());
    let (commissions, payouts, deals) = tokio::join!(
        ledger.recent_entries(app, &affiliate.id, limit),
        payouts.payouts_of_affiliate(app, &affiliate.id, limit),
        deals.of_affiliate(app, &affiliate.id, limit),
    );
    Ok(Summary {
        commissions: commissions?.iter().map(ListedEntry::from).collect(),
        payouts: payouts?.iter().map(summary::listed_payout).collect(),
        deals: deals?,
    })
}
