//! `poetry.lock` (lock format 1.x and 2.x).
//!
//! Each `[[package]]` is pinned at its `version`; a `[package.source]` of type `git`,
//! `directory`, `file` or `url` makes it not checked (private `legacy` indexes are still
//! registries). The line is the package's `name = ` line.
//!
//! Graph: `[package.dependencies]` edges between PEP 503-normalised names. The roots are the
//! direct dependencies declared by a sibling `pyproject.toml` (PEP 621, PEP 735 or Poetry
//! tables), else the packages no other package depends on; `via` is the shortest path from a
//! root (`[]` for a root). Packages the roots do not reach (stale entries) get paths from the
//! unreached packages nothing depends on, or no path at all (a cycle nothing enters).
//!
//! Scope: `groups` (2.x) or `category` (1.x); a package in the `main` group has no scope,
//! others have their groups joined with `,` (`dev,test`).
//!
//! Markers: a string as written, or (Poetry 2.x) a table of one marker per group: the package
//! is installed where any of its groups' markers holds, so they are joined with `or`; a group
//! of `groups` missing from the table installs it unconditionally (no markers).

use super::clip;
use super::pyproject::{NamedTable, named_tables};
use super::pyproject::{direct_dependency_names, get_array, get_str, get_table, parse_toml};
use super::{
    Dependency, Manifest, ManifestError, ManifestKind, Requirement, read_text, shortest_paths,
};
use crate::ecosystem::{Ecosystem, normalize_pypi_name};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The format in [`super::registry::ALL`].
pub struct PoetryLock;

impl super::registry::Format for PoetryLock {
    fn kind(&self) -> ManifestKind {
        ManifestKind::PoetryLock
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn file_name(&self) -> &'static str {
        "poetry.lock"
    }

