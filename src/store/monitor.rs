//! The monitor's tables: findings seen per project, the outbox of notifications, and runs.
//!
//! A run's memory update and the notifications it queues are written in one transaction, so a
//! crash either keeps both (the alerts go out on the next delivery) or neither (the next run
//! sees the same changes again and queues them again): an alert is never lost.

use super::{HealthRow, MessageState, MonitorState, RunOutcome, Store, StoreError, sqlite_err};
use super::{time_col, time_col_req};
use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

/// One remembered finding of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRow {
    /// Stable fingerprint.
    pub fingerprint: String,
    /// When it was first seen.
    pub first_seen: Timestamp,
    /// When it was last seen.
    pub last_seen: Timestamp,
    /// When it went away (None while open).
    pub resolved_at: Option<Timestamp>,
    /// The monitor's JSON state.
    pub state: String,
}

/// How many findings of one severity a project had open on one day (the dashboard's history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyOpen {
    /// The day (UTC).
    pub day: jiff::civil::Date,
    /// The severity.
    pub severity: crate::severity::Level,
    /// Open findings of that severity.
    pub open: u32,
}

/// What a run writes for the dashboard beside its memory: the project's open findings on
/// `day` by severity for the history (severities with none left out, so a day with none open
/// has no rows; it replaces all of that day's earlier counts for the project), and its
/// current summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayOpen {
    /// The day (UTC).
    pub day: jiff::civil::Date,
    /// Open findings by severity, each severity at most once.
    pub counts: Vec<(crate::severity::Level, u32)>,
    /// The project's open findings as the overview shows them (JSON of
    /// `monitor::OpenSummary`; the store keeps it as text, like a memory row's state).
    pub summary: String,
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

/// An event to hold for the project's next digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHeld {
    /// Event kind name (`new`, `resolved`, ...).
    pub event: String,
    /// JSON: the held event as the monitor wrote it.
    pub item: String,
}

/// An event held for a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRow {
    /// Row id, in the order held.
    pub id: i64,
    /// Project.
    pub project: String,
    /// Event kind name.
    pub event: String,
    /// JSON item.
    pub item: String,
    /// When it was held.
    pub held_at: Timestamp,
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
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished; None while running (or after a crash).
    pub finished_at: Option<Timestamp>,
    /// How it ended; None while running (or after a crash).
    pub outcome: Option<RunOutcome>,
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
    now: Timestamp,
) -> rusqlite::Result<()> {
    let now = now.to_string();
    let mut ins = tx.prepare_cached(
        "INSERT INTO outbox (project, channel, event, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for m in messages {
        ins.execute(params![m.project, m.channel, m.event, m.payload, now])?;
    }
    Ok(())
}

impl MonitorState for Store {
    fn project_input(&self, project: &str) -> Result<Option<super::ProjectInput>, StoreError> {
        let sq = self.sq();
        let row: Option<(String, i64, String)> = self
            .conn
            .query_row(
                "SELECT hash, generation, packages FROM project_inputs WHERE project = ?1",
                params![project],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(sq)?;
        // Unreadable packages (a hand-edited store): as if never remembered, so a rescan.
        Ok(row.and_then(|(hash, generation, packages)| {
            Some(super::ProjectInput {
                hash,
                generation,
                packages: serde_json::from_str(&packages).ok()?,
            })
        }))
    }

    fn set_project_input(
        &mut self,
        project: &str,
        input: Option<&super::ProjectInput>,
    ) -> Result<(), StoreError> {
        let sq = self.sq();
        match input {
            None => self
                .conn
                .execute(
                    "DELETE FROM project_inputs WHERE project = ?1",
                    params![project],
                )
                .map_err(sq)?,
            Some(i) => self
                .conn
                .execute(
                    "INSERT OR REPLACE INTO project_inputs (project, hash, generation, packages)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        project,
                        i.hash,
                        i.generation,
                        serde_json::to_string(&i.packages).unwrap_or_else(|_| "[]".into())
                    ],
                )
                .map_err(sq)?,
        };
        Ok(())
    }

