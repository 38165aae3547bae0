//! `depwatch sync`: bring the store up to date from each source, one transaction per source.
//! One source failing never stops the others; its previous data stays as it was.

use crate::ecosystem::Ecosystem;
use crate::feeds::defs::FeedDef;
use crate::feeds::http::{Http, HttpSettings};
use crate::feeds::signal::{self, SignalSpec};
use crate::feeds::{self, FeedError, FeedUpdate, SourceSpec, registry};
use crate::store::{AdvisoryStore, SourceState, StoreError, SyncOutcome};
use std::collections::BTreeSet;
use std::hash::Hasher;
use std::path::Path;

/// Result of syncing one source.
#[derive(Debug)]
pub struct SourceSync {
    /// The source name.
    pub source: String,
    /// What changed, or why it failed.
    pub result: Result<SyncOutcome, String>,
    /// Broken records skipped.
    pub skipped: usize,
    /// Which packages' advisories the sync wrote (for the watcher's fast lane).
    pub changed: Changed,
}

/// The packages whose advisories a sync wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Nothing was written (unchanged, or the sync failed).
    Nothing,
    /// These records were written.
    Records {
        /// The packages they name now: (ecosystem, normalised name).
        packages: BTreeSet<(Ecosystem, String)>,
        /// Their ids (a finding remembered under one of them may be on a package the new
        /// version of the record no longer names).
        ids: BTreeSet<String>,
    },
    /// The source was replaced whole: any package may have changed.
    Everything,
}

impl Changed {
    /// `advisories`' ids and the packages their affected entries name.
    pub fn of(advisories: &[crate::advisory::Advisory]) -> Self {
        if advisories.is_empty() {
            return Self::Nothing;
        }
        let packages: BTreeSet<(Ecosystem, String)> = advisories
            .iter()
            .flat_map(|a| a.affected.iter())
            .filter_map(|e| {
                let eco = Ecosystem::from_osv(&e.package.ecosystem)?;
                Some((eco, eco.normalize_name(&e.package.name)))
            })
            .collect();
        let ids = advisories
            .iter()
            .flat_map(|a| std::iter::once(&a.id).chain(a.aliases.iter()))
            .cloned()
            .collect();
        Self::Records { packages, ids }
    }

    /// Both: everything if either is, else the union.
    pub fn merge(self, other: Self) -> Self {
        match (self, other) {
            (Self::Everything, _) | (_, Self::Everything) => Self::Everything,
            (Self::Nothing, o) | (o, Self::Nothing) => o,
            (
                Self::Records {
                    mut packages,
                    mut ids,
                },
                Self::Records {
                    packages: p,
                    ids: i,
                },
            ) => {
                packages.extend(p);
                ids.extend(i);
                Self::Records { packages, ids }
            }
        }
    }
}

/// A sync failure that is not about one source: the store itself failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client could not be set up.
    #[error("sync: {0}")]
    Setup(String),
}

/// FNV-1a over the listing of a local source (relative path, size, modification time): a
/// cheap change detector, so a second sync of an unchanged directory reads no record.
/// (`DefaultHasher` is not stable across Rust releases; this is.)
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn fingerprint(root: &Path) -> Result<String, FeedError> {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    let files = if root.is_file() {
        vec![root.to_path_buf()]
    } else {
        feeds::walk_files(root, &|_| true)?
    };
    for f in files {
        let meta = std::fs::metadata(&f).map_err(|source| FeedError::Io {
            path: f.clone(),
            source,
        })?;
        let rel = f.strip_prefix(root).unwrap_or(&f);
        h.write(rel.to_string_lossy().as_bytes());
        h.write(&meta.len().to_le_bytes());
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.write(&mtime.to_le_bytes());
    }
    Ok(format!("listing-fnv1a:{:016x}", h.finish()))
}

