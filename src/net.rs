//! The one HTTP client every feed and channel uses: rustls, gzip, HTTP/2, a clear User-Agent, connect and
//! read timeouts, retries with exponential backoff and jitter on connection errors, 5xx and
//! 429 (honouring `Retry-After`), conditional requests (ETag / If-None-Match,
//! Last-Modified / If-Modified-Since), and bounded response sizes.
//!
//! Secrets (a GitHub token) are sent in headers only and never appear in errors or logs:
//! errors name the URL with its query string removed.

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Client, StatusCode};
use std::time::Duration;

/// An HTTP failure, with a URL that is safe to print.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The client could not be built.
    #[error("HTTP client: {0}")]
    Build(String),
    /// The request failed after every retry.
    #[error("{url}: {message}")]
    Failed {
        /// The URL, without its query string.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL, without its query string.
        url: String,
        /// The status.
        status: u16,
    },
    /// The body is larger than allowed.
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge {
        /// The URL, without its query string.
        url: String,
        /// The limit.
        limit: usize,
    },
}

/// Settings of the shared client.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Timeout for reading each chunk of a response.
    pub read_timeout: Duration,
    /// Attempts per request (1 = no retry).
    pub attempts: u32,
    /// First backoff delay; doubles each retry, with jitter.
    pub backoff: Duration,
    /// Longest wait honoured from a `Retry-After` or rate-limit reset.
    pub max_wait: Duration,
    /// Show progress bars for large downloads (only ever on a terminal).
    pub progress: bool,
    /// Whole-request deadline, retries and waits included: a server trickling one byte per
    /// read timeout never trips `read_timeout` alone.
    pub request_deadline: Duration,
    /// Deadline of one feed's whole sync (all its requests and parsing).
    pub feed_deadline: Duration,
    /// Budget of one archive or pull: downloaded plus decompressed bytes. Parsed records are
    /// held until the store is written, so this bounds a feed's memory.
    pub max_feed_bytes: u64,
}

/// Default [`HttpSettings::request_deadline`] (`$DEPWATCH_REQUEST_DEADLINE`, seconds).
pub const DEFAULT_REQUEST_DEADLINE: Duration = Duration::from_secs(600);
/// Default [`HttpSettings::feed_deadline`] (`$DEPWATCH_FEED_DEADLINE`, seconds).
pub const DEFAULT_FEED_DEADLINE: Duration = Duration::from_secs(1800);
/// Default [`HttpSettings::max_feed_bytes`] (`$DEPWATCH_FEED_MAX_BYTES`): the OSV PyPI export,
/// the largest real pull, is well under a quarter of it decompressed.
pub const DEFAULT_MAX_FEED_BYTES: u64 = 256 * 1024 * 1024;

/// The limits set in the operator's environment (`DEPWATCH_REQUEST_DEADLINE`,
/// `DEPWATCH_FEED_DEADLINE` in seconds, `DEPWATCH_FEED_MAX_BYTES` in bytes), or the defaults.
/// An unreadable value is an error naming the variable.
pub fn env_limits() -> Result<(Duration, Duration, u64), String> {
    fn var(name: &str) -> Result<Option<u64>, String> {
        match std::env::var(name) {
            Err(_) => Ok(None),
            Ok(v) => match v.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(format!("{name}={v:?} is not a positive whole number")),
            },
        }
    }
    Ok((
        var("DEPWATCH_REQUEST_DEADLINE")?
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_REQUEST_DEADLINE),
        var("DEPWATCH_FEED_DEADLINE")?
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_FEED_DEADLINE),
        var("DEPWATCH_FEED_MAX_BYTES")?.unwrap_or(DEFAULT_MAX_FEED_BYTES),
    ))
}

impl Default for HttpSettings {
    /// The built-in values, with the limits of [`env_limits`] (an invalid variable, which the
    /// CLI refuses up front, leaves the built-in limit).
    fn default() -> Self {
        let (request_deadline, feed_deadline, max_feed_bytes) = env_limits().unwrap_or((
            DEFAULT_REQUEST_DEADLINE,
            DEFAULT_FEED_DEADLINE,
            DEFAULT_MAX_FEED_BYTES,
        ));
        Self {
            request_deadline,
            feed_deadline,
            max_feed_bytes,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(120),
            progress: false,
        }
    }
}

