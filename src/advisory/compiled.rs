//! Advisories compiled for matching: names normalised, versions parsed, ranges turned into
//! version sets once at load time, so matching a dependency is set membership.

use super::{Advisory, AdvisoryKind};
use crate::ecosystem::{Ecosystem, Version, VersionSet};
use crate::severity::Level;
use std::ops::Bound;
use std::sync::Arc;

/// A record that cannot be compiled (an unparsable version in a range event, an event with
/// several fields). The record is reported and skipped.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("advisory {id}: {message}")]
pub struct CompileError {
    /// The record id.
    pub id: String,
    /// What is wrong.
    pub message: String,
}

/// One affected package of an advisory, ready for matching.
#[derive(Debug, Clone)]
pub struct CompiledAffected {
    /// The package's ecosystem.
    pub ecosystem: Ecosystem,
    /// The normalised package name (the index key).
    pub name: String,
    /// Every affected version, from ranges and the `versions` list.
    pub affected: VersionSet,
    /// `versions` entries that do not parse as versions: compared verbatim.
    pub raw_versions: Vec<String>,
    /// Versions named by `fixed` events.
    pub fixed: Vec<Version>,
    /// True when an affected interval is open-ended (no fix known).
    pub unbounded: bool,
}

impl CompiledAffected {
    /// True when `version` (written as `raw` in the manifest) is affected.
    pub fn affects(&self, version: &Version, raw: &str) -> bool {
        self.affected.contains(version) || self.raw_versions.iter().any(|r| r == raw)
    }
}

/// An advisory with its compiled affected entries.
#[derive(Debug, Clone)]
pub struct CompiledAdvisory {
    /// The OSV record.
    pub advisory: Arc<Advisory>,
    /// Where it came from (`rustsec-dir:...`, `osv-dir:...`).
    pub source: String,
    /// Vulnerability or an informational kind.
    pub kind: AdvisoryKind,
    /// Severity from the CVSS vectors, else the source's label.
    pub severity: Level,
    /// The CVSS base score, when a vector gave one.
    pub score: Option<f64>,
    /// Affected packages of the ecosystems depwatch knows.
    pub affected: Vec<CompiledAffected>,
}

fn parse_event_version(
    eco: Ecosystem,
    id: &str,
    field: &str,
    value: &str,
) -> Result<Version, CompileError> {
    eco.parse_version(value).map_err(|e| CompileError {
        id: id.to_string(),
        message: format!("{field}: {e}"),
    })
}

/// One OSV event, with its version parsed. `None` versions are the special values
/// (`introduced: "0"`, `limit: "*"`).
enum Ev {
    Introduced(Option<Version>),
    Fixed(Version),
    LastAffected(Version),
    Limit(Option<Version>),
}

impl Ev {
    fn key(&self) -> Option<&Version> {
        match self {
            Self::Introduced(v) | Self::Limit(v) => v.as_ref(),
            Self::Fixed(v) | Self::LastAffected(v) => Some(v),
        }
    }
}

/// Compile one range's events into the set of versions the OSV evaluation algorithm calls
/// affected: walk the events sorted by version; `introduced` opens an interval, `fixed` closes
/// it exclusively, `last_affected` inclusively; the set is then cut below the highest `limit`.
fn compile_range(
    eco: Ecosystem,
    id: &str,
    range: &super::Range,
    fixed: &mut Vec<Version>,
    unbounded: &mut bool,
) -> Result<VersionSet, CompileError> {
    let mut events = Vec::with_capacity(range.events.len());
    for e in &range.events {
        let set = [&e.introduced, &e.fixed, &e.last_affected, &e.limit]
            .iter()
            .filter(|f| f.is_some())
            .count();
        if set != 1 {
            return Err(CompileError {
                id: id.to_string(),
                message: format!("a range event must have exactly one field, found {set}"),
            });
        }
        let ev = if let Some(v) = &e.introduced {
            if v == "0" {
                Ev::Introduced(None)
            } else {
                Ev::Introduced(Some(parse_event_version(eco, id, "introduced", v)?))
            }
        } else if let Some(v) = &e.fixed {
            Ev::Fixed(parse_event_version(eco, id, "fixed", v)?)
        } else if let Some(v) = &e.last_affected {
            Ev::LastAffected(parse_event_version(eco, id, "last_affected", v)?)
        } else if let Some(v) = &e.limit {
            if v.contains('*') {
                Ev::Limit(None)
            } else {
                Ev::Limit(Some(parse_event_version(eco, id, "limit", v)?))
            }
        } else {
            continue;
        };
        events.push(ev);
    }
    // Stable sort: "0" first, equal versions keep the record's order.
    events.sort_by(|a, b| match (a.key(), b.key()) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Less,
        (_, None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(y),
    });

    let mut set = VersionSet::empty();
    let mut open: Option<Bound<Version>> = None;
    let mut limits: Vec<Option<Version>> = Vec::new();
    for ev in events {
        match ev {
            Ev::Introduced(v) => {
                if open.is_none() {
                    open = Some(match v {
                        Some(v) => Bound::Included(v),
                        None => Bound::Unbounded,
                    });
                }
            }
            Ev::Fixed(v) => {
                if let Some(lo) = open.take() {
                    set = set.union(&VersionSet::from_bounds(lo, Bound::Excluded(v.clone())));
                }
                fixed.push(v);
            }
            Ev::LastAffected(v) => {
                if let Some(lo) = open.take() {
                    set = set.union(&VersionSet::from_bounds(lo, Bound::Included(v)));
                }
            }
            Ev::Limit(v) => limits.push(v),
        }
    }
    if let Some(lo) = open {
        set = set.union(&VersionSet::from_bounds(lo, Bound::Unbounded));
        *unbounded = true;
    }
    // BeforeLimits: v < any limit. No limit (or "*") means no cut.
    if !limits.is_empty() && !limits.iter().any(Option::is_none) {
        let max = limits.into_iter().flatten().max();
        if let Some(max) = max {
            set = set.intersection(&VersionSet::below(max));
            *unbounded = false;
        }
    }
    Ok(set)
}

