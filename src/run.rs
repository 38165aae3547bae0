//! `depwatch run`: the monitor's main job. Sync, scan every configured project from the store,
//! decide what is new, write drafts and release notes, queue notifications through the outbox,
//! and deliver what is due.
//!
//! Delivery guarantees (the outbox): a run's memory and the messages it queues are committed in
//! one transaction; a message is marked sent only after the channel accepted it. A crash before
//! the commit loses nothing (the next run sees the same changes and queues them again); a crash
//! between a channel accepting a message and the mark being written sends that one message
//! again on the next run: at most one duplicate per message in flight, never a lost alert.

use crate::config::{Config, Project};
use crate::feeds::SourceSpec;
use crate::feeds::http::{Http, HttpSettings};
use crate::health::{self, HealthEvent, Outcome};
use crate::monitor::{self, Event, EventKind, ProjectEvents, TrackedFinding};
use crate::notes::{NoteEntry, ReleaseNotes};
use crate::policy::Policy;
use crate::publish::affected::{self, Basis};
use crate::publish::draft::{self, DraftInput, TimelineEntry};
use crate::publish::templates::{TemplateError, Templates};
use crate::publish::{Payload, email, messages, slack};
use crate::report::{Finding, Report};
use crate::scan::{self, Backend, ScanOptions};
use crate::severity::Level;
use crate::store::{NewMessage, Store, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Failed deliveries are retried on later runs, backing off from this...
const RETRY_FIRST: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);
/// ...to at most this...
const RETRY_MAX: jiff::SignedDuration = jiff::SignedDuration::from_secs(6 * 3600);
/// ...and given up after this many attempts (recorded, and shown by `status`).
pub const MAX_ATTEMPTS: i64 = 12;

/// What a run does.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The validated configuration.
    pub config: Config,
    /// The store.
    pub store: PathBuf,
    /// Where drafts and release notes go.
    pub out_dir: PathBuf,
    /// Sync the config's local sources first.
    pub sync_local: bool,
    /// Also sync the enabled remote feeds.
    pub sync_remote: bool,
    /// Send due messages (false: queue only).
    pub deliver: bool,
    /// Now (injectable for tests and replays).
    pub now: Timestamp,
    /// Settings of the HTTP client used for feeds, Slack and GitHub.
    pub http: HttpSettings,
}

/// Errors that stop a run before it could do anything useful.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A template failed to load.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// Setting up the HTTP client or runtime failed.
    #[error("{0}")]
    Setup(String),
    /// The store was never synced and there is nothing to sync from.
    #[error(
        "the store {0} was never synced and the config lists no sources: add `sources = [...]` to depwatch.toml or run `depwatch sync`"
    )]
    NeverSynced(PathBuf),
}

/// One source's sync, as reported.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SyncLine {
    /// Source name.
    pub source: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// What happened.
    pub detail: String,
}

/// One project's part of a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProjectOutcome {
    /// Name.
    pub name: String,
    /// Open findings.
    pub open: usize,
    /// Highest severity among them.
    pub max_severity: Option<Level>,
    /// Events found this run, by name.
    pub events: Vec<String>,
    /// Files written (drafts, notes).
    pub written: Vec<PathBuf>,
    /// Messages queued.
    pub queued: usize,
    /// Why the project could not be processed (the others still were).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Notices (stale data, manifests that did not parse).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

/// Deliveries of this run.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Delivery {
    /// Messages accepted by their channel.
    pub sent: usize,
    /// Attempts that failed (retried on a later run).
    pub failed: usize,
    /// Messages given up on.
    pub given_up: usize,
    /// One line per failure: message id, project, channel, error (secrets redacted).
    pub errors: Vec<String>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunReport {
    /// When it ran.
    pub at: Timestamp,
    /// Sync results.
    pub sync: Vec<SyncLine>,
    /// Per project.
    pub projects: Vec<ProjectOutcome>,
    /// Deliveries.
    pub delivery: Delivery,
    /// Health events of this run: components failing `[watch] health-after` runs in a row,
    /// or working again after such an alert (each queued once for every channel).
    pub health: Vec<HealthEvent>,
    /// Why the health step failed (the rest of the run still counts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_error: Option<String>,
}

