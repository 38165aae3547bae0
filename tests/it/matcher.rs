//! Issue 11, "Matching and merging": one verdict per record, a summary before shortened
//! details, and a merged finding's severity from every record of the vulnerability (CVSS v2
//! included). Real records from `../shared`; where a case needs a record the corpus lacks, a
//! real one is copied to a temporary directory and changed as the test says.

use crate::support::{depwatch, depwatch_store, manifest, pypa_dir};
use crate::support::{ghsa_osv_dir as ghsa_osv, json_of};
use serde_json::Value;
use std::path::Path;

/// Airflow's constraints pin Flask==2.2.2 (line 97) and requests==2.28.0 (line 251).
fn airflow() -> String {
    manifest("airflow/constraints.txt").display().to_string()
}

fn ghsa_record(id: &str) -> Value {
    let p = ghsa_osv().join(format!("PyPI/{id}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn finding<'a>(report: &'a Value, package: &str, id: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == package && f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} on {package} in {report:#}"))
}

/// Write `record` as the only file of an OSV directory under `dir`.
fn osv_dir_with(dir: &Path, record: &Value) -> String {
    let d = dir.join("osv");
    std::fs::create_dir_all(&d).unwrap();
    let name = format!("{}.json", record["id"].as_str().unwrap());
    std::fs::write(d.join(name), serde_json::to_vec_pretty(record).unwrap()).unwrap();
    format!("osv-dir:{}", d.display())
}

#[test]
fn a_record_with_two_entries_for_a_package_does_not_disagree_with_itself() {
    // GHSA-m2qf-hxjv-5gpq has one `affected` entry per flask branch: 2.3.0 to 2.3.2 and 0 to
    // 2.2.5. Together they list 2.2.2. The same holds for urllib3's GHSA-34jh, -g4mx, -v845.
    let out = depwatch(&[
        "scan",
        &airflow(),
        "--source",
        &format!("osv-dir:{}", ghsa_osv().display()),
        "--format",
        "json",
    ]);
    let report = json_of(&out);
    let flask = finding(&report, "Flask", "GHSA-m2qf-hxjv-5gpq");
    assert!(flask.get("disagreements").is_none(), "{flask:#}");
    // One source, one record per vulnerability: nothing can disagree.
    for f in report["findings"].as_array().unwrap() {
        assert!(f.get("disagreements").is_none(), "{f:#}");
    }
    let text = depwatch(&[
        "scan",
        &airflow(),
        "--source",
        &format!("osv-dir:{}", ghsa_osv().display()),
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("GHSA-m2qf-hxjv-5gpq"), "{text}");
    assert!(!text.contains("sources disagree"), "{text}");
}

#[test]
fn a_merged_finding_is_titled_by_the_summary_not_by_shortened_details() {
    let summary = ghsa_record("GHSA-m2qf-hxjv-5gpq")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        summary,
        "Flask vulnerable to possible disclosure of permanent session cookie due to missing Vary: Cookie header"
    );
    let pypa = format!("osv-dir:{}", pypa_dir().display());
    let ghsa = format!("osv-dir:{}", ghsa_osv().display());
    let out = depwatch(&[
        "scan",
        &airflow(),
        "--source",
        &pypa,
        "--source",
        &ghsa,
        "--format",
        "json",
    ]);
    let report = json_of(&out);
    // PYSEC-2023-62 (details only) and GHSA-m2qf-hxjv-5gpq (a summary) are one finding, shown
    // under the PyPA id and titled by GitHub's summary.
    let flask = finding(&report, "Flask", "PYSEC-2023-62");
    assert!(
        flask["ids"]
            .as_array()
            .unwrap()
            .contains(&"GHSA-m2qf-hxjv-5gpq".into())
    );
    assert_eq!(flask["summary"], summary.as_str());

    // The drafts and the release notes of a monitored project carry the same title.
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            "sources = [{:?}, {:?}]\n\n[[project]]\nname = \"airflow\"\npath = {:?}\n",
            pypa,
            ghsa,
            airflow()
        ),
    )
    .unwrap();
    let out_dir = tmp.path().join("out");
    let o = depwatch_store(
        &tmp.path().join("store.sqlite3"),
        &[
            "run",
            "--offline",
            "--config",
            config.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    let advisories = out_dir.join("airflow/advisories");
    let md =
        std::fs::read_to_string(advisories.join("airflow-PYSEC-2023-62.md")).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        });
    assert!(md.contains(&summary), "{md}");
    assert!(
        !md.contains("Flask is a lightweight WSGI web application framework. When all of the"),
        "{md}"
    );
    let gh: Value = serde_json::from_str(
        &std::fs::read_to_string(advisories.join("airflow-PYSEC-2023-62.json")).unwrap(),
    )
    .unwrap();
    assert!(gh["summary"].as_str().unwrap().contains(&summary), "{gh:#}");
    let notes = std::fs::read_to_string(out_dir.join("airflow/SECURITY-NOTES.md")).unwrap();
    assert!(notes.contains(&summary), "{notes}");
}

