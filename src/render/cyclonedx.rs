//! A CycloneDX 1.6 JSON SBOM (`depwatch sbom`) from a scan: the parsed manifests' dependencies
//! as components, the lockfiles' dependency paths as `dependencies`, and the report's findings
//! and ignores as `vulnerabilities`.
//!
//! What each part says, and where it comes from:
//!
//! * `metadata.component`: the scanned project, named by the caller (depwatch supplies the
//!   name: see `depwatch sbom --name`), `bom-ref` `pkg:generic/NAME` as in `depwatch vex`.
//! * `components`: one per package and version (`bom-ref` = its purl: `pkg:cargo/NAME@V`,
//!   `pkg:pypi/NAME@V` with the PEP 503 name), sorted by `bom-ref`. An unpinned requirement
//!   becomes a component without version (purl without version, the requirement in the
//!   `depwatch:requirement` property); a dependency depwatch could not check (path, git, URL)
//!   has no purl, its reason in `depwatch:not-checked`. `depwatch:scope` carries the scope.
//! * `dependencies`: the edges depwatch knows, which are the paths along which each package
//!   was first reached (the `via` of the report): a spanning tree of the lockfile's graph, not
//!   every edge of it. The `depwatch:dependencies` property of `metadata` says so. Formats
//!   without a graph (requirements files, Pipfile.lock, pylock.toml) add no edge.
//! * `vulnerabilities`: one per (vulnerability, package). `source` names the advisory sources
//!   the finding came from; `ratings` give the CVSS vectors of the records, each with the base
//!   score depwatch computed from it (its `justification` says so) or, without a vector, the
//!   severity level of the records; `recommendation` is depwatch's fix advice, marked as such.
//!   `analysis`: an OpenVEX `not_affected` of the project -> `not_affected` (its justification
//!   mapped where CycloneDX has the same meaning, the label kept in `detail`); a VEX `affected`
//!   -> `exploitable`, `under_investigation` -> `in_triage`; any other ignore has no state
//!   (the project has not said whether it is affected), only a `detail` naming the ignore.
//!
//! Deterministic: everything is sorted, there is no timestamp (the scan's data has none that
//! would mean "made at"), and `serialNumber` is a UUID (version 8, RFC 9562) from the SHA-256
//! of the rest of the document, so the same scan gives the same bytes.

use crate::ecosystem::Ecosystem;
use crate::manifests::{Dependency, Requirement};
use crate::matcher::ParsedManifest;
use crate::report::{Finding, Fix, IgnoredFinding, Report};
use crate::vex::{self, Justification, Status};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The spec version written.
pub const SPEC_VERSION: &str = "1.6";

/// What the `dependencies` list is (the `depwatch:dependencies` property).
pub const DEPENDENCIES_NOTE: &str = "each component's first path from the project, as depwatch \
     reports it (via): a spanning tree of the lockfile's graph, not every edge";

fn property(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}

/// The `bom-ref` of a dependency.
pub fn bom_ref(d: &Dependency) -> String {
    match &d.requirement {
        Requirement::Pinned { text, .. } => vex::purl_of(d.ecosystem, &d.name, text),
        Requirement::Range { .. } => vex::purl_of_unversioned(d.ecosystem, &d.name),
        Requirement::NotChecked { .. } => {
            format!(
                "depwatch:not-checked:{}:{}",
                purl_type(d.ecosystem),
                d.ecosystem.normalize_name(&d.name)
            )
        }
    }
}

fn purl_type(e: Ecosystem) -> &'static str {
    match e {
        Ecosystem::CratesIo => "cargo",
        Ecosystem::PyPI => "pypi",
    }
}

fn component(d: &Dependency) -> Value {
    let mut c = json!({
        "type": "library",
        "bom-ref": bom_ref(d),
        "name": d.name,
    });
    let mut props = Vec::new();
    match &d.requirement {
        Requirement::Pinned { text, .. } => {
            c["version"] = json!(text);
            c["purl"] = json!(vex::purl_of(d.ecosystem, &d.name, text));
        }
        Requirement::Range { text, .. } => {
            c["purl"] = json!(vex::purl_of_unversioned(d.ecosystem, &d.name));
            props.push(property("depwatch:requirement", text));
        }
        Requirement::NotChecked { reason } => {
            props.push(property("depwatch:not-checked", reason));
        }
    }
    if let Some(s) = &d.scope {
        props.push(property(crate::manifests::cyclonedx::SCOPE_PROPERTY, s));
    }
    if !props.is_empty() {
        c["properties"] = Value::Array(props);
    }
    c
}