/// Sync one local source (directory or zip) into the store.
pub fn sync_local(
    store: &mut impl AdvisoryStore,
    spec: &SourceSpec,
) -> Result<SourceSync, SyncError> {
    // The store names a local source by its absolute path, so syncs from different working
    // directories update the same source.
    let spec = &spec.canonical();
    let source = spec.to_string();
    let path = spec.path().to_path_buf();
    let attempt = || -> Result<(String, feeds::Loaded), FeedError> {
        Ok((fingerprint(&path)?, feeds::load(spec)?))
    };
    // Unchanged listing: nothing to read, nothing to write.
    if let (Ok(fp), Some(state)) = (fingerprint(&path), store.source_state(&source)?)
        && state.cursor.as_deref() == Some(fp.as_str())
        && state.last_success.is_some()
    {
        store.record_unchanged(&source)?;
        return Ok(SourceSync {
            source,
            result: Ok(SyncOutcome {
                unchanged: true,
                ..Default::default()
            }),
            skipped: 0,
            changed: Changed::Nothing,
        });
    }
    match attempt() {
        Err(e) => {
            let msg = e.to_string();
            store.record_failure(&source, &msg)?;
            Ok(SourceSync {
                source,
                result: Err(msg),
                skipped: 0,
                changed: Changed::Nothing,
            })
        }
        Ok((fp, loaded)) => {
            let advisories: Vec<_> = loaded
                .advisories
                .iter()
                .map(|c| (*c.advisory).clone())
                .collect();
            let state = SourceState {
                source: source.clone(),
                cursor: Some(fp),
                ..Default::default()
            };
            let outcome = store.replace_source(&state, &advisories, &loaded.errors)?;
            Ok(SourceSync {
                source,
                skipped: loaded.errors.len(),
                result: Ok(outcome),
                changed: Changed::Everything,
            })
        }
    }
}

/// Sync a local KEV catalog or EPSS file (`--source kev:PATH`, `--source epss:PATH`): the
/// whole file replaces the store's data set of its kind in one transaction; an unchanged file
/// (same size and modification time) is not read again. A file that does not read leaves the
/// previous set as it was.
pub fn sync_signal_local(
    store: &mut impl AdvisoryStore,
    spec: &SignalSpec,
) -> Result<SourceSync, SyncError> {
    let spec = spec.canonical();
    let source = spec.to_string();
    if let (Ok(fp), Some(state)) = (fingerprint(&spec.path), store.source_state(&source)?)
        && state.cursor.as_deref() == Some(fp.as_str())
        && state.last_success.is_some()
        && state.records > 0
    {
        store.record_unchanged(&source)?;
        return Ok(SourceSync {
            source,
            result: Ok(SyncOutcome {
                unchanged: true,
                ..Default::default()
            }),
            skipped: 0,
            changed: Changed::Nothing,
        });
    }
    let budget = crate::feeds::budget::Budget::from_env();
    let attempt = || -> Result<_, FeedError> {
        let fp = fingerprint(&spec.path)?;
        Ok((fp, signal::load_file(spec.kind, &spec.path, &budget)?))
    };
    match attempt() {
        Err(e) => {
            let msg = e.to_string();
            store.record_failure(&source, &msg)?;
            Ok(SourceSync {
                source,
                result: Err(msg),
                skipped: 0,
                changed: Changed::Nothing,
            })
        }
        Ok((fp, data)) => {
            let state = SourceState {
                source: source.clone(),
                cursor: Some(fp),
                ..Default::default()
            };
            let outcome = store.replace_signal(&state, &data)?;
            Ok(SourceSync {
                source,
                result: Ok(outcome),
                skipped: 0,
                changed: Changed::Nothing,
            })
        }
    }
}

/// The store's source name of a feed pulled for one ecosystem.
fn feed_source(def: &FeedDef, ecosystem: Option<&str>) -> String {
    match ecosystem {
        Some(e) if def.ecosystems.len() > 1 => format!("{}:{e}", def.name),
        _ => def.name.clone(),
    }
}

