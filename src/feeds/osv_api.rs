//! The OSV.dev API, for scans without a synced store: `POST /v1/querybatch` (at most 1,000
//! queries per request, ids and `modified` only, per-result `next_page_token`), then
//! `GET /v1/vulns/{id}` for each id found, a few at a time.
//!
//! Everything is bounded: queries per request, rounds of pages, response sizes, ids per query.
//! A record that cannot be read is skipped and reported; an HTTP failure fails the query (a
//! scan must not look clean because the feed was down).

use super::FeedError;
use super::osv_export::{get_records, join_url, valid_id};
use crate::advisory::Advisory;
use crate::ecosystem::Ecosystem;
use crate::feeds::LoadError;
use crate::net::{Http, redact};
use serde::Deserialize;
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

/// Source name in load errors (the built-in feed's name).
pub const SOURCE: &str = "osv-api";
/// Queries per `querybatch` request (the API's limit).
pub const MAX_QUERIES_PER_BATCH: usize = 1000;
/// Rounds of `querybatch` requests (the first page included) before giving up on a feed that
/// keeps sending `next_page_token`.
pub const MAX_PAGES: usize = 100;
/// Largest `querybatch` answer (the API's own cap on HTTP/1.1).
pub const MAX_BATCH_BYTES: usize = 32 * 1024 * 1024;
/// Largest single record (the OSV export's limit: both fetch records the same way).
pub const MAX_RECORD_BYTES: usize = super::osv_export::MAX_RECORD_BYTES;
/// Most distinct ids fetched for one query.
pub const MAX_IDS: usize = 50_000;
/// Record requests in flight at once (the OSV export's).
pub const CONCURRENCY: usize = super::osv_export::CONCURRENCY;