    fn supersedes(&self) -> &'static [ManifestKind] {
        &[ManifestKind::Pyproject]
    }

    fn looks_like(&self, content: &super::registry::Content<'_>) -> bool {
        use super::registry::{Content, toml_array, toml_key};
        let Content::Toml(doc) = content else {
            return false;
        };
        toml_array(doc, "package")
            && super::pyproject::get_table(doc, "metadata")
                .is_some_and(|m| toml_key(m, "content-hash"))
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
    let packages = named_tables(path, &text, &doc, &["package"], &mut warnings)?;

    // (dependency, normalised name)
    let mut deps: Vec<(Dependency, String)> = Vec::new();
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut display: BTreeMap<String, String> = BTreeMap::new();
    for NamedTable {
        name,
        line,
        table: pkg,
    } in packages
    {
        let key = normalize_pypi_name(name);
        display
            .entry(key.clone())
            .or_insert_with(|| name.to_string());

        let source = get_table(pkg, "source");
        let source_type = source.and_then(|s| get_str(s, "type")).unwrap_or("");
        let requirement = match source_type {
            "git" | "directory" | "file" | "url" => {
                let url = source.and_then(|s| get_str(s, "url")).unwrap_or("");
                Requirement::NotChecked {
                    reason: format!(
                        "{source_type} source ({}): not a registry release",
                        clip(url)
                    ),
                }
            }
            _ => match get_str(pkg, "version") {
                Some(v) => match Ecosystem::PyPI.parse_version(v) {
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
                None => Requirement::NotChecked {
                    reason: "no version in the lockfile".to_string(),
                },
            },
        };

        let mut dep = Dependency::new(Ecosystem::PyPI, name, requirement, path, line);
        // `[package.source]` of type `legacy` (or any other registry kind) names the index.
        if !matches!(source_type, "git" | "directory" | "file" | "url") {
            dep.index = source
                .and_then(|s| get_str(s, "url"))
                .and_then(super::private_pypi_index);
        }
        dep.scope = scope(pkg);
        dep.markers = markers(pkg);
        let children = edges.entry(key.clone()).or_default();
        if let Some(d) = get_table(pkg, "dependencies") {
            children.extend(d.iter().map(|(k, _)| normalize_pypi_name(k.get_ref())));
        }
        deps.push((dep, key));
    }

    let roots = roots(path, &edges);
    let mut paths = shortest_paths(&roots, &edges);
    // Stale entries the roots do not reach: paths from the unreached packages nothing
    // (unreached) depends on.
    let unreached: BTreeSet<&String> = edges.keys().filter(|k| !paths.contains_key(*k)).collect();
    if !unreached.is_empty() {
        let depended: BTreeSet<&String> = unreached
            .iter()
            .flat_map(|k| edges.get(*k).into_iter().flatten())
            .collect();
        let extra_roots: Vec<String> = unreached
            .iter()
            .filter(|k| !depended.contains(*k))
            .map(|k| (*k).clone())
            .collect();
        for (k, p) in shortest_paths(&extra_roots, &edges) {
            paths.entry(k).or_insert(p);
        }
    }
    let dependencies = deps
        .into_iter()
        .map(|(mut dep, key)| {
            dep.via = paths.get(&key).map(|p| {
                p.iter()
                    .map(|n| display.get(n).cloned().unwrap_or_else(|| n.clone()))
                    .collect()
            });
            dep
        })
        .collect();
    Ok(Manifest {
        path: path.to_path_buf(),
        kind: ManifestKind::PoetryLock,
        dependencies,
        warnings,
    })
}

/// The direct dependencies of the sibling `pyproject.toml` present in the lock, else the
/// packages nothing depends on.
fn roots(path: &Path, edges: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let pyproject = path
        .parent()
        .unwrap_or(Path::new(""))
        .join("pyproject.toml");
    if let Some(direct) = direct_dependency_names(&pyproject) {
        let present: Vec<String> = direct
            .into_iter()
            .filter(|n| edges.contains_key(n))
            .collect();
        if !present.is_empty() {
            return present;
        }
    }
    let depended: BTreeSet<&String> = edges.values().flatten().collect();
    edges
        .keys()
        .filter(|k| !depended.contains(k))
        .cloned()
        .collect()
}

/// `groups = ["main", "dev"]` (2.x) or `category = "dev"` (1.x).
fn scope(pkg: &toml::de::DeTable<'_>) -> Option<String> {
    if let Some(groups) = get_array(pkg, "groups") {
        let groups: Vec<&str> = groups.iter().filter_map(|g| g.get_ref().as_str()).collect();
        if groups.is_empty() || groups.contains(&"main") {
            return None;
        }
        return Some(groups.join(","));
    }
    match get_str(pkg, "category") {
        None | Some("main") => None,
        Some(c) => Some(c.to_string()),
    }
}

/// The package's markers: `markers = "..."`, or the `or` of a per-group table.
fn markers(pkg: &toml::de::DeTable<'_>) -> Option<String> {
    if let Some(m) = get_str(pkg, "markers") {
        return Some(m.to_string());
    }
    let table = get_table(pkg, "markers")?;
    let groups: Vec<&str> = match get_array(pkg, "groups") {
        Some(g) => g.iter().filter_map(|g| g.get_ref().as_str()).collect(),
        None => table.iter().map(|(k, _)| k.get_ref().as_ref()).collect(),
    };
    let mut each: BTreeSet<&str> = BTreeSet::new();
    for g in groups {
        // A group without a marker installs the package everywhere.
        each.insert(get_str(table, g)?);
    }
    match each.len() {
        0 => None,
        1 => each.pop_first().map(str::to_string),
        _ => Some(
            each.iter()
                .map(|m| format!("({m})"))
                .collect::<Vec<_>>()
                .join(" or "),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::Version;
    use std::fs;

    fn ver(s: &str) -> Version {
        Ecosystem::PyPI.parse_version(s).unwrap()
    }

    fn find<'a>(m: &'a Manifest, name: &str) -> &'a Dependency {
        m.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} not in {:?}", m.dependencies))
    }

    fn via(m: &Manifest, name: &str) -> Option<Vec<String>> {
        find(m, name).via.clone()
    }

    #[test]
    fn per_group_markers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("poetry.lock");
        fs::write(
            &p,
            "[[package]]\nname = \"a\"\nversion = \"1.0\"\ngroups = [\"main\", \"dev\"]\n\
             markers = {main = \"os_name == 'nt'\", dev = \"os_name == 'nt'\"}\n\
             [[package]]\nname = \"b\"\nversion = \"1.0\"\ngroups = [\"main\", \"dev\"]\n\
             markers = {dev = \"os_name == 'nt'\"}\n\
             [metadata]\nlock-version = \"2.1\"\ncontent-hash = \"x\"\n",
        )
        .unwrap();
        let m = parse(&p).unwrap();
        assert_eq!(find(&m, "a").markers.as_deref(), Some("os_name == 'nt'"));
        // `main` has no marker: installed everywhere.
        assert_eq!(find(&m, "b").markers, None);
    }

    const LOCK_V1: &str = r#"
