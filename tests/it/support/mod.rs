//! The one support module of the integration tests: every helper two test files need lives
//! here, once.
//!
//! - this file: the shared corpus (`../shared`) and its source specs, running the real binary,
//!   reading its output;
//! - [`loopback`]: an HTTP/1.1 server on 127.0.0.1 that can misbehave on purpose, and a Slack
//!   webhook receiver;
//! - [`smtp`]: a real SMTP server (aiosmtpd) on 127.0.0.1;
//! - [`github`]: a loopback GitHub repository-advisories API;
//! - [`clients`]: the library's HTTP client with test timings;
//! - [`config`]: pieces of `depwatch.toml` the monitor tests share;
//! - [`files`]: walking a tree, writing files, building zips;
//! - [`osv_records`]: real records as an OSV export or API serves them.

pub mod clients;
pub mod config;
pub mod files;
pub mod github;
pub mod loopback;
pub mod osv_records;
pub mod smtp;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `../shared` next to the repository.
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// A path under `../shared`, as text for a config file or an argument.
pub fn shared_path(rel: &str) -> String {
    shared().join(rel).display().to_string()
}

/// The RustSec advisory-db snapshot.
pub fn rustsec_dir() -> PathBuf {
    shared().join("corpus/advisories/rustsec")
}

/// The PyPA advisory-database records.
pub fn pypa_dir() -> PathBuf {
    shared().join("corpus/advisories/pypa/vulns")
}

/// GitHub's OSV records of the reference feeds (`PyPI/`, `crates.io/`).
pub fn ghsa_osv_dir() -> PathBuf {
    shared().join("feeds-reference/ghsa-osv")
}

/// A manifest of the corpus.
pub fn manifest(rel: &str) -> PathBuf {
    shared().join("corpus/manifests").join(rel)
}

/// `--source` for the RustSec snapshot.
pub fn rustsec_source() -> String {
    format!("rustsec-dir:{}", rustsec_dir().display())
}

/// `--source` for the PyPA records.
pub fn pypa_source() -> String {
    format!("osv-dir:{}", pypa_dir().display())
}

/// `--source` for GitHub's OSV records.
pub fn ghsa_osv_source() -> String {
    format!("osv-dir:{}", ghsa_osv_dir().display())
}

/// Run `depwatch` with arguments. The store defaults to a path that is never synced, so no
/// test reads the user's real store by accident.
pub fn depwatch(args: &[&str]) -> Output {
    let isolated = std::env::temp_dir().join(format!("depwatch-it-{}", std::process::id()));
    depwatch_store(&isolated.join("never-synced.sqlite3"), args)
}

/// Run `depwatch` on a given store.
pub fn depwatch_store(store: &Path, args: &[&str]) -> Output {
    command(store).args(args).output().expect("run depwatch")
}

/// The binary on `store`, without colour, for a test to add arguments, variables and pipes.
pub fn command(store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_depwatch"));
    c.env("NO_COLOR", "1").env("DEPWATCH_STORE", store);
    c
}

/// Exit status, stdout and stderr, for assertion messages.
pub fn output_text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Stdout as JSON; on failure the panic shows both streams.
pub fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", output_text(o)))
}

/// A file's text; the panic names the file.
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Run a future on a fresh runtime, for a plain `#[test]` calling the library's async API.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}
