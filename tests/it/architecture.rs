//! The layers of `docs/ARCHITECTURE.md`, enforced on the source.
//!
//! How it reads the code (simple on purpose, so it never needs a parser crate):
//! - The library's modules are the `mod` lines of `src/lib.rs`. A file under `src/` belongs to
//!   the top module named by its first path component (`src/feeds/osv.rs` -> `feeds`). Files
//!   of modules not declared in `lib.rs` (`main.rs`, the binary's own `cli/`) are the CLI: the
//!   top layer, free to use everything, so they are not read.
//! - An edge `a -> b` is any `crate::b` in a file of `a` (also inside `use crate::{b, c::d}`),
//!   outside `//` comment lines. Cross-module paths must be written from `crate::`: a
//!   `super::` that leaves the top module is not seen (none does today; keep it that way).
//! - Test code counts: a unit test may not reach up the layers either.
//!
//! Updating: a new module goes into one layer of [`LAYERS`] and one line of the doc; an edge
//! inside a layer goes into [`SAME_LAYER`] (edges to lower layers need nothing). The test
//! names what to change when it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers, lowest first. A module may use modules of lower layers; `base` may be used by
/// every layer.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "base",
        &["text", "fsread", "secret", "schedule", "net", "blocking"],
    ),
    (
        "model",
        &["ecosystem", "severity", "advisory", "environment"],
    ),
    ("inputs", &["manifests", "feeds", "vex"]),
    ("store", &["store"]),
    (
        "matcher",
        &["database", "report", "matcher", "peer_ignores"],
    ),
    ("monitor", &["policy", "monitor"]),
    ("publishing", &["render", "publish", "dashboard"]),
    (
        "application",
        &[
            "config", "scan", "sync", "notes", "health", "status", "run", "watch", "vexdoc",
        ],
    ),
    ("server", &["server"]),
];

