//! Issue 12 item 10: control characters from a feed (OSC 8 hidden links, window-title
//! sequences, CSI, NUL, 8-bit C1) never reach people: not scan's table or markdown, not
//! `run`'s drafts and release notes, not the email (real SMTP server) or the Slack body
//! (loopback receiver), not `status`.

use crate::support::command;
use crate::support::config::{SLACK_WEBHOOK_ENV, email_section, slack_section};
use crate::support::files::walk;
use crate::support::shared;
use crate::support::smtp::SmtpServer;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

const HOOK_PATH: &str = "/services/T0000/B0000/HoStIlEoUtPuT";

/// Everything an attacker would put in a feed's text.
const HOSTILE: &str = "\u{1b}]8;;https://evil.example/\u{7}click here\u{1b}]8;;\u{7} \
     \u{1b}]0;pwned-title\u{7} \u{1b}[2J\u{1b}[31mred \u{0}nul \u{9b}2J \u{9d}0;c1\u{9c} \u{7f}";

/// A control character people should not receive (newlines and tabs are allowed).
fn bad_char(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

fn assert_clean(what: &str, text: &str) {
    let bad: Vec<char> = text.chars().filter(|c| bad_char(*c)).collect();
    assert!(bad.is_empty(), "{what} carries {bad:?}:\n{text:?}");
}

/// Every string inside a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The Werkzeug record of the reference feed with hostile summary, details and aliases, plus
/// a second record whose very id is hostile (`status` prints ids).
fn write_feed(dir: &Path) {
    let text = std::fs::read_to_string(
        shared().join("feeds-reference/ghsa-osv/PyPI/GHSA-2g68-c3qc-8985.json"),
    )
    .unwrap();
    let mut rec: Value = serde_json::from_str(&text).unwrap();
    rec["summary"] = format!("Werkzeug debugger {HOSTILE} summary").into();
    rec["details"] = format!("Details {HOSTILE}\nsecond line\r\nthird").into();
    rec["aliases"] = serde_json::json!(["CVE-2024-34069", format!("CVE-2099-0001{HOSTILE}")]);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("a.json"), rec.to_string()).unwrap();
    rec["id"] = format!("OSV-2099-1{HOSTILE}").into();
    rec["aliases"] = serde_json::json!([]);
    std::fs::write(dir.join("b.json"), rec.to_string()).unwrap();
}

fn out_text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn feed_control_characters_reach_no_human_output() {
    let smtp = SmtpServer::start(None);
    let (slack, accepted) = crate::support::loopback::slack_receiver(HOOK_PATH, 0);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_feed(&d.join("osv"));
    std::fs::write(d.join("requirements.txt"), "Werkzeug==3.0.1\n").unwrap();
    let source = format!("osv-dir:{}", d.join("osv").display());
    let cfg = d.join("depwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
sources = ["{source}"]

[[project]]
name = "app"
path = "requirements.txt"

{slack}
{email}"#,
            slack = slack_section(),
            email = email_section(smtp.port, &["security@example.com"]),
        ),
    )
    .unwrap();
    let depwatch = |args: &[&str]| {
        command(&d.join("store.sqlite3"))
            .args(args)
            .env("DEPWATCH_NOW", "2026-12-01T09:00:00Z")
            .env(SLACK_WEBHOOK_ENV, format!("{}{HOOK_PATH}", slack.url))
            .output()
            .expect("run depwatch")
    };
    let req = d.join("requirements.txt").display().to_string();

    // scan: the table and the markdown report.
    for format in ["table", "markdown"] {
        let o = depwatch(&["scan", &req, "--source", &source, "--format", format]);
        assert_eq!(o.status.code(), Some(1), "{}", out_text(&o));
        let out = out_text(&o);
        assert!(out.contains("OSV-2099-1"), "{out}");
        assert_clean(&format!("scan --format {format}"), &out);
    }

    // run: drafts, release notes, the email and the Slack message.
    let out_dir = d.join("out");
    let o = depwatch(&[
        "run",
        "--offline",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\n{}",
        out_text(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_clean("run's summary", &out_text(&o));
    let markdown: Vec<_> = walk(&out_dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    // Two drafts and the release notes.
    assert_eq!(markdown.len(), 3, "{markdown:?}");
    for p in &markdown {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(text.contains("Werkzeug debugger"), "{}", p.display());
        assert_clean(&p.display().to_string(), &text);
    }

    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    for key in ["subject", "text", "html"] {
        let text = mails[0][key]
            .as_str()
            .unwrap_or_default()
            .replace("\r\n", "\n");
        if key != "subject" {
            assert!(text.contains("OSV-2099-1"), "{key}: {text}");
        }
        assert_clean(&format!("email {key}"), &text);
    }

    let bodies = accepted.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let mut texts = Vec::new();
    strings(&bodies[0], &mut texts);
    assert!(texts.iter().any(|t| t.contains("OSV-2099-1")), "{texts:?}");
    for t in &texts {
        assert_clean("Slack body", t);
    }

    // status: the open findings' ids.
    let o = depwatch(&["status", "--config", cfg.to_str().unwrap()]);
    let out = out_text(&o);
    assert!(out.contains("OSV-2099-1"), "{out}");
    assert_clean("status", &out);
}