impl RunReport {
    /// `ok` when everything worked, `partial` when a source, project or delivery failed.
    pub fn outcome(&self) -> &'static str {
        let bad = self.sync.iter().any(|s| !s.ok)
            || self.projects.iter().any(|p| p.error.is_some())
            || self.delivery.failed > 0
            || self.delivery.given_up > 0
            || self.health_error.is_some();
        if bad { "partial" } else { "ok" }
    }

    /// The highest severity open in any project.
    pub fn max_severity(&self) -> Option<Level> {
        self.projects.iter().filter_map(|p| p.max_severity).max()
    }
}

/// A project's policy: its SECURITY.md (or the defaults) with the config's overrides.
pub fn project_policy(p: &Project) -> Result<Policy, crate::policy::PolicyError> {
    let mut policy = match &p.security_policy {
        Some(path) => Policy::load(path)?,
        None => Policy::defaults(),
    };
    policy.apply(&p.policy);
    Ok(policy)
}

/// Run the whole job.
pub fn run(opts: &RunOptions) -> Result<RunReport, RunError> {
    let mut store = Store::open(&opts.store)?;
    let templates = Templates::load(opts.config.templates.as_deref())?;
    let now_s = opts.now.to_string();
    let run_id = store.run_started(&now_s)?;
    let sync = sync_step(&mut store, opts)?;
    if store.sources()?.iter().all(|s| s.last_success.is_none()) {
        let e = RunError::NeverSynced(opts.store.clone());
        // Recorded as a failed run, so `status` does not show it as still running.
        let summary = serde_json::json!({ "error": e.to_string() }).to_string();
        store.run_finished(run_id, &Timestamp::now().to_string(), "failed", &summary)?;
        return Err(e);
    }
    let mut projects = Vec::new();
    for p in &opts.config.projects {
        projects.push(project_step(&mut store, &templates, opts, p));
    }
    let (mut delivery, channels) = if opts.deliver {
        deliver_tracked(&mut store, opts)?
    } else {
        (Delivery::default(), Vec::new())
    };
    let (health, health_error) =
        match health_step(&mut store, &templates, opts, &sync, &projects, channels) {
            Ok(events) => (events, None),
            Err(e) => {
                tracing::warn!(error = %e, "health step failed");
                (Vec::new(), Some(e))
            }
        };
    // The health messages just queued go out in this run too. This second pass does not
    // count in the channels' health (already recorded for the run); a failure is retried
    // from the outbox like any message.
    if opts.deliver && !health.is_empty() {
        let (more, _) = deliver_tracked(&mut store, opts)?;
        delivery.sent += more.sent;
        delivery.failed += more.failed;
        delivery.given_up += more.given_up;
        delivery.errors.extend(more.errors);
    }
    let report = RunReport {
        at: opts.now,
        sync,
        projects,
        delivery,
        health,
        health_error,
    };
    let summary = serde_json::to_string(&report).unwrap_or_default();
    store.run_finished(
        run_id,
        &Timestamp::now().to_string(),
        report.outcome(),
        &summary,
    )?;
    Ok(report)
}

/// Update every exercised component's health from this run and queue the health messages,
/// in one transaction. Feeds and projects come from the run's results; a channel counts as
/// failed when a delivery on it failed in this run, ok when one succeeded, and is left alone
/// when it had nothing to send.
fn health_step(
    store: &mut Store,
    t: &Templates,
    opts: &RunOptions,
    sync: &[SyncLine],
    projects: &[ProjectOutcome],
    channels: Vec<(String, Outcome)>,
) -> Result<Vec<HealthEvent>, String> {
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
    let prev = store.health().map_err(|e| e.to_string())?;
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
    let messages =
        health::messages(t, &events, opts.now, threshold, &targets).map_err(|e| e.to_string())?;
    store
        .record_health(&rows, &messages, &opts.now.to_string())
        .map_err(|e| e.to_string())?;
    Ok(events)
}

