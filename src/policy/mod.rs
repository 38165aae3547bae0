//! Disclosure policies: what a project's SECURITY.md promises, as deadlines.
//!
//! [`Policy::load`] reads a SECURITY.md ([`security_md`] does the reading); every figure keeps
//! where it came from ([`Origin`]): a line of the file, the project's `depwatch.toml`
//! ([`PolicyOverride`]) or the defaults below. [`Policy::deadlines`] turns a policy into the
//! dates one finding is due by, counted from when depwatch first saw it.
//!
//! # Defaults
//!
//! What a file does not say falls back to these:
//!
//! | figure | default | why |
//! |---|---|---|
//! | initial response | 48 hours | what four of the five real policies (and GitHub's template) promise |
//! | status update | 7 days | the same policies: "7 days" |
//! | assessment | none | only a file (or `depwatch.toml`) that promises one gets this deadline |
//! | fix, critical | 7 days | the common tiered practice (helpr's upper bounds: 7 / 30 / 90 days) |
//! | fix, high | 30 days | " |
//! | fix, medium | 90 days | " |
//! | fix, low | 180 days | bounded, so that no finding waits forever |
//! | disclosure | after the fix is released, at most 90 days after first seen | the usual 90-day coordinated-disclosure norm (Project Zero, CERT/CC) |
//!
//! The 90-day cap is the default only of a policy that says nothing about disclosure; even then
//! it never falls before the finding's own fix deadline (two defaults must not contradict each
//! other: a low finding's default fix time is 180 days). A file that ties disclosure to the fix
//! ("once the fix is released") and names no maximum gets no maximum: disclosure then never
//! precedes the fix. A maximum the file or `depwatch.toml` states is applied as stated.
//!
//! Every figure says where it came from: a figure shown as a SECURITY.md line's is written on
//! that line. When a line states a rule without a figure ("critical: days", "after fix is
//! released and users have time to update"), depwatch's default figure is used and labelled
//! as a default, with the line that states the rule ([`Origin::Unstated`]).
//!
//! # Reading of figures
//!
//! A range ("1-7 days") is taken at its upper bound: that is the promise. "Best effort" and
//! "next release" are fix times without a deadline; "Immediate patches" for a severity is a
//! fix due when the finding is first seen. "Users have time to update" after a fix, with no
//! figure, waits depwatch's default of [`security_md::UPDATE_GRACE`] (7 days) before
//! disclosure. "Current Version: v0.2.5-alpha" is the supported version of a file without a
//! supported-versions table.
//!
//! # Time zone
//!
//! Deadlines are counted and shown in the configured `timezone` (UTC when unset):
//! [`Zone::format`] writes `2027-01-05 09:00 +01:00 Europe/Paris` (`2027-01-05 09:00 UTC` in
//! UTC).
//!
//! # Arithmetic
//!
//! Hours are exact elapsed time. Days, weeks and months are calendar arithmetic in the
//! project's time zone: "7 days" keeps the wall-clock time across a DST change (moved forward
//! when it falls in a gap), and "1 month" from January 31 is the last day of February.
//!
//! A finding of unknown severity gets the medium rule: an unscored advisory must not be treated
//! as least urgent, and calling every unscored record high would drown the real ones.

pub mod json;
pub mod security_md;

use crate::severity::Level;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// Which deadline of the policy an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Initial response.
    Respond,
    /// Status update.
    Update,
    /// Assessment complete (only policies that promise one).
    Assess,
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
            Self::Assess => "assessment",
            Self::Fix => "fix",
            Self::Disclose => "disclosure",
        }
    }
}

/// The deadlines of one finding, computed from when it was first seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Deadlines {
    /// Initial response (acknowledge the report / triage).
    pub respond_by: Option<Timestamp>,
    /// Status update.
    pub update_by: Option<Timestamp>,
    /// Assessment complete; only when the policy promises one (absent in older stores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assess_by: Option<Timestamp>,
    /// Fix released.
    pub fix_by: Option<Timestamp>,
    /// Public disclosure.
    pub disclose_by: Option<Timestamp>,
}

/// Where a figure of a policy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A line of the SECURITY.md (1-based).
    Line(usize),
    /// The project's `depwatch.toml` override.
    Config,
    /// The documented defaults (module docs).
    Default,
    /// The default figure for a rule this SECURITY.md line states without a figure
    /// ("critical: days", "after the fix ... users have time to update").
    Unstated(usize),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "SECURITY.md line {n}"),
            Self::Config => f.write_str("depwatch.toml"),
            Self::Default => f.write_str("default"),
            Self::Unstated(n) => write!(f, "default; SECURITY.md line {n} gives no figure"),
        }
    }
}

/// A figure and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sourced<T> {
    /// The figure.
    pub value: T,
    /// Where it came from.
    pub origin: Origin,
}

impl<T> Sourced<T> {
    fn new(value: T, origin: Origin) -> Self {
        Self { value, origin }
    }

    fn default(value: T) -> Self {
        Self::new(value, Origin::Default)
    }

    fn config(value: T) -> Self {
        Self::new(value, Origin::Config)
    }
}

fn sourced<T>((value, line): (T, usize)) -> Sourced<T> {
    Sourced::new(value, Origin::Line(line))
}

/// The unit of a [`Period`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Exact elapsed hours.
    Hours,
    /// Calendar days in the project's zone.
    Days,
    /// Calendar weeks (7 calendar days).
    Weeks,
    /// Calendar months (clamped to the month's last day).
    Months,
}

/// A time allowance as a policy states it: "48 hours", "2 weeks", "1 month".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// How many units.
    pub amount: u32,
    /// Of what.
    pub unit: Unit,
}

impl Period {
    /// `n` hours.
    pub const fn hours(n: u32) -> Self {
        Self {
            amount: n,
            unit: Unit::Hours,
        }
    }

    /// `n` calendar days.
    pub const fn days(n: u32) -> Self {
        Self {
            amount: n,
            unit: Unit::Days,
        }
    }

    /// `n` calendar weeks.
    pub const fn weeks(n: u32) -> Self {
        Self {
            amount: n,
            unit: Unit::Weeks,
        }
    }

