//! `db copy`: every row of a store as plain values ([`Dump`]), read from SQLite in one read
//! transaction and written to PostgreSQL in one transaction ([`copy`]). Rows are copied as
//! stored (index rows included), ids too, so outbox and run ids, the draft-marker key and
//! `db check`'s view are the same on both sides. The whole store is held in memory: stores are
//! tens of MB (the full RustSec + PyPA corpus is about 25 MB).

use super::postgres::PgStore;
use super::{
    DailyOpen, HealthRow, HeldRow, Location, SeenRow, SourceState, Store, StoreError, time_col,
    time_col_req,
};
use crate::feeds::LoadError;
use jiff::Timestamp;

/// One queued message with everything the outbox keeps.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Row id (kept).
    pub id: i64,
    /// Project.
    pub project: String,
    /// Channel.
    pub channel: String,
    /// Event names.
    pub event: String,
    /// Payload.
    pub payload: String,
    /// When it was queued.
    pub created_at: Timestamp,
    /// Attempts so far.
    pub attempts: i64,
    /// When to retry.
    pub next_attempt: Option<Timestamp>,
    /// When it was sent.
    pub sent_at: Option<Timestamp>,
    /// Last failure.
    pub last_error: Option<String>,
    /// When it was given up.
    pub gave_up_at: Option<Timestamp>,
}

/// One recorded run.
#[derive(Debug, Clone)]
pub struct RunDump {
    /// Row id (kept).
    pub id: i64,
    /// Start.
    pub started_at: Timestamp,
    /// End.
    pub finished_at: Option<Timestamp>,
    /// Outcome as stored (`ok`, `partial`, `failed`).
    pub outcome: Option<String>,
    /// Report JSON.
    pub summary: Option<String>,
}

/// A whole store's rows.
#[derive(Debug, Clone, Default)]
pub struct Dump {
    /// Sources with their `resync` flag.
    pub sources: Vec<(SourceState, bool)>,
    /// (source, id, modified, withdrawn, record JSON).
    pub advisories: Vec<(String, String, String, bool, String)>,
    /// (ecosystem, name, source, id).
    pub affected: Vec<(String, String, String, String)>,
    /// (alias, source, id).
    pub aliases: Vec<(String, String, String)>,
    /// Load errors in stored order.
    pub load_errors: Vec<LoadError>,
    /// (name, ETag, fetched at, yanked JSON).
    pub crate_index: Vec<(String, Option<String>, Timestamp, String)>,
    /// (project, row).
    pub seen: Vec<(String, SeenRow)>,
    /// The outbox.
    pub outbox: Vec<OutboxRow>,
    /// Runs.
    pub runs: Vec<RunDump>,
    /// Health.
    pub health: Vec<HealthRow>,
    /// (name, value): the draft-marker key.
    pub secrets: Vec<(String, Vec<u8>)>,
    /// The exploit-data sets.
    pub signal_sets: Vec<SignalSetRow>,
    /// CISA KEV rows.
    pub kev: Vec<KevRow>,
    /// FIRST EPSS rows: (cve, score, percentile).
    pub epss: Vec<(String, f64, f64)>,
    /// Events held for digests (ids kept).
    pub held: Vec<HeldRow>,
    /// (project, when its last digest was queued).
    pub digest_sent: Vec<(String, Timestamp)>,
    /// API tokens of `depwatch serve` (hashes only; ids kept, so `token revoke` ids hold).
    pub tokens: Vec<super::TokenRow>,
    /// (project, count): the dashboard's daily history.
    pub daily_open: Vec<(String, DailyOpen)>,
    /// (project, summary JSON): the overview's summaries.
    pub project_summary: Vec<(String, String)>,
}

/// One exploit-data set (`signal_sets`).
#[derive(Debug, Clone)]
pub struct SignalSetRow {
    /// `kev` or `epss`.
    pub kind: String,
    /// The source that wrote it.
    pub source: String,
    /// KEV catalogVersion, EPSS model_version.
    pub version: Option<String>,
    /// KEV dateReleased, EPSS score date, as read.
    pub dated: Option<String>,
    /// Rows held.
    pub rows: i64,
}

/// One stored CISA KEV row.
#[derive(Debug, Clone)]
pub struct KevRow {
    /// The CVE id.
    pub cve: String,
    /// When CISA added it.
    pub date_added: jiff::civil::Date,
    /// The remediation due date.
    pub due_date: jiff::civil::Date,
    /// knownRansomwareCampaignUse.
    pub ransomware: String,
    /// Vendor or project.
    pub vendor_project: String,
    /// Product.
    pub product: String,
}