fn sync_step(store: &mut Store, opts: &RunOptions) -> Result<Vec<SyncLine>, RunError> {
    let mut lines = Vec::new();
    if opts.sync_local {
        for s in &opts.config.sources {
            let line = match s.parse::<SourceSpec>() {
                Err(e) => SyncLine {
                    source: s.clone(),
                    ok: false,
                    detail: e.to_string(),
                },
                Ok(spec) => match crate::sync::sync_local(store, &spec) {
                    Ok(r) => sync_line(&r),
                    Err(e) => SyncLine {
                        source: s.clone(),
                        ok: false,
                        detail: e.to_string(),
                    },
                },
            };
            lines.push(line);
        }
    }
    if opts.sync_remote {
        let defs = opts.config.feed_defs().map_err(RunError::Setup)?;
        match crate::sync::sync_feeds(store, &defs, opts.http.clone()) {
            Ok(rs) => lines.extend(rs.iter().map(sync_line)),
            Err(e) => lines.push(SyncLine {
                source: "feeds".into(),
                ok: false,
                detail: e.to_string(),
            }),
        }
    }
    Ok(lines)
}

fn sync_line(r: &crate::sync::SourceSync) -> SyncLine {
    SyncLine {
        source: r.source.clone(),
        ok: r.result.is_ok(),
        detail: match &r.result {
            Ok(o) if o.unchanged => "unchanged".into(),
            Ok(o) => format!(
                "{} written, {} removed, {} broken records skipped",
                o.written, o.removed, r.skipped
            ),
            Err(e) => format!("{e} (previous data kept)"),
        },
    }
}

fn project_step(
    store: &mut Store,
    t: &Templates,
    opts: &RunOptions,
    p: &Project,
) -> ProjectOutcome {
    let mut out = ProjectOutcome {
        name: p.name.clone(),
        open: 0,
        max_severity: None,
        events: Vec::new(),
        written: Vec::new(),
        queued: 0,
        error: None,
        notices: Vec::new(),
    };
    if let Err(e) = p.check_paths() {
        out.error = Some(e);
        return out;
    }
    if p.paths.is_empty() {
        out.notices
            .push("no path configured: policy only, not scanned".into());
        return out;
    }
    if let Err(e) = project_inner(store, t, opts, p, &mut out) {
        out.error = Some(e);
    }
    out
}

