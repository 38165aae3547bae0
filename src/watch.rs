//! `depwatch watch`: run monitor cycles on cron schedules until SIGTERM / SIGINT.
//!
//! One cycle at a time, also across processes sharing a store: every cycle (and every
//! `depwatch run`) holds an exclusive lock on `<store>.lock` ([`CycleLock`]), or, for a
//! PostgreSQL store, a session advisory lock in its database (processes on other hosts too). A fire time
//! missed while the process was down is caught up once at start. On a signal the cycle in
//! progress is given a grace period to finish; abandoning it after that is safe, because the
//! store commits a run's memory and its queued messages in one transaction (see `run`).

use crate::run::{self, RunOptions};
use crate::schedule::{Jitter, Schedule, ScheduleError};
use crate::store::{Location, MonitorState, StoreError};
use jiff::Timestamp;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing::{error, info, warn};

/// Why the watcher (or a lock) failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The lock file could not be opened or locked.
    #[error("cycle lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Another process holds the cycle lock.
    #[error("another cycle is running on this store (lock {path} held by {holder})")]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as the holder wrote it ("pid N"), or "unknown".
        holder: String,
    },
    /// A schedule has no next fire time.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Setting up the signal handlers or runtime failed.
    #[error("watch setup: {0}")]
    Setup(String),
}

/// The exclusive right to run a cycle on a store; released when dropped (also when the
/// process dies, as the OS drops the lock with the file, and PostgreSQL with the session).
pub struct CycleLock {
    _held: Held,
}

enum Held {
    File(#[allow(dead_code)] File),
    Postgres(#[allow(dead_code)] crate::store::postgres::PgCycleLock),
}

impl std::fmt::Debug for CycleLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CycleLock")
    }
}

/// A PostgreSQL store's cycle lock: taken, or `None` when held elsewhere.
fn try_pg(loc: &crate::store::postgres::PgLocation) -> Result<Option<CycleLock>, WatchError> {
    let rt = crate::store::runtime(loc)?;
    Ok(
        crate::store::postgres::PgCycleLock::try_acquire(loc, &rt)?.map(|l| CycleLock {
            _held: Held::Postgres(l),
        }),
    )
}

impl CycleLock {
    /// The lock file for a store: `<store>.lock` next to it.
    pub fn path_for(store: &Path) -> PathBuf {
        let mut s = store.as_os_str().to_owned();
        s.push(".lock");
        PathBuf::from(s)
    }

