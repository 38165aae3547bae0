//! Matching: dependencies against the advisory database, into the [`Report`].
//!
//! - A pinned or locked version is affected when it is in an advisory's compiled version set
//!   (OSV evaluation by total order; see `advisory::compiled`).
//! - Records that are aliases of each other (GHSA / CVE / PYSEC / RUSTSEC) are grouped into one
//!   finding listing every id and source. Each record gives one verdict for the package: the
//!   union of its `affected` entries for it. Where an alias record says the version is *not*
//!   affected, the finding still stands (the conservative answer) and the disagreement is shown.
//! - The finding's severity and title come from every record of the vulnerability on the
//!   package, including alias records that do not list the version: the most severe record's
//!   level and score, and a record's `summary` before any record's shortened `details`.
//! - An unpinned requirement is a *risk* when its allowed versions intersect an advisory's
//!   affected versions; the suggested bound is the lowest one that excludes every known
//!   affected version.

use crate::advisory::{AdvisoryId, AdvisoryKind, CompiledAdvisory};
use crate::database::{Database, Hit};
use crate::ecosystem::{Ecosystem, Version, VersionSet};
use crate::environment::{Applies, Targets};
use crate::manifests::{Dependency, Manifest, ManifestError, ManifestKind, Requirement};
use crate::report::{
    Finding, Fix, IgnoredFinding, Location, ManifestSummary, NearestVersion, NotApplicable,
    NotChecked, PackageRef, RangeRisk, Report, RiskAdvisory, Summary, Tool,
};
use crate::severity::Level;
use std::collections::BTreeSet;
use std::ops::Bound;
use std::path::PathBuf;

/// An ignore rule from `depwatch.toml`, `--ignore`, or a peer tool's file next to the scanned
/// manifests (`.cargo/audit.toml`, `osv-scanner.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ignore {
    /// Any id of the vulnerability (aliases work).
    pub id: String,
    /// Why it is ignored.
    pub reason: Option<String>,
    /// Last day the ignore is in force; `None` for no expiry.
    pub until: Option<jiff::civil::Date>,
    /// Where the rule was written (a file, or `--ignore`), shown with what it hides.
    pub origin: Option<String>,
    /// Only for the manifests in this directory (a peer tool's file applies where that tool
    /// applies it); `None`: every manifest.
    pub dir: Option<PathBuf>,
    /// Only for dependencies of this ecosystem (cargo-audit's file: crates only).
    pub ecosystem: Option<Ecosystem>,
    /// In force only while no fixed version is known (`until-fix = true`): once the finding's
    /// own records name a fixed version above the pinned one, it shows again with a note.
    pub until_fix: bool,
}

impl Ignore {
    /// Whether the rule covers a dependency of `ecosystem` declared in a manifest in `dir`.
    fn covers(&self, dir: &std::path::Path, ecosystem: Ecosystem) -> bool {
        self.dir.as_deref().is_none_or(|d| d == dir)
            && self.ecosystem.is_none_or(|e| e == ecosystem)
    }
}

/// Settings of a match run.
#[derive(Debug, Clone)]
pub struct MatchSettings {
    /// Ignore rules.
    pub ignores: Vec<Ignore>,
    /// Today, for ignore expiry.
    pub today: jiff::civil::Date,
    /// The declared target environments: a dependency whose markers exclude them all goes to
    /// `not_applicable`. Default (none declared): every marker may apply.
    pub targets: Targets,
    /// The project's VEX statements (`vex` documents and `.openvex.json` files).
    pub vex: Vec<crate::vex::VexStatement>,
}

/// A manifest as parsed (or the error that stopped it).
pub type ParsedManifest = (PathBuf, ManifestKind, Result<Manifest, ManifestError>);

fn best_id(eco: Ecosystem, ids: &BTreeSet<String>) -> String {
    ids.iter()
        .min_by_key(|id| (AdvisoryId::new(id).rank(eco), *id))
        .cloned()
        .unwrap_or_default()
}

fn ids_of(a: &CompiledAdvisory) -> impl Iterator<Item = &String> {
    std::iter::once(&a.advisory.id).chain(a.advisory.aliases.iter())
}

/// Group hits whose records share an id or alias (union by connectivity).
fn group_by_alias<'a>(hits: &[Hit<'a>]) -> Vec<Vec<Hit<'a>>> {
    let mut groups: Vec<(BTreeSet<String>, Vec<Hit<'a>>)> = Vec::new();
    for h in hits {
        let ids: BTreeSet<String> = ids_of(h.advisory).cloned().collect();
        let mut merged = (ids, vec![*h]);
        let mut rest = Vec::with_capacity(groups.len());
        for g in groups.drain(..) {
            if g.0.is_disjoint(&merged.0) {
                rest.push(g);
            } else {
                merged.0.extend(g.0);
                merged.1.extend(g.1);
            }
        }
        rest.push(merged);
        groups = rest;
    }
    groups.into_iter().map(|(_, hits)| hits).collect()
}

fn is_vuln(a: &CompiledAdvisory) -> bool {
    !a.kind.is_informational()
}

/// True when depwatch converted the record from RustSec's advisory-db: its entry keeps
/// RustSec's `patched` requirements, and its fixed versions are the patched ones only.
fn from_advisory_db(a: &CompiledAdvisory) -> bool {
    a.advisory.affected.iter().any(|e| {
        e.database_specific
            .as_ref()
            .is_some_and(|d| d.get("patched").is_some())
    })
}

/// A RustSec record in the OSV form RustSec exports (osv.dev's `crates.io` feed): its `fixed`
/// events are the ends of RustSec's `patched` and `unaffected` requirements alike (time:
/// `0.2.0`, never vulnerable, and `0.2.23`, the fix), and nothing in it tells them apart (the
/// event pattern of `unaffected = ["=0.2.0"]` is that of `patched = ["=0.2.0"]`).
fn fixes_unlabelled(a: &CompiledAdvisory) -> bool {
    a.advisory.id.starts_with("RUSTSEC-") && !from_advisory_db(a)
}

