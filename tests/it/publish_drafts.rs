//! Issue 11 item 7: the GitHub advisory drafts describe the project's own advisory. The JSON
//! that `depwatch run` writes and that `depwatch publish` sends to a loopback GitHub API is
//! checked against GitHub's real REST schema (`../shared/feeds-reference/github-rest`): no
//! dependency CVE as `cve_id`, the project's version range, the release that fixes it.

use crate::support::config::corpus_sources;
use crate::support::github::{FakeGithub, TOKEN};
use crate::support::shared;
use crate::support::{output_text as text, read};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// The repository-advisories extract of GitHub's OpenAPI description.
fn openapi() -> Value {
    let path = shared()
        .join("feeds-reference/github-rest/github-rest-repository-advisories.openapi-extract.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The OpenAPI 3.0 keywords these schemas use ($ref, type, nullable, enum, maxLength,
/// properties, required, additionalProperties, items); a keyword outside that set fails the
/// check, so a schema change cannot pass silently.
fn check(doc: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/components/schemas/").expect("local $ref");
        return check(doc, &doc["components"]["schemas"][name], v, at, errs);
    }
    for k in schema.as_object().expect("schema object").keys() {
        let known = [
            "type",
            "description",
            "nullable",
            "enum",
            "maxLength",
            "properties",
            "required",
            "additionalProperties",
            "items",
            "default",
            "title",
        ];
        assert!(
            known.contains(&k.as_str()),
            "{at}: schema keyword {k} not checked"
        );
    }
    if v.is_null() {
        if schema["nullable"] != true {
            errs.push(format!("{at}: null is not allowed"));
        }
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        errs.push(format!("{at}: {v} is not one of {allowed:?}"));
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let ok = match ty {
        Some("object") => v.is_object(),
        Some("array") => v.is_array(),
        Some("string") => v.is_string(),
        Some("boolean") => v.is_boolean(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("number") => v.is_number(),
        None => true,
        Some(t) => panic!("{at}: type {t} not checked"),
    };
    if !ok {
        errs.push(format!("{at}: {v} is not of type {ty:?}"));
        return;
    }
    if let (Some(max), Some(s)) = (schema.get("maxLength").and_then(Value::as_u64), v.as_str())
        && s.chars().count() as u64 > max
    {
        errs.push(format!("{at}: longer than {max} characters"));
    }
    if let Some(obj) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for r in schema["required"].as_array().into_iter().flatten() {
            let r = r.as_str().unwrap();
            if !obj.contains_key(r) {
                errs.push(format!("{at}: required {r} missing"));
            }
        }
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(doc, s, val, &format!("{at}.{k}"), errs),
                None if schema["additionalProperties"] == false => {
                    errs.push(format!("{at}: property {k} is not allowed"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check(doc, items, x, &format!("{at}[{i}]"), errs);
        }
    }
}

/// Errors of `body` against `components.schemas.NAME`.
fn schema_errors(doc: &Value, name: &str, body: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    check(
        doc,
        &doc["components"]["schemas"][name],
        body,
        name,
        &mut errs,
    );
    errs
}

/// GitHub's range syntax: comparisons `=`, `<`, `<=`, `>`, `>=` with a version, joined by
/// `, ` (the create examples' `< 1.0.0`).
fn is_github_range(r: &str) -> bool {
    !r.is_empty()
        && r.split(", ").all(|part| {
            let (op, v) = part.split_once(' ').unwrap_or(("", ""));
            matches!(op, "=" | "<" | "<=" | ">" | ">=")
                && !v.is_empty()
                && v.starts_with(|c: char| c.is_ascii_digit() || c == 'v')
                && !v.contains([' ', ','])
        })
}

/// The check itself: GitHub's own create examples pass, and it catches what GitHub rejects.
fn schema_check_works(doc: &Value) {
    let examples = &doc["paths"]["/repos/{owner}/{repo}/security-advisories"]["post"]["requestBody"]
        ["content"]["application/json"]["examples"];
    let mut n = 0;
    for (name, ex) in examples.as_object().unwrap() {
        let errs = schema_errors(doc, "repository-advisory-create", &ex["value"]);
        assert!(errs.is_empty(), "example {name}: {errs:?}");
        for r in ex["value"]["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["vulnerable_version_range"].as_str())
        {
            assert!(is_github_range(r), "{r}");
        }
        n += 1;
    }
    assert_eq!(n, 3);
    let mut bad = examples["default"]["value"].clone();
    bad["state"] = "published".into();
    bad["vulnerabilities"][0]["package"]["ecosystem"] = "PyPI".into();
    bad["summary"] = Value::Null;
    let errs = schema_errors(doc, "repository-advisory-create", &bad);
    assert_eq!(errs.len(), 3, "{errs:?}");
    for r in [
        "1.x",
        "<= 1.4.2, 1.x",
        "all released versions",
        "< 1.4.3,>= 1.0",
    ] {
        assert!(!is_github_range(r), "{r}");
    }
}

fn depwatch(store: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = crate::support::command(store);
    c.args(args).env("DEPWATCH_NOW", "2026-12-01T09:00:00Z");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run depwatch")
}

/// emby-watchparty (SECURITY.md: `1.4.x` supported) with `fixed-in`, and uv's workspace (no
/// SECURITY.md, no `versions`), both filing on the loopback GitHub API.
fn config(dir: &Path, gh: &FakeGithub, emby_extra: &str) -> std::path::PathBuf {
    let s = shared();
    let p = |rel: &str| s.join(rel).display().to_string();
    let text = format!(
        r#"
{sources}
[[project]]
name = "emby-watchparty"
path = "{emby}"
security-policy = "{pol}"
fixed-in = "1.4.3"
[project.github]
repo = "octo/demo"
token-env = "DEPWATCH_TEST_GH_TOKEN"
api-url = "{api}"
{emby_extra}

[[project]]
name = "uv-workspace"
path = "{uv}"
"#,
        sources = corpus_sources(),
        emby = p("corpus/manifests/emby-watchparty/requirements.txt"),
        pol = p("policies/emby-watchparty.SECURITY.md"),
        uv = p("corpus/manifests/uv/Cargo.lock"),
        api = gh.server.url,
    );
    let path = dir.join("depwatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn drafts_describe_the_projects_own_advisory_and_publish_sends_it() {
    let doc = openapi();
    schema_check_works(&doc);
    let gh = FakeGithub::start(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.sqlite3");
    let out = dir.path().join("out");
    let cfg = config(dir.path(), &gh, "");
    let (c, o) = (cfg.to_str().unwrap(), out.to_str().unwrap());
    let r = depwatch(
        &store,
        &[
            "run",
            "--offline",
            "--no-deliver",
            "--config",
            c,
            "--out",
            o,
        ],
        &[],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));

    // emby-watchparty: requests 2.31.0 / GHSA-9wx4-h78v-vm56 (CVE-2024-35195 is requests' CVE).
    let adv = out.join("emby-watchparty/advisories");
    let json: Value =
        serde_json::from_str(&read(&adv.join("emby-watchparty-GHSA-9wx4-h78v-vm56.json"))).unwrap();
    let errs = schema_errors(&doc, "repository-advisory-create", &json);
    assert!(errs.is_empty(), "{errs:?}\n{json:#}");
    assert!(json.get("cve_id").is_none_or(Value::is_null), "{json:#}");
    // SECURITY.md line 7 `1.4.x`, ended by `fixed-in = "1.4.3"`.
    assert_eq!(
        json["vulnerabilities"],
        serde_json::json!([{
            "package": {"ecosystem": "other", "name": "emby-watchparty"},
            "vulnerable_version_range": ">= 1.4.0, < 1.4.3",
            "patched_versions": "1.4.3"
        }])
    );
    // The dependency's ids are in the description and its references.
    let desc = json["description"].as_str().unwrap();
    assert!(
        desc.contains("| Dependency's advisory | GHSA-9wx4-h78v-vm56, CVE-2024-35195 |"),
        "{desc}"
    );
    assert!(
        desc.contains("- https://nvd.nist.gov/vuln/detail/CVE-2024-35195"),
        "{desc}"
    );
    assert!(
        desc.contains(
            "| Affected versions | `>= 1.4.0, < 1.4.3` (from SECURITY.md line 7: 1.4.x) |"
        ),
        "{desc}"
    );

    // uv's workspace states no versions: no range is invented, and the markdown says so.
    let uv = out.join("uv-workspace/advisories");
    let mut uv_drafts = 0;
    for e in uv.read_dir().unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            let j: Value = serde_json::from_str(&read(&path)).unwrap();
            let errs = schema_errors(&doc, "repository-advisory-create", &j);
            assert!(errs.is_empty(), "{}: {errs:?}", path.display());
            // Its findings carry CVEs (time: CVE-2020-26235 ...): none becomes the app's.
            assert!(
                j.get("cve_id").is_none_or(Value::is_null),
                "{}",
                path.display()
            );
            for v in j["vulnerabilities"].as_array().unwrap() {
                assert!(v.get("vulnerable_version_range").is_none(), "{v}");
                assert!(v.get("patched_versions").is_none(), "{v}");
            }
            let md = read(&path.with_extension("md"));
            assert!(
                md.contains("| Affected versions | Not known: the SECURITY.md has no supported-versions table and depwatch.toml gives no \\`versions\\` for this project."),
                "{md}"
            );
            uv_drafts += 1;
        }
    }
    assert!(uv_drafts >= 1);

    // publish: what reaches the (loopback) API is the same, and valid.
    let allow = [
        ("DEPWATCH_TEST_GH_TOKEN", TOKEN),
        ("DEPWATCH_GHSA_TOKEN_URL", gh.server.url.as_str()),
    ];
    let r = depwatch(&store, &["publish", "--config", c], &allow);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let posts: Vec<Value> = gh
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "POST")
        .map(|q| serde_json::from_slice(&q.body).unwrap())
        .collect();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let errs = schema_errors(&doc, "repository-advisory-create", &posts[0]);
    assert!(errs.is_empty(), "{errs:?}");
    assert!(
        posts[0].get("cve_id").is_none_or(Value::is_null),
        "{:#}",
        posts[0]
    );
    assert_eq!(posts[0]["vulnerabilities"], json["vulnerabilities"]);
    assert!(!String::from_utf8_lossy(&gh.server.requests()[1].body).contains("\"CVE-2024-35195\""));

    // The maintainers got a CVE for the app's advisory and will fix it in 1.4.4: the config
    // says so (keyed by any of the finding's ids), and the update carries both.
    let cfg = config(
        dir.path(),
        &gh,
        "[project.advisory.CVE-2024-35195]\ncve-id = \"CVE-2026-10001\"\nfixed-in = \"1.4.4\"\n",
    );
    let c = cfg.to_str().unwrap();
    let r = depwatch(&store, &["publish", "--config", c], &allow);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("0 draft(s) filed, 1 updated"),
        "{}",
        text(&r)
    );
    let patches: Vec<Value> = gh
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "PATCH")
        .map(|q| serde_json::from_slice(&q.body).unwrap())
        .collect();
    assert_eq!(patches.len(), 1);
    let errs = schema_errors(&doc, "repository-advisory-update", &patches[0]);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(patches[0]["cve_id"], "CVE-2026-10001");
    assert_eq!(
        patches[0]["vulnerabilities"][0]["vulnerable_version_range"],
        ">= 1.4.0, < 1.4.4"
    );
    assert_eq!(
        patches[0]["vulnerabilities"][0]["patched_versions"],
        "1.4.4"
    );
    for v in patches[0]["vulnerabilities"].as_array().unwrap() {
        assert!(
            is_github_range(v["vulnerable_version_range"].as_str().unwrap()),
            "{v}"
        );
    }
    let filed = gh.store.lock().unwrap().clone();
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0]["cve_id"], "CVE-2026-10001");
}

