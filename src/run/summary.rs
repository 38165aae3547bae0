//! The run's summaries: text for people, markdown for `$GITHUB_STEP_SUMMARY`.

use super::RunReport;
use crate::health::{self};
use crate::severity::Level;
use std::path::Path;

/// The run's summary for people (stdout of `depwatch run`).
pub fn summary_text(r: &RunReport, out_dir: &Path) -> String {
    use std::fmt::Write;
    // Details and errors may quote feeds, servers and checkouts: cleaned for the terminal.
    let clean = |t: &str| crate::text::clean(t, false);
    let mut s = String::new();
    let _ = writeln!(s, "depwatch run at {}", r.at);
    for l in &r.sync {
        let _ = writeln!(s, "  sync {}: {}", l.source, clean(&l.detail));
    }
    for p in &r.projects {
        let events = if p.events.is_empty() {
            "nothing new".to_string()
        } else {
            let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
            for e in &p.events {
                *counts.entry(e.as_str()).or_default() += 1;
            }
            counts
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let state = match &p.error {
            Some(e) => format!("FAILED: {}", clean(e)),
            None => format!(
                "{} open{}, {events}, {} message(s) queued{}{}",
                p.open,
                match (p.malicious, p.max_severity) {
                    (0, Some(l)) => format!(" (highest {})", l.as_str()),
                    (0, None) => String::new(),
                    (n, _) => format!(" ({n} malicious)"),
                },
                p.queued,
                if p.held > 0 {
                    format!(", {} event(s) held for the digest", p.held)
                } else {
                    String::new()
                },
                if p.digest_queued > 0 {
                    format!(", digest queued ({} message(s))", p.digest_queued)
                } else {
                    String::new()
                }
            ),
        };
        let _ = writeln!(s, "  project {}: {state}", p.name);
        for n in &p.notices {
            let _ = writeln!(s, "    note: {}", clean(n));
        }
    }
    let skipped = r.projects.iter().filter(|p| p.skipped).count();
    if skipped > 0 {
        let _ = writeln!(
            s,
            "  incremental: {skipped} of {} project(s) unchanged, not rescanned (run --full rescans all)",
            r.projects.len()
        );
    }
    let d = &r.delivery;
    let _ = writeln!(
        s,
        "  delivery: {} sent, {} failed (retried next run), {} given up",
        d.sent, d.failed, d.given_up
    );
    if let Some(line) = health::summary_line(&r.health) {
        let _ = writeln!(s, "  health: {line}");
    }
    if let Some(e) = &r.health_error {
        let _ = writeln!(s, "  health: FAILED: {e}");
    }
    let _ = writeln!(s, "  drafts and notes in {}", out_dir.display());
    s
}

/// The run's summary as markdown, for `$GITHUB_STEP_SUMMARY`.
pub fn summary_markdown(r: &RunReport, fail_on: Level, scope: crate::scan::FailScope) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "## depwatch\n");
    let _ = writeln!(s, "| project | open | highest | events | status |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for p in &r.projects {
        let status = match &p.error {
            Some(e) => format!(
                "failed: {}",
                crate::text::clean(e, false).replace('|', "\\|")
            ),
            None if p.fails(fail_on, scope) => "findings".into(),
            None => "ok".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            p.name,
            p.open,
            if p.malicious > 0 {
                crate::report::MALICIOUS
            } else {
                p.max_severity.map(|l| l.as_str()).unwrap_or("-")
            },
            if p.events.is_empty() {
                "-".to_string()
            } else {
                p.events.join(", ")
            },
            status
        );
    }
    let _ = writeln!(
        s,
        "\nDelivery: {} sent, {} failed, {} given up. Fails on: {}.",
        r.delivery.sent,
        r.delivery.failed,
        r.delivery.given_up,
        fail_on.as_str()
    );
    let held: usize = r.projects.iter().map(|p| p.held).sum();
    let digests: usize = r.projects.iter().map(|p| p.digest_queued).sum();
    if held + digests > 0 {
        let _ = writeln!(
            s,
            "\nDigest: {held} event(s) held for the next digest, {digests} digest message(s) queued."
        );
    }
    if let Some(line) = health::summary_line(&r.health) {
        let _ = writeln!(s, "\nHealth: {line}.");
    }
    s
}
