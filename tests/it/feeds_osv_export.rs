//! The OSV export client (`feeds::osv_export`) against a loopback server serving real records
//! (`support::osv_records`): `all.zip` first, then `modified_id.csv` updates, retries, bounds.

use crate::support::block_on;
use crate::support::clients::{http, http_with};
use crate::support::files::zip_of;
use crate::support::loopback::{Reply, Request, Server, paths};
use crate::support::osv_records::{csv_line, fixture};
use depwatch::feeds::defs::{FeedDef, FeedKind};
use depwatch::feeds::osv_export::{self, Mark};
use depwatch::feeds::{FeedError, FeedUpdate};
use depwatch::store::SourceState;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ETAG: &str = "\"all-zip-v1\"";
const LAST_MODIFIED: &str = "Mon, 23 Nov 2026 20:00:00 GMT";
const ZIP: &str = "/PyPI/all.zip";
const CSV: &str = "/PyPI/modified_id.csv";

fn def(server: &Server) -> FeedDef {
    FeedDef {
        name: "osv-pypi".into(),
        kind: FeedKind::OsvExport,
        base_url: server.url.clone(),
        ecosystems: vec!["PyPI".into()],
        token_env: None,
        enabled: true,
    }
}

fn pull(server: &Server, prev: Option<&SourceState>) -> Result<FeedUpdate, FeedError> {
    block_on(osv_export::pull(&http(), &def(server), "PyPI", prev))
}

/// An export server: `all.zip` (honouring If-None-Match), `csv`, and the records by id
/// (`records` first, then the fixture's). Anything else is 404.
fn export_server(csv: String, records: HashMap<String, Vec<u8>>) -> Server {
    export_server_with(csv, records, |_| None)
}

/// [`export_server`], with `fault` answering first when it returns a reply.
fn export_server_with(
    csv: String,
    records: HashMap<String, Vec<u8>>,
    fault: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
) -> Server {
    let fx = fixture();
    Server::start(move |req| {
        if let Some(reply) = fault(req) {
            return reply;
        }
        let path = req.path();
        if path == ZIP {
            if req.header("if-none-match") == Some(ETAG) {
                return Reply::status(304);
            }
            return Reply::ok(fx.zip.clone())
                .header("etag", ETAG)
                .header("last-modified", LAST_MODIFIED);
        }
        if path == CSV {
            return Reply::ok(csv.clone());
        }
        if let Some(id) = path
            .strip_prefix("/PyPI/")
            .and_then(|f| f.strip_suffix(".json"))
        {
            if let Some(b) = records.get(id) {
                return Reply::ok(b.clone());
            }
            if let Some(r) = fx.records.iter().chain(&fx.later).find(|r| r.id == id) {
                return Reply::ok(r.json.clone());
            }
        }
        Reply::status(404)
    })
}

fn replaced(u: FeedUpdate) -> (Vec<depwatch::advisory::Advisory>, SourceState) {
    match u {
        FeedUpdate::Replace {
            advisories,
            errors,
            state,
        } => {
            assert!(errors.is_empty(), "{errors:#?}");
            (advisories, state)
        }
        other => panic!("expected Replace, got {other:?}"),
    }
}

fn ids<'a>(it: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    it.into_iter().cloned().collect()
}

#[test]
fn first_sync_downloads_all_zip_and_replaces() {
    let fx = fixture();
    let server = export_server(fx.csv.clone(), HashMap::new());
    let (advisories, state) = replaced(pull(&server, None).unwrap());
    assert_eq!(advisories.len(), fx.records.len());
    assert_eq!(
        ids(advisories.iter().map(|a| &a.id)),
        ids(fx.records.iter().map(|r| &r.id))
    );
    assert_eq!(state.source, "osv-pypi");
    assert_eq!(state.etag.as_deref(), Some(ETAG));
    assert_eq!(state.last_modified.as_deref(), Some(LAST_MODIFIED));
    let mark = Mark::parse(state.cursor.as_deref().unwrap()).unwrap();
    assert_eq!(mark.time, fx.records[0].time, "the newest record's time");
    let reqs = server.requests();
    assert_eq!(paths(&reqs), [ZIP]);
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].header("if-none-match"), None);
}

#[test]
fn second_sync_with_the_same_csv_is_not_modified_in_one_request() {
    let fx = fixture();
    let server = export_server(fx.csv.clone(), HashMap::new());
    let (_, state) = replaced(pull(&server, None).unwrap());
    let before = server.requests().len();
    assert!(matches!(
        pull(&server, Some(&state)).unwrap(),
        FeedUpdate::NotModified
    ));
    assert_eq!(paths(&server.requests()[before..]), [CSV]);
}

