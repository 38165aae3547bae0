//! Trusted Cargo workspace resolution through `cargo metadata`.
//!
//! A `Cargo.lock` records which packages are locked and what depends on what, but not *how*:
//! whether a crate is a normal, build or dev dependency, and which workspace member pulls it
//! in. Cargo knows, so with `--trusted-workspace` depwatch asks it:
//! `cargo metadata --format-version 1 --offline --locked`, run in the lockfile's directory.
//!
//! # Why this is behind a flag
//!
//! `cargo metadata` is not a passive reader. It loads the scanned repository's
//! `.cargo/config.toml` and runs the compiler it names (`build.rustc`,
//! `build.rustc-wrapper`, `RUSTC_WRAPPER`-style settings) to learn the target's `cfg` values.
//! On an untrusted checkout that means executing code chosen by whoever wrote the repository
//! (the same problem as rustsec/rustsec#1342). depwatch's default scan therefore only *reads*
//! files; this module is used only when the user states the checkout is trusted
//! ([`super::ParseOptions::trusted_workspace`]). `--offline --locked` keep cargo from touching
//! the network or rewriting the lockfile; a failure is reported as a warning by the caller.
//!
//! # Attribution rules
//!
//! A path from a workspace member has the kind of its *weakest* edge (`dev` < `build` <
//! `normal`: a normal dependency of a build-dependency is only needed to build, a build
//! dependency of a dev-dependency only to test). A package gets the *strongest* kind over all
//! its paths. Its member is the workspace member nearest to it (breadth-first, members in name
//! order) among the paths of that strongest kind. Members themselves are `normal` and their
//! own member. Platform-specific (`[target.'cfg(..)']`) edges count like any other.

use cargo_metadata::{DependencyKind, MetadataCommand};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::Path;

/// How a package is used by the workspace, weakest first (so `max` picks the strongest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DepKind {
    /// Only needed by tests, examples and benches (`[dev-dependencies]`).
    Dev,
    /// Only needed to build (`[build-dependencies]`, build scripts, proc macros' builds).
    Build,
    /// Linked into the workspace's artifacts.
    Normal,
}

impl DepKind {
    /// The scope string used in [`super::Dependency::scope`]: `normal`, `build`, `dev`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Build => "build",
            Self::Normal => "normal",
        }
    }
}

impl fmt::Display for DepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one package enters the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// The strongest kind over all paths from a member.
    pub kind: DepKind,
    /// The workspace member (package name) it enters through.
    pub member: String,
}

/// The resolved workspace: attribution per `(package name, version)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workspace {
    /// Names of the workspace members, sorted.
    pub members: Vec<String>,
    /// Attribution of every package reachable from a member, keyed by name and version as
    /// written in `Cargo.lock` (two sources locking the same name and version share a key;
    /// the stronger attribution wins).
    pub packages: BTreeMap<(String, String), Attribution>,
}

impl Workspace {
    /// Attribution of `name` at `version`, if it is reachable from a member.
    pub fn get(&self, name: &str, version: &str) -> Option<&Attribution> {
        self.packages.get(&(name.to_string(), version.to_string()))
    }
}

/// `cargo metadata` could not be run or understood.
#[derive(Debug, thiserror::Error)]
#[error("cargo metadata failed in {dir}: {message}")]
pub struct WorkspaceError {
    /// The directory it ran in.
    pub dir: String,
    /// What went wrong (shortened).
    pub message: String,
}

/// Run `cargo metadata --format-version 1 --offline --locked` in `manifest_dir` and attribute
/// every package of the resolve graph. **Executes the repository's cargo configuration**: call
/// it only for trusted checkouts (see the module documentation).
pub fn resolve(manifest_dir: &Path) -> Result<Workspace, WorkspaceError> {
    let dir = if manifest_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        manifest_dir
    };
    let err = |message: String| WorkspaceError {
        dir: dir.display().to_string(),
        message: crate::text::shorten(
            &message.split_whitespace().collect::<Vec<_>>().join(" "),
            600,
        ),
    };
    let metadata = MetadataCommand::new()
        .current_dir(dir)
        .other_options(vec!["--offline".to_string(), "--locked".to_string()])
        .exec()
        .map_err(|e| err(e.to_string()))?;
    let resolve = metadata
        .resolve
        .as_ref()
        .ok_or_else(|| err("no dependency graph in the output".to_string()))?;

    // Package id -> (name, version).
    let ids: BTreeMap<&str, (String, String)> = metadata
        .packages
        .iter()
        .map(|p| {
            (
                p.id.repr.as_str(),
                (p.name.to_string(), p.version.to_string()),
            )
        })
        .collect();
    let mut edges: BTreeMap<String, Vec<(String, DepKind)>> = BTreeMap::new();
    for node in &resolve.nodes {
        let out = edges.entry(node.id.repr.clone()).or_default();
        for dep in &node.deps {
            let kind = dep
                .dep_kinds
                .iter()
                .map(|k| match k.kind {
                    DependencyKind::Development => DepKind::Dev,
                    DependencyKind::Build => DepKind::Build,
                    // `Normal`, and kinds a newer cargo may add: counted as normal, which
                    // over-states rather than hides a risk.
                    _ => DepKind::Normal,
                })
                .max()
                // Very old cargo versions gave no `dep_kinds`: the edge exists, kind unknown.
                .unwrap_or(DepKind::Normal);
            out.push((dep.pkg.repr.clone(), kind));
        }
    }
    let members: Vec<String> = metadata
        .workspace_members
        .iter()
        .map(|m| m.repr.clone())
        .collect();
    let by_id = attribute(&members, &edges);

    let mut ws = Workspace::default();
    let name_of = |id: &str| {
        ids.get(id)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| id.to_string())
    };
    ws.members = members.iter().map(|m| name_of(m)).collect();
    ws.members.sort();
    ws.members.dedup();
    for (id, (kind, member)) in by_id {
        let Some((name, version)) = ids.get(id.as_str()) else {
            continue;
        };
        let new = Attribution {
            kind,
            member: name_of(&member),
        };
        ws.packages
            .entry((name.clone(), version.clone()))
            .and_modify(|old| {
                if new.kind > old.kind {
                    *old = new.clone();
                }
            })
            .or_insert(new);
    }
    Ok(ws)
}

