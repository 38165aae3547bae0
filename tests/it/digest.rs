//! Issue 14 sections 2 and 4: quiet scopes and the digest, through the real binary, delivered
//! to a loopback Slack receiver and a real SMTP server (aiosmtpd), with the outbox's fault
//! guarantees: a peer that fails then recovers, and a kill between send and mark.
//!
//! The project (written by the test): requests 2.31.0 (medium, urgent), aiohttp 3.8.6 (low:
//! digest) and, in the quiet `dev` group, Werkzeug 3.0.1 (high: digest). Advisories from
//! `../shared/feeds-reference/ghsa-osv`. The digest runs on Mondays 09:00 UTC; 2026-12-01 is a
//! Tuesday, 2026-12-07 the next Monday.

use crate::channels::SmtpServer;
use crate::loopback::{Reply, Request, Server};
use crate::util::shared;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const HOOK_PATH: &str = "/services/T0000/B0000/DiGeStHoOk";
const ADVISORIES: [&str; 3] = [
    "GHSA-9wx4-h78v-vm56", // requests, moderate
    "GHSA-q3qx-c6g2-7pw2", // aiohttp, low
    "GHSA-2g68-c3qc-8985", // Werkzeug, high
];

struct Env {
    _dir: tempfile::TempDir,
    config: PathBuf,
    store: PathBuf,
    out: PathBuf,
    hook: String,
}

/// `digest`: the `[notify]` table's digest line (or nothing).
fn setup(slack: &Server, smtp_port: u16, digest: bool) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("osv")).unwrap();
    for id in ADVISORIES {
        std::fs::copy(
            shared().join(format!("feeds-reference/ghsa-osv/PyPI/{id}.json")),
            d.join(format!("osv/{id}.json")),
        )
        .unwrap();
    }
    std::fs::create_dir_all(d.join("demo")).unwrap();
    std::fs::write(
        d.join("demo/pyproject.toml"),
        r#"[project]
name = "demo"
version = "1.0.0"
dependencies = ["requests==2.31.0", "aiohttp==3.8.6"]

[dependency-groups]
dev = ["Werkzeug==3.0.1"]
"#,
    )
    .unwrap();
    let (digest_line, quiet_line) = if digest {
        ("digest = \"0 9 * * 1\"", "quiet-scopes = [\"dev\"]")
    } else {
        ("", "")
    };
    let config = d.join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"
sources = ["osv-dir:{osv}"]

[[project]]
name = "demo"
path = "{pyproject}"
{quiet_line}

[notify]
{digest_line}

[notify.slack]
webhook-env = "DEPWATCH_TEST_SLACK_WEBHOOK"

[notify.email]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "depwatch <depwatch@example.com>"
to = ["security@example.com"]
"#,
            osv = d.join("osv").display(),
            pyproject = d.join("demo/pyproject.toml").display(),
        ),
    )
    .unwrap();
    Env {
        store: d.join("store.sqlite3"),
        out: d.join("out"),
        hook: format!("{}{HOOK_PATH}", slack.url),
        config,
        _dir: dir,
    }
}

fn command(env: &Env, now: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_depwatch"));
    c.args(["run", "--offline", "--config"])
        .arg(&env.config)
        .arg("--out")
        .arg(&env.out)
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", &env.store)
        .env("DEPWATCH_NOW", now)
        .env("DEPWATCH_TEST_SLACK_WEBHOOK", &env.hook);
    c
}

