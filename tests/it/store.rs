//! The SQLite store: import of the whole corpus, incremental no-op syncs, scans answered from
//! the store, integrity after SIGKILL, and a sync and a scan running at once.

use crate::support::{depwatch_store, manifest, pypa_dir, rustsec_dir};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

fn sync_all(store: &Path) -> String {
    let out = depwatch_store(
        store,
        &[
            "sync",
            "--source",
            &format!("rustsec-dir:{}", rustsec_dir().display()),
            "--source",
            &format!("osv-dir:{}", pypa_dir().display()),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stats(store: &Path) -> Value {
    let out = depwatch_store(store, &["db", "stats", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check_ok(store: &Path) {
    let out = depwatch_store(store, &["db", "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "db check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (kind, id, package, version) of every finding and warning.
fn results(report: &Value) -> BTreeSet<String> {
    ["findings", "warnings"]
        .iter()
        .flat_map(|k| report[*k].as_array().unwrap().iter())
        .map(|f| {
            format!(
                "{} {} {} {} {}",
                f["kind"].as_str().unwrap(),
                f["id"].as_str().unwrap(),
                f["package"]["name"].as_str().unwrap(),
                f["package"]["version"].as_str().unwrap(),
                f["fix"]
            )
        })
        .collect()
}

fn scan(store: &Path, extra: &[&str]) -> (Value, i32) {
    let mut args = vec!["scan", "--format", "json"];
    args.extend_from_slice(extra);
    let out = depwatch_store(store, &args);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap_or(-1))
}

#[test]
fn import_then_noop_sync_then_scan_from_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.sqlite3");
    let first = sync_all(&store);
    assert!(first.contains("1205 written"), "{first}");
    assert!(
        first.contains("2661 written, 0 removed, 0 broken records skipped"),
        "{first}"
    );
    let s = stats(&store);
    assert_eq!(s["records"], 3866);
    assert_eq!(s["by_ecosystem"]["PyPI"], 2661);
    assert_eq!(s["by_ecosystem"]["crates.io"], 1205);
    check_ok(&store);

    // Nothing changed: every source says so and no record is rewritten.
    let before = std::fs::read(&store).unwrap();
    let second = sync_all(&store);
    assert_eq!(second.matches(": unchanged").count(), 2, "{second}");
    assert_eq!(stats(&store)["records"], 3866);
    let after = std::fs::read(&store).unwrap();
    assert_eq!(before.len(), after.len());

    // The store answers like the snapshots do.
    for (rel, source) in [
        (
            "uv/Cargo.lock",
            format!("rustsec-dir:{}", rustsec_dir().display()),
        ),
        (
            "home-assistant/requirements.txt",
            format!("osv-dir:{}", pypa_dir().display()),
        ),
        (
            "all-kinds/requirements.txt",
            format!("osv-dir:{}", pypa_dir().display()),
        ),
        (
            "airflow/constraints.txt",
            format!("osv-dir:{}", pypa_dir().display()),
        ),
    ] {
        let m = manifest(rel);
        let (from_store, code_store) = scan(&store, &[m.to_str().unwrap()]);
        let (direct, code_direct) = scan(&store, &[m.to_str().unwrap(), "--source", &source]);
        assert_eq!(code_store, code_direct, "{rel}");
        assert_eq!(results(&from_store), results(&direct), "{rel}");
        assert_eq!(from_store["risks"], direct["risks"], "{rel}");
        assert!(
            from_store["notices"].as_array().unwrap().is_empty(),
            "{rel}"
        );
    }
}

#[test]
fn never_synced_and_stale_stores_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.sqlite3");
    let lock = manifest("uv/Cargo.lock");
    let out = depwatch_store(&store, &["scan", lock.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never synced"));

    let out = depwatch_store(
        &store,
        &[
            "sync",
            "--source",
            &format!("rustsec-dir:{}", rustsec_dir().display()),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    std::thread::sleep(std::time::Duration::from_millis(10));
    // Max age 0 hours: everything is stale. A notice by default, an error when required.
    let (report, code) = scan(&store, &[lock.to_str().unwrap(), "--max-age-hours", "0"]);
    assert_eq!(code, 1);
    assert!(
        report["notices"][0]
            .as_str()
            .unwrap()
            .contains("last synced"),
        "{}",
        report["notices"]
    );
    let out = depwatch_store(
        &store,
        &[
            "scan",
            lock.to_str().unwrap(),
            "--max-age-hours",
            "0",
            "--require-fresh",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--require-fresh"));

    // A source that fails keeps its data and the failure is recorded.
    let out = depwatch_store(
        &store,
        &["sync", "--source", "rustsec-dir:/nonexistent/advisory-db"],
    );
    assert_eq!(out.status.code(), Some(2));
    let s = stats(&store);
    let failed = s["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["source"].as_str().unwrap().contains("nonexistent"))
        .unwrap();
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/advisory-db"),
        "{failed}"
    );
    assert_eq!(s["records"], 1205);
    check_ok(&store);
}

/// A small deterministic generator for kill delays (no extra crate for one test).
fn delays(n: usize, max_ms: u64) -> Vec<u64> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % max_ms
        })
        .collect()
}

#[test]
fn sigkill_mid_sync_never_corrupts_or_loses_data() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base.sqlite3");
    let out = depwatch_store(
        &base,
        &[
            "sync",
            "--source",
            &format!("rustsec-dir:{}", rustsec_dir().display()),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    // Measure one full PyPA import to spread the kills over it.
    let probe = tmp.path().join("probe.sqlite3");
    std::fs::copy(&base, &probe).unwrap();
    let t0 = std::time::Instant::now();
    let out = depwatch_store(
        &probe,
        &[
            "sync",
            "--source",
            &format!("osv-dir:{}", pypa_dir().display()),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let full = t0.elapsed().as_millis() as u64 + 50;

    let mut completed = 0;
    for (i, delay) in delays(20, full).into_iter().enumerate() {
        let store = tmp.path().join(format!("kill-{i}.sqlite3"));
        std::fs::copy(&base, &store).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_depwatch"))
            .args([
                "sync",
                "--source",
                &format!("osv-dir:{}", pypa_dir().display()),
            ])
            .env("DEPWATCH_STORE", &store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        if status.success() {
            completed += 1;
        }
        check_ok(&store);
        let s = stats(&store);
        let count = |needle: &str| {
            s["sources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["source"].as_str().unwrap().contains(needle))
                .map(|x| x["records"].as_i64().unwrap())
        };
        assert_eq!(
            count("rustsec"),
            Some(1205),
            "kill {i} after {delay} ms lost RustSec records"
        );
        let pypa = count("pypa").unwrap_or(0);
        assert!(
            pypa == 0 || pypa == 2661,
            "kill {i} after {delay} ms left a partial import: {pypa}"
        );
    }
    eprintln!("{completed} of 20 syncs completed before their kill (full import ~{full} ms)");
}

#[test]
fn a_scan_during_a_sync_sees_old_or_new_never_a_mix() {
    // Two records on two packages change together in each sync: a scan must see both changes
    // or neither.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("osv");
    std::fs::create_dir_all(&dir).unwrap();
    let store = tmp.path().join("s.sqlite3");
    let write = |fixed: &str, generation: usize| {
        for (id, pkg) in [("TEST-A", "alpha"), ("TEST-B", "beta")] {
            let rec = format!(
                r#"{{"id": "{id}", "modified": "2026-01-01T00:00:{generation:02}Z", "affected": [{{"package": {{"ecosystem": "PyPI", "name": "{pkg}"}}, "ranges": [{{"type": "ECOSYSTEM", "events": [{{"introduced": "0"}}, {{"fixed": "{fixed}"}}]}}]}}]}}"#
            );
            std::fs::write(dir.join(format!("{id}.json")), rec).unwrap();
        }
    };
    let reqs = tmp.path().join("requirements.txt");
    std::fs::write(&reqs, "alpha==1.5\nbeta==1.5\n").unwrap();
    write("1.0", 0);
    let src = format!("osv-dir:{}", dir.display());
    assert_eq!(
        depwatch_store(&store, &["sync", "--source", &src])
            .status
            .code(),
        Some(0)
    );

    let seen = {
        let store_w = store.clone();
        let src = src.clone();
        let dir_w = write;
        std::thread::scope(|s| {
            let store = &store;
            let h = s.spawn(move || {
                let store = store_w;
                for generation in 1..=12 {
                    dir_w(if generation % 2 == 1 { "2.0" } else { "1.0" }, generation);
                    let out = depwatch_store(&store, &["sync", "--source", &src]);
                    assert_eq!(
                        out.status.code(),
                        Some(0),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            });
            let mut seen = BTreeSet::new();
            while !h.is_finished() {
                let (r, code) = scan(store, &[reqs.to_str().unwrap()]);
                assert!(code == 0 || code == 1, "scan failed during sync: {r}");
                let n = r["findings"].as_array().unwrap().len();
                assert!(n == 0 || n == 2, "a scan saw half a sync: {n} findings");
                seen.insert(n);
            }
            h.join().unwrap();
            seen
        })
    };
    assert!(!seen.is_empty(), "no scan ran during the syncs");
}

#[test]
fn processes_opening_a_new_store_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("new.sqlite3");
    let children: Vec<_> = (0..6)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_depwatch"))
                .args(["db", "stats", "--store"])
                .arg(&store)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}
