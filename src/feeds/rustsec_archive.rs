//! The RustSec advisory-db, downloaded as a zip of the repository (GitHub's branch archive)
//! and read in memory.
//!
//! **Which source is authoritative for `RUSTSEC-` ids: this one.** The advisory-db repository
//! is where RustSec advisories are written and reviewed; the OSV `crates.io` export is
//! generated from it, so it lags behind it, and it carries RustSec's informational kinds
//! (`unmaintained`, `unsound`, `notice`) only as `database_specific` data that other OSV
//! consumers do not read. When both hold the same `RUSTSEC-` id, the record from this source is
//! the one to trust.
//!
//! The download is conditional (ETag / Last-Modified: an unchanged archive is
//! [`FeedUpdate::NotModified`]). Every `*/crates/<name>/RUSTSEC-*.md` entry is parsed on its own
//! with the `rustsec` crate and converted by [`super::rustsec::to_osv`]; the `rust/` collection
//! (toolchain advisories) is skipped as in [`super::rustsec::load_dir`]. The archive is never
//! extracted: entries whose name would escape a directory (`enclosed_name()` is `None`) and
//! symlinks are skipped, entry sizes and counts are bounded, and a broken entry is a
//! [`LoadError`] that never stops the others. An archive with no advisory at all is an error
//! (it would otherwise empty the source, since a pull replaces everything).

use super::defs::FeedDef;
use super::{FeedError, FeedUpdate};
use crate::advisory::{Advisory, CompiledAdvisory};
use crate::feeds::LoadError;
use crate::feeds::SourceState;
use crate::net::{Conditional, Http, redact};
use rayon::prelude::*;
use reqwest::header::HeaderMap;
use std::io::{Cursor, Read};
use std::path::{Component, PathBuf};

/// Largest archive accepted (the advisory-db zip is a few MB).
pub const MAX_ARCHIVE_BYTES: usize = 256 * 1024 * 1024;
/// Largest advisory file accepted (real ones are a few KB).
pub const MAX_ENTRY_BYTES: u64 = 1024 * 1024;
/// Most zip entries accepted.
pub const MAX_ENTRIES: usize = 500_000;

/// `*/crates/<name>/RUSTSEC-*.md`: the entry's path components when it is an advisory.
fn advisory_path(path: &std::path::Path) -> bool {
    let parts: Vec<&str> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    if parts.len() != path.components().count() {
        return false;
    }
    matches!(
        parts.as_slice(),
        [_, "crates", _, file] if file.starts_with("RUSTSEC-") && file.ends_with(".md")
    )
}

fn parse_entry(
    label: &str,
    name: &str,
    bytes: Result<Vec<u8>, String>,
    source: &str,
) -> Result<Advisory, LoadError> {
    let stem = name
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".md"))
        .map(String::from);
    let err = |id: Option<String>, message: String| LoadError {
        source: source.to_string(),
        file: format!("{label}!{name}"),
        id,
        message,
    };
    let bytes = bytes.map_err(|m| err(stem.clone(), m))?;
    let text = String::from_utf8(bytes).map_err(|_| err(stem.clone(), "not UTF-8".into()))?;
    let osv = super::rustsec::parse_advisory(&text).map_err(|m| err(stem.clone(), m))?;
    match CompiledAdvisory::compile(osv.clone(), source) {
        Ok(_) => Ok(osv),
        Err(e) => Err(err(Some(e.id), e.message)),
    }
}

/// Raw entry bytes gathered before a batch is parsed (entries are parsed as they are read).
const BATCH_BYTES: usize = 32 * 1024 * 1024;

/// Read every advisory of an advisory-db zip held in memory. `label` names the archive in
/// errors (a redacted URL), `source` is the feed name. Every decompressed byte is charged to
/// `budget`; past it the whole read fails.
pub fn read_archive(
    bytes: &[u8],
    label: &str,
    source: &str,
    budget: &super::budget::Budget,
) -> Result<(Vec<Advisory>, Vec<LoadError>), FeedError> {
    let invalid = |message: String| FeedError::Invalid {
        path: PathBuf::from(label),
        message,
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| invalid(format!("not a readable zip: {e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(invalid(format!(
            "zip has {} entries, more than {MAX_ENTRIES}",
            archive.len()
        )));
    }
    // Reading entries is sequential (one decompressor); parsing is parallel, a batch at a time.
    let mut raw: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
    let (mut raw_bytes, mut seen) = (0usize, 0usize);
    let mut advisories = Vec::new();
    let mut errors = Vec::new();
    let mut parse_batch = |raw: Vec<(String, Result<Vec<u8>, String>)>| {
        let results: Vec<Result<Advisory, LoadError>> = raw
            .into_par_iter()
            .map(|(name, bytes)| parse_entry(label, &name, bytes, source))
            .collect();
        for r in results {
            match r {
                Ok(a) => advisories.push(a),
                Err(e) => errors.push(e),
            }
        }
    };
    for i in 0..archive.len() {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                raw.push((format!("#{i}"), Err(format!("unreadable zip entry: {e}"))));
                seen += 1;
                continue;
            }
        };
        if entry.is_dir() || entry.is_symlink() {
            continue;
        }
        let Some(path) = entry.enclosed_name() else {
            continue;
        };
        if !advisory_path(&path) {
            continue;
        }
        let name = path.to_string_lossy().replace('\\', "/");
        if entry.size() > MAX_ENTRY_BYTES {
            raw.push((
                name,
                Err(format!("entry larger than {MAX_ENTRY_BYTES} bytes")),
            ));
            seen += 1;
            continue;
        }
        let mut buf = Vec::with_capacity(entry.size() as usize);
        let res = (&mut entry)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot decompress entry: {e}"))
            .and_then(|n| {
                if n as u64 > MAX_ENTRY_BYTES {
                    Err(format!("entry larger than {MAX_ENTRY_BYTES} bytes"))
                } else {
                    Ok(buf)
                }
            });
        if let Ok(b) = &res {
            budget.charge(b.len() as u64, label)?;
            raw_bytes += b.len();
        }
        raw.push((name, res));
        seen += 1;
        if raw_bytes >= BATCH_BYTES {
            parse_batch(std::mem::take(&mut raw));
            raw_bytes = 0;
        }
    }
    if seen == 0 {
        return Err(invalid(
            "no crates/<name>/RUSTSEC-*.md entries: not an advisory-db archive".into(),
        ));
    }
    parse_batch(raw);
    advisories.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((advisories, errors))
}

