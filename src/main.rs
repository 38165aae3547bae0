//! depwatch command line: parses arguments, calls the library, prints, picks the exit code.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use depwatch::config::Config;
use depwatch::feeds::SourceSpec;
use depwatch::render::{self, Format};
use depwatch::scan::{self, ScanOptions};
use depwatch::severity::Level;
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
    /// Scan manifests and lockfiles against advisory sources.
    Scan(ScanArgs),
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
    /// Advisory source, KIND:LOCATION (osv-dir:PATH, osv-zip:PATH, rustsec-dir:PATH); repeatable.
    #[arg(long = "source", value_name = "KIND:LOCATION")]
    sources: Vec<String>,
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

fn scan(args: ScanArgs) -> anyhow::Result<u8> {
    let config = match &args.config {
        Some(p) => Config::load(p)?,
        None => {
            let default = PathBuf::from("depwatch.toml");
            if default.is_file() {
                Config::load(&default)?
            } else {
                Config::default()
            }
        }
    };
    let fail_on = match &args.fail_on {
        Some(s) => s.parse::<Level>().map_err(anyhow::Error::msg)?,
        None => config.fail_on.unwrap_or(Level::Unknown),
    };
    let source_texts = if args.sources.is_empty() {
        config.sources.clone()
    } else {
        args.sources.clone()
    };
    let sources = source_texts
        .iter()
        .map(|s| s.parse::<SourceSpec>())
        .collect::<Result<Vec<_>, _>>()?;
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let opts = ScanOptions {
        paths,
        sources,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
