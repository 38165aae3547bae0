//! Tests only: a throwaway PostgreSQL server, one per test binary, shared by its tests.
//! The library's unit tests (`src/store/postgres/mod.rs`) and `tests/it/postgres.rs` include
//! this same file with `#[path]`, so it depends on std, `tempfile`, `tokio` and
//! `tokio-postgres` only. It builds its own small runtime to create databases: test support,
//! not library code. Call it from a blocking thread, never from an async task.
//!
//! `DEPWATCH_TEST_POSTGRES_URL` (a superuser's URL) uses an existing server instead. Otherwise
//! the cluster is made with Debian's `postgresql` binaries (`/usr/lib/postgresql/N/bin`):
//! `initdb` into a temp dir, `pg_ctl start` on a free 127.0.0.1 port with password (SCRAM)
//! authentication, and a watcher process that stops it (`pg_ctl stop -m immediate`) and
//! removes the directory once the test binary has exited, passing, failing or killed (it
//! waits for the end of a pipe only this process holds). initdb and postgres
//! refuse to run as root, so as root they run as the `postgres` system user (`runuser`). Tests
//! install nothing: missing binaries are a failure saying what to install.

#![allow(dead_code)] // each including crate uses a different part

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The password of the test cluster's superuser (`depwatch`).
pub const PASSWORD: &str = "pw-of-the-throwaway-test-cluster";

/// A running server: a superuser URL without a database name, and a counter for new ones.
pub struct Server {
    /// `postgres://user:password@host:port` (no database).
    pub base: String,
    next: AtomicUsize,
    /// The server binaries, the cluster directory and whether they run as `postgres`: set
    /// for a cluster the tests started (not for `DEPWATCH_TEST_POSTGRES_URL`).
    ctl: Option<(PathBuf, PathBuf, bool)>,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// The test binary's server, started on first use.
pub fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var("DEPWATCH_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Server {
            base: url.trim_end_matches('/').to_string(),
            next: AtomicUsize::new(0),
            ctl: None,
        },
        _ => start(None),
    })
}

/// A cluster of the calling test's own (another port and directory), for a test that stops
/// or restarts it; removed like the shared one when the test binary exits.
pub fn dedicated() -> Server {
    start(None)
}

/// What a TLS cluster is started with ([`dedicated_tls`]).
pub struct Tls<'a> {
    /// The server's certificate chain, PEM.
    pub cert_pem: &'a str,
    /// Its private key, PEM.
    pub key_pem: &'a str,
    /// `pg_hba.conf` lines put before initdb's (which allow password logins over TCP with or
    /// without TLS), e.g. `hostnossl all tlsonly all reject`.
    pub hba_first: &'a [&'a str],
}

/// A cluster of the calling test's own with `ssl = on` and `tls`'s certificate and key.
pub fn dedicated_tls(tls: &Tls) -> Server {
    start(Some(tls))
}

impl Server {
    /// `pg_ctl restart -m fast`: every session is ended, the server is back when it returns.
    /// Only for a [`dedicated`] cluster.
    pub fn restart(&self) {
        let (bin, dir, as_postgres) = self.ctl.as_ref().expect("a cluster the tests started");
        let mut c = command(*as_postgres, &bin.join("pg_ctl"));
        // The log file again: without it the server writes to this pipe, which then never
        // closes. The server options are the ones it was started with (postmaster.opts).
        c.arg("-D")
            .arg(dir.join("data"))
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-m", "fast", "-w", "-t", "60", "restart"]);
        run(c, "pg_ctl restart");
    }

    /// A URL to a new, empty database on the server.
    pub fn fresh_database(&self) -> String {
        let name = format!(
            "depwatch_test_{}_{}",
            std::process::id(),
            self.next.fetch_add(1, Ordering::SeqCst)
        );
        self.execute("postgres", &format!("CREATE DATABASE {name}"));
        format!("{}/{name}", self.base)
    }

    /// Run one statement in database `db` as the superuser.
    pub fn execute(&self, db: &str, sql: &str) {
        let url = format!("{}/{db}", self.base);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the test cluster");
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("connecting to the test server: {e:?}"));
            let driver = tokio::spawn(conn);
            client
                .batch_execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            drop(client);
            let _ = driver.await;
        });
    }
}

/// Debian's server binaries, newest version first.
fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "the PostgreSQL tests need a PostgreSQL server's binaries (initdb, pg_ctl) in \
             /usr/lib/postgresql/N/bin: install Debian's `postgresql` package \
             (apt-get install postgresql; .ci/run does this), or set \
             DEPWATCH_TEST_POSTGRES_URL to a superuser URL of a server to use"
        ),
    }
}

