//! Issue 12: attacks from hostile input (a scanned checkout's `.git/config`, servers that echo
//! secrets, a closed stdout, a store that may not be written), each run against the real binary
//! with real peers on 127.0.0.1.

use crate::support::shared;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn git(dir: &Path, home: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("LC_ALL", "C")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A repository that says it is a partial clone whose promisor remote is reached over ssh with
/// a `core.sshCommand` that touches `marker`, and whose newer revision's requirements.txt blob is
/// missing. Any lazy fetch of that blob runs the command.
fn hostile_partial_clone(tmp: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (dir, home) = (tmp.join("repo"), tmp.join("home"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let marker = tmp.join("pwned");
    git(&dir, &home, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("requirements.txt"), "requests==2.31.0\n").unwrap();
    git(&dir, &home, &["add", "-A"]);
    git(&dir, &home, &["commit", "-q", "-m", "v1"]);
    git(&dir, &home, &["tag", "v1"]);
    std::fs::write(
        dir.join("requirements.txt"),
        "requests==2.31.0\nidna==3.7\n",
    )
    .unwrap();
    git(&dir, &home, &["add", "-A"]);
    git(&dir, &home, &["commit", "-q", "-m", "v2"]);
    git(&dir, &home, &["tag", "v2"]);
    let blob = git(&dir, &home, &["rev-parse", "v2:requirements.txt"]);
    let blob = blob.trim();
    // Loose objects only (nothing was packed), so removing the file removes the blob.
    std::fs::remove_file(dir.join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();
    std::fs::remove_file(dir.join("requirements.txt")).unwrap();
    for (k, v) in [
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", "origin"),
        ("remote.origin.url", "ssh://attacker.invalid/repo"),
        ("remote.origin.promisor", "true"),
        (
            "core.sshCommand",
            &format!("touch {}; false", marker.display()),
        ),
    ] {
        git(&dir, &home, &["config", k, v]);
    }
    (dir, home, marker)
}

/// Item 1. Old code: `git ls-tree -l` fetched the missing blob lazily, running the repository's
/// sshCommand, and the manifest whose blob could not be read vanished from v2, so its
/// vulnerability was reported as fixed with exit 0.
#[test]
fn notes_never_runs_a_partial_clones_ssh_command_and_a_missing_blob_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, home, marker) = hostile_partial_clone(tmp.path());

    // The set-up is a real attack: plain git runs the command when asked for the blob's size.
    git(&dir, &home, &["ls-tree", "-r", "-l", "v2"]);
    assert!(
        marker.exists(),
        "the test repository does not trigger a lazy fetch"
    );
    std::fs::remove_file(&marker).unwrap();

    let ghsa = shared().join("feeds-reference/ghsa-osv/PyPI");
    let out = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["notes", "--repo"])
        .arg(&dir)
        .args(["--from", "v1", "--to", "v2", "--source"])
        .arg(format!("osv-dir:{}", ghsa.display()))
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(!marker.exists(), "depwatch notes ran core.sshCommand");
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        !stdout.contains("GHSA-9wx4-h78v-vm56"),
        "no notes on a partial read: {stdout}"
    );
    assert!(
        stderr.contains("requirements.txt") && stderr.contains("missing or unreadable"),
        "{stderr}"
    );
}

/// A config watching one corpus app, with the store's sources local.
fn monitor_config(dir: &Path) -> PathBuf {
    let cfg = dir.join("depwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "sources = [\"osv-dir:{pypa}\"]\noutput = \"{out}\"\n\
             [[project]]\nname = \"emby-watchparty\"\npath = \"{manifest}\"\n\
             security-policy = \"{policy}\"\nnotify = []\n",
            pypa = crate::support::pypa_dir().display(),
            out = dir.join("out").display(),
            manifest = crate::support::manifest("emby-watchparty/requirements.txt").display(),
            policy = shared()
                .join("policies/emby-watchparty.SECURITY.md")
                .display(),
        ),
    )
    .unwrap();
    cfg
}

