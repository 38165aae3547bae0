//! Advisory sources. Each source reads its own wire format and converts every record into the
//! OSV [`Advisory`](crate::advisory::Advisory) model once, at its edge.
//!
//! Local sources (this module): OSV records as JSON or YAML from a directory tree
//! (`osv-dir:PATH`) or a zip like the OSV bulk exports (`osv-zip:PATH`), and a RustSec
//! advisory-db checkout (`rustsec-dir:PATH`). A broken record is reported with its file and id,
//! counted and skipped; it never aborts the load.

pub mod budget;
pub mod crates_index;
pub mod defs;
pub mod ghsa;
// The HTTP client moved to `crate::net`; this path stays for callers not yet moved.
pub use crate::net as http;
mod load;
pub mod osv;
pub mod osv_api;
pub mod osv_export;
pub mod rustsec;
pub mod rustsec_archive;

use crate::advisory::CompiledAdvisory;
pub use load::{LoadError, SourceSummary};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where advisories come from, as given to `--source KIND:LOCATION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A directory tree of OSV records (`.json`, `.yaml`, `.yml`).
    OsvDir(PathBuf),
    /// A zip of OSV JSON records (OSV bulk export `all.zip`).
    OsvZip(PathBuf),
    /// A RustSec advisory-db checkout (`crates/<name>/RUSTSEC-*.md`).
    RustsecDir(PathBuf),
}

impl FromStr for SourceSpec {
    type Err = FeedError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, loc) = s
            .split_once(':')
            .ok_or_else(|| FeedError::BadSpec(s.to_string()))?;
        if loc.is_empty() {
            return Err(FeedError::BadSpec(s.to_string()));
        }
        let path = PathBuf::from(loc);
        match kind {
            "osv-dir" => Ok(Self::OsvDir(path)),
            "osv-zip" => Ok(Self::OsvZip(path)),
            "rustsec-dir" => Ok(Self::RustsecDir(path)),
            _ => Err(FeedError::BadSpec(s.to_string())),
        }
    }
}

impl SourceSpec {
    /// The same source with its path made absolute (unchanged if it cannot be resolved).
    pub fn canonical(&self) -> Self {
        let abs = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        match self {
            Self::OsvDir(p) => Self::OsvDir(abs(p)),
            Self::OsvZip(p) => Self::OsvZip(abs(p)),
            Self::RustsecDir(p) => Self::RustsecDir(abs(p)),
        }
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OsvDir(p) => write!(f, "osv-dir:{}", p.display()),
            Self::OsvZip(p) => write!(f, "osv-zip:{}", p.display()),
            Self::RustsecDir(p) => write!(f, "rustsec-dir:{}", p.display()),
        }
    }
}

/// A source that cannot be read at all (as opposed to a broken record inside it).
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// `--source` is not `KIND:LOCATION` with a known kind.
    #[error("invalid source {0:?}: expected osv-dir:PATH, osv-zip:PATH or rustsec-dir:PATH")]
    BadSpec(String),
    /// The location cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An HTTP request failed (the URL in it carries no query string or credentials).
    #[error(transparent)]
    Http(#[from] http::HttpError),
    /// The archive or directory is not of the expected shape.
    #[error("{path}: {message}")]
    Invalid {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Sync state of one source, as a feed reports it and the store keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceState {
    /// Source name (`KIND:LOCATION` or a feed name).
    pub source: String,
    /// Source-specific cursor (a high-water mark, a content fingerprint).
    pub cursor: Option<String>,
    /// HTTP ETag of the last full download.
    pub etag: Option<String>,
    /// HTTP Last-Modified of the last full download.
    pub last_modified: Option<String>,
    /// RFC 3339 time of the last attempt.
    pub last_attempt: Option<String>,
    /// RFC 3339 time of the last success.
    pub last_success: Option<String>,
    /// The last error, if the last attempt failed.
    pub last_error: Option<String>,
    /// Records held for the source.
    pub records: i64,
}

/// What a remote feed returned for one sync.
#[derive(Debug)]
pub enum FeedUpdate {
    /// Nothing changed since the state given (HTTP 304, no new line in modified_id.csv).
    NotModified,
    /// A full copy: replace everything the source holds.
    Replace {
        /// Every record.
        advisories: Vec<crate::advisory::Advisory>,
        /// Broken records, skipped.
        errors: Vec<LoadError>,
        /// The new sync state (cursor, ETag, Last-Modified).
        state: SourceState,
    },
    /// Changed records only: insert or update them.
    Upsert {
        /// The changed records.
        advisories: Vec<crate::advisory::Advisory>,
        /// Broken records, skipped.
        errors: Vec<LoadError>,
        /// The new sync state.
        state: SourceState,
    },
}

/// The records of one source, compiled for matching, and the records that were skipped.
#[derive(Debug, Default)]
pub struct Loaded {
    /// `KIND:LOCATION`.
    pub source: String,
    /// Good records.
    pub advisories: Vec<CompiledAdvisory>,
    /// Broken records (file, id, message).
    pub errors: Vec<LoadError>,
}

/// Load one source.
pub fn load(spec: &SourceSpec) -> Result<Loaded, FeedError> {
    let name = spec.to_string();
    match spec {
        SourceSpec::OsvDir(p) => osv::load_dir(p, &name),
        SourceSpec::OsvZip(p) => osv::load_zip(p, &name),
        SourceSpec::RustsecDir(p) => rustsec::load_dir(p, &name),
    }
}

/// Every regular file under `root` whose name satisfies `keep`, sorted, skipping dot
/// directories (`.git`). Symlinks are not followed.
pub(crate) fn walk_files(
    root: &std::path::Path,
    keep: &dyn Fn(&std::path::Path) -> bool,
) -> Result<Vec<PathBuf>, FeedError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| FeedError::Io {
            path: dir.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            let path = entry.path();
            if ft.is_dir() {
                if !entry.file_name().to_string_lossy().starts_with('.') {
                    stack.push(path);
                }
            } else if ft.is_file() && keep(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
