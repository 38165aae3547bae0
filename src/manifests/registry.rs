//! The one list of manifest formats. Everything that needs to know the formats (file-name
//! discovery, `--type` names and help, content sniffing, parse dispatch, the
//! lockfile-beside-manifest rule, error messages listing the formats) reads [`ALL`]; nothing
//! else matches on kinds.
//!
//! Adding a format (as osv-scalibr adds an extractor):
//! 1. `src/manifests/<format>.rs`: the parser, and a unit struct implementing [`Format`] whose
//!    `kind()` is `ManifestKind::new("<name>")`;
//! 2. in `mod.rs`, `pub mod <format>;`, and here one line in [`ALL`];
//! 3. a sample under `tests/samples/manifests/<file name>` if `../shared/corpus/manifests` has
//!    none.
//!
//! The tests (`manifests::registry::tests`, `it::registries`) then check that the name is
//! unique, that the file name is discovered and `--type` takes the name, that the sample
//! parses and that its content alone is recognised.

use super::{
    Manifest, ManifestError, ManifestKind, ParseOptions, cargo_lock, cargo_toml, cyclonedx,
    pipfile_lock, poetry_lock, pylock, pyproject, requirements_txt, uv_lock,
};
use crate::ecosystem::Ecosystem;
use std::path::Path;

/// A file's content, parsed once for [`Format::looks_like`]: a JSON object, else a TOML
/// document, else plain text. A format matches only the variant it is written in, so a TOML
/// or JSON file is never guessed to be a requirements file.
pub enum Content<'a> {
    /// A JSON object.
    Json(&'a serde_json::Map<String, serde_json::Value>),
    /// A TOML document.
    Toml(&'a toml::de::DeTable<'a>),
    /// Neither: plain text.
    Text(&'a str),
}

/// One manifest or lockfile format.
pub trait Format: Sync {
    /// Its kind; [`ManifestKind::name`] is the name `--type` and reports use.
    fn kind(&self) -> ManifestKind;

    /// The ecosystem of its packages.
    fn ecosystem(&self) -> Ecosystem;

    /// Its standard file name (`Cargo.lock`), also accepted by `--type`.
    fn file_name(&self) -> &'static str;

    /// How error messages list its file names (`requirements*.txt`).
    fn file_pattern(&self) -> &'static str {
        self.file_name()
    }

    /// True when discovery should read `path` as this format, by its name (and, where the
    /// format says so, its directory's name).
    fn matches(&self, path: &Path) -> bool {
        path.file_name().and_then(|n| n.to_str()) == Some(self.file_name())
    }

    /// True when a file with a non-standard name is of this format by its content: keys this
    /// format alone has. A file two formats claim is not guessed at ([`by_content`]).
    fn looks_like(&self, content: &Content<'_>) -> bool;

    /// Parse one file of this format.
    fn parse(&self, path: &Path, opts: &ParseOptions) -> Result<Manifest, ManifestError>;

    /// The manifests this lockfile locks when they sit in the same directory: discovery then
    /// reads only the lockfile (its resolved versions are the findings; the manifest's ranges
    /// would report the same packages twice).
    fn supersedes(&self) -> &'static [ManifestKind] {
        &[]
    }
}

/// Every format depwatch reads. The order is the order `--type` names are listed in.
pub static ALL: &[&dyn Format] = &[
    &cargo_lock::CargoLock,
    &cargo_toml::CargoToml,
    &requirements_txt::RequirementsTxt,
    &pyproject::Pyproject,
    &poetry_lock::PoetryLock,
    &uv_lock::UvLock,
    &pipfile_lock::PipfileLock,
    &pylock::Pylock,
    &cyclonedx::CycloneDx,
];

/// The format names, for messages: `cargo-lock, cargo-toml, ...`.
pub fn names() -> String {
    let names: Vec<&str> = ALL.iter().map(|f| f.kind().name()).collect();
    names.join(", ")
}

/// The registered format of a kind.
pub fn format(kind: ManifestKind) -> Option<&'static dyn Format> {
    ALL.iter().copied().find(|f| f.kind() == kind)
}

/// The format of a file by its name, if any.
pub fn by_path(path: &Path) -> Option<&'static dyn Format> {
    ALL.iter().copied().find(|f| f.matches(path))
}

/// The format of a `--type` argument: a format name (`requirements-txt`) or a standard file
/// name (`requirements.txt`), case-insensitive.
pub fn by_name(s: &str) -> Option<&'static dyn Format> {
    ALL.iter()
        .copied()
        .find(|f| s.eq_ignore_ascii_case(f.kind().name()) || s.eq_ignore_ascii_case(f.file_name()))
}

