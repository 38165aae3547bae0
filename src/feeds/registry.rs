//! The one list of advisory source kinds: local sources given as `KIND:LOCATION`
//! ([`LOCAL`]) and the kinds of remote feed a `feeds/*.toml` definition names ([`REMOTE`]).
//! Parsing `--source` and config `sources`, loading, `depwatch sync` and error messages all read
//! these lists; nothing else matches on a kind.
//!
//! Adding a local source kind: a module in `src/feeds/` with a unit struct implementing
//! [`LocalSource`], and one line in [`LOCAL`]. Adding a kind of remote feed: a module
//! implementing [`RemoteFeed`] (or giving a [`WholeFeed`] or an [`OnDemand`], its kind declared
//! with [`FeedKind::new`]) and one line in [`REMOTE`]; a feed of that kind is then a `feeds/<name>.toml` file and its line in
//! `defs::BUILTIN`. The tests below check that every kind is named once and is found by its
//! name.

use super::defs::{FeedDef, FeedKind};
use super::http::Http;
use super::{
    FeedError, FeedUpdate, Loaded, SourceState, crates_index, ghsa, osv, osv_api, osv_export,
    rustsec, rustsec_archive, signal,
};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

/// A local advisory source kind: the `KIND` of `KIND:LOCATION`.
pub trait LocalSource: Sync {
    /// The kind's name (`osv-dir`).
    fn kind(&self) -> &'static str;

    /// Load every record under `location`; `source` is the name records are stored under
    /// (`KIND:LOCATION`). A broken record is counted in [`Loaded::errors`], never fatal.
    fn load(&self, location: &Path, source: &str) -> Result<Loaded, FeedError>;
}

/// Every local source kind, in the order messages list them.
pub static LOCAL: &[&dyn LocalSource] = &[&osv::OsvDir, &osv::OsvZip, &rustsec::RustsecDir];

/// The local source kind named `kind`.
pub fn local(kind: &str) -> Option<&'static dyn LocalSource> {
    LOCAL.iter().copied().find(|s| s.kind() == kind)
}

/// The forms `--source` takes, for messages: `osv-dir:PATH, osv-zip:PATH or rustsec-dir:PATH`.
pub fn local_forms() -> String {
    let forms: Vec<String> = LOCAL.iter().map(|s| format!("{}:PATH", s.kind())).collect();
    match forms.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// What a [`RemoteFeed::pull`] returns: a future the sync runs on its runtime.
pub type Pull<'a> = Pin<Box<dyn Future<Output = Result<FeedUpdate, FeedError>> + Send + 'a>>;

/// A kind of remote feed (`kind = "..."` in a feed definition).
pub trait RemoteFeed: Sync {
    /// The kind, as feed definitions name it.
    fn kind(&self) -> FeedKind;

    /// What `depwatch sync` pulls for a definition of this kind: one pull per ecosystem
    /// (`Some(ecosystem)`), one for the whole feed (`None`, the default), or none for a feed
    /// read on demand (the OSV API by `scan --online`, the crates.io index per lockfile).
    fn sync_jobs(&self, _def: &FeedDef) -> Vec<Option<String>> {
        vec![None]
    }

    /// Pull one job's changes since `prev`, the state the store holds for it.
    fn pull<'a>(
        &'a self,
        http: &'a Http,
        def: &'a FeedDef,
        ecosystem: Option<&'a str>,
        prev: Option<&'a SourceState>,
    ) -> Pull<'a>;
}

/// Every kind of remote feed.
pub static REMOTE: &[&dyn RemoteFeed] = &[
    &osv_export::OsvExport,
    &osv_api::OSV_API,
    &ghsa::GHSA,
    &rustsec_archive::RUSTSEC_ARCHIVE,
    &crates_index::CRATES_INDEX,
    &signal::Kev,
    &signal::Epss,
];

/// The remote feed kind named `kind`.
pub fn remote(kind: &str) -> Option<&'static dyn RemoteFeed> {
    REMOTE.iter().copied().find(|f| f.kind().name() == kind)
}

/// A kind of feed pulled whole: one job per definition, whatever its ecosystems (the GitHub
/// advisories API, the RustSec archive). Its module gives the kind and a boxed pull.
pub struct WholeFeed {
    /// The kind, as feed definitions name it.
    pub kind: FeedKind,
    /// Pull the feed's changes since the stored state.
    pub pull: for<'a> fn(&'a Http, &'a FeedDef, Option<&'a SourceState>) -> Pull<'a>,
}

impl RemoteFeed for WholeFeed {
    fn kind(&self) -> FeedKind {
        self.kind
    }

    fn pull<'a>(
        &'a self,
        http: &'a Http,
        def: &'a FeedDef,
        _ecosystem: Option<&'a str>,
        prev: Option<&'a SourceState>,
    ) -> Pull<'a> {
        (self.pull)(http, def, prev)
    }
}

/// A kind of feed read on demand, never synced: the OSV API (by `scan --online`) and the
/// crates.io index (per lockfile). `depwatch sync` has no job for it.
pub struct OnDemand(pub FeedKind);

impl RemoteFeed for OnDemand {
    fn kind(&self) -> FeedKind {
        self.0
    }

    fn sync_jobs(&self, _def: &FeedDef) -> Vec<Option<String>> {
        Vec::new()
    }

    fn pull<'a>(
        &'a self,
        _http: &'a Http,
        _def: &'a FeedDef,
        _ecosystem: Option<&'a str>,
        _prev: Option<&'a SourceState>,
    ) -> Pull<'a> {
        Box::pin(std::future::ready(Ok(FeedUpdate::NotModified)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn kind_names_are_unique_and_found_by_name() {
        let mut names = BTreeSet::new();
        for s in LOCAL {
            assert!(names.insert(s.kind()), "{} registered twice", s.kind());
            assert!(!s.kind().is_empty() && !s.kind().contains(':'));
            assert_eq!(local(s.kind()).map(|l| l.kind()), Some(s.kind()));
            let spec: super::super::SourceSpec =
                format!("{}:some/where", s.kind()).parse().unwrap();
            assert_eq!(spec.kind(), s.kind());
            assert_eq!(spec.to_string(), format!("{}:some/where", s.kind()));
        }
        let mut remote_names = BTreeSet::new();
        for f in REMOTE {
            let name = f.kind().name();
            assert!(remote_names.insert(name), "{name} registered twice");
            assert_eq!(remote(name).map(|r| r.kind()), Some(f.kind()));
            let def: FeedDef = toml::from_str(&format!(
                "name = \"x\"\nkind = \"{name}\"\nbase_url = \"https://x\"\n"
            ))
            .unwrap();
            assert_eq!(def.kind, f.kind());
        }
        // The kinds there were before the registry, listed as messages always listed them.
        assert!(
            local_forms().starts_with("osv-dir:PATH, osv-zip:PATH")
                && local_forms().contains("rustsec-dir:PATH"),
            "{}",
            local_forms()
        );
        let last = LOCAL.last().map(|s| s.kind()).unwrap_or_default();
        assert!(local_forms().ends_with(&format!(" or {last}:PATH")));
    }

    #[test]
    fn every_builtin_feed_is_of_a_registered_kind() {
        for def in super::super::defs::builtin().unwrap() {
            assert!(remote(def.kind.name()).is_some(), "{}", def.name);
        }
        let e =
            toml::from_str::<FeedDef>("name = \"x\"\nkind = \"ftp\"\nbase_url = \"https://x\"\n")
                .unwrap_err()
                .to_string();
        assert!(
            e.contains("unknown feed kind `ftp`") && e.contains("osv-export, osv-api"),
            "{e}"
        );
    }
}
