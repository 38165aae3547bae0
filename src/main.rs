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
    Scan(ScanArgs),
    /// Bring the local advisory store up to date from each source.
    Sync(SyncArgs),
    /// Inspect the local advisory store.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Disclosure policies read from the projects' SECURITY.md files.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
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
    },
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
    /// Sync only this local source, KIND:LOCATION (osv-dir:PATH, osv-zip:PATH, rustsec-dir:PATH);
    /// repeatable. Without it: every enabled feed (feeds/*.toml, overridable in depwatch.toml)
    /// and the config's `sources`.
    #[arg(long = "source", value_name = "KIND:LOCATION")]
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
    /// Integrity check (SQLite's and the store's own invariants); exit 1 on problems.
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
    /// Read this advisory source directly instead of the store, KIND:LOCATION (osv-dir:PATH,
    /// osv-zip:PATH, rustsec-dir:PATH); repeatable.
    #[arg(long = "source", value_name = "KIND:LOCATION")]
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
    /// Ignore a vulnerability by any of its ids; repeatable.
    #[arg(long = "ignore", value_name = "ID")]
    ignores: Vec<String>,
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

fn print_sync(r: &depwatch::sync::SourceSync) -> bool {
    match &r.result {
        Ok(o) if o.unchanged => println!("{}: unchanged", r.source),
        Ok(o) => println!(
            "{}: {} written, {} removed, {} broken records skipped",
            r.source, o.written, o.removed, r.skipped
        ),
        Err(e) => {
            eprintln!("error: {}: {e} (previous data kept)", r.source);
            return false;
        }
    }
    true
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
        ok &= print_sync(&depwatch::sync::sync_local(&mut store, spec)?);
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
            ok &= print_sync(&r);
        }
        if !args.yanked_for.is_empty() {
            let index = defs
                .iter()
                .chain(config.feed_defs().map_err(anyhow::Error::msg)?.iter())
                .find(|d| d.name == "crates-index")
                .map(|d| d.base_url.clone())
                .unwrap_or_default();
            let r = depwatch::sync::refresh_yanked(&mut store, &index, &args.yanked_for, settings)?;
            println!(
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
            let s = Store::open(&store.path())?.stats()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!(
                    "store: {} ({} bytes, schema {})",
                    s.path.display(),
                    s.bytes,
                    s.schema_version
                );
                println!("records: {}", s.records);
                for (eco, n) in &s.by_ecosystem {
                    println!("  {eco}: {n}");
                }
                for src in &s.sources {
                    println!(
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
            let problems = Store::open(&path)?.check()?;
            if problems.is_empty() {
                println!("{}: ok", path.display());
                Ok(0)
            } else {
                for p in &problems {
                    println!("{}: {p}", path.display());
                }
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
    let opts = ScanOptions {
        paths,
        backend,
        ignores: scan::ignores_from(&config, &args.ignores),
        trusted_workspace: args.trusted_workspace,
        today: jiff::Zoned::now().date(),
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
    Ok(scan::exit_code(&report, fail_on))
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
        PolicyCommand::Show { project, file } => {
            let Some(file) = file else {
                anyhow::bail!(
                    "pass --file PATH (projects from depwatch.toml come with `depwatch run`)"
                );
            };
            let policy = depwatch::policy::Policy::load(&file)?;
            let label = project.unwrap_or_else(|| file.display().to_string());
            print!("{}", policy.show(&label));
            Ok(0)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Sync(args) => sync(args),
        Command::Db { command } => db(command),
        Command::Policy { command } => policy(command),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::from(2)
        }
    }
}
