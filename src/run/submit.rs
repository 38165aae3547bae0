//! A submission to `depwatch serve`: one project's step of a run, on files a CI job uploaded
//! instead of the project's checkout. The memory, events, drafts and outbox change exactly as
//! in a run's step for that project (a project submitted twice unchanged queues nothing). No
//! run record and no health are written: a submission is not a cycle.

use super::project::project_step_report;
use super::{ProjectOutcome, RunError, RunOptions};
use crate::config::Project;
use crate::publish::templates::Templates;
use crate::report::Report;
use std::path::Path;

/// What a submission did.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The scan's report, when the scan ran (absent when the project failed before it).
    pub report: Option<Report>,
    /// The project's part of a run: events, files written, messages queued, or its error.
    pub outcome: ProjectOutcome,
}

/// Scan the manifests in `dir` as `project`'s, diff them against its memory, write its drafts
/// and queue its messages. Blocks (SQLite, parsing): call it from a blocking thread.
pub fn submit(opts: &RunOptions, project: &Project, dir: &Path) -> Result<Submitted, RunError> {
    let mut store = crate::store::open(&opts.store)?;
    let templates = Templates::load(opts.config.templates.as_deref())?;
    let mut p = project.clone();
    p.paths = vec![dir.to_path_buf()];
    let (outcome, report) = project_step_report(&mut store, &templates, opts, &p, None, None);
    Ok(Submitted { report, outcome })
}
