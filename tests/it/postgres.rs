//! The PostgreSQL store through the real binary, on a throwaway server started by the tests
//! (`tests/support/pg_cluster.rs`; `DEPWATCH_TEST_POSTGRES_URL` to use an existing one):
//! selection by URL, `db copy` from SQLite, scans equal to SQLite's, `db check`, the password
//! never shown, and the cycle lock across processes.

#[path = "../support/pg_cluster.rs"]
pub(crate) mod cluster;

use crate::support::{manifest, pypa_dir, rustsec_dir, shared};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Run `depwatch` with `store` as DEPWATCH_STORE (a path or a URL).
pub(crate) fn depwatch_at(store: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", store)
        .env_remove("PGPASSWORD")
        .output()
        .expect("run depwatch")
}

pub(crate) fn ok(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn sync_corpus(store: &str) {
    let out = depwatch_at(
        store,
        &[
            "sync",
            "--source",
            &format!("rustsec-dir:{}", rustsec_dir().display()),
            "--source",
            &format!("osv-dir:{}", pypa_dir().display()),
        ],
    );
    ok(&out, "sync");
}

/// The scan's JSON report of two corpus projects (Rust and Python) from `store`.
pub(crate) fn scan_report(store: &str) -> Value {
    let cargo = manifest("uv/Cargo.lock");
    let py = manifest("emby-watchparty/requirements.txt");
    let out = depwatch_at(
        store,
        &[
            "scan",
            "--format",
            "json",
            &cargo.display().to_string(),
            &py.display().to_string(),
        ],
    );
    // 0 or 1: findings are expected; 2 would be an error.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "scan: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The whole report: it holds no time or store location, so both stores must give it
    // byte for byte.
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

pub(crate) fn sqlite_store(dir: &Path) -> String {
    dir.join("store.sqlite3").display().to_string()
}

/// A URL with the password in PGPASSWORD's place: the test server's URL minus it.
fn without_password(url: &str) -> String {
    url.replacen(&format!(":{}@", cluster::PASSWORD), "@", 1)
}

#[test]
fn copy_from_sqlite_then_scan_gives_the_same_report_and_db_check_passes_on_both() {
    let server = cluster::server();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_store(dir.path());
    sync_corpus(&sqlite);
    let url = server.fresh_database();
    let copied = ok(
        &depwatch_at(
            &sqlite,
            &[
                "db",
                "copy",
                "--from",
                &format!("sqlite:{sqlite}"),
                "--to",
                &url,
            ],
        ),
        "db copy",
    );
    assert!(copied.contains(" sources, "), "{copied}");
    assert!(
        !copied.contains(cluster::PASSWORD),
        "the password is shown: {copied}"
    );
    let from_sqlite = scan_report(&sqlite);
    let from_pg = scan_report(&url);
    assert!(
        from_sqlite["findings"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "the corpus projects have findings: {from_sqlite}"
    );
    assert_eq!(from_sqlite, from_pg, "the same report from both stores");
    for store in [&sqlite, &url] {
        let out = ok(&depwatch_at(store, &["db", "check"]), "db check");
        assert!(out.trim_end().ends_with(": ok"), "{out}");
    }
    // The counts agree too.
    let stats = |s: &str| -> Value {
        serde_json::from_str(&ok(&depwatch_at(s, &["db", "stats", "--json"]), "stats")).unwrap()
    };
    let (a, b) = (stats(&sqlite), stats(&url));
    assert_eq!(a["records"], b["records"]);
    assert_eq!(a["by_ecosystem"], b["by_ecosystem"]);
    assert!(!b["path"].as_str().unwrap().contains(cluster::PASSWORD));
    // `status` reads the copied store too.
    let config = dir.path().join("depwatch.toml");
    std::fs::write(&config, "").unwrap();
    let config = config.display().to_string();
    let a = ok(
        &depwatch_at(&sqlite, &["status", "--config", &config]),
        "status",
    );
    let b = ok(
        &depwatch_at(&url, &["status", "--config", &config]),
        "status",
    );
    assert_eq!(a.replace(&sqlite, "STORE"), b.replace(&url, "STORE"));

    // A second copy into the same database is refused; --replace overwrites it.
    let again = depwatch_at(&sqlite, &["db", "copy", "--from", &sqlite, "--to", &url]);
    assert_eq!(again.status.code(), Some(2));
    let e = String::from_utf8_lossy(&again.stderr);
    assert!(e.contains("not empty") && e.contains("--replace"), "{e}");
    assert!(!e.contains(cluster::PASSWORD), "{e}");
    ok(
        &depwatch_at(
            &sqlite,
            &["db", "copy", "--from", &sqlite, "--to", &url, "--replace"],
        ),
        "db copy --replace",
    );
    assert_eq!(scan_report(&url), from_sqlite);
}

#[test]
fn sync_straight_into_postgres_matches_sqlite_and_a_resync_changes_nothing() {
    let server = cluster::server();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_store(dir.path());
    let url = server.fresh_database();
    sync_corpus(&sqlite);
    sync_corpus(&url);
    assert_eq!(scan_report(&sqlite), scan_report(&url));
    // A second sync of unchanged sources writes nothing.
    let out = depwatch_at(
        &url,
        &[
            "sync",
            "--source",
            &format!("osv-dir:{}", pypa_dir().display()),
        ],
    );
    let text = ok(&out, "resync");
    assert!(
        text.contains("unchanged") || text.contains(" 0 written"),
        "{text}"
    );
}

#[test]
fn the_password_comes_from_pgpassword_and_a_wrong_one_is_never_shown() {
    let server = cluster::server();
    let url = server.fresh_database();
    let bare = without_password(&url);
    assert_ne!(bare, url);
    // Right password from PGPASSWORD.
    let out = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["db", "stats"])
        .env("DEPWATCH_STORE", &bare)
        .env("PGPASSWORD", cluster::PASSWORD)
        .output()
        .unwrap();
    // An empty database is not a store yet: a clear error, after a successful login.
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("holds no depwatch store"), "{e}");
    // A wrong password in the URL: the server's refusal, without the password.
    let wrong = "Wr0ng-pass-7461";
    let url_wrong = bare.replacen("://depwatch@", &format!("://depwatch:{wrong}@"), 1);
    for args in [
        vec!["db", "stats"],
        vec!["db", "check"],
        vec!["scan", "--format", "json", "."],
    ] {
        let out = depwatch_at(&url_wrong, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(
            e.contains("password authentication failed"),
            "{args:?}: {e}"
        );
        assert!(!e.contains(wrong), "{args:?} shows the password: {e}");
        assert!(
            e.contains("postgres://depwatch@127.0.0.1:"),
            "names the store: {e}"
        );
    }
    // The same through --store, and through PGPASSWORD.
    let out = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["db", "stats", "--store", &bare])
        .env("PGPASSWORD", wrong)
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("password authentication failed"), "{e}");
    assert!(!e.contains(wrong), "{e}");
}

