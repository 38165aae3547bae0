//! `Cargo.lock` (lockfile formats v1 to v4). A lockfile in the layout Cargo writes is read
//! line by line (the `canonical` module says why); any other is read from the spanned TOML
//! document (see `read_packages` for why not through the `cargo-lock` crate). Both give the
//! same packages, lines and errors.
//!
//! Every locked package becomes one [`Dependency`]:
//!
//! * from the default crates.io registry (git index `registry+https://github.com/rust-lang/
//!   crates.io-index` or sparse `sparse+https://index.crates.io/`): [`Requirement::Pinned`];
//! * without a source (workspace members and path dependencies): `NotChecked`, reason
//!   `"path or workspace package (not from crates.io)"`;
//! * from git: `NotChecked`, `"git dependency (not from crates.io)"`;
//! * from any other registry: `NotChecked`, `"package from another registry"`.
//!
//! `line` is the line of the package's `name = "..."` key in its `[[package]]` block (counted
//! by the line reader, or found through the TOML parser's spans, so duplicate names with
//! different versions each get their own line). On a malformed lockfile, structural errors
//! (a missing or non-string field) are reported before version and dependency-entry errors;
//! each names its line.
//!
//! # Dependency paths (`via`)
//!
//! The roots of the graph are the packages without a source (workspace members, path
//! crates). Edges come from each package's `dependencies` list, resolved to the exact locked
//! package (name, version and, when given, source). `via` is one shortest path from a root
//! to the package's *parent*, as package names:
//!
//! * a root: `Some([])`;
//! * a crates.io crate that member `uv` depends on directly: `Some(["uv"])`;
//! * `h2` reached through `uv -> reqwest -> h2`: `Some(["uv", "reqwest"])`.
//!
//! An element is the bare package name when the lockfile holds a single package of that name,
//! and `name@version` (Cargo's package-id spec syntax, e.g. `"windows-sys@0.61.2"`) when it
//! holds several versions of it. Packages unreachable from every root get `None`, and so does
//! every package of a lockfile without any root.
//!
//! # Scope and member
//!
//! Only with [`ParseOptions::trusted_workspace`]: `cargo metadata` is run in the lockfile's
//! directory ([`super::cargo_workspace`], which explains why this is opt-in), and each package
//! gets `scope` (`"normal"`, `"build"` or `"dev"`) and `member` (the workspace member it enters
//! through). If cargo fails, a warning is recorded and the lockfile scan goes on.

use super::cargo_workspace::{self, Workspace};
use super::{
    Dependency, Manifest, ManifestError, ManifestKind, ParseOptions, Requirement, line_of_offset,
    read_text,
};
use crate::ecosystem::Ecosystem;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

mod canonical;

pub(crate) const REASON_PATH: &str = "path or workspace package (not from crates.io)";
const REASON_GIT: &str = "git dependency (not from crates.io)";
const REASON_OTHER_REGISTRY: &str = "package from another registry";

/// The format in [`super::registry::ALL`].
pub struct CargoLock;

impl super::registry::Format for CargoLock {
    fn kind(&self) -> ManifestKind {
        ManifestKind::CargoLock
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::CratesIo
    }

    fn file_name(&self) -> &'static str {
        "Cargo.lock"
    }

    fn supersedes(&self) -> &'static [ManifestKind] {
        &[ManifestKind::CargoToml]
    }

    fn looks_like(&self, content: &super::registry::Content<'_>) -> bool {
        use super::registry::{Content, toml_array, toml_key, toml_table};
        let Content::Toml(doc) = content else {
            return false;
        };
        // `[[package]]` as poetry.lock and uv.lock have it too, without their keys; or v1's
        // legacy `[root]`.
        let poetry = super::pyproject::get_table(doc, "metadata")
            .is_some_and(|m| toml_key(m, "content-hash"));
        (toml_array(doc, "package") && !poetry && !toml_key(doc, "requires-python"))
            || toml_table(doc, "root")
    }

    fn parse(&self, path: &Path, opts: &ParseOptions) -> Result<Manifest, ManifestError> {
        parse(path, opts)
    }
}

/// Parse a `Cargo.lock`.
pub fn parse(path: &Path, opts: &ParseOptions) -> Result<Manifest, ManifestError> {
    let text = read_text(path)?;
    let packages = match canonical::read(&text) {
        Some(raw) => build_packages(path, raw)?,
        None => packages_from_toml(path, &text)?,
    };
    let mut warnings = Vec::new();
    let edges = resolve_edges(path, &packages, &mut warnings);

    let workspace = if opts.trusted_workspace {
        let dir = path.parent().unwrap_or(Path::new(""));
        match cargo_workspace::resolve(dir) {
            Ok(ws) => Some(ws),
            Err(e) => {
                warnings.push(format!(
                    "{}: {e} (dependency kinds and workspace members not filled)",
                    path.display()
                ));
                None
            }
        }
    } else {
        None
    };

    let vias = dependency_paths(&packages, &edges);
    let mut dependencies = Vec::with_capacity(packages.len());
    for (i, pkg) in packages.iter().enumerate() {
        let requirement = requirement(pkg, path, &mut warnings);
        let mut dep = Dependency::new(Ecosystem::CratesIo, &pkg.name, requirement, path, pkg.line);
        dep.via = vias.get(i).cloned().flatten();
        if let Some(attr) = workspace
            .as_ref()
            .and_then(|ws: &Workspace| ws.get(&pkg.name, &pkg.version.to_string()))
        {
            dep.scope = Some(attr.kind.as_str().to_string());
            dep.member = Some(attr.member.clone());
        }
        dependencies.push(dep);
    }

    Ok(Manifest {
        path: path.to_path_buf(),
        kind: ManifestKind::CargoLock,
        dependencies,
        warnings,
    })
}