#[test]
fn a_new_record_at_the_top_of_the_csv_is_upserted_alone() {
    let fx = fixture();
    let new = &fx.later[1];
    let csv = format!("{}{}", csv_line(new), fx.csv);
    let server = export_server(csv, HashMap::new());
    let (_, state) = replaced(pull(&server, None).unwrap());
    let before = server.requests().len();
    let FeedUpdate::Upsert {
        advisories,
        errors,
        state: next,
    } = pull(&server, Some(&state)).unwrap()
    else {
        panic!("expected Upsert");
    };
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(advisories.len(), 1);
    assert_eq!(advisories[0].id, new.id);
    assert_eq!(advisories[0].modified, new.modified);
    assert_eq!(
        paths(&server.requests()[before..]),
        [CSV.to_string(), format!("/PyPI/{}.json", new.id)]
    );
    let mark = Mark::parse(next.cursor.as_deref().unwrap()).unwrap();
    assert_eq!(mark.time, new.time);
    // The ETag of the last full download is kept.
    assert_eq!(next.etag.as_deref(), Some(ETAG));
    // And from the new mark, the same CSV is not modified.
    let before = server.requests().len();
    assert!(matches!(
        pull(&server, Some(&next)).unwrap(),
        FeedUpdate::NotModified
    ));
    assert_eq!(paths(&server.requests()[before..]), [CSV]);
}

#[test]
fn unchanged_all_zip_is_not_downloaded_again() {
    let server = export_server(String::new(), HashMap::new());
    // No cursor (lost mark), but the validators of the last download.
    let prev = SourceState {
        source: "osv-pypi".into(),
        etag: Some(ETAG.into()),
        last_modified: Some(LAST_MODIFIED.into()),
        ..Default::default()
    };
    assert!(matches!(
        pull(&server, Some(&prev)).unwrap(),
        FeedUpdate::NotModified
    ));
    let reqs = server.requests();
    assert_eq!(paths(&reqs), [ZIP]);
    assert_eq!(reqs[0].header("if-none-match"), Some(ETAG));
    assert_eq!(reqs[0].header("if-modified-since"), Some(LAST_MODIFIED));
}

#[test]
fn a_server_error_is_retried() {
    let fx = fixture();
    let n = AtomicUsize::new(0);
    let server = Server::start(move |_| {
        if n.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(500)
        } else {
            Reply::ok(fx.zip.clone())
        }
    });
    let (advisories, _) = replaced(pull(&server, None).unwrap());
    assert_eq!(advisories.len(), fx.records.len());
    assert_eq!(paths(&server.requests()), [ZIP, ZIP]);
}

#[test]
fn retry_after_is_honoured() {
    let fx = fixture();
    let n = AtomicUsize::new(0);
    let server = Server::start(move |_| {
        if n.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(429).header("retry-after", "1")
        } else {
            Reply::ok(fx.zip.clone())
        }
    });
    let start = Instant::now();
    let (advisories, _) = replaced(pull(&server, None).unwrap());
    let elapsed = start.elapsed();
    assert_eq!(advisories.len(), fx.records.len());
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert_eq!(paths(&server.requests()), [ZIP, ZIP]);
}

#[test]
fn a_truncated_all_zip_is_a_clear_error() {
    let fx = fixture();
    let half = fx.zip[..fx.zip.len() / 2].to_vec();
    let server = Server::start(move |_| Reply::ok(half.clone()));
    let err = pull(&server, None).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, FeedError::Invalid { .. }), "{err:?}");
    assert!(msg.contains(&format!("{}{ZIP}", server.url)), "{msg}");
    assert!(msg.contains("zip"), "{msg}");
    // A complete HTTP response with a broken archive is not retried.
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn an_empty_all_zip_does_not_replace_the_source() {
    let empty = zip_of(&[]);
    let server = Server::start(move |_| Reply::ok(empty.clone()));
    let err = pull(&server, None).unwrap_err();
    assert!(err.to_string().contains("no usable OSV record"), "{err}");
}

#[test]
fn a_malformed_record_in_all_zip_is_reported_and_the_others_returned() {
    let fx = fixture();
    let good = &fx.records[..40];
    let mut entries: Vec<(String, Vec<u8>)> = good
        .iter()
        .map(|r| (format!("{}.json", r.id), r.json.clone()))
        .collect();
    let broken = &fx.later[0].json;
    entries.insert(
        7,
        (
            "BROKEN-1.json".to_string(),
            broken[..broken.len() / 2].to_vec(),
        ),
    );
    let zip = zip_of(&entries);
    let server = Server::start(move |_| Reply::ok(zip.clone()));
    let FeedUpdate::Replace {
        advisories, errors, ..
    } = pull(&server, None).unwrap()
    else {
        panic!("expected Replace");
    };
    assert_eq!(
        ids(advisories.iter().map(|a| &a.id)),
        ids(good.iter().map(|r| &r.id))
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].file.ends_with("all.zip!BROKEN-1.json"),
        "{errors:#?}"
    );
    assert_eq!(errors[0].id.as_deref(), Some(fx.later[0].id.as_str()));
}

