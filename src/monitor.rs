//! The monitor's memory: which findings of a project are new, changed, near a deadline,
//! overdue or resolved since the last run. Publishers render these events; nothing else.

pub mod digest;

use crate::policy::Deadlines;
use crate::report::Finding;
use crate::severity::Level;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

// The policy owns its deadline kinds; re-exported here because events name them.
pub use crate::policy::DeadlineKind;

/// What happened to a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// Seen for the first time (or its ignore expired).
    New,
    /// The severity changed since it was last published.
    SeverityChanged {
        /// Before.
        from: Level,
        /// Now.
        to: Level,
    },
    /// An upgrade that clears it became available.
    FixAvailable {
        /// The version to upgrade to.
        version: String,
    },
    /// A policy deadline is near.
    DeadlineNear {
        /// Which one.
        deadline: DeadlineKind,
        /// When it falls due.
        due: Timestamp,
    },
    /// A policy deadline has passed.
    Overdue {
        /// Which one.
        deadline: DeadlineKind,
        /// When it fell due.
        due: Timestamp,
    },
    /// The finding became known exploited since the last run: it entered CISA KEV, or its
    /// EPSS score reached the project's `epss-alert`. Sent even for an old finding, and first
    /// among a run's events.
    KnownExploited {
        /// What changed, in words (`CVE-2020-11978 entered CISA KEV on 2022-01-18`).
        reason: String,
    },
    /// An unpinned requirement was first seen allowing affected versions (a range risk, not
    /// an open finding: only ever sent in a digest).
    RangeRisk {
        /// The requirement as written (`>=2.0`).
        requirement: String,
        /// Per advisory, the affected versions the requirement still allows
        /// (`GHSA-9wx4-h78v-vm56 (medium): <2.32.0`).
        allows: Vec<String>,
        /// depwatch's suggested bound excluding every known affected version, if there is one.
        suggested: Option<String>,
        /// Why there is no suggestion, when there is none.
        note: Option<String>,
    },
    /// The finding is gone.
    Resolved {
        /// Why: the dependency was upgraded or removed, or the advisory withdrawn.
        reason: String,
    },
}

impl EventKind {
    /// Urgency of the kind, 0 most urgent: now known exploited, overdue, deadline near, new,
    /// severity changed, fix available, resolved. Part of [`Event::urgency_cmp`].
    pub fn urgency_rank(&self) -> u8 {
        match self {
            Self::KnownExploited { .. } => 0,
            Self::Overdue { .. } => 1,
            Self::DeadlineNear { .. } => 2,
            Self::New => 3,
            Self::SeverityChanged { .. } => 4,
            Self::FixAvailable { .. } => 5,
            Self::Resolved { .. } => 6,
            // Never urgent (digest only): after everything that is.
            Self::RangeRisk { .. } => 7,
        }
    }

    /// How many kinds [`Self::urgency_rank`] tells apart.
    pub const KINDS: usize = 8;

    /// A short stable name (`new`, `severity_changed`, ...), for templates and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::New => "new",
            Self::SeverityChanged { .. } => "severity_changed",
            Self::FixAvailable { .. } => "fix_available",
            Self::DeadlineNear { .. } => "deadline_near",
            Self::Overdue { .. } => "overdue",
            Self::KnownExploited { .. } => "known_exploited",
            Self::Resolved { .. } => "resolved",
            Self::RangeRisk { .. } => "range_risk",
        }
    }
}

/// A finding as the monitor remembers it for one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedFinding {
    /// Stable across runs: `ecosystem/normalised-package/first-display-id`.
    pub fingerprint: String,
    /// The finding as last seen (for a resolved one: as it was before it went away).
    pub finding: Finding,
    /// When depwatch first saw it for this project; deadlines count from here.
    pub first_seen: Timestamp,
    /// The policy's deadlines for it.
    pub deadlines: Deadlines,
}

/// One event about one finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The finding it happened to.
    pub finding: TrackedFinding,
}

impl Event {
    /// Malware (installed code acting against you) and a finding in CISA KEV (attackers use
    /// it now) are alerted at once, never held back by a digest, scope or quiet setting: the
    /// one rule every routing of events asks. Their going away (resolved) is ordinary news.
    pub fn alerts_at_once(&self) -> bool {
        let f = &self.finding.finding;
        (f.is_malicious() || f.kev.is_some()) && !matches!(self.kind, EventKind::Resolved { .. })
    }

    /// The one urgency order, most urgent first: by [`EventKind::urgency_rank`]; within a kind
    /// the earliest deadline, then the one finding order ([`crate::report::finding_order`]:
    /// malware, KEV, EPSS, severity), then id, package and fingerprint, so the order is stable
    /// across runs.
    pub fn urgency_cmp(&self, other: &Self) -> std::cmp::Ordering {
        fn due(e: &Event) -> Option<Timestamp> {
            match &e.kind {
                EventKind::Overdue { due, .. } | EventKind::DeadlineNear { due, .. } => Some(*due),
                _ => None,
            }
        }
        fn tail(e: &Event) -> (&str, &str, &str) {
            let f = &e.finding.finding;
            (&f.id, &f.package.name, &e.finding.fingerprint)
        }
        (self.kind.urgency_rank(), due(self))
            .cmp(&(other.kind.urgency_rank(), due(other)))
            .then_with(|| {
                crate::report::finding_order(&self.finding.finding, &other.finding.finding)
            })
            .then_with(|| tail(self).cmp(&tail(other)))
    }
}

/// The events of one run for one project: what a Slack message or an email carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectEvents {
    /// The project's name.
    pub project: String,
    /// When the run happened.
    pub run_at: Timestamp,
    /// The zone deadlines are shown in (the configured `timezone`).
    #[serde(skip)]
    pub zone: crate::policy::Zone,
    /// The events, most urgent first.
    pub events: Vec<Event>,
}

use crate::report::{Fix, IgnoredFinding};
use crate::store::SeenRow;
use std::collections::{BTreeMap, BTreeSet};

/// The deadlines that raise "near" and "overdue" events. Respond and update deadlines are shown
/// in drafts, but depwatch cannot know when a maintainer responded, so alerting on them would
/// repeat for every finding: only the fix and the disclosure dates are watched.
pub const WATCHED_DEADLINES: [DeadlineKind; 2] = [DeadlineKind::Fix, DeadlineKind::Disclose];

/// A remembered state that could not be read back (a store written by something else).
#[derive(Debug, thiserror::Error)]
#[error("project {project}: remembered finding {fingerprint} is unreadable: {message}")]
pub struct MonitorError {
    /// Project.
    pub project: String,
    /// The row.
    pub fingerprint: String,
    /// Why.
    pub message: String,
}

