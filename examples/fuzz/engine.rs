//! The mutation fuzzer behind `cargo run --release --example fuzz` (see `main.rs`), also run
//! for a few seconds by the test suite (`tests/it/fuzz.rs` includes this file).
//!
//! Each iteration picks a target (a parser), one of its real seeds, applies 1-4 mutations and
//! runs the parser on the result. The properties: the parser returns (`Ok` or `Err`), never
//! panics (`catch_unwind`), never aborts (stack overflow), and finishes in bounded time.
//!
//! The input of iteration `i` depends only on `(seed, i)`: `--seed S --iterations N` replays a
//! run exactly, and a crash names the iteration that made it. Every input is written to a file
//! before it is parsed (manifest parsers read files; it also leaves the culprit on disk if a
//! stack overflow aborts the process).
//!
//! Why not cargo-fuzz: libFuzzer needs a nightly toolchain and sanitizer support this project
//! does not build with; an in-process fuzzer on the stable toolchain runs anywhere.

#![allow(dead_code)] // shared by the example and the test, which use different parts

use depwatch::advisory::CompiledAdvisory;
use depwatch::manifests::{self, ManifestKind, ParseOptions};
use depwatch::policy::{Policy, Zone};
use depwatch::severity::Level;
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

/// Largest mutated input (keeps iterations fast; the parsers' own size limits are far above).
const MAX_INPUT: usize = 4 * 1024 * 1024;
/// Stack of the fuzzing thread: the default of spawned threads, which is what rayon's workers
/// (where `scan` parses several manifests) get. A parser that overflows it aborts `scan`.
const STACK: usize = 2 * 1024 * 1024;

/// What a target does with one input file: `Err` is a handled error (fine), a panic is not.
pub type RunFn = fn(&Path) -> Result<(), String>;

/// One parser under test.
pub struct Target {
    /// Short name (`--target` filter, file names of crashes).
    pub name: &'static str,
    /// File name the input is written to (manifest kinds are chosen by name).
    pub file_name: &'static str,
    /// Real inputs to mutate.
    pub seeds: Vec<Vec<u8>>,
    /// The parser.
    pub run: RunFn,
}

/// Settings of one run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Stop after this long.
    pub duration: Duration,
    /// Stop after this many iterations (whichever comes first).
    pub iterations: Option<u64>,
    /// PRNG seed.
    pub seed: u64,
    /// Where inputs are written and crashes saved.
    pub out: PathBuf,
    /// An input slower than this is reported (and saved) as slow.
    pub slow: Duration,
    /// An input still running after this long is a hang: saved, and the run stops.
    pub hang: Duration,
    /// Print progress lines.
    pub verbose: bool,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Summary {
    /// Iterations completed.
    pub iterations: u64,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
    /// Per target: (name, iterations, handled errors).
    pub per_target: Vec<(&'static str, u64, u64)>,
    /// Distinct panics (by message and location), each with its saved input.
    pub crashes: Vec<Finding>,
    /// Inputs slower than `Config::slow`.
    pub slow: Vec<Finding>,
    /// An input that did not finish within `Config::hang` (its thread is left running).
    pub hang: Option<Finding>,
    /// Panics caught inside the library (e.g. `rustsec` under its own `catch_unwind`):
    /// handled, but counted so they are visible.
    pub caught_inside: u64,
}

/// One bad input.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The target.
    pub target: &'static str,
    /// Iteration that made it (`--seed` + this reproduce it).
    pub iteration: u64,
    /// Panic message and location, or the time taken.
    pub what: String,
    /// The saved input.
    pub file: PathBuf,
}

impl Summary {
    /// True when nothing was found.
    pub fn clean(&self) -> bool {
        self.crashes.is_empty() && self.slow.is_empty() && self.hang.is_none()
    }
}

// ---------------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------------

/// SplitMix64: a few lines, and its sequence never changes with a crate version, so a seed
/// reproduces the same inputs forever (rand's `StdRng` makes no such promise).
pub struct Rng(u64);

