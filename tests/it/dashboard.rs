//! Issue 16, the dashboard: `depwatch dashboard` on a store seeded by `depwatch run --offline`
//! on the example config over three months, loaded in a real headless Chromium (Debian's
//! `chromium`; `.ci/run` installs it). Asserts on the rendered DOM and saves screenshots under
//! `target/`.

use crate::support::output_text;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Cycles of the example config: first seen 2026-09-01, so the medium finding's 90-day fix
/// deadline (2026-11-30) has passed by the last one.
const RUNS: [&str; 5] = [
    "2026-09-01T09:00:00Z",
    "2026-09-20T09:00:00Z",
    "2026-10-15T09:00:00Z",
    "2026-11-20T09:00:00Z",
    "2026-12-06T09:00:00Z",
];
const SHOWN: &str = "2026-12-06T10:00:00Z";

fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/depwatch.toml")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// `depwatch run --offline` of the example config on `store` (a path or a URL) at `at`.
fn run_at(store: &Path, out: &Path, at: &str) {
    let o = crate::support::command(store)
        .args(["run", "--offline", "--no-deliver", "--config"])
        .arg(example_config())
        .arg("--out")
        .arg(out)
        .env("DEPWATCH_NOW", at)
        .output()
        .expect("run depwatch");
    assert_eq!(o.status.code(), Some(0), "run at {at}: {}", output_text(&o));
}

/// `depwatch dashboard` of `store` into `site`, as at `now`.
fn write_site(store: &Path, drafts: &Path, site: &Path, now: &str) {
    let o = crate::support::command(store)
        .args(["dashboard", "--config"])
        .arg(example_config())
        .arg("--drafts")
        .arg(drafts)
        .arg("--out")
        .arg(site)
        .env("DEPWATCH_NOW", now)
        .output()
        .expect("run depwatch dashboard");
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
}

/// Seed an SQLite store (`d/store.sqlite3`, drafts in `d/out`) and write the site; returns
/// the site dir.
fn seeded_site(d: &Path) -> PathBuf {
    let store = d.join("store.sqlite3");
    let out = d.join("out");
    for at in RUNS {
        run_at(&store, &out, at);
    }
    let site = d.join("site");
    write_site(&store, &out, &site, SHOWN);
    site
}

/// Run headless Chromium with `args` and `url`, bounded to a minute; its stdout.
pub(crate) fn chromium(args: &[&str], url: &str) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; \
         `.ci/run` does it)"
    );
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish {url} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

fn url(path: &Path) -> String {
    format!("file://{}", path.display())
}