fn run(env: &Env, now: &str) -> Output {
    command(env, now).output().expect("run depwatch")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A Slack receiver: while `down`, 503; else it checks the Block Kit shape and keeps the body.
/// With `kill_on_digest`, it kills the process whose pid is set when the first digest arrives,
/// after accepting it (delivered, never marked sent).
struct Slack {
    server: Server,
    accepted: Arc<Mutex<Vec<Value>>>,
    down: Arc<AtomicBool>,
    pid: Arc<Mutex<Option<u32>>>,
}

fn slack(kill_on_digest: bool) -> Slack {
    let accepted = Arc::new(Mutex::new(Vec::<Value>::new()));
    let down = Arc::new(AtomicBool::new(false));
    let pid: Arc<Mutex<Option<u32>>> = Arc::new(Mutex::new(None));
    let (acc, dn, pd) = (accepted.clone(), down.clone(), pid.clone());
    let server = Server::start(move |req: &Request| {
        if req.method != "POST" || req.path() != HOOK_PATH {
            return Reply::status(404);
        }
        if dn.load(Ordering::SeqCst) {
            return Reply::status(503);
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return Reply::status(400);
        };
        let blocks_ok = body["blocks"].as_array().is_some_and(|b| {
            !b.is_empty() && b.len() <= 50 && b.iter().all(|x| x["type"].is_string())
        });
        if !blocks_ok || body["text"].as_str().is_none_or(str::is_empty) {
            return Reply::status(400);
        }
        let is_digest = header(&body).contains(": digest,");
        let first_digest = {
            let mut a = acc.lock().unwrap();
            a.push(body);
            is_digest && a.iter().filter(|b| header(b).contains(": digest,")).count() == 1
        };
        if let (true, true, Some(p)) = (kill_on_digest, first_digest, *pd.lock().unwrap()) {
            let _ = Command::new("kill")
                .args(["-KILL", &p.to_string()])
                .status();
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Reply::ok("ok")
    });
    Slack {
        server,
        accepted,
        down,
        pid,
    }
}

fn header(body: &Value) -> String {
    body["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn digests(bodies: &[Value]) -> Vec<Value> {
    bodies
        .iter()
        .filter(|b| header(b).contains(": digest,"))
        .cloned()
        .collect()
}

fn digest_mails(smtp: &SmtpServer) -> Vec<Value> {
    smtp.messages()
        .into_iter()
        .filter(|m| m["subject"].as_str().unwrap_or("").contains("digest"))
        .collect()
}

/// The first run: requests goes out at once; aiohttp (low) and Werkzeug (quiet dev) are held.
fn first_run(env: &Env, slack: &Slack, smtp: &SmtpServer) {
    let o = run(env, "2026-12-01T10:00:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    assert!(
        out.contains("project demo: 3 open (highest high), 3 new, 2 message(s) queued, 2 event(s) held for the digest"),
        "{out}"
    );
    let bodies = slack.accepted.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(header(&bodies[0]), "demo: 1 event");
    let all = bodies[0].to_string();
    assert!(all.contains("GHSA-9wx4-h78v-vm56"), "{all}");
    assert!(
        !all.contains("GHSA-2g68-c3qc-8985") && !all.contains("GHSA-q3qx-c6g2-7pw2"),
        "held events are not in the immediate alert: {all}"
    );
    assert_eq!(smtp.messages().len(), 1);
}

#[test]
fn a_digest_goes_to_slack_and_email_once_with_everything_held_since() {
    let smtp = SmtpServer::start(None);
    let slack = slack(false);
    let env = setup(&slack.server, smtp.port, true);
    first_run(&env, &slack, &smtp);

    // Quiet is never hidden: the quiet finding is in the report with its scope.
    let o = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["scan", "--format", "json", "--config"])
        .arg(&env.config)
        .arg(env.config.parent().unwrap().join("demo/pyproject.toml"))
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", &env.store)
        .output()
        .unwrap();
    let report: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    let werkzeug = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "GHSA-2g68-c3qc-8985")
        .cloned()
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(werkzeug["scope"], "dev");
    // `status` says what waits, and when the digest is due.
    let o = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["status", "--config"])
        .arg(&env.config)
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", &env.store)
        .env("DEPWATCH_NOW", "2026-12-02T10:00:00Z")
        .output()
        .unwrap();
    let st = stdout(&o);
    assert!(
        st.contains("digest: demo: 2 event(s) held since 2026-12-01 10:00 UTC"),
        "{}",
        text(&o)
    );
    assert!(st.contains("next digest: 2026-12-07 09:00"), "{st}");

    // Before Monday 09:00: nothing more.
    let o = run(&env, "2026-12-07T08:59:00Z");
    assert!(
        stdout(&o).contains("delivery: 0 sent, 0 failed"),
        "{}",
        text(&o)
    );
    // The first run at or after it: one digest per channel, both held events in each.
    let o = run(&env, "2026-12-07T09:05:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    assert!(out.contains("digest queued (2 message(s))"), "{out}");
    assert!(out.contains("delivery: 2 sent, 0 failed"), "{out}");
    let d = digests(&slack.accepted.lock().unwrap());
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(header(&d[0]), "demo: digest, 2 events");
    let body = d[0].to_string();
    assert!(
        body.contains("GHSA-2g68-c3qc-8985") && body.contains("GHSA-q3qx-c6g2-7pw2"),
        "{body}"
    );
    assert!(
        body.contains("scope dev is quiet for this project") && body.contains("low severity"),
        "{body}"
    );
    assert!(
        body.contains("since 2026-12-01 10:00 UTC, when the first of them was found"),
        "{body}"
    );
    let mails = digest_mails(&smtp);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["subject"], "[depwatch] demo digest: 2 new");
    let m = mails[0].to_string();
    assert!(
        m.contains("Held for the digest: low severity; found 2026-12-01 10:00 UTC"),
        "{m}"
    );

    // The same week: nothing again. Next Monday: nothing held, so no digest.
    for now in ["2026-12-07T12:00:00Z", "2026-12-14T09:05:00Z"] {
        let o = run(&env, now);
        assert!(
            stdout(&o).contains("delivery: 0 sent, 0 failed"),
            "{}",
            text(&o)
        );
    }
    assert_eq!(slack.accepted.lock().unwrap().len(), 2);
    assert_eq!(smtp.messages().len(), 2);
}

