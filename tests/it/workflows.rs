//! Issue 6: the workflow files, the Dockerfile and the compose example. None of them can run
//! here, so these tests hold them to what can be checked: the YAML parses, the structure is the
//! documented one, and every `depwatch` command line they contain uses only subcommands and flags
//! the real binary accepts (checked against its `--help`). The nightly job's own commands are also
//! run for real on the corpus, with the remote feeds turned off.

use crate::support::shared;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use yaml_serde::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
    yaml_serde::from_str::<Value>(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The workflow's `on:` map. A YAML 1.1 reader turns the bare key `on` into `true`.
fn on(doc: &Value) -> &Value {
    doc.get("on")
        .or_else(|| doc.get(Value::Bool(true)))
        .expect("workflow has an `on` key")
}

fn steps(doc: &Value) -> Vec<&Value> {
    let jobs = doc.get("jobs").and_then(Value::as_mapping).expect("jobs");
    jobs.values()
        .flat_map(|j| {
            j.get("steps")
                .and_then(Value::as_sequence)
                .expect("job steps")
                .iter()
        })
        .collect()
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The step that `uses:` an action whose reference starts with `prefix` (e.g. `actions/cache/save@`).
fn uses<'a>(steps: &[&'a Value], prefix: &str) -> (usize, &'a Value) {
    steps
        .iter()
        .enumerate()
        .find(|(_, s)| str_at(s, "uses").is_some_and(|u| u.starts_with(prefix)))
        .map(|(i, s)| (i, *s))
        .unwrap_or_else(|| panic!("no step uses {prefix}"))
}

/// Checks one cron field: `*`, `*/N`, or a comma list of `A`, `A-B`, `A-B/N` within `lo..=hi`.
fn cron_field_ok(field: &str, lo: u32, hi: u32) -> bool {
    let num = |s: &str| s.parse::<u32>().ok().filter(|n| (lo..=hi).contains(n));
    field.split(',').all(|part| {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        let step_ok = step.is_none_or(|s| s.parse::<u32>().is_ok_and(|n| n >= 1 && n <= hi));
        let range_ok = range == "*"
            || match range.split_once('-') {
                Some((a, b)) => matches!((num(a), num(b)), (Some(a), Some(b)) if a <= b),
                None => num(range).is_some(),
            };
        !part.is_empty() && step_ok && range_ok
    })
}

/// A standard five-field cron expression (minute hour day-of-month month day-of-week).
fn cron_ok(expr: &str) -> bool {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let limits = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    fields.len() == 5
        && fields
            .iter()
            .zip(limits)
            .all(|(f, (lo, hi))| cron_field_ok(f, lo, hi))
}

#[test]
fn cron_checker_rejects_bad_expressions() {
    assert!(cron_ok("17 3 * * *"));
    assert!(cron_ok("*/15 0-6,22 1 */2 1-5"));
    assert!(!cron_ok("17 3 * *"), "four fields");
    assert!(!cron_ok("60 3 * * *"), "minute out of range");
    assert!(!cron_ok("17 24 * * *"), "hour out of range");
    assert!(!cron_ok("17 3 0 * *"), "day of month starts at 1");
    assert!(!cron_ok("17 3 * * * *"), "six fields");
    assert!(!cron_ok("17 3 5-1 * *"), "backwards range");
    assert!(!cron_ok("x 3 * * *"));
}

/// The `depwatch ...` command lines of a shell script, as words, cut at `||`, `&&`, `;`, `|`.
/// Backslash continuations are joined first.
fn depwatch_commands(script: &str) -> Vec<Vec<String>> {
    let joined = script.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let words = shell_words(line);
        let Some(start) = words.iter().position(|w| w == "depwatch") else {
            continue;
        };
        // `cargo install ... depwatch` names the crate, it does not run the binary.
        if start != 0 && words[..start].iter().all(|w| w != "exec") {
            continue;
        }
        let cmd: Vec<String> = words[start + 1..]
            .iter()
            .take_while(|w| !matches!(w.as_str(), "||" | "&&" | ";" | "|"))
            .cloned()
            .collect();
        out.push(cmd);
    }
    out
}

/// Splits a shell line into words, dropping quotes (enough for the scripts checked here).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, '#') if cur.is_empty() && !any => break,
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        words.push(cur);
    }
    words
}

