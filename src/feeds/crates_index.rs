//! Yanked flags from the crates.io sparse index (`https://index.crates.io`), for the crates of
//! a lockfile only.
//!
//! Each crate's index file (`{base}/{prefix}/{name}`, newline-delimited JSON with `vers` and
//! `yanked`) is fetched conditionally with the ETag stored for it, so an unchanged crate costs
//! a `304`. Results are cached per crate in the store (`crate_index`); a crate the index does
//! not know (`404`) is recorded with no yanked version. Requests run concurrently (bounded);
//! the store is written once, in one transaction, after every request has finished.

use crate::net::{Conditional, Http, HttpError};
use reqwest::header::HeaderMap;
use std::collections::BTreeSet;

/// Largest index file accepted (the biggest crates' files are a few MB).
const INDEX_FILE_LIMIT: usize = 32 * 1024 * 1024;
/// Requests in flight at once.
const CONCURRENCY: usize = 16;

/// What one refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Crates whose index file was downloaded.
    pub fetched: usize,
    /// Crates unchanged since the last fetch (`304`).
    pub not_modified: usize,
    /// Crates the index does not know (`404`): recorded with no yanked version.
    pub not_found: usize,
    /// Crates that could not be refreshed, with the reason; their cache is left as it was.
    pub failed: Vec<(String, String)>,
}

/// The sparse-index path of a crate: `1/{name}`, `2/{name}`, `3/{c}/{name}`, else
/// `{ab}/{cd}/{name}`, all lowercased. `None` for a name crates.io cannot have.
pub fn index_path(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return None;
    }
    let n = name.to_ascii_lowercase();
    Some(match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    })
}

/// The yanked versions listed in an index file. Lines that are not JSON objects with a
/// `vers` are skipped; `None` when no line is.
pub fn parse_index_file(body: &[u8]) -> Option<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Line {
        vers: String,
        #[serde(default)]
        yanked: bool,
    }
    let mut any = false;
    let mut yanked = Vec::new();
    for line in body.split(|b| *b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if let Ok(l) = serde_json::from_slice::<Line>(line) {
            any = true;
            if l.yanked {
                yanked.push(l.vers);
            }
        }
    }
    any.then_some(yanked)
}

enum Outcome {
    Fetched(Option<String>, Vec<String>),
    NotModified,
    NotFound,
    Failed(String),
}

async fn fetch_one(http: Http, url: String, etag: Option<String>) -> Outcome {
    match http
        .get(
            &url,
            &HeaderMap::new(),
            etag.as_deref(),
            None,
            INDEX_FILE_LIMIT,
        )
        .await
    {
        Ok(Conditional::NotModified) => Outcome::NotModified,
        Ok(Conditional::Fetched(f)) => match parse_index_file(&f.body) {
            Some(y) => Outcome::Fetched(f.etag, y),
            None => Outcome::Failed("not a sparse index file".into()),
        },
        Err(HttpError::Status {
            status: 404 | 410, ..
        }) => Outcome::NotFound,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// A cached index entry: its ETag and yanked versions.
pub type Cached = (Option<String>, Vec<String>);

/// The `crates-index` feed kind, in [`super::registry::REMOTE`]: read per lockfile.
pub static CRATES_INDEX: super::registry::OnDemand =
    super::registry::OnDemand(super::defs::FeedKind::CratesIndex);

/// Fetch the yanked flags of `names` (crates.io packages of a lockfile) from the sparse index
/// at `base_url`, conditionally on the `cached` entries' ETags. Returns the report and the
/// entries to cache (name, ETag, yanked versions); the caller writes them to the store. A
/// crate that cannot be fetched is listed in [`RefreshReport::failed`] and is not in the
/// entries, so its previous cache stays.
pub async fn fetch(
    http: &Http,
    base_url: &str,
    names: &[String],
    cached: &std::collections::HashMap<String, Cached>,
) -> (RefreshReport, Vec<(String, Option<String>, Vec<String>)>) {
    let base = base_url.trim_end_matches('/');
    let mut report = RefreshReport::default();
    let unique: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    // (name, url, cached etag, cached yanked) read up front: the store is blocking.
    let mut jobs = Vec::new();
    for name in unique {
        let Some(path) = index_path(name) else {
            report
                .failed
                .push((name.to_string(), "not a valid crate name".into()));
            continue;
        };
        let cached = cached.get(name).cloned();
        jobs.push((name.to_string(), format!("{base}/{path}"), cached));
    }

    let mut results: Vec<Option<Outcome>> = (0..jobs.len()).map(|_| None).collect();
    let mut set = tokio::task::JoinSet::new();
    let mut next = 0;
    while next < jobs.len() || !set.is_empty() {
        while next < jobs.len() && set.len() < CONCURRENCY {
            let (_, url, cached) = &jobs[next];
            let etag = cached.as_ref().and_then(|(e, _)| e.clone());
            let fut = fetch_one(http.clone(), url.clone(), etag);
            let i = next;
            set.spawn(async move { (i, fut.await) });
            next += 1;
        }
        match set.join_next().await {
            Some(Ok((i, outcome))) => {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(outcome);
                }
            }
            // A task that panicked or was cancelled: its crate is reported below.
            Some(Err(_)) => {}
            None => break,
        }
    }

    let mut writes = Vec::new();
    for ((name, _, cached), outcome) in jobs.into_iter().zip(results) {
        match outcome {
            Some(Outcome::Fetched(etag, yanked)) => {
                report.fetched += 1;
                writes.push((name, etag, yanked));
            }
            Some(Outcome::NotModified) => match cached {
                Some((etag, yanked)) => {
                    report.not_modified += 1;
                    writes.push((name, etag, yanked));
                }
                None => report
                    .failed
                    .push((name, "304 without a cached copy".into())),
            },
            Some(Outcome::NotFound) => {
                report.not_found += 1;
                writes.push((name, None, Vec::new()));
            }
            Some(Outcome::Failed(message)) => report.failed.push((name, message)),
            None => report.failed.push((name, "request task failed".into())),
        }
    }
    report.failed.sort();
    (report, writes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(index_path("a").as_deref(), Some("1/a"));
        assert_eq!(index_path("cc").as_deref(), Some("2/cc"));
        assert_eq!(index_path("syn").as_deref(), Some("3/s/syn"));
        assert_eq!(index_path("serde").as_deref(), Some("se/rd/serde"));
        assert_eq!(index_path("Inflector").as_deref(), Some("in/fl/inflector"));
        assert_eq!(index_path("rand").as_deref(), Some("ra/nd/rand"));
        assert_eq!(index_path(""), None);
        assert_eq!(index_path("../x"), None);
        assert_eq!(index_path("a/b"), None);
        assert_eq!(index_path(&"x".repeat(65)), None);
    }

    #[test]
    fn index_files() {
        let body =
            br#"{"name":"x","vers":"0.1.0","deps":[],"cksum":"00","features":{},"yanked":false}
{"name":"x","vers":"0.1.1","deps":[],"cksum":"00","features":{},"yanked":true}

{"name":"x","vers":"0.2.0-rc.1","yanked":true,"v":2,"features2":{}}
garbage
"#;
        assert_eq!(
            parse_index_file(body),
            Some(vec!["0.1.1".to_string(), "0.2.0-rc.1".to_string()])
        );
        assert_eq!(parse_index_file(b"<html>nope</html>"), None);
        assert_eq!(parse_index_file(b""), None);
    }
}
