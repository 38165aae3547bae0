//! `pyproject.toml`: PEP 621 `[project] dependencies` and `[project.optional-dependencies]`
//! (scope = the extra), PEP 735 `[dependency-groups]` (scope = the group), uv's
//! `[tool.uv] dev-dependencies` (scope `dev`), and Poetry's
//! `[tool.poetry.dependencies]`, `[tool.poetry.dev-dependencies]` (scope `dev`) and
//! `[tool.poetry.group.<g>.dependencies]` (scope = the group).
//!
//! PEP 508 strings with exactly one `==` / `===` specifier are pinned, other specifiers are
//! ranges; Poetry constraints (`^1.2`, `~1.2.3`, `>=1,<2 || ^3`) go through
//! [`poetry_constraint_to_set`], and an exact Poetry version (`2.31.0`, `==2.31.0`) is pinned.
//! Poetry `path` / `git` / `url` dependencies and `name @ url` strings are not checked. Each
//! dependency's line is the line of its requirement string (PEP 621 / 735) or key (Poetry).
//!
//! A PEP 735 `{include-group = "x"}` is validated (unknown groups and include cycles are
//! warnings) but not expanded: each requirement is reported once, with the group that declares
//! it, so a group included by others does not report its requirements twice.
//!
//! Also home to the TOML helpers the lockfile parsers share.

use super::clip;
use super::requirements_txt::parse_pep508;
use super::{
    Dependency, Manifest, ManifestError, ManifestKind, Requirement, line_of_offset, read_text,
};
use crate::ecosystem::{Ecosystem, normalize_pypi_name, poetry_constraint_to_set};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The format in [`super::registry::ALL`].
pub struct Pyproject;

impl super::registry::Format for Pyproject {
    fn kind(&self) -> ManifestKind {
        ManifestKind::Pyproject
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn file_name(&self) -> &'static str {
        "pyproject.toml"
    }

    fn looks_like(&self, content: &super::registry::Content<'_>) -> bool {
        use super::registry::{Content, toml_table};
        let Content::Toml(doc) = content else {
            return false;
        };
        let poetry = get_table(doc, "tool").is_some_and(|t| toml_table(t, "poetry"));
        ["project", "dependency-groups", "build-system"]
            .iter()
            .any(|k| toml_table(doc, k))
            || poetry
    }

    fn parse(&self, path: &Path, _opts: &super::ParseOptions) -> Result<Manifest, ManifestError> {
        parse(path)
    }
}

/// Parse the file.
pub fn parse(path: &Path) -> Result<Manifest, ManifestError> {
    let text = read_text(path)?;
    let doc = parse_toml(path, &text)?;
    let mut cx = Cx::new(path, &text);
    cx.project(&doc);
    cx.dependency_groups(&doc);
    cx.tool_uv(&doc);
    cx.poetry(&doc);
    Ok(Manifest {
        path: path.to_path_buf(),
        kind: ManifestKind::Pyproject,
        dependencies: cx.deps,
        warnings: cx.warnings,
    })
}

/// PEP 503-normalised names of the direct dependencies (every scope) declared by the
/// `pyproject.toml` at `path`; `None` when there is no such file or it does not parse.
pub(super) fn direct_dependency_names(path: &Path) -> Option<BTreeSet<String>> {
    if !path.is_file() {
        return None;
    }
    let m = parse(path).ok()?;
    Some(
        m.dependencies
            .iter()
            .map(|d| normalize_pypi_name(&d.name))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// TOML helpers shared by the Python lockfile parsers.

/// Parse a TOML document, keeping spans; a syntax error names its line.
pub(super) fn parse_toml<'i>(path: &Path, text: &'i str) -> Result<DeTable<'i>, ManifestError> {
    match DeTable::parse(text) {
        Ok(t) => Ok(t.into_inner()),
        Err(e) => {
            let line = e.span().map(|s| line_of_offset(text, s.start));
            Err(ManifestError::parse(
                path,
                line,
                format!("invalid TOML: {}", clip(e.message().trim())),
            ))
        }
    }
}

/// The value under `key`.
pub(super) fn get<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    t.get(key)
}

/// A named `[[key]]` table of a lockfile: its `name`, the line of its `name` key, and the table.
pub(super) struct NamedTable<'a, 'i> {
    pub(super) name: &'a str,
    pub(super) line: usize,
    pub(super) table: &'a DeTable<'i>,
}