/// Attribute each node reachable from `members`: `(kind, member)` per node id, following the
/// rules of the module documentation. `edges` maps a node to `(dependency, edge kind)`.
/// Dev edges are followed only out of members (Cargo resolves no other dev-dependencies).
pub fn attribute(
    members: &[String],
    edges: &BTreeMap<String, Vec<(String, DepKind)>>,
) -> BTreeMap<String, (DepKind, String)> {
    let mut sorted: Vec<&String> = members.iter().collect();
    sorted.sort();
    sorted.dedup();
    let member_set: BTreeSet<&str> = sorted.iter().map(|m| m.as_str()).collect();
    let mut out: BTreeMap<String, (DepKind, String)> = BTreeMap::new();
    // One breadth-first pass per level, strongest first: a pass follows only edges at least
    // as strong as its level, so what it reaches has a path of that kind.
    for level in [DepKind::Normal, DepKind::Build, DepKind::Dev] {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue: VecDeque<&str> = VecDeque::new();
        for m in &sorted {
            if seen.insert(m.as_str(), m.as_str()).is_none() {
                queue.push_back(m.as_str());
            }
        }
        while let Some(node) = queue.pop_front() {
            let from_member = member_set.contains(node);
            let member = seen.get(node).copied().unwrap_or(node);
            for (child, kind) in edges.get(node).map(Vec::as_slice).unwrap_or_default() {
                if *kind < level || (*kind == DepKind::Dev && !from_member) {
                    continue;
                }
                if !seen.contains_key(child.as_str()) {
                    seen.insert(child.as_str(), member);
                    queue.push_back(child.as_str());
                }
            }
        }
        for (node, member) in seen {
            out.entry(node.to_string())
                .or_insert_with(|| (level, member.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str, DepKind)]) -> BTreeMap<String, Vec<(String, DepKind)>> {
        let mut g: BTreeMap<String, Vec<(String, DepKind)>> = BTreeMap::new();
        for (from, to, kind) in edges {
            g.entry(from.to_string())
                .or_default()
                .push((to.to_string(), *kind));
        }
        g
    }

    fn get<'a>(a: &'a BTreeMap<String, (DepKind, String)>, n: &str) -> (DepKind, &'a str) {
        let (k, m) = a.get(n).unwrap_or_else(|| panic!("{n} not attributed"));
        (*k, m.as_str())
    }

    #[test]
    fn weakest_edge_strongest_path_nearest_member() {
        use DepKind::*;
        let g = graph(&[
            ("app", "lib", Normal),
            ("app", "testkit", Dev),
            ("testkit", "cc", Normal),
            ("lib", "build-helper", Build),
            ("build-helper", "cc", Normal),
            ("tool", "only-dev", Dev),
            ("lib", "deep", Normal),
            ("deep", "deeper", Normal),
            ("tool", "deeper", Normal),
            // A dev edge out of a non-member is not followed.
            ("lib", "ignored", Dev),
            ("app", "tool", Normal),
        ]);
        let a = attribute(&["tool".to_string(), "app".to_string()], &g);
        assert_eq!(get(&a, "app"), (Normal, "app"));
        assert_eq!(get(&a, "tool"), (Normal, "tool"));
        assert_eq!(get(&a, "lib"), (Normal, "app"));
        assert_eq!(get(&a, "testkit"), (Dev, "app"));
        // cc: dev via testkit, build via lib -> build-helper: build wins.
        assert_eq!(get(&a, "cc"), (Build, "app"));
        assert_eq!(get(&a, "build-helper"), (Build, "app"));
        assert_eq!(get(&a, "only-dev"), (Dev, "tool"));
        // deeper: two hops from app, one from tool (itself a member reached from app).
        assert_eq!(get(&a, "deeper"), (Normal, "tool"));
        assert!(!a.contains_key("ignored"));
        assert_eq!(a.len(), 9);
    }

    #[test]
    fn scope_strings() {
        assert_eq!(DepKind::Normal.as_str(), "normal");
        assert_eq!(DepKind::Build.to_string(), "build");
        assert_eq!(DepKind::Dev.as_str(), "dev");
        assert!(DepKind::Normal > DepKind::Build && DepKind::Build > DepKind::Dev);
    }

    #[test]
    fn resolve_failure_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve(dir.path()).unwrap_err();
        assert!(err.message.contains("Cargo.toml"), "{err}");
        assert!(!err.message.contains('\n'));
    }
}
