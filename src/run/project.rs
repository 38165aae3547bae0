//! One project's part of a run: scan it from the store within its time budget, diff against
//! what the monitor remembers, write drafts and release notes, queue its messages.

use super::draft_input::draft_input;
use super::{ProjectOutcome, RunOptions, StepError};
use crate::config::Project;
use crate::monitor::digest::{self, DigestRules, HeldEvent, Route};
use crate::monitor::{self, Event, EventKind, ProjectEvents, TrackedFinding};
use crate::notes::ReleaseNotes;
use crate::policy::Policy;
use crate::publish::draft;
use crate::publish::templates::Templates;
use crate::publish::{Payload, messages};
use crate::report::{Finding, Report};
use crate::scan::{self, Backend, PackageSet, ScanOptions};
use crate::store::{
    AdvisoryStore, ChangeGenerations, DayOpen, MonitorState, NewHeld, NewMessage, ProjectInput,
};
use jiff::Timestamp;
use std::path::Path;

/// A project's policy: its SECURITY.md (or the defaults) with the config's overrides.
pub fn project_policy(p: &Project) -> Result<Policy, crate::policy::PolicyError> {
    let mut policy = match &p.security_policy {
        Some(path) => Policy::load(path)?,
        None => Policy::defaults(),
    };
    policy.apply(&p.policy);
    Ok(policy)
}

pub(super) fn project_step(
    store: &mut (impl AdvisoryStore + MonitorState),
    t: &Templates,
    opts: &RunOptions,
    p: &Project,
    only: Option<&PackageSet>,
    gens: Option<&ChangeGenerations>,
) -> ProjectOutcome {
    project_step_report(store, t, opts, p, only, gens, None).0
}

/// [`project_step`], also returning the scan's report when the scan ran (a submission to
/// `depwatch serve` answers with it). `uploaded`: the project's files were uploaded to this
/// directory, and the report and drafts name them relative to it.
// Each argument is a different input of the one step; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(super) fn project_step_report(
    store: &mut (impl AdvisoryStore + MonitorState),
    t: &Templates,
    opts: &RunOptions,
    p: &Project,
    only: Option<&PackageSet>,
    gens: Option<&ChangeGenerations>,
    uploaded: Option<&Path>,
) -> (ProjectOutcome, Option<Report>) {
    let mut out = ProjectOutcome {
        name: p.name.clone(),
        open: 0,
        max_severity: None,
        max_runtime_severity: None,
        malicious: 0,
        exploit_marked: Vec::new(),
        events: Vec::new(),
        written: Vec::new(),
        queued: 0,
        held: 0,
        digest_queued: 0,
        error: None,
        notices: Vec::new(),
        skipped: false,
    };
    if let Err(e) = p.check_paths() {
        out.error = Some(e);
        return (out, None);
    }
    if p.paths.is_empty() {
        out.notices
            .push("no path configured: policy only, not scanned".into());
        return (out, None);
    }
    let mut report = None;
    if let Err(e) = project_inner(
        store,
        t,
        opts,
        p,
        (only, gens, uploaded),
        &mut out,
        &mut report,
    ) {
        out.error = Some(e.to_string());
    }
    (out, report)
}