#[test]
fn chromium_renders_the_overview_and_a_project_page_of_a_seeded_store() {
    let dir = tempfile::tempdir().unwrap();
    let site = seeded_site(dir.path());
    let index = site.join("index.html");

    let dom = chromium(&["--dump-dom"], &url(&index));
    // The project table, every configured project in it.
    assert!(dom.contains(r#"<table id="projects""#), "{dom}");
    for p in ["plexcollect", "emby-watchparty", "uv-workspace"] {
        assert!(
            dom.contains(&format!(r#"data-project="{p}""#)),
            "{p}: {dom}"
        );
    }
    // An overdue row, and overdue projects first.
    let first_row = dom
        .split("<tbody>")
        .nth(1)
        .and_then(|b| b.split("</tr>").next())
        .unwrap_or_default();
    assert!(
        first_row.starts_with(r#"<tr class="overdue""#) && first_row.contains("overdue</span>"),
        "the first row is an overdue project: {first_row}"
    );
    // The chart's SVG with its series: one group per severity, bars on the seeded days only.
    let chart = dom
        .split(r#"<svg class="chart history""#)
        .nth(1)
        .and_then(|s| s.split("</svg>").next())
        .unwrap_or_else(|| panic!("no history chart: {dom}"));
    for sev in ["critical", "high", "medium", "low", "unknown"] {
        assert!(
            chart.contains(&format!(r#"data-severity="{sev}""#)),
            "series {sev}: {chart}"
        );
    }
    let medium = chart
        .split(r#"data-severity="medium""#)
        .nth(1)
        .and_then(|s| s.split("</g>").next())
        .unwrap_or_default();
    // 2026-09-01 is outside the 90 days ending 2026-12-06; the other four runs are bars.
    assert_eq!(medium.matches("<rect").count(), 4, "{medium}");
    assert!(medium.contains("2026-12-06: 2 medium"), "{medium}");

    // A project page: its overdue finding with fix advice, scope, deadline and drafts.
    let page = site.join("projects/emby-watchparty.html");
    let dom = chromium(&["--dump-dom"], &url(&page));
    let row = dom
        .split(r#"<tr class="overdue">"#)
        .nth(1)
        .and_then(|s| s.split("</tr>").next())
        .unwrap_or_else(|| panic!("no overdue finding row: {dom}"));
    assert!(row.contains("GHSA-9wx4-h78v-vm56"), "{row}");
    assert!(row.contains("upgrade to 2.32.2"), "{row}");
    assert!(row.contains("scope: normal dependency"), "{row}");
    assert!(row.contains("2026-11-30 09:00 UTC"), "{row}");
    let href = r#"href="drafts/emby-watchparty-GHSA-9wx4-h78v-vm56.md""#;
    assert!(row.contains(href), "{row}");
    assert!(
        site.join("projects/drafts/emby-watchparty-GHSA-9wx4-h78v-vm56.md")
            .is_file(),
        "the linked draft is copied next to the page"
    );
    assert!(dom.contains(r#"<svg class="chart timeline""#), "{dom}");
    assert!(dom.contains(r#"class="due overdue""#), "{dom}");
    assert!(dom.contains("SECURITY.md line 37"), "policy origins: {dom}");

    // Screenshots: desktop and phone widths, PNGs that Chromium wrote.
    let target = target_dir();
    std::fs::create_dir_all(&target).unwrap();
    for (name, size, path) in [
        ("dashboard.png", "1280,1600", &index),
        ("dashboard-phone.png", "390,844", &index),
        ("dashboard-project.png", "1280,1800", &page),
        ("dashboard-project-phone.png", "390,1600", &page),
    ] {
        let shot = target.join(name);
        std::fs::remove_file(&shot).ok();
        chromium(
            &[
                &format!("--screenshot={}", shot.display()),
                &format!("--window-size={size}"),
                "--hide-scrollbars",
            ],
            &url(path),
        );
        let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}");
    }
}

#[test]
fn dashboard_of_an_unreadable_store_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.sqlite3");
    std::fs::write(&store, b"not a database").unwrap();
    let o = crate::support::command(&store)
        .args(["dashboard", "--config"])
        .arg(example_config())
        .arg("--out")
        .arg(dir.path().join("site"))
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("store.sqlite3"), "{err}");
    assert!(!dir.path().join("site/index.html").exists());
}

/// Feed text is untrusted: a summary with markup and a `javascript:` reference reach the
/// page as text, and the page runs no script in the browser.
#[test]
fn hostile_feed_text_is_escaped_in_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let record =
        crate::support::shared().join("feeds-reference/ghsa-osv/PyPI/GHSA-2g68-c3qc-8985.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
    v["summary"] = "<script>document.title='owned'</script><img src=x onerror=alert(1)>".into();
    v["references"] = serde_json::json!([{"type": "WEB", "url": "javascript:alert(1)"}]);
    std::fs::create_dir_all(d.join("osv")).unwrap();
    std::fs::write(d.join("osv/GHSA-2g68-c3qc-8985.json"), v.to_string()).unwrap();
    std::fs::write(d.join("requirements.txt"), "Werkzeug==3.0.1\n").unwrap();
    let cfg = d.join("depwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "sources = [\"osv-dir:{}\"]\n[[project]]\nname = \"app\"\npath = \"requirements.txt\"\n",
            d.join("osv").display()
        ),
    )
    .unwrap();
    let store = d.join("store.sqlite3");
    let depwatch = |args: &[&str]| {
        let o = crate::support::command(&store)
            .args(args)
            .arg("--config")
            .arg(&cfg)
            .env("DEPWATCH_NOW", "2026-12-01T09:00:00Z")
            .output()
            .expect("run depwatch");
        assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    };
    let out = d.join("out");
    let site = d.join("site");
    depwatch(&[
        "run",
        "--offline",
        "--no-deliver",
        "--out",
        out.to_str().unwrap(),
    ]);
    depwatch(&[
        "dashboard",
        "--drafts",
        out.to_str().unwrap(),
        "--out",
        site.to_str().unwrap(),
    ]);
    let page = site.join("projects/app.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(!html.contains("href=\"javascript:"), "{html}");
    let dom = chromium(&["--dump-dom"], &url(&page));
    assert!(
        dom.contains("<title>app · depwatch</title>"),
        "no script ran: {dom}"
    );
    assert!(!dom.contains("<img"), "{dom}");
}

/// Every file under `dir`, by path relative to it, with its bytes.
fn files(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// The same dashboard from PostgreSQL: the seeded SQLite store copied with `db copy`, then one
/// more cycle on each store (so PostgreSQL writes its own history row and summary, in the
/// run's transaction), gives byte-identical pages; and without the summaries too.
#[test]
fn a_postgres_store_gives_the_same_pages_as_sqlite_after_db_copy_and_a_cycle() {
    let server = crate::postgres::cluster::server();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let site = seeded_site(d);
    let sqlite = d.join("store.sqlite3");
    // The overview reads each project's summary as its last run wrote it; without them (a
    // store whose memory was written otherwise) it reads the memory: the same pages.
    let bare = d.join("bare.sqlite3");
    std::fs::copy(&sqlite, &bare).unwrap();
    let n = rusqlite::Connection::open(&bare)
        .unwrap()
        .execute("DELETE FROM project_summary", [])
        .unwrap();
    assert!(n > 0, "the runs wrote summaries");
    write_site(&bare, &d.join("out"), &d.join("site-bare"), SHOWN);
    assert_eq!(files(&site), files(&d.join("site-bare")));
    let url = server.fresh_database();
    let pg = Path::new(&url);
    let o = crate::support::command(&sqlite)
        .args(["db", "copy", "--from"])
        .arg(&sqlite)
        .arg("--to")
        .arg(&url)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let copied = String::from_utf8_lossy(&o.stdout);
    assert!(!copied.contains(" 0 history rows"), "{copied}");
    // Copied history, before any cycle on PostgreSQL: the same pages.
    write_site(&sqlite, &d.join("out"), &d.join("site-a"), SHOWN);
    write_site(pg, &d.join("out"), &d.join("site-b"), SHOWN);
    let (a, b) = (files(&d.join("site-a")), files(&d.join("site-b")));
    assert!(a.len() > 3, "{:?}", a.keys());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(b[path] == *bytes, "{} differs", path.display());
    }

    // A cycle the next day on each store, each with its own drafts (the drafts are `run`'s
    // output, not the dashboard's: the pages are compared, and the drafts they link).
    let next = "2026-12-07T09:00:00Z";
    let shown = "2026-12-07T10:00:00Z";
    run_at(&sqlite, &d.join("out"), next);
    run_at(pg, &d.join("out-pg"), next);
    write_site(&sqlite, &d.join("out"), &d.join("site-c"), shown);
    write_site(pg, &d.join("out-pg"), &d.join("site-d"), shown);
    let (c, e) = (files(&d.join("site-c")), files(&d.join("site-d")));
    assert_eq!(c.keys().collect::<Vec<_>>(), e.keys().collect::<Vec<_>>());
    for (path, bytes) in c
        .iter()
        .filter(|(p, _)| p.extension() == Some("html".as_ref()))
    {
        assert!(e[path] == *bytes, "{} differs", path.display());
    }
    // The new day's bar is there: PostgreSQL wrote its history row.
    let index = String::from_utf8_lossy(&e[Path::new("index.html")]).into_owned();
    assert!(
        index.contains("<title>2026-12-07: 2 medium</title>"),
        "{index}"
    );
    for store in [sqlite.as_path(), pg] {
        let o = crate::support::command(store)
            .args(["db", "check"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    }
}