    /// `n` calendar months.
    pub const fn months(n: u32) -> Self {
        Self {
            amount: n,
            unit: Unit::Months,
        }
    }

    /// Read one duration: "48h", "72 hours", "7 days", "within 2 weeks", "1 month".
    pub fn parse(text: &str) -> Option<Self> {
        security_md::exact_duration(text)
    }

    /// `start` plus this period, in `tz` (see the module docs). `None` only when the result
    /// is out of the representable range.
    pub fn after(&self, start: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let n = i64::from(self.amount);
        let span = match self.unit {
            // Hours are elapsed time, whatever the clocks do.
            Unit::Hours => return start.checked_add(SignedDuration::from_hours(n)).ok(),
            Unit::Days => Span::new().try_days(n),
            Unit::Weeks => Span::new().try_weeks(n),
            Unit::Months => Span::new().try_months(n),
        }
        .ok()?;
        start
            .to_zoned(tz.clone())
            .checked_add(span)
            .ok()
            .map(|z| z.timestamp())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.unit {
            Unit::Hours => "hour",
            Unit::Days => "day",
            Unit::Weeks => "week",
            Unit::Months => "month",
        };
        let plural = if self.amount == 1 { "" } else { "s" };
        write!(f, "{} {word}{plural}", self.amount)
    }
}

/// When a fix is promised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FixTime {
    /// Within this long of first seen (for a range: its upper bound).
    Within(Period),
    /// "Immediate patches": due when first seen.
    Immediate,
    /// "Best effort": no deadline.
    BestEffort,
    /// "Next release": no deadline.
    NextRelease,
}

impl fmt::Display for FixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Within(p) => p.fmt(f),
            Self::Immediate => f.write_str("immediately"),
            Self::BestEffort => f.write_str("best effort"),
            Self::NextRelease => f.write_str("next release"),
        }
    }
}

/// Fix times by severity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixTimes {
    /// Critical.
    pub critical: Sourced<FixTime>,
    /// High.
    pub high: Sourced<FixTime>,
    /// Medium (and unknown severity).
    pub medium: Sourced<FixTime>,
    /// Low.
    pub low: Sourced<FixTime>,
}

impl FixTimes {
    /// The rule for `severity` (unknown uses medium, see the module docs).
    pub fn get(&self, severity: Level) -> &Sourced<FixTime> {
        match severity {
            Level::Critical => &self.critical,
            Level::High => &self.high,
            Level::Medium | Level::Unknown => &self.medium,
            Level::Low => &self.low,
        }
    }

    fn get_mut(&mut self, severity: Level) -> &mut Sourced<FixTime> {
        match severity {
            Level::Critical => &mut self.critical,
            Level::High => &mut self.high,
            Level::Medium | Level::Unknown => &mut self.medium,
            Level::Low => &mut self.low,
        }
    }
}

/// When a vulnerability is disclosed: once fixed (plus a grace), or at the latest a fixed time
/// after first seen, whichever comes first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disclosure {
    /// Where disclosure is tied to the fix: a line, or the default rule.
    pub after_fix: Origin,
    /// Disclose this long after the fix is released (zero: right away).
    pub grace: Sourced<Period>,
    /// Disclose at the latest this long after first seen, fixed or not. `None`: the policy
    /// ties disclosure to the fix and names no maximum. A default maximum never falls before
    /// the fix deadline (module docs).
    pub at_most: Option<Sourced<Period>>,
}

/// One row of the supported-versions table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportedVersion {
    /// The version column as written ("1.4.x", "< 1.0").
    pub version: String,
    /// Whether it receives security fixes.
    pub supported: bool,
    /// Its line (or the config).
    pub origin: Origin,
}

/// How vulnerabilities are to be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// An email address.
    Email,
    /// A web address (form, private advisory page).
    Url,
    /// GitHub's private vulnerability reporting (Security tab, "Report a vulnerability").
    #[serde(rename = "github_advisory")]
    GitHubAdvisory,
}

/// A reporting channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Channel {
    /// What kind.
    pub kind: ChannelKind,
    /// The address, URL, or for a GitHub advisory the line that says so.
    pub value: String,
    /// Its 1-based line in the SECURITY.md.
    pub line: usize,
}

/// A project's disclosure policy. Every figure carries its [`Origin`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// The SECURITY.md it was read from (`None`: defaults only).
    pub source: Option<PathBuf>,
    /// Initial response time.
    pub response: Sourced<Period>,
    /// Status update time.
    pub update: Sourced<Period>,
    /// Assessment time; `None`: the policy promises no assessment.
    pub assessment: Option<Sourced<Period>>,
    /// Fix time by severity.
    pub fix: FixTimes,
    /// Fix time of known exploited findings (in CISA KEV), counted from when depwatch first
    /// saw them known exploited; `None`: the critical rule (the default, documented). A
    /// SECURITY.md line naming exploited issues with a time, or `fix-known-exploited` in
    /// `depwatch.toml`, sets it.
    pub fix_known_exploited: Option<Sourced<FixTime>>,
    /// The disclosure rule.
    pub disclosure: Disclosure,
    /// The supported-versions table (empty: the file has none).
    pub supported: Vec<SupportedVersion>,
    /// Reporting channels, the preferred one first.
    pub channels: Vec<Channel>,
}

/// A figure given in `depwatch.toml` as a number of days or as text ("90 days", "3 months").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DaysOrText {
    /// A number of days.
    Days(u32),
    /// A duration in words.
    Text(String),
}

impl DaysOrText {
    fn period(&self) -> Option<Period> {
        match self {
            Self::Days(n) => Some(Period::days(*n)),
            Self::Text(t) => Period::parse(t),
        }
    }
}

