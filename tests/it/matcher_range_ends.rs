//! Issue 11, "Matching and merging" items 1, 4 and 5, through the real binary on the real
//! records: where an affected range ends when the record gives no plain end (GitHub's
//! `last_known_affected_version_range`, an unreadable version), and which versions are fixes
//! (RustSec `patched`, not `unaffected`).

use crate::support::files::time_0_1_lock;
use crate::support::loopback::{Reply, Server};
use crate::support::{depwatch, depwatch_store, manifest, pypa_dir};
use crate::support::{ghsa_osv_source as ghsa_osv, json_of, rustsec_source as rustsec};
use serde_json::{Value, json};
use std::path::Path;

fn scan(target: &Path, sources: &[&str], format: &str) -> std::process::Output {
    let mut args = vec!["scan", target.to_str().unwrap(), "--format", format];
    for s in sources {
        args.extend(["--source", s]);
    }
    depwatch(&args)
}

fn findings_on<'a>(report: &'a Value, package: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == package)
        .collect()
}

/// Item 1: GHSA-wcg3-cvx6-7396 ends its `time` range at GitHub's `"< 0.2"`, so `time 0.3.47`
/// in uv's Cargo.lock is not reported, and the vulnerabilities are cargo-audit's three.
#[test]
fn time_0_3_47_in_uv_is_not_affected_by_github_time_0_1_range() {
    let out = scan(
        &manifest("uv/Cargo.lock"),
        &[&rustsec(), &ghsa_osv()],
        "json",
    );
    let report = json_of(&out);
    assert!(
        findings_on(&report, "time").is_empty(),
        "{:#}",
        report["findings"]
    );
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["id"].as_str().unwrap(),
                f["package"]["name"].as_str().unwrap(),
                f["package"]["version"].as_str().unwrap()
            )
        })
        .collect();
    ids.sort();
    // The vulnerabilities of tests/expectations/cargo-audit-uv-Cargo.lock.txt.
    assert_eq!(
        ids,
        [
            "RUSTSEC-2023-0071 rsa 0.9.10",
            "RUSTSEC-2026-0204 crossbeam-epoch 0.9.18",
            "RUSTSEC-2026-0258 h2 0.4.15",
        ]
    );
}

/// Items 1 and 4: `time 0.1.43` is told to upgrade to 0.2.23 (RustSec's patched version),
/// neither "no safe version" (GitHub's range read as open) nor 0.2.0 (an `unaffected` version
/// RustSec does not call a fix); the note says where the GitHub range's end came from.
#[test]
fn time_0_1_43_is_told_to_upgrade_to_0_2_23() {
    let tmp = tempfile::tempdir().unwrap();
    let lock = time_0_1_lock(tmp.path());

    let report = json_of(&scan(&lock, &[&rustsec(), &ghsa_osv()], "json"));
    let f = findings_on(&report, "time");
    assert_eq!(f.len(), 1, "{:#}", report["findings"]);
    assert_eq!(f[0]["id"], "RUSTSEC-2020-0071");
    assert_eq!(f[0]["fix"], json!({"kind": "upgrade", "to": "0.2.23"}));
    assert_eq!(f[0]["fixed_versions"], json!(["0.2.23"]));
    let note = f[0]["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("GHSA-wcg3-cvx6-7396")
            && note.contains("last_known_affected_version_range \"< 0.2\""),
        "{note}"
    );
    // The table says it too.
    let out = scan(&lock, &[&rustsec(), &ghsa_osv()], "table");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("upgrade to 0.2.23"), "{text}");
    assert!(text.contains("last_known_affected_version_range"), "{text}");

    // RustSec alone: `unaffected = ["=0.2.0", ...]` is not a fix; `patched = [">= 0.2.23"]` is.
    let report = json_of(&scan(&lock, &[&rustsec()], "json"));
    let f = findings_on(&report, "time");
    assert_eq!(f[0]["fix"], json!({"kind": "upgrade", "to": "0.2.23"}));
    assert_eq!(f[0]["fixed_versions"], json!(["0.2.23"]));
}

