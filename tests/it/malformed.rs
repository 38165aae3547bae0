//! Malformed input given to the real binary: broken manifests, broken advisory records,
//! broken archives and broken configuration.
//!
//! Every case checks three things: the process never panics (stderr never says
//! "panicked"), a manifest that cannot be read makes the scan exit 2 with a message naming
//! the file (and the line, where the format has lines), and the good `requirements.txt`
//! next to the bad file is still scanned (its dependency and its finding are in the JSON).

use crate::support::{manifest, pypa_dir};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The good manifest put next to every bad one: `requests==2.19.0` is affected by
/// PYSEC-2018-28 (fixed in 2.20.0) of the PyPA records for `requests`.
const GOOD_REQUIREMENTS: &str = "requests==2.19.0\n";
const GOOD_ID: &str = "PYSEC-2018-28";

/// How long one run may take. The 10 MB inputs take about 2 s with the debug binary; the
/// limit leaves room for a loaded machine while still catching anything quadratic.
const LIMIT: Duration = Duration::from_secs(30);

/// Longest output a case may produce (a 10 MB input must not come back).
const MAX_OUTPUT: usize = 256 * 1024;

/// One finished run of the binary.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    /// The stdout as JSON (the scan was run with `--format json`).
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                clip(&self.stdout),
                clip(&self.stderr)
            )
        })
    }
}

/// At most 2,000 characters of a text, for assertion messages.
fn clip(s: &str) -> String {
    if s.len() <= 2000 {
        return s.to_string();
    }
    let mut end = 2000;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// Run `depwatch` with a time limit; output goes through files, so a huge output cannot
/// block the child on a full pipe. Panics (failing the test) when the binary panicked or
/// ran past `LIMIT`.
fn run(args: &[&OsStr]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("run depwatch");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > LIMIT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("depwatch {args:?} ran longer than {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    let r = Run {
        code: status.code(),
        stdout: read(&out_path),
        stderr: read(&err_path),
        elapsed,
    };
    assert!(
        !r.stderr.contains("panicked"),
        "depwatch {args:?} panicked:\n{}",
        clip(&r.stderr)
    );
    assert!(
        r.code.is_some(),
        "depwatch {args:?} was killed by a signal: {}",
        clip(&r.stderr)
    );
    r
}

/// `--source osv-dir:` with the PyPA records of `requests` (5 records, fast to load).
fn requests_source() -> String {
    format!("osv-dir:{}", pypa_dir().join("requests").display())
}

/// `depwatch scan PATH --source osv-dir:<requests records> --format json`.
fn scan(path: &Path) -> Run {
    let source = requests_source();
    run(&[
        OsStr::new("scan"),
        path.as_os_str(),
        OsStr::new("--source"),
        OsStr::new(&source),
        OsStr::new("--format"),
        OsStr::new("json"),
    ])
}

/// A tempdir holding the good `requirements.txt`.
fn dir_with_good_requirements() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), GOOD_REQUIREMENTS).unwrap();
    dir
}

/// The `manifests[]` entry of the file named `name`.
fn manifest_entry<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["manifests"]
        .as_array()
        .expect("manifests[]")
        .iter()
        .find(|m| {
            Path::new(m["path"].as_str().unwrap_or_default())
                .file_name()
                .is_some_and(|n| n == name)
        })
        .unwrap_or_else(|| panic!("no manifest {name} in {:#}", report["manifests"]))
}

/// The good `requirements.txt` was scanned: one dependency, no error, and its finding.
fn assert_good_scanned(report: &Value) {
    let good = manifest_entry(report, "requirements.txt");
    assert_eq!(good["dependencies"], 1, "{good:#}");
    assert!(good.get("error").is_none(), "{good:#}");
    let found = report["findings"].as_array().unwrap().iter().any(|f| {
        f["id"] == GOOD_ID
            && f["package"]["name"] == "requests"
            && f["location"]["file"]
                .as_str()
                .is_some_and(|p| p.ends_with("requirements.txt"))
    });
    assert!(
        found,
        "the good requirements.txt lost its finding: {:#}",
        report["findings"]
    );
}

