//! The Slack channel (`publish::slack`) against a loopback webhook receiver: Block Kit bodies,
//! retries, `Retry-After`, and errors that never show the webhook's secret path.

use crate::support::clients::http_builtin as http;
use crate::support::loopback::{Reply, Request, Server};
use crate::support::smtp::free_port;
use depwatch::publish::slack;
use depwatch::secret::Secret;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const HOOK_SECRET: &str = "XyZsecretWebhookToken123";

fn webhook(server: &Server) -> Secret {
    Secret::new(format!(
        "{}/services/T0DEPW/B0DEPW/{HOOK_SECRET}",
        server.url
    ))
}

/// A body shaped like the run message: Block Kit blocks plus the fallback text.
fn slack_body() -> Value {
    json!({
        "text": "depwatch: 1 new finding in demo (critical: RUSTSEC-2023-0001 in tokio 1.0.0)",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "depwatch: demo"}},
            {"type": "section", "text": {"type": "mrkdwn",
                "text": "*New* critical RUSTSEC-2023-0001 in `tokio 1.0.0` — upgrade to 1.18.4"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "run 2024-05-01 10:00 UTC"}]}
        ]
    })
}

/// What Slack checks before it answers `ok`: a fallback text and well-formed blocks.
fn block_kit_problem(body: &[u8]) -> Option<String> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Some(format!("not JSON: {e}")),
    };
    if v.get("text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        return Some("no fallback text".into());
    }
    let Some(blocks) = v.get("blocks").and_then(Value::as_array) else {
        return Some("no blocks array".into());
    };
    if blocks.is_empty() || blocks.len() > 50 {
        return Some(format!("{} blocks", blocks.len()));
    }
    for (i, b) in blocks.iter().enumerate() {
        if !b.get("type").is_some_and(Value::is_string) {
            return Some(format!("block {i} has no type"));
        }
    }
    None
}

#[tokio::test]
async fn slack_block_kit_body_arrives_intact() {
    let server = Server::start(|req: &Request| match block_kit_problem(&req.body) {
        None => Reply::ok("ok"),
        Some(p) => Reply::Ok {
            status: 400,
            headers: vec![],
            body: format!("invalid_blocks: {p}").into_bytes(),
        },
    });
    slack::post(&http(), &webhook(&server), &slack_body())
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(
        reqs[0].path(),
        format!("/services/T0DEPW/B0DEPW/{HOOK_SECRET}")
    );
    assert!(
        reqs[0]
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let got: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(got, slack_body());
}

#[tokio::test]
async fn slack_500_then_200_is_sent_once_more_and_succeeds() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = Server::start(move |_: &Request| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(500)
        } else {
            Reply::ok("ok")
        }
    });
    slack::post(&http(), &webhook(&server), &slack_body())
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "one failure, one delivery");
    assert_eq!(reqs[0].body, reqs[1].body, "the retry sends the same bytes");
}

#[tokio::test]
async fn slack_429_retry_after_is_honoured() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = Server::start(move |_: &Request| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(429).header("Retry-After", "1")
        } else {
            Reply::ok("ok")
        }
    });
    let start = Instant::now();
    slack::post(&http(), &webhook(&server), &slack_body())
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        start.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn slack_long_retry_after_ends_the_call_retryable() {
    let server = Server::start(|_: &Request| Reply::status(429).header("Retry-After", "3600"));
    let start = Instant::now();
    let e = slack::post(&http(), &webhook(&server), &slack_body())
        .await
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "no hour-long wait"
    );
    assert!(e.is_retryable(), "{e}");
    assert_eq!(server.requests().len(), 1);
    assert!(!e.to_string().contains(HOOK_SECRET), "{e}");
}

#[tokio::test]
async fn slack_400_is_final_and_never_shows_the_webhook_path() {
    // The body echoes the path, as a misbehaving proxy might: it must be scrubbed.
    let server = Server::start(|req: &Request| Reply::Ok {
        status: 400,
        headers: vec![],
        body: format!("invalid_payload for {}", req.target).into_bytes(),
    });
    let e = slack::post(&http(), &webhook(&server), &json!({"text": ""}))
        .await
        .unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert_eq!(server.requests().len(), 1, "a 4xx is not retried");
    let text = e.to_string();
    let debug = format!("{e:?}");
    assert!(
        text.contains("HTTP 400") && text.contains("invalid_payload"),
        "{text}"
    );
    assert!(text.contains("127.0.0.1"), "names the host: {text}");
    for shown in [&text, &debug] {
        assert!(!shown.contains(HOOK_SECRET), "{shown}");
        assert!(!shown.contains("/services/"), "{shown}");
    }
}

#[tokio::test]
async fn slack_persistent_5xx_and_refused_connections_are_retryable() {
    let server = Server::start(|_: &Request| Reply::status(503));
    let e = slack::post(&http(), &webhook(&server), &slack_body())
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(server.requests().len(), 4, "bounded retries");
    assert!(!e.to_string().contains(HOOK_SECRET), "{e}");

    let port = free_port();
    let hook = Secret::new(format!(
        "http://127.0.0.1:{port}/services/T/B/{HOOK_SECRET}"
    ));
    let e = slack::post(&http(), &hook, &slack_body())
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(!format!("{e} {e:?}").contains(HOOK_SECRET), "{e}");
}