#[test]
fn a_cycle_holds_the_advisory_lock_and_a_second_run_gives_up_naming_the_holder() {
    let server = cluster::server();
    let url = server.fresh_database();
    // Hold the lock from another session, as a running cycle on another host would.
    let holder = std::thread::spawn({
        let url = url.clone();
        move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client
                    .execute("SELECT pg_advisory_lock($1)", &[&0x6465_7063_i64])
                    .await
                    .unwrap();
                tokio::time::sleep(std::time::Duration::from_secs(4)).await;
            });
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(800));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("depwatch.toml");
    std::fs::write(&config, "").unwrap();
    let out = depwatch_at(
        &url,
        &[
            "run",
            "--config",
            &config.display().to_string(),
            "--lock-wait",
            "1",
            "--no-deliver",
        ],
    );
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("another cycle is running"), "{e}");
    assert!(e.contains("PostgreSQL session"), "names the holder: {e}");
    holder.join().unwrap();
    // Released with its session: the next run takes the lock (and stops: nothing to sync).
    let out = depwatch_at(
        &url,
        &[
            "run",
            "--config",
            &config.display().to_string(),
            "--lock-wait",
            "5",
            "--no-deliver",
        ],
    );
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!e.contains("another cycle is running"), "{e}");
    assert!(e.contains("never synced"), "{e}");
}

