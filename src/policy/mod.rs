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
//! | status update / assessment | 7 days | the same policies: "7 days" or "1 week" |
//! | fix, critical | 7 days | the common tiered practice (helpr's upper bounds: 7 / 30 / 90 days) |
//! | fix, high | 30 days | " |
//! | fix, medium | 90 days | " |
//! | fix, low | 180 days | bounded, so that no finding waits forever |
//! | disclosure | after the fix is released, at most 90 days after first seen | the usual 90-day coordinated-disclosure norm (Project Zero, CERT/CC) |
//!
//! A file that ties disclosure to the fix but names no maximum still gets the 90-day cap (it
//! does not say otherwise); `depwatch policy show` marks it "(default)".
//!
//! # Reading of figures
//!
//! A range ("1-7 days") is taken at its upper bound: that is the promise. "Best effort" and
//! "next release" are fix times without a deadline. "Users have time to update" after a fix
//! adds a grace of [`security_md::UPDATE_GRACE`] (7 days) before disclosure.
//!
//! # Arithmetic
//!
//! Hours are exact elapsed time. Days, weeks and months are calendar arithmetic in the
//! project's time zone: "7 days" keeps the wall-clock time across a DST change (moved forward
//! when it falls in a gap), and "1 month" from January 31 is the last day of February.
//!
//! A finding of unknown severity gets the medium rule: an unscored advisory must not be treated
//! as least urgent, and calling every unscored record high would drown the real ones.

pub mod security_md;

use crate::monitor::DeadlineKind;
use crate::severity::Level;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

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
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "SECURITY.md line {n}"),
            Self::Config => f.write_str("depwatch.toml"),
            Self::Default => f.write_str("default"),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// "Best effort": no deadline.
    BestEffort,
    /// "Next release": no deadline.
    NextRelease,
}

impl fmt::Display for FixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Within(p) => p.fmt(f),
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
    /// Disclose this long after the fix is released (zero: right away).
    pub after_fix: Sourced<Period>,
    /// Disclose at the latest this long after first seen, fixed or not.
    pub at_most: Sourced<Period>,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// An email address.
    Email,
    /// A web address (form, private advisory page).
    Url,
    /// GitHub's private vulnerability reporting (Security tab, "Report a vulnerability").
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
    /// Status update / assessment time.
    pub update: Sourced<Period>,
    /// Fix time by severity.
    pub fix: FixTimes,
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
    /// Fix time for critical findings.
    pub fix_critical: Option<String>,
    /// Fix time for high findings.
    pub fix_high: Option<String>,
    /// Fix time for medium (and unknown) findings.
    pub fix_medium: Option<String>,
    /// Fix time for low findings.
    pub fix_low: Option<String>,
    /// The latest disclosure, after first seen: a number of days or a duration.
    pub disclose_after_days: Option<DaysOrText>,
    /// The supported versions, replacing the file's table ("1.x", ">= 2.0").
    pub supported_versions: Option<String>,
}

const DURATION_HINT: &str = "write e.g. \"48 hours\", \"7 days\", \"2 weeks\" or \"1 month\"";