/// Read the packages through the TOML parser: the general path, for any lockfile that
/// [`canonical::read`] declines (hand-edited, v1 with `[metadata]`, or malformed).
fn packages_from_toml(path: &Path, text: &str) -> Result<Vec<Pkg>, ManifestError> {
    let doc = DeTable::parse(text).map_err(|e| toml_error(path, text, &e))?;
    let table = doc.get_ref();
    if !table.contains_key("package") && !table.contains_key("root") {
        return Err(ManifestError::parse(
            path,
            None,
            "not a Cargo.lock: no [[package]] entries",
        ));
    }
    check_checksums(path, text, table)?;
    let index = super::LineIndex::new(text);
    // The legacy v1 `[root]` package first, then `[[package]]` in file order.
    build_packages(path, read_packages(path, &index, table)?)
}

/// A `[[package]]` entry as written, before its version and dependencies are read: what both
/// the TOML reader and [`canonical::read`] produce.
#[derive(Debug, PartialEq)]
struct RawPkg<'a> {
    name: &'a str,
    /// Line of the `name` key.
    name_line: usize,
    version: &'a str,
    /// Line of the `version` value.
    version_line: usize,
    source: Option<&'a str>,
    /// Each entry of `dependencies`, with its line.
    dependencies: Vec<(&'a str, usize)>,
}

/// A malformed-lockfile error at a line.
fn invalid_at(path: &Path, line: usize, message: &str) -> ManifestError {
    ManifestError::parse(
        path,
        Some(line),
        format!("invalid Cargo.lock: {}", crate::text::shorten(message, 300)),
    )
}

/// Parse each package's version and dependency entries.
fn build_packages(path: &Path, raw: Vec<RawPkg<'_>>) -> Result<Vec<Pkg>, ManifestError> {
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        let version = semver::Version::parse(r.version).map_err(|e| {
            invalid_at(
                path,
                r.version_line,
                &format!("{}: invalid version {:?}: {e}", r.name, r.version),
            )
        })?;
        let mut dependencies = Vec::with_capacity(r.dependencies.len());
        for (spec, line) in r.dependencies {
            dependencies.push(dep_spec(spec).ok_or_else(|| {
                invalid_at(
                    path,
                    line,
                    &format!("{}: malformed dependency {spec:?}", r.name),
                )
            })?);
        }
        out.push(Pkg {
            name: r.name.to_string(),
            version,
            source: r.source.map(str::to_string),
            dependencies,
            line: r.name_line,
        });
    }
    Ok(out)
}

/// One locked package.
#[derive(Debug, PartialEq)]
struct Pkg {
    name: String,
    version: semver::Version,
    source: Option<String>,
    dependencies: Vec<DepSpec>,
    /// Line of its `name` key.
    line: usize,
}

impl Pkg {
    /// No source, or a `path+` one: a workspace member or path crate (a root of the graph).
    fn is_path(&self) -> bool {
        self.source
            .as_deref()
            .is_none_or(|s| s.starts_with("path+"))
    }
}

/// An entry of a package's `dependencies`: `name`, `name version` or `name version (source)`.
#[derive(Debug, PartialEq)]
struct DepSpec {
    name: String,
    version: Option<String>,
    source: Option<String>,
}

impl std::fmt::Display for DepSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if let Some(v) = &self.version {
            write!(f, " {v}")?;
        }
        Ok(())
    }
}

/// The crates.io index, in its git and sparse spellings.
fn is_crates_io(source: &str) -> bool {
    matches!(
        source,
        "registry+https://github.com/rust-lang/crates.io-index" | "sparse+https://index.crates.io/"
    )
}

/// Read the packages straight from the parsed document.
///
/// Written here rather than through `cargo-lock`'s `Lockfile`: that crate resolves every
/// versionless dependency by a linear search of all packages (quadratic on a large lockfile:
/// most of a scan's time on uv's Cargo.lock went there), it panics on some hostile values, and
/// depwatch needs only five fields of each package.
fn read_packages<'d>(
    path: &Path,
    index: &super::LineIndex,
    table: &'d DeTable<'_>,
) -> Result<Vec<RawPkg<'d>>, ManifestError> {
    let invalid = |at: usize, message: String| invalid_at(path, index.line(at), &message);
    if let Some(v) = table.get("version") {
        let ok = match v.get_ref() {
            DeValue::Integer(i) => matches!(i.as_str(), "1" | "2" | "3" | "4"),
            _ => false,
        };
        if !ok {
            return Err(invalid(
                v.span().start,
                "unsupported lockfile version (depwatch reads versions 1 to 4)".into(),
            ));
        }
    }
    let mut tables: Vec<&Spanned<DeValue<'_>>> = Vec::new();
    if let Some(root) = table.get("root") {
        tables.push(root);
    }
    if let Some(arr) = table.get("package") {
        match arr.get_ref() {
            DeValue::Array(a) => tables.extend(a.iter()),
            _ => {
                return Err(invalid(
                    arr.span().start,
                    "`package` must be an array of tables ([[package]])".into(),
                ));
            }
        }
    }
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let Some(pkg) = t.get_ref().as_table() else {
            return Err(invalid(t.span().start, "a package must be a table".into()));
        };
        let string = |key: &str| -> Result<Option<(&'d str, usize)>, ManifestError> {
            match pkg.get_key_value(key) {
                None => Ok(None),
                Some((k, v)) => match v.get_ref().as_str() {
                    Some(s) => Ok(Some((s, k.span().start))),
                    None => Err(invalid(v.span().start, format!("`{key}` must be a string"))),
                },
            }
        };
        let (name, name_at) = string("name")?
            .ok_or_else(|| invalid(t.span().start, "missing field `name`".into()))?;
        let (version, _) = string("version")?
            .ok_or_else(|| invalid(t.span().start, format!("{name}: missing field `version`")))?;
        let version_at = pkg
            .get("version")
            .map(|v| v.span().start)
            .unwrap_or(name_at);
        let source = string("source")?.map(|(s, _)| s);
        let mut dependencies = Vec::new();
        if let Some(deps) = pkg.get("dependencies") {
            let Some(list) = deps.get_ref().as_array() else {
                return Err(invalid(
                    deps.span().start,
                    format!("{name}: `dependencies` must be an array"),
                ));
            };
            for d in list.iter() {
                let Some(spec) = d.get_ref().as_str() else {
                    return Err(invalid(
                        d.span().start,
                        format!("{name}: a dependency must be a string"),
                    ));
                };
                dependencies.push((spec, index.line(d.span().start)));
            }
        }
        out.push(RawPkg {
            name,
            name_line: index.line(name_at),
            version,
            version_line: index.line(version_at),
            source,
            dependencies,
        });
    }
    Ok(out)
}

