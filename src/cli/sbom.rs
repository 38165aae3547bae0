//! `depwatch sbom`.

use super::{ConfigArg, Outcome, SourceArgs, StoreArg};
use anyhow::Context;
use depwatch::render::cyclonedx;
use depwatch::scan::{self, Backend, ScanOptions};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct SbomArgs {
    /// Files or directories to describe (default: the current directory).
    paths: Vec<PathBuf>,
    #[command(flatten)]
    sources: SourceArgs,
    #[command(flatten)]
    store: StoreArg,
    /// Store data older than this many hours is stale (a warning, or an error with --require-fresh).
    #[arg(long, value_name = "HOURS", default_value_t = scan::DEFAULT_MAX_AGE_HOURS)]
    max_age_hours: i64,
    /// Fail (exit 2) when the store's data is stale.
    #[arg(long)]
    require_fresh: bool,
    /// Ignore a vulnerability by any of its ids; repeatable (listed with an analysis detail
    /// naming the ignore).
    #[arg(long = "ignore", value_name = "ID")]
    ignores: Vec<String>,
    /// An OpenVEX 0.2.0 document of the project (repeatable); a `.openvex.json` next to the
    /// manifests is read without it.
    #[arg(long = "vex", value_name = "FILE")]
    vex: Vec<PathBuf>,
    #[command(flatten)]
    config: ConfigArg,
    /// Resolve Cargo workspaces with `cargo metadata` (trusted checkouts only).
    #[arg(long)]
    trusted_workspace: bool,
    /// Follow `-r` / `-c` includes that resolve outside the scanned paths (trusted checkouts only).
    #[arg(long)]
    allow_outside_includes: bool,
    /// The project's name in `metadata.component` (default: the name of the first path's
    /// directory).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Write the SBOM here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[arg(long = "type", value_name = "FORMAT", value_parser = parse_kind, help = format!(
        "Read the files named in PATHS as this format, whatever their names ({})",
        depwatch::manifests::registry::names()
    ))]
    kind: Option<depwatch::manifests::ManifestKind>,
}

fn parse_kind(s: &str) -> Result<depwatch::manifests::ManifestKind, String> {
    s.parse()
}

/// The directory name of `path` (a file's directory), as the project's default name.
fn default_name(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = if abs.is_file() {
        abs.parent().map(Path::to_path_buf).unwrap_or(abs)
    } else {
        abs
    };
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".to_string())
}

/// Blocks (files, SQLite).
pub fn run(args: SbomArgs) -> anyhow::Result<Outcome> {
    let config = args.config.load()?;
    let sources = args.sources.specs()?;
    let signals = args.sources.signals();
    let backend = if sources.is_empty() {
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
    let opts = ScanOptions {
        targets: Default::default(),
        paths: paths.clone(),
        backend,
        today: scan::today_for(&ignores),
        ignores,
        trusted_workspace: args.trusted_workspace,
        allow_outside_includes: args.allow_outside_includes,
        vex: args.vex.clone(),
        kind: args.kind,
        require_manifest: true,
    };
    let report = scan::run_offline_with(&opts, &signals)?;
    // An SBOM of a partial scan would leave a manifest's packages out unsaid.
    if let Some(m) = report.manifests.iter().find(|m| m.error.is_some()) {
        anyhow::bail!(
            "{}; no SBOM written from a partial scan",
            m.error.clone().unwrap_or_default()
        );
    }
    // The scan's own parse, again: the report keeps findings, not the dependency lists.
    let parsed = scan::parse_manifests(&paths, &opts.parse_options())?;
    let name = args.name.clone().unwrap_or_else(|| default_name(&paths[0]));
    for n in &report.notices {
        errln!("warning: {n}");
    }
    let doc = cyclonedx::bom(&report, &parsed, &name);
    let json = cyclonedx::to_json(&doc);
    match &args.output {
        Some(p) => {
            std::fs::write(p, json.as_bytes()).with_context(|| format!("{}", p.display()))?
        }
        None => out!("{json}"),
    }
    Ok(Outcome::Success)
}
