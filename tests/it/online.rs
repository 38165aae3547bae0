//! `depwatch scan --online` against a loopback OSV API returns the same findings as `scan`
//! against the same records loaded into the store. The loopback server evaluates each query
//! itself over the real PyPA records (OSV range evaluation per record, as api.osv.dev does)
//! and serves full records from `/v1/vulns/{id}`.

use crate::loopback::{Reply, Server};
use crate::util::{depwatch, depwatch_store, manifest, pypa_dir};
use depwatch::advisory::CompiledAdvisory;
use depwatch::ecosystem::Ecosystem;
use depwatch::feeds::{self, SourceSpec};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) fn osv_api() -> Server {
    let loaded = feeds::load(&SourceSpec::local("osv-dir", pypa_dir()).unwrap()).unwrap();
    let mut by_package: HashMap<String, Vec<Arc<CompiledAdvisory>>> = HashMap::new();
    let mut by_id: HashMap<String, Vec<u8>> = HashMap::new();
    for a in loaded.advisories {
        let a = Arc::new(a);
        by_id.insert(
            a.advisory.id.clone(),
            serde_json::to_vec(&*a.advisory).unwrap(),
        );
        if a.is_withdrawn() {
            continue;
        }
        for aff in &a.affected {
            by_package
                .entry(aff.name.clone())
                .or_default()
                .push(a.clone());
        }
    }
    Server::start(move |req| {
        if req.method == "POST" && req.path() == "/v1/querybatch" {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let results: Vec<Value> = body["queries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| {
                    let name =
                        Ecosystem::PyPI.normalize_name(q["package"]["name"].as_str().unwrap());
                    let version = q["version"].as_str();
                    let vulns: Vec<Value> = by_package
                        .get(&name)
                        .into_iter()
                        .flatten()
                        .filter(|a| match version {
                            None => true,
                            Some(v) => match Ecosystem::PyPI.parse_version(v) {
                                Ok(pv) => a
                                    .affected
                                    .iter()
                                    .any(|x| x.name == name && x.affects(&pv, v)),
                                Err(_) => false,
                            },
                        })
                        .map(|a| json!({"id": a.advisory.id, "modified": a.advisory.modified}))
                        .collect();
                    if vulns.is_empty() {
                        json!({})
                    } else {
                        json!({ "vulns": vulns })
                    }
                })
                .collect();
            return Reply::ok(serde_json::to_vec(&json!({ "results": results })).unwrap());
        }
        if let Some(id) = req.path().strip_prefix("/v1/vulns/") {
            return match by_id.get(id) {
                Some(b) => Reply::ok(b.clone()),
                None => Reply::status(404),
            };
        }
        Reply::status(404)
    })
}

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
