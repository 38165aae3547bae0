//! The monitor's tables: findings seen per project, the outbox of notifications, and runs.
//!
//! A run's memory update and the notifications it queues are written in one transaction, so a
//! crash either keeps both (the alerts go out on the next delivery) or neither (the next run
//! sees the same changes again and queues them again): an alert is never lost.

use super::{Store, StoreError, sqlite_err};
use rusqlite::{OptionalExtension, params};

/// One remembered finding of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRow {
    /// Stable fingerprint.
    pub fingerprint: String,
    /// RFC 3339.
    pub first_seen: String,
    /// RFC 3339.
    pub last_seen: String,
    /// RFC 3339, when it went away (None while open).
    pub resolved_at: Option<String>,
    /// The monitor's JSON state.
    pub state: String,
}

/// A notification to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Project.
    pub project: String,
    /// `slack` or `email`.
    pub channel: String,
    /// Event names it carries (for status and logs), e.g. `new,resolved`.
    pub event: String,
    /// JSON payload: exactly what is sent.
    pub payload: String,
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Row id.
    pub id: i64,
    /// Project.
    pub project: String,
    /// Channel.
    pub channel: String,
    /// Event names.
    pub event: String,
    /// JSON payload.
    pub payload: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Last failure.
    pub last_error: Option<String>,
}

/// A monitor run as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339, None while running (or after a crash).
    pub finished_at: Option<String>,
    /// `ok` or `partial`.
    pub outcome: Option<String>,
    /// The run report as JSON.
    pub summary: Option<String>,
}

/// Outbox counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    /// Delivered.
    pub sent: i64,
    /// Waiting (first try or retry).
    pub pending: i64,
    /// Given up after too many failures.
    pub given_up: i64,
}

/// A message from the first seven columns: id, project, channel, event, payload, attempts,
/// last_error.
fn message_row(r: &rusqlite::Row) -> rusqlite::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        project: r.get(1)?,
        channel: r.get(2)?,
        event: r.get(3)?,
        payload: r.get(4)?,
        attempts: r.get(5)?,
        last_error: r.get(6)?,
    })
}

/// Queue `messages` in the outbox inside the caller's transaction: every write that decides a
/// notification commits together with it.
pub(super) fn queue(
    tx: &rusqlite::Transaction<'_>,
    messages: &[NewMessage],
    now: &str,
) -> rusqlite::Result<()> {
    let mut ins = tx.prepare_cached(
        "INSERT INTO outbox (project, channel, event, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for m in messages {
        ins.execute(params![m.project, m.channel, m.event, m.payload, now])?;
    }
    Ok(())
}