#[test]
fn command_extraction_handles_continuations_and_operators() {
    let script = "status=0\ndepwatch scan . \\\n  --format sarif -o \"out file\" || status=$?\n\
                  cargo install --locked depwatch\n# depwatch --bogus\n";
    let cmds = depwatch_commands(script);
    assert_eq!(
        cmds,
        vec![vec!["scan", ".", "--format", "sarif", "-o", "out file"]]
    );
}

/// `depwatch SUBCOMMAND --help`, cached per subcommand.
struct Help(HashMap<String, String>);

impl Help {
    fn new() -> Help {
        Help(HashMap::new())
    }

    fn text(&mut self, sub: &str) -> &str {
        self.0.entry(sub.to_string()).or_insert_with(|| {
            let out = Command::new(env!("CARGO_BIN_EXE_depwatch"))
                .args([sub, "--help"])
                .output()
                .expect("run depwatch --help");
            assert!(
                out.status.success(),
                "`depwatch {sub} --help` failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        })
    }

    /// Asserts that the binary knows the subcommand and every flag of `argv` (words after
    /// `depwatch`); `what` names the file for the failure message.
    fn check(&mut self, what: &str, argv: &[String]) {
        let sub = argv
            .first()
            .unwrap_or_else(|| panic!("{what}: bare `depwatch`"));
        assert!(!sub.starts_with('-'), "{what}: no subcommand in {argv:?}");
        let help = self.text(sub).to_string();
        for word in &argv[1..] {
            if !word.starts_with('-') || word == "-" {
                continue;
            }
            let flag = word.split('=').next().unwrap_or(word);
            assert!(
                has_flag(&help, flag),
                "{what}: `depwatch {sub}` does not accept {flag} (argv {argv:?})"
            );
        }
    }
}

/// Whether the help text lists `flag` as a whole word (`--out` must not match `--output`).
fn has_flag(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(i, _)| {
        let before = help[..i].chars().next_back();
        let after = help[i + flag.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '-'));
        boundary(before) && boundary(after)
    })
}

#[test]
fn help_check_rejects_unknown_flags() {
    let mut help = Help::new();
    let run = help.text("run").to_string();
    assert!(has_flag(&run, "--out"));
    assert!(has_flag(&run, "--ci"));
    assert!(!has_flag(&run, "--outp"));
    assert!(!has_flag(&run, "--daemon"));
    let scan = help.text("scan").to_string();
    assert!(has_flag(&scan, "-o"));
    assert!(has_flag(&scan, "--output"));
}

fn all_runs(doc: &Value) -> Vec<(String, Vec<Vec<String>>)> {
    steps(doc)
        .iter()
        .filter_map(|s| str_at(s, "run"))
        .map(|r| (r.to_string(), depwatch_commands(r)))
        .collect()
}

const NIGHTLY: &str = ".github/workflows/nightly-advisories.yml";

#[test]
fn nightly_workflow_triggers_and_permissions() {
    let doc = yaml(NIGHTLY);
    let on = on(&doc);
    let cron = on
        .get("schedule")
        .and_then(|s| s.get(0))
        .and_then(|s| str_at(s, "cron"))
        .expect("on.schedule[0].cron");
    assert!(cron_ok(cron), "bad cron {cron:?}");
    assert!(
        on.get("workflow_dispatch").is_some(),
        "workflow_dispatch missing"
    );
    // The dispatch input offers exactly the levels `--fail-on` parses.
    let options = on
        .get("workflow_dispatch")
        .and_then(|w| w.get("inputs"))
        .and_then(|i| i.get("fail_on"))
        .and_then(|i| i.get("options"))
        .and_then(Value::as_sequence)
        .expect("workflow_dispatch.inputs.fail_on.options");
    let options: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
    assert_eq!(options, ["critical", "high", "medium", "low", "unknown"]);

    let perms = doc
        .get("permissions")
        .and_then(Value::as_mapping)
        .expect("permissions");
    assert_eq!(
        perms.len(),
        3,
        "only the three permissions it needs: {perms:?}"
    );
    assert_eq!(str_at(&doc["permissions"], "contents"), Some("read"));
    assert_eq!(
        str_at(&doc["permissions"], "security-events"),
        Some("write")
    );
    // upload-sarif needs it in private repositories (issue 12).
    assert_eq!(str_at(&doc["permissions"], "actions"), Some("read"));
}

/// The step that `uses:` an action starting with `prefix` and whose `with.key` starts with
/// `key` (the workflow caches two things: the store and the depwatch binary).
fn cache_step<'a>(steps: &[&'a Value], prefix: &str, key: &str) -> (usize, &'a Value) {
    steps
        .iter()
        .enumerate()
        .find(|(_, s)| {
            str_at(s, "uses").is_some_and(|u| u.starts_with(prefix))
                && s.get("with")
                    .and_then(|w| str_at(w, "key"))
                    .is_some_and(|k| k.starts_with(key))
        })
        .map(|(i, s)| (i, *s))
        .unwrap_or_else(|| panic!("no step uses {prefix} with a key {key}..."))
}

