//! One cycle of `depwatch run`: sync, every project, delivery, health.

use super::clock::{Clock, SystemClock};
use super::deliver::deliver_tracked;
use super::digest::digest_step;
use super::project::project_step;
use super::sources::sync_step;
use super::{
    Delivery, ProjectOutcome, RunError, RunOptions, RunReport, StepError, SyncLine, Timings,
    ms_since,
};
use crate::health::{self, HealthEvent, Outcome};
use crate::publish::templates::Templates;
use crate::store::{AdvisoryStore, MonitorState, RunOutcome};
use crate::sync::Changed;
use std::time::Instant;

/// Run the whole job on the caller's tokio runtime: the blocking work (SQLite, scans) on its
/// blocking pool, the network on its executor. What an async server awaits.
pub async fn cycle(opts: RunOptions) -> Result<RunReport, RunError> {
    let rt = tokio::runtime::Handle::current();
    crate::blocking::off_executor(move || run(&opts, &rt)).await
}

/// Run the whole job, stamping times from the system clock. This blocks; its network calls run
/// on `rt`. Call it from a blocking thread (`spawn_blocking`, or [`cycle`]), never from an
/// async task.
pub fn run(opts: &RunOptions, rt: &tokio::runtime::Handle) -> Result<RunReport, RunError> {
    run_with_clock(opts, &SystemClock, rt)
}

/// [`run`] with the clock that stamps when things happened (a message sent, the run
/// finished); `opts.now` stays the time the run reasons about.
pub fn run_with_clock(
    opts: &RunOptions,
    clock: &dyn Clock,
    rt: &tokio::runtime::Handle,
) -> Result<RunReport, RunError> {
    let start = Instant::now();
    let mut timings = Timings::default();
    let mut store = crate::store::open(&opts.store)?;
    let templates = Templates::load(opts.config.templates.as_deref())?;
    timings.open_ms = ms_since(start);
    let run_id = store.run_started(opts.now)?;
    let t = Instant::now();
    let sync = sync_step(&mut store, opts, rt)?;
    timings.sync_ms = ms_since(t);
    if store.sources()?.iter().all(|s| s.last_success.is_none()) {
        let e = RunError::NeverSynced(opts.store.clone());
        // Recorded as a failed run, so `status` does not show it as still running.
        let summary = serde_json::json!({ "error": e.to_string() }).to_string();
        store.run_finished(run_id, clock.now(), RunOutcome::Failed, &summary)?;
        return Err(e);
    }
    // Read once, after the sync: a project scanned now is remembered at this generation.
    // Unreadable generations only cost a full rescan.
    let gens = store.change_generations().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "change generations unreadable: rescanning every project");
        None
    });
    let mut projects = Vec::new();
    let all = Instant::now();
    for p in &opts.config.projects {
        let t = Instant::now();
        let o = project_step(&mut store, &templates, opts, p, None, gens.as_ref());
        let ms = ms_since(t);
        if o.skipped {
            timings.reused += 1;
            timings.reused_ms += ms;
        } else {
            timings.rescanned += 1;
            timings.rescanned_ms += ms;
        }
        projects.push(o);
    }
    timings.projects_ms = ms_since(all);
    let after = Instant::now();
    digest_step(&mut store, &templates, opts, &mut projects);
    let (mut delivery, channels) = if opts.deliver {
        deliver_tracked(&mut store, opts, clock, &[], rt)?
    } else {
        (Delivery::default(), Vec::new())
    };
    // A channel that just failed permanently would fail its own alert the same way now: the
    // alert stays queued for it (tried on the next run, when the config may be fixed).
    let gave_up: Vec<String> = channels
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::GaveUp(_)))
        .map(|(ch, _)| ch.clone())
        .collect();
    let (health, health_error) =
        match health_step(&mut store, &templates, opts, &sync, &projects, channels) {
            Ok(events) => (events, None),
            Err(e) => {
                tracing::warn!(error = %e, "health step failed");
                (Vec::new(), Some(e.to_string()))
            }
        };
    // The health messages just queued go out in this run too. This second pass does not
    // count in the channels' health (already recorded for the run); a failure is retried
    // from the outbox like any message.
    if opts.deliver && !health.is_empty() {
        let (more, _) = deliver_tracked(&mut store, opts, clock, &gave_up, rt)?;
        delivery.sent += more.sent;
        delivery.failed += more.failed;
        delivery.given_up += more.given_up;
        delivery.errors.extend(more.errors);
    }
    let mut report = RunReport {
        at: opts.now,
        sync,
        projects,
        delivery,
        health,
        health_error,
        timings,
    };
    let summary = serde_json::to_string(&report).unwrap_or_default();
    store.run_finished(run_id, clock.now(), report.outcome(), &summary)?;
    report.timings.after_ms = ms_since(after);
    report.timings.total_ms = ms_since(start);
    Ok(report)
}

