//! `Cargo.toml` without a lockfile: the declared requirements.
//!
//! Sections read:
//!
//! * `[dependencies]` (no scope), `[dev-dependencies]` (scope `dev`), `[build-dependencies]`
//!   (scope `build`), and their legacy spellings `dev_dependencies` / `build_dependencies`;
//! * the same three under `[target.'cfg(..)']` / `[target.<triple>]`, with the target as
//!   written in `markers` (`cfg(windows)`);
//! * `[workspace.dependencies]` when the file is a workspace root (no scope).
//!
//! Each declaration becomes one [`Dependency`] named after the real package (`foo = { package
//! = "bar", version = "1" }` is `bar`), at the line of its key, with `via = None` (a manifest
//! carries no graph). Its requirement:
//!
//! * `git = ...`: `NotChecked`, `"git dependency (not from crates.io)"`, even with a
//!   `version`;
//! * an exact `=1.2.3` (one `=` comparator with all three numbers): [`Requirement::Pinned`]
//!   at that version (text `1.2.3`), as `==` is in Python, so an affected pin is a finding;
//! * `registry = "<name other than crates-io>"` or `registry-index = ...`: `NotChecked`,
//!   `"package from another registry"`;
//! * a `version` (a plain string is a version): [`Requirement::Range`], text as written
//!   (`"1.2"`, meaning `^1.2`), set from Cargo's requirement semantics. This includes `path` +
//!   `version`, which is what gets published to crates.io. A requirement that does not parse
//!   is `NotChecked` plus a warning `file:line: ...`;
//! * `path` alone: `NotChecked`, `"path dependency (not from crates.io)"`;
//! * `workspace = true` (also as `dep.workspace = true`): the entry of the same key in
//!   `[workspace.dependencies]` of the workspace root (its version, `package`, path, git and
//!   registry), judged by the rules above. The root is this file when it has `[workspace]`,
//!   else the directory named by `package.workspace`, else the first parent directory whose
//!   `Cargo.toml` has a `[workspace]` table. A root or entry that cannot be found gives
//!   `NotChecked` and a warning.
//!
//! Problems with one declaration are warnings; only a file that is not TOML is an error.

use super::{
    Dependency, Manifest, ManifestError, ManifestKind, Requirement, line_of_offset, read_text,
};
use crate::ecosystem::{Ecosystem, cargo_req_to_set};
use semver::VersionReq;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

const REASON_GIT: &str = "git dependency (not from crates.io)";
const REASON_PATH: &str = "path dependency (not from crates.io)";
const REASON_OTHER_REGISTRY: &str = "package from another registry";

/// Dependency tables of a package (or of one target), with their scope.
const DEP_TABLES: &[(&str, Option<&str>)] = &[
    ("dependencies", None),
    ("dev-dependencies", Some("dev")),
    ("dev_dependencies", Some("dev")),
    ("build-dependencies", Some("build")),
    ("build_dependencies", Some("build")),
];

/// The format in [`super::registry::ALL`].
pub struct CargoToml;

impl super::registry::Format for CargoToml {
    fn kind(&self) -> ManifestKind {
        ManifestKind::CargoToml
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::CratesIo
    }

    fn file_name(&self) -> &'static str {
        "Cargo.toml"
    }

    fn looks_like(&self, content: &super::registry::Content<'_>) -> bool {
        use super::registry::{Content, toml_table};
        let Content::Toml(doc) = content else {
            return false;
        };
        // A table, not the lockfiles' `[[package]]` array.
        toml_table(doc, "package") || toml_table(doc, "workspace")
    }

    fn parse(&self, path: &Path, _opts: &super::ParseOptions) -> Result<Manifest, ManifestError> {
        parse(path)
    }
}

