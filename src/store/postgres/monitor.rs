//! [`MonitorState`] on PostgreSQL: findings seen per project, the outbox, runs, health and
//! the draft-marker key. A run's memory (or health) and the messages it queues commit in one
//! transaction, as on SQLite.

use super::{PgStore, other_err};
use crate::store::{
    DailyOpen, DayOpen, HealthRow, HeldRow, Message, MessageState, MonitorState, NewHeld,
    NewMessage, OutboxCounts, RunOutcome, RunRow, SeenRow, StoreError,
};
use jiff::Timestamp;

/// The first key of a project's advisory lock ("depp"); the two-key form never meets the
/// one-key cycle and migration locks.
const PROJECT_LOCK: i32 = 0x6465_7070;

const MESSAGE_COLUMNS: &str = "id, project, channel, event, payload, attempts, last_error";

fn message_row(r: &tokio_postgres::Row) -> Message {
    Message {
        id: r.get(0),
        project: r.get(1),
        channel: r.get(2),
        event: r.get(3),
        payload: r.get(4),
        attempts: r.get(5),
        last_error: r.get(6),
    }
}

/// Queue `messages` inside the caller's transaction.
async fn queue(
    tx: &tokio_postgres::Transaction<'_>,
    messages: &[NewMessage],
    now: Timestamp,
) -> Result<(), tokio_postgres::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&NewMessage) -> &str| messages.iter().map(f).collect::<Vec<&str>>();
    // WITH ORDINALITY + ORDER BY: ids follow the order given, "oldest first" means that order.
    tx.execute(
        "INSERT INTO outbox (project, channel, event, payload, created_at)
         SELECT p, c, e, b, $5
             FROM unnest($1::text[], $2::text[], $3::text[],
                 $4::text[]) WITH ORDINALITY AS u(p, c, e, b, o)
         ORDER BY o",
        &[
            &col(|m| &m.project),
            &col(|m| &m.channel),
            &col(|m| &m.event),
            &col(|m| &m.payload),
            &now,
        ],
    )
    .await?;
    Ok(())
}

impl MonitorState for PgStore {
    fn project_input(
        &self,
        project: &str,
    ) -> Result<Option<crate::store::ProjectInput>, StoreError> {
        let err = self.err();
        self.run(async {
            let row = super::query_opt(
                &self.stmts,
                &self.client,
                "SELECT hash, generation, packages FROM project_inputs WHERE project = $1",
                &[&project],
            )
            .await
            .map_err(&err)?;
            // Unreadable packages (a hand-edited store): as if never remembered, so a rescan.
            Ok(row.and_then(|r| {
                Some(crate::store::ProjectInput {
                    hash: r.get(0),
                    generation: r.get(1),
                    packages: serde_json::from_str(r.get::<_, &str>(2)).ok()?,
                })
            }))
        })
    }

    fn set_project_input(
        &mut self,
        project: &str,
        input: Option<&crate::store::ProjectInput>,
    ) -> Result<(), StoreError> {
        let err = self.err();
        self.run(async {
            match input {
                None => super::execute(
                    &self.stmts,
                    &self.client,
                    "DELETE FROM project_inputs WHERE project = $1",
                    &[&project],
                )
                .await
                .map_err(&err)?,
                Some(i) => {
                    let packages =
                        serde_json::to_string(&i.packages).unwrap_or_else(|_| "[]".into());
                    super::execute(
                        &self.stmts,
                        &self.client,
                        "INSERT INTO project_inputs (project, hash, generation, packages)
                             VALUES ($1, $2, $3, $4)
                             ON CONFLICT (project) DO UPDATE SET hash = $2, generation = $3,
                                 packages = $4",
                        &[&project, &i.hash, &i.generation, &packages],
                    )
                    .await
                    .map_err(&err)?
                }
            };
            Ok(())
        })
    }

