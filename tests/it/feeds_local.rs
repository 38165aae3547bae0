//! Loading the real advisory snapshots from `../shared/corpus/advisories`.

use crate::support::{pypa_dir, rustsec_dir};
use depwatch::feeds::{self, SourceSpec};

#[test]
fn rustsec_snapshot_loads_every_crate_advisory() {
    let loaded = feeds::load(&SourceSpec::local("rustsec-dir", rustsec_dir()).unwrap()).unwrap();
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
    let loaded = feeds::load(&SourceSpec::local("osv-dir", pypa_dir()).unwrap()).unwrap();
    let total = loaded.advisories.len() + loaded.errors.len();
    // 2,661 `.yaml` files in the snapshot (plus `.id-allocator`, not a record).
    assert_eq!(total, 2661, "every YAML file is either loaded or reported");
    // Two real records carry versions that are not PEP 440 in a `fixed` event: they load all
    // the same (the range open from `introduced`, noted), so all 2,661 load.
    assert!(loaded.errors.is_empty(), "{:#?}", loaded.errors);
    let binderhub = loaded
        .advisories
        .iter()
        .find(|a| a.advisory.id == "PYSEC-2021-371")
        .unwrap();
    assert!(binderhub.affected[0].unbounded);
    assert!(
        binderhub.affected[0].notes[0]
            .to_string()
            .contains("0.2.0-n653"),
        "{:?}",
        binderhub.affected[0].notes
    );
}

/// Write the real GHSA records of `feeds-reference/ghsa-osv/PyPI` into a zip like OSV's
/// `PyPI/all.zip`, plus one broken entry.
fn ghsa_zip(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let src = crate::support::shared().join("feeds-reference/ghsa-osv/PyPI");
    let mut names: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    for p in &names {
        zip.start_file(p.file_name().unwrap().to_string_lossy(), opts)
            .unwrap();
        zip.write_all(&std::fs::read(p).unwrap()).unwrap();
    }
    zip.start_file("GHSA-zzzz-broken.json", opts).unwrap();
    zip.write_all(br#"{"id": "GHSA-zzzz-broken", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1.0"}]}]}]}"#).unwrap();
    zip.finish().unwrap();
    path
}

#[test]
fn osv_zip_export_loads_in_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = ghsa_zip(tmp.path());
    let loaded = feeds::load(&SourceSpec::local("osv-zip", zip).unwrap()).unwrap();
    assert_eq!(loaded.advisories.len(), 30);
    assert_eq!(loaded.errors.len(), 1);
    assert!(
        loaded.errors[0]
            .file
            .ends_with("all.zip!GHSA-zzzz-broken.json")
    );
    assert_eq!(loaded.errors[0].id.as_deref(), Some("GHSA-zzzz-broken"));
    // Nothing is extracted next to the archive.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn one_vulnerability_from_two_sources_is_one_finding() {
    // emby-watchparty pins requests==2.31.0. The PyPA snapshot (2024-10) has PYSEC-2023-74
    // (fixed in 2.31.0: not affected); the GHSA export adds GHSA-9wx4-h78v-vm56 (CVE-2024-35195,
    // fixed in 2.32.2: affected) and GHSA-j8r2-6x86-q33q (= PYSEC-2023-74, fixed 2.31.0).
    let tmp = tempfile::tempdir().unwrap();
    let zip = ghsa_zip(tmp.path());
    let m = crate::support::manifest("emby-watchparty/requirements.txt");
    let out = crate::support::depwatch(&[
        "scan",
        m.to_str().unwrap(),
        "--source",
        &format!("osv-dir:{}", pypa_dir().display()),
        "--source",
        &format!("osv-zip:{}", zip.display()),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let requests: Vec<_> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == "requests")
        .collect();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0]["id"], "GHSA-9wx4-h78v-vm56");
    assert_eq!(
        requests[0]["ids"],
        serde_json::json!(["CVE-2024-35195", "GHSA-9wx4-h78v-vm56"])
    );
    assert_eq!(
        requests[0]["fix"],
        serde_json::json!({"kind": "upgrade", "to": "2.32.2"})
    );
    assert_eq!(requests[0]["location"]["line"], 4);
}
