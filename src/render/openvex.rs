//! A project's OpenVEX 0.2.0 document (`depwatch vex`), from its scan report and the findings
//! the monitor remembers as resolved.
//!
//! * `not_affected` for each finding an ignore or a VEX statement hides: the justification
//!   label as written in the VEX input; the impact statement is the ignore's reason (or the
//!   input's impact statement); `status_notes` names where the ignore was written.
//! * `affected` for each open finding: the action statement is the project's own (from its
//!   VEX input, named in `status_notes`), else depwatch's fix advice, saying it is depwatch's.
//!   An open finding the project's VEX input only marks `under_investigation` stays so.
//! * `fixed` for each finding the monitor saw resolved and the scan no longer finds. The
//!   subcomponent purl carries no version: the project no longer ships an affected one, and
//!   depwatch does not know which version (if any) replaced it.
//!
//! The product is the project, `pkg:generic/NAME` from its name in depwatch.toml (depwatch
//! supplies it: projects have no purl of their own in the config); each statement's
//! subcomponent is the dependency's purl. Output is deterministic: statements sorted and
//! deduplicated, the document `@id` derived from the content's SHA-256, the timestamp given
//! by the caller.

use crate::monitor::TrackedFinding;
use crate::report::{Finding, Fix, IgnoredFinding, Report};
use crate::vex::{self, Document, Product, Statement, Status, Vulnerability};

/// Why no document was made.
#[derive(Debug, thiserror::Error)]
pub enum OpenVexError {
    /// Nothing to state (the schema requires at least one statement).
    #[error(
        "project {0}: nothing to state (no finding open, ignored or resolved); an OpenVEX \
         document needs at least one statement"
    )]
    Empty(String),
}

/// What [`document`] needs.
pub struct VexInput<'a> {
    /// The project's name.
    pub project: &'a str,
    /// The document's author.
    pub author: &'a str,
    /// The project's scan.
    pub report: &'a Report,
    /// Findings the monitor remembers as resolved, with when.
    pub resolved: &'a [(TrackedFinding, jiff::Timestamp)],
    /// The document's timestamp.
    pub timestamp: jiff::Timestamp,
}

/// The product IRI of a project.
pub fn product_id(project: &str) -> String {
    vex::purl_of_generic(project)
}

fn product(project: &str, subcomponent: String) -> Vec<Product> {
    vec![Product {
        id: Some(product_id(project)),
        identifiers: None,
        subcomponents: vec![Product {
            id: Some(subcomponent),
            identifiers: None,
            subcomponents: Vec::new(),
        }],
    }]
}

fn statement(vulnerability: Vulnerability, products: Vec<Product>, status: Status) -> Statement {
    Statement {
        vulnerability,
        timestamp: None,
        products,
        status,
        status_notes: None,
        justification: None,
        impact_statement: None,
        action_statement: None,
    }
}

fn vulnerability(id: &str, ids: &[String]) -> Vulnerability {
    let mut aliases: Vec<String> = ids.iter().filter(|i| *i != id).cloned().collect();
    aliases.sort();
    aliases.dedup();
    Vulnerability {
        name: id.to_string(),
        aliases,
    }
}

fn not_affected(project: &str, i: &IgnoredFinding) -> Statement {
    let p = &i.package;
    let ids = [i.ignored_as.clone()];
    let mut s = statement(
        vulnerability(&i.id, &ids),
        product(project, vex::purl_of(p.ecosystem, &p.name, &p.version)),
        Status::NotAffected,
    );
    let origin = i.origin.as_deref().unwrap_or("an ignore rule");
    s.justification = i.justification;
    s.impact_statement = match i.reason.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Some(r.to_string()),
        // The spec needs a justification or an impact statement; say that none was given.
        _ if i.justification.is_none() => {
            Some(format!("ignored in {origin}, which gives no reason"))
        }
        _ => None,
    };
    let until = i
        .until
        .as_deref()
        .map(|u| format!(" until {u}"))
        .unwrap_or_default();
    s.status_notes = Some(format!("depwatch: ignored in {origin}{until}"));
    s
}

fn open(project: &str, f: &Finding) -> Statement {
    let p = &f.package;
    let mut s = statement(
        vulnerability(&f.id, &f.ids),
        product(project, vex::purl_of(p.ecosystem, &p.name, &p.version)),
        Status::Affected,
    );
    let own = f
        .vex
        .iter()
        .find(|c| c.status == Status::Affected && c.action_statement.is_some());
    if let Some(c) = own {
        s.action_statement = c.action_statement.clone();
        s.status_notes = Some(format!("depwatch: action statement from {}", c.origin));
        return s;
    }
    if !f.vex.is_empty() && f.vex.iter().all(|c| c.status == Status::UnderInvestigation) {
        s.status = Status::UnderInvestigation;
        s.status_notes = Some(format!(
            "depwatch: found affected by the scan; {} says under investigation",
            f.vex[0].origin
        ));
        return s;
    }
    s.action_statement = Some(match &f.fix {
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
            "No fixed version of {} is known yet (depwatch's advice: watch the advisory)",
            p.name
        ),
        Fix::RemoveRelease { .. } | Fix::CheckIndex { .. } => {
            format!("{} (depwatch's advice)", f.fix.malware_advice())
        }
    });
    s.status_notes = Some("depwatch: found affected by the scan".into());
    s
}

