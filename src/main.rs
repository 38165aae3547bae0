//! depwatch command line: parses arguments, calls the library, prints, picks the exit code.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use depwatch::config::Config;
use depwatch::feeds::SourceSpec;
use depwatch::render::{self, Format};
use depwatch::scan::{self, Backend, ScanOptions};
use depwatch::severity::Level;
use depwatch::store::Store;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Write to standard output. A closed pipe (`depwatch ... | head`, a CI log reader gone) is not
/// an error: the reader has what it wanted, and the command's work and exit code stand.
fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// `print!` through [`emit`] (`print!` panics on a closed pipe); other write errors return.
macro_rules! out {
    ($($t:tt)*) => { emit(&format!($($t)*))? };
}

/// `println!` through [`emit`].
macro_rules! outln {
    () => { emit("\n")? };
    ($($t:tt)*) => { emit(&format!("{}\n", format_args!($($t)*)))? };
}

#[derive(Parser)]
#[command(
    name = "depwatch",
    version,
    about = "Dependency and supply-chain advisory monitor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan manifests and lockfiles against the synced store or advisory sources.
    #[command(after_help = SCAN_EXIT_CODES)]
    Scan(ScanArgs),
    /// Bring the local advisory store up to date from each source.
    Sync(SyncArgs),
    /// Inspect the local advisory store.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// The monitor's job: sync, scan every configured project, write advisory drafts and
    /// release notes, and notify each project's channels of what is new.
    #[command(after_help = RUN_EXIT_CODES)]
    Run(RunArgs),
    /// File the open findings' advisory drafts on GitHub (repository security advisories, draft
    /// state; re-runs update the same drafts) for projects with [project.github].
    Publish(PublishArgs),
    /// The security section of release notes between two git revisions of a repository.
    Notes(NotesArgs),
    /// Disclosure policies read from the projects' SECURITY.md files.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Run cycles on cron schedules until SIGTERM / SIGINT (one cycle at a time per store).
    Watch(WatchArgs),
    /// The last cycle, next fire times, source freshness, and open findings, overdue first.
    Status(StatusArgs),
}

const SCAN_EXIT_CODES: &str = "\
Exit codes:
  0  nothing at or above --fail-on, and no warning of a --deny kind
  1  a finding at or above --fail-on (default: any vulnerability), or a warning of a --deny kind
  2  usage or input error: a bad flag, an unreadable source or store, a broken ignore file, a
     path with no manifest; or a manifest that does not parse (the other manifests are still
     scanned and reported)";

const RUN_EXIT_CODES: &str = "\
Exit codes:
  0  the cycle completed (with --ci: and no open finding at or above --fail-on)
  1  with --ci only: an open finding at or above --fail-on
  2  a source, project or delivery failed, the config is invalid, or another cycle held the
     store longer than --lock-wait";

