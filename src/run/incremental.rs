//! Work that scales with change (issue 15): the hash of what a project's scan reads, so a
//! cycle can tell an unchanged project (same inputs, no changed package) and reuse its
//! remembered findings instead of rescanning it.

use super::RunOptions;
use crate::config::Project;
use std::path::{Path, PathBuf};

/// Past these, a project is not hashed and so always rescanned (hashing would cost more than
/// it saves, and a bound keeps a hostile checkout from making it slow).
const MAX_FILES: usize = 20_000;
const MAX_BYTES: u64 = 256 << 20;
const MAX_DEPTH: usize = 32;

/// Hex SHA-256 of everything a scan of `p` reads, or `None` when it cannot be told (a read
/// failed, a bound was passed): then the project is rescanned. Hashed: depwatch's version,
/// the project's config, the ignores and whether each is in force today, the cycle settings
/// that shape results, and every file under the project's paths (a directory's whole tree but
/// `.git`: includes, workspace members and peer tools' ignore files live there; for a manifest
/// file, its folder's), its VEX documents and its SECURITY.md. The output folder and the store
/// are left out.
pub(super) fn input_hash(opts: &RunOptions, p: &Project) -> Option<String> {
    let mut h = Hasher::default();
    let today = opts.now.to_zoned(opts.config.tz()).date();
    let c = &opts.config;
    h.text(env!("CARGO_PKG_VERSION"));
    h.text(&format!("{p:?}"));
    h.text(&format!("{:?}", c.ignores));
    for i in &c.ignores {
        h.text(&format!("{:?}", i.until.map(|u| today <= u)));
    }
    h.text(&format!(
        "{:?} {:?} {:?} {:?} {}",
        c.deadline_warning,
        c.timezone,
        c.templates,
        opts.out_dir,
        c.notify.digest.is_some()
    ));
    let mut w = Walk {
        files: 0,
        // What depwatch itself writes there changes every run and is no input.
        skip: [opts.out_dir.as_path()]
            .into_iter()
            .chain(opts.store.sqlite_path())
            .map(absolute)
            .collect(),
    };
    // A manifest file's whole folder: the scan reads beside it (`.openvex.json`, peer tools'
    // ignore files, includes within that folder).
    let mut roots: Vec<PathBuf> = p
        .paths
        .iter()
        .map(|x| match x.is_dir() {
            true => absolute(x),
            false => absolute(x.parent().unwrap_or(Path::new("."))),
        })
        .collect();
    roots.extend(
        p.vex
            .iter()
            .chain(p.security_policy.as_ref())
            .map(|x| absolute(x)),
    );
    for path in roots {
        h.text(&path.to_string_lossy());
        walk(&mut h, &path, 0, &mut w)?;
    }
    Some(h.finish())
}

struct Walk {
    files: usize,
    skip: Vec<PathBuf>,
}

/// `p` made absolute without needing it to exist (a store or output folder not made yet).
fn absolute(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    match (p.parent(), p.file_name()) {
        (Some(d), Some(n)) => std::fs::canonicalize(if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        })
        .map(|d| d.join(n))
        .unwrap_or_else(|_| p.to_path_buf()),
        _ => p.to_path_buf(),
    }
}

fn walk(h: &mut Hasher, path: &Path, depth: usize, w: &mut Walk) -> Option<()> {
    // The output folder, and the store with its `-wal`, `-shm` and lock files.
    let text = path.to_string_lossy();
    if w.skip
        .iter()
        .any(|s| path.starts_with(s) || text.starts_with(&*s.to_string_lossy()))
    {
        return Some(());
    }
    if depth > MAX_DEPTH {
        return None;
    }
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => {
            // Missing: the scan fails on it too; the hash says so and stays comparable.
            h.text("missing");
            return Some(());
        }
    };
    if meta.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .ok()?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .ok()?;
        entries.sort();
        for e in entries {
            if e.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            h.text(&e.to_string_lossy());
            walk(h, &e, depth + 1, w)?;
        }
        Some(())
    } else if meta.is_file() {
        w.files += 1;
        if w.files > MAX_FILES || h.bytes + meta.len() > MAX_BYTES {
            return None;
        }
        let bytes = std::fs::read(path).ok()?;
        h.bytes += bytes.len() as u64;
        h.data(&bytes);
        Some(())
    } else {
        // A FIFO or device: the scan refuses it; never read it here.
        None
    }
}

/// SHA-256 with each piece length-prefixed, so two different lists never hash alike.
struct Hasher {
    ctx: aws_lc_rs::digest::Context,
    bytes: u64,
}

impl Default for Hasher {
    fn default() -> Self {
        Self {
            ctx: aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256),
            bytes: 0,
        }
    }
}

impl Hasher {
    fn data(&mut self, b: &[u8]) {
        self.ctx.update(&(b.len() as u64).to_le_bytes());
        self.ctx.update(b);
    }
    fn text(&mut self, t: &str) {
        self.data(t.as_bytes());
    }
    fn finish(self) -> String {
        self.ctx
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(dir: &Path) -> RunOptions {
        RunOptions {
            config: crate::config::Config::default(),
            store: dir.join("s.sqlite3").into(),
            out_dir: dir.join("out"),
            sync_local: false,
            sync_remote: false,
            deliver: false,
            now: "2026-01-10T09:00:00Z".parse().unwrap(),
            http: Default::default(),
        }
    }

    #[test]
    fn the_hash_follows_files_and_ignore_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let co = dir.path().join("co");
        std::fs::create_dir_all(co.join("sub")).unwrap();
        std::fs::write(co.join("requirements.txt"), "requests==2.0\n").unwrap();
        let mut o = opts(dir.path());
        let p = Project {
            paths: vec![co.clone()],
            ..project()
        };
        let a = input_hash(&o, &p).unwrap();
        assert_eq!(input_hash(&o, &p).unwrap(), a, "stable");
        std::fs::write(co.join("sub/requirements-dev.txt"), "x==1\n").unwrap();
        let b = input_hash(&o, &p).unwrap();
        assert_ne!(a, b, "a new file changes it");
        o.config.ignores.push(crate::matcher::Ignore {
            id: "GHSA-x".into(),
            reason: None,
            until: Some("2026-01-10".parse().unwrap()),
            origin: None,
            dir: None,
            ecosystem: None,
            until_fix: false,
        });
        let c = input_hash(&o, &p).unwrap();
        o.now = "2026-01-11T09:00:00Z".parse().unwrap();
        assert_ne!(input_hash(&o, &p).unwrap(), c, "the ignore expired");
    }

    fn project() -> Project {
        Project {
            name: "p".into(),
            paths: Vec::new(),
            security_policy: None,
            vex: Vec::new(),
            versions: Vec::new(),
            fixed_in: Vec::new(),
            advisories: Vec::new(),
            notify: Vec::new(),
            quiet_scopes: Vec::new(),
            policy: Default::default(),
            github: None,
            targets: Default::default(),
            epss_alert: None,
        }
    }
}
