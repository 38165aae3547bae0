//! The advisory store, the only module with SQL in it: the traits, the SQLite backend (this
//! file and its siblings), the PostgreSQL one (`postgres/`), choosing one from `--store`
//! (`backend.rs`: [`Location`], [`open`]) and `db copy` between them (`dump.rs`).
//!
//! What the rest of depwatch may rely on is the pair of traits in `traits.rs`,
//! [`AdvisoryStore`] and [`MonitorState`] (sync on purpose: see there), with typed rows; the
//! suite in `conformance.rs` says what any backend must do. [`Store`] implements both on one
//! SQLite file; opening it, `db stats` and `db check` are SQLite's own (inherent methods).
//! The store hands out raw OSV records; the matcher compiles and indexes them itself
//! ([`crate::database::Database::from_stored`]).
//!
//! It keeps every source's advisories as raw OSV JSON, with index tables by
//! (ecosystem, normalised package name) and by alias, plus per-source sync state, and the tables
//! the monitor needs later (findings seen per project, the notification outbox).
//!
//! Every sync of a source is one transaction: a failure or a kill in the middle leaves the
//! previous data intact and readable (SQLite's journal rolls the transaction back). The store
//! runs in WAL mode, so a scan reading inside one transaction sees one consistent snapshot while
//! a sync writes. `rusqlite` is blocking: async callers must run store calls on a blocking
//! thread.

mod backend;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod dump;
mod health;
mod monitor;
pub mod postgres;
mod schema;
mod traits;
pub mod yanked;

use crate::advisory::Advisory;
use crate::ecosystem::Ecosystem;
pub use crate::feeds::signal::ExploitSignals;
use crate::feeds::signal::{EpssMark, KevMark, SignalData};
use crate::feeds::{LoadError, SourceSummary};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A store error, naming the store file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("store {path}: {source}")]
    Sqlite {
        /// The store file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The store file's directory could not be created.
    #[error("store {path}: {source}")]
    Io {
        /// The store file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A store opened read-only needs a schema upgrade, which only a writer may apply.
    #[error(
        "store {path} has schema version {found}, older than this depwatch's ({supported}); \
         run `depwatch sync` once as a user who may write it"
    )]
    NeedsUpgrade {
        /// The store file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// The store was written by a newer depwatch.
    #[error(
        "store {path} has schema version {found}, newer than this depwatch understands ({supported}); upgrade depwatch"
    )]
    TooNew {
        /// The store file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// PostgreSQL failed, or a value it holds does not decode. `at` is the store's location
    /// without its password.
    #[error("store {at}: {message}")]
    Postgres {
        /// The store's location, as shown (no password).
        at: String,
        /// What went wrong.
        message: String,
    },
    /// A stored record could not be decoded (the store was edited by hand?).
    #[error("store {path}: record {source_name}/{id} is not valid OSV JSON: {message}")]
    BadRecord {
        /// The store file.
        path: PathBuf,
        /// The record's source.
        source_name: String,
        /// The record id.
        id: String,
        /// What is wrong.
        message: String,
    },
}

pub use crate::feeds::SourceState;
pub use backend::{Backend, Location, open, open_read_only, runtime};
pub use health::HealthRow;
pub use monitor::{
    DailyOpen, DayOpen, HeldRow, Message, NewHeld, NewMessage, OutboxCounts, RunRow, SeenRow,
};
pub use traits::{
    AdvisoryStore, ChangeGenerations, MessageState, MonitorState, ProjectInput, RunOutcome,
    StoredRecord, StoredRecords, TokenRow, TokenScope,
};

/// What a sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncOutcome {
    /// Records inserted or replaced.
    pub written: usize,
    /// Records removed.
    pub removed: usize,
    /// True when nothing had changed and nothing was written.
    pub unchanged: bool,
}

/// Counts for `depwatch db stats`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// The store file.
    pub path: PathBuf,
    /// Schema version.
    pub schema_version: i64,
    /// Size on disk in bytes (database plus WAL).
    pub bytes: u64,
    /// Records per ecosystem (`crates.io`, `PyPI`, other).
    pub by_ecosystem: std::collections::BTreeMap<String, i64>,
    /// Per-source state.
    pub sources: Vec<SourceState>,
    /// All records.
    pub records: i64,
}

/// The SQLite store: implements [`AdvisoryStore`] and [`MonitorState`] on one file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

impl Store {
    /// The default store path: `$DEPWATCH_STORE`, else the per-user data directory
    /// (`$XDG_DATA_HOME/depwatch/store.sqlite3`, `~/.local/share/depwatch/store.sqlite3`).
    pub fn default_path() -> PathBuf {
        if let Some(p) = std::env::var_os("DEPWATCH_STORE") {
            return PathBuf::from(p);
        }
        use etcetera::BaseStrategy;
        match etcetera::choose_base_strategy() {
            Ok(s) => s.data_dir().join("depwatch").join("store.sqlite3"),
            Err(_) => PathBuf::from("depwatch-store.sqlite3"),
        }
    }

