//! `depwatch scan --online` against a loopback OSV API returns the same findings as `scan`
//! against the same records loaded into the store. The loopback server evaluates each query
//! itself over the real PyPA records (OSV range evaluation per record, as api.osv.dev does)
//! and serves full records from `/v1/vulns/{id}` (`support::osv_records::osv_api`).

use crate::support::loopback::{Reply, Server};
use crate::support::osv_records::osv_api;
use crate::support::{depwatch, depwatch_store, manifest, pypa_dir};
use serde_json::Value;

fn summary(r: &Value) -> (Vec<String>, Value) {
    let mut f: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {} {}",
                f["id"], f["package"]["name"], f["package"]["version"], f["fix"], f["location"]
            )
        })
        .collect();
    f.sort();
    (f, r["risks"].clone())
}

#[test]
fn online_scan_matches_the_store() {
    let api = osv_api();
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.sqlite3");
    let out = depwatch_store(
        &store,
        &[
            "sync",
            "--source",
            &format!("osv-dir:{}", pypa_dir().display()),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    for rel in [
        "home-assistant/requirements.txt",
        "all-kinds/requirements.txt",
        "airflow/constraints.txt",
    ] {
        let m = manifest(rel);
        let online = depwatch(&[
            "scan",
            m.to_str().unwrap(),
            "--online",
            "--osv-url",
            &api.url,
            "--format",
            "json",
        ]);
        let stored = depwatch_store(&store, &["scan", m.to_str().unwrap(), "--format", "json"]);
        assert_eq!(
            online.status.code(),
            stored.status.code(),
            "{rel}: {}",
            String::from_utf8_lossy(&online.stderr)
        );
        let a: Value = serde_json::from_slice(&online.stdout).unwrap();
        let b: Value = serde_json::from_slice(&stored.stdout).unwrap();
        assert!(
            !a["findings"].as_array().unwrap().is_empty() || rel.contains("none"),
            "{rel}: no findings online"
        );
        assert_eq!(summary(&a), summary(&b), "{rel}");
    }
    let batches = api
        .requests()
        .iter()
        .filter(|r| r.path() == "/v1/querybatch")
        .count();
    assert!(batches >= 3, "one querybatch per scan at least: {batches}");
}

#[test]
fn online_scan_with_the_api_down_fails_instead_of_reporting_clean() {
    let down = Server::start(|_| Reply::status(503));
    let m = manifest("emby-watchparty/requirements.txt");
    let out = depwatch(&[
        "scan",
        m.to_str().unwrap(),
        "--online",
        "--osv-url",
        &down.url,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("503"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
