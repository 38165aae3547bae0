//! Issue 11, items 8-11: policy figures cite only what a SECURITY.md line states, disclosure
//! never precedes the fix under an "after the fix" rule, deadlines are shown in the configured
//! zone, and `policy show --format json` gives the figures with their origins. Run on the five
//! real policies in ../shared/policies.

use crate::support::{depwatch, shared};
use depwatch::policy::{Origin, Policy};
use depwatch::severity::Level;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const POLICIES: [&str; 5] = [
    "emby-watchparty",
    "helpr",
    "jellyfin-ai-recommender",
    "moviemind-api",
    "plexcollect",
];

fn policy_file(name: &str) -> PathBuf {
    shared().join(format!("policies/{name}.SECURITY.md"))
}

/// `depwatch policy show NAME --file … --format json`, parsed.
fn show_json(name: &str) -> Value {
    let file = policy_file(name);
    let out = depwatch(&[
        "policy",
        "show",
        name,
        "--file",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Line `n` (1-based) of a file, bytes that are not UTF-8 replaced.
fn line_of(file: &Path, n: u64) -> String {
    let bytes = std::fs::read(file).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    text.lines().nth(n as usize - 1).unwrap().to_lowercase()
}

/// Every figure of a `policy show --format json` object, with its name.
fn figures(v: &Value) -> Vec<(String, &Value)> {
    let mut out = vec![
        ("response".to_string(), &v["response"]),
        ("status_update".to_string(), &v["status_update"]),
        (
            "disclosure.wait_after_fix".to_string(),
            &v["disclosure"]["wait_after_fix"],
        ),
    ];
    if !v["assessment"].is_null() {
        out.push(("assessment".into(), &v["assessment"]));
    }
    if !v["disclosure"]["at_most"].is_null() {
        out.push(("disclosure.at_most".into(), &v["disclosure"]["at_most"]));
    }
    for s in ["critical", "high", "medium", "low"] {
        out.push((format!("fix.{s}"), &v["fix"][s]));
    }
    out
}

#[test]
fn a_figure_cited_to_a_line_is_written_on_that_line() {
    for name in POLICIES {
        let v = show_json(name);
        let file = policy_file(name);
        for (what, f) in figures(&v) {
            let origin = &f["origin"];
            if origin["kind"] != "security_md" {
                continue;
            }
            assert_eq!(origin["file"], file.display().to_string(), "{name} {what}");
            let line = line_of(&file, origin["line"].as_u64().unwrap());
            let ok = match f["rule"].as_str() {
                Some("immediate") => line.contains("immediate"),
                Some("best_effort") => line.contains("best effort"),
                Some("next_release") => line.contains("next release"),
                // A zero wait is "when the fix is released": no figure to find.
                _ if f["amount"] == 0 => true,
                _ => line.contains(&f["amount"].to_string()),
            };
            assert!(ok, "{name} {what} = {f} is not on its line: {line:?}");
        }
    }
}

#[test]
fn depwatch_supplied_figures_are_labelled_defaults_citing_the_rule_line() {
    // plexcollect L44 "- **Public Disclosure**: After fix is released and users have time to
    // update": "after the fix" is the line's, the 7 days are depwatch's.
    let plex = show_json("plexcollect");
    let d = &plex["disclosure"];
    assert_eq!(d["after_fix"]["kind"], "security_md");
    assert_eq!(d["after_fix"]["line"], 44);
    assert_eq!(d["wait_after_fix"]["text"], "7 days");
    assert_eq!(d["wait_after_fix"]["origin"]["kind"], "default");
    assert_eq!(d["wait_after_fix"]["origin"]["line"], 44);
    // L42 "- **Assessment Complete**: Within 1 week": the assessment, not a status update.
    assert_eq!(plex["assessment"]["text"], "1 week");
    assert_eq!(plex["assessment"]["origin"]["line"], 42);
    assert_eq!(plex["status_update"]["origin"]["kind"], "default");

    // jellyfin L31 "(critical: days, high: 1-2 weeks, ...)": no number for critical.
    let jelly = show_json("jellyfin-ai-recommender");
    let crit = &jelly["fix"]["critical"];
    assert_eq!(crit["text"], "7 days");
    assert_eq!(crit["origin"]["kind"], "default");
    assert_eq!(crit["origin"]["line"], 31);
    assert_eq!(jelly["assessment"]["origin"]["line"], 30);
    // L36 "### Current Version: v0.2.5-alpha", and no table.
    assert_eq!(
        jelly["supported_versions"],
        serde_json::json!([{
            "version": "v0.2.5-alpha",
            "supported": true,
            "origin": {"kind": "security_md", "file": policy_file("jellyfin-ai-recommender").display().to_string(), "line": 36}
        }])
    );

    // moviemind L125 "- **Critical Vulnerabilities**: Immediate patches" (not L31's 30 days).
    let movie = show_json("moviemind-api");
    assert_eq!(movie["fix"]["critical"]["rule"], "immediate");
    assert_eq!(movie["fix"]["critical"]["origin"]["line"], 125);
    assert_eq!(movie["fix"]["high"]["amount"], 30);
    assert_eq!(movie["fix"]["high"]["origin"]["line"], 31);
}

#[test]
fn json_carries_the_text_figures_with_origins_and_config_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            "timezone = \"Europe/Paris\"\n\n[[project]]\nname = \"helpr\"\n\
             security-policy = \"{}\"\n\n[project.policy]\nfix-low = \"60 days\"\n\
             disclose-after-days = 120\n",
            policy_file("helpr").display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let out = depwatch(&[
        "policy", "show", "helpr", "--config", cfg, "--format", "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["project"], "helpr");
    assert_eq!(v["timezone"]["name"], "Europe/Paris");
    assert_eq!(v["timezone"]["origin"]["kind"], "config");
    assert_eq!(v["fix"]["low"]["text"], "60 days");
    assert_eq!(
        v["fix"]["low"]["origin"],
        serde_json::json!({"kind": "config"})
    );
    assert_eq!(v["disclosure"]["at_most"]["amount"], 120);
    assert_eq!(v["disclosure"]["at_most"]["origin"]["kind"], "config");
    assert_eq!(v["disclosure"]["at_most_not_before_fix"], false);
    // L37 "  - Critical: 1-7 days"
    assert_eq!(v["fix"]["critical"]["amount"], 7);
    assert_eq!(v["fix"]["critical"]["unit"], "days");
    assert_eq!(v["fix"]["critical"]["origin"]["line"], 37);
    assert_eq!(v["channels"][0]["kind"], "github_advisory");
    assert_eq!(v["channels"][0]["origin"]["line"], 21);
    // The text form says the same, and names the zone.
    let text = depwatch(&["policy", "show", "helpr", "--config", cfg]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("fix (low):        60 days"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("timezone:")
            && l.contains("Europe/Paris")
            && l.ends_with("(depwatch.toml)")),
        "{text}"
    );
    // Without a project: an array, one object per project.
    let all = depwatch(&["policy", "show", "--config", cfg, "--format", "json"]);
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    assert_eq!(all.as_array().map(Vec::len), Some(1));
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn low_findings_of_the_real_policies_are_not_disclosed_before_their_fix() {
    // First seen 2026-12-06: 90 days is 2027-03-06, 180 days 2027-06-04.
    let t0 = at("2026-12-06T00:00:00Z");
    let utc = TimeZone::UTC;
    let low = |name: &str| {
        Policy::load(&policy_file(name))
            .unwrap()
            .deadlines(t0, Level::Low, &utc)
    };
    // plexcollect: default low fix 180 days, then depwatch's 7-day wait for updates (L44).
    let plex = low("plexcollect");
    assert_eq!(plex.fix_by, Some(at("2027-06-04T00:00:00Z")));
    assert_eq!(plex.disclose_by, Some(at("2027-06-11T00:00:00Z")));
    // emby-watchparty says nothing: the default maximum does not fall before the fix.
    let emby = low("emby-watchparty");
    assert_eq!(emby.fix_by, Some(at("2027-06-04T00:00:00Z")));
    assert_eq!(emby.disclose_by, Some(at("2027-06-04T00:00:00Z")));
    // helpr L40 "Low: Best effort", L46 "once the fix is released": no date for either.
    let helpr = low("helpr");
    assert_eq!((helpr.fix_by, helpr.disclose_by), (None, None));
    // jellyfin states its own maximum (L32 "or 90 days from report, whichever comes first").
    let jelly = low("jellyfin-ai-recommender");
    assert_eq!(jelly.disclose_by, Some(at("2027-03-06T00:00:00Z")));
}

/// SECURITY.md texts built from the phrasings the reader knows, in any combination.
fn generated_policy() -> impl Strategy<Value = String> {
    let fix = prop::sample::select(vec![
        "",
        "- **Resolution**: Within 30 days\n",
        "- **Fix Timeline**: Depends on severity\n  - Critical: 1-7 days\n  - High: 7-30 days\n  - Medium: 30-90 days\n  - Low: Best effort\n",
        "- **Fix/Patch:** Depends on severity (critical: days, high: 1-2 weeks, medium: 1 month, low: next release)\n",
        "- **Fix Available**: Within 2 weeks (critical issues)\n",
        "- **Fix**: critical: 3 days, high: 6 months, low: 1 year\n",
        "- **Critical Vulnerabilities**: Immediate patches\n",
    ]);
    let disclose = prop::sample::select(vec![
        "",
        "- **Public Disclosure**: After fix is released and users have time to update\n",
        "- **Public Disclosure:** After fix is released or 90 days from report, whichever comes first\n",
        "- **Disclosure**: 30 days after the fix is released\n",
        "- **Disclosure**: once the fix is released\n",
        "### Disclosure Policy\n- We will publish a security advisory once the fix is released\n",
        "- **Disclosure**: 45 days from report\n",
    ]);
    (fix, disclose, any::<bool>()).prop_map(|(f, d, swap)| {
        let (a, b) = if swap { (d, f) } else { (f, d) };
        format!("# Security Policy\n\n## Response Timeline\n\n{a}{b}")
    })
}

fn real_or_generated() -> impl Strategy<Value = (String, Policy)> {
    prop_oneof![
        prop::sample::select(POLICIES.to_vec())
            .prop_map(|n| (n.to_string(), Policy::load(&policy_file(n)).unwrap())),
        generated_policy().prop_map(|t| (t.clone(), Policy::parse(&t, Path::new("SECURITY.md")))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// Whenever the policy ties disclosure to the fix and no maximum is stated (by the file or
    /// depwatch.toml), disclose-by is never before fix-by.
    #[test]
    fn after_fix_policy_never_discloses_before_fix(
        (what, policy) in real_or_generated(),
        level in prop::sample::select(vec![Level::Critical, Level::High, Level::Medium, Level::Low, Level::Unknown]),
        secs in 1_577_836_800i64..1_893_456_000,
        paris in any::<bool>(),
    ) {
        let tz = if paris { TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC) } else { TimeZone::UTC };
        let t = Timestamp::from_second(secs).unwrap();
        let d = policy.deadlines(t, level, &tz);
        let stated_max = policy
            .disclosure
            .at_most
            .is_some_and(|m| m.origin != Origin::Default);
        if !stated_max && let Some(fix) = d.fix_by {
            prop_assert!(d.disclose_by.is_some_and(|x| x >= fix), "{what}: {d:?}");
        }
        // "after the fix" said on a line, no maximum: no date without a fix date either.
        if matches!(policy.disclosure.after_fix, Origin::Line(_)) && policy.disclosure.at_most.is_none() {
            prop_assert_eq!(d.fix_by.is_some(), d.disclose_by.is_some(), "{}", what);
        }
    }
}

#[test]
fn deadlines_are_shown_in_the_configured_timezone() {
    if TimeZone::get("Europe/Paris").is_err() {
        return; // no tz database here: nothing to show
    }
    let dir = tempfile::tempdir().unwrap();
    let s = shared();
    let config = dir.path().join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            "sources = [\"osv-dir:{ghsa}\"]\ntimezone = \"Europe/Paris\"\n\n[[project]]\n\
             name = \"emby-watchparty\"\npath = \"{emby}\"\nsecurity-policy = \"{pol}\"\n",
            ghsa = s.join("feeds-reference/ghsa-osv").display(),
            emby = s
                .join("corpus/manifests/emby-watchparty/requirements.txt")
                .display(),
            pol = policy_file("emby-watchparty").display(),
        ),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let o = crate::support::command(&dir.path().join("store.sqlite3"))
        .args(["run", "--offline", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out_dir)
        .env("DEPWATCH_NOW", "2026-12-01T08:00:00Z")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let adv = out_dir.join("emby-watchparty/advisories");
    let md_path = std::fs::read_dir(&adv)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .expect("a draft");
    let md = std::fs::read_to_string(md_path).unwrap();
    // First seen 08:00 UTC = 09:00 in Paris (UTC+1 in December); L37 "Within 48 hours".
    assert!(
        md.contains("| Initial response | 2026-12-03 09:00 +01:00 Europe/Paris |"),
        "{md}"
    );
    assert!(
        md.contains("first saw this finding on 2026-12-01 09:00 +01:00 Europe/Paris"),
        "{md}"
    );
    assert!(!md.contains(" UTC |"), "{md}");
}