#[test]
fn without_a_digest_every_event_is_sent_at_once() {
    let smtp = SmtpServer::start(None);
    let slack = slack(false);
    let env = setup(&slack.server, smtp.port, false);
    let o = run(&env, "2026-12-01T10:00:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!stdout(&o).contains("held"), "{}", text(&o));
    let bodies = slack.accepted.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    assert_eq!(header(&bodies[0]), "demo: 3 events");
    let o = run(&env, "2026-12-07T09:05:00Z");
    assert!(stdout(&o).contains("delivery: 0 sent"), "{}", text(&o));
}

#[test]
fn a_digest_the_peer_refuses_is_retried_and_arrives_once() {
    let smtp = SmtpServer::start(None);
    let slack = slack(false);
    let env = setup(&slack.server, smtp.port, true);
    first_run(&env, &slack, &smtp);

    slack.down.store(true, Ordering::SeqCst);
    let o = run(&env, "2026-12-07T09:05:00Z");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        stdout(&o).contains("delivery: 1 sent, 1 failed (retried next run)"),
        "{}",
        text(&o)
    );
    assert_eq!(digest_mails(&smtp).len(), 1, "email went out");
    assert!(digests(&slack.accepted.lock().unwrap()).is_empty());

    // Back up, after the backoff: the digest arrives, once; nothing is composed again.
    slack.down.store(false, Ordering::SeqCst);
    let o = run(&env, "2026-12-07T09:10:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        stdout(&o).contains("delivery: 1 sent, 0 failed"),
        "{}",
        text(&o)
    );
    let d = digests(&slack.accepted.lock().unwrap());
    assert_eq!(d.len(), 1);
    assert_eq!(header(&d[0]), "demo: digest, 2 events", "nothing lost");
    let o = run(&env, "2026-12-14T09:05:00Z");
    assert!(stdout(&o).contains("delivery: 0 sent"), "{}", text(&o));
    assert_eq!(digests(&slack.accepted.lock().unwrap()).len(), 1);
    assert_eq!(digest_mails(&smtp).len(), 1);
}

