//! Advisory drafts: one per affected project and vulnerability, as markdown (template
//! `draft.md`) and as the JSON body of GitHub's "create a repository security advisory" API.
//!
//! The project is the affected product: it is not on a registry, so the GitHub body names it
//! with ecosystem `other`. The vulnerable dependency and its patched version go into the prose.

use crate::monitor::TrackedFinding;
use crate::publish::affected::ProjectVersions;
use crate::publish::templates::{TemplateError, Templates};
use crate::report::{Finding, Fix};
use crate::severity::Level;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Everything a draft says about one vulnerability in one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DraftInput {
    /// The affected project (the product the advisory is about).
    pub project: String,
    /// The project's affected versions and the release that fixes them, as GitHub ranges,
    /// or why none could be built.
    pub project_versions: ProjectVersions,
    /// The CVE id of the project's own advisory, from the config; never the dependency's.
    pub cve_id: Option<String>,
    /// The finding, with its fingerprint, first sighting and deadlines.
    pub finding: TrackedFinding,
    /// The policy timeline; when empty, the finding's own deadlines are listed.
    pub timeline: Vec<TimelineEntry>,
    /// Links beyond the finding's own URL (which always comes first).
    pub references: Vec<String>,
    /// People or tools to credit. For the GitHub body, entries that are GitHub logins
    /// (`@octocat`, optionally `@octocat (finder)`) become credits; other names stay in the prose.
    pub credits: Vec<String>,
    /// How to mitigate without upgrading, if known.
    pub workarounds: Option<String>,
    /// When the draft was made (passed in so output is reproducible).
    pub generated_at: Timestamp,
    /// Where the policy came from (`SECURITY.md`); `None`: depwatch's default policy.
    pub policy_source: Option<String>,
    /// The zone dates are shown in (the configured `timezone`).
    #[serde(skip)]
    pub zone: crate::policy::Zone,
}

/// One line of the policy timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// What falls due ("Initial response", "Fix released").
    pub label: String,
    /// When; `None` when the policy sets no date for it.
    pub due: Option<Timestamp>,
    /// The rule that gave the date ("7 days after first seen (SECURITY.md line 12)").
    pub rule: String,
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers shared with the message renderers.

/// `2026-12-08 20:14 UTC`.
pub(crate) fn fmt_datetime(ts: Timestamp) -> String {
    let dt = TimeZone::UTC.to_datetime(ts);
    format!("{} {:02}:{:02} UTC", dt.date(), dt.hour(), dt.minute())
}

/// `2026-12-08` (UTC).
pub(crate) fn fmt_date(ts: Timestamp) -> String {
    TimeZone::UTC.to_datetime(ts).date().to_string()
}

/// Whitespace (newlines included) collapsed to single spaces: summaries go into headings,
/// table cells and one-line messages.
/// Feed text goes through the one cleaning rule ([`crate::text::clean`]) first: the draft's
/// JSON `summary` reaches GitHub as is, not through a template's escape.
pub(crate) fn one_line(s: &str) -> String {
    crate::text::clean(s, false)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) use crate::text::cap_chars;

/// "Medium", "Unknown".
pub(crate) fn severity_word(level: Level) -> String {
    let s = level.as_str();
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "medium (CVSS 5.6)" or "medium".
pub(crate) fn severity_text(f: &Finding) -> String {
    match f.cvss_score {
        // Malware: the marker, never "unknown" (its records carry no score).
        None if f.is_malicious() => f.severity_text().to_string(),
        Some(score) => format!("{} (CVSS {score:.1})", f.severity),
        None => f.severity.as_str().to_string(),
    }
}

/// What is known of the finding's exploitation, each statement with its source: the CISA
/// KEV entry of its CVE, KEV entries of CVEs it names only as related, its EPSS score. Empty
/// when nothing is known.
pub(crate) fn exploit_text(f: &Finding) -> String {
    let mut parts = Vec::new();
    if let Some(k) = &f.kev {
        parts.push(format!("known exploited: {}", k.describe()));
    }
    for k in &f.kev_related {
        parts.push(format!(
            "related (not this finding's own id): {}",
            k.describe()
        ));
    }
    if let Some(e) = &f.epss {
        parts.push(e.describe());
    }
    one_line(&parts.join("; "))
}

/// The finding's summary on one line, or words built from its kind and package.
pub(crate) fn summary_of(f: &Finding) -> String {
    match f.summary.as_deref().map(one_line) {
        Some(s) if !s.is_empty() => s,
        _ => format!(
            "{} in {} {}",
            f.kind.as_str(),
            f.package.name,
            f.package.version
        ),
    }
}

/// The finding's URL when it is a web link: other schemes (`javascript:`) from a feed are
/// never turned into links.
pub(crate) fn web_url(f: &Finding) -> Option<String> {
    f.url
        .as_deref()
        .map(str::trim)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_string)
}

/// The deadlines of a finding as (label, due) in policy order.
pub(crate) fn deadline_rows(t: &TrackedFinding) -> Vec<(&'static str, Timestamp)> {
    let d = &t.deadlines;
    [
        ("Initial response", d.respond_by),
        ("Status update", d.update_by),
        ("Assessment complete", d.assess_by),
        ("Fix released", d.fix_by),
        ("Public disclosure", d.disclose_by),
    ]
    .into_iter()
    .filter_map(|(label, due)| due.map(|due| (label, due)))
    .collect()
}

// ---------------------------------------------------------------------------------------------
// Markdown.

/// The flat context of `draft.md`: every field present (strict mode), strings pre-formatted.
#[derive(Debug, Serialize)]
struct DraftContext {
    project: String,
    id: String,
    aliases: String,
    has_aliases: bool,
    kind: String,
    summary: String,
    affected_versions: String,
    versions_known: bool,
    versions_from: String,
    versions_note: String,
    patched_versions: String,
    has_patched_versions: bool,
    patched_from: String,
    cve_id: String,
    has_cve_id: bool,
    severity: String,
    severity_known: bool,
    cvss_score: String,
    has_cvss_score: bool,
    /// Exploitation (KEV, EPSS) in words with sources; empty when nothing is known.
    exploit: String,
    has_exploit: bool,
    cvss_vectors: Vec<String>,
    has_cvss_vectors: bool,
    cwes: String,
    has_cwes: bool,
    ecosystem: String,
    package: String,
    version: String,
    declared_in: String,
    dependency_path: String,
    has_dependency_path: bool,
    scope: String,
    has_scope: bool,
    member: String,
    has_member: bool,
    patched_version: String,
    fixed_versions: String,
    has_fixed_versions: bool,
    fix_line: String,
    workarounds: String,
    has_workarounds: bool,
    first_seen: String,
    timeline: Vec<TimelineRow>,
    has_timeline: bool,
    policy: String,
    references: Vec<String>,
    has_references: bool,
    credits: Vec<String>,
    has_credits: bool,
    generated_at: String,
    fingerprint: String,
}