/// A response body with the validators to store for the next conditional request.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The body (decompressed).
    pub body: Vec<u8>,
    /// `ETag`, if sent.
    pub etag: Option<String>,
    /// `Last-Modified`, if sent.
    pub last_modified: Option<String>,
    /// The response headers (for `Link`, rate limits).
    pub headers: HeaderMap,
}

/// The result of a conditional GET.
#[derive(Debug, Clone)]
pub enum Conditional {
    /// 304: what we hold is current.
    NotModified,
    /// 200 with a body.
    Fetched(Fetched),
}

/// The shared client.
#[derive(Debug, Clone)]
pub struct Http {
    client: Client,
    settings: HttpSettings,
}

/// Whether a GitHub token may be sent to `api_base`: always to `https://api.github.com`;
/// elsewhere only when `token_url_env` (the operator's `$DEPWATCH_GHSA_TOKEN_URL`) is `*` or
/// names that base. A base URL comes from a config file, which may travel with a scanned
/// repository; the environment is the operator's own.
pub fn github_token_allowed(api_base: &str, token_url_env: Option<&str>) -> bool {
    let base = api_base.trim().trim_end_matches('/');
    base == "https://api.github.com"
        || token_url_env.is_some_and(|u| {
            let u = u.trim();
            u == "*" || (!u.is_empty() && u.trim_end_matches('/') == base)
        })
}

/// A URL with its query string and credentials removed, for messages.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url).ok().filter(|u| u.has_host()) {
        Some(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.to_string()
        }
        None => {
            // Not a URL with a host: keep only what cannot hold a secret (no query, fragment or userinfo).
            let base = url.split(['?', '#']).next().unwrap_or("");
            match base.split_once("://") {
                Some((scheme, rest)) => {
                    let host_end = rest.find('/').unwrap_or(rest.len());
                    let (authority, path) = rest.split_at(host_end);
                    let host = authority.rsplit('@').next().unwrap_or("");
                    format!("{scheme}://{host}{path}")
                }
                None => base.rsplit('@').next().unwrap_or("").to_string(),
            }
        }
    }
}

/// Delay before retry `attempt` (0-based): `base * 2^attempt`, plus up to 50% jitter.
pub fn backoff_delay(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16));
    // Jitter from the clock's low bits: enough to de-synchronise clients, no RNG crate needed.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = exp.mul_f64(f64::from(nanos % 1000) / 2000.0);
    exp + jitter
}

/// Seconds to wait from a `Retry-After` header (delta-seconds form), or from
/// `x-ratelimit-remaining: 0` with `x-ratelimit-reset` (epoch seconds).
pub fn wait_hint(headers: &HeaderMap) -> Option<Duration> {
    if let Some(s) = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(s));
    }
    let remaining = headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let (Some(0), Some(reset)) = (remaining, reset) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        return Some(Duration::from_secs(reset.saturating_sub(now)));
    }
    None
}

