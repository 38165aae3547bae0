//! RustSec advisory-db checkouts, read with the `rustsec` crate (default features off: no git).
//!
//! Each `crates/<name>/RUSTSEC-*.md` file is parsed on its own (in parallel) instead of through
//! `rustsec::Database::open`, which fails the whole load on one bad file. `patched` and
//! `unaffected` requirements become OSV `SEMVER` ranges through `rustsec::osv::ranges_for_advisory`
//! (the same conversion cargo-audit matches with). Only `patched` versions are fixes: a range end
//! that is the start of an `unaffected` requirement is listed in the range's
//! `database_specific.unaffected_bounds`, so it is never upgrade advice (time 0.1: `>= 0.2.23`,
//! not the never-vulnerable 0.2.0); the requirements themselves are kept in the affected entry's
//! `database_specific` (`patched`, `unaffected`). Informational kinds are kept in
//! `database_specific.informational`, affected functions / os / arch in `ecosystem_specific`.
//! The `rust/` collection (std, cargo, rustdoc) is about toolchains, not crates, and is skipped,
//! as cargo-audit does for lockfiles.

use super::{FeedError, Loaded, walk_files};
use crate::advisory::{
    Advisory, Affected, CompiledAdvisory, Event, Package, Range, Reference, Severity,
};
use crate::feeds::LoadError;
use rayon::prelude::*;
use serde_json::json;
use std::path::Path;

/// A version number no real advisory has: `rustsec` computes `patch + 1` on the bounds of
/// `patched` / `unaffected` requirements, which overflows at `u64::MAX` (a panic in debug
/// builds, a silently wrong range in release builds). Such a record is refused instead.
fn has_overflowing_version(text: &str) -> bool {
    let mut in_versions = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_versions = t == "[versions]";
            continue;
        }
        if t.starts_with("```") {
            in_versions = false;
        }
        if in_versions
            && t.split(|c: char| !c.is_ascii_digit())
                .any(|run| !run.is_empty() && run.parse::<u64>().map_or(true, |n| n == u64::MAX))
        {
            return true;
        }
    }
    false
}

/// Parse one RustSec advisory file's text and convert it into the OSV model. Never panics:
/// `rustsec` is not written for hostile input, so its parse runs under `catch_unwind`.
pub fn parse_advisory(text: &str) -> Result<Advisory, String> {
    if has_overflowing_version(text) {
        return Err("a version number in [versions] is too large".into());
    }
    let parsed = std::panic::catch_unwind(|| {
        text.parse::<rustsec::Advisory>()
            .map(|adv| to_osv(&adv))
            .map_err(|e| e.to_string())
    });
    parsed.unwrap_or_else(|_| Err("malformed advisory (the RustSec parser failed)".into()))
}