/// `{"results": [...]}`; empty fields may be absent or null (`{}` is a valid answer).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BatchResponse {
    results: Option<Vec<Option<BatchResult>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BatchResult {
    vulns: Option<Vec<VulnRef>>,
    next_page_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct VulnRef {
    id: String,
}

/// The `osv-api` feed kind, in [`super::registry::REMOTE`]: read by `scan --online`.
pub static OSV_API: super::registry::OnDemand =
    super::registry::OnDemand(super::defs::FeedKind::OsvApi);

/// Ask the OSV API which advisories affect `packages` (ecosystem, name, version) and fetch
/// them. Returns the records (sorted by id, each once) and the records that could not be read.
pub async fn query<N: AsRef<str>, V: AsRef<str>>(
    http: &Http,
    base_url: &str,
    packages: &[(Ecosystem, N, V)],
) -> Result<(Vec<Advisory>, Vec<LoadError>), FeedError> {
    let batch_url = join_url(base_url, &["v1", "querybatch"])?;
    let safe = redact(&batch_url);
    let invalid = |message: String| FeedError::Invalid {
        path: PathBuf::from(&safe),
        message,
    };
    // The same package and version asked twice is one query.
    let mut seen = HashSet::new();
    let queries: Vec<(Ecosystem, &str, &str)> = packages
        .iter()
        .map(|(e, n, v)| (*e, n.as_ref(), v.as_ref()))
        .filter(|q| seen.insert(*q))
        .collect();
    let mut errors = Vec::new();
    let mut ids = BTreeSet::new();
    let budget = super::budget::Budget::new(http.settings().max_feed_bytes);
    // (index in `queries`, page token): the queries still to send.
    let mut pending: Vec<(usize, Option<String>)> = (0..queries.len()).map(|i| (i, None)).collect();
    let mut rounds = 0;
    while !pending.is_empty() {
        if rounds == MAX_PAGES {
            return Err(invalid(format!(
                "{} queries still had a next_page_token after {MAX_PAGES} pages; giving up",
                pending.len()
            )));
        }
        rounds += 1;
        let mut next = Vec::new();
        for chunk in pending.chunks(MAX_QUERIES_PER_BATCH) {
            let body = batch_body(&queries, chunk);
            let fetched = http.post_json(&batch_url, &body, MAX_BATCH_BYTES).await?;
            budget.charge(fetched.body.len() as u64, &safe)?;
            let answer: BatchResponse = serde_json::from_slice(&fetched.body)
                .map_err(|e| invalid(format!("not a querybatch answer: {e}")))?;
            let results = answer.results.unwrap_or_default();
            // Results come in input order; an empty list means no vulnerability at all.
            if !results.is_empty() && results.len() != chunk.len() {
                return Err(invalid(format!(
                    "{} results for {} queries",
                    results.len(),
                    chunk.len()
                )));
            }
            for (result, (i, _)) in results.into_iter().zip(chunk) {
                let Some(result) = result else { continue };
                for v in result.vulns.unwrap_or_default() {
                    if valid_id(&v.id) {
                        ids.insert(v.id);
                    } else {
                        errors.push(LoadError {
                            source: SOURCE.to_string(),
                            file: safe.clone(),
                            id: None,
                            message: format!(
                                "invalid id {:?} in a querybatch answer",
                                v.id.chars().take(60).collect::<String>()
                            ),
                        });
                    }
                }
                if ids.len() > MAX_IDS {
                    return Err(invalid(format!("more than {MAX_IDS} advisories")));
                }
                if let Some(token) = result.next_page_token.filter(|t| !t.is_empty()) {
                    next.push((*i, Some(token)));
                }
            }
        }
        pending = next;
    }
    let urls = ids
        .iter()
        .map(|id| join_url(base_url, &["v1", "vulns", id]))
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<String> = ids.into_iter().collect();
    let files: Vec<String> = ids.iter().map(|id| format!("{id}.json")).collect();
    let (advisories, record_errors) =
        get_records(http, &urls, &files, &ids, SOURCE, &budget).await?;
    errors.extend(record_errors);
    Ok((advisories, errors))
}

/// `{"queries": [{"package": {"name", "ecosystem"}, "version"?, "page_token"?}]}`. An empty
/// version is left out: the API then answers every advisory of the package (what a range
/// requirement needs).
fn batch_body(
    queries: &[(Ecosystem, &str, &str)],
    chunk: &[(usize, Option<String>)],
) -> serde_json::Value {
    let items: Vec<serde_json::Value> = chunk
        .iter()
        .filter_map(|(i, token)| {
            let (eco, name, version) = queries.get(*i)?;
            let mut q = serde_json::json!({
                "package": {"name": name, "ecosystem": eco.as_osv()},
            });
            if let (false, Some(obj)) = (version.is_empty(), q.as_object_mut()) {
                obj.insert(
                    "version".into(),
                    serde_json::Value::String(version.to_string()),
                );
            }
            if let (Some(t), Some(obj)) = (token, q.as_object_mut()) {
                obj.insert("page_token".into(), serde_json::Value::String(t.clone()));
            }
            Some(q)
        })
        .collect();
    serde_json::json!({ "queries": items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_body_shape() {
        let queries = [
            (Ecosystem::PyPI, "jinja2", "2.4.1"),
            (Ecosystem::CratesIo, "time", "0.1.0"),
        ];
        let body = batch_body(&queries, &[(0, None), (1, Some("tok".into()))]);
        assert_eq!(
            body,
            serde_json::json!({"queries": [
                {"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "2.4.1"},
                {"package": {"name": "time", "ecosystem": "crates.io"}, "version": "0.1.0", "page_token": "tok"},
            ]})
        );
    }

    #[test]
    fn empty_and_null_answers_parse() {
        for text in [
            "{}",
            r#"{"results": []}"#,
            r#"{"results": [{}, null, {"vulns": null, "next_page_token": null}]}"#,
        ] {
            let a: BatchResponse = serde_json::from_str(text).unwrap();
            let ids: usize = a
                .results
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .map(|r| r.vulns.unwrap_or_default().len())
                .sum();
            assert_eq!(ids, 0, "{text}");
        }
    }
}
