//! `depwatch scan`: load the sources, find and parse manifests, match, and build the report.

use crate::config::Config;
use crate::database::Database;
use crate::feeds::{self, FeedError, SourceSpec};
use crate::manifests::{self, ManifestError, ManifestKind, ParseOptions};
use crate::matcher::{self, Ignore, MatchSettings, ParsedManifest};
use crate::report::Report;
use crate::severity::Level;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

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
        /// The store (an SQLite file or a PostgreSQL database).
        path: crate::store::Location,
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
    /// The format of the files named in `paths`, whatever their names (`--type`).
    pub kind: Option<ManifestKind>,
    /// Follow `-r` / `-c` includes outside the scanned paths (`--allow-outside-includes`, a
    /// trusted checkout only); off, such an include is an error of its manifest.
    pub allow_outside_includes: bool,
    /// The project's OpenVEX documents (`vex = [...]`); a `.openvex.json` next to a scanned
    /// manifest is read as well.
    pub vex: Vec<PathBuf>,
    /// Fail when a path holds no manifest ([`ScanError::NoManifest`]): a scan of nothing must
    /// not pass as clean. Off only where an empty revision is expected (release notes).
    pub require_manifest: bool,
    /// The target environments declared for the scanned project (`--python`, `--platform`,
    /// `--implementation`, or a project's keys); default: none, every marker may apply.
    pub targets: crate::environment::Targets,
}

/// Errors that stop a scan before it can report anything.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// No source was given.
    #[error(
        "no advisory source: pass --source {forms} (or list sources in depwatch.toml)",
        forms = crate::feeds::registry::local_forms()
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
    NeverSynced(crate::store::Location),
    /// The store is older than allowed and `--require-fresh` was given.
    #[error("{0} (--require-fresh)")]
    Stale(String),
    /// A path to scan holds no manifest depwatch reads.
    #[error(
        "no manifest found under {}: depwatch reads Cargo.lock, Cargo.toml, requirements*.txt, \
         requirements/*.txt, pyproject.toml, poetry.lock, uv.lock, Pipfile.lock and pylock.toml \
         (name a file with another name to scan it, with --type FORMAT if its content does not \
         tell)",
        .0.display()
    )]
    NoManifest(PathBuf),
    /// A peer tool's ignore file next to the manifests cannot be used.
    #[error(transparent)]
    PeerIgnore(#[from] crate::peer_ignores::PeerIgnoreError),
    /// A VEX document of the project cannot be used.
    #[error(transparent)]
    Vex(#[from] crate::vex::VexError),
    /// [`run_offline`] was given the online backend, which needs the async [`run`].
    #[error("the online backend queries the network: use the async scan::run")]
    NeedsRuntime,
}

/// What a scan's report calls for, from best to worst (the CLI maps it to exit 0, 1, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Nothing at or above `fail_on`.
    Clean,
    /// A finding at or above `fail_on` (or, with `--deny`, a denied warning).
    Findings,
    /// An input error: a manifest that did not parse (the others were still scanned).
    InputError,
}

/// The verdict a report calls for: clean, findings at or above `fail_on`, or input errors.
pub fn verdict(report: &Report, fail_on: Level) -> Verdict {
    verdict_in(report, fail_on, FailScope::All)
}

/// [`verdict`], counting only the findings of dependencies in `scope` (`--fail-scope`); the
/// others are still in the report.
pub fn verdict_in(report: &Report, fail_on: Level, scope: FailScope) -> Verdict {
    if report.summary.manifest_errors > 0 {
        return Verdict::InputError;
    }
    // Malware fails at any level and in any scope: its records carry no score to compare, and
    // a malicious dev tool runs on developers' and CI machines.
    if report
        .findings
        .iter()
        .any(|f| f.is_malicious() || (f.severity >= fail_on && scope.covers(f.scope.as_deref())))
    {
        return Verdict::Findings;
    }
    Verdict::Clean
}

/// Which findings decide a failing exit (`--fail-scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailScope {
    /// Every finding (the default).
    #[default]
    All,
    /// Only findings of runtime dependencies ([`is_runtime`]).
    Runtime,
}

impl FailScope {
    /// Whether a finding with this scope counts.
    pub fn covers(self, scope: Option<&str>) -> bool {
        match self {
            Self::All => true,
            Self::Runtime => is_runtime(scope),
        }
    }
}