#[cfg(unix)]
#[test]
fn a_kill_mid_digest_duplicates_only_the_digest_in_flight() {
    let smtp = SmtpServer::start(None);
    let slack = slack(true);
    let env = setup(&slack.server, smtp.port, true);
    first_run(&env, &slack, &smtp);

    let mut child = command(&env, "2026-12-07T09:05:00Z")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    *slack.pid.lock().unwrap() = Some(child.id());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "depwatch should have been killed");
    assert_eq!(digests(&slack.accepted.lock().unwrap()).len(), 1);
    assert!(digest_mails(&smtp).is_empty(), "killed before the email");

    let o = run(&env, "2026-12-07T09:06:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        stdout(&o).contains("delivery: 2 sent, 0 failed"),
        "{}",
        text(&o)
    );
    // The digest in flight went out twice, the same bytes; the email once; nothing lost.
    let d = digests(&slack.accepted.lock().unwrap());
    assert_eq!(d.len(), 2);
    assert_eq!(d[0], d[1]);
    assert_eq!(header(&d[0]), "demo: digest, 2 events");
    assert_eq!(digest_mails(&smtp).len(), 1);
    let o = run(&env, "2026-12-14T09:05:00Z");
    assert!(stdout(&o).contains("delivery: 0 sent"), "{}", text(&o));
    assert_eq!(digests(&slack.accepted.lock().unwrap()).len(), 2);
}

#[test]
fn events_held_when_the_digest_is_taken_out_of_the_config_go_out_at_the_next_run() {
    let smtp = SmtpServer::start(None);
    let slack = slack(false);
    let env = setup(&slack.server, smtp.port, true);
    first_run(&env, &slack, &smtp);
    let cfg = std::fs::read_to_string(&env.config).unwrap();
    let without = cfg
        .replace("digest = \"0 9 * * 1\"", "")
        .replace("quiet-scopes = [\"dev\"]", "");
    std::fs::write(&env.config, without).unwrap();
    // A Wednesday: no fire time, but no schedule either: sent now rather than never.
    let o = run(&env, "2026-12-02T10:00:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        stdout(&o).contains("digest queued (2 message(s))"),
        "{}",
        text(&o)
    );
    let d = digests(&slack.accepted.lock().unwrap());
    assert_eq!(d.len(), 1);
    assert_eq!(header(&d[0]), "demo: digest, 2 events");
    assert_eq!(digest_mails(&smtp).len(), 1);
    let o = run(&env, "2026-12-03T10:00:00Z");
    assert!(stdout(&o).contains("delivery: 0 sent"), "{}", text(&o));
}

#[test]
fn a_digest_mail_while_smtp_is_down_is_retried_and_arrives_once() {
    let smtp = SmtpServer::start(None);
    let port = smtp.port;
    let slack = slack(false);
    let env = setup(&slack.server, port, true);
    first_run(&env, &slack, &smtp);
    drop(smtp);

    let o = run(&env, "2026-12-07T09:05:00Z");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        stdout(&o).contains("delivery: 1 sent, 1 failed (retried next run)"),
        "{}",
        text(&o)
    );
    assert_eq!(digests(&slack.accepted.lock().unwrap()).len(), 1);

    let smtp = SmtpServer::start_on(port, None);
    let o = run(&env, "2026-12-07T09:10:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mails = digest_mails(&smtp);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["subject"], "[depwatch] demo digest: 2 new");
    assert_eq!(
        digests(&slack.accepted.lock().unwrap()).len(),
        1,
        "Slack is not sent twice"
    );
    let o = run(&env, "2026-12-14T09:05:00Z");
    assert!(stdout(&o).contains("delivery: 0 sent"), "{}", text(&o));
    assert_eq!(digest_mails(&smtp).len(), 1);
}