/// Edges allowed between two modules of the same layer (base modules may use each other).
const SAME_LAYER: &[(&str, &str)] = &[
    ("advisory", "ecosystem"),
    ("advisory", "severity"),
    ("matcher", "database"),
    ("matcher", "report"),
    ("peer_ignores", "matcher"),
    ("monitor", "policy"),
    ("scan", "config"),
    ("status", "config"),
    ("status", "run"),
    ("dashboard", "render"),
    ("vexdoc", "config"),
    ("vexdoc", "scan"),
    ("notes", "scan"),
    ("run", "config"),
    ("run", "health"),
    ("run", "notes"),
    ("run", "scan"),
    ("run", "sync"),
    ("watch", "run"),
    ("watch", "sync"),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Module names declared by `mod x;` / `pub mod x;` lines of `lib.rs`.
fn lib_modules(lib_rs: &str) -> BTreeSet<String> {
    lib_rs
        .lines()
        .map(str::trim)
        .filter_map(|l| {
            let l = l.strip_prefix("pub ").unwrap_or(l);
            let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .collect()
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top modules a piece of source names through `crate::`.
fn crate_refs(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().next_back();
            let after = &rest[i + "crate::".len()..];
            rest = after;
            // `foo_crate::` is another path.
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = after.strip_prefix('{') {
                // `crate::{a, b::{c, d}}`: the first identifier of each top-level item. A group
                // spanning lines is read to the end of this line only; rustfmt keeps the
                // module names of a group on its first lines.
                let mut depth = 0usize;
                let mut item_start = true;
                for (j, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => item_start = true,
                        c if item_start && depth == 0 && !c.is_whitespace() => {
                            out.insert(ident(&group[j..]).to_string());
                            item_start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                out.insert(ident(after).to_string());
            }
        }
    }
    out
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Edge -> the files that make it.
type Edges = BTreeMap<(String, String), BTreeSet<String>>;

fn edges(src: &Path, modules: &BTreeSet<String>) -> Edges {
    let mut files = Vec::new();
    rs_files(src, &mut files);
    let mut edges = Edges::new();
    for f in files {
        let rel = f.strip_prefix(src).expect("under src");
        let first = rel.components().next().expect("a component");
        let top = first.as_os_str().to_string_lossy();
        let top = top.strip_suffix(".rs").unwrap_or(&top).to_string();
        if !modules.contains(&top) {
            continue; // lib.rs, main.rs, the binary's modules
        }
        let text = std::fs::read_to_string(&f).expect("source is UTF-8");
        for to in crate_refs(&text) {
            if to != top && modules.contains(&to) {
                edges
                    .entry((top.clone(), to))
                    .or_default()
                    .insert(rel.display().to_string());
            }
        }
    }
    edges
}

/// Every rule broken, as lines for the failure message.
fn violations(modules: &BTreeSet<String>, edges: &Edges) -> Vec<String> {
    let mut bad = Vec::new();
    let layer_of: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, (_, ms))| ms.iter().map(move |m| (*m, i)))
        .collect();
    for m in modules {
        if !layer_of.contains_key(m.as_str()) {
            bad.push(format!(
                "module `{m}` is in no layer: add it to LAYERS here and to docs/ARCHITECTURE.md"
            ));
        }
    }
    for m in layer_of.keys() {
        if !modules.contains(*m) {
            bad.push(format!("LAYERS names `{m}`, which lib.rs does not declare"));
        }
    }
    for ((from, to), files) in edges {
        let (Some(&lf), Some(&lt)) = (layer_of.get(from.as_str()), layer_of.get(to.as_str()))
        else {
            continue;
        };
        let ok =
            lt < lf || lt == 0 || (lt == lf && SAME_LAYER.contains(&(from.as_str(), to.as_str())));
        if !ok {
            bad.push(format!(
                "{from} ({}) -> {to} ({}) is against the layers, in {}",
                LAYERS[lf].0,
                LAYERS[lt].0,
                files.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    bad.extend(cycles(edges));
    bad
}

/// One line per cycle found by a depth-first search (each cycle reported from one module).
fn cycles(edges: &Edges) -> Vec<String> {
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        graph.entry(from).or_default().push(to);
    }
    fn visit<'a>(
        n: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        out: &mut Vec<String>,
    ) {
        if let Some(i) = stack.iter().position(|s| *s == n) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(n);
            out.push(format!("import cycle: {}", cycle.join(" -> ")));
            return;
        }
        if !done.insert(n) {
            return;
        }
        stack.push(n);
        for next in graph.get(n).into_iter().flatten() {
            visit(next, graph, stack, done, out);
        }
        stack.pop();
    }
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        visit(n, &graph, &mut Vec::new(), &mut done, &mut out);
    }
    out
}

#[test]
fn modules_keep_to_their_layers_without_cycles() {
    let src = src();
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let modules = lib_modules(&lib);
    assert!(
        modules.len() > 10,
        "read the mod lines of lib.rs: {modules:?}"
    );
    let edges = edges(&src, &modules);
    // The reader works: edges known to exist are seen.
    for known in [
        ("matcher", "database"),
        ("feeds", "advisory"),
        ("scan", "config"),
    ] {
        let key = (known.0.to_string(), known.1.to_string());
        assert!(edges.contains_key(&key), "edge {known:?} not found");
    }
    let bad = violations(&modules, &edges);
    assert!(bad.is_empty(), "layer rules broken:\n{}", bad.join("\n"));
}

#[test]
fn the_architecture_doc_names_every_module() {
    let src = src();
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let doc =
        std::fs::read_to_string(src.join("../docs/ARCHITECTURE.md")).expect("docs/ARCHITECTURE.md");
    let missing: Vec<_> = lib_modules(&lib)
        .into_iter()
        .filter(|m| !doc.contains(&format!("`{m}`")))
        .collect();
    assert!(missing.is_empty(), "docs/ARCHITECTURE.md lacks {missing:?}");
}

#[test]
fn the_reader_sees_grouped_paths_and_skips_comments() {
    let refs = crate_refs(
        "use crate::{advisory::{A, B}, report, severity::Level};\n\
         // crate::run is only a comment\n\
         let x = crate::store::Store::open(p); let y = other_crate::run::x;\n",
    );
    let want: BTreeSet<String> = ["advisory", "report", "severity", "store"]
        .map(String::from)
        .into();
    assert_eq!(refs, want);
}

#[test]
fn an_upward_edge_and_a_cycle_are_caught() {
    let modules: BTreeSet<String> = ["feeds", "report", "advisory", "severity", "text"]
        .map(String::from)
        .into();
    let mut edges = Edges::new();
    for (a, b) in [
        ("feeds", "report"),
        ("advisory", "severity"),
        ("severity", "advisory"),
    ] {
        edges.insert((a.into(), b.into()), ["x.rs".to_string()].into());
    }
    let bad = violations(&modules, &edges).join("\n");
    assert!(bad.contains("feeds (inputs) -> report (matcher)"), "{bad}");
    assert!(
        bad.contains("severity (model) -> advisory (model)"),
        "{bad}"
    );
    assert!(
        bad.contains("import cycle: advisory -> severity -> advisory"),
        "{bad}"
    );
}