/// The tables of the array `key` (the first of `keys` present) that have a `name`, in file
/// order. An entry that is not a table or has no `name` becomes a warning `file:line`; the
/// array itself not being an array of tables is an error. Lines come from one line index.
pub(super) fn named_tables<'a, 'i>(
    path: &Path,
    text: &str,
    doc: &'a DeTable<'i>,
    keys: &[&str],
    warnings: &mut Vec<String>,
) -> Result<Vec<NamedTable<'a, 'i>>, ManifestError> {
    let index = super::LineIndex::new(text);
    let Some((key, v)) = keys.iter().find_map(|k| get(doc, k).map(|v| (*k, v))) else {
        return Ok(Vec::new());
    };
    let Some(items) = v.get_ref().as_array() else {
        return Err(ManifestError::parse(
            path,
            Some(index.line(v.span().start)),
            format!(
                "`{key}` must be an array of tables, found {}",
                type_name(v.get_ref())
            ),
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter() {
        let item_line = index.line(item.span().start);
        let Some(table) = item.get_ref().as_table() else {
            warnings.push(format!(
                "{}:{item_line}: `[[{key}]]` entry is not a table",
                path.display()
            ));
            continue;
        };
        let Some(name) = get_str(table, "name") else {
            warnings.push(format!(
                "{}:{item_line}: package without a `name`: skipped",
                path.display()
            ));
            continue;
        };
        let line = table
            .get_key_value("name")
            .map(|(k, _)| index.line(k.span().start))
            .unwrap_or(item_line);
        out.push(NamedTable { name, line, table });
    }
    Ok(out)
}

/// The table under `key`.
pub(super) fn get_table<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
    get(t, key)?.get_ref().as_table()
}

/// The string under `key`.
pub(super) fn get_str<'a>(t: &'a DeTable<'_>, key: &str) -> Option<&'a str> {
    get(t, key)?.get_ref().as_str()
}

/// The array under `key`, as a slice.
pub(super) fn get_array<'a, 'i>(
    t: &'a DeTable<'i>,
    key: &str,
) -> Option<&'a [Spanned<DeValue<'i>>]> {
    get(t, key)?.get_ref().as_array().map(|a| &a[..])
}

/// 1-based line of `key` in `t` (0 when absent).
pub(super) fn key_line(text: &str, t: &DeTable<'_>, key: &str) -> usize {
    t.get_key_value(key)
        .map(|(k, _)| line_of_offset(text, k.span().start))
        .unwrap_or(0)
}

/// 1-based line where a value starts.
pub(super) fn value_line(text: &str, v: &Spanned<DeValue<'_>>) -> usize {
    line_of_offset(text, v.span().start)
}

/// The TOML type of a value, for messages.
pub(super) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

// ---------------------------------------------------------------------------------------------

/// Poetry's reading of a constraint: an exact version (`2.31.0`, `==2.31.0`) is pinned,
/// anything else is a range.
pub(super) fn poetry_requirement(constraint: &str) -> Result<Requirement, String> {
    let c = constraint.trim();
    let exact = c.strip_prefix("==").unwrap_or(c).trim();
    if exact.starts_with(|ch: char| ch.is_ascii_digit())
        && !exact.contains(['*', ',', ' ', '\t', '|', '<', '>', '!', '~', '^', '='])
        && let Ok(version) = Ecosystem::PyPI.parse_version(exact)
    {
        return Ok(Requirement::Pinned {
            version,
            text: exact.to_string(),
        });
    }
    let set = poetry_constraint_to_set(c).map_err(|e| clip(&e))?;
    Ok(Requirement::Range {
        text: if c.is_empty() {
            "*".to_string()
        } else {
            c.to_string()
        },
        set,
    })
}

struct Cx<'a> {
    path: &'a Path,
    text: &'a str,
    deps: Vec<Dependency>,
    warnings: Vec<String>,
}