/// Issue 12 item 14: every third-party action is pinned by a full commit id with the tag it
/// was taken from in a comment (`uses: owner/repo@<40 hex> # vX.Y.Z`), so a moved tag cannot
/// change what runs with the job's token.
#[test]
fn nightly_workflow_pins_every_action_by_commit() {
    let text = read(NIGHTLY);
    let mut seen = 0;
    for line in text.lines().map(str::trim) {
        let Some(rest) = line
            .strip_prefix("- uses:")
            .or_else(|| line.strip_prefix("uses:"))
        else {
            continue;
        };
        seen += 1;
        let (reference, comment) = rest.trim().split_once(" # ").unwrap_or((rest.trim(), ""));
        let (action, sha) = reference
            .split_once('@')
            .unwrap_or_else(|| panic!("{line}: no @ref"));
        assert!(action.contains('/') && !action.starts_with('.'), "{line}");
        assert!(
            sha.len() == 40 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{line}: not pinned by a full commit id"
        );
        let tag = comment.trim();
        assert!(
            tag.strip_prefix('v').is_some_and(|v| !v.is_empty()
                && v.split('.')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))),
            "{line}: the tag (vX.Y.Z) belongs in a comment"
        );
    }
    assert!(seen >= 5, "expected the nightly job's actions, saw {seen}");
}

/// Issue 12 item 14: depwatch comes from a binary cached per version, built only on a miss.
#[test]
fn nightly_workflow_installs_depwatch_from_a_cached_binary() {
    let doc = yaml(NIGHTLY);
    let steps = steps(&doc);
    let (restore_at, restore) = cache_step(&steps, "actions/cache/restore@", "depwatch-bin-");
    let (save_at, save) = cache_step(&steps, "actions/cache/save@", "depwatch-bin-");
    let key = str_at(&restore["with"], "key").unwrap();
    assert!(key.contains("env.DEPWATCH_REF"), "keyed by version: {key}");
    assert_eq!(str_at(&save["with"], "key"), Some(key));
    let path = str_at(&restore["with"], "path").unwrap();
    assert_eq!(str_at(&save["with"], "path"), Some(path));
    let id = str_at(restore, "id").expect("the restore step has an id");
    let miss = format!("steps.{id}.outputs.cache-hit != 'true'");
    let (build_at, build) = steps
        .iter()
        .enumerate()
        .find(|(_, s)| str_at(s, "run").is_some_and(|r| r.contains("cargo")))
        .map(|(i, s)| (i, *s))
        .expect("a build step");
    assert_eq!(
        str_at(build, "if"),
        Some(miss.as_str()),
        "built only on a miss"
    );
    assert_eq!(
        str_at(save, "if"),
        Some(miss.as_str()),
        "saved only after a build"
    );
    let script = str_at(build, "run").unwrap();
    assert!(
        script.contains(&format!("--root {path}")),
        "installs into the cached path: {script}"
    );
    let (install_at, _) = steps
        .iter()
        .enumerate()
        .find(|(_, s)| str_at(s, "id") == Some("install"))
        .expect("the install step");
    assert!(restore_at < build_at && build_at < save_at && save_at < install_at);
    let (cycle_at, _) = steps
        .iter()
        .enumerate()
        .find(|(_, s)| str_at(s, "id") == Some("cycle"))
        .expect("the cycle step");
    assert!(install_at < cycle_at);
}

