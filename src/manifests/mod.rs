//! Manifests and lockfiles: one module file per format, each turning a file into a list of
//! [`Dependency`] values. A parser knows versions and names, never advisories.
//!
//! Formats: `Cargo.lock` (v1-v4), `Cargo.toml`, `requirements*.txt` / constraints files (and
//! any `*.txt` in a `requirements/` directory, Django style), `pyproject.toml` (PEP 621,
//! PEP 735, Poetry, uv), `poetry.lock`, `uv.lock`, `Pipfile.lock`, `pylock.toml` (PEP 751),
//! CycloneDX JSON SBOMs (`bom.json`, `*.cdx.json`).
//! A file named explicitly is read whatever its name: its format is forced (`--type`) or
//! recognised by its content.
//!
//! The formats are listed once, in [`registry::ALL`]; each format's file says its name, file
//! names, content rule and parser (`registry` says how to add one).

pub mod cargo_lock;
pub mod cargo_toml;
pub mod cargo_workspace;
pub mod cyclonedx;
mod graph;
pub mod pipfile_lock;
pub mod poetry_lock;
pub mod pylock;
pub mod pyproject;
pub mod registry;
pub mod requirements_txt;
pub mod uv_lock;

pub use graph::shortest_paths;

use crate::ecosystem::{Ecosystem, Version, VersionSet};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A manifest format, by the name `--type` and reports use (`cargo-lock`). The formats and
/// everything about them (file names, content rules, parser) are in [`registry::ALL`]; a new
/// format declares its kind in its own file with [`ManifestKind::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ManifestKind(&'static str);

// The formats other modules name. Kept in the spelling of the enum they replace, so callers
// (and `match` arms, which these constants still work in) did not change.
#[allow(non_upper_case_globals)]
impl ManifestKind {
    /// `Cargo.lock`.
    pub const CargoLock: Self = Self::new("cargo-lock");
    /// `Cargo.toml`.
    pub const CargoToml: Self = Self::new("cargo-toml");
    /// `requirements*.txt`, `constraints*.txt`.
    pub const RequirementsTxt: Self = Self::new("requirements-txt");
    /// `pyproject.toml`.
    pub const Pyproject: Self = Self::new("pyproject");
    /// `poetry.lock`.
    pub const PoetryLock: Self = Self::new("poetry-lock");
    /// `uv.lock`.
    pub const UvLock: Self = Self::new("uv-lock");
    /// `Pipfile.lock`.
    pub const PipfileLock: Self = Self::new("pipfile-lock");
    /// `pylock.toml`, `pylock.*.toml`.
    pub const Pylock: Self = Self::new("pylock");
}

impl std::fmt::Display for ManifestKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::str::FromStr for ManifestKind {
    type Err = String;

    /// A format name as in reports (`requirements-txt`) or its standard file name
    /// (`requirements.txt`), case-insensitive.
    fn from_str(s: &str) -> Result<Self, String> {
        registry::by_name(s).map(|f| f.kind()).ok_or_else(|| {
            format!(
                "unknown manifest format `{}` (one of: {})",
                clip(s),
                registry::names()
            )
        })
    }
}

impl ManifestKind {
    /// A kind named `name` (kebab-case, unique among [`registry::ALL`]: a test checks).
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// The format's name, as `--type` takes it and reports print it.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// Recognise a manifest by file name (and, for Django-style `requirements/base.txt`,
    /// by the name of its directory).
    pub fn detect(path: &Path) -> Option<Self> {
        registry::by_path(path).map(|f| f.kind())
    }
}

/// What a dependency declaration says about its version.
#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    /// One exact version: a lockfile entry or an `==` / `===` pin.
    Pinned {
        /// The parsed version.
        version: Version,
        /// The version as written.
        text: String,
    },
    /// A range a resolver may pick from (`>=1.39.0`, `^1.2`).
    Range {
        /// The requirement as written (`>=1.39.0`).
        text: String,
        /// The versions it admits.
        set: VersionSet,
    },
    /// Not a registry package (path, git, URL, editable, virtual) or a version we cannot
    /// read: reported as not checked, never as safe.
    NotChecked {
        /// Why it was not checked.
        reason: String,
    },
}

