//! `depwatch sync` of the remote feeds against loopback servers that speak the real wire
//! formats and serve the real corpus: the PyPA records as an OSV `PyPI/all.zip` export with its
//! `modified_id.csv`, RustSec's OSV records as the `crates.io` export, the advisory-db as the
//! RustSec archive, and an (empty) GitHub advisories API.

use crate::support::files::{walk as files, zip_of};
use crate::support::loopback::{Reply, Server};
use crate::support::{depwatch_store, manifest, pypa_dir, rustsec_dir, shared};
use std::path::{Path, PathBuf};

const ETAG: &str = "\"archive-v1\"";

/// The PyPA snapshot as the OSV export serves it: JSON records in all.zip, newest first in
/// modified_id.csv.
fn pypi_export() -> (Vec<u8>, String) {
    let mut entries = Vec::new();
    let mut lines = Vec::new();
    for p in files(&pypa_dir()) {
        if p.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        let name = p.display().to_string();
        // Records the snapshot itself cannot compile are left out, as the local source does.
        let Ok(c) = depwatch::feeds::osv::parse_record(&bytes, &name, &name, "t") else {
            continue;
        };
        let a = &c.advisory;
        let ts: jiff::Timestamp = a.modified.parse().unwrap();
        lines.push((ts, format!("{},{}", ts, a.id)));
        entries.push((format!("{}.json", a.id), serde_json::to_vec(&**a).unwrap()));
    }
    lines.sort();
    lines.reverse();
    let csv = lines
        .into_iter()
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    (zip_of(&entries), csv)
}

fn crates_export() -> (Vec<u8>, String) {
    let dir = shared().join("feeds-reference/rustsec-osv/crates");
    let mut entries = Vec::new();
    let mut lines = Vec::new();
    for p in files(&dir) {
        let bytes = std::fs::read(&p).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        lines.push(format!(
            "{},{}",
            v["modified"].as_str().unwrap(),
            v["id"].as_str().unwrap()
        ));
        entries.push((p.file_name().unwrap().to_string_lossy().into_owned(), bytes));
    }
    lines.sort();
    lines.reverse();
    (zip_of(&entries), lines.join("\n") + "\n")
}

fn rustsec_archive() -> Vec<u8> {
    let root = rustsec_dir();
    let entries: Vec<_> = files(&root.join("crates"))
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).unwrap().display().to_string();
            (
                format!("advisory-db-main/{rel}"),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    zip_of(&entries)
}

fn server() -> Server {
    server_with(std::sync::Arc::new(std::sync::atomic::AtomicBool::new(
        false,
    )))
}

