//! `depwatch scan`: load the sources, find and parse manifests, match, and build the report.

use crate::config::Config;
use crate::database::Database;
use crate::feeds::{self, FeedError, SourceSpec};
use crate::manifests::{self, ManifestError, ParseOptions};
use crate::matcher::{self, Ignore, MatchSettings, ParsedManifest};
use crate::report::Report;
use crate::severity::Level;
use rayon::prelude::*;
use std::path::PathBuf;

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Files or directories to scan.
    pub paths: Vec<PathBuf>,
    /// Advisory sources.
    pub sources: Vec<SourceSpec>,
    /// Ignore rules (config plus `--ignore`).
    pub ignores: Vec<Ignore>,
    /// Resolve Cargo workspaces with `cargo metadata` (trusted checkouts only).
    pub trusted_workspace: bool,
    /// Today's date, for ignore expiry.
    pub today: jiff::civil::Date,
}

/// Errors that stop a scan before it can report anything.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// No source was given.
    #[error(
        "no advisory source: pass --source osv-dir:PATH, osv-zip:PATH or rustsec-dir:PATH (or list sources in depwatch.toml)"
    )]
    NoSource,
    /// A source could not be read at all.
    #[error(transparent)]
    Feed(#[from] FeedError),
    /// A path to scan does not exist or is not a manifest.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// The exit status a report calls for: 0 clean, 1 findings at or above `fail_on`, 2 input
/// errors (a manifest that did not parse).
pub fn exit_code(report: &Report, fail_on: Level) -> u8 {
    if report.summary.manifest_errors > 0 {
        return 2;
    }
    if report.findings.iter().any(|f| f.severity >= fail_on) {
        return 1;
    }
    0
}

/// Load every source (in parallel) into one database.
pub fn load_database(sources: &[SourceSpec]) -> Result<Database, ScanError> {
    if sources.is_empty() {
        return Err(ScanError::NoSource);
    }
    let loaded: Result<Vec<_>, FeedError> = sources.par_iter().map(feeds::load).collect();
    Ok(Database::from_sources(loaded?))
}

/// Find and parse every manifest under the given paths (in parallel). A manifest that fails
/// to parse is kept with its error; the others are still scanned.
pub fn parse_manifests(
    paths: &[PathBuf],
    opts: &ParseOptions,
) -> Result<Vec<ParsedManifest>, ScanError> {
    let mut found = Vec::new();
    for p in paths {
        if !p.exists() {
            return Err(ManifestError::Io {
                path: p.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or directory",
                ),
            }
            .into());
        }
        found.extend(manifests::discover(p)?);
    }
    found.sort();
    found.dedup();
    Ok(found
        .into_par_iter()
        .map(|(path, kind)| {
            let parsed = manifests::parse(&path, kind, opts);
            (path, kind, parsed)
        })
        .collect())
}

/// Run a whole scan.
pub fn run(opts: &ScanOptions) -> Result<Report, ScanError> {
    let parse_opts = ParseOptions {
        trusted_workspace: opts.trusted_workspace,
    };
    // Sources and manifests are independent: load them side by side.
    let (db, parsed) = rayon::join(
        || load_database(&opts.sources),
        || parse_manifests(&opts.paths, &parse_opts),
    );
    let (db, parsed) = (db?, parsed?);
    let settings = MatchSettings {
        ignores: opts.ignores.clone(),
        today: opts.today,
    };
    Ok(matcher::build_report(&db, &parsed, &settings))
}

/// Merge config ignores and command-line ignores (no expiry).
pub fn ignores_from(config: &Config, cli: &[String]) -> Vec<Ignore> {
    let mut v = config.ignores.clone();
    v.extend(cli.iter().map(|id| Ignore {
        id: id.clone(),
        reason: Some("--ignore on the command line".into()),
        until: None,
    }));
    v
}