/// One declared or locked dependency.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// The package's ecosystem.
    pub ecosystem: Ecosystem,
    /// The name as written in the file.
    pub name: String,
    /// The version or range.
    pub requirement: Requirement,
    /// The file that declares it (an included `-r` file, not always the one scanned).
    pub file: PathBuf,
    /// 1-based line of the declaration in `file` (0 when unknown).
    pub line: usize,
    /// Dependency path from a root, where the file carries the graph: `Some([])` for a
    /// direct dependency, `Some(["tokio", "h2"])` for one reached via tokio -> h2 (the
    /// package itself excluded); `None` when the format has no graph.
    pub via: Option<Vec<String>>,
    /// Dependency kind or group where known (`dev`, `build`, an extra, a PEP 735 group).
    pub scope: Option<String>,
    /// The workspace member it enters through (Cargo workspaces, `--trusted-workspace`).
    pub member: Option<String>,
    /// Environment markers as written (`python_version < "3.9"`), if any.
    pub markers: Option<String>,
    /// The package index other than the public registry that the file says it may come from
    /// (`--index-url` / `--extra-index-url`, a lockfile's non-PyPI source), credentials and
    /// query removed: a malicious record for the public name is then a dependency-confusion
    /// risk, not installed malware.
    pub index: Option<String>,
}

impl Dependency {
    /// A dependency of `kind`'s ecosystem with no graph information.
    pub fn new(
        ecosystem: Ecosystem,
        name: impl Into<String>,
        requirement: Requirement,
        file: &Path,
        line: usize,
    ) -> Self {
        Self {
            ecosystem,
            name: name.into(),
            requirement,
            file: file.to_path_buf(),
            line,
            via: None,
            scope: None,
            member: None,
            markers: None,
            index: None,
        }
    }
}

/// Hosts of the public PyPI index and its file store.
const PUBLIC_PYPI_HOSTS: &[&str] = &["pypi.org", "pypi.python.org", "files.pythonhosted.org"];

/// `url` without credentials or query when it names an index other than the public PyPI,
/// else `None`. An unparsable URL counts as private: only PyPI itself is known to be public.
pub(crate) fn private_pypi_index(url: &str) -> Option<String> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    let redacted = crate::net::redact(url);
    let host = redacted
        .split_once("://")
        .map_or(redacted.as_str(), |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if PUBLIC_PYPI_HOSTS.contains(&host.as_str()) {
        None
    } else {
        Some(crate::text::shorten(
            &crate::text::clean(&redacted, false),
            200,
        ))
    }
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The file that was scanned.
    pub path: PathBuf,
    /// Its format.
    pub kind: ManifestKind,
    /// Every dependency found (lockfiles: every locked package).
    pub dependencies: Vec<Dependency>,
    /// Problems that did not stop the parse (an unreadable line, a skipped entry), each
    /// naming file and line.
    pub warnings: Vec<String>,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid for its format.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

impl ManifestError {
    /// A parse error at `path:line`.
    pub fn parse(path: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Self::Parse {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

/// Largest manifest depwatch reads (real lockfiles are a few MB).
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// Read a manifest as UTF-8 text, with a clear error for binary or oversized files. Only a
/// regular file is read, and never past the limit ([`crate::fsread::read_regular`]): a FIFO
/// or a device in a scanned checkout is an error naming the file, not a hang.
pub fn read_text(path: &Path) -> Result<String, ManifestError> {
    let bytes = read_bytes(path)?;
    utf8_text(path, bytes)
}

/// Read a manifest's bytes: a regular file only, never past [`MAX_MANIFEST_BYTES`].
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, ManifestError> {
    use crate::fsread::ReadError;
    crate::fsread::read_regular(path, MAX_MANIFEST_BYTES).map_err(|e| match e {
        ReadError::Io(source) => ManifestError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => ManifestError::parse(path, None, format!("file is {other}")),
    })
}

/// Bytes as UTF-8 text, or an error naming the line of the first invalid byte.
pub(crate) fn utf8_text(path: &Path, bytes: Vec<u8>) -> Result<String, ManifestError> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ManifestError::parse(path, Some(line), "file is not valid UTF-8")
    })
}

/// Longest piece of input echoed back in a message.
const MAX_ECHO: usize = 200;

/// Shorten echoed input (a 10 MB line must not come back in a warning).
pub(crate) fn clip(s: &str) -> String {
    crate::text::shorten(s, MAX_ECHO)
}

/// Line starts of a text, for many offset-to-line lookups (a lockfile's every package) in
/// O(log n) each instead of a scan from the start.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Index the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self { starts }
    }

    /// 1-based line of a byte offset (same answer as [`line_of_offset`]).
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }
}

/// 1-based line of a byte offset in `text`.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Options for parsing.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Resolve Cargo workspaces through `cargo metadata` (runs the repository's cargo
    /// configuration: only for trusted checkouts).
    pub trusted_workspace: bool,
    /// The format of the files named explicitly (`--type`), whatever their names.
    pub kind: Option<ManifestKind>,
    /// The scanned root a manifest's `-r` / `-c` includes must resolve inside (after
    /// symlinks): the directory given to scan, or the directory of a file given. `None`: the
    /// manifest's own directory.
    pub include_root: Option<PathBuf>,
    /// Follow includes wherever they point (a trusted checkout only: an include of a host file
    /// prints its lines in the report).
    pub allow_outside_includes: bool,
}