impl CompiledAdvisory {
    /// Compile a record for matching. Affected entries of other ecosystems are dropped;
    /// `GIT` and unknown range types are skipped (the `versions` list covers GIT ranges in
    /// the databases we read).
    pub fn compile(advisory: Advisory, source: &str) -> Result<Self, CompileError> {
        let id = advisory.id.clone();
        if id.trim().is_empty() {
            return Err(CompileError {
                id: "(no id)".into(),
                message: "record has no id".into(),
            });
        }
        let mut affected = Vec::new();
        for a in &advisory.affected {
            let Some(eco) = Ecosystem::from_osv(&a.package.ecosystem) else {
                continue;
            };
            let mut set = VersionSet::empty();
            let mut fixed = Vec::new();
            let mut unbounded = false;
            for r in &a.ranges {
                if r.kind == "SEMVER" || r.kind == "ECOSYSTEM" {
                    let s = compile_range(eco, &id, r, &mut fixed, &mut unbounded)?;
                    set = set.union(&s);
                }
            }
            let mut raw_versions = Vec::new();
            let mut listed = Vec::with_capacity(a.versions.len());
            for v in &a.versions {
                match eco.parse_version(v) {
                    Ok(v) => listed.push(v),
                    Err(_) => raw_versions.push(v.trim().to_string()),
                }
            }
            // Most listed versions lie inside the ranges already (PyPA lists every version its
            // ranges cover): add only the others, which skips sorting and merging hundreds.
            listed.retain(|v| !set.contains(v));
            if !listed.is_empty() {
                set = set.union(&VersionSet::from_versions(listed));
            }
            fixed.sort();
            fixed.dedup();
            affected.push(CompiledAffected {
                ecosystem: eco,
                name: eco.normalize_name(&a.package.name),
                affected: set,
                raw_versions,
                fixed,
                unbounded,
            });
        }
        let (severity, score) = crate::severity::assess(&advisory);
        Ok(Self {
            kind: advisory.kind(),
            severity,
            score,
            source: source.to_string(),
            affected,
            advisory: Arc::new(advisory),
        })
    }