/// Run depwatch with a standard output whose reader is already gone (`depwatch ... | head -c0`):
/// every write to it fails with EPIPE.
fn closed_stdout(store: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    crate::support::command(store)
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

/// Item 12. Old code: each of these panicked in `println!` ("failed printing to stdout") and
/// exited 101; a closed pipe now ends nothing but the output, and the exit code is the
/// command's own.
#[test]
fn a_closed_stdout_ends_no_subcommand_with_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.sqlite3");
    let cfg = monitor_config(tmp.path());
    let cfg = cfg.to_str().unwrap();
    let source = format!("osv-dir:{}", crate::support::pypa_dir().display());
    let policy = shared().join("policies/emby-watchparty.SECURITY.md");
    let (repo, home) = (tmp.path().join("repo"), tmp.path().join("home"));
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    git(&repo, &home, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("requirements.txt"), "requests==2.31.0\n").unwrap();
    git(&repo, &home, &["add", "-A"]);
    git(&repo, &home, &["commit", "-q", "-m", "v1"]);
    let runs: Vec<Vec<&str>> = vec![
        vec!["sync", "--config", cfg, "--source", &source],
        vec!["db", "stats"],
        vec!["db", "stats", "--json"],
        vec!["db", "check"],
        vec!["policy", "show", "--file", policy.to_str().unwrap()],
        vec!["policy", "show", "--config", cfg],
        vec!["run", "--config", cfg, "--no-sync", "--no-deliver"],
        vec![
            "run",
            "--config",
            cfg,
            "--no-sync",
            "--no-deliver",
            "--json",
        ],
        vec!["status", "--config", cfg],
        vec!["status", "--config", cfg, "--json"],
        vec![
            "notes",
            "--repo",
            repo.to_str().unwrap(),
            "--from",
            "HEAD",
            "--source",
            &source,
        ],
    ];
    for args in &runs {
        let out = closed_stdout(&store, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// Run depwatch as a user who may read the store but not write it. As root (the test
/// machines), permissions stop nothing, so the command runs as `nobody` through `setpriv`:
/// then the kernel really refuses every write. Without root, the caller is such a user already
/// (the store was made read-only with chmod). Returns `None` when running as root without
/// `setpriv`; the caller then checks only that nothing was written.
fn as_reader(dir: &Path, args: &[&str]) -> Option<Output> {
    use std::os::unix::fs::MetadataExt;
    let probe = dir.join("whoami");
    std::fs::write(&probe, "").unwrap();
    let root = std::fs::metadata(&probe).unwrap().uid() == 0;
    std::fs::remove_file(&probe).unwrap();
    let bin = env!("CARGO_BIN_EXE_depwatch");
    let mut cmd = if root {
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
            .into_iter()
            .find(|p| Path::new(p).exists())?;
        let mut c = Command::new(setpriv);
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            bin,
        ]);
        c
    } else {
        Command::new(bin)
    };
    Some(
        cmd.args(args)
            .env("NO_COLOR", "1")
            .env_remove("DEPWATCH_STORE")
            .output()
            .unwrap(),
    )
}

/// Item 13. Old code opened the store read-write and set WAL mode (and migrated) before
/// reading: a store in a directory the user may not write failed every read command with
/// "attempt to write a readonly database". Each read command now works, and neither the store
/// nor its directory changes (no `-wal` / `-shm` left behind, same bytes, same mtime).
#[test]
fn read_commands_work_on_a_store_they_may_not_write() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let ro = base.join("ro");
    let store = ro.join("store.sqlite3");
    let store_s = store.to_str().unwrap();
    let cfg = monitor_config(base);
    let cfg = cfg.to_str().unwrap();
    let source = format!("osv-dir:{}", crate::support::pypa_dir().display());
    let sync =
        crate::support::depwatch_store(&store, &["sync", "--config", cfg, "--source", &source]);
    assert!(sync.status.success(), "{}", text(&sync).1);
    let run = crate::support::depwatch_store(
        &store,
        &["run", "--config", cfg, "--no-sync", "--no-deliver"],
    );
    assert!(run.status.success(), "{}", text(&run).1);
    // A new store's file is 0600 and its directory 0700 (item 7).
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store), 0o600);
    assert_eq!(mode(&ro), 0o700);

    let set = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    set(base, 0o755).unwrap();
    set(&store, 0o444).unwrap();
    set(&ro, 0o555).unwrap();
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(&ro)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = (
        std::fs::read(&store).unwrap(),
        std::fs::metadata(&store).unwrap().modified().unwrap(),
        listing(),
    );
    assert!(
        !before
            .2
            .iter()
            .any(|n| n.ends_with("-wal") || n.ends_with("-shm")),
        "the writer left a WAL behind: {:?}",
        before.2
    );

    let manifest = crate::support::manifest("emby-watchparty/requirements.txt");
    let commands: Vec<Vec<&str>> = vec![
        vec!["db", "stats", "--store", store_s],
        vec!["db", "check", "--store", store_s],
        vec!["status", "--config", cfg, "--store", store_s],
        vec!["scan", "--store", store_s, manifest.to_str().unwrap()],
    ];
    for args in &commands {
        let Some(out) = as_reader(base, args) else {
            eprintln!("root without setpriv: only checking that nothing is written");
            break;
        };
        let (stdout, stderr) = text(&out);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {stdout}\n{stderr}"
        );
        assert!(!stderr.contains("readonly"), "{args:?}: {stderr}");
        let expect = match args[0] {
            "db" if args[1] == "stats" => "records: ",
            "db" => ": ok",
            "status" => "last cycle: started",
            _ => "Summary:",
        };
        assert!(stdout.contains(expect), "{args:?}: {stdout}");
    }
    let after = (
        std::fs::read(&store).unwrap(),
        std::fs::metadata(&store).unwrap().modified().unwrap(),
        listing(),
    );
    assert!(before.0 == after.0, "the store's bytes changed");
    assert_eq!(before.1, after.1, "the store's mtime changed");
    assert_eq!(before.2, after.2, "files appeared next to the store");
    set(&ro, 0o755).unwrap();
}

