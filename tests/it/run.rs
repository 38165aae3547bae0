//! Issue 5 acceptance: `depwatch run` on the real manifests of PLEXCollect and Emby Watch
//! Party (plus uv's Cargo.lock) with the five real policies, against a store synced from
//! `../shared`, publishing to a loopback Slack receiver and a real SMTP server (aiosmtpd).

use crate::support::config::{Monitor, corpus_sources, email_section, slack_section};
use crate::support::loopback::{Reply, Request, Server, slack_header};
use crate::support::shared;
use crate::support::smtp::SmtpServer;
use crate::support::{output_text as text, read};
use serde_json::Value;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const HOOK_PATH: &str = "/services/T0000/B0000/SeCrEtWeBhOoK";

/// Write a config for the five projects (two scanned with their policies, three policy-only)
/// plus uv's workspace with the default policy.
fn setup(slack: &Server, smtp_port: u16) -> Monitor {
    let s = shared();
    let p = |rel: &str| s.join(rel).display().to_string();
    let text = format!(
        r#"
{sources}timezone = "Europe/Berlin"

[[project]]
name = "plexcollect"
path = ["{plex}"]
security-policy = "{pol}/plexcollect.SECURITY.md"

[[project]]
name = "emby-watchparty"
path = "{emby}"
security-policy = "{pol}/emby-watchparty.SECURITY.md"

[[project]]
name = "helpr"
security-policy = "{pol}/helpr.SECURITY.md"

[[project]]
name = "jellyfin-ai-recommender"
security-policy = "{pol}/jellyfin-ai-recommender.SECURITY.md"

[[project]]
name = "moviemind-api"
security-policy = "{pol}/moviemind-api.SECURITY.md"

[[project]]
name = "uv-workspace"
path = "{uv}"

{slack}
{email}"#,
        sources = corpus_sources(),
        slack = slack_section(),
        email = email_section(
            smtp_port,
            &["security@example.com", "maintainer@example.org"]
        ),
        plex = p("corpus/manifests/plexcollect"),
        emby = p("corpus/manifests/emby-watchparty/requirements.txt"),
        uv = p("corpus/manifests/uv/Cargo.lock"),
        pol = p("policies"),
    );
    Monitor::new(format!("{}{HOOK_PATH}", slack.url), |_| text)
}

/// A Slack receiver that checks the Block Kit structure of every body it accepts.
fn slack_receiver(fail_first: usize) -> (Server, Arc<Mutex<Vec<Value>>>) {
    crate::support::loopback::slack_receiver(HOOK_PATH, fail_first)
}

fn projects_in(bodies: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = bodies.iter().map(slack_header).collect();
    v.sort();
    v
}

