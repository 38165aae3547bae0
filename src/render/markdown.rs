//! Markdown (GitHub flavoured) for pull-request comments and job summaries: a title, a
//! summary table, tables of findings, warnings, range risks, what was not checked, ignored
//! findings, load errors and manifests.
//!
//! Text from advisories and manifests is escaped so it cannot break a table (`|`, newlines)
//! or inject markup or HTML.

use super::{context_parts, fix_text, location_text, plural};
use crate::advisory::AdvisoryKind;
use crate::report::{Finding, Report};
use std::fmt::Write as _;

/// How many aliases to show after a display id.
const MAX_ALIASES: usize = 4;
/// How many load errors to list (they can number in the thousands).
const MAX_LOAD_ERRORS: usize = 20;

// The one markdown escape, shared with release notes and SARIF help text.
pub(super) use crate::text::escape_markdown as escape;

/// Literal text (a version, requirement, path) as a code span, `|` escaped as GFM tables
/// require; text a code span cannot hold falls back to [`escape`].
pub(super) fn code(s: &str) -> String {
    if s.is_empty() || s.contains('`') || crate::text::clean(s, false) != s || s.trim() != s {
        return escape(s);
    }
    format!("`{}`", s.replace('|', "\\|"))
}

/// `[id](url)` when the URL is safe to put in a link, else the escaped id.
pub(super) fn link(text: &str, url: Option<&str>) -> String {
    match url {
        Some(u)
            if (u.starts_with("https://") || u.starts_with("http://"))
                && !u
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "()<>|\\`".contains(c)) =>
        {
            format!("[{}]({u})", escape(text))
        }
        _ => escape(text),
    }
}

/// Aliases of `id` among `ids`, at most `max`, the rest counted.
fn alias_text(id: &str, ids: &[String]) -> Option<String> {
    let others = super::aliases(id, ids);
    if others.is_empty() {
        return None;
    }
    let mut shown: Vec<String> = others.iter().take(MAX_ALIASES).map(|s| escape(s)).collect();
    if others.len() > MAX_ALIASES {
        shown.push(format!("+{} more", others.len() - MAX_ALIASES));
    }
    Some(shown.join(", "))
}

fn row(out: &mut String, cells: &[String]) {
    out.push('|');
    for c in cells {
        out.push(' ');
        out.push_str(c);
        out.push_str(" |");
    }
    out.push('\n');
}

