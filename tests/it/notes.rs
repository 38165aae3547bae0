//! Integration tests: notes. Real git repositories built in a temporary directory with the
//! `git` command, scanned against the real advisory data in `../shared`.
//!
//! Expectations (checked by hand against the records):
//! * requests 2.31.0: GHSA-9wx4-h78v-vm56 (CVE-2024-35195), `fixed: 2.32.2`
//!   (feeds-reference/ghsa-osv/PyPI). 2.32.2 is clear in this data (GHSA-j8r2-6x86-q33q stops
//!   at 2.31.0).
//! * urllib3 1.26.17: PYSEC-2023-212 (CVE-2023-45803, GHSA-g4mx-q9vg-27p4), fixed 1.26.18.
//! * jinja2 2.11.2: PYSEC-2021-66 (CVE-2020-28493), fixed 2.11.3.
//! * smallvec 1.6.0: RUSTSEC-2021-0003 (CVE-2021-25900), patched `>= 1.6.1`.

use crate::support::{pypa_dir, rustsec_dir, shared};
use depwatch::feeds::SourceSpec;
use depwatch::notes::{NotesError, NotesOptions, ReleaseNotes, export_revision, release_notes};
use depwatch::scan::Backend;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A git repository in a temporary directory, with git isolated from the developer's config.
struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
}

impl Repo {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let r = Self {
            _tmp: tmp,
            dir,
            home,
        };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("GIT_AUTHOR_DATE", "2024-06-01T12:00:00Z")
            .env("GIT_COMMITTER_DATE", "2024-06-01T12:00:00Z")
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Commit everything and tag it.
    fn commit(&self, tag: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", tag]);
        self.git(&["tag", tag]);
    }
}

fn python_backend() -> Backend {
    let ghsa = shared().join("feeds-reference/ghsa-osv/PyPI");
    Backend::Sources(vec![
        format!("osv-dir:{}", ghsa.display())
            .parse::<SourceSpec>()
            .unwrap(),
        format!("osv-dir:{}", pypa_dir().display())
            .parse::<SourceSpec>()
            .unwrap(),
    ])
}

fn options(repo: &Repo, from: &str, to: &str, backend: Backend) -> NotesOptions {
    NotesOptions {
        repo: repo.dir.clone(),
        from: from.into(),
        to: to.into(),
        backend,
        templates_dir: None,
        today: jiff::civil::date(2024, 10, 10),
    }
}

/// Case 1: A pins vulnerable requests and urllib3; B upgrades requests, keeps urllib3 and
/// adds a vulnerable jinja2 (through an included file, to check includes resolve).
fn python_repo() -> Repo {
    let repo = Repo::new();
    repo.write("README.md", "demo\n");
    repo.write("requirements.txt", "requests==2.31.0\nurllib3==1.26.17\n");
    repo.commit("v1.0.0");
    repo.write(
        "requirements.txt",
        "requests==2.32.2\nurllib3==1.26.17\n-r web/base.txt\n",
    );
    repo.write("web/base.txt", "jinja2==2.11.2\n");
    repo.commit("v1.1.0");
    repo
}

fn ids(list: &[depwatch::notes::NoteEntry]) -> Vec<(String, String)> {
    list.iter()
        .map(|e| (e.package.clone(), e.id.clone()))
        .collect()
}

fn python_notes() -> (ReleaseNotes, String) {
    let repo = python_repo();
    release_notes(&options(&repo, "v1.0.0", "v1.1.0", python_backend())).unwrap()
}