/// Parse a `Cargo.toml`.
pub fn parse(path: &Path) -> Result<Manifest, ManifestError> {
    let text = read_text(path)?;
    let doc = DeTable::parse(&text).map_err(|e| {
        let line = e.span().map(|s| line_of_offset(&text, s.start));
        ManifestError::parse(
            path,
            line,
            format!("invalid TOML: {}", crate::text::shorten(e.message(), 200)),
        )
    })?;
    let table = doc.get_ref();
    let mut p = Parser {
        path,
        text: &text,
        dependencies: Vec::new(),
        warnings: Vec::new(),
        workspace: None,
    };

    // This file's own `[workspace.dependencies]` (a workspace root).
    let own_workspace = table.get("workspace").and_then(|w| w.get_ref().as_table());
    if let Some(ws) = own_workspace {
        let deps = ws.get("dependencies");
        let entries = deps
            .map(|d| p.entries(d, "[workspace.dependencies]"))
            .unwrap_or_default();
        p.workspace = Some(Ok(WorkspaceDeps {
            root: path.to_path_buf(),
            deps: entries
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), DepSpec::read(v.get_ref())))
                .collect(),
        }));
        for (key, value) in entries {
            p.declaration(key, value, None, None, false);
        }
    }

    for &(section, scope) in DEP_TABLES {
        if let Some(deps) = table.get(section) {
            for (key, value) in p.entries(deps, &format!("[{section}]")) {
                p.declaration(key, value, scope, None, true);
            }
        }
    }

    if let Some(targets) = table.get("target") {
        match targets.get_ref().as_table() {
            Some(targets) => {
                for (target, body) in targets.iter() {
                    let Some(body) = body.get_ref().as_table() else {
                        p.warn(
                            target.span().start,
                            format!("[target.{}] is not a table", target.get_ref()),
                        );
                        continue;
                    };
                    for &(section, scope) in DEP_TABLES {
                        if let Some(deps) = body.get(section) {
                            let what = format!("[target.{}.{section}]", target.get_ref());
                            for (key, value) in p.entries(deps, &what) {
                                p.declaration(key, value, scope, Some(target.get_ref()), true);
                            }
                        }
                    }
                }
            }
            None => p.warn(targets.span().start, "[target] is not a table".to_string()),
        }
    }

    let mut dependencies = p.dependencies;
    dependencies.sort_by_key(|d| d.line);
    let mut warnings = p.warnings;
    warnings.sort_by_key(|(line, _)| *line);
    Ok(Manifest {
        path: path.to_path_buf(),
        kind: ManifestKind::CargoToml,
        dependencies,
        warnings: warnings.into_iter().map(|(_, w)| w).collect(),
    })
}

/// What one declaration says, independent of the file it is in.
#[derive(Debug, Clone, Default, PartialEq)]
struct DepSpec {
    /// `package = "..."`: the real package name.
    package: Option<String>,
    /// `version` (or the plain string form); `Err` when it is not a string.
    version: Option<Result<String, String>>,
    path: bool,
    git: bool,
    /// `registry = "..."` other than `crates-io`, or a `registry-index`.
    other_registry: bool,
    /// `workspace = true`.
    workspace: bool,
    /// Not a string nor a table.
    invalid: Option<String>,
}

impl DepSpec {
    fn read(value: &DeValue<'_>) -> Self {
        match value {
            DeValue::String(s) => Self {
                version: Some(Ok(s.to_string())),
                ..Self::default()
            },
            DeValue::Table(t) => {
                let string = |k: &str| {
                    t.get(k)
                        .and_then(|v| v.get_ref().as_str())
                        .map(str::to_string)
                };
                Self {
                    package: string("package"),
                    version: t.get("version").map(|v| match v.get_ref().as_str() {
                        Some(s) => Ok(s.to_string()),
                        None => Err(format!(
                            "version must be a string, found {}",
                            v.get_ref().type_str()
                        )),
                    }),
                    path: t.contains_key("path"),
                    git: t.contains_key("git"),
                    other_registry: t.contains_key("registry-index")
                        || string("registry").is_some_and(|r| r != "crates-io"),
                    workspace: t.get("workspace").and_then(|v| v.get_ref().as_bool()) == Some(true),
                    invalid: None,
                }
            }
            other => Self {
                invalid: Some(format!(
                    "must be a version string or a table, found {}",
                    other.type_str()
                )),
                ..Self::default()
            },
        }
    }
}