fn fixed(project: &str, t: &TrackedFinding, at: jiff::Timestamp) -> Statement {
    let f = &t.finding;
    let p = &f.package;
    let mut s = statement(
        vulnerability(&f.id, &f.ids),
        product(project, vex::purl_of_unversioned(p.ecosystem, &p.name)),
        Status::Fixed,
    );
    s.status_notes = Some(format!(
        "depwatch: {} {} was affected; resolved {at} (no longer found: upgraded or removed, or \
         the advisory withdrawn)",
        p.name, p.version
    ));
    s
}

/// The project's document.
pub fn document(input: &VexInput) -> Result<Document, OpenVexError> {
    let project = input.project;
    let r = input.report;
    let mut statements: Vec<Statement> = Vec::new();
    statements.extend(r.ignored.iter().map(|i| not_affected(project, i)));
    statements.extend(r.findings.iter().map(|f| open(project, f)));
    // A resolved finding whose package still has the vulnerability (open or ignored) is not
    // fixed for the project.
    let current = |eco: crate::ecosystem::Ecosystem, name: &str, ids: &[String]| {
        let same = |e: crate::ecosystem::Ecosystem, n: &str| {
            e == eco && e.normalize_name(n) == eco.normalize_name(name)
        };
        r.findings.iter().any(|f| {
            same(f.package.ecosystem, &f.package.name) && f.ids.iter().any(|i| ids.contains(i))
        }) || r.ignored.iter().any(|i| {
            same(i.package.ecosystem, &i.package.name)
                && (ids.contains(&i.id) || ids.contains(&i.ignored_as))
        })
    };
    for (t, at) in input.resolved {
        let f = &t.finding;
        if !current(f.package.ecosystem, &f.package.name, &f.ids) {
            statements.push(fixed(project, t, *at));
        }
    }
    statements.sort();
    statements.dedup();
    if statements.is_empty() {
        return Err(OpenVexError::Empty(project.to_string()));
    }
    let timestamp = input.timestamp.to_string();
    let tooling = format!("depwatch {}", env!("CARGO_PKG_VERSION"));
    // The id names the content: the same statements by the same author give the same id.
    let content = serde_json::to_string(&(&statements, input.author, project, &timestamp))
        .unwrap_or_default();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, content.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Document {
        context: vex::CONTEXT.to_string(),
        id: format!("urn:depwatch:openvex:{hex}"),
        author: input.author.to_string(),
        role: None,
        timestamp: Some(timestamp),
        version: Some(1),
        tooling: Some(tooling),
        statements,
    })
}

/// The document as pretty JSON with a final newline.
pub fn to_json(doc: &Document) -> String {
    // Serialising plain structs of strings cannot fail.
    serde_json::to_string_pretty(doc).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::Ecosystem;
    use crate::report::{PackageRef, Summary, Tool};

    fn report(ignored: Vec<IgnoredFinding>) -> Report {
        Report {
            schema_version: 1,
            tool: Tool::default(),
            sources: vec![],
            manifests: vec![],
            findings: vec![],
            warnings: vec![],
            risks: vec![],
            not_checked: vec![],
            ignored,
            not_applicable: vec![],
            load_errors: vec![],
            notices: vec![],
            summary: Summary::default(),
        }
    }

    fn ignored(id: &str, name: &str, reason: Option<&str>) -> IgnoredFinding {
        IgnoredFinding {
            id: id.into(),
            package: PackageRef {
                ecosystem: Ecosystem::PyPI,
                name: name.into(),
                version: "1.0".into(),
            },
            ignored_as: id.into(),
            reason: reason.map(String::from),
            until: None,
            origin: Some(".cargo/audit.toml".into()),
            justification: None,
        }
    }

    #[test]
    fn statements_are_sorted_and_the_id_follows_the_content() {
        let ts: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let a = report(vec![
            ignored("PYSEC-2", "b", None),
            ignored("PYSEC-1", "a", Some("r")),
        ]);
        let b = report(vec![
            ignored("PYSEC-1", "a", Some("r")),
            ignored("PYSEC-2", "b", None),
        ]);
        let doc = |r: &Report| {
            document(&VexInput {
                project: "app",
                author: "me",
                report: r,
                resolved: &[],
                timestamp: ts,
            })
            .unwrap()
        };
        let (da, db) = (doc(&a), doc(&b));
        assert_eq!(to_json(&da), to_json(&db));
        assert_eq!(da.statements[0].vulnerability.name, "PYSEC-1");
        // Without a reason or justification, the impact statement says so (the spec needs one).
        assert_eq!(
            da.statements[1].impact_statement.as_deref(),
            Some("ignored in .cargo/audit.toml, which gives no reason")
        );
        let c = report(vec![ignored("PYSEC-1", "a", Some("other"))]);
        assert_ne!(doc(&c).id, da.id);
        assert!(da.id.starts_with("urn:depwatch:openvex:"));
        let e = document(&VexInput {
            project: "app",
            author: "me",
            report: &report(vec![]),
            resolved: &[],
            timestamp: ts,
        });
        assert!(matches!(e, Err(OpenVexError::Empty(_))));
    }
}
