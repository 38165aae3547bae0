//! The GitHub channel (`publish::github`) against a loopback repository-advisories API
//! (`support::github`): a draft is created once then updated, the token goes only to approved
//! bases, published advisories are never edited, failures are classified.

use crate::support::clients::http_builtin as http;
use crate::support::github::{FakeGithub, REPO_PATH, TOKEN};
use crate::support::loopback::{Reply, Request, Server};
use depwatch::publish::github::{self, GithubTarget};
use depwatch::secret::Secret;
use serde_json::{Value, json};

fn other_draft(n: usize) -> Value {
    json!({"ghsa_id": format!("GHSA-othr-{n:04}-xxxx"), "state": "draft",
           "summary": "someone else's", "description": format!("unrelated {n}")})
}

fn advisory_body(summary: &str, marker: &str) -> Value {
    json!({
        "summary": summary,
        "description": format!("tokio 1.0.0 is affected.\n\n{marker}"),
        "severity": "critical",
        "vulnerabilities": [{"package": {"ecosystem": "rust", "name": "tokio"},
                             "vulnerable_version_range": "< 1.18.4", "patched_versions": "1.18.4"}],
        // A caller's mistake: must never reach GitHub.
        "state": "published"
    })
}

#[tokio::test]
async fn github_draft_is_created_once_then_updated() {
    let gh = FakeGithub::start((0..3).map(other_draft).collect());
    let marker = "<!-- depwatch:fingerprint=abc123 -->";
    let first = github::file_draft(&http(), &gh.target(), &advisory_body("v1", marker), marker)
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.ghsa_id, "GHSA-test-0004-xxxx");
    assert!(first.html_url.as_deref().unwrap().ends_with(&first.ghsa_id));

    // The new draft sits on the second page now: found through the Link header.
    let second = github::file_draft(&http(), &gh.target(), &advisory_body("v2", marker), marker)
        .await
        .unwrap();
    assert!(!second.created);
    assert_eq!(second.ghsa_id, first.ghsa_id);

    let reqs = gh.server.requests();
    let count = |m: &str| reqs.iter().filter(|r| r.method == m).count();
    assert_eq!(count("POST"), 1, "no second draft");
    assert_eq!(count("PATCH"), 1);
    assert_eq!(count("GET"), 4, "two pages per run");
    for r in &reqs {
        assert_eq!(r.header("authorization"), Some(&*format!("Bearer {TOKEN}")));
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
        assert!(
            r.header("user-agent")
                .is_some_and(|u| u.starts_with("depwatch/"))
        );
        if r.method == "GET" {
            assert!(r.target.contains("state=draft"), "{}", r.target);
        } else {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert!(body.get("state").is_none(), "{} sent a state", r.method);
            assert!(!String::from_utf8_lossy(&r.body).contains("published"));
        }
    }
    let store = gh.store.lock().unwrap();
    assert_eq!(store.len(), 4);
    assert_eq!(store[3]["summary"], "v2");
    assert_eq!(store[3]["state"], "draft");
    assert!(store[3]["description"].as_str().unwrap().ends_with(marker));
}

#[tokio::test]
async fn github_token_is_not_sent_to_an_unapproved_base() {
    let gh = FakeGithub::start(vec![]);
    let mut target = gh.target();
    target.allow_token_to_custom_base = false;
    let marker = "<!-- depwatch:fingerprint=abc -->";
    let e = github::file_draft(&http(), &target, &advisory_body("s", marker), marker)
        .await
        .unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
    assert!(!format!("{e} {e:?}").contains(TOKEN));
    assert!(gh.server.requests().is_empty(), "nothing sent at all");
    // The caller derives the flag from $DEPWATCH_GHSA_TOKEN_URL with this pure function.
    assert!(!github::token_allowed(&gh.server.url, None));
    assert!(github::token_allowed(&gh.server.url, Some(&gh.server.url)));
    assert!(github::token_allowed(github::GITHUB_API, None));
}

#[tokio::test]
async fn github_published_advisory_with_the_marker_is_never_edited() {
    let marker = "<!-- depwatch:fingerprint=pub1 -->";
    let published = json!({"ghsa_id": "GHSA-pubd-0001-xxxx", "state": "published",
                           "summary": "old", "description": format!("old {marker}")});
    let gh = FakeGithub::start(vec![published.clone()]);
    let filed = github::file_draft(&http(), &gh.target(), &advisory_body("new", marker), marker)
        .await
        .unwrap();
    assert!(filed.created);
    assert_eq!(gh.store.lock().unwrap()[0], published);
    assert!(gh.server.requests().iter().all(|r| r.method != "PATCH"));
}

#[tokio::test]
async fn github_post_failures_are_classified_and_not_repeated() {
    // A 5xx on POST may have filed the draft: not retried in the call (the next run's listing
    // finds it), but retryable.
    let server = Server::start(|req: &Request| match req.method.as_str() {
        "GET" => Reply::ok("[]"),
        _ => Reply::status(502),
    });
    let target = GithubTarget {
        api_base: server.url.clone(),
        repo: "octo/demo".into(),
        token: Secret::new(TOKEN),
        allow_token_to_custom_base: true,
    };
    let m = "<!-- depwatch:fingerprint=x -->";
    let e = github::file_draft(&http(), &target, &advisory_body("s", m), m)
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        1
    );

    // Validation failure: final, with GitHub's message, without the token.
    let server = Server::start(|req: &Request| match req.method.as_str() {
        "GET" => Reply::ok("[]"),
        _ => Reply::Ok {
            status: 422,
            headers: vec![],
            body: format!(r#"{{"message":"Validation Failed","errors":["bad token {TOKEN}"]}}"#)
                .into_bytes(),
        },
    });
    let target = GithubTarget {
        api_base: server.url.clone(),
        ..target
    };
    let e = github::file_draft(&http(), &target, &advisory_body("s", m), m)
        .await
        .unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("HTTP 422") && text.contains("Validation Failed"),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn github_next_link_to_another_origin_is_not_followed() {
    let elsewhere = Server::start(|_: &Request| Reply::ok("[]"));
    let link = format!("<{}{REPO_PATH}?page=2>; rel=\"next\"", elsewhere.url);
    let server = Server::start(move |_: &Request| Reply::ok("[]").header("Link", &link));
    let target = GithubTarget {
        api_base: server.url.clone(),
        repo: "octo/demo".into(),
        token: Secret::new(TOKEN),
        allow_token_to_custom_base: true,
    };
    let m = "<!-- depwatch:fingerprint=x -->";
    let e = github::file_draft(&http(), &target, &advisory_body("s", m), m)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("another origin"), "{e}");
    assert!(elsewhere.requests().is_empty(), "the token never left");
    assert!(server.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn github_repo_must_be_owner_slash_name() {
    let server = Server::start(|_: &Request| Reply::ok("[]"));
    let target = GithubTarget {
        api_base: server.url.clone(),
        repo: "octo/demo/extra".into(),
        token: Secret::new(TOKEN),
        allow_token_to_custom_base: true,
    };
    let m = "<!-- m -->";
    let e = github::file_draft(&http(), &target, &json!({}), m)
        .await
        .unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("owner/name"), "{e}");
    assert!(server.requests().is_empty());
}
