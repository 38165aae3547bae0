//! `depwatch policy show` on the five real SECURITY.md files in ../shared/policies, checked
//! against the files by hand: each figure's comment quotes the line it comes from.

use crate::support::{depwatch, shared};

/// Run `depwatch policy show NAME --file <shared>/policies/NAME.SECURITY.md`; its stdout.
fn show(name: &str) -> String {
    let file = shared().join(format!("policies/{name}.SECURITY.md"));
    let file = file.to_str().unwrap();
    let out = depwatch(&["policy", "show", name, "--file", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The value and origin of the row `name:` ("48 hours", "SECURITY.md line 37").
fn rows<'a>(out: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
    let prefix = format!("{name}:");
    out.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            let (value, origin) = rest.rsplit_once(" (").unwrap();
            (value.trim(), origin.trim_end_matches(')'))
        })
        .collect()
}

fn row<'a>(out: &'a str, name: &str) -> (&'a str, &'a str) {
    let found = rows(out, name);
    assert_eq!(found.len(), 1, "one `{name}` row in:\n{out}");
    found[0]
}

#[test]
fn emby_watchparty() {
    let out = show("emby-watchparty");
    assert!(out.starts_with("policy of emby-watchparty (from "), "{out}");
    // L37 "- **Initial Response**: Within 48 hours"
    assert_eq!(row(&out, "response"), ("48 hours", "SECURITY.md line 37"));
    // L38 "- **Status Update**: Within 7 days"
    assert_eq!(row(&out, "update"), ("7 days", "SECURITY.md line 38"));
    // L39 "- **Resolution Target**: Depends on severity (critical issues prioritized)": no figure,
    // so every fix time is the default.
    assert_eq!(row(&out, "fix (critical)"), ("7 days", "default"));
    assert_eq!(row(&out, "fix (high)"), ("30 days", "default"));
    assert_eq!(row(&out, "fix (medium)"), ("90 days", "default"));
    assert_eq!(row(&out, "fix (low)"), ("180 days", "default"));
    // No disclosure rule anywhere (L190 only names where disclosures appear).
    assert_eq!(
        row(&out, "disclose"),
        ("after the fix is released", "default")
    );
    assert_eq!(
        row(&out, "disclose at most"),
        ("90 days after first seen, not before the fix", "default")
    );
    // L7 "| 1.4.x   | :white_check_mark: |", L8 "| < 1.4   | :x:                |"
    assert_eq!(row(&out, "supported"), ("1.4.x", "SECURITY.md line 7"));
    assert_eq!(row(&out, "not supported"), ("< 1.4", "SECURITY.md line 8"));
    // L22 "1. **GitHub Security Advisories** (preferred): Use the "Report a vulnerability" button ..."
    // (L23 "Contact the maintainers directly through GitHub" names no channel.)
    let channels = rows(&out, "channel");
    assert_eq!(channels.len(), 1, "{out}");
    assert!(
        channels[0]
            .0
            .starts_with("github advisory: GitHub Security Advisories (preferred)")
    );
    assert_eq!(channels[0].1, "SECURITY.md line 22");
    // The nginx / env blocks in fences (L49-69, L108-121: "# 24 hours in seconds") are skipped.
    assert!(!out.contains("24 hours"), "{out}");
}

