//! `depwatch sync`: bring the store up to date from each source, one transaction per source.
//! One source failing never stops the others; its previous data stays as it was.

use crate::feeds::defs::{FeedDef, FeedKind};
use crate::feeds::http::{Http, HttpSettings};
use crate::feeds::{self, FeedError, FeedUpdate, SourceSpec, ghsa, osv_export, rustsec_archive};
use crate::store::{SourceState, Store, StoreError, SyncOutcome};
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
}

/// A sync failure that is not about one source: the store itself failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client or the async runtime could not be set up.
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
pub fn sync_local(store: &mut Store, spec: &SourceSpec) -> Result<SourceSync, SyncError> {
    // The store names a local source by its absolute path, so syncs from different working
    // directories update the same source.
    let spec = &spec.canonical();
    let source = spec.to_string();
    let path = match spec {
        SourceSpec::OsvDir(p) | SourceSpec::OsvZip(p) | SourceSpec::RustsecDir(p) => p.clone(),
    };
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

/// Sync the enabled remote feeds. Downloads run concurrently on a tokio runtime; the store is
/// written afterwards on this thread (rusqlite is blocking), one transaction per source, so a
/// failing feed never touches another's data.
pub fn sync_feeds(
    store: &mut Store,
    defs: &[FeedDef],
    settings: HttpSettings,
) -> Result<Vec<SourceSync>, SyncError> {
    let http = Http::new(settings).map_err(|e| SyncError::Setup(e.to_string()))?;
    let mut jobs = Vec::new();
    for def in defs.iter().filter(|d| d.enabled) {
        match def.kind {
            FeedKind::OsvExport => {
                for eco in &def.ecosystems {
                    let name = feed_source(def, Some(eco));
                    let prev = store.source_state(&name)?;
                    jobs.push((name, def.clone(), Some(eco.clone()), prev));
                }
            }
            FeedKind::Ghsa | FeedKind::RustsecArchive => {
                let name = feed_source(def, None);
                let prev = store.source_state(&name)?;
                jobs.push((name, def.clone(), None, prev));
            }
            // The OSV API answers `scan --online`; the crates.io index is refreshed per lockfile.
            FeedKind::OsvApi | FeedKind::CratesIndex => {}
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SyncError::Setup(format!("tokio runtime: {e}")))?;
    let results: Vec<(String, Result<FeedUpdate, FeedError>)> = runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (i, (name, def, eco, prev)) in jobs.into_iter().enumerate() {
            let http = http.clone();
            let deadline = http.settings().feed_deadline;
            set.spawn(async move {
                let pull = async {
                    match def.kind {
                        FeedKind::OsvExport => {
                            osv_export::pull(
                                &http,
                                &def,
                                eco.as_deref().unwrap_or_default(),
                                prev.as_ref(),
                            )
                            .await
                        }
                        FeedKind::Ghsa => ghsa::pull(&http, &def, prev.as_ref()).await,
                        FeedKind::RustsecArchive => {
                            rustsec_archive::pull(&http, &def, prev.as_ref()).await
                        }
                        FeedKind::OsvApi | FeedKind::CratesIndex => Ok(FeedUpdate::NotModified),
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
                }
            }
            Err(e) => {
                let msg = e.to_string();
                store.record_failure(&source, &msg)?;
                SourceSync {
                    source,
                    result: Err(msg),
                    skipped: 0,
                }
            }
        };
        report.push(r);
    }
    Ok(report)
}

/// Refresh the cached crates.io index entries (yanked flags) of the crates.io packages locked
/// in the Cargo.lock files under `paths`, so a later scan can warn about yanked versions
/// offline.
pub fn refresh_yanked(
    store: &mut Store,
    index_url: &str,
    paths: &[std::path::PathBuf],
    settings: HttpSettings,
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SyncError::Setup(format!("tokio runtime: {e}")))?;
    Ok(runtime.block_on(refresh_crate_index(&http, index_url, store, &names))?)
}

/// Refresh the cached crates.io index entries of `names`: read the cached ETags, fetch
/// (conditionally) from the index, write what came back in one transaction. The store is
/// only touched before and after the downloads.
pub async fn refresh_crate_index(
    http: &Http,
    index_url: &str,
    store: &mut Store,
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
