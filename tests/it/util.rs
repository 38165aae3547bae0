//! Paths to the shared corpus and a runner for the real binary.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `../shared` next to the repository.
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// The RustSec advisory-db snapshot.
pub fn rustsec_dir() -> PathBuf {
    shared().join("corpus/advisories/rustsec")
}

/// The PyPA advisory-database records.
pub fn pypa_dir() -> PathBuf {
    shared().join("corpus/advisories/pypa/vulns")
}

/// A manifest of the corpus.
pub fn manifest(rel: &str) -> PathBuf {
    shared().join("corpus/manifests").join(rel)
}

/// Run `depwatch` with arguments. The store defaults to a path that is never synced, so no
/// test reads the user's real store by accident.
pub fn depwatch(args: &[&str]) -> Output {
    let isolated = std::env::temp_dir().join(format!("depwatch-it-{}", std::process::id()));
    Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", isolated.join("never-synced.sqlite3"))
        .output()
        .expect("run depwatch")
}

/// Run `depwatch` on a given store.
pub fn depwatch_store(store: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", store)
        .output()
        .expect("run depwatch")
}
