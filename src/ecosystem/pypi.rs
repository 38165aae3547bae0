//! PyPI version semantics: PEP 440 versions and specifiers, PEP 503 names, Poetry constraints.
//!
//! This is the one adapter over `pep508_rs` (which re-exports `pep440_rs`), so switching to
//! uv's crates later is a change to this file only.

use super::{Version, VersionSet};
use pep508_rs::pep440_rs::{Operator, Version as Pep440, VersionSpecifier, VersionSpecifiers};
use std::ops::Bound;
use std::str::FromStr;

/// Normalise a PyPI project name per PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_pypi_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn pv(v: Pep440) -> Version {
    Version::Pep440(v)
}

/// `release` with its last segment (at `index`) incremented, dev0-minimised: the exclusive
/// upper bound of `==1.2.*` or `~=1.2.3`. `None` on overflow (the bound is then open).
fn bump(v: &Pep440, index: usize) -> Option<Pep440> {
    let release = v.release();
    let mut next: Vec<u64> = release.iter().take(index + 1).copied().collect();
    while next.len() < index + 1 {
        next.push(0);
    }
    let last = next.last_mut()?;
    *last = last.checked_add(1)?;
    Some(Pep440::new(next).with_epoch(v.epoch()).with_min(Some(0)))
}

fn star_set(v: &Pep440) -> VersionSet {
    let lo = Pep440::new(v.release().iter().copied())
        .with_epoch(v.epoch())
        .with_min(Some(0));
    let hi = match v.release().len().checked_sub(1).and_then(|i| bump(v, i)) {
        Some(h) => Bound::Excluded(pv(h)),
        None => Bound::Unbounded,
    };
    VersionSet::from_bounds(Bound::Included(pv(lo)), hi)
}

/// The versions one PEP 440 specifier admits, by total order (pre-releases included where the
/// order puts them, which is what an advisory intersection needs).
fn specifier_to_set(spec: &VersionSpecifier) -> VersionSet {
    let v = spec.version().clone();
    match spec.operator() {
        Operator::Equal | Operator::ExactEqual => {
            // `==V` also admits `V+local` (PEP 440). Local versions sort just above `V` and
            // below the next version that is not a local of it.
            let next = if v.is_local() {
                None
            } else if let Some(d) = v.dev() {
                d.checked_add(1).map(|d| v.clone().with_dev(Some(d)))
            } else if let Some(p) = v.post() {
                p.checked_add(1)
                    .map(|p| v.clone().with_post(Some(p)).with_dev(Some(0)))
            } else {
                Some(v.clone().with_post(Some(0)).with_dev(Some(0)))
            };
            match next {
                Some(hi) => {
                    VersionSet::from_bounds(Bound::Included(pv(v)), Bound::Excluded(pv(hi)))
                }
                None => VersionSet::singleton(pv(v)),
            }
        }
        Operator::NotEqual => VersionSet::singleton(pv(v)).complement(),
        Operator::EqualStar => star_set(&v),
        Operator::NotEqualStar => star_set(&v).complement(),
        Operator::TildeEqual => {
            // `~=1.4.2` is `>=1.4.2, ==1.4.*`; the parser guarantees two release segments.
            let n = v.release().len();
            let hi = match n.checked_sub(2).and_then(|i| bump(&v, i)) {
                Some(h) => Bound::Excluded(pv(h)),
                None => Bound::Unbounded,
            };
            VersionSet::from_bounds(Bound::Included(pv(v)), hi)
        }
        Operator::LessThan => {
            // For a post-release bound (`<2.0.post1`) the set is everything below it: a slight
            // over-approximation (PEP 440 also drops `2.0rc1` and `2.0.post1.dev0` there) that
            // can only add a risk, never hide one.
            if v.any_prerelease() || v.is_post() || v.is_local() {
                VersionSet::below(pv(v))
            } else {
                // `<2.0` does not admit `2.0rc1` (PEP 440).
                VersionSet::below(pv(v.with_min(Some(0))))
            }
        }
        Operator::LessThanEqual => {
            // `<=V` admits `V+local` (local labels are ignored): everything below `==V`'s end.
            match specifier_to_set(&VersionSpecifier::equals_version(v.clone()))
                .intervals()
                .last()
            {
                Some((_, Bound::Excluded(hi))) => VersionSet::below(hi.clone()),
                _ => VersionSet::at_most(pv(v)),
            }
        }
        Operator::GreaterThan => {
            // `>1.0` does not admit `1.0.post1` (PEP 440). Above a post or dev release bound,
            // everything above it counts: a slight over-approximation (PEP 440 drops the
            // bound's local versions) that can only add a risk.
            if v.is_post() || v.is_dev() {
                VersionSet::above(pv(v))
            } else {
                VersionSet::above(pv(v.with_max(Some(0))))
            }
        }
        Operator::GreaterThanEqual => VersionSet::at_least(pv(v)),
    }
}