/// What the monitor keeps per finding (JSON in the store's `state` column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct State {
    finding: Finding,
    deadlines: Deadlines,
    /// The severity people were last told.
    published_severity: Level,
    /// Whether people were last told an upgrade exists.
    fix_known: bool,
    /// Deadline alerts already sent (`near:fix`, `overdue:disclose`).
    #[serde(default)]
    notified: BTreeSet<String>,
    /// When depwatch first saw it in CISA KEV: the known-exploited fix deadline counts from
    /// here (an old finding that enters KEV is not overdue at once).
    #[serde(default)]
    exploited_since: Option<Timestamp>,
    /// An ignore or a VEX `not_affected` statement hides it now: remembered (not resolved,
    /// no event), but not open, so it writes no draft and fails no `run --ci`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    hidden: bool,
}

/// The inputs of one project's diff.
pub struct DiffInput<'a> {
    /// Project name.
    pub project: &'a str,
    /// Now.
    pub now: Timestamp,
    /// Current findings (vulnerabilities) of the project.
    pub findings: &'a [Finding],
    /// Current informational warnings (unmaintained, unsound, notice, yanked): remembered and
    /// diffed, but never open.
    pub warnings: &'a [Finding],
    /// Current range risks: remembered and diffed, but never open.
    pub risks: &'a [crate::report::RangeRisk],
    /// Findings an ignore still hides: they stay as they are, silent.
    pub ignored: &'a [IgnoredFinding],
    /// Every manifest of the project was read: only then can a missing finding count as
    /// resolved (a lockfile that failed to parse must not "resolve" everything in it).
    pub complete: bool,
    /// How long before a watched deadline a "near" event is sent.
    pub warn_before: jiff::SignedDuration,
    /// The policy's deadlines for (first seen, the finding, when it was first seen known
    /// exploited).
    pub deadlines: &'a dyn Fn(Timestamp, &Finding, Option<Timestamp>) -> Deadlines,
    /// The project's EPSS alert threshold (`epss-alert`): a score reaching it is an event.
    pub epss_alert: f64,
    /// Whether these ids' advisories are withdrawn (for the resolved reason).
    pub withdrawn: &'a dyn Fn(&[String]) -> bool,
    /// Dependencies the declared target environments rule out: a finding that went there is
    /// resolved as not applicable, not as upgraded.
    pub not_applicable: &'a [crate::report::NotApplicable],
}

/// The not-applicable entry a finding went to: same package and version, and one of its ids
/// among the advisories the entry would have had.
pub fn ruled_out<'a>(
    f: &Finding,
    not_applicable: &'a [crate::report::NotApplicable],
) -> Option<&'a crate::report::NotApplicable> {
    not_applicable.iter().find(|n| {
        n.ecosystem == f.package.ecosystem
            && n.ecosystem.normalize_name(&n.name)
                == f.package.ecosystem.normalize_name(&f.package.name)
            && n.requirement == f.package.version
            && n.advisories.iter().any(|a| f.ids.contains(a))
    })
}

/// The result of a project's diff.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// Events to publish, most urgent first.
    pub events: Vec<Event>,
    /// Rows to write back.
    pub rows: Vec<SeenRow>,
    /// Every open finding (for drafts and status), most severe first.
    pub open: Vec<TrackedFinding>,
    /// Events of warnings and range risks, most urgent first: kept apart from `events` (which
    /// feed release notes, run summaries and urgent messages) because they only ever go to a
    /// digest ([`digest::route`]).
    pub info_events: Vec<Event>,
}

/// Fingerprint prefix of a remembered informational warning.
pub const WARNING_PREFIX: &str = "warning/";
/// Fingerprint prefix of a remembered range risk.
pub const RISK_PREFIX: &str = "risk/";

/// Whether a remembered row is a warning or a range risk (never an open finding).
pub fn is_info_fingerprint(fp: &str) -> bool {
    fp.starts_with(WARNING_PREFIX) || fp.starts_with(RISK_PREFIX)
}

/// `warning/crates.io/paste/RUSTSEC-2024-0436`.
pub fn warning_fingerprint(f: &Finding) -> String {
    format!("{WARNING_PREFIX}{}", fingerprint(f))
}

/// `risk/PyPI/requests/>=2.0/GHSA-9wx4-h78v-vm56,PYSEC-2024-1`: the requirement and the display
/// ids it admits (sorted), so a requirement that comes to admit another advisory is a new risk.
pub fn risk_fingerprint(r: &crate::report::RangeRisk) -> String {
    let mut ids: Vec<&str> = r.advisories.iter().map(|a| a.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    format!(
        "{RISK_PREFIX}{}/{}/{}/{}",
        r.ecosystem.as_osv(),
        r.ecosystem.normalize_name(&r.package),
        r.requirement,
        ids.join(",")
    )
}

/// A range risk as the finding the monitor remembers: the requirement stands in for the
/// version, the advisories' ids for the ids. Nothing in it is invented: its summary lists what
/// the matcher reported.
fn risk_finding(r: &crate::report::RangeRisk) -> Finding {
    let mut ids: Vec<String> = r
        .advisories
        .iter()
        .flat_map(|a| a.ids.iter().chain(std::iter::once(&a.id)).cloned())
        .collect();
    ids.sort();
    ids.dedup();
    let id = r
        .advisories
        .first()
        .map_or_else(String::new, |a| a.id.clone());
    Finding {
        id,
        ids,
        sources: Vec::new(),
        kind: crate::advisory::AdvisoryKind::Vulnerability,
        package: crate::report::PackageRef {
            ecosystem: r.ecosystem,
            name: r.package.clone(),
            version: r.requirement.clone(),
        },
        severity: r.severity,
        cvss_score: None,
        cvss_vectors: Vec::new(),
        summary: Some(format!(
            "requirement {} allows affected versions of {} advisor{}",
            r.requirement,
            r.advisories.len(),
            if r.advisories.len() == 1 { "y" } else { "ies" }
        )),
        cwe_ids: Vec::new(),
        fixed_versions: Vec::new(),
        fix: Fix::NoFix,
        url: None,
        location: r.location.clone(),
        via: None,
        scope: None,
        member: None,
        markers: None,
        note: r.note.clone(),
        disagreements: Vec::new(),
        kev: None,
        kev_related: Vec::new(),
        epss: None,
        vex: Vec::new(),
    }
}

fn risk_event(r: &crate::report::RangeRisk) -> EventKind {
    EventKind::RangeRisk {
        requirement: r.requirement.clone(),
        allows: r
            .advisories
            .iter()
            .map(|a| format!("{} ({}): {}", a.id, a.severity, a.allowed_affected))
            .collect(),
        suggested: r.suggested.clone(),
        note: r.note.clone(),
    }
}

/// `crates.io/tokio/RUSTSEC-2023-0001`: ecosystem, normalised name, display id at first sight.
pub fn fingerprint(f: &Finding) -> String {
    format!("{}/{}", package_key(f), f.id)
}

fn package_key(f: &Finding) -> String {
    let eco = f.package.ecosystem;
    format!("{}/{}", eco.as_osv(), eco.normalize_name(&f.package.name))
}

fn deadline_of(d: &Deadlines, k: DeadlineKind) -> Option<Timestamp> {
    match k {
        DeadlineKind::Respond => d.respond_by,
        DeadlineKind::Update => d.update_by,
        DeadlineKind::Assess => d.assess_by,
        DeadlineKind::Fix => d.fix_by,
        DeadlineKind::Disclose => d.disclose_by,
    }
}

struct Row {
    fingerprint: String,
    first_seen: Timestamp,
    resolved_at: Option<Timestamp>,
    last_seen: Timestamp,
    state: State,
}

fn parse_row(project: &str, r: &SeenRow) -> Result<Row, MonitorError> {
    let bad = |message: String| MonitorError {
        project: project.to_string(),
        fingerprint: r.fingerprint.clone(),
        message,
    };
    Ok(Row {
        fingerprint: r.fingerprint.clone(),
        first_seen: r.first_seen,
        last_seen: r.last_seen,
        resolved_at: r.resolved_at,
        state: serde_json::from_str(&r.state).map_err(|e| bad(e.to_string()))?,
    })
}

fn ids_meet(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| b.contains(x))
}