/// The scan exits 2, the bad manifest's `error` names the file (and `:line` when given),
/// stderr repeats it, and the good manifest next to it is still scanned.
fn assert_bad_manifest(r: &Run, bad: &Path, line: Option<usize>) -> String {
    assert_eq!(r.code, Some(2), "stderr: {}", clip(&r.stderr));
    let report = r.json();
    let name = bad.file_name().unwrap().to_str().unwrap();
    let entry = manifest_entry(&report, name);
    let error = entry["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has no error: {entry:#}"))
        .to_string();
    let path = bad.display().to_string();
    let expected = match line {
        Some(l) => format!("{path}:{l}:"),
        None => path,
    };
    assert!(
        error.starts_with(&expected),
        "error should start with {expected:?}: {error}"
    );
    assert!(
        r.stderr.contains(&error),
        "stderr should repeat the error: {}",
        clip(&r.stderr)
    );
    assert!(
        error.len() < 1000,
        "error message too long: {}",
        clip(&error)
    );
    assert_eq!(report["summary"]["manifest_errors"], 1);
    assert_good_scanned(&report);
    error
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn garbage(len: usize, seed: u64, ascii_only: bool) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = (x >> 24) as u8;
            if ascii_only { b & 0x7f } else { b }
        })
        .collect()
}

/// 1-based number of the last line of `text` (the line a truncated file ends in).
fn last_line(text: &str) -> usize {
    text.matches('\n').count() + 1
}

// ---------------------------------------------------------------------------------------
// Manifests
// ---------------------------------------------------------------------------------------

#[test]
fn truncated_cargo_lock_in_a_string() {
    // Cut `source = "regist` in the middle, inside the 10th `[[package]]` block: the TOML
    // ends in an unterminated string on the last line.
    let full = std::fs::read_to_string(manifest("uv/Cargo.lock")).unwrap();
    let block = full.match_indices("[[package]]").nth(10).unwrap().0;
    let source = block + full[block..].find("source = \"").unwrap();
    let cut = &full[..source + "source = \"regist".len()];
    assert!(cut.len() < full.len() / 10);

    let dir = dir_with_good_requirements();
    let bad = dir.path().join("Cargo.lock");
    std::fs::write(&bad, cut).unwrap();
    let r = scan(dir.path());
    assert_bad_manifest(&r, &bad, Some(last_line(cut)));
}

#[test]
fn truncated_cargo_lock_between_keys() {
    // Cut after the `version = ...` line of the 10th `[[package]]` block: valid TOML, but
    // the block has no source and the packages named in earlier blocks' dependencies are
    // missing. Cargo skips dependency entries naming absent packages, and so does depwatch:
    // the 11 packages left are checked and each dangling entry is a warning naming the file.
    let full = std::fs::read_to_string(manifest("uv/Cargo.lock")).unwrap();
    let block = full.match_indices("[[package]]").nth(10).unwrap().0;
    let version = block + full[block..].find("version = \"").unwrap();
    let eol = version + full[version..].find('\n').unwrap() + 1;
    let cut = &full[..eol];

    let dir = dir_with_good_requirements();
    let bad = dir.path().join("Cargo.lock");
    std::fs::write(&bad, cut).unwrap();
    let r = scan(dir.path());
    assert_eq!(r.code, Some(1), "stderr: {}", clip(&r.stderr));
    let report = r.json();
    assert_good_scanned(&report);
    let lock = manifest_entry(&report, "Cargo.lock");
    assert!(lock.get("error").is_none(), "{lock:#}");
    assert_eq!(lock["dependencies"], 11, "{lock:#}");
    let warnings = lock["warnings"].as_array().expect("warnings");
    assert!(!warnings.is_empty());
    for w in warnings {
        let w = w.as_str().unwrap();
        assert!(
            w.starts_with(&format!("{}:", bad.display())) && w.contains("not in the lockfile"),
            "{w}"
        );
    }
}

#[test]
fn binary_garbage_lockfiles() {
    for (name, seed) in [("Cargo.lock", 1u64), ("poetry.lock", 2)] {
        // Not UTF-8: the line of the first invalid byte is named.
        let dir = dir_with_good_requirements();
        let bad = dir.path().join(name);
        std::fs::write(&bad, garbage(4096, seed, false)).unwrap();
        let r = scan(dir.path());
        let error = assert_bad_manifest(&r, &bad, None);
        assert!(error.contains("UTF-8"), "{error}");
        assert!(
            error.starts_with(&format!("{}:", bad.display())),
            "line expected: {error}"
        );

        // Valid UTF-8 but control characters and NUL bytes: a TOML error with a line.
        let dir = dir_with_good_requirements();
        let bad = dir.path().join(name);
        let mut bytes = b"\0\x01\x02 binary \x7f\x1b[0m\n".to_vec();
        bytes.extend(garbage(4096, seed + 10, true));
        std::fs::write(&bad, bytes).unwrap();
        let r = scan(dir.path());
        assert_bad_manifest(&r, &bad, Some(1));
    }
}

