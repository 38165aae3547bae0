//! The project's own affected versions, for its advisory draft: GitHub range expressions
//! (`>= 1.4.0, < 1.4.3`) built from what the operator or the project states, never invented.
//!
//! Inputs, in this order of precedence:
//! - `versions` in depwatch.toml: range expressions (`>= 1.0.0`, `>= 1.0.0, < 2.0.0`),
//!   series (`1.4.x`, `2.*`) or released versions (`1.0.0`). Released versions are joined into
//!   one span from the lowest to the highest (`>= 1.0.0, <= 1.0.7`): a list of releases says
//!   that nothing in between was released outside it.
//! - otherwise the supported rows of the SECURITY.md supported-versions table, each read the
//!   same way (`1.4.x` is `>= 1.4.0, < 1.5.0`).
//!
//! `fixed-in` (the project's release that fixes the finding) ends each range it falls in or
//! above: `1.4.x` with `fixed-in = "1.4.3"` is `>= 1.4.0, < 1.4.3`, patched in `1.4.3`.
//!
//! When a statement cannot be read as versions ("latest", "Current"), or there is none, no
//! range is built and [`ProjectVersions::note`] says why: the GitHub body then has no
//! `vulnerable_version_range` and the markdown draft says the range is not known.
//!
//! Versions are compared as SemVer (a missing minor or patch is 0, a leading `v` is allowed)
//! when every version reads so, else as PEP 440. Bounds are printed as written.

use crate::ecosystem::{Version, VersionSet, parse_semver_lenient};
use serde::Serialize;
use std::ops::Bound;

/// One vulnerability entry of the project's advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedRange {
    /// GitHub range expression (`>= 1.4.0, < 1.4.3`); `None` when none could be built.
    pub range: Option<String>,
    /// The project's release(s) that fix it (`fixed-in`), when the config names one.
    pub patched: Option<String>,
}

/// What a draft says about the project's affected versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectVersions {
    /// One entry per disjoint range, lowest first; never empty (a single entry with no range
    /// when none could be built).
    pub entries: Vec<AffectedRange>,
    /// What the ranges were built from, with origins: `SECURITY.md line 7: 1.4.x`.
    pub from: Vec<String>,
    /// Why no range was built; `None` when every entry has one.
    pub note: Option<String>,
    /// Where `patched` came from (`depwatch.toml fixed-in`), when set.
    pub patched_from: Option<String>,
}

impl ProjectVersions {
    /// No versions known and no fix named.
    pub fn unknown(note: &str) -> Self {
        Self {
            entries: vec![AffectedRange {
                range: None,
                patched: None,
            }],
            from: Vec::new(),
            note: Some(note.to_string()),
            patched_from: None,
        }
    }

    /// Whether every entry has a range.
    pub fn known(&self) -> bool {
        self.note.is_none() && self.entries.iter().all(|e| e.range.is_some())
    }
}

/// What the project's versions are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// depwatch.toml `versions` (ranges, series, or released versions).
    Config(Vec<String>),
    /// Supported rows of the SECURITY.md table: (version column, origin such as
    /// `SECURITY.md line 7`).
    Supported(Vec<(String, String)>),
    /// Nothing: no `versions`, no table (or nothing marked supported).
    None,
}

/// A comparison operator of a range expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
}

/// One statement's shape, before its versions are read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Form {
    /// `>= 1.0, < 2.0`: every comparator holds.
    Range(Vec<(Op, String)>),
    /// `1.4.x`: from `lo` up to, not including, `hi`.
    Series { lo: String, hi: String },
    /// `1.4.2`: one release.
    Exact(String),
}

fn split_op(s: &str) -> Option<(Op, &str)> {
    let s = s.trim();
    // Longest operators first.
    for (text, op) in [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
    ] {
        if let Some(rest) = s.strip_prefix(text) {
            let v = rest.trim();
            return (!v.is_empty()).then_some((op, v));
        }
    }
    None
}

