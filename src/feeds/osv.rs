//! OSV records from local files: a directory of `.json` / `.yaml` records (the PyPA
//! advisory-database layout) or a zip of `.json` records (the OSV bulk export `all.zip`).
//!
//! Files are parsed in parallel. The zip is read in memory, never extracted, so a hostile
//! archive cannot write outside a directory (RUSTSEC-2025-0168 was about `extract`).

use super::{FeedError, Loaded, walk_files};
use crate::advisory::{Advisory, CompiledAdvisory};
use crate::feeds::LoadError;
use rayon::prelude::*;
use std::io::Read;
use std::path::Path;

/// Largest single record accepted (real records are a few KB).
const MAX_RECORD_BYTES: u64 = 8 * 1024 * 1024;
/// Largest zip entry count accepted.
const MAX_ZIP_ENTRIES: usize = 2_000_000;

/// Deepest bracket nesting accepted in a YAML record. The YAML scanner's time grows with the
/// square of the flow nesting (40,000 `[` take 5 s, an 8 MB record would take days), and the
/// deserializer refuses anything past 128 levels anyway; real records nest a few levels.
const MAX_YAML_NESTING: usize = 1000;

/// True when `text` opens more than [`MAX_YAML_NESTING`] flow collections (`[` / `{`) without
/// closing them. Brackets inside quoted scalars count too: that only errs towards refusing a
/// record no real feed writes, never towards letting a deep one through.
fn yaml_too_deep(text: &str) -> bool {
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_YAML_NESTING {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Record format, from the file extension.
#[derive(Clone, Copy)]
enum Syntax {
    Json,
    Yaml,
}

fn syntax_of(name: &str) -> Option<Syntax> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Some(Syntax::Json)
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(Syntax::Yaml)
    } else {
        None
    }
}

/// Best-effort id of a record that failed to parse, for the error message.
fn sniff_id(text: &str) -> Option<String> {
    for line in text.lines().take(50) {
        let t = line.trim().trim_start_matches('{').trim();
        for prefix in ["\"id\":", "id:"] {
            if let Some(rest) = t.strip_prefix(prefix) {
                let id = rest
                    .trim()
                    .trim_end_matches(',')
                    .trim()
                    .trim_matches('"')
                    .trim_matches('\'');
                if !id.is_empty() && id.len() < 100 {
                    return Some(id.to_string());
                }
            }
        }
    }
    None
}

/// Parse and compile one record. `file` names it in errors.
pub fn parse_record(
    bytes: &[u8],
    syntax_name: &str,
    file: &str,
    source: &str,
) -> Result<CompiledAdvisory, LoadError> {
    let err = |id: Option<String>, message: String| LoadError {
        source: source.to_string(),
        file: file.to_string(),
        id,
        message,
    };
    let syntax = syntax_of(syntax_name).unwrap_or(Syntax::Json);
    let text =
        std::str::from_utf8(bytes).map_err(|e| err(None, format!("not valid UTF-8: {e}")))?;
    let advisory: Advisory = match syntax {
        Syntax::Json => {
            serde_json::from_str(text).map_err(|e| err(sniff_id(text), e.to_string()))?
        }
        Syntax::Yaml => {
            if yaml_too_deep(text) {
                return Err(err(
                    sniff_id(text),
                    format!("nested more than {MAX_YAML_NESTING} levels deep"),
                ));
            }
            yaml_serde::from_str(text).map_err(|e| err(sniff_id(text), e.to_string()))?
        }
    };
    let id = advisory.id.clone();
    CompiledAdvisory::compile(advisory, source).map_err(|e| err(Some(id), e.message))
}

fn collect(source: &str, results: Vec<Result<CompiledAdvisory, LoadError>>) -> Loaded {
    let mut loaded = Loaded {
        source: source.to_string(),
        ..Default::default()
    };
    for r in results {
        match r {
            Ok(a) => loaded.advisories.push(a),
            Err(e) => loaded.errors.push(e),
        }
    }
    loaded
}

