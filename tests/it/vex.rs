//! OpenVEX in and out (issue 14 §5) and `until-fix` ignores, on the real binary: PyPA's
//! records against home-assistant's pins (aiohttp, cryptography, orjson), a synced store and
//! the monitor's memory; the output is checked against OpenVEX's own JSON schema.

use crate::util::{depwatch, pypa_dir, shared};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

const PINS: &str = "aiohttp==3.8.5\ncryptography==41.0.4\norjson==3.9.9\n";

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A VEX document with these statements (a document-level timestamp).
fn vex_doc(statements: Value) -> String {
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.org/vex/1",
        "author": "Project maintainers",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": statements,
    })
    .to_string()
}

fn sub(purl: &str) -> Value {
    json!([{ "@id": "pkg:generic/app", "subcomponents": [{ "@id": purl }] }])
}

fn scan_json(dir: &Path, extra: &[&str]) -> (Output, Value) {
    let source = format!("osv-dir:{}", pypa_dir().display());
    let req = dir.join("requirements.txt");
    let mut args = vec![
        "scan",
        "--source",
        &source,
        "--format",
        "json",
        req.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = depwatch(&args);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o, v)
}

fn ignored_keys(report: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = report["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["package"]["name"].as_str().unwrap().to_string(),
                i["package"]["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn finding<'a>(report: &'a Value, id: &str, name: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id && f["package"]["name"] == name)
}

#[test]
fn an_openvex_json_next_to_the_manifest_applies_each_status() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), PINS).unwrap();
    let doc = vex_doc(json!([
        // An alias (CVE) of PYSEC-2023-254, the product's subcomponent a purl with the PyPI
        // name in another spelling.
        { "vulnerability": { "name": "CVE-2023-49083" }, "products": sub("pkg:pypi/Cryptography@41.0.4"),
          "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
          "impact_statement": "the app never loads PKCS7 certificates" },
        { "vulnerability": { "name": "PYSEC-2024-40" }, "products": sub("pkg:pypi/orjson"),
          "status": "under_investigation" },
        { "vulnerability": { "name": "GHSA-gfw2-4jvh-wgfg" }, "products": sub("pkg:pypi/aiohttp@3.8.5"),
          "status": "fixed" },
        { "vulnerability": { "name": "CVE-2024-23334" }, "products": sub("pkg:pypi/aiohttp@3.8.5"),
          "status": "affected", "action_statement": "Do not serve static files with follow_symlinks" },
        // Another version: does not apply.
        { "vulnerability": { "name": "CVE-2023-49081" }, "products": sub("pkg:pypi/aiohttp@3.9.2"),
          "status": "not_affected", "justification": "component_not_present" },
    ]));
    std::fs::write(dir.path().join(".openvex.json"), doc).unwrap();
    let (o, r) = scan_json(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // not_affected: suppressed, with its justification and statement.
    assert!(finding(&r, "PYSEC-2023-254", "cryptography").is_none());
    let ig = &r["ignored"][0];
    assert_eq!(ig["id"], "PYSEC-2023-254", "{r:#}");
    assert_eq!(ig["justification"], "vulnerable_code_not_in_execute_path");
    assert_eq!(ig["reason"], "the app never loads PKCS7 certificates");
    assert!(
        ig["origin"]
            .as_str()
            .unwrap()
            .ends_with(".openvex.json statement 0"),
        "{ig}"
    );
    assert_eq!(r["ignored"].as_array().unwrap().len(), 1);
    assert!(finding(&r, "PYSEC-2023-250", "aiohttp").is_some());

    // under_investigation: open, recorded.
    let orjson = finding(&r, "PYSEC-2024-40", "orjson").expect("orjson stays open");
    assert_eq!(orjson["vex"][0]["status"], "under_investigation");
    assert!(
        orjson["note"]
            .as_str()
            .unwrap()
            .contains("statement 1 says under investigation")
    );

    // fixed for a still-affected version: a contradiction in the notices and the note.
    let aio = finding(&r, "PYSEC-2023-246", "aiohttp").expect("aiohttp stays open");
    assert!(
        aio["note"].as_str().unwrap().starts_with("contradiction:"),
        "{aio}"
    );
    let notices: Vec<&str> = r["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("statement 2 says GHSA-gfw2-4jvh-wgfg is fixed in aiohttp 3.8.5"));

    // affected: its action statement travels with the finding.
    let aff = finding(&r, "PYSEC-2024-24", "aiohttp").unwrap();
    assert_eq!(aff["vex"][0]["status"], "affected");
    assert_eq!(
        aff["vex"][0]["action_statement"],
        "Do not serve static files with follow_symlinks"
    );

    // The table shows the suppression with its justification and document.
    let source = format!("osv-dir:{}", pypa_dir().display());
    let req = dir.path().join("requirements.txt");
    let o = depwatch(&["scan", "--source", &source, req.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("not_affected, vulnerable_code_not_in_execute_path"),
        "{out}"
    );
}

#[test]
fn a_finding_every_statement_hides_neither_fails_nor_counts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "cryptography==41.0.4\n",
    )
    .unwrap();
    let vex = dir.path().join("vex.json");
    std::fs::write(
        &vex,
        vex_doc(json!([{ "vulnerability": { "name": "GHSA-jfhm-5ghh-2f97" },
            "products": [{ "identifiers": { "purl": "pkg:pypi/cryptography" } }],
            "status": "not_affected", "impact_statement": "PKCS7 is not used" }])),
    )
    .unwrap();
    let (o, r) = scan_json(dir.path(), &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "without the document: {}",
        text(&o)
    );
    let (o, r2) = scan_json(dir.path(), &["--vex", vex.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(r2["summary"]["findings"], 0);
    assert_eq!(r["summary"]["findings"], 1);
    assert_eq!(r2["ignored"][0]["reason"], "PKCS7 is not used");
}

#[test]
fn a_bad_statement_is_an_error_naming_the_file_and_its_index() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), PINS).unwrap();
    let doc = vex_doc(json!([
        { "vulnerability": { "name": "CVE-1" }, "status": "fixed" },
        { "vulnerability": { "name": "CVE-2" }, "products": sub("pkg:pypi/orjson"), "status": "not_affected" },
    ]));
    std::fs::write(dir.path().join(".openvex.json"), doc).unwrap();
    let (o, _) = scan_json(dir.path(), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        err.contains(".openvex.json: statement 1: not_affected needs a justification"),
        "{err}"
    );
    // A legacy v0.0.1 document (a real one) is refused by name, not misread.
    let legacy = shared().join("feeds-reference/openvex/examples/v0.0.1.json");
    let (o, _) = scan_json(dir.path(), &["--vex", legacy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("v0.0.1"));
}

