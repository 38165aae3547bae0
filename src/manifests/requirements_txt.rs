//! `requirements*.txt` and constraints files (pip's requirements file format).
//!
//! The grammar mirrors uv's `requirements-txt` crate: a file is a list of *statements*, one
//! per logical line (physical lines joined at a trailing `\` by pip's own rule, see
//! `logical_lines`; full-line and ` #` comments removed). The file is decoded as pip decodes it:
//! UTF-8, or UTF-16 / UTF-32 when it starts with a byte order mark.
//!
//! ```text
//! file         = (statement? comment? '\n')*
//! comment      = (^ | whitespace+) '#' any*
//! statement    = requirements | constraints | editable | option | entry
//! requirements = ('-r' | '--requirement') ('=' | whitespace)? path   # included file
//! constraints  = ('-c' | '--constraint') ('=' | whitespace)? path    # included file
//! editable     = ('-e' | '--editable') ('=' | whitespace)? (path | url) entry_options
//! option       = '-i' | '--index-url' | '--extra-index-url' | '-f' | '--find-links'
//!              | '--no-binary' | '--only-binary' | '--pre' | '--trusted-host'
//!              | '--require-hashes' | '--no-index' | '--prefer-binary' ... (value)?
//! entry        = (pep508 | name '@' url | url | path) entry_options
//! entry_options = (whitespace ('--hash' ('=' | whitespace) algo ':' digest
//!                 | '--config-settings' ... | '--global-option' ...))*
//! ```
//!
//! What becomes of each statement here:
//!
//! * *entries*: a PEP 508 requirement with exactly one `==` / `===` specifier is
//!   [`Requirement::Pinned`]; any other specifier set is a [`Requirement::Range`] whose text is
//!   the specifier as written (`*` and the full set when there is none). A `===` pin of a
//!   version that is not PEP 440 is [`Requirement::NotChecked`]. Environment markers are kept as
//!   written and the dependency is still reported (the target interpreter is unknown).
//! * `name @ url`, bare URLs, VCS URLs (`git+https://…`) and local paths (also a local
//!   archive with extras, `foo-1.0-py3-none-any.whl[bar]`, as pip reads it) are
//!   [`Requirement::NotChecked`]; the name comes from `name @` or `#egg=`, else it is the raw
//!   text.
//! * *editables* (`-e`) are [`Requirement::NotChecked`].
//! * *requirements* / *constraints* includes are read relative to the including file (once
//!   each: a visited set makes cycles harmless); their dependencies carry the included file's
//!   path and line. Everything read through a `-c` include has scope `constraint` (as in uv,
//!   files nested inside a constraints file are constraints too). A missing or unreadable
//!   include is an error of the including manifest, at the `-r` / `-c` line (pip refuses the
//!   file too); a remote (`https://`) include is not fetched (a warning). An include must
//!   resolve, after symlinks, inside the scanned root ([`ParseOptions::include_root`]); one
//!   outside is an error at its line and is never opened, unless
//!   [`ParseOptions::allow_outside_includes`]. An included file's lines are never echoed
//!   beyond a requirement's name or URL (a host file must not land in a report).
//! * *options* are ignored; an unknown option is a warning.
//!
//! A line that does not parse is a warning `file:line: message`; the rest of the file is still
//! read. Only an unreadable file (I/O error, not UTF-8 / BOM-marked UTF-16 / UTF-32, too large,
//! binary), top-level or included, is an error.

use super::clip;
use super::{
    Dependency, Manifest, ManifestError, ManifestKind, ParseOptions, Requirement, read_bytes,
};
use crate::ecosystem::{Ecosystem, Version, VersionSet, pep440_specifiers_to_set};
use pep508_rs::pep440_rs::{Operator, VersionSpecifiers};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Most warnings kept for one file (garbage input must not produce millions of them).
const MAX_WARNINGS: usize = 200;
/// Deepest chain of `-r` / `-c` includes followed.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Options that take no part in what is installed; ignored.
const IGNORED_OPTIONS: &[&str] = &[
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--no-binary",
    "--only-binary",
    "--pre",
    "--trusted-host",
    "--require-hashes",
    "--no-index",
    "--prefer-binary",
    "--use-feature",
    "-Z",
    "--always-unzip",
];

/// Options allowed after a requirement on the same line.
const ENTRY_OPTIONS: &[&str] = &[
    "--hash",
    "--config-settings",
    "-C",
    "--global-option",
    "--install-option",
];

/// `requirements*.txt` / `.in`, `constraints*.txt`, or any `*.txt` / `*.in` in a directory
/// named `requirements` (Django style: `requirements/base.txt`).
fn is_requirements_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    let in_requirements_dir = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|d| d.to_str())
        .is_some_and(|d| d.eq_ignore_ascii_case("requirements"));
    (lower.ends_with(".txt")
        && (lower.starts_with("requirements") || lower.starts_with("constraints")))
        || (lower.ends_with(".in") && lower.starts_with("requirements"))
        || (in_requirements_dir && (lower.ends_with(".txt") || lower.ends_with(".in")))
}

/// The format in [`super::registry::ALL`].
pub struct RequirementsTxt;

impl super::registry::Format for RequirementsTxt {
    fn kind(&self) -> ManifestKind {
        ManifestKind::RequirementsTxt
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn file_name(&self) -> &'static str {
        "requirements.txt"
    }

    fn file_pattern(&self) -> &'static str {
        "requirements*.txt"
    }

    fn matches(&self, path: &Path) -> bool {
        is_requirements_file(path)
    }

    fn looks_like(&self, content: &super::registry::Content<'_>) -> bool {
        // Only text that is neither JSON nor TOML.
        matches!(content, super::registry::Content::Text(text) if looks_like_requirements(text))
    }

    fn parse(&self, path: &Path, opts: &super::ParseOptions) -> Result<Manifest, ManifestError> {
        parse_with(path, opts)
    }
}

/// Parse the file; its includes must stay inside its own directory.
pub fn parse(path: &Path) -> Result<Manifest, ManifestError> {
    parse_with(path, &ParseOptions::default())
}

/// Parse the file; its includes must resolve inside `opts.include_root` (default: the file's
/// directory) unless `opts.allow_outside_includes`.
pub fn parse_with(path: &Path, opts: &ParseOptions) -> Result<Manifest, ManifestError> {
    let text = read_requirements_text(path)?;
    let mut state = State::default();
    if !opts.allow_outside_includes {
        let root = match &opts.include_root {
            Some(r) => r.clone(),
            None => path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf(),
        };
        let canonical = std::fs::canonicalize(&root).map_err(|source| ManifestError::Io {
            path: root.clone(),
            source,
        })?;
        state.root = Some((root, canonical));
    }
    state.visited.insert(visit_key(path));
    state.parse_text(path, &text, false, 0);
    if let Some(e) = state.error {
        return Err(e);
    }
    state.finish_warnings();
    if !state.private_indexes.is_empty() {
        let index = state.private_indexes.join(", ");
        for d in &mut state.deps {
            d.index = Some(index.clone());
        }
    }
    Ok(Manifest {
        path: path.to_path_buf(),
        kind: ManifestKind::RequirementsTxt,
        dependencies: state.deps,
        warnings: state.warnings,
    })
}