impl<'a> Cx<'a> {
    fn new(path: &'a Path, text: &'a str) -> Self {
        Self {
            path,
            text,
            deps: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, line: usize, message: impl AsRef<str>) {
        self.warnings.push(format!(
            "{}:{line}: {}",
            self.path.display(),
            message.as_ref()
        ));
    }

    fn dep(
        &mut self,
        name: &str,
        requirement: Requirement,
        line: usize,
        scope: Option<&str>,
        markers: Option<String>,
    ) {
        let mut d = Dependency::new(Ecosystem::PyPI, name, requirement, self.path, line);
        d.scope = scope.map(str::to_string);
        d.markers = markers;
        self.deps.push(d);
    }

    /// One PEP 508 string.
    fn pep508(&mut self, item: &Spanned<DeValue<'_>>, scope: Option<&str>, what: &str) {
        let line = value_line(self.text, item);
        let Some(s) = item.get_ref().as_str() else {
            let t = type_name(item.get_ref());
            self.warn(
                line,
                format!("{what}: expected a requirement string, found {t}"),
            );
            return;
        };
        match parse_pep508(s) {
            Ok(p) => self.dep(&p.name, p.requirement, line, scope, p.markers),
            Err(e) => self.warn(
                line,
                format!("{what}: invalid requirement `{}`: {e}", clip(s)),
            ),
        }
    }

    /// An array of PEP 508 strings.
    fn pep508_array(&mut self, value: &Spanned<DeValue<'_>>, scope: Option<&str>, what: &str) {
        match value.get_ref().as_array() {
            Some(items) => {
                for item in items.iter() {
                    self.pep508(item, scope, what);
                }
            }
            None => {
                let (line, t) = (value_line(self.text, value), type_name(value.get_ref()));
                self.warn(line, format!("{what}: expected an array, found {t}"));
            }
        }
    }

    fn project(&mut self, doc: &DeTable<'_>) {
        let Some(project) = get_table(doc, "project") else {
            return;
        };
        let dynamic: Vec<&str> = get_array(project, "dynamic")
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.get_ref().as_str())
            .collect();
        match get(project, "dependencies") {
            Some(v) => self.pep508_array(v, None, "project.dependencies"),
            None if dynamic.contains(&"dependencies") => {
                let line = key_line(self.text, project, "dynamic");
                self.warn(
                    line,
                    "`project.dependencies` is dynamic (computed by the build backend): not read",
                );
            }
            None => {}
        }
        match get(project, "optional-dependencies") {
            Some(v) => match v.get_ref().as_table() {
                Some(extras) => {
                    for (extra, reqs) in extras.iter() {
                        let what = format!("project.optional-dependencies.{}", extra.get_ref());
                        self.pep508_array(reqs, Some(extra.get_ref()), &what);
                    }
                }
                None => {
                    let line = value_line(self.text, v);
                    self.warn(line, "project.optional-dependencies: expected a table");
                }
            },
            None if dynamic.contains(&"optional-dependencies") => {
                let line = key_line(self.text, project, "dynamic");
                self.warn(
                    line,
                    "`project.optional-dependencies` is dynamic (computed by the build backend): not read",
                );
            }
            None => {}
        }
    }

    fn dependency_groups(&mut self, doc: &DeTable<'_>) {
        let Some(v) = get(doc, "dependency-groups") else {
            return;
        };
        let Some(groups) = v.get_ref().as_table() else {
            let line = value_line(self.text, v);
            self.warn(line, "dependency-groups: expected a table");
            return;
        };
        // normalised group -> [(normalised included group, as written, line)]
        let mut includes: BTreeMap<String, Vec<(String, String, usize)>> = BTreeMap::new();
        for (group, items) in groups.iter() {
            let group = group.get_ref().as_ref();
            let what = format!("dependency-groups.{group}");
            let edges = includes.entry(normalize_pypi_name(group)).or_default();
            let Some(items) = items.get_ref().as_array() else {
                let line = value_line(self.text, items);
                self.warn(line, format!("{what}: expected an array"));
                continue;
            };
            for item in items.iter() {
                if let Some(t) = item.get_ref().as_table() {
                    let line = value_line(self.text, item);
                    match get_str(t, "include-group") {
                        Some(target) => {
                            edges.push((normalize_pypi_name(target), target.to_string(), line))
                        }
                        None => self.warnings.push(format!(
                            "{}:{line}: {what}: a table entry needs `include-group`",
                            self.path.display()
                        )),
                    }
                } else {
                    self.pep508(item, Some(group), &what);
                }
            }
        }
        self.check_includes(&includes);
    }