/// `[workspace.dependencies]` of a workspace root, owned (the root may be another file).
#[derive(Debug, Clone)]
struct WorkspaceDeps {
    root: PathBuf,
    deps: BTreeMap<String, DepSpec>,
}

/// The `(key, value)` pairs of a TOML table, borrowed from the document.
type Entries<'d, 'i> = Vec<(&'d Spanned<DeString<'i>>, &'d Spanned<DeValue<'i>>)>;

struct Parser<'a> {
    path: &'a Path,
    text: &'a str,
    dependencies: Vec<Dependency>,
    /// `(line, message)`, sorted by line at the end (tables are not visited in file order).
    warnings: Vec<(usize, String)>,
    /// The workspace root's dependencies: found on first use (`Err`: why not).
    workspace: Option<Result<WorkspaceDeps, String>>,
}

impl<'a> Parser<'a> {
    fn line(&self, offset: usize) -> usize {
        line_of_offset(self.text, offset)
    }

    fn warn(&mut self, offset: usize, message: String) {
        let line = self.line(offset);
        self.warnings
            .push((line, format!("{}:{line}: {message}", self.path.display())));
    }

    /// The entries of a dependency table (a warning when it is not a table).
    fn entries<'d, 'i>(&mut self, deps: &'d Spanned<DeValue<'i>>, what: &str) -> Entries<'d, 'i> {
        match deps.get_ref().as_table() {
            Some(t) => t.iter().collect(),
            None => {
                self.warn(deps.span().start, format!("{what} is not a table"));
                Vec::new()
            }
        }
    }

    /// One declaration `key = value`.
    fn declaration(
        &mut self,
        key: &Spanned<DeString<'_>>,
        value: &Spanned<DeValue<'_>>,
        scope: Option<&str>,
        target: Option<&str>,
        may_inherit: bool,
    ) {
        let offset = key.span().start;
        let line = self.line(offset);
        let key_name: &str = key.get_ref();
        let mut spec = DepSpec::read(value.get_ref());
        let mut from = String::new();
        if spec.workspace {
            if !may_inherit {
                self.warn(
                    offset,
                    format!("`{key_name}`: `workspace = true` inside [workspace.dependencies]"),
                );
                self.push(
                    key_name,
                    line,
                    scope,
                    target,
                    "invalid workspace inheritance",
                );
                return;
            }
            match self
                .workspace_deps()
                .map(|ws| (ws.root.clone(), ws.deps.get(key_name).cloned()))
            {
                Ok((root, Some(inherited))) => {
                    from = format!(" (inherited from {})", root.display());
                    // `package` comes from the workspace entry (Cargo forbids it next to
                    // `workspace = true`); the member may only add features and `optional`.
                    spec = DepSpec {
                        workspace: false,
                        ..inherited
                    };
                }
                Ok((root, None)) => {
                    self.warn(offset, format!("`{key_name}` inherits from the workspace, but {} has no `{key_name}` in [workspace.dependencies]", root.display()));
                    self.push(
                        key_name,
                        line,
                        scope,
                        target,
                        "workspace dependency not found",
                    );
                    return;
                }
                Err(why) => {
                    self.warn(
                        offset,
                        format!("`{key_name}` inherits from the workspace, but {why}"),
                    );
                    self.push(
                        key_name,
                        line,
                        scope,
                        target,
                        "workspace dependency not found",
                    );
                    return;
                }
            }
        }
        let name = spec.package.clone().unwrap_or_else(|| key_name.to_string());
        let requirement = if let Some(why) = &spec.invalid {
            self.warn(offset, format!("`{key_name}` {why}{from}"));
            not_checked("invalid dependency declaration")
        } else if spec.workspace {
            self.warn(
                offset,
                format!("`{key_name}`: `workspace = true` in a workspace dependency"),
            );
            not_checked("invalid workspace inheritance")
        } else if spec.git {
            not_checked(REASON_GIT)
        } else if spec.other_registry {
            not_checked(REASON_OTHER_REGISTRY)
        } else {
            match &spec.version {
                Some(Ok(text)) => match VersionReq::parse(text) {
                    Ok(req) => exact_pin(&req).unwrap_or_else(|| Requirement::Range {
                        text: text.clone(),
                        set: cargo_req_to_set(&req),
                    }),
                    Err(e) => {
                        self.warn(
                            offset,
                            format!(
                                "`{key_name}`: invalid version requirement {:?}{from}: {e}",
                                crate::text::shorten(text, 200)
                            ),
                        );
                        not_checked("unparsable version requirement")
                    }
                },
                Some(Err(why)) => {
                    self.warn(offset, format!("`{key_name}`: {why}{from}"));
                    not_checked("unparsable version requirement")
                }
                None if spec.path => not_checked(REASON_PATH),
                None => {
                    self.warn(
                        offset,
                        format!("`{key_name}` has no version, path or git source{from}"),
                    );
                    not_checked("no version requirement")
                }
            }
        };
        let mut dep = Dependency::new(Ecosystem::CratesIo, name, requirement, self.path, line);
        dep.scope = scope.map(str::to_string);
        dep.markers = target.map(str::to_string);
        self.dependencies.push(dep);
    }

