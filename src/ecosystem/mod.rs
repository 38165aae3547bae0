//! Ecosystems and their version semantics.
//!
//! depwatch knows two package ecosystems: crates.io (SemVer 2.0 precedence) and PyPI (PEP 440).
//! Everything that compares versions goes through [`Version`] and [`VersionSet`], so that range
//! evaluation uses each ecosystem's *total order*. We never use `semver::VersionReq::matches` or
//! PEP 440 `VersionSpecifiers::contains` to evaluate an advisory: both exclude pre-releases, so
//! `2.0.0rc1` would escape `>=1.0,<2.0` and be called safe.

mod crates;
mod pypi;
mod set;

pub use crates::{cargo_req_to_set, parse_semver_lenient};
pub use pypi::{normalize_pypi_name, pep440_specifiers_to_set, poetry_constraint_to_set};
pub use set::VersionSet;

use std::cmp::Ordering;
use std::fmt;

/// A package ecosystem depwatch matches advisories for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Ecosystem {
    /// Rust crates from crates.io.
    #[serde(rename = "crates.io")]
    CratesIo,
    /// Python packages from PyPI.
    #[serde(rename = "PyPI")]
    PyPI,
}

impl Ecosystem {
    /// Parse an OSV ecosystem name (`crates.io`, `PyPI`). Other ecosystems (and OSV's
    /// `PyPI:suffix` variants are not used by these feeds) give `None`.
    pub fn from_osv(name: &str) -> Option<Self> {
        match name {
            "crates.io" => Some(Self::CratesIo),
            "PyPI" => Some(Self::PyPI),
            _ => None,
        }
    }

    /// The OSV spelling of the ecosystem.
    pub fn as_osv(self) -> &'static str {
        match self {
            Self::CratesIo => "crates.io",
            Self::PyPI => "PyPI",
        }
    }

    /// Normalise a package name for lookups: PEP 503 for PyPI (`Flask_Limiter` ->
    /// `flask-limiter`); crates.io names are compared as written, like cargo-audit does.
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Self::CratesIo => name.to_string(),
            Self::PyPI => normalize_pypi_name(name),
        }
    }

    /// Parse a version string under this ecosystem's rules.
    pub fn parse_version(self, s: &str) -> Result<Version, VersionError> {
        let s = s.trim();
        match self {
            Self::CratesIo => parse_semver_lenient(s),
            Self::PyPI => s
                .parse::<pep508_rs::pep440_rs::Version>()
                .map(Version::Pep440)
                .map_err(|e| VersionError {
                    input: truncate(s),
                    reason: e.to_string(),
                }),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_osv())
    }
}

/// A version string that does not parse under its ecosystem's rules.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("invalid version {input:?}: {reason}")]
pub struct VersionError {
    /// The offending input (shortened when very long).
    pub input: String,
    /// What the parser said.
    pub reason: String,
}

/// Shorten user input before it goes into an error message.
pub(crate) fn truncate(s: &str) -> String {
    crate::text::shorten(s, 80)
}

/// A version of one ecosystem, totally ordered within that ecosystem.
///
/// Equality and order follow the ecosystem: SemVer *precedence* (build metadata ignored, as
/// SemVer and the OSV schema require: `2.0.9+zstd.1.5.5` is `2.0.9`), PEP 440 for PyPI.
#[derive(Debug, Clone)]
pub enum Version {
    /// A crates.io version, ordered by SemVer precedence (build metadata ignored).
    Semver(semver::Version),
    /// A PyPI version, ordered per PEP 440 (epochs, pre/post/dev, local versions).
    Pep440(pep508_rs::pep440_rs::Version),
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Consistent with `Eq`: build metadata is not hashed; PEP 440 versions hash by their
        // own (normalising) implementation.
        match self {
            Self::Semver(v) => {
                0u8.hash(state);
                (v.major, v.minor, v.patch, v.pre.as_str()).hash(state);
            }
            Self::Pep440(v) => {
                1u8.hash(state);
                v.hash(state);
            }
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Semver(a), Self::Semver(b)) => a.cmp_precedence(b),
            (Self::Pep440(a), Self::Pep440(b)) => a.cmp(b),
            // Versions of different ecosystems are never compared by the matcher; a fixed order
            // keeps `Ord` total instead of panicking.
            (Self::Semver(_), Self::Pep440(_)) => Ordering::Less,
            (Self::Pep440(_), Self::Semver(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Version {
    /// True for pre-releases (SemVer `-pre`, PEP 440 a/b/rc/dev).
    pub fn is_prerelease(&self) -> bool {
        match self {
            Self::Semver(v) => !v.pre.is_empty(),
            Self::Pep440(v) => v.any_prerelease(),
        }
    }

    /// Equality as OSV's `versions` list means it: SemVer precedence (build metadata
    /// ignored), PEP 440 equality (`1.0 == 1.0.0`). The same as `==`.
    pub fn same_as(&self, other: &Self) -> bool {
        self == other
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Semver(v) => v.fmt(f),
            Self::Pep440(v) => v.fmt(f),
        }
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