/// `osv-dir:PATH`, in [`super::registry::LOCAL`].
pub struct OsvDir;

impl super::registry::LocalSource for OsvDir {
    fn kind(&self) -> &'static str {
        "osv-dir"
    }

    fn load(&self, location: &Path, source: &str) -> Result<Loaded, FeedError> {
        load_dir(location, source)
    }
}

/// `osv-zip:PATH`, in [`super::registry::LOCAL`].
pub struct OsvZip;

impl super::registry::LocalSource for OsvZip {
    fn kind(&self) -> &'static str {
        "osv-zip"
    }

    fn load(&self, location: &Path, source: &str) -> Result<Loaded, FeedError> {
        load_zip(location, source)
    }
}

/// Load every `.json` / `.yaml` / `.yml` record under `dir`.
pub fn load_dir(dir: &Path, source: &str) -> Result<Loaded, FeedError> {
    if !dir.is_dir() {
        return Err(FeedError::Invalid {
            path: dir.to_path_buf(),
            message: "not a directory".into(),
        });
    }
    let files = walk_files(dir, &|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| syntax_of(n).is_some())
    })?;
    let results = files
        .par_iter()
        .map(|path| {
            let file = path.display().to_string();
            let too_big = std::fs::metadata(path)
                .map(|m| m.len() > MAX_RECORD_BYTES)
                .unwrap_or(false);
            if too_big {
                return Err(LoadError {
                    source: source.to_string(),
                    file,
                    id: None,
                    message: format!("record larger than {MAX_RECORD_BYTES} bytes"),
                });
            }
            let bytes = std::fs::read(path).map_err(|e| LoadError {
                source: source.to_string(),
                file: file.clone(),
                id: None,
                message: e.to_string(),
            })?;
            parse_record(&bytes, &file, &file, source)
        })
        .collect();
    Ok(collect(source, results))
}

