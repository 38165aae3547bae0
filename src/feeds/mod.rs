//! Advisory sources. Each source reads its own wire format and converts every record into the
//! OSV [`Advisory`](crate::advisory::Advisory) model once, at its edge.
//!
//! Local sources (this module): OSV records as JSON or YAML from a directory tree
//! (`osv-dir:PATH`) or a zip like the OSV bulk exports (`osv-zip:PATH`), and a RustSec
//! advisory-db checkout (`rustsec-dir:PATH`). The kinds, local and remote, are listed once in
//! [`registry`]. A broken record is reported with its file and id,
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
pub mod registry;
pub mod rustsec;
pub mod rustsec_archive;
pub mod signal;

use crate::advisory::CompiledAdvisory;
pub use load::{LoadError, SourceSummary};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where advisories come from, as given to `--source KIND:LOCATION`: a kind from
/// [`registry::LOCAL`] and a path.
#[derive(Clone)]
pub struct SourceSpec {
    kind: &'static dyn registry::LocalSource,
    path: PathBuf,
}

impl SourceSpec {
    /// A source of the local kind named `kind` (`osv-dir`) at `path`.
    pub fn local(kind: &str, path: impl Into<PathBuf>) -> Result<Self, FeedError> {
        let path = path.into();
        match registry::local(kind) {
            Some(kind) => Ok(Self { kind, path }),
            None => Err(FeedError::BadSpec(format!("{kind}:{}", path.display()))),
        }
    }

    /// The kind's name (`osv-dir`).
    pub fn kind(&self) -> &'static str {
        self.kind.kind()
    }

    /// The location.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The same source with its path made absolute (unchanged if it cannot be resolved).
    pub fn canonical(&self) -> Self {
        Self {
            kind: self.kind,
            path: std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone()),
        }
    }
}

impl PartialEq for SourceSpec {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind() && self.path == other.path
    }
}

impl Eq for SourceSpec {}

impl fmt::Debug for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceSpec({self})")
    }
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
        Self::local(kind, loc).map_err(|_| FeedError::BadSpec(s.to_string()))
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.path.display())
    }
}

/// A source that cannot be read at all (as opposed to a broken record inside it).
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// `--source` is not `KIND:LOCATION` with a known kind.
    #[error("invalid source {spec:?}: expected {forms}", spec = .0, forms = registry::local_forms())]
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
    /// Time of the last attempt.
    pub last_attempt: Option<jiff::Timestamp>,
    /// Time of the last success.
    pub last_success: Option<jiff::Timestamp>,
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
    /// A KEV catalog or an EPSS day ([`signal`]): replaces what the store held of its kind.
    Signal {
        /// The whole data set.
        data: signal::SignalData,
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
    spec.kind.load(&spec.path, &spec.to_string())
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
