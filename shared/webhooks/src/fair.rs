//! Fair shares: how the deliveries of one dispatcher batch are split among the
//! apps in it.
//!
//! The rule: a dispatcher makes at most `C` deliveries at once (its concurrency).
//! When a batch holds messages of `k` different apps, each app may have at most
//! `max(1, C / k)` of its deliveries in flight; its other deliveries wait for one
//! of its own to finish. An app whose endpoint hangs until the time-out therefore
//! ties up its own share and never the other apps': their deliveries go on beside
//! it. An app alone in its batch has all `C`.
//!
//! A delivery takes its app's slot before one of the `C` shared slots, so an app
//! waiting on its own share holds none of the slots others could use. Outside a
//! batch (the in-process dispatcher of `partnerctl serve`, which takes messages
//! one by one) only the shared limit applies.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use partner_domain::AppId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The most deliveries one app may have in flight when `apps` apps share a
/// dispatcher that makes `total` at once: `max(1, total / apps)`.
pub fn share(total: usize, apps: usize) -> usize {
    (total / apps.max(1)).max(1)
}

/// Each app's share of one batch.
#[derive(Debug, Clone, Default)]
pub struct FairShare {
    per_app: Arc<HashMap<AppId, Arc<Semaphore>>>,
}

impl FairShare {
    /// The shares of a batch whose messages are for `apps` (repeats are one app),
    /// on a dispatcher making `total` deliveries at once.
    pub fn new<'a>(total: usize, apps: impl IntoIterator<Item = &'a AppId>) -> Self {
        let distinct: HashSet<&AppId> = apps.into_iter().collect();
        let each = share(total, distinct.len());
        let per_app = distinct
            .into_iter()
            .map(|app| (app.clone(), Arc::new(Semaphore::new(each))))
            .collect();
        Self {
            per_app: Arc::new(per_app),
        }
    }

    /// Waits for a slot of `app`'s share, held until the permit is dropped.
    /// `None` when the app has no share here (outside a batch): nothing to wait for.
    pub async fn acquire(&self, app: &AppId) -> Option<OwnedSemaphorePermit> {
        let slots = self.per_app.get(app)?;
        Arc::clone(slots).acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_app_gets_its_part_and_never_none() {
        assert_eq!(share(32, 1), 32);
        assert_eq!(share(32, 2), 16);
        assert_eq!(share(32, 3), 10);
        assert_eq!(share(32, 10), 3);
        assert_eq!(share(2, 2), 1);
        // More apps than slots: each still gets one (the shared limit still holds).
        assert_eq!(share(2, 5), 1);
        assert_eq!(share(32, 0), 32);
    }

    #[tokio::test]
    async fn an_app_waits_on_its_own_share_not_on_anothers() {
        let (a, b) = (AppId::generate(), AppId::generate());
        // Two apps (A named twice) on 4 slots: 2 each.
        let shares = FairShare::new(4, [&a, &b, &a]);
        let first = shares.acquire(&a).await;
        let second = shares.acquire(&a).await;
        assert!(first.is_some() && second.is_some());
        // A's third waits: its share is taken...
        let third = tokio::time::timeout(std::time::Duration::from_millis(50), shares.acquire(&a));
        assert!(third.await.is_err(), "A went past its share");
        // ...while B's slots are free.
        let for_b = tokio::time::timeout(std::time::Duration::from_millis(50), shares.acquire(&b));
        assert!(matches!(for_b.await, Ok(Some(_))), "B waited on A");
        drop(first);
        let third = tokio::time::timeout(std::time::Duration::from_millis(50), shares.acquire(&a));
        assert!(
            matches!(third.await, Ok(Some(_))),
            "a finished delivery frees A's slot"
        );
        // An app that is not in the batch is not held back.
        assert!(shares.acquire(&AppId::generate()).await.is_none());
        assert!(FairShare::default().acquire(&a).await.is_none());
    }
}