/// The fixed versions a hit offers: none from an OSV-form copy of a RustSec record when the
/// advisory-db's own record of the same id is among `hits` (its patched versions are the fixes).
fn fixes_of<'h>(h: &Hit<'h>, hits: &[Hit<'_>]) -> &'h [Version] {
    let shadowed = fixes_unlabelled(h.advisory)
        && hits.iter().any(|o| {
            o.advisory.advisory.id == h.advisory.advisory.id && from_advisory_db(o.advisory)
        });
    if shadowed { &[] } else { &h.affected.fixed }
}

/// A note when the suggested upgrade is named only by OSV-form RustSec copies, which do not
/// say whether it is a patched version or one RustSec calls unaffected.
fn unlabelled_fix_note(fix: &Fix, hits: &[Hit<'_>]) -> Option<String> {
    let Fix::Upgrade { to } = fix else {
        return None;
    };
    let naming: Vec<&Hit<'_>> = hits
        .iter()
        .filter(|h| fixes_of(h, hits).iter().any(|v| v.to_string() == *to))
        .collect();
    let unsure: Vec<&&Hit<'_>> = naming
        .iter()
        .filter(|h| fixes_unlabelled(h.advisory))
        .collect();
    if unsure.is_empty() || unsure.len() < naming.len() {
        return None;
    }
    let h = unsure[0];
    let id = &h.advisory.advisory.id;
    Some(format!(
        "{id}: the upgrade to {to} is a `fixed` end of {id} as read from {}, which (like the \
         OSV export of RustSec) does not say whether it is a patched version or one RustSec \
         calls unaffected; RustSec's patched versions: https://rustsec.org/advisories/{id}.html \
         (or sync the RustSec advisory-db)",
        h.advisory.source
    ))
}

/// The smallest version above `current` that none of `hits` affects, among the fixed versions
/// they name. From a final release, a final release is preferred (pip does not install a
/// pre-release unless asked); a pre-release is suggested only when no final one is safe.
fn smallest_fix(current: &Version, hits: &[Hit<'_>]) -> Fix {
    let mut candidates: Vec<&Version> = hits
        .iter()
        .flat_map(|h| fixes_of(h, hits).iter())
        .filter(|f| *f > current)
        .collect();
    candidates.sort();
    candidates.dedup();
    if candidates.is_empty() {
        return Fix::NoFix;
    }
    let safe: Vec<&Version> = candidates
        .into_iter()
        .filter(|c| !hits.iter().any(|h| h.affected.affects(c, &c.to_string())))
        .collect();
    let pick = if current.is_prerelease() {
        safe.first()
    } else {
        safe.iter().find(|c| !c.is_prerelease()).or(safe.first())
    };
    match pick {
        Some(c) => Fix::Upgrade { to: c.to_string() },
        None => Fix::NoSafeVersion,
    }
}

fn advisory_url(a: &CompiledAdvisory) -> Option<String> {
    let refs = &a.advisory.references;
    refs.iter()
        .find(|r| r.kind == "ADVISORY")
        .or_else(|| refs.iter().find(|r| r.kind == "WEB"))
        .map(|r| r.url.clone())
}

/// The record's own one-line `summary`, when it has one.
fn summary_field(a: &CompiledAdvisory) -> Option<String> {
    a.advisory
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The first line of the record's `details`, cut to 160 characters: a stand-in title for
/// records without a `summary` (PyPA's).
fn details_excerpt(a: &CompiledAdvisory) -> Option<String> {
    let d = a.advisory.details.as_deref()?.trim();
    let first = d.lines().find(|l| !l.trim().is_empty())?.trim();
    // 160 characters in all, the `…` included (the cut used to add it as a 161st).
    Some(crate::text::cap_chars(first, 160))
}

/// The title of a group of records: a record's `summary` wins over any record's shortened
/// `details` (PyPA records have only `details`; their GHSA aliases have a written summary).
/// Among records, the display id's record first, then by id rank as for the display id.
fn title_of(eco: Ecosystem, id: &str, records: &[Hit<'_>]) -> Option<String> {
    let mut ordered: Vec<&CompiledAdvisory> = records.iter().map(|h| h.advisory).collect();
    ordered.sort_by(|a, b| {
        let (a, b) = (&a.advisory.id, &b.advisory.id);
        (a != id, AdvisoryId::new(a).rank(eco), a).cmp(&(b != id, AdvisoryId::new(b).rank(eco), b))
    });
    ordered
        .iter()
        .find_map(|a| summary_field(a))
        .or_else(|| ordered.iter().find_map(|a| details_excerpt(a)))
}

/// Every hit on the package whose record shares an id with `ids`: all records of one
/// vulnerability, whether or not they list the version.
fn records_of<'a>(hits: &[Hit<'a>], ids: &BTreeSet<String>) -> Vec<Hit<'a>> {
    hits.iter()
        .copied()
        .filter(|h| ids_of(h.advisory).any(|i| ids.contains(i)))
        .collect()
}

/// The severity of a vulnerability from its records: the most severe record's level and, among
/// the records at that level, the highest score. Level and score shown together thus always
/// come from one record ("high (7.5)"), never a label from one and a score from another.
fn group_severity(records: &[Hit<'_>]) -> (Level, Option<f64>) {
    records
        .iter()
        .map(|h| (h.advisory.severity, h.advisory.score))
        .max_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.unwrap_or(-1.0).total_cmp(&b.1.unwrap_or(-1.0)))
        })
        .unwrap_or((Level::Unknown, None))
}

