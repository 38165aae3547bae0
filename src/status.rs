//! `depwatch status`: what the monitor knows right now: the last cycle and its outcome, the
//! next fire times, each source's freshness, the outbox, and every project's open findings
//! with their deadlines, overdue first.

use crate::config::Config;
use crate::feeds::SourceState;
use crate::monitor::{self, DeadlineKind, MonitorError, WATCHED_DEADLINES};
use crate::schedule::Schedule;
use crate::severity::Level;
use crate::store::{Location, MonitorState, OutboxCounts, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// Why the status could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A remembered finding is unreadable.
    #[error(transparent)]
    Monitor(#[from] MonitorError),
}

/// The last cycle.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LastRun {
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it finished; none while running or when it was interrupted.
    pub finished_at: Option<String>,
    /// `ok` or `partial`; none when it did not finish.
    pub outcome: Option<String>,
}

/// A schedule's next fire time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NextFire {
    /// What the schedule is for ("cycle", "sync").
    pub job: String,
    /// The cron expression.
    pub schedule: String,
    /// Its time zone.
    pub timezone: String,
    /// The next fire time.
    pub at: Timestamp,
}

/// One open finding's line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OpenFinding {
    /// Project.
    pub project: String,
    /// Display id.
    pub id: String,
    /// `name version` of the package.
    pub package: String,
    /// Severity.
    pub severity: Level,
    /// Malware: shown as `malicious` (or `dependency-confusion`) instead of its severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<&'static str>,
    /// The nearest watched deadline (fix, disclose) and when it is due.
    pub deadline: Option<(DeadlineKind, Timestamp)>,
    /// Whether that deadline has passed.
    pub overdue: bool,
    /// In CISA KEV (the finding's `kev`), ordered before the rest.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub kev: bool,
    /// Its EPSS score, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss: Option<f64>,
}

/// A project's events waiting for its digest.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldForDigest {
    /// Project.
    pub project: String,
    /// How many events.
    pub events: usize,
    /// When the first of them was held.
    pub since: Timestamp,
}

/// Everything `status` shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    /// The time the status was taken at.
    pub now: Timestamp,
    /// The last cycle, if any ran.
    pub last_run: Option<LastRun>,
    /// Next fire times of the schedules given.
    pub next: Vec<NextFire>,
    /// Per-source freshness.
    pub sources: Vec<SourceState>,
    /// Outbox counts.
    pub outbox: OutboxCounts,
    /// Open findings of all configured projects: overdue first, then by deadline, then by
    /// severity.
    pub open: Vec<OpenFinding>,
    /// Feeds, projects and channels whose last runs failed.
    pub failing: Vec<crate::store::HealthRow>,
    /// Events held for each project's next digest (projects with none are left out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<HeldForDigest>,
    /// The configured zone the text shows deadlines in (the JSON keeps RFC 3339 UTC).
    #[serde(skip)]
    pub zone: crate::policy::Zone,
}

/// Read the status of `store` for the projects in `config`; `schedules` pairs a job name with
/// its schedule for the next fire times.
pub fn status(
    store: &Location,
    config: &Config,
    schedules: &[(&str, &Schedule)],
    now: Timestamp,
) -> Result<Status, StatusError> {
    let s = crate::store::open_read_only(store)?;
    status_of(&*s, config, schedules, now)
}

