//! `depwatch db check` verifies the index tables against the stored raw records, and its exit
//! codes are the README's: 0 sound, 1 problems, 2 no store to check.

use crate::support::{depwatch_store, manifest, rustsec_dir};
use std::path::Path;

fn sync_rustsec(store: &Path) {
    let out = depwatch_store(
        store,
        &[
            "sync",
            "--source",
            &format!("rustsec-dir:{}", rustsec_dir().display()),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

fn check(store: &Path) -> (i32, String) {
    let out = depwatch_store(store, &["db", "check"]);
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Ids of the findings a store scan of uv's Cargo.lock reports for `package`.
fn findings_for(store: &Path, package: &str) -> Vec<String> {
    let lock = manifest("uv/Cargo.lock");
    let out = depwatch_store(store, &["scan", lock.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    ["findings", "warnings"]
        .iter()
        .flat_map(|k| v[*k].as_array().unwrap().iter())
        .filter(|f| f["package"]["name"] == package)
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn deleted_index_rows_are_reported_with_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.sqlite3");
    sync_rustsec(&store);
    assert_eq!(check(&store).0, 0, "{}", check(&store).1);
    let before = findings_for(&store, "rsa");
    assert!(!before.is_empty(), "rsa 0.9.x has RUSTSEC-2023-0071");

    // Lose one package's rows of the `affected` index, as a damaged or hand-edited store would.
    {
        let conn = rusqlite::Connection::open(&store).unwrap();
        let n = conn
            .execute(
                "DELETE FROM affected WHERE ecosystem = 'crates.io' AND name = 'rsa'",
                [],
            )
            .unwrap();
        assert!(n > 0);
    }
    // The scan silently loses the finding...
    assert!(findings_for(&store, "rsa").is_empty());
    // ...and `db check` says so, naming the record and the package.
    let (code, text) = check(&store);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("package index rows missing"), "{text}");
    assert!(text.contains("RUSTSEC-2023-0071 crates.io rsa"), "{text}");
    assert!(!text.contains(": ok"), "{text}");

    // An alias row gone, and a row that its record does not name, are problems too.
    {
        let conn = rusqlite::Connection::open(&store).unwrap();
        conn.execute(
            "DELETE FROM aliases WHERE alias = 'CVE-2023-49092' AND id = 'RUSTSEC-2023-0071'",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO affected SELECT 'crates.io', 'not-named', source, id FROM advisories WHERE id = 'RUSTSEC-2023-0071'",
            [],
        )
        .unwrap();
    }
    let (code, text) = check(&store);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("alias index rows missing: RUSTSEC-2023-0071 as CVE-2023-49092"),
        "{text}"
    );
    assert!(
        text.contains("package index rows that their record does not name: RUSTSEC-2023-0071 crates.io not-named"),
        "{text}"
    );
}

#[test]
fn a_missing_store_is_an_error_not_ok() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("absent.sqlite3");
    let (code, text) = check(&store);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("no store"), "{text}");
    assert!(!store.exists(), "checking must not create the store");
}
