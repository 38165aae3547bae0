//! Issue 12 item 9: one project's broken checkout (a renamed manifest, a dangling SECURITY.md
//! symlink) fails only that project in a real `depwatch run`; the other project is scanned and
//! alerted through a loopback Slack receiver as usual.

use crate::support::command;
use crate::support::config::{SLACK_WEBHOOK_ENV, slack_section};
use crate::support::loopback::slack_header;
use crate::support::shared;
use serde_json::Value;

const HOOK_PATH: &str = "/services/T0000/B0000/BrOkEnChEcKoUt";

#[test]
fn a_broken_checkout_fails_only_its_project() {
    let (slack, accepted) = crate::support::loopback::slack_receiver(HOOK_PATH, 0);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let record = shared().join("feeds-reference/ghsa-osv/PyPI/GHSA-2g68-c3qc-8985.json");
    std::fs::create_dir_all(d.join("osv")).unwrap();
    std::fs::copy(&record, d.join("osv/GHSA-2g68-c3qc-8985.json")).unwrap();
    // The good project is affected by the record.
    std::fs::create_dir_all(d.join("good")).unwrap();
    std::fs::write(d.join("good/requirements.txt"), "Werkzeug==3.0.1\n").unwrap();
    std::fs::copy(
        shared().join("policies/emby-watchparty.SECURITY.md"),
        d.join("good/SECURITY.md"),
    )
    .unwrap();
    // The broken one: its manifest was renamed, its SECURITY.md is a dangling symlink.
    std::fs::create_dir_all(d.join("broken")).unwrap();
    std::fs::write(d.join("broken/requirements-old.txt"), "Werkzeug==3.0.1\n").unwrap();
    std::os::unix::fs::symlink(d.join("nowhere/SECURITY.md"), d.join("broken/SECURITY.md"))
        .unwrap();
    let cfg = d.join("depwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
sources = ["osv-dir:{osv}"]

[[project]]
name = "broken"
path = "broken/requirements.txt"
security-policy = "broken/SECURITY.md"

[[project]]
name = "good"
path = "good/requirements.txt"
security-policy = "good/SECURITY.md"

{slack}
[watch]
health-after = 1
"#,
            osv = d.join("osv").display(),
            slack = slack_section(),
        ),
    )
    .unwrap();
    let run = |json: bool| {
        let mut c = command(&d.join("store.sqlite3"));
        c.args(["run", "--offline", "--config"])
            .arg(&cfg)
            .arg("--out")
            .arg(d.join("out"))
            .env("DEPWATCH_NOW", "2026-12-01T09:00:00Z")
            .env(SLACK_WEBHOOK_ENV, format!("{}{HOOK_PATH}", slack.url));
        if json {
            c.arg("--json");
        }
        c.output().expect("run depwatch")
    };
    let o = run(true);
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("no run report ({e}):\n{stdout}\n{stderr}"));
    let project = |name: &str| {
        report["projects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no project {name}: {report}"))
    };
    // The broken project's error names its missing manifest.
    let broken = project("broken");
    let missing = d.join("broken/requirements.txt").display().to_string();
    let err = broken["error"].as_str().unwrap_or_default();
    assert!(
        err.contains(&missing) && err.contains("does not exist"),
        "{broken}"
    );
    assert!(
        stderr.contains(&format!("error: project broken: path {missing}")),
        "{stderr}"
    );
    // The good one was scanned, drafted and alerted as usual.
    let good = project("good");
    assert!(good["error"].is_null(), "{good}");
    assert_eq!(good["open"], 1, "{good}");
    assert_eq!(good["events"], serde_json::json!(["new"]), "{good}");
    assert!(
        d.join("out/good")
            .read_dir()
            .is_ok_and(|mut r| r.next().is_some()),
        "no draft for good"
    );
    // The failure is a health event of that project, sent with the good project's alert.
    let health = report["health"].as_array().unwrap();
    assert_eq!(health.len(), 1, "{report}");
    assert_eq!(health[0]["component"], "project:broken");
    let bodies = accepted.lock().unwrap().clone();
    let headers: Vec<String> = bodies.iter().map(slack_header).collect();
    assert_eq!(bodies.len(), 2, "{headers:?}");
    assert!(headers.iter().any(|h| h.contains("good")), "{headers:?}");
    assert!(headers.iter().any(|h| h.contains("health")), "{headers:?}");

    // With the manifest back, the dangling SECURITY.md symlink is the project's error.
    std::fs::rename(
        d.join("broken/requirements-old.txt"),
        d.join("broken/requirements.txt"),
    )
    .unwrap();
    let o = run(false);
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(2), "{stdout}");
    let policy = d.join("broken/SECURITY.md").display().to_string();
    assert!(
        stdout.contains(&format!(
            "project broken: FAILED: security-policy {policy} is not a file"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("project good: 1 open"), "{stdout}");
}
