//! The GitHub advisories REST client (`feeds::ghsa`) against a loopback server: paging, rate
//! limits, token handling, cursors.

use crate::support::clients::http;
use crate::support::loopback::{Reply, Request, Server};
use depwatch::feeds::FeedUpdate;
use depwatch::feeds::defs::{FeedDef, FeedKind};
use depwatch::feeds::ghsa;
use depwatch::store::SourceState;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn def(url: &str, ecosystems: &[&str], token_env: Option<&str>) -> FeedDef {
    FeedDef {
        name: "ghsa".into(),
        kind: FeedKind::Ghsa,
        base_url: url.to_string(),
        ecosystems: ecosystems.iter().map(|s| s.to_string()).collect(),
        token_env: token_env.map(String::from),
        enabled: true,
    }
}

/// A REST `global-advisory` for one package.
fn record(
    id: &str,
    updated: &str,
    eco: &str,
    name: &str,
    range: &str,
    patched: Option<&str>,
) -> Value {
    json!({
        "ghsa_id": id,
        "cve_id": null,
        "url": format!("https://api.github.com/advisories/{id}"),
        "html_url": format!("https://github.com/advisories/{id}"),
        "repository_advisory_url": null,
        "summary": format!("summary of {id}"),
        "description": "details",
        "type": "reviewed",
        "severity": "high",
        "source_code_location": "",
        "identifiers": [{"type": "GHSA", "value": id}],
        "references": [],
        "published_at": "2024-01-01T00:00:00Z",
        "updated_at": updated,
        "github_reviewed_at": null,
        "nvd_published_at": null,
        "withdrawn_at": null,
        "vulnerabilities": [{
            "package": {"ecosystem": eco, "name": name},
            "vulnerable_version_range": range,
            "first_patched_version": patched,
            "vulnerable_functions": []
        }],
        "cvss": null,
        "cvss_severities": {"cvss_v3": null, "cvss_v4": {"vector_string": null, "score": 0}},
        "cwes": [],
        "credits": []
    })
}

fn page(records: &[Value]) -> Vec<u8> {
    serde_json::to_vec(records).unwrap()
}

fn host(req: &Request) -> String {
    format!("http://{}", req.header("host").unwrap_or("127.0.0.1"))
}

