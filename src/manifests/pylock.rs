//! `pylock.toml` / `pylock.<name>.toml` (PEP 751).
//!
//! Each `[[packages]]` entry with a `version` from an index (`index`, `sdist`, `wheels`) is
//! pinned. `vcs`, `directory` and `archive` entries (not from an index) and entries without a
//! `version` are not checked. The `marker` is kept as written. The line is the entry's
//! `name = ` line. No graph (`via` is `None`): PEP 751's optional `dependencies` are not read.
//!
//! `lock-version` is checked as PEP 751 asks of a tool: a major version other than 1 is an
//! error (the file may mean something else than depwatch would read), a newer minor version
//! a warning. PEP 751 requires the key; a file without it is read as 1.0, with a warning.

use super::clip;
use super::pyproject::{NamedTable, named_tables};
use super::pyproject::{get, get_str, get_table, parse_toml, type_name, value_line};
use super::{Dependency, Manifest, ManifestError, ManifestKind, Requirement, read_text};
use crate::ecosystem::Ecosystem;
use std::path::Path;

/// The format in [`super::registry::ALL`].
pub struct Pylock;

impl super::registry::Format for Pylock {
    fn kind(&self) -> ManifestKind {
        ManifestKind::Pylock
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn file_name(&self) -> &'static str {
        "pylock.toml"
    }

    fn file_pattern(&self) -> &'static str {
        "pylock.toml"
    }

    fn matches(&self, path: &Path) -> bool {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        let lower = name.to_ascii_lowercase();
        lower == "pylock.toml" || (lower.starts_with("pylock.") && lower.ends_with(".toml"))
    }

    fn supersedes(&self) -> &'static [ManifestKind] {
        &[ManifestKind::Pyproject]
    }

    fn looks_like(&self, content: &super::registry::Content<'_>) -> bool {
        use super::registry::{Content, toml_array, toml_key};
        let Content::Toml(doc) = content else {
            return false;
        };
        toml_array(doc, "packages") && toml_key(doc, "lock-version")
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
    check_lock_version(path, &text, &doc, &mut warnings)?;
    let packages = named_tables(path, &text, &doc, &["packages"], &mut warnings)?;
    let mut dependencies = Vec::new();
    for NamedTable {
        name,
        line,
        table: pkg,
    } in packages
    {
        let not_checked = |reason: String| Requirement::NotChecked { reason };
        let location = |t: &toml::de::DeTable<'_>| {
            clip(
                get_str(t, "url")
                    .or_else(|| get_str(t, "path"))
                    .unwrap_or(""),
            )
        };
        let requirement = if let Some(vcs) = get_table(pkg, "vcs") {
            let kind = get_str(vcs, "type").unwrap_or("vcs");
            not_checked(format!(
                "{kind} source ({}): not a registry release",
                location(vcs)
            ))
        } else if let Some(dir) = get_table(pkg, "directory") {
            not_checked(format!(
                "local directory ({}): not a registry release",
                location(dir)
            ))
        } else if let Some(archive) = get_table(pkg, "archive") {
            not_checked(format!(
                "archive ({}): not a registry release",
                location(archive)
            ))
        } else {
            match get_str(pkg, "version") {
                Some(v) => match Ecosystem::PyPI.parse_version(v) {
                    Ok(version) => Requirement::Pinned {
                        version,
                        text: v.to_string(),
                    },
                    Err(e) => {
                        warnings.push(format!("{}:{line}: `{}`: {e}", path.display(), clip(name)));
                        not_checked(format!("version `{}` is not PEP 440", clip(v)))
                    }
                },
                None => not_checked("no version in the lockfile".to_string()),
            }
        };
        let mut dep = Dependency::new(Ecosystem::PyPI, name, requirement, path, line);
        dep.markers = get_str(pkg, "marker").map(str::to_string);
        dependencies.push(dep);
    }
    Ok(Manifest {
        path: path.to_path_buf(),
        kind: ManifestKind::Pylock,
        dependencies,
        warnings,
    })
}

