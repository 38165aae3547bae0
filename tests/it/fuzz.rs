//! A few seconds of the mutation fuzzer (`cargo run --release --example fuzz`) on every parser
//! and feed loader, so it keeps building and working; and checks that the harness really
//! catches a panic and a slow input.

#[path = "../../examples/fuzz/engine.rs"]
mod engine;

use crate::support::shared;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn config(out: &Path, seconds: u64, slow: Duration) -> engine::Config {
    engine::Config {
        duration: Duration::from_secs(seconds),
        iterations: None,
        seed: 12,
        out: out.to_path_buf(),
        slow,
        hang: Duration::from_secs(60),
        verbose: false,
    }
}

#[test]
fn short_fuzz_of_every_parser_is_clean() {
    let out = tempfile::tempdir().unwrap();
    let targets = engine::targets(&shared());
    assert_eq!(targets.len(), 13);
    for t in &targets {
        assert!(!t.seeds.is_empty(), "{} has no seeds", t.name);
    }
    // Debug build: generous per-input bound (the release run uses 1 s).
    let s = engine::run(targets, &config(out.path(), 4, Duration::from_secs(10)));
    assert!(s.clean(), "{:#?}", (&s.crashes, &s.slow, &s.hang));
    assert!(s.iterations >= 20, "only {} iterations", s.iterations);
}

#[test]
fn same_seed_same_inputs() {
    let targets = engine::targets(&shared());
    let all: Vec<Vec<u8>> = targets.iter().flat_map(|t| t.seeds.clone()).collect();
    for i in [0, 1, 977] {
        assert_eq!(
            engine::generate(7, i, &targets, &all),
            engine::generate(7, i, &targets, &all)
        );
    }
    assert_ne!(
        engine::generate(7, 3, &targets, &all).1,
        engine::generate(8, 3, &targets, &all).1
    );
}

fn panics_on_nul(p: &Path) -> Result<(), String> {
    let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
    if bytes.contains(&0) {
        panic!("planted bug: NUL");
    }
    Err("no NUL".into())
}

static SLEPT: AtomicBool = AtomicBool::new(false);

/// Slow on the first input with a `{` (only once, to keep the test quick).
fn slow_on_brace(p: &Path) -> Result<(), String> {
    let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
    if bytes.contains(&b'{') && !SLEPT.swap(true, Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(300));
    }
    Ok(())
}

#[test]
fn harness_reports_a_panic_and_a_slow_input_with_their_inputs() {
    let out = tempfile::tempdir().unwrap();
    let seed = b"name = \"x\"\nversion = \"1.0\"\n".to_vec();
    let targets = vec![
        engine::Target {
            name: "planted-panic",
            file_name: "a.txt",
            seeds: vec![seed.clone()],
            run: panics_on_nul,
        },
        engine::Target {
            name: "planted-slow",
            file_name: "b.txt",
            seeds: vec![seed],
            run: slow_on_brace,
        },
    ];
    let mut cfg = config(out.path(), 30, Duration::from_millis(200));
    cfg.iterations = Some(2000);
    let s = engine::run(targets, &cfg);
    assert!(!s.clean());
    let crash = s.crashes.first().expect("the planted panic is found");
    assert_eq!(crash.target, "planted-panic");
    assert!(crash.what.contains("planted bug: NUL"), "{}", crash.what);
    assert!(std::fs::read(&crash.file).unwrap().contains(&0));
    let slow = s.slow.first().expect("the planted slow input is found");
    assert_eq!(slow.target, "planted-slow");
    assert!(std::fs::read(&slow.file).unwrap().contains(&b'{'));
}
