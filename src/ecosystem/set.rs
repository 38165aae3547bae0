//! Sets of versions as unions of intervals over an ecosystem's total order.
//!
//! One representation serves advisory ranges (OSV events compile to intervals), manifest
//! requirements (`>=1.39`, `^1.2`, Poetry constraints) and their intersection ("can this range
//! resolve to an affected version?"). It is `version_ranges::Ranges`, pubgrub's well-tested
//! interval set, over our ecosystem-neutral [`Version`].

use super::Version;
use std::fmt;
use std::ops::Bound;
use version_ranges::Ranges;

/// A set of versions: a union of disjoint intervals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSet(Ranges<Version>);

impl VersionSet {
    /// Every version.
    pub fn full() -> Self {
        Self(Ranges::full())
    }

    /// No version.
    pub fn empty() -> Self {
        Self(Ranges::empty())
    }

    /// Exactly one version.
    pub fn singleton(v: Version) -> Self {
        Self(Ranges::singleton(v))
    }

    /// Exactly the given versions (any order, repeats allowed). Built in one pass: a union
    /// of singletons one at a time copies the set for each version, which was quadratic on
    /// the PyPI records that list hundreds of affected versions.
    pub fn from_versions(versions: impl IntoIterator<Item = Version>) -> Self {
        let mut versions: Vec<Version> = versions.into_iter().collect();
        // Sorted input makes each insertion in `from_iter` an append.
        versions.sort();
        versions.dedup();
        Self(
            versions
                .into_iter()
                .map(|v| (Bound::Included(v.clone()), Bound::Included(v)))
                .collect(),
        )
    }

    /// The interval between two bounds.
    pub fn from_bounds(lo: Bound<Version>, hi: Bound<Version>) -> Self {
        // `Ranges::from_range_bounds` expects lo <= hi; an inverted pair is simply empty.
        let inverted = match (&lo, &hi) {
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
                a > b
                    || (a == b
                        && !(matches!(lo, Bound::Included(_)) && matches!(hi, Bound::Included(_))))
            }
            _ => false,
        };
        if inverted {
            return Self::empty();
        }
        Self(Ranges::from_range_bounds((lo, hi)))
    }

    /// `[v, ∞)`.
    pub fn at_least(v: Version) -> Self {
        Self(Ranges::higher_than(v))
    }

    /// `(v, ∞)`.
    pub fn above(v: Version) -> Self {
        Self(Ranges::strictly_higher_than(v))
    }

    /// `(-∞, v)`.
    pub fn below(v: Version) -> Self {
        Self(Ranges::strictly_lower_than(v))
    }

    /// `(-∞, v]`.
    pub fn at_most(v: Version) -> Self {
        Self(Ranges::lower_than(v))
    }

    /// True when `v` is in the set.
    pub fn contains(&self, v: &Version) -> bool {
        self.0.contains(v)
    }

    /// True when the set holds no version.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The versions in both sets.
    pub fn intersection(&self, other: &Self) -> Self {
        Self(self.0.intersection(&other.0))
    }

    /// The versions in either set.
    pub fn union(&self, other: &Self) -> Self {
        Self(self.0.union(&other.0))
    }

    /// The versions not in this set.
    pub fn complement(&self) -> Self {
        Self(self.0.complement())
    }

    /// True when no version is in both sets.
    pub fn is_disjoint(&self, other: &Self) -> bool {
        self.0.is_disjoint(&other.0)
    }

    /// The intervals, lowest first.
    pub fn intervals(&self) -> impl Iterator<Item = (&Bound<Version>, &Bound<Version>)> {
        self.0.iter()
    }
}

impl fmt::Display for VersionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(none)");
        }
        let mut first = true;
        for (lo, hi) in self.0.iter() {
            if !first {
                f.write_str(" || ")?;
            }
            first = false;
            match (lo, hi) {
                (Bound::Included(a), Bound::Included(b)) if a == b => write!(f, "=={a}")?,
                (Bound::Unbounded, Bound::Unbounded) => f.write_str("*")?,
                _ => {
                    let mut parts = Vec::new();
                    match lo {
                        Bound::Included(a) => parts.push(format!(">={a}")),
                        Bound::Excluded(a) => parts.push(format!(">{a}")),
                        Bound::Unbounded => {}
                    }
                    match hi {
                        Bound::Included(b) => parts.push(format!("<={b}")),
                        Bound::Excluded(b) => parts.push(format!("<{b}")),
                        Bound::Unbounded => {}
                    }
                    f.write_str(&parts.join(", "))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::Ecosystem;
    use proptest::prelude::*;

    proptest! {
        /// The one-pass build is the union of the singletons, whatever the order and repeats.
        #[test]
        fn from_versions_is_the_union_of_singletons(
            picks in prop::collection::vec((0u8..4, 0u8..4, prop::sample::select(vec!["", "-rc.1", "-alpha"])), 0..40),
            eco_pypi in any::<bool>(),
        ) {
            let eco = if eco_pypi { Ecosystem::PyPI } else { Ecosystem::CratesIo };
            let versions: Vec<Version> = picks
                .iter()
                .map(|(a, b, pre)| {
                    let pre = if eco_pypi { pre.replace(['-', '.'], "") } else { pre.to_string() };
                    eco.parse_version(&format!("{a}.{b}.0{pre}")).unwrap()
                })
                .collect();
            let folded = versions
                .iter()
                .fold(VersionSet::empty(), |s, v| s.union(&VersionSet::singleton(v.clone())));
            let built = VersionSet::from_versions(versions.clone());
            prop_assert_eq!(&built, &folded);
            for v in &versions {
                prop_assert!(built.contains(v));
            }
        }
    }
}