/// One line naming the dependencies the project's target environments rule out, and what
/// would have been reported on them: quiet, but said.
fn not_applicable_notice(report: &Report) -> Option<String> {
    let first = report.not_applicable.first()?;
    let quiet: usize = report
        .not_applicable
        .iter()
        .map(|n| n.advisories.len())
        .sum();
    let names: Vec<String> = report
        .not_applicable
        .iter()
        .take(5)
        .map(|n| format!("{} {}", n.name, n.requirement))
        .collect();
    let more = report.not_applicable.len().saturating_sub(names.len());
    Some(format!(
        "{} dependencies not applicable in the declared environments ({}) by their markers, \
         with {quiet} advisories not counted: {}{}",
        report.not_applicable.len(),
        first.environments.join("; "),
        names.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

/// With `only` (the fast lane), just the dependencies on those packages are matched and just
/// their remembered findings compared: the project's other findings are left as they are, and
/// no file is written (the next full cycle writes drafts and notes).
fn project_inner(
    store: &mut (impl AdvisoryStore + MonitorState),
    t: &Templates,
    opts: &RunOptions,
    p: &Project,
    (only, gens, uploaded): (
        Option<&PackageSet>,
        Option<&ChangeGenerations>,
        Option<&Path>,
    ),
    out: &mut ProjectOutcome,
    scanned: &mut Option<Report>,
) -> Result<(), StepError> {
    // Incremental (not in the fast lane, which re-matches on its own terms): the inputs' hash
    // and the change generations say whether a rescan could find anything new. Any doubt (no
    // hash, no generations, nothing remembered) rescans.
    // A full rescan (`--full`) still remembers what it scanned, for the next cycle.
    let hash = match (only, gens) {
        (None, Some(_)) => super::incremental::input_hash(opts, p),
        _ => None,
    };
    if let (Some(h), Some(g), false) = (&hash, gens, opts.config.full_rescan)
        && let Some(prev) = store.project_input(&p.name)?
        && prev.hash == *h
        && !g.changed_since(prev.generation, &prev.packages)
    {
        return reuse_remembered(store, t, opts, p, out);
    }
    let tz = opts.config.tz();
    let today = opts.now.to_zoned(tz.clone()).date();
    let scan_opts = ScanOptions {
        paths: p.paths.clone(),
        backend: Backend::Store {
            path: opts.store.clone(),
            max_age: scan::DEFAULT_MAX_AGE,
            require_fresh: false,
        },
        ignores: opts.config.ignores.clone(),
        trusted_workspace: false,
        allow_outside_includes: false,
        vex: p.vex.clone(),
        today,
        kind: None,
        require_manifest: true,
        targets: p.targets.clone(),
    };
    let project = p.clone();
    let only_packages = only.cloned();
    // Reading the checkout (policy and manifests) is the part a hostile or broken checkout
    // can make slow; it gets its own time budget so the other projects still run.
    let parse_opts = scan_opts.clone();
    let (policy, parsed) = within_time_budget(move || {
        let policy = project_policy(&project)?;
        let parsed = scan::parse_project(&parse_opts, only_packages.as_ref())?;
        Ok((policy, parsed))
    })?;
    // Matched against the cycle's open store: opening it again per project (a connection and
    // its authentication on PostgreSQL) cost more than the match itself.
    let (mut report, packages): (Report, PackageSet) = scan::report_from_store(
        store,
        &opts.store,
        (scan::DEFAULT_MAX_AGE, false),
        &scan_opts,
        parsed,
    )?;
    if let Some(root) = uploaded {
        report.relative_to(root);
    }
    if only.is_some() && report.summary.dependencies == 0 && report.summary.manifest_errors == 0 {
        out.notices.push(UNTOUCHED.into());
        return Ok(());
    }
    out.notices.extend(report.notices.iter().cloned());
    for m in report.manifests.iter().filter(|m| m.error.is_some()) {
        out.notices.push(format!(
            "{}: {} (its findings are kept open, not resolved)",
            m.path.display(),
            m.error.as_deref().unwrap_or_default()
        ));
    }
    // Read, diff and write the memory under the project's lock: a concurrent run of the same
    // project waits here, then diffs against what this one wrote.
    super::holding_project(store, &p.name, |store| {
        let mut remembered = store.seen(&p.name)?;
        // The open findings the fast lane does not compare: still open, so still counted in
        // the day's history.
        let mut others_open = Vec::new();
        if let Some(only) = only {
            // Fingerprints start `ecosystem/normalised-name/`, after `warning/` or `risk/` for
            // warnings and range risks.
            let (compared, others): (Vec<_>, Vec<_>) = remembered.into_iter().partition(|r| {
                let fp = r
                    .fingerprint
                    .strip_prefix(monitor::WARNING_PREFIX)
                    .or_else(|| r.fingerprint.strip_prefix(monitor::RISK_PREFIX))
                    .unwrap_or(&r.fingerprint);
                only.iter()
                    .any(|(e, n)| fp.starts_with(&format!("{}/{n}/", e.as_osv())))
            });
            remembered = compared;
            others_open = monitor::open_findings(&p.name, &others)?;
        }
        let deadlines = |first: Timestamp, f: &crate::report::Finding, since: Option<Timestamp>| {
            policy.deadlines_for(first, f.severity, since, &tz)
        };
        let withdrawn = |ids: &[String]| store_withdrawn(store, ids);
        let diff = monitor::diff(
            &remembered,
            &monitor::DiffInput {
                project: &p.name,
                now: opts.now,
                findings: &report.findings,
                warnings: &report.warnings,
                risks: &report.risks,
                ignored: &report.ignored,
                complete: report.summary.manifest_errors == 0,
                warn_before: opts.config.deadline_warning,
                deadlines: &deadlines,
                epss_alert: p.epss_alert.unwrap_or(crate::config::DEFAULT_EPSS_ALERT),
                withdrawn: &withdrawn,
                not_applicable: &report.not_applicable,
            },
        )?;
        summarise(out, &diff);
        if let Some(note) = not_applicable_notice(&report) {
            out.notices.push(note);
        }
        out.events = diff
            .events
            .iter()
            .map(|e| e.kind.name().to_string())
            .collect();

        // Files: a draft per open vulnerability, and the release-notes section. Written before
        // the memory is committed: rewriting them on a retry is harmless. Not in the fast lane,
        // which sees only some findings: the next full cycle writes them from all of them.
        if only.is_none() {
            write_files(
                store,
                t,
                opts,
                p,
                &policy,
                &diff,
                &report.not_applicable,
                out,
            )?;
        }
        queue_messages(store, t, opts, p, &diff, &others_open, out)?;
        if only.is_none() {
            // Remembered only after a complete scan whose memory is committed; the generation is
            // the one read before the scan, so a sync meanwhile makes the next cycle rescan.
            let input = match (hash, gens) {
                (Some(hash), Some(g)) if report.summary.manifest_errors == 0 => {
                    Some(ProjectInput {
                        hash,
                        generation: g.current,
                        packages: packages
                            .iter()
                            .map(|(e, n)| (e.as_osv().to_string(), n.clone()))
                            .collect(),
                    })
                }
                _ => None,
            };
            store.set_project_input(&p.name, input.as_ref())?;
        }
        Ok(())
    })?;
    *scanned = Some(report);
    Ok(())
}

/// The notice of a project not rescanned: same inputs, no advisory change on its packages.
pub(super) const UNCHANGED: &str = "unchanged since the last cycle (inputs and advisories): remembered findings reused, deadlines evaluated";

/// An unchanged project: its remembered open findings go through the diff again as this
/// cycle's findings, so deadline events fire as they would on a rescan; nothing is resolved
/// (the diff is told the scan is incomplete), no file is rewritten.
fn reuse_remembered(
    store: &mut (impl AdvisoryStore + MonitorState),
    t: &Templates,
    opts: &RunOptions,
    p: &Project,
    out: &mut ProjectOutcome,
) -> Result<(), StepError> {
    let tz = opts.config.tz();
    let policy = project_policy(p)?;
    super::holding_project(store, &p.name, |store| {
        let remembered = store.seen(&p.name)?;
        let findings: Vec<Finding> = monitor::open_findings(&p.name, &remembered)?
            .into_iter()
            .map(|f| f.finding)
            .collect();
        let deadlines = |first: Timestamp, f: &crate::report::Finding, since: Option<Timestamp>| {
            policy.deadlines_for(first, f.severity, since, &tz)
        };
        let withdrawn = |_: &[String]| false;
        let diff = monitor::diff(
            &remembered,
            &monitor::DiffInput {
                project: &p.name,
                now: opts.now,
                findings: &findings,
                warnings: &[],
                risks: &[],
                ignored: &[],
                complete: false,
                warn_before: opts.config.deadline_warning,
                deadlines: &deadlines,
                epss_alert: p.epss_alert.unwrap_or(crate::config::DEFAULT_EPSS_ALERT),
                withdrawn: &withdrawn,
                not_applicable: &[],
            },
        )?;
        summarise(out, &diff);
        out.events = diff
            .events
            .iter()
            .map(|e| e.kind.name().to_string())
            .collect();
        out.skipped = true;
        out.notices.push(UNCHANGED.into());
        queue_messages(store, t, opts, p, &diff, &[], out)
    })
}

/// The outcome's counts from the diff's open findings.
fn summarise(out: &mut ProjectOutcome, diff: &monitor::Diff) {
    out.open = diff.open.len();
    out.malicious = diff
        .open
        .iter()
        .filter(|f| f.finding.is_malicious())
        .count();
    out.exploit_marked = diff
        .open
        .iter()
        .filter(|f| f.finding.kev.is_some() || f.finding.epss.is_some())
        .map(|f| f.finding.clone())
        .collect();
    out.max_severity = diff
        .open
        .iter()
        .filter(|f| !f.finding.is_malicious())
        .map(|f| f.finding.severity)
        .max();
    out.max_runtime_severity = diff
        .open
        .iter()
        .filter(|f| !f.finding.is_malicious() && scan::is_runtime(f.finding.scope.as_deref()))
        .map(|f| f.finding.severity)
        .max();
}

// Each argument is a different input of the one step; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn write_files(
    store: &impl MonitorState,
    t: &Templates,
    opts: &RunOptions,
    p: &Project,
    policy: &Policy,
    diff: &monitor::Diff,
    not_applicable: &[crate::report::NotApplicable],
    out: &mut ProjectOutcome,
) -> Result<(), StepError> {
    let dir = opts.out_dir.join(&p.name);
    let key = draft::MarkerKey::new(store.draft_marker_key()?);
    for f in &diff.open {
        let mut input = draft_input(p, policy, f, opts.now);
        input.zone = crate::policy::Zone::configured(opts.config.timezone.as_deref());
        let md = draft::render_markdown(t, &input)?;
        let gh = draft::github_advisory(&input, &md, &key);
        let stem = draft::file_stem(&p.name, f);
        let json = serde_json::to_string_pretty(&gh)?;
        for (ext, body) in [("md", md), ("json", json + "\n")] {
            let path = dir.join("advisories").join(format!("{stem}.{ext}"));
            write_atomic(&path, body.as_bytes())?;
            out.written.push(path);
        }
    }
    let notes = run_notes(&diff.events, &diff.open, not_applicable);
    let md = crate::notes::render(t, &notes)?;
    let path = dir.join("SECURITY-NOTES.md");
    write_atomic(&path, md.as_bytes())?;
    out.written.push(path);
    Ok(())
}

/// Queue the run's messages and commit the memory with the day's history row, in one
/// transaction. `others_open`: open findings the diff did not compare (the fast lane's other
/// packages), counted in the history with the diff's.
#[allow(clippy::too_many_arguments)] // the run's parts; a struct would only rename them
fn queue_messages(
    store: &mut impl MonitorState,
    t: &Templates,
    opts: &RunOptions,
    p: &Project,
    diff: &monitor::Diff,
    others_open: &[TrackedFinding],
    out: &mut ProjectOutcome,
) -> Result<(), StepError> {
    // Messages: one per channel for the run's urgent events; the others are held for the
    // digest (only with `[notify] digest` and a channel to send it to). Warnings and range
    // risks only ever go to a digest: without one they are not alerted.
    let rules =
        (opts.config.notify.digest.is_some() && !p.notify.is_empty()).then_some(DigestRules {
            quiet_scopes: &p.quiet_scopes,
        });
    let mut urgent = Vec::new();
    let mut held = Vec::new();
    for e in diff.events.iter().chain(&diff.info_events) {
        match digest::route(e, rules) {
            Route::NotAlerted => {}
            Route::Urgent => urgent.push(e.clone()),
            Route::Digest(reason) => {
                let item = HeldEvent {
                    event: e.clone(),
                    reason: reason.to_string(),
                    run_at: opts.now,
                };
                held.push(NewHeld {
                    event: e.kind.name().to_string(),
                    item: serde_json::to_string(&item)?,
                });
            }
        }
    }
    out.held = held.len();
    let mut queued = Vec::new();
    if !urgent.is_empty() {
        let pe = ProjectEvents {
            project: p.name.clone(),
            run_at: opts.now,
            zone: crate::policy::Zone::configured(opts.config.timezone.as_deref()),
            events: urgent,
        };
        let names = event_names(&pe.events);
        for ch in &p.notify {
            let payload = match ch.as_str() {
                "slack" => Payload::Slack {
                    body: messages::slack_message(t, &pe)?,
                },
                "email" => Payload::Email(messages::email(t, &pe)?),
                other => return Err(StepError::UnknownChannel(other.to_string())),
            };
            queued.push(NewMessage {
                project: p.name.clone(),
                channel: ch.clone(),
                event: names.clone(),
                payload: serde_json::to_string(&payload)?,
            });
        }
    }
    out.queued = queued.len();
    let daily = daily_counts(diff.open.iter().chain(others_open), opts.now)?;
    store.record_run_daily(&p.name, &diff.rows, &queued, &held, Some(&daily), opts.now)?;
    Ok(())
}

/// The project's open findings today (UTC day of the run) by severity, most severe first, for
/// the dashboard's history (severities with none are left out, read back as zero), and its
/// summary for the overview.
fn daily_counts<'a>(
    open: impl Iterator<Item = &'a TrackedFinding>,
    now: jiff::Timestamp,
) -> Result<DayOpen, StepError> {
    let summary = monitor::OpenSummary::of(open.map(monitor::OpenMark::from));
    Ok(DayOpen {
        day: now.to_zoned(jiff::tz::TimeZone::UTC).date(),
        counts: summary.by_severity.clone(),
        summary: serde_json::to_string(&summary)?,
    })
}

/// The notice of a project the fast lane left alone: no dependency on a changed package.
pub(super) const UNTOUCHED: &str = "fast lane: no dependency on a changed package";

/// Default time budget of one project's scan in `run` / `watch` (`$DEPWATCH_PROJECT_TIMEOUT`).
pub const DEFAULT_PROJECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// The time budget of one project's scan: `$DEPWATCH_PROJECT_TIMEOUT` (whole seconds), else
/// [`DEFAULT_PROJECT_TIMEOUT`]; an unreadable value is an error naming the variable.
pub fn project_timeout() -> Result<std::time::Duration, String> {
    match std::env::var("DEPWATCH_PROJECT_TIMEOUT") {
        Err(_) => Ok(DEFAULT_PROJECT_TIMEOUT),
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(std::time::Duration::from_secs(n)),
            _ => Err(format!(
                "DEPWATCH_PROJECT_TIMEOUT={v:?} is not a positive whole number"
            )),
        },
    }
}

