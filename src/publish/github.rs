//! Filing the advisory draft on GitHub as a repository security advisory, in draft state.
//!
//! Idempotent: the description ends with a marker (an HTML comment keyed to the finding, see
//! [`super::draft::marker`]); a run lists the repository's drafts, and PATCHes the one whose
//! last line is that marker instead of filing another. Nothing here ever publishes: a `state` field is
//! stripped from every body, and drafts are only created or edited. Maintainers review and
//! publish on GitHub.
//!
//! The token goes only to `https://api.github.com`, or to another base the operator allowed
//! through `$DEPWATCH_GHSA_TOKEN_URL` (the same rule as the GHSA feed; see [`token_allowed`]).

use super::draft::{last_line_is_marker, neutralise_markers};
use crate::net::{Http, backoff_delay, next_link, redact, wait_hint};
use crate::secret::Secret;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// GitHub's REST API base.
pub const GITHUB_API: &str = "https://api.github.com";
/// The REST API version requested.
const API_VERSION: &str = "2022-11-28";
/// Attempts for idempotent requests (GET, PATCH).
const ATTEMPTS: u32 = 4;
/// First backoff after a 5xx or a connection error; doubles per retry, with jitter.
const BACKOFF: Duration = Duration::from_millis(500);
/// Longest rate-limit wait honoured within one call.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Most bytes read from one response.
const BODY_LIMIT: usize = 16 << 20;
/// Most pages of drafts read (100 per page).
const MAX_PAGES: usize = 100;

/// Where drafts are filed (`[project.github]`), with the token read from the environment.
#[derive(Debug, Clone)]
pub struct GithubTarget {
    /// API base, normally [`GITHUB_API`].
    pub api_base: String,
    /// `owner/name`.
    pub repo: String,
    /// A token allowed to write repository security advisories.
    pub token: Secret,
    /// Send the token to an `api_base` other than [`GITHUB_API`]: set by the caller from
    /// [`token_allowed`] with `$DEPWATCH_GHSA_TOKEN_URL` (the operator's environment, not the
    /// possibly untrusted config file).
    pub allow_token_to_custom_base: bool,
}

/// The draft as filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// Its GHSA id.
    pub ghsa_id: String,
    /// Its page on GitHub, if the API returned one.
    pub html_url: Option<String>,
    /// `true` when this call created it, `false` when it updated an existing draft.
    pub created: bool,
}

/// A failed filing. Messages name URLs without query strings and never the token.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// Unusable settings or arguments (bad repo, token not allowed to that host, marker).
    #[error("GitHub advisory: {0}")]
    Config(String),
    /// No answer (after every attempt for idempotent requests).
    #[error("{method} {url}: {message}")]
    Network {
        /// HTTP method.
        method: String,
        /// The URL, without its query string.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// GitHub answered with an error status.
    #[error("{method} {url}: HTTP {status}{}", crate::text::colon_suffix(.message))]
    Status {
        /// HTTP method.
        method: String,
        /// The URL, without its query string.
        url: String,
        /// The status.
        status: u16,
        /// GitHub's `message` (and validation `errors`), scrubbed.
        message: String,
    },
    /// Rate limited for longer than one call waits.
    #[error("{method} {url}: rate limited; asked to wait {}s", .wait.as_secs())]
    RateLimited {
        /// HTTP method.
        method: String,
        /// The URL, without its query string.
        url: String,
        /// The wait GitHub asked for.
        wait: Duration,
    },
    /// A response that is not what the API documents (not JSON, no `ghsa_id`, odd paging).
    #[error("{url}: {message}")]
    Invalid {
        /// The URL, without its query string.
        url: String,
        /// What is wrong with it.
        message: String,
    },
}

impl GithubError {
    /// Whether a later attempt may succeed: network errors, 5xx, 429 (and rate-limit 403s)
    /// and malformed answers are retryable; other 4xx (no permission, validation) and bad
    /// settings are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Config(_) => false,
            Self::Network { .. } | Self::RateLimited { .. } | Self::Invalid { .. } => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
        }
    }
}