/// Per-project overrides of what SECURITY.md says (from `depwatch.toml`). Durations are
/// strings like "48h", "72 hours", "7 days", "2 weeks", "1 month"; fix times may also be
/// "best effort" or "next release".
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyOverride {
    /// Initial response time.
    pub response: Option<String>,
    /// Status update time.
    pub update: Option<String>,
    /// Assessment time.
    pub assessment: Option<String>,
    /// Fix time for critical findings.
    pub fix_critical: Option<String>,
    /// Fix time for high findings.
    pub fix_high: Option<String>,
    /// Fix time for medium (and unknown) findings.
    pub fix_medium: Option<String>,
    /// Fix time for low findings.
    pub fix_low: Option<String>,
    /// Fix time for known exploited findings (in CISA KEV).
    pub fix_known_exploited: Option<String>,
    /// The latest disclosure, after first seen: a number of days or a duration.
    pub disclose_after_days: Option<DaysOrText>,
    /// The supported versions, replacing the file's table ("1.x", ">= 2.0").
    pub supported_versions: Option<String>,
}

const DURATION_HINT: &str = "write e.g. \"48 hours\", \"7 days\", \"2 weeks\" or \"1 month\"";

impl PolicyOverride {
    /// Check every value; the error names the key and the value it could not read.
    pub fn validate(&self) -> Result<(), String> {
        for (key, value) in [
            ("response", &self.response),
            ("update", &self.update),
            ("assessment", &self.assessment),
        ] {
            if let Some(v) = value
                && Period::parse(v).is_none()
            {
                return Err(format!(
                    "policy `{key}`: cannot read {v:?} as a duration ({DURATION_HINT})"
                ));
            }
        }
        for (key, value) in self.fixes_all() {
            if let Some(v) = value
                && security_md::exact_fix_time(v).is_none()
            {
                return Err(format!(
                    "policy `{key}`: cannot read {v:?} as a fix time ({DURATION_HINT}, \"best effort\" or \"next release\")"
                ));
            }
        }
        if let Some(v) = &self.disclose_after_days
            && v.period().is_none()
        {
            return Err(format!(
                "policy `disclose-after-days`: cannot read {v:?} as a duration (a number of days, or {DURATION_HINT})"
            ));
        }
        if let Some(v) = &self.supported_versions
            && v.trim().is_empty()
        {
            return Err("policy `supported-versions`: empty".to_string());
        }
        Ok(())
    }

