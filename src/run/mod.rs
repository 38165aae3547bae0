//! `depwatch run`: the monitor's main job. Sync, scan every configured project from the store,
//! decide what is new, write drafts and release notes, queue notifications through the outbox,
//! and deliver what is due.
//!
//! Delivery guarantees (the outbox): a run's memory and the messages it queues are committed in
//! one transaction; a message is marked sent only after the channel accepted it. A crash before
//! the commit loses nothing (the next run sees the same changes and queues them again); a crash
//! between a channel accepting a message and the mark being written sends that one message
//! again on the next run: at most one duplicate per message in flight, never a lost alert.
//!
//! The module is split by job: `cycle` runs one cycle (and the health step), `sources` syncs,
//! `project` does one project's work (`submit`: on uploaded files, for `depwatch serve`), `draft_input` builds a draft's input, `deliver` empties
//! the outbox through the channels, `digest` queues due digests, `summary` writes the
//! summaries, `file_drafts` files drafts
//! on GitHub; `error` is the steps' typed error, `clock` the injected clock.

mod clock;
mod cycle;
mod deliver;
mod digest;
mod draft_input;
mod error;
mod file_drafts;
mod incremental;
mod project;
mod sources;
mod submit;
mod summary;

pub use clock::{Clock, FixedClock, SystemClock};
pub use cycle::{cycle, fast_lane, run, run_with_clock};
pub use deliver::MAX_ATTEMPTS;
pub use digest::digest_due;
pub use draft_input::draft_input;
pub use error::StepError;
pub use file_drafts::{Published, publish_drafts};
pub use project::{DEFAULT_PROJECT_TIMEOUT, project_policy, project_timeout};
pub use submit::{Submitted, submit};
pub use summary::{summary_markdown, summary_text};

use crate::config::Config;
use crate::feeds::http::HttpSettings;
use crate::health::HealthEvent;
use crate::publish::templates::TemplateError;
use crate::severity::Level;
/// How a run ended: the store's run record and the report say the same.
pub use crate::store::RunOutcome;
use crate::store::StoreError;
use jiff::Timestamp;
use serde::Serialize;
use std::path::PathBuf;

/// What a run does.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The validated configuration.
    pub config: Config,
    /// The store.
    pub store: crate::store::Location,
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
    NeverSynced(crate::store::Location),
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
    /// Highest severity among them (malware aside: its records carry no score).
    pub max_severity: Option<Level>,
    /// Highest severity among the open findings of runtime dependencies
    /// ([`crate::scan::is_runtime`]), which `run --ci --fail-scope runtime` fails on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_runtime_severity: Option<Level>,
    /// Open malware findings: they fail `--ci` at any `--fail-on`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub malicious: usize,
    /// The open findings that carry exploit data (CISA KEV, an EPSS score), for
    /// `run --ci --fail-on-kev / --fail-on-epss` (not in the JSON: `open` counts them).
    #[serde(skip)]
    pub exploit_marked: Vec<crate::report::Finding>,
    /// Events found this run, by name.
    pub events: Vec<String>,
    /// Files written (drafts, notes).
    pub written: Vec<PathBuf>,
    /// Messages queued.
    pub queued: usize,
    /// Events of this run held for the project's next digest (`[notify] digest`).
    #[serde(skip_serializing_if = "is_zero")]
    pub held: usize,
    /// Digest messages queued in this run (one per channel when the digest fell due).
    #[serde(skip_serializing_if = "is_zero")]
    pub digest_queued: usize,
    /// Why the project could not be processed (the others still were).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Notices (stale data, manifests that did not parse).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
    /// Not rescanned: its inputs and its packages' advisories did not change since its last
    /// scan (issue 15); its remembered findings were reused and their deadlines evaluated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
    /// How long each phase took (`run --timings`). Not in the JSON or the run record: wall
    /// times differ from run to run, the rest of the report does not.
    #[serde(skip)]
    pub timings: Timings,
}