    /// Record a `NotChecked` dependency named `key`.
    fn push(
        &mut self,
        key: &str,
        line: usize,
        scope: Option<&str>,
        target: Option<&str>,
        reason: &str,
    ) {
        let mut dep = Dependency::new(
            Ecosystem::CratesIo,
            key,
            not_checked(reason),
            self.path,
            line,
        );
        dep.scope = scope.map(str::to_string);
        dep.markers = target.map(str::to_string);
        self.dependencies.push(dep);
    }

    /// The workspace root's `[workspace.dependencies]`, searched for on first use.
    fn workspace_deps(&mut self) -> Result<&WorkspaceDeps, String> {
        if self.workspace.is_none() {
            self.workspace = Some(find_workspace(self.path, self.text));
        }
        match &self.workspace {
            Some(Ok(ws)) => Ok(ws),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no workspace root was found".to_string()),
        }
    }
}

/// `=1.2.3` (a single exact comparator naming major, minor and patch) admits one version:
/// a pin, matched as a finding like Python's `==`, not a range risk. `=1.2` is a range.
fn exact_pin(req: &VersionReq) -> Option<Requirement> {
    let [c] = req.comparators.as_slice() else {
        return None;
    };
    if c.op != semver::Op::Exact {
        return None;
    }
    let version = semver::Version {
        major: c.major,
        minor: c.minor?,
        patch: c.patch?,
        pre: c.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    };
    Some(Requirement::Pinned {
        text: version.to_string(),
        version: crate::ecosystem::Version::Semver(version),
    })
}

fn not_checked(reason: &str) -> Requirement {
    Requirement::NotChecked {
        reason: reason.to_string(),
    }
}

/// Find and read the workspace root of the member manifest `path` (whose text is `text`).
fn find_workspace(path: &Path, text: &str) -> Result<WorkspaceDeps, String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = dir
        .canonicalize()
        .or_else(|_| std::path::absolute(&dir))
        .unwrap_or(dir);
    // `package.workspace = "../.."` names the root explicitly.
    let explicit = DeTable::parse(text).ok().and_then(|doc| {
        doc.get_ref()
            .get("package")
            .and_then(|p| p.get_ref().as_table())
            .and_then(|p| p.get("workspace"))
            .and_then(|w| w.get_ref().as_str())
            .map(|w| dir.join(w).join("Cargo.toml"))
    });
    if let Some(root) = explicit {
        return read_workspace(&root)?.ok_or_else(|| {
            format!(
                "{} (named by package.workspace) has no [workspace] table",
                root.display()
            )
        });
    }
    for ancestor in dir.ancestors().skip(1) {
        let candidate = ancestor.join("Cargo.toml");
        if candidate.is_file()
            && let Some(ws) = read_workspace(&candidate)?
        {
            return Ok(ws);
        }
    }
    Err(format!(
        "no Cargo.toml with a [workspace] table was found above {}",
        dir.display()
    ))
}

