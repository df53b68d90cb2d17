//! Payout runs: the run item an admin creates, a lock so an app has one running run
//! at a time, and a listing of running runs for the payout runner.
//!
//! Creating a run writes the three items in one transaction; finishing it updates
//! the run and removes the other two in one transaction. Progress is saved after
//! every page of partners, guarded by the run's `updatedAt` as read, so two runners
//! working the same run never count a page twice.

use partner_domain::AppId;
use partner_domain::audit::AuditEntry;
use partner_domain::ledger::{PayoutRun, PayoutRunId, PayoutRunStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{from_item, to_item};
use crate::keys::{self, entity};
use crate::{Condition, Index, Query, Store, StoreError, StoreResult, WriteOp};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The app has a running run; its id is in the lock.
    #[error("a payout run of the app is running")]
    InProgress(Option<PayoutRunId>),
    /// Another runner saved progress first.
    #[error("the run changed meanwhile")]
    Changed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The lock and the listing entry: which run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRef {
    pub app_id: AppId,
    pub run_id: PayoutRunId,
}

#[derive(Debug, Clone, Copy)]
pub struct PayoutRuns<'a> {
    store: &'a Store,
}

impl Store {
    /// Payout runs and their progress.
    pub fn payout_runs(&self) -> PayoutRuns<'_> {
        PayoutRuns { store: self }
    }
}

fn version(run: &PayoutRun) -> Value {
    Value::String(partner_domain::rfc3339(run.updated_at))
}

impl PayoutRuns<'_> {
    /// Creates a run (with `audit`), unless the app has one running.
    pub async fn create(&self, run: &PayoutRun, audit: &AuditEntry) -> Result<(), RunError> {
        let app = &run.app_id;
        let reference = RunRef {
            app_id: app.clone(),
            run_id: run.id.clone(),
        };
        let result = self
            .store
            .transact(vec![
                WriteOp::Put {
                    item: to_item(&keys::payout_run(app, &run.id), entity::PAYOUT_RUN, run)?,
                    condition: Some(Condition::NotExists),
                },
                WriteOp::Put {
                    item: to_item(&keys::payout_run_lock(app), entity::RUN_LOCK, &reference)?,
                    condition: Some(Condition::NotExists),
                },
                WriteOp::Put {
                    item: to_item(
                        &keys::running_run(app, &run.id),
                        entity::RUNNING_RUN,
                        &reference,
                    )?,
                    condition: None,
                },
                super::audit::put_entry(audit)?,
            ])
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 1 }) => {
                let holder: Option<RunRef> = self
                    .store
                    .get(&keys::payout_run_lock(app), true)
                    .await?
                    .map(from_item)
                    .transpose()?;
                Err(RunError::InProgress(holder.map(|h| h.run_id)))
            }
            Err(err) => Err(err.into()),
        }
    }

    pub async fn get(&self, app: &AppId, id: &PayoutRunId) -> StoreResult<Option<PayoutRun>> {
        super::record(self.store, &keys::payout_run(app, id), true).await
    }

    /// Every running run (oldest first), at most `limit`.
    pub async fn running(&self, limit: u32) -> StoreResult<Vec<RunRef>> {
        let mut query = Query::partition(Index::Primary, keys::RUNNING_RUNS.to_owned());
        query.limit = limit;
        super::records(self.store, &query).await
    }

    /// Saves a run's progress; `previous` is the run as read before the page.
    pub async fn save(&self, previous: &PayoutRun, next: &PayoutRun) -> Result<(), RunError> {
        let result = self
            .store
            .write(WriteOp::Put {
                item: to_item(
                    &keys::payout_run(&next.app_id, &next.id),
                    entity::PAYOUT_RUN,
                    next,
                )?,
                condition: Some(Condition::Equals("updatedAt", version(previous))),
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err(RunError::Changed),
            Err(err) => Err(err.into()),
        }
    }

    /// Ends a run (completed or failed): the run, its lock and its listing entry
    /// change together, with `audit`. (Saving a page's progress is bookkeeping of
    /// the run, not audited: the payouts each page made are.)
    pub async fn finish(
        &self,
        previous: &PayoutRun,
        last: &PayoutRun,
        audit: &AuditEntry,
    ) -> Result<(), RunError> {
        debug_assert!(last.status != PayoutRunStatus::Running);
        let app = &last.app_id;
        let result = self
            .store
            .transact(vec![
                WriteOp::Put {
                    item: to_item(&keys::payout_run(app, &last.id), entity::PAYOUT_RUN, last)?,
                    condition: Some(Condition::Equals("updatedAt", version(previous))),
                },
                WriteOp::Delete {
                    key: keys::payout_run_lock(app),
                    condition: None,
                },
                WriteOp::Delete {
                    key: keys::running_run(app, &last.id),
                    condition: None,
                },
                super::audit::put_entry(audit)?,
            ])
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err(RunError::Changed),
            Err(err) => Err(err.into()),
        }
    }

    /// Removes a listing entry whose run is gone or no longer running.
    pub async fn forget(&self, reference: &RunRef) -> StoreResult<()> {
        self.store
            .write(WriteOp::Delete {
                key: keys::running_run(&reference.app_id, &reference.run_id),
                condition: None,
            })
            .await
            .map(|_| ())
    }
}