/// Compare the current findings of a project with what was remembered, and say what changed.
pub fn diff(remembered: &[SeenRow], input: &DiffInput) -> Result<Diff, MonitorError> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for r in remembered {
        let row = parse_row(input.project, r)?;
        rows.insert(row.fingerprint.clone(), row);
    }
    let now = input.now;
    let mut events = Vec::new();
    let mut touched: BTreeSet<String> = BTreeSet::new();
    let mut current: Vec<&Finding> = input.findings.iter().collect();
    current.sort_by(|a, b| crate::report::finding_order(a, b).then(a.id.cmp(&b.id)));

    for f in current {
        // The remembered row for this vulnerability: same fingerprint, or the same package
        // with a shared id (a new alias may have changed the display id).
        let fp = fingerprint(f);
        let key = package_key(f);
        let found = if rows.contains_key(&fp) {
            Some(fp.clone())
        } else {
            rows.values()
                .find(|r| {
                    r.fingerprint.starts_with(&format!("{key}/"))
                        && ids_meet(&r.state.finding.ids, &f.ids)
                })
                .map(|r| r.fingerprint.clone())
        };
        let fp = found.unwrap_or(fp);
        if !touched.insert(fp.clone()) {
            continue; // the same vulnerability declared in another manifest of the project
        }
        let fix_known = matches!(f.fix, Fix::Upgrade { .. });
        match rows.get_mut(&fp) {
            Some(row) if row.resolved_at.is_none() => {
                let mut new_events = Vec::new();
                if f.severity != row.state.published_severity {
                    new_events.push(EventKind::SeverityChanged {
                        from: row.state.published_severity,
                        to: f.severity,
                    });
                    row.state.published_severity = f.severity;
                }
                if let (false, Fix::Upgrade { to }) = (row.state.fix_known, &f.fix) {
                    new_events.push(EventKind::FixAvailable {
                        version: to.clone(),
                    });
                }
                if let Some(reason) = newly_exploited(&row.state.finding, f, input.epss_alert) {
                    new_events.push(EventKind::KnownExploited { reason });
                }
                if f.kev.is_none() {
                    row.state.exploited_since = None;
                } else if row.state.exploited_since.is_none() {
                    row.state.exploited_since = Some(now);
                }
                row.state.fix_known = fix_known;
                row.state.hidden = false;
                row.state.finding = f.clone();
                row.state.deadlines =
                    (input.deadlines)(row.first_seen, f, row.state.exploited_since);
                row.last_seen = now;
                new_events.extend(deadline_events(&mut row.state, now, input.warn_before));
                for kind in new_events {
                    events.push(Event {
                        kind,
                        finding: tracked(row),
                    });
                }
            }
            _ => {
                // New, or back after it was resolved: deadlines count from now.
                let exploited_since = f.kev.as_ref().map(|_| now);
                let deadlines = (input.deadlines)(now, f, exploited_since);
                let mut state = State {
                    finding: f.clone(),
                    deadlines,
                    published_severity: f.severity,
                    fix_known,
                    notified: BTreeSet::new(),
                    exploited_since,
                    hidden: false,
                };
                // The new-finding message shows its deadlines: do not repeat them as alerts.
                let _ = deadline_events(&mut state, now, input.warn_before);
                let row = Row {
                    fingerprint: fp.clone(),
                    first_seen: now,
                    last_seen: now,
                    resolved_at: None,
                    state,
                };
                events.push(Event {
                    kind: EventKind::New,
                    finding: tracked(&row),
                });
                rows.insert(fp, row);
            }
        }
    }

    // Warnings and range risks: remembered so each is news once, never open, no deadlines.
    let mut info_events = Vec::new();
    let infos = input
        .warnings
        .iter()
        .filter(|w| w.kind.is_informational())
        .map(|w| (warning_fingerprint(w), w.clone(), EventKind::New))
        .chain(
            input
                .risks
                .iter()
                .map(|r| (risk_fingerprint(r), risk_finding(r), risk_event(r))),
        );
    for (fp, f, kind) in infos {
        if !touched.insert(fp.clone()) {
            continue; // declared again in another manifest of the project
        }
        match rows.get_mut(&fp) {
            Some(row) if row.resolved_at.is_none() => {
                row.state.finding = f;
                row.state.hidden = false;
                row.last_seen = now;
            }
            _ => {
                let row = Row {
                    fingerprint: fp.clone(),
                    first_seen: now,
                    last_seen: now,
                    resolved_at: None,
                    state: State {
                        published_severity: f.severity,
                        finding: f,
                        deadlines: Deadlines::default(),
                        fix_known: false,
                        notified: BTreeSet::new(),
                        exploited_since: None,
                        hidden: false,
                    },
                };
                info_events.push(Event {
                    kind,
                    finding: tracked(&row),
                });
                rows.insert(fp, row);
            }
        }
    }

    // Open rows not seen this run.
    for row in rows.values_mut() {
        if row.resolved_at.is_some() || touched.contains(&row.fingerprint) {
            continue;
        }
        let info = is_info_fingerprint(&row.fingerprint);
        let hidden = input.ignored.iter().any(|i| {
            let eco = i.package.ecosystem;
            package_key(&row.state.finding)
                == format!("{}/{}", eco.as_osv(), eco.normalize_name(&i.package.name))
                && (row.state.finding.ids.contains(&i.id)
                    || row.state.finding.ids.contains(&i.ignored_as))
        });
        if hidden {
            row.state.hidden = true;
            continue;
        }
        if !input.complete {
            continue;
        }
        let f = &row.state.finding;
        let ruled_out = ruled_out(f, input.not_applicable);
        let reason = if row.fingerprint.starts_with(RISK_PREFIX) {
            format!(
                "requirement {} of {} no longer allows these affected versions (narrowed, \
                 removed, or now allowing other advisories too)",
                f.package.version, f.package.name
            )
        } else if (input.withdrawn)(&row.state.finding.ids) {
            format!("advisory {} was withdrawn", row.state.finding.id)
        } else if let Some(n) = ruled_out {
            format!(
                "{} {} is not applicable in the declared environments ({}): its markers `{}` \
                 exclude them all",
                f.package.name,
                f.package.version,
                n.environments.join("; "),
                crate::text::shorten(&n.markers, 200)
            )
        } else {
            format!(
                "{} {} is no longer affected (upgraded or removed)",
                row.state.finding.package.name, row.state.finding.package.version
            )
        };
        row.resolved_at = Some(now);
        let event = Event {
            kind: EventKind::Resolved { reason },
            finding: tracked(row),
        };
        if info {
            info_events.push(event);
        } else {
            events.push(event);
        }
    }

    events.sort_by(Event::urgency_cmp);
    info_events.sort_by(Event::urgency_cmp);
    let mut open: Vec<TrackedFinding> = rows
        .values()
        .filter(|r| {
            r.resolved_at.is_none() && !r.state.hidden && !is_info_fingerprint(&r.fingerprint)
        })
        .map(tracked)
        .collect();
    open.sort_by(|a, b| {
        crate::report::finding_order(&a.finding, &b.finding).then(a.fingerprint.cmp(&b.fingerprint))
    });
    let out_rows = rows
        .values()
        .map(|r| SeenRow {
            fingerprint: r.fingerprint.clone(),
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            resolved_at: r.resolved_at,
            // Serialising our own plain struct cannot fail; an empty object would only lose
            // the memory of one finding, so no panic path is needed here.
            state: serde_json::to_string(&r.state).unwrap_or_else(|_| "{}".into()),
        })
        .collect();
    Ok(Diff {
        events,
        rows: out_rows,
        open,
        info_events,
    })
}