/// Parse one manifest of a known kind.
pub fn parse(
    path: &Path,
    kind: ManifestKind,
    opts: &ParseOptions,
) -> Result<Manifest, ManifestError> {
    match registry::format(kind) {
        Some(f) => f.parse(path, opts),
        None => Err(ManifestError::parse(
            path,
            None,
            format!("manifest format `{kind}` is not registered"),
        )),
    }
}

/// Directories never descended into when discovering manifests.
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "target",
    "node_modules",
    ".venv",
    "venv",
    "env",
    ".env",
    ".tox",
    ".nox",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    "site-packages",
    ".direnv",
];

fn is_virtualenv(dir: &Path) -> bool {
    dir.join("pyvenv.cfg").is_file()
}

/// Find manifests under `root` (a file is returned as is when it is a known format).
///
/// Where a lockfile sits next to the manifest it locks (`Cargo.lock` + `Cargo.toml`,
/// `poetry.lock` / `uv.lock` / `pylock.toml` + `pyproject.toml`), only the lockfile is
/// returned: its resolved versions are the findings and the manifest's ranges would report the
/// same packages twice.
pub fn discover(root: &Path) -> Result<Vec<(PathBuf, ManifestKind)>, ManifestError> {
    discover_as(root, None)
}

/// [`discover`], with the format of `root` forced when it is a file (`--type`). A file named
/// explicitly is read whatever its name: by `kind`, else by its name, else by its content
/// ([`detect_content`]); a directory with `kind` is an error (the walk finds files by name).
pub fn discover_as(
    root: &Path,
    kind: Option<ManifestKind>,
) -> Result<Vec<(PathBuf, ManifestKind)>, ManifestError> {
    let mut found = Vec::new();
    if root.is_file() {
        return match kind
            .or_else(|| ManifestKind::detect(root))
            .or_else(|| detect_content(root))
        {
            Some(k) => Ok(vec![(root.to_path_buf(), k)]),
            None => {
                let names: Vec<&str> = registry::ALL.iter().map(|f| f.file_pattern()).collect();
                Err(ManifestError::parse(
                    root,
                    None,
                    format!(
                        "not a recognised manifest ({}), by name or content: pass --type \
                         FORMAT to read it as one",
                        names.join(", ")
                    ),
                ))
            }
        };
    }
    if kind.is_some() {
        return Err(ManifestError::parse(
            root,
            None,
            "--type applies to files named explicitly, not to a directory",
        ));
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| ManifestError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut here = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if !SKIP_DIRS.contains(&name.as_ref()) && !is_virtualenv(&path) {
                    stack.push(path);
                }
            } else if ft.is_file()
                && let Some(kind) = ManifestKind::detect(&path)
            {
                here.push((path, kind));
            }
        }
        let superseded: Vec<ManifestKind> = here
            .iter()
            .filter_map(|(_, k)| registry::format(*k))
            .flat_map(|f| f.supersedes().iter().copied())
            .collect();
        here.retain(|(_, k)| !superseded.contains(k));
        found.extend(here);
    }
    found.sort();
    Ok(found)
}

/// The format of a file with a non-standard name, from its content: TOML and JSON lockfiles
/// and manifests by their distinctive tables and keys, a requirements file when every
/// statement in it is a requirement or a pip option and there is at least one. `None` when
/// unsure (the caller then asks for `--type`).
pub fn detect_content(path: &Path) -> Option<ManifestKind> {
    use registry::Content;
    let text = requirements_txt::read_requirements_text(path).ok()?;
    let found = if let Ok(serde_json::Value::Object(doc)) = serde_json::from_str(&text) {
        registry::by_content(&Content::Json(&doc))
    } else if let Ok(doc) = toml::de::DeTable::parse(&text) {
        registry::by_content(&Content::Toml(doc.get_ref()))
    } else {
        registry::by_content(&Content::Text(&text))
    };
    found.map(|f| f.kind())
}

#[cfg(test)]
mod tests {

    #[test]
    fn private_index_is_any_but_pypi_and_drops_credentials() {
        assert_eq!(private_pypi_index("https://pypi.org/simple"), None);
        assert_eq!(private_pypi_index("https://PyPI.org/simple/"), None);
        assert_eq!(private_pypi_index("https://files.pythonhosted.org/x"), None);
        assert_eq!(
            private_pypi_index("https://user:s3cret@pkgs.example.com/simple?token=t").as_deref(),
            Some("https://pkgs.example.com/simple")
        );
        assert_eq!(
            private_pypi_index("http://127.0.0.1:8080/simple").as_deref(),
            Some("http://127.0.0.1:8080/simple")
        );
    }

    use super::*;

