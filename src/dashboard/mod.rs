//! The dashboard: server-rendered HTML pages with inline CSS and SVG, no JavaScript. Pure
//! functions of the values the application gathers (`status::dashboard`,
//! `status::dashboard_project`), so the same bytes are written as static files by
//! `depwatch dashboard` and served by an HTTP server. Every text from a feed, a manifest or the
//! config goes through the one HTML escape ([`crate::text::escape_html`]).

mod html;
mod svg;

pub use html::{overview_html, project_html, project_path};
pub use svg::{history_svg, timeline_svg};

use crate::monitor::DeadlineKind;
use crate::policy::{Figure, Zone};
use crate::severity::Level;
use crate::store::DailyOpen;
use jiff::Timestamp;

/// How many days the history chart shows.
pub const HISTORY_DAYS: i64 = 90;

/// The severities in the order the dashboard shows them, most severe first.
pub const SEVERITIES: [Level; 5] = [
    Level::Critical,
    Level::High,
    Level::Medium,
    Level::Low,
    Level::Unknown,
];

/// The overview page.
#[derive(Debug, Clone)]
pub struct Data {
    /// The time the pages were made at.
    pub now: Timestamp,
    /// The zone deadlines are shown in.
    pub zone: Zone,
    /// When the last cycle started, if one ran.
    pub last_run: Option<Timestamp>,
    /// Every configured project: overdue first, then by nearest deadline, then by name.
    pub projects: Vec<ProjectSummary>,
    /// Open findings per day by severity, summed over all projects (last [`HISTORY_DAYS`]).
    pub history: Vec<DailyOpen>,
}

/// One project's row of the overview.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectSummary {
    /// The project's name (from depwatch.toml).
    pub name: String,
    /// Open findings per severity, in [`SEVERITIES`] order.
    pub open: [u32; 5],
    /// Open findings in CISA KEV.
    pub kev: u32,
    /// Open malware findings.
    pub malware: u32,
    /// Open findings whose nearest watched deadline has passed.
    pub overdue: u32,
    /// The nearest watched deadline of its open findings.
    pub next_deadline: Option<(DeadlineKind, Timestamp)>,
}

impl ProjectSummary {
    /// All open findings.
    pub fn total(&self) -> u32 {
        self.open.iter().sum()
    }
}

/// A project's page.
#[derive(Debug, Clone)]
pub struct ProjectData {
    /// The time the page was made at.
    pub now: Timestamp,
    /// The project's name.
    pub name: String,
    /// The zone its deadlines are counted and shown in.
    pub zone: Zone,
    /// Its open findings, overdue first, then by deadline, then the one finding order.
    pub findings: Vec<FindingRow>,
    /// Its policy's figures with their origins.
    pub policy: Vec<Figure>,
    /// Where the policy came from (`SECURITY.md` path), `None` for depwatch's defaults.
    pub policy_source: Option<String>,
    /// Its open findings per day by severity (last [`HISTORY_DAYS`]).
    pub history: Vec<DailyOpen>,
}

/// One open finding on a project page.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    /// Display id.
    pub id: String,
    /// A link for people, from the advisory.
    pub url: Option<String>,
    /// `name version`.
    pub package: String,
    /// The advisory's one-line summary.
    pub summary: Option<String>,
    /// Severity.
    pub severity: Level,
    /// `malicious` / `dependency-confusion` instead of the severity for malware.
    pub marker: Option<&'static str>,
    /// In CISA KEV (date added).
    pub kev: Option<String>,
    /// EPSS score.
    pub epss: Option<f64>,
    /// The fix advice as a short phrase (`upgrade to 2.3.2`, `no fixed version`).
    pub fix: String,
    /// Dependency kind or group (`dev`, extras), `None` for a normal dependency.
    pub scope: Option<String>,
    /// `direct`, `via a -> b`, or `None` where the format cannot tell.
    pub via: Option<String>,
    /// Every deadline the policy set for it.
    pub deadlines: Vec<(DeadlineKind, Timestamp)>,
    /// The nearest watched deadline (fix, disclose).
    pub next_deadline: Option<(DeadlineKind, Timestamp)>,
    /// Whether that deadline has passed.
    pub overdue: bool,
    /// Its advisory drafts as written by `depwatch run`: link text and href relative to the
    /// project page.
    pub drafts: Vec<(String, String)>,
}