fn project_inner(
    store: &mut Store,
    t: &Templates,
    opts: &RunOptions,
    p: &Project,
    out: &mut ProjectOutcome,
) -> Result<(), String> {
    let tz = opts.config.tz();
    let today = opts.now.to_zoned(tz.clone()).date();
    let scan_opts = ScanOptions {
        paths: p.paths.clone(),
        backend: Backend::Store {
            path: opts.store.clone(),
            max_age: jiff::SignedDuration::from_hours(48),
            require_fresh: false,
        },
        ignores: opts.config.ignores.clone(),
        trusted_workspace: false,
        today,
        kind: None,
        require_manifest: true,
    };
    let project = p.clone();
    // Reading the checkout (policy and manifests) is the part a hostile or broken checkout
    // can make slow; it gets its own time budget so the other projects still run.
    let (policy, report): (Policy, Report) = within_time_budget(move || {
        let policy = project_policy(&project).map_err(|e| e.to_string())?;
        let report = scan::run(&scan_opts).map_err(|e| e.to_string())?;
        Ok((policy, report))
    })?;
    out.notices.extend(report.notices.iter().cloned());
    for m in report.manifests.iter().filter(|m| m.error.is_some()) {
        out.notices.push(format!(
            "{}: {} (its findings are kept open, not resolved)",
            m.path.display(),
            m.error.as_deref().unwrap_or_default()
        ));
    }
    let remembered = store.seen(&p.name).map_err(|e| e.to_string())?;
    let deadlines = |first: Timestamp, sev: Level| policy.deadlines(first, sev, &tz);
    let withdrawn = |ids: &[String]| store_withdrawn(store, ids);
    let diff = monitor::diff(
        &remembered,
        &monitor::DiffInput {
            project: &p.name,
            now: opts.now,
            findings: &report.findings,
            ignored: &report.ignored,
            complete: report.summary.manifest_errors == 0,
            warn_before: opts.config.deadline_warning,
            deadlines: &deadlines,
            withdrawn: &withdrawn,
        },
    )
    .map_err(|e| e.to_string())?;
    out.open = diff.open.len();
    out.max_severity = diff.open.iter().map(|f| f.finding.severity).max();
    out.events = diff
        .events
        .iter()
        .map(|e| e.kind.name().to_string())
        .collect();

    // Files: a draft per open vulnerability, and the release-notes section. Written before
    // the memory is committed: rewriting them on a retry is harmless.
    let dir = opts.out_dir.join(&p.name);
    for f in &diff.open {
        let mut input = draft_input(p, &policy, f, opts.now);
        input.zone = crate::policy::Zone::configured(opts.config.timezone.as_deref());
        let md = draft::render_markdown(t, &input).map_err(|e| e.to_string())?;
        let gh = draft::github_advisory(&input, &md);
        let stem = draft::file_stem(&p.name, f);
        let json = serde_json::to_string_pretty(&gh).map_err(|e| e.to_string())?;
        for (ext, body) in [("md", md), ("json", json + "\n")] {
            let path = dir.join("advisories").join(format!("{stem}.{ext}"));
            write_atomic(&path, body.as_bytes())?;
            out.written.push(path);
        }
    }
    let notes = run_notes(&diff.events, &diff.open);
    let md = crate::notes::render(t, &notes).map_err(|e| e.to_string())?;
    let path = dir.join("SECURITY-NOTES.md");
    write_atomic(&path, md.as_bytes())?;
    out.written.push(path);

    // Messages: one per channel for the run's events.
    let mut queued = Vec::new();
    if !diff.events.is_empty() {
        let pe = ProjectEvents {
            project: p.name.clone(),
            run_at: opts.now,
            zone: crate::policy::Zone::configured(opts.config.timezone.as_deref()),
            events: diff.events.clone(),
        };
        let names = event_names(&diff.events);
        for ch in &p.notify {
            let payload = match ch.as_str() {
                "slack" => Payload::Slack {
                    body: messages::slack_message(t, &pe).map_err(|e| e.to_string())?,
                },
                "email" => Payload::Email(messages::email(t, &pe).map_err(|e| e.to_string())?),
                other => return Err(format!("unknown channel {other}")),
            };
            queued.push(NewMessage {
                project: p.name.clone(),
                channel: ch.clone(),
                event: names.clone(),
                payload: serde_json::to_string(&payload).map_err(|e| e.to_string())?,
            });
        }
    }
    out.queued = queued.len();
    store
        .record_run(&p.name, &diff.rows, &queued, &opts.now.to_string())
        .map_err(|e| e.to_string())
}

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
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let budget = project_timeout().unwrap_or(DEFAULT_PROJECT_TIMEOUT);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("project-scan".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| format!("cannot start the project's scan: {e}"))?;
    match rx.recv_timeout(budget) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "the scan did not finish within the project time budget of {}s \
             (DEPWATCH_PROJECT_TIMEOUT)",
            budget.as_secs()
        )),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err("the project's scan stopped without an answer".into())
        }
    }
}

fn store_withdrawn(store: &Store, ids: &[String]) -> bool {
    store.withdrawn(ids).is_ok_and(|w| !w.is_empty())
}