/// Issue 12 item 14: every base image is pinned by digest, with its tag in a comment on the
/// line above (`# rust:1.95-trixie`) and in the reference itself.
#[test]
fn dockerfile_pins_base_images_by_digest() {
    let text = read("Dockerfile");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut stages: Vec<String> = Vec::new();
    let mut seen = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("FROM ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let image = words
            .iter()
            .find(|w| !w.starts_with("--"))
            .expect("an image");
        if let Some(at) = words.iter().position(|w| w.eq_ignore_ascii_case("AS")) {
            stages.push(words[at + 1].to_string());
        }
        if stages[..stages.len().saturating_sub(1)]
            .iter()
            .any(|s| s == image)
        {
            continue; // an earlier stage, not a base image
        }
        seen += 1;
        let (tagged, digest) = image
            .split_once("@sha256:")
            .unwrap_or_else(|| panic!("{line}: not pinned by digest"));
        assert!(
            digest.len() == 64
                && digest
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{line}: bad digest"
        );
        assert!(
            tagged.contains(':'),
            "{line}: keep the tag in the reference"
        );
        assert_eq!(
            i.checked_sub(1).map(|j| lines[j]),
            Some(format!("# {tagged}").as_str()),
            "{line}: the tag in a comment above"
        );
    }
    assert!(seen >= 2, "the build and runtime base images");
}

#[test]
fn nightly_workflow_steps() {
    let doc = yaml(NIGHTLY);
    let steps = steps(&doc);
    let job_env = doc["jobs"]
        .as_mapping()
        .and_then(|j| j.values().next())
        .and_then(|j| j.get("env"))
        .expect("job env");
    let store = str_at(job_env, "DEPWATCH_STORE").expect("DEPWATCH_STORE");
    let fail_on = str_at(job_env, "FAIL_ON").expect("FAIL_ON");
    assert!(fail_on.contains("inputs.fail_on"), "{fail_on}");

    // Restore, then the cycle, then SARIF; the store is saved even when the cycle fails.
    let (restore_at, restore) = cache_step(&steps, "actions/cache/restore@", "depwatch-store-");
    let (save_at, save) = cache_step(&steps, "actions/cache/save@", "depwatch-store-");
    let (upload_at, upload) = uses(&steps, "github/codeql-action/upload-sarif@");
    let path = str_at(&restore["with"], "path").expect("restore path");
    assert_eq!(str_at(&save["with"], "path"), Some(path));
    assert!(
        store.starts_with(&format!("{path}/")),
        "{store} not in {path}"
    );
    let key = str_at(&restore["with"], "key").unwrap();
    assert!(key.starts_with("depwatch-store-") && key.contains("github.run_id"));
    assert_eq!(str_at(&save["with"], "key"), Some(key));
    assert_eq!(
        str_at(&restore["with"], "restore-keys"),
        Some("depwatch-store-")
    );
    for (name, step) in [("save", save), ("upload-sarif", upload)] {
        let cond = str_at(step, "if").unwrap_or_default();
        assert!(
            cond.contains("always()"),
            "{name} must run after a failed cycle: {cond:?}"
        );
    }

    let find = |sub: &str| {
        steps
            .iter()
            .enumerate()
            .find(|(_, s)| {
                str_at(s, "run").is_some_and(|r| {
                    depwatch_commands(r)
                        .iter()
                        .any(|c| c.first().map(String::as_str) == Some(sub))
                })
            })
            .map(|(i, s)| (i, *s))
            .unwrap_or_else(|| panic!("no step runs `depwatch {sub}`"))
    };
    let (run_at, run_step) = find("run");
    let (scan_at, scan_step) = find("scan");
    assert!(restore_at < run_at && run_at < scan_at && scan_at < upload_at && run_at < save_at);

    // The cycle decides the job: --ci, --fail-on from FAIL_ON, never continue-on-error.
    let run_cmd = &depwatch_commands(str_at(run_step, "run").unwrap())[0];
    assert!(run_cmd.iter().any(|w| w == "--ci"), "{run_cmd:?}");
    let i = run_cmd
        .iter()
        .position(|w| w == "--fail-on")
        .expect("--fail-on");
    assert_eq!(run_cmd[i + 1], "$FAIL_ON");
    assert!(run_step.get("continue-on-error").is_none());
    assert!(run_step.get("if").is_none(), "the cycle always runs");
    for secret in [
        "DEPWATCH_SLACK_WEBHOOK",
        "DEPWATCH_SMTP_PASSWORD",
        "GITHUB_TOKEN",
    ] {
        let v = str_at(&run_step["env"], secret).unwrap_or_default();
        assert!(v.contains("secrets."), "{secret} from secrets: {v:?}");
    }

    // The SARIF file the scan writes is the one uploaded.
    let scan_cmd = &depwatch_commands(str_at(scan_step, "run").unwrap())[0];
    let f = scan_cmd.iter().position(|w| w == "--format").unwrap();
    assert_eq!(scan_cmd[f + 1], "sarif");
    let o = scan_cmd
        .iter()
        .position(|w| w == "-o" || w == "--output")
        .unwrap();
    assert_eq!(
        str_at(&upload["with"], "sarif_file"),
        Some(&*scan_cmd[o + 1])
    );
    assert!(str_at(scan_step, "if").is_some_and(|c| c.contains("always()")));

    // Installing depwatch is the user's choice of source, written once.
    let install = steps
        .iter()
        .filter_map(|s| str_at(s, "run"))
        .find(|r| r.contains("cargo install"))
        .expect("a cargo install step");
    assert!(install.contains("--locked"), "{install}");
}

