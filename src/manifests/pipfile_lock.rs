//! `Pipfile.lock` (pipenv): JSON with `default` (no scope) and `develop` (scope `dev`) maps of
//! package name to `{"version": "==x", "markers": "…", "hashes": […]}`.
//!
//! `==x` (or `===x`) is pinned; `git` / `hg` / `svn` / `bzr` / `path` / `file` entries and
//! entries without a version are not checked. The line is the line of the package's key
//! (found by a small scan of the JSON text, since serde_json keeps no positions). No graph.

use super::clip;
use super::requirements_txt::parse_pep508;
use super::{Dependency, Manifest, ManifestError, ManifestKind, Requirement, read_text};
use crate::ecosystem::{Ecosystem, VersionSet};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The sections read, with their scope.
const SECTIONS: &[(&str, Option<&str>)] = &[("default", None), ("develop", Some("dev"))];

/// The format in [`super::registry::ALL`].
pub struct PipfileLock;

impl super::registry::Format for PipfileLock {
    fn kind(&self) -> ManifestKind {
        ManifestKind::PipfileLock
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn file_name(&self) -> &'static str {
        "Pipfile.lock"
    }

    fn looks_like(&self, content: &super::registry::Content<'_>) -> bool {
        let super::registry::Content::Json(doc) = content else {
            return false;
        };
        doc.contains_key("_meta") && (doc.contains_key("default") || doc.contains_key("develop"))
    }

    fn parse(&self, path: &Path, _opts: &super::ParseOptions) -> Result<Manifest, ManifestError> {
        parse(path)
    }
}

