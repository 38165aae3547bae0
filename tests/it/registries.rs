//! The registries of manifest formats and advisory source kinds, through the real binary: every
//! registered format is found under its standard file name and read under any name with
//! `--type`; every registered kind is what the CLI offers and accepts.

use crate::support::files::walk;
use crate::support::{depwatch, pypa_dir, shared};
use depwatch::feeds::registry::LOCAL;
use depwatch::manifests::registry::ALL;
use depwatch::manifests::{ParseOptions, parse};
use serde_json::Value;
use std::path::Path;

/// The text of a file of the format with dependencies: from the corpus where it has one.
fn sample(f: &dyn depwatch::manifests::registry::Format) -> String {
    for p in walk(&shared().join("corpus/manifests"))
        .into_iter()
        .filter(|p| f.matches(p))
    {
        if parse(&p, f.kind(), &ParseOptions::default()).is_ok_and(|m| !m.dependencies.is_empty()) {
            return std::fs::read_to_string(p).unwrap();
        }
    }
    // The formats the corpus has no file of have a sample in the repository.
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples/manifests")
        .join(f.file_name());
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: no corpus file and {}: {e}", f.kind(), p.display()))
}

/// `depwatch scan PATH --format json` (plus `extra`) against the PyPA records; the report's
/// `manifests` entries as (kind, dependencies).
fn scanned(path: &Path, extra: &[&str]) -> Vec<(String, u64)> {
    let source = format!("osv-dir:{}", pypa_dir().display());
    let mut args = vec![
        "scan",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--source",
        &source,
    ];
    args.extend(extra);
    let out = depwatch(&args);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_string(),
                m["dependencies"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_registered_format_is_scanned_by_file_name_and_by_type() {
    for f in ALL {
        let name = f.kind().name();
        let text = sample(*f);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(f.file_name()), &text).unwrap();
        let found = scanned(dir.path(), &[]);
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0].0, name);
        assert!(found[0].1 > 0, "{name}: no dependency");
        // Any name, read as the format by `--type`, gives the same.
        let odd = dir.path().join("dependencies.dat");
        std::fs::write(&odd, &text).unwrap();
        assert_eq!(scanned(&odd, &["--type", name]), found, "{name}");
    }
}

#[test]
fn the_cli_offers_every_registered_format_and_source_kind() {
    let help = String::from_utf8(depwatch(&["scan", "--help"]).stdout).unwrap();
    for f in ALL {
        assert!(help.contains(f.kind().name()), "{}: {help}", f.kind());
    }
    let sync_help = String::from_utf8(depwatch(&["sync", "--help"]).stdout).unwrap();
    let out = depwatch(&["scan", "--source", "nosuchkind:x", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for s in LOCAL {
        let form = format!("{}:PATH", s.kind());
        assert!(help.contains(&form), "{form}: {help}");
        assert!(sync_help.contains(&form), "{form}: {sync_help}");
        assert!(err.contains(&form), "{form}: {err}");
    }
}
