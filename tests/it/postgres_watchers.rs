//! Issue 15: three `depwatch watch` processes on one PostgreSQL store, delivering to a
//! loopback Slack webhook and a real SMTP server. The one holding the cycle is SIGKILLed
//! while Slack holds its first alert: another watcher carries on once the dead one's outbox
//! lease runs out (3 s here), every alert arrives, and only the one that was in flight may
//! arrive twice.

// The one test cluster of this binary, shared with `postgres.rs`.
use crate::postgres::cluster;
use crate::support::config::{email_section, slack_section};
use crate::support::loopback::{Reply, Request, Server};
use crate::support::smtp::SmtpServer;
use crate::support::{manifest, shared};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

fn spawn_watcher(dir: &Path, config: &Path, url: &str, hook: &str, name: &str) -> Child {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["watch", "--offline", "--log-format", "json", "--config"])
        .arg(config)
        .arg("--out")
        .arg(dir.join(format!("out-{name}")))
        // Fires once a year: cycles come from the catch-up at start and the test interval.
        .args(["--schedule", "0 0 1 1 *", "--timezone", "UTC"])
        .args(["--test-interval-ms", "300", "--lock-wait", "0"])
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", url)
        .env_remove("PGPASSWORD")
        .env("DEPWATCH_TEST_SLACK_WEBHOOK", hook)
        // A killed sender's claims run out in seconds, not the default 15 minutes.
        .env("DEPWATCH_OUTBOX_LEASE_SECS", "3")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn depwatch watch")
}

fn log_of(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
}

/// One number from the store (test support: its own small runtime, on this thread).
fn count(url: &str, sql: &str) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0)
    })
}

#[test]
fn three_watchers_one_killed_mid_send_every_alert_arrives_at_most_the_one_in_flight_twice() {
    let server = cluster::server();
    let url = server.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(None);
    let config = dir.path().join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            "sources = [\"osv-dir:{pypa}\", \"osv-dir:{ghsa}\"]\n\n\
             [[project]]\nname = \"emby-watchparty\"\npath = \"{emby}\"\n\n\
             [[project]]\nname = \"home-assistant\"\npath = \"{ha}\"\n\n{slack}\n{email}",
            pypa = shared().join("corpus/advisories/pypa/vulns").display(),
            ghsa = shared().join("feeds-reference/ghsa-osv").display(),
            emby = manifest("emby-watchparty/requirements.txt").display(),
            ha = manifest("home-assistant/requirements.txt").display(),
            slack = slack_section(),
            email = email_section(smtp.port, &["security@example.com"]),
        ),
    )
    .unwrap();
    // Slack holds the first alert until the test has killed the watcher sending it.
    let (arrived_tx, arrived) = mpsc::channel::<()>();
    let (go, go_rx) = mpsc::channel::<()>();
    let (arrived_tx, go_rx) = (Mutex::new(arrived_tx), Mutex::new(go_rx));
    let held = AtomicBool::new(false);
    let slack = Server::start(move |req: &Request| {
        if req.method != "POST" || req.path() != "/hook" {
            return Reply::status(404);
        }
        if !held.swap(true, Ordering::SeqCst) {
            let _ = arrived_tx.lock().unwrap().send(());
            let _ = go_rx.lock().unwrap().recv_timeout(Duration::from_secs(120));
        }
        Reply::ok("ok")
    });
    let hook = format!("{}/hook", slack.url);
    let names = ["a", "b", "c"];
    let mut watchers: Vec<Child> = names
        .iter()
        .map(|n| spawn_watcher(dir.path(), &config, &url, &hook, n))
        .collect();
    let logs = || {
        names
            .iter()
            .map(|n| format!("--- {n}\n{}", log_of(dir.path(), n)))
            .collect::<String>()
    };
    arrived
        .recv_timeout(Duration::from_secs(240))
        .unwrap_or_else(|_| panic!("no alert reached Slack:\n{}", logs()));
    // The holder of the cycle is the one that started a cycle; the others skipped.
    let holders: Vec<usize> = (0..3)
        .filter(|&i| log_of(dir.path(), names[i]).contains("cycle started"))
        .collect();
    assert_eq!(holders.len(), 1, "one cycle at a time:\n{}", logs());
    let killed = holders[0];
    watchers[killed].kill().unwrap(); // SIGKILL
    watchers[killed].wait().unwrap();
    go.send(()).unwrap();

    // Another watcher carries on: every queued alert is delivered.
    let start = Instant::now();
    loop {
        let queued = count(&url, "SELECT COUNT(*) FROM outbox");
        let pending = count(
            &url,
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND gave_up_at IS NULL",
        );
        if queued > 0 && pending == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "{pending} of {queued} alerts still pending:\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let carried_on: Vec<&str> = (0..3)
        .filter(|&i| i != killed && log_of(dir.path(), names[i]).contains("cycle finished"))
        .map(|i| names[i])
        .collect();
    assert!(!carried_on.is_empty(), "{}", logs());
    for (i, w) in watchers.iter_mut().enumerate() {
        if i != killed {
            Command::new("kill")
                .args(["-TERM", &w.id().to_string()])
                .status()
                .unwrap();
            assert_eq!(w.wait().unwrap().code(), Some(0), "{}", logs());
        }
    }
    let slack_rows = count(&url, "SELECT COUNT(*) FROM outbox WHERE channel = 'slack'");
    let email_rows = count(&url, "SELECT COUNT(*) FROM outbox WHERE channel = 'email'");
    assert!(
        slack_rows >= 2 && email_rows >= 2,
        "both projects alert on both channels"
    );
    let bodies: Vec<Vec<u8>> = slack.requests().into_iter().map(|r| r.body).collect();
    let distinct: std::collections::BTreeSet<&Vec<u8>> = bodies.iter().collect();
    assert_eq!(
        distinct.len() as i64,
        slack_rows,
        "every Slack alert arrives"
    );
    assert!(
        bodies.len() as i64 <= slack_rows + 1,
        "at most the one in flight twice: {} requests for {slack_rows} alerts",
        bodies.len()
    );
    let mails = smtp.messages();
    assert_eq!(
        mails.len() as i64,
        email_rows,
        "every email arrives once (none was in flight)"
    );
}
