//! OpenVEX 0.2.0 (`../shared/feeds-reference/openvex/OPENVEX-SPEC.md`): the document types
//! depwatch writes, and reading a project's documents into statements the matcher applies.
//!
//! A document comes from the scanned checkout (`vex = [...]` of a project, `.openvex.json`
//! next to the manifests): untrusted input. It is read size-bounded, every statement is
//! checked, and an error names the file and the statement's index (0-based, as in JSON).
//! Reading is lenient where the spec is: a document without its own `timestamp` is accepted
//! when each statement carries one; unknown fields are skipped. What the spec requires of a
//! statement (a justification or impact statement for `not_affected`, an action statement for
//! `affected`) is required here, since a `not_affected` statement hides a finding. Statement
//! texts are cut at [`MAX_TEXT_CHARS`]: they reach reports and drafts.
//!
//! Products and subcomponents are matched by purl (`pkg:cargo/NAME@VERSION`,
//! `pkg:pypi/NAME@VERSION`): the `@id` when it is a purl, else `identifiers.purl`. A purl
//! without a version covers every version; PyPI names are compared after PEP 503
//! normalisation, versions under the ecosystem's rules (`1.0` is `1.0.0` on PyPI). Purls of
//! other types are kept in the document but match nothing.

use crate::ecosystem::Ecosystem;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The JSON-LD context of OpenVEX 0.2.0.
pub const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// The largest document read (4 MiB): far above any project's statements.
pub const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// The longest statement text kept (impact, action, notes), in characters; longer is cut
/// with `…`.
pub const MAX_TEXT_CHARS: usize = 1000;

/// The file name picked up next to the manifests.
pub const DISCOVERED_NAME: &str = ".openvex.json";

/// A statement's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The product is not affected (hides the finding).
    NotAffected,
    /// The product is affected (the finding stays open; its action statement goes to drafts).
    Affected,
    /// The product's version named is fixed (checked against the scan).
    Fixed,
    /// Not known yet (the finding stays open).
    UnderInvestigation,
}

impl Status {
    /// The spec's spelling (`not_affected`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAffected => "not_affected",
            Self::Affected => "affected",
            Self::Fixed => "fixed",
            Self::UnderInvestigation => "under_investigation",
        }
    }
}

/// Why a product is not affected: the spec's five labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Justification {
    /// `component_not_present`.
    ComponentNotPresent,
    /// `vulnerable_code_not_present`.
    VulnerableCodeNotPresent,
    /// `vulnerable_code_not_in_execute_path`.
    VulnerableCodeNotInExecutePath,
    /// `vulnerable_code_cannot_be_controlled_by_adversary`.
    VulnerableCodeCannotBeControlledByAdversary,
    /// `inline_mitigations_already_exist`.
    InlineMitigationsAlreadyExist,
}

impl Justification {
    /// The spec's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ComponentNotPresent => "component_not_present",
            Self::VulnerableCodeNotPresent => "vulnerable_code_not_present",
            Self::VulnerableCodeNotInExecutePath => "vulnerable_code_not_in_execute_path",
            Self::VulnerableCodeCannotBeControlledByAdversary => {
                "vulnerable_code_cannot_be_controlled_by_adversary"
            }
            Self::InlineMitigationsAlreadyExist => "inline_mitigations_already_exist",
        }
    }
}

/// An OpenVEX document (the fields depwatch reads and writes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// `https://openvex.dev/ns/v0.2.0`.
    #[serde(rename = "@context")]
    pub context: String,
    /// The document's IRI.
    #[serde(rename = "@id")]
    pub id: String,
    /// Who states it.
    pub author: String,
    /// The author's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// When it was issued (required by the spec; lenient on input, see the module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Document version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// How it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tooling: Option<String>,
    /// The statements.
    pub statements: Vec<Statement>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Statement {
    /// The vulnerability.
    pub vulnerability: Vulnerability,
    /// When the statement was known true (may stand in for the document's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// What it is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<Product>,
    /// The status.
    pub status: Status,
    /// How the status was determined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_notes: Option<String>,
    /// For `not_affected`: the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<Justification>,
    /// For `not_affected`: why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
    /// For `affected`: what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_statement: Option<String>,
}