fn event_names(events: &[Event]) -> String {
    let mut names: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

/// The draft's input for an open finding.
pub fn draft_input(p: &Project, policy: &Policy, f: &TrackedFinding, now: Timestamp) -> DraftInput {
    let rules = policy.deadline_rules(f.finding.severity);
    let rule = |k: monitor::DeadlineKind| {
        rules
            .iter()
            .find(|(kind, _)| *kind == k)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| "no deadline".into())
    };
    let d = &f.deadlines;
    let mut timeline = vec![
        TimelineEntry {
            label: "Initial response".into(),
            due: d.respond_by,
            rule: rule(monitor::DeadlineKind::Respond),
        },
        TimelineEntry {
            label: "Status update".into(),
            due: d.update_by,
            rule: rule(monitor::DeadlineKind::Update),
        },
    ];
    // Only a policy that promises an assessment has this deadline.
    if policy.assessment.is_some() {
        timeline.push(TimelineEntry {
            label: "Assessment complete".into(),
            due: d.assess_by,
            rule: rule(monitor::DeadlineKind::Assess),
        });
    }
    timeline.extend([
        TimelineEntry {
            label: "Fix released".into(),
            due: d.fix_by,
            rule: rule(monitor::DeadlineKind::Fix),
        },
        TimelineEntry {
            label: "Public disclosure".into(),
            due: d.disclose_by,
            rule: rule(monitor::DeadlineKind::Disclose),
        },
    ]);
    let mut references: Vec<String> = f.finding.url.iter().cloned().collect();
    for id in &f.finding.ids {
        // Ids of a kind depwatch does not know get no guessed link.
        let Some(link) = crate::advisory::AdvisoryId::new(id).url() else {
            continue;
        };
        if !references.contains(&link) {
            references.push(link);
        }
    }
    // The project's own advisory: its versions (config, else the supported rows of its
    // SECURITY.md table), the release that fixes it and its CVE come from the project only.
    let own = p.advisory_for(&f.finding.ids);
    let basis = if !p.versions.is_empty() {
        Basis::Config(p.versions.clone())
    } else {
        let rows: Vec<(String, String)> = policy
            .supported
            .iter()
            .filter(|r| r.supported)
            .map(|r| (r.version.clone(), r.origin.to_string()))
            .collect();
        if rows.is_empty() {
            Basis::None
        } else {
            Basis::Supported(rows)
        }
    };
    let fixed_in = match own {
        Some(a) if !a.fixed_in.is_empty() => &a.fixed_in,
        _ => &p.fixed_in,
    };
    DraftInput {
        project: p.name.clone(),
        project_versions: affected::project_versions(&basis, fixed_in),
        cve_id: own.and_then(|a| a.cve_id.clone()),
        finding: f.clone(),
        timeline,
        references,
        credits: Vec::new(),
        // The feeds carry no workaround field; the upgrade is under "Patches".
        workarounds: None,
        generated_at: now,
        zone: crate::policy::Zone::default(),
        policy_source: p
            .security_policy
            .as_ref()
            .and_then(|s| s.file_name())
            .map(|s| s.to_string_lossy().into_owned()),
    }
}

fn note_entry(f: &Finding, fixed: bool) -> NoteEntry {
    NoteEntry {
        ecosystem: f.package.ecosystem,
        package: f.package.name.clone(),
        id: f.id.clone(),
        ids: f.ids.clone(),
        severity: f.severity,
        summary: f.summary.clone(),
        url: f.url.clone(),
        from_versions: vec![f.package.version.clone()],
        to_versions: if fixed {
            Vec::new()
        } else {
            vec![f.package.version.clone()]
        },
        now: None,
        fixes: if fixed {
            Vec::new()
        } else {
            vec![f.fix.clone()]
        },
        files: vec![f.location.file.clone()],
    }
}

/// The security section for this run: fixed = resolved this run, new = first seen this run,
/// still open = the rest.
fn run_notes(events: &[Event], open: &[TrackedFinding]) -> ReleaseNotes {
    let new: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == EventKind::New)
        .map(|e| e.finding.fingerprint.as_str())
        .collect();
    let mut notes = ReleaseNotes {
        from: "the previous run".into(),
        to: "this run".into(),
        fixed: Vec::new(),
        still_open: Vec::new(),
        introduced: Vec::new(),
        warnings: Vec::new(),
    };
    for e in events {
        if let EventKind::Resolved { .. } = e.kind {
            notes.fixed.push(note_entry(&e.finding.finding, true));
        }
    }
    for f in open {
        let mut entry = note_entry(&f.finding, false);
        if new.contains(&f.fingerprint.as_str()) {
            entry.from_versions = Vec::new();
            notes.introduced.push(entry);
        } else {
            notes.still_open.push(entry);
        }
    }
    notes
}

/// Write a file through a temporary sibling and a rename, so readers never see half of it.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

fn retry_at(now: Timestamp, attempts: i64) -> Option<String> {
    if attempts + 1 >= MAX_ATTEMPTS {
        return None;
    }
    let factor = 1i64 << attempts.clamp(0, 20);
    let wait = RETRY_FIRST
        .checked_mul(factor as i32)
        .unwrap_or(RETRY_MAX)
        .min(RETRY_MAX);
    Some(now.checked_add(wait).unwrap_or(now).to_string())
}

