//! `uv.lock` (also the early `[[distribution]]` spelling).
//!
//! A `[[package]]` from a `registry` source is pinned at its `version`. `virtual` / `editable`
//! packages are the project and its workspace members: reported as not checked ("virtual/
//! editable project package") and used as the graph's roots. `directory`, `path`, `git` and
//! `url` sources, or a missing version, are not checked either. The line is the package's
//! `name = ` line.
//!
//! Graph: edges from `dependencies`, `optional-dependencies` and `dev-dependencies`; an edge
//! that names a `version` goes to that version (uv.lock may hold several versions of a
//! package). `via` is the shortest path from the project *without the project itself*, so a
//! direct dependency has `via == Some([])` like in the other formats; `member` names the
//! project when the lock holds more than one (a workspace). A package's scope is the
//! extra or dependency group through which the project first reaches it (`None` for its
//! `dependencies`). Without any project package, the roots are the packages nothing depends
//! on and paths keep them.
//!
//! Markers: uv.lock writes no marker on a package, only on the edges into it (`marker`) and,
//! where the resolution forked, the forks the version belongs to (`resolution-markers`). A
//! package's markers are built from both, as written: the `or` of its incoming edges'
//! markers (none when any edge into it has none), `and` the `or` of its resolution markers.
//! A parent's own markers are not carried down the graph, so the result may admit more
//! environments than the lock does, never fewer: the conservative side for "not applicable".

use super::clip;
use super::pyproject::{NamedTable, named_tables};
use super::pyproject::{get, get_str, get_table, parse_toml};
use super::{
    Dependency, Manifest, ManifestError, ManifestKind, Requirement, read_text, shortest_paths,
};
use crate::ecosystem::{Ecosystem, normalize_pypi_name};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Source kinds, in the order they are looked for in a `source = { … }` table.
const SOURCE_KINDS: &[&str] = &[
    "registry",
    "editable",
    "virtual",
    "directory",
    "path",
    "git",
    "url",
];

/// An edge as written: target name (normalised), optional version, and its label (`None` for
/// `dependencies`, the extra or group otherwise).
struct Edge {
    name: String,
    version: Option<String>,
    label: Option<String>,
    marker: Option<String>,
}

struct Node {
    key: String,
    name: String,
    is_project: bool,
    edges: Vec<Edge>,
    /// `resolution-markers`: the forks this version is resolved in (empty: every one).
    forks: Vec<String>,
}

/// The format in [`super::registry::ALL`].
pub struct UvLock;

impl super::registry::Format for UvLock {
    fn kind(&self) -> ManifestKind {
        ManifestKind::UvLock
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn file_name(&self) -> &'static str {
        "uv.lock"
    }

    fn supersedes(&self) -> &'static [ManifestKind] {
        &[ManifestKind::Pyproject]
    }

    fn looks_like(&self, content: &super::registry::Content<'_>) -> bool {
        use super::registry::{Content, toml_array, toml_key};
        let Content::Toml(doc) = content else {
            return false;
        };
        toml_array(doc, "package") && toml_key(doc, "requires-python")
    }

    fn parse(&self, path: &Path, _opts: &super::ParseOptions) -> Result<Manifest, ManifestError> {
        parse(path)
    }
}

