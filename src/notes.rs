//! `depwatch notes`: the security section of release notes between two git revisions.
//!
//! Each revision's manifests are exported from git into a temporary directory (same relative
//! paths, so `-r other.txt` includes still resolve), scanned with
//! [`crate::scan::run_offline`], and the two reports are compared: advisories fixed by the
//! changes, still open, and newly introduced. Prose comes from the `release-notes.md` template.

use crate::ecosystem::Ecosystem;
use crate::manifests::{ManifestKind, ParseOptions, Requirement};
use crate::matcher::ParsedManifest;
use crate::publish::templates::{TemplateError, Templates};
use crate::report::{Finding, Fix, Report};
use crate::scan::{Backend, ScanError, ScanOptions};
use crate::severity::Level;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// What to compare and how.
#[derive(Debug, Clone)]
pub struct NotesOptions {
    /// The git repository (work tree or bare).
    pub repo: PathBuf,
    /// The older revision (a tag, branch or commit).
    pub from: String,
    /// The newer revision.
    pub to: String,
    /// Where advisories come from (both revisions are scanned against the same data).
    pub backend: Backend,
    /// A directory of template overrides (`release-notes.md.hbs`).
    pub templates_dir: Option<PathBuf>,
    /// Today's date (for ignore expiry in the scanner).
    pub today: jiff::civil::Date,
}

/// Why release notes could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NotesError {
    /// A git command failed or a revision is invalid.
    #[error("git in {repo}, revision {rev:?}: {message}")]
    Git {
        /// The repository.
        repo: PathBuf,
        /// The revision as given.
        rev: String,
        /// What went wrong (git's stderr when git ran).
        message: String,
    },
    /// A scan failed.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// The template failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A temporary file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A manifest of a revision could not be parsed: notes without it would claim less than
    /// is known, so this is an error rather than an empty section.
    #[error("{repo}, revision {rev:?}: {path}: {message}")]
    Manifest {
        /// The repository.
        repo: PathBuf,
        /// The revision as given.
        rev: String,
        /// The manifest, relative to the repository root.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// Neither revision has a manifest depwatch reads: "no advisories changed" would be an
    /// empty claim.
    #[error(
        "{repo}: no manifest depwatch reads (Cargo.lock, requirements*.txt, pyproject.toml, ...) \
         at revision {from:?} or {to:?}"
    )]
    NoManifests {
        /// The repository.
        repo: PathBuf,
        /// The older revision.
        from: String,
        /// The newer revision.
        to: String,
    },
}

/// One advisory on one package, as it stands between the two revisions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NoteEntry {
    /// The package's ecosystem.
    pub ecosystem: Ecosystem,
    /// The package name as written (in the newer revision when it is there).
    pub package: String,
    /// The display id of the advisory.
    pub id: String,
    /// Every id of the advisory, sorted (includes `id`).
    pub ids: Vec<String>,
    /// Severity (highest of the two revisions).
    pub severity: Level,
    /// Malware (an OSV `MAL-` record): shown as malicious, not by its `severity`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub malicious: bool,
    /// One-line summary.
    pub summary: Option<String>,
    /// A link for people.
    pub url: Option<String>,
    /// Affected versions at the older revision (empty for introduced advisories).
    pub from_versions: Vec<String>,
    /// Affected versions at the newer revision (empty for fixed advisories).
    pub to_versions: Vec<String>,
    /// Fixed advisories only: the package's versions (or requirements) at the newer
    /// revision; `Some([])` when the package is gone, `None` when not known (see
    /// [`compare_with_packages`]).
    pub now: Option<Vec<String>>,
    /// The recommended fixes at the newer revision (still open and introduced advisories).
    pub fixes: Vec<Fix>,
    /// Declaring files, relative to the repository root.
    pub files: Vec<PathBuf>,
    /// Its CISA KEV entry (the newer revision's when both have one), ordered next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kev: Option<crate::report::KevMark>,
    /// Its EPSS score (the newer revision's when both have one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss: Option<crate::report::EpssMark>,
}

/// The security section of release notes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReleaseNotes {
    /// The older revision as given.
    pub from: String,
    /// The newer revision as given.
    pub to: String,
    /// Advisories affecting the older revision and not the newer one.
    pub fixed: Vec<NoteEntry>,
    /// Advisories affecting both.
    pub still_open: Vec<NoteEntry>,
    /// Advisories affecting only the newer revision.
    pub introduced: Vec<NoteEntry>,
    /// Non-fatal problems met while reading the revisions (manifest warnings, such as an
    /// include that was not found), each naming the revision and file.
    pub warnings: Vec<String>,
}

/// The versions (or requirements as written) of each package in a revision, by (ecosystem,
/// normalised name).
pub type PackageVersions = BTreeMap<(Ecosystem, String), Vec<String>>;

