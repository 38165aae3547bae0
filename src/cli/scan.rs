//! `depwatch scan`.

use super::{ConfigArg, Outcome, SourceArgs, StoreArg};
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
  1  a finding at or above --fail-on (default: any vulnerability), or a warning of a --deny kind
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
    /// Ignore a vulnerability by any of its ids; repeatable. Ignores in `.cargo/audit.toml`
    /// and `osv-scanner.toml` next to the manifests are honoured too.
    #[arg(long = "ignore", value_name = "ID")]
    ignores: Vec<String>,
    /// Exit 1 on warnings of this kind too, as cargo-audit's --deny; repeatable.
    #[arg(long = "deny", value_enum, value_name = "KIND")]
    deny: Vec<DenyArg>,
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
        Backend::Store {
            path: args.store.location()?,
            max_age: jiff::SignedDuration::try_from_hours(args.max_age_hours).ok_or_else(|| {
                anyhow::anyhow!("--max-age-hours {} is too large", args.max_age_hours)
            })?,
            require_fresh: args.require_fresh,
        }
    } else {
        Backend::Sources(sources)
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let ignores = scan::ignores_from(&config, &args.ignores);
    let opts = ScanOptions {
        paths,
        backend,
        today: scan::today_for(&ignores),
        ignores,
        trusted_workspace: args.trusted_workspace,
        allow_outside_includes: args.allow_outside_includes,
        kind: args.kind,
        require_manifest: true,
    };
    // A local scan runs right here: the CLI's current-thread runtime has nothing else to do,
    // and a blocking-pool thread would cost a fresh malloc arena. The online one is awaited.
    let report = match opts.backend {
        scan::Backend::Online { .. } => scan::run(&opts).await?,
        // A PostgreSQL store's connection runs on this runtime: the scan waits on a blocking
        // thread while this one drives it.
        scan::Backend::Store {
            path: depwatch::store::Location::Postgres(_),
            ..
        } => scan::run(&opts).await?,
        _ => scan::run_offline(&opts)?,
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
    let mut outcome = Outcome::from(scan::verdict(&report, fail_on));
    let deny: Vec<scan::Deny> = args.deny.iter().map(|d| scan::Deny::from(*d)).collect();
    let denied = scan::denied(&report, &deny);
    if !denied.is_empty() {
        let ids: Vec<String> = denied
            .iter()
            .map(|w| format!("{} {} ({})", w.package.name, w.id, w.kind.as_str()))
            .collect();
        errln!("denied warnings (--deny): {}", ids.join(", "));
        outcome = outcome.max(Outcome::Failing);
    }
    Ok(outcome)
}