impl Rng {
    /// The generator of iteration `i` of a run seeded with `seed`.
    pub fn for_iteration(seed: u64, i: u64) -> Self {
        let mut r = Rng(seed ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// Mostly small, sometimes large: uniform in `0..2^k` for a random `k < bits`.
    fn log(&mut self, bits: u32) -> usize {
        let k = self.below(bits as usize) as u32;
        self.below(1usize << k)
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------

/// Bytes that matter to the formats' syntax.
const SYNTAX_BYTES: &[u8] = b"\"'[]{}=:,.#\\\n\r\t -<>!~;@*$%^|/`0\x00\x7f";

/// Tokens worth inserting or substituting.
const TOKENS: &[&str] = &[
    "==",
    "===",
    ">=",
    "<=",
    "~=",
    "!=",
    "^",
    "~",
    "*",
    ",",
    ";",
    "@",
    "\\\n",
    "-r ",
    "-c ",
    "-e ",
    "--hash=sha256:",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "\"\"\"",
    "'''",
    "null",
    "true",
    "[]",
    "{}",
    "\"\"",
    "''",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "-1",
    "0",
    "\u{feff}",
    "\u{202e}",
    "\u{0}",
    "\u{1b}]8;;",
    "é",
    "𝕏",
    "\u{fffd}",
    "python_version < \"3.9\"",
    "extra == 'x'",
    "name = ",
    "version = ",
    "[package]",
    "[[package]]",
    "[project]",
    "[versions]",
    "```toml\n",
    "```\n",
    "dependencies = ",
    "\"version\": ",
    "\"introduced\": ",
    "\"fixed\": ",
    "\"events\": [",
    "\"ranges\": [",
    "\"affected\": [",
    "\"id\": ",
    "vulnerable_version_range",
    "< 0",
    ">= ",
    "days",
    "hours",
    "business days",
    "within ",
    "| 1.x | :white_check_mark: |",
    "90 days",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:4.0/AV:N",
    "git+https://x/y",
    "file:///etc/passwd",
    "../",
    "\u{2028}",
    "\t",
    " = ",
    ": ",
    "- ",
    "? ",
    "&a",
    "*a",
    "!!binary",
];

/// Numbers that overflow something.
const HUGE: &[&str] = &[
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775808",
    "4294967296",
    "340282366920938463463374607431768211456",
    "99999999999999999999999999999999999999999999999999",
    "1e308",
    "1e400",
    "-9223372036854775809",
    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",
    "1!2!3",
    "999999999999.999999999999.999999999999",
    "000000000000000000000000000000000000001",
];

/// Openers for deep nesting, with their closers.
const NESTING: &[(&str, &str)] = &[
    ("[", "]"),
    ("{", "}"),
    ("{\"a\":", "}"),
    ("a = [", "]"),
    ("{a=", "}"),
    ("(", ")"),
    ("- ", ""),
    ("  ", ""),
    (">", ""),
    ("[[", "]]"),
];

/// Byte offsets of line starts.
fn line_starts(data: &[u8]) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(
        data.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    v
}

/// The byte range of a random line (with its newline).
fn random_line(rng: &mut Rng, data: &[u8]) -> (usize, usize) {
    let starts = line_starts(data);
    let i = rng.below(starts.len());
    let end = starts.get(i + 1).copied().unwrap_or(data.len());
    (starts[i], end)
}

/// A random line of a random seed (of this target mostly, of any target sometimes).
fn donor_line<'a>(rng: &mut Rng, own: &'a [Vec<u8>], all: &'a [Vec<u8>]) -> &'a [u8] {
    let pool = if rng.chance(4) { all } else { own };
    if pool.is_empty() {
        return b"";
    }
    let seed = rng.pick(pool);
    let (a, b) = random_line(rng, seed);
    &seed[a..b]
}

/// Apply one random mutation to `data`.
fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, own: &[Vec<u8>], all: &[Vec<u8>]) {
    let len = data.len();
    let pos = rng.below(len + 1);
    match rng.below(15) {
        // Bit flip.
        0 if len > 0 => {
            let p = rng.below(len);
            data[p] ^= 1 << rng.below(8);
        }
        // Byte set to a syntax byte.
        1 if len > 0 => {
            let p = rng.below(len);
            data[p] = *rng.pick(SYNTAX_BYTES);
        }
        // Insert random bytes or a token.
        2 => {
            let ins: Vec<u8> = if rng.chance(2) {
                rng.pick(TOKENS).as_bytes().to_vec()
            } else {
                (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect()
            };
            data.splice(pos..pos, ins);
        }
        // Delete a range.
        3 if len > 0 => {
            let n = 1 + rng.log(12).min(len - pos.min(len));
            let end = (pos + n).min(len);
            data.drain(pos..end);
        }
        // Replace a line with another seed's line.
        4 => {
            let (a, b) = random_line(rng, data);
            let line = donor_line(rng, own, all).to_vec();
            data.splice(a..b, line);
        }
        // Insert another seed's line at a line start.
        5 => {
            let (a, _) = random_line(rng, data);
            let line = donor_line(rng, own, all).to_vec();
            data.splice(a..a, line);
        }
        // Duplicate a line or a block of lines (a repeated key, a repeated package).
        6 => {
            let starts = line_starts(data);
            let i = rng.below(starts.len());
            let j = (i + 1 + rng.log(5)).min(starts.len());
            let (a, b) = (starts[i], starts.get(j).copied().unwrap_or(len));
            let block = data[a..b].to_vec();
            let times = 1 + rng.log(4);
            for _ in 0..times {
                data.splice(b..b, block.iter().copied());
            }
        }
        // Drop a line or a block.
        7 => {
            let starts = line_starts(data);
            let i = rng.below(starts.len());
            let j = (i + 1 + rng.log(5)).min(starts.len());
            let (a, b) = (starts[i], starts.get(j).copied().unwrap_or(len));
            data.drain(a..b);
        }
        // Truncate.
        8 => data.truncate(pos),
        // Invalid UTF-8 (lone continuation, truncated sequence, overlong, surrogate) or NUL.
        9 => {
            let bad: &[&[u8]] = &[
                b"\xff",
                b"\x80",
                b"\xc3",
                b"\xe2\x82",
                b"\xc0\xaf",
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\x00",
            ];
            data.splice(pos..pos, rng.pick(bad).iter().copied());
        }
        // Replace a run of digits with a huge number.
        10 => {
            let start = (pos..len).find(|&i| data[i].is_ascii_digit());
            let huge = rng.pick(HUGE).as_bytes();
            match start {
                Some(s) => {
                    let e = (s..len).find(|&i| !data[i].is_ascii_digit()).unwrap_or(len);
                    data.splice(s..e, huge.iter().copied());
                }
                None => {
                    data.splice(pos..pos, huge.iter().copied());
                }
            }
        }
        // Deep nesting: many openers (and sometimes their closers).
        11 => {
            let (open, close) = *rng.pick(NESTING);
            let depth = 32 + rng.log(17);
            let mut ins = open.repeat(depth);
            if rng.chance(2) {
                ins.push_str(&close.repeat(depth));
            }
            data.splice(pos..pos, ins.into_bytes());
        }
        // A very long run: a chunk repeated.
        12 if len > 0 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.log(6)).min(len);
            let chunk = data[a..b].to_vec();
            let times = 1 + rng.log(20) / chunk.len().max(1);
            let ins: Vec<u8> = chunk.repeat(times);
            data.splice(b..b, ins);
        }
        // Swap two lines.
        13 => {
            let (a1, b1) = random_line(rng, data);
            let (a2, b2) = random_line(rng, data);
            if b1 <= a2 {
                let second = data[a2..b2].to_vec();
                let first = data[a1..b1].to_vec();
                data.splice(a2..b2, first);
                data.splice(a1..b1, second);
            }
        }
        // Replace the contents of a quoted string with a token or nothing.
        _ => {
            if let Some(q) = (pos..len).find(|&i| data[i] == b'"') {
                let end = (q + 1..len).find(|&i| data[i] == b'"').unwrap_or(len);
                let tok = if rng.chance(3) { "" } else { *rng.pick(TOKENS) };
                data.splice(q + 1..end, tok.bytes());
            }
        }
    }
    if data.len() > MAX_INPUT {
        data.truncate(MAX_INPUT);
    }
}

/// A random replacement value: wrong types, huge numbers, odd strings, deep nesting.
fn odd_value(rng: &mut Rng, own: &[Vec<u8>], all: &[Vec<u8>]) -> Value {
    match rng.below(9) {
        0 => Value::Null,
        1 => json!(rng.chance(2)),
        2 => {
            let h = *rng.pick(HUGE);
            serde_json::from_str(h).unwrap_or_else(|_| json!(h))
        }
        3 => json!(rng.next() as i64),
        4 => json!(*rng.pick(TOKENS)),
        5 => json!(String::from_utf8_lossy(donor_line(rng, own, all)).trim()),
        6 => json!([]),
        7 => json!({}),
        _ => {
            let mut v = json!("x");
            for _ in 0..1 + rng.log(9) {
                v = if rng.chance(2) {
                    json!([v])
                } else {
                    json!({ "a": v })
                };
            }
            v
        }
    }
}

/// Change one node of a JSON document: replace a value, drop or duplicate a key or an element.
fn mutate_json(rng: &mut Rng, v: &mut Value, own: &[Vec<u8>], all: &[Vec<u8>]) {
    // Walk down a random path; stop at a leaf or by chance.
    let mut node = v;
    loop {
        let len = match &*node {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        };
        if len == 0 || rng.chance(4) {
            break;
        }
        let i = rng.below(len);
        // Sometimes act on this container's child rather than descend further.
        if rng.chance(3) {
            match node {
                Value::Array(a) => {
                    if rng.chance(2) {
                        a.remove(i);
                    } else {
                        let dup = a[i].clone();
                        a.insert(i, dup);
                    }
                }
                Value::Object(o) => {
                    let key = o.keys().nth(i).cloned().unwrap_or_default();
                    if rng.chance(2) {
                        o.remove(&key);
                    } else {
                        o.insert(key, odd_value(rng, own, all));
                    }
                }
                _ => {}
            }
            return;
        }
        node = match node {
            Value::Array(a) => &mut a[i],
            Value::Object(o) => match o.values_mut().nth(i) {
                Some(child) => child,
                None => return,
            },
            _ => return,
        };
    }
    *node = odd_value(rng, own, all);
}

/// The input of iteration `i`: (target index, bytes).
pub fn generate(seed: u64, i: u64, targets: &[Target], all: &[Vec<u8>]) -> (usize, Vec<u8>) {
    let mut rng = Rng::for_iteration(seed, i);
    let t = rng.below(targets.len());
    let own = &targets[t].seeds;
    // Mostly this target's seeds; sometimes another format's (a lockfile fed to the wrong
    // parser is a cheap source of odd-but-structured input).
    let base = if own.is_empty() || rng.chance(20) {
        rng.pick(all).clone()
    } else {
        rng.pick(own).clone()
    };
    let mut data = base;
    // JSON documents: half the time, first change the tree (reaching the code past the
    // syntax check), then maybe the bytes.
    if data.first().is_some_and(|b| matches!(b, b'{' | b'['))
        && rng.chance(2)
        && let Ok(mut v) = serde_json::from_slice::<Value>(&data)
    {
        for _ in 0..1 + rng.log(3) {
            mutate_json(&mut rng, &mut v, own, all);
        }
        data = serde_json::to_vec_pretty(&v).unwrap_or(data);
        if rng.chance(2) {
            return (t, data);
        }
    }
    let n = 1 + rng.log(3);
    for _ in 0..n {
        mutate_once(&mut rng, &mut data, own, all);
    }
    (t, data)
}

// ---------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------

fn manifest(path: &Path, kind: ManifestKind) -> Result<(), String> {
    manifests::parse(path, kind, &ParseOptions::default())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn cargo_lock(p: &Path) -> Result<(), String> {
    manifest(p, ManifestKind::CargoLock)
}
fn cargo_toml(p: &Path) -> Result<(), String> {
    manifest(p, ManifestKind::CargoToml)
}
fn requirements(p: &Path) -> Result<(), String> {
    manifest(p, ManifestKind::RequirementsTxt)
}
fn pyproject(p: &Path) -> Result<(), String> {
    manifest(p, ManifestKind::Pyproject)
}
fn poetry_lock(p: &Path) -> Result<(), String> {
    manifest(p, ManifestKind::PoetryLock)
}
fn uv_lock(p: &Path) -> Result<(), String> {
    manifest(p, ManifestKind::UvLock)
}
fn pipfile_lock(p: &Path) -> Result<(), String> {
    manifest(p, ManifestKind::PipfileLock)
}
fn pylock(p: &Path) -> Result<(), String> {
    manifest(p, ManifestKind::Pylock)
}

fn read(p: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(p).map_err(|e| e.to_string())
}

/// SECURITY.md: parse, then everything `policy show` and the deadlines compute from it.
fn security_md(p: &Path) -> Result<(), String> {
    let policy = Policy::load(p).map_err(|e| e.to_string())?;
    let zones = [Zone::default(), Zone::configured(Some("Europe/Paris"))];
    for zone in &zones {
        let _ = policy.show("fuzz", zone);
        let _ = policy.to_json("fuzz", zone);
    }
    let first_seen: jiff::Timestamp = "2026-03-29T00:30:00Z".parse().map_err(|e| format!("{e}"))?;
    for level in [
        Level::Unknown,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ] {
        for zone in &zones {
            let _ = policy.deadlines(first_seen, level, &zone_tz(zone));
        }
        let _ = policy.deadline_rules(level);
    }
    let _ = policy.affected_versions();
    let _ = policy.channel();
    Ok(())
}

fn zone_tz(zone: &Zone) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&zone.name()).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// An OSV record as the directory and zip loaders parse it (JSON or YAML by the file name).
fn osv(p: &Path) -> Result<(), String> {
    let bytes = read(p)?;
    let name = p.display().to_string();
    depwatch::feeds::osv::parse_record(&bytes, &name, &name, "fuzz")
        .map(|_| ())
        .map_err(|e| e.message)
}

/// A GitHub REST page (an array) or one `global-advisory`, converted and compiled as `sync`
/// does.
fn ghsa_rest(p: &Path) -> Result<(), String> {
    let bytes = read(p)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let records = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut errors = Vec::new();
    for r in &records {
        match depwatch::feeds::ghsa::to_osv(r) {
            Ok(adv) => {
                if let Err(e) = CompiledAdvisory::compile(adv, "fuzz") {
                    errors.push(e.message);
                }
            }
            Err(e) => errors.push(e.message),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// A RustSec advisory file, as the advisory-db loader and the archive reader parse it.
fn rustsec_md(p: &Path) -> Result<(), String> {
    let bytes = read(p)?;
    let text = String::from_utf8(bytes).map_err(|e| e.to_string())?;
    let adv = depwatch::feeds::rustsec::parse_advisory(&text)?;
    CompiledAdvisory::compile(adv, "fuzz")
        .map(|_| ())
        .map_err(|e| e.message)
}

// ---------------------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------------------

/// Files under `dir` (recursively) whose name satisfies `keep`, sorted (seed order must not
/// depend on the file system, or a seed would not reproduce).
fn files(dir: &Path, keep: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().and_then(|n| n.to_str()).is_some_and(keep) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn read_all(paths: &[PathBuf]) -> Vec<Vec<u8>> {
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// `Pipfile.lock` seeds: the corpus has none, so the real packages of the corpus'
/// `poetry.lock` are written in the layout pipenv writes.
fn pipfile_seeds(poetry_locks: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for text in poetry_locks {
        let Ok(doc) = toml::from_str::<toml::Table>(&String::from_utf8_lossy(text)) else {
            continue;
        };
        let Some(pkgs) = doc.get("package").and_then(|p| p.as_array()) else {
            continue;
        };
        let mut default = serde_json::Map::new();
        let mut develop = serde_json::Map::new();
        for (i, p) in pkgs.iter().enumerate() {
            let name = p.get("name").and_then(|v| v.as_str()).unwrap_or("x");
            let version = p.get("version").and_then(|v| v.as_str()).unwrap_or("0");
            let hashes: Vec<&str> = p
                .get("files")
                .and_then(|f| f.as_array())
                .into_iter()
                .flatten()
                .filter_map(|f| f.get("hash").and_then(|h| h.as_str()))
                .take(2)
                .collect();
            let mut entry = json!({ "hashes": hashes, "version": format!("=={version}") });
            if let Some(m) = p.get("markers").and_then(|v| v.as_str()) {
                entry["markers"] = json!(m);
            }
            if i % 3 == 0 {
                develop.insert(name.to_string(), entry);
            } else {
                default.insert(name.to_string(), entry);
            }
        }
        default.insert("local-pkg".into(), json!({ "editable": true, "path": "." }));
        default.insert(
            "from-git".into(),
            json!({ "git": "https://github.com/psf/requests.git", "ref": "0e322af87745eff34caffe4df68456ebc20d9068" }),
        );
        let doc = json!({
            "_meta": {
                "hash": { "sha256": "7f7606f08e0544d8d012ef4d097dabdd6df6843a28793eb6551245d4b2db4242" },
                "pipfile-spec": 6,
                "requires": { "python_version": "3.11" },
                "sources": [{ "name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true }]
            },
            "default": default,
            "develop": develop,
        });
        if let Ok(s) = serde_json::to_string_pretty(&doc) {
            out.push(s.into_bytes());
        }
    }
    out
}

/// `pylock.toml` seeds: the corpus has none, so the real packages and wheels of the corpus'
/// `uv.lock` are written in the PEP 751 layout.
fn pylock_seeds(uv_locks: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for text in uv_locks {
        let Ok(doc) = toml::from_str::<toml::Table>(&String::from_utf8_lossy(text)) else {
            continue;
        };
        let Some(pkgs) = doc.get("package").and_then(|p| p.as_array()) else {
            continue;
        };
        let mut s = String::from(
            "lock-version = \"1.0\"\ncreated-by = \"uv\"\nrequires-python = \">=3.9\"\n\n",
        );
        // A few hundred packages is plenty, and keeps each iteration quick.
        for p in pkgs.iter().take(300) {
            let name = p.get("name").and_then(|v| v.as_str()).unwrap_or("x");
            let _ = writeln!(s, "[[packages]]\nname = {name:?}");
            let source = p.get("source").and_then(|v| v.as_table());
            if let Some(dir) = source.and_then(|t| t.get("editable").or(t.get("virtual"))) {
                let _ = writeln!(
                    s,
                    "directory = {{ path = {:?}, editable = true }}\n",
                    dir.as_str().unwrap_or(".")
                );
                continue;
            }
            if let Some(v) = p.get("version").and_then(|v| v.as_str()) {
                let _ = writeln!(s, "version = {v:?}");
            }
            if let Some(m) = p
                .get("resolution-markers")
                .and_then(|v| v.as_array())
                .and_then(|a| a.first())
                .and_then(|v| v.as_str())
            {
                let _ = writeln!(s, "marker = {m:?}");
            }
            let _ = writeln!(s, "index = \"https://pypi.org/simple\"");
            for w in p
                .get("wheels")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .take(2)
            {
                let url = w.get("url").and_then(|v| v.as_str()).unwrap_or("");
                let hash = w
                    .get("hash")
                    .and_then(|v| v.as_str())
                    .and_then(|h| h.strip_prefix("sha256:"))
                    .unwrap_or("");
                let _ = writeln!(
                    s,
                    "[[packages.wheels]]\nurl = {url:?}\nhashes = {{ sha256 = {hash:?} }}"
                );
            }
            s.push('\n');
        }
        s.push_str(
            "[[packages]]\nname = \"from-git\"\nvcs = { type = \"git\", url = \"https://github.com/psf/requests.git\", commit-id = \"0e322af87745eff34caffe4df68456ebc20d9068\" }\n",
        );
        out.push(s.into_bytes());
    }
    out
}

/// GitHub REST `global-advisory` seeds: the examples of the REST description, and the
/// GHSA records of the OSV export written back in the REST shape (the real advisories' ranges,
/// ids and vectors).
fn ghsa_seeds(shared: &Path, ghsa_osv: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let api =
        shared.join("feeds-reference/github-rest/github-rest-advisories.openapi-extract.json");
    if let Some(doc) = std::fs::read(&api)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    {
        for name in ["global-advisory-items", "global-advisory"] {
            let v = &doc["components"]["examples"][name]["value"];
            if !v.is_null()
                && let Ok(s) = serde_json::to_string_pretty(v)
            {
                out.push(s.into_bytes());
            }
        }
    }
    let mut page = Vec::new();
    for bytes in ghsa_osv {
        let Ok(osv) = serde_json::from_slice::<Value>(bytes) else {
            continue;
        };
        let id = osv["id"].as_str().unwrap_or("GHSA-xxxx-xxxx-xxxx");
        let cve = osv["aliases"]
            .as_array()
            .and_then(|a| a.iter().find_map(|v| v.as_str()));
        let mut vulns = Vec::new();
        for a in osv["affected"].as_array().into_iter().flatten() {
            let eco = match a["package"]["ecosystem"].as_str() {
                Some("PyPI") => "pip",
                Some("crates.io") => "rust",
                Some(other) => other,
                None => "other",
            };
            for r in a["ranges"].as_array().into_iter().flatten() {
                let mut parts = Vec::new();
                let mut fixed = None;
                for e in r["events"].as_array().into_iter().flatten() {
                    if let Some(v) = e["introduced"].as_str() {
                        if v != "0" {
                            parts.push(format!(">= {v}"));
                        }
                    } else if let Some(v) = e["fixed"].as_str() {
                        parts.push(format!("< {v}"));
                        fixed = Some(v.to_string());
                    } else if let Some(v) = e["last_affected"].as_str() {
                        parts.push(format!("<= {v}"));
                    }
                }
                vulns.push(json!({
                    "package": { "ecosystem": eco, "name": a["package"]["name"] },
                    "vulnerable_version_range": parts.join(", "),
                    "first_patched_version": fixed,
                    "vulnerable_functions": [],
                }));
            }
        }
        let vector = osv["severity"]
            .as_array()
            .and_then(|s| s.first())
            .and_then(|s| s["score"].as_str());
        let rest = json!({
            "ghsa_id": id,
            "cve_id": cve,
            "url": format!("https://api.github.com/advisories/{id}"),
            "html_url": format!("https://github.com/advisories/{id}"),
            "summary": osv["summary"],
            "description": osv["details"],
            "type": "reviewed",
            "severity": osv["database_specific"]["severity"].as_str().map(str::to_lowercase),
            "identifiers": [{ "type": "GHSA", "value": id }],
            "references": osv["references"].as_array().into_iter().flatten()
                .filter_map(|r| r["url"].as_str()).collect::<Vec<_>>(),
            "published_at": osv["published"],
            "updated_at": osv["modified"],
            "withdrawn_at": osv["withdrawn"],
            "vulnerabilities": vulns,
            "cvss_severities": { "cvss_v3": { "vector_string": vector, "score": null } },
            "cwes": [],
        });
        if let Ok(s) = serde_json::to_string_pretty(&rest) {
            out.push(s.into_bytes());
        }
        page.push(rest);
    }
    if let Ok(s) = serde_json::to_string_pretty(&Value::Array(page)) {
        out.push(s.into_bytes());
    }
    out
}

/// Every target with its seeds from `shared` (`../shared`) and this repository.
pub fn targets(shared: &Path) -> Vec<Target> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let m = shared.join("corpus/manifests");
    let named = |name: &'static str| move |n: &str| n == name;
    let mut cargo_lock_seeds = read_all(&files(&m, &named("Cargo.lock")));
    cargo_lock_seeds.extend(read_all(&[repo.join("Cargo.lock")]));
    let mut cargo_toml_seeds = read_all(&files(&m, &named("Cargo.toml")));
    cargo_toml_seeds.extend(read_all(&[repo.join("Cargo.toml")]));
    let requirement_seeds = read_all(&files(&m, &|n| {
        n.ends_with(".txt") && (n.starts_with("requirements") || n.starts_with("constraints"))
    }));
    let poetry = read_all(&files(&m, &named("poetry.lock")));
    let uv = read_all(&files(&m, &named("uv.lock")));
    let feeds = shared.join("feeds-reference");
    let json = |n: &str| n.ends_with(".json");
    let ghsa_osv = read_all(&files(&feeds.join("ghsa-osv"), &json));
    let mut osv_json = ghsa_osv.clone();
    osv_json.extend(read_all(&files(&feeds.join("malicious"), &json)));
    osv_json.extend(read_all(&files(&feeds.join("rustsec-osv"), &json)));
    let osv_yaml = read_all(&files(&shared.join("corpus/advisories/pypa/vulns"), &|n| {
        n.ends_with(".yaml")
    }));
    let rustsec = read_all(&files(
        &shared.join("corpus/advisories/rustsec/crates"),
        &|n| n.starts_with("RUSTSEC-") && n.ends_with(".md"),
    ));
    let policies = read_all(&files(&shared.join("policies"), &|n| n.ends_with(".md")));
    vec![
        Target {
            name: "cargo-lock",
            file_name: "Cargo.lock",
            seeds: cargo_lock_seeds,
            run: cargo_lock,
        },
        Target {
            name: "cargo-toml",
            file_name: "Cargo.toml",
            seeds: cargo_toml_seeds,
            run: cargo_toml,
        },
        Target {
            name: "requirements-txt",
            file_name: "requirements.txt",
            seeds: requirement_seeds,
            run: requirements,
        },
        Target {
            name: "pyproject-toml",
            file_name: "pyproject.toml",
            seeds: read_all(&files(&m, &named("pyproject.toml"))),
            run: pyproject,
        },
        Target {
            name: "pipfile-lock",
            file_name: "Pipfile.lock",
            seeds: pipfile_seeds(&poetry),
            run: pipfile_lock,
        },
        Target {
            name: "pylock-toml",
            file_name: "pylock.toml",
            seeds: pylock_seeds(&uv),
            run: pylock,
        },
        Target {
            name: "poetry-lock",
            file_name: "poetry.lock",
            seeds: poetry,
            run: poetry_lock,
        },
        Target {
            name: "uv-lock",
            file_name: "uv.lock",
            seeds: uv,
            run: uv_lock,
        },
        Target {
            name: "security-md",
            file_name: "SECURITY.md",
            seeds: policies,
            run: security_md,
        },
        Target {
            name: "osv-json",
            file_name: "record.json",
            seeds: osv_json,
            run: osv,
        },
        Target {
            name: "osv-yaml",
            file_name: "record.yaml",
            seeds: osv_yaml,
            run: osv,
        },
        Target {
            name: "ghsa-rest",
            file_name: "advisories.json",
            seeds: ghsa_seeds(shared, &ghsa_osv),
            run: ghsa_rest,
        },
        Target {
            name: "rustsec-md",
            file_name: "RUSTSEC-2099-0001.md",
            seeds: rustsec,
            run: rustsec_md,
        },
    ]
}

// ---------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------

thread_local! {
    /// Set on the fuzzing thread: its panics are recorded, not printed.
    static FUZZING: Cell<bool> = const { Cell::new(false) };
    /// The last panic on this thread: message and location.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Record panics of the fuzzing thread instead of printing them (millions of inputs); any
/// other thread (other tests in the same process) keeps the usual hook.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if FUZZING.with(Cell::get) {
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(non-string panic)".into());
                let loc = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg} at {loc}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// What the watchdog sees of the fuzzing thread.
struct Progress {
    /// Nanoseconds since the run started at which the current input started; 0 when idle.
    started: AtomicU64,
    /// The current iteration.
    iteration: AtomicU64,
    /// The current target index.
    target: AtomicU64,
    /// Set by the watchdog: the fuzzing thread stops after its current input.
    stop: AtomicBool,
}

fn save(out: &Path, kind: &str, target: &str, iteration: u64, input: &Path) -> PathBuf {
    let dir = out.join("findings");
    let _ = std::fs::create_dir_all(&dir);
    let dest = dir.join(format!("{kind}-{target}-{iteration}"));
    let _ = std::fs::copy(input, &dest);
    dest
}

/// Fuzz `targets` per `cfg`.
pub fn run(targets: Vec<Target>, cfg: &Config) -> Summary {
    install_hook();
    let all: Arc<Vec<Vec<u8>>> = Arc::new(
        targets
            .iter()
            .flat_map(|t| t.seeds.iter().cloned())
            .collect(),
    );
    let work = cfg.out.join("inputs");
    for t in &targets {
        let _ = std::fs::create_dir_all(work.join(t.name));
    }
    let progress = Arc::new(Progress {
        started: AtomicU64::new(0),
        iteration: AtomicU64::new(0),
        target: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let summary = Arc::new(Mutex::new(Summary {
        per_target: targets.iter().map(|t| (t.name, 0, 0)).collect(),
        ..Default::default()
    }));
    let names: Vec<&'static str> = targets.iter().map(|t| t.name).collect();
    let files: Vec<PathBuf> = targets
        .iter()
        .map(|t| work.join(t.name).join(t.file_name))
        .collect();
    let t0 = Instant::now();
    let worker = {
        let (progress, summary, cfg, all, files) = (
            progress.clone(),
            summary.clone(),
            cfg.clone(),
            all.clone(),
            files.clone(),
        );
        std::thread::Builder::new()
            .name("fuzz".into())
            .stack_size(STACK)
            .spawn(move || {
                FUZZING.with(|f| f.set(true));
                let mut last_report = Instant::now();
                let mut i = 0u64;
                while !progress.stop.load(Ordering::Relaxed)
                    && t0.elapsed() < cfg.duration
                    && cfg.iterations.is_none_or(|n| i < n)
                {
                    let (t, input) = generate(cfg.seed, i, &targets, &all);
                    let file = &files[t];
                    if std::fs::write(file, &input).is_err() {
                        break;
                    }
                    progress.iteration.store(i, Ordering::Relaxed);
                    progress.target.store(t as u64, Ordering::Relaxed);
                    let start = Instant::now();
                    progress
                        .started
                        .store((start - t0).as_nanos().max(1) as u64, Ordering::Release);
                    let run = targets[t].run;
                    let result = std::panic::catch_unwind(|| run(file));
                    progress.started.store(0, Ordering::Release);
                    let took = start.elapsed();
                    let caught = LAST_PANIC.with(|p| p.borrow_mut().take());
                    let mut s = summary.lock().unwrap_or_else(|e| e.into_inner());
                    s.iterations = i + 1;
                    s.per_target[t].1 += 1;
                    match result {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => s.per_target[t].2 += 1,
                        Err(_) => {
                            let what = caught.clone().unwrap_or_else(|| "panic".into());
                            // One saved input per distinct panic site.
                            if !s.crashes.iter().any(|c| c.what == what) {
                                let saved = save(&cfg.out, "crash", targets[t].name, i, file);
                                if cfg.verbose {
                                    eprintln!(
                                        "CRASH {} iteration {i}: {what}\n  input: {}",
                                        targets[t].name,
                                        saved.display()
                                    );
                                }
                                s.crashes.push(Finding {
                                    target: targets[t].name,
                                    iteration: i,
                                    what,
                                    file: saved,
                                });
                            }
                        }
                    }
                    if result.is_ok() && caught.is_some() {
                        s.caught_inside += 1;
                    }
                    if took > cfg.slow {
                        let saved = save(&cfg.out, "slow", targets[t].name, i, file);
                        let what = format!("took {:.2} s", took.as_secs_f64());
                        if cfg.verbose {
                            eprintln!(
                                "SLOW {} iteration {i}: {what}\n  input: {}",
                                targets[t].name,
                                saved.display()
                            );
                        }
                        s.slow.push(Finding {
                            target: targets[t].name,
                            iteration: i,
                            what,
                            file: saved,
                        });
                    }
                    drop(s);
                    if cfg.verbose && last_report.elapsed() > Duration::from_secs(30) {
                        last_report = Instant::now();
                        eprintln!(
                            "... {:.0} s, {} iterations",
                            t0.elapsed().as_secs_f64(),
                            i + 1
                        );
                    }
                    i += 1;
                }
            })
            .expect("spawn the fuzzing thread")
    };
    // Watchdog: a parser in an endless loop cannot be interrupted in-process, so the input is
    // saved and the run ends; the caller exits the process (the thread is abandoned).
    let mut hang = None;
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
        let started = progress.started.load(Ordering::Acquire);
        if started == 0 {
            continue;
        }
        let running = t0.elapsed().saturating_sub(Duration::from_nanos(started));
        if running > cfg.hang && progress.started.load(Ordering::Acquire) == started {
            let t = progress.target.load(Ordering::Relaxed) as usize;
            let i = progress.iteration.load(Ordering::Relaxed);
            progress.stop.store(true, Ordering::Relaxed);
            hang = Some(Finding {
                target: names[t],
                iteration: i,
                what: format!("still running after {:.0} s", running.as_secs_f64()),
                file: save(&cfg.out, "hang", names[t], i, &files[t]),
            });
            break;
        }
    }
    if hang.is_none() {
        let _ = worker.join();
    }
    let mut s = std::mem::take(&mut *summary.lock().unwrap_or_else(|e| e.into_inner()));
    s.elapsed = t0.elapsed();
    s.hang = hang;
    s
}

/// Run one saved input through a target (for `--replay`): the parser's result, or the panic.
pub fn replay(target: &Target, input: &Path, out: &Path) -> Result<Result<(), String>, String> {
    let dir = out.join("replay");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join(target.file_name);
    std::fs::copy(input, &file).map_err(|e| format!("{}: {e}", input.display()))?;
    let run = target.run;
    std::panic::catch_unwind(|| run(&file)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into())
    })
}