#[derive(Clone, Copy, ValueEnum)]
enum DenyArg {
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

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
struct WatchArgs {
    /// Configuration file (default: ./depwatch.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
    /// Where drafts and release notes go (default: the config's `output`, else ./depwatch-out).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// When cycles run: a 5-field cron expression as GitHub Actions `schedule:` takes it
    /// (minute hour day-of-month month day-of-week; Sunday = 0 or 7). Default: the config's
    /// [watch] schedule.
    #[arg(long, value_name = "CRON")]
    schedule: Option<String>,
    /// A separate schedule for feed sync; cycles on --schedule then only scan and publish.
    /// Default: the config's [watch] sync-schedule.
    #[arg(long, value_name = "CRON")]
    sync_schedule: Option<String>,
    /// Time zone of the schedules (IANA name). Default: [watch] timezone, else the config's
    /// timezone, else UTC.
    #[arg(long, value_name = "TZ")]
    timezone: Option<String>,
    /// Delay each fire by a random 0..SECONDS (default: [watch] jitter, else 0).
    #[arg(long, value_name = "SECONDS")]
    jitter: Option<u64>,
    /// Sync only the config's local sources, not the remote feeds.
    #[arg(long)]
    offline: bool,
    /// Queue notifications without sending them.
    #[arg(long)]
    no_deliver: bool,
    /// How long a cycle waits for another process's cycle on the same store before skipping.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    lock_wait: u64,
    /// After SIGTERM / SIGINT, how long the current cycle may take to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    grace: u64,
    /// Test aid only: fire every this many milliseconds instead of on the cron schedule.
    #[arg(long, value_name = "MS", hide = true)]
    test_interval_ms: Option<u64>,
    /// Log format on standard error.
    #[arg(long, value_enum, default_value = "human")]
    log_format: LogFormat,
}

#[derive(clap::Args)]
struct StatusArgs {
    /// Configuration file (default: ./depwatch.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
    /// Show this cycle schedule's next fire time (default: the config's [watch] schedule).
    #[arg(long, value_name = "CRON")]
    schedule: Option<String>,
    /// Show this sync schedule's next fire time (default: [watch] sync-schedule).
    #[arg(long, value_name = "CRON")]
    sync_schedule: Option<String>,
    /// Time zone of the schedules (default: [watch] timezone, else the config's, else UTC).
    #[arg(long, value_name = "TZ")]
    timezone: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Configuration file (default: ./depwatch.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
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
    /// Print the run's report as JSON.
    #[arg(long)]
    json: bool,
    /// How long to wait for another cycle on the same store (a watcher's) before exiting 2.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    lock_wait: u64,
}

#[derive(clap::Args)]
struct PublishArgs {
    /// Configuration file (default: ./depwatch.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
    /// Only this project.
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
}

#[derive(clap::Args)]
struct NotesArgs {
    /// The git repository.
    #[arg(long, value_name = "PATH", default_value = ".")]
    repo: PathBuf,
    /// The older revision (tag, branch, commit).
    #[arg(long, value_name = "REV")]
    from: String,
    /// The newer revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    to: String,
    /// Read this advisory source directly instead of the store; repeatable.
    #[arg(long = "source", value_name = "KIND:LOCATION")]
    sources: Vec<String>,
    #[command(flatten)]
    store: StoreArg,
    /// Configuration file (templates, ignores; default: ./depwatch.toml when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write the markdown here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print what was understood from a project's SECURITY.md, figure by figure, with the line
    /// each came from.
    Show {
        /// The project's name in depwatch.toml (or a label when --file is given).
        project: Option<String>,
        /// Read this SECURITY.md directly instead of the project's configured one.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Configuration file (default: ./depwatch.toml; with --file, read only when given,
        /// for its timezone).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// `text` for people; `json` for machines: the same figures, each with its origin
        /// (SECURITY.md file and line, depwatch.toml, or default). One object for one project,
        /// an array when no project is named.
        #[arg(long, value_enum, default_value = "text")]
        format: PolicyFormat,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PolicyFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct StoreArg {
    /// The advisory store (default: $DEPWATCH_STORE, else the per-user data directory).
    #[arg(long, value_name = "PATH", env = "DEPWATCH_STORE")]
    store: Option<PathBuf>,
}

impl StoreArg {
    fn path(&self) -> PathBuf {
        self.store
            .clone()
            .unwrap_or_else(depwatch::store::Store::default_path)
    }
}

#[derive(clap::Args)]
struct SyncArgs {
    // Help text from the registry, so a new source kind is listed without an edit here.
    #[arg(long = "source", value_name = "KIND:LOCATION", help = format!(
        "Sync only this local source, KIND:LOCATION ({}); repeatable. Without it: every enabled \
         feed (feeds/*.toml, overridable in depwatch.toml) and the config's `sources`",
        depwatch::feeds::registry::local_forms()
    ))]
    sources: Vec<String>,
    /// Sync only this feed (by name: osv-pypi, osv-crates, ghsa, rustsec); repeatable.
    #[arg(long = "feed", value_name = "NAME")]
    feeds: Vec<String>,
    /// Refresh the crates.io index (yanked flags) for the crates locked in these Cargo.lock
    /// files or directories; repeatable.
    #[arg(long = "yanked-for", value_name = "PATH")]
    yanked_for: Vec<PathBuf>,
    /// Configuration file (default: ./depwatch.toml when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Record counts, per-source freshness and size on disk.
    Stats {
        #[command(flatten)]
        store: StoreArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Integrity check: SQLite's, the store's own invariants, and the index tables against the
    /// stored records. Exit 0 sound, 1 problems found (each listed), 2 the store could not be
    /// read (missing or not a store).
    Check {
        #[command(flatten)]
        store: StoreArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Table,
    Json,
    Sarif,
    Markdown,
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Files or directories to scan (default: the current directory).
    paths: Vec<PathBuf>,
    #[arg(long = "source", value_name = "KIND:LOCATION", help = format!(
        "Read this advisory source directly instead of the store, KIND:LOCATION ({}); repeatable",
        depwatch::feeds::registry::local_forms()
    ))]
    sources: Vec<String>,
    #[command(flatten)]
    store: StoreArg,
    /// Ask the OSV API instead of the store (no synced store needed; needs the network).
    #[arg(long)]
    online: bool,
    /// OSV API base URL for --online (default: the osv-api feed's, https://api.osv.dev).
    #[arg(long, value_name = "URL")]
    osv_url: Option<String>,
    /// Store data older than this many hours is stale (a notice, or an error with --require-fresh).
    #[arg(long, value_name = "HOURS", default_value_t = 48)]
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
    /// Configuration file (default: ./depwatch.toml when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Resolve Cargo workspaces with `cargo metadata` to tell normal / build / dev
    /// dependencies apart. Runs the repository's cargo configuration: trusted checkouts only.
    #[arg(long)]
    trusted_workspace: bool,
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

fn load_config(path: &Option<PathBuf>) -> anyhow::Result<Config> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => {
            let default = PathBuf::from("depwatch.toml");
            if default.is_file() {
                Config::load(&default)?
            } else {
                Config::default()
            }
        }
    })
}

