//! `depwatch scan` of Rust lockfiles against the RustSec snapshot, compared with cargo-audit.

use crate::support::{depwatch, manifest, rustsec_dir};
use serde_json::Value;
use std::collections::BTreeSet;

/// cargo-audit's result on the same lockfile and database, recorded by
/// `bench/compare-cargo-audit.sh` (command in the file's header).
fn cargo_audit_expectation() -> BTreeSet<String> {
    include_str!("../expectations/cargo-audit-uv-Cargo.lock.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(String::from)
        .collect()
}

fn scan_json(args: &[&str]) -> (Value, i32) {
    let out = depwatch(args);
    let code = out.status.code().unwrap_or(-1);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout={} stderr={}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, code)
}

#[test]
fn uv_cargo_lock_matches_cargo_audit() {
    let lock = manifest("uv/Cargo.lock");
    let source = format!("rustsec-dir:{}", rustsec_dir().display());
    let (report, code) = scan_json(&[
        "scan",
        lock.to_str().unwrap(),
        "--source",
        &source,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "vulnerabilities found -> exit 1");
    let mut ours = BTreeSet::new();
    for f in report["findings"].as_array().unwrap() {
        ours.insert(format!(
            "vulnerability {} {} {}",
            f["id"].as_str().unwrap(),
            f["package"]["name"].as_str().unwrap(),
            f["package"]["version"].as_str().unwrap()
        ));
    }
    for w in report["warnings"].as_array().unwrap() {
        ours.insert(format!(
            "{} {} {} {}",
            w["kind"].as_str().unwrap(),
            w["id"].as_str().unwrap(),
            w["package"]["name"].as_str().unwrap(),
            w["package"]["version"].as_str().unwrap()
        ));
    }
    assert_eq!(ours, cargo_audit_expectation());

    // Beyond cargo-audit: where each finding comes from and how to fix it.
    let h2 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == "h2")
        .unwrap();
    // uv-client, a workspace crate, depends on h2 directly.
    assert_eq!(h2["via"], serde_json::json!([]));
    assert_eq!(h2["member"], "uv-client");
    assert!(
        h2["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("uv/Cargo.lock")
    );
    assert_eq!(h2["location"]["line"], 2028);
    let rsa = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == "rsa")
        .unwrap();
    assert_eq!(
        rsa["fix"]["kind"], "no_fix",
        "the Marvin attack has no patched rsa release"
    );
    assert!(
        rsa["ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "CVE-2023-49092")
    );
    assert_eq!(
        rsa["severity"], "medium",
        "CVSS 5.9 from the advisory's vector"
    );
    // 70 workspace members are path packages: listed as not checked, never as safe.
    assert_eq!(report["summary"]["not_checked"], 70);
}

#[test]
fn fail_on_and_ignore_change_the_exit_code() {
    let lock = manifest("uv/Cargo.lock");
    let source = format!("rustsec-dir:{}", rustsec_dir().display());
    let l = lock.to_str().unwrap();
    // rsa (medium) is the highest of the three findings... unless another is high.
    let (report, _) = scan_json(&["scan", l, "--source", &source, "--format", "json"]);
    let max = report["summary"]["max_severity"]
        .as_str()
        .unwrap()
        .to_string();
    let above = match max.as_str() {
        "critical" => None,
        "high" => Some("critical"),
        "medium" => Some("high"),
        _ => Some("critical"),
    };
    if let Some(level) = above {
        let out = depwatch(&[
            "scan",
            l,
            "--source",
            &source,
            "--fail-on",
            level,
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(0), "nothing at or above {level}");
    }
    // Ignoring every finding by an alias makes the scan pass.
    let mut args = vec!["scan", l, "--source", &source, "--format", "json"];
    let ids: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["ids"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for id in &ids {
        args.push("--ignore");
        args.push(id);
    }
    let (ignored, code) = scan_json(&args);
    assert_eq!(code, 0);
    assert_eq!(ignored["findings"].as_array().unwrap().len(), 0);
    assert_eq!(ignored["ignored"].as_array().unwrap().len(), ids.len());
}

#[test]
fn output_is_deterministic() {
    let lock = manifest("uv/Cargo.lock");
    let source = format!("rustsec-dir:{}", rustsec_dir().display());
    for format in ["json", "sarif", "markdown"] {
        let a = depwatch(&[
            "scan",
            lock.to_str().unwrap(),
            "--source",
            &source,
            "--format",
            format,
        ]);
        let b = depwatch(&[
            "scan",
            lock.to_str().unwrap(),
            "--source",
            &source,
            "--format",
            format,
        ]);
        assert!(!a.stdout.is_empty());
        assert_eq!(a.stdout, b.stdout, "{format} output differs between runs");
    }
}

#[test]
fn usage_errors_exit_2() {
    let out = depwatch(&["scan", "--source", "nope:x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid source"));
    let lock = manifest("uv/Cargo.lock");
    // No --source: the store answers, and a store that was never synced is an error, not a
    // clean result.
    let out = depwatch(&["scan", lock.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("never synced"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = depwatch(&[
        "scan",
        "/nonexistent/Cargo.lock",
        "--source",
        "rustsec-dir:/nonexistent",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