/// Run `work` on a thread of its own and wait at most the project time budget. Past it, the
/// project fails with an error saying so and the thread is left behind (a thread cannot be
/// killed; it holds no lock and ends with the process).
fn within_time_budget<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StepError> + Send + 'static,
) -> Result<T, StepError> {
    let budget = project_timeout().unwrap_or(DEFAULT_PROJECT_TIMEOUT);
    let (tx, rx) = std::sync::mpsc::channel();
    // The scan opens the store again, and a PostgreSQL store runs on the caller's runtime.
    let rt = tokio::runtime::Handle::try_current().ok();
    std::thread::Builder::new()
        .name("project-scan".into())
        .spawn(move || {
            let _rt = rt.as_ref().map(|h| h.enter());
            let _ = tx.send(work());
        })
        .map_err(StepError::Spawn)?;
    match rx.recv_timeout(budget) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            Err(StepError::TimedOut(budget.as_secs()))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(StepError::NoAnswer),
    }
}

fn store_withdrawn(store: &impl AdvisoryStore, ids: &[String]) -> bool {
    store.withdrawn(ids).is_ok_and(|w| !w.is_empty())
}

fn event_names(events: &[Event]) -> String {
    let mut names: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

/// The security section for this run, from the one release-notes builder
/// ([`crate::notes::compare_findings`]): before = what was open before this run (resolved this
/// run, and open but not new), after = what is open now. So fixed = resolved this run,
/// introduced = first seen this run, still open = the rest. A finding the declared target
/// environments ruled out this run was not fixed: it is left out.
pub(super) fn run_notes(
    events: &[Event],
    open: &[TrackedFinding],
    not_applicable: &[crate::report::NotApplicable],
) -> ReleaseNotes {
    let new: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == EventKind::New)
        .map(|e| e.finding.fingerprint.as_str())
        .collect();
    let resolved = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Resolved { .. }))
        .filter(|e| monitor::ruled_out(&e.finding.finding, not_applicable).is_none())
        .map(|e| e.finding.finding.clone());
    let before: Vec<Finding> = resolved
        .chain(
            open.iter()
                .filter(|f| !new.contains(&f.fingerprint.as_str()))
                .map(|f| f.finding.clone()),
        )
        .collect();
    let after: Vec<Finding> = open.iter().map(|f| f.finding.clone()).collect();
    crate::notes::compare_findings(&before, &after, "the previous run", "this run", None)
}