/// Whether a dependency scope is a runtime one: no scope (requirements files, `Cargo.toml`
/// `[dependencies]`, a lockfile package the project reaches through its main dependencies,
/// Pipfile.lock `default`), Poetry's `main` group, or Cargo's `normal` kind
/// (`--trusted-workspace`). Dev and build dependencies, extras and dependency groups are not:
/// an extra is installed only when asked for.
pub fn is_runtime(scope: Option<&str>) -> bool {
    matches!(scope, None | Some("main" | "normal"))
}

/// The findings `--fail-on-kev` (`kev`) and `--fail-on-epss SCORE` (`epss`) fail on, each
/// with why (`in CISA KEV since 2022-01-18`, `EPSS 0.94 >= 0.1`); only findings `scope`
/// covers (`--fail-scope`).
pub fn exploited<'a>(
    findings: impl IntoIterator<Item = &'a crate::report::Finding>,
    kev: bool,
    epss: Option<f64>,
    scope: FailScope,
) -> Vec<(&'a crate::report::Finding, String)> {
    let mut out = Vec::new();
    for f in findings
        .into_iter()
        .filter(|f| scope.covers(f.scope.as_deref()))
    {
        if let (true, Some(k)) = (kev, &f.kev) {
            out.push((f, format!("{} in CISA KEV since {}", k.cve, k.date_added)));
        } else if let (Some(min), Some(e)) = (epss, &f.epss)
            && e.score >= min
        {
            out.push((f, format!("{} EPSS {} >= {min}", e.cve, e.score)));
        }
    }
    out
}

/// Store data older than this is stale unless said otherwise (`scan --max-age-hours`); `notes`
/// and the monitor's scans use it as is.
pub const DEFAULT_MAX_AGE_HOURS: i64 = 48;

/// [`DEFAULT_MAX_AGE_HOURS`] as a duration.
pub const DEFAULT_MAX_AGE: jiff::SignedDuration =
    jiff::SignedDuration::from_hours(DEFAULT_MAX_AGE_HOURS);

/// A kind of warning that `--deny` makes fail the scan (exit 1), as cargo-audit's `--deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deny {
    /// Every warning, whatever its kind.
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

/// The warnings that `deny` turns into failures.
pub fn denied<'a>(report: &'a Report, deny: &[Deny]) -> Vec<&'a crate::report::Finding> {
    denied_in(report, deny, FailScope::All)
}

/// [`denied`], only for the warnings of dependencies in `scope` (`--fail-scope`).
pub fn denied_in<'a>(
    report: &'a Report,
    deny: &[Deny],
    scope: FailScope,
) -> Vec<&'a crate::report::Finding> {
    use crate::advisory::AdvisoryKind as K;
    report
        .warnings
        .iter()
        .filter(|w| scope.covers(w.scope.as_deref()))
        .filter(|w| {
            deny.iter().any(|d| match d {
                Deny::Warnings => true,
                Deny::Unmaintained => w.kind == K::Unmaintained,
                Deny::Unsound => w.kind == K::Unsound,
                Deny::Yanked => w.kind == K::Yanked,
                Deny::Notice => w.kind == K::Notice,
            })
        })
        .collect()
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
/// to parse is kept with its error; the others are still scanned. A path without any
/// manifest adds nothing (see [`ScanOptions::require_manifest`] for scans that refuse it).
pub fn parse_manifests(
    paths: &[PathBuf],
    opts: &ParseOptions,
) -> Result<Vec<ParsedManifest>, ScanError> {
    parse_manifests_checked(paths, opts, false)
}

