//! Slack incoming webhooks: one POST of a Block Kit body per project and run.
//!
//! The webhook URL's path is the credential (anyone holding it can post), so it is a
//! [`Secret`]: errors and logs name the host only, and any text a library or the server echoes
//! back is scrubbed of the URL, its path and its last segment.

use crate::net::{Http, backoff_delay, wait_hint};
use crate::secret::Secret;
use reqwest::StatusCode;
use std::time::Duration;

/// Attempts per call (the first plus three retries).
const ATTEMPTS: u32 = 4;
/// First backoff after a 5xx or a connection error; doubles per retry, with jitter.
const BACKOFF: Duration = Duration::from_millis(500);
/// Longest `Retry-After` honoured within one call; a longer one ends the call with a
/// retryable error, so the outbox tries again on the next run instead of blocking this one.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// Most bytes of a response body read (Slack answers `ok` or a short error code).
const BODY_LIMIT: usize = 4096;

/// A failed delivery to a Slack webhook. The text names the webhook's host, never its path.
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// The webhook setting is unusable (not a URL, plain HTTP to a remote host).
    #[error("Slack webhook: {0}")]
    Config(String),
    /// No answer: connection refused, reset, timed out (after every attempt).
    #[error("Slack webhook at {host}: {message} (after {attempts} attempts)")]
    Network {
        /// Host (and port) of the webhook.
        host: String,
        /// What went wrong, scrubbed of the URL.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Slack answered with an error status (after retries, for 5xx).
    #[error("Slack webhook at {host}: HTTP {status}{}", crate::text::colon_suffix(.detail))]
    Status {
        /// Host (and port) of the webhook.
        host: String,
        /// The HTTP status.
        status: u16,
        /// The start of the response body (Slack's error code, e.g. `invalid_blocks`), scrubbed.
        detail: String,
    },
    /// Rate limited for longer than one call waits.
    #[error(
        "Slack webhook at {host}: rate limited (HTTP 429), asked to wait {}s, more than the {}s a \
         run waits", .wait.as_secs(), MAX_WAIT.as_secs()
    )]
    RateLimited {
        /// Host (and port) of the webhook.
        host: String,
        /// The wait Slack asked for.
        wait: Duration,
    },
}

impl SlackError {
    /// Whether a later attempt may succeed: network errors, 5xx and 429 are retryable; other
    /// 4xx (a revoked webhook, an invalid payload) and bad settings are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Config(_) => false,
            Self::Network { .. } | Self::RateLimited { .. } => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
        }
    }
}

/// Host and port for messages; also checks the scheme: plain HTTP would expose the secret
/// path on the wire, so it is accepted for loopback receivers (tests, local relays) only.
fn host_of(url: &reqwest::Url) -> Result<String, SlackError> {
    let host = url
        .host_str()
        .ok_or_else(|| SlackError::Config("the URL has no host".into()))?;
    let shown = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    match url.scheme() {
        "https" => Ok(shown),
        "http" if crate::net::is_loopback_host(host) => Ok(shown),
        "http" => Err(SlackError::Config(format!(
            "refusing plain http to {shown}: the webhook URL is a credential; use https"
        ))),
        other => Err(SlackError::Config(format!(
            "unsupported scheme {other:?} (host {shown}); expected https"
        ))),
    }
}

