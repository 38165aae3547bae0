//! JSON: the report's serde form, pretty-printed, with a final newline. The serde derives in
//! `report.rs` define the schema; `README.md` documents it.

use crate::report::{Location, Report};
use std::path::PathBuf;

/// Render the report as pretty JSON.
pub(super) fn render(report: &Report) -> String {
    let mut out = match serde_json::to_string_pretty(report) {
        Ok(s) => s,
        // serde refuses paths that are not UTF-8; write them lossily rather than fail.
        Err(_) => serde_json::to_string_pretty(&lossy_paths(report)).unwrap_or_else(|e| {
            serde_json::json!({ "error": format!("cannot serialise the report: {e}") }).to_string()
        }),
    };
    out.push('\n');
    out
}

/// A copy of the report with every path made valid UTF-8 (U+FFFD for invalid bytes).
fn lossy_paths(report: &Report) -> Report {
    fn fix(p: &mut PathBuf) {
        *p = PathBuf::from(p.to_string_lossy().into_owned());
    }
    fn fix_loc(l: &mut Location) {
        fix(&mut l.file);
    }
    let mut r = report.clone();
    r.manifests.iter_mut().for_each(|m| fix(&mut m.path));
    r.findings.iter_mut().for_each(|f| fix_loc(&mut f.location));
    r.warnings.iter_mut().for_each(|f| fix_loc(&mut f.location));
    r.risks.iter_mut().for_each(|x| fix_loc(&mut x.location));
    r.not_checked
        .iter_mut()
        .for_each(|n| fix_loc(&mut n.location));
    r.not_applicable
        .iter_mut()
        .for_each(|n| fix_loc(&mut n.location));
    r
}

#[cfg(test)]
mod tests {
    use super::super::test_support::sample_report;
    use super::*;
    use crate::advisory::AdvisoryKind;
    use crate::manifests::ManifestKind;
    use crate::report::Fix;
    use crate::severity::Level;
    use serde_json::Value;
    use std::collections::BTreeSet;

    const DOC: &str = include_str!("../../README.md");

    const TOP_LEVEL: [&str; 12] = [
        "schema_version",
        "tool",
        "sources",
        "manifests",
        "findings",
        "warnings",
        "risks",
        "not_checked",
        "ignored",
        "load_errors",
        "notices",
        "summary",
    ];

    #[test]
    fn round_trips_with_the_documented_top_level_keys() {
        let r = sample_report();
        let text = render(&r);
        assert!(text.ends_with("}\n"));
        let v: Value = serde_json::from_str(&text).unwrap();
        let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, TOP_LEVEL.into_iter().collect());
        // Nothing is lost: the text parses back to the report's own serde value.
        assert_eq!(v, serde_json::to_value(&r).unwrap());
        // Fields keep the struct's order (the derives define the schema, not a map's order).
        assert!(
            text.starts_with("{\n  \"schema_version\": 1,\n  \"tool\": {"),
            "{text}"
        );
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["findings"][0]["id"], "PYSEC-2023-62");
        assert_eq!(v["findings"][0]["fix"]["kind"], "upgrade");
        assert_eq!(v["findings"][0]["fix"]["to"], "2.3.2");
        assert_eq!(v["findings"][0]["package"]["ecosystem"], "PyPI");
        assert_eq!(
            v["findings"][0]["via"],
            serde_json::json!(["myapp", "flask-login"])
        );
        assert_eq!(v["findings"][1]["fix"]["kind"], "no_fix");
        assert_eq!(v["warnings"][0]["kind"], "unmaintained");
        assert_eq!(v["warnings"][0]["via"], serde_json::json!([]));
        assert_eq!(v["risks"][1]["suggested"], ">=1.43.0");
        assert!(v["risks"][0].get("suggested").is_none());
        assert_eq!(v["manifests"][0]["kind"], "poetry-lock");
        assert_eq!(v["summary"]["max_severity"], "critical");
    }

    /// Every key the JSON can hold, and every enum value, appears in the schema document.
    #[test]
    fn the_document_covers_every_field_and_enum_value() {
        let mut r = sample_report();
        r.findings[0].markers = Some("python_version < \"3.9\"".into());
        r.findings[0].scope = Some("main".into());
        r.findings[0].member = Some("app".into());
        r.findings[0].note = Some("n".into());
        r.findings[0].disagreements = vec!["x".into()];
        r.not_applicable = vec![crate::report::NotApplicable {
            location: r.findings[0].location.clone(),
            ecosystem: crate::ecosystem::Ecosystem::PyPI,
            name: "aiohttp".into(),
            requirement: "3.8.5".into(),
            markers: "python_version < '3.12'".into(),
            environments: vec!["python 3.12".into()],
            advisories: vec!["PYSEC-2023-246".into()],
            scope: Some("dev".into()),
            member: Some("app".into()),
        }];
        r.summary.not_applicable = 1;
        let v = serde_json::to_value(&r).unwrap();
        let mut keys = BTreeSet::new();
        collect_keys(&v, &mut keys);
        for k in &keys {
            assert!(DOC.contains(&format!("`{k}`")), "README.md lacks `{k}`");
        }
        let mut values: Vec<Value> = Vec::new();
        for k in [
            AdvisoryKind::Vulnerability,
            AdvisoryKind::Unmaintained,
            AdvisoryKind::Unsound,
            AdvisoryKind::Notice,
            AdvisoryKind::Malware,
            AdvisoryKind::Other,
        ] {
            values.push(serde_json::to_value(k).unwrap());
        }
        for l in [
            Level::Critical,
            Level::High,
            Level::Medium,
            Level::Low,
            Level::Unknown,
        ] {
            values.push(serde_json::to_value(l).unwrap());
        }
        for f in [
            Fix::Upgrade { to: "1".into() },
            Fix::NoSafeVersion,
            Fix::NoFix,
        ] {
            values.push(serde_json::to_value(f).unwrap()["kind"].clone());
        }
        for m in [
            ManifestKind::CargoLock,
            ManifestKind::CargoToml,
            ManifestKind::RequirementsTxt,
            ManifestKind::Pyproject,
            ManifestKind::PoetryLock,
            ManifestKind::UvLock,
            ManifestKind::PipfileLock,
            ManifestKind::Pylock,
        ] {
            values.push(serde_json::to_value(m).unwrap());
        }
        for e in [
            crate::ecosystem::Ecosystem::CratesIo,
            crate::ecosystem::Ecosystem::PyPI,
        ] {
            values.push(serde_json::to_value(e).unwrap());
        }
        for value in values {
            let s = value.as_str().unwrap();
            assert!(
                DOC.contains(&format!("`\"{s}\"`")),
                "README.md lacks `\"{s}\"`"
            );
        }
    }

    fn collect_keys(v: &Value, keys: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    keys.insert(k.clone());
                    collect_keys(v, keys);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| collect_keys(v, keys)),
            _ => {}
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_paths_are_written_lossily() {
        use std::os::unix::ffi::OsStrExt;
        let mut r = sample_report();
        r.findings[0].location.file =
            PathBuf::from(std::ffi::OsStr::from_bytes(b"bad\xffname.txt"));
        let v: Value = serde_json::from_str(&render(&r)).unwrap();
        assert_eq!(v["findings"][0]["location"]["file"], "bad\u{fffd}name.txt");
        assert_eq!(v["findings"][1]["location"]["file"], "requirements.txt");
    }
}
