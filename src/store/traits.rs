//! The store's seams: [`AdvisoryStore`] (synced advisory records, per-source sync state, the
//! yanked-versions cache) and [`MonitorState`] (findings seen per project, the outbox, runs,
//! health). [`super::Store`] (SQLite) and [`super::postgres::PgStore`] implement both;
//! [`super::conformance`] is the suite any backend must pass (both run it in their unit
//! tests).
//!
//! Rows are typed: times are [`jiff::Timestamp`], states are enums. How a backend stores them
//! is its own business, but it keeps times to at least the microsecond (PostgreSQL's
//! `timestamptz`; SQLite keeps `Timestamp`'s RFC 3339 text whole); a value it cannot decode
//! (a hand-edited store) is an error naming the value, never a silent default.
//!
//! # Sync, not async, on purpose
//!
//! The traits are blocking. Every method is one short transaction, and the callers that use
//! them (sync, scan, the monitor's run) are blocking library code that other threads
//! (`rayon`, the project time budget) already run. Async code calls them inside
//! `tokio::task::spawn_blocking`, one whole step (a sync, a scan, a project) per call, not one
//! task per query. Blocking traits are also dyn-compatible, so the binary can pick a backend at
//! run time from the config (`Box<dyn AdvisoryStore>`); `async fn` in traits is not.
//!
//! An async backend (PostgreSQL via `tokio-postgres`) implements them by keeping a
//! `tokio::runtime::Handle` to the binary's runtime and calling `handle.block_on(..)` on the
//! blocking thread it is called from: its connection task runs on that runtime, and no second
//! runtime is built. Were the callers themselves to become async end to end, these traits would
//! change to `fn ..(..) -> impl Future<Output = ..> + Send` (and lose `dyn`); the conformance
//! suite would change with them.
//!
//! Errors are [`StoreError`] for every backend: a backend adds its own variant, so callers keep
//! one `#[from]`.

use super::yanked::{Cached, Yanked};
use super::{
    DailyOpen, DayOpen, HeldRow, Message, NewHeld, NewMessage, OutboxCounts, RunRow, SeenRow,
    StoreError, SyncOutcome,
};
use super::{HealthRow, SourceState};
use crate::advisory::Advisory;
use crate::ecosystem::Ecosystem;
pub use crate::feeds::signal::ExploitSignals;
use crate::feeds::signal::SignalData;
use crate::feeds::{LoadError, SourceSummary};
use jiff::Timestamp;

/// One stored advisory record, as a sync wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// The source that holds it.
    pub source: String,
    /// The OSV record.
    pub advisory: Advisory,
}

/// What a scan reads from the store, in one consistent snapshot. The matcher compiles and
/// indexes the records itself ([`crate::database::Database::from_stored`]).
#[derive(Debug, Clone, Default)]
pub struct StoredRecords {
    /// Every record naming one of the packages asked for, ordered by (source, id).
    pub records: Vec<StoredRecord>,
    /// Every source that synced successfully at least once, by name.
    pub sources: Vec<SourceSummary>,
    /// Every record a sync skipped, by source and file.
    pub load_errors: Vec<LoadError>,
    /// The cached yanked versions of crates.
    pub yanked: Yanked,
}

/// Which packages' advisories changed when (issue 15, work that scales with change): a
/// store-wide generation bumped by every sync that writes or removes records, and per
/// (ecosystem, normalised package) the generation of its last change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeGenerations {
    /// The latest generation.
    pub current: i64,
    /// The last generation that may change any project's findings (a KEV/EPSS replacement).
    pub everything: i64,
    /// (ecosystem as OSV names it, normalised name) -> generation of its last change.
    pub packages: std::collections::HashMap<(String, String), i64>,
}

impl ChangeGenerations {
    /// Whether anything that can change the findings of a project with `packages` changed
    /// after generation `since`.
    pub fn changed_since(&self, since: i64, packages: &[(String, String)]) -> bool {
        if self.everything > since || self.current < since {
            // `current < since`: the store was replaced under us; rescan.
            return true;
        }
        packages
            .iter()
            .any(|p| self.packages.get(p).is_some_and(|g| *g > since))
    }
}