/// The open findings among remembered rows, most severe first (for `publish` and `status`);
/// a finding an ignore or VEX statement hides is not open.
pub fn open_findings(project: &str, rows: &[SeenRow]) -> Result<Vec<TrackedFinding>, MonitorError> {
    let mut out = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.resolved_at.is_none() && !is_info_fingerprint(&r.fingerprint))
    {
        let row = parse_row(project, r)?;
        if !row.state.hidden {
            out.push(tracked(&row));
        }
    }
    out.sort_by(|a, b| {
        crate::report::finding_order(&a.finding, &b.finding).then(a.fingerprint.cmp(&b.fingerprint))
    });
    Ok(out)
}

/// A project's open findings as the dashboard's overview shows them. A run writes it beside
/// the memory (in its transaction: [`crate::store::DayOpen::summary`]), so the overview of a
/// thousand projects reads one small row each instead of every finding's whole state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OpenSummary {
    /// Open findings by severity (severities with none left out).
    pub by_severity: Vec<(Level, u32)>,
    /// Open findings in CISA KEV.
    pub kev: u32,
    /// Open malware findings.
    pub malware: u32,
    /// Each open finding's nearest watched deadline (findings without one left out).
    pub next_deadlines: Vec<(DeadlineKind, Timestamp)>,
}

impl OpenSummary {
    /// The summary of these open findings.
    pub fn of(marks: impl IntoIterator<Item = OpenMark>) -> Self {
        let mut by: BTreeMap<Level, u32> = BTreeMap::new();
        let mut s = Self::default();
        for m in marks {
            *by.entry(m.severity).or_default() += 1;
            s.kev += u32::from(m.kev);
            s.malware += u32::from(m.malicious);
            if let Some(next) = next_watched(&m.deadlines) {
                s.next_deadlines.push(next);
            }
        }
        s.by_severity = by.into_iter().rev().collect();
        s.next_deadlines.sort_by_key(|(_, t)| *t);
        s
    }
}

/// The nearest watched deadline (fix, disclose) of a finding.
pub fn next_watched(d: &Deadlines) -> Option<(DeadlineKind, Timestamp)> {
    WATCHED_DEADLINES
        .iter()
        .filter_map(|k| deadline_of(d, *k).map(|t| (*k, t)))
        .min_by_key(|(_, t)| *t)
}

impl From<&TrackedFinding> for OpenMark {
    fn from(f: &TrackedFinding) -> Self {
        Self {
            severity: f.finding.severity,
            kev: f.finding.kev.is_some(),
            malicious: f.finding.is_malicious(),
            deadlines: f.deadlines.clone(),
        }
    }
}

/// What the dashboard's overview shows of an open finding: its marks and deadlines.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenMark {
    /// The finding's severity.
    pub severity: Level,
    /// In CISA KEV.
    pub kev: bool,
    /// Malware.
    pub malicious: bool,
    /// Its policy deadlines.
    pub deadlines: Deadlines,
}

/// The fields of a remembered state [`open_marks`] reads; serde skips the rest unparsed,
/// which is most of the overview's cost saved (a full [`Finding`] per open finding of every
/// project otherwise).
#[derive(Deserialize)]
struct MarkState {
    finding: MarkFinding,
    deadlines: Deadlines,
    #[serde(default)]
    hidden: bool,
}

#[derive(Deserialize)]
struct MarkFinding {
    kind: crate::advisory::AdvisoryKind,
    severity: Level,
    #[serde(default)]
    kev: Option<serde::de::IgnoredAny>,
}

