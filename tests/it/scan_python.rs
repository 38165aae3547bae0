//! `depwatch scan` of Python manifests and lockfiles against the PyPA advisory-database
//! snapshot (2024-10-10).
//!
//! The per-package expectations below were derived by hand: open the records under
//! `../shared/corpus/advisories/pypa/vulns/<package>/`, evaluate their `ECOSYSTEM` ranges
//! (`introduced` / `fixed` / `last_affected`, OSV semantics: a version is affected when it
//! falls in a range OR is listed in `versions`; `withdrawn` records do not count) against
//! the pinned version in PEP 440 order. Each comment names the records and the reason.
//! Totals per file are regression guards (the numbers as computed when the sample was
//! checked), not hand-verified themselves.

use crate::support::files::walk;
use crate::support::{depwatch, manifest, shared};
use crate::support::{pypa_source as osv_source, rustsec_source};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Run `depwatch scan PATH --source ... --format FORMAT`; stdout and the exit code.
fn run_scan(path: &Path, sources: &[String], format: &str) -> (Vec<u8>, i32) {
    let mut args = vec!["scan", path.to_str().unwrap(), "--format", format];
    for s in sources {
        args.push("--source");
        args.push(s);
    }
    let out = depwatch(&args);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        !out.stdout.is_empty(),
        "no report for {}: stderr={}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.stdout, code)
}

/// Scan with the given sources and return the JSON report and the exit code.
fn scan_json_with(path: &Path, sources: &[String]) -> (Value, i32) {
    let (stdout, code) = run_scan(path, sources, "json");
    let report = serde_json::from_slice(&stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not JSON ({e}): {}",
            path.display(),
            String::from_utf8_lossy(&stdout)
        )
    });
    (report, code)
}

/// Scan against the PyPA snapshot only.
fn scan_pypa(path: &Path) -> (Value, i32) {
    scan_json_with(path, &[osv_source()])
}

/// `report[key]` as a slice (it must be an array).
fn list<'a>(report: &'a Value, key: &str) -> &'a [Value] {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not an array"))
}

/// Findings on `name` (as written in the manifest) pinned at `version`, on any line.
fn findings_for<'a>(report: &'a Value, name: &str, version: &str) -> Vec<&'a Value> {
    list(report, "findings")
        .iter()
        .filter(|f| f["package"]["name"] == name && f["package"]["version"] == version)
        .collect()
}

/// The display ids of those findings.
fn ids_for(report: &Value, name: &str, version: &str) -> BTreeSet<String> {
    findings_for(report, name, version)
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// The lines those findings point at.
fn lines_for(report: &Value, name: &str, version: &str) -> BTreeSet<u64> {
    findings_for(report, name, version)
        .iter()
        .map(|f| f["location"]["line"].as_u64().unwrap())
        .collect()
}

/// The fix recommended for `name` `version`; every finding on it must recommend the same.
fn fix_for(report: &Value, name: &str, version: &str) -> Value {
    let fixes: Vec<&Value> = findings_for(report, name, version)
        .iter()
        .map(|f| &f["fix"])
        .collect();
    assert!(!fixes.is_empty(), "no finding on {name} {version}");
    assert!(
        fixes.iter().all(|f| *f == fixes[0]),
        "{name} {version}: findings disagree on the fix: {fixes:?}"
    );
    fixes[0].clone()
}

/// The one finding `id` on `name` `version` (the first line when the pin is repeated).
fn finding<'a>(report: &'a Value, name: &str, version: &str, id: &str) -> &'a Value {
    findings_for(report, name, version)
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} on {name} {version}"))
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn upgrade(to: &str) -> Value {
    json!({"kind": "upgrade", "to": to})
}

/// `name` `version` got no finding, and was checked (it is not in `not_checked`), so the
/// absence of a finding means "not affected", not "skipped".
fn assert_clean(report: &Value, name: &str, version: &str) {
    let found = ids_for(report, name, version);
    assert!(
        found.is_empty(),
        "{name} {version} should be clean: {found:?}"
    );
    assert!(
        !list(report, "not_checked")
            .iter()
            .any(|n| n["name"] == name),
        "{name} was not checked"
    );
}

/// The risks on `package` (as written), one per declaring line.
fn risks_for<'a>(report: &'a Value, package: &str) -> Vec<&'a Value> {
    list(report, "risks")
        .iter()
        .filter(|r| r["package"] == package)
        .collect()
}