    fn seen(&self, project: &str) -> Result<Vec<SeenRow>, StoreError> {
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
                    first_seen: time_col_req(r, 1)?,
                    last_seen: time_col_req(r, 2)?,
                    resolved_at: time_col(r, 3)?,
                    state: r.get(4)?,
                })
            })
            .map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    fn open_summaries(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT project, summary FROM project_summary ORDER BY project")
            .map_err(self.sq())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    fn unresolved(&self) -> Result<Vec<(String, SeenRow)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT project, fingerprint, first_seen, last_seen, state
                 FROM findings_seen WHERE resolved_at IS NULL ORDER BY project, fingerprint",
            )
            .map_err(self.sq())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    SeenRow {
                        fingerprint: r.get(1)?,
                        first_seen: time_col_req(r, 2)?,
                        last_seen: time_col_req(r, 3)?,
                        resolved_at: None,
                        state: r.get(4)?,
                    },
                ))
            })
            .map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    /// The store's key for draft markers ([`crate::publish::draft::MarkerKey`]): 32 random
    /// bytes created on first use and kept here (the store is 0600), so a marker cannot be
    /// computed, hence forged, by whoever writes advisory text. Created lazily in its own table
    /// so stores of any schema version get one.
    fn draft_marker_key(&self) -> Result<Vec<u8>, StoreError> {
        // Made once, then only read: no write per project, and no random bytes (the RNG's
        // first use in a process costs tens of milliseconds, most of a small project's
        // rescan). A missing table falls through to making it.
        if let Ok(Some(key)) = self
            .conn
            .query_row(
                "SELECT value FROM secrets WHERE name = 'draft-marker'",
                [],
                |r| r.get(0),
            )
            .optional()
        {
            return Ok(key);
        }
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

    fn record_run_daily(
        &mut self,
        project: &str,
        rows: &[SeenRow],
        messages: &[NewMessage],
        held: &[NewHeld],
        daily: Option<&DayOpen>,
        now: Timestamp,
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
                    r.first_seen.to_string(),
                    r.last_seen.to_string(),
                    r.resolved_at.map(|t| t.to_string()),
                    r.state
                ])
                .map_err(sq)?;
            }
            queue(&tx, messages, now).map_err(sq)?;
            let mut hold = tx
                .prepare_cached(
                    "INSERT INTO digest_held (project, event, item, held_at) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sq)?;
            for h in held {
                hold.execute(params![project, h.event, h.item, now.to_string()])
                    .map_err(sq)?;
            }
            // A day's counts replace that day's earlier ones whole, so a severity that went
            // to zero (or a day with nothing open left) does not keep its old count.
            if let Some(d) = daily {
                let day = d.day.to_string();
                tx.prepare_cached("DELETE FROM daily_open WHERE project = ?1 AND day = ?2")
                    .map_err(sq)?
                    .execute(params![project, day])
                    .map_err(sq)?;
                let mut put = tx
                    .prepare_cached(
                        "INSERT INTO daily_open (project, day, severity, open) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (project, day, severity) DO UPDATE SET open = excluded.open",
                    )
                    .map_err(sq)?;
                for (severity, open) in &d.counts {
                    put.execute(params![project, day, severity.as_str(), open])
                        .map_err(sq)?;
                }
                tx.prepare_cached(
                    "INSERT INTO project_summary (project, summary) VALUES (?1, ?2)
                     ON CONFLICT (project) DO UPDATE SET summary = excluded.summary",
                )
                .map_err(sq)?
                .execute(params![project, d.summary])
                .map_err(sq)?;
            } else if !rows.is_empty() {
                // Memory written without a summary: the old one would no longer be true, so
                // the overview reads this project's memory instead.
                tx.prepare_cached("DELETE FROM project_summary WHERE project = ?1")
                    .map_err(sq)?
                    .execute(params![project])
                    .map_err(sq)?;
            }
        }
        tx.commit().map_err(sq)
    }

    fn daily_open(
        &self,
        project: Option<&str>,
        since: jiff::civil::Date,
    ) -> Result<Vec<DailyOpen>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT day, severity, SUM(open) FROM daily_open
                 WHERE (?1 IS NULL OR project = ?1) AND day >= ?2
                 GROUP BY day, severity ORDER BY day, severity",
            )
            .map_err(self.sq())?;
        let rows = stmt
            .query_map(params![project, since.to_string()], |r| {
                let day: String = r.get(0)?;
                let severity: String = r.get(1)?;
                let open: i64 = r.get(2)?;
                let bad = |what: String| {
                    rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Text,
                        what.into(),
                    )
                };
                Ok(DailyOpen {
                    day: day
                        .parse()
                        .map_err(|e| bad(format!("stored day {day:?}: {e}")))?,
                    severity: severity.parse().map_err(bad)?,
                    open: u32::try_from(open)
                        .map_err(|_| bad(format!("stored count {open} out of range")))?,
                })
            })
            .map_err(self.sq())?;
        let mut out = rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())?;
        // Most severe first within a day (the text order of the query is alphabetical).
        out.sort_by(|a, b| a.day.cmp(&b.day).then(b.severity.cmp(&a.severity)));
        Ok(out)
    }

    fn held(&self, project: &str) -> Result<Vec<HeldRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, project, event, item, held_at FROM digest_held
                 WHERE project = ?1 ORDER BY id",
            )
            .map_err(self.sq())?;
        let rows = stmt
            .query_map(params![project], |r| {
                Ok(HeldRow {
                    id: r.get(0)?,
                    project: r.get(1)?,
                    event: r.get(2)?,
                    item: r.get(3)?,
                    held_at: time_col_req(r, 4)?,
                })
            })
            .map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    fn last_digest(&self, project: &str) -> Result<Option<Timestamp>, StoreError> {
        self.conn
            .query_row(
                "SELECT queued_at FROM digest_sent WHERE project = ?1",
                params![project],
                |r| time_col_req(r, 0),
            )
            .optional()
            .map_err(self.sq())
    }

    fn queue_digest(
        &mut self,
        project: &str,
        held_ids: &[i64],
        messages: &[NewMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let sq = sqlite_err(&self.path);
        let tx = self.conn.transaction().map_err(sq)?;
        {
            let mut del = tx
                .prepare_cached("DELETE FROM digest_held WHERE id = ?1 AND project = ?2")
                .map_err(sq)?;
            for id in held_ids {
                del.execute(params![id, project]).map_err(sq)?;
            }
            queue(&tx, messages, now).map_err(sq)?;
            tx.execute(
                "INSERT INTO digest_sent (project, queued_at) VALUES (?1, ?2)
                 ON CONFLICT (project) DO UPDATE SET queued_at = excluded.queued_at",
                params![project, now.to_string()],
            )
            .map_err(sq)?;
        }
        tx.commit().map_err(sq)
    }

    fn due_messages(&self, now: Timestamp) -> Result<Vec<Message>, StoreError> {
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
            .query_map(params![now.to_string()], message_row)
            .map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    fn mark_sent(&mut self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET sent_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
                params![id, now.to_string()],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    fn mark_failed(
        &mut self,
        id: i64,
        error: &str,
        next_attempt: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt = ?3,
                   gave_up_at = CASE WHEN ?3 IS NULL THEN ?4 ELSE NULL END
                 WHERE id = ?1",
                params![
                    id,
                    error,
                    next_attempt.map(|t| t.to_string()),
                    now.to_string()
                ],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
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

    fn messages(&self) -> Result<Vec<(Message, MessageState)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, project, channel, event, payload, attempts, last_error, sent_at,
                        gave_up_at
                 FROM outbox ORDER BY id",
            )
            .map_err(self.sq())?;
        let rows = stmt
            .query_map([], |r| {
                let state = match (time_col(r, 7)?, time_col(r, 8)?) {
                    (Some(at), _) => MessageState::Sent(at),
                    (None, Some(at)) => MessageState::GivenUp(at),
                    (None, None) => MessageState::Pending,
                };
                Ok((message_row(r)?, state))
            })
            .map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    fn run_started(&mut self, now: Timestamp) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO runs (started_at) VALUES (?1)",
                params![now.to_string()],
            )
            .map_err(self.sq())?;
        Ok(self.conn.last_insert_rowid())
    }

    fn run_finished(
        &mut self,
        id: i64,
        now: Timestamp,
        outcome: RunOutcome,
        summary: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET finished_at = ?2, outcome = ?3, summary = ?4 WHERE id = ?1",
                params![id, now.to_string(), outcome.as_str(), summary],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    fn last_run(&self) -> Result<Option<RunRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT started_at, finished_at, outcome, summary FROM runs ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    let outcome = match r.get::<_, Option<String>>(2)? {
                        None => None,
                        Some(o) => Some(o.parse().map_err(|e: String| {
                            rusqlite::Error::FromSqlConversionFailure(
                                2,
                                rusqlite::types::Type::Text,
                                e.into(),
                            )
                        })?),
                    };
                    Ok(RunRow {
                        started_at: time_col_req(r, 0)?,
                        finished_at: time_col(r, 1)?,
                        outcome,
                        summary: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(self.sq())
    }

    fn health(&self) -> Result<Vec<HealthRow>, StoreError> {
        self.read_health()
    }

    fn record_health(
        &mut self,
        rows: &[HealthRow],
        messages: &[NewMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_health(rows, messages, now)
    }

    fn create_token(
        &mut self,
        project: &str,
        scope: super::TokenScope,
        hash: &[u8],
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO api_tokens (project, scope, hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![project, scope.as_str(), hash, now.to_string()],
            )
            .map_err(self.sq())?;
        Ok(self.conn.last_insert_rowid())
    }

    fn tokens(&self) -> Result<Vec<super::TokenRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, project, scope, hash, created_at, revoked_at FROM api_tokens ORDER BY id",
            )
            .map_err(self.sq())?;
        let rows = stmt.query_map([], token_row).map_err(self.sq())?;
        rows.collect::<Result<_, _>>().map_err(self.sq())
    }

    fn revoke_token(&mut self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now.to_string()],
            )
            .map_err(self.sq())?;
        Ok(n == 1)
    }
}

/// One `api_tokens` row (`SELECT id, project, scope, hash, created_at, revoked_at`).
pub(super) fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<super::TokenRow> {
    let scope: String = r.get(2)?;
    Ok(super::TokenRow {
        id: r.get(0)?,
        project: r.get(1)?,
        scope: scope.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
        })?,
        hash: r.get(3)?,
        created_at: time_col_req(r, 4)?,
        revoked_at: time_col(r, 5)?,
    })
}