/// The watcher's fast lane: sync the OSV export feeds only (incrementally: their
/// `modified_id.csv` and the records it lists as changed), re-match in each project only the
/// dependencies on packages whose advisories changed, queue the events and deliver at once.
/// A new malicious record so reaches Slack and email within one fast-lane interval.
///
/// It records no run (the cycle schedule's catch-up and `status` keep counting full cycles),
/// writes no draft or release notes (the next full cycle does, from every finding) and leaves
/// health to the full cycles. When a feed had to be replaced whole (a first sync, a lost
/// mark), every project is re-matched in full. The report lists the projects re-matched.
pub fn fast_lane(opts: &RunOptions, rt: &tokio::runtime::Handle) -> Result<RunReport, RunError> {
    let mut store = crate::store::open(&opts.store)?;
    let templates = Templates::load(opts.config.templates.as_deref())?;
    let defs: Vec<_> = opts
        .config
        .feed_defs()
        .map_err(RunError::Setup)?
        .into_iter()
        .filter(|d| d.kind == crate::feeds::defs::FeedKind::OsvExport)
        .collect();
    let mut sync = Vec::new();
    let mut changed = Changed::Nothing;
    if opts.sync_remote && !defs.is_empty() {
        for r in crate::sync::sync_feeds(&mut store, &defs, opts.http.clone(), rt)
            .map_err(|e| RunError::Setup(e.to_string()))?
        {
            sync.push(super::sources::sync_line(&r));
            changed = changed.merge(r.changed);
        }
    }
    // Only the projects re-matched (or failing) are reported.
    let mut projects = Vec::new();
    if changed != Changed::Nothing {
        for p in opts.config.projects.iter().filter(|p| !p.paths.is_empty()) {
            let only = match &changed {
                Changed::Records { packages, ids } => {
                    // Also the packages of open findings under a changed id: a new version
                    // of a record may no longer name the package it was found on.
                    let mut set = packages.clone();
                    let rows = store.seen(&p.name)?;
                    if let Ok(open) = crate::monitor::open_findings(&p.name, &rows) {
                        set.extend(
                            open.iter()
                                .filter(|t| t.finding.ids.iter().any(|i| ids.contains(i)))
                                .map(|t| {
                                    let eco = t.finding.package.ecosystem;
                                    (eco, eco.normalize_name(&t.finding.package.name))
                                }),
                        );
                    }
                    Some(set)
                }
                _ => None,
            };
            let o = project_step(&mut store, &templates, opts, p, only.as_ref(), None);
            if !o.notices.iter().any(|n| n == super::project::UNTOUCHED) {
                projects.push(o);
            }
        }
    }
    let delivery = if opts.deliver && projects.iter().any(|p| p.queued > 0) {
        deliver_tracked(&mut store, opts, &SystemClock, &[], rt)?.0
    } else {
        Delivery::default()
    };
    Ok(RunReport {
        at: opts.now,
        sync,
        projects,
        delivery,
        health: Vec::new(),
        health_error: None,
        timings: Timings::default(),
    })
}

/// Update every exercised component's health from this run and queue the health messages,
/// in one transaction. Feeds and projects come from the run's results; a channel counts as
/// failed when a delivery on it failed in this run, ok when one succeeded, and is left alone
/// when it had nothing to send.
pub(super) fn health_step(
    store: &mut impl MonitorState,
    t: &Templates,
    opts: &RunOptions,
    sync: &[SyncLine],
    projects: &[ProjectOutcome],
    channels: Vec<(String, Outcome)>,
) -> Result<Vec<HealthEvent>, StepError> {
    let mut outcomes: Vec<(String, Outcome)> = Vec::new();
    for l in sync {
        let o = if l.ok {
            Outcome::Ok
        } else {
            Outcome::Failed(l.detail.clone())
        };
        outcomes.push((format!("feed:{}", l.source), o));
    }
    for p in projects {
        let o = match &p.error {
            Some(e) => Outcome::Failed(e.clone()),
            None => Outcome::Ok,
        };
        outcomes.push((format!("project:{}", p.name), o));
    }
    outcomes.extend(
        channels
            .into_iter()
            .map(|(ch, o)| (format!("channel:{ch}"), o)),
    );
    let threshold = opts.config.watch.health_after;
    let prev = store.health()?;
    let (rows, events) = health::evaluate(&prev, &outcomes, opts.now, threshold);
    // A failing channel's own alert is queued for it too: it goes out through the other
    // channel now, and through the failing one once that works again.
    let notify = &opts.config.notify;
    let targets: Vec<&str> = [
        ("slack", notify.slack.is_some()),
        ("email", notify.email.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    let messages = health::messages(t, &events, opts.now, threshold, &targets)?;
    store.record_health(&rows, &messages, opts.now)?;
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::FixedClock;

    #[tokio::test]
    async fn the_injected_clock_stamps_the_run_not_the_wall_clock() {
        let dir = tempfile::tempdir().unwrap();
        let now: jiff::Timestamp = "2020-01-01T09:00:00Z".parse().unwrap();
        let later: jiff::Timestamp = "2020-01-01T09:07:00Z".parse().unwrap();
        let opts = RunOptions {
            config: crate::config::Config::default(),
            store: dir.path().join("store.sqlite3").into(),
            out_dir: dir.path().join("out"),
            sync_local: true,
            sync_remote: false,
            deliver: true,
            now,
            http: Default::default(),
        };
        // Never synced and no sources: the run stops, and is recorded as finished.
        // The test's own runtime (no library code builds one).
        let rt = tokio::runtime::Handle::current();
        let e = run_with_clock(&opts, &FixedClock(later), &rt).unwrap_err();
        assert!(matches!(e, RunError::NeverSynced(_)), "{e}");
        let last = crate::store::open(&opts.store)
            .unwrap()
            .last_run()
            .unwrap()
            .unwrap();
        assert_eq!(last.started_at, now);
        assert_eq!(last.finished_at, Some(later));
    }
}