/// The parent's `bom-ref` of a dependency reached along `via` in the same manifest: the
/// package named last in `via` whose own path is the rest of `via`; `None` when no single
/// package is (the edge is then left out rather than guessed).
fn parent<'a>(deps: &'a [Dependency], d: &Dependency, via: &[String]) -> Option<&'a Dependency> {
    let (last, before) = via.split_last()?;
    let name = d.ecosystem.normalize_name(last);
    let mut found = deps.iter().filter(|p| {
        p.ecosystem == d.ecosystem
            && p.ecosystem.normalize_name(&p.name) == name
            && p.via.as_deref() == Some(before)
    });
    match (found.next(), found.next()) {
        (Some(p), None) => Some(p),
        _ => None,
    }
}

/// CycloneDX's justification of the same meaning, where there is one.
fn justification(j: Justification) -> Option<&'static str> {
    match j {
        // The component, and so its vulnerable code, is not there.
        Justification::ComponentNotPresent | Justification::VulnerableCodeNotPresent => {
            Some("code_not_present")
        }
        Justification::VulnerableCodeNotInExecutePath => Some("code_not_reachable"),
        Justification::InlineMitigationsAlreadyExist => Some("protected_by_mitigating_control"),
        // No CycloneDX label says "cannot be controlled by an adversary"; `detail` keeps it.
        Justification::VulnerableCodeCannotBeControlledByAdversary => None,
    }
}

fn method(vector: &str) -> &'static str {
    let v = vector.trim();
    if v.starts_with("CVSS:4.") {
        "CVSSv4"
    } else if v.starts_with("CVSS:3.1/") {
        "CVSSv31"
    } else if v.starts_with("CVSS:3.") {
        "CVSSv3"
    } else {
        "CVSSv2"
    }
}

fn ratings(f: &Finding) -> Vec<Value> {
    let mut out = Vec::new();
    for v in &f.cvss_vectors {
        let m = method(v);
        let score = if m == "CVSSv2" {
            crate::severity::cvss_v2_score(v)
        } else {
            crate::severity::cvss_score(v)
        };
        let mut r = json!({ "method": m, "vector": v });
        match score {
            Some(s) => {
                let level = if m == "CVSSv2" {
                    crate::severity::Level::from_v2_score(s)
                } else {
                    crate::severity::Level::from_score(s)
                };
                r["score"] = json!(s);
                r["severity"] = json!(level.as_str());
                r["justification"] = json!(
                    "vector from the advisory record; base score and severity computed by depwatch"
                );
            }
            None => {
                r["justification"] =
                    json!("vector from the advisory record; depwatch could not score it");
            }
        }
        out.push(r);
    }
    if out.is_empty() {
        out.push(json!({
            "severity": f.severity.as_str(),
            "method": "other",
            "justification": if f.is_malicious() {
                "malware record (OSV MAL-): the record gives no severity".to_string()
            } else {
                "the advisory records give no CVSS vector: their severity level, highest first"
                    .to_string()
            },
        }));
    }
    out
}

fn source(f: &Finding) -> Value {
    let mut s = json!({ "name": f.sources.join(", ") });
    if let Some(u) = &f.url {
        s["url"] = json!(u);
    }
    s
}

fn advice(f: &Finding) -> String {
    let p = &f.package;
    match &f.fix {
        Fix::Upgrade { to } => format!(
            "Upgrade {} from {} to {to} (depwatch's advice: the lowest version that leaves every \
             known advisory on {} behind)",
            p.name, p.version, p.name
        ),
        Fix::NoSafeVersion => format!(
            "No safe upgrade of {} is known yet: each fixed version is hit by another advisory \
             (depwatch's advice)",
            p.name
        ),
        Fix::NoFix => format!(
            "No fixed version of {} is known yet (depwatch's advice)",
            p.name
        ),
        Fix::RemoveRelease { .. } | Fix::CheckIndex { .. } => {
            format!("{} (depwatch's advice)", f.fix.malware_advice())
        }
    }
}

fn affects(reference: &str, version: &str) -> Value {
    json!([{ "ref": reference, "versions": [{ "version": version, "status": "affected" }] }])
}