/// `name`, `name version` or `name version (source)`.
fn dep_spec(s: &str) -> Option<DepSpec> {
    let mut parts = s.splitn(3, ' ');
    let name = parts.next().filter(|n| !n.is_empty())?.to_string();
    let version = parts.next().map(str::to_string);
    let source = match parts.next() {
        None => None,
        Some(rest) => Some(rest.strip_prefix('(')?.strip_suffix(')')?.to_string()),
    };
    if version.as_deref().is_some_and(str::is_empty) {
        return None;
    }
    Some(DepSpec {
        name,
        version,
        source,
    })
}

/// Each package's dependencies as indices into `packages`, resolved as Cargo does: by name,
/// then version when given, then source when given. An entry that matches no locked package
/// (with or without a version) is skipped with a warning, as Cargo skips it when it loads
/// the lockfile; every package of the file is still checked and the rest of the graph stands.
fn resolve_edges(path: &Path, packages: &[Pkg], warnings: &mut Vec<String>) -> Vec<Vec<usize>> {
    let mut by_name: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (i, p) in packages.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_default().push(i);
    }
    let mut edges = Vec::with_capacity(packages.len());
    for p in packages {
        let mut e = Vec::with_capacity(p.dependencies.len());
        for d in &p.dependencies {
            let named = by_name
                .get(d.name.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let version_ok = |j: &usize| {
                d.version.as_deref().is_none_or(|v| {
                    packages
                        .get(*j)
                        .is_some_and(|q| semver::Version::parse(v).is_ok_and(|v| v == q.version))
                })
            };
            let candidates: Vec<usize> = named.iter().copied().filter(version_ok).collect();
            let same_source = |j: &&usize| {
                packages
                    .get(**j)
                    .is_some_and(|q| d.source.is_none() || q.source == d.source)
            };
            match candidates.iter().find(same_source).or(candidates.first()) {
                Some(&j) => e.push(j),
                None => warnings.push(format!(
                    "{}:{}: {} {} depends on {d}, which is not in the lockfile",
                    path.display(),
                    p.line,
                    p.name,
                    p.version,
                )),
            }
        }
        edges.push(e);
    }
    edges
}

/// What the lockfile says about one package's version.
fn requirement(pkg: &Pkg, path: &Path, warnings: &mut Vec<String>) -> Requirement {
    let not_checked = |reason: &str| Requirement::NotChecked {
        reason: reason.to_string(),
    };
    match pkg.source.as_deref() {
        _ if pkg.is_path() => not_checked(REASON_PATH),
        Some(s) if is_crates_io(s) => {
            let text = pkg.version.to_string();
            match Ecosystem::CratesIo.parse_version(&text) {
                Ok(version) => Requirement::Pinned { version, text },
                Err(e) => {
                    warnings.push(format!("{}:{}: {e}", path.display(), pkg.line));
                    not_checked(&format!("unreadable version: {e}"))
                }
            }
        }
        Some(s) if s.starts_with("git+") => not_checked(REASON_GIT),
        _ => not_checked(REASON_OTHER_REGISTRY),
    }
}

/// `via` for each package of `packages` (same indices), per the module documentation.
fn dependency_paths(packages: &[Pkg], edges: &[Vec<usize>]) -> Vec<Option<Vec<String>>> {
    if !packages.iter().any(Pkg::is_path) {
        return vec![None; packages.len()];
    }
    let mut name_count: BTreeMap<&str, usize> = BTreeMap::new();
    for p in packages {
        *name_count.entry(p.name.as_str()).or_default() += 1;
    }
    let display = |i: usize| {
        packages
            .get(i)
            .map(|p| {
                if name_count.get(p.name.as_str()).copied().unwrap_or(0) > 1 {
                    format!("{}@{}", p.name, p.version)
                } else {
                    p.name.clone()
                }
            })
            .unwrap_or_default()
    };
    // Nodes are package indices; the graph is walked breadth-first over them (no string keys:
    // this runs for every package of a large lockfile). Ties are broken by (name, version,
    // index), so the path shown is deterministic.
    // Rank every package once by (name, version, index); sorting by rank then compares
    // integers, not strings, for each of the thousands of edges.
    let mut by_order: Vec<usize> = (0..packages.len()).collect();
    by_order.sort_by_key(|&i| packages.get(i).map(|p| (p.name.as_str(), &p.version, i)));
    let mut rank = vec![0usize; packages.len()];
    for (r, &i) in by_order.iter().enumerate() {
        if let Some(slot) = rank.get_mut(i) {
            *slot = r;
        }
    }
    let order = |i: &usize| rank.get(*i).copied().unwrap_or(usize::MAX);
    let mut edges: Vec<Vec<usize>> = edges.to_vec();
    for e in &mut edges {
        e.sort_by_key(order);
    }
    let mut roots: Vec<usize> = (0..packages.len())
        .filter(|&i| packages.get(i).is_some_and(Pkg::is_path))
        .collect();
    roots.sort_by_key(order);
    let mut parent: Vec<Option<usize>> = vec![None; packages.len()];
    let mut seen = vec![false; packages.len()];
    let mut queue = std::collections::VecDeque::new();
    for r in roots {
        if let Some(s) = seen.get_mut(r)
            && !*s
        {
            *s = true;
            queue.push_back(r);
        }
    }
    while let Some(n) = queue.pop_front() {
        for &c in edges.get(n).map(Vec::as_slice).unwrap_or_default() {
            if let Some(s) = seen.get_mut(c)
                && !*s
            {
                *s = true;
                if let Some(p) = parent.get_mut(c) {
                    *p = Some(n);
                }
                queue.push_back(c);
            }
        }
    }
    (0..packages.len())
        .map(|i| {
            if !seen.get(i).copied().unwrap_or(false) {
                return None;
            }
            let mut path = Vec::new();
            let mut cur = parent.get(i).copied().flatten();
            while let Some(p) = cur {
                path.push(display(p));
                cur = parent.get(p).copied().flatten();
            }
            path.reverse();
            Some(path)
        })
        .collect()
}

