//! `depwatch policy show --format json`: the figures of [`Policy::show`], for machines.
//!
//! One [`PolicyJson`] per project (an array of them when no project is named). Every figure
//! carries an [`OriginJson`]:
//!
//! | `kind` | `file`, `line` | meaning |
//! |---|---|---|
//! | `security_md` | the SECURITY.md and the line | the figure is written on that line |
//! | `config` | none | set in `depwatch.toml` |
//! | `default` | none | depwatch's default (module docs of `depwatch::policy`) |
//! | `default` | the SECURITY.md and the line | that line states the rule without a figure ("critical: days"); the figure is depwatch's default |
//!
//! Example (abridged):
//!
//! ```json
//! {
//!   "project": "plexcollect",
//!   "source": "policies/plexcollect.SECURITY.md",
//!   "timezone": {"name": "UTC", "origin": {"kind": "default"}},
//!   "response": {"text": "48 hours", "amount": 48, "unit": "hours",
//!                "origin": {"kind": "security_md", "file": "policies/plexcollect.SECURITY.md", "line": 41}},
//!   "assessment": {"text": "1 week", "amount": 1, "unit": "weeks", "origin": {"kind": "security_md", "...": "..."}},
//!   "fix": {"critical": {"rule": "within", "text": "2 weeks", "amount": 2, "unit": "weeks", "origin": {"...": "..."}}},
//!   "disclosure": {
//!     "after_fix": {"kind": "security_md", "file": "...", "line": 44},
//!     "wait_after_fix": {"text": "7 days", "amount": 7, "unit": "days",
//!                        "origin": {"kind": "default", "file": "...", "line": 44}},
//!     "at_most": null
//!   }
//! }
//! ```

use super::{
    Channel, ChannelKind, FixTime, Origin, Period, Policy, Sourced, SupportedVersion, Unit, Zone,
};
use serde::{Deserialize, Serialize};

/// Where a figure came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginJson {
    /// `security_md`, `config` or `default`.
    pub kind: OriginKind,
    /// The SECURITY.md: for `security_md`, and for a `default` filling a rule a line states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its 1-based line, with `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// The kinds of [`OriginJson`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    /// A line of the SECURITY.md.
    SecurityMd,
    /// The project's `depwatch.toml`.
    Config,
    /// depwatch's default.
    Default,
}

/// A time allowance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodJson {
    /// In words ("48 hours").
    pub text: String,
    /// How many units.
    pub amount: u32,
    /// `hours`, `days`, `weeks` or `months` (days, weeks and months are calendar units in the
    /// project's time zone; hours are elapsed time).
    pub unit: Unit,
    /// Where it came from.
    pub origin: OriginJson,
}

/// A fix rule of one severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixJson {
    /// `within` (a deadline `amount` `unit` after first seen), `immediate` (due when first
    /// seen), `best_effort` or `next_release` (no deadline).
    pub rule: FixRule,
    /// In words ("2 weeks", "immediately", "best effort").
    pub text: String,
    /// For `within`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<u32>,
    /// For `within`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
    /// Where it came from.
    pub origin: OriginJson,
}

/// The kinds of [`FixJson`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixRule {
    /// A deadline.
    Within,
    /// Due when first seen.
    Immediate,
    /// No deadline.
    BestEffort,
    /// No deadline.
    NextRelease,
}

/// Fix rules by severity (unknown severity follows `medium`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixesJson {
    /// Critical.
    pub critical: FixJson,
    /// High.
    pub high: FixJson,
    /// Medium and unknown.
    pub medium: FixJson,
    /// Low.
    pub low: FixJson,
    /// Known exploited (in CISA KEV); `null`: the critical rule applies (depwatch's default).
    #[serde(default)]
    pub known_exploited: Option<FixJson>,
}

/// The disclosure rule: after the fix plus `wait_after_fix`, at the latest `at_most` after
/// first seen (whichever comes first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureJson {
    /// Where disclosure is tied to the fix.
    pub after_fix: OriginJson,
    /// How long after the fix is released (0: right away).
    pub wait_after_fix: PeriodJson,
    /// The maximum after first seen; `null`: none, so disclosure never precedes the fix.
    pub at_most: Option<PeriodJson>,
    /// Whether `at_most` is moved to the fix deadline when it would fall before it (true for
    /// the default maximum only).
    pub at_most_not_before_fix: bool,
}