/// Whether the token may go to `api_base`: always to [`GITHUB_API`]; elsewhere only when
/// `token_url_env` (the value of `$DEPWATCH_GHSA_TOKEN_URL`) is `*` or names that base. One
/// rule for the advisory feed and for filing drafts: [`crate::net::github_token_allowed`].
pub fn token_allowed(api_base: &str, token_url_env: Option<&str>) -> bool {
    crate::net::github_token_allowed(api_base, token_url_env)
}

/// Check `owner/name`: one slash, GitHub's name characters, no `.`/`..` path tricks.
fn check_repo(repo: &str) -> Result<(&str, &str), GithubError> {
    let bad = || {
        GithubError::Config(format!(
            "project.github.repo: {repo:?} is not \"owner/name\""
        ))
    };
    let (owner, name) = repo.split_once('/').ok_or_else(bad)?;
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if ok(owner) && ok(name) {
        Ok((owner, name))
    } else {
        Err(bad())
    }
}

/// A GHSA id as returned by the API, safe to put in a path.
fn check_ghsa_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The body to send: an object without `state` (never publish, never reopen), ending with the
/// marker so the next run finds it; PATCH also drops create-only fields.
fn prepare(body: &Value, marker: &str, patch: bool) -> Result<Value, GithubError> {
    let Value::Object(map) = body else {
        return Err(GithubError::Config(
            "the advisory body is not a JSON object".into(),
        ));
    };
    let mut map = map.clone();
    map.remove("state");
    if patch {
        map.remove("start_private_fork");
    }
    let description = match map.get("description") {
        Some(Value::String(d)) => d.clone(),
        None | Some(Value::Null) => String::new(),
        Some(_) => {
            return Err(GithubError::Config(
                "the advisory body's description is not a string".into(),
            ));
        }
    };
    // The marker is the last line, and only there: markers inside the text (advisory text a
    // feed wrote) are defused, so no other draft's search can match this one.
    let body = description.trim_end();
    let body = body.strip_suffix(marker).unwrap_or(body).trim_end();
    let body = neutralise_markers(body);
    let sep = if body.is_empty() { "" } else { "\n\n" };
    map.insert(
        "description".into(),
        Value::String(format!("{body}{sep}{marker}")),
    );
    Ok(Value::Object(map))
}

fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// GitHub's error `message` and validation `errors`, as one short line.
fn api_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let mut m = v
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some(errors) = v.get("errors").filter(|e| !e.is_null()) {
                m.push_str(&format!(" {errors}"));
            }
            m
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    // Not cut here: the caller scrubs the token first, then bounds (a cut could leave half a
    // token behind).
    text
}

/// Request context: client, headers with the token, and the token for scrubbing.
struct Api<'a> {
    http: &'a Http,
    headers: HeaderMap,
    token: &'a Secret,
}

