//! The advisory model: OSV records, the canonical form every source converts into.
//!
//! The serde types here follow the OSV schema 1.7 and are tolerant: unknown fields are
//! ignored, every list may be absent, and an unknown ecosystem or range type is kept as data
//! (it just never matches). Sources convert their own wire formats into [`Advisory`] once, at
//! their edge.

mod compiled;
mod id;

pub use compiled::{CompileError, CompiledAdvisory, CompiledAffected, RangeNote};
pub use id::{AdvisoryId, IdKind};

use crate::severity::{Level, cvss_score, cvss_v2_score};
use serde::{Deserialize, Serialize};

/// What kind of advisory a record is. Informational kinds come from RustSec
/// (`informational = "unmaintained"` etc.) and are warnings, not vulnerabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdvisoryKind {
    /// A security vulnerability.
    Vulnerability,
    /// The crate is unmaintained.
    Unmaintained,
    /// The crate is unsound (undefined behaviour reachable from safe code).
    Unsound,
    /// A notice (e.g. a crate renamed or a security-relevant change).
    Notice,
    /// Malicious package (OSV `MAL-` records).
    Malware,
    /// Another informational kind the model does not know.
    #[serde(rename = "informational")]
    Other,
    /// The locked version was yanked from its registry (from the crates.io index, not an
    /// advisory).
    Yanked,
}

impl AdvisoryKind {
    /// True for the kinds reported as warnings rather than vulnerabilities.
    pub fn is_informational(self) -> bool {
        !matches!(self, Self::Vulnerability | Self::Malware)
    }

    /// Lowercase name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vulnerability => "vulnerability",
            Self::Unmaintained => "unmaintained",
            Self::Unsound => "unsound",
            Self::Notice => "notice",
            Self::Malware => "malware",
            Self::Other => "informational",
            Self::Yanked => "yanked",
        }
    }
}

/// One OSV record, plus depwatch's provenance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Advisory {
    /// OSV schema version the record declares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// The record's id (`PYSEC-2024-1`, `GHSA-xxxx-xxxx-xxxx`, `RUSTSEC-2024-0001`).
    pub id: String,
    /// RFC 3339 time of the last change.
    pub modified: String,
    /// RFC 3339 publication time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Set when the record was withdrawn; withdrawn records never match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Ids of the same vulnerability in other databases.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Ids of related but different vulnerabilities.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// One-line summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Full description (markdown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Severity scores (CVSS vectors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    /// Affected packages and versions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Affected>,
    /// Links.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    /// Who found or fixed it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credits: Vec<Credit>,
    /// Database-specific data (GHSA `severity`, `cwe_ids`; RustSec `informational`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A severity score: `{type: CVSS_V3, score: "CVSS:3.1/AV:N/..."}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Severity {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector or label.
    pub score: String,
}

/// One affected package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Affected {
    /// The package.
    pub package: Package,
    /// Version ranges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Explicitly enumerated affected versions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Ecosystem-specific data (RustSec: affected functions, os, arch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database-specific data (RustSec: `informational`, `categories`, `cvss`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A package as OSV names it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Package {
    /// OSV ecosystem name (`PyPI`, `crates.io`).
    pub ecosystem: String,
    /// Package name as the database spells it.
    pub name: String,
    /// Package URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// A range of affected versions as a timeline of events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Range {
    /// `SEMVER`, `ECOSYSTEM` or `GIT`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Repository for `GIT` ranges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The events, each with exactly one field set.
    pub events: Vec<Event>,
    /// Database-specific data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// One event of a range. The OSV schema allows one field per event; a record that sets
/// several is rejected when compiled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Event {
    /// The vulnerability starts at this version (`"0"`: before every version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// First version without the vulnerability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Last known affected version (no fix known at publication).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// Upper limit of the range (`"*"`: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// A link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reference {
    /// `ADVISORY`, `WEB`, `PACKAGE`, `FIX`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The URL.
    pub url: String,
}

