//! Choosing a backend at run time: a [`Location`] (`--store` / `DEPWATCH_STORE`) says which,
//! [`open`] / [`open_read_only`] return it as a [`Backend`] trait object, and the application
//! passes that wherever an `impl AdvisoryStore` / `impl MonitorState` is asked for (the
//! forwarding impls for `Box` below).
//!
//! PostgreSQL runs on the binary's tokio runtime: `open` takes the runtime from the calling
//! thread's context ([`tokio::runtime::Handle::try_current`]: a blocking-pool thread, or a
//! thread that entered the handle), so the call sites need no handle of their own.

use super::postgres::{PgLocation, PgStore};
use super::yanked::Cached;
use super::{
    AdvisoryStore, ExploitSignals, HealthRow, HeldRow, Message, MessageState, MonitorState,
    NewHeld, NewMessage, OutboxCounts, RunOutcome, RunRow, SeenRow, SourceState, Stats, Store,
    StoreError, StoredRecords, SyncOutcome,
};
use crate::advisory::Advisory;
use crate::ecosystem::Ecosystem;
use crate::feeds::LoadError;
use crate::feeds::signal::SignalData;
use jiff::Timestamp;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Where the store is: an SQLite file (a path, or `sqlite:PATH`) or a PostgreSQL database
/// (`postgres://` / `postgresql://` URL). Its `Display` never shows a password.
#[derive(Debug, Clone)]
pub enum Location {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(PgLocation),
}

impl Location {
    /// Read a `--store` value: a `postgres://` or `postgresql://` URL, `sqlite:PATH`, or a
    /// plain path (SQLite).
    pub fn parse(text: &OsStr) -> Result<Self, StoreError> {
        use std::os::unix::ffi::OsStrExt;
        let bytes = text.as_bytes();
        if bytes.starts_with(b"postgres://") || bytes.starts_with(b"postgresql://") {
            // A URL that is not UTF-8 cannot be a valid one; the lossy form only feeds the
            // parser's error, which shows no password.
            return Ok(Self::Postgres(PgLocation::parse(&text.to_string_lossy())?));
        }
        let path = bytes.strip_prefix(b"sqlite:").unwrap_or(bytes);
        Ok(Self::Sqlite(PathBuf::from(OsStr::from_bytes(path))))
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(p) => Some(p),
            Self::Postgres(_) => None,
        }
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Self {
        Self::Sqlite(p)
    }
}

impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Self {
        Self::Sqlite(p.clone())
    }
}

impl From<&Location> for Location {
    fn from(l: &Location) -> Self {
        l.clone()
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Self {
        Self::Sqlite(p.to_path_buf())
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "{}", p.display()),
            Self::Postgres(l) => write!(f, "{l}"),
        }
    }
}

/// A store of either kind: both traits, plus what `db stats` and `db check` need.
pub trait Backend: AdvisoryStore + MonitorState + Send {
    /// Counts per ecosystem and per source, and the size.
    fn stats(&self) -> Result<Stats, StoreError>;
    /// The store's invariants; the problems found (empty when sound).
    fn check(&self) -> Result<Vec<String>, StoreError>;
}

impl Backend for Store {
    fn stats(&self) -> Result<Stats, StoreError> {
        Store::stats(self)
    }
    fn check(&self) -> Result<Vec<String>, StoreError> {
        Store::check(self)
    }
}

impl Backend for PgStore {
    fn stats(&self) -> Result<Stats, StoreError> {
        PgStore::stats(self)
    }
    fn check(&self) -> Result<Vec<String>, StoreError> {
        PgStore::check(self)
    }
}

/// The runtime a PostgreSQL store runs on: the calling thread's.
pub fn runtime(at: &PgLocation) -> Result<tokio::runtime::Handle, StoreError> {
    tokio::runtime::Handle::try_current().map_err(|_| StoreError::Postgres {
        at: at.to_string(),
        message: "the PostgreSQL store needs the tokio runtime, and this thread has none \
                  (call it from spawn_blocking or after Handle::enter)"
            .into(),
    })
}