/// Remove every form of the webhook secret from `text`: the URL, its path and query, and
/// every path segment (the secret need not be the last one: `/hook/SECRET/slack`), each as is,
/// percent-decoded or encoded, or in base64. Then clean and bound it: the text may be a body
/// the server chose.
fn scrub(webhook: &Secret, url: Option<&reqwest::Url>, text: &str) -> String {
    let mut out = webhook.scrub(text);
    if let Some(u) = url {
        let mut parts: Vec<String> = vec![u.path().to_string()];
        parts.extend(u.query().map(String::from));
        for seg in u.path_segments().into_iter().flatten() {
            parts.push(seg.to_string());
            parts.push(
                percent_encoding::percent_decode_str(seg)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
        for (k, v) in u.query_pairs() {
            parts.push(k.into_owned());
            parts.push(v.into_owned());
        }
        // Longest first, so a segment inside the path does not cut the path's redaction.
        parts.retain(|p| p.len() >= 4 && p != "/");
        parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in parts {
            out = Secret::new(p).scrub(&out);
        }
    }
    crate::text::server_text(&out, 300)
}

/// Up to `BODY_LIMIT` bytes of a body, as text. Not shortened here: it is scrubbed first
/// (a cut could leave half a secret), then [`scrub`] cleans and bounds it.
async fn short_body(mut resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= BODY_LIMIT {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// POST `body` (Block Kit `blocks` plus fallback `text`) to the webhook: one message.
///
/// Retries within the call, a bounded number of times: after a 5xx or a connection error
/// with exponential backoff, after a 429 waiting its `Retry-After` (up to a cap). Any 2xx is
/// success (Slack answers `200 ok`; compatible receivers may answer otherwise).
pub async fn post(
    http: &Http,
    webhook: &Secret,
    body: &serde_json::Value,
) -> Result<(), SlackError> {
    let url = reqwest::Url::parse(webhook.expose().trim())
        // The parse error text never includes the input.
        .map_err(|e| SlackError::Config(format!("the webhook is not a URL: {e}")))?;
    let host = host_of(&url)?;
    let mut last: Option<SlackError> = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 && !matches!(last, Some(SlackError::Status { status: 429, .. })) {
            tokio::time::sleep(backoff_delay(BACKOFF, attempt - 1)).await;
        }
        let resp = match http.client().post(url.clone()).json(body).send().await {
            Ok(r) => r,
            Err(e) => {
                last = Some(SlackError::Network {
                    host: host.clone(),
                    message: scrub(webhook, Some(&url), &crate::text::http_error(&e)),
                    attempts: attempt + 1,
                });
                continue;
            }
        };
        let status = resp.status();
        if status.is_success() {
            let answer = short_body(resp).await;
            if answer.trim() != "ok" {
                tracing::debug!(host = %host, "Slack webhook answered {status} without \"ok\"");
            }
            return Ok(());
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            // Slack sends Retry-After in seconds; without one, wait as for a 5xx.
            let wait = wait_hint(resp.headers()).unwrap_or_else(|| backoff_delay(BACKOFF, attempt));
            if wait > MAX_WAIT {
                return Err(SlackError::RateLimited { host, wait });
            }
            tracing::info!(host = %host, wait_s = wait.as_secs_f64(), "Slack rate limit: waiting");
            last = Some(SlackError::Status {
                host: host.clone(),
                status: 429,
                detail: String::new(),
            });
            if attempt + 1 < ATTEMPTS {
                tokio::time::sleep(wait).await;
            }
            continue;
        }
        let detail = scrub(webhook, Some(&url), &short_body(resp).await);
        let err = SlackError::Status {
            host: host.clone(),
            status: status.as_u16(),
            detail,
        };
        if !status.is_server_error() {
            return Err(err);
        }
        last = Some(err);
    }
    Err(last.unwrap_or(SlackError::Network {
        host,
        message: "no attempt made".into(),
        attempts: 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_and_host_checks() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert_eq!(
            host_of(&u("https://hooks.slack.com/services/T/B/x")).unwrap(),
            "hooks.slack.com"
        );
        assert_eq!(
            host_of(&u("http://127.0.0.1:8080/hook")).unwrap(),
            "127.0.0.1:8080"
        );
        assert!(host_of(&u("http://[::1]/hook")).is_ok());
        // The one loopback rule: the fully qualified `localhost.` is loopback too (email
        // accepted it, Slack and GitHub did not).
        assert!(host_of(&u("http://localhost.:8080/hook")).is_ok());
        let e = host_of(&u("http://hooks.example.com/services/SECRETPATH")).unwrap_err();
        assert!(!e.is_retryable());
        assert!(!e.to_string().contains("SECRETPATH"), "{e}");
        assert!(host_of(&u("ftp://hooks.example.com/x")).is_err());
    }

    #[test]
    fn scrub_removes_url_path_and_token() {
        let raw = "https://hooks.slack.com/services/T0001/B0002/abcdefghijkl";
        let s = Secret::new(raw);
        let url = reqwest::Url::parse(raw).unwrap();
        let text = format!(
            "{raw} | /services/T0001/B0002/abcdefghijkl | token abcdefghijkl | host hooks.slack.com"
        );
        let out = scrub(&s, Some(&url), &text);
        assert!(!out.contains("abcdefghijkl"), "{out}");
        assert!(!out.contains("T0001"), "{out}");
        assert!(out.contains("hooks.slack.com"), "{out}");
    }

    #[test]
    fn classification() {
        let st = |status| SlackError::Status {
            host: "h".into(),
            status,
            detail: String::new(),
        };
        assert!(st(500).is_retryable());
        assert!(st(503).is_retryable());
        assert!(st(429).is_retryable());
        assert!(!st(400).is_retryable());
        assert!(!st(404).is_retryable());
        assert!(!st(410).is_retryable());
        assert!(!SlackError::Config("x".into()).is_retryable());
        assert_eq!(
            st(400).to_string(),
            "Slack webhook at h: HTTP 400",
            "no dangling separator without a detail"
        );
    }

    #[tokio::test]
    async fn not_a_url_does_not_echo_the_input() {
        let http = Http::new(Default::default()).unwrap();
        let e = post(
            &http,
            &Secret::new("hooks/SECRETPATH"),
            &serde_json::json!({}),
        )
        .await
        .unwrap_err();
        assert!(!e.is_retryable());
        assert!(!e.to_string().contains("SECRETPATH"), "{e}");
    }
}