#[test]
fn run_publishes_once_per_affected_project_and_then_nothing() {
    let smtp = SmtpServer::start(None);
    let (slack, accepted) = slack_receiver(0);
    let env = setup(&slack, smtp.port);

    let o = env.run("2026-12-01T09:00:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("project emby-watchparty: 1 open (highest medium), 1 new"),
        "{out}"
    );
    assert!(out.contains("project plexcollect: 0 open"), "{out}");
    assert!(out.contains("project uv-workspace: 3 open"), "{out}");
    assert!(out.contains("delivery: 4 sent, 0 failed"), "{out}");

    // Drafts: markdown and GitHub JSON for the affected projects only.
    let adv = env.out.join("emby-watchparty/advisories");
    let md = read(&adv.join("emby-watchparty-GHSA-9wx4-h78v-vm56.md"));
    assert!(
        md.contains("requests 2.31.0") && md.contains("2.32.2"),
        "{md}"
    );
    // emby-watchparty.SECURITY.md line 37: "Initial response: within 48 hours".
    assert!(md.contains("2026-12-03"), "respond-by date missing:\n{md}");
    let gh: Value =
        serde_json::from_str(&read(&adv.join("emby-watchparty-GHSA-9wx4-h78v-vm56.json"))).unwrap();
    assert_eq!(gh["vulnerabilities"][0]["package"]["ecosystem"], "other");
    assert_eq!(
        gh["vulnerabilities"][0]["package"]["name"],
        "emby-watchparty"
    );
    // The app's own advisory: requests' CVE is not its CVE; its range is SECURITY.md's 1.4.x.
    assert!(gh.get("cve_id").is_none(), "{gh:#}");
    assert_eq!(
        gh["vulnerabilities"][0]["vulnerable_version_range"],
        ">= 1.4.0, < 1.5.0"
    );
    assert!(gh.get("state").is_none());
    assert!(
        env.out
            .join("uv-workspace/advisories")
            .read_dir()
            .unwrap()
            .count()
            >= 6
    );
    assert!(!env.out.join("plexcollect/advisories").exists());
    let notes = read(&env.out.join("emby-watchparty/SECURITY-NOTES.md"));
    assert!(notes.contains("GHSA-9wx4-h78v-vm56"), "{notes}");

    // One Slack message and one email per affected project.
    let bodies = accepted.lock().unwrap().clone();
    let heads = projects_in(&bodies);
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert!(
        heads[0].contains("emby-watchparty") && heads[1].contains("uv-workspace"),
        "{heads:?}"
    );
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "{mails:?}");
    let mut subjects: Vec<String> = mails
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or("").to_string())
        .collect();
    subjects.sort();
    assert!(
        subjects[0].contains("emby-watchparty") && subjects[1].contains("uv-workspace"),
        "{subjects:?}"
    );
    for m in &mails {
        assert_eq!(m["rcpt_tos"].as_array().map(|a| a.len()), Some(2), "{m}");
    }
    // The webhook secret is never printed.
    assert!(!text(&o).contains("SeCrEtWeBhOoK"));

    // The second run publishes nothing.
    let o = env.run("2026-12-01T10:00:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("delivery: 0 sent"),
        "{}",
        text(&o)
    );
    assert_eq!(accepted.lock().unwrap().len(), 2);
    assert_eq!(smtp.messages().len(), 2);
}

#[test]
fn a_failing_webhook_is_retried_within_the_call_and_sent_once() {
    let smtp = SmtpServer::start(None);
    let (slack, accepted) = slack_receiver(1);
    let env = setup(&slack, smtp.port);
    let o = env.run("2026-12-01T09:00:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(accepted.lock().unwrap().len(), 2);
    // 1 failure + 2 accepted requests reached the server.
    assert_eq!(slack.requests().len(), 3);
}

#[test]
fn smtp_down_is_retried_on_a_later_run_and_nothing_is_lost() {
    let (slack, accepted) = slack_receiver(0);
    // A port nothing listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = setup(&slack, port);
    let o = env.run("2026-12-01T09:00:00Z");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("delivery: 2 sent, 2 failed"), "{out}");
    assert_eq!(accepted.lock().unwrap().len(), 2);

    // Before the retry time nothing is attempted again...
    let o = env.run("2026-12-01T09:00:30Z");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("delivery: 0 sent, 0 failed"),
        "{}",
        text(&o)
    );
    // ...after it, with the server up on that port, both mails arrive, once.
    let smtp = SmtpServer::start_on(port, None);
    let o = env.run("2026-12-01T09:05:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("delivery: 2 sent, 0 failed"),
        "{}",
        text(&o)
    );
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(
        accepted.lock().unwrap().len(),
        2,
        "Slack must not be sent twice"
    );
    let o = env.run("2026-12-01T10:00:00Z");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("delivery: 0 sent"),
        "{}",
        text(&o)
    );
    assert_eq!(smtp.messages().len(), 2);
}

