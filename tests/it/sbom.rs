//! CycloneDX SBOMs in and out (issue 16): `depwatch sbom` on corpus lockfiles, checked against
//! the CycloneDX 1.6 schema and for determinism; `scan` of an SBOM (the real examples, and one
//! `depwatch sbom` wrote) gives the lockfile's findings; broken SBOMs are named errors.

use crate::support::{
    depwatch, json_of, manifest, output_text, pypa_source, rustsec_source, shared,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn cdx(rel: &str) -> PathBuf {
    shared().join("feeds-reference/cyclonedx").join(rel)
}

fn schema_json(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(cdx(&format!("schema/{name}"))).unwrap()).unwrap()
}

/// The bom-1.6 schema with its two external schemas registered under their `$id`s (offline).
fn assert_valid(doc: &Value) {
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            schema_json("spdx.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            schema_json("jsf-0.82.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&schema_json("bom-1.6.schema.json"))
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The validator does reject: a vulnerability rating of a severity CycloneDX lacks.
    let mut bad = doc.clone();
    bad["bomFormat"] = json!("SPDX");
    assert!(!validator.is_valid(&bad));
}

fn sbom(args: &[&str], out: &Path) -> Vec<u8> {
    let mut a = vec!["sbom", "-o", out.to_str().unwrap()];
    a.extend_from_slice(args);
    let o = depwatch(&a);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    std::fs::read(out).unwrap()
}

/// (id, package, version, via) of a report's findings, sorted.
fn findings(report: &Value) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["package"]["name"].as_str().unwrap().to_lowercase(),
                f["package"]["version"].as_str().unwrap().to_string(),
                f["via"].to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn scan(args: &[&str]) -> Value {
    let mut a = vec!["scan", "--format", "json"];
    a.extend_from_slice(args);
    let o = depwatch(&a);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    json_of(&o)
}