impl Api<'_> {
    /// One request with bounded retries: connection errors and 5xx only when `idempotent`
    /// (a POST that may have reached GitHub is not repeated; the next run's listing finds it
    /// if it was filed), rate limits always (GitHub did not process the request).
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<(HeaderMap, Vec<u8>), GithubError> {
        let safe = redact(url);
        let scrub = |s: String| self.token.scrub(&s);
        let mut last = None;
        let mut waited = false;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 && !waited {
                tokio::time::sleep(backoff_delay(BACKOFF, attempt - 1)).await;
            }
            waited = false;
            let mut req = self
                .http
                .client()
                .request(method.clone(), url)
                .headers(self.headers.clone());
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let err = GithubError::Network {
                        method: method.to_string(),
                        url: safe.clone(),
                        message: scrub(crate::text::http_error(&e)),
                    };
                    if !idempotent {
                        return Err(err);
                    }
                    last = Some(err);
                    continue;
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            if resp.content_length().is_some_and(|n| n > BODY_LIMIT as u64) {
                return Err(GithubError::Invalid {
                    url: safe,
                    message: format!("response larger than {BODY_LIMIT} bytes"),
                });
            }
            let bytes = match read_body(resp).await {
                Ok(Some(b)) => b,
                Ok(None) => {
                    return Err(GithubError::Invalid {
                        url: safe,
                        message: format!("response larger than {BODY_LIMIT} bytes"),
                    });
                }
                Err(e) => {
                    let err = GithubError::Network {
                        method: method.to_string(),
                        url: safe.clone(),
                        message: format!(
                            "reading the body: {}",
                            scrub(crate::text::http_error(&e))
                        ),
                    };
                    // The answer was cut short; a POST may have been filed, so only
                    // idempotent requests go again.
                    if !idempotent {
                        return Err(err);
                    }
                    last = Some(err);
                    continue;
                }
            };
            if status.is_success() {
                return Ok((headers, bytes));
            }
            let message = crate::text::server_text(&scrub(api_message(&bytes)), 300);
            let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::FORBIDDEN
                    && (wait_hint(&headers).is_some()
                        || message.to_ascii_lowercase().contains("rate limit")));
            if rate_limited {
                // GitHub asks for at least a minute when it gives no hint.
                let wait = wait_hint(&headers).unwrap_or(Duration::from_secs(60));
                if wait > MAX_WAIT || attempt + 1 == ATTEMPTS {
                    return Err(GithubError::RateLimited {
                        method: method.to_string(),
                        url: safe,
                        wait,
                    });
                }
                tokio::time::sleep(wait).await;
                waited = true;
                continue;
            }
            let err = GithubError::Status {
                method: method.to_string(),
                url: safe.clone(),
                status: status.as_u16(),
                message,
            };
            if status.is_server_error() && idempotent {
                last = Some(err);
                continue;
            }
            return Err(err);
        }
        Err(last.unwrap_or(GithubError::Network {
            method: method.to_string(),
            url: safe,
            message: "no attempt made".into(),
        }))
    }

    /// The GHSA id of the first draft whose description's last line is one of `markers`,
    /// following `Link: rel="next"` pages on the same origin.
    async fn find_draft(
        &self,
        first: String,
        markers: &[&str],
    ) -> Result<Option<String>, GithubError> {
        let origin = reqwest::Url::parse(&first).map_err(|e| GithubError::Invalid {
            url: redact(&first),
            message: e.to_string(),
        })?;
        let mut url = first;
        let mut seen = std::collections::HashSet::new();
        for page in 0.. {
            if page >= MAX_PAGES {
                return Err(GithubError::Invalid {
                    url: redact(&url),
                    message: format!("more than {MAX_PAGES} pages of drafts; stopping"),
                });
            }
            if !seen.insert(url.clone()) {
                return Err(GithubError::Invalid {
                    url: redact(&url),
                    message: "pagination returned a page's URL again; stopping".into(),
                });
            }
            let (headers, body) = self.send(Method::GET, &url, None, true).await?;
            let items: Vec<Value> =
                serde_json::from_slice(&body).map_err(|e| GithubError::Invalid {
                    url: redact(&url),
                    message: format!("not a JSON array of advisories: {e}"),
                })?;
            let found = items.iter().find(|a| {
                // The query asks for drafts; the state check guards against a server that
                // ignores it, so a published advisory is never edited.
                a.get("state").and_then(Value::as_str).unwrap_or("draft") == "draft"
                    && a.get("description")
                        .and_then(Value::as_str)
                        .is_some_and(|d| markers.iter().any(|m| last_line_is_marker(d, m)))
            });
            if let Some(a) = found {
                return match a.get("ghsa_id").and_then(Value::as_str) {
                    Some(id) if check_ghsa_id(id) => Ok(Some(id.to_string())),
                    other => Err(GithubError::Invalid {
                        url: redact(&url),
                        message: format!("the matching draft has no usable ghsa_id ({other:?})"),
                    }),
                };
            }
            let Some(next) = next_link(&headers) else {
                break;
            };
            let next = origin.join(&next).map_err(|e| GithubError::Invalid {
                url: redact(&url),
                message: format!("bad next link: {e}"),
            })?;
            if !same_origin(&origin, &next) {
                // The token travels with every page; it never follows a link elsewhere.
                return Err(GithubError::Invalid {
                    url: redact(&url),
                    message: format!(
                        "next link points to another origin ({})",
                        redact(next.as_str())
                    ),
                });
            }
            url = next.to_string();
        }
        Ok(None)
    }
}