/// True when `text` reads as a requirements file: at least one statement, and every one a
/// requirement (with known per-requirement options) or a known pip option. Used to recognise
/// a file named explicitly whose name is not `requirements*.txt`.
pub(super) fn looks_like_requirements(text: &str) -> bool {
    let mut statements = 0;
    for (_, logical) in logical_lines(text) {
        let statement = strip_comment(&logical).trim();
        if statement.is_empty() {
            continue;
        }
        statements += 1;
        let ok = if statement.starts_with('-') {
            let (name, _) = split_option(statement);
            matches!(
                name,
                "-r" | "--requirement" | "-c" | "--constraint" | "-e" | "--editable"
            ) || IGNORED_OPTIONS.contains(&name)
        } else {
            let (req, opts) = split_entry_options(statement);
            unknown_entry_options(opts).is_empty() && parse_entry(req).is_ok()
        };
        if !ok {
            return false;
        }
    }
    statements > 0
}

/// One requirement string parsed: what [`Dependency`] needs from it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Parsed {
    /// The name as written (for unnamed URLs / paths: the `#egg=` name or the raw text).
    pub name: String,
    /// Version information.
    pub requirement: Requirement,
    /// Environment markers as written.
    pub markers: Option<String>,
}

/// Parse a PEP 508 requirement string (`requests[socks] >=2.0 ; python_version < "3.9"`,
/// `build (>=1.2.1,<2.0.0)`, `pkg @ git+https://…`) as used in `pyproject.toml` and
/// requirements files. The error is a short message (never echoes more than a little input).
///
/// The structure (name, extras, specifiers, markers) is parsed here and the specifiers by
/// `pep440_rs`. `pep508_rs`'s own parser is not used on untrusted input: it panics on names
/// and extras ending in a separator (`a-!`, `x[a-]`), and its marker algebra keeps a global
/// interner. Markers are kept as written and not evaluated (the target interpreter is unknown).
pub(super) fn parse_pep508(text: &str) -> Result<Parsed, String> {
    let text = text.trim();
    if let Some(parsed) = named_url(text) {
        return parsed;
    }
    let (name, spec_text, markers) = split_pep508(text)?;
    let markers = markers.map(str::to_string);
    // `===` is "arbitrary equality": its operand need not be a PEP 440 version. Such a pin
    // cannot be compared with advisory ranges unless it happens to be one.
    if let Some(arbitrary) = spec_text.strip_prefix("===").map(str::trim)
        && !arbitrary.contains(',')
    {
        if arbitrary.is_empty() || arbitrary.contains(char::is_whitespace) {
            return Err(format!(
                "invalid arbitrary equality `==={}`",
                clip(arbitrary)
            ));
        }
        let requirement = match Ecosystem::PyPI.parse_version(arbitrary) {
            Ok(version) => Requirement::Pinned {
                version,
                text: arbitrary.to_string(),
            },
            Err(_) => Requirement::NotChecked {
                reason: format!(
                    "arbitrary equality pin `==={}` is not a PEP 440 version",
                    clip(arbitrary)
                ),
            },
        };
        return Ok(Parsed {
            name: name.to_string(),
            requirement,
            markers,
        });
    }
    let specs = VersionSpecifiers::from_str(spec_text).map_err(|e| clip(&e.to_string()))?;
    let single = specs.iter().next().filter(|_| specs.len() == 1);
    let requirement = match single {
        None if specs.is_empty() => Requirement::Range {
            text: "*".to_string(),
            set: VersionSet::full(),
        },
        Some(spec) if matches!(spec.operator(), Operator::Equal | Operator::ExactEqual) => {
            let written = spec_text.trim_start_matches('=').trim();
            Requirement::Pinned {
                version: Version::Pep440(spec.version().clone()),
                text: written.to_string(),
            }
        }
        _ => Requirement::Range {
            text: spec_text.to_string(),
            set: pep440_specifiers_to_set(&specs),
        },
    };
    Ok(Parsed {
        name: name.to_string(),
        requirement,
        markers,
    })
}

/// A PEP 508 project or extra name: `[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?`.
fn valid_name(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    s.starts_with(alnum)
        && s.ends_with(alnum)
        && s.chars().all(|c| alnum(c) || matches!(c, '.' | '_' | '-'))
}

/// Split `name` from the rest at the first character that cannot be part of a name.
fn take_name(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(text.len());
    text.split_at(end)
}

/// Skip `[extra, …]` (validated) after a name; the rest is returned trimmed.
fn skip_extras(rest: &str) -> Result<&str, String> {
    let rest = rest.trim_start();
    let Some(inner) = rest.strip_prefix('[') else {
        return Ok(rest);
    };
    let (extras, after) = inner
        .split_once(']')
        .ok_or_else(|| "missing `]` after extras".to_string())?;
    if !extras.trim().is_empty() {
        for extra in extras.split(',').map(str::trim) {
            if !valid_name(extra) {
                return Err(format!("invalid extra name `{}`", clip(extra)));
            }
        }
    }
    Ok(after.trim_start())
}

/// Split a named, non-URL requirement into (name, specifier text, markers), as written.
/// The specifier text has PEP 508's optional parentheses removed.
fn split_pep508(text: &str) -> Result<(&str, &str, Option<&str>), String> {
    let (name, rest) = take_name(text);
    if !valid_name(name) {
        return Err(if name.is_empty() {
            "expected a package name".to_string()
        } else {
            format!("invalid package name `{}`", clip(name))
        });
    }
    let rest = skip_extras(rest)?;
    let (spec, markers) = match rest.split_once(';') {
        Some((spec, m)) => {
            let m = m.trim();
            if m.is_empty() {
                return Err("empty environment marker after `;`".to_string());
            }
            (spec.trim(), Some(m))
        }
        None => (rest.trim(), None),
    };
    let spec = match spec.strip_prefix('(') {
        Some(inner) => inner
            .strip_suffix(')')
            .ok_or_else(|| "missing `)` after version specifiers".to_string())?
            .trim(),
        None => spec,
    };
    if spec.starts_with('@') {
        return Err("expected a URL after `@`".to_string());
    }
    Ok((name, spec, markers))
}