/// Write a file through a temporary sibling and a rename, so readers never see half of it.
/// An unchanged file keeps its modification time (what a publishing job goes by).
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StepError> {
    let at = |p: &Path| {
        let path = p.to_path_buf();
        move |source| StepError::Write { path, source }
    };
    // The same bytes already there are left alone: a rescan rewrites mostly unchanged drafts,
    // and creating and renaming their files was most of its time (profiled, issue 15). The
    // length is compared first, so a file of another size is never read.
    if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|old| old == bytes)
    {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(at(dir))?;
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, bytes).map_err(at(&tmp))?;
    std::fs::rename(&tmp, path).map_err(at(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::draft::test_support::{h2, requests, rustls};

    fn event(kind: EventKind, f: &TrackedFinding) -> Event {
        Event {
            kind,
            finding: f.clone(),
        }
    }

    #[test]
    fn write_atomic_leaves_an_unchanged_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("draft.md");
        write_atomic(&path, b"one").unwrap();
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
        let first = inode(&path);
        write_atomic(&path, b"one").unwrap();
        assert_eq!(inode(&path), first, "same bytes: not replaced");
        write_atomic(&path, b"two").unwrap();
        assert_ne!(inode(&path), first, "new bytes: replaced through a rename");
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
    }

    #[test]
    fn run_notes_come_from_the_shared_builder() {
        let (gone, new, old) = (requests(), rustls(), h2());
        let events = [
            event(
                EventKind::Resolved {
                    reason: "upgraded".into(),
                },
                &gone,
            ),
            event(EventKind::New, &new),
        ];
        let notes = run_notes(&events, &[new.clone(), old.clone()], &[]);
        fn ids(l: &[crate::notes::NoteEntry]) -> Vec<&str> {
            l.iter().map(|e| e.id.as_str()).collect()
        }
        assert_eq!(ids(&notes.fixed), [gone.finding.id.as_str()]);
        assert_eq!(ids(&notes.introduced), [new.finding.id.as_str()]);
        assert_eq!(ids(&notes.still_open), [old.finding.id.as_str()]);
        assert_eq!(
            (notes.from.as_str(), notes.to.as_str()),
            ("the previous run", "this run")
        );
        // The builder `depwatch notes` uses: versions on the side they apply to, fixes only
        // for what is still affected.
        assert_eq!(notes.fixed[0].from_versions.len(), 1);
        assert_eq!(
            notes.fixed[0].from_versions[0],
            gone.finding.package.version
        );
        assert!(notes.fixed[0].to_versions.is_empty() && notes.fixed[0].fixes.is_empty());
        assert!(notes.introduced[0].from_versions.is_empty());
        assert_eq!(notes.introduced[0].fixes.len(), 1);
        assert_eq!(notes.introduced[0].fixes[0], new.finding.fix);
        let same = crate::notes::compare_findings(
            &[gone.finding.clone(), old.finding.clone()],
            &[new.finding.clone(), old.finding.clone()],
            "the previous run",
            "this run",
            None,
        );
        assert_eq!(notes, same);

        // Ruled out by the declared environments this run: not "fixed".
        let na = crate::report::NotApplicable {
            location: gone.finding.location.clone(),
            ecosystem: gone.finding.package.ecosystem,
            name: gone.finding.package.name.clone(),
            requirement: gone.finding.package.version.clone(),
            markers: "python_version < '3.8'".into(),
            environments: vec!["python 3.12".into()],
            advisories: vec![gone.finding.id.clone()],
            scope: None,
            member: None,
        };
        let notes = run_notes(&events, &[new.clone(), old.clone()], &[na]);
        assert!(notes.fixed.is_empty(), "{:?}", ids(&notes.fixed));
        assert_eq!(ids(&notes.still_open), [old.finding.id.as_str()]);
    }
}
