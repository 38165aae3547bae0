//! Feed definitions: the TOML files in the repository's `feeds/` directory, embedded in the
//! binary. Every URL can be overridden (mirrors, tests) in `depwatch.toml`:
//!
//! ```toml
//! [feeds.osv-pypi]
//! base_url = "http://127.0.0.1:8080"
//! enabled = true
//! ```

use serde::Deserialize;

/// A kind of remote feed, by the name definitions use (`osv-export`). The kinds and what
/// each does are in [`super::registry::REMOTE`]; a new kind declares its own with
/// [`FeedKind::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeedKind(&'static str);

// The kinds other modules name, in the spelling of the enum they replace.
#[allow(non_upper_case_globals)]
impl FeedKind {
    /// OSV bulk export: `{ecosystem}/all.zip` then `{ecosystem}/modified_id.csv`.
    pub const OsvExport: Self = Self::new("osv-export");
    /// OSV API: `/v1/querybatch` + `/v1/vulns/{id}`.
    pub const OsvApi: Self = Self::new("osv-api");
    /// GitHub Security Advisories REST API.
    pub const Ghsa: Self = Self::new("ghsa");
    /// RustSec advisory-db archive (zip of the repository).
    pub const RustsecArchive: Self = Self::new("rustsec-archive");
    /// crates.io sparse index (yanked flags).
    pub const CratesIndex: Self = Self::new("crates-index");
    /// CISA Known Exploited Vulnerabilities catalog (JSON).
    pub const Kev: Self = Self::new("kev");
    /// FIRST EPSS daily scores (gzipped CSV).
    pub const Epss: Self = Self::new("epss");
}

impl FeedKind {
    /// A kind named `name` (unique among [`super::registry::REMOTE`]: a test checks).
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// The kind's name.
    pub fn name(self) -> &'static str {
        self.0
    }
}

impl<'de> Deserialize<'de> for FeedKind {
    /// Only a registered kind: a definition naming another is an error listing the known ones.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        match super::registry::remote(&name) {
            Some(feed) => Ok(feed.kind()),
            None => {
                let known: Vec<&str> = super::registry::REMOTE
                    .iter()
                    .map(|f| f.kind().name())
                    .collect();
                Err(serde::de::Error::custom(format!(
                    "unknown feed kind `{}` (one of: {})",
                    crate::text::shorten(&name, 100),
                    known.join(", ")
                )))
            }
        }
    }
}

/// One feed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedDef {
    /// Unique name; the store's source name.
    pub name: String,
    /// What protocol it speaks.
    pub kind: FeedKind,
    /// Base URL (or the archive URL for `rustsec-archive`).
    pub base_url: String,
    /// OSV ecosystem names it covers (`PyPI`, `crates.io`).
    #[serde(default)]
    pub ecosystems: Vec<String>,
    /// Environment variable holding a token (never the token itself).
    #[serde(default)]
    pub token_env: Option<String>,
    /// Synced by `depwatch sync` when true.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

const BUILTIN: &[(&str, &str)] = &[
    (
        "feeds/osv-pypi.toml",
        include_str!("../../feeds/osv-pypi.toml"),
    ),
    (
        "feeds/osv-crates.toml",
        include_str!("../../feeds/osv-crates.toml"),
    ),
    ("feeds/ghsa.toml", include_str!("../../feeds/ghsa.toml")),
    (
        "feeds/rustsec.toml",
        include_str!("../../feeds/rustsec.toml"),
    ),
    (
        "feeds/osv-api.toml",
        include_str!("../../feeds/osv-api.toml"),
    ),
    (
        "feeds/crates-index.toml",
        include_str!("../../feeds/crates-index.toml"),
    ),
    ("feeds/kev.toml", include_str!("../../feeds/kev.toml")),
    ("feeds/epss.toml", include_str!("../../feeds/epss.toml")),
];

/// The built-in feed definitions. A broken embedded file is a build defect, reported as an
/// error naming the file rather than a panic.
pub fn builtin() -> Result<Vec<FeedDef>, String> {
    BUILTIN
        .iter()
        .map(|(file, text)| toml::from_str::<FeedDef>(text).map_err(|e| format!("{file}: {e}")))
        .collect()
}

/// The feed of `kind` among `defs` (the built-in definitions with the config's overrides):
/// the first, for the kinds that have one feed (the OSV API, the crates.io index).
pub fn of_kind(defs: &[FeedDef], kind: FeedKind) -> Option<&FeedDef> {
    defs.iter().find(|d| d.kind == kind)
}

#[cfg(test)]
mod tests {
    #[test]
    fn builtin_definitions_parse_and_have_unique_names() {
        let defs = super::builtin().unwrap();
        let mut names: Vec<_> = defs.iter().map(|d| d.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), defs.len());
        assert!(defs.iter().all(|d| d.base_url.starts_with("https://")));
    }
}
