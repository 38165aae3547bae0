//! Issue 14 section 6: malicious releases (OSV `MAL-` records from ossf/malicious-packages,
//! `../shared/feeds-reference/malicious`). A malicious finding is shown as malicious (never
//! "unknown" severity), fails at any `--fail-on`, advises removing the release (naming the
//! nearest version depwatch knows of, and where it came from); a dependency from a private
//! index is a dependency-confusion finding instead; withdrawn records resolve their findings;
//! the watcher's fast lane brings a new record to Slack within one interval.

use crate::loopback::{Reply, Request, Server, slack_receiver};
use crate::util::{depwatch, shared};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn malicious_dir() -> PathBuf {
    shared().join("feeds-reference/malicious")
}

fn source() -> String {
    format!("osv-dir:{}", malicious_dir().display())
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn scan(paths: &[&Path], extra: &[&str]) -> Output {
    let src = source();
    let mut args: Vec<&str> = vec!["scan", "--source", &src];
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    args.extend(extra);
    depwatch(&args)
}

fn scan_json(paths: &[&Path]) -> Value {
    let o = scan(paths, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn finding<'a>(report: &'a Value, package: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == package)
        .unwrap_or_else(|| panic!("no finding on {package}: {report:#}"))
}

#[test]
fn num2words_is_malicious_not_unknown_and_fails_at_any_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("requirements.txt");
    std::fs::write(&req, "num2words==0.5.15\n").unwrap();

    for level in ["critical", "high", "low", "unknown"] {
        let o = scan(&[&req], &["--fail-on", level]);
        assert_eq!(o.status.code(), Some(1), "--fail-on {level}: {}", text(&o));
    }
    let o = scan(&[&req], &[]);
    let table = String::from_utf8_lossy(&o.stdout);
    let line = table
        .lines()
        .find(|l| l.contains("num2words"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("MAL-2025-6794"), "{line}");
    assert!(line.contains("malicious"), "{line}");
    assert!(line.contains("remove this release"), "{line}");
    assert!(!line.contains("unknown"), "{line}");
    assert!(!table.contains("no fixed version"), "{table}");
    assert!(table.contains("(1 malicious)"), "{table}");
    assert!(!table.contains("unknown)"), "{table}");

    let r = scan_json(&[&req]);
    let f = finding(&r, "num2words");
    assert_eq!(f["kind"], "malware");
    // Honest: the record has no score; the level stays unknown, the marker says malicious.
    assert_eq!(f["severity"], "unknown");
    assert!(f.get("cvss_score").is_none());
    assert_eq!(f["fix"]["kind"], "remove_release");
    // Nothing names another release of num2words: no version is invented.
    assert!(f["fix"].get("nearest").is_none(), "{f:#}");
    assert_eq!(r["summary"]["malicious"], 1);
    assert_eq!(r["summary"]["by_severity"]["malicious"], 1);
    assert_eq!(r["summary"]["by_severity"]["unknown"], 0);

    // Every renderer gives the same advice.
    for format in ["markdown", "sarif"] {
        let o = scan(&[&req], &["--format", format]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("remove this release"), "{format}: {out}");
        assert!(!out.contains("no fixed version"), "{format}: {out}");
    }
    let o = scan(&[&req], &["--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rule = &sarif["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["properties"]["security-severity"], "10.0");
    assert!(
        rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("no CVSS score; security-severity 10.0 is depwatch's rating"),
        "{rule:#}"
    );
}

#[test]
fn nearest_version_is_one_depwatch_knows_and_says_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    // The compromised release in one project, the release before it in another.
    let a = dir.path().join("a/requirements.txt");
    let b = dir.path().join("b/requirements.txt");
    std::fs::create_dir_all(a.parent().unwrap()).unwrap();
    std::fs::create_dir_all(b.parent().unwrap()).unwrap();
    std::fs::write(&a, "num2words==0.5.16\n").unwrap();
    std::fs::write(&b, "num2words==0.5.14\n").unwrap();
    // Every version listed (introduced 0): nothing to move to.
    let lock = dir.path().join("c/Cargo.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(
        &lock,
        r#"version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["arrayref", "proc-macro1"]

[[package]]
name = "arrayref"
version = "0.3.10"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "proc-macro1"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#,
    )
    .unwrap();
    let r = scan_json(&[&a, &b, &lock]);
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "{r:#}");
    let n = finding(&r, "num2words");
    assert_eq!(n["package"]["version"], "0.5.16");
    assert_eq!(n["fix"]["nearest"]["version"], "0.5.14", "{n:#}");
    let from = n["fix"]["nearest"]["from"].as_str().unwrap();
    assert!(
        from.starts_with("pinned in ") && from.ends_with("b/requirements.txt"),
        "{from}"
    );
    let p = finding(&r, "proc-macro1");
    assert_eq!(p["fix"]["every_version"], true, "{p:#}");
    let arrayref = finding(&r, "arrayref");
    assert_eq!(arrayref["fix"]["kind"], "remove_release");
    assert!(arrayref["fix"].get("nearest").is_none(), "{arrayref:#}");

    let o = scan(&[&a, &b, &lock], &[]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains(
            "remove this release, or move to 0.5.14 (not listed by the malware record; pinned in"
        ),
        "{table}"
    );
    assert!(
        table.contains("remove this package (the malware record lists every version)"),
        "{table}"
    );
}

