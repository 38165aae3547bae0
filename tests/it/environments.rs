//! Target environments (issue 14 section 1) and `--fail-scope runtime`, through the real
//! binary on the corpus and the PyPA snapshot.

use crate::util::{depwatch, depwatch_store, manifest, pypa_dir};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn source() -> String {
    format!("osv-dir:{}", pypa_dir().display())
}

/// `depwatch scan --source PYPA ARGS... PATH` as JSON, and its exit code.
fn scan_json(path: &Path, args: &[&str]) -> (Value, i32) {
    let src = source();
    let p = path.display().to_string();
    let mut all = vec!["scan", "--source", &src, "--format", "json"];
    all.extend_from_slice(args);
    all.push(&p);
    let o = depwatch(&all);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (v, o.status.code().unwrap_or(-1))
}

/// Lines of the findings on `name` at `version`.
fn finding_lines(r: &Value, name: &str, version: &str) -> BTreeSet<u64> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == name && f["package"]["version"] == version)
        .map(|f| f["location"]["line"].as_u64().unwrap())
        .collect()
}

fn not_applicable(r: &Value) -> Vec<(String, String, u64)> {
    r["not_applicable"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| {
                    (
                        n["name"].as_str().unwrap().to_string(),
                        n["requirement"].as_str().unwrap().to_string(),
                        n["location"]["line"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

const AIOHTTP_385: [&str; 5] = [
    "PYSEC-2023-246",
    "PYSEC-2023-250",
    "PYSEC-2023-251",
    "PYSEC-2024-24",
    "PYSEC-2024-26",
];

/// The acceptance case: home-assistant pins aiohttp 3.8.5 for `python_version<'3.12'` (lines 4
/// and 180) and 3.9.0b0 for `>='3.12'` (lines 5 and 179), and a few more `<'3.12'` pins.
#[test]
fn home_assistant_pins_for_two_declared_python_versions() {
    let ha = manifest("home-assistant/requirements.txt");
    // Undeclared: every marker may apply, as before (22 findings, no new key).
    let (all, code) = scan_json(&ha, &[]);
    assert_eq!(code, 1);
    assert_eq!(all["summary"]["findings"], 22);
    assert!(all.get("not_applicable").is_none());
    assert!(all["summary"].get("not_applicable").is_none());

    // 3.11 and 3.12: each pin holds in one of them, so every one stays.
    let (both, _) = scan_json(&ha, &["--python", "3.11", "--python", "3.12"]);
    assert_eq!(both["summary"]["findings"], 22);
    assert_eq!(not_applicable(&both), []);

    // 3.12 and 3.13: the `<'3.12'` pins are ruled out, the `>='3.12'` ones stay.
    let (new, code) = scan_json(&ha, &["--python", "3.12", "--python", "3.13"]);
    assert_eq!(code, 1, "aiohttp 3.9.0b0 still has findings");
    assert_eq!(
        not_applicable(&new),
        [
            ("aiohttp".into(), "3.8.5".into(), 4),
            ("aiohttp".into(), "3.8.5".into(), 180),
            ("RestrictedPython".into(), "6.2".into(), 329),
            ("datapoint".into(), "0.9.8".into(), 858),
            ("webexteamssdk".into(), "1.1.1".into(), 2911),
        ]
    );
    let first = &new["not_applicable"][0];
    assert_eq!(first["markers"], "python_version<'3.12'");
    assert_eq!(
        first["environments"],
        serde_json::json!(["python 3.12", "python 3.13"])
    );
    assert_eq!(first["advisories"], serde_json::json!(AIOHTTP_385));
    assert!(first.get("scope").is_none());
    // Not counted: the ten aiohttp 3.8.5 findings are gone from findings and totals.
    assert!(finding_lines(&new, "aiohttp", "3.8.5").is_empty());
    assert_eq!(
        finding_lines(&new, "aiohttp", "3.9.0b0"),
        BTreeSet::from([5, 179])
    );
    assert_eq!(new["summary"]["findings"], 12);
    assert_eq!(new["summary"]["not_applicable"], 5);
    assert_eq!(new["summary"]["dependencies"], 1010);

    // 3.11 alone: the other way round.
    let (old, _) = scan_json(&ha, &["--python", "3.11"]);
    assert_eq!(
        not_applicable(&old),
        [
            ("aiohttp".into(), "3.9.0b0".into(), 5),
            ("aiohttp".into(), "3.9.0b0".into(), 179),
            ("RestrictedPython".into(), "7.0a1.dev0".into(), 332),
        ]
    );
    assert_eq!(
        finding_lines(&old, "aiohttp", "3.8.5"),
        BTreeSet::from([4, 180])
    );
    assert_eq!(old["summary"]["findings"], 14);
}

/// A project whose only vulnerable pin its markers rule out passes, and every format says
/// what was left out and why.
#[test]
fn a_ruled_out_pin_never_fails_and_every_format_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("requirements.txt");
    std::fs::write(
        &req,
        "aiohttp==3.8.5 ; sys_platform == 'win32' or python_version < '3.12'\n\
         colorama==0.4.6 ; platform_machine == 'x86_64' and sys_platform == 'linux'\n",
    )
    .unwrap();
    let (r, code) = scan_json(&req, &[]);
    assert_eq!((code, r["summary"]["findings"].as_u64()), (1, Some(5)));

    let declared = ["--python", "3.12", "--platform", "linux"];
    let (r, code) = scan_json(&req, &declared);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["summary"]["findings"], 0);
    // colorama's marker holds on linux for some platform_machine: it applies.
    assert_eq!(not_applicable(&r), [("aiohttp".into(), "3.8.5".into(), 1)]);
    assert_eq!(
        r["not_applicable"][0]["environments"],
        serde_json::json!(["python 3.12, linux"])
    );
    // On Windows the aiohttp pin applies again.
    let (r, code) = scan_json(&req, &["--python", "3.12", "--platform", "windows"]);
    assert_eq!((code, r["summary"]["findings"].as_u64()), (1, Some(5)));
    assert_eq!(not_applicable(&r), [("colorama".into(), "0.4.6".into(), 2)]);

    let src = source();
    let p = req.display().to_string();
    let render = |format: &str| {
        let mut args = vec!["scan", "--source", &src, "--format", format];
        args.extend_from_slice(&declared);
        args.push(&p);
        let o = depwatch(&args);
        assert_eq!(o.status.code(), Some(0), "{format}");
        String::from_utf8(o.stdout).unwrap()
    };
    let table = render("table");
    assert!(
        table.contains("Not applicable here (markers) (1): not counted, alerted or failed on")
            && table.contains("declared environments: python 3.12, linux")
            && table.contains("would be: PYSEC-2023-246, PYSEC-2023-250")
            && table.contains("1 not applicable here"),
        "{table}"
    );
    let md = render("markdown");
    assert!(
        md.contains("## Not applicable here (markers) (1)")
            && md.contains("| Not applicable here (markers) | 1 |")
            && md.contains("(python 3.12, linux)"),
        "{md}"
    );
    let sarif: Value = serde_json::from_str(&render("sarif")).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["results"], serde_json::json!([]));
    let na = &run["properties"]["depwatch/notApplicable"][0];
    assert_eq!(na["package"], "aiohttp");
    assert_eq!(na["startLine"], 1);
    assert_eq!(na["advisories"], serde_json::json!(AIOHTTP_385));
}

#[test]
fn bad_declarations_and_unreadable_markers_are_said() {
    let ha = manifest("home-assistant/requirements.txt");
    let src = source();
    let p = ha.display().to_string();
    for (flag, value, want) in [
        ("--python", "3.x", "python `3.x` is not a Python release"),
        (
            "--platform",
            "beos",
            "platform `beos` is not one depwatch knows",
        ),
        ("--implementation", "jython", "implementation `jython`"),
    ] {
        let o = depwatch(&["scan", "--source", &src, flag, value, &p]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "{err}");
    }
    // A marker pep508_rs would read only in part counts as applying, with a notice.
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("requirements.txt");
    std::fs::write(
        &req,
        "aiohttp==3.8.5 ; python_version == 'bogus' or python_version < '3'\n",
    )
    .unwrap();
    let (r, code) = scan_json(&req, &["--python", "3.12"]);
    assert_eq!(code, 1);
    assert_eq!(r["summary"]["findings"], 5);
    let notice = r["notices"][0].as_str().unwrap();
    assert!(
        notice.contains("requirements.txt:1: the markers of aiohttp could not be evaluated")
            && notice.contains("counted as applying"),
        "{notice}"
    );
}

/// A Pipfile.lock: `default` is runtime, `develop` is scope `dev`.
fn pipfile(dir: &Path, default: &str, develop: &str) -> std::path::PathBuf {
    let p = dir.join("Pipfile.lock");
    std::fs::write(
        &p,
        format!(
            r#"{{
    "_meta": {{"hash": {{"sha256": "x"}}, "pipfile-spec": 6, "requires": {{}}, "sources": []}},
    "default": {{{default}}},
    "develop": {{{develop}}}
}}
"#
        ),
    )
    .unwrap();
    p
}

