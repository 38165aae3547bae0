//! Integration tests: channels. Every delivery goes to a real peer on 127.0.0.1: an HTTP
//! receiver for the Slack webhook and the GitHub API, and a real SMTP server (aiosmtpd, run by
//! tests/support/smtp_server.py) that parses what it receives.

use crate::loopback::{Reply, Request, Server};
use depwatch::feeds::http::{Http, HttpSettings};
use depwatch::publish::EmailPayload;
use depwatch::publish::email::{self, EmailSettings, TlsMode};
use depwatch::publish::github::{self, GithubTarget};
use depwatch::publish::slack;
use depwatch::secret::Secret;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

fn http() -> Http {
    Http::new(HttpSettings::default()).unwrap()
}

// ---------------------------------------------------------------- Slack

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

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

// ---------------------------------------------------------------- SMTP

/// The Python interpreter that can import aiosmtpd: `$DEPWATCH_TEST_PYTHON`, else `python3`
/// on PATH, else Debian's `/usr/bin/python3` (where the `python3-aiosmtpd` package that
/// `.ci/run` installs lives). Tests never install anything themselves.
fn smtp_python() -> Result<String, String> {
    static READY: OnceLock<Result<String, String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let candidates: Vec<String> = std::env::var("DEPWATCH_TEST_PYTHON")
                .ok()
                .into_iter()
                .chain(["python3".to_string(), "/usr/bin/python3".to_string()])
                .collect();
            candidates
                .iter()
                .find(|py| {
                    Command::new(py.as_str())
                        .args(["-c", "import aiosmtpd"])
                        .output()
                        .is_ok_and(|o| o.status.success())
                })
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "the SMTP tests need Python's aiosmtpd, importable by one of {candidates:?}: \
                         install Debian's python3-aiosmtpd (as .ci/run does) or set \
                         DEPWATCH_TEST_PYTHON to an interpreter that has it"
                    )
                })
        })
        .clone()
}

/// A running tests/support/smtp_server.py; killed when dropped. Shared with other test
/// modules (the monitor run delivers to it).
pub(crate) struct SmtpServer {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub(crate) port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Start on a free port; `auth` is `user:password` to require a login (without TLS).
    pub(crate) fn start(auth: Option<&str>) -> Self {
        Self::start_on(0, auth)
    }

    /// Start on `port` (0: any free port), e.g. where an earlier run found nothing listening.
    pub(crate) fn start_on(port: u16, auth: Option<&str>) -> Self {
        let python = smtp_python().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mail");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut cmd = Command::new(python);
        cmd.arg(&script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--out")
            .arg(&out)
            // stdin stays open while the test runs: the server exits when it closes.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap());
        if let Some(a) = auth {
            cmd.args(["--auth", a]);
        }
        let mut child = cmd
            .spawn()
            .expect("start python3 tests/support/smtp_server.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Ok(port) = line.trim().parse() else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "smtp_server.py printed no port ({line:?}); stderr:\n{}",
                std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default()
            );
        };
        Self { child, port, dir }
    }

