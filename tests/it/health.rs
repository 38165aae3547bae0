//! Health events through the real binary: a feed and a project that keep failing are
//! reported once, after `[watch] health-after` runs, through Slack (loopback receiver) and
//! email (a real SMTP server), and their recovery once.

use crate::support::config::{Monitor, email_section, slack_section};
use crate::support::loopback::{Reply, Request, Server};
use crate::support::output_text as text;
use crate::support::shared;
use crate::support::smtp::SmtpServer;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};

const HOOK_PATH: &str = "/services/T0000/B0000/HeAlThHoOk";

/// A Slack receiver that accepts only Block Kit bodies.
fn slack_receiver() -> (Server, Arc<Mutex<Vec<Value>>>) {
    crate::support::loopback::slack_receiver(HOOK_PATH, 0)
}

fn config(dir: &Path, project_path: &str, smtp_port: u16) -> String {
    format!(
        r#"
sources = ["osv-dir:{osv}", "osv-dir:{gone}"]

[[project]]
name = "app"
path = "{app}"

[[project]]
name = "steady"
path = "{steady}"

{slack}
{email}
[watch]
health-after = 3
"#,
        osv = dir.join("osv").display(),
        gone = dir.join("gone").display(),
        app = dir.join(project_path).display(),
        steady = dir.join("app/requirements.txt").display(),
        slack = slack_section(),
        email = email_section(smtp_port, &["ops@example.com"]),
    )
}

#[test]
fn repeated_failures_alert_once_per_channel_and_recovery_once() {
    let smtp = SmtpServer::start(None);
    let (slack, accepted) = slack_receiver();
    let record = shared().join("feeds-reference/ghsa-osv/PyPI/GHSA-2g68-c3qc-8985.json");
    let env = Monitor::new(format!("{}{HOOK_PATH}", slack.url), |d| {
        std::fs::create_dir_all(d.join("osv")).unwrap();
        std::fs::copy(&record, d.join("osv/GHSA-2g68-c3qc-8985.json")).unwrap();
        std::fs::create_dir_all(d.join("app")).unwrap();
        // No advisory matches this project: no finding messages, only health ones.
        std::fs::write(d.join("app/requirements.txt"), "idna==3.7\n").unwrap();
        // Not a manifest: the project fails on every run, the other one is scanned anyway.
        std::fs::write(d.join("app/notes.txt"), "not a manifest\n").unwrap();
        config(d, "app/notes.txt", smtp.port)
    });
    let d = env.dir.path();
    let run = |hour: u32| env.run(&format!("2026-12-01T{hour:02}:00:00Z"));
    let counts = || (accepted.lock().unwrap().len(), smtp.messages().len());

    for hour in [9, 10] {
        let o = run(hour);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(out.contains("project app: FAILED"), "{out}");
        assert!(out.contains("project steady: 0 open"), "{out}");
        assert!(!out.contains("health:"), "{out}");
        assert_eq!(counts(), (0, 0), "nothing before the third failure");
    }

    // Third failure in a row: one health message per channel, listing both components.
    let o = run(11);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("health: feed:osv-dir:"), "{out}");
    assert!(out.contains("project:app failing (3 failed runs"), "{out}");
    assert!(out.contains("delivery: 2 sent, 0 failed"), "{out}");
    assert_eq!(counts(), (1, 1));
    let body = accepted.lock().unwrap()[0].clone();
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["text"]["text"], "depwatch health: 2 failing");
    assert_eq!(blocks.len(), 4, "header, 2 events, context: {body}");
    let sections: Vec<&str> = blocks[1..3]
        .iter()
        .map(|b| {
            assert_eq!(b["type"], "section");
            assert_eq!(b["text"]["type"], "mrkdwn");
            b["text"]["text"].as_str().unwrap()
        })
        .collect();
    assert!(
        sections[0].starts_with("*Failing: feed osv-dir:")
            && sections[0].contains("3 failed runs in a row since 2026-12-01 09:00 UTC"),
        "{sections:?}"
    );
    assert!(
        sections[1].starts_with("*Failing: project app")
            && sections[1].contains("not a recognised manifest"),
        "{sections:?}"
    );
    let mail = &smtp.messages()[0];
    assert_eq!(mail["subject"], "[depwatch] health: 2 failing", "{mail}");
    assert!(!text(&o).contains("HeAlThHoOk"), "the webhook is a secret");

    // `depwatch status` lists what is failing.
    let st = env
        .command()
        .args(["status", "--config"])
        .arg(&env.config)
        .output()
        .unwrap();
    let st = String::from_utf8_lossy(&st.stdout).to_string();
    assert!(
        st.contains(
            "failing: project:app (3 run(s) in a row since 2026-12-01 09:00:00 UTC, alert sent)"
        ),
        "{st}"
    );

    // Still failing: no new alert.
    let o = run(12);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("health:"),
        "{}",
        text(&o)
    );
    assert_eq!(counts(), (1, 1));

    // Fixed: the feed's directory appears, the project points at a manifest.
    std::fs::create_dir_all(d.join("gone")).unwrap();
    std::fs::copy(&record, d.join("gone/GHSA-2g68-c3qc-8985.json")).unwrap();
    std::fs::write(&env.config, config(d, "app/requirements.txt", smtp.port)).unwrap();
    let o = run(13);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("project:app recovered (after 4 failed runs"),
        "{}",
        text(&o)
    );
    assert_eq!(counts(), (2, 2));
    let body = accepted.lock().unwrap()[1].clone();
    assert_eq!(
        body["blocks"][0]["text"]["text"],
        "depwatch health: 2 recovered"
    );
    assert_eq!(
        smtp.messages()[1]["subject"],
        "[depwatch] health: 2 recovered"
    );

    // Healthy: nothing more.
    let o = run(14);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(counts(), (2, 2));
}