#[derive(Debug, Serialize)]
struct TimelineRow {
    label: String,
    due: String,
    rule: String,
}

/// A table cell: one line, then the one markdown escape ([`crate::text::escape_markdown`]), so
/// text from a SECURITY.md row or the config can neither split the cell nor become markup.
fn cell(s: &str) -> String {
    crate::text::escape_markdown(&one_line(s))
}

fn draft_context(input: &DraftInput) -> DraftContext {
    let t = &input.finding;
    let f = &t.finding;
    let aliases: Vec<&str> = f
        .ids
        .iter()
        .map(String::as_str)
        .filter(|i| *i != f.id)
        .collect();
    let (patched_version, fix_line) = match &f.fix {
        Fix::Upgrade { to } => (
            to.clone(),
            format!(
                "Upgrade {} from {} to {to} (the lowest version that leaves every known advisory on {} behind), then release {}.",
                f.package.name, f.package.version, f.package.name, input.project
            ),
        ),
        Fix::NoSafeVersion => (
            "none safe yet".to_string(),
            format!(
                "Versions of {} that fix this advisory exist, but each is affected by another advisory on {}: there is no safe upgrade yet.",
                f.package.name, f.package.name
            ),
        ),
        Fix::RemoveRelease { nearest, .. } => (
            nearest
                .as_ref()
                .map_or_else(|| "none".to_string(), |n| n.version.clone()),
            format!(
                "{} {} is malware: {}. Treat machines that installed it as compromised, then release {}.",
                f.package.name,
                f.package.version,
                f.fix.malware_advice(),
                input.project
            ),
        ),
        Fix::CheckIndex { .. } => (
            "none".to_string(),
            format!("{}: {}.", f.package.name, f.fix.malware_advice()),
        ),
        Fix::NoFix => (
            "none yet".to_string(),
            format!(
                "No fixed version of {} is known yet. Watch the references below; depwatch reports the fix when one is released.",
                f.package.name
            ),
        ),
    };
    let declared_in = if f.location.line > 0 {
        format!("`{}` line {}", f.location.file.display(), f.location.line)
    } else {
        format!("`{}`", f.location.file.display())
    };
    let dependency_path = match &f.via {
        Some(path) if path.is_empty() => "direct dependency".to_string(),
        Some(path) => format!(
            "via {} → {}",
            path.iter()
                .map(|p| one_line(p))
                .collect::<Vec<_>>()
                .join(" → "),
            f.package.name
        ),
        None => String::new(),
    };
    let timeline: Vec<TimelineRow> = if input.timeline.is_empty() {
        deadline_rows(t)
            .into_iter()
            .map(|(label, due)| TimelineRow {
                label: label.to_string(),
                due: input.zone.format(due),
                rule: "policy deadline".to_string(),
            })
            .collect()
    } else {
        input
            .timeline
            .iter()
            .map(|e| TimelineRow {
                label: cell(&e.label),
                due: e
                    .due
                    .map_or_else(|| "not set".to_string(), |d| input.zone.format(d)),
                rule: cell(&e.rule),
            })
            .collect()
    };
    let mut references: Vec<String> = Vec::new();
    for r in f.url.iter().chain(&input.references) {
        let r = one_line(r);
        if !r.is_empty() && !references.contains(&r) {
            references.push(r);
        }
    }
    let credits: Vec<String> = input
        .credits
        .iter()
        .map(|c| one_line(c))
        .filter(|c| !c.is_empty())
        .collect();
    let versions = &input.project_versions;
    let mut patched: Vec<String> = Vec::new();
    for p in versions.entries.iter().filter_map(|e| e.patched.as_deref()) {
        if !patched.iter().any(|q| q == p) {
            patched.push(p.to_string());
        }
    }
    let workarounds = input
        .workarounds
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    DraftContext {
        project: one_line(&input.project),
        id: f.id.clone(),
        aliases: aliases.join(", "),
        has_aliases: !aliases.is_empty(),
        kind: f.kind.as_str().to_string(),
        summary: summary_of(f),
        affected_versions: if versions.known() {
            versions
                .entries
                .iter()
                .filter_map(|e| e.range.as_deref())
                .map(|r| format!("`{}`", one_line(r)))
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            "not known".to_string()
        },
        versions_known: versions.known(),
        versions_from: cell(&versions.from.join("; ")),
        versions_note: cell(versions.note.as_deref().unwrap_or_default()),
        has_patched_versions: !patched.is_empty(),
        patched_versions: cell(&patched.join(", ")),
        patched_from: cell(versions.patched_from.as_deref().unwrap_or_default()),
        has_cve_id: input.cve_id.is_some(),
        cve_id: one_line(input.cve_id.as_deref().unwrap_or_default()),
        severity: if f.is_malicious() {
            "Malicious (the record has no CVSS score)".to_string()
        } else {
            severity_word(f.severity)
        },
        severity_known: f.severity != Level::Unknown || f.is_malicious(),
        cvss_score: f.cvss_score.map(|s| format!("{s:.1}")).unwrap_or_default(),
        has_cvss_score: f.cvss_score.is_some(),
        exploit: cell(&exploit_text(f)),
        has_exploit: !exploit_text(f).is_empty(),
        cvss_vectors: f.cvss_vectors.clone(),
        has_cvss_vectors: !f.cvss_vectors.is_empty(),
        cwes: f.cwe_ids.join(", "),
        has_cwes: !f.cwe_ids.is_empty(),
        ecosystem: f.package.ecosystem.as_osv().to_string(),
        package: f.package.name.clone(),
        version: f.package.version.clone(),
        declared_in,
        has_dependency_path: !dependency_path.is_empty(),
        dependency_path,
        scope: f.scope.clone().unwrap_or_default(),
        has_scope: f.scope.is_some(),
        member: f.member.clone().unwrap_or_default(),
        has_member: f.member.is_some(),
        patched_version,
        fixed_versions: f.fixed_versions.join(", "),
        has_fixed_versions: !f.fixed_versions.is_empty(),
        fix_line,
        has_workarounds: !workarounds.is_empty(),
        workarounds,
        first_seen: input.zone.format(t.first_seen),
        has_timeline: !timeline.is_empty(),
        timeline,
        policy: match input.policy_source.as_deref().map(one_line) {
            Some(s) if !s.is_empty() => format!("the disclosure policy in {s}"),
            _ => "depwatch's default disclosure policy".to_string(),
        },
        has_references: !references.is_empty(),
        references,
        has_credits: !credits.is_empty(),
        credits,
        generated_at: input.zone.format(input.generated_at),
        fingerprint: t.fingerprint.clone(),
    }
}