impl Http {
    /// Build the client.
    pub fn new(settings: HttpSettings) -> Result<Self, HttpError> {
        let client = Client::builder()
            .user_agent(concat!(
                "depwatch/",
                env!("CARGO_PKG_VERSION"),
                " (+advisory monitor)"
            ))
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| HttpError::Build(e.to_string()))?;
        Ok(Self { client, settings })
    }

    /// A progress bar for a download of `len` bytes: only with `progress` set, on a terminal,
    /// and for bodies over 1 MiB; hidden otherwise (cron, CI, daemon).
    fn progress_bar(&self, len: Option<u64>, url: &str) -> Option<indicatif::ProgressBar> {
        use std::io::IsTerminal;
        let len = len.filter(|&n| n > 1 << 20)?;
        if !self.settings.progress || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = indicatif::ProgressBar::new(len);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes}")
        {
            bar.set_style(style);
        }
        bar.set_message(url.to_string());
        Some(bar)
    }

    /// The underlying client, for requests this module has no helper for.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// GET `url`, conditionally when `etag` / `last_modified` are given, with retries; the body
    /// may be at most `limit` bytes.
    pub async fn get(
        &self,
        url: &str,
        headers: &HeaderMap,
        etag: Option<&str>,
        last_modified: Option<&str>,
        limit: usize,
    ) -> Result<Conditional, HttpError> {
        let mut h = headers.clone();
        if let Some(e) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            h.insert(header::IF_NONE_MATCH, e);
        }
        if let Some(l) = last_modified.and_then(|l| HeaderValue::from_str(l).ok()) {
            h.insert(header::IF_MODIFIED_SINCE, l);
        }
        self.send(|| self.client.get(url).headers(h.clone()), url, limit)
            .await
    }

    /// POST a JSON body with retries.
    pub async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
        limit: usize,
    ) -> Result<Fetched, HttpError> {
        match self
            .send(|| self.client.post(url).json(body), url, limit)
            .await?
        {
            Conditional::Fetched(f) => Ok(f),
            Conditional::NotModified => Err(HttpError::Status {
                url: redact(url),
                status: 304,
            }),
        }
    }

    /// Send one request, without retries (the caller decides whether a retry is safe), and
    /// read its answer whatever the status, at most `limit` bytes, within the request
    /// deadline: the status and the body.
    pub async fn send_once(
        &self,
        req: reqwest::RequestBuilder,
        url: &str,
        limit: usize,
    ) -> Result<(u16, Vec<u8>), HttpError> {
        let safe = redact(url);
        let fail = |message: String| HttpError::Failed {
            url: safe.clone(),
            message,
        };
        let work = async {
            let resp = req
                .send()
                .await
                .map_err(|e| fail(crate::text::http_error(&e)))?;
            let status = resp.status().as_u16();
            if resp.content_length().is_some_and(|n| n > limit as u64) {
                return Err(HttpError::TooLarge {
                    url: safe.clone(),
                    limit,
                });
            }
            match read_limited(resp, limit, None).await {
                Ok(body) => Ok((status, body)),
                Err(ReadError::TooLarge) => Err(HttpError::TooLarge {
                    url: safe.clone(),
                    limit,
                }),
                Err(ReadError::Body(e)) => Err(fail(format!(
                    "reading the body: {}",
                    crate::text::http_error(&e)
                ))),
            }
        };
        match tokio::time::timeout(self.settings.request_deadline, work).await {
            Ok(r) => r,
            Err(_) => Err(fail(format!(
                "no complete answer within the request deadline of {}s (DEPWATCH_REQUEST_DEADLINE)",
                self.settings.request_deadline.as_secs()
            ))),
        }
    }

    /// The settings the client was built with.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    async fn send(
        &self,
        make: impl Fn() -> reqwest::RequestBuilder,
        url: &str,
        limit: usize,
    ) -> Result<Conditional, HttpError> {
        let deadline = self.settings.request_deadline;
        match tokio::time::timeout(deadline, self.send_attempts(make, url, limit)).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::Failed {
                url: redact(url),
                message: format!(
                    "no complete answer within the request deadline of {}s \
                     (DEPWATCH_REQUEST_DEADLINE)",
                    deadline.as_secs()
                ),
            }),
        }
    }

    async fn send_attempts(
        &self,
        make: impl Fn() -> reqwest::RequestBuilder,
        url: &str,
        limit: usize,
    ) -> Result<Conditional, HttpError> {
        let safe = redact(url);
        let mut last = String::new();
        for attempt in 0..self.settings.attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(backoff_delay(self.settings.backoff, attempt - 1)).await;
            }
            let resp = match make().send().await {
                Ok(r) => r,
                Err(e) => {
                    // Connection errors and timeouts are retried; the message never holds
                    // the query string (reqwest's own Display includes the full URL).
                    last = crate::text::http_error(&e);
                    continue;
                }
            };
            let status = resp.status();
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Conditional::NotModified);
            }
            if status == StatusCode::TOO_MANY_REQUESTS
                || status.is_server_error()
                || (status == StatusCode::FORBIDDEN && wait_hint(resp.headers()).is_some())
            {
                last = format!("HTTP {}", status.as_u16());
                if let Some(wait) = wait_hint(resp.headers()) {
                    if wait > self.settings.max_wait {
                        return Err(HttpError::Failed {
                            url: safe,
                            message: format!("{last}; rate limited for {}s", wait.as_secs()),
                        });
                    }
                    tokio::time::sleep(wait).await;
                }
                continue;
            }
            if status == StatusCode::FORBIDDEN {
                // GitHub's secondary rate limit can answer 403 with no hint header; its docs
                // ask clients to wait at least a minute before retrying.
                let body = read_limited(resp, 64 * 1024, None)
                    .await
                    .unwrap_or_default();
                if String::from_utf8_lossy(&body)
                    .to_ascii_lowercase()
                    .contains("rate limit")
                {
                    last = "HTTP 403 (secondary rate limit)".into();
                    tokio::time::sleep(Duration::from_secs(60).min(self.settings.max_wait)).await;
                    continue;
                }
                return Err(HttpError::Status {
                    url: safe,
                    status: 403,
                });
            }
            if !status.is_success() {
                return Err(HttpError::Status {
                    url: safe,
                    status: status.as_u16(),
                });
            }
            let headers = resp.headers().clone();
            if resp.content_length().is_some_and(|n| n > limit as u64) {
                return Err(HttpError::TooLarge { url: safe, limit });
            }
            let bar = self.progress_bar(resp.content_length(), &safe);
            let read = read_limited(resp, limit, bar.as_ref()).await;
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            match read {
                Ok(body) => {
                    let text = |k: header::HeaderName| {
                        headers
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .map(String::from)
                    };
                    return Ok(Conditional::Fetched(Fetched {
                        body,
                        etag: text(header::ETAG),
                        last_modified: text(header::LAST_MODIFIED),
                        headers,
                    }));
                }
                Err(ReadError::TooLarge) => return Err(HttpError::TooLarge { url: safe, limit }),
                Err(ReadError::Body(e)) => {
                    // A connection reset mid-body is retried like a connection error.
                    last = format!("reading the body: {}", crate::text::http_error(&e));
                    continue;
                }
            }
        }
        Err(HttpError::Failed {
            url: safe,
            message: format!("{last} (after {} attempts)", self.settings.attempts.max(1)),
        })
    }
}

