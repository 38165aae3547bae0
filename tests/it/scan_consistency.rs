//! One rule for `via` in every manifest format (README: a direct dependency has an empty path),
//! and a workspace's own path crates summarised in one not-checked entry.

use crate::support::{depwatch, manifest, rustsec_dir};
use serde_json::{Value, json};
use std::path::Path;

/// An OSV record affecting every version of one package.
fn record(id: &str, ecosystem: &str, name: &str) -> Value {
    let kind = if ecosystem == "crates.io" {
        "SEMVER"
    } else {
        "ECOSYSTEM"
    };
    json!({
        "id": id,
        "modified": "2026-01-01T00:00:00Z",
        "summary": format!("test record for {name}"),
        "affected": [{
            "package": {"ecosystem": ecosystem, "name": name},
            "ranges": [{"type": kind, "events": [{"introduced": "0"}]}]
        }]
    })
}

fn write_records(dir: &Path, records: &[(&str, &str, &str)]) {
    for (id, eco, name) in records {
        std::fs::write(
            dir.join(format!("{id}.json")),
            record(id, eco, name).to_string(),
        )
        .unwrap();
    }
}

fn scan_json(paths: &[&Path], source: &str) -> Value {
    let mut args = vec!["scan".to_string()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    args.extend([
        "--source".into(),
        source.into(),
        "--format".into(),
        "json".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = depwatch(&args);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn finding<'a>(r: &'a Value, package: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == package)
        .unwrap_or_else(|| panic!("no finding for {package}"))
}

#[test]
fn a_direct_dependency_has_an_empty_path_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let osv = tmp.path().join("osv");
    std::fs::create_dir(&osv).unwrap();
    write_records(
        &osv,
        &[
            ("TEST-CRATE-1", "crates.io", "tokio"),
            ("TEST-CRATE-2", "crates.io", "h2"),
            ("TEST-CRATE-3", "crates.io", "crossbeam-epoch"),
            ("TEST-PY-1", "PyPI", "ruff"),
            ("TEST-PY-2", "PyPI", "gitpython"),
            ("TEST-PY-3", "PyPI", "requests"),
            ("TEST-PY-4", "PyPI", "urllib3"),
            ("TEST-PY-5", "PyPI", "idna"),
            ("TEST-PY-6", "PyPI", "flask"),
        ],
    );
    let source = format!("osv-dir:{}", osv.display());

    // Cargo.lock: paths start below the workspace's own crates, which become `member`.
    let r = scan_json(&[&manifest("uv/Cargo.lock")], &source);
    let tokio = finding(&r, "tokio");
    assert_eq!(tokio["via"], json!([]), "uv depends on tokio directly");
    assert_eq!(tokio["member"], "uv");
    let h2 = finding(&r, "h2");
    assert_eq!(h2["via"], json!([]), "uv-client depends on h2 directly");
    assert_eq!(h2["member"], "uv-client");
    let epoch = finding(&r, "crossbeam-epoch");
    assert_eq!(epoch["via"], json!(["ignore", "crossbeam-deque"]));
    assert_eq!(epoch["member"], "uv");

    // uv.lock: the project package is not part of the path either.
    let r = scan_json(&[&manifest("uv/uv.lock")], &source);
    assert_eq!(finding(&r, "ruff")["via"], json!([]));
    assert_eq!(
        finding(&r, "gitpython")["via"],
        json!(["mkdocs-git-revision-date-localized-plugin"])
    );

    // poetry.lock: the pyproject's direct dependencies are the roots.
    let r = scan_json(&[&manifest("poetry/poetry.lock")], &source);
    assert_eq!(finding(&r, "requests")["via"], json!([]));
    assert_eq!(finding(&r, "urllib3")["via"].as_array().unwrap().len(), 1);

    // A declaration in Cargo.toml or pyproject.toml is a direct dependency by definition.
    let proj = tmp.path().join("proj");
    std::fs::create_dir(&proj).unwrap();
    std::fs::write(
        proj.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"1.0\"\ndependencies = [\"flask==2.2.2\"]\n",
    )
    .unwrap();
    let r = scan_json(&[&proj.join("pyproject.toml")], &source);
    assert_eq!(finding(&r, "flask")["via"], json!([]));

    // requirements files may pin transitive dependencies: the path is unknown, not "direct".
    let r = scan_json(&[&manifest("jupyter/requirements.txt")], &source);
    assert!(finding(&r, "idna").get("via").is_none());
}

#[test]
fn workspace_path_crates_are_one_not_checked_entry() {
    let lock = manifest("uv/Cargo.lock");
    let l = lock.to_str().unwrap();
    let source = format!("rustsec-dir:{}", rustsec_dir().display());

    let r = scan_json(&[&lock], &source);
    let nc = r["not_checked"].as_array().unwrap();
    assert_eq!(nc.len(), 1, "{nc:?}");
    let entry = &nc[0];
    assert_eq!(entry["count"], 70);
    assert_eq!(entry["reason"], "path dependencies, not checked");
    assert_eq!(entry["name"], "workspace crates");
    let names: Vec<&str> = entry["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 70);
    assert!(names.contains(&"uv") && names.contains(&"uv-client"));
    // Every dependency not checked is still counted.
    assert_eq!(r["summary"]["not_checked"], 70);

    let out = depwatch(&["scan", l, "--source", &source]);
    let table = String::from_utf8_lossy(&out.stdout);
    let section: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("Not checked"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(section.len(), 2, "{table}");
    assert_eq!(section[0], "Not checked (70)");
    assert!(
        section[1].contains("70 workspace crates: path dependencies, not checked"),
        "{table}"
    );

    let out = depwatch(&["scan", l, "--source", &source, "--format", "markdown"]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("## Not checked (70)"), "{md}");
    assert!(md.contains("| 70 workspace crates | crates.io |"), "{md}");
    assert!(!md.contains("| uv-client |"), "{md}");
}
