//! Why one step of a run failed: a project's work, the health step, a project's filing on
//! GitHub. Such a failure is reported (and counted in health) while the other steps still run;
//! [`super::RunError`] is for what stops the whole run.

use crate::monitor::MonitorError;
use crate::policy::PolicyError;
use crate::publish::templates::TemplateError;
use crate::scan::ScanError;
use crate::store::StoreError;
use std::path::PathBuf;

/// A step's failure. The text is what the run report, `status` and health alerts show.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The project's SECURITY.md could not be read.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The project's scan failed.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The monitor's memory of the project is unreadable.
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    /// A template failed to render.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A draft or payload could not be serialised.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A draft or the release notes could not be written.
    #[error("{}: {source}", .path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The digest could not be composed.
    #[error("{0}")]
    Digest(String),
    /// A project names a channel the run does not know.
    #[error("unknown channel {0}")]
    UnknownChannel(String),
    /// The thread scanning the project could not start.
    #[error("cannot start the project's scan: {0}")]
    Spawn(std::io::Error),
    /// The scan overran the project's time budget (seconds).
    #[error(
        "the scan did not finish within the project time budget of {0}s (DEPWATCH_PROJECT_TIMEOUT)"
    )]
    TimedOut(u64),
    /// The scan's thread ended without a result (it panicked).
    #[error("the project's scan stopped without an answer")]
    NoAnswer,
    /// A secret named by the config is not set (the message names the variable only).
    #[error("{0}")]
    Secret(String),
    /// GitHub refused or failed the filing; the text is scrubbed of the token.
    #[error("{0}")]
    Github(String),
}