    fn draft_marker_key(&self) -> Result<Vec<u8>, StoreError> {
        let err = self.err();
        // Made once, then only read: no write per project, and no random bytes (the RNG's
        // first use in a process costs tens of milliseconds).
        let existing = self.run(async {
            let row = super::query_opt(
                &self.stmts,
                &self.client,
                "SELECT value FROM secrets WHERE name = 'draft-marker'",
                &[],
            )
            .await
            .map_err(&err)?;
            Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
        })?;
        if let Some(key) = existing {
            return Ok(key);
        }
        let mut fresh = [0u8; 32];
        aws_lc_rs::rand::fill(&mut fresh)
            .map_err(|_| other_err(&self.at, "no random bytes for the draft marker key"))?;
        self.run(async {
            // A concurrent first use keeps whichever key was inserted first.
            super::execute(
                &self.stmts,
                &self.client,
                "INSERT INTO secrets (name, value) VALUES ('draft-marker', $1)
                     ON CONFLICT (name) DO NOTHING",
                &[&fresh.as_slice()],
            )
            .await
            .map_err(&err)?;
            let row = super::query_one(
                &self.stmts,
                &self.client,
                "SELECT value FROM secrets WHERE name = 'draft-marker'",
                &[],
            )
            .await
            .map_err(&err)?;
            Ok(row.get(0))
        })
    }

    fn seen(&self, project: &str) -> Result<Vec<SeenRow>, StoreError> {
        let err = self.err();
        self.run(async {
            let rows = super::query(
                &self.stmts,
                &self.client,
                "SELECT fingerprint, first_seen, last_seen, resolved_at, state
                     FROM findings_seen WHERE project = $1 ORDER BY fingerprint",
                &[&project],
            )
            .await
            .map_err(&err)?;
            Ok(rows
                .iter()
                .map(|r| SeenRow {
                    fingerprint: r.get(0),
                    first_seen: r.get(1),
                    last_seen: r.get(2),
                    resolved_at: r.get(3),
                    state: r.get(4),
                })
                .collect())
        })
    }

