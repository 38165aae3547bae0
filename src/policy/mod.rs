//! Disclosure policies: what a project's SECURITY.md promises, as deadlines.
//!
//! OWNED BY THE POLICY WORK (helper A). The signatures below are the contract other modules use.

pub mod security_md;

use crate::severity::Level;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// The deadlines of one finding, computed from when it was first seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Deadlines {
    /// Initial response (acknowledge the report / triage).
    pub respond_by: Option<Timestamp>,
    /// Assessment or status update.
    pub update_by: Option<Timestamp>,
    /// Fix released.
    pub fix_by: Option<Timestamp>,
    /// Public disclosure.
    pub disclose_by: Option<Timestamp>,
}

/// Per-project overrides of what SECURITY.md says (from `depwatch.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyOverride {}

/// A project's disclosure policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {}

/// A policy file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Policy {
    /// Read a SECURITY.md (bytes that are not UTF-8 are replaced, never fatal).
    pub fn load(path: &std::path::Path) -> Result<Self, PolicyError> {
        let _bytes = std::fs::read(path).map_err(|source| PolicyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::defaults())
    }

    /// What was understood, each figure with where it came from (file line, config, default).
    pub fn show(&self, project: &str) -> String {
        format!("policy of {project}: (not parsed yet)\n")
    }

    /// The documented defaults, used for whatever a SECURITY.md does not say.
    pub fn defaults() -> Self {
        Self {}
    }

    /// Deadlines for a finding of `severity` first seen at `first_seen`, in the project's zone.
    pub fn deadlines(&self, _first_seen: Timestamp, _severity: Level, _tz: &TimeZone) -> Deadlines {
        Deadlines::default()
    }
}