/// The database an id's prefix names (`RUSTSEC-`: RustSec).
fn database(kind: crate::advisory::IdKind) -> Option<&'static str> {
    use crate::advisory::IdKind as K;
    match kind {
        K::RustSec => Some("RustSec"),
        K::PySec => Some("PyPA Advisory Database"),
        K::Ghsa => Some("GitHub Advisory Database"),
        K::Cve => Some("CVE"),
        K::Malware => Some("OSV malicious packages"),
        K::Other => None,
    }
}

fn references(id: &str, ids: &[String]) -> Vec<Value> {
    ids.iter()
        .filter(|i| *i != id)
        .map(|i| {
            let id = crate::advisory::AdvisoryId::new(i);
            let mut s = json!({});
            if let Some(n) = database(id.kind()) {
                s["name"] = json!(n);
            }
            if let Some(u) = id.url() {
                s["url"] = json!(u);
            }
            json!({ "id": i, "source": s })
        })
        .collect()
}

fn open(f: &Finding) -> Value {
    let p = &f.package;
    let reference = vex::purl_of(p.ecosystem, &p.name, &p.version);
    let mut v = json!({
        "id": f.id,
        "source": source(f),
        "ratings": ratings(f),
        "affects": affects(&reference, &p.version),
        "recommendation": advice(f),
        "properties": [property("depwatch:kind", f.kind.as_str())],
    });
    let refs = references(&f.id, &f.ids);
    if !refs.is_empty() {
        v["references"] = Value::Array(refs);
    }
    let cwes: BTreeSet<u64> = f
        .cwe_ids
        .iter()
        .filter_map(|c| c.trim().strip_prefix("CWE-")?.parse().ok())
        .collect();
    if !cwes.is_empty() {
        v["cwes"] = json!(cwes);
    }
    if let Some(s) = &f.summary {
        v["description"] = json!(s);
    }
    let affected = f.vex.iter().find(|c| c.status == Status::Affected);
    if let Some(c) = affected {
        let mut detail = format!("{} says affected", c.origin);
        if let Some(a) = &c.action_statement {
            detail.push_str(&format!("; its action statement: {a}"));
        }
        v["analysis"] = json!({ "state": "exploitable", "detail": detail });
    } else if let Some(c) = f
        .vex
        .iter()
        .find(|c| c.status == Status::UnderInvestigation)
    {
        v["analysis"] = json!({
            "state": "in_triage",
            "detail": format!("{} says under investigation", c.origin),
        });
    }
    v
}

fn ignored(i: &IgnoredFinding) -> Value {
    let p = &i.package;
    let reference = vex::purl_of(p.ecosystem, &p.name, &p.version);
    let origin = i.origin.as_deref().unwrap_or("an ignore rule");
    let reason = i
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("no reason given");
    // A VEX statement's origin is `FILE statement N` (`vex::VexStatement::origin`).
    let from_vex = i.justification.is_some() || origin.contains(" statement ");
    let analysis = if from_vex {
        let label = i
            .justification
            .map(|j| format!(" (OpenVEX justification {})", j.as_str()))
            .unwrap_or_default();
        let mut a = json!({
            "state": "not_affected",
            "detail": format!("not_affected in {origin}{label}: {reason}"),
        });
        if let Some(j) = i.justification.and_then(justification) {
            a["justification"] = json!(j);
        }
        a
    } else {
        let until = i
            .until
            .as_deref()
            .map(|u| format!(" until {u}"))
            .unwrap_or_default();
        json!({
            "detail": format!(
                "ignored in {origin}{until}: {reason} (an ignore, not a statement that the \
                 project is not affected)"
            ),
        })
    };
    let mut v = json!({
        "id": i.id,
        "affects": affects(&reference, &p.version),
        "analysis": analysis,
    });
    if i.ignored_as != i.id {
        v["references"] = Value::Array(references(&i.id, std::slice::from_ref(&i.ignored_as)));
    }
    v
}

