//! Advisories compiled for matching: names normalised, versions parsed, ranges turned into
//! version sets once at load time, so matching a dependency is set membership.

use super::{Advisory, AdvisoryKind};
use crate::ecosystem::{Ecosystem, Version, VersionSet};
use crate::severity::Level;
use std::ops::Bound;
use std::sync::Arc;

/// A record that cannot be compiled (no id, an event with several fields). The record is
/// reported and skipped. An unreadable version is not an error: see [`RangeNote`].
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("advisory {id}: {message}")]
pub struct CompileError {
    /// The record id.
    pub id: String,
    /// What is wrong.
    pub message: String,
}

/// How depwatch read a range where the record alone does not say it plainly. Every reading
/// widens the affected set or takes a bound the source itself states, so none hides a finding.
/// Shown with the findings the entry produces, so a reader sees what came from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeNote {
    /// The range has no `fixed` / `last_affected` event; GitHub's
    /// `database_specific.last_known_affected_version_range` (`"< 0.2"`) ends it instead.
    EndFromLastKnown {
        /// The bound as GitHub writes it.
        bound: String,
    },
    /// GitHub's `last_known_affected_version_range` could not be used (unreadable, or not above
    /// the range's start): the range stays open.
    LastKnownIgnored {
        /// The bound as GitHub writes it.
        bound: String,
        /// Why it was not used.
        why: String,
    },
    /// An event's version does not parse. An end (`fixed`, `last_affected`) is dropped, which
    /// leaves the range open from its `introduced`; an `introduced` is read as `"0"`; a `limit`
    /// is ignored. A possible false alarm, never a missed finding.
    Unreadable {
        /// `introduced`, `fixed`, `last_affected` or `limit`.
        field: &'static str,
        /// The value as the record writes it (shortened).
        value: String,
        /// Why it does not parse.
        error: String,
    },
}

impl std::fmt::Display for RangeNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EndFromLastKnown { bound } => write!(
                f,
                "range end from GitHub's last_known_affected_version_range {bound:?} (the range has no fixed version)"
            ),
            Self::LastKnownIgnored { bound, why } => write!(
                f,
                "GitHub's last_known_affected_version_range {bound:?} not used ({why}): range read as open"
            ),
            Self::Unreadable {
                field,
                value,
                error,
            } => {
                let (what, reading) = match *field {
                    "introduced" => ("range start", "read as affected from the lowest version"),
                    "limit" => ("range limit", "ignored"),
                    _ => (
                        "range end",
                        "range read as open from its introduced version",
                    ),
                };
                write!(
                    f,
                    "{what} unreadable ({field} {value:?}: {error}): {reading}, a possible false alarm"
                )
            }
        }
    }
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
    /// Versions named by `fixed` events, except those that end an interval at a RustSec
    /// `unaffected` version (not a patched release, so not upgrade advice).
    pub fixed: Vec<Version>,
    /// True when an affected interval is open-ended (no fix known).
    pub unbounded: bool,
    /// How ranges were read where the record is not plain (see [`RangeNote`]).
    pub notes: Vec<RangeNote>,
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

/// Parse an event's version; an unreadable one becomes a note and `None`.
fn parse_event_version(
    eco: Ecosystem,
    field: &'static str,
    value: &str,
    notes: &mut Vec<RangeNote>,
) -> Option<Version> {
    match eco.parse_version(value) {
        Ok(v) => Some(v),
        Err(e) => {
            notes.push(RangeNote::Unreadable {
                field,
                value: crate::text::shorten(value.trim(), 60),
                error: crate::text::shorten(&e.to_string(), 120),
            });
            None
        }
    }
}