/// The decoded query pairs of a request target.
fn query(req: &Request) -> Vec<(String, String)> {
    let url = reqwest::Url::parse(&format!("http://x{}", req.target)).unwrap();
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(req: &Request, key: &str) -> Option<String> {
    query(req)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn upsert(
    u: FeedUpdate,
) -> (
    Vec<depwatch::advisory::Advisory>,
    Vec<depwatch::report::LoadError>,
    SourceState,
) {
    match u {
        FeedUpdate::Upsert {
            advisories,
            errors,
            state,
        } => (advisories, errors, state),
        other => panic!("expected Upsert, got {other:?}"),
    }
}

const NEXT: &str = "/advisories?per_page=100&after=Y3Vyc29yOnYyOpK5%2BAAA&ecosystem=pip";

#[tokio::test]
async fn two_pages_follow_the_link_header_exactly() {
    let server = Server::start(|req| {
        if req.target == NEXT {
            Reply::ok(page(&[record(
                "GHSA-2222-2222-2222",
                "2024-03-01T00:00:00Z",
                "pip",
                "requests",
                "< 2.32.0",
                Some("2.32.0"),
            )]))
        } else {
            let next = format!("{}{NEXT}", host(req));
            Reply::ok(page(&[
                record(
                    "GHSA-1111-1111-1111",
                    "2024-01-01T00:00:00Z",
                    "pip",
                    "Flask",
                    ">= 2.0, < 2.2.5",
                    Some("2.2.5"),
                ),
                record(
                    "GHSA-1111-1111-2222",
                    "2024-02-01T00:00:00Z",
                    "pip",
                    "jinja2",
                    "<= 3.1.2",
                    Some("3.1.3"),
                ),
            ]))
            .header(
                "link",
                &format!("<{next}>; rel=\"next\", <{next}>; rel=\"last\""),
            )
        }
    });
    let (advisories, errors, state) = upsert(
        ghsa::pull(&http(), &def(&server.url, &["PyPI"], None), None)
            .await
            .unwrap(),
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    // First request: the documented query, no `updated` filter on a first sync.
    let first = &reqs[0];
    assert_eq!(first.path(), "/advisories");
    assert_eq!(param(first, "type").as_deref(), Some("reviewed"));
    assert_eq!(param(first, "ecosystem").as_deref(), Some("pip"));
    assert_eq!(param(first, "per_page").as_deref(), Some("100"));
    assert_eq!(param(first, "sort").as_deref(), Some("updated"));
    assert_eq!(param(first, "direction").as_deref(), Some("asc"));
    assert_eq!(param(first, "updated"), None);
    assert_eq!(first.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(first.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(first.header("authorization"), None);
    // Second request: the next URL, byte for byte.
    assert_eq!(reqs[1].target, NEXT);
    assert!(errors.is_empty(), "{errors:?}");
    let ids: Vec<_> = advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "GHSA-1111-1111-1111",
            "GHSA-1111-1111-2222",
            "GHSA-2222-2222-2222"
        ]
    );
    assert_eq!(advisories[0].affected[0].package.ecosystem, "PyPI");
    assert_eq!(state.source, "ghsa");
    assert_eq!(state.cursor.as_deref(), Some("2024-03-01T00:00:00Z"));
}

#[tokio::test]
async fn incremental_pull_sends_the_cursor_for_each_ecosystem() {
    let server = Server::start(|req| {
        let eco = param(req, "ecosystem").unwrap_or_default();
        let (name, updated) = if eco == "rust" {
            ("tokio", "2024-06-03T00:00:00Z")
        } else {
            ("django", "2024-06-02T00:00:00Z")
        };
        Reply::ok(page(&[
            record(
                &format!("GHSA-{eco}-0000-0000"),
                updated,
                &eco,
                name,
                ">= 1.0, < 1.5",
                None,
            ),
            // An advisory covering both ecosystems comes back in both queries: kept once.
            record(
                "GHSA-both-both-both",
                "2024-06-01T00:00:00Z",
                &eco,
                name,
                "< 1.0",
                None,
            ),
        ]))
    });
    let prev = SourceState {
        source: "ghsa".into(),
        cursor: Some("2024-05-31T12:00:00Z".into()),
        ..Default::default()
    };
    let (advisories, errors, state) = upsert(
        ghsa::pull(
            &http(),
            &def(&server.url, &["PyPI", "crates.io"], None),
            Some(&prev),
        )
        .await
        .unwrap(),
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let ecos: Vec<_> = reqs
        .iter()
        .map(|r| param(r, "ecosystem").unwrap())
        .collect();
    assert_eq!(ecos, vec!["pip", "rust"]);
    for r in &reqs {
        assert_eq!(
            param(r, "updated").as_deref(),
            Some(">=2024-05-31T12:00:00Z")
        );
    }
    assert!(errors.is_empty());
    assert_eq!(advisories.len(), 3);
    assert_eq!(state.cursor.as_deref(), Some("2024-06-03T00:00:00Z"));

    // Nothing updated since the cursor: NotModified.
    let empty = Server::start(|_| Reply::ok("[]"));
    let u = ghsa::pull(
        &http(),
        &def(&empty.url, &["PyPI", "crates.io"], None),
        Some(&prev),
    )
    .await
    .unwrap();
    assert!(matches!(u, FeedUpdate::NotModified), "{u:?}");
}

#[tokio::test]
async fn a_broken_record_is_a_load_error_and_the_others_are_kept() {
    let server = Server::start(|_| {
        Reply::ok(page(&[
            record(
                "GHSA-good-0000-0001",
                "2024-01-01T00:00:00Z",
                "rust",
                "hyper",
                "< 0.14.10",
                Some("0.14.10"),
            ),
            record(
                "GHSA-bad0-0000-0002",
                "2024-01-02T00:00:00Z",
                "rust",
                "h2",
                ">= 1.0 <= 2.0",
                None,
            ),
            json!("not an object"),
            record(
                "GHSA-good-0000-0003",
                "2024-01-03T00:00:00Z",
                "rust",
                "time",
                "= 0.1.0",
                None,
            ),
        ]))
    });
    let (advisories, errors, state) = upsert(
        ghsa::pull(&http(), &def(&server.url, &["crates.io"], None), None)
            .await
            .unwrap(),
    );
    assert_eq!(advisories.len(), 2);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.id.as_deref() == Some("GHSA-bad0-0000-0002") && e.message.contains("h2"))
    );
    assert_eq!(state.cursor.as_deref(), Some("2024-01-03T00:00:00Z"));
}

#[tokio::test]
async fn rate_limit_403_waits_for_the_reset() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = Server::start(move |_| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            Reply::status(403)
                .header("x-ratelimit-limit", "60")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-used", "60")
                .header("x-ratelimit-reset", &(now + 1).to_string())
        } else {
            Reply::ok(page(&[record(
                "GHSA-rate-0000-0001",
                "2024-01-01T00:00:00Z",
                "pip",
                "x",
                "< 1",
                None,
            )]))
        }
    });
    let start = Instant::now();
    let (advisories, _, _) = upsert(
        ghsa::pull(&http(), &def(&server.url, &["PyPI"], None), None)
            .await
            .unwrap(),
    );
    assert_eq!(advisories.len(), 1);
    assert_eq!(server.requests().len(), 2);
    assert!(start.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = Server::start(move |_| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(429).header("retry-after", "1")
        } else {
            Reply::ok(page(&[record(
                "GHSA-rate-0000-0002",
                "2024-01-01T00:00:00Z",
                "pip",
                "x",
                "< 1",
                None,
            )]))
        }
    });
    let start = Instant::now();
    let (advisories, _, _) = upsert(
        ghsa::pull(&http(), &def(&server.url, &["PyPI"], None), None)
            .await
            .unwrap(),
    );
    assert_eq!(advisories.len(), 1);
    assert_eq!(server.requests().len(), 2);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    assert!(waited < Duration::from_secs(4), "{waited:?}");
}

