//! CycloneDX JSON SBOMs (`bom.json`, `*.cdx.json`, `*.cyclonedx.json`, or any JSON object with
//! `"bomFormat": "CycloneDX"`), any spec version whose components carry purls.
//!
//! * Every component, nested ones included (`components[2].components[0]`), with a `pkg:pypi`
//!   or `pkg:cargo` purl and a version is a pinned dependency (the purl's name and version:
//!   the purl names the package in its registry; the `name` field, which may be a display
//!   name, only gives the spelling when it names the same package).
//!   Without a version, or with a `download_url` / `vcs_url` qualifier (a local or VCS
//!   package, as cargo-cyclonedx marks the project itself), it is not checked, with the reason.
//! * Components of other purl types, or with no purl, cannot be matched against the PyPI and
//!   crates.io advisories depwatch reads: they are counted in one warning naming them.
//! * `metadata.component` is the subject of the SBOM, not a dependency of it: not read as one.
//! * `dependencies` gives `via`: paths start below `metadata.component` (its `dependsOn` are
//!   direct, `via: []`); without it, below the components nothing depends on. Components the
//!   graph does not reach, and every component of an SBOM without `dependencies`, have no
//!   `via`.
//! * A dependency's line is the line of its component's `purl` value.
//! * `properties` named `depwatch:scope` (written by `depwatch sbom`) give the scope back.
//!
//! The input is untrusted: read through [`super::read_bytes`] (regular file, size-bounded);
//! serde_json's recursion limit bounds nesting. Errors name the file and the component by its
//! index path and `bom-ref`. [`parse_bytes`] takes bytes from anywhere (a server's request).

use super::{Dependency, Manifest, ManifestError, ManifestKind, Requirement, clip};
use crate::ecosystem::Ecosystem;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The format in [`super::registry::ALL`].
pub struct CycloneDx;

impl ManifestKind {
    /// A CycloneDX JSON SBOM.
    #[allow(non_upper_case_globals)]
    pub const CycloneDx: Self = Self::new("cyclonedx");
}

impl super::registry::Format for CycloneDx {
    fn kind(&self) -> ManifestKind {
        ManifestKind::CycloneDx
    }

    /// Both: an SBOM lists PyPI and crates.io packages alike (the registry test knows).
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn file_name(&self) -> &'static str {
        "bom.json"
    }

    fn file_pattern(&self) -> &'static str {
        "bom.json, *.cdx.json, *.cyclonedx.json"
    }

    fn matches(&self, path: &Path) -> bool {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        let lower = name.to_ascii_lowercase();
        lower == "bom.json" || lower.ends_with(".cdx.json") || lower.ends_with(".cyclonedx.json")
    }

    fn looks_like(&self, content: &super::registry::Content<'_>) -> bool {
        let super::registry::Content::Json(doc) = content else {
            return false;
        };
        doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX")
    }

    fn parse(&self, path: &Path, _opts: &super::ParseOptions) -> Result<Manifest, ManifestError> {
        let bytes = super::read_bytes(path)?;
        parse_bytes(path, &bytes)
    }
}

/// The property `depwatch sbom` writes a dependency's scope in.
pub const SCOPE_PROPERTY: &str = "depwatch:scope";

/// Most components named in the "not checked" warning (the count is always given).
const MAX_NAMED: usize = 20;

/// One component as read: where it is, its bom-ref, and the dependency it became.
struct Read {
    bom_ref: Option<String>,
    purl: String,
    dep: Dependency,
}