/// What a project's last full scan was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectInput {
    /// Hex SHA-256 of its inputs (manifests, VEX, policy, the config parts that change results).
    pub hash: String,
    /// The store generation read before the scan.
    pub generation: i64,
    /// Its packages: (ecosystem as OSV names it, normalised name).
    pub packages: Vec<(String, String)>,
}

/// Synced advisory records and the state of each source.
pub trait AdvisoryStore {
    /// The sync state of a source, if it was ever synced.
    fn source_state(&self, source: &str) -> Result<Option<SourceState>, StoreError>;

    /// Every source's state, by name.
    fn sources(&self) -> Result<Vec<SourceState>, StoreError>;

    /// The sources whose records an older depwatch converted (schema migration 4) and that no
    /// sync has rewritten since: scans from them may give that depwatch's advice.
    fn sources_needing_resync(&self) -> Result<Vec<String>, StoreError>;

    /// Record a failed attempt for a source; its data is left as it was.
    fn record_failure(&mut self, source: &str, error: &str) -> Result<(), StoreError>;

    /// Record a successful check that found nothing new (e.g. HTTP 304): only the source's
    /// times change and its last error is cleared.
    fn record_unchanged(&mut self, source: &str) -> Result<(), StoreError>;

    /// Replace everything a source holds with `advisories` and set its state, atomically.
    /// Records whose `modified` did not change are left untouched. `errors` replace the
    /// source's load errors.
    fn replace_source(
        &mut self,
        state: &SourceState,
        advisories: &[Advisory],
        errors: &[LoadError],
    ) -> Result<SyncOutcome, StoreError>;

    /// Insert or update `advisories` of a source (an incremental sync), atomically. A record
    /// whose `modified` is older than the stored one does not overwrite it.
    fn upsert_source(
        &mut self,
        state: &SourceState,
        advisories: &[Advisory],
        errors: &[LoadError],
    ) -> Result<SyncOutcome, StoreError>;

    /// Replace the whole KEV or EPSS data set with `data` and set the source's state, in one
    /// transaction. A set another source wrote before is dropped with that source's row.
    fn replace_signal(
        &mut self,
        state: &SourceState,
        data: &SignalData,
    ) -> Result<SyncOutcome, StoreError>;

    /// The KEV entries and EPSS scores of `cves` (the ones held; others are absent).
    fn signals_for(&self, cves: &[String]) -> Result<ExploitSignals, StoreError>;

    /// Every record that affects one of `packages` (normalised names), with the sources,
    /// load errors and yanked cache, read as one snapshot: a concurrent sync is seen entirely
    /// or not at all.
    fn records_for(
        &mut self,
        packages: &[(Ecosystem, String)],
    ) -> Result<StoredRecords, StoreError>;

    /// Ids (any alias) among `ids` whose records are withdrawn in every source holding them.
    fn withdrawn(&self, ids: &[String]) -> Result<Vec<String>, StoreError>;

    /// The change generations, or `None` when this backend does not keep them (then every
    /// project is rescanned every cycle).
    fn change_generations(&self) -> Result<Option<ChangeGenerations>, StoreError> {
        Ok(None)
    }

    /// The cached crates.io index entry of a crate (case-insensitive): its ETag and yanked
    /// versions, or `None` when it was never fetched.
    fn crate_index_cached(&self, name: &str) -> Result<Option<Cached>, StoreError>;

    /// Store several crates' entries (name, ETag, yanked versions) atomically.
    fn put_crate_indexes(
        &mut self,
        entries: &[(String, Option<String>, Vec<String>)],
    ) -> Result<(), StoreError>;

    /// The yanked versions of a crate as last fetched, or `None` when it was never fetched.
    /// A crate that is not on crates.io has an empty list.
    fn yanked_versions(&self, name: &str) -> Result<Option<Vec<String>>, StoreError> {
        Ok(self.crate_index_cached(name)?.map(|(_, y)| y))
    }

    /// Store one crate's yanked versions and ETag.
    fn put_crate_index(
        &mut self,
        name: &str,
        etag: Option<&str>,
        yanked: &[String],
    ) -> Result<(), StoreError> {
        self.put_crate_indexes(&[(name.to_string(), etag.map(String::from), yanked.to_vec())])
    }
}