[[package]]
name = "app-lib"
version = "1.0.0"
description = ""
category = "main"
optional = false
python-versions = "*"

[package.dependencies]
Requests = ">=2.0"

[[package]]
name = "requests"
version = "2.31.0"
category = "main"
optional = false
python-versions = ">=3.7"

[package.dependencies]
urllib3 = {version = ">=1.21.1,<3", markers = "python_version >= \"3.7\""}
charset_normalizer = ">=2"

[[package]]
name = "urllib3"
version = "2.1.0"
category = "main"
optional = false
python-versions = ">=3.8"

[[package]]
name = "charset-normalizer"
version = "3.3.2"
category = "main"
optional = false
python-versions = ">=3.7"

[[package]]
name = "pytest"
version = "8.0.0"
category = "dev"
optional = false
python-versions = ">=3.8"

[[package]]
name = "mylib"
version = "0.1.0"
category = "main"
optional = false
python-versions = "*"
develop = true

[package.source]
type = "directory"
url = "../mylib"

[metadata]
lock-version = "1.1"
content-hash = "x"

[metadata.files]
requests = []
"#;

    #[test]
    fn v1_lock_without_pyproject_uses_unreferenced_roots() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("poetry.lock");
        fs::write(&p, LOCK_V1).unwrap();
        let m = parse(&p).unwrap();
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 6);
        let r = find(&m, "requests");
        assert_eq!(r.line, 14);
        assert!(
            matches!(&r.requirement, Requirement::Pinned { version, text } if *version == ver("2.31.0") && text == "2.31.0")
        );
        assert_eq!(via(&m, "app-lib"), Some(vec![]));
        assert_eq!(via(&m, "requests"), Some(vec!["app-lib".to_string()]));
        assert_eq!(
            via(&m, "charset-normalizer"),
            Some(vec!["app-lib".to_string(), "requests".to_string()])
        );
        assert_eq!(via(&m, "pytest"), Some(vec![]));
        assert_eq!(find(&m, "pytest").scope.as_deref(), Some("dev"));
        assert_eq!(find(&m, "urllib3").scope, None);
        match &find(&m, "mylib").requirement {
            Requirement::NotChecked { reason } => assert!(
                reason.starts_with("directory source (../mylib)"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sibling_pyproject_gives_the_roots() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("poetry.lock");
        fs::write(&p, LOCK_V1).unwrap();
        // The project depends on requests and urllib3 directly; app-lib is stale.
        fs::write(
            dir.path().join("pyproject.toml"),
            "[tool.poetry.dependencies]\npython = \"^3.9\"\nrequests = \"^2.31\"\n\n[tool.poetry.group.dev.dependencies]\nURLLIB3 = \"*\"\n",
        )
        .unwrap();
        let m = parse(&p).unwrap();
        assert_eq!(via(&m, "requests"), Some(vec![]));
        assert_eq!(via(&m, "urllib3"), Some(vec![]));
        assert_eq!(
            via(&m, "charset-normalizer"),
            Some(vec!["requests".to_string()])
        );
        // Not reached from the project: falls back to its own root.
        assert_eq!(via(&m, "app-lib"), Some(vec![]));
        assert_eq!(via(&m, "pytest"), Some(vec![]));
    }

    #[test]
    fn cycles_and_bad_entries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("poetry.lock");
        fs::write(
            &p,
            r#"
[[package]]
name = "a"
version = "1.0"
groups = ["dev", "test"]
[package.dependencies]
b = "*"

[[package]]
name = "b"
version = "not.a.version!"
groups = ["main", "dev"]
[package.dependencies]
a = "*"

[[package]]
version = "1.0"

[[package]]
name = "c"
version = "1.0"
"#,
        )
        .unwrap();
        let m = parse(&p).unwrap();
        assert_eq!(m.dependencies.len(), 3);
        assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
        assert!(
            m.warnings
                .iter()
                .any(|w| w.contains(":10: `b`: invalid version")),
            "{:?}",
            m.warnings
        );
        assert!(
            m.warnings
                .iter()
                .any(|w| w.contains("package without a `name`")),
            "{:?}",
            m.warnings
        );
        assert_eq!(find(&m, "a").scope.as_deref(), Some("dev,test"));
        assert_eq!(find(&m, "b").scope, None);
        assert!(matches!(
            find(&m, "b").requirement,
            Requirement::NotChecked { .. }
        ));
        // a <-> b is a cycle nothing enters: no path.
        assert_eq!(via(&m, "a"), None);
        assert_eq!(via(&m, "c"), Some(vec![]));
    }

    #[test]
    fn garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("poetry.lock");
        fs::write(&p, "package = 3\n").unwrap();
        assert!(
            parse(&p)
                .unwrap_err()
                .to_string()
                .contains(":1: `package` must be an array")
        );
        fs::write(&p, b"\x00\x01\x02[[package]]\xff").unwrap();
        assert!(parse(&p).is_err());
        fs::write(&p, "[[package]\nname=").unwrap();
        assert!(matches!(
            parse(&p),
            Err(ManifestError::Parse { line: Some(1), .. })
        ));
    }

    #[test]
    fn corpus_poetry_lock() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpus/manifests/poetry/poetry.lock");
        let m = parse(&p).unwrap();
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 78);
        let a = find(&m, "anyio");
        assert_eq!(a.line, 4);
        assert!(matches!(&a.requirement, Requirement::Pinned { text, .. } if text == "4.13.0"));
        let core = find(&m, "poetry-core");
        assert_eq!(core.line, 1403);
        assert!(
            matches!(&core.requirement, Requirement::NotChecked { reason } if reason.starts_with("git source"))
        );
        let not_checked = m
            .dependencies
            .iter()
            .filter(|d| matches!(d.requirement, Requirement::NotChecked { .. }))
            .count();
        assert_eq!(not_checked, 1);
        assert_eq!(
            find(&m, "backports-tarfile").markers.as_deref(),
            Some("python_version < \"3.12\"")
        );
        // Poetry 2.x: one marker per group, any of which installs it.
        assert_eq!(
            find(&m, "colorama").markers.as_deref(),
            Some("(os_name == \"nt\") or (sys_platform == \"win32\")")
        );
        assert_eq!(
            find(&m, "pluggy").scope.as_deref(),
            Some("github-actions,test")
        );
        assert_eq!(find(&m, "build").scope, None);
        assert_eq!(via(&m, "build"), Some(vec![]));
        assert_eq!(
            via(&m, "backports-tarfile"),
            Some(vec!["keyring".to_string(), "jaraco-context".to_string()])
        );
        assert_eq!(via(&m, "msgpack"), Some(vec!["cachecontrol".to_string()]));
        assert!(m.dependencies.iter().all(|d| d.via.is_some()));
    }
}