/// Sync the enabled remote feeds. Downloads run concurrently on the caller's tokio runtime
/// (`rt`); the store is written afterwards on this thread (rusqlite is blocking), one
/// transaction per source, so a failing feed never touches another's data. This blocks: call
/// it from a blocking thread (`spawn_blocking`), never from an async task.
pub fn sync_feeds(
    store: &mut impl AdvisoryStore,
    defs: &[FeedDef],
    settings: HttpSettings,
    rt: &tokio::runtime::Handle,
) -> Result<Vec<SourceSync>, SyncError> {
    let http = Http::new(settings).map_err(|e| SyncError::Setup(e.to_string()))?;
    let mut jobs = Vec::new();
    for def in defs.iter().filter(|d| d.enabled) {
        // Feed definitions only deserialize with a registered kind; one built in code
        // with another fails alone, below.
        let feed = registry::remote(def.kind.name());
        let jobs_of_def = feed.map_or_else(|| vec![None], |f| f.sync_jobs(def));
        for eco in jobs_of_def {
            let name = feed_source(def, eco.as_deref());
            let prev = store.source_state(&name)?;
            jobs.push((name, feed, def.clone(), eco, prev));
        }
    }
    let results: Vec<(String, Result<FeedUpdate, FeedError>)> = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (i, (name, feed, def, eco, prev)) in jobs.into_iter().enumerate() {
            let http = http.clone();
            let deadline = http.settings().feed_deadline;
            set.spawn(async move {
                let pull = async {
                    match feed {
                        Some(feed) => feed.pull(&http, &def, eco.as_deref(), prev.as_ref()).await,
                        None => Err(FeedError::Invalid {
                            path: def.name.clone().into(),
                            message: format!("unknown feed kind `{}`", def.kind.name()),
                        }),
                    }
                };
                // A feed past its deadline fails alone; the others' tasks go on.
                let r = tokio::time::timeout(deadline, pull)
                    .await
                    .unwrap_or_else(|_| {
                        Err(FeedError::Invalid {
                            path: name.clone().into(),
                            message: format!(
                                "sync did not finish within the feed deadline of {}s \
                                 (DEPWATCH_FEED_DEADLINE)",
                                deadline.as_secs()
                            ),
                        })
                    });
                (i, name, r)
            });
        }
        let mut out = Vec::new();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(r) => out.push(r),
                Err(e) => out.push((
                    usize::MAX,
                    "(task)".into(),
                    Err(FeedError::Invalid {
                        path: "sync".into(),
                        message: format!("a feed task failed: {e}"),
                    }),
                )),
            }
        }
        out.sort_by_key(|(i, _, _)| *i);
        out.into_iter().map(|(_, n, r)| (n, r)).collect()
    });
    let mut report = Vec::new();
    for (source, result) in results {
        let r = match result {
            Ok(FeedUpdate::NotModified) => {
                store.record_unchanged(&source)?;
                SourceSync {
                    source,
                    result: Ok(SyncOutcome {
                        unchanged: true,
                        ..Default::default()
                    }),
                    skipped: 0,
                    changed: Changed::Nothing,
                }
            }
            Ok(FeedUpdate::Replace {
                advisories,
                errors,
                mut state,
            }) => {
                state.source = source.clone();
                let o = store.replace_source(&state, &advisories, &errors)?;
                SourceSync {
                    source,
                    result: Ok(o),
                    skipped: errors.len(),
                    changed: Changed::Everything,
                }
            }
            Ok(FeedUpdate::Upsert {
                advisories,
                errors,
                mut state,
            }) => {
                state.source = source.clone();
                let o = store.upsert_source(&state, &advisories, &errors)?;
                SourceSync {
                    source,
                    result: Ok(o),
                    skipped: errors.len(),
                    changed: Changed::of(&advisories),
                }
            }
            Ok(FeedUpdate::Signal { data, mut state }) => {
                state.source = source.clone();
                let o = store.replace_signal(&state, &data)?;
                SourceSync {
                    source,
                    result: Ok(o),
                    skipped: 0,
                    changed: Changed::Nothing,
                }
            }
            Err(e) => {
                let msg = e.to_string();
                store.record_failure(&source, &msg)?;
                SourceSync {
                    source,
                    result: Err(msg),
                    skipped: 0,
                    changed: Changed::Nothing,
                }
            }
        };
        report.push(r);
    }
    Ok(report)
}