#[test]
fn sbom_of_corpus_lockfiles_is_valid_deterministic_and_scans_back_to_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (rs, py) = (rustsec_source(), pypa_source());
    let cargo_lock = manifest("uv/Cargo.lock");
    let poetry_lock = manifest("poetry/poetry.lock");
    let (cl, pl) = (cargo_lock.to_str().unwrap(), poetry_lock.to_str().unwrap());
    let args = ["--source", &rs, "--source", &py, "--name", "corpus", cl, pl];
    let out = dir.path().join("corpus.cdx.json");
    let first = sbom(&args, &out);
    // Deterministic: the same scan gives the same bytes (serial number included).
    let again = sbom(&args, &dir.path().join("again.json"));
    assert_eq!(first, again);
    let doc: Value = serde_json::from_slice(&first).unwrap();
    assert_valid(&doc);
    assert_eq!(doc["specVersion"], "1.6");
    assert!(doc.get("timestamp").is_none() && doc["metadata"].get("timestamp").is_none());
    assert_eq!(
        doc["metadata"]["component"]["bom-ref"],
        "pkg:generic/corpus"
    );

    // Components: sorted, bom-ref = purl, PyPI names PEP 503-normalised in the purl.
    let comps = doc["components"].as_array().unwrap();
    let refs: Vec<&str> = comps
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let mut sorted = refs.clone();
    sorted.sort();
    assert_eq!(refs, sorted);
    let rsa = comps
        .iter()
        .find(|c| c["name"] == "rsa")
        .expect("rsa from Cargo.lock");
    assert_eq!(rsa["purl"], rsa["bom-ref"]);
    assert!(rsa["purl"].as_str().unwrap().starts_with("pkg:cargo/rsa@"));
    assert!(
        comps
            .iter()
            .filter_map(|c| c["purl"].as_str())
            .filter(|p| p.starts_with("pkg:pypi/"))
            .all(|p| !p.contains('_') && p == p.to_lowercase()),
        "PyPI purls are normalised"
    );

    // The graph: the project depends on the direct dependencies; edges have known ends.
    let deps = doc["dependencies"].as_array().unwrap();
    let root = deps
        .iter()
        .find(|d| d["ref"] == "pkg:generic/corpus")
        .expect("the project's entry");
    assert!(!root["dependsOn"].as_array().unwrap().is_empty());
    let known: std::collections::BTreeSet<&str> =
        refs.iter().copied().chain(["pkg:generic/corpus"]).collect();
    for d in deps {
        assert!(known.contains(d["ref"].as_str().unwrap()), "{d}");
        for on in d["dependsOn"].as_array().unwrap() {
            assert!(known.contains(on.as_str().unwrap()), "{on}");
        }
    }

    // Vulnerabilities: rsa's Marvin attack with its CVSS vector, method and computed score.
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    let marvin = vulns
        .iter()
        .find(|v| v["id"] == "RUSTSEC-2023-0071")
        .expect("RUSTSEC-2023-0071");
    assert_eq!(marvin["affects"][0]["ref"], rsa["bom-ref"]);
    let rating = &marvin["ratings"][0];
    assert_eq!(rating["method"], "CVSSv31");
    assert_eq!(rating["score"], 5.9);
    assert_eq!(rating["severity"], "medium");
    assert!(
        rating["justification"]
            .as_str()
            .unwrap()
            .contains("computed by depwatch")
    );
    assert!(
        marvin["recommendation"]
            .as_str()
            .unwrap()
            .contains("depwatch's advice")
    );

    // Round trip: scanning the SBOM finds what scanning the lockfiles finds, with the same via.
    let direct = scan(&["--source", &rs, "--source", &py, cl, pl]);
    let back = scan(&["--source", &rs, "--source", &py, out.to_str().unwrap()]);
    assert!(!findings(&direct).is_empty());
    assert_eq!(findings(&back), findings(&direct));
    assert_eq!(back["manifests"][0]["kind"], "cyclonedx");
    // Each finding points at the line of its component's purl in the SBOM.
    let text = String::from_utf8(first.clone()).unwrap();
    for f in back["findings"].as_array().unwrap() {
        let line = f["location"]["line"].as_u64().unwrap() as usize;
        let at = text.lines().nth(line - 1).unwrap_or_default();
        assert!(
            at.contains("\"purl\": \"pkg:"),
            "{f}: line {line} is {at:?}"
        );
    }
    // One vulnerability per finding.
    assert_eq!(vulns.len(), findings(&direct).len());
}

#[test]
fn ignores_and_vex_statements_become_analysis() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "aiohttp==3.8.5\ncryptography==41.0.4\norjson==3.9.9\n",
    )
    .unwrap();
    let vex = json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.org/vex/1",
        "author": "Project maintainers",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": [
            { "vulnerability": { "name": "CVE-2023-49083" },
              "products": [{ "@id": "pkg:generic/app", "subcomponents": [{ "@id": "pkg:pypi/cryptography@41.0.4" }] }],
              "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
              "impact_statement": "the app never loads PKCS7 certificates" },
            { "vulnerability": { "name": "PYSEC-2024-40" },
              "products": [{ "@id": "pkg:generic/app", "subcomponents": [{ "@id": "pkg:pypi/orjson" }] }],
              "status": "under_investigation" },
        ],
    });
    std::fs::write(dir.path().join(".openvex.json"), vex.to_string()).unwrap();
    let py = pypa_source();
    let out = dir.path().join("bom.json");
    let req = dir.path().join("requirements.txt");
    let bytes = sbom(
        &[
            "--source",
            &py,
            "--ignore",
            "PYSEC-2023-250",
            req.to_str().unwrap(),
        ],
        &out,
    );
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_valid(&doc);
    let vuln = |id: &str| {
        doc["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {doc:#}"))
            .clone()
    };
    let vexed = vuln("PYSEC-2023-254");
    assert_eq!(vexed["analysis"]["state"], "not_affected");
    assert_eq!(vexed["analysis"]["justification"], "code_not_reachable");
    let detail = vexed["analysis"]["detail"].as_str().unwrap();
    assert!(
        detail.contains("vulnerable_code_not_in_execute_path"),
        "{detail}"
    );
    assert!(
        detail.contains("the app never loads PKCS7 certificates"),
        "{detail}"
    );
    assert_eq!(vexed["affects"][0]["ref"], "pkg:pypi/cryptography@41.0.4");
    // A plain ignore claims no state: only what was written, and where.
    let ignored = vuln("PYSEC-2023-250");
    assert!(ignored["analysis"].get("state").is_none(), "{ignored}");
    assert!(
        ignored["analysis"]["detail"]
            .as_str()
            .unwrap()
            .starts_with("ignored in --ignore: --ignore on the command line")
    );
    assert_eq!(vuln("PYSEC-2024-40")["analysis"]["state"], "in_triage");
    // A requirements file has no graph: no edge is invented.
    assert_eq!(doc["dependencies"], json!([]));
}