/// A TOML or lockfile-structure error, at its line when the error points inside the file.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ManifestError {
    let line = e
        .span()
        // A span covering the whole document says nothing about where the problem is.
        .filter(|s| !(s.start == 0 && s.end >= text.trim_end().len()))
        .map(|s| line_of_offset(text, s.start));
    ManifestError::parse(
        path,
        line,
        format!(
            "invalid Cargo.lock: {}",
            crate::text::shorten(e.message(), 300)
        ),
    )
}

/// Checksums must be 64 hex digits (SHA-256), in packages and in v1 `[metadata]`; anything
/// else is a malformed lockfile, reported with its line.
fn check_checksums(path: &Path, text: &str, table: &DeTable<'_>) -> Result<(), ManifestError> {
    // A SHA-256 in hex, as Cargo writes it.
    let bad = |v: &Spanned<DeValue<'_>>| match v.get_ref() {
        DeValue::String(s) => s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()),
        _ => true,
    };
    let err = |v: &Spanned<DeValue<'_>>| {
        ManifestError::parse(
            path,
            Some(line_of_offset(text, v.span().start)),
            "invalid Cargo.lock: checksum is not hexadecimal",
        )
    };
    let check_package = |p: &Spanned<DeValue<'_>>| -> Result<(), ManifestError> {
        if let Some(c) = p.get_ref().as_table().and_then(|t| t.get("checksum"))
            && bad(c)
        {
            return Err(err(c));
        }
        Ok(())
    };
    let arrays = [
        table.get("package"),
        table
            .get("patch")
            .and_then(|p| p.get_ref().as_table())
            .and_then(|t| t.get("unused")),
    ];
    for arr in arrays.into_iter().flatten() {
        for p in arr
            .get_ref()
            .as_array()
            .map(|a| a.as_ref())
            .unwrap_or_default()
        {
            check_package(p)?;
        }
    }
    if let Some(root) = table.get("root") {
        check_package(root)?;
    }
    if let Some(meta) = table.get("metadata").and_then(|m| m.get_ref().as_table()) {
        for (k, v) in meta.iter() {
            if k.get_ref().starts_with("checksum ") && bad(v) {
                return Err(err(v));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn write(dir: &Path, text: impl AsRef<[u8]>) -> std::path::PathBuf {
        let path = dir.join("Cargo.lock");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn parse_text(text: &str) -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), text);
        parse(&path, &ParseOptions::default()).unwrap()
    }

    fn parse_err(text: impl AsRef<[u8]>) -> (Option<usize>, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), text);
        match parse(&path, &ParseOptions::default()) {
            Err(ManifestError::Parse {
                path: p,
                line,
                message,
            }) => {
                assert_eq!(p, path);
                (line, message)
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    fn find<'m>(m: &'m Manifest, name: &str, version: Option<&str>) -> &'m Dependency {
        m.dependencies
            .iter()
            .find(|d| {
                d.name == name
                    && version.is_none_or(|v| match &d.requirement {
                        Requirement::Pinned { text, .. } => text == v,
                        _ => false,
                    })
            })
            .unwrap_or_else(|| panic!("{name} {version:?} not found"))
    }

    fn pinned(d: &Dependency) -> String {
        match &d.requirement {
            Requirement::Pinned { version, text } => {
                assert_eq!(
                    *version,
                    Ecosystem::CratesIo.parse_version(text).unwrap(),
                    "parsed version matches text"
                );
                text.clone()
            }
            other => panic!("{} is not pinned: {other:?}", d.name),
        }
    }

    fn reason(d: &Dependency) -> String {
        match &d.requirement {
            Requirement::NotChecked { reason } => reason.clone(),
            other => panic!("{} is checked: {other:?}", d.name),
        }
    }

    fn via(d: &Dependency) -> Option<Vec<&str>> {
        d.via
            .as_ref()
            .map(|v| v.iter().map(String::as_str).collect())
    }

    const V1: &str = r#"[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "helper 0.2.0",
 "serde 1.0.100 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "helper"
