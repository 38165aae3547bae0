//! The health table: per component (feed, project, channel), how many runs in a row failed,
//! since when, the last error, and whether a failing alert was already queued.
//!
//! The state update and the health messages it raises are written in one transaction, like a
//! project's memory and its notifications: an alert is queued exactly once per streak, and a
//! crash before the commit simply replays the run's health step next time.

use super::{NewMessage, Store, StoreError, sqlite_err, time_col};
use jiff::Timestamp;
use rusqlite::params;

/// One component's health as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct HealthRow {
    /// `feed:NAME`, `project:NAME`, `channel:slack`, `channel:email`.
    pub component: String,
    /// Consecutive failed runs (0 when healthy).
    pub failures: u32,
    /// The first failure of the current streak.
    pub first_failed_at: Option<Timestamp>,
    /// The last failure's message (already scrubbed of secrets).
    pub last_error: Option<String>,
    /// When the failing alert of the current streak was queued.
    pub alerted_at: Option<Timestamp>,
}

impl Store {
    /// Every component's health, by component.
    pub(super) fn read_health(&self) -> Result<Vec<HealthRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT component, failures, first_failed_at, last_error, alerted_at
                 FROM health ORDER BY component",
            )
            .map_err(self.sq())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(HealthRow {
                    component: r.get(0)?,
                    // A negative or huge count can only come from a hand edit: clamp it.
                    failures: u32::try_from(r.get::<_, i64>(1)?.max(0)).unwrap_or(u32::MAX),
                    first_failed_at: time_col(r, 2)?,
                    last_error: r.get(3)?,
                    alerted_at: time_col(r, 4)?,
                })
            })
            .map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    /// Write the components' new health and queue the health messages, in one transaction.
    pub(super) fn write_health(
        &mut self,
        rows: &[HealthRow],
        messages: &[NewMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let sq = sqlite_err(&self.path);
        let tx = self.conn.transaction().map_err(sq)?;
        {
            let mut up = tx
                .prepare_cached(
                    "INSERT INTO health (component, failures, first_failed_at, last_error, alerted_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (component) DO UPDATE SET
                       failures = excluded.failures, first_failed_at = excluded.first_failed_at,
                       last_error = excluded.last_error, alerted_at = excluded.alerted_at",
                )
                .map_err(sq)?;
            for r in rows {
                up.execute(params![
                    r.component,
                    i64::from(r.failures),
                    r.first_failed_at.map(|t| t.to_string()),
                    r.last_error,
                    r.alerted_at.map(|t| t.to_string())
                ])
                .map_err(sq)?;
            }
            super::monitor::queue(&tx, messages, now).map_err(sq)?;
        }
        tx.commit().map_err(sq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MonitorState;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn health_rows_and_messages_are_written_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        assert!(s.health().unwrap().is_empty());
        let row = HealthRow {
            component: "feed:osv-dir:/x".into(),
            failures: 3,
            first_failed_at: Some(ts("2026-12-01T09:00:00Z")),
            last_error: Some("gone".into()),
            alerted_at: Some(ts("2026-12-01T11:00:00Z")),
        };
        let msg = NewMessage {
            project: "depwatch".into(),
            channel: "slack".into(),
            event: "health:failing".into(),
            payload: "{}".into(),
        };
        s.record_health(
            std::slice::from_ref(&row),
            &[msg],
            ts("2026-12-01T11:00:00Z"),
        )
        .unwrap();
        assert_eq!(s.health().unwrap(), vec![row.clone()]);
        assert_eq!(s.due_messages(ts("2026-12-01T11:00:00Z")).unwrap().len(), 1);
        // An update replaces the row.
        let healthy = HealthRow {
            component: row.component.clone(),
            ..Default::default()
        };
        s.record_health(
            std::slice::from_ref(&healthy),
            &[],
            ts("2026-12-01T12:00:00Z"),
        )
        .unwrap();
        assert_eq!(s.health().unwrap(), vec![healthy]);
    }
}
