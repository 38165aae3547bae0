//! Issue 14 section 4: informational warnings (unmaintained, unsound) and range risks as
//! digest events, through the real binary, delivered to a loopback Slack receiver.
//!
//! Projects: `uv` (the corpus's uv `Cargo.lock`: three RustSec vulnerabilities, and the
//! warnings RUSTSEC-2026-0173 proc-macro-error2 unmaintained, RUSTSEC-2026-0221 event-listener
//! unsound, ...) and `ha` (the corpus's home-assistant `requirements.txt`: pinned
//! vulnerabilities, and the range risk `certifi>=2021.5.30`, whose suggested bound is
//! `>=2023.7.22`). The digest runs on Mondays 09:00 UTC; 2026-12-01 is a Tuesday, 2026-12-07 the
//! next Monday.

use crate::support::config::{Monitor, slack_section};
use crate::support::loopback::{slack_header, slack_receiver};
use crate::support::{manifest, shared_path};
use serde_json::Value;
use std::process::Output;

const HOOK: &str = "/services/T0000/B0000/WaRnInGs";

fn monitor(hook: String, digest: bool, extra_project: Option<&str>) -> Monitor {
    Monitor::new(hook, |d| {
        let extra = extra_project.map_or_else(String::new, |body| {
            std::fs::create_dir_all(d.join("own")).unwrap();
            std::fs::write(d.join("own/requirements.txt"), body).unwrap();
            format!(
                "[[project]]\nname = \"own\"\npath = \"{}\"\n",
                d.join("own/requirements.txt").display()
            )
        });
        format!(
            "sources = [\"rustsec-dir:{}\", \"osv-dir:{}\"]\n\n\
             [[project]]\nname = \"uv\"\npath = \"{}\"\n\n\
             [[project]]\nname = \"ha\"\npath = \"{}\"\n\n{extra}\n\
             [notify]\n{}\n\n{}",
            shared_path("corpus/advisories/rustsec"),
            shared_path("corpus/advisories/pypa/vulns"),
            manifest("uv/Cargo.lock").display(),
            manifest("home-assistant/requirements.txt").display(),
            if digest { "digest = \"0 9 * * 1\"" } else { "" },
            slack_section()
        )
    })
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn by_header(bodies: &[Value], header: &str) -> Vec<String> {
    bodies
        .iter()
        .filter(|b| slack_header(b).starts_with(header))
        .map(Value::to_string)
        .collect()
}

/// What must never be in an urgent (non-digest) message: the warnings and the range risk.
/// (Slack bodies escape `>` as `&gt;`.)
fn assert_no_warning_or_risk(urgent: &[String]) {
    for body in urgent {
        for quiet in [
            "RUSTSEC-2026-0173",
            "RUSTSEC-2026-0221",
            "unmaintained",
            "Range risk",
            "2021.5.30",
        ] {
            assert!(
                !body.contains(quiet),
                "{quiet} in an urgent message: {body}"
            );
        }
    }
}

#[test]
fn warnings_and_range_risks_wait_for_the_digest_and_say_what_they_are() {
    let (slack, accepted) = slack_receiver(HOOK, 0);
    let m = monitor(format!("{}{HOOK}", slack.url), true, None);
    let out = ok(m.run("2026-12-01T10:00:00Z"));
    // Open counts are the vulnerabilities only: the 5 warnings of uv are not open findings.
    assert!(out.contains("project uv: 3 open"), "{out}");
    let bodies = accepted.lock().unwrap().clone();
    let urgent: Vec<String> = bodies.iter().map(Value::to_string).collect();
    assert!(
        by_header(&bodies, "ha: ").len() == 1 && by_header(&bodies, "uv: ").len() == 1,
        "the vulnerabilities still go at once: {urgent:?}"
    );
    assert_no_warning_or_risk(&urgent);
    // No draft for a warning: drafts are for open vulnerabilities.
    let drafts: Vec<String> = std::fs::read_dir(m.out.join("uv/advisories"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!drafts.is_empty());
    assert!(
        drafts.iter().all(|d| !d.contains("RUSTSEC-2026-0173")),
        "{drafts:?}"
    );

    // `status` counts open vulnerabilities only, and says what waits for the digest.
    let o = m
        .command()
        .args(["status", "--config"])
        .arg(&m.config)
        .env("DEPWATCH_NOW", "2026-12-02T10:00:00Z")
        .output()
        .unwrap();
    let st = ok(o);
    assert!(st.contains("digest: uv: 5 event(s) held"), "{st}");
    assert!(!st.contains("RUSTSEC-2026-0173"), "{st}");

    // Monday: one digest per project, every item saying what it is.
    let out = ok(m.run("2026-12-07T09:05:00Z"));
    assert!(out.contains("digest queued"), "{out}");
    let bodies = accepted.lock().unwrap().clone();
    let uv = by_header(&bodies, "uv: digest,");
    assert_eq!(uv.len(), 1, "{bodies:?}");
    let uv = &uv[0];
    assert!(uv.contains("uv: digest, 5 events"), "{uv}");
    assert!(
        uv.contains("New unmaintained warning: proc-macro-error2 is unmaintained"),
        "{uv}"
    );
    assert!(
        uv.contains("informational advisory (unmaintained)")
            && uv.contains("informational advisory (unsound)")
            && uv.contains("RUSTSEC-2026-0221"),
        "{uv}"
    );
    let ha = by_header(&bodies, "ha: digest,");
    assert_eq!(ha.len(), 1, "{bodies:?}");
    let ha = &ha[0];
    assert!(
        ha.contains(
            "Range risk: certifi &gt;=2021.5.30 allows affected versions (PYSEC-2022-42986"
        ),
        "{ha}"
    );
    assert!(
        ha.contains("depwatch suggests the bound &gt;=2023.7.22")
            && ha.contains("range risk (not a vulnerable version in use)"),
        "{ha}"
    );
    // Held once: the next run (same Monday) sends nothing more.
    let before = accepted.lock().unwrap().len();
    ok(m.run("2026-12-07T12:00:00Z"));
    assert_eq!(accepted.lock().unwrap().len(), before);
}

/// A requirement narrowed past every affected version: its range risk is resolved, in the
/// next digest, never at once.
#[test]
fn a_narrowed_requirement_is_resolved_in_the_digest() {
    let (slack, accepted) = slack_receiver(HOOK, 0);
    let m = monitor(
        format!("{}{HOOK}", slack.url),
        true,
        Some("certifi>=2021.5.30\n"),
    );
    ok(m.run("2026-12-01T10:00:00Z"));
    ok(m.run("2026-12-07T09:05:00Z"));
    let bodies = accepted.lock().unwrap().clone();
    let own = by_header(&bodies, "own: digest,");
    assert_eq!(own.len(), 1, "{bodies:?}");
    assert!(
        own[0].contains("Range risk: certifi &gt;=2021.5.30"),
        "{}",
        own[0]
    );
    // No urgent message for this project: it has nothing but the range risk.
    assert!(by_header(&bodies, "own: ").len() == 1, "{bodies:?}");

    std::fs::write(
        m.dir.path().join("own/requirements.txt"),
        "certifi>=2023.7.22\n",
    )
    .unwrap();
    let out = ok(m.run("2026-12-08T10:00:00Z"));
    assert!(out.contains("project own: 0 open"), "{out}");
    assert_eq!(
        by_header(&accepted.lock().unwrap(), "own: ").len(),
        1,
        "resolved is not sent at once"
    );
    ok(m.run("2026-12-14T09:05:00Z"));
    let bodies = accepted.lock().unwrap().clone();
    let own = by_header(&bodies, "own: digest,");
    assert_eq!(own.len(), 2, "{bodies:?}");
    assert!(
        own[1].contains("Resolved: requirement &gt;=2021.5.30 of certifi no longer allows"),
        "{}",
        own[1]
    );
}

/// Without `[notify] digest` warnings and range risks are not alerted at all (reports show
/// them): the default stays quiet.
#[test]
fn without_a_digest_warnings_and_range_risks_are_not_alerted() {
    let (slack, accepted) = slack_receiver(HOOK, 0);
    let m = monitor(format!("{}{HOOK}", slack.url), false, None);
    let out = ok(m.run("2026-12-01T10:00:00Z"));
    assert!(out.contains("project uv: 3 open"), "{out}");
    assert!(!out.contains("held for the digest"), "{out}");
    let bodies = accepted.lock().unwrap().clone();
    assert_eq!(
        bodies.len(),
        2,
        "one urgent message per project: {bodies:?}"
    );
    let urgent: Vec<String> = bodies.iter().map(Value::to_string).collect();
    assert_no_warning_or_risk(&urgent);
    // The next week: still nothing about them.
    ok(m.run("2026-12-08T10:00:00Z"));
    assert_eq!(accepted.lock().unwrap().len(), 2);
    // The report still shows them.
    let o = m
        .command()
        .args(["scan", "--format", "json"])
        .arg(manifest("uv/Cargo.lock"))
        .output()
        .unwrap();
    let report: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == "RUSTSEC-2026-0173"),
        "{report:#}"
    );
}

