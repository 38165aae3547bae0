//! `depwatch serve` over real HTTP on 127.0.0.1, and `depwatch submit` (the nightly-CI
//! client) end to end against it: submissions, reads, auth failures, bounds, rate limits,
//! metrics, graceful shutdown.

use crate::support::config::{Monitor, slack_section};
use crate::support::{command, ghsa_osv_source, manifest, output_text, pypa_source, shared_path};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A `depwatch serve` child; SIGTERM (then SIGKILL) when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(env: &Monitor, extra: &[&str]) -> Server {
        Self::start_on(env, &env.store.display().to_string(), extra)
    }

    /// On the store at `store` (a path or a postgres:// URL).
    fn start_on(env: &Monitor, store: &str, extra: &[&str]) -> Server {
        let mut child = env
            .command()
            .env("DEPWATCH_STORE", store)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&env.config)
            .arg("--out")
            .arg(&env.out)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start depwatch serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("depwatch serve: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server { child, url }
    }

    fn term(&mut self) -> Option<i32> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.term();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

const PROJECT: &str = "emby-watchparty";

/// A monitor whose one project is submitted, not checked out (no `path`), synced from the
/// PyPA records.
fn setup() -> Monitor {
    let text = format!(
        "sources = [\"{src}\", \"{ghsa}\"]\n\n[[project]]\nname = \"{PROJECT}\"\nsecurity-policy = \"{pol}\"\n\n\
         [[project]]\nname = \"other\"\n\n{slack}",
        src = pypa_source(),
        ghsa = ghsa_osv_source(),
        pol = shared_path("policies/emby-watchparty.SECURITY.md"),
        slack = slack_section(),
    );
    let env = Monitor::new("http://127.0.0.1:9/hook".into(), |_| text);
    let o = env
        .command()
        .args([
            "sync",
            "--source",
            &pypa_source(),
            "--source",
            &ghsa_osv_source(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    env
}

fn token(env: &Monitor, args: &[&str]) -> String {
    let o = env
        .command()
        .args(["token", "create"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

fn requirements() -> Vec<u8> {
    std::fs::read(manifest("emby-watchparty/requirements.txt")).unwrap()
}

fn form(files: &[(&str, Vec<u8>)]) -> reqwest::multipart::Form {
    let mut f = reqwest::multipart::Form::new();
    for (name, body) in files {
        let part = reqwest::multipart::Part::bytes(body.clone()).file_name(name.to_string());
        f = f.part(name.to_string(), part);
    }
    f
}

async fn post(
    s: &Server,
    project: &str,
    token: Option<&str>,
    files: &[(&str, Vec<u8>)],
) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .post(format!("{}/api/v1/projects/{project}/scan", s.url))
        .multipart(form(files));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

async fn get(s: &Server, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut r = reqwest::Client::new().get(format!("{}{path}", s.url));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

fn ids(report: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["package"]["name"], f["id"]))
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_answers_the_scan_report_and_publishes_once() {
    let env = setup();
    let tok = token(&env, &[PROJECT]);
    let mut server = Server::start(&env, &[]);

    // The CI client, end to end: exit 1 on the open finding, the report on stdout.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), requirements()).unwrap();
    let o = command(&env.store)
        .args(["submit", "--server", &server.url, "--project", PROJECT])
        .arg(dir.path())
        .env("DEPWATCH_TOKEN", &tok)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let submitted: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();

    // The same report as `scan --format json` of the same file from the same store.
    let s = command(&env.store)
        .args(["scan", "--format", "json"])
        .arg(dir.path().join("requirements.txt"))
        .output()
        .unwrap();
    let scanned: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(ids(&submitted), ids(&scanned));
    assert!(
        ids(&submitted)
            .iter()
            .any(|i| i.contains("GHSA-9wx4-h78v-vm56")),
        "{:?}",
        ids(&submitted)
    );
    assert_eq!(submitted["summary"], scanned["summary"]);
    // Paths read as the uploaded names, not the server's upload directory.
    assert_eq!(submitted["manifests"][0]["path"], "requirements.txt");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("depwatch-serve."), "{text}");

    // The monitor's memory, drafts and outbox changed as a run's would.
    let drafts = env.out.join(PROJECT).join("advisories");
    assert!(
        drafts
            .join(format!("{PROJECT}-GHSA-9wx4-h78v-vm56.md"))
            .is_file(),
        "{}",
        drafts.display()
    );
    // The draft names the file as it was submitted, not the server's upload directory.
    let draft =
        std::fs::read_to_string(drafts.join(format!("{PROJECT}-GHSA-9wx4-h78v-vm56.md"))).unwrap();
    assert!(
        draft.contains("declared in `requirements.txt` line"),
        "{draft}"
    );
    assert!(!draft.contains("depwatch-serve."), "{draft}");
    let st: serde_json::Value = get(&server, "/api/v1/status", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(st["outbox"]["pending"], 1, "{st}");

    // Submitted again unchanged: no event, nothing queued.
    let r = post(
        &server,
        PROJECT,
        Some(&tok),
        &[("requirements.txt", requirements())],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["depwatch-queued"], "0");
    assert_eq!(r.headers()["depwatch-events"], "");
    let st: serde_json::Value = get(&server, "/api/v1/status", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(st["outbox"]["pending"], 1, "{st}");

    // Reads from loopback need no token.
    let p: serde_json::Value = get(&server, "/api/v1/projects", None)
        .await
        .json()
        .await
        .unwrap();
    let emby = p["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == PROJECT)
        .unwrap();
    assert_eq!(emby["open"], 1, "{p}");
    assert_eq!(emby["max_severity"], "medium", "{p}");
    let f: serde_json::Value = get(
        &server,
        &format!("/api/v1/projects/{PROJECT}/findings"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(f["open"][0]["id"], "GHSA-9wx4-h78v-vm56", "{f}");

    // Metrics in the text format, from the store and the requests served.
    let m = get(&server, "/metrics", None).await;
    assert!(
        m.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let m = m.text().await.unwrap();
    assert!(
        m.contains("depwatch_open_findings{project=\"emby-watchparty\",severity=\"medium\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("depwatch_open_findings{project=\"other\",severity=\"none\"} 0"),
        "{m}"
    );
    assert!(
        m.contains("depwatch_outbox_messages{state=\"pending\"} 1"),
        "{m}"
    );
    assert!(m.contains("depwatch_feed_age_seconds{source="), "{m}");
    assert!(
        m.contains("depwatch_http_request_duration_seconds_count{route=\"/api/v1/projects/{name}/scan\",status=\"200\"} 2"),
        "{m}"
    );
    assert!(!m.contains(&tok));
    assert_eq!(
        get(&server, "/healthz", None).await.text().await.unwrap(),
        "ok\n"
    );

    // SIGTERM: a clean exit.
    assert_eq!(server.term(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_failures_are_refused_and_tokens_can_be_revoked() {
    let env = setup();
    let tok = token(&env, &[PROJECT]);
    let other = token(&env, &["other"]);
    let read = token(&env, &["--read"]);
    let server = Server::start(&env, &[]);
    let files = || vec![("requirements.txt", requirements())];

    assert_eq!(post(&server, PROJECT, None, &files()).await.status(), 401);
    assert_eq!(
        post(&server, PROJECT, Some("dwt_nope"), &files())
            .await
            .status(),
        401
    );
    assert_eq!(
        post(&server, PROJECT, Some(&other), &files())
            .await
            .status(),
        403
    );
    assert_eq!(
        post(&server, PROJECT, Some(&read), &files()).await.status(),
        403,
        "read tokens do not submit"
    );
    assert_eq!(
        post(&server, "bad%2Fname", Some(&tok), &files())
            .await
            .status(),
        400
    );
    assert_eq!(
        post(&server, "bad%20name", Some(&tok), &files())
            .await
            .status(),
        400
    );
    let r = get(&server, "/api/v1/projects/nope/findings", None).await;
    assert_eq!(r.status(), 404);

    // A presented token must be valid, also from loopback; a read token reads everything,
    // a submit token its own project.
    assert_eq!(
        get(&server, "/api/v1/status", Some("dwt_nope"))
            .await
            .status(),
        401
    );
    assert_eq!(
        get(&server, "/api/v1/status", Some(&read)).await.status(),
        200
    );
    assert_eq!(
        get(&server, "/api/v1/status", Some(&tok)).await.status(),
        403
    );
    let own = format!("/api/v1/projects/{PROJECT}/findings");
    assert_eq!(get(&server, &own, Some(&tok)).await.status(), 200);
    assert_eq!(get(&server, &own, Some(&other)).await.status(), 403);
    let r = reqwest::Client::new()
        .get(format!("{}/metrics", server.url))
        .header("cookie", format!("theme=dark; depwatch_token={read}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the cookie carries a read token");

    // Listed without the token; revoked, it no longer works.
    let l = env.command().args(["token", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&l.stdout);
    assert!(listed.contains(&format!("submit\t{PROJECT}")), "{listed}");
    assert!(
        !listed.contains(&tok) && !listed.contains(&read),
        "{listed}"
    );
    let id = listed
        .lines()
        .find(|l| l.contains(&format!("\t{PROJECT}\t")))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_string();
    let o = env
        .command()
        .args(["token", "revoke", &id])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let r = post(&server, PROJECT, Some(&tok), &files()).await;
    assert_eq!(r.status(), 401);
    let body = r.text().await.unwrap();
    assert!(body.contains("revoked") && !body.contains(&tok), "{body}");

    // The client: a refused submission exits 2 with the server's reason.
    let d = tempfile::tempdir().unwrap();
    let req = d.path().join("requirements.txt");
    std::fs::write(&req, requirements()).unwrap();
    let o = command(&env.store)
        .args(["submit", "--server", &server.url, "--project", PROJECT])
        .arg(&req)
        .env("DEPWATCH_TOKEN", &tok)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", output_text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("HTTP 401"),
        "{}",
        output_text(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_parts_and_names_are_bounded() {
    let env = setup();
    let tok = token(&env, &[PROJECT]);
    let server = Server::start(
        &env,
        &[
            "--max-body",
            "200000",
            "--max-file",
            "50000",
            "--max-files",
            "3",
        ],
    );
    let big = vec![b'#'; 60_000];
    let r = post(&server, PROJECT, Some(&tok), &[("requirements.txt", big)]).await;
    assert_eq!(r.status(), 413);
    let huge = vec![b'#'; 300_000];
    let r = post(&server, PROJECT, Some(&tok), &[("Cargo.lock", huge)]).await;
    assert_eq!(r.status(), 413);
    let many = [
        ("requirements.txt", requirements()),
        ("Cargo.lock", Vec::new()),
        ("uv.lock", Vec::new()),
        ("poetry.lock", Vec::new()),
    ];
    assert_eq!(
        post(&server, PROJECT, Some(&tok), &many).await.status(),
        413
    );
    for bad in ["../requirements.txt", "notes.txt", "a/Cargo.lock", ".."] {
        let r = post(&server, PROJECT, Some(&tok), &[(bad, requirements())]).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let twice = [
        ("requirements.txt", requirements()),
        ("requirements.txt", requirements()),
    ];
    assert_eq!(
        post(&server, PROJECT, Some(&tok), &twice).await.status(),
        400
    );
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/projects/{PROJECT}/scan", server.url))
        .bearer_auth(&tok)
        .header("content-type", "text/plain")
        .body("requests==2.31.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // Within the bounds it is accepted.
    let r = post(
        &server,
        PROJECT,
        Some(&tok),
        &[("requirements.txt", requirements())],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(!env.out.join("..").join("requirements.txt").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn each_token_is_rate_limited() {
    let env = setup();
    let tok = token(&env, &[PROJECT]);
    let other = token(&env, &["other"]);
    let server = Server::start(&env, &["--rate-limit", "0.01", "--rate-burst", "2"]);
    let empty: &[(&str, Vec<u8>)] = &[];
    for _ in 0..2 {
        // Refused for having no file, after the token and its bucket were checked.
        assert_eq!(
            post(&server, PROJECT, Some(&tok), empty).await.status(),
            400
        );
    }
    let r = post(&server, PROJECT, Some(&tok), empty).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1, "{wait}");
    // Another token has its own bucket.
    assert_eq!(
        post(&server, "other", Some(&other), empty).await.status(),
        400
    );
}

/// A CycloneDX 1.6 JSON SBOM of one vulnerable PyPI package.
fn sbom() -> serde_json::Value {
    serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [{
            "type": "library",
            "name": "requests",
            "version": "2.31.0",
            "purl": "pkg:pypi/requests@2.31.0"
        }]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sbom_is_scanned_once_its_format_is_registered() {
    let env = setup();
    let tok = token(&env, &[PROJECT]);
    let server = Server::start(&env, &[]);
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/projects/{PROJECT}/scan", server.url))
        .bearer_auth(&tok)
        .header("content-type", "application/vnd.cyclonedx+json")
        .body(sbom().to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    if depwatch::manifests::registry::by_path(Path::new("bom.cdx.json")).is_some() {
        assert_eq!(status, 200, "{body}");
        let report: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(
            ids(&report)
                .iter()
                .any(|i| i.contains("GHSA-9wx4-h78v-vm56")),
            "{body}"
        );
    } else {
        // Until the CycloneDX format lands: a clear refusal, not a silent empty scan.
        assert_eq!(status, 415, "{body}");
        assert!(body.contains("CycloneDX"), "{body}");
    }
}

/// The `depwatch submit` line of `docs/nightly-ci.md`'s submit step, run as written by `sh`
/// in a checkout-shaped directory against a local server, for two `FAIL_ON` levels.
#[tokio::test(flavor = "multi_thread")]
async fn nightly_submit_step_runs_against_a_local_server() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/nightly-ci.md"))
            .unwrap();
    let line = doc
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("depwatch submit --server"))
        .expect("the submit step in docs/nightly-ci.md")
        .to_string();
    let env = setup();
    let tok = token(&env, &[PROJECT]);
    let server = Server::start(&env, &[]);
    let checkout = tempfile::tempdir().unwrap();
    std::fs::write(checkout.path().join("requirements.txt"), requirements()).unwrap();
    std::fs::write(checkout.path().join("README.md"), "not a manifest").unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_depwatch")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (fail_on, code) in [("high", 0), ("medium", 1)] {
        let o = std::process::Command::new("sh")
            .args(["-c", &line])
            .current_dir(checkout.path())
            .env("PATH", &path)
            .env("DEPWATCH_TOKEN", &tok)
            .env("DEPWATCH_SERVER", &server.url)
            .env("DEPWATCH_PROJECT", PROJECT)
            .env("FAIL_ON", fail_on)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(code),
            "{fail_on}: {}",
            output_text(&o)
        );
        let report: serde_json::Value = serde_json::from_slice(
            &std::fs::read(checkout.path().join("depwatch-report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(report["summary"]["findings"], 1, "{report}");
    }
}

/// `serve --watch`: the watcher's cycles run in the server's process, on the same store, and
/// both stop cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread")]
async fn serve_runs_the_watchers_cycles_too() {
    let env = setup();
    let mut server = Server::start(
        &env,
        &[
            "--watch",
            "--schedule",
            "0 0 1 1 *",
            "--offline",
            "--no-deliver",
            "--test-interval-ms",
            "300",
        ],
    );
    let until = Instant::now() + Duration::from_secs(60);
    let st = loop {
        let st: serde_json::Value = get(&server, "/api/v1/status", None)
            .await
            .json()
            .await
            .unwrap();
        if st["last_run"]["finished_at"].is_string() || Instant::now() > until {
            break st;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(st["last_run"]["outcome"], "ok", "{st}");
    let m = get(&server, "/metrics", None).await.text().await.unwrap();
    assert!(m.contains("depwatch_last_cycle_duration_seconds "), "{m}");
    assert_eq!(server.term(), Some(0));
}

/// The server on a PostgreSQL store: the SQLite store (records, tokens) moved over with
/// `db copy`, a submission authorised by the copied token answers the same report, and a token
/// revoked on PostgreSQL is refused.
#[tokio::test(flavor = "multi_thread")]
async fn serve_on_postgres_takes_the_tokens_db_copy_moved() {
    let env = setup();
    let tok = token(&env, &[PROJECT]);
    // The cluster helper blocks on its own runtime: not on this test's.
    let pg = tokio::task::spawn_blocking(|| crate::postgres::cluster::server().fresh_database())
        .await
        .unwrap();
    let depwatch = |args: &[&str]| {
        let o = env
            .command()
            .env("DEPWATCH_STORE", &pg)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let from = format!("sqlite:{}", env.store.display());
    let copied = depwatch(&["db", "copy", "--from", &from, "--to", &pg]);
    assert!(copied.contains(", 1 API tokens"), "{copied}");
    let list = depwatch(&["token", "list"]);
    assert!(list.contains(PROJECT), "{list}");
    assert!(!list.contains(&tok), "a token is never shown again: {list}");

    let server = Server::start_on(&env, &pg, &[]);
    let r = post(
        &server,
        PROJECT,
        Some(&tok),
        &[("requirements.txt", requirements())],
    )
    .await;
    assert_eq!(r.status(), 200);
    let report: serde_json::Value = r.json().await.unwrap();
    assert!(
        ids(&report)
            .iter()
            .any(|i| i.contains("GHSA-9wx4-h78v-vm56")),
        "{:?}",
        ids(&report)
    );
    let st: serde_json::Value = get(&server, "/api/v1/status", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        st["outbox"]["pending"], 1,
        "the submission queued its alert: {st}"
    );

    let id = list
        .lines()
        .find(|l| l.contains(PROJECT))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    depwatch(&["token", "revoke", &id]);
    let r = post(
        &server,
        PROJECT,
        Some(&tok),
        &[("requirements.txt", requirements())],
    )
    .await;
    assert_eq!(r.status(), 401);
}

/// The dashboard served by `depwatch serve`: the overview and a project page from the
/// server's store (loaded in headless Chromium too), the page's draft link answered with the
/// draft as text, names outside the drafts refused, and the login form's cookie.
#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_is_served_with_its_drafts_and_a_login_cookie() {
    let env = setup();
    let tok = token(&env, &[PROJECT]);
    let read = token(&env, &["--read"]);
    let server = Server::start(&env, &[]);
    let r = post(
        &server,
        PROJECT,
        Some(&tok),
        &[("requirements.txt", requirements())],
    )
    .await;
    assert_eq!(r.status(), 200);

    let r = get(&server, "/", None).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let overview = r.text().await.unwrap();
    assert!(
        overview.contains(&format!("href=\"projects/{PROJECT}.html\"")),
        "{overview}"
    );

    // A real browser renders the served overview.
    let url = format!("{}/", server.url);
    let dom =
        tokio::task::spawn_blocking(move || crate::dashboard::chromium(&["--dump-dom"], &url))
            .await
            .unwrap();
    assert!(
        dom.contains(&format!("data-project=\"{PROJECT}\"")),
        "{dom}"
    );

    let page = get(&server, &format!("/projects/{PROJECT}.html"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("GHSA-9wx4-h78v-vm56"), "{page}");
    let link = format!("drafts/{PROJECT}-GHSA-9wx4-h78v-vm56.md");
    assert!(page.contains(&format!("href=\"{link}\"")), "{page}");
    let r = get(&server, &format!("/projects/{link}"), None).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let draft = r.text().await.unwrap();
    assert!(draft.contains("GHSA-9wx4-h78v-vm56"), "{draft}");
    for bad in [
        "/projects/nope.html",
        "/projects/drafts/..%2F..%2Fdepwatch.toml",
        &format!("/projects/drafts/{PROJECT}-nothing.md"),
        "/projects/drafts/.hidden.md",
    ] {
        assert_eq!(get(&server, bad, None).await.status(), 404, "{bad}");
    }

    // The login form sets the cookie the pages read; a wrong token gets the form again.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = |t: &str| {
        client
            .post(format!("{}/login", server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={t}"))
            .send()
    };
    let r = login("dwt_wrong").await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(!r.headers().contains_key("set-cookie"));
    let again = r.text().await.unwrap();
    assert!(
        !again.contains("dwt_wrong"),
        "a presented token is never echoed: {again}"
    );
    let r = login(&read).await.unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with(&format!("depwatch_token={read};")),
        "{cookie}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let with_cookie = |c: String| {
        client
            .get(format!("{}/", server.url))
            .header("cookie", c)
            .send()
    };
    assert_eq!(
        with_cookie(format!("depwatch_token={read}"))
            .await
            .unwrap()
            .status(),
        200
    );
    // A presented token is checked also from loopback: a bad cookie gets the login form.
    let r = with_cookie("depwatch_token=dwt_revoked".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("action=\"/login\""));
    // A refused reader learns nothing of what exists: a draft that exists and one that does
    // not get the same 401.
    for path in [
        format!("/projects/{link}"),
        "/projects/drafts/nope-x.md".to_string(),
    ] {
        let r = client
            .get(format!("{}{path}", server.url))
            .header("cookie", "depwatch_token=dwt_revoked")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    // A submit token: its project's draft; another project's page is "not found", whether
    // it exists or not; the API's findings of another project, existing or not, 403.
    let as_submitter = |path: String| {
        client
            .get(format!("{}{path}", server.url))
            .bearer_auth(&tok)
            .send()
    };
    assert_eq!(
        as_submitter(format!("/projects/{link}"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        as_submitter("/projects/other.html".into())
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        as_submitter("/projects/nope.html".into())
            .await
            .unwrap()
            .status(),
        404
    );
    for name in ["other", "nope"] {
        let r = as_submitter(format!("/api/v1/projects/{name}/findings"))
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{name}");
    }
    // A submit token reads its own project's page, not the overview.
    assert_eq!(
        with_cookie(format!("depwatch_token={tok}"))
            .await
            .unwrap()
            .status(),
        403
    );
    let r = client
        .get(format!("{}/projects/{PROJECT}.html", server.url))
        .header("cookie", format!("depwatch_token={tok}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