#[test]
fn requirements_with_a_10_mb_line() {
    let ten_mb = 10 * 1024 * 1024;
    let cases: [(&str, &str); 7] = [
        ("garbage", ""),
        ("pin", "pkg=="),
        ("range", "pkg>=1.0,<"),
        ("url", "pkg @ "),
        ("marker", "pkg; python_version < '"),
        ("include", "-r "),
        ("comment", "# "),
    ];
    for (what, prefix) in cases {
        let dir = dir_with_good_requirements();
        let bad = dir.path().join("requirements-big.txt");
        let mut text = format!("flask==0.12\n{prefix}");
        text.extend(std::iter::repeat_n("a!", ten_mb / 2));
        text.push_str("\nrequests==2.19.0\n");
        std::fs::write(&bad, &text).unwrap();
        let r = scan(dir.path());
        eprintln!("10 MB line, {what}: {:?}", r.elapsed);
        if what == "include" {
            // An include that cannot be read (this name is far too long) is an error of the
            // manifest at its line, and the error does not echo the name.
            let error = assert_bad_manifest(&r, &bad, Some(2));
            assert!(error.contains("included file not read"), "{}", clip(&error));
            assert!(error.len() < 2000, "long error");
            assert!(r.stdout.len() + r.stderr.len() < MAX_OUTPUT);
            continue;
        }
        assert!(
            matches!(r.code, Some(1)),
            "{what}: exit {:?}: {}",
            r.code,
            clip(&r.stderr)
        );
        let report = r.json();
        assert_good_scanned(&report);
        // The lines around the long one are still read.
        let big = manifest_entry(&report, "requirements-big.txt");
        let deps = big["dependencies"].as_u64().unwrap();
        assert!((2..=3).contains(&deps), "{what}: {deps} dependencies");
        assert!(
            report["findings"].as_array().unwrap().iter().any(|f| {
                f["id"] == GOOD_ID
                    && f["location"]["file"]
                        .as_str()
                        .is_some_and(|p| p.ends_with("requirements-big.txt"))
                    && f["location"]["line"] == 3
            }),
            "{what}: requests on line 3 not found"
        );
        {
            assert!(
                r.stdout.len() + r.stderr.len() < MAX_OUTPUT,
                "{what}: the 10 MB line came back ({} bytes of output)",
                r.stdout.len() + r.stderr.len()
            );
            for w in big["warnings"].as_array().into_iter().flatten() {
                assert!(w.as_str().unwrap().len() < 2000, "{what}: long warning");
            }
        }
    }
}

#[test]
fn include_cycles_terminate_and_keep_their_pins() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("requirements.txt"), "-r a.txt\n-r self.txt\n").unwrap();
    std::fs::write(p.join("a.txt"), "-r b.txt\nrequests==2.19.0\n").unwrap();
    std::fs::write(p.join("b.txt"), "-r a.txt\nflask==0.12\n").unwrap();
    std::fs::write(p.join("self.txt"), "-r self.txt\nidna==2.7\n").unwrap();
    let r = scan(&p.join("requirements.txt"));
    assert_eq!(r.code, Some(1), "{}", clip(&r.stderr));
    let report = r.json();
    let entry = manifest_entry(&report, "requirements.txt");
    assert_eq!(entry["dependencies"], 3, "{entry:#}");
    assert!(entry.get("error").is_none());
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == GOOD_ID)
        .expect("requests from a.txt");
    assert!(
        finding["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("a.txt")
    );
    assert_eq!(finding["location"]["line"], 2);
}

#[test]
fn invalid_utf8_in_requirements_and_uv_lock() {
    let dir = dir_with_good_requirements();
    let bad = dir.path().join("requirements-dev.txt");
    std::fs::write(&bad, b"flask==0.12\nrequests==2.19.0  # caf\xe9\n").unwrap();
    let r = scan(dir.path());
    let error = assert_bad_manifest(&r, &bad, Some(2));
    assert!(error.contains("UTF-8"), "{error}");

    let dir = dir_with_good_requirements();
    let bad = dir.path().join("uv.lock");
    std::fs::write(
        &bad,
        b"version = 1\nrequires-python = \">=3.9\"\n\n[[package]]\nname = \"caf\xc3\x28\"\nversion = \"1.0\"\n",
    )
    .unwrap();
    let r = scan(dir.path());
    let error = assert_bad_manifest(&r, &bad, Some(5));
    assert!(error.contains("UTF-8"), "{error}");
}