    fn open_summaries(&self) -> Result<Vec<(String, String)>, StoreError> {
        let err = self.err();
        self.run(async {
            let rows = self
                .client
                .query(
                    "SELECT project, summary FROM project_summary ORDER BY project",
                    &[],
                )
                .await
                .map_err(&err)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn unresolved(&self) -> Result<Vec<(String, SeenRow)>, StoreError> {
        let err = self.err();
        self.run(async {
            let rows = self
                .client
                .query(
                    "SELECT project, fingerprint, first_seen, last_seen, state
                     FROM findings_seen WHERE resolved_at IS NULL ORDER BY project, fingerprint",
                    &[],
                )
                .await
                .map_err(&err)?;
            Ok(rows
                .iter()
                .map(|r| {
                    (
                        r.get(0),
                        SeenRow {
                            fingerprint: r.get(1),
                            first_seen: r.get(2),
                            last_seen: r.get(3),
                            resolved_at: None,
                            state: r.get(4),
                        },
                    )
                })
                .collect())
        })
    }

    /// A session-level advisory lock on (`PROJECT_LOCK`, hash of the name): two names with
    /// the same hash only wait for each other. The server releases it if this session ends.
    fn lock_project(&mut self, project: &str) -> Result<(), StoreError> {
        let err = self.err();
        self.run(async {
            super::execute(
                &self.stmts,
                &self.client,
                "SELECT pg_advisory_lock($1, hashtext($2))",
                &[&PROJECT_LOCK, &project],
            )
            .await
            .map_err(&err)?;
            Ok(())
        })
    }

    fn unlock_project(&mut self, project: &str) -> Result<(), StoreError> {
        let err = self.err();
        self.run(async {
            super::execute(
                &self.stmts,
                &self.client,
                "SELECT pg_advisory_unlock($1, hashtext($2))",
                &[&PROJECT_LOCK, &project],
            )
            .await
            .map_err(&err)?;
            Ok(())
        })
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
        let at = self.at.clone();
        let err = super::pg_err(&at);
        let rt = self.rt.clone();
        rt.block_on(async {
            let tx = self.client.transaction().await.map_err(&err)?;
            if !rows.is_empty() {
                let fps: Vec<&str> = rows.iter().map(|r| r.fingerprint.as_str()).collect();
                let first: Vec<Timestamp> = rows.iter().map(|r| r.first_seen).collect();
                let last: Vec<Timestamp> = rows.iter().map(|r| r.last_seen).collect();
                let resolved: Vec<Option<Timestamp>> =
                    rows.iter().map(|r| r.resolved_at).collect();
                let states: Vec<&str> = rows.iter().map(|r| r.state.as_str()).collect();
                super::execute(
                    &self.stmts,
                    &tx,
                    "INSERT INTO findings_seen (project, fingerprint, first_seen, last_seen, resolved_at, state)
                     SELECT DISTINCT ON (f) $1, f, a, b, c, s
                         FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[],
                             $5::timestamptz[], $6::text[])
                          WITH ORDINALITY AS u(f, a, b, c, s, o)
                     ORDER BY f, o DESC
                     ON CONFLICT (project, fingerprint) DO UPDATE SET
                       first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                       resolved_at = excluded.resolved_at, state = excluded.state",
                    &[&project, &fps, &first, &last, &resolved, &states],
                )
                .await
                .map_err(&err)?;
            }
            queue(&tx, messages, now).await.map_err(&err)?;
            if !held.is_empty() {
                let events: Vec<&str> = held.iter().map(|h| h.event.as_str()).collect();
                let items: Vec<&str> = held.iter().map(|h| h.item.as_str()).collect();
                // Ids follow the order given: `held` reads them back in that order.
                super::execute(
                    &self.stmts,
                    &tx,
                    "INSERT INTO digest_held (project, event, item, held_at)
                     SELECT $1, e, i, $4
                     FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(e, i, o)
                     ORDER BY o",
                    &[&project, &events, &items, &now],
                )
                .await
                .map_err(&err)?;
            }
            // A day's counts replace that day's earlier ones whole, so a severity that went
            // to zero (or a day with nothing open left) does not keep its old count.
            if let Some(d) = daily {
                let day = d.day;
                tx.execute(
                    "DELETE FROM daily_open WHERE project = $1 AND day = $2",
                    &[&project, &day],
                )
                .await
                .map_err(&err)?;
                let severities: Vec<&str> = d.counts.iter().map(|(l, _)| l.as_str()).collect();
                let open: Vec<i32> = d
                    .counts
                    .iter()
                    .map(|(_, n)| i32::try_from(*n).unwrap_or(i32::MAX))
                    .collect();
                tx.execute(
                    "INSERT INTO daily_open (project, day, severity, open)
                     SELECT $1, $2, s, n FROM unnest($3::text[], $4::int4[]) AS u(s, n)
                     ON CONFLICT (project, day, severity) DO UPDATE SET open = excluded.open",
                    &[&project, &day, &severities, &open],
                )
                .await
                .map_err(&err)?;
                tx.execute(
                    "INSERT INTO project_summary (project, summary) VALUES ($1, $2)
                     ON CONFLICT (project) DO UPDATE SET summary = excluded.summary",
                    &[&project, &d.summary],
                )
                .await
                .map_err(&err)?;
            } else if !rows.is_empty() {
                // Memory written without a summary: the old one would no longer be true, so
                // the overview reads this project's memory instead.
                tx.execute(
                    "DELETE FROM project_summary WHERE project = $1",
                    &[&project],
                )
                .await
                .map_err(&err)?;
            }
            tx.commit().await.map_err(&err)
        })
    }

    fn daily_open(
        &self,
        project: Option<&str>,
        since: jiff::civil::Date,
    ) -> Result<Vec<DailyOpen>, StoreError> {
        let err = self.err();
        let rows = self.run(async {
            self.client
                .query(
                    "SELECT day, severity, SUM(open)::bigint FROM daily_open
                     WHERE ($1::text IS NULL OR project = $1) AND day >= $2
                     GROUP BY day, severity ORDER BY day, severity",
                    &[&project, &since],
                )
                .await
                .map_err(&err)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let day: jiff::civil::Date = r.try_get(0).map_err(&err)?;
            let severity: &str = r.get(1);
            let open: i64 = r.get(2);
            let bad = |what: String| other_err(&self.at, format!("daily_open: {what}"));
            out.push(DailyOpen {
                day,
                severity: severity
                    .parse()
                    .map_err(|e| bad(format!("stored severity {severity:?}: {e}")))?,
                open: u32::try_from(open)
                    .map_err(|_| bad(format!("stored count {open} out of range")))?,
            });
        }
        // Most severe first within a day (the text order of the query is alphabetical).
        out.sort_by(|a, b| a.day.cmp(&b.day).then(b.severity.cmp(&a.severity)));
        Ok(out)
    }

    fn held(&self, project: &str) -> Result<Vec<HeldRow>, StoreError> {
        let err = self.err();
        self.run(async {
            let rows = super::query(
                &self.stmts,
                &self.client,
                "SELECT id, project, event, item, held_at FROM digest_held
                     WHERE project = $1 ORDER BY id",
                &[&project],
            )
            .await
            .map_err(&err)?;
            Ok(rows
                .iter()
                .map(|r| HeldRow {
                    id: r.get(0),
                    project: r.get(1),
                    event: r.get(2),
                    item: r.get(3),
                    held_at: r.get(4),
                })
                .collect())
        })
    }

    fn last_digest(&self, project: &str) -> Result<Option<Timestamp>, StoreError> {
        let err = self.err();
        self.run(async {
            let row = super::query_opt(
                &self.stmts,
                &self.client,
                "SELECT queued_at FROM digest_sent WHERE project = $1",
                &[&project],
            )
            .await
            .map_err(&err)?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn queue_digest(
        &mut self,
        project: &str,
        held_ids: &[i64],
        messages: &[NewMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let at = self.at.clone();
        let err = super::pg_err(&at);
        let rt = self.rt.clone();
        rt.block_on(async {
            let tx = self.client.transaction().await.map_err(&err)?;
            super::execute(
                &self.stmts,
                &tx,
                "DELETE FROM digest_held WHERE project = $1 AND id = ANY($2)",
                &[&project, &held_ids],
            )
            .await
            .map_err(&err)?;
            queue(&tx, messages, now).await.map_err(&err)?;
            super::execute(
                &self.stmts,
                &tx,
                "INSERT INTO digest_sent (project, queued_at) VALUES ($1, $2)
                 ON CONFLICT (project) DO UPDATE SET queued_at = excluded.queued_at",
                &[&project, &now],
            )
            .await
            .map_err(&err)?;
            tx.commit().await.map_err(&err)
        })
    }

    /// The due messages, claimed for this store handle for its lease: another process
    /// asking meanwhile skips them (`FOR UPDATE SKIP LOCKED`, then the claim), so two senders
    /// never deliver the same row. Marking a message sent or failed ends the claim; a claim
    /// whose holder died runs out and the message is due again. The lease runs on the
    /// server's clock, `now` (the run's time) decides what is due.
    fn due_messages(&self, now: Timestamp) -> Result<Vec<Message>, StoreError> {
        let err = self.err();
        let lease_us = i64::try_from(self.lease.as_micros()).unwrap_or(i64::MAX);
        self.run(async {
            let sql = format!(
                "WITH due AS (
                   SELECT id FROM outbox
                   WHERE sent_at IS NULL AND gave_up_at IS NULL
                     AND (next_attempt IS NULL OR next_attempt <= $1)
                     AND (claimed_until IS NULL OR claimed_until < clock_timestamp()
                          OR claimed_by = $2)
                   ORDER BY id
                   FOR UPDATE SKIP LOCKED)
                 UPDATE outbox o SET claimed_by = $2,
                     claimed_until = clock_timestamp() + make_interval(secs => $3::bigint / 1e6)
                 FROM due WHERE o.id = due.id
                 RETURNING {}",
                MESSAGE_COLUMNS
                    .split(", ")
                    .map(|c| format!("o.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let rows = self
                .client
                .query(&sql, &[&now, &self.claimer, &lease_us])
                .await
                .map_err(&err)?;
            let mut out: Vec<Message> = rows.iter().map(message_row).collect();
            // RETURNING has no order: oldest first, as promised.
            out.sort_by_key(|m| m.id);
            Ok(out)
        })
    }

    fn mark_sent(&mut self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        let err = self.err();
        self.run(async {
            super::execute(
                &self.stmts,
                &self.client,
                "UPDATE outbox SET sent_at = $2, attempts = attempts + 1, last_error = NULL,
                       claimed_by = NULL, claimed_until = NULL
                     WHERE id = $1",
                &[&id, &now],
            )
            .await
            .map_err(&err)?;
            Ok(())
        })
    }

    fn mark_failed(
        &mut self,
        id: i64,
        error: &str,
        next_attempt: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let err = self.err();
        let gave_up = if next_attempt.is_none() {
            Some(now)
        } else {
            None
        };
        self.run(async {
            super::execute(
                &self.stmts,
                &self.client,
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                       next_attempt = $3, gave_up_at = $4, claimed_by = NULL, claimed_until = NULL
                     WHERE id = $1",
                &[&id, &error, &next_attempt, &gave_up],
            )
            .await
            .map_err(&err)?;
            Ok(())
        })
    }

    fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let err = self.err();
        self.run(async {
            let r = super::query_one(
                &self.stmts,
                &self.client,
                "SELECT COUNT(*) FILTER (WHERE sent_at IS NOT NULL),
                            COUNT(*) FILTER (WHERE sent_at IS NULL AND gave_up_at IS NULL),
                            COUNT(*) FILTER (WHERE gave_up_at IS NOT NULL)
                     FROM outbox",
                &[],
            )
            .await
            .map_err(&err)?;
            Ok(OutboxCounts {
                sent: r.get(0),
                pending: r.get(1),
                given_up: r.get(2),
            })
        })
    }

    fn messages(&self) -> Result<Vec<(Message, MessageState)>, StoreError> {
        let err = self.err();
        self.run(async {
            let sql =
                format!("SELECT {MESSAGE_COLUMNS}, sent_at, gave_up_at FROM outbox ORDER BY id");
            let rows = self.client.query(&sql, &[]).await.map_err(&err)?;
            Ok(rows
                .iter()
                .map(|r| {
                    let state = match (r.get(7), r.get(8)) {
                        (Some(at), _) => MessageState::Sent(at),
                        (None, Some(at)) => MessageState::GivenUp(at),
                        (None, None) => MessageState::Pending,
                    };
                    (message_row(r), state)
                })
                .collect())
        })
    }

    fn run_started(&mut self, now: Timestamp) -> Result<i64, StoreError> {
        let err = self.err();
        self.run(async {
            let r = super::query_one(
                &self.stmts,
                &self.client,
                "INSERT INTO runs (started_at) VALUES ($1) RETURNING id",
                &[&now],
            )
            .await
            .map_err(&err)?;
            Ok(r.get(0))
        })
    }

    fn run_finished(
        &mut self,
        id: i64,
        now: Timestamp,
        outcome: RunOutcome,
        summary: &str,
    ) -> Result<(), StoreError> {
        let err = self.err();
        self.run(async {
            super::execute(
                &self.stmts,
                &self.client,
                "UPDATE runs SET finished_at = $2, outcome = $3, summary = $4 WHERE id = $1",
                &[&id, &now, &outcome.as_str(), &summary],
            )
            .await
            .map_err(&err)?;
            Ok(())
        })
    }

    fn last_run(&self) -> Result<Option<RunRow>, StoreError> {
        let err = self.err();
        let row = self.run(async {
            super::query_opt(
                &self.stmts,
                &self.client,
                "SELECT started_at, finished_at, outcome, summary FROM runs
                     ORDER BY id DESC LIMIT 1",
                &[],
            )
            .await
            .map_err(&err)
        })?;
        let Some(r) = row else { return Ok(None) };
        let outcome = match r.get::<_, Option<String>>(2) {
            None => None,
            Some(o) => Some(o.parse().map_err(|e: String| other_err(&self.at, e))?),
        };
        Ok(Some(RunRow {
            started_at: r.get(0),
            finished_at: r.get(1),
            outcome,
            summary: r.get(3),
        }))
    }

    fn health(&self) -> Result<Vec<HealthRow>, StoreError> {
        let err = self.err();
        self.run(async {
            let rows = super::query(
                &self.stmts,
                &self.client,
                "SELECT component, failures, first_failed_at, last_error, alerted_at
                     FROM health ORDER BY component",
                &[],
            )
            .await
            .map_err(&err)?;
            Ok(rows
                .iter()
                .map(|r| HealthRow {
                    component: r.get(0),
                    // A negative or huge count can only come from a hand edit: clamp it.
                    failures: u32::try_from(r.get::<_, i64>(1).max(0)).unwrap_or(u32::MAX),
                    first_failed_at: r.get(2),
                    last_error: r.get(3),
                    alerted_at: r.get(4),
                })
                .collect())
        })
    }

    fn record_health(
        &mut self,
        rows: &[HealthRow],
        messages: &[NewMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let at = self.at.clone();
        let err = super::pg_err(&at);
        let rt = self.rt.clone();
        rt.block_on(async {
            let tx = self.client.transaction().await.map_err(&err)?;
            for r in rows {
                super::execute(
                    &self.stmts,
                    &tx,
                    "INSERT INTO health (component, failures, first_failed_at, last_error, alerted_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (component) DO UPDATE SET
                       failures = excluded.failures, first_failed_at = excluded.first_failed_at,
                       last_error = excluded.last_error, alerted_at = excluded.alerted_at",
                    &[
                        &r.component,
                        &i64::from(r.failures),
                        &r.first_failed_at,
                        &r.last_error,
                        &r.alerted_at,
                    ],
                )
                .await
                .map_err(&err)?;
            }
            queue(&tx, messages, now).await.map_err(&err)?;
            tx.commit().await.map_err(&err)
        })
    }

    fn create_token(
        &mut self,
        project: &str,
        scope: crate::store::TokenScope,
        hash: &[u8],
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let err = self.err();
        self.run(async {
            let row = self
                .client
                .query_one(
                    "INSERT INTO api_tokens (project, scope, hash, created_at)
                     VALUES ($1, $2, $3, $4) RETURNING id",
                    &[&project, &scope.as_str(), &hash, &now],
                )
                .await
                .map_err(&err)?;
            Ok(row.get(0))
        })
    }

    fn tokens(&self) -> Result<Vec<crate::store::TokenRow>, StoreError> {
        let err = self.err();
        self.run(async {
            // Read on every API request: prepared once per connection.
            let rows = super::query(
                &self.stmts,
                &self.client,
                "SELECT id, project, scope, hash, created_at, revoked_at FROM api_tokens
                         ORDER BY id",
                &[],
            )
            .await
            .map_err(&err)?;
            rows.iter()
                .map(|r| {
                    let scope: &str = r.get(2);
                    Ok(crate::store::TokenRow {
                        id: r.get(0),
                        project: r.get(1),
                        scope: scope.parse().map_err(|e: String| {
                            super::other_err(
                                &self.at,
                                format!("api_tokens row {}: {e}", r.get::<_, i64>(0)),
                            )
                        })?,
                        hash: r.get(3),
                        created_at: r.get(4),
                        revoked_at: r.get(5),
                    })
                })
                .collect()
        })
    }

    fn revoke_token(&mut self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        let err = self.err();
        self.run(async {
            let n = self
                .client
                .execute(
                    "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[&id, &now],
                )
                .await
                .map_err(&err)?;
            Ok(n == 1)
        })
    }
}