/// What a copy moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CopyCounts {
    /// Sources.
    pub sources: usize,
    /// Advisory records.
    pub records: usize,
    /// Remembered findings.
    pub findings: usize,
    /// Outbox messages.
    pub messages: usize,
    /// Runs.
    pub runs: usize,
    /// Health rows.
    pub health: usize,
    /// KEV and EPSS rows.
    pub exploit_rows: usize,
    /// Events held for digests.
    pub held: usize,
    /// API tokens (revoked ones too).
    pub tokens: usize,
    /// Rows of the dashboard's daily history.
    pub history: usize,
}

impl Dump {
    /// The counts a copy of this dump reports.
    pub fn counts(&self) -> CopyCounts {
        CopyCounts {
            sources: self.sources.len(),
            records: self.advisories.len(),
            findings: self.seen.len(),
            messages: self.outbox.len(),
            runs: self.runs.len(),
            health: self.health.len(),
            exploit_rows: self.kev.len() + self.epss.len(),
            held: self.held.len(),
            tokens: self.tokens.len(),
            history: self.daily_open.len(),
        }
    }
}

/// Copy the store at `from` (SQLite) into `to` (PostgreSQL) in one transaction on the target.
/// A target that holds data is refused unless `replace`, which empties it first (in the same
/// transaction). Blocks.
pub fn copy(from: &Location, to: &Location, replace: bool) -> Result<CopyCounts, StoreError> {
    let (Location::Sqlite(path), Location::Postgres(target)) = (from, to) else {
        return Err(StoreError::Postgres {
            at: to.to_string(),
            message: format!(
                "db copy goes from an SQLite store to a PostgreSQL one (--from sqlite:PATH \
                 --to postgres://...); got --from {from} --to {to}"
            ),
        });
    };
    if !path.exists() {
        return Err(StoreError::Io {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no store to copy"),
        });
    }
    let dump = Store::open_read_only(path)?.dump()?;
    let mut pg = PgStore::open(target, &super::runtime(target)?)?;
    pg.load(&dump, replace)?;
    Ok(dump.counts())
}