/// The advisory draft in markdown (template `draft.md`).
pub fn render_markdown(t: &Templates, input: &DraftInput) -> Result<String, TemplateError> {
    t.render("draft.md", &draft_context(input))
}

// ---------------------------------------------------------------------------------------------
// GitHub repository security advisory (POST /repos/{owner}/{repo}/security-advisories).

/// GitHub's `security-advisory-ecosystems` enum.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GithubEcosystem {
    Rubygems,
    Npm,
    Pip,
    Maven,
    Nuget,
    Composer,
    Go,
    Rust,
    Erlang,
    Actions,
    Pub,
    /// A product not on any registry: what a project's own advisory uses.
    Other,
    Swift,
}

/// The `severity` enum of the create request (GitHub has no "unknown").
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GithubSeverity {
    Critical,
    High,
    Medium,
    Low,
}

impl GithubSeverity {
    /// The GitHub severity of a level; `None` for unknown.
    pub fn from_level(level: Level) -> Option<Self> {
        match level {
            Level::Critical => Some(Self::Critical),
            Level::High => Some(Self::High),
            Level::Medium => Some(Self::Medium),
            Level::Low => Some(Self::Low),
            Level::Unknown => None,
        }
    }
}

/// GitHub's `security-advisory-credit-types` enum.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GithubCreditType {
    Analyst,
    Finder,
    Reporter,
    Coordinator,
    RemediationDeveloper,
    RemediationReviewer,
    RemediationVerifier,
    Tool,
    Sponsor,
    Other,
}

impl GithubCreditType {
    fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(
            s.trim().to_ascii_lowercase().replace([' ', '-'], "_"),
        ))
        .ok()
    }
}

/// A credited GitHub user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GithubCredit {
    /// GitHub login.
    pub login: String,
    /// Role.
    #[serde(rename = "type")]
    pub kind: GithubCreditType,
}

/// The affected package of a vulnerability entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GithubPackage {
    /// Ecosystem (required).
    pub ecosystem: GithubEcosystem,
    /// Package name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One entry of `vulnerabilities[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GithubVulnerability {
    /// The affected package (required).
    pub package: GithubPackage,
    /// Affected versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerable_version_range: Option<String>,
    /// Versions that resolve it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patched_versions: Option<String>,
    /// Affected functions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerable_functions: Option<Vec<String>>,
}

/// The request body of "create a repository security advisory" (`repository-advisory-create`).
/// `severity` and `cvss_vector_string` are never both set: GitHub rejects that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GithubAdvisoryDraft {
    /// Short summary, at most 1024 characters (required).
    pub summary: String,
    /// Markdown description, at most 65535 characters, ending with [`marker`] (required).
    pub description: String,
    /// The CVE id of the project's own advisory, when the config assigns one. Left out
    /// otherwise: a new draft then has none (the dependency's CVE would link this advisory to
    /// the dependency's), and an update leaves a CVE set on GitHub alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cve_id: Option<String>,
    /// Affected products (required).
    pub vulnerabilities: Vec<GithubVulnerability>,
    /// CWE ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwe_ids: Option<Vec<String>>,
    /// Credited GitHub users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits: Option<Vec<GithubCredit>>,
    /// Severity, when there is no CVSS v3 vector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<GithubSeverity>,
    /// A CVSS v3.x vector (GitHub computes the severity from it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_vector_string: Option<String>,
    /// Whether GitHub should create a temporary private fork.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_private_fork: Option<bool>,
}

const SUMMARY_MAX: usize = 1024;
const DESCRIPTION_MAX: usize = 65535;

/// The store's secret for draft markers ([`crate::store::Store::draft_marker_key`]).
#[derive(Clone)]
pub struct MarkerKey(Vec<u8>);

impl MarkerKey {
    /// A key from its bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl std::fmt::Debug for MarkerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MarkerKey(..)")
    }
}

/// The hidden marker that ends a filed description, so the filer can find its advisory again:
/// `<!-- depwatch:draft=<64 hex digits> -->`, the HMAC-SHA256 of the finding's fingerprint
/// under the store's key. Advisory text (which a feed writes) cannot produce another finding's
/// marker without the key; and a marker counts only as the description's last line
/// ([`last_line_is_marker`]), while markers inside the text are defused
/// ([`neutralise_markers`]).
pub fn marker(fingerprint: &str, key: &MarkerKey) -> String {
    use aws_lc_rs::hmac;
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &key.0),
        fingerprint.as_bytes(),
    );
    format!("<!-- depwatch:draft={} -->", hex(tag.as_ref()))
}

/// The marker of drafts filed before markers were keyed:
/// `<!-- depwatch:fingerprint=PyPI/requests/GHSA-9wx4-h78v-vm56 -->` (characters that could end
/// or corrupt an HTML comment percent-encoded). Such a draft is still found when this is its
/// description's last line (a filer always wrote its own marker last, so advisory text inside
/// the description never stood there); the update then replaces it with the keyed [`marker`].
pub fn legacy_marker(fingerprint: &str) -> String {
    let mut enc = String::with_capacity(fingerprint.len());
    let mut prev_dash = false;
    for b in fingerprint.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'_' | b'/' | b':' | b'@' | b'+' | b'=')
            || (b == b'-' && !prev_dash);
        if keep {
            enc.push(char::from(b));
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
        prev_dash = b == b'-' && keep;
    }
    format!("<!-- depwatch:fingerprint={enc} -->")
}

/// Defuse every HTML comment opener in advisory text (`<!--` -> `&lt;!--`, which GitHub shows
/// as written): text a feed supplies can then carry no hidden marker, nor hide anything else.
pub fn neutralise_markers(text: &str) -> String {
    text.replace("<!--", "&lt;!--")
}