/// Load every `.json` record of a zip archive, in memory, within the pull budget of
/// `$DEPWATCH_FEED_MAX_BYTES`.
pub fn load_zip(path: &Path, source: &str) -> Result<Loaded, FeedError> {
    let file = std::fs::File::open(path).map_err(|source| FeedError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let budget = super::budget::Budget::from_env();
    load_zip_reader(std::io::BufReader::new(file), path, source, &budget)
}

/// Raw entry bytes gathered before a batch is parsed: entries are parsed as they are read, a
/// batch at a time, so only one batch of raw bytes is held besides the parsed records.
const BATCH_BYTES: usize = 32 * 1024 * 1024;

/// Load the records of a zip from any seekable reader (a file, or bytes downloaded in memory).
/// Every decompressed byte is charged to `budget`; past it the whole load fails.
pub fn load_zip_reader<R: Read + std::io::Seek>(
    reader: R,
    path: &Path,
    source: &str,
    budget: &super::budget::Budget,
) -> Result<Loaded, FeedError> {
    let invalid = |message: String| FeedError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let mut archive =
        zip::ZipArchive::new(reader).map_err(|e| invalid(format!("not a readable zip: {e}")))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(invalid(format!(
            "zip has {} entries, more than {MAX_ZIP_ENTRIES}",
            archive.len()
        )));
    }
    let zip_name = path.display().to_string();
    let mut loaded = Loaded {
        source: source.to_string(),
        ..Default::default()
    };
    // Reading entries is sequential (one decompressor over one file); parsing is parallel,
    // one batch at a time.
    let mut raw: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
    let mut raw_bytes = 0usize;
    let parse_batch = |raw: Vec<(String, Result<Vec<u8>, String>)>, loaded: &mut Loaded| {
        let results: Vec<_> = raw
            .into_par_iter()
            .map(|(name, bytes)| {
                let file = format!("{zip_name}!{name}");
                match bytes {
                    Ok(b) => parse_record(&b, &name, &file, source),
                    Err(message) => Err(LoadError {
                        source: source.to_string(),
                        file,
                        id: None,
                        message,
                    }),
                }
            })
            .collect();
        for r in results {
            match r {
                Ok(a) => loaded.advisories.push(a),
                Err(e) => loaded.errors.push(e),
            }
        }
    };
    for i in 0..archive.len() {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                raw.push((
                    format!("{}#{i}", path.display()),
                    Err(format!("unreadable zip entry: {e}")),
                ));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| format!("entry-{i}"));
        if syntax_of(&name).is_none() {
            continue;
        }
        if entry.size() > MAX_RECORD_BYTES {
            raw.push((
                name,
                Err(format!("record larger than {MAX_RECORD_BYTES} bytes")),
            ));
            continue;
        }
        // The declared size may lie; the read is capped and charged by what it produced.
        let mut buf = Vec::with_capacity(entry.size().min(MAX_RECORD_BYTES) as usize);
        let res = (&mut entry)
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut buf)
            .map(|_| buf)
            .map_err(|e| format!("cannot decompress entry: {e}"));
        if let Ok(b) = &res {
            budget.charge(b.len() as u64, &zip_name)?;
            raw_bytes += b.len();
        }
        raw.push((name, res));
        if raw_bytes >= BATCH_BYTES {
            parse_batch(std::mem::take(&mut raw), &mut loaded);
            raw_bytes = 0;
        }
    }
    parse_batch(raw, &mut loaded);
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_records_are_reported_with_id() {
        let bad = br#"{"id": "GHSA-bad", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1.0"}]}]}]}"#;
        let e = parse_record(bad, "a.json", "a.json", "t").unwrap_err();
        assert_eq!(e.id.as_deref(), Some("GHSA-bad"));
        assert!(e.message.contains("exactly one field"), "{}", e.message);
        // One unreadable version is not a broken record: kept, read conservatively.
        let odd = br#"{"id": "GHSA-odd", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "not-a-version"}]}]}]}"#;
        let a = parse_record(odd, "a.json", "a.json", "t").unwrap();
        assert!(a.affected[0].unbounded);
        let e = parse_record(b"id: PYSEC-1\naffected: [\n", "a.yaml", "a.yaml", "t").unwrap_err();
        assert_eq!(e.id.as_deref(), Some("PYSEC-1"));
        let e = parse_record(&[0xff, 0xfe, 0x00], "a.json", "a.json", "t").unwrap_err();
        assert!(e.message.contains("UTF-8"));
    }

    #[test]
    fn deeply_nested_yaml_is_refused_before_the_quadratic_scanner() {
        // Found by `cargo run --release --example fuzz`: 110,000 `[` in a PyPA record kept the
        // YAML scanner busy 13 s; an 8 MB record (the per-record cap) would take days.
        let hostile = format!("id: PYSEC-2099-1\nsummary: {}\n", "[".repeat(200_000));
        let start = std::time::Instant::now();
        let e = parse_record(hostile.as_bytes(), "a.yaml", "a.yaml", "t").unwrap_err();
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(e.id.as_deref(), Some("PYSEC-2099-1"));
        assert!(
            e.message.contains("nested more than 1000 levels"),
            "{}",
            e.message
        );
        // Real records are far below the limit.
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/advisories/pypa/vulns"
        );
        let files = walk_files(Path::new(dir), &|p| {
            p.extension().is_some_and(|e| e == "yaml")
        })
        .unwrap();
        assert!(files.len() > 1000);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(!yaml_too_deep(&text), "{}", f.display());
        }
    }

    #[test]
    fn unknown_fields_and_ecosystems_are_tolerated() {
        let rec = br#"{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "new_field": 1,
            "affected": [{"package": {"ecosystem": "Hex", "name": "y"}, "ranges": [{"type": "NEW", "events": [{"introduced": "0"}]}]}]}"#;
        let a = parse_record(rec, "a.json", "a.json", "t").unwrap();
        assert!(a.affected.is_empty());
    }
}