/// Parse the file.
pub fn parse(path: &Path) -> Result<Manifest, ManifestError> {
    let text = read_text(path)?;
    let doc = parse_toml(path, &text)?;
    let mut warnings = Vec::new();
    let packages = named_tables(
        path,
        &text,
        &doc,
        &["package", "distribution"],
        &mut warnings,
    )?;

    let mut deps: Vec<Dependency> = Vec::new();
    let mut nodes: Vec<Node> = Vec::new();
    for NamedTable {
        name,
        line,
        table: pkg,
    } in packages
    {
        let version = get_str(pkg, "version");
        let (kind, location) = source(pkg);
        let is_project = matches!(kind, Some("editable" | "virtual"));
        let requirement = match (kind, version) {
            (Some("editable" | "virtual"), _) => Requirement::NotChecked {
                reason: format!(
                    "virtual/editable project package ({} {})",
                    kind.unwrap_or_default(),
                    clip(location)
                ),
            },
            (Some("registry") | None, Some(v)) => match Ecosystem::PyPI.parse_version(v) {
                Ok(version) => Requirement::Pinned {
                    version,
                    text: v.to_string(),
                },
                Err(e) => {
                    warnings.push(format!("{}:{line}: `{}`: {e}", path.display(), clip(name)));
                    Requirement::NotChecked {
                        reason: format!("version `{}` is not PEP 440", clip(v)),
                    }
                }
            },
            (Some("registry") | None, None) => Requirement::NotChecked {
                reason: "no version in the lockfile".to_string(),
            },
            (Some(k), _) => Requirement::NotChecked {
                reason: format!("{k} source ({}): not a registry release", clip(location)),
            },
        };
        let norm = normalize_pypi_name(name);
        let key = match version {
            Some(v) => format!("{norm}=={v}"),
            None => norm,
        };
        let mut edges = Vec::new();
        if let Some(v) = get(pkg, "dependencies") {
            collect_edges(v, None, &mut edges);
        }
        for section in ["optional-dependencies", "dev-dependencies"] {
            if let Some(groups) = get_table(pkg, section) {
                for (group, v) in groups.iter() {
                    collect_edges(v, Some(group.get_ref()), &mut edges);
                }
            }
        }
        let forks = super::pyproject::get_array(pkg, "resolution-markers")
            .map(|a| {
                a.iter()
                    .filter_map(|m| m.get_ref().as_str())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        nodes.push(Node {
            key,
            name: name.to_string(),
            is_project,
            edges,
            forks,
        });
        let mut dep = Dependency::new(Ecosystem::PyPI, name, requirement, path, line);
        if kind == Some("registry") {
            dep.index = super::private_pypi_index(location);
        }
        deps.push(dep);
    }

    // Resolve edges to node keys.
    let mut by_name: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for n in &nodes {
        by_name
            .entry(normalize_pypi_name(&n.name))
            .or_default()
            .push(&n.key);
    }
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // (from, to) -> label of the preferred edge (None, the main dependencies, wins).
    let mut labels: BTreeMap<(String, String), Option<String>> = BTreeMap::new();
    // Target -> the markers of the edges into it; `None` once an edge without one is seen.
    let mut incoming: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
    for n in &nodes {
        let children = graph.entry(n.key.clone()).or_default();
        for e in &n.edges {
            let candidates = by_name.get(&e.name).map(Vec::as_slice).unwrap_or_default();
            let exact = e.version.as_ref().map(|v| format!("{}=={v}", e.name));
            let targets: Vec<&str> = match exact.as_deref().filter(|k| candidates.contains(k)) {
                Some(k) => vec![k],
                None => candidates.to_vec(),
            };
            for t in targets {
                let markers = incoming
                    .entry(t.to_string())
                    .or_insert_with(|| Some(BTreeSet::new()));
                match (&e.marker, markers.as_mut()) {
                    (Some(m), Some(set)) => {
                        set.insert(m.clone());
                    }
                    _ => *markers = None,
                }
                children.push(t.to_string());
                labels
                    .entry((n.key.clone(), t.to_string()))
                    .and_modify(|l| {
                        if prefer(&e.label, l) {
                            l.clone_from(&e.label);
                        }
                    })
                    .or_insert_with(|| e.label.clone());
            }
        }
    }

    let projects: Vec<String> = nodes
        .iter()
        .filter(|n| n.is_project)
        .map(|n| n.key.clone())
        .collect();
    let roots = if projects.is_empty() {
        let depended: BTreeSet<&String> = graph.values().flatten().collect();
        graph
            .keys()
            .filter(|k| !depended.contains(k))
            .cloned()
            .collect()
    } else {
        projects.clone()
    };
    let paths = shortest_paths(&roots, &graph);
    let names: BTreeMap<&str, &str> = nodes
        .iter()
        .map(|n| (n.key.as_str(), n.name.as_str()))
        .collect();
    let name_of = |k: &String| {
        names
            .get(k.as_str())
            .map_or_else(|| k.clone(), |n| (*n).to_string())
    };
    for (dep, node) in deps.iter_mut().zip(&nodes) {
        let edges = match incoming.get(&node.key) {
            Some(Some(set)) if !node.is_project => set.iter().cloned().collect(),
            _ => Vec::new(),
        };
        dep.markers = and_markers(&any_of(&edges), &any_of(&node.forks));
        let Some(p) = paths.get(&node.key) else {
            continue;
        };
        if projects.is_empty() {
            dep.via = Some(p.iter().map(name_of).collect());
            continue;
        }
        let Some(root) = p.first() else {
            dep.via = Some(Vec::new()); // a project itself
            continue;
        };
        dep.via = Some(p.iter().skip(1).map(name_of).collect());
        let first_hop = p.get(1).unwrap_or(&node.key);
        dep.scope = labels
            .get(&(root.clone(), first_hop.clone()))
            .cloned()
            .flatten();
        if projects.len() > 1 {
            dep.member = Some(name_of(root));
        }
    }
    Ok(Manifest {
        path: path.to_path_buf(),
        kind: ManifestKind::UvLock,
        dependencies: deps,
        warnings,
    })
}

/// `(a) or (b)`: any of the markers, `None` for none (no condition).
fn any_of(markers: &[String]) -> Option<String> {
    match markers {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(
            many.iter()
                .map(|m| format!("({m})"))
                .collect::<Vec<_>>()
                .join(" or "),
        ),
    }
}

/// Both conditions, `None` when neither is.
fn and_markers(a: &Option<String>, b: &Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("({a}) and ({b})")),
        (Some(m), None) | (None, Some(m)) => Some(m.clone()),
        (None, None) => None,
    }
}

