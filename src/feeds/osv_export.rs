//! The OSV bulk export of one ecosystem, over HTTP:
//!
//! - `{base_url}/{ecosystem}/all.zip`: every record (withdrawn ones included), downloaded on the
//!   first sync or when the high-water mark is lost, conditionally on the stored ETag /
//!   Last-Modified, and read in memory (never extracted to disk);
//! - `{base_url}/{ecosystem}/modified_id.csv`: `<RFC 3339 modified>,<ID>` lines, newest first,
//!   read on later syncs up to the first line older than the mark;
//! - `{base_url}/{ecosystem}/{ID}.json`: one record, fetched for each id the CSV lists as new.
//!
//! The cursor stored for the source is the mark: the newest `modified` seen, plus a fingerprint
//! of the ids that carry exactly that time (`2024-08-15T00:05:00Z ids-fnv1a:0123456789abcdef`).
//! A CSV line with the mark's own time is "possibly new" (the export may have written more
//! records with that time after the last sync); the fingerprint tells whether the set of ids at
//! that time is still the one already fetched, so an unchanged CSV costs exactly one request.
//! The mark only moves when every listed record was fetched.

use super::budget::Budget;
use super::defs::FeedDef;
use super::osv::{load_zip_reader, parse_record};
use super::{FeedError, FeedUpdate};
use crate::advisory::Advisory;
use crate::feeds::LoadError;
use crate::feeds::SourceState;
use crate::net::{Conditional, Http, HttpError, redact};
use jiff::Timestamp;
use reqwest::header::HeaderMap;
use std::collections::HashSet;
use std::path::PathBuf;

/// Largest `all.zip` accepted.
pub const MAX_ZIP_BYTES: usize = 512 * 1024 * 1024;
/// Largest `modified_id.csv` accepted.
pub const MAX_CSV_BYTES: usize = 16 * 1024 * 1024;
/// Largest single record accepted.
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;
/// Most records fetched one by one in a pull; past that, `all.zip` is downloaded instead.
pub const MAX_IDS_PER_PULL: usize = 50_000;
/// Record requests in flight at once.
pub const CONCURRENCY: usize = 8;
/// Malformed CSV lines reported one by one; the rest are counted in one more error.
const MAX_LINE_ERRORS: usize = 100;
/// Longest id accepted from a feed (real ids are under 40 characters).
const MAX_ID_LEN: usize = 128;

/// The high-water mark of an incremental sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// The newest `modified` seen.
    pub time: Timestamp,
    /// FNV-1a of the sorted ids whose `modified` is exactly `time`; `None` when unknown (every
    /// id at that time is then treated as new).
    pub ids: Option<u64>,
}

impl Mark {
    /// The mark for `time` and the ids carrying exactly that time.
    pub fn new<'a>(time: Timestamp, ids_at_time: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            time,
            ids: Some(fingerprint(ids_at_time)),
        }
    }

    /// Read a stored cursor; `None` when it is not a mark (the mark is then lost).
    pub fn parse(cursor: &str) -> Option<Self> {
        let mut parts = cursor.split_whitespace();
        let time = parts.next()?.parse::<Timestamp>().ok()?;
        let ids = match parts.next() {
            None => None,
            Some(p) => Some(u64::from_str_radix(p.strip_prefix("ids-fnv1a:")?, 16).ok()?),
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self { time, ids })
    }

    /// The cursor to store.
    pub fn to_cursor(&self) -> String {
        match self.ids {
            Some(h) => format!("{} ids-fnv1a:{h:016x}", self.time),
            None => self.time.to_string(),
        }
    }
}

/// FNV-1a over the sorted, de-duplicated ids (stable across Rust releases).
fn fingerprint<'a>(ids: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for id in ids {
        for b in id.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// True when `id` is safe to put in a URL path and looks like an OSV id
