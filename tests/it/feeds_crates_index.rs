//! The crates.io sparse index client (`feeds::crates_index`, run by `sync`) against a loopback
//! index: yanked flags fetched, cached in the store and revalidated with ETags.

use crate::support::clients::http;
use crate::support::loopback::{Reply, Request, Server};
use depwatch::store::{AdvisoryStore, Store};
use serde_json::json;

fn line(name: &str, vers: &str, yanked: bool) -> String {
    json!({"name": name, "vers": vers, "deps": [], "cksum": "00", "features": {}, "yanked": yanked})
        .to_string()
}

#[tokio::test]
async fn yanked_flags_are_fetched_cached_and_revalidated() {
    let server = Server::start(|req| {
        let (body, etag) = match req.path() {
            "/se/rd/serde" => (
                [
                    line("serde", "1.0.0", false),
                    line("serde", "1.0.1", true),
                    line("serde", "1.0.2", false),
                ]
                .join("\n"),
                Some("\"serde-v1\""),
            ),
            "/3/s/syn" => (
                [line("syn", "2.0.0", false), line("syn", "2.0.1", false)].join("\n"),
                Some("\"syn-v1\""),
            ),
            "/2/cc" => (line("cc", "1.0.0", true), None),
            _ => return Reply::status(404),
        };
        match etag {
            Some(e) if req.header("if-none-match") == Some(e) => Reply::status(304),
            Some(e) => Reply::ok(body).header("etag", e),
            None => Reply::ok(body),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("store.sqlite3")).unwrap();
    let names: Vec<String> = ["serde", "syn", "cc", "not-on-crates-io", "serde", "../etc"]
        .iter()
        .map(|s| s.to_string())
        .collect();

    let r = depwatch::sync::refresh_crate_index(&http(), &server.url, &mut store, &names)
        .await
        .unwrap();
    assert_eq!(r.fetched, 3, "{r:?}");
    assert_eq!(r.not_found, 1);
    assert_eq!(r.not_modified, 0);
    assert_eq!(r.failed.len(), 1);
    assert_eq!(r.failed[0].0, "../etc");
    assert_eq!(
        store.yanked_versions("serde").unwrap(),
        Some(vec!["1.0.1".to_string()])
    );
    assert_eq!(store.yanked_versions("syn").unwrap(), Some(vec![]));
    assert_eq!(
        store.yanked_versions("cc").unwrap(),
        Some(vec!["1.0.0".to_string()])
    );
    assert_eq!(
        store.yanked_versions("not-on-crates-io").unwrap(),
        Some(vec![])
    );
    assert_eq!(store.yanked_versions("never-asked").unwrap(), None);
    let mut paths: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "/2/cc",
            "/3/s/syn",
            "/no/t-/not-on-crates-io",
            "/se/rd/serde"
        ]
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("if-none-match").is_none())
    );

    // Second refresh: the stored ETags are sent and the 304s keep the cache.
    let r = depwatch::sync::refresh_crate_index(&http(), &server.url, &mut store, &names)
        .await
        .unwrap();
    assert_eq!(r.not_modified, 2, "{r:?}");
    assert_eq!(r.fetched, 1);
    assert_eq!(r.not_found, 1);
    let second: Vec<Request> = server.requests().into_iter().skip(4).collect();
    assert_eq!(second.len(), 4);
    let serde = second.iter().find(|r| r.path() == "/se/rd/serde").unwrap();
    assert_eq!(serde.header("if-none-match"), Some("\"serde-v1\""));
    let syn = second.iter().find(|r| r.path() == "/3/s/syn").unwrap();
    assert_eq!(syn.header("if-none-match"), Some("\"syn-v1\""));
    assert_eq!(
        store.yanked_versions("serde").unwrap(),
        Some(vec!["1.0.1".to_string()])
    );
}
