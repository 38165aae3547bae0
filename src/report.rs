//! The report: the one value every output format renders.
//!
//! The matcher builds it; renderers only read it. All lists are sorted so that the same
//! inputs give byte-identical output.

use crate::advisory::AdvisoryKind;
use crate::ecosystem::Ecosystem;
use crate::severity::Level;
// Defined by the sources that produce them; re-exported because a report carries them.
pub use crate::feeds::signal::{EpssMark, KevMark};
pub use crate::feeds::{LoadError, SourceSummary};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Version of the JSON report schema (bumped on incompatible changes).
pub const SCHEMA_VERSION: u32 = 1;

/// The result of a scan.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// Report schema version.
    pub schema_version: u32,
    /// The tool that made it.
    pub tool: Tool,
    /// Advisory sources read, with counts.
    pub sources: Vec<SourceSummary>,
    /// Manifests scanned (or that failed to parse).
    pub manifests: Vec<ManifestSummary>,
    /// Vulnerabilities in pinned or locked versions: one per (dependency, vulnerability).
    pub findings: Vec<Finding>,
    /// Informational advisories (unmaintained, unsound, notice) on pinned or locked versions.
    pub warnings: Vec<Finding>,
    /// Unpinned requirements whose allowed range includes affected versions.
    pub risks: Vec<RangeRisk>,
    /// Dependencies that could not be checked (path, git, URL, virtual...).
    pub not_checked: Vec<NotChecked>,
    /// Dependencies whose markers exclude every declared target environment: listed here
    /// with what would have been reported on them, never counted, alerted or failed on.
    /// Absent when the project declares no environment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<NotApplicable>,
    /// Findings hidden by an ignore that is still in force.
    pub ignored: Vec<IgnoredFinding>,
    /// Records that could not be loaded (file and id), counted and skipped.
    pub load_errors: Vec<LoadError>,
    /// Notices about the data itself (a stale store, a source whose last sync failed).
    pub notices: Vec<String>,
    /// Totals.
    pub summary: Summary,
}

impl Report {
    /// Paths under `root` as relative ones, everywhere the report names a file (manifests,
    /// finding locations, notices). A submission to `depwatch serve` is scanned in an upload
    /// directory of the server's: its drafts and answer name the files as the client sent
    /// them, not where the server happened to keep them.
    pub fn relative_to(&mut self, root: &std::path::Path) {
        let rel = |p: &mut PathBuf| {
            if let Ok(r) = p.strip_prefix(root) {
                *p = r.to_path_buf();
            }
        };
        for m in &mut self.manifests {
            rel(&mut m.path);
        }
        for f in self.findings.iter_mut().chain(self.warnings.iter_mut()) {
            rel(&mut f.location.file);
        }
        for r in &mut self.risks {
            rel(&mut r.location.file);
        }
        for n in &mut self.not_checked {
            rel(&mut n.location.file);
        }
        for n in &mut self.not_applicable {
            rel(&mut n.location.file);
        }
        let prefix = format!("{}{}", root.display(), std::path::MAIN_SEPARATOR);
        for text in self
            .notices
            .iter_mut()
            .chain(self.manifests.iter_mut().filter_map(|m| m.error.as_mut()))
        {
            if text.contains(&prefix) {
                *text = text.replace(&prefix, "");
            }
        }
    }
}

/// Tool name and version.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tool {
    /// `depwatch`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Self {
            name: "depwatch".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// One manifest as scanned.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ManifestSummary {
    /// Path as given or discovered.
    pub path: PathBuf,
    /// Format.
    pub kind: crate::manifests::ManifestKind,
    /// Dependencies read from it.
    pub dependencies: usize,
    /// The parse error, when the file could not be read (the others are still scanned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Non-fatal problems, each with file and line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Package coordinates of a finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct PackageRef {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name as written in the manifest.
    pub name: String,
    /// Version (pinned or locked).
    pub version: String,
}

/// Where a dependency is declared.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The declaring file.
    pub file: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: usize,
}

/// How to get rid of a finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fix {
    /// The smallest fixed version that leaves every advisory on the package behind; a final
    /// release is preferred to a pre-release when the current version is a final release.
    Upgrade {
        /// Version to upgrade to.
        to: String,
    },
    /// Fixed versions exist, but every one of them is hit by another advisory on the package.
    NoSafeVersion,
    /// No fixed version above the current one is known.
    NoFix,
    /// The release is malware (an OSV `MAL-` record lists it): remove it, or move to a version
    /// the record does not list. Never "no fixed version": a malicious release has no fix.
    RemoveRelease {
        /// The nearest version the malicious records do not list, where one is known.
        #[serde(skip_serializing_if = "Option::is_none")]
        nearest: Option<NearestVersion>,
        /// The records list every version of the package: there is nothing to move to.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        every_version: bool,
    },
    /// A package of this name on the public registry is malware, but this dependency comes
    /// from another index (dependency confusion): check the index configuration.
    CheckIndex {
        /// The index the dependency is declared to come from, as written.
        index: String,
    },
}