/// The format of some content, when exactly one format claims it (so the formats' order
/// never decides, and a new format cannot take another's files unnoticed).
pub fn by_content(content: &Content<'_>) -> Option<&'static dyn Format> {
    let mut claims = ALL.iter().copied().filter(|f| f.looks_like(content));
    match (claims.next(), claims.next()) {
        (Some(f), None) => Some(f),
        _ => None,
    }
}

/// `key` is an array of `doc` (for [`Format::looks_like`] rules).
pub(super) fn toml_array(doc: &toml::de::DeTable<'_>, key: &str) -> bool {
    super::pyproject::get(doc, key).is_some_and(|v| v.get_ref().as_array().is_some())
}

/// `key` is a table of `doc` (for [`Format::looks_like`] rules).
pub(super) fn toml_table(doc: &toml::de::DeTable<'_>, key: &str) -> bool {
    super::pyproject::get_table(doc, key).is_some()
}

/// `doc` has `key` (for [`Format::looks_like`] rules).
pub(super) fn toml_key(doc: &toml::de::DeTable<'_>, key: &str) -> bool {
    super::pyproject::get(doc, key).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    fn corpus() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/manifests")
    }

    /// Samples for the formats the shared corpus has no file of, by standard file name.
    fn samples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/manifests")
    }

    #[test]
    fn kind_names_are_unique_and_well_formed() {
        let mut names = BTreeSet::new();
        let mut files = BTreeSet::new();
        for f in ALL {
            let name = f.kind().name();
            assert!(
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "format name {name:?} is not kebab-case"
            );
            assert!(
                names.insert(name.to_string()),
                "format name {name} registered twice"
            );
            assert!(
                files.insert(f.file_name().to_ascii_lowercase()),
                "file name {} registered twice",
                f.file_name()
            );
            // Reports print the same name `--type` takes.
            assert_eq!(serde_json::to_value(f.kind()).unwrap(), name);
            assert_eq!(f.kind().to_string(), name);
            assert_eq!(format(f.kind()).map(|g| g.kind()), Some(f.kind()));
        }
        // No name is also another format's file name.
        assert!(names.is_disjoint(&files), "{names:?} / {files:?}");
    }

    #[test]
    fn every_format_is_found_by_name_and_by_its_file_name() {
        for f in ALL {
            let kind = f.kind();
            assert_eq!(kind.name().parse::<ManifestKind>(), Ok(kind));
            assert_eq!(f.file_name().parse::<ManifestKind>(), Ok(kind));
            assert_eq!(ManifestKind::detect(Path::new(f.file_name())), Some(kind));
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join(f.file_name());
            std::fs::write(&p, "").unwrap();
            let found = super::super::discover(dir.path()).unwrap();
            assert_eq!(found, [(p, kind)], "{kind}");
        }
    }

    #[test]
    fn every_format_parses_a_sample() {
        let mut corpus_files = super::super::discover(&corpus()).unwrap();
        // A lockfile's manifest is not discovered beside it; take those too.
        for f in ALL {
            for path in walk(&corpus()) {
                if f.matches(&path) && !corpus_files.iter().any(|(p, _)| *p == path) {
                    corpus_files.push((path, f.kind()));
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        for f in ALL {
            let kind = f.kind();
            let mut paths: Vec<PathBuf> = corpus_files
                .iter()
                .filter(|(_, k)| *k == kind)
                .map(|(p, _)| p.clone())
                .collect();
            if paths.is_empty() {
                let p = samples().join(f.file_name());
                assert!(p.is_file(), "{kind}: no corpus file: add {}", p.display());
                paths.push(p);
            }
            // Every file of the format parses; at least one has dependencies (airflow's
            // pyproject.toml declares them dynamically).
            let mut found = 0;
            for (i, path) in paths.iter().enumerate() {
                let m = super::super::parse(path, kind, &ParseOptions::default())
                    .unwrap_or_else(|e| panic!("{kind}: {e}"));
                assert_eq!(m.kind, kind);
                assert!(
                    // An SBOM lists packages of both ecosystems.
                    kind == ManifestKind::CycloneDx
                        || m.dependencies.iter().all(|d| d.ecosystem == f.ecosystem()),
                    "{kind}: {}",
                    path.display()
                );
                found += m.dependencies.len();
                // The content alone tells the format too (a file named explicitly, any name).
                let odd = dir.path().join(format!("{}-{i}.sample", kind.name()));
                std::fs::copy(path, &odd).unwrap();
                assert_eq!(
                    super::super::detect_content(&odd),
                    Some(kind),
                    "{}",
                    path.display()
                );
            }
            assert!(found > 0, "{kind}: no dependency in {paths:?}");
        }
    }

    fn walk(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }
}