/// `versions` in the config wins over the table; released versions span lowest to highest.
#[test]
fn config_versions_give_the_range() {
    let doc = openapi();
    let gh = FakeGithub::start(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.sqlite3");
    let out = dir.path().join("out");
    let cfg = config(dir.path(), &gh, "");
    let text_cfg = read(&cfg).replace(
        "fixed-in = \"1.4.3\"\n",
        "versions = [\"1.4.0\", \"1.4.1\", \"1.4.2\"]\nfixed-in = \"1.4.3\"\n",
    );
    std::fs::write(&cfg, text_cfg).unwrap();
    let (c, o) = (cfg.to_str().unwrap(), out.to_str().unwrap());
    let r = depwatch(
        &store,
        &[
            "run",
            "--offline",
            "--no-deliver",
            "--config",
            c,
            "--out",
            o,
        ],
        &[],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let path = out.join("emby-watchparty/advisories/emby-watchparty-GHSA-9wx4-h78v-vm56.json");
    let json: Value = serde_json::from_str(&read(&path)).unwrap();
    assert!(schema_errors(&doc, "repository-advisory-create", &json).is_empty());
    assert_eq!(
        json["vulnerabilities"][0]["vulnerable_version_range"],
        ">= 1.4.0, <= 1.4.2"
    );
    assert_eq!(json["vulnerabilities"][0]["patched_versions"], "1.4.3");

    // A `versions` value that is not versions is a config error with its line.
    std::fs::write(
        &cfg,
        read(&cfg).replace(
            "versions = [\"1.4.0\", \"1.4.1\", \"1.4.2\"]",
            "versions = \"1.x or newer\"",
        ),
    )
    .unwrap();
    let r = depwatch(
        &store,
        &[
            "run",
            "--offline",
            "--no-deliver",
            "--config",
            c,
            "--out",
            o,
        ],
        &[],
    );
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("depwatch.toml:8") && err.contains("versions"),
        "{}",
        text(&r)
    );
}