/// KEV and EPSS on PostgreSQL: the real catalog and the 313k-row EPSS file synced straight
/// into it (COPY, in one transaction, timed) and copied from SQLite give the scan SQLite
/// gives, marks and order included.
#[test]
fn kev_and_epss_on_postgres_give_sqlites_scan_synced_or_copied() {
    let server = cluster::server();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_store(dir.path());
    let url = server.fresh_database();
    let kev = format!(
        "kev:{}",
        shared()
            .join("feeds-reference/kev/known_exploited_vulnerabilities.json")
            .display()
    );
    let epss = format!(
        "epss:{}",
        shared()
            .join("feeds-reference/epss/epss_scores-2026-01-30.csv.gz")
            .display()
    );
    let pypa = format!("osv-dir:{}", pypa_dir().display());
    let sync = |store: &str| {
        let start = std::time::Instant::now();
        ok(
            &depwatch_at(
                store,
                &[
                    "sync", "--source", &pypa, "--source", &kev, "--source", &epss,
                ],
            ),
            "sync",
        );
        start.elapsed()
    };
    sync(&sqlite);
    let took = sync(&url);
    // The PyPA records and 313k EPSS rows; row-by-row inserts took minutes here.
    assert!(took.as_secs() < 60, "sync into PostgreSQL took {took:?}");
    let req = dir.path().join("requirements.txt");
    std::fs::write(&req, "apache-airflow==1.10.10\n").unwrap();
    let req = req.display().to_string();
    let report = |store: &str| -> Value {
        let out = depwatch_at(store, &["scan", "--format", "json", &req]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let from_sqlite = report(&sqlite);
    let first = &from_sqlite["findings"][0];
    assert_eq!(first["kev"]["cve"], "CVE-2020-11978", "{first}");
    assert_eq!(first["epss"]["score"].as_f64(), Some(0.94272));
    assert_eq!(report(&url), from_sqlite, "synced into PostgreSQL");
    let copied = server.fresh_database();
    let out = ok(
        &depwatch_at(
            &sqlite,
            &[
                "db",
                "copy",
                "--from",
                &format!("sqlite:{sqlite}"),
                "--to",
                &copied,
            ],
        ),
        "db copy",
    );
    assert!(out.contains(" KEV/EPSS rows"), "{out}");
    assert_eq!(report(&copied), from_sqlite, "copied from SQLite");
    for store in [&url, &copied] {
        let out = ok(&depwatch_at(store, &["db", "check"]), "db check");
        assert!(out.trim_end().ends_with(": ok"), "{out}");
    }
}

/// Two cycles of the same project at once on one PostgreSQL store (two CI jobs, through the
/// library, so no cycle lock orders them): the project lock makes one diff against the
/// other's memory, so the store ends with one memory and the alerts of one run, not two.
#[test]
fn two_concurrent_runs_of_one_project_leave_one_memory_and_no_duplicate_alerts() {
    use depwatch::store::{MonitorState, open};
    let server = cluster::server();
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("depwatch.toml");
    // Delivery is off: the alerts stay queued, where they are counted.
    let text = format!(
        "sources = [\"osv-dir:{ghsa}\"]\n\n[[project]]\nname = \"emby\"\npath = \"{emby}\"\n\n\
         [notify.slack]\nwebhook-env = \"DEPWATCH_TEST_PG_UNSET\"\n",
        ghsa = shared().join("feeds-reference/ghsa-osv").display(),
        emby = manifest("emby-watchparty/requirements.txt").display(),
    );
    std::fs::write(&config_path, text).unwrap();
    let mut config = depwatch::config::Config::load(&config_path).unwrap();
    config.notify.slack.as_mut().unwrap().webhook = depwatch::config::SecretSource::Inline(
        depwatch::secret::Secret::new("http://127.0.0.1:9/hook".to_string()),
    );
    let ghsa = format!(
        "osv-dir:{}",
        shared().join("feeds-reference/ghsa-osv").display()
    );
    let options = |url: &str, out: &str| depwatch::run::RunOptions {
        config: config.clone(),
        store: depwatch::store::Location::parse(url.as_ref()).unwrap(),
        out_dir: dir.path().join(out),
        sync_local: false,
        sync_remote: false,
        deliver: false,
        now: "2026-12-01T09:00:00Z".parse().unwrap(),
        http: Default::default(),
    };
    let state = |url: String| {
        tokio::task::spawn_blocking(move || {
            let s = open(&depwatch::store::Location::parse(url.as_ref()).unwrap()).unwrap();
            let seen: Vec<String> = s
                .seen("emby")
                .unwrap()
                .into_iter()
                .map(|r| r.fingerprint)
                .collect();
            let queued: Vec<String> = s
                .messages()
                .unwrap()
                .into_iter()
                .map(|(m, _)| format!("{} {} {}", m.project, m.channel, m.event))
                .collect();
            (seen, queued)
        })
    };
    // The databases, synced, before the runtime (the test server builds its own).
    let urls: Vec<String> = (0..4)
        .map(|_| {
            let url = server.fresh_database();
            ok(&depwatch_at(&url, &["sync", "--source", &ghsa]), "sync");
            url
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // One run alone: what the memory and the queue should hold.
        let alone = urls[0].clone();
        depwatch::run::cycle(options(&alone, "a")).await.unwrap();
        let (seen_alone, queued_alone) = state(alone).await.unwrap();
        assert!(
            !seen_alone.is_empty() && !queued_alone.is_empty(),
            "emby has findings and alerts: {queued_alone:?}"
        );
        for url in urls[1..].iter().cloned() {
            // Line both runs up on the memory: the test's session locks the table both read
            // until both are waiting, so they start reading it together (without the project
            // lock both would then diff against the empty memory and alert twice).
            let (mut gate, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            let tx = gate.transaction().await.unwrap();
            tx.batch_execute("LOCK TABLE findings_seen IN ACCESS EXCLUSIVE MODE")
                .await
                .unwrap();
            let a = tokio::spawn(depwatch::run::cycle(options(&url, "b")));
            let b = tokio::spawn(depwatch::run::cycle(options(&url, "c")));
            let (watch, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            let mut waiting = 0;
            for _ in 0..600 {
                waiting = watch
                    .query_one(
                        "SELECT COUNT(*) FROM pg_stat_activity
                         WHERE datname = current_database() AND wait_event_type IN ('Lock')
                           AND application_name = 'depwatch'",
                        &[],
                    )
                    .await
                    .unwrap()
                    .get::<_, i64>(0);
                if waiting == 2 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            assert_eq!(waiting, 2, "both runs wait on the memory");
            tx.commit().await.unwrap();
            let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
            let (seen, queued) = state(url).await.unwrap();
            assert_eq!(seen, seen_alone, "one memory");
            assert_eq!(
                queued, queued_alone,
                "the alerts of one run, not two (queued {} and {})",
                a.projects[0].queued, b.projects[0].queued
            );
            assert_eq!(
                a.projects[0].queued + b.projects[0].queued,
                queued_alone.len()
            );
        }
    });
}

/// PostgreSQL restarts during a cycle (on a cluster of this test's own): the cycle fails
/// cleanly, exit code 2 with an error naming the store (no password), and the next cycle
/// succeeds without sending the alert again.
#[test]
fn a_postgres_restart_during_a_cycle_fails_it_cleanly_and_the_next_one_succeeds() {
    use crate::support::loopback::{Reply, Request, Server};
    use std::sync::mpsc;
    let server = cluster::dedicated();
    let url = server.fresh_database();
    let ghsa = format!(
        "osv-dir:{}",
        shared().join("feeds-reference/ghsa-osv").display()
    );
    ok(&depwatch_at(&url, &["sync", "--source", &ghsa]), "sync");
    // The Slack peer holds the first alert until the test has restarted the server.
    let (arrived_tx, arrived) = mpsc::channel::<()>();
    let (go, go_rx) = mpsc::channel::<()>();
    let (arrived_tx, go_rx) = (
        std::sync::Mutex::new(arrived_tx),
        std::sync::Mutex::new(go_rx),
    );
    let held = std::sync::atomic::AtomicBool::new(false);
    let slack = Server::start(move |_req: &Request| {
        if !held.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let _ = arrived_tx.lock().unwrap().send(());
            let _ = go_rx
                .lock()
                .unwrap()
                .recv_timeout(std::time::Duration::from_secs(60));
        }
        Reply::ok("ok")
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[[project]]\nname = \"emby\"\npath = \"{}\"\n\n[notify.slack]\nwebhook-env = \"DEPWATCH_TEST_PG_HOOK\"\n",
            manifest("emby-watchparty/requirements.txt").display()
        ),
    )
    .unwrap();
    let run = |now: &str| {
        Command::new(env!("CARGO_BIN_EXE_depwatch"))
            .args(["run", "--offline", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(dir.path().join("out"))
            .env("NO_COLOR", "1")
            .env("DEPWATCH_STORE", &url)
            .env("DEPWATCH_NOW", now)
            .env("DEPWATCH_TEST_PG_HOOK", format!("{}/hook", slack.url))
            .env_remove("PGPASSWORD")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = run("2026-12-01T09:00:00Z");
    arrived
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the cycle reached delivery");
    server.restart();
    go.send(()).unwrap();
    let out = first.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("postgres://depwatch@127.0.0.1:"),
        "names the store: {err}"
    );
    assert!(!err.contains(cluster::PASSWORD), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The next cycle: the server is back and the memory kept the finding. The alert that was
    // in flight was never marked sent: it goes again once its claim's lease runs out (the
    // documented window), and nothing else is sent.
    let out = run("2026-12-01T10:00:00Z").wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let bodies: Vec<Vec<u8>> = slack.requests().into_iter().map(|r| r.body).collect();
    assert!(
        (1..=2).contains(&bodies.len()) && bodies.iter().all(|b| *b == bodies[0]),
        "the one alert, at most twice: {} requests",
        bodies.len()
    );
}
