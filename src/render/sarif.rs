//! SARIF 2.1.0 for GitHub code scanning, from a small hand-written model (like
//! cargo-audit's `sarif.rs`): one run, one rule per advisory display id, one result per
//! finding, warning and range-risk advisory.
//!
//! GitHub reads `properties.security-severity` on rules (a CVSS-like score as a string) to
//! rank alerts, `level` on results, and `partialFingerprints` to recognise the same alert
//! across runs and line moves.

use super::markdown::{code as md_code, escape as md_escape};
use super::{aliases, fix_text, via_text};
use crate::advisory::AdvisoryKind;
use crate::ecosystem::Ecosystem;
use crate::report::{Finding, Location, RangeRisk, Report, RiskAdvisory};
use crate::severity::Level;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const FINGERPRINT_KEY: &str = "depwatch/v1";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    results: Vec<SarifResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<RunProperties>,
}

/// The run's property bag: what is not a result. Dependencies the declared environments rule
/// out are listed here, not as results, so code scanning never raises an alert for them.
#[derive(Serialize)]
struct RunProperties {
    #[serde(rename = "depwatch/notApplicable")]
    not_applicable: Vec<NotApplicable>,
}

/// A not-applicable dependency, its file as an artifact URI like the results' (a path that
/// is not UTF-8 must not make the log unserialisable).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotApplicable {
    package: String,
    ecosystem: &'static str,
    requirement: String,
    uri: String,
    start_line: usize,
    markers: String,
    environments: Vec<String>,
    advisories: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<String>,
    version: String,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<SarifLocation>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ResultProperties>,
}

/// Exploit data of a result (SARIF property bag): the finding's `kev`, `kev_related` and
/// `epss` as the JSON report has them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    kev: Option<crate::report::KevMark>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kev_related: Vec<crate::report::KevMark>,
    #[serde(skip_serializing_if = "Option::is_none")]
    epss: Option<crate::report::EpssMark>,
}

fn result_properties(f: &Finding) -> Option<ResultProperties> {
    (f.kev.is_some() || f.epss.is_some() || !f.kev_related.is_empty()).then(|| ResultProperties {
        kev: f.kev.clone(),
        kev_related: f.kev_related.clone(),
        epss: f.epss.clone(),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}

/// What the rule of one display id is built from, gathered over every occurrence.
#[derive(Default)]
struct RuleInfo {
    /// The kind of the first finding or warning with the id (range risks are vulnerabilities).
    kind: Option<AdvisoryKind>,
    ids: BTreeSet<String>,
    summary: Option<String>,
    url: Option<String>,
    score: Option<f64>,
    severity: Option<Level>,
    /// (name, ecosystem) of the packages it was found on.
    packages: BTreeSet<(String, Ecosystem)>,
    cwes: BTreeSet<String>,
}

impl RuleInfo {
    fn add(
        &mut self,
        kind: AdvisoryKind,
        ids: &[String],
        summary: Option<&String>,
        severity: Level,
        package: (String, Ecosystem),
    ) {
        self.kind.get_or_insert(kind);
        self.ids.extend(ids.iter().cloned());
        if self.summary.is_none() {
            self.summary = summary.cloned();
        }
        self.severity = Some(self.severity.map_or(severity, |s| s.max(severity)));
        self.packages.insert(package);
    }
}

/// The link for an advisory: the report's URL, else the id's page on its database
/// ([`AdvisoryId::url`]); none for an id of unknown kind.
pub(super) fn help_uri(id: &str, url: Option<&str>) -> Option<String> {
    url.map(str::to_string)
        .or_else(|| crate::advisory::AdvisoryId::new(id).url())
}

/// depwatch's `security-severity` for malware, whose records carry no score: the top of
/// GitHub's scale, so it shows as critical.
const MALWARE_SECURITY_SEVERITY: &str = "10.0";

/// GitHub's scale for `security-severity` when no CVSS score is known.
fn default_score(level: Level) -> Option<&'static str> {
    match level {
        Level::Critical => Some("9.5"),
        Level::High => Some("7.5"),
        Level::Medium => Some("5.0"),
        Level::Low => Some("2.0"),
        Level::Unknown => None,
    }
}

/// SARIF level: malware is always an error, informational advisories notes, and
/// vulnerabilities follow their severity.
fn level(kind: AdvisoryKind, severity: Level) -> &'static str {
    if kind == AdvisoryKind::Malware {
        return "error";
    }
    if kind.is_informational() {
        return "note";
    }
    match severity {
        Level::Critical | Level::High => "error",
        Level::Medium => "warning",
        Level::Low | Level::Unknown => "note",
    }
}