#[test]
fn a_malformed_record_or_csv_line_in_an_update_is_reported() {
    let fx = fixture();
    let (good, bad) = (&fx.later[0], &fx.later[1]);
    let csv = format!(
        "{}not a csv line\n{}{}",
        csv_line(good),
        csv_line(bad),
        fx.csv
    );
    let half = bad.json[..bad.json.len() / 2].to_vec();
    let server = export_server(csv, HashMap::from([(bad.id.clone(), half)]));
    let (_, state) = replaced(pull(&server, None).unwrap());
    let before = server.requests().len();
    let FeedUpdate::Upsert {
        advisories,
        errors,
        state: next,
    } = pull(&server, Some(&state)).unwrap()
    else {
        panic!("expected Upsert");
    };
    assert_eq!(advisories.len(), 1);
    assert_eq!(advisories[0].id, good.id);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].file.ends_with("modified_id.csv:2"), "{errors:#?}");
    assert!(errors[1].file.ends_with(&format!("/PyPI/{}.json", bad.id)));
    assert_eq!(errors[1].id.as_deref(), Some(bad.id.as_str()));
    // The fetches succeeded: the mark moves past the broken record.
    assert_eq!(
        Mark::parse(next.cursor.as_deref().unwrap()).unwrap().time,
        good.time
    );
    let mut got = paths(&server.requests()[before..]);
    got[1..].sort();
    let mut want = vec![
        CSV.to_string(),
        format!("/PyPI/{}.json", good.id),
        format!("/PyPI/{}.json", bad.id),
    ];
    want[1..].sort();
    assert_eq!(got, want);
}

#[test]
fn a_stalled_server_fails_within_the_read_timeout() {
    let server = Server::start(|_| Reply::Stall(Duration::from_secs(10)));
    let start = Instant::now();
    let err = block_on(osv_export::pull(
        &http_with(Duration::from_millis(200), Duration::from_secs(3)),
        &def(&server),
        "PyPI",
        None,
    ))
    .unwrap_err();
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let msg = err.to_string();
    assert!(msg.contains(ZIP) && msg.contains("3 attempts"), "{msg}");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn a_reset_mid_body_is_retried_then_fails_if_it_persists() {
    let fx = fixture();
    let n = AtomicUsize::new(0);
    let once = Server::start(move |_| {
        if n.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::ResetMidBody {
                sent: 1000,
                total: fx.zip.len(),
            }
        } else {
            Reply::ok(fx.zip.clone())
        }
    });
    let (advisories, _) = replaced(pull(&once, None).unwrap());
    assert_eq!(advisories.len(), fx.records.len());
    assert_eq!(paths(&once.requests()), [ZIP, ZIP]);

    let always = Server::start(move |_| Reply::ResetMidBody {
        sent: 1000,
        total: fx.zip.len(),
    });
    let err = pull(&always, None).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, FeedError::Http(_)), "{err:?}");
    assert!(msg.contains(ZIP) && msg.contains("3 attempts"), "{msg}");
    assert_eq!(always.requests().len(), 3);
}

#[test]
fn a_failed_record_fetch_fails_the_pull_and_keeps_the_mark() {
    let fx = fixture();
    let (newest, other) = (&fx.later[0], &fx.later[1]);
    let csv = format!("{}{}{}", csv_line(newest), csv_line(other), fx.csv);
    let broken = Arc::new(AtomicBool::new(true));
    let flag = broken.clone();
    let failing = format!("/PyPI/{}.json", newest.id);
    // The newest record answers 503 while `broken` is set.
    let server = export_server_with(csv, HashMap::new(), move |req| {
        (req.path() == failing && flag.load(Ordering::SeqCst)).then(|| Reply::status(503))
    });
    let (_, state) = replaced(pull(&server, None).unwrap());
    let before = server.requests().len();
    let err = pull(&server, Some(&state)).unwrap_err();
    assert!(err.to_string().contains(&newest.id), "{err}");
    let tried = server.requests()[before..]
        .iter()
        .filter(|r| r.path() == format!("/PyPI/{}.json", newest.id))
        .count();
    assert_eq!(tried, 3, "retried, then failed");
    // The caller keeps `state` (no new mark came back): the next pull fetches both again.
    broken.store(false, Ordering::SeqCst);
    let FeedUpdate::Upsert {
        advisories, state, ..
    } = pull(&server, Some(&state)).unwrap()
    else {
        panic!("expected Upsert");
    };
    assert_eq!(
        ids(advisories.iter().map(|a| &a.id)),
        ids([&newest.id, &other.id])
    );
    assert_eq!(
        Mark::parse(state.cursor.as_deref().unwrap()).unwrap().time,
        newest.time
    );
}

#[test]
fn a_lost_mark_downloads_all_zip_again() {
    let fx = fixture();
    let server = export_server(fx.csv.clone(), HashMap::new());
    let prev = SourceState {
        source: "osv-pypi".into(),
        cursor: Some("listing-fnv1a:0123".into()),
        ..Default::default()
    };
    let (advisories, state) = replaced(pull(&server, Some(&prev)).unwrap());
    assert_eq!(advisories.len(), fx.records.len());
    assert!(Mark::parse(state.cursor.as_deref().unwrap()).is_some());
    assert_eq!(paths(&server.requests()), [ZIP]);
}