/// `Ok(None)` when `root` is a manifest without `[workspace]`.
fn read_workspace(root: &Path) -> Result<Option<WorkspaceDeps>, String> {
    let text = read_text(root).map_err(|e| format!("the workspace root could not be read: {e}"))?;
    let doc = DeTable::parse(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| line_of_offset(&text, s.start))
            .unwrap_or(0);
        format!(
            "the workspace root {}:{line} is not valid TOML: {}",
            root.display(),
            crate::text::shorten(e.message(), 200)
        )
    })?;
    let Some(ws) = doc
        .get_ref()
        .get("workspace")
        .and_then(|w| w.get_ref().as_table())
    else {
        return Ok(None);
    };
    let deps = ws
        .get("dependencies")
        .and_then(|d| d.get_ref().as_table())
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), DepSpec::read(v.get_ref())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(WorkspaceDeps {
        root: root.to_path_buf(),
        deps,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }

    fn parse_text(text: &str) -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        write(&path, text);
        parse(&path).unwrap()
    }

    fn find<'m>(m: &'m Manifest, name: &str) -> &'m Dependency {
        let found: Vec<_> = m.dependencies.iter().filter(|d| d.name == name).collect();
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        found[0]
    }

    fn v(s: &str) -> crate::ecosystem::Version {
        Ecosystem::CratesIo.parse_version(s).unwrap()
    }

    /// The requirement text, after checking the set against `inside` / `outside` versions.
    fn range(d: &Dependency, inside: &str, outside: &str) -> String {
        match &d.requirement {
            Requirement::Range { text, set } => {
                assert!(
                    set.contains(&v(inside)),
                    "{} {text} should admit {inside}",
                    d.name
                );
                assert!(
                    !set.contains(&v(outside)),
                    "{} {text} should exclude {outside}",
                    d.name
                );
                text.clone()
            }
            other => panic!("{} is not a range: {other:?}", d.name),
        }
    }

    fn reason(d: &Dependency) -> &str {
        match &d.requirement {
            Requirement::NotChecked { reason } => reason,
            other => panic!("{} is checked: {other:?}", d.name),
        }
    }

    const PACKAGE: &str = r#"[package]
name = "demo"
version = "0.1.0"

[dependencies]
serde = "1.2"
tokio = { version = "~1.36", features = ["full"] }
json = { package = "serde_json", version = ">=1.0.100, <1.1" }
local = { path = "../local" }
published = { path = "../published", version = "0.3" }
from-git = { git = "https://github.com/example/from-git", branch = "main" }
git-and-version = { git = "https://github.com/example/x", version = "1" }
private = { version = "1", registry = "my-registry" }
explicit-crates-io = { version = "2.0.1", registry = "crates-io" }
bad = "not a version"
numeric = { version = 1 }
nothing = { features = ["x"] }

[dependencies.headered]
version = "=0.5.2"

[dev-dependencies]
proptest = "1"

[build-dependencies]
cc = "1.0.80"

[target.'cfg(windows)'.dependencies]
winapi = { version = "0.3", features = ["winuser"] }

[target.'cfg(unix)'.dev-dependencies]
nix = "0.27"

