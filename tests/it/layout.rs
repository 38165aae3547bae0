//! The map of test files at the top of `main.rs` stays true: every file of `tests/it/` is in
//! it once, and it names no file that is gone.

use std::collections::BTreeSet;
use std::path::Path;

/// The file names in the map's first column (`net.rs`, `support/`; a row may name two).
fn mapped(main: &str) -> Vec<String> {
    main.lines()
        .filter_map(|l| l.strip_prefix("//! | "))
        .filter_map(|row| row.split(" | ").next())
        .flat_map(|cell| {
            cell.split(", ")
                .map(|n| n.trim_matches('`').to_string())
                .collect::<Vec<_>>()
        })
        .filter(|n| n != "file" && n != "---|---|")
        .collect()
}

#[test]
fn the_map_in_main_names_every_test_file_once() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    let names = mapped(&main);
    let listed: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(
        listed.len(),
        names.len(),
        "a file is mapped twice: {names:?}"
    );
    let mut present = BTreeSet::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            // A test's own helper folder (`fuzz/`) belongs to its file; `support/` is mapped.
            if name == "support" {
                present.insert("support/".to_string());
            }
        } else if name.ends_with(".rs") && name != "main.rs" {
            present.insert(name);
        }
    }
    let missing: Vec<_> = present.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&present).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "tests/it/main.rs's map: add {missing:?}, remove {gone:?}"
    );
    // The check itself reads rows: a map row it could not read would pass unnoticed.
    assert!(
        listed.contains("net.rs") && listed.contains("scan_python.rs"),
        "{listed:?}"
    );
}