/// The vulnerability of a statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Vulnerability {
    /// Its main id (any of CVE, GHSA, PYSEC, RUSTSEC... for depwatch).
    pub name: String,
    /// Other ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A product (or, inside it, a subcomponent).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Product {
    /// Its IRI (a purl for packages).
    #[serde(rename = "@id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Other identifiers (`purl`, `cpe22`, `cpe23`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifiers: Option<Identifiers>,
    /// Components inside it the statement is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subcomponents: Vec<Product>,
}

/// `identifiers` of a product.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identifiers {
    /// Package URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// CPE 2.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe22: Option<String>,
    /// CPE 2.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe23: Option<String>,
}

/// A package a statement covers, from a purl depwatch can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageMatch {
    /// Ecosystem (purl type `cargo` or `pypi`).
    pub ecosystem: Ecosystem,
    /// Normalised name.
    pub name: String,
    /// The version; `None`: every version.
    pub version: Option<String>,
}

impl PackageMatch {
    /// Read a purl; `None` for other types or a purl that does not parse.
    pub fn from_purl(purl: &str) -> Option<Self> {
        let p: packageurl::PackageUrl<'static> = purl.trim().parse().ok()?;
        let ecosystem = match p.ty() {
            "cargo" => Ecosystem::CratesIo,
            "pypi" => Ecosystem::PyPI,
            _ => return None,
        };
        Some(Self {
            ecosystem,
            name: ecosystem.normalize_name(p.name()),
            version: p.version().map(str::to_string),
        })
    }

    /// Whether it covers `name` at `version` of `ecosystem` (`name` as written).
    pub fn covers(&self, ecosystem: Ecosystem, name: &str, version: &str) -> bool {
        if self.ecosystem != ecosystem || self.name != ecosystem.normalize_name(name) {
            return false;
        }
        let Some(v) = &self.version else {
            return true;
        };
        match (ecosystem.parse_version(v), ecosystem.parse_version(version)) {
            (Ok(a), Ok(b)) => a == b,
            _ => v.trim() == version.trim(),
        }
    }
}

/// The purl depwatch writes for a package: `pkg:cargo/NAME@VERSION`, `pkg:pypi/NAME@VERSION`
/// (PyPI names PEP 503-normalised, as the purl spec asks).
pub fn purl_of(ecosystem: Ecosystem, name: &str, version: &str) -> String {
    let (ty, name) = match ecosystem {
        Ecosystem::CratesIo => ("cargo", name.to_string()),
        Ecosystem::PyPI => ("pypi", ecosystem.normalize_name(name)),
    };
    match packageurl::PackageUrl::new(ty, name.clone()).and_then(|mut p| {
        p.with_version(version.to_string())?;
        Ok(p.to_string())
    }) {
        Ok(s) => s,
        // Only an empty name fails to build; spelled out so the output stays a purl shape.
        Err(_) => format!("pkg:{ty}/{name}@{version}"),
    }
}

/// `pkg:cargo/NAME`, `pkg:pypi/NAME`: every version of a package.
pub fn purl_of_unversioned(ecosystem: Ecosystem, name: &str) -> String {
    let (ty, name) = match ecosystem {
        Ecosystem::CratesIo => ("cargo", name.to_string()),
        Ecosystem::PyPI => ("pypi", ecosystem.normalize_name(name)),
    };
    packageurl::PackageUrl::new(ty, name.clone())
        .map(|p| p.to_string())
        .unwrap_or_else(|_| format!("pkg:{ty}/{name}"))
}

/// `pkg:generic/NAME`: a project named in depwatch.toml, which gives it no purl of its own.
pub fn purl_of_generic(name: &str) -> String {
    packageurl::PackageUrl::new("generic", name.to_string())
        .map(|p| p.to_string())
        .unwrap_or_else(|_| format!("pkg:generic/{name}"))
}

/// A statement of a project's document, ready to match.
#[derive(Debug, Clone, PartialEq)]
pub struct VexStatement {
    /// The document it is in.
    pub document: PathBuf,
    /// Its index in `statements` (0-based).
    pub index: usize,
    /// The vulnerability's name and aliases.
    pub ids: Vec<String>,
    /// The packages it covers (products and subcomponents with a cargo or pypi purl).
    pub packages: Vec<PackageMatch>,
    /// The statement as written.
    pub statement: Statement,
}

impl VexStatement {
    /// Whether it is about one of `ids` in `name` at `version`.
    pub fn covers(&self, ids: &[String], ecosystem: Ecosystem, name: &str, version: &str) -> bool {
        self.ids
            .iter()
            .any(|v| ids.iter().any(|i| i.eq_ignore_ascii_case(v)))
            && self
                .packages
                .iter()
                .any(|p| p.covers(ecosystem, name, version))
    }