#[test]
fn workflow_commands_use_only_accepted_flags() {
    let mut help = Help::new();
    let mut seen = 0;
    for file in [NIGHTLY, ".github/workflows/ci.yml"] {
        for (_, cmds) in all_runs(&yaml(file)) {
            for argv in cmds {
                help.check(file, &argv);
                seen += 1;
            }
        }
    }
    assert!(
        seen >= 2,
        "expected the nightly job's run and scan commands"
    );
}

#[test]
fn ci_workflow_runs_the_ci_script() {
    let doc = yaml(".github/workflows/ci.yml");
    let on = on(&doc);
    assert!(on.get("push").is_some() && on.get("pull_request").is_some());
    let steps = steps(&doc);
    let script_step = steps
        .iter()
        .find(|s| str_at(s, "run").is_some_and(|r| r.contains(".ci/run")))
        .expect("a step runs .ci/run");
    // .ci/run is relative to the checkout the step runs in.
    let checkout = uses(&steps, "actions/checkout@").1;
    let checkout_path = checkout.get("with").and_then(|w| str_at(w, "path"));
    assert_eq!(str_at(script_step, "working-directory"), checkout_path);
    let (_, toolchain) = uses(&steps, "dtolnay/rust-toolchain@");
    let components = str_at(&toolchain["with"], "components").unwrap_or_default();
    assert!(components.contains("rustfmt") && components.contains("clippy"));
    // No setup-python: the email tests run the system Python that Debian's python3-aiosmtpd
    // installs into.
    assert!(
        !steps
            .iter()
            .any(|s| str_at(s, "uses").is_some_and(|u| u.starts_with("actions/setup-python@"))),
        "setup-python would shadow the system Python the tests use"
    );

    let script = read(".ci/run");
    let lines: Vec<&str> = script
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let has = |parts: &[&str]| lines.iter().any(|l| parts.iter().all(|p| l.contains(p)));
    assert!(has(&["cargo fmt", "--check"]), "fmt --check");
    assert!(
        has(&["cargo clippy", "--all-targets", "-D warnings"]),
        "clippy"
    );
    assert!(has(&["cargo test", "--locked", "--all-targets"]), "tests");
    assert!(has(&["aiosmtpd"]), "the SMTP test server");
    // A GitHub runner is not root: apt-get goes through sudo there, directly as root.
    assert!(
        has(&["id -u"]) && has(&["sudo \"$@\""]),
        "apt-get through sudo"
    );
    assert!(
        has(&["as_root apt-get update"]) && has(&["as_root env", "apt-get install"]),
        "both apt-get calls go through as_root"
    );
}

/// Dockerfile instructions as (KEYWORD, arguments), continuations joined.
fn dockerfile() -> Vec<(String, String)> {
    read("Dockerfile")
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (k, rest) = l.split_once(char::is_whitespace)?;
            Some((k.to_ascii_uppercase(), rest.trim().to_string()))
        })
        .collect()
}

fn exec_form(what: &str, args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("{what} must be exec form: {args}: {e}"))
}