/// `name @ url` / `name[extra] @ url` (with optional ` ; markers`): never checked. `None` when
/// the text is not of that form.
fn named_url(text: &str) -> Option<Result<Parsed, String>> {
    let (name, rest) = take_name(text);
    let url_and_markers = skip_extras(rest).ok()?.strip_prefix('@')?.trim();
    if !valid_name(name) {
        return Some(Err(format!("invalid package name `{}`", clip(name))));
    }
    let (url, markers) = split_url_markers(url_and_markers);
    if url.is_empty() {
        return Some(Err("expected a URL after `@`".to_string()));
    }
    Some(Ok(Parsed {
        name: name.to_string(),
        requirement: Requirement::NotChecked {
            reason: url_reason(url),
        },
        markers,
    }))
}

/// Split `url ; markers` (PEP 508 requires whitespace before the `;` after a URL).
fn split_url_markers(text: &str) -> (&str, Option<String>) {
    let mut prev_ws = false;
    for (i, c) in text.char_indices() {
        if c == ';' && prev_ws {
            let url = text.get(..i).unwrap_or(text).trim();
            let markers = text.get(i + 1..).unwrap_or("").trim();
            return (url, Some(markers.to_string()).filter(|m| !m.is_empty()));
        }
        prev_ws = c.is_whitespace();
    }
    (text.trim(), None)
}

const VCS_PREFIXES: &[&str] = &["git+", "hg+", "svn+", "bzr+"];

/// Why a URL / path requirement is not checked.
fn url_reason(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    let kind = if VCS_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        "VCS requirement"
    } else if lower.starts_with("file:") || !lower.contains("://") {
        "local path requirement"
    } else {
        "direct URL requirement"
    };
    format!("{kind} ({}): not a registry release", clip(url))
}

/// The `#egg=name` of a URL, extras removed.
fn egg_name(url: &str) -> Option<String> {
    let fragment = url.split_once('#')?.1;
    let egg = fragment
        .split('&')
        .find_map(|kv| kv.strip_prefix("egg="))?
        .trim();
    let egg = egg.split('[').next().unwrap_or(egg).trim();
    (!egg.is_empty()).then(|| egg.to_string())
}

/// True when a requirement text is an unnamed URL or path (`./pkg`, `git+https://…`,
/// `https://…/x.whl`, `pkg.tar.gz`), not a PEP 508 name.
fn is_unnamed(text: &str) -> bool {
    if text.starts_with(['.', '/', '~', '\\']) {
        return true;
    }
    let first = text
        .split(|c: char| c.is_whitespace() || c == ';')
        .next()
        .unwrap_or(text);
    let lower = first.to_ascii_lowercase();
    // pip strips a trailing `[extras]` before deciding whether the text names a file
    // (`foo-1.0-py3-none-any.whl[bar]` is a local wheel with extra `bar`).
    let file = match lower.strip_suffix(']').and_then(|s| s.rsplit_once('[')) {
        Some((file, _extras)) => file,
        None => lower.as_str(),
    };
    lower.contains("://")
        || lower.starts_with("file:")
        || VCS_PREFIXES.iter().any(|p| lower.starts_with(p))
        || lower.contains(['/', '\\'])
        || [".whl", ".tar.gz", ".zip", ".tgz", ".tar.bz2", ".tar.xz"]
            .iter()
            .any(|ext| file.ends_with(ext))
}

/// A requirements-file entry: PEP 508, `name @ url`, or an unnamed URL / path.
fn parse_entry(text: &str) -> Result<Parsed, String> {
    if named_url(text).is_none() && is_unnamed(text) {
        let (url, markers) = split_url_markers(text);
        return Ok(Parsed {
            name: egg_name(url).unwrap_or_else(|| clip(url)),
            requirement: Requirement::NotChecked {
                reason: url_reason(url),
            },
            markers,
        });
    }
    parse_pep508(text)
}

/// Read a requirements file as pip's `auto_decode` does: a byte order mark selects UTF-8,
/// UTF-16 or UTF-32 (Windows tools write UTF-16 with a BOM: `pip freeze > requirements.txt` in
/// PowerShell); without one the file must be UTF-8. pip tries the UTF-16 marks before the
/// UTF-32 ones, which reads a UTF-32LE file (`FF FE 00 00`) as UTF-16 garbage; here the longer
/// mark is tried first. The text has no BOM and no NUL byte (a binary file is an error).
pub(super) fn read_requirements_text(path: &Path) -> Result<String, ManifestError> {
    let bytes = read_bytes(path)?;
    let bad =
        |encoding: &str| ManifestError::parse(path, None, format!("file is not valid {encoding}"));
    let text = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE, 0, 0]) {
        decode_utf32(rest, u32::from_le_bytes).ok_or_else(|| bad("UTF-32LE"))?
    } else if let Some(rest) = bytes.strip_prefix(&[0, 0, 0xFE, 0xFF]) {
        decode_utf32(rest, u32::from_be_bytes).ok_or_else(|| bad("UTF-32BE"))?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        decode_utf16(rest, u16::from_le_bytes).ok_or_else(|| bad("UTF-16LE"))?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        decode_utf16(rest, u16::from_be_bytes).ok_or_else(|| bad("UTF-16BE"))?
    } else {
        let rest = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
        super::utf8_text(path, rest.to_vec())?
    };
    if let Some(line) = nul_line(&text) {
        return Err(ManifestError::parse(
            path,
            Some(line),
            "file contains NUL bytes (binary file?)",
        ));
    }
    Ok(text)
}

/// UTF-16 code units to text; `None` on an odd length or an unpaired surrogate.
fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// UTF-32 code units to text; `None` on a length not a multiple of 4 or an invalid scalar.
fn decode_utf32(bytes: &[u8], unit: fn([u8; 4]) -> u32) -> Option<String> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    bytes
        .chunks_exact(4)
        .map(|c| char::from_u32(unit([c[0], c[1], c[2], c[3]])))
        .collect()
}

/// The 1-based line of the first NUL byte, if any.
fn nul_line(text: &str) -> Option<usize> {
    let offset = text.find('\0')?;
    Some(super::line_of_offset(text, offset))
}

/// Physical lines joined into logical lines exactly as pip's `join_lines` does: a line whose
/// last character is `\` (no trailing whitespace allowed, as in pip) continues on the next,
/// with *every* `\` at either end of it removed (`str.strip("\\")`: `pkg==1.0 \\` continues
/// as `pkg==1.0 `); a full-line comment is never a continuation and ends one (its text is then
/// removed with the comment). Each logical line carries the number of its first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let number = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let raw = if number == 1 {
            raw.strip_prefix('\u{feff}').unwrap_or(raw)
        } else {
            raw
        };
        let is_comment = raw.trim_start().starts_with('#');
        if raw.ends_with('\\') && !is_comment {
            let body = raw.trim_matches('\\');
            match &mut pending {
                Some((_, acc)) => acc.push_str(body),
                None => pending = Some((number, body.to_string())),
            }
            continue;
        }
        match pending.take() {
            Some((start, mut acc)) => {
                if !is_comment {
                    acc.push_str(raw);
                }
                out.push((start, acc));
            }
            None => out.push((number, raw.to_string())),
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

/// Remove a comment: `#` at the start or after whitespace (a URL's `#egg=` stays).
fn strip_comment(line: &str) -> &str {
    let mut prev_ws = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_ws {
            return line.get(..i).unwrap_or(line);
        }
        prev_ws = c.is_whitespace();
    }
    line
}