fn parse_sources(texts: &[String]) -> anyhow::Result<Vec<SourceSpec>> {
    Ok(texts
        .iter()
        .map(|s| s.parse::<SourceSpec>())
        .collect::<Result<Vec<_>, _>>()?)
}

fn print_sync(r: &depwatch::sync::SourceSync) -> anyhow::Result<bool> {
    match &r.result {
        Ok(o) if o.unchanged => outln!("{}: unchanged", r.source),
        Ok(o) => outln!(
            "{}: {} written, {} removed, {} broken records skipped",
            r.source,
            o.written,
            o.removed,
            r.skipped
        ),
        Err(e) => {
            eprintln!("error: {}: {e} (previous data kept)", r.source);
            return Ok(false);
        }
    }
    Ok(true)
}

fn sync(args: SyncArgs) -> anyhow::Result<u8> {
    let config = load_config(&args.config)?;
    let path = args.store.path();
    let mut store = Store::open(&path)?;
    let mut ok = true;
    let only_local = !args.sources.is_empty();
    let local = parse_sources(if only_local {
        &args.sources
    } else {
        &config.sources
    })?;
    for spec in &local {
        ok &= print_sync(&depwatch::sync::sync_local(&mut store, spec)?)?;
    }
    if !only_local {
        let mut defs = config.feed_defs().map_err(anyhow::Error::msg)?;
        if !args.feeds.is_empty() {
            for name in &args.feeds {
                if !defs.iter().any(|d| &d.name == name) {
                    anyhow::bail!("no feed named {name:?}");
                }
            }
            defs.retain(|d| args.feeds.contains(&d.name));
            for d in &mut defs {
                d.enabled = true;
            }
        }
        let settings = depwatch::feeds::http::HttpSettings {
            progress: true,
            ..Default::default()
        };
        for r in depwatch::sync::sync_feeds(&mut store, &defs, settings.clone())? {
            ok &= print_sync(&r)?;
        }
        if !args.yanked_for.is_empty() {
            let index = defs
                .iter()
                .chain(config.feed_defs().map_err(anyhow::Error::msg)?.iter())
                .find(|d| d.name == "crates-index")
                .map(|d| d.base_url.clone())
                .unwrap_or_default();
            let r = depwatch::sync::refresh_yanked(&mut store, &index, &args.yanked_for, settings)?;
            outln!(
                "crates-index: {} fetched, {} not modified, {} not on crates.io, {} failed",
                r.fetched,
                r.not_modified,
                r.not_found,
                r.failed.len()
            );
            for (name, why) in &r.failed {
                eprintln!("error: crates-index: {name}: {why}");
            }
            ok &= r.failed.is_empty();
        }
    }
    Ok(if ok { 0 } else { 2 })
}