#[test]
fn a_failing_channel_is_reported_through_the_other_one() {
    let smtp = SmtpServer::start(None);
    // Slack is down for good.
    let slack = Server::start(|_: &Request| Reply::status(500));
    let env = Monitor::new(format!("{}{HOOK_PATH}", slack.url), |d| {
        let record = shared().join("feeds-reference/ghsa-osv/PyPI/GHSA-2g68-c3qc-8985.json");
        std::fs::create_dir_all(d.join("osv")).unwrap();
        std::fs::copy(&record, d.join("osv/GHSA-2g68-c3qc-8985.json")).unwrap();
        std::fs::create_dir_all(d.join("gone")).unwrap();
        std::fs::create_dir_all(d.join("app")).unwrap();
        // Affected by the record: one finding message per channel.
        std::fs::write(d.join("app/requirements.txt"), "Werkzeug==3.0.1\n").unwrap();
        config(d, "app/requirements.txt", smtp.port).replace("health-after = 3", "health-after = 1")
    });
    let o = env.run("2026-12-01T09:00:00Z");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.contains("health: channel:slack failing (1 failed run in a row"),
        "{out}"
    );
    // The findings' emails and the health email arrived; Slack accepted nothing.
    let mails = smtp.messages();
    let subjects: Vec<&str> = mails
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or(""))
        .collect();
    // Both projects scan the affected file: two finding mails, then the health one.
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert!(
        subjects[..2].iter().all(|s| s.ends_with(": 1 new")),
        "{subjects:?}"
    );
    assert_eq!(subjects[2], "[depwatch] health: 1 failing");
    let body = mails[2]["text"]
        .as_str()
        .unwrap_or("")
        .replace("\r\n", "\n");
    assert!(
        body.contains("Failing: channel slack") && body.contains("gets it once it works again"),
        "{body}"
    );
    assert!(!text(&o).contains("HeAlThHoOk"), "the webhook is a secret");
}
