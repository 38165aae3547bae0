//! Issue 15, work that scales with change: `depwatch run` does not rescan a project whose
//! inputs and packages' advisories did not change, still evaluates its deadlines, and rescans
//! exactly the projects a change concerns (a manifest edit, an advisory change on one of its
//! packages, an ignore expiring, a KEV change).

use crate::support::output_text as text;
use crate::support::shared;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The CVE the `alpha` record names, and the KEV entry made for it.
const CVE: &str = "CVE-2025-48384";

struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
}

fn record(id: &str, package: &str, modified: &str, fixed: &str) -> String {
    json!({ "id": id, "modified": modified, "aliases": if package == "alpha" { json!([CVE]) } else { json!([]) },
        "summary": format!("A flaw in {package}"),
        "database_specific": { "severity": "HIGH" },
        "affected": [{ "package": { "ecosystem": "PyPI", "name": package },
            "ranges": [{ "type": "ECOSYSTEM", "events": [{ "introduced": "0" }, { "fixed": fixed }] }] }] })
    .to_string()
}

/// A KEV catalogue of the real file's first entries, with `CVE` in it or not.
fn write_kev(path: &Path, with_cve: bool) {
    let real: Value = serde_json::from_slice(
        &std::fs::read(shared().join("feeds-reference/kev/known_exploited_vulnerabilities.json"))
            .unwrap(),
    )
    .unwrap();
    let mut entries: Vec<Value> = real["vulnerabilities"].as_array().unwrap()[1..4].to_vec();
    if with_cve {
        entries.push(real["vulnerabilities"][0].clone());
        assert_eq!(real["vulnerabilities"][0]["cveID"], CVE);
    }
    let mut doc = real.clone();
    doc["count"] = json!(entries.len());
    doc["catalogVersion"] = json!(if with_cve { "2025.08.26" } else { "2025.08.25" });
    doc["vulnerabilities"] = Value::Array(entries);
    std::fs::write(path, doc.to_string()).unwrap();
}

/// Three projects: `a` depends on alpha, `b` on beta, `c` on gamma (no advisory).
fn setup(ignore: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("feed")).unwrap();
    std::fs::write(
        d.join("feed/GHSA-aaaa-aaaa-aaaa.json"),
        record(
            "GHSA-aaaa-aaaa-aaaa",
            "alpha",
            "2026-11-01T00:00:00Z",
            "2.0",
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("feed/GHSA-bbbb-bbbb-bbbb.json"),
        record("GHSA-bbbb-bbbb-bbbb", "beta", "2026-11-01T00:00:00Z", "2.0"),
    )
    .unwrap();
    write_kev(&d.join("kev.json"), false);
    for (p, pin) in [("a", "alpha==1.0"), ("b", "beta==1.0"), ("c", "gamma==1.0")] {
        std::fs::create_dir(d.join(p)).unwrap();
        std::fs::write(d.join(p).join("requirements.txt"), format!("{pin}\n")).unwrap();
    }
    let config = d.join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            "sources = [\"osv-dir:feed\", \"kev:kev.json\"]\n{ignore}\n\
             [[project]]\nname = \"a\"\npath = \"a\"\n\
             [[project]]\nname = \"b\"\npath = \"b\"\n\
             [[project]]\nname = \"c\"\npath = \"c\"\n"
        ),
    )
    .unwrap();
    Setup { dir, config }
}

fn cmd(s: &Setup, now: &str, extra: &[&str]) -> Output {
    let out = s.dir.path().join("out");
    Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["run", "--offline", "--json", "--out", out.to_str().unwrap()])
        .args(extra)
        .arg("--config")
        .arg(&s.config)
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", s.dir.path().join("store.sqlite3"))
        .env("DEPWATCH_NOW", now)
        .current_dir(s.dir.path())
        .output()
        .expect("run depwatch")
}

