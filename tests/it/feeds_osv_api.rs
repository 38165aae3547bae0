//! The OSV API client (`feeds::osv_api`, used by `scan --online`) against a loopback API
//! answering from real records (`support::osv_records`): querybatch splitting and paging,
//! broken records, failed fetches.

use crate::support::block_on;
use crate::support::clients::http;
use crate::support::loopback::{Reply, Request, Server, paths};
use crate::support::osv_records::fixture;
use depwatch::ecosystem::Ecosystem;
use depwatch::feeds::osv_api;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

fn ids<'a>(it: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    it.into_iter().cloned().collect()
}

/// The queries of a querybatch request: (name, version, page_token).
fn queries(req: &Request) -> Vec<(String, String, Option<String>)> {
    let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    v["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            assert_eq!(q["package"]["ecosystem"], "PyPI");
            (
                q["package"]["name"].as_str().unwrap().to_string(),
                q["version"].as_str().unwrap().to_string(),
                q["page_token"].as_str().map(String::from),
            )
        })
        .collect()
}

/// An OSV API: `answer` gives each query's result; `/v1/vulns/{id}` serves the fixture (and
/// `extra`).
fn api_server(
    answer: impl Fn(&(String, String, Option<String>)) -> serde_json::Value + Send + Sync + 'static,
    extra: HashMap<String, Vec<u8>>,
) -> Server {
    let fx = fixture();
    Server::start(move |req| {
        if req.method == "POST" && req.path() == "/v1/querybatch" {
            let results: Vec<_> = queries(req).iter().map(&answer).collect();
            if results.iter().all(|r| r == &serde_json::json!({})) {
                return Reply::ok("{}");
            }
            return Reply::ok(serde_json::json!({ "results": results }).to_string());
        }
        if let Some(id) = req.path().strip_prefix("/v1/vulns/") {
            if let Some(b) = extra.get(id) {
                return Reply::ok(b.clone());
            }
            if let Some(r) = fx.records.iter().chain(&fx.later).find(|r| r.id == id) {
                return Reply::ok(r.json.clone());
            }
        }
        Reply::status(404)
    })
}

fn vulns(ids: &[&str]) -> serde_json::Value {
    let v: Vec<_> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "modified": "2024-01-01T00:00:00Z"}))
        .collect();
    serde_json::json!({ "vulns": v })
}

fn pypi(names: &[(String, String)]) -> Vec<(Ecosystem, String, String)> {
    names
        .iter()
        .map(|(n, v)| (Ecosystem::PyPI, n.clone(), v.clone()))
        .collect()
}

#[test]
fn querybatch_over_1000_queries_is_split_in_two_requests() {
    let fx = fixture();
    let (a, b) = (fx.records[3].id.clone(), fx.records[4].id.clone());
    let (a2, b2) = (a.clone(), b.clone());
    let server = api_server(
        move |(name, _, _)| match name.as_str() {
            "pkg-7" => vulns(&[a2.as_str()]),
            "pkg-1200" => vulns(&[b2.as_str(), a2.as_str()]),
            _ => serde_json::json!({}),
        },
        HashMap::new(),
    );
    let mut packages: Vec<(String, String)> = (0..1500)
        .map(|i| (format!("pkg-{i}"), format!("1.0.{i}")))
        .collect();
    // A repeated package is asked once.
    packages.push(("pkg-7".into(), "1.0.7".into()));
    let (advisories, errors) =
        block_on(osv_api::query(&http(), &server.url, &pypi(&packages))).unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(ids(advisories.iter().map(|x| &x.id)), ids([&a, &b]));
    let reqs = server.requests();
    let batches: Vec<_> = reqs
        .iter()
        .filter(|r| r.path() == "/v1/querybatch")
        .collect();
    assert_eq!(batches.len(), 2);
    assert_eq!(queries(batches[0]).len(), 1000);
    assert_eq!(queries(batches[1]).len(), 500);
    assert_eq!(queries(batches[1])[0].0, "pkg-1000");
    assert_eq!(
        queries(batches[0])[7],
        ("pkg-7".into(), "1.0.7".into(), None)
    );
    // Each id fetched once.
    let mut gets: Vec<_> = reqs
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path().to_string())
        .collect();
    gets.sort();
    let mut want = vec![format!("/v1/vulns/{a}"), format!("/v1/vulns/{b}")];
    want.sort();
    assert_eq!(gets, want);
}