#[test]
fn fail_scope_runtime_fails_only_on_runtime_findings_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let dev_only = pipfile(
        dir.path(),
        r#""idna": {"version": "==3.7"}"#,
        r#""aiohttp": {"version": "==3.8.5"}"#,
    );
    let (r, code) = scan_json(&dev_only, &[]);
    assert_eq!(code, 1);
    let (quiet, code) = scan_json(&dev_only, &["--fail-scope", "runtime"]);
    assert_eq!(code, 0, "{quiet}");
    // Quiet is never hidden: the same findings, with their scope.
    assert_eq!(quiet["findings"], r["findings"]);
    assert_eq!(quiet["summary"]["findings"], 5);
    assert!(
        quiet["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["scope"] == "dev")
    );
    // --deny follows the scope too: no warning here, so still 0.
    let (_, code) = scan_json(
        &dev_only,
        &["--fail-scope", "runtime", "--deny", "warnings"],
    );
    assert_eq!(code, 0);

    let runtime = pipfile(
        dir.path(),
        r#""aiohttp": {"version": "==3.8.5"}"#,
        r#""pytest": {"version": "==8.0.0"}"#,
    );
    let (_, code) = scan_json(&runtime, &["--fail-scope", "runtime"]);
    assert_eq!(code, 1);
    let (_, code) = scan_json(&runtime, &["--fail-scope", "all"]);
    assert_eq!(code, 1);
    let o = depwatch(&["scan", "--fail-scope", "everything", "x"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `run --ci`: a project's `python` rules out its runtime pin (no alert, no draft, a notice),
/// its dev finding fails the run unless `--fail-scope runtime`.
#[test]
fn run_ci_uses_the_projects_environments_and_fail_scope() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    pipfile(
        &app,
        r#""aiohttp": {"version": "==3.8.5", "markers": "python_version < '3.12'"}"#,
        r#""aiohttp": {"version": "==3.9.0"}"#,
    );
    let config = dir.path().join("depwatch.toml");
    std::fs::write(
        &config,
        format!(
            "sources = [\"osv-dir:{}\"]\n\n[[project]]\nname = \"app\"\npath = \"app\"\n\
             python = [\"3.12\", \"3.13\"]\nplatforms = [\"linux\"]\n",
            pypa_dir().display()
        ),
    )
    .unwrap();
    let store = dir.path().join("store.sqlite3");
    let out = dir.path().join("out");
    let run = |extra: &[&str]| {
        let c = config.display().to_string();
        let o = out.display().to_string();
        let mut args = vec!["run", "--ci", "--json", "--config", &c, "--out", &o];
        args.extend_from_slice(extra);
        let output = depwatch_store(&store, &args);
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (report, output.status.code())
    };
    let (r, code) = run(&["--offline"]);
    assert_eq!(code, Some(1), "{r}");
    let p = &r["projects"][0];
    assert!(p.get("error").is_none(), "{p}");
    // Only the dev pin's findings are open (aiohttp 3.9.0: PYSEC-2024-24, -26).
    assert_eq!(p["open"], 2, "{p}");
    assert!(p.get("max_runtime_severity").is_none(), "{p}");
    let notices = p["notices"].to_string();
    assert!(
        notices.contains(
            "1 dependencies not applicable in the declared environments \
             (python 3.12, linux; python 3.13, linux) by their markers, with 5 advisories not \
             counted: aiohttp 3.8.5"
        ),
        "{notices}"
    );
    // No draft for the ruled-out pin's advisories.
    let drafts: Vec<String> = std::fs::read_dir(out.join("app/advisories"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        drafts.len(),
        4,
        "a .md and a .json per open finding: {drafts:?}"
    );
    let (r, code) = run(&["--no-sync", "--fail-scope", "runtime"]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["projects"][0]["open"], 2);
    // The job summary says why a run with open findings passed.
    let summary = dir.path().join("step-summary.md");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_depwatch"))
        .args([
            "run",
            "--ci",
            "--no-sync",
            "--fail-scope",
            "runtime",
            "--config",
        ])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .env("NO_COLOR", "1")
        .env("DEPWATCH_STORE", &store)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("Only open findings of runtime dependencies fail the run"),
        "{md}"
    );

    // The flag is for --ci only.
    let c = config.display().to_string();
    let o = depwatch_store(&store, &["run", "--config", &c, "--fail-scope", "runtime"]);
    assert_eq!(o.status.code(), Some(2));
}