version = "0.2.0"
dependencies = [
 "itoa 0.4.8 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "itoa"
version = "0.4.8"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "serde"
version = "1.0.100"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum itoa 0.4.8 (registry+https://github.com/rust-lang/crates.io-index)" = "b71991ff56294aa922b450139ee08b3bfc70982c6b2c7562771375cf73542dd4"
"checksum serde 1.0.100 (registry+https://github.com/rust-lang/crates.io-index)" = "f4473e8506b213730ff2061073b48fa51dcc66349219e2e7c5608f0296a1d95a"
"#;

    #[test]
    fn v1_with_metadata_checksums() {
        let m = parse_text(V1);
        assert_eq!(m.kind, ManifestKind::CargoLock);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 4);
        let serde = find(&m, "serde", None);
        assert_eq!(pinned(serde), "1.0.100");
        assert_eq!(serde.line, 22);
        assert_eq!(serde.ecosystem, Ecosystem::CratesIo);
        assert_eq!(via(serde), Some(vec!["app"]));
        let itoa = find(&m, "itoa", None);
        assert_eq!(pinned(itoa), "0.4.8");
        assert_eq!(itoa.line, 17);
        // helper is a path crate: a root itself, so itoa is reached from it directly.
        assert_eq!(via(itoa), Some(vec!["helper"]));
        let app = find(&m, "app", None);
        assert_eq!(reason(app), REASON_PATH);
        assert_eq!(app.line, 2);
        assert_eq!(via(app), Some(vec![]));
        assert_eq!(app.scope, None);
        assert_eq!(app.member, None);
    }

    #[test]
    fn v1_legacy_root_table() {
        let text = r#"[root]
name = "legacy"
version = "0.1.0"
dependencies = [
 "libc 0.2.40 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "libc"
version = "0.2.40"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.40 (registry+https://github.com/rust-lang/crates.io-index)" = "6fd41f331ac7c5b8ac259b8bf82c75c0fb2e469bbf37d2becbba9a6a2221965b"
"#;
        let m = parse_text(text);
        assert_eq!(m.dependencies.len(), 2);
        let root = find(&m, "legacy", None);
        assert_eq!(root.line, 2);
        assert_eq!(reason(root), REASON_PATH);
        assert_eq!(via(root), Some(vec![]));
        let libc = find(&m, "libc", None);
        assert_eq!(pinned(libc), "0.2.40");
        assert_eq!(libc.line, 9);
        assert_eq!(via(libc), Some(vec!["legacy"]));
    }

    const V3: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "bitflags 1.3.2",
 "gitdep",
 "mio",
 "private",
]

[[package]]
name = "bitflags"
version = "1.3.2"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "bef38d45163c2f1dde094a7dfd33ccf595c92905c8f8f4fdc18d06fb1037718a"

[[package]]
name = "bitflags"
version = "2.4.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "b4682ae6287fcf752ecaabbfcc7b6f9b72aa33933dc23a554d853aea8eea8635"

[[package]]
name = "gitdep"
version = "0.3.0"
source = "git+https://github.com/example/gitdep?branch=main#0123456789abcdef0123456789abcdef01234567"
dependencies = [
 "bitflags 2.4.0",
]

[[package]]
name = "libc"
version = "0.2.147"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "localcrate"
version = "0.1.0"
dependencies = [
 "bitflags 2.4.0",
]

[[package]]
name = "mio"
version = "0.8.8"
source = "sparse+https://index.crates.io/"
dependencies = [
 "libc",
]

[[package]]
name = "private"
version = "1.0.0"
source = "registry+https://my-registry.example.com/index"
"#;

    #[test]
    fn v3_sources_duplicates_and_paths() {
        let m = parse_text(V3);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 8);
        // Two versions of one name: each at its own line, named name@version in paths.
        let b1 = find(&m, "bitflags", Some("1.3.2"));
        let b2 = find(&m, "bitflags", Some("2.4.0"));
        assert_eq!((b1.line, b2.line), (16, 22));
        assert_eq!(via(b1), Some(vec!["app"]));
        // Both `app -> gitdep` and `localcrate` reach 2.4.0; localcrate is a root.
        assert_eq!(via(b2), Some(vec!["localcrate"]));
        let git = find(&m, "gitdep", None);
        assert_eq!(reason(git), REASON_GIT);
        assert_eq!(git.line, 28);
        let private = find(&m, "private", None);
        assert_eq!(reason(private), REASON_OTHER_REGISTRY);
        // The sparse crates.io index is crates.io.
        let mio = find(&m, "mio", None);
        assert_eq!(pinned(mio), "0.8.8");
        assert_eq!(mio.line, 48);
        let libc = find(&m, "libc", None);
        assert_eq!(via(libc), Some(vec!["app", "mio"]));
        assert_eq!(reason(find(&m, "localcrate", None)), REASON_PATH);
        assert_eq!(via(find(&m, "localcrate", None)), Some(vec![]));
    }

    #[test]
    fn duplicate_names_appear_with_version_in_paths() {
        let text = r#"version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "syn 1.0.109",
 "syn 2.0.48",
]

[[package]]
name = "quote"
version = "1.0.35"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "1.0.109"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "2.0.48"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "quote",
]
"#;
        let m = parse_text(text);
        assert_eq!(
            via(find(&m, "quote", None)),
            Some(vec!["app", "syn@2.0.48"])
        );
        assert_eq!(find(&m, "syn", Some("1.0.109")).line, 17);
        assert_eq!(find(&m, "syn", Some("2.0.48")).line, 22);
    }

    const V4: &str = r#"version = 4

[[package]]
name = "h2"
version = "0.4.2"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "31d030e59af851932b72ceebadf4a2b5986dba4c3b99dd2493f8273a0f151943"
dependencies = [
 "tokio",
]

[[package]]
name = "member-a"
version = "0.1.0"
dependencies = [
 "reqwest",
 "tokio",
]

[[package]]
name = "member-b"
version = "0.2.0"
dependencies = [
 "member-a",
]