#[cfg(unix)]
#[test]
fn a_kill_between_send_and_mark_duplicates_only_the_message_in_flight() {
    let smtp = SmtpServer::start(None);
    // The receiver kills depwatch with SIGKILL when the first message arrives, after
    // accepting it: the message was delivered but never marked sent.
    let pid: Arc<Mutex<Option<u32>>> = Arc::new(Mutex::new(None));
    let accepted = Arc::new(Mutex::new(Vec::<Value>::new()));
    let (pid2, acc) = (pid.clone(), accepted.clone());
    let slack = Server::start(move |req: &Request| {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let first = {
            let mut a = acc.lock().unwrap();
            a.push(body);
            a.len() == 1
        };
        if let (true, Some(p)) = (first, *pid2.lock().unwrap()) {
            let _ = Command::new("kill")
                .args(["-KILL", &p.to_string()])
                .status();
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Reply::ok("ok")
    });
    let env = setup(&slack, smtp.port);
    let mut child = env
        .run_command("2026-12-01T09:00:00Z")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    *pid.lock().unwrap() = Some(child.id());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "depwatch should have been killed");
    assert_eq!(accepted.lock().unwrap().len(), 1);

    let o = env.run("2026-12-01T09:01:00Z");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let bodies = accepted.lock().unwrap().clone();
    // The message in flight went out twice, the other Slack message once; nothing was lost.
    let heads = projects_in(&bodies);
    assert_eq!(bodies.len(), 3, "{heads:?}");
    let first = &heads
        .iter()
        .filter(|h| **h == projects_in(&bodies[..1])[0])
        .count();
    assert_eq!(*first, 2, "{heads:?}");
    assert_eq!(smtp.messages().len(), 2);
    let _ = env.dir.path();
}

fn depwatch_in(env: &Monitor, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut c = env.command();
    c.args(args);
    for (k, v) in extra {
        c.env(k, v);
    }
    c.output().expect("run depwatch")
}

