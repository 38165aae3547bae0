//! The table for people: one aligned line per finding, then warnings, range risks, what was
//! not checked, ignored findings, load and manifest errors, and a summary line.
//!
//! Colours are plain ANSI escapes, written only when asked for. Text from advisories and
//! manifests goes through [`clean`] so it cannot carry escapes of its own.

use super::{clean, context_parts, fix_text, ids_compact, location_text, plural};
use crate::advisory::AdvisoryKind;
use crate::report::{Finding, RangeRisk, Report};
use crate::severity::Level;
use std::fmt::Write as _;

/// How many aliases to show after a display id.
const MAX_ALIASES: usize = 3;
/// How many entries of the long tail lists (not checked, load errors...) to show.
const MAX_LISTED: usize = 10;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const BOLD_RED: &str = "\x1b[1;31m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";

/// Render the table; `color` adds ANSI colours.
pub(super) fn render(report: &Report, color: bool) -> String {
    let mut t = Table {
        out: String::new(),
        color,
    };
    t.header(report);
    for n in &report.notices {
        t.line(&format!("notice: {}", clean(n)));
    }
    if report.findings.is_empty() {
        t.blank();
        t.line("No known vulnerabilities in pinned or locked versions.");
    } else {
        t.findings("Vulnerabilities", &report.findings, false);
    }
    t.findings("Warnings", &report.warnings, true);
    t.risks(&report.risks);
    t.not_checked(report);
    t.not_applicable(report);
    t.ignored(report);
    t.load_errors(report);
    t.manifest_problems(report);
    t.blank();
    t.summary(report);
    // No trailing whitespace anywhere, whatever the cells held.
    let mut out: String = t
        .out
        .lines()
        .map(|l| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// A cell: text and an optional colour.
type Cell = (String, Option<&'static str>);

struct Table {
    out: String,
    color: bool,
}

impl Table {
    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }

    fn paint(&self, s: &str, style: Option<&'static str>) -> String {
        match style {
            Some(code) if self.color => format!("{code}{s}{RESET}"),
            _ => s.to_string(),
        }
    }

    fn title(&mut self, s: &str) {
        self.blank();
        let t = self.paint(s, Some(BOLD));
        self.line(&t);
    }

    /// Rows with columns padded to the widest cell; colour is applied after padding so
    /// escapes do not count toward widths.
    fn rows(&mut self, rows: &[Vec<Cell>]) {
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in rows {
            for (i, (text, _)) in row.iter().enumerate() {
                widths[i] = widths[i].max(text.chars().count());
            }
        }
        for row in rows {
            let mut line = String::from(" ");
            for (i, (text, style)) in row.iter().enumerate() {
                line.push(' ');
                line.push_str(&self.paint(text, *style));
                if i + 1 < row.len() {
                    let pad = widths[i] - text.chars().count() + 1;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            self.line(&line);
        }
    }

    fn header(&mut self, r: &Report) {
        let sources: Vec<String> = r
            .sources
            .iter()
            .map(|s| {
                format!(
                    "{} ({})",
                    clean(&s.source),
                    plural(s.advisories, "advisory", "advisories")
                )
            })
            .collect();
        self.line(&format!(
            "{} {}: {} in {}",
            clean(&r.tool.name),
            clean(&r.tool.version),
            plural(r.summary.dependencies, "dependency", "dependencies"),
            plural(r.manifests.len(), "manifest", "manifests"),
        ));
        if !sources.is_empty() {
            self.line(&format!("sources: {}", sources.join(", ")));
        }
    }

    fn findings(&mut self, title: &str, findings: &[Finding], informational: bool) {
        if findings.is_empty() {
            return;
        }
        self.title(&format!("{title} ({})", findings.len()));
        // Rows interleave with notes, so align across all rows but print them one by one.
        let rows: Vec<Vec<Cell>> = findings
            .iter()
            .map(|f| finding_row(f, informational))
            .collect();
        let mut table = Table {
            out: String::new(),
            color: self.color,
        };
        table.rows(&rows);
        for (f, line) in findings.iter().zip(table.out.lines()) {
            self.line(line);
            if let Some(note) = &f.note {
                self.line(&format!("      note: {}", clean(note)));
            }
            if !f.disagreements.is_empty() {
                self.line(&format!(
                    "      note: sources disagree on the affected versions ({})",
                    plural(f.disagreements.len(), "record", "records")
                ));
            }
            if let Some(k) = &f.kev {
                self.line(&format!("      known exploited: {}", clean(&k.describe())));
            }
            for k in &f.kev_related {
                self.line(&format!(
                    "      related (not this finding's own id): {}",
                    clean(&k.describe())
                ));
            }
            if let Some(e) = &f.epss {
                self.line(&format!("      {}", clean(&e.describe())));
            }
        }
    }

    fn risks(&mut self, risks: &[RangeRisk]) {
        if risks.is_empty() {
            return;
        }
        self.title(&format!("Range risks ({})", risks.len()));
        for r in risks {
            let advice = match (&r.suggested, &r.note) {
                (Some(s), Some(n)) => format!("raise to {} ({})", clean(s), clean(n)),
                (Some(s), None) => format!("raise to {}", clean(s)),
                (None, Some(n)) => format!("no safe bound ({})", clean(n)),
                (None, None) => "no safe bound known".to_string(),
            };
            let sev = self.paint(r.severity.as_str(), severity_style(r.severity));
            self.line(&format!(
                "  {} {} admits {} ({sev}): {advice}  {}",
                clean(&r.package),
                clean(&r.requirement),
                plural(r.advisories.len(), "advisory", "advisories"),
                location_text(&r.location),
            ));
            let ids: Vec<String> = r
                .advisories
                .iter()
                .map(|a| {
                    let sev = self.paint(a.severity.as_str(), severity_style(a.severity));
                    format!("{sev}: {}", clean(&ids_compact(&a.id, &a.ids, MAX_ALIASES)))
                })
                .collect();
            self.line(&format!("      {}", ids.join("; ")));
        }
    }

    fn not_checked(&mut self, r: &Report) {
        if r.not_checked.is_empty() {
            return;
        }
        // The dependencies, not the entries: a summary entry stands for several.
        self.title(&format!("Not checked ({})", r.summary.not_checked));
        let (summaries, single): (Vec<_>, Vec<_>) =
            r.not_checked.iter().partition(|n| n.count.is_some());
        // One line per summary: `70 workspace crates: path dependencies, not checked  FILE`.
        for n in summaries {
            self.line(&format!(
                "  {} {}: {}  {}",
                n.count.unwrap_or_default(),
                clean(&n.name),
                clean(&n.reason),
                location_text(&n.location)
            ));
        }
        let rows: Vec<Vec<Cell>> = single
            .iter()
            .take(MAX_LISTED)
            .map(|n| {
                vec![
                    (clean(&n.name), None),
                    (location_text(&n.location), None),
                    (clean(&n.reason), None),
                ]
            })
            .collect();
        self.rows(&rows);
        self.more(single.len());
    }

    /// Dependencies the declared environments rule out: every one that would have had a
    /// finding, then the others up to the usual limit.
    fn not_applicable(&mut self, r: &Report) {
        let Some(first) = r.not_applicable.first() else {
            return;
        };
        self.title(&format!(
            "Not applicable here (markers) ({}): not counted, alerted or failed on",
            r.not_applicable.len()
        ));
        self.line(&format!(
            "  declared environments: {}",
            clean(&first.environments.join("; "))
        ));
        let (loud, quiet): (Vec<_>, Vec<_>) = r
            .not_applicable
            .iter()
            .partition(|n| !n.advisories.is_empty());
        let shown = loud.iter().chain(quiet.iter().take(MAX_LISTED));
        let rows: Vec<Vec<Cell>> = shown
            .map(|n| {
                let would = if n.advisories.is_empty() {
                    String::new()
                } else {
                    format!("would be: {}", clean(&n.advisories.join(", ")))
                };
                vec![
                    (clean(&n.name), None),
                    (clean(&n.requirement), None),
                    (location_text(&n.location), None),
                    (format!("markers: {}", clean(&n.markers)), None),
                    (would, None),
                ]
            })
            .collect();
        self.rows(&rows);
        self.more(quiet.len());
    }

    fn ignored(&mut self, r: &Report) {
        if r.ignored.is_empty() {
            return;
        }
        self.title(&format!("Ignored ({})", r.ignored.len()));
        let rows: Vec<Vec<Cell>> = r
            .ignored
            .iter()
            .take(MAX_LISTED)
            .map(|i| {
                let mut how = format!("ignored as {}", clean(&i.ignored_as));
                if let Some(u) = &i.until {
                    let _ = write!(how, " until {}", clean(u));
                }
                if let Some(o) = &i.origin {
                    let _ = write!(how, " (from {})", clean(o));
                }
                if let Some(j) = i.justification {
                    let _ = write!(how, ": not_affected, {}", j.as_str());
                }
                if let Some(reason) = &i.reason {
                    let _ = write!(how, ": {}", clean(reason));
                }
                vec![
                    (clean(&i.package.name), None),
                    (clean(&i.package.version), None),
                    (clean(&i.id), None),
                    (how, None),
                ]
            })
            .collect();
        self.rows(&rows);
        self.more(r.ignored.len());
    }

    fn load_errors(&mut self, r: &Report) {
        if r.load_errors.is_empty() {
            return;
        }
        self.title(&format!(
            "Load errors ({}): advisory records skipped",
            r.load_errors.len()
        ));
        for e in r.load_errors.iter().take(MAX_LISTED) {
            let id =
                e.id.as_deref()
                    .map(|i| format!(" ({})", clean(i)))
                    .unwrap_or_default();
            self.line(&format!(
                "  {}: {}{id}: {}",
                clean(&e.source),
                clean(&e.file),
                clean(&e.message)
            ));
        }
        self.more(r.load_errors.len());
    }

    fn manifest_problems(&mut self, r: &Report) {
        let errors: Vec<_> = r.manifests.iter().filter(|m| m.error.is_some()).collect();
        if !errors.is_empty() {
            self.title(&format!("Manifest errors ({})", errors.len()));
            for m in &errors {
                let e = clean(m.error.as_deref().unwrap_or_default());
                let path = clean(&m.path.to_string_lossy());
                // Parse errors usually name their file already.
                let line = if e.starts_with(&path) {
                    format!("  {e}")
                } else {
                    format!("  {path}: {e}")
                };
                let line = self.paint(&line, Some(RED));
                self.line(&line);
            }
        }
        // Manifest warnings name their file and line themselves.
        let warnings: Vec<&String> = r.manifests.iter().flat_map(|m| &m.warnings).collect();
        if !warnings.is_empty() {
            self.title(&format!("Manifest warnings ({})", warnings.len()));
            for w in warnings.iter().take(MAX_LISTED) {
                self.line(&format!("  {}", clean(w)));
            }
            self.more(warnings.len());
        }
    }

    fn more(&mut self, total: usize) {
        if total > MAX_LISTED {
            self.line(&format!("  ... and {} more", total - MAX_LISTED));
        }
    }

    fn summary(&mut self, r: &Report) {
        let s = &r.summary;
        let mut vulns = plural(s.findings, "vulnerability", "vulnerabilities");
        let by: Vec<String> = [
            "malicious",
            "dependency-confusion",
            "critical",
            "high",
            "medium",
            "low",
            "unknown",
        ]
        .iter()
        .filter_map(|l| {
            s.by_severity
                .get(*l)
                .filter(|n| **n > 0)
                .map(|n| format!("{n} {l}"))
        })
        .collect();
        if !by.is_empty() {
            let _ = write!(vulns, " ({})", by.join(", "));
        }
        let mut parts = vec![
            vulns,
            plural(s.warnings, "warning", "warnings"),
            plural(s.risks, "range risk", "range risks"),
            format!("{} not checked", s.not_checked),
        ];
        if s.not_applicable > 0 {
            parts.push(format!("{} not applicable here", s.not_applicable));
        }
        if !r.ignored.is_empty() {
            parts.push(format!("{} ignored", r.ignored.len()));
        }
        if !r.load_errors.is_empty() {
            parts.push(plural(r.load_errors.len(), "load error", "load errors"));
        }
        if s.manifest_errors > 0 {
            parts.push(plural(
                s.manifest_errors,
                "manifest error",
                "manifest errors",
            ));
        }
        let text = format!(
            "Summary: {} in {}",
            parts.join(", "),
            plural(s.dependencies, "dependency", "dependencies")
        );
        let style = match s.max_severity {
            _ if s.malicious > 0 => severity_style(Level::Critical),
            Some(l) => severity_style(l).or(Some(BOLD)),
            None => Some(BOLD),
        };
        let text = self.paint(&text, style);
        self.line(&text);
    }
}

fn severity_style(level: Level) -> Option<&'static str> {
    match level {
        Level::Critical => Some(BOLD_RED),
        Level::High => Some(RED),
        Level::Medium => Some(YELLOW),
        Level::Low | Level::Unknown => None,
    }
}

/// package, version, ids, severity (kind for warnings), fix, location, context.
fn finding_row(f: &Finding, informational: bool) -> Vec<Cell> {
    let severity = if informational {
        let text = if f.severity == Level::Unknown {
            f.kind.as_str().to_string()
        } else {
            format!("{} ({})", f.kind.as_str(), f.severity)
        };
        (text, severity_style(f.severity))
    } else {
        let mut text = f.severity.as_str().to_string();
        if let Some(score) = f.cvss_score {
            let _ = write!(text, " ({score:.1})");
        }
        if f.kind == AdvisoryKind::Malware {
            // The record has no score: the marker, not "unknown".
            text = f.severity_text().to_string();
            (text, Some(BOLD_RED))
        } else if f.kev.is_some() {
            // The marker: known exploited, whatever the severity.
            (format!("KEV, {text}"), Some(BOLD_RED))
        } else {
            (text, severity_style(f.severity))
        }
    };
    vec![
        (clean(&f.package.name), None),
        (clean(&f.package.version), None),
        (clean(&ids_compact(&f.id, &f.ids, MAX_ALIASES)), None),
        severity,
        (clean(&fix_text(&f.fix)), None),
        (location_text(&f.location), None),
        (clean(&context_parts(f).join(", ")), None),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::test_support::sample_report;
    use super::*;

    #[test]
    fn plain_table_has_the_key_facts_and_no_escapes() {
        let out = render(&sample_report(), false);
        assert!(!out.contains('\x1b'), "{out}");
        for needle in [
            "flask",
            "2.2.2",
            "PYSEC-2023-62 (CVE-2023-30861, GHSA-m2qf-hxjv-5gpq)",
            "high (7.5)",
            "upgrade to 2.3.2",
            "./app/poetry.lock:42",
            "via myapp -> flask-login",
            "no fixed version",
            "scope dev",
            "note: the ignore of CVE-2023-0286 expired",
            "Warnings (1)",
            "unmaintained",
            "direct, member cli",
            "streamlit >=1.39.0 admits 3 advisories (high): raise to >=1.43.0  requirements.txt:5",
            "flask >=2.0 admits 2 advisories (high): no safe bound (no version above",
            "high: PYSEC-2023-62 (CVE-2023-30861, GHSA-m2qf-hxjv-5gpq); low: PYSEC-2099-1",
            "Not checked (1)",
            "mylib",
            "git dependency",
            "Ignored (1)",
            "ignored as CVE-2022-42969 until 2030-01-01",
            "Load errors (1)",
            "PYSEC-2020-1.json (PYSEC-2020-1): missing field",
            "Manifest errors (1)",
            "\n  broken/pyproject.toml: TOML parse error at line 4\n",
            "Manifest warnings (1)\n  app/poetry.lock:3: unknown source type\n",
            "Summary: 2 vulnerabilities (1 critical, 1 high), 1 warning, 2 range risks, 1 not checked",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in\n{out}");
        }
        for line in out.lines() {
            assert_eq!(line, line.trim_end(), "trailing whitespace in {line:?}");
        }
    }

    #[test]
    fn finding_lines_are_one_per_finding_and_aligned() {
        let out = render(&sample_report(), false);
        let flask = out.lines().find(|l| l.contains("PYSEC-2023-62 (")).unwrap();
        let crypto = out.lines().find(|l| l.contains("cryptography")).unwrap();
        assert!(flask.contains("upgrade to 2.3.2") && flask.contains("./app/poetry.lock:42"));
        assert_eq!(
            flask.find("2.2.2"),
            crypto.find("38.0.4"),
            "version column not aligned"
        );
    }

    #[test]
    fn color_only_when_asked() {
        let out = render(&sample_report(), true);
        assert!(out.contains(&format!("{BOLD_RED}critical{RESET}")), "{out}");
        assert!(out.contains(&format!("{RED}high (7.5){RESET}")), "{out}");
        assert!(out.contains(&format!("{YELLOW}medium{RESET}")), "{out}");
        // Colour does not change the layout: stripping escapes gives the plain table.
        let stripped = strip_ansi(&out);
        assert_eq!(stripped, render(&sample_report(), false));
    }

    #[test]
    fn escapes_in_data_are_neutralised() {
        let mut r = sample_report();
        r.findings[0].package.name = "evil\x1b[2J".into();
        r.findings[0].note = Some("line\nbreak".into());
        let out = render(&r, false);
        assert!(!out.contains('\x1b'));
        assert!(out.contains("note: line break"));
    }

    #[test]
    fn empty_report_says_so() {
        let mut r = sample_report();
        r.findings.clear();
        r.warnings.clear();
        r.risks.clear();
        let out = render(&r, false);
        assert!(out.contains("No known vulnerabilities"), "{out}");
        assert!(!out.contains("Warnings ("));
        assert!(!out.contains("Range risks ("));
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
