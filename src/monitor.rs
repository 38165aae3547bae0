//! The monitor's memory: which findings of a project are new, changed, near a deadline,
//! overdue or resolved since the last run. Publishers render these events; nothing else.

use crate::policy::Deadlines;
use crate::report::Finding;
use crate::severity::Level;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Which deadline of the policy an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Initial response.
    Respond,
    /// Assessment / status update.
    Update,
    /// Fix released.
    Fix,
    /// Public disclosure.
    Disclose,
}

impl DeadlineKind {
    /// Words for people ("fix").
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Respond => "initial response",
            Self::Update => "status update",
            Self::Fix => "fix",
            Self::Disclose => "disclosure",
        }
    }
}

/// What happened to a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// Seen for the first time (or its ignore expired).
    New,
    /// The severity changed since it was last published.
    SeverityChanged {
        /// Before.
        from: Level,
        /// Now.
        to: Level,
    },
    /// An upgrade that clears it became available.
    FixAvailable {
        /// The version to upgrade to.
        version: String,
    },
    /// A policy deadline is near.
    DeadlineNear {
        /// Which one.
        deadline: DeadlineKind,
        /// When it falls due.
        due: Timestamp,
    },
    /// A policy deadline has passed.
    Overdue {
        /// Which one.
        deadline: DeadlineKind,
        /// When it fell due.
        due: Timestamp,
    },
    /// The finding is gone.
    Resolved {
        /// Why: the dependency was upgraded or removed, or the advisory withdrawn.
        reason: String,
    },
}

impl EventKind {
    /// A short stable name (`new`, `severity_changed`, ...), for templates and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::New => "new",
            Self::SeverityChanged { .. } => "severity_changed",
            Self::FixAvailable { .. } => "fix_available",
            Self::DeadlineNear { .. } => "deadline_near",
            Self::Overdue { .. } => "overdue",
            Self::Resolved { .. } => "resolved",
        }
    }
}

/// A finding as the monitor remembers it for one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedFinding {
    /// Stable across runs: `ecosystem/normalised-package/first-display-id`.
    pub fingerprint: String,
    /// The finding as last seen (for a resolved one: as it was before it went away).
    pub finding: Finding,
    /// When depwatch first saw it for this project; deadlines count from here.
    pub first_seen: Timestamp,
    /// The policy's deadlines for it.
    pub deadlines: Deadlines,
}

/// One event about one finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The finding it happened to.
    pub finding: TrackedFinding,
}

/// The events of one run for one project: what a Slack message or an email carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectEvents {
    /// The project's name.
    pub project: String,
    /// When the run happened.
    pub run_at: Timestamp,
    /// The events, most urgent first.
    pub events: Vec<Event>,
}