/// Open (creating and migrating as needed) the store at `loc`. Blocks.
pub fn open(loc: &Location) -> Result<Box<dyn Backend>, StoreError> {
    Ok(match loc {
        Location::Sqlite(p) => Box::new(Store::open(p)?),
        Location::Postgres(l) => Box::new(PgStore::open(l, &runtime(l)?)?),
    })
}

/// Open the store at `loc` for reading only (see [`Store::open_read_only`] and
/// [`PgStore::open_read_only`]). Blocks.
pub fn open_read_only(loc: &Location) -> Result<Box<dyn Backend>, StoreError> {
    Ok(match loc {
        Location::Sqlite(p) => Box::new(Store::open_read_only(p)?),
        Location::Postgres(l) => Box::new(PgStore::open_read_only(l, &runtime(l)?)?),
    })
}

// Forwarding impls, so a boxed backend goes where `&mut impl AdvisoryStore` is asked for. A
// method added to a trait gets one line here too.
impl<T: AdvisoryStore + ?Sized> AdvisoryStore for Box<T> {
    fn source_state(&self, source: &str) -> Result<Option<SourceState>, StoreError> {
        (**self).source_state(source)
    }
    fn sources(&self) -> Result<Vec<SourceState>, StoreError> {
        (**self).sources()
    }
    fn sources_needing_resync(&self) -> Result<Vec<String>, StoreError> {
        (**self).sources_needing_resync()
    }
    fn record_failure(&mut self, source: &str, error: &str) -> Result<(), StoreError> {
        (**self).record_failure(source, error)
    }
    fn record_unchanged(&mut self, source: &str) -> Result<(), StoreError> {
        (**self).record_unchanged(source)
    }
    fn replace_source(
        &mut self,
        state: &SourceState,
        advisories: &[Advisory],
        errors: &[LoadError],
    ) -> Result<SyncOutcome, StoreError> {
        (**self).replace_source(state, advisories, errors)
    }
    fn upsert_source(
        &mut self,
        state: &SourceState,
        advisories: &[Advisory],
        errors: &[LoadError],
    ) -> Result<SyncOutcome, StoreError> {
        (**self).upsert_source(state, advisories, errors)
    }
    fn replace_signal(
        &mut self,
        state: &SourceState,
        data: &SignalData,
    ) -> Result<SyncOutcome, StoreError> {
        (**self).replace_signal(state, data)
    }
    fn signals_for(&self, cves: &[String]) -> Result<ExploitSignals, StoreError> {
        (**self).signals_for(cves)
    }
    fn records_for(
        &mut self,
        packages: &[(Ecosystem, String)],
    ) -> Result<StoredRecords, StoreError> {
        (**self).records_for(packages)
    }
    fn withdrawn(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        (**self).withdrawn(ids)
    }
    fn change_generations(&self) -> Result<Option<super::ChangeGenerations>, StoreError> {
        (**self).change_generations()
    }
    fn crate_index_cached(&self, name: &str) -> Result<Option<Cached>, StoreError> {
        (**self).crate_index_cached(name)
    }
    fn put_crate_indexes(
        &mut self,
        entries: &[(String, Option<String>, Vec<String>)],
    ) -> Result<(), StoreError> {
        (**self).put_crate_indexes(entries)
    }
    fn yanked_versions(&self, name: &str) -> Result<Option<Vec<String>>, StoreError> {
        (**self).yanked_versions(name)
    }
    fn put_crate_index(
        &mut self,
        name: &str,
        etag: Option<&str>,
        yanked: &[String],
    ) -> Result<(), StoreError> {
        (**self).put_crate_index(name, etag, yanked)
    }
}

