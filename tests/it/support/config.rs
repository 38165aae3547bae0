//! Pieces of `depwatch.toml` that the monitor tests share. Each test writes its own projects;
//! the channel sections and the corpus sources are the same everywhere.

use super::shared_path;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The variable the Slack section names; tests set it to a loopback receiver's URL.
pub const SLACK_WEBHOOK_ENV: &str = "DEPWATCH_TEST_SLACK_WEBHOOK";

/// `sources = [...]` on one line: the RustSec snapshot, the PyPA records and GitHub's OSV records.
pub fn corpus_sources() -> String {
    format!(
        "sources = [\"rustsec-dir:{}\", \"osv-dir:{}\", \"osv-dir:{}\"]\n",
        shared_path("corpus/advisories/rustsec"),
        shared_path("corpus/advisories/pypa/vulns"),
        shared_path("feeds-reference/ghsa-osv"),
    )
}

/// `[notify.slack]` reading the webhook from [`SLACK_WEBHOOK_ENV`].
pub fn slack_section() -> String {
    format!("[notify.slack]\nwebhook-env = \"{SLACK_WEBHOOK_ENV}\"\n")
}

/// `[notify.email]` for the loopback SMTP server on `port`, without TLS, to `to`.
pub fn email_section(port: u16, to: &[&str]) -> String {
    let to: Vec<String> = to.iter().map(|t| format!("\"{t}\"")).collect();
    format!(
        "[notify.email]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n\
         from = \"depwatch <depwatch@example.com>\"\nto = [{}]\n",
        to.join(", ")
    )
}

/// A monitor set up in its own temporary directory: `depwatch.toml`, the store, the output
/// folder, and the Slack webhook URL the config's [`slack_section`] reads.
pub struct Monitor {
    /// The temporary directory (removed when dropped).
    pub dir: tempfile::TempDir,
    /// `depwatch.toml` in `dir`.
    pub config: PathBuf,
    /// The store in `dir`.
    pub store: PathBuf,
    /// `--out` of `run`, in `dir`.
    pub out: PathBuf,
    /// The webhook URL set in [`SLACK_WEBHOOK_ENV`].
    pub hook: String,
}

impl Monitor {
    /// A new temporary directory with the config `config(dir)` writes; deliveries to `hook`.
    pub fn new(hook: String, config: impl FnOnce(&Path) -> String) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let path = d.join("depwatch.toml");
        std::fs::write(&path, config(d)).unwrap();
        Self {
            config: path,
            store: d.join("store.sqlite3"),
            out: d.join("out"),
            hook,
            dir,
        }
    }

    /// The binary on this monitor's store, the webhook variable set.
    pub fn command(&self) -> Command {
        let mut c = super::command(&self.store);
        c.env(SLACK_WEBHOOK_ENV, &self.hook);
        c
    }

    /// `depwatch run --offline --config CONFIG --out OUT` with the clock at `now`.
    pub fn run_command(&self, now: &str) -> Command {
        let mut c = self.command();
        c.args(["run", "--offline", "--config"])
            .arg(&self.config)
            .arg("--out")
            .arg(&self.out)
            .env("DEPWATCH_NOW", now);
        c
    }

    /// [`Self::run_command`], run.
    pub fn run(&self, now: &str) -> Output {
        self.run_command(now).output().expect("run depwatch")
    }
}