/// How a monitor run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    /// Everything worked.
    Ok,
    /// A source, project or delivery failed; the rest went through.
    Partial,
    /// The run stopped early (e.g. the store was never synced).
    Failed,
}

impl RunOutcome {
    /// The name stored and shown: `ok`, `partial`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for RunOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunOutcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ok" => Ok(Self::Ok),
            "partial" => Ok(Self::Partial),
            "failed" => Ok(Self::Failed),
            other => Err(format!("unknown run outcome {other:?}")),
        }
    }
}

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    /// Not sent yet and not given up: due now or at its retry time.
    Pending,
    /// Delivered at this time.
    Sent(Timestamp),
    /// Given up at this time after too many failures.
    GivenUp(Timestamp),
}

/// The monitor's memory: findings seen per project, the notification outbox, runs and the
/// health of components.
pub trait MonitorState {
    /// The key for draft markers: random bytes created on first use and kept in the store,
    /// so whoever writes advisory text cannot compute a marker.
    fn draft_marker_key(&self) -> Result<Vec<u8>, StoreError>;

    /// Everything remembered about `project`, by fingerprint.
    fn seen(&self, project: &str) -> Result<Vec<SeenRow>, StoreError>;

    /// Every project's summary as the last run wrote it ([`DayOpen::summary`]), by project. A
    /// project whose memory was written without one has none.
    fn open_summaries(&self) -> Result<Vec<(String, String)>, StoreError>;

    /// Every project's unresolved rows (findings, warnings, risks), by project then
    /// fingerprint: one read for the dashboard's overview of every project.
    fn unresolved(&self) -> Result<Vec<(String, SeenRow)>, StoreError>;

    /// Hold `project`'s memory for this handle until [`MonitorState::unlock_project`]: a run
    /// reads the memory, diffs and writes it back (with its messages) under it, so two runs of
    /// the same project at once (two CI jobs, two processes on a shared store) never diff
    /// against the same old memory and queue the same "new" alert twice. Another handle's
    /// `lock_project` of the same project waits; other projects do not.
    ///
    /// The default does nothing: an SQLite store is one file with one writer, and every run
    /// and watcher cycle on it holds the cycle lock (a lock file beside it) for the whole
    /// cycle. PostgreSQL, shared by processes on several hosts, holds a per-project advisory
    /// lock (released by the server if the holder dies).
    fn lock_project(&mut self, project: &str) -> Result<(), StoreError> {
        let _ = project;
        Ok(())
    }

    /// Release what [`MonitorState::lock_project`] took.
    fn unlock_project(&mut self, project: &str) -> Result<(), StoreError> {
        let _ = project;
        Ok(())
    }