/// `(id, allowed_affected)` of a risk's advisories.
fn risk_advisories(risk: &Value) -> BTreeSet<(String, String)> {
    list(risk, "advisories")
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_string(),
                a["allowed_affected"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A `requirements.txt` with `body` in a fresh temporary directory (kept alive by the guard).
fn temp_requirements(body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requirements.txt");
    std::fs::write(&path, body).unwrap();
    (dir, path)
}

/// A copy of the corpus file `rel` named `file_name` in a temporary directory, with `from`
/// replaced by `to` (which must occur exactly once).
fn temp_edited_copy(
    rel: &str,
    file_name: &str,
    from: &str,
    to: &str,
) -> (tempfile::TempDir, PathBuf) {
    let text = std::fs::read_to_string(manifest(rel)).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from:?} in {rel}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    std::fs::write(&path, text.replace(from, to)).unwrap();
    (dir, path)
}

/// Manifest file names depwatch recognises (see `docs/report-json.md`, manifest kinds).
fn is_manifest_name(name: &str) -> bool {
    matches!(
        name,
        "Cargo.lock" | "Cargo.toml" | "pyproject.toml" | "poetry.lock" | "uv.lock" | "Pipfile.lock"
    ) || ((name.starts_with("requirements") || name.starts_with("constraints"))
        && name.ends_with(".txt"))
        || (name.starts_with("pylock.") && name.ends_with(".toml"))
}

// ---------------------------------------------------------------------------------------
// 1. Every corpus manifest parses and scans
// ---------------------------------------------------------------------------------------

#[test]
fn every_corpus_manifest_scans_without_input_errors() {
    let root = shared().join("corpus/manifests");
    let sources = [osv_source(), rustsec_source()];
    let (manifests, others): (Vec<PathBuf>, Vec<PathBuf>) = walk(&root)
        .into_iter()
        .partition(|p| is_manifest_name(p.file_name().unwrap().to_str().unwrap()));
    // Only the corpus' own notes are not manifests: nothing is skipped by accident.
    let others: Vec<_> = others
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(others, ["SOURCES.md"]);
    assert_eq!(manifests.len(), 15, "{manifests:#?}");

    let mut kinds = BTreeSet::new();
    for path in &manifests {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let (report, code) = scan_json_with(path, &sources);
        assert!(code == 0 || code == 1, "{rel}: exit code {code}");
        let ms = list(&report, "manifests");
        assert_eq!(ms.len(), 1, "{rel}");
        assert!(ms[0].get("error").is_none(), "{rel}: {}", ms[0]["error"]);
        assert_eq!(report["summary"]["manifest_errors"], 0, "{rel}");
        kinds.insert(ms[0]["kind"].as_str().unwrap().to_string());
        // Exit 1 exactly when there are findings.
        let findings = list(&report, "findings").len();
        assert_eq!(
            code == 1,
            findings > 0,
            "{rel}: exit {code}, {findings} findings"
        );
        if rel == "airflow/pyproject.toml" {
            // Airflow declares `dependencies` and `optional-dependencies` as `dynamic`
            // (generated by hatch_build.py): nothing to read, and it says so.
            assert_eq!(ms[0]["dependencies"], 0);
            let warnings = list(&ms[0], "warnings");
            assert!(
                warnings
                    .iter()
                    .any(|w| w.as_str().unwrap().contains("dynamic")),
                "{warnings:?}"
            );
        } else {
            assert!(
                ms[0]["dependencies"].as_u64().unwrap() > 0,
                "{rel}: no dependencies"
            );
        }
    }
    assert_eq!(
        kinds,
        set(&[
            "cargo-lock",
            "cargo-toml",
            "poetry-lock",
            "pyproject",
            "requirements-txt",
            "uv-lock"
        ])
    );

    // The walk leaves SOURCES.md out; depwatch itself refuses it as an input error.
    let notes = root.join("SOURCES.md");
    let out = depwatch(&["scan", notes.to_str().unwrap(), "--source", &sources[0]]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a non-manifest file is an input error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a recognised manifest"));
}

// ---------------------------------------------------------------------------------------
// 2. Pinned and locked versions against hand-evaluated records
// ---------------------------------------------------------------------------------------

#[test]
fn all_kinds_requirements_findings() {
    let (r, code) = scan_pypa(&manifest("all-kinds/requirements.txt"));
    assert_eq!(code, 1);

    // django==5.0.1 (line 20): every django record with a `5.0` range whose fix is above
    // 5.0.1. PYSEC-2024-28 [5.0, 5.0.2), -47 [5.0, 5.0.3), -56/-57/-58/-59 [5.0, 5.0.7),
    // -67/-68/-69/-70 [5.0, 5.0.8), -102 [5.0, 5.0.9). The other 105 django records end
    // before 5.0 (their last ranges are 4.2.x, 3.2.x, ...).
    assert_eq!(
        ids_for(&r, "django", "5.0.1"),
        set(&[
            "PYSEC-2024-102",
            "PYSEC-2024-28",
            "PYSEC-2024-47",
            "PYSEC-2024-56",
            "PYSEC-2024-57",
            "PYSEC-2024-58",
            "PYSEC-2024-59",
            "PYSEC-2024-67",
            "PYSEC-2024-68",
            "PYSEC-2024-69",
            "PYSEC-2024-70",
        ])
    );
    assert_eq!(lines_for(&r, "django", "5.0.1"), BTreeSet::from([20]));
    // Fix: the fixed versions above 5.0.1 are 5.0.2, 5.0.3, 5.0.7, 5.0.8, 5.0.9, 5.1.1 (and
    // the 4.2/3.2 ones, which are downgrades); each below 5.0.9 is still inside
    // PYSEC-2024-102's [5.0, 5.0.9), so 5.0.9 is the smallest version past all of them.
    assert_eq!(fix_for(&r, "django", "5.0.1"), upgrade("5.0.9"));
    let f = finding(&r, "django", "5.0.1", "PYSEC-2024-28");
    assert_eq!(f["fixed_versions"], json!(["3.2.24", "4.2.10", "5.0.2"]));
    assert_eq!(f["ids"], json!(["CVE-2024-24680", "PYSEC-2024-28"]));

    // idna==3.6: PYSEC-2024-60 is [0.1, 3.7); its CVSS vector (A:H, 7.5) makes it high.
    assert_eq!(ids_for(&r, "idna", "3.6"), set(&["PYSEC-2024-60"]));
    assert_eq!(fix_for(&r, "idna", "3.6"), upgrade("3.7"));
    let idna = finding(&r, "idna", "3.6", "PYSEC-2024-60");
    assert_eq!(idna["severity"], "high");
    assert_eq!(idna["location"]["line"], 24);
    assert_eq!(idna["ids"], json!(["CVE-2024-3651", "PYSEC-2024-60"]));

    // Negatives (records exist, the pinned version is outside every range):
    // jinja2 3.1.2: five records, the newest fix is 2.11.3 (PYSEC-2021-66).
    assert_clean(&r, "jinja2", "3.1.2");
    // requests 2.31.0: PYSEC-2023-74 is [2.3.0, 2.31.0): `fixed` is exclusive.
    assert_clean(&r, "requests", "2.31.0");
    // cryptography 41.0.7: PYSEC-2023-254 [3.1, 41.0.6) is the newest range.
    assert_clean(&r, "cryptography", "41.0.7");
    // urllib3 2.1.0: PYSEC-2023-192 [2.0.0, 2.0.6) and PYSEC-2023-212 [2.0.0, 2.0.7).
    assert_clean(&r, "urllib3", "2.1.0");
    // sqlparse 0.4.4: PYSEC-2023-87 is [0.1.15, 0.4.4) -- again exactly the fix.
    assert_clean(&r, "sqlparse", "0.4.4");
    // pytz==2023.3.post1 (a post-release pin) is read and checked; pytz has no records.
    assert_clean(&r, "pytz", "2023.3.post1");

    // The direct-URL and VCS requirements are reported as not checked, never as safe.
    let not_checked: BTreeSet<String> = list(&r, "not_checked")
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        not_checked,
        set(&["flask", "pydantic-extra-types", "werkzeug"])
    );

    // Regression guard (computed, not hand-verified beyond the sample above).
    assert_eq!(list(&r, "findings").len(), 12);
    assert_eq!(r["summary"]["findings"], 12);
    assert_eq!(r["summary"]["dependencies"], 35);
}

#[test]
fn home_assistant_requirements_findings() {
    let (r, code) = scan_pypa(&manifest("home-assistant/requirements.txt"));
    assert_eq!(code, 1);

    // aiohttp==3.8.5 (lines 4 and 180, python_version<'3.12'):
    //   PYSEC-2023-246 [0, 3.8.6), -250 [0, 3.9.0), -251 [0, 3.9.0), PYSEC-2024-24
    //   [1.0.5, 3.9.2), -26 [0, 3.9.2) -> affected;
    //   PYSEC-2023-120 [0, 3.8.5) (fix == pin), -247 [0, 3.8.0), PYSEC-2021-76 [0, 3.7.4)
    //   -> not; PYSEC-2022-43059 lists 3.8.5 but is withdrawn -> not.
    let aiohttp_385 = set(&[
        "PYSEC-2023-246",
        "PYSEC-2023-250",
        "PYSEC-2023-251",
        "PYSEC-2024-24",
        "PYSEC-2024-26",
    ]);
    assert_eq!(ids_for(&r, "aiohttp", "3.8.5"), aiohttp_385);
    assert_eq!(lines_for(&r, "aiohttp", "3.8.5"), BTreeSet::from([4, 180]));
    assert_eq!(fix_for(&r, "aiohttp", "3.8.5"), upgrade("3.9.2"));
    let f = finding(&r, "aiohttp", "3.8.5", "PYSEC-2023-246");
    assert_eq!(f["markers"], "python_version<'3.12'");
    assert_eq!(
        f["ids"],
        json!(["CVE-2023-47627", "GHSA-gfw2-4jvh-wgfg", "PYSEC-2023-246"])
    );

    // (a) Pre-release pin aiohttp==3.9.0b0 (lines 5 and 179): in PEP 440 order
    // 3.8.6 < 3.9.0b0 < 3.9.0, so PYSEC-2023-246 (fixed 3.8.6) no longer applies while
    // PYSEC-2023-250/-251 (fixed 3.9.0) and PYSEC-2024-24/-26 (fixed 3.9.2) still do.
    // A comparison that dropped the `b0` would lose -250/-251.
    assert_eq!(
        ids_for(&r, "aiohttp", "3.9.0b0"),
        set(&[
            "PYSEC-2023-250",
            "PYSEC-2023-251",
            "PYSEC-2024-24",
            "PYSEC-2024-26"
        ])
    );
    assert_eq!(
        lines_for(&r, "aiohttp", "3.9.0b0"),
        BTreeSet::from([5, 179])
    );
    assert_eq!(fix_for(&r, "aiohttp", "3.9.0b0"), upgrade("3.9.2"));

    // (a) RestrictedPython==7.0a1.dev0 (line 332): a dev release of an alpha of 7.0 is
    // still above 6.2, so PYSEC-2023-159 ([6.0, 6.2) and [0, 5.4)) and PYSEC-2023-118
    // ([0, 5.3)) do not apply. RestrictedPython==6.2 (line 329) is exactly -159's fix.
    // (The name also needs case folding to meet the `restrictedpython` records.)
    assert_clean(&r, "RestrictedPython", "7.0a1.dev0");
    assert_clean(&r, "RestrictedPython", "6.2");

    // cryptography==41.0.4 (lines 20, 194): PYSEC-2023-254 [3.1, 41.0.6) -> affected;
    // PYSEC-2023-112 [40.0.0, 41.0.2) -> not; the others end at 39.0.1 or earlier.
    assert_eq!(
        ids_for(&r, "cryptography", "41.0.4"),
        set(&["PYSEC-2023-254"])
    );
    assert_eq!(fix_for(&r, "cryptography", "41.0.4"), upgrade("41.0.6"));
    assert_eq!(
        finding(&r, "cryptography", "41.0.4", "PYSEC-2023-254")["severity"],
        "high"
    );

    // orjson==3.9.9: PYSEC-2024-40 is [0, 3.9.15).
    assert_eq!(ids_for(&r, "orjson", "3.9.9"), set(&["PYSEC-2024-40"]));
    assert_eq!(fix_for(&r, "orjson", "3.9.9"), upgrade("3.9.15"));

    // (c) Mixed-case names that must be normalised to reach their records, all clean:
    // Pillow 10.1.0: 51 records, the newest fix is 10.0.1 (PYSEC-2023-175).
    assert_clean(&r, "Pillow", "10.1.0");
    // PyYAML 6.0.1: newest fix 5.4 (PYSEC-2021-142); PYSEC-2020-176 ends at 5.2b1.
    assert_clean(&r, "PyYAML", "6.0.1");
    // SQLAlchemy 2.0.22: newest fix 1.2.18 (PYSEC-2019-123/-124).
    assert_clean(&r, "SQLAlchemy", "2.0.22");
    // Jinja2 3.1.2: newest fix 2.11.3 (PYSEC-2021-66).
    assert_clean(&r, "Jinja2", "3.1.2");
    // requests 2.31.0: PYSEC-2023-74 [2.3.0, 2.31.0).
    assert_clean(&r, "requests", "2.31.0");
    // httplib2 0.20.4: PYSEC-2021-16 [0, 0.19.0) is the newest.
    assert_clean(&r, "httplib2", "0.20.4");

    // Regression guard (computed, not hand-verified beyond the sample above):
    // 5 + 5 (aiohttp 3.8.5 x2) + 4 + 4 (3.9.0b0 x2) + 2 (cryptography) + 2 (orjson).
    assert_eq!(list(&r, "findings").len(), 22);
    assert_eq!(r["summary"]["dependencies"], 1010);
    assert_eq!(r["summary"]["risks"], 5);
}

#[test]
fn airflow_constraints_findings() {
    let (r, code) = scan_pypa(&manifest("airflow/constraints.txt"));
    assert_eq!(code, 1);

    // apache-airflow==2.3.4 (line 5): pre-release range boundaries.
    let airflow = ids_for(&r, "apache-airflow", "2.3.4");
    // PYSEC-2022-279 is [2.3.0, 2.4.0b1): 2.3.4 < 2.4.0b1 -> affected.
    assert!(airflow.contains("PYSEC-2022-279"));
    // PYSEC-2022-42983 is [.., 2.4.2rc1), PYSEC-2023-158 [.., 2.7.1rc1) -> affected.
    assert!(airflow.contains("PYSEC-2022-42983"));
    assert!(airflow.contains("PYSEC-2023-158"));
    // PYSEC-2022-263 is [2.2.4, 2.3.4rc1): the final 2.3.4 comes after its own release
    // candidate, so it is NOT affected.
    assert!(!airflow.contains("PYSEC-2022-263"));
    // PYSEC-2022-29 is [0, 2.2.4rc1) -> not affected.
    assert!(!airflow.contains("PYSEC-2022-29"));
    // PYSEC-2024-46 is [2.8.0, 2.8.3rc1): not affected, but it shapes the fix: the newest
    // other fix is 2.8.2 (PYSEC-2024-42), which is inside [2.8.0, 2.8.3rc1), so the
    // smallest version past every advisory is the pre-release 2.8.3rc1.
    assert!(!airflow.contains("PYSEC-2024-46"));
    assert_eq!(fix_for(&r, "apache-airflow", "2.3.4"), upgrade("2.8.3rc1"));
    assert_eq!(airflow.len(), 29, "regression guard");

    // (c) Werkzeug==2.2.2 (line 294) matches the `werkzeug` records:
    // PYSEC-2023-57 and -58 [0, 2.2.3), PYSEC-2023-221 [0, 2.3.8) and [3.0.0, 3.0.1).
    // Fix: 2.2.3 is still inside -221, so 2.3.8.
    assert_eq!(
        ids_for(&r, "Werkzeug", "2.2.2"),
        set(&["PYSEC-2023-221", "PYSEC-2023-57", "PYSEC-2023-58"])
    );
    assert_eq!(fix_for(&r, "Werkzeug", "2.2.2"), upgrade("2.3.8"));
    assert_eq!(lines_for(&r, "Werkzeug", "2.2.2"), BTreeSet::from([294]));
    // (c) Authlib==0.15.5 matches `authlib`: PYSEC-2024-52 [0, 1.3.1).
    assert_eq!(ids_for(&r, "Authlib", "0.15.5"), set(&["PYSEC-2024-52"]));
    assert_eq!(fix_for(&r, "Authlib", "0.15.5"), upgrade("1.3.1"));
    // (c) Flask==2.2.2: PYSEC-2023-62 is [0, 2.2.5) and [2.3.0, 2.3.2); the fix stays on
    // the 2.2 line.
    assert_eq!(ids_for(&r, "Flask", "2.2.2"), set(&["PYSEC-2023-62"]));
    let flask = finding(&r, "Flask", "2.2.2", "PYSEC-2023-62");
    assert_eq!(flask["fixed_versions"], json!(["2.2.5", "2.3.2"]));
    assert_eq!(flask["fix"], upgrade("2.2.5"));

    // urllib3==1.26.11: PYSEC-2023-192 [0, 1.26.17), -212 [0, 1.26.18) (and their 2.0.x
    // ranges). The fix is 1.26.18, not the 2.0.7 of the other branch.
    assert_eq!(
        ids_for(&r, "urllib3", "1.26.11"),
        set(&["PYSEC-2023-192", "PYSEC-2023-212"])
    );
    assert_eq!(fix_for(&r, "urllib3", "1.26.11"), upgrade("1.26.18"));
    // certifi==2022.6.15: PYSEC-2022-42986 [2017.11.5, 2022.12.7), PYSEC-2023-135
    // [2015.4.28, 2023.7.22).
    assert_eq!(
        ids_for(&r, "certifi", "2022.6.15"),
        set(&["PYSEC-2022-42986", "PYSEC-2023-135"])
    );
    assert_eq!(fix_for(&r, "certifi", "2022.6.15"), upgrade("2023.7.22"));
    // requests==2.28.0: PYSEC-2023-74 [2.3.0, 2.31.0).
    assert_eq!(ids_for(&r, "requests", "2.28.0"), set(&["PYSEC-2023-74"]));
    assert_eq!(fix_for(&r, "requests", "2.28.0"), upgrade("2.31.0"));

    // (b) gevent==21.12.0: PYSEC-2023-177 is [0, 23.9.0) but its `versions` list also
    // names 23.9.0 and the post-release 23.9.0.post1 as affected. Under OSV's rule (range OR
    // list) the only fixed version is itself affected: no safe version is known.
    assert_eq!(ids_for(&r, "gevent", "21.12.0"), set(&["PYSEC-2023-177"]));
    let gevent = finding(&r, "gevent", "21.12.0", "PYSEC-2023-177");
    assert_eq!(gevent["fixed_versions"], json!(["23.9.0"]));
    assert_eq!(gevent["fix"], json!({"kind": "no_safe_version"}));

    // Negatives:
    // Flask-Caching 2.0.1: the only record, PYSEC-2021-13, is withdrawn.
    assert_clean(&r, "Flask-Caching", "2.0.1");
    // redis 3.5.3: the only record, PYSEC-2023-73, is withdrawn.
    assert_clean(&r, "redis", "3.5.3");
    // protobuf 3.20.0: PYSEC-2017-65 [0, 3.4.0), PYSEC-2022-48 [0, 3.15.0).
    assert_clean(&r, "protobuf", "3.20.0");

    // Regression guard (computed, not hand-verified beyond the sample above).
    assert_eq!(list(&r, "findings").len(), 53);
    assert_eq!(r["summary"]["dependencies"], 299);
}

#[test]
fn poetry_lock_findings() {
    // The lock is from 2026; every locked version is past the 2024-10-10 snapshot's ranges.
    let (r, code) = scan_pypa(&manifest("poetry/poetry.lock"));
    assert_eq!(code, 0);
    assert!(list(&r, "findings").is_empty());
    // urllib3 2.6.3: newest ranges end at 2.0.6 / 2.0.7 (PYSEC-2023-192, -212).
    assert_clean(&r, "urllib3", "2.6.3");
    // cryptography 47.0.0: newest range [3.1, 41.0.6) (PYSEC-2023-254).
    assert_clean(&r, "cryptography", "47.0.0");
    // requests 2.33.1: PYSEC-2023-74 [2.3.0, 2.31.0).
    assert_clean(&r, "requests", "2.33.1");
    // pyyaml 6.0.3: newest fix 5.4 (PYSEC-2021-142).
    assert_clean(&r, "pyyaml", "6.0.3");
    assert_eq!(r["summary"]["dependencies"], 78);
    // poetry-core comes from git: not checked.
    let nc = list(&r, "not_checked");
    assert_eq!(nc.len(), 1);
    assert_eq!(nc[0]["name"], "poetry-core");

    // The same lock with urllib3 set back to 1.26.17: PYSEC-2023-192 is [0, 1.26.17)
    // (fix == version, not affected), PYSEC-2023-212 is [0, 1.26.18) (affected).
    let (_dir, lock) = temp_edited_copy(
        "poetry/poetry.lock",
        "poetry.lock",
        "name = \"urllib3\"\nversion = \"2.6.3\"",
        "name = \"urllib3\"\nversion = \"1.26.17\"",
    );
    let (r, code) = scan_pypa(&lock);
    assert_eq!(code, 1);
    assert_eq!(ids_for(&r, "urllib3", "1.26.17"), set(&["PYSEC-2023-212"]));
    assert_eq!(fix_for(&r, "urllib3", "1.26.17"), upgrade("1.26.18"));
    let f = finding(&r, "urllib3", "1.26.17", "PYSEC-2023-212");
    // The [[package]] entry's line. poetry depends directly on both dulwich and requests,
    // and both lock entries require urllib3: either is a shortest path from the root.
    assert_eq!(f["location"]["line"], 2035);
    assert!(
        f["via"] == json!(["dulwich"]) || f["via"] == json!(["requests"]),
        "{}",
        f["via"]
    );
    assert_eq!(list(&r, "findings").len(), 1);
}

#[test]
fn uv_lock_findings() {
    // The lock is from 2026; every locked version is past the snapshot's ranges.
    let (r, code) = scan_pypa(&manifest("uv/uv.lock"));
    assert_eq!(code, 0);
    assert!(list(&r, "findings").is_empty());
    // gitpython 3.1.58: newest range [0, 3.1.41) (PYSEC-2024-4).
    assert_clean(&r, "gitpython", "3.1.58");
    // jinja2 3.1.6: newest fix 2.11.3.
    assert_clean(&r, "jinja2", "3.1.6");
    // black 26.5.1: PYSEC-2024-48 is [0, 24.3.0).
    assert_clean(&r, "black", "26.5.1");
    // tqdm 4.68.2: PYSEC-2017-74 is [0, 4.11.2).
    assert_clean(&r, "tqdm", "4.68.2");
    assert_eq!(r["summary"]["dependencies"], 89);
    // The project itself (editable `.`) is not checked.
    let nc = list(&r, "not_checked");
    assert_eq!(nc.len(), 1);
    assert_eq!(nc[0]["name"], "uv");

    // The same lock with gitpython set back to 3.1.32:
    // PYSEC-2023-161 [0, 3.1.33), -165 [0, 3.1.35), PYSEC-2024-4 [0, 3.1.41) -> affected;
    // PYSEC-2023-137 [0, 3.1.32) (fix == version) and PYSEC-2022-42992 [0, 3.1.30) -> not.
    let (_dir, lock) = temp_edited_copy(
        "uv/uv.lock",
        "uv.lock",
        "name = \"gitpython\"\nversion = \"3.1.58\"",
        "name = \"gitpython\"\nversion = \"3.1.32\"",
    );
    let (r, code) = scan_pypa(&lock);
    assert_eq!(code, 1);
    assert_eq!(
        ids_for(&r, "gitpython", "3.1.32"),
        set(&["PYSEC-2023-161", "PYSEC-2023-165", "PYSEC-2024-4"])
    );
    assert_eq!(fix_for(&r, "gitpython", "3.1.32"), upgrade("3.1.41"));
    let f = finding(&r, "gitpython", "3.1.32", "PYSEC-2024-4");
    // Reached through the `docs` dependency group: uv -> mkdocs-git-revision-date-localized-plugin.
    assert_eq!(
        f["via"],
        json!(["mkdocs-git-revision-date-localized-plugin"])
    );
    assert_eq!(f["scope"], "docs");
    assert_eq!(f["location"]["line"], 464);
    assert_eq!(list(&r, "findings").len(), 3);
}

#[test]
fn pep440_edge_cases_on_real_records() {
    // Versions that are not in the corpus manifests, against real records whose boundaries
    // are pre- or post-releases, to pin PEP 440 ordering down where it matters.
    let (_dir, path) = temp_requirements(
        "aiohttp==3.9.2rc0\n\
         label-studio==1.5.0rc13\n\
         python-engineio==3.9.0.post1\n\
         Beaker==1.6.5.post1\n\
         gevent==23.9.0.post1\n\
         JW_Util==2.2\n\
         py==1.11.0\n",
    );
    let (r, code) = scan_pypa(&path);
    assert_eq!(code, 1);
    // (a) 3.9.2rc0 is listed in no record: only the ranges decide. 3.9.0 < 3.9.2rc0 < 3.9.2,
    // so PYSEC-2024-24/-26 (fixed 3.9.2) apply and PYSEC-2023-250/-251 (fixed 3.9.0) don't.
    assert_eq!(
        ids_for(&r, "aiohttp", "3.9.2rc0"),
        set(&["PYSEC-2024-24", "PYSEC-2024-26"])
    );
    assert_eq!(fix_for(&r, "aiohttp", "3.9.2rc0"), upgrade("3.9.2"));
    // (a)+(b) PYSEC-2022-300 is [0, 1.5.0.post0): 1.5.0rc13 < 1.5.0 < 1.5.0.post0.
    assert_eq!(
        ids_for(&r, "label-studio", "1.5.0rc13"),
        set(&["PYSEC-2022-300"])
    );
    assert_eq!(
        fix_for(&r, "label-studio", "1.5.0rc13"),
        upgrade("1.5.0.post0")
    );
    // (b) PYSEC-2019-170 is [0, 3.9.0): a post-release of 3.9.0 is past the fix.
    assert_clean(&r, "python-engineio", "3.9.0.post1");
    // (b) PYSEC-2012-1 is [0, 1.6.5.post1): the pin is exactly the fix -> not affected;
    // PYSEC-2020-216 has no fix and lists 1.6.5.post1 -> affected, no fix known.
    assert_eq!(
        ids_for(&r, "Beaker", "1.6.5.post1"),
        set(&["PYSEC-2020-216"])
    );
    assert_eq!(
        fix_for(&r, "Beaker", "1.6.5.post1"),
        json!({"kind": "no_fix"})
    );
    // (b) PYSEC-2023-177's range ends at 23.9.0, but its `versions` list names
    // 23.9.0.post1 -> affected (OSV: range OR list).
    assert_eq!(
        ids_for(&r, "gevent", "23.9.0.post1"),
        set(&["PYSEC-2023-177"])
    );
    // (c) PEP 503: `JW_Util` normalises to `jw-util`, as does the record's package name
    // `jw.util` (directory `jw.util/`). PYSEC-2020-341 is [0, 2.3).
    assert_eq!(ids_for(&r, "JW_Util", "2.2"), set(&["PYSEC-2020-341"]));
    assert_eq!(fix_for(&r, "JW_Util", "2.2"), upgrade("2.3"));
    // `last_affected` is inclusive: PYSEC-2022-42969 is [0, 1.11.0] with no fix, while
    // PYSEC-2020-92 [0, 1.10.0) is behind 1.11.0.
    assert_eq!(ids_for(&r, "py", "1.11.0"), set(&["PYSEC-2022-42969"]));
    assert_eq!(fix_for(&r, "py", "1.11.0"), json!({"kind": "no_fix"}));
    assert_eq!(list(&r, "findings").len(), 7);
}

// ---------------------------------------------------------------------------------------
// 3. Unpinned ranges: risks with suggested bounds
// ---------------------------------------------------------------------------------------

#[test]
fn plexcollect_ranges_admit_no_affected_version() {
    // Every requirement is `>=` a late-2024 release. Checked by hand, the newest fixes in
    // the snapshot are all below the lower bounds, so there is no risk:
    //   streamlit>=1.39.0: PYSEC-2022-248 [0.63.0, 1.11.1), PYSEC-2023-50 [0.63.0, 0.81.0);
    //   sqlalchemy>=2.0.36: newest fix 1.2.18 (PYSEC-2019-123/-124);
    //   aiohttp>=3.11.10: newest fix 3.9.2 (PYSEC-2024-24/-26);
    //   fastapi>=0.115.5: PYSEC-2024-38 [0, 0.109.1);
    //   pyyaml>=6.0.2: newest fix 5.4; tqdm>=4.67.1: PYSEC-2017-74 [0, 4.11.2).
    let (r, code) = scan_pypa(&manifest("plexcollect/requirements.txt"));
    assert_eq!(code, 0);
    assert!(list(&r, "risks").is_empty(), "{:#}", r["risks"]);
    assert!(list(&r, "findings").is_empty());
    assert!(list(&r, "not_checked").is_empty());
    assert_eq!(r["summary"]["dependencies"], 17);
}

#[test]
fn lowered_plexcollect_bounds_give_risks_with_suggested_bounds() {
    // The same packages with older lower bounds: now the ranges admit affected versions.
    let (_dir, path) = temp_requirements(
        "streamlit>=1.0\n\
         aiohttp>=3.8.0,<4\n\
         sqlalchemy>=1.2\n\
         fastapi>=0.100\n\
         tqdm>=4.67.1\n\
         gevent>=23.9.0\n",
    );
    let (r, code) = scan_pypa(&path);
    // Risks are not findings: exit 0.
    assert_eq!(code, 0);
    assert!(list(&r, "findings").is_empty());
    assert_eq!(r["summary"]["risks"], 5);

    // streamlit>=1.0: PYSEC-2022-248 [0.63.0, 1.11.1) is cut to [1.0, 1.11.1);
    // PYSEC-2023-50 [0.63.0, 0.81.0) lies entirely below 1.0.
    let streamlit = risks_for(&r, "streamlit");
    assert_eq!(streamlit.len(), 1);
    assert_eq!(
        risk_advisories(streamlit[0]),
        pairs(&[("PYSEC-2022-248", ">=1.0, <1.11.1")])
    );
    assert_eq!(streamlit[0]["suggested"], ">=1.11.1");
    assert_eq!(streamlit[0]["location"]["line"], 1);

    // aiohttp>=3.8.0,<4: PYSEC-2023-247 [0, 3.8.0) is excluded; PYSEC-2021-76 too. The
    // highest fix of the rest is 3.9.2.
    let aiohttp = risks_for(&r, "aiohttp");
    assert_eq!(aiohttp.len(), 1);
    assert_eq!(
        risk_advisories(aiohttp[0]),
        pairs(&[
            ("PYSEC-2023-120", ">=3.8.0, <3.8.5"),
            ("PYSEC-2023-246", ">=3.8.0, <3.8.6"),
            ("PYSEC-2023-250", ">=3.8.0, <3.9.0"),
            ("PYSEC-2023-251", ">=3.8.0, <3.9.0"),
            ("PYSEC-2024-24", ">=3.8.0, <3.9.2"),
            ("PYSEC-2024-26", ">=3.8.0, <3.9.2"),
        ])
    );
    assert_eq!(aiohttp[0]["suggested"], ">=3.9.2");
    assert_eq!(aiohttp[0]["severity"], "high", "PYSEC-2023-246 is CVSS 7.5");

    // sqlalchemy>=1.2: PYSEC-2019-123/-124 [0, 1.2.18); PYSEC-2012-9 [0, 0.7.0) is below.
    let sqlalchemy = risks_for(&r, "sqlalchemy");
    assert_eq!(
        risk_advisories(sqlalchemy[0]),
        pairs(&[
            ("PYSEC-2019-123", ">=1.2, <1.2.18"),
            ("PYSEC-2019-124", ">=1.2, <1.2.18"),
        ])
    );
    assert_eq!(sqlalchemy[0]["suggested"], ">=1.2.18");

    // fastapi>=0.100: PYSEC-2024-38 [0, 0.109.1); PYSEC-2021-100 [0, 0.65.2) is below.
    let fastapi = risks_for(&r, "fastapi");
    assert_eq!(
        risk_advisories(fastapi[0]),
        pairs(&[("PYSEC-2024-38", ">=0.100, <0.109.1")])
    );
    assert_eq!(fastapi[0]["suggested"], ">=0.109.1");

    // (b) gevent>=23.9.0: the range of PYSEC-2023-177 ends at 23.9.0, but its `versions`
    // list names 23.9.0 and 23.9.0.post1, so the bound must pass the post-release.
    let gevent = risks_for(&r, "gevent");
    assert_eq!(
        risk_advisories(gevent[0]),
        pairs(&[("PYSEC-2023-177", "==23.9.0 || ==23.9.0.post1")])
    );
    assert_eq!(gevent[0]["suggested"], ">23.9.0.post1");

    // tqdm>=4.67.1: PYSEC-2017-74 [0, 4.11.2) is entirely below the bound: no risk.
    assert!(risks_for(&r, "tqdm").is_empty());
}

#[test]
fn home_assistant_ranges_give_risks_with_suggested_bounds() {
    let (r, _) = scan_pypa(&manifest("home-assistant/requirements.txt"));
    // certifi>=2021.5.30 (lines 18 and 186): PYSEC-2022-42986 [2017.11.5, 2022.12.7) and
    // PYSEC-2023-135 [2015.4.28, 2023.7.22), both cut at the lower bound.
    let certifi = risks_for(&r, "certifi");
    assert_eq!(certifi.len(), 2);
    for risk in &certifi {
        assert_eq!(risk["requirement"], ">=2021.5.30");
        assert_eq!(
            risk_advisories(risk),
            pairs(&[
                ("PYSEC-2022-42986", ">=2021.5.30, <2022.12.7"),
                ("PYSEC-2023-135", ">=2021.5.30, <2023.7.22"),
            ])
        );
        assert_eq!(risk["suggested"], ">=2023.7.22");
    }
    // pip>=21.3.1: PYSEC-2023-228 [0, 23.3); PYSEC-2021-437 [0, 21.1) is below the bound.
    let pip = risks_for(&r, "pip");
    assert_eq!(pip.len(), 2);
    assert_eq!(
        risk_advisories(pip[0]),
        pairs(&[("PYSEC-2023-228", ">=21.3.1, <23.3")])
    );
    assert_eq!(pip[0]["suggested"], ">=23.3");
    // urllib3>=1.26.5,<2 (line 67): the 1.26 branch of PYSEC-2023-192 ([0, 1.26.17)) and
    // -212 ([0, 1.26.18)); their 2.0.x ranges are outside `<2`. PYSEC-2021-108 [0, 1.26.5)
    // ends exactly at the lower bound.
    let urllib3 = risks_for(&r, "urllib3");
    assert_eq!(urllib3.len(), 1);
    assert_eq!(urllib3[0]["location"]["line"], 67);
    assert_eq!(
        risk_advisories(urllib3[0]),
        pairs(&[
            ("PYSEC-2023-192", ">=1.26.5, <1.26.17"),
            ("PYSEC-2023-212", ">=1.26.5, <1.26.18"),
        ])
    );
    assert_eq!(urllib3[0]["suggested"], ">=1.26.18");
    assert_eq!(urllib3[0]["severity"], "high");
    // Negatives at the boundary: pycryptodome>=3.6.6 vs PYSEC-2018-21 [0, 3.6.6) and
    // httplib2>=0.19.0 vs PYSEC-2021-16 [0, 0.19.0) admit no affected version.
    assert!(risks_for(&r, "pycryptodome").is_empty());
    assert!(risks_for(&r, "httplib2").is_empty());
    assert_eq!(list(&r, "risks").len(), 5);
}

// ---------------------------------------------------------------------------------------
// 4. Exact pins of emby-watchparty
// ---------------------------------------------------------------------------------------

#[test]
fn emby_watchparty_pins() {
    let (r, code) = scan_pypa(&manifest("emby-watchparty/requirements.txt"));
    // Flask==3.0.0: PYSEC-2023-62 is [0, 2.2.5) and [2.3.0, 2.3.2); PYSEC-2018-66 and
    // PYSEC-2019-179 end at 0.12.3 and 1.0 -> clean.
    assert_clean(&r, "Flask", "3.0.0");
    // requests==2.31.0: PYSEC-2023-74 is [2.3.0, 2.31.0): the pin is the fix -> clean.
    assert_clean(&r, "requests", "2.31.0");
    // Flask-Limiter==3.5.0, flask-socketio==5.3.5, python-socketio==5.10.0: no records in
    // the snapshot (no `flask-limiter/` etc.) -> checked, nothing found.
    assert_clean(&r, "Flask-Limiter", "3.5.0");
    // gevent>=25.9.1: PYSEC-2023-177 affects at most 23.9.0.post1 -> no risk.
    assert!(list(&r, "risks").is_empty());
    assert!(list(&r, "findings").is_empty());
    assert_eq!(code, 0);
    assert_eq!(r["summary"]["dependencies"], 9);

    // The same file one release earlier on Flask and requests, to show the finding fields:
    let (_dir, path) = temp_requirements(
        &std::fs::read_to_string(manifest("emby-watchparty/requirements.txt"))
            .unwrap()
            .replace("Flask==3.0.0", "Flask==2.3.1")
            .replace("requests==2.31.0", "requests==2.30.0"),
    );
    let (r, code) = scan_pypa(&path);
    assert_eq!(code, 1);
    assert_eq!(list(&r, "findings").len(), 2);
    let flask = finding(&r, "Flask", "2.3.1", "PYSEC-2023-62");
    // `id`: the PYSEC id is displayed; `ids`: it and its aliases (CVE, GHSA), sorted.
    assert_eq!(
        flask["ids"],
        json!(["CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq", "PYSEC-2023-62"])
    );
    // `fixed_versions`: both fixes named by the record; `fix`: 2.3.1 is in [2.3.0, 2.3.2),
    // so the upgrade is 2.3.2 -- 2.2.5 would be a downgrade.
    assert_eq!(flask["fixed_versions"], json!(["2.2.5", "2.3.2"]));
    assert_eq!(flask["fix"], upgrade("2.3.2"));
    assert_eq!(flask["location"]["line"], 1);
    assert_eq!(flask["kind"], "vulnerability");
    // requests 2.30.0 is in [2.3.0, 2.31.0): upgrade to 2.31.0, what emby pins.
    let requests = finding(&r, "requests", "2.30.0", "PYSEC-2023-74");
    assert_eq!(
        requests["ids"],
        json!(["CVE-2023-32681", "GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"])
    );
    assert_eq!(requests["fix"], upgrade("2.31.0"));
    assert_eq!(requests["location"]["line"], 4);
}

// ---------------------------------------------------------------------------------------
// 5. SARIF
// ---------------------------------------------------------------------------------------

#[test]
fn sarif_has_a_result_at_each_finding_line() {
    let path = manifest("all-kinds/requirements.txt");
    let (report, _) = scan_pypa(&path);
    let (stdout, code) = run_scan(&path, &[osv_source()], "sarif");
    assert_eq!(code, 1);
    let sarif: Value = serde_json::from_slice(&stdout).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &list(&sarif, "runs")[0];
    let results = list(run, "results");
    let rules = list(&run["tool"]["driver"], "rules");
    let findings = list(&report, "findings");
    assert!(!findings.is_empty());
    assert!(results.len() >= findings.len());
    for result in results {
        // Each result's ruleIndex points at its rule.
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    for f in findings {
        let line = &f["location"]["line"];
        let hit = results.iter().any(|res| {
            res["ruleId"] == f["id"]
                && list(res, "locations").iter().any(|l| {
                    let phys = &l["physicalLocation"];
                    phys["region"]["startLine"] == *line
                        && phys["artifactLocation"]["uri"]
                            .as_str()
                            .unwrap()
                            .ends_with("all-kinds/requirements.txt")
                })
        });
        assert!(hit, "no SARIF result for {} at line {line}", f["id"]);
    }
}