#[test]
fn helpr() {
    let out = show("helpr");
    // L34 "- **Initial Response**: Within 48 hours"
    assert_eq!(row(&out, "response"), ("48 hours", "SECURITY.md line 34"));
    // L35 "- **Status Update**: Within 7 days"
    assert_eq!(row(&out, "update"), ("7 days", "SECURITY.md line 35"));
    // L36 "- **Fix Timeline**: Depends on severity", then nested bullets; a range counts as its
    // upper bound (the promise).
    // L37 "  - Critical: 1-7 days"
    assert_eq!(
        row(&out, "fix (critical)"),
        ("7 days", "SECURITY.md line 37")
    );
    // L38 "  - High: 7-30 days"
    assert_eq!(row(&out, "fix (high)"), ("30 days", "SECURITY.md line 38"));
    // L39 "  - Medium: 30-90 days"
    assert_eq!(
        row(&out, "fix (medium)"),
        ("90 days", "SECURITY.md line 39")
    );
    // L40 "  - Low: Best effort"
    assert_eq!(
        row(&out, "fix (low)"),
        ("best effort", "SECURITY.md line 40")
    );
    // L46 "- We will publish a security advisory once the fix is released" (under "### Disclosure
    // Policy"); L44 "reasonable time ... before public disclosure" has no figure.
    assert_eq!(
        row(&out, "disclose"),
        ("after the fix is released", "SECURITY.md line 46")
    );
    // No maximum in the file, and the file ties disclosure to the fix: no maximum at all.
    assert_eq!(
        row(&out, "disclose at most"),
        ("none: never before the fix", "-")
    );
    // L9 "| 1.x     | :white_check_mark: |", L10 "| < 1.0   | :x:                |"
    assert_eq!(row(&out, "supported"), ("1.x", "SECURITY.md line 9"));
    assert_eq!(row(&out, "not supported"), ("< 1.0", "SECURITY.md line 10"));
    // L20 "1. **Email**: Send details to the repository maintainer" has no address: not a channel.
    // L21 "2. **GitHub Security Advisories**: Use GitHub's "Security" tab â†’ "Report a
    // vulnerability"" (mojibake arrow, repaired to →).
    let channels = rows(&out, "channel");
    assert_eq!(channels.len(), 1, "{out}");
    assert_eq!(
        channels[0].0,
        "github advisory: GitHub Security Advisories: Use GitHub's \"Security\" tab → \"Report a vulnerability\""
    );
    assert_eq!(channels[0].1, "SECURITY.md line 21");
}

#[test]
fn jellyfin_ai_recommender() {
    let out = show("jellyfin-ai-recommender");
    // L29 "- **Initial Response:** Within 48 hours"
    assert_eq!(row(&out, "response"), ("48 hours", "SECURITY.md line 29"));
    // L30 "- **Assessment:** Within 1 week": an assessment, not a status update.
    assert_eq!(row(&out, "assessment"), ("1 week", "SECURITY.md line 30"));
    assert_eq!(row(&out, "update"), ("7 days", "default"));
    // L31 "- **Fix/Patch:** Depends on severity (critical: days, high: 1-2 weeks, medium: 1 month,
    // low: next release)". "critical: days" has no number: the default figure, citing the line.
    assert_eq!(
        row(&out, "fix (critical)"),
        ("7 days", "default; SECURITY.md line 31 gives no figure")
    );
    assert_eq!(row(&out, "fix (high)"), ("2 weeks", "SECURITY.md line 31"));
    assert_eq!(
        row(&out, "fix (medium)"),
        ("1 month", "SECURITY.md line 31")
    );
    assert_eq!(
        row(&out, "fix (low)"),
        ("next release", "SECURITY.md line 31")
    );
    // L32 "- **Public Disclosure:** After fix is released or 90 days from report, whichever comes
    // first". (L97 "Once a vulnerability is fixed:" repeats the after-fix rule; the first wins.)
    assert_eq!(
        row(&out, "disclose"),
        ("after the fix is released", "SECURITY.md line 32")
    );
    assert_eq!(
        row(&out, "disclose at most"),
        ("90 days after first seen", "SECURITY.md line 32")
    );
    // No supported-versions table: L36 "### Current Version: v0.2.5-alpha" is the supported one.
    assert_eq!(
        row(&out, "supported"),
        ("v0.2.5-alpha", "SECURITY.md line 36")
    );
    // L10 "- ðŸ“§ [Create a private security advisory on GitHub](https://github.com/jessepesse/
    // jellyfin-ai-recommender/security/advisories)". L108's repository link is under "Security
    // Updates", not a reporting section, and L13/L14 name no address.
    let channels = rows(&out, "channel");
    assert_eq!(
        channels,
        vec![(
            "url: https://github.com/jessepesse/jellyfin-ai-recommender/security/advisories",
            "SECURITY.md line 10"
        )]
    );
}

