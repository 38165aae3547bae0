//! Real records as an OSV server serves them, for the OSV export and OSV API client tests:
//! 300 PyPA records (YAML parsed and written back as JSON) and GitHub's PyPI records, with the
//! `all.zip` and `modified_id.csv` of an export holding all but the two newest; and an OSV
//! API over every PyPA record that evaluates each query itself, as api.osv.dev does.

use super::loopback::{Reply, Server};
use depwatch::advisory::CompiledAdvisory;
use depwatch::ecosystem::Ecosystem;
use depwatch::feeds::{self, SourceSpec, osv};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// One real record as the export serves it.
#[derive(Clone)]
pub struct Rec {
    pub id: String,
    pub modified: String,
    pub time: jiff::Timestamp,
    pub json: Vec<u8>,
}

pub struct Fixture {
    /// The records in `all.zip`, newest first.
    pub records: Vec<Rec>,
    /// The two newest records, left out of `all.zip` and `modified_id.csv` (newest first):
    /// what a later export adds.
    pub later: Vec<Rec>,
    pub zip: Vec<u8>,
    /// `modified_id.csv` matching `zip`.
    pub csv: String,
}

pub fn csv_line(r: &Rec) -> String {
    format!("{},{}\n", r.modified, r.id)
}

/// 300 PyPA records (YAML parsed and written back as JSON) and the 30 GHSA PyPI records.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut files: Vec<_> = super::files::walk(&super::pypa_dir())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        let mut recs: HashMap<String, Rec> = HashMap::new();
        for f in files {
            if recs.len() == 300 {
                break;
            }
            let text = std::fs::read(&f).unwrap();
            let name = f.display().to_string();
            let Ok(c) = osv::parse_record(&text, &name, &name, "fixture") else {
                continue;
            };
            let json = serde_json::to_vec_pretty(&*c.advisory).unwrap();
            add(&mut recs, json);
        }
        let ghsa = super::ghsa_osv_dir().join("PyPI");
        for f in std::fs::read_dir(ghsa).unwrap().flatten() {
            add(&mut recs, std::fs::read(f.path()).unwrap());
        }
        let mut records: Vec<Rec> = recs.into_values().collect();
        records.sort_by(|a, b| b.time.cmp(&a.time).then(a.id.cmp(&b.id)));
        let later: Vec<Rec> = records.drain(..2).collect();
        assert!(
            later[1].time > records[0].time,
            "the held-out records are newer"
        );
        let entries: Vec<(String, Vec<u8>)> = records
            .iter()
            .map(|r| (format!("{}.json", r.id), r.json.clone()))
            .collect();
        let csv = records.iter().map(csv_line).collect();
        Fixture {
            zip: super::files::zip_of(&entries),
            records,
            later,
            csv,
        }
    })
}

fn add(recs: &mut HashMap<String, Rec>, json: Vec<u8>) {
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let modified = v["modified"].as_str().unwrap().to_string();
    let time = modified.parse().unwrap();
    recs.insert(
        id.clone(),
        Rec {
            id,
            modified,
            time,
            json,
        },
    );
}

/// A loopback OSV API over every PyPA record: `/v1/querybatch` evaluated per record (OSV
/// range evaluation), full records from `/v1/vulns/{id}`.
pub fn osv_api() -> Server {
    let loaded = feeds::load(&SourceSpec::local("osv-dir", super::pypa_dir()).unwrap()).unwrap();
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