/// True when label `new` should replace `old`: the main dependencies (`None`) first, then
/// the alphabetically first extra or group.
fn prefer(new: &Option<String>, old: &Option<String>) -> bool {
    match (new, old) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(n), Some(o)) => n < o,
    }
}

/// The source kind and its location: `source = { registry = "…" }` or the early
/// `source = "registry+https://…"` spelling.
fn source<'a>(pkg: &'a DeTable<'_>) -> (Option<&'a str>, &'a str) {
    match get(pkg, "source").map(Spanned::get_ref) {
        Some(DeValue::Table(t)) => {
            for kind in SOURCE_KINDS {
                if let Some(v) = get(t, kind) {
                    return (Some(kind), v.get_ref().as_str().unwrap_or(""));
                }
            }
            let first = t
                .iter()
                .next()
                .map(|(k, _)| k.get_ref().as_ref())
                .unwrap_or("unknown");
            let known = SOURCE_KINDS.iter().find(|k| **k == first).copied();
            (Some(known.unwrap_or("unknown")), "")
        }
        Some(DeValue::String(s)) => {
            let (kind, rest) = s.split_once('+').unwrap_or((s, ""));
            let kind = SOURCE_KINDS
                .iter()
                .find(|k| **k == kind)
                .copied()
                .unwrap_or("unknown");
            (Some(kind), rest)
        }
        _ => (None, ""),
    }
}

/// Edges from an array of `{ name = "…", version = "…" }` tables.
fn collect_edges(v: &Spanned<DeValue<'_>>, label: Option<&str>, out: &mut Vec<Edge>) {
    let Some(items) = v.get_ref().as_array() else {
        return;
    };
    for item in items.iter() {
        let Some(t) = item.get_ref().as_table() else {
            continue;
        };
        if let Some(name) = get_str(t, "name") {
            out.push(Edge {
                name: normalize_pypi_name(name),
                version: get_str(t, "version").map(str::to_string),
                label: label.map(str::to_string),
                marker: get_str(t, "marker").map(str::to_string),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn parse_str(text: &str) -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("uv.lock");
        fs::write(&p, text).unwrap();
        parse(&p).unwrap()
    }

    fn find<'a>(m: &'a Manifest, name: &str) -> &'a Dependency {
        m.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} not in {:?}", m.dependencies))
    }

    fn via<'a>(m: &'a Manifest, name: &str) -> Option<Vec<&'a str>> {
        find(m, name)
            .via
            .as_ref()
            .map(|v| v.iter().map(String::as_str).collect())
    }

    fn reason(d: &Dependency) -> &str {
        match &d.requirement {
            Requirement::NotChecked { reason } => reason,
            other => panic!("{}: {other:?}", d.name),
        }
    }

    const LOCK: &str = r#"version = 1