/// PEP 751: "If a tool does not support a major version, it MUST raise an error; if it does
/// not support a minor version, it SHOULD warn."
fn check_lock_version(
    path: &Path,
    text: &str,
    doc: &toml::de::DeTable<'_>,
    warnings: &mut Vec<String>,
) -> Result<(), ManifestError> {
    let Some(v) = get(doc, "lock-version") else {
        warnings.push(format!(
            "{}: no `lock-version` (PEP 751 requires it): read as version 1.0",
            path.display()
        ));
        return Ok(());
    };
    let line = value_line(text, v);
    let Some(version) = v.get_ref().as_str() else {
        return Err(ManifestError::parse(
            path,
            Some(line),
            format!(
                "`lock-version` must be a string, found {}",
                type_name(v.get_ref())
            ),
        ));
    };
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.trim_start_matches('0').parse::<u64>().unwrap_or(0))
    };
    match (number(major), number(minor)) {
        (Some(1), Some(0)) => Ok(()),
        (Some(1), Some(_)) => {
            warnings.push(format!(
                "{}:{line}: lock-version `{}` is newer than 1.0, the version depwatch reads; \
                 read as 1.0",
                path.display(),
                clip(version)
            ));
            Ok(())
        }
        (Some(_), Some(_)) => Err(ManifestError::parse(
            path,
            Some(line),
            format!(
                "unsupported lock-version `{}`: depwatch reads major version 1 (PEP 751)",
                clip(version)
            ),
        )),
        _ => Err(ManifestError::parse(
            path,
            Some(line),
            format!(
                "invalid lock-version `{}`: expected MAJOR.MINOR",
                clip(version)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn parse_str(text: &str) -> Result<Manifest, ManifestError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pylock.toml");
        fs::write(&p, text).unwrap();
        parse(&p)
    }

    fn find<'a>(m: &'a Manifest, name: &str) -> &'a Dependency {
        m.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} not in {:?}", m.dependencies))
    }

    fn reason(d: &Dependency) -> &str {
        match &d.requirement {
            Requirement::NotChecked { reason } => reason,
            other => panic!("{}: {other:?}", d.name),
        }
    }

    #[test]
    fn lock_version_major_is_checked() {
        let pkg = "\n[[packages]]\nname = \"attrs\"\nversion = \"25.1.0\"\n";
        for bad in ["2.0", "0.9", "10.0"] {
            let e = parse_str(&format!("lock-version = \"{bad}\"\n{pkg}"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("pylock.toml:1: unsupported lock-version `{bad}`")),
                "{e}"
            );
        }
        for bad in ["", "one", "1.x", "1.0.0"] {
            let e = parse_str(&format!(
                "created-by = \"x\"\nlock-version = \"{bad}\"\n{pkg}"
            ))
            .unwrap_err()
            .to_string();
            assert!(e.contains(":2: invalid lock-version"), "{e}");
        }
        let e = parse_str(&format!("lock-version = 1\n{pkg}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(":1: `lock-version` must be a string"), "{e}");
        // A newer minor version is read, with a warning; so is a file without the key.
        let m = parse_str(&format!("lock-version = \"1.3\"\n{pkg}")).unwrap();
        assert_eq!(m.dependencies.len(), 1);
        assert!(
            m.warnings[0].contains(":1: lock-version `1.3` is newer"),
            "{:?}",
            m.warnings
        );
        let m = parse_str(pkg).unwrap();
        assert_eq!(m.dependencies.len(), 1);
        assert!(
            m.warnings[0].contains("no `lock-version`"),
            "{:?}",
            m.warnings
        );
        let m = parse_str(&format!("lock-version = \"1.0\"\n{pkg}")).unwrap();
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    }

    #[test]
    fn packages_sources_and_markers() {
        let m = parse_str(
            r#"lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.12"

[[packages]]
name = "attrs"
version = "25.1.0"
index = "https://pypi.org/simple"
marker = "python_version >= '3.12'"
sdist = { url = "https://files.pythonhosted.org/attrs-25.1.0.tar.gz", hashes = { sha256 = "aa" } }
wheels = [{ url = "https://files.pythonhosted.org/attrs-25.1.0-py3-none-any.whl", hashes = { sha256 = "bb" } }]

[[packages]]
name = "project"
directory = { path = ".", editable = true }

[[packages]]
name = "from-git"
version = "1.0"
vcs = { type = "git", url = "https://github.com/org/from-git.git", commit-id = "abc" }

[[packages]]
name = "tarball"
archive = { url = "https://example.com/tarball-1.0.tar.gz", hashes = { sha256 = "cc" } }

[[packages]]
name = "unversioned"
index = "https://pypi.org/simple"

[[packages]]
name = "Bad_Version"
version = "one.two"
"#,
        )
        .unwrap();
        assert_eq!(m.dependencies.len(), 6);
        let a = find(&m, "attrs");
        assert_eq!(a.line, 6);
        assert!(matches!(&a.requirement, Requirement::Pinned { text, .. } if text == "25.1.0"));
        assert_eq!(a.markers.as_deref(), Some("python_version >= '3.12'"));
        assert_eq!(a.via, None);
        assert!(reason(find(&m, "project")).starts_with("local directory (.)"));
        assert!(
            reason(find(&m, "from-git"))
                .starts_with("git source (https://github.com/org/from-git.git)")
        );
        assert!(
            reason(find(&m, "tarball"))
                .starts_with("archive (https://example.com/tarball-1.0.tar.gz)")
        );
        assert!(reason(find(&m, "unversioned")).starts_with("no version"));
        assert!(reason(find(&m, "Bad_Version")).contains("not PEP 440"));
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains(":31: `Bad_Version`"),
            "{:?}",
            m.warnings
        );
    }

    /// Every Python parser on hostile input: clean errors or warnings, never a panic.
    #[test]
    fn all_python_parsers_survive_garbage() {
        use crate::manifests::{pipfile_lock, poetry_lock, pyproject, requirements_txt, uv_lock};
        type Parser = fn(&Path) -> Result<Manifest, ManifestError>;
        let parsers: [(&str, Parser); 6] = [
            ("requirements.txt", requirements_txt::parse),
            ("pyproject.toml", pyproject::parse),
            ("poetry.lock", poetry_lock::parse),
            ("uv.lock", uv_lock::parse),
            ("Pipfile.lock", pipfile_lock::parse),
            ("pylock.toml", super::parse),
        ];
        let huge = "9".repeat(50);
        let inputs: Vec<Vec<u8>> = vec![
            b"\xff\xfe\x00\x01binary".to_vec(),
            "\u{1}\u{2}\u{7f}".repeat(10_000).into_bytes(),
            format!("a = {}", "{b = ".repeat(50_000)).into_bytes(),
            format!("a = {}", "[".repeat(50_000)).into_bytes(),
            "{".repeat(50_000).into_bytes(),
            format!("x = \"{}\"\n", "y".repeat(10_000_000)).into_bytes(),
            format!(
                "[[package]]\nname = \"p\"\nversion = \"{huge}.1\"\n[[packages]]\nname = \"p\"\nversion = \"{huge}\"\n\
                 [project]\ndependencies = [\"p=={huge}\", \"q~={huge}\"]\n\
                 [tool.poetry.dependencies]\np = \"^{huge}\"\nq = \"^18446744073709551615\"\n"
            )
            .into_bytes(),
            format!("{{\"default\": {{\"p\": {{\"version\": \"=={huge}\"}}}}}}").into_bytes(),
            format!("p=={huge}\nq~=1.{huge}\n").into_bytes(),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (file, parse) in parsers {
            let p = dir.path().join(file);
            for input in &inputs {
                fs::write(&p, input).unwrap();
                match parse(&p) {
                    Ok(m) => {
                        for d in &m.dependencies {
                            assert!(
                                !matches!(&d.requirement, Requirement::Pinned { text, .. } if text.contains(&huge)),
                                "{file}: {huge} cannot be a version"
                            );
                        }
                        assert!(
                            m.warnings.iter().all(|w| w.len() < 2_000),
                            "{file}: long warning"
                        );
                    }
                    Err(e) => assert!(e.to_string().len() < 2_000, "{file}: long error"),
                }
            }
        }
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse_str("packages = \"x\"\n"),
            Err(ManifestError::Parse { line: Some(1), .. })
        ));
        assert!(parse_str("[[packages]\n").is_err());
        let m = parse_str("lock-version = \"1.0\"\n[[packages]]\nversion = \"1\"\n").unwrap();
        assert!(m.dependencies.is_empty());
        assert_eq!(m.warnings.len(), 1);
    }
}