    /// Take the lock if it is free; `Ok(None)` when another process (or handle) holds it.
    pub fn try_acquire(store: impl Into<Location>) -> Result<Option<CycleLock>, WatchError> {
        let store = match store.into() {
            Location::Sqlite(p) => p,
            Location::Postgres(l) => return try_pg(&l),
        };
        let path = Self::path_for(&store);
        let lock_err = |source| WatchError::Lock {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(lock_err)?;
        }
        // Not truncated on open: the holder's pid must stay readable to a waiter.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(lock_err(e)),
        }
        // Who holds it, for the message a waiter prints; best effort.
        let _ = file
            .set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| write!(file, "pid {}", std::process::id()))
            .and_then(|_| file.flush());
        Ok(Some(CycleLock {
            _held: Held::File(file),
        }))
    }

    /// Take the lock, waiting up to `wait` for the holder to finish; [`WatchError::Busy`]
    /// (naming the holder) when it does not.
    pub fn acquire(store: impl Into<Location>, wait: Duration) -> Result<CycleLock, WatchError> {
        let store = store.into();
        let start = std::time::Instant::now();
        loop {
            if let Some(l) = Self::try_acquire(store.clone())? {
                return Ok(l);
            }
            if start.elapsed() >= wait {
                return Err(match &store {
                    Location::Sqlite(p) => WatchError::Busy {
                        path: Self::path_for(p),
                        holder: Self::holder(p),
                    },
                    Location::Postgres(l) => WatchError::Busy {
                        path: format!("{l} (advisory lock)").into(),
                        holder: crate::store::runtime(l)
                            .map(|rt| crate::store::postgres::PgCycleLock::holder(l, &rt))
                            .unwrap_or_else(|_| "unknown".into()),
                    },
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the current holder wrote into the lock file ("pid N"), or "unknown".
    pub fn holder(store: &Path) -> String {
        let mut s = String::new();
        match File::open(Self::path_for(store)).and_then(|mut f| f.read_to_string(&mut s)) {
            Ok(_) if !s.trim().is_empty() => s.trim().to_string(),
            _ => "unknown".into(),
        }
    }
}

/// What the watcher does.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The cycle to run (`now` is replaced by the clock at each cycle).
    pub run: RunOptions,
    /// When cycles run (scan, drafts, publishing; also sync unless `sync_schedule` is set).
    pub schedule: Schedule,
    /// A separate schedule for feed sync; cycles on `schedule` then skip the sync.
    pub sync_schedule: Option<Schedule>,
    /// The fast lane's schedule (every few minutes): sync the OSV exports' `modified_id.csv`
    /// and re-match only the packages whose advisories changed ([`run::fast_lane`]).
    pub fast_lane: Option<Schedule>,
    /// Test aid: run the fast lane every this long instead of on `fast_lane`.
    pub fast_lane_test_interval: Option<Duration>,
    /// Each fire is delayed by a random amount in `[0, jitter)`.
    pub jitter: Duration,
    /// Test aid: fire every this long instead of on the cron schedules (which still decide
    /// catch-up at start). Not for production use.
    pub test_interval: Option<Duration>,
    /// How long a cycle waits for another process's cycle before skipping its fire time.
    pub lock_wait: Duration,
    /// After SIGTERM / SIGINT, how long the cycle in progress may take to finish.
    pub grace: Duration,
}

/// What a watcher did before it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchSummary {
    /// Cycles that ran to the end (whatever their outcome).
    pub cycles: u64,
    /// Cycles that failed outright (could not run).
    pub failed: u64,
    /// Fire times skipped because another process held the cycle lock.
    pub skipped: u64,
}

/// Which job a fire time is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    /// The full cycle (or scans / publishing only, when sync has its own schedule).
    Cycle,
    /// Sync only.
    Sync,
    /// The fast lane: changed OSV export records, the packages they name, alerts.
    FastLane,
}

/// How a job ended.
enum JobEnd {
    Ran,
    Failed,
    Skipped,
}

/// The last run's start recorded in the store, if any.
fn last_run_start(store: &Location) -> Result<Option<Timestamp>, WatchError> {
    let s = crate::store::open(store)?;
    Ok(s.last_run()?.map(|r| r.started_at))
}

fn run_job(opts: &WatchOptions, job: Job, rt: &tokio::runtime::Handle) -> JobEnd {
    // This thread is the job's own: a PostgreSQL store finds the runtime through it.
    let _rt = rt.enter();
    let lock = match CycleLock::acquire(opts.run.store.clone(), opts.lock_wait) {
        Ok(l) => l,
        Err(e @ WatchError::Busy { .. }) => {
            warn!(job = ?job, "{e}; skipping this fire time");
            return JobEnd::Skipped;
        }
        Err(e) => {
            error!(job = ?job, "{e}");
            return JobEnd::Failed;
        }
    };
    let end = match job {
        Job::Cycle => {
            let mut ro = opts.run.clone();
            ro.now = Timestamp::now();
            if opts.sync_schedule.is_some() {
                ro.sync_local = false;
                ro.sync_remote = false;
            }
            info!(at = %ro.now, "cycle started");
            match run::run(&ro, rt) {
                Ok(r) => {
                    let failed_sources: Vec<&str> = r
                        .sync
                        .iter()
                        .filter(|s| !s.ok)
                        .map(|s| s.source.as_str())
                        .collect();
                    for p in r.projects.iter().filter(|p| p.error.is_some()) {
                        warn!(project = %p.name, error = p.error.as_deref().unwrap_or(""), "project failed");
                    }
                    for e in &r.delivery.errors {
                        warn!(error = %e, "delivery failed");
                    }
                    info!(
                        outcome = %r.outcome(),
                        projects = r.projects.len(),
                        sent = r.delivery.sent,
                        failed_sources = ?failed_sources,
                        "cycle finished"
                    );
                    JobEnd::Ran
                }
                Err(e) => {
                    error!(error = %e, "cycle failed");
                    JobEnd::Failed
                }
            }
        }
        Job::FastLane => {
            let mut ro = opts.run.clone();
            ro.now = Timestamp::now();
            match run::fast_lane(&ro, rt) {
                Ok(r) => {
                    for l in r.sync.iter().filter(|l| !l.ok) {
                        warn!(source = %l.source, error = %l.detail, "fast lane: sync failed (previous data kept)");
                    }
                    let rematched: Vec<&str> = r
                        .projects
                        .iter()
                        .filter(|p| p.error.is_none())
                        .map(|p| p.name.as_str())
                        .collect();
                    for p in r.projects.iter().filter(|p| p.error.is_some()) {
                        warn!(project = %p.name, error = p.error.as_deref().unwrap_or(""), "fast lane: project failed");
                    }
                    for e in &r.delivery.errors {
                        warn!(error = %e, "fast lane: delivery failed");
                    }
                    info!(
                        rematched = ?rematched,
                        queued = r.projects.iter().map(|p| p.queued).sum::<usize>(),
                        sent = r.delivery.sent,
                        "fast lane finished"
                    );
                    JobEnd::Ran
                }
                Err(e) => {
                    error!(error = %e, "fast lane failed");
                    JobEnd::Failed
                }
            }
        }
        Job::Sync => match sync_only(&opts.run, rt) {
            Ok(()) => JobEnd::Ran,
            Err(e) => {
                error!(error = %e, "sync failed");
                JobEnd::Failed
            }
        },
    };
    drop(lock);
    end
}

/// The sync part of a cycle on its own (for a separate sync schedule). One failing source
/// does not stop the others: each result is logged.
fn sync_only(ro: &RunOptions, rt: &tokio::runtime::Handle) -> Result<(), WatchError> {
    let mut store = crate::store::open(&ro.store)?;
    info!("sync started");
    for s in &ro.config.sources {
        if let Some(spec) = crate::feeds::signal::SignalSpec::parse(s) {
            match crate::sync::sync_signal_local(&mut store, &spec) {
                Ok(r) => log_sync(&r),
                Err(e) => warn!(source = %s, error = %e, "sync failed"),
            }
            continue;
        }
        match s.parse::<crate::feeds::SourceSpec>() {
            Err(e) => warn!(source = %s, error = %e, "source skipped"),
            Ok(spec) => match crate::sync::sync_local(&mut store, &spec) {
                Ok(r) => log_sync(&r),
                Err(e) => warn!(source = %s, error = %e, "sync failed"),
            },
        }
    }
    if ro.sync_remote {
        let defs = ro.config.feed_defs().map_err(WatchError::Setup)?;
        match crate::sync::sync_feeds(&mut store, &defs, ro.http.clone(), rt) {
            Ok(rs) => rs.iter().for_each(log_sync),
            Err(e) => warn!(error = %e, "feed sync failed"),
        }
    }
    info!("sync finished");
    Ok(())
}

fn log_sync(r: &crate::sync::SourceSync) {
    match &r.result {
        Ok(_) => info!(source = %r.source, "synced"),
        Err(e) => warn!(source = %r.source, error = %e, "sync failed (previous data kept)"),
    }
}

/// The next fire: the earliest of the schedules (or the test interval), with jitter.
fn next_fire(
    opts: &WatchOptions,
    now: Timestamp,
    jitter: &mut Jitter,
) -> Result<(Job, Duration), WatchError> {
    if let Some(every) = opts.test_interval {
        return Ok((Job::Cycle, every + jitter.delay(opts.jitter)));
    }
    let mut job = Job::Cycle;
    let mut at = opts.schedule.next_after(now)?;
    if let Some(s) = &opts.sync_schedule {
        let sync_at = s.next_after(now)?;
        if sync_at < at {
            job = Job::Sync;
            at = sync_at;
        }
    }
    // A digest goes out with a cycle: wake for one at its fire times too, so it is not late
    // by up to a cycle interval.
    if let Some(d) = opts.run.config.digest_schedule() {
        let digest_at = d.next_after(now)?;
        if digest_at < at {
            job = Job::Cycle;
            at = digest_at;
        }
    }
    // The fast lane's test interval counts from now, like the cycle's.
    let fast_at = match (opts.fast_lane_test_interval, &opts.fast_lane) {
        (Some(every), _) => Some(
            now.checked_add(jiff::SignedDuration::try_from(every).unwrap_or_default())
                .unwrap_or(now),
        ),
        (None, Some(s)) => Some(s.next_after(now)?),
        (None, None) => None,
    };
    if let Some(fast_at) = fast_at.filter(|f| *f < at) {
        job = Job::FastLane;
        at = fast_at;
    }
    let wait = Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO);
    info!(job = ?job, at = %at, "next fire");
    Ok((job, wait + jitter.delay(opts.jitter)))
}

