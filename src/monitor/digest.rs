//! Urgent or digest: the one place that decides whether an event is sent at once or held for
//! the project's next digest (`[notify] digest`), and why.
//!
//! Held for the digest, only when a digest schedule is configured:
//! - every event of a finding whose scope is quiet for its project (`quiet-scopes`): each of
//!   the scope's labels must be quiet (`dev,docs` with only `dev` quiet stays urgent);
//! - new, severity-changed, fix-available and resolved events of a finding whose severity is
//!   **low**. `unknown` is not low: depwatch does not know how bad it is, so it is not played
//!   down. Deadline events (near, overdue) of a low finding stay urgent: the policy set the
//!   date, and a weekly digest could arrive after it;
//! - every event of an informational warning (unmaintained, unsound, notice, yanked, other)
//!   and of a range risk (an unpinned requirement allowing affected versions). These are never
//!   urgent: without a digest they are not alerted at all (reports show them, as before), so
//!   the default stays quiet.
//!
//! Never held: events of malware and of findings in CISA KEV ([`Event::alerts_at_once`], the
//! one rule), "now known exploited" events, and any event kind this module does not name.

use super::{Event, EventKind};
use crate::advisory::AdvisoryKind;
use crate::severity::Level;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Where an event goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Sent at once, in this run's message.
    Urgent,
    /// Held for the next digest, for this reason.
    Digest(DigestReason),
    /// Not alerted: a warning or range risk with no digest to go to (reports show it).
    NotAlerted,
}

/// Why an event waits for the digest (said in the digest next to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestReason {
    /// Its scope (as the manifest says it) is quiet for the project.
    QuietScope(String),
    /// Its severity is low.
    LowSeverity,
    /// It is an informational advisory of this kind.
    Informational(AdvisoryKind),
    /// It is a range risk: an unpinned requirement allowing affected versions.
    RangeRisk,
}

impl std::fmt::Display for DigestReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::QuietScope(s) => write!(f, "scope {s} is quiet for this project"),
            Self::LowSeverity => f.write_str("low severity"),
            Self::Informational(k) => write!(f, "informational advisory ({})", k.as_str()),
            Self::RangeRisk => f.write_str("range risk (not a vulnerable version in use)"),
        }
    }
}

/// The project's digest settings: present only when `[notify] digest` is configured.
#[derive(Debug, Clone, Copy)]
pub struct DigestRules<'a> {
    /// The project's `quiet-scopes`.
    pub quiet_scopes: &'a [String],
}

/// Whether a finding's scope is quiet: every comma-separated label of it is listed.
fn quiet_scope<'s>(scope: Option<&'s str>, quiet: &[String]) -> Option<&'s str> {
    let scope = scope?;
    let mut labels = scope.split(',').map(str::trim).filter(|l| !l.is_empty());
    let mut any = false;
    let all = labels.all(|l| {
        any = true;
        quiet.iter().any(|q| q == l)
    });
    (any && all).then_some(scope)
}

/// The reason a warning or range risk event waits, or `None` for any other event. Malware is
/// never informational ([`AdvisoryKind::is_informational`]).
fn informational(e: &Event) -> Option<DigestReason> {
    let f = &e.finding.finding;
    if e.finding.fingerprint.starts_with(super::RISK_PREFIX)
        || matches!(e.kind, EventKind::RangeRisk { .. })
    {
        Some(DigestReason::RangeRisk)
    } else if f.kind.is_informational() {
        Some(DigestReason::Informational(f.kind))
    } else {
        None
    }
}

/// The one decision: urgent, held for the digest and why, or (a warning or range risk without
/// a digest) not alerted. `rules` is `None` when no digest is configured: then every other
/// event is urgent.
pub fn route(e: &Event, rules: Option<DigestRules<'_>>) -> Route {
    let info = if e.alerts_at_once() {
        None
    } else {
        informational(e)
    };
    let Some(rules) = rules else {
        return if info.is_some() {
            Route::NotAlerted
        } else {
            Route::Urgent
        };
    };
    if let Some(reason) = info {
        return Route::Digest(reason);
    }
    if e.alerts_at_once() {
        return Route::Urgent;
    }
    let f = &e.finding.finding;
    // Kinds named here may be held; any other (a kind added later) is urgent.
    let plain = matches!(
        e.kind,
        EventKind::New
            | EventKind::SeverityChanged { .. }
            | EventKind::FixAvailable { .. }
            | EventKind::Resolved { .. }
    );
    let deadline = matches!(
        e.kind,
        EventKind::DeadlineNear { .. } | EventKind::Overdue { .. }
    );
    if !(plain || deadline) {
        return Route::Urgent;
    }
    if let Some(scope) = quiet_scope(f.scope.as_deref(), rules.quiet_scopes) {
        return Route::Digest(DigestReason::QuietScope(scope.to_string()));
    }
    if !plain {
        return Route::Urgent;
    }
    let severity = match &e.kind {
        EventKind::SeverityChanged { to, .. } => *to,
        _ => f.severity,
    };
    if severity == Level::Low {
        return Route::Digest(DigestReason::LowSeverity);
    }
    Route::Urgent
}

