//! The one HTTP client (`net`) on its own against a loopback server: rate limits, errors
//! without query strings.

use crate::support::clients::http_with;
use crate::support::loopback::{Reply, Server};
use depwatch::feeds::http::{Conditional, Http};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Waits of at most 200 ms: the rate-limit wait below is the longest one allowed.
fn short_waits() -> Http {
    http_with(Duration::from_millis(500), Duration::from_millis(200))
}

#[test]
fn secondary_rate_limit_403_is_waited_out_and_retried() {
    let n = AtomicUsize::new(0);
    let srv = Server::start(move |_| {
        if n.fetch_add(1, Ordering::SeqCst) == 0 {
            let mut r = Reply::ok("{\"message\": \"You have exceeded a secondary rate limit.\"}");
            if let Reply::Ok { status, .. } = &mut r {
                *status = 403;
            }
            r
        } else {
            Reply::ok("[]")
        }
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t0 = std::time::Instant::now();
    let got = rt
        .block_on(short_waits().get(
            &format!("{}/advisories", srv.url),
            &Default::default(),
            None,
            None,
            1 << 20,
        ))
        .unwrap();
    assert!(matches!(got, Conditional::Fetched(f) if f.body == b"[]"));
    assert!(
        t0.elapsed() >= Duration::from_millis(190),
        "waited {:?}",
        t0.elapsed()
    );
    assert_eq!(srv.requests().len(), 2);
}

#[test]
fn a_plain_403_is_an_error_without_retry() {
    let srv = Server::start(|_| Reply::status(403));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(short_waits().get(
            &format!("{}/x?token=secret", srv.url),
            &Default::default(),
            None,
            None,
            1 << 20,
        ))
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("403"), "{text}");
    assert!(
        !text.contains("secret"),
        "the query string never appears in errors: {text}"
    );
    assert_eq!(srv.requests().len(), 1);
}
