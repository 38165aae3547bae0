//! For users coming from cargo-audit and osv-scanner: their ignore files next to the manifests
//! are honoured (each ignore naming its file), `--deny KIND` fails on warnings of that kind,
//! and `--help` lists the exit codes.

use crate::support::rustsec_source as rustsec;
use crate::support::{depwatch, manifest};
use serde_json::Value;
use std::path::Path;

fn scan(args: &[&str]) -> (Value, i32, String) {
    let out = depwatch(args);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (
        v,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ids(r: &Value, list: &str) -> Vec<String> {
    r[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn copy_lock(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(manifest("uv/Cargo.lock"), dir.join("Cargo.lock")).unwrap();
}

#[test]
fn cargo_audit_and_osv_scanner_ignores_are_honoured_with_their_origin() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    copy_lock(&root);
    // A nested project: osv-scanner.toml does not propagate to child directories, and
    // cargo-audit reads the root's .cargo/audit.toml only.
    copy_lock(&root.join("nested"));
    std::fs::create_dir_all(root.join(".cargo")).unwrap();
    std::fs::write(
        root.join(".cargo/audit.toml"),
        "[advisories]\nignore = [\"RUSTSEC-2023-0071\"] # rsa: Marvin attack, no fix\n",
    )
    .unwrap();
    std::fs::write(
        root.join("osv-scanner.toml"),
        "[[IgnoredVulns]]\nid = \"GHSA-q83h-524g-xf6h\" # an alias of RUSTSEC-2026-0258\nignoreUntil = 2099-01-01\nreason = \"no HTTP/2 server\"\n\n\
         [[IgnoredVulns]]\nid = \"RUSTSEC-2026-0204\"\nignoreUntil = 2020-01-01\nreason = \"was waiting for a release\"\n",
    )
    .unwrap();

    let dir = root.to_str().unwrap();
    let (r, code, err) = scan(&["scan", dir, "--source", &rustsec(), "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let origin_of = |id: &str| -> (String, String) {
        let i = r["ignored"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id} not ignored: {:#}", r["ignored"]));
        (
            i["origin"].as_str().unwrap().to_string(),
            i["package"]["name"].as_str().unwrap().to_string(),
        )
    };
    let (origin, package) = origin_of("RUSTSEC-2023-0071");
    assert!(origin.ends_with(".cargo/audit.toml"), "{origin}");
    assert_eq!(package, "rsa");
    let (origin, package) = origin_of("RUSTSEC-2026-0258");
    assert!(origin.ends_with("project/osv-scanner.toml"), "{origin}");
    assert_eq!(package, "h2");
    let h2 = r["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "RUSTSEC-2026-0258")
        .unwrap();
    assert_eq!(h2["reason"], "no HTTP/2 server");
    assert_eq!(h2["ignored_as"], "GHSA-q83h-524g-xf6h");
    // osv-scanner ignores while ignoreUntil is in the future: 2099-01-01 is the first day
    // the ignore no longer holds, so its last day in force is the day before.
    assert_eq!(h2["until"], "2098-12-31");
    assert_eq!(
        r["ignored"].as_array().unwrap().len(),
        2,
        "{:#}",
        r["ignored"]
    );

    // The expired ignore lets the finding through with a note naming the file.
    let root_findings: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["location"]["file"].as_str().unwrap().contains("nested"))
        .collect();
    let ids_root: Vec<&str> = root_findings
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids_root, ["RUSTSEC-2026-0204"], "{ids_root:?}");
    let note = root_findings[0]["note"].as_str().unwrap();
    assert!(note.contains("expired on 2019-12-31"), "{note}");
    assert!(note.contains("osv-scanner.toml"), "{note}");

    // The nested lockfile keeps all three findings: neither file applies to it.
    let nested: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["file"].as_str().unwrap().contains("nested"))
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(nested.len(), 3, "{nested:?}");

    // The table names the file too.
    let out = depwatch(&["scan", dir, "--source", &rustsec()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("ignored as RUSTSEC-2023-0071 (from ")
            && table.contains(".cargo/audit.toml)"),
        "{table}"
    );

    // A broken ignore file is an input error naming the file and line, not a silent skip.
    std::fs::write(
        root.join("osv-scanner.toml"),
        "[[IgnoredVulns]]\nid = \"X-1\"\nignoreUntil = \"next week\"\n",
    )
    .unwrap();
    let out = depwatch(&["scan", dir, "--source", &rustsec()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("osv-scanner.toml:2: X-1: ignoreUntil"),
        "{err}"
    );
}

#[test]
fn deny_fails_on_warning_kinds_like_cargo_audit() {
    let lock = manifest("uv/Cargo.lock");
    let l = lock.to_str().unwrap();
    let src = rustsec();
    // The three vulnerabilities are below --fail-on critical: only warnings remain.
    let base = [
        "scan",
        l,
        "--source",
        &src,
        "--format",
        "json",
        "--fail-on",
        "critical",
    ];
    let (r, code, _) = scan(&base);
    assert_eq!(code, 0);
    assert!(ids(&r, "warnings").contains(&"RUSTSEC-2026-0221".to_string()));

    let with = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        scan(&a)
    };
    // uv's lock has unsound (event-listener, memmap2) and unmaintained warnings, no notice.
    let (_, code, err) = with(&["--deny", "unsound"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("memmap2 RUSTSEC-2026-0186 (unsound)"), "{err}");
    assert!(!err.contains("unmaintained"), "{err}");
    assert_eq!(with(&["--deny", "unmaintained"]).1, 1);
    assert_eq!(with(&["--deny", "warnings"]).1, 1);
    assert_eq!(with(&["--deny", "notice"]).1, 0);
    assert_eq!(
        with(&["--deny", "yanked"]).1,
        0,
        "no yanked cache: nothing yanked"
    );
    // An ignored warning is not denied.
    let (_, code, err) = with(&[
        "--deny",
        "unsound",
        "--ignore",
        "RUSTSEC-2026-0221",
        "--ignore",
        "RUSTSEC-2026-0186",
    ]);
    assert_eq!(code, 0, "{err}");
    let out = depwatch(&["scan", l, "--source", &src, "--deny", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_lists_the_exit_codes() {
    for cmd in ["scan", "run"] {
        let out = depwatch(&[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Exit codes:"), "{cmd}: {text}");
        for code in ["  0  ", "  1  ", "  2  "] {
            assert!(
                text.contains(code),
                "{cmd} --help lacks exit code {code:?}: {text}"
            );
        }
    }
}