/// [`parse_manifests`]; with `require_manifest`, a path holding no manifest is an error.
fn parse_manifests_checked(
    paths: &[PathBuf],
    opts: &ParseOptions,
    require_manifest: bool,
) -> Result<Vec<ParsedManifest>, ScanError> {
    let mut found: Vec<(PathBuf, ManifestKind, PathBuf)> = Vec::new();
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
        let here = manifests::discover_as(p, opts.kind)?;
        if here.is_empty() && require_manifest {
            return Err(ScanError::NoManifest(p.clone()));
        }
        // Includes stay inside what was given to scan: the directory, or a file's directory.
        let root = if p.is_dir() {
            p.clone()
        } else {
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf()
        };
        found.extend(here.into_iter().map(|(m, k)| (m, k, root.clone())));
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    let parse_one = |path: &Path, kind, root: PathBuf| {
        // A manifest that is itself a symlink out of the scanned root (a committed
        // `requirements.txt -> ~/.env`) is never read: its lines could reach the report.
        if !opts.allow_outside_includes && symlink_out_of(path, &root) {
            return Err(ManifestError::parse(
                path,
                None,
                "a symlink to a file outside the scanned root; not read \
                 (--allow-outside-includes follows it)",
            ));
        }
        let o = ParseOptions {
            include_root: Some(root),
            ..opts.clone()
        };
        manifests::parse(path, kind, &o).map(|m| same_via_rule(kind, m))
    };
    // One manifest (the common case) is parsed on this thread: starting the thread pool and
    // its per-thread malloc arenas costs more than it saves.
    if found.len() == 1
        && let Some((path, kind, root)) = found.pop()
    {
        let parsed = parse_one(&path, kind, root);
        return Ok(vec![(path, kind, parsed)]);
    }
    Ok(found
        .into_par_iter()
        .map(|(path, kind, root)| {
            let parsed = parse_one(&path, kind, root);
            (path, kind, parsed)
        })
        .collect())
}

/// True when `path` is a symlink whose target resolves outside `root` (both after
/// canonicalisation); a target that cannot be resolved counts as outside.
fn symlink_out_of(path: &Path, root: &Path) -> bool {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return false;
    }
    match (std::fs::canonicalize(path), std::fs::canonicalize(root)) {
        (Ok(target), Ok(root)) => !target.starts_with(root),
        _ => true,
    }
}

/// One `via` rule for every format (README, report `via`): the path starts below the
/// project's own packages, so a direct dependency has `[]`; `None` only where the format
/// cannot tell (requirements files, which may list transitive pins, Pipfile.lock, pylock.toml).
///
/// * `Cargo.lock`: the parser's paths start at the root path crate (a workspace member), as
///   its module documents; that root is dropped here and, in a workspace of several roots,
///   becomes `member` (unless `--trusted-workspace` named the member already), as `uv.lock`
///   does with its project packages.
/// * `Cargo.toml`, `pyproject.toml`: every declaration is a direct dependency.
fn same_via_rule(kind: manifests::ManifestKind, mut m: manifests::Manifest) -> manifests::Manifest {
    use manifests::ManifestKind as K;
    match kind {
        K::CargoLock => {
            // Only roots have an empty path in the parser's output.
            let roots = m
                .dependencies
                .iter()
                .filter(|d| d.via.as_ref().is_some_and(Vec::is_empty))
                .count();
            for d in &mut m.dependencies {
                let Some(via) = d.via.as_mut().filter(|v| !v.is_empty()) else {
                    continue;
                };
                let root = via.remove(0);
                if roots > 1 && d.member.is_none() {
                    d.member = Some(root);
                }
            }
        }
        K::CargoToml | K::Pyproject => {
            for d in &mut m.dependencies {
                d.via.get_or_insert_with(Vec::new);
            }
        }
        _ => {}
    }
    m
}