#[test]
fn querybatch_next_page_token_is_followed_for_that_query_only() {
    let fx = fixture();
    let [a, b, c] = [0, 1, 2].map(|i| fx.records[i].id.clone());
    let (a2, b2, c2) = (a.clone(), b.clone(), c.clone());
    let server = api_server(
        move |(name, _, token)| match (name.as_str(), token.as_deref()) {
            ("flask", None) => vulns(&[a2.as_str()]),
            ("jinja2", None) => {
                let mut v = vulns(&[b2.as_str()]);
                v["next_page_token"] = "page-2".into();
                v
            }
            ("jinja2", Some("page-2")) => vulns(&[c2.as_str(), b2.as_str()]),
            _ => serde_json::json!({}),
        },
        HashMap::new(),
    );
    let packages = pypi(&[
        ("flask".into(), "0.12".into()),
        ("jinja2".into(), "2.4.1".into()),
        ("requests".into(), "2.0.0".into()),
    ]);
    let (advisories, errors) = block_on(osv_api::query(&http(), &server.url, &packages)).unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
    let got: Vec<_> = advisories.iter().map(|x| x.id.clone()).collect();
    let mut want = vec![a, b, c];
    want.sort();
    assert_eq!(got, want, "sorted by id, each once");
    let batches: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/v1/querybatch")
        .collect();
    assert_eq!(batches.len(), 2);
    assert_eq!(queries(&batches[0]).len(), 3);
    assert_eq!(
        queries(&batches[1]),
        [("jinja2".into(), "2.4.1".into(), Some("page-2".into()))]
    );
}

#[test]
fn querybatch_repeating_the_same_page_token_is_bounded() {
    let server = api_server(
        |_| serde_json::json!({"vulns": [], "next_page_token": "same-token"}),
        HashMap::new(),
    );
    let packages = pypi(&[("flask".into(), "0.12".into())]);
    let start = Instant::now();
    let err = block_on(osv_api::query(&http(), &server.url, &packages)).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(err.to_string().contains("next_page_token"), "{err}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), osv_api::MAX_PAGES);
    assert!(
        reqs[1..]
            .iter()
            .all(|r| queries(r)[0].2.as_deref() == Some("same-token"))
    );
}

#[test]
fn a_broken_api_record_is_skipped_and_reported() {
    let fx = fixture();
    let good = fx.records[5].id.clone();
    let g2 = good.clone();
    let server = api_server(
        move |_| vulns(&[g2.as_str(), "PYSEC-0000-1"]),
        HashMap::from([(
            "PYSEC-0000-1".to_string(),
            b"{\"id\": \"PYSEC-0000-1\", \"affected\": [".to_vec(),
        )]),
    );
    let packages = pypi(&[("flask".into(), "0.12".into())]);
    let (advisories, errors) = block_on(osv_api::query(&http(), &server.url, &packages)).unwrap();
    assert_eq!(advisories.len(), 1);
    assert_eq!(advisories[0].id, good);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].id.as_deref(), Some("PYSEC-0000-1"));
    assert!(
        errors[0].file.ends_with("/v1/vulns/PYSEC-0000-1"),
        "{errors:#?}"
    );
}

#[test]
fn an_empty_answer_fetches_nothing_and_a_failed_fetch_fails_the_query() {
    let server = api_server(|_| serde_json::json!({}), HashMap::new());
    let packages = pypi(&[("flask".into(), "0.12".into())]);
    let (advisories, errors) = block_on(osv_api::query(&http(), &server.url, &packages)).unwrap();
    assert!(advisories.is_empty() && errors.is_empty());
    assert_eq!(paths(&server.requests()), ["/v1/querybatch"]);

    // An id the API lists but cannot serve: the scan must not look clean.
    let server = api_server(|_| vulns(&["PYSEC-0000-404"]), HashMap::new());
    let err = block_on(osv_api::query(&http(), &server.url, &packages)).unwrap_err();
    assert!(
        err.to_string().contains("/v1/vulns/PYSEC-0000-404"),
        "{err}"
    );
}
