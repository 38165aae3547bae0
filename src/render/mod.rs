//! Renderers: every output format renders the same [`crate::report::Report`].
//!
//! Renderers only read the report. Its lists are sorted by the producer, and nothing here
//! iterates a hash map or reads the clock, so the same report always renders to the same
//! bytes.

pub mod cyclonedx;
mod json;
mod markdown;
pub mod openvex;
mod sarif;
mod table;

use crate::report::{Finding, Fix, Location, Report};

/// Output formats of `depwatch scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable table (colour only on a terminal).
    Table,
    /// JSON (schema in `README.md`).
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// Markdown.
    Markdown,
}

/// Render a report. `color` adds ANSI colours to the table (callers pass `true` only for a
/// terminal); the other formats ignore it.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Table => table::render(report, color),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Markdown => markdown::render(report),
    }
}

// Helpers shared by the renderers for people (table, markdown, SARIF messages).

/// Replace control characters (ANSI escapes, newlines, tabs) in text that comes from
/// advisory data or manifests, so it cannot move the cursor or break a line-based layout.
fn clean(s: &str) -> String {
    crate::text::clean(s, false)
}

/// `s` or `s` plural suffix.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The ids of a finding other than its display id.
fn aliases<'a>(id: &str, ids: &'a [String]) -> Vec<&'a str> {
    ids.iter()
        .map(String::as_str)
        .filter(|i| *i != id)
        .collect()
}

/// Display id with its aliases, compactly: `PYSEC-2023-62 (CVE-2023-30861, GHSA-m2qf-hxjv-5gpq)`;
/// past `max` aliases the rest are counted (`+2 more`).
fn ids_compact(id: &str, ids: &[String], max: usize) -> String {
    let others = aliases(id, ids);
    if others.is_empty() {
        return id.to_string();
    }
    let mut shown: Vec<String> = others.iter().take(max).map(|s| s.to_string()).collect();
    if others.len() > max {
        shown.push(format!("+{} more", others.len() - max));
    }
    format!("{id} ({})", shown.join(", "))
}

/// The fix as a short phrase: `upgrade to 2.3.2`, `no safe version`, `no fixed version`.
pub fn fix_text(fix: &Fix) -> String {
    match fix {
        Fix::Upgrade { to } => format!("upgrade to {to}"),
        Fix::NoSafeVersion => "no safe version".to_string(),
        Fix::NoFix => "no fixed version".to_string(),
        Fix::RemoveRelease { .. } | Fix::CheckIndex { .. } => fix.malware_advice(),
    }
}

/// The dependency path: `via tokio -> h2`, `direct`, or nothing when the file has no graph.
fn via_text(via: &Option<Vec<String>>) -> Option<String> {
    match via {
        None => None,
        Some(path) if path.is_empty() => Some("direct".to_string()),
        Some(path) => Some(format!("via {}", path.join(" -> "))),
    }
}

/// `file:line` with the path as given, or just `file` when the line is unknown (0).
fn location_text(loc: &Location) -> String {
    let file = clean(&loc.file.to_string_lossy());
    if loc.line == 0 {
        file
    } else {
        format!("{file}:{}", loc.line)
    }
}