/// Running as root? `/proc/self` belongs to the process's effective user (and the crate
/// forbids the `unsafe` a `geteuid` call needs).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program args` in the cluster's user: as root, through `runuser -u postgres --`.
fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut c: Command, what: &str) {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Write `body` to `path`, readable by the server only (`chmod 600`, owned by `postgres`
/// when the cluster runs as it): the server refuses a key file others can read.
fn write_private(path: &Path, body: &str, as_postgres: bool) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, body).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
    if as_postgres {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres:postgres").arg(path);
                c
            },
            "chown a file of the cluster",
        );
    }
}

fn start(tls: Option<&Tls>) -> Server {
    let bin = bin_dir();
    let as_postgres = is_root();
    let dir = tempfile::Builder::new()
        .prefix("depwatch-pg-")
        .tempdir()
        .expect("a temp dir for the test cluster")
        .keep();
    if as_postgres {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres:postgres").arg(&dir);
                c
            },
            "chown the cluster directory to postgres",
        );
    }
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, PASSWORD).expect("writing the password file");
    if as_postgres {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres:postgres").arg(&pwfile);
                c
            },
            "chown the password file",
        );
    }
    let data = dir.join("data");
    let mut initdb = command(as_postgres, &bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", "depwatch", "--auth=scram-sha-256", "-E", "UTF8"])
        .args(["--locale=C", "--no-instructions", "--no-sync"])
        .arg(format!("--pwfile={}", pwfile.display()));
    run(initdb, "initdb");
    let mut ssl = String::new();
    if let Some(tls) = tls {
        let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
        write_private(&cert, tls.cert_pem, as_postgres);
        write_private(&key, tls.key_pem, as_postgres);
        let hba = data.join("pg_hba.conf");
        let old = std::fs::read_to_string(&hba).expect("initdb's pg_hba.conf");
        let new = format!("{}\n{old}", tls.hba_first.join("\n"));
        // Rewritten in place: it keeps initdb's owner and mode.
        std::fs::write(&hba, new).expect("writing pg_hba.conf");
        ssl = format!(
            " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            cert.display(),
            key.display()
        );
    }
    // A free port: bound and released; the short race with another process is acceptable.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut pg_ctl = command(as_postgres, &bin.join("pg_ctl"));
    pg_ctl
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("log"))
        .args(["-w", "-t", "60", "-o"])
        .arg(format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200{ssl}",
            dir.display()
        ))
        .arg("start");
    // Started before the server, so a start that half-worked is still stopped.
    watch_and_stop(&bin, &dir, as_postgres);
    run(pg_ctl, "pg_ctl start");
    Server {
        base: format!("postgres://depwatch:{PASSWORD}@127.0.0.1:{port}"),
        next: AtomicUsize::new(0),
        ctl: Some((bin, dir, as_postgres)),
    }
}

/// The write ends of the watchers' stdin (one per cluster): never written, only held until
/// this process exits.
static WATCHER_STDIN: std::sync::Mutex<Vec<std::process::ChildStdin>> =
    std::sync::Mutex::new(Vec::new());

/// Stop the cluster and remove its directory once this test process has exited, however it
/// exits (passing, failing, killed): a detached shell reads its stdin, a pipe this process
/// holds open, and when the OS closes it at our exit runs `pg_ctl stop -m immediate`. (Statics
/// are never dropped, an `atexit` handler needs the `unsafe` the crate forbids, and polling a
/// pid could follow a reused one.) Rust opens pipes close-on-exec, so the depwatch processes
/// the tests start do not hold it.
// The watcher outlives this process, which therefore never waits for it; init reaps it.
#[allow(clippy::zombie_processes)]
fn watch_and_stop(bin: &Path, dir: &Path, as_postgres: bool) {
    const SCRIPT: &str = r#"
        while read -r _; do :; done
        if [ "$3" = yes ]; then
            runuser -u postgres -- "$1/pg_ctl" -D "$2/data" -m immediate -w stop
        else
            "$1/pg_ctl" -D "$2/data" -m immediate -w stop
        fi
        rm -rf "$2"
    "#;
    let mut child = Command::new("sh")
        .args(["-c", SCRIPT, "sh"])
        .arg(bin)
        .arg(dir)
        .arg(if as_postgres { "yes" } else { "no" })
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starting the test cluster's watcher (sh)");
    let stdin = child.stdin.take().expect("the watcher's stdin");
    WATCHER_STDIN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(stdin);
}