    /// True when the record was withdrawn.
    pub fn is_withdrawn(&self) -> bool {
        self.advisory.withdrawn.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::{Affected, Event, Package, Range};

    fn ev(kind: &str, v: &str) -> Event {
        let mut e = Event::default();
        let s = Some(v.to_string());
        match kind {
            "i" => e.introduced = s,
            "f" => e.fixed = s,
            "la" => e.last_affected = s,
            "l" => e.limit = s,
            _ => unreachable!(),
        }
        e
    }

    fn adv(eco: &str, kind: &str, events: Vec<Event>, versions: &[&str]) -> CompiledAdvisory {
        let a = Advisory {
            id: "TEST-1".into(),
            affected: vec![Affected {
                package: Package {
                    ecosystem: eco.into(),
                    name: "Pkg_Name".into(),
                    purl: None,
                },
                ranges: vec![Range {
                    kind: kind.into(),
                    events,
                    ..Default::default()
                }],
                versions: versions.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        CompiledAdvisory::compile(a, "test").unwrap()
    }

    fn hit(a: &CompiledAdvisory, v: &str) -> bool {
        let aff = &a.affected[0];
        let ver = aff.ecosystem.parse_version(v).unwrap();
        aff.affects(&ver, v)
    }

    #[test]
    fn introduced_zero_fixed() {
        let a = adv(
            "PyPI",
            "ECOSYSTEM",
            vec![ev("i", "0"), ev("f", "1.0.2")],
            &[],
        );
        assert_eq!(a.affected[0].name, "pkg-name");
        assert!(hit(&a, "0.0.1"));
        assert!(
            hit(&a, "1.0.2rc1"),
            "a pre-release of the fix is still affected"
        );
        assert!(hit(&a, "1.0.1.post3"));
        assert!(!hit(&a, "1.0.2"));
        assert!(!hit(&a, "1.0.2.post1"));
        assert!(!hit(&a, "2.0"));
    }

    #[test]
    fn prerelease_inside_range_is_affected() {
        // The trap VersionReq / SpecifierSet fall into: 2.0.0rc1 sorts inside [1.0, 2.0).
        let a = adv(
            "PyPI",
            "ECOSYSTEM",
            vec![ev("i", "1.0"), ev("f", "2.0")],
            &[],
        );
        assert!(hit(&a, "2.0.0rc1"));
        assert!(hit(&a, "2.0.dev0"));
        assert!(!hit(&a, "1.0rc1"));
        assert!(hit(&a, "1.0"));
        let a = adv(
            "crates.io",
            "SEMVER",
            vec![ev("i", "1.0.0"), ev("f", "2.0.0")],
            &[],
        );
        assert!(hit(&a, "2.0.0-rc.1"));
        assert!(!hit(&a, "1.0.0-alpha"));
        assert!(!hit(&a, "2.0.0"));
    }

    #[test]
    fn rustsec_style_zero_prerelease() {
        let a = adv(
            "crates.io",
            "SEMVER",
            vec![ev("i", "0.0.0-0"), ev("f", "0.3.3")],
            &[],
        );
        assert!(hit(&a, "0.0.0-alpha"));
        assert!(hit(&a, "0.3.2"));
        assert!(!hit(&a, "0.3.3"));
    }

    #[test]
    fn last_affected_is_inclusive() {
        let a = adv(
            "PyPI",
            "ECOSYSTEM",
            vec![ev("i", "19.0"), ev("la", "22.0.0")],
            &[],
        );
        assert!(hit(&a, "22.0.0"));
        assert!(hit(&a, "22.0"));
        assert!(!hit(&a, "22.0.0.post1"));
        assert!(!hit(&a, "18.9"));
        assert!(a.affected[0].fixed.is_empty());
    }

    #[test]
    fn several_intervals_and_unsorted_events() {
        let a = adv(
            "crates.io",
            "SEMVER",
            vec![
                ev("i", "3.0.0"),
                ev("f", "3.2.5"),
                ev("i", "1.0.0"),
                ev("f", "1.0.2"),
            ],
            &[],
        );
        assert!(hit(&a, "1.0.1"));
        assert!(!hit(&a, "1.0.2"));
        assert!(!hit(&a, "2.5.0"));
        assert!(hit(&a, "3.2.4"));
        assert!(!hit(&a, "3.2.5"));
        assert_eq!(a.affected[0].fixed.len(), 2);
    }

    #[test]
    fn limit_cuts_the_range() {
        let a = adv(
            "PyPI",
            "ECOSYSTEM",
            vec![ev("i", "1.0"), ev("l", "1.5")],
            &[],
        );
        assert!(hit(&a, "1.4.9"));
        assert!(!hit(&a, "1.5"));
        assert!(!hit(&a, "3.0"));
        let a = adv("PyPI", "ECOSYSTEM", vec![ev("i", "1.0"), ev("l", "*")], &[]);
        assert!(hit(&a, "300"));
    }

    #[test]
    fn introduced_only_affects_everything_after() {
        let a = adv("crates.io", "SEMVER", vec![ev("i", "0.1.0")], &[]);
        assert!(hit(&a, "99.0.0"));
        assert!(!hit(&a, "0.0.9"));
        assert!(a.affected[0].unbounded);
    }

    #[test]
    fn versions_list_and_git_ranges() {
        let a = adv(
            "PyPI",
            "GIT",
            vec![ev("i", "abc123"), ev("f", "def456")],
            &["1.0", "1.1", "legacy-1"],
        );
        assert!(hit(&a, "1.0.0"), "PEP 440 equality: 1.0 == 1.0.0");
        assert!(hit(&a, "1.1"));
        assert!(!hit(&a, "1.2"));
        assert_eq!(a.affected[0].raw_versions, vec!["legacy-1".to_string()]);
    }

    #[test]
    fn bad_versions_are_errors_with_the_id() {
        let a = Advisory {
            id: "BAD-1".into(),
            affected: vec![Affected {
                package: Package {
                    ecosystem: "PyPI".into(),
                    name: "x".into(),
                    purl: None,
                },
                ranges: vec![Range {
                    kind: "ECOSYSTEM".into(),
                    events: vec![ev("i", "0"), ev("f", "not-a-version")],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let e = CompiledAdvisory::compile(a, "t").unwrap_err();
        assert_eq!(e.id, "BAD-1");
        assert!(e.to_string().contains("not-a-version"), "{e}");
        let huge = format!("{}9", u64::MAX);
        let e2 = Event {
            fixed: Some(huge.clone()),
            ..Default::default()
        };
        let a = Advisory {
            id: "BAD-2".into(),
            affected: vec![Affected {
                package: Package {
                    ecosystem: "crates.io".into(),
                    name: "x".into(),
                    purl: None,
                },
                ranges: vec![Range {
                    kind: "SEMVER".into(),
                    events: vec![ev("i", "0"), e2],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(CompiledAdvisory::compile(a, "t").is_err());
    }

    #[test]
    fn unknown_ecosystems_are_skipped_not_errors() {
        let a = adv("Go", "SEMVER", vec![ev("i", "0")], &[]);
        assert!(a.affected.is_empty());
    }
}
