//! `depwatch vex PROJECT`: the project's OpenVEX document, from a scan of its checkout against
//! the store (as `run` scans it: config ignores, the project's VEX documents) and the findings
//! the monitor remembers as resolved.
//!
//! The document's timestamp is the latest time the monitor recorded for the project (a finding
//! first seen or resolved), so the same state gives the same bytes run after run; with no
//! memory yet (no `run` so far), it is `now` (the caller's clock: `$DEPWATCH_NOW` in the CLI).

use crate::config::Config;
use crate::render::openvex::{self, OpenVexError, VexInput};
use crate::scan::{self, Backend, ScanError, ScanOptions};
use crate::store::{Location, MonitorState, StoreError};
use jiff::Timestamp;

/// Why no document was written.
#[derive(Debug, thiserror::Error)]
pub enum VexDocError {
    /// No such project in the config.
    #[error("no project {0:?} in the config")]
    UnknownProject(String),
    /// The project has no path to scan, or a path is missing.
    #[error("project {project}: {message}")]
    Paths {
        /// The project.
        project: String,
        /// What is wrong.
        message: String,
    },
    /// A manifest did not parse: a document from a partial scan would miss its findings.
    #[error("project {project}: {path}: {message}; no document written from a partial scan")]
    Manifest {
        /// The project.
        project: String,
        /// The manifest.
        path: String,
        /// Its error.
        message: String,
    },
    /// The scan failed.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// The monitor's memory could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A remembered finding could not be read.
    #[error(transparent)]
    Monitor(#[from] crate::monitor::MonitorError),
    /// Nothing to state.
    #[error(transparent)]
    Empty(#[from] OpenVexError),
}

/// A project's document and what the scan noticed on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct VexOutput {
    /// The document, pretty JSON with a final newline.
    pub json: String,
    /// The scan's notices (a stale store, VEX contradictions), for the operator.
    pub notices: Vec<String>,
}

/// The project's OpenVEX document. Blocks (files, the store; a PostgreSQL store needs the
/// calling thread to be in a tokio runtime's context).
pub fn project_vex(
    config: &Config,
    project: &str,
    store: &Location,
    author: &str,
    now: Timestamp,
) -> Result<VexOutput, VexDocError> {
    let p = config
        .project(project)
        .ok_or_else(|| VexDocError::UnknownProject(project.to_string()))?;
    let paths_err = |message: String| VexDocError::Paths {
        project: p.name.clone(),
        message,
    };
    p.check_paths().map_err(paths_err)?;
    if p.paths.is_empty() {
        return Err(paths_err("no path configured: nothing to scan".into()));
    }
    let opts = ScanOptions {
        paths: p.paths.clone(),
        backend: Backend::Store {
            path: store.clone(),
            max_age: scan::DEFAULT_MAX_AGE,
            require_fresh: false,
        },
        ignores: config.ignores.clone(),
        trusted_workspace: false,
        allow_outside_includes: false,
        vex: p.vex.clone(),
        targets: p.targets.clone(),
        today: now.to_zoned(config.tz()).date(),
        kind: None,
        require_manifest: true,
    };
    let report = scan::run_offline(&opts)?;
    if let Some(m) = report.manifests.iter().find(|m| m.error.is_some()) {
        return Err(VexDocError::Manifest {
            project: p.name.clone(),
            path: m.path.display().to_string(),
            message: m.error.clone().unwrap_or_default(),
        });
    }
    let rows = crate::store::open_read_only(store)?.seen(&p.name)?;
    let resolved = crate::monitor::resolved_findings(&p.name, &rows)?;
    // Warnings and range risks are not in the document: their times are not its time.
    let timestamp = rows
        .iter()
        .filter(|r| !crate::monitor::is_info_fingerprint(&r.fingerprint))
        .flat_map(|r| std::iter::once(r.first_seen).chain(r.resolved_at))
        .max()
        .unwrap_or(now);
    let doc = openvex::document(&VexInput {
        project: &p.name,
        author,
        report: &report,
        resolved: &resolved,
        timestamp,
    })?;
    Ok(VexOutput {
        json: openvex::to_json(&doc),
        notices: report.notices,
    })
}