/// One verdict per record: "does not list" lines for the records (from any source) that name
/// the package but whose entries for it, taken together, do not contain the version. Two
/// entries of one record (GHSA writes one per fixed branch) never disagree with each other.
fn disagreements_of(records: &[Hit<'_>], version: &Version, text: &str) -> Vec<String> {
    let mut verdicts: Vec<(&CompiledAdvisory, bool, VersionSet)> = Vec::new();
    for h in records {
        let affects = h.affected.affects(version, text);
        match verdicts
            .iter_mut()
            .find(|(a, _, _)| std::ptr::eq(*a, h.advisory))
        {
            Some((_, any, set)) => {
                *any |= affects;
                *set = set.union(&h.affected.affected);
            }
            None => verdicts.push((h.advisory, affects, h.affected.affected.clone())),
        }
    }
    let mut out: Vec<String> = verdicts
        .into_iter()
        .filter(|(_, affects, _)| !affects)
        .map(|(a, _, set)| {
            format!(
                "{} ({}) does not list {} as affected (its affected versions: {})",
                a.advisory.id, a.source, text, set
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The lowest version above the current one that the finding's own records name as fixed:
/// what an `until-fix` ignore waits for. (The finding's `fix` also weighs the package's other
/// advisories: one of them having a fix must not end the wait.)
fn own_fix(finding: &Finding) -> Option<String> {
    let eco = finding.package.ecosystem;
    let current = eco.parse_version(&finding.package.version).ok()?;
    finding
        .fixed_versions
        .iter()
        .filter_map(|v| eco.parse_version(v).ok().map(|p| (p, v)))
        .filter(|(p, _)| *p > current)
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v.clone())
}

/// Put `note` before the finding's note (an ignore's or VEX's word comes before how the
/// ranges were read).
fn add_note(finding: &mut Finding, note: String) {
    finding.note = Some(match finding.note.take() {
        Some(n) => format!("{note}; {n}"),
        None => note,
    });
}

fn location(dep: &Dependency) -> Location {
    Location {
        file: dep.file.clone(),
        line: dep.line,
    }
}

struct Matcher<'a> {
    db: &'a Database,
    settings: &'a MatchSettings,
    report: Report,
    /// The directory of the manifest being matched, for ignores that apply to one directory.
    manifest_dir: PathBuf,
    /// Versions pinned in the scanned manifests, by (ecosystem, normalised name), with the
    /// file that pins them: versions known to exist, for a malicious release's advice.
    pinned_versions: std::collections::HashMap<(Ecosystem, String), Vec<(Version, PathBuf)>>,
}

impl<'a> Matcher<'a> {
    /// Check ignores: `true` when an ignore in force hides the finding; an expired ignore (or an
    /// `until-fix` one whose fix has appeared) adds a note and lets it through.
    fn apply_ignores(&mut self, finding: &mut Finding) -> bool {
        let eco = finding.package.ecosystem;
        let today = self.settings.today;
        let own_fix = own_fix(finding);
        let has_fix = own_fix.is_some();
        let matching: Vec<&Ignore> = self
            .settings
            .ignores
            .iter()
            .filter(|i| i.covers(&self.manifest_dir, eco))
            .filter(|i| finding.ids.iter().any(|id| id.eq_ignore_ascii_case(&i.id)))
            .collect();
        // A rule in force wins over an expired one for the same vulnerability.
        let in_force = matching
            .iter()
            .find(|r| r.until.is_none_or(|u| today <= u) && !(r.until_fix && has_fix));
        let Some(rule) = in_force.or(matching.first()).copied() else {
            return false;
        };
        let origin = rule
            .origin
            .as_ref()
            .map(|o| format!(" (from {o})"))
            .unwrap_or_default();
        let was = rule
            .reason
            .as_ref()
            .map(|r| format!(" (reason was: {r})"))
            .unwrap_or_default();
        let ended = match rule.until {
            Some(until) if today > until => Some(format!(
                "ignore of {} expired on {until}{origin}{was}",
                rule.id
            )),
            _ if rule.until_fix && has_fix => Some(format!(
                "ignore of {} (until-fix){origin} ended: {}{was}",
                rule.id,
                match (&finding.fix, own_fix) {
                    (Fix::Upgrade { to }, _) =>
                        format!("a fixed version is known (upgrade to {to})"),
                    (_, v) => format!(
                        "a fixed version is known ({}), but no upgrade clears every advisory on \
                         the package yet",
                        v.unwrap_or_default()
                    ),
                }
            )),
            _ => None,
        };
        match ended {
            Some(ended) => {
                add_note(finding, ended);
                false
            }
            None => {
                self.report.ignored.push(IgnoredFinding {
                    id: finding.id.clone(),
                    package: finding.package.clone(),
                    ignored_as: rule.id.clone(),
                    reason: rule.reason.clone(),
                    until: rule.until.map(|d| d.to_string()),
                    origin: rule.origin.clone(),
                    justification: None,
                });
                true
            }
        }
    }

    /// Apply the project's VEX statements about the finding: `true` when a `not_affected`
    /// statement hides it (listed as ignored, with its justification and statement). The other
    /// statuses leave it open: `affected` and `under_investigation` are recorded on the finding
    /// (a draft shows the action statement), and a `fixed` statement about a version the scan
    /// finds affected is a contradiction, said in the finding's note and the report's notices.
    fn apply_vex(&mut self, finding: &mut Finding) -> bool {
        use crate::vex::Status;
        let p = &finding.package;
        let applying: Vec<&crate::vex::VexStatement> = self
            .settings
            .vex
            .iter()
            .filter(|s| s.covers(&finding.ids, p.ecosystem, &p.name, &p.version))
            .collect();
        if let Some(s) = applying
            .iter()
            .find(|s| s.statement.status == Status::NotAffected)
        {
            let st = &s.statement;
            // The justification label has its own field; the reason is the impact statement.
            let reason = st
                .impact_statement
                .as_deref()
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .map(String::from);
            self.report.ignored.push(IgnoredFinding {
                id: finding.id.clone(),
                package: finding.package.clone(),
                ignored_as: st.vulnerability.name.clone(),
                reason,
                until: None,
                origin: Some(s.origin()),
                justification: st.justification,
            });
            return true;
        }
        for s in applying {
            let st = &s.statement;
            let note = match st.status {
                Status::NotAffected => continue,
                Status::Fixed => {
                    let text = format!(
                        "contradiction: {} says {} is fixed in {} {}, but the scan finds that \
                         version affected",
                        s.origin(),
                        st.vulnerability.name,
                        finding.package.name,
                        finding.package.version
                    );
                    self.report.notices.push(text.clone());
                    text
                }
                Status::Affected => format!(
                    "{} says affected; action: {}",
                    s.origin(),
                    st.action_statement.as_deref().unwrap_or_default().trim()
                ),
                Status::UnderInvestigation => format!("{} says under investigation", s.origin()),
            };
            add_note(finding, note);
            finding.vex.push(crate::report::VexClaim {
                status: st.status,
                origin: s.origin(),
                action_statement: st.action_statement.clone(),
            });
        }
        false
    }

    fn is_ignored_id(&self, ids: &[String], ecosystem: Ecosystem) -> bool {
        self.settings.ignores.iter().any(|i| {
            i.covers(&self.manifest_dir, ecosystem)
                && ids.iter().any(|id| id.eq_ignore_ascii_case(&i.id))
                && i.until.is_none_or(|u| self.settings.today <= u)
        })
    }

    /// A dependency its markers rule out: matched as any other, but what that reports is
    /// taken back out and only its ids kept on its `not_applicable` entry.
    fn not_applicable(&mut self, dep: &Dependency, markers: &str, environments: &[String]) {
        let r = &self.report;
        let before = (
            r.findings.len(),
            r.warnings.len(),
            r.risks.len(),
            r.ignored.len(),
        );
        let requirement = match &dep.requirement {
            Requirement::Pinned { version, text } => {
                self.pinned(dep, version, text);
                text.clone()
            }
            Requirement::Range { text, set } => {
                self.range(dep, text, set);
                text.clone()
            }
            Requirement::NotChecked { reason } => format!("not checked: {reason}"),
        };
        let r = &mut self.report;
        let mut advisories: BTreeSet<String> = BTreeSet::new();
        advisories.extend(r.findings.drain(before.0..).map(|f| f.id));
        advisories.extend(r.warnings.drain(before.1..).map(|f| f.id));
        advisories.extend(
            r.risks
                .drain(before.2..)
                .flat_map(|x| x.advisories.into_iter().map(|a| a.id)),
        );
        // An ignore hides it anyway; listing it as ignored would say it applies.
        r.ignored.truncate(before.3);
        r.not_applicable.push(NotApplicable {
            location: location(dep),
            ecosystem: dep.ecosystem,
            name: dep.name.clone(),
            requirement,
            markers: markers.to_string(),
            environments: environments.to_vec(),
            advisories: advisories.into_iter().collect(),
            scope: dep.scope.clone(),
            member: dep.member.clone(),
        });
    }

    fn pinned(&mut self, dep: &Dependency, version: &Version, text: &str) {
        let name = dep.ecosystem.normalize_name(&dep.name);
        let hits = self.db.lookup(dep.ecosystem, &name);
        if hits.is_empty() {
            return;
        }
        let matched: Vec<Hit<'_>> = hits
            .iter()
            .copied()
            .filter(|h| h.affected.affects(version, text))
            .collect();
        if matched.is_empty() {
            return;
        }
        let vuln_hits: Vec<Hit<'_>> = hits
            .iter()
            .copied()
            .filter(|h| is_vuln(h.advisory))
            .collect();
        let package_fix = smallest_fix(version, &vuln_hits);
        for group in group_by_alias(&matched) {
            let mut ids = BTreeSet::new();
            let mut sources = BTreeSet::new();
            let mut fixed: BTreeSet<&Version> = BTreeSet::new();
            // How depwatch read the matching ranges where the records are not plain.
            let mut range_notes: BTreeSet<String> = BTreeSet::new();
            for h in &group {
                range_notes.extend(
                    h.affected
                        .notes
                        .iter()
                        .map(|n| format!("{}: {n}", h.advisory.advisory.id)),
                );
                ids.extend(ids_of(h.advisory).cloned());
                sources.insert(h.advisory.source.clone());
                fixed.extend(fixes_of(h, &hits).iter());
            }
            // The vulnerability's records on this package, those that do not list the version
            // included: severity, vectors and CWEs describe the vulnerability, not the version.
            let records = records_of(&hits, &ids);
            let mut vectors = BTreeSet::new();
            let mut cwes = BTreeSet::new();
            for h in &records {
                vectors.extend(
                    h.advisory
                        .advisory
                        .severity
                        .iter()
                        .filter(|s| s.kind.starts_with("CVSS"))
                        .map(|s| s.score.clone()),
                );
                cwes.extend(h.advisory.advisory.cwe_ids());
            }
            let id = best_id(dep.ecosystem, &ids);
            let primary = group
                .iter()
                .find(|h| h.advisory.advisory.id == id)
                .or_else(|| group.first())
                .map(|h| h.advisory);
            let kind = if group
                .iter()
                .any(|h| h.advisory.kind == AdvisoryKind::Malware)
            {
                AdvisoryKind::Malware
            } else if group
                .iter()
                .any(|h| h.advisory.kind == AdvisoryKind::Vulnerability)
            {
                AdvisoryKind::Vulnerability
            } else {
                primary.map_or(AdvisoryKind::Other, |p| p.kind)
            };
            let (severity, score) = group_severity(&records);
            let disagreements = disagreements_of(&records, version, text);
            let fix = if kind == AdvisoryKind::Malware {
                self.malware_fix(dep, version, &group, &hits)
            } else if kind.is_informational() {
                smallest_fix(version, &group)
            } else {
                package_fix.clone()
            };
            let fix_hits = if kind.is_informational() {
                &group
            } else {
                &vuln_hits
            };
            range_notes.extend(unlabelled_fix_note(&fix, fix_hits));
            let mut finding = Finding {
                url: primary
                    .and_then(advisory_url)
                    .or_else(|| AdvisoryId::new(&id).url()),
                summary: title_of(dep.ecosystem, &id, &records),
                id,
                ids: ids.into_iter().collect(),
                sources: sources.into_iter().collect(),
                kind,
                package: PackageRef {
                    ecosystem: dep.ecosystem,
                    name: dep.name.clone(),
                    version: text.to_string(),
                },
                severity,
                cvss_score: score,
                cvss_vectors: vectors.into_iter().collect(),
                cwe_ids: cwes.into_iter().collect(),
                fixed_versions: fixed.into_iter().map(ToString::to_string).collect(),
                fix,
                location: location(dep),
                via: dep.via.clone(),
                scope: dep.scope.clone(),
                member: dep.member.clone(),
                markers: dep.markers.clone(),
                note: (!range_notes.is_empty())
                    .then(|| range_notes.into_iter().collect::<Vec<_>>().join("; ")),
                disagreements,
                kev: None,
                kev_related: Vec::new(),
                epss: None,
                vex: Vec::new(),
            };
            if self.apply_ignores(&mut finding) || self.apply_vex(&mut finding) {
                continue;
            }
            if finding.kind.is_informational() {
                self.report.warnings.push(finding);
            } else {
                self.report.findings.push(finding);
            }
        }
    }

    /// The advice for a malicious release: check the index when the dependency comes from a
    /// private one (the record is about the public name); else remove it, naming the nearest
    /// version depwatch knows exists that no record on the package affects: the highest below
    /// the current one (the last release before the compromise), else the lowest above.
    /// Known versions are those the package's records name and those pinned in the scanned
    /// manifests; no version is invented.
    fn malware_fix(
        &self,
        dep: &Dependency,
        current: &Version,
        group: &[Hit<'_>],
        hits: &[Hit<'_>],
    ) -> Fix {
        if let Some(index) = &dep.index {
            return Fix::CheckIndex {
                index: index.clone(),
            };
        }
        let listed = group
            .iter()
            .filter(|h| h.advisory.kind == AdvisoryKind::Malware)
            .fold(VersionSet::empty(), |acc, h| {
                acc.union(&h.affected.affected)
            });
        if listed.complement().is_empty() {
            return Fix::RemoveRelease {
                nearest: None,
                every_version: true,
            };
        }
        let name = dep.ecosystem.normalize_name(&dep.name);
        let mut known: std::collections::BTreeMap<Version, String> = Default::default();
        for h in hits {
            let id = &h.advisory.advisory.id;
            for a in h.advisory.advisory.affected.iter().filter(|a| {
                a.package.ecosystem == dep.ecosystem.as_osv()
                    && dep.ecosystem.normalize_name(&a.package.name) == name
            }) {
                let ranged = a
                    .ranges
                    .iter()
                    .filter(|r| r.kind != "GIT")
                    .flat_map(|r| r.events.iter())
                    .flat_map(|e| [&e.introduced, &e.fixed, &e.last_affected])
                    .flatten();
                for v in a.versions.iter().chain(ranged).filter(|v| *v != "0") {
                    if let Ok(v) = dep.ecosystem.parse_version(v) {
                        known.entry(v).or_insert_with(|| format!("named by {id}"));
                    }
                }
            }
        }
        for (v, file) in self
            .pinned_versions
            .get(&(dep.ecosystem, name))
            .into_iter()
            .flatten()
        {
            known
                .entry(v.clone())
                .or_insert_with(|| format!("pinned in {}", file.display()));
        }
        let clean = |v: &Version| {
            v != current
                && (current.is_prerelease() || !v.is_prerelease())
                && !hits.iter().any(|h| h.affected.affects(v, &v.to_string()))
        };
        let below = known.iter().rev().find(|(v, _)| *v < current && clean(v));
        let above = known.iter().find(|(v, _)| *v > current && clean(v));
        Fix::RemoveRelease {
            nearest: below.or(above).map(|(v, from)| NearestVersion {
                version: v.to_string(),
                from: from.clone(),
            }),
            every_version: false,
        }
    }

    fn range(&mut self, dep: &Dependency, text: &str, set: &VersionSet) {
        let name = dep.ecosystem.normalize_name(&dep.name);
        let hits: Vec<Hit<'_>> = self
            .db
            .lookup(dep.ecosystem, &name)
            .into_iter()
            .filter(|h| is_vuln(h.advisory))
            .collect();
        let admitted: Vec<Hit<'_>> = hits
            .iter()
            .copied()
            .filter(|h| !set.is_disjoint(&h.affected.affected))
            .collect();
        if admitted.is_empty() {
            return;
        }
        let mut advisories = Vec::new();
        for group in group_by_alias(&admitted) {
            let ids: BTreeSet<String> = group
                .iter()
                .flat_map(|h| ids_of(h.advisory).cloned())
                .collect();
            let ids: Vec<String> = ids.into_iter().collect();
            if self.is_ignored_id(&ids, dep.ecosystem) {
                continue;
            }
            let id = best_id(dep.ecosystem, &ids.iter().cloned().collect());
            let allowed = group.iter().fold(VersionSet::empty(), |acc, h| {
                acc.union(&set.intersection(&h.affected.affected))
            });
            let records = records_of(&hits, &ids.iter().cloned().collect());
            advisories.push(RiskAdvisory {
                summary: title_of(dep.ecosystem, &id, &records),
                severity: group_severity(&records).0,
                allowed_affected: allowed.to_string(),
                id,
                ids,
            });
        }
        if advisories.is_empty() {
            return;
        }
        advisories.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        let affected_all = hits.iter().fold(VersionSet::empty(), |acc, h| {
            acc.union(&h.affected.affected)
        });
        let (suggested, note) = suggest_bound(set, &affected_all);
        self.report.risks.push(RangeRisk {
            ecosystem: dep.ecosystem,
            package: dep.name.clone(),
            requirement: text.to_string(),
            location: location(dep),
            severity: advisories
                .iter()
                .map(|a| a.severity)
                .max()
                .unwrap_or(Level::Unknown),
            advisories,
            suggested,
            note,
        });
    }
}

/// The lowest lower bound that, added to `allowed`, leaves no version of `affected`:
/// candidates are the upper ends of the affected intervals, lowest first.
fn suggest_bound(allowed: &VersionSet, affected: &VersionSet) -> (Option<String>, Option<String>) {
    let mut candidates: Vec<(VersionSet, String)> = Vec::new();
    for (_, hi) in affected.intervals() {
        match hi {
            Bound::Excluded(v) => {
                candidates.push((VersionSet::at_least(v.clone()), format!(">={v}")))
            }
            Bound::Included(v) => candidates.push((VersionSet::above(v.clone()), format!(">{v}"))),
            Bound::Unbounded => {}
        }
    }
    for (bound, text) in candidates {
        let narrowed = allowed.intersection(&bound);
        if narrowed.is_disjoint(affected) {
            if narrowed.is_empty() {
                return (
                    Some(text),
                    Some("the range's upper bound must also be raised: it admits no version at or above the fix".into()),
                );
            }
            return (Some(text), None);
        }
    }
    (
        None,
        Some("no version above the affected ranges is known: an advisory has no fix".into()),
    )
}

/// Match every parsed manifest against the database and build the report.
pub fn build_report(
    db: &Database,
    manifests: &[ParsedManifest],
    settings: &MatchSettings,
) -> Report {
    let report = Report {
        schema_version: crate::report::SCHEMA_VERSION,
        tool: Tool::default(),
        sources: db.sources.clone(),
        manifests: Vec::new(),
        findings: Vec::new(),
        warnings: Vec::new(),
        risks: Vec::new(),
        not_checked: Vec::new(),
        not_applicable: Vec::new(),
        ignored: Vec::new(),
        load_errors: db.load_errors.clone(),
        notices: Vec::new(),
        summary: Summary::default(),
    };
    let mut pinned_versions: std::collections::HashMap<_, Vec<_>> = Default::default();
    for (path, _, parsed) in manifests {
        for dep in parsed.iter().flat_map(|m| m.dependencies.iter()) {
            if let Requirement::Pinned { version, .. } = &dep.requirement {
                pinned_versions
                    .entry((dep.ecosystem, dep.ecosystem.normalize_name(&dep.name)))
                    .or_insert_with(Vec::new)
                    .push((version.clone(), path.clone()));
            }
        }
    }
    let mut m = Matcher {
        db,
        settings,
        report,
        manifest_dir: PathBuf::new(),
        pinned_versions,
    };
    let mut dependencies = 0;
    // One evaluation per distinct marker text (a lockfile repeats a few markers many times).
    let mut verdicts: std::collections::HashMap<&str, Applies> = std::collections::HashMap::new();
    let environments = settings.targets.describe();
    for (path, kind, parsed) in manifests {
        m.manifest_dir = path.parent().map(PathBuf::from).unwrap_or_default();
        match parsed {
            Err(e) => m.report.manifests.push(ManifestSummary {
                path: path.clone(),
                kind: *kind,
                dependencies: 0,
                error: Some(e.to_string()),
                warnings: Vec::new(),
            }),
            Ok(manifest) => {
                m.report.manifests.push(ManifestSummary {
                    path: path.clone(),
                    kind: *kind,
                    dependencies: manifest.dependencies.len(),
                    error: None,
                    warnings: manifest.warnings.clone(),
                });
                dependencies += manifest.dependencies.len();
                for dep in &manifest.dependencies {
                    // PEP 508 markers only: a crate's `cfg(...)` target is not one, and the
                    // declared environments say nothing about Rust targets.
                    if let Some(markers) = dep.markers.as_deref()
                        && dep.ecosystem == Ecosystem::PyPI
                        && settings.targets.is_declared()
                    {
                        let first = !verdicts.contains_key(markers);
                        let verdict = verdicts
                            .entry(markers)
                            .or_insert_with(|| settings.targets.applies(markers));
                        match verdict {
                            Applies::Maybe => {}
                            Applies::NotHere => {
                                m.not_applicable(dep, markers, &environments);
                                continue;
                            }
                            // Said once per marker text, at its first declaration.
                            Applies::Unreadable(why) if first => m.report.notices.push(format!(
                                "{}:{}: the markers of {} could not be evaluated ({why}): \
                                 counted as applying (and wherever the same markers recur)",
                                dep.file.display(),
                                dep.line,
                                crate::text::shorten(&dep.name, 100)
                            )),
                            Applies::Unreadable(_) => {}
                        }
                    }
                    match &dep.requirement {
                        Requirement::Pinned { version, text } => m.pinned(dep, version, text),
                        Requirement::Range { text, set } => m.range(dep, text, set),
                        Requirement::NotChecked { reason } => {
                            m.report.not_checked.push(NotChecked {
                                ecosystem: dep.ecosystem,
                                name: dep.name.clone(),
                                location: location(dep),
                                reason: reason.clone(),
                                count: None,
                                names: Vec::new(),
                            })
                        }
                    }
                }
            }
        }
    }
    let mut r = m.report;
    let key = |f: &Finding| {
        (
            f.location.file.clone(),
            f.location.line,
            f.package.name.clone(),
            f.package.version.clone(),
            f.id.clone(),
        )
    };
    r.findings.sort_by_key(key);
    r.warnings.sort_by_key(key);
    // The one finding order first (malware, KEV, EPSS, severity); location order breaks ties
    // (a stable sort keeps it).
    r.findings.sort_by(crate::report::finding_order);
    r.risks
        .sort_by(|a, b| (&a.location, &a.package).cmp(&(&b.location, &b.package)));
    r.not_checked.sort();
    r.not_applicable.sort();
    r.ignored
        .sort_by(|a, b| (&a.package, &a.id).cmp(&(&b.package, &b.id)));
    r.manifests.sort_by(|a, b| a.path.cmp(&b.path));
    // One contradiction per statement and package, however many manifests declare it.
    r.notices.sort();
    r.notices.dedup();
    let mut by_severity = std::collections::BTreeMap::new();
    for l in ["critical", "high", "medium", "low", "unknown"] {
        by_severity.insert(l.to_string(), 0);
    }
    for f in &r.findings {
        // Malware has its own key: it is not "unknown severity" noise.
        *by_severity
            .entry(f.severity_text().to_string())
            .or_insert(0) += 1;
    }
    r.summary = Summary {
        dependencies,
        findings: r.findings.len(),
        by_severity,
        warnings: r.warnings.len(),
        risks: r.risks.len(),
        not_checked: r.not_checked.len(),
        manifest_errors: r.manifests.iter().filter(|m| m.error.is_some()).count(),
        not_applicable: r.not_applicable.len(),
        max_severity: r
            .findings
            .iter()
            .filter(|f| !f.is_malicious())
            .map(|f| f.severity)
            .max(),
        malicious: r.findings.iter().filter(|f| f.is_malicious()).count(),
    };
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::{Advisory, Affected, Event, Package, Range};
    use crate::feeds::Loaded;
    use crate::manifests::Dependency;
    use std::path::Path;

    fn record(
        id: &str,
        aliases: &[&str],
        eco: &str,
        name: &str,
        events: &[(&str, &str)],
    ) -> CompiledAdvisory {
        let events = events
            .iter()
            .map(|(k, v)| {
                let mut e = Event::default();
                let s = Some(v.to_string());
                match *k {
                    "i" => e.introduced = s,
                    "f" => e.fixed = s,
                    "la" => e.last_affected = s,
                    _ => e.limit = s,
                }
                e
            })
            .collect();
        let a = Advisory {
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            summary: Some(format!("summary of {id}")),
            affected: vec![Affected {
                package: Package {
                    ecosystem: eco.into(),
                    name: name.into(),
                    purl: None,
                },
                ranges: vec![Range {
                    kind: "ECOSYSTEM".into(),
                    events,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        CompiledAdvisory::compile(
            a,
            if id.starts_with("GHSA") {
                "ghsa"
            } else {
                "pypa"
            },
        )
        .unwrap()
    }

    fn db(records: Vec<CompiledAdvisory>) -> Database {
        Database::from_sources(vec![Loaded {
            source: "test".into(),
            advisories: records,
            errors: vec![],
        }])
    }

    fn pin(name: &str, v: &str) -> Dependency {
        Dependency::new(
            Ecosystem::PyPI,
            name,
            Requirement::Pinned {
                version: Ecosystem::PyPI.parse_version(v).unwrap(),
                text: v.into(),
            },
            Path::new("requirements.txt"),
            3,
        )
    }

    fn range(name: &str, spec: &str) -> Dependency {
        let specs: pep508_rs::pep440_rs::VersionSpecifiers = spec.parse().unwrap();
        Dependency::new(
            Ecosystem::PyPI,
            name,
            Requirement::Range {
                text: spec.into(),
                set: crate::ecosystem::pep440_specifiers_to_set(&specs),
            },
            Path::new("requirements.txt"),
            4,
        )
    }

    fn settings(ignores: Vec<Ignore>) -> MatchSettings {
        MatchSettings {
            targets: Targets::default(),
            ignores,
            today: jiff::civil::date(2026, 11, 23),
            vex: Vec::new(),
        }
    }

    fn run(db: &Database, deps: Vec<Dependency>, s: &MatchSettings) -> Report {
        let m = Manifest {
            path: "requirements.txt".into(),
            kind: ManifestKind::RequirementsTxt,
            dependencies: deps,
            warnings: vec![],
        };
        build_report(db, &[(m.path.clone(), m.kind, Ok(m))], s)
    }

    fn malware(id: &str, name: &str, versions: &[&str]) -> CompiledAdvisory {
        let a = Advisory {
            id: id.into(),
            affected: vec![Affected {
                package: Package {
                    ecosystem: "PyPI".into(),
                    name: name.into(),
                    purl: None,
                },
                versions: versions.iter().map(|v| v.to_string()).collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        CompiledAdvisory::compile(a, "malicious").unwrap()
    }

    #[test]
    fn malware_advice_names_the_nearest_clean_known_version_and_where_it_came_from() {
        let d = db(vec![
            malware("MAL-2025-1", "pkg", &["1.0.1", "1.0.2"]),
            // Names 0.9 (affected) and 1.0.0 (its fix, affected by nothing).
            record(
                "PYSEC-2024-1",
                &[],
                "PyPI",
                "pkg",
                &[("i", "0.9"), ("f", "1.0.0")],
            ),
        ]);
        let r = run(&d, vec![pin("pkg", "1.0.2")], &settings(vec![]));
        let f = r.findings.iter().find(|f| f.is_malicious()).unwrap();
        assert_eq!(f.severity_text(), "malicious");
        assert_eq!(
            f.fix,
            Fix::RemoveRelease {
                nearest: Some(NearestVersion {
                    version: "1.0.0".into(),
                    from: "named by PYSEC-2024-1".into()
                }),
                every_version: false
            }
        );
        assert_eq!(r.summary.malicious, 1);
        assert_eq!(r.summary.by_severity["malicious"], 1);
        assert_eq!(r.summary.by_severity["unknown"], 0);

        // Nothing else known: no version is invented.
        let d = db(vec![malware("MAL-2025-1", "pkg", &["1.0.1"])]);
        let r = run(&d, vec![pin("pkg", "1.0.1")], &settings(vec![]));
        assert_eq!(
            r.findings[0].fix,
            Fix::RemoveRelease {
                nearest: None,
                every_version: false
            }
        );
        assert_eq!(r.findings[0].fix.malware_advice(), "remove this release");

        // From a private index: the public name is malware, not the installed package.
        let mut dep = pin("pkg", "1.0.1");
        dep.index = Some("https://pypi.internal.example/simple".into());
        let r = run(&d, vec![dep], &settings(vec![]));
        assert_eq!(r.findings[0].severity_text(), "dependency-confusion");
        assert!(
            r.findings[0]
                .fix
                .malware_advice()
                .starts_with("a package of this name on PyPI is malware: check your index")
        );
    }

    #[test]
    fn ruled_out_dependencies_are_listed_not_counted() {
        let d = db(vec![
            record(
                "PYSEC-1",
                &["CVE-1"],
                "PyPI",
                "flask",
                &[("i", "0"), ("f", "3.0")],
            ),
            record("PYSEC-2", &[], "PyPI", "flask", &[("i", "0"), ("f", "3.0")]),
            record(
                "RUSTSEC-1",
                &[],
                "crates.io",
                "nix",
                &[("i", "0"), ("f", "9.0")],
            ),
        ]);
        let old = |mut dep: Dependency, m: &str| {
            dep.markers = Some(m.into());
            dep
        };
        let mut nix = Dependency::new(
            Ecosystem::CratesIo,
            "nix",
            Requirement::Pinned {
                version: Ecosystem::CratesIo.parse_version("1.0.0").unwrap(),
                text: "1.0.0".into(),
            },
            Path::new("Cargo.toml"),
            9,
        );
        nix.markers = Some("cfg(windows)".into());
        let deps = vec![
            old(pin("Flask", "2.0"), "python_version < '3.8'"),
            old(range("flask", ">=1.0"), "python_version < '3.8'"),
            old(pin("flask", "2.1"), "python_version >= '3.8'"),
            nix,
        ];
        let mut s = settings(vec![Ignore {
            id: "PYSEC-2".into(),
            ..Default::default()
        }]);
        s.targets = Targets::new(&["3.12".into()], &[], &[]).unwrap();
        let r = run(&d, deps.clone(), &s);
        // Flask 2.1 (python >= 3.8) and the crate (cfg() is not PEP 508) stay.
        let found: Vec<(&str, &str)> = r
            .findings
            .iter()
            .map(|f| (f.package.name.as_str(), f.id.as_str()))
            .collect();
        assert_eq!(found, [("nix", "RUSTSEC-1"), ("flask", "PYSEC-1")]);
        assert_eq!(r.notices, Vec::<String>::new());
        assert!(r.risks.is_empty());
        // The ignored PYSEC-2 is listed once, for the applicable pin only.
        assert_eq!(r.ignored.len(), 1);
        assert_eq!(r.ignored[0].package.version, "2.1");
        let na: Vec<(&str, &str, Vec<String>)> = r
            .not_applicable
            .iter()
            .map(|n| {
                (
                    n.name.as_str(),
                    n.requirement.as_str(),
                    n.advisories.clone(),
                )
            })
            .collect();
        assert_eq!(
            na,
            [
                ("Flask", "2.0", vec!["PYSEC-1".to_string()]),
                ("flask", ">=1.0", vec!["PYSEC-1".to_string()]),
            ]
        );
        assert_eq!(r.not_applicable[0].environments, ["python 3.12"]);
        assert_eq!((r.summary.findings, r.summary.not_applicable), (2, 2));
        assert_eq!(r.summary.dependencies, 4);
        // Undeclared: everything applies.
        let r = run(&d, deps, &settings(vec![]));
        assert!(r.not_applicable.is_empty());
        assert_eq!(r.summary.findings, 5);
    }

    #[test]
    fn aliases_across_sources_are_one_finding() {
        let d = db(vec![
            record(
                "PYSEC-2023-1",
                &["CVE-2023-9", "GHSA-aaaa"],
                "PyPI",
                "Flask",
                &[("i", "0"), ("f", "2.2.5")],
            ),
            record(
                "GHSA-aaaa",
                &["CVE-2023-9"],
                "PyPI",
                "flask",
                &[("i", "2.0"), ("f", "2.2.5")],
            ),
            record(
                "PYSEC-2024-7",
                &[],
                "PyPI",
                "flask",
                &[("i", "0"), ("f", "2.3.0")],
            ),
        ]);
        let r = run(&d, vec![pin("Flask", "2.2.2")], &settings(vec![]));
        assert_eq!(r.findings.len(), 2);
        let f = &r.findings[0];
        assert_eq!(
            f.id, "PYSEC-2023-1",
            "PYSEC preferred over GHSA and CVE for PyPI"
        );
        assert_eq!(f.ids, ["CVE-2023-9", "GHSA-aaaa", "PYSEC-2023-1"]);
        assert_eq!(f.sources, ["ghsa", "pypa"]);
        // The smallest version past *every* advisory on flask, not just this one.
        assert_eq!(f.fix, Fix::Upgrade { to: "2.3.0".into() });
        assert_eq!(f.fixed_versions, ["2.2.5"]);
    }

    #[test]
    fn disagreeing_alias_is_shown_and_match_is_conservative() {
        let d = db(vec![
            record(
                "PYSEC-1",
                &["GHSA-b"],
                "PyPI",
                "x",
                &[("i", "0"), ("f", "1.5")],
            ),
            record(
                "GHSA-b",
                &["PYSEC-1"],
                "PyPI",
                "x",
                &[("i", "0"), ("f", "1.2")],
            ),
        ]);
        let r = run(&d, vec![pin("x", "1.3")], &settings(vec![]));
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].disagreements.len(), 1);
        assert!(r.findings[0].disagreements[0].starts_with("GHSA-b"));
    }

    /// A finding shown under a CVE id, with no advisory reference, links to the CVE's page
    /// (it had no link in the report while SARIF linked osv.dev and drafts NVD); an id of a
    /// kind depwatch does not know gets no guessed link.
    #[test]
    fn the_url_comes_from_the_one_id_table() {
        let d = db(vec![
            record("CVE-2024-0001", &[], "PyPI", "y", &[("i", "0")]),
            record("LOCAL-7", &[], "PyPI", "z", &[("i", "0")]),
        ]);
        let r = run(
            &d,
            vec![pin("y", "1.0"), pin("z", "1.0")],
            &settings(vec![]),
        );
        let url = |id: &str| {
            r.findings
                .iter()
                .find(|f| f.id == id)
                .map(|f| f.url.clone())
                .unwrap()
        };
        assert_eq!(
            url("CVE-2024-0001").as_deref(),
            Some("https://nvd.nist.gov/vuln/detail/CVE-2024-0001")
        );
        assert_eq!(url("LOCAL-7"), None);
    }

    #[test]
    fn no_fix_and_no_safe_version() {
        let d = db(vec![record("PYSEC-9", &[], "PyPI", "y", &[("i", "0")])]);
        let r = run(&d, vec![pin("y", "1.0")], &settings(vec![]));
        assert_eq!(r.findings[0].fix, Fix::NoFix);
        let d = db(vec![
            record("PYSEC-1", &[], "PyPI", "z", &[("i", "0"), ("f", "2.0")]),
            record("PYSEC-2", &[], "PyPI", "z", &[("i", "1.5")]),
        ]);
        let r = run(&d, vec![pin("z", "1.0")], &settings(vec![]));
        assert_eq!(r.findings[0].fix, Fix::NoSafeVersion);
    }

    #[test]
    fn final_release_preferred_over_prerelease_fix() {
        let d = db(vec![
            record(
                "PYSEC-1",
                &[],
                "PyPI",
                "w",
                &[("i", "0"), ("f", "2.8.3rc1")],
            ),
            record("PYSEC-2", &[], "PyPI", "w", &[("i", "0"), ("f", "2.9.0")]),
        ]);
        let r = run(&d, vec![pin("w", "2.3.4")], &settings(vec![]));
        assert_eq!(r.findings[0].fix, Fix::Upgrade { to: "2.9.0".into() });
        let r = run(&d, vec![pin("w", "2.8.0rc1")], &settings(vec![]));
        assert_eq!(
            r.findings[0].fix,
            Fix::Upgrade { to: "2.9.0".into() },
            "2.8.3rc1 is still hit by PYSEC-2"
        );
        let d = db(vec![record(
            "PYSEC-1",
            &[],
            "PyPI",
            "w",
            &[("i", "0"), ("f", "2.8.3rc1")],
        )]);
        let r = run(&d, vec![pin("w", "2.3.4")], &settings(vec![]));
        assert_eq!(
            r.findings[0].fix,
            Fix::Upgrade {
                to: "2.8.3rc1".into()
            },
            "only a pre-release fixes it"
        );
    }

    #[test]
    fn unaffected_and_withdrawn_do_not_match() {
        let mut w = record("PYSEC-W", &[], "PyPI", "q", &[("i", "0")]);
        let mut a = (*w.advisory).clone();
        a.withdrawn = Some("2024-01-01T00:00:00Z".into());
        w.advisory = std::sync::Arc::new(a);
        let d = db(vec![
            w,
            record("PYSEC-2", &[], "PyPI", "q", &[("i", "0"), ("f", "1.0")]),
        ]);
        let r = run(&d, vec![pin("q", "1.0")], &settings(vec![]));
        assert!(r.findings.is_empty());
    }

    #[test]
    fn ignores_by_alias_and_expiry() {
        let d = db(vec![record(
            "PYSEC-1",
            &["CVE-1"],
            "PyPI",
            "x",
            &[("i", "0"), ("f", "9")],
        )]);
        let active = Ignore {
            id: "cve-1".into(),
            reason: Some("not reachable".into()),
            until: Some(jiff::civil::date(2026, 11, 23)),
            ..Default::default()
        };
        let r = run(&d, vec![pin("x", "1")], &settings(vec![active.clone()]));
        assert!(r.findings.is_empty());
        assert_eq!(r.ignored.len(), 1);
        assert_eq!(r.ignored[0].ignored_as, "cve-1");
        let expired = Ignore {
            until: Some(jiff::civil::date(2026, 11, 22)),
            ..active
        };
        let r = run(&d, vec![pin("x", "1")], &settings(vec![expired]));
        assert_eq!(r.findings.len(), 1);
        assert!(
            r.findings[0]
                .note
                .as_deref()
                .unwrap()
                .contains("expired on 2026-11-22")
        );
    }

    #[test]
    fn an_until_fix_ignore_holds_only_while_no_fix_is_known() {
        let rule = Ignore {
            id: "PYSEC-1".into(),
            reason: Some("waiting for upstream".into()),
            until_fix: true,
            ..Default::default()
        };
        let open = db(vec![record("PYSEC-1", &[], "PyPI", "x", &[("i", "0")])]);
        let r = run(&open, vec![pin("x", "1")], &settings(vec![rule.clone()]));
        assert!(r.findings.is_empty());
        assert_eq!(r.ignored.len(), 1);
        let fixed = db(vec![record(
            "PYSEC-1",
            &[],
            "PyPI",
            "x",
            &[("i", "0"), ("f", "2")],
        )]);
        let r = run(&fixed, vec![pin("x", "1")], &settings(vec![rule]));
        assert!(r.ignored.is_empty());
        assert_eq!(r.findings.len(), 1);
        let note = r.findings[0].note.as_deref().unwrap();
        assert!(
            note.starts_with(
                "ignore of PYSEC-1 (until-fix) ended: a fixed version is known (upgrade to 2)"
            ),
            "{note}"
        );
        assert!(note.contains("reason was: waiting for upstream"));
        // Another advisory's fix on the package does not end the wait.
        let other = db(vec![
            record("PYSEC-1", &[], "PyPI", "x", &[("i", "0")]),
            record("PYSEC-2", &[], "PyPI", "x", &[("i", "0"), ("f", "3")]),
        ]);
        let rule = Ignore {
            id: "PYSEC-1".into(),
            until_fix: true,
            ..Default::default()
        };
        let r = run(&other, vec![pin("x", "1")], &settings(vec![rule]));
        assert_eq!(r.ignored.len(), 1, "{:?}", r.findings);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].id, "PYSEC-2");
    }

    fn vex_statement(json: &str) -> Vec<crate::vex::VexStatement> {
        let doc = format!(
            r#"{{"@context":"https://openvex.dev/ns/v0.2.0","@id":"urn:x","author":"a",
            "timestamp":"2026-01-01T00:00:00Z","version":1,"statements":[{json}]}}"#
        );
        crate::vex::parse(Path::new("vex.json"), doc.as_bytes()).unwrap()
    }

    #[test]
    fn vex_not_affected_hides_and_fixed_contradicts() {
        let d = db(vec![record(
            "PYSEC-1",
            &["CVE-1"],
            "PyPI",
            "x",
            &[("i", "0")],
        )]);
        let mut s = settings(vec![]);
        s.vex = vex_statement(
            r#"{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:pypi/X@1.0"}],
            "status":"not_affected","justification":"component_not_present"}"#,
        );
        let r = run(&d, vec![pin("x", "1")], &s);
        assert!(r.findings.is_empty());
        assert_eq!(
            r.ignored[0].justification,
            Some(crate::vex::Justification::ComponentNotPresent)
        );
        assert_eq!(r.ignored[0].origin.as_deref(), Some("vex.json statement 0"));
        s.vex = vex_statement(
            r#"{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:pypi/x"}],
            "status":"fixed"}"#,
        );
        // Declared twice: one notice.
        let r = run(&d, vec![pin("x", "1"), pin("x", "1")], &s);
        assert_eq!(r.findings.len(), 2);
        assert_eq!(r.notices.len(), 1, "{:?}", r.notices);
        assert!(r.notices[0].starts_with("contradiction: vex.json statement 0 says CVE-1"));
        assert_eq!(r.findings[0].vex[0].status, crate::vex::Status::Fixed);
    }

    #[test]
    fn range_risks_and_suggested_bounds() {
        let d = db(vec![
            record(
                "PYSEC-1",
                &[],
                "PyPI",
                "streamlit",
                &[("i", "0"), ("f", "1.37.0")],
            ),
            record(
                "PYSEC-2",
                &[],
                "PyPI",
                "streamlit",
                &[("i", "1.38.0"), ("f", "1.43.0")],
            ),
            record(
                "PYSEC-3",
                &[],
                "PyPI",
                "streamlit",
                &[("i", "0.5"), ("la", "0.9")],
            ),
        ]);
        let r = run(&d, vec![range("streamlit", ">=1.39.0")], &settings(vec![]));
        assert_eq!(r.risks.len(), 1);
        let risk = &r.risks[0];
        assert_eq!(risk.advisories.len(), 1, "only PYSEC-2 intersects >=1.39.0");
        assert_eq!(risk.advisories[0].allowed_affected, ">=1.39.0, <1.43.0");
        assert_eq!(risk.suggested.as_deref(), Some(">=1.43.0"));
        // Fully outside the affected ranges: no risk.
        let r = run(&d, vec![range("streamlit", ">=1.43")], &settings(vec![]));
        assert!(r.risks.is_empty());
        // Below every fix: the bound is right, but the range's upper end must move too.
        let r = run(&d, vec![range("streamlit", "<0.95")], &settings(vec![]));
        assert_eq!(r.risks[0].suggested.as_deref(), Some(">=1.37.0"));
        assert!(r.risks[0].note.as_deref().unwrap().contains("upper bound"));
        // last_affected gives an exclusive bound.
        let d3 = db(vec![record(
            "PYSEC-3",
            &[],
            "PyPI",
            "s",
            &[("i", "0.5"), ("la", "0.9")],
        )]);
        let r = run(&d3, vec![range("s", ">=0.1")], &settings(vec![]));
        assert_eq!(r.risks[0].suggested.as_deref(), Some(">0.9"));
        // Open-ended advisory: no bound helps.
        let d = db(vec![record("PYSEC-4", &[], "PyPI", "p", &[("i", "2.0")])]);
        let r = run(&d, vec![range("p", ">=1.0")], &settings(vec![]));
        assert!(r.risks[0].suggested.is_none());
        assert!(r.risks[0].note.is_some());
    }

    /// A record with one `affected` entry per events list, all for PyPI package `name`.
    fn advisory(id: &str, aliases: &[&str], name: &str, entries: &[&[(&str, &str)]]) -> Advisory {
        let base = record(id, aliases, "PyPI", name, &[("i", "0")]);
        let mut a = (*base.advisory).clone();
        a.affected = entries
            .iter()
            .map(|events| {
                let r = record(id, aliases, "PyPI", name, events);
                r.advisory.affected[0].clone()
            })
            .collect();
        a
    }

    fn compiled(a: Advisory, source: &str) -> CompiledAdvisory {
        CompiledAdvisory::compile(a, source).unwrap()
    }

    fn cvss(kind: &str, vector: &str) -> crate::advisory::Severity {
        crate::advisory::Severity {
            kind: kind.into(),
            score: vector.into(),
        }
    }

    #[test]
    fn one_record_with_several_entries_is_one_verdict() {
        // GHSA-m2qf-hxjv-5gpq's shape: one entry per fixed branch of flask.
        let ghsa = advisory(
            "GHSA-m2qf",
            &["CVE-2023-30861"],
            "flask",
            &[
                &[("i", "2.3.0"), ("f", "2.3.2")],
                &[("i", "0"), ("f", "2.2.5")],
            ],
        );
        let d = db(vec![compiled(ghsa.clone(), "ghsa")]);
        let r = run(&d, vec![pin("flask", "2.2.2")], &settings(vec![]));
        assert_eq!(r.findings.len(), 1);
        assert!(
            r.findings[0].disagreements.is_empty(),
            "a record does not disagree with itself: {:?}",
            r.findings[0].disagreements
        );
        // A different record that does not list the version is still shown, once, with what
        // it says as a whole; the GHSA record (which lists 2.2.2 in one entry) is not.
        let other = advisory(
            "PYSEC-X",
            &["CVE-2023-30861"],
            "flask",
            &[
                &[("i", "0"), ("f", "2.2.0")],
                &[("i", "2.3.0"), ("f", "2.3.1")],
            ],
        );
        let d = db(vec![compiled(ghsa, "ghsa"), compiled(other, "pypa")]);
        let r = run(&d, vec![pin("flask", "2.2.2")], &settings(vec![]));
        assert_eq!(r.findings.len(), 1);
        assert_eq!(
            r.findings[0].disagreements,
            [
                "PYSEC-X (pypa) does not list 2.2.2 as affected (its affected versions: <2.2.0 || >=2.3.0, <2.3.1)"
            ]
        );
    }

    #[test]
    fn a_summary_wins_over_details_for_the_title() {
        // PyPA records have only `details`; their GHSA alias has a written `summary`.
        let mut pysec = advisory(
            "PYSEC-2023-62",
            &["GHSA-m2qf"],
            "flask",
            &[&[("i", "0"), ("f", "2.2.5")]],
        );
        pysec.summary = None;
        pysec.details = Some("Flask is a lightweight WSGI web application framework. When all of the following conditions are met, a response containing data intended for one client may be cached.".into());
        let mut ghsa = advisory(
            "GHSA-m2qf",
            &["CVE-2023-30861"],
            "flask",
            &[&[("i", "0"), ("f", "2.2.5")]],
        );
        ghsa.summary =
            Some("Flask vulnerable to possible disclosure of permanent session cookie".into());
        let d = db(vec![
            compiled(pysec.clone(), "pypa"),
            compiled(ghsa.clone(), "ghsa"),
        ]);
        let r = run(&d, vec![pin("flask", "2.2.2")], &settings(vec![]));
        assert_eq!(
            r.findings[0].id, "PYSEC-2023-62",
            "the display id is unchanged"
        );
        assert_eq!(
            r.findings[0].summary.as_deref(),
            ghsa.summary.as_deref(),
            "GHSA's summary, not PYSEC's shortened details"
        );
        let r = run(&d, vec![range("flask", ">=2.0")], &settings(vec![]));
        assert_eq!(
            r.risks[0].advisories[0].summary.as_deref(),
            ghsa.summary.as_deref()
        );
        // With no summary anywhere, the display id's details stand in.
        ghsa.summary = None;
        ghsa.details = Some("GHSA details".into());
        let d = db(vec![compiled(pysec, "pypa"), compiled(ghsa, "ghsa")]);
        let r = run(&d, vec![pin("flask", "2.2.2")], &settings(vec![]));
        assert!(
            r.findings[0]
                .summary
                .as_deref()
                .unwrap()
                .starts_with("Flask is a lightweight WSGI web application framework. When all of the following conditions are met, a response containing data intended for one client"),
            "{:?}",
            r.findings[0].summary
        );
    }

    #[test]
    fn merged_severity_is_the_highest_of_every_alias_record() {
        // The PyPA record has no score; its GHSA alias has one but, by its own ranges, does not
        // list the version: the finding still shows the vulnerability's score.
        let pysec = advisory("PYSEC-1", &["GHSA-a"], "x", &[&[("i", "0"), ("f", "1.5")]]);
        let mut ghsa = advisory("GHSA-a", &["CVE-1"], "x", &[&[("i", "0"), ("f", "1.2")]]);
        ghsa.severity = vec![cvss(
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        )];
        let d = db(vec![
            compiled(pysec.clone(), "pypa"),
            compiled(ghsa, "ghsa"),
        ]);
        let r = run(&d, vec![pin("x", "1.3")], &settings(vec![]));
        let f = &r.findings[0];
        assert_eq!(f.id, "PYSEC-1");
        assert_eq!((f.severity, f.cvss_score), (Level::High, Some(7.5)));
        assert_eq!(
            f.cvss_vectors,
            ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"]
        );
        assert_eq!(f.disagreements.len(), 1);
        let r = run(&d, vec![range("x", ">=1.3")], &settings(vec![]));
        assert_eq!(r.risks[0].advisories[0].severity, Level::High);

        // A CVSS v2 vector gives a level by NVD's v2 bands (9.3: high, not critical).
        let mut v2 = advisory("PYSEC-2", &[], "y", &[&[("i", "0"), ("f", "2.0")]]);
        v2.severity = vec![cvss("CVSS_V2", "AV:N/AC:M/Au:N/C:C/I:C/A:C")];
        let d = db(vec![compiled(v2, "pypa")]);
        let r = run(&d, vec![pin("y", "1.0")], &settings(vec![]));
        assert_eq!(
            (r.findings[0].severity, r.findings[0].cvss_score),
            (Level::High, Some(9.3))
        );

        // A label from one record is never shown with another record's score.
        let mut labelled = advisory("GHSA-b", &["PYSEC-3"], "z", &[&[("i", "0"), ("f", "2.0")]]);
        labelled.database_specific = Some(serde_json::json!({"severity": "HIGH"}));
        let mut scored = advisory("PYSEC-3", &[], "z", &[&[("i", "0"), ("f", "2.0")]]);
        scored.severity = vec![cvss(
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N",
        )];
        let d = db(vec![compiled(labelled, "ghsa"), compiled(scored, "pypa")]);
        let r = run(&d, vec![pin("z", "1.0")], &settings(vec![]));
        assert_eq!(
            (r.findings[0].severity, r.findings[0].cvss_score),
            (Level::High, None)
        );
    }
}
