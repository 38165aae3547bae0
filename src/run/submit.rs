//! A submission to `depwatch serve`: one project's step of a run, on files a CI job uploaded
//! instead of the project's checkout. The memory, events, drafts and outbox change exactly as
//! in a run's step for that project (a project submitted twice unchanged queues nothing). No
//! run record and no health are written: a submission is not a cycle.

use super::project::project_step_report;
use super::{ProjectOutcome, RunOptions};
use crate::config::Project;
use crate::publish::templates::Templates;
use crate::report::Report;
use crate::store::Backend;
use std::path::Path;

/// What a submission did.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The scan's report, when the scan ran (absent when the project failed before it).
    pub report: Option<Report>,
    /// The project's part of a run: events, files written, messages queued, or its error.
    pub outcome: ProjectOutcome,
}

/// Scan the manifests in `dir` as `project`'s, diff them against its memory in `store`, write
/// its drafts and queue its messages. The caller holds the store and the templates (a server
/// opens and loads them once, not per submission). Blocks (SQLite, parsing): call it from a
/// blocking thread.
pub fn submit(
    store: &mut Box<dyn Backend>,
    templates: &Templates,
    opts: &RunOptions,
    project: &Project,
    dir: &Path,
) -> Submitted {
    let mut p = project.clone();
    p.paths = vec![dir.to_path_buf()];
    let (outcome, report) = project_step_report(store, templates, opts, &p, None, None, Some(dir));
    Submitted { report, outcome }
}