    #[test]
    fn kinds_by_name_and_format_names() {
        // The names and file names reports and `--type` used before the registry, in order.
        let known = [
            ("cargo-lock", ManifestKind::CargoLock, "Cargo.lock"),
            ("cargo-toml", ManifestKind::CargoToml, "Cargo.toml"),
            (
                "requirements-txt",
                ManifestKind::RequirementsTxt,
                "requirements.txt",
            ),
            ("pyproject", ManifestKind::Pyproject, "pyproject.toml"),
            ("poetry-lock", ManifestKind::PoetryLock, "poetry.lock"),
            ("uv-lock", ManifestKind::UvLock, "uv.lock"),
            ("pipfile-lock", ManifestKind::PipfileLock, "Pipfile.lock"),
            ("pylock", ManifestKind::Pylock, "pylock.toml"),
        ];
        let registered: Vec<_> = registry::ALL.iter().map(|f| f.kind()).collect();
        assert_eq!(registered[..known.len()], known.map(|(_, k, _)| k));
        for (name, kind, file) in known {
            assert_eq!(name.parse::<ManifestKind>(), Ok(kind));
            assert_eq!(file.parse::<ManifestKind>(), Ok(kind));
            assert_eq!(ManifestKind::detect(Path::new(file)), Some(kind));
            // The names are the ones reports use.
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
        assert!("REQUIREMENTS-TXT".parse::<ManifestKind>().is_ok());
        let e = "setup.py".parse::<ManifestKind>().unwrap_err();
        assert!(e.contains("requirements-txt, pyproject"), "{e}");
        // Django style: any `*.txt` / `*.in` in a `requirements/` directory.
        for p in ["requirements/production.txt", "app/Requirements/base.in"] {
            assert_eq!(
                ManifestKind::detect(Path::new(p)),
                Some(ManifestKind::RequirementsTxt),
                "{p}"
            );
        }
        for p in [
            "docs/production.txt",
            "requirements/notes.md",
            "production.txt",
        ] {
            assert_eq!(ManifestKind::detect(Path::new(p)), None, "{p}");
        }
    }

    #[test]
    fn content_tells_the_format_of_an_oddly_named_file() {
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(&str, Option<ManifestKind>)] = &[
            (
                "# prod\n-r base.txt\nDjango==4.2.1 \\\n  --hash=sha256:00\ngunicorn>=21 ; os_name == 'posix'\n",
                Some(ManifestKind::RequirementsTxt),
            ),
            (
                "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n",
                Some(ManifestKind::CargoLock),
            ),
            (
                "[package]\nname = \"a\"\n[dependencies]\nserde = \"1\"\n",
                Some(ManifestKind::CargoToml),
            ),
            (
                "[project]\nname = \"a\"\ndependencies = []\n",
                Some(ManifestKind::Pyproject),
            ),
            (
                "[[package]]\nname = \"a\"\nversion = \"1\"\n[metadata]\nlock-version = \"2.1\"\ncontent-hash = \"x\"\n",
                Some(ManifestKind::PoetryLock),
            ),
            (
                "version = 1\nrequires-python = \">=3.8\"\n[[package]]\nname = \"a\"\n",
                Some(ManifestKind::UvLock),
            ),
            (
                "lock-version = \"1.0\"\n[[packages]]\nname = \"a\"\n",
                Some(ManifestKind::Pylock),
            ),
            (
                "{\"_meta\": {}, \"default\": {}}",
                Some(ManifestKind::PipfileLock),
            ),
            // Two formats' keys at once (a `[root]` and Poetry's content hash): not guessed at.
            (
                "[[package]]\nname = \"a\"\n[metadata]\ncontent-hash = \"x\"\n[root]\nname = \"b\"\n",
                None,
            ),
            // Prose, an empty file, other TOML and JSON are not guessed at.
            ("not a manifest\n", None),
            ("# Title\n\nSome notes about the project.\n", None),
            ("", None),
            ("# only comments\n", None),
            ("[tool.black]\nline-length = 100\n", None),
            ("{\"name\": \"x\"}", None),
            ("ok==1.0\nthis line is not a requirement\n", None),
            ("--frobnicate\nok==1.0\n", None),
        ];
        for (i, (text, kind)) in cases.iter().enumerate() {
            let p = dir.path().join(format!("file{i}.cfg"));
            std::fs::write(&p, text).unwrap();
            assert_eq!(detect_content(&p), *kind, "{text:?}");
        }
    }

    #[test]
    fn line_index_agrees_with_a_scan() {
        let text = "a\nbb\n\nccc\n";
        let idx = LineIndex::new(text);
        for off in 0..=text.len() + 2 {
            assert_eq!(idx.line(off), line_of_offset(text, off), "offset {off}");
        }
    }
}