impl PolicyOverride {
    /// Check every value; the error names the key and the value it could not read.
    pub fn validate(&self) -> Result<(), String> {
        for (key, value) in [("response", &self.response), ("update", &self.update)] {
            if let Some(v) = value
                && Period::parse(v).is_none()
            {
                return Err(format!(
                    "policy `{key}`: cannot read {v:?} as a duration ({DURATION_HINT})"
                ));
            }
        }
        for (key, value, _) in self.fixes() {
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
        for (level, fix) in security_md::SEVERITIES.into_iter().zip(found.fix) {
            if let Some(fix) = fix {
                *policy.fix.get_mut(level) = sourced(fix);
            }
        }
        if let Some(a) = found.after_fix {
            policy.disclosure.after_fix = sourced(a);
        }
        if let Some(m) = found.at_most {
            policy.disclosure.at_most = sourced(m);
        }
        policy.supported = found.supported;
        policy.channels = found.channels;
        policy
    }

    /// The documented defaults (module docs), used for whatever a SECURITY.md does not say.
    pub fn defaults() -> Self {
        let within = |p| Sourced::default(FixTime::Within(p));
        Self {
            source: None,
            response: Sourced::default(Period::hours(48)),
            update: Sourced::default(Period::days(7)),
            fix: FixTimes {
                critical: within(Period::days(7)),
                high: within(Period::days(30)),
                medium: within(Period::days(90)),
                low: within(Period::days(180)),
            },
            disclosure: Disclosure {
                after_fix: Sourced::default(Period::days(0)),
                at_most: Sourced::default(Period::days(90)),
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
        for (_, value, level) in o.fixes() {
            if let Some(t) = value.as_deref().and_then(security_md::exact_fix_time) {
                *self.fix.get_mut(level) = Sourced::config(t);
            }
        }
        if let Some(p) = o.disclose_after_days.as_ref().and_then(DaysOrText::period) {
            self.disclosure.at_most = Sourced::config(p);
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

    /// Deadlines for a finding of `severity` first seen at `first_seen`, in the project's zone.
    /// No fix deadline for "best effort" / "next release"; disclosure is the earlier of
    /// fix + grace and first seen + the maximum.
    pub fn deadlines(&self, first_seen: Timestamp, severity: Level, tz: &TimeZone) -> Deadlines {
        let fix_by = match self.fix.get(severity).value {
            FixTime::Within(p) => p.after(first_seen, tz),
            FixTime::BestEffort | FixTime::NextRelease => None,
        };
        let by_fix = fix_by.and_then(|f| self.disclosure.after_fix.value.after(f, tz));
        let cap = self.disclosure.at_most.value.after(first_seen, tz);
        let disclose_by = match (by_fix, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Deadlines {
            respond_by: self.response.value.after(first_seen, tz),
            update_by: self.update.value.after(first_seen, tz),
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
    /// `(Respond, "48 hours (SECURITY.md line 37)")`.
    pub fn deadline_rules(&self, severity: Level) -> Vec<(DeadlineKind, String)> {
        let fix = self.fix.get(severity);
        let fix_text = match fix.value {
            FixTime::Within(p) => format!("{p} ({})", fix.origin),
            other => format!("{other}, no deadline ({})", fix.origin),
        };
        vec![
            (
                DeadlineKind::Respond,
                format!("{} ({})", self.response.value, self.response.origin),
            ),
            (
                DeadlineKind::Update,
                format!("{} ({})", self.update.value, self.update.origin),
            ),
            (DeadlineKind::Fix, fix_text),
            (DeadlineKind::Disclose, self.disclosure_text()),
        ]
    }

    fn disclosure_text(&self) -> String {
        let d = &self.disclosure;
        let after = if d.after_fix.value.amount == 0 {
            "after the fix is released".to_string()
        } else {
            format!("{} after the fix is released", d.after_fix.value)
        };
        format!(
            "{after} ({}), at most {} after first seen ({}), whichever comes first",
            d.after_fix.origin, d.at_most.value, d.at_most.origin
        )
    }

    /// What was understood, one figure per line with where it came from (file line, config,
    /// default).
    pub fn show(&self, project: &str) -> String {
        let mut out = match &self.source {
            Some(path) => format!("policy of {project} (from {})\n", path.display()),
            None => format!("policy of {project} (no SECURITY.md: defaults)\n"),
        };
        let mut row = |name: &str, value: String, origin: String| {
            out.push_str(&format!(
                "{:<18}{value:<34} ({origin})\n",
                format!("{name}:")
            ));
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
        for level in security_md::SEVERITIES {
            let fix = self.fix.get(level);
            row(
                &format!("fix ({})", level_name(level)),
                fix.value.to_string(),
                fix.origin.to_string(),
            );
        }
        let d = &self.disclosure;
        let after = if d.after_fix.value.amount == 0 {
            "when the fix is released".to_string()
        } else {
            format!("{} after the fix", d.after_fix.value)
        };
        row("disclose", after, d.after_fix.origin.to_string());
        row(
            "disclose at most",
            format!("{} after first seen", d.at_most.value),
            d.at_most.origin.to_string(),
        );
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
            let kind = match c.kind {
                ChannelKind::Email => "email",
                ChannelKind::Url => "url",
                ChannelKind::GitHubAdvisory => "github advisory",
            };
            row(
                "channel",
                format!("{kind}: {}", c.value),
                Origin::Line(c.line).to_string(),
            );
        }
        out
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
        // Low: fix at 180 days, disclosure capped at 90.
        let low = p.deadlines(t0, Level::Low, &utc);
        assert_eq!(low.fix_by, Some(d(180)));
        assert_eq!(low.disclose_by, Some(d(90)));
        // Unknown severity follows medium.
        assert_eq!(
            p.deadlines(t0, Level::Unknown, &utc),
            p.deadlines(t0, Level::Medium, &utc)
        );

        let mut q = Policy::defaults();
        q.fix.low = Sourced::config(FixTime::BestEffort);
        q.disclosure.after_fix = Sourced::config(Period::days(7));
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
        assert_eq!(p.disclosure.at_most, Sourced::config(Period::days(45)));
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
        let show = p.show("demo");
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
            "after the fix is released (default), at most 90 days after first seen (default), whichever comes first"
        );
        assert_eq!(Policy::defaults().affected_versions(), None);
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
            p.disclosure.after_fix = Sourced::config(grace);
            p.disclosure.at_most = Sourced::config(cap);
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