/// A hostile SMTP server on 127.0.0.1: offers AUTH PLAIN and LOGIN, and answers every login
/// with `535` echoing the AUTH argument it received. Keeps every line it was sent.
struct EchoSmtp {
    port: u16,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl EchoSmtp {
    fn start() -> Self {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = lines.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || -> std::io::Result<()> {
                    let mut w = stream.try_clone()?;
                    let mut r = BufReader::new(stream);
                    w.write_all(b"220 hostile ESMTP\r\n")?;
                    let mut line = String::new();
                    while r.read_line(&mut line)? > 0 {
                        let l = line.trim_end().to_string();
                        line.clear();
                        log.lock().unwrap().push(l.clone());
                        let upper = l.to_ascii_uppercase();
                        let reply = if upper.starts_with("EHLO") {
                            "250-hostile\r\n250 AUTH PLAIN LOGIN\r\n".to_string()
                        } else if let Some(arg) = l.strip_prefix("AUTH PLAIN ") {
                            format!("535 5.7.8 Authentication failed: {arg}\r\n")
                        } else if upper.starts_with("AUTH") {
                            // LOGIN, or PLAIN without an initial response: ask, then echo.
                            w.write_all(b"334 \r\n")?;
                            r.read_line(&mut line)?;
                            let arg = line.trim_end().to_string();
                            line.clear();
                            log.lock().unwrap().push(arg.clone());
                            format!("535 5.7.8 Authentication failed: {arg}\r\n")
                        } else if upper.starts_with("QUIT") {
                            w.write_all(b"221 bye\r\n")?;
                            return Ok(());
                        } else {
                            "250 OK\r\n".to_string()
                        };
                        w.write_all(reply.as_bytes())?;
                    }
                    Ok(())
                });
            }
        });
        Self { port, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

/// A config whose one project has open findings (requests 2.31.0 against the GitHub advisory
/// snapshot), notifying `channels`.
fn channel_config(dir: &Path, channels: &str) -> PathBuf {
    let cfg = dir.join("depwatch.toml");
    std::fs::write(dir.join("requirements.txt"), "requests==2.31.0\n").unwrap();
    std::fs::write(
        &cfg,
        format!(
            "sources = [\"osv-dir:{ghsa}\"]\noutput = \"{out}\"\n\
             [[project]]\nname = \"app\"\npath = \"requirements.txt\"\n{channels}",
            ghsa = shared().join("feeds-reference/ghsa-osv/PyPI").display(),
            out = dir.join("out").display(),
        ),
    )
    .unwrap();
    cfg
}

fn email_channel(port: u16, password_env: &str) -> String {
    format!(
        "[notify.email]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nuser = \"depwatch\"\n\
         password-env = \"{password_env}\"\nfrom = \"depwatch <d@example.com>\"\n\
         to = [\"ops@example.com\"]\n"
    )
}

fn run_monitor(dir: &Path, cfg: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_depwatch"));
    cmd.arg("run")
        .arg("--config")
        .arg(cfg)
        .arg("--offline")
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", dir.join("store/store.sqlite3"))
        .env_remove("DEPWATCH_ALLOW_SECRET_ENV");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Item 6. Old code: `password-env = "GITHUB_TOKEN"` with a host the config names sent the
/// operator's GitHub token to that host in the SMTP login. Now the config is refused, naming
/// the line, before anything is sent; the operator can allow the name in the environment.
#[test]
fn a_config_cannot_send_the_operators_github_token_to_its_smtp_host() {
    let token = "ghp_operatorsOwnToken1234567890";
    let smtp = EchoSmtp::start();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = channel_config(tmp.path(), &email_channel(smtp.port, "GITHUB_TOKEN"));
    let out = run_monitor(tmp.path(), &cfg, &[("GITHUB_TOKEN", token)]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("depwatch.toml:")
            && stderr.contains("password-env")
            && stderr.contains("DEPWATCH_ALLOW_SECRET_ENV=GITHUB_TOKEN"),
        "{stderr}"
    );
    assert!(
        smtp.lines().is_empty(),
        "the SMTP host was contacted: {:?}",
        smtp.lines()
    );

    // The operator's word (in the environment, not the config) allows the name: the login is
    // then attempted (and this server refuses it), which shows the refusal above was the rule.
    let out = run_monitor(
        tmp.path(),
        &cfg,
        &[
            ("GITHUB_TOKEN", token),
            ("DEPWATCH_ALLOW_SECRET_ENV", "SOMETHING_ELSE,GITHUB_TOKEN"),
        ],
    );
    assert!(
        smtp.lines().iter().any(|l| l.starts_with("AUTH")),
        "{:?}\n{}",
        smtp.lines(),
        text(&out).1
    );
}

/// Every file of the store (database and WAL), as one lossy string.
fn store_bytes(dir: &Path) -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(dir.join("store")).unwrap().flatten() {
        all.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
    }
    all
}

fn status_json(dir: &Path, cfg: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(["status", "--json", "--config"])
        .arg(cfg)
        .env("DEPWATCH_STORE", dir.join("store/store.sqlite3"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    text(&out).0
}

/// Item 7, SMTP. Old code scrubbed only the password as is: a server answering `535` with the
/// AUTH PLAIN argument put base64("\0user\0password") into stderr, `status --json` and the
/// store, and anyone can decode it.
#[test]
fn an_smtp_reply_echoing_the_login_leaks_no_form_of_the_password() {
    use base64::Engine as _;
    let password = "s3cret-Pa55word!";
    let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0depwatch\0{password}"));
    let smtp = EchoSmtp::start();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = channel_config(
        tmp.path(),
        &email_channel(smtp.port, "DEPWATCH_TEST_SMTP_PASSWORD"),
    );
    let out = run_monitor(
        tmp.path(),
        &cfg,
        &[("DEPWATCH_TEST_SMTP_PASSWORD", password)],
    );
    let (stdout, stderr) = text(&out);
    // The attack happened: the server got the login and answered 535 with it.
    assert!(
        smtp.lines().iter().any(|l| l.contains(&plain)),
        "{:?}",
        smtp.lines()
    );
    assert!(stderr.contains("535"), "{stdout}\n{stderr}");
    let status = status_json(tmp.path(), &cfg);
    assert!(status.contains("535"), "{status}");
    let store = store_bytes(tmp.path());
    // The base64 of the password at each alignment, less the characters shared with
    // neighbours: any of them would let a reader decode most of it.
    let cores: Vec<String> = (0..3)
        .map(|k| {
            let mut b = vec![0u8; k];
            b.extend_from_slice(password.as_bytes());
            let e = base64::engine::general_purpose::STANDARD.encode(&b);
            e[(8 * k).div_ceil(6)..8 * b.len() / 6].to_string()
        })
        .collect();
    for (place, hay) in [
        ("stderr", &stderr),
        ("stdout", &stdout),
        ("status", &status),
        ("store", &store),
    ] {
        assert!(!hay.contains(password), "{place} has the password");
        assert!(
            !hay.contains(plain.trim_end_matches('=')),
            "{place} has the AUTH PLAIN argument"
        );
        for c in &cores {
            assert!(
                !hay.contains(c.as_str()),
                "{place} has base64 {c} of the password"
            );
        }
    }
}

/// Item 7, Slack. Old code scrubbed the URL, its path and its last segment only: a webhook
/// whose secret is a middle segment leaked when the server's error body echoed the URL's parts.
/// The body is also kept only cleaned and bounded (no control characters, no 10 KB line).
#[test]
fn a_webhook_error_body_leaks_no_segment_of_the_webhook() {
    use crate::support::loopback::{Reply, Server};
    // The secret segment as the URL carries it, and decoded as a server may echo it.
    let secret = "Zq7Kx9Middle%2BSecret";
    let decoded = "Zq7Kx9Middle+Secret";
    let server = Server::start(move |req| {
        let seg: Vec<&str> = req.path().split('/').collect();
        let body = format!(
            "no such hook \x1b]0;owned\x07 token={} decoded={} {}",
            seg.get(2).unwrap_or(&""),
            "Zq7Kx9Middle+Secret",
            "x".repeat(10_000)
        );
        Reply::Ok {
            status: 404,
            headers: vec![],
            body: body.into_bytes(),
        }
    });
    let hook = format!("{}/hook/{secret}/slack", server.url);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = channel_config(
        tmp.path(),
        "[notify.slack]\nwebhook-env = \"DEPWATCH_TEST_HOOK\"\n",
    );
    let out = run_monitor(tmp.path(), &cfg, &[("DEPWATCH_TEST_HOOK", &hook)]);
    let (stdout, stderr) = text(&out);
    assert!(!server.requests().is_empty(), "the webhook was not called");
    assert!(stderr.contains("404"), "{stdout}\n{stderr}");
    let status = status_json(tmp.path(), &cfg);
    assert!(status.contains("404"), "{status}");
    let store = store_bytes(tmp.path());
    for (place, hay) in [
        ("stderr", &stderr),
        ("stdout", &stdout),
        ("status", &status),
        ("store", &store),
    ] {
        assert!(
            !hay.contains(secret),
            "{place} has the webhook's secret segment"
        );
        assert!(!hay.contains(decoded), "{place} has it percent-decoded");
        // (The store's pages are binary: an ESC byte there proves nothing.)
        assert!(
            place == "store" || (!hay.contains('\x1b') && !hay.contains("\\u001b")),
            "{place} has the control sequence"
        );
        assert!(
            !hay.contains(&"x".repeat(1000)),
            "{place} has the body unbounded"
        );
    }
}

/// Item 2. Old code: `-r /etc/passwd`, `-r ../../x` and a committed symlink out of the checkout
/// were read, and their lines came back as "not checked" entries and warnings in every format
/// (the exfiltration of runner secrets through a PR comment or CI log).
#[test]
fn includes_never_read_or_print_a_file_outside_the_scanned_root() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("checkout");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(repo.join("deep/er")).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    // What a runner keeps outside the checkout: a `.env` with a token in a path-like value.
    let secret = "tok3n/9f8e7d6c5b4a";
    std::fs::write(home.join(".env"), format!("DEPWATCH_TOKEN={secret}\n")).unwrap();
    std::fs::write(repo.join("requirements.txt"), "idna==3.7\n-r /etc/passwd\n").unwrap();
    std::fs::write(
        repo.join("deep/er/requirements.txt"),
        "six==1.16.0\n\n-c ../../../home/.env\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(home.join(".env"), repo.join("deep/env.txt")).unwrap();
    std::fs::write(repo.join("deep/requirements.txt"), "-r env.txt\n").unwrap();
    let rustsec = crate::support::rustsec_dir();
    let source = format!("rustsec-dir:{}", rustsec.display());
    let repo_arg = repo.to_str().unwrap();
    for format in ["table", "json", "markdown"] {
        let out =
            crate::support::depwatch(&["scan", repo_arg, "--source", &source, "--format", format]);
        let (stdout, stderr) = text(&out);
        let all = format!("{stdout}{stderr}");
        assert_eq!(out.status.code(), Some(2), "{format}: {all}");
        for leak in ["root:x:0", "/bin/", secret, "DEPWATCH_TOKEN"] {
            assert!(!all.contains(leak), "{format} prints `{leak}`: {all}");
        }
        for (manifest, line) in [
            ("checkout/requirements.txt", 2),
            ("er/requirements.txt", 3),
            ("deep/requirements.txt", 1),
        ] {
            assert!(
                all.contains(&format!("{manifest}:{line}: include `")),
                "{format}: no error at {manifest}:{line}: {all}"
            );
        }
        assert!(
            all.matches("outside the scanned root").count() >= 3,
            "{format}: {all}"
        );
    }
    // A file given to scan confines its includes to its own directory.
    let out = crate::support::depwatch(&[
        "scan",
        repo.join("deep/requirements.txt").to_str().unwrap(),
        "--source",
        &source,
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    assert!(stderr.contains("outside the scanned root"), "{stderr}");
    // The trusted-use switch lifts the rule, and still echoes no line of the included file.
    let out = crate::support::depwatch(&[
        "scan",
        repo_arg,
        "--source",
        &source,
        "--format",
        "json",
        "--allow-outside-includes",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(!stdout.contains("outside the scanned root"), "{stdout}");
    for leak in ["root:x:0", secret] {
        assert!(
            !stdout.contains(leak) && !stderr.contains(leak),
            "{leak}: {stdout}{stderr}"
        );
    }
}

/// A project pinning `alpha` and `beta`, an OSV feed with one advisory on each (as `summaries`
/// say), and a config filing drafts on the loopback GitHub `api`.
fn draft_project(dir: &Path, api: &str, summaries: [&str; 2]) -> PathBuf {
    let feed = dir.join("feed");
    std::fs::create_dir_all(&feed).unwrap();
    for ((name, id), summary) in [("alpha", "OSV-TEST-A"), ("beta", "OSV-TEST-B")]
        .into_iter()
        .zip(summaries)
    {
        let rec = serde_json::json!({
            "id": id, "modified": "2026-11-01T00:00:00Z", "summary": summary,
            "details": format!("Details: {summary}"),
            "affected": [{"package": {"ecosystem": "PyPI", "name": name},
                          "ranges": [{"type": "ECOSYSTEM",
                                      "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]
        });
        std::fs::write(feed.join(format!("{id}.json")), rec.to_string()).unwrap();
    }
    std::fs::write(dir.join("requirements.txt"), "alpha==1.0\nbeta==1.0\n").unwrap();
    let cfg = dir.join("depwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "sources = [\"osv-dir:{}\"]\n\n[[project]]\nname = \"demo\"\npath = \"{}\"\n\
             [project.github]\nrepo = \"octo/demo\"\ntoken-env = \"DEPWATCH_TEST_GH_TOKEN\"\n\
             api-url = \"{api}\"\n",
            feed.display(),
            dir.join("requirements.txt").display()
        ),
    )
    .unwrap();
    cfg
}

fn monitor(dir: &Path, cfg: &Path, api: &str, args: &[&str]) -> Output {
    crate::support::command(&dir.join("store.sqlite3"))
        .args(args)
        .arg("--config")
        .arg(cfg)
        .env("DEPWATCH_NOW", "2026-12-01T09:00:00Z")
        .env("DEPWATCH_TEST_GH_TOKEN", crate::support::github::TOKEN)
        .env("DEPWATCH_GHSA_TOKEN_URL", api)
        .output()
        .expect("run depwatch")
}

fn last_line(description: &serde_json::Value) -> String {
    let d = description.as_str().unwrap();
    d.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap()
        .trim()
        .to_string()
}

/// Item 8. Old code: each advisory summary carries the other finding's marker, so the draft
/// filed first "contained" the second's marker and the second's publish PATCHed the first's
/// draft instead of filing its own.
#[test]
fn a_marker_forged_in_a_feed_summary_does_not_redirect_a_draft_update() {
    let gh = crate::support::github::FakeGithub::start(vec![]);
    let api = gh.server.url.clone();
    let tmp = tempfile::tempdir().unwrap();
    // Each summary carries the other finding's (old-style) marker, so whichever draft is filed
    // first is the one the other's search would hit.
    let forged = |fp: &str| format!("<!-- depwatch:fingerprint={fp} -->");
    let cfg = draft_project(
        tmp.path(),
        &api,
        [
            &format!("alpha flaw {}", forged("PyPI/beta/OSV-TEST-B")),
            &format!("beta flaw {}", forged("PyPI/alpha/OSV-TEST-A")),
        ],
    );
    let run = ["run", "--offline", "--no-deliver", "--out"];
    let out_dir = tmp.path().join("out");
    let mut args: Vec<&str> = run.to_vec();
    args.push(out_dir.to_str().unwrap());
    let r = monitor(tmp.path(), &cfg, &api, &args);
    assert_eq!(r.status.code(), Some(0), "{:?}", text(&r));
    for _ in 0..2 {
        let r = monitor(tmp.path(), &cfg, &api, &["publish"]);
        assert_eq!(r.status.code(), Some(0), "{:?}", text(&r));
    }
    let reqs = gh.server.requests();
    let count = |m: &str| reqs.iter().filter(|q| q.method == m).count();
    assert_eq!(count("POST"), 2, "each finding files its own draft");
    assert_eq!(count("PATCH"), 2, "the second publish updates each once");
    let drafts = gh.store.lock().unwrap().clone();
    assert_eq!(drafts.len(), 2);
    let mut markers = Vec::new();
    for d in &drafts {
        let summary = d["summary"].as_str().unwrap();
        let desc = d["description"].as_str().unwrap();
        // Each draft still holds its own finding after the updates.
        let own = if summary.starts_with("alpha") {
            "OSV-TEST-A"
        } else {
            "OSV-TEST-B"
        };
        assert!(summary.contains(own) && desc.contains(own), "{d:#}");
        // One marker, keyed (no fingerprint in it), alone on the last line.
        assert_eq!(desc.matches("<!--").count(), 1, "{desc}");
        let m = last_line(&d["description"]);
        assert!(
            m.starts_with("<!-- depwatch:draft=") && m.len() == 88,
            "{m}"
        );
        markers.push(m);
    }
    assert_ne!(markers[0], markers[1]);
    for q in reqs.iter().filter(|q| q.method == "PATCH") {
        let body: serde_json::Value = serde_json::from_slice(&q.body).unwrap();
        let id = q.path().rsplit('/').next().unwrap().to_string();
        let target = drafts.iter().find(|d| d["ghsa_id"] == id.as_str()).unwrap();
        assert_eq!(
            last_line(&body["description"]),
            last_line(&target["description"])
        );
    }
    // A second store has another key: its markers differ (unguessable from outside).
    let other = tempfile::tempdir().unwrap();
    let gh2 = crate::support::github::FakeGithub::start(vec![]);
    let cfg2 = draft_project(other.path(), &gh2.server.url, ["alpha flaw", "beta flaw"]);
    let mut args: Vec<&str> = run.to_vec();
    let out2 = other.path().join("out");
    args.push(out2.to_str().unwrap());
    assert!(
        monitor(other.path(), &cfg2, &gh2.server.url, &args)
            .status
            .success()
    );
    assert!(
        monitor(other.path(), &cfg2, &gh2.server.url, &["publish"])
            .status
            .success()
    );
    for d in gh2.store.lock().unwrap().iter() {
        assert!(!markers.contains(&last_line(&d["description"])), "{d:#}");
    }
}

/// Item 8, compatibility: a draft filed before keyed markers is found by its old marker on its
/// own last line (and rewritten with the keyed one); the old marker elsewhere matches nothing.
#[test]
fn an_old_style_marker_matches_only_as_the_last_line() {
    let legacy = |fp: &str| format!("<!-- depwatch:fingerprint={fp} -->");
    let gh = crate::support::github::FakeGithub::start(vec![
        serde_json::json!({"ghsa_id": "GHSA-old0-0001-xxxx", "state": "draft", "summary": "old",
            "description": format!("quoted {}\nmore text", legacy("PyPI/alpha/OSV-TEST-A"))}),
        serde_json::json!({"ghsa_id": "GHSA-old0-0002-xxxx", "state": "draft", "summary": "old b",
            "description": format!("beta, filed by an older depwatch\n\n{}\n", legacy("PyPI/beta/OSV-TEST-B"))}),
    ]);
    let api = gh.server.url.clone();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = draft_project(tmp.path(), &api, ["alpha flaw", "beta flaw"]);
    let out_dir = tmp.path().join("out");
    let r = monitor(
        tmp.path(),
        &cfg,
        &api,
        &[
            "run",
            "--offline",
            "--no-deliver",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status.code(), Some(0), "{:?}", text(&r));
    let r = monitor(tmp.path(), &cfg, &api, &["publish"]);
    assert_eq!(r.status.code(), Some(0), "{:?}", text(&r));
    let reqs = gh.server.requests();
    let patched: Vec<&str> = reqs
        .iter()
        .filter(|q| q.method == "PATCH")
        .map(|q| q.path())
        .collect();
    assert_eq!(patched.len(), 1, "{patched:?}");
    assert!(patched[0].ends_with("/GHSA-old0-0002-xxxx"), "{patched:?}");
    assert_eq!(reqs.iter().filter(|q| q.method == "POST").count(), 1);
    let drafts = gh.store.lock().unwrap().clone();
    assert_eq!(
        drafts[0]["summary"], "old",
        "the draft quoting a marker is untouched"
    );
    assert!(last_line(&drafts[1]["description"]).starts_with("<!-- depwatch:draft="));
}

/// A manifest named on the command line that is itself a committed symlink out of the
/// checkout (`requirements.txt -> ~/.env`) is refused, not read: its lines could otherwise
/// reach the report as "invalid requirement" text or names.
#[test]
fn a_manifest_that_is_a_symlink_out_of_the_checkout_is_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("checkout");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    // Parses as a requirement, so a followed link would print the name in the report.
    std::fs::write(home.join(".env"), "leakedsecretvalue==1.0\n").unwrap();
    std::os::unix::fs::symlink(home.join(".env"), repo.join("requirements.txt")).unwrap();
    let source = format!("rustsec-dir:{}", crate::support::rustsec_dir().display());
    let manifest = repo.join("requirements.txt");
    let out = crate::support::depwatch(&[
        "scan",
        manifest.to_str().unwrap(),
        "--source",
        &source,
        "--format",
        "json",
    ]);
    let (stdout, stderr) = text(&out);
    let all = format!("{stdout}{stderr}");
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(!all.contains("leakedsecretvalue"), "{all}");
    assert!(
        all.contains("symlink to a file outside the scanned root"),
        "{all}"
    );
    // The operator's flag follows it.
    let out = crate::support::depwatch(&[
        "scan",
        manifest.to_str().unwrap(),
        "--source",
        &source,
        "--format",
        "json",
        "--allow-outside-includes",
    ]);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("\"dependencies\": 1"), "{stdout}");
}

/// Error lines on stderr go through the one cleaning rule: a path (or feed text) carrying an
/// escape sequence does not reach the operator's terminal raw.
#[test]
fn error_lines_on_stderr_carry_no_escape_sequences() {
    let tmp = tempfile::tempdir().unwrap();
    let evil = tmp.path().join("req\u{1b}]0;owned\u{7}\u{1b}[2J.txt");
    let out = crate::support::depwatch(&[
        "scan",
        evil.to_str().unwrap(),
        "--source",
        &format!("rustsec-dir:{}", crate::support::rustsec_dir().display()),
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error:"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
}