/// A project whose only news is a warning and a range risk: `run --ci` passes (fail-on any),
/// nothing is open, no draft is written, and with a digest both wait in it.
#[test]
fn warnings_and_range_risks_fail_no_ci_run_and_write_no_draft() {
    let (slack, accepted) = slack_receiver(HOOK, 0);
    let m = Monitor::new(format!("{}{HOOK}", slack.url), |d| {
        std::fs::create_dir_all(d.join("app")).unwrap();
        std::fs::write(d.join("app/requirements.txt"), "certifi>=2021.5.30\n").unwrap();
        // proc-macro-error2 2.0.1: RUSTSEC-2026-0173, unmaintained (from the RustSec snapshot).
        std::fs::write(
            d.join("app/Cargo.lock"),
            "version = 3\n\n[[package]]\nname = \"proc-macro-error2\"\nversion = \"2.0.1\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        )
        .unwrap();
        format!(
            "sources = [\"rustsec-dir:{}\", \"osv-dir:{}\"]\nfail-on = \"low\"\n\n\
             [[project]]\nname = \"app\"\npath = \"{}\"\n\n\
             [notify]\ndigest = \"0 9 * * 1\"\n\n{}",
            shared_path("corpus/advisories/rustsec"),
            shared_path("corpus/advisories/pypa/vulns"),
            d.join("app").display(),
            slack_section()
        )
    });
    let out = ok(m
        .run_command("2026-12-01T10:00:00Z")
        .arg("--ci")
        .output()
        .unwrap());
    assert!(out.contains("project app: 0 open"), "{out}");
    assert!(out.contains("2 event(s) held for the digest"), "{out}");
    assert!(accepted.lock().unwrap().is_empty());
    assert!(
        !m.out.join("app/advisories").exists() || {
            std::fs::read_dir(m.out.join("app/advisories"))
                .unwrap()
                .next()
                .is_none()
        }
    );
    ok(m.run("2026-12-07T09:00:00Z"));
    let bodies = accepted.lock().unwrap().clone();
    let d = by_header(&bodies, "app: digest, 2 events");
    assert_eq!(d.len(), 1, "{bodies:?}");
    assert!(
        d[0].contains("New unmaintained warning") && d[0].contains("Range risk: certifi"),
        "{}",
        d[0]
    );
}