    fn fixes_all(&self) -> [(&'static str, &Option<String>); 5] {
        let [c, h, m, l] = self.fixes();
        [
            (c.0, c.1),
            (h.0, h.1),
            (m.0, m.1),
            (l.0, l.1),
            ("fix-known-exploited", &self.fix_known_exploited),
        ]
    }

    fn fixes(&self) -> [(&'static str, &Option<String>, Level); 4] {
        [
            ("fix-critical", &self.fix_critical, Level::Critical),
            ("fix-high", &self.fix_high, Level::High),
            ("fix-medium", &self.fix_medium, Level::Medium),
            ("fix-low", &self.fix_low, Level::Low),
        ]
    }
}

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

/// Largest SECURITY.md read (real ones are a few KB).
pub const MAX_POLICY_BYTES: u64 = 4 * 1024 * 1024;

impl Policy {
    /// Read a SECURITY.md (bytes that are not UTF-8 are replaced, never fatal). Only a regular
    /// file of at most [`MAX_POLICY_BYTES`] is read: it comes from a checkout.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let bytes = crate::fsread::read_regular(path, MAX_POLICY_BYTES).map_err(|e| {
            let source = match e {
                crate::fsread::ReadError::Io(e) => e,
                other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
            };
            PolicyError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Ok(Self::parse(&String::from_utf8_lossy(&bytes), path))
    }

    /// Read the text of a SECURITY.md at `path`. Never fails: what it does not say, or says
    /// in a way that is not clearly a figure, falls back to the defaults.
    pub fn parse(text: &str, path: &Path) -> Self {
        let found = security_md::scan(text);
        let mut policy = Self::defaults();
        policy.source = Some(path.to_path_buf());
        if let Some(r) = found.response {
            policy.response = sourced(r);
        }
        if let Some(u) = found.update {
            policy.update = sourced(u);
        }
        policy.assessment = found.assessment.map(sourced);
        for (i, level) in security_md::SEVERITIES.into_iter().enumerate() {
            let rule = policy.fix.get_mut(level);
            if let Some(fix) = found.fix[i] {
                *rule = sourced(fix);
            } else if let Some(line) = found.fix_unstated[i] {
                rule.origin = Origin::Unstated(line);
            }
        }
        if let Some(a) = found.after_fix {
            let d = &mut policy.disclosure;
            d.after_fix = Origin::Line(a.line);
            d.grace = match a.grace {
                security_md::Grace::None => Sourced::new(Period::days(0), Origin::Line(a.line)),
                security_md::Grace::Stated(p) => Sourced::new(p, Origin::Line(a.line)),
                security_md::Grace::UpdateTime => {
                    Sourced::new(security_md::UPDATE_GRACE, Origin::Unstated(a.line))
                }
            };
            // Tied to the fix with no maximum stated: no default maximum either.
            d.at_most = None;
        }
        if let Some(m) = found.at_most {
            policy.disclosure.at_most = Some(sourced(m));
        }
        policy.supported = found.supported;
        if policy.supported.is_empty()
            && let Some((version, line)) = found.current_version
        {
            policy.supported.push(SupportedVersion {
                version,
                supported: true,
                origin: Origin::Line(line),
            });
        }
        policy.channels = found.channels;
        policy.fix_known_exploited = found.fix_known_exploited.map(sourced);
        policy
    }

    /// The documented defaults (module docs), used for whatever a SECURITY.md does not say.
    pub fn defaults() -> Self {
        let within = |p| Sourced::default(FixTime::Within(p));
        Self {
            source: None,
            response: Sourced::default(Period::hours(48)),
            update: Sourced::default(Period::days(7)),
            assessment: None,
            fix: FixTimes {
                critical: within(Period::days(7)),
                high: within(Period::days(30)),
                medium: within(Period::days(90)),
                low: within(Period::days(180)),
            },
            fix_known_exploited: None,
            disclosure: Disclosure {
                after_fix: Origin::Default,
                grace: Sourced::default(Period::days(0)),
                at_most: Some(Sourced::default(Period::days(90))),
            },
            supported: Vec::new(),
            channels: Vec::new(),
        }
    }

    /// Apply the project's overrides. Values that do not read are skipped: call
    /// [`PolicyOverride::validate`] first to report them.
    pub fn apply(&mut self, o: &PolicyOverride) {
        if let Some(p) = o.response.as_deref().and_then(Period::parse) {
            self.response = Sourced::config(p);
        }
        if let Some(p) = o.update.as_deref().and_then(Period::parse) {
            self.update = Sourced::config(p);
        }
        if let Some(p) = o.assessment.as_deref().and_then(Period::parse) {
            self.assessment = Some(Sourced::config(p));
        }
        for (_, value, level) in o.fixes() {
            if let Some(t) = value.as_deref().and_then(security_md::exact_fix_time) {
                *self.fix.get_mut(level) = Sourced::config(t);
            }
        }
        if let Some(t) = o
            .fix_known_exploited
            .as_deref()
            .and_then(security_md::exact_fix_time)
        {
            self.fix_known_exploited = Some(Sourced::config(t));
        }
        if let Some(p) = o.disclose_after_days.as_ref().and_then(DaysOrText::period) {
            self.disclosure.at_most = Some(Sourced::config(p));
        }
        if let Some(v) = &o.supported_versions
            && !v.trim().is_empty()
        {
            self.supported = vec![SupportedVersion {
                version: v.trim().to_string(),
                supported: true,
                origin: Origin::Config,
            }];
        }
    }

    /// The rule for known exploited findings and where it came from: the stated one, else the
    /// critical rule (its value and origin, labelled as depwatch's default choice).
    pub fn known_exploited_rule(&self) -> (FixTime, String) {
        match &self.fix_known_exploited {
            Some(r) => (r.value, r.origin.to_string()),
            None => (
                self.fix.critical.value,
                format!("default: the critical rule, {}", self.fix.critical.origin),
            ),
        }
    }

    /// [`Policy::deadlines`] for a finding that may be known exploited: when it is
    /// (`exploited_since`, when depwatch first saw it in CISA KEV), its fix deadline is the
    /// earlier of its severity's and the known-exploited rule counted from then.
    pub fn deadlines_for(
        &self,
        first_seen: Timestamp,
        severity: Level,
        exploited_since: Option<Timestamp>,
        tz: &TimeZone,
    ) -> Deadlines {
        let mut d = self.deadlines(first_seen, severity, tz);
        if let Some(since) = exploited_since {
            let by = match self.known_exploited_rule().0 {
                FixTime::Within(p) => p.after(since, tz),
                FixTime::Immediate => Some(since),
                FixTime::BestEffort | FixTime::NextRelease => None,
            };
            d.fix_by = match (d.fix_by, by) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        d
    }

    /// Deadlines for a finding of `severity` first seen at `first_seen`, in the project's zone.
    /// No fix deadline for "best effort" / "next release"; disclosure is the earlier of
    /// fix + grace and first seen + the maximum.
    pub fn deadlines(&self, first_seen: Timestamp, severity: Level, tz: &TimeZone) -> Deadlines {
        let fix_by = match self.fix.get(severity).value {
            FixTime::Within(p) => p.after(first_seen, tz),
            FixTime::Immediate => Some(first_seen),
            FixTime::BestEffort | FixTime::NextRelease => None,
        };
        let d = &self.disclosure;
        let by_fix = fix_by.and_then(|f| d.grace.value.after(f, tz));
        let cap = d.at_most.and_then(|m| {
            let cap = m.value.after(first_seen, tz)?;
            // A default maximum never precedes the fix deadline (module docs).
            Some(match (m.origin, fix_by) {
                (Origin::Default, Some(fix)) => cap.max(fix),
                _ => cap,
            })
        });
        let disclose_by = match (by_fix, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Deadlines {
            respond_by: self.response.value.after(first_seen, tz),
            update_by: self.update.value.after(first_seen, tz),
            assess_by: self.assessment.and_then(|a| a.value.after(first_seen, tz)),
            fix_by,
            disclose_by,
        }
    }

    /// The first (preferred) reporting channel.
    pub fn channel(&self) -> Option<&Channel> {
        self.channels.first()
    }

    /// The supported versions for an advisory draft ("1.4.x", "1.x, 2.x"); `None` when the
    /// file has no table or marks nothing supported.
    pub fn affected_versions(&self) -> Option<String> {
        let supported: Vec<&str> = self
            .supported
            .iter()
            .filter(|r| r.supported)
            .map(|r| r.version.as_str())
            .collect();
        (!supported.is_empty()).then(|| supported.join(", "))
    }

    /// Each deadline rule for `severity` in words with its origin, for a draft's timeline:
    /// `(Respond, "48 hours (SECURITY.md line 37)")`. An assessment rule only when the policy
    /// promises one.
    pub fn deadline_rules(&self, severity: Level) -> Vec<(DeadlineKind, String)> {
        let fix = self.fix.get(severity);
        let fix_text = match fix.value {
            FixTime::Within(_) | FixTime::Immediate => format!("{} ({})", fix.value, fix.origin),
            other => format!("{other}, no deadline ({})", fix.origin),
        };
        let mut rules = vec![
            (
                DeadlineKind::Respond,
                format!("{} ({})", self.response.value, self.response.origin),
            ),
            (
                DeadlineKind::Update,
                format!("{} ({})", self.update.value, self.update.origin),
            ),
        ];
        if let Some(a) = &self.assessment {
            rules.push((DeadlineKind::Assess, format!("{} ({})", a.value, a.origin)));
        }
        rules.push((DeadlineKind::Fix, fix_text));
        rules.push((DeadlineKind::Disclose, self.disclosure_text()));
        rules
    }

    fn disclosure_text(&self) -> String {
        let d = &self.disclosure;
        let mut out = format!("after the fix is released ({})", d.after_fix);
        if d.grace.value.amount > 0 {
            out = format!(
                "{} after the fix is released ({}; {}: {})",
                d.grace.value, d.after_fix, d.grace.value, d.grace.origin
            );
        }
        match &d.at_most {
            Some(m) if m.origin == Origin::Default => format!(
                "{out}, at most {} after first seen but not before the fix deadline ({}), whichever comes first",
                m.value, m.origin
            ),
            Some(m) => format!(
                "{out}, at most {} after first seen ({}), whichever comes first",
                m.value, m.origin
            ),
            None => format!("{out}; no maximum"),
        }
    }

    /// What was understood, one figure per line with where it came from (file line, config,
    /// default); deadlines are counted in `zone`.
    pub fn show(&self, project: &str, zone: &Zone) -> String {
        let mut out = match &self.source {
            Some(path) => format!("policy of {project} (from {})\n", path.display()),
            None => format!("policy of {project} (no SECURITY.md: defaults)\n"),
        };
        for f in self.figures(zone) {
            out.push_str(&format!(
                "{:<18}{:<34} ({})\n",
                format!("{}:", f.name),
                f.value,
                f.origin
            ));
        }
        out
    }

    /// The figures [`Policy::show`] prints, each with where it came from (the dashboard's
    /// policy table).
    pub fn figures(&self, zone: &Zone) -> Vec<Figure> {
        let mut rows = Vec::new();
        let mut row = |name: &str, value: String, origin: String| {
            rows.push(Figure {
                name: name.to_string(),
                value,
                origin,
            })
        };
        row(
            "response",
            self.response.value.to_string(),
            self.response.origin.to_string(),
        );
        row(
            "update",
            self.update.value.to_string(),
            self.update.origin.to_string(),
        );
        match &self.assessment {
            Some(a) => row("assessment", a.value.to_string(), a.origin.to_string()),
            None => row("assessment", "none promised".into(), "-".into()),
        }
        for level in security_md::SEVERITIES {
            let fix = self.fix.get(level);
            row(
                &format!("fix ({})", level_name(level)),
                fix.value.to_string(),
                fix.origin.to_string(),
            );
        }
        let (rule, origin) = self.known_exploited_rule();
        row("fix (exploited)", rule.to_string(), origin);
        let d = &self.disclosure;
        row(
            "disclose",
            "after the fix is released".into(),
            d.after_fix.to_string(),
        );
        let wait = if d.grace.value.amount == 0 {
            "none".to_string()
        } else {
            format!("{} after the fix", d.grace.value)
        };
        row("disclose wait", wait, d.grace.origin.to_string());
        match &d.at_most {
            Some(m) if m.origin == Origin::Default => row(
                "disclose at most",
                format!("{} after first seen, not before the fix", m.value),
                m.origin.to_string(),
            ),
            Some(m) => row(
                "disclose at most",
                format!("{} after first seen", m.value),
                m.origin.to_string(),
            ),
            None => row(
                "disclose at most",
                "none: never before the fix".into(),
                "-".into(),
            ),
        }
        if self.supported.is_empty() {
            row("versions", "no supported-versions table".into(), "-".into());
        }
        for r in &self.supported {
            let name = if r.supported {
                "supported"
            } else {
                "not supported"
            };
            row(name, r.version.clone(), r.origin.to_string());
        }
        if self.channels.is_empty() {
            row("channel", "none found".into(), "-".into());
        }
        for c in &self.channels {
            row(
                "channel",
                format!("{}: {}", channel_kind_name(c.kind), c.value),
                Origin::Line(c.line).to_string(),
            );
        }
        row("timezone", zone.name(), zone.origin.to_string());
        rows
    }

    /// The same figures as [`Policy::show`], for machines (`policy show --format json`).
    pub fn to_json(&self, project: &str, zone: &Zone) -> json::PolicyJson {
        json::PolicyJson::new(self, project, zone)
    }
}

fn channel_kind_name(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Email => "email",
        ChannelKind::Url => "url",
        ChannelKind::GitHubAdvisory => "github advisory",
    }
}

/// One figure of a policy as people read it: its name, its value, where it came from
/// (`SECURITY.md:12`, `depwatch.toml`, `default`, or `-` for an absent figure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figure {
    /// `response`, `fix (high)`, ...
    pub name: String,
    /// The value in words.
    pub value: String,
    /// Its origin.
    pub origin: String,
}

/// The time zone deadlines are counted and shown in, and where it was set.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// The zone.
    pub tz: TimeZone,
    /// [`Origin::Config`] when `depwatch.toml` names it, else [`Origin::Default`] (UTC).
    pub origin: Origin,
}