/// Parse a CycloneDX JSON SBOM held in memory; `path` only names it in the manifest and in
/// errors (a file, or a label such as `request body`).
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<Manifest, ManifestError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
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
    match doc.get("bomFormat").and_then(Value::as_str) {
        Some("CycloneDX") => {}
        other => {
            return Err(ManifestError::parse(
                path,
                None,
                format!(
                    "not a CycloneDX SBOM: `bomFormat` is {}, not \"CycloneDX\"",
                    other.map_or("missing".to_string(), |s| format!("{:?}", clip(s)))
                ),
            ));
        }
    }
    let mut read = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    if let Some(list) = doc.get("components") {
        components(path, list, "components", &mut read, &mut skipped)?;
    }
    let mut warnings = Vec::new();
    if !skipped.is_empty() {
        let named: Vec<&str> = skipped.iter().take(MAX_NAMED).map(String::as_str).collect();
        warnings.push(format!(
            "{}: {} component(s) not checked: depwatch matches only pkg:pypi and pkg:cargo \
             purls: {}{}",
            path.display(),
            skipped.len(),
            named.join(", "),
            if skipped.len() > MAX_NAMED {
                ", ..."
            } else {
                ""
            }
        ));
    }
    let lines = purl_lines(bytes);
    for r in &mut read {
        r.dep.line = lines.get(r.purl.as_str()).copied().unwrap_or(0);
    }
    graph(path, doc, &mut read, &mut warnings)?;
    Ok(Manifest {
        path: path.to_path_buf(),
        kind: ManifestKind::CycloneDx,
        dependencies: read.into_iter().map(|r| r.dep).collect(),
        warnings,
    })
}

/// The 1-based line of each `"purl": "..."` value in the text (its first occurrence), found in
/// one pass: serde_json keeps no positions. A purl written with escapes is not found (line 0).
fn purl_lines(bytes: &[u8]) -> std::collections::HashMap<&str, usize> {
    let mut out = std::collections::HashMap::new();
    let Ok(text) = std::str::from_utf8(bytes) else {
        return out;
    };
    let index = super::LineIndex::new(text);
    for (at, key) in text.match_indices("\"purl\"") {
        let rest = text[at + key.len()..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some(end) = rest.find(['"', '\\']) else {
            continue;
        };
        if rest[end..].starts_with('"') {
            out.entry(&rest[..end]).or_insert_with(|| index.line(at));
        }
    }
    out
}

/// Read a `components` array (and, recursively, each component's own).
fn components(
    path: &Path,
    list: &Value,
    at: &str,
    out: &mut Vec<Read>,
    skipped: &mut Vec<String>,
) -> Result<(), ManifestError> {
    let Some(list) = list.as_array() else {
        return Err(ManifestError::parse(
            path,
            None,
            format!("`{at}` is not an array"),
        ));
    };
    for (i, c) in list.iter().enumerate() {
        let here = format!("{at}[{i}]");
        let Some(c) = c.as_object() else {
            return Err(ManifestError::parse(
                path,
                None,
                format!("component {here} is not an object"),
            ));
        };
        component(path, c, &here, out, skipped)?;
        if let Some(nested) = c.get("components") {
            components(path, nested, &format!("{here}.components"), out, skipped)?;
        }
    }
    Ok(())
}

fn string_field<'a>(
    path: &Path,
    c: &'a Map<String, Value>,
    key: &str,
    who: &str,
) -> Result<Option<&'a str>, ManifestError> {
    match c.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ManifestError::parse(
            path,
            None,
            format!("component {who}: `{key}` is not a string"),
        )),
    }
}