#[test]
fn python_upgrade_fixed_open_and_new() {
    let (notes, md) = python_notes();
    let dbg = format!("{notes:#?}\n{md}");
    assert!(notes.warnings.is_empty(), "{dbg}");

    // requests: the one advisory on 2.31.0 is fixed by the upgrade to 2.32.2.
    assert_eq!(
        ids(&notes.fixed),
        vec![("requests".into(), "GHSA-9wx4-h78v-vm56".into())],
        "{dbg}"
    );
    let fixed = &notes.fixed[0];
    assert_eq!(fixed.from_versions, vec!["2.31.0"], "{dbg}");
    assert_eq!(fixed.now, Some(vec!["2.32.2".to_string()]), "{dbg}");
    assert!(fixed.ids.contains(&"CVE-2024-35195".to_string()), "{dbg}");

    // urllib3 1.26.17 is kept: its advisories stay open, none are fixed or new.
    assert!(!notes.still_open.is_empty(), "{dbg}");
    assert!(
        notes.still_open.iter().all(|e| e.package == "urllib3"),
        "{dbg}"
    );
    let u = notes
        .still_open
        .iter()
        .find(|e| e.ids.contains(&"CVE-2023-45803".to_string()))
        .unwrap_or_else(|| panic!("urllib3 CVE-2023-45803 not open: {dbg}"));
    assert_eq!(u.id, "PYSEC-2023-212", "{dbg}");
    assert_eq!(u.from_versions, vec!["1.26.17"], "{dbg}");
    assert_eq!(u.to_versions, vec!["1.26.17"], "{dbg}");
    assert_eq!(u.files, vec![PathBuf::from("requirements.txt")], "{dbg}");

    // jinja2 2.11.2 arrives through the included file, with its advisories.
    assert!(
        notes.introduced.iter().all(|e| e.package == "jinja2"),
        "{dbg}"
    );
    let j = notes
        .introduced
        .iter()
        .find(|e| e.id == "PYSEC-2021-66")
        .unwrap_or_else(|| panic!("jinja2 PYSEC-2021-66 not new: {dbg}"));
    assert_eq!(j.to_versions, vec!["2.11.2"], "{dbg}");
    assert_eq!(j.files, vec![PathBuf::from("web/base.txt")], "{dbg}");
    assert!(j.from_versions.is_empty(), "{dbg}");

    // Sorted by severity (descending), then package, then id.
    for list in [&notes.fixed, &notes.still_open, &notes.introduced] {
        for w in list.windows(2) {
            assert!(
                (std::cmp::Reverse(w[0].severity), &w[0].package, &w[0].id)
                    <= (std::cmp::Reverse(w[1].severity), &w[1].package, &w[1].id),
                "{dbg}"
            );
        }
    }

    // The markdown has the three sections, in order, with the upgrade spelt out.
    let fixed_at = md.find("#### Fixed").expect(&dbg);
    let open_at = md.find("#### Still open").expect(&dbg);
    let new_at = md.find("#### New").expect(&dbg);
    assert!(md.starts_with("### Security\n"), "{dbg}");
    assert!(fixed_at < open_at && open_at < new_at, "{dbg}");
    assert!(md.contains("`requests` `2.31.0`, now `2.32.2`"), "{dbg}");
    assert!(
        md.contains("[GHSA-9wx4-h78v-vm56](https://") && md.contains("CVE-2024-35195"),
        "{dbg}"
    );
    assert!(!md.contains("depwatch-notes-"), "temp dir leaked: {dbg}");
}

#[test]
fn python_release_notes_snapshot() {
    let (_, md) = python_notes();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/notes-python.md");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &md).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_SNAPSHOTS=1)", path.display()));
    assert_eq!(
        md, want,
        "snapshot differs (UPDATE_SNAPSHOTS=1 rewrites it)"
    );
}

#[test]
fn removed_package_and_unchanged_revisions() {
    let repo = Repo::new();
    repo.write("requirements.txt", "requests==2.31.0\n");
    repo.commit("a");
    repo.write(
        "requirements.txt",
        "# nothing pinned any more\n--frobnicate\n",
    );
    repo.commit("b");
    let (notes, md) = release_notes(&options(&repo, "a", "b", python_backend())).unwrap();
    assert_eq!(
        ids(&notes.fixed),
        vec![("requests".into(), "GHSA-9wx4-h78v-vm56".into())]
    );
    assert_eq!(notes.fixed[0].now, Some(vec![]));
    // The manifest's warning is reported, naming the revision and the repository path.
    assert!(
        notes
            .warnings
            .iter()
            .any(|w| w.starts_with("revision b: requirements.txt:2:") && w.contains("--frobnicate")),
        "{:?}",
        notes.warnings
    );
    assert!(
        notes
            .warnings
            .iter()
            .all(|w| !w.contains("depwatch-notes-")),
        "{:?}",
        notes.warnings
    );
    assert!(md.contains("now removed"), "{md}");
    assert!(
        !md.contains("#### Still open") && !md.contains("#### New"),
        "{md}"
    );

    // Same revision twice: an honest single line.
    let (notes, md) = release_notes(&options(&repo, "b", "b", python_backend())).unwrap();
    assert!(notes.fixed.is_empty() && notes.still_open.is_empty() && notes.introduced.is_empty());
    assert_eq!(
        md,
        "### Security\n\nNo known advisories changed between `b` and `b`.\n"
    );
}

#[test]
fn cargo_lock_upgrade_with_rustsec() {
    let lock = |v: &str| {
        format!(
            "version = 3\n\n[[package]]\nname = \"demo\"\nversion = \"0.1.0\"\ndependencies = [\n \"smallvec\",\n]\n\n\
             [[package]]\nname = \"smallvec\"\nversion = \"{v}\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        )
    };
    let repo = Repo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsmallvec = \"1\"\n",
    );
    repo.write("Cargo.lock", &lock("1.6.0"));
    repo.commit("v0.1.0");
    repo.write("Cargo.lock", &lock("1.6.1"));
    repo.commit("v0.2.0");
    let backend = Backend::Sources(vec![
        format!("rustsec-dir:{}", rustsec_dir().display())
            .parse::<SourceSpec>()
            .unwrap(),
    ]);
    let (notes, md) = release_notes(&options(&repo, "v0.1.0", "v0.2.0", backend)).unwrap();
    let dbg = format!("{notes:#?}\n{md}");
    assert!(
        ids(&notes.fixed).contains(&("smallvec".into(), "RUSTSEC-2021-0003".into())),
        "{dbg}"
    );
    assert!(notes.fixed.iter().all(|e| e.package == "smallvec"), "{dbg}");
    let f = notes
        .fixed
        .iter()
        .find(|e| e.id == "RUSTSEC-2021-0003")
        .unwrap();
    assert_eq!(f.from_versions, vec!["1.6.0"], "{dbg}");
    assert_eq!(f.now, Some(vec!["1.6.1".to_string()]), "{dbg}");
    assert!(f.ids.contains(&"CVE-2021-25900".to_string()), "{dbg}");
    assert!(notes.introduced.is_empty(), "{dbg}");
    assert!(md.contains("`smallvec` `1.6.0`, now `1.6.1`"), "{dbg}");
}

