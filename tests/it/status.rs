//! Issue 11 item 10: `depwatch status` shows deadlines in the configured zone with its offset,
//! as the drafts and messages do.

use crate::support::shared;

#[test]
fn status_shows_deadlines_in_the_configured_zone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let record = shared().join("feeds-reference/ghsa-osv/PyPI/GHSA-2g68-c3qc-8985.json");
    std::fs::create_dir_all(d.join("osv")).unwrap();
    std::fs::copy(&record, d.join("osv/GHSA-2g68-c3qc-8985.json")).unwrap();
    std::fs::write(d.join("requirements.txt"), "Werkzeug==3.0.1\n").unwrap();
    let cfg = d.join("depwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "sources = [\"osv-dir:{}\"]\ntimezone = \"America/New_York\"\n\
             [[project]]\nname = \"app\"\npath = \"requirements.txt\"\n",
            d.join("osv").display()
        ),
    )
    .unwrap();
    let depwatch = |args: &[&str]| {
        crate::support::command(&d.join("store.sqlite3"))
            .args(args)
            .arg("--config")
            .arg(&cfg)
            .env("DEPWATCH_NOW", "2026-12-01T09:00:00Z")
            .output()
            .expect("run depwatch")
    };
    let out_dir = d.join("out");
    let o = depwatch(&[
        "run",
        "--offline",
        "--no-deliver",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = depwatch(&["status"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let line = out
        .lines()
        .find(|l| l.contains("GHSA-2g68-c3qc-8985"))
        .unwrap_or_else(|| panic!("no open finding line:\n{out}"));
    // First seen 09:00 UTC = 04:00 in New York (EST, -05:00); high: fix within 30 days.
    assert!(
        line.ends_with("[high] fix by 2026-12-31 04:00 -05:00 America/New_York"),
        "{line}"
    );
    assert!(!line.contains("UTC"), "{line}");
    // The JSON keeps RFC 3339 UTC for machines.
    let o = depwatch(&["status", "--json"]);
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let due = st["open"][0]["deadline"][1].as_str().unwrap_or_default();
    assert!(due.ends_with('Z'), "{st}");
}