/// A supported-versions row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionJson {
    /// As written ("1.4.x", "v0.2.5-alpha").
    pub version: String,
    /// Whether it receives security fixes.
    pub supported: bool,
    /// Where it came from.
    pub origin: OriginJson,
}

/// A reporting channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelJson {
    /// `email`, `url` or `github_advisory`.
    pub kind: ChannelKind,
    /// The address, URL, or the line naming GitHub's private reporting.
    pub value: String,
    /// Where it came from.
    pub origin: OriginJson,
}

/// The time zone deadlines are counted and shown in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneJson {
    /// IANA name ("Europe/Paris", "UTC").
    pub name: String,
    /// `config` or `default`.
    pub origin: OriginJson,
}

/// One project's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyJson {
    /// The project (or the label given with `--file`).
    pub project: String,
    /// The SECURITY.md read; `null`: depwatch's defaults only.
    pub source: Option<String>,
    /// The time zone of the deadlines.
    pub timezone: ZoneJson,
    /// Initial response.
    pub response: PeriodJson,
    /// Status update.
    pub status_update: PeriodJson,
    /// Assessment; `null`: none promised.
    pub assessment: Option<PeriodJson>,
    /// Fix rules.
    pub fix: FixesJson,
    /// The disclosure rule.
    pub disclosure: DisclosureJson,
    /// Supported versions (empty: none stated).
    pub supported_versions: Vec<VersionJson>,
    /// Reporting channels, the preferred one first.
    pub channels: Vec<ChannelJson>,
}

impl PolicyJson {
    pub(super) fn new(p: &Policy, project: &str, zone: &Zone) -> Self {
        let file = p.source.as_ref().map(|s| s.display().to_string());
        let origin = |o: Origin| {
            let (kind, line) = match o {
                Origin::Line(n) => (OriginKind::SecurityMd, Some(n)),
                Origin::Config => (OriginKind::Config, None),
                Origin::Default => (OriginKind::Default, None),
                Origin::Unstated(n) => (OriginKind::Default, Some(n)),
            };
            OriginJson {
                kind,
                file: line.and(file.clone()),
                line,
            }
        };
        let period = |s: &Sourced<Period>| PeriodJson {
            text: s.value.to_string(),
            amount: s.value.amount,
            unit: s.value.unit,
            origin: origin(s.origin),
        };
        let fix = |s: &Sourced<FixTime>| {
            let (rule, within) = match s.value {
                FixTime::Within(p) => (FixRule::Within, Some(p)),
                FixTime::Immediate => (FixRule::Immediate, None),
                FixTime::BestEffort => (FixRule::BestEffort, None),
                FixTime::NextRelease => (FixRule::NextRelease, None),
            };
            FixJson {
                rule,
                text: s.value.to_string(),
                amount: within.map(|p| p.amount),
                unit: within.map(|p| p.unit),
                origin: origin(s.origin),
            }
        };
        let d = &p.disclosure;
        Self {
            project: project.to_string(),
            source: file.clone(),
            timezone: ZoneJson {
                name: zone.name(),
                origin: origin(zone.origin),
            },
            response: period(&p.response),
            status_update: period(&p.update),
            assessment: p.assessment.as_ref().map(period),
            fix: FixesJson {
                critical: fix(&p.fix.critical),
                high: fix(&p.fix.high),
                medium: fix(&p.fix.medium),
                low: fix(&p.fix.low),
                known_exploited: p.fix_known_exploited.as_ref().map(fix),
            },
            disclosure: DisclosureJson {
                after_fix: origin(d.after_fix),
                wait_after_fix: period(&d.grace),
                at_most: d.at_most.as_ref().map(period),
                at_most_not_before_fix: d.at_most.is_some_and(|m| m.origin == Origin::Default),
            },
            supported_versions: p
                .supported
                .iter()
                .map(|r: &SupportedVersion| VersionJson {
                    version: r.version.clone(),
                    supported: r.supported,
                    origin: origin(r.origin),
                })
                .collect(),
            channels: p
                .channels
                .iter()
                .map(|c: &Channel| ChannelJson {
                    kind: c.kind,
                    value: c.value.clone(),
                    origin: origin(Origin::Line(c.line)),
                })
                .collect(),
        }
    }
}