requires-python = ">=3.12"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "httpx" },
]

[package.optional-dependencies]
cli = [{ name = "rich" }]

[package.dev-dependencies]
dev = [{ name = "pytest" }, { name = "httpx" }]

[[package]]
name = "httpx"
version = "0.27.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "anyio" },
    { name = "idna", version = "3.6", source = { registry = "https://pypi.org/simple" } },
]

[[package]]
name = "anyio"
version = "4.2.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "idna", version = "3.7", marker = "python_version >= '3.13'" }]

[[package]]
name = "idna"
version = "3.6"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "idna"
version = "3.7"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "rich"
version = "13.7.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.0.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "pluggy" }]

[[package]]
name = "pluggy"
source = { git = "https://github.com/pytest-dev/pluggy?rev=main#abc" }

[[package]]
name = "orphan"
version = "1.0"
source = { path = "wheels/orphan-1.0-py3-none-any.whl" }
"#;

    #[test]
    fn virtual_root_via_paths_and_scopes() {
        let m = parse_str(LOCK);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 9);
        let app = find(&m, "app");
        assert_eq!(app.line, 5);
        assert!(
            reason(app).starts_with("virtual/editable project package"),
            "{}",
            reason(app)
        );
        assert_eq!(app.via, Some(vec![]));
        let h = find(&m, "httpx");
        assert!(matches!(&h.requirement, Requirement::Pinned { text, .. } if text == "0.27.0"));
        assert_eq!(
            (h.line, h.scope.as_deref(), h.member.as_deref()),
            (19, None, None)
        );
        assert_eq!(via(&m, "httpx"), Some(vec![]));
        assert_eq!(via(&m, "anyio"), Some(vec!["httpx"]));
        // Two versions of idna: each edge goes to its own version.
        let idna: Vec<&Dependency> = m.dependencies.iter().filter(|d| d.name == "idna").collect();
        assert_eq!(idna[0].via, Some(vec!["httpx".to_string()]));
        assert_eq!(
            idna[1].via,
            Some(vec!["httpx".to_string(), "anyio".to_string()])
        );
        assert_eq!(find(&m, "rich").scope.as_deref(), Some("cli"));
        assert_eq!(find(&m, "pytest").scope.as_deref(), Some("dev"));
        assert_eq!(via(&m, "pluggy"), Some(vec!["pytest"]));
        assert_eq!(find(&m, "pluggy").scope.as_deref(), Some("dev"));
        assert!(reason(find(&m, "pluggy")).starts_with("git source"));
        let o = find(&m, "orphan");
        assert!(reason(o).starts_with("path source (wheels/orphan"));
        assert_eq!(o.via, None, "not reachable from the project");
    }

    #[test]
    fn workspace_members_are_named() {
        let m = parse_str(
            r#"version = 1
[[package]]
name = "member-a"
version = "0.1.0"
source = { editable = "packages/a" }
dependencies = [{ name = "six" }]

[[package]]
name = "member-b"
source = { editable = "packages/b" }
dependencies = [{ name = "member-a" }]

[[package]]
name = "six"
version = "1.16.0"
source = { registry = "https://pypi.org/simple" }
"#,
        );
        let s = find(&m, "six");
        assert_eq!(s.via, Some(vec![]));
        assert_eq!(s.member.as_deref(), Some("member-a"));
        assert!(reason(find(&m, "member-b")).contains("editable packages/b"));
        assert_eq!(find(&m, "member-a").via, Some(vec![]));
    }

    #[test]
    fn markers_come_from_the_edges_in_and_the_forks() {
        let m = parse_str(
            r#"version = 1
[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "colorama", marker = "sys_platform == 'win32'" },
    { name = "tomli", marker = "python_version < '3.11'" },
    { name = "idna" },
]

[[package]]
name = "click"
version = "8.0"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version >= '3.12'", "python_full_version < '3.9'"]
dependencies = [
    { name = "colorama", marker = "os_name == 'nt'" },
    { name = "idna", marker = "sys_platform == 'linux'" },
]

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version >= '3.12'"]

[[package]]
name = "tomli"
version = "2.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "idna"
version = "3.7"
source = { registry = "https://pypi.org/simple" }
"#,
        );
        let markers = |n: &str| find(&m, n).markers.clone();
        assert_eq!(markers("app"), None);
        assert_eq!(markers("tomli").as_deref(), Some("python_version < '3.11'"));
        // Any edge without a marker makes the package unconditional.
        assert_eq!(markers("idna"), None);
        assert_eq!(
            markers("colorama").as_deref(),
            Some(
                "((os_name == 'nt') or (sys_platform == 'win32')) and \
                 (python_full_version >= '3.12')"
            )
        );
        assert_eq!(
            markers("click").as_deref(),
            Some("(python_full_version >= '3.12') or (python_full_version < '3.9')")
        );
    }

    #[test]
    fn without_a_project_roots_are_unreferenced_packages_and_old_source_strings() {
        let m = parse_str(
            r#"version = 1
[[distribution]]
name = "a"
version = "1.0"
source = "registry+https://pypi.org/simple"
dependencies = [{ name = "b" }]

[[distribution]]
name = "b"
version = "2.0"
source = "git+https://example.com/b.git"

[[distribution]]
name = "c"
version = "1e9999999999999999999999"
source = "registry+https://pypi.org/simple"
"#,
        );
        assert_eq!(via(&m, "a"), Some(vec![]));
        assert_eq!(via(&m, "b"), Some(vec!["a"]));
        assert!(matches!(
            find(&m, "a").requirement,
            Requirement::Pinned { .. }
        ));
        assert!(reason(find(&m, "b")).starts_with("git source"));
        assert!(reason(find(&m, "c")).contains("not PEP 440"));
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
    }

    #[test]
    fn corpus_uv_lock() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/manifests/uv/uv.lock");
        let m = parse(&p).unwrap();
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 89);
        let nc: Vec<&str> = m
            .dependencies
            .iter()
            .filter(|d| matches!(d.requirement, Requirement::NotChecked { .. }))
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(nc, ["uv"]);
        let uv = find(&m, "uv");
        assert_eq!((uv.line, uv.via.clone()), (1721, Some(vec![])));
        let a = find(&m, "anyio");
        assert_eq!(a.line, 34);
        assert!(matches!(&a.requirement, Requirement::Pinned { text, .. } if text == "4.13.0"));
        let f: Vec<&Dependency> = m
            .dependencies
            .iter()
            .filter(|d| d.name == "fastjsonschema")
            .collect();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].line, 414);
        assert_eq!(f[0].via, Some(vec!["validate-pyproject".to_string()]));
        assert_eq!(f[0].scope.as_deref(), Some("check"));
        assert_eq!(via(&m, "ruff"), Some(vec![]));
        assert_eq!(
            via(&m, "smmap"),
            Some(vec![
                "mkdocs-git-revision-date-localized-plugin",
                "gitpython",
                "gitdb"
            ])
        );
        assert_eq!(find(&m, "smmap").scope.as_deref(), Some("docs"));
        assert_eq!(via(&m, "h11"), Some(vec!["rooster", "httpx", "httpcore"]));
        assert_eq!(find(&m, "h11").scope.as_deref(), Some("release"));
        assert!(
            m.dependencies
                .iter()
                .all(|d| d.via.is_some() && d.member.is_none())
        );
        assert_eq!(find(&m, "black").scope.as_deref(), Some("docs"));
    }
}
