//! The library's async entry points run on the caller's tokio runtime, as an async server
//! would call them: from inside a task, on a current-thread and a multi-thread runtime. A
//! library function that built its own runtime (or blocked on one) panics here.

use crate::support::loopback::slack_receiver;
use crate::support::{manifest, shared};
use depwatch::config::{Config, SecretSource};
use depwatch::run::{RunOptions, RunOutcome};
use depwatch::scan::{Backend, ScanOptions};
use depwatch::secret::Secret;

fn scan_options(backend: Backend) -> ScanOptions {
    ScanOptions {
        paths: vec![manifest("home-assistant/requirements.txt")],
        backend,
        ignores: Vec::new(),
        trusted_workspace: false,
        allow_outside_includes: false,
        vex: Vec::new(),
        today: jiff::civil::date(2026, 12, 1),
        kind: None,
        require_manifest: true,
        targets: Default::default(),
    }
}

/// home-assistant's aiohttp pin is hit by PYSEC-2023-246 (among 22 PyPA findings).
fn has_aiohttp_finding(report: &depwatch::report::Report) -> bool {
    report
        .findings
        .iter()
        .any(|f| f.package.name == "aiohttp" && f.id == "PYSEC-2023-246")
}

#[tokio::test]
async fn online_scan_awaits_on_a_current_thread_runtime() {
    let api = crate::support::osv_records::osv_api();
    let report = depwatch::scan::run(&scan_options(Backend::Online {
        url: api.url.clone(),
    }))
    .await
    .expect("online scan");
    assert!(has_aiohttp_finding(&report), "{:?}", report.findings);
    assert!(
        api.requests().iter().any(|r| r.path() == "/v1/querybatch"),
        "the OSV API was not asked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_scan_awaits_on_a_multi_thread_runtime() {
    let pypa = shared().join("corpus/advisories/pypa/vulns");
    let report = depwatch::scan::run(&scan_options(Backend::Sources(vec![
        depwatch::feeds::SourceSpec::local("osv-dir", pypa).unwrap(),
    ])))
    .await
    .expect("scan");
    assert!(has_aiohttp_finding(&report), "{:?}", report.findings);
}

/// A whole monitor cycle (local sync, scan, drafts, Slack delivery over loopback HTTP) awaited
/// from a task: the delivery's request runs on the caller's runtime.
#[tokio::test]
async fn run_cycle_awaits_and_delivers_on_the_callers_runtime() {
    let (slack, accepted) = slack_receiver("/hook", 0);
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("depwatch.toml");
    let text = format!(
        r#"
sources = ["osv-dir:{ghsa}"]

[[project]]
name = "emby-watchparty"
path = "{emby}"

[notify.slack]
webhook-env = "DEPWATCH_TEST_RUNTIME_UNSET"
"#,
        ghsa = shared().join("feeds-reference/ghsa-osv").display(),
        emby = manifest("emby-watchparty/requirements.txt").display(),
    );
    std::fs::write(&config_path, text).unwrap();
    let mut config = Config::load(&config_path).unwrap();
    // Inline, so the test sets no process-wide variable.
    config.notify.slack.as_mut().unwrap().webhook =
        SecretSource::Inline(Secret::new(format!("{}/hook", slack.url)));
    let opts = RunOptions {
        config,
        store: dir.path().join("store.sqlite3").into(),
        out_dir: dir.path().join("out"),
        sync_local: true,
        sync_remote: false,
        deliver: true,
        now: "2026-12-01T09:00:00Z".parse().unwrap(),
        http: Default::default(),
    };
    let report = depwatch::run::cycle(opts).await.expect("run cycle");
    assert_eq!(report.outcome(), RunOutcome::Ok, "{report:?}");
    assert_eq!(report.projects[0].open, 1, "{report:?}");
    assert_eq!(report.delivery.sent, 1, "{report:?}");
    assert_eq!(accepted.lock().unwrap().len(), 1);
}

/// The binary owns the one runtime: no library source builds one (a library runtime panics
/// when an async caller blocks on it).
#[test]
fn no_library_source_builds_a_runtime() {
    fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                // `src/cli/` is the binary's.
                if path.file_name().is_some_and(|n| n != "cli") {
                    walk(&path, found);
                }
            } else if path.extension().is_some_and(|x| x == "rs")
                && path.file_name().is_some_and(|n| n != "main.rs")
            {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, line) in text.lines().enumerate() {
                    if ["runtime::Builder", "Runtime::new", "tokio::main"]
                        .iter()
                        .any(|p| line.contains(p))
                    {
                        found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(
        found.is_empty(),
        "library code builds a runtime:\n{}",
        found.join("\n")
    );
}