/// Refresh the cached crates.io index entries (yanked flags) of the crates.io packages locked
/// in the Cargo.lock files under `paths`, so a later scan can warn about yanked versions
/// offline. Blocks like [`sync_feeds`]; the fetches run on `rt`.
pub fn refresh_yanked(
    store: &mut impl AdvisoryStore,
    index_url: &str,
    paths: &[std::path::PathBuf],
    settings: HttpSettings,
    rt: &tokio::runtime::Handle,
) -> Result<crate::feeds::crates_index::RefreshReport, SyncError> {
    use crate::manifests::{self, ManifestKind, ParseOptions, Requirement};
    // The lockfiles under `paths`, found as a scan finds them (a missing path is an error);
    // read here rather than through `scan`, which sits beside sync in the application layer.
    let mut lockfiles = std::collections::BTreeSet::new();
    for p in paths {
        if !p.exists() {
            return Err(SyncError::Setup(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
        let found = manifests::discover_as(p, None).map_err(|e| SyncError::Setup(e.to_string()))?;
        lockfiles.extend(
            found
                .into_iter()
                .filter(|(_, kind)| *kind == ManifestKind::CargoLock),
        );
    }
    // A lockfile that does not parse is skipped here; a scan reports it.
    let names: Vec<String> = lockfiles
        .iter()
        .filter_map(|(path, kind)| manifests::parse(path, *kind, &ParseOptions::default()).ok())
        .flat_map(|m| m.dependencies)
        .filter(|d| matches!(d.requirement, Requirement::Pinned { .. }))
        .map(|d| d.name)
        .collect();
    let http = Http::new(settings).map_err(|e| SyncError::Setup(e.to_string()))?;
    Ok(rt.block_on(refresh_crate_index(&http, index_url, store, &names))?)
}

/// Refresh the cached crates.io index entries of `names`: read the cached ETags, fetch
/// (conditionally) from the index, write what came back in one transaction. The store is
/// only touched before and after the downloads.
pub async fn refresh_crate_index(
    http: &Http,
    index_url: &str,
    store: &mut impl AdvisoryStore,
    names: &[String],
) -> Result<crate::feeds::crates_index::RefreshReport, StoreError> {
    let mut cached = std::collections::HashMap::new();
    for n in names {
        if let Some(c) = store.crate_index_cached(n)? {
            cached.insert(n.clone(), c);
        }
    }
    let (report, writes) = crate::feeds::crates_index::fetch(http, index_url, names, &cached).await;
    store.put_crate_indexes(&writes)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::{Advisory, Affected, Package};

    fn adv(eco: &str, name: &str) -> Advisory {
        Advisory {
            id: "MAL-1".into(),
            affected: vec![Affected {
                package: Package {
                    ecosystem: eco.into(),
                    name: name.into(),
                    purl: None,
                },
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn changed_packages_are_normalised_and_merge() {
        let a = Changed::of(&[adv("PyPI", "Num2Words"), adv("Go", "x")]);
        let set = BTreeSet::from([(Ecosystem::PyPI, "num2words".to_string())]);
        assert_eq!(
            a,
            Changed::Records {
                packages: set,
                ids: BTreeSet::from(["MAL-1".to_string()])
            }
        );
        assert_eq!(Changed::of(&[]), Changed::Nothing);
        assert_eq!(a.clone().merge(Changed::Nothing), a);
        assert_eq!(Changed::Nothing.merge(a.clone()), a);
        assert_eq!(a.clone().merge(Changed::Everything), Changed::Everything);
        let b = Changed::of(&[adv("crates.io", "arrayref")]);
        let Changed::Records { packages, .. } = a.merge(b) else {
            panic!("a union")
        };
        assert_eq!(packages.len(), 2);
    }
}