/// Context of a finding beyond its location: dependency path, scope, member, markers.
fn context_parts(f: &Finding) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(v) = via_text(&f.via) {
        parts.push(v);
    }
    if let Some(s) = &f.scope {
        parts.push(format!("scope {s}"));
    }
    if let Some(m) = &f.member {
        parts.push(format!("member {m}"));
    }
    if let Some(m) = &f.markers {
        parts.push(format!("when {m}"));
    }
    parts
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A realistic report built by hand, shared by the renderers' tests.

    use crate::advisory::AdvisoryKind;
    use crate::ecosystem::Ecosystem;
    use crate::manifests::ManifestKind;
    use crate::report::*;
    use crate::severity::Level;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn loc(file: &str, line: usize) -> Location {
        Location {
            file: PathBuf::from(file),
            line,
        }
    }

    /// A report with a PyPI finding (aliases, via path), a crates.io unmaintained warning,
    /// two range risks (with and without a suggestion), a not-checked git dependency, an
    /// ignored finding, a load error and a manifest that failed to parse.
    pub(crate) fn sample_report() -> Report {
        let flask = Finding {
            id: "PYSEC-2023-62".into(),
            ids: vec![
                "CVE-2023-30861".into(),
                "GHSA-m2qf-hxjv-5gpq".into(),
                "PYSEC-2023-62".into(),
            ],
            sources: vec!["osv-dir:advisories/pypi".into()],
            kind: AdvisoryKind::Vulnerability,
            package: PackageRef {
                ecosystem: Ecosystem::PyPI,
                name: "flask".into(),
                version: "2.2.2".into(),
            },
            severity: Level::High,
            cvss_score: Some(7.5),
            cvss_vectors: vec!["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N".into()],
            summary: Some(
                "Flask | may cache a response\ncontaining data intended for another client".into(),
            ),
            cwe_ids: vec!["CWE-539".into()],
            fixed_versions: vec!["2.2.5".into(), "2.3.2".into()],
            fix: Fix::Upgrade { to: "2.3.2".into() },
            url: Some("https://osv.dev/vulnerability/PYSEC-2023-62".into()),
            location: loc("./app/poetry.lock", 42),
            via: Some(vec!["myapp".into(), "flask-login".into()]),
            scope: None,
            member: None,
            markers: None,
            note: None,
            disagreements: Vec::new(),
            kev: None,
            kev_related: Vec::new(),
            epss: None,
            vex: Vec::new(),
        };
        let critical = Finding {
            id: "GHSA-jfh8-c2jp-5v3q".into(),
            ids: vec!["CVE-2023-0286".into(), "GHSA-jfh8-c2jp-5v3q".into()],
            sources: vec!["osv-dir:advisories/pypi".into()],
            kind: AdvisoryKind::Vulnerability,
            package: PackageRef {
                ecosystem: Ecosystem::PyPI,
                name: "cryptography".into(),
                version: "38.0.4".into(),
            },
            severity: Level::Critical,
            cvss_score: None,
            cvss_vectors: Vec::new(),
            summary: Some("Vulnerable OpenSSL included in cryptography wheels".into()),
            cwe_ids: Vec::new(),
            fixed_versions: Vec::new(),
            fix: Fix::NoFix,
            url: None,
            location: loc("requirements.txt", 0),
            via: None,
            scope: Some("dev".into()),
            member: None,
            markers: None,
            note: Some("the ignore of CVE-2023-0286 expired on 2025-01-01".into()),
            disagreements: Vec::new(),
            kev: None,
            kev_related: Vec::new(),
            epss: None,
            vex: Vec::new(),
        };
        let atty = Finding {
            id: "RUSTSEC-2024-0375".into(),
            ids: vec!["RUSTSEC-2024-0375".into()],
            sources: vec!["rustsec-dir:advisory-db".into()],
            kind: AdvisoryKind::Unmaintained,
            package: PackageRef {
                ecosystem: Ecosystem::CratesIo,
                name: "atty".into(),
                version: "0.2.14".into(),
            },
            severity: Level::Unknown,
            cvss_score: None,
            cvss_vectors: Vec::new(),
            summary: Some("`atty` is unmaintained".into()),
            cwe_ids: Vec::new(),
            fixed_versions: Vec::new(),
            fix: Fix::NoFix,
            url: Some("https://rustsec.org/advisories/RUSTSEC-2024-0375.html".into()),
            location: loc("rust\\Cargo.lock", 17),
            via: Some(Vec::new()),
            scope: None,
            member: Some("cli".into()),
            markers: None,
            note: None,
            disagreements: Vec::new(),
            kev: None,
            kev_related: Vec::new(),
            epss: None,
            vex: Vec::new(),
        };
        let flask_range = RangeRisk {
            ecosystem: Ecosystem::PyPI,
            package: "flask".into(),
            requirement: ">=2.0".into(),
            location: loc("app/pyproject.toml", 9),
            advisories: vec![
                // Also a finding above: the SARIF rule must be shared, not duplicated.
                RiskAdvisory {
                    id: "PYSEC-2023-62".into(),
                    ids: vec![
                        "CVE-2023-30861".into(),
                        "GHSA-m2qf-hxjv-5gpq".into(),
                        "PYSEC-2023-62".into(),
                    ],
                    severity: Level::High,
                    summary: Some("Flask may cache a response".into()),
                    allowed_affected: ">=2.0, <2.2.5 || >=2.3.0, <2.3.2".into(),
                },
                RiskAdvisory {
                    id: "PYSEC-2099-1".into(),
                    ids: vec!["PYSEC-2099-1".into()],
                    severity: Level::Low,
                    summary: None,
                    allowed_affected: ">=2.0".into(),
                },
            ],
            suggested: None,
            note: Some(
                "no version above the affected ranges is known: an advisory has no fix".into(),
            ),
            severity: Level::High,
        };
        let streamlit = RangeRisk {
            ecosystem: Ecosystem::PyPI,
            package: "streamlit".into(),
            requirement: ">=1.39.0".into(),
            location: loc("requirements.txt", 5),
            advisories: vec![
                RiskAdvisory {
                    id: "GHSA-4xq6-h8fh-cf6g".into(),
                    ids: vec!["GHSA-4xq6-h8fh-cf6g".into()],
                    severity: Level::High,
                    summary: Some("Path traversal in static file serving".into()),
                    allowed_affected: ">=1.39.0, <1.43.0".into(),
                },
                RiskAdvisory {
                    id: "PYSEC-2024-10".into(),
                    ids: vec!["CVE-2024-42474".into(), "PYSEC-2024-10".into()],
                    severity: Level::Medium,
                    summary: None,
                    allowed_affected: ">=1.39.0, <1.41.0".into(),
                },
                RiskAdvisory {
                    id: "PYSEC-2024-11".into(),
                    ids: vec!["PYSEC-2024-11".into()],
                    severity: Level::Medium,
                    summary: None,
                    allowed_affected: ">=1.39.0, <1.40.0".into(),
                },
            ],
            suggested: Some(">=1.43.0".into()),
            note: None,
            severity: Level::High,
        };
        let mut by_severity = BTreeMap::new();
        for l in ["critical", "high", "medium", "low", "unknown"] {
            by_severity.insert(l.to_string(), 0);
        }
        by_severity.insert("critical".into(), 1);
        by_severity.insert("high".into(), 1);
        Report {
            notices: vec!["source osv-dir:/x was last synced 50 hours ago".into()],
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "depwatch".into(),
                version: "0.1.0".into(),
            },
            sources: vec![
                SourceSummary {
                    source: "osv-dir:advisories/pypi".into(),
                    advisories: 1200,
                    skipped: 1,
                },
                SourceSummary {
                    source: "rustsec-dir:advisory-db".into(),
                    advisories: 800,
                    skipped: 0,
                },
            ],
            manifests: vec![
                ManifestSummary {
                    path: PathBuf::from("./app/poetry.lock"),
                    kind: ManifestKind::PoetryLock,
                    dependencies: 30,
                    error: None,
                    warnings: vec!["app/poetry.lock:3: unknown source type".into()],
                },
                ManifestSummary {
                    path: PathBuf::from("app/pyproject.toml"),
                    kind: ManifestKind::Pyproject,
                    dependencies: 3,
                    error: None,
                    warnings: Vec::new(),
                },
                ManifestSummary {
                    path: PathBuf::from("broken/pyproject.toml"),
                    kind: ManifestKind::Pyproject,
                    dependencies: 0,
                    error: Some("broken/pyproject.toml: TOML parse error at line 4".into()),
                    warnings: Vec::new(),
                },
                ManifestSummary {
                    path: PathBuf::from("requirements.txt"),
                    kind: ManifestKind::RequirementsTxt,
                    dependencies: 4,
                    error: None,
                    warnings: Vec::new(),
                },
                ManifestSummary {
                    path: PathBuf::from("rust/Cargo.toml"),
                    kind: ManifestKind::CargoToml,
                    dependencies: 5,
                    error: None,
                    warnings: Vec::new(),
                },
                ManifestSummary {
                    path: PathBuf::from("rust\\Cargo.lock"),
                    kind: ManifestKind::CargoLock,
                    dependencies: 100,
                    error: None,
                    warnings: Vec::new(),
                },
            ],
            findings: vec![flask, critical],
            warnings: vec![atty],
            risks: vec![flask_range, streamlit],
            not_checked: vec![NotChecked {
                ecosystem: Ecosystem::CratesIo,
                name: "mylib".into(),
                location: loc("rust/Cargo.toml", 12),
                reason: "git dependency (https://github.com/example/mylib)".into(),
                count: None,
                names: Vec::new(),
            }],
            not_applicable: Vec::new(),
            ignored: vec![IgnoredFinding {
                id: "PYSEC-2022-42969".into(),
                package: PackageRef {
                    ecosystem: Ecosystem::PyPI,
                    name: "py".into(),
                    version: "1.11.0".into(),
                },
                ignored_as: "CVE-2022-42969".into(),
                reason: Some("disputed | not reachable".into()),
                until: Some("2030-01-01".into()),
                origin: Some("depwatch.toml".into()),
                justification: None,
            }],
            load_errors: vec![LoadError {
                source: "osv-dir:advisories/pypi".into(),
                file: "PYSEC-2020-1.json".into(),
                id: Some("PYSEC-2020-1".into()),
                message: "missing field `modified`".into(),
            }],
            summary: Summary {
                dependencies: 142,
                findings: 2,
                by_severity,
                warnings: 1,
                risks: 2,
                not_checked: 1,
                manifest_errors: 1,
                not_applicable: 0,
                max_severity: Some(Level::Critical),
                malicious: 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::sample_report;
    use super::*;

    #[test]
    fn every_format_is_deterministic_and_nonempty() {
        let r = sample_report();
        for format in [Format::Table, Format::Json, Format::Sarif, Format::Markdown] {
            for color in [false, true] {
                let a = render(&r, format, color);
                let b = render(&r.clone(), format, color);
                assert!(!a.is_empty(), "{format:?}");
                assert_eq!(a, b, "{format:?} differs between two renderings");
                assert!(a.ends_with('\n'), "{format:?} lacks a final newline");
            }
        }
    }

    #[test]
    fn only_the_table_uses_color() {
        let r = sample_report();
        for format in [Format::Json, Format::Sarif, Format::Markdown] {
            assert_eq!(
                render(&r, format, true),
                render(&r, format, false),
                "{format:?}"
            );
        }
        assert_ne!(
            render(&r, Format::Table, true),
            render(&r, Format::Table, false)
        );
    }

    #[test]
    fn helpers() {
        let ids: Vec<String> = ["A", "B", "C", "D"].iter().map(|s| s.to_string()).collect();
        assert_eq!(ids_compact("B", &ids, 2), "B (A, C, +1 more)");
        assert_eq!(ids_compact("A", &ids[..1], 2), "A");
        assert_eq!(via_text(&Some(vec![])).as_deref(), Some("direct"));
        assert_eq!(
            via_text(&Some(vec!["tokio".into(), "h2".into()])).as_deref(),
            Some("via tokio -> h2")
        );
        assert_eq!(via_text(&None), None);
        assert_eq!(clean("a\x1b[31m\nb"), "a [31m b");
        assert_eq!(fix_text(&Fix::NoSafeVersion), "no safe version");
    }
}