/// The marks of the findings [`open_findings`] returns, in no particular order: the same rows
/// (unresolved, not a warning or range risk, not hidden), read cheaply.
pub fn open_marks(project: &str, rows: &[SeenRow]) -> Result<Vec<OpenMark>, MonitorError> {
    let mut out = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.resolved_at.is_none() && !is_info_fingerprint(&r.fingerprint))
    {
        let s: MarkState = serde_json::from_str(&r.state).map_err(|e| MonitorError {
            project: project.to_string(),
            fingerprint: r.fingerprint.clone(),
            message: e.to_string(),
        })?;
        if !s.hidden {
            out.push(OpenMark {
                severity: s.finding.severity,
                kev: s.finding.kev.is_some(),
                malicious: s.finding.kind == crate::advisory::AdvisoryKind::Malware,
                deadlines: s.deadlines,
            });
        }
    }
    Ok(out)
}

/// The findings among remembered rows the monitor saw resolved, with when (for `vex`), in
/// fingerprint order. Warnings and range risks are not vulnerabilities: left out.
pub fn resolved_findings(
    project: &str,
    rows: &[SeenRow],
) -> Result<Vec<(TrackedFinding, Timestamp)>, MonitorError> {
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| !is_info_fingerprint(&r.fingerprint)) {
        if let Some(at) = r.resolved_at {
            out.push((tracked(&parse_row(project, r)?), at));
        }
    }
    out.sort_by(|a, b| a.0.fingerprint.cmp(&b.0.fingerprint));
    Ok(out)
}

fn tracked(r: &Row) -> TrackedFinding {
    TrackedFinding {
        fingerprint: r.fingerprint.clone(),
        finding: r.state.finding.clone(),
        first_seen: r.first_seen,
        deadlines: r.state.deadlines.clone(),
    }
}

/// Why a finding still open is now known exploited, if it is: it entered CISA KEV, or its EPSS
/// score reached `alert` (having been below it, or unscored, at the last run).
fn newly_exploited(before: &Finding, now: &Finding, alert: f64) -> Option<String> {
    if let (None, Some(k)) = (&before.kev, &now.kev) {
        return Some(format!(
            "{} entered CISA KEV on {} (catalog {}, source {})",
            k.cve, k.date_added, k.catalog_version, k.source
        ));
    }
    let was = before.epss_score().unwrap_or(0.0);
    match &now.epss {
        Some(e) if e.score >= alert && was < alert => Some(format!(
            "EPSS of {} rose to {} (from {}), reaching the project's epss-alert of {alert} ({})",
            e.cve,
            e.score,
            before
                .epss
                .as_ref()
                .map_or_else(|| "no score".to_string(), |b| b.score.to_string()),
            e.describe()
        )),
        _ => None,
    }
}