fn component(
    path: &Path,
    c: &Map<String, Value>,
    here: &str,
    out: &mut Vec<Read>,
    skipped: &mut Vec<String>,
) -> Result<(), ManifestError> {
    let bom_ref = string_field(path, c, "bom-ref", here)?.map(str::to_string);
    let who = match &bom_ref {
        Some(r) => format!("{here} (bom-ref {:?})", clip(r)),
        None => here.to_string(),
    };
    let name = string_field(path, c, "name", &who)?.unwrap_or_default();
    let Some(purl_text) = string_field(path, c, "purl", &who)? else {
        skipped.push(format!(
            "{} (no purl)",
            clip(if name.is_empty() { here } else { name })
        ));
        return Ok(());
    };
    let purl: packageurl::PackageUrl<'_> = purl_text.trim().parse().map_err(|e| {
        ManifestError::parse(
            path,
            None,
            format!(
                "component {who}: purl {:?} does not parse: {e}",
                clip(purl_text)
            ),
        )
    })?;
    let ecosystem = match purl.ty() {
        "pypi" => Ecosystem::PyPI,
        "cargo" => Ecosystem::CratesIo,
        other => {
            skipped.push(format!("{} (pkg:{})", clip(purl.name()), clip(other)));
            return Ok(());
        }
    };
    let qualifier = |k: &str| {
        purl.qualifiers()
            .iter()
            .find(|(key, _)| key.as_ref() == k)
            .map(|(_, v)| v.to_string())
    };
    let local = qualifier("download_url")
        .map(|u| ("download_url", u))
        .or_else(|| qualifier("vcs_url").map(|u| ("vcs_url", u)));
    let version = purl
        .version()
        .map(str::to_string)
        .or_else(|| c.get("version").and_then(Value::as_str).map(str::to_string))
        .filter(|v| !v.trim().is_empty());
    let requirement = match (&local, &version) {
        (Some((key, url)), _) => Requirement::NotChecked {
            reason: format!(
                "not a registry package: its purl's {key} is {}",
                clip(&crate::net::redact(url))
            ),
        },
        (None, None) => Requirement::NotChecked {
            reason: "the SBOM gives no version".into(),
        },
        (None, Some(v)) => match ecosystem.parse_version(v) {
            Ok(version) => Requirement::Pinned {
                version,
                text: v.clone(),
            },
            Err(e) => Requirement::NotChecked {
                reason: format!("version {:?} does not parse: {e}", clip(v)),
            },
        },
    };
    // The `name` field as written when it names the purl's package (`Flask` for
    // `pkg:pypi/flask`), else the purl's name: the purl is what identifies the package.
    let same = ecosystem.normalize_name(name) == ecosystem.normalize_name(purl.name());
    let shown = if same && !name.is_empty() {
        name
    } else {
        purl.name()
    };
    let mut dep = Dependency::new(ecosystem, clip(shown), requirement, path, 0);
    if ecosystem == Ecosystem::PyPI {
        dep.index = qualifier("repository_url").and_then(|u| super::private_pypi_index(&u));
    }
    dep.scope = c
        .get("properties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(SCOPE_PROPERTY))
        .and_then(|p| p.get("value").and_then(Value::as_str))
        .map(clip);
    out.push(Read {
        bom_ref,
        purl: purl_text.to_string(),
        dep,
    });
    Ok(())
}