impl Store {
    /// Every row, read in one transaction (one snapshot).
    pub fn dump(&self) -> Result<Dump, StoreError> {
        let sq = self.sq();
        let tx = self.conn.unchecked_transaction().map_err(&sq)?;
        let mut d = Dump::default();
        macro_rules! rows {
            ($sql:expr, $f:expr) => {{
                let mut stmt = tx.prepare($sql).map_err(&sq)?;
                let rows = stmt.query_map([], $f).map_err(&sq)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(&sq)?
            }};
        }
        d.sources = rows!(
            "SELECT source, cursor, etag, last_modified, last_attempt, last_success, last_error,
                    records, resync FROM sources ORDER BY source",
            |r| Ok((super::row_to_state(r)?, r.get::<_, bool>(8)?))
        );
        d.advisories = rows!(
            "SELECT source, id, modified, withdrawn, record FROM advisories ORDER BY source, id",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        );
        d.affected = rows!("SELECT ecosystem, name, source, id FROM affected", |r| Ok(
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)
        ));
        d.aliases = rows!("SELECT alias, source, id FROM aliases", |r| Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?
        )));
        d.load_errors = rows!(
            "SELECT source, file, id, message FROM load_errors ORDER BY rowid",
            |r| Ok(LoadError {
                source: r.get(0)?,
                file: r.get(1)?,
                id: r.get(2)?,
                message: r.get(3)?,
            })
        );
        d.crate_index = rows!(
            "SELECT name, etag, fetched_at, yanked FROM crate_index",
            |r| Ok((r.get(0)?, r.get(1)?, time_col_req(r, 2)?, r.get(3)?))
        );
        d.seen = rows!(
            "SELECT project, fingerprint, first_seen, last_seen, resolved_at, state
             FROM findings_seen",
            |r| Ok((
                r.get(0)?,
                SeenRow {
                    fingerprint: r.get(1)?,
                    first_seen: time_col_req(r, 2)?,
                    last_seen: time_col_req(r, 3)?,
                    resolved_at: time_col(r, 4)?,
                    state: r.get(5)?,
                }
            ))
        );
        d.outbox = rows!(
            "SELECT id, project, channel, event, payload, created_at, attempts, next_attempt,
                    sent_at, last_error, gave_up_at FROM outbox ORDER BY id",
            |r| Ok(OutboxRow {
                id: r.get(0)?,
                project: r.get(1)?,
                channel: r.get(2)?,
                event: r.get(3)?,
                payload: r.get(4)?,
                created_at: time_col_req(r, 5)?,
                attempts: r.get(6)?,
                next_attempt: time_col(r, 7)?,
                sent_at: time_col(r, 8)?,
                last_error: r.get(9)?,
                gave_up_at: time_col(r, 10)?,
            })
        );
        d.runs = rows!(
            "SELECT id, started_at, finished_at, outcome, summary FROM runs ORDER BY id",
            |r| Ok(RunDump {
                id: r.get(0)?,
                started_at: time_col_req(r, 1)?,
                finished_at: time_col(r, 2)?,
                outcome: r.get(3)?,
                summary: r.get(4)?,
            })
        );
        d.health = self.read_health()?;
        // The key's table is created on first use, so an older store may not have it.
        let has_secrets: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'secrets')",
                [],
                |r| r.get(0),
            )
            .map_err(&sq)?;
        if has_secrets {
            d.secrets = rows!("SELECT name, value FROM secrets", |r| Ok((
                r.get(0)?,
                r.get(1)?
            )));
        }
        d.signal_sets = rows!(
            "SELECT kind, source, version, dated, rows FROM signal_sets ORDER BY kind",
            |r| Ok(SignalSetRow {
                kind: r.get(0)?,
                source: r.get(1)?,
                version: r.get(2)?,
                dated: r.get(3)?,
                rows: r.get(4)?,
            })
        );
        let kev: Vec<(String, String, String, String, String, String)> = rows!(
            "SELECT cve, date_added, due_date, ransomware, vendor_project, product FROM kev",
            |r| Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?
            ))
        );
        // A date that does not read is a damaged store: an error naming the row, not a copy
        // that silently differs.
        let date = |cve: &str, text: &str| {
            text.parse::<jiff::civil::Date>()
                .map_err(|_| StoreError::BadRecord {
                    path: self.path.clone(),
                    source_name: "kev".into(),
                    id: cve.into(),
                    message: format!("stored date {text:?} is not YYYY-MM-DD"),
                })
        };
        for (cve, added, due, ransomware, vendor_project, product) in kev {
            d.kev.push(KevRow {
                date_added: date(&cve, &added)?,
                due_date: date(&cve, &due)?,
                cve,
                ransomware,
                vendor_project,
                product,
            });
        }
        d.epss = rows!("SELECT cve, score, percentile FROM epss", |r| Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?
        )));
        d.held = rows!(
            "SELECT id, project, event, item, held_at FROM digest_held ORDER BY id",
            |r| Ok(HeldRow {
                id: r.get(0)?,
                project: r.get(1)?,
                event: r.get(2)?,
                item: r.get(3)?,
                held_at: time_col_req(r, 4)?,
            })
        );
        d.digest_sent = rows!("SELECT project, queued_at FROM digest_sent", |r| Ok((
            r.get(0)?,
            time_col_req(r, 1)?
        )));
        d.tokens = rows!(
            "SELECT id, project, scope, hash, created_at, revoked_at FROM api_tokens ORDER BY id",
            super::monitor::token_row
        );
        let daily: Vec<(String, String, String, i64)> = rows!(
            "SELECT project, day, severity, open FROM daily_open ORDER BY project, day, severity",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        );
        // As for KEV dates: a row that does not read is named, not copied differently.
        for (project, day, severity, open) in daily {
            let bad = |message: String| StoreError::BadRecord {
                path: self.path.clone(),
                source_name: "daily_open".into(),
                id: format!("{project} {day} {severity}"),
                message,
            };
            let row = DailyOpen {
                day: day
                    .parse()
                    .map_err(|_| bad(format!("stored day {day:?} is not YYYY-MM-DD")))?,
                severity: severity
                    .parse()
                    .map_err(|e| bad(format!("stored severity: {e}")))?,
                open: u32::try_from(open).map_err(|_| bad(format!("stored count {open}")))?,
            };
            d.daily_open.push((project, row));
        }
        d.project_summary = rows!("SELECT project, summary FROM project_summary", |r| Ok((
            r.get(0)?,
            r.get(1)?
        )));
        tx.commit().map_err(&sq)?;
        Ok(d)
    }
}