impl Fix {
    /// The advice for a malicious release in words, the one wording every renderer, message
    /// and draft uses; empty for the other fixes.
    pub fn malware_advice(&self) -> String {
        match self {
            Fix::RemoveRelease {
                nearest: Some(n), ..
            } => format!(
                "remove this release, or move to {} (not listed by the malware record; {})",
                n.version, n.from
            ),
            Fix::RemoveRelease {
                every_version: true,
                ..
            } => "remove this package (the malware record lists every version)".to_string(),
            Fix::RemoveRelease { .. } => "remove this release".to_string(),
            Fix::CheckIndex { index } => format!(
                "a package of this name on PyPI is malware: check your index configuration \
                 (this dependency is declared to come from {index})"
            ),
            Fix::Upgrade { .. } | Fix::NoSafeVersion | Fix::NoFix => String::new(),
        }
    }
}

/// A version to move to off a malicious release, and where depwatch learnt that it exists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NearestVersion {
    /// The version.
    pub version: String,
    /// Where it came from (`named by PYSEC-2025-72`, `locked in uv.lock`): depwatch picks
    /// it, the record does not recommend it.
    pub from: String,
}

impl Finding {
    /// An OSV `MAL-` record lists the release (or, with [`Fix::CheckIndex`], the public
    /// package of its name): malware, not a vulnerability. Ranked above everything, alerted at
    /// once and failing CI at any `--fail-on`.
    pub fn is_malicious(&self) -> bool {
        self.kind == AdvisoryKind::Malware
    }

    /// The severity as shown: `malicious` for malware (its records carry no CVSS score, so
    /// its `severity` stays `unknown`, which it is not shown as), else the level.
    pub fn severity_text(&self) -> &'static str {
        if matches!(self.fix, Fix::CheckIndex { .. }) {
            // Not installed malware: the public package of the name is.
            DEPENDENCY_CONFUSION
        } else if self.is_malicious() {
            MALICIOUS
        } else {
            self.severity.as_str()
        }
    }
}

/// The marker shown in place of a severity for malware, and its `by_severity` key.
pub const MALICIOUS: &str = "malicious";
/// The marker of a malicious public package whose name a dependency from a private index
/// shares, and its `by_severity` key.
pub const DEPENDENCY_CONFUSION: &str = "dependency-confusion";

/// One vulnerability (or informational advisory) in one dependency. Records that are
/// aliases of each other across sources are one finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// The display id (RUSTSEC > GHSA > CVE for crates; PYSEC > GHSA > CVE for PyPI).
    pub id: String,
    /// Every id of the vulnerability, sorted (includes `id`).
    pub ids: Vec<String>,
    /// Sources that reported it.
    pub sources: Vec<String>,
    /// Vulnerability, malware or an informational kind.
    pub kind: AdvisoryKind,
    /// The package.
    pub package: PackageRef,
    /// Highest severity among the records of the vulnerability on the package.
    pub severity: Level,
    /// The CVSS base score of the record giving `severity`, when that level came from a score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    /// CVSS vectors of the grouped records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss_vectors: Vec<String>,
    /// One-line summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// CWE ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwe_ids: Vec<String>,
    /// Fixed versions named by the grouped records, ascending.
    pub fixed_versions: Vec<String>,
    /// The recommended fix.
    pub fix: Fix,
    /// A link for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where the dependency is declared.
    pub location: Location,
    /// Dependency path below the project's own packages (`[]`: direct), the same rule in
    /// every format; `None` where the format cannot tell (see `scan::same_via_rule`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<Vec<String>>,
    /// Dependency kind or group (`dev`, `build`, extras, groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Workspace member it enters through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// Environment markers of the declaration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markers: Option<String>,
    /// A note for people (e.g. an ignore that expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where the sources disagree on the affected ranges, what each says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disagreements: Vec<String>,
    /// The CISA KEV entry of one of `ids` (the earliest added when several are listed):
    /// known exploited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev: Option<KevMark>,
    /// KEV entries of CVEs the records name only as `related` (a different vulnerability,
    /// such as a bundled library's): shown, but the finding is not marked `kev` for them, is
    /// not ordered as KEV and does not fail `--fail-on-kev`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kev_related: Vec<KevMark>,
    /// The FIRST EPSS score of one of `ids` (the highest when several are scored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<EpssMark>,
    /// The project's VEX statements that apply and leave it open (`affected`,
    /// `under_investigation`, a contradicted `fixed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vex: Vec<VexClaim>,
}

