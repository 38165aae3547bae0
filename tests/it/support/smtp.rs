//! A real SMTP server on 127.0.0.1: aiosmtpd, run by `tests/support/smtp_server.py`, which
//! parses what it receives. The tests install nothing: `.ci/run` installs Debian's
//! python3-aiosmtpd.

use depwatch::publish::email::{EmailSettings, TlsMode};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

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

/// A running tests/support/smtp_server.py; killed when dropped.
pub struct SmtpServer {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Start on a free port; `auth` is `user:password` to require a login (without TLS).
    pub fn start(auth: Option<&str>) -> Self {
        Self::start_on(0, auth)
    }

    /// Start on `port` (0: any free port), e.g. where an earlier run found nothing listening.
    pub fn start_on(port: u16, auth: Option<&str>) -> Self {
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
    pub fn messages(&self) -> Vec<Value> {
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

    /// Settings for depwatch's email channel to this server: no TLS, two recipients.
    pub fn settings(&self) -> EmailSettings {
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

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