/// The SBOM of a scan: `report` is the scan's, `parsed` its manifests, `subject` the name of
/// the project.
pub fn bom(report: &Report, parsed: &[ParsedManifest], subject: &str) -> Value {
    let root = vex::purl_of_generic(subject);
    let mut components: BTreeMap<String, Value> = BTreeMap::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, _, m) in parsed {
        let Ok(m) = m else { continue };
        for d in &m.dependencies {
            let r = bom_ref(d);
            components.entry(r.clone()).or_insert_with(|| component(d));
            let Some(via) = &d.via else { continue };
            let from = if via.is_empty() {
                Some(root.clone())
            } else {
                parent(&m.dependencies, d, via).map(bom_ref)
            };
            if let Some(from) = from
                && from != r
            {
                edges.entry(from).or_default().insert(r);
            }
        }
    }
    let mut vulns: BTreeMap<(String, String), Value> = BTreeMap::new();
    for f in &report.findings {
        let p = &f.package;
        let key = (f.id.clone(), vex::purl_of(p.ecosystem, &p.name, &p.version));
        vulns.entry(key).or_insert_with(|| open(f));
    }
    for i in &report.ignored {
        let p = &i.package;
        let key = (i.id.clone(), vex::purl_of(p.ecosystem, &p.name, &p.version));
        vulns.entry(key).or_insert_with(|| ignored(i));
    }
    let mut doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "tools": { "components": [{
                "type": "application",
                "name": report.tool.name,
                "version": report.tool.version,
            }]},
            "component": {
                "type": "application",
                "bom-ref": root,
                "name": subject,
            },
            "properties": [property("depwatch:dependencies", DEPENDENCIES_NOTE)],
        },
        "components": components.into_values().collect::<Vec<_>>(),
        "dependencies": edges
            .into_iter()
            .map(|(r, on)| json!({ "ref": r, "dependsOn": on }))
            .collect::<Vec<_>>(),
    });
    if !vulns.is_empty() {
        doc["vulnerabilities"] = Value::Array(vulns.into_values().collect());
    }
    let content = serde_json::to_string(&doc).unwrap_or_default();
    doc["serialNumber"] = json!(serial(content.as_bytes()));
    doc
}

/// `urn:uuid:` of a UUID version 8 (RFC 9562: custom) from the content's SHA-256. Hand-made:
/// eight lines, where the `uuid` crate would be a dependency for one call.
fn serial(content: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, content);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The SBOM as pretty JSON with a final newline.
pub fn to_json(doc: &Value) -> String {
    // A `Value` always serialises.
    serde_json::to_string_pretty(doc).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_is_an_rfc_uuid_that_follows_the_content() {
        let a = serial(b"a");
        assert_eq!(a, serial(b"a"));
        assert_ne!(a, serial(b"b"));
        let u = a.strip_prefix("urn:uuid:").unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "8");
        assert!("89ab".contains(&u[19..20]), "{u}");
    }

    #[test]
    fn an_edge_is_left_out_when_the_parent_is_ambiguous() {
        use std::path::Path;
        let dep = |name: &str, v: &str, via: &[&str]| {
            let mut d = Dependency::new(
                Ecosystem::CratesIo,
                name,
                Requirement::Pinned {
                    version: Ecosystem::CratesIo.parse_version(v).unwrap(),
                    text: v.into(),
                },
                Path::new("Cargo.lock"),
                0,
            );
            d.via = Some(via.iter().map(|s| s.to_string()).collect());
            d
        };
        let deps = vec![
            dep("syn", "1.0.0", &[]),
            dep("syn", "2.0.0", &["a"]),
            dep("a", "1.0.0", &[]),
            dep("quote", "1.0.0", &["syn"]),
            dep("b", "1.0.0", &["a", "syn"]),
        ];
        // Only syn 1.0.0 is reached with an empty path: it is quote's parent.
        assert_eq!(
            parent(&deps, &deps[3], &["syn".into()]).map(bom_ref),
            Some("pkg:cargo/syn@1.0.0".to_string())
        );
        // syn reached via a: syn 2.0.0.
        assert_eq!(
            parent(&deps, &deps[4], &["a".into(), "syn".into()]).map(bom_ref),
            Some("pkg:cargo/syn@2.0.0".to_string())
        );
        let twice = vec![dep("syn", "1.0.0", &[]), dep("syn", "2.0.0", &[])];
        assert!(parent(&twice, &deps[3], &["syn".into()]).is_none());
    }

    #[test]
    fn vectors_are_rated_with_their_method_and_a_computed_score() {
        assert_eq!(method("CVSS:3.1/AV:N"), "CVSSv31");
        assert_eq!(method("CVSS:3.0/AV:N"), "CVSSv3");
        assert_eq!(method("CVSS:4.0/AV:N"), "CVSSv4");
        assert_eq!(method("AV:N/AC:L/Au:N/C:P/I:P/A:P"), "CVSSv2");
        assert_eq!(
            justification(Justification::VulnerableCodeNotInExecutePath),
            Some("code_not_reachable")
        );
        assert_eq!(
            justification(Justification::VulnerableCodeCannotBeControlledByAdversary),
            None
        );
    }
}