/// `1.4.x`, `1.x.x`, `v2.*` -> the series' first version and the first version after it.
fn series(s: &str) -> Option<(String, String)> {
    let s = s.trim();
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let parts: Vec<&str> = s.split('.').collect();
    let wild = |p: &str| matches!(p, "x" | "X" | "*");
    let nums = parts.iter().take_while(|p| !wild(p)).count();
    if nums == 0 || nums == parts.len() || !parts[nums..].iter().all(|p| wild(p)) {
        return None;
    }
    let mut n: Vec<u64> = parts[..nums]
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let pad = |v: &[u64]| {
        let mut v = v.to_vec();
        while v.len() < 3 {
            v.push(0);
        }
        v.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
    };
    let lo = pad(&n);
    let last = n.last_mut()?;
    *last = last.checked_add(1)?;
    Some((lo, pad(&n)))
}

/// A version-looking token: starts with a digit (after an optional `v`), no spaces.
fn looks_like_version(s: &str) -> bool {
    let t = s.strip_prefix(['v', 'V']).unwrap_or(s);
    t.starts_with(|c: char| c.is_ascii_digit()) && !t.contains(char::is_whitespace)
}

/// Read one statement as written: a range expression (comparators joined by `,`), or a
/// comma-separated list of series and versions.
fn forms(text: &str) -> Result<Vec<Form>, String> {
    let parts: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err("empty".into());
    }
    let ops: Vec<Option<(Op, &str)>> = parts.iter().map(|p| split_op(p)).collect();
    if ops.iter().all(Option::is_some) {
        return Ok(vec![Form::Range(
            ops.into_iter()
                .flatten()
                .map(|(o, v)| (o, v.to_string()))
                .collect(),
        )]);
    }
    parts
        .iter()
        .map(|p| {
            if let Some((lo, hi)) = series(p) {
                Ok(Form::Series { lo, hi })
            } else if looks_like_version(p) {
                Ok(Form::Exact(p.to_string()))
            } else {
                Err(format!(
                    "{p:?} is not a version, a series like 1.4.x or a range like >= 1.0.0"
                ))
            }
        })
        .collect()
}

/// Check a `versions` statement from the config (the error says what could not be read).
pub fn check_statement(text: &str) -> Result<(), String> {
    let f = forms(text)?;
    let mut all = Vec::new();
    collect_versions(&f, &mut all);
    for v in all {
        check_version(&v)?;
    }
    Ok(())
}

/// Check a release version from the config (`fixed-in`).
pub fn check_version(v: &str) -> Result<(), String> {
    if looks_like_version(v.trim()) && (semver(v).is_ok() || pep440(v).is_ok()) {
        Ok(())
    } else {
        Err(format!(
            "{v:?} is not a version (SemVer such as 1.4.3, or PEP 440)"
        ))
    }
}

fn collect_versions(forms: &[Form], out: &mut Vec<String>) {
    for f in forms {
        match f {
            Form::Range(cmp) => out.extend(cmp.iter().map(|(_, v)| v.clone())),
            Form::Series { lo, hi } => out.extend([lo.clone(), hi.clone()]),
            Form::Exact(v) => out.push(v.clone()),
        }
    }
}

fn semver(s: &str) -> Result<Version, String> {
    let s = s.trim();
    parse_semver_lenient(s.strip_prefix(['v', 'V']).unwrap_or(s)).map_err(|e| e.to_string())
}

fn pep440(s: &str) -> Result<Version, String> {
    s.trim()
        .parse::<pep508_rs::pep440_rs::Version>()
        .map(Version::Pep440)
        .map_err(|e| e.to_string())
}

/// Versions read under one scheme for all of them (mixed schemes do not compare).
struct Reader {
    parse: fn(&str) -> Result<Version, String>,
    /// Each version as first written, to print bounds the way the project writes them.
    written: Vec<(Version, String)>,
}

impl Reader {
    fn for_all(texts: &[String]) -> Result<Self, String> {
        for parse in [semver as fn(&str) -> _, pep440] {
            if texts.iter().all(|t| parse(t).is_ok()) {
                return Ok(Self {
                    parse,
                    written: Vec::new(),
                });
            }
        }
        let bad = texts
            .iter()
            .find(|t| semver(t).is_err() && pep440(t).is_err())
            .cloned()
            .unwrap_or_default();
        Err(if bad.is_empty() {
            "the versions mix SemVer and PEP 440 forms, so they cannot be compared".into()
        } else {
            format!("{bad:?} is not a version depwatch can compare")
        })
    }