    /// Unknown included groups and include cycles are warnings.
    fn check_includes(&mut self, includes: &BTreeMap<String, Vec<(String, String, usize)>>) {
        for (group, edges) in includes {
            for (target, written, line) in edges {
                if !includes.contains_key(target) {
                    self.warn(
                        *line,
                        format!(
                            "dependency group `{group}` includes unknown group `{}`",
                            clip(written)
                        ),
                    );
                }
            }
        }
        // Depth-first search with colours; a grey target is a back edge (a cycle).
        #[derive(Clone, Copy, PartialEq)]
        enum Colour {
            Grey,
            Black,
        }
        let mut colour: BTreeMap<&str, Colour> = BTreeMap::new();
        let mut cycles = Vec::new();
        for start in includes.keys() {
            if colour.contains_key(start.as_str()) {
                continue;
            }
            // Explicit stack of (node, next edge index): no recursion on hostile input.
            let mut stack: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
            colour.insert(start.as_str(), Colour::Grey);
            while let Some((node, idx)) = stack.last_mut() {
                let edges = includes.get(*node).map(Vec::as_slice).unwrap_or_default();
                match edges.get(*idx) {
                    Some((target, _, line)) => {
                        *idx += 1;
                        let from = *node;
                        match colour.get(target.as_str()) {
                            Some(Colour::Grey) => {
                                cycles.push((*line, from.to_string(), target.clone()))
                            }
                            Some(Colour::Black) => {}
                            None if includes.contains_key(target) => {
                                colour.insert(target.as_str(), Colour::Grey);
                                stack.push((target.as_str(), 0));
                            }
                            None => {}
                        }
                    }
                    None => {
                        colour.insert(*node, Colour::Black);
                        stack.pop();
                    }
                }
            }
        }
        for (line, from, to) in cycles {
            self.warn(
                line,
                format!(
                    "dependency group `{from}` includes `{to}`, which includes it back (cycle)"
                ),
            );
        }
    }

    /// uv's `[tool.uv] dev-dependencies` (its spelling before PEP 735, still read by uv as
    /// part of the `dev` group).
    fn tool_uv(&mut self, doc: &DeTable<'_>) {
        let Some(uv) = get_table(doc, "tool").and_then(|t| get_table(t, "uv")) else {
            return;
        };
        if let Some(v) = get(uv, "dev-dependencies") {
            self.pep508_array(v, Some("dev"), "tool.uv.dev-dependencies");
        }
    }

    fn poetry(&mut self, doc: &DeTable<'_>) {
        let Some(poetry) = get_table(doc, "tool").and_then(|t| get_table(t, "poetry")) else {
            return;
        };
        if let Some(t) = get_table(poetry, "dependencies") {
            self.poetry_table(t, None);
        }
        if let Some(t) = get_table(poetry, "dev-dependencies") {
            self.poetry_table(t, Some("dev"));
        }
        if let Some(groups) = get_table(poetry, "group") {
            for (name, group) in groups.iter() {
                if let Some(t) = group
                    .get_ref()
                    .as_table()
                    .and_then(|g| get_table(g, "dependencies"))
                {
                    self.poetry_table(t, Some(name.get_ref()));
                }
            }
        }
    }

    fn poetry_table(&mut self, deps: &DeTable<'_>, scope: Option<&str>) {
        for (key, value) in deps.iter() {
            let name: &str = key.get_ref();
            if name.eq_ignore_ascii_case("python") {
                continue;
            }
            let line = line_of_offset(self.text, key.span().start);
            match value.get_ref() {
                DeValue::String(s) => self.poetry_entry(name, line, scope, Some(s), None),
                DeValue::Table(t) => self.poetry_table_entry(name, line, scope, t),
                DeValue::Array(items) => {
                    for item in items.iter() {
                        match item.get_ref().as_table() {
                            Some(t) => self.poetry_table_entry(name, line, scope, t),
                            None => self.warn(
                                line,
                                format!("`{name}`: expected a table in the constraint list"),
                            ),
                        }
                    }
                }
                other => {
                    let t = type_name(other);
                    self.warn(
                        line,
                        format!("`{name}`: expected a constraint string or table, found {t}"),
                    );
                }
            }
        }
    }

