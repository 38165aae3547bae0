//! Leftovers of issue 11: a store written by an older conversion is re-read by the next sync
//! (and scans say so until then), and the OSV export's copy of a RustSec record never passes
//! off RustSec's `unaffected` versions as fixes unnoticed.

use crate::support::files::time_0_1_lock;
use crate::support::{depwatch, depwatch_store, shared};
use crate::support::{json_of, rustsec_source as rustsec};
use serde_json::{Value, json};

/// RustSec's records as its OSV export writes them (no `patched` / `unaffected` labels).
fn rustsec_osv_export() -> String {
    format!(
        "osv-dir:{}",
        shared().join("feeds-reference/rustsec-osv").display()
    )
}

fn time_finding(report: &Value) -> Value {
    let f: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == "time")
        .collect();
    assert_eq!(f.len(), 1, "{:#}", report["findings"]);
    f[0].clone()
}

fn notices(report: &Value) -> String {
    report["notices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Item A: RUSTSEC-2020-0071 as the converter before issue 11 wrote it (no
/// `unaffected_bounds`, so `0.2.0` reads as a fix) in a store of that schema. The next scan
/// says the store is older than this depwatch; the next sync rewrites the record although the
/// source and its `modified` did not change, and the advice becomes RustSec's `0.2.23`.
#[test]
fn a_record_converted_by_an_older_depwatch_is_rewritten_by_the_next_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.sqlite3");
    let lock = time_0_1_lock(tmp.path());
    let lock = lock.to_str().unwrap();
    let sync = || {
        let out = depwatch_store(&store, &["sync", "--source", &rustsec()]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    };
    let scan = || json_of(&depwatch_store(&store, &["scan", lock, "--format", "json"]));
    sync();
    assert_eq!(time_finding(&scan())["fix"]["to"], "0.2.23");

    // Back to the older depwatch's store: its record form, its schema version.
    {
        let conn = rusqlite::Connection::open(&store).unwrap();
        let text: String = conn
            .query_row(
                "SELECT record FROM advisories WHERE id = 'RUSTSEC-2020-0071'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let mut rec: Value = serde_json::from_str(&text).unwrap();
        let entry = &mut rec["affected"][0];
        entry["ranges"][0]
            .as_object_mut()
            .unwrap()
            .remove("database_specific")
            .expect("the current conversion labels unaffected bounds");
        let ds = entry["database_specific"].as_object_mut().unwrap();
        ds.remove("patched");
        ds.remove("unaffected");
        let n = conn
            .execute(
                "UPDATE advisories SET record = ?1 WHERE id = 'RUSTSEC-2020-0071'",
                [rec.to_string()],
            )
            .unwrap();
        assert_eq!(n, 1);
        conn.execute_batch("ALTER TABLE sources DROP COLUMN resync; PRAGMA user_version = 3;")
            .unwrap();
    }

    // The old advice is never given silently.
    let report = scan();
    assert_eq!(time_finding(&report)["fix"]["to"], "0.2.0");
    let n = notices(&report);
    assert!(
        n.contains("store written by an older depwatch: run depwatch sync"),
        "{n}"
    );
    // The table says it too.
    let out = depwatch_store(&store, &["scan", lock]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("store written by an older depwatch"),
        "{text}"
    );

    // The source did not change, yet the sync re-reads it and rewrites the record.
    sync();
    let report = scan();
    let f = time_finding(&report);
    assert_eq!(f["fix"], json!({"kind": "upgrade", "to": "0.2.23"}));
    assert_eq!(f["fixed_versions"], json!(["0.2.23"]));
    assert!(!notices(&report).contains("older depwatch"), "{report:#}");
    let out = depwatch_store(&store, &["db", "check"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// Item B: with the advisory-db's RUSTSEC-2020-0071 present, the OSV export's copy (whose
/// `fixed` events include the never-vulnerable 0.2.0 .. 0.2.6) adds no fix: the advice and the
/// fixed versions are RustSec's patched `0.2.23`.
#[test]
fn the_advisory_db_record_gives_the_fixes_over_the_osv_export_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let lock = time_0_1_lock(tmp.path());
    let out = depwatch(&[
        "scan",
        lock.to_str().unwrap(),
        "--format",
        "json",
        "--source",
        &rustsec_osv_export(),
        "--source",
        &rustsec(),
    ]);
    let f = time_finding(&json_of(&out));
    assert_eq!(f["sources"].as_array().unwrap().len(), 2, "{f:#}");
    assert_eq!(f["fix"], json!({"kind": "upgrade", "to": "0.2.23"}));
    assert_eq!(f["fixed_versions"], json!(["0.2.23"]));
    assert!(f["note"].is_null(), "{f:#}");
}

/// Item B: the OSV export's copy alone cannot tell 0.2.0 (unaffected) from a patched
/// version, so the upgrade it gives says where it came from and where RustSec's patched
/// versions are.
#[test]
fn a_fix_from_the_osv_export_copy_alone_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let lock = time_0_1_lock(tmp.path());
    let out = depwatch(&[
        "scan",
        lock.to_str().unwrap(),
        "--format",
        "json",
        "--source",
        &rustsec_osv_export(),
    ]);
    let f = time_finding(&json_of(&out));
    assert_eq!(f["fix"]["to"], "0.2.0");
    let note = f["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("the upgrade to 0.2.0 is a `fixed` end of RUSTSEC-2020-0071")
            && note.contains("feeds-reference/rustsec-osv")
            && note.contains("patched version or one RustSec calls unaffected")
            && note.contains("https://rustsec.org/advisories/RUSTSEC-2020-0071.html"),
        "{note}"
    );
}