/// Send every due message in the outbox, oldest first; also return each channel that had
/// something to send with its outcome: failed (the last error) if any of its messages failed,
/// else ok.
fn deliver_tracked(
    store: &mut Store,
    opts: &RunOptions,
) -> Result<(Delivery, Vec<(String, Outcome)>), RunError> {
    let now = opts.now;
    let due = store.due_messages(&now.to_string())?;
    let mut d = Delivery::default();
    let mut channels: std::collections::BTreeMap<String, Outcome> = Default::default();
    if due.is_empty() {
        return Ok((d, Vec::new()));
    }
    let http = Http::new(opts.http.clone()).map_err(|e| RunError::Setup(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::Setup(format!("tokio runtime: {e}")))?;
    let notify = &opts.config.notify;
    for m in due {
        let result: Result<(), String> = match serde_json::from_str::<Payload>(&m.payload) {
            Err(e) => Err(format!("unreadable payload: {e}")),
            Ok(Payload::Slack { body }) => match &notify.slack {
                None => Err("no [notify.slack] in the config".into()),
                Some(s) => match s.webhook.resolve() {
                    Err(e) => Err(e),
                    Ok(hook) => rt
                        .block_on(slack::post(&http, &hook, &body))
                        .map_err(|e| hook.scrub(&e.to_string())),
                },
            },
            Ok(Payload::Email(mail)) => match &notify.email {
                None => Err("no [notify.email] in the config".into()),
                Some(e) => {
                    let mut settings = e.settings.clone();
                    match e.password.as_ref().map(|p| p.resolve()).transpose() {
                        Err(err) => Err(err),
                        Ok(pw) => {
                            settings.password = pw.clone();
                            email::send(&settings, &mail).map_err(|err| {
                                let text = err.to_string();
                                match &pw {
                                    Some(p) => p.scrub(&text),
                                    None => text,
                                }
                            })
                        }
                    }
                }
            },
        };
        let at = Timestamp::now().max(now).to_string();
        match result {
            Ok(()) => {
                store.mark_sent(m.id, &at)?;
                d.sent += 1;
                channels.entry(m.channel.clone()).or_insert(Outcome::Ok);
            }
            Err(e) => {
                let next = retry_at(now, m.attempts);
                if next.is_none() {
                    d.given_up += 1;
                } else {
                    d.failed += 1;
                }
                d.errors.push(format!(
                    "message {} ({} via {}): {e}",
                    m.id, m.project, m.channel
                ));
                store.mark_failed(m.id, &e, next.as_deref(), &at)?;
                channels.insert(m.channel.clone(), Outcome::Failed(e));
            }
        }
    }
    Ok((d, channels.into_iter().collect()))
}

/// The run's summary for people (stdout of `depwatch run`).
pub fn summary_text(r: &RunReport, out_dir: &Path) -> String {
    use std::fmt::Write;
    // Details and errors may quote feeds, servers and checkouts: cleaned for the terminal.
    let clean = |t: &str| crate::text::clean(t, false);
    let mut s = String::new();
    let _ = writeln!(s, "depwatch run at {}", r.at);
    for l in &r.sync {
        let _ = writeln!(s, "  sync {}: {}", l.source, clean(&l.detail));
    }
    for p in &r.projects {
        let events = if p.events.is_empty() {
            "nothing new".to_string()
        } else {
            let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
            for e in &p.events {
                *counts.entry(e.as_str()).or_default() += 1;
            }
            counts
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let state = match &p.error {
            Some(e) => format!("FAILED: {}", clean(e)),
            None => format!(
                "{} open{}, {events}, {} message(s) queued",
                p.open,
                p.max_severity
                    .map(|l| format!(" (highest {})", l.as_str()))
                    .unwrap_or_default(),
                p.queued
            ),
        };
        let _ = writeln!(s, "  project {}: {state}", p.name);
        for n in &p.notices {
            let _ = writeln!(s, "    note: {}", clean(n));
        }
    }
    let d = &r.delivery;
    let _ = writeln!(
        s,
        "  delivery: {} sent, {} failed (retried next run), {} given up",
        d.sent, d.failed, d.given_up
    );
    if let Some(line) = health::summary_line(&r.health) {
        let _ = writeln!(s, "  health: {line}");
    }
    if let Some(e) = &r.health_error {
        let _ = writeln!(s, "  health: FAILED: {e}");
    }
    let _ = writeln!(s, "  drafts and notes in {}", out_dir.display());
    s
}

/// The run's summary as markdown, for `$GITHUB_STEP_SUMMARY`.
pub fn summary_markdown(r: &RunReport, fail_on: Level) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "## depwatch\n");
    let _ = writeln!(s, "| project | open | highest | events | status |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for p in &r.projects {
        let status = match &p.error {
            Some(e) => format!(
                "failed: {}",
                crate::text::clean(e, false).replace('|', "\\|")
            ),
            None if p.max_severity.is_some_and(|m| m >= fail_on) => "findings".into(),
            None => "ok".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            p.name,
            p.open,
            p.max_severity.map(|l| l.as_str()).unwrap_or("-"),
            if p.events.is_empty() {
                "-".to_string()
            } else {
                p.events.join(", ")
            },
            status
        );
    }
    let _ = writeln!(
        s,
        "\nDelivery: {} sent, {} failed, {} given up. Fails on: {}.",
        r.delivery.sent,
        r.delivery.failed,
        r.delivery.given_up,
        fail_on.as_str()
    );
    if let Some(line) = health::summary_line(&r.health) {
        let _ = writeln!(s, "\nHealth: {line}.");
    }
    s
}