/// [`status`] from a store already open (a server holds its stores across requests).
pub fn status_of<S: crate::store::Backend + ?Sized>(
    s: &S,
    config: &Config,
    schedules: &[(&str, &Schedule)],
    now: Timestamp,
) -> Result<Status, StatusError> {
    let last_run = s.last_run()?.map(|r| LastRun {
        started_at: r.started_at.to_string(),
        finished_at: r.finished_at.map(|t| t.to_string()),
        outcome: r.outcome.map(|o| o.as_str().to_string()),
    });
    let next = schedules
        .iter()
        .filter_map(|(job, sch)| {
            sch.next_after(now).ok().map(|at| NextFire {
                job: job.to_string(),
                schedule: sch.expr().to_string(),
                timezone: sch.timezone().to_string(),
                at,
            })
        })
        .collect();
    let mut open = Vec::new();
    let mut held = Vec::new();
    for p in &config.projects {
        let h = s.held(&p.name)?;
        if let Some(first) = h.first() {
            held.push(HeldForDigest {
                project: p.name.clone(),
                events: h.len(),
                since: first.held_at,
            });
        }
        for f in monitor::open_findings(&p.name, &s.seen(&p.name)?)? {
            let deadline = WATCHED_DEADLINES
                .iter()
                .filter_map(|k| {
                    let due = match k {
                        DeadlineKind::Respond => f.deadlines.respond_by,
                        DeadlineKind::Update => f.deadlines.update_by,
                        DeadlineKind::Assess => f.deadlines.assess_by,
                        DeadlineKind::Fix => f.deadlines.fix_by,
                        DeadlineKind::Disclose => f.deadlines.disclose_by,
                    };
                    due.map(|d| (*k, d))
                })
                .min_by_key(|(_, d)| *d);
            open.push(OpenFinding {
                project: p.name.clone(),
                id: f.finding.id.clone(),
                package: format!("{} {}", f.finding.package.name, f.finding.package.version),
                severity: f.finding.severity,
                marker: f.finding.is_malicious().then(|| f.finding.severity_text()),
                overdue: deadline.is_some_and(|(_, d)| d <= now),
                deadline,
                kev: f.finding.kev.is_some(),
                epss: f.finding.epss_score(),
            });
        }
    }
    sort_open(&mut open);
    Ok(Status {
        now,
        last_run,
        next,
        sources: s.sources()?,
        outbox: s.outbox_counts()?,
        failing: s.health()?.into_iter().filter(|h| h.failures > 0).collect(),
        held,
        open,
        zone: crate::policy::Zone::configured(config.timezone.as_deref()),
    })
}

/// Why a project page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The store or a remembered finding failed.
    #[error(transparent)]
    Status(#[from] StatusError),
    /// The project's SECURITY.md could not be read.
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
}

impl From<StoreError> for DashboardError {
    fn from(e: StoreError) -> Self {
        Self::Status(StatusError::Store(e))
    }
}

/// The nearest watched deadline (fix, disclose) of a finding.
fn next_deadline(d: &crate::policy::Deadlines) -> Option<(DeadlineKind, Timestamp)> {
    monitor::next_watched(d)
}

fn deadline_of(d: &crate::policy::Deadlines, k: DeadlineKind) -> Option<Timestamp> {
    match k {
        DeadlineKind::Respond => d.respond_by,
        DeadlineKind::Update => d.update_by,
        DeadlineKind::Assess => d.assess_by,
        DeadlineKind::Fix => d.fix_by,
        DeadlineKind::Disclose => d.disclose_by,
    }
}

fn history_since(now: Timestamp) -> jiff::civil::Date {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    today
        .checked_sub(jiff::Span::new().days(crate::dashboard::HISTORY_DAYS - 1))
        .unwrap_or(today)
}