fn table_head(out: &mut String, head: &[&str], numeric: &[bool]) {
    row(out, &head.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    let rule: Vec<String> = numeric
        .iter()
        .map(|n| {
            if *n {
                "---:".to_string()
            } else {
                "---".to_string()
            }
        })
        .collect();
    row(out, &rule);
}

/// Render the report as Markdown.
pub(super) fn render(r: &Report) -> String {
    let mut out = String::new();
    let s = &r.summary;
    out.push_str("# depwatch report\n\n");
    let _ = writeln!(
        out,
        "{} {} scanned {} in {} against {}.",
        escape(&r.tool.name),
        escape(&r.tool.version),
        plural(s.dependencies, "dependency", "dependencies"),
        plural(r.manifests.len(), "manifest", "manifests"),
        plural(r.sources.len(), "advisory source", "advisory sources"),
    );

    out.push_str("\n## Summary\n\n");
    table_head(&mut out, &["Item", "Count"], &[false, true]);
    let mut counts: Vec<(String, usize)> = vec![
        ("Dependencies scanned".into(), s.dependencies),
        ("Vulnerabilities".into(), s.findings),
    ];
    for marker in ["malicious", "dependency-confusion"] {
        if let Some(n) = s.by_severity.get(marker).filter(|n| **n > 0) {
            counts.push((format!("&nbsp;&nbsp;{marker}"), *n));
        }
    }
    for level in ["critical", "high", "medium", "low", "unknown"] {
        let n = s.by_severity.get(level).copied().unwrap_or(0);
        counts.push((format!("&nbsp;&nbsp;{level}"), n));
    }
    counts.extend([
        ("Warnings".to_string(), s.warnings),
        ("Range risks".to_string(), s.risks),
        ("Not checked".to_string(), s.not_checked),
        ("Ignored".to_string(), r.ignored.len()),
        ("Load errors".to_string(), r.load_errors.len()),
        ("Manifest errors".to_string(), s.manifest_errors),
    ]);
    if s.not_applicable > 0 {
        counts.push((
            "Not applicable here (markers)".to_string(),
            s.not_applicable,
        ));
    }
    for (label, n) in counts {
        row(&mut out, &[label, n.to_string()]);
    }
    if !r.sources.is_empty() {
        out.push_str("\nAdvisory sources:\n\n");
        for src in &r.sources {
            let _ = write!(
                out,
                "- {}: {}",
                code(&src.source),
                plural(src.advisories, "advisory", "advisories")
            );
            if src.skipped > 0 {
                let _ = write!(out, " ({} skipped)", src.skipped);
            }
            out.push('\n');
        }
    }

    let _ = write!(out, "\n## Vulnerabilities ({})\n\n", r.findings.len());
    if r.findings.is_empty() {
        out.push_str("No known vulnerabilities in pinned or locked versions.\n");
    } else {
        findings_table(&mut out, &r.findings, "Severity", false);
    }

    if !r.warnings.is_empty() {
        let _ = write!(out, "\n## Warnings ({})\n\n", r.warnings.len());
        findings_table(&mut out, &r.warnings, "Kind", true);
    }

    if !r.risks.is_empty() {
        let _ = write!(out, "\n## Range risks ({})\n\n", r.risks.len());
        out.push_str("Unpinned requirements whose range admits affected versions.\n\n");
        table_head(
            &mut out,
            &[
                "Package",
                "Requirement",
                "Advisories",
                "Severity",
                "Suggestion",
                "Location",
            ],
            &[false; 6],
        );
        for risk in &r.risks {
            let advisories: Vec<String> = risk
                .advisories
                .iter()
                .map(|a| {
                    let url = super::sarif::help_uri(&a.id, None);
                    format!("{} ({})", link(&a.id, url.as_deref()), a.severity)
                })
                .collect();
            let suggestion = match (&risk.suggested, &risk.note) {
                (Some(s), Some(n)) => format!("raise to {}; {}", code(s), escape(n)),
                (Some(s), None) => format!("raise to {}", code(s)),
                (None, Some(n)) => format!("none: {}", escape(n)),
                (None, None) => "none".to_string(),
            };
            row(
                &mut out,
                &[
                    escape(&risk.package),
                    code(&risk.requirement),
                    advisories.join(", "),
                    risk.severity.to_string(),
                    suggestion,
                    code(&location_text(&risk.location)),
                ],
            );
        }
    }

    if !r.not_checked.is_empty() {
        // The dependencies, not the entries: a summary entry stands for several.
        let _ = write!(out, "\n## Not checked ({})\n\n", r.summary.not_checked);
        table_head(
            &mut out,
            &["Package", "Ecosystem", "Location", "Reason"],
            &[false; 4],
        );
        for n in &r.not_checked {
            let name = match n.count {
                Some(count) => format!("{count} {}", n.name),
                None => n.name.clone(),
            };
            row(
                &mut out,
                &[
                    escape(&name),
                    escape(n.ecosystem.as_osv()),
                    code(&location_text(&n.location)),
                    escape(&n.reason),
                ],
            );
        }
    }

    if let Some(first) = r.not_applicable.first() {
        let _ = write!(
            out,
            "\n## Not applicable here (markers) ({})\n\nTheir environment markers exclude every \
             declared environment ({}): not counted, alerted or failed on.\n\n",
            r.not_applicable.len(),
            escape(&first.environments.join("; "))
        );
        table_head(
            &mut out,
            &["Package", "Requirement", "Location", "Markers", "Would be"],
            &[false; 5],
        );
        for n in &r.not_applicable {
            row(
                &mut out,
                &[
                    escape(&n.name),
                    code(&n.requirement),
                    code(&location_text(&n.location)),
                    code(&n.markers),
                    escape(&n.advisories.join(", ")),
                ],
            );
        }
    }

    if !r.ignored.is_empty() {
        let _ = write!(out, "\n## Ignored ({})\n\n", r.ignored.len());
        table_head(
            &mut out,
            &[
                "Package",
                "Version",
                "Advisory",
                "Ignored as",
                "Until",
                "Reason",
                "From",
            ],
            &[false; 7],
        );
        for i in &r.ignored {
            row(
                &mut out,
                &[
                    escape(&i.package.name),
                    code(&i.package.version),
                    escape(&i.id),
                    escape(&i.ignored_as),
                    i.until.as_deref().map(escape).unwrap_or_default(),
                    // A VEX statement's justification label comes before its impact statement.
                    [
                        i.justification
                            .map(|j| format!("not_affected, {}", j.as_str())),
                        i.reason.as_deref().map(escape),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": "),
                    i.origin.as_deref().map(code).unwrap_or_default(),
                ],
            );
        }
    }

    if !r.notices.is_empty() {
        out.push_str("\n## Notices\n\n");
        for n in &r.notices {
            let _ = writeln!(out, "- {}", escape(n));
        }
    }

    if !r.load_errors.is_empty() {
        let _ = write!(out, "\n## Load errors ({})\n\n", r.load_errors.len());
        out.push_str("Advisory records that could not be loaded were skipped.\n\n");
        table_head(&mut out, &["Source", "File", "Id", "Message"], &[false; 4]);
        for e in r.load_errors.iter().take(MAX_LOAD_ERRORS) {
            row(
                &mut out,
                &[
                    code(&e.source),
                    code(&e.file),
                    e.id.as_deref().map(escape).unwrap_or_default(),
                    escape(&e.message),
                ],
            );
        }
        if r.load_errors.len() > MAX_LOAD_ERRORS {
            let _ = writeln!(
                out,
                "\n…and {} more.",
                r.load_errors.len() - MAX_LOAD_ERRORS
            );
        }
    }

    if !r.manifests.is_empty() {
        let _ = write!(out, "\n## Manifests ({})\n\n", r.manifests.len());
        table_head(
            &mut out,
            &["Manifest", "Kind", "Dependencies", "Status"],
            &[false, false, true, false],
        );
        for m in &r.manifests {
            let kind = serde_json::to_value(m.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let mut status = match &m.error {
                Some(e) => format!("**error**: {}", escape(e)),
                None => "ok".to_string(),
            };
            for w in &m.warnings {
                let _ = write!(status, "<br>warning: {}", escape(w));
            }
            row(
                &mut out,
                &[
                    code(&m.path.to_string_lossy()),
                    escape(&kind),
                    m.dependencies.to_string(),
                    status,
                ],
            );
        }
    }
    out
}

fn findings_table(
    out: &mut String,
    findings: &[Finding],
    severity_head: &str,
    informational: bool,
) {
    table_head(
        out,
        &[
            "Package",
            "Version",
            "Advisory",
            severity_head,
            "Fix",
            "Location",
        ],
        &[false; 6],
    );
    for f in findings {
        let url = super::sarif::help_uri(&f.id, f.url.as_deref());
        let mut advisory = link(&f.id, url.as_deref());
        if let Some(a) = alias_text(&f.id, &f.ids) {
            let _ = write!(advisory, " ({a})");
        }
        if let Some(s) = &f.summary {
            let _ = write!(advisory, "<br>{}", escape(s));
        }
        if let Some(n) = &f.note {
            let _ = write!(advisory, "<br>Note: {}", escape(n));
        }
        if !f.disagreements.is_empty() {
            let _ = write!(
                advisory,
                "<br>Sources disagree: {}",
                f.disagreements
                    .iter()
                    .map(|d| escape(d))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        let mut severity = if informational {
            f.kind.as_str().to_string()
        } else {
            f.severity.as_str().to_string()
        };
        if f.kind == AdvisoryKind::Malware {
            // The record has no score: the marker, not "unknown".
            severity = format!("**{}**", f.severity_text());
        } else if f.kev.is_some() {
            severity = format!("**KEV**, {severity}");
        }
        if let Some(k) = &f.kev {
            let _ = write!(
                advisory,
                "<br>**Known exploited**: {}",
                escape(&k.describe())
            );
        }
        for k in &f.kev_related {
            let _ = write!(
                advisory,
                "<br>Related (not this finding's own id): {}",
                escape(&k.describe())
            );
        }
        if let Some(e) = &f.epss {
            let _ = write!(advisory, "<br>{}", escape(&e.describe()));
        }
        if let Some(score) = f.cvss_score {
            let _ = write!(severity, " ({score:.1})");
        }
        let mut location = code(&location_text(&f.location));
        let context = context_parts(f);
        if !context.is_empty() {
            let _ = write!(location, "<br>{}", escape(&context.join(", ")));
        }
        row(
            out,
            &[
                escape(&f.package.name),
                code(&f.package.version),
                advisory,
                severity,
                escape(&fix_text(&f.fix)),
                location,
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::sample_report;
    use super::*;

    #[test]
    fn escape_keeps_tables_intact() {
        assert_eq!(escape("a | b\nc"), "a \\| b<br>c");
        assert_eq!(escape("<script>&"), "&lt;script&gt;&amp;");
        assert_eq!(escape("[x](y) *z*"), "\\[x\\](y) \\*z\\*");
        assert_eq!(code(">=1.0|<2"), "`>=1.0\\|<2`");
        assert_eq!(code("a`b"), "a\\`b");
        assert_eq!(link("X", Some("https://e.com/a b")), "X");
        assert_eq!(link("X", Some("javascript:alert(1)")), "X");
        assert_eq!(link("X", Some("https://e.com/x")), "[X](https://e.com/x)");
    }

    #[test]
    fn renders_every_section() {
        let out = render(&sample_report());
        assert!(out.starts_with("# depwatch report\n"));
        for needle in [
            "## Summary",
            "| Vulnerabilities | 2 |",
            "| &nbsp;&nbsp;critical | 1 |",
            "| Package | Version | Advisory | Severity | Fix | Location |",
            "| flask | `2.2.2` | [PYSEC-2023-62](https://osv.dev/vulnerability/PYSEC-2023-62) (CVE-2023-30861, GHSA-m2qf-hxjv-5gpq)",
            "high (7.5) | upgrade to 2.3.2 | `./app/poetry.lock:42`<br>via myapp -&gt; flask-login |",
            "## Warnings (1)",
            "unmaintained | no fixed version |",
            "## Range risks (2)",
            "raise to `>=1.43.0`",
            "none: no version above the affected ranges is known",
            "## Not checked (1)",
            "| mylib | crates.io | `rust/Cargo.toml:12` |",
            "## Ignored (1)",
            "| py | `1.11.0` | PYSEC-2022-42969 | CVE-2022-42969 | 2030-01-01 | disputed \\| not reachable |",
            "## Load errors (1)",
            "**error**: broken/pyproject.toml: TOML parse error",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in\n{out}");
        }
    }

    #[test]
    fn pipes_and_newlines_in_data_are_escaped() {
        let out = render(&sample_report());
        // The flask summary holds a `|` and a newline.
        assert!(
            out.contains("Flask \\| may cache a response<br>containing data"),
            "{out}"
        );
        // Every table row has the same number of unescaped pipes as its header.
        let mut expected = None;
        for line in out.lines() {
            if !line.starts_with('|') {
                expected = None;
                continue;
            }
            let pipes = line.replace("\\|", "").matches('|').count();
            match expected {
                None => expected = Some(pipes),
                Some(n) => assert_eq!(pipes, n, "row breaks its table: {line}"),
            }
        }
    }

    #[test]
    fn many_load_errors_are_capped() {
        let mut r = sample_report();
        let e = r.load_errors[0].clone();
        r.load_errors = vec![e; MAX_LOAD_ERRORS + 5];
        let out = render(&r);
        assert!(out.contains("…and 5 more."), "{out}");
    }
}