/// One project's `publish` result.
#[derive(Debug, Clone)]
pub struct Published {
    /// Project.
    pub project: String,
    /// What happened, or why it failed (secrets redacted).
    pub result: Result<String, String>,
}

/// File the open findings' drafts on GitHub for every project with `[project.github]`.
pub fn publish_drafts(
    store: &Store,
    config: &Config,
    only: Option<&str>,
    now: Timestamp,
) -> Result<Vec<Published>, RunError> {
    let templates = Templates::load(config.templates.as_deref())?;
    let http = Http::new(HttpSettings::default()).map_err(|e| RunError::Setup(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::Setup(format!("tokio runtime: {e}")))?;
    let allow_custom = std::env::var("DEPWATCH_GHSA_TOKEN_URL").ok();
    let mut out = Vec::new();
    for p in &config.projects {
        let Some(gh) = &p.github else { continue };
        if only.is_some_and(|o| o != p.name) {
            continue;
        }
        let result = (|| -> Result<String, String> {
            let token = crate::config::SecretSource::Env(gh.token_env.clone()).resolve()?;
            let policy = project_policy(p).map_err(|e| e.to_string())?;
            let open =
                monitor::open_findings(&p.name, &store.seen(&p.name).map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?;
            let target = crate::publish::github::GithubTarget {
                api_base: gh.api_url.clone(),
                repo: gh.repo.clone(),
                token: token.clone(),
                allow_token_to_custom_base: crate::publish::github::token_allowed(
                    &gh.api_url,
                    allow_custom.as_deref(),
                ),
            };
            let (mut created, mut updated) = (0, 0);
            for f in &open {
                let mut input = draft_input(p, &policy, f, now);
                input.zone = crate::policy::Zone::configured(config.timezone.as_deref());
                let md = draft::render_markdown(&templates, &input).map_err(|e| e.to_string())?;
                let body = serde_json::to_value(draft::github_advisory(&input, &md))
                    .map_err(|e| e.to_string())?;
                let filed = rt
                    .block_on(crate::publish::github::file_draft(
                        &http,
                        &target,
                        &body,
                        &draft::marker(&f.fingerprint),
                    ))
                    .map_err(|e| token.scrub(&e.to_string()))?;
                if filed.created {
                    created += 1;
                } else {
                    updated += 1;
                }
            }
            Ok(format!(
                "{created} draft(s) filed, {updated} updated on {} (drafts stay unpublished for maintainers to review)",
                gh.repo
            ))
        })();
        out.push(Published {
            project: p.name.clone(),
            result,
        });
    }
    Ok(out)
}
