//! `depwatch scan`.

use super::{ConfigArg, FailScopeArg, Outcome, SourceArgs, StoreArg};
use anyhow::Context;
use clap::ValueEnum;
use depwatch::feeds::defs::{self, FeedKind};
use depwatch::render::{self, Format};
use depwatch::scan::{self, Backend, ScanOptions};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  nothing at or above --fail-on, and no warning of a --deny kind
  1  a finding at or above --fail-on (default: any vulnerability), a warning of a --deny kind,
     or a finding --fail-on-kev / --fail-on-epss name (with --fail-scope runtime: of a runtime
     dependency only)
  2  usage or input error: a bad flag, an unreadable source or store, a broken ignore file, a
     path with no manifest; or a manifest that does not parse (the other manifests are still
     scanned and reported)";

#[derive(Clone, Copy, ValueEnum)]
pub enum DenyArg {
    /// Every warning.
    Warnings,
    /// Unmaintained crates.
    Unmaintained,
    /// Unsound crates.
    Unsound,
    /// Yanked versions.
    Yanked,
    /// Notices.
    Notice,
}

impl From<DenyArg> for scan::Deny {
    fn from(d: DenyArg) -> Self {
        match d {
            DenyArg::Warnings => scan::Deny::Warnings,
            DenyArg::Unmaintained => scan::Deny::Unmaintained,
            DenyArg::Unsound => scan::Deny::Unsound,
            DenyArg::Yanked => scan::Deny::Yanked,
            DenyArg::Notice => scan::Deny::Notice,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Sarif,
    Markdown,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Markdown => Format::Markdown,
        }
    }
}

#[derive(clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan (default: the current directory).
    paths: Vec<PathBuf>,
    #[command(flatten)]
    sources: SourceArgs,
    #[command(flatten)]
    store: StoreArg,
    /// Ask the OSV API instead of the store (no synced store needed; needs the network).
    #[arg(long)]
    online: bool,
    /// OSV API base URL for --online (default: the osv-api feed's, https://api.osv.dev).
    #[arg(long, value_name = "URL")]
    osv_url: Option<String>,
    /// Store data older than this many hours is stale (a notice, or an error with --require-fresh).
    #[arg(long, value_name = "HOURS", default_value_t = scan::DEFAULT_MAX_AGE_HOURS)]
    max_age_hours: i64,
    /// Fail (exit 2) when the store's data is stale.
    #[arg(long)]
    require_fresh: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: FormatArg,
    /// Exit 1 when a finding is at or above this level (critical, high, medium, low, unknown = any).
    #[arg(long, value_name = "LEVEL")]
    fail_on: Option<String>,
    /// Exit 1 when a finding is in the CISA KEV catalog (known exploited), whatever
    /// --fail-on says. A CVE named only as `related` does not count.
    #[arg(long)]
    fail_on_kev: bool,
    /// Exit 1 when a finding's EPSS score is at or above SCORE (0 to 1, e.g. 0.1), whatever
    /// --fail-on says.
    #[arg(long, value_name = "SCORE", value_parser = parse_score)]
    fail_on_epss: Option<f64>,
    /// Ignore a vulnerability by any of its ids; repeatable. Ignores in `.cargo/audit.toml`
    /// and `osv-scanner.toml` next to the manifests are honoured too.
    #[arg(long = "ignore", value_name = "ID")]
    ignores: Vec<String>,
    /// Exit 1 on warnings of this kind too, as cargo-audit's --deny; repeatable.
    #[arg(long = "deny", value_enum, value_name = "KIND")]
    deny: Vec<DenyArg>,
    /// Which findings decide the exit code; the others are still reported with their scope.
    #[arg(long, value_enum, value_name = "SCOPE", default_value = "all")]
    fail_scope: FailScopeArg,
    /// A Python version the project runs on (`3.11`: any 3.11.x; `3.11.4`); repeatable. With
    /// any of --python / --platform / --implementation, dependencies whose environment markers
    /// exclude every declared combination are listed as not applicable, never counted or
    /// failed on. Undeclared parts stay open: any value may hold.
    #[arg(long = "python", value_name = "VERSION")]
    python: Vec<String>,
    /// A platform the project runs on: linux, windows, darwin (or macos); repeatable.
    #[arg(long = "platform", value_name = "PLATFORM")]
    platforms: Vec<String>,
    /// A Python implementation the project runs on: cpython or pypy; repeatable.
    #[arg(long = "implementation", value_name = "NAME")]
    implementations: Vec<String>,
    #[command(flatten)]
    config: ConfigArg,
    /// Resolve Cargo workspaces with `cargo metadata` to tell normal / build / dev
    /// dependencies apart. Runs the repository's cargo configuration: trusted checkouts only.
    #[arg(long)]
    trusted_workspace: bool,
    /// Follow `-r` / `-c` includes that resolve outside the scanned paths (after symlinks).
    /// Off, such an include is an error of its manifest: a checkout's `-r /etc/passwd` would
    /// print a host file's lines in the report. Trusted checkouts only.
    #[arg(long)]
    allow_outside_includes: bool,
    /// An OpenVEX 0.2.0 document of the project (repeatable); a `.openvex.json` next to the
    /// manifests is read without it. `not_affected` statements hide their findings.
    #[arg(long = "vex", value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[arg(long = "type", value_name = "FORMAT", value_parser = parse_kind, help = format!(
        "Read the files named in PATHS as this format, whatever their names ({}). Without it, a \
         file with another name is recognised by its content",
        depwatch::manifests::registry::names()
    ))]
    kind: Option<depwatch::manifests::ManifestKind>,
}

