//! Bounded mutation fuzz of depwatch's parsers and feed loaders: every manifest format,
//! SECURITY.md, OSV records (JSON and YAML), GitHub REST advisories and RustSec advisories,
//! seeded from the real files in `../shared`.
//!
//! ```text
//! cargo run --release --example fuzz -- --seconds 300 --seed 1
//! ```
//!
//! Deterministic for a seed: `--seed S --iterations N` makes the same inputs every time. A panic
//! or an input slower than `--slow-ms` is saved under `<out>/findings/` and the run exits 1;
//! `--replay FILE --target NAME` runs one saved input again. An abort (stack overflow) kills
//! the process: the input it was parsing is the file under `<out>/inputs/<target>/`.
//!
//! cargo-fuzz / libFuzzer would need a nightly toolchain; this runs on stable, in-process.

mod engine;

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Bounded mutation fuzz of depwatch's parsers and feed loaders")]
struct Args {
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// Stop after this many iterations (whichever comes first).
    #[arg(long)]
    iterations: Option<u64>,
    /// PRNG seed: the same seed makes the same inputs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only these targets (repeatable): cargo-lock, cargo-toml, requirements-txt,
    /// pyproject-toml, pipfile-lock, pylock-toml, poetry-lock, uv-lock, security-md, osv-json,
    /// osv-yaml, ghsa-rest, rustsec-md.
    #[arg(long = "target")]
    targets: Vec<String>,
    /// Report (and save) an input that takes longer than this.
    #[arg(long, default_value_t = 1000)]
    slow_ms: u64,
    /// Stop the run when one input runs longer than this (a hang).
    #[arg(long, default_value_t = 30)]
    hang_secs: u64,
    /// Working directory: current inputs and saved findings.
    #[arg(long, default_value = "target/fuzz")]
    out: PathBuf,
    /// The shared corpus (`../shared` next to the repository by default).
    #[arg(long)]
    shared: Option<PathBuf>,
    /// Run one saved input through `--target` instead of fuzzing.
    #[arg(long)]
    replay: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let shared = args
        .shared
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let mut targets = engine::targets(&shared);
    let known: Vec<&str> = targets.iter().map(|t| t.name).collect();
    if let Some(bad) = args.targets.iter().find(|n| !known.contains(&n.as_str())) {
        eprintln!("unknown target {bad}; known: {}", known.join(", "));
        return std::process::ExitCode::from(2);
    }
    if !args.targets.is_empty() {
        targets.retain(|t| args.targets.iter().any(|n| n == t.name));
    }
    if let Some(empty) = targets.iter().find(|t| t.seeds.is_empty()) {
        eprintln!(
            "no seeds for {} under {} (is ../shared there?)",
            empty.name,
            shared.display()
        );
        return std::process::ExitCode::from(2);
    }
    if let Some(input) = &args.replay {
        let [target] = targets.as_slice() else {
            eprintln!("--replay needs exactly one --target");
            return std::process::ExitCode::from(2);
        };
        return match engine::replay(target, input, &args.out) {
            Ok(Ok(())) => {
                println!("ok");
                std::process::ExitCode::SUCCESS
            }
            Ok(Err(e)) => {
                println!("error (handled): {e}");
                std::process::ExitCode::SUCCESS
            }
            Err(p) => {
                println!("PANIC: {p}");
                std::process::ExitCode::from(1)
            }
        };
    }
    let seeds: usize = targets.iter().map(|t| t.seeds.len()).sum();
    eprintln!(
        "fuzzing {} targets ({seeds} seeds) for {} s, seed {}; inputs under {}",
        targets.len(),
        args.seconds,
        args.seed,
        args.out.join("inputs").display()
    );
    let cfg = engine::Config {
        duration: Duration::from_secs_f64(args.seconds.max(0.0)),
        iterations: args.iterations,
        seed: args.seed,
        out: args.out.clone(),
        slow: Duration::from_millis(args.slow_ms),
        hang: Duration::from_secs(args.hang_secs),
        verbose: true,
    };
    let s = engine::run(targets, &cfg);
    println!(
        "{} iterations in {:.1} s (seed {})",
        s.iterations,
        s.elapsed.as_secs_f64(),
        args.seed
    );
    for (name, n, errors) in &s.per_target {
        println!("  {name:<18} {n:>9} inputs, {errors:>9} returned errors");
    }
    if s.caught_inside > 0 {
        println!(
            "  {} panics were caught inside the library (returned as errors)",
            s.caught_inside
        );
    }
    for f in s.crashes.iter().chain(&s.slow).chain(&s.hang) {
        println!(
            "FOUND {} iteration {}: {}\n  input: {}",
            f.target,
            f.iteration,
            f.what,
            f.file.display()
        );
    }
    if s.clean() {
        println!("clean: no panic, no input over {} ms", args.slow_ms);
        std::process::ExitCode::SUCCESS
    } else if s.hang.is_some() {
        // The hung thread cannot be joined: leave without waiting for it.
        std::process::exit(1)
    } else {
        std::process::ExitCode::from(1)
    }
}