[target.x86_64-unknown-linux-gnu.build-dependencies]
pkg-config = "0.3.27"
"#;

    #[test]
    fn package_sections_and_requirements() {
        let m = parse_text(PACKAGE);
        assert_eq!(m.kind, ManifestKind::CargoToml);
        assert_eq!(m.dependencies.len(), 18);

        let serde = find(&m, "serde");
        assert_eq!(range(serde, "1.9.0", "2.0.0"), "1.2");
        assert_eq!(
            (serde.line, serde.scope.as_deref(), serde.via.as_ref()),
            (6, None, None)
        );
        assert_eq!(serde.ecosystem, Ecosystem::CratesIo);
        assert_eq!(range(find(&m, "tokio"), "1.36.9", "1.37.0"), "~1.36");
        // Renamed: the real package name, at the line of the key.
        let json = find(&m, "serde_json");
        assert_eq!(range(json, "1.0.100", "1.1.0"), ">=1.0.100, <1.1");
        assert_eq!(json.line, 8);
        assert!(m.dependencies.iter().all(|d| d.name != "json"));

        assert_eq!(reason(find(&m, "local")), REASON_PATH);
        assert_eq!(range(find(&m, "published"), "0.3.5", "0.4.0"), "0.3");
        assert_eq!(reason(find(&m, "from-git")), REASON_GIT);
        assert_eq!(reason(find(&m, "git-and-version")), REASON_GIT);
        assert_eq!(reason(find(&m, "private")), REASON_OTHER_REGISTRY);
        assert_eq!(
            range(find(&m, "explicit-crates-io"), "2.5.0", "2.0.0"),
            "2.0.1"
        );
        // An exact requirement is a pin.
        let headered = find(&m, "headered");
        assert_eq!(
            headered.requirement,
            Requirement::Pinned {
                version: v("0.5.2"),
                text: "0.5.2".into()
            }
        );
        assert_eq!(headered.line, 19);

        // Problems with one declaration are warnings with file:line.
        assert_eq!(reason(find(&m, "bad")), "unparsable version requirement");
        assert_eq!(
            reason(find(&m, "numeric")),
            "unparsable version requirement"
        );
        assert_eq!(reason(find(&m, "nothing")), "no version requirement");
        assert_eq!(m.warnings.len(), 3, "{:?}", m.warnings);
        let file = m.path.display().to_string();
        assert!(
            m.warnings[0].starts_with(&format!("{file}:15: `bad`")),
            "{:?}",
            m.warnings
        );
        assert!(
            m.warnings[1].starts_with(&format!("{file}:16: `numeric`")),
            "{:?}",
            m.warnings
        );
        assert!(
            m.warnings[2].starts_with(&format!("{file}:17: `nothing`")),
            "{:?}",
            m.warnings
        );

        let proptest = find(&m, "proptest");
        assert_eq!(
            (proptest.scope.as_deref(), proptest.line),
            (Some("dev"), 23)
        );
        let cc = find(&m, "cc");
        assert_eq!((cc.scope.as_deref(), cc.line), (Some("build"), 26));

        let winapi = find(&m, "winapi");
        assert_eq!(range(winapi, "0.3.9", "0.4.0"), "0.3");
        assert_eq!(winapi.markers.as_deref(), Some("cfg(windows)"));
        assert_eq!((winapi.scope.as_deref(), winapi.line), (None, 29));
        let nix = find(&m, "nix");
        assert_eq!(
            (nix.scope.as_deref(), nix.markers.as_deref()),
            (Some("dev"), Some("cfg(unix)"))
        );
        let pc = find(&m, "pkg-config");
        assert_eq!(
            (pc.scope.as_deref(), pc.markers.as_deref(), pc.line),
            (Some("build"), Some("x86_64-unknown-linux-gnu"), 35)
        );
        // Sorted by line.
        assert!(m.dependencies.windows(2).all(|w| w[0].line <= w[1].line));
    }

    #[test]
    fn exact_requirements_are_pins() {
        let m = parse_text(
            r#"[package]
name = "p"
version = "0.1.0"

[dependencies]
smallvec = "=0.6.9"
pre = { version = "= 1.0.0-alpha.1" }
two-parts = "=0.6"
bounded = "=1.0.0, <2"
plain = "0.6.9"
"#,
        );
        let pinned = |name: &str| match &find(&m, name).requirement {
            Requirement::Pinned { version, text } => (version.clone(), text.clone()),
            other => panic!("{name} is not pinned: {other:?}"),
        };
        assert_eq!(pinned("smallvec"), (v("0.6.9"), "0.6.9".to_string()));
        assert_eq!(find(&m, "smallvec").line, 6);
        assert_eq!(
            pinned("pre"),
            (v("1.0.0-alpha.1"), "1.0.0-alpha.1".to_string())
        );
        // `=0.6` admits every 0.6.x; two comparators stay a range; `0.6.9` means `^0.6.9`.
        assert_eq!(range(find(&m, "two-parts"), "0.6.3", "0.7.0"), "=0.6");
        assert_eq!(range(find(&m, "bounded"), "1.0.0", "1.0.1"), "=1.0.0, <2");
        assert_eq!(range(find(&m, "plain"), "0.6.10", "0.7.0"), "0.6.9");
    }

    #[test]
    fn workspace_inheritance_from_a_parent_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            &root.join("Cargo.toml"),
            r#"[workspace]
