//! What `depwatch scan` reads (issue 11, "Inputs"): a scan of nothing fails, files with other
//! names and Django-style `requirements/` folders are read, an exact Cargo pin is a finding,
//! and the parser cases where depwatch used to differ from pip / Cargo. Each test runs the
//! real binary on small files in a temporary directory against the shared advisory corpus
//! (PyPA records: `requests` 2.19.0 is affected by PYSEC-2018-28 and PYSEC-2023-74; RustSec:
//! `smallvec` 0.6.9 by RUSTSEC-2019-0009 and RUSTSEC-2019-0012, fixed in 0.6.10).

use crate::support::files::write;
use crate::support::{depwatch, pypa_dir, rustsec_dir};
use serde_json::Value;
use std::path::Path;

/// `depwatch scan PATHS --source osv-dir:PyPA --source rustsec-dir:… --format json EXTRA…`:
/// the report (Null when stdout is not JSON), the exit code and stderr.
fn scan(paths: &[&Path], extra: &[&str]) -> (Value, i32, String) {
    let pypa = format!("osv-dir:{}", pypa_dir().display());
    let rustsec = format!("rustsec-dir:{}", rustsec_dir().display());
    let mut args = vec!["scan"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--source", &pypa, "--source", &rustsec, "--format", "json"]);
    args.extend(extra);
    let out = depwatch(&args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        report,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The ids of the findings on `name` `version`.
fn finding_ids(report: &Value, name: &str, version: &str) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array: {report}"))
        .iter()
        .filter(|f| f["package"]["name"] == name && f["package"]["version"] == version)
        .flat_map(|f| {
            let mut all = vec![f["id"].as_str().unwrap().to_string()];
            all.extend(
                f["ids"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.as_str().map(str::to_string)),
            );
            all
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn assert_requests_found(report: &Value) {
    let ids = finding_ids(report, "requests", "2.19.0");
    assert!(
        ids.contains(&"PYSEC-2018-28".to_string()),
        "requests 2.19.0 must be reported: {ids:?} in {report}"
    );
}

fn manifest_kinds(report: &Value) -> Vec<(String, String)> {
    report["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["path"].as_str().unwrap().to_string(),
                m["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// 12. Nothing found, other file names, requirements/ folders
// ---------------------------------------------------------------------------------------

#[test]
fn a_scan_that_finds_no_manifest_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "# nothing to scan\n");
    write(dir.path(), "src/main.py", "print('hi')\n");
    let (_, code, stderr) = scan(&[dir.path()], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("no manifest found under {}", dir.path().display())),
        "{stderr}"
    );
    // One empty path among good ones is as much an error: it names that path.
    let good = tempfile::tempdir().unwrap();
    write(good.path(), "requirements.txt", "idna==3.7\n");
    let (_, code, stderr) = scan(&[good.path(), dir.path()], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("no manifest found under {}", dir.path().display())),
        "{stderr}"
    );
    let (_, code, stderr) = scan(&[good.path()], &[]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_file_named_explicitly_is_read_whatever_its_name() {
    let dir = tempfile::tempdir().unwrap();
    // Recognised by its content.
    let prod = write(
        dir.path(),
        "deploy/prod-reqs.txt",
        "# production\nrequests==2.19.0 --hash=sha256:00\nidna==2.7 ; python_version >= '3'\n",
    );
    let (report, code, stderr) = scan(&[&prod], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_requests_found(&report);
    assert_eq!(
        manifest_kinds(&report),
        [(prod.display().to_string(), "requirements-txt".to_string())]
    );
    // Content that does not tell (an option depwatch does not know): forced with --type.
    let odd = write(
        dir.path(),
        "deploy/pins.cfg",
        "--frobnicate\nrequests==2.19.0\n",
    );
    let (_, code, stderr) = scan(&[&odd], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("pass --type FORMAT"), "{stderr}");
    let (report, code, stderr) = scan(&[&odd], &["--type", "requirements-txt"]);
    assert_eq!(code, 1, "{stderr}");
    assert_requests_found(&report);
    // A Cargo.lock under another name, by content and by --type.
    let lock = write(
        dir.path(),
        "vendor/lockfile",
        "version = 3\n\n[[package]]\nname = \"smallvec\"\nversion = \"0.6.9\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    );
    for extra in [&[][..], &["--type", "Cargo.lock"][..]] {
        let (report, code, stderr) = scan(&[&lock], extra);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            finding_ids(&report, "smallvec", "0.6.9").contains(&"RUSTSEC-2019-0009".to_string()),
            "{report}"
        );
    }
    // --type is for files: a directory with it is an input error; an unknown format too.
    let (_, code, stderr) = scan(&[dir.path()], &["--type", "requirements-txt"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--type applies to files"), "{stderr}");
    let (_, code, stderr) = scan(&[&odd], &["--type", "setup-py"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("requirements-txt"), "{stderr}");
}

#[test]
fn django_requirements_folders_are_discovered() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "requirements/base.txt", "requests==2.19.0\n");
    let prod = write(
        dir.path(),
        "requirements/production.txt",
        "-r base.txt\ngunicorn==22.0.0\n",
    );
    write(dir.path(), "requirements/README.md", "how to install\n");
    let (report, code, stderr) = scan(&[dir.path()], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        manifest_kinds(&report),
        [
            (base.display().to_string(), "requirements-txt".to_string()),
            (prod.display().to_string(), "requirements-txt".to_string()),
        ]
    );
    assert_requests_found(&report);
}

// ---------------------------------------------------------------------------------------
// 13. An exact pin in Cargo.toml
// ---------------------------------------------------------------------------------------

#[test]
fn an_exact_cargo_toml_pin_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let toml = write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\nsmallvec = \"=0.6.9\"\n",
    );
    let (report, code, stderr) = scan(&[&toml], &[]);
    assert_eq!(code, 1, "an affected exact pin fails the scan: {stderr}");
    let ids = finding_ids(&report, "smallvec", "0.6.9");
    assert!(
        ids.contains(&"RUSTSEC-2019-0009".to_string())
            && ids.contains(&"RUSTSEC-2019-0012".to_string()),
        "{ids:?}"
    );
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == "smallvec")
        .unwrap();
    assert_eq!(f["location"]["line"], 6);
    assert!(
        report["risks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["package"] != "smallvec"),
        "not a mere risk: {}",
        report["risks"]
    );
}

// ---------------------------------------------------------------------------------------
// 14. Parser cases where depwatch differed from pip / Cargo
// ---------------------------------------------------------------------------------------

#[test]
fn a_line_ending_in_two_backslashes_joins_as_in_pip() {
    let dir = tempfile::tempdir().unwrap();
    // pip strips every trailing `\` of a continued line: this is `requests==2.19.0 --hash=…`.
    let req = write(
        dir.path(),
        "requirements.txt",
        "requests==2.19.0 \\\\\n    --hash=sha256:0000\nidna==3.7\n",
    );
    let (report, code, stderr) = scan(&[&req], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_requests_found(&report);
    let m = &report["manifests"][0];
    assert!(m["warnings"].is_null(), "no warning: {m}");
    assert_eq!(m["dependencies"], 2, "{m}");
}

#[test]
fn a_utf16_requirements_file_with_a_bom_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# written by PowerShell\r\nrequests==2.19.0\r\n";
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let req = write(dir.path(), "requirements.txt", bytes);
    let (report, code, stderr) = scan(&[&req], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_requests_found(&report);
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == "requests")
        .unwrap();
    assert_eq!(f["location"]["line"], 2);
}

#[test]
fn a_cargo_lock_entry_naming_an_absent_package_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let text = "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"ghost\",\n \"smallvec\",\n]\n\n[[package]]\nname = \"smallvec\"\nversion = \"0.6.9\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
    // Cargo's own layout (the line reader) and the same with CRLF ends (the TOML reader).
    for (sub, body) in [
        ("lf", text.to_string()),
        ("crlf", text.replace('\n', "\r\n")),
    ] {
        let lock = write(dir.path(), &format!("{sub}/Cargo.lock"), body);
        let (report, code, stderr) = scan(&[&lock], &[]);
        assert_eq!(code, 1, "{sub}: {stderr}");
        assert!(
            finding_ids(&report, "smallvec", "0.6.9").contains(&"RUSTSEC-2019-0009".to_string()),
            "{sub}: {report}"
        );
        let m = &report["manifests"][0];
        assert_eq!(m["error"], Value::Null, "{sub}: {m}");
        let warnings = m["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{sub}: {m}");
        assert!(
            warnings[0]
                .as_str()
                .unwrap()
                .contains(":4: app 0.1.0 depends on ghost, which is not in the lockfile"),
            "{sub}: {m}"
        );
    }
}

#[test]
fn a_local_wheel_with_extras_is_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let req = write(
        dir.path(),
        "requirements.txt",
        "foo-1.0-py3-none-any.whl[bar]\n./dist/foo-1.0-py3-none-any.whl[bar]\nrequests==2.19.0\n",
    );
    let (report, code, stderr) = scan(&[&req], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_requests_found(&report);
    let not_checked: Vec<(&str, &str)> = report["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["name"].as_str().unwrap(), n["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(not_checked.len(), 2, "{not_checked:?}");
    for (name, reason) in &not_checked {
        assert!(name.contains("foo-1.0-py3-none-any.whl[bar]"), "{name}");
        assert!(reason.starts_with("local path requirement"), "{reason}");
    }
}

#[test]
fn tool_uv_dev_dependencies_are_scanned_as_dev() {
    let dir = tempfile::tempdir().unwrap();
    let pyproject = write(
        dir.path(),
        "pyproject.toml",
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = []\n\n[tool.uv]\ndev-dependencies = [\"requests==2.19.0\"]\n",
    );
    let (report, code, stderr) = scan(&[&pyproject], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_requests_found(&report);
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["scope"], "dev", "{f}");
        assert_eq!(f["location"]["line"], 7, "{f}");
    }
}

#[test]
fn an_unknown_major_pylock_version_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let pylock = write(
        dir.path(),
        "pylock.toml",
        "lock-version = \"2.0\"\ncreated-by = \"x\"\n\n[[packages]]\nname = \"requests\"\nversion = \"2.19.0\"\n",
    );
    let (report, code, stderr) = scan(&[&pylock], &[]);
    assert_eq!(code, 2, "{stderr}");
    let error = report["manifests"][0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("pylock.toml:1: unsupported lock-version `2.0`"),
        "{report}"
    );
    assert!(stderr.contains("unsupported lock-version"), "{stderr}");
}

#[test]
fn a_missing_include_is_an_error_of_that_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let top = write(
        dir.path(),
        "app/requirements.txt",
        "idna==3.7\n-r requirements-base.txt\n",
    );
    let other = write(dir.path(), "lib/requirements.txt", "requests==2.19.0\n");
    let (report, code, stderr) = scan(&[dir.path()], &[]);
    assert_eq!(code, 2, "{stderr}");
    let manifests = report["manifests"].as_array().unwrap();
    let m = manifests
        .iter()
        .find(|m| m["path"] == top.display().to_string())
        .unwrap();
    let error = m["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("app/requirements.txt:2: included file not read")
            && error.contains("requirements-base.txt"),
        "{m}"
    );
    // The other manifest is still scanned.
    assert!(
        manifests
            .iter()
            .any(|m| m["path"] == other.display().to_string() && m["error"].is_null())
    );
    assert_requests_found(&report);
}