/// Item 1, GitHub REST form: `">= 0.1, < 0.2"` with no first patched version, synced from a
/// loopback GitHub API, is the last known end (not a fix) and `time 0.3.47` is not affected.
#[test]
fn github_rest_lt_without_a_patch_is_the_last_known_end() {
    let time = json!({
        "ghsa_id": "GHSA-wcg3-cvx6-7396",
        "cve_id": "CVE-2020-26235",
        "html_url": "https://github.com/advisories/GHSA-wcg3-cvx6-7396",
        "summary": "Segmentation fault in time",
        "type": "reviewed",
        "severity": "medium",
        "identifiers": [{"type": "GHSA", "value": "GHSA-wcg3-cvx6-7396"},
                        {"type": "CVE", "value": "CVE-2020-26235"}],
        "published_at": "2021-08-25T20:56:46Z",
        "updated_at": "2022-12-06T00:16:25Z",
        "withdrawn_at": null,
        "vulnerabilities": [
            {"package": {"ecosystem": "rust", "name": "time"},
             "vulnerable_version_range": ">= 0.1, < 0.2", "first_patched_version": null,
             "vulnerable_functions": []},
            {"package": {"ecosystem": "rust", "name": "time"},
             "vulnerable_version_range": ">= 0.2.7, < 0.2.23", "first_patched_version": "0.2.23",
             "vulnerable_functions": []}
        ]
    });
    let page = serde_json::to_vec(&json!([time])).unwrap();
    let srv = Server::start(move |req| {
        if req.path() == "/github/advisories" && req.target.contains("ecosystem=rust") {
            Reply::ok(page.clone())
        } else if req.path() == "/github/advisories" {
            Reply::ok("[]")
        } else {
            Reply::status(404)
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.sqlite3");
    let cfg = tmp.path().join("depwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "[feeds.ghsa]\nbase-url = \"{}/github\"\n\
             [feeds.osv-pypi]\nenabled = false\n[feeds.osv-crates]\nenabled = false\n\
             [feeds.rustsec]\nenabled = false\n[feeds.crates-index]\nenabled = false\n",
            srv.url
        ),
    )
    .unwrap();
    let out = depwatch_store(&store, &["sync", "--config", cfg.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let uv = manifest("uv/Cargo.lock");
    let report = json_of(&depwatch_store(
        &store,
        &["scan", uv.to_str().unwrap(), "--format", "json"],
    ));
    assert!(
        findings_on(&report, "time").is_empty(),
        "{:#}",
        report["findings"]
    );

    let lock = time_0_1_lock(tmp.path());
    let report = json_of(&depwatch_store(
        &store,
        &["scan", lock.to_str().unwrap(), "--format", "json"],
    ));
    let f = findings_on(&report, "time");
    assert_eq!(f.len(), 1, "{:#}", report["findings"]);
    // 0.2 is where GitHub last knew 0.1 to be affected, not a patched release (the matched
    // entry names no fix; the advice comes from the record's other entry on `time`).
    assert!(
        !f[0]["fixed_versions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "0.2" || v == "0.2.0"),
        "{:#}",
        f[0]
    );
    assert_eq!(f[0]["fix"], json!({"kind": "upgrade", "to": "0.2.23"}));
    assert!(
        f[0]["note"]
            .as_str()
            .unwrap_or_default()
            .contains("last_known_affected_version_range \"< 0.2\""),
        "{:#}",
        f[0]
    );
}

/// Item 5: PYSEC-2019-125 (`fixed: "2019-09-12"`) and PYSEC-2021-371 (`fixed: "0.2.0-n653"`)
/// are kept, their ranges open from `introduced`, and the finding says the end is unreadable.
#[test]
fn records_with_one_unreadable_version_are_kept_and_marked() {
    let tmp = tempfile::tempdir().unwrap();
    let req = tmp.path().join("requirements.txt");
    std::fs::write(&req, "steam==1.0.0\nbinderhub==0.2.0\n").unwrap();
    let pypa = format!("osv-dir:{}", pypa_dir().display());

    let report = json_of(&scan(&req, &[&pypa], "json"));
    for (package, id, bad) in [
        ("steam", "PYSEC-2019-125", "2019-09-12"),
        ("binderhub", "PYSEC-2021-371", "0.2.0-n653"),
    ] {
        let f = findings_on(&report, package);
        let f = f
            .iter()
            .find(|f| f["ids"].as_array().unwrap().iter().any(|i| i == id))
            .unwrap_or_else(|| panic!("{id} missing: {:#}", report["findings"]));
        let note = f["note"].as_str().unwrap_or_default();
        assert!(
            note.contains(&format!("{id}: range end unreadable (fixed \"{bad}\""))
                && note.contains("possible false alarm"),
            "{note}"
        );
        assert!(
            !report["load_errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["id"] == id),
            "{id} is still dropped: {:#}",
            report["load_errors"]
        );
    }
    let out = scan(&req, &[&pypa], "table");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("range end unreadable"), "{text}");
}