#[tokio::test]
async fn a_page_repeating_forever_stops_with_an_error() {
    // The same next URL every time (a different body on each request, so it is the URL
    // that gives the loop away).
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let same = Server::start(move |req| {
        let i = c.fetch_add(1, Ordering::SeqCst);
        Reply::ok(page(&[record(
            "GHSA-loop-0000-0001",
            &format!("2024-01-0{}T00:00:00Z", i % 9 + 1),
            "pip",
            "x",
            "< 1",
            None,
        )]))
        .header(
            "link",
            &format!("<{}/advisories?after=same>; rel=\"next\"", host(req)),
        )
    });
    let err = ghsa::pull(&http(), &def(&same.url, &["PyPI"], None), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("again"), "{err}");
    assert!(same.requests().len() <= 3);

    // A new cursor every time, but the same page.
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let moving = Server::start(move |req| {
        let i = n2.fetch_add(1, Ordering::SeqCst);
        Reply::ok(page(&[record(
            "GHSA-loop-0000-0002",
            "2024-01-01T00:00:00Z",
            "pip",
            "x",
            "< 1",
            None,
        )]))
        .header(
            "link",
            &format!("<{}/advisories?after=c{i}>; rel=\"next\"", host(req)),
        )
    });
    let err = ghsa::pull(&http(), &def(&moving.url, &["PyPI"], None), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("repeats"), "{err}");
    assert!(moving.requests().len() <= 3);
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused() {
    let server = Server::start(|_| {
        Reply::ok(page(&[record(
            "GHSA-away-0000-0001",
            "2024-01-01T00:00:00Z",
            "pip",
            "x",
            "< 1",
            None,
        )]))
        .header(
            "link",
            "<http://127.0.0.2:9/advisories?after=x>; rel=\"next\"",
        )
    });
    let err = ghsa::pull(&http(), &def(&server.url, &["PyPI"], None), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another origin"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

const TOKEN_ENV: &str = "DEPWATCH_IT_GHSA_TOKEN";

/// Runs [`token_child`] in a child process with the token set in its environment from the
/// start (setting variables in this multi-threaded test process would be unsound).
#[test]
fn token_is_sent_and_never_shown() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "feeds_ghsa::token_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(TOKEN_ENV, "ghp_depwatchTestSecret0123456789")
        // The token is only sent to a non-GitHub URL the operator names.
        .env("DEPWATCH_GHSA_TOKEN_URL", "*")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(!stdout.contains("ghp_depwatchTestSecret"));
    assert!(!stderr.contains("ghp_depwatchTestSecret"));
}

#[tokio::test]
#[ignore = "run by token_is_sent_and_never_shown with the token in its environment"]
async fn token_child() {
    let Ok(token) = std::env::var(TOKEN_ENV) else {
        return;
    };
    let def = def("", &["PyPI"], Some(TOKEN_ENV));

    // Sent as a bearer token.
    let ok = Server::start(|_| {
        Reply::ok(page(&[record(
            "GHSA-auth-0000-0001",
            "2024-01-01T00:00:00Z",
            "pip",
            "x",
            "< 1",
            None,
        )]))
    });
    let d = FeedDef {
        base_url: ok.url.clone(),
        ..def.clone()
    };
    upsert(ghsa::pull(&http(), &d, None).await.unwrap());
    let expected = format!("Bearer {token}");
    assert_eq!(
        ok.requests()[0].header("authorization"),
        Some(expected.as_str())
    );

    // A refused request: the error names the URL, never the token.
    let refused = Server::start(|_| Reply::status(401));
    let d = FeedDef {
        base_url: refused.url.clone(),
        ..def.clone()
    };
    let err = ghsa::pull(&http(), &d, None).await.unwrap_err();
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(text.contains("401"), "{text}");
        assert!(!text.contains(&token), "token leaked: {text}");
    }

    // A failing second page whose next link even carries the token in its query string.
    let secret = token.clone();
    let failing = Server::start(move |req| {
        if req.target.contains("after=") {
            Reply::status(503)
        } else {
            Reply::ok(page(&[record(
                "GHSA-auth-0000-0002",
                "2024-01-01T00:00:00Z",
                "pip",
                "x",
                "< 1",
                None,
            )]))
            .header(
                "link",
                &format!(
                    "<{}/advisories?after=p2&access_token={secret}>; rel=\"next\"",
                    host(req)
                ),
            )
        }
    });
    let d = FeedDef {
        base_url: failing.url.clone(),
        ..def.clone()
    };
    let err = ghsa::pull(&http(), &d, None).await.unwrap_err();
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(text.contains("503"), "{text}");
        assert!(!text.contains(&token), "token leaked: {text}");
    }
    // Every attempt carried the header.
    assert!(
        failing
            .requests()
            .iter()
            .all(|r| r.header("authorization") == Some(expected.as_str()))
    );
}