impl Default for Zone {
    fn default() -> Self {
        Self {
            tz: TimeZone::UTC,
            origin: Origin::Default,
        }
    }
}

impl Zone {
    /// The configured zone (`timezone` in depwatch.toml, already validated), else UTC.
    pub fn configured(name: Option<&str>) -> Self {
        match name.and_then(|n| TimeZone::get(n).ok()) {
            Some(tz) => Self {
                tz,
                origin: Origin::Config,
            },
            None => Self::default(),
        }
    }

    /// Its IANA name ("Europe/Paris"), "UTC" for UTC.
    pub fn name(&self) -> String {
        zone_name(&self.tz)
    }

    /// `2027-01-05 09:00 +01:00 Europe/Paris`; in UTC `2027-01-05 09:00 UTC`.
    pub fn format(&self, ts: Timestamp) -> String {
        format_in(ts, &self.tz)
    }
}

fn zone_name(tz: &TimeZone) -> String {
    match tz.iana_name() {
        Some(name) => name.to_string(),
        None if *tz == TimeZone::UTC => "UTC".to_string(),
        // A zone without a name (a fixed offset or POSIX rule): its offset says it all.
        None => String::new(),
    }
}

/// `ts` as a wall-clock time in `tz` with its offset at that instant and the zone's name:
/// `2027-01-05 09:00 +01:00 Europe/Paris`. UTC is written `2027-01-05 09:00 UTC`.
pub fn format_in(ts: Timestamp, tz: &TimeZone) -> String {
    let z = ts.to_zoned(tz.clone());
    let name = zone_name(tz);
    if name == "UTC" || name == "Etc/UTC" {
        return format!("{} UTC", z.strftime("%Y-%m-%d %H:%M"));
    }
    let out = z.strftime("%Y-%m-%d %H:%M %:z").to_string();
    if name.is_empty() {
        out
    } else {
        format!("{out} {name}")
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Critical => "critical",
        Level::High => "high",
        Level::Medium => "medium",
        Level::Low => "low",
        Level::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{DateTime, date};
    use proptest::prelude::*;

    /// Known exploited findings: the critical rule by default (labelled so), a SECURITY.md
    /// line naming exploited issues, or `fix-known-exploited`; due by the earlier of the
    /// severity's deadline and the rule counted from when the finding was seen in KEV.
    #[test]
    fn the_known_exploited_fix_rule_and_its_deadline() {
        let utc = TimeZone::UTC;
        let first: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let kev_seen: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
        let p = Policy::defaults();
        let (rule, origin) = p.known_exploited_rule();
        assert_eq!(rule, FixTime::Within(Period::days(7)));
        assert_eq!(origin, "default: the critical rule, default");
        // Low: 180 days from first seen, but 7 days after it was seen in KEV.
        let d = p.deadlines_for(first, Level::Low, Some(kev_seen), &utc);
        assert_eq!(d.fix_by, Some("2026-03-08T00:00:00Z".parse().unwrap()));
        assert_eq!(
            p.deadlines_for(first, Level::Low, None, &utc),
            p.deadlines(first, Level::Low, &utc)
        );
        let stated = Policy::parse(
            "### Timeline\n- **Known exploited vulnerabilities**: patched within 48 hours\n",
            Path::new("SECURITY.md"),
        );
        let (rule, origin) = stated.known_exploited_rule();
        assert_eq!(rule, FixTime::Within(Period::hours(48)));
        assert_eq!(origin, Origin::Line(2).to_string());
        assert!(
            stated
                .show("p", &Zone::default())
                .contains("fix (exploited):")
        );
        let mut o = Policy::defaults();
        let over = PolicyOverride {
            fix_known_exploited: Some("24 hours".into()),
            ..Default::default()
        };
        assert!(over.validate().is_ok());
        o.apply(&over);
        assert_eq!(
            o.known_exploited_rule().0,
            FixTime::Within(Period::hours(24))
        );
        let bad = PolicyOverride {
            fix_known_exploited: Some("soon".into()),
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().contains("fix-known-exploited"));
    }

    fn zone(name: &str, posix: &str) -> TimeZone {
        // The system tzdb when present, else the same rules as a POSIX TZ string.
        TimeZone::get(name).unwrap_or_else(|_| TimeZone::posix(posix).unwrap())
    }

    fn zones() -> Vec<TimeZone> {
        vec![
            zone("America/New_York", "EST5EDT,M3.2.0,M11.1.0"),
            zone("Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"),
            TimeZone::UTC,
        ]
    }

    fn at(tz: &TimeZone, dt: DateTime) -> Timestamp {
        tz.to_ambiguous_timestamp(dt).compatible().unwrap()
    }

    #[test]
    fn days_keep_wall_time_across_dst_and_hours_do_not() {
        let ny = &zones()[0];
        let start = at(ny, date(2025, 3, 8).at(12, 0, 0, 0));
        let day = Period::days(1).after(start, ny).unwrap();
        assert_eq!(
            day.to_zoned(ny.clone()).datetime(),
            date(2025, 3, 9).at(12, 0, 0, 0)
        );
        // The spring-forward day is 23 hours long.
        assert_eq!(day.duration_since(start), SignedDuration::from_hours(23));
        let hours = Period::hours(24).after(start, ny).unwrap();
        assert_eq!(
            hours.to_zoned(ny.clone()).datetime(),
            date(2025, 3, 9).at(13, 0, 0, 0)
        );
    }

    #[test]
    fn a_month_from_january_31_clamps() {
        let utc = TimeZone::UTC;
        let from = |y| at(&utc, date(y, 1, 31).at(9, 0, 0, 0));
        let feb = |y| {
            Period::months(1)
                .after(from(y), &utc)
                .unwrap()
                .to_zoned(utc.clone())
        };
        assert_eq!(feb(2025).date(), date(2025, 2, 28));
        assert_eq!(feb(2024).date(), date(2024, 2, 29));
    }

    #[test]
    fn deadlines_follow_the_rules() {
        let utc = TimeZone::UTC;
        let t0 = at(&utc, date(2025, 1, 1).at(0, 0, 0, 0));
        let d = |days: i64| {
            t0.checked_add(SignedDuration::from_hours(24 * days))
                .unwrap()
        };
        let p = Policy::defaults();
        let crit = p.deadlines(t0, Level::Critical, &utc);
        assert_eq!(crit.respond_by, Some(d(2)));
        assert_eq!(crit.update_by, Some(d(7)));
        assert_eq!(crit.fix_by, Some(d(7)));
        assert_eq!(crit.disclose_by, Some(d(7)));
        // Low: fix at 180 days. The default 90-day maximum never falls before the default
        // fix deadline: the two defaults must not contradict each other.
        let low = p.deadlines(t0, Level::Low, &utc);
        assert_eq!(low.fix_by, Some(d(180)));
        assert_eq!(low.disclose_by, Some(d(180)));
        // A maximum the policy states is applied as stated.
        let mut stated = Policy::defaults();
        stated.disclosure.at_most = Some(Sourced::new(Period::days(90), Origin::Line(3)));
        assert_eq!(
            stated.deadlines(t0, Level::Low, &utc).disclose_by,
            Some(d(90))
        );
        // Tied to the fix with no maximum: disclosure waits for the fix, and there is no date
        // while the fix has none.
        let mut tied = Policy::defaults();
        tied.disclosure.at_most = None;
        tied.fix.low = Sourced::new(FixTime::BestEffort, Origin::Line(4));
        assert_eq!(tied.deadlines(t0, Level::Low, &utc).disclose_by, None);
        assert_eq!(
            tied.deadlines(t0, Level::High, &utc).disclose_by,
            Some(d(30))
        );
        // Unknown severity follows medium.
        assert_eq!(
            p.deadlines(t0, Level::Unknown, &utc),
            p.deadlines(t0, Level::Medium, &utc)
        );

        let mut q = Policy::defaults();
        q.fix.low = Sourced::config(FixTime::BestEffort);
        q.disclosure.grace = Sourced::config(Period::days(7));
        let low = q.deadlines(t0, Level::Low, &utc);
        assert_eq!(low.fix_by, None);
        assert_eq!(low.disclose_by, Some(d(90)));
        assert_eq!(
            q.deadlines(t0, Level::Critical, &utc).disclose_by,
            Some(d(14))
        );
    }

    #[test]
    fn overrides_apply_with_config_origin_and_bad_values_name_the_key() {
        let o: PolicyOverride = toml::from_str(
            "response = \"72 hours\"\nfix-low = \"best effort\"\nfix-high = \"2 weeks\"\n\
             disclose-after-days = 45\nsupported-versions = \">= 2.0\"\n",
        )
        .unwrap();
        assert_eq!(o.validate(), Ok(()));
        let mut p = Policy::defaults();
        p.apply(&o);
        assert_eq!(p.response, Sourced::config(Period::hours(72)));
        assert_eq!(p.fix.low, Sourced::config(FixTime::BestEffort));
        assert_eq!(
            p.fix.high,
            Sourced::config(FixTime::Within(Period::weeks(2)))
        );
        assert_eq!(
            p.disclosure.at_most,
            Some(Sourced::config(Period::days(45)))
        );
        assert_eq!(p.affected_versions().as_deref(), Some(">= 2.0"));
        assert_eq!(p.update.origin, Origin::Default);

        let text: PolicyOverride = toml::from_str("disclose-after-days = \"3 months\"").unwrap();
        assert_eq!(text.validate(), Ok(()));
        let bad: PolicyOverride = toml::from_str("fix-medium = \"soon\"").unwrap();
        let err = bad.validate().unwrap_err();
        assert!(err.contains("fix-medium") && err.contains("soon"), "{err}");
        assert!(toml::from_str::<PolicyOverride>("fix-urgent = \"1 day\"").is_err());
        // An invalid value is skipped by apply, never half-applied.
        let mut p = Policy::defaults();
        p.apply(&bad);
        assert_eq!(p, Policy::defaults());
    }

    #[test]
    fn parse_show_rules_and_versions() {
        let text = "# Security\n## Supported Versions\n| Version | Supported |\n|---|---|\n\
                    | 2.x | ✅ |\n| 1.x | ❌ |\n## Reporting\nEmail security@example.org\n\
                    - **Initial Response**: 3 days\n- **Fix**: critical: 5 days, low: best effort\n";
        let p = Policy::parse(text, Path::new("SECURITY.md"));
        assert_eq!(p.affected_versions().as_deref(), Some("2.x"));
        assert_eq!(
            p.channel().map(|c| c.value.as_str()),
            Some("security@example.org")
        );
        let show = p.show("demo", &Zone::default());
        assert!(show.contains("response:         3 days"), "{show}");
        assert!(show.contains("(SECURITY.md line 9)"), "{show}");
        assert!(show.contains("fix (low):        best effort"), "{show}");
        assert!(show.contains("fix (high):       30 days"), "{show}");
        let rules = p.deadline_rules(Level::Low);
        assert_eq!(
            rules[0],
            (DeadlineKind::Respond, "3 days (SECURITY.md line 9)".into())
        );
        assert_eq!(
            rules[2],
            (
                DeadlineKind::Fix,
                "best effort, no deadline (SECURITY.md line 10)".into()
            )
        );
        assert_eq!(
            rules[3].1,
            "after the fix is released (default), at most 90 days after first seen but not before the fix deadline (default), whichever comes first"
        );
        assert_eq!(Policy::defaults().affected_versions(), None);
    }

    #[test]
    fn figures_the_file_does_not_state_are_labelled_defaults() {
        let text = "## Timeline\n- **Assessment Complete**: Within 1 week\n\
                    - **Fix/Patch:** (critical: days, high: 2 weeks)\n\
                    - **Public Disclosure**: After fix is released and users have time to update\n\
                    ### Current Version: v0.2.5-alpha\n";
        let p = Policy::parse(text, Path::new("SECURITY.md"));
        assert_eq!(p.update, Sourced::default(Period::days(7)));
        assert_eq!(
            p.assessment,
            Some(Sourced::new(Period::weeks(1), Origin::Line(2)))
        );
        assert_eq!(
            p.fix.critical,
            Sourced::new(FixTime::Within(Period::days(7)), Origin::Unstated(3))
        );
        assert_eq!(p.disclosure.after_fix, Origin::Line(4));
        assert_eq!(
            p.disclosure.grace,
            Sourced::new(Period::days(7), Origin::Unstated(4))
        );
        assert_eq!(p.disclosure.at_most, None);
        assert_eq!(p.affected_versions().as_deref(), Some("v0.2.5-alpha"));
        let show = p.show("demo", &Zone::default());
        assert!(
            show.contains("fix (critical):   7 days                             (default; SECURITY.md line 3 gives no figure)"),
            "{show}"
        );
        assert!(!show.contains("7 days after the fix               (SECURITY.md line 4)"));
        let t0 = Timestamp::from_second(1_735_689_600).unwrap();
        let d = p.deadlines(t0, Level::Critical, &TimeZone::UTC);
        assert_eq!(d.assess_by, Period::weeks(1).after(t0, &TimeZone::UTC));
        let immediate = Policy::parse(
            "- **Critical Vulnerabilities**: Immediate patches\n",
            Path::new("S"),
        );
        assert_eq!(
            immediate
                .deadlines(t0, Level::Critical, &TimeZone::UTC)
                .fix_by,
            Some(t0)
        );
    }

    #[test]
    fn times_are_shown_in_the_zone_with_its_offset() {
        let paris = zone("Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3");
        let t = "2027-01-05T08:00:00Z".parse::<Timestamp>().unwrap();
        let summer = "2027-07-05T07:00:00Z".parse::<Timestamp>().unwrap();
        let shown = format_in(t, &paris);
        if paris.iana_name().is_some() {
            assert_eq!(shown, "2027-01-05 09:00 +01:00 Europe/Paris");
            assert_eq!(
                format_in(summer, &paris),
                "2027-07-05 09:00 +02:00 Europe/Paris"
            );
        } else {
            assert_eq!(shown, "2027-01-05 09:00 +01:00");
        }
        assert_eq!(format_in(t, &TimeZone::UTC), "2027-01-05 08:00 UTC");
        let z = Zone::configured(Some("Europe/Paris"));
        assert_eq!(z.origin, Origin::Config);
        assert_eq!(Zone::configured(None), Zone::default());
    }

    #[test]
    fn load_tolerates_invalid_utf8_and_reports_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("SECURITY.md");
        std::fs::write(
            &path,
            b"## Timeline\n- Initial Response: \xc3\x28 within 6 hours\n",
        )
        .unwrap();
        let p = Policy::load(&path).unwrap();
        assert_eq!(p.response, Sourced::new(Period::hours(6), Origin::Line(2)));
        let missing = dir.path().join("nope.md");
        let err = Policy::load(&missing).unwrap_err().to_string();
        assert!(err.contains("nope.md"), "{err}");
    }

    fn period() -> impl Strategy<Value = Period> {
        (0u32..400, 0usize..4).prop_map(|(n, u)| match u {
            0 => Period::hours(n),
            1 => Period::days(n),
            2 => Period::weeks(n % 60),
            _ => Period::months(n % 24),
        })
    }

    /// Seconds from 2020 to 2030, dense enough to land on DST days and month ends.
    fn instant() -> impl Strategy<Value = Timestamp> {
        (1_577_836_800i64..1_893_456_000).prop_map(|s| Timestamp::from_second(s).unwrap())
    }

    proptest! {
        #[test]
        fn deadlines_are_never_before_first_seen(
            t in instant(), zi in 0usize..3, a in period(), b in period(), c in period(),
            grace in period(), cap in period(), level in 0usize..5,
        ) {
            let tz = &zones()[zi];
            let mut p = Policy::defaults();
            p.response = Sourced::config(a);
            p.update = Sourced::config(b);
            p.fix.critical = Sourced::config(FixTime::Within(c));
            p.fix.high = Sourced::config(FixTime::Within(c));
            p.fix.medium = Sourced::config(FixTime::Within(c));
            p.fix.low = Sourced::config(FixTime::Within(c));
            p.disclosure.grace = Sourced::config(grace);
            p.disclosure.at_most = Some(Sourced::config(cap));
            let severity = [Level::Unknown, Level::Low, Level::Medium, Level::High, Level::Critical][level];
            let d = p.deadlines(t, severity, tz);
            for due in [d.respond_by, d.update_by, d.fix_by, d.disclose_by] {
                prop_assert!(due.is_some_and(|due| due >= t));
            }
            prop_assert!(d.disclose_by <= cap.after(t, tz));
        }

        #[test]
        fn hours_are_exact_elapsed_time(t in instant(), zi in 0usize..3, n in 0u32..10_000) {
            let tz = &zones()[zi];
            let due = Period::hours(n).after(t, tz).unwrap();
            prop_assert_eq!(due.duration_since(t), SignedDuration::from_hours(i64::from(n)));
        }

        #[test]
        fn days_keep_local_wall_time_unless_in_a_gap(t in instant(), zi in 0usize..3, n in 0u32..800) {
            let tz = &zones()[zi];
            let start = t.to_zoned(tz.clone());
            let due = Period::days(n).after(t, tz).unwrap().to_zoned(tz.clone());
            let target = start.date().checked_add(Span::new().days(i64::from(n))).unwrap().to_datetime(start.time());
            if due.datetime() != target {
                // Only a wall time that does not exist that day may move (forward, past the gap).
                let in_gap = matches!(
                    tz.to_ambiguous_timestamp(target).offset(),
                    jiff::tz::AmbiguousOffset::Gap { .. }
                );
                prop_assert!(in_gap);
                prop_assert!(due.datetime() > target);
            }
            prop_assert_eq!(Period::weeks(n % 100).after(t, tz), Period::days(n % 100 * 7).after(t, tz));
        }

        #[test]
        fn days_landing_in_a_spring_gap_move_past_it(
            year in 2020i16..2031, zi in 0usize..2, n in 0i64..60, minute in 0i8..60,
        ) {
            // Aim at the missing hour itself: find the spring-forward day of that year.
            let tz = &zones()[zi];
            let gap_day = (1..=31)
                .map(|d| date(year, 3, d))
                .find(|d| {
                    let dt = d.at(2, 30, 0, 0);
                    matches!(tz.to_ambiguous_timestamp(dt).offset(), jiff::tz::AmbiguousOffset::Gap { .. })
                })
                .unwrap();
            let start_date = gap_day.checked_sub(Span::new().days(n)).unwrap();
            let start = at(tz, start_date.at(2, minute, 0, 0));
            let due = Period::days(u32::try_from(n).unwrap()).after(start, tz).unwrap();
            prop_assert!(due >= start);
            let local = due.to_zoned(tz.clone()).datetime();
            prop_assert_eq!(local.date(), gap_day);
            // 02:mm does not exist that day: the deadline is the same instant one hour later.
            prop_assert_eq!(local.time(), jiff::civil::time(3, minute, 0, 0));
        }

        #[test]
        fn months_clamp_to_the_last_day(t in instant(), zi in 0usize..3, n in 0u32..30) {
            let tz = &zones()[zi];
            let start = t.to_zoned(tz.clone());
            let due = Period::months(n).after(t, tz).unwrap().to_zoned(tz.clone());
            let months = |z: &jiff::Zoned| i32::from(z.year()) * 12 + i32::from(z.month());
            prop_assert_eq!(months(&due) - months(&start), i32::try_from(n).unwrap());
            prop_assert_eq!(due.day(), start.day().min(due.days_in_month()));
        }

        #[test]
        fn default_fix_deadlines_are_ordered_by_severity(t in instant(), zi in 0usize..3) {
            let tz = &zones()[zi];
            let p = Policy::defaults();
            let fix = |l| p.deadlines(t, l, tz).fix_by.unwrap();
            prop_assert!(fix(Level::Critical) <= fix(Level::High));
            prop_assert!(fix(Level::High) <= fix(Level::Medium));
            prop_assert!(fix(Level::Medium) <= fix(Level::Low));
        }
    }
}
