//! The library's HTTP client for tests against loopback servers.

use depwatch::feeds::http::{Http, HttpSettings};
use std::time::Duration;

/// Short timeouts, three attempts 10 ms apart, waits of at most 3 s: a loopback feed test
/// ends in seconds whatever the server does.
pub fn http() -> Http {
    http_with(Duration::from_secs(2), Duration::from_secs(3))
}

/// [`http`] with another read timeout and longest wait (a stall, a rate limit).
pub fn http_with(read_timeout: Duration, max_wait: Duration) -> Http {
    Http::new(HttpSettings {
        connect_timeout: Duration::from_secs(2),
        read_timeout,
        attempts: 3,
        backoff: Duration::from_millis(10),
        max_wait,
        ..Default::default()
    })
    .unwrap()
}

/// The built-in settings, as the binary uses them (the channel tests check its retry counts).
pub fn http_builtin() -> Http {
    Http::new(HttpSettings::default()).unwrap()
}