/// Download the archive (conditionally on the stored validators) and read it. Returns
/// [`FeedUpdate::Replace`]: the archive is the whole database.
pub async fn pull(
    http: &Http,
    def: &FeedDef,
    prev: Option<&SourceState>,
) -> Result<FeedUpdate, FeedError> {
    // Validators only help when the data they describe is still held.
    let prev = prev.filter(|p| p.records > 0);
    let etag = prev.and_then(|p| p.etag.as_deref());
    let last_modified = prev.and_then(|p| p.last_modified.as_deref());
    // The archive itself counts: it is held while its entries are read.
    let budget = super::budget::Budget::new(http.settings().max_feed_bytes);
    let limit = usize::try_from(budget.remaining())
        .unwrap_or(usize::MAX)
        .min(MAX_ARCHIVE_BYTES);
    let fetched = match http
        .get(&def.base_url, &HeaderMap::new(), etag, last_modified, limit)
        .await?
    {
        Conditional::NotModified => return Ok(FeedUpdate::NotModified),
        Conditional::Fetched(f) => f,
    };
    let label = redact(&def.base_url);
    budget.charge(fetched.body.len() as u64, &label)?;
    let source = def.name.clone();
    let body = fetched.body;
    let (advisories, errors) =
        tokio::task::spawn_blocking(move || read_archive(&body, &label, &source, &budget))
            .await
            .map_err(|e| FeedError::Invalid {
                path: PathBuf::from(redact(&def.base_url)),
                message: format!("reading the archive failed: {e}"),
            })??;
    Ok(FeedUpdate::Replace {
        advisories,
        errors,
        state: SourceState {
            source: def.name.clone(),
            etag: fetched.etag,
            last_modified: fetched.last_modified,
            ..Default::default()
        },
    })
}

/// The `rustsec-archive` feed kind, in [`super::registry::REMOTE`].
pub static RUSTSEC_ARCHIVE: super::registry::WholeFeed = super::registry::WholeFeed {
    kind: super::defs::FeedKind::RustsecArchive,
    pull: |http, def, prev| Box::pin(pull(http, def, prev)),
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    #[test]
    fn advisory_paths() {
        let p = |s: &str| advisory_path(std::path::Path::new(s));
        assert!(p("advisory-db-main/crates/tokio/RUSTSEC-2021-0124.md"));
        assert!(!p("advisory-db-main/rust/std/RUSTSEC-2021-0001.md"));
        assert!(!p("advisory-db-main/crates/tokio/README.md"));
        assert!(!p("crates/tokio/RUSTSEC-2021-0124.md"));
        assert!(!p("a/b/crates/tokio/RUSTSEC-2021-0124.md"));
    }

    #[test]
    fn hostile_and_broken_entries() {
        let budget = crate::feeds::budget::Budget::new(1 << 30);
        let sample = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/advisories/rustsec/EXAMPLE_ADVISORY.md"
        ))
        .ok();
        let mut buf = Vec::new();
        {
            let mut z = zip::ZipWriter::new(Cursor::new(&mut buf));
            let o = SimpleFileOptions::default();
            z.add_directory("db/crates/x/", o).unwrap();
            z.start_file("db/crates/x/RUSTSEC-2099-0001.md", o).unwrap();
            z.write_all(b"not an advisory").unwrap();
            z.start_file("db/crates/x/RUSTSEC-2099-0002.md", o).unwrap();
            z.write_all(&[0xff, 0xfe]).unwrap();
            z.add_symlink("db/crates/x/RUSTSEC-2099-0003.md", "/etc/passwd", o)
                .unwrap();
            z.start_file("../db/crates/x/RUSTSEC-2099-0004.md", o)
                .unwrap();
            z.write_all(b"escape").unwrap();
            if let Some(s) = &sample {
                z.start_file("db/crates/example/RUSTSEC-0000-0000.md", o)
                    .unwrap();
                z.write_all(s.as_bytes()).unwrap();
            }
            z.finish().unwrap();
        }
        let (adv, errors) = read_archive(&buf, "test.zip", "rustsec", &budget).unwrap();
        let ids: Vec<_> = errors.iter().filter_map(|e| e.id.clone()).collect();
        assert_eq!(ids, vec!["RUSTSEC-2099-0001", "RUSTSEC-2099-0002"]);
        assert!(errors[0].file.starts_with("test.zip!db/crates/x/"));
        assert_eq!(adv.len(), usize::from(sample.is_some()));

        assert!(read_archive(b"not a zip", "t", "rustsec", &budget).is_err());
        let mut empty = Vec::new();
        {
            let mut z = zip::ZipWriter::new(Cursor::new(&mut empty));
            z.start_file("db/README.md", SimpleFileOptions::default())
                .unwrap();
            z.finish().unwrap();
        }
        assert!(read_archive(&empty, "t", "rustsec", &budget).is_err());
    }
}