/// Packages of parsed manifests with their versions: pinned versions as written, ranges as
/// written, unchecked requirements as `not checked`.
pub fn package_versions(parsed: &[ParsedManifest]) -> PackageVersions {
    let mut out: PackageVersions = BTreeMap::new();
    for m in parsed.iter().filter_map(|(_, _, m)| m.as_ref().ok()) {
        for d in &m.dependencies {
            let v = match &d.requirement {
                Requirement::Pinned { text, .. } => text.clone(),
                Requirement::Range { text, .. } => text.clone(),
                Requirement::NotChecked { .. } => "not checked".to_string(),
            };
            let list = out
                .entry((d.ecosystem, d.ecosystem.normalize_name(&d.name)))
                .or_default();
            if !list.contains(&v) {
                list.push(v);
            }
        }
    }
    for ((eco, _), list) in out.iter_mut() {
        sort_versions(*eco, list);
    }
    out
}

// ---------------------------------------------------------------------------------------
// git
// ---------------------------------------------------------------------------------------

/// The operator's `safe.directory` entries (system and global config), read once. Git runs on
/// the scanned repository without those files (see [`git`]), but their `safe.directory` list is
/// the operator's word on which checkouts owned by another user may be read (actions/checkout
/// writes one in container jobs), so it is passed on the command line, where git honours it.
fn operator_safe_directories() -> &'static [String] {
    static DIRS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    DIRS.get_or_init(|| {
        let mut dirs = Vec::new();
        for scope in ["--system", "--global"] {
            let out = Command::new("git")
                .args(["config", scope, "--get-all", "safe.directory"])
                .current_dir(std::env::temp_dir())
                .env_remove("GIT_DIR")
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output();
            if let Some(out) = out.ok().filter(|o| o.status.success()) {
                let text = String::from_utf8_lossy(&out.stdout);
                dirs.extend(text.lines().filter(|l| !l.is_empty()).map(String::from));
            }
        }
        dirs
    })
}

/// Run git in `repo` with a fixed, inert configuration: no pager, C locale, unquoted paths,
/// no fsmonitor or hooks, and no `GIT_*` variables that would point it at another repository.
/// The repository's own `.git/config` is not trusted: lazy fetch of a partial clone would run
/// its `core.sshCommand` (or any transport), so lazy fetch is off and every protocol is
/// refused; a missing object is then an error, never a fetch. System and global config are
/// left out too, so the operator's own settings cannot turn any of that back on.
fn git(
    repo: &Path,
    rev: &str,
    args: &[&str],
    input: Option<Vec<u8>>,
) -> Result<Vec<u8>, NotesError> {
    let fail = |message: String| NotesError::Git {
        repo: repo.to_path_buf(),
        rev: rev.to_string(),
        message,
    };
    let mut cmd = Command::new("git");
    cmd.arg("--no-pager")
        // Git 2.45 and later; an older git fails here with "unknown option", which is safe.
        .arg("--no-lazy-fetch")
        .arg("-C")
        .arg(repo)
        .args([
            "-c",
            "core.quotepath=off",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "protocol.allow=never",
        ]);
    for dir in operator_safe_directories() {
        cmd.arg("-c").arg(format!("safe.directory={dir}"));
    }
    cmd.args(args)
        .env("LC_ALL", "C")
        .env("GIT_PAGER", "cat")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_NO_LAZY_FETCH", "1")
        .env("GIT_PROTOCOL_FROM_USER", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_EXTERNAL_DIFF",
        "GIT_CONFIG",
        "GIT_CONFIG_SYSTEM",
        "GIT_ALLOW_PROTOCOL",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(format!("cannot run git: {e}")))?;
    // Feed stdin from a thread: git writes while it reads, and a full pipe either way would
    // deadlock a single thread.
    let writer = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(std::thread::spawn(move || stdin.write_all(&bytes))),
        _ => None,
    };
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("git did not finish: {e}")))?;
    if let Some(w) = writer {
        // A write error (git exited early) shows up as git's own failure below.
        let _ = w.join();
    }
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.trim();
        return Err(fail(format!(
            "`git {}` failed ({}){}{}",
            args.first().copied().unwrap_or(""),
            out.status,
            if stderr.is_empty() { "" } else { ": " },
            crate::text::shorten(stderr, 2000)
        )));
    }
    Ok(out.stdout)
}

/// Check a revision and resolve it to a commit id.
fn resolve(repo: &Path, rev: &str) -> Result<String, NotesError> {
    let bad = |message: &str| NotesError::Git {
        repo: repo.to_path_buf(),
        rev: rev.to_string(),
        message: message.to_string(),
    };
    if rev.is_empty() {
        return Err(bad("empty revision"));
    }
    // A leading '-' would be read as an option by git (`--output=FILE`).
    if rev.starts_with('-') {
        return Err(bad("not a revision: must not start with '-'"));
    }
    if rev.chars().any(|c| c.is_control()) {
        return Err(bad("not a revision: contains control characters"));
    }
    let spec = format!("{rev}^{{commit}}");
    let out = git(
        repo,
        rev,
        &["rev-parse", "--verify", "--end-of-options", &spec],
        None,
    )
    .map_err(|e| match e {
        NotesError::Git { repo, rev, message } => NotesError::Git {
            message: format!("not a commit in this repository ({message})"),
            repo,
            rev,
        },
        other => other,
    })?;
    let id = String::from_utf8_lossy(&out).trim().to_string();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(&format!(
            "git rev-parse gave an unexpected answer {id:?}"
        )));
    }
    Ok(id)
}