#[test]
fn real_cyclonedx_examples_are_scanned() {
    use depwatch::manifests::{Requirement, cyclonedx};
    // cargo-cyclonedx: the root crate is the subject, its dependsOn are direct.
    let path = cdx("examples/pydantic-core-2.46.4.cyclonedx.json");
    let m = cyclonedx::parse_bytes(Path::new("upload"), &std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(m.dependencies.len(), 103);
    let pinned = |n: &str| {
        m.dependencies
            .iter()
            .find(|d| d.name == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    assert!(matches!(
        pinned("ahash").requirement,
        Requirement::Pinned { .. }
    ));
    assert_eq!(pinned("ahash").via, Some(vec![]));
    assert!(m.dependencies.iter().all(|d| d.file == Path::new("upload")));
    assert!(m.dependencies.iter().all(|d| d.via.is_some()));
    assert!(
        m.dependencies
            .iter()
            .any(|d| d.via.as_ref().is_some_and(|v| !v.is_empty()))
    );

    // cyclonedx-py: PyPI names, bom-refs `name==version`, a root component.
    let path = cdx("examples/cyclonedx-py_environment_plain_with-extras_1.6.json");
    let m = cyclonedx::parse_bytes(&path, &std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(m.dependencies.len(), 31);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);

    // A Maven component is not checked, and said so; the file is found by content.
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("maven.sbom");
    std::fs::copy(cdx("examples/valid-vulnerability-1.6.json"), &odd).unwrap();
    let o = depwatch(&[
        "scan",
        "--format",
        "json",
        "--source",
        &rustsec_source(),
        odd.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let r = json_of(&o);
    assert_eq!(r["manifests"][0]["kind"], "cyclonedx");
    let w = r["manifests"][0]["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("1 component(s) not checked") && w.contains("pkg:maven"),
        "{w}"
    );

    // The real environment SBOM scans against PyPA's records on the binary.
    let o = depwatch(&[
        "scan",
        "--format",
        "json",
        "--source",
        &pypa_source(),
        path.to_str().unwrap(),
    ]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        output_text(&o)
    );
    assert_eq!(json_of(&o)["summary"]["dependencies"], 31);
}

#[test]
fn a_broken_sbom_is_an_error_naming_the_file_and_component() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("app.cdx.json");
    std::fs::write(
        &bad,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
            {"name":"ok","purl":"pkg:pypi/ok@1.0"},
            {"name":"x","components":[{"bom-ref":"b-1","purl":"not a purl"}]}]}"#,
    )
    .unwrap();
    let o = depwatch(&["scan", "--source", &pypa_source(), bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", output_text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("app.cdx.json"), "{err}");
    assert!(
        err.contains("components[1].components[0] (bom-ref \"b-1\")"),
        "{err}"
    );
    // `sbom` refuses to write from a partial scan.
    let o = depwatch(&["sbom", "--source", &pypa_source(), bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", output_text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("partial scan"));
}