    /// `security/vex.json statement 2`: where it was written.
    pub fn origin(&self) -> String {
        format!("{} statement {}", self.document.display(), self.index)
    }
}

/// A document that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), statement.map(|i| format!(": statement {i}")).unwrap_or_default())]
pub struct VexError {
    /// The file.
    pub path: PathBuf,
    /// The statement's index, when the problem is in one.
    pub statement: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Read and check a document from a checkout.
pub fn load(path: &Path) -> Result<Vec<VexStatement>, VexError> {
    let err = |statement: Option<usize>, message: String| VexError {
        path: path.to_path_buf(),
        statement,
        message,
    };
    let bytes =
        crate::fsread::read_regular(path, MAX_BYTES).map_err(|e| err(None, e.to_string()))?;
    parse(path, &bytes)
}

/// Check a document's bytes; `path` names it in errors and statements.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<VexStatement>, VexError> {
    let err = |statement: Option<usize>, message: String| VexError {
        path: path.to_path_buf(),
        statement,
        message: crate::text::shorten(&message, 300),
    };
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| err(None, format!("not JSON (line {}): {e}", e.line())))?;
    let obj = value
        .as_object()
        .ok_or_else(|| err(None, "not an OpenVEX document (not a JSON object)".into()))?;
    let context = obj.get("@context").and_then(|c| c.as_str()).unwrap_or("");
    if !context.starts_with("https://openvex.dev/ns/v0.2") {
        return Err(err(
            None,
            format!(
                "@context {context:?}: depwatch reads OpenVEX 0.2.0 ({CONTEXT}); \
                 convert older documents (v0.0.1) with vexctl"
            ),
        ));
    }
    let doc_timestamp = obj.get("timestamp").and_then(|t| t.as_str());
    if let Some(t) = doc_timestamp {
        check_time(t).map_err(|m| err(None, format!("timestamp: {m}")))?;
    }
    let statements = obj
        .get("statements")
        .and_then(|s| s.as_array())
        .ok_or_else(|| err(None, "no statements array".into()))?;
    let mut out = Vec::with_capacity(statements.len());
    for (index, raw) in statements.iter().enumerate() {
        let at = |m: String| err(Some(index), m);
        let mut st: Statement = Statement::deserialize(raw).map_err(|e| at(e.to_string()))?;
        // Free text reaches reports, notes and drafts: cut like other text for people.
        for t in [
            &mut st.impact_statement,
            &mut st.action_statement,
            &mut st.status_notes,
        ]
        .into_iter()
        .flatten()
        {
            *t = crate::text::cap_chars(t, MAX_TEXT_CHARS);
        }
        if st.vulnerability.name.trim().is_empty() {
            return Err(at("vulnerability.name is empty".into()));
        }
        match &st.timestamp {
            Some(t) => check_time(t).map_err(|m| at(format!("timestamp: {m}")))?,
            None if doc_timestamp.is_none() => {
                return Err(at(
                    "no timestamp: neither the document nor the statement has one".into(),
                ));
            }
            None => {}
        }
        match st.status {
            Status::NotAffected
                if st.justification.is_none()
                    && st.impact_statement.as_deref().is_none_or(blank) =>
            {
                return Err(at(
                    "not_affected needs a justification or an impact_statement (OpenVEX 0.2.0)"
                        .into(),
                ));
            }
            Status::Affected if st.action_statement.as_deref().is_none_or(blank) => {
                return Err(at(
                    "affected needs an action_statement (OpenVEX 0.2.0)".into()
                ));
            }
            _ => {}
        }
        let mut ids = vec![st.vulnerability.name.trim().to_string()];
        ids.extend(
            st.vulnerability
                .aliases
                .iter()
                .map(|a| a.trim().to_string()),
        );
        let mut packages = Vec::new();
        for p in &st.products {
            for c in std::iter::once(p).chain(&p.subcomponents) {
                let purls =
                    c.id.iter()
                        .chain(c.identifiers.as_ref().and_then(|i| i.purl.as_ref()));
                packages.extend(purls.filter_map(|s| PackageMatch::from_purl(s)));
            }
        }
        out.push(VexStatement {
            document: path.to_path_buf(),
            index,
            ids,
            packages,
            statement: st,
        });
    }
    Ok(out)
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn check_time(t: &str) -> Result<(), String> {
    t.parse::<jiff::Timestamp>()
        .map(|_| ())
        .map_err(|e| format!("{t:?} is not an RFC 3339 date-time: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(statements: &str, timestamp: bool) -> String {
        format!(
            r#"{{"@context":"{CONTEXT}","@id":"urn:x","author":"a",{}"version":1,"statements":[{statements}]}}"#,
            if timestamp {
                r#""timestamp":"2026-01-01T00:00:00Z","#
            } else {
                ""
            }
        )
    }

    #[test]
    fn purls_match_by_normalised_name_and_version() {
        let p = PackageMatch::from_purl("pkg:pypi/Flask_Limiter@1.0").unwrap();
        assert!(p.covers(Ecosystem::PyPI, "flask-limiter", "1.0.0"));
        assert!(!p.covers(Ecosystem::PyPI, "flask-limiter", "1.0.1"));
        assert!(!p.covers(Ecosystem::CratesIo, "flask-limiter", "1.0"));
        let any = PackageMatch::from_purl("pkg:cargo/rsa").unwrap();
        assert!(any.covers(Ecosystem::CratesIo, "rsa", "0.9.6"));
        assert!(!any.covers(Ecosystem::CratesIo, "RSA", "0.9.6"));
        assert_eq!(PackageMatch::from_purl("pkg:npm/left-pad@1.0.0"), None);
        assert_eq!(PackageMatch::from_purl("not a purl"), None);
        assert_eq!(
            purl_of(Ecosystem::PyPI, "Flask_Limiter", "1.0"),
            "pkg:pypi/flask-limiter@1.0"
        );
        assert_eq!(
            purl_of(Ecosystem::CratesIo, "rsa", "0.9.6"),
            "pkg:cargo/rsa@0.9.6"
        );
    }

    #[test]
    fn statement_timestamp_stands_in_for_the_documents() {
        let s = r#"{"vulnerability":{"name":"CVE-1"},"timestamp":"2026-01-01T00:00:00Z",
            "products":[{"@id":"pkg:cargo/x@1.0.0"}],"status":"under_investigation"}"#;
        assert_eq!(
            parse(Path::new("v.json"), doc(s, false).as_bytes())
                .unwrap()
                .len(),
            1
        );
        let s = r#"{"vulnerability":{"name":"CVE-1"},"status":"under_investigation"}"#;
        let e = parse(
            Path::new("v.json"),
            doc(&format!("{s},{s}"), false).as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.statement, Some(0));
        assert!(
            e.to_string()
                .starts_with("v.json: statement 0: no timestamp"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_the_statement() {
        let ok = r#"{"vulnerability":{"name":"CVE-1"},"status":"fixed"}"#;
        let bad = r#"{"vulnerability":{"name":"CVE-2"},"status":"not_affected"}"#;
        let e = parse(
            Path::new("v.json"),
            doc(&format!("{ok},{bad}"), true).as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.statement, Some(1));
        assert!(e.message.contains("justification"), "{e}");
        let bad = r#"{"vulnerability":{"name":"CVE-2"},"status":"affected"}"#;
        let e = parse(Path::new("v.json"), doc(bad, true).as_bytes()).unwrap_err();
        assert!(e.message.contains("action_statement"), "{e}");
        let bad = r#"{"vulnerability":{"name":"CVE-2"},"status":"broken"}"#;
        let e = parse(Path::new("v.json"), doc(bad, true).as_bytes()).unwrap_err();
        assert_eq!(e.statement, Some(0));
        let e = parse(Path::new("v.json"), b"[1]").unwrap_err();
        assert_eq!(e.statement, None);
    }

    #[test]
    fn subcomponents_and_identifiers_are_matched() {
        let s = r#"{"vulnerability":{"name":"GHSA-x","aliases":["CVE-9"]},"status":"not_affected",
            "justification":"component_not_present",
            "products":[{"@id":"https://example.org/app","subcomponents":[
              {"identifiers":{"purl":"pkg:pypi/requests@2.0.0"}}]}]}"#;
        let st = &parse(Path::new("v.json"), doc(s, true).as_bytes()).unwrap()[0];
        assert!(st.covers(&["CVE-9".into()], Ecosystem::PyPI, "Requests", "2.0"));
        assert!(!st.covers(&["CVE-8".into()], Ecosystem::PyPI, "requests", "2.0"));
        assert_eq!(st.origin(), "v.json statement 0");
    }
}
