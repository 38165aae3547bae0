//! Loading the real advisory snapshots from `../shared/corpus/advisories`.

use crate::util::{pypa_dir, rustsec_dir};
use depwatch::feeds::{self, SourceSpec};

#[test]
fn rustsec_snapshot_loads_every_crate_advisory() {
    let loaded = feeds::load(&SourceSpec::RustsecDir(rustsec_dir())).unwrap();
    // `find crates -name 'RUSTSEC-*.md' | wc -l` on the snapshot.
    let expected = std::fs::read_dir(rustsec_dir().join("crates"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .filter(|f| f.file_name().to_string_lossy().ends_with(".md"))
        .count();
    assert_eq!(loaded.advisories.len() + loaded.errors.len(), expected);
    assert!(loaded.errors.is_empty(), "{:#?}", loaded.errors);
    let rsa = loaded
        .advisories
        .iter()
        .find(|a| a.advisory.id == "RUSTSEC-2023-0071")
        .expect("rsa Marvin attack advisory");
    assert!(rsa.advisory.aliases.iter().any(|a| a == "CVE-2023-49092"));
    assert_eq!(rsa.affected[0].name, "rsa");
    assert!(
        rsa.affected[0].fixed.is_empty(),
        "rsa has no patched version"
    );
}

#[test]
fn pypa_snapshot_loads_and_reports_broken_records() {
    let loaded = feeds::load(&SourceSpec::OsvDir(pypa_dir())).unwrap();
    let total = loaded.advisories.len() + loaded.errors.len();
    // 2,661 `.yaml` files in the snapshot (plus `.id-allocator`, not a record).
    assert_eq!(total, 2661, "every YAML file is either loaded or reported");
    // Two real records carry versions that are not PEP 440 in a `fixed` event: they are
    // reported with file and id and skipped, and the other 2,659 load.
    let mut bad: Vec<_> = loaded
        .errors
        .iter()
        .map(|e| e.id.clone().unwrap_or_default())
        .collect();
    bad.sort();
    assert_eq!(bad, ["PYSEC-2019-125", "PYSEC-2021-371"]);
    let binderhub = loaded
        .errors
        .iter()
        .find(|e| e.id.as_deref() == Some("PYSEC-2021-371"))
        .unwrap();
    assert!(binderhub.file.ends_with("binderhub/PYSEC-2021-371.yaml"));
    assert!(
        binderhub.message.contains("0.2.0-n653"),
        "{}",
        binderhub.message
    );
}