/// The feeds; while `broken` is set, the PyPI export answers 500 and the archive is cut off
/// mid-body.
fn server_with(broken: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Server {
    let (pypi_zip, pypi_csv) = pypi_export();
    let (crates_zip, crates_csv) = crates_export();
    let archive = rustsec_archive();
    Server::start(move |req| match req.path() {
        p if broken.load(std::sync::atomic::Ordering::SeqCst) && p.starts_with("/osv/PyPI/") => {
            Reply::status(500)
        }
        "/rustsec/main.zip" if broken.load(std::sync::atomic::Ordering::SeqCst) => {
            Reply::ResetMidBody {
                sent: 1000,
                total: 100_000,
            }
        }
        "/osv/PyPI/all.zip" => Reply::ok(pypi_zip.clone()),
        "/osv/PyPI/modified_id.csv" => Reply::ok(pypi_csv.clone()),
        "/osv/crates.io/all.zip" => Reply::ok(crates_zip.clone()),
        "/osv/crates.io/modified_id.csv" => Reply::ok(crates_csv.clone()),
        "/rustsec/main.zip" => {
            if req.header("if-none-match") == Some(ETAG) {
                Reply::status(304)
            } else {
                Reply::ok(archive.clone()).header("etag", ETAG)
            }
        }
        "/github/advisories" => Reply::ok("[]"),
        _ => Reply::status(404),
    })
}

fn config(dir: &Path, url: &str) -> PathBuf {
    let p = dir.join("depwatch.toml");
    std::fs::write(
        &p,
        format!(
            "[feeds.osv-pypi]\nbase-url = \"{url}/osv\"\n[feeds.osv-crates]\nbase-url = \"{url}/osv\"\n\
             [feeds.rustsec]\nbase-url = \"{url}/rustsec/main.zip\"\n[feeds.ghsa]\nbase-url = \"{url}/github\"\n\
             [feeds.crates-index]\nenabled = false\n"
        ),
    )
    .unwrap();
    p
}

#[test]
fn remote_sync_then_noop_sync_then_scan() {
    let srv = server();
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.sqlite3");
    let cfg = config(tmp.path(), &srv.url);
    let cfg = cfg.to_str().unwrap();

    let out = depwatch_store(&store, &["sync", "--config", cfg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("osv-pypi: 2661 written"), "{text}");
    assert!(text.contains("rustsec: 1205 written"), "{text}");
    assert!(text.contains("osv-crates: 6 written"), "{text}");
    assert!(text.contains("ghsa: unchanged"), "{text}");

    // Nothing changed upstream: one cheap request per source (the CSVs, a conditional GET of
    // the archive answered 304, one GitHub query per ecosystem), and no record written.
    let before = srv.requests().len();
    let out = depwatch_store(&store, &["sync", "--config", cfg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.matches(": unchanged").count(), 4, "{text}");
    let second: Vec<String> = srv.requests()[before..]
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    let mut sorted = second.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "/github/advisories",
            "/github/advisories",
            "/osv/PyPI/modified_id.csv",
            "/osv/crates.io/modified_id.csv",
            "/rustsec/main.zip"
        ],
        "{second:?}"
    );
    assert!(!second.iter().any(|p| p.ends_with("all.zip")));

    // The remote-synced store answers like cargo-audit on uv's lockfile; RUSTSEC records that
    // arrive from both the archive and the OSV export are one finding listing both sources.
    let lock = manifest("uv/Cargo.lock");
    let out = depwatch_store(
        &store,
        &["scan", lock.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r["warnings"].as_array().unwrap())
        .map(|f| {
            let kind = f["kind"].as_str().unwrap();
            format!(
                "{kind} {} {} {}",
                f["id"].as_str().unwrap(),
                f["package"]["name"].as_str().unwrap(),
                f["package"]["version"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    let expected: Vec<String> = include_str!("../expectations/cargo-audit-uv-Cargo.lock.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(String::from)
        .collect();
    assert_eq!(got, expected);
    let check = depwatch_store(&store, &["db", "check"]);
    assert_eq!(check.status.code(), Some(0));
}

#[test]
fn yanked_flags_are_refreshed_by_sync_and_reported_offline_by_scan() {
    // A loopback sparse index: h2 0.4.15 (locked in uv's Cargo.lock) is yanked; every other
    // crate is unknown (404).
    // Sparse-index path of a two-letter crate: `2/{name}`.
    let index = Server::start(|req| {
        match req.path() {
        "/2/h2" => Reply::ok(
            "{\"name\":\"h2\",\"vers\":\"0.4.14\",\"yanked\":false}\n{\"name\":\"h2\",\"vers\":\"0.4.15\",\"yanked\":true}\n",
        )
        .header("etag", "\"h2-1\""),
        _ => Reply::status(404),
    }
    });
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.sqlite3");
    let cfg = tmp.path().join("depwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "sources = [\"rustsec-dir:{}\"]\n[feeds.osv-pypi]\nenabled = false\n[feeds.osv-crates]\nenabled = false\n\
             [feeds.ghsa]\nenabled = false\n[feeds.rustsec]\nenabled = false\n[feeds.crates-index]\nbase-url = \"{}\"\n",
            rustsec_dir().display(),
            index.url
        ),
    )
    .unwrap();
    let lock = manifest("uv/Cargo.lock");
    let out = depwatch_store(
        &store,
        &[
            "sync",
            "--config",
            cfg.to_str().unwrap(),
            "--yanked-for",
            lock.to_str().unwrap(),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("crates-index: 1 fetched"), "{text}");
    assert!(index.requests().iter().any(|r| r.path() == "/2/h2"));

    let out = depwatch_store(
        &store,
        &["scan", lock.to_str().unwrap(), "--format", "json"],
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let yanked: Vec<_> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "yanked")
        .collect();
    assert_eq!(yanked.len(), 1, "{yanked:?}");
    assert_eq!(yanked[0]["package"]["name"], "h2");
    assert_eq!(yanked[0]["package"]["version"], "0.4.15");
    assert_eq!(yanked[0]["location"]["line"], 2028);
}

#[test]
fn failing_feeds_keep_their_previous_data_and_the_others_still_sync() {
    let broken = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let srv = server_with(broken.clone());
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.sqlite3");
    let cfg = config(tmp.path(), &srv.url);
    let cfg = cfg.to_str().unwrap();
    assert_eq!(
        depwatch_store(&store, &["sync", "--config", cfg])
            .status
            .code(),
        Some(0)
    );

    broken.store(true, std::sync::atomic::Ordering::SeqCst);
    // The PyPI export answers 500 and the RustSec archive resets mid-body (after retries):
    // both keep what they had; the other feeds still sync.
    let out = depwatch_store(&store, &["sync", "--config", cfg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("osv-pypi")
            && stderr.contains("500")
            && stderr.contains("previous data kept"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rustsec") && stderr.matches("previous data kept").count() == 2,
        "{stderr}"
    );
    assert!(stdout.contains("osv-crates: unchanged"), "{stdout}");

    let stats = depwatch_store(&store, &["db", "stats", "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    let pypi = s["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["source"] == "osv-pypi")
        .unwrap();
    assert_eq!(pypi["records"], 2661, "the failed feed kept its records");
    assert!(pypi["last_error"].as_str().unwrap().contains("500"));
    let rustsec = s["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["source"] == "rustsec")
        .unwrap();
    assert_eq!(rustsec["records"], 1205);
    assert_eq!(
        depwatch_store(&store, &["db", "check"]).status.code(),
        Some(0)
    );
    // A scan still answers, and says the feed's last sync failed.
    let m = manifest("home-assistant/requirements.txt");
    let out = depwatch_store(&store, &["scan", m.to_str().unwrap(), "--format", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["summary"]["findings"], 22);
    assert!(
        r["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("osv-pypi: last sync failed"))
    );
}