/// The body, or `None` when it exceeds [`BODY_LIMIT`].
async fn read_body(mut resp: reqwest::Response) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(c) = resp.chunk().await? {
        if bytes.len() + c.len() > BODY_LIMIT {
            return Ok(None);
        }
        bytes.extend_from_slice(&c);
    }
    Ok(Some(bytes))
}

/// `ghsa_id` and `html_url` of a created or updated advisory.
fn filed(url: &str, body: &[u8], created: bool) -> Result<Filed, GithubError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| GithubError::Invalid {
        url: redact(url),
        message: format!("not a JSON advisory: {e}"),
    })?;
    let ghsa_id = v
        .get("ghsa_id")
        .and_then(Value::as_str)
        .ok_or_else(|| GithubError::Invalid {
            url: redact(url),
            message: "the answer has no ghsa_id".into(),
        })?
        .to_string();
    Ok(Filed {
        ghsa_id,
        html_url: v.get("html_url").and_then(Value::as_str).map(String::from),
        created,
    })
}

/// File `body` (a repository-advisory create object) as a draft security advisory on
/// `target.repo`, or update the draft a previous run filed: the one whose description's last
/// line is `marker`. The description is sent with the marker as its last line and any other
/// HTML comment in it defused; a `state` field is always removed, so the advisory stays a
/// draft.
pub async fn file_draft(
    http: &Http,
    target: &GithubTarget,
    body: &Value,
    marker: &str,
) -> Result<Filed, GithubError> {
    file_draft_matching(http, target, body, marker, &[]).await
}