/// `_meta.sources` as (name, url) pairs, in order; malformed entries are skipped.
fn meta_sources(doc: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    doc.get("_meta")
        .and_then(|m| m.get("sources"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|s| {
                    let name = s.get("name").and_then(Value::as_str)?;
                    let url = s.get("url").and_then(Value::as_str)?;
                    Some((name.to_string(), url.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parse the file.
pub fn parse(path: &Path) -> Result<Manifest, ManifestError> {
    let text = read_text(path)?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        let line = (e.line() > 0).then_some(e.line());
        ManifestError::parse(
            path,
            line,
            format!("invalid JSON: {}", clip(&e.to_string())),
        )
    })?;
    let Some(doc) = doc.as_object() else {
        return Err(ManifestError::parse(
            path,
            Some(1),
            "expected a JSON object",
        ));
    };
    let lines = key_lines(&text);
    let sources = meta_sources(doc);
    let mut dependencies = Vec::new();
    let mut warnings = Vec::new();
    for (section, scope) in SECTIONS {
        let Some(value) = doc.get(*section) else {
            continue;
        };
        let Some(packages) = value.as_object() else {
            let line = lines
                .get(&(String::new(), (*section).to_string()))
                .copied()
                .unwrap_or(0);
            warnings.push(format!(
                "{}:{line}: `{section}` is not an object: skipped",
                path.display()
            ));
            continue;
        };
        for (name, entry) in packages {
            let line = lines
                .get(&((*section).to_string(), name.clone()))
                .copied()
                .unwrap_or(0);
            let Some(entry) = entry.as_object() else {
                warnings.push(format!(
                    "{}:{line}: `{}` is not an object: skipped",
                    path.display(),
                    clip(name)
                ));
                continue;
            };
            let requirement = requirement(entry).unwrap_or_else(|e| {
                warnings.push(format!("{}:{line}: `{}`: {e}", path.display(), clip(name)));
                Requirement::NotChecked {
                    reason: format!("unreadable version: {e}"),
                }
            });
            let mut dep = Dependency::new(Ecosystem::PyPI, name, requirement, path, line);
            // A package's `index` names one of `_meta.sources`; without one, pipenv uses
            // the first source.
            let url = match entry.get("index").and_then(Value::as_str) {
                Some(index) => sources
                    .iter()
                    .find(|(n, _)| n == index)
                    .map(|(_, u)| u.as_str()),
                None => sources.first().map(|(_, u)| u.as_str()),
            };
            dep.index = url.and_then(super::private_pypi_index);
            dep.scope = scope.map(str::to_string);
            dep.markers = entry
                .get("markers")
                .and_then(Value::as_str)
                .map(str::to_string);
            dependencies.push(dep);
        }
    }
    dependencies.sort_by_key(|d| d.line);
    Ok(Manifest {
        path: path.to_path_buf(),
        kind: ManifestKind::PipfileLock,
        dependencies,
        warnings,
    })
}

/// What one entry says about its version.
fn requirement(entry: &serde_json::Map<String, Value>) -> Result<Requirement, String> {
    let s = |k: &str| entry.get(k).and_then(Value::as_str);
    let editable = entry.get("editable").and_then(Value::as_bool) == Some(true);
    let editable = if editable { "editable " } else { "" };
    for vcs in ["git", "hg", "svn", "bzr"] {
        if let Some(url) = s(vcs) {
            return Ok(Requirement::NotChecked {
                reason: format!(
                    "{editable}{vcs} requirement ({}): not a registry release",
                    clip(url)
                ),
            });
        }
    }
    if let Some(p) = s("path") {
        return Ok(Requirement::NotChecked {
            reason: format!(
                "{editable}local path requirement ({}): not a registry release",
                clip(p)
            ),
        });
    }
    if let Some(f) = s("file") {
        return Ok(Requirement::NotChecked {
            reason: format!(
                "{editable}file/URL requirement ({}): not a registry release",
                clip(f)
            ),
        });
    }
    let Some(version) = s("version").map(str::trim) else {
        return Ok(Requirement::NotChecked {
            reason: "no version in the lockfile".to_string(),
        });
    };
    if version.is_empty() || version == "*" {
        return Ok(Requirement::Range {
            text: "*".to_string(),
            set: VersionSet::full(),
        });
    }
    // `x` stands in for the name: the version field is a PEP 508 specifier (`==2.31.0`).
    parse_pep508(&format!("x{version}")).map(|p| p.requirement)
}

/// Lines of the keys one and two levels deep: `("", "default")` and
/// `("default", "requests")`. An iterative scan (no recursion on hostile nesting).
fn key_lines(text: &str) -> BTreeMap<(String, String), usize> {
    let index = super::LineIndex::new(text);
    let bytes = text.as_bytes();
    let mut out = BTreeMap::new();
    let mut stack: Vec<u8> = Vec::new();
    let mut top_key = String::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                let start = i;
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                let raw = text.get(start + 1..i).unwrap_or("");
                i += 1;
                let mut j = i;
                while bytes.get(j).is_some_and(u8::is_ascii_whitespace) {
                    j += 1;
                }
                if bytes.get(j) == Some(&b':') && stack.last() == Some(&b'{') {
                    let key = if raw.contains('\\') {
                        serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_default()
                    } else {
                        raw.to_string()
                    };
                    match stack.len() {
                        1 => {
                            out.insert((String::new(), key.clone()), index.line(start));
                            top_key = key;
                        }
                        2 if stack.first() == Some(&b'{') => {
                            out.insert((top_key.clone(), key), index.line(start));
                        }
                        _ => {}
                    }
                }
                continue;
            }
            b'{' | b'[' => stack.push(b),
            b'}' | b']' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn parse_str(text: &str) -> Result<Manifest, ManifestError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Pipfile.lock");
        fs::write(&p, text).unwrap();
        parse(&p)
    }

    fn find<'a>(m: &'a Manifest, name: &str) -> &'a Dependency {
        m.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} not in {:?}", m.dependencies))
    }

    const LOCK: &str = r#"{
    "_meta": {
        "hash": {"sha256": "abc"},
        "pipfile-spec": 6,
        "requires": {"python_version": "3.11"},
        "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true}]
    },
    "default": {
        "requests": {
            "hashes": ["sha256:aaa", "sha256:bbb"],
            "index": "pypi",
            "markers": "python_version >= '3.7'",
            "version": "==2.31.0"
        },
        "Flask_Limiter": {"version": "==3.5.0"},
        "mylib": {"editable": true, "path": "."},
        "vcs-dep": {"git": "https://github.com/org/vcs-dep.git", "ref": "abc123"},
        "wheel-dep": {"file": "https://example.com/wheel_dep-1.0-py3-none-any.whl"},
        "weird": {"version": "==not a version"},
        "noversion": {"index": "pypi"}
    },
    "develop": {
        "pytest": {"version": "==8.0.0", "hashes": []},
        "requests": {"version": "===2.31.0"}
    }
}"#;

    #[test]
    fn sections_versions_and_lines() {
        let m = parse_str(LOCK).unwrap();
        assert_eq!(m.dependencies.len(), 9);
        let r = find(&m, "requests");
        assert_eq!((r.line, r.scope.as_deref()), (9, None));
        assert!(matches!(&r.requirement, Requirement::Pinned { text, .. } if text == "2.31.0"));
        assert_eq!(r.markers.as_deref(), Some("python_version >= '3.7'"));
        assert_eq!(find(&m, "Flask_Limiter").line, 15);
        let p = find(&m, "pytest");
        assert_eq!((p.line, p.scope.as_deref()), (23, Some("dev")));
        let dev_requests = m
            .dependencies
            .iter()
            .filter(|d| d.name == "requests")
            .nth(1)
            .unwrap();
        assert_eq!(
            (dev_requests.line, dev_requests.scope.as_deref()),
            (24, Some("dev"))
        );
        assert!(
            matches!(&dev_requests.requirement, Requirement::Pinned { text, .. } if text == "2.31.0")
        );
        for (name, start) in [
            ("mylib", "editable local path"),
            ("vcs-dep", "git requirement"),
            ("wheel-dep", "file/URL"),
            ("weird", "unreadable version"),
            ("noversion", "no version"),
        ] {
            match &find(&m, name).requirement {
                Requirement::NotChecked { reason } => {
                    assert!(reason.starts_with(start), "{name}: {reason}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(m.warnings[0].contains(":19: `weird`"), "{:?}", m.warnings);
        assert!(m.dependencies.iter().all(|d| d.via.is_none()));
    }

    #[test]
    fn key_scan_handles_escapes_and_nesting() {
        let text =
            "{\"a\\\"b\": {\"x\": [\"{\", \"}\"], \"y\\u0041\": 1},\n\"default\": {\n\"k\": {}}}";
        let lines = key_lines(text);
        assert_eq!(lines.get(&("a\"b".to_string(), "yA".to_string())), Some(&1));
        assert_eq!(
            lines.get(&("default".to_string(), "k".to_string())),
            Some(&3)
        );
        assert_eq!(lines.get(&(String::new(), "default".to_string())), Some(&2));
        // Unterminated input does not panic.
        let _ = key_lines("{\"default\": {\"a\\");
        let _ = key_lines("\"");
    }

    #[test]
    fn bad_json_is_an_error() {
        let e = parse_str("{\n\"default\": {\n}").unwrap_err();
        assert!(
            matches!(e, ManifestError::Parse { line: Some(3), .. }),
            "{e}"
        );
        assert!(parse_str("[1, 2]").is_err());
        assert!(parse_str(&"[".repeat(100_000)).is_err());
        let m = parse_str("{\"default\": [], \"develop\": {\"x\": 1}}").unwrap();
        assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
        assert!(m.dependencies.is_empty());
    }
}