enum ReadError {
    TooLarge,
    Body(reqwest::Error),
}

async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<Vec<u8>, ReadError> {
    // Sized from Content-Length (already checked against the limit) so that growing the
    // buffer does not hold twice the body for a moment.
    let expected = resp.content_length().unwrap_or(0).min(limit as u64);
    let mut body = Vec::with_capacity(expected as usize);
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Body)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
        if let Some(b) = bar {
            b.set_position(body.len() as u64);
        }
    }
    Ok(body)
}

/// The URL of the `rel="next"` link in `Link` headers, if any.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        let mut rest = value;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>')?;
            let url = after[..end].trim();
            let tail = &after[end + 1..];
            let params_end = tail.find('<').unwrap_or(tail.len());
            let is_next = tail[..params_end].split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim()
                            .trim_matches('"')
                            .split_whitespace()
                            .any(|r| r.eq_ignore_ascii_case("next"))
                })
            });
            if is_next {
                return Some(url.to_string());
            }
            rest = &tail[params_end..];
        }
    }
    None
}

/// The one loopback rule, for every "plain text only to this machine" exception (webhooks,
/// the GitHub API, SMTP without TLS): `localhost` (also fully qualified, `localhost.`),
/// 127.0.0.0/8, `::1` and IPv4-mapped loopback; brackets and surrounding spaces allowed.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.eq_ignore_ascii_case("localhost.")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "LOCALHOST.",
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
            "::1",
            "[::ffff:127.0.0.1]",
            " localhost ",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "",
            "example.com",
            "localhost.example.com",
            "10.0.0.1",
            "[::2]",
            "0.0.0.0",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn redaction_of_text_that_is_not_a_url() {
        assert_eq!(
            redact("https://user:pw@bad host/x?t=1#f"),
            "https://bad host/x"
        );
        assert_eq!(redact("user:pw@weird?x"), "weird");
    }

    #[test]
    fn redaction_drops_query_and_credentials() {
        assert_eq!(
            redact("https://user:secret@api.github.com/advisories?after=x&token=abc"),
            "https://api.github.com/advisories"
        );
    }

    #[test]
    fn backoff_grows_and_is_bounded_by_jitter() {
        let b = Duration::from_millis(100);
        let d0 = backoff_delay(b, 0);
        let d3 = backoff_delay(b, 3);
        assert!(d0 >= b && d0 <= b.mul_f64(1.5));
        assert!(d3 >= b * 8 && d3 <= (b * 8).mul_f64(1.5));
    }

    #[test]
    fn retry_after_and_rate_limit_reset() {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(wait_hint(&h), Some(Duration::from_secs(3)));
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1"));
        assert_eq!(wait_hint(&h), Some(Duration::ZERO));
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("10"));
        assert_eq!(wait_hint(&h), None);
    }
}