/// 64-bit FNV-1a, written out so fingerprints stay the same across Rust releases and
/// platforms (`std`'s `DefaultHasher` makes no such promise: its algorithm may change
/// between releases, which would turn every alert into a new one).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The stable identity of a result: display id, ecosystem, package, version (or
/// `range:REQUIREMENT` for a range risk) and file, separated by U+001F so that no two
/// different tuples join to the same bytes in practice.
fn fingerprint(id: &str, ecosystem: Ecosystem, package: &str, version: &str, uri: &str) -> String {
    let joined = [id, ecosystem.as_osv(), package, version, uri].join("\u{1f}");
    format!("{:016x}", fnv1a64(joined.as_bytes()))
}

/// The artifact URI of a manifest path: forward slashes, relative paths as given without a
/// leading `./`, absolute paths as `file://` URIs, and characters a URI cannot hold
/// percent-encoded.
fn artifact_uri(path: &std::path::Path) -> String {
    let mut p = path.to_string_lossy().replace('\\', "/");
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
    }
    let bytes = p.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    let mut out = String::new();
    if p.starts_with('/') {
        out.push_str("file://");
    } else if drive {
        out.push_str("file:///");
    }
    for (i, b) in p.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~/!$&'()*+,;=@".contains(&b)
            || (b == b':' && drive && i == 1);
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn physical(loc: &Location) -> (Vec<SarifLocation>, String) {
    let uri = artifact_uri(&loc.file);
    let location = SarifLocation {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation { uri: uri.clone() },
            // SARIF lines start at 1; 0 means unknown in the report.
            region: Region {
                start_line: loc.line.max(1),
            },
        },
    };
    (vec![location], uri)
}

fn finding_message(f: &Finding) -> String {
    let who = format!("{} {}", f.package.name, f.package.version);
    let mut m = match f.kind {
        AdvisoryKind::Vulnerability => format!("{who} is affected by {} ({})", f.id, f.severity),
        AdvisoryKind::Malware => match &f.fix {
            crate::report::Fix::CheckIndex { .. } => format!(
                "{} on the public registry is flagged as malicious by {}",
                f.package.name, f.id
            ),
            // No severity: the record carries no score.
            _ => format!("{who} is flagged as malicious by {}", f.id),
        },
        AdvisoryKind::Unmaintained => format!("{who} is unmaintained ({})", f.id),
        AdvisoryKind::Unsound => format!("{who} is unsound ({})", f.id),
        AdvisoryKind::Notice => format!("{who} has a notice ({})", f.id),
        AdvisoryKind::Other => format!("{who} has an informational advisory ({})", f.id),
        AdvisoryKind::Yanked => format!("{who} was yanked from its registry"),
    };
    let _ = write!(m, "; {}", fix_text(&f.fix));
    if let Some(via) = via_text(&f.via).filter(|_| f.via.as_ref().is_some_and(|v| !v.is_empty())) {
        let _ = write!(m, " ({via})");
    }
    if let Some(note) = &f.note {
        let _ = write!(m, ". Note: {note}");
    }
    if let Some(k) = &f.kev {
        let _ = write!(m, ". Known exploited: {}", k.describe());
    }
    if let Some(e) = &f.epss {
        let _ = write!(m, ". {}", e.describe());
    }
    m
}

