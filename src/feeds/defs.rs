//! Feed definitions: the TOML files in the repository's `feeds/` directory, embedded in the
//! binary. Every URL can be overridden (mirrors, tests) in `depwatch.toml`:
//!
//! ```toml
//! [feeds.osv-pypi]
//! base_url = "http://127.0.0.1:8080"
//! enabled = true
//! ```

use serde::Deserialize;

/// The kinds of remote feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedKind {
    /// OSV bulk export: `{ecosystem}/all.zip` then `{ecosystem}/modified_id.csv`.
    OsvExport,
    /// OSV API: `/v1/querybatch` + `/v1/vulns/{id}`.
    OsvApi,
    /// GitHub Security Advisories REST API.
    Ghsa,
    /// RustSec advisory-db archive (zip of the repository).
    RustsecArchive,
    /// crates.io sparse index (yanked flags).
    CratesIndex,
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