    fn poetry_table_entry(
        &mut self,
        name: &str,
        line: usize,
        scope: Option<&str>,
        t: &DeTable<'_>,
    ) {
        let markers = get_str(t, "markers").map(str::to_string);
        for (key, what) in [("git", "git"), ("path", "path"), ("url", "URL")] {
            if let Some(target) = get_str(t, key) {
                let reason = format!(
                    "{what} dependency ({}): not a registry release",
                    clip(target)
                );
                self.dep(
                    name,
                    Requirement::NotChecked { reason },
                    line,
                    scope,
                    markers,
                );
                return;
            }
        }
        let version = get_str(t, "version").unwrap_or("*");
        self.poetry_entry(name, line, scope, Some(version), markers);
    }

    fn poetry_entry(
        &mut self,
        name: &str,
        line: usize,
        scope: Option<&str>,
        constraint: Option<&str>,
        markers: Option<String>,
    ) {
        let constraint = constraint.unwrap_or("*");
        let requirement = match poetry_requirement(constraint) {
            Ok(r) => r,
            Err(e) => {
                let c = clip(constraint);
                self.warn(
                    line,
                    format!("`{name}`: invalid Poetry constraint `{c}`: {e}"),
                );
                Requirement::NotChecked {
                    reason: format!("unreadable Poetry constraint `{c}`"),
                }
            }
        };
        self.dep(name, requirement, line, scope, markers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::{Version, VersionSet};

    fn ver(s: &str) -> Version {
        Ecosystem::PyPI.parse_version(s).unwrap()
    }

    fn parse_str(text: &str) -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pyproject.toml");
        std::fs::write(&p, text).unwrap();
        parse(&p).unwrap()
    }

    fn find<'a>(m: &'a Manifest, name: &str) -> &'a Dependency {
        m.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} not in {:?}", m.dependencies))
    }

    fn range(d: &Dependency) -> (&str, &VersionSet) {
        match &d.requirement {
            Requirement::Range { text, set } => (text, set),
            other => panic!("{}: not a range: {other:?}", d.name),
        }
    }

    fn pinned(d: &Dependency) -> &str {
        match &d.requirement {
            Requirement::Pinned { text, .. } => text,
            other => panic!("{}: not pinned: {other:?}", d.name),
        }
    }

    #[test]
    fn pep621_and_extras() {
        let m = parse_str(
            r#"
[project]
name = "demo"
dependencies = [
    "requests>=2.31,<3",
    "Flask_Limiter==3.5.0",
    "tomli>=2 ; python_version < '3.11'",
    "pkg @ https://example.com/pkg-1.0.tar.gz",
    "not a requirement!",
    42,
]

[project.optional-dependencies]
socks = ["PySocks==1.7.1"]
"#,
        );
        let r = find(&m, "requests");
        assert_eq!(
            (range(r).0, r.line, r.scope.as_deref()),
            (">=2.31,<3", 5, None)
        );
        assert_eq!(pinned(find(&m, "Flask_Limiter")), "3.5.0");
        assert_eq!(
            find(&m, "tomli").markers.as_deref(),
            Some("python_version < '3.11'")
        );
        assert!(matches!(
            find(&m, "pkg").requirement,
            Requirement::NotChecked { .. }
        ));
        let s = find(&m, "PySocks");
        assert_eq!((s.scope.as_deref(), s.line), (Some("socks"), 14));
        assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains(":9: project.dependencies: invalid requirement"),
            "{:?}",
            m.warnings
        );
        assert!(m.warnings[1].contains(
            ":10: project.dependencies: expected a requirement string, found an integer"
        ));
    }

    #[test]
    fn tool_uv_dev_dependencies_are_read_as_dev() {
        let m = parse_str(
            "[project]\nname = \"x\"\ndependencies = [\"idna==3.7\"]\n\n[tool.uv]\ndev-dependencies = [\n  \"pytest==7.1.1\",\n  \"ruff>=0.5\",\n]\n",
        );
        assert_eq!(m.dependencies.len(), 3, "{:?}", m.dependencies);
        let p = find(&m, "pytest");
        assert_eq!(
            (pinned(p), p.line, p.scope.as_deref()),
            ("7.1.1", 7, Some("dev"))
        );
        assert_eq!(find(&m, "ruff").scope.as_deref(), Some("dev"));
        assert_eq!(find(&m, "idna").scope, None);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        let m = parse_str("[tool.uv]\ndev-dependencies = \"pytest\"\n");
        assert!(
            m.warnings[0].contains(":2: tool.uv.dev-dependencies: expected an array"),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn dynamic_dependencies_are_a_warning() {
        let m = parse_str("[project]\nname = \"x\"\ndynamic = [\"version\", \"dependencies\"]\n");
        assert!(m.dependencies.is_empty());
        assert_eq!(m.warnings.len(), 1);
        assert!(
            m.warnings[0].contains(":3: `project.dependencies` is dynamic"),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn dependency_groups_with_include_group() {
        let m = parse_str(
            r#"
[dependency-groups]
test = ["pytest>=8", {include-group = "Lint"}]
lint = ["ruff==0.5.0", {include-group = "test"}]
docs = [{include-group = "nope"}, "mkdocs"]
"#,
        );
        assert_eq!(
            m.dependencies.len(),
            3,
            "each declaration once: {:?}",
            m.dependencies
        );
        let p = find(&m, "pytest");
        assert_eq!((p.scope.as_deref(), p.line), (Some("test"), 3));
        let r = find(&m, "ruff");
        assert_eq!(
            (r.scope.as_deref(), r.line, pinned(r)),
            (Some("lint"), 4, "0.5.0")
        );
        assert_eq!(find(&m, "mkdocs").scope.as_deref(), Some("docs"));
        assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
        assert!(
            m.warnings
                .iter()
                .any(|w| w.contains(":5: dependency group `docs` includes unknown group `nope`"))
        );
        assert!(
            m.warnings.iter().any(|w| w.contains("(cycle)")),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn self_include_is_a_cycle_not_a_hang() {
        let m = parse_str("[dependency-groups]\na = [{include-group = \"a\"}, \"x\"]\n");
        assert_eq!(m.dependencies.len(), 1);
        assert_eq!(m.warnings.len(), 1);
        assert!(
            m.warnings[0].contains("`a` includes `a`"),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn poetry_constraints() {
        let m = parse_str(
            r#"
[tool.poetry.dependencies]
python = "^3.10"
requests = "^2.31"
tilde = "~1.2.3"
exact = "2.31.0"
exact-eq = "==1.0"
star = "*"
multi = ">=1.0,<2.0 || ^3.1"
opt = { version = "^0.2.3", optional = true, markers = "sys_platform == 'linux'" }
local = { path = "../local", develop = true }
vcs = { git = "https://github.com/org/vcs.git", branch = "main" }
remote = { url = "https://example.com/remote-1.0.whl" }
split = [
    { version = "<=1.9", python = ">=3.6,<3.8" },
    { version = "^2.0", python = ">=3.8" },
]
broken = "^not-a-version"

[tool.poetry.dev-dependencies]
black = "^24.1"

[tool.poetry.group.test.dependencies]
pytest = ">=8.0"
"#,
        );
        assert!(m.dependencies.iter().all(|d| d.name != "python"));
        let r = find(&m, "requests");
        assert_eq!(r.line, 4);
        let (text, set) = range(r);
        assert_eq!(text, "^2.31");
        assert!(
            set.contains(&ver("2.99")) && !set.contains(&ver("3.0")) && !set.contains(&ver("2.30"))
        );
        let (_, set) = range(find(&m, "tilde"));
        assert!(set.contains(&ver("1.2.9")) && !set.contains(&ver("1.3.0")));
        assert_eq!(pinned(find(&m, "exact")), "2.31.0");
        assert_eq!(pinned(find(&m, "exact-eq")), "1.0");
        assert_eq!(*range(find(&m, "star")).1, VersionSet::full());
        let (_, set) = range(find(&m, "multi"));
        assert!(
            set.contains(&ver("1.5")) && !set.contains(&ver("2.5")) && set.contains(&ver("3.2"))
        );
        let o = find(&m, "opt");
        assert!(!range(o).1.contains(&ver("0.3.0")));
        assert_eq!(o.markers.as_deref(), Some("sys_platform == 'linux'"));
        for (name, what) in [
            ("local", "path dependency"),
            ("vcs", "git dependency"),
            ("remote", "URL dependency"),
        ] {
            match &find(&m, name).requirement {
                Requirement::NotChecked { reason } => assert!(reason.starts_with(what), "{reason}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        let split: Vec<_> = m
            .dependencies
            .iter()
            .filter(|d| d.name == "split")
            .collect();
        assert_eq!(split.len(), 2);
        assert_eq!(split[0].line, 14);
        assert!(matches!(
            find(&m, "broken").requirement,
            Requirement::NotChecked { .. }
        ));
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains(":18: `broken`: invalid Poetry constraint"),
            "{:?}",
            m.warnings
        );
        assert_eq!(find(&m, "black").scope.as_deref(), Some("dev"));
        assert_eq!(find(&m, "pytest").scope.as_deref(), Some("test"));
        assert_eq!(find(&m, "pytest").line, 24);
    }

    #[test]
    fn invalid_toml_is_an_error_with_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pyproject.toml");
        std::fs::write(
            &p,
            "[project]\nname = \"x\"\ndependencies = [\n\"a\",\n= oops\n",
        )
        .unwrap();
        let e = parse(&p).unwrap_err();
        assert!(
            matches!(e, ManifestError::Parse { line: Some(_), .. }),
            "{e}"
        );
        // Deep nesting and long garbage are errors, not crashes.
        std::fs::write(&p, format!("a = {}", "[".repeat(100_000))).unwrap();
        assert!(parse(&p).is_err());
        std::fs::write(&p, "\u{1}".repeat(1_000_000)).unwrap();
        let e = parse(&p).unwrap_err().to_string();
        assert!(e.len() < 1_000, "{e}");
    }

    const CORPUS: &str = "../shared/corpus/manifests";

    fn corpus(rel: &str) -> Manifest {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS).join(rel);
        parse(&p).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    #[test]
    fn corpus_home_assistant() {
        let m = corpus("home-assistant/pyproject.toml");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 39);
        let a = find(&m, "aiohttp_cors");
        assert_eq!((pinned(a), a.line), ("0.7.0", 28));
        let c = find(&m, "certifi");
        assert_eq!((range(c).0, c.line), (">=2021.5.30", 38));
        assert_eq!(range(find(&m, "urllib3")).0, ">=1.26.5,<2");
        assert_eq!(pinned(find(&m, "SQLAlchemy")), "2.0.31");
        assert!(m.dependencies.iter().all(|d| d.scope.is_none()));
    }

    #[test]
    fn corpus_airflow_dynamic() {
        let m = corpus("airflow/pyproject.toml");
        assert!(m.dependencies.is_empty());
        assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains("pyproject.toml:66: `project.dependencies` is dynamic"),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn corpus_uv_dependency_groups() {
        let m = corpus("uv/pyproject.toml");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 15);
        let b = find(&m, "black");
        assert_eq!(
            (range(b).0, b.line, b.scope.as_deref()),
            (">=23.10.0", 101, Some("docs"))
        );
        let r = find(&m, "rooster");
        assert_eq!((pinned(r), r.scope.as_deref()), ("0.1.1", Some("release")));
        let v = find(&m, "validate-pyproject");
        assert_eq!((range(v).0, v.scope.as_deref()), (">=0.25", Some("check")));
    }

    #[test]
    fn corpus_poetry_project() {
        let m = corpus("poetry/pyproject.toml");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        let main: Vec<_> = m
            .dependencies
            .iter()
            .filter(|d| d.scope.is_none())
            .collect();
        assert_eq!(main.len(), 22);
        let core = find(&m, "poetry-core");
        assert_eq!(core.line, 7);
        assert!(matches!(core.requirement, Requirement::NotChecked { .. }));
        let b = find(&m, "build");
        assert_eq!((range(b).0, b.line), (">=1.2.1,<2.0.0", 8));
        let x = find(&m, "xattr");
        assert_eq!(x.markers.as_deref(), Some("sys_platform == 'darwin'"));
        let d: Vec<_> = m
            .dependencies
            .iter()
            .filter(|d| d.name == "dulwich")
            .collect();
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].scope.as_deref(), Some("test"));
        assert_eq!(range(d[1]).0, ">=1.2.1");
        let x = find(&m, "pytest-xdist");
        assert_eq!(
            (range(x).0, x.line, x.scope.as_deref()),
            (">=3.1", 84, Some("test"))
        );
        let g = find(&m, "pytest-github-actions-annotate-failures");
        assert_eq!(
            (range(g).0, g.scope.as_deref()),
            ("^0.1.7", Some("github-actions"))
        );
        assert!(!range(g).1.contains(&ver("0.2.0")));
        assert_eq!(m.dependencies.len(), 22 + 1 + 10 + 2 + 1);
    }
}