    /// Write a run's memory for `project` and queue its notifications, atomically: a crash
    /// keeps both or neither, so an alert is never lost.
    fn record_run(
        &mut self,
        project: &str,
        rows: &[SeenRow],
        messages: &[NewMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.record_run_daily(project, rows, messages, &[], None, now)
    }

    /// [`MonitorState::record_run`], also holding `held` events for the project's next
    /// digest, in the same transaction.
    fn record_run_held(
        &mut self,
        project: &str,
        rows: &[SeenRow],
        messages: &[NewMessage],
        held: &[NewHeld],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.record_run_daily(project, rows, messages, held, None, now)
    }

    /// What `project`'s last full scan was made from, if remembered.
    fn project_input(&self, project: &str) -> Result<Option<ProjectInput>, StoreError> {
        let _ = project;
        Ok(None)
    }

    /// Remember (or, with `None`, forget) what `project`'s last full scan was made from.
    fn set_project_input(
        &mut self,
        project: &str,
        input: Option<&ProjectInput>,
    ) -> Result<(), StoreError> {
        let _ = (project, input);
        Ok(())
    }

    /// [`MonitorState::record_run_held`], also writing `daily` (the project's open findings
    /// today by severity, for the dashboard's history) in the same transaction. The counts
    /// replace all of that day's earlier counts for the project; `None` leaves the history
    /// alone.
    #[allow(clippy::too_many_arguments)] // one transaction's parts, each a different table
    fn record_run_daily(
        &mut self,
        project: &str,
        rows: &[SeenRow],
        messages: &[NewMessage],
        held: &[NewHeld],
        daily: Option<&DayOpen>,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Open findings per day by severity since `since` (inclusive), by day then most severe
    /// first: of one project, or summed over all projects when `project` is `None`. Days
    /// without a run have no rows.
    fn daily_open(
        &self,
        project: Option<&str>,
        since: jiff::civil::Date,
    ) -> Result<Vec<DailyOpen>, StoreError>;

    /// The events held for `project`'s next digest, in the order held.
    fn held(&self, project: &str) -> Result<Vec<HeldRow>, StoreError>;

    /// When `project`'s last digest was queued, if ever.
    fn last_digest(&self, project: &str) -> Result<Option<Timestamp>, StoreError>;

    /// Queue a digest atomically: delete the held events `held_ids` of `project`, queue
    /// `messages`, and record `now` as its last digest. A crash keeps the events held (the
    /// next run composes the digest again) or queues the digest, never neither.
    fn queue_digest(
        &mut self,
        project: &str,
        held_ids: &[i64],
        messages: &[NewMessage],
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Messages due at `now` (never sent, not given up, retry time reached), oldest first.
    fn due_messages(&self, now: Timestamp) -> Result<Vec<Message>, StoreError>;

    /// Mark a message delivered (one more attempt, error cleared).
    fn mark_sent(&mut self, id: i64, now: Timestamp) -> Result<(), StoreError>;

    /// Record a failed attempt: retry at `next_attempt`, or give up when it is `None`.
    fn mark_failed(
        &mut self,
        id: i64,
        error: &str,
        next_attempt: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Outbox totals.
    fn outbox_counts(&self) -> Result<OutboxCounts, StoreError>;

    /// Every message ever queued with where it stands, oldest first.
    fn messages(&self) -> Result<Vec<(Message, MessageState)>, StoreError>;

    /// Record the start of a monitor run; returns its id.
    fn run_started(&mut self, now: Timestamp) -> Result<i64, StoreError>;

    /// Record how a run ended.
    fn run_finished(
        &mut self,
        id: i64,
        now: Timestamp,
        outcome: RunOutcome,
        summary: &str,
    ) -> Result<(), StoreError>;

    /// The latest run started.
    fn last_run(&self) -> Result<Option<RunRow>, StoreError>;

    /// Every component's health, by component.
    fn health(&self) -> Result<Vec<HealthRow>, StoreError>;

    /// Write the components' new health and queue the health messages, atomically.
    fn record_health(
        &mut self,
        rows: &[HealthRow],
        messages: &[NewMessage],
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Keep a new API token's SHA-256 (never the token) for `project` with `scope`; its id.
    fn create_token(
        &mut self,
        project: &str,
        scope: TokenScope,
        hash: &[u8],
        now: Timestamp,
    ) -> Result<i64, StoreError>;

    /// Every API token, revoked ones too, by id (hashes included, for the server's
    /// constant-time comparison).
    fn tokens(&self) -> Result<Vec<TokenRow>, StoreError>;

    /// Revoke token `id`: false when there is no such token or it was already revoked.
    fn revoke_token(&mut self, id: i64, now: Timestamp) -> Result<bool, StoreError>;
}

/// What an API token of `depwatch serve` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// Submit scans for its one project (and read that project).
    Submit,
    /// Read every project's findings, the status and the metrics.
    Read,
}

impl TokenScope {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Read => "read",
        }
    }
}

impl std::str::FromStr for TokenScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "submit" => Ok(Self::Submit),
            "read" => Ok(Self::Read),
            other => Err(format!("unknown token scope {other:?}")),
        }
    }
}

/// One stored API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Id (what `token revoke` takes).
    pub id: i64,
    /// The project a submit token is for; `*` for read tokens.
    pub project: String,
    /// What it allows.
    pub scope: TokenScope,
    /// SHA-256 of the token.
    pub hash: Vec<u8>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}