#[test]
fn a_pysec_finding_takes_the_score_of_its_ghsa_alias_in_the_store() {
    // GHSA-m2qf-hxjv-5gpq as a source might publish it with only its 2.3 branch: it then does
    // not list Flask 2.2.2, while PYSEC-2023-62 (no severity of its own) does. The finding
    // stands, shows the disagreement of the two records, and GHSA's CVSS 7.5.
    let tmp = tempfile::tempdir().unwrap();
    let mut ghsa = ghsa_record("GHSA-m2qf-hxjv-5gpq");
    ghsa["affected"].as_array_mut().unwrap().truncate(1);
    assert_eq!(
        ghsa["affected"][0]["ranges"][0]["events"][1]["fixed"],
        "2.3.2"
    );
    let store = tmp.path().join("store.sqlite3");
    let sync = depwatch_store(
        &store,
        &[
            "sync",
            "--source",
            &format!("osv-dir:{}", pypa_dir().display()),
            "--source",
            &osv_dir_with(tmp.path(), &ghsa),
        ],
    );
    assert_eq!(
        sync.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sync.stderr)
    );
    let out = depwatch_store(&store, &["scan", &airflow(), "--format", "json"]);
    let report = json_of(&out);
    let flask = finding(&report, "Flask", "PYSEC-2023-62");
    assert_eq!(flask["severity"], "high", "{flask:#}");
    assert_eq!(flask["cvss_score"], 7.5, "{flask:#}");
    assert_eq!(
        flask["cvss_vectors"][0],
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
    );
    let disagreements = flask["disagreements"].as_array().unwrap();
    assert_eq!(disagreements.len(), 1, "{flask:#}");
    assert!(
        disagreements[0]
            .as_str()
            .unwrap()
            .starts_with("GHSA-m2qf-hxjv-5gpq ("),
        "{disagreements:?}"
    );
}

#[test]
fn a_cvss_v2_vector_gives_a_level_by_the_nvd_v2_bands() {
    // GHSA-9wx4-h78v-vm56 (requests, label MODERATE) with a CVSS v2 vector instead of its v3
    // one. AV:N/AC:M/Au:N/C:C/I:C/A:C is 9.3 on NVD: "high" in v2 (v2 has no "critical").
    let tmp = tempfile::tempdir().unwrap();
    let mut ghsa = ghsa_record("GHSA-9wx4-h78v-vm56");
    ghsa["severity"] = serde_json::json!([
        {"type": "CVSS_V2", "score": "AV:N/AC:M/Au:N/C:C/I:C/A:C"}
    ]);
    let source = osv_dir_with(tmp.path(), &ghsa);
    let out = depwatch(&["scan", &airflow(), "--source", &source, "--format", "json"]);
    let report = json_of(&out);
    let requests = finding(&report, "requests", "GHSA-9wx4-h78v-vm56");
    assert_eq!(requests["severity"], "high", "{requests:#}");
    assert_eq!(requests["cvss_score"], 9.3, "{requests:#}");
    let text = depwatch(&["scan", &airflow(), "--source", &source]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("high (9.3)"), "{text}");
}
