//! crates.io version semantics: SemVer 2.0 and Cargo's requirement syntax.

use super::{Version, VersionError, VersionSet, truncate};
use semver::{BuildMetadata, Comparator, Op, Prerelease, VersionReq};
use std::ops::Bound;

/// Parse a crates.io version. Strict SemVer, except that a missing minor or patch is read as 0
/// (`0.20` in a GHSA `versions` list means `0.20.0`).
pub fn parse_semver_lenient(s: &str) -> Result<Version, VersionError> {
    let err = |e: &dyn std::fmt::Display| VersionError {
        input: truncate(s),
        reason: e.to_string(),
    };
    match semver::Version::parse(s) {
        Ok(v) => Ok(v),
        Err(e) => {
            // Only pad plain numeric `X` / `X.Y`; anything else keeps the parser's error.
            let dots = s.matches('.').count();
            if dots < 2 && !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
                let padded = if dots == 0 {
                    format!("{s}.0.0")
                } else {
                    format!("{s}.0")
                };
                semver::Version::parse(&padded).map_err(|_| err(&e))
            } else {
                Err(err(&e))
            }
        }
    }
    .map(Version::Semver)
}

fn v(major: u64, minor: u64, patch: u64, pre: Prerelease) -> Version {
    Version::Semver(semver::Version {
        major,
        minor,
        patch,
        pre,
        build: BuildMetadata::EMPTY,
    })
}

/// The lowest pre-release tag, so that `< X.Y.Z-0` excludes every pre-release of `X.Y.Z`
/// (Cargo does not select `2.0.0-alpha` for `^1.2`).
fn min_pre() -> Prerelease {
    Prerelease::new("0").unwrap_or(Prerelease::EMPTY)
}

/// Exclusive upper bound at the next `major` / `minor` / `patch`, or unbounded on overflow.
fn upper(major: u64, minor: Option<u64>, patch: Option<u64>) -> Bound<Version> {
    let bumped = match (minor, patch) {
        (None, _) => major.checked_add(1).map(|m| (m, 0, 0)),
        (Some(mi), None) => mi.checked_add(1).map(|n| (major, n, 0)),
        (Some(mi), Some(p)) => p.checked_add(1).map(|n| (major, mi, n)),
    };
    match bumped {
        Some((a, b, c)) => Bound::Excluded(v(a, b, c, min_pre())),
        None => Bound::Unbounded,
    }
}

fn comparator_to_set(c: &Comparator) -> VersionSet {
    let minor = c.minor.unwrap_or(0);
    let patch = c.patch.unwrap_or(0);
    let base = v(c.major, minor, patch, c.pre.clone());
    let base_lo = Bound::Included(base.clone());
    match c.op {
        Op::Exact => match (c.minor, c.patch) {
            (Some(_), Some(_)) => VersionSet::singleton(base),
            _ => VersionSet::from_bounds(base_lo, upper(c.major, c.minor, None)),
        },
        Op::Greater => match (c.minor, c.patch) {
            (Some(_), Some(_)) => VersionSet::above(base),
            (Some(mi), None) => match upper(c.major, Some(mi), None) {
                Bound::Excluded(u) => VersionSet::at_least(u),
                _ => VersionSet::empty(),
            },
            (None, _) => match upper(c.major, None, None) {
                Bound::Excluded(u) => VersionSet::at_least(u),
                _ => VersionSet::empty(),
            },
        },
        Op::GreaterEq => VersionSet::at_least(base),
        Op::Less => {
            if c.pre.is_empty() {
                VersionSet::below(v(c.major, minor, patch, min_pre()))
            } else {
                VersionSet::below(base)
            }
        }
        Op::LessEq => match (c.minor, c.patch) {
            (Some(_), Some(_)) => VersionSet::at_most(base),
            _ => VersionSet::from_bounds(Bound::Unbounded, upper(c.major, c.minor, None)),
        },
        Op::Tilde => match c.minor {
            None => VersionSet::from_bounds(base_lo, upper(c.major, None, None)),
            Some(mi) => VersionSet::from_bounds(base_lo, upper(c.major, Some(mi), None)),
        },
        Op::Caret => {
            let hi = match (c.major, c.minor, c.patch) {
                (0, None, _) => upper(0, None, None),
                (0, Some(0), None) => upper(0, Some(0), None),
                (0, Some(0), Some(p)) => upper(0, Some(0), Some(p)),
                (0, Some(mi), _) => upper(0, Some(mi), None),
                (m, _, _) => upper(m, None, None),
            };
            VersionSet::from_bounds(base_lo, hi)
        }
        Op::Wildcard => match c.minor {
            None => VersionSet::from_bounds(base_lo, upper(c.major, None, None)),
            Some(mi) => VersionSet::from_bounds(base_lo, upper(c.major, Some(mi), None)),
        },
        // `semver::Op` is non-exhaustive: an operator we do not know allows anything, which
        // over-reports a risk rather than hiding one.
        _ => VersionSet::full(),
    }
}