/// The `fixed` values a range marks as RustSec `unaffected` bounds (written by
/// `feeds::rustsec::to_osv` in the range's `database_specific.unaffected_bounds`).
fn unaffected_bounds(eco: Ecosystem, range: &super::Range) -> Vec<Version> {
    range
        .database_specific
        .as_ref()
        .and_then(|d| d.get("unaffected_bounds"))
        .and_then(|b| b.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .filter_map(|v| eco.parse_version(v).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// GitHub's `last_known_affected_version_range` for a range: on the range, else on its
/// affected entry (where GitHub's OSV export writes it).
fn last_known<'a>(range: &'a super::Range, entry: &'a super::Affected) -> Option<&'a str> {
    [&range.database_specific, &entry.database_specific]
        .into_iter()
        .flatten()
        .find_map(|d| d.get("last_known_affected_version_range")?.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The end of an open interval starting at `lo` from a `last_known_affected_version_range`
/// (`"< x"`: exclusive, `"<= x"`: inclusive), or why it cannot be used.
fn last_known_end(
    eco: Ecosystem,
    lo: &Bound<Version>,
    bound: &str,
) -> Result<Bound<Version>, String> {
    let (inclusive, v) = if let Some(v) = bound.strip_prefix("<=") {
        (true, v)
    } else if let Some(v) = bound.strip_prefix('<') {
        (false, v)
    } else {
        return Err("not of the form < x or <= x".into());
    };
    let v = eco
        .parse_version(v.trim())
        .map_err(|e| crate::text::shorten(&e.to_string(), 120))?;
    if let Bound::Included(lo) = lo
        && (v < *lo || (v == *lo && !inclusive))
    {
        return Err(format!("not above the range's introduced version {lo}"));
    }
    Ok(if inclusive {
        Bound::Included(v)
    } else {
        Bound::Excluded(v)
    })
}

/// One OSV event, with its version parsed. `None` versions are the special values
/// (`introduced: "0"`, `limit: "*"`).
enum Ev {
    Introduced(Option<Version>),
    /// The version, and whether it is a fix (false for a RustSec `unaffected` bound).
    Fixed(Version, bool),
    LastAffected(Version),
    Limit(Option<Version>),
}

impl Ev {
    fn key(&self) -> Option<&Version> {
        match self {
            Self::Introduced(v) | Self::Limit(v) => v.as_ref(),
            Self::Fixed(v, _) | Self::LastAffected(v) => Some(v),
        }
    }
}

/// Compile one range's events into the set of versions the OSV evaluation algorithm calls
/// affected: walk the events sorted by version; `introduced` opens an interval, `fixed` closes
/// it exclusively, `last_affected` inclusively; the set is then cut below the highest `limit`.
/// A range with no end event at all is closed by GitHub's `last_known_affected_version_range`
/// when the entry has one. Unreadable versions widen the set (see [`RangeNote::Unreadable`]).
fn compile_range(
    eco: Ecosystem,
    id: &str,
    range: &super::Range,
    entry: &super::Affected,
    out: &mut CompiledAffected,
) -> Result<VersionSet, CompileError> {
    let not_fixes = unaffected_bounds(eco, range);
    let notes = &mut out.notes;
    let mut events = Vec::with_capacity(range.events.len());
    let mut has_end = false;
    let mut limit_unreadable = false;
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
                // Unreadable: from the lowest version (wider, never narrower).
                Ev::Introduced(parse_event_version(eco, "introduced", v, notes))
            }
        } else if let Some(v) = &e.fixed {
            has_end = true;
            // Unreadable: no end, so the interval stays open.
            let Some(v) = parse_event_version(eco, "fixed", v, notes) else {
                continue;
            };
            let is_fix = !not_fixes.contains(&v);
            Ev::Fixed(v, is_fix)
        } else if let Some(v) = &e.last_affected {
            has_end = true;
            let Some(v) = parse_event_version(eco, "last_affected", v, notes) else {
                continue;
            };
            Ev::LastAffected(v)
        } else if let Some(v) = &e.limit {
            if v.contains('*') {
                Ev::Limit(None)
            } else {
                match parse_event_version(eco, "limit", v, notes) {
                    Some(v) => Ev::Limit(Some(v)),
                    None => {
                        limit_unreadable = true;
                        continue;
                    }
                }
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
            Ev::Fixed(v, is_fix) => {
                if let Some(lo) = open.take() {
                    set = set.union(&VersionSet::from_bounds(lo, Bound::Excluded(v.clone())));
                }
                if is_fix {
                    out.fixed.push(v);
                }
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
        // GitHub states this bound where no fix exists (time 0.1: "< 0.2"); it is only used
        // when the record gives no end of its own, readable or not.
        let known = last_known(range, entry).filter(|_| !has_end);
        let hi = match known.map(|b| (b, last_known_end(eco, &lo, b))) {
            Some((bound, Ok(hi))) => {
                out.notes.push(RangeNote::EndFromLastKnown {
                    bound: crate::text::shorten(bound, 60),
                });
                hi
            }
            Some((bound, Err(why))) => {
                out.notes.push(RangeNote::LastKnownIgnored {
                    bound: crate::text::shorten(bound, 60),
                    why,
                });
                Bound::Unbounded
            }
            None => Bound::Unbounded,
        };
        if hi == Bound::Unbounded {
            out.unbounded = true;
        }
        set = set.union(&VersionSet::from_bounds(lo, hi));
    }
    // BeforeLimits: v < any limit. No limit (or "*", or an unreadable one) means no cut.
    if !limit_unreadable && !limits.is_empty() && !limits.iter().any(Option::is_none) {
        let max = limits.into_iter().flatten().max();
        if let Some(max) = max {
            set = set.intersection(&VersionSet::below(max));
            out.unbounded = false;
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
            let mut out = CompiledAffected {
                ecosystem: eco,
                name: eco.normalize_name(&a.package.name),
                affected: VersionSet::empty(),
                raw_versions: Vec::new(),
                fixed: Vec::new(),
                unbounded: false,
                notes: Vec::new(),
            };
            let mut set = VersionSet::empty();
            for r in &a.ranges {
                if r.kind == "SEMVER" || r.kind == "ECOSYSTEM" {
                    let s = compile_range(eco, &id, r, a, &mut out)?;
                    set = set.union(&s);
                }
            }
            let raw_versions = &mut out.raw_versions;
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
            out.fixed.sort();
            out.fixed.dedup();
            out.affected = set;
            affected.push(out);
        }
        let (severity, score) = advisory.assess();
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

    fn adv_entry(
        eco: &str,
        events: Vec<Event>,
        entry_specific: Option<serde_json::Value>,
    ) -> Advisory {
        Advisory {
            id: "TEST-2".into(),
            affected: vec![Affected {
                package: Package {
                    ecosystem: eco.into(),
                    name: "x".into(),
                    purl: None,
                },
                ranges: vec![Range {
                    kind: "ECOSYSTEM".into(),
                    events,
                    ..Default::default()
                }],
                database_specific: entry_specific,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// PYSEC-2019-125 (`fixed: "2019-09-12"`) and PYSEC-2021-371 (`fixed: "0.2.0-n653"`) were
    /// dropped whole over their one unreadable version; they are kept, open from `introduced`.
    #[test]
    fn an_unreadable_end_leaves_the_range_open_and_says_so() {
        for bad in ["2019-09-12", "0.2.0-n653"] {
            let a = CompiledAdvisory::compile(
                adv_entry("PyPI", vec![ev("i", "0"), ev("f", bad)], None),
                "t",
            )
            .unwrap();
            assert!(
                hit(&a, "0.1") && hit(&a, "2019.9.12") && hit(&a, "99"),
                "{bad}"
            );
            assert!(a.affected[0].unbounded);
            assert!(a.affected[0].fixed.is_empty());
            let RangeNote::Unreadable { field, value, .. } = &a.affected[0].notes[0] else {
                panic!("{:?}", a.affected[0].notes);
            };
            assert_eq!((*field, value.as_str()), ("fixed", bad));
            let text = a.affected[0].notes[0].to_string();
            assert!(text.starts_with("range end unreadable"), "{text}");
            assert!(text.contains("possible false alarm"), "{text}");
        }
        // Open from its own introduced, not from the lowest version.
        let a = CompiledAdvisory::compile(
            adv_entry("PyPI", vec![ev("i", "1.0"), ev("la", "bad!")], None),
            "t",
        )
        .unwrap();
        assert!(!hit(&a, "0.9") && hit(&a, "1.0") && hit(&a, "5.0"));
        // An unreadable start is read from the lowest version; an unreadable limit is ignored.
        let a = CompiledAdvisory::compile(
            adv_entry("PyPI", vec![ev("i", "bad!"), ev("f", "2.0")], None),
            "t",
        )
        .unwrap();
        assert!(hit(&a, "0.1") && !hit(&a, "2.0"));
        assert!(
            a.affected[0].notes[0]
                .to_string()
                .starts_with("range start unreadable")
        );
        let a = CompiledAdvisory::compile(
            adv_entry(
                "PyPI",
                vec![ev("i", "1.0"), ev("l", "bad!"), ev("l", "1.5")],
                None,
            ),
            "t",
        )
        .unwrap();
        assert!(hit(&a, "3.0"));
        // A record the schema forbids is still an error naming its id.
        let mut two = ev("i", "0");
        two.fixed = Some("1.0".into());
        let e = CompiledAdvisory::compile(adv_entry("PyPI", vec![two], None), "t").unwrap_err();
        assert_eq!(e.id, "TEST-2");
        let huge = format!("{}9", u64::MAX);
        let a = CompiledAdvisory::compile(
            adv_entry("crates.io", vec![ev("i", "0"), ev("f", &huge)], None),
            "t",
        )
        .unwrap();
        assert!(a.affected[0].unbounded);
    }

    /// GHSA-wcg3-cvx6-7396's first entry on `time`: `introduced: 0.1` and
    /// `last_known_affected_version_range: "< 0.2"`. The bound ends the range (exclusive for
    /// `<`, inclusive for `<=`), only when the range has no end of its own.
    #[test]
    fn last_known_affected_version_range_ends_an_open_range() {
        let lk = |b: &str| Some(serde_json::json!({ "last_known_affected_version_range": b }));
        let a = CompiledAdvisory::compile(
            adv_entry("crates.io", vec![ev("i", "0.1")], lk("< 0.2")),
            "t",
        )
        .unwrap();
        assert!(hit(&a, "0.1.0") && hit(&a, "0.1.43"));
        assert!(!hit(&a, "0.2.0") && !hit(&a, "0.3.47"));
        assert!(!a.affected[0].unbounded && a.affected[0].fixed.is_empty());
        assert_eq!(
            a.affected[0].notes[0].to_string(),
            "range end from GitHub's last_known_affected_version_range \"< 0.2\" (the range has no fixed version)"
        );
        let a =
            CompiledAdvisory::compile(adv_entry("PyPI", vec![ev("i", "1.0")], lk("<= 1.4.3")), "t")
                .unwrap();
        assert!(hit(&a, "1.4.3") && !hit(&a, "1.4.3.post1") && !hit(&a, "1.5"));
        // A record with its own end ignores the bound (requests: fixed 2.32.2, "< 2.32.0").
        let a = CompiledAdvisory::compile(
            adv_entry(
                "PyPI",
                vec![ev("i", "0"), ev("f", "2.32.2")],
                lk("< 2.32.0"),
            ),
            "t",
        )
        .unwrap();
        assert!(hit(&a, "2.32.1") && a.affected[0].notes.is_empty());
        // An unreadable end is still an end: the range stays open (never narrowed by a guess).
        let a = CompiledAdvisory::compile(
            adv_entry("PyPI", vec![ev("i", "1.0"), ev("f", "bad!")], lk("< 2.0")),
            "t",
        )
        .unwrap();
        assert!(hit(&a, "3.0"));
        // A bound that is unreadable or not above the start is not used: open, and said so.
        for b in ["< 0.1", "<= 0.0.9", "~ 0.2", "< what?"] {
            let a = CompiledAdvisory::compile(
                adv_entry("crates.io", vec![ev("i", "0.1.0")], lk(b)),
                "t",
            )
            .unwrap();
            assert!(hit(&a, "0.1.0") && hit(&a, "9.0.0"), "{b}");
            assert!(
                matches!(&a.affected[0].notes[0], RangeNote::LastKnownIgnored { .. }),
                "{b}"
            );
        }
        let a = CompiledAdvisory::compile(
            adv_entry("crates.io", vec![ev("i", "0.1.0")], lk("<= 0.1.0")),
            "t",
        )
        .unwrap();
        assert!(hit(&a, "0.1.0") && !hit(&a, "0.1.1"));
    }

    /// RustSec `unaffected` bounds close an interval but are not fixes (time 0.2.0).
    #[test]
    fn unaffected_bounds_are_not_fixed_versions() {
        let mut a = adv_entry(
            "crates.io",
            vec![
                ev("i", "0.0.0-0"),
                ev("f", "0.2.0"),
                ev("i", "0.2.7-0"),
                ev("f", "0.2.23"),
            ],
            None,
        );
        a.affected[0].ranges[0].database_specific =
            Some(serde_json::json!({ "unaffected_bounds": ["0.2.0"] }));
        let c = CompiledAdvisory::compile(a, "t").unwrap();
        assert!(hit(&c, "0.1.43") && !hit(&c, "0.2.0") && hit(&c, "0.2.7"));
        let fixed: Vec<String> = c.affected[0].fixed.iter().map(|v| v.to_string()).collect();
        assert_eq!(fixed, vec!["0.2.23"]);
    }

    #[test]
    fn unknown_ecosystems_are_skipped_not_errors() {
        let a = adv("Go", "SEMVER", vec![ev("i", "0")], &[]);
        assert!(a.affected.is_empty());
    }
}