const CONFUSION: &str = "a package of this name on PyPI is malware: check your index configuration";

/// Each lockfile format that records where a package comes from, with num2words from a
/// private index (credentials in the URL, which must never be echoed).
#[test]
fn a_private_index_makes_it_dependency_confusion_not_installed_malware() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |rel: &str, body: &str| {
        let p = d.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, body).unwrap();
        p
    };
    let req = write(
        "req/requirements.txt",
        "--extra-index-url https://ci:hunter2@pypi.internal.example/simple\nnum2words==0.5.15\n",
    );
    let uv = write(
        "uv/uv.lock",
        r#"version = 1
requires-python = ">=3.9"

[[package]]
name = "num2words"
version = "0.5.15"
source = { registry = "https://ci:hunter2@pypi.internal.example/simple" }
"#,
    );
    let poetry = write(
        "poetry/poetry.lock",
        r#"[[package]]
name = "num2words"
version = "0.5.15"
description = "Modules to convert numbers to words."
optional = false
python-versions = "*"
files = []

[package.source]
type = "legacy"
url = "https://pypi.internal.example/simple"
reference = "internal"

[metadata]
lock-version = "2.0"
python-versions = "^3.9"
content-hash = "0000"
"#,
    );
    let pipfile = write(
        "pipenv/Pipfile.lock",
        r#"{
    "_meta": {
        "hash": {"sha256": "0000"},
        "pipfile-spec": 6,
        "requires": {"python_version": "3.11"},
        "sources": [
            {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true},
            {"name": "internal", "url": "https://pypi.internal.example/simple", "verify_ssl": true}
        ]
    },
    "default": {
        "num2words": {"index": "internal", "version": "==0.5.15"},
        "1337test": {"index": "pypi", "version": "==1"}
    },
    "develop": {}
}
"#,
    );
    let r = scan_json(&[&req, &uv, &poetry, &pipfile]);
    let findings = r["findings"].as_array().unwrap();
    let confused: Vec<&Value> = findings
        .iter()
        .filter(|f| f["package"]["name"] == "num2words")
        .collect();
    assert_eq!(confused.len(), 4, "{r:#}");
    for f in confused {
        assert_eq!(f["fix"]["kind"], "check_index", "{f:#}");
        assert_eq!(
            f["fix"]["index"], "https://pypi.internal.example/simple",
            "{f:#}"
        );
    }
    // The same lockfile's package from PyPI itself is installed malware.
    let t = finding(&r, "1337test");
    assert_eq!(t["fix"]["kind"], "remove_release", "{t:#}");
    assert_eq!(r["summary"]["by_severity"]["dependency-confusion"], 4);
    assert_eq!(r["summary"]["by_severity"]["malicious"], 1);

    let o = scan(&[&req, &uv, &poetry, &pipfile], &["--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    let line = table
        .lines()
        .find(|l| l.contains("num2words") && l.contains("uv.lock"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("dependency-confusion"), "{line}");
    assert!(line.contains(CONFUSION), "{line}");
    assert!(!line.contains("remove this release"), "{line}");
    for format in ["json", "markdown", "sarif", "table"] {
        let o = scan(&[&req, &uv, &poetry, &pipfile], &["--format", format]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            !out.contains("hunter2"),
            "{format} echoes the index password"
        );
    }
}

#[test]
fn withdrawn_malicious_records_never_match_and_resolve_open_findings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let req = d.join("app/requirements.txt");
    std::fs::create_dir_all(req.parent().unwrap()).unwrap();
    std::fs::write(&req, "fastapi==0.136.3\nlodestone==0.0.58\n").unwrap();
    // The real sample: both records are withdrawn, so neither matches.
    let o = scan(&[&req], &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["findings"].as_array().unwrap().len(), 0, "{r:#}");

    // The monitor saw the fastapi record before it was withdrawn: a malicious finding, open.
    let withdrawn = malicious_dir().join("osv/withdrawn/pypi/fastapi/MAL-2026-4750.json");
    let mut record: Value = serde_json::from_slice(&std::fs::read(&withdrawn).unwrap()).unwrap();
    // As first published: not withdrawn, last modified when published (withdrawing it
    // bumped `modified` to the withdrawal time).
    record.as_object_mut().unwrap().remove("withdrawn");
    record["modified"] = record["published"].clone();
    let feed = d.join("feed");
    std::fs::create_dir_all(&feed).unwrap();
    let file = feed.join("MAL-2026-4750.json");
    std::fs::write(&file, serde_json::to_vec(&record).unwrap()).unwrap();
    let (slack, accepted) = slack_receiver(WITHDRAWN_HOOK, 0);
    let config = d.join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            "sources = [\"osv-dir:{}\"]\n\n[[project]]\nname = \"app\"\npath = \"{}\"\n\n\
             [notify.slack]\nwebhook-env = \"DEPWATCH_TEST_SLACK_WEBHOOK\"\n",
            feed.display(),
            req.display()
        ),
    )
    .unwrap();
    let run = |now: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_depwatch"))
            .args(["run", "--offline", "--json", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(d.join("out"))
            .args(extra)
            .env("NO_COLOR", "1")
            .env("DEPWATCH_STORE", d.join("store.sqlite3"))
            .env("DEPWATCH_NOW", now)
            .env(
                "DEPWATCH_TEST_SLACK_WEBHOOK",
                format!("{}{WITHDRAWN_HOOK}", slack.url),
            )
            .output()
            .unwrap()
    };
    let o = run("2026-05-24T00:00:00Z", &["--ci", "--fail-on", "critical"]);
    // Malware fails a CI run whatever --fail-on says.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = &r["projects"][0];
    assert_eq!(p["open"], 1, "{r:#}");
    assert_eq!(p["malicious"], 1, "{r:#}");
    assert_eq!(p["events"], serde_json::json!(["new"]), "{r:#}");

    // The record is withdrawn upstream (the real file, with its `withdrawn` time).
    std::fs::write(&file, std::fs::read(&withdrawn).unwrap()).unwrap();
    let o = run("2026-05-27T00:00:00Z", &["--ci", "--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = &r["projects"][0];
    assert_eq!(p["open"], 0, "{r:#}");
    assert_eq!(p["events"], serde_json::json!(["resolved"]), "{r:#}");
    let bodies = accepted.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "{bodies:#?}");
    let (new, resolved) = (bodies[0].to_string(), bodies[1].to_string());
    assert!(
        new.contains("malicious") && new.contains("remove this release"),
        "{new}"
    );
    assert!(
        resolved.contains("advisory MAL-2026-4750 was withdrawn"),
        "resolved as withdrawn, not as upgraded: {resolved}"
    );
    let notes = std::fs::read_to_string(d.join("out/app/SECURITY-NOTES.md")).unwrap();
    assert!(notes.contains("**Malicious** [MAL-2026-4750]"), "{notes}");
}

const WITHDRAWN_HOOK: &str = "/services/T0000/B0000/WiThDrAwN";

// ---- The fast lane, end to end ----------------------------------------------------------

const HOOK_PATH: &str = "/services/T0000/B0000/FaStLaNe";

/// The PyPI part of the OSV export: the sample's PyPI records (num2words held back) in
/// `all.zip`, newest first in `modified_id.csv`, each also at `{ID}.json`.
struct Export {
    zip: Vec<u8>,
    csv: String,
    records: std::collections::BTreeMap<String, Vec<u8>>,
}

fn pypi_records() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for sub in ["osv/malicious/pypi", "osv/withdrawn/pypi"] {
        for pkg in std::fs::read_dir(malicious_dir().join(sub))
            .unwrap()
            .flatten()
        {
            for f in std::fs::read_dir(pkg.path()).unwrap().flatten() {
                let v: Value = serde_json::from_slice(&std::fs::read(f.path()).unwrap()).unwrap();
                out.push((v["id"].as_str().unwrap().to_string(), v));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn export(records: &[(String, Value)]) -> Export {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        for (id, v) in records {
            z.start_file(format!("{id}.json"), opts).unwrap();
            z.write_all(&serde_json::to_vec(v).unwrap()).unwrap();
        }
        z.finish().unwrap();
    }
    let mut lines: Vec<(jiff::Timestamp, String)> = records
        .iter()
        .map(|(id, v)| {
            let t: jiff::Timestamp = v["modified"].as_str().unwrap().parse().unwrap();
            (t, format!("{},{id}", v["modified"].as_str().unwrap()))
        })
        .collect();
    lines.sort();
    lines.reverse();
    Export {
        zip: buf.into_inner(),
        csv: lines.into_iter().map(|(_, l)| l + "\n").collect::<String>(),
        records: records
            .iter()
            .map(|(id, v)| (id.clone(), serde_json::to_vec(v).unwrap()))
            .collect(),
    }
}

fn export_server(state: Arc<Mutex<Export>>) -> Server {
    Server::start(move |req: &Request| {
        let s = state.lock().unwrap();
        match req.path() {
            "/osv/PyPI/all.zip" => Reply::ok(s.zip.clone()),
            "/osv/PyPI/modified_id.csv" => Reply::ok(s.csv.clone()),
            p => match p
                .strip_prefix("/osv/PyPI/")
                .and_then(|f| f.strip_suffix(".json"))
                .and_then(|id| s.records.get(id))
            {
                Some(body) => Reply::ok(body.clone()),
                None => Reply::status(404),
            },
        }
    })
}

fn log_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("watch.log")).unwrap_or_default()
}

fn terminate(child: &mut Child) -> Option<i32> {
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("depwatch watch did not exit within 60 s of SIGTERM");
}

/// Stops the watcher if an assertion fails first.
struct Watcher(Child);

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn fast_lane_brings_a_new_malicious_record_to_slack_and_email_within_one_interval() {
    const INTERVAL_MS: u64 = 1000;
    let all = pypi_records();
    let (held, rest): (Vec<_>, Vec<_>) = all.into_iter().partition(|(id, _)| id == "MAL-2025-6794");
    let state = Arc::new(Mutex::new(export(&rest)));
    let srv = export_server(state.clone());
    let (slack, accepted) = slack_receiver(HOOK_PATH, 0);
    let smtp = crate::channels::SmtpServer::start(None);

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, body) in [
        ("app", "num2words==0.5.15\nrequests==2.31.0\n"),
        ("other", "requests==2.31.0\n"),
    ] {
        std::fs::create_dir_all(d.join(name)).unwrap();
        std::fs::write(d.join(name).join("requirements.txt"), body).unwrap();
    }
    let config = d.join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"[feeds.osv-pypi]
base-url = "{url}/osv"
[feeds.osv-crates]
enabled = false
[feeds.rustsec]
enabled = false
[feeds.ghsa]
enabled = false
[feeds.crates-index]
enabled = false

[[project]]
name = "app"
path = "{app}"

[[project]]
name = "other"
path = "{other}"

[notify.slack]
webhook-env = "DEPWATCH_TEST_SLACK_WEBHOOK"

[notify.email]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "depwatch <depwatch@example.com>"
to = ["security@example.com"]
"#,
            smtp_port = smtp.port,
            url = srv.url,
            app = d.join("app/requirements.txt").display(),
            other = d.join("other/requirements.txt").display(),
        ),
    )
    .unwrap();
    let spawn = |log: &str| {
        let log = std::fs::File::create(d.join(log)).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_depwatch"))
            .args(["watch", "--log-format", "json", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(d.join("out"))
            // The full cycle fires once a year (plus the catch-up at start); the fast lane runs
            // every INTERVAL_MS.
            .args(["--schedule", "0 0 1 1 *", "--lock-wait", "0"])
            .args(["--test-fast-lane-ms", &INTERVAL_MS.to_string()])
            .env("NO_COLOR", "1")
            .env("DEPWATCH_STORE", d.join("store.sqlite3"))
            .env(
                "DEPWATCH_TEST_SLACK_WEBHOOK",
                format!("{}{HOOK_PATH}", slack.url),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn depwatch watch");
        Watcher(child)
    };
    let mut watcher = spawn("watch.log");

    // The catch-up cycle syncs all.zip (nothing affects either project), then a fast lane
    // finds modified_id.csv unchanged.
    let start = Instant::now();
    loop {
        let l = log_of(d);
        if let Some(i) = l.find("cycle finished")
            && l[i..].contains("fast lane finished")
        {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(180), "{l}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(accepted.lock().unwrap().is_empty(), "nothing to tell yet");
    assert!(smtp.messages().is_empty(), "nothing to tell yet");
    let before = srv.requests().len();

    // num2words's record is published upstream: a new first line in modified_id.csv.
    let (id, mut record) = held.into_iter().next().unwrap();
    let now = jiff::Timestamp::now().to_string();
    record["modified"] = Value::String(now.clone());
    {
        let mut s = state.lock().unwrap();
        s.csv = format!("{now},{id}\n{}", s.csv);
        s.records
            .insert(id.clone(), serde_json::to_vec(&record).unwrap());
    }
    let published = Instant::now();
    let latency = loop {
        let slack_has = accepted
            .lock()
            .unwrap()
            .iter()
            .any(|b| b.to_string().contains("num2words"));
        let mail_has = smtp
            .messages()
            .iter()
            .any(|m| m.to_string().contains("num2words"));
        if slack_has && mail_has {
            break published.elapsed();
        }
        assert!(
            published.elapsed() < Duration::from_secs(60),
            "no alert within 60 s:\n{}",
            log_of(d)
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!(
        "fast lane: new malicious record to Slack and email in {latency:?} (interval {INTERVAL_MS} ms)"
    );
    // One interval, plus what one fast lane takes on a loaded machine (sync of one record,
    // a re-match of one package, one webhook POST, one SMTP session).
    assert!(
        latency < Duration::from_millis(INTERVAL_MS) + Duration::from_secs(4),
        "{latency:?}\n{}",
        log_of(d)
    );
    assert_eq!(terminate(&mut watcher.0), Some(0), "{}", log_of(d));

    let bodies = accepted.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:#?}");
    let body = bodies[0].to_string();
    assert!(
        body.contains("MAL-2025-6794") || body.contains("PYSEC-2025-72"),
        "{body}"
    );
    assert!(body.contains("malicious"), "{body}");
    assert!(body.contains("remove this release"), "{body}");
    assert!(!body.contains("no fix yet"), "{body}");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let mail = mails[0].to_string();
    assert!(
        mail.contains("malicious") && mail.contains("remove this release"),
        "{mail}"
    );

    // Only the changed record was fetched (no second all.zip), and only the project with a
    // dependency on num2words was re-matched.
    let paths: Vec<String> = srv.requests()[before..]
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert!(
        paths.contains(&"/osv/PyPI/MAL-2025-6794.json".to_string()),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.ends_with("all.zip")), "{paths:?}");
    let l = log_of(d);
    let lanes: Vec<Value> = l
        .lines()
        .filter_map(|x| serde_json::from_str::<Value>(x).ok())
        .filter(|v| v["fields"]["message"] == "fast lane finished")
        .collect();
    assert!(lanes.len() >= 2, "{l}");
    assert!(
        lanes
            .iter()
            .all(|v| !v["fields"]["rematched"].to_string().contains("other")),
        "the project without num2words is never re-matched: {l}"
    );
    let rematched: Vec<Value> = l
        .lines()
        .filter_map(|x| serde_json::from_str::<Value>(x).ok())
        .filter(|v| v["fields"]["message"] == "fast lane finished")
        .filter(|v| v["fields"]["queued"] != 0)
        .collect();
    assert_eq!(rematched.len(), 1, "{l}");
    assert_eq!(
        rematched[0]["fields"]["rematched"].as_str(),
        Some("[\"app\"]"),
        "{l}"
    );
    // The finding is remembered: the next full cycle does not alert it again.
    let o = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["run", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(d.join("out"))
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", d.join("store.sqlite3"))
        .env(
            "DEPWATCH_TEST_SLACK_WEBHOOK",
            format!("{}{HOOK_PATH}", slack.url),
        )
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("project app: 1 open (1 malicious), nothing new"),
        "{}",
        text(&o)
    );
    assert_eq!(accepted.lock().unwrap().len(), 1);
    assert_eq!(smtp.messages().len(), 1);
    let status = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["status", "--config"])
        .arg(&config)
        .env("DEPWATCH_STORE", d.join("store.sqlite3"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&status.stdout);
    let line = out
        .lines()
        .find(|l| l.contains("num2words 0.5.15"))
        .unwrap_or_else(|| panic!("{}", text(&status)));
    assert!(line.contains("[malicious]"), "{line}");

    // The record is withdrawn upstream: the fast lane resolves the finding as withdrawn.
    let mut watcher = spawn("watch2.log");
    let then = jiff::Timestamp::now().to_string();
    record["modified"] = Value::String(then.clone());
    record["withdrawn"] = Value::String(then.clone());
    {
        let mut s = state.lock().unwrap();
        s.csv = format!("{then},{id}\n{}", s.csv);
        s.records
            .insert(id.clone(), serde_json::to_vec(&record).unwrap());
    }
    let start = Instant::now();
    while accepted.lock().unwrap().len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no resolution within 60 s:\n{}",
            std::fs::read_to_string(d.join("watch2.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(terminate(&mut watcher.0), Some(0));
    let body = accepted.lock().unwrap()[1].to_string();
    assert!(
        body.contains("advisory PYSEC-2025-72 was withdrawn"),
        "{body}"
    );
    let log2 = std::fs::read_to_string(d.join("watch2.log")).unwrap();
    assert!(!log2.contains("cycle started"), "no catch-up cycle: {log2}");
}