#[test]
fn a_real_document_without_a_document_timestamp_is_read() {
    // go-vex's v020-1.vex.json: the timestamp is on the statement only.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), PINS).unwrap();
    let real = shared().join("feeds-reference/openvex/examples/v020-1.vex.json");
    let (o, r) = scan_json(dir.path(), &["--vex", real.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(r["ignored"].as_array().unwrap().len(), 0);
}

#[cfg(unix)]
#[test]
fn a_vex_symlink_out_of_the_scanned_root_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("secret.json");
    std::fs::write(&target, "{\"token\": \"hunter2\"}").unwrap();
    std::fs::write(dir.path().join("requirements.txt"), PINS).unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join(".openvex.json")).unwrap();
    let (o, _) = scan_json(dir.path(), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        err.contains("symlink to a file outside the scanned root"),
        "{err}"
    );
    assert!(!err.contains("hunter2"));
}

struct Project {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    store: std::path::PathBuf,
}

fn project(extra: &str, vex: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), PINS).unwrap();
    let config = dir.path().join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            "sources = [\"osv-dir:{}\"]\n{extra}\n[[project]]\nname = \"app\"\n\
             path = \"requirements.txt\"\nvex = [{vex}]\n",
            pypa_dir().display()
        ),
    )
    .unwrap();
    Project {
        store: dir.path().join("store.sqlite3"),
        config,
        dir,
    }
}

fn cmd(p: &Project, now: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(args)
        .arg("--config")
        .arg(&p.config)
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", &p.store)
        .env("DEPWATCH_NOW", now)
        .current_dir(p.dir.path())
        .output()
        .expect("run depwatch")
}

