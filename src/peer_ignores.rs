//! Ignore files of the peer tools, honoured where those tools honour them, so a project
//! moving to depwatch keeps its reviewed exceptions:
//!
//! * cargo-audit: `.cargo/audit.toml` in the project root, `[advisories] ignore = ["ID", ...]`
//!   (no reason, no expiry). It applies to the crates of the manifests in that root.
//! * osv-scanner: `osv-scanner.toml` in the scanned file's directory (not inherited by child
//!   directories), `[[IgnoredVulns]]` with `id`, optional `ignoreUntil` and `reason`. osv-scanner
//!   ignores while `ignoreUntil` is still in the future, so a date `D` (midnight) is in force
//!   through the day before `D`, which becomes depwatch's `until` (the last day in force).
//!
//! Each rule names its file as origin, and is limited to the manifests of its directory. Other
//! keys of these files are not read. The files come from the scanned checkout: an ignore there
//! hides findings, which is what the project asked for, and the report lists every finding it
//! hid with the file that hid it.

use crate::ecosystem::Ecosystem;
use crate::matcher::Ignore;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A peer ignore file that exists but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct PeerIgnoreError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// The ignores of every peer file next to `manifests` (each directory read once).
pub fn discover<'a>(
    manifests: impl IntoIterator<Item = &'a Path>,
) -> Result<Vec<Ignore>, PeerIgnoreError> {
    let dirs: BTreeSet<PathBuf> = manifests
        .into_iter()
        .map(|m| m.parent().map(Path::to_path_buf).unwrap_or_default())
        .collect();
    let mut out = Vec::new();
    for dir in dirs {
        let audit = dir.join(".cargo").join("audit.toml");
        if let Some(text) = read_if_present(&audit)? {
            out.extend(cargo_audit(&audit, &text, &dir)?);
        }
        let osv = dir.join("osv-scanner.toml");
        if let Some(text) = read_if_present(&osv)? {
            out.extend(osv_scanner(&osv, &text, &dir)?);
        }
    }
    Ok(out)
}

fn read_if_present(path: &Path) -> Result<Option<String>, PeerIgnoreError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(PeerIgnoreError {
            path: path.to_path_buf(),
            line: None,
            message: e.to_string(),
        }),
    }
}

fn parse(path: &Path, text: &str) -> Result<toml::Table, PeerIgnoreError> {
    text.parse::<toml::Table>().map_err(|e| PeerIgnoreError {
        path: path.to_path_buf(),
        line: e
            .span()
            .map(|s| crate::manifests::line_of_offset(text, s.start)),
        message: e.message().to_string(),
    })
}

/// The line of the first occurrence of `needle` in `text`, for error messages (the `toml`
/// table keeps no spans).
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.find(needle)
        .map(|o| crate::manifests::line_of_offset(text, o))
}

/// `.cargo/audit.toml`: `[advisories] ignore`.
fn cargo_audit(path: &Path, text: &str, dir: &Path) -> Result<Vec<Ignore>, PeerIgnoreError> {
    let doc = parse(path, text)?;
    let err = |message: String| PeerIgnoreError {
        path: path.to_path_buf(),
        line: line_of(text, "ignore"),
        message,
    };
    let Some(list) = doc
        .get("advisories")
        .and_then(toml::Value::as_table)
        .and_then(|a| a.get("ignore"))
    else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| err("[advisories] ignore must be an array of advisory ids".into()))?;
    list.iter()
        .map(|v| match v.as_str().map(str::trim) {
            Some(id) if !id.is_empty() => Ok(Ignore {
                id: id.to_string(),
                origin: Some(path.display().to_string()),
                dir: Some(dir.to_path_buf()),
                // cargo-audit audits Cargo.lock: its ignores are about crates.
                ecosystem: Some(Ecosystem::CratesIo),
                ..Default::default()
            }),
            _ => Err(err(format!(
                "[advisories] ignore: {v} is not an advisory id"
            ))),
        })
        .collect()
}