fn risk_message(r: &RangeRisk, a: &RiskAdvisory) -> String {
    let mut m = format!(
        "{} {} admits versions affected by {} ({}): {}",
        r.package, r.requirement, a.id, a.severity, a.allowed_affected
    );
    match (&r.suggested, &r.note) {
        (Some(s), Some(n)) => {
            let _ = write!(m, "; raise to {s} ({n})");
        }
        (Some(s), None) => {
            let _ = write!(m, "; raise to {s}");
        }
        (None, Some(n)) => {
            let _ = write!(m, "; no safe bound: {n}");
        }
        (None, None) => m.push_str("; no safe bound known"),
    }
    m
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn build_rule(id: &str, info: &RuleInfo) -> Rule {
    let kind = info.kind.unwrap_or(AdvisoryKind::Vulnerability);
    let severity = info.severity.unwrap_or(Level::Unknown);
    let ids: Vec<String> = info.ids.iter().cloned().collect();
    let others = aliases(id, &ids);
    let packages: Vec<String> = info
        .packages
        .iter()
        .map(|(n, e)| format!("{n} ({e})"))
        .collect();
    let summary = info
        .summary
        .as_deref()
        .map(|s| {
            super::clean(s)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|s| !s.is_empty());
    let short = match &summary {
        Some(s) => format!("{id}: {s}"),
        None => format!("{id}: {} in {}", kind.as_str(), packages.join(", ")),
    };
    // ", high, CVSS 7.5", ", high" or nothing when the severity is unknown.
    let rating = match (info.score, severity) {
        (Some(s), _) => format!(", {severity}, CVSS {s:.1}"),
        (None, Level::Unknown) => String::new(),
        (None, _) => format!(", {severity}"),
    };
    let mut full = format!("{} advisory {id}", capitalised(kind.as_str()));
    if !rating.is_empty() {
        let _ = write!(full, " ({})", &rating[2..]);
    }
    if let Some(s) = &summary {
        let _ = write!(full, ": {s}");
    }
    let _ = write!(full, ". Affects: {}.", packages.join(", "));
    if !others.is_empty() {
        let _ = write!(full, " Aliases: {}.", others.join(", "));
    }
    let uri = help_uri(id, info.url.as_deref());
    let advice = if kind.is_informational() {
        "Review the advisory and replace the package or accept the risk with an ignore."
    } else if kind == AdvisoryKind::Malware {
        "Remove the package and treat the machines that installed it as compromised."
    } else {
        "Upgrade to the version named in the result (or raise the requirement's lower bound), \
         or ignore the advisory with a reason if it does not apply."
    };
    let mut text = format!("{full}\n\n{advice}");
    if kind == AdvisoryKind::Malware && info.score.is_none() {
        let _ = write!(
            text,
            "\n\nThe record has no CVSS score; security-severity {MALWARE_SECURITY_SEVERITY} \
             is depwatch's rating of malware."
        );
    }
    if !info.cwes.is_empty() {
        let _ = write!(
            text,
            "\n\nWeaknesses: {}.",
            info.cwes.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(uri) = &uri {
        let _ = write!(text, "\n\n{uri}");
    }
    let mut markdown = format!(
        "**{}** ({} advisory{})",
        md_escape(id),
        kind.as_str(),
        md_escape(&rating)
    );
    if let Some(s) = &summary {
        let _ = write!(markdown, "\n\n{}", md_escape(s));
    }
    let _ = write!(
        markdown,
        "\n\nAffects: {}",
        info.packages
            .iter()
            .map(|(n, e)| format!("{} ({e})", md_code(n)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !others.is_empty() {
        let _ = write!(
            markdown,
            "\n\nAliases: {}",
            others
                .iter()
                .map(|a| md_escape(a))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !info.cwes.is_empty() {
        let _ = write!(
            markdown,
            "\n\nWeaknesses: {}",
            info.cwes
                .iter()
                .map(|c| md_escape(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = write!(markdown, "\n\n{advice}");
    if let Some(uri) = &uri {
        let _ = write!(markdown, "\n\n[{}]({uri})", md_escape(id));
    }
    let mut tags = vec!["security".to_string(), kind.as_str().to_string()];
    for cwe in &info.cwes {
        if let Some(n) = cwe.strip_prefix("CWE-") {
            tags.push(format!("external/cwe/cwe-{n}"));
        }
    }
    let security_severity = match info.score {
        Some(s) => Some(format!("{s:.1}")),
        // depwatch's own rating, said in the rule's text: the record has no score.
        None if kind == AdvisoryKind::Malware => Some(MALWARE_SECURITY_SEVERITY.to_string()),
        None => default_score(severity).map(str::to_string),
    };
    Rule {
        id: id.to_string(),
        name: id.to_string(),
        short_description: Text { text: short },
        full_description: Text { text: full },
        help_uri: uri,
        help: Help { text, markdown },
        properties: RuleProperties {
            tags,
            security_severity,
        },
    }
}

/// Render the report as SARIF 2.1.0.
pub(super) fn render(report: &Report) -> String {
    // Rules: one per display id over findings, warnings and range-risk advisories.
    let mut infos: BTreeMap<&str, RuleInfo> = BTreeMap::new();
    for f in report.findings.iter().chain(&report.warnings) {
        let info = infos.entry(&f.id).or_default();
        info.add(
            f.kind,
            &f.ids,
            f.summary.as_ref(),
            f.severity,
            (f.package.name.clone(), f.package.ecosystem),
        );
        if info.url.is_none() {
            info.url = f.url.clone();
        }
        if let Some(s) = f.cvss_score.filter(|s| s.is_finite()) {
            info.score = Some(info.score.map_or(s, |b| b.max(s)));
        }
        info.cwes.extend(f.cwe_ids.iter().cloned());
    }
    for r in &report.risks {
        for a in &r.advisories {
            infos.entry(&a.id).or_default().add(
                AdvisoryKind::Vulnerability,
                &a.ids,
                a.summary.as_ref(),
                a.severity,
                (r.package.clone(), r.ecosystem),
            );
        }
    }
    let index: BTreeMap<&str, usize> = infos.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rules: Vec<Rule> = infos
        .iter()
        .map(|(id, info)| build_rule(id, info))
        .collect();

    let mut results = Vec::new();
    for f in report.findings.iter().chain(&report.warnings) {
        let (locations, uri) = physical(&f.location);
        let fp = fingerprint(
            &f.id,
            f.package.ecosystem,
            &f.package.name,
            &f.package.version,
            &uri,
        );
        results.push(SarifResult {
            rule_id: f.id.clone(),
            rule_index: index[f.id.as_str()],
            level: level(f.kind, f.severity),
            message: Text {
                text: finding_message(f),
            },
            locations,
            partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fp)]),
            properties: result_properties(f),
        });
    }
    for r in &report.risks {
        for a in &r.advisories {
            let (locations, uri) = physical(&r.location);
            let version = format!("range:{}", r.requirement);
            let fp = fingerprint(&a.id, r.ecosystem, &r.package, &version, &uri);
            results.push(SarifResult {
                rule_id: a.id.clone(),
                rule_index: index[a.id.as_str()],
                level: level(AdvisoryKind::Vulnerability, a.severity),
                message: Text {
                    text: risk_message(r, a),
                },
                locations,
                partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fp)]),
                properties: None,
            });
        }
    }

    let information_uri = [
        option_env!("CARGO_PKG_REPOSITORY"),
        option_env!("CARGO_PKG_HOMEPAGE"),
    ]
    .into_iter()
    .flatten()
    .find(|u| !u.is_empty())
    .map(str::to_string);
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: report.tool.name.clone(),
                    information_uri,
                    version: report.tool.version.clone(),
                    rules,
                },
            },
            results,
            properties: (!report.not_applicable.is_empty()).then(|| RunProperties {
                not_applicable: report
                    .not_applicable
                    .iter()
                    .map(|n| NotApplicable {
                        package: n.name.clone(),
                        ecosystem: n.ecosystem.as_osv(),
                        requirement: n.requirement.clone(),
                        uri: artifact_uri(&n.location.file),
                        start_line: n.location.line.max(1),
                        markers: n.markers.clone(),
                        environments: n.environments.clone(),
                        advisories: n.advisories.clone(),
                    })
                    .collect(),
            }),
        }],
    };
    // The model holds only strings, integers and maps with string keys: it always serialises.
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::sample_report;
    use super::*;
    use serde_json::Value;
    use std::path::Path;

    fn sarif(r: &Report) -> Value {
        serde_json::from_str(&render(r)).unwrap()
    }

    fn results(v: &Value) -> &Vec<Value> {
        v["runs"][0]["results"].as_array().unwrap()
    }

    fn rules(v: &Value) -> &Vec<Value> {
        v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap()
    }

    fn result_for<'a>(v: &'a Value, rule: &str) -> &'a Value {
        results(v).iter().find(|r| r["ruleId"] == rule).unwrap()
    }

    #[test]
    fn header_and_driver() {
        let text = render(&sample_report());
        assert!(text.ends_with("}\n"));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["$schema"], SCHEMA);
        assert_eq!(v["runs"].as_array().unwrap().len(), 1);
        let driver = &v["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "depwatch");
        assert_eq!(driver["version"], "0.1.0");
    }

    #[test]
    fn rules_are_sorted_unique_and_referenced_by_index() {
        let v = sarif(&sample_report());
        let ids: Vec<&str> = rules(&v)
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted, "rules not sorted and unique");
        // Findings, the warning and the range-risk advisories, PYSEC-2023-62 shared.
        assert_eq!(
            ids,
            [
                "GHSA-4xq6-h8fh-cf6g",
                "GHSA-jfh8-c2jp-5v3q",
                "PYSEC-2023-62",
                "PYSEC-2024-10",
                "PYSEC-2024-11",
                "PYSEC-2099-1",
                "RUSTSEC-2024-0375"
            ]
        );
        // 2 findings, 1 warning, 2 + 3 risk advisories.
        assert_eq!(results(&v).len(), 8);
        for r in results(&v) {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules(&v)[i]["id"], r["ruleId"]);
            for key in ["shortDescription", "fullDescription", "help"] {
                assert!(!rules(&v)[i][key]["text"].as_str().unwrap().is_empty());
            }
            assert!(
                !rules(&v)[i]["help"]["markdown"]
                    .as_str()
                    .unwrap()
                    .is_empty()
            );
            assert!(
                rules(&v)[i]["helpUri"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://")
            );
        }
    }

    #[test]
    fn locations_use_forward_slashes_and_lines_from_one() {
        let v = sarif(&sample_report());
        for r in results(&v) {
            let loc = &r["locations"][0]["physicalLocation"];
            let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.contains('\\') && !uri.starts_with("./"), "{uri}");
            assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        }
        let flask = &result_for(&v, "PYSEC-2023-62")["locations"][0]["physicalLocation"];
        assert_eq!(flask["artifactLocation"]["uri"], "app/poetry.lock");
        assert_eq!(flask["region"]["startLine"], 42);
        let crypto = &result_for(&v, "GHSA-jfh8-c2jp-5v3q")["locations"][0]["physicalLocation"];
        assert_eq!(crypto["region"]["startLine"], 1, "line 0 must become 1");
        let atty = &result_for(&v, "RUSTSEC-2024-0375")["locations"][0]["physicalLocation"];
        assert_eq!(atty["artifactLocation"]["uri"], "rust/Cargo.lock");
    }

    #[test]
    fn uris() {
        assert_eq!(artifact_uri(Path::new("././a/b c.txt")), "a/b%20c.txt");
        assert_eq!(
            artifact_uri(Path::new("/srv/app/uv.lock")),
            "file:///srv/app/uv.lock"
        );
        assert_eq!(
            artifact_uri(Path::new("C:\\src\\Cargo.lock")),
            "file:///C:/src/Cargo.lock"
        );
        assert_eq!(artifact_uri(Path::new("dir#1/ä.txt")), "dir%231/%C3%A4.txt");
    }

    #[test]
    fn security_severity_and_levels() {
        let v = sarif(&sample_report());
        let rule = |id: &str| rules(&v).iter().find(|r| r["id"] == id).unwrap().clone();
        // A CVSS score wins; a level gives the default; unknown gives none.
        assert_eq!(
            rule("PYSEC-2023-62")["properties"]["security-severity"],
            "7.5"
        );
        assert_eq!(
            rule("GHSA-jfh8-c2jp-5v3q")["properties"]["security-severity"],
            "9.5"
        );
        assert_eq!(
            rule("PYSEC-2024-10")["properties"]["security-severity"],
            "5.0"
        );
        assert_eq!(
            rule("PYSEC-2099-1")["properties"]["security-severity"],
            "2.0"
        );
        assert!(
            rule("RUSTSEC-2024-0375")["properties"]
                .get("security-severity")
                .is_none()
        );
        assert_eq!(
            rule("PYSEC-2023-62")["fullDescription"]["text"]
                .as_str()
                .unwrap()
                .split(':')
                .next(),
            Some("Vulnerability advisory PYSEC-2023-62 (high, CVSS 7.5)")
        );
        assert!(
            rule("RUSTSEC-2024-0375")["fullDescription"]["text"]
                .as_str()
                .unwrap()
                .starts_with("Unmaintained advisory RUSTSEC-2024-0375: `atty` is unmaintained.")
        );
        assert_eq!(
            rule("RUSTSEC-2024-0375")["properties"]["tags"],
            serde_json::json!(["security", "unmaintained"])
        );
        assert_eq!(
            rule("PYSEC-2023-62")["properties"]["tags"],
            serde_json::json!(["security", "vulnerability", "external/cwe/cwe-539"])
        );
        assert_eq!(result_for(&v, "GHSA-jfh8-c2jp-5v3q")["level"], "error");
        assert_eq!(result_for(&v, "PYSEC-2023-62")["level"], "error");
        assert_eq!(result_for(&v, "PYSEC-2024-10")["level"], "warning");
        assert_eq!(result_for(&v, "PYSEC-2099-1")["level"], "note");
        assert_eq!(result_for(&v, "RUSTSEC-2024-0375")["level"], "note");
        assert_eq!(level(AdvisoryKind::Vulnerability, Level::Unknown), "note");
        assert_eq!(level(AdvisoryKind::Malware, Level::Unknown), "error");
        assert_eq!(level(AdvisoryKind::Unsound, Level::Critical), "note");
    }

    #[test]
    fn messages() {
        let v = sarif(&sample_report());
        assert_eq!(
            result_for(&v, "PYSEC-2023-62")["message"]["text"],
            "flask 2.2.2 is affected by PYSEC-2023-62 (high); upgrade to 2.3.2 (via myapp -> flask-login)"
        );
        assert_eq!(
            result_for(&v, "RUSTSEC-2024-0375")["message"]["text"],
            "atty 0.2.14 is unmaintained (RUSTSEC-2024-0375); no fixed version"
        );
        let risk = result_for(&v, "GHSA-4xq6-h8fh-cf6g")["message"]["text"]
            .as_str()
            .unwrap();
        assert!(risk.starts_with(
            "streamlit >=1.39.0 admits versions affected by GHSA-4xq6-h8fh-cf6g (high)"
        ));
        assert!(risk.ends_with("; raise to >=1.43.0"), "{risk}");
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let v = sarif(&sample_report());
        let fps: Vec<String> = results(&v)
            .iter()
            .map(|r| {
                r["partialFingerprints"][FINGERPRINT_KEY]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let unique: BTreeSet<&String> = fps.iter().collect();
        assert_eq!(unique.len(), fps.len(), "fingerprints collide: {fps:?}");
        assert!(
            fps.iter()
                .all(|f| f.len() == 16 && f.chars().all(|c| c.is_ascii_hexdigit()))
        );
        // Known FNV-1a 64 test vectors: the hash must never change.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        // Same identity, same fingerprint, whatever the line; a new version changes it.
        let mut moved = sample_report();
        moved.findings[0].location.line = 99;
        moved.findings[0].summary = None;
        let v2 = sarif(&moved);
        assert_eq!(
            result_for(&v, "PYSEC-2023-62")["partialFingerprints"],
            result_for(&v2, "PYSEC-2023-62")["partialFingerprints"]
        );
        let mut bumped = sample_report();
        bumped.findings[0].package.version = "2.2.3".into();
        assert_ne!(
            result_for(&v, "PYSEC-2023-62")["partialFingerprints"],
            result_for(&sarif(&bumped), "PYSEC-2023-62")["partialFingerprints"]
        );
        assert_eq!(
            fingerprint(
                "PYSEC-2023-62",
                Ecosystem::PyPI,
                "flask",
                "2.2.2",
                "app/poetry.lock"
            ),
            fingerprint(
                "PYSEC-2023-62",
                Ecosystem::PyPI,
                "flask",
                "2.2.2",
                "app/poetry.lock"
            )
        );
    }

    #[test]
    fn empty_report_is_valid() {
        let mut r = sample_report();
        r.findings.clear();
        r.warnings.clear();
        r.risks.clear();
        let v = sarif(&r);
        assert!(results(&v).is_empty());
        assert!(rules(&v).is_empty());
        assert_eq!(v["version"], "2.1.0");
    }
}