impl Finding {
    /// The EPSS score, when there is one.
    pub fn epss_score(&self) -> Option<f64> {
        self.epss.as_ref().map(|e| e.score)
    }
}

/// The one finding order, most urgent first: malware, then known exploited (KEV), then the
/// EPSS score (higher first; none last), then severity (higher first). Ties are left to the
/// caller's own keys (location, id, fingerprint), so every list stays deterministic.
pub fn finding_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    use std::cmp::Reverse;
    let key = |f: &Finding| {
        (
            f.kind != AdvisoryKind::Malware,
            f.kev.is_none(),
            Reverse(EpssKey(f.epss_score())),
            Reverse(f.severity),
        )
    };
    key(a).cmp(&key(b))
}

/// An EPSS score that orders (`f64` does not): none below every score.
#[derive(PartialEq)]
struct EpssKey(Option<f64>);

impl Eq for EpssKey {}

impl PartialOrd for EpssKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EpssKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self.0, other.0) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            (a, b) => a.is_some().cmp(&b.is_some()),
        }
    }
}

/// A VEX statement of the project about a finding it leaves open.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VexClaim {
    /// The statement's status.
    pub status: crate::vex::Status,
    /// Where it was written: `FILE statement N`.
    pub origin: String,
    /// For `affected`: what the project says to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_statement: Option<String>,
}

/// One advisory whose affected versions intersect an unpinned requirement.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RiskAdvisory {
    /// Display id.
    pub id: String,
    /// Every id.
    pub ids: Vec<String>,
    /// Severity.
    pub severity: Level,
    /// Summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The affected versions the requirement still allows.
    pub allowed_affected: String,
}

/// An unpinned requirement that may resolve to an affected version.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RangeRisk {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Package name as written.
    pub package: String,
    /// The requirement as written (`>=1.39.0`).
    pub requirement: String,
    /// Where it is declared.
    pub location: Location,
    /// Advisories that the range admits.
    pub advisories: Vec<RiskAdvisory>,
    /// The lowest bound that excludes every known affected version (`>=1.43.0`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested: Option<String>,
    /// Why there is no suggestion, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Highest severity among the advisories.
    pub severity: Level,
}

/// A dependency that was not checked.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotChecked {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name as written.
    pub name: String,
    /// Where it is declared (for a summary entry, the lockfile, line 0).
    pub location: Location,
    /// Why.
    pub reason: String,
    /// For one entry standing for several dependencies (a `Cargo.lock`'s workspace crates):
    /// how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// For a summary entry: the names it stands for, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// A dependency whose environment markers are false in every declared target environment
/// (`--python`, `--platform`, `--implementation`; a project's `python`, `platforms`,
/// `implementation`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotApplicable {
    /// Where it is declared.
    pub location: Location,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name as written.
    pub name: String,
    /// The pinned version or the requirement as written (or why it is not checked).
    pub requirement: String,
    /// The markers as written (for `uv.lock`, as depwatch combined them: see the README).
    pub markers: String,
    /// The declared environments, none of which the markers admit.
    pub environments: Vec<String>,
    /// Display ids of the vulnerabilities, warnings and range risks that would be reported
    /// on it were it applicable, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<String>,
    /// Dependency kind or group, as in a finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Workspace member, as in a finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

/// A finding hidden by an ignore in force.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IgnoredFinding {
    /// The finding's display id.
    pub id: String,
    /// The package.
    pub package: PackageRef,
    /// The ignore's id (may be any alias).
    pub ignored_as: String,
    /// The reason given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Until when (YYYY-MM-DD).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Where the ignore was written: a file (`depwatch.toml`, `.cargo/audit.toml`,
    /// `osv-scanner.toml`), `--ignore`, or a VEX statement (`FILE statement N`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// For a VEX `not_affected` statement: its justification label, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<crate::vex::Justification>,
}

/// Totals.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Summary {
    /// Dependencies scanned.
    pub dependencies: usize,
    /// Findings (vulnerabilities).
    pub findings: usize,
    /// Findings by severity: critical, high, medium, low, unknown; malware under
    /// `malicious` or `dependency-confusion` (never under `unknown`).
    pub by_severity: std::collections::BTreeMap<String, usize>,
    /// Informational warnings.
    pub warnings: usize,
    /// Range risks.
    pub risks: usize,
    /// Dependencies not checked (a summary entry counts as its `count`).
    pub not_checked: usize,
    /// Manifests that failed to parse.
    pub manifest_errors: usize,
    /// Dependencies not applicable in the declared environments (in none of the other
    /// counts but `dependencies`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_applicable: usize,
    /// Highest severity among findings other than malware, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_severity: Option<Level>,
    /// Malware findings (counted in `findings` too).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub malicious: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