/// A blob of the tree to export.
struct Entry {
    object: String,
    /// `None` when git could not read the object (missing from a partial clone, corrupt).
    size: Option<u64>,
    path: String,
}

/// Files exported besides manifests: any `.txt` / `.in` file may be the target of a
/// `-r` / `-c` include (`-r base.txt`).
fn may_be_included(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".txt") || lower.ends_with(".in")
}

/// True for a relative path of plain components (git refuses `..` and `.git`, but the tree
/// comes from a repository we do not trust).
fn safe_relative(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty()
        && p.components().all(|c| match c {
            Component::Normal(s) => !s.eq_ignore_ascii_case(".git"),
            _ => false,
        })
}

/// Parse `git ls-tree -r -z -l` output: `MODE TYPE OBJECT SIZE\tPATH\0`.
fn parse_ls_tree(out: &[u8]) -> Vec<Entry> {
    let mut entries = Vec::new();
    for rec in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let Some(tab) = rec.iter().position(|&b| b == b'\t') else {
            continue;
        };
        let (Ok(meta), Ok(path)) = (
            std::str::from_utf8(&rec[..tab]),
            std::str::from_utf8(&rec[tab + 1..]),
        ) else {
            continue;
        };
        let f: Vec<&str> = meta.split_whitespace().collect();
        // Regular files only: symlinks (120000) hold a target path, gitlinks a commit.
        let [mode, "blob", object, size] = f.as_slice() else {
            continue;
        };
        if !matches!(*mode, "100644" | "100755") {
            continue;
        }
        entries.push(Entry {
            object: object.to_string(),
            size: size.parse().ok(),
            path: path.to_string(),
        });
    }
    entries
}

/// Split `git cat-file --batch` output into the contents of each object, in request order.
/// On failure (a `missing` object, truncated output), the index of the first object not read.
fn parse_batch(out: &[u8], count: usize) -> Result<Vec<&[u8]>, usize> {
    let mut rest = out;
    let mut blobs = Vec::with_capacity(count);
    for i in 0..count {
        let one = || -> Option<(&[u8], &[u8])> {
            let nl = rest.iter().position(|&b| b == b'\n')?;
            let header = std::str::from_utf8(&rest[..nl]).ok()?;
            let size: usize = header.rsplit(' ').next()?.parse().ok()?;
            let start = nl + 1;
            let end = start.checked_add(size)?;
            Some((rest.get(start..end)?, rest.get(end + 1..)?))
        };
        let (blob, tail) = one().ok_or(i)?;
        blobs.push(blob);
        rest = tail;
    }
    Ok(blobs)
}

/// The error for a file of the revision whose object git could not read.
fn unreadable(repo: &Path, rev: &str, e: &Entry) -> NotesError {
    NotesError::Manifest {
        repo: repo.to_path_buf(),
        rev: rev.to_string(),
        path: PathBuf::from(&e.path),
        message: format!(
            "git object {} is missing or unreadable (a partial clone's objects are never \
             fetched); fetch the revision completely and run again",
            e.object
        ),
    }
}

/// Write the manifests of `rev` (and any `.txt` / `.in` file, for includes) under `dest` at
/// their paths relative to the repository root. Returns the files written, relative to
/// `dest`, sorted. Symlinks, submodules and non-UTF-8 paths are skipped.
pub fn export_revision(repo: &Path, rev: &str, dest: &Path) -> Result<Vec<PathBuf>, NotesError> {
    let commit = resolve(repo, rev)?;
    let listing = git(
        repo,
        rev,
        &["ls-tree", "-r", "-z", "-l", "--full-tree", &commit],
        None,
    )?;
    let mut wanted = Vec::new();
    for e in parse_ls_tree(&listing) {
        if !safe_relative(&e.path) {
            continue;
        }
        let manifest = ManifestKind::detect(Path::new(&e.path)).is_some();
        if !manifest && !may_be_included(&e.path) {
            continue;
        }
        // An object git cannot read must not make its manifest vanish: notes would then
        // report that manifest's vulnerabilities as fixed.
        let Some(size) = e.size else {
            return Err(unreadable(repo, rev, &e));
        };
        if size > crate::manifests::MAX_MANIFEST_BYTES {
            if manifest {
                return Err(NotesError::Manifest {
                    repo: repo.to_path_buf(),
                    rev: rev.to_string(),
                    path: PathBuf::from(&e.path),
                    message: format!(
                        "file is {} bytes, larger than the {}-byte limit",
                        size,
                        crate::manifests::MAX_MANIFEST_BYTES
                    ),
                });
            }
            continue;
        }
        wanted.push(e);
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let input: String = wanted.iter().map(|e| format!("{}\n", e.object)).collect();
    let out = git(
        repo,
        rev,
        &["cat-file", "--batch"],
        Some(input.into_bytes()),
    )?;
    let blobs = parse_batch(&out, wanted.len()).map_err(|i| match wanted.get(i) {
        Some(e) => unreadable(repo, rev, e),
        None => NotesError::Git {
            repo: repo.to_path_buf(),
            rev: rev.to_string(),
            message: "unexpected `git cat-file --batch` output".into(),
        },
    })?;
    let mut written = Vec::with_capacity(wanted.len());
    for (e, blob) in wanted.iter().zip(blobs) {
        let rel = PathBuf::from(&e.path);
        let path = dest.join(&rel);
        let io = |source| NotesError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, blob).map_err(io)?;
        written.push(rel);
    }
    written.sort();
    Ok(written)
}