fn run(p: &Project, now: &str) -> Value {
    let out = p.dir.path().join("out");
    let o = cmd(
        p,
        now,
        &["run", "--offline", "--json", "--out", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn statuses(doc: &Value) -> Vec<(String, String, String)> {
    doc["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["status"].as_str().unwrap().to_string(),
                s["vulnerability"]["name"].as_str().unwrap().to_string(),
                s["products"][0]["subcomponents"][0]["@id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn vex_out_is_valid_deterministic_and_round_trips() {
    let p = project(
        "[[ignore]]\nid = \"CVE-2024-27454\"\nreason = \"orjson only parses our own JSON\"\n",
        "\"security/vex.json\"",
    );
    std::fs::create_dir(p.dir.path().join("security")).unwrap();
    std::fs::write(
        p.dir.path().join("security/vex.json"),
        vex_doc(json!([{ "vulnerability": { "name": "CVE-2023-49083" },
            "products": sub("pkg:pypi/cryptography@41.0.4"),
            "status": "not_affected", "justification": "vulnerable_code_not_present" }])),
    )
    .unwrap();
    run(&p, "2026-12-01T08:00:00Z");
    // aiohttp 3.9.0b0 leaves PYSEC-2023-246 behind: resolved on the second run.
    let reqs = PINS.replace("aiohttp==3.8.5", "aiohttp==3.9.0b0");
    std::fs::write(p.dir.path().join("requirements.txt"), reqs).unwrap();
    let second = run(&p, "2026-12-02T08:00:00Z");
    assert!(
        second["projects"][0]["events"]
            .as_array()
            .unwrap()
            .contains(&json!("resolved")),
        "{second}"
    );

    let out = p.dir.path().join("app.vex.json");
    let o = cmd(
        &p,
        "2026-12-05T00:00:00Z",
        &["vex", "app", "-o", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let bytes = std::fs::read(&out).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();

    // Valid against OpenVEX's schema (draft 2020-12), formats checked.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(shared().join("feeds-reference/openvex/openvex_json_schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{doc:#}");
    // The validator does reject: no statements, or an affected one without its action.
    let mut empty = doc.clone();
    empty["statements"] = json!([]);
    assert!(!validator.is_valid(&empty));
    let mut bare = doc.clone();
    for s in bare["statements"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("action_statement");
    }
    assert!(!validator.is_valid(&bare));

    // The timestamp is the memory's last event (the resolution), not the clock.
    assert_eq!(doc["timestamp"], "2026-12-02T08:00:00Z");
    let st = statuses(&doc);
    assert!(
        st.contains(&(
            "not_affected".into(),
            "PYSEC-2023-254".into(),
            "pkg:pypi/cryptography@41.0.4".into()
        )),
        "{st:?}"
    );
    assert!(
        st.contains(&(
            "not_affected".into(),
            "PYSEC-2024-40".into(),
            "pkg:pypi/orjson@3.9.9".into()
        )),
        "{st:?}"
    );
    assert!(
        st.contains(&(
            "fixed".into(),
            "PYSEC-2023-246".into(),
            "pkg:pypi/aiohttp".into()
        )),
        "{st:?}"
    );
    assert!(
        st.contains(&(
            "affected".into(),
            "PYSEC-2024-24".into(),
            "pkg:pypi/aiohttp@3.9.0b0".into()
        )),
        "{st:?}"
    );
    let orjson = doc["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["vulnerability"]["name"] == "PYSEC-2024-40")
        .unwrap();
    assert_eq!(
        orjson["impact_statement"],
        "orjson only parses our own JSON"
    );
    assert!(
        orjson["status_notes"]
            .as_str()
            .unwrap()
            .contains("depwatch.toml")
    );

    // Deterministic: another run of `vex` at another time gives the same bytes.
    let o = cmd(&p, "2026-12-06T00:00:00Z", &["vex", "app"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(o.stdout, bytes);

    // Round trip: the document as the only VEX input, no config ignore, gives the same
    // suppressions as the config ignore plus the project's own VEX document.
    let source = format!("osv-dir:{}", pypa_dir().display());
    let req = p.dir.path().join("requirements.txt");
    let before = {
        let v = p.dir.path().join("security/vex.json");
        let o = cmd(
            &p,
            "2026-12-05T00:00:00Z",
            &[
                "scan",
                "--source",
                &source,
                "--format",
                "json",
                "--vex",
                v.to_str().unwrap(),
                req.to_str().unwrap(),
            ],
        );
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let o = depwatch(&[
        "scan",
        "--source",
        &source,
        "--format",
        "json",
        "--vex",
        out.to_str().unwrap(),
        req.to_str().unwrap(),
    ]);
    let after: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(ignored_keys(&before).len(), 2, "{before:#}");
    assert_eq!(ignored_keys(&before), ignored_keys(&after));
    assert_eq!(before["summary"]["findings"], after["summary"]["findings"]);
    assert!(after["notices"].as_array().unwrap().is_empty(), "{after:#}");
}

#[test]
fn an_affected_statements_action_goes_to_the_draft() {
    let p = project("", "\"vex.json\"");
    std::fs::write(
        p.dir.path().join("vex.json"),
        vex_doc(json!([{ "vulnerability": { "name": "PYSEC-2024-40" },
            "products": sub("pkg:pypi/orjson@3.9.9"), "status": "affected",
            "action_statement": "Upgrade orjson in the 2.x branch; 1.x is end of life" }])),
    )
    .unwrap();
    run(&p, "2026-12-01T08:00:00Z");
    let draft = p.dir.path().join("out/app/advisories");
    let md = std::fs::read_dir(&draft)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| {
            let n = f.file_name().unwrap().to_string_lossy().to_string();
            n.contains("PYSEC-2024-40") && n.ends_with(".md")
        })
        .expect("orjson's draft");
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.contains("Upgrade orjson in the 2.x branch; 1.x is end of life (VEX: "),
        "{md}"
    );
}

#[test]
fn an_until_fix_ignore_reopens_with_an_event_when_a_fix_appears() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed");
    std::fs::create_dir(&feed).unwrap();
    let record = |modified: &str, events: Value| {
        json!({ "id": "GHSA-aaaa-bbbb-cccc", "modified": modified,
            "summary": "A flaw with no fix yet",
            "affected": [{ "package": { "ecosystem": "PyPI", "name": "examplepkg" },
                "ranges": [{ "type": "ECOSYSTEM", "events": events }] }] })
        .to_string()
    };
    std::fs::write(
        feed.join("GHSA-aaaa-bbbb-cccc.json"),
        record("2026-11-01T00:00:00Z", json!([{ "introduced": "0" }])),
    )
    .unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "examplepkg==1.0\n").unwrap();
    let config = dir.path().join("depwatch.toml");
    std::fs::write(
        &config,
        "sources = [\"osv-dir:feed\"]\n[[ignore]]\nid = \"GHSA-aaaa-bbbb-cccc\"\n\
         reason = \"nothing to do until upstream fixes it\"\nuntil-fix = true\n\
         [[project]]\nname = \"app\"\npath = \"requirements.txt\"\n",
    )
    .unwrap();
    let p = Project {
        config,
        store: dir.path().join("store.sqlite3"),
        dir,
    };
    let first = run(&p, "2026-12-01T08:00:00Z");
    assert_eq!(first["projects"][0]["open"], 0, "{first}");
    assert_eq!(first["projects"][0]["events"], json!([]));
    let again = run(&p, "2026-12-02T08:00:00Z");
    assert_eq!(again["projects"][0]["events"], json!([]), "still silent");

    // The feed learns of a fix: the next run reopens the finding with an event.
    std::fs::write(
        p.dir.path().join("feed/GHSA-aaaa-bbbb-cccc.json"),
        record(
            "2026-12-02T12:00:00Z",
            json!([{ "introduced": "0" }, { "fixed": "1.1" }]),
        ),
    )
    .unwrap();
    let reopened = run(&p, "2026-12-03T08:00:00Z");
    assert_eq!(reopened["projects"][0]["open"], 1, "{reopened}");
    assert_eq!(reopened["projects"][0]["events"], json!(["new"]));

    // The scan says why it shows again.
    let req = p.dir.path().join("requirements.txt");
    let o = cmd(
        &p,
        "2026-12-03T08:00:00Z",
        &["scan", "--format", "json", req.to_str().unwrap()],
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let note = r["findings"][0]["note"].as_str().unwrap_or_default();
    assert!(
        note.starts_with("ignore of GHSA-aaaa-bbbb-cccc (until-fix)")
            && note.contains("ended: a fixed version is known (upgrade to 1.1)"),
        "{r:#}"
    );
}

#[test]
fn a_vex_suppression_of_a_tracked_finding_neither_alerts_nor_fails_the_ci_run() {
    let p = project("", "");
    std::fs::write(
        p.dir.path().join("requirements.txt"),
        "cryptography==41.0.4\n",
    )
    .unwrap();
    let out = p.dir.path().join("out");
    let ci = |now: &str| {
        cmd(
            &p,
            now,
            &[
                "run",
                "--offline",
                "--ci",
                "--json",
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };
    let o = ci("2026-12-01T08:00:00Z");
    assert_eq!(o.status.code(), Some(1), "tracked and open: {}", text(&o));
    std::fs::write(
        p.dir.path().join(".openvex.json"),
        vex_doc(json!([{ "vulnerability": { "name": "CVE-2023-49083" },
            "products": sub("pkg:pypi/cryptography@41.0.4"),
            "status": "not_affected", "justification": "vulnerable_code_not_present" }])),
    )
    .unwrap();
    let o = ci("2026-12-02T08:00:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["projects"][0]["open"], 0, "{r}");
    assert_eq!(
        r["projects"][0]["events"],
        json!([]),
        "no resolved event either"
    );
    let status = cmd(&p, "2026-12-02T08:00:00Z", &["status", "--json"]);
    let s: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(!s.to_string().contains("PYSEC-2023-254"), "{s}");
}