fn db(command: DbCommand) -> anyhow::Result<u8> {
    match command {
        DbCommand::Stats { store, json } => {
            let s = Store::open_read_only(&store.path())?.stats()?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                outln!(
                    "store: {} ({} bytes, schema {})",
                    s.path.display(),
                    s.bytes,
                    s.schema_version
                );
                outln!("records: {}", s.records);
                for (eco, n) in &s.by_ecosystem {
                    outln!("  {eco}: {n}");
                }
                for src in &s.sources {
                    outln!(
                        "source {}: {} records, last success {}, last attempt {}{}",
                        src.source,
                        src.records,
                        src.last_success.as_deref().unwrap_or("never"),
                        src.last_attempt.as_deref().unwrap_or("never"),
                        src.last_error
                            .as_deref()
                            .map(|e| format!(", last error: {e}"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(0)
        }
        DbCommand::Check { store } => {
            let path = store.path();
            // Checking must not create the store it checks: a missing one is an error.
            if !path.exists() {
                anyhow::bail!(
                    "{}: no store at this path (nothing to check)",
                    path.display()
                );
            }
            let problems = Store::open_read_only(&path)?.check()?;
            if problems.is_empty() {
                outln!("{}: ok", path.display());
                Ok(0)
            } else {
                for p in &problems {
                    outln!("{}: {p}", path.display());
                }
                // A sync of an unchanged source writes nothing, so it would not repair them.
                outln!(
                    "to repair: move the store aside and run `depwatch sync` again (it rebuilds every table from the sources)"
                );
                Ok(1)
            }
        }
    }
}

fn scan(args: ScanArgs) -> anyhow::Result<u8> {
    let config = load_config(&args.config)?;
    let fail_on = match &args.fail_on {
        Some(s) => s.parse::<Level>().map_err(anyhow::Error::msg)?,
        None => config.fail_on.unwrap_or(Level::Unknown),
    };
    // `--source` reads snapshots directly; otherwise the synced store answers (the config's
    // `sources` are what `depwatch sync` brings into it).
    let sources = parse_sources(&args.sources)?;
    let backend = if args.online {
        if !sources.is_empty() {
            anyhow::bail!("--online and --source exclude each other");
        }
        let url = match &args.osv_url {
            Some(u) => u.clone(),
            None => config
                .feed_defs()
                .map_err(anyhow::Error::msg)?
                .into_iter()
                .find(|d| d.name == "osv-api")
                .map(|d| d.base_url)
                .unwrap_or_else(|| "https://api.osv.dev".into()),
        };
        Backend::Online { url }
    } else if sources.is_empty() {
        Backend::Store {
            path: args.store.path(),
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
        kind: args.kind,
        require_manifest: true,
    };
    let report = scan::run(&opts)?;
    let format = match args.format {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Markdown => Format::Markdown,
    };
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
            eprintln!("error: {e}");
        }
    }
    let mut code = scan::exit_code(&report, fail_on);
    let deny: Vec<scan::Deny> = args
        .deny
        .iter()
        .map(|d| match d {
            DenyArg::Warnings => scan::Deny::Warnings,
            DenyArg::Unmaintained => scan::Deny::Unmaintained,
            DenyArg::Unsound => scan::Deny::Unsound,
            DenyArg::Yanked => scan::Deny::Yanked,
            DenyArg::Notice => scan::Deny::Notice,
        })
        .collect();
    let denied = scan::denied(&report, &deny);
    if !denied.is_empty() {
        let ids: Vec<String> = denied
            .iter()
            .map(|w| format!("{} {} ({})", w.package.name, w.id, w.kind.as_str()))
            .collect();
        eprintln!("denied warnings (--deny): {}", ids.join(", "));
        code = code.max(1);
    }
    Ok(code)
}

/// The error and its causes, each said once: library errors already include their cause's
/// text (`path: reason`), so a cause that the message above it already says is skipped.
fn describe(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

fn policy(command: PolicyCommand) -> anyhow::Result<u8> {
    match command {
        PolicyCommand::Show {
            project,
            file,
            config,
            format,
        } => {
            let json = format == PolicyFormat::Json;
            if let Some(file) = file {
                let zone = match &config {
                    Some(path) => depwatch::policy::Zone::configured(
                        load_required_config(&Some(path.clone()))?
                            .timezone
                            .as_deref(),
                    ),
                    None => depwatch::policy::Zone::default(),
                };
                let policy = depwatch::policy::Policy::load(&file)?;
                let label = project.unwrap_or_else(|| file.display().to_string());
                if json {
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(&policy.to_json(&label, &zone))?
                    );
                } else {
                    out!("{}", policy.show(&label, &zone));
                }
                return Ok(0);
            }
            let config = load_required_config(&config)?;
            let zone = depwatch::policy::Zone::configured(config.timezone.as_deref());
            let names: Vec<&str> = config.projects.iter().map(|p| p.name.as_str()).collect();
            let selected: Vec<_> = match &project {
                Some(name) => vec![config.project(name).with_context(|| {
                    format!(
                        "no project named {name:?} in the config (projects: {})",
                        names.join(", ")
                    )
                })?],
                None => config.projects.iter().collect(),
            };
            if json {
                let mut all = Vec::new();
                for p in &selected {
                    all.push(depwatch::run::project_policy(p)?.to_json(&p.name, &zone));
                }
                let text = match (&project, all.as_slice()) {
                    (Some(_), [one]) => serde_json::to_string_pretty(one)?,
                    _ => serde_json::to_string_pretty(&all)?,
                };
                outln!("{text}");
                return Ok(0);
            }
            for (i, p) in selected.iter().enumerate() {
                if i > 0 {
                    outln!();
                }
                let policy = depwatch::run::project_policy(p)?;
                out!("{}", policy.show(&p.name, &zone));
            }
            Ok(0)
        }
    }
}

/// The config a monitor command needs: --config, else ./depwatch.toml; an error without one.
fn load_required_config(path: &Option<PathBuf>) -> anyhow::Result<Config> {
    let path = path
        .clone()
        .unwrap_or_else(|| PathBuf::from("depwatch.toml"));
    if !path.is_file() {
        anyhow::bail!(
            "{}: no such config file (see examples/depwatch.toml; pass --config FILE)",
            path.display()
        );
    }
    Ok(Config::load(&path)?)
}

/// Now, or $DEPWATCH_NOW (RFC 3339) to replay a run at another time (tests, demos).
fn now() -> anyhow::Result<jiff::Timestamp> {
    match std::env::var("DEPWATCH_NOW") {
        Ok(v) => v
            .parse()
            .with_context(|| format!("DEPWATCH_NOW={v:?} is not an RFC 3339 timestamp")),
        Err(_) => Ok(jiff::Timestamp::now()),
    }
}

fn run(args: RunArgs) -> anyhow::Result<u8> {
    let config = load_required_config(&args.config)?;
    let out_dir = args
        .out
        .clone()
        .or_else(|| config.output.clone())
        .unwrap_or_else(|| PathBuf::from("depwatch-out"));
    let fail_on = match &args.fail_on {
        Some(s) => s.parse::<Level>().map_err(anyhow::Error::msg)?,
        None => config.fail_on.unwrap_or(Level::Unknown),
    };
    let opts = depwatch::run::RunOptions {
        config,
        store: args.store.path(),
        out_dir: out_dir.clone(),
        sync_local: !args.no_sync,
        sync_remote: !args.no_sync && !args.offline,
        deliver: !args.no_deliver,
        now: now()?,
        http: depwatch::feeds::http::HttpSettings {
            progress: !args.ci && !args.json && std::io::stderr().is_terminal(),
            ..Default::default()
        },
    };
    // One cycle at a time per store, also against a running `depwatch watch`.
    // One cycle at a time per store, also against a watcher: wait for it, then give up clearly.
    let _lock = depwatch::watch::CycleLock::acquire(
        &opts.store,
        std::time::Duration::from_secs(args.lock_wait),
    )?;
    let report = depwatch::run::run(&opts)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!("{}", depwatch::run::summary_text(&report, &out_dir));
    }
    for p in &report.projects {
        if let Some(e) = &p.error {
            eprintln!("error: project {}: {e}", p.name);
        }
    }
    for e in &report.delivery.errors {
        eprintln!("error: {e}");
    }
    if args.ci {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
            let md = depwatch::run::summary_markdown(&report, fail_on);
            let shown = PathBuf::from(&path);
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("GITHUB_STEP_SUMMARY {}", shown.display()))?;
            f.write_all(md.as_bytes())?;
        }
        if report.outcome() != "ok" {
            return Ok(2);
        }
        return Ok(match report.max_severity() {
            Some(s) if s >= fail_on => 1,
            _ => 0,
        });
    }
    Ok(if report.outcome() == "ok" { 0 } else { 2 })
}

