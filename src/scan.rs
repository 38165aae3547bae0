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

/// Where advisories come from for a scan.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Read these sources directly (local snapshots).
    Sources(Vec<SourceSpec>),
    /// Ask the OSV API (`/v1/querybatch` + `/v1/vulns/{id}`) and match its records locally.
    Online {
        /// The API's base URL.
        url: String,
    },
    /// Answer from the synced store.
    Store {
        /// The store file.
        path: PathBuf,
        /// Data older than this is stale.
        max_age: jiff::SignedDuration,
        /// Fail instead of warning when the data is stale.
        require_fresh: bool,
    },
}

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Files or directories to scan.
    pub paths: Vec<PathBuf>,
    /// Where advisories come from.
    pub backend: Backend,
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
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The store was never synced: an empty store would report everything as safe.
    #[error("the store {0} was never synced: run `depwatch sync` first (or scan with --source)")]
    NeverSynced(PathBuf),
    /// The store is older than allowed and `--require-fresh` was given.
    #[error("{0} (--require-fresh)")]
    Stale(String),
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
    // One manifest (the common case) is parsed on this thread: starting the thread pool and
    // its per-thread malloc arenas costs more than it saves.
    if let [(path, kind)] = found.as_slice() {
        let parsed = manifests::parse(path, *kind, opts);
        return Ok(vec![(path.clone(), *kind, parsed)]);
    }
    Ok(found
        .into_par_iter()
        .map(|(path, kind)| {
            let parsed = manifests::parse(&path, kind, opts);
            (path, kind, parsed)
        })
        .collect())
}