impl Store {
    /// Everything remembered about `project`.
    pub fn seen(&self, project: &str) -> Result<Vec<SeenRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT fingerprint, first_seen, last_seen, resolved_at, state
                 FROM findings_seen WHERE project = ?1 ORDER BY fingerprint",
            )
            .map_err(self.sq())?;
        let rows = stmt
            .query_map(params![project], |r| {
                Ok(SeenRow {
                    fingerprint: r.get(0)?,
                    first_seen: r.get(1)?,
                    last_seen: r.get(2)?,
                    resolved_at: r.get(3)?,
                    state: r.get(4)?,
                })
            })
            .map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    /// The store's key for draft markers ([`crate::publish::draft::MarkerKey`]): 32 random
    /// bytes created on first use and kept here (the store is 0600), so a marker cannot be
    /// computed, hence forged, by whoever writes advisory text. Created lazily in its own table
    /// so stores of any schema version get one.
    pub fn draft_marker_key(&self) -> Result<Vec<u8>, StoreError> {
        let mut fresh = [0u8; 32];
        aws_lc_rs::rand::fill(&mut fresh).map_err(|_| StoreError::Io {
            path: self.path.clone(),
            source: std::io::Error::other("no random bytes for the draft marker key"),
        })?;
        self.conn
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
            )
            .map_err(self.sq())?;
        // A concurrent first use keeps whichever key was inserted first.
        self.conn
            .execute(
                "INSERT OR IGNORE INTO secrets (name, value) VALUES ('draft-marker', ?1)",
                params![fresh.as_slice()],
            )
            .map_err(self.sq())?;
        self.conn
            .query_row(
                "SELECT value FROM secrets WHERE name = 'draft-marker'",
                [],
                |r| r.get(0),
            )
            .map_err(self.sq())
    }

    /// Write a run's memory for `project` and queue its notifications, in one transaction.
    pub fn record_run(
        &mut self,
        project: &str,
        rows: &[SeenRow],
        messages: &[NewMessage],
        now: &str,
    ) -> Result<(), StoreError> {
        let sq = sqlite_err(&self.path);
        let tx = self.conn.transaction().map_err(sq)?;
        {
            let mut up = tx
                .prepare_cached(
                    "INSERT INTO findings_seen (project, fingerprint, first_seen, last_seen, resolved_at, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (project, fingerprint) DO UPDATE SET
                       first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                       resolved_at = excluded.resolved_at, state = excluded.state",
                )
                .map_err(sq)?;
            for r in rows {
                up.execute(params![
                    project,
                    r.fingerprint,
                    r.first_seen,
                    r.last_seen,
                    r.resolved_at,
                    r.state
                ])
                .map_err(sq)?;
            }
            queue(&tx, messages, now).map_err(sq)?;
        }
        tx.commit().map_err(sq)
    }

    /// Messages due for delivery at `now` (never sent, not given up, retry time reached),
    /// oldest first.
    pub fn due_messages(&self, now: &str) -> Result<Vec<Message>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, project, channel, event, payload, attempts, last_error FROM outbox
                 WHERE sent_at IS NULL AND gave_up_at IS NULL
                   AND (next_attempt IS NULL OR next_attempt <= ?1)
                 ORDER BY id",
            )
            .map_err(self.sq())?;
        let rows = stmt
            .query_map(params![now], message_row)
            .map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    /// Mark a message delivered.
    pub fn mark_sent(&mut self, id: i64, now: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET sent_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
                params![id, now],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    /// Record a failed attempt: retry at `next_attempt`, or give up when it is `None`.
    pub fn mark_failed(
        &mut self,
        id: i64,
        error: &str,
        next_attempt: Option<&str>,
        now: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt = ?3,
                   gave_up_at = CASE WHEN ?3 IS NULL THEN ?4 ELSE NULL END
                 WHERE id = ?1",
                params![id, error, next_attempt, now],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    /// Outbox totals.
    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(sent_at IS NOT NULL), 0),
                        COALESCE(SUM(sent_at IS NULL AND gave_up_at IS NULL), 0),
                        COALESCE(SUM(gave_up_at IS NOT NULL), 0) FROM outbox",
                [],
                |r| {
                    Ok(OutboxCounts {
                        sent: r.get(0)?,
                        pending: r.get(1)?,
                        given_up: r.get(2)?,
                    })
                },
            )
            .map_err(self.sq())
    }

    /// Every message ever queued, oldest first (for status and tests).
    pub fn messages(&self) -> Result<Vec<(Message, Option<String>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, project, channel, event, payload, attempts, last_error, sent_at
                 FROM outbox ORDER BY id",
            )
            .map_err(self.sq())?;
        let rows = stmt
            .query_map([], |r| Ok((message_row(r)?, r.get(7)?)))
            .map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    /// Ids (any alias) among `ids` whose records are all withdrawn in every source holding them.
    pub fn withdrawn(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT MIN(a.withdrawn) FROM aliases l JOIN advisories a
                   ON a.source = l.source AND a.id = l.id WHERE l.alias = ?1",
            )
            .map_err(self.sq())?;
        for id in ids {
            let w: Option<i64> = stmt
                .query_row(params![id], |r| r.get(0))
                .optional()
                .map_err(self.sq())?
                .flatten();
            if w == Some(1) {
                out.push(id.clone());
            }
        }
        Ok(out)
    }

    /// Record the start of a monitor run; returns its id.
    pub fn run_started(&mut self, now: &str) -> Result<i64, StoreError> {
        self.conn
            .execute("INSERT INTO runs (started_at) VALUES (?1)", params![now])
            .map_err(self.sq())?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Record how a run ended.
    pub fn run_finished(
        &mut self,
        id: i64,
        now: &str,
        outcome: &str,
        summary: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET finished_at = ?2, outcome = ?3, summary = ?4 WHERE id = ?1",
                params![id, now, outcome, summary],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    /// The latest run.
    pub fn last_run(&self) -> Result<Option<RunRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT started_at, finished_at, outcome, summary FROM runs ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok(RunRow {
                        started_at: r.get(0)?,
                        finished_at: r.get(1)?,
                        outcome: r.get(2)?,
                        summary: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(self.sq())
    }
}