/// Split an option line into (option, value): `-r file`, `-rfile`, `-r=file`,
/// `--requirement=file`, `--requirement file`.
fn split_option(line: &str) -> (&str, &str) {
    if line.starts_with("--") {
        let end = line
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(line.len());
        let (name, rest) = line.split_at(end);
        let rest = rest.strip_prefix('=').unwrap_or(rest);
        (name, rest.trim())
    } else {
        let end = line
            .char_indices()
            .nth(2)
            .map(|(i, _)| i)
            .unwrap_or(line.len());
        let (name, rest) = line.split_at(end);
        let rest = rest.trim_start();
        let rest = rest.strip_prefix('=').unwrap_or(rest);
        (name, rest.trim())
    }
}

/// Split `requirement --hash=… --hash …` into the requirement and its options: the options
/// start at the first whitespace-preceded token beginning with `-`.
fn split_entry_options(line: &str) -> (&str, &str) {
    let mut prev_ws = false;
    for (i, c) in line.char_indices() {
        if c == '-' && prev_ws {
            let (req, opts) = line.split_at(i);
            return (req.trim_end(), opts);
        }
        prev_ws = c.is_whitespace();
    }
    (line.trim_end(), "")
}

/// Unknown per-requirement options (`--hash` and friends are fine).
fn unknown_entry_options(opts: &str) -> Vec<String> {
    opts.split_whitespace()
        .filter(|t| t.starts_with('-'))
        .map(|t| t.split('=').next().unwrap_or(t))
        .filter(|name| !ENTRY_OPTIONS.contains(name))
        .map(clip)
        .collect()
}