    fn read(&mut self, s: &str) -> Result<Version, String> {
        let v = (self.parse)(s)?;
        if !self.written.iter().any(|(w, _)| *w == v) {
            self.written.push((v.clone(), s.trim().to_string()));
        }
        Ok(v)
    }

    fn text(&self, v: &Version) -> String {
        self.written
            .iter()
            .find(|(w, _)| w == v)
            .map_or_else(|| v.to_string(), |(_, t)| t.clone())
    }
}

/// The set of versions one statement describes; released versions are returned separately.
fn set_of(forms: &[Form], r: &mut Reader) -> Result<(VersionSet, Vec<Version>), String> {
    let mut set = VersionSet::empty();
    let mut exact = Vec::new();
    for f in forms {
        match f {
            Form::Range(cmp) => {
                let mut s = VersionSet::full();
                for (op, v) in cmp {
                    let v = r.read(v)?;
                    let c = match op {
                        Op::Ge => VersionSet::at_least(v),
                        Op::Gt => VersionSet::above(v),
                        Op::Le => VersionSet::at_most(v),
                        Op::Lt => VersionSet::below(v),
                        Op::Eq => VersionSet::singleton(v),
                    };
                    s = s.intersection(&c);
                }
                set = set.union(&s);
            }
            Form::Series { lo, hi } => {
                let (lo, hi) = (r.read(lo)?, r.read(hi)?);
                set = set.union(&VersionSet::from_bounds(
                    Bound::Included(lo),
                    Bound::Excluded(hi),
                ));
            }
            Form::Exact(v) => exact.push(r.read(v)?),
        }
    }
    Ok((set, exact))
}