/// A credit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Credit {
    /// Name of the person or organisation.
    pub name: String,
    /// Contact URLs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contact: Vec<String>,
    /// `FINDER`, `REPORTER`, `REMEDIATION_DEVELOPER`, ...
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Advisory {
    /// The kind of advisory: RustSec `informational` (top level or per affected entry) makes
    /// it a warning; `MAL-` ids are malware; everything else is a vulnerability.
    pub fn kind(&self) -> AdvisoryKind {
        let informational = self
            .affected
            .iter()
            .filter_map(|a| a.database_specific.as_ref())
            .chain(self.database_specific.as_ref())
            .find_map(|d| d.get("informational").and_then(|v| v.as_str()));
        match informational {
            Some("unmaintained") => AdvisoryKind::Unmaintained,
            Some("unsound") => AdvisoryKind::Unsound,
            Some("notice") => AdvisoryKind::Notice,
            Some(_) => AdvisoryKind::Other,
            None if AdvisoryId::new(&self.id).kind() == IdKind::Malware => AdvisoryKind::Malware,
            None => AdvisoryKind::Vulnerability,
        }
    }

    /// The source's own severity label (GHSA `database_specific.severity`), lowercased.
    pub fn severity_label(&self) -> Option<String> {
        self.database_specific
            .as_ref()
            .and_then(|d| d.get("severity"))
            .and_then(|s| s.as_str())
            .map(str::to_ascii_lowercase)
    }

    /// Assess a record: the highest CVSS v3/v4 base score among its vectors; else the highest v2
    /// base score (levels by NVD's v2 bands); else its label (GHSA `database_specific.severity`).
    pub fn assess(&self) -> (Level, Option<f64>) {
        let highest = |kind: &str, score: fn(&str) -> Option<f64>| {
            self.severity
                .iter()
                .filter(|s| s.kind.starts_with(kind))
                .filter_map(|s| score(&s.score))
                .fold(None, |best: Option<f64>, s| {
                    Some(best.map_or(s, |b| b.max(s)))
                })
        };
        let v3_v4 = match (
            highest("CVSS_V3", cvss_score),
            highest("CVSS_V4", cvss_score),
        ) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(s) = v3_v4 {
            return (Level::from_score(s), Some(s));
        }
        if let Some(s) = highest("CVSS_V2", cvss_v2_score) {
            return (Level::from_v2_score(s), Some(s));
        }
        (
            self.severity_label()
                .map(|l| Level::from_label(&l))
                .unwrap_or(Level::Unknown),
            None,
        )
    }

    /// CWE ids the source lists (GHSA `database_specific.cwe_ids`).
    pub fn cwe_ids(&self) -> Vec<String> {
        self.database_specific
            .as_ref()
            .and_then(|d| d.get("cwe_ids"))
            .and_then(|c| c.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(severity: &[(&str, &str)], label: Option<&str>) -> Advisory {
        Advisory {
            id: "X-1".into(),
            severity: severity
                .iter()
                .map(|(kind, score)| Severity {
                    kind: kind.to_string(),
                    score: score.to_string(),
                })
                .collect(),
            database_specific: label.map(|l| serde_json::json!({ "severity": l })),
            ..Default::default()
        }
    }

    #[test]
    fn assess_uses_v2_after_v3_and_v4_and_before_the_label() {
        let v2 = ("CVSS_V2", "AV:N/AC:M/Au:N/C:C/I:C/A:C");
        assert_eq!(record(&[v2], None).assess(), (Level::High, Some(9.3)));
        assert_eq!(
            record(&[v2], Some("LOW")).assess(),
            (Level::High, Some(9.3))
        );
        let v3 = ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N");
        assert_eq!(record(&[v2, v3], None).assess(), (Level::High, Some(7.5)));
        assert_eq!(
            record(&[("CVSS_V2", "garbage")], Some("MODERATE")).assess(),
            (Level::Medium, None)
        );
    }
}