fn strip_quotes(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// The key for the visited set: the canonical path when it exists.
fn visit_key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether `path` resolves inside the root (`root` as given, `canonical` its canonical form).
/// The path is first made absolute and its `.` / `..` folded without touching the file
/// system, so a target outside is refused without even a lookup; then symlinks are resolved
/// (a committed link out of the checkout). A path that does not exist is judged by its
/// deepest existing ancestor, so the error never tells whether a file outside exists.
fn resolves_inside(path: &Path, root: &Path, canonical: &Path) -> bool {
    let Ok(cwd) = std::env::current_dir() else {
        return false;
    };
    let absolute = cwd.join(path);
    let lexical = fold_dots(&absolute);
    // The written path may reach the root through a symlink of the operator's (a symlinked
    // home or /tmp): compare with the root's written form as well as its canonical one.
    if !(lexical.starts_with(canonical) || lexical.starts_with(fold_dots(&cwd.join(root)))) {
        return false;
    }
    let mut probe = absolute;
    loop {
        if let Ok(real) = std::fs::canonicalize(&probe) {
            return real.starts_with(canonical);
        }
        if !probe.pop() {
            return false;
        }
    }
}

/// `a/./b/../c` -> `a/c`, lexically (a `..` past the start stays at the start).
fn fold_dots(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Whether an entry of an included file may be reported with its text: a named requirement,
/// an `#egg=` name, or a URL. Other unnamed text (anything with a `/` reads as a local path:
/// a `/etc/passwd` line, a line of a key) is reported without it ([`unnamed_included`]).
fn shown_when_included(req: &str) -> bool {
    let lower = req.trim_start().to_ascii_lowercase();
    let is_url = lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("file:")
        || VCS_PREFIXES.iter().any(|p| lower.starts_with(p));
    named_url(req).is_some() || !is_unnamed(req) || is_url || egg_name(req).is_some()
}

/// An unnamed local entry of an included file, without its text.
fn unnamed_included() -> Parsed {
    Parsed {
        name: "(local path)".to_string(),
        requirement: Requirement::NotChecked {
            reason: "local path requirement (an included file's text is not echoed): not a \
                     registry release"
                .to_string(),
        },
        markers: None,
    }
}

#[derive(Default)]
struct State {
    deps: Vec<Dependency>,
    warnings: Vec<String>,
    suppressed: usize,
    visited: HashSet<PathBuf>,
    /// The scanned root as given and canonicalised, which includes must resolve inside;
    /// `None` when includes may point anywhere (`--allow-outside-includes`).
    root: Option<(PathBuf, PathBuf)>,
    /// The first `-r` / `-c` include that could not be read: pip refuses the whole file
    /// ("Could not open requirements file"), and reporting the rest as the manifest's
    /// dependencies would hide that the included packages were never checked.
    error: Option<ManifestError>,
    /// Indexes other than PyPI named by `-i` / `--index-url` / `--extra-index-url` in the file
    /// or its includes. pip applies them to every requirement, wherever they are written.
    private_indexes: Vec<String>,
}

impl State {
    fn warn(&mut self, file: &Path, line: usize, message: impl AsRef<str>) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings
                .push(format!("{}:{line}: {}", file.display(), message.as_ref()));
        } else {
            self.suppressed += 1;
        }
    }

    fn finish_warnings(&mut self) {
        if self.suppressed > 0 {
            self.warnings
                .push(format!("… and {} more warnings", self.suppressed));
        }
    }

    fn push(&mut self, file: &Path, line: usize, parsed: Parsed, constraint: bool) {
        let mut dep = Dependency::new(Ecosystem::PyPI, parsed.name, parsed.requirement, file, line);
        dep.markers = parsed.markers;
        dep.scope = constraint.then(|| "constraint".to_string());
        self.deps.push(dep);
    }

    fn parse_text(&mut self, file: &Path, text: &str, constraint: bool, depth: usize) {
        for (line, logical) in logical_lines(text) {
            let statement = strip_comment(&logical).trim();
            if statement.is_empty() {
                continue;
            }
            if statement.starts_with('-') {
                self.option(file, line, statement, constraint, depth);
                continue;
            }
            let (req, opts) = split_entry_options(statement);
            for unknown in unknown_entry_options(opts) {
                self.warn(file, line, format!("unknown option `{unknown}` ignored"));
            }
            match parse_entry(req) {
                Ok(_) if depth > 0 && !shown_when_included(req) => {
                    self.push(file, line, unnamed_included(), constraint)
                }
                Ok(parsed) => self.push(file, line, parsed, constraint),
                // An included file's line is not echoed: should an include ever reach a host
                // file (`--allow-outside-includes`), its lines must not land in a report.
                Err(_) if depth > 0 => self.warn(
                    file,
                    line,
                    "invalid requirement (lines of an included file are not echoed)",
                ),
                Err(e) => self.warn(
                    file,
                    line,
                    format!("invalid requirement `{}`: {e}", clip(req)),
                ),
            }
        }
    }

    fn option(
        &mut self,
        file: &Path,
        line: usize,
        statement: &str,
        constraint: bool,
        depth: usize,
    ) {
        let (name, value) = split_option(statement);
        match name {
            "-r" | "--requirement" => self.include(file, line, name, value, constraint, depth),
            "-c" | "--constraint" => self.include(file, line, name, value, true, depth),
            "-e" | "--editable" => {
                let (target, _opts) = split_entry_options(value);
                if target.is_empty() {
                    self.warn(file, line, format!("`{name}` needs a path or URL"));
                    return;
                }
                let (url, markers) = split_url_markers(target);
                if depth > 0 && !shown_when_included(target) {
                    self.push(file, line, unnamed_included(), constraint);
                    return;
                }
                let parsed = match named_url(target) {
                    Some(Ok(named)) => Parsed {
                        requirement: Requirement::NotChecked {
                            reason: format!("editable requirement (-e {})", clip(url)),
                        },
                        ..named
                    },
                    Some(Err(_)) | None => Parsed {
                        name: egg_name(url).unwrap_or_else(|| clip(url)),
                        requirement: Requirement::NotChecked {
                            reason: format!("editable requirement (-e {})", clip(url)),
                        },
                        markers,
                    },
                };
                self.push(file, line, parsed, constraint);
            }
            "-i" | "--index-url" | "--extra-index-url" => {
                if let Some(index) = super::private_pypi_index(value)
                    && !self.private_indexes.contains(&index)
                {
                    self.private_indexes.push(index);
                }
            }
            _ if IGNORED_OPTIONS.contains(&name) => {}
            _ => self.warn(
                file,
                line,
                format!("unknown option `{}` ignored", clip(name)),
            ),
        }
    }

    fn include(
        &mut self,
        file: &Path,
        line: usize,
        option: &str,
        value: &str,
        constraint: bool,
        depth: usize,
    ) {
        let target = strip_quotes(value.trim());
        if target.is_empty() {
            self.warn(file, line, format!("`{option}` needs a file name"));
            return;
        }
        if target.contains("://") {
            self.warn(
                file,
                line,
                format!("remote file `{}` is not fetched", clip(target)),
            );
            return;
        }
        if depth >= MAX_INCLUDE_DEPTH {
            self.warn(
                file,
                line,
                format!(
                    "`{}` not read: includes nested deeper than {MAX_INCLUDE_DEPTH}",
                    clip(target)
                ),
            );
            return;
        }
        let included = file.parent().unwrap_or(Path::new("")).join(target);
        if let Some((root, canonical_root)) = &self.root
            && !resolves_inside(&included, root, canonical_root)
        {
            // Refused before the target is opened: a checkout's `-r /etc/passwd` or a
            // committed symlink to `~/.env` would otherwise print the host file's lines.
            self.error.get_or_insert_with(|| {
                ManifestError::parse(
                    file,
                    Some(line),
                    format!(
                        "include `{}` refused: it resolves outside the scanned root {} \
                         (scan a directory that holds it, or pass --allow-outside-includes \
                         for a trusted checkout)",
                        clip(target),
                        root.display()
                    ),
                )
            });
            return;
        }
        if !self.visited.insert(visit_key(&included)) {
            return; // already read (or being read: a cycle)
        }
        match read_requirements_text(&included) {
            Ok(text) => self.parse_text(&included, &text, constraint, depth + 1),
            Err(e) => {
                self.error.get_or_insert_with(|| {
                    ManifestError::parse(
                        file,
                        Some(line),
                        format!("included file not read: {}", clip(&e.to_string())),
                    )
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn ver(s: &str) -> Version {
        Ecosystem::PyPI.parse_version(s).unwrap()
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&p, text).unwrap();
        p
    }

    fn parse_str(text: &str) -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "requirements.txt", text);
        parse(&p).unwrap()
    }

    fn find<'a>(m: &'a Manifest, name: &str) -> &'a Dependency {
        m.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} not found in {:?}", m.dependencies))
    }

    fn pinned(d: &Dependency) -> (&Version, &str) {
        match &d.requirement {
            Requirement::Pinned { version, text } => (version, text.as_str()),
            other => panic!("{} not pinned: {other:?}", d.name),
        }
    }

    fn range(d: &Dependency) -> (&str, &VersionSet) {
        match &d.requirement {
            Requirement::Range { text, set } => (text.as_str(), set),
            other => panic!("{} not a range: {other:?}", d.name),
        }
    }

    fn reason(d: &Dependency) -> &str {
        match &d.requirement {
            Requirement::NotChecked { reason } => reason,
            other => panic!("{} is checked: {other:?}", d.name),
        }
    }

    #[test]
    fn pins_ranges_and_bare_names() {
        let m =
            parse_str("Flask_Limiter==3.5.0\nrequests >= 2.0, <3\nsix\nfoo===1.0\nbar==1.2.*\n");
        let d = find(&m, "Flask_Limiter");
        assert_eq!(pinned(d), (&ver("3.5.0"), "3.5.0"));
        assert_eq!(d.line, 1);
        assert_eq!(d.via, None);
        let (text, set) = range(find(&m, "requests"));
        assert_eq!(text, ">= 2.0, <3");
        assert!(set.contains(&ver("2.5")) && !set.contains(&ver("3.0")));
        let (text, set) = range(find(&m, "six"));
        assert_eq!(text, "*");
        assert_eq!(*set, VersionSet::full());
        assert_eq!(pinned(find(&m, "foo")).1, "1.0");
        let (text, set) = range(find(&m, "bar"));
        assert_eq!(text, "==1.2.*");
        assert!(set.contains(&ver("1.2.9")) && !set.contains(&ver("1.3")));
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    }

    #[test]
    fn arbitrary_equality_with_non_pep440_version_is_not_checked() {
        let m = parse_str("legacy===2013b-custom ; os_name == 'nt'\n");
        let d = find(&m, "legacy");
        assert!(reason(d).contains("===2013b-custom"), "{}", reason(d));
        assert_eq!(d.markers.as_deref(), Some("os_name == 'nt'"));
    }

    #[test]
    fn extras_markers_comments_and_hashes() {
        let text = "\
# full-line comment
requests[socks,security]==2.31.0 ; python_version < \"3.9\"  # trailing comment
aiohttp==3.8.5;python_version<'3.12'
django==5.0.1 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
    # a comment line after the continuation
urllib3==2.1.0 --hash sha256:cccc
";
        let m = parse_str(text);
        assert_eq!(m.dependencies.len(), 4, "{:?}", m.dependencies);
        let r = find(&m, "requests");
        assert_eq!(pinned(r).1, "2.31.0");
        assert_eq!(r.markers.as_deref(), Some("python_version < \"3.9\""));
        assert_eq!(r.line, 2);
        let a = find(&m, "aiohttp");
        assert_eq!(a.markers.as_deref(), Some("python_version<'3.12'"));
        let d = find(&m, "django");
        assert_eq!(pinned(d).0, &ver("5.0.1"));
        assert_eq!(
            d.line, 4,
            "a continued line reports its first physical line"
        );
        let u = find(&m, "urllib3");
        assert_eq!(u.line, 8);
        assert_eq!(pinned(u).1, "2.1.0");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    }

    #[test]
    fn continuation_inside_requirement() {
        let m = parse_str("pkg\\\n>=1.0,\\\n<2\nnext==1\n");
        let (text, set) = range(find(&m, "pkg"));
        assert_eq!(text, ">=1.0,<2");
        assert!(!set.contains(&ver("2.0")));
        assert_eq!(find(&m, "next").line, 4);
    }

    #[test]
    fn url_vcs_path_and_editable_requirements_are_not_checked() {
        let text = "\
flask @ https://files.pythonhosted.org/packages/flask-3.0.0-py3-none-any.whl
pydantic-extra-types @ git+https://github.com/pydantic/pydantic-extra-types.git@5ebc5bb ; python_version >= '3.8'
git+https://github.com/org/thing.git@v1#egg=thing
https://example.com/pkgs/other-1.0.tar.gz
./local/dir
-e ../editable#egg=my-editable
-e .
--editable git+https://github.com/org/ed.git#egg=ed
";
        let m = parse_str(text);
        assert_eq!(m.dependencies.len(), 8, "{:?}", m.dependencies);
        assert!(
            m.dependencies
                .iter()
                .all(|d| matches!(d.requirement, Requirement::NotChecked { .. }))
        );
        assert!(reason(find(&m, "flask")).starts_with("direct URL requirement"));
        let p = find(&m, "pydantic-extra-types");
        assert!(reason(p).starts_with("VCS requirement"));
        assert_eq!(p.markers.as_deref(), Some("python_version >= '3.8'"));
        assert!(reason(find(&m, "thing")).starts_with("VCS requirement"));
        assert!(
            reason(find(&m, "https://example.com/pkgs/other-1.0.tar.gz")).starts_with("direct URL")
        );
        assert!(reason(find(&m, "./local/dir")).starts_with("local path requirement"));
        assert!(reason(find(&m, "my-editable")).starts_with("editable requirement"));
        assert!(reason(find(&m, ".")).contains("-e ."));
        assert_eq!(find(&m, "ed").line, 8);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    }

    #[test]
    fn options_are_ignored_and_unknown_ones_warned() {
        let text = "\
--index-url https://pypi.org/simple
-i https://pypi.org/simple
--extra-index-url=https://example.com
-f ./wheels
--find-links ./wheels
--no-binary :all:
--only-binary=:none:
--pre
--trusted-host example.com
--require-hashes
--no-index
--prefer-binary
--frobnicate
ok==1.0
";
        let m = parse_str(text);
        assert_eq!(m.dependencies.len(), 1);
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(
            m.warnings[0].ends_with(":13: unknown option `--frobnicate` ignored"),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn bad_lines_are_warnings_and_the_rest_is_read() {
        let huge = format!("x=={}\n", "9".repeat(40));
        let long_line = format!("{}\n", "a-".repeat(5_000_000));
        let text = format!(
            "good==1.0\nthis is not a requirement\n{huge}pkg>=\n{long_line}\u{1}\u{2}garbage\nlast==2.0\n"
        );
        let m = parse_str(&text);
        let names: Vec<&str> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["good", "last"]);
        assert_eq!(find(&m, "last").line, 7);
        assert_eq!(m.warnings.len(), 5, "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains("requirements.txt:2: invalid requirement"),
            "{}",
            m.warnings[0]
        );
        assert!(m.warnings[1].contains(":3: "), "{}", m.warnings[1]);
        assert!(
            m.warnings.iter().all(|w| w.len() < 1_000),
            "warnings echo little input"
        );
    }

    #[test]
    fn unreadable_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("requirements.txt");
        fs::write(&p, b"ok==1.0\n\xff\xfe garbage\n").unwrap();
        let e = parse(&p).unwrap_err().to_string();
        assert!(e.contains(":2: file is not valid UTF-8"), "{e}");
        fs::write(&p, b"ok==1.0\nab\0cd\n").unwrap();
        let e = parse(&p).unwrap_err().to_string();
        assert!(e.contains(":2: file contains NUL bytes"), "{e}");
        assert!(parse(&dir.path().join("missing.txt")).is_err());
    }

    #[test]
    fn many_bad_lines_cap_the_warnings() {
        let m = parse_str(&"!!!\n".repeat(1000));
        assert_eq!(m.warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(m.warnings.last().unwrap(), "… and 800 more warnings");
    }

    #[test]
    fn includes_are_relative_cycle_safe_and_carry_their_location() {
        let dir = tempfile::tempdir().unwrap();
        let top = write(
            dir.path(),
            "requirements.txt",
            "top==1.0\n-r sub/base.txt\n--constraint=sub/constraints.txt\n",
        );
        // base includes the top file back (a cycle) and itself.
        let base = write(
            dir.path(),
            "sub/base.txt",
            "\n-r ../requirements.txt\n-r base.txt\nbase-dep>=2\n",
        );
        let cons = write(
            dir.path(),
            "sub/constraints.txt",
            "# pins\nurllib3==1.26.18\n-r base.txt\n",
        );
        let m = parse(&top).unwrap();
        let names: Vec<&str> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["top", "base-dep", "urllib3"]);
        let b = find(&m, "base-dep");
        assert_eq!((b.file.as_path(), b.line), (base.as_path(), 4));
        assert_eq!(b.scope, None);
        let u = find(&m, "urllib3");
        assert_eq!((u.file.as_path(), u.line), (cons.as_path(), 2));
        assert_eq!(u.scope.as_deref(), Some("constraint"));
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    }

    #[test]
    fn missing_include_is_an_error_of_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "base.txt", "-r gone/missing.txt\n");
        for (text, line) in [
            ("top==1.0\n\n-r missing.txt\n", 3),
            ("top==1.0\n-c missing.txt\n", 2),
            // Missing two levels down: the error is at the line of the include that failed.
            ("top==1.0\n-r base.txt\n", 1),
        ] {
            let top = write(dir.path(), "requirements.txt", text);
            let e = parse(&top).unwrap_err().to_string();
            let at = if line == 1 {
                "base.txt:1"
            } else {
                "requirements.txt"
            };
            assert!(e.contains(at), "{e}");
            assert!(
                e.contains(&format!(":{line}: included file not read")),
                "{e}"
            );
            assert!(e.contains("missing.txt"), "{e}");
        }
        // A binary include is as unreadable.
        write(dir.path(), "bin.txt", "a\0b\n");
        let top = write(dir.path(), "requirements.txt", "-r bin.txt\n");
        let e = parse(&top).unwrap_err().to_string();
        assert!(
            e.contains("requirements.txt:1: included file not read"),
            "{e}"
        );
        assert!(e.contains("NUL"), "{e}");
    }

    #[test]
    fn includes_outside_the_root_are_refused_unless_allowed() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        write(tmp.path(), "outside.txt", "leak/secret==1\n");
        write(&root, "inner/base.txt", "ok==1\n");
        for (include, refused) in [
            ("inner/base.txt", false),
            ("inner/../inner/base.txt", false),
            ("inner/missing.txt", false),
            ("../outside.txt", true),
            ("inner/../../outside.txt", true),
            ("../missing.txt", true),
            ("/etc/passwd", true),
        ] {
            let top = write(&root, "requirements.txt", &format!("a==1\n-r {include}\n"));
            let e = parse(&top).map(|_| ()).map_err(|e| e.to_string());
            if refused {
                let e = e.unwrap_err();
                assert!(e.contains("requirements.txt:2: include"), "{include}: {e}");
                assert!(e.contains("outside the scanned root"), "{include}: {e}");
            } else {
                assert!(
                    e.as_ref().err().is_none_or(|e| e.contains("not read")),
                    "{include}: {e:?}"
                );
            }
        }
        // A symlink out of the root, and the trusted-use switch that lifts the rule: the
        // included file's unparsed text is still not echoed.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(tmp.path().join("outside.txt"), root.join("link.txt"))
                .unwrap();
            let top = write(&root, "requirements.txt", "-r link.txt\n");
            let e = parse(&top).unwrap_err().to_string();
            assert!(e.contains("outside the scanned root"), "{e}");
            let opts = ParseOptions {
                allow_outside_includes: true,
                ..Default::default()
            };
            let m = parse_with(&top, &opts).unwrap();
            assert_eq!(m.dependencies.len(), 1);
            assert_eq!(m.dependencies[0].name, "(local path)");
            assert!(!format!("{m:?}").contains("secret"), "{m:?}");
        }
    }

    #[test]
    fn lines_join_by_pips_rule() {
        // pip: a line ending in `\` continues, with every `\` at its ends stripped. Two
        // backslashes are no escape: `requests==2.19.0 \\` continues as `requests==2.19.0 `.
        let m = parse_str(
            "requests==2.19.0 \\\\\n    --hash=sha256:aaaa\nidna==2.7 \\\\\n\nlast==1.0 \\\\",
        );
        let names: Vec<&str> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["requests", "idna", "last"], "{:?}", m.warnings);
        assert_eq!(pinned(find(&m, "requests")).1, "2.19.0");
        assert_eq!(find(&m, "idna").line, 3);
        assert_eq!(find(&m, "last").line, 5);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        // Leading backslashes of a continued line go too; a backslash followed by a space
        // is no continuation in pip (the line stays as it is and does not parse).
        let m = parse_str("\\pkg==1.0\\\nok==2.0 \\ \nnext==3\n");
        assert_eq!(
            m.dependencies
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>(),
            ["next"]
        );
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains(":1: invalid requirement"),
            "{:?}",
            m.warnings
        );
        // A comment line ending in `\` continues nothing and ends a continuation.
        let m = parse_str("a==1 \\\n# note \\\nb==2\n");
        assert_eq!(pinned(find(&m, "a")).1, "1");
        assert_eq!(find(&m, "b").line, 3);
    }

    #[test]
    fn byte_order_marks_select_the_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let text = "# comment\r\nrequests==2.19.0\r\nidna==2.7\r\n";
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let utf16be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let utf32le: Vec<u8> = [0xFF, 0xFE, 0, 0]
            .into_iter()
            .chain(text.chars().flat_map(|c| (c as u32).to_le_bytes()))
            .collect();
        let utf8: Vec<u8> = [0xEF, 0xBB, 0xBF].into_iter().chain(text.bytes()).collect();
        for bytes in [utf16le, utf16be, utf32le, utf8] {
            let p = dir.path().join("requirements.txt");
            fs::write(&p, &bytes).unwrap();
            let m = parse(&p).unwrap();
            assert_eq!(pinned(find(&m, "requests")).1, "2.19.0");
            assert_eq!(find(&m, "idna").line, 3);
            assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        }
        // An included file is decoded the same way.
        let inc: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("six==1.0\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        fs::write(dir.path().join("base.txt"), inc).unwrap();
        let top = write(dir.path(), "requirements.txt", "-r base.txt\n");
        assert_eq!(find(&parse(&top).unwrap(), "six").line, 1);
        // Broken UTF-16 (odd length, unpaired surrogate) is an error, not garbage.
        let p = dir.path().join("requirements.txt");
        fs::write(&p, [0xFF, 0xFE, b'a', 0, b'b']).unwrap();
        let e = parse(&p).unwrap_err().to_string();
        assert!(e.contains("not valid UTF-16LE"), "{e}");
        fs::write(&p, [0xFF, 0xFE, 0x00, 0xD8, b'a', 0]).unwrap();
        assert!(parse(&p).is_err());
    }

    #[test]
    fn local_archive_with_extras_is_a_local_file() {
        let m = parse_str(
            "foo-1.0-py3-none-any.whl[bar]\n./dist/foo-1.0-py3-none-any.whl[bar,baz]\npkg-2.0.tar.gz[x] ; python_version > '3'\nreal[extra]==1.0\n",
        );
        assert_eq!(m.dependencies.len(), 4, "{:?}", m.warnings);
        let w = find(&m, "foo-1.0-py3-none-any.whl[bar]");
        assert!(
            reason(w).starts_with("local path requirement"),
            "{}",
            reason(w)
        );
        assert!(
            reason(find(&m, "./dist/foo-1.0-py3-none-any.whl[bar,baz]")).starts_with("local path")
        );
        let t = find(&m, "pkg-2.0.tar.gz[x]");
        assert!(reason(t).starts_with("local path requirement"));
        assert_eq!(t.markers.as_deref(), Some("python_version > '3'"));
        assert_eq!(pinned(find(&m, "real")).1, "1.0");
    }

    #[test]
    fn short_option_without_space_and_quoted_paths() {
        let dir = tempfile::tempdir().unwrap();
        let top = write(dir.path(), "requirements.txt", "-rother.txt\n-c 'c.txt'\n");
        write(dir.path(), "other.txt", "a==1\n");
        write(dir.path(), "c.txt", "b==2\n");
        let m = parse(&top).unwrap();
        assert_eq!(m.dependencies.len(), 2, "{:?}", m);
        assert_eq!(find(&m, "b").scope.as_deref(), Some("constraint"));
    }

    #[test]
    fn pep508_strings() {
        let p = parse_pep508("build (>=1.2.1,<2.0.0)").unwrap();
        assert_eq!(p.name, "build");
        assert_eq!(range_of(&p.requirement).0, ">=1.2.1,<2.0.0");
        let p = parse_pep508("tomli (>=2.0.1,<3.0.0) ; python_version < '3.11'").unwrap();
        assert_eq!(p.markers.as_deref(), Some("python_version < '3.11'"));
        let p = parse_pep508("cachecontrol[filecache] (>=0.14.0,<0.15.0)").unwrap();
        assert_eq!(p.name, "cachecontrol");
        assert_eq!(range_of(&p.requirement).0, ">=0.14.0,<0.15.0");
        let p = parse_pep508("poetry-core @ git+https://github.com/python-poetry/poetry-core.git")
            .unwrap();
        assert_eq!(p.name, "poetry-core");
        assert!(matches!(p.requirement, Requirement::NotChecked { .. }));
        let p = parse_pep508("PyYAML==6.0.1").unwrap();
        assert_eq!(p.name, "PyYAML");
        assert!(parse_pep508("==1.0").is_err());
        assert!(parse_pep508(&format!("x=={}", u64::MAX as u128 * 10)).is_err());
    }

    fn range_of(r: &Requirement) -> (&str, &VersionSet) {
        match r {
            Requirement::Range { text, set } => (text, set),
            other => panic!("not a range: {other:?}"),
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = parse_entry(&s);
            let _ = parse_pep508(&s);
            let _ = logical_lines(&s);
        }

        #[test]
        fn never_panics_on_requirement_like_input(
            s in "[a-zA-Z_.\\-]{0,6}[ \\[\\]@;=<>!~*(),.0-9a-z'\"#\\\\-]{0,30}"
        ) {
            let _ = parse_entry(&s);
            let _ = split_option(&s);
        }
    }

    const CORPUS: &str = "../shared/corpus/manifests";

    fn corpus(rel: &str) -> Manifest {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS).join(rel);
        parse(&p).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn not_checked(m: &Manifest) -> Vec<&str> {
        m.dependencies
            .iter()
            .filter(|d| matches!(d.requirement, Requirement::NotChecked { .. }))
            .map(|d| d.name.as_str())
            .collect()
    }

    #[test]
    fn corpus_all_kinds() {
        let m = corpus("all-kinds/requirements.txt");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 35);
        assert_eq!(
            not_checked(&m),
            ["flask", "pydantic-extra-types", "werkzeug"]
        );
        let f = find(&m, "flask");
        assert_eq!(f.line, 23);
        assert!(reason(f).starts_with("direct URL requirement"));
        assert!(reason(find(&m, "pydantic-extra-types")).starts_with("VCS requirement"));
        let d = find(&m, "django");
        assert_eq!((pinned(d).1, d.line), ("5.0.1", 20));
        assert_eq!(pinned(find(&m, "pytz")).0, &ver("2023.3.post1"));
    }

    #[test]
    fn corpus_jupyter() {
        let m = corpus("jupyter/requirements.txt");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 93);
        assert!(
            m.dependencies
                .iter()
                .all(|d| matches!(d.requirement, Requirement::Pinned { .. }))
        );
        let d = find(&m, "anyio");
        assert_eq!((pinned(d).1, d.line), ("4.2.0", 3));
    }

    #[test]
    fn corpus_home_assistant() {
        let m = corpus("home-assistant/requirements.txt");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 1010);
        let a: Vec<&Dependency> = m
            .dependencies
            .iter()
            .filter(|d| d.name == "aiohttp")
            .collect();
        assert_eq!(a.len(), 4, "both marker variants, twice each");
        assert_eq!(a[0].line, 4);
        assert_eq!(a[0].markers.as_deref(), Some("python_version<'3.12'"));
        assert_eq!(pinned(a[1]).0, &ver("3.9.0b0"));
        assert_eq!(a[1].markers.as_deref(), Some("python_version>='3.12'"));
        let c = find(&m, "aiohttp_cors");
        assert_eq!((pinned(c).1, c.line), ("0.7.0", 6));
        assert_eq!(find(&m, "Jinja2").line, 32);
        assert_eq!(find(&m, "PyYAML").line, 48);
        let (text, _) = range(find(&m, "urllib3"));
        assert_eq!(text, ">=1.26.5,<2");
        let s = find(&m, "samsungtvws");
        assert_eq!(pinned(s).1, "2.6.0");
        let r = m
            .dependencies
            .iter()
            .filter(|d| d.name == "RestrictedPython")
            .map(|d| pinned(d).1)
            .collect::<Vec<_>>();
        assert_eq!(r, ["6.2", "7.0a1.dev0"]);
        let markers = m
            .dependencies
            .iter()
            .filter(|d| d.markers.is_some())
            .count();
        assert_eq!(markers, 8);
    }

    #[test]
    fn corpus_airflow_constraints() {
        let m = corpus("airflow/constraints.txt");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 299);
        let d = find(&m, "apache-airflow");
        assert_eq!((pinned(d).1, d.line), ("2.3.4", 5));
        assert_eq!(find(&m, "zope.interface").line, 299);
        assert_eq!(find(&m, "WTForms").line, 296);
        assert!(m.dependencies.iter().all(|d| d.scope.is_none()));
    }

    #[test]
    fn corpus_plexcollect() {
        let m = corpus("plexcollect/requirements.txt");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 17);
        assert!(
            m.dependencies
                .iter()
                .all(|d| matches!(d.requirement, Requirement::Range { .. }))
        );
        let s = find(&m, "streamlit");
        assert_eq!(s.line, 4);
        let (text, set) = range(s);
        assert_eq!(text, ">=1.39.0");
        assert!(set.contains(&ver("1.39.0")) && !set.contains(&ver("1.38.9")));
        assert_eq!(find(&m, "pytest-asyncio").line, 28);
        let t = corpus("plexcollect/tests/requirements.txt");
        assert_eq!(t.dependencies.len(), 4);
        assert_eq!(range(find(&t, "coverage")).0, ">=7.0.0");
        assert_eq!(find(&t, "coverage").line, 4);
    }

    #[test]
    fn corpus_emby_watchparty() {
        let m = corpus("emby-watchparty/requirements.txt");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.dependencies.len(), 9);
        let f = find(&m, "Flask-Limiter");
        assert_eq!((pinned(f).1, f.line), ("3.5.0", 7));
        assert_eq!(pinned(find(&m, "Flask")).1, "3.0.0");
        assert_eq!(range(find(&m, "gevent")).0, ">=25.9.1");
    }
}