#[test]
fn dockerfile_is_multi_stage_non_root_and_runs_accepted_flags() {
    let ins = dockerfile();
    let froms: Vec<usize> = (0..ins.len()).filter(|&i| ins[i].0 == "FROM").collect();
    assert!(froms.len() >= 2, "multi-stage: {} FROM", froms.len());
    let runtime = &ins[*froms.last().unwrap()..];
    assert!(
        runtime
            .iter()
            .any(|(k, a)| k == "COPY" && a.starts_with("--from=")),
        "the runtime stage copies the binary from the build stage"
    );
    let user = runtime
        .iter()
        .rev()
        .find(|(k, _)| k == "USER")
        .map(|(_, a)| a.clone())
        .expect("a USER in the runtime stage");
    let name = user.split(':').next().unwrap();
    assert!(!matches!(name, "root" | "0" | ""), "USER {user}");

    // The store sits on a volume: a read-only root filesystem is enough.
    let env = runtime
        .iter()
        .filter(|(k, _)| k == "ENV")
        .map(|(_, a)| a.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let store = env
        .split_whitespace()
        .find_map(|w| w.strip_prefix("DEPWATCH_STORE="))
        .expect("ENV DEPWATCH_STORE");
    let volumes: Vec<String> = runtime
        .iter()
        .filter(|(k, _)| k == "VOLUME")
        .flat_map(|(_, a)| exec_form("VOLUME", a))
        .collect();
    assert!(
        volumes.iter().any(|v| Path::new(store).starts_with(v)),
        "{store} not on a VOLUME {volumes:?}"
    );

    let entry = runtime
        .iter()
        .rfind(|(k, _)| k == "ENTRYPOINT")
        .map(|(_, a)| exec_form("ENTRYPOINT", a))
        .expect("ENTRYPOINT");
    let cmd = runtime
        .iter()
        .rfind(|(k, _)| k == "CMD")
        .map(|(_, a)| exec_form("CMD", a))
        .expect("CMD");
    assert_eq!(entry, ["depwatch"]);
    Help::new().check("Dockerfile CMD", &cmd);
}

#[test]
fn compose_is_read_only_with_the_store_on_a_volume() {
    let doc = yaml("compose.yaml");
    let services = doc
        .get("services")
        .and_then(Value::as_mapping)
        .expect("services");
    assert!(!services.is_empty());
    // Named volumes must be declared at the top level.
    let on_volume = |name: &str, svc: &Value, dir: &str| {
        let named = svc
            .get("volumes")
            .and_then(Value::as_sequence)
            .expect("volumes")
            .iter()
            .filter_map(Value::as_str)
            .find(|v| {
                v.split(':')
                    .nth(1)
                    .is_some_and(|t| Path::new(dir).starts_with(t))
            })
            .and_then(|v| v.split(':').next())
            .unwrap_or_else(|| panic!("{name}: {dir} is not on a volume"));
        if !named.starts_with(['.', '/', '~']) {
            assert!(
                doc["volumes"].get(named).is_some(),
                "volume {named} undeclared"
            );
        }
    };
    let profiles = |svc: &Value| -> Vec<String> {
        svc.get("profiles")
            .and_then(Value::as_sequence)
            .map(|p| {
                p.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut help = Help::new();
    let (mut sqlite, mut pg) = (0, 0);
    for (name, svc) in services {
        let name = name.as_str().unwrap_or("?");
        assert_eq!(
            svc.get("read_only").and_then(Value::as_bool),
            Some(true),
            "{name}: read_only"
        );
        let image = str_at(svc, "image").unwrap_or("");
        if image.starts_with("postgres:") {
            // The server: in the variant's profile, its data on a named volume, its run dir
            // on tmpfs (the root is read-only), its password from the environment.
            assert_eq!(profiles(svc), ["postgres"], "{name}: profile");
            let data = str_at(&svc["environment"], "PGDATA").unwrap_or("/var/lib/postgresql/data");
            on_volume(name, svc, data);
            let tmpfs: Vec<&str> = svc["tmpfs"]
                .as_sequence()
                .expect("tmpfs")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(tmpfs.contains(&"/var/run/postgresql"), "{name}: {tmpfs:?}");
            let pw = str_at(&svc["environment"], "POSTGRES_PASSWORD").expect("POSTGRES_PASSWORD");
            assert!(
                pw.starts_with("${POSTGRES_PASSWORD"),
                "{name}: inline password"
            );
            continue;
        }
        assert_eq!(image, "depwatch:local", "{name}: image");
        let store = str_at(&svc["environment"], "DEPWATCH_STORE").unwrap_or("/data/store.sqlite3");
        if let Some(url) = store.strip_prefix("postgres://") {
            pg += 1;
            // The PostgreSQL variant: a user but no password in the URL, which names the
            // compose service it depends on; the password comes from the environment.
            assert_eq!(profiles(svc), ["postgres"], "{name}: profile");
            let (user, rest) = url.split_once('@').expect("user@host");
            assert!(!user.contains(':'), "{name}: a password in {store}");
            let host = rest.split([':', '/']).next().unwrap_or("");
            assert!(
                services.get(host).is_some() && svc["depends_on"].get(host).is_some(),
                "{name}: {host} is not a service it depends on"
            );
            let pw = str_at(&svc["environment"], "PGPASSWORD").expect("PGPASSWORD");
            assert!(
                pw.starts_with("${POSTGRES_PASSWORD"),
                "{name}: inline password"
            );
            // Drafts and release notes still go to a volume.
            on_volume(name, svc, "/data/out");
        } else {
            sqlite += 1;
            assert!(
                profiles(svc).is_empty(),
                "{name}: the default needs no profile"
            );
            on_volume(name, svc, store);
        }
        if let Some(cmd) = svc.get("command").and_then(Value::as_sequence) {
            let argv: Vec<String> = cmd
                .iter()
                .map(|w| w.as_str().expect("string command").to_string())
                .collect();
            if argv.iter().any(|a| a == "--out") {
                let out = argv.iter().skip_while(|a| *a != "--out").nth(1).unwrap();
                on_volume(name, svc, out);
            }
            help.check(&format!("compose.yaml {name}"), &argv);
        }
    }
    assert_eq!((sqlite, pg), (1, 1), "the default and the postgres variant");
}

/// The nightly job's own command lines, run as written (`$FAIL_ON` set as the job sets it) in a
/// checkout-like directory: a depwatch.toml over the corpus with the remote feeds off, and uv's
/// Cargo.lock (three open findings, the highest medium) as the repository's lockfile.
#[test]
fn nightly_commands_run_for_real() {
    let doc = yaml(NIGHTLY);
    let cmds: Vec<Vec<String>> = all_runs(&doc).into_iter().flat_map(|(_, c)| c).collect();
    let dir = tempfile::tempdir().unwrap();
    let s = shared();
    let p = |rel: &str| s.join(rel).display().to_string();
    let feeds_off: String = [
        "osv-pypi",
        "osv-crates",
        "ghsa",
        "rustsec",
        "osv-api",
        "crates-index",
    ]
    .iter()
    .map(|f| format!("[feeds.{f}]\nenabled = false\n"))
    .collect();
    std::fs::write(
        dir.path().join("depwatch.toml"),
        format!(
            "sources = [\"rustsec-dir:{}\"]\nfail-on = \"high\"\n\n\
             [[project]]\nname = \"uv\"\npath = \"Cargo.lock\"\n\n{feeds_off}",
            p("corpus/advisories/rustsec"),
        ),
    )
    .unwrap();
    std::fs::copy(
        s.join("corpus/manifests/uv/Cargo.lock"),
        dir.path().join("Cargo.lock"),
    )
    .unwrap();
    let summary = dir.path().join("step-summary.md");
    let store = dir.path().join(".depwatch-store/store.sqlite3");
    // Below the highest finding the cycle passes; at it, it fails the job with 1 (not 2).
    for (fail_on, want) in [("high", 0), ("medium", 1)] {
        let mut codes = HashMap::new();
        for argv in &cmds {
            let args: Vec<String> = argv
                .iter()
                .map(|w| w.replace("$FAIL_ON", fail_on))
                .collect();
            let out = crate::support::command(&store)
                .args(&args)
                .current_dir(dir.path())
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env_remove("GITHUB_TOKEN")
                .env_remove("DEPWATCH_SLACK_WEBHOOK")
                .env_remove("DEPWATCH_SMTP_PASSWORD")
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            codes.insert(args[0].clone(), (out.status.code(), err));
        }
        let (run_code, run_err) = &codes["run"];
        assert_eq!(*run_code, Some(want), "run --fail-on {fail_on}: {run_err}");
        // The scan step accepts 0 and 1 (findings); 2 would fail it.
        let (scan_code, scan_err) = &codes["scan"];
        assert!(matches!(scan_code, Some(0 | 1)), "scan: {scan_err}");
    }
    let md = std::fs::read_to_string(&summary).expect("step summary written");
    assert!(md.contains("| uv | 3 | medium |"), "{md}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("depwatch.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    assert!(store.exists(), "the store the cache saves");
}