/// The versions a PEP 440 specifier set (`>=1.39.0`, `~=2.0, !=2.0.3`) admits.
pub fn pep440_specifiers_to_set(specs: &VersionSpecifiers) -> VersionSet {
    specs.iter().fold(VersionSet::full(), |acc, s| {
        acc.intersection(&specifier_to_set(s))
    })
}

/// Translate one Poetry constraint atom (`^1.2`, `~1.2.3`, `1.2.3`, `*`, `>=1.0`) to PEP 440.
fn poetry_atom(atom: &str) -> Result<String, String> {
    let atom = atom.trim();
    if atom.is_empty() || atom == "*" || atom == "x" {
        return Ok(String::new());
    }
    let release_of = |s: &str| -> Result<(Vec<u64>, String), String> {
        let s = s.trim();
        let v = Pep440::from_str(s).map_err(|e| e.to_string())?;
        Ok((v.release().to_vec(), s.to_string()))
    };
    let bound_upper = |rel: &[u64], idx: usize| -> Option<String> {
        let mut up: Vec<u64> = rel.iter().take(idx + 1).copied().collect();
        while up.len() < idx + 1 {
            up.push(0);
        }
        let last = up.last_mut()?;
        *last = last.checked_add(1)?;
        Some(up.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
    };
    if let Some(rest) = atom.strip_prefix('^') {
        let (rel, text) = release_of(rest)?;
        // Poetry's caret: the first non-zero segment may not change (`^0.2.3` -> `<0.3.0`).
        let idx = rel
            .iter()
            .position(|&x| x != 0)
            .unwrap_or(rel.len().saturating_sub(1));
        return Ok(match bound_upper(&rel, idx) {
            Some(up) => format!(">={text},<{up}"),
            None => format!(">={text}"),
        });
    }
    if let Some(rest) = atom.strip_prefix('~').filter(|r| !r.starts_with('=')) {
        let (rel, text) = release_of(rest)?;
        // Poetry's tilde: `~1.2.3` -> `<1.3.0`; `~1` -> `<2`.
        let idx = if rel.len() >= 2 { 1 } else { 0 };
        return Ok(match bound_upper(&rel, idx) {
            Some(up) => format!(">={text},<{up}"),
            None => format!(">={text}"),
        });
    }
    if atom.starts_with(|c: char| c.is_ascii_digit()) {
        // A bare version is an exact pin (`1.2.*` keeps its wildcard).
        return Ok(format!("=={atom}"));
    }
    Ok(atom.to_string())
}

/// The versions a Poetry constraint (`^1.2`, `~1.2.3`, `>=1.0,<2.0`, `1.2.*`, `>=1.0 <2.0 || ^3`)
/// admits. Poetry's syntax is not PEP 508, so `pep508_rs` cannot parse it directly.
pub fn poetry_constraint_to_set(constraint: &str) -> Result<VersionSet, String> {
    let mut out = VersionSet::empty();
    for alternative in constraint.split('|').filter(|s| !s.trim().is_empty()) {
        // Within an alternative, `,` and whitespace both mean "and"; an operator may stand
        // apart from its version (`>= 1.0`).
        let mut atoms: Vec<String> = Vec::new();
        for token in alternative
            .split([',', ' ', '\t'])
            .filter(|t| !t.is_empty())
        {
            match atoms.last_mut() {
                Some(last) if last.chars().all(|c| "<>=!~^".contains(c)) => last.push_str(token),
                _ => atoms.push(token.to_string()),
            }
        }
        let mut pep = Vec::new();
        for atom in &atoms {
            let s = poetry_atom(atom)?;
            if !s.is_empty() {
                pep.push(s);
            }
        }
        let specs = VersionSpecifiers::from_str(&pep.join(",")).map_err(|e| e.to_string())?;
        out = out.union(&pep440_specifiers_to_set(&specs));
    }
    if constraint.trim().is_empty() {
        return Ok(VersionSet::full());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::Ecosystem;

    fn ver(s: &str) -> Version {
        Ecosystem::PyPI.parse_version(s).unwrap()
    }

    fn spec(s: &str) -> VersionSet {
        pep440_specifiers_to_set(&VersionSpecifiers::from_str(s).unwrap())
    }

    #[test]
    fn pep503_names() {
        assert_eq!(normalize_pypi_name("Flask_Limiter"), "flask-limiter");
        assert_eq!(normalize_pypi_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_pypi_name("A__B-.-C"), "a-b-c");
        assert_eq!(normalize_pypi_name("PyYAML"), "pyyaml");
    }

    #[test]
    fn pep440_total_order() {
        // 1.0.dev0 < 1.0a1 < 1.0b1 < 1.0rc1 < 1.0 < 1.0+local < 1.0.post1
        let chain = [
            "1.0.dev0",
            "1.0a1.dev1",
            "1.0a1",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0+local",
            "1.0.post1.dev0",
            "1.0.post1",
            "1.1.dev0",
            "1!0.1",
        ];
        for pair in chain.windows(2) {
            assert!(ver(pair[0]) < ver(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(ver("1.0"), ver("1.0.0"));
        assert_eq!(ver("1.0RC1"), ver("1.0rc1"));
        assert_eq!(ver("v1.0"), ver("1.0"));
    }

    #[test]
    fn specifier_sets_include_prereleases_by_order() {
        let s = spec(">=1.0, <2.0");
        assert!(s.contains(&ver("1.5")));
        assert!(s.contains(&ver("1.5rc1")));
        assert!(
            !s.contains(&ver("2.0rc1")),
            "<2.0 excludes 2.0's pre-releases (PEP 440)"
        );
        assert!(!s.contains(&ver("2.0")));
        let s = spec(">1.0");
        assert!(!s.contains(&ver("1.0.post1")));
        assert!(s.contains(&ver("1.0.1")));
        let s = spec("~=1.4.2");
        assert!(s.contains(&ver("1.4.9")));
        assert!(!s.contains(&ver("1.5.0")));
        let s = spec("==1.2.*");
        assert!(s.contains(&ver("1.2.0rc1")));
        assert!(s.contains(&ver("1.2.99")));
        assert!(!s.contains(&ver("1.3.0.dev0")));
        let s = spec("==1.0");
        assert!(s.contains(&ver("1.0+ubuntu1")));
        assert!(!s.contains(&ver("1.0.post1")));
        let s = spec("!=1.5");
        assert!(!s.contains(&ver("1.5")));
        assert!(s.contains(&ver("1.6")));
    }

    #[test]
    fn huge_release_segments_do_not_overflow() {
        let s = spec(&format!("~=1.{}", u64::MAX));
        assert!(s.contains(&ver(&format!("1.{}", u64::MAX))));
        let s = spec(&format!("=={}.*", u64::MAX));
        assert!(!s.is_empty());
    }

    #[test]
    fn poetry_constraints() {
        let s = poetry_constraint_to_set("^1.2.3").unwrap();
        assert!(s.contains(&ver("1.9")));
        assert!(!s.contains(&ver("2.0")));
        let s = poetry_constraint_to_set("^0.2.3").unwrap();
        assert!(s.contains(&ver("0.2.9")));
        assert!(!s.contains(&ver("0.3.0")));
        let s = poetry_constraint_to_set("~1.2").unwrap();
        assert!(!s.contains(&ver("1.3")));
        let s = poetry_constraint_to_set(">= 1.0 < 2.0 || ^3.1").unwrap();
        assert!(s.contains(&ver("1.5")));
        assert!(!s.contains(&ver("2.5")));
        assert!(s.contains(&ver("3.4")));
        assert!(
            poetry_constraint_to_set("*")
                .unwrap()
                .contains(&ver("0.0.1"))
        );
        let s = poetry_constraint_to_set("2.31.0").unwrap();
        assert!(s.contains(&ver("2.31.0")));
        assert!(!s.contains(&ver("2.31.1")));
        assert!(poetry_constraint_to_set("^not-a-version").is_err());
    }
}
