//! What loading a source yields besides records: its counts and the records it skipped.

use serde::Serialize;

/// One advisory source as loaded.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceSummary {
    /// `KIND:LOCATION` as given.
    pub source: String,
    /// Records loaded.
    pub advisories: usize,
    /// Records skipped because they were broken.
    pub skipped: usize,
}

/// A record that could not be loaded.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct LoadError {
    /// The source.
    pub source: String,
    /// The file (or zip entry).
    pub file: String,
    /// The record id when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What is wrong.
    pub message: String,
}