[[package]]
name = "reqwest"
version = "0.11.24"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "h2",
 "tokio",
]

[[package]]
name = "tokio"
version = "1.36.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "vendored"
version = "0.1.0"
source = "git+https://github.com/example/vendored?branch=feat%2Fx#0123456789abcdef0123456789abcdef01234567"
"#;

    #[test]
    fn v4_via_paths() {
        let m = parse_text(V4);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        let h2 = find(&m, "h2", None);
        assert_eq!(pinned(h2), "0.4.2");
        assert_eq!(h2.line, 4);
        assert_eq!(via(h2), Some(vec!["member-a", "reqwest"]));
        assert_eq!(via(find(&m, "tokio", None)), Some(vec!["member-a"]));
        assert_eq!(via(find(&m, "reqwest", None)), Some(vec!["member-a"]));
        // A member depended on by another member is still a root.
        assert_eq!(via(find(&m, "member-a", None)), Some(vec![]));
        assert_eq!(via(find(&m, "member-b", None)), Some(vec![]));
        // Nothing depends on the git package: unreachable, so no path.
        let vendored = find(&m, "vendored", None);
        assert_eq!(reason(vendored), REASON_GIT);
        assert_eq!(via(vendored), None);
        let checked = m
            .dependencies
            .iter()
            .filter(|d| matches!(d.requirement, Requirement::Pinned { .. }))
            .count();
        assert_eq!(checked, 3);
    }

    #[test]
    fn no_root_means_no_paths() {
        let text = format!(
            "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\ndependencies = [\n \"b\",\n]\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"{CRATES_IO}\"\n"
        );
        let m = parse_text(&text);
        assert_eq!(m.dependencies.len(), 2);
        assert!(m.dependencies.iter().all(|d| d.via.is_none()));
        assert_eq!(find(&m, "b", None).line, 12);
    }

    #[test]
    fn truncated_lockfile_is_an_error_with_line() {
        // Cut inside the `name` string of the mio block (line 48).
        let cut = V3.find("name = \"mio\"").unwrap() + 9;
        let (line, message) = parse_err(&V3[..cut]);
        assert_eq!(line, Some(48), "{message}");
        // Cut after a complete `name` line: the package has no version.
        let cut = V3.find("name = \"mio\"").unwrap() + 13;
        let (line, message) = parse_err(&V3[..cut]);
        assert!(message.contains("version"), "{message}");
        assert_eq!(line, Some(47), "{message}");
    }

    #[test]
    fn garbage_is_an_error() {
        // Not UTF-8.
        let (line, message) = parse_err([0xff, 0xfe, 0x00, 0x9c, b'\n', 0x80]);
        assert_eq!(line, Some(1));
        assert!(message.contains("UTF-8"), "{message}");
        // UTF-8 but not TOML.
        let (line, message) = parse_err("version = 3\n\n[[package]\n\u{1}\u{2}garbage ]]] = =\n");
        assert_eq!(line, Some(3), "{message}");
        // TOML but not a lockfile.
        let (line, message) = parse_err("[tool.something]\nkey = 1\n");
        assert_eq!(line, None);
        assert!(message.contains("no [[package]]"), "{message}");
        // A lockfile of the wrong shape.
        let (_, message) = parse_err("package = 5\n");
        assert!(message.starts_with("invalid Cargo.lock"), "{message}");
        let (_, message) =
            parse_err("version = 99\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n");
        assert!(message.starts_with("invalid Cargo.lock"), "{message}");
    }

    #[test]
    fn hostile_values_are_errors_not_panics() {
        let pkg = |version: &str, extra: &str| {
            format!(
                "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"{version}\"\nsource = \"{CRATES_IO}\"\n{extra}"
            )
        };
        // Version numbers beyond u64.
        let (line, message) = parse_err(pkg("99999999999999999999999.0.0", ""));
        assert_eq!(line, Some(5), "{message}");
        // A 64-byte checksum whose 2-byte slices cut a character (it panicked inside cargo-lock, which read these files before),
        // in a package and in v1 metadata.
        let bad = format!("a{}a", "é".repeat(31));
        assert_eq!(bad.len(), 64);
        let (line, message) = parse_err(pkg("1.0.0", &format!("checksum = \"{bad}\"\n")));
        assert_eq!(line, Some(7), "{message}");
        let (line, message) = parse_err(format!(
            "{}\n[metadata]\n\"checksum a 1.0.0 ({CRATES_IO})\" = \"{bad}\"\n",
            pkg("1.0.0", "")
        ));
        assert_eq!(line, Some(9), "{message}");
        let (line, _) = parse_err(pkg("1.0.0", "checksum = \"zz\"\n"));
        assert_eq!(line, Some(7));
        // A 10 MB line: the error does not echo it.
        let huge = "9".repeat(10 * 1024 * 1024);
        let (line, message) = parse_err(pkg(&format!("1.0.{huge}"), ""));
        assert_eq!(line, Some(5));
        assert!(message.len() < 1000, "{} bytes", message.len());
        let (line, message) = parse_err(format!("version = 3\n{huge}"));
        assert_eq!(line, Some(2));
        assert!(message.len() < 1000, "{} bytes", message.len());
        // Dangling dependency: a warning, the package list is still reported.
        let text = "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\n \"ghost 1.0.0\",\n]\n";
        let m = parse_text(text);
        assert_eq!(m.dependencies.len(), 1);
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains(":4: a 1.0.0 depends on ghost 1.0.0"),
            "{:?}",
            m.warnings
        );
    }

    /// A dependency entry naming a package absent from the file: Cargo skips it when loading
    /// the lockfile, so depwatch warns and checks every package (before, the whole lockfile
    /// was refused and no crate in it was checked). Both readers agree.
    #[test]
    fn dependency_on_an_absent_package_is_skipped_with_a_warning() {
        let canonical = format!(
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"ghost\",\n \"smallvec\",\n]\n\n[[package]]\nname = \"smallvec\"\nversion = \"0.6.9\"\nsource = \"{CRATES_IO}\"\n"
        );
        assert!(
            canonical::read(&canonical).is_some(),
            "the line reader takes it"
        );
        // The same lockfile with CRLF line ends goes through the TOML reader.
        let crlf = canonical.replace('\n', "\r\n");
        assert!(canonical::read(&crlf).is_none(), "the TOML reader takes it");
        for text in [canonical, crlf] {
            let m = parse_text(&text);
            assert_eq!(m.dependencies.len(), 2, "{m:?}");
            assert_eq!(pinned(find(&m, "smallvec", None)), "0.6.9");
            assert_eq!(via(find(&m, "smallvec", None)), Some(vec!["app"]));
            assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
            assert!(
                m.warnings[0]
                    .contains(":4: app 0.1.0 depends on ghost, which is not in the lockfile"),
                "{:?}",
                m.warnings
            );
        }
    }

    #[test]
    fn missing_file_is_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = parse(&dir.path().join("Cargo.lock"), &ParseOptions::default()).unwrap_err();
        assert!(matches!(err, ManifestError::Io { .. }), "{err:?}");
    }

    #[test]
    fn trusted_workspace_failure_is_a_warning() {
        // No Cargo.toml next to the lockfile: cargo metadata fails, the scan goes on.
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), V4);
        let m = parse(
            &path,
            &ParseOptions {
                trusted_workspace: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(m.dependencies.len(), 6);
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains("cargo metadata failed"),
            "{:?}",
            m.warnings
        );
        assert!(
            m.dependencies
                .iter()
                .all(|d| d.scope.is_none() && d.member.is_none())
        );
    }

    /// A workspace of path crates only (works offline): members `app` and `tool` under
    /// `ws/`, path crates outside it in `libs/` (inside, they would become members).
    fn tiny_workspace(root: &Path) -> std::path::PathBuf {
        let krate = |dir: &Path, name: &str, deps: &str| {
            std::fs::create_dir_all(dir.join("src")).unwrap();
            std::fs::write(dir.join("src/lib.rs"), "").unwrap();
            std::fs::write(
                dir.join("Cargo.toml"),
                format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n{deps}"),
            )
            .unwrap();
        };
        let ws = root.join("ws");
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::write(
            ws.join("Cargo.toml"),
            "[workspace]\nmembers = [\"app\", \"tool\"]\nresolver = \"2\"\n",
        )
        .unwrap();
        krate(
            &ws.join("app"),
            "app",
            "[dependencies]\ncore-lib = { path = \"../../libs/core-lib\" }\n\n[dev-dependencies]\ntestkit = { path = \"../../libs/testkit\" }\n",
        );
        krate(
            &ws.join("tool"),
            "tool",
            "[build-dependencies]\ngen = { path = \"../../libs/gen\" }\n",
        );
        krate(
            &root.join("libs/core-lib"),
            "core-lib",
            "[dependencies]\nshared = { path = \"../shared\" }\n",
        );
        krate(
            &root.join("libs/testkit"),
            "testkit",
            "[dependencies]\nshared = { path = \"../shared\" }\nhelper = { path = \"../helper\" }\n",
        );
        krate(
            &root.join("libs/gen"),
            "gen",
            "[dependencies]\nhelper = { path = \"../helper\" }\n",
        );
        krate(&root.join("libs/shared"), "shared", "");
        krate(&root.join("libs/helper"), "helper", "");
        let lock = "# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = \"app\"
version = \"0.1.0\"
dependencies = [
 \"core-lib\",
 \"testkit\",
]

[[package]]
name = \"core-lib\"
version = \"0.1.0\"
dependencies = [
 \"shared\",
]

[[package]]
name = \"gen\"
version = \"0.1.0\"
dependencies = [
 \"helper\",
]

[[package]]
name = \"helper\"
version = \"0.1.0\"

[[package]]
name = \"shared\"
version = \"0.1.0\"

[[package]]
name = \"testkit\"
version = \"0.1.0\"
dependencies = [
 \"helper\",
 \"shared\",
]

[[package]]
name = \"tool\"
version = \"0.1.0\"
dependencies = [
 \"gen\",
]
";
        write(&ws, lock)
    }

    #[test]
    fn trusted_workspace_fills_scope_and_member() {
        let dir = tempfile::tempdir().unwrap();
        let lock = tiny_workspace(dir.path());
        let m = parse(
            &lock,
            &ParseOptions {
                trusted_workspace: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        let attr = |name: &str| {
            let d = find(&m, name, None);
            (d.scope.as_deref(), d.member.as_deref())
        };
        assert_eq!(attr("app"), (Some("normal"), Some("app")));
        assert_eq!(attr("tool"), (Some("normal"), Some("tool")));
        assert_eq!(attr("core-lib"), (Some("normal"), Some("app")));
        // shared: normal through core-lib, dev through testkit: the strongest wins.
        assert_eq!(attr("shared"), (Some("normal"), Some("app")));
        assert_eq!(attr("testkit"), (Some("dev"), Some("app")));
        assert_eq!(attr("gen"), (Some("build"), Some("tool")));
        // helper: build through tool -> gen, dev through app -> testkit: build is stronger.
        assert_eq!(attr("helper"), (Some("build"), Some("tool")));
    }

    const CORPUS: &str = "../shared/corpus/manifests";

    #[test]
    fn corpus_uv_lockfile() {
        let m = parse(
            &Path::new(CORPUS).join("uv/Cargo.lock"),
            &ParseOptions::default(),
        )
        .unwrap();
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 753);
        let pinned_count = m
            .dependencies
            .iter()
            .filter(|d| matches!(d.requirement, Requirement::Pinned { .. }))
            .count();
        assert_eq!(pinned_count, 683);
        // The 70 workspace crates: NotChecked roots.
        let members: Vec<_> = m
            .dependencies
            .iter()
            .filter(|d| matches!(&d.requirement, Requirement::NotChecked { reason } if reason == REASON_PATH))
            .collect();
        assert_eq!(members.len(), 70);
        assert!(members.iter().all(|d| d.via == Some(vec![])));
        let uv = find(&m, "uv", None);
        assert_eq!((uv.line, reason(uv).as_str()), (5907, REASON_PATH));
        // Every package is reachable from a member.
        assert!(m.dependencies.iter().all(|d| d.via.is_some()));

        let tokio = find(&m, "tokio", None);
        assert_eq!((pinned(tokio).as_str(), tokio.line), ("1.53.1", 5419));
        assert_eq!(via(tokio), Some(vec!["uv"]));
        let h2 = find(&m, "h2", None);
        assert_eq!((pinned(h2).as_str(), h2.line), ("0.4.15", 2028));
        assert_eq!(via(h2), Some(vec!["uv-client"]));
        let adler2 = find(&m, "adler2", None);
        assert_eq!((pinned(adler2).as_str(), adler2.line), ("2.0.1", 6));
        assert_eq!(via(adler2), Some(vec!["uv", "flate2", "miniz_oxide"]));
        assert_eq!(
            via(find(&m, "zvariant_utils", None)),
            Some(vec!["uv-keyring", "secret-service", "zbus", "zbus_macros"])
        );
        // Names locked at several versions: each version at its line, `name@version` in paths.
        let ws = find(&m, "windows-sys", Some("0.61.2"));
        assert_eq!(ws.line, 8118);
        assert_eq!(via(ws), Some(vec!["uv", "console"]));
        assert_eq!(find(&m, "syn", Some("2.0.118")).line, 5058);
        assert_eq!(find(&m, "syn", Some("3.0.3")).line, 5069);
        let versions = |name: &str| m.dependencies.iter().filter(|d| d.name == name).count();
        assert_eq!(versions("windows-sys"), 3);
        assert_eq!(
            via(find(&m, "allocator-api2", None)),
            Some(vec!["uv-pypi-types", "hashbrown@0.17.1"])
        );
        assert_eq!(
            via(find(&m, "cmov", None)),
            Some(vec!["uv", "sha2@0.11.0", "digest@0.11.3", "ctutils"])
        );
        // Build metadata is kept in the version text.
        let jemalloc = find(&m, "tikv-jemalloc-sys", None);
        assert_eq!(
            pinned(jemalloc),
            "0.6.1+5.3.0-1-ge13ca993e8ccb9ba9847cc330696e02839f328f7"
        );
        assert_eq!(jemalloc.line, 5298);
    }

    #[test]
    fn dependency_specs() {
        let d = dep_spec("serde 1.0.100 (registry+https://github.com/rust-lang/crates.io-index)")
            .unwrap();
        assert_eq!(d.name, "serde");
        assert_eq!(d.version.as_deref(), Some("1.0.100"));
        assert_eq!(
            d.source.as_deref(),
            Some("registry+https://github.com/rust-lang/crates.io-index")
        );
        let d = dep_spec("libc").unwrap();
        assert_eq!((d.name.as_str(), d.version, d.source), ("libc", None, None));
        assert!(dep_spec("").is_none());
        assert!(dep_spec("a 1.0.0 no-parens").is_none());
        assert!(dep_spec("a  1.0.0").is_none());
    }

    #[test]
    fn same_name_and_version_from_two_sources_resolve_by_source() {
        let text = format!(
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"dup 1.0.0 (git+https://example.com/dup#0123)\",\n]\n\n\
             [[package]]\nname = \"dup\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\n\n\
             [[package]]\nname = \"dup\"\nversion = \"1.0.0\"\nsource = \"git+https://example.com/dup#0123\"\ndependencies = [\n \"leaf\",\n]\n\n\
             [[package]]\nname = \"leaf\"\nversion = \"0.1.0\"\nsource = \"{CRATES_IO}\"\n"
        );
        let m = parse_text(&text);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        // leaf is reached through the git copy of dup, not the crates.io one.
        let leaf = find(&m, "leaf", None);
        assert_eq!(via(leaf), Some(vec!["app", "dup@1.0.0"]));
        let from_registry = m
            .dependencies
            .iter()
            .find(|d| d.name == "dup" && matches!(d.requirement, Requirement::Pinned { .. }))
            .unwrap();
        assert_eq!(
            via(from_registry),
            None,
            "nothing depends on the crates.io copy"
        );
    }

    #[test]
    fn structure_errors_name_the_line() {
        let (line, message) =
            parse_err("version = \"3\"\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n");
        assert_eq!(line, Some(1), "{message}");
        assert!(
            message.contains("unsupported lockfile version"),
            "{message}"
        );
        let (line, message) = parse_err(
            "version = 3\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\n 7,\n]\n",
        );
        assert_eq!(line, Some(6), "{message}");
        let (line, message) =
            parse_err("version = 3\n[[package]]\nname = 5\nversion = \"1.0.0\"\n");
        assert_eq!(line, Some(3), "{message}");
        let (line, message) = parse_err(format!(
            "version = 3\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\nchecksum = \"{}\"\n",
            "A".repeat(63)
        ));
        assert_eq!(line, Some(6), "{message}");
    }
}