/// `via` from the `dependencies` graph.
fn graph(
    path: &Path,
    doc: &Map<String, Value>,
    read: &mut [Read],
    warnings: &mut Vec<String>,
) -> Result<(), ManifestError> {
    let Some(list) = doc.get("dependencies") else {
        return Ok(());
    };
    let Some(list) = list.as_array() else {
        return Err(ManifestError::parse(
            path,
            None,
            "`dependencies` is not an array",
        ));
    };
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, d) in list.iter().enumerate() {
        let Some(r) = d.get("ref").and_then(Value::as_str) else {
            return Err(ManifestError::parse(
                path,
                None,
                format!("dependencies[{i}] has no `ref` string"),
            ));
        };
        let children = match d.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        ManifestError::parse(
                            path,
                            None,
                            format!(
                                "dependencies[{i}] (ref {:?}): `dependsOn` holds a non-string",
                                clip(r)
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(ManifestError::parse(
                    path,
                    None,
                    format!(
                        "dependencies[{i}] (ref {:?}): `dependsOn` is not an array",
                        clip(r)
                    ),
                ));
            }
        };
        edges.entry(r.to_string()).or_default().extend(children);
    }
    let subject = doc
        .get("metadata")
        .and_then(|m| m.get("component"))
        .and_then(|c| c.get("bom-ref"))
        .and_then(Value::as_str)
        .filter(|r| edges.contains_key(*r))
        .map(str::to_string);
    let roots: Vec<String> = match &subject {
        Some(s) => vec![s.clone()],
        None => {
            let depended: BTreeSet<&String> = edges.values().flatten().collect();
            edges
                .keys()
                .filter(|k| !depended.contains(k))
                .cloned()
                .collect()
        }
    };
    let paths = super::shortest_paths(&roots, &edges);
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut duplicate = Vec::new();
    for r in read.iter() {
        if let Some(b) = &r.bom_ref {
            if !seen.insert(b.as_str()) {
                duplicate.push(clip(b));
            }
            names.entry(b.as_str()).or_insert(r.dep.name.as_str());
        }
    }
    let names: BTreeMap<String, String> = names
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !duplicate.is_empty() {
        warnings.push(format!(
            "{}: {} bom-ref(s) used by several components (the graph takes the first): {}{}",
            path.display(),
            duplicate.len(),
            duplicate
                .iter()
                .take(MAX_NAMED)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if duplicate.len() > MAX_NAMED {
                ", ..."
            } else {
                ""
            }
        ));
    }
    for r in read.iter_mut() {
        let Some(p) = r.bom_ref.as_ref().and_then(|b| paths.get(b)) else {
            continue;
        };
        // The subject is the project itself: paths start below it.
        let below = if subject.is_some() {
            p.get(1..).unwrap_or_default()
        } else {
            p.as_slice()
        };
        if subject.as_ref() == r.bom_ref.as_ref() {
            continue;
        }
        r.dep.via = Some(
            below
                .iter()
                .map(|b| names.get(b).cloned().unwrap_or_else(|| clip(b)))
                .collect(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        parse_bytes(Path::new("bom.json"), text.as_bytes())
    }

    #[test]
    fn components_nested_graph_and_others() {
        let m = parse(
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6",
            "metadata":{"component":{"type":"application","name":"app","bom-ref":"app"}},
            "components":[
              {"type":"library","name":"Flask","version":"2.0.0","bom-ref":"f","purl":"pkg:pypi/flask@2.0.0"},
              {"type":"library","name":"x","bom-ref":"n","purl":"pkg:npm/left-pad@1.0.0",
               "components":[{"type":"library","name":"rsa","bom-ref":"r","purl":"pkg:cargo/rsa@0.9.6"}]},
              {"type":"library","name":"me","purl":"pkg:cargo/me@1.0.0?download_url=file://."},
              {"type":"library","name":"nover","purl":"pkg:pypi/nover"}
            ],
            "dependencies":[{"ref":"app","dependsOn":["f"]},{"ref":"f","dependsOn":["r"]}]}"#,
        )
        .unwrap();
        let d = &m.dependencies;
        assert_eq!(d.len(), 4);
        assert_eq!(d[0].name, "Flask");
        assert!(matches!(&d[0].requirement, Requirement::Pinned { text, .. } if text == "2.0.0"));
        assert_eq!(d[0].via, Some(vec![]));
        assert_eq!(d[1].name, "rsa");
        assert_eq!(d[1].ecosystem, Ecosystem::CratesIo);
        assert_eq!(d[1].via, Some(vec!["Flask".to_string()]));
        assert!(
            matches!(&d[2].requirement, Requirement::NotChecked { reason } if reason.contains("download_url"))
        );
        assert!(
            matches!(&d[3].requirement, Requirement::NotChecked { reason } if reason.contains("no version"))
        );
        assert_eq!(d[3].via, None);
        // Lines of the purls (the JSON text has one component per line here).
        assert_eq!((d[0].line, d[1].line, d[3].line), (4, 6, 8));
        assert!(
            m.warnings[0].contains("left-pad (pkg:npm)"),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn errors_name_the_component() {
        let e = parse(r#"{"bomFormat":"CycloneDX","components":[{"name":"a"},{"bom-ref":"b","purl":"pkg:"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("components[1] (bom-ref \"b\")"), "{e}");
        let e = parse(r#"{"bomFormat":"CycloneDX","components":[{"components":[7]}]}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("components[0].components[0] is not an object"),
            "{e}"
        );
        let e = parse(r#"{"bomFormat":"SPDX"}"#).unwrap_err().to_string();
        assert!(e.contains("not a CycloneDX SBOM"), "{e}");
        let e = parse("{\n\"bomFormat\": ").unwrap_err().to_string();
        assert!(e.starts_with("bom.json:2: invalid JSON"), "{e}");
        // Deep nesting is refused by serde_json's recursion limit, not a stack overflow.
        let deep = format!(
            r#"{{"bomFormat":"CycloneDX","components":{}{}}}"#,
            r#"[{"components":"#.repeat(200),
            "]}".repeat(200)
        );
        assert!(parse(&deep).is_err());
    }
}