/// Run until SIGTERM or SIGINT. Returns after the cycle in progress finished (or the grace
/// period ran out).
/// Runs on the caller's tokio runtime (signals, timers); each cycle on a thread of its own.
pub async fn watch(opts: &WatchOptions) -> Result<WatchSummary, WatchError> {
    watch_loop(opts).await
}

#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Result<Signals, WatchError> {
        use tokio::signal::unix::{SignalKind, signal};
        let setup = |e: std::io::Error| WatchError::Setup(format!("signal handler: {e}"));
        Ok(Signals {
            term: signal(SignalKind::terminate()).map_err(setup)?,
            int: signal(SignalKind::interrupt()).map_err(setup)?,
        })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Result<Signals, WatchError> {
        Ok(Signals)
    }

    async fn recv(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

async fn watch_loop(opts: &WatchOptions) -> Result<WatchSummary, WatchError> {
    let mut signals = Signals::new()?;
    let mut jitter = Jitter::from_entropy();
    let mut summary = WatchSummary::default();
    info!(
        schedule = opts.schedule.expr(),
        timezone = opts.schedule.timezone(),
        sync_schedule = opts.sync_schedule.as_ref().map(|s| s.expr()),
        fast_lane = opts.fast_lane.as_ref().map(|s| s.expr()),
        "watching"
    );
    // Catch up once if the schedule fired while no watcher ran, however many slots that was.
    // Read under the cycle lock: the store is created on first open, and two processes
    // creating it at once collide. A held lock means a cycle is running right now, which is
    // as good as a catch-up.
    let store = opts.run.store.clone();
    let last = crate::blocking::off_executor(move || {
        Ok::<_, WatchError>(match CycleLock::try_acquire(store.clone())? {
            Some(_lock) => last_run_start(&store)?,
            None => Some(Timestamp::now()),
        })
    })
    .await?;
    let mut pending = if opts.schedule.missed_since(last, Timestamp::now()) {
        info!(last_run = ?last.map(|t| t.to_string()), "missed fire time: catching up once");
        Some(Job::Cycle)
    } else {
        None
    };
    loop {
        let job = match pending.take() {
            Some(j) => j,
            None => {
                let (job, wait) = next_fire(opts, Timestamp::now(), &mut jitter)?;
                tokio::select! {
                    _ = tokio::time::sleep(wait) => job,
                    sig = signals.recv() => {
                        info!(signal = sig, "stopping");
                        return Ok(summary);
                    }
                }
            }
        };
        // run::run blocks, so it runs on a thread of its own, not the blocking pool: a cycle
        // past the grace period is abandoned, and the runtime's shutdown would wait for it.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let o = opts.clone();
        let rt = tokio::runtime::Handle::current();
        std::thread::spawn(move || {
            let _ = tx.send(run_job(&o, job, &rt));
        });
        tokio::pin!(rx);
        let (end, stop) = tokio::select! {
            end = &mut rx => (end, false),
            sig = signals.recv() => {
                info!(signal = sig, grace_secs = opts.grace.as_secs(), "stopping after the current cycle");
                match tokio::time::timeout(opts.grace, &mut rx).await {
                    Ok(end) => (end, true),
                    Err(_) => {
                        warn!("the cycle did not finish within the grace period: abandoned (the next run redoes it)");
                        return Ok(summary);
                    }
                }
            }
        };
        match end {
            Ok(JobEnd::Ran) => summary.cycles += 1,
            Ok(JobEnd::Skipped) => summary.skipped += 1,
            Ok(JobEnd::Failed) | Err(_) => summary.failed += 1,
        }
        if stop {
            return Ok(summary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(fast_lane: Option<&str>) -> WatchOptions {
        WatchOptions {
            run: RunOptions {
                // The type comes from `RunOptions`: `watch` names no `config` item.
                config: Default::default(),
                store: PathBuf::from("store.sqlite3").into(),
                out_dir: PathBuf::from("out"),
                sync_local: true,
                sync_remote: true,
                deliver: true,
                now: Timestamp::UNIX_EPOCH,
                http: Default::default(),
            },
            schedule: Schedule::parse("0 6 * * *", "UTC").unwrap(),
            sync_schedule: None,
            fast_lane: fast_lane.map(|e| Schedule::parse(e, "UTC").unwrap()),
            fast_lane_test_interval: None,
            jitter: Duration::ZERO,
            test_interval: None,
            lock_wait: Duration::ZERO,
            grace: Duration::ZERO,
        }
    }

    #[test]
    fn the_fast_lane_fires_between_cycles() {
        let mut j = Jitter::new(1);
        let now: Timestamp = "2026-12-06T05:53:00Z".parse().unwrap();
        let (job, wait) = next_fire(&options(Some("*/5 * * * *")), now, &mut j).unwrap();
        assert_eq!((job, wait), (Job::FastLane, Duration::from_secs(120)));
        // At the same time the cycle wins (it syncs everything anyway).
        let now: Timestamp = "2026-12-06T05:58:00Z".parse().unwrap();
        let o = options(Some("*/5 * * * *"));
        assert_eq!(next_fire(&o, now, &mut j).unwrap().0, Job::Cycle);
        // The cycle wins when it is due first.
        let now: Timestamp = "2026-12-06T05:59:30Z".parse().unwrap();
        let o = options(Some("*/7 * * * *"));
        assert_eq!(next_fire(&o, now, &mut j).unwrap().0, Job::Cycle);
        // No fast lane configured: cycles only.
        let now: Timestamp = "2026-12-06T05:58:00Z".parse().unwrap();
        assert_eq!(
            next_fire(&options(None), now, &mut j).unwrap().0,
            Job::Cycle
        );
    }

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.db");
        let a = CycleLock::try_acquire(&store).unwrap();
        assert!(a.is_some());
        assert!(CycleLock::try_acquire(&store).unwrap().is_none());
        assert_eq!(
            CycleLock::holder(&store),
            format!("pid {}", std::process::id())
        );
        match CycleLock::acquire(&store, Duration::from_millis(250)) {
            Err(WatchError::Busy { holder, .. }) => assert!(holder.starts_with("pid ")),
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(a);
        assert!(CycleLock::try_acquire(&store).unwrap().is_some());
    }

    #[test]
    fn a_digest_fire_time_wakes_a_cycle() {
        let mut opts = WatchOptions {
            run: RunOptions {
                config: Default::default(),
                store: std::path::PathBuf::from("s").into(),
                out_dir: "o".into(),
                sync_local: true,
                sync_remote: false,
                deliver: true,
                now: Timestamp::UNIX_EPOCH,
                http: Default::default(),
            },
            // Daily at 06:00, and feeds every 4 hours.
            schedule: Schedule::parse("0 6 * * *", "UTC").unwrap(),
            sync_schedule: Some(Schedule::parse("0 */4 * * *", "UTC").unwrap()),
            fast_lane: None,
            fast_lane_test_interval: None,
            jitter: Duration::ZERO,
            test_interval: None,
            lock_wait: Duration::ZERO,
            grace: Duration::ZERO,
        };
        opts.run.config.notify.digest = Some("0 9 * * 1".into());
        let mut j = Jitter::new(1);
        // Monday 2026-12-07 08:30: the digest at 09:00 comes before the sync at 12:00.
        let now: Timestamp = "2026-12-07T08:30:00Z".parse().unwrap();
        let (job, wait) = next_fire(&opts, now, &mut j).unwrap();
        assert_eq!((job, wait), (Job::Cycle, Duration::from_secs(1800)));
        // Without a digest: the sync.
        let mut plain = opts.clone();
        plain.run.config.notify.digest = None;
        let (job, wait) = next_fire(&plain, now, &mut j).unwrap();
        assert_eq!(
            (job, wait),
            (Job::Sync, Duration::from_secs(3 * 3600 + 1800))
        );
    }
}