fn publish(args: PublishArgs) -> anyhow::Result<u8> {
    let config = load_required_config(&args.config)?;
    if let Some(name) = &args.project
        && config.project(name).is_none()
    {
        anyhow::bail!("no project named {name:?} in the config");
    }
    let store = Store::open(&args.store.path())?;
    let results = depwatch::run::publish_drafts(&store, &config, args.project.as_deref(), now()?)?;
    let mut ok = true;
    for r in &results {
        match &r.result {
            Ok(line) => outln!("{}: {line}", r.project),
            Err(e) => {
                ok = false;
                eprintln!("error: {}: {e}", r.project);
            }
        }
    }
    if results.is_empty() {
        outln!("nothing to publish: no project has [project.github]");
    }
    Ok(if ok { 0 } else { 2 })
}

fn notes(args: NotesArgs) -> anyhow::Result<u8> {
    let config = load_config(&args.config)?;
    let backend = if args.sources.is_empty() {
        Backend::Store {
            path: args.store.path(),
            max_age: jiff::SignedDuration::from_hours(48),
            require_fresh: false,
        }
    } else {
        Backend::Sources(parse_sources(&args.sources)?)
    };
    let opts = depwatch::notes::NotesOptions {
        repo: args.repo,
        from: args.from,
        to: args.to,
        backend,
        templates_dir: config.templates.clone(),
        today: jiff::Zoned::now().date(),
    };
    let (notes, md) = depwatch::notes::release_notes(&opts)?;
    for w in &notes.warnings {
        eprintln!("warning: {w}");
    }
    match &args.output {
        Some(p) => std::fs::write(p, md.as_bytes()).with_context(|| format!("{}", p.display()))?,
        None => out!("{md}"),
    }
    Ok(0)
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn watch(args: WatchArgs) -> anyhow::Result<u8> {
    init_logs(args.log_format);
    let config = load_required_config(&args.config)?;
    let out_dir = args
        .out
        .clone()
        .or_else(|| config.output.clone())
        .unwrap_or_else(|| PathBuf::from("depwatch-out"));
    let (schedule, sync_schedule) =
        schedules(&config, &args.schedule, &args.sync_schedule, &args.timezone)?;
    let Some(schedule) = schedule else {
        anyhow::bail!("no schedule: pass --schedule CRON or set [watch] schedule in the config");
    };
    let jitter = match args.jitter {
        Some(s) => std::time::Duration::from_secs(s),
        None => config.watch.jitter.unsigned_abs(),
    };
    let opts = depwatch::watch::WatchOptions {
        run: depwatch::run::RunOptions {
            config,
            store: args.store.path(),
            out_dir,
            sync_local: true,
            sync_remote: !args.offline,
            deliver: !args.no_deliver,
            now: now()?,
            http: Default::default(),
        },
        schedule,
        sync_schedule,
        jitter,
        test_interval: args.test_interval_ms.map(std::time::Duration::from_millis),
        lock_wait: std::time::Duration::from_secs(args.lock_wait),
        grace: std::time::Duration::from_secs(args.grace),
    };
    let summary = depwatch::watch::watch(&opts)?;
    tracing::info!(
        cycles = summary.cycles,
        failed = summary.failed,
        skipped = summary.skipped,
        "stopped"
    );
    Ok(0)
}

/// The cycle and sync schedules: command line first, then the config's [watch].
fn schedules(
    config: &Config,
    cycle: &Option<String>,
    sync: &Option<String>,
    tz: &Option<String>,
) -> anyhow::Result<(
    Option<depwatch::schedule::Schedule>,
    Option<depwatch::schedule::Schedule>,
)> {
    let tz = tz
        .clone()
        .or_else(|| config.watch.timezone.clone())
        .or_else(|| config.timezone.clone())
        .unwrap_or_else(|| "UTC".into());
    let parse = |s: Option<&String>| {
        s.map(|s| depwatch::schedule::Schedule::parse(s, &tz))
            .transpose()
    };
    Ok((
        parse(cycle.as_ref().or(config.watch.schedule.as_ref()))?,
        parse(sync.as_ref().or(config.watch.sync_schedule.as_ref()))?,
    ))
}

fn status(args: StatusArgs) -> anyhow::Result<u8> {
    let config = load_required_config(&args.config)?;
    let (cycle, sync) = schedules(&config, &args.schedule, &args.sync_schedule, &args.timezone)?;
    let mut schedules = Vec::new();
    if let Some(s) = cycle {
        schedules.push(("cycle", s));
    }
    if let Some(s) = sync {
        schedules.push(("sync", s));
    }
    let refs: Vec<(&str, &depwatch::schedule::Schedule)> =
        schedules.iter().map(|(j, s)| (*j, s)).collect();
    let st = depwatch::status::status(&args.store.path(), &config, &refs, now()?)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&st)?);
    } else {
        out!("{}", depwatch::status::status_text(&st));
    }
    Ok(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The operator's limits are read where clients are built; a typo must not fall back silently.
    let limits = depwatch::feeds::http::env_limits()
        .and_then(|_| depwatch::run::project_timeout())
        .map_err(anyhow::Error::msg);
    let result = limits.and_then(|_| match cli.command {
        Command::Scan(args) => scan(args),
        Command::Sync(args) => sync(args),
        Command::Db { command } => db(command),
        Command::Policy { command } => policy(command),
        Command::Run(args) => run(args),
        Command::Publish(args) => publish(args),
        Command::Notes(args) => notes(args),
        Command::Watch(args) => watch(args),
        Command::Status(args) => status(args),
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::from(2)
        }
    }
}