members = ["crates/*"]

[workspace.dependencies]
tokio = { version = "1.36", features = ["rt"] }
http-client = { package = "reqwest", version = "0.11" }
from-git = { git = "https://github.com/example/from-git" }
sibling = { path = "crates/sibling" }
sibling-published = { path = "crates/sp", version = "0.2.0" }
"#,
        );
        // A manifest without [workspace] between member and root is skipped.
        write(
            &root.join("crates/Cargo.toml"),
            "[package]\nname = \"not-the-root\"\nversion = \"0.0.0\"\n",
        );
        let member = root.join("crates/member/Cargo.toml");
        write(
            &member,
            r#"[package]
name = "member"
version.workspace = true

[dependencies]
tokio = { workspace = true, features = ["macros"] }
http-client.workspace = true
from-git = { workspace = true }
sibling = { workspace = true }
sibling-published = { workspace = true }
missing = { workspace = true }

[dev-dependencies.tokio]
workspace = true
"#,
        );
        let m = parse(&member).unwrap();
        let tokio: Vec<_> = m
            .dependencies
            .iter()
            .filter(|d| d.name == "tokio")
            .collect();
        assert_eq!(tokio.len(), 2);
        assert_eq!(range(tokio[0], "1.40.0", "2.0.0"), "1.36");
        assert_eq!((tokio[0].line, tokio[0].scope.as_deref()), (6, None));
        assert_eq!(
            (tokio[1].line, tokio[1].scope.as_deref()),
            (13, Some("dev"))
        );
        assert_eq!(tokio[0].file, member);
        // The rename comes from the workspace entry.
        let reqwest = find(&m, "reqwest");
        assert_eq!(range(reqwest, "0.11.27", "0.12.0"), "0.11");
        assert_eq!(reqwest.line, 7);
        assert_eq!(reason(find(&m, "from-git")), REASON_GIT);
        assert_eq!(reason(find(&m, "sibling")), REASON_PATH);
        assert_eq!(
            range(find(&m, "sibling-published"), "0.2.1", "0.3.0"),
            "0.2.0"
        );
        assert_eq!(
            reason(find(&m, "missing")),
            "workspace dependency not found"
        );
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains(":11: `missing` inherits from the workspace"),
            "{:?}",
            m.warnings
        );
        assert!(
            m.warnings[0].contains("has no `missing`"),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn workspace_root_with_its_own_package() {
        let m = parse_text(
            r#"[package]
name = "root"
version = "0.1.0"

[dependencies]
anyhow = { workspace = true }

[workspace]
members = ["."]

[workspace.dependencies]
anyhow = "1.0.75"
bogus = { workspace = true }
"#,
        );
        let anyhow: Vec<_> = m
            .dependencies
            .iter()
            .filter(|d| d.name == "anyhow")
            .collect();
        assert_eq!(anyhow.len(), 2);
        assert_eq!((anyhow[0].line, anyhow[1].line), (6, 12));
        assert_eq!(range(anyhow[0], "1.0.99", "1.0.74"), "1.0.75");
        assert_eq!(range(anyhow[1], "1.0.99", "1.0.74"), "1.0.75");
        assert_eq!(reason(find(&m, "bogus")), "invalid workspace inheritance");
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
    }

    #[test]
    fn explicit_package_workspace_and_missing_root() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("elsewhere/Cargo.toml"),
            "[workspace]\n[workspace.dependencies]\nlog = \"0.4.20\"\n",
        );
        let member = dir.path().join("member/Cargo.toml");
        write(
            &member,
            "[package]\nname = \"m\"\nworkspace = \"../elsewhere\"\n\n[dependencies]\nlog = { workspace = true }\n",
        );
        let m = parse(&member).unwrap();
        assert_eq!(range(find(&m, "log"), "0.4.21", "0.5.0"), "0.4.20");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);

        // No workspace root anywhere above: NotChecked plus a warning.
        let lonely = dir.path().join("lonely/Cargo.toml");
        write(
            &lonely,
            "[package]\nname = \"l\"\n\n[dependencies]\nlog = { workspace = true }\n",
        );
        let m = parse(&lonely).unwrap();
        assert_eq!(reason(find(&m, "log")), "workspace dependency not found");
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains(":5: `log` inherits"),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn invalid_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        write(
            &path,
            "[package]\nname = \"x\"\n[dependencies\nserde = \"1\"\n",
        );
        match parse(&path) {
            Err(ManifestError::Parse { line, .. }) => assert_eq!(line, Some(3)),
            other => panic!("{other:?}"),
        }
        std::fs::write(&path, [b'[', 0xff, 0xfe, b']']).unwrap();
        assert!(matches!(
            parse(&path),
            Err(ManifestError::Parse { line: Some(1), .. })
        ));
        // Wrong shapes are warnings, not errors.
        let m = parse_text("dependencies = 5\ntarget = \"x\"\n[dev-dependencies]\nfoo = [1]\n");
        assert_eq!(reason(find(&m, "foo")), "invalid dependency declaration");
        assert_eq!(m.warnings.len(), 3, "{:?}", m.warnings);
        // A huge requirement is not echoed whole.
        let huge = "9".repeat(10 * 1024 * 1024);
        let m = parse_text(&format!("[dependencies]\nbig = \"^{huge}\"\n"));
        assert_eq!(m.dependencies.len(), 1);
        assert!(m.warnings.iter().all(|w| w.len() < 1000));
    }

    const CORPUS: &str = "../shared/corpus/manifests";

    #[test]
    fn corpus_uv_workspace_root() {
        let m = parse(&Path::new(CORPUS).join("uv/Cargo.toml")).unwrap();
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        // 223 [workspace.dependencies] entries, all with a version (67 also with a path).
        assert_eq!(m.dependencies.len(), 223);
        assert!(
            m.dependencies
                .iter()
                .all(|d| matches!(d.requirement, Requirement::Range { .. }))
        );
        let tokio = find(&m, "tokio");
        assert_eq!(
            (range(tokio, "1.53.1", "1.39.0"), tokio.line),
            ("1.40.0".to_string(), 267)
        );
        let uv = find(&m, "uv");
        assert_eq!(
            (range(uv, "0.12.5", "0.13.0"), uv.line),
            ("0.12.5".to_string(), 19)
        );
        // Renamed entries use the real package name.
        let zip = find(&m, "astral_async_zip");
        assert_eq!(
            (range(zip, "0.0.20", "0.0.21"), zip.line),
            ("0.0.20".to_string(), 111)
        );
        assert!(m.dependencies.iter().all(|d| d.name != "async_zip"));
        assert_eq!(
            range(find(&m, "blake2"), "0.11.0-rc.6", "0.11.0-rc.5"),
            "0.11.0-rc.6"
        );
    }
}