/// Wall-clock time of a cycle's phases, in milliseconds, as measured by the process that ran
/// it (`run --timings`). The project phases are split into the projects rescanned (a
/// re-match: their inputs or their packages' advisories changed, or `--full`) and those
/// reused (unchanged: remembered findings, deadlines evaluated); their sum is `projects_ms`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// Opening the store and loading the templates.
    pub open_ms: f64,
    /// The sync step (0 with `--no-sync`).
    pub sync_ms: f64,
    /// Every project's step.
    pub projects_ms: f64,
    /// Projects rescanned, and the time their steps took together.
    pub rescanned: usize,
    /// See `rescanned`.
    pub rescanned_ms: f64,
    /// Projects not rescanned (remembered findings reused), and their steps' time.
    pub reused: usize,
    /// See `reused`.
    pub reused_ms: f64,
    /// Digests, delivery and health.
    pub after_ms: f64,
    /// The whole cycle, from opening the store to the run's record.
    pub total_ms: f64,
}

/// Equal whatever the timings: two reports of the same cycle compare equal.
impl PartialEq for Timings {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Milliseconds since `t`.
fn ms_since(t: std::time::Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

impl RunReport {
    /// Ok when everything worked, partial when a source, project or delivery failed.
    pub fn outcome(&self) -> RunOutcome {
        let bad = self.sync.iter().any(|s| !s.ok)
            || self.projects.iter().any(|p| p.error.is_some())
            || self.delivery.failed > 0
            || self.delivery.given_up > 0
            || self.health_error.is_some();
        if bad {
            RunOutcome::Partial
        } else {
            RunOutcome::Ok
        }
    }

    /// The highest severity open in any project.
    pub fn max_severity(&self) -> Option<Level> {
        self.projects.iter().filter_map(|p| p.max_severity).max()
    }

    /// The highest severity open in any project among the findings `scope` counts.
    pub fn max_severity_in(&self, scope: crate::scan::FailScope) -> Option<Level> {
        match scope {
            crate::scan::FailScope::All => self.max_severity(),
            crate::scan::FailScope::Runtime => self
                .projects
                .iter()
                .filter_map(|p| p.max_runtime_severity)
                .max(),
        }
    }

    /// The open findings `--fail-on-kev` (`kev`) and `--fail-on-epss` (`epss`) fail a `--ci`
    /// run on, among those `scope` counts: `project: package id (why)`.
    pub fn exploited(
        &self,
        kev: bool,
        epss: Option<f64>,
        scope: crate::scan::FailScope,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.projects {
            for (f, why) in crate::scan::exploited(&p.exploit_marked, kev, epss, scope) {
                out.push(format!("{}: {} {} ({why})", p.name, f.package.name, f.id));
            }
        }
        out
    }

    /// Whether a `--ci` run fails: an open malware finding (whatever `fail_on` and `scope`:
    /// malware in a dev tool runs on the developers' and CI machines), or an open finding at
    /// or above `fail_on` among those `scope` counts.
    pub fn fails(&self, fail_on: Level, scope: crate::scan::FailScope) -> bool {
        self.projects.iter().any(|p| p.fails(fail_on, scope))
    }
}

impl ProjectOutcome {
    /// An open malware finding, or one at or above `fail_on` among those `scope` counts.
    pub fn fails(&self, fail_on: Level, scope: crate::scan::FailScope) -> bool {
        let max = match scope {
            crate::scan::FailScope::All => self.max_severity,
            crate::scan::FailScope::Runtime => self.max_runtime_severity,
        };
        self.malicious > 0 || max.is_some_and(|m| m >= fail_on)
    }
}

/// Run `f` holding `project`'s memory ([`crate::store::MonitorState::lock_project`]); the
/// lock is released whatever `f` returns.
fn holding_project<S: crate::store::MonitorState, T>(
    store: &mut S,
    project: &str,
    f: impl FnOnce(&mut S) -> Result<T, StepError>,
) -> Result<T, StepError> {
    store.lock_project(project)?;
    let r = f(store);
    let unlocked = store.unlock_project(project);
    let r = r?;
    unlocked?;
    Ok(r)
}