/// Convert a parsed RustSec advisory into the OSV model.
pub fn to_osv(adv: &rustsec::Advisory) -> Advisory {
    let m = &adv.metadata;
    let ranges = rustsec::osv::ranges_for_advisory(&adv.versions);
    let patched = adv.versions.patched();
    // An interval can end where an `unaffected` requirement starts (time: `=0.2.0`): that
    // version was never vulnerable, it is not a patched release to upgrade to. The ends that
    // `patched` alone gives are the fixes (the same conversion, so `> 0.22.0` -> `0.22.1-0`
    // compares equal, which `VersionReq::matches` would not say of a pre-release).
    let patch_ends: Vec<rustsec::Version> =
        rustsec::advisory::Versions::new(patched.to_vec(), Vec::new())
            .map(|v| {
                rustsec::osv::ranges_for_advisory(&v)
                    .into_iter()
                    .filter_map(|r| r.fixed)
                    .collect()
            })
            .unwrap_or_default();
    let mut events = Vec::new();
    let mut unaffected_bounds = Vec::new();
    for r in &ranges {
        events.push(Event {
            introduced: Some(
                r.introduced
                    .as_ref()
                    .map_or_else(|| "0.0.0-0".to_string(), |v| v.to_string()),
            ),
            ..Default::default()
        });
        if let Some(f) = &r.fixed {
            if !patch_ends.contains(f) {
                unaffected_bounds.push(f.to_string());
            }
            events.push(Event {
                fixed: Some(f.to_string()),
                ..Default::default()
            });
        }
    }
    let mut database_specific = serde_json::Map::new();
    if let Some(i) = &m.informational {
        database_specific.insert("informational".into(), json!(i.as_str()));
    }
    if !m.categories.is_empty() {
        database_specific.insert(
            "categories".into(),
            json!(
                m.categories
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
            ),
        );
    }
    if let Some(c) = &m.cvss {
        database_specific.insert("cvss".into(), json!(c.to_string()));
    }
    let mut entry_specific = database_specific.clone();
    // RustSec's own words, so advice can be traced to them.
    let reqs =
        |r: &[rustsec::VersionReq]| -> Vec<String> { r.iter().map(|q| q.to_string()).collect() };
    entry_specific.insert("patched".into(), json!(reqs(patched)));
    entry_specific.insert("unaffected".into(), json!(reqs(adv.versions.unaffected())));
    let ecosystem_specific = adv
        .affected
        .as_ref()
        .and_then(|a| serde_json::to_value(a).ok())
        .map(|affects| json!({ "affects": affects }));
    let mut references = vec![Reference {
        kind: "ADVISORY".into(),
        url: format!("https://rustsec.org/advisories/{}.html", m.id.as_str()),
    }];
    if let Some(u) = &m.url {
        references.push(Reference {
            kind: "REPORT".into(),
            url: u.to_string(),
        });
    }
    references.extend(m.references.iter().map(|u| Reference {
        kind: "WEB".into(),
        url: u.to_string(),
    }));
    let date = format!("{}T12:00:00Z", m.date.as_str());
    Advisory {
        schema_version: None,
        id: m.id.as_str().to_string(),
        modified: date.clone(),
        published: Some(date),
        withdrawn: m
            .withdrawn
            .as_ref()
            .map(|d| format!("{}T12:00:00Z", d.as_str())),
        aliases: m.aliases.iter().map(|a| a.as_str().to_string()).collect(),
        related: m.related.iter().map(|a| a.as_str().to_string()).collect(),
        summary: Some(m.title.clone()),
        details: Some(m.description.clone()),
        severity: m
            .cvss
            .as_ref()
            .map(|c| {
                vec![Severity {
                    kind: "CVSS_V3".into(),
                    score: c.to_string(),
                }]
            })
            .unwrap_or_default(),
        affected: vec![Affected {
            package: Package {
                ecosystem: "crates.io".into(),
                name: m.package.as_str().to_string(),
                purl: Some(format!("pkg:cargo/{}", m.package.as_str())),
            },
            ranges: vec![Range {
                kind: "SEMVER".into(),
                repo: None,
                events,
                database_specific: (!unaffected_bounds.is_empty())
                    .then(|| json!({ "unaffected_bounds": unaffected_bounds })),
            }],
            versions: Vec::new(),
            ecosystem_specific,
            database_specific: Some(serde_json::Value::Object(entry_specific)),
        }],
        references,
        credits: Vec::new(),
        database_specific: Some(serde_json::Value::Object(database_specific)),
    }
}

fn load_file(path: &Path, source: &str) -> Result<CompiledAdvisory, LoadError> {
    let file = path.display().to_string();
    let err = |id: Option<String>, message: String| LoadError {
        source: source.to_string(),
        file: file.clone(),
        id,
        message,
    };
    let stem = path.file_stem().and_then(|s| s.to_str()).map(String::from);
    let text = std::fs::read_to_string(path).map_err(|e| err(stem.clone(), e.to_string()))?;
    let osv = parse_advisory(&text).map_err(|m| err(stem.clone(), m))?;
    let id = osv.id.clone();
    CompiledAdvisory::compile(osv, source).map_err(|e| err(Some(id), e.message))
}

/// `rustsec-dir:PATH`, in [`super::registry::LOCAL`].
pub struct RustsecDir;