/// `osv-scanner.toml`: `[[IgnoredVulns]]`.
fn osv_scanner(path: &Path, text: &str, dir: &Path) -> Result<Vec<Ignore>, PeerIgnoreError> {
    let doc = parse(path, text)?;
    let Some(list) = doc.get("IgnoredVulns") else {
        return Ok(Vec::new());
    };
    let err = |message: String| PeerIgnoreError {
        path: path.to_path_buf(),
        line: line_of(text, "IgnoredVulns"),
        message,
    };
    let list = list
        .as_array()
        .ok_or_else(|| err("IgnoredVulns must be an array of tables ([[IgnoredVulns]])".into()))?;
    let mut out = Vec::new();
    for entry in list {
        let t = entry
            .as_table()
            .ok_or_else(|| err("each IgnoredVulns entry must be a table".into()))?;
        let id = match t.get("id").and_then(toml::Value::as_str).map(str::trim) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => return Err(err("an [[IgnoredVulns]] entry has no id".into())),
        };
        let at = |key: &str| PeerIgnoreError {
            path: path.to_path_buf(),
            line: line_of(text, &id).or_else(|| line_of(text, key)),
            message: String::new(),
        };
        let until = match t.get("ignoreUntil") {
            None => None,
            Some(v) => Some(last_day_in_force(v).map_err(|m| PeerIgnoreError {
                message: format!("{id}: ignoreUntil {m}"),
                ..at("ignoreUntil")
            })?),
        };
        let reason = match t.get("reason") {
            None => None,
            Some(toml::Value::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Some(_) => {
                return Err(PeerIgnoreError {
                    message: format!("{id}: reason must be a string"),
                    ..at("reason")
                });
            }
        };
        out.push(Ignore {
            id,
            reason,
            until,
            origin: Some(path.display().to_string()),
            dir: Some(dir.to_path_buf()),
            ecosystem: None,
            until_fix: false,
        });
    }
    Ok(out)
}

/// osv-scanner's `ignoreUntil` (a TOML date or date-time; a quoted one is accepted too) as
/// the last day the ignore is in force: the day before when it falls at midnight (a plain
/// date is midnight), else its own day.
fn last_day_in_force(v: &toml::Value) -> Result<jiff::civil::Date, String> {
    let dt = match v {
        toml::Value::Datetime(d) => *d,
        toml::Value::String(s) => s
            .trim()
            .parse::<toml::value::Datetime>()
            .map_err(|e| format!("{s:?} is not a date (YYYY-MM-DD): {e}"))?,
        other => return Err(format!("must be a date, found {}", other.type_str())),
    };
    let d = dt.date.ok_or_else(|| format!("{dt} has no date"))?;
    let date = jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8)
        .map_err(|e| format!("{dt}: {e}"))?;
    let midnight = dt.time.is_none_or(|t| {
        t.hour == 0 && t.minute == 0 && t.second.unwrap_or(0) == 0 && t.nanosecond.unwrap_or(0) == 0
    });
    if midnight {
        date.yesterday().map_err(|e| e.to_string())
    } else {
        Ok(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn until(v: &str) -> String {
        let doc: toml::Table = format!("x = {v}").parse().unwrap();
        last_day_in_force(&doc["x"]).unwrap().to_string()
    }

    #[test]
    fn ignore_until_is_exclusive_like_osv_scanner() {
        assert_eq!(until("2027-03-01"), "2027-02-28");
        assert_eq!(until("\"2027-03-01\""), "2027-02-28");
        assert_eq!(until("2027-03-01T00:00:00Z"), "2027-02-28");
        assert_eq!(until("2027-03-01T12:30:00Z"), "2027-03-01");
        assert_eq!(until("2027-03-01T09:00:00+02:00"), "2027-03-01");
        let doc: toml::Table = "x = 5".parse().unwrap();
        assert!(last_day_in_force(&doc["x"]).is_err());
    }

    #[test]
    fn bad_files_name_file_and_line() {
        let p = Path::new("x/osv-scanner.toml");
        let e = osv_scanner(
            p,
            "[[IgnoredVulns]]\nid = \"A\"\nignoreUntil = \"soon\"\n",
            Path::new("x"),
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(
            e.to_string()
                .starts_with("x/osv-scanner.toml:2: A: ignoreUntil"),
            "{e}"
        );
        let p = Path::new("x/.cargo/audit.toml");
        let e = cargo_audit(p, "[advisories]\nignore = [1]\n", Path::new("x")).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let e = cargo_audit(p, "[advisories\n", Path::new("x")).unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }
}
