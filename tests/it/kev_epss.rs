//! Issue 14 section 3: exploit intelligence from the real CISA KEV catalogs (2025.08.25 and
//! 2026.01.29) and the real FIRST EPSS file of 2026-01-30 (313,089 rows), joined to findings
//! through their ids: scans from files and from the store, the one order, `--fail-on-kev` /
//! `--fail-on-epss`, remote sync against a loopback server, and the monitor's "now known
//! exploited" event.

use crate::loopback::{Reply, Server};
use crate::util::{depwatch, depwatch_store, pypa_dir, shared};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn kev_2025() -> PathBuf {
    shared().join("feeds-reference/kev/known_exploited_vulnerabilities.json")
}

fn kev_2026() -> PathBuf {
    shared().join("feeds-reference/kev/known_exploited_vulnerabilities-2026.01.29.json")
}

fn epss_file() -> PathBuf {
    shared().join("feeds-reference/epss/epss_scores-2026-01-30.csv.gz")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A requirements file pinning `pins`, in a fresh directory.
fn requirements(pins: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("requirements.txt");
    std::fs::write(&p, pins).unwrap();
    (dir, p)
}

fn source(kind: &str, p: &Path) -> String {
    format!("{kind}:{}", p.display())
}

/// `scan --source` over the PyPA records with the KEV and EPSS files.
fn scan_files(manifest: &Path, kev: &Path, extra: &[&str]) -> Output {
    let pypa = source("osv-dir", &pypa_dir());
    let kev = source("kev", kev);
    let epss = source("epss", &epss_file());
    let m = manifest.display().to_string();
    let mut args = vec![
        "scan", &m, "--source", &pypa, "--source", &kev, "--source", &epss,
    ];
    args.extend_from_slice(extra);
    depwatch(&args)
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

fn find<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
}

/// apache-airflow 1.10.10: PYSEC-2020-14's alias CVE-2020-11978 is in KEV (added 2022-01-18)
/// with EPSS 0.94272; it comes first, and fails `--fail-on-kev` even where `--fail-on` would
/// pass (its highest finding is high).
#[test]
fn airflow_kev_finding_comes_first_and_fails_fail_on_kev() {
    let (_d, m) = requirements("apache-airflow==1.10.10\n");
    let o = scan_files(&m, &kev_2025(), &["--format", "json"]);
    let r = json(&o);
    let first = &r["findings"][0];
    assert_eq!(first["id"], "PYSEC-2020-14", "{}", text(&o));
    assert_eq!(first["kev"]["cve"], "CVE-2020-11978");
    assert_eq!(first["kev"]["date_added"], "2022-01-18");
    assert_eq!(first["kev"]["due_date"], "2022-07-18");
    assert_eq!(first["kev"]["known_ransomware_campaign_use"], "Unknown");
    assert_eq!(first["kev"]["catalog_version"], "2025.08.25");
    assert!(
        first["kev"]["source"]
            .as_str()
            .unwrap()
            .starts_with("kev:/"),
        "{first}"
    );
    assert_eq!(first["epss"]["cve"], "CVE-2020-11978");
    assert_eq!(first["epss"]["score"].as_f64(), Some(0.94272));
    assert_eq!(first["epss"]["score_date"], "2026-01-30");
    assert_eq!(first["epss"]["model_version"], "v2025.03.14");

    // The gate: clean at --fail-on critical, failing with --fail-on-kev.
    let clean = scan_files(&m, &kev_2025(), &["--fail-on", "critical"]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let gated = scan_files(&m, &kev_2025(), &["--fail-on", "critical", "--fail-on-kev"]);
    assert_eq!(gated.status.code(), Some(1), "{}", text(&gated));
    let err = String::from_utf8_lossy(&gated.stderr);
    assert!(
        err.contains("apache-airflow PYSEC-2020-14 (CVE-2020-11978 in CISA KEV since 2022-01-18)"),
        "{err}"
    );
    // The table: the marker and the entry, with its source.
    let out = String::from_utf8_lossy(&gated.stdout);
    let first_row = out
        .lines()
        .find(|l| l.contains("apache-airflow"))
        .unwrap_or_default();
    assert!(
        first_row.contains("PYSEC-2020-14") && first_row.contains("KEV, unknown"),
        "{out}"
    );
    assert!(
        out.contains(
            "known exploited: CVE-2020-11978 is in CISA KEV since 2022-01-18 (due 2022-07-18"
        ),
        "{out}"
    );
    assert!(out.contains("EPSS 0.94272 for CVE-2020-11978 (99.9th percentile, scores of 2026-01-30, model v2025.03.14"), "{out}");
}

/// The order: KEV findings first, then by EPSS score, higher first; `--fail-on-epss 0.9`
/// names the findings at or above it.
#[test]
fn findings_are_ranked_by_kev_then_epss() {
    let (_d, m) = requirements("apache-airflow==1.10.10\npillow==9.5.0\n");
    let o = scan_files(&m, &kev_2025(), &["--format", "json"]);
    let r = json(&o);
    let f = r["findings"].as_array().unwrap();
    let kev: Vec<bool> = f.iter().map(|x| x.get("kev").is_some()).collect();
    let n_kev = kev.iter().take_while(|k| **k).count();
    assert_eq!(n_kev, 2, "PYSEC-2020-14 and PYSEC-2020-18 are in KEV");
    assert!(
        kev[n_kev..].iter().all(|k| !k),
        "every KEV finding is first"
    );
    let scores: Vec<f64> = f[n_kev..]
        .iter()
        .map(|x| x["epss"]["score"].as_f64().unwrap_or(-1.0))
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "EPSS order: {scores:?}"
    );
    assert_eq!(scores[0], 0.93736, "PYSEC-2022-42982 (CVE-2022-40127)");

    let o = scan_files(
        &m,
        &kev_2025(),
        &["--fail-on", "critical", "--fail-on-epss", "0.9"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("PYSEC-2022-42982 (CVE-2022-40127 EPSS 0.93736 >= 0.9)"),
        "{err}"
    );
    assert!(
        !err.contains("PYSEC-2020-19"),
        "0.17227 is below 0.9: {err}"
    );
    let o = scan_files(
        &m,
        &kev_2025(),
        &["--fail-on", "critical", "--fail-on-epss", "0.95"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "nothing reaches 0.95: {}",
        text(&o)
    );
    let bad = scan_files(&m, &kev_2025(), &["--fail-on-epss", "2"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}

/// pillow 9.5.0: PYSEC-2023-175 names the KEV-listed libwebp CVE-2023-4863 only under
/// `related`. It is not marked `kev` (a different vulnerability id), does not fail
/// `--fail-on-kev`, and is shown as related in every output.
#[test]
fn a_related_kev_cve_is_shown_but_does_not_mark_the_finding() {
    let (_d, m) = requirements("pillow==9.5.0\n");
    let r = json(&scan_files(&m, &kev_2025(), &["--format", "json"]));
    let f = find(&r, "PYSEC-2023-175");
    assert!(f.get("kev").is_none(), "{f}");
    assert_eq!(f["kev_related"][0]["cve"], "CVE-2023-4863");
    assert_eq!(f["kev_related"][0]["date_added"], "2023-09-13");

    let o = scan_files(&m, &kev_2025(), &["--fail-on", "critical", "--fail-on-kev"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "related (not this finding's own id): CVE-2023-4863 is in CISA KEV since 2023-09-13"
        ),
        "{out}"
    );
    let md = scan_files(&m, &kev_2025(), &["--format", "markdown"]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("Related (not this finding's own id): CVE-2023-4863"),
        "{md}"
    );
    let sarif: Value =
        serde_json::from_slice(&scan_files(&m, &kev_2025(), &["--format", "sarif"]).stdout)
            .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let r175 = results
        .iter()
        .find(|x| x["ruleId"] == "PYSEC-2023-175")
        .unwrap();
    assert_eq!(r175["properties"]["kevRelated"][0]["cve"], "CVE-2023-4863");
    assert!(r175["properties"].get("kev").is_none());
}

/// `sync --source kev:PATH --source epss:PATH` into a fresh store; a store scan then carries
/// the same marks (SARIF properties, markdown marker); an unchanged file is not read again;
/// a broken file leaves the previous data as it was.
#[test]
fn local_sync_then_store_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.sqlite3");
    let pypa = source("osv-dir", &pypa_dir());
    let kev = source("kev", &kev_2025());
    let epss = source("epss", &epss_file());
    let o = depwatch_store(
        &store,
        &[
            "sync", "--source", &pypa, "--source", &kev, "--source", &epss,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("known_exploited_vulnerabilities.json: 1404 written, 0 removed"),
        "{out}"
    );
    assert!(
        out.contains("epss_scores-2026-01-30.csv.gz: 313089 written, 0 removed"),
        "{out}"
    );

    let again = depwatch_store(&store, &["sync", "--source", &kev, "--source", &epss]);
    let out = String::from_utf8_lossy(&again.stdout);
    assert_eq!(out.matches(": unchanged").count(), 2, "{out}");

    let (_d, m) = requirements("apache-airflow==1.10.10\n");
    let m = m.display().to_string();
    let o = depwatch_store(&store, &["scan", &m, "--format", "sarif", "--fail-on-kev"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let first = &sarif["runs"][0]["results"][0];
    assert_eq!(first["ruleId"], "PYSEC-2020-14");
    assert_eq!(first["properties"]["kev"]["cve"], "CVE-2020-11978");
    assert_eq!(first["properties"]["epss"]["score"].as_f64(), Some(0.94272));
    assert!(
        first["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Known exploited: CVE-2020-11978 is in CISA KEV since 2022-01-18"),
        "{first}"
    );
    // The exploit-data sources are not listed as advisory sources.
    let o = depwatch_store(&store, &["scan", &m, "--format", "json"]);
    let r = json(&o);
    let names: Vec<&str> = r["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert!(names.iter().all(|n| n.starts_with("osv-dir:")), "{names:?}");
    let md = depwatch_store(&store, &["scan", &m, "--format", "markdown"]);
    assert!(
        String::from_utf8_lossy(&md.stdout).contains("**KEV**, unknown"),
        "{}",
        text(&md)
    );

    // A truncated EPSS file fails alone and keeps the previous scores.
    let broken = tmp.path().join("epss_broken.csv.gz");
    let bytes = std::fs::read(epss_file()).unwrap();
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let b = source("epss", &broken);
    let o = depwatch_store(&store, &["sync", "--source", &b]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("epss_broken.csv.gz") && err.contains("(previous data kept)"),
        "{err}"
    );
    let r = json(&depwatch_store(&store, &["scan", &m, "--format", "json"]));
    assert_eq!(
        find(&r, "PYSEC-2020-14")["epss"]["score"].as_f64(),
        Some(0.94272)
    );

    // The later catalog replaces the set: 97 CVEs added, none removed, entries changed in
    // place (CVE-2020-11978 keeps its date).
    let o = depwatch_store(&store, &["sync", "--source", &source("kev", &kev_2026())]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("2026.01.29.json: 1501 written, 0 removed"),
        "{}",
        text(&o)
    );
    let r = json(&depwatch_store(&store, &["scan", &m, "--format", "json"]));
    let k = &find(&r, "PYSEC-2020-14")["kev"];
    assert_eq!(
        (k["catalog_version"].as_str(), k["date_added"].as_str()),
        (Some("2026.01.29"), Some("2022-01-18"))
    );
    // The 2025 file's source row went with its set.
    let srcs =
        String::from_utf8_lossy(&depwatch_store(&store, &["db", "stats"]).stdout).to_string();
    assert!(
        !srcs.contains("known_exploited_vulnerabilities.json")
            && srcs.contains("2026.01.29.json: 1501 records"),
        "{srcs}"
    );

    // KEV / EPSS files with a store scan: refused, with what to do instead.
    let o = depwatch_store(&store, &["scan", &m, "--source", &kev]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("depwatch sync --source kev:PATH"),
        "{}",
        text(&o)
    );

    // A KEV file that is not a catalog: an error naming the file.
    let bad = tmp.path().join("kev.json");
    std::fs::write(
        &bad,
        r#"{"catalogVersion":"x","vulnerabilities":[{"cveID":"CVE-2020-0001"}]}"#,
    )
    .unwrap();
    let o = depwatch_store(&store, &["sync", "--source", &source("kev", &bad)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("kev.json: vulnerabilities[0] (CVE-2020-0001): missing field"),
        "{err}"
    );
}

/// The KEV and EPSS feeds against a loopback server serving the real files: the first sync
/// writes both, the next is a conditional request answered 304 per feed.
#[test]
fn remote_sync_of_the_real_files_is_conditional() {
    let kev = std::fs::read(kev_2025()).unwrap();
    let epss = std::fs::read(epss_file()).unwrap();
    let srv = Server::start(move |req| {
        let etag = match req.path() {
            "/feeds/known_exploited_vulnerabilities.json" => "\"kev-1\"",
            "/epss_scores-current.csv.gz" => "\"epss-1\"",
            _ => return Reply::status(404),
        };
        if req.header("if-none-match") == Some(etag) {
            return Reply::status(304);
        }
        let body = if etag == "\"kev-1\"" {
            kev.clone()
        } else {
            epss.clone()
        };
        Reply::ok(body)
            .header("etag", etag)
            .header("content-type", "application/octet-stream")
    });
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.sqlite3");
    let cfg = tmp.path().join("depwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "[feeds.kev]\nbase-url = \"{u}/feeds/known_exploited_vulnerabilities.json\"\n\
             [feeds.epss]\nbase-url = \"{u}/epss_scores-current.csv.gz\"\n",
            u = srv.url
        ),
    )
    .unwrap();
    let cfg = cfg.display().to_string();
    let args = ["sync", "--config", &cfg, "--feed", "kev", "--feed", "epss"];
    let o = depwatch_store(&store, &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("kev: 1404 written, 0 removed"), "{out}");
    assert!(out.contains("epss: 313089 written, 0 removed"), "{out}");
    let before = srv.requests().len();
    let o = depwatch_store(&store, &args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.matches(": unchanged").count(), 2, "{}", text(&o));
    assert_eq!(
        srv.requests().len() - before,
        2,
        "one conditional GET per feed"
    );
}

/// The two real KEV snapshots: CVE-2025-54313 was added between 2025.08.25 and 2026.01.29.
/// A project whose (old, already reported) finding names it gets a "now known exploited"
/// message on the run after the catalog changes, and nothing more on the run after that.
#[test]
fn a_finding_entering_kev_is_an_event_even_when_old() {
    use std::sync::{Arc, Mutex};
    let (slack, accepted): (Server, Arc<Mutex<Vec<Value>>>) =
        crate::loopback::slack_receiver("/hook", 0);
    let tmp = tempfile::tempdir().unwrap();
    // A test record (not real advisory data) naming the CVE the later catalog adds.
    let adv = tmp.path().join("advisories");
    std::fs::create_dir_all(&adv).unwrap();
    std::fs::write(
        adv.join("TEST-2026-0001.json"),
        r#"{"id":"TEST-2026-0001","modified":"2026-01-01T00:00:00Z","aliases":["CVE-2025-54313"],
            "summary":"test record for the KEV event",
            "affected":[{"package":{"ecosystem":"PyPI","name":"kev-test-package"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}]}"#,
    )
    .unwrap();
    let req = tmp.path().join("requirements.txt");
    std::fs::write(&req, "kev-test-package==1.0\n").unwrap();
    let cfg = tmp.path().join("depwatch.toml");
    let write_cfg = |kev: &Path| {
        std::fs::write(
            &cfg,
            format!(
                "sources = [\"osv-dir:{}\", \"kev:{}\"]\n\n[[project]]\nname = \"p\"\npath = \"{}\"\n\
                 epss-alert = 0.2\n\n[notify.slack]\nwebhook-env = \"DEPWATCH_TEST_SLACK_WEBHOOK\"\n",
                adv.display(),
                kev.display(),
                req.display()
            ),
        )
        .unwrap();
    };
    let run = |now: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_depwatch"))
            .args(["run", "--offline", "--config"])
            .arg(&cfg)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .env("NO_COLOR", "1")
            .env("DEPWATCH_STORE", tmp.path().join("store.sqlite3"))
            .env("DEPWATCH_NOW", now)
            .env("DEPWATCH_TEST_SLACK_WEBHOOK", format!("{}/hook", slack.url))
            .output()
            .unwrap()
    };
    write_cfg(&kev_2025());
    let o = run("2026-02-01T09:00:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(accepted.lock().unwrap().len(), 1, "the new finding");

    write_cfg(&kev_2026());
    let o = run("2026-02-02T09:00:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let bodies = accepted.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "{}", text(&o));
    let msg = bodies[1].to_string();
    assert!(
        msg.contains("Now known exploited: CVE-2025-54313 entered CISA KEV on"),
        "{msg}"
    );
    assert!(msg.contains("catalog 2026.01.29"), "{msg}");

    let o = run("2026-02-03T09:00:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(accepted.lock().unwrap().len(), 2, "told once");
}