/// The packages a scan will look up: (ecosystem, normalised name).
fn packages_of(parsed: &[ParsedManifest]) -> Vec<(crate::ecosystem::Ecosystem, String)> {
    let mut out: Vec<_> = parsed
        .iter()
        .filter_map(|(_, _, m)| m.as_ref().ok())
        .flat_map(|m| m.dependencies.iter())
        .filter(|d| {
            !matches!(
                d.requirement,
                crate::manifests::Requirement::NotChecked { .. }
            )
        })
        .map(|d| (d.ecosystem, d.ecosystem.normalize_name(&d.name)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Read what a scan needs from the store, and say how fresh it is.
fn database_from_store(
    store: &mut crate::store::Store,
    max_age: jiff::SignedDuration,
    require_fresh: bool,
    parsed: &[ParsedManifest],
) -> Result<(Database, crate::store::yanked::Yanked, Vec<String>), ScanError> {
    let path = store.path().to_path_buf();
    let states = store.sources()?;
    let synced: Vec<_> = states.iter().filter(|s| s.last_success.is_some()).collect();
    if synced.is_empty() {
        return Err(ScanError::NeverSynced(path));
    }
    let mut notices = Vec::new();
    let now = jiff::Timestamp::now();
    for s in &states {
        let age = s
            .last_success
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| now.duration_since(t));
        match age {
            Some(a) if a <= max_age => {}
            Some(a) => notices.push(format!(
                "source {} was last synced {} hours ago (older than the {} hour limit)",
                s.source,
                a.as_hours(),
                max_age.as_hours()
            )),
            None => notices.push(format!("source {} has never synced successfully", s.source)),
        }
        if let Some(e) = &s.last_error {
            notices.push(format!("source {}: last sync failed: {e}", s.source));
        }
    }
    if require_fresh
        && notices
            .iter()
            .any(|n| n.contains("last synced") || n.contains("never synced"))
    {
        return Err(ScanError::Stale(notices.join("; ")));
    }
    let (db, yanked) = store.database_for(&packages_of(parsed))?;
    Ok((db, yanked, notices))
}

/// Warn about locked crates whose version the cached crates.io index marks yanked (cached by
/// `depwatch sync --yanked-for`; a crate with no cached entry is not reported either way).
fn add_yanked(
    yanked_all: &crate::store::yanked::Yanked,
    parsed: &[ParsedManifest],
    report: &mut Report,
) {
    use crate::report::{Finding, Fix, Location, PackageRef};
    if yanked_all.is_empty() {
        return;
    }
    for (_, kind, m) in parsed {
        let Ok(m) = m else { continue };
        if *kind != crate::manifests::ManifestKind::CargoLock {
            continue;
        }
        for d in &m.dependencies {
            let crate::manifests::Requirement::Pinned { text, .. } = &d.requirement else {
                continue;
            };
            let Some(yanked) = yanked_all.get(&d.name.to_ascii_lowercase()) else {
                continue;
            };
            if !yanked.iter().any(|y| y == text) {
                continue;
            }
            report.warnings.push(Finding {
                id: format!("yanked:{}@{text}", d.name),
                ids: Vec::new(),
                sources: vec!["crates-index".into()],
                kind: crate::advisory::AdvisoryKind::Yanked,
                package: PackageRef {
                    ecosystem: d.ecosystem,
                    name: d.name.clone(),
                    version: text.clone(),
                },
                severity: crate::severity::Level::Unknown,
                cvss_score: None,
                cvss_vectors: Vec::new(),
                summary: Some(format!("{} {text} was yanked from crates.io", d.name)),
                cwe_ids: Vec::new(),
                fixed_versions: Vec::new(),
                fix: Fix::NoFix,
                url: Some(format!("https://crates.io/crates/{}/{text}", d.name)),
                location: Location {
                    file: d.file.clone(),
                    line: d.line,
                },
                via: d.via.clone(),
                scope: d.scope.clone(),
                member: d.member.clone(),
                markers: None,
                note: None,
                disagreements: Vec::new(),
            });
        }
    }
    report.warnings.sort_by(|a, b| {
        (&a.location.file, a.location.line, &a.package.name, &a.id).cmp(&(
            &b.location.file,
            b.location.line,
            &b.package.name,
            &b.id,
        ))
    });
    report.summary.warnings = report.warnings.len();
}

/// Query the OSV API for every advisory of each scanned package (no version in the query) and
/// match the records locally, exactly as records from the store are. Asking by version would
/// be smaller, but the suggested upgrade must clear *every* advisory on the package: with only
/// the advisories of the current version, depwatch would suggest a version another advisory
/// still hits (apache-airflow 2.3.4: 2.8.2 instead of 2.8.3rc1).
fn database_online(url: &str, parsed: &[ParsedManifest]) -> Result<Database, ScanError> {
    use crate::manifests::Requirement;
    let mut queries: Vec<(crate::ecosystem::Ecosystem, String, String)> = parsed
        .iter()
        .filter_map(|(_, _, m)| m.as_ref().ok())
        .flat_map(|m| m.dependencies.iter())
        .filter_map(|d| match &d.requirement {
            Requirement::Pinned { .. } | Requirement::Range { .. } => Some((
                d.ecosystem,
                d.ecosystem.normalize_name(&d.name),
                String::new(),
            )),
            Requirement::NotChecked { .. } => None,
        })
        .collect();
    queries.sort();
    queries.dedup();
    let http = crate::feeds::http::Http::new(crate::feeds::http::HttpSettings::default())
        .map_err(|e| ScanError::Feed(e.into()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            ScanError::Feed(FeedError::Invalid {
                path: crate::feeds::http::redact(url).into(),
                message: format!("tokio runtime: {e}"),
            })
        })?;
    let (advisories, errors) =
        runtime.block_on(crate::feeds::osv_api::query(&http, url, &queries))?;
    let source = format!("osv-api:{}", crate::feeds::http::redact(url));
    let mut loaded = crate::feeds::Loaded {
        source: source.clone(),
        errors,
        ..Default::default()
    };
    for a in advisories {
        match crate::advisory::CompiledAdvisory::compile(a, &source) {
            Ok(c) => loaded.advisories.push(c),
            Err(e) => loaded.errors.push(crate::report::LoadError {
                source: source.clone(),
                file: "(osv api)".into(),
                id: Some(e.id.clone()),
                message: e.message,
            }),
        }
    }
    Ok(Database::from_sources(vec![loaded]))
}

/// Run a whole scan.
pub fn run(opts: &ScanOptions) -> Result<Report, ScanError> {
    let parse_opts = ParseOptions {
        trusted_workspace: opts.trusted_workspace,
    };
    let settings = MatchSettings {
        ignores: opts.ignores.clone(),
        today: opts.today,
    };
    match &opts.backend {
        Backend::Online { url } => {
            let parsed = parse_manifests(&opts.paths, &parse_opts)?;
            let db = database_online(url, &parsed)?;
            Ok(matcher::build_report(&db, &parsed, &settings))
        }
        Backend::Sources(sources) => {
            // Sources and manifests are independent: load them side by side.
            let (db, parsed) = rayon::join(
                || load_database(sources),
                || parse_manifests(&opts.paths, &parse_opts),
            );
            let (db, parsed) = (db?, parsed?);
            Ok(matcher::build_report(&db, &parsed, &settings))
        }
        Backend::Store {
            path,
            max_age,
            require_fresh,
        } => {
            // A scan never creates a store: a missing one was never synced.
            if !path.exists() {
                return Err(ScanError::NeverSynced(path.clone()));
            }
            // Opening the store (pragmas, schema check) and parsing are independent: overlap
            // them. The store opens on a helper thread; parsing, which allocates most, stays on
            // the main thread and its malloc arena.
            let (parsed, store) = std::thread::scope(|s| {
                let opening = s.spawn(|| crate::store::Store::open_read_only(path));
                let parsed = parse_manifests(&opts.paths, &parse_opts);
                let store = opening.join().unwrap_or_else(|_| {
                    Err(crate::store::StoreError::Io {
                        path: path.clone(),
                        source: std::io::Error::other("the thread opening the store panicked"),
                    })
                });
                (parsed, store)
            });
            let (parsed, mut store) = (parsed?, store?);
            let (db, yanked, notices) =
                database_from_store(&mut store, *max_age, *require_fresh, &parsed)?;
            let mut report = matcher::build_report(&db, &parsed, &settings);
            report.notices = notices;
            add_yanked(&yanked, &parsed, &mut report);
            Ok(report)
        }
    }
}

/// Today's date for the ignores' expiry: the local date when an ignore has an `until`, and
/// the UTC date otherwise, when nothing reads it. Finding the local zone walks the whole
/// zoneinfo tree (about 0.7 ms, a tenth of a store scan), so it is done only when needed.
pub fn today_for(ignores: &[Ignore]) -> jiff::civil::Date {
    if ignores.iter().any(|i| i.until.is_some()) {
        jiff::Zoned::now().date()
    } else {
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    }
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
