//! The background thread that copies a store file's write-ahead log into the
//! database ("checkpoints"), so that no request's commit does it.
//!
//! A checkpoint copies the log's pages into the database and fsyncs the log (and
//! the database, once the whole log is copied): milliseconds, which SQLite would
//! otherwise spend inside whichever commit made the log cross 1,000 pages. The
//! thread runs passive checkpoints, which wait for no reader or writer. Under a
//! steady stream of writes, though, some commit always lands while one is running,
//! so the log is never wholly copied, and SQLite only starts a log over once it
//! is. The log then grows for as long as the writes go on: 866 MB in one
//! `partner-bench warm` run, and each commit that extends the file waits on the
//! filesystem while a checkpoint fsyncs it. So once the log holds more than a
//! limit, the thread holds this process's requests off (the store's connection
//! lock) for a second checkpoint of what is left, and the next commit starts the
//! log over, unless a reader or writer in another process is using it. That wait
//! is a few milliseconds, once per limit's worth of writes.

use std::path::Path;
use std::sync::{Mutex, Weak};
use std::time::Duration;

use rusqlite::Connection;

/// When the thread checkpoints.
#[derive(Debug, Clone, Copy)]
pub(super) struct Checkpoints {
    /// How often the thread checkpoints.
    pub every: Duration,
    /// Log frames (a page each) beyond which the thread holds requests off for a
    /// second checkpoint.
    pub log_limit_frames: i64,
}

impl Checkpoints {
    /// Every 250 ms; requests held off past 4,096 frames (about 16 MB of log).
    pub const DEFAULT: Self = Self {
        every: Duration::from_millis(250),
        log_limit_frames: 4096,
    };

    /// Checkpoints the log of the store at `path` until the store (`owner`, its
    /// connection) is dropped. Other processes on the same file (`cargo lambda
    /// watch`) checkpoint too, which SQLite allows. Their writers are not held off:
    /// while they keep writing, a log can stay over the limit, and each round then
    /// holds this process's requests off for a checkpoint that cannot start it
    /// over. `false` when the thread could not start (SQLite then keeps
    /// checkpointing inside commits).
    pub fn spawn(self, path: &Path, owner: Weak<Mutex<Connection>>) -> bool {
        // No busy timeout: a passive checkpoint never waits, and nothing the thread
        // does with the store's lock held may wait either.
        let conn = match Connection::open(path) {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!(error = %err, "no checkpoint connection; commits checkpoint instead");
                return false;
            }
        };
        let spawned = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while owner.strong_count() > 0 {
                    std::thread::sleep(self.every);
                    self.run(&conn, &owner);
                }
            });
        if let Err(err) = &spawned {
            tracing::warn!(error = %err, "no checkpoint thread; commits checkpoint instead");
        }
        spawned.is_ok()
    }

    /// One round: a passive checkpoint, and a second one with this process's
    /// requests held off when the log has outgrown the limit. (A log left over the
    /// limit by writes that have stopped costs each round a lock and a checkpoint
    /// with nothing to copy, until the next commit starts it over.)
    fn run(&self, conn: &Connection, owner: &Weak<Mutex<Connection>>) {
        match passive_checkpoint(conn) {
            Ok(frames) if frames > self.log_limit_frames => {
                let Some(store) = owner.upgrade() else {
                    return;
                };
                // A poisoned lock means a request panicked with it: leave the log be.
                let Ok(_requests) = store.lock() else {
                    return;
                };
                if let Err(err) = passive_checkpoint(conn) {
                    tracing::debug!(error = %err, "checkpoint skipped");
                }
            }
            Ok(_) => {}
            Err(err) => tracing::debug!(error = %err, "checkpoint skipped"),
        }
    }
}

/// Runs a passive checkpoint; the frames the log held when it started.
fn passive_checkpoint(conn: &Connection) -> rusqlite::Result<i64> {
    // Its row: whether it was blocked, the log's frames, the frames copied.
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::Checkpoints;
    use crate::sqlite::SqliteTable;
    use crate::table::{Table, WriteOp};

    #[tokio::test]
    async fn a_log_under_unbroken_writes_starts_over_instead_of_growing() {
        let dir = std::env::temp_dir().join(format!("partner-store-{}", ulid::Ulid::generate()));
        let path = dir.join("store.sqlite3");
        let table = SqliteTable::open_with(
            &path,
            Checkpoints {
                every: Duration::from_millis(20),
                log_limit_frames: 64,
            },
        )
        .unwrap();
        let body = "x".repeat(1000);
        let started = Instant::now();
        let mut commits: u64 = 0;
        // Back to back: a commit lands during every passive checkpoint.
        while started.elapsed() < Duration::from_secs(1) || commits < 500 {
            let item = json!({"pk": "P", "sk": format!("{commits:08}"), "body": body});
            let serde_json::Value::Object(item) = item else {
                unreachable!()
            };
            table
                .write(WriteOp::Put {
                    item,
                    condition: None,
                })
                .await
                .unwrap();
            commits += 1;
        }
        // The log's header counts how often it was started over (its checkpoint
        // sequence number: big-endian, bytes 12 to 16). Without the second
        // checkpoint it stays 0, and the log holds every commit.
        let log = std::fs::read(format!("{}-wal", path.display())).unwrap();
        let started_over = u32::from_be_bytes(log[12..16].try_into().unwrap());
        assert!(
            started_over >= 2,
            "the log was started over {started_over} times in {commits} commits"
        );
        drop(table);
        std::fs::remove_dir_all(dir).ok();
    }
}
