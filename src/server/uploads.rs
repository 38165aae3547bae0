//! Where submitted files are put for the scan: one directory per project under a private
//! directory of the server's (mode 0700, removed when the server stops), reused from one
//! submission to the next. Creating and removing a fresh directory per submission cost a
//! tenth of its time; a resubmitted unchanged file is not even rewritten. The project's
//! submission lock (one at a time per project) makes the directory the submission's own.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

pub(crate) struct Uploads {
    root: tempfile::TempDir,
    /// Project name to its directory, named by the project's position in the config (a
    /// project name never becomes a path).
    dirs: HashMap<String, PathBuf>,
}

impl Uploads {
    pub(crate) fn new<'a>(projects: impl Iterator<Item = &'a str>) -> io::Result<Self> {
        let root = tempfile::Builder::new()
            .prefix("depwatch-serve.")
            .tempdir()?;
        let dirs = projects
            .enumerate()
            .map(|(i, p)| (p.to_string(), root.path().join(format!("p{i}"))))
            .collect();
        Ok(Self { root, dirs })
    }

    /// The upload directory of `project` (a configured project; others get the root's
    /// `unknown` directory, which no scan reads).
    pub(crate) fn dir_of(&self, project: &str) -> PathBuf {
        self.dirs
            .get(project)
            .cloned()
            .unwrap_or_else(|| self.root.path().join("unknown"))
    }

    /// Make `dir` hold exactly `files` (plain names, checked by the caller): files of an
    /// earlier submission that this one lacks are removed, unchanged ones left alone.
    pub(crate) fn stage(&self, dir: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let keep = files.iter().any(|(n, _)| entry.file_name() == n.as_str());
            if !keep {
                std::fs::remove_file(entry.path())?;
            }
        }
        for (name, body) in files {
            let path = dir.join(name);
            if std::fs::read(&path).is_ok_and(|old| old == *body) {
                continue;
            }
            std::fs::write(&path, body)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_holds_exactly_the_last_submission() {
        let up = Uploads::new(["a", "b"].into_iter()).unwrap();
        let a = up.dir_of("a");
        assert_ne!(a, up.dir_of("b"));
        assert!(a.starts_with(up.root.path()));
        assert!(!up.dir_of("..").starts_with(&a));
        up.stage(&a, &[("requirements.txt".into(), b"x==1\n".to_vec())])
            .unwrap();
        up.stage(&a, &[("uv.lock".into(), b"version = 1\n".to_vec())])
            .unwrap();
        let names: Vec<_> = std::fs::read_dir(&a)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["uv.lock"], "the earlier submission's file is gone");
        assert_eq!(std::fs::read(a.join("uv.lock")).unwrap(), b"version = 1\n");
    }
}