/// [`file_draft`], also updating a draft whose last line is one of `also` (a finding's marker
/// from before markers were keyed); the update rewrites it with `marker`.
pub async fn file_draft_matching(
    http: &Http,
    target: &GithubTarget,
    body: &Value,
    marker: &str,
    also: &[&str],
) -> Result<Filed, GithubError> {
    let (owner, name) = check_repo(target.repo.trim())?;
    if marker.trim().is_empty() {
        return Err(GithubError::Config(
            "empty marker: drafts could not be told apart".into(),
        ));
    }
    let base = target.api_base.trim().trim_end_matches('/');
    let base_url = reqwest::Url::parse(base).map_err(|e| {
        GithubError::Config(format!(
            "project.github api base {:?} is not a URL: {e}",
            redact(base)
        ))
    })?;
    let host = base_url.host_str().unwrap_or_default().to_string();
    if base != GITHUB_API && !target.allow_token_to_custom_base {
        return Err(GithubError::Config(format!(
            "refusing to send the GitHub token to {host}: only {GITHUB_API} gets it unless \
             $DEPWATCH_GHSA_TOKEN_URL names that base"
        )));
    }
    match base_url.scheme() {
        "https" => {}
        "http" if crate::net::is_loopback_host(&host) => {}
        s => {
            return Err(GithubError::Config(format!(
                "refusing to send the GitHub token over {s} to {host}; use https"
            )));
        }
    }
    if target.token.expose().trim().is_empty() {
        return Err(GithubError::Config("the GitHub token is empty".into()));
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::ACCEPT,
        HeaderValue::from_static("application/vnd.github+json"),
    );
    headers.insert(
        "x-github-api-version",
        HeaderValue::from_static(API_VERSION),
    );
    // The shared client sets its own User-Agent too; GitHub rejects requests without one.
    headers.insert(
        header::USER_AGENT,
        HeaderValue::from_static(concat!("depwatch/", env!("CARGO_PKG_VERSION"))),
    );
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", target.token.expose().trim()))
        .map_err(|_| {
            GithubError::Config("the GitHub token is not a valid HTTP header value".into())
        })?;
    auth.set_sensitive(true);
    headers.insert(header::AUTHORIZATION, auth);
    let api = Api {
        http,
        headers,
        token: &target.token,
    };
    let collection = format!("{base}/repos/{owner}/{name}/security-advisories");
    let list = format!("{collection}?state=draft&per_page=100&sort=created&direction=asc");
    let markers: Vec<&str> = std::iter::once(marker)
        .chain(also.iter().copied())
        .collect();
    match api.find_draft(list, &markers).await? {
        Some(id) => {
            let url = format!("{collection}/{id}");
            let patch = prepare(body, marker, true)?;
            let (_, answer) = api.send(Method::PATCH, &url, Some(&patch), true).await?;
            filed(&url, &answer, false)
        }
        None => {
            let post = prepare(body, marker, false)?;
            let (_, answer) = api
                .send(Method::POST, &collection, Some(&post), false)
                .await?;
            filed(&collection, &answer, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_goes_to_github_or_to_the_named_base_only() {
        assert!(token_allowed("https://api.github.com", None));
        assert!(token_allowed("https://api.github.com/", None));
        assert!(!token_allowed("https://ghe.example.com/api/v3", None));
        assert!(!token_allowed("https://ghe.example.com/api/v3", Some("")));
        assert!(!token_allowed(
            "https://ghe.example.com/api/v3",
            Some("https://other.example.com")
        ));
        assert!(token_allowed(
            "https://ghe.example.com/api/v3",
            Some("https://ghe.example.com/api/v3/")
        ));
        assert!(token_allowed("http://127.0.0.1:9", Some("*")));
        // A prefix is not a match: the token must not go to a longer, different path.
        assert!(!token_allowed(
            "https://ghe.example.com/api/v3/evil",
            Some("https://ghe.example.com/api/v3")
        ));
    }

    #[test]
    fn repo_names() {
        assert!(check_repo("octo-org/hello.world_2").is_ok());
        for bad in [
            "", "x", "/x", "x/", "a/b/c", "../x", "a/..", "a b/c", "a/b?c",
        ] {
            let e = check_repo(bad).unwrap_err();
            assert!(!e.is_retryable());
            assert!(e.to_string().contains("owner/name"), "{e}");
        }
    }

    #[test]
    fn bodies_never_carry_a_state_and_keep_the_marker() {
        let m = "<!-- depwatch:fingerprint=abc -->";
        let body = json!({"summary": "s", "description": "d", "state": "published",
                          "start_private_fork": true});
        let post = prepare(&body, m, false).unwrap();
        assert!(post.get("state").is_none());
        assert_eq!(post["start_private_fork"], json!(true));
        assert_eq!(post["description"], json!(format!("d\n\n{m}")));
        let patch = prepare(&body, m, true).unwrap();
        assert!(patch.get("state").is_none());
        assert!(patch.get("start_private_fork").is_none());
        // The marker ends up alone on the last line, once.
        for d in [format!("text {m}"), format!("text\n\n{m}\n")] {
            let already = json!({ "description": d });
            assert_eq!(
                prepare(&already, m, true).unwrap()["description"],
                json!(format!("text\n\n{m}"))
            );
        }
        // Another marker inside the text (a feed's summary) is defused.
        let forged = json!({"description": "x <!-- depwatch:fingerprint=other -->\ny"});
        assert_eq!(
            prepare(&forged, m, false).unwrap()["description"],
            json!(format!(
                "x &lt;!-- depwatch:fingerprint=other -->\ny\n\n{m}"
            ))
        );
        assert!(prepare(&json!([1]), m, false).is_err());
        assert!(prepare(&json!({"description": 3}), m, false).is_err());
    }

    #[test]
    fn error_classes_and_messages() {
        let st = |status| GithubError::Status {
            method: "POST".into(),
            url: "u".into(),
            status,
            message: String::new(),
        };
        assert!(st(502).is_retryable());
        assert!(st(429).is_retryable());
        assert!(!st(403).is_retryable());
        assert!(!st(422).is_retryable());
        assert_eq!(st(404).to_string(), "POST u: HTTP 404");
        assert_eq!(
            api_message(br#"{"message":"Validation Failed","errors":["bad severity"]}"#),
            r#"Validation Failed ["bad severity"]"#
        );
        assert!(check_ghsa_id("GHSA-abcd-1234-wxyz"));
        assert!(!check_ghsa_id("../x"));
    }
}