    /// The messages received, in order, as the server parsed them.
    pub(crate) fn messages(&self) -> Vec<Value> {
        let Ok(rd) = std::fs::read_dir(self.dir.path().join("mail")) else {
            return vec![];
        };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    fn settings(&self) -> EmailSettings {
        EmailSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: TlsMode::None,
            user: None,
            password: None,
            from: "depwatch <depwatch@example.com>".into(),
            to: vec![
                "security@example.com".into(),
                "Zoë Maintainer <zoe@example.org>".into(),
            ],
            timeout: Duration::from_secs(10),
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mail() -> EmailPayload {
    EmailPayload {
        subject: "[depwatch] démo: 1 new critical finding — tokio ≥ 1.18.4 needed".into(),
        text: "New: RUSTSEC-2023-0001 in tokio 1.0.0 (critical).\nUpgrade to 1.18.4 — Grüße.\n"
            .into(),
        html: "<p>New: <b>RUSTSEC-2023-0001</b> in tokio 1.0.0 — Grüße</p>\n".into(),
    }
}

#[test]
fn email_multipart_utf8_reaches_both_recipients() {
    let server = SmtpServer::start(None);
    email::send(&server.settings(), &mail()).unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m["mail_from"], "depwatch@example.com");
    assert_eq!(
        m["rcpt_tos"],
        json!(["security@example.com", "zoe@example.org"])
    );
    assert_eq!(m["subject"], json!(mail().subject));
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(
        m["parts"],
        json!(["multipart/alternative", "text/plain", "text/html"])
    );
    assert_eq!(m["charsets"], json!(["utf-8", "utf-8"]));
    let text = m["text"].as_str().unwrap().replace("\r\n", "\n");
    let html = m["html"].as_str().unwrap().replace("\r\n", "\n");
    assert_eq!(text, mail().text);
    assert_eq!(html, mail().html);
    let id = m["message_id"].as_str().unwrap();
    assert!(id.starts_with('<') && id.ends_with("@example.com>"), "{id}");
    assert!(m["date"].is_string());
    assert!(m["auth_user"].is_null());
}

#[test]
fn email_login_without_tls_only_on_loopback() {
    // Decision: a loopback relay may take a login without TLS (nothing crosses a network);
    // validate() refuses TlsMode::None for any other host, so credentials never travel in clear.
    let server = SmtpServer::start(Some("bot:s3cret-pw"));
    let mut s = server.settings();
    s.user = Some("bot".into());
    s.password = Some(Secret::new("s3cret-pw"));
    email::send(&s, &mail()).unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["auth_user"], "bot");

    // A wrong password is a permanent (535) refusal: not retryable, and never printed.
    s.password = Some(Secret::new("wrong-pw"));
    let e = email::send(&s, &mail()).unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(!format!("{e} {e:?}").contains("wrong-pw"), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("127.0.0.1:{}", server.port)),
        "{e}"
    );
    // Without a login the server refuses too, and nothing was delivered by either attempt.
    s.user = None;
    s.password = None;
    assert!(email::send(&s, &mail()).is_err());
    assert_eq!(server.messages().len(), 1);

    let mut remote = server.settings();
    remote.host = "smtp.example.com".into();
    remote.user = Some("bot".into());
    remote.password = Some(Secret::new("s3cret-pw"));
    let e = remote.validate().unwrap_err();
    assert!(e.starts_with("notify.email.tls"), "{e}");
}

#[test]
fn email_smtp_down_is_a_retryable_error() {
    let mut s = EmailSettings {
        host: "127.0.0.1".into(),
        port: free_port(),
        tls: TlsMode::None,
        user: Some("bot".into()),
        password: Some(Secret::new("pw-never-shown")),
        from: "depwatch@example.com".into(),
        to: vec!["a@example.com".into()],
        timeout: Duration::from_secs(5),
    };
    let e = email::send(&s, &mail()).unwrap_err();
    assert!(e.is_retryable(), "{e}");
    let text = e.to_string();
    assert!(text.contains(&format!("127.0.0.1:{}", s.port)), "{text}");
    assert!(!format!("{text} {e:?}").contains("pw-never-shown"));

    // The same with STARTTLS: still a connection failure, still retryable.
    s.tls = TlsMode::StartTls;
    assert!(email::send(&s, &mail()).unwrap_err().is_retryable());
}

#[test]
fn email_tls_none_to_a_remote_host_is_refused_before_connecting() {
    let s = EmailSettings {
        host: "smtp.example.com".into(),
        port: 25,
        tls: TlsMode::None,
        user: None,
        password: None,
        from: "depwatch@example.com".into(),
        to: vec!["a@example.com".into()],
        timeout: Duration::from_secs(5),
    };
    let e = s.validate().unwrap_err();
    assert!(e.starts_with("notify.email.tls"), "{e}");
    let e = email::send(&s, &mail()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("notify.email.tls"), "{e}");
}