fn run(s: &Setup, now: &str, extra: &[&str]) -> Value {
    let o = cmd(s, now, extra);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The projects not rescanned, by name.
fn skipped(r: &Value) -> Vec<&str> {
    r["projects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["skipped"] == json!(true))
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

fn project<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()
}

#[test]
fn unchanged_projects_are_skipped_but_their_deadlines_still_fire() {
    let s = setup("");
    let first = run(&s, "2026-12-01T08:00:00Z", &[]);
    assert!(skipped(&first).is_empty(), "{first}");
    assert_eq!(project(&first, "a")["events"], json!(["new"]), "{first}");
    assert_eq!(project(&first, "b")["events"], json!(["new"]), "{first}");

    let again = run(&s, "2026-12-01T09:00:00Z", &[]);
    assert_eq!(skipped(&again), ["a", "b", "c"], "{again}");
    assert_eq!(
        project(&again, "a")["open"],
        1,
        "remembered findings reused"
    );
    assert_eq!(project(&again, "a")["events"], json!([]));

    // The fix deadline of a high finding (30 days by default) nears, then passes: the events
    // fire without a rescan, exactly as on a store whose every cycle rescans.
    let full = setup("");
    run(&full, "2026-12-01T08:00:00Z", &["--full"]);
    for now in [
        "2026-12-29T08:00:00Z",
        "2027-01-01T08:00:00Z",
        "2027-01-01T09:00:00Z",
    ] {
        let inc = run(&s, now, &[]);
        let reference = run(&full, now, &["--full"]);
        assert_eq!(skipped(&inc), ["a", "b", "c"], "{inc}");
        assert!(skipped(&reference).is_empty(), "{reference}");
        for p in ["a", "b", "c"] {
            for k in ["events", "open", "max_severity"] {
                assert_eq!(
                    project(&inc, p)[k],
                    project(&reference, p)[k],
                    "{now} {p} {k}"
                );
            }
        }
        let expect = match now {
            "2026-12-29T08:00:00Z" => "deadline_near",
            "2027-01-01T08:00:00Z" => "overdue",
            _ => "",
        };
        let events = project(&inc, "a")["events"].as_array().unwrap().clone();
        assert_eq!(
            events.iter().any(|e| e == expect),
            !expect.is_empty(),
            "{now}: {inc}"
        );
    }

    // --full rescans everything; the summary says how many were skipped otherwise.
    let full = run(&s, "2027-01-01T10:00:00Z", &["--full"]);
    assert!(skipped(&full).is_empty(), "{full}");
    let out = s.dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args([
            "run",
            "--offline",
            "--out",
            out.to_str().unwrap(),
            "--config",
        ])
        .arg(&s.config)
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", s.dir.path().join("store.sqlite3"))
        .env("DEPWATCH_NOW", "2027-01-01T11:00:00Z")
        .current_dir(s.dir.path())
        .output()
        .unwrap();
    assert!(
        text(&o).contains("incremental: 3 of 3 project(s) unchanged, not rescanned"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_manifest_edit_or_an_advisory_change_rescans_only_the_projects_concerned() {
    let s = setup("");
    run(&s, "2026-12-01T08:00:00Z", &[]);

    // `a` upgrades alpha: only `a` is rescanned, and its finding resolves.
    std::fs::write(s.dir.path().join("a/requirements.txt"), "alpha==2.0\n").unwrap();
    let edited = run(&s, "2026-12-01T09:00:00Z", &[]);
    assert_eq!(skipped(&edited), ["b", "c"], "{edited}");
    assert_eq!(
        project(&edited, "a")["events"],
        json!(["resolved"]),
        "{edited}"
    );

    // beta's record changes (1.0 is no longer affected): only `b`, which depends on beta, is
    // rescanned.
    std::fs::write(
        s.dir.path().join("feed/GHSA-bbbb-bbbb-bbbb.json"),
        record("GHSA-bbbb-bbbb-bbbb", "beta", "2026-12-01T12:00:00Z", "0.9"),
    )
    .unwrap();
    let changed = run(&s, "2026-12-01T13:00:00Z", &[]);
    assert_eq!(skipped(&changed), ["a", "c"], "{changed}");
    assert_eq!(
        project(&changed, "b")["events"],
        json!(["resolved"]),
        "{changed}"
    );

    // A new record for gamma: `c` gets its finding at once.
    std::fs::write(
        s.dir.path().join("feed/GHSA-cccc-cccc-cccc.json"),
        record(
            "GHSA-cccc-cccc-cccc",
            "gamma",
            "2026-12-02T00:00:00Z",
            "2.0",
        ),
    )
    .unwrap();
    let added = run(&s, "2026-12-02T08:00:00Z", &[]);
    assert_eq!(skipped(&added), ["a", "b"], "{added}");
    assert_eq!(project(&added, "c")["events"], json!(["new"]), "{added}");
}

#[test]
fn an_ignore_expiring_rescans() {
    let s = setup(
        "[[ignore]]\nid = \"GHSA-aaaa-aaaa-aaaa\"\nreason = \"not reachable\"\nuntil = \"2026-12-02\"\n",
    );
    let first = run(&s, "2026-12-01T08:00:00Z", &[]);
    assert_eq!(project(&first, "a")["open"], 0, "{first}");
    let same_day = run(&s, "2026-12-02T08:00:00Z", &[]);
    assert!(skipped(&same_day).contains(&"a"), "{same_day}");
    // The day after the ignore's last day: rescanned, the finding shows.
    let expired = run(&s, "2026-12-03T08:00:00Z", &[]);
    assert!(!skipped(&expired).contains(&"a"), "{expired}");
    assert_eq!(project(&expired, "a")["open"], 1, "{expired}");
    assert_eq!(
        project(&expired, "a")["events"],
        json!(["new"]),
        "{expired}"
    );
}

#[test]
fn a_kev_change_is_reflected() {
    let s = setup("");
    run(&s, "2026-12-01T08:00:00Z", &[]);
    assert_eq!(
        skipped(&run(&s, "2026-12-01T09:00:00Z", &[])),
        ["a", "b", "c"]
    );
    write_kev(&s.dir.path().join("kev.json"), true);
    let kev = run(&s, "2026-12-01T10:00:00Z", &[]);
    // A KEV/EPSS replacement may concern any project: every one is rescanned.
    assert!(skipped(&kev).is_empty(), "{kev}");
    assert_eq!(
        project(&kev, "a")["events"],
        json!(["known_exploited"]),
        "{kev}"
    );
}

/// `run --timings`: one line on stderr whose counts are the cycle's (projects rescanned and
/// reused, as `--json` says), with times that add up.
#[test]
fn timings_count_the_rescanned_and_the_reused_projects() {
    let s = setup("");
    let timings = |o: &Output| -> Value {
        let err = String::from_utf8_lossy(&o.stderr);
        let lines: Vec<&str> = err
            .lines()
            .filter_map(|l| l.strip_prefix("timings: "))
            .collect();
        assert_eq!(lines.len(), 1, "{err}");
        serde_json::from_str(lines[0]).unwrap()
    };
    let o = cmd(&s, "2026-12-01T08:00:00Z", &["--timings"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = timings(&o);
    assert_eq!(
        (t["rescanned"].as_u64(), t["reused"].as_u64()),
        (Some(3), Some(0)),
        "{t}"
    );
    let f = |k: &str| t[k].as_f64().unwrap();
    assert!(
        f("rescanned_ms") > 0.0 && f("rescanned_ms") <= f("projects_ms"),
        "{t}"
    );
    assert!(f("projects_ms") <= f("total_ms"), "{t}");
    // Not in the JSON report.
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(report.get("timings").is_none(), "{report}");
    // beta's record changes: `b` is the one rescanned, `a` and `c` reused.
    std::fs::write(
        s.dir.path().join("feed/GHSA-bbbb-bbbb-bbbb.json"),
        record("GHSA-bbbb-bbbb-bbbb", "beta", "2026-12-01T12:00:00Z", "3.0"),
    )
    .unwrap();
    let o = cmd(&s, "2026-12-01T13:00:00Z", &["--timings"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = timings(&o);
    assert_eq!(
        (t["rescanned"].as_u64(), t["reused"].as_u64()),
        (Some(1), Some(2)),
        "{t}"
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(skipped(&report), ["a", "c"], "{report}");

    // Two full rescans at the same time write a's draft with the same bytes: the second
    // leaves the file as it was (same inode: not replaced).
    let full = |now: &str| {
        let o = cmd(&s, now, &["--full", "--timings"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(timings(&o)["rescanned"].as_u64(), Some(3));
    };
    full("2026-12-01T14:00:00Z");
    let draft = s
        .dir
        .path()
        .join("out/a/advisories")
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .expect("a's draft");
    let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    let before = inode(&draft);
    full("2026-12-01T14:00:00Z");
    assert_eq!(inode(&draft), before, "an identical draft was rewritten");
    // b's draft, whose record changed, was rewritten with it.
    let b_draft = s
        .dir
        .path()
        .join("out/b/advisories")
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .expect("b's draft");
    let md = std::fs::read_to_string(&b_draft).unwrap();
    assert!(md.contains("3.0"), "b's draft names the new fix: {md}");
}