impl<T: MonitorState + ?Sized> MonitorState for Box<T> {
    fn draft_marker_key(&self) -> Result<Vec<u8>, StoreError> {
        (**self).draft_marker_key()
    }
    fn seen(&self, project: &str) -> Result<Vec<SeenRow>, StoreError> {
        (**self).seen(project)
    }
    fn open_summaries(&self) -> Result<Vec<(String, String)>, StoreError> {
        (**self).open_summaries()
    }
    fn unresolved(&self) -> Result<Vec<(String, SeenRow)>, StoreError> {
        (**self).unresolved()
    }
    fn lock_project(&mut self, project: &str) -> Result<(), StoreError> {
        (**self).lock_project(project)
    }
    fn unlock_project(&mut self, project: &str) -> Result<(), StoreError> {
        (**self).unlock_project(project)
    }
    fn project_input(&self, project: &str) -> Result<Option<super::ProjectInput>, StoreError> {
        (**self).project_input(project)
    }
    fn set_project_input(
        &mut self,
        project: &str,
        input: Option<&super::ProjectInput>,
    ) -> Result<(), StoreError> {
        (**self).set_project_input(project, input)
    }
    fn create_token(
        &mut self,
        project: &str,
        scope: super::TokenScope,
        hash: &[u8],
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        (**self).create_token(project, scope, hash, now)
    }
    fn tokens(&self) -> Result<Vec<super::TokenRow>, StoreError> {
        (**self).tokens()
    }
    fn revoke_token(&mut self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        (**self).revoke_token(id, now)
    }
    fn record_run_daily(
        &mut self,
        project: &str,
        rows: &[SeenRow],
        messages: &[NewMessage],
        held: &[NewHeld],
        daily: Option<&super::DayOpen>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        (**self).record_run_daily(project, rows, messages, held, daily, now)
    }
    fn daily_open(
        &self,
        project: Option<&str>,
        since: jiff::civil::Date,
    ) -> Result<Vec<super::DailyOpen>, StoreError> {
        (**self).daily_open(project, since)
    }
    fn held(&self, project: &str) -> Result<Vec<HeldRow>, StoreError> {
        (**self).held(project)
    }
    fn last_digest(&self, project: &str) -> Result<Option<Timestamp>, StoreError> {
        (**self).last_digest(project)
    }
    fn queue_digest(
        &mut self,
        project: &str,
        held_ids: &[i64],
        messages: &[NewMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        (**self).queue_digest(project, held_ids, messages, now)
    }
    fn due_messages(&self, now: Timestamp) -> Result<Vec<Message>, StoreError> {
        (**self).due_messages(now)
    }
    fn mark_sent(&mut self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        (**self).mark_sent(id, now)
    }
    fn mark_failed(
        &mut self,
        id: i64,
        error: &str,
        next_attempt: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        (**self).mark_failed(id, error, next_attempt, now)
    }
    fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        (**self).outbox_counts()
    }
    fn messages(&self) -> Result<Vec<(Message, MessageState)>, StoreError> {
        (**self).messages()
    }
    fn run_started(&mut self, now: Timestamp) -> Result<i64, StoreError> {
        (**self).run_started(now)
    }
    fn run_finished(
        &mut self,
        id: i64,
        now: Timestamp,
        outcome: RunOutcome,
        summary: &str,
    ) -> Result<(), StoreError> {
        (**self).run_finished(id, now, outcome, summary)
    }
    fn last_run(&self) -> Result<Option<RunRow>, StoreError> {
        (**self).last_run()
    }
    fn health(&self) -> Result<Vec<HealthRow>, StoreError> {
        (**self).health()
    }
    fn record_health(
        &mut self,
        rows: &[HealthRow],
        messages: &[NewMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        (**self).record_health(rows, messages, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_a_url_or_a_path() {
        let pg = Location::parse(OsStr::new("postgresql://u:pw@h/db")).unwrap();
        assert!(matches!(pg, Location::Postgres(_)));
        assert_eq!(pg.to_string(), "postgres://u@h:5432/db");
        let p = Location::parse(OsStr::new("sqlite:/tmp/x.sqlite3")).unwrap();
        assert_eq!(p.sqlite_path(), Some(Path::new("/tmp/x.sqlite3")));
        let plain = Location::parse(OsStr::new("store.sqlite3")).unwrap();
        assert_eq!(plain.sqlite_path(), Some(Path::new("store.sqlite3")));
    }
}