impl super::registry::LocalSource for RustsecDir {
    fn kind(&self) -> &'static str {
        "rustsec-dir"
    }

    fn load(&self, location: &Path, source: &str) -> Result<Loaded, FeedError> {
        load_dir(location, source)
    }
}

/// Load every advisory under `<dir>/crates`.
pub fn load_dir(dir: &Path, source: &str) -> Result<Loaded, FeedError> {
    let crates = dir.join("crates");
    if !crates.is_dir() {
        return Err(FeedError::Invalid {
            path: dir.to_path_buf(),
            message: "not a RustSec advisory-db checkout (no crates/ directory)".into(),
        });
    }
    let files = walk_files(&crates, &|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("RUSTSEC-") && n.ends_with(".md"))
    })?;
    let results: Vec<_> = files.par_iter().map(|p| load_file(p, source)).collect();
    let mut loaded = Loaded {
        source: source.to_string(),
        ..Default::default()
    };
    for r in results {
        match r {
            Ok(a) => loaded.advisories.push(a),
            Err(e) => loaded.errors.push(e),
        }
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    #[test]
    fn overflowing_versions_are_refused_not_panicked_on() {
        let text = "```toml\n[advisory]\nid = \"RUSTSEC-2099-0001\"\npackage = \"foo\"\ndate = \"2099-01-01\"\n\n[versions]\npatched = [\"> 1.0.18446744073709551615\"]\n```\n\n# Title\n\nText.\n";
        let e = super::parse_advisory(text).unwrap_err();
        assert!(e.contains("too large"), "{e}");
        let ok = text.replace("> 1.0.18446744073709551615", ">= 1.0.2");
        let a = super::parse_advisory(&ok).unwrap();
        assert_eq!(a.id, "RUSTSEC-2099-0001");
    }

    /// RUSTSEC-2020-0071: `patched = [">= 0.2.23"]`, `unaffected = ["=0.2.0", ... "=0.2.6"]`.
    /// Only the patched version is a fixed version (cargo-audit: "Upgrade to >=0.2.23").
    #[test]
    fn only_patched_versions_are_fixed_versions() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/advisories/rustsec/crates/time/RUSTSEC-2020-0071.md"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let a = super::parse_advisory(&text).unwrap();
        let entry = &a.affected[0];
        let ds = entry.database_specific.as_ref().unwrap();
        assert_eq!(ds["patched"], serde_json::json!([">=0.2.23"]));
        assert_eq!(ds["unaffected"].as_array().unwrap().len(), 7);
        let bounds = &entry.ranges[0].database_specific.as_ref().unwrap()["unaffected_bounds"];
        assert_eq!(bounds.as_array().unwrap()[0], "0.2.0");
        let c = crate::advisory::CompiledAdvisory::compile(a, "rustsec").unwrap();
        let fixed: Vec<String> = c.affected[0].fixed.iter().map(|v| v.to_string()).collect();
        assert_eq!(fixed, vec!["0.2.23"]);
        let v = |s: &str| {
            crate::ecosystem::Ecosystem::CratesIo
                .parse_version(s)
                .unwrap()
        };
        assert!(c.affected[0].affects(&v("0.1.43"), "0.1.43"));
        assert!(!c.affected[0].affects(&v("0.2.0"), "0.2.0"));
        assert!(c.affected[0].affects(&v("0.2.22"), "0.2.22"));

        // `> x` patched: the end is `x+1-0`, still the patched one.
        let gt = text.replace(
            "patched = [\">= 0.2.23\"]\nunaffected = [\"=0.2.0\", \"=0.2.1\", \"=0.2.2\", \"=0.2.3\", \"=0.2.4\", \"=0.2.5\", \"=0.2.6\"]",
            "patched = [\"> 0.2.22\"]",
        );
        assert_ne!(gt, text);
        let c =
            crate::advisory::CompiledAdvisory::compile(super::parse_advisory(&gt).unwrap(), "r")
                .unwrap();
        let fixed: Vec<String> = c.affected[0].fixed.iter().map(|v| v.to_string()).collect();
        assert_eq!(fixed, vec!["0.2.23-0"]);
    }
}
