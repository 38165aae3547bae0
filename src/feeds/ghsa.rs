//! GitHub Security Advisories from the REST API (`GET /advisories`), converted into the OSV
//! model at this edge.
//!
//! One query per ecosystem (`pip`, `rust`), reviewed advisories only, sorted by `updated`
//! ascending, 100 per page. Pages are followed through the `Link: <...>; rel="next"` header
//! exactly as GitHub gives it (page URLs are never built here). A sync after the first adds
//! `updated=>=CURSOR`, where the cursor is the newest `updated_at` seen so far. GitHub has no
//! full export, so every pull is an upsert. The filter is inclusive (records updated in the
//! cursor's own second are not lost), so the newest records come back once more and the store
//! skips them as unchanged; only a pull that returns no record at all is `NotModified`. An
//! advisory covering both ecosystems is returned by both queries and kept once.
//!
//! Pagination is bounded ([`MAX_PAGES`] per ecosystem) and a feed that repeats a page (the
//! same next URL twice, or the same body twice in a row) stops with an error instead of
//! looping. A next link to another origin is refused, so the token is never sent elsewhere.
//!
//! The token (from the environment variable the feed definition names) travels only in the
//! `Authorization` header, marked sensitive; errors name URLs through [`redact`].
//!
//! Version ranges: GitHub gives one `vulnerable_version_range` string per package (`">= 1.0,
//! < 1.2.3"`, `"<= 0.4.1"`, `"= 1.0.0"`) plus `first_patched_version`. They become OSV
//! `ECOSYSTEM` events, the way GitHub's own OSV export writes them: no lower bound is
//! `introduced: "0"`; `< x` is `fixed: x` when a first patched version is known, else (no fix
//! exists) no end event and `database_specific.last_known_affected_version_range: "< x"`, which
//! compiling uses as the range's end; `<= x` is `last_affected: x`, unless a first patched
//! version above `x` is known, which then becomes `fixed` (the range is kept in
//! `database_specific.last_known_affected_version_range`); a range with no upper bound takes
//! the first patched version as `fixed`; `= x` is a `versions` entry. When the range and the
//! first patched version disagree, the range wins and the disagreement is noted in the
//! affected entry's `database_specific`.

use super::defs::FeedDef;
use super::{FeedError, FeedUpdate};
use crate::advisory::{
    Advisory, Affected, CompiledAdvisory, Credit, Event, Package, Range, Reference, Severity,
};
use crate::ecosystem::Ecosystem;
use crate::feeds::LoadError;
use crate::feeds::SourceState;
use crate::net::{Conditional, Http, next_link, redact};
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

/// Most pages read per ecosystem in one pull (100,000 advisories at 100 per page).
pub const MAX_PAGES: usize = 1_000;
/// Largest page accepted (100 advisories with long descriptions are well under this).
const PAGE_LIMIT: usize = 32 * 1024 * 1024;
/// The REST API version the conversion is written against.
const API_VERSION: &str = "2022-11-28";