pub(super) fn parse_score(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a score from 0 to 1 (e.g. 0.1)")),
    }
}

fn parse_kind(s: &str) -> Result<depwatch::manifests::ManifestKind, String> {
    s.parse()
}

/// The scan runs on the binary's runtime: the online backend's queries are awaited, the rest
/// goes to the blocking pool inside [`scan::run`].
pub async fn run(args: ScanArgs) -> anyhow::Result<Outcome> {
    let config = args.config.load()?;
    let fail_on = super::fail_on(&args.fail_on, &config)?;
    // `--source` reads snapshots directly; otherwise the synced store answers (the config's
    // `sources` are what `depwatch sync` brings into it).
    let sources = args.sources.specs()?;
    let signals = args.sources.signals();
    if !signals.is_empty() && (sources.is_empty() || args.online) {
        anyhow::bail!(
            "--source kev:PATH / epss:PATH add exploit data to the advisory sources given with \
             --source; for a store scan, bring them into the store first (depwatch sync \
             --source kev:PATH)"
        );
    }
    let backend = if args.online {
        if !sources.is_empty() {
            anyhow::bail!("--online and --source exclude each other");
        }
        let url = match &args.osv_url {
            Some(u) => u.clone(),
            None => defs::of_kind(
                &config.feed_defs().map_err(anyhow::Error::msg)?,
                FeedKind::OsvApi,
            )
            .map(|d| d.base_url.clone())
            .context("no OSV API feed defined (feeds/osv-api.toml); pass --osv-url")?,
        };
        Backend::Online { url }
    } else if sources.is_empty() {
        args.store.backend(args.max_age_hours, args.require_fresh)?
    } else {
        Backend::Sources(sources)
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let ignores = scan::ignores_from(&config, &args.ignores);
    let targets =
        depwatch::environment::Targets::new(&args.python, &args.platforms, &args.implementations)
            .map_err(anyhow::Error::msg)?;
    let opts = ScanOptions {
        targets,
        paths,
        backend,
        today: scan::today_for(&ignores),
        ignores,
        trusted_workspace: args.trusted_workspace,
        allow_outside_includes: args.allow_outside_includes,
        vex: args.vex.clone(),
        kind: args.kind,
        require_manifest: true,
    };
    // A local scan runs right here: the CLI's current-thread runtime has nothing else to do,
    // and a blocking-pool thread would cost a fresh malloc arena. The online one is awaited.
    let report = match opts.backend {
        scan::Backend::Online { .. } => scan::run(&opts).await?,
        // A PostgreSQL store's connection runs on this runtime: the scan waits on a blocking
        // thread while this one drives it. (Exploit-data files only go with `--source`.)
        scan::Backend::Store {
            path: depwatch::store::Location::Postgres(_),
            ..
        } => scan::run(&opts).await?,
        _ => scan::run_offline_with(&opts, &signals)?,
    };
    let format = Format::from(args.format);
    match &args.output {
        Some(path) => {
            let text = render::render(&report, format, false);
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let color = matches!(format, Format::Table)
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            let text = render::render(&report, format, color);
            let mut out = std::io::stdout().lock();
            // A closed pipe (`depwatch scan | head`) is not an error.
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e.into());
            }
        }
    }
    for m in &report.manifests {
        if let Some(e) = &m.error {
            errln!("error: {e}");
        }
    }
    let fail_scope = scan::FailScope::from(args.fail_scope);
    let mut outcome = Outcome::from(scan::verdict_in(&report, fail_on, fail_scope));
    let deny: Vec<scan::Deny> = args.deny.iter().map(|d| scan::Deny::from(*d)).collect();
    let denied = scan::denied_in(&report, &deny, fail_scope);
    if !denied.is_empty() {
        let ids: Vec<String> = denied
            .iter()
            .map(|w| format!("{} {} ({})", w.package.name, w.id, w.kind.as_str()))
            .collect();
        errln!("denied warnings (--deny): {}", ids.join(", "));
        outcome = outcome.max(Outcome::Failing);
    }
    let exploited = scan::exploited(
        &report.findings,
        args.fail_on_kev,
        args.fail_on_epss,
        fail_scope,
    );
    if !exploited.is_empty() {
        let ids: Vec<String> = exploited
            .iter()
            .map(|(f, why)| format!("{} {} ({why})", f.package.name, f.id))
            .collect();
        errln!("exploited or likely exploited: {}", ids.join(", "));
        outcome = outcome.max(Outcome::Failing);
    }
    Ok(outcome)
}