#[test]
fn policy_show_reads_the_projects_policy_from_the_config() {
    let (slack, _) = slack_receiver(0);
    let env = setup(&slack, 25);
    let cfg = env.config.to_str().unwrap();
    let o = depwatch_in(
        &env,
        &["policy", "show", "emby-watchparty", "--config", cfg],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // emby-watchparty.SECURITY.md line 37: "Initial Response: Within 48 hours".
    assert!(out.contains("48 hours") && out.contains("line 37"), "{out}");
    // Without a project: every project's policy, the default one for uv-workspace included.
    let o = depwatch_in(&env, &["policy", "show", "--config", cfg], &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    for name in [
        "plexcollect",
        "helpr",
        "jellyfin-ai-recommender",
        "moviemind-api",
        "uv-workspace",
    ] {
        assert!(out.contains(name), "{name} missing:\n{out}");
    }
    let o = depwatch_in(&env, &["policy", "show", "nope", "--config", cfg], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no project named \"nope\""),
        "{}",
        text(&o)
    );
}

#[test]
fn publish_files_drafts_once_then_updates_them() {
    use crate::support::github::{FakeGithub, TOKEN};
    let gh = FakeGithub::start(vec![]);
    let (slack, _) = slack_receiver(0);
    let env = setup(&slack, 25);
    // Only emby-watchparty files on GitHub; the fake API stands in for api.github.com.
    let cfg = read(&env.config).replace(
        "emby-watchparty.SECURITY.md\"\n",
        &format!(
            "emby-watchparty.SECURITY.md\"\nnotify = []\n[project.github]\nrepo = \"octo/demo\"\ntoken-env = \"DEPWATCH_TEST_GH_TOKEN\"\napi-url = \"{}\"\n",
            gh.server.url
        ),
    );
    let cfg = cfg.replace("[notify.email]", "[notify.emailx]");
    let cfg = cfg[..cfg.find("[notify.emailx]").unwrap()].to_string();
    std::fs::write(&env.config, cfg).unwrap();
    let c = env.config.to_str().unwrap();
    let out = env.out.to_str().unwrap();
    let o = depwatch_in(
        &env,
        &[
            "run",
            "--offline",
            "--no-deliver",
            "--config",
            c,
            "--out",
            out,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let allow = [
        ("DEPWATCH_TEST_GH_TOKEN", TOKEN),
        ("DEPWATCH_GHSA_TOKEN_URL", gh.server.url.as_str()),
    ];
    let o = depwatch_in(&env, &["publish", "--config", c], &allow);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("emby-watchparty: 1 draft(s) filed, 0 updated"),
        "{}",
        text(&o)
    );
    let o = depwatch_in(&env, &["publish", "--config", c], &allow);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("0 draft(s) filed, 1 updated"),
        "{}",
        text(&o)
    );
    let filed = gh.store.lock().unwrap().clone();
    assert_eq!(filed.len(), 1, "{filed:?}");
    assert_eq!(filed[0]["state"], "draft");
    assert_eq!(
        filed[0]["vulnerabilities"][0]["package"]["ecosystem"],
        "other"
    );
    assert!(!text(&o).contains(TOKEN));

    // Without the operator's approval of the custom API base, the token is not sent.
    let o = depwatch_in(
        &env,
        &["publish", "--config", c],
        &[("DEPWATCH_TEST_GH_TOKEN", TOKEN)],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!text(&o).contains(TOKEN));
}

#[test]
fn notes_cli_compares_two_revisions() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(repo.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", repo.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    git(&["init", "-q"]);
    std::fs::write(repo.path().join("requirements.txt"), "requests==2.31.0\n").unwrap();
    git(&["add", "."]);
    git(&["commit", "-qm", "a"]);
    git(&["tag", "v1"]);
    std::fs::write(repo.path().join("requirements.txt"), "requests==2.32.2\n").unwrap();
    git(&["commit", "-qam", "b"]);
    let ghsa = format!(
        "osv-dir:{}",
        shared().join("feeds-reference/ghsa-osv").display()
    );
    let o = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["notes", "--repo"])
        .arg(repo.path())
        .args(["--from", "v1", "--to", "HEAD", "--source", &ghsa])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(
        md.contains("### Security")
            && md.contains("#### Fixed")
            && md.contains("GHSA-9wx4-h78v-vm56"),
        "{md}"
    );
    assert!(!md.contains("#### New"), "{md}");
    let o = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["notes", "--repo"])
        .arg(repo.path())
        .args(["--from", "--upload-pack=x", "--source", &ghsa])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn watch_and_status_take_the_schedule_from_the_config() {
    let (slack, _) = slack_receiver(0);
    let env = setup(&slack, 25);
    let c = env.config.to_str().unwrap();
    let o = depwatch_in(&env, &["watch", "--config", c], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no schedule"),
        "{}",
        text(&o)
    );
    // [watch] gives the schedule; its zone defaults to the config's timezone (Europe/Berlin).
    let cfg = read(&env.config) + "\n[watch]\nschedule = \"0 9 * * 1\"\n";
    std::fs::write(&env.config, cfg).unwrap();
    let o = depwatch_in(
        &env,
        &[
            "run",
            "--offline",
            "--no-deliver",
            "--config",
            c,
            "--out",
            env.out.to_str().unwrap(),
        ],
        &[("DEPWATCH_NOW", "2026-12-02T12:00:00Z")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = depwatch_in(
        &env,
        &["status", "--config", c, "--json"],
        &[("DEPWATCH_NOW", "2026-12-02T12:00:00Z")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    // Wednesday 2 December -> Monday 7 December, 09:00 in Berlin = 08:00 UTC.
    let next = st["next"].to_string();
    assert!(next.contains("2026-12-07T08:00:00Z"), "{next}");
}

#[test]
fn a_run_during_another_cycle_waits_then_exits_clearly() {
    let (slack, accepted) = slack_receiver(0);
    let env = setup(&slack, 25);
    let held = depwatch::watch::CycleLock::try_acquire(&env.store)
        .unwrap()
        .expect("free");
    let c = env.config.to_str().unwrap();
    let start = std::time::Instant::now();
    let o = depwatch_in(
        &env,
        &["run", "--offline", "--config", c, "--lock-wait", "1"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(start.elapsed() >= std::time::Duration::from_secs(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("another cycle") && err.contains(&std::process::id().to_string()),
        "{err}"
    );
    assert!(
        !env.store.exists(),
        "nothing may run while the lock is held"
    );
    drop(held);
    assert!(accepted.lock().unwrap().is_empty());
}

#[test]
fn a_run_with_nothing_synced_fails_clearly_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("depwatch.toml");
    std::fs::write(
        &cfg,
        "sources = [\"osv-dir:missing\"]\n[[project]]\nname = \"app\"\n",
    )
    .unwrap();
    let store = dir.path().join("store.sqlite3");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_depwatch"))
            .args(args)
            .arg("--config")
            .arg(&cfg)
            .env("DEPWATCH_STORE", &store)
            .output()
            .unwrap()
    };
    let o = run(&["run", "--offline"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("never synced"),
        "{}",
        text(&o)
    );
    let o = run(&["status"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("last cycle:") && out.contains(", failed"),
        "{out}"
    );
}