/// The versions a Cargo requirement (`^1.2`, `~0.3`, `>=1, <2`, `=1.0.5`, `*`) can resolve to,
/// by total order.
pub fn cargo_req_to_set(req: &VersionReq) -> VersionSet {
    req.comparators.iter().fold(VersionSet::full(), |acc, c| {
        acc.intersection(&comparator_to_set(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ver(s: &str) -> Version {
        parse_semver_lenient(s).unwrap()
    }

    fn set(s: &str) -> VersionSet {
        cargo_req_to_set(&VersionReq::parse(s).unwrap())
    }

    #[test]
    fn prerelease_sorts_below_release() {
        assert!(ver("1.0.0-alpha") < ver("1.0.0-alpha.1"));
        assert!(ver("1.0.0-alpha.1") < ver("1.0.0-beta"));
        assert!(ver("1.0.0-rc.1") < ver("1.0.0"));
        assert!(ver("0.0.0-0") < ver("0.0.0"));
        assert!(ver("0.0.0-0") < ver("0.0.1-alpha"));
    }

    #[test]
    fn build_metadata_ignored_for_equality_of_precedence() {
        assert!(ver("1.0.0+build.5").same_as(&ver("1.0.0")));
    }

    #[test]
    fn lenient_padding_only_for_numbers() {
        assert_eq!(ver("0.20"), ver("0.20.0"));
        assert_eq!(ver("3"), ver("3.0.0"));
        assert!(parse_semver_lenient("not-a-version").is_err());
        assert!(parse_semver_lenient("1.x").is_err());
        assert!(parse_semver_lenient("99999999999999999999999.0.0").is_err());
    }

    #[test]
    fn caret_ranges() {
        let s = set("1.2.3");
        assert!(s.contains(&ver("1.2.3")));
        assert!(s.contains(&ver("1.9.0")));
        assert!(!s.contains(&ver("2.0.0")));
        assert!(!s.contains(&ver("2.0.0-alpha")));
        assert!(!s.contains(&ver("1.2.2")));
        let s = set("^0.2.3");
        assert!(s.contains(&ver("0.2.9")));
        assert!(!s.contains(&ver("0.3.0")));
        let s = set("^0.0.3");
        assert!(s.contains(&ver("0.0.3")));
        assert!(!s.contains(&ver("0.0.4")));
        let s = set("0.3");
        assert!(s.contains(&ver("0.3.17")));
        assert!(!s.contains(&ver("0.4.0")));
    }

    #[test]
    fn tilde_wildcard_and_compound() {
        let s = set("~1.2");
        assert!(s.contains(&ver("1.2.7")));
        assert!(!s.contains(&ver("1.3.0")));
        let s = set("1.*");
        assert!(s.contains(&ver("1.99.0")));
        assert!(!s.contains(&ver("2.0.0")));
        let s = set(">=1.0, <1.5");
        assert!(s.contains(&ver("1.4.9")));
        assert!(!s.contains(&ver("1.5.0")));
        assert!(set("*").contains(&ver("0.0.1")));
        let s = set("=1.0.5");
        assert!(s.contains(&ver("1.0.5")));
        assert!(!s.contains(&ver("1.0.6")));
        let s = set(">1.2");
        assert!(!s.contains(&ver("1.2.9")));
        assert!(s.contains(&ver("1.3.0")));
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        let s = set(&format!("^{}", u64::MAX));
        assert!(s.contains(&ver(&format!("{}.5.0", u64::MAX))));
        let s = set(&format!("~1.{}", u64::MAX));
        assert!(s.contains(&ver(&format!("1.{}.3", u64::MAX))));
    }
}
