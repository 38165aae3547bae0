//! `depwatch run`.

use super::{FailScopeArg, Outcome, RequiredConfigArg, StoreArg};
use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  the cycle completed (with --ci: and no open finding at or above --fail-on)
  1  with --ci only: an open finding at or above --fail-on, an open malware finding, or an
     open finding --fail-on-kev / --fail-on-epss name (with --fail-scope runtime: of a
     runtime dependency; malware in any scope)
  2  a source, project or delivery failed, the config is invalid, or another cycle held the
     store longer than --lock-wait";

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    config: RequiredConfigArg,
    #[command(flatten)]
    store: StoreArg,
    /// Where drafts and release notes go (default: the config's `output`, else ./depwatch-out).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Sync only the config's local sources, not the remote feeds.
    #[arg(long)]
    offline: bool,
    /// Do not sync at all: use the store as it is.
    #[arg(long, conflicts_with = "offline")]
    no_sync: bool,
    /// Queue notifications without sending them.
    #[arg(long)]
    no_deliver: bool,
    /// CI mode: a summary for the job log (and $GITHUB_STEP_SUMMARY), exit 1 when an open
    /// finding is at or above --fail-on, 2 on errors.
    #[arg(long)]
    ci: bool,
    /// Lowest severity that fails a --ci run (default: the config's fail-on, else any).
    #[arg(long, value_name = "LEVEL")]
    fail_on: Option<String>,
    /// Which open findings fail a --ci run: all, or runtime (not dev or build dependencies,
    /// extras or groups). Every finding is still tracked, drafted and alerted on.
    #[arg(
        long,
        value_enum,
        value_name = "SCOPE",
        default_value = "all",
        requires = "ci"
    )]
    fail_scope: FailScopeArg,
    /// With --ci: exit 1 when an open finding is in the CISA KEV catalog (known exploited),
    /// whatever --fail-on says. A CVE named only as `related` does not count.
    #[arg(long, requires = "ci")]
    fail_on_kev: bool,
    /// With --ci: exit 1 when an open finding's EPSS score is at or above SCORE (0 to 1, e.g.
    /// 0.1), whatever --fail-on says.
    #[arg(long, value_name = "SCORE", value_parser = super::scan::parse_score, requires = "ci")]
    fail_on_epss: Option<f64>,
    /// Print the run's report as JSON.
    #[arg(long)]
    json: bool,
    /// How long to wait for another cycle on the same store (a watcher's) before exiting 2.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    lock_wait: u64,
    /// Rescan every project, even those whose inputs and advisories did not change since
    /// their last scan (as the config's `full-rescan = true`).
    #[arg(long)]
    full: bool,
    /// Print how long the cycle's phases took to stderr (one line: `timings: {JSON}`, in
    /// milliseconds, as measured by this process).
    #[arg(long)]
    timings: bool,
}

/// Blocks (the cycle lock, SQLite, scans); the network calls run on `rt`.
pub fn run(args: RunArgs, rt: &tokio::runtime::Handle) -> anyhow::Result<Outcome> {
    let mut config = args.config.load()?;
    config.full_rescan |= args.full;
    let out_dir = super::out_dir(&args.out, &config);
    let fail_on = super::fail_on(&args.fail_on, &config)?;
    let opts = depwatch::run::RunOptions {
        config,
        store: args.store.location()?,
        out_dir: out_dir.clone(),
        sync_local: !args.no_sync,
        sync_remote: !args.no_sync && !args.offline,
        deliver: !args.no_deliver,
        now: super::now()?,
        http: depwatch::feeds::http::HttpSettings {
            progress: !args.ci && !args.json && std::io::stderr().is_terminal(),
            ..Default::default()
        },
    };
    // One cycle at a time per store, also against a watcher: wait for it, then give up clearly.
    let _lock = depwatch::watch::CycleLock::acquire(
        &opts.store,
        std::time::Duration::from_secs(args.lock_wait),
    )?;
    let report = depwatch::run::run(&opts, rt)?;
    if args.timings {
        errln!("timings: {}", serde_json::to_string(&report.timings)?);
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!("{}", depwatch::run::summary_text(&report, &out_dir));
    }
    for p in &report.projects {
        if let Some(e) = &p.error {
            errln!("error: project {}: {e}", p.name);
        }
    }
    for e in &report.delivery.errors {
        errln!("error: {e}");
    }
    let outcome = Outcome::from(report.outcome());
    if !args.ci {
        return Ok(outcome);
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        let mut md = depwatch::run::summary_markdown(&report, fail_on, args.fail_scope.into());
        if matches!(args.fail_scope, FailScopeArg::Runtime) {
            md.push_str(
                "\nOnly open findings of runtime dependencies fail the run (--fail-scope runtime).\n",
            );
        }
        let shown = PathBuf::from(&path);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("GITHUB_STEP_SUMMARY {}", shown.display()))?;
        f.write_all(md.as_bytes())?;
    }
    if outcome != Outcome::Success {
        return Ok(outcome);
    }
    let exploited = report.exploited(args.fail_on_kev, args.fail_on_epss, args.fail_scope.into());
    if !exploited.is_empty() {
        errln!("exploited or likely exploited: {}", exploited.join(", "));
    }
    Ok(
        if report.fails(fail_on, args.fail_scope.into()) || !exploited.is_empty() {
            Outcome::Failing
        } else {
            Outcome::Success
        },
    )
}
