//! `depwatch sync`: bring the store up to date from each source, one transaction per source.
//! One source failing never stops the others; its previous data stays as it was.

use crate::feeds::{self, FeedError, SourceSpec};
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