/// (`PYSEC-2021-76`, `GHSA-xxxx-xxxx-xxxx`, `RUSTSEC-2024-0001`, `ALSA-2023:1234`).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Parse one `modified_id.csv` line. `Ok(None)` for a blank line. The top-level CSV's
/// `<ecosystem_dir>/<ID>` form is accepted when the directory is `ecosystem`.
pub fn parse_line(line: &str, ecosystem: &str) -> Result<Option<(Timestamp, String)>, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    let (time, id) = line
        .split_once(',')
        .ok_or_else(|| "expected `<modified>,<id>`".to_string())?;
    let id = id.trim();
    let id = match id.split_once('/') {
        Some((dir, rest)) if dir == ecosystem => rest,
        _ => id,
    };
    if !valid_id(id) {
        return Err(format!("invalid id {:?}", shorten(id)));
    }
    let time = time
        .trim()
        .parse::<Timestamp>()
        .map_err(|e| format!("invalid time {:?} for {id}: {e}", shorten(time.trim())))?;
    Ok(Some((time, id.to_string())))
}

/// Echoed input is cut by the one rule for messages, which marks the cut.
fn shorten(s: &str) -> String {
    crate::text::shorten(s, 60)
}

/// What `modified_id.csv` says has changed since a mark.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CsvScan {
    /// Ids to fetch, newest first, each once.
    pub new_ids: Vec<String>,
    /// The mark once those are fetched (the old one when nothing is new).
    pub mark: Option<Mark>,
    /// Malformed lines: (1-based line number, message).
    pub errors: Vec<(usize, String)>,
    /// More than the allowed number of ids changed: download `all.zip` instead.
    pub overflow: bool,
}

/// Read `text` (newest first) down to the first line strictly older than `mark`.
pub fn scan_csv(text: &str, ecosystem: &str, mark: &Mark, max_ids: usize) -> CsvScan {
    let mut scan = CsvScan::default();
    let mut seen: HashSet<String> = HashSet::new();
    // Every id listed at or after the mark, newest first, with its (newest) time.
    let mut candidates: Vec<(String, Timestamp)> = Vec::new();
    let mut at_mark: Vec<String> = Vec::new();
    let mut newest = mark.time;
    let mut at_newest: Vec<String> = Vec::new();
    let mut skipped_errors = 0usize;
    for (n, line) in text.lines().enumerate() {
        let (time, id) = match parse_line(line, ecosystem) {
            Ok(Some(x)) => x,
            Ok(None) => continue,
            Err(message) => {
                if scan.errors.len() < MAX_LINE_ERRORS {
                    scan.errors.push((n + 1, message));
                } else {
                    skipped_errors += 1;
                }
                continue;
            }
        };
        if time < mark.time {
            break;
        }
        if time == mark.time {
            at_mark.push(id.clone());
        }
        if time > newest {
            newest = time;
            at_newest.clear();
        }
        if time == newest {
            at_newest.push(id.clone());
        }
        if seen.insert(id.clone()) {
            candidates.push((id, time));
            if candidates.len() > max_ids {
                scan.overflow = true;
                break;
            }
        }
    }
    if skipped_errors > 0 {
        scan.errors.push((
            0,
            format!("{skipped_errors} more malformed lines not listed"),
        ));
    }
    // Ids at the mark's own time are known when their set is the one fingerprinted.
    let known_at_mark = mark.ids.is_some_and(|h| {
        !at_mark.is_empty() && h == fingerprint(at_mark.iter().map(String::as_str))
    });
    scan.new_ids = candidates
        .into_iter()
        .filter(|(_, t)| *t > mark.time || !known_at_mark)
        .map(|(id, _)| id)
        .collect();
    scan.mark = Some(if at_newest.is_empty() {
        *mark
    } else {
        Mark::new(newest, at_newest.iter().map(String::as_str))
    });
    scan
}

/// `base` with `segments` appended as path segments (percent-encoded as needed).
pub(crate) fn join_url(base: &str, segments: &[&str]) -> Result<String, FeedError> {
    let invalid = |message: String| FeedError::Invalid {
        path: PathBuf::from(redact(base)),
        message,
    };
    let mut url =
        reqwest::Url::parse(base).map_err(|e| invalid(format!("not a valid base URL: {e}")))?;
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|()| invalid("not a base URL".to_string()))?;
        path.pop_if_empty();
        for s in segments {
            path.push(s);
        }
    }
    Ok(url.to_string())
}