fn deadline_events(
    state: &mut State,
    now: Timestamp,
    warn: jiff::SignedDuration,
) -> Vec<EventKind> {
    let mut out = Vec::new();
    for k in WATCHED_DEADLINES {
        let Some(due) = deadline_of(&state.deadlines, k) else {
            continue;
        };
        let name = format!("{k:?}").to_ascii_lowercase();
        if now >= due {
            if state.notified.insert(format!("overdue:{name}")) {
                state.notified.insert(format!("near:{name}"));
                out.push(EventKind::Overdue { deadline: k, due });
            }
        } else if now.checked_add(warn).is_ok_and(|t| t >= due)
            && state.notified.insert(format!("near:{name}"))
        {
            out.push(EventKind::DeadlineNear { deadline: k, due });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::AdvisoryKind;
    use crate::ecosystem::Ecosystem;
    use crate::report::{Location, PackageRef};

    fn finding(id: &str, version: &str, severity: Level, fix: Option<&str>) -> Finding {
        Finding {
            id: id.into(),
            ids: vec![id.into(), "CVE-2024-35195".into()],
            sources: vec!["osv-dir:x".into()],
            kind: AdvisoryKind::Vulnerability,
            package: PackageRef {
                ecosystem: Ecosystem::PyPI,
                name: "Requests".into(),
                version: version.into(),
            },
            severity,
            cvss_score: None,
            cvss_vectors: vec![],
            summary: Some("Session verify=False persists".into()),
            cwe_ids: vec![],
            fixed_versions: vec!["2.32.2".into()],
            fix: match fix {
                Some(v) => Fix::Upgrade { to: v.into() },
                None => Fix::NoFix,
            },
            url: None,
            location: Location {
                file: "requirements.txt".into(),
                line: 4,
            },
            via: None,
            scope: None,
            member: None,
            markers: None,
            note: None,
            disagreements: vec![],
            kev: None,
            kev_related: Vec::new(),
            epss: None,
            vex: Vec::new(),
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// Fix due 10 days after first seen.
    fn ten_days(first: Timestamp, _: &Finding, _: Option<Timestamp>) -> Deadlines {
        Deadlines {
            respond_by: Some(first + jiff::SignedDuration::from_hours(48)),
            update_by: None,
            assess_by: None,
            fix_by: Some(first + jiff::SignedDuration::from_hours(240)),
            disclose_by: None,
        }
    }

    fn input<'a>(
        now: &str,
        findings: &'a [Finding],
        ignored: &'a [IgnoredFinding],
        complete: bool,
        withdrawn: &'a dyn Fn(&[String]) -> bool,
    ) -> DiffInput<'a> {
        DiffInput {
            project: "p",
            now: ts(now),
            findings,
            warnings: &[],
            risks: &[],
            ignored,
            complete,
            warn_before: jiff::SignedDuration::from_hours(72),
            deadlines: &ten_days,
            epss_alert: 0.1,
            withdrawn,
            not_applicable: &[],
        }
    }

    fn run(
        seen: &[SeenRow],
        now: &str,
        findings: &[Finding],
        ignored: &[IgnoredFinding],
        complete: bool,
    ) -> Diff {
        diff(seen, &input(now, findings, ignored, complete, &|_| false)).unwrap()
    }

    fn kinds(d: &Diff) -> Vec<&'static str> {
        d.events.iter().map(|e| e.kind.name()).collect()
    }

    fn kev(cve: &str) -> crate::report::KevMark {
        crate::report::KevMark {
            cve: cve.into(),
            date_added: jiff::civil::date(2025, 9, 2),
            due_date: jiff::civil::date(2025, 9, 23),
            known_ransomware_campaign_use: "Unknown".into(),
            catalog_version: "2026.01.29".into(),
            source: "kev".into(),
        }
    }

    fn epss(score: f64) -> crate::report::EpssMark {
        crate::report::EpssMark {
            cve: "CVE-2024-35195".into(),
            score,
            percentile: 0.9,
            score_date: None,
            model_version: None,
            source: "epss".into(),
        }
    }

    /// `open_marks` reads the same findings `open_findings` does, with the same marks: KEV,
    /// malware, severity, deadlines; resolved, hidden and warning rows left out.
    #[test]
    fn open_marks_agree_with_open_findings() {
        let mut a = finding("GHSA-a", "2.31.0", Level::High, Some("2.32.2"));
        a.kev = Some(kev("CVE-2024-35195"));
        let mut b = finding("GHSA-b", "2.31.0", Level::Unknown, None);
        b.kind = AdvisoryKind::Malware;
        let mut c = finding("GHSA-c", "2.31.0", Level::Low, None);
        // Three vulnerabilities, not one known by three ids.
        for f in [&mut a, &mut b, &mut c] {
            f.ids = vec![f.id.clone()];
        }
        let d1 = run(&[], "2026-01-01T00:00:00Z", &[a, b, c], &[], true);
        // c is resolved the next day.
        let keep: Vec<Finding> = d1
            .open
            .iter()
            .filter(|f| f.finding.id != "GHSA-c")
            .map(|f| f.finding.clone())
            .collect();
        let d2 = run(&d1.rows, "2026-01-02T00:00:00Z", &keep, &[], true);
        let mut rows = d2.rows.clone();
        rows.push(SeenRow {
            fingerprint: format!("{WARNING_PREFIX}PyPI/x/RUSTSEC-0000-0000"),
            first_seen: ts("2026-01-01T00:00:00Z"),
            last_seen: ts("2026-01-01T00:00:00Z"),
            resolved_at: None,
            state: "not even JSON: warnings are not read".into(),
        });
        let mut marks = open_marks("p", &rows).unwrap();
        let mut want: Vec<OpenMark> = open_findings("p", &rows)
            .unwrap()
            .into_iter()
            .map(|f| OpenMark {
                severity: f.finding.severity,
                kev: f.finding.kev.is_some(),
                malicious: f.finding.is_malicious(),
                deadlines: f.deadlines,
            })
            .collect();
        let key = |m: &OpenMark| (m.severity, m.kev, m.malicious);
        marks.sort_by_key(key);
        want.sort_by_key(key);
        assert_eq!(marks.len(), 2, "{marks:?}");
        assert_eq!(marks, want);
        assert!(marks.iter().any(|m| m.kev && m.severity == Level::High));
        assert!(marks.iter().any(|m| m.malicious));
        assert!(marks.iter().all(|m| m.deadlines.fix_by.is_some()));
    }

    /// An old finding that enters KEV, or whose EPSS score reaches `epss-alert`, is an event,
    /// sent before every other kind; a new finding already in KEV is only `new` (its message
    /// shows the mark); a score staying above the threshold is not news again.
    #[test]
    fn now_known_exploited_is_an_event_for_old_findings() {
        let plain = finding("GHSA-9wx4-h78v-vm56", "2.31.0", Level::Medium, None);
        let d1 = run(
            &[],
            "2026-01-01T00:00:00Z",
            std::slice::from_ref(&plain),
            &[],
            true,
        );
        assert_eq!(kinds(&d1), ["new"]);
        let mut in_kev = plain.clone();
        in_kev.kev = Some(kev("CVE-2024-35195"));
        // Forty days after first seen: the 10-day fix deadline is past too.
        let d2 = run(
            &d1.rows,
            "2026-02-10T00:00:00Z",
            &[in_kev.clone()],
            &[],
            true,
        );
        assert_eq!(kinds(&d2), ["known_exploited", "overdue"]);
        let EventKind::KnownExploited { reason } = &d2.events[0].kind else {
            panic!("{:?}", d2.events[0].kind)
        };
        assert!(
            reason.starts_with("CVE-2024-35195 entered CISA KEV on 2025-09-02 (catalog 2026.01.29"),
            "{reason}"
        );
        let d3 = run(
            &d2.rows,
            "2026-02-11T00:00:00Z",
            &[in_kev.clone()],
            &[],
            true,
        );
        assert!(kinds(&d3).is_empty(), "{:?}", kinds(&d3));

        // EPSS: below, then at the threshold (0.1 in these tests), then still above.
        let mut low = plain.clone();
        low.epss = Some(epss(0.05));
        let e1 = run(&[], "2026-01-01T00:00:00Z", &[low], &[], true);
        let mut high = plain.clone();
        high.epss = Some(epss(0.1));
        let e2 = run(&e1.rows, "2026-01-02T00:00:00Z", &[high.clone()], &[], true);
        assert_eq!(kinds(&e2), ["known_exploited"]);
        let e3 = run(&e2.rows, "2026-01-03T00:00:00Z", &[high], &[], true);
        assert!(kinds(&e3).is_empty());

        let n = run(&[], "2026-01-01T00:00:00Z", &[in_kev], &[], true);
        assert_eq!(kinds(&n), ["new"]);
    }

    /// Within one kind, the one finding order: malware, KEV, EPSS (higher first), severity.
    #[test]
    fn events_of_a_kind_follow_the_one_finding_order() {
        let mut crit = finding("PYSEC-2099-1", "1.0", Level::Critical, None);
        crit.package.name = "a".into();
        let mut kev_low = finding("PYSEC-2099-2", "1.0", Level::Low, None);
        kev_low.package.name = "b".into();
        kev_low.kev = Some(kev("CVE-2099-0002"));
        let mut epss_med = finding("PYSEC-2099-3", "1.0", Level::Medium, None);
        epss_med.package.name = "c".into();
        epss_med.epss = Some(epss(0.5));
        let mut malware = finding("MAL-2099-4", "1.0", Level::Unknown, None);
        malware.package.name = "d".into();
        malware.kind = AdvisoryKind::Malware;
        let d = run(
            &[],
            "2026-01-01T00:00:00Z",
            &[crit, kev_low, epss_med, malware],
            &[],
            true,
        );
        let ids: Vec<&str> = d
            .events
            .iter()
            .map(|e| e.finding.finding.id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["MAL-2099-4", "PYSEC-2099-2", "PYSEC-2099-3", "PYSEC-2099-1"]
        );
        let open: Vec<&str> = d.open.iter().map(|t| t.finding.id.as_str()).collect();
        assert_eq!(open, ids);
    }

    /// The monitor's own order used to break ties by fingerprint only, while messages used the
    /// earliest deadline: now both use [`Event::urgency_cmp`], the earlier deadline first.
    #[test]
    fn one_urgency_order_earliest_deadline_first() {
        let event = |id: &str, due: &str| {
            let f = finding(id, "2.31.0", Level::High, None);
            Event {
                kind: EventKind::Overdue {
                    deadline: DeadlineKind::Fix,
                    due: ts(due),
                },
                finding: TrackedFinding {
                    fingerprint: fingerprint(&f),
                    finding: f,
                    first_seen: ts("2026-11-01T00:00:00Z"),
                    deadlines: Deadlines::default(),
                },
            }
        };
        // "A" sorts first by id and fingerprint, but fell due later.
        let mut events = [
            event("GHSA-aaaa-aaaa-aaaa", "2026-11-20T00:00:00Z"),
            event("GHSA-zzzz-zzzz-zzzz", "2026-11-10T00:00:00Z"),
            Event {
                kind: EventKind::New,
                ..event("GHSA-0000-0000-0000", "2026-11-01T00:00:00Z")
            },
        ];
        events.sort_by(Event::urgency_cmp);
        let ids: Vec<&str> = events
            .iter()
            .map(|e| e.finding.finding.id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "GHSA-zzzz-zzzz-zzzz",
                "GHSA-aaaa-aaaa-aaaa",
                "GHSA-0000-0000-0000"
            ]
        );
    }

    #[test]
    fn alerts_once_then_follows_changes() {
        let f = finding("GHSA-9wx4-h78v-vm56", "2.31.0", Level::Medium, None);
        let d1 = run(
            &[],
            "2026-12-01T10:00:00Z",
            std::slice::from_ref(&f),
            &[],
            true,
        );
        assert_eq!(kinds(&d1), ["new"]);
        assert_eq!(
            d1.events[0].finding.fingerprint,
            "PyPI/requests/GHSA-9wx4-h78v-vm56"
        );
        assert_eq!(
            d1.events[0].finding.deadlines.fix_by,
            Some(ts("2026-12-11T10:00:00Z"))
        );
        // The same state an hour later: nothing to say.
        let d2 = run(
            &d1.rows,
            "2026-12-01T11:00:00Z",
            std::slice::from_ref(&f),
            &[],
            true,
        );
        assert!(d2.events.is_empty(), "{:?}", d2.events);
        // Severity up and a fix appears: two events; deadlines keep counting from first seen.
        let g = finding("GHSA-9wx4-h78v-vm56", "2.31.0", Level::High, Some("2.32.2"));
        let d3 = run(
            &d2.rows,
            "2026-12-02T10:00:00Z",
            std::slice::from_ref(&g),
            &[],
            true,
        );
        assert_eq!(kinds(&d3), ["severity_changed", "fix_available"]);
        assert_eq!(d3.events[0].finding.first_seen, ts("2026-12-01T10:00:00Z"));
        // Three days before the fix deadline: near, once.
        let d4 = run(
            &d3.rows,
            "2026-12-08T10:00:00Z",
            std::slice::from_ref(&g),
            &[],
            true,
        );
        assert_eq!(kinds(&d4), ["deadline_near"]);
        let d5 = run(
            &d4.rows,
            "2026-12-09T10:00:00Z",
            std::slice::from_ref(&g),
            &[],
            true,
        );
        assert!(d5.events.is_empty());
        // Past it: overdue, once.
        let d6 = run(
            &d5.rows,
            "2026-12-11T10:00:01Z",
            std::slice::from_ref(&g),
            &[],
            true,
        );
        assert_eq!(kinds(&d6), ["overdue"]);
        let d7 = run(
            &d6.rows,
            "2026-12-12T10:00:00Z",
            std::slice::from_ref(&g),
            &[],
            true,
        );
        assert!(d7.events.is_empty());
        // Upgraded: resolved, once; the open list is empty.
        let d8 = run(&d7.rows, "2026-12-13T10:00:00Z", &[], &[], true);
        assert_eq!(kinds(&d8), ["resolved"]);
        assert!(d8.open.is_empty());
        let d9 = run(&d8.rows, "2026-12-14T10:00:00Z", &[], &[], true);
        assert!(d9.events.is_empty());
        // Back again (a downgrade): new, with deadlines from now.
        let d10 = run(
            &d9.rows,
            "2026-12-15T10:00:00Z",
            std::slice::from_ref(&f),
            &[],
            true,
        );
        assert_eq!(kinds(&d10), ["new"]);
        assert_eq!(d10.events[0].finding.first_seen, ts("2026-12-15T10:00:00Z"));
    }

    #[test]
    fn an_incomplete_scan_resolves_nothing() {
        let f = finding("GHSA-9wx4-h78v-vm56", "2.31.0", Level::Medium, None);
        let d1 = run(
            &[],
            "2026-12-01T10:00:00Z",
            std::slice::from_ref(&f),
            &[],
            true,
        );
        let d2 = run(&d1.rows, "2026-12-02T10:00:00Z", &[], &[], false);
        assert!(d2.events.is_empty());
        assert_eq!(d2.open.len(), 1);
    }

    #[test]
    fn an_ignored_finding_stays_silent_and_open() {
        let f = finding("GHSA-9wx4-h78v-vm56", "2.31.0", Level::Medium, None);
        let d1 = run(
            &[],
            "2026-12-01T10:00:00Z",
            std::slice::from_ref(&f),
            &[],
            true,
        );
        let ig = IgnoredFinding {
            id: f.id.clone(),
            package: f.package.clone(),
            ignored_as: "CVE-2024-35195".into(),
            reason: Some("not reachable".into()),
            until: Some("2027-01-01".into()),
            origin: None,
            justification: None,
        };
        let d2 = run(
            &d1.rows,
            "2026-12-20T10:00:00Z",
            &[],
            std::slice::from_ref(&ig),
            true,
        );
        assert!(d2.events.is_empty(), "{:?}", kinds(&d2));
        // Remembered, not resolved, but not open: no draft, no failing `run --ci`.
        assert!(d2.open.is_empty());
        assert!(d2.rows[0].resolved_at.is_none());
        assert!(open_findings("p", &d2.rows).unwrap().is_empty());
        // Shown again: open, the same finding (not new); its deadlines kept counting.
        let d4 = run(
            &d2.rows,
            "2026-12-21T10:00:00Z",
            std::slice::from_ref(&f),
            &[],
            true,
        );
        assert_eq!(d4.open.len(), 1);
        assert_eq!(kinds(&d4), ["overdue"]);
        // A finding first met while ignored is not published either.
        let d3 = run(
            &[],
            "2026-12-20T10:00:00Z",
            &[],
            std::slice::from_ref(&ig),
            true,
        );
        assert!(d3.events.is_empty() && d3.rows.is_empty());
    }

    #[test]
    fn a_new_alias_keeps_the_fingerprint_and_duplicates_collapse() {
        let f = finding("PYSEC-2024-1", "2.31.0", Level::Medium, None);
        let d1 = run(
            &[],
            "2026-12-01T10:00:00Z",
            &[f.clone(), f.clone()],
            &[],
            true,
        );
        assert_eq!(kinds(&d1), ["new"]);
        // Now the display id is the GHSA one, sharing the CVE alias.
        let g = finding("GHSA-9wx4-h78v-vm56", "2.31.0", Level::Medium, None);
        let d2 = run(&d1.rows, "2026-12-02T10:00:00Z", &[g], &[], true);
        assert!(d2.events.is_empty(), "{:?}", kinds(&d2));
        assert_eq!(d2.open[0].fingerprint, "PyPI/requests/PYSEC-2024-1");
    }

    #[test]
    fn withdrawn_advisories_say_so() {
        let f = finding("GHSA-9wx4-h78v-vm56", "2.31.0", Level::Medium, None);
        let d1 = run(
            &[],
            "2026-12-01T10:00:00Z",
            std::slice::from_ref(&f),
            &[],
            true,
        );
        let withdrawn = |ids: &[String]| ids.iter().any(|i| i == "CVE-2024-35195");
        let input = input("2026-12-02T10:00:00Z", &[], &[], true, &withdrawn);
        let d2 = diff(&d1.rows, &input).unwrap();
        assert!(
            matches!(&d2.events[0].kind, EventKind::Resolved { reason } if reason.contains("withdrawn"))
        );
    }

    #[test]
    fn findings_ruled_out_by_markers_are_resolved_as_not_applicable() {
        let f = finding("GHSA-9wx4-h78v-vm56", "2.31.0", Level::Medium, None);
        let d1 = run(
            &[],
            "2026-12-01T10:00:00Z",
            std::slice::from_ref(&f),
            &[],
            true,
        );
        let na = crate::report::NotApplicable {
            location: f.location.clone(),
            ecosystem: Ecosystem::PyPI,
            name: "Requests".into(),
            requirement: "2.31.0".into(),
            markers: "python_version < '3.8'".into(),
            environments: vec!["python 3.12".into()],
            advisories: vec!["CVE-2024-35195".into()],
            scope: None,
            member: None,
        };
        let mut input = input("2026-12-02T10:00:00Z", &[], &[], true, &|_| false);
        input.not_applicable = std::slice::from_ref(&na);
        let d2 = diff(&d1.rows, &input).unwrap();
        let EventKind::Resolved { reason } = &d2.events[0].kind else {
            panic!("{:?}", kinds(&d2));
        };
        assert!(
            reason.contains("not applicable in the declared environments (python 3.12)")
                && !reason.contains("upgraded"),
            "{reason}"
        );
        // Another version of the package is not this finding: upgraded or removed.
        let other = crate::report::NotApplicable {
            requirement: "2.32.0".into(),
            ..na.clone()
        };
        input.not_applicable = std::slice::from_ref(&other);
        let d3 = diff(&d1.rows, &input).unwrap();
        assert!(
            matches!(&d3.events[0].kind, EventKind::Resolved { reason } if reason.contains("upgraded"))
        );
    }

    /// Warnings and range risks are remembered and news once (new, then resolved), in
    /// `info_events` only; they are never open, never in `events`, and `open_findings` and
    /// `resolved_findings` leave them out.
    #[test]
    fn warnings_and_range_risks_are_news_once_and_never_open() {
        let mut w = finding("RUSTSEC-2024-0436", "1.0.15", Level::Unknown, None);
        w.kind = AdvisoryKind::Unmaintained;
        w.package.ecosystem = Ecosystem::CratesIo;
        w.package.name = "paste".into();
        let risk = crate::report::RangeRisk {
            ecosystem: Ecosystem::PyPI,
            package: "Requests".into(),
            requirement: ">=2.0".into(),
            location: Location {
                file: "requirements.txt".into(),
                line: 2,
            },
            advisories: vec![crate::report::RiskAdvisory {
                id: "GHSA-9wx4-h78v-vm56".into(),
                ids: vec!["CVE-2024-35195".into(), "GHSA-9wx4-h78v-vm56".into()],
                severity: Level::Medium,
                summary: None,
                allowed_affected: "<2.32.0".into(),
            }],
            suggested: Some(">=2.32.0".into()),
            note: None,
            severity: Level::Medium,
        };
        fn at(
            now: &str,
            warnings: &[Finding],
            risks: &[crate::report::RangeRisk],
            seen: &[SeenRow],
        ) -> Diff {
            let mut i = input(now, &[], &[], true, &|_| false);
            i.warnings = warnings;
            i.risks = risks;
            diff(seen, &i).unwrap()
        }
        let warnings = std::slice::from_ref(&w);
        let risks = std::slice::from_ref(&risk);
        let d1 = at("2026-12-01T10:00:00Z", warnings, risks, &[]);
        assert!(d1.events.is_empty() && d1.open.is_empty());
        let names: Vec<(&str, &str)> = d1
            .info_events
            .iter()
            .map(|e| (e.kind.name(), e.finding.fingerprint.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("new", "warning/crates.io/paste/RUSTSEC-2024-0436"),
                ("range_risk", "risk/PyPI/requests/>=2.0/GHSA-9wx4-h78v-vm56"),
            ]
        );
        assert!(
            matches!(&d1.info_events[1].kind, EventKind::RangeRisk { suggested: Some(b), allows, .. }
                if b == ">=2.32.0" && allows == &["GHSA-9wx4-h78v-vm56 (medium): <2.32.0"])
        );
        assert!(open_findings("p", &d1.rows).unwrap().is_empty());
        // Still there: nothing to say.
        let d2 = at("2026-12-02T10:00:00Z", warnings, risks, &d1.rows);
        assert!(d2.info_events.is_empty() && d2.events.is_empty());
        // Gone: resolved once, each.
        let d3 = at("2026-12-03T10:00:00Z", &[], &[], &d2.rows);
        assert_eq!(
            d3.info_events
                .iter()
                .map(|e| e.kind.name())
                .collect::<Vec<_>>(),
            ["resolved", "resolved"]
        );
        assert!(d3.events.is_empty());
        assert!(resolved_findings("p", &d3.rows).unwrap().is_empty());
        let d4 = at("2026-12-04T10:00:00Z", &[], &[], &d3.rows);
        assert!(d4.info_events.is_empty());
    }

    #[test]
    fn unreadable_memory_is_an_error_naming_the_row() {
        let bad = SeenRow {
            fingerprint: "PyPI/x/GHSA-1".into(),
            first_seen: ts("2026-12-01T10:00:00Z"),
            last_seen: ts("2026-12-01T10:00:00Z"),
            resolved_at: None,
            state: "{\"severity\": ".into(),
        };
        let input = input("2026-12-02T10:00:00Z", &[], &[], true, &|_| false);
        let e = diff(&[bad], &input).unwrap_err().to_string();
        assert!(e.contains("PyPI/x/GHSA-1"), "{e}");
    }
}