#[test]
fn bad_revisions_are_named_and_never_passed_as_options() {
    let repo = python_repo();
    let err = release_notes(&options(&repo, "nope", "v1.1.0", python_backend())).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, NotesError::Git { ref rev, .. } if rev == "nope"),
        "{err:?}"
    );
    assert!(
        msg.contains("\"nope\"") && msg.contains(&repo.dir.display().to_string()),
        "{msg}"
    );
    // git's own words come through.
    assert!(msg.contains("fatal:"), "{msg}");

    let err = release_notes(&options(&repo, "v1.0.0", "--output=x", python_backend())).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, NotesError::Git { ref rev, .. } if rev == "--output=x"),
        "{err:?}"
    );
    assert!(msg.contains("must not start with '-'"), "{msg}");
    assert!(!repo.dir.join("x").exists());

    // A tree or blob is not a commit.
    let err = release_notes(&options(
        &repo,
        "v1.0.0:requirements.txt",
        "v1.1.0",
        python_backend(),
    ))
    .unwrap_err();
    assert!(matches!(err, NotesError::Git { .. }), "{err:?}");

    // Not a repository at all.
    let dir = tempfile::tempdir().unwrap();
    let err = export_revision(dir.path(), "HEAD", &dir.path().join("out")).unwrap_err();
    assert!(matches!(err, NotesError::Git { .. }), "{err:?}");
}

#[test]
fn malformed_manifest_is_an_error_not_an_empty_section() {
    let repo = Repo::new();
    repo.write("requirements.txt", "requests==2.31.0\n");
    repo.commit("good");
    repo.write("sub/pyproject.toml", "[project\nname = \"x\"\n");
    repo.commit("bad");
    let err = release_notes(&options(&repo, "good", "bad", python_backend())).unwrap_err();
    let msg = err.to_string();
    match &err {
        NotesError::Manifest { rev, path, .. } => {
            assert_eq!(rev, "bad");
            assert_eq!(path, Path::new("sub/pyproject.toml"));
        }
        other => panic!("want a manifest error, got {other:?}"),
    }
    assert!(
        msg.contains("sub/pyproject.toml") && !msg.contains("depwatch-notes-"),
        "{msg}"
    );

    // A missing `-r` include is an error of the manifest that names it.
    repo.write("sub/pyproject.toml", "[project]\nname = \"x\"\n");
    repo.write("requirements.txt", "requests==2.31.0\n-r missing.txt\n");
    repo.commit("missing-include");
    let err =
        release_notes(&options(&repo, "good", "missing-include", python_backend())).unwrap_err();
    let msg = err.to_string();
    match &err {
        NotesError::Manifest { rev, path, .. } => {
            assert_eq!(rev, "missing-include");
            assert_eq!(path, Path::new("requirements.txt"));
        }
        other => panic!("want a manifest error, got {other:?}"),
    }
    assert!(
        msg.contains("requirements.txt:2: included file not read")
            && msg.contains("missing.txt")
            && !msg.contains("depwatch-notes-"),
        "{msg}"
    );
}

#[test]
fn no_manifest_at_either_revision_is_an_error() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    repo.commit("a");
    let err = release_notes(&options(&repo, "a", "a", python_backend())).unwrap_err();
    assert!(matches!(err, NotesError::NoManifests { .. }), "{err:?}");
}

#[test]
fn export_writes_manifests_and_include_candidates_only() {
    let repo = python_repo();
    #[cfg(unix)]
    std::os::unix::fs::symlink("requirements.txt", repo.dir.join("requirements-link.txt")).unwrap();
    repo.write("docs/notes.md", "not a manifest\n");
    repo.commit("v1.2.0");
    let out = tempfile::tempdir().unwrap();
    let files = export_revision(&repo.dir, "v1.2.0", out.path()).unwrap();
    assert_eq!(
        files,
        vec![
            PathBuf::from("requirements.txt"),
            PathBuf::from("web/base.txt")
        ]
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("web/base.txt")).unwrap(),
        "jinja2==2.11.2\n"
    );
    // Older revision: the file as it was then.
    let out = tempfile::tempdir().unwrap();
    export_revision(&repo.dir, "v1.0.0", out.path()).unwrap();
    assert_eq!(
        std::fs::read_to_string(out.path().join("requirements.txt")).unwrap(),
        "requests==2.31.0\nurllib3==1.26.17\n"
    );
}