#[test]
fn moviemind_api() {
    let out = show("moviemind-api");
    // L29 "- **Initial response**: Within 24 hours" (L146 "- **Response Time**: 24 hours" repeats it;
    // the first wins).
    assert_eq!(row(&out, "response"), ("24 hours", "SECURITY.md line 29"));
    // L30 "- **Status update**: Within 72 hours"
    assert_eq!(row(&out, "update"), ("72 hours", "SECURITY.md line 30"));
    // L31 "- **Resolution**: Within 30 days (depending on complexity)": names no severity, so it
    // is the fix time of all of them but critical: L125 "- **Critical Vulnerabilities**:
    // Immediate patches" is the critical rule.
    assert_eq!(
        row(&out, "fix (critical)"),
        ("immediately", "SECURITY.md line 125")
    );
    for severity in ["high", "medium", "low"] {
        assert_eq!(
            row(&out, &format!("fix ({severity})")),
            ("30 days", "SECURITY.md line 31")
        );
    }
    // No disclosure rule in the file (L155 only mentions "responsible disclosure").
    assert_eq!(
        row(&out, "disclose"),
        ("after the fix is released", "default")
    );
    assert_eq!(
        row(&out, "disclose at most"),
        ("90 days after first seen, not before the fix", "default")
    );
    // L9 "| 1.x.x  | :white_check_mark: |", L10 "| < 1.0   | :x:                |"
    assert_eq!(row(&out, "supported"), ("1.x.x", "SECURITY.md line 9"));
    assert_eq!(row(&out, "not supported"), ("< 1.0", "SECURITY.md line 10"));
    // L20 "Send an email to: **security@moviemind.com**" (L145 repeats it). L150/L151 GitHub
    // Issues / Discussions links are public, not channels.
    assert_eq!(
        rows(&out, "channel"),
        vec![("email: security@moviemind.com", "SECURITY.md line 20")]
    );
}

#[test]
fn plexcollect() {
    let out = show("plexcollect");
    // L41 "- **Initial Response**: Within 48 hours" (heading L39 "### â±ï¸ Response Timeline" has
    // a mis-decoded emoji whose bytes were lost; still read).
    assert_eq!(row(&out, "response"), ("48 hours", "SECURITY.md line 41"));
    // L42 "- **Assessment Complete**: Within 1 week": an assessment deadline; no status update
    // is promised, so that one is the default.
    assert_eq!(row(&out, "assessment"), ("1 week", "SECURITY.md line 42"));
    assert_eq!(row(&out, "update"), ("7 days", "default"));
    // L43 "- **Fix Available**: Within 2 weeks (critical issues)": critical only.
    assert_eq!(
        row(&out, "fix (critical)"),
        ("2 weeks", "SECURITY.md line 43")
    );
    // L208 "- **Response Time**: Within 48 hours for critical issues" is a response time, NOT a
    // fix time: the other severities stay at their defaults.
    assert_eq!(row(&out, "fix (high)"), ("30 days", "default"));
    assert_eq!(row(&out, "fix (medium)"), ("90 days", "default"));
    assert_eq!(row(&out, "fix (low)"), ("180 days", "default"));
    assert!(!out.contains("line 208"), "{out}");
    // L44 "- **Public Disclosure**: After fix is released and users have time to update": after
    // the fix (the line's) plus depwatch's default 7-day wait (not the line's), no maximum.
    assert_eq!(
        row(&out, "disclose"),
        ("after the fix is released", "SECURITY.md line 44")
    );
    assert_eq!(
        row(&out, "disclose wait"),
        (
            "7 days after the fix",
            "default; SECURITY.md line 44 gives no figure"
        )
    );
    assert_eq!(
        row(&out, "disclose at most"),
        ("none: never before the fix", "-")
    );
    // L9 "| 1.0.x   | :white_check_mark: |", L10 "| < 1.0   | :x:                |"; the risk table
    // at L135-141 is not a versions table.
    assert_eq!(row(&out, "supported"), ("1.0.x", "SECURITY.md line 9"));
    assert_eq!(row(&out, "not supported"), ("< 1.0", "SECURITY.md line 10"));
    // L22 "Email us directly at [security-email-placeholder]" has no address: not a channel.
    // L23 "2. **Use the GitHub Security Advisory feature** to report privately" (L206 repeats it);
    // the L212-215 resource links are not channels.
    assert_eq!(
        rows(&out, "channel"),
        vec![(
            "github advisory: Use the GitHub Security Advisory feature to report privately",
            "SECURITY.md line 23"
        )]
    );
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let out = depwatch(&["policy", "show", "x", "--file", "/nonexistent/SECURITY.md"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/SECURITY.md"), "{err}");
}