/// An event held for a digest, as the store keeps it (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldEvent {
    /// The event.
    pub event: Event,
    /// Why it was held ([`DigestReason`]'s text).
    pub reason: String,
    /// The run that found it.
    pub run_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::Ecosystem;
    use crate::monitor::{DeadlineKind, TrackedFinding};
    use crate::policy::Deadlines;
    use crate::report::{Finding, Fix, Location, PackageRef};

    fn event(kind: EventKind, sev: Level, scope: Option<&str>, ak: AdvisoryKind) -> Event {
        let finding = Finding {
            id: "GHSA-2g68-c3qc-8985".into(),
            ids: vec!["GHSA-2g68-c3qc-8985".into()],
            sources: vec!["osv-dir:x".into()],
            kind: ak,
            package: PackageRef {
                ecosystem: Ecosystem::PyPI,
                name: "Werkzeug".into(),
                version: "3.0.1".into(),
            },
            severity: sev,
            cvss_score: None,
            cvss_vectors: vec![],
            summary: None,
            cwe_ids: vec![],
            fixed_versions: vec![],
            fix: Fix::NoFix,
            url: None,
            location: Location {
                file: "pyproject.toml".into(),
                line: 3,
            },
            via: None,
            scope: scope.map(String::from),
            member: None,
            markers: None,
            note: None,
            disagreements: vec![],
            kev: None,
            kev_related: vec![],
            epss: None,
            vex: vec![],
        };
        Event {
            kind,
            finding: TrackedFinding {
                fingerprint: "PyPI/werkzeug/GHSA-2g68-c3qc-8985".into(),
                finding,
                first_seen: "2026-12-01T09:00:00Z".parse().unwrap(),
                deadlines: Deadlines::default(),
            },
        }
    }

    fn overdue() -> EventKind {
        EventKind::Overdue {
            deadline: DeadlineKind::Fix,
            due: "2026-12-01T09:00:00Z".parse().unwrap(),
        }
    }

    const V: AdvisoryKind = AdvisoryKind::Vulnerability;

    #[test]
    fn without_a_digest_everything_is_urgent() {
        let e = event(EventKind::New, Level::Low, Some("dev"), V);
        assert_eq!(route(&e, None), Route::Urgent);
    }

    /// Warnings and range risks only ever go to a digest: without one they are not alerted;
    /// with one they are held for what they are, ahead of a quiet scope.
    #[test]
    fn warnings_and_range_risks_go_to_the_digest_or_nowhere() {
        let quiet = ["dev".to_string()];
        let rules = Some(DigestRules {
            quiet_scopes: &quiet,
        });
        let yanked = event(
            EventKind::New,
            Level::Unknown,
            Some("dev"),
            AdvisoryKind::Yanked,
        );
        assert_eq!(route(&yanked, None), Route::NotAlerted);
        assert_eq!(
            route(&yanked, rules),
            Route::Digest(DigestReason::Informational(AdvisoryKind::Yanked))
        );
        let gone = event(
            EventKind::Resolved {
                reason: "gone".into(),
            },
            Level::Unknown,
            None,
            AdvisoryKind::Unsound,
        );
        assert_eq!(route(&gone, None), Route::NotAlerted);
        let risk_kind = EventKind::RangeRisk {
            requirement: ">=2.0".into(),
            allows: vec![],
            suggested: Some(">=3.0.3".into()),
            note: None,
        };
        let mut risk = event(risk_kind, Level::Critical, None, V);
        risk.finding.fingerprint = "risk/PyPI/werkzeug/>=2.0/GHSA-2g68-c3qc-8985".into();
        assert_eq!(route(&risk, None), Route::NotAlerted);
        assert_eq!(route(&risk, rules), Route::Digest(DigestReason::RangeRisk));
        let mut risk_gone = risk.clone();
        risk_gone.kind = EventKind::Resolved {
            reason: "narrowed".into(),
        };
        assert_eq!(
            route(&risk_gone, rules),
            Route::Digest(DigestReason::RangeRisk)
        );
        // A vulnerability without a digest stays urgent, with one and high: urgent too.
        let vuln = event(EventKind::New, Level::High, None, V);
        assert_eq!(route(&vuln, None), Route::Urgent);
        assert_eq!(route(&vuln, rules), Route::Urgent);
    }

    #[test]
    fn quiet_scopes_hold_every_kind_but_only_when_every_label_is_quiet() {
        let quiet = ["dev".to_string(), "test".to_string()];
        let rules = Some(DigestRules {
            quiet_scopes: &quiet,
        });
        for kind in [EventKind::New, overdue()] {
            let e = event(kind, Level::Critical, Some("dev"), V);
            assert_eq!(
                route(&e, rules),
                Route::Digest(DigestReason::QuietScope("dev".into()))
            );
        }
        let both = event(EventKind::New, Level::High, Some("dev, test"), V);
        assert!(matches!(route(&both, rules), Route::Digest(_)));
        let mixed = event(EventKind::New, Level::High, Some("dev,docs"), V);
        assert_eq!(route(&mixed, rules), Route::Urgent);
        let main = event(EventKind::New, Level::High, None, V);
        assert_eq!(route(&main, rules), Route::Urgent);
        let empty = event(EventKind::New, Level::High, Some(" , "), V);
        assert_eq!(route(&empty, rules), Route::Urgent);
    }

    #[test]
    fn low_is_held_unknown_is_not_and_deadlines_stay_urgent() {
        let rules = Some(DigestRules { quiet_scopes: &[] });
        let low = event(EventKind::New, Level::Low, None, V);
        assert_eq!(route(&low, rules), Route::Digest(DigestReason::LowSeverity));
        let unknown = event(EventKind::New, Level::Unknown, None, V);
        assert_eq!(route(&unknown, rules), Route::Urgent);
        let low_overdue = event(overdue(), Level::Low, None, V);
        assert_eq!(route(&low_overdue, rules), Route::Urgent);
        // Up from low is urgent; down to low is not.
        let up = EventKind::SeverityChanged {
            from: Level::Low,
            to: Level::High,
        };
        assert_eq!(
            route(&event(up, Level::High, None, V), rules),
            Route::Urgent
        );
        let down = EventKind::SeverityChanged {
            from: Level::High,
            to: Level::Low,
        };
        assert!(matches!(
            route(&event(down, Level::Low, None, V), rules),
            Route::Digest(_)
        ));
    }

    #[test]
    fn known_exploited_is_never_held() {
        let quiet = ["dev".to_string()];
        let rules = Some(DigestRules {
            quiet_scopes: &quiet,
        });
        let mut e = event(EventKind::New, Level::Low, Some("dev"), V);
        assert!(matches!(route(&e, rules), Route::Digest(_)));
        e.finding.finding.kev = Some(crate::feeds::signal::KevMark {
            cve: "CVE-2020-11978".into(),
            date_added: jiff::civil::date(2022, 1, 18),
            due_date: jiff::civil::date(2022, 7, 18),
            known_ransomware_campaign_use: "Unknown".into(),
            catalog_version: "2025.08.25".into(),
            source: "kev".into(),
        });
        assert_eq!(route(&e, rules), Route::Urgent, "in KEV: at once");
        let now = event(
            EventKind::KnownExploited {
                reason: "EPSS 0.2 >= 0.1".into(),
            },
            Level::Low,
            Some("dev"),
            V,
        );
        assert_eq!(route(&now, rules), Route::Urgent);
    }

    #[test]
    fn malware_is_never_held_informational_is() {
        let quiet = ["dev".to_string()];
        let rules = Some(DigestRules {
            quiet_scopes: &quiet,
        });
        let mal = event(
            EventKind::New,
            Level::Low,
            Some("dev"),
            AdvisoryKind::Malware,
        );
        assert_eq!(route(&mal, rules), Route::Urgent);
        let unmaintained = event(
            EventKind::New,
            Level::Unknown,
            None,
            AdvisoryKind::Unmaintained,
        );
        assert_eq!(
            route(&unmaintained, rules),
            Route::Digest(DigestReason::Informational(AdvisoryKind::Unmaintained))
        );
        assert_eq!(
            DigestReason::Informational(AdvisoryKind::Yanked).to_string(),
            "informational advisory (yanked)"
        );
    }
}