/// Fold a `Cargo.lock`'s own path crates (workspace members and path dependencies: the
/// project itself, not third-party code) into one not-checked entry per lockfile, with their
/// count and names, instead of one entry each. A single path crate stays a plain entry.
/// `summary.not_checked` still counts every dependency not checked.
fn summarise_workspace_crates(parsed: &[ParsedManifest], report: &mut Report) {
    use crate::report::{Location, NotChecked};
    let reason = crate::manifests::cargo_lock::REASON_PATH;
    for (path, kind, m) in parsed {
        if *kind != manifests::ManifestKind::CargoLock || m.is_err() {
            continue;
        }
        let own =
            |n: &NotChecked| n.reason == reason && n.count.is_none() && n.location.file == *path;
        let count = report.not_checked.iter().filter(|n| own(n)).count();
        if count < 2 {
            continue;
        }
        let mut names: Vec<String> = Vec::with_capacity(count);
        let mut ecosystem = crate::ecosystem::Ecosystem::CratesIo;
        report.not_checked.retain(|n| {
            if own(n) {
                names.push(n.name.clone());
                ecosystem = n.ecosystem;
                false
            } else {
                true
            }
        });
        names.sort();
        names.dedup();
        report.not_checked.push(NotChecked {
            ecosystem,
            name: "workspace crates".into(),
            location: Location {
                file: path.clone(),
                line: 0,
            },
            reason: "path dependencies, not checked".into(),
            count: Some(count),
            names,
        });
    }
    report.not_checked.sort();
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
/// `path` names the store in errors.
fn database_from_store(
    store: &mut impl crate::store::AdvisoryStore,
    path: &crate::store::Location,
    max_age: jiff::SignedDuration,
    require_fresh: bool,
    parsed: &[ParsedManifest],
) -> Result<(Database, crate::store::yanked::Yanked, Vec<String>), ScanError> {
    let path = path.clone();
    let states = store.sources()?;
    let synced: Vec<_> = states.iter().filter(|s| s.last_success.is_some()).collect();
    if synced.is_empty() {
        return Err(ScanError::NeverSynced(path));
    }
    let mut notices = Vec::new();
    let now = jiff::Timestamp::now();
    for s in &states {
        let age = s.last_success.map(|t| now.duration_since(t));
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
    // Records converted by an older depwatch may carry its advice until a sync rewrites them.
    let resync = store.sources_needing_resync()?;
    if !resync.is_empty() {
        notices.push(format!(
            "store written by an older depwatch: run depwatch sync \
             (records of {} were converted by an older version and may give its advice)",
            resync.join(", ")
        ));
    }
    if require_fresh
        && notices.iter().any(|n| {
            n.contains("last synced") || n.contains("never synced") || n.contains("older depwatch")
        })
    {
        return Err(ScanError::Stale(notices.join("; ")));
    }
    let mut stored = store.records_for(&packages_of(parsed))?;
    let yanked = std::mem::take(&mut stored.yanked);
    Ok((Database::from_stored(stored), yanked, notices))
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
                kev: None,
                kev_related: Vec::new(),
                epss: None,
                vex: Vec::new(),
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
async fn database_online(url: &str, parsed: &[ParsedManifest]) -> Result<Database, ScanError> {
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
    let deadline = http.settings().feed_deadline;
    let (advisories, errors) =
        tokio::time::timeout(deadline, crate::feeds::osv_api::query(&http, url, &queries))
            .await
            .map_err(|_| {
                ScanError::Feed(FeedError::Invalid {
                    path: crate::feeds::http::redact(url).into(),
                    message: format!(
                        "the OSV API query did not finish within the feed deadline of {}s \
                         (DEPWATCH_FEED_DEADLINE)",
                        deadline.as_secs()
                    ),
                })
            })??;
    let source = format!("osv-api:{}", crate::feeds::http::redact(url));
    // Compiling the records is CPU work: off the executor.
    Ok(crate::blocking::off_executor(move || compile_online(source, advisories, errors)).await)
}

/// The OSV API's records compiled into a database; a record that does not compile is a load
/// error, as in a snapshot.
fn compile_online(
    source: String,
    advisories: Vec<crate::advisory::Advisory>,
    errors: Vec<crate::report::LoadError>,
) -> Database {
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
    Database::from_sources(vec![loaded])
}

/// The manifests under `opts.paths`, parsed.
fn parse_for(opts: &ScanOptions) -> Result<Vec<ParsedManifest>, ScanError> {
    parse_manifests_checked(&opts.paths, &opts.parse_options(), opts.require_manifest)
}

impl ScanOptions {
    /// How the scan parses its manifests (for a caller that parses them again: `sbom`).
    pub fn parse_options(&self) -> ParseOptions {
        ParseOptions {
            trusted_workspace: self.trusted_workspace,
            kind: self.kind,
            include_root: None,
            allow_outside_includes: self.allow_outside_includes,
        }
    }
}

/// The match settings: the given ignores plus the peer tools' ignore files, which sit next
/// to the manifests and so are read once those are found.
fn settings_for(opts: &ScanOptions, parsed: &[ParsedManifest]) -> Result<MatchSettings, ScanError> {
    let mut ignores = opts.ignores.clone();
    ignores.extend(crate::peer_ignores::discover(
        parsed.iter().map(|(p, _, _)| p.as_path()),
    )?);
    Ok(MatchSettings {
        ignores,
        today: opts.today,
        targets: opts.targets.clone(),
        vex: vex_statements(opts, parsed)?,
    })
}

/// The statements of the project's VEX documents: those listed in `opts.vex` and each
/// `.openvex.json` next to a scanned manifest. A document that is a symlink out of its root
/// (the scanned path holding it, or the manifest's directory) is refused, as a manifest is.
fn vex_statements(
    opts: &ScanOptions,
    parsed: &[ParsedManifest],
) -> Result<Vec<crate::vex::VexStatement>, ScanError> {
    let mut docs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for v in &opts.vex {
        let parent = v.parent().unwrap_or(Path::new(".")).to_path_buf();
        let root = opts
            .paths
            .iter()
            .map(|p| {
                if p.is_dir() {
                    p.clone()
                } else {
                    p.parent().unwrap_or(Path::new(".")).to_path_buf()
                }
            })
            .find(|r| v.starts_with(r))
            .unwrap_or(parent);
        docs.push((v.clone(), root));
    }
    let dirs: std::collections::BTreeSet<PathBuf> = parsed
        .iter()
        .map(|(p, _, _)| p.parent().unwrap_or(Path::new(".")).to_path_buf())
        .collect();
    for dir in dirs {
        let doc = dir.join(crate::vex::DISCOVERED_NAME);
        // `symlink_metadata`: a dangling symlink is found too, and refused below.
        if std::fs::symlink_metadata(&doc).is_ok() {
            docs.push((doc, dir));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (doc, root) in docs {
        if !seen.insert(doc.clone()) {
            continue;
        }
        if !opts.allow_outside_includes && symlink_out_of(&doc, &root) {
            return Err(crate::vex::VexError {
                path: doc,
                statement: None,
                message: "a symlink to a file outside the scanned root; not read \
                          (--allow-outside-includes follows it)"
                    .into(),
            }
            .into());
        }
        out.extend(crate::vex::load(&doc)?);
    }
    Ok(out)
}

/// Run a whole scan on the caller's tokio runtime. The online backend's queries run on it;
/// everything blocking (parsing, SQLite, rayon, matching) runs on its blocking pool, so an
/// async server can await this from any task.
pub async fn run(opts: &ScanOptions) -> Result<Report, ScanError> {
    let Backend::Online { url } = &opts.backend else {
        let opts = opts.clone();
        return crate::blocking::off_executor(move || run_offline(&opts)).await;
    };
    let o = opts.clone();
    let (parsed, settings) = crate::blocking::off_executor(move || {
        let parsed = parse_for(&o)?;
        let settings = settings_for(&o, &parsed)?;
        Ok::<_, ScanError>((parsed, settings))
    })
    .await?;
    let db = database_online(url, &parsed).await?;
    Ok(crate::blocking::off_executor(move || {
        let mut report = matcher::build_report(&db, &parsed, &settings);
        summarise_workspace_crates(&parsed, &mut report);
        report
    })
    .await)
}

/// Run a whole scan from local data (the sources or store backends) on this thread; it
/// blocks. The online backend needs the network: [`run`] answers it, this returns
/// [`ScanError::NeedsRuntime`].
pub fn run_offline(opts: &ScanOptions) -> Result<Report, ScanError> {
    run_offline_for(opts, None)
}

/// Packages as (ecosystem, normalised name).
pub type PackageSet = std::collections::BTreeSet<(crate::ecosystem::Ecosystem, String)>;

/// [`run_offline`] matching only the dependencies on `only`'s packages (all when `None`):
/// the watcher's fast lane re-matches just the packages whose advisories changed. The
/// manifests are still all parsed, so a broken one is still reported.
pub fn run_offline_for(opts: &ScanOptions, only: Option<&PackageSet>) -> Result<Report, ScanError> {
    run_offline_packages(opts, only).map(|(r, _)| r)
}

/// [`run_offline_for`], also returning every package the parsed manifests depend on
/// (before `only` filters them): what the monitor remembers to tell whether an advisory
/// change concerns the project.
pub fn run_offline_packages(
    opts: &ScanOptions,
    only: Option<&PackageSet>,
) -> Result<(Report, PackageSet), ScanError> {
    match &opts.backend {
        Backend::Online { .. } => Err(ScanError::NeedsRuntime),
        Backend::Sources(sources) => {
            // Sources and manifests are independent: load them side by side.
            let (db, parsed) = rayon::join(|| load_database(sources), || parse_project(opts, only));
            let (db, parsed) = (db?, parsed?);
            let settings = settings_for(opts, &parsed.manifests)?;
            let mut report = matcher::build_report(&db, &parsed.manifests, &settings);
            summarise_workspace_crates(&parsed.manifests, &mut report);
            Ok((report, parsed.packages))
        }
        Backend::Store {
            path,
            max_age,
            require_fresh,
        } => {
            // A scan never creates a store: a missing one was never synced.
            if path.sqlite_path().is_some_and(|p| !p.exists()) {
                return Err(ScanError::NeverSynced(path.clone()));
            }
            // A PostgreSQL store runs on this thread's runtime, which the helper thread enters.
            let rt = tokio::runtime::Handle::try_current().ok();
            // Opening the store (pragmas, schema check) and parsing are independent: overlap
            // them. The store opens on a helper thread; parsing, which allocates most, stays on
            // the main thread and its malloc arena.
            let (parsed, store) = std::thread::scope(|s| {
                let opening = s.spawn(|| {
                    let _rt = rt.as_ref().map(|h| h.enter());
                    crate::store::open_read_only(path)
                });
                let parsed = parse_project(opts, only);
                let store = opening.join().unwrap_or_else(|_| {
                    Err(crate::store::StoreError::Io {
                        path: path.to_string().into(),
                        source: std::io::Error::other("the thread opening the store panicked"),
                    })
                });
                (parsed, store)
            });
            let (parsed, mut store) = (parsed?, store?);
            report_from_store(&mut store, path, (*max_age, *require_fresh), opts, parsed)
        }
    }
}

/// A project's manifests, read and parsed: the part of a scan that reads the checkout
/// ([`parse_project`]), to be matched against a store already open ([`report_from_store`]).
pub struct ParsedManifests {
    manifests: Vec<ParsedManifest>,
    /// Every package the manifests depend on, before `only` filtered them.
    packages: PackageSet,
}

/// Read and parse `opts`'s manifests, keeping only the dependencies on `only`'s packages
/// (all when `None`); every package is still listed in the result's package set.
pub fn parse_project(
    opts: &ScanOptions,
    only: Option<&PackageSet>,
) -> Result<ParsedManifests, ScanError> {
    let mut manifests = parse_for(opts)?;
    let mut packages = PackageSet::new();
    for (_, _, m) in &manifests {
        if let Ok(m) = m {
            packages.extend(
                m.dependencies
                    .iter()
                    .map(|d| (d.ecosystem, d.ecosystem.normalize_name(&d.name))),
            );
        }
    }
    if let Some(only) = only {
        for (_, _, m) in &mut manifests {
            if let Ok(m) = m {
                m.dependencies
                    .retain(|d| only.contains(&(d.ecosystem, d.ecosystem.normalize_name(&d.name))));
            }
        }
    }
    Ok(ParsedManifests {
        manifests,
        packages,
    })
}

/// Match parsed manifests against `store`, found at `at`, with the store backend's freshness
/// settings (the store backend's second half; `opts.backend` is not read): `run` matches
/// every project against the cycle's one open store instead of opening it again per project.
pub fn report_from_store(
    store: &mut impl crate::store::AdvisoryStore,
    at: &crate::store::Location,
    (max_age, require_fresh): (jiff::SignedDuration, bool),
    opts: &ScanOptions,
    parsed: ParsedManifests,
) -> Result<(Report, PackageSet), ScanError> {
    let ParsedManifests {
        manifests: parsed,
        packages,
    } = parsed;
    let settings = settings_for(opts, &parsed)?;
    let (db, yanked, notices) = database_from_store(store, at, max_age, require_fresh, &parsed)?;
    let mut report = matcher::build_report(&db, &parsed, &settings);
    let related = related_cves(&db, &report);
    let signals = store.signals_for(&wanted_cves(&report, &related))?;
    join_exploit_data(&mut report, &related, &signals);
    // The store's notices first, then the matcher's (markers it could not read, VEX
    // contradictions).
    report.notices.splice(0..0, notices);
    add_yanked(&yanked, &parsed, &mut report);
    summarise_workspace_crates(&parsed, &mut report);
    Ok((report, packages))
}

/// The CVE ids each finding's records name only as `related`, one list per finding of
/// `report.findings` (same order).
fn related_cves(db: &Database, report: &Report) -> Vec<Vec<String>> {
    report
        .findings
        .iter()
        .map(|f| {
            let eco = f.package.ecosystem;
            let mut out: Vec<String> = db
                .lookup(eco, &eco.normalize_name(&f.package.name))
                .iter()
                .filter(|h| f.ids.contains(&h.advisory.advisory.id))
                .flat_map(|h| h.advisory.advisory.related.iter())
                .filter(|r| feeds::signal::is_cve(r) && !f.ids.contains(r))
                .cloned()
                .collect();
            out.sort();
            out.dedup();
            out
        })
        .collect()
}

/// Every CVE the exploit data is looked up for: the findings' ids and related CVEs.
fn wanted_cves(report: &Report, related: &[Vec<String>]) -> Vec<String> {
    let mut out: Vec<String> = report
        .findings
        .iter()
        .flat_map(|f| f.ids.iter())
        .chain(related.iter().flatten())
        .filter(|id| feeds::signal::is_cve(id))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Mark each finding with the KEV entry and EPSS score of its CVEs (`kev`, `epss`), and with
/// the KEV entries of CVEs its records name only as `related` (`kev_related`), then put the
/// findings in the one order ([`crate::report::finding_order`]).
pub fn join_exploit_data(
    report: &mut Report,
    related: &[Vec<String>],
    signals: &feeds::signal::ExploitSignals,
) {
    for (i, f) in report.findings.iter_mut().enumerate() {
        // The earliest listed of its CVEs: when it became known exploited.
        f.kev = f
            .ids
            .iter()
            .filter_map(|id| signals.kev.get(id))
            .min_by(|a, b| (a.date_added, &a.cve).cmp(&(b.date_added, &b.cve)))
            .cloned();
        f.epss = f
            .ids
            .iter()
            .filter_map(|id| signals.epss.get(id))
            .max_by(|a, b| a.score.total_cmp(&b.score).then(b.cve.cmp(&a.cve)))
            .cloned();
        f.kev_related = related
            .get(i)
            .into_iter()
            .flatten()
            .filter_map(|id| signals.kev.get(id))
            .cloned()
            .collect();
    }
    // Stable: the matcher's order (location) breaks ties.
    report.findings.sort_by(crate::report::finding_order);
}

/// Read KEV / EPSS files (`--source kev:PATH`, `--source epss:PATH`) for the CVEs of a
/// report; a later file of a kind replaces an earlier one, as a sync does.
fn signals_from_files(
    files: &[feeds::signal::SignalSpec],
    cves: &[String],
) -> Result<feeds::signal::ExploitSignals, ScanError> {
    let wanted: std::collections::HashSet<&str> = cves.iter().map(String::as_str).collect();
    let mut out = feeds::signal::ExploitSignals::default();
    let budget = feeds::budget::Budget::from_env();
    for spec in files {
        let data = feeds::signal::load_file(spec.kind, &spec.path, &budget)?;
        out.add(&data, &spec.canonical().to_string(), &wanted);
    }
    Ok(out)
}

/// [`run_offline`] with KEV / EPSS files read directly (`--source kev:PATH`,
/// `--source epss:PATH`). A store scan reads the exploit data the store holds whatever
/// `signal_files` says; a sources scan reads only these files.
pub fn run_offline_with(
    opts: &ScanOptions,
    signal_files: &[feeds::signal::SignalSpec],
) -> Result<Report, ScanError> {
    match &opts.backend {
        Backend::Online { .. } => Err(ScanError::NeedsRuntime),
        Backend::Sources(sources) => {
            let (db, parsed) = rayon::join(|| load_database(sources), || parse_for(opts));
            let (db, parsed) = (db?, parsed?);
            let settings = settings_for(opts, &parsed)?;
            let mut report = matcher::build_report(&db, &parsed, &settings);
            if !signal_files.is_empty() {
                let related = related_cves(&db, &report);
                let signals = signals_from_files(signal_files, &wanted_cves(&report, &related))?;
                join_exploit_data(&mut report, &related, &signals);
            }
            summarise_workspace_crates(&parsed, &mut report);
            Ok(report)
        }
        Backend::Store { .. } => run_offline(opts),
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
        origin: Some("--ignore".into()),
        ..Default::default()
    }));
    v
}