#[test]
fn huge_version_numbers() {
    // requirements.txt: the line is a warning naming file and line (never a panic, never a
    // silent "safe"); the other lines are still read.
    let dir = dir_with_good_requirements();
    let bad = dir.path().join("requirements-huge.txt");
    std::fs::write(
        &bad,
        "pkg==99999999999999999999999999\nrequests>=99999999999999999999999999.0\nflask==0.12\n",
    )
    .unwrap();
    let r = scan(dir.path());
    assert_eq!(r.code, Some(1), "{}", clip(&r.stderr));
    let report = r.json();
    assert_good_scanned(&report);
    let entry = manifest_entry(&report, "requirements-huge.txt");
    let warnings: Vec<&str> = entry["warnings"]
        .as_array()
        .map(|w| w.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let not_checked: Vec<&Value> = report["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["name"] == "pkg")
        .collect();
    let warned = warnings
        .iter()
        .any(|w| w.starts_with(&format!("{}:1:", bad.display())));
    assert!(
        warned || !not_checked.is_empty(),
        "pkg==999… is neither a warning at line 1 nor not checked: {entry:#}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with(&format!("{}:2:", bad.display())))
            || report["not_checked"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["name"] == "requests"),
        "requests>=999… is neither a warning at line 2 nor not checked: {entry:#}"
    );
    assert!(entry["dependencies"].as_u64().unwrap() >= 1, "flask kept");

    // Cargo.lock: a version whose major number does not fit u64.
    let dir = dir_with_good_requirements();
    let bad = dir.path().join("Cargo.lock");
    std::fs::write(
        &bad,
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"smallvec\",\n]\n\n[[package]]\nname = \"smallvec\"\nversion = \"99999999999999999999999999.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
    )
    .unwrap();
    let r = scan(dir.path());
    assert_bad_manifest(&r, &bad, Some(12));
}

#[test]
fn empty_file_of_each_kind() {
    // An empty file is either accepted with no dependency or an error naming the file; the
    // good requirements.txt next to it is scanned either way.
    for name in [
        "Cargo.lock",
        "Cargo.toml",
        "requirements-empty.txt",
        "pyproject.toml",
        "poetry.lock",
        "uv.lock",
        "Pipfile.lock",
        "pylock.toml",
    ] {
        let dir = dir_with_good_requirements();
        let bad = dir.path().join(name);
        std::fs::write(&bad, "").unwrap();
        let r = scan(dir.path());
        let report = r.json();
        let entry = manifest_entry(&report, name);
        match r.code {
            Some(2) => {
                assert_bad_manifest(&r, &bad, None);
            }
            Some(1) => {
                assert!(entry.get("error").is_none(), "{name}: {entry:#}");
                assert_eq!(entry["dependencies"], 0, "{name}: {entry:#}");
                assert_good_scanned(&report);
            }
            other => panic!("{name}: exit {other:?}: {}", clip(&r.stderr)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Advisory sources
// ---------------------------------------------------------------------------------------

const BAD_FIXED: &str = r#"id: BAD-FIXED-1
modified: 2024-01-01T00:00:00Z
affected:
- package:
    ecosystem: PyPI
    name: requests
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: "not-a-version"
"#;

const HUGE_FIXED: &str = r#"id: HUGE-1
modified: 2024-01-01T00:00:00Z
affected:
- package:
    ecosystem: PyPI
    name: requests
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: "99999999999999999999999999"
"#;

/// An id line and then broken YAML: the id is recovered for the error.
const BROKEN_YAML_WITH_ID: &str = "id: BROKEN-YAML-1\naffected: [\n  - {package: \n";

const UNKNOWN_ECOSYSTEM: &str = r#"{"id": "UNK-ECO-1", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "NotAnEcosystem", "name": "requests"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#;

#[test]
fn broken_osv_records_are_reported_and_skipped() {
    let adv = tempfile::tempdir().unwrap();
    let a = adv.path();
    std::fs::create_dir(a.join("requests")).unwrap();
    std::fs::copy(
        pypa_dir().join("requests/PYSEC-2018-28.yaml"),
        a.join("requests/PYSEC-2018-28.yaml"),
    )
    .unwrap();
    std::fs::write(a.join("BAD-FIXED-1.yaml"), BAD_FIXED).unwrap();
    std::fs::write(a.join("HUGE-1.yaml"), HUGE_FIXED).unwrap();
    std::fs::write(a.join("NOT-YAML.yaml"), garbage(2048, 7, false)).unwrap();
    std::fs::write(a.join("NOT-YAML-2.yml"), "this: is: not: yaml: [\n\t{{{\n").unwrap();
    std::fs::write(a.join("BROKEN-YAML-1.yaml"), BROKEN_YAML_WITH_ID).unwrap();
    std::fs::write(a.join("UNK-ECO-1.json"), UNKNOWN_ECOSYSTEM).unwrap();

    let m = dir_with_good_requirements();
    let source = format!("osv-dir:{}", a.display());
    let r = run(&[
        OsStr::new("scan"),
        m.path().as_os_str(),
        OsStr::new("--source"),
        OsStr::new(&source),
        OsStr::new("--format"),
        OsStr::new("json"),
    ]);
    assert_eq!(r.code, Some(1), "{}", clip(&r.stderr));
    let report = r.json();
    assert_good_scanned(&report);

    let errors = report["load_errors"].as_array().unwrap();
    let error_of = |file: &str| -> &Value {
        errors
            .iter()
            .find(|e| {
                e["file"]
                    .as_str()
                    .is_some_and(|f| Path::new(f) == a.join(file))
            })
            .unwrap_or_else(|| panic!("{file} not in load_errors: {errors:#?}"))
    };
    for (file, id, needle) in [
        ("BROKEN-YAML-1.yaml", Some("BROKEN-YAML-1"), ""),
        ("NOT-YAML.yaml", None, "UTF-8"),
        ("NOT-YAML-2.yml", None, "line 1"),
    ] {
        let e = error_of(file);
        assert_eq!(e["source"], source.as_str(), "{e:#}");
        match id {
            Some(id) => assert_eq!(e["id"], id, "{e:#}"),
            // Nothing in the file says which record it was.
            None => assert!(e.get("id").is_none_or(Value::is_null), "{e:#}"),
        }
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(needle), "{file}: {message}");
        assert!(message.len() < 1000, "{file}: message too long");
    }
    assert_eq!(errors.len(), 3, "{errors:#?}");
    // An ecosystem depwatch does not know is not an error (OSV exports mix ecosystems; see
    // `unknown_fields_and_ecosystems_are_tolerated` in src/feeds/osv.rs): the record loads,
    // and its `requests` is not PyPI's. One unreadable `fixed` is not a broken record either:
    // BAD-FIXED-1 and HUGE-1 load, their ranges open from `introduced`.
    assert_eq!(
        report["sources"][0]["advisories"], 4,
        "{:#}",
        report["sources"]
    );
    assert_eq!(report["sources"][0]["skipped"], 3);
    let mut ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    ids.sort();
    let mut want = vec![GOOD_ID, "BAD-FIXED-1", "HUGE-1"];
    want.sort();
    assert_eq!(ids, want, "the good record and the two read conservatively");
    for f in report["findings"].as_array().unwrap() {
        if f["id"] != GOOD_ID {
            let note = f["note"].as_str().unwrap_or_default();
            assert!(note.contains("range end unreadable"), "{f:#}");
        }
    }
}

/// A real zip of OSV JSON records, as bytes.
fn real_zip() -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..20 {
        zip.start_file(format!("UNK-{i}.json"), opts).unwrap();
        zip.write_all(
            UNKNOWN_ECOSYSTEM
                .replace("UNK-ECO-1", &format!("UNK-{i}"))
                .as_bytes(),
        )
        .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn broken_osv_zips_fail_with_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let full = real_zip();
    let eocd = &full[full.len() - 22..];
    let mut keeps_eocd = full[..full.len() / 3].to_vec();
    keeps_eocd.extend_from_slice(eocd);
    let cases: [(&str, Vec<u8>); 5] = [
        ("truncated.zip", full[..full.len() / 2].to_vec()),
        ("truncated-keeps-eocd.zip", keeps_eocd),
        ("not-a-zip.zip", b"this is not a zip archive\n".to_vec()),
        ("garbage.zip", garbage(4096, 3, false)),
        ("empty.zip", Vec::new()),
    ];
    let m = dir_with_good_requirements();
    for (name, bytes) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let source = format!("osv-zip:{}", path.display());
        let r = run(&[
            OsStr::new("scan"),
            m.path().as_os_str(),
            OsStr::new("--source"),
            OsStr::new(&source),
            OsStr::new("--format"),
            OsStr::new("json"),
        ]);
        assert_eq!(r.code, Some(2), "{name}: {}", clip(&r.stderr));
        assert!(
            r.stderr.contains(&format!("{}:", path.display())),
            "{name}: stderr should name the path: {}",
            r.stderr
        );
        assert!(r.stderr.contains("zip"), "{name}: {}", r.stderr);
        assert!(r.stderr.len() < 1000, "{name}: {}", clip(&r.stderr));
    }
    // The intact archive loads (the cases above fail for their damage, not their content).
    let path = tmp.path().join("good.zip");
    std::fs::write(&path, &full).unwrap();
    let source = format!("osv-zip:{}", path.display());
    let r = run(&[
        OsStr::new("scan"),
        m.path().as_os_str(),
        OsStr::new("--source"),
        OsStr::new(&source),
        OsStr::new("--format"),
        OsStr::new("json"),
    ]);
    assert_eq!(r.code, Some(0), "{}", clip(&r.stderr));
    assert_eq!(r.json()["sources"][0]["advisories"], 20);
}

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

#[test]
fn bad_config_files_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let m = dir_with_good_requirements();
    let source = requests_source();
    let cases: [(&str, &str, usize, &str); 5] = [
        (
            "bad-date.toml",
            "fail-on = \"high\"\n\n[[ignore]]\nid = \"X\"\nuntil = \"2027-13-45\"\n",
            5,
            "2027-13-45",
        ),
        (
            "impossible-date.toml",
            "[[ignore]]\nid = \"X\"\nreason = \"r\"\nuntil = 2027-02-30\n",
            4,
            "",
        ),
        (
            "not-a-date.toml",
            "[[ignore]]\nid = \"X\"\nuntil = \"tomorrow\"\n",
            3,
            "tomorrow",
        ),
        (
            "unknown-key.toml",
            "fail-on = \"high\"\nsources = []\nbogus-key = 1\n",
            3,
            "bogus-key",
        ),
        (
            "unknown-ignore-key.toml",
            "[[ignore]]\nid = \"X\"\nexpires = \"2027-01-01\"\n",
            3,
            "expires",
        ),
    ];
    for (name, text, line, needle) in cases {
        let path: PathBuf = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let r = run(&[
            OsStr::new("scan"),
            m.path().as_os_str(),
            OsStr::new("--source"),
            OsStr::new(&source),
            OsStr::new("--config"),
            path.as_os_str(),
        ]);
        assert_eq!(r.code, Some(2), "{name}: {}", r.stderr);
        let expected = format!("{}:{line}:", path.display());
        assert!(
            r.stderr.contains(&expected),
            "{name}: stderr should contain {expected:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(needle), "{name}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{name}: no report on a config error");
    }
}

// ---------------------------------------------------------------------------------------
// Missing inputs
// ---------------------------------------------------------------------------------------

/// Each way of naming a path that does not exist, with the path to look for in stderr.
fn missing_cases(tmp: &Path) -> Vec<(Vec<String>, PathBuf)> {
    let good = tmp.join("requirements.txt");
    std::fs::write(&good, GOOD_REQUIREMENTS).unwrap();
    let missing = tmp.join("does-not-exist");
    let good = good.display().to_string();
    let m = missing.display().to_string();
    let scan = |extra: &[String]| {
        let mut v = vec!["scan".to_string()];
        v.extend_from_slice(extra);
        v
    };
    vec![
        (
            scan(&[m.clone(), "--source".into(), requests_source()]),
            missing.clone(),
        ),
        (
            scan(&[good.clone(), "--source".into(), format!("osv-zip:{m}")]),
            missing.clone(),
        ),
        (
            scan(&[good.clone(), "--source".into(), format!("osv-dir:{m}")]),
            missing.clone(),
        ),
        (
            scan(&[good.clone(), "--source".into(), format!("rustsec-dir:{m}")]),
            missing.clone(),
        ),
        (
            scan(&[
                good,
                "--source".into(),
                requests_source(),
                "--config".into(),
                m,
            ]),
            missing,
        ),
    ]
}

#[test]
fn missing_inputs_name_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, path) in missing_cases(tmp.path()) {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let r = run(&args);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(&path.display().to_string()),
            "{args:?}: {}",
            r.stderr
        );
    }
}

/// An I/O error names the path and says its reason once.
#[test]
fn missing_inputs_are_reported_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (args, _) in missing_cases(tmp.path()) {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let r = run(&args);
        if r.stderr.to_lowercase().matches("no such file").count() > 1 {
            failures.push(r.stderr);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