/// The dashboard's overview: every configured project's open findings by severity, KEV and
/// overdue counts, and the history summed over all projects, read from an open store `s`
/// (either backend: `&*store::open_read_only(..)?`).
pub fn dashboard<S: MonitorState + ?Sized>(
    s: &S,
    config: &Config,
    now: Timestamp,
) -> Result<crate::dashboard::Data, StatusError> {
    use crate::dashboard::{ProjectSummary, SEVERITIES};
    // Each project's summary as its last run wrote it: one small row each. A project without
    // one (memory from before the summaries, or written without one) is read from its memory,
    // all such projects in one query, only the marks parsed.
    let mut summaries: std::collections::HashMap<String, monitor::OpenSummary> =
        std::collections::HashMap::new();
    for (project, json) in s.open_summaries()? {
        // An unreadable summary (a hand-edited store) is as if missing: the memory is read.
        if let Ok(sum) = serde_json::from_str(&json) {
            summaries.insert(project, sum);
        }
    }
    let mut unresolved: std::collections::HashMap<String, Vec<crate::store::SeenRow>> =
        std::collections::HashMap::new();
    if config
        .projects
        .iter()
        .any(|p| !summaries.contains_key(&p.name))
    {
        for (project, row) in s.unresolved()? {
            if !summaries.contains_key(&project) {
                unresolved.entry(project).or_default().push(row);
            }
        }
    }
    let mut projects = Vec::with_capacity(config.projects.len());
    for p in &config.projects {
        let read;
        let summary = match summaries.get(&p.name) {
            Some(s) => s,
            None => {
                let rows = unresolved
                    .get(&p.name)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                read = monitor::OpenSummary::of(monitor::open_marks(&p.name, rows)?);
                &read
            }
        };
        let mut sum = ProjectSummary {
            name: p.name.clone(),
            open: [0; 5],
            kev: summary.kev,
            malware: summary.malware,
            overdue: 0,
            next_deadline: summary.next_deadlines.first().copied(),
        };
        for (level, n) in &summary.by_severity {
            if let Some(i) = SEVERITIES.iter().position(|l| l == level) {
                sum.open[i] += n;
            }
        }
        sum.overdue = summary
            .next_deadlines
            .iter()
            .filter(|(_, t)| *t <= now)
            .count() as u32;
        projects.push(sum);
    }
    // Overdue first (most overdue findings first), then the nearest deadline, then by name.
    projects.sort_by(|a, b| {
        b.overdue
            .min(1)
            .cmp(&a.overdue.min(1))
            .then_with(|| match (a.next_deadline, b.next_deadline) {
                (Some((_, x)), Some((_, y))) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(crate::dashboard::Data {
        now,
        zone: crate::policy::Zone::configured(config.timezone.as_deref()),
        last_run: s.last_run()?.map(|r| r.started_at),
        projects,
        history: s.daily_open(None, history_since(now))?,
    })
}

/// A project's dashboard page; `None` when no project of that name is configured. Draft links
/// point at `drafts/<file>` next to the page for each draft `depwatch run` wrote under
/// `output` (`run --out`, else the config's `output`); [`draft_files`] lists them for copying.
pub fn dashboard_project<S: MonitorState + ?Sized>(
    s: &S,
    config: &Config,
    output: &Path,
    name: &str,
    now: Timestamp,
) -> Result<Option<crate::dashboard::ProjectData>, DashboardError> {
    use crate::dashboard::FindingRow;
    let Some(p) = config.projects.iter().find(|p| p.name == name) else {
        return Ok(None);
    };
    let zone = crate::policy::Zone::configured(config.timezone.as_deref());
    let policy = crate::run::project_policy(p)?;
    let seen = s.seen(&p.name).map_err(StatusError::from)?;
    let open = monitor::open_findings(&p.name, &seen).map_err(StatusError::from)?;
    let output = draft_dir(output, &p.name);
    let mut findings: Vec<FindingRow> = open
        .iter()
        .map(|f| {
            let next = next_deadline(&f.deadlines);
            let deadlines = [
                DeadlineKind::Respond,
                DeadlineKind::Update,
                DeadlineKind::Assess,
                DeadlineKind::Fix,
                DeadlineKind::Disclose,
            ]
            .into_iter()
            .filter_map(|k| deadline_of(&f.deadlines, k).map(|t| (k, t)))
            .collect();
            let stem = crate::publish::draft::file_stem(&p.name, f);
            let drafts = ["md", "json"]
                .into_iter()
                .filter(|ext| output.join(format!("{stem}.{ext}")).is_file())
                .map(|ext| {
                    let text = if ext == "md" {
                        "advisory draft"
                    } else {
                        "GitHub advisory JSON"
                    };
                    (text.to_string(), format!("drafts/{stem}.{ext}"))
                })
                .collect();
            FindingRow {
                id: f.finding.id.clone(),
                url: f.finding.url.clone(),
                package: format!("{} {}", f.finding.package.name, f.finding.package.version),
                summary: f.finding.summary.clone(),
                severity: f.finding.severity,
                marker: f.finding.is_malicious().then(|| f.finding.severity_text()),
                kev: f.finding.kev.as_ref().map(|k| k.date_added.to_string()),
                epss: f.finding.epss_score(),
                fix: crate::render::fix_text(&f.finding.fix),
                scope: f.finding.scope.clone(),
                via: match &f.finding.via {
                    None => None,
                    Some(v) if v.is_empty() => Some("direct".to_string()),
                    Some(v) => Some(format!("via {}", v.join(" -> "))),
                },
                deadlines,
                next_deadline: next,
                overdue: next.is_some_and(|(_, t)| t <= now),
                drafts,
            }
        })
        .collect();
    // Stable: within the same deadline the one finding order of `open_findings` stays.
    findings.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then_with(|| match (a.next_deadline, b.next_deadline) {
                (Some((_, x)), Some((_, y))) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
    });
    Ok(Some(crate::dashboard::ProjectData {
        now,
        name: p.name.clone(),
        policy: policy.figures(&zone),
        policy_source: policy.source.as_ref().map(|p| p.display().to_string()),
        zone,
        findings,
        history: s
            .daily_open(Some(&p.name), history_since(now))
            .map_err(StatusError::from)?,
    }))
}

/// The overview page at `/`, from an open store (for an HTTP server: one call per request on
/// the store it holds; blocks, so from a blocking thread).
pub fn overview_page<S: MonitorState + ?Sized>(
    s: &S,
    config: &Config,
    now: Timestamp,
) -> Result<String, StatusError> {
    Ok(crate::dashboard::overview_html(&dashboard(s, config, now)?))
}

/// The project page at `/projects/{page}`, `page` being the overview's link (`<name>.html`);
/// `None` (a 404) for any other name. Its draft links are `/projects/drafts/{file}`, served
/// from [`draft_dir`].
pub fn project_page<S: MonitorState + ?Sized>(
    s: &S,
    config: &Config,
    output: &Path,
    page: &str,
    now: Timestamp,
) -> Result<Option<String>, DashboardError> {
    let Some(p) = config
        .projects
        .iter()
        .find(|p| crate::dashboard::project_path(&p.name) == format!("projects/{page}"))
    else {
        return Ok(None);
    };
    Ok(dashboard_project(s, config, output, &p.name, now)?
        .map(|d| crate::dashboard::project_html(&d)))
}

/// Where `depwatch run` writes a project's advisory drafts (`<output>/<project>/advisories`).
pub fn draft_dir(output: &Path, project: &str) -> std::path::PathBuf {
    output.join(project).join("advisories")
}

/// The draft files a project page links to: (file name, path on disk).
pub fn draft_files(
    page: &crate::dashboard::ProjectData,
    output: &Path,
) -> Vec<(String, std::path::PathBuf)> {
    let dir = draft_dir(output, &page.name);
    page.findings
        .iter()
        .flat_map(|f| f.drafts.iter())
        .filter_map(|(_, href)| href.strip_prefix("drafts/"))
        .map(|file| (file.to_string(), dir.join(file)))
        .collect()
}

/// Overdue first, then the nearest deadline, then those without one; within the same
/// deadline the one finding order (malware, KEV, EPSS, severity).
fn sort_open(open: &mut [OpenFinding]) {
    open.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then_with(|| match (a.deadline, b.deadline) {
                (Some((_, x)), Some((_, y))) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then((a.marker.is_none(), !a.kev).cmp(&(b.marker.is_none(), !b.kev)))
            .then_with(|| b.epss.unwrap_or(-1.0).total_cmp(&a.epss.unwrap_or(-1.0)))
            .then(b.severity.cmp(&a.severity))
            .then_with(|| (&a.project, &a.id).cmp(&(&b.project, &b.id)))
    });
}

/// `2026-12-01 20:36:04 UTC` from an RFC 3339 string (as stored), the input when it is not one.
fn short(ts: &str) -> String {
    ts.parse::<Timestamp>()
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| ts.to_string())
}

/// The status for people. Text from feeds, servers and checkouts (ids, packages, errors) is
/// cleaned of control characters before it reaches the terminal.
pub fn status_text(s: &Status) -> String {
    let clean = |t: &str| crate::text::clean(t, false);
    let mut o = String::new();
    match &s.last_run {
        None => o.push_str("last cycle: never\n"),
        Some(r) => {
            let _ = writeln!(
                o,
                "last cycle: started {}, {}",
                short(&r.started_at),
                match (&r.finished_at, &r.outcome) {
                    (Some(f), Some(out)) => format!("finished {}, {out}", short(f)),
                    _ => "did not finish (running or interrupted)".into(),
                }
            );
        }
    }
    for n in &s.next {
        let _ = writeln!(
            o,
            "next {}: {} ({} {})",
            n.job,
            short(&n.at.to_string()),
            n.schedule,
            n.timezone
        );
    }
    for src in &s.sources {
        let _ = writeln!(
            o,
            "source {}: {} records, last success {}{}",
            clean(&src.source),
            src.records,
            src.last_success
                .map(|t| short(&t.to_string()))
                .unwrap_or("never".into()),
            src.last_error
                .as_deref()
                .map(|e| format!(", last error: {}", clean(e)))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        o,
        "outbox: {} sent, {} pending, {} given up",
        s.outbox.sent, s.outbox.pending, s.outbox.given_up
    );
    for h in &s.held {
        let _ = writeln!(
            o,
            "digest: {}: {} event(s) held since {}",
            h.project,
            h.events,
            s.zone.format(h.since)
        );
    }
    for h in &s.failing {
        let _ = writeln!(
            o,
            "failing: {} ({} run(s) in a row since {}{}): {}",
            clean(&h.component),
            h.failures,
            h.first_failed_at
                .map(|t| short(&t.to_string()))
                .unwrap_or_default(),
            if h.alerted_at.is_some() {
                ", alert sent"
            } else {
                ""
            },
            clean(h.last_error.as_deref().unwrap_or(""))
        );
    }
    if s.open.is_empty() {
        o.push_str("open findings: none\n");
    } else {
        let _ = writeln!(o, "open findings: {}", s.open.len());
        for f in &s.open {
            let due = match f.deadline {
                Some((k, d)) if f.overdue => {
                    format!("OVERDUE: {} was due {}", k.as_str(), s.zone.format(d))
                }
                Some((k, d)) => format!("{} by {}", k.as_str(), s.zone.format(d)),
                None => "no deadline".into(),
            };
            let _ = writeln!(
                o,
                "  {} {} {} [{}] {}",
                f.project,
                clean(&f.id),
                clean(&f.package),
                f.marker.unwrap_or(f.severity.as_str()),
                due
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, sev: Level, due: Option<&str>, overdue: bool) -> OpenFinding {
        OpenFinding {
            project: "p".into(),
            id: id.into(),
            package: "x 1".into(),
            severity: sev,
            marker: None,
            deadline: due.map(|d| (DeadlineKind::Fix, d.parse().unwrap())),
            overdue,
            kev: false,
            epss: None,
        }
    }

    #[test]
    fn within_a_deadline_kev_then_epss_then_severity() {
        let mut kev = f("kev", Level::Low, None, false);
        kev.kev = true;
        let mut scored = f("scored", Level::Medium, None, false);
        scored.epss = Some(0.3);
        let mut v = vec![f("crit", Level::Critical, None, false), scored, kev];
        sort_open(&mut v);
        let ids: Vec<&str> = v.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["kev", "scored", "crit"]);
    }

    #[test]
    fn overdue_first_then_nearest_deadline() {
        let mut v = vec![
            f("none", Level::Critical, None, false),
            f("later", Level::High, Some("2027-01-01T00:00:00Z"), false),
            f("soon", Level::Low, Some("2026-12-10T00:00:00Z"), false),
            f("late", Level::Low, Some("2026-11-01T00:00:00Z"), true),
        ];
        sort_open(&mut v);
        let ids: Vec<&str> = v.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["late", "soon", "later", "none"]);
        let text = status_text(&Status {
            now: "2026-12-01T00:00:00Z".parse().unwrap(),
            last_run: None,
            next: vec![],
            sources: vec![],
            outbox: OutboxCounts::default(),
            held: vec![],
            open: v,
            failing: Vec::new(),
            zone: crate::policy::Zone::default(),
        });
        assert!(text.contains("last cycle: never"), "{text}");
        assert!(
            text.contains("late x 1 [low] OVERDUE: fix was due 2026-11-01 00:00 UTC"),
            "{text}"
        );
    }

    #[test]
    fn deadlines_are_shown_in_the_configured_zone() {
        let st = |zone| Status {
            now: "2026-12-01T00:00:00Z".parse().unwrap(),
            last_run: None,
            next: vec![],
            sources: vec![],
            outbox: OutboxCounts::default(),
            held: vec![],
            open: vec![
                f("winter", Level::High, Some("2026-12-10T08:00:00Z"), false),
                f("summer", Level::High, Some("2027-07-10T08:00:00Z"), false),
            ],
            failing: Vec::new(),
            zone,
        };
        let text = status_text(&st(crate::policy::Zone::configured(Some("Europe/Berlin"))));
        assert!(
            text.contains("winter x 1 [high] fix by 2026-12-10 09:00 +01:00 Europe/Berlin"),
            "{text}"
        );
        assert!(
            text.contains("summer x 1 [high] fix by 2027-07-10 10:00 +02:00 Europe/Berlin"),
            "{text}"
        );
        assert!(!text.contains("UTC"), "{text}");
    }
}