/// GET every URL (plain GETs, at most `concurrency` at a time) and hand each body to `each`
/// with its index in `urls` as it arrives, so bodies are parsed and dropped one by one instead
/// of all held at once. Every body is charged to `budget`. The first failure (after the
/// client's retries, or past the budget) fails the whole call.
pub(crate) async fn get_many(
    http: &Http,
    urls: &[String],
    limit: usize,
    concurrency: usize,
    budget: &Budget,
    mut each: impl FnMut(usize, Vec<u8>),
) -> Result<(), FeedError> {
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0;
    loop {
        while tasks.len() < concurrency.max(1) && next < urls.len() {
            let http = http.clone();
            let url = urls[next].clone();
            let i = next;
            tasks.spawn(async move {
                let res = http.get(&url, &HeaderMap::new(), None, None, limit).await;
                (i, url, res)
            });
            next += 1;
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        // Returning early drops `tasks`, which aborts the requests still in flight.
        let (i, url, res) = joined.map_err(|e| FeedError::Invalid {
            path: PathBuf::from("(fetch task)"),
            message: e.to_string(),
        })?;
        match res? {
            Conditional::Fetched(f) => {
                budget.charge(f.body.len() as u64, &redact(&url))?;
                each(i, f.body);
            }
            Conditional::NotModified => {
                return Err(HttpError::Status {
                    url: redact(&url),
                    status: 304,
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Fetch the OSV records at `urls` (the file names `files`, the ids `ids`, as listed)
/// concurrently within `budget`, each parsed as it arrives and its body dropped, so only parsed
/// records are held. Returns them in `urls`' order, and a [`LoadError`] for each record that
/// does not parse, named by the id it was listed as (which names it better than one sniffed
/// from a broken body). The OSV export's updates and the OSV API's answers share it.
pub(crate) async fn get_records(
    http: &Http,
    urls: &[String],
    files: &[String],
    ids: &[String],
    source: &str,
    budget: &Budget,
) -> Result<(Vec<Advisory>, Vec<LoadError>), FeedError> {
    let mut advisories = Vec::with_capacity(urls.len());
    let mut errors = Vec::new();
    get_many(
        http,
        urls,
        MAX_RECORD_BYTES,
        CONCURRENCY,
        budget,
        |i, body| match parse_record(&body, &files[i], &redact(&urls[i]), source) {
            Ok(c) => advisories.push((i, std::sync::Arc::unwrap_or_clone(c.advisory))),
            Err(mut e) => {
                e.id = Some(ids[i].clone());
                errors.push((i, e));
            }
        },
    )
    .await?;
    advisories.sort_by_key(|(i, _)| *i);
    errors.sort_by_key(|(i, _)| *i);
    Ok((
        advisories.into_iter().map(|(_, a)| a).collect(),
        errors.into_iter().map(|(_, e)| e).collect(),
    ))
}

/// The `osv-export` feed kind, in [`super::registry::REMOTE`].
pub struct OsvExport;

impl super::registry::RemoteFeed for OsvExport {
    fn kind(&self) -> super::defs::FeedKind {
        super::defs::FeedKind::OsvExport
    }

    /// One pull per ecosystem: each is its own store source.
    fn sync_jobs(&self, def: &FeedDef) -> Vec<Option<String>> {
        def.ecosystems.iter().cloned().map(Some).collect()
    }

    fn pull<'a>(
        &'a self,
        http: &'a Http,
        def: &'a FeedDef,
        ecosystem: Option<&'a str>,
        prev: Option<&'a SourceState>,
    ) -> super::registry::Pull<'a> {
        Box::pin(pull(http, def, ecosystem.unwrap_or_default(), prev))
    }
}

/// Sync one ecosystem of an OSV export. `prev` is the state the store holds for the source
/// (its `source` names the result; `def.name` when there is none).
pub async fn pull(
    http: &Http,
    def: &FeedDef,
    ecosystem: &str,
    prev: Option<&SourceState>,
) -> Result<FeedUpdate, FeedError> {
    let source = prev
        .map(|p| p.source.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| def.name.clone());
    let mark = prev.and_then(|p| p.cursor.as_deref()).and_then(Mark::parse);
    let budget = Budget::new(http.settings().max_feed_bytes);
    match mark {
        None => full(http, def, ecosystem, prev, &source, true, &budget).await,
        Some(mark) => incremental(http, def, ecosystem, prev, &source, &mark, &budget).await,
    }
}

/// Download `all.zip` and replace everything.
async fn full(
    http: &Http,
    def: &FeedDef,
    ecosystem: &str,
    prev: Option<&SourceState>,
    source: &str,
    conditional: bool,
    budget: &Budget,
) -> Result<FeedUpdate, FeedError> {
    let url = join_url(&def.base_url, &[ecosystem, "all.zip"])?;
    let (etag, last_modified) = match prev {
        Some(p) if conditional => (p.etag.as_deref(), p.last_modified.as_deref()),
        _ => (None, None),
    };
    // The archive itself counts: it is held while its entries are read.
    let limit = usize::try_from(budget.remaining())
        .unwrap_or(usize::MAX)
        .min(MAX_ZIP_BYTES);
    let fetched = match http
        .get(&url, &HeaderMap::new(), etag, last_modified, limit)
        .await?
    {
        Conditional::NotModified => return Ok(FeedUpdate::NotModified),
        Conditional::Fetched(f) => f,
    };
    let safe = redact(&url);
    budget.charge(fetched.body.len() as u64, &safe)?;
    let (body, etag, last_modified) = (fetched.body, fetched.etag, fetched.last_modified);
    let (name, src, budget) = (safe.clone(), source.to_string(), budget.clone());
    // Decompressing and parsing is CPU work: keep it off the async worker threads.
    let loaded = tokio::task::spawn_blocking(move || {
        load_zip_reader(
            std::io::Cursor::new(body),
            std::path::Path::new(&name),
            &src,
            &budget,
        )
    })
    .await
    .map_err(|e| FeedError::Invalid {
        path: PathBuf::from(&safe),
        message: format!("reading the archive failed: {e}"),
    })??;
    if loaded.advisories.is_empty() {
        // The real exports are never empty; replacing with nothing would wipe the source.
        return Err(FeedError::Invalid {
            path: PathBuf::from(&safe),
            message: format!(
                "the archive holds no usable OSV record ({} broken); keeping the previous data",
                loaded.errors.len()
            ),
        });
    }
    // Unwrapped, not cloned: a second copy of every record would double the pull's memory.
    let advisories: Vec<Advisory> = loaded
        .advisories
        .into_iter()
        .map(|c| std::sync::Arc::unwrap_or_clone(c.advisory))
        .collect();
    let newest = advisories
        .iter()
        .filter_map(|a| a.modified.parse::<Timestamp>().ok())
        .max();
    let cursor = newest.map(|time| {
        let at_time = advisories
            .iter()
            .filter(|a| a.modified.parse::<Timestamp>().ok() == Some(time))
            .map(|a| a.id.as_str());
        Mark::new(time, at_time).to_cursor()
    });
    let state = SourceState {
        source: source.to_string(),
        cursor,
        etag,
        last_modified,
        ..prev.cloned().unwrap_or_default()
    };
    Ok(FeedUpdate::Replace {
        advisories,
        errors: loaded.errors,
        state,
    })
}

/// Read `modified_id.csv` and fetch what changed since `mark`.
async fn incremental(
    http: &Http,
    def: &FeedDef,
    ecosystem: &str,
    prev: Option<&SourceState>,
    source: &str,
    mark: &Mark,
    budget: &Budget,
) -> Result<FeedUpdate, FeedError> {
    let url = join_url(&def.base_url, &[ecosystem, "modified_id.csv"])?;
    let body = match http
        .get(&url, &HeaderMap::new(), None, None, MAX_CSV_BYTES)
        .await?
    {
        Conditional::Fetched(f) => f.body,
        Conditional::NotModified => return Ok(FeedUpdate::NotModified),
    };
    let safe = redact(&url);
    budget.charge(body.len() as u64, &safe)?;
    let text = String::from_utf8_lossy(&body);
    let scan = scan_csv(&text, ecosystem, mark, MAX_IDS_PER_PULL);
    if scan.overflow {
        // Too much changed to fetch record by record: the archive is cheaper.
        return full(http, def, ecosystem, prev, source, false, budget).await;
    }
    let mut errors: Vec<LoadError> = scan
        .errors
        .into_iter()
        .map(|(line, message)| LoadError {
            source: source.to_string(),
            file: if line > 0 {
                format!("{safe}:{line}")
            } else {
                safe.clone()
            },
            id: None,
            message,
        })
        .collect();
    let new_mark = scan.mark.unwrap_or(*mark);
    let state = SourceState {
        source: source.to_string(),
        cursor: Some(new_mark.to_cursor()),
        ..prev.cloned().unwrap_or_default()
    };
    if scan.new_ids.is_empty() {
        if errors.is_empty() {
            return Ok(FeedUpdate::NotModified);
        }
        // Nothing to fetch, but the broken lines must be reported.
        return Ok(FeedUpdate::Upsert {
            advisories: Vec::new(),
            errors,
            state,
        });
    }
    let files: Vec<String> = scan.new_ids.iter().map(|id| format!("{id}.json")).collect();
    let urls = files
        .iter()
        .map(|f| join_url(&def.base_url, &[ecosystem, f]))
        .collect::<Result<Vec<_>, _>>()?;
    let (advisories, record_errors) =
        get_records(http, &urls, &files, &scan.new_ids, source, budget).await?;
    errors.extend(record_errors);
    Ok(FeedUpdate::Upsert {
        advisories,
        errors,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cut echo says it is cut (it used to stop at 60 characters without a mark).
    #[test]
    fn a_long_bad_id_is_echoed_cut_and_marked() {
        let e = parse_line(
            &format!("2024-01-01T00:00:00Z,{}", "x/".repeat(100)),
            "PyPI",
        )
        .unwrap_err();
        assert!(e.ends_with("…\""), "{e}");
        assert!(e.len() < 100, "{e}");
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const CSV: &str = "2024-08-15T00:05:00Z,PYSEC-2024-3\n\
        2024-08-15T00:05:00.000Z,GHSA-aaaa-bbbb-cccc\n\
        2024-08-14T12:00:00Z,PYSEC-2024-2\n\
        2024-08-14T12:00:00Z,PYSEC-2024-9\n\
        2024-08-01T00:00:00Z,PYSEC-2024-1\n";

    #[test]
    fn lines_parse_and_malformed_lines_are_errors() {
        assert_eq!(
            parse_line("2024-08-15T00:05:00Z,PYSEC-2021-123\r", "PyPI").unwrap(),
            Some((ts("2024-08-15T00:05:00Z"), "PYSEC-2021-123".into()))
        );
        // Top-level CSV form, fractional seconds, an offset.
        assert_eq!(
            parse_line("2024-08-15T02:05:00.5+02:00,PyPI/GHSA-x", "PyPI").unwrap(),
            Some((ts("2024-08-15T00:05:00.5Z"), "GHSA-x".into()))
        );
        assert_eq!(parse_line("  ", "PyPI").unwrap(), None);
        assert!(parse_line("no comma here", "PyPI").is_err());
        assert!(parse_line("yesterday,PYSEC-1", "PyPI").is_err());
        assert!(parse_line("2024-08-15T00:05:00Z,", "PyPI").is_err());
        assert!(parse_line("2024-08-15T00:05:00Z,../../etc/passwd", "PyPI").is_err());
        assert!(parse_line("2024-08-15T00:05:00Z,Go/GO-1", "PyPI").is_err());
        assert!(parse_line("2024-08-15T00:05:00Z,a?b", "PyPI").is_err());
    }

    #[test]
    fn marks_round_trip_and_bad_cursors_are_lost_marks() {
        let m = Mark::new(ts("2024-08-15T00:05:00.25Z"), ["B", "A", "A"]);
        assert_eq!(Mark::parse(&m.to_cursor()), Some(m));
        assert_eq!(m.ids, Some(fingerprint(["A", "B"])));
        let bare = Mark::parse("2024-08-15T00:05:00Z").unwrap();
        assert_eq!(bare.ids, None);
        assert_eq!(Mark::parse("listing-fnv1a:0011"), None);
        assert_eq!(Mark::parse("2024-08-15T00:05:00Z sha:00"), None);
        assert_eq!(Mark::parse("2024-08-15T00:05:00Z ids-fnv1a:zz"), None);
        assert_eq!(Mark::parse(""), None);
    }

    #[test]
    fn scan_stops_at_the_first_older_line() {
        let mark = Mark::new(ts("2024-08-14T12:00:00Z"), ["PYSEC-2024-2", "PYSEC-2024-9"]);
        let s = scan_csv(CSV, "PyPI", &mark, 100);
        assert_eq!(s.new_ids, ["PYSEC-2024-3", "GHSA-aaaa-bbbb-cccc"]);
        assert!(s.errors.is_empty() && !s.overflow);
        // The new mark: the newest time, with both ids at that time (written differently).
        assert_eq!(
            s.mark,
            Some(Mark::new(
                ts("2024-08-15T00:05:00Z"),
                ["GHSA-aaaa-bbbb-cccc", "PYSEC-2024-3"]
            ))
        );
        // Scanning again from the new mark finds nothing.
        let again = scan_csv(CSV, "PyPI", &s.mark.unwrap(), 100);
        assert!(again.new_ids.is_empty());
        assert_eq!(again.mark, s.mark);
    }

    #[test]
    fn equal_times_are_new_unless_the_same_ids_were_seen() {
        // Only one of the two ids at 12:00 was known: both are fetched again.
        let mark = Mark::new(ts("2024-08-14T12:00:00Z"), ["PYSEC-2024-2"]);
        let s = scan_csv(CSV, "PyPI", &mark, 100);
        assert_eq!(
            s.new_ids,
            [
                "PYSEC-2024-3",
                "GHSA-aaaa-bbbb-cccc",
                "PYSEC-2024-2",
                "PYSEC-2024-9"
            ]
        );
        // A mark without a fingerprint (unknown ids) treats equal times as new too.
        let bare = Mark {
            time: ts("2024-08-15T00:05:00Z"),
            ids: None,
        };
        let s = scan_csv(CSV, "PyPI", &bare, 100);
        assert_eq!(s.new_ids, ["PYSEC-2024-3", "GHSA-aaaa-bbbb-cccc"]);
    }

    #[test]
    fn duplicates_malformed_lines_and_overflow() {
        let csv = "2024-09-01T00:00:00Z,PYSEC-2024-3\n\
            garbage\n\
            \n\
            2024-08-20T00:00:00Z,PYSEC-2024-3\n\
            2024-08-20T00:00:00Z,PYSEC-2024-4\n\
            2024-01-01T00:00:00Z,PYSEC-2023-1\n\
            also garbage but after the stop\n";
        let mark = Mark::new(ts("2024-08-15T00:05:00Z"), ["X"]);
        let s = scan_csv(csv, "PyPI", &mark, 100);
        assert_eq!(s.new_ids, ["PYSEC-2024-3", "PYSEC-2024-4"]);
        assert_eq!(s.errors.len(), 1);
        assert_eq!(s.errors[0].0, 2);
        assert_eq!(s.mark.map(|m| m.time), Some(ts("2024-09-01T00:00:00Z")));
        let s = scan_csv(csv, "PyPI", &mark, 1);
        assert!(s.overflow);
        // Nothing at or after the mark: the mark stays.
        let late = Mark::new(ts("2025-01-01T00:00:00Z"), ["Y"]);
        let s = scan_csv(csv, "PyPI", &late, 100);
        assert!(s.new_ids.is_empty());
        assert_eq!(s.mark, Some(late));
    }

    #[test]
    fn many_malformed_lines_are_capped() {
        let csv = "x\n".repeat(MAX_LINE_ERRORS + 50);
        let mark = Mark::new(ts("2024-08-15T00:05:00Z"), ["X"]);
        let s = scan_csv(&csv, "PyPI", &mark, 100);
        assert_eq!(s.errors.len(), MAX_LINE_ERRORS + 1);
        assert!(s.errors[MAX_LINE_ERRORS].1.contains("50 more"));
    }

    #[test]
    fn urls_are_joined_and_encoded() {
        assert_eq!(
            join_url(
                "https://h.example/osv-vulnerabilities/",
                &["PyPI", "all.zip"]
            )
            .unwrap(),
            "https://h.example/osv-vulnerabilities/PyPI/all.zip"
        );
        assert_eq!(
            join_url(
                "http://127.0.0.1:80",
                &["crates.io", "RUSTSEC-2024-0001.json"]
            )
            .unwrap(),
            "http://127.0.0.1/crates.io/RUSTSEC-2024-0001.json"
        );
        assert!(join_url("h.example/x", &["a"]).is_err());
        assert!(join_url("mailto:a@b", &["a"]).is_err());
    }
}