// ---------------------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------------------

/// One advisory on one package within one revision (findings merged across files).
struct Group {
    ecosystem: Ecosystem,
    key: String,
    package: String,
    id: String,
    ids: BTreeSet<String>,
    severity: Level,
    malicious: bool,
    summary: Option<String>,
    url: Option<String>,
    versions: Vec<String>,
    fixes: Vec<Fix>,
    files: BTreeSet<PathBuf>,
    kev: Option<crate::report::KevMark>,
    epss: Option<crate::report::EpssMark>,
}

fn groups(findings: &[Finding]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for f in findings {
        let key = f.package.ecosystem.normalize_name(&f.package.name);
        let pos = out
            .iter()
            .position(|g| g.ecosystem == f.package.ecosystem && g.key == key && g.id == f.id);
        let g = match pos {
            Some(i) => &mut out[i],
            None => {
                out.push(new_group(f, key));
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        g.ids.extend(f.ids.iter().cloned());
        g.severity = g.severity.max(f.severity);
        g.malicious |= f.is_malicious();
        if g.kev.is_none() {
            g.kev = f.kev.clone();
        }
        if g.epss.is_none() {
            g.epss = f.epss.clone();
        }
        if g.summary.is_none() {
            g.summary = f.summary.clone();
        }
        if g.url.is_none() {
            g.url = f.url.clone();
        }
        if !g.versions.contains(&f.package.version) {
            g.versions.push(f.package.version.clone());
        }
        if !g.fixes.contains(&f.fix) {
            g.fixes.push(f.fix.clone());
        }
        g.files.insert(f.location.file.clone());
    }
    for g in &mut out {
        sort_versions(g.ecosystem, &mut g.versions);
    }
    out
}

fn new_group(f: &Finding, key: String) -> Group {
    Group {
        ecosystem: f.package.ecosystem,
        key,
        package: f.package.name.clone(),
        id: f.id.clone(),
        ids: BTreeSet::from([f.id.clone()]),
        severity: f.severity,
        malicious: f.is_malicious(),
        summary: None,
        url: None,
        versions: Vec::new(),
        fixes: Vec::new(),
        files: BTreeSet::new(),
        kev: None,
        epss: None,
    }
}

/// Sort versions in the ecosystem's order (unparsable ones last, as text).
fn sort_versions(eco: Ecosystem, list: &mut [String]) {
    list.sort_by(|a, b| match (eco.parse_version(a), eco.parse_version(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    });
}

fn entry(g: &Group) -> NoteEntry {
    NoteEntry {
        ecosystem: g.ecosystem,
        package: g.package.clone(),
        id: g.id.clone(),
        ids: g.ids.iter().cloned().collect(),
        severity: g.severity,
        malicious: g.malicious,
        summary: g.summary.clone(),
        url: g.url.clone(),
        from_versions: Vec::new(),
        to_versions: Vec::new(),
        now: None,
        fixes: Vec::new(),
        files: g.files.iter().cloned().collect(),
        kev: g.kev.clone(),
        epss: g.epss.clone(),
    }
}

/// The one finding order (malware, KEV, EPSS, severity descending), then package, then id.
fn sort_entries(list: &mut [NoteEntry]) {
    list.sort_by(|a, b| {
        (!a.malicious, a.kev.is_none())
            .cmp(&(!b.malicious, b.kev.is_none()))
            .then_with(|| {
                let score = |e: &NoteEntry| e.epss.as_ref().map_or(-1.0, |x| x.score);
                score(b).total_cmp(&score(a))
            })
            .then(b.severity.cmp(&a.severity))
            .then_with(|| {
                a.ecosystem
                    .normalize_name(&a.package)
                    .cmp(&b.ecosystem.normalize_name(&b.package))
            })
            .then_with(|| a.ecosystem.cmp(&b.ecosystem))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// Compare the reports of two revisions. Findings are the same advisory when they share
/// ecosystem, normalised package name and any id; file locations are not compared (they are
/// expected relative to the repository root). Fixed entries have `now: None`: the reports do
/// not list every package, see [`compare_with_packages`].
pub fn compare(from: &Report, to: &Report, from_rev: &str, to_rev: &str) -> ReleaseNotes {
    compare_with_packages(from, to, from_rev, to_rev, None)
}

/// [`compare`], with the newer revision's packages to say what each fixed advisory's package
/// became (an upgrade, or removed).
pub fn compare_with_packages(
    from: &Report,
    to: &Report,
    from_rev: &str,
    to_rev: &str,
    to_packages: Option<&PackageVersions>,
) -> ReleaseNotes {
    compare_findings(&from.findings, &to.findings, from_rev, to_rev, to_packages)
}

/// The one release-notes builder: what was open at `from_rev` (`from`) against what is open at
/// `to_rev` (`to`). `depwatch notes` compares two revisions' reports with it; `depwatch run`
/// compares the findings open before the run with those open after it.
pub fn compare_findings(
    from: &[Finding],
    to: &[Finding],
    from_rev: &str,
    to_rev: &str,
    to_packages: Option<&PackageVersions>,
) -> ReleaseNotes {
    let old = groups(from);
    let new = groups(to);
    let mut used = vec![false; new.len()];
    let mut notes = ReleaseNotes {
        from: from_rev.to_string(),
        to: to_rev.to_string(),
        fixed: Vec::new(),
        still_open: Vec::new(),
        introduced: Vec::new(),
        warnings: Vec::new(),
    };
    for o in &old {
        let matches: Vec<usize> = new
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.ecosystem == o.ecosystem && n.key == o.key && !n.ids.is_disjoint(&o.ids)
            })
            .map(|(i, _)| i)
            .collect();
        if matches.is_empty() {
            let mut e = entry(o);
            e.from_versions = o.versions.clone();
            e.now = to_packages.map(|p| {
                p.get(&(o.ecosystem, o.key.clone()))
                    .cloned()
                    .unwrap_or_default()
            });
            notes.fixed.push(e);
            continue;
        }
        // The newer revision's data wins for display (name as now written, current fix).
        let first = &new[matches[0]];
        let mut e = entry(first);
        e.from_versions = o.versions.clone();
        e.severity = e.severity.max(o.severity);
        e.ids.extend(o.ids.iter().cloned());
        e.malicious |= o.malicious;
        e.kev = e.kev.or_else(|| o.kev.clone());
        e.epss = e.epss.or_else(|| o.epss.clone());
        for &i in &matches {
            used[i] = true;
            let n = &new[i];
            e.severity = e.severity.max(n.severity);
            e.ids.extend(n.ids.iter().cloned());
            e.to_versions.extend(n.versions.iter().cloned());
            for f in &n.fixes {
                if !e.fixes.contains(f) {
                    e.fixes.push(f.clone());
                }
            }
            e.files.extend(n.files.iter().cloned());
        }
        e.ids.sort();
        e.ids.dedup();
        e.files.sort();
        e.files.dedup();
        e.to_versions.dedup();
        sort_versions(e.ecosystem, &mut e.to_versions);
        e.to_versions.dedup();
        notes.still_open.push(e);
    }
    for (n, _) in new.iter().zip(&used).filter(|(_, u)| !**u) {
        let mut e = entry(n);
        e.to_versions = n.versions.clone();
        e.fixes = n.fixes.clone();
        notes.introduced.push(e);
    }
    sort_entries(&mut notes.fixed);
    sort_entries(&mut notes.still_open);
    sort_entries(&mut notes.introduced);
    notes
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

/// One line of the template's context: every field pre-formatted markdown (strict mode).
#[derive(Serialize)]
struct ItemContext {
    severity: String,
    ecosystem: String,
    package: String,
    id: String,
    /// The display id, linked when there is a URL.
    advisory: String,
    /// `CVE-...` aliases, comma-separated (empty when none).
    aliases: String,
    summary: String,
    url: String,
    from_versions: String,
    to_versions: String,
    /// Fixed: what the package became (`2.32.2`, `removed`, `no longer affected`).
    now: String,
    /// Still open and new: the recommended fix as a sentence fragment.
    fix: String,
    files: String,
}

#[derive(Serialize)]
struct NotesContext {
    from: String,
    to: String,
    has_changes: bool,
    fixed: Vec<ItemContext>,
    still_open: Vec<ItemContext>,
    introduced: Vec<ItemContext>,
}

/// Markdown prose on one line, by the one markdown escape ([`crate::text::escape_markdown`]).
fn md(s: &str) -> String {
    crate::text::escape_markdown(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A code span (names and versions): backticks cannot be escaped inside one, so drop them.
fn code(s: &str) -> String {
    let clean: String = s.chars().filter(|&c| c != '`' && !c.is_control()).collect();
    format!("`{clean}`")
}

/// A URL safe inside `[text](url)`, or `None` for anything but http(s).
fn link_target(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            c if c.is_control() || c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

fn versions(list: &[String]) -> String {
    list.iter().map(|v| code(v)).collect::<Vec<_>>().join(", ")
}

fn fix_text(fixes: &[Fix]) -> String {
    let parts: Vec<String> = fixes
        .iter()
        .map(|f| match f {
            Fix::Upgrade { to } => format!("upgrade to {}", code(to)),
            Fix::NoSafeVersion => "no version is free of every advisory".to_string(),
            Fix::NoFix => "no fixed version yet".to_string(),
            Fix::RemoveRelease { .. } | Fix::CheckIndex { .. } => f.malware_advice(),
        })
        .collect();
    parts.join("; ")
}

fn capitalised(level: Level) -> String {
    let s = level.as_str();
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

fn item(e: &NoteEntry) -> ItemContext {
    let id = md(&e.id);
    let url = e.url.as_deref().and_then(link_target);
    let advisory = match &url {
        Some(u) => format!("[{id}]({u})"),
        None => id.clone(),
    };
    let aliases: Vec<String> = e
        .ids
        .iter()
        .filter(|i| *i != &e.id && i.starts_with("CVE-"))
        .map(|i| md(i))
        .collect();
    let now = match &e.now {
        Some(list) if list.is_empty() => "removed".to_string(),
        Some(list) => versions(list),
        None => "no longer affected".to_string(),
    };
    ItemContext {
        severity: if e.malicious {
            "Malicious".to_string()
        } else {
            capitalised(e.severity)
        },
        ecosystem: md(&e.ecosystem.to_string()),
        package: code(&e.package),
        id,
        advisory,
        aliases: aliases.join(", "),
        summary: e.summary.as_deref().map(md).unwrap_or_default(),
        url: url.unwrap_or_default(),
        from_versions: versions(&e.from_versions),
        to_versions: versions(&e.to_versions),
        now,
        fix: fix_text(&e.fixes),
        files: e
            .files
            .iter()
            .map(|f| code(&f.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Render the notes with the `release-notes.md` template.
pub fn render(t: &Templates, notes: &ReleaseNotes) -> Result<String, TemplateError> {
    let ctx = NotesContext {
        from: code(&notes.from),
        to: code(&notes.to),
        has_changes: !(notes.fixed.is_empty()
            && notes.still_open.is_empty()
            && notes.introduced.is_empty()),
        fixed: notes.fixed.iter().map(item).collect(),
        still_open: notes.still_open.iter().map(item).collect(),
        introduced: notes.introduced.iter().map(item).collect(),
    };
    let text = t.render("release-notes.md", &ctx)?;
    // Block helpers leave blank lines behind the last section: end with exactly one newline.
    Ok(format!("{}\n", text.trim_end()))
}

// ---------------------------------------------------------------------------------------
// The whole command
// ---------------------------------------------------------------------------------------

/// A temporary directory removed on drop (the crate has `tempfile` only for tests).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, NotesError> {
        let base = std::env::temp_dir();
        let stamp = jiff::Timestamp::now().as_nanosecond();
        for attempt in 0..100u32 {
            let path = base.join(format!(
                "depwatch-notes-{}-{stamp}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Self(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(NotesError::Io { path, source }),
            }
        }
        Err(NotesError::Io {
            path: base,
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "no free temporary directory name",
            ),
        })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover temp dir is harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Make `path` relative to `root` when it is under it.
fn relative(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Messages name the temporary directory: make them name repository paths.
fn relative_message(message: &str, root: &Path) -> String {
    let prefix = format!("{}{}", root.display(), std::path::MAIN_SEPARATOR);
    message.replace(&prefix, "")
}

/// One revision exported and scanned.
struct Scanned {
    report: Report,
    manifests: usize,
    parsed: Vec<ParsedManifest>,
}

fn scan_revision(opts: &NotesOptions, rev: &str, dir: &Path) -> Result<Scanned, NotesError> {
    export_revision(&opts.repo, rev, dir)?;
    let paths = vec![dir.to_path_buf()];
    let parsed = crate::scan::parse_manifests(&paths, &ParseOptions::default())?;
    for (path, _, m) in &parsed {
        if let Err(e) = m {
            return Err(NotesError::Manifest {
                repo: opts.repo.clone(),
                rev: rev.to_string(),
                path: relative(path, dir),
                message: relative_message(&e.to_string(), dir),
            });
        }
    }
    let mut report = crate::scan::run_offline(&ScanOptions {
        paths,
        backend: opts.backend.clone(),
        ignores: Vec::new(),
        trusted_workspace: false,
        allow_outside_includes: false,
        vex: Vec::new(),
        today: opts.today,
        kind: None,
        // A revision from before the project had manifests is compared as empty.
        require_manifest: false,
        // Release notes compare revisions as scanned, with no target environments.
        targets: Default::default(),
    })?;
    for f in report.findings.iter_mut().chain(report.warnings.iter_mut()) {
        f.location.file = relative(&f.location.file, dir);
    }
    for m in &mut report.manifests {
        m.path = relative(&m.path, dir);
        for w in &mut m.warnings {
            *w = relative_message(w, dir);
        }
        if let Some(e) = &mut m.error {
            *e = relative_message(e, dir);
        }
    }
    Ok(Scanned {
        manifests: parsed.len(),
        report,
        parsed,
    })
}

/// Export, scan and compare two revisions, and render the markdown section.
pub fn release_notes(opts: &NotesOptions) -> Result<(ReleaseNotes, String), NotesError> {
    // Load templates first: a broken override should fail before any scanning.
    let templates = Templates::load(opts.templates_dir.as_deref())?;
    let tmp = TempDir::new()?;
    let (from_dir, to_dir) = (tmp.0.join("from"), tmp.0.join("to"));
    for d in [&from_dir, &to_dir] {
        std::fs::create_dir(d).map_err(|source| NotesError::Io {
            path: d.clone(),
            source,
        })?;
    }
    // The revisions are independent: export and scan them side by side.
    let (from, to) = rayon::join(
        || scan_revision(opts, &opts.from, &from_dir),
        || scan_revision(opts, &opts.to, &to_dir),
    );
    let (from, to) = (from?, to?);
    if from.manifests == 0 && to.manifests == 0 {
        return Err(NotesError::NoManifests {
            repo: opts.repo.clone(),
            from: opts.from.clone(),
            to: opts.to.clone(),
        });
    }
    let to_packages = package_versions(&to.parsed);
    let mut notes = compare_with_packages(
        &from.report,
        &to.report,
        &opts.from,
        &opts.to,
        Some(&to_packages),
    );
    for (rev, s) in [(&opts.from, &from), (&opts.to, &to)] {
        for m in &s.report.manifests {
            for w in &m.warnings {
                notes.warnings.push(format!("revision {rev}: {w}"));
            }
        }
    }
    let markdown = render(&templates, &notes)?;
    Ok((notes, markdown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Location, PackageRef, Summary, Tool};

    fn finding(
        name: &str,
        version: &str,
        id: &str,
        ids: &[&str],
        level: Level,
        file: &str,
    ) -> Finding {
        Finding {
            id: id.into(),
            ids: ids.iter().map(|s| s.to_string()).collect(),
            sources: vec!["test".into()],
            kind: crate::advisory::AdvisoryKind::Vulnerability,
            package: PackageRef {
                ecosystem: Ecosystem::PyPI,
                name: name.into(),
                version: version.into(),
            },
            severity: level,
            cvss_score: None,
            cvss_vectors: Vec::new(),
            summary: Some(format!("{id} summary")),
            cwe_ids: Vec::new(),
            fixed_versions: Vec::new(),
            fix: Fix::NoFix,
            url: Some(format!("https://example.com/{id}")),
            location: Location {
                file: file.into(),
                line: 1,
            },
            via: None,
            scope: None,
            member: None,
            markers: None,
            note: None,
            disagreements: Vec::new(),
            kev: None,
            kev_related: Vec::new(),
            epss: None,
            vex: Vec::new(),
        }
    }

    fn report(findings: Vec<Finding>) -> Report {
        Report {
            schema_version: crate::report::SCHEMA_VERSION,
            tool: Tool::default(),
            sources: Vec::new(),
            manifests: Vec::new(),
            findings,
            warnings: Vec::new(),
            risks: Vec::new(),
            not_checked: Vec::new(),
            not_applicable: Vec::new(),
            ignored: Vec::new(),
            load_errors: Vec::new(),
            notices: Vec::new(),
            summary: Summary::default(),
        }
    }

    /// Release notes list entries in the one finding order: KEV, then EPSS, then severity.
    #[test]
    fn entries_follow_the_one_finding_order() {
        let crit = finding("a", "1.0", "PYSEC-2099-1", &[], Level::Critical, "r.txt");
        let mut kev = finding("b", "1.0", "PYSEC-2099-2", &[], Level::Low, "r.txt");
        kev.kev = Some(crate::report::KevMark {
            cve: "CVE-2099-0002".into(),
            date_added: jiff::civil::date(2025, 1, 2),
            due_date: jiff::civil::date(2025, 1, 23),
            known_ransomware_campaign_use: "Unknown".into(),
            catalog_version: "2025.08.25".into(),
            source: "kev".into(),
        });
        let mut scored = finding("c", "1.0", "PYSEC-2099-3", &[], Level::Medium, "r.txt");
        scored.epss = Some(crate::report::EpssMark {
            cve: "CVE-2099-0003".into(),
            score: 0.5,
            percentile: 0.9,
            score_date: None,
            model_version: None,
            source: "epss".into(),
        });
        let notes = compare_findings(&[], &[crit, kev, scored], "a", "b", None);
        let ids: Vec<&str> = notes.introduced.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["PYSEC-2099-2", "PYSEC-2099-3", "PYSEC-2099-1"]);
    }

    #[test]
    fn compare_matches_on_any_shared_id_and_normalised_name() {
        let from = report(vec![
            // Same vulnerability under another display id and spelling at the newer revision.
            finding(
                "Foo_Bar",
                "1.0",
                "GHSA-aaaa",
                &["CVE-1", "GHSA-aaaa"],
                Level::Low,
                "a.txt",
            ),
            finding(
                "gone",
                "2.0",
                "PYSEC-1",
                &["PYSEC-1"],
                Level::Critical,
                "a.txt",
            ),
            finding("up", "1.0", "PYSEC-2", &["PYSEC-2"], Level::High, "a.txt"),
        ]);
        let to = report(vec![
            finding(
                "foo-bar",
                "1.1",
                "PYSEC-9",
                &["CVE-1", "PYSEC-9"],
                Level::High,
                "a.txt",
            ),
            finding(
                "foo-bar",
                "1.1",
                "PYSEC-9",
                &["CVE-1", "PYSEC-9"],
                Level::High,
                "b.txt",
            ),
            // Same id on another package is not the same finding.
            finding(
                "other",
                "1.0",
                "PYSEC-2",
                &["PYSEC-2"],
                Level::Medium,
                "a.txt",
            ),
        ]);
        let mut pkgs = PackageVersions::new();
        pkgs.insert((Ecosystem::PyPI, "up".into()), vec!["1.5".into()]);
        let n = compare_with_packages(&from, &to, "v1", "v2", Some(&pkgs));
        let fixed: Vec<_> = n
            .fixed
            .iter()
            .map(|e| (e.package.as_str(), e.now.clone()))
            .collect();
        // Sorted by severity: critical before high.
        assert_eq!(
            fixed,
            vec![
                ("gone", Some(vec![])),
                ("up", Some(vec!["1.5".to_string()]))
            ]
        );
        assert_eq!(n.still_open.len(), 1);
        let open = &n.still_open[0];
        assert_eq!(open.package, "foo-bar");
        assert_eq!(open.id, "PYSEC-9");
        assert_eq!(open.ids, vec!["CVE-1", "GHSA-aaaa", "PYSEC-9"]);
        assert_eq!(open.severity, Level::High);
        assert_eq!(open.from_versions, vec!["1.0"]);
        assert_eq!(open.to_versions, vec!["1.1"]);
        assert_eq!(
            open.files,
            vec![PathBuf::from("a.txt"), PathBuf::from("b.txt")]
        );
        assert_eq!(n.introduced.len(), 1);
        assert_eq!(n.introduced[0].package, "other");

        // Without package data the fixed entries say nothing about what the package became.
        let n = compare(&from, &to, "v1", "v2");
        assert!(n.fixed.iter().all(|e| e.now.is_none()));
    }

    #[test]
    fn versions_sort_in_ecosystem_order() {
        let mut v = vec![
            "1.10".to_string(),
            "1.9".into(),
            "zzz".into(),
            "1.9.1".into(),
        ];
        sort_versions(Ecosystem::PyPI, &mut v);
        assert_eq!(v, vec!["1.9", "1.9.1", "1.10", "zzz"]);
    }

    #[test]
    fn ls_tree_keeps_regular_blobs_only() {
        let out = b"100644 blob aaaa     12\trequirements.txt\0\
                    100755 blob bbbb      3\tdir/with\ttab.txt\0\
                    120000 blob cccc      9\tlink.txt\0\
                    160000 commit dddd       -\tsub\0";
        let e = parse_ls_tree(out);
        let got: Vec<_> = e
            .iter()
            .map(|e| (e.object.as_str(), e.size, e.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("aaaa", Some(12), "requirements.txt"),
                ("bbbb", Some(3), "dir/with\ttab.txt")
            ]
        );
    }

    #[test]
    fn batch_output_splits_by_size_and_rejects_truncation() {
        let out = b"aaaa blob 4\na\nb\n\nbbbb blob 0\n\n";
        let blobs = parse_batch(out, 2).expect("two blobs");
        assert_eq!(blobs, vec![&b"a\nb\n"[..], &b""[..]]);
        assert_eq!(parse_batch(b"aaaa blob 10\nshort\n", 1), Err(0));
        assert_eq!(parse_batch(b"aaaa blob 0\n\nbbbb missing\n", 2), Err(1));
    }

    #[test]
    fn only_plain_relative_paths_are_written() {
        assert!(safe_relative("a/b/requirements.txt"));
        for bad in [
            "",
            "/etc/passwd",
            "../x.txt",
            "a/../../x.txt",
            ".git/config",
            "a/.GIT/x.txt",
        ] {
            assert!(!safe_relative(bad), "{bad}");
        }
    }

    #[test]
    fn markdown_escaping_and_links() {
        assert_eq!(
            md("a *b*\n_c_ [d](e) <x>"),
            r"a \*b\* \_c\_ \[d\](e) &lt;x&gt;"
        );
        // The one markdown escape: an entity in feed text shows as written (notes used to
        // pass `&` through, so `&amp;` showed as `&`), and no bidi override survives.
        assert_eq!(md("a &amp; b"), "a &amp;amp; b");
        assert_eq!(md("x\u{202E}y"), "x y");
        assert_eq!(code("we`ird"), "`weird`");
        assert_eq!(
            link_target("https://x.test/a b(c)").as_deref(),
            Some("https://x.test/a%20b%28c%29")
        );
        assert_eq!(link_target("javascript:alert(1)"), None);
    }

    #[test]
    fn revisions_starting_with_a_dash_never_reach_git() {
        // The repository does not exist: an error naming git's failure would mean git ran.
        let e = resolve(Path::new("/nonexistent-repo"), "--output=/tmp/x").unwrap_err();
        assert!(e.to_string().contains("must not start with '-'"), "{e}");
        let e = resolve(Path::new("/nonexistent-repo"), "").unwrap_err();
        assert!(e.to_string().contains("empty revision"), "{e}");
    }

    #[test]
    fn empty_notes_render_one_honest_line() {
        let t = Templates::load(None).unwrap();
        let n = compare(&report(vec![]), &report(vec![]), "v1", "v2");
        assert_eq!(
            render(&t, &n).unwrap(),
            "### Security\n\nNo known advisories changed between `v1` and `v2`.\n"
        );
        let from = report(vec![finding(
            "x",
            "1",
            "PYSEC-1",
            &["PYSEC-1"],
            Level::Low,
            "r.txt",
        )]);
        let out = render(&t, &compare(&from, &from, "v1", "v2")).unwrap();
        assert!(
            out.contains("#### Still open") && !out.contains("#### Fixed"),
            "{out}"
        );
        assert!(
            out.contains("[PYSEC-1](https://example.com/PYSEC-1)"),
            "{out}"
        );
    }
}
