//! Issue 6: `depwatch watch` as a process: cycles on a schedule against a loopback Slack
//! receiver, one cycle at a time across two watchers on one store, publish once, exit 0 on
//! SIGTERM within a bounded time; `depwatch status`.

use crate::support::config::slack_section;
use crate::support::loopback::{Reply, Request, Server};
use crate::support::shared;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HOOK_PATH: &str = "/services/T0000/B0000/WaTcHhOoK";

fn setup(dir: &Path) -> PathBuf {
    let s = shared();
    let config = dir.join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"
sources = ["osv-dir:{pypa}", "osv-dir:{ghsa}"]

[[project]]
name = "emby-watchparty"
path = "{emby}"
security-policy = "{pol}/emby-watchparty.SECURITY.md"

{slack}"#,
            pypa = s.join("corpus/advisories/pypa/vulns").display(),
            slack = slack_section(),
            ghsa = s.join("feeds-reference/ghsa-osv").display(),
            emby = s
                .join("corpus/manifests/emby-watchparty/requirements.txt")
                .display(),
            pol = s.join("policies").display(),
        ),
    )
    .unwrap();
    config
}

fn spawn_watcher(dir: &Path, config: &Path, hook: &str, name: &str, extra: &[&str]) -> Child {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["watch", "--offline", "--log-format", "json", "--config"])
        .arg(config)
        .arg("--out")
        .arg(dir.join("out"))
        // Fires only once a year: cycles come from the catch-up at start and the test interval.
        .args(["--schedule", "0 0 1 1 *", "--timezone", "Europe/Berlin"])
        .args(extra)
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", dir.join("store.sqlite3"))
        .env("DEPWATCH_TEST_SLACK_WEBHOOK", hook)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn depwatch watch")
}

fn log_of(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
}

fn count(log: &str, msg: &str) -> usize {
    log.lines().filter(|l| l.contains(msg)).count()
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

/// (started_at, finished_at) of every finished run in the store.
fn runs(store: &Path) -> Vec<(jiff::Timestamp, jiff::Timestamp)> {
    let c = rusqlite::Connection::open(store).unwrap();
    let mut st = c
        .prepare("SELECT started_at, finished_at FROM runs WHERE finished_at IS NOT NULL")
        .unwrap();
    let mut v: Vec<(jiff::Timestamp, jiff::Timestamp)> = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(|r| {
            let (a, b) = r.unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn watch_runs_cycles_one_at_a_time_publishes_once_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path());
    let accepted = Arc::new(Mutex::new(0usize));
    let acc = accepted.clone();
    let slack = Server::start(move |req: &Request| {
        if req.method != "POST" || req.path() != HOOK_PATH {
            return Reply::status(404);
        }
        *acc.lock().unwrap() += 1;
        Reply::ok("ok")
    });
    let hook = format!("{}{HOOK_PATH}", slack.url);
    let fast = ["--test-interval-ms", "300", "--lock-wait", "0"];
    let mut a = spawn_watcher(dir.path(), &config, &hook, "a", &fast);
    let mut b = spawn_watcher(dir.path(), &config, &hook, "b", &fast);

    // Wait for at least two finished cycles (bounded).
    let start = Instant::now();
    loop {
        let done = count(&log_of(dir.path(), "a"), "cycle finished")
            + count(&log_of(dir.path(), "b"), "cycle finished");
        if done >= 3 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "no cycles after 180 s:\n{}\n{}",
            log_of(dir.path(), "a"),
            log_of(dir.path(), "b")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let t = Instant::now();
    assert_eq!(terminate(&mut a), Some(0), "{}", log_of(dir.path(), "a"));
    assert_eq!(terminate(&mut b), Some(0), "{}", log_of(dir.path(), "b"));
    assert!(t.elapsed() < Duration::from_secs(60));

    let (la, lb) = (log_of(dir.path(), "a"), log_of(dir.path(), "b"));
    // JSON logs, one object per line.
    for l in la.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["fields"]["message"].is_string(), "{l}");
    }
    assert!(la.contains("missed fire time") || lb.contains("missed fire time"));
    assert!(
        la.contains("SIGTERM") && lb.contains("SIGTERM"),
        "{la}\n{lb}"
    );

    // Never two cycles at once: the recorded runs do not overlap.
    let rs = runs(&dir.path().join("store.sqlite3"));
    assert!(rs.len() >= 2, "{rs:?}");
    for w in rs.windows(2) {
        assert!(w[0].1 <= w[1].0, "overlapping cycles: {w:?}");
    }
    // The one affected project was published once, however many cycles ran.
    assert_eq!(*accepted.lock().unwrap(), 1, "{la}\n{lb}");

    // status: the last cycle, the next fire time, the source, the open finding.
    let o = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args([
            "status",
            "--schedule",
            "0 9 * * 1",
            "--timezone",
            "Europe/Berlin",
            "--config",
        ])
        .arg(&config)
        .env("DEPWATCH_STORE", dir.path().join("store.sqlite3"))
        .env("DEPWATCH_NOW", "2026-12-05T12:00:00Z")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("last cycle: started"), "{out}");
    assert!(out.contains(", ok"), "{out}");
    assert!(out.contains("next cycle: 2026-12-07 08:00:00 UTC"), "{out}");
    assert!(out.contains("source osv-dir:"), "{out}");
    assert!(
        out.contains("emby-watchparty GHSA-9wx4-h78v-vm56 requests 2.31.0"),
        "{out}"
    );
}

#[test]
fn watcher_skips_fire_times_while_the_cycle_lock_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path());
    let store = dir.path().join("store.sqlite3");
    let _held = depwatch::watch::CycleLock::try_acquire(&store)
        .unwrap()
        .unwrap();
    // Another process's cycle (here: this test holding the lock): the watcher's fire times
    // are skipped with the holder named, never run alongside it.
    let mut w = spawn_watcher(
        dir.path(),
        &config,
        "http://127.0.0.1:9/none",
        "w",
        &["--test-interval-ms", "200", "--lock-wait", "0"],
    );
    let start = Instant::now();
    while count(&log_of(dir.path(), "w"), "another cycle is running") < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{}",
            log_of(dir.path(), "w")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(terminate(&mut w), Some(0));
    let log = log_of(dir.path(), "w");
    assert_eq!(count(&log, "cycle started"), 0, "{log}");
    assert!(
        log.contains(&format!("pid {}", std::process::id())),
        "{log}"
    );
}