/// Whether the last non-blank line of `description` is exactly `marker`.
pub fn last_line_is_marker(description: &str, marker: &str) -> bool {
    description
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim() == marker)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `@octocat`, `octocat`, `@octocat (finder)` -> a GitHub credit; names with spaces or other
/// characters GitHub logins cannot have are not logins.
fn parse_credit(s: &str) -> Option<GithubCredit> {
    let s = s.trim();
    let (login, kind) = match s.split_once('(') {
        Some((login, rest)) => (
            login.trim(),
            GithubCreditType::parse(rest.trim_end().strip_suffix(')')?)?,
        ),
        None => (s, GithubCreditType::Other),
    };
    let login = login.strip_prefix('@').unwrap_or(login);
    let valid = !login.is_empty()
        && login.len() <= 39
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !login.starts_with('-');
    valid.then(|| GithubCredit {
        login: login.to_string(),
        kind,
    })
}

/// The CVSS v3.x vector GitHub should get: the highest-scoring one of the finding.
fn v3_vector(f: &Finding) -> Option<String> {
    f.cvss_vectors
        .iter()
        .map(|v| v.trim())
        .filter(|v| v.starts_with("CVSS:3."))
        .filter_map(|v| crate::severity::cvss_score(v).map(|s| (v, s)))
        .fold(None, |best: Option<(&str, f64)>, (v, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((v, s)),
        })
        .map(|(v, _)| v.to_string())
}