#[test]
fn email_required_tls_never_falls_back_to_clear_text() {
    // The server offers no STARTTLS and speaks no TLS: neither mode may deliver (or log in).
    let server = SmtpServer::start(None);
    for mode in [TlsMode::StartTls, TlsMode::Implicit] {
        let mut s = server.settings();
        s.tls = mode;
        s.user = Some("bot".into());
        s.password = Some(Secret::new("pw-x"));
        let e = email::send(&s, &mail()).unwrap_err();
        if mode == TlsMode::StartTls {
            // A server without STARTTLS is a configuration problem, not an outage.
            assert!(!e.is_retryable(), "{e}");
            assert!(e.to_string().contains("STARTTLS"), "{e}");
        }
        assert!(!format!("{e} {e:?}").contains("pw-x"));
    }
    assert!(server.messages().is_empty());
}

// ---------------------------------------------------------------- GitHub

pub(crate) const TOKEN: &str = "ghp_testTokenValue0123456789";
const REPO_PATH: &str = "/repos/octo/demo/security-advisories";

/// An in-memory repository-advisories API: list (two pages, Link header), POST, PATCH.
pub(crate) struct FakeGithub {
    pub(crate) server: Server,
    pub(crate) store: Arc<Mutex<Vec<Value>>>,
}

impl FakeGithub {
    pub(crate) fn start(initial: Vec<Value>) -> Self {
        let store = Arc::new(Mutex::new(initial));
        let base: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
        let (store2, base2) = (store.clone(), base.clone());
        let server = Server::start(move |req: &Request| {
            if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
                return Reply::Ok {
                    status: 401,
                    headers: vec![],
                    body: br#"{"message":"Bad credentials"}"#.to_vec(),
                };
            }
            let mut store = store2.lock().unwrap();
            let base = base2.get().cloned().unwrap_or_default();
            match (req.method.as_str(), req.path()) {
                ("GET", REPO_PATH) => {
                    // A real server filters by state; this one does too (when asked).
                    let want_draft = req.target.contains("state=draft");
                    let all: Vec<&Value> = store
                        .iter()
                        .filter(|a| !want_draft || a["state"] == "draft")
                        .collect();
                    let half = all.len().div_ceil(2);
                    if req.target.contains("page=2") {
                        Reply::ok(serde_json::to_vec(&all[half..]).unwrap())
                    } else {
                        Reply::ok(serde_json::to_vec(&all[..half]).unwrap()).header(
                            "Link",
                            &format!(
                                "<{base}{REPO_PATH}?state=draft&per_page=100&page=2>; rel=\"next\", \
                                 <{base}{REPO_PATH}?state=draft&per_page=100&page=2>; rel=\"last\""
                            ),
                        )
                    }
                }
                ("POST", REPO_PATH) => {
                    let mut a: Value = serde_json::from_slice(&req.body).unwrap();
                    let id = format!("GHSA-test-{:04}-xxxx", store.len() + 1);
                    a["ghsa_id"] = json!(id);
                    a["html_url"] = json!(format!(
                        "https://github.com/octo/demo/security/advisories/{id}"
                    ));
                    a["state"] = json!("draft");
                    store.push(a.clone());
                    Reply::Ok {
                        status: 201,
                        headers: vec![],
                        body: serde_json::to_vec(&a).unwrap(),
                    }
                }
                ("PATCH", p) if p.starts_with(&format!("{REPO_PATH}/")) => {
                    let id = &p[REPO_PATH.len() + 1..];
                    let patch: Value = serde_json::from_slice(&req.body).unwrap();
                    let Some(a) = store.iter_mut().find(|a| a["ghsa_id"] == id) else {
                        return Reply::status(404);
                    };
                    for (k, v) in patch.as_object().unwrap() {
                        a[k] = v.clone();
                    }
                    Reply::ok(serde_json::to_vec(a).unwrap())
                }
                _ => Reply::status(404),
            }
        });
        let _ = base.set(server.url.clone());
        Self { server, store }
    }

    fn target(&self) -> GithubTarget {
        GithubTarget {
            api_base: self.server.url.clone(),
            repo: "octo/demo".into(),
            token: Secret::new(TOKEN),
            allow_token_to_custom_base: true,
        }
    }
}

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