/// GitHub's range syntax for one interval; `None` for the unbounded interval.
fn expression(lo: &Bound<Version>, hi: &Bound<Version>, r: &Reader) -> Option<String> {
    if let (Bound::Included(a), Bound::Included(b)) = (lo, hi)
        && a == b
    {
        return Some(format!("= {}", r.text(a)));
    }
    let mut parts = Vec::new();
    match lo {
        Bound::Included(a) => parts.push(format!(">= {}", r.text(a))),
        Bound::Excluded(a) => parts.push(format!("> {}", r.text(a))),
        Bound::Unbounded => {}
    }
    match hi {
        Bound::Included(b) => parts.push(format!("<= {}", r.text(b))),
        Bound::Excluded(b) => parts.push(format!("< {}", r.text(b))),
        Bound::Unbounded => {}
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

// Plain words, no markdown: these go into draft table cells, which escape every backtick.
const FIXED_IN: &str = "depwatch.toml fixed-in";

/// The project's affected versions for one finding: `basis` as the module docs describe, each
/// range ended by the lowest of `fixed_in` at or above its start.
pub fn project_versions(basis: &Basis, fixed_in: &[String]) -> ProjectVersions {
    let fixed_in: Vec<String> = fixed_in
        .iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    let patched_from = (!fixed_in.is_empty()).then(|| FIXED_IN.to_string());
    // No range: the fix releases still go out as patched versions (that part is known).
    let none = |from: Vec<String>, note: String| ProjectVersions {
        entries: vec![AffectedRange {
            range: None,
            patched: (!fixed_in.is_empty()).then(|| fixed_in.join(", ")),
        }],
        from,
        note: Some(note),
        patched_from: patched_from.clone(),
    };
    let (statements, releases): (Vec<(String, String)>, bool) = match basis {
        Basis::Config(v) => (
            v.iter()
                .map(|s| (s.trim().to_string(), "depwatch.toml versions".to_string()))
                .collect(),
            true,
        ),
        Basis::Supported(rows) => (rows.clone(), false),
        Basis::None => (Vec::new(), false),
    };
    let from: Vec<String> = statements
        .iter()
        .map(|(s, o)| format!("{o}: {s}"))
        .collect();
    if statements.is_empty() {
        return none(
            from,
            "the SECURITY.md has no supported-versions table and depwatch.toml gives no \
             versions for this project"
                .into(),
        );
    }
    let mut parsed = Vec::new();
    for (s, o) in &statements {
        match forms(s) {
            Ok(f) => parsed.push(f),
            Err(e) => return none(from, format!("cannot read {s:?} ({o}) as versions: {e}")),
        }
    }
    let mut texts = Vec::new();
    for f in &parsed {
        collect_versions(f, &mut texts);
    }
    texts.extend(fixed_in.iter().cloned());
    let mut r = match Reader::for_all(&texts) {
        Ok(r) => r,
        Err(e) => return none(from, e),
    };
    let mut set = VersionSet::empty();
    let mut exact = Vec::new();
    for f in &parsed {
        match set_of(f, &mut r) {
            Ok((s, e)) => {
                set = set.union(&s);
                exact.extend(e);
            }
            Err(e) => return none(from, e),
        }
    }
    if releases {
        // Released versions: one span from the lowest to the highest.
        if let (Some(lo), Some(hi)) = (exact.iter().min(), exact.iter().max()) {
            set = set.union(&VersionSet::from_bounds(
                Bound::Included(lo.clone()),
                Bound::Included(hi.clone()),
            ));
        }
    } else {
        set = set.union(&VersionSet::from_versions(exact));
    }
    let mut fixes = Vec::new();
    for v in &fixed_in {
        match r.read(v) {
            Ok(x) => fixes.push(x),
            Err(e) => return none(from, e),
        }
    }
    fixes.sort();
    let intervals: Vec<(Bound<Version>, Bound<Version>)> = set
        .intervals()
        .map(|(lo, hi)| (lo.clone(), hi.clone()))
        .collect();
    let mut entries = Vec::new();
    for (lo, hi) in intervals {
        // The lowest fix at or above the interval's start ends it.
        let fix = fixes.iter().find(|f| match &lo {
            Bound::Included(a) => *f >= a,
            Bound::Excluded(a) => *f > a,
            Bound::Unbounded => true,
        });
        let (set, patched) = match fix {
            Some(f) => (
                VersionSet::from_bounds(lo, hi).intersection(&VersionSet::below(f.clone())),
                Some(r.text(f)),
            ),
            None => (VersionSet::from_bounds(lo, hi), None),
        };
        for (lo, hi) in set.intervals() {
            match expression(lo, hi, &r) {
                Some(range) => entries.push(AffectedRange {
                    range: Some(range),
                    patched: patched.clone(),
                }),
                None => {
                    return none(
                        from,
                        "the stated versions cover every version, which is not a range".into(),
                    );
                }
            }
        }
    }
    if entries.is_empty() {
        return none(
            from,
            format!(
                "every stated version is at or above fixed-in ({}): none is left affected",
                fixed_in.join(", ")
            ),
        );
    }
    ProjectVersions {
        entries,
        from,
        note: None,
        patched_from: fixes.first().map(|_| FIXED_IN.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(v: &[&str], fixed: &[&str]) -> ProjectVersions {
        project_versions(
            &Basis::Config(v.iter().map(|s| s.to_string()).collect()),
            &fixed.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    fn table(rows: &[&str], fixed: &[&str]) -> ProjectVersions {
        project_versions(
            &Basis::Supported(
                rows.iter()
                    .enumerate()
                    .map(|(i, s)| (s.to_string(), format!("SECURITY.md line {}", i + 7)))
                    .collect(),
            ),
            &fixed.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    fn ranges(p: &ProjectVersions) -> Vec<(Option<&str>, Option<&str>)> {
        p.entries
            .iter()
            .map(|e| (e.range.as_deref(), e.patched.as_deref()))
            .collect()
    }

    #[test]
    fn series_become_ranges() {
        let p = table(&["1.4.x"], &[]);
        assert_eq!(ranges(&p), vec![(Some(">= 1.4.0, < 1.5.0"), None)]);
        assert_eq!(p.from, vec!["SECURITY.md line 7: 1.4.x"]);
        assert!(p.known());
        assert_eq!(
            ranges(&table(&["1.x"], &[])),
            vec![(Some(">= 1.0.0, < 2.0.0"), None)]
        );
        assert_eq!(
            ranges(&table(&["1.x.x"], &[])),
            vec![(Some(">= 1.0.0, < 2.0.0"), None)]
        );
        assert_eq!(
            ranges(&table(&["1.0.x"], &["1.0.8"])),
            vec![(Some(">= 1.0.0, < 1.0.8"), Some("1.0.8"))]
        );
        // Adjacent series merge; disjoint ones stay apart, each with its own fix.
        assert_eq!(
            ranges(&table(&["2.x", "1.x"], &[])),
            vec![(Some(">= 1.0.0, < 3.0.0"), None)]
        );
        assert_eq!(
            ranges(&table(&["3.x, 1.9.x"], &["1.9.4", "3.2.1"])),
            vec![
                (Some(">= 1.9.0, < 1.9.4"), Some("1.9.4")),
                (Some(">= 3.0.0, < 3.2.1"), Some("3.2.1"))
            ]
        );
    }

    #[test]
    fn fixed_in_ends_the_range() {
        assert_eq!(
            ranges(&table(&["1.4.x"], &["1.4.3"])),
            vec![(Some(">= 1.4.0, < 1.4.3"), Some("1.4.3"))]
        );
        // A fix above the series: the series stays whole, the fix is still the patch.
        assert_eq!(
            ranges(&table(&["1.4.x"], &["1.5.0"])),
            vec![(Some(">= 1.4.0, < 1.5.0"), Some("1.5.0"))]
        );
        assert_eq!(
            ranges(&cfg(&[">= 1.0.0"], &["1.4.3"])),
            vec![(Some(">= 1.0.0, < 1.4.3"), Some("1.4.3"))]
        );
        assert_eq!(
            ranges(&cfg(&["< 1.4.3"], &[])),
            vec![(Some("< 1.4.3"), None)]
        );
        // Every stated version is fixed already: no range, and the note says why.
        let p = table(&["1.5.x"], &["1.5.0"]);
        assert_eq!(ranges(&p), vec![(None, Some("1.5.0"))]);
        assert!(p.note.unwrap().contains("none is left affected"));
    }

    #[test]
    fn released_versions_span_lowest_to_highest() {
        let p = cfg(&["1.0.0", "1.0.3", "1.0.7"], &["1.0.8"]);
        assert_eq!(
            ranges(&p),
            vec![(Some(">= 1.0.0, <= 1.0.7"), Some("1.0.8"))]
        );
        assert_eq!(p.patched_from.as_deref(), Some(FIXED_IN));
        assert_eq!(ranges(&cfg(&["1.4.2"], &[])), vec![(Some("= 1.4.2"), None)]);
        // Written forms are kept: a `v` tag, a two-part version.
        assert_eq!(
            ranges(&cfg(&[">= v0.2.0, < 1.4"], &[])),
            vec![(Some(">= v0.2.0, < 1.4"), None)]
        );
        assert_eq!(
            ranges(&table(&["v0.2.5-alpha"], &[])),
            vec![(Some("= v0.2.5-alpha"), None)]
        );
        // PEP 440 when SemVer does not read every version.
        assert_eq!(
            ranges(&cfg(&["1.0rc1", "1.0.0.2"], &[])),
            vec![(Some(">= 1.0rc1, <= 1.0.0.2"), None)]
        );
    }

    #[test]
    fn unreadable_or_missing_versions_give_no_range() {
        for p in [
            table(&["latest"], &["1.4.3"]),
            table(&["1.4.x", "Current"], &[]),
            cfg(&[">= 1.0.0, latest"], &[]),
            project_versions(&Basis::None, &["1.4.3".to_string()]),
        ] {
            assert!(!p.known(), "{p:?}");
            assert_eq!(p.entries.len(), 1);
            assert_eq!(p.entries[0].range, None, "{p:?}");
            assert!(p.note.is_some());
        }
        let p = table(&["latest"], &["1.4.3"]);
        assert!(
            p.note
                .as_deref()
                .unwrap()
                .contains("\"latest\" (SECURITY.md line 7)")
        );
        // The fix is still known.
        assert_eq!(p.entries[0].patched.as_deref(), Some("1.4.3"));
        assert!(check_statement("1.4.x").is_ok());
        assert!(check_statement(">= 1.0.0, <= 1.0.7").is_ok());
        assert!(check_statement("latest").is_err());
        assert!(check_statement(">= banana").is_err());
        assert!(check_version("1.4.3").is_ok());
        assert!(check_version("soon").is_err());
    }
}