fn is_cwe(id: &str) -> bool {
    id.strip_prefix("CWE-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The GitHub advisory request body. `description` is the markdown draft (normally
/// [`render_markdown`]'s output, so a user's template shapes both); it is cut to GitHub's limit
/// and ends with [`marker`].
pub fn github_advisory(
    input: &DraftInput,
    description: &str,
    key: &MarkerKey,
) -> GithubAdvisoryDraft {
    let t = &input.finding;
    let f = &t.finding;
    let summary = cap_chars(
        &format!(
            "{} {} in {}: {} ({})",
            f.package.name,
            f.package.version,
            one_line(&input.project),
            summary_of(f),
            f.id
        ),
        SUMMARY_MAX,
    );
    let mark = marker(&t.fingerprint, key);
    let body = description.trim_end();
    let body = neutralise_markers(body.strip_suffix(mark.as_str()).unwrap_or(body).trim_end());
    let room = DESCRIPTION_MAX.saturating_sub(mark.chars().count() + 2);
    let description = format!("{}\n\n{mark}", cap_chars(&body, room));
    let cvss_vector_string = v3_vector(f);
    // GitHub takes one or the other: a vector, when there is one, carries more.
    let severity = if cvss_vector_string.is_some() {
        None
    } else {
        GithubSeverity::from_level(f.severity)
    };
    let cwe_ids: Vec<String> = f.cwe_ids.iter().filter(|c| is_cwe(c)).cloned().collect();
    let credits: Vec<GithubCredit> = input
        .credits
        .iter()
        .filter_map(|c| parse_credit(c))
        .collect();
    GithubAdvisoryDraft {
        summary,
        description,
        cve_id: input
            .cve_id
            .as_deref()
            .map(str::trim)
            .filter(|c| crate::advisory::AdvisoryId::new(c).is_well_formed_cve())
            .map(str::to_string),
        // One entry per disjoint range of the project's versions; GitHub has no "unknown"
        // range, so an unknown one is left out (the description says why).
        vulnerabilities: input
            .project_versions
            .entries
            .iter()
            .map(|e| GithubVulnerability {
                package: GithubPackage {
                    ecosystem: GithubEcosystem::Other,
                    name: Some(input.project.clone()),
                },
                vulnerable_version_range: e.range.clone(),
                patched_versions: e.patched.clone(),
                vulnerable_functions: None,
            })
            .collect(),
        cwe_ids: (!cwe_ids.is_empty()).then_some(cwe_ids),
        credits: (!credits.is_empty()).then_some(credits),
        severity,
        cvss_vector_string,
        start_private_fork: None,
    }
}

/// A file name for a finding's draft in a project: `emby-watchparty-GHSA-9wx4-h78v-vm56`.
/// Only `[A-Za-z0-9._-]`; never starts with a dot (no hidden files, no `..`).
/// When characters had to be replaced or the name cut, `-` and 8 hex digits of the SHA-256
/// of the full `project-id` follow, so two ids that clean to the same name (`a/b`, `a:b`)
/// never overwrite each other's draft.
pub fn file_stem(project: &str, finding: &TrackedFinding) -> String {
    const MAX: usize = 200;
    let raw = format!("{}-{}", project.trim(), finding.finding.id.trim());
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('.') {
        out.insert(0, '_');
    }
    if out != raw || out.len() > MAX {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, raw.as_bytes());
        // All ASCII now: byte truncation is safe.
        out.truncate(MAX - 9);
        out.push('-');
        out.push_str(&hex(&digest.as_ref()[..4]));
    }
    out
}

/// Realistic findings and the snapshot check, shared by the publishing tests.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::advisory::AdvisoryKind;
    use crate::ecosystem::Ecosystem;
    use crate::monitor::TrackedFinding;
    use crate::policy::Deadlines;
    use crate::report::{Finding, Fix, Location, PackageRef};
    use crate::severity::{Level, cvss_score};
    use jiff::{Timestamp, ToSpan};
    use std::path::Path;

    /// A fixed instant (tests never use now()).
    pub fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// What one advisory record says, as the fixture builder takes it.
    pub struct Rec<'a> {
        pub eco: Ecosystem,
        pub package: &'a str,
        pub version: &'a str,
        pub id: &'a str,
        pub aliases: &'a [&'a str],
        pub vectors: &'a [&'a str],
        /// The label when there is no vector.
        pub label: Level,
        pub summary: &'a str,
        pub cwes: &'a [&'a str],
        pub fixed: &'a [&'a str],
        pub url: &'a str,
        pub file: &'a str,
        pub line: usize,
    }

    /// A finding as the matcher builds it: severity from the highest CVSS score, else the label.
    pub fn finding(r: Rec<'_>) -> Finding {
        let mut ids: Vec<String> = r.aliases.iter().map(|s| s.to_string()).collect();
        ids.push(r.id.to_string());
        ids.sort();
        let score = r
            .vectors
            .iter()
            .filter_map(|v| cvss_score(v))
            .fold(None, |b: Option<f64>, s| Some(b.map_or(s, |b| b.max(s))));
        Finding {
            id: r.id.into(),
            ids,
            sources: vec!["ghsa".into()],
            kind: AdvisoryKind::Vulnerability,
            package: PackageRef {
                ecosystem: r.eco,
                name: r.package.into(),
                version: r.version.into(),
            },
            severity: score.map_or(r.label, Level::from_score),
            cvss_score: score,
            cvss_vectors: r.vectors.iter().map(|s| s.to_string()).collect(),
            summary: Some(r.summary.into()),
            cwe_ids: r.cwes.iter().map(|s| s.to_string()).collect(),
            fixed_versions: r.fixed.iter().map(|s| s.to_string()).collect(),
            fix: match r.fixed.last() {
                Some(v) => Fix::Upgrade { to: v.to_string() },
                None => Fix::NoFix,
            },
            url: Some(r.url.into()),
            location: Location {
                file: r.file.into(),
                line: r.line,
            },
            via: Some(vec![]),
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

    /// Tracked with deadlines of a typical policy: respond in 2 days, update in 7, fix in
    /// 28, disclose in 90.
    pub fn tracked(f: Finding, first_seen: &str) -> TrackedFinding {
        let first = ts(first_seen);
        // Timestamps take no calendar units: a day is 24 hours here.
        let after = |days: i64| first.checked_add((days * 24).hours()).ok();
        TrackedFinding {
            fingerprint: format!(
                "{}/{}/{}",
                f.package.ecosystem.as_osv(),
                f.package.ecosystem.normalize_name(&f.package.name),
                f.id
            ),
            finding: f,
            first_seen: first,
            deadlines: Deadlines {
                respond_by: after(2),
                update_by: after(7),
                assess_by: None,
                fix_by: after(28),
                disclose_by: after(90),
            },
        }
    }

    /// requests 2.31.0 / GHSA-9wx4-h78v-vm56 in emby-watchparty.
    pub fn requests() -> TrackedFinding {
        tracked(
            finding(Rec {
                eco: Ecosystem::PyPI,
                package: "requests",
                version: "2.31.0",
                id: "GHSA-9wx4-h78v-vm56",
                aliases: &["CVE-2024-35195"],
                vectors: &["CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N"],
                label: Level::Medium,
                summary: "Requests `Session` object does not verify requests after making first request with verify=False",
                cwes: &["CWE-670"],
                fixed: &["2.32.2"],
                url: "https://github.com/advisories/GHSA-9wx4-h78v-vm56",
                file: "requirements.txt",
                line: 3,
            }),
            "2026-11-10T20:14:00Z",
        )
    }

    /// rustls 0.23.4 / RUSTSEC-2024-0336, reached through reqwest in a workspace member.
    pub fn rustls() -> TrackedFinding {
        let mut f = finding(Rec {
            eco: Ecosystem::CratesIo,
            package: "rustls",
            version: "0.23.4",
            id: "RUSTSEC-2024-0336",
            aliases: &["CVE-2024-32650", "GHSA-6g7w-8wpp-frhj"],
            vectors: &["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"],
            label: Level::Unknown,
            summary: "`rustls::ConnectionCommon::complete_io` could fall into an infinite loop based on network input",
            cwes: &[],
            fixed: &["0.21.11", "0.22.4", "0.23.5"],
            url: "https://rustsec.org/advisories/RUSTSEC-2024-0336.html",
            file: "Cargo.lock",
            line: 1412,
        });
        f.sources = vec!["rustsec".into()];
        f.via = Some(vec!["reqwest".into(), "hyper-rustls".into()]);
        f.member = Some("relay-server".into());
        tracked(f, "2026-11-02T08:30:00Z")
    }

    /// h2 0.4.3 / RUSTSEC-2024-0332: no CVSS and no label (severity unknown), no deadlines.
    pub fn h2() -> TrackedFinding {
        let mut f = finding(Rec {
            eco: Ecosystem::CratesIo,
            package: "h2",
            version: "0.4.3",
            id: "RUSTSEC-2024-0332",
            aliases: &["GHSA-q6cp-qfwq-4gcv"],
            vectors: &[],
            label: Level::Unknown,
            summary: "Degradation of service in h2 servers with CONTINUATION Flood",
            cwes: &[],
            fixed: &["0.3.26", "0.4.4"],
            url: "https://rustsec.org/advisories/RUSTSEC-2024-0332.html",
            file: "Cargo.lock",
            line: 655,
        });
        f.sources = vec!["rustsec".into()];
        f.via = None;
        let mut t = tracked(f, "2026-11-20T12:00:00Z");
        t.deadlines = Deadlines::default();
        t
    }

    /// Compare with `tests/snapshots/NAME`, or write it when `UPDATE_SNAPSHOTS=1`.
    pub fn assert_snapshot(name: &str, actual: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
        let path = dir.join(name);
        if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, actual).unwrap();
            return;
        }
        let expected = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => panic!(
                "snapshot {} cannot be read ({e}); run with UPDATE_SNAPSHOTS=1 to create it.\n--- actual ---\n{actual}",
                path.display()
            ),
        };
        if expected == actual {
            return;
        }
        let (exp, act): (Vec<&str>, Vec<&str>) =
            (expected.split('\n').collect(), actual.split('\n').collect());
        let line = exp
            .iter()
            .zip(&act)
            .position(|(a, b)| a != b)
            .unwrap_or(exp.len().min(act.len()));
        panic!(
            "snapshot {} differs at line {}:\n  expected: {:?}\n  actual:   {:?}\n(expected {} lines, got {}; rerun with UPDATE_SNAPSHOTS=1 to accept)\n--- actual ---\n{actual}",
            path.display(),
            line + 1,
            exp.get(line).copied().unwrap_or("<end of file>"),
            act.get(line).copied().unwrap_or("<end of file>"),
            exp.len(),
            act.len(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::publish::affected::{Basis, project_versions};
    use std::path::Path;

    /// emby-watchparty's SECURITY.md table: `1.4.x` supported (line 7).
    fn emby_versions(fixed_in: &[&str]) -> ProjectVersions {
        project_versions(
            &Basis::Supported(vec![("1.4.x".into(), "SECURITY.md line 7".into())]),
            &fixed_in.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    fn requests_input() -> DraftInput {
        let finding = requests();
        let d = finding.deadlines.clone();
        DraftInput {
            project: "emby-watchparty".into(),
            project_versions: emby_versions(&["1.4.3"]),
            cve_id: None,
            timeline: vec![
                TimelineEntry {
                    label: "Initial response".into(),
                    due: d.respond_by,
                    rule: "2 days after first seen (SECURITY.md line 14)".into(),
                },
                TimelineEntry {
                    label: "Status update".into(),
                    due: d.update_by,
                    rule: "7 days after first seen (SECURITY.md line 15)".into(),
                },
                TimelineEntry {
                    label: "Fix released".into(),
                    due: d.fix_by,
                    rule: "28 days for medium severity (SECURITY.md line 18)".into(),
                },
                TimelineEntry {
                    label: "Public disclosure".into(),
                    due: d.disclose_by,
                    rule: "90 days after first seen (default)".into(),
                },
            ],
            finding,
            references: vec![
                "https://github.com/psf/requests/security/advisories/GHSA-9wx4-h78v-vm56".into(),
                "https://nvd.nist.gov/vuln/detail/CVE-2024-35195".into(),
                "https://github.com/psf/requests/pull/6655".into(),
                // A duplicate of the finding's own URL is listed once.
                "https://github.com/advisories/GHSA-9wx4-h78v-vm56".into(),
            ],
            credits: vec!["@octocat (finder)".into(), "Jane Doe".into()],
            workarounds: Some(
                "Do not pass `verify=False` on the first request to a host through a `Session`, or call `close()` on the `Session` after a request made with `verify=False`.".into(),
            ),
            generated_at: ts("2026-11-12T09:00:00Z"),
            policy_source: Some("SECURITY.md".into()),
            zone: Default::default(),
        }
    }

    fn h2_input() -> DraftInput {
        DraftInput {
            project: "watchparty-relay".into(),
            project_versions: project_versions(&Basis::None, &[]),
            cve_id: None,
            finding: h2(),
            timeline: vec![],
            references: vec![],
            credits: vec![],
            workarounds: None,
            generated_at: ts("2026-11-21T07:45:00Z"),
            policy_source: None,
            zone: Default::default(),
        }
    }

    fn rustls_input() -> DraftInput {
        DraftInput {
            project: "watchparty-relay".into(),
            project_versions: project_versions(
                &Basis::Config(vec![">= 0.3.0, < 0.5.1".into()]),
                &[],
            ),
            // A CVE the operator assigned to the relay's own advisory.
            cve_id: Some("CVE-2026-10001".into()),
            finding: rustls(),
            timeline: vec![],
            references: vec![],
            credits: vec![],
            workarounds: None,
            generated_at: ts("2026-11-03T10:00:00Z"),
            policy_source: None,
            zone: Default::default(),
        }
    }

    /// The fixtures say what the shared real records say.
    #[test]
    fn fixtures_match_the_real_records() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
        let raw = std::fs::read_to_string(
            root.join("feeds-reference/ghsa-osv/PyPI/GHSA-9wx4-h78v-vm56.json"),
        )
        .unwrap();
        let rec: serde_json::Value = serde_json::from_str(&raw).unwrap();
        let f = requests().finding;
        assert_eq!(rec["summary"], f.summary.clone().unwrap().as_str());
        assert_eq!(rec["aliases"][0], "CVE-2024-35195");
        assert_eq!(rec["severity"][0]["score"], f.cvss_vectors[0].as_str());
        assert_eq!(rec["database_specific"]["cwe_ids"][0], "CWE-670");
        assert_eq!(
            rec["affected"][0]["ranges"][0]["events"][1]["fixed"],
            "2.32.2"
        );
        assert_eq!(f.cvss_score, Some(5.6));
        assert_eq!(f.severity, Level::Medium);

        for (t, file) in [
            (rustls(), "crates/rustls/RUSTSEC-2024-0336.md"),
            (h2(), "crates/h2/RUSTSEC-2024-0332.md"),
        ] {
            let md =
                std::fs::read_to_string(root.join("corpus/advisories/rustsec").join(file)).unwrap();
            let f = t.finding;
            assert!(md.contains(f.summary.as_deref().unwrap()), "{file}");
            for id in &f.ids {
                assert!(md.contains(id.as_str()), "{file}: {id}");
            }
            for v in &f.cvss_vectors {
                assert!(md.contains(v.as_str()), "{file}: {v}");
            }
        }
        assert_eq!(rustls().finding.severity, Level::High);
        assert_eq!(h2().finding.severity, Level::Unknown);
    }

    #[test]
    fn draft_markdown_snapshots() {
        let t = Templates::load(None).unwrap();
        for (input, name) in [
            (
                requests_input(),
                "draft-emby-watchparty-GHSA-9wx4-h78v-vm56.md",
            ),
            (
                rustls_input(),
                "draft-watchparty-relay-RUSTSEC-2024-0336.md",
            ),
            (h2_input(), "draft-watchparty-relay-RUSTSEC-2024-0332.md"),
        ] {
            let md = render_markdown(&t, &input).unwrap();
            assert_snapshot(name, &md);
        }
    }

    #[test]
    fn draft_says_what_matters() {
        let t = Templates::load(None).unwrap();
        let md = render_markdown(&t, &requests_input()).unwrap();
        for needle in [
            "emby-watchparty",
            "| Affected versions | `>= 1.4.0, < 1.4.3` (from SECURITY.md line 7: 1.4.x) |",
            "| Patched versions | 1.4.3 (depwatch.toml \\`fixed-in\\`) |",
            "| CVE of this advisory | none assigned (",
            "| Dependency's advisory | GHSA-9wx4-h78v-vm56, CVE-2024-35195 |",
            "https://nvd.nist.gov/vuln/detail/CVE-2024-35195",
            "Medium, CVSS 5.6",
            "`CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N`",
            "CWE-670",
            "requests 2.31.0 (PyPI)",
            "| Patched dependency version | 2.32.2 |",
            "CVE-2024-35195",
            "| Fix released | 2026-12-08 20:14 UTC | 28 days for medium severity (SECURITY.md line 18) |",
            "the disclosure policy in SECURITY.md",
            "- @octocat (finder)",
            "Do not pass `verify=False`",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in\n{md}");
        }
        assert_eq!(
            md.matches("https://github.com/advisories/GHSA-9wx4-h78v-vm56")
                .count(),
            1,
            "{md}"
        );
        let md = render_markdown(&t, &h2_input()).unwrap();
        // No table and no `versions`: the draft says the range is not known, invents none.
        assert!(!md.contains("all released versions"), "{md}");
        assert!(
            md.contains(
                "| Affected versions | Not known: the SECURITY.md has no supported-versions table"
            ),
            "{md}"
        );
        assert!(
            md.contains("The GitHub draft leaves the range empty"),
            "{md}"
        );
        let own = render_markdown(&t, &rustls_input()).unwrap();
        assert!(
            own.contains("| CVE of this advisory | CVE-2026-10001 (depwatch.toml) |"),
            "{own}"
        );
        assert!(
            md.contains("Unknown (the sources give no score or label)"),
            "{md}"
        );
        assert!(md.contains("No deadlines apply."), "{md}");
        assert!(md.contains("depwatch's default disclosure policy"), "{md}");
    }

    #[test]
    fn github_body_matches_the_api() {
        let input = requests_input();
        let t = Templates::load(None).unwrap();
        let md = render_markdown(&t, &input).unwrap();
        let body = github_advisory(&input, &md, &key());
        let json = serde_json::to_value(&body).unwrap();
        // Serialised from the struct, so the snapshot keeps the schema's field order.
        assert_snapshot(
            "github-advisory-emby-watchparty-GHSA-9wx4-h78v-vm56.json",
            &(serde_json::to_string_pretty(&body).unwrap() + "\n"),
        );
        assert_eq!(
            json["cvss_vector_string"],
            "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N"
        );
        assert!(json.get("severity").is_none(), "{json}");
        // The app's advisory is not requests' CVE: no cve_id unless the config assigns one;
        // the dependency's CVE stays in the description and references.
        assert!(json.get("cve_id").is_none(), "{json}");
        assert!(
            json["description"]
                .as_str()
                .unwrap()
                .contains("CVE-2024-35195")
        );
        assert!(
            json["description"]
                .as_str()
                .unwrap()
                .contains("- https://nvd.nist.gov/vuln/detail/CVE-2024-35195")
        );
        assert_eq!(json["cwe_ids"], serde_json::json!(["CWE-670"]));
        // The range is the project's (SECURITY.md `1.4.x`, ended by `fixed-in` 1.4.3).
        assert_eq!(
            json["vulnerabilities"],
            serde_json::json!([{
                "package": {"ecosystem": "other", "name": "emby-watchparty"},
                "vulnerable_version_range": ">= 1.4.0, < 1.4.3",
                "patched_versions": "1.4.3"
            }])
        );
        // A CVE assigned in the config is the one sent.
        let mut own = input.clone();
        own.cve_id = Some("CVE-2026-10001".into());
        let j = serde_json::to_value(github_advisory(&own, "d", &key())).unwrap();
        assert_eq!(j["cve_id"], "CVE-2026-10001");
        // Only the login is a GitHub credit; "Jane Doe" stays in the prose.
        assert_eq!(
            json["credits"],
            serde_json::json!([{"login": "octocat", "type": "finder"}])
        );
        let desc = json["description"].as_str().unwrap();
        assert!(desc.starts_with("# emby-watchparty: "), "{desc}");
        assert!(
            desc.ends_with(&format!(
                "\n\n{}",
                marker("PyPI/requests/GHSA-9wx4-h78v-vm56", &key())
            )),
            "{desc}"
        );
        // The request schema allows no other keys.
        let allowed = [
            "summary",
            "description",
            "cve_id",
            "vulnerabilities",
            "cwe_ids",
            "credits",
            "severity",
            "cvss_vector_string",
            "start_private_fork",
        ];
        for k in json.as_object().unwrap().keys() {
            assert!(allowed.contains(&k.as_str()), "unexpected key {k}");
        }
        // Feeding the body back in does not add a second marker.
        let again = github_advisory(&input, &body.description, &key());
        assert_eq!(again.description, body.description);
    }

    #[test]
    fn github_ranges_are_the_projects_own() {
        // Two supported series, each ended by its own fix: two entries.
        let mut input = requests_input();
        input.project_versions = project_versions(
            &Basis::Supported(vec![
                ("2.0.x".into(), "SECURITY.md line 7".into()),
                ("1.4.x".into(), "SECURITY.md line 8".into()),
            ]),
            &["1.4.3".into(), "2.0.1".into()],
        );
        let json = serde_json::to_value(github_advisory(&input, "d", &key())).unwrap();
        let v = &json["vulnerabilities"];
        assert_eq!(v.as_array().unwrap().len(), 2, "{json}");
        assert_eq!(v[0]["vulnerable_version_range"], ">= 1.4.0, < 1.4.3");
        assert_eq!(v[0]["patched_versions"], "1.4.3");
        assert_eq!(v[1]["vulnerable_version_range"], ">= 2.0.0, < 2.0.1");
        assert_eq!(v[1]["patched_versions"], "2.0.1");
        // Table text that is not a version: no range is invented, the fix is still sent.
        input.project_versions = project_versions(
            &Basis::Supported(vec![("latest".into(), "SECURITY.md line 7".into())]),
            &["1.4.3".into()],
        );
        let t = Templates::load(None).unwrap();
        let md = render_markdown(&t, &input).unwrap();
        assert!(
            md.contains("Not known: cannot read \"latest\" (SECURITY.md line 7)"),
            "{md}"
        );
        let json = serde_json::to_value(github_advisory(&input, &md, &key())).unwrap();
        assert_eq!(
            json["vulnerabilities"],
            serde_json::json!([{
                "package": {"ecosystem": "other", "name": "emby-watchparty"},
                "patched_versions": "1.4.3"
            }])
        );
    }

    #[test]
    fn severity_and_vector_are_never_both_sent() {
        let t = Templates::load(None).unwrap();
        // Unknown severity, no vector: neither.
        let input = h2_input();
        let body = github_advisory(&input, &render_markdown(&t, &input).unwrap(), &key());
        let json = serde_json::to_value(&body).unwrap();
        assert_snapshot(
            "github-advisory-watchparty-relay-RUSTSEC-2024-0332.json",
            &(serde_json::to_string_pretty(&body).unwrap() + "\n"),
        );
        assert!(json.get("severity").is_none() && json.get("cvss_vector_string").is_none());
        assert!(json.get("cve_id").is_none(), "no CVE among the ids: {json}");
        assert!(json.get("credits").is_none() && json.get("cwe_ids").is_none());
        assert_eq!(
            json["vulnerabilities"],
            serde_json::json!([{"package": {"ecosystem": "other", "name": "watchparty-relay"}}])
        );
        // Only a CVSS v4 vector: GitHub takes v3 vectors, so the level goes as severity.
        let mut input = requests_input();
        input.finding.finding.cvss_vectors =
            vec!["CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:A/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into()];
        input.finding.finding.severity = Level::High;
        let json = serde_json::to_value(github_advisory(&input, "d", &key())).unwrap();
        assert_eq!(json["severity"], "high");
        assert!(json.get("cvss_vector_string").is_none(), "{json}");
        // Two v3 vectors: the higher-scoring one, alone.
        let mut input = rustls_input();
        input
            .finding
            .finding
            .cvss_vectors
            .insert(0, "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N".into());
        let json = serde_json::to_value(github_advisory(&input, "d", &key())).unwrap();
        assert_eq!(
            json["cvss_vector_string"],
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
        );
        assert!(json.get("severity").is_none(), "{json}");
    }

    #[test]
    fn github_limits_are_kept() {
        let mut input = requests_input();
        input.finding.finding.summary = Some("ä".repeat(5000));
        let body = github_advisory(&input, &"x".repeat(70_000), &key());
        assert!(body.summary.chars().count() <= 1024);
        assert!(body.description.chars().count() <= 65535);
        assert!(
            body.description
                .ends_with(&marker(&input.finding.fingerprint, &key()))
        );
        // Feed control characters never reach the JSON GitHub receives.
        input.finding.finding.summary = Some("a\u{1b}]8;;https://evil/\u{7}b\0c\u{9b}".into());
        let body = github_advisory(&input, "description", &key());
        assert!(
            body.summary.contains(": a ]8;;https://evil/ b c ("),
            "{}",
            body.summary
        );
    }

    /// A fixed key: the snapshots stay stable.
    fn key() -> MarkerKey {
        MarkerKey::new(b"depwatch test marker key".to_vec())
    }

    #[test]
    fn legacy_marker_cannot_break_out_of_the_comment() {
        assert_eq!(
            legacy_marker("crates.io/serde_json/RUSTSEC-2024-0001"),
            "<!-- depwatch:fingerprint=crates.io/serde_json/RUSTSEC-2024-0001 -->"
        );
        let m = legacy_marker("PyPI/a--b/x --> <script> é");
        let inner = m
            .strip_prefix("<!-- ")
            .and_then(|m| m.strip_suffix(" -->"))
            .unwrap();
        assert!(
            !inner.contains("--") && !inner.contains('>') && !inner.contains(' '),
            "{m}"
        );
        assert!(inner.contains("a-%2Db"), "{m}");
    }

    #[test]
    fn markers_are_keyed_and_forged_ones_are_defused() {
        let fp = "PyPI/requests/GHSA-9wx4-h78v-vm56";
        let m = marker(fp, &key());
        assert!(
            m.starts_with("<!-- depwatch:draft=") && m.ends_with(" -->"),
            "{m}"
        );
        assert_eq!(m.len(), "<!-- depwatch:draft= -->".len() + 64);
        assert_ne!(m, marker(fp, &MarkerKey::new(b"another store".to_vec())));
        assert_ne!(m, marker("PyPI/requests/OTHER", &key()));
        // A feed summary carrying another finding's marker (old or keyed form, guessed).
        let mut input = requests_input();
        let forged = format!(
            "{}\n{}",
            legacy_marker("PyPI/x/Y"),
            marker("PyPI/x/Y", &key())
        );
        input.finding.finding.summary = Some(forged.clone());
        let body = github_advisory(&input, &format!("Summary: {forged}\n"), &key());
        assert_eq!(
            body.description.matches("<!--").count(),
            1,
            "{}",
            body.description
        );
        assert!(last_line_is_marker(&body.description, &marker(fp, &key())));
        assert!(!last_line_is_marker(
            &body.description,
            &marker("PyPI/x/Y", &key())
        ));
        assert!(!last_line_is_marker(&format!("{m}\ntext"), &m));
        assert!(last_line_is_marker(&format!("text\r\n{m}\r\n\n"), &m));
    }

    #[test]
    fn credits_parse_only_logins() {
        assert_eq!(
            parse_credit("@octocat (remediation developer)"),
            Some(GithubCredit {
                login: "octocat".into(),
                kind: GithubCreditType::RemediationDeveloper
            })
        );
        assert_eq!(
            parse_credit("monalisa").unwrap().kind,
            GithubCreditType::Other
        );
        assert_eq!(parse_credit("Jane Doe"), None);
        assert_eq!(parse_credit("@octocat (wizard)"), None);
        assert_eq!(parse_credit("-bad"), None);
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(
            file_stem("emby-watchparty", &requests()),
            "emby-watchparty-GHSA-9wx4-h78v-vm56"
        );
        let mut t = requests();
        t.finding.id = "../../etc/passwd x".into();
        let stem = file_stem("..", &t);
        assert!(
            stem.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
            "{stem}"
        );
        assert!(!stem.starts_with('.'), "{stem}");
        assert!(file_stem(&"p".repeat(1000), &t).len() <= 200);
        // Ids that clean or cut to the same name get different names.
        let stem_of = |project: &str, id: &str| {
            let mut t = requests();
            t.finding.id = id.into();
            file_stem(project, &t)
        };
        let names = [
            stem_of("p", "a/b"),
            stem_of("p", "a:b"),
            stem_of("p", "a_b"),
            stem_of("p", &format!("{}1", "x".repeat(300))),
            stem_of("p", &format!("{}2", "x".repeat(300))),
            stem_of("p", ".x"),
            stem_of("p", "_.x"),
        ];
        let unique: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert_eq!(names[2], "p-a_b", "a clean id keeps its plain name");
        assert!(names.iter().all(|n| n.len() <= 200), "{names:?}");
    }

    #[test]
    fn a_user_template_overrides_the_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("draft.md.hbs"),
            "Custom draft for {{project}}: {{id}} ({{severity}})\n",
        )
        .unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(
            render_markdown(&t, &requests_input()).unwrap(),
            "Custom draft for emby-watchparty: GHSA-9wx4-h78v-vm56 (Medium)\n"
        );
    }

    #[test]
    fn strict_mode_rejects_a_missing_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("draft.md.hbs"),
            "{{project}} {{no_such_field}}\n",
        )
        .unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let e = render_markdown(&t, &requests_input()).unwrap_err();
        assert!(matches!(e, TemplateError::Render { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("draft.md") && msg.contains("no_such_field"),
            "{msg}"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(
            fmt_datetime(ts("2026-12-08T20:14:59Z")),
            "2026-12-08 20:14 UTC"
        );
        assert_eq!(fmt_date(ts("2026-12-08T23:59:00-05:00")), "2026-12-09");
        assert_eq!(one_line(" a\r\n b\t c "), "a b c");
        assert_eq!(cap_chars("éééé", 3), "éé…");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        // A SECURITY.md row is text, never markup: the escape scan reports use.
        assert_eq!(
            cell("1.4.x <img src=x> [ok](https://evil.example) *"),
            "1.4.x &lt;img src=x&gt; \\[ok\\](https://evil.example) \\*"
        );
        assert_eq!(cell("a|b"), crate::text::escape_markdown("a|b"));
    }
}