/// A record that cannot be converted (an unparsable version range, a missing id).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", id.as_deref().unwrap_or("(no ghsa_id)"))]
pub struct ConvertError {
    /// The `ghsa_id`, when the record has one.
    pub id: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// A `global-advisory` object as the REST API sends it. Every field may be absent or null.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct GlobalAdvisory {
    ghsa_id: Option<String>,
    cve_id: Option<String>,
    html_url: Option<String>,
    summary: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    severity: Option<String>,
    source_code_location: Option<String>,
    identifiers: Option<Vec<Identifier>>,
    references: Option<Vec<Option<String>>>,
    published_at: Option<String>,
    updated_at: Option<String>,
    github_reviewed_at: Option<String>,
    nvd_published_at: Option<String>,
    withdrawn_at: Option<String>,
    vulnerabilities: Option<Vec<Vulnerability>>,
    cvss: Option<Vector>,
    cvss_severities: Option<CvssSeverities>,
    epss: Option<Value>,
    cwes: Option<Vec<Cwe>>,
    credits: Option<Vec<CreditIn>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Identifier {
    value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Vector {
    vector_string: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct CvssSeverities {
    cvss_v3: Option<Vector>,
    cvss_v4: Option<Vector>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Cwe {
    cwe_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct CreditIn {
    user: Option<User>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct User {
    login: Option<String>,
    html_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Vulnerability {
    package: Option<PackageIn>,
    vulnerable_version_range: Option<String>,
    first_patched_version: Option<String>,
    vulnerable_functions: Option<Vec<Option<String>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct PackageIn {
    ecosystem: Option<String>,
    name: Option<String>,
}

/// The OSV ecosystem name of a GitHub ecosystem (`pip` -> `PyPI`, `rust` -> `crates.io`).
pub fn osv_ecosystem(github: &str) -> String {
    match github {
        "pip" => "PyPI",
        "rust" => "crates.io",
        "npm" => "npm",
        "maven" => "Maven",
        "nuget" => "NuGet",
        "composer" => "Packagist",
        "go" => "Go",
        "rubygems" => "RubyGems",
        "erlang" => "Hex",
        "actions" => "GitHub Actions",
        "pub" => "Pub",
        "swift" => "SwiftURL",
        other => other,
    }
    .to_string()
}

/// The GitHub ecosystem parameter for an OSV ecosystem depwatch syncs.
fn github_ecosystem(osv: &str) -> Option<&'static str> {
    match osv {
        "PyPI" => Some("pip"),
        "crates.io" => Some("rust"),
        _ => None,
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Comparison operators of a GitHub version range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

fn parse_comparators(range: &str) -> Result<Vec<(Op, String)>, String> {
    let shown = || crate::text::shorten(range, 80);
    let mut out = Vec::new();
    for part in range.split(',') {
        let p = part.trim();
        if p.is_empty() {
            return Err(format!("empty comparator in range {:?}", shown()));
        }
        let (op, rest) = if let Some(r) = p.strip_prefix(">=") {
            (Op::Ge, r)
        } else if let Some(r) = p.strip_prefix("<=") {
            (Op::Le, r)
        } else if let Some(r) = p.strip_prefix("==") {
            (Op::Eq, r)
        } else if let Some(r) = p.strip_prefix('=') {
            (Op::Eq, r)
        } else if let Some(r) = p.strip_prefix('<') {
            (Op::Lt, r)
        } else if let Some(r) = p.strip_prefix('>') {
            (Op::Gt, r)
        } else {
            return Err(format!(
                "comparator {:?} in range {:?} has no operator (=, <, <=, >, >=)",
                crate::text::shorten(p, 40),
                shown()
            ));
        };
        let v = rest.trim();
        if v.is_empty()
            || v.chars()
                .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '=' | '!' | ','))
        {
            return Err(format!(
                "comparator {:?} in range {:?} has no single version",
                crate::text::shorten(p, 40),
                shown()
            ));
        }
        out.push((op, v.to_string()));
    }
    Ok(out)
}

/// Order two versions under an ecosystem's rules; `None` when the ecosystem is not one
/// depwatch knows (or a version does not parse).
fn compare(eco: Option<Ecosystem>, a: &str, b: &str) -> Option<Ordering> {
    let eco = eco?;
    Some(eco.parse_version(a).ok()?.cmp(&eco.parse_version(b).ok()?))
}

fn same_version(eco: Option<Ecosystem>, a: &str, b: &str) -> bool {
    compare(eco, a, b).map_or(a.trim() == b.trim(), |o| o == Ordering::Equal)
}

/// The OSV form of one package's `vulnerable_version_range` and `first_patched_version`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RangeConversion {
    /// `ECOSYSTEM` events (empty when the range is a single `= x`).
    pub events: Vec<Event>,
    /// Versions listed one by one (`= x`).
    pub versions: Vec<String>,
    /// Notes for the affected entry's `database_specific` (the original range when the
    /// first patched version replaced its `<=` bound, disagreements between the two).
    pub notes: Map<String, Value>,
}

fn event(kind: &str, v: &str) -> Event {
    let v = Some(v.to_string());
    match kind {
        "introduced" => Event {
            introduced: v,
            ..Default::default()
        },
        "fixed" => Event {
            fixed: v,
            ..Default::default()
        },
        _ => Event {
            last_affected: v,
            ..Default::default()
        },
    }
}

/// Convert a GitHub version range into OSV events. `eco` is the package's ecosystem when
/// depwatch knows it: versions are then checked and compared under its rules. `None` or an
/// empty range means every version. Errors name the offending text.
pub fn convert_range(
    eco: Option<Ecosystem>,
    range: Option<&str>,
    first_patched: Option<&str>,
) -> Result<RangeConversion, String> {
    let patched = first_patched.map(str::trim).filter(|p| !p.is_empty());
    let range = range.map(str::trim).filter(|r| !r.is_empty());
    let comparators = match range {
        Some(r) => parse_comparators(r)?,
        None => Vec::new(),
    };
    if let Some(eco) = eco {
        for (_, v) in &comparators {
            eco.parse_version(v)
                .map_err(|e| format!("range {:?}: {e}", range.unwrap_or("")))?;
        }
    }
    let mut out = RangeConversion::default();
    let conflict = |out: &mut RangeConversion, p: &str, why: String| {
        out.notes
            .insert("first_patched_version".into(), json!(p.to_string()));
        out.notes.insert("conflict".into(), json!(why));
    };
    let shown = range.unwrap_or("");

    let exact: Vec<&String> = comparators
        .iter()
        .filter(|(op, _)| *op == Op::Eq)
        .map(|(_, v)| v)
        .collect();
    if let Some(x) = exact.first() {
        if comparators.len() != 1 {
            return Err(format!(
                "range {shown:?} combines `=` with other comparators"
            ));
        }
        out.versions.push((*x).clone());
        if let Some(p) = patched
            && compare(eco, p, x).is_some_and(|o| o != Ordering::Greater)
        {
            conflict(
                &mut out,
                p,
                format!(
                    "first_patched_version {p} is not above the only affected version {x}; the range is used"
                ),
            );
        }
        return Ok(out);
    }

    let lower: Vec<&(Op, String)> = comparators
        .iter()
        .filter(|(op, _)| matches!(op, Op::Gt | Op::Ge))
        .collect();
    let upper: Vec<&(Op, String)> = comparators
        .iter()
        .filter(|(op, _)| matches!(op, Op::Lt | Op::Le))
        .collect();
    if lower.len() > 1 || upper.len() > 1 {
        return Err(format!(
            "range {shown:?} has more than one lower or upper bound"
        ));
    }
    let lower = lower.first().copied();
    let upper = upper.first().copied();
    if let (Some((lo_op, lo)), Some((hi_op, hi))) = (lower, upper)
        && let Some(o) = compare(eco, lo, hi)
        && (o == Ordering::Greater
            || (o == Ordering::Equal && (*lo_op == Op::Gt || *hi_op == Op::Lt)))
    {
        return Err(format!("range {shown:?} is empty"));
    }

    let introduced = match lower {
        None => "0".to_string(),
        Some((Op::Gt, v)) => {
            // OSV events cannot express an exclusive lower bound: widen it (reporting `v`
            // itself too) rather than drop the record.
            out.notes.insert(
                "lower_bound_widened".into(),
                json!(format!("> {v} read as >= {v}")),
            );
            v.clone()
        }
        Some((_, v)) => v.clone(),
    };
    out.events.push(event("introduced", &introduced));
    let check_patched = |p: &str| -> Result<(), String> {
        match eco {
            Some(eco) => eco
                .parse_version(p)
                .map(|_| ())
                .map_err(|e| format!("first_patched_version: {e}")),
            None => Ok(()),
        }
    };
    match upper {
        Some((Op::Lt, x)) if patched.is_none() => {
            // No patch: `< x` is where GitHub last knew the range to end, not a release that
            // fixes it (time 0.1: "< 0.2"). Written as GitHub's OSV export writes it; compiling
            // ends the range there and says where the end came from.
            out.notes.insert(
                "last_known_affected_version_range".into(),
                json!(format!("< {x}")),
            );
        }
        Some((Op::Lt, x)) => {
            out.events.push(event("fixed", x));
            if let Some(p) = patched
                && !same_version(eco, p, x)
            {
                conflict(
                    &mut out,
                    p,
                    format!(
                        "first_patched_version {p} differs from the range's bound < {x}; the range is used"
                    ),
                );
            }
        }
        Some((_, x)) => {
            // `<= x`: the first patched version, when above x, is the fix GitHub knows of.
            let above = patched.filter(|p| {
                compare(eco, p, x).map_or(!same_version(eco, p, x), |o| o == Ordering::Greater)
            });
            match (above, patched) {
                (Some(p), _) => {
                    check_patched(p)?;
                    out.events.push(event("fixed", p));
                    out.notes.insert(
                        "last_known_affected_version_range".into(),
                        json!(format!("<= {x}")),
                    );
                }
                (None, Some(p)) => {
                    out.events.push(event("last_affected", x));
                    conflict(
                        &mut out,
                        p,
                        format!(
                            "first_patched_version {p} is inside the range <= {x}; the range is used"
                        ),
                    );
                }
                (None, None) => out.events.push(event("last_affected", x)),
            }
        }
        None => {
            if let Some(p) = patched {
                let below_lower = compare(eco, p, &introduced)
                    .is_some_and(|o| o != Ordering::Greater)
                    && introduced != "0";
                if below_lower {
                    conflict(
                        &mut out,
                        p,
                        format!(
                            "first_patched_version {p} is not above the range's lower bound {introduced}; the range is used"
                        ),
                    );
                } else {
                    check_patched(p)?;
                    out.events.push(event("fixed", p));
                }
            }
        }
    }
    Ok(out)
}

fn severity_label(s: &str) -> Option<&'static str> {
    match s.trim().to_ascii_lowercase().as_str() {
        "low" => Some("LOW"),
        "medium" | "moderate" => Some("MODERATE"),
        "high" => Some("HIGH"),
        "critical" => Some("CRITICAL"),
        _ => None,
    }
}

fn vector_kind(v: &str) -> &'static str {
    if v.starts_with("CVSS:4") {
        "CVSS_V4"
    } else if v.starts_with("CVSS:3") {
        "CVSS_V3"
    } else {
        "CVSS_V2"
    }
}

/// Convert one `global-advisory` JSON object into the OSV model.
pub fn to_osv(record: &Value) -> Result<Advisory, ConvertError> {
    let raw_id = record
        .get("ghsa_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from);
    let err = |message: String| ConvertError {
        id: raw_id.clone(),
        message,
    };
    let g: GlobalAdvisory = serde_json::from_value(record.clone())
        .map_err(|e| err(format!("not a global-advisory: {e}")))?;
    let Some(id) = raw_id.clone() else {
        return Err(err("record has no ghsa_id".into()));
    };
    let modified = non_empty(&g.updated_at)
        .or_else(|| non_empty(&g.published_at))
        .ok_or_else(|| err("record has neither updated_at nor published_at".into()))?
        .to_string();

    let mut aliases: Vec<String> = Vec::new();
    let candidates = non_empty(&g.cve_id).into_iter().chain(
        g.identifiers
            .iter()
            .flatten()
            .filter_map(|i| non_empty(&i.value)),
    );
    for a in candidates {
        if a != id && !aliases.iter().any(|x| x == a) {
            aliases.push(a.to_string());
        }
    }

    let mut severity = Vec::new();
    if let Some(cs) = &g.cvss_severities {
        for v in [&cs.cvss_v3, &cs.cvss_v4].into_iter().flatten() {
            if let Some(vs) = non_empty(&v.vector_string) {
                severity.push(Severity {
                    kind: vector_kind(vs).into(),
                    score: vs.to_string(),
                });
            }
        }
    }
    if severity.is_empty()
        && let Some(vs) = g.cvss.as_ref().and_then(|c| non_empty(&c.vector_string))
    {
        severity.push(Severity {
            kind: vector_kind(vs).into(),
            score: vs.to_string(),
        });
    }

    let mut affected = Vec::new();
    for (i, v) in g.vulnerabilities.iter().flatten().enumerate() {
        let Some(pkg) = &v.package else { continue };
        let Some(name) = non_empty(&pkg.name) else {
            continue;
        };
        let eco_name = osv_ecosystem(non_empty(&pkg.ecosystem).unwrap_or("other"));
        let eco = Ecosystem::from_osv(&eco_name);
        let conv = convert_range(
            eco,
            v.vulnerable_version_range.as_deref(),
            v.first_patched_version.as_deref(),
        )
        .map_err(|m| err(format!("vulnerabilities[{i}] ({name}): {m}")))?;
        let functions: Vec<&str> = v
            .vulnerable_functions
            .iter()
            .flatten()
            .filter_map(|f| f.as_deref().map(str::trim).filter(|f| !f.is_empty()))
            .collect();
        affected.push(Affected {
            package: Package {
                ecosystem: eco_name,
                name: name.to_string(),
                purl: None,
            },
            ranges: if conv.events.is_empty() {
                Vec::new()
            } else {
                vec![Range {
                    kind: "ECOSYSTEM".into(),
                    repo: None,
                    events: conv.events,
                    database_specific: None,
                }]
            },
            versions: conv.versions,
            ecosystem_specific: (!functions.is_empty())
                .then(|| json!({ "affected_functions": functions })),
            database_specific: (!conv.notes.is_empty()).then_some(Value::Object(conv.notes)),
        });
    }

    let mut references = Vec::new();
    let mut push_ref = |kind: &str, url: &str| {
        if !references.iter().any(|r: &Reference| r.url == url) {
            references.push(Reference {
                kind: kind.into(),
                url: url.to_string(),
            });
        }
    };
    if let Some(u) = non_empty(&g.html_url) {
        push_ref("ADVISORY", u);
    }
    for u in g.references.iter().flatten().filter_map(non_empty) {
        push_ref("WEB", u);
    }
    if let Some(u) = non_empty(&g.source_code_location) {
        push_ref("PACKAGE", u);
    }

    let credits = g
        .credits
        .iter()
        .flatten()
        .filter_map(|c| {
            let user = c.user.as_ref()?;
            let name = non_empty(&user.login)?;
            Some(Credit {
                name: name.to_string(),
                contact: non_empty(&user.html_url)
                    .map(|u| vec![u.to_string()])
                    .unwrap_or_default(),
                kind: non_empty(&c.kind).map(|k| k.to_ascii_uppercase()),
            })
        })
        .collect();

    let mut db = Map::new();
    if let Some(l) = g.severity.as_deref().and_then(severity_label) {
        db.insert("severity".into(), json!(l));
    }
    let cwe_ids: Vec<&str> = g
        .cwes
        .iter()
        .flatten()
        .filter_map(|c| non_empty(&c.cwe_id))
        .collect();
    db.insert("cwe_ids".into(), json!(cwe_ids));
    db.insert(
        "github_reviewed".into(),
        json!(g.kind.as_deref() == Some("reviewed")),
    );
    db.insert(
        "github_reviewed_at".into(),
        json!(non_empty(&g.github_reviewed_at)),
    );
    db.insert(
        "nvd_published_at".into(),
        json!(non_empty(&g.nvd_published_at)),
    );
    if let Some(e) = g.epss.as_ref().filter(|e| !e.is_null()) {
        db.insert("epss".into(), e.clone());
    }

    Ok(Advisory {
        schema_version: None,
        id,
        modified,
        published: non_empty(&g.published_at).map(String::from),
        withdrawn: non_empty(&g.withdrawn_at).map(String::from),
        aliases,
        related: Vec::new(),
        summary: non_empty(&g.summary).map(String::from),
        details: g.description.filter(|d| !d.trim().is_empty()),
        severity,
        affected,
        references,
        credits,
        database_specific: Some(Value::Object(db)),
    })
}

fn invalid(url: &str, message: String) -> FeedError {
    FeedError::Invalid {
        path: PathBuf::from(redact(url)),
        message,
    }
}

fn headers_for(def: &FeedDef) -> Result<HeaderMap, FeedError> {
    let mut h = HeaderMap::new();
    h.insert(
        header::ACCEPT,
        HeaderValue::from_static("application/vnd.github+json"),
    );
    h.insert(
        "x-github-api-version",
        HeaderValue::from_static(API_VERSION),
    );
    let token = def
        .token_env
        .as_deref()
        .and_then(|name| std::env::var(name).ok().map(|t| (name, t)))
        .filter(|(_, t)| !t.trim().is_empty());
    // The token goes to GitHub only. A base URL overridden in a `depwatch.toml` (which may come
    // with a scanned repository) gets it only when the operator names that URL in
    // $DEPWATCH_GHSA_TOKEN_URL (or `*`): the environment is the operator's, the config may not
    // be.
    let trusted = crate::net::github_token_allowed(
        &def.base_url,
        std::env::var("DEPWATCH_GHSA_TOKEN_URL").ok().as_deref(),
    );
    if let Some((name, token)) = token.filter(|_| trusted) {
        let mut v = HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
            invalid(
                &def.base_url,
                format!("the token in ${name} is not a valid HTTP header value"),
            )
        })?;
        v.set_sensitive(true);
        h.insert(header::AUTHORIZATION, v);
    }
    Ok(h)
}

fn first_url(def: &FeedDef, ecosystem: &str, cursor: Option<&str>) -> Result<String, FeedError> {
    let base = def.base_url.trim_end_matches('/');
    let mut url = reqwest::Url::parse(&format!("{base}/advisories"))
        .map_err(|e| invalid(&def.base_url, format!("not a URL: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("type", "reviewed");
        q.append_pair("ecosystem", ecosystem);
        q.append_pair("per_page", "100");
        if let Some(c) = cursor {
            q.append_pair("updated", &format!(">={c}"));
        }
        q.append_pair("sort", "updated");
        q.append_pair("direction", "asc");
    }
    Ok(url.to_string())
}

fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Every page of one ecosystem's query, following `Link` pagination: (label, body), each body
/// checked to be a JSON array and charged to `budget`. Pages are kept as bytes and parsed one
/// at a time later; parsed JSON values would take several times their size.
async fn fetch_all(
    http: &Http,
    headers: &HeaderMap,
    first: String,
    budget: &super::budget::Budget,
) -> Result<Vec<(String, Vec<u8>)>, FeedError> {
    let origin = reqwest::Url::parse(&first).map_err(|e| invalid(&first, e.to_string()))?;
    let mut records = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut url = first;
    for page in 0.. {
        if page >= MAX_PAGES {
            return Err(invalid(
                &url,
                format!("more than {MAX_PAGES} pages; stopping"),
            ));
        }
        if !seen.insert(url.clone()) {
            return Err(invalid(
                &url,
                format!("pagination returned page {page}'s URL again; stopping"),
            ));
        }
        let fetched = match http.get(&url, headers, None, None, PAGE_LIMIT).await? {
            Conditional::Fetched(f) => f,
            // No validators are sent; a 304 anyway means nothing to read.
            Conditional::NotModified => break,
        };
        if records
            .last()
            .map(|(_, b): &(String, Vec<u8>)| b.as_slice())
            == Some(fetched.body.as_slice())
        {
            return Err(invalid(
                &url,
                format!("page {} repeats the previous page; stopping", page + 1),
            ));
        }
        budget.charge(fetched.body.len() as u64, &redact(&url))?;
        serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(&fetched.body)
            .map_err(|e| invalid(&url, format!("not a JSON array of advisories: {e}")))?;
        let label = format!("{} (page {})", redact(&url), page + 1);
        let next = next_link(&fetched.headers);
        records.push((label, fetched.body));
        let Some(next) = next else {
            break;
        };
        let next = reqwest::Url::parse(&url)
            .and_then(|base| base.join(&next))
            .map_err(|e| invalid(&url, format!("bad next link: {e}")))?;
        if !same_origin(&origin, &next) {
            return Err(invalid(
                &url,
                format!(
                    "next link points to another origin ({})",
                    redact(next.as_str())
                ),
            ));
        }
        url = next.to_string();
    }
    Ok(records)
}

fn newer(a: &str, b: &str) -> bool {
    match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        (Ok(x), Ok(y)) => x > y,
        _ => a > b,
    }
}

/// Pull changed advisories: everything on the first sync, else those updated at or after the
/// cursor. No record at all is [`FeedUpdate::NotModified`].
pub async fn pull(
    http: &Http,
    def: &FeedDef,
    prev: Option<&SourceState>,
) -> Result<FeedUpdate, FeedError> {
    let headers = headers_for(def)?;
    let cursor = prev
        .and_then(|p| p.cursor.as_deref())
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let mut ecosystems: Vec<&str> = def
        .ecosystems
        .iter()
        .filter_map(|e| github_ecosystem(e))
        .collect();
    if def.ecosystems.is_empty() {
        ecosystems = vec!["pip", "rust"];
    }
    ecosystems.dedup();

    let budget = super::budget::Budget::new(http.settings().max_feed_bytes);
    let mut pages = Vec::new();
    for eco in ecosystems {
        let url = first_url(def, eco, cursor)?;
        pages.extend(fetch_all(http, &headers, url, &budget).await?);
    }
    // Each page is parsed when its turn comes and dropped after (checked in fetch_all).
    let mut raw = pages
        .into_iter()
        .flat_map(|(label, body)| {
            let items: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
            items.into_iter().map(move |v| (label.clone(), v))
        })
        .peekable();
    if raw.peek().is_none() {
        return Ok(FeedUpdate::NotModified);
    }

    let mut newest: Option<String> = cursor.map(String::from);
    let mut by_id: BTreeMap<String, Advisory> = BTreeMap::new();
    let mut errors: BTreeMap<String, LoadError> = BTreeMap::new();
    for (file, value) in raw {
        let (file, value) = (&file, &value);
        // Only a real timestamp may become the cursor (it goes back into the query).
        if let Some(u) = value.get("updated_at").and_then(Value::as_str)
            && u.parse::<jiff::Timestamp>().is_ok()
            && newest.as_deref().is_none_or(|n| newer(u, n))
        {
            newest = Some(u.to_string());
        }
        let converted = to_osv(value).and_then(|adv| {
            CompiledAdvisory::compile(adv.clone(), &def.name)
                .map(|_| adv)
                .map_err(|e| ConvertError {
                    id: Some(e.id),
                    message: e.message,
                })
        });
        match converted {
            Ok(adv) => {
                let keep = by_id
                    .get(&adv.id)
                    .is_none_or(|old| !newer(&old.modified, &adv.modified));
                if keep {
                    errors.remove(&adv.id);
                    by_id.insert(adv.id.clone(), adv);
                }
            }
            Err(e) => {
                let key =
                    e.id.clone()
                        .unwrap_or_else(|| format!("{file}#{}", errors.len()));
                if !by_id.contains_key(&key) {
                    errors.insert(
                        key,
                        LoadError {
                            source: def.name.clone(),
                            file: file.clone(),
                            id: e.id,
                            message: e.message,
                        },
                    );
                }
            }
        }
    }
    Ok(FeedUpdate::Upsert {
        advisories: by_id.into_values().collect(),
        errors: errors.into_values().collect(),
        state: SourceState {
            source: def.name.clone(),
            cursor: newest,
            ..Default::default()
        },
    })
}

/// The `ghsa` feed kind, in [`super::registry::REMOTE`].
pub static GHSA: super::registry::WholeFeed = super::registry::WholeFeed {
    kind: super::defs::FeedKind::Ghsa,
    pull: |http, def, prev| Box::pin(pull(http, def, prev)),
};

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(eco: Ecosystem, range: &str, patched: Option<&str>) -> RangeConversion {
        convert_range(Some(eco), Some(range), patched).unwrap_or_else(|e| panic!("{range:?}: {e}"))
    }

    fn ev(c: &RangeConversion) -> Vec<(String, String)> {
        c.events
            .iter()
            .map(|e| {
                if let Some(v) = &e.introduced {
                    ("introduced".to_string(), v.clone())
                } else if let Some(v) = &e.fixed {
                    ("fixed".to_string(), v.clone())
                } else if let Some(v) = &e.last_affected {
                    ("last_affected".to_string(), v.clone())
                } else {
                    ("?".to_string(), String::new())
                }
            })
            .collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    use Ecosystem::{CratesIo, PyPI};

    #[test]
    fn range_shapes() {
        let c = conv(CratesIo, ">= 1.0, < 1.2.3", Some("1.2.3"));
        assert_eq!(ev(&c), pairs(&[("introduced", "1.0"), ("fixed", "1.2.3")]));
        assert!(c.notes.is_empty());

        let c = conv(PyPI, "<= 0.4.1", None);
        assert_eq!(
            ev(&c),
            pairs(&[("introduced", "0"), ("last_affected", "0.4.1")])
        );

        let c = conv(PyPI, "< 4.99.4", Some("4.99.4"));
        assert_eq!(ev(&c), pairs(&[("introduced", "0"), ("fixed", "4.99.4")]));

        let c = conv(CratesIo, "= 1.0.0", Some("1.0.1"));
        assert!(c.events.is_empty());
        assert_eq!(c.versions, vec!["1.0.0"]);
        assert!(c.notes.is_empty());

        let c = conv(CratesIo, ">= 2.0.0, <= 2.3.1", None);
        assert_eq!(
            ev(&c),
            pairs(&[("introduced", "2.0.0"), ("last_affected", "2.3.1")])
        );

        // Only a lower bound: the first patched version closes it; without one it stays open.
        let c = conv(PyPI, ">= 2.0", Some("2.5"));
        assert_eq!(ev(&c), pairs(&[("introduced", "2.0"), ("fixed", "2.5")]));
        let c = conv(PyPI, ">= 2.0", None);
        assert_eq!(ev(&c), pairs(&[("introduced", "2.0")]));

        // No range at all: every version, up to the patch if one is known.
        let c = convert_range(Some(PyPI), None, Some("1.1")).unwrap();
        assert_eq!(ev(&c), pairs(&[("introduced", "0"), ("fixed", "1.1")]));
        let c = convert_range(Some(PyPI), Some("  "), None).unwrap();
        assert_eq!(ev(&c), pairs(&[("introduced", "0")]));
    }

    /// `< x` with no first patched version is GitHub's last known end, not a fix: the same
    /// affected versions as GitHub's OSV export (time, GHSA-wcg3-cvx6-7396: `introduced: 0.1`,
    /// `last_known_affected_version_range: "< 0.2"`), and no `fixed` to advise upgrading to.
    #[test]
    fn lt_without_a_patch_is_the_last_known_end_not_a_fix() {
        let c = conv(CratesIo, ">= 0.1, < 0.2", None);
        assert_eq!(ev(&c), pairs(&[("introduced", "0.1")]));
        assert_eq!(c.notes["last_known_affected_version_range"], "< 0.2");
        let rec = json!({
            "ghsa_id": "GHSA-wcg3-cvx6-7396", "type": "reviewed", "severity": "medium",
            "published_at": "2021-08-25T20:56:46Z", "updated_at": "2022-12-06T00:16:25Z",
            "vulnerabilities": [
                {"package": {"ecosystem": "rust", "name": "time"},
                 "vulnerable_version_range": ">= 0.1, < 0.2", "first_patched_version": null},
                {"package": {"ecosystem": "rust", "name": "time"},
                 "vulnerable_version_range": ">= 0.2.7, < 0.2.23", "first_patched_version": "0.2.23"}
            ]
        });
        let c = CompiledAdvisory::compile(to_osv(&rec).unwrap(), "ghsa").unwrap();
        let hit = |s: &str| {
            let v = CratesIo.parse_version(s).unwrap();
            c.affected.iter().any(|a| a.affects(&v, s))
        };
        assert!(hit("0.1.0") && hit("0.1.43") && hit("0.2.22"));
        assert!(!hit("0.2.0") && !hit("0.2.23") && !hit("0.3.47"));
        assert!(
            c.affected[0].fixed.is_empty(),
            "0.2 is not a patched release"
        );
        assert!(!c.affected[0].unbounded);
        assert_eq!(
            c.affected[0].notes,
            vec![crate::advisory::RangeNote::EndFromLastKnown {
                bound: "< 0.2".into()
            }]
        );
        assert_eq!(
            c.affected[1].fixed,
            vec![CratesIo.parse_version("0.2.23").unwrap()]
        );
    }

    #[test]
    fn odd_spacing_and_order() {
        for r in [
            ">=1.0,<1.2.3",
            " >=  1.0 ,   <  1.2.3 ",
            "<1.2.3, >=1.0",
            ">= 1.0,< 1.2.3",
        ] {
            let c = conv(CratesIo, r, Some("1.2.3"));
            assert_eq!(
                ev(&c),
                pairs(&[("introduced", "1.0"), ("fixed", "1.2.3")]),
                "{r:?}"
            );
        }
        let c = conv(CratesIo, "<=1.0.2", Some("1.0.3"));
        assert_eq!(ev(&c), pairs(&[("introduced", "0"), ("fixed", "1.0.3")]));
        assert_eq!(c.notes["last_known_affected_version_range"], "<= 1.0.2");
        let c = conv(PyPI, "==1.0", None);
        assert_eq!(c.versions, vec!["1.0"]);
        let c = conv(PyPI, "=1.0", None);
        assert_eq!(c.versions, vec!["1.0"]);
    }

    #[test]
    fn prerelease_bounds() {
        let c = conv(
            CratesIo,
            ">= 1.0.0-alpha.1, < 1.0.0-rc.2",
            Some("1.0.0-rc.2"),
        );
        assert_eq!(
            ev(&c),
            pairs(&[("introduced", "1.0.0-alpha.1"), ("fixed", "1.0.0-rc.2")])
        );
        let c = conv(PyPI, ">= 2.0.0a1, < 2.0.0rc1", Some("2.0.0rc1"));
        assert_eq!(
            ev(&c),
            pairs(&[("introduced", "2.0.0a1"), ("fixed", "2.0.0rc1")])
        );
        assert!(c.notes.is_empty());
        let c = conv(PyPI, "<= 3.0.0b2", Some("3.0.0"));
        assert_eq!(ev(&c), pairs(&[("introduced", "0"), ("fixed", "3.0.0")]));
        // A prerelease inside the range is affected once compiled.
        let adv = Advisory {
            id: "GHSA-test".into(),
            modified: "2024-01-01T00:00:00Z".into(),
            affected: vec![Affected {
                package: Package {
                    ecosystem: "PyPI".into(),
                    name: "x".into(),
                    purl: None,
                },
                ranges: vec![Range {
                    kind: "ECOSYSTEM".into(),
                    events: conv(PyPI, ">= 1.0, < 2.0", None).events,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let c = CompiledAdvisory::compile(adv, "ghsa").unwrap();
        let v = PyPI.parse_version("2.0rc1").unwrap();
        assert!(c.affected[0].affects(&v, "2.0rc1"));
    }

    #[test]
    fn conflicts_prefer_the_range_and_are_noted() {
        // `< x` with a different first patched version (requests GHSA-9wx4-h78v-vm56).
        let c = conv(PyPI, "< 2.32.0", Some("2.32.2"));
        assert_eq!(ev(&c), pairs(&[("introduced", "0"), ("fixed", "2.32.0")]));
        assert_eq!(c.notes["first_patched_version"], "2.32.2");
        assert!(c.notes["conflict"].as_str().unwrap().contains("2.32.2"));
        // PEP 440 equality is not a conflict.
        let c = conv(PyPI, "< 2.0", Some("2.0.0"));
        assert!(c.notes.is_empty());
        // A first patched version inside `<= x`.
        let c = conv(CratesIo, "<= 1.5.0", Some("1.4.0"));
        assert_eq!(
            ev(&c),
            pairs(&[("introduced", "0"), ("last_affected", "1.5.0")])
        );
        assert!(c.notes.contains_key("conflict"));
        // A first patched version below the lower bound of an open range.
        let c = conv(CratesIo, ">= 2.0.0", Some("1.0.0"));
        assert_eq!(ev(&c), pairs(&[("introduced", "2.0.0")]));
        assert!(c.notes.contains_key("conflict"));
        // `> x` cannot be said in OSV events: widened and noted.
        let c = conv(CratesIo, "> 1.0.0, < 1.1.0", Some("1.1.0"));
        assert_eq!(
            ev(&c),
            pairs(&[("introduced", "1.0.0"), ("fixed", "1.1.0")])
        );
        assert!(c.notes.contains_key("lower_bound_widened"));
    }

    #[test]
    fn unparsable_ranges_are_errors() {
        for r in [
            "~> 1.0",
            "!= 1.0",
            "1.0.0",
            ">= 1.0,",
            ">= 1.0, >= 1.1",
            "< 1.0, <= 2.0",
            "= 1.0, < 2.0",
            ">= 2.0, < 1.0",
            "> 1.0, < 1.0",
            "< 1.0 2.0",
            "<",
            ">= not_a_version!",
        ] {
            assert!(
                convert_range(Some(CratesIo), Some(r), None).is_err(),
                "{r:?} should be an error"
            );
        }
        assert!(convert_range(Some(PyPI), Some("< 1.0.0.0.0-what"), None).is_err());
        // An unknown ecosystem checks syntax only.
        assert!(convert_range(None, Some(">= v1-beta, < v2"), None).is_ok());
        assert!(convert_range(None, Some("~1"), None).is_err());
    }

    fn openapi_example(name: &str) -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/feeds-reference/github-rest/github-rest-advisories.openapi-extract.json"
        );
        let text = std::fs::read_to_string(path).expect("openapi extract");
        let doc: Value = serde_json::from_str(&text).expect("json");
        doc["components"]["examples"][name]["value"].clone()
    }

    #[test]
    fn openapi_examples_convert() {
        let items = openapi_example("global-advisory-items");
        let single = openapi_example("global-advisory");
        for rec in items.as_array().unwrap().iter().chain([&single]) {
            let a = to_osv(rec).unwrap();
            assert_eq!(a.id, "GHSA-abcd-1234-efgh");
            assert_eq!(a.aliases, vec!["CVE-2050-00000"]);
            assert_eq!(a.modified, "2023-03-24T02:30:56Z");
            assert_eq!(a.published.as_deref(), Some("2023-03-23T02:30:56Z"));
            assert_eq!(a.withdrawn, None);
            let kinds: Vec<&str> = a.severity.iter().map(|s| s.kind.as_str()).collect();
            assert_eq!(kinds, vec!["CVSS_V3", "CVSS_V4"]);
            assert!(a.severity[1].score.starts_with("CVSS:4.0/"));
            let db = a.database_specific.clone().unwrap();
            assert_eq!(db["severity"], "HIGH");
            assert_eq!(db["cwe_ids"], json!(["CWE-400"]));
            assert_eq!(db["github_reviewed"], true);
            assert_eq!(a.severity_label().as_deref(), Some("high"));
            assert_eq!(a.cwe_ids(), vec!["CWE-400"]);
            assert_eq!(a.references[0].kind, "ADVISORY");
            assert_eq!(
                a.references[0].url,
                "https://github.com/advisories/GHSA-abcd-1234-efgh"
            );
            assert!(
                a.references.iter().any(|r| r.kind == "WEB"
                    && r.url == "https://nvd.nist.gov/vuln/detail/CVE-2050-00000")
            );
            assert_eq!(a.credits.len(), 1);
            assert_eq!(a.credits[0].name, "octocat");
            assert_eq!(a.credits[0].kind.as_deref(), Some("ANALYST"));
            assert_eq!(a.affected.len(), 1);
            assert_eq!(a.affected[0].package.ecosystem, "npm");
            assert_eq!(a.affected[0].package.name, "a-package");
            // "<=1.0.2" with first patched 1.0.3.
            let e = &a.affected[0].ranges[0].events;
            assert_eq!(e[0].introduced.as_deref(), Some("0"));
            assert_eq!(e[1].fixed.as_deref(), Some("1.0.3"));
            assert_eq!(
                a.affected[0].ecosystem_specific,
                Some(json!({"affected_functions": ["a_function"]}))
            );
            let c = CompiledAdvisory::compile(a, "ghsa").unwrap();
            // npm is not an ecosystem depwatch matches: compiled with no affected entries.
            assert!(c.affected.is_empty());
            assert!(c.score.is_some());
        }
        // The list example carries EPSS (percentile as a string there): kept as given.
        let a = to_osv(&items[0]).unwrap();
        let db = a.database_specific.unwrap();
        assert_eq!(db["epss"]["percentage"], json!(0.00045));
        assert_eq!(db["epss"]["percentile"], json!("0.16001e0"));
        let a = to_osv(&single).unwrap();
        assert!(a.database_specific.unwrap().get("epss").is_none());
    }

    /// A REST record for a pip or rust package with the odd values the reference README lists.
    fn odd_record() -> Value {
        json!({
            "ghsa_id": "GHSA-odd0-odd0-odd0",
            "cve_id": null,
            "url": "https://api.github.com/advisories/GHSA-odd0-odd0-odd0",
            "html_url": "https://github.com/advisories/GHSA-odd0-odd0-odd0",
            "repository_advisory_url": null,
            "summary": " Leading space in the summary",
            "description": null,
            "type": "reviewed",
            "severity": "medium",
            "source_code_location": "",
            "identifiers": [{"type": "GHSA", "value": "GHSA-odd0-odd0-odd0"}],
            "references": null,
            "published_at": "2024-05-01T10:00:00Z",
            "updated_at": "2024-05-02T10:00:00Z",
            "github_reviewed_at": null,
            "nvd_published_at": null,
            "withdrawn_at": "2024-06-01T00:00:00Z",
            "vulnerabilities": [
                {"package": {"ecosystem": "pip", "name": "Some_Package"},
                 "vulnerable_version_range": ">= 1.0, < 1.4.2",
                 "first_patched_version": null,
                 "vulnerable_functions": [""]},
                {"package": {"ecosystem": "rust", "name": "some-crate"},
                 "vulnerable_version_range": "<= 0.3.0",
                 "first_patched_version": null,
                 "vulnerable_functions": null},
                {"package": null, "vulnerable_version_range": "< 1", "first_patched_version": null,
                 "vulnerable_functions": []}
            ],
            "cvss": {"vector_string": null, "score": null},
            "cvss_severities": {
                "cvss_v3": {"vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", "score": 5.3},
                "cvss_v4": {"vector_string": null, "score": 0}
            },
            "cwes": [],
            "credits": []
        })
    }

    #[test]
    fn odd_values_convert() {
        let a = to_osv(&odd_record()).unwrap();
        assert_eq!(a.summary.as_deref(), Some("Leading space in the summary"));
        assert_eq!(a.details, None);
        assert!(a.aliases.is_empty());
        assert_eq!(a.withdrawn.as_deref(), Some("2024-06-01T00:00:00Z"));
        assert_eq!(a.severity.len(), 1);
        assert_eq!(a.severity[0].kind, "CVSS_V3");
        assert_eq!(a.references.len(), 1);
        let db = a.database_specific.clone().unwrap();
        assert_eq!(db["severity"], "MODERATE");
        assert_eq!(db["cwe_ids"], json!([]));
        assert!(db.get("epss").is_none());
        assert_eq!(a.affected.len(), 2);
        assert_eq!(a.affected[0].package.ecosystem, "PyPI");
        assert_eq!(a.affected[0].ecosystem_specific, None);
        assert_eq!(a.affected[1].package.ecosystem, "crates.io");
        let c = CompiledAdvisory::compile(a, "ghsa").unwrap();
        assert!(c.is_withdrawn());
        assert_eq!(c.affected.len(), 2);
        assert_eq!(c.affected[0].name, "some-package");
        let v = |e: Ecosystem, s: &str| e.parse_version(s).unwrap();
        assert!(c.affected[0].affects(&v(PyPI, "1.4.1"), "1.4.1"));
        assert!(!c.affected[0].affects(&v(PyPI, "1.4.2"), "1.4.2"));
        assert!(!c.affected[0].affects(&v(PyPI, "0.9"), "0.9"));
        assert!(c.affected[1].affects(&v(CratesIo, "0.3.0"), "0.3.0"));
        assert!(!c.affected[1].affects(&v(CratesIo, "0.3.1"), "0.3.1"));
        assert!(c.affected[1].unbounded || c.affected[1].fixed.is_empty());

        // Only the legacy `cvss` vector: used.
        let mut r = odd_record();
        r["cvss_severities"] = Value::Null;
        r["cvss"] =
            json!({"vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "score": 9.8});
        let a = to_osv(&r).unwrap();
        assert_eq!(a.severity.len(), 1);
        assert!(a.severity[0].score.ends_with("A:H"));
    }

    #[test]
    fn broken_records_name_their_id() {
        let mut r = odd_record();
        r["vulnerabilities"][1]["vulnerable_version_range"] = json!(">= banana");
        let e = to_osv(&r).unwrap_err();
        assert_eq!(e.id.as_deref(), Some("GHSA-odd0-odd0-odd0"));
        assert!(e.message.contains("some-crate"), "{}", e.message);
        let e = to_osv(&json!({"summary": "no id"})).unwrap_err();
        assert_eq!(e.id, None);
        let e = to_osv(&json!({"ghsa_id": "GHSA-x", "references": 5})).unwrap_err();
        assert_eq!(e.id.as_deref(), Some("GHSA-x"));
        let e = to_osv(&json!({"ghsa_id": "GHSA-y"})).unwrap_err();
        assert!(e.message.contains("updated_at"));
        assert!(to_osv(&json!([1, 2])).is_err());
    }

    #[test]
    fn link_header_parsing() {
        let mut h = HeaderMap::new();
        h.insert(
            header::LINK,
            HeaderValue::from_static(
                "<https://api.github.com/advisories?per_page=2&before=X>; rel=\"prev\", <https://api.github.com/advisories?per_page=2&after=Y3Vy,c29y>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/advisories?per_page=2&after=Y3Vy,c29y")
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::LINK,
            HeaderValue::from_static("<https://x/a?after=1>; rel=\"prev first\""),
        );
        assert_eq!(next_link(&h), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    /// The REST form of a few real GHSA advisories (built from the data of their OSV records in
    /// `feeds-reference/ghsa-osv`, which has no REST copies) converts to the same affected
    /// versions as GitHub's own OSV export of them.
    #[test]
    fn rest_and_osv_forms_agree() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/feeds-reference/ghsa-osv"
        );
        let rest = |id: &str, eco: &str, vulns: Value| {
            json!({
                "ghsa_id": id, "type": "reviewed", "severity": "high",
                "published_at": "2023-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
                "vulnerabilities": vulns.as_array().unwrap().iter().map(|v| json!({
                    "package": {"ecosystem": eco, "name": v[0]},
                    "vulnerable_version_range": v[1],
                    "first_patched_version": v[2],
                    "vulnerable_functions": []
                })).collect::<Vec<_>>()
            })
        };
        let cases: Vec<(&str, &str, Value, Vec<&str>)> = vec![
            (
                "crates.io/GHSA-4q83-7cq4-p6wg",
                "rust",
                json!([
                    ["tokio", ">= 1.21.0, < 1.24.2", "1.24.2"],
                    ["tokio", ">= 1.19.0, < 1.20.4", "1.20.4"],
                    ["tokio", ">= 0.2.0, < 1.18.5", "1.18.5"]
                ]),
                vec![
                    "0.1.22", "0.2.0", "1.18.4", "1.18.5", "1.19.0", "1.20.4", "1.22.0", "1.24.2",
                    "1.25.0",
                ],
            ),
            (
                "crates.io/GHSA-f8vr-r385-rh5r",
                "rust",
                json!([["hyper", "<= 0.14.25", null], ["h2", "<= 0.3.16", null]]),
                vec!["0.1.0", "0.3.16", "0.3.17", "0.14.25", "0.14.26", "1.0.0"],
            ),
            (
                "crates.io/GHSA-6g7w-8wpp-frhj",
                "rust",
                json!([
                    ["rustls", ">= 0.23.0, <= 0.23.4", "0.23.5"],
                    ["rustls", ">= 0.22.0, <= 0.22.3", "0.22.4"],
                    ["rustls", ">= 0.21.0, <= 0.21.10", "0.21.11"],
                    ["rustls", "= 0.20", null]
                ]),
                vec![
                    "0.19.1", "0.20.0", "0.20.9", "0.21.0", "0.21.10", "0.21.11", "0.22.3",
                    "0.22.4", "0.23.4", "0.23.5",
                ],
            ),
            (
                "PyPI/GHSA-34jh-p97f-mpxf",
                "pip",
                json!([
                    ["urllib3", "< 1.26.19", "1.26.19"],
                    ["urllib3", ">= 2.0.0, < 2.2.2", "2.2.2"]
                ]),
                vec![
                    "1.0", "1.26.18", "1.26.19", "2.0.0", "2.2.1", "2.2.2", "2.3",
                ],
            ),
            (
                // No patch for 0.1: GitHub's OSV export leaves the range open with
                // last_known_affected_version_range "< 0.2"; both end it there.
                "crates.io/GHSA-wcg3-cvx6-7396",
                "rust",
                json!([
                    ["time", ">= 0.1, < 0.2", null],
                    ["time", ">= 0.2.7, < 0.2.23", "0.2.23"]
                ]),
                vec![
                    "0.0.9", "0.1.0", "0.1.43", "0.2.0", "0.2.6", "0.2.7", "0.2.22", "0.2.23",
                    "0.3.47",
                ],
            ),
            (
                "PyPI/GHSA-753j-mpmx-qq6g",
                "pip",
                json!([["tornado", "<= 6.4.0", "6.4.1"]]),
                vec!["5.0", "6.4", "6.4.0", "6.4.1", "6.5"],
            ),
            (
                "PyPI/GHSA-84pr-m4jr-85g5",
                "pip",
                json!([["flask-cors", "<= 4.0.0", null]]),
                vec!["3.0", "4.0.0", "4.0.1", "5.0"],
            ),
            (
                "PyPI/GHSA-vm8q-m57g-pff3",
                "pip",
                json!([
                    ["django", ">= 3.2, < 3.2.25", "3.2.25"],
                    ["django", ">= 4.2, < 4.2.11", "4.2.11"],
                    ["django", ">= 5.0, < 5.0.3", "5.0.3"]
                ]),
                vec![
                    "3.1", "3.2", "3.2.24", "3.2.25", "4.0", "4.2.10", "4.2.11", "5.0rc1", "5.0",
                    "5.0.3",
                ],
            ),
        ];
        for (file, eco, vulns, samples) in cases {
            let text = std::fs::read_to_string(format!("{dir}/{file}.json")).unwrap();
            let osv: Advisory = serde_json::from_str(&text).unwrap();
            let id = osv.id.clone();
            let from_osv = CompiledAdvisory::compile(osv, "ghsa-osv").unwrap();
            let from_rest =
                CompiledAdvisory::compile(to_osv(&rest(&id, eco, vulns)).unwrap(), "ghsa").unwrap();
            let e = from_osv.affected[0].ecosystem;
            for s in samples {
                let v = e.parse_version(s).unwrap();
                let hit = |c: &CompiledAdvisory| c.affected.iter().any(|a| a.affects(&v, s));
                assert_eq!(hit(&from_osv), hit(&from_rest), "{id} {s}");
            }
        }

        // A known, deliberate difference: where GitHub's range and first patched version
        // disagree, GitHub's OSV export uses the patched version and this conversion the range
        // (requests: "< 2.32.0", first patched 2.32.2).
        let text = std::fs::read_to_string(format!("{dir}/PyPI/GHSA-9wx4-h78v-vm56.json")).unwrap();
        let osv = CompiledAdvisory::compile(serde_json::from_str(&text).unwrap(), "o").unwrap();
        let rec = rest(
            "GHSA-9wx4-h78v-vm56",
            "pip",
            json!([["requests", "< 2.32.0", "2.32.2"]]),
        );
        let converted = to_osv(&rec).unwrap();
        assert!(
            converted.affected[0].database_specific.as_ref().unwrap()["conflict"]
                .as_str()
                .is_some()
        );
        let ours = CompiledAdvisory::compile(converted, "ghsa").unwrap();
        let v = PyPI.parse_version("2.32.1").unwrap();
        assert!(osv.affected[0].affects(&v, "2.32.1"));
        assert!(!ours.affected[0].affects(&v, "2.32.1"));
        let v = PyPI.parse_version("2.31.0").unwrap();
        assert!(osv.affected[0].affects(&v, "2.31.0") && ours.affected[0].affects(&v, "2.31.0"));
    }
}