    /// Open (creating and migrating as needed) the store at `path`. A new store's directory is
    /// created 0700 and its file 0600: it holds the outbox (messages not yet sent) and channel
    /// errors, and SQLite gives its `-wal` / `-shm` files the main file's mode.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let io = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io)?;
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
        let sq = sqlite_err(path);
        let conn = Connection::open(path).map_err(sq)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(sq)?;
        // Switching a new file to WAL needs an exclusive lock and SQLite does not call the busy
        // handler for it: another process creating the same store at this moment gets BUSY at
        // once, so retry for a while instead of failing.
        let mut tries = 0;
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 300 =>
                {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                r => break r.map_err(sq)?,
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sq)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sq)?;
        // Read pages through a memory map instead of copying them with read(2).
        conn.pragma_update(None, "mmap_size", 256i64 * 1024 * 1024)
            .map_err(sq)?;
        let mut store = Self {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Open the store at `path` for reading only (`scan`, `status`, `db stats`, `db check`):
    /// nothing is created, migrated or written, so these work on a store the user may read but
    /// not write (SQLITE_OPEN_READ_ONLY). A missing store reads as an empty one.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        use rusqlite::OpenFlags;
        let sq = sqlite_err(path);
        if !path.exists() {
            let mut store = Self {
                conn: Connection::open_in_memory().map_err(sq)?,
                path: path.to_path_buf(),
            };
            store.migrate()?;
            return Ok(store);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open = |flags: OpenFlags, target: &Path| -> Result<(Connection, i64), StoreError> {
            let conn = Connection::open_with_flags(target, flags).map_err(sq)?;
            conn.busy_timeout(Duration::from_secs(30)).map_err(sq)?;
            let version = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(sq)?;
            Ok((conn, version))
        };
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let (conn, version) = match open(flags, path) {
            Ok(c) => c,
            // A WAL store needs its `-shm` index, which a reader creates when no writer is
            // connected; in a directory it may not write, it cannot. With no `-wal` file the
            // main file holds every committed transaction, so it is read as immutable (a writer
            // that starts meanwhile appends to a new `-wal`, not to the file read here).
            Err(StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            }) if matches!(
                e.code,
                rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen
            ) && !Path::new(&wal).exists() =>
            {
                let uri = format!("file:{}?immutable=1", uri_path(&path.to_string_lossy()));
                open(flags | OpenFlags::SQLITE_OPEN_URI, Path::new(&uri))?
            }
            Err(e) => return Err(e),
        };
        conn.pragma_update(None, "mmap_size", 256i64 * 1024 * 1024)
            .map_err(sq)?;
        let latest = schema::MIGRATIONS.len() as i64;
        if version > latest || version < 0 {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: version,
                supported: latest,
            });
        }
        if version < latest {
            // An older store is upgraded where it may be written (as `open` always did).
            drop(conn);
            return Self::open(path).map_err(|_| StoreError::NeedsUpgrade {
                path: path.to_path_buf(),
                found: version,
                supported: latest,
            });
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn sq(&self) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
        sqlite_err(&self.path)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let sq = sqlite_err(&self.path);
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sq)?;
        let latest = schema::MIGRATIONS.len() as i64;
        if version > latest || version < 0 {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                supported: latest,
            });
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            // IMMEDIATE takes the write lock first and the version is read again under it, so
            // two processes opening a new store at once apply each migration exactly once.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sq)?;
            let now: i64 = tx
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(sq)?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(sql).map_err(sq)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(sq)?;
            tx.commit().map_err(sq)?;
        }
        Ok(())
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_source(
        &mut self,
        state: &SourceState,
        advisories: &[Advisory],
        errors: &[LoadError],
        replace: bool,
    ) -> Result<SyncOutcome, StoreError> {
        let sq = sqlite_err(&self.path);
        let source = state.source.as_str();
        let now = now_rfc3339();
        let tx = self.conn.transaction().map_err(sq)?;
        let mut outcome = SyncOutcome::default();
        // Records an older depwatch converted (migration 4) are rewritten even when their
        // `modified` is the same.
        let resync: bool = tx
            .query_row(
                "SELECT resync FROM sources WHERE source = ?1",
                params![source],
                |r| r.get(0),
            )
            .optional()
            .map_err(sq)?
            .unwrap_or(false);
        {
            let mut existing = std::collections::HashMap::new();
            {
                let mut stmt = tx
                    .prepare("SELECT id, modified FROM advisories WHERE source = ?1")
                    .map_err(sq)?;
                let rows = stmt
                    .query_map(params![source], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })
                    .map_err(sq)?;
                for row in rows {
                    let (id, modified) = row.map_err(sq)?;
                    existing.insert(id, modified);
                }
            }
            let mut del_adv = tx
                .prepare("DELETE FROM advisories WHERE source = ?1 AND id = ?2")
                .map_err(sq)?;
            let mut ins_adv = tx
                .prepare(
                    "INSERT INTO advisories (source, id, modified, withdrawn, record) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(sq)?;
            let mut ins_aff = tx
                .prepare("INSERT OR IGNORE INTO affected (ecosystem, name, source, id) VALUES (?1, ?2, ?3, ?4)")
                .map_err(sq)?;
            let mut ins_alias = tx
                .prepare("INSERT OR IGNORE INTO aliases (alias, source, id) VALUES (?1, ?2, ?3)")
                .map_err(sq)?;
            let mut converted_before: std::collections::HashSet<String> = if resync {
                existing.keys().cloned().collect()
            } else {
                Default::default()
            };
            // The packages whose records this sync writes or removes (old and new versions).
            let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
            let mut old_affected = tx
                .prepare("SELECT ecosystem, name FROM affected WHERE source = ?1 AND id = ?2")
                .map_err(sq)?;
            let mut note_old = |id: &str, touched: &mut BTreeSet<(String, String)>| {
                let rows = old_affected
                    .query_map(params![source, id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(sq)?;
                for row in rows {
                    touched.insert(row.map_err(sq)?);
                }
                Ok::<_, StoreError>(())
            };
            let mut seen = std::collections::HashSet::new();
            for adv in advisories {
                seen.insert(adv.id.as_str());
                // The same record twice in one batch: the newer `modified` wins.
                if let Some(old) = existing.get(&adv.id) {
                    // A record an older depwatch converted is rewritten once, whatever its
                    // `modified` says.
                    if !converted_before.remove(adv.id.as_str()) {
                        if old == &adv.modified {
                            continue;
                        }
                        if old.as_str() > adv.modified.as_str() && !replace {
                            // A record whose `modified` went backwards does not overwrite newer
                            // data.
                            continue;
                        }
                    }
                    note_old(&adv.id, &mut touched)?;
                    del_adv.execute(params![source, adv.id]).map_err(sq)?;
                }
                let json = serde_json::to_string(adv).unwrap_or_default();
                ins_adv
                    .execute(params![
                        source,
                        adv.id,
                        adv.modified,
                        adv.withdrawn.is_some(),
                        json
                    ])
                    .map_err(sq)?;
                let (affected, aliases) = index_rows(adv);
                for (eco, name) in affected {
                    touched.insert((eco.to_string(), name.clone()));
                    ins_aff
                        .execute(params![eco, name, source, adv.id])
                        .map_err(sq)?;
                }
                for alias in aliases {
                    ins_alias
                        .execute(params![alias, source, adv.id])
                        .map_err(sq)?;
                }
                existing.insert(adv.id.clone(), adv.modified.clone());
                outcome.written += 1;
            }
            if replace {
                for id in existing.keys() {
                    if !seen.contains(id.as_str()) {
                        note_old(id, &mut touched)?;
                        del_adv.execute(params![source, id]).map_err(sq)?;
                        outcome.removed += 1;
                    }
                }
            }
            mark_changed(&tx, &touched, false).map_err(sq)?;
            tx.execute("DELETE FROM load_errors WHERE source = ?1", params![source])
                .map_err(sq)?;
            let mut ins_err = tx
                .prepare(
                    "INSERT INTO load_errors (source, file, id, message) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sq)?;
            for e in errors {
                ins_err
                    .execute(params![source, e.file, e.id, e.message])
                    .map_err(sq)?;
            }
        }
        tx.execute(
            "INSERT INTO sources (source, cursor, etag, last_modified, last_attempt, last_success, last_error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, NULL)
             ON CONFLICT(source) DO UPDATE SET cursor = ?2, etag = ?3, last_modified = ?4,
                 last_attempt = ?5, last_success = ?5, last_error = NULL, resync = 0",
            params![source, state.cursor, state.etag, state.last_modified, now],
        )
        .map_err(sq)?;
        tx.execute(
            "UPDATE sources SET records = (SELECT COUNT(*) FROM advisories WHERE source = ?1) WHERE source = ?1",
            params![source],
        )
        .map_err(sq)?;
        tx.commit().map_err(sq)?;
        outcome.unchanged = outcome.written == 0 && outcome.removed == 0;
        Ok(outcome)
    }

    fn write_signal(
        &mut self,
        state: &SourceState,
        data: &SignalData,
    ) -> Result<SyncOutcome, StoreError> {
        let sq = sqlite_err(&self.path);
        let source = state.source.as_str();
        let kind = data.kind();
        let table = kind.as_str();
        let now = now_rfc3339();
        // One transaction: a scan sees the old set or the new one, never a mix.
        let tx = self.conn.transaction().map_err(sq)?;
        let mut outcome = SyncOutcome::default();
        {
            let old: std::collections::HashSet<String> = {
                let mut stmt = tx
                    .prepare(&format!("SELECT cve FROM {table}"))
                    .map_err(sq)?;
                let rows = stmt.query_map([], |r| r.get(0)).map_err(sq)?;
                rows.collect::<Result<_, _>>().map_err(sq)?
            };
            // The set another source wrote goes with that source's row: nothing of it is left.
            tx.execute(
                "DELETE FROM sources WHERE source IN
                   (SELECT source FROM signal_sets WHERE kind = ?1 AND source != ?2)",
                params![table, source],
            )
            .map_err(sq)?;
            tx.execute(&format!("DELETE FROM {table}"), [])
                .map_err(sq)?;
            let mut new = std::collections::HashSet::new();
            let (version, dated) = match data {
                SignalData::Kev(k) => {
                    let mut ins = tx
                        .prepare(
                            "INSERT OR REPLACE INTO kev (cve, date_added, due_date, ransomware, vendor_project, product)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )
                        .map_err(sq)?;
                    for e in &k.entries {
                        ins.execute(params![
                            e.cve,
                            e.date_added.to_string(),
                            e.due_date.to_string(),
                            e.known_ransomware_campaign_use,
                            e.vendor_project,
                            e.product
                        ])
                        .map_err(sq)?;
                        new.insert(e.cve.as_str());
                    }
                    (Some(k.catalog_version.clone()), k.date_released.clone())
                }
                SignalData::Epss(f) => {
                    // One prepared statement, one transaction: 313k rows in well under a second.
                    let mut ins = tx
                        .prepare("INSERT OR REPLACE INTO epss (cve, score, percentile) VALUES (?1, ?2, ?3)")
                        .map_err(sq)?;
                    for r in &f.rows {
                        ins.execute(params![r.cve, r.score, r.percentile])
                            .map_err(sq)?;
                        new.insert(r.cve.as_str());
                    }
                    (f.model_version.clone(), f.score_date.map(|d| d.to_string()))
                }
            };
            outcome.written = new.len();
            outcome.removed = old.iter().filter(|c| !new.contains(c.as_str())).count();
            // Any project's findings may carry a KEV or EPSS mark: every project is rescanned
            // (a replacement is daily at most; telling which CVEs changed is not worth it).
            mark_changed(&tx, &BTreeSet::new(), true).map_err(sq)?;
            tx.execute(
                "INSERT OR REPLACE INTO signal_sets (kind, source, version, dated, rows)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![table, source, version, dated, new.len() as i64],
            )
            .map_err(sq)?;
            tx.execute(
                "INSERT INTO sources (source, cursor, etag, last_modified, last_attempt, last_success, last_error, records)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, NULL, ?6)
                 ON CONFLICT(source) DO UPDATE SET cursor = ?2, etag = ?3, last_modified = ?4,
                     last_attempt = ?5, last_success = ?5, last_error = NULL, resync = 0, records = ?6",
                params![
                    source,
                    state.cursor,
                    state.etag,
                    state.last_modified,
                    now,
                    new.len() as i64
                ],
            )
            .map_err(sq)?;
        }
        tx.commit().map_err(sq)?;
        outcome.unchanged = false;
        Ok(outcome)
    }

    fn read_signals(&self, cves: &[String]) -> Result<ExploitSignals, StoreError> {
        let sq = self.sq();
        let mut out = ExploitSignals::default();
        if cves.is_empty() {
            return Ok(out);
        }
        let set = |kind: &str| -> Result<Option<SetRow>, StoreError> {
            self.conn
                .query_row(
                    "SELECT source, version, dated FROM signal_sets WHERE kind = ?1",
                    params![kind],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(sq)
        };
        let bad = |what: &str, v: &str| StoreError::BadRecord {
            path: self.path.clone(),
            source_name: what.into(),
            id: v.into(),
            message: "stored date is not YYYY-MM-DD".into(),
        };
        if let Some((source, version, _)) = set("kev")? {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT date_added, due_date, ransomware FROM kev WHERE cve = ?1")
                .map_err(sq)?;
            for cve in cves {
                let row: Option<(String, String, String)> = stmt
                    .query_row(params![cve], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
                    .map_err(sq)?;
                if let Some((added, due, ransomware)) = row {
                    out.kev.insert(
                        cve.clone(),
                        KevMark {
                            cve: cve.clone(),
                            date_added: added.parse().map_err(|_| bad("kev", &added))?,
                            due_date: due.parse().map_err(|_| bad("kev", &due))?,
                            known_ransomware_campaign_use: ransomware,
                            catalog_version: version.clone().unwrap_or_default(),
                            source: source.clone(),
                        },
                    );
                }
            }
        }
        if let Some((source, version, dated)) = set("epss")? {
            let score_date = match &dated {
                Some(d) => Some(d.parse().map_err(|_| bad("epss", d))?),
                None => None,
            };
            let mut stmt = self
                .conn
                .prepare_cached("SELECT score, percentile FROM epss WHERE cve = ?1")
                .map_err(sq)?;
            for cve in cves {
                let row: Option<(f64, f64)> = stmt
                    .query_row(params![cve], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(sq)?;
                if let Some((score, percentile)) = row {
                    out.epss.insert(
                        cve.clone(),
                        EpssMark {
                            cve: cve.clone(),
                            score,
                            percentile,
                            score_date,
                            model_version: version.clone(),
                            source: source.clone(),
                        },
                    );
                }
            }
        }
        Ok(out)
    }

    /// Counts per ecosystem and per source, and the size on disk.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        let sq = self.sq();
        let mut by_ecosystem = std::collections::BTreeMap::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT ecosystem, COUNT(DISTINCT source || char(0) || id) FROM affected GROUP BY ecosystem")
                .map_err(&sq)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(&sq)?;
            for r in rows {
                let (k, v) = r.map_err(&sq)?;
                by_ecosystem.insert(k, v);
            }
        }
        let records: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM advisories", [], |r| r.get(0))
            .map_err(&sq)?;
        let schema_version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(&sq)?;
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        Ok(Stats {
            path: self.path.clone(),
            schema_version,
            bytes: size(&self.path) + size(Path::new(&wal)),
            by_ecosystem,
            sources: self.sources()?,
            records,
        })
    }

    /// `PRAGMA integrity_check` plus the store's own invariants. Returns the problems found
    /// (empty when the store is sound).
    pub fn check(&self) -> Result<Vec<String>, StoreError> {
        let sq = self.sq();
        let mut problems = Vec::new();
        {
            let mut stmt = self.conn.prepare("PRAGMA integrity_check").map_err(&sq)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(&sq)?;
            for r in rows {
                let line = r.map_err(&sq)?;
                if line != "ok" {
                    problems.push(format!("integrity_check: {line}"));
                }
            }
        }
        let invariants: [(&str, &str); 7] = [
            (
                "index rows pointing at no record",
                "SELECT COUNT(*) FROM affected f LEFT JOIN advisories a ON a.source = f.source AND a.id = f.id WHERE a.id IS NULL",
            ),
            (
                "alias rows pointing at no record",
                "SELECT COUNT(*) FROM aliases l LEFT JOIN advisories a ON a.source = l.source AND a.id = l.id WHERE a.id IS NULL",
            ),
            (
                "records not valid JSON",
                "SELECT COUNT(*) FROM advisories WHERE json_valid(record) = 0",
            ),
            (
                "records whose stored id differs from the JSON id",
                "SELECT COUNT(*) FROM advisories WHERE json_extract(record, '$.id') IS NOT id",
            ),
            (
                "sources whose record count is wrong",
                "SELECT COUNT(*) FROM sources s WHERE s.records != (SELECT COUNT(*) FROM advisories a WHERE a.source = s.source)
                   AND s.source NOT IN (SELECT source FROM signal_sets)",
            ),
            (
                "records of a source with no sync state",
                "SELECT COUNT(*) FROM advisories a LEFT JOIN sources s ON s.source = a.source WHERE s.source IS NULL",
            ),
            (
                "daily history rows that do not read (day, severity or count)",
                "SELECT COUNT(*) FROM daily_open WHERE date(day) IS NOT day OR open < 0
                   OR severity NOT IN ('critical', 'high', 'medium', 'low', 'unknown')",
            ),
        ];
        for (what, sql) in invariants {
            let n: i64 = self.conn.query_row(sql, [], |r| r.get(0)).map_err(&sq)?;
            if n > 0 {
                problems.push(format!("{n} {what}"));
            }
        }
        problems.extend(self.check_index()?);
        Ok(problems)
    }

    /// The index tables against the raw records: every row a sync would write for a record
    /// must be there, and no other. A missing `affected` row makes scans miss the record's
    /// findings while everything else looks sound.
    fn check_index(&self) -> Result<Vec<String>, StoreError> {
        type Key = (String, String, String, String);
        let sq = self.sq();
        let read_keys = |sql: &str, n: usize| -> Result<BTreeSet<Key>, StoreError> {
            let mut stmt = self.conn.prepare(sql).map_err(&sq)?;
            let mut rows = stmt.query([]).map_err(&sq)?;
            let mut keys = BTreeSet::new();
            while let Some(r) = rows.next().map_err(&sq)? {
                // A value that is not text (a damaged store) is shown lossily, never matched.
                let text = |i: usize| -> Result<String, StoreError> {
                    if i >= n {
                        return Ok(String::new());
                    }
                    let v = r.get_ref(i).map_err(&sq)?;
                    Ok(match v.as_str() {
                        Ok(t) => t.to_string(),
                        Err(_) => format!("{v:?}"),
                    })
                };
                keys.insert((text(0)?, text(1)?, text(2)?, text(3)?));
            }
            Ok(keys)
        };
        let stored_affected = read_keys("SELECT source, id, ecosystem, name FROM affected", 4)?;
        let stored_aliases = read_keys("SELECT source, id, alias FROM aliases", 3)?;
        let mut records = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT source, id, record FROM advisories")
                .map_err(&sq)?;
            let mut rows = stmt.query([]).map_err(&sq)?;
            while let Some(r) = rows.next().map_err(&sq)? {
                let (Ok(source), Ok(id), Ok(json)) = (
                    r.get::<_, String>(0),
                    r.get::<_, String>(1),
                    r.get::<_, String>(2),
                ) else {
                    continue; // not text: counted by the invariants above
                };
                records.push((source, id, json));
            }
        }
        Ok(index_problems(&records, &stored_affected, &stored_aliases))
    }
}

/// An index row as `db check` compares them: (source, id, ecosystem or alias, name or "").
pub(crate) type IndexKey = (String, String, String, String);

/// The index tables against the raw records (source, id, JSON), for every backend: every row
/// a sync would write for a record must be there, and no other. A missing `affected` row makes
/// scans miss the record's findings while everything else looks sound.
pub(crate) fn index_problems(
    records: &[(String, String, String)],
    stored_affected: &BTreeSet<IndexKey>,
    stored_aliases: &BTreeSet<IndexKey>,
) -> Vec<String> {
    type Key = IndexKey;
    let mut want_affected = BTreeSet::new();
    let mut want_aliases = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for (source, id, json) in records {
        keys.insert((source.clone(), id.clone()));
        // A record that does not decode is reported by the JSON invariants (or, when
        // valid JSON but not OSV, by a scan); its index cannot be recomputed.
        let Ok(adv) = serde_json::from_str::<Advisory>(json) else {
            continue;
        };
        let (affected, aliases) = index_rows(&adv);
        for (eco, name) in affected {
            want_affected.insert((source.clone(), id.clone(), eco.to_string(), name));
        }
        for alias in aliases {
            want_aliases.insert((source.clone(), id.clone(), alias.to_string(), String::new()));
        }
    }
    let records = keys;
    {
        let mut problems = Vec::new();
        let mut report = |what: &str, diff: Vec<&Key>, show: &dyn Fn(&Key) -> String| {
            if diff.is_empty() {
                return;
            }
            let shown: Vec<String> = diff.iter().take(5).map(|k| show(k)).collect();
            let more = if diff.len() > 5 {
                format!(", and {} more", diff.len() - 5)
            } else {
                String::new()
            };
            problems.push(format!("{} {what}: {}{more}", diff.len(), shown.join("; ")));
        };
        // Rows pointing at no record are counted by the invariants already.
        let has_record = |k: &&Key| records.contains(&(k.0.clone(), k.1.clone()));
        let package = |k: &Key| format!("{} {} {} in {}", k.1, k.2, k.3, k.0);
        let alias = |k: &Key| format!("{} as {} in {}", k.1, k.2, k.0);
        report(
            "package index rows missing (scans of these packages miss the record)",
            want_affected.difference(stored_affected).collect(),
            &package,
        );
        report(
            "package index rows that their record does not name",
            stored_affected
                .difference(&want_affected)
                .filter(has_record)
                .collect(),
            &package,
        );
        report(
            "alias index rows missing",
            want_aliases.difference(stored_aliases).collect(),
            &alias,
        );
        report(
            "alias index rows that their record does not name",
            stored_aliases
                .difference(&want_aliases)
                .filter(has_record)
                .collect(),
            &alias,
        );
        problems
    }
}

impl AdvisoryStore for Store {
    /// The sync state of a source, if it was ever synced.
    fn source_state(&self, source: &str) -> Result<Option<SourceState>, StoreError> {
        self.conn
            .query_row(
                "SELECT source, cursor, etag, last_modified, last_attempt, last_success, last_error, records
                 FROM sources WHERE source = ?1",
                params![source],
                row_to_state,
            )
            .optional()
            .map_err(self.sq())
    }

    /// Every source's state, by name.
    fn sources_needing_resync(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT source FROM sources WHERE resync != 0 ORDER BY source")
            .map_err(self.sq())?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    fn sources(&self) -> Result<Vec<SourceState>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT source, cursor, etag, last_modified, last_attempt, last_success, last_error, records
                 FROM sources ORDER BY source",
            )
            .map_err(self.sq())?;
        let rows = stmt.query_map([], row_to_state).map_err(self.sq())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sq())
    }

    /// Record a failed attempt for a source; its data is left as it was.
    fn record_failure(&mut self, source: &str, error: &str) -> Result<(), StoreError> {
        let now = now_rfc3339();
        self.conn
            .execute(
                "INSERT INTO sources (source, last_attempt, last_error) VALUES (?1, ?2, ?3)
                 ON CONFLICT(source) DO UPDATE SET last_attempt = ?2, last_error = ?3",
                params![source, now, error],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    /// Record a successful check that found nothing new (e.g. HTTP 304): only the
    /// source's timestamps change.
    fn record_unchanged(&mut self, source: &str) -> Result<(), StoreError> {
        let now = now_rfc3339();
        self.conn
            .execute(
                "INSERT INTO sources (source, last_attempt, last_success) VALUES (?1, ?2, ?2)
                 ON CONFLICT(source) DO UPDATE SET last_attempt = ?2, last_success = ?2, last_error = NULL",
                params![source, now],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    /// Replace everything a source holds with `advisories`, in one transaction, and set its
    /// state. Records whose `modified` did not change are left untouched.
    fn replace_source(
        &mut self,
        state: &SourceState,
        advisories: &[Advisory],
        errors: &[LoadError],
    ) -> Result<SyncOutcome, StoreError> {
        self.write_source(state, advisories, errors, true)
    }

    /// Insert or update `advisories` of a source (an incremental sync), in one transaction.
    fn upsert_source(
        &mut self,
        state: &SourceState,
        advisories: &[Advisory],
        errors: &[LoadError],
    ) -> Result<SyncOutcome, StoreError> {
        self.write_source(state, advisories, errors, false)
    }

    fn replace_signal(
        &mut self,
        state: &SourceState,
        data: &SignalData,
    ) -> Result<SyncOutcome, StoreError> {
        self.write_signal(state, data)
    }

    fn signals_for(&self, cves: &[String]) -> Result<ExploitSignals, StoreError> {
        self.read_signals(cves)
    }

    fn records_for(
        &mut self,
        packages: &[(Ecosystem, String)],
    ) -> Result<StoredRecords, StoreError> {
        let sq = sqlite_err(&self.path);
        let tx = self.conn.transaction().map_err(sq)?;
        let mut out = StoredRecords::default();
        {
            let keys = affected_keys(&tx, packages).map_err(sq)?;
            let mut get = tx
                .prepare_cached("SELECT record FROM advisories WHERE source = ?1 AND id = ?2")
                .map_err(sq)?;
            for (source, id) in keys {
                let json: String = get
                    .query_row(params![source, id], |r| r.get(0))
                    .map_err(sq)?;
                // A record that is not valid JSON is a damaged store: an error naming it.
                let advisory: Advisory =
                    serde_json::from_str(&json).map_err(|e| StoreError::BadRecord {
                        path: self.path.clone(),
                        source_name: source.clone(),
                        id: id.clone(),
                        message: e.to_string(),
                    })?;
                out.records.push(StoredRecord { source, advisory });
            }
            out.yanked = yanked::read_yanked(&tx).map_err(sq)?;
            let mut src = tx
                .prepare(
                    "SELECT s.source, s.records,
                            (SELECT COUNT(*) FROM load_errors e WHERE e.source = s.source)
                     FROM sources s WHERE s.last_success IS NOT NULL
                       AND s.source NOT IN (SELECT source FROM signal_sets) ORDER BY s.source",
                )
                .map_err(sq)?;
            let rows = src
                .query_map([], |r| {
                    Ok(SourceSummary {
                        source: r.get(0)?,
                        advisories: r.get::<_, i64>(1)? as usize,
                        skipped: r.get::<_, i64>(2)? as usize,
                    })
                })
                .map_err(sq)?;
            for r in rows {
                out.sources.push(r.map_err(sq)?);
            }
            let mut errs = tx
                .prepare("SELECT source, file, id, message FROM load_errors ORDER BY source, file")
                .map_err(sq)?;
            let rows = errs
                .query_map([], |r| {
                    Ok(LoadError {
                        source: r.get(0)?,
                        file: r.get(1)?,
                        id: r.get(2)?,
                        message: r.get(3)?,
                    })
                })
                .map_err(sq)?;
            for r in rows {
                out.load_errors.push(r.map_err(sq)?);
            }
        }
        tx.commit().map_err(sq)?;
        Ok(out)
    }

    fn withdrawn(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
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

    fn change_generations(&self) -> Result<Option<ChangeGenerations>, StoreError> {
        let sq = self.sq();
        let mut out = ChangeGenerations::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT kind, generation FROM change_generation")
            .map_err(sq)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(sq)?;
        for row in rows {
            match row.map_err(sq)? {
                (k, g) if k == "current" => out.current = g,
                (k, g) if k == "everything" => out.everything = g,
                _ => {}
            }
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT ecosystem, name, generation FROM package_changes")
            .map_err(sq)?;
        let rows = stmt
            .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
            .map_err(sq)?;
        for row in rows {
            let (k, g) = row.map_err(sq)?;
            out.packages.insert(k, g);
        }
        Ok(Some(out))
    }

    fn crate_index_cached(&self, name: &str) -> Result<Option<yanked::Cached>, StoreError> {
        self.read_crate_index(name)
    }

    fn put_crate_indexes(
        &mut self,
        entries: &[(String, Option<String>, Vec<String>)],
    ) -> Result<(), StoreError> {
        self.write_crate_indexes(entries)
    }
}

/// Bump the store's change generation and stamp `packages` (ecosystem, normalised name) with
/// it, and `everything` too when `everything`; in the caller's transaction. Nothing touched,
/// nothing bumped.
pub(super) fn mark_changed(
    tx: &Connection,
    packages: &BTreeSet<(String, String)>,
    everything: bool,
) -> rusqlite::Result<()> {
    if packages.is_empty() && !everything {
        return Ok(());
    }
    let generation: i64 = tx.query_row(
        "INSERT INTO change_generation (kind, generation) VALUES ('current', 1)
         ON CONFLICT(kind) DO UPDATE SET generation = generation + 1 RETURNING generation",
        [],
        |r| r.get(0),
    )?;
    if everything {
        tx.execute(
            "INSERT OR REPLACE INTO change_generation (kind, generation) VALUES ('everything', ?1)",
            params![generation],
        )?;
    }
    let mut put = tx.prepare_cached(
        "INSERT OR REPLACE INTO package_changes (ecosystem, name, generation) VALUES (?1, ?2, ?3)",
    )?;
    for (eco, name) in packages {
        put.execute(params![eco, name, generation])?;
    }
    Ok(())
}

/// A row of `signal_sets`: source, version, date.
type SetRow = (String, Option<String>, Option<String>);

/// The index rows a record gets: its (ecosystem, normalised name) pairs for `affected` and its
/// ids for `aliases`. One function for the sync and for `db check`, so the check verifies
/// exactly what a sync writes.
fn index_rows(adv: &Advisory) -> (BTreeSet<(&'static str, String)>, BTreeSet<&str>) {
    let affected = adv
        .affected
        .iter()
        .filter_map(|a| {
            let eco = Ecosystem::from_osv(&a.package.ecosystem)?;
            Some((eco.as_osv(), eco.normalize_name(&a.package.name)))
        })
        .collect();
    let aliases = std::iter::once(&adv.id)
        .chain(adv.aliases.iter())
        .map(String::as_str)
        .collect();
    (affected, aliases)
}

/// A file path as the path part of an SQLite URI: `%`, `?` and `#` percent-encoded.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// Wrap a SQLite error with the store's path. Takes the path, not the store, so a method can
/// hold it while it borrows the connection mutably for a transaction.
fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

/// A stored time (RFC 3339 text, as `Timestamp`'s `Display` writes it), or NULL. A value that
/// does not parse (a hand edit) is an error naming it, not "never".
fn time_col(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Timestamp>> {
    let Some(text) = r.get::<_, Option<String>>(i)? else {
        return Ok(None);
    };
    text.parse().map(Some).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("stored time {text:?} is not RFC 3339: {e}").into(),
        )
    })
}

/// [`time_col`] for a NOT NULL column.
fn time_col_req(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Timestamp> {
    time_col(r, i)?.ok_or(rusqlite::Error::InvalidColumnType(
        i,
        "NULL time".into(),
        rusqlite::types::Type::Null,
    ))
}

fn row_to_state(r: &rusqlite::Row<'_>) -> rusqlite::Result<SourceState> {
    Ok(SourceState {
        source: r.get(0)?,
        cursor: r.get(1)?,
        etag: r.get(2)?,
        last_modified: r.get(3)?,
        last_attempt: time_col(r, 4)?,
        last_success: time_col(r, 5)?,
        last_error: r.get(6)?,
        records: r.get(7)?,
    })
}

/// Above this many names of one ecosystem, reading all of its `affected` rows once (a few
/// thousand) is cheaper than one index probe per name: 0.3 ms instead of 0.9 ms for the 750
/// crates of uv's Cargo.lock.
const PROBE_LIMIT: usize = 64;

/// The (source, id) of every record that affects one of `packages`, sorted.
fn affected_keys(
    conn: &Connection,
    packages: &[(Ecosystem, String)],
) -> rusqlite::Result<std::collections::BTreeSet<(String, String)>> {
    let mut keys = std::collections::BTreeSet::new();
    let mut by_ecosystem: std::collections::BTreeMap<&str, std::collections::HashSet<&str>> =
        std::collections::BTreeMap::new();
    for (eco, name) in packages {
        by_ecosystem
            .entry(eco.as_osv())
            .or_default()
            .insert(name.as_str());
    }
    for (eco, names) in by_ecosystem {
        if names.len() > PROBE_LIMIT {
            let mut all =
                conn.prepare_cached("SELECT name, source, id FROM affected WHERE ecosystem = ?1")?;
            let mut rows = all.query(params![eco])?;
            while let Some(r) = rows.next()? {
                // A name that is not text (only in a damaged store) matches nothing, as when
                // probing by name.
                if r.get_ref(0)?.as_str().is_ok_and(|n| names.contains(n)) {
                    keys.insert((r.get(1)?, r.get(2)?));
                }
            }
        } else {
            let mut lookup = conn.prepare_cached(
                "SELECT source, id FROM affected WHERE ecosystem = ?1 AND name = ?2",
            )?;
            for name in names {
                let mut rows = lookup.query(params![eco, name])?;
                while let Some(r) = rows.next()? {
                    keys.insert((r.get(0)?, r.get(1)?));
                }
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adv(id: &str, modified: &str, summary: &str) -> Advisory {
        Advisory {
            id: id.into(),
            modified: modified.into(),
            summary: Some(summary.into()),
            ..Default::default()
        }
    }

    fn state(source: &str) -> SourceState {
        SourceState {
            source: source.into(),
            ..Default::default()
        }
    }

    #[test]
    fn reading_a_whole_ecosystem_finds_what_probing_finds() {
        use crate::advisory::{Affected, Package};
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        let records: Vec<Advisory> = (0..120)
            .map(|i| Advisory {
                affected: vec![Affected {
                    package: Package {
                        ecosystem: if i % 3 == 0 { "PyPI" } else { "crates.io" }.into(),
                        name: format!("pkg{}", i % 40),
                        ..Default::default()
                    },
                    ..Default::default()
                }],
                ..adv(&format!("R-{i}"), "t1", "x")
            })
            .collect();
        s.replace_source(&state("a"), &records, &[]).unwrap();
        let few: Vec<(Ecosystem, String)> = [
            (Ecosystem::CratesIo, "pkg1"),
            (Ecosystem::CratesIo, "pkg2"),
            (Ecosystem::CratesIo, "pkg3"),
            (Ecosystem::PyPI, "pkg3"),
            (Ecosystem::CratesIo, "absent"),
        ]
        .into_iter()
        .map(|(e, n)| (e, n.to_string()))
        .collect();
        let mut many = few.clone();
        many.extend((0..PROBE_LIMIT).map(|i| (Ecosystem::CratesIo, format!("absent{i}"))));
        // A damaged row whose name is not text is skipped by both, not an error.
        s.conn
            .execute(
                "INSERT INTO affected VALUES ('crates.io', x'ff00', 'a', 'R-1')",
                [],
            )
            .unwrap();
        let probed = affected_keys(&s.conn, &few).unwrap();
        let scanned = affected_keys(&s.conn, &many).unwrap();
        // Records 1, 41, 2, 82, 43 and 83 name pkg1 to pkg3 on crates.io; record 3 names
        // PyPI's pkg3 (81 and 42 are PyPI records of names asked for on crates.io only).
        assert_eq!(probed.len(), 7, "{probed:?}");
        assert_eq!(probed, scanned);
    }

    #[test]
    fn an_older_modified_never_overwrites_newer_data() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        let o = s
            .upsert_source(
                &state("f"),
                &[adv("X-1", "2026-02-01T00:00:00Z", "new")],
                &[],
            )
            .unwrap();
        assert_eq!(o.written, 1);
        // The feed sends the record again with a `modified` that went backwards.
        let o = s
            .upsert_source(
                &state("f"),
                &[adv("X-1", "2026-01-01T00:00:00Z", "old")],
                &[],
            )
            .unwrap();
        assert!(o.unchanged);
        let summary: String = s
            .conn
            .query_row(
                "SELECT json_extract(record, '$.summary') FROM advisories WHERE id = 'X-1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(summary, "new");
        // Same `modified`: nothing written.
        let o = s
            .upsert_source(
                &state("f"),
                &[adv("X-1", "2026-02-01T00:00:00Z", "new")],
                &[],
            )
            .unwrap();
        assert!(o.unchanged);
        assert!(s.check().unwrap().is_empty());
    }

    #[test]
    fn replace_removes_what_the_source_no_longer_has_and_keeps_other_sources() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        s.replace_source(
            &state("a"),
            &[adv("A-1", "t1", "x"), adv("A-2", "t1", "y")],
            &[],
        )
        .unwrap();
        s.replace_source(&state("b"), &[adv("B-1", "t1", "z")], &[])
            .unwrap();
        let o = s
            .replace_source(&state("a"), &[adv("A-2", "t1", "y")], &[])
            .unwrap();
        assert_eq!((o.written, o.removed), (0, 1));
        let st = s.stats().unwrap();
        assert_eq!(st.records, 2);
        assert!(s.check().unwrap().is_empty());
    }

    /// Migration 4 on a store an older depwatch wrote: the source loses what lets a sync skip
    /// work, and its next write rewrites records whose `modified` did not change, once.
    #[test]
    fn an_older_conversion_is_rewritten_once_by_the_next_sync() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite3");
        let st = SourceState {
            cursor: Some("listing-fnv1a:1".into()),
            etag: Some("\"e\"".into()),
            ..state("a")
        };
        {
            let mut s = Store::open(&p).unwrap();
            s.replace_source(&st, &[adv("A-1", "t1", "old form")], &[])
                .unwrap();
            assert!(s.sources_needing_resync().unwrap().is_empty());
            s.conn
                .execute_batch("ALTER TABLE sources DROP COLUMN resync; PRAGMA user_version = 3;")
                .unwrap();
        }
        let mut s = Store::open(&p).unwrap();
        assert_eq!(s.sources_needing_resync().unwrap(), ["a"]);
        let got = s.source_state("a").unwrap().unwrap();
        assert_eq!((got.cursor, got.etag), (None, None));
        // Same `modified`, new conversion: written.
        let o = s
            .replace_source(&st, &[adv("A-1", "t1", "new form")], &[])
            .unwrap();
        assert_eq!(o.written, 1);
        assert!(s.sources_needing_resync().unwrap().is_empty());
        let summary: String = s
            .conn
            .query_row(
                "SELECT json_extract(record, '$.summary') FROM advisories WHERE id = 'A-1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(summary, "new form");
        // Afterwards an unchanged `modified` is skipped again.
        let o = s
            .replace_source(&st, &[adv("A-1", "t1", "newer form")], &[])
            .unwrap();
        assert!(o.unchanged);
        assert!(s.check().unwrap().is_empty());
    }

    #[test]
    fn sqlite_passes_the_store_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let n = std::cell::Cell::new(0);
        super::conformance::conformance(|| {
            n.set(n.get() + 1);
            Store::open(&dir.path().join(format!("s{}.sqlite3", n.get()))).unwrap()
        });
    }

    /// What `traits.rs` promises callers: a backend chosen at run time (`dyn`), and a store
    /// that can move into `spawn_blocking` (`Send`).
    #[test]
    fn the_traits_are_dyn_compatible_and_the_store_is_send() {
        fn send<T: Send + 'static>(_: &T) {}
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        send(&store);
        let advisories: Box<dyn AdvisoryStore> = Box::new(store);
        assert!(advisories.sources().unwrap().is_empty());
        let monitor: Box<dyn MonitorState> =
            Box::new(Store::open(&dir.path().join("s.sqlite3")).unwrap());
        assert_eq!(monitor.last_run().unwrap(), None);
    }

    #[test]
    fn a_stored_time_that_is_not_rfc3339_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        s.replace_source(&state("f"), &[adv("X-1", "t1", "x")], &[])
            .unwrap();
        s.conn
            .execute("UPDATE sources SET last_success = 'yesterday'", [])
            .unwrap();
        let e = s.sources().unwrap_err().to_string();
        assert!(e.contains("\"yesterday\" is not RFC 3339"), "{e}");
        assert!(e.contains("s.sqlite3"), "{e}");
        s.conn
            .execute(
                "INSERT INTO runs (started_at, outcome) VALUES ('2026-12-01T10:00:00Z', 'maybe')",
                [],
            )
            .unwrap();
        let e = s.last_run().unwrap_err().to_string();
        assert!(e.contains("unknown run outcome \"maybe\""), "{e}");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite3");
        {
            let c = Connection::open(&p).unwrap();
            c.pragma_update(None, "user_version", 99i64).unwrap();
        }
        assert!(matches!(
            Store::open(&p),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
